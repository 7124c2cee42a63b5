//! Simulation parameters: `pilots/<slug>.sim.toml`.
//!
//! One schema serves all eight pilots, so the generator has a single code path: sizes
//! (per arm, per project, or per cluster), covariate distributions, and per outcome a
//! base level, covariate coefficients, cluster spread, true effects and missing rates.
//! The TOML is read with `deny_unknown_fields`, except each outcome's table: which keys
//! it takes follows from the outcome's kind in the config, whether it is derived
//! (`from_time`) and the data layout, so [`SimParams::models`] types it against the
//! pilot's [`PilotSpec`] into an [`OutcomeModel`] (the keys every drawn outcome shares
//! split off into [`Shared`], the rest into one strict struct per model). The same
//! step validates everything against the config, so the generator can rely on every
//! arm, project, covariate and outcome it looks up being there. The schema is
//! documented key by key in `pilots/README.md`.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::{DataLayout, OutcomeKind, OutcomeSource, OutcomeSpec, PilotSpec};
use crate::error::{Error, Result, did_you_mean};

/// All simulation parameters of one pilot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimParams {
    /// Must equal the pilot config's slug, so a params file cannot be paired with the
    /// wrong config by accident.
    pub slug: String,
    /// Prefix of the pseudonymous unit ids, e.g. "P" gives P000001.
    #[serde(default = "default_id_prefix")]
    pub id_prefix: String,
    pub sizes: Sizes,
    /// Periods of an aggregated panel (one row per cluster and period).
    #[serde(default)]
    pub panel: Option<Panel>,
    /// Person layout: each unit's period (an application month), drawn uniformly from
    /// its arm's range, for an interrupted time series.
    #[serde(default)]
    pub time: Option<TimeSim>,
    /// How the `trials` columns of an aggregated layout are drawn, by column name.
    #[serde(default)]
    pub trials: BTreeMap<String, TrialsSim>,
    /// Covariates in output order.
    #[serde(default)]
    pub covariates: Vec<CovariateSim>,
    /// Whether a unit started its arm's programme: the config's `data.started` column.
    #[serde(default)]
    pub started: Option<StartedSim>,
    /// Outcome tables as written, keyed by the outcome `id` of the config. Which keys
    /// apply depends on the outcome's kind in the config, so they are typed against it
    /// by [`SimParams::models`].
    pub outcomes: BTreeMap<String, toml::Table>,
    /// The file these parameters were read from (for messages).
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[started]`: a 0/1 column saying whether a unit started the programme (or the usual
/// services) of its arm, drawn independently of the outcomes, so the outcomes' effects
/// stay the effects of offering the approach (intention to treat).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartedSim {
    pub description: String,
    /// Probability of starting per arm; an arm not listed starts with probability 1.
    #[serde(default)]
    pub p: BTreeMap<String, f64>,
    /// Share of units whose start is not recorded (left empty).
    #[serde(default)]
    pub missing: f64,
}

fn default_id_prefix() -> String {
    "P".to_string()
}

/// How many units there are. Exactly one of `n`, `projects` or `clusters` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sizes {
    /// Units per arm (no projects, no clusters).
    #[serde(default)]
    pub n: Option<BTreeMap<String, u64>>,
    /// Units per project and arm.
    #[serde(default)]
    pub projects: Option<BTreeMap<String, BTreeMap<String, u64>>>,
    #[serde(default)]
    pub clusters: Option<ClusterSizes>,
}

/// Whether a cluster belongs to one arm or holds units of every arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    /// Each cluster is in one arm (cluster randomisation, comparison schools, panels).
    ByCluster,
    /// Each cluster has units in every arm (before/after within organisations,
    /// participants and comparison students within schools).
    WithinCluster,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSizes {
    pub assignment: Assignment,
    /// by-cluster: number of clusters per arm.
    #[serde(default)]
    pub per_arm: Option<BTreeMap<String, u64>>,
    /// within-cluster: number of clusters.
    #[serde(default)]
    pub count: Option<u64>,
    /// Person layout: units per cluster (by-cluster) or per cluster and arm
    /// (within-cluster), drawn uniformly from `[low, high]`, keyed by arm.
    #[serde(default)]
    pub units: Option<BTreeMap<String, [u64; 2]>>,
    /// Prefix of the cluster ids, e.g. "school-" gives school-01.
    pub prefix: String,
    /// What a cluster is, for the data dictionary.
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Name of the period column (integer values).
    pub column: String,
    pub periods: Vec<i64>,
    pub description: String,
    /// Staggered adoption: the clusters of one arm join in different periods; the
    /// effect starts in the joining period (none before) and may grow with the time
    /// since joining (`effect_growth`). Absent: the effect holds in every period.
    #[serde(default)]
    pub staggered: Option<Staggered>,
}

/// `[time]`: each unit's period (whole numbers), drawn uniformly from `range` of its
/// arm (e.g. months 1-12 before and 13-24 during an intervention), with its own
/// random stream, so the other columns do not change with it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSim {
    pub column: String,
    pub range: BTreeMap<String, [i64; 2]>,
    pub description: String,
}

impl TimeSim {
    /// The middle of all ranges (trends are centred on it).
    pub fn mid(&self) -> f64 {
        let lo = self.range.values().map(|r| r[0]).min().unwrap_or(0);
        let hi = self.range.values().map(|r| r[1]).max().unwrap_or(0);
        (lo + hi) as f64 / 2.0
    }
}

/// `[panel.staggered]`: the clusters of `arm` are spread over the start periods
/// `starts` in turn (the k-th cluster of the arm starts in `starts[k % len]`, so the
/// cohorts have equal sizes), and `column` records each row's cluster's first treated
/// period (0 for the other arms, which never join).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staggered {
    pub column: String,
    pub arm: String,
    pub starts: Vec<i64>,
    pub description: String,
}

/// A trials column: either drawn per cluster from a log-normal (`median`, `sdlog`,
/// `min`, `growth`, `period_sd`) or as a binomial share of another trials column
/// (`of`, `share`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialsSim {
    pub description: String,
    #[serde(default)]
    pub median: Option<f64>,
    #[serde(default)]
    pub sdlog: Option<f64>,
    #[serde(default)]
    pub min: Option<u64>,
    /// Growth per period on the log scale.
    #[serde(default)]
    pub growth: Option<f64>,
    /// Period-to-period noise on the log scale.
    #[serde(default)]
    pub period_sd: Option<f64>,
    #[serde(default)]
    pub of: Option<String>,
    #[serde(default)]
    pub share: Option<f64>,
    /// Counts out of this column are left empty where it is below this number, as a
    /// statistics office publishes no subgroup under a minimum size (CBS: 250).
    #[serde(default)]
    pub report_min: Option<u64>,
}

/// Covariate distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dist {
    Normal,
    Uniform,
    Bernoulli,
    Categorical,
}

/// Whether a covariate varies between units or only between clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Unit,
    Cluster,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CovariateSim {
    pub name: String,
    /// Meaning and unit, for the data dictionary.
    pub description: String,
    pub dist: Dist,
    #[serde(default)]
    pub level: Level,
    #[serde(default)]
    pub mean: Option<f64>,
    #[serde(default)]
    pub sd: Option<f64>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Decimal places kept; 0 writes an integer column.
    #[serde(default)]
    pub digits: Option<u32>,
    #[serde(default)]
    pub p: Option<f64>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub probs: Option<Vec<f64>>,
    #[serde(default)]
    pub probs_by_arm: BTreeMap<String, Vec<f64>>,
    #[serde(default)]
    pub probs_by_project: BTreeMap<String, Vec<f64>>,
    /// 0/1 dummy columns: dummy name → the category it flags.
    #[serde(default)]
    pub dummies: BTreeMap<String, String>,
    /// Added to the mean (normal, uniform) or to `p` (bernoulli) in an arm: selection
    /// on observables in non-randomised designs.
    #[serde(default)]
    pub shift: BTreeMap<String, f64>,
    #[serde(default)]
    pub shift_by_project: BTreeMap<String, f64>,
    /// Value the outcome models centre this covariate at; default its mean.
    #[serde(default)]
    pub center: Option<f64>,
    /// An unmeasured confounder: generated and used by the outcome models like any
    /// covariate, but not written to the data. Bernoulli only, so that its strength
    /// is a pair of risk ratios (with participation and with each outcome), recorded
    /// in truth.json (`unmeasured`) and the data dictionary for reading E-values
    /// against.
    #[serde(default)]
    pub hidden: bool,
}

/// The model of one outcome, typed by the outcome's kind in the config, by whether it
/// is derived (`from_time`) and by the data layout. Made by [`SimParams::models`].
// A handful of models per pilot, made once: their size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum OutcomeModel {
    /// Drawn from its own model, with the keys every drawn outcome takes.
    Drawn { shared: Shared, model: DrawnModel },
    /// Read off the latent time of a time-to-event outcome.
    FromTime(FromTime),
}

/// The keys every drawn (not derived) outcome takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shared {
    /// Coefficients on centred covariates, on the model's scale.
    #[serde(default)]
    pub coef: BTreeMap<String, f64>,
    /// SD of the cluster effect on the model's scale.
    #[serde(default)]
    pub cluster_sd: Option<f64>,
    #[serde(default)]
    pub project_shift: BTreeMap<String, f64>,
    /// Change per period (panel) on the model's scale.
    #[serde(default)]
    pub trend: Option<f64>,
    /// Change per period (panel) added to the probability of a binary outcome (also
    /// of counts), after the logit model: trends that are parallel on the difference
    /// scale, as difference-in-differences assumes (a trend on the logit scale is not
    /// parallel between groups at different levels).
    #[serde(default)]
    pub trend_risk: Option<f64>,
    /// Staggered panels (`[panel.staggered]`): the effect grows by this much per
    /// period since joining (effect at event time e ≥ 0 = `effect` + e × growth).
    #[serde(default)]
    pub effect_growth: Option<f64>,
    /// True effect per treated arm (pilots without projects).
    #[serde(default)]
    pub effect: BTreeMap<String, f64>,
    /// True effect per project and treated arm (pilots with projects).
    #[serde(default)]
    pub effect_by_project: BTreeMap<String, BTreeMap<String, f64>>,
    /// Share of rows with missing follow-up, per arm.
    #[serde(default)]
    pub missing: BTreeMap<String, f64>,
}

impl Shared {
    /// The true effect parameter for a unit in `arm` (a treated arm) and `project`.
    pub(crate) fn effect_for(&self, arm: &str, project: Option<&str>) -> Option<f64> {
        match project {
            Some(p) if !self.effect_by_project.is_empty() => self
                .effect_by_project
                .get(p)
                .and_then(|m| m.get(arm))
                .copied(),
            _ => self.effect.get(arm).copied(),
        }
    }
}

/// The model of a drawn outcome.
#[derive(Debug, Clone)]
pub enum DrawnModel {
    Binary(BinarySim),
    Continuous(ContinuousSim),
    Count(CountSim),
    Ordinal(OrdinalSim),
    TimeToEvent(TimeToEventSim),
    /// A binary outcome of the aggregated layout: events out of trials.
    Counts(CountsSim),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinarySim {
    /// Probability at centred covariates.
    pub base: f64,
    /// Another binary outcome this one implies (hired implies invited).
    #[serde(default)]
    pub nested_in: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContinuousSim {
    /// Mean at centred covariates.
    pub base: f64,
    /// Residual SD.
    pub sd: f64,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub digits: Option<u32>,
    /// A binary outcome; this one is 0 wherever that is 0.
    #[serde(default)]
    pub zero_unless: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountSim {
    /// Mean at centred covariates.
    pub base: f64,
    #[serde(default)]
    pub dispersion: Option<f64>,
    /// Number of binomial trials (a count out of `max`).
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub zero_unless: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdinalSim {
    /// Probabilities of levels 1..K at centred covariates.
    pub probs: Vec<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeToEventSim {
    /// Median time at centred covariates.
    pub base: f64,
    /// Weibull shape.
    pub shape: f64,
    pub follow_up: f64,
    /// Rate of dropout (censoring) per time unit.
    #[serde(default)]
    pub dropout: Option<f64>,
    /// Decimal places of the times, rounded up (default 2).
    #[serde(default)]
    pub digits: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountsSim {
    /// Probability at centred covariates.
    pub base: f64,
    /// Count columns that split the trials not counted as events.
    #[serde(default)]
    pub remainder: Vec<RemainderSim>,
}

/// A count column that splits the trials not counted as events (aggregated layout).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemainderSim {
    pub column: String,
    pub description: String,
    /// Expected share of all trials; the last entry has none and takes the rest.
    #[serde(default)]
    pub share: Option<f64>,
}

/// An outcome derived from a time-to-event outcome, by the outcome's kind.
#[derive(Debug, Clone)]
pub enum FromTime {
    /// Binary: 1 if the event happened by `by`.
    Event(EventBy),
    /// Continuous: min(time, `by`) x `per_time_unit`, rounded to `digits`.
    Time(TimeBy),
    /// Count: min(time, `by`) x `per_time_unit`, rounded to a whole number.
    Count(CountBy),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBy {
    pub from_time: String,
    pub by: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeBy {
    pub from_time: String,
    pub by: f64,
    #[serde(default)]
    pub per_time_unit: Option<f64>,
    #[serde(default)]
    pub digits: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountBy {
    pub from_time: String,
    pub by: f64,
    #[serde(default)]
    pub per_time_unit: Option<f64>,
}

impl FromTime {
    /// The time-to-event outcome this one is read from.
    pub fn source(&self) -> &str {
        match self {
            Self::Event(e) => &e.from_time,
            Self::Time(t) => &t.from_time,
            Self::Count(c) => &c.from_time,
        }
    }

    /// The time at which the value is read.
    pub fn by(&self) -> f64 {
        match self {
            Self::Event(e) => e.by,
            Self::Time(t) => t.by,
            Self::Count(c) => c.by,
        }
    }

    /// Value per unit of time (default 1); none for an event.
    pub fn per_time_unit(&self) -> Option<f64> {
        match self {
            Self::Event(_) => None,
            Self::Time(t) => t.per_time_unit,
            Self::Count(c) => c.per_time_unit,
        }
    }
}

impl OutcomeModel {
    /// The outcome this one needs to be generated first (`nested_in`, `zero_unless` or
    /// `from_time`).
    pub fn depends_on(&self) -> Option<&str> {
        match self {
            Self::FromTime(f) => Some(f.source()),
            Self::Drawn { model, .. } => match model {
                DrawnModel::Binary(b) => b.nested_in.as_deref(),
                DrawnModel::Continuous(c) => c.zero_unless.as_deref(),
                DrawnModel::Count(c) => c.zero_unless.as_deref(),
                DrawnModel::Ordinal(_) | DrawnModel::TimeToEvent(_) | DrawnModel::Counts(_) => None,
            },
        }
    }

    /// The keys of a drawn outcome; none for a derived one.
    pub fn shared(&self) -> Option<&Shared> {
        match self {
            Self::Drawn { shared, .. } => Some(shared),
            Self::FromTime(_) => None,
        }
    }

    /// The configured effect for `arm` (and `project`); none for a derived outcome,
    /// whose effect follows from its source's hazard ratio.
    pub(crate) fn effect_for(&self, arm: &str, project: Option<&str>) -> Option<f64> {
        self.shared().and_then(|s| s.effect_for(arm, project))
    }
}

/// The field names of a struct that derives `Deserialize`, read from what it asks the
/// deserializer for, so the lists of allowed keys cannot drift from the structs.
fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(
            self,
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("field names read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

impl CovariateSim {
    fn set_keys(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |k: &'static str, set: bool| {
            if set {
                v.push(k);
            }
        };
        add("mean", self.mean.is_some());
        add("sd", self.sd.is_some());
        add("min", self.min.is_some());
        add("max", self.max.is_some());
        add("digits", self.digits.is_some());
        add("p", self.p.is_some());
        add("values", self.values.is_some());
        add("probs", self.probs.is_some());
        add("probs_by_arm", !self.probs_by_arm.is_empty());
        add("probs_by_project", !self.probs_by_project.is_empty());
        add("dummies", !self.dummies.is_empty());
        add("shift", !self.shift.is_empty());
        add("shift_by_project", !self.shift_by_project.is_empty());
        add("center", self.center.is_some());
        add("hidden", self.hidden);
        v
    }

    /// Whether the covariate's own column is numeric (categoricals are text; their
    /// dummies are numeric).
    pub fn is_numeric(&self) -> bool {
        self.dist != Dist::Categorical
    }

    /// Whether values are written as integers.
    pub fn is_integer(&self) -> bool {
        match self.dist {
            Dist::Bernoulli => true,
            Dist::Normal | Dist::Uniform => self.digits == Some(0),
            Dist::Categorical => false,
        }
    }

    /// The centre used by the outcome models: `center`, else the distribution's mean
    /// before any shift.
    pub fn default_center(&self) -> f64 {
        if let Some(c) = self.center {
            return c;
        }
        match self.dist {
            Dist::Normal => self.mean.unwrap_or(0.0),
            Dist::Uniform => (self.min.unwrap_or(0.0) + self.max.unwrap_or(0.0)) / 2.0,
            Dist::Bernoulli => self.p.unwrap_or(0.0),
            Dist::Categorical => 0.0,
        }
    }

    /// Centre of a dummy column: the share of its category under the default `probs`.
    pub fn dummy_center(&self, category: &str) -> f64 {
        let (Some(values), Some(probs)) = (&self.values, &self.probs) else {
            return 0.0;
        };
        values
            .iter()
            .zip(probs)
            .filter(|(v, _)| v.as_str() == category)
            .map(|(_, p)| *p)
            .sum()
    }
}

impl SimParams {
    /// Read `pilots/<slug>.sim.toml`; call [`SimParams::check`] before use.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path, "cannot read the simulation parameters").with_cause(e))?;
        Self::from_toml(&text, path)
    }

    /// Parse TOML text; `path` is used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let mut p: SimParams = toml::from_str(text)
            .map_err(|e| Error::config(path, e.to_string().trim_end().to_string()))?;
        p.path = path.to_path_buf();
        Ok(p)
    }

    /// The params file that sits beside a pilot config: `<dir>/<slug>.sim.toml`.
    pub fn path_for(pilots_dir: &Path, slug: &str) -> PathBuf {
        pilots_dir.join(format!("{slug}.sim.toml"))
    }

    /// Numeric columns an outcome model may use as a covariate: numeric covariates,
    /// dummies and the panel period.
    pub fn numeric_columns(&self) -> Vec<String> {
        let mut v = Vec::new();
        for c in &self.covariates {
            if c.is_numeric() {
                v.push(c.name.clone());
            }
            v.extend(c.dummies.keys().cloned());
        }
        if let Some(p) = &self.panel {
            v.push(p.column.clone());
        }
        v
    }

    /// Validate against the pilot config. Every message names the params file and the
    /// key, and says what would be accepted.
    pub fn check(&self, spec: &PilotSpec) -> Result<()> {
        self.models(spec).map(|_| ())
    }

    /// Validate against the pilot config, as [`SimParams::check`], and return each
    /// outcome's model typed by its kind, keyed by outcome id.
    pub fn models(&self, spec: &PilotSpec) -> Result<BTreeMap<String, OutcomeModel>> {
        Checker {
            p: self,
            spec,
            file: &self.path,
        }
        .run()
    }
}

struct Checker<'a> {
    p: &'a SimParams,
    spec: &'a PilotSpec,
    file: &'a Path,
}

fn join<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker<'_> {
    fn err(&self, msg: impl Into<String>) -> Error {
        Error::config(self.file, msg)
    }

    fn arms(&self) -> Vec<&str> {
        self.spec
            .arms
            .values
            .iter()
            .map(|a| a.value.as_str())
            .collect()
    }

    fn treated(&self) -> Vec<&str> {
        self.spec.arms.treated().map(|a| a.value.as_str()).collect()
    }

    fn projects(&self) -> Vec<&str> {
        self.spec
            .projects
            .iter()
            .map(|p| p.value.as_str())
            .collect()
    }

    /// Keys of `map` must be among `allowed`.
    fn keys_within<V>(&self, key: &str, map: &BTreeMap<String, V>, allowed: &[&str]) -> Result<()> {
        for k in map.keys() {
            if !allowed.contains(&k.as_str()) {
                let hint = did_you_mean(k, allowed.iter().copied());
                return Err(self.err(format!(
                    "`{key}` has the key \"{k}\"; allowed: {}.{hint}",
                    join(allowed)
                )));
            }
        }
        Ok(())
    }

    /// Keys of `map` must be exactly `wanted`.
    fn keys_exactly<V>(&self, key: &str, map: &BTreeMap<String, V>, wanted: &[&str]) -> Result<()> {
        self.keys_within(key, map, wanted)?;
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !map.contains_key(*w))
            .collect();
        if !missing.is_empty() {
            return Err(self.err(format!("`{key}` lacks: {}", join(missing))));
        }
        Ok(())
    }

    fn only_keys(&self, what: &str, set: &[&str], allowed: &[&str]) -> Result<()> {
        if let Some(bad) = set.iter().find(|k| !allowed.contains(k)) {
            return Err(self.err(format!(
                "`{what}.{bad}` does not apply here; keys allowed here: {}",
                join(allowed)
            )));
        }
        Ok(())
    }

    fn run(&self) -> Result<BTreeMap<String, OutcomeModel>> {
        if self.p.slug != self.spec.slug {
            return Err(self.err(format!(
                "`slug` is \"{}\" but the config's slug is \"{}\"",
                self.p.slug, self.spec.slug
            )));
        }
        if self.p.id_prefix.is_empty() {
            return Err(self.err("`id_prefix` is empty; use e.g. \"P\""));
        }
        self.check_sizes()?;
        self.check_panel_and_trials()?;
        self.check_covariates()?;
        self.check_started()?;
        self.check_outcomes()
    }

    /// `[started]` needs the config's `data.started` column, and the other way round;
    /// probabilities in [0, 1] for arms of the config.
    fn check_started(&self) -> Result<()> {
        match (&self.p.started, &self.spec.data.started) {
            (None, None) => Ok(()),
            (Some(_), None) => Err(self.err(
                "`[started]` is set but the config has no `data.started` column; add `started = \"started\"` to the config's `[data]` or remove `[started]`",
            )),
            (None, Some(c)) => Err(self.err(format!(
                "the config reads a started column \"{c}\" (`data.started`) but there is no `[started]` table to make it"
            ))),
            (Some(st), Some(_)) => {
                let arms = self.arms();
                for (arm, &q) in &st.p {
                    if !arms.contains(&arm.as_str()) {
                        return Err(self.err(format!(
                            "`started.p` names the arm \"{arm}\", which is not an arm of the config"
                        )));
                    }
                    if !(0.0..=1.0).contains(&q) {
                        return Err(self.err(format!(
                            "`started.p.{arm}` is {q}; give a probability from 0 to 1"
                        )));
                    }
                }
                if !(0.0..1.0).contains(&st.missing) {
                    return Err(self.err(format!(
                        "`started.missing` is {}; give a share from 0 to below 1",
                        st.missing
                    )));
                }
                Ok(())
            }
        }
    }

    fn check_sizes(&self) -> Result<()> {
        let s = &self.p.sizes;
        let set = usize::from(s.n.is_some())
            + usize::from(s.projects.is_some())
            + usize::from(s.clusters.is_some());
        if set != 1 {
            return Err(self.err(
                "`sizes` must set exactly one of `n` (per arm), `projects` (per project and arm) or `clusters`",
            ));
        }
        let arms = self.arms();
        let aggregated = self.spec.data.layout == DataLayout::Aggregated;
        if !self.spec.projects.is_empty() && s.projects.is_none() {
            return Err(self.err(
                "the config lists projects, so give the sizes per project: `[sizes.projects]`",
            ));
        }
        if self.spec.design.cluster.is_some() && s.clusters.is_none() {
            return Err(self.err(
                "the config names a cluster column (`design.cluster`), so set `[sizes.clusters]`",
            ));
        }
        if aggregated && s.clusters.is_none() {
            return Err(self.err(
                "the config's data layout is aggregated: rows are clusters (x periods), so set `[sizes.clusters]`",
            ));
        }
        if let Some(n) = &s.n {
            self.keys_exactly("sizes.n", n, &arms)?;
            if let Some((k, _)) = n.iter().find(|(_, v)| **v == 0) {
                return Err(self.err(format!("`sizes.n.{k}` is 0; every arm needs units")));
            }
        }
        if let Some(pr) = &s.projects {
            if self.spec.projects.is_empty() {
                return Err(self.err(
                    "`sizes.projects` is set but the config lists no projects; use `sizes.n`",
                ));
            }
            self.keys_exactly("sizes.projects", pr, &self.projects())?;
            for (p, n) in pr {
                self.keys_exactly(&format!("sizes.projects.{p}"), n, &arms)?;
                if let Some((k, _)) = n.iter().find(|(_, v)| **v == 0) {
                    return Err(self.err(format!(
                        "`sizes.projects.{p}.{k}` is 0; every arm needs units"
                    )));
                }
            }
        }
        if let Some(c) = &s.clusters {
            if self.spec.design.cluster.is_none() {
                return Err(self.err(
                    "`sizes.clusters` is set but the config has no `design.cluster` column to hold the cluster ids",
                ));
            }
            if c.prefix.is_empty() {
                return Err(self.err("`sizes.clusters.prefix` is empty; use e.g. \"school-\""));
            }
            match c.assignment {
                Assignment::ByCluster => {
                    let Some(per_arm) = &c.per_arm else {
                        return Err(self.err(
                            "`sizes.clusters.assignment` is by-cluster: set `per_arm` (clusters per arm)",
                        ));
                    };
                    if c.count.is_some() {
                        return Err(self.err(
                            "`sizes.clusters.count` is for within-cluster assignment; by-cluster uses `per_arm`",
                        ));
                    }
                    self.keys_exactly("sizes.clusters.per_arm", per_arm, &arms)?;
                    if per_arm.values().any(|v| *v == 0) {
                        return Err(self.err("`sizes.clusters.per_arm`: every arm needs a cluster"));
                    }
                }
                Assignment::WithinCluster => {
                    if aggregated {
                        return Err(self.err(
                            "an aggregated layout needs by-cluster assignment (each row's cluster is in one arm)",
                        ));
                    }
                    if c.per_arm.is_some() {
                        return Err(self.err(
                            "`sizes.clusters.per_arm` is for by-cluster assignment; within-cluster uses `count`",
                        ));
                    }
                    if c.count.unwrap_or(0) == 0 {
                        return Err(self.err(
                            "`sizes.clusters.assignment` is within-cluster: set `count` (number of clusters, at least 1)",
                        ));
                    }
                }
            }
            match (&c.units, aggregated) {
                (Some(_), true) => {
                    return Err(self.err(
                        "`sizes.clusters.units` does not apply to an aggregated layout (one row per cluster and period)",
                    ));
                }
                (None, false) => {
                    return Err(self.err(
                        "set `sizes.clusters.units`: units per cluster as [low, high] per arm",
                    ));
                }
                (Some(u), false) => {
                    self.keys_exactly("sizes.clusters.units", u, &arms)?;
                    for (k, [lo, hi]) in u {
                        if *lo == 0 || lo > hi {
                            return Err(self.err(format!(
                                "`sizes.clusters.units.{k}` is [{lo}, {hi}]; use [low, high] with 1 <= low <= high"
                            )));
                        }
                    }
                }
                (None, true) => {}
            }
        }
        Ok(())
    }

    /// `[time]` (person layout), `[panel]` (aggregated layout) and the `[trials]`
    /// columns.
    fn check_panel_and_trials(&self) -> Result<()> {
        let aggregated = self.spec.data.layout == DataLayout::Aggregated;
        self.check_time(aggregated)?;
        self.check_panel(aggregated)?;
        self.check_trials(aggregated)
    }

    /// `[time]`: the person layout only, a range per arm, and the config's `design.time`
    /// column.
    fn check_time(&self, aggregated: bool) -> Result<()> {
        let Some(t) = &self.p.time else {
            return Ok(());
        };
        if aggregated {
            return Err(
                self.err("`[time]` is for the person layout; an aggregated panel has `[panel]`")
            );
        }
        self.keys_exactly("time.range", &t.range, &self.arms())?;
        if let Some((k, r)) = t.range.iter().find(|(_, r)| r[0] > r[1]) {
            return Err(self.err(format!(
                "`time.range.{k}` is [{}, {}]; give [first, last] with first <= last",
                r[0], r[1]
            )));
        }
        let configured = match &self.spec.design.time {
            Some(crate::config::TimeDesign::BeforeAfter { time, .. }) => Some(time.as_str()),
            _ => None,
        };
        if configured != Some(t.column.as_str()) {
            return Err(self.err(format!(
                "`time.column` is \"{}\" but the config's `design.time` is not; make them the same",
                t.column
            )));
        }
        Ok(())
    }

    /// `[panel]`: the aggregated layout only, periods listed once each, and the
    /// staggered starts.
    fn check_panel(&self, aggregated: bool) -> Result<()> {
        let Some(panel) = &self.p.panel else {
            return Ok(());
        };
        if !aggregated {
            return Err(
                self.err("`[panel]` is for the aggregated layout (one row per cluster and period)")
            );
        }
        if panel.periods.is_empty() {
            return Err(self.err("`panel.periods` is empty; list the periods, e.g. [2019, 2020]"));
        }
        let uniq: BTreeSet<_> = panel.periods.iter().collect();
        if uniq.len() != panel.periods.len() {
            return Err(self.err("`panel.periods` lists a period twice"));
        }
        if let Some(st) = &panel.staggered {
            self.check_staggered(st, &uniq)?;
        }
        Ok(())
    }

    /// `[panel.staggered]`: a treated arm, start periods among the panel's `periods`
    /// (`uniq`), and the config's `design.first_treated` column.
    fn check_staggered(&self, st: &Staggered, uniq: &BTreeSet<&i64>) -> Result<()> {
        if !self.treated().contains(&st.arm.as_str()) {
            return Err(self.err(format!(
                "`panel.staggered.arm` is \"{}\"; allowed (treated arms): {}",
                st.arm,
                join(self.treated())
            )));
        }
        if st.starts.is_empty() || st.starts.iter().any(|g| !uniq.contains(g)) {
            return Err(
                self.err("`panel.staggered.starts` must list start periods among `panel.periods`")
            );
        }
        let configured = match &self.spec.design.time {
            Some(crate::config::TimeDesign::Panel { first_treated, .. }) => {
                Some(first_treated.as_str())
            }
            _ => None,
        };
        if configured != Some(st.column.as_str()) {
            return Err(self.err(format!(
                "`panel.staggered.column` is \"{}\" but the config's `design.first_treated` is not; make them the same",
                st.column
            )));
        }
        Ok(())
    }

    /// `[trials]`: the aggregated layout only, a table for every trials column of the
    /// config, and each table drawn one way.
    fn check_trials(&self, aggregated: bool) -> Result<()> {
        let needed: Vec<&str> = self
            .spec
            .outcomes
            .iter()
            .filter_map(|o| match &o.source {
                OutcomeSource::Counts { trials, .. } => Some(trials.as_str()),
                _ => None,
            })
            .collect();
        if !aggregated && !self.p.trials.is_empty() {
            return Err(self.err("`[trials]` is for the aggregated layout only"));
        }
        for t in &needed {
            if !self.p.trials.contains_key(*t) {
                return Err(self.err(format!(
                    "the config's trials column \"{t}\" has no `[trials.{t}]`"
                )));
            }
        }
        for (name, t) in &self.p.trials {
            self.check_trials_column(name, t)?;
        }
        Ok(())
    }

    /// One `[trials.*]` table: drawn per cluster (`median`, `sdlog`) or a share of
    /// another trials column drawn that way (`of`, `share`), with the keys of that way
    /// only.
    fn check_trials_column(&self, name: &str, t: &TrialsSim) -> Result<()> {
        let key = format!("trials.{name}");
        match (&t.of, t.median) {
            (Some(of), None) => {
                let base = self.p.trials.get(of).ok_or_else(|| {
                    self.err(format!(
                        "`{key}.of` is \"{of}\"; name another `[trials.*]` column"
                    ))
                })?;
                if base.of.is_some() {
                    return Err(self.err(format!(
                        "`{key}.of` names \"{of}\", which is itself a share; refer to a column drawn with `median`"
                    )));
                }
                match t.share {
                    Some(s) if (0.0..=1.0).contains(&s) => {}
                    _ => {
                        return Err(self.err(format!("`{key}.share` must be set, between 0 and 1")));
                    }
                }
                if t.sdlog.is_some()
                    || t.min.is_some()
                    || t.growth.is_some()
                    || t.period_sd.is_some()
                {
                    return Err(self.err(format!(
                        "`{key}` uses `of`/`share`; `sdlog`, `min`, `growth` and `period_sd` do not apply"
                    )));
                }
            }
            (None, Some(m)) => {
                if m < 1.0 || t.sdlog.is_none_or(|s| s < 0.0) {
                    return Err(self.err(format!("`{key}` needs `median` >= 1 and `sdlog` >= 0")));
                }
                if t.share.is_some() {
                    return Err(
                        self.err(format!("`{key}.share` goes with `of`, not with `median`"))
                    );
                }
                if t.period_sd.is_some_and(|s| s < 0.0) {
                    return Err(self.err(format!("`{key}.period_sd` is negative")));
                }
            }
            _ => {
                return Err(self.err(format!(
                    "`{key}`: set either `median` and `sdlog` (drawn per cluster) or `of` and `share` (a share of another trials column)"
                )));
            }
        }
        Ok(())
    }

    fn check_covariates(&self) -> Result<()> {
        for (i, c) in self.p.covariates.iter().enumerate() {
            let key = format!("covariates[{i}] ({})", c.name);
            if c.name.trim().is_empty() {
                return Err(self.err(format!("`covariates[{i}].name` is empty")));
            }
            self.check_covariate_dist(&key, c)?;
            self.check_covariate_level(&key, c)?;
        }
        self.check_covariate_columns()
    }

    /// The keys of the covariate's distribution, and only those.
    fn check_covariate_dist(&self, key: &str, c: &CovariateSim) -> Result<()> {
        let allowed: &[&str] = match c.dist {
            Dist::Normal => &[
                "mean",
                "sd",
                "min",
                "max",
                "digits",
                "shift",
                "shift_by_project",
                "center",
            ],
            Dist::Uniform => &[
                "min",
                "max",
                "digits",
                "shift",
                "shift_by_project",
                "center",
            ],
            Dist::Bernoulli => &["p", "shift", "shift_by_project", "center", "hidden"],
            Dist::Categorical => &[
                "values",
                "probs",
                "probs_by_arm",
                "probs_by_project",
                "dummies",
            ],
        };
        self.only_keys(key, &c.set_keys(), allowed)?;
        match c.dist {
            Dist::Normal => {
                if c.mean.is_none() || c.sd.is_none_or(|s| s <= 0.0) {
                    return Err(self.err(format!("`{key}` is normal: set `mean` and `sd` > 0")));
                }
            }
            Dist::Uniform => match (c.min, c.max) {
                (Some(a), Some(b)) if a <= b => {}
                _ => {
                    return Err(self.err(format!("`{key}` is uniform: set `min` <= `max`")));
                }
            },
            Dist::Bernoulli => {
                if c.p.is_none_or(|p| !(0.0..=1.0).contains(&p)) {
                    return Err(self.err(format!("`{key}` is bernoulli: set `p` between 0 and 1")));
                }
            }
            Dist::Categorical => self.check_categorical(key, c, &self.arms(), &self.projects())?,
        }
        if let (Some(a), Some(b)) = (c.min, c.max)
            && a > b
        {
            return Err(self.err(format!("`{key}`: `min` is above `max`")));
        }
        self.keys_within(&format!("{key}.shift"), &c.shift, &self.arms())?;
        self.keys_within(
            &format!("{key}.shift_by_project"),
            &c.shift_by_project,
            &self.projects(),
        )?;
        Ok(())
    }

    /// Cluster-level covariates need clusters, and do not differ by arm where every
    /// cluster has every arm; the aggregated layout has only cluster-level ones.
    fn check_covariate_level(&self, key: &str, c: &CovariateSim) -> Result<()> {
        let within = self
            .p
            .sizes
            .clusters
            .as_ref()
            .is_some_and(|c| c.assignment == Assignment::WithinCluster);
        if c.level == Level::Cluster {
            if self.p.sizes.clusters.is_none() {
                return Err(self.err(format!(
                    "`{key}.level` is cluster but there are no clusters; use level = \"unit\""
                )));
            }
            if within && (!c.shift.is_empty() || !c.probs_by_arm.is_empty()) {
                return Err(self.err(format!(
                    "`{key}` is a cluster-level covariate with clusters in every arm, so it cannot differ by arm; drop `shift`/`probs_by_arm`"
                )));
            }
        } else if self.spec.data.layout == DataLayout::Aggregated {
            return Err(self.err(format!(
                "`{key}`: in an aggregated layout every covariate describes the cluster; set level = \"cluster\""
            )));
        }
        Ok(())
    }

    /// Output column names are unique, and the config's covariates are generated
    /// numeric columns.
    fn check_covariate_columns(&self) -> Result<()> {
        // Unique output names.
        let mut names = BTreeSet::new();
        for c in &self.p.covariates {
            for n in std::iter::once(&c.name).chain(c.dummies.keys()) {
                if !names.insert(n.clone()) {
                    return Err(self.err(format!("the covariate column \"{n}\" is defined twice")));
                }
            }
        }
        // An unmeasured confounder is not in the data, so the config cannot adjust for it.
        for c in self.p.covariates.iter().filter(|c| c.hidden) {
            if self.spec.covariates.contains(&c.name) {
                return Err(self.err(format!(
                    "the covariate \"{}\" is `hidden` (not written to the data) but the config adjusts for it; drop it from the config's `covariates` or remove `hidden`",
                    c.name
                )));
            }
        }
        // The config's covariates must be generated numeric columns.
        let numeric = self.p.numeric_columns();
        for cov in &self.spec.covariates {
            if !numeric.contains(cov) {
                let text_cov = self.p.covariates.iter().any(|c| &c.name == cov);
                let msg = if text_cov {
                    format!(
                        "the config's covariate \"{cov}\" is categorical (text) here; list its numeric `dummies` as covariates instead"
                    )
                } else {
                    let hint = did_you_mean(cov, numeric.iter().map(String::as_str));
                    format!(
                        "the config's covariate \"{cov}\" is not simulated; add a `[[covariates]]` entry (or a dummy) named so.{hint}"
                    )
                };
                return Err(self.err(msg));
            }
        }
        Ok(())
    }

    fn check_categorical(
        &self,
        key: &str,
        c: &CovariateSim,
        arms: &[&str],
        projects: &[&str],
    ) -> Result<()> {
        let Some(values) = &c.values else {
            return Err(self.err(format!("`{key}` is categorical: set `values` and `probs`")));
        };
        let uniq: BTreeSet<_> = values.iter().collect();
        if values.is_empty() || uniq.len() != values.len() {
            return Err(self.err(format!(
                "`{key}.values` must be non-empty and without repeats"
            )));
        }
        let check_probs = |k: String, p: &[f64]| -> Result<()> {
            if p.len() != values.len() {
                return Err(self.err(format!(
                    "`{k}` has {} probabilities for {} values",
                    p.len(),
                    values.len()
                )));
            }
            let sum: f64 = p.iter().sum();
            if p.iter().any(|x| *x < 0.0) || (sum - 1.0).abs() > 1e-6 {
                return Err(self.err(format!(
                    "`{k}` must be non-negative and sum to 1 (sums to {sum})"
                )));
            }
            Ok(())
        };
        let Some(probs) = &c.probs else {
            return Err(self.err(format!("`{key}` is categorical: set `probs`")));
        };
        check_probs(format!("{key}.probs"), probs)?;
        self.keys_within(&format!("{key}.probs_by_arm"), &c.probs_by_arm, arms)?;
        self.keys_within(
            &format!("{key}.probs_by_project"),
            &c.probs_by_project,
            projects,
        )?;
        if !c.probs_by_arm.is_empty() && !c.probs_by_project.is_empty() {
            return Err(self.err(format!(
                "`{key}`: set `probs_by_arm` or `probs_by_project`, not both"
            )));
        }
        for (k, p) in c.probs_by_arm.iter().chain(&c.probs_by_project) {
            check_probs(format!("{key}.probs_by_*.{k}"), p)?;
        }
        for (d, v) in &c.dummies {
            if !values.contains(v) {
                return Err(self.err(format!(
                    "`{key}.dummies.{d}` flags \"{v}\", which is not among `values`: {}",
                    join(values)
                )));
            }
        }
        Ok(())
    }

    fn kind_of(&self, id: &str) -> Option<OutcomeKind> {
        self.spec
            .outcomes
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.kind)
    }

    /// Every config outcome has a table; each is typed by its kind, then checked.
    fn check_outcomes(&self) -> Result<BTreeMap<String, OutcomeModel>> {
        let ids: Vec<&str> = self.spec.outcomes.iter().map(|o| o.id.as_str()).collect();
        self.keys_exactly("outcomes", &self.p.outcomes, &ids)?;
        let mut models = BTreeMap::new();
        for o in &self.spec.outcomes {
            if let Some(table) = self.p.outcomes.get(&o.id) {
                models.insert(o.id.clone(), self.type_outcome(o, table)?);
            }
        }
        for o in &self.spec.outcomes {
            let key = format!("outcomes.{}", o.id);
            match models.get(&o.id) {
                Some(OutcomeModel::FromTime(f)) => self.check_from_time(&key, f, &models)?,
                Some(OutcomeModel::Drawn { shared, model }) => {
                    self.check_shared(&key, o, shared)?;
                    self.check_drawn(&key, o, model)?;
                }
                None => {}
            }
        }
        self.check_no_cycle(&models)?;
        Ok(models)
    }

    /// Type an outcome's table: derived (`from_time`) by the outcome's kind, else the
    /// keys every drawn outcome takes split off and the rest typed by the kind (or as
    /// counts in the aggregated layout).
    fn type_outcome(&self, o: &OutcomeSpec, table: &toml::Table) -> Result<OutcomeModel> {
        let key = format!("outcomes.{}", o.id);
        if table.contains_key("from_time") {
            let what = format!("a {} outcome derived with `from_time`", o.kind);
            let table = table.clone();
            let derived = match o.kind {
                OutcomeKind::Binary => FromTime::Event(self.typed(&key, &what, table, &[])?),
                OutcomeKind::Continuous => FromTime::Time(self.typed(&key, &what, table, &[])?),
                OutcomeKind::Count => FromTime::Count(self.typed(&key, &what, table, &[])?),
                OutcomeKind::Ordinal | OutcomeKind::TimeToEvent => {
                    return Err(self.err(format!(
                        "`{key}.from_time` is for binary, continuous or count outcomes; \"{}\" is {}",
                        o.id, o.kind
                    )));
                }
            };
            return Ok(OutcomeModel::FromTime(derived));
        }
        let shared_keys = field_names::<Shared>();
        let (mut shared, mut own) = (toml::Table::new(), toml::Table::new());
        for (k, v) in table {
            let part = if shared_keys.contains(&k.as_str()) {
                &mut shared
            } else {
                &mut own
            };
            part.insert(k.clone(), v.clone());
        }
        let model = if self.spec.data.layout == DataLayout::Aggregated {
            let what = "a binary outcome of the aggregated layout";
            DrawnModel::Counts(self.typed(&key, what, own, shared_keys)?)
        } else {
            let article = if o.kind == OutcomeKind::Ordinal {
                "an"
            } else {
                "a"
            };
            let what = &format!("{article} {} outcome", o.kind);
            match o.kind {
                OutcomeKind::Binary => {
                    DrawnModel::Binary(self.typed(&key, what, own, shared_keys)?)
                }
                OutcomeKind::Continuous => {
                    DrawnModel::Continuous(self.typed(&key, what, own, shared_keys)?)
                }
                OutcomeKind::Count => {
                    DrawnModel::Count(self.typed(&key, what, own, shared_keys)?)
                }
                OutcomeKind::Ordinal => {
                    DrawnModel::Ordinal(self.typed(&key, what, own, shared_keys)?)
                }
                OutcomeKind::TimeToEvent => {
                    DrawnModel::TimeToEvent(self.typed(&key, what, own, shared_keys)?)
                }
            }
        };
        let shared = self.typed(&key, "an outcome", shared, &[])?;
        Ok(OutcomeModel::Drawn { shared, model })
    }

    /// Deserialize `table` as `T` (`what` says what the outcome is). A key that is
    /// neither a field of `T` nor among `also` is named with the keys allowed here.
    fn typed<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        what: &str,
        table: toml::Table,
        also: &[&str],
    ) -> Result<T> {
        let allowed: Vec<&str> = also.iter().chain(field_names::<T>()).copied().collect();
        if let Some(bad) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
            let hint = did_you_mean(bad, allowed.iter().copied());
            return Err(self.err(format!(
                "`{key}.{bad}` does not apply to {what}; keys allowed here: {}.{hint}",
                join(&allowed)
            )));
        }
        toml::Value::Table(table).try_into().map_err(|e| {
            let msg = e.to_string().trim_end().replace('\n', " ");
            self.err(format!("`{key}` ({what}): {msg}"))
        })
    }

    fn check_from_time(
        &self,
        key: &str,
        f: &FromTime,
        models: &BTreeMap<String, OutcomeModel>,
    ) -> Result<()> {
        let parent = f.source();
        let Some(OutcomeModel::Drawn {
            model: DrawnModel::TimeToEvent(t),
            ..
        }) = models.get(parent)
        else {
            return Err(self.err(format!(
                "`{key}.from_time` is \"{parent}\"; name a time-to-event outcome of this pilot"
            )));
        };
        if !(f.by() > 0.0 && f.by() <= t.follow_up) {
            return Err(self.err(format!(
                "`{key}.by` must be above 0 and at most the follow-up of \"{parent}\""
            )));
        }
        if f.per_time_unit().is_some_and(|m| m <= 0.0) {
            return Err(self.err(format!("`{key}.per_time_unit` must be above 0")));
        }
        Ok(())
    }

    /// The keys every drawn outcome takes: covariates, arms, projects, clusters, panel.
    fn check_shared(&self, key: &str, o: &OutcomeSpec, s: &Shared) -> Result<()> {
        let numeric = self.p.numeric_columns();
        let numeric: Vec<&str> = numeric.iter().map(String::as_str).collect();
        self.keys_within(&format!("{key}.coef"), &s.coef, &numeric)?;
        self.keys_within(&format!("{key}.missing"), &s.missing, &self.arms())?;
        if let Some((k, v)) = s.missing.iter().find(|(_, v)| !(0.0..1.0).contains(*v)) {
            return Err(self.err(format!("`{key}.missing.{k}` is {v}; use a rate in [0, 1)")));
        }
        if s.cluster_sd.is_some() && self.p.sizes.clusters.is_none() {
            return Err(self.err(format!(
                "`{key}.cluster_sd` needs clusters (`[sizes.clusters]`)"
            )));
        }
        if s.cluster_sd.is_some_and(|v| v < 0.0) {
            return Err(self.err(format!("`{key}.cluster_sd` is negative")));
        }
        if s.trend.is_some() && self.p.panel.is_none() {
            return Err(self.err(format!("`{key}.trend` needs a `[panel]`")));
        }
        if s.trend_risk.is_some()
            && ((self.p.panel.is_none() && self.p.time.is_none()) || o.kind != OutcomeKind::Binary)
        {
            return Err(self.err(format!(
                "`{key}.trend_risk` needs a `[panel]` or `[time]` and a binary outcome; use `trend` otherwise"
            )));
        }
        if s.effect_growth.is_some() && self.p.panel.as_ref().is_none_or(|p| p.staggered.is_none())
        {
            return Err(self.err(format!(
                "`{key}.effect_growth` needs `[panel.staggered]` (start periods per cluster)"
            )));
        }
        let projects = self.projects();
        self.keys_within(&format!("{key}.project_shift"), &s.project_shift, &projects)?;
        self.check_effects(key, o, s, &projects)
    }

    /// `effect` per treated arm, or `effect_by_project` where the pilot has projects.
    fn check_effects(
        &self,
        key: &str,
        o: &OutcomeSpec,
        s: &Shared,
        projects: &[&str],
    ) -> Result<()> {
        let treated = self.treated();
        if projects.is_empty() {
            if !s.effect_by_project.is_empty() {
                return Err(self.err(format!(
                    "`{key}.effect_by_project` needs projects in the config; use `effect`"
                )));
            }
            self.keys_exactly(&format!("{key}.effect"), &s.effect, &treated)?;
        } else {
            if !s.effect.is_empty() {
                return Err(self.err(format!(
                    "`{key}.effect`: this pilot has projects, so give `effect_by_project` (project -> arm -> effect)"
                )));
            }
            self.keys_exactly(
                &format!("{key}.effect_by_project"),
                &s.effect_by_project,
                projects,
            )?;
            for (p, m) in &s.effect_by_project {
                self.keys_exactly(&format!("{key}.effect_by_project.{p}"), m, &treated)?;
            }
        }
        let effects = s
            .effect
            .values()
            .chain(s.effect_by_project.values().flat_map(|m| m.values()));
        for e in effects {
            if !e.is_finite() || (o.kind == OutcomeKind::TimeToEvent && *e <= 0.0) {
                return Err(self.err(format!(
                    "`{key}`: effect {e} is not valid; a time-to-event effect is a hazard ratio above 0"
                )));
            }
        }
        Ok(())
    }

    /// The keys of each model.
    fn check_drawn(&self, key: &str, o: &OutcomeSpec, model: &DrawnModel) -> Result<()> {
        match model {
            DrawnModel::Binary(b) => {
                self.check_probability(key, b.base)?;
                self.check_binary_link(key, "nested_in", b.nested_in.as_deref(), o)
            }
            DrawnModel::Counts(c) => {
                self.check_probability(key, c.base)?;
                self.check_remainder(key, c)
            }
            DrawnModel::Continuous(c) => {
                if c.sd <= 0.0 {
                    return Err(self.err(format!("`{key}.sd` must be above 0")));
                }
                if let (Some(a), Some(b)) = (c.min, c.max)
                    && a >= b
                {
                    return Err(self.err(format!("`{key}`: `min` must be below `max`")));
                }
                self.check_binary_link(key, "zero_unless", c.zero_unless.as_deref(), o)
            }
            DrawnModel::Count(c) => {
                if c.base <= 0.0 {
                    return Err(self.err(format!("`{key}` is a count: set `base` (mean) above 0")));
                }
                if c.dispersion.is_some_and(|d| d <= 0.0) {
                    return Err(self.err(format!("`{key}.dispersion` must be above 0")));
                }
                if c.max.is_some_and(|m| m < 1.0 || m.fract() != 0.0) {
                    return Err(self.err(format!("`{key}.max` must be a whole number >= 1")));
                }
                self.check_binary_link(key, "zero_unless", c.zero_unless.as_deref(), o)
            }
            DrawnModel::Ordinal(m) => {
                let p = &m.probs;
                let ok = p.len() >= 2
                    && p.iter().all(|x| *x > 0.0)
                    && (p.iter().sum::<f64>() - 1.0).abs() < 1e-6;
                if !ok {
                    return Err(self.err(format!(
                        "`{key}.probs`: give the probabilities of levels 1..K (K >= 2), each above 0, summing to 1"
                    )));
                }
                Ok(())
            }
            DrawnModel::TimeToEvent(t) => {
                if !(t.base > 0.0 && t.shape > 0.0 && t.follow_up > 0.0) {
                    return Err(self.err(format!(
                        "`{key}` is time-to-event: `base` (median time at centred covariates), `shape` and `follow_up` must all be above 0"
                    )));
                }
                if t.dropout.is_some_and(|d| d < 0.0) {
                    return Err(self.err(format!("`{key}.dropout` is negative")));
                }
                Ok(())
            }
        }
    }

    fn check_probability(&self, key: &str, base: f64) -> Result<()> {
        if !(base > 0.0 && base < 1.0) {
            return Err(self.err(format!("`{key}.base` must be a probability in (0, 1)")));
        }
        Ok(())
    }

    /// `nested_in` / `zero_unless` name another binary outcome.
    fn check_binary_link(
        &self,
        key: &str,
        name: &str,
        parent: Option<&str>,
        o: &OutcomeSpec,
    ) -> Result<()> {
        if let Some(parent) = parent
            && (parent == o.id || self.kind_of(parent) != Some(OutcomeKind::Binary))
        {
            return Err(self.err(format!(
                "`{key}.{name}` is \"{parent}\"; name another binary outcome"
            )));
        }
        Ok(())
    }

    /// Every remainder entry but the last has a share; with `base` they leave room for
    /// the last.
    fn check_remainder(&self, key: &str, c: &CountsSim) -> Result<()> {
        let mut shares = 0.0;
        for (j, r) in c.remainder.iter().enumerate() {
            let last = j + 1 == c.remainder.len();
            match (r.share, last) {
                (None, true) => {}
                (Some(v), false) if (0.0..1.0).contains(&v) => shares += v,
                _ => {
                    return Err(self.err(format!(
                        "`{key}.remainder[{j}]`: every entry but the last needs a `share` in [0, 1); the last takes the rest and has none"
                    )));
                }
            }
        }
        if shares + c.base >= 1.0 {
            return Err(self.err(format!(
                "`{key}`: `base` plus the remainder shares reach 1; leave room for the last category"
            )));
        }
        Ok(())
    }

    /// The outcomes' `nested_in` / `zero_unless` / `from_time` links must not form a
    /// cycle.
    fn check_no_cycle(&self, models: &BTreeMap<String, OutcomeModel>) -> Result<()> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while done.len() < models.len() {
            let before = done.len();
            for (id, m) in models {
                if !done.contains(id.as_str()) && m.depends_on().is_none_or(|d| done.contains(d)) {
                    done.insert(id);
                }
            }
            if done.len() == before {
                return Err(self.err(
                    "the outcomes' `nested_in` / `zero_unless` / `from_time` links form a cycle",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_the_fields_serde_accepts() {
        assert_eq!(
            field_names::<Shared>(),
            [
                "coef",
                "cluster_sd",
                "project_shift",
                "trend",
                "trend_risk",
                "effect_growth",
                "effect",
                "effect_by_project",
                "missing"
            ]
        );
        assert_eq!(field_names::<EventBy>(), ["from_time", "by"]);
        assert!(field_names::<f64>().is_empty());
    }
}
