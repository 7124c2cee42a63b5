//! Statistical disclosure control of results, on by default.
//!
//! The rule, as secure research environments (CBS Remote Access) apply it to output:
//! no count, percentage, mean, dispersion or chart element may rest on fewer than
//! `threshold` persons (10 by default, never below [`MIN_THRESHOLD`]), and a withheld
//! number must not be recoverable from totals or from other published numbers. Here:
//! - **primary suppression** of an arm summary when it has fewer than `threshold`
//!   units with an observed outcome, or, when the outcome takes at most two values
//!   (yes/no, whatever kind it was declared), fewer than `threshold` at either value
//!   (a share of 3 out of 40 rests on 3 persons); a count of missing outcomes (or
//!   covariates, or cluster ids) from 1 to `threshold − 1` is withheld on its own;
//! - **secondary suppression, by sums.** Published counts are tied by sums: the data's
//!   rows are the arms' rows; an arm's rows are, per outcome, the units with and
//!   without an observed outcome; a pooled count is the sum of the projects' counts; an
//!   estimate's arm size is the arm's count less the units it leaves out; an arm's
//!   events and censorings make its size. Whenever such a sum has exactly one unknown
//!   term that must stay unknown (a withheld count, or an unpublished difference from
//!   1 to `threshold − 1`), one more of its terms is withheld: first the totals
//!   (`n_rows`, `n_units`), then an arm's rows, an estimate's arm size, a missing
//!   count, the events, and last a whole arm summary; the smallest first. This repeats
//!   until no sum gives anything back, so a total minus the published parts never
//!   yields a withheld number, within one output or across runs that compare other
//!   arms (each run protects its own sums, and the cells are the same in every run);
//! - **projects**: when exactly one project's summary of an arm is withheld while the
//!   pooled one is published, the next smallest project's summary is withheld too (the
//!   pooled mean is a weighted sum of the projects' means);
//! - every estimate and test of a comparison with a withheld arm is withheld (the
//!   difference plus the other arm would give the withheld mean back), as are
//!   estimates and tests with fewer than `threshold` units in an arm;
//! - **time to event**: an arm with fewer than `threshold` units or events loses its
//!   curve, median and counts (and so does an arm whose summary is withheld). A
//!   published curve stops before fewer than `threshold` are at risk, and its steps
//!   are merged until each rests on at least `threshold` events (so no step shows one
//!   person's event); censoring marks (single persons' follow-up times) are left out.
//!   Survival at a reporting time is withheld where fewer than `threshold` are at
//!   risk then, or where it differs from the last published one by the events of 1 to
//!   `threshold − 1` persons. A median (and its interval) is
//!   published only where at least `threshold` are at risk at that time. Numbers at
//!   risk are published only when they, and their drop since the last published
//!   number, are 0 or at least `threshold`. The default RMST horizon is a round time
//!   at which at least `threshold` units of every arm are still followed.
//!
//! Withheld numbers become null in JSON and CSV and read "suppressed" in reports and
//! charts, never zero. Person identifiers never reach any output: the analysis reads
//! the id column only to join panel data.
//!
//! Degrees of freedom of an estimate whose arm sizes are withheld are withheld too
//! (null): residual df are n − p.
//!
//! Known limits: the rule holds within one output and for the totals across runs. The
//! t quantile behind a published interval could in principle be solved for its df,
//! and so for n − p, where an arm size is withheld as a secondary cell; the sizes
//! withheld that way are at least `threshold`, and what they protect (1 to
//! `threshold − 1` units missing a covariate or a cluster id) carries no outcome. A
//! user who asks for survival at many different times in many runs (`--at`) can see
//! when the published curve steps; each step rests on `threshold` events.

use serde::Serialize;

use super::{POOLED, PilotResults};
use crate::error::{Error, Result};

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

/// The lowest threshold accepted. Below it a published number could rest on one to
/// four persons, which no secure environment allows; work that needs that runs inside
/// one with `--no-disclosure-control`, which stamps every output.
pub const MIN_THRESHOLD: usize = 5;

