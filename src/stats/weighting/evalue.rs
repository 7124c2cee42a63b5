//! The E-value (VanderWeele & Ding 2017, "Sensitivity analysis in observational
//! research: introducing the E-value", *Annals of Internal Medicine* 167(4):268–274):
//! the minimum strength of association, on the risk-ratio scale, that an unmeasured
//! confounder would need with both the treatment and the outcome, conditional on the
//! measured covariates, to explain away an observed risk ratio RR:
//!
//!   E = RR + √(RR·(RR − 1)) for RR ≥ 1; for RR < 1 the same formula at 1/RR.
//!
//! For the confidence interval the E-value is taken at the limit closest to 1; it is 1
//! when the interval contains 1. Other effect measures are first converted to an
//! approximate risk ratio, as in the paper's Table 2 (and R `EValue`, Mathur et al.
//! 2018):
//!
//! - odds ratio: RR ≈ OR when the outcome is rare (below 15% in both arms), else
//!   RR ≈ √OR;
//! - hazard ratio: RR ≈ HR when rare, else RR ≈ (1 − 0.5^√HR) / (1 − 0.5^√(1/HR));
//! - standardised mean difference d (outcome SD units): RR ≈ exp(0.91·d), the interval
//!   exp(0.91·(d ± q·SE(d))) with q the normal quantile of the interval's level (the
//!   paper writes exp(0.91·d ± 1.78·SE) for 95%: 1.78 ≈ 0.91 × 1.96);
//! - risk difference of a binary outcome with comparison risk p₀ and treated risk p₁:
//!   RR = p₁/p₀, and a limit L of the difference's interval maps to (p₀ + L)/p₀ (the
//!   comparison risk held fixed).
//!
//! A ratio that is not a positive finite number has no E-value (`None`).

use serde::Serialize;

/// The E-value of an estimate and of its confidence limit closest to the null.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EValue {
    pub e_value: f64,
    pub e_value_ci: f64,
}

/// E-value of a risk ratio (see the module documentation); `None` unless `rr` is
/// positive and finite.
pub fn of_risk_ratio(rr: f64) -> Option<f64> {
    if !(rr.is_finite() && rr > 0.0) {
        return None;
    }
    let r = if rr < 1.0 { 1.0 / rr } else { rr };
    Some(r + (r * (r - 1.0)).sqrt())
}

/// E-values of a risk ratio and its interval (`low`, `high` on the ratio scale).
pub fn risk_ratio(rr: f64, low: f64, high: f64) -> Option<EValue> {
    let e_value = of_risk_ratio(rr)?;
    let e_value_ci = if low <= 1.0 && high >= 1.0 {
        1.0
    } else if rr > 1.0 {
        of_risk_ratio(low)?
    } else {
        of_risk_ratio(high)?
    };
    Some(EValue {
        e_value,
        e_value_ci,
    })
}

/// The approximate risk ratio of an odds ratio.
pub fn rr_from_odds_ratio(or: f64, rare: bool) -> f64 {
    if rare { or } else { or.sqrt() }
}

/// The approximate risk ratio of a hazard ratio.
pub fn rr_from_hazard_ratio(hr: f64, rare: bool) -> f64 {
    if rare {
        hr
    } else {
        (1.0 - 0.5f64.powf(hr.sqrt())) / (1.0 - 0.5f64.powf((1.0 / hr).sqrt()))
    }
}

/// E-values of an odds ratio and its interval.
pub fn odds_ratio(or: f64, low: f64, high: f64, rare: bool) -> Option<EValue> {
    let f = |v| rr_from_odds_ratio(v, rare);
    risk_ratio(f(or), f(low), f(high))
}

/// E-values of a hazard ratio and its interval.
pub fn hazard_ratio(hr: f64, low: f64, high: f64, rare: bool) -> Option<EValue> {
    let f = |v| rr_from_hazard_ratio(v, rare);
    risk_ratio(f(hr), f(low), f(high))
}

/// E-values of a standardised mean difference `d` with standard error `se`, the
/// interval at `conf_level` (normal quantile).
pub fn standardised_difference(d: f64, se: f64, conf_level: f64) -> Option<EValue> {
    let q = crate::stats::dist::two_sided_quantile(conf_level, None);
    let f = |v: f64| (0.91 * v).exp();
    risk_ratio(f(d), f(d - q * se), f(d + q * se))
}

/// E-values of a risk difference `rd` = p₁ − p₀ of a binary outcome with interval
/// (`low`, `high`), given the comparison risk `p0`.
pub fn risk_difference(rd: f64, low: f64, high: f64, p0: f64) -> Option<EValue> {
    if !(p0 > 0.0 && p0 < 1.0) {
        return None;
    }
    let f = |v: f64| ((p0 + v) / p0).max(0.0);
    // A lower limit below −p₀ maps to a risk ratio of 0: no E-value for the interval
    // then, but the interval contains 1 only if it contains a difference of 0.
    let e_value = of_risk_ratio(f(rd))?;
    let e_value_ci = if low <= 0.0 && high >= 0.0 {
        1.0
    } else if rd > 0.0 {
        of_risk_ratio(f(low))?
    } else {
        of_risk_ratio(f(high))?
    };
    Some(EValue {
        e_value,
        e_value_ci,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breastfeeding_example() {
        // VanderWeele & Ding (2017), the example of breastfeeding and infant death
        // (Victora et al.): RR 3.9 (95% CI 1.8 to 8.7) gives E-values 7.2 and 3.0 ("an
        // unmeasured confounder ... by a risk ratio of 7.2-fold each").
        let e = risk_ratio(3.9, 1.8, 8.7).unwrap();
        assert!((e.e_value - 7.26).abs() < 0.005, "{}", e.e_value);
        assert!((e.e_value_ci - 3.0).abs() < 1e-12, "{}", e.e_value_ci);
        // Protective effects use 1/RR and the upper limit.
        let p = risk_ratio(1.0 / 3.9, 1.0 / 8.7, 1.0 / 1.8).unwrap();
        assert!((p.e_value - e.e_value).abs() < 1e-12);
        assert!((p.e_value_ci - 3.0).abs() < 1e-12);
        assert_eq!(risk_ratio(1.3, 0.9, 1.8).unwrap().e_value_ci, 1.0);
        assert_eq!(of_risk_ratio(f64::NAN), None);
    }
}
