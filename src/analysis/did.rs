//! Difference-in-differences on a prepared panel: runs the estimators of
//! [`crate::stats::did`], applies disclosure control, and gathers the outcome means by
//! cohort and period for the parallel-trends chart. A pilot config (design kind
//! `panel`) can call [`run_did`] with a [`PanelInput`] the same way the `did` command
//! does.
//!
//! Disclosure control (persons per row: the trials with events/trials, else 1 per
//! unit-period row): a cohort-period mean needs at least `threshold` persons; an
//! event-study coefficient needs `threshold` persons in the treated rows at its
//! relative period and in the never-treated rows of every period (the not-yet-treated
//! rows when no unit is never treated); the static TWFE estimate needs `threshold`
//! persons in the treated rows, and in the untreated rows where there are any, of every
//! period that has treated rows. A withheld coefficient withholds the pre-trend
//! test when it is a pre-period one. Withheld numbers are null, never zero.

use serde::Serialize;

use super::disclosure::Privacy;
use crate::error::{Error, Result};
use crate::stats::did::{self, DidOptions, EventStudyResult, Panel, TwfeResult, WaldTest};
use crate::stats::did_cs::{self, AttGt, CsAggregate, CsBase, CsBootstrap, CsControl};
use crate::stats::did_sa::{self, SaControl, SaResult};
use crate::stats::fe::FeWeights;

/// The prepared panel (built by [`crate::prepare::panel`]): plain vectors for [`crate::stats::did::Panel`].
#[derive(Debug, Clone, PartialEq)]
pub struct PanelInput {
    pub y: Vec<f64>,
    /// Unit codes in sorted label order.
    pub unit: Vec<u32>,
    pub unit_labels: crate::data::Labels,
    pub period: Vec<i64>,
    /// Each unit's first treated period, indexed by unit code (every code has rows);
    /// `None` for never treated.
    pub unit_first_treated: Vec<Option<i64>>,
    /// Cluster codes per row; `None` when the units are the clusters.
    pub cluster: Option<Vec<u32>>,
    pub n_clusters: usize,
    pub covariates: Vec<Vec<f64>>,
    /// The covariates' column names (for messages).
    pub covariate_names: Vec<String>,
    /// Analytic weights (`--weights`) or the trials (frequency weights).
    pub weights: Option<Vec<f64>>,
    /// Whether `weights` are frequency weights (events/trials).
    pub frequency: bool,
    /// Persons behind each row (the trials); `None` when each row is one person.
    pub persons: Option<Vec<f64>>,
    pub notes: Vec<String>,
}

impl PanelInput {
    /// The cluster code of every row (the unit codes when the units are the clusters).
    pub fn clusters(&self) -> &[u32] {
        self.cluster.as_deref().unwrap_or(&self.unit)
    }

    /// The persons behind row `i`.
    #[inline]
    pub fn person(&self, i: usize) -> f64 {
        self.persons.as_ref().map_or(1.0, |p| p[i])
    }

    /// The first treated period of row `i`'s unit.
    #[inline]
    pub fn first_treated(&self, i: usize) -> Option<i64> {
        self.unit_first_treated[self.unit[i] as usize]
    }
}

/// Which estimators to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Which {
    pub twfe: bool,
    pub event_study: bool,
    /// Callaway & Sant'Anna.
    pub cs: bool,
    /// The comparison group of Callaway & Sant'Anna.
    pub cs_control: CsControl,
    /// Whether a Callaway & Sant'Anna failure is an error (asked for by name) or a note
    /// (part of "all").
    pub cs_required: bool,
}

/// Callaway & Sant'Anna results with their disclosure flags.
#[derive(Debug, Clone, PartialEq)]
pub struct CsResults {
    pub cells: Vec<AttGt>,
    pub cell_suppressed: Vec<bool>,
    pub simple: CsAggregate,
    pub simple_suppressed: bool,
    pub dynamic: Vec<CsAggregate>,
    pub dynamic_suppressed: Vec<bool>,
    pub dynamic_overall: CsAggregate,
    pub dynamic_overall_suppressed: bool,
    /// Per cohort (in `event_time`) and overall.
    pub group: Vec<CsAggregate>,
    pub group_suppressed: Vec<bool>,
    pub group_overall: CsAggregate,
    /// Per calendar period (in `event_time`) and overall.
    pub calendar: Vec<CsAggregate>,
    pub calendar_suppressed: Vec<bool>,
    pub calendar_overall: CsAggregate,
    /// Whether any post-period cell is withheld (then every overall number is).
    pub post_suppressed: bool,
}