/// A disclosure threshold of at least [`MIN_THRESHOLD`] persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(usize);

impl Threshold {
    pub fn new(k: usize) -> Result<Self> {
        if k < MIN_THRESHOLD {
            return Err(Error::usage(format!(
                "--disclosure-threshold {k} is below the lowest threshold accepted ({MIN_THRESHOLD}): \
                 numbers resting on fewer persons may not leave a secure environment. Use a \
                 threshold of {MIN_THRESHOLD} or more (10 is the usual rule), or, inside a secure \
                 environment only, --no-disclosure-control (which stamps every output)"
            )));
        }
        Ok(Self(k))
    }
    pub fn get(self) -> usize {
        self.0
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Self(DEFAULT_THRESHOLD)
    }
}

/// Whether results are protected: the required argument of [`super::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Disclosure control with a threshold (the default: 10 persons).
    Control(Threshold),
    /// No disclosure control: for work inside a secure environment; every output says so.
    Off,
}

impl Default for Privacy {
    fn default() -> Self {
        Self::Control(Threshold::default())
    }
}

impl Privacy {
    /// From the command-line flags: `--no-disclosure-control` wins; otherwise the
    /// threshold must be at least [`MIN_THRESHOLD`].
    pub fn from_flags(no_control: bool, threshold: usize) -> Result<Self> {
        if no_control {
            Ok(Self::Off)
        } else {
            Threshold::new(threshold).map(Self::Control)
        }
    }
    /// The threshold in persons; None without disclosure control.
    pub fn threshold(self) -> Option<usize> {
        match self {
            Self::Control(t) => Some(t.get()),
            Self::Off => None,
        }
    }
    /// Units a default time horizon needs at risk in every arm: the threshold, or the
    /// default one without control (so the horizon does not depend on the flag).
    pub fn min_persons(self) -> usize {
        match self {
            Self::Control(t) => t.get(),
            Self::Off => DEFAULT_THRESHOLD,
        }
    }
}

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

/// Protect `r` in place as `privacy` says, and stamp it.
pub(crate) fn protect(r: &mut PilotResults, privacy: Privacy) {
    match privacy {
        Privacy::Off => r.disclosure = Disclosure::off(),
        Privacy::Control(t) => apply(r, t.get()),
    }
}

fn small(n: usize, k: usize) -> bool {
    n < k
}

/// A count that must not be published: 1 to k − 1 persons (0 persons is no one).
fn sensitive(n: usize, k: usize) -> bool {
    n > 0 && n < k
}

/// One published count, by where it sits in the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Rows,
    Units,
    ArmRows(usize),
    /// Estimate `i`'s treated and control sizes.
    Treated(usize),
    Control(usize),
    /// Summary `i`'s missing outcomes, missing covariates and missing cluster ids.
    Missing(usize),
    MissingCovariates(usize),
    MissingCluster(usize),
    /// Survival summary `i`'s events.
    Events(usize),
    /// Summary `i`'s units with an observed outcome (withheld with the whole summary).
    Observed(usize),
}

impl Cell {
    /// Which count to withhold first when a sum must lose one more published term:
    /// totals before parts, the arm summaries last.
    fn rank(self) -> u8 {
        match self {
            Cell::Rows | Cell::Units => 0,
            Cell::ArmRows(_) => 1,
            Cell::Treated(_) | Cell::Control(_) => 2,
            Cell::Missing(_) | Cell::MissingCovariates(_) | Cell::MissingCluster(_) => 3,
            Cell::Events(_) => 4,
            Cell::Observed(_) => 5,
        }
    }

    fn get(self, r: &PilotResults) -> Option<usize> {
        match self {
            Cell::Rows => r.n_rows,
            Cell::Units => r.n_units,
            Cell::ArmRows(a) => r.arms[a].n_rows,
            Cell::Treated(i) => r.estimates[i].n_treated,
            Cell::Control(i) => r.estimates[i].n_control,
            Cell::Missing(i) => r.arm_summaries[i].n_missing,
            Cell::MissingCovariates(i) => r.arm_summaries[i].n_missing_covariates,
            Cell::MissingCluster(i) => r.arm_summaries[i].n_missing_cluster.flatten(),
            Cell::Events(i) => r.survival[i].events,
            Cell::Observed(i) => {
                let s = &r.arm_summaries[i];
                s.n.filter(|_| !s.suppressed)
            }
        }
    }

