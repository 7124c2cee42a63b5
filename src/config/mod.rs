//! Pilot configuration: `pilots/<slug>.toml`.
//!
//! Parsing happens in two steps, as in ripgrep: the TOML is read into raw structs that
//! reject unknown keys (`deny_unknown_fields`), and those are then validated into a
//! [`PilotSpec`] with enums and checked cross-references. Only a validated spec reaches
//! the data layer. Every error names the file, the key and, where there is a closed set,
//! the allowed values. The schema is documented in `pilots/README.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub mod read;
pub use read::{FileKind, ReadOptions};
mod times;
pub use times::nice_times;

/// Default largest difference in attrition between arms before a warning.
pub const DEFAULT_ATTRITION_MARGIN: f64 = 0.05;

/// A text in Dutch and English.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub nl: String,
    pub en: String,
}

/// Report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Nl,
    En,
}

impl Text {
    /// A text from its Dutch and its English version, named so they cannot swap.
    pub fn new(nl: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            nl: nl.into(),
            en: en.into(),
        }
    }

    /// A text that reads the same in both languages (a column name, a number).
    pub fn same(s: impl Into<String>) -> Self {
        let s = s.into();
        Self {
            nl: s.clone(),
            en: s,
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.nl,
            Lang::En => &self.en,
        }
    }
}

/// What to do with a unit whose cluster id is missing (`design.missing_cluster`,
/// `compare --missing-cluster`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingCluster {
    /// Leave the unit out of the cluster-robust analyses (it still counts in the
    /// summaries and in the differences that ignore the clustering), count it per arm
    /// (`n_missing_cluster`) and say so in a note, as estimatr, Stata and fixest do.
    #[default]
    Drop,
    /// Stop with an error that names the row.
    Error,
}

impl MissingCluster {
    pub const ALLOWED: &'static str = "drop, error";

    /// The value's name in a config (`design.missing_cluster`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Drop => "drop",
            Self::Error => "error",
        }
    }

    /// Whether this is the default (left out of the serialised spec).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How units came to be in an arm. Drives the default estimators and the caveats in
/// the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DesignKind {
    IndividuallyRandomised,
    ClusterRandomised,
    MatchedComparison,
    BeforeAfter,
    Panel,
}

impl DesignKind {
    pub const ALLOWED: &'static str =
        "individually-randomised, cluster-randomised, matched-comparison, before-after, panel";

    /// Whether differences between arms can be read as causal effects by design.
    pub fn is_randomised(self) -> bool {
        matches!(self, Self::IndividuallyRandomised | Self::ClusterRandomised)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::IndividuallyRandomised, Lang::En) => "individually randomised",
            (Self::IndividuallyRandomised, Lang::Nl) => "individueel gerandomiseerd",
            (Self::ClusterRandomised, Lang::En) => "cluster-randomised",
            (Self::ClusterRandomised, Lang::Nl) => "clustergerandomiseerd",
            (Self::MatchedComparison, Lang::En) => "matched comparison group",
            (Self::MatchedComparison, Lang::Nl) => "gematchte vergelijkingsgroep",
            (Self::BeforeAfter, Lang::En) => "before/after, no control group",
            (Self::BeforeAfter, Lang::Nl) => "voor/na-meting, geen controlegroep",
            (Self::Panel, Lang::En) => "panel of units over time",
            (Self::Panel, Lang::Nl) => "panel van eenheden door de tijd",
        }
    }
}

/// The measurement level of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    Binary,
    Continuous,
    Count,
    Ordinal,
    TimeToEvent,
}

impl OutcomeKind {
    pub const ALLOWED: &'static str = "binary, continuous, count, ordinal, time-to-event";
}

/// Which direction of an outcome is good for the people in the pilot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
    Neither,
}

/// Whether the data hold one row per unit or aggregated counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DataLayout {
    #[default]
    Person,
    Aggregated,
}

// --------------------------------------------------------------- the draft ----
//
// A pilot spec before validation, as a config file or the command line (`compare`)
// states it: plain values, enums as their names. [`validate`] turns a draft into a
// [`PilotSpec`] with every rule checked, whichever way the draft was made.

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PilotDraft {
    pub slug: String,
    pub title: Text,
    pub description: Text,
    pub unit: Text,
    pub design: DesignDraft,
    pub data: DataDraft,
    pub arms: ArmsDraft,
    #[serde(default)]
    pub covariates: Vec<String>,
    #[serde(default)]
    pub projects: Vec<ProjectDraft>,
    #[serde(default)]
    pub subgroups: Vec<SubgroupDraft>,
    pub outcomes: Vec<OutcomeDraft>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub multiplicity: Option<String>,
    #[serde(default)]
    pub attrition_margin: Option<f64>,
    #[serde(default)]
    pub costs: Option<CostsDraft>,
}

/// `[costs]`: the cost per person of each arm, or a per-person cost column, for the
/// cost per extra person with the outcome.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostsDraft {
    /// The outcome whose extra persons are counted (a binary outcome: an extra person
    /// in work).
    pub outcome: String,
    /// Cost per person (euros) of every arm; or give `column`.
    #[serde(default)]
    pub per_person: Option<Vec<ArmCostDraft>>,
    /// A column of the data with each person's cost (euros); or give `per_person`.
    #[serde(default)]
    pub column: Option<String>,
    /// Bootstrap replicates of the cost-effectiveness plane (default 2000).
    #[serde(default)]
    pub bootstrap_replicates: Option<u64>,
    /// Where the costs come from, in both languages.
    pub source: Text,
    /// Largest value of one extra person with the outcome on the acceptability curve
    /// (euros; default 100,000).
    #[serde(default)]
    pub max_value: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmCostDraft {
    pub arm: String,
    pub cost: f64,
}

/// Validated `[costs]`: a cost per person for every arm, or a per-person cost column,
/// in euros.
#[derive(Debug, Clone, Serialize)]
pub struct Costs {
    pub outcome: String,
    pub basis: CostBasis,
    pub source: Text,
    pub max_value: f64,
    /// Bootstrap replicates of the cost-effectiveness plane.
    pub bootstrap_replicates: u64,
}

/// Default bootstrap replicates of the cost-effectiveness plane.
pub const COST_BOOTSTRAP_REPS: u64 = 2000;

