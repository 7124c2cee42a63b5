//! Effects per subgroup (the config's `[[subgroups]]`: sex, migration background, age
//! band) for the primary outcomes, and the test whether the effect differs between the
//! subgroups.
//!
//! - The effect in one level is the headline estimator of the whole analysis run on the
//!   units of that level only ([`super::estimate::estimate`] without resampling): the
//!   same regression, covariates and standard errors, so a subgroup row reads like the
//!   main row. A covariate that is the subgroup column itself is constant within a
//!   level and drops out as collinear.
//! - The interaction test is the joint Wald F test of the treatment × level products
//!   in one regression on all units with a level ([`crate::stats::wald::interaction_test`],
//!   HC2, covariates as in the config, not the project indicators). It is not computed
//!   for clustered designs (a joint cluster-robust test with few clusters is not
//!   reliable); a note says so.
//!
//! Subgroup results are exploratory unless the subgroups were pre-registered; the report
//! says so. Disclosure control: a level with fewer than the threshold's persons in an arm
//! (for a yes/no outcome: with or without the outcome) is withheld, and then the group
//! sizes of every level of that subgroup too, as they would give the withheld one back
//! by subtraction from the published totals.

use std::borrow::Cow;

use serde::Serialize;

use super::estimate::{self, Pair};
use super::input::{AnalysisInput, NO_LABEL, OutcomeData, SubgroupLevels, Units};
use super::{ComparisonKey, EstimateRow, Note, Options, POOLED};
use crate::config::{DesignKind, OutcomeKind, OutcomeSpec, PilotSpec, Text};
use crate::stats::ols::SeType;
use crate::stats::wald::interaction_test;

/// One subgroup level's headline estimate.
#[derive(Debug, Clone, Serialize)]
pub struct SubgroupEstimate {
    /// The subgroup's column.
    pub subgroup: String,
    /// The level's value as in the data ("1", "2.5").
    pub level: String,
    #[serde(flatten)]
    pub estimate: EstimateRow,
}

/// The test whether the effect differs between a subgroup's levels.
#[derive(Debug, Clone, Serialize)]
pub struct InteractionTest {
    pub outcome: String,
    pub comparison: String,
    pub treated: String,
    pub control: String,
    pub subgroup: String,
    /// "interaction_wald": the joint Wald F test of the treatment × level products.
    pub test: String,
    pub se_type: String,
    pub statistic: f64,
    pub df1: f64,
    pub df2: Option<f64>,
    pub p_value: f64,
}

/// Everything the subgroup analysis produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SubgroupResults {
    /// The subgroups as the config declares them: column, label, level labels.
    pub groups: Vec<crate::config::Subgroup>,
    pub estimates: Vec<SubgroupEstimate>,
    pub interactions: Vec<InteractionTest>,
}

/// A level's value as text: without decimals when it is a whole number.
fn level_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// The subgroup effects and interaction tests of every primary outcome with values
/// (time-to-event outcomes and outcomes read off a censored time are left out, with a
/// note), with disclosure control at `threshold` persons (None: off).
pub(crate) fn analyse(
    spec: &PilotSpec,
    input: &AnalysisInput,
    opts: &Options,
    threshold: Option<usize>,
) -> (SubgroupResults, Vec<Note>) {
    let (units, outcomes) = (&input.units, &input.outcomes);
    let mut out = SubgroupResults {
        groups: spec.subgroups.clone(),
        ..Default::default()
    };
    let mut notes = Vec::new();
    if units.subgroups.is_empty() {
        return (out, notes);
    }
    // No resampling per level: the subgroup rows carry the analytic inference.
    let opts = Options {
        bootstrap: None,
        permutations: None,
        progress: None,
        ..opts.clone()
    };
    let control = spec.arms.control_index();
    for (o, data) in spec.outcomes.iter().zip(outcomes) {
        if !o.primary {
            continue;
        }
        let OutcomeData::Values(ou) = data else {
            notes.push(note(
                o,
                "voor een uitkomst met een tijd tot een gebeurtenis",
                "for a time-to-event outcome",
            ));
            continue;
        };
        // An outcome read off a censored time: without a lottery the headline is the
        // regression weighted by inverse probability of censoring, and so is each
        // level's (the weights are made per arm and project, as for the whole sample);
        // with a lottery it is a Kaplan-Meier difference, not estimated per subgroup.
        let ipcw = match &o.from_time {
            None => None,
            Some(_) if spec.design.kind.is_randomised() => {
                notes.push(note(
                    o,
                    "voor een uitkomst die uit een gecensureerde tijd is afgeleid (Kaplan-Meier)",
                    "for an outcome read off a censored time (Kaplan-Meier)",
                ));
                continue;
            }
            Some(ft) => match super::time_source(spec, input, ft) {
                Some((_, te, ft)) => Some(super::from_time::censoring_weights(
                    units,
                    te,
                    ft,
                    spec.arms.values.len(),
                )),
                None => continue,
            },
        };
        // (row, value) of every unit with an observed outcome (and, with censoring
        // weights, a weight: a unit censored before the horizon has none).
        let weighed = |r: usize| ipcw.as_ref().is_none_or(|w| w[r].is_finite() && w[r] > 0.0);
        let observed: Vec<(usize, f64)> = (0..ou.len())
            .filter_map(|u| ou.values.get(u).map(|v| (ou.row(u), v)))
            .filter(|&(r, _)| weighed(r))
            .collect();
        for t in (0..spec.arms.values.len()).filter(|&t| t != control) {
            for g in &units.subgroups {
                let c = Comparison {
                    spec,
                    units,
                    o,
                    observed: &observed,
                    ipcw: ipcw.as_deref(),
                    t,
                    control,
                    opts: &opts,
                };
                c.levels(g, threshold, &mut out.estimates);
                match c.interaction(g) {
                    Ok(test) => out.interactions.push(test),
                    Err(why) => notes.push(Note {
                        outcome: Some(o.id.clone()),
                        subset: None,
                        text: why,
                    }),
                }
            }
        }
    }
    (out, notes)
}

