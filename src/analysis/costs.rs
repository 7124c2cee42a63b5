//! The cost per extra person with the outcome (`[costs]`): per comparison of the cost
//! outcome, the incremental cost per person, the incremental effect, the ICER with
//! Fieller's interval, a seeded bootstrap of the cost-effectiveness plane with its
//! percentile interval, and the acceptability curve ([`crate::stats::cost`]).
//!
//! Two bases:
//! - **fixed costs per arm** (`per_person`): ΔC is known exactly; ΔE is the published
//!   whole-sample headline estimate (so Fieller's interval inverts the headline
//!   effect's uncertainty). The bootstrap resamples persons (clusters with a clustered
//!   design) within arm and recomputes the unadjusted difference in the outcome's mean,
//!   when the headline is that difference ([`UNADJUSTED`], no covariates); with an
//!   adjusted or weighted headline the plane is drawn from that estimate's normal
//!   sampling distribution instead ([`crate::stats::cost::parametric_icer`]), and
//!   `bootstrap_method` says which.
//! - **a cost column** (`column`): both increments are unadjusted differences in means
//!   on the persons with both a cost and the outcome (complete cases: a person without
//!   a cost is left out, and the count left out is published), with their covariance
//!   ([`crate::stats::cost::person_increments`]); Fieller and the bootstrap then use
//!   the same increments.
//!
//! Made after disclosure control: a withheld headline estimate gives no cost line, an
//! arm with fewer persons (with cost and outcome) than the threshold neither; a count
//! of persons without a cost between 1 and the threshold is withheld.

use serde::Serialize;

use super::input::{AnalysisInput, OutcomeData};
use super::{EstimateRow, Note, POOLED, PilotResults, Scale};
use crate::config::{CostBasis, Costs, PilotSpec, Text};
use crate::stats::cost::{
    BootstrapIcer, BootstrapKind, FiellerSet, Increments, Persons, Quadrants, acceptability,
    bootstrap_icer, icer, parametric_icer, person_increments,
};

/// Headline estimators that are the unadjusted difference in means or proportions:
/// with fixed costs the bootstrap (which resamples that difference) runs only for these.
const UNADJUSTED: [&str; 4] = [
    "welch",
    "student",
    "risk_difference_newcombe",
    "difference_in_means",
];

/// Points of the acceptability curve, from 0 to the config's largest value.
pub const CURVE_POINTS: usize = 51;

/// One point of the acceptability curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AcceptabilityPoint {
    /// Value of one extra person with the outcome (euros).
    pub value: f64,
    /// Probability that the net benefit is positive at that value.
    pub probability: f64,
}

/// The cost-effectiveness of one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CostComparison {
    pub comparison: String,
    pub treated: String,
    pub control: String,
    /// `per_person` (fixed costs per arm) or `column` (each person's cost).
    pub cost_basis: String,
    /// Cost per person of each arm: the fixed cost, or the mean of the cost column.
    pub cost_treated: f64,
    pub cost_control: f64,
    /// Cost per person, treated minus control (euros), its standard error (0 for
    /// fixed costs) and its covariance with the effect.
    pub incremental_cost: f64,
    pub cost_std_error: f64,
    pub covariance: f64,
    /// The effect per person (a difference in proportions for a yes/no outcome) and
    /// its standard error.
    pub incremental_effect: f64,
    pub effect_std_error: f64,
    /// Where the effect comes from, in both languages, and its estimator (the headline
    /// estimator's id with fixed costs; `difference_in_means` with a cost column).
    pub effect_source: Text,
    pub effect_estimator: String,
    /// Persons per arm behind the bootstrap (and, with a cost column, behind both
    /// increments).
    pub n_treated: usize,
    pub n_control: usize,
    /// Persons of the two arms with the outcome but no cost (cost column only); null
    /// when withheld (1 to threshold − 1) or with fixed costs.
    pub n_missing_cost: Option<usize>,
    /// Cost per extra person with the outcome (ΔC/ΔE); null when ΔE is 0.
    pub icer: Option<f64>,
    /// Fieller's interval at the results' confidence level (normal approximation).
    pub fieller: FiellerSet,
    /// The bootstrap percentile set: `bounded` (`bootstrap_low`, `bootstrap_high`),
    /// `two_rays` (every ratio up to `bootstrap_below` and from `bootstrap_above` on),
    /// `everything`, `undefined` (ΔE = 0); null when the bootstrap could not run (a note
    /// says why).
    pub bootstrap_kind: Option<BootstrapKind>,
    pub bootstrap_low: Option<f64>,
    pub bootstrap_high: Option<f64>,
    pub bootstrap_below: Option<f64>,
    pub bootstrap_above: Option<f64>,
    pub bootstrap_replicates: Option<u64>,
    pub bootstrap_seed: Option<u64>,
    /// Share of replicates in each quadrant of the cost-effectiveness plane.
    pub bootstrap_quadrants: Option<Quadrants>,
    /// What the bootstrap resampled, in both languages.
    pub bootstrap_method: Option<Text>,
    /// The replicates (ΔE*, ΔC*) for the plane chart; not in results.json.
    #[serde(skip)]
    pub plane: Vec<(f64, f64)>,
    pub acceptability: Vec<AcceptabilityPoint>,
}

