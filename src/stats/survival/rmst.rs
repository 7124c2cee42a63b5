//! Restricted mean survival time (RMST) up to a horizon τ, and its difference between
//! two arms.
//!
//! RMST(τ) = ∫₀^τ S(t) dt, the area under the Kaplan-Meier step function (Royston &
//! Parmar 2013): the mean time without the event within the first τ units. Variance
//! (Klein & Moeschberger 2003, section 4.5; the Greenwood form): with tⱼ the event
//! times ≤ τ and Aⱼ = ∫_{tⱼ}^τ S(t) dt,
//! Var = Σⱼ Aⱼ² · dⱼ/(nⱼ(nⱼ − dⱼ)), a term with nⱼ = dⱼ counting 0 (Aⱼ is 0 there).
//! This is the formula of R `survRM2::rmst1` (Uno et al.) and of R survival's
//! `print.survfit(rmean = τ)`; lifelines' `restricted_mean_survival_time` uses a
//! different variance (see scripts/fixtures/README.md). Intervals and the test of the
//! difference (treated − control, SE √(Var₁ + Var₀), independent arms) use the
//! normal distribution, as survRM2's `rmst2`.

use serde::Serialize;

use super::super::Inference;
use super::super::dist::two_sided_quantile;
use super::km::KmCurve;
use super::{StatsError, StatsResult, check_level};

/// The RMST of one arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rmst {
    pub group: u32,
    pub tau: f64,
    pub estimate: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// RMST per arm and the difference treated − control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RmstComparison {
    pub tau: f64,
    pub treated: Rmst,
    pub control: Rmst,
    /// Estimate, SE, z statistic, two-sided normal p and interval of the difference.
    pub difference: Inference,
}

impl KmCurve {
    /// RMST up to `tau` with its standard error and a normal interval.
    ///
    /// `tau` must be > 0 and not beyond the curve's last follow-up time, unless the
    /// curve has reached 0 (then S is known to be 0 afterwards). survRM2 imposes the
    /// same bound: beyond the last follow-up S is unknown.
    pub fn rmst(&self, tau: f64, conf_level: f64) -> StatsResult<Rmst> {
        check_level(conf_level)?;
        if !(tau.is_finite() && tau > 0.0) {
            return Err(StatsError::Invalid(format!(
                "RMST horizon {tau} must be a positive number"
            )));
        }
        let ended_at_zero = self.rows.last().is_some_and(|r| r.survival == 0.0);
        if tau > self.last_time && !ended_at_zero {
            return Err(StatsError::Invalid(format!(
                "RMST horizon {tau} is beyond the last follow-up time {} of group {}: \
                 the survival curve is unknown there; choose a horizon ≤ {}",
                self.last_time, self.group, self.last_time
            )));
        }
        let rows: Vec<_> = self.rows.iter().take_while(|r| r.time <= tau).collect();
        // areas[j] = area from event time j (or 0 for j = 0) to the next one or τ.
        let mut areas = Vec::with_capacity(rows.len() + 1);
        let mut prev_t = 0.0;
        let mut prev_s = 1.0;
        for r in &rows {
            areas.push(prev_s * (r.time - prev_t));
            prev_t = r.time;
            prev_s = r.survival;
        }
        areas.push(prev_s * (tau - prev_t));
        let estimate: f64 = areas.iter().sum();
        // Aⱼ = Σ_{k > j} areas[k], accumulated from τ backwards.
        let mut variance = 0.0;
        let mut tail = 0.0;
        for (j, r) in rows.iter().enumerate().rev() {
            tail += areas[j + 1];
            if r.events < r.at_risk {
                let h = r.events as f64 / (r.at_risk as f64 * (r.at_risk - r.events) as f64);
                variance += tail * tail * h;
            }
        }
        let std_error = variance.sqrt();
        let z = two_sided_quantile(conf_level, None);
        Ok(Rmst {
            group: self.group,
            tau,
            estimate,
            std_error,
            ci_low: estimate - z * std_error,
            ci_high: estimate + z * std_error,
        })
    }
}

