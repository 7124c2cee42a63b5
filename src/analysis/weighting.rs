//! The weighting estimate of one comparison (`--estimator ipw|overlap|entropy`): the
//! complete cases of the outcome and covariates go to [`crate::stats::weighting`];
//! the row carries the effect, the balance per covariate, the effective sample sizes
//! and the E-value.
//!
//! E-value conventions (see [`crate::stats::weighting::evalue`]): a binary outcome's
//! difference is converted to a risk ratio with the weighted comparison risk; a
//! continuous outcome's to a standardised difference, dividing the effect and its
//! standard error by the pooled within-arm SD of the outcome (unweighted, n − 2).

use super::estimate::Ctx;
use super::estimate::PairResults;
use super::{BalanceRow, EffectiveN, PropensityBins, Scale};
use crate::config::Text;
use crate::stats::ols::SeType;
use crate::stats::weighting::{self, Method, evalue};

/// Add the weighting estimate of `method` to `out` (a note when it cannot be made).
pub(super) fn weighting_estimate(c: &Ctx, out: &mut PairResults, method: Method, se: SeType) {
    let id = method.id();
    if c.p.units.covariates.is_empty() {
        let wat = &c.what;
        out.notes.push(Text {
            en: format!("{wat}: {id} needs covariates to weight on; name them with --covariates."),
            nl: format!(
                "{wat}: {id} heeft covariaten nodig om op te wegen; noem ze met --covariates."
            ),
        });
        return;
    }
    // With clusters the cluster-robust types (default CR2) apply: to the
    // weights-fixed sandwich directly, and as cluster sums to the stacked ones.
    let se = if se == SeType::Classical {
        SeType::Hc2
    } else {
        se
    };
    let d = c.p.reg_data(true, false);
    let clusters = d.clusters.as_ref().filter(|_| se.is_cluster());
    let se = if se.is_cluster() && clusters.is_none() {
        SeType::Hc2
    } else {
        se
    };
    let treated: Vec<bool> = d.t.iter().map(|&v| v == 1.0).collect();
    let names: Vec<&str> = d.cols.iter().map(|(n, _)| n.as_str()).collect();
    let x: Vec<&[f64]> = d.cols.iter().map(|(_, v)| &**v).collect();
    let result = if method == Method::MatchingAtt {
        weighting::estimate_matching(&d.y, &treated, &x, &names, &c.opts.matching, c.conf)
    } else {
        weighting::estimate_clustered(method, &d.y, &treated, &x, &names, se, clusters, c.conf)
            .map(|e| (e, 0))
    };
    let (est, unmatched) = match result {
        Ok(e) => e,
        Err(e) => {
            c.fail(out, id, &e);
            return;
        }
    };
    if unmatched > 0 {
        // How many is a count of persons: the note says only that some were dropped,
        // and the row's n_treated counts the matched.
        let wat = &c.what;
        out.notes.push(Text {
            en: format!(
                "{wat}: {id}: some treated units have no comparison unit within the caliper and are left out; the estimate is the effect on the matched treated units."
            ),
            nl: format!(
                "{wat}: {id}: een deel van de deelnemers heeft geen vergelijkingspersoon binnen de caliper en valt weg; de schatting is het effect op de gematchte deelnemers."
            ),
        });
    }
    // Units in the estimate: for matching, the matched ones.
    let counted = |arm: bool| {
        (0..treated.len())
            .filter(|&i| {
                treated[i] == arm && (method != Method::MatchingAtt || est.weights[i] > 0.0)
            })
            .count()
    };
    let n = (counted(true), counted(false));
    let se_name = est.se.name();
    let mut row = c.row(
        id,
        Some(&se_name),
        Some(est.se.df_rule()),
        Scale::Difference,
        est.effect,
        n,
    );
    row.covariates = names.iter().map(|s| s.to_string()).collect();
    let ev = if c.p.binary {
        let p0: f64 = (0..d.y.len())
            .filter(|&i| !treated[i])
            .map(|i| est.weights[i] * d.y[i])
            .sum();
        evalue::risk_difference(
            est.effect.estimate,
            est.effect.ci_low,
            est.effect.ci_high,
            p0,
        )
    } else {
        pooled_sd(&d.y, &treated).and_then(|sd| {
            evalue::standardised_difference(
                est.effect.estimate / sd,
                est.effect.std_error / sd,
                c.conf,
            )
        })
    };
    row.e_value = ev.map(|e| e.e_value);
    row.e_value_ci = ev.map(|e| e.e_value_ci);
    row.balance = names
        .iter()
        .zip(&est.balance)
        .zip(&x)
        .map(|((name, b), col)| BalanceRow {
            covariate: name.to_string(),
            mean_treated: Some(b.mean_treated),
            mean_control: Some(b.mean_control),
            mean_treated_weighted: Some(b.mean_treated_weighted),
            mean_control_weighted: Some(b.mean_control_weighted),
            smd_before: b.smd_before,
            smd_after: b.smd_after,
            variance_ratio_before: b.variance_ratio_before,
            variance_ratio_after: b.variance_ratio_after,
            binary: col.iter().all(|&v| v == 0.0 || v == 1.0),
        })
        .collect();
    row.effective_n = Some(EffectiveN {
        treated: est.effective_n_treated,
        control: est.effective_n_control,
    });
    row.propensity_bins = est.propensity.as_ref().map(|ps| PropensityBins {
        edges: (0..=BINS).map(|i| i as f64 / BINS as f64).collect(),
        treated: bin_counts(ps, &treated, true),
        control: bin_counts(ps, &treated, false),
        treated_outside_support: est.treated_outside_support,
    });
    // The count itself is in `propensity_bins`, where disclosure control sees it; the
    // note states no number.
    if est.treated_outside_support.is_some_and(|k| k > 0) {
        let wat = &c.what;
        out.notes.push(Text {
            en: format!(
                "{wat}: {id}: some treated units have a propensity score outside the range of the comparison group's (limited overlap); the effect for them rests on extrapolation."
            ),
            nl: format!(
                "{wat}: {id}: een deel van de deelnemers heeft een propensityscore buiten het bereik van de vergelijkingsgroep (beperkte overlap); het effect voor hen berust op extrapolatie."
            ),
        });
    }
    out.estimates.push(row);
}

/// Bins of the propensity-score counts (width 0.05).
const BINS: usize = 20;

/// Persons of one arm per bin of the propensity score.
fn bin_counts(ps: &[f64], treated: &[bool], arm: bool) -> Vec<Option<usize>> {
    let mut c = vec![0usize; BINS];
    for (&p, &t) in ps.iter().zip(treated) {
        if t == arm {
            c[((p * BINS as f64) as usize).min(BINS - 1)] += 1;
        }
    }
    c.into_iter().map(Some).collect()
}

/// The pooled within-arm standard deviation (n − 2), if positive.
fn pooled_sd(y: &[f64], treated: &[bool]) -> Option<f64> {
    let arm = |a: bool| -> Vec<f64> {
        y.iter()
            .zip(treated)
            .filter(|(_, t)| **t == a)
            .map(|(v, _)| *v)
            .collect()
    };
    let (y1, y0) = (arm(true), arm(false));
    let (_, v1) = crate::stats::describe::mean_var(&y1);
    let (_, v0) = crate::stats::describe::mean_var(&y0);
    let n = y.len() as f64;
    let v = ((y1.len() as f64 - 1.0) * v1 + (y0.len() as f64 - 1.0) * v0) / (n - 2.0);
    let sd = v.sqrt();
    (sd.is_finite() && sd > 0.0).then_some(sd)
}