/// Where the cost per person comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostBasis {
    /// (arm value, cost per person), in the order of the arms: known exactly.
    PerPerson(Vec<(String, f64)>),
    /// A column of the data with each person's cost: the incremental cost is
    /// estimated, with its standard error and covariance with the effect.
    Column(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignDraft {
    pub kind: String,
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub block: Option<String>,
    /// Matching only: compare units with the same value of this column (a school).
    #[serde(default)]
    pub exact: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub fixed_effects: Vec<String>,
    #[serde(default)]
    pub note: Option<Text>,
    #[serde(default)]
    pub missing_cluster: Option<String>,
    #[serde(default)]
    pub headline: Option<String>,
    /// Panel and before/after designs: the column of the period (whole numbers).
    #[serde(default)]
    pub time: Option<String>,
    /// Panel designs: the column of each unit's first treated period (0 or empty =
    /// never treated).
    #[serde(default)]
    pub first_treated: Option<String>,
    /// Panel designs: the column that identifies the unit followed over time (default:
    /// `cluster`).
    #[serde(default)]
    pub unit: Option<String>,
    /// Before/after designs with `time`: the first period with the intervention.
    #[serde(default)]
    pub start: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataDraft {
    pub file: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub layout: Option<String>,
    #[serde(default)]
    pub delimiter: Option<String>,
    #[serde(default)]
    pub decimal_comma: Option<bool>,
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub na: Vec<String>,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default)]
    pub started: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmsDraft {
    pub column: String,
    pub control: String,
    pub values: Vec<ArmDraft>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmDraft {
    pub value: String,
    pub label: Text,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectDraft {
    pub value: String,
    pub label: Text,
}

/// A subgroup for the effect per level (`[[subgroups]]`): a column with at most
/// [`MAX_SUBGROUP_LEVELS`] values (e.g. sex, migration background, age band as codes).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgroupDraft {
    pub column: String,
    pub label: Text,
    /// Labels of the column's values, e.g. `{ value = "1", label = { nl = "vrouw", en = "women" } }`;
    /// values without one are shown as "column = value".
    #[serde(default)]
    pub levels: Vec<ProjectDraft>,
}

/// Most levels a subgroup column may have.
pub const MAX_SUBGROUP_LEVELS: usize = 10;

/// A validated subgroup: its column, label and level labels.
#[derive(Debug, Clone, Serialize)]
pub struct Subgroup {
    pub column: String,
    pub label: Text,
    pub levels: Vec<Project>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelDraft {
    pub file: String,
    pub id: String,
    pub month: String,
    pub status: String,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeDraft {
    pub id: String,
    #[serde(default)]
    pub column: Option<String>,
    pub kind: String,
    pub label: Text,
    pub unit: Text,
    #[serde(default)]
    pub primary: bool,
    pub better: String,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub events: Option<String>,
    #[serde(default)]
    pub trials: Option<String>,
    #[serde(default)]
    pub at: Vec<f64>,
    #[serde(default)]
    pub horizon: Option<f64>,
    #[serde(default)]
    pub panel: Option<PanelDraft>,
    #[serde(default)]
    pub from_time: Option<FromTimeDraft>,
    #[serde(default)]
    pub plausible_effect: Option<f64>,
}

/// `from_time` of an outcome: it is a function of a time-to-event outcome's time.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FromTimeDraft {
    pub outcome: String,
    pub by: f64,
    #[serde(default)]
    pub per_time_unit: Option<f64>,
}

// ----------------------------------------------------------- validated spec ----

/// A validated pilot configuration.
#[derive(Debug, Clone, Serialize)]
pub struct PilotSpec {
    pub slug: String,
    pub title: Text,
    pub description: Text,
    /// What one row (or one counted person) is, e.g. "status holder".
    pub unit: Text,
    pub design: Design,
    pub data: DataSpec,
    pub arms: Arms,
    pub covariates: Vec<String>,
    pub projects: Vec<Project>,
    /// Subgroups for effects per level of primary outcomes (exploratory unless
    /// pre-registered).
    pub subgroups: Vec<Subgroup>,
    /// Costs per person per arm, for the cost per extra person with the outcome.
    pub costs: Option<Costs>,
    pub outcomes: Vec<OutcomeSpec>,
    pub sources: Vec<String>,
    /// How headline p-values are adjusted for multiple testing (primary and secondary
    /// outcomes are separate families); Holm by default.
    pub multiplicity: crate::stats::multiplicity::Adjustment,
    /// Largest difference between arms in the share of missing outcomes before the
    /// report warns of differential attrition (a fraction; 0.05 by default).
    pub attrition_margin: f64,
    /// The file this spec was read from.
    pub path: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Design {
    pub kind: DesignKind,
    pub cluster: Option<String>,
    pub block: Option<String>,
    /// Nearest-neighbour matching (`matching_att`) pairs only units with the same
    /// value of this column (exact matching, e.g. within a school); other estimators
    /// ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// Column that names the project or site; results are given per project and pooled.
    pub project: Option<String>,
    /// Columns whose levels are absorbed as fixed effects in an extra estimate.
    pub fixed_effects: Vec<String>,
    pub note: Option<Text>,
    /// Units without a cluster id: left out of the cluster-robust analyses (default)
    /// or an error.
    #[serde(skip_serializing_if = "MissingCluster::is_default")]
    pub missing_cluster: MissingCluster,
    /// A weighting estimator that leads for every outcome of a design without a
    /// lottery (`design.headline`); None: the design's default (regression-adjusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headline: Option<WeightingHeadline>,
    /// The time axis of a panel or before/after design ([`TimeDesign`]); `None`: the
    /// arms are compared as two groups (descriptive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeDesign>,
}

/// The weighting estimator a non-randomised pilot reports as its headline
/// (`design.headline`). The analysis runs it as `compare --estimator` would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightingHeadline {
    /// Entropy balancing, effect on the participants (`entropy_att`).
    Entropy,
    /// Inverse probability weighting, effect on the participants (`ipw_att`).
    Ipw,
    /// Overlap weights: the effect in the overlap population (`overlap_ato`), not on
    /// the participants.
    Overlap,
    /// Doubly robust AIPW, effect on the participants (`aipw_att`).
    Aipw,
    /// Nearest-neighbour matching on the propensity score (`matching_att`).
    Matching,
}

impl WeightingHeadline {
    pub const ALLOWED: &'static str = "entropy, ipw, overlap, aipw, matching";
}

/// The time axis of a design without a lottery: with it, a panel is analysed as a
/// (staggered) difference-in-differences and a before/after design as an interrupted
/// time series; the two-group comparison of the arms stays beside it as descriptive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TimeDesign {
    /// `design.kind = "panel"` with `time` and `first_treated`.
    Panel {
        /// The unit followed over time (an employer).
        unit: String,
        /// The period column (whole numbers).
        time: String,
        /// Each unit's first treated period (0 or empty = never treated).
        first_treated: String,
    },
    /// `design.kind = "before-after"` with `time` and `start`.
    BeforeAfter {
        time: String,
        /// The first period with the intervention.
        start: i64,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct DataSpec {
    /// Data file, relative to the data directory (`notebooks-data/` by default).
    pub file: String,
    pub id: Option<String>,
    pub layout: DataLayout,
    /// How to read the file (separator, decimal comma, encoding, missing-value
    /// markers, worksheet); unset options are detected. See `docs/input-files.md`.
    pub read: ReadOptions,
    /// A 0/1 column: whether the unit started the programme (or the condition) of its
    /// arm, for the participant flow. Person-level data only.
    pub started: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Arms {
    pub column: String,
    pub control: String,
    /// All arms, the control among them, in the order of the config.
    pub values: Vec<Arm>,
}

impl Arms {
    /// The index of the control arm in `values` (a validated config has it there).
    pub fn control_index(&self) -> usize {
        self.values
            .iter()
            .position(|a| a.value == self.control)
            .expect("validated config has its control among the arms")
    }

    /// The arms compared with the control, in config order.
    pub fn treated(&self) -> impl Iterator<Item = &Arm> {
        self.values.iter().filter(move |a| a.value != self.control)
    }
    pub fn get(&self, value: &str) -> Option<&Arm> {
        self.values.iter().find(|a| a.value == value)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Arm {
    pub value: String,
    pub label: Text,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub value: String,
    pub label: Text,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeSpec {
    pub id: String,
    pub kind: OutcomeKind,
    pub label: Text,
    pub unit: Text,
    pub primary: bool,
    pub better: Better,
    pub source: OutcomeSource,
    /// Time-to-event outcomes: times at which survival is reported.
    pub at: Vec<f64>,
    /// Time-to-event outcomes: horizon of the restricted mean survival time; by
    /// default the latest time at which at least 10 units (or the disclosure
    /// threshold) of every arm are still followed, rounded down to two digits.
    pub horizon: Option<f64>,
    /// An outcome that is a function of a time-to-event outcome's time (declared with
    /// `from_time`): estimated from that outcome's Kaplan-Meier curves, so that units
    /// whose follow-up ended before `by` are not dropped.
    pub from_time: Option<FromTime>,
    /// The size of effect found elsewhere (in the outcome's units; a proportion for
    /// binary outcomes), to say whether the pilot could have detected it.
    pub plausible_effect: Option<f64>,
}

/// What a `from_time` outcome is, read off the time T of a time-to-event outcome:
/// binary: 1 when the event happened by `by` (T ≤ by); continuous or count:
/// min(T, by) × `per_time_unit` (time on benefit up to a horizon, in days).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FromTime {
    /// The id of the time-to-event outcome.
    pub outcome: String,
    /// The horizon, in that outcome's time unit.
    pub by: f64,
    /// The outcome's units per time unit (1 unless given; binary outcomes: 1).
    pub per_time_unit: f64,
}

/// Where an outcome's values come from.
#[derive(Debug, Clone, Serialize)]
pub enum OutcomeSource {
    /// One value per row.
    Column(String),
    /// Time and event indicator columns (time-to-event outcomes).
    TimeEvent { time: String, event: String },
    /// Aggregated binary outcome: number of events and number of trials per row.
    Counts { events: String, trials: String },
    /// Time-to-event derived from a long person-by-month status panel in another file:
    /// the first month with status 1 is the event; without one, censored at `end` (or
    /// the last month observed). Joined to the units by `data.id`.
    Panel {
        /// Panel file, relative to the data directory.
        file: String,
        id: String,
        month: String,
        status: String,
        end: Option<String>,
    },
}

impl OutcomeSpec {
    /// The data columns this outcome reads.
    pub fn columns(&self) -> Vec<&str> {
        match &self.source {
            OutcomeSource::Column(c) => vec![c],
            OutcomeSource::TimeEvent { time, event } => vec![time, event],
            OutcomeSource::Counts { events, trials } => vec![events, trials],
            // The panel is another file; the units are joined to it by `data.id`.
            OutcomeSource::Panel { .. } => vec![],
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Binary => "binary",
            Self::Continuous => "continuous",
            Self::Count => "count",
            Self::Ordinal => "ordinal",
            Self::TimeToEvent => "time-to-event",
        };
        f.write_str(s)
    }
}

fn parse_enum<T: for<'de> Deserialize<'de>>(
    origin: Origin,
    key: &str,
    value: &str,
    allowed: &str,
) -> Result<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|_| origin.error(format!("`{key}` is \"{value}\"; allowed values: {allowed}")))
}

/// Slug rule: lower-case letters, digits and hyphens.
/// A character an outcome id may hold: lower-case letters, digits, `-` and `_` (ids
/// name chart files and table rows).
pub fn outcome_id_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

/// Whether `id` is a valid outcome id: not empty, and only [`outcome_id_char`]s.
pub fn valid_outcome_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(outcome_id_char)
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl PilotSpec {
    /// Read and validate a pilot config file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path, "cannot read the pilot config").with_cause(e))?;
        Self::from_toml(&text, path)
    }

    /// Parse and validate TOML text; `path` is used in messages and kept in the spec.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let raw: PilotDraft = toml::from_str(text)
            .map_err(|e| Error::config(path, did_you_mean(e.to_string().trim_end())))?;
        validate(raw, Origin::File(path))
    }

    /// Columns the analysis reads, without duplicates, in a stable order.
    pub fn needed_columns(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut push = |c: &str| {
            if seen.insert(c.to_string()) {
                out.push(c.to_string());
            }
        };
        push(&self.arms.column);
        for c in [
            &self.design.cluster,
            &self.design.block,
            &self.design.exact,
            &self.design.project,
        ]
        .into_iter()
        .flatten()
        {
            push(c);
        }
        for c in &self.design.fixed_effects {
            push(c);
        }
        match &self.design.time {
            Some(TimeDesign::Panel {
                unit,
                time,
                first_treated,
            }) => {
                push(unit);
                push(time);
                push(first_treated);
            }
            Some(TimeDesign::BeforeAfter { time, .. }) => push(time),
            None => {}
        }
        for c in &self.covariates {
            push(c);
        }
        for g in &self.subgroups {
            push(&g.column);
        }
        if let Some(c) = &self.data.started {
            push(c);
        }
        if let Some(Costs {
            basis: CostBasis::Column(c),
            ..
        }) = &self.costs
        {
            push(c);
        }
        for o in &self.outcomes {
            for c in o.columns() {
                push(c);
            }
        }
        // Panel-derived outcomes are joined to the units by their id.
        let panel = self
            .outcomes
            .iter()
            .any(|o| matches!(o.source, OutcomeSource::Panel { .. }));
        if panel && let Some(id) = &self.data.id {
            push(id);
        }
        out
    }

    pub fn project_label(&self, value: &str, lang: Lang) -> String {
        self.projects
            .iter()
            .find(|p| p.value == value)
            .map(|p| p.label.get(lang).to_string())
            .unwrap_or_else(|| value.to_string())
    }
}

/// A TOML error about an unknown key, with the closest expected key suggested: toml
/// writes "unknown field `primry`, expected one of `id`, `primary`, ...".
fn did_you_mean(msg: &str) -> String {
    let Some(rest) = msg.split("unknown field `").nth(1) else {
        return msg.to_string();
    };
    let Some((unknown, after)) = rest.split_once('`') else {
        return msg.to_string();
    };
    let Some(expected) = after.split("expected").nth(1) else {
        return msg.to_string();
    };
    let line_end = expected.find('\n').unwrap_or(expected.len());
    let keys: Vec<&str> = expected[..line_end].split('`').skip(1).step_by(2).collect();
    match crate::error::closest(unknown, keys.iter().copied()) {
        Some(k) => format!("{msg}\nDid you mean `{k}`?"),
        None => msg.to_string(),
    }
}

/// The read options of `[data]`: each checked, and checked against the file type.
fn validate_read(d: &DataDraft, origin: Origin) -> Result<ReadOptions> {
    let err = |msg: String| origin.error(msg);
    let kind = FileKind::of(Path::new(&d.file)).ok_or_else(|| {
        err(format!(
            "`data.file` is \"{}\"; allowed file types: {}",
            d.file,
            FileKind::allowed()
        ))
    })?;
    let read = ReadOptions::from_parts(
        d.delimiter.as_deref(),
        d.decimal_comma,
        d.encoding.as_deref(),
        &d.na,
        d.sheet.as_deref(),
    )
    .map_err(|(key, m)| err(format!("`data.{key}`: {m}")))?;
    if kind != FileKind::Text {
        for (key, set) in [
            ("delimiter", read.delimiter.is_some()),
            ("encoding", read.encoding.is_some()),
        ] {
            if set {
                return Err(err(format!(
                    "`data.{key}` is only for text files (.csv, .tsv, .txt); \"{}\" is not one. Remove the key",
                    d.file
                )));
            }
        }
    }
    if kind != FileKind::Sheet && read.sheet.is_some() {
        return Err(err(format!(
            "`data.sheet` is only for workbooks (.xlsx, .xls, .ods); \"{}\" is not one. Remove the key",
            d.file
        )));
    }
    Ok(read)
}

/// Where a draft comes from, for its error messages: a config file (errors name the
/// file and the key), or the command line of `compare` (a usage error).
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    File(&'a Path),
    CommandLine,
}

impl Origin<'_> {
    fn error(self, msg: String) -> Error {
        match self {
            Self::File(file) => Error::config(file, msg),
            Self::CommandLine => Error::usage(format!(
                "these options describe a comparison that cannot be run: {msg}"
            )),
        }
    }

    /// The path recorded in the spec.
    fn path(self) -> PathBuf {
        match self {
            Self::File(file) => file.to_path_buf(),
            Self::CommandLine => PathBuf::from("(command line)"),
        }
    }
}

/// Check the slug: a valid one, and the config file's name when it comes from a file.
fn validate_slug(slug: &str, origin: Origin) -> Result<()> {
    let err = |msg: String| origin.error(msg);
    if !valid_slug(slug) {
        return Err(err(format!(
            "`slug` is \"{}\"; use lower-case letters, digits and hyphens",
            slug
        )));
    }
    if let Origin::File(file) = origin
        && let Some(stem) = file.file_stem().and_then(|s| s.to_str())
        && stem != slug
    {
        return Err(err(format!(
            "`slug` is \"{}\" but the file is named {stem}.toml; make them the same",
            slug
        )));
    }
    Ok(())
}

/// Check the `[design]` section: its kind, and the cluster column it needs.
fn validate_design(d: DesignDraft, origin: Origin) -> Result<Design> {
    let err = |msg: String| origin.error(msg);
    let kind: DesignKind = parse_enum(origin, "design.kind", &d.kind, DesignKind::ALLOWED)?;
    if kind == DesignKind::ClusterRandomised && d.cluster.is_none() {
        return Err(err(
            "`design.kind` is cluster-randomised but `design.cluster` is not set; name the column that identifies the clusters".into(),
        ));
    }
    let missing_cluster = match d.missing_cluster.as_deref() {
        None => MissingCluster::Drop,
        Some(_) if d.cluster.is_none() => {
            return Err(err(
                "`design.missing_cluster` is set but `design.cluster` is not; remove the key or name the cluster column".into(),
            ));
        }
        Some(s) => parse_enum(origin, "design.missing_cluster", s, MissingCluster::ALLOWED)?,
    };
    let headline = match d.headline.as_deref() {
        None => None,
        Some(_) if kind.is_randomised() => {
            return Err(err(format!(
                "`design.headline` is set but `design.kind` is {}: a lottery already makes the arms alike, and weighting is for comparisons without one; remove the key",
                d.kind
            )));
        }
        Some(s) => Some(parse_enum(
            origin,
            "design.headline",
            s,
            WeightingHeadline::ALLOWED,
        )?),
    };
    let time = validate_time_design(&d, kind, origin)?;
    Ok(Design {
        kind,
        cluster: d.cluster,
        block: d.block,
        exact: d.exact,
        project: d.project,
        fixed_effects: d.fixed_effects,
        note: d.note,
        missing_cluster,
        headline,
        time,
    })
}

/// Check the time keys of `[design]` (`time`, `first_treated`, `unit`, `start`): which
/// kinds take them and which need each other.
fn validate_time_design(
    d: &DesignDraft,
    kind: DesignKind,
    origin: Origin,
) -> Result<Option<TimeDesign>> {
    let err = |msg: String| origin.error(msg);
    let empty = |k: &str, v: &Option<String>| -> Result<()> {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(err(format!("`design.{k}` is empty; name a column")));
        }
        Ok(())
    };
    empty("time", &d.time)?;
    empty("first_treated", &d.first_treated)?;
    empty("unit", &d.unit)?;
    match kind {
        DesignKind::Panel => {
            if d.start.is_some() {
                return Err(err(
                    "`design.start` is for a before-after design; a panel gives each unit's start in `design.first_treated`".into(),
                ));
            }
            match (&d.time, &d.first_treated) {
                (None, None) => {
                    if d.unit.is_some() {
                        return Err(err(
                            "`design.unit` is set but `design.time` is not; name the period column in `design.time` and the first treated period in `design.first_treated`".into(),
                        ));
                    }
                    Ok(None)
                }
                (None, Some(_)) => Err(err(
                    "`design.first_treated` is set but `design.time` is not; name the column of the period (e.g. time = \"year\")".into(),
                )),
                (Some(_), None) => Err(err(
                    "`design.time` is set but `design.first_treated` is not; name the column with each unit's first treated period (0 or empty = never treated)".into(),
                )),
                (Some(t), Some(g)) => {
                    let unit = d.unit.clone().or_else(|| d.cluster.clone()).ok_or_else(|| {
                        err("a panel with `design.time` needs the unit followed over time: set `design.unit` (or `design.cluster`)".into())
                    })?;
                    if t == g || unit == *t || unit == *g {
                        return Err(err(format!(
                            "`design.unit` (\"{unit}\"), `design.time` (\"{t}\") and `design.first_treated` (\"{g}\") must be three different columns"
                        )));
                    }
                    Ok(Some(TimeDesign::Panel {
                        unit,
                        time: t.clone(),
                        first_treated: g.clone(),
                    }))
                }
            }
        }
        DesignKind::BeforeAfter => {
            for (k, set) in [
                ("first_treated", d.first_treated.is_some()),
                ("unit", d.unit.is_some()),
            ] {
                if set {
                    return Err(err(format!(
                        "`design.{k}` is for a panel design; a before-after design takes `time` and `start`"
                    )));
                }
            }
            match (&d.time, d.start) {
                (None, None) => Ok(None),
                (Some(t), Some(start)) => Ok(Some(TimeDesign::BeforeAfter {
                    time: t.clone(),
                    start,
                })),
                (Some(_), None) => Err(err(
                    "`design.time` is set but `design.start` is not; give the first period with the intervention (a whole number in the time column)".into(),
                )),
                (None, Some(_)) => Err(err(
                    "`design.start` is set but `design.time` is not; name the column of the period (e.g. time = \"month\")".into(),
                )),
            }
        }
        _ => {
            for (k, set) in [
                ("time", d.time.is_some()),
                ("first_treated", d.first_treated.is_some()),
                ("unit", d.unit.is_some()),
                ("start", d.start.is_some()),
            ] {
                if set {
                    return Err(err(format!(
                        "`design.{k}` is for the kinds panel and before-after; remove it or change `design.kind`"
                    )));
                }
            }
            Ok(None)
        }
    }
}

/// Check the `[data]` section: its layout, a data file, and how to read it.
fn validate_data(d: DataDraft, origin: Origin) -> Result<DataSpec> {
    let layout = match d.layout.as_deref() {
        None => DataLayout::Person,
        Some(s) => parse_enum(origin, "data.layout", s, "person, aggregated")?,
    };
    if d.file.trim().is_empty() {
        return Err(
            origin.error("`data.file` is empty; name the data file (CSV, Excel or Parquet)".into())
        );
    }
    let read = validate_read(&d, origin)?;
    let started = match d.started {
        Some(c) if c.trim().is_empty() => {
            return Err(origin.error(
                "`data.started` is empty; name the 0/1 column that says whether a unit started the programme, or remove the key".into(),
            ));
        }
        Some(_) if layout == DataLayout::Aggregated => {
            return Err(origin.error(
                "`data.started` needs person rows (`data.layout = \"person\"`): rows of aggregated data are groups, not persons who start; remove the key".into(),
            ));
        }
        s => s,
    };
    Ok(DataSpec {
        file: d.file,
        id: d.id,
        layout,
        read,
        started,
    })
}

/// Check the `[arms]` section: at least two distinct arms, the control among them.
fn validate_arms(a: ArmsDraft, origin: Origin) -> Result<Arms> {
    let err = |msg: String| origin.error(msg);
    if a.values.len() < 2 {
        return Err(err(format!(
            "`arms.values` lists {} arm(s); a comparison needs at least two (a control and one other)",
            a.values.len()
        )));
    }
    let mut arm_values = BTreeSet::new();
    for v in &a.values {
        if !arm_values.insert(v.value.clone()) {
            return Err(err(format!("`arms.values` lists \"{}\" twice", v.value)));
        }
    }
    if !arm_values.contains(&a.control) {
        let allowed: Vec<_> = a.values.iter().map(|v| v.value.as_str()).collect();
        return Err(err(format!(
            "`arms.control` is \"{}\"; allowed values (from arms.values): {}",
            a.control,
            allowed.join(", ")
        )));
    }
    Ok(Arms {
        column: a.column,
        control: a.control,
        values: a
            .values
            .into_iter()
            .map(|a| Arm {
                value: a.value,
                label: a.label,
            })
            .collect(),
    })
}

/// Where an outcome is checked: its index in `[[outcomes]]` (for the keys its
/// messages name), the data section and the draft's origin.
struct OutcomeAt<'a> {
    i: usize,
    data: &'a DataSpec,
    origin: Origin<'a>,
}

