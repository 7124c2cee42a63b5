//! The generator: one code path for every pilot.
//!
//! Steps, each with its own random stream so that changing one outcome's parameters
//! leaves the units, covariates and other outcomes unchanged:
//! 1. the skeleton (stream 0): which rows exist, their arm, project, cluster, period;
//! 2. covariates (stream 1), with arm or project shifts for selection on observables;
//! 3. attrition draws (stream 2) and trials columns (stream 3, aggregated layout);
//! 4. outcomes (stream 100 + their index in the config), parents before dependants.
//!
//! The streams are keyed by the seed and the slug, so two pilots made with the same
//! seed do not share draws.
//!
//! For every unit and outcome the generator keeps the expected outcome under the unit's
//! own arm and under the control arm; the truth is the mean of their difference.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

use super::draw::{self, Ordinal, SimRng, Weibull};
use super::params::{
    Assignment, ContinuousSim, CountSim, CountsSim, CovariateSim, Dist, DrawnModel, FromTime,
    Level, OutcomeModel, Shared, SimParams, TimeToEventSim,
};
use super::{
    EffectTruth, EventTimeTruth, OutcomeTruth, SimData, Truth, UnmeasuredOutcome, UnmeasuredTruth,
};
use crate::config::{DataLayout, OutcomeKind, OutcomeSource, OutcomeSpec, PilotSpec};
use crate::error::{Error, Result};
use polars::prelude::{Column, DataFrame};

mod reported;

/// More rows than this is almost surely a mistyped `--scale`.
const MAX_ROWS: f64 = 20_000_000.0;

const STREAM_SKELETON: u64 = 0;
const STREAM_COVARIATES: u64 = 1;
const STREAM_ATTRITION: u64 = 2;
const STREAM_TRIALS: u64 = 3;
const STREAM_TIME: u64 = 4;
const STREAM_OUTCOMES: u64 = 100;
/// Who started the programme (`[started]`); its own stream, so adding it changes no
/// other column.
const STREAM_STARTED: u64 = 9;

/// The random stream `stream` of a pilot. The key holds the seed and a hash of the
/// slug, so pilots generated with the same seed still get independent draws (with
/// the seed alone, every pilot would reuse the same attrition and covariate draws).
fn rng(key: &Key, stream: u64) -> SimRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&key.seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&key.slug_hash.to_le_bytes());
    let mut r = SimRng::from_seed(bytes);
    r.set_stream(stream);
    r
}

/// What the random streams are derived from.
#[derive(Debug, Clone, Copy)]
struct Key {
    seed: u64,
    slug_hash: u64,
}

impl Key {
    fn new(seed: u64, slug: &str) -> Self {
        Self {
            seed,
            slug_hash: fnv1a(slug),
        }
    }
}

/// FNV-1a, 64 bit: a fixed, documented hash (std's hasher may change between
/// releases, which would change every data set).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Column values before they become a polars column.
#[derive(Debug, Clone)]
enum Values {
    Float(Vec<Option<f64>>),
    Int(Vec<Option<i64>>),
    Text(Vec<String>),
}

impl Values {
    fn into_column(self, name: &str) -> Column {
        match self {
            Values::Float(v) => Column::new(name.into(), v),
            Values::Int(v) => Column::new(name.into(), v),
            Values::Text(v) => Column::new(name.into(), v),
        }
    }
}

/// Numeric values as a float or integer column.
fn numeric_values(v: &[f64], integer: bool) -> Values {
    if integer {
        Values::Int(v.iter().map(|x| Some(x.round() as i64)).collect())
    } else {
        Values::Float(v.iter().map(|x| Some(*x)).collect())
    }
}

/// Which rows exist and where they sit in the design.
struct Skeleton {
    arm: Vec<usize>,
    project: Vec<Option<usize>>,
    cluster: Vec<Option<usize>>,
    period: Vec<Option<usize>>,
    cluster_names: Vec<String>,
    /// The arm of each cluster (by-cluster assignment only).
    cluster_arm: Vec<Option<usize>>,
}

impl Skeleton {
    fn len(&self) -> usize {
        self.arm.len()
    }
}

fn scaled(n: u64, scale: f64) -> u64 {
    ((n as f64 * scale).round() as u64).max(1)
}

/// The number of rows the sizes imply (upper bound for clusters), to refuse absurd
/// scales before allocating anything.
fn expected_rows(spec: &PilotSpec, p: &SimParams, scale: f64) -> f64 {
    let s = &p.sizes;
    if let Some(n) = &s.n {
        return n.values().map(|v| *v as f64).sum::<f64>() * scale;
    }
    if let Some(pr) = &s.projects {
        return pr
            .values()
            .flat_map(|m| m.values())
            .map(|v| *v as f64)
            .sum::<f64>()
            * scale;
    }
    let Some(c) = &s.clusters else { return 0.0 };
    let periods = p.panel.as_ref().map_or(1, |x| x.periods.len()) as f64;
    let max_units = |arm: &str| -> f64 {
        c.units
            .as_ref()
            .and_then(|u| u.get(arm))
            .map_or(periods, |r| r[1] as f64)
    };
    match c.assignment {
        Assignment::ByCluster => c
            .per_arm
            .iter()
            .flatten()
            .map(|(arm, k)| *k as f64 * scale * max_units(arm))
            .sum(),
        Assignment::WithinCluster => {
            let k = c.count.unwrap_or(0) as f64 * scale;
            spec.arms
                .values
                .iter()
                .map(|a| k * max_units(&a.value))
                .sum()
        }
    }
}

fn build_skeleton(spec: &PilotSpec, p: &SimParams, key: &Key, scale: f64) -> Skeleton {
    let mut r = rng(key, STREAM_SKELETON);
    let arm_index = |v: &str| {
        spec.arms
            .values
            .iter()
            .position(|a| a.value == v)
            .unwrap_or(0)
    };
    let mut sk = Skeleton {
        arm: Vec::new(),
        project: Vec::new(),
        cluster: Vec::new(),
        period: Vec::new(),
        cluster_names: Vec::new(),
        cluster_arm: Vec::new(),
    };
    let aggregated = spec.data.layout == DataLayout::Aggregated;
    let n_periods = p.panel.as_ref().map_or(1, |x| x.periods.len());
    let push =
        |sk: &mut Skeleton, arm: usize, project: Option<usize>, cluster: Option<usize>, n: u64| {
            for _ in 0..n {
                sk.arm.push(arm);
                sk.project.push(project);
                sk.cluster.push(cluster);
                sk.period.push(None);
            }
        };
    if let Some(n) = &p.sizes.n {
        for (a, arm) in spec.arms.values.iter().enumerate() {
            let k = n.get(&arm.value).copied().unwrap_or(0);
            push(&mut sk, a, None, None, scaled(k, scale));
        }
    } else if let Some(pr) = &p.sizes.projects {
        for (j, proj) in spec.projects.iter().enumerate() {
            for (a, arm) in spec.arms.values.iter().enumerate() {
                let k = pr
                    .get(&proj.value)
                    .and_then(|m| m.get(&arm.value))
                    .copied()
                    .unwrap_or(0);
                push(&mut sk, a, Some(j), None, scaled(k, scale));
            }
        }
    } else if let Some(c) = &p.sizes.clusters {
        // Clusters in arm order, then numbered in a random order so that ids do not
        // reveal the arm.
        let mut arms_of_clusters: Vec<Option<usize>> = Vec::new();
        match c.assignment {
            Assignment::ByCluster => {
                for (arm, k) in c.per_arm.iter().flatten() {
                    for _ in 0..scaled(*k, scale) {
                        arms_of_clusters.push(Some(arm_index(arm)));
                    }
                }
                // Clusters in config arm order, not alphabetical.
                arms_of_clusters.sort_by_key(|a| a.unwrap_or(0));
            }
            Assignment::WithinCluster => {
                arms_of_clusters = vec![None; scaled(c.count.unwrap_or(1), scale) as usize];
            }
        }
        let n_clusters = arms_of_clusters.len();
        let mut numbers: Vec<usize> = (1..=n_clusters).collect();
        numbers.shuffle(&mut r);
        let width = n_clusters.to_string().len().max(2);
        sk.cluster_names = numbers
            .iter()
            .map(|k| format!("{}{k:0width$}", c.prefix))
            .collect();
        sk.cluster_arm = arms_of_clusters.clone();
        // Rows: clusters by their number, so aggregated panels read naturally.
        let mut order: Vec<usize> = (0..n_clusters).collect();
        order.sort_by_key(|&i| numbers[i]);
        let range = |arm: usize| {
            c.units
                .as_ref()
                .and_then(|u| u.get(&spec.arms.values[arm].value))
                .copied()
                .unwrap_or([1, 1])
        };
        for &ci in &order {
            let arms: Vec<usize> = match arms_of_clusters[ci] {
                Some(a) => vec![a],
                None => (0..spec.arms.values.len()).collect(),
            };
            for a in arms {
                if aggregated {
                    for t in 0..n_periods {
                        sk.arm.push(a);
                        sk.project.push(None);
                        sk.cluster.push(Some(ci));
                        sk.period.push(p.panel.as_ref().map(|_| t));
                    }
                } else {
                    let [lo, hi] = range(a);
                    let n = draw::int_between(&mut r, lo, hi);
                    push(&mut sk, a, None, Some(ci), n);
                }
            }
        }
    }
    if !aggregated {
        // Real files are sorted by pseudonymous id, not by arm: shuffle, then number.
        let mut idx: Vec<usize> = (0..sk.len()).collect();
        idx.shuffle(&mut r);
        sk.arm = idx.iter().map(|&i| sk.arm[i]).collect();
        sk.project = idx.iter().map(|&i| sk.project[i]).collect();
        sk.cluster = idx.iter().map(|&i| sk.cluster[i]).collect();
        sk.period = idx.iter().map(|&i| sk.period[i]).collect();
    }
    sk
}

