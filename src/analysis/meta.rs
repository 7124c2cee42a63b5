//! Random-effects pooling of a pilot's projects (issue 17, item 2): for every outcome
//! and comparison with at least two published per-project headline estimates, the
//! REML random-effects meta-analysis of those estimates ([`crate::stats::meta`]), with
//! the Hartung-Knapp-Sidik-Jonkman adjustment when there are fewer than 10 projects
//! (as `via-eval meta`). It sits beside the regression-pooled estimate of the whole
//! sample and shows whether the projects agree.
//!
//! It runs on the published results, after disclosure control: a project whose
//! estimate is withheld is left out (and named in `left_out`), so the pooled numbers
//! never rest on a withheld one. Ratio-scale estimates are pooled on the log scale.

use serde::Serialize;

use super::POOLED;
use super::results::{EstimateRow, PilotResults, Scale};
use crate::stats::meta::{self, Heterogeneity, Method, Options};

/// Below this many projects the HKSJ adjustment is used (as `via-eval meta`).
pub const HKSJ_BELOW: usize = 10;

/// Cochran's Q p-value below which the projects are said to differ. 0.10 rather than
/// 0.05 because the test has little power with few projects (Higgins & Thompson 2002
/// and the Cochrane Handbook, section 10.10.2, use 0.10 for this reason).
pub const DIFFER_BELOW: f64 = 0.10;

/// One project in the pooling, on the reporting scale (ratios as ratios).
#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    pub subset: String,
    pub n: Option<usize>,
    pub estimate: f64,
    /// Of the log ratio for ratio-scale estimates.
    pub std_error: f64,
    /// The project's own interval as published (its estimator's).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Weight in the pooled estimate, percent.
    pub weight: f64,
}

/// The random-effects pooling of one outcome's projects for one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectMeta {
    pub outcome: String,
    pub comparison: String,
    pub treated: String,
    pub control: String,
    /// The estimator of the projects' estimates that were pooled.
    pub pooled_estimator: String,
    /// `meta_reml`.
    pub estimator: String,
    /// `hksj` when adjusted, else null.
    pub se_type: Option<String>,
    pub scale: Scale,
    pub estimate: f64,
    pub std_error: f64,
    pub statistic: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub conf_level: f64,
    pub p_value: f64,
    pub df: Option<f64>,
    pub k: usize,
    pub heterogeneity: Heterogeneity,
    pub prediction_low: Option<f64>,
    pub prediction_high: Option<f64>,
    /// False when Cochran's Q p-value is below [`DIFFER_BELOW`].
    pub projects_agree: bool,
    pub projects: Vec<ProjectRow>,
    /// Projects without a published estimate (withheld or not estimable).
    pub left_out: Vec<String>,
}

/// The poolings of every outcome and comparison of `r` that has at least two
/// published per-project headline estimates, in the order of the estimates.
pub fn pool_projects(r: &PilotResults) -> Vec<ProjectMeta> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for e in &r.estimates {
        if e.headline && e.subset != POOLED && !keys.contains(&(&e.outcome, &e.comparison)) {
            keys.push((&e.outcome, &e.comparison));
        }
    }
    keys.into_iter()
        .filter_map(|(o, c)| {
            let rows: Vec<&EstimateRow> = r
                .estimates
                .iter()
                .filter(|e| e.headline && e.subset != POOLED && e.outcome == o && e.comparison == c)
                .collect();
            pool_rows(&rows, r.conf_level)
        })
        .collect()
}

fn usable(e: &EstimateRow) -> bool {
    !e.suppressed
        && e.estimate.is_finite()
        && e.std_error.is_finite()
        && e.std_error > 0.0
        && (e.scale != Scale::Ratio || e.estimate > 0.0)
}

fn pool_rows(rows: &[&EstimateRow], conf_level: f64) -> Option<ProjectMeta> {
    let first = rows.first()?;
    let ratio = first.scale == Scale::Ratio;
    let used: Vec<&&EstimateRow> = rows.iter().filter(|e| usable(e)).collect();
    if used.len() < 2 {
        return None;
    }
    let y: Vec<f64> = used
        .iter()
        .map(|e| if ratio { e.estimate.ln() } else { e.estimate })
        .collect();
    let se: Vec<f64> = used.iter().map(|e| e.std_error).collect();
    let opts = Options {
        method: Method::Reml,
        hksj: used.len() < HKSJ_BELOW,
        conf_level,
    };
    let p = meta::pool(&y, &se, opts).ok()?;
    let show = |x: f64| if ratio { x.exp() } else { x };
    let inf = p.inference;
    Some(ProjectMeta {
        outcome: first.outcome.clone(),
        comparison: first.comparison.clone(),
        treated: first.treated.clone(),
        control: first.control.clone(),
        pooled_estimator: first.estimator.clone(),
        estimator: Method::Reml.estimator().into(),
        se_type: opts.hksj.then(|| "hksj".to_string()),
        scale: first.scale,
        estimate: show(inf.estimate),
        std_error: inf.std_error,
        statistic: inf.statistic,
        ci_low: show(inf.ci_low),
        ci_high: show(inf.ci_high),
        conf_level,
        p_value: inf.p_value,
        df: inf.df,
        k: p.k,
        heterogeneity: p.heterogeneity,
        prediction_low: p.prediction.map(|x| show(x.0)),
        prediction_high: p.prediction.map(|x| show(x.1)),
        projects_agree: p.heterogeneity.q_p_value >= DIFFER_BELOW,
        projects: used
            .iter()
            .zip(&p.weights)
            .map(|(e, w)| ProjectRow {
                subset: e.subset.clone(),
                n: e.n_treated.zip(e.n_control).map(|(a, b)| a + b),
                estimate: e.estimate,
                std_error: e.std_error,
                ci_low: e.ci_low,
                ci_high: e.ci_high,
                weight: *w,
            })
            .collect(),
        left_out: rows
            .iter()
            .filter(|e| !usable(e))
            .map(|e| e.subset.clone())
            .collect(),
    })
}