impl OutcomeAt<'_> {
    /// The full key of the outcome's field `k`: `outcomes[i].k`.
    fn key(&self, k: &str) -> String {
        format!("outcomes[{}].{k}", self.i)
    }

    /// An error of the draft's origin.
    fn err(&self, msg: String) -> Error {
        self.origin.error(msg)
    }
}

/// Check an outcome's id: a valid one, not used before (`ids` holds those before it).
fn validate_outcome_id(at: &OutcomeAt, o: &OutcomeDraft, ids: &mut BTreeSet<String>) -> Result<()> {
    if !valid_outcome_id(&o.id) {
        return Err(at.err(format!(
            "`{}` is \"{}\"; use lower-case letters, digits, '-' and '_'",
            at.key("id"),
            o.id
        )));
    }
    if !ids.insert(o.id.clone()) {
        return Err(at.err(format!(
            "`{}`: the id \"{}\" is used twice",
            at.key("id"),
            o.id
        )));
    }
    Ok(())
}

/// Check an outcome's `panel`: only for a time-to-event outcome without `column` and
/// `event`, with `data.id` set and a CSV or Parquet file.
fn validate_panel(at: &OutcomeAt, o: &OutcomeDraft, okind: OutcomeKind) -> Result<()> {
    if let Some(p) = &o.panel {
        if okind != OutcomeKind::TimeToEvent || o.column.is_some() || o.event.is_some() {
            return Err(at.err(format!(
                "`{}` derives a time-to-event outcome: use it with `kind = \"time-to-event\"` and without `column`/`event`",
                at.key("panel")
            )));
        }
        if at.data.id.is_none() {
            return Err(at.err(format!(
                "outcome \"{}\" comes from a panel, which is joined to the units by id: set `data.id`",
                o.id
            )));
        }
        if !(p.file.ends_with(".csv") || p.file.ends_with(".parquet")) {
            return Err(at.err(format!(
                "`{}` is \"{}\"; allowed file types: .csv, .parquet",
                at.key("panel.file"),
                p.file
            )));
        }
    }
    Ok(())
}

