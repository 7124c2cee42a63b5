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
use super::estimate::RegData;
use super::{BalanceRow, EffectiveN, PropensityBins, Scale};
use crate::config::Text;
use crate::stats::ols::{Clusters, SeType};
use crate::stats::weighting::{self, Method, evalue, rosenbaum};

/// One-sided level of the Rosenbaum bound of 1:1 matched pairs (the convention of
/// Rosenbaum 2002 and rbounds).
const ROSENBAUM_ALPHA: f64 = 0.05;

/// Add the weighting estimate of `method` to `out` (a note when it cannot be made).
pub(super) fn weighting_estimate(c: &Ctx, out: &mut PairResults, method: Method, se: SeType) {
    let id = method.id();
    if c.p.units.covariates.is_empty() {
        out.notes.push(needs_covariates_note(&c.what, id));
        return;
    }
    let d = c.p.reg_data(true, false);
    let (se, clusters) = weighting_se(se, &d);
    let s = Sample {
        treated: d.t.iter().map(|&v| v == 1.0).collect(),
        names: d.cols.iter().map(|(n, _)| n.as_str()).collect(),
        x: d.cols.iter().map(|(_, v)| &**v).collect(),
    };
    // Entropy balancing has no propensity model of its own: the one fitted for the
    // overlap diagnostics (below) runs beside the weights, on the other core, as does
    // the pooled SD of a continuous outcome for the E-value (two passes over the
    // outcome on one core, which left the other idle where it ran after the estimate).
    let (result, (early_diagnostic, sd)) = rayon::join(
        || run_method(c, method, &d, &s, se, clusters),
        || {
            (
                (method == Method::EntropyAtt).then(|| overlap_model(&s)),
                (!c.p.binary).then(|| pooled_sd(&d.y, &s.treated)).flatten(),
            )
        },
    );
    let (est, unmatched) = match result {
        Ok(e) => e,
        Err(e) => {
            c.fail(out, id, &e);
            return;
        }
    };
    if unmatched > 0 {
        out.notes.push(unmatched_note(&c.what, id));
    }
    let n = units_in_estimate(method, &est, &s.treated);
    let se_name = est.se.name();
    let mut row = c.row(
        id,
        Some(&se_name),
        Some(est.se.df_rule()),
        Scale::Difference,
        est.effect,
        n,
    );
    row.covariates = s.names.iter().map(|s| s.to_string()).collect();
    let ev = e_value(c.p.binary, &est, &d.y, sd, &s.treated, c.conf);
    row.e_value = ev.map(|e| e.e_value);
    row.e_value_ci = ev.map(|e| e.e_value_ci);
    // 1:1 matched pairs: the Rosenbaum bound at the one-sided 5% level.
    if let Some(pairs) = &est.pairs {
        match rosenbaum_bound(c.p.binary, pairs, &d.y) {
            Ok(b) => row.rosenbaum_gamma = b.gamma,
            Err(e) => c.fail(out, "rosenbaum_gamma", &e),
        }
    }
    row.balance = balance_rows(&s.names, &est.balance, &s.x);
    row.effective_n = Some(EffectiveN {
        treated: est.effective_n_treated,
        control: est.effective_n_control,
    });
    // For the overlap diagnostics of an estimate without a propensity model, one fitted
    // on the same covariates (it does not enter the weights): the one fitted above, or
    // fitted now.
    let diagnostic = match (est.propensity.is_none(), early_diagnostic) {
        (false, _) => None,
        (true, Some(fitted)) => fitted,
        (true, None) => overlap_model(&s),
    };
    let outside = est.treated_outside_support.or_else(|| {
        diagnostic
            .as_ref()
            .map(|ps| weighting::outside_support(ps, &s.treated))
    });
    row.propensity_bins = est
        .propensity
        .as_ref()
        .or(diagnostic.as_ref())
        .map(|ps| propensity_bins(ps, &s.treated, outside));
    let est = weighting::WeightedEstimate {
        treated_outside_support: outside,
        ..est
    };
    // The count itself is in `propensity_bins`, where disclosure control sees it; the
    // note states no number.
    if est.treated_outside_support.is_some_and(|k| k > 0) {
        out.notes.push(limited_overlap_note(&c.what, id));
    }
    out.estimates.push(row);
}