/// Everything `[costs]` produced.
#[derive(Debug, Clone, Serialize)]
pub struct CostResults {
    pub outcome: String,
    pub currency: String,
    pub source: Text,
    /// The value of one extra person at which the plane chart draws its dashed line:
    /// the config's `max_value` / 2.
    pub reference_value: f64,
    pub comparisons: Vec<CostComparison>,
}

/// The persons of one comparison, complete on the outcome and (with a cost column) the
/// cost, and on the cluster id with a clustered design.
struct Collected {
    cost: Vec<f64>,
    outcome: Vec<f64>,
    treated: Vec<bool>,
    cluster: Option<Vec<u32>>,
    missing_cost: usize,
}

fn collect(
    spec: &PilotSpec,
    input: &AnalysisInput,
    oi: usize,
    t: usize,
    c: usize,
) -> Option<Collected> {
    let OutcomeData::Values(ou) = &input.outcomes[oi] else {
        return None;
    };
    let costs = spec.costs.as_ref()?;
    let units = &input.units;
    let mut out = Collected {
        cost: Vec::new(),
        outcome: Vec::new(),
        treated: Vec::new(),
        cluster: units.cluster.as_ref().map(|_| Vec::new()),
        missing_cost: 0,
    };
    for u in 0..ou.len() {
        let row = ou.row(u);
        let arm = units.arm_of(row);
        if arm != t && arm != c {
            continue;
        }
        let Some(y) = ou.values.get(u) else { continue };
        if units.missing_cluster(row) {
            continue;
        }
        let cost = match &costs.basis {
            CostBasis::PerPerson(pp) => pp[arm].1,
            CostBasis::Column(_) => match input.cost.as_ref().and_then(|v| v.get(row)) {
                Some(x) => x,
                None => {
                    out.missing_cost += 1;
                    continue;
                }
            },
        };
        out.cost.push(cost);
        out.outcome.push(y);
        out.treated.push(arm == t);
        if let (Some(cl), Some(l)) = (out.cluster.as_mut(), units.cluster.as_ref()) {
            cl.push(l.code(row));
        }
    }
    Some(out)
}

