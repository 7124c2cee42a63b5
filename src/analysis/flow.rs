//! Participant flow (CONSORT-style) per primary outcome and arm: assigned (or eligible),
//! with the outcome observed, and analysed in the headline estimate, with the reasons
//! for the units in between. Made after disclosure control from published numbers
//! only (arm sizes, the arms' summaries and the headline estimates' group sizes), so it
//! reveals nothing the other tables withhold; a count that only a subtraction of
//! published numbers gives is shown only when it is 0 or at least the threshold.
//!
//! Whether a unit started the programme comes from the config's `data.started` column
//! (1 started, 0 did not, empty unknown); without it `started` is null and the report
//! says the step is not recorded. These counts appear nowhere else, so each is
//! published when it and the rest of its arm (assigned minus it) are 0 or at least the
//! threshold.

use serde::Serialize;

use super::{POOLED, PilotResults};

/// The units missing between assignment and analysis, by reason; null where withheld.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowMissing {
    /// No observed outcome.
    pub no_outcome: Option<usize>,
    /// Outcome observed but a covariate missing (left out of the adjusted estimate).
    pub missing_covariate: Option<usize>,
    /// Outcome observed but no cluster id (left out of the cluster-robust estimate).
    pub missing_cluster: Option<usize>,
    /// Outcome observed but not in the headline estimate for another reason (an outcome
    /// read off a censored time: follow-up ended before the horizon).
    pub other: Option<usize>,
}

/// One arm's flow for one primary outcome.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowRow {
    pub outcome: String,
    pub arm: String,
    /// Rows (units) of the arm in the data: assigned, or eligible without a lottery.
    pub assigned: Option<usize>,
    /// Units that started the programme (or the condition) of their arm; null when the
    /// data do not record it or when withheld.
    pub started: Option<usize>,
    /// Units recorded as not having started; null as `started`.
    pub not_started: Option<usize>,
    /// Units for whom starting is not recorded (empty in the column); null as `started`.
    pub started_unknown: Option<usize>,
    /// Whether the data record who started (`data.started`); when true, a null
    /// `started` is withheld, not missing.
    pub started_recorded: bool,
    /// Units with the outcome observed.
    pub followed_up: Option<usize>,
    /// Units in the headline estimate of the whole sample.
    pub analysed: Option<usize>,
    pub missing: FlowMissing,
}

/// One arm's count of starters from the data, before disclosure control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartedCount {
    pub started: usize,
    pub not_started: usize,
    pub unknown: usize,
}

impl StartedCount {
    /// Count the `started` column per arm (`arm` per row, `n_arms` arms).
    pub fn per_arm(arm: &[u16], started: &[Option<bool>], n_arms: usize) -> Vec<Self> {
        let mut out = vec![Self::default(); n_arms];
        for (&a, s) in arm.iter().zip(started) {
            let c = &mut out[usize::from(a)];
            match s {
                Some(true) => c.started += 1,
                Some(false) => c.not_started += 1,
                None => c.unknown += 1,
            }
        }
        out
    }
}

/// The published starter counts of an arm with `assigned` units published: `started`
/// when it and the rest are safe, the split of the rest when both its parts are too.
fn published_started(
    c: Option<StartedCount>,
    assigned: Option<usize>,
    safe: impl Fn(usize) -> bool,
) -> (Option<usize>, Option<usize>, Option<usize>) {
    let (Some(c), Some(_)) = (c, assigned) else {
        return (None, None, None);
    };
    let rest = c.not_started + c.unknown;
    if !(safe(c.started) && safe(rest)) {
        return (None, None, None);
    }
    if safe(c.not_started) && safe(c.unknown) {
        (Some(c.started), Some(c.not_started), Some(c.unknown))
    } else {
        (Some(c.started), None, None)
    }
}

/// The flow of every primary outcome (of every outcome without a primary one) whose
/// arms are summarised on the whole sample; `started` holds each arm's starter counts
/// (in the order of `r.arms`) when the data record them.
pub fn flow(r: &PilotResults, started: Option<&[StartedCount]>) -> Vec<FlowRow> {
    let any_primary = r.outcomes.iter().any(|o| o.primary);
    let k = r.disclosure.applied.then_some(r.disclosure.threshold);
    let safe = |n: usize| k.is_none_or(|k| n == 0 || n >= k);
    let started_data = started.is_some();
    let mut out = Vec::new();
    for o in r.outcomes.iter().filter(|o| o.primary || !any_primary) {
        for (ai, a) in r.arms.iter().enumerate() {
            let Some(s) = r.arm_summary(&o.id, POOLED, &a.value) else {
                continue;
            };
            let followed_up = s.n.filter(|_| !s.suppressed);
            let analysed = r
                .estimates
                .iter()
                .filter(|e| e.outcome == o.id && e.subset == POOLED && e.headline)
                .find_map(|e| {
                    if e.treated == a.value {
                        e.n_treated
                    } else if e.control == a.value {
                        e.n_control
                    } else {
                        None
                    }
                });
            let missing_covariate = s.n_missing_covariates;
            let missing_cluster = s.n_missing_cluster.flatten();
            let other = match (followed_up, analysed) {
                (Some(f), Some(n)) => {
                    let known = missing_covariate.unwrap_or(0) + missing_cluster.unwrap_or(0);
                    f.checked_sub(n + known).filter(|&d| safe(d))
                }
                _ => None,
            };
            let (started, not_started, started_unknown) =
                published_started(started.and_then(|c| c.get(ai).copied()), a.n_rows, safe);
            out.push(FlowRow {
                outcome: o.id.clone(),
                arm: a.value.clone(),
                assigned: a.n_rows,
                started,
                not_started,
                started_unknown,
                started_recorded: started_data,
                followed_up,
                analysed,
                missing: FlowMissing {
                    no_outcome: s.n_missing,
                    missing_covariate,
                    missing_cluster,
                    other,
                },
            });
        }
    }
    out
}
