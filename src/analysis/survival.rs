//! Time-to-event outcomes in a pilot: Kaplan-Meier curves per arm (log-log intervals),
//! survival at chosen times, medians, restricted mean survival time (RMST) to a
//! horizon per arm and its difference, the log-rank test (stratified by project in a
//! pooled analysis with projects, or by block) and the Cox hazard ratio (Efron ties;
//! cluster-robust with clusters).
//!
//! The headline is the RMST difference: a difference in the outcome's own unit
//! (months, days), read with the outcome's `better` direction like every other
//! difference. For "time until work" a negative difference (less time without work)
//! is good; for "time until leaving the employer" a positive one is.

use serde::Serialize;
use std::borrow::Cow;

use super::{ArmSummaryRow, ComparisonKey, EstimateRow, Note, Scale, TestRow, Units};
use crate::config::{OutcomeSpec, PilotSpec, Text};
use crate::stats::StatsResult;
use crate::stats::ols::Clusters;
use crate::stats::survival::{self, CiTransform, Codes};

/// A point of a survival curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurvivalPoint {
    pub time: f64,
    pub survival: f64,
    /// Greenwood standard error of the survival probability.
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Units at risk just before `time`; null where disclosure control withholds it.
    pub at_risk: Option<usize>,
    /// Events at `time` (curve points), or since the previous reporting time
    /// (reporting times). Not published: disclosure control merges steps until each
    /// rests on enough events.
    #[serde(skip)]
    pub events: usize,
}

/// One arm's survival summary for one time-to-event outcome and subset.
#[derive(Debug, Clone, Serialize)]
pub struct SurvivalSummary {
    pub outcome: String,
    pub subset: String,
    pub arm: String,
    /// Units and events; null when disclosure control withholds them.
    pub n: Option<usize>,
    pub events: Option<usize>,
    /// True when disclosure control withheld the whole summary: curve, median, counts
    /// (fewer than the threshold units or events, or a withheld arm).
    pub suppressed: bool,
    /// True when disclosure control withheld the median (fewer than the threshold at
    /// risk at that time); the median is then null but was reached.
    pub median_suppressed: bool,
    /// True when disclosure control withheld the median's interval (both bounds).
    pub median_ci_suppressed: bool,
    /// Horizon of the restricted mean survival time (the arm summary's mean).
    pub horizon: f64,
    /// Median time to the event; null when the curve does not reach 0.5.
    pub median: Option<f64>,
    pub median_ci_low: Option<f64>,
    pub median_ci_high: Option<f64>,
    /// The curve at the outcome's reporting times (`at` in the config, `--at`).
    pub at: Vec<SurvivalPoint>,
    /// The whole Kaplan-Meier curve: one point per distinct event time.
    pub curve: Vec<SurvivalPoint>,
    /// (time, survival) of each censoring time, for the chart's tick marks.
    pub censored: Vec<(f64, f64)>,
    /// Times of the at-risk table (the chart's time ticks) and the number at risk then.
    pub risk_times: Vec<f64>,
    /// Null where fewer than the disclosure threshold are at risk.
    pub risk_table: Vec<Option<usize>>,
    /// Interval transform of the curve (log-log by default).
    pub ci_transform: String,
}

/// Time and event per unit (source row), validated.
pub(crate) struct TimeEvent {
    /// The source row of each unit; `None` while unit i is row i (no row left out so
    /// far), which saves 8 bytes a row on complete data.
    rows: Option<Vec<usize>>,
    pub time: Vec<f64>,
    pub event: Vec<bool>,
    /// Units whose time or event is missing, per arm index.
    pub missing_by_arm: Vec<usize>,
}

impl TimeEvent {
    /// No units yet; `arms` arms to count missing values in.
    pub(crate) fn new(arms: usize) -> Self {
        Self {
            rows: None,
            time: Vec::new(),
            event: Vec::new(),
            missing_by_arm: vec![0; arms],
        }
    }