/// The cost results of `r` under the spec's `[costs]`, and notes on what was left
/// out; None when there is no `[costs]` or no published whole-sample headline
/// estimate on the difference scale.
pub fn costs(
    spec: &PilotSpec,
    input: &AnalysisInput,
    r: &PilotResults,
    seed: u64,
    threshold: Option<usize>,
) -> (Option<CostResults>, Vec<Note>) {
    let mut notes = Vec::new();
    let Some(costs) = spec.costs.as_ref() else {
        return (None, notes);
    };
    let Some(oi) = spec.outcomes.iter().position(|o| o.id == costs.outcome) else {
        return (None, notes);
    };
    let values: Vec<f64> = (0..CURVE_POINTS)
        .map(|i| costs.max_value * i as f64 / (CURVE_POINTS - 1) as f64)
        .collect();
    let mut comparisons = Vec::new();
    for e in r.estimates.iter().filter(|e| {
        e.outcome == costs.outcome
            && e.subset == POOLED
            && e.headline
            && e.scale == Scale::Difference
            && !e.suppressed
            && e.std_error.is_finite()
            && e.std_error > 0.0
    }) {
        if let Some(row) = comparison(spec, input, e, oi, &values, seed, threshold, &mut notes) {
            comparisons.push(row);
        }
    }
    let out = (!comparisons.is_empty()).then(|| CostResults {
        outcome: costs.outcome.clone(),
        currency: "EUR".into(),
        source: costs.source.clone(),
        reference_value: costs.max_value / 2.0,
        comparisons,
    });
    (out, notes)
}

/// The cost comparison of one published headline estimate `e`, or None (with a note
/// where the reader should know why) when it cannot be made.
#[allow(clippy::too_many_arguments)]
fn comparison(
    spec: &PilotSpec,
    input: &AnalysisInput,
    e: &EstimateRow,
    oi: usize,
    values: &[f64],
    seed: u64,
    threshold: Option<usize>,
    notes: &mut Vec<Note>,
) -> Option<CostComparison> {
    let costs = spec.costs.as_ref()?;
    let arm_index = |v: &str| spec.arms.values.iter().position(|a| a.value == v);
    let note = |en: String, nl: String| cost_note(&costs.outcome, en, nl);
    let (Some(t), Some(c)) = (arm_index(&e.treated), arm_index(&e.control)) else {
        return None;
    };
    let p = collect(spec, input, oi, t, c)?;
    let n_t = p.treated.iter().filter(|&&x| x).count();
    let n_c = p.treated.len() - n_t;
    if let Some(k) = threshold
        && n_t.min(n_c) < k
    {
        notes.push(note(
            format!("Cost per extra person ({}): withheld, because an arm has fewer than {k} persons with both a cost and the outcome.", e.comparison),
            format!("Kosten per extra persoon ({}): niet getoond, omdat een groep minder dan {k} personen met zowel kosten als uitkomst heeft.", e.comparison),
        ));
        return None;
    }
    let persons = Persons {
        cost: &p.cost,
        outcome: &p.outcome,
        treated: &p.treated,
        cluster: p.cluster.as_deref(),
    };
    let (inc, basis, effect_source, n_missing_cost) =
        increments(costs, e, &persons, &p, (t, c), threshold, notes)?;
    let Ok(ratio) = icer(&inc, e.conf_level) else {
        return None;
    };
    let Ok(prob) = acceptability(&inc, values) else {
        return None;
    };
    // With fixed costs the bootstrap resamples the unadjusted difference: it is the
    // interval of the headline ICER only when the headline is that difference.
    let same_estimand = matches!(costs.basis, CostBasis::Column(_))
        || (e.covariates.is_empty() && UNADJUSTED.contains(&e.estimator.as_str()));
    if matches!(costs.basis, CostBasis::Column(_)) && !spec.design.kind.is_randomised() {
        notes.push(note(
            format!("Cost per extra person ({}): with a cost column both differences are unadjusted; without a lottery they may reflect differences between the groups rather than the approach.", e.comparison),
            format!("Kosten per extra persoon ({}): met een kostenkolom zijn beide verschillen ongecorrigeerd; zonder loting kunnen ze verschillen tussen de groepen weergeven in plaats van het effect van de aanpak.", e.comparison),
        ));
    }
    let boot = bootstrap(costs, e, &persons, &inc, same_estimand, seed, notes);
    let bootstrap_method = boot
        .as_ref()
        .map(|b| bootstrap_method(b, same_estimand, p.cluster.is_some()));
    Some(CostComparison {
        comparison: e.comparison.clone(),
        treated: e.treated.clone(),
        control: e.control.clone(),
        cost_basis: basis.into(),
        cost_treated: mean_cost(&p, true),
        cost_control: mean_cost(&p, false),
        incremental_cost: inc.cost,
        cost_std_error: inc.cost_se,
        covariance: inc.covariance,
        incremental_effect: inc.effect,
        effect_std_error: inc.effect_se,
        effect_source,
        effect_estimator: match costs.basis {
            CostBasis::PerPerson(_) => e.estimator.clone(),
            CostBasis::Column(_) => "difference_in_means".into(),
        },
        n_treated: n_t,
        n_control: n_c,
        n_missing_cost,
        icer: ratio.icer.is_finite().then_some(ratio.icer),
        fieller: ratio.fieller,
        bootstrap_kind: boot.as_ref().map(|b| b.kind),
        bootstrap_low: boot.as_ref().and_then(|b| b.low),
        bootstrap_high: boot.as_ref().and_then(|b| b.high),
        bootstrap_below: boot.as_ref().and_then(|b| b.below),
        bootstrap_above: boot.as_ref().and_then(|b| b.above),
        bootstrap_replicates: boot.as_ref().map(|b| b.replicates),
        bootstrap_seed: boot.as_ref().map(|b| b.seed),
        bootstrap_quadrants: boot.as_ref().map(|b| b.quadrants),
        bootstrap_method,
        plane: boot.map(|b| b.points).unwrap_or_default(),
        acceptability: values
            .iter()
            .zip(prob)
            .map(|(&value, probability)| AcceptabilityPoint { value, probability })
            .collect(),
    })
}