fn note(o: &OutcomeSpec, nl: &str, en: &str) -> Note {
    Note {
        outcome: Some(o.id.clone()),
        subset: None,
        text: Text::new(
            format!("Geen effecten per subgroep {nl}."),
            format!("No subgroup effects {en}."),
        ),
    }
}

/// One comparison of one outcome, for the subgroups.
struct Comparison<'a> {
    spec: &'a PilotSpec,
    units: &'a Units,
    o: &'a OutcomeSpec,
    observed: &'a [(usize, f64)],
    /// Censoring weights per source row, for an outcome read off a censored time.
    ipcw: Option<&'a [f64]>,
    t: usize,
    control: usize,
    opts: &'a Options,
}

impl Comparison<'_> {
    fn key(&self) -> ComparisonKey {
        ComparisonKey {
            outcome: self.o.id.clone(),
            subset: POOLED.to_string(),
            treated: self.spec.arms.values[self.t].value.clone(),
            control: self.spec.arms.control.clone(),
        }
    }

    /// The units of the comparison in level `level` of `g`: rows, outcomes, arms.
    fn units_in(
        &self,
        g: &SubgroupLevels,
        level: Option<u32>,
    ) -> (Vec<usize>, Vec<f64>, Vec<bool>) {
        let (mut rows, mut y, mut treated) = (Vec::new(), Vec::new(), Vec::new());
        for &(r, v) in self.observed {
            let a = self.units.arm_of(r);
            let code = g.codes[r];
            if (a != self.t && a != self.control) || code == NO_LABEL {
                continue;
            }
            if level.is_some_and(|l| l != code) {
                continue;
            }
            rows.push(r);
            y.push(v);
            treated.push(a == self.t);
        }
        (rows, y, treated)
    }

    /// The headline estimate in every level of `g`, withheld where disclosure control
    /// asks, pushed onto `out`.
    fn levels(
        &self,
        g: &SubgroupLevels,
        threshold: Option<usize>,
        out: &mut Vec<SubgroupEstimate>,
    ) {
        let binary = self.o.kind == OutcomeKind::Binary;
        let start = out.len();
        let mut any_withheld = false;
        for (l, &value) in g.values.iter().enumerate() {
            let (rows, y, treated) = self.units_in(g, Some(l as u32));
            // Per arm: units, and units with the outcome (yes/no outcomes).
            let count = |arm: bool| {
                let n = treated.iter().filter(|&&x| x == arm).count();
                let yes = y
                    .iter()
                    .zip(&treated)
                    .filter(|&(&v, &x)| x == arm && v != 0.0)
                    .count();
                (n, yes)
            };
            let ((nt, yt), (nc, yc)) = (count(true), count(false));
            let small = |n: usize, yes: usize| {
                threshold.is_some_and(|k| n < k || (binary && (yes < k || n - yes < k)))
            };
            let withheld = small(nt, yt) || small(nc, yc);
            let row = if withheld || nt < 2 || nc < 2 {
                None
            } else {
                let weights = self.ipcw.map(|w| rows.iter().map(|&r| w[r]).collect());
                let pair = Pair {
                    key: self.key(),
                    binary,
                    with_projects: self.units.project.is_some(),
                    units: self.units,
                    rows: Some(rows),
                    y: Cow::Owned(y),
                    treated,
                    weights,
                    att_base: None,
                };
                estimate::estimate(&pair, self.spec.design.kind, self.opts)
                    .estimates
                    .into_iter()
                    .find(|e| e.headline)
            };
            let estimate = match row {
                Some(mut e) => {
                    e.mde = None;
                    e.p_value_adjusted = None;
                    e.adjustment = None;
                    e
                }
                None => {
                    any_withheld |= withheld;
                    withheld_row(&self.key(), withheld, self.opts.conf_level)
                }
            };
            out.push(SubgroupEstimate {
                subgroup: g.column.clone(),
                level: level_text(value),
                estimate,
            });
        }
        // Units of the comparison without a subgroup value: the published whole-sample
        // sizes minus the levels' sizes would count them, so 1 to k − 1 of them in an
        // arm withholds the levels' sizes too.
        let unlabelled = |arm: usize| {
            self.observed
                .iter()
                .filter(|&&(r, _)| self.units.arm_of(r) == arm && g.codes[r] == NO_LABEL)
                .count()
        };
        let few = |n: usize| threshold.is_some_and(|k| n > 0 && n < k);
        any_withheld |= few(unlabelled(self.t)) || few(unlabelled(self.control));
        if any_withheld && threshold.is_some() {
            for s in &mut out[start..] {
                s.estimate.n_treated = None;
                s.estimate.n_control = None;
                s.estimate.df = s.estimate.df.map(|_| f64::NAN);
            }
        }
    }

    /// The interaction test of `g`, or why it was not computed.
    fn interaction(&self, g: &SubgroupLevels) -> Result<InteractionTest, Text> {
        let why = |nl: String, en: String| Text::new(nl, en);
        if self.units.cluster.is_some() || self.spec.design.kind == DesignKind::ClusterRandomised {
            return Err(why(
                format!(
                    "Subgroep \"{}\": geen interactietoets bij een geclusterde opzet (een gezamenlijke clusterrobuuste toets is met weinig clusters niet betrouwbaar); vergelijk de intervallen per subgroep met voorzichtigheid.",
                    g.column
                ),
                format!(
                    "Subgroup \"{}\": no interaction test in a clustered design (a joint cluster-robust test is not reliable with few clusters); compare the intervals per subgroup with caution.",
                    g.column
                ),
            ));
        }
        let (rows, y, treated) = self.units_in(g, None);
        // Complete cases on the covariates other than the subgroup column itself.
        let covs: Vec<&crate::data::Numbers> = self
            .units
            .covariates
            .iter()
            .filter(|(name, _)| name != &g.column)
            .map(|(_, v)| v)
            .collect();
        let keep: Vec<usize> = (0..rows.len())
            .filter(|&i| covs.iter().all(|c| c.get(rows[i]).is_some()))
            .collect();
        let y: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
        let tr: Vec<bool> = keep.iter().map(|&i| treated[i]).collect();
        let level: Vec<u32> = keep.iter().map(|&i| g.codes[rows[i]]).collect();
        let x: Vec<Vec<f64>> = covs
            .iter()
            .map(|c| {
                keep.iter()
                    .map(|&i| c.get(rows[i]).unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let x: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        let w: Option<Vec<f64>> = self
            .ipcw
            .map(|w| keep.iter().map(|&i| w[rows[i]]).collect());
        let se = SeType::Hc2;
        match interaction_test(&y, &tr, &level, &x, w.as_deref(), se) {
            Ok(w) => Ok(InteractionTest {
                outcome: self.o.id.clone(),
                comparison: format!(
                    "{} vs {}",
                    self.spec.arms.values[self.t].value, self.spec.arms.control
                ),
                treated: self.spec.arms.values[self.t].value.clone(),
                control: self.spec.arms.control.clone(),
                subgroup: g.column.clone(),
                test: "interaction_wald".into(),
                se_type: se.name().into(),
                statistic: w.statistic,
                df1: w.df1,
                df2: w.df2,
                p_value: w.p_value,
            }),
            Err(e) => Err(why(
                format!(
                    "Subgroep \"{}\": interactietoets niet te berekenen ({e}).",
                    g.column
                ),
                format!(
                    "Subgroup \"{}\": interaction test not computable ({e}).",
                    g.column
                ),
            )),
        }
    }
}

/// A level's row when disclosure control withholds it (`withheld`) or it cannot be
/// estimated (fewer than 2 units in an arm, estimator `not_estimated`): every number
/// null.
fn withheld_row(key: &ComparisonKey, withheld: bool, conf_level: f64) -> EstimateRow {
    let mut e = EstimateRow::new(
        key,
        if withheld {
            "withheld"
        } else {
            "not_estimated"
        },
        None,
        None,
        super::Scale::Difference,
        crate::stats::Inference::wald(0.0, 1.0, None, conf_level),
        conf_level,
        (0, 0),
    );
    e.withhold_numbers();
    e.suppressed = withheld;
    e
}