/// Generated covariates: output columns in order, plus numeric values and centres for
/// the outcome models.
struct Covariates {
    cluster_cols: Vec<(String, Values)>,
    unit_cols: Vec<(String, Values)>,
    numeric: BTreeMap<String, Vec<f64>>,
    centers: BTreeMap<String, f64>,
}

/// One draw of a covariate for a unit (or cluster) in `arm` and `project`.
enum Drawn {
    Num(f64),
    Cat(usize),
}

fn draw_covariate(
    r: &mut SimRng,
    c: &CovariateSim,
    arm: Option<&str>,
    project: Option<&str>,
) -> Drawn {
    let shift = arm.and_then(|a| c.shift.get(a)).copied().unwrap_or(0.0)
        + project
            .and_then(|p| c.shift_by_project.get(p))
            .copied()
            .unwrap_or(0.0);
    let digits = |x: f64| c.digits.map_or(x, |d| draw::round_to(x, d));
    match c.dist {
        Dist::Normal => {
            let m = c.mean.unwrap_or(0.0) + shift;
            let lo = c.min.unwrap_or(f64::NEG_INFINITY);
            let hi = c.max.unwrap_or(f64::INFINITY);
            Drawn::Num(
                digits(draw::truncated_normal(r, m, c.sd.unwrap_or(1.0), lo, hi)).clamp(lo, hi),
            )
        }
        Dist::Uniform => {
            let (lo, hi) = (c.min.unwrap_or(0.0), c.max.unwrap_or(1.0));
            Drawn::Num(digits(lo + (hi - lo) * draw::open01(r) + shift))
        }
        Dist::Bernoulli => {
            let p = (c.p.unwrap_or(0.0) + shift).clamp(0.0, 1.0);
            Drawn::Num(if draw::open01(r) < p { 1.0 } else { 0.0 })
        }
        Dist::Categorical => {
            let probs = arm
                .and_then(|a| c.probs_by_arm.get(a))
                .or_else(|| project.and_then(|p| c.probs_by_project.get(p)))
                .or(c.probs.as_ref());
            let u = draw::open01(r);
            let mut cum = 0.0;
            let mut k = 0;
            for (i, p) in probs.into_iter().flatten().enumerate() {
                cum += p;
                k = i;
                if u < cum {
                    break;
                }
            }
            Drawn::Cat(k)
        }
    }
}

fn build_covariates(spec: &PilotSpec, p: &SimParams, sk: &Skeleton, key: &Key) -> Covariates {
    let mut r = rng(key, STREAM_COVARIATES);
    let mut out = Covariates {
        cluster_cols: Vec::new(),
        unit_cols: Vec::new(),
        numeric: BTreeMap::new(),
        centers: BTreeMap::new(),
    };
    let arm_name = |a: usize| spec.arms.values[a].value.as_str();
    let project_name = |j: Option<usize>| j.map(|j| spec.projects[j].value.as_str());
    for c in &p.covariates {
        // Draw per unit, or per cluster and then copy to the cluster's rows.
        let per_row: Vec<Drawn> = match c.level {
            Level::Unit => (0..sk.len())
                .map(|i| {
                    draw_covariate(
                        &mut r,
                        c,
                        Some(arm_name(sk.arm[i])),
                        project_name(sk.project[i]),
                    )
                })
                .collect(),
            Level::Cluster => {
                let per_cluster: Vec<Drawn> = (0..sk.cluster_names.len())
                    .map(|ci| {
                        let arm = sk.cluster_arm.get(ci).copied().flatten().map(arm_name);
                        draw_covariate(&mut r, c, arm, None)
                    })
                    .collect();
                sk.cluster
                    .iter()
                    .map(|ci| match ci.and_then(|ci| per_cluster.get(ci)) {
                        Some(Drawn::Num(x)) => Drawn::Num(*x),
                        Some(Drawn::Cat(k)) => Drawn::Cat(*k),
                        None => Drawn::Num(0.0),
                    })
                    .collect()
            }
        };
        let mut cols = Vec::new();
        if c.is_numeric() {
            let v: Vec<f64> = per_row
                .iter()
                .map(|d| match d {
                    Drawn::Num(x) => *x,
                    Drawn::Cat(k) => *k as f64,
                })
                .collect();
            cols.push((c.name.clone(), numeric_values(&v, c.is_integer())));
            out.centers.insert(c.name.clone(), c.default_center());
            out.numeric.insert(c.name.clone(), v);
        } else {
            let values = c.values.clone().unwrap_or_default();
            let label = |d: &Drawn| match d {
                Drawn::Cat(k) => values.get(*k).cloned().unwrap_or_default(),
                Drawn::Num(x) => x.to_string(),
            };
            cols.push((
                c.name.clone(),
                Values::Text(per_row.iter().map(label).collect()),
            ));
            for (dummy, category) in &c.dummies {
                let v: Vec<f64> = per_row
                    .iter()
                    .map(|d| if &label(d) == category { 1.0 } else { 0.0 })
                    .collect();
                cols.push((dummy.clone(), numeric_values(&v, true)));
                out.centers.insert(dummy.clone(), c.dummy_center(category));
                out.numeric.insert(dummy.clone(), v);
            }
        }
        // An unmeasured confounder feeds the outcome models but is not written.
        if c.hidden {
            continue;
        }
        match c.level {
            Level::Cluster => out.cluster_cols.extend(cols),
            Level::Unit => out.unit_cols.extend(cols),
        }
    }
    if let Some(panel) = &p.panel {
        let v: Vec<f64> = sk
            .period
            .iter()
            .map(|t| t.and_then(|t| panel.periods.get(t)).copied().unwrap_or(0) as f64)
            .collect();
        let mean = panel.periods.iter().sum::<i64>() as f64 / panel.periods.len() as f64;
        out.centers.insert(panel.column.clone(), mean);
        out.numeric.insert(panel.column.clone(), v);
    }
    out
}

/// Trials columns of an aggregated layout, in output order.
fn build_trials(p: &SimParams, sk: &Skeleton, key: &Key) -> Vec<(String, Vec<u64>)> {
    let mut r = rng(key, STREAM_TRIALS);
    let mut out: Vec<(String, Vec<u64>)> = Vec::new();
    for (name, t) in p.trials.iter().filter(|(_, t)| t.of.is_none()) {
        let min = t.min.unwrap_or(1) as f64;
        let median = t.median.unwrap_or(min);
        let sdlog = t.sdlog.unwrap_or(0.0);
        let base: Vec<f64> = (0..sk.cluster_names.len())
            .map(|_| {
                for _ in 0..100 {
                    let x = median * (sdlog * draw::std_normal(&mut r)).exp();
                    if x >= min {
                        return x;
                    }
                }
                min
            })
            .collect();
        let v = (0..sk.len())
            .map(|i| {
                let b = sk.cluster[i]
                    .and_then(|c| base.get(c))
                    .copied()
                    .unwrap_or(min);
                let t_idx = sk.period[i].unwrap_or(0) as f64;
                let noise = t.period_sd.unwrap_or(0.0) * draw::std_normal(&mut r);
                let x = b * (t.growth.unwrap_or(0.0) * t_idx + noise).exp();
                x.round().max(min) as u64
            })
            .collect();
        out.push((name.clone(), v));
    }
    for (name, t) in p.trials.iter().filter(|(_, t)| t.of.is_some()) {
        let of = t.of.as_deref().unwrap_or_default();
        let Some(base) = out.iter().find(|(n, _)| n == of).map(|(_, v)| v.clone()) else {
            continue;
        };
        let share = t.share.unwrap_or(0.0);
        let v = base
            .iter()
            .map(|n| draw::binomial(&mut r, *n, share))
            .collect();
        out.push((name.clone(), v));
    }
    out
}

/// One outcome's generated values and the per-unit expectations behind the truth.
struct Generated {
    cols: Vec<(String, Values)>,
    /// Binary: 0/1 before masking; time-to-event: the latent event time.
    latent: Vec<f64>,
    /// Time-to-event: the censoring time.
    censor: Vec<f64>,
    /// Binary: the uniform behind each draw, shared with nested outcomes.
    uniform: Vec<f64>,
    /// Expected outcome under the unit's own arm and under control. Time-to-event:
    /// the linear predictors instead.
    e_own: Vec<f64>,
    e_ctrl: Vec<f64>,
    missing: Vec<bool>,
    /// Units whose expectation was clipped at a bound or cap.
    n_bounded: usize,
    weibull: Option<(Weibull, f64)>,
}

