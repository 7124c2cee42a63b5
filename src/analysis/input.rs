//! What the analysis takes: one pilot's data as plain vectors, built by the prepare
//! stage ([`crate::prepare`]) from a validated spec and its data files. Nothing here
//! reads a file or knows a data frame; the analysis sees only these types.

use super::survival::TimeEvent;
use crate::data::Numbers;
use crate::stats::ols::Clusters;

/// A pilot's data, checked against its spec and turned into the inputs of every
/// estimate: the units (arm, project, cluster, block, fixed effects, covariates) and
/// each outcome in the order of `spec.outcomes`. Made only by
/// [`crate::prepare::prepare`], so the analysis cannot be handed unchecked data.
pub struct AnalysisInput {
    pub(crate) units: Units,
    pub(crate) outcomes: Vec<OutcomeData>,
    /// Rows of the data file.
    pub(crate) n_rows: usize,
    /// Units counted: rows, or with aggregated rows the largest number of persons
    /// behind one outcome.
    pub(crate) n_units: usize,
    /// Whether the data mark themselves as synthetic (`data_source = "synthetic"`).
    pub(crate) synthetic: bool,
    /// Each person's cost (`[costs] column`), checked: numbers of 0 or more, not all
    /// the same, some in every arm. None without a cost column.
    pub(crate) cost: Option<Numbers>,
    /// A panel design with a time axis (`design.time`): one difference-in-differences
    /// panel per outcome (`None` for outcomes it cannot take); `None` without one.
    pub(crate) panels: Option<Vec<Option<super::did::PanelInput>>>,
    /// A before/after design with a time axis: one interrupted time series per outcome.
    pub(crate) its: Option<Vec<Option<super::its_design::ItsData>>>,
}

impl AnalysisInput {
    /// Rows of the data file.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
}

/// One outcome's values, by the outcome's kind.
pub(crate) enum OutcomeData {
    /// One value per unit (continuous, count, ordinal, binary; binary counts expanded
    /// to one 0/1 unit per trial).
    Values(OutcomeUnits),
    /// Time and event per unit; `no_cluster` lists the rows left out because their
    /// cluster id is missing.
    TimeToEvent {
        te: TimeEvent,
        no_cluster: Vec<usize>,
    },
}

/// Row-level inputs shared by all outcomes, as plain vectors.
pub(crate) struct Units {
    /// Arm index (into spec.arms.values) per row.
    pub(crate) arm: Vec<u16>,
    /// The arm column as numbers, when it holds numbers (the arms are then "0", "1",
    /// ...): with arms 0 and 1 it is the treatment indicator itself.
    pub(crate) arm_numbers: Option<Numbers>,
    /// Project value per row (when the design has projects).
    pub(crate) project: Option<Labels>,
    /// Cluster label per row (when the design has clusters); a row without a cluster
    /// id has none ([`Labels::has`]) and is left out of the cluster-robust analyses.
    pub(crate) cluster: Option<Labels>,
    /// The cluster column's name, for notes.
    pub(crate) cluster_column: Option<String>,
    /// Block label per row (when randomised within blocks).
    pub(crate) block: Option<Labels>,
    /// Exact-matching column (`design.exact`) per row, when set.
    pub(crate) exact: Option<Labels>,
    /// Absorbed fixed effects: name and label per row.
    pub(crate) fixed_effects: Vec<(String, Labels)>,
    pub(crate) covariates: Vec<(String, Numbers)>,
    /// Per row, whether a covariate is missing; None when none is.
    pub(crate) covariate_missing: Option<Vec<bool>>,
    /// The config's subgroups, in its order: each row's level.
    pub(crate) subgroups: Vec<SubgroupLevels>,
    /// Per row, whether the unit started its arm's programme (`data.started`); None
    /// without that column, and a row's value None where it is missing.
    pub(crate) started: Option<Vec<Option<bool>>>,
}

/// One subgroup column as levels per row: the distinct values, sorted, and each row's
/// index into them ([`NO_LABEL`] where the value is missing).
pub(crate) struct SubgroupLevels {
    pub(crate) column: String,
    pub(crate) values: Vec<f64>,
    pub(crate) codes: Vec<u32>,
}

impl Units {
    /// The arm index of row `r`.
    pub(crate) fn arm_of(&self, r: usize) -> usize {
        usize::from(self.arm[r])
    }

    /// Whether row `r` lacks a covariate: such a unit is left out of the adjusted
    /// estimates (and counted per arm as "missing covariate").
    pub(crate) fn missing_covariate(&self, r: usize) -> bool {
        self.covariate_missing.as_ref().is_some_and(|m| m[r])
    }

    /// Whether row `r` belongs to the subset (`None`: everyone; else a project).
    pub(crate) fn in_subset(&self, subset: &Option<String>, r: usize) -> bool {
        match (subset, &self.project) {
            (Some(p), Some(pr)) => &pr[r] == p,
            _ => true,
        }
    }

    /// Whether row `r` lacks a cluster id: such a unit is left out of the
    /// cluster-robust analyses (and counted per arm as "missing cluster").
    pub(crate) fn missing_cluster(&self, r: usize) -> bool {
        self.cluster.as_ref().is_some_and(|c| !c.has(r))
    }

    /// Whether any row lacks a cluster id.
    pub(crate) fn any_missing_cluster(&self) -> bool {
        self.cluster.as_ref().is_some_and(|c| c.n_missing > 0)
    }
}

/// A label per row (project, cluster, block, fixed-effect level), held as a code into
/// the sorted distinct labels so that large files need no string per row. Codes sort
/// like the labels, so clusters numbered from codes are numbered as from the labels.
pub(crate) struct Labels {
    pub(crate) codes: Vec<u32>,
    pub(crate) levels: Vec<String>,
    /// Rows without a label (code [`NO_LABEL`]); only cluster ids may be missing.
    pub(crate) n_missing: usize,
}

/// The code of a row without a label.
pub(crate) const NO_LABEL: u32 = u32::MAX;

impl Labels {
    /// Whether row `r` has a label.
    pub(crate) fn has(&self, r: usize) -> bool {
        self.codes[r] != NO_LABEL
    }
    /// The code of row `r` (its label's rank among the distinct labels).
    pub(crate) fn code(&self, r: usize) -> u32 {
        self.codes[r]
    }
    /// The distinct labels, sorted.
    pub(crate) fn levels(&self) -> &[String] {
        &self.levels
    }
    /// Clusters of the given rows, numbered in label order. Every row must have a
    /// label ([`Labels::has`]).
    pub(crate) fn clusters(&self, rows: impl Iterator<Item = usize>) -> Clusters {
        Clusters::from_ranked_codes(rows.map(|r| self.codes[r]).collect(), self.levels.len())
    }
}

impl std::ops::Index<usize> for Labels {
    type Output = str;
    fn index(&self, r: usize) -> &str {
        &self.levels[self.codes[r] as usize]
    }
}

/// One outcome as analysable units: source row per unit and the value.
pub(crate) struct OutcomeUnits {
    /// Source row of each unit; None when unit `u` is row `u` (one unit per row).
    pub(crate) rows: Option<Vec<u32>>,
    pub(crate) values: Numbers,
}

impl OutcomeUnits {
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The source row of unit `u`.
    pub(crate) fn row(&self, u: usize) -> usize {
        match &self.rows {
            Some(r) => r[u] as usize,
            None => u,
        }
    }
}