/// Where an outcome's values come from (a column, time and event, counts, a panel),
/// from the keys its kind allows.
fn outcome_source(at: &OutcomeAt, o: &OutcomeDraft, okind: OutcomeKind) -> Result<OutcomeSource> {
    let key = |k: &str| at.key(k);
    let err = |msg: String| at.err(msg);
    Ok(match (okind, &o.column, &o.event, &o.events, &o.trials) {
        (OutcomeKind::TimeToEvent, None, None, None, None) if o.panel.is_some() => {
            let p = o.panel.clone().expect("checked above");
            OutcomeSource::Panel {
                file: p.file,
                id: p.id,
                month: p.month,
                status: p.status,
                end: p.end,
            }
        }
        (OutcomeKind::TimeToEvent, Some(t), Some(e), None, None) => OutcomeSource::TimeEvent {
            time: t.clone(),
            event: e.clone(),
        },
        (OutcomeKind::TimeToEvent, _, _, _, _) => {
            return Err(err(format!(
                "outcome \"{}\" is time-to-event: set `{}` (the time) and `{}` (1 = event, 0 = censored), and neither events nor trials",
                o.id,
                key("column"),
                key("event")
            )));
        }
        (OutcomeKind::Binary, None, None, Some(ev), Some(tr)) => OutcomeSource::Counts {
            events: ev.clone(),
            trials: tr.clone(),
        },
        (_, Some(c), None, None, None) => OutcomeSource::Column(c.clone()),
        (_, _, Some(_), _, _) => {
            return Err(err(format!(
                "`{}` is only for time-to-event outcomes; outcome \"{}\" is {okind}",
                key("event"),
                o.id
            )));
        }
        (OutcomeKind::Binary, _, _, _, _) => {
            return Err(err(format!(
                "outcome \"{}\": set either `{}` (one 0/1 value per row) or both `{}` and `{}` (aggregated counts)",
                o.id,
                key("column"),
                key("events"),
                key("trials")
            )));
        }
        _ => {
            return Err(err(format!(
                "outcome \"{}\": set `{}`; `events`/`trials` are only for binary outcomes",
                o.id,
                key("column")
            )));
        }
    })
}

