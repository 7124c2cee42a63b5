//! The true value of each estimator the analysis reports, per effect entry.
//!
//! Every value is defined over the population of the entry's `effect`: the treated
//! arm's units in the entry's project (or in every project for the pooled entry), each
//! under its own arm against under control, weighted as [`Weights`] does. The keys are
//! the estimator ids of results.json.

use std::collections::BTreeMap;

use super::{Ctx, Generated, Weights};
use crate::config::nice_times;
use crate::config::{DesignKind, OutcomeSpec};
use crate::simulate::SurvivalDifference;
use crate::simulate::draw::Weibull;
use crate::simulate::estimands::{self, Censoring, CoxStratum, Units};
use crate::simulate::params::{DrawnModel, FromTime, OutcomeModel, Shared, TimeToEventSim};

/// An effect entry: a treated arm (index) and a project (None: the whole pilot), and
/// its recorded effect.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub arm: usize,
    pub project: Option<usize>,
    pub effect: f64,
}

/// What [`reported`] gives for one entry.
#[derive(Debug, Default)]
pub(super) struct Reported {
    pub estimands: BTreeMap<String, f64>,
    pub survival: Vec<SurvivalDifference>,
    /// Numerical error bound of the marginal hazard ratio, where one was computed.
    pub hr_error: Option<f64>,
}

fn keys(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The true values for one entry, by outcome model:
/// - drawn binary: difference estimators = effect; `risk_ratio` = p1/p0 and
///   `odds_ratio` = [p1/(1−p1)]/[p0/(1−p0)], with p1, p0 the weighted mean expected
///   outcomes under the own arm and under control (marginal ratios);
/// - drawn continuous, count, ordinal: the difference estimators = effect;
/// - derived from a time: `km_risk_difference` (event by `by`) or `rmst_difference`
///   (capped time) = effect, and the complete-case difference estimators = effect
///   (the same target; they miss it where follow-up ends early);
/// - drawn time-to-event: see [`time_to_event`].
pub(super) fn reported(
    ctx: &Ctx,
    o: &OutcomeSpec,
    w: &Weights,
    g: &Generated,
    m: &OutcomeModel,
    e: Entry,
) -> Reported {
    let values = match m {
        // The complete-case estimators target the same difference (they are biased
        // for it where follow-up ends before `by`; without a lottery they stay the
        // headline, so their truth is recorded too).
        OutcomeModel::FromTime(FromTime::Event(_)) => keys(&[
            ("km_risk_difference", e.effect),
            ("ols_adjusted_ipcw", e.effect),
            ("risk_difference_newcombe", e.effect),
            ("ols", e.effect),
            ("ols_adjusted", e.effect),
        ]),
        OutcomeModel::FromTime(FromTime::Time(_) | FromTime::Count(_)) => keys(&[
            ("rmst_difference", e.effect),
            ("ols_adjusted_ipcw", e.effect),
            ("welch", e.effect),
            ("ols", e.effect),
            ("ols_adjusted", e.effect),
        ]),
        OutcomeModel::Drawn { shared, model } => match model {
            DrawnModel::Binary(_) | DrawnModel::Counts(_) => {
                let sel = |i: usize| in_entry(ctx, e, i);
                let (p1, _) = w.mean(&sel, &|i| g.e_own[i]);
                let (p0, _) = w.mean(&sel, &|i| g.e_ctrl[i]);
                let odds = |p: f64| p / (1.0 - p);
                keys(&[
                    ("risk_difference_newcombe", e.effect),
                    ("ols", e.effect),
                    ("ols_adjusted", e.effect),
                    ("risk_ratio", p1 / p0),
                    ("odds_ratio", odds(p1) / odds(p0)),
                ])
            }
            DrawnModel::Continuous(_) | DrawnModel::Count(_) | DrawnModel::Ordinal(_) => keys(&[
                ("welch", e.effect),
                ("ols", e.effect),
                ("ols_adjusted", e.effect),
            ]),
            DrawnModel::TimeToEvent(t) => return time_to_event(ctx, o, w, g, shared, t, e),
        },
    };
    let mut values = values;
    // In a matched comparison the weighting estimators of the effect on the treated
    // target the same difference over the treated units (`overlap_ato` targets the
    // overlap population instead and has no recorded truth). Panel and before/after
    // designs are analysed over time, not by weighting.
    if ctx.spec.design.kind == crate::config::DesignKind::MatchedComparison {
        for id in ["entropy_att", "ipw_att", "aipw_att", "matching_att"] {
            values.insert(id.to_string(), e.effect);
        }
    }
    Reported {
        estimands: values,
        ..Reported::default()
    }
}

/// Whether row `i` is a treated unit of the entry.
fn in_entry(ctx: &Ctx, e: Entry, i: usize) -> bool {
    ctx.sk.arm[i] == e.arm && e.project.is_none_or(|j| ctx.sk.project[i] == Some(j))
}

/// Linear predictors under the own arm and under control, and weights, of the rows
/// `sel` picks (time-to-event: `e_own`, `e_ctrl` hold the linear predictors).
struct Picked {
    lp_own: Vec<f64>,
    lp_ctrl: Vec<f64>,
    weight: Vec<f64>,
}

impl Picked {
    fn new(w: &Weights, g: &Generated, sel: impl Fn(usize) -> bool) -> Self {
        let rows: Vec<usize> = (0..w.0.len()).filter(|&i| sel(i)).collect();
        Self {
            lp_own: rows.iter().map(|&i| g.e_own[i]).collect(),
            lp_ctrl: rows.iter().map(|&i| g.e_ctrl[i]).collect(),
            weight: rows.iter().map(|&i| w.0[i]).collect(),
        }
    }

    fn units(&self) -> Units<'_> {
        Units {
            lp_own: &self.lp_own,
            lp_ctrl: &self.lp_ctrl,
            weight: &self.weight,
        }
    }
}