    fn hide(self, r: &mut PilotResults) {
        match self {
            Cell::Rows => r.n_rows = None,
            Cell::Units => r.n_units = None,
            Cell::ArmRows(a) => r.arms[a].n_rows = None,
            Cell::Treated(i) => r.estimates[i].n_treated = None,
            Cell::Control(i) => r.estimates[i].n_control = None,
            Cell::Missing(i) => r.arm_summaries[i].n_missing = None,
            Cell::MissingCovariates(i) => r.arm_summaries[i].n_missing_covariates = None,
            Cell::MissingCluster(i) => withhold_cluster_count(&mut r.arm_summaries[i]),
            Cell::Events(i) => r.survival[i].events = None,
            Cell::Observed(i) => r.arm_summaries[i].suppressed = true,
        }
    }
}

/// Withhold a summary's count of units without a cluster id (null, where the field is
/// present at all).
fn withhold_cluster_count(s: &mut super::ArmSummaryRow) {
    if let Some(c) = &mut s.n_missing_cluster {
        *c = None;
    }
}

/// `whole = Σ parts + rest`, where `rest ≥ 0` is not published.
struct Sum {
    whole: Cell,
    parts: Vec<Cell>,
    rest: usize,
}

/// Every sum that holds among the unprotected counts of `r`.
fn sums(r: &PilotResults) -> Vec<Sum> {
    let mut out = Vec::new();
    let mut add = |whole: Cell, parts: Vec<Cell>| {
        let (Some(w), Some(p)) = (
            whole.get(r),
            parts.iter().map(|c| c.get(r)).sum::<Option<usize>>(),
        ) else {
            return;
        };
        if w >= p {
            out.push(Sum {
                whole,
                parts,
                rest: w - p,
            });
        }
    };
    let arms: Vec<Cell> = (0..r.arms.len()).map(Cell::ArmRows).collect();
    add(Cell::Rows, arms.clone());
    add(Cell::Units, arms);
    add(Cell::Units, vec![Cell::Rows]);
    add(Cell::Rows, vec![Cell::Units]);
    let summary =
        |outcome: &str, subset: &str, arm: &str| r.arm_summary_index(outcome, subset, arm);
    for (i, s) in r.arm_summaries.iter().enumerate() {
        let with_missing = vec![Cell::Observed(i), Cell::Missing(i)];
        if s.subset == POOLED {
            if let Some(a) = r.arms.iter().position(|a| a.value == s.arm) {
                add(Cell::ArmRows(a), with_missing.clone());
            }
            // Aggregated data: the persons described, per outcome.
            let all: Vec<Cell> = r
                .arm_summaries
                .iter()
                .enumerate()
                .filter(|(_, t)| t.outcome == s.outcome && t.subset == POOLED)
                .flat_map(|(j, _)| [Cell::Observed(j), Cell::Missing(j)])
                .collect();
            add(Cell::Units, all);
            // Pooled = the projects' sum.
            let projects: Vec<usize> = r
                .arm_summaries
                .iter()
                .enumerate()
                .filter(|(_, t)| t.outcome == s.outcome && t.arm == s.arm && t.subset != POOLED)
                .map(|(j, _)| j)
                .collect();
            if !projects.is_empty() {
                add(
                    Cell::Observed(i),
                    projects.iter().map(|&j| Cell::Observed(j)).collect(),
                );
                add(
                    Cell::Missing(i),
                    projects.iter().map(|&j| Cell::Missing(j)).collect(),
                );
                add(
                    Cell::MissingCluster(i),
                    projects.iter().map(|&j| Cell::MissingCluster(j)).collect(),
                );
            }
        }
    }
    for (i, e) in r.estimates.iter().enumerate() {
        for (arm, cell) in [
            (&e.treated, Cell::Treated(i)),
            (&e.control, Cell::Control(i)),
        ] {
            let Some(j) = summary(&e.outcome, &e.subset, arm) else {
                continue;
            };
            add(Cell::Observed(j), vec![cell]);
            add(cell, vec![Cell::Observed(j)]);
            add(Cell::Observed(j), vec![cell, Cell::MissingCovariates(j)]);
            add(Cell::Observed(j), vec![cell, Cell::MissingCluster(j)]);
            add(
                Cell::Observed(j),
                vec![cell, Cell::MissingCovariates(j), Cell::MissingCluster(j)],
            );
        }
    }
    for (i, s) in r.survival.iter().enumerate() {
        if let Some(j) = summary(&s.outcome, &s.subset, &s.arm) {
            add(Cell::Observed(j), vec![Cell::Events(i)]);
        }
        if s.subset == POOLED {
            let projects: Vec<Cell> = r
                .survival
                .iter()
                .enumerate()
                .filter(|(_, t)| t.outcome == s.outcome && t.arm == s.arm && t.subset != POOLED)
                .map(|(j, _)| Cell::Events(j))
                .collect();
            if !projects.is_empty() {
                add(Cell::Events(i), projects);
            }
        }
    }
    out
}