/// Check one outcome (after its id): kind, direction, panel, source against the data
/// layout, and its reporting times and horizon.
fn validate_outcome(at: &OutcomeAt, o: OutcomeDraft) -> Result<OutcomeSpec> {
    let (origin, layout) = (at.origin, at.data.layout);
    let key = |k: &str| at.key(k);
    let err = |msg: String| at.err(msg);
    let okind: OutcomeKind = parse_enum(origin, &key("kind"), &o.kind, OutcomeKind::ALLOWED)?;
    let better: Better = parse_enum(origin, &key("better"), &o.better, "higher, lower, neither")?;
    validate_panel(at, &o, okind)?;
    let source = outcome_source(at, &o, okind)?;
    if layout == DataLayout::Aggregated && !matches!(source, OutcomeSource::Counts { .. }) {
        return Err(err(format!(
            "`data.layout` is aggregated, so outcome \"{}\" must be binary with `events` and `trials` columns",
            o.id
        )));
    }
    if layout == DataLayout::Person && matches!(source, OutcomeSource::Counts { .. }) {
        return Err(err(format!(
            "outcome \"{}\" has events/trials but `data.layout` is person; set `data.layout = \"aggregated\"`",
            o.id
        )));
    }
    if okind != OutcomeKind::TimeToEvent && (!o.at.is_empty() || o.horizon.is_some()) {
        return Err(err(format!(
            "`{}`/`{}` are only for time-to-event outcomes; outcome \"{}\" is {okind}",
            key("at"),
            key("horizon"),
            o.id
        )));
    }
    if o.at
        .iter()
        .chain(o.horizon.iter())
        .any(|t| !(t.is_finite() && *t > 0.0))
    {
        return Err(err(format!(
            "`{}` and `{}` take positive times (in the outcome's unit)",
            key("at"),
            key("horizon")
        )));
    }
    let from_time = from_time(at, o.from_time, &o.id, okind)?;
    if let Some(p) = o.plausible_effect
        && !(p.is_finite() && p != 0.0 && okind != OutcomeKind::TimeToEvent)
    {
        return Err(err(format!(
            "`{}` of outcome \"{}\" is {p}; give the effect found elsewhere as a non-zero number in the outcome's units (a proportion for binary outcomes: 0.02 = 2 percentage points); time-to-event outcomes take none",
            key("plausible_effect"),
            o.id
        )));
    }
    Ok(OutcomeSpec {
        id: o.id,
        kind: okind,
        label: o.label,
        unit: o.unit,
        primary: o.primary,
        better,
        source,
        at: o.at,
        horizon: o.horizon,
        from_time,
        plausible_effect: o.plausible_effect,
    })
}