/// What an outcome model needs about the rows.
struct Ctx<'a> {
    spec: &'a PilotSpec,
    sk: &'a Skeleton,
    cov: &'a Covariates,
    attrition: &'a [f64],
    trials: &'a [(String, Vec<u64>)],
    n_periods: usize,
    control: usize,
    /// Trials columns with a reporting minimum.
    report_min: BTreeMap<&'a str, u64>,
    /// The periods of a panel (empty without one).
    periods: Vec<i64>,
    /// Staggered panels: each row's cluster's first treated period (`None`: never).
    first: Option<Vec<Option<i64>>>,
    /// Person layout with `[time]`: each row's period, and the middle of the ranges.
    time: Option<(Vec<i64>, f64)>,
}

impl Ctx<'_> {
    fn is_control(&self, i: usize) -> bool {
        self.sk.arm[i] == self.control
    }

    fn arm_name(&self, i: usize) -> &str {
        &self.spec.arms.values[self.sk.arm[i]].value
    }

    fn project_name(&self, i: usize) -> Option<&str> {
        self.sk.project[i].map(|j| self.spec.projects[j].value.as_str())
    }

    /// The configured effect for unit `i`: None for control units. In a staggered
    /// panel a unit of the joining arm has no effect before its first treated period
    /// and `effect` + e × `effect_growth` at e periods after it.
    fn effect(&self, s: &Shared, i: usize) -> Option<f64> {
        if self.is_control(i) {
            return None;
        }
        let base = s.effect_for(self.arm_name(i), self.project_name(i));
        match (self.event_time(i), base) {
            (Some(e), Some(_)) if e < 0 => Some(0.0),
            (Some(e), Some(b)) => Some(b + e as f64 * s.effect_growth.unwrap_or(0.0)),
            (None, b) => b,
            (_, None) => None,
        }
    }

    /// The calendar period of row `i` (panels).
    fn period_of(&self, i: usize) -> Option<i64> {
        self.sk.period[i].and_then(|t| self.periods.get(t)).copied()
    }

    /// Staggered panels: row `i`'s period minus its cluster's first treated period;
    /// `None` for never-joining rows or without staggering.
    fn event_time(&self, i: usize) -> Option<i64> {
        let g = self.first.as_ref()?[i]?;
        Some(self.period_of(i)? - g)
    }

    /// Linear predictor without treatment: centred covariates, cluster effect, project
    /// shift and period trend.
    fn linear_predictors(&self, s: &Shared, r: &mut SimRng) -> Vec<f64> {
        let sd = s.cluster_sd.unwrap_or(0.0);
        let u: Vec<f64> = (0..self.sk.cluster_names.len())
            .map(|_| sd * draw::std_normal(r))
            .collect();
        let mid = (self.n_periods as f64 - 1.0) / 2.0;
        (0..self.sk.len())
            .map(|i| {
                let mut eta = 0.0;
                for (k, b) in &s.coef {
                    let x = self.cov.numeric.get(k).map_or(0.0, |v| v[i]);
                    let c = self.cov.centers.get(k).copied().unwrap_or(0.0);
                    eta += b * (x - c);
                }
                if let Some(c) = self.sk.cluster[i] {
                    eta += u.get(c).copied().unwrap_or(0.0);
                }
                if let Some(p) = self.project_name(i) {
                    eta += s.project_shift.get(p).copied().unwrap_or(0.0);
                }
                if let Some(t) = self.sk.period[i] {
                    eta += s.trend.unwrap_or(0.0) * (t as f64 - mid);
                }
                eta
            })
            .collect()
    }

    fn missing_by_rate(&self, s: &Shared) -> Vec<bool> {
        (0..self.sk.len())
            .map(|i| self.attrition[i] < s.missing.get(self.arm_name(i)).copied().unwrap_or(0.0))
            .collect()
    }

    fn trials_of(&self, name: &str) -> Option<&[u64]> {
        self.trials
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

fn empty_generated(n: usize) -> Generated {
    Generated {
        cols: Vec::new(),
        latent: vec![0.0; n],
        censor: vec![0.0; n],
        uniform: vec![0.0; n],
        e_own: vec![0.0; n],
        e_ctrl: vec![0.0; n],
        missing: vec![false; n],
        n_bounded: 0,
        weibull: None,
    }
}

fn mask(v: &[f64], missing: &[bool]) -> Vec<Option<f64>> {
    v.iter()
        .zip(missing)
        .map(|(x, m)| if *m { None } else { Some(*x) })
        .collect()
}

fn mask_int(v: &[f64], missing: &[bool]) -> Values {
    Values::Int(
        v.iter()
            .zip(missing)
            .map(|(x, m)| if *m { None } else { Some(x.round() as i64) })
            .collect(),
    )
}

type Done = BTreeMap<String, Generated>;

/// The column an outcome's values are written to.
fn value_col(o: &OutcomeSpec) -> String {
    match &o.source {
        OutcomeSource::Column(c) => c.clone(),
        OutcomeSource::TimeEvent { time, .. } => time.clone(),
        OutcomeSource::Counts { events, .. } => events.clone(),
        // A panel-derived outcome lives in another file; the simulator writes its
        // (time) values under the outcome id.
        OutcomeSource::Panel { .. } => o.id.clone(),
    }
}

/// The generated outcome `name` that `o` depends on.
fn generated<'d>(done: &'d Done, name: &str, o: &OutcomeSpec) -> Result<&'d Generated> {
    done.get(name).ok_or_else(|| {
        Error::analysis(format!(
            "outcome \"{name}\" was not generated before \"{}\"",
            o.id
        ))
    })
}

/// As [`generated`], for an optional link.
fn parent_of<'d>(
    done: &'d Done,
    name: Option<&str>,
    o: &OutcomeSpec,
) -> Result<Option<&'d Generated>> {
    name.map(|p| generated(done, p, o)).transpose()
}

/// What every drawn model starts from: the linear predictors without treatment and
/// the keys all drawn outcomes share.
struct Drawing<'c> {
    ctx: &'c Ctx<'c>,
    shared: &'c Shared,
    eta: Vec<f64>,
}

impl Drawing<'_> {
    fn effect(&self, i: usize) -> Option<f64> {
        self.ctx.effect(self.shared, i)
    }
}

fn gen_outcome(
    ctx: &Ctx,
    o: &OutcomeSpec,
    m: &OutcomeModel,
    done: &Done,
    r: &mut SimRng,
) -> Result<Generated> {
    let (shared, model) = match m {
        OutcomeModel::FromTime(f) => {
            return gen_from_time(o, f, generated(done, f.source(), o)?);
        }
        OutcomeModel::Drawn { shared, model } => (shared, model),
    };
    let d = Drawing {
        ctx,
        shared,
        eta: ctx.linear_predictors(shared, r),
    };
    let mut g = empty_generated(ctx.sk.len());
    g.missing = ctx.missing_by_rate(shared);
    match model {
        DrawnModel::Binary(b) => {
            let nested = parent_of(done, b.nested_in.as_deref(), o)?;
            binary_probabilities(&d, b.base, nested, &mut g, r);
            for i in 0..g.latent.len() {
                g.latent[i] = f64::from(u8::from(g.uniform[i] < g.e_own[i]));
            }
            g.cols.push((value_col(o), mask_int(&g.latent, &g.missing)));
        }
        DrawnModel::Counts(c) => {
            binary_probabilities(&d, c.base, None, &mut g, r);
            gen_counts(ctx, o, c, &mut g, r)?;
        }
        DrawnModel::Continuous(c) => {
            let gate = parent_of(done, c.zero_unless.as_deref(), o)?;
            gen_continuous(&d, o, c, gate, &mut g, r);
        }
        DrawnModel::Count(c) => {
            let gate = parent_of(done, c.zero_unless.as_deref(), o)?;
            gen_count(&d, o, c, gate, &mut g, r);
        }
        DrawnModel::Ordinal(m) => {
            let model = Ordinal::from_probs(&m.probs);
            for (i, &eta_i) in d.eta.iter().enumerate() {
                let lp_own = eta_i + d.effect(i).unwrap_or(0.0);
                g.latent[i] = model.draw(r, lp_own) as f64;
                g.e_own[i] = model.mean(lp_own);
                g.e_ctrl[i] = model.mean(eta_i);
            }
            g.cols.push((value_col(o), mask_int(&g.latent, &g.missing)));
        }
        DrawnModel::TimeToEvent(t) => gen_time_to_event(&d, o, t, &mut g, r),
    }
    Ok(g)
}