/// Event-study settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSettings {
    pub reference: i64,
    pub window: Option<(i64, i64)>,
}

/// A cohort's mean outcome in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortMean {
    /// First treated period; `None` for never treated.
    pub cohort: Option<i64>,
    pub period: i64,
    /// Weighted by the weights (trials) when given; null when withheld.
    pub mean: Option<f64>,
    /// Persons behind the mean; null when withheld.
    pub persons: Option<f64>,
    pub suppressed: bool,
}

/// The results with disclosure control applied (withheld parts are `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct DidResults {
    pub twfe: Option<TwfeResult>,
    pub twfe_suppressed: bool,
    pub event_study: Option<EventStudyResult>,
    /// Per coefficient of `event_study`, whether it is withheld.
    pub event_suppressed: Vec<bool>,
    pub pretrend: Option<WaldTest>,
    pub pretrend_suppressed: bool,
    pub cs: Option<CsResults>,
    pub cohort_means: Vec<CohortMean>,
    /// Units per cohort (null when fewer than the threshold).
    pub cohorts: Vec<(Option<i64>, Option<usize>)>,
    pub n_periods: usize,
    pub threshold: Option<usize>,
    pub notes: Vec<String>,
}

/// Run the chosen estimators on `input` (Callaway & Sant'Anna with the varying base
/// period).
pub fn run_did(
    input: &PanelInput,
    which: Which,
    events: EventSettings,
    opts: &DidOptions,
    privacy: Privacy,
) -> Result<DidResults> {
    run_did_with(input, which, events, opts, privacy, CsBase::Varying)
}

/// [`run_did`] with Callaway & Sant'Anna's base period chosen by `cs_base`.
pub fn run_did_with(
    input: &PanelInput,
    which: Which,
    events: EventSettings,
    opts: &DidOptions,
    privacy: Privacy,
    cs_base: CsBase,
) -> Result<DidResults> {
    let covs: Vec<&[f64]> = input.covariates.iter().map(Vec::as_slice).collect();
    let panel = panel_of(input, &covs);
    let stats_err = |e: crate::stats::StatsError| stats_error(input, e);
    crate::timings::time("did: check", || did::check_panel(&panel)).map_err(stats_err)?;
    let threshold = match privacy {
        Privacy::Control(t) => Some(t.get() as f64),
        Privacy::Off => None,
    };
    let enough = |p: f64| threshold.is_none_or(|t| p >= t);
    let periods = did::distinct_periods(&input.period);
    // Persons per period in never-treated, treated (D = 1) and untreated rows.
    let np = periods.len();
    let (never, treated, untreated) = crate::timings::time("did: persons per period", || {
        persons_per_period(input, &periods)
    });
    let mut notes = input.notes.clone();
    let twfe = if which.twfe {
        Some(crate::timings::time("did: twfe", || did::twfe_did(&panel, opts)).map_err(stats_err)?)
    } else {
        None
    };
    let twfe_suppressed = twfe.is_some()
        && !(0..np)
            .filter(|&k| treated[k] > 0.0)
            .all(|k| enough(treated[k]) && (untreated[k] == 0.0 || enough(untreated[k])));
    let event_study = if which.event_study {
        Some(
            crate::timings::time("did: event study", || {
                did::event_study(&panel, events.reference, events.window, opts)
            })
            .map_err(stats_err)?,
        )
    } else {
        None
    };
    let mut event_suppressed = Vec::new();
    let mut pretrend = None;
    let mut pretrend_suppressed = false;
    if let Some(es) = &event_study {
        let (lo, hi) = es.window;
        let by_event = did::relative_totals(&panel, lo, hi, input.persons.as_deref());
        // The comparison rows of each period: the never treated, or (without them, with
        // binned endpoints) the not yet treated. A period without any is no cell.
        let has_never = never.iter().any(|&p| p > 0.0);
        let comparison = if has_never { &never } else { &untreated };
        let never_ok = comparison.iter().all(|&p| p == 0.0 || enough(p));
        for c in &es.coefficients {
            let persons = by_event.get(&c.event_time).map_or(0.0, |t| t.1);
            event_suppressed.push(!(enough(persons) && never_ok));
        }
        pretrend_suppressed = es
            .coefficients
            .iter()
            .zip(&event_suppressed)
            .any(|(c, &s)| c.event_time < 0 && s);
        pretrend = es.pretrend;
        if es.pretrend.is_none() {
            notes.push("no pre-period coefficient: the pre-trend test is not available".into());
        }
    }
    let cs = if which.cs {
        let _t = crate::timings::phase("did: callaway-santanna");
        match cs_results(&panel, which.cs_control, cs_base, opts.conf_level, &enough) {
            Ok(r) => Some(r),
            Err(e) if !which.cs_required => {
                notes.push(format!(
                    "Callaway-Sant'Anna not estimated: {}",
                    stats_err(e).report()
                ));
                None
            }
            Err(e) => return Err(stats_err(e)),
        }
    } else {
        None
    };
    let (cohort_means, cohorts) = crate::timings::time("did: cohort tables", || {
        cohort_tables(input, &periods, &enough)
    });
    Ok(DidResults {
        twfe,
        twfe_suppressed,
        event_study,
        event_suppressed,
        pretrend,
        pretrend_suppressed,
        cs,
        cohort_means,
        cohorts,
        n_periods: np,
        threshold: threshold.map(|t| t as usize),
        notes,
    })
}