/// Check an outcome's `from_time`: a positive horizon, and a scale only for continuous
/// and count outcomes. That the named outcome is a time-to-event outcome of the spec
/// is checked with all outcomes ([`validate_outcomes`]).
fn from_time(
    at: &OutcomeAt,
    ft: Option<FromTimeDraft>,
    id: &str,
    kind: OutcomeKind,
) -> Result<Option<FromTime>> {
    let Some(ft) = ft else { return Ok(None) };
    let key = |k: &str| at.key(&format!("from_time.{k}"));
    if !matches!(
        kind,
        OutcomeKind::Binary | OutcomeKind::Continuous | OutcomeKind::Count
    ) {
        return Err(at.err(format!(
            "`{}`: outcome \"{id}\" is {kind}; only binary, continuous and count outcomes can be read off a time",
            at.key("from_time")
        )));
    }
    if !(ft.by.is_finite() && ft.by > 0.0) {
        return Err(at.err(format!(
            "`{}` is {}; give the horizon as a positive time in the time-to-event outcome's unit",
            key("by"),
            ft.by
        )));
    }
    let per_time_unit = match (kind, ft.per_time_unit) {
        (OutcomeKind::Binary, Some(_)) => {
            return Err(at.err(format!(
                "`{}` is only for continuous and count outcomes; outcome \"{id}\" is binary (1 when the event happened by `by`)",
                key("per_time_unit")
            )));
        }
        (_, Some(m)) if !(m.is_finite() && m > 0.0) => {
            return Err(at.err(format!(
                "`{}` is {m}; give a positive number (e.g. 30.41667 days per month)",
                key("per_time_unit")
            )));
        }
        (_, m) => m.unwrap_or(1.0),
    };
    Ok(Some(FromTime {
        outcome: ft.outcome,
        by: ft.by,
        per_time_unit,
    }))
}

/// Every `from_time` names a time-to-event outcome of the spec.
fn check_from_time(outcomes: &[OutcomeSpec], origin: Origin) -> Result<()> {
    for o in outcomes {
        let Some(ft) = &o.from_time else { continue };
        if !outcomes
            .iter()
            .any(|t| t.id == ft.outcome && t.kind == OutcomeKind::TimeToEvent)
        {
            let tte: Vec<&str> = outcomes
                .iter()
                .filter(|t| t.kind == OutcomeKind::TimeToEvent)
                .map(|t| t.id.as_str())
                .collect();
            return Err(origin.error(format!(
                "outcome \"{}\": `from_time.outcome` is \"{}\", which is not a time-to-event outcome of this config (time-to-event outcomes: {})",
                o.id,
                ft.outcome,
                if tte.is_empty() { "none".to_string() } else { tte.join(", ") }
            )));
        }
    }
    Ok(())
}

/// Check every outcome; primary outcomes first, config order otherwise.
fn validate_outcomes(
    raw: Vec<OutcomeDraft>,
    data: &DataSpec,
    origin: Origin,
) -> Result<Vec<OutcomeSpec>> {
    if raw.is_empty() {
        return Err(origin.error("no `[[outcomes]]`; declare at least one outcome".into()));
    }
    let mut ids = BTreeSet::new();
    let mut outcomes = Vec::with_capacity(raw.len());
    for (i, o) in raw.into_iter().enumerate() {
        let at = OutcomeAt { i, data, origin };
        validate_outcome_id(&at, &o, &mut ids)?;
        outcomes.push(validate_outcome(&at, o)?);
    }
    check_from_time(&outcomes, origin)?;
    // Primary outcomes first, config order otherwise.
    outcomes.sort_by_key(|o| !o.primary);
    Ok(outcomes)
}

/// Check the multiple-testing adjustment (Holm by default) and the attrition margin
/// (a fraction between 0 and 1).
fn validate_margins(
    multiplicity: Option<&str>,
    attrition_margin: Option<f64>,
    origin: Origin,
) -> Result<(crate::stats::multiplicity::Adjustment, f64)> {
    let multiplicity = match multiplicity {
        None => crate::stats::multiplicity::Adjustment::Holm,
        Some(m) => parse_enum(origin, "multiplicity", m, "holm, bonferroni, bh, none")?,
    };
    let attrition_margin = attrition_margin.unwrap_or(DEFAULT_ATTRITION_MARGIN);
    if !(0.0..=1.0).contains(&attrition_margin) {
        return Err(origin.error(format!(
            "`attrition_margin` is {attrition_margin}; give a fraction between 0 and 1 (e.g. 0.05 for 5 percentage points)"
        )));
    }
    Ok((multiplicity, attrition_margin))
}

/// Check the `[[projects]]`: distinct values, and `design.project` naming their column.
fn validate_projects(
    raw: Vec<ProjectDraft>,
    design: &Design,
    origin: Origin,
) -> Result<Vec<Project>> {
    let err = |msg: String| origin.error(msg);
    let mut project_values = BTreeSet::new();
    for p in &raw {
        if !project_values.insert(p.value.clone()) {
            return Err(err(format!("`projects` lists \"{}\" twice", p.value)));
        }
    }
    if !raw.is_empty() && design.project.is_none() {
        return Err(err(
            "`projects` is set but `design.project` is not; name the column that holds the project"
                .into(),
        ));
    }
    Ok(raw
        .into_iter()
        .map(|p| Project {
            value: p.value,
            label: p.label,
        })
        .collect())
}