/// An outcome read off the latent time of a time-to-event outcome.
fn gen_from_time(o: &OutcomeSpec, f: &FromTime, parent: &Generated) -> Result<Generated> {
    let (w, _) = parent.weibull.ok_or_else(|| {
        Error::analysis(format!(
            "\"{}\": from_time needs a time-to-event parent",
            o.id
        ))
    })?;
    let n = parent.latent.len();
    let mut g = empty_generated(n);
    let by = f.by();
    let mult = f.per_time_unit().unwrap_or(1.0);
    for i in 0..n {
        let t = parent.latent[i];
        let c = parent.censor[i];
        let known = if t <= by { t <= c } else { c >= by };
        g.missing[i] = parent.missing[i] || !known;
    }
    let round_cap = |x: f64| match f {
        FromTime::Count(_) => x.round(),
        FromTime::Time(t) => t.digits.map_or(x, |d| draw::round_to(x, d)),
        FromTime::Event(_) => x,
    };
    // Rounding the capped value moves the point mass at `by`: add that shift to the
    // expectation so the truth stays exact.
    let cap_shift = round_cap(by * mult) - by * mult;
    for i in 0..n {
        let t = parent.latent[i];
        let (lo, lc) = (parent.e_own[i], parent.e_ctrl[i]);
        match f {
            FromTime::Event(_) => {
                g.latent[i] = f64::from(u8::from(t <= by));
                g.e_own[i] = w.cdf(by, lo);
                g.e_ctrl[i] = w.cdf(by, lc);
            }
            FromTime::Time(_) | FromTime::Count(_) => {
                g.latent[i] = round_cap(t.min(by) * mult);
                g.e_own[i] = mult * w.restricted_mean(by, lo) + cap_shift * (1.0 - w.cdf(by, lo));
                g.e_ctrl[i] = mult * w.restricted_mean(by, lc) + cap_shift * (1.0 - w.cdf(by, lc));
            }
        }
    }
    let vals = match f {
        FromTime::Time(t) if t.digits != Some(0) => Values::Float(mask(&g.latent, &g.missing)),
        _ => mask_int(&g.latent, &g.missing),
    };
    g.cols.push((value_col(o), vals));
    Ok(g)
}

/// Binary probabilities under the unit's own arm and under control, and the uniform
/// draw each unit's value is read from. A nested outcome shares its parent's uniform
/// draw, so the child implies the parent (hired implies invited), while each keeps its
/// own marginal probability.
fn binary_probabilities(
    d: &Drawing,
    base: f64,
    nested: Option<&Generated>,
    g: &mut Generated,
    r: &mut SimRng,
) {
    let base = draw::logit(base);
    let mid = (d.ctx.n_periods as f64 - 1.0) / 2.0;
    for (i, &eta_i) in d.eta.iter().enumerate() {
        let p0 = draw::logistic(base + eta_i);
        // A trend on the probability itself (parallel between groups).
        let trend = match (d.shared.trend_risk, d.ctx.sk.period[i], &d.ctx.time) {
            (Some(tr), Some(t), _) => tr * (t as f64 - mid),
            (Some(tr), None, Some((time, m))) => tr * (time[i] as f64 - m),
            _ => 0.0,
        };
        let p0_raw = p0 + trend;
        let p0 = p0_raw.clamp(0.0, 1.0);
        let raw = p0 + d.effect(i).unwrap_or(0.0);
        let mut p_own = raw.clamp(0.0, 1.0);
        let mut p_ctrl = p0;
        let mut bounded = p_own != raw || p0 != p0_raw;
        if let Some(par) = nested {
            bounded |= p_own > par.e_own[i] || p_ctrl > par.e_ctrl[i];
            p_own = p_own.min(par.e_own[i]);
            p_ctrl = p_ctrl.min(par.e_ctrl[i]);
            g.uniform[i] = par.uniform[i];
            g.missing[i] |= par.missing[i];
        } else {
            g.uniform[i] = draw::open01(r);
        }
        g.e_own[i] = p_own;
        g.e_ctrl[i] = p_ctrl;
        g.n_bounded += usize::from(bounded);
    }
}

/// Normal around the linear predictor, clipped and rounded; the expectations account
/// for both.
fn gen_continuous(
    d: &Drawing,
    o: &OutcomeSpec,
    c: &ContinuousSim,
    gate: Option<&Generated>,
    g: &mut Generated,
    r: &mut SimRng,
) {
    let sd = c.sd;
    let lo = c.min.unwrap_or(f64::NEG_INFINITY);
    let hi = c.max.unwrap_or(f64::INFINITY);
    for (i, &eta_i) in d.eta.iter().enumerate() {
        let m0 = c.base + eta_i;
        let m_own = m0 + d.effect(i).unwrap_or(0.0);
        let y = (m_own + sd * draw::std_normal(r)).clamp(lo, hi);
        let y = c.digits.map_or(y, |d| draw::round_to(y, d));
        g.latent[i] = y;
        let mean = |m: f64| match c.digits {
            Some(d) => draw::rounded_clipped_normal_mean(m, sd, lo, hi, d),
            None => draw::clipped_normal_mean(m, sd, lo, hi),
        };
        g.e_own[i] = mean(m_own);
        g.e_ctrl[i] = mean(m0);
        if let Some(par) = gate {
            gate_on(g, par, i);
        }
    }
    let vals = if c.digits == Some(0) {
        mask_int(&g.latent, &g.missing)
    } else {
        Values::Float(mask(&g.latent, &g.missing))
    };
    g.cols.push((value_col(o), vals));
}

/// Poisson, negative binomial, or (with `max`) binomial or beta-binomial counts.
fn gen_count(
    d: &Drawing,
    o: &OutcomeSpec,
    c: &CountSim,
    gate: Option<&Generated>,
    g: &mut Generated,
    r: &mut SimRng,
) {
    let cap = c.max;
    for (i, &eta_i) in d.eta.iter().enumerate() {
        let mu0 = c.base * eta_i.exp();
        let raw = mu0 + d.effect(i).unwrap_or(0.0);
        let bound = |m: f64| cap.map_or(m.max(0.0), |c| m.clamp(0.0, c));
        let mu_own = bound(raw);
        if mu_own != raw {
            g.n_bounded += 1;
        }
        let y = match (cap, c.dispersion) {
            (Some(c), Some(phi)) => draw::beta_binomial(r, c as u64, mu_own / c, phi) as f64,
            (Some(c), None) => draw::binomial(r, c as u64, mu_own / c) as f64,
            (None, Some(k)) => draw::neg_binomial(r, mu_own, k),
            (None, None) => draw::poisson(r, mu_own),
        };
        g.latent[i] = y;
        g.e_own[i] = mu_own;
        g.e_ctrl[i] = bound(mu0);
        if let Some(par) = gate {
            gate_on(g, par, i);
        }
    }
    g.cols.push((value_col(o), mask_int(&g.latent, &g.missing)));
}

/// Weibull proportional hazards, censored at follow-up and by dropout; writes a time
/// and an event column.
fn gen_time_to_event(
    d: &Drawing,
    o: &OutcomeSpec,
    t: &TimeToEventSim,
    g: &mut Generated,
    r: &mut SimRng,
) {
    let n = d.eta.len();
    let w = Weibull {
        median: t.base,
        shape: t.shape,
    };
    let follow_up = t.follow_up;
    let dropout = t.dropout.unwrap_or(0.0);
    let digits = t.digits.unwrap_or(2);
    let mut time = vec![0.0; n];
    let mut event = vec![0.0; n];
    for (i, &eta_i) in d.eta.iter().enumerate() {
        let lp_own = eta_i + d.effect(i).map_or(0.0, f64::ln);
        let t = w.draw(r, lp_own);
        let mut c = follow_up;
        if dropout > 0.0 {
            c = c.min(draw::exp1(r) / dropout);
        }
        g.latent[i] = t;
        g.censor[i] = c;
        g.e_own[i] = lp_own;
        g.e_ctrl[i] = eta_i;
        time[i] = draw::ceil_to(t.min(c), digits).min(follow_up);
        event[i] = f64::from(u8::from(t <= c));
    }
    g.weibull = Some((w, follow_up));
    let (tcol, ecol) = match &o.source {
        OutcomeSource::TimeEvent { time, event } => (time.clone(), event.clone()),
        _ => (value_col(o), format!("{}_event", o.id)),
    };
    let tvals = if digits == 0 {
        mask_int(&time, &g.missing)
    } else {
        Values::Float(mask(&time, &g.missing))
    };
    g.cols.push((tcol, tvals));
    g.cols.push((ecol, mask_int(&event, &g.missing)));
}

/// `zero_unless`: the outcome is 0 where the gating binary outcome is 0, so its
/// expectation is the gate's probability times the ungated mean.
fn gate_on(g: &mut Generated, par: &Generated, i: usize) {
    if par.latent[i] < 0.5 {
        g.latent[i] = 0.0;
    }
    g.e_own[i] *= par.e_own[i];
    g.e_ctrl[i] *= par.e_ctrl[i];
    g.missing[i] |= par.missing[i];
}