/// The cost per person of one arm: the mean of its persons' costs.
fn mean_cost(p: &Collected, arm: bool) -> f64 {
    let (s, n) = p
        .cost
        .iter()
        .zip(&p.treated)
        .filter(|(_, a)| **a == arm)
        .fold((0.0, 0.0), |(s, n), (x, _)| (s + x, n + 1.0));
    s / n
}

/// The bootstrap of the cost-effectiveness plane: persons (or clusters) resampled when
/// the headline is the unadjusted difference (`same_estimand`), else draws from the
/// headline's normal sampling distribution. None, with a note, when it cannot run.
fn bootstrap(
    costs: &Costs,
    e: &EstimateRow,
    persons: &Persons,
    inc: &Increments,
    same_estimand: bool,
    seed: u64,
    notes: &mut Vec<Note>,
) -> Option<BootstrapIcer> {
    // An adjusted or weighted headline is not what resampling persons and taking
    // the difference in means gives: its plane is drawn from the estimate's normal
    // sampling distribution instead (the parametric bootstrap).
    let run = if same_estimand {
        bootstrap_icer(persons, costs.bootstrap_replicates, seed, e.conf_level).map(Some)
    } else {
        parametric_icer(inc, costs.bootstrap_replicates, seed, e.conf_level).map(Some)
    };
    match run {
        Ok(b) => b,
        Err(err) => {
            notes.push(cost_note(
                &costs.outcome,
                format!(
                    "Cost per extra person ({}): bootstrap not run ({err}).",
                    e.comparison
                ),
                format!(
                    "Kosten per extra persoon ({}): bootstrap niet uitgevoerd ({err}).",
                    e.comparison
                ),
            ));
            None
        }
    }
}

