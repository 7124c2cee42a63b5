//! Statistical disclosure control of results, on by default.
//!
//! The rule, as secure research environments (CBS Remote Access) apply it to output:
//! no count, percentage, mean, dispersion or chart element may rest on fewer than
//! `threshold` persons (10 by default), and a withheld cell must not be recoverable
//! from totals or from other published cells. Here:
//! - **primary suppression** of an arm summary when it has fewer than `threshold`
//!   units with an observed outcome, or, for a yes/no outcome, fewer than `threshold`
//!   with the outcome or without it (a share of 3 out of 40 rests on 3 persons); a
//!   count of missing outcomes from 1 to `threshold − 1` is withheld on its own;
//! - **secondary suppression**: when exactly one project's summary of an arm is
//!   withheld while the pooled one is published, the next smallest project's summary
//!   of that arm is withheld too, so the pooled total minus the others does not give it
//!   back; a withheld count also withholds the arm's missing count (observed plus
//!   missing is the arm's size);
//! - every estimate and test of a comparison with a withheld arm is withheld (the
//!   difference plus the other arm would give the withheld mean back), as are
//!   estimates and tests with fewer than `threshold` units in an arm;
//! - Kaplan-Meier curves stop before the number at risk falls below `threshold`,
//!   censoring marks (single persons' follow-up times) are left out, at-risk counts
//!   below the threshold are withheld, and an arm with fewer than `threshold` units or
//!   events loses its curve and median;
//! - arm sizes below the threshold in the overview are withheld.
//!
//! Withheld numbers become null in JSON and CSV and read "suppressed" in reports and
//! charts, never zero. Person identifiers never reach any output: the analysis reads
//! the id column only to join panel data.

use serde::Serialize;

use super::{POOLED, PilotResults};

/// What disclosure control did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Disclosure {
    /// False only with `--no-disclosure-control` (then every output is stamped).
    pub applied: bool,
    /// Minimum number of persons behind any published number.
    pub threshold: usize,
    /// Arm summaries withheld (primary and secondary).
    pub suppressed_summaries: usize,
    /// Estimates and tests withheld.
    pub suppressed_estimates: usize,
}

/// The default minimum number of persons behind a published number.
pub const DEFAULT_THRESHOLD: usize = 10;

impl Disclosure {
    pub fn off() -> Self {
        Self {
            applied: false,
            threshold: 0,
            suppressed_summaries: 0,
            suppressed_estimates: 0,
        }
    }
}

fn small(n: usize, k: usize) -> bool {
    n < k
}

