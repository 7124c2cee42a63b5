//! The Cox hazard ratio adjusted for the config's covariates, beside the unadjusted one.
//!
//! Hazard ratios are not collapsible: the unadjusted Cox model estimates the marginal
//! hazard ratio of the two arms (closer to 1 than the hazard ratio of two persons
//! alike in their covariates, even in a randomised trial), while an evaluator usually
//! states the conditional one. This model holds the covariates fixed: the treatment
//! indicator plus every covariate of the config (factor covariates as their dummy
//! columns), fitted by [`crate::stats::survival::cox_ph_sorted`] (Efron ties, as R
//! `survival::coxph(Surv(time, event) ~ treated + x1 + ... + strata(s), ties =
//! "efron")`). Strata: the project in a pooled analysis of a pilot with projects, else
//! the block, as for the unadjusted model; and also the cluster where the data have
//! clusters and the design does not assign whole clusters to one arm, so that a shared
//! effect of the cluster (a school, an employer) is held fixed too (R
//! `strata(project, cluster)`). Standard errors: robust, clustered by cluster, when the
//! data have clusters (R `cluster(cluster)`, no small-sample factor); model-based
//! otherwise. Wald interval exp(β ± z·SE).
//!
//! Units with a missing covariate are left out of this model only (the unadjusted
//! model keeps them). A covariate that is constant or collinear among the units of a
//! comparison is dropped, and the row lists the covariates kept.

use std::collections::BTreeMap;

use super::ComparisonKey;
use super::survival::{Scope, Subjects, SurvivalOut, TwoArms};
use crate::config::DesignKind;
use crate::stats::StatsError;
use crate::stats::ols::Clusters;
use crate::stats::survival::{self, CoxFit, SortedSubjects};

/// The estimator id of the adjusted model in results.json.
pub const ESTIMATOR: &str = "cox_hazard_ratio_adjusted";

/// The adjusted model's inputs for one comparison: its subjects with every covariate
/// present, in the order of the comparison's subjects.
struct Inputs {
    sorted: SortedSubjects,
    /// The treatment indicator, then one column per covariate.
    x: Vec<Vec<f64>>,
    names: Vec<String>,
    strata: Option<Vec<u32>>,
    clusters: Option<Clusters>,
    n: (usize, usize),
}

/// Add the adjusted hazard ratio of comparison `c` (or a note why there is none); no
/// row when the config has no covariates.
pub(super) fn row(
    s: &Scope,
    key: &ComparisonKey,
    c: &TwoArms,
    subj: &Subjects,
    all: &SortedSubjects,
    out: &mut SurvivalOut,
) {
    if s.units.covariates.is_empty() {
        return;
    }
    let what = format!("{} vs {}", key.treated, key.control);
    let mut inputs = match inputs(s, c, subj, all) {
        Ok(i) => i,
        Err(e) => {
            s.note(
                out,
                format!("{what}: adjusted Cox model not estimable ({e})."),
                format!("{what}: gecorrigeerd Cox-model niet te schatten ({e})."),
            );
            return;
        }
    };
    match fit_dropping_collinear(&mut inputs, s.conf) {
        Ok(fit) => {
            let mut r = super::survival::hazard_ratio_row(key, ESTIMATOR, &fit, s.conf, inputs.n);
            r.n_clusters = inputs.clusters.as_ref().map(Clusters::count);
            r.covariates = inputs.names;
            out.estimates.push(r);
        }
        Err(e) => s.note(
            out,
            format!("{what}: adjusted Cox model not estimable ({e})."),
            format!("{what}: gecorrigeerd Cox-model niet te schatten ({e})."),
        ),
    }
}

/// Whether the model is stratified by cluster: the data have clusters and the design
/// does not assign whole clusters to an arm (then the arm would be constant within
/// every stratum).
fn by_cluster(s: &Scope) -> bool {
    s.units.cluster.is_some() && s.spec.design.kind != DesignKind::ClusterRandomised
}

/// The comparison's subjects with all covariates, their columns, strata and clusters.
fn inputs(
    s: &Scope,
    c: &TwoArms,
    subj: &Subjects,
    all: &SortedSubjects,
) -> Result<Inputs, StatsError> {
    let units = s.units;
    let rows: Vec<usize> = c.subjects().map(|i| s.te.row(subj.te_index(i))).collect();
    let keep: Vec<bool> = rows.iter().map(|&r| !units.missing_covariate(r)).collect();
    let kept: Vec<usize> = (0..rows.len()).filter(|&i| keep[i]).collect();
    let sorted = c.sorted_or(all).subset(&keep)?;
    let treated: Vec<f64> = kept.iter().map(|&i| f64::from(c.g2[i])).collect();
    let n1 = treated.iter().filter(|&&t| t == 1.0).count();
    let mut x = vec![treated];
    let mut names = Vec::with_capacity(units.covariates.len());
    for (name, values) in &units.covariates {
        x.push(
            kept.iter()
                .map(|&i| values.get(rows[i]).unwrap_or(f64::NAN))
                .collect(),
        );
        names.push(name.clone());
    }
    let base: Vec<u32> = match &c.strata {
        Some(st) => kept.iter().map(|&i| st[i]).collect(),
        None => vec![0; kept.len()],
    };
    let cluster_codes: Option<Vec<u32>> = c
        .clusters
        .as_ref()
        .map(|cl| kept.iter().map(|&i| cl.codes()[i]).collect());
    let strata = match (&cluster_codes, by_cluster(s)) {
        (Some(cl), true) => Some(rank_pairs(&base, cl)),
        _ => c.strata.as_ref().map(|_| base),
    };
    Ok(Inputs {
        sorted,
        x,
        names,
        strata,
        clusters: cluster_codes.map(|cl| Clusters::from_labels(&cl)),
        n: (n1, kept.len() - n1),
    })
}

/// Strata of (project or block, cluster) pairs, numbered in their sorted order.
fn rank_pairs(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut code: BTreeMap<(u32, u32), u32> = a
        .iter()
        .copied()
        .zip(b.iter().copied())
        .map(|p| (p, 0))
        .collect();
    for (k, v) in code.values_mut().enumerate() {
        *v = k as u32;
    }
    a.iter().zip(b).map(|(x, y)| code[&(*x, *y)]).collect()
}

/// Fit the model; a covariate reported collinear (constant among these units, or a
/// combination of others) is dropped and the model fitted again. The treatment
/// indicator itself is never dropped.
fn fit_dropping_collinear(i: &mut Inputs, conf: f64) -> Result<CoxFit, StatsError> {
    loop {
        let cols: Vec<&[f64]> = i.x.iter().map(Vec::as_slice).collect();
        match survival::cox_ph_sorted(
            &i.sorted,
            &cols,
            i.strata.as_deref(),
            i.clusters.as_ref(),
            conf,
        ) {
            Err(StatsError::Collinear { index }) if index >= 1 && index < i.x.len() => {
                i.x.remove(index);
                i.names.remove(index - 1);
            }
            other => return other,
        }
    }
}
