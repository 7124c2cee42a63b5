//! The propensity score: a logistic regression of the arm (1 = treated) on the
//! covariates with an intercept, fitted by iteratively reweighted least squares
//! (Newton-Raphson on the log-likelihood; McCullagh & Nelder 1989, §4.4; the same
//! model as statsmodels `Logit` / `GLM(family=Binomial())` and R `glm(family =
//! binomial)`). Factor covariates arrive already expanded into 0/1 columns.
//!
//! Numerics: the covariates are centred and scaled by their standard deviation before
//! the fit (the model is affine-equivariant, so the fitted probabilities do not change),
//! and each Newton step solves the k×k normal equations by Cholesky (nalgebra). The
//! coefficients are returned on the covariates' own scale. Iteration stops when the
//! largest change of a scaled coefficient is below 1e-10 (one more step is then taken,
//! which Newton's quadratic convergence brings to rounding level); after
//! [`MAX_ITER`] steps without that, the fit fails.
//!
//! Separation: when one covariate alone separates the arms (the ranges of the two arms
//! do not overlap, or touch only at one value; for a 0/1 column, a level that occurs
//! in one arm only), the maximum-likelihood estimate does not exist (Albert & Anderson
//! 1984) and the fit fails naming that covariate before iterating. Separation by a
//! combination of covariates shows as coefficients that grow without bound: the fit
//! fails with a message that says so.

use nalgebra::{DMatrix, DVector};

use crate::stats::{StatsError, StatsResult};

/// Newton steps before the fit is declared not converged.
pub const MAX_ITER: usize = 100;
/// Convergence: largest change of a coefficient on the scaled covariates.
const STEP_TOL: f64 = 1e-10;
/// A linear predictor beyond this (p within about 1e-13 of 0 or 1) while the fit has
/// not converged is taken as separation.
const ETA_SEPARATED: f64 = 30.0;

/// A fitted propensity model.
#[derive(Debug, Clone)]
pub struct Logit {
    /// Intercept first, then one coefficient per covariate, on the covariates' scale.
    pub coef: Vec<f64>,
    /// Model-based standard errors (inverse Fisher information), same order.
    pub std_error: Vec<f64>,
    /// The fitted propensity score of each unit.
    pub fitted: Vec<f64>,
    /// Newton steps taken.
    pub iterations: usize,
    /// Residual deviance −2 log L.
    pub deviance: f64,
}

/// Check the shapes shared by every estimator of this module: `x` columns as long as
/// `treated`, finite values, at least one unit in each arm and more treated units than
/// covariates. `names` name the columns in messages.
pub(crate) fn check_inputs(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<()> {
    let n = treated.len();
    if names.len() != x.len() {
        return Err(StatsError::Invalid(format!(
            "{} covariate names for {} covariates",
            names.len(),
            x.len()
        )));
    }
    for (c, name) in x.iter().zip(names) {
        if c.len() != n {
            return Err(StatsError::Invalid(format!(
                "covariate \"{name}\" has {} values for {n} units",
                c.len()
            )));
        }
        if let Some(i) = c.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::Invalid(format!(
                "covariate \"{name}\" has a missing or non-finite value at unit {i} (0-based); \
                 drop incomplete rows first"
            )));
        }
    }
    let n1 = treated.iter().filter(|&&t| t).count();
    let n0 = n - n1;
    if n1 == 0 || n0 == 0 {
        return Err(StatsError::Invalid(format!(
            "weighting needs units in both arms; there are {n1} treated and {n0} comparison units"
        )));
    }
    if x.len() >= n1 {
        return Err(StatsError::Invalid(format!(
            "{} covariates for {n1} treated units: the propensity model and the balance \
             constraints need more treated units than covariates; use fewer covariates",
            x.len()
        )));
    }
    Ok(())
}