    /// Add the unit of source row `row` (rows in increasing order).
    pub(crate) fn push(&mut self, row: usize, time: f64, event: bool) {
        let i = self.time.len();
        match &mut self.rows {
            Some(rows) => rows.push(row),
            None if row != i => {
                let mut rows: Vec<usize> = (0..i).collect();
                rows.push(row);
                self.rows = Some(rows);
            }
            None => {}
        }
        self.time.push(time);
        self.event.push(event);
    }

    /// The number of units.
    pub(crate) fn len(&self) -> usize {
        self.time.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// The source row of unit `i`.
    #[inline]
    pub(crate) fn row(&self, i: usize) -> usize {
        self.rows.as_ref().map_or(i, |r| r[i])
    }

    /// The source rows of the units, in order.
    pub(crate) fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }
}

pub use crate::config::nice_times;

fn point(t: f64, s: f64, se: f64, lo: f64, hi: f64, at_risk: usize) -> SurvivalPoint {
    SurvivalPoint {
        time: t,
        survival: s,
        std_error: se,
        ci_low: lo,
        ci_high: hi,
        events: 0,
        at_risk: Some(at_risk),
    }
}

/// The latest time at which at least `k` units of the curve's arm are still at risk
/// (followed up to then, without the event before it); `None` when the arm has fewer
/// than `k` units.
fn last_time_with_at_risk(c: &survival::KmCurve, k: usize) -> Option<f64> {
    // Every distinct time at which units leave the risk set (events and censorings),
    // with how many leave then.
    let mut leaving: Vec<(f64, usize)> = c
        .rows
        .iter()
        .map(|r| (r.time, r.events))
        .chain(c.censorings.iter().map(|x| (x.time, x.count)))
        .collect();
    leaving.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = c.n;
    let mut best = None;
    let mut i = 0;
    while i < leaving.len() {
        let t = leaving[i].0;
        if at_risk >= k {
            best = Some(t);
        }
        while i < leaving.len() && leaving[i].0 == t {
            at_risk -= leaving[i].1.min(at_risk);
            i += 1;
        }
    }
    best
}

/// `x` rounded down to two significant digits (23.7 → 23, 187 → 180, 7.34 → 7.3), so
/// a default horizon is a round number rather than one unit's follow-up time.
fn floor_two_digits(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let mag = 10f64.powf(x.log10().floor() - 1.0);
    let v = (x / mag).floor() * mag;
    // Undo representation noise (e.g. 7.3 as 7.299999…).
    let digits = (-(mag.log10().round()) as i32).max(0);
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// The subjects of one comparison's two arms: their sorted order (`None` when they are
/// all the subjects), the treated indicator, strata and clusters, in subject order.
pub(super) struct TwoArms {
    pub(super) t_idx: usize,
    /// The comparison's subjects: indices into the subset's [`Subjects`]; `None` when
    /// they are all of them (two arms).
    sel: Option<Vec<usize>>,
    pub(super) sorted: Option<survival::SortedSubjects>,
    /// 1 for the treated arm, 0 for the control arm, per subject of `sel`.
    pub(super) g2: Vec<u32>,
    /// Project (pooled analysis of a pilot with projects) or block, per subject.
    pub(super) strata: Option<Vec<u32>>,
    pub(super) clusters: Option<Clusters>,
}

impl TwoArms {
    /// The comparison's subjects as indices into the subset's [`Subjects`], in order.
    pub(super) fn subjects(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.g2.len()).map(|j| self.sel.as_ref().map_or(j, |sel| sel[j]))
    }

    /// The comparison's sorted subjects, given those of all arms.
    pub(super) fn sorted_or<'a>(
        &'a self,
        all: &'a survival::SortedSubjects,
    ) -> &'a survival::SortedSubjects {
        self.sorted.as_ref().unwrap_or(all)
    }
}

/// Everything a time-to-event outcome produced in one subset.
#[derive(Default)]
pub(crate) struct SurvivalOut {
    pub summaries: Vec<SurvivalSummary>,
    pub arm_summaries: Vec<ArmSummaryRow>,
    pub estimates: Vec<EstimateRow>,
    pub tests: Vec<TestRow>,
    pub notes: Vec<Note>,
}

