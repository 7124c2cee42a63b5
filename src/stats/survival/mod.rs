//! Survival (time-to-event) analysis: Kaplan-Meier curves, the log-rank test,
//! restricted mean survival time, the Cox proportional-hazards model, and the
//! derivation of (time, event) from a person-by-month status panel.
//!
//! Inputs are plain slices: `time` (finite, ≥ 0, in the outcome's unit), `event`
//! (`true` = the event happened at `time`, `false` = censored at `time`), group and
//! stratum codes as `u32` (any values; results are ordered by code). Nothing here
//! reads data or knows about arms' names.
//!
//! Conventions, as R's `survival` package (Therneau), which the reference fixtures in
//! `tests/fixtures/survival/` come from:
//! - Kaplan-Meier (Kaplan & Meier 1958) with the Greenwood (1926) variance
//!   Σ d/(n(n−d)) of −log S; the reported `std_error` is that of S itself,
//!   S·√(Σ d/(n(n−d))), as `summary.survfit` prints it. Intervals are computed on the
//!   log-log scale by default (Borgan & Liestøl 1990; R `conf.type = "log-log"`,
//!   lifelines' default), or on the log or plain scale ([`CiTransform`]).
//! - Tied times: at a time with both events and censorings, the censored subjects are
//!   counted at risk for the events (they leave just after).
//! - Log-rank: Mantel (1966) / Peto & Peto (1972) with the hypergeometric variance for
//!   ties (R `survdiff`, `rho = 0`); stratified by summing O, E and V over strata.
//! - RMST (Royston & Parmar 2013): area under the KM curve up to τ, variance as in
//!   R `survRM2::rmst1` (Uno et al.) and `print.survfit(rmean = τ)`.
//! - Cox (Cox 1972): Efron (1977) ties, Newton-Raphson to full convergence, model and
//!   robust sandwich (Lin & Wei 1989) standard errors.

mod cox;
mod km;
mod logrank;
mod panel;
mod rmst;

pub use cox::{CoxCoef, CoxFit, cox_ph};
pub use km::{Censoring, CiTransform, KmAtTime, KmCurve, KmRow, Quantile, kaplan_meier};
pub use logrank::{LogRank, LogRankGroup, log_rank};
pub use panel::{PanelSurvival, survival_from_panel};
pub use rmst::{Rmst, RmstComparison, rmst_difference};

use super::{StatsError, StatsResult};

/// Checks that `time` and `event` (and any further per-subject slices, given by name
/// and length) have one entry per subject, and that every time is finite and ≥ 0.
fn check_subjects(time: &[f64], event: &[bool], others: &[(&str, usize)]) -> StatsResult<()> {
    let n = time.len();
    if event.len() != n {
        return Err(StatsError::Invalid(format!(
            "{} event indicators for {n} times",
            event.len()
        )));
    }
    for (name, len) in others {
        if *len != n {
            return Err(StatsError::Invalid(format!("{len} {name} for {n} times")));
        }
    }
    if n > u32::MAX as usize {
        return Err(StatsError::Invalid(format!(
            "{n} subjects: more than the {} supported",
            u32::MAX
        )));
    }
    for (i, &t) in time.iter().enumerate() {
        if t.is_nan() {
            return Err(StatsError::Invalid(format!(
                "time of subject {} (row {i}, 0-based) is missing",
                i + 1
            )));
        }
        if !t.is_finite() || t < 0.0 {
            return Err(StatsError::Invalid(format!(
                "time of subject {} (row {i}, 0-based) is {t}: times must be finite and ≥ 0",
                i + 1
            )));
        }
    }
    if n == 0 {
        return Err(StatsError::TooFew { needed: 1, got: 0 });
    }
    Ok(())
}

/// `conf_level` must be a probability strictly between 0 and 1.
fn check_level(conf_level: f64) -> StatsResult<()> {
    if conf_level > 0.0 && conf_level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Invalid(format!(
            "confidence level {conf_level} is not between 0 and 1"
        )))
    }
}

/// −0.0 becomes +0.0, so that sorting with `total_cmp` treats the two as one time.
fn normalise(t: f64) -> f64 {
    t + 0.0
}