/// Aggregated binary outcome: events ~ Binomial(trials, p), and the remaining trials
/// split over the `remainder` columns in sequence. Counts out of a trials column with
/// a reporting minimum are missing where it is below that minimum.
fn gen_counts(
    ctx: &Ctx,
    o: &OutcomeSpec,
    c: &CountsSim,
    g: &mut Generated,
    r: &mut SimRng,
) -> Result<()> {
    let OutcomeSource::Counts {
        events,
        trials: trials_col,
    } = &o.source
    else {
        return Err(Error::analysis(format!(
            "outcome \"{}\" of an aggregated layout has no events and trials columns",
            o.id
        )));
    };
    let trials = ctx.trials_of(trials_col).ok_or_else(|| {
        Error::analysis(format!("trials column \"{trials_col}\" was not generated"))
    })?;
    if let Some(min) = ctx.report_min.get(trials_col.as_str()) {
        for (m, n) in g.missing.iter_mut().zip(trials) {
            *m |= n < min;
        }
    }
    let n = trials.len();
    let mut counts = vec![0.0; n];
    let mut rest_cols: Vec<Vec<f64>> = vec![vec![0.0; n]; c.remainder.len()];
    for i in 0..n {
        let p = g.e_own[i];
        let k = draw::binomial(r, trials[i], p);
        counts[i] = k as f64;
        let mut remaining = trials[i] - k;
        let mut rest_prob = 1.0 - p;
        for (j, rem) in c.remainder.iter().enumerate() {
            let take = match rem.share {
                Some(sh) if rest_prob > 0.0 => {
                    let q = (sh / rest_prob).clamp(0.0, 1.0);
                    rest_prob -= sh;
                    draw::binomial(r, remaining, q)
                }
                Some(_) => 0,
                None => remaining,
            };
            remaining -= take;
            rest_cols[j][i] = take as f64;
        }
    }
    g.latent = counts.clone();
    g.cols.push((events.clone(), mask_int(&counts, &g.missing)));
    for (rem, v) in c.remainder.iter().zip(rest_cols) {
        g.cols.push((rem.column.clone(), mask_int(&v, &g.missing)));
    }
    Ok(())
}

/// Outcomes in an order where each comes after the outcome it depends on.
fn dependency_order<'a>(
    spec: &'a PilotSpec,
    models: &BTreeMap<String, OutcomeModel>,
) -> Vec<(usize, &'a OutcomeSpec)> {
    let mut order: Vec<(usize, &OutcomeSpec)> = Vec::new();
    let mut placed = vec![false; spec.outcomes.len()];
    while order.len() < spec.outcomes.len() {
        let before = order.len();
        for (j, o) in spec.outcomes.iter().enumerate() {
            if placed[j] {
                continue;
            }
            let dep = models.get(&o.id).and_then(OutcomeModel::depends_on);
            if dep.is_none_or(|d| order.iter().any(|(_, x)| x.id == d)) {
                placed[j] = true;
                order.push((j, o));
            }
        }
        if order.len() == before {
            break; // a cycle; SimParams::check rejects these
        }
    }
    order
}

/// Person layout with `[time]`: each row's period, uniform on its arm's range, from
/// its own stream; and the middle of the ranges.
fn draw_times(
    spec: &PilotSpec,
    p: &SimParams,
    sk: &Skeleton,
    key: &Key,
) -> Option<(Vec<i64>, f64)> {
    let t = p.time.as_ref()?;
    let mut r = rng(key, STREAM_TIME);
    let v = sk
        .arm
        .iter()
        .map(|&a| {
            let [lo, hi] = t
                .range
                .get(&spec.arms.values[a].value)
                .copied()
                .unwrap_or([0, 0]);
            lo + draw::int_between(&mut r, 0, (hi - lo) as u64) as i64
        })
        .collect();
    Some((v, t.mid()))
}

/// Staggered panels: the first treated period of each row's cluster. The clusters of
/// the joining arm, in their order in the skeleton, take the start periods in turn;
/// the other arms never join (`None`).
fn first_treated_rows(spec: &PilotSpec, p: &SimParams, sk: &Skeleton) -> Option<Vec<Option<i64>>> {
    let st = p.panel.as_ref()?.staggered.as_ref()?;
    let arm = spec.arms.values.iter().position(|a| a.value == st.arm)?;
    let mut start_of: BTreeMap<usize, i64> = BTreeMap::new();
    let mut k = 0usize;
    for (c, a) in sk.cluster_arm.iter().enumerate() {
        if *a == Some(arm) {
            start_of.insert(c, st.starts[k % st.starts.len()]);
            k += 1;
        }
    }
    Some(
        sk.cluster
            .iter()
            .map(|c| c.and_then(|c| start_of.get(&c).copied()))
            .collect(),
    )
}

/// Generate a pilot's synthetic data and its true effects. Pure and deterministic:
/// the same spec, params, seed and scale give the same frame.
pub fn generate(spec: &PilotSpec, params: &SimParams, seed: u64, scale: f64) -> Result<SimData> {
    let models = params.models(spec)?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::usage(format!(
            "--scale is {scale}; use a number above 0, e.g. 1 or 0.1"
        )));
    }
    let rows = expected_rows(spec, params, scale);
    if rows > MAX_ROWS {
        return Err(Error::usage(format!(
            "--scale {scale} would make about {rows:.0} rows; the limit is {MAX_ROWS:.0}"
        )));
    }
    let key = Key::new(seed, &spec.slug);
    let sk = build_skeleton(spec, params, &key, scale);
    let cov = build_covariates(spec, params, &sk, &key);
    let trials = build_trials(params, &sk, &key);
    let mut ar = rng(&key, STREAM_ATTRITION);
    let attrition: Vec<f64> = (0..sk.len()).map(|_| draw::open01(&mut ar)).collect();
    let control = spec
        .arms
        .values
        .iter()
        .position(|a| a.value == spec.arms.control)
        .ok_or_else(|| Error::config(&spec.path, "the control arm is not among the arms"))?;
    let ctx = Ctx {
        spec,
        sk: &sk,
        cov: &cov,
        attrition: &attrition,
        trials: &trials,
        n_periods: params.panel.as_ref().map_or(1, |x| x.periods.len()),
        control,
        report_min: params
            .trials
            .iter()
            .filter_map(|(k, t)| t.report_min.map(|m| (k.as_str(), m)))
            .collect(),
        periods: params
            .panel
            .as_ref()
            .map_or_else(Vec::new, |p| p.periods.clone()),
        first: first_treated_rows(spec, params, &sk),
        time: draw_times(spec, params, &sk, &key),
    };

    let mut done: BTreeMap<String, Generated> = BTreeMap::new();
    for (j, o) in dependency_order(spec, &models) {
        let m = models
            .get(&o.id)
            .ok_or_else(|| Error::config(&params.path, format!("no `[outcomes.{}]`", o.id)))?;
        let mut r = rng(&key, STREAM_OUTCOMES + j as u64);
        let g = gen_outcome(&ctx, o, m, &done, &mut r)?;
        done.insert(o.id.clone(), g);
    }

    let truth = truth(spec, params, &ctx, &models, &done, seed, scale);
    let frame = assemble(spec, params, &sk, cov, &trials, &done, &key)?;
    Ok(SimData { frame, truth })
}

/// The `data.started` column of `[started]`: per unit 1 with the arm's probability,
/// else 0, and empty for a `missing` share; drawn from its own stream.
fn build_started(
    spec: &PilotSpec,
    p: &SimParams,
    sk: &Skeleton,
    key: &Key,
) -> Option<(String, Values)> {
    let (st, column) = (p.started.as_ref()?, spec.data.started.as_ref()?);
    let mut r = rng(key, STREAM_STARTED);
    let v = sk
        .arm
        .iter()
        .map(|&a| {
            let q = st.p.get(&spec.arms.values[a].value).copied().unwrap_or(1.0);
            let (u_missing, u_start) = (draw::open01(&mut r), draw::open01(&mut r));
            if u_missing < st.missing {
                None
            } else {
                Some(i64::from(u_start < q))
            }
        })
        .collect();
    Some((column.clone(), Values::Int(v)))
}

