//! A pilot's analysis plan: which estimator for which outcome and design, run over
//! every outcome, every subset (pooled and per project) and every arm against the
//! control.
//!
//! Conventions (stated in the report):
//! - complete cases per analysis: a unit without the outcome is left out of that
//!   outcome; a unit without a covariate is left out of the adjusted estimate only;
//! - continuous, count and ordinal outcomes: Welch's difference in means, and OLS of
//!   the outcome on the arm indicator and the covariates (plus project indicators in a
//!   pooled analysis of a pilot with projects) with HC2 standard errors, or CR2 with
//!   Bell-McCaffrey df when the design has clusters (then also the unadjusted
//!   cluster-robust difference);
//! - binary outcomes: the risk difference with Newcombe's hybrid score interval, the
//!   risk ratio and odds ratio, per-arm Wilson intervals, and the adjusted (and, when
//!   clustered, unadjusted) linear probability model as above;
//! - headline estimate per comparison: the covariate-adjusted regression when the
//!   config lists covariates, else the cluster-robust difference when clustered, else
//!   Welch (continuous) or Newcombe (binary).

pub mod results;

use std::collections::BTreeMap;

use crate::config::{DataLayout, DesignKind, Lang, OutcomeKind, OutcomeSource, PilotSpec, Text};
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::stats::binary::{self, Counts};
use crate::stats::ols::{self, Clusters, SeType};
use crate::stats::{StatsError, describe, twosample};
pub use results::*;

/// Analysis options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub conf_level: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self { conf_level: 0.95 }
    }
}

/// Row-level inputs shared by all outcomes, as plain vectors.
struct Units {
    /// Arm index (into spec.arms.values) per row.
    arm: Vec<usize>,
    /// Project value per row (when the design has projects).
    project: Option<Vec<String>>,
    /// Cluster label per row (when the design has clusters).
    cluster: Option<Vec<String>>,
    covariates: Vec<(String, Vec<Option<f64>>)>,
}

/// One outcome as analysable units: source row per unit and the value.
struct OutcomeUnits {
    rows: Vec<u32>,
    values: Vec<Option<f64>>,
}

fn text(nl: impl Into<String>, en: impl Into<String>) -> Text {
    Text {
        nl: nl.into(),
        en: en.into(),
    }
}

