//! The results of an evaluation: one serialisable structure that is the schema of
//! `results.json` and the source of every other output. Field names of
//! [`EstimateRow`] and [`ArmSummaryRow`] are a stable contract for notebooks.

use serde::Serialize;

use crate::config::{Better, DesignKind, OutcomeKind, Text};
use crate::stats::Inference;

/// Scale on which an estimate and its interval are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// A difference (treated minus control) in the outcome's unit; for binary outcomes
    /// a difference in proportions (multiply by 100 for percentage points).
    Difference,
    /// A ratio (risk ratio, odds ratio, hazard ratio); no effect is 1.
    Ratio,
    /// A standardised difference (Cohen's d, Hedges' g, Cohen's h), in SD units.
    Standardised,
}

/// One estimate of one comparison for one outcome.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateRow {
    pub outcome: String,
    /// "pooled", or the project/site value when the pilot has projects.
    pub subset: String,
    /// "<treated> vs <control>", with arm values as in the data.
    pub comparison: String,
    pub treated: String,
    pub control: String,
    /// Estimator id: welch, ols, ols_adjusted, risk_difference_newcombe, risk_ratio,
    /// odds_ratio.
    pub estimator: String,
    /// Standard-error type for regression estimators (HC2, CR2, ...).
    pub se_type: Option<String>,
    /// How the degrees of freedom were chosen (e.g. "Welch-Satterthwaite").
    pub df_rule: Option<String>,
    pub scale: Scale,
    pub estimate: f64,
    pub std_error: f64,
    pub statistic: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub conf_level: f64,
    pub p_value: f64,
    /// Degrees of freedom of the t reference distribution; null when it is normal.
    pub df: Option<f64>,
    /// Units in the treated and control arm; null when suppressed (fewer than the
    /// disclosure threshold).
    pub n_treated: Option<usize>,
    pub n_control: Option<usize>,
    /// Number of clusters used for cluster-robust inference.
    pub n_clusters: Option<usize>,
    /// Covariates the estimate is adjusted for (after dropping collinear ones).
    pub covariates: Vec<String>,
    /// The estimate the report and the effect chart lead with for this comparison.
    pub headline: bool,
    /// For headline estimates: the p-value adjusted for multiple testing within the
    /// estimate's family (primary or secondary outcomes of the whole sample).
    pub p_value_adjusted: Option<f64>,
    /// The adjustment method of `p_value_adjusted` (holm, bonferroni, bh).
    pub adjustment: Option<String>,
    /// Headline rows on the difference scale: the minimum detectable effect at 80%
    /// power, two-sided at the row's level, from its standard error and df
    /// ([`crate::stats::power::mde_from_se`], Bloom 1995); null otherwise.
    pub mde: Option<f64>,
    /// True when disclosure control withheld this row's numbers (they are null).
    pub suppressed: bool,
    /// Restricted means (RMST): the horizon up to which time is counted, in the
    /// outcome's time unit; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizon: Option<f64>,
    /// Weighting estimators (`ipw_att`, `overlap_ato`, `entropy_att`): the E-value of
    /// the estimate and of its confidence limit closest to the null (VanderWeele & Ding
    /// 2017; see [`crate::stats::weighting::evalue`]); absent for other rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_value_ci: Option<f64>,
    /// Weighting estimators: covariate balance before and after weighting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub balance: Vec<BalanceRow>,
    /// Weighting estimators: Kish's effective sample size per arm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_n: Option<EffectiveN>,
    /// IPW and overlap weights: the propensity scores per arm as counts in bins, for
    /// the overlap chart (counts of 1 to k − 1 persons withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propensity_bins: Option<PropensityBins>,
    /// 1:1 matching without replacement (`matching_att`): the Rosenbaum bound, the
    /// largest Γ at which the one-sided 5% test of the matched pairs stays significant
    /// (signed-rank for continuous outcomes, sign test for yes/no; see
    /// [`crate::stats::weighting::rosenbaum`]); absent when not significant at Γ = 1
    /// and for other rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rosenbaum_gamma: Option<f64>,
    /// Event-study and dynamic difference-in-differences rows: the period relative to
    /// the first treated period (0 = the first treated period); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<i64>,
}