/// The units a weighting estimate works on: the arm of each and the covariate columns
/// with their names.
struct Sample<'a> {
    treated: Vec<bool>,
    names: Vec<&'a str>,
    x: Vec<&'a [f64]>,
}

/// The standard error type of a weighting estimate and the clusters it uses: HC2 for
/// the classical type, and HC2 too for a cluster-robust type without clusters.
fn weighting_se<'d>(se: SeType, d: &'d RegData) -> (SeType, Option<&'d Clusters>) {
    // With clusters the cluster-robust types (default CR2) apply: to the
    // weights-fixed sandwich directly, and as cluster sums to the stacked ones.
    let se = if se == SeType::Classical {
        SeType::Hc2
    } else {
        se
    };
    let clusters = d.clusters.as_ref().filter(|_| se.is_cluster());
    let se = if se.is_cluster() && clusters.is_none() {
        SeType::Hc2
    } else {
        se
    };
    (se, clusters)
}

/// The estimate of `method` on the sample, with the number of treated units left
/// unmatched (matching; 0 for the weighting methods).
fn run_method(
    c: &Ctx,
    method: Method,
    d: &RegData,
    s: &Sample,
    se: SeType,
    clusters: Option<&Clusters>,
) -> crate::stats::StatsResult<(weighting::WeightedEstimate, usize)> {
    if method == Method::MatchingAtt {
        let exact = d.exact.as_ref().map(|g| g.codes());
        weighting::estimate_matching_within(
            &d.y,
            &s.treated,
            &s.x,
            &s.names,
            &c.opts.matching,
            exact,
            c.conf,
        )
    } else {
        crate::timings::time(format!("weighting {}", method.id()), || {
            weighting::estimate_clustered(
                method, &d.y, &s.treated, &s.x, &s.names, se, clusters, c.conf,
            )
        })
        .map(|e| (e, 0))
    }
}

/// The propensity scores of a logistic model on the sample's covariates, fitted only
/// for the overlap diagnostics (None when the model cannot be fitted).
fn overlap_model(s: &Sample) -> Option<Vec<f64>> {
    crate::timings::time("propensity for the overlap chart", || {
        weighting::logit(&s.treated, &s.x, &s.names)
            .ok()
            .map(|m| m.fitted)
    })
}