/// Run the pilot's analysis on loaded data.
pub fn run(spec: &PilotSpec, frame: &Frame, opts: &Options) -> Result<PilotResults> {
    if !(opts.conf_level > 0.0 && opts.conf_level < 1.0) {
        return Err(Error::usage(format!(
            "confidence level {} must be between 0 and 1 (e.g. 0.95)",
            opts.conf_level
        )));
    }
    let path = frame.path();
    let units = prepare_units(spec, frame)?;
    let mut notes = Vec::new();
    let subsets = subsets_of(spec, &units);
    let synthetic = frame.column_names().iter().any(|c| c == "data_source")
        && frame
            .strings("data_source")?
            .iter()
            .any(|v| v.as_deref() == Some("synthetic"));

    let mut arm_summaries = Vec::new();
    let mut estimates = Vec::new();
    let mut outcomes = Vec::new();
    let mut n_units = frame.height();
    for o in &spec.outcomes {
        let display_factor = if o.kind == OutcomeKind::Binary {
            100.0
        } else {
            1.0
        };
        outcomes.push(OutcomeMeta {
            id: o.id.clone(),
            kind: o.kind,
            label: o.label.clone(),
            unit: o.unit.clone(),
            primary: o.primary,
            better: o.better,
            display_factor,
        });
        if o.kind == OutcomeKind::TimeToEvent {
            notes.push(Note {
                outcome: Some(o.id.clone()),
                subset: None,
                text: text(
                    "Uitkomst met duur tot gebeurtenis: overlevingsanalyse (Kaplan-Meier, log-rank, Cox) volgt in een latere versie; hier niet geschat.",
                    "Time-to-event outcome: survival analysis (Kaplan-Meier, log-rank, Cox) follows in a later version; not estimated here.",
                ),
            });
            continue;
        }
        let ou = outcome_units(spec, frame, o)?;
        if spec.data.layout == DataLayout::Aggregated {
            n_units = n_units.max(ou.rows.len());
        }
        for (subset, in_subset) in &subsets {
            analyse_subset(
                spec,
                o,
                &units,
                &ou,
                subset,
                in_subset,
                opts.conf_level,
                &mut arm_summaries,
                &mut estimates,
                &mut notes,
            );
        }
    }
    if estimates.is_empty() {
        return Err(Error::data(
            path,
            "no comparison could be estimated; see the notes above (too few units per arm, or outcomes without variation)",
        ));
    }

    let n_clusters = units
        .cluster
        .as_ref()
        .map(|c| Clusters::from_labels(c).count());
    let arms = spec
        .arms
        .values
        .iter()
        .enumerate()
        .map(|(i, a)| ArmMeta {
            value: a.value.clone(),
            label: a.label.clone(),
            control: a.value == spec.arms.control,
            n_rows: units.arm.iter().filter(|&&x| x == i).count(),
        })
        .collect();
    let subset_meta = subsets
        .iter()
        .map(|(v, _)| SubsetMeta {
            value: v.clone(),
            label: if v == POOLED && subsets.len() == 1 {
                text("Alle eenheden", "All units")
            } else if v == POOLED {
                text("Alle projecten samen", "All projects pooled")
            } else {
                spec.projects
                    .iter()
                    .find(|p| &p.value == v)
                    .map(|p| p.label.clone())
                    .unwrap_or_else(|| text(v.clone(), v.clone()))
            },
        })
        .collect();
    Ok(PilotResults {
        tool: format!("via-eval {}", env!("CARGO_PKG_VERSION")),
        slug: spec.slug.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        unit: spec.unit.clone(),
        design: spec.design.kind,
        design_note: spec.design.note.clone(),
        data_file: spec.data.file.clone(),
        n_rows: frame.height(),
        n_units,
        synthetic,
        conf_level: opts.conf_level,
        cluster: spec.design.cluster.clone(),
        n_clusters,
        covariates: spec.covariates.clone(),
        arms,
        subsets: subset_meta,
        outcomes,
        arm_summaries,
        estimates,
        notes,
        method: method_text(spec),
    })
}

/// The subset id of the whole sample.
pub const POOLED: &str = "pooled";

fn subsets_of(spec: &PilotSpec, units: &Units) -> Vec<(String, Option<String>)> {
    let mut v = vec![(POOLED.to_string(), None)];
    if let Some(p) = &units.project {
        let mut seen: Vec<String> = spec.projects.iter().map(|p| p.value.clone()).collect();
        for x in p {
            if !seen.contains(x) {
                seen.push(x.clone());
            }
        }
        v.extend(seen.into_iter().map(|s| (s.clone(), Some(s))));
    }
    v
}