/// The outcome and subset being analysed, and what every step reads from them.
pub(crate) struct Scope<'a> {
    pub spec: &'a PilotSpec,
    pub o: &'a OutcomeSpec,
    pub units: &'a Units,
    pub te: &'a TimeEvent,
    /// The subset's id, and its project (`None`: all units).
    pub subset: &'a str,
    pub in_subset: &'a Option<String>,
    /// Confidence level of every interval.
    pub conf: f64,
}

impl Scope<'_> {
    /// Add a note on this outcome and subset.
    pub(super) fn note(&self, out: &mut SurvivalOut, en: String, nl: String) {
        out.notes.push(Note {
            outcome: Some(self.o.id.clone()),
            subset: Some(self.subset.to_string()),
            text: Text { nl, en },
        })
    }

    /// The key of the comparison of arm `t_idx` against the control.
    pub(super) fn key(&self, t_idx: usize) -> ComparisonKey {
        ComparisonKey {
            outcome: self.o.id.clone(),
            subset: self.subset.to_string(),
            treated: self.spec.arms.values[t_idx].value.clone(),
            control: self.spec.arms.control.clone(),
        }
    }
}

/// The subjects of the subset: their index into the time-event data, time, event and arm.
/// Without a subset every subject is in it: then the time and event columns are the
/// time-event data's own (borrowed, not copied: at 10^8 rows a copy is 1.7 GB).
pub(super) struct Subjects<'a> {
    /// Index into the time-event data of each subject; `None`: subject i is entry i.
    idx: Option<Vec<usize>>,
    pub(super) time: Cow<'a, [f64]>,
    pub(super) event: Cow<'a, [bool]>,
    pub(super) group: Vec<u32>,
}

impl Subjects<'_> {
    /// The number of subjects.
    pub(super) fn len(&self) -> usize {
        self.time.len()
    }

    /// The index into the time-event data of subject `i`.
    #[inline]
    pub(super) fn te_index(&self, i: usize) -> usize {
        self.idx.as_ref().map_or(i, |idx| idx[i])
    }
}

/// The subjects in the subset; `None` when there are none.
pub(super) fn subjects_in<'a>(s: &Scope<'a>) -> Option<Subjects<'a>> {
    let te: &'a TimeEvent = s.te;
    if !matches!((s.in_subset, &s.units.project), (Some(_), Some(_))) {
        if te.is_empty() {
            return None;
        }
        let group = te.rows().map(|r| s.units.arm[r] as u32).collect();
        return Some(Subjects {
            idx: None,
            time: Cow::Borrowed(&te.time),
            event: Cow::Borrowed(&te.event),
            group,
        });
    }
    let keep = |r: usize| match (s.in_subset, &s.units.project) {
        (Some(p), Some(pr)) => &pr[r] == p,
        _ => true,
    };
    let idx: Vec<usize> = (0..te.len()).filter(|&i| keep(te.row(i))).collect();
    if idx.is_empty() {
        return None;
    }
    let time: Vec<f64> = idx.iter().map(|&i| te.time[i]).collect();
    let event: Vec<bool> = idx.iter().map(|&i| te.event[i]).collect();
    let group: Vec<u32> = idx.iter().map(|&i| s.units.arm[te.row(i)] as u32).collect();
    Some(Subjects {
        idx: Some(idx),
        time: Cow::Owned(time),
        event: Cow::Owned(event),
        group,
    })
}