/// RMST of two arms up to `tau` and their difference treated − control.
///
/// Fails as [`KmCurve::rmst`] does, and with [`StatsError::NoVariance`] when both
/// standard errors are 0 (no events before `tau` in either arm).
pub fn rmst_difference(
    treated: &KmCurve,
    control: &KmCurve,
    tau: f64,
    conf_level: f64,
) -> StatsResult<RmstComparison> {
    let t = treated.rmst(tau, conf_level)?;
    let c = control.rmst(tau, conf_level)?;
    let se = t.std_error.hypot(c.std_error);
    if !super::super::above(se, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(RmstComparison {
        tau,
        treated: t,
        control: c,
        difference: Inference::wald(t.estimate - c.estimate, se, None, conf_level),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::survival::km::{CiTransform, kaplan_meier};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    fn curve(time: &[f64], event: &[bool]) -> KmCurve {
        let group = vec![0; time.len()];
        kaplan_meier(time, event, &group, CiTransform::LogLog, 0.95)
            .unwrap()
            .remove(0)
    }

    /// Events at 1, 3 and 4, a censoring at 2. Kaplan-Meier: S = 1 on [0, 1), 3/4 on
    /// [1, 3) (4 at risk, 1 event), 3/8 on [3, 4) (2 at risk, 1 event), 0 from 4.
    fn treated() -> KmCurve {
        curve(&[1.0, 2.0, 3.0, 4.0], &[true, false, true, true])
    }

    /// RMST(3.5) = 1·1 + 2·3/4 + 0.5·3/8 = 2.6875. The areas after each event time are
    /// A(1) = 1.5 + 0.1875 = 1.6875 and A(3) = 0.1875, so
    /// Var = 1.6875² · 1/(4·3) + 0.1875² · 1/(2·1) = 0.2548828125.
    #[test]
    fn area_and_variance_by_hand() {
        let r = treated().rmst(3.5, 0.95).unwrap();
        assert!(close(r.estimate, 2.6875), "{}", r.estimate);
        assert!(close(r.std_error * r.std_error, 0.254_882_812_5));
        assert!(close(r.ci_high - r.estimate, r.estimate - r.ci_low));
    }

    /// At τ = 4 the last event (1 at risk, 1 event) adds nothing to the variance;
    /// RMST = 1 + 1.5 + 3/8 = 2.875, Var = 1.875²/12 + 0.375²/2 = 0.36328125. The curve
    /// has reached 0, so a horizon beyond the last time adds no area.
    #[test]
    fn horizon_at_and_beyond_a_curve_that_reached_zero() {
        let at = treated().rmst(4.0, 0.95).unwrap();
        assert!(close(at.estimate, 2.875));
        assert!(close(at.std_error * at.std_error, 0.363_281_25));
        let beyond = treated().rmst(6.0, 0.95).unwrap();
        assert!(close(beyond.estimate, 2.875));
    }

    #[test]
    fn horizon_beyond_follow_up_is_an_error() {
        // The last subject is censored at 5: S is unknown after 5.
        let c = curve(&[1.0, 5.0], &[true, false]);
        assert!(c.rmst(5.0, 0.95).is_ok());
        assert!(matches!(c.rmst(5.5, 0.95), Err(StatsError::Invalid(_))));
        assert!(matches!(c.rmst(0.0, 0.95), Err(StatsError::Invalid(_))));
    }

    /// Control: events at 1 and 2, so S = 1/2 on [1, 2). RMST(2) = 1 + 1/2 = 1.5 with
    /// Var = 0.5² · 1/(2·1) = 0.125. Treated at τ = 2: 1 + 3/4 = 1.75 with
    /// Var = 0.75²/12 = 0.046875. Difference 0.25 with SE √0.171875.
    #[test]
    fn difference_of_two_arms_by_hand() {
        let control = curve(&[1.0, 2.0], &[true, true]);
        let d = rmst_difference(&treated(), &control, 2.0, 0.95).unwrap();
        assert!(close(d.control.estimate, 1.5));
        assert!(close(d.treated.estimate, 1.75));
        assert!(close(d.difference.estimate, 0.25));
        assert!(close(d.difference.std_error, 0.171_875f64.sqrt()));
    }
}