fn method_text(spec: &PilotSpec) -> Text {
    let adj = !spec.covariates.is_empty();
    let (nl_se, en_se) = if spec.design.cluster.is_some() {
        (
            format!(
                "clusterrobuuste standaardfouten (CR2) met Bell-McCaffrey-vrijheidsgraden, omdat eenheden binnen {} gegroepeerd zijn",
                spec.design.cluster.as_deref().unwrap_or("")
            ),
            format!(
                "cluster-robust standard errors (CR2) with Bell-McCaffrey degrees of freedom, because units are grouped within {}",
                spec.design.cluster.as_deref().unwrap_or("")
            ),
        )
    } else {
        (
            "heteroskedasticiteitsrobuuste standaardfouten (HC2)".to_string(),
            "heteroskedasticity-robust standard errors (HC2)".to_string(),
        )
    };
    let (nl_head, en_head) = if adj {
        (
            format!(
                "De hoofdschatting is een regressie op arm en covariaten ({}), met {nl_se}.",
                spec.covariates.join(", ")
            ),
            format!(
                "The headline estimate is a regression on arm and covariates ({}), with {en_se}.",
                spec.covariates.join(", ")
            ),
        )
    } else if spec.design.cluster.is_some() {
        (
            format!("De hoofdschatting is het verschil in gemiddelden met {nl_se}."),
            format!("The headline estimate is the difference in means with {en_se}."),
        )
    } else {
        (
            "De hoofdschatting is het verschil in gemiddelden (Welch) of in proporties (Newcombe-interval).".to_string(),
            "The headline estimate is the difference in means (Welch) or in proportions (Newcombe interval).".to_string(),
        )
    };
    let (nl_d, en_d) = match spec.design.kind {
        DesignKind::IndividuallyRandomised | DesignKind::ClusterRandomised => (
            "Door loting zijn verschillen tussen armen causaal te interpreteren.",
            "Because of randomisation, differences between arms can be read as causal effects.",
        ),
        DesignKind::MatchedComparison => (
            "Er is niet geloot: correctie voor covariaten verkleint selectie-effecten, maar neemt ze niet weg.",
            "There was no randomisation: adjusting for covariates reduces selection bias but cannot rule it out.",
        ),
        DesignKind::BeforeAfter => (
            "Voor/na-vergelijking zonder controlegroep: verschillen kunnen ook door de tijd komen.",
            "Before/after comparison without a control group: differences may also reflect changes over time.",
        ),
        DesignKind::Panel => (
            "Panelgegevens zonder loting: deelnemers en anderen kunnen al vooraf verschillen.",
            "Panel data without randomisation: participants and others may have differed beforehand.",
        ),
    };
    let (nl_c, en_c) = if spec.design.cluster.is_some() {
        (
            " Welch- en Newcombe-intervallen negeren de clustering en staan er alleen ter vergelijking.",
            " Welch and Newcombe intervals ignore the clustering and are shown for reference only.",
        )
    } else {
        ("", "")
    };
    text(
        format!("{nl_head} {nl_d}{nl_c}"),
        format!("{en_head} {en_d}{en_c}"),
    )
}

fn prepare_units(spec: &PilotSpec, frame: &Frame) -> Result<Units> {
    let path = frame.path();
    let raw_arm = frame.strings(&spec.arms.column)?;
    let mut arm = Vec::with_capacity(raw_arm.len());
    for (i, v) in raw_arm.iter().enumerate() {
        let v = v.as_deref().ok_or_else(|| {
            Error::data(
                path,
                format!(
                    "column \"{}\", data row {}: the arm is missing; every unit needs an arm",
                    spec.arms.column,
                    i + 1
                ),
            )
        })?;
        let idx = spec.arms.values.iter().position(|a| a.value == v).ok_or_else(|| {
            let allowed: Vec<&str> = spec.arms.values.iter().map(|a| a.value.as_str()).collect();
            Error::data(
                path,
                format!(
                    "column \"{}\", data row {}: unknown arm \"{v}\"; the config ({}) allows: {}. Fix the data or add the arm to `arms.values`",
                    spec.arms.column,
                    i + 1,
                    spec.path.display(),
                    allowed.join(", ")
                ),
            )
        })?;
        arm.push(idx);
    }
    let labels = |c: &Option<String>, what: &str| -> Result<Option<Vec<String>>> {
        let Some(c) = c else { return Ok(None) };
        let v = frame.strings(c)?;
        let mut out = Vec::with_capacity(v.len());
        for (i, x) in v.into_iter().enumerate() {
            out.push(x.ok_or_else(|| {
                Error::data(
                    path,
                    format!("column \"{c}\", data row {}: the {what} is missing", i + 1),
                )
            })?);
        }
        Ok(Some(out))
    };
    let project = labels(&spec.design.project, "project")?;
    if let (Some(p), false) = (&project, spec.projects.is_empty()) {
        let allowed: Vec<&str> = spec.projects.iter().map(|p| p.value.as_str()).collect();
        if let Some((i, v)) = p
            .iter()
            .enumerate()
            .find(|(_, v)| !allowed.contains(&v.as_str()))
        {
            return Err(Error::data(
                path,
                format!(
                    "column \"{}\", data row {}: unknown project \"{v}\"; the config allows: {}",
                    spec.design.project.as_deref().unwrap_or(""),
                    i + 1,
                    allowed.join(", ")
                ),
            ));
        }
    }
    let cluster = labels(&spec.design.cluster, "cluster")?;
    let mut covariates = Vec::new();
    for c in &spec.covariates {
        covariates.push((c.clone(), frame.numbers(c)?));
    }
    Ok(Units {
        arm,
        project,
        cluster,
        covariates,
    })
}