/// The persons per period (index into `periods`) in never-treated rows, in treated
/// rows (D = 1) and in untreated rows.
fn persons_per_period(input: &PanelInput, periods: &[i64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let pidx = |t: i64| periods.binary_search(&t).unwrap_or(0);
    let np = periods.len();
    let (mut never, mut treated, mut untreated) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    for i in 0..input.y.len() {
        let k = pidx(input.period[i]);
        let p = input.person(i);
        match input.first_treated(i) {
            None => {
                never[k] += p;
                untreated[k] += p;
            }
            Some(g) if g <= input.period[i] => treated[k] += p,
            Some(_) => untreated[k] += p,
        }
    }
    (never, treated, untreated)
}

/// The mean outcome of each cohort in each period (weighted by the weights when
/// given; withheld below the threshold: `enough` of the persons) and the units per
/// cohort (each unit counted at its first row; a unit has one cohort).
#[allow(clippy::type_complexity)]
fn cohort_tables(
    input: &PanelInput,
    periods: &[i64],
    enough: &dyn Fn(f64) -> bool,
) -> (Vec<CohortMean>, Vec<(Option<i64>, Option<usize>)>) {
    let np = periods.len();
    let pidx = |t: i64| periods.binary_search(&t).unwrap_or(0);
    let cohort_keys = did::distinct_cohorts(&input.unit_first_treated);
    let ck = |g: Option<i64>| cohort_keys.binary_search(&g).unwrap_or(0);
    let nc = cohort_keys.len();
    let (mut sw, mut swy, mut sp) = (vec![0.0; nc * np], vec![0.0; nc * np], vec![0.0; nc * np]);
    // Units per cohort (every unit has rows).
    let mut units_in = vec![0usize; nc];
    for &g in &input.unit_first_treated {
        units_in[ck(g)] += 1;
    }
    for i in 0..input.y.len() {
        let c = ck(input.first_treated(i));
        let k = c * np + pidx(input.period[i]);
        let w = input.weights.as_ref().map_or(1.0, |w| w[i]);
        sw[k] += w;
        swy[k] += w * input.y[i];
        sp[k] += input.person(i);
    }
    let mut cohort_means = Vec::new();
    for (c, &g) in cohort_keys.iter().enumerate() {
        for (k, &t) in periods.iter().enumerate() {
            let j = c * np + k;
            if sw[j] == 0.0 {
                continue;
            }
            let ok = enough(sp[j]);
            cohort_means.push(CohortMean {
                cohort: g,
                period: t,
                mean: ok.then(|| swy[j] / sw[j]),
                persons: ok.then_some(sp[j]),
                suppressed: !ok,
            });
        }
    }
    let cohorts: Vec<(Option<i64>, Option<usize>)> = cohort_keys
        .iter()
        .zip(&units_in)
        .map(|(&g, &u)| (g, enough(u as f64).then_some(u)))
        .collect();
    (cohort_means, cohorts)
}

/// A stats error as an analysis error, with unit codes and covariate numbers replaced by
/// their labels and column names.
fn stats_error(input: &PanelInput, e: crate::stats::StatsError) -> Error {
    let name = |u: &str| -> String {
        // Messages from stats name unit codes; give the label.
        u.parse::<usize>()
            .ok()
            .and_then(|k| input.unit_labels.get(k))
            .map_or(u.to_string(), |l| format!("\"{l}\""))
    };
    let mut m = e.to_string();
    // The doubly robust estimator names covariates by position, in quotes.
    for (k, n) in input.covariate_names.iter().enumerate() {
        m = m.replace(&format!("\"covariate {k}\""), &format!("\"{n}\""));
    }
    let m = match m.strip_prefix("covariate ") {
        Some(rest) => {
            let (k, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            let name = k
                .parse::<usize>()
                .ok()
                .and_then(|k| input.covariate_names.get(k))
                .map_or(k.to_string(), |n| format!("\"{n}\""));
            format!("covariate {name} {tail}")
        }
        None => m,
    };
    let m = match m.strip_prefix("unit ") {
        Some(rest) => {
            let (code, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            format!("unit {} {tail}", name(code))
        }
        None => m,
    };
    Error::analysis(m)
}

/// Callaway & Sant'Anna's group-time effects: unconditional, or doubly robust when the
/// panel has covariates.
fn cs_fit(
    panel: &Panel,
    control: CsControl,
    base: CsBase,
    conf_level: f64,
) -> crate::stats::StatsResult<did_cs::CsFit> {
    let ((y, periods, first), x) =
        crate::timings::time("cs: wide", || did_cs::wide_with_covariates(panel))?;
    did_cs::cs_att_gt_owned(y, &x, &periods, &first, control, base, conf_level)
}

/// Callaway & Sant'Anna with disclosure control: a cell needs `threshold` units in its
/// cohort and among its comparison units; an aggregate is withheld when a cell in it is.
fn cs_results(
    panel: &Panel,
    control: CsControl,
    base: CsBase,
    conf_level: f64,
    enough: &dyn Fn(f64) -> bool,
) -> crate::stats::StatsResult<CsResults> {
    let fit = crate::timings::time("cs: cells", || cs_fit(panel, control, base, conf_level))?;
    let cell_suppressed: Vec<bool> = fit
        .cells
        .iter()
        .map(|c| !(enough(c.n_group as f64) && enough(c.n_control as f64)))
        .collect();
    let any = |f: &dyn Fn(&AttGt) -> bool| {
        fit.cells
            .iter()
            .zip(&cell_suppressed)
            .any(|(c, &s)| s && f(c))
    };
    // The four aggregations one after another: each walks the cells once over all
    // units, and side by side their vectors of n values raised the peak memory (10^6
    // rows: 63 -> 59 MB this way, the time the same within its noise).
    let (simple, dynamic, group, calendar) = (
        fit.simple(),
        fit.dynamic(),
        fit.by_group(),
        fit.by_calendar(),
    );
    let (simple, (dynamic, dynamic_overall)) = (simple?, dynamic?);
    let ((group, group_overall), (calendar, calendar_overall)) = (group?, calendar?);
    let dynamic_suppressed = dynamic
        .iter()
        .map(|d| {
            let e = d.event_time.unwrap_or(0);
            any(&|c: &AttGt| c.time - c.group == e)
        })
        .collect();
    let group_suppressed = group
        .iter()
        .map(|r| {
            let g = r.event_time.unwrap_or(0);
            any(&|c: &AttGt| c.group == g && c.time >= g)
        })
        .collect();
    let calendar_suppressed = calendar
        .iter()
        .map(|r| {
            let t = r.event_time.unwrap_or(0);
            any(&|c: &AttGt| c.time == t && c.group <= t)
        })
        .collect();
    Ok(CsResults {
        post_suppressed: any(&|c: &AttGt| c.time >= c.group),
        group,
        group_suppressed,
        group_overall,
        calendar,
        calendar_suppressed,
        calendar_overall,
        simple_suppressed: any(&|c: &AttGt| c.time >= c.group),
        dynamic_overall_suppressed: any(&|c: &AttGt| c.time >= c.group),
        cells: fit.cells.clone(),
        cell_suppressed,
        simple,
        dynamic,
        dynamic_suppressed,
        dynamic_overall,
    })
}

/// Sun & Abraham results with their disclosure flags.
#[derive(Debug, Clone, PartialEq)]
pub struct SaResults {
    pub fit: SaResult,
    /// Per event-time effect of `fit.event`, whether it is withheld.
    pub event_suppressed: Vec<bool>,
    /// Whether the overall ATT is withheld (when a post-period effect is).
    pub att_suppressed: bool,
}

/// The panel of `input` for the estimators (covariate slices in `covs`).
fn panel_of<'a>(input: &'a PanelInput, covs: &'a [&'a [f64]]) -> Panel<'a> {
    Panel {
        y: &input.y,
        unit: &input.unit,
        period: &input.period,
        unit_first_treated: &input.unit_first_treated,
        cluster: input.clusters(),
        covariates: covs,
        weights: match (&input.weights, input.frequency) {
            (Some(w), true) => FeWeights::Frequency(w),
            (Some(w), false) => FeWeights::Analytic(w),
            (None, _) => FeWeights::None,
        },
    }
}

