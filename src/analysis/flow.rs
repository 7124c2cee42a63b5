//! Participant flow (CONSORT-style) per primary outcome and arm: assigned (or eligible),
//! with the outcome observed, and analysed in the headline estimate, with the reasons
//! for the units in between. Made after disclosure control from published numbers
//! only (arm sizes, the arms' summaries and the headline estimates' group sizes), so it
//! reveals nothing the other tables withhold; a count that only a subtraction of
//! published numbers gives is shown only when it is 0 or at least the threshold.
//!
//! Whether a unit started the programme is not recorded in the pilots' data; `started`
//! is null and the report says so.

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
    /// Units that started the programme: not recorded in the data (null).
    pub started: Option<usize>,
    /// Units with the outcome observed.
    pub followed_up: Option<usize>,
    /// Units in the headline estimate of the whole sample.
    pub analysed: Option<usize>,
    pub missing: FlowMissing,
}

/// The flow of every primary outcome (of every outcome without a primary one) whose
/// arms are summarised on the whole sample.
pub fn flow(r: &PilotResults) -> Vec<FlowRow> {
    let any_primary = r.outcomes.iter().any(|o| o.primary);
    let k = r.disclosure.applied.then_some(r.disclosure.threshold);
    let safe = |n: usize| k.is_none_or(|k| n == 0 || n >= k);
    let mut out = Vec::new();
    for o in r.outcomes.iter().filter(|o| o.primary || !any_primary) {
        for a in &r.arms {
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
            out.push(FlowRow {
                outcome: o.id.clone(),
                arm: a.value.clone(),
                assigned: a.n_rows,
                started: None,
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