/// Check a draft and turn it into a spec: the one set of rules for every pilot spec,
/// whether it comes from a config file or from `compare`'s options.
pub fn validate(raw: PilotDraft, origin: Origin) -> Result<PilotSpec> {
    validate_slug(&raw.slug, origin)?;
    let design = validate_design(raw.design, origin)?;
    let data = validate_data(raw.data, origin)?;
    let arms = validate_arms(raw.arms, origin)?;
    let outcomes = validate_outcomes(raw.outcomes, &data, origin)?;
    let (multiplicity, attrition_margin) =
        validate_margins(raw.multiplicity.as_deref(), raw.attrition_margin, origin)?;
    let projects = validate_projects(raw.projects, &design, origin)?;
    let subgroups = validate_subgroups(raw.subgroups, &arms, &outcomes, origin)?;
    let costs = raw
        .costs
        .map(|c| validate_costs(c, &arms, &outcomes, data.layout, origin))
        .transpose()?;
    let spec = PilotSpec {
        slug: raw.slug,
        title: raw.title,
        description: raw.description,
        unit: raw.unit,
        design,
        data,
        arms,
        covariates: raw.covariates,
        projects,
        subgroups,
        costs,
        outcomes,
        sources: raw.sources,
        multiplicity,
        attrition_margin,
        path: origin.path(),
    };
    check_roles(
        &spec.arms.column,
        spec.outcomes
            .iter()
            .flat_map(|o| o.columns().into_iter().map(move |c| (o.id.as_str(), c))),
        &spec.covariates,
    )
    .map_err(|msg| origin.error(msg))?;
    Ok(spec)
}