/// Units in the estimate per arm (treated, control): for matching, the matched ones.
fn units_in_estimate(
    method: Method,
    est: &weighting::WeightedEstimate,
    treated: &[bool],
) -> (usize, usize) {
    use rayon::prelude::*;
    let matching = method == Method::MatchingAtt;
    treated
        .par_iter()
        .zip(est.weights.par_iter())
        .map(|(&t, &w)| {
            let counts = usize::from(!matching || w > 0.0);
            (counts * usize::from(t), counts * usize::from(!t))
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// The note that `id` cannot be made without covariates.
fn needs_covariates_note(wat: &str, id: &str) -> Text {
    Text {
        en: format!("{wat}: {id} needs covariates to weight on; name them with --covariates."),
        nl: format!("{wat}: {id} heeft covariaten nodig om op te wegen; noem ze met --covariates."),
    }
}

/// The note that matching left some treated units out. How many is a count of persons:
/// the note says only that some were dropped, and the row's n_treated counts the
/// matched.
fn unmatched_note(wat: &str, id: &str) -> Text {
    Text {
        en: format!(
            "{wat}: {id}: some treated units have no comparison unit within the caliper and are left out; the estimate is the effect on the matched treated units."
        ),
        nl: format!(
            "{wat}: {id}: een deel van de deelnemers heeft geen vergelijkingspersoon binnen de caliper en valt weg; de schatting is het effect op de gematchte deelnemers."
        ),
    }
}

/// The note that some treated units lie outside the comparison group's range of
/// propensity scores.
fn limited_overlap_note(wat: &str, id: &str) -> Text {
    Text {
        en: format!(
            "{wat}: {id}: some treated units have a propensity score outside the range of the comparison group's (limited overlap); the effect for them rests on extrapolation."
        ),
        nl: format!(
            "{wat}: {id}: een deel van de deelnemers heeft een propensityscore buiten het bereik van de vergelijkingsgroep (beperkte overlap); het effect voor hen berust op extrapolatie."
        ),
    }
}

/// The E-value of a weighted estimate and of its interval bound nearest the null: on
/// the risk difference with the weighted control risk (binary outcomes, `y`), else on
/// the difference standardised by the pooled SD `sd` ([`pooled_sd`]; no E-value
/// without it).
fn e_value(
    binary: bool,
    est: &weighting::WeightedEstimate,
    y: &[f64],
    sd: Option<f64>,
    treated: &[bool],
    conf: f64,
) -> Option<evalue::EValue> {
    if binary {
        let p0: f64 = (0..y.len())
            .filter(|&i| !treated[i])
            .map(|i| est.weights[i] * y[i])
            .sum();
        evalue::risk_difference(
            est.effect.estimate,
            est.effect.ci_low,
            est.effect.ci_high,
            p0,
        )
    } else {
        sd.and_then(|sd| {
            evalue::standardised_difference(
                est.effect.estimate / sd,
                est.effect.std_error / sd,
                conf,
            )
        })
    }
}

/// The Rosenbaum bound of 1:1 matched pairs (treated, control row) at the one-sided 5%
/// level: the sign test for a binary outcome, the signed-rank test otherwise.
fn rosenbaum_bound(
    binary: bool,
    pairs: &[(usize, usize)],
    y: &[f64],
) -> crate::stats::StatsResult<rosenbaum::RosenbaumBound> {
    if binary {
        let (t, k): (Vec<f64>, Vec<f64>) = pairs.iter().map(|&(t, k)| (y[t], y[k])).unzip();
        rosenbaum::sign_bound(&t, &k, ROSENBAUM_ALPHA)
    } else {
        let diff: Vec<f64> = pairs.iter().map(|&(t, k)| y[t] - y[k]).collect();
        rosenbaum::signed_rank_bound(&diff, ROSENBAUM_ALPHA)
    }
}

/// The balance rows of the covariates `names` (columns `x`), before and after weighting.
fn balance_rows(names: &[&str], balance: &[weighting::Balance], x: &[&[f64]]) -> Vec<BalanceRow> {
    use rayon::prelude::*;
    names
        .par_iter()
        .zip(balance)
        .zip(x)
        .map(|((name, b), col)| balance_row(name, b, col))
        .collect()
}

/// Bins of the propensity-score counts (width 0.05).
const BINS: usize = 20;

/// The propensity-score counts of the overlap chart: persons per bin and arm, and
/// the treated outside the comparison group's range (`outside`).
fn propensity_bins(ps: &[f64], treated: &[bool], outside: Option<usize>) -> PropensityBins {
    let [control, treated] = bin_counts(ps, treated);
    PropensityBins {
        edges: (0..=BINS).map(|i| i as f64 / BINS as f64).collect(),
        treated: treated.into_iter().map(Some).collect(),
        control: control.into_iter().map(Some).collect(),
        treated_outside_support: outside,
    }
}

/// Persons per bin of the propensity score, [comparison, treated], in one pass on
/// all cores. The arm picks the row of counts by index, not by a branch (which a
/// mixed arm column mispredicts on every other row).
fn bin_counts(ps: &[f64], treated: &[bool]) -> [[usize; BINS]; 2] {
    use rayon::prelude::*;
    ps.par_chunks(1 << 14)
        .zip(treated.par_chunks(1 << 14))
        .map(|(ps, treated)| {
            let mut c = [[0usize; BINS]; 2];
            for (&p, &t) in ps.iter().zip(treated) {
                c[usize::from(t)][((p * BINS as f64) as usize).min(BINS - 1)] += 1;
            }
            c
        })
        .reduce(
            || [[0; BINS]; 2],
            |mut a, b| {
                for (x, y) in a.iter_mut().flatten().zip(b.iter().flatten()) {
                    *x += y;
                }
                a
            },
        )
}

/// The pooled within-arm standard deviation (n − 2), if positive: each arm's moments
/// from the balance table's fused passes ([`super::balance::arm_moments`], bit for bit
/// [`Moments::of`](crate::stats::describe::Moments::of) of the arm's values in row
/// order; the outcome here is finite).
fn pooled_sd(y: &[f64], treated: &[bool]) -> Option<f64> {
    let [m] = super::balance::arm_moments([y], treated, (1, 0));
    let sd = crate::stats::describe::Moments::pooled_var(m.treated, m.control).sqrt();
    (sd.is_finite() && sd > 0.0).then_some(sd)
}

/// The weights of a weighting estimator on a comparison's baseline sample: every unit
/// of the two arms in the subset with its covariates known, whether or not its
/// outcome is (used for outcomes read off a censored time, where the units with a
/// value are a subset of these; see [`ipcw_weighting_estimate`]).
pub(crate) struct BaseWeights {
    method: Method,
    /// The weight of each baseline row (normalised within each arm), by source row.
    by_row: std::collections::BTreeMap<usize, f64>,
    /// Balance of the baseline sample before and after weighting.
    balance: Vec<BalanceRow>,
    /// Propensity scores of the baseline sample, for the overlap diagnostics (for
    /// entropy balancing a logistic model fitted for the diagnostics only).
    propensity: Option<Vec<f64>>,
    treated: Vec<bool>,
    names: Vec<String>,
}

/// The baseline weights of `method` for `rows` (source rows, `treated` per row):
/// covariates of the config and, with `with_projects`, project indicators, as the
/// regressions use them. Matching and AIPW have no weights to multiply with censoring
/// weights; they are refused with a reason.
pub(crate) fn base_weights(
    units: &super::Units,
    rows: &[usize],
    treated: &[bool],
    with_projects: bool,
    method: Method,
) -> Result<BaseWeights, crate::stats::StatsError> {
    if matches!(method, Method::MatchingAtt | Method::AipwAtt) {
        return Err(crate::stats::StatsError::Invalid(format!(
            "{} has no weights to combine with the censoring weights of an outcome read off a censored time; use entropy, ipw or overlap as the headline",
            method.id()
        )));
    }
    let mut cols: Vec<(String, Vec<f64>)> = units
        .covariates
        .iter()
        .map(|(name, c)| {
            let v = rows.iter().map(|&r| c.get(r).unwrap_or(f64::NAN)).collect();
            (name.clone(), v)
        })
        .collect();
    if with_projects && let Some(p) = &units.project {
        let present: std::collections::BTreeSet<u32> = rows.iter().map(|&r| p.code(r)).collect();
        for &code in present.iter().skip(1) {
            cols.push((
                format!("project={}", p.levels()[code as usize]),
                rows.iter()
                    .map(|&r| f64::from(u8::from(p.code(r) == code)))
                    .collect(),
            ));
        }
    }
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let x: Vec<&[f64]> = cols.iter().map(|(_, v)| v.as_slice()).collect();
    let (w, model) = weighting::weights(method, treated, &x, &names)?;
    let propensity = match model {
        Some(m) => Some(m.fitted),
        None => weighting::logit(treated, &x, &names).ok().map(|m| m.fitted),
    };
    let balance = balance_rows(&names, &weighting::balance_table(&x, treated, &w), &x);
    Ok(BaseWeights {
        method,
        by_row: rows.iter().copied().zip(w).collect(),
        balance,
        propensity,
        treated: treated.to_vec(),
        names: names.iter().map(|s| s.to_string()).collect(),
    })
}

/// A balance row of the results from the balance of one covariate.
fn balance_row(name: &str, b: &weighting::Balance, col: &[f64]) -> BalanceRow {
    BalanceRow {
        covariate: name.to_string(),
        mean_treated: Some(b.mean_treated),
        mean_control: Some(b.mean_control),
        mean_treated_weighted: Some(b.mean_treated_weighted),
        mean_control_weighted: Some(b.mean_control_weighted),
        smd_before: b.smd_before,
        smd_after: b.smd_after,
        variance_ratio_before: b.variance_ratio_before,
        variance_ratio_after: b.variance_ratio_after,
        // Every value 0 or 1, as one vectorised pass (no early exit).
        binary: col
            .chunks(8)
            .all(|c| c.iter().fold(true, |a, &v| a & ((v == 0.0) | (v == 1.0)))),
    }
}

/// The weighting estimate of an outcome read off a censored time, in a design without
/// a lottery: each unit with a known value weighs its baseline weight for the effect on
/// the treated ([`base_weights`], made on every unit of the comparison at baseline)
/// times its inverse probability of censoring weight (the pair's weights), and the
/// effect is the weighted difference in means, Σ_treated wᵢyᵢ/Σ wᵢ − (the same over the
/// comparison units). Combining treatment and censoring weights as a product is the
/// inverse-probability-weighted estimator of Robins & Finkelstein (2000, *Biometrics*
/// 56:779–788) and Cole & Hernán (2008, *Am. J. Epidemiol.* 168:656–664, "Constructing
/// inverse probability weights for marginal structural models"). Standard error: the
/// sandwich of weighted least squares on the arm indicator, HC2 or with clusters CR2
/// (Bell-McCaffrey df), both sets of weights treated as known (as estimatr's weighted
/// `lm_robust` would); it ignores that the weights were estimated.
pub(super) fn ipcw_weighting_estimate(
    c: &Ctx,
    out: &mut PairResults,
    se: SeType,
    base: &BaseWeights,
) -> bool {
    let method = base.method;
    let id = method.id();
    let d = c.p.reg_data(true, false);
    let (se, clusters) = weighting_se(se, &d);
    let Some(ipcw) = c.p.weights.as_ref() else {
        return false;
    };
    // The units reg_data kept, in its order: those with covariates and a cluster id.
    let units = c.p.units;
    let kept: Vec<(usize, usize)> = (0..c.p.y.len())
        .map(|i| (i, c.p.rows.as_ref().map_or(i, |r| r[i])))
        .filter(|&(_, r)| !units.missing_covariate(r) && !units.missing_cluster(r))
        .collect();
    if kept.len() != d.y.len() {
        return false;
    }
    let w: Vec<f64> = kept
        .iter()
        .map(|&(i, r)| ipcw[i] * base.by_row.get(&r).copied().unwrap_or(f64::NAN))
        .collect();
    if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
        c.fail(out, id, &"a unit with a value has no baseline weight");
        return false;
    }
    let treated: Vec<bool> = d.t.iter().map(|&v| v == 1.0).collect();
    let inf =
        match weighting::weighted_difference_clustered(&d.y, &treated, &w, se, clusters, c.conf) {
            Ok(inf) => inf,
            Err(e) => {
                c.fail(out, id, &e);
                return false;
            }
        };
    let n = (
        treated.iter().filter(|&&t| t).count(),
        treated.iter().filter(|&&t| !t).count(),
    );
    let se_name = format!(
        "{} ({} and censoring weights fixed)",
        se.name(),
        method.estimand()
    );
    let mut row = c.row(
        id,
        Some(&se_name),
        Some(se.df_rule()),
        Scale::Difference,
        inf,
        n,
    );
    row.n_clusters = clusters.map(crate::stats::ols::Clusters::count);
    row.covariates = base.names.clone();
    // E-value as for the other weighting estimates.
    let ev = if c.p.binary {
        let (num, den) = (0..d.y.len())
            .filter(|&i| !treated[i])
            .fold((0.0, 0.0), |(a, b), i| (a + w[i] * d.y[i], b + w[i]));
        evalue::risk_difference(inf.estimate, inf.ci_low, inf.ci_high, num / den)
    } else {
        pooled_sd(&d.y, &treated).and_then(|sd| {
            evalue::standardised_difference(inf.estimate / sd, inf.std_error / sd, c.conf)
        })
    };
    row.e_value = ev.map(|e| e.e_value);
    row.e_value_ci = ev.map(|e| e.e_value_ci);
    row.balance = base.balance.clone();
    // Kish's effective sizes of the analysed units under the product weights.
    row.effective_n = Some(EffectiveN {
        treated: weighting::effective_n(&w, |i| treated[i]),
        control: weighting::effective_n(&w, |i| !treated[i]),
    });
    row.propensity_bins = base.propensity.as_ref().map(|ps| {
        propensity_bins(
            ps,
            &base.treated,
            Some(weighting::outside_support(ps, &base.treated)),
        )
    });
    row.headline = true;
    out.estimates.push(row);
    true
}