/// Every count cell of `r`.
fn cells(r: &PilotResults) -> Vec<Cell> {
    let mut out = vec![Cell::Rows, Cell::Units];
    out.extend((0..r.arms.len()).map(Cell::ArmRows));
    for i in 0..r.estimates.len() {
        out.extend([Cell::Treated(i), Cell::Control(i)]);
    }
    for i in 0..r.arm_summaries.len() {
        out.extend([
            Cell::Observed(i),
            Cell::Missing(i),
            Cell::MissingCovariates(i),
            Cell::MissingCluster(i),
        ]);
    }
    out.extend((0..r.survival.len()).map(Cell::Events));
    out
}

/// One round of secondary suppression by sums; true when it withheld something.
///
/// `protected` holds the counts whose value must stay unknown: those of 1 to k − 1
/// persons and those withheld to protect them. A count withheld only as part of a
/// withheld row (the control arm's size in a withheld comparison, the size of an arm
/// whose share is withheld) is not secret, and is taken as known.
fn secondary_by_sums(
    r: &mut PilotResults,
    sums: &[Sum],
    protected: &mut Vec<Cell>,
    k: usize,
) -> bool {
    let mut changed = false;
    for s in sums {
        let terms: Vec<Cell> = std::iter::once(s.whole)
            .chain(s.parts.iter().copied())
            .collect();
        let secret = terms.iter().filter(|c| protected.contains(c)).count()
            + usize::from(sensitive(s.rest, k));
        let unknown = secret + usize::from(s.rest >= k);
        // One unknown term follows from the others: a leak when it is secret.
        if !(unknown == 1 && secret == 1) {
            continue;
        }
        // Protect one more term: one already withheld costs nothing; else the first
        // in rank, the smallest first.
        let victim = terms
            .iter()
            .copied()
            .filter(|c| !protected.contains(c))
            .min_by_key(|&c| match c.get(r) {
                None => (0, 0, 0),
                Some(v) => (1, c.rank(), v),
            });
        if let Some(v) = victim {
            v.hide(r);
            protected.push(v);
            changed = true;
        }
    }
    changed
}

/// Secondary suppression across projects: never exactly one withheld project summary
/// per outcome and arm beside a published pooled one.
fn secondary_by_projects(r: &mut PilotResults) -> bool {
    let keys: Vec<(String, String)> = r
        .arm_summaries
        .iter()
        .map(|s| (s.outcome.clone(), s.arm.clone()))
        .collect();
    let mut changed = false;
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
            changed = true;
        }
    }
    changed
}