/// The frame in a fixed column order: provenance, id, design columns, covariates,
/// started, trials, outcomes.
fn assemble(
    spec: &PilotSpec,
    p: &SimParams,
    sk: &Skeleton,
    cov: Covariates,
    trials: &[(String, Vec<u64>)],
    done: &BTreeMap<String, Generated>,
    key: &Key,
) -> Result<DataFrame> {
    let started = build_started(spec, p, sk, key);
    let n = sk.len();
    let mut cols: Vec<(String, Values)> = vec![(
        "data_source".into(),
        Values::Text(vec!["synthetic".into(); n]),
    )];
    if let Some(id) = &spec.data.id {
        let width = n.to_string().len().max(6);
        cols.push((
            id.clone(),
            Values::Text(
                (1..=n)
                    .map(|k| format!("{}{k:0width$}", p.id_prefix))
                    .collect(),
            ),
        ));
    }
    if let Some(pc) = &spec.design.project {
        let v = sk
            .project
            .iter()
            .map(|j| {
                j.map(|j| spec.projects[j].value.clone())
                    .unwrap_or_default()
            })
            .collect();
        cols.push((pc.clone(), Values::Text(v)));
    }
    if let Some(cc) = &spec.design.cluster {
        let v = sk
            .cluster
            .iter()
            .map(|c| {
                c.and_then(|c| sk.cluster_names.get(c))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        cols.push((cc.clone(), Values::Text(v)));
    }
    if let Some(panel) = &p.panel
        && let Some(v) = cov.numeric.get(&panel.column)
    {
        cols.push((panel.column.clone(), numeric_values(v, true)));
        // Staggered panels: the first treated period, 0 for clusters that never join.
        if let (Some(st), Some(first)) = (&panel.staggered, first_treated_rows(spec, p, sk)) {
            let v = first.iter().map(|g| Some(g.unwrap_or(0))).collect();
            cols.push((st.column.clone(), Values::Int(v)));
        }
    }
    if let (Some(t), Some((v, _))) = (&p.time, draw_times(spec, p, sk, key)) {
        cols.push((
            t.column.clone(),
            Values::Int(v.into_iter().map(Some).collect()),
        ));
    }
    cols.extend(cov.cluster_cols);
    let arm_values = sk
        .arm
        .iter()
        .map(|a| spec.arms.values[*a].value.clone())
        .collect();
    cols.push((spec.arms.column.clone(), Values::Text(arm_values)));
    cols.extend(cov.unit_cols);
    cols.extend(started);
    for (name, v) in trials {
        cols.push((
            name.clone(),
            Values::Int(v.iter().map(|x| Some(*x as i64)).collect()),
        ));
    }
    for o in &spec.outcomes {
        if let Some(g) = done.get(&o.id) {
            cols.extend(g.cols.iter().cloned());
        }
    }

    let mut seen = std::collections::BTreeSet::new();
    for (name, _) in &cols {
        if !seen.insert(name.clone()) {
            return Err(Error::config(
                &p.path,
                format!(
                    "two generated columns are named \"{name}\"; rename a covariate, trials or remainder column"
                ),
            ));
        }
    }
    for needed in spec.needed_columns() {
        if !seen.contains(&needed) {
            return Err(Error::config(
                &p.path,
                format!(
                    "the config reads the column \"{needed}\" but the simulation does not make it"
                ),
            ));
        }
    }
    let columns = cols
        .into_iter()
        .map(|(name, v)| v.into_column(&name))
        .collect();
    DataFrame::new_infer_height(columns)
        .map_err(|e| Error::analysis("cannot build the simulated frame").with_cause(e))
}

/// Snap a computed effect to the configured one when they agree to rounding error, so
/// that truth.json shows 0.02 rather than 0.019999999999999997.
fn snap(computed: f64, configured: Option<f64>) -> f64 {
    match configured {
        Some(c) if (computed - c).abs() < 1e-10 => c,
        _ => computed,
    }
}

fn truth(
    spec: &PilotSpec,
    p: &SimParams,
    ctx: &Ctx,
    models: &BTreeMap<String, OutcomeModel>,
    done: &Done,
    seed: u64,
    scale: f64,
) -> Truth {
    let sk = ctx.sk;
    let outcomes = spec
        .outcomes
        .iter()
        .filter_map(|o| {
            let (g, m) = (done.get(&o.id)?, models.get(&o.id)?);
            Some(outcome_truth(ctx, o, g, m))
        })
        .collect();
    let mut units_by_arm = BTreeMap::new();
    for a in &sk.arm {
        *units_by_arm
            .entry(spec.arms.values[*a].value.clone())
            .or_insert(0usize) += 1;
    }
    let clusters_by_arm = p.sizes.clusters.as_ref().map(|_| clusters_by_arm(spec, sk));
    let unmeasured = p
        .covariates
        .iter()
        .filter(|c| c.hidden)
        .filter_map(|c| unmeasured_truth(ctx, c, models, done))
        .collect();
    Truth {
        slug: spec.slug.clone(),
        synthetic: true,
        note: "SYNTHETIC DATA made by `via-eval simulate`; not real pilot data. The effects below are the true effects built into the data; each entry's `estimands` holds the true value of what each reported estimator (by its id in results.json) estimates. With a lottery, a 95% interval covers that value in about 95% of redraws (measured: docs/recovery-redraws.md); without one, the design can bias the estimate (docs/recovery.md).".to_string(),
        seed,
        scale,
        generator: format!("via-eval {}", env!("CARGO_PKG_VERSION")),
        design: spec.design.kind,
        arm_column: spec.arms.column.clone(),
        control: spec.arms.control.clone(),
        rows: sk.len(),
        units_by_arm,
        clusters_by_arm,
        outcomes,
        unmeasured,
    }
}

/// The strength of an unmeasured (hidden) 0/1 confounder U in these data, on the risk
/// ratio scale of VanderWeele & Ding (2017, *Ann. Intern. Med.* 167:268–274) and Ding
/// & VanderWeele (2016, *Epidemiology* 27:368–377):
/// - with participation: RR_EU = P(U = 1 | treated arm) / P(U = 1 | control arm), the
///   shares realised in the data (first treated arm; its inverse if below 1);
/// - with each outcome whose model (or, for an outcome read off a time, whose source
///   model) has a coefficient on U: RR_UD = the mean expected outcome under control of
///   the control units with U = 1 over that of those with U = 0 (its inverse if below
///   1), i.e. the ratio of risks for a yes/no outcome and of means otherwise;
/// - the bias factor B = RR_EU·RR_UD / (RR_EU + RR_UD − 1): the most such a confounder
///   can shift a risk ratio (Ding & VanderWeele 2016, eq. 1). An E-value above both
///   risk ratios means this confounder cannot explain the estimate away.
fn unmeasured_truth(
    ctx: &Ctx,
    c: &crate::simulate::params::CovariateSim,
    models: &BTreeMap<String, OutcomeModel>,
    done: &Done,
) -> Option<UnmeasuredTruth> {
    let u = ctx.cov.numeric.get(&c.name)?;
    let spec = ctx.spec;
    let mut share_by_arm = BTreeMap::new();
    for (a, arm) in spec.arms.values.iter().enumerate() {
        let rows: Vec<usize> = (0..ctx.sk.len()).filter(|&i| ctx.sk.arm[i] == a).collect();
        if !rows.is_empty() {
            let s = rows.iter().map(|&i| u[i]).sum::<f64>() / rows.len() as f64;
            share_by_arm.insert(arm.value.clone(), s);
        }
    }
    let treated = spec.arms.treated().next()?;
    let at_least_one = |r: f64| if r < 1.0 { 1.0 / r } else { r };
    let rr_eu =
        at_least_one(share_by_arm.get(&treated.value)? / share_by_arm.get(&spec.arms.control)?);
    let coef_of = |m: &OutcomeModel| -> Option<f64> {
        let shared = match m {
            OutcomeModel::Drawn { shared, .. } => shared,
            OutcomeModel::FromTime(f) => models.get(f.source())?.shared()?,
        };
        shared.coef.get(&c.name).copied()
    };
    let outcomes = spec
        .outcomes
        .iter()
        .filter_map(|o| {
            let (m, g) = (models.get(&o.id)?, done.get(&o.id)?);
            let coef = coef_of(m)?;
            let mean = |level: f64| {
                let v: Vec<f64> = (0..ctx.sk.len())
                    .filter(|&i| ctx.is_control(i) && u[i] == level)
                    .map(|i| control_value(g, i))
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            let rr = at_least_one(mean(1.0) / mean(0.0));
            rr.is_finite().then(|| UnmeasuredOutcome {
                outcome: o.id.clone(),
                coefficient: coef,
                risk_ratio: rr,
                bias_factor: rr_eu * rr / (rr_eu + rr - 1.0),
            })
        })
        .collect();
    Some(UnmeasuredTruth {
        name: c.name.clone(),
        description: c.description.clone(),
        share_by_arm,
        risk_ratio_participation: rr_eu,
        outcomes,
        note: "NOT in the data: an unmeasured confounder, generated to show what the E-value means. risk_ratio_participation is how much more common it is among participants (share ratio); each outcome's risk_ratio how much more likely (or larger) the outcome is with it, among the comparison group; bias_factor = RR_EU*RR_UD/(RR_EU+RR_UD-1), the most it can shift a risk ratio (Ding & VanderWeele 2016). Weighting on the measured covariates leaves its bias in every estimate; an E-value above both risk ratios says a confounder this strong cannot explain the result away.".to_string(),
    })
}

/// Number of clusters with rows in each arm.
fn clusters_by_arm(spec: &PilotSpec, sk: &Skeleton) -> BTreeMap<String, usize> {
    let mut m: BTreeMap<String, usize> = BTreeMap::new();
    for arm in &spec.arms.values {
        let a = spec
            .arms
            .values
            .iter()
            .position(|x| x.value == arm.value)
            .unwrap_or(0);
        let set: std::collections::BTreeSet<usize> = (0..sk.len())
            .filter(|&i| sk.arm[i] == a)
            .filter_map(|i| sk.cluster[i])
            .collect();
        m.insert(arm.value.clone(), set.len());
    }
    m
}

/// Row weights for means over rows: aggregated rows count persons, so they weigh by
/// the outcome's trials.
struct Weights(Vec<f64>);

impl Weights {
    fn of(ctx: &Ctx, o: &OutcomeSpec) -> Self {
        let n = ctx.sk.len();
        Self(match &o.source {
            OutcomeSource::Counts { trials, .. } => ctx
                .trials_of(trials)
                .map(|t| t.iter().map(|x| *x as f64).collect())
                .unwrap_or_else(|| vec![1.0; n]),
            _ => vec![1.0; n],
        })
    }

    /// Weighted mean of `val` over the rows `sel` picks, and the number of rows.
    fn mean(&self, sel: &dyn Fn(usize) -> bool, val: &dyn Fn(usize) -> f64) -> (f64, usize) {
        let (mut num, mut den, mut k) = (0.0, 0.0, 0);
        for i in (0..self.0.len()).filter(|&i| sel(i)) {
            num += self.0[i] * val(i);
            den += self.0[i];
            k += 1;
        }
        (if den > 0.0 { num / den } else { f64::NAN }, k)
    }
}

/// Control-arm expectation of unit `i`: for time-to-event, P(event by follow-up).
fn control_value(g: &Generated, i: usize) -> f64 {
    match g.weibull {
        Some((wb, f)) => wb.cdf(f, g.e_own[i]),
        None => g.e_own[i],
    }
}

fn outcome_truth(ctx: &Ctx, o: &OutcomeSpec, g: &Generated, m: &OutcomeModel) -> OutcomeTruth {
    let spec = ctx.spec;
    let w = Weights::of(ctx, o);
    let (control_mean, _) = w.mean(&|i| ctx.is_control(i), &|i| control_value(g, i));
    let mut effects = Vec::new();
    let mut hr_error: Option<f64> = None;
    for arm in spec.arms.treated() {
        let (e, err) = arm_effects(ctx, o, &w, g, m, &arm.value, control_mean);
        effects.extend(e);
        hr_error = max_bound(hr_error, err);
    }
    OutcomeTruth {
        id: o.id.clone(),
        kind: o.kind,
        primary: o.primary,
        estimand: estimand(o).to_string(),
        control_measure: control_measure(o, m, spec.data.layout),
        control_mean,
        model: model_text(o, m),
        estimand_method: match (&ctx.first, &ctx.time) {
            (Some(_), _) => format!(
                "{} {STAGGERED_METHOD}",
                estimand_method(spec, o, m, hr_error)
            ),
            (None, Some(_)) if o.kind != OutcomeKind::TimeToEvent => {
                format!("{} {TIME_METHOD}", estimand_method(spec, o, m, hr_error))
            }
            _ => estimand_method(spec, o, m, hr_error),
        },
        effects,
        n_bounded: g.n_bounded,
        missing_by_arm: m.shared().map(|s| s.missing.clone()).unwrap_or_default(),
    }
}

/// The larger of two optional error bounds.
fn max_bound(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The true effects of one treated arm: one per project (or one for the pilot), plus
/// the pooled effect where there are projects; and the largest numerical error bound
/// of their marginal hazard ratios (time-to-event).
fn arm_effects(
    ctx: &Ctx,
    o: &OutcomeSpec,
    w: &Weights,
    g: &Generated,
    m: &OutcomeModel,
    arm: &str,
    control_mean: f64,
) -> (Vec<EffectTruth>, Option<f64>) {
    let (spec, sk) = (ctx.spec, ctx.sk);
    let is_tte = o.kind == OutcomeKind::TimeToEvent;
    let strata: Vec<Option<usize>> = if spec.projects.is_empty() {
        vec![None]
    } else {
        (0..spec.projects.len()).map(Some).collect()
    };
    let in_stratum = |i: usize, st: Option<usize>| st.is_none() || sk.project[i] == st;
    let a = spec
        .arms
        .values
        .iter()
        .position(|x| x.value == arm)
        .unwrap_or(0);
    let mut effects = Vec::new();
    let mut per_project = Vec::new();
    for st in &strata {
        let project = st.map(|j| spec.projects[j].value.clone());
        let configured = m.effect_for(arm, project.as_deref());
        let (diff, n_t) = w.mean(&|i| sk.arm[i] == a && in_stratum(i, *st), &|i| {
            g.e_own[i] - g.e_ctrl[i]
        });
        let effect = if is_tte {
            configured.unwrap_or(1.0)
        } else {
            snap(diff, configured)
        };
        let (cm, n_c) = w.mean(&|i| ctx.is_control(i) && in_stratum(i, *st), &|i| {
            control_value(g, i)
        });
        per_project.push((effect, n_t));
        effects.push((effect, project, cm, n_t, n_c, None));
    }
    if !spec.projects.is_empty() {
        // Pooled over projects: participant-weighted (ATT) and a plain mean of the
        // project effects; hazard ratios are pooled on the log scale.
        let total: usize = per_project.iter().map(|(_, k)| k).sum();
        let k = per_project.len() as f64;
        let (pooled, plain) = if is_tte {
            let wl: f64 = per_project.iter().map(|(e, m)| e.ln() * *m as f64).sum();
            let pl: f64 = per_project.iter().map(|(e, _)| e.ln()).sum();
            ((wl / total.max(1) as f64).exp(), (pl / k).exp())
        } else {
            let (d, _) = w.mean(&|i| sk.arm[i] == a, &|i| g.e_own[i] - g.e_ctrl[i]);
            (d, per_project.iter().map(|(e, _)| e).sum::<f64>() / k)
        };
        let n_c = (0..sk.len()).filter(|&i| ctx.is_control(i)).count();
        effects.push((pooled, None, control_mean, total, n_c, Some(plain)));
    }
    let mut hr_error: Option<f64> = None;
    let effects = effects
        .into_iter()
        .map(|(effect, project, cm, n_t, n_c, plain)| {
            let entry = reported::Entry {
                arm: a,
                project: project
                    .as_ref()
                    .and_then(|p| spec.projects.iter().position(|x| &x.value == p)),
                effect,
            };
            let r = reported::reported(ctx, o, w, g, m, entry);
            hr_error = max_bound(hr_error, r.hr_error);
            let mut estimands = r.estimands;
            let mut by_event_time = Vec::new();
            if project.is_none()
                && let Some((cs, dynamic)) = staggered_truth(ctx, g, a)
            {
                estimands.extend(cs);
                by_event_time = dynamic;
            }
            // An interrupted time series of the whole sample: the effect is a level
            // change at the start, with no change of slope.
            if project.is_none() && ctx.time.is_some() && !is_tte {
                estimands.insert("its_level".to_string(), effect);
                estimands.insert("its_slope".to_string(), 0.0);
            }
            EffectTruth {
                arm: arm.to_string(),
                project,
                effect,
                estimands,
                by_event_time,
                survival_differences: r.survival,
                control_mean: cm,
                n_treated: n_t,
                n_control: n_c,
                mean_of_projects: plain,
            }
        })
        .collect();
    (effects, hr_error)
}

/// How the truth of a staggered panel is computed, for `estimand_method`.
const STAGGERED_METHOD: &str = "Staggered panel: the participating employers join in different years; the effect is 0 before joining and `effect` + e x `effect_growth` in the e-th year after (p_own = p_ctrl + effect; no probability is clipped when n_bounded is 0). The risk-difference entries above average over every participant row, the years before joining included, and are not what any reported estimator targets here. cs_simple, cs_dynamic and by_event_time are the population values of the Callaway & Sant'Anna aggregations on the employers the analysis uses (observed in every year, as R did keeps a balanced panel; cohorts starting in the first year left out): ATT(g,t) = the unweighted mean over the employers of cohort g of p_own - p_ctrl in year t (each employer counts once, as the unweighted estimator on the employer shares does); cs_simple = sum over cells t >= g of n_g ATT(g,t) / sum of n_g; by_event_time e: sum over cohorts of n_g ATT(g, g+e) / sum of n_g over the cohorts observed at e; cs_dynamic = the plain mean of the e >= 0 values. Because the simulated effect depends on the time since joining only (not on the cohort), the event-study coefficient at e (never-treated controls, reference e = -1, every relative year its own coefficient) has the same true value as by_event_time. twfe_did has no true value recorded: with effects that grow over time its estimate is a weighted average of comparisons with weights that can be negative (Goodman-Bacon 2021), not an average effect; the recovery test shows it missing cs_simple.";

/// How the truth of an interrupted time series is computed, for `estimand_method`.
const TIME_METHOD: &str = "Interrupted time series: every unit has a period (`[time]`, uniform on its arm's range); the probability has a linear trend over the periods (`trend_risk`, added to the probability, so it is a straight line on the difference scale) and the intervention adds `effect` from the start on, the same in every later period. its_level, the level change at the start in the segmented regression on the organisation-period means, is therefore the effect (the mean of p_own - p_ctrl over the treated units, exact when n_bounded is 0), and its_slope, the change of slope, is 0. The before/after difference (ols, risk_difference_newcombe) targets the effect plus the trend between the two periods' mean times and misses it.";

/// Staggered panels: the true values of the Callaway & Sant'Anna aggregations on the
/// units the analysis uses (the clusters of `arm` observed in every period, as R
/// did's balanced panel keeps them), each group-time effect ATT(g,t) being the
/// unweighted mean over the cohort's clusters of p_own − p_ctrl at t (every cluster
/// counts once, as the unweighted estimator of the employer shares does):
/// `cs_simple` = Σ n_g ATT(g,t) / Σ n_g over the cells t ≥ g; `cs_dynamic` per event
/// time e = Σ_g n_g ATT(g, g+e) / Σ_g n_g over the cohorts observed at e, overall the
/// plain mean of the e ≥ 0 values. Cohorts in the first period are left out, as the
/// estimator does.
fn staggered_truth(
    ctx: &Ctx,
    g: &Generated,
    arm: usize,
) -> Option<(BTreeMap<String, f64>, Vec<EventTimeTruth>)> {
    let first = ctx.first.as_ref()?;
    let (&t0, &t_last) = (ctx.periods.iter().min()?, ctx.periods.iter().max()?);
    // Per cluster: its rows, and whether any is missing.
    let mut rows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..ctx.sk.len() {
        if ctx.sk.arm[i] == arm
            && let Some(c) = ctx.sk.cluster[i]
        {
            rows.entry(c).or_default().push(i);
        }
    }
    // ATT(g,t) sums: (cohort, period) -> (sum of differences, units).
    let mut cells: BTreeMap<(i64, i64), (f64, usize)> = BTreeMap::new();
    let mut n_g: BTreeMap<i64, usize> = BTreeMap::new();
    for r in rows.values() {
        let balanced = r.len() == ctx.periods.len() && r.iter().all(|&i| !g.missing[i]);
        let Some(gc) = first[r[0]] else { continue };
        if !balanced || gc <= t0 || gc > t_last {
            continue;
        }
        *n_g.entry(gc).or_default() += 1;
        for &i in r {
            let t = ctx.period_of(i)?;
            let e = cells.entry((gc, t)).or_default();
            e.0 += g.e_own[i] - g.e_ctrl[i];
            e.1 += 1;
        }
    }
    if n_g.is_empty() {
        return None;
    }
    let att = |gc: i64, t: i64| cells.get(&(gc, t)).map(|(s, k)| s / *k as f64);
    let (mut num, mut den) = (0.0, 0.0);
    for (&gc, &n) in &n_g {
        for &t in ctx.periods.iter().filter(|&&t| t >= gc) {
            num += n as f64 * att(gc, t)?;
            den += n as f64;
        }
    }
    let mut dynamic = Vec::new();
    let (e_lo, e_hi) = (t0 - n_g.keys().max()?, t_last - n_g.keys().min()?);
    for e in e_lo..=e_hi {
        let (mut s, mut w, mut units) = (0.0, 0.0, 0usize);
        for (&gc, &n) in &n_g {
            // Before joining the simulated effect is 0, so are these cells.
            if let Some(v) = att(gc, gc + e) {
                s += n as f64 * v;
                w += n as f64;
                units += n;
            }
        }
        if w > 0.0 {
            dynamic.push(EventTimeTruth {
                event_time: e,
                effect: s / w,
                units,
            });
        }
    }
    let post: Vec<f64> = dynamic
        .iter()
        .filter(|d| d.event_time >= 0)
        .map(|d| d.effect)
        .collect();
    let mut estimands = BTreeMap::new();
    estimands.insert("cs_simple".to_string(), num / den);
    estimands.insert(
        "cs_dynamic".to_string(),
        post.iter().sum::<f64>() / post.len() as f64,
    );
    Some((estimands, dynamic))
}

/// How the estimand values of an outcome were computed and how exact they are (see
/// [`reported::reported`]), for `estimand_method` in truth.json.
fn estimand_method(
    spec: &PilotSpec,
    o: &OutcomeSpec,
    m: &OutcomeModel,
    hr_error: Option<f64>,
) -> String {
    let exact = "Exact expectations over the treated units, each under its own arm and under control (rounding error only)";
    let (shared, t) = match m {
        OutcomeModel::FromTime(FromTime::Event(_)) => {
            return format!(
                "{exact}: km_risk_difference is the difference in P(event by the cut-off), from the Weibull model of the source outcome."
            );
        }
        OutcomeModel::FromTime(_) => {
            return format!(
                "{exact}: rmst_difference is the difference in the expected capped time (restricted mean of the source outcome's Weibull model, closed form)."
            );
        }
        OutcomeModel::Drawn {
            shared,
            model: DrawnModel::TimeToEvent(t),
        } => (shared, t),
        OutcomeModel::Drawn { .. } if o.kind == OutcomeKind::Binary => {
            return format!(
                "{exact}: the difference estimators target the risk difference; risk_ratio and odds_ratio are marginal ratios of the mean probabilities p1 (own arm) and p0 (control)."
            );
        }
        OutcomeModel::Drawn { .. } => {
            return format!("{exact}: every difference estimator targets the difference in means.");
        }
    };
    let horizon = o.horizon.unwrap_or(t.follow_up);
    let strata = if spec.projects.is_empty() {
        ""
    } else {
        ", stratified by project in the pooled entry"
    };
    let bound = hr_error.map_or("none computed".to_string(), |e| format!("{e:.1e}"));
    let adjusted = match reported::adjusted_cox_gap(spec, shared) {
        Some(why) => format!("cox_hazard_ratio_adjusted is left out: {why}."),
        None if !spec.projects.is_empty() => "cox_hazard_ratio_adjusted is the configured hazard ratio (the adjusted model is correctly specified); left out of a pooled entry whose projects have different hazard ratios.".to_string(),
        None => "cox_hazard_ratio_adjusted is the configured hazard ratio (the adjusted model is correctly specified).".to_string(),
    };
    format!(
        "rmst_difference (horizon {horizon}) and survival_differences are exact (closed-form Weibull survival and restricted means, averaged over the treated units under each arm). cox_hazard_ratio is the marginal hazard ratio an unadjusted Cox model converges to: the root of its limiting partial-likelihood score (Struthers & Kalbfleisch 1986) under the simulated censoring (follow-up {}, dropout rate {}){strata}, integrated by composite Gauss-Legendre quadrature; numerical error of the ratio below {bound} (its change when the panels are halved, plus the root-finding tolerance). {adjusted}",
        t.follow_up,
        t.dropout.unwrap_or(0.0)
    )
}

fn estimand(o: &OutcomeSpec) -> &'static str {
    match o.kind {
        OutcomeKind::Binary => {
            "risk difference (difference in proportions, as a proportion: 0.02 = +2 percentage points)"
        }
        OutcomeKind::Continuous | OutcomeKind::Count | OutcomeKind::Ordinal => {
            "difference in means"
        }
        OutcomeKind::TimeToEvent => "hazard ratio (conditional on the covariates and cluster)",
    }
}

fn control_measure(o: &OutcomeSpec, m: &OutcomeModel, layout: DataLayout) -> String {
    let follow_up = match m {
        OutcomeModel::Drawn {
            model: DrawnModel::TimeToEvent(t),
            ..
        } => t.follow_up,
        _ => 0.0,
    };
    match (o.kind, layout) {
        (OutcomeKind::TimeToEvent, _) => format!(
            "expected proportion of control units with the event by the end of follow-up ({follow_up}), ignoring dropout"
        ),
        (OutcomeKind::Binary, DataLayout::Aggregated) => {
            "expected proportion in the control arm, weighted by trials (persons)".to_string()
        }
        (OutcomeKind::Binary, _) => "expected proportion in the control arm".to_string(),
        _ => "expected mean in the control arm".to_string(),
    }
}

fn model_text(o: &OutcomeSpec, m: &OutcomeModel) -> String {
    let (shared, model) = match m {
        OutcomeModel::FromTime(f) => {
            let (t, by) = (f.source(), f.by());
            return match f {
                FromTime::Event(_) => format!(
                    "1 if the event of \"{t}\" happened by {by}; missing if censored before then"
                ),
                FromTime::Time(_) | FromTime::Count(_) => format!(
                    "min(time of \"{t}\", {by}) x {}; missing if censored before then; the truth is the restricted-mean difference",
                    f.per_time_unit().unwrap_or(1.0)
                ),
            };
        }
        OutcomeModel::Drawn { shared, model } => (shared, model),
    };
    let mut parts = Vec::new();
    parts.push(
        match o.kind {
            OutcomeKind::Binary => "Bernoulli/binomial; logit p0 = logit(base) + linear predictor; p1 = p0 + effect (risk difference), clipped to [0, 1]",
            OutcomeKind::Continuous => "normal; mean = base + linear predictor + effect; residual SD `sd`; clipped to [min, max] (the truth accounts for clipping)",
            OutcomeKind::Count => "count; mean = base x exp(linear predictor) + effect",
            OutcomeKind::Ordinal => "proportional odds; latent = linear predictor + effect (log cumulative odds) + logistic noise; truth = implied difference in mean level",
            OutcomeKind::TimeToEvent => "Weibull proportional hazards; median time `base` at linear predictor 0; effect = hazard ratio; censored at follow-up and by dropout",
        }
        .to_string(),
    );
    parts.push("linear predictor = coefficients x centred covariates".to_string());
    if let Some(sd) = shared.cluster_sd {
        parts.push(format!("+ cluster effect N(0, {sd}) on the model's scale"));
    }
    match model {
        DrawnModel::Binary(b) => {
            if let Some(p) = &b.nested_in {
                parts.push(format!("shares its uniform draw with \"{p}\" and never exceeds its probability, so 1 implies \"{p}\" = 1"));
            }
        }
        DrawnModel::Continuous(ContinuousSim { zero_unless, .. })
        | DrawnModel::Count(CountSim { zero_unless, .. }) => {
            if let Some(p) = zero_unless {
                parts.push(format!("0 wherever \"{p}\" is 0"));
            }
        }
        DrawnModel::Ordinal(_) | DrawnModel::TimeToEvent(_) | DrawnModel::Counts(_) => {}
    }
    parts.join("; ")
}
