//! Weighted least squares, for inverse-probability weights.
//!
//! β̂ = (X'WX)⁻¹X'Wy with W = diag(w), fitted as ordinary least squares of √wᵢ·yᵢ on
//! √wᵢ·xᵢ (the intercept becomes the column √wᵢ). Every standard error of [`OlsFit`]
//! is then taken on the transformed rows, which is how R `estimatr::lm_robust(...,
//! weights = w)` computes them (Blair et al., "Mathematical notes" of estimatr): HC0 is
//! (X'WX)⁻¹ Σ wᵢ²eᵢ²xᵢxᵢ' (X'WX)⁻¹, HC2 divides by 1 − hᵢ with the weighted leverage
//! hᵢ = wᵢxᵢ'(X'WX)⁻¹xᵢ, and the cluster-robust types sum √wᵢ-scaled scores within
//! clusters; degrees of freedom as unweighted (n − k, or G − 1 and Bell-McCaffrey for
//! CR2). Statsmodels' `WLS(...).fit(cov_type="HC2")` works on the same whitened rows.
//! The weights are treated as fixed: the variance does not account for their having
//! been estimated. Scaling all weights by one constant changes nothing.
//!
//! The residuals of the returned fit are the transformed ones, √wᵢ·eᵢ.

use super::fit::{OlsFit, fit_owned};
use crate::stats::{StatsError, StatsResult};

/// Weights for `n` observations, each a positive finite number; an error naming the
/// first that is not.
pub(crate) fn check_weights(w: &[f64], n: usize) -> StatsResult<()> {
    if w.len() != n {
        return Err(StatsError::Invalid(format!(
            "{} weights for {n} observations",
            w.len()
        )));
    }
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(StatsError::Invalid(format!(
            "weight {} of observation {i} (0-based) is not a positive number",
            w[i]
        )));
    }
    Ok(())
}

/// Fit y on the columns `x` with weights `w` (an intercept first when `intercept`, as
/// [`super::fit`]: coefficient 0 is then the intercept). Fails with
/// [`StatsError::Invalid`] for weights of another length or not finite and above 0,
/// and as [`super::fit`] otherwise (a collinear column is named by its index with the
/// intercept counted).
pub fn fit_weighted(
    y: &[f64],
    x: &[&[f64]],
    w: &[f64],
    intercept: bool,
) -> StatsResult<OlsFit<'static>> {
    check_weights(w, y.len())?;
    let root: Vec<f64> = w.iter().map(|v| v.sqrt()).collect();
    let scale = |c: &[f64]| -> Vec<f64> { c.iter().zip(&root).map(|(a, r)| a * r).collect() };
    let mut cols = Vec::with_capacity(x.len() + usize::from(intercept));
    if intercept {
        cols.push(root.clone());
    }
    cols.extend(x.iter().map(|c| scale(c)));
    fit_owned(scale(y), cols, false)
}
