//! Two-sample differences in means.

use super::describe::Moments;
use super::{Inference, StatsError, StatsResult};

/// Welch's difference in means, treated minus control, with Welch-Satterthwaite df.
///
/// Source: Welch (1947), *Biometrika* 34; as R `t.test(var.equal = FALSE)` and scipy
/// `stats.ttest_ind(equal_var=False)`. SE = √(s₁²/n₁ + s₀²/n₀);
/// df = SE⁴ / ((s₁²/n₁)²/(n₁−1) + (s₀²/n₀)²/(n₀−1)); t interval.
pub fn welch(treated: &[f64], control: &[f64], conf_level: f64) -> StatsResult<Inference> {
    welch_of(Moments::of(treated), Moments::of(control), conf_level)
}

/// [`welch`] from the arms' moments.
pub fn welch_of(treated: Moments, control: Moments, conf_level: f64) -> StatsResult<Inference> {
    Moments::check_pair(treated, control)?;
    let a = treated.var / treated.n as f64;
    let b = control.var / control.n as f64;
    let se2 = a + b;
    if !super::above(se2, 0.0) {
        return Err(StatsError::NoVariance);
    }
    let df = se2 * se2 / (a * a / (treated.n - 1) as f64 + b * b / (control.n - 1) as f64);
    Ok(Inference::wald(
        treated.mean - control.mean,
        se2.sqrt(),
        Some(df),
        conf_level,
    ))
}

/// Student's pooled-variance difference in means, treated minus control, df n₁+n₀−2.
///
/// Source: R `t.test(var.equal = TRUE)`, scipy `stats.ttest_ind(equal_var=True)`.
pub fn student(treated: &[f64], control: &[f64], conf_level: f64) -> StatsResult<Inference> {
    student_of(Moments::of(treated), Moments::of(control), conf_level)
}

/// [`student`] from the arms' moments.
pub fn student_of(treated: Moments, control: Moments, conf_level: f64) -> StatsResult<Inference> {
    Moments::check_pair(treated, control)?;
    let (n1, n0) = (treated.n as f64, control.n as f64);
    let df = n1 + n0 - 2.0;
    let pooled = Moments::pooled_var(treated, control);
    if !super::above(pooled, 0.0) {
        return Err(StatsError::NoVariance);
    }
    let se = (pooled * (1.0 / n1 + 1.0 / n0)).sqrt();
    Ok(Inference::wald(
        treated.mean - control.mean,
        se,
        Some(df),
        conf_level,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_equals_student_for_equal_sizes_and_variances() {
        let t = [1.0, 2.0, 3.0, 4.0];
        let c = [0.0, 1.0, 2.0, 3.0];
        let w = welch(&t, &c, 0.95).unwrap();
        let s = student(&t, &c, 0.95).unwrap();
        assert!((w.std_error - s.std_error).abs() < 1e-14);
        assert!((w.df.unwrap() - s.df.unwrap()).abs() < 1e-10);
        assert!((w.estimate - 1.0).abs() < 1e-14);
    }

    #[test]
    fn constant_arms_have_no_variance() {
        assert_eq!(
            welch(&[1.0, 1.0], &[1.0, 1.0], 0.95),
            Err(StatsError::NoVariance)
        );
    }
}