/// Blank withheld summaries and the survival summaries and comparisons that rest on
/// them; true when something new was withheld.
fn follow_summaries(r: &mut PilotResults, k: usize) -> bool {
    let mut changed = false;
    for s in &mut r.arm_summaries {
        if s.suppressed && (s.n.is_some() || !s.mean.is_nan()) {
            s.n = None;
            s.n_missing = None;
            s.n_missing_covariates = None;
            withhold_cluster_count(s);
            s.mean = f64::NAN;
            s.sd = None;
            s.ci_low = f64::NAN;
            s.ci_high = f64::NAN;
            changed = true;
        }
    }
    // Survival summaries follow their arm's summary (the RMST row).
    for i in 0..r.survival.len() {
        let s = &r.survival[i];
        let summary_hidden = r
            .arm_summary(&s.outcome, &s.subset, &s.arm)
            .is_none_or(|a| a.suppressed);
        let s = &mut r.survival[i];
        let too_few = s.n.is_none_or(|n| small(n, k)) || s.events.is_some_and(|e| small(e, k));
        if (summary_hidden || too_few) && !s.suppressed {
            s.suppressed = true;
            changed = true;
        }
        if s.suppressed {
            s.n = None;
            s.events = None;
            s.curve.clear();
            s.at.clear();
            s.median = None;
            s.median_ci_low = None;
            s.median_ci_high = None;
            s.risk_table.iter_mut().for_each(|c| *c = None);
        }
    }
    // Comparisons with a withheld or small arm.
    let hidden_arm = |r: &PilotResults, outcome: &str, subset: &str, arm: &str| {
        r.arm_summary(outcome, subset, arm)
            .is_some_and(|s| s.suppressed)
    };
    let mut hide_cmp = Vec::new();
    for e in &r.estimates {
        let small_arm =
            e.n_treated.is_some_and(|n| small(n, k)) || e.n_control.is_some_and(|n| small(n, k));
        if (small_arm
            || hidden_arm(r, &e.outcome, &e.subset, &e.treated)
            || hidden_arm(r, &e.outcome, &e.subset, &e.control))
            && !e.suppressed
        {
            hide_cmp.push((e.outcome.clone(), e.subset.clone(), e.treated.clone()));
        }
    }
    let hide_cmp = dedup(hide_cmp);
    let is_hidden =
        |o: &str, s: &str, t: &str| hide_cmp.iter().any(|(a, b, c)| a == o && b == s && c == t);
    for e in &mut r.estimates {
        if is_hidden(&e.outcome, &e.subset, &e.treated) {
            changed = true;
            e.suppressed = true;
            e.withhold_numbers();
        }
    }
    for t in &mut r.tests {
        if is_hidden(&t.outcome, &t.subset, &t.treated) && !t.suppressed {
            t.suppressed = true;
            t.statistic = None;
            t.p_value = f64::NAN;
        }
    }
    changed
}

