//! Synthetic pilot data with recorded true effects.
//!
//! No microdata of any VIA pilot is public, so the toolkit ships synthetic data whose
//! structure mirrors each pilot's design (arms, projects, clusters, periods, attrition,
//! censoring) and whose base rates come from published figures. Each data set comes
//! with the effects that were built into it ([`Truth`]), so the analysis can be checked
//! against known answers, and every file says it is synthetic.
//!
//! - [`params`]: the `pilots/<slug>.sim.toml` schema and its validation;
//! - [`generate()`]: spec + params + seed → an in-memory frame and its truth;
//! - [`write()`]: CSV, Parquet, `truth.json` and a Markdown data dictionary.
//!
//! Truths are exact in expectation: for each unit the generator keeps the expected
//! outcome under its own arm and under control (given its covariates and cluster
//! effect), and a true effect is the mean of that difference over the arm's units.
//! Where nothing is clipped this equals the configured effect exactly.

mod draw;
mod estimands;
mod generate;
pub mod params;
mod write;

use serde::Serialize;
use std::collections::BTreeMap;

use crate::config::{DesignKind, OutcomeKind};

pub use estimands::SurvivalDifference;

pub use generate::generate;
pub use params::SimParams;
pub use write::{dictionary, write};

/// The default seed of `via-eval simulate` (the VIA programme's first year).
pub const DEFAULT_SEED: u64 = 20190101;

/// A generated data set and the effects built into it.
#[derive(Debug, Clone)]
pub struct SimData {
    pub frame: polars::prelude::DataFrame,
    pub truth: Truth,
}

/// The true effects of a synthetic data set, written to `<slug>.truth.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub slug: String,
    /// Always true: these data are synthetic.
    pub synthetic: bool,
    pub note: String,
    pub seed: u64,
    pub scale: f64,
    pub generator: String,
    pub design: DesignKind,
    pub arm_column: String,
    pub control: String,
    pub rows: usize,
    /// Rows per arm (persons, or cluster-periods in an aggregated layout).
    pub units_by_arm: BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters_by_arm: Option<BTreeMap<String, usize>>,
    pub outcomes: Vec<OutcomeTruth>,
    /// Unmeasured confounders (`hidden` covariates): generated, not written to the
    /// data, with their strength as risk ratios.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmeasured: Vec<UnmeasuredTruth>,
}

/// An unmeasured 0/1 confounder of a synthetic data set: not in the data; its
/// strength on the risk ratio scale, for reading E-values against.
#[derive(Debug, Clone, Serialize)]
pub struct UnmeasuredTruth {
    pub name: String,
    pub description: String,
    /// Share with the trait per arm, as realised in the data.
    pub share_by_arm: BTreeMap<String, f64>,
    /// RR_EU: the treated arm's share over the control arm's (at least 1).
    pub risk_ratio_participation: f64,
    pub outcomes: Vec<UnmeasuredOutcome>,
    pub note: String,
}

/// The strength of an unmeasured confounder with one outcome.
#[derive(Debug, Clone, Serialize)]
pub struct UnmeasuredOutcome {
    pub outcome: String,
    /// Its coefficient in the outcome model (or the source model of a derived outcome),
    /// on that model's scale.
    pub coefficient: f64,
    /// RR_UD: mean expected outcome under control with the trait over without, among
    /// the control units (at least 1).
    pub risk_ratio: f64,
    /// Ding & VanderWeele's bias factor RR_EU·RR_UD/(RR_EU + RR_UD − 1).
    pub bias_factor: f64,
}

/// The truth for one outcome.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeTruth {
    pub id: String,
    pub kind: OutcomeKind,
    pub primary: bool,
    /// The scale of `effects[].effect`.
    pub estimand: String,
    /// What `control_mean` measures.
    pub control_measure: String,
    pub control_mean: f64,
    /// How the outcome was generated, in words.
    pub model: String,
    /// How the values in `effects[].estimands` (and `survival_differences`) were
    /// computed, and a bound on their numerical error.
    pub estimand_method: String,
    /// One entry per treated arm, and per project plus pooled where there are projects.
    pub effects: Vec<EffectTruth>,
    /// Units whose expected outcome was clipped at a bound; 0 means the configured
    /// effect holds exactly for every unit.
    pub n_bounded: usize,
    /// Configured share of missing follow-up per arm (derived outcomes: none; they
    /// are missing where their source is censored or missing).
    pub missing_by_arm: BTreeMap<String, f64>,
}

/// The true effect of one treated arm against the control arm.
#[derive(Debug, Clone, Serialize)]
pub struct EffectTruth {
    pub arm: String,
    /// The project, or none for the whole pilot (pooled over projects, weighted by
    /// the number of treated units, where the pilot has projects).
    pub project: Option<String>,
    pub effect: f64,
    /// The true value of each estimator the analysis reports, keyed by its id in
    /// results.json (`ols`, `risk_ratio`, `cox_hazard_ratio`, ...): what the estimator
    /// converges to on these units, each under its own arm against under control.
    pub estimands: BTreeMap<String, f64>,
    /// Time-to-event outcomes: mean survival of the treated units under their own arm
    /// and under control at the reporting times.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub survival_differences: Vec<SurvivalDifference>,
    /// The control-arm expectation in the same project (or the whole pilot).
    pub control_mean: f64,
    pub n_treated: usize,
    pub n_control: usize,
    /// Pooled rows only: the unweighted mean of the project effects (geometric mean
    /// for hazard ratios), the target of a random-effects pooling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_of_projects: Option<f64>,
    /// Staggered panels: the true effect by time since joining (event time), as
    /// `cs_dynamic` and the event study estimate it; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_event_time: Vec<EventTimeTruth>,
}

/// The true effect at one event time e = period − first treated period of a
/// staggered panel: the cohort-size-weighted mean of the group-time effects ATT(g,
/// g + e) over the cohorts observed at e (0 before joining).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EventTimeTruth {
    pub event_time: i64,
    pub effect: f64,
    /// Units (clusters) of the cohorts observed at this event time.
    pub units: usize,
}

impl Truth {
    /// The true effect of `arm` on `outcome` (pooled when `project` is None).
    pub fn effect(&self, outcome: &str, arm: &str, project: Option<&str>) -> Option<f64> {
        self.outcomes
            .iter()
            .find(|o| o.id == outcome)?
            .effects
            .iter()
            .find(|e| e.arm == arm && e.project.as_deref() == project)
            .map(|e| e.effect)
    }

    /// The true value of `estimator` (an estimator id of results.json) for `arm` on
    /// `outcome` (pooled when `project` is None); None where the truth records none.
    pub fn estimand(
        &self,
        outcome: &str,
        arm: &str,
        project: Option<&str>,
        estimator: &str,
    ) -> Option<f64> {
        self.outcomes
            .iter()
            .find(|o| o.id == outcome)?
            .effects
            .iter()
            .find(|e| e.arm == arm && e.project.as_deref() == project)?
            .estimands
            .get(estimator)
            .copied()
    }
}