/// Propensity scores per arm, counted in equal bins of [0, 1].
#[derive(Debug, Clone, Serialize)]
pub struct PropensityBins {
    /// Bin edges, one more than the bins; bin i is [edges[i], edges[i+1]) (the last
    /// also holds 1).
    pub edges: Vec<f64>,
    /// Persons per bin; null where withheld by disclosure control.
    pub treated: Vec<Option<usize>>,
    pub control: Vec<Option<usize>>,
    /// Treated persons whose score lies outside the range of the comparison group's.
    pub treated_outside_support: Option<usize>,
}

/// Balance of one covariate (cobalt's ATT conventions: the SMD divides by the SD of the
/// treated group, unweighted; see [`crate::stats::weighting::balance`]). The means are
/// unweighted; `*_weighted` after weighting.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceRow {
    pub covariate: String,
    pub mean_treated: Option<f64>,
    pub mean_control: Option<f64>,
    pub mean_treated_weighted: Option<f64>,
    pub mean_control_weighted: Option<f64>,
    pub smd_before: Option<f64>,
    pub smd_after: Option<f64>,
    pub variance_ratio_before: Option<f64>,
    pub variance_ratio_after: Option<f64>,
    /// Whether the covariate takes only the values 0 and 1 (its means are shares of
    /// persons, checked by disclosure control).
    #[serde(skip)]
    pub binary: bool,
}

/// Kish's effective sample size of each arm under the weights.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EffectiveN {
    pub treated: f64,
    pub control: f64,
}

impl EstimateRow {
    /// Null every number of the row and its group sizes (NaN, None), as disclosure
    /// control publishes a withheld estimate; `suppressed` is the caller's to set.
    pub fn withhold_numbers(&mut self) {
        self.estimate = f64::NAN;
        self.std_error = f64::NAN;
        self.statistic = f64::NAN;
        self.ci_low = f64::NAN;
        self.ci_high = f64::NAN;
        self.p_value = f64::NAN;
        self.p_value_adjusted = self.p_value_adjusted.map(|_| f64::NAN);
        self.mde = self.mde.map(|_| f64::NAN);
        self.n_treated = None;
        self.n_control = None;
        self.df = self.df.map(|_| f64::NAN);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &ComparisonKey,
        estimator: &str,
        se_type: Option<&str>,
        df_rule: Option<&str>,
        scale: Scale,
        inf: Inference,
        conf_level: f64,
        n: (usize, usize),
    ) -> Self {
        Self {
            outcome: key.outcome.clone(),
            subset: key.subset.clone(),
            comparison: format!("{} vs {}", key.treated, key.control),
            treated: key.treated.clone(),
            control: key.control.clone(),
            estimator: estimator.to_string(),
            se_type: se_type.map(String::from),
            df_rule: df_rule.map(String::from),
            scale,
            estimate: inf.estimate,
            std_error: inf.std_error,
            statistic: inf.statistic,
            ci_low: inf.ci_low,
            ci_high: inf.ci_high,
            conf_level,
            p_value: inf.p_value,
            df: inf.df,
            n_treated: Some(n.0),
            n_control: Some(n.1),
            n_clusters: None,
            covariates: Vec::new(),
            headline: false,
            p_value_adjusted: None,
            adjustment: None,
            mde: None,
            suppressed: false,
            horizon: None,
            e_value: None,
            e_value_ci: None,
            balance: Vec::new(),
            effective_n: None,
            propensity_bins: None,
            rosenbaum_gamma: None,
            event_time: None,
        }
    }
}

/// Which outcome, subset and pair of arms a row belongs to.
#[derive(Debug, Clone)]
pub struct ComparisonKey {
    pub outcome: String,
    pub subset: String,
    pub treated: String,
    pub control: String,
}

/// A hypothesis test that is not tied to one estimate (chi-square, Fisher's exact
/// test, randomisation inference, wild cluster bootstrap, log-rank).
#[derive(Debug, Clone, Serialize)]
pub struct TestRow {
    pub outcome: String,
    pub subset: String,
    pub comparison: String,
    pub treated: String,
    pub control: String,
    /// Test id: chi_square, fisher_exact, randomisation, wild_cluster_bootstrap, logrank.
    pub test: String,
    /// The test statistic; null where the test has none (Fisher's exact test).
    pub statistic: Option<f64>,
    pub df: Option<f64>,
    pub p_value: f64,
    /// Resampling tests: number of draws (or assignments enumerated).
    pub reps: Option<u64>,
    /// Resampling tests: the seed that reproduces them.
    pub seed: Option<u64>,
    /// What the test is of, in words (e.g. "adjusted arm coefficient, CR1 t, Webb weights").
    pub detail: Option<String>,
    /// True when disclosure control withheld the test (its statistic and p are null).
    pub suppressed: bool,
}