/// Apply disclosure control with threshold `k` to the results in place.
fn apply(r: &mut PilotResults, k: usize) {
    // The sums, and the counts of 1 to k − 1 persons, are read off the counts before
    // anything is withheld.
    let sums = sums(r);
    let mut protected: Vec<Cell> = cells(r)
        .into_iter()
        .filter(|c| c.get(r).is_some_and(|v| sensitive(v, k)))
        .collect();
    // Primary suppression of arm summaries and of small counts.
    for s in &mut r.arm_summaries {
        let n = s.n.unwrap_or(0);
        let mut hide = small(n, k);
        if let Some((a, b)) = s.value_counts {
            hide |= small(a, k) || small(b, k);
        } else if s.ci_method == "wilson" {
            let events = (s.mean * n as f64).round() as usize;
            hide |= small(events, k) || small(n.saturating_sub(events), k);
        }
        if hide {
            s.suppressed = true;
        }
        for m in [&mut s.n_missing, &mut s.n_missing_covariates] {
            if m.is_some_and(|m| sensitive(m, k)) {
                *m = None;
            }
        }
        if s.n_missing_cluster
            .flatten()
            .is_some_and(|m| sensitive(m, k))
        {
            withhold_cluster_count(s);
        }
    }
    for a in &mut r.arms {
        a.n_rows = a.n_rows.filter(|&n| !sensitive(n, k));
    }
    r.n_rows = r.n_rows.filter(|&n| !sensitive(n, k));
    r.n_units = r.n_units.filter(|&n| !sensitive(n, k));
    // Secondary suppression until nothing more follows.
    loop {
        let mut changed = secondary_by_projects(r);
        changed |= follow_summaries(r, k);
        changed |= secondary_by_sums(r, &sums, &mut protected, k);
        if !changed {
            break;
        }
    }
    for s in &mut r.survival {
        if !s.suppressed {
            protect_curve(s, k);
        }
    }
    // Residual degrees of freedom (n − p) would give a withheld arm size back.
    for e in &mut r.estimates {
        if e.n_treated.is_none() || e.n_control.is_none() {
            e.df = e.df.map(|_| f64::NAN);
        }
        // A withheld weighting estimate keeps no E-value, balance or effective sizes.
        if e.suppressed || e.n_treated.is_none() || e.n_control.is_none() {
            e.e_value = None;
            e.e_value_ci = None;
            e.balance.clear();
            e.effective_n = None;
            e.propensity_bins = None;
            e.rosenbaum_gamma = None;
        }
    }
    protect_balance(r, k);
    for t in &mut r.tests {
        if t.suppressed {
            t.df = t.df.map(|_| f64::NAN);
        }
    }
    r.disclosure = Disclosure {
        applied: true,
        threshold: k,
        suppressed_summaries: r.arm_summaries.iter().filter(|s| s.suppressed).count(),
        suppressed_estimates: r.estimates.iter().filter(|e| e.suppressed).count()
            + r.tests.iter().filter(|t| t.suppressed).count(),
    };
}

/// Balance rows of weighting estimates: the unweighted mean of a 0/1 covariate in an
/// arm is a count of persons divided by the arm's size, so it is withheld when that
/// count, or the count of the other level, is between 1 and k − 1. Rows of withheld
/// estimates carry no balance at all (above).
fn protect_balance(r: &mut PilotResults, k: usize) {
    // A matched estimate counts the matched persons: the arm's size minus that count
    // (the unmatched) must not be a small number.
    for i in 0..r.estimates.len() {
        let e = &r.estimates[i];
        if e.estimator != "matching_att" {
            continue;
        }
        let all = |arm: &str| r.arm_summary(&e.outcome, &e.subset, arm).and_then(|s| s.n);
        let (a1, a0) = (all(&e.treated), all(&e.control));
        let gap = |all: Option<usize>, n: Option<usize>| match (all, n) {
            (Some(a), Some(n)) => sensitive(a.saturating_sub(n), k),
            (None, _) => true,
            _ => false,
        };
        let (h1, h0) = (gap(a1, e.n_treated), gap(a0, e.n_control));
        let e = &mut r.estimates[i];
        if h1 {
            e.n_treated = None;
        }
        if h0 {
            e.n_control = None;
        }
        if h1 || h0 {
            e.df = e.df.map(|_| f64::NAN);
        }
    }
    for e in &mut r.estimates {
        let (Some(n1), Some(n0)) = (e.n_treated, e.n_control) else {
            continue;
        };
        if let Some(pb) = &mut e.propensity_bins {
            protect_bins(&mut pb.treated, k);
            protect_bins(&mut pb.control, k);
            pb.treated_outside_support = pb
                .treated_outside_support
                .filter(|&c| !sensitive(c, k) && !sensitive(n1 - c.min(n1), k));
        }
        for b in e.balance.iter_mut().filter(|b| b.binary) {
            let risky = |m: Option<f64>, n: usize| {
                m.is_some_and(|m| {
                    let ones = (m * n as f64).round() as usize;
                    sensitive(ones, k) || sensitive(n.saturating_sub(ones), k)
                })
            };
            if risky(b.mean_treated, n1) {
                b.mean_treated = None;
            }
            if risky(b.mean_control, n0) {
                b.mean_control = None;
            }
            // The weighted means, the standardised differences and the variance
            // ratios of a 0/1 covariate are functions of its shares in the two arms
            // (after entropy balancing the weighted comparison share is the
            // participants' share itself): with a share withheld they are withheld too.
            if b.mean_treated.is_none() || b.mean_control.is_none() {
                b.mean_treated_weighted = None;
                b.mean_control_weighted = None;
                b.smd_before = None;
                b.smd_after = None;
                b.variance_ratio_before = None;
                b.variance_ratio_after = None;
            }
        }
    }
}