/// The Cox strata of an entry, as the analysis forms them: the pooled entry of a pilot
/// with projects is stratified by project, every other entry has one stratum (the
/// simulator makes no block column). Each: its treated units of the entry's arm, and
/// the expected weighted numbers of those and of the control units in it with an
/// observed outcome (missing follow-up is completely at random at a rate per arm, so
/// it changes only these numbers).
fn cox_strata(
    ctx: &Ctx,
    w: &Weights,
    g: &Generated,
    shared: &Shared,
    e: Entry,
) -> Vec<(Picked, f64, f64)> {
    let kept = |arm: usize| {
        let name = ctx.spec.arms.values.get(arm).map(|a| a.value.as_str());
        1.0 - name
            .and_then(|a| shared.missing.get(a))
            .copied()
            .unwrap_or(0.0)
    };
    let (kept_t, kept_c) = (kept(e.arm), kept(ctx.control));
    let projects: Vec<Option<usize>> = match e.project {
        None if !ctx.spec.projects.is_empty() => (0..ctx.spec.projects.len()).map(Some).collect(),
        p => vec![p],
    };
    projects
        .into_iter()
        .map(|p| {
            let in_p = |i: usize| p.is_none_or(|j| ctx.sk.project[i] == Some(j));
            let picked = Picked::new(w, g, |i| ctx.sk.arm[i] == e.arm && in_p(i));
            let n_t: f64 = picked.weight.iter().sum();
            let n_c: f64 = (0..w.0.len())
                .filter(|&i| ctx.is_control(i) && in_p(i))
                .map(|i| w.0[i])
                .sum();
            (picked, n_t * kept_t, n_c * kept_c)
        })
        .collect()
}