/// The two arms of each comparison (every arm against control), for the log-rank test
/// and the Cox model; only comparisons whose arms both have a curve.
fn comparisons(s: &Scope, subj: &Subjects, sorted: &survival::SortedSubjects) -> Vec<TwoArms> {
    let (spec, units, te) = (s.spec, s.units, s.te);
    let group = &subj.group;
    // Arms with subjects: those that get a curve.
    let mut present = vec![false; spec.arms.values.len()];
    for &g in group {
        present[g as usize] = true;
    }
    let control_idx = spec.arms.control_index();
    let strata_labels: Option<&super::Labels> = if s.in_subset.is_none() && units.project.is_some()
    {
        units.project.as_ref()
    } else {
        units.block.as_ref()
    };
    spec.arms
        .values
        .iter()
        .enumerate()
        .filter(|&(t_idx, _)| t_idx != control_idx && present[t_idx] && present[control_idx])
        .map(|(t_idx, _)| {
            let keep: Vec<bool> = group
                .iter()
                .map(|&g| g as usize == t_idx || g as usize == control_idx)
                .collect();
            let everyone = keep.iter().all(|&k| k);
            let (sel, sorted) = if everyone {
                (None, None)
            } else {
                let sel: Vec<usize> = (0..subj.len()).filter(|&i| keep[i]).collect();
                let sorted = sorted.subset(&keep).expect("one flag per subject");
                (Some(sel), Some(sorted))
            };
            drop(keep);
            let m = sel.as_ref().map_or(subj.len(), Vec::len);
            let subject = |j: usize| sel.as_ref().map_or(j, |sel| sel[j]);
            let g2: Vec<u32> = (0..m)
                .map(|j| u32::from(group[subject(j)] as usize == t_idx))
                .collect();
            let rows = || (0..m).map(|j| te.row(subj.te_index(subject(j))));
            let strata: Option<Vec<u32>> =
                strata_labels.map(|l| l.clusters(rows()).codes().to_vec());
            let clusters = units.cluster.as_ref().map(|l| l.clusters(rows()));
            TwoArms {
                t_idx,
                sel,
                sorted,
                g2,
                strata,
                clusters,
            }
        })
        .collect()
}

/// The curves per arm, and per comparison its log-rank test and Cox fit.
struct Fits {
    curves: StatsResult<Vec<survival::KmCurve>>,
    log_ranks: Vec<StatsResult<survival::LogRank>>,
    cox_fits: Vec<StatsResult<survival::CoxFit>>,
}

/// Fit the curves, the log-rank tests and the Cox models; the Cox fits (the slowest
/// part) run beside the curves and the log-rank tests.
fn fit_all(comparisons: &[TwoArms], sorted: &survival::SortedSubjects, conf: f64) -> Fits {
    let (cox_fits, (curves, log_ranks)): (Vec<_>, (_, Vec<_>)) = rayon::join(
        || {
            let _t = crate::timings::phase("survival: cox");
            comparisons
                .iter()
                .map(|c| {
                    survival::cox_ph_sorted_indicator(
                        c.sorted_or(sorted),
                        Codes::CarriedIs(c.t_idx as u32),
                        c.strata.as_deref(),
                        c.clusters.as_ref(),
                        conf,
                    )
                })
                .collect()
        },
        || {
            let _t = crate::timings::phase("survival: curves and log-rank");
            let curves =
                survival::kaplan_meier_sorted(sorted, Codes::Carried, CiTransform::LogLog, conf);
            let log_ranks = comparisons
                .iter()
                .map(|c| {
                    survival::log_rank_sorted(
                        c.sorted_or(sorted),
                        Codes::CarriedIs(c.t_idx as u32),
                        c.strata.as_deref(),
                    )
                })
                .collect();
            (curves, log_ranks)
        },
    );
    Fits {
        curves,
        log_ranks,
        cox_fits,
    }
}

/// The default horizon: the latest time at which at least `min_at_risk` units of every
/// arm are still followed, rounded down to two digits. So the RMST of every arm is
/// defined and rests on enough units, and the horizon is not one unit's follow-up time
/// (the last follow-up of the shortest arm, as it used to be).
fn default_horizon(curves: &[survival::KmCurve], min_at_risk: usize) -> f64 {
    let latest = curves
        .iter()
        .map(|c| last_time_with_at_risk(c, min_at_risk).unwrap_or(0.0))
        .fold(f64::INFINITY, f64::min);
    if latest > 0.0 {
        floor_two_digits(latest)
    } else {
        // Some arm has fewer than `min_at_risk` units (its numbers are withheld
        // under disclosure control): a round time within every arm's follow-up.
        floor_two_digits(
            curves
                .iter()
                .map(|c| c.last_time)
                .fold(f64::INFINITY, f64::min),
        )
    }
}

