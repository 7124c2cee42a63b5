//! Sensitivity to unmeasured confounding for designs without a lottery: the E-value
//! (VanderWeele & Ding 2017; [`crate::stats::weighting::evalue`]) of every published
//! estimate of a non-randomised comparison, and of its interval limit nearest to no
//! effect, on the estimate row (`e_value`, `e_value_ci`). Estimates that already carry
//! one (the weighting estimators) keep theirs.
//!
//! The conversion to a risk ratio follows the estimate's scale:
//! - a difference of a yes/no outcome: the risk ratio p₁/p₀ with the comparison arm's
//!   published share p₀ of the same subset;
//! - a difference of a continuous outcome: a standardised difference, the estimate and
//!   its standard error divided by the pooled SD of the arms' published summaries;
//! - a standardised difference (Cohen's d, Hedges' g): as it is;
//! - a risk ratio: as it is; an odds ratio: as a risk ratio when both arms' shares are
//!   below 15%, else its square root; a hazard ratio: the common-outcome conversion.
//!
//! Made after disclosure control from published numbers only; a withheld estimate,
//! or one whose arm summaries are withheld, has none.

use super::{EstimateRow, PilotResults, Scale};
use crate::config::OutcomeKind;
use crate::stats::weighting::evalue::{self, EValue};

/// Fill `e_value` and `e_value_ci` on every published estimate of `r` without one.
pub(crate) fn add_e_values(r: &mut PilotResults) {
    let values: Vec<Option<EValue>> = r.estimates.iter().map(|e| of(r, e)).collect();
    for (e, v) in r.estimates.iter_mut().zip(values) {
        if e.e_value.is_none()
            && let Some(v) = v
        {
            e.e_value = Some(v.e_value);
            e.e_value_ci = Some(v.e_value_ci);
        }
    }
}

fn of(r: &PilotResults, e: &EstimateRow) -> Option<EValue> {
    if e.suppressed || !e.estimate.is_finite() || e.e_value.is_some() {
        return None;
    }
    // A difference-in-differences or time-series estimate rests on trends, not on a
    // comparison of levels an unmeasured confounder would explain: no E-value.
    if super::panel_design::is_design_estimator(&e.estimator) {
        return None;
    }
    let o = r.outcome(&e.outcome)?;
    let summary = |arm: &str| {
        r.arm_summary(&e.outcome, &e.subset, arm)
            .filter(|s| !s.suppressed && s.mean.is_finite())
    };
    match e.scale {
        Scale::Standardised => {
            evalue::standardised_difference(e.estimate, e.std_error, e.conf_level)
        }
        Scale::Ratio => match e.estimator.as_str() {
            "risk_ratio" => evalue::risk_ratio(e.estimate, e.ci_low, e.ci_high),
            "odds_ratio" => {
                let (p1, p0) = (summary(&e.treated)?.mean, summary(&e.control)?.mean);
                evalue::odds_ratio(e.estimate, e.ci_low, e.ci_high, p1 < 0.15 && p0 < 0.15)
            }
            id if id.starts_with("cox_hazard_ratio") => {
                evalue::hazard_ratio(e.estimate, e.ci_low, e.ci_high, false)
            }
            _ => None,
        },
        Scale::Difference if o.kind == OutcomeKind::Binary => {
            let p0 = summary(&e.control)?.mean;
            evalue::risk_difference(e.estimate, e.ci_low, e.ci_high, p0)
        }
        Scale::Difference if o.kind == OutcomeKind::TimeToEvent => None,
        Scale::Difference => {
            let (t, c) = (summary(&e.treated)?, summary(&e.control)?);
            let (st, sc) = (t.sd?, c.sd?);
            let (nt, nc) = (t.n? as f64, c.n? as f64);
            let pooled = (((nt - 1.0) * st * st + (nc - 1.0) * sc * sc) / (nt + nc - 2.0)).sqrt();
            (pooled > 0.0).then_some(())?;
            evalue::standardised_difference(e.estimate / pooled, e.std_error / pooled, e.conf_level)
        }
    }
}