impl TestRow {
    pub fn new(
        key: &ComparisonKey,
        test: &str,
        statistic: Option<f64>,
        df: Option<f64>,
        p_value: f64,
    ) -> Self {
        Self {
            outcome: key.outcome.clone(),
            subset: key.subset.clone(),
            comparison: format!("{} vs {}", key.treated, key.control),
            treated: key.treated.clone(),
            control: key.control.clone(),
            test: test.to_string(),
            statistic,
            df,
            p_value,
            reps: None,
            seed: None,
            detail: None,
            suppressed: false,
        }
    }
}

/// One arm's summary for one outcome and subset.
#[derive(Debug, Clone, Serialize)]
pub struct ArmSummaryRow {
    pub outcome: String,
    pub subset: String,
    pub arm: String,
    /// Units with an observed outcome; null when suppressed.
    pub n: Option<usize>,
    /// Units in the arm whose outcome is missing (excluded: complete cases); null
    /// when suppressed.
    pub n_missing: Option<usize>,
    /// Units in the arm with an observed outcome but a missing covariate: left out of
    /// the covariate-adjusted estimates (not of the unadjusted ones); null without
    /// covariates, or when suppressed.
    pub n_missing_covariates: Option<usize>,
    /// Units in the arm with an observed outcome but no cluster id: left out of the
    /// cluster-robust analyses (not of the summaries or the differences that ignore the
    /// clustering; of the whole analysis of a time-to-event outcome). Set only when the
    /// design has a cluster column and some unit lacks a cluster id (then also 0), so
    /// absent otherwise; null when disclosure control withholds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_missing_cluster: Option<Option<usize>>,
    /// Mean; the proportion for binary outcomes.
    pub mean: f64,
    /// Standard deviation (n − 1); null for binary outcomes.
    pub sd: Option<f64>,
    pub ci_low: f64,
    pub ci_high: f64,
    /// "t" (mean ± t(n−1)·SE), "wilson" (binary) or "rmst (tau = …)".
    pub ci_method: String,
    /// True when disclosure control withheld this row's numbers (they are null).
    pub suppressed: bool,
    /// When the outcome takes at most two distinct values (0/1, or e.g. 0 and 40
    /// hours), the number of units of this arm at each of them: disclosure control
    /// then asks for `threshold` units at each value, whatever kind the outcome was
    /// declared (a mean of a 0/1 variable is a share). Not published.
    #[serde(skip)]
    pub value_counts: Option<(usize, usize)>,
}

/// A remark in both languages, attached to an outcome or to the whole evaluation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Note {
    pub outcome: Option<String>,
    pub subset: Option<String>,
    pub text: Text,
}

/// Outcome metadata, copied from the config for self-contained results.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeMeta {
    pub id: String,
    pub kind: OutcomeKind,
    pub label: Text,
    pub unit: Text,
    pub primary: bool,
    pub better: Better,
    /// Multiply estimates on the difference scale and means by this for display in
    /// `unit` (100 for binary outcomes shown in percentage points or percent).
    pub display_factor: f64,
}

/// Arm metadata.
#[derive(Debug, Clone, Serialize)]
pub struct ArmMeta {
    pub value: String,
    pub label: Text,
    pub control: bool,
    /// Rows (units) in the data in this arm; null when suppressed.
    pub n_rows: Option<usize>,
}

/// Subset (project) metadata.
#[derive(Debug, Clone, Serialize)]
pub struct SubsetMeta {
    pub value: String,
    pub label: Text,
}

