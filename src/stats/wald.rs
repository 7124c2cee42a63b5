//! The joint Wald test that several coefficients are all zero.
//!
//! W = b'V⁻¹b for the q coefficients b with estimated covariance V (any sandwich), solved
//! by a Cholesky factorisation of V (nalgebra), not an inverse. Reported as
//! F = W / q on (q, df₂) degrees of freedom, or as χ²(q) when no residual df is
//! given: the convention of statsmodels `wald_test(..., use_f=True)` after
//! `fit(cov_type="HC2")` (df₂ = n − k), of Stata's `test` after `regress, vce(robust)`,
//! and of R `car::linearHypothesis(test = "F")` with a robust `vcov.`.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::{StatsError, StatsResult, dist};

/// A joint Wald test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WaldTest {
    /// F = W / q, or W itself when `df2` is None (χ²).
    pub statistic: f64,
    /// q: the number of coefficients tested.
    pub df1: f64,
    /// Residual degrees of freedom of the F reference; None for χ²(q).
    pub df2: Option<f64>,
    pub p_value: f64,
}

/// Test that the coefficients `idx` of `coef` are all zero, with covariance `vcov` of
/// all coefficients (the rows and columns `idx` are used) and `df2` the residual
/// degrees of freedom (None: χ²). Errors when `idx` is empty or out of range, or when
/// the covariance of the tested coefficients is not positive definite (a coefficient
/// that the data do not identify).
pub fn wald_test(
    coef: &[f64],
    vcov: &DMatrix<f64>,
    idx: &[usize],
    df2: Option<f64>,
) -> StatsResult<WaldTest> {
    let q = idx.len();
    if q == 0 {
        return Err(StatsError::Invalid("no coefficient to test".into()));
    }
    if idx.iter().any(|&j| j >= coef.len() || j >= vcov.nrows()) {
        return Err(StatsError::Invalid(
            "a tested coefficient is out of range".into(),
        ));
    }
    let b = DVector::from_iterator(q, idx.iter().map(|&j| coef[j]));
    let v = DMatrix::from_fn(q, q, |r, c| vcov[(idx[r], idx[c])]);
    let chol = v.cholesky().ok_or_else(|| {
        StatsError::Invalid(
            "the covariance of the tested coefficients is not positive definite".into(),
        )
    })?;
    let w = b.dot(&chol.solve(&b));
    if !w.is_finite() {
        return Err(StatsError::Invalid(
            "the Wald statistic is not finite".into(),
        ));
    }
    let qf = q as f64;
    Ok(match df2 {
        Some(d) => {
            let f = w / qf;
            WaldTest {
                statistic: f,
                df1: qf,
                df2: Some(d),
                p_value: dist::f_sf(f, qf, d),
            }
        }
        None => WaldTest {
            statistic: w,
            df1: qf,
            df2: None,
            p_value: dist::chi_square_sf(w, qf),
        },
    })
}

/// The test of a treatment × subgroup interaction: least squares of `y` on an
/// intercept, the treatment indicator, indicators of subgroup levels 1..L−1 (level 0 is
/// the reference), their products with the treatment indicator and the `covariates`;
/// then the joint Wald test that the L − 1 products are zero, with the `se`
/// heteroskedasticity-robust covariance (HC0–HC3) and F on (L − 1, n − k) degrees of
/// freedom, as statsmodels `OLS(...).fit(cov_type="HC2").wald_test(R, use_f=True)`.
/// `level` holds each unit's subgroup level as 0..L−1. A small p-value says the effect
/// differs between the subgroups (the treatment effect is heterogeneous). With
/// `weights` the fit is weighted least squares ([`super::ols::fit_weighted`], weights
/// taken as fixed; statsmodels `WLS(...).fit(cov_type="HC2")`).
pub fn interaction_test(
    y: &[f64],
    treated: &[bool],
    level: &[u32],
    covariates: &[&[f64]],
    weights: Option<&[f64]>,
    se: super::ols::SeType,
) -> StatsResult<WaldTest> {
    let n = y.len();
    if treated.len() != n || level.len() != n || covariates.iter().any(|c| c.len() != n) {
        return Err(StatsError::Invalid("inputs of different lengths".into()));
    }
    if se.is_cluster() {
        return Err(StatsError::Invalid(
            "the interaction test takes a heteroskedasticity-robust covariance (HC0-HC3)".into(),
        ));
    }
    let levels = level.iter().copied().max().map_or(0, |m| m as usize + 1);
    if levels < 2 {
        return Err(StatsError::Invalid(
            "a subgroup needs at least two levels".into(),
        ));
    }
    let t: Vec<f64> = treated.iter().map(|&b| f64::from(u8::from(b))).collect();
    let mut x = vec![t.clone()];
    for l in 1..levels as u32 {
        x.push(level.iter().map(|&v| f64::from(u8::from(v == l))).collect());
    }
    for l in 1..levels as u32 {
        x.push(
            level
                .iter()
                .zip(&t)
                .map(|(&v, &ti)| if v == l { ti } else { 0.0 })
                .collect(),
        );
    }
    for c in covariates {
        x.push(c.to_vec());
    }
    let fit = match weights {
        Some(w) => {
            let cols: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
            super::ols::fit_weighted(y, &cols, w, true)?
        }
        None => super::ols::fit_owned(y, x, true)?,
    };
    let vcov = fit.vcov(se)?;
    // Intercept 0, treatment 1, levels 2..L, interactions L+1..2L−1.
    let idx: Vec<usize> = (levels + 1..2 * levels).collect();
    let df2 = (fit.n() - fit.k()) as f64;
    wald_test(fit.coefficients(), &vcov, &idx, Some(df2))
}
