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
//!
//! Without a lottery the arms differ in their covariates, and an unadjusted estimate
//! would be confounded. There the headline is the covariate-adjusted regression on the
//! units whose value is known, weighted by inverse probability of censoring weights
//! ([`censoring_weights`]; Robins & Rotnitzky 1992, in the simple weighted form of
//! Bang & Tsiatis 2000 for costs up to a horizon): a unit with the event at Tᵢ ≤ by
//! counts 1/Ĝ(Tᵢ−), one followed to `by` counts 1/Ĝ(by−), where Ĝ is the Kaplan-Meier
//! curve of the follow-up (censoring as the event) in the unit's arm and project.
//! Weighted least squares with HC2 or CR2 standard errors ([`crate::stats::ols::
//! fit_weighted`], estimatr's weighted `lm_robust`), the weights treated as known.

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

/// Inverse probability of censoring weights per source row for an outcome read off
/// the time of `te` (NaN for rows whose value is not known: censored before `by`, or
/// without a time). Ĝ is estimated per arm and project (per arm without projects);
/// Ĝ(q−) is the curve just before q, so a censoring at the same time as an event or
/// at `by` itself does not lower that unit's own weight.
pub(super) fn censoring_weights(
    units: &super::Units,
    te: &super::survival::TimeEvent,
    ft: &FromTime,
    n_arms: usize,
) -> Vec<f64> {
    let mut w = vec![f64::NAN; units.arm.len()];
    let group: Vec<u32> = te
        .rows()
        .map(|r| {
            let p = units.project.as_ref().map_or(0, |p| p.code(r) as usize);
            (p * n_arms + units.arm_of(r)) as u32
        })
        .collect();
    let censored: Vec<bool> = te.event.iter().map(|e| !e).collect();
    let Ok(curves) = survival::kaplan_meier(&te.time, &censored, &group, CiTransform::Plain, 0.95)
    else {
        return w;
    };
    let left_limit = |c: &KmCurve, q: f64| {
        let k = c.rows.partition_point(|row| row.time < q);
        k.checked_sub(1).map_or(1.0, |k| c.rows[k].survival)
    };
    for (i, r) in te.rows().enumerate() {
        let (t, event) = (te.time[i], te.event[i]);
        let q = if event && t <= ft.by {
            t
        } else if t >= ft.by {
            ft.by
        } else {
            continue;
        };
        if let Some(c) = curves.iter().find(|c| c.group == group[i]) {
            let g = left_limit(c, q);
            if g > 0.0 {
                w[r] = 1.0 / g;
            }
        }
    }
    w
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