/// Apply disclosure control with `threshold` to the results in place.
pub fn apply(r: &mut PilotResults, threshold: usize) {
    let k = threshold;
    let mut n_summaries = 0;
    // Primary suppression of arm summaries.
    for s in &mut r.arm_summaries {
        let n = s.n.unwrap_or(0);
        let mut hide = small(n, k);
        if s.ci_method == "wilson" {
            let events = (s.mean * n as f64).round() as usize;
            hide |= small(events, k) || small(n.saturating_sub(events), k);
        }
        if hide {
            s.suppressed = true;
        }
        for m in [&mut s.n_missing, &mut s.n_missing_covariates] {
            if m.is_some_and(|m| m > 0 && small(m, k)) {
                *m = None;
            }
        }
    }
    // Secondary suppression across projects: never exactly one withheld project
    // summary per outcome and arm beside a published pooled one.
    let keys: Vec<(String, String)> = r
        .arm_summaries
        .iter()
        .map(|s| (s.outcome.clone(), s.arm.clone()))
        .collect();
    for (outcome, arm) in dedup(keys) {
        let idx: Vec<usize> = r
            .arm_summaries
            .iter()
            .enumerate()
            .filter(|(_, s)| s.outcome == outcome && s.arm == arm && s.subset != POOLED)
            .map(|(i, _)| i)
            .collect();
        let pooled_shown = r
            .arm_summaries
            .iter()
            .any(|s| s.outcome == outcome && s.arm == arm && s.subset == POOLED && !s.suppressed);
        let hidden = idx
            .iter()
            .filter(|&&i| r.arm_summaries[i].suppressed)
            .count();
        if hidden == 1
            && pooled_shown
            && let Some(&j) = idx
                .iter()
                .filter(|&&i| !r.arm_summaries[i].suppressed)
                .min_by_key(|&&i| r.arm_summaries[i].n.unwrap_or(0))
        {
            r.arm_summaries[j].suppressed = true;
        }
    }
    for s in &mut r.arm_summaries {
        if s.suppressed {
            n_summaries += 1;
            s.n = None;
            s.n_missing = None;
            s.n_missing_covariates = None;
            s.mean = f64::NAN;
            s.sd = None;
            s.ci_low = f64::NAN;
            s.ci_high = f64::NAN;
        }
    }
    // Estimates and tests of comparisons with a withheld or small arm.
    let hidden_arm = |r: &PilotResults, outcome: &str, subset: &str, arm: &str| {
        r.arm_summaries
            .iter()
            .any(|s| s.outcome == outcome && s.subset == subset && s.arm == arm && s.suppressed)
    };
    let mut hide_cmp = Vec::new();
    for e in &r.estimates {
        let small_arm =
            e.n_treated.is_some_and(|n| small(n, k)) || e.n_control.is_some_and(|n| small(n, k));
        if small_arm
            || hidden_arm(r, &e.outcome, &e.subset, &e.treated)
            || hidden_arm(r, &e.outcome, &e.subset, &e.control)
        {
            hide_cmp.push((e.outcome.clone(), e.subset.clone(), e.treated.clone()));
        }
    }
    let hide_cmp = dedup(hide_cmp);
    let is_hidden =
        |o: &str, s: &str, t: &str| hide_cmp.iter().any(|(a, b, c)| a == o && b == s && c == t);
    let mut n_estimates = 0;
    for e in &mut r.estimates {
        if is_hidden(&e.outcome, &e.subset, &e.treated) {
            n_estimates += 1;
            e.suppressed = true;
            e.estimate = f64::NAN;
            e.std_error = f64::NAN;
            e.statistic = f64::NAN;
            e.ci_low = f64::NAN;
            e.ci_high = f64::NAN;
            e.p_value = f64::NAN;
            e.p_value_adjusted = e.p_value_adjusted.map(|_| f64::NAN);
            e.n_treated = None;
            e.n_control = None;
        } else {
            e.n_treated = e.n_treated.filter(|&n| !small(n, k));
            e.n_control = e.n_control.filter(|&n| !small(n, k));
        }
    }
    for t in &mut r.tests {
        if is_hidden(&t.outcome, &t.subset, &t.treated) {
            n_estimates += 1;
            t.suppressed = true;
            t.statistic = None;
            t.p_value = f64::NAN;
        }
    }
    // Survival curves.
    for s in &mut r.survival {
        s.censored.clear();
        if small(s.n, k) || small(s.events, k) {
            s.curve.clear();
            s.at.clear();
            s.median = None;
            s.median_ci_low = None;
            s.median_ci_high = None;
            s.suppressed = true;
        } else {
            if let Some(cut) = s.curve.iter().position(|p| small(p.at_risk, k)) {
                s.curve.truncate(cut);
            }
            s.at.retain(|p| !small(p.at_risk, k));
        }
        s.risk_table = s
            .risk_table
            .iter()
            .map(|c| c.filter(|&n| !small(n, k)))
            .collect();
    }
    for a in &mut r.arms {
        a.n_rows = a.n_rows.filter(|&n| !small(n, k));
    }
    r.disclosure = Disclosure {
        applied: true,
        threshold: k,
        suppressed_summaries: n_summaries,
        suppressed_estimates: n_estimates,
    };
}

fn dedup<T: PartialEq>(v: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}