/// A covariate that on its own separates the arms, with a description of how.
fn separating_covariate(treated: &[bool], x: &[&[f64]], names: &[&str]) -> Option<String> {
    for (c, name) in x.iter().zip(names) {
        let (mut lo1, mut hi1, mut lo0, mut hi0) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for (&v, &t) in c.iter().zip(treated) {
            if t {
                lo1 = lo1.min(v);
                hi1 = hi1.max(v);
            } else {
                lo0 = lo0.min(v);
                hi0 = hi0.max(v);
            }
        }
        let binary = c.iter().all(|&v| v == 0.0 || v == 1.0);
        if binary && lo1.min(lo0) < hi1.max(hi0) {
            // A level present in one arm only: its coefficient runs off to ±∞.
            for level in [0.0, 1.0] {
                let in1 = lo1 == level || hi1 == level;
                let in0 = lo0 == level || hi0 == level;
                if in1 != in0 {
                    let arm = if in1 { "treated" } else { "comparison" };
                    return Some(format!(
                        "covariate \"{name}\" = {level} occurs only in the {arm} arm"
                    ));
                }
            }
        } else if hi1 <= lo0 || hi0 <= lo1 {
            return Some(format!(
                "the values of covariate \"{name}\" in the two arms do not overlap \
                 (treated {lo1} to {hi1}, comparison {lo0} to {hi0})"
            ));
        }
    }
    None
}