/// Drawn time-to-event: `rmst_difference` to the outcome's horizon (else the
/// follow-up) and the survival differences at its reporting times (`at`, else the
/// analysis' nice times up to the horizon), both exact; `cox_hazard_ratio`, the limit
/// of the unadjusted Cox estimate ([`estimands::marginal_hazard_ratio`]); and
/// `cox_hazard_ratio_adjusted` = the configured hazard ratio where the adjusted model
/// is correctly specified ([`adjusted_cox_gap`]) and the entry has one hazard ratio.
fn time_to_event(
    ctx: &Ctx,
    o: &OutcomeSpec,
    w: &Weights,
    g: &Generated,
    shared: &Shared,
    t: &TimeToEventSim,
    e: Entry,
) -> Reported {
    let wb = Weibull {
        median: t.base,
        shape: t.shape,
    };
    let horizon = o.horizon.unwrap_or(t.follow_up);
    let picked = Picked::new(w, g, |i| in_entry(ctx, e, i));
    let mut values = BTreeMap::new();
    values.insert(
        "rmst_difference".to_string(),
        estimands::rmst_difference(&wb, horizon, picked.units()),
    );
    let times: Vec<f64> = if o.at.is_empty() {
        nice_times(horizon)
            .into_iter()
            .filter(|x| *x > 0.0)
            .collect()
    } else {
        o.at.clone()
    };
    let survival = estimands::survival_differences(&wb, &times, picked.units());
    let strata = cox_strata(ctx, w, g, shared, e);
    let cox: Vec<CoxStratum> = strata
        .iter()
        .map(|(p, n1, n0)| CoxStratum {
            units: p.units(),
            n_treated: *n1,
            n_control: *n0,
        })
        .collect();
    let cens = Censoring {
        follow_up: t.follow_up,
        dropout: t.dropout.unwrap_or(0.0),
    };
    let marginal = estimands::marginal_hazard_ratio(&wb, &cox, cens);
    if let Some(mh) = marginal {
        values.insert("cox_hazard_ratio".to_string(), mh.hazard_ratio);
    }
    if adjusted_cox_gap(ctx.spec, shared).is_none()
        && let Some(hr) = single_hazard_ratio(ctx, shared, e)
    {
        values.insert("cox_hazard_ratio_adjusted".to_string(), hr);
    }
    Reported {
        estimands: values,
        survival,
        hr_error: marginal.map(|mh| mh.error_bound),
    }
}

/// The configured hazard ratio of the entry when all its units share one (always for
/// a project or a pilot without projects; for the pooled entry when every project has
/// the same); None otherwise, where a common-coefficient Cox model has no simple target.
fn single_hazard_ratio(ctx: &Ctx, shared: &Shared, e: Entry) -> Option<f64> {
    let arm = ctx.spec.arms.values.get(e.arm)?.value.as_str();
    let projects = &ctx.spec.projects;
    if e.project.is_some() || projects.is_empty() {
        return Some(e.effect);
    }
    let hrs: Vec<Option<f64>> = projects
        .iter()
        .map(|p| shared.effect_for(arm, Some(&p.value)))
        .collect();
    let first = hrs.first().copied().flatten()?;
    hrs.iter().all(|h| *h == Some(first)).then_some(first)
}

/// Why a Cox model on the treatment and the config's covariates (stratified by project
/// when pooled, and by cluster where the data have clusters and the design is not
/// cluster-randomised) does not target the configured conditional hazard ratio; None
/// when it does: every covariate with a nonzero coefficient is adjusted for, there is
/// no period trend, and any cluster effect is absorbed by cluster strata.
pub(super) fn adjusted_cox_gap(spec: &crate::config::PilotSpec, shared: &Shared) -> Option<String> {
    let left_out: Vec<&str> = shared
        .coef
        .iter()
        .filter(|(k, b)| **b != 0.0 && !spec.covariates.contains(k))
        .map(|(k, _)| k.as_str())
        .collect();
    if !left_out.is_empty() {
        return Some(format!(
            "the simulation's linear predictor uses {} that the adjusted model leaves out",
            left_out.join(", ")
        ));
    }
    if shared.trend.is_some_and(|t| t != 0.0) {
        return Some("the simulation has a period trend that the adjusted model leaves out".into());
    }
    if shared.cluster_sd.is_some_and(|s| s > 0.0)
        && spec.design.kind == DesignKind::ClusterRandomised
    {
        return Some(
            "the cluster effect is not adjusted for (a cluster-randomised design has no cluster strata), so the target is a marginal-over-clusters ratio".into(),
        );
    }
    None
}