/// Everything an evaluation produced.
#[derive(Debug, Clone, Serialize)]
pub struct PilotResults {
    /// "via-eval <version>".
    pub tool: String,
    pub slug: String,
    pub title: Text,
    pub description: Text,
    pub unit: Text,
    pub design: DesignKind,
    pub design_note: Option<Text>,
    pub data_file: String,
    /// Rows in the data file (for aggregated data, the aggregated rows); null when
    /// disclosure control withholds it (it would give a withheld arm size back).
    pub n_rows: Option<usize>,
    /// Units analysed (for aggregated data, the persons the counts describe); null
    /// when withheld, as `n_rows`.
    pub n_units: Option<usize>,
    /// True when the data say they are synthetic (`data_source` column).
    pub synthetic: bool,
    pub conf_level: f64,
    pub cluster: Option<String>,
    pub n_clusters: Option<usize>,
    pub covariates: Vec<String>,
    pub arms: Vec<ArmMeta>,
    pub subsets: Vec<SubsetMeta>,
    pub outcomes: Vec<OutcomeMeta>,
    pub arm_summaries: Vec<ArmSummaryRow>,
    pub estimates: Vec<EstimateRow>,
    pub tests: Vec<TestRow>,
    /// Time-to-event outcomes: per arm and subset, the Kaplan-Meier curve, survival at
    /// the reporting times and the median.
    pub survival: Vec<super::survival::SurvivalSummary>,
    pub notes: Vec<Note>,
    /// Why the headline estimators were chosen, in both languages.
    pub method: Text,
    /// How headline p-values were adjusted for multiple testing.
    pub multiplicity: crate::stats::multiplicity::Adjustment,
    /// Statistical disclosure control applied to these results.
    pub disclosure: super::disclosure::Disclosure,
    /// Pilots with projects: the random-effects pooling of each outcome's published
    /// per-project headline estimates ([`super::meta`]); empty without projects.
    pub meta: Vec<super::meta::ProjectMeta>,
    /// Per primary outcome and comparison, the finding in plain words that the report
    /// opens with ([`super::findings`]), made from the published numbers only.
    pub summary: Vec<super::findings::Finding>,
    /// Baseline balance of the covariates per comparison on the whole sample
    /// ([`super::balance`]); empty without covariates or with aggregated data.
    pub balance: Vec<super::balance::BaselineBalance>,
    /// Effects per level of the config's subgroups for the primary outcomes, and the
    /// interaction tests ([`super::subgroups`]); exploratory unless pre-registered.
    pub subgroups: super::subgroups::SubgroupResults,
    /// Participant flow per primary outcome and arm ([`super::flow`]).
    pub flow: Vec<super::flow::FlowRow>,
    /// Pilots with `[costs]`: the cost per extra person with the outcome
    /// ([`super::costs`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<super::costs::CostResults>,
    /// Panel designs with a time axis: per outcome the cohorts and the cohort means of
    /// the difference-in-differences ([`super::panel_design`]); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub panel_design: Vec<super::panel_design::PanelDesign>,
    /// Before/after designs with a time axis: per outcome the interrupted time series
    /// for the chart and its table ([`super::its_design`]); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub its_design: Vec<super::its_design::ItsDesign>,
}

impl PilotResults {
    /// Position of the summary of `arm` for `outcome` in `subset` (one per key).
    pub fn arm_summary_index(&self, outcome: &str, subset: &str, arm: &str) -> Option<usize> {
        self.arm_summaries
            .iter()
            .position(|s| s.outcome == outcome && s.subset == subset && s.arm == arm)
    }
    /// The summary of `arm` for `outcome` in `subset`.
    pub fn arm_summary(&self, outcome: &str, subset: &str, arm: &str) -> Option<&ArmSummaryRow> {
        self.arm_summary_index(outcome, subset, arm)
            .map(|i| &self.arm_summaries[i])
    }
    pub fn outcome(&self, id: &str) -> Option<&OutcomeMeta> {
        self.outcomes.iter().find(|o| o.id == id)
    }
    pub fn arm_label(&self, value: &str, lang: crate::config::Lang) -> String {
        self.arms
            .iter()
            .find(|a| a.value == value)
            .map(|a| a.label.get(lang).to_string())
            .unwrap_or_else(|| value.to_string())
    }
    pub fn subset_label(&self, value: &str, lang: crate::config::Lang) -> String {
        self.subsets
            .iter()
            .find(|s| s.value == value)
            .map(|s| s.label.get(lang).to_string())
            .unwrap_or_else(|| value.to_string())
    }
}