/// Fit the propensity model P(treated | x) = 1 / (1 + exp(−(β₀ + x'β))).
///
/// Fails, with a message naming the covariate where one is to blame, when: the inputs
/// do not fit together ([`check_inputs`]); a covariate does not vary ("covariate
/// \"x\" is constant"); the covariates are collinear; one covariate separates the arms;
/// or the iterations do not converge (separation by a combination of covariates, or
/// non-convergence in [`MAX_ITER`] steps).
pub fn logit(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<Logit> {
    check_inputs(treated, x, names)?;
    let n = treated.len();
    let k = x.len() + 1;
    // Centre and scale every covariate.
    let mut centre = vec![0.0; k];
    let mut scale = vec![1.0; k];
    for (j, c) in x.iter().enumerate() {
        let (m, v) = crate::stats::describe::mean_var(c);
        if !crate::stats::above(v, 0.0) || v.sqrt() <= 1e-12 * m.abs() {
            return Err(StatsError::Invalid(format!(
                "covariate \"{}\" is constant; leave it out of the propensity model",
                names[j]
            )));
        }
        centre[j + 1] = m;
        scale[j + 1] = v.sqrt();
    }
    if let Some(why) = separating_covariate(treated, x, names) {
        return Err(StatsError::Invalid(format!(
            "the propensity model cannot be fitted: {why} (complete or quasi-complete \
             separation, so participation is perfectly predicted and the comparison \
             group has no comparable units); drop or coarsen that covariate, or restrict \
             the sample to where both arms occur"
        )));
    }
    let zval = |i: usize, j: usize| -> f64 {
        if j == 0 {
            1.0
        } else {
            (x[j - 1][i] - centre[j]) / scale[j]
        }
    };
    let y: Vec<f64> = treated.iter().map(|&t| f64::from(u8::from(t))).collect();
    // Start from the intercept-only fit.
    let pbar = y.iter().sum::<f64>() / n as f64;
    let mut gamma = DVector::zeros(k);
    gamma[0] = (pbar / (1.0 - pbar)).ln();
    let mut eta = vec![gamma[0]; n];
    let mut zi = vec![0.0; k];
    let mut converged_at = None;
    let mut info = DMatrix::zeros(k, k);
    for iter in 1..=MAX_ITER {
        let mut score = DVector::zeros(k);
        info.fill(0.0);
        for i in 0..n {
            let p = expit(eta[i]);
            let w = p * (1.0 - p);
            for (j, z) in zi.iter_mut().enumerate() {
                *z = zval(i, j);
            }
            for a in 0..k {
                score[a] += zi[a] * (y[i] - p);
                for b in a..k {
                    info[(a, b)] += w * zi[a] * zi[b];
                }
            }
        }
        info.fill_lower_triangle_with_upper_triangle();
        let chol = info.clone().cholesky().ok_or_else(|| {
            StatsError::Invalid(format!(
                "the propensity model cannot be fitted: the covariates ({}) are collinear \
                 or the fitted probabilities reached 0 or 1 (separation); drop a covariate",
                names.join(", ")
            ))
        })?;
        let step = chol.solve(&score);
        gamma += &step;
        for (i, e) in eta.iter_mut().enumerate() {
            *e = (0..k).map(|j| gamma[j] * zval(i, j)).sum();
        }
        let big = step.amax();
        if let Some(at) = converged_at {
            if iter > at {
                break;
            }
        } else if big < STEP_TOL * gamma.amax().max(1.0) {
            converged_at = Some(iter);
        }
        if iter == MAX_ITER {
            let separated = eta.iter().any(|e| e.abs() > ETA_SEPARATED);
            return Err(StatsError::Invalid(if separated {
                format!(
                    "the propensity model did not converge in {MAX_ITER} steps: a combination \
                     of the covariates ({}) separates the arms (quasi-complete separation; \
                     some units have a propensity score of 0 or 1); drop or coarsen \
                     covariates, or restrict the sample to where both arms occur",
                    names.join(", ")
                )
            } else {
                format!(
                    "the propensity model did not converge in {MAX_ITER} steps; check the \
                     covariates ({}) for near-collinearity",
                    names.join(", ")
                )
            }));
        }
    }
    let iterations = converged_at.map_or(MAX_ITER, |a| a + 1);
    let fitted: Vec<f64> = eta.iter().map(|&e| expit(e)).collect();
    let deviance = -2.0
        * fitted
            .iter()
            .zip(&y)
            .map(|(&p, &t)| if t == 1.0 { p.ln() } else { (1.0 - p).ln() })
            .sum::<f64>();
    // Information at the final estimate, for the standard errors.
    info.fill(0.0);
    for (i, &p) in fitted.iter().enumerate() {
        let w = p * (1.0 - p);
        for (j, z) in zi.iter_mut().enumerate() {
            *z = zval(i, j);
        }
        for a in 0..k {
            for b in a..k {
                info[(a, b)] += w * zi[a] * zi[b];
            }
        }
    }
    info.fill_lower_triangle_with_upper_triangle();
    let cov_scaled = info
        .cholesky()
        .ok_or(StatsError::Collinear { index: 0 })?
        .inverse();
    // Back to the covariates' scale: β = M γ with β_j = γ_j / s_j (j ≥ 1) and
    // β₀ = γ₀ − Σ γ_j c_j / s_j.
    let mut m = DMatrix::zeros(k, k);
    m[(0, 0)] = 1.0;
    for j in 1..k {
        m[(j, j)] = 1.0 / scale[j];
        m[(0, j)] = -centre[j] / scale[j];
    }
    let beta = &m * &gamma;
    let cov = &m * cov_scaled * m.transpose();
    let fitted_ok = fitted.iter().all(|p| p.is_finite());
    if !fitted_ok {
        return Err(StatsError::Invalid(
            "the propensity model gave a non-finite probability".into(),
        ));
    }
    Ok(Logit {
        coef: beta.iter().copied().collect(),
        std_error: (0..k).map(|j| cov[(j, j)].sqrt()).collect(),
        fitted,
        iterations,
        deviance,
    })
}

/// The logistic function 1/(1 + e^(−x)), without overflow for large |x|.
pub fn expit(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separation_is_named() {
        let t = [true, true, true, false, false, false, false];
        let x = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0];
        let z = [0.3, 0.1, 0.5, 0.2, 0.9, 0.4, 0.7];
        let e = logit(&t, &[&x, &z], &["age", "z"]).unwrap_err().to_string();
        assert!(e.contains("\"age\"") && e.contains("separation"), "{e}");
        let d = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let e = logit(&t, &[&d], &["school_a"]).unwrap_err().to_string();
        assert!(
            e.contains("\"school_a\" = 1") && e.contains("treated"),
            "{e}"
        );
    }

    #[test]
    fn intercept_only_is_the_share() {
        let t = [true, false, false, true, false, false, true, false];
        let x = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let f = logit(&t, &[&x], &["x"]).unwrap();
        // The fitted scores reproduce the share of treated units at each level.
        let p1 = f.fitted[1];
        assert!((p1 - 0.5).abs() < 1e-12, "{p1}");
        assert!((f.fitted[0] - 0.25).abs() < 1e-12);
    }
}