/// Sun & Abraham's interaction-weighted event study ([`crate::stats::did_sa`]) with
/// disclosure control: an event-time effect needs `threshold` persons in the treated
/// rows at its relative period (comparison cohort left out) and in the comparison
/// cohort's rows of every period in the sample; the overall ATT is withheld when a
/// post-period effect is.
pub fn run_sun_abraham(
    input: &PanelInput,
    reference: i64,
    opts: &DidOptions,
    privacy: Privacy,
) -> Result<SaResults> {
    let covs: Vec<&[f64]> = input.covariates.iter().map(Vec::as_slice).collect();
    let panel = panel_of(input, &covs);
    let fit = did_sa::sun_abraham(&panel, reference, opts).map_err(|e| stats_error(input, e))?;
    let threshold = match privacy {
        Privacy::Control(t) => Some(t.get() as f64),
        Privacy::Off => None,
    };
    let enough = |p: f64| threshold.is_none_or(|t| p >= t);
    let t_first = input.period.iter().copied().min().unwrap_or(0);
    let t_last = input.period.iter().copied().max().unwrap_or(0);
    let mut by_event: std::collections::BTreeMap<i64, f64> = Default::default();
    let mut control: std::collections::BTreeMap<i64, f64> = Default::default();
    for i in 0..input.y.len() {
        let t = input.period[i];
        if t > fit.last_period {
            continue;
        }
        let g = input.first_treated(i).filter(|&g| g <= t_last);
        let is_control = match (fit.control, g) {
            (SaControl::Never, None) => true,
            (SaControl::LastTreated(l), Some(g)) => g == l,
            _ => false,
        };
        if is_control {
            *control.entry(t).or_default() += input.person(i);
        } else if let Some(g) = g.filter(|&g| g > t_first) {
            *by_event.entry(t - g).or_default() += input.person(i);
        }
    }
    let control_ok = control.values().all(|&p| enough(p));
    let event_suppressed: Vec<bool> = fit
        .event
        .iter()
        .map(|e| !(control_ok && enough(by_event.get(&e.event_time).copied().unwrap_or(0.0))))
        .collect();
    let att_suppressed = fit
        .event
        .iter()
        .zip(&event_suppressed)
        .any(|(e, &s)| s && e.event_time >= 0);
    Ok(SaResults {
        fit,
        event_suppressed,
        att_suppressed,
    })
}