/// Check `[costs]`: a known binary or continuous outcome, one finite cost for every arm
/// and no other, a source, a positive largest value.
fn validate_costs(
    raw: CostsDraft,
    arms: &Arms,
    outcomes: &[OutcomeSpec],
    layout: DataLayout,
    origin: Origin,
) -> Result<Costs> {
    let Some(o) = outcomes.iter().find(|o| o.id == raw.outcome) else {
        return Err(origin.error(format!(
            "`costs.outcome` \"{}\" is not an outcome of this config; name one of: {}",
            raw.outcome,
            outcomes
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if o.kind == OutcomeKind::TimeToEvent {
        return Err(origin.error(format!(
            "`costs.outcome` \"{}\" is a time to an event; name a yes/no outcome (an extra person in work) or a continuous one",
            o.id
        )));
    }
    let basis = match (raw.per_person, raw.column) {
        (Some(_), Some(_)) => {
            return Err(origin.error(
                "`[costs]` gives both `per_person` and `column`; give one: `per_person` for a fixed cost per person of each arm, or `column` for a column with each person's cost".to_string(),
            ));
        }
        (None, None) => {
            return Err(origin.error(
                "`[costs]` gives neither `per_person` nor `column`; give `per_person = [{ arm = ..., cost = ... }, ...]` (a fixed cost per person of each arm) or `column = \"...\"` (a column with each person's cost)".to_string(),
            ));
        }
        (Some(pp), None) => CostBasis::PerPerson(per_person_costs(&pp, arms, origin)?),
        (None, Some(col)) => {
            if col.trim().is_empty() {
                return Err(origin.error(
                    "`costs.column` is empty; name the column with each person's cost in euros"
                        .to_string(),
                ));
            }
            if col == arms.column || o.columns().contains(&col.as_str()) {
                return Err(origin.error(format!(
                    "`costs.column` \"{col}\" is the arm column or the outcome's column; name the column with each person's cost in euros"
                )));
            }
            if layout != DataLayout::Person {
                return Err(origin.error(format!(
                    "`costs.column` \"{col}\" needs one row per person (`data.layout = \"person\"`); with aggregated rows give `per_person` costs per arm"
                )));
            }
            CostBasis::Column(col)
        }
    };
    if raw.source.nl.trim().is_empty() || raw.source.en.trim().is_empty() {
        return Err(origin.error(
            "`costs.source` is empty; say where the costs come from, in Dutch and English"
                .to_string(),
        ));
    }
    let max_value = raw.max_value.unwrap_or(100_000.0);
    if !(max_value.is_finite() && max_value > 0.0) {
        return Err(
            origin.error("`costs.max_value` must be a positive number of euros".to_string())
        );
    }
    let bootstrap_replicates = raw.bootstrap_replicates.unwrap_or(COST_BOOTSTRAP_REPS);
    if !(100..=1_000_000).contains(&bootstrap_replicates) {
        return Err(origin.error(format!(
            "`costs.bootstrap_replicates` is {bootstrap_replicates}; give 100 to 1,000,000 (2000 is the default)"
        )));
    }
    Ok(Costs {
        outcome: raw.outcome,
        basis,
        source: raw.source,
        max_value,
        bootstrap_replicates,
    })
}

/// The fixed costs of `costs.per_person`: one finite cost of 0 or more for every arm
/// and no other.
fn per_person_costs(
    raw: &[ArmCostDraft],
    arms: &Arms,
    origin: Origin,
) -> Result<Vec<(String, f64)>> {
    let mut per_person = Vec::new();
    for a in &arms.values {
        let found: Vec<&ArmCostDraft> = raw.iter().filter(|c| c.arm == a.value).collect();
        match found.as_slice() {
            [c] if c.cost.is_finite() && c.cost >= 0.0 => {
                per_person.push((a.value.clone(), c.cost))
            }
            [c] => {
                return Err(origin.error(format!(
                    "`costs.per_person`: the cost of arm \"{}\" is {}; give a cost of 0 or more in euros",
                    a.value, c.cost
                )));
            }
            [] => {
                return Err(origin.error(format!(
                    "`costs.per_person` has no cost for arm \"{}\"; give every arm a cost per person (0 for no extra cost)",
                    a.value
                )));
            }
            _ => {
                return Err(origin.error(format!(
                    "`costs.per_person` names arm \"{}\" twice",
                    a.value
                )));
            }
        }
    }
    if let Some(c) = raw
        .iter()
        .find(|c| !arms.values.iter().any(|a| a.value == c.arm))
    {
        return Err(origin.error(format!(
            "`costs.per_person` names arm \"{}\", which is not an arm of this config",
            c.arm
        )));
    }
    Ok(per_person)
}

/// Check the `[[subgroups]]`: a column named once, neither the arm column nor an
/// outcome's, and level values named once.
fn validate_subgroups(
    raw: Vec<SubgroupDraft>,
    arms: &Arms,
    outcomes: &[OutcomeSpec],
    origin: Origin,
) -> Result<Vec<Subgroup>> {
    let mut out: Vec<Subgroup> = Vec::new();
    for (i, g) in raw.into_iter().enumerate() {
        let at = format!("subgroups[{i}]");
        if g.column.trim().is_empty() {
            return Err(origin.error(format!(
                "`{at}.column` is empty; name the subgroup's column"
            )));
        }
        if g.column == arms.column {
            return Err(origin.error(format!(
                "`{at}.column` \"{}\" is the arm column: a subgroup must be a characteristic measured before the start, such as sex or age band",
                g.column
            )));
        }
        if let Some(o) = outcomes
            .iter()
            .find(|o| o.columns().contains(&g.column.as_str()))
        {
            return Err(origin.error(format!(
                "`{at}.column` \"{}\" is a column of outcome \"{}\": a subgroup must be measured before the start",
                g.column, o.id
            )));
        }
        if out.iter().any(|s| s.column == g.column) {
            return Err(origin.error(format!(
                "subgroup column \"{}\" is listed twice in `subgroups`",
                g.column
            )));
        }
        let mut levels: Vec<Project> = Vec::new();
        for l in g.levels {
            if levels.iter().any(|p| p.value == l.value) {
                return Err(
                    origin.error(format!("`{at}.levels` names value \"{}\" twice", l.value))
                );
            }
            levels.push(Project {
                value: l.value,
                label: l.label,
            });
        }
        out.push(Subgroup {
            column: g.column,
            label: g.label,
            levels,
        });
    }
    Ok(out)
}

/// Columns that cannot play two parts in one analysis: an outcome that is the arm
/// column (it would be compared by itself), an outcome that is also a covariate (it
/// would explain itself: every adjusted difference is then zero), and a covariate that
/// is the arm column (collinear with the arm indicator). `outcomes` are (outcome id,
/// column) pairs. The message names the columns and what to change.
pub fn check_roles<'a>(
    arm: &str,
    outcomes: impl IntoIterator<Item = (&'a str, &'a str)>,
    covariates: &[String],
) -> std::result::Result<(), String> {
    for (id, c) in outcomes {
        let of = if id == c {
            format!("outcome \"{c}\"")
        } else {
            format!("column \"{c}\" of outcome \"{id}\"")
        };
        if c == arm {
            return Err(format!(
                "{of} is the arm column: an outcome cannot be compared between the arms it defines. Name the outcome's own column"
            ));
        }
        if covariates.iter().any(|v| v == c) {
            return Err(format!(
                "{of} is also listed as a covariate: an outcome cannot be adjusted for itself. Remove \"{c}\" from the covariates"
            ));
        }
    }
    if covariates.iter().any(|v| v == arm) {
        return Err(format!(
            "covariate \"{arm}\" is the arm column: it is collinear with the arm indicator, so the effect of the arm could not be estimated. Remove \"{arm}\" from the covariates"
        ));
    }
    Ok(())
}

/// The pilot configs found in a directory, sorted by slug.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, "cannot list the pilots directory").with_cause(e))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".sim.toml"))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Load the config for `slug` from `dir`, or explain which slugs exist.
pub fn load_slug(dir: &Path, slug: &str) -> Result<PilotSpec> {
    check_slug(slug)?;
    let path = dir.join(format!("{slug}.toml"));
    if !path.exists() {
        let known: Vec<String> = discover(dir)?
            .iter()
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
            .collect();
        let hint = crate::error::did_you_mean(slug, known.iter().map(String::as_str));
        return Err(Error::usage(format!(
            "unknown pilot \"{slug}\".{hint} Known pilots: {}",
            known.join(", ")
        )));
    }
    PilotSpec::from_file(&path)
}

/// A slug is a name, not a path: lower-case letters, digits, `-` and `_`, starting
/// with a letter or digit. So `pilot ../x --pilots DIR` cannot read a config outside
/// DIR, and a slug cannot name a hidden file.
pub fn check_slug(slug: &str) -> Result<()> {
    let ok = slug
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug.len() <= 100
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::usage(
            "a pilot is named by its slug (lower-case letters, digits, - and _, as \
             `via-eval pilots` lists them), not by a path; to use a config in another \
             folder, pass that folder with --pilots",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_a_name_not_a_path() {
        for bad in [
            "../x",
            "a/b",
            "..",
            ".hidden",
            "",
            "A",
            "x.toml",
            "/etc/passwd",
            "a\\b",
        ] {
            assert!(check_slug(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["leren-en-werken", "uwv_ww", "pilot2"] {
            assert!(check_slug(good).is_ok(), "{good:?} refused");
        }
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("pilots");
        std::fs::create_dir(&inner).unwrap();
        std::fs::write(dir.path().join("outside.toml"), "slug = \"outside\"").unwrap();
        let err = load_slug(&inner, "../outside").unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
    }

    const GOOD: &str = r#"
slug = "demo"
title = { nl = "Demo", en = "Demo" }
description = { nl = "d", en = "d" }
unit = { nl = "persoon", en = "person" }
[design]
kind = "individually-randomised"
[data]
file = "demo.csv"
[arms]
column = "arm"
control = "c"
values = [ { value = "c", label = { nl = "C", en = "C" } }, { value = "t", label = { nl = "T", en = "T" } } ]
[[outcomes]]
id = "y"
column = "y"
kind = "continuous"
label = { nl = "Y", en = "Y" }
unit = { nl = "euro", en = "euros" }
better = "higher"
"#;

    fn parse(text: &str) -> Result<PilotSpec> {
        PilotSpec::from_toml(text, Path::new("pilots/demo.toml"))
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_good_config_validates() {
        let s = parse(GOOD).unwrap();
        assert_eq!(
            s.arms
                .treated()
                .map(|a| a.value.as_str())
                .collect::<Vec<_>>(),
            ["t"]
        );
        assert_eq!(s.needed_columns(), ["arm", "y"]);
    }

    #[test]
    fn unknown_key_names_the_file_and_the_allowed_keys() {
        let m = message(&GOOD.replace("better = \"higher\"", "better = \"higher\"\nprimry = true"));
        assert!(m.contains("pilots/demo.toml"), "{m}");
        assert!(m.contains("primry") && m.contains("primary"), "{m}");
    }

    #[test]
    fn bad_enum_values_list_the_allowed_values() {
        let m = message(&GOOD.replace("individually-randomised", "randomized"));
        assert!(
            m.contains("design.kind") && m.contains("cluster-randomised"),
            "{m}"
        );
        let m = message(&GOOD.replace("kind = \"continuous\"", "kind = \"numeric\""));
        assert!(
            m.contains("outcomes[0].kind") && m.contains("time-to-event"),
            "{m}"
        );
        let m = message(&GOOD.replace("better = \"higher\"", "better = \"up\""));
        assert!(
            m.contains("outcomes[0].better") && m.contains("higher, lower, neither"),
            "{m}"
        );
    }

    #[test]
    fn control_must_be_an_arm() {
        let m = message(&GOOD.replace("control = \"c\"", "control = \"x\""));
        assert!(m.contains("arms.control") && m.contains("c, t"), "{m}");
    }

    #[test]
    fn cluster_design_needs_a_cluster_column() {
        let m = message(&GOOD.replace("individually-randomised", "cluster-randomised"));
        assert!(m.contains("design.cluster"), "{m}");
    }

    #[test]
    fn slug_must_match_the_file_name() {
        let m = message(&GOOD.replace("slug = \"demo\"", "slug = \"other\""));
        assert!(m.contains("demo.toml"), "{m}");
    }

    #[test]
    fn time_to_event_needs_an_event_column() {
        let m = message(&GOOD.replace("kind = \"continuous\"", "kind = \"time-to-event\""));
        assert!(m.contains("outcomes[0].event"), "{m}");
    }

    #[test]
    fn primary_outcomes_come_first() {
        let two = format!(
            "{GOOD}\n[[outcomes]]\nid = \"z\"\ncolumn = \"z\"\nkind = \"binary\"\nlabel = {{ nl = \"Z\", en = \"Z\" }}\nunit = {{ nl = \"pp\", en = \"pp\" }}\nbetter = \"lower\"\nprimary = true\n"
        );
        let s = parse(&two).unwrap();
        assert_eq!(s.outcomes[0].id, "z");
    }
}