fn outcome_units(
    spec: &PilotSpec,
    frame: &Frame,
    o: &crate::config::OutcomeSpec,
) -> Result<OutcomeUnits> {
    let path = frame.path();
    match &o.source {
        OutcomeSource::Column(c) => {
            let values = frame.numbers(c)?;
            if o.kind == OutcomeKind::Binary
                && let Some((i, v)) = values
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| v.filter(|x| *x != 0.0 && *x != 1.0).map(|x| (i, x)))
            {
                return Err(Error::data(
                    path,
                    format!(
                        "column \"{c}\", data row {}: value {v} in binary outcome \"{}\"; binary outcomes take 0 or 1 (or missing)",
                        i + 1,
                        o.id
                    ),
                ));
            }
            Ok(OutcomeUnits {
                rows: (0..values.len() as u32).collect(),
                values,
            })
        }
        OutcomeSource::Counts { events, trials } => {
            let ev = frame.numbers(events)?;
            let tr = frame.numbers(trials)?;
            let mut rows = Vec::new();
            let mut values = Vec::new();
            for (i, (e, t)) in ev.iter().zip(&tr).enumerate() {
                let (Some(e), Some(t)) = (e, t) else {
                    continue;
                };
                let ok = |x: f64| x >= 0.0 && x.fract() == 0.0;
                if !ok(*e) || !ok(*t) || e > t {
                    return Err(Error::data(
                        path,
                        format!(
                            "columns \"{events}\"/\"{trials}\", data row {}: {e} events out of {t}; counts must be whole numbers with events ≤ trials",
                            i + 1
                        ),
                    ));
                }
                let (e, t) = (*e as usize, *t as usize);
                rows.extend(std::iter::repeat_n(i as u32, t));
                values.extend(std::iter::repeat_n(Some(1.0), e));
                values.extend(std::iter::repeat_n(Some(0.0), t - e));
            }
            let _ = spec;
            Ok(OutcomeUnits { rows, values })
        }
        OutcomeSource::TimeEvent { .. } => Err(Error::analysis(format!(
            "outcome \"{}\" is time-to-event and is not analysed here",
            o.id
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
fn analyse_subset(
    spec: &PilotSpec,
    o: &crate::config::OutcomeSpec,
    units: &Units,
    ou: &OutcomeUnits,
    subset: &str,
    in_subset: &Option<String>,
    conf: f64,
    arm_summaries: &mut Vec<ArmSummaryRow>,
    estimates: &mut Vec<EstimateRow>,
    notes: &mut Vec<Note>,
) {
    let binary = o.kind == OutcomeKind::Binary;
    let keep = |r: u32| match (in_subset, &units.project) {
        (Some(p), Some(pr)) => &pr[r as usize] == p,
        _ => true,
    };
    // Values per arm (observed) and missing counts.
    let n_arms = spec.arms.values.len();
    let mut by_arm: Vec<Vec<f64>> = vec![Vec::new(); n_arms];
    let mut missing = vec![0usize; n_arms];
    for (u, &r) in ou.rows.iter().enumerate() {
        if !keep(r) {
            continue;
        }
        let a = units.arm[r as usize];
        match ou.values[u] {
            Some(v) => by_arm[a].push(v),
            None => missing[a] += 1,
        }
    }
    let mut note = |en: String, nl: String| {
        notes.push(Note {
            outcome: Some(o.id.clone()),
            subset: Some(subset.to_string()),
            text: Text { nl, en },
        })
    };
    for (a, arm) in spec.arms.values.iter().enumerate() {
        let vals = &by_arm[a];
        if vals.is_empty() {
            continue;
        }
        let row = if binary {
            let events = vals.iter().filter(|&&v| v == 1.0).count() as u64;
            binary::wilson(
                Counts {
                    events,
                    trials: vals.len() as u64,
                },
                conf,
            )
            .map(|w| ArmSummaryRow {
                outcome: o.id.clone(),
                subset: subset.to_string(),
                arm: arm.value.clone(),
                n: vals.len(),
                n_missing: missing[a],
                mean: w.estimate,
                sd: None,
                ci_low: w.ci_low,
                ci_high: w.ci_high,
                ci_method: "wilson".into(),
            })
            .ok()
        } else {
            describe::mean_ci(vals, conf).ok().map(|s| ArmSummaryRow {
                outcome: o.id.clone(),
                subset: subset.to_string(),
                arm: arm.value.clone(),
                n: s.n,
                n_missing: missing[a],
                mean: s.mean,
                sd: Some(s.sd),
                ci_low: s.ci_low,
                ci_high: s.ci_high,
                ci_method: "t".into(),
            })
        };
        if let Some(r) = row {
            arm_summaries.push(r);
        }
    }

    let control_idx = spec
        .arms
        .values
        .iter()
        .position(|a| a.value == spec.arms.control)
        .expect("validated config has its control among the arms");
    let clustered = units.cluster.is_some();
    for (t_idx, t_arm) in spec.arms.values.iter().enumerate() {
        if t_idx == control_idx {
            continue;
        }
        let key = ComparisonKey {
            outcome: o.id.clone(),
            subset: subset.to_string(),
            treated: t_arm.value.clone(),
            control: spec.arms.control.clone(),
        };
        let (yt, yc) = (&by_arm[t_idx], &by_arm[control_idx]);
        if yt.len() < 2 || yc.len() < 2 {
            if !(yt.is_empty() && yc.is_empty()) {
                note(
                    format!(
                        "{} vs {}: not estimated, fewer than 2 units with an observed outcome in an arm ({} and {}).",
                        key.treated,
                        key.control,
                        yt.len(),
                        yc.len()
                    ),
                    format!(
                        "{} vs {}: niet geschat, minder dan 2 eenheden met een waargenomen uitkomst in een arm ({} en {}).",
                        key.treated,
                        key.control,
                        yt.len(),
                        yc.len()
                    ),
                );
            }
            continue;
        }
        let n = (yt.len(), yc.len());
        let first = estimates.len();
        if binary {
            let ct = Counts {
                events: yt.iter().filter(|&&v| v == 1.0).count() as u64,
                trials: yt.len() as u64,
            };
            let cc = Counts {
                events: yc.iter().filter(|&&v| v == 1.0).count() as u64,
                trials: yc.len() as u64,
            };
            if let Ok(inf) = binary::newcombe(ct, cc, conf) {
                estimates.push(EstimateRow::new(
                    &key,
                    "risk_difference_newcombe",
                    None,
                    None,
                    Scale::Difference,
                    inf,
                    conf,
                    n,
                ));
            }
            for (name, res) in [
                ("risk_ratio", binary::risk_ratio(ct, cc, conf)),
                ("odds_ratio", binary::odds_ratio(ct, cc, conf)),
            ] {
                match res {
                    Ok((inf, corrected)) => {
                        estimates.push(EstimateRow::new(
                            &key,
                            name,
                            None,
                            None,
                            Scale::Ratio,
                            inf,
                            conf,
                            n,
                        ));
                        if corrected {
                            note(
                                format!(
                                    "{}: {name} has a zero cell; 0.5 was added to each cell (Haldane-Anscombe).",
                                    key.treated
                                ),
                                format!(
                                    "{}: {name} heeft een lege cel; bij elke cel is 0,5 opgeteld (Haldane-Anscombe).",
                                    key.treated
                                ),
                            );
                        }
                    }
                    Err(e) => note(
                        format!("{}: {name} not estimable ({e}).", key.treated),
                        format!("{}: {name} niet te schatten ({e}).", key.treated),
                    ),
                }
            }
        } else {
            match twosample::welch(yt, yc, conf) {
                Ok(inf) => estimates.push(EstimateRow::new(
                    &key,
                    "welch",
                    None,
                    Some("Welch-Satterthwaite"),
                    Scale::Difference,
                    inf,
                    conf,
                    n,
                )),
                Err(e) => note(
                    format!(
                        "{} vs {}: difference in means not estimable ({e}).",
                        key.treated, key.control
                    ),
                    format!(
                        "{} vs {}: verschil in gemiddelden niet te schatten ({e}).",
                        key.treated, key.control
                    ),
                ),
            }
        }
        // Regressions: unadjusted cluster-robust, and adjusted.
        let se = if clustered { SeType::Cr2 } else { SeType::Hc2 };
        if clustered {
            match regression(
                spec,
                units,
                ou,
                &keep,
                t_idx,
                control_idx,
                &[],
                false,
                se,
                conf,
            ) {
                Ok(r) => estimates.push(r.into_row(&key, "ols", se, conf)),
                Err(e) => note(
                    format!(
                        "{}: cluster-robust difference not estimable ({e}).",
                        key.treated
                    ),
                    format!(
                        "{}: clusterrobuust verschil niet te schatten ({e}).",
                        key.treated
                    ),
                ),
            }
        }
        let with_projects = in_subset.is_none() && units.project.is_some();
        if !units.covariates.is_empty() || with_projects {
            match regression(
                spec,
                units,
                ou,
                &keep,
                t_idx,
                control_idx,
                &units.covariates,
                with_projects,
                se,
                conf,
            ) {
                Ok(r) => {
                    for d in &r.dropped {
                        note(
                            format!(
                                "{}: covariate \"{d}\" dropped from the adjusted estimate: constant or collinear in this subset.",
                                key.treated
                            ),
                            format!(
                                "{}: covariaat \"{d}\" weggelaten uit de gecorrigeerde schatting: constant of collineair in deze deelgroep.",
                                key.treated
                            ),
                        );
                    }
                    if r.n_dropped_missing > 0 {
                        note(
                            format!(
                                "{}: {} unit(s) with a missing covariate left out of the adjusted estimate.",
                                key.treated, r.n_dropped_missing
                            ),
                            format!(
                                "{}: {} eenhe(i)d(en) met een ontbrekende covariaat niet in de gecorrigeerde schatting.",
                                key.treated, r.n_dropped_missing
                            ),
                        );
                    }
                    estimates.push(r.into_row(&key, "ols_adjusted", se, conf));
                }
                Err(e) => note(
                    format!("{}: adjusted estimate not estimable ({e}).", key.treated),
                    format!(
                        "{}: gecorrigeerde schatting niet te schatten ({e}).",
                        key.treated
                    ),
                ),
            }
        }
        // Headline: adjusted, else cluster-robust unadjusted, else the design-free one.
        let rows = &mut estimates[first..];
        let pick = [
            "ols_adjusted",
            "ols",
            if binary {
                "risk_difference_newcombe"
            } else {
                "welch"
            },
        ]
        .iter()
        .find_map(|name| rows.iter().position(|r| r.estimator == *name));
        if let Some(i) = pick {
            rows[i].headline = true;
        }
    }
}

struct RegResult {
    inf: crate::stats::Inference,
    n: (usize, usize),
    n_clusters: Option<usize>,
    covariates: Vec<String>,
    dropped: Vec<String>,
    n_dropped_missing: usize,
}

impl RegResult {
    fn into_row(self, key: &ComparisonKey, estimator: &str, se: SeType, conf: f64) -> EstimateRow {
        let mut row = EstimateRow::new(
            key,
            estimator,
            Some(se.name()),
            Some(se.df_rule()),
            Scale::Difference,
            self.inf,
            conf,
            self.n,
        );
        row.n_clusters = self.n_clusters;
        row.covariates = self.covariates;
        row
    }
}

/// OLS of the outcome on the treated-arm indicator (and covariates, and project
/// indicators), for units in the two arms with observed outcome and covariates.
/// Constant or collinear covariates are dropped one at a time and reported.
#[allow(clippy::too_many_arguments)]
fn regression(
    spec: &PilotSpec,
    units: &Units,
    ou: &OutcomeUnits,
    keep: &dyn Fn(u32) -> bool,
    t_idx: usize,
    c_idx: usize,
    covariates: &[(String, Vec<Option<f64>>)],
    with_projects: bool,
    se: SeType,
    conf: f64,
) -> std::result::Result<RegResult, StatsError> {
    let _ = spec;
    let mut y = Vec::new();
    let mut t = Vec::new();
    let mut rows = Vec::new();
    let mut n_dropped_missing = 0;
    for (u, &r) in ou.rows.iter().enumerate() {
        let a = units.arm[r as usize];
        if (a != t_idx && a != c_idx) || !keep(r) {
            continue;
        }
        let Some(v) = ou.values[u] else { continue };
        if covariates.iter().any(|(_, c)| c[r as usize].is_none()) {
            n_dropped_missing += 1;
            continue;
        }
        y.push(v);
        t.push(if a == t_idx { 1.0 } else { 0.0 });
        rows.push(r as usize);
    }
    let mut cols: Vec<(String, Vec<f64>)> = covariates
        .iter()
        .map(|(name, c)| {
            (
                name.clone(),
                rows.iter().map(|&r| c[r].unwrap_or(f64::NAN)).collect(),
            )
        })
        .collect();
    if with_projects && let Some(p) = &units.project {
        let mut levels: BTreeMap<&str, ()> = BTreeMap::new();
        for &r in &rows {
            levels.insert(&p[r], ());
        }
        for lvl in levels.keys().skip(1) {
            cols.push((
                format!("project={lvl}"),
                rows.iter()
                    .map(|&r| if p[r] == *lvl { 1.0 } else { 0.0 })
                    .collect(),
            ));
        }
    }
    let clusters = units
        .cluster
        .as_ref()
        .map(|c| Clusters::from_labels(&rows.iter().map(|&r| c[r].as_str()).collect::<Vec<_>>()));
    let mut dropped = Vec::new();
    loop {
        let mut x: Vec<&[f64]> = vec![&t];
        x.extend(cols.iter().map(|(_, c)| c.as_slice()));
        match ols::fit(&y, &x, true) {
            Ok(fit) => {
                let ci = fit.coef_inference(1, se, clusters.as_ref(), conf)?;
                let n1 = t.iter().filter(|&&v| v == 1.0).count();
                return Ok(RegResult {
                    inf: ci.inference,
                    n: (n1, t.len() - n1),
                    n_clusters: clusters.as_ref().map(|c| c.count()),
                    covariates: cols.iter().map(|(n, _)| n.clone()).collect(),
                    dropped,
                    n_dropped_missing,
                });
            }
            // Index 0 is the intercept, 1 the arm indicator, 2.. the covariates.
            Err(StatsError::Collinear { index }) if index >= 2 => {
                dropped.push(cols.remove(index - 2).0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Labels for display: "Participants vs Comparison group".
pub fn comparison_label(results: &PilotResults, row: &EstimateRow, lang: Lang) -> String {
    let vs = match lang {
        Lang::Nl => "vs",
        Lang::En => "vs",
    };
    format!(
        "{} {vs} {}",
        results.arm_label(&row.treated, lang),
        results.arm_label(&row.control, lang)
    )
}
