//! Simulation parameters: `pilots/<slug>.sim.toml`.
//!
//! One schema serves all eight pilots, so the generator has a single code path: sizes
//! (per arm, per project, or per cluster), covariate distributions, and per outcome a
//! base level, covariate coefficients, cluster spread, true effects and missing rates.
//! The TOML is read with `deny_unknown_fields`, then [`SimParams::check`] validates it
//! against the pilot's [`PilotSpec`], so the generator can rely on every arm, project,
//! covariate and outcome it looks up being there. The schema is documented key by key
//! in `pilots/README.md`.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::{DataLayout, OutcomeKind, OutcomeSource, PilotSpec};
use crate::error::{Error, Result, closest};

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
    /// How the `trials` columns of an aggregated layout are drawn, by column name.
    #[serde(default)]
    pub trials: BTreeMap<String, TrialsSim>,
    /// Covariates in output order.
    #[serde(default)]
    pub covariates: Vec<CovariateSim>,
    /// Outcome models, keyed by the outcome `id` of the config.
    pub outcomes: BTreeMap<String, OutcomeSim>,
    /// The file these parameters were read from (for messages).
    #[serde(skip)]
    pub path: PathBuf,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSim {
    /// Control level at centred covariates: probability (binary), mean (continuous,
    /// count) or median time (time-to-event).
    #[serde(default)]
    pub base: Option<f64>,
    /// Ordinal: category probabilities (levels 1..K) at centred covariates.
    #[serde(default)]
    pub probs: Option<Vec<f64>>,
    #[serde(default)]
    pub sd: Option<f64>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub digits: Option<u32>,
    #[serde(default)]
    pub dispersion: Option<f64>,
    #[serde(default)]
    pub shape: Option<f64>,
    #[serde(default)]
    pub follow_up: Option<f64>,
    #[serde(default)]
    pub dropout: Option<f64>,
    #[serde(default)]
    pub coef: BTreeMap<String, f64>,
    #[serde(default)]
    pub cluster_sd: Option<f64>,
    #[serde(default)]
    pub project_shift: BTreeMap<String, f64>,
    #[serde(default)]
    pub trend: Option<f64>,
    #[serde(default)]
    pub effect: BTreeMap<String, f64>,
    #[serde(default)]
    pub effect_by_project: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    pub missing: BTreeMap<String, f64>,
    #[serde(default)]
    pub nested_in: Option<String>,
    #[serde(default)]
    pub zero_unless: Option<String>,
    #[serde(default)]
    pub from_time: Option<String>,
    #[serde(default)]
    pub by: Option<f64>,
    #[serde(default)]
    pub per_time_unit: Option<f64>,
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

impl OutcomeSim {
    /// The keys that are set, for "does not apply" checks.
    fn set_keys(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut add = |k: &'static str, set: bool| {
            if set {
                v.push(k);
            }
        };
        add("base", self.base.is_some());
        add("probs", self.probs.is_some());
        add("sd", self.sd.is_some());
        add("min", self.min.is_some());
        add("max", self.max.is_some());
        add("digits", self.digits.is_some());
        add("dispersion", self.dispersion.is_some());
        add("shape", self.shape.is_some());
        add("follow_up", self.follow_up.is_some());
        add("dropout", self.dropout.is_some());
        add("coef", !self.coef.is_empty());
        add("cluster_sd", self.cluster_sd.is_some());
        add("project_shift", !self.project_shift.is_empty());
        add("trend", self.trend.is_some());
        add("effect", !self.effect.is_empty());
        add("effect_by_project", !self.effect_by_project.is_empty());
        add("missing", !self.missing.is_empty());
        add("nested_in", self.nested_in.is_some());
        add("zero_unless", self.zero_unless.is_some());
        add("from_time", self.from_time.is_some());
        add("by", self.by.is_some());
        add("per_time_unit", self.per_time_unit.is_some());
        add("remainder", !self.remainder.is_empty());
        v
    }

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
            .map_err(|e| Error::io(path, format!("cannot read the simulation parameters: {e}")))?;
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
                let hint = closest(k, allowed.iter().copied())
                    .map(|c| format!(" Did you mean \"{c}\"?"))
                    .unwrap_or_default();
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

    fn run(&self) -> Result<()> {
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
        self.check_outcomes()?;
        Ok(())
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

    fn check_panel_and_trials(&self) -> Result<()> {
        let aggregated = self.spec.data.layout == DataLayout::Aggregated;
        if let Some(panel) = &self.p.panel {
            if !aggregated {
                return Err(self.err(
                    "`[panel]` is for the aggregated layout (one row per cluster and period)",
                ));
            }
            if panel.periods.is_empty() {
                return Err(
                    self.err("`panel.periods` is empty; list the periods, e.g. [2019, 2020]")
                );
            }
            let uniq: BTreeSet<_> = panel.periods.iter().collect();
            if uniq.len() != panel.periods.len() {
                return Err(self.err("`panel.periods` lists a period twice"));
            }
        }
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
                            return Err(
                                self.err(format!("`{key}.share` must be set, between 0 and 1"))
                            );
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
                        return Err(
                            self.err(format!("`{key}` needs `median` >= 1 and `sdlog` >= 0"))
                        );
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
        }
        Ok(())
    }

    fn check_covariates(&self) -> Result<()> {
        let arms = self.arms();
        let projects = self.projects();
        let has_clusters = self.p.sizes.clusters.is_some();
        let within = self
            .p
            .sizes
            .clusters
            .as_ref()
            .is_some_and(|c| c.assignment == Assignment::WithinCluster);
        let aggregated = self.spec.data.layout == DataLayout::Aggregated;
        for (i, c) in self.p.covariates.iter().enumerate() {
            let key = format!("covariates[{i}] ({})", c.name);
            if c.name.trim().is_empty() {
                return Err(self.err(format!("`covariates[{i}].name` is empty")));
            }
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
                Dist::Bernoulli => &["p", "shift", "shift_by_project", "center"],
                Dist::Categorical => &[
                    "values",
                    "probs",
                    "probs_by_arm",
                    "probs_by_project",
                    "dummies",
                ],
            };
            self.only_keys(&key, &c.set_keys(), allowed)?;
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
                        return Err(
                            self.err(format!("`{key}` is bernoulli: set `p` between 0 and 1"))
                        );
                    }
                }
                Dist::Categorical => self.check_categorical(&key, c, &arms, &projects)?,
            }
            if let (Some(a), Some(b)) = (c.min, c.max)
                && a > b
            {
                return Err(self.err(format!("`{key}`: `min` is above `max`")));
            }
            self.keys_within(&format!("{key}.shift"), &c.shift, &arms)?;
            self.keys_within(
                &format!("{key}.shift_by_project"),
                &c.shift_by_project,
                &projects,
            )?;
            if c.level == Level::Cluster {
                if !has_clusters {
                    return Err(self.err(format!(
                        "`{key}.level` is cluster but there are no clusters; use level = \"unit\""
                    )));
                }
                if within && (!c.shift.is_empty() || !c.probs_by_arm.is_empty()) {
                    return Err(self.err(format!(
                        "`{key}` is a cluster-level covariate with clusters in every arm, so it cannot differ by arm; drop `shift`/`probs_by_arm`"
                    )));
                }
            } else if aggregated {
                return Err(self.err(format!(
                    "`{key}`: in an aggregated layout every covariate describes the cluster; set level = \"cluster\""
                )));
            }
        }
        // Unique output names.
        let mut names = BTreeSet::new();
        for c in &self.p.covariates {
            for n in std::iter::once(&c.name).chain(c.dummies.keys()) {
                if !names.insert(n.clone()) {
                    return Err(self.err(format!("the covariate column \"{n}\" is defined twice")));
                }
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
                    let hint = closest(cov, numeric.iter().map(String::as_str))
                        .map(|c| format!(" Did you mean \"{c}\"?"))
                        .unwrap_or_default();
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

    fn check_outcomes(&self) -> Result<()> {
        let ids: Vec<&str> = self.spec.outcomes.iter().map(|o| o.id.as_str()).collect();
        self.keys_exactly("outcomes", &self.p.outcomes, &ids)?;
        let arms = self.arms();
        let treated = self.treated();
        let projects = self.projects();
        let numeric = self.p.numeric_columns();
        let numeric: Vec<&str> = numeric.iter().map(String::as_str).collect();
        let has_clusters = self.p.sizes.clusters.is_some();
        let aggregated = self.spec.data.layout == DataLayout::Aggregated;
        let kind_of = |id: &str| {
            self.spec
                .outcomes
                .iter()
                .find(|o| o.id == id)
                .map(|o| o.kind)
        };

        for o in &self.spec.outcomes {
            let key = format!("outcomes.{}", o.id);
            let Some(s) = self.p.outcomes.get(&o.id) else {
                continue;
            };
            let set = s.set_keys();
            let common: &[&str] = &[
                "coef",
                "cluster_sd",
                "project_shift",
                "trend",
                "effect",
                "effect_by_project",
                "missing",
            ];
            let with = |extra: &[&'static str]| -> Vec<&str> {
                common
                    .iter()
                    .copied()
                    .chain(extra.iter().copied())
                    .collect()
            };
            let derived = s.from_time.is_some();
            let allowed: Vec<&str> = if derived {
                match o.kind {
                    OutcomeKind::Binary => vec!["from_time", "by"],
                    OutcomeKind::Continuous => vec!["from_time", "by", "per_time_unit", "digits"],
                    OutcomeKind::Count => vec!["from_time", "by", "per_time_unit"],
                    _ => {
                        return Err(self.err(format!(
                            "`{key}.from_time` is for binary, continuous or count outcomes; \"{}\" is {}",
                            o.id, o.kind
                        )));
                    }
                }
            } else if aggregated {
                with(&["base", "remainder"])
            } else {
                match o.kind {
                    OutcomeKind::Binary => with(&["base", "nested_in"]),
                    OutcomeKind::Continuous => {
                        with(&["base", "sd", "min", "max", "digits", "zero_unless"])
                    }
                    OutcomeKind::Count => with(&["base", "dispersion", "max", "zero_unless"]),
                    OutcomeKind::Ordinal => with(&["probs"]),
                    OutcomeKind::TimeToEvent => {
                        with(&["base", "shape", "follow_up", "dropout", "digits"])
                    }
                }
            };
            self.only_keys(&key, &set, &allowed)?;

            if derived {
                let parent = s.from_time.as_deref().unwrap_or_default();
                let pk = kind_of(parent);
                if pk != Some(OutcomeKind::TimeToEvent) {
                    return Err(self.err(format!(
                        "`{key}.from_time` is \"{parent}\"; name a time-to-event outcome of this pilot"
                    )));
                }
                let follow = self.p.outcomes.get(parent).and_then(|p| p.follow_up);
                match (s.by, follow) {
                    (Some(b), Some(f)) if b > 0.0 && b <= f => {}
                    _ => {
                        return Err(self.err(format!(
                            "`{key}.by` must be set, above 0 and at most the follow-up of \"{parent}\""
                        )));
                    }
                }
                if s.per_time_unit.is_some_and(|m| m <= 0.0) {
                    return Err(self.err(format!("`{key}.per_time_unit` must be above 0")));
                }
                continue;
            }

            // Shared keys.
            self.keys_within(&format!("{key}.coef"), &s.coef, &numeric)?;
            self.keys_within(&format!("{key}.missing"), &s.missing, &arms)?;
            if let Some((k, v)) = s.missing.iter().find(|(_, v)| !(0.0..1.0).contains(*v)) {
                return Err(self.err(format!("`{key}.missing.{k}` is {v}; use a rate in [0, 1)")));
            }
            if s.cluster_sd.is_some() && !has_clusters {
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
            self.keys_within(&format!("{key}.project_shift"), &s.project_shift, &projects)?;
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
                    &projects,
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

            match o.kind {
                OutcomeKind::Binary => {
                    if s.base.is_none_or(|b| !(b > 0.0 && b < 1.0)) {
                        return Err(
                            self.err(format!("`{key}.base` must be a probability in (0, 1)"))
                        );
                    }
                    if let Some(parent) = &s.nested_in {
                        let pk = kind_of(parent);
                        if parent == &o.id || pk != Some(OutcomeKind::Binary) {
                            return Err(self.err(format!(
                                "`{key}.nested_in` is \"{parent}\"; name another binary outcome"
                            )));
                        }
                    }
                    let mut shares = 0.0;
                    for (j, r) in s.remainder.iter().enumerate() {
                        let last = j + 1 == s.remainder.len();
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
                    if shares + s.base.unwrap_or(0.0) >= 1.0 {
                        return Err(self.err(format!(
                            "`{key}`: `base` plus the remainder shares reach 1; leave room for the last category"
                        )));
                    }
                }
                OutcomeKind::Continuous => {
                    if s.base.is_none() || s.sd.is_none_or(|v| v <= 0.0) {
                        return Err(self.err(format!(
                            "`{key}` is continuous: set `base` (mean) and `sd` > 0"
                        )));
                    }
                    if let (Some(a), Some(b)) = (s.min, s.max)
                        && a >= b
                    {
                        return Err(self.err(format!("`{key}`: `min` must be below `max`")));
                    }
                }
                OutcomeKind::Count => {
                    if s.base.is_none_or(|b| b <= 0.0) {
                        return Err(
                            self.err(format!("`{key}` is a count: set `base` (mean) above 0"))
                        );
                    }
                    if s.dispersion.is_some_and(|d| d <= 0.0) {
                        return Err(self.err(format!("`{key}.dispersion` must be above 0")));
                    }
                    if s.max.is_some_and(|m| m < 1.0 || m.fract() != 0.0) {
                        return Err(self.err(format!("`{key}.max` must be a whole number >= 1")));
                    }
                }
                OutcomeKind::Ordinal => {
                    let ok = s.probs.as_ref().is_some_and(|p| {
                        p.len() >= 2
                            && p.iter().all(|x| *x > 0.0)
                            && (p.iter().sum::<f64>() - 1.0).abs() < 1e-6
                    });
                    if !ok {
                        return Err(self.err(format!(
                            "`{key}.probs`: give the probabilities of levels 1..K (K >= 2), each above 0, summing to 1"
                        )));
                    }
                }
                OutcomeKind::TimeToEvent => {
                    let ok = s.base.is_some_and(|b| b > 0.0)
                        && s.shape.is_some_and(|k| k > 0.0)
                        && s.follow_up.is_some_and(|f| f > 0.0);
                    if !ok {
                        return Err(self.err(format!(
                            "`{key}` is time-to-event: set `base` (median time at centred covariates), `shape` and `follow_up`, all above 0"
                        )));
                    }
                    if s.dropout.is_some_and(|d| d < 0.0) {
                        return Err(self.err(format!("`{key}.dropout` is negative")));
                    }
                }
            }
            if let Some(parent) = &s.zero_unless
                && (parent == &o.id || kind_of(parent) != Some(OutcomeKind::Binary))
            {
                return Err(self.err(format!(
                    "`{key}.zero_unless` is \"{parent}\"; name another binary outcome"
                )));
            }
        }
        // Dependencies must not form a cycle.
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while done.len() < self.p.outcomes.len() {
            let before = done.len();
            for (id, s) in &self.p.outcomes {
                let dep = s
                    .nested_in
                    .as_deref()
                    .or(s.zero_unless.as_deref())
                    .or(s.from_time.as_deref());
                if !done.contains(id.as_str()) && dep.is_none_or(|d| done.contains(d)) {
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