/// Counts of one arm in bins whose total (the arm's size) is published: counts of 1 to
/// k − 1 are withheld, and when that withholds exactly one bin the smallest other
/// non-zero count is withheld too, so the arm's size minus the rest does not give it
/// back.
fn protect_bins(counts: &mut [Option<usize>], k: usize) {
    for c in counts.iter_mut() {
        if c.is_some_and(|v| sensitive(v, k)) {
            *c = None;
        }
    }
    if counts.iter().filter(|c| c.is_none()).count() == 1
        && let Some(i) = (0..counts.len())
            .filter(|&i| counts[i].is_some_and(|v| v > 0))
            .min_by_key(|&i| counts[i])
    {
        counts[i] = None;
    }
}

/// The number at risk at `t` on a full curve: at the first event time at or after
/// `t` (a lower bound between event times), 0 after the last event.
fn at_risk_at(curve: &[super::survival::SurvivalPoint], t: f64) -> usize {
    curve
        .iter()
        .find(|p| p.time >= t)
        .and_then(|p| p.at_risk)
        .unwrap_or(0)
}

/// Numbers at risk in time order: each published only when it, and its drop since
/// the last published number (starting from the arm's `n`), is 0 or at least `k`.
fn protect_at_risk<'a>(n: usize, counts: impl Iterator<Item = &'a mut Option<usize>>, k: usize) {
    let mut last = n;
    for c in counts {
        *c = c.filter(|&v| {
            let drop = last.saturating_sub(v);
            !small(v, k) && !sensitive(drop, k)
        });
        if let Some(v) = *c {
            last = v;
        }
    }
}

/// The published form of one arm's curve, reporting times, median and at-risk table.
fn protect_curve(s: &mut super::survival::SurvivalSummary, k: usize) {
    s.censored.clear();
    let full = std::mem::take(&mut s.curve);
    // Steps merged until each rests on at least k events; the curve stops before
    // fewer than k are at risk.
    let mut pending = 0;
    for p in &full {
        if p.at_risk.is_none_or(|a| small(a, k)) {
            break;
        }
        pending += p.events;
        if pending >= k {
            s.curve.push(super::survival::SurvivalPoint {
                at_risk: None,
                ..*p
            });
            pending = 0;
        }
    }
    // Survival at the reporting times: where at least k are at risk, and the events
    // since the last published time are none or at least k (so two published values
    // never differ by the events of fewer than k persons).
    let mut pending = 0;
    for p in &mut s.at {
        pending += p.events;
        let publish = p.at_risk.is_some_and(|a| !small(a, k)) && !sensitive(pending, k);
        if publish {
            pending = 0;
        } else {
            p.survival = f64::NAN;
            p.std_error = f64::NAN;
            p.ci_low = f64::NAN;
            p.ci_high = f64::NAN;
            p.at_risk = None;
        }
    }
    let n = s.n.unwrap_or(0);
    protect_at_risk(n, s.at.iter_mut().map(|p| &mut p.at_risk), k);
    protect_at_risk(n, s.risk_table.iter_mut(), k);
    // The median and its interval, where enough are at risk.
    if let Some(m) = s.median
        && small(at_risk_at(&full, m), k)
    {
        s.median = None;
        s.median_suppressed = true;
    }
    let bound_hidden = |b: Option<f64>| b.is_some_and(|t| small(at_risk_at(&full, t), k));
    if s.median_suppressed || bound_hidden(s.median_ci_low) || bound_hidden(s.median_ci_high) {
        s.median_ci_low = None;
        s.median_ci_high = None;
        s.median_ci_suppressed = true;
    }
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