/// The RMST horizon, the reporting times and the times of the at-risk table.
struct Times {
    horizon: f64,
    report: Vec<f64>,
    risk: Vec<f64>,
}

/// The horizon (the config's, else [`default_horizon`]), the reporting times (the
/// config's, else nice times up to the horizon) and the at-risk table's times.
fn times(o: &OutcomeSpec, curves: &[survival::KmCurve], min_at_risk: usize) -> Times {
    let horizon = o
        .horizon
        .unwrap_or_else(|| default_horizon(curves, min_at_risk));
    let max_time = curves.iter().map(|c| c.last_time).fold(0.0, f64::max);
    let report_times: Vec<f64> = if o.at.is_empty() {
        nice_times(horizon)
            .into_iter()
            .filter(|t| *t > 0.0)
            .collect()
    } else {
        o.at.clone()
    };
    let risk_times = nice_times(max_time);
    Times {
        horizon,
        report: report_times,
        risk: risk_times,
    }
}

/// One arm's survival summary and its restricted mean (or a note why there is none).
fn summarise_arm(s: &Scope, c: &survival::KmCurve, times: &Times, out: &mut SurvivalOut) {
    let (o, subset, conf) = (s.o, s.subset, s.conf);
    let horizon = times.horizon;
    let arm = &s.spec.arms.values[c.group as usize];
    let at = c
        .at_times(&times.report)
        .map(|v| {
            v.iter()
                .map(|p| SurvivalPoint {
                    events: p.events,
                    ..point(
                        p.time,
                        p.survival,
                        p.std_error,
                        p.ci_low,
                        p.ci_high,
                        p.at_risk,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let risk_table = c
        .at_times(&times.risk)
        .map(|v| v.iter().map(|p| Some(p.at_risk)).collect())
        .unwrap_or_default();
    let m = c.median();
    out.summaries.push(SurvivalSummary {
        outcome: o.id.clone(),
        subset: subset.to_string(),
        arm: arm.value.clone(),
        n: Some(c.n),
        events: Some(c.events),
        suppressed: false,
        median_suppressed: false,
        median_ci_suppressed: false,
        horizon,
        median: m.estimate,
        median_ci_low: m.ci_low,
        median_ci_high: m.ci_high,
        at,
        curve: c
            .rows
            .iter()
            .map(|p| SurvivalPoint {
                events: p.events,
                ..point(
                    p.time,
                    p.survival,
                    p.std_error,
                    p.ci_low,
                    p.ci_high,
                    p.at_risk,
                )
            })
            .collect(),
        censored: c.censorings.iter().map(|x| (x.time, x.survival)).collect(),
        risk_times: times.risk.clone(),
        risk_table,
        ci_transform: c.transform.name().to_string(),
    });
    match c.rmst(horizon, conf) {
        Ok(r) => out.arm_summaries.push(ArmSummaryRow {
            outcome: o.id.clone(),
            subset: subset.to_string(),
            arm: arm.value.clone(),
            n: Some(c.n),
            n_missing: Some(s.te.missing_by_arm[c.group as usize]),
            n_missing_covariates: None,
            n_missing_cluster: None,
            mean: r.estimate,
            sd: None,
            ci_low: r.ci_low,
            ci_high: r.ci_high,
            ci_method: format!("rmst (tau = {horizon})"),
            suppressed: false,
            value_counts: None,
        }),
        Err(e) => s.note(
            out,
            format!("{}: restricted mean not estimable ({e}).", arm.value),
            format!("{}: beperkt gemiddelde niet te schatten ({e}).", arm.value),
        ),
    }
}

/// The two curves of one comparison: treated, then control.
type CurvePair<'c> = (&'c survival::KmCurve, &'c survival::KmCurve);

/// The headline RMST difference of one comparison (or a note why there is none).
fn rmst_difference_row(
    s: &Scope,
    key: &ComparisonKey,
    (ct, cc): CurvePair,
    horizon: f64,
    out: &mut SurvivalOut,
) {
    let conf = s.conf;
    let what = format!("{} vs {}", key.treated, key.control);
    let n = (ct.n, cc.n);
    match survival::rmst_difference(ct, cc, horizon, conf) {
        Ok(d) => {
            let mut r = EstimateRow::new(
                key,
                "rmst_difference",
                None,
                Some(&format!("normal; horizon {horizon}")),
                Scale::Difference,
                d.difference,
                conf,
                n,
            );
            r.headline = true;
            r.horizon = Some(horizon);
            out.estimates.push(r);
        }
        Err(e) => s.note(
            out,
            format!("{what}: RMST difference not estimable ({e})."),
            format!("{what}: verschil in RMST niet te schatten ({e})."),
        ),
    }
}

/// The log-rank test of one comparison (or a note why there is none).
fn log_rank_row(
    s: &Scope,
    key: &ComparisonKey,
    log_rank: StatsResult<survival::LogRank>,
    out: &mut SurvivalOut,
) {
    let what = format!("{} vs {}", key.treated, key.control);
    match log_rank {
        Ok(lr) => {
            let mut t = TestRow::new(
                key,
                "logrank",
                Some(lr.statistic),
                Some(lr.df as f64),
                lr.p_value,
            );
            if lr.strata > 1 {
                t.detail = Some(format!("stratified ({} strata)", lr.strata));
            }
            out.tests.push(t);
        }
        Err(e) => s.note(
            out,
            format!("{what}: log-rank test not computed ({e})."),
            format!("{what}: log-ranktoets niet berekend ({e})."),
        ),
    }
}

/// Distinct clusters with units in the treated arm and in the control arm of a
/// comparison; `None` without clusters.
fn clusters_per_arm(c: &TwoArms) -> Option<(usize, usize)> {
    let cl = c.clusters.as_ref()?;
    let mut seen = vec![[false; 2]; cl.count()];
    for (&code, &g) in cl.codes().iter().zip(&c.g2) {
        seen[code as usize][g as usize] = true;
    }
    let ct = seen.iter().filter(|s| s[1]).count();
    let cc = seen.iter().filter(|s| s[0]).count();
    Some((ct, cc))
}

/// The hazard ratio of the treatment indicator (the fit's first coefficient) as an
/// estimate row: robust (clustered) inference when the fit has it, else model-based.
pub(super) fn hazard_ratio_row(
    key: &ComparisonKey,
    estimator: &str,
    fit: &survival::CoxFit,
    conf: f64,
    n: (usize, usize),
) -> EstimateRow {
    let coef = &fit.coefficients[0];
    let (inf, se) = match coef.robust {
        Some(r) => (r, "robust (clusters)"),
        None => (coef.model, "model"),
    };
    EstimateRow::new(key, estimator, Some(se), None, Scale::Ratio, inf, conf, n)
}

/// The Cox hazard ratio of one comparison (or a note why there is none).
fn cox_row(
    s: &Scope,
    key: &ComparisonKey,
    c: &TwoArms,
    cox: StatsResult<survival::CoxFit>,
    n: (usize, usize),
    out: &mut SurvivalOut,
) {
    let what = format!("{} vs {}", key.treated, key.control);
    // Cluster-robust inference needs at least two clusters in each arm (as for the
    // regressions): with one, the arm and that cluster cannot be told apart.
    if let Some((ct, cc)) = clusters_per_arm(c)
        && ct.min(cc) < super::estimate::MIN_CLUSTERS_PER_ARM
    {
        s.note(
            out,
            format!(
                "{what}: no Cox hazard ratio: the units lie in {ct} cluster(s) in the treated arm and {cc} in the control arm, and its cluster-robust standard error needs at least {} in each arm.",
                super::estimate::MIN_CLUSTERS_PER_ARM
            ),
            format!(
                "{what}: geen Cox-hazardratio: de eenheden liggen in {ct} cluster(s) in de behandelde arm en {cc} in de controlearm, en de clusterrobuuste standaardfout vraagt er minstens {} in elke arm.",
                super::estimate::MIN_CLUSTERS_PER_ARM
            ),
        );
        return;
    }
    match cox {
        Ok(fit) => {
            let mut r = hazard_ratio_row(key, "cox_hazard_ratio", &fit, s.conf, n);
            r.n_clusters = c.clusters.as_ref().map(Clusters::count);
            out.estimates.push(r);
        }
        Err(e) => s.note(
            out,
            format!("{what}: Cox model not estimable ({e})."),
            format!("{what}: Cox-model niet te schatten ({e})."),
        ),
    }
}

/// Analyse one time-to-event outcome in one subset; a default horizon needs
/// `min_at_risk` units at risk in every arm.
pub(crate) fn analyse(s: &Scope, min_at_risk: usize) -> SurvivalOut {
    let (spec, o) = (s.spec, s.o);
    let mut out = SurvivalOut::default();
    let Some(subj) = subjects_in(s) else {
        return out;
    };
    // Sorted by time once for the curves, the log-rank tests and the Cox models.
    let sorted = crate::timings::time("survival: sort", || {
        survival::SortedSubjects::with_codes(&subj.time, &subj.event, &subj.group)
    });
    let sorted = match sorted {
        Ok(sorted) => sorted,
        Err(e) => {
            s.note(
                &mut out,
                format!("Kaplan-Meier curves not estimable ({e})."),
                format!("Kaplan-Meier-curves niet te schatten ({e})."),
            );
            return out;
        }
    };
    let control_idx = spec.arms.control_index();
    let comparisons = comparisons(s, &subj, &sorted);
    let fits = fit_all(&comparisons, &sorted, s.conf);
    let curves = match fits.curves {
        Ok(c) => c,
        Err(e) => {
            s.note(
                &mut out,
                format!("Kaplan-Meier curves not estimable ({e})."),
                format!("Kaplan-Meier-curves niet te schatten ({e})."),
            );
            return out;
        }
    };
    let curve_of = |a: usize| curves.iter().find(|c| c.group as usize == a);
    let times = times(o, &curves, min_at_risk);
    for c in &curves {
        summarise_arm(s, c, &times, &mut out);
    }
    for ((c, cox), log_rank) in comparisons.iter().zip(fits.cox_fits).zip(fits.log_ranks) {
        let key = s.key(c.t_idx);
        let (Some(ct), Some(cc)) = (curve_of(c.t_idx), curve_of(control_idx)) else {
            continue;
        };
        rmst_difference_row(s, &key, (ct, cc), times.horizon, &mut out);
        log_rank_row(s, &key, log_rank, &mut out);
        cox_row(s, &key, c, cox, (ct.n, cc.n), &mut out);
        super::adjusted_cox::row(s, &key, c, &subj, &sorted, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::TimeEvent;

    /// The source rows are implied while no row is left out, and written out from
    /// the first row that is; either way each unit names its row.
    #[test]
    fn time_event_rows_are_kept_only_once_a_row_is_left_out() {
        let mut te = TimeEvent::new(2);
        for r in 0..3 {
            te.push(r, r as f64, r % 2 == 0);
        }
        assert!(te.rows.is_none());
        assert_eq!(te.rows().collect::<Vec<_>>(), [0, 1, 2]);
        te.push(5, 1.5, true);
        te.push(6, 0.5, false);
        assert_eq!(te.rows.as_deref(), Some(&[0, 1, 2, 5, 6][..]));
        assert_eq!((te.row(3), te.len()), (5, 5));
        assert_eq!(te.time, [0.0, 1.0, 2.0, 1.5, 0.5]);
        assert_eq!(te.event, [true, false, true, true, false]);
    }
}
