//! Outcomes read off a censored time (`from_time` in the config): "in work within 12
//! months" (binary: the event by `by`) or "benefit days in the first 24 months"
//! (min(time, `by`) × `per_time_unit`).
//!
//! Such a value is unknown for a unit whose follow-up ended before `by` without the
//! event, and those units are not a random part of their arm: they are the ones still
//! waiting. Complete cases would drop long spells more often than short ones. The
//! estimates here come from the Kaplan-Meier curves of the time-to-event outcome the
//! value is read from, which use every unit up to the end of its follow-up (censoring
//! independent of the time, as in the time-to-event analysis):
//! - binary: `km_risk_difference`, the difference in the share with the event by `by`,
//!   (1 − S₁(by)) − (1 − S₀(by)), with standard error √(se₁² + se₀²) from Greenwood's
//!   variance of each curve (independent arms; R `summary(survfit(...), times = by)`,
//!   `std.err`) and a normal (Wald) interval on the difference;
//! - continuous and count: `rmst_difference`, the difference in restricted mean time
//!   up to `by` ([`crate::stats::survival::rmst_difference`], survRM2 `rmst2`),
//!   multiplied by `per_time_unit` (estimate, standard error and interval alike).
//!
//! Neither estimate is adjusted for covariates. The curves are those of the subset
//! (pooled, or one project), unstratified, as for the headline RMST difference.

use super::survival::{Scope, SurvivalOut, subjects_in};
use super::{EstimateRow, Scale};
use crate::config::{FromTime, OutcomeKind, OutcomeSpec};
use crate::stats::survival::{self, CiTransform, KmCurve};
use crate::stats::{Inference, StatsError};

/// Estimator id of the binary case in results.json.
pub const KM_RISK_DIFFERENCE: &str = "km_risk_difference";
/// Estimator id of the continuous and count case (the time-to-event outcome's id).
pub const RMST_DIFFERENCE: &str = "rmst_difference";

/// The headline estimates of `derived` (declared `from_time = ft`) in the subset of
/// `s`, whose outcome is the time-to-event outcome the values are read from. The rows
/// carry `derived`'s id.
pub(super) fn analyse(s: &Scope, derived: &OutcomeSpec, ft: &FromTime) -> SurvivalOut {
    let mut out = SurvivalOut::default();
    let Some(subj) = subjects_in(s) else {
        return out;
    };
    let curves = match survival::kaplan_meier(
        &subj.time,
        &subj.event,
        &subj.group,
        CiTransform::LogLog,
        s.conf,
    ) {
        Ok(c) => c,
        Err(e) => {
            note(s, derived, &mut out, &e);
            return out;
        }
    };
    let control = s.spec.arms.control_index();
    let curve_of = |a: usize| curves.iter().find(|c| c.group as usize == a);
    let Some(cc) = curve_of(control) else {
        return out;
    };
    for (t_idx, _) in s.spec.arms.values.iter().enumerate() {
        let Some(ct) = curve_of(t_idx).filter(|_| t_idx != control) else {
            continue;
        };
        let mut key = s.key(t_idx);
        key.outcome = derived.id.clone();
        match estimate(derived.kind, ft, ct, cc, s.conf) {
            Ok((estimator, detail, inf)) => {
                let mut r = EstimateRow::new(
                    &key,
                    estimator,
                    None,
                    Some(&detail),
                    Scale::Difference,
                    inf,
                    s.conf,
                    (ct.n, cc.n),
                );
                r.headline = true;
                out.estimates.push(r);
            }
            Err(e) => note(s, derived, &mut out, &e),
        }
    }
    out
}

/// The estimate of one comparison: its id, the detail for `df_rule`, and inference.
fn estimate(
    kind: OutcomeKind,
    ft: &FromTime,
    treated: &KmCurve,
    control: &KmCurve,
    conf: f64,
) -> Result<(&'static str, String, Inference), StatsError> {
    let by = ft.by;
    if kind == OutcomeKind::Binary {
        let share = |c: &KmCurve| -> Result<(f64, f64), StatsError> {
            // Beyond the last follow-up the curve is unknown (unless it reached 0).
            if by > c.last_time && c.rows.last().is_none_or(|r| r.survival > 0.0) {
                return Err(StatsError::Invalid(format!(
                    "follow-up ends at {} in one arm, before the horizon {by}",
                    c.last_time
                )));
            }
            let p = c.at_times(&[by])?;
            Ok((1.0 - p[0].survival, p[0].std_error))
        };
        let ((p1, se1), (p0, se0)) = (share(treated)?, share(control)?);
        let se = se1.hypot(se0);
        if !crate::stats::above(se, 0.0) {
            return Err(StatsError::NoVariance);
        }
        let inf = Inference::wald(p1 - p0, se, None, conf);
        return Ok((
            KM_RISK_DIFFERENCE,
            format!("normal; Kaplan-Meier at {by}"),
            inf,
        ));
    }
    let d = survival::rmst_difference(treated, control, by, conf)?.difference;
    let m = ft.per_time_unit;
    let inf = Inference::wald(d.estimate * m, d.std_error * m, None, conf);
    let detail = if m == 1.0 {
        format!("normal; horizon {by}")
    } else {
        format!("normal; horizon {by}; x {m} per time unit")
    };
    Ok((RMST_DIFFERENCE, detail, inf))
}

fn note(s: &Scope, derived: &OutcomeSpec, out: &mut SurvivalOut, e: &StatsError) {
    let (id, src) = (&derived.id, &s.o.id);
    out.notes.push(super::Note {
        outcome: Some(id.clone()),
        subset: Some(s.subset.to_string()),
        text: crate::config::Text {
            en: format!("{id}: not estimable from the Kaplan-Meier curves of {src} ({e})."),
            nl: format!("{id}: niet te schatten uit de Kaplan-Meier-curves van {src} ({e})."),
        },
    });
}
