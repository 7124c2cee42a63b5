//! Cost-effectiveness: the incremental cost-effectiveness ratio (ICER), the cost per
//! extra person with the outcome, with Fieller's interval, and the acceptability curve.
//!
//! Inputs are the incremental cost ΔC (treated minus control, per person) and the
//! incremental effect ΔE (the difference in the share with the outcome, or in a mean),
//! each with its standard error, and their covariance. With a fixed cost per person per
//! arm (the usual case in a pilot budget) ΔC is known: its standard error and the
//! covariance are 0.
//!
//! - ICER = ΔC / ΔE (Drummond et al., Methods for the Economic Evaluation of Health
//!   Care Programmes, 4th ed., 2015, ch. 4).
//! - Fieller's interval (Fieller 1954; for ICERs Willan & O'Brien 1996, Health Econ
//!   5:297, eq. 3): the ratios R with (ΔC − RΔE)² ≤ z²(v_C − 2R·c + R²v_E), the roots
//!   of a·R² + b·R + c₀ = 0 with a = ΔE² − z²v_E, b = −2(ΔC·ΔE − z²c),
//!   c₀ = ΔC² − z²v_C. When ΔE differs from 0 at the chosen level (a > 0) the interval
//!   is bounded; otherwise it is unbounded (two rays, or the whole line), which says the
//!   data cannot tell what an extra person with the outcome costs. z is the normal
//!   quantile (the normal approximation of both increments).
//! - Acceptability curve (van Hout et al. 1994, Health Econ 3:309): for a value λ of
//!   one extra person with the outcome, the probability that the net benefit
//!   λΔE − ΔC is positive, Φ((λΔE − ΔC) / sqrt(λ²v_E − 2λc + v_C)) under the same
//!   normal approximation.

use serde::Serialize;

use super::{StatsError, StatsResult, dist};

/// The increments of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Increments {
    /// ΔC: cost per person, treated minus control.
    pub cost: f64,
    pub cost_se: f64,
    /// ΔE: effect per person (e.g. a difference in proportions), treated minus control.
    pub effect: f64,
    pub effect_se: f64,
    /// Covariance of the two increments.
    pub covariance: f64,
}

/// Fieller's confidence set for the ICER.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FiellerSet {
    /// A bounded interval [low, high].
    Bounded { low: f64, high: f64 },
    /// Every ratio up to `below` and from `above` on: the effect is not different from
    /// zero at this level, so the cost per extra person is unbounded.
    TwoRays { below: f64, above: f64 },
    /// Every ratio.
    Everything,
}

/// The ICER with Fieller's interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Icer {
    /// ΔC / ΔE; NaN when ΔE is 0.
    pub icer: f64,
    pub fieller: FiellerSet,
    pub conf_level: f64,
}

fn check(inc: &Increments) -> StatsResult<()> {
    let finite = [
        inc.cost,
        inc.cost_se,
        inc.effect,
        inc.effect_se,
        inc.covariance,
    ]
    .iter()
    .all(|v| v.is_finite());
    if !finite || inc.cost_se < 0.0 || inc.effect_se <= 0.0 {
        return Err(StatsError::Invalid(
            "the increments need finite values and a positive standard error of the effect".into(),
        ));
    }
    Ok(())
}

/// The ICER and Fieller's interval at `conf_level`.
pub fn icer(inc: &Increments, conf_level: f64) -> StatsResult<Icer> {
    check(inc)?;
    let z = dist::two_sided_quantile(conf_level, None);
    let z2 = z * z;
    let (vc, ve, c) = (inc.cost_se.powi(2), inc.effect_se.powi(2), inc.covariance);
    let a = inc.effect.powi(2) - z2 * ve;
    let b = -2.0 * (inc.cost * inc.effect - z2 * c);
    let c0 = inc.cost.powi(2) - z2 * vc;
    let disc = b * b - 4.0 * a * c0;
    let fieller = if a > 0.0 {
        if disc < 0.0 {
            return Err(StatsError::Invalid(
                "Fieller's quadratic has no real roots: the covariance of the increments is inconsistent with their standard errors".into(),
            ));
        }
        let r = disc.sqrt();
        // The numerically stable pair of roots.
        let q = -0.5 * (b + b.signum() * r);
        let (r1, r2) = if q == 0.0 {
            (0.0, 0.0)
        } else {
            (q / a, c0 / q)
        };
        FiellerSet::Bounded {
            low: r1.min(r2),
            high: r1.max(r2),
        }
    } else if disc > 0.0 {
        let r = disc.sqrt();
        let (r1, r2) = ((-b - r) / (2.0 * a), (-b + r) / (2.0 * a));
        FiellerSet::TwoRays {
            below: r1.min(r2),
            above: r1.max(r2),
        }
    } else {
        FiellerSet::Everything
    };
    Ok(Icer {
        icer: if inc.effect == 0.0 {
            f64::NAN
        } else {
            inc.cost / inc.effect
        },
        fieller,
        conf_level,
    })
}

/// The probability that the net benefit λΔE − ΔC is positive, for each value λ of one
/// extra unit of effect (one extra person with the outcome when ΔE is a difference in
/// proportions).
pub fn acceptability(inc: &Increments, values: &[f64]) -> StatsResult<Vec<f64>> {
    check(inc)?;
    let (vc, ve, c) = (inc.cost_se.powi(2), inc.effect_se.powi(2), inc.covariance);
    Ok(values
        .iter()
        .map(|&l| {
            let nb = l * inc.effect - inc.cost;
            let var = l * l * ve - 2.0 * l * c + vc;
            if var > 0.0 {
                dist::normal_cdf(nb / var.sqrt())
            } else if nb > 0.0 {
                1.0
            } else if nb < 0.0 {
                0.0
            } else {
                0.5
            }
        })
        .collect())
}