/// The multiplier bootstrap of Callaway & Sant'Anna: over the ATT(g,t) cells and over
/// the event-time effects (`cs_dynamic`), in the order of [`CsResults`]' `cells` and
/// `dynamic`. Disclosure control is the caller's: a withheld cell or effect withholds
/// its bootstrap numbers too.
#[derive(Debug, Clone, PartialEq)]
pub struct CsBands {
    pub cells: CsBootstrap,
    pub dynamic: CsBootstrap,
}

/// Run the multiplier bootstrap ([`crate::stats::did_cs::multiplier_bootstrap`]) with
/// `reps` draws seeded by `seed`.
pub fn run_cs_bootstrap(
    input: &PanelInput,
    control: CsControl,
    base: CsBase,
    reps: u64,
    seed: u64,
    conf_level: f64,
) -> Result<CsBands> {
    let covs: Vec<&[f64]> = input.covariates.iter().map(Vec::as_slice).collect();
    let panel = panel_of(input, &covs);
    let err = |e| stats_error(input, e);
    let fit = cs_fit(&panel, control, base, conf_level).map_err(err)?;
    Ok(CsBands {
        cells: fit.bootstrap_cells(reps, seed).map_err(err)?,
        dynamic: fit.bootstrap_dynamic(reps, seed).map_err(err)?,
    })
}