/// The increments of cost and effect on the spec's cost basis: fixed costs per person
/// with the headline estimate, or a cost column with the differences in means of the
/// persons with both; also the basis's id, where the effect comes from and the persons
/// without a cost (withheld below the threshold). None, with a note, when the column's
/// increments cannot be computed.
fn increments(
    costs: &Costs,
    e: &EstimateRow,
    persons: &Persons,
    p: &Collected,
    (t, c): (usize, usize),
    threshold: Option<usize>,
    notes: &mut Vec<Note>,
) -> Option<(Increments, &'static str, Text, Option<usize>)> {
    let note = |en: String, nl: String| cost_note(&costs.outcome, en, nl);
    Some(match &costs.basis {
        CostBasis::PerPerson(pp) => (
            Increments {
                cost: pp[t].1 - pp[c].1,
                cost_se: 0.0,
                effect: e.estimate,
                effect_se: e.std_error,
                covariance: 0.0,
            },
            "per_person",
            Text {
                en: "the headline estimate".into(),
                nl: "de hoofdschatting".into(),
            },
            None,
        ),
        CostBasis::Column(col) => {
            let inc = match person_increments(persons) {
                Ok(i) => i,
                Err(err) => {
                    notes.push(note(
                        format!(
                            "Cost per extra person ({}): not computed ({err}).",
                            e.comparison
                        ),
                        format!(
                            "Kosten per extra persoon ({}): niet berekend ({err}).",
                            e.comparison
                        ),
                    ));
                    return None;
                }
            };
            let missing = match threshold {
                Some(k) if p.missing_cost > 0 && p.missing_cost < k => None,
                _ => Some(p.missing_cost),
            };
            if p.missing_cost > 0 {
                let count = missing.map_or_else(
                    || format!("fewer than {}", threshold.unwrap_or(0)),
                    |m| m.to_string(),
                );
                let aantal = missing.map_or_else(
                    || format!("minder dan {}", threshold.unwrap_or(0)),
                    |m| m.to_string(),
                );
                notes.push(note(
                format!("Cost per extra person ({}): {count} persons with the outcome but no cost in column \"{col}\" are left out (complete cases on cost and outcome).", e.comparison),
                format!("Kosten per extra persoon ({}): {aantal} personen met de uitkomst maar zonder kosten in kolom \"{col}\" zijn weggelaten (alleen personen met kosten en uitkomst).", e.comparison),
            ));
            }
            (
            inc,
            "column",
            Text {
                en: "the difference in means on the persons with both a cost and the outcome (unadjusted)".into(),
                nl: "het verschil in gemiddelden bij de personen met zowel kosten als uitkomst (zonder correctie)".into(),
            },
            missing,
        )
        }
    })
}

/// How the bootstrap of the cost-effectiveness plane was drawn, in both languages.
fn bootstrap_method(b: &BootstrapIcer, same_estimand: bool, clustered: bool) -> Text {
    let unit = if clustered {
        ("clusters", "clusters")
    } else {
        ("persons", "personen")
    };
    if !same_estimand {
        Text {
            en: format!(
                "{} draws (seed {}) of the effect from its normal sampling distribution (the headline estimate and its standard error; the cost per person is fixed): a parametric bootstrap, because the headline is adjusted and resampling persons would give the interval of the unadjusted difference; percentile interval ordered round the cost-effectiveness plane",
                b.replicates, b.seed
            ),
            nl: format!(
                "{} trekkingen (seed {}) van het effect uit zijn normale steekproefverdeling (de hoofdschatting en haar standaardfout; de kosten per persoon liggen vast): een parametrische bootstrap, omdat de hoofdschatting gecorrigeerd is en personen hertrekken het interval van het ongecorrigeerde verschil zou geven; percentielinterval geordend rond het kosteneffectiviteitsvlak",
                b.replicates, b.seed
            ),
        }
    } else {
        Text {
            en: format!(
                "{} resamples of the {} within each arm (seed {}); per resample the difference in mean cost and in mean outcome, without covariates; percentile interval ordered round the cost-effectiveness plane",
                b.replicates, unit.0, b.seed
            ),
            nl: format!(
                "{} trekkingen van de {} binnen elke groep (seed {}); per trekking het verschil in gemiddelde kosten en in gemiddelde uitkomst, zonder correctie; percentielinterval geordend rond het kosteneffectiviteitsvlak",
                b.replicates, unit.1, b.seed
            ),
        }
    }
}

/// A note on the cost results of `outcome`, whole sample.
fn cost_note(outcome: &str, en: String, nl: String) -> Note {
    Note {
        outcome: Some(outcome.to_string()),
        subset: Some(POOLED.to_string()),
        text: Text { nl, en },
    }
}
