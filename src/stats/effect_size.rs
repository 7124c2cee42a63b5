//! Standardised mean differences: Cohen's d and Hedges' g, with standard errors and
//! normal confidence intervals as R `metafor::escalc(measure = "SMD")`.
//!
//! Sources: Cohen (1988), *Statistical Power Analysis*, ch. 2; Hedges (1981), *J.
//! Educ. Statist.* 6, 107-128; Hedges & Olkin (1985), *Statistical Methods for
//! Meta-Analysis*, eq. 5.14 (the large-sample variance). Conventions, as metafor 3.8
//! (`escalc(measure = "SMD", vtype = "LS")` and `summary()` of it):
//!
//! - pooled SD s_p = √(((n₁−1)s₁² + (n₀−1)s₀²)/(n₁+n₀−2)), sample SDs with n−1;
//! - Cohen's d = (ȳ₁ − ȳ₀)/s_p (treated minus control);
//! - Hedges' g = J·d with the *exact* bias correction
//!   J = Γ(m/2) / (√(m/2)·Γ((m−1)/2)), m = n₁+n₀−2 (Hedges 1981, eq. 6e; metafor's
//!   `.cmicalc`, computed through log-gamma, here with statrs' `ln_gamma`), not the
//!   approximation 1 − 3/(4m − 1);
//! - variance (vtype "LS"): v = 1/n₁ + 1/n₀ + θ²/(2(n₁+n₀)) with θ the estimate itself
//!   (g for Hedges' g, which is metafor's `vi`; d for Cohen's d, the same
//!   large-sample formula applied to d);
//! - interval and test: normal, θ ± z·√v and z = θ/√v (`df = None`), as
//!   `summary(escalc(...))`.
//!
//! Cohen's h for proportions is in [`super::binary::cohens_h`].

use statrs::function::gamma::ln_gamma;

use super::describe::Moments;
use super::{Inference, StatsError, StatsResult};

/// Hedges' exact small-sample correction J(m) = Γ(m/2) / (√(m/2)·Γ((m−1)/2)) for m
/// degrees of freedom (m > 1).
pub fn hedges_j(m: f64) -> f64 {
    if !super::above(m, 1.0) {
        return f64::NAN;
    }
    (ln_gamma(m / 2.0) - (m / 2.0).sqrt().ln() - ln_gamma((m - 1.0) / 2.0)).exp()
}

/// Cohen's d and the sizes it came from.
fn smd(treated: Moments, control: Moments) -> StatsResult<(f64, f64, f64)> {
    Moments::check_pair(treated, control)?;
    let (n1, n0) = (treated.n as f64, control.n as f64);
    let pooled = Moments::pooled_var(treated, control);
    if !super::above(pooled, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(((treated.mean - control.mean) / pooled.sqrt(), n1, n0))
}

fn with_ls_variance(theta: f64, n1: f64, n0: f64, conf_level: f64) -> Inference {
    let v = 1.0 / n1 + 1.0 / n0 + theta * theta / (2.0 * (n1 + n0));
    Inference::wald(theta, v.sqrt(), None, conf_level)
}

/// Cohen's d (treated minus control over the pooled SD) with the large-sample SE
/// √(1/n₁ + 1/n₀ + d²/(2(n₁+n₀))) and a normal interval.
pub fn cohens_d(treated: &[f64], control: &[f64], conf_level: f64) -> StatsResult<Inference> {
    cohens_d_of(Moments::of(treated), Moments::of(control), conf_level)
}

/// [`cohens_d`] from the arms' moments.
pub fn cohens_d_of(treated: Moments, control: Moments, conf_level: f64) -> StatsResult<Inference> {
    let (d, n1, n0) = smd(treated, control)?;
    Ok(with_ls_variance(d, n1, n0, conf_level))
}

/// Hedges' g = J·d with the exact J, its SE √(1/n₁ + 1/n₀ + g²/(2(n₁+n₀))) and a normal
/// interval: `yi`, `vi` and the CI of `metafor::escalc(measure = "SMD")`.
pub fn hedges_g(treated: &[f64], control: &[f64], conf_level: f64) -> StatsResult<Inference> {
    hedges_g_of(Moments::of(treated), Moments::of(control), conf_level)
}

/// [`hedges_g`] from the arms' moments.
pub fn hedges_g_of(treated: Moments, control: Moments, conf_level: f64) -> StatsResult<Inference> {
    let (d, n1, n0) = smd(treated, control)?;
    let g = hedges_j(n1 + n0 - 2.0) * d;
    Ok(with_ls_variance(g, n1, n0, conf_level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_correction_is_close_to_the_approximation() {
        // Closed forms: J(2) = 1/√π, J(3) = √π/2/√1.5, J(10) = Γ(5)/(√5·Γ(4.5)) with
        // Γ(4.5) = 105√π/16.
        let pi = std::f64::consts::PI;
        assert!((hedges_j(2.0) - 1.0 / pi.sqrt()).abs() < 1e-14);
        assert!((hedges_j(3.0) - pi.sqrt() / 2.0 / 1.5f64.sqrt()).abs() < 1e-14);
        let j10 = 24.0 / (5f64.sqrt() * 105.0 * pi.sqrt() / 16.0);
        assert!((hedges_j(10.0) - j10).abs() < 1e-14);
        for m in [5.0, 20.0, 100.0, 1000.0] {
            let approx = 1.0 - 3.0 / (4.0 * m - 1.0);
            assert!((hedges_j(m) - approx).abs() < 0.5 / (m * m));
        }
        assert!(hedges_j(1.0).is_nan());
    }

    #[test]
    fn swapping_arms_flips_the_sign_and_scale_is_irrelevant() {
        let t = [3.1, 4.5, 5.0, 6.2, 4.4];
        let c = [2.0, 3.3, 4.1, 2.9];
        let a = hedges_g(&t, &c, 0.95).unwrap();
        let b = hedges_g(&c, &t, 0.95).unwrap();
        assert!((a.estimate + b.estimate).abs() < 1e-14);
        assert!((a.std_error - b.std_error).abs() < 1e-14);
        let t10: Vec<f64> = t.iter().map(|v| 10.0 * v + 7.0).collect();
        let c10: Vec<f64> = c.iter().map(|v| 10.0 * v + 7.0).collect();
        let s = cohens_d(&t10, &c10, 0.95).unwrap();
        let d = cohens_d(&t, &c, 0.95).unwrap();
        assert!((s.estimate - d.estimate).abs() < 1e-12);
        assert!(a.estimate.abs() < d.estimate.abs());
    }

    #[test]
    fn constant_data_have_no_variance() {
        assert_eq!(
            cohens_d(&[1.0, 1.0], &[1.0, 1.0], 0.95),
            Err(StatsError::NoVariance)
        );
    }
}
