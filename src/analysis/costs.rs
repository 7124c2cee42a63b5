//! The cost per extra person with the outcome (`[costs]`): per comparison of the cost
//! outcome, the incremental cost per person (from the config's cost per person of each
//! arm, so known exactly), the incremental effect (the whole-sample headline estimate),
//! the ICER with Fieller's interval and the acceptability curve
//! ([`crate::stats::cost`]). Made after disclosure control from the published estimate
//! only; a withheld estimate gives no cost line.

use serde::Serialize;

use super::{POOLED, PilotResults, Scale};
use crate::config::{Costs, Text};
use crate::stats::cost::{FiellerSet, Increments, acceptability, icer};

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
    pub cost_treated: f64,
    pub cost_control: f64,
    /// Cost per person, treated minus control (euros).
    pub incremental_cost: f64,
    /// The headline effect per person (a difference in proportions for a yes/no
    /// outcome) and its standard error.
    pub incremental_effect: f64,
    pub effect_std_error: f64,
    /// Cost per extra person with the outcome (ΔC/ΔE); null when ΔE is 0.
    pub icer: Option<f64>,
    /// Fieller's interval at the results' confidence level (normal approximation).
    pub fieller: FiellerSet,
    pub acceptability: Vec<AcceptabilityPoint>,
}

/// Everything `[costs]` produced.
#[derive(Debug, Clone, Serialize)]
pub struct CostResults {
    pub outcome: String,
    pub currency: String,
    pub source: Text,
    pub comparisons: Vec<CostComparison>,
}

/// The cost results of `r` under `costs`; None when the outcome has no published
/// whole-sample headline estimate on the difference scale.
pub fn costs(costs: &Costs, r: &PilotResults) -> Option<CostResults> {
    let cost_of = |arm: &str| {
        costs
            .per_person
            .iter()
            .find(|(a, _)| a == arm)
            .map(|(_, c)| *c)
    };
    let comparisons: Vec<CostComparison> = r
        .estimates
        .iter()
        .filter(|e| {
            e.outcome == costs.outcome
                && e.subset == POOLED
                && e.headline
                && e.scale == Scale::Difference
                && !e.suppressed
                && e.std_error.is_finite()
                && e.std_error > 0.0
        })
        .filter_map(|e| {
            let (ct, cc) = (cost_of(&e.treated)?, cost_of(&e.control)?);
            let inc = Increments {
                cost: ct - cc,
                cost_se: 0.0,
                effect: e.estimate,
                effect_se: e.std_error,
                covariance: 0.0,
            };
            let ratio = icer(&inc, e.conf_level).ok()?;
            let values: Vec<f64> = (0..CURVE_POINTS)
                .map(|i| costs.max_value * i as f64 / (CURVE_POINTS - 1) as f64)
                .collect();
            let p = acceptability(&inc, &values).ok()?;
            Some(CostComparison {
                comparison: e.comparison.clone(),
                treated: e.treated.clone(),
                control: e.control.clone(),
                cost_treated: ct,
                cost_control: cc,
                incremental_cost: inc.cost,
                incremental_effect: inc.effect,
                effect_std_error: inc.effect_se,
                icer: ratio.icer.is_finite().then_some(ratio.icer),
                fieller: ratio.fieller,
                acceptability: values
                    .into_iter()
                    .zip(p)
                    .map(|(value, probability)| AcceptabilityPoint { value, probability })
                    .collect(),
            })
        })
        .collect();
    (!comparisons.is_empty()).then(|| CostResults {
        outcome: costs.outcome.clone(),
        currency: "EUR".into(),
        source: costs.source.clone(),
        comparisons,
    })
}
