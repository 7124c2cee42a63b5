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

mod adjusted_cox;
pub mod balance;
pub mod costs;
pub mod did;
pub mod disclosure;
pub mod estimate;
pub mod findings;
pub mod flow;
mod from_time;
pub mod input;
pub mod its_design;
pub mod meta;
pub mod panel_design;
pub mod plan;
pub mod results;
pub mod sensitivity;
pub mod subgroups;
pub mod survival;
mod weighting;

use crate::config::{DesignKind, Lang, OutcomeKind, OutcomeSpec, PilotSpec, Text};
use crate::error::{Error, Result};
use crate::stats::binary::{self, Counts};
use crate::stats::describe;
use crate::stats::multiplicity::{self, Adjustment};
use crate::stats::ols::SeType;
pub use disclosure::{Privacy, Threshold};
pub use estimate::Estimator;
pub use input::AnalysisInput;
pub(crate) use input::{Labels, OutcomeData, OutcomeUnits, Units};
pub use results::*;
use std::borrow::Cow;

/// A progress callback for long resampling runs: called with the number of draws
/// just completed (from worker threads). The CLI drives a progress bar with it.
pub type ProgressFn = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// Analysis options (the design itself comes from the spec).
#[derive(Clone)]
pub struct Options {
    pub conf_level: f64,
    /// The estimator that leads; `None` follows the design.
    pub estimator: Option<Estimator>,
    /// Standard-error type of the regressions; `None`: HC2, or CR2 with clusters.
    pub se: Option<SeType>,
    /// Bootstrap draws for percentile and BCa intervals (none when `None`).
    pub bootstrap: Option<u64>,
    /// Re-randomisations for randomisation-inference p-values (none when `None`).
    pub permutations: Option<u64>,
    /// Draws of the wild cluster bootstrap added with few clusters.
    pub wild_reps: u64,
    /// Seed of every resampling method.
    pub seed: u64,
    /// Progress of bootstrap and randomisation draws (none by default).
    pub progress: Option<ProgressFn>,
    /// Nearest-neighbour matching (`--estimator matching`): ratio, replacement, caliper.
    pub matching: crate::stats::weighting::MatchingSpec,
}

/// The default seed of resampling methods.
pub const DEFAULT_SEED: u64 = 20190101;

impl Default for Options {
    fn default() -> Self {
        Self {
            conf_level: 0.95,
            estimator: None,
            se: None,
            bootstrap: None,
            permutations: None,
            wild_reps: estimate::WILD_REPS,
            seed: DEFAULT_SEED,
            progress: None,
            matching: Default::default(),
        }
    }
}

/// Analyse a pilot's prepared data ([`crate::prepare`]) and protect its results: `privacy` is required, so no caller gets
/// results without disclosure control unless it asked for that by name
/// ([`Privacy::Off`], which stamps every output).
pub fn run(
    spec: &PilotSpec,
    input: &AnalysisInput,
    opts: &Options,
    privacy: Privacy,
) -> Result<PilotResults> {
    // A config's weighting headline (`design.headline`) leads unless the caller chose.
    let headline_opts;
    let opts = match (opts.estimator, spec.design.headline) {
        (None, Some(h)) => {
            headline_opts = Options {
                estimator: Some(Estimator::from(h)),
                ..opts.clone()
            };
            &headline_opts
        }
        _ => opts,
    };
    // The baseline balance needs only the units: it runs beside the estimates, on
    // the cores they leave idle (reading the arms, fitting on one core).
    let person = spec.data.layout == crate::config::DataLayout::Person;
    let (analysed, balance) = rayon::join(
        || analyse(spec, input, opts, privacy),
        || {
            person.then(|| {
                let arms: Vec<String> = spec.arms.values.iter().map(|a| a.value.clone()).collect();
                let _p = crate::timings::phase("balance");
                balance::balance(
                    &input.units,
                    &arms,
                    spec.arms.control_index(),
                    privacy.threshold(),
                )
            })
        },
    );
    let mut r = analysed?;
    let before = r.arm_summaries.clone();
    disclosure::protect(&mut r, privacy);
    // Panel designs with a time axis: the difference-in-differences leads.
    if let Some(panels) = &input.panels {
        panel_design::apply(&mut r, spec, panels, opts, privacy)?;
    }
    // Before/after designs with a time axis: the interrupted time series leads.
    if let Some(series) = &input.its {
        its_design::apply(&mut r, spec, series, opts, privacy)?;
    }
    // Notes that quote arm summaries quote only what was published.
    r.notes
        .extend(attrition_warnings(spec, &before, &r.arm_summaries));
    // Pooled from the published project estimates only.
    r.meta = meta::pool_projects(&r);
    if let Some(balance) = balance {
        r.balance = balance;
    }
    let (subgroups, notes) = crate::timings::time("subgroups", || {
        subgroups::analyse(spec, input, opts, privacy.threshold())
    });
    r.subgroups = subgroups;
    r.notes.extend(notes);
    // Rows of aggregated data are groups, not persons: no flow of persons to draw.
    if spec.data.layout == crate::config::DataLayout::Person {
        let started = input
            .units
            .started
            .as_ref()
            .map(|s| flow::StartedCount::per_arm(&input.units.arm, s, spec.arms.values.len()));
        r.flow = flow::flow(&r, started.as_deref());
    }
    let (costs, notes) = costs::costs(spec, input, &r, opts.seed, privacy.threshold());
    r.costs = costs;
    r.notes.extend(notes);
    // Without a lottery: how strong an unmeasured confounder would have to be.
    if !spec.design.kind.is_randomised() {
        sensitivity::add_e_values(&mut r);
    }
    // The plain-language findings quote only what was published.
    r.summary = findings::summarise(&r);
    Ok(r)
}

/// What every outcome's analysis reads: the spec, the units and the options, and how
/// many units a default time horizon needs at risk.
struct Plan<'a> {
    spec: &'a PilotSpec,
    units: &'a Units,
    opts: &'a Options,
    min_at_risk: usize,
}

/// The rows the analysis collects over outcomes and subsets, in order.
#[derive(Default)]
struct Collected {
    arm_summaries: Vec<ArmSummaryRow>,
    estimates: Vec<EstimateRow>,
    tests: Vec<TestRow>,
    survival: Vec<survival::SurvivalSummary>,
    notes: Vec<Note>,
}

/// Refuse a confidence level outside (0, 1) and prepared data of another spec.
fn check_input(spec: &PilotSpec, input: &AnalysisInput, opts: &Options) -> Result<()> {
    if !(opts.conf_level > 0.0 && opts.conf_level < 1.0) {
        return Err(Error::usage(format!(
            "confidence level {} must be between 0 and 1 (e.g. 0.95)",
            opts.conf_level
        )));
    }
    if input.outcomes.len() != spec.outcomes.len() {
        return Err(Error::analysis(format!(
            "the prepared data hold {} outcomes but the spec lists {}; prepare the data with this spec",
            input.outcomes.len(),
            spec.outcomes.len()
        )));
    }
    Ok(())
}

/// An outcome's description in the results.
fn outcome_meta(o: &OutcomeSpec) -> OutcomeMeta {
    let display_factor = if o.kind == OutcomeKind::Binary {
        100.0
    } else {
        1.0
    };
    OutcomeMeta {
        id: o.id.clone(),
        kind: o.kind,
        label: o.label.clone(),
        unit: o.unit.clone(),
        primary: o.primary,
        better: o.better,
        display_factor,
    }
}

/// The time-to-event outcome a `from_time` outcome is read off: its spec, its data and
/// how the value is read. Validation makes sure it exists.
type TimeSource<'a> = (
    &'a OutcomeSpec,
    &'a survival::TimeEvent,
    &'a crate::config::FromTime,
);

fn time_source<'a>(
    spec: &'a PilotSpec,
    input: &'a AnalysisInput,
    ft: &'a crate::config::FromTime,
) -> Option<TimeSource<'a>> {
    spec.outcomes
        .iter()
        .zip(&input.outcomes)
        .find_map(|(t, data)| match data {
            OutcomeData::TimeToEvent { te, .. } if t.id == ft.outcome => Some((t, te, ft)),
            _ => None,
        })
}

/// Fewest missing values of an outcome for [`missing_where_censored`] to judge.
const CENSORED_LIKE_MIN: usize = 10;

/// A note when an outcome not declared `from_time` is missing almost only (90% or
/// more of at least [`CENSORED_LIKE_MIN`] missing values) where a time-to-event
/// outcome is censored: it is then probably read off that time (days on benefit up to
/// a horizon), and its complete cases leave out the long spells more often. Declaring
/// `from_time` makes the analysis censoring-aware.
fn missing_where_censored(
    spec: &PilotSpec,
    input: &AnalysisInput,
    o: &OutcomeSpec,
    ou: &OutcomeUnits,
) -> Option<Note> {
    if ou.rows.is_some() {
        return None;
    }
    let missing: Vec<usize> = (0..ou.len())
        .filter(|&u| ou.values.get(u).is_none())
        .collect();
    if missing.len() < CENSORED_LIKE_MIN {
        return None;
    }
    let (t, _) = spec
        .outcomes
        .iter()
        .zip(&input.outcomes)
        .find(|(_, data)| {
            let OutcomeData::TimeToEvent { te, .. } = data else {
                return false;
            };
            let mut censored = vec![false; input.n_rows];
            for (r, &e) in te.rows().zip(&te.event) {
                censored[r] = !e;
            }
            let hit = missing.iter().filter(|&&u| censored[ou.row(u)]).count();
            hit as f64 >= 0.9 * missing.len() as f64
        })?;
    let (id, tid) = (&o.id, &t.id);
    Some(Note {
        outcome: Some(id.clone()),
        subset: None,
        text: Text {
            en: format!(
                "{id} is missing almost only where \"{tid}\" is censored. If it is read off that time (e.g. days on benefit up to a horizon), declare `from_time = {{ outcome = \"{tid}\", by = ... }}` in the config: as declared it is analysed on its complete cases, which leave out long spells more often."
            ),
            nl: format!(
                "{id} ontbreekt bijna alleen waar \"{tid}\" gecensureerd is. Volgt de waarde uit die tijd (bijvoorbeeld uitkeringsdagen tot een horizon), geef dan `from_time = {{ outcome = \"{tid}\", by = ... }}` op in de config: zoals nu opgegeven wordt ze op de complete gevallen geanalyseerd, die lange duren vaker weglaten."
            ),
        },
    })
}

/// A `from_time` outcome in one subset: the arms are described from its own values
/// (complete cases, as read), and its effects come from the time it is read off
/// ([`from_time`]), never from the complete cases: with a lottery the Kaplan-Meier
/// estimate is the headline; without one (`ipcw`: the censoring weights, made once
/// per outcome) the covariate-adjusted regression weighted for censoring is, since the
/// unadjusted Kaplan-Meier estimate would carry the differences between the groups.
fn analyse_from_time(
    plan: &Plan,
    s: &OutcomeSubset,
    src: TimeSource,
    ipcw: Option<&[f64]>,
    rows: &mut Collected,
) {
    let (t, te, ft) = src;
    let randomised = ipcw.is_none();
    let counts = summarise_subset(plan, s, rows);
    if let Some(w) = ipcw {
        let weighted = OutcomeSubset {
            ipcw: Some(w),
            ..*s
        };
        compare_arms(plan, &weighted, &counts, rows);
    }
    let scope = survival::Scope {
        spec: plan.spec,
        o: t,
        units: plan.units,
        te,
        subset: s.subset,
        in_subset: s.in_subset,
        conf: plan.opts.conf_level,
    };
    let mut res = from_time::analyse(&scope, s.o, ft);
    for r in &mut res.estimates {
        r.headline = randomised;
    }
    rows.estimates.extend(res.estimates);
    let (scaled, scaled_nl) = if ft.per_time_unit == 1.0 {
        (String::new(), String::new())
    } else {
        let x = format!(" x {}", ft.per_time_unit);
        let nl = crate::numfmt::localise(&x, crate::config::Lang::Nl);
        (x, nl)
    };
    let (what_en, what_nl) = match s.o.kind {
        OutcomeKind::Binary => (
            format!("whether the event of \"{}\" happened by {}", t.id, ft.by),
            format!(
                "of de gebeurtenis van \"{}\" vóór {} plaatsvond",
                t.id, ft.by
            ),
        ),
        _ => (
            format!("min(time of \"{}\", {}){scaled}", t.id, ft.by),
            format!("min(tijd van \"{}\", {}){scaled_nl}", t.id, ft.by),
        ),
    };
    let text = if randomised {
        Text {
            en: format!(
                "{} is {what_en}. Its effects are estimated from the Kaplan-Meier curves of \"{}\", which keep every unit up to the end of its follow-up; the complete cases would leave out those still waiting when follow-up ended. The arm means describe the complete cases only.",
                s.o.id, t.id
            ),
            nl: format!(
                "{} is {what_nl}. De effecten komen uit de Kaplan-Meier-curves van \"{}\", die elke eenheid meenemen tot het einde van haar follow-up; de complete gevallen zouden wie bij het einde van de follow-up nog wachtte weglaten. De gemiddelden per arm beschrijven alleen de complete gevallen.",
                s.o.id, t.id
            ),
        }
    } else {
        Text {
            en: format!(
                "{} is {what_en}. Its value is unknown for units whose follow-up ended earlier; the headline is the covariate-adjusted regression on the units with a value, each weighted by the inverse of its probability of still being followed (inverse probability of censoring weights from the Kaplan-Meier curve of the follow-up per arm and project of \"{}\"), so that those still waiting are represented; the weights are treated as known. The unadjusted estimate from the Kaplan-Meier curves is shown beside it.",
                s.o.id, t.id
            ),
            nl: format!(
                "{} is {what_nl}. De waarde is onbekend voor eenheden waarvan de follow-up eerder eindigde; de hoofduitkomst is de voor covariaten gecorrigeerde regressie op de eenheden met een waarde, elk gewogen met het omgekeerde van de kans dat ze nog gevolgd werden (inverse-kansgewichten voor censurering uit de Kaplan-Meier-curve van de follow-up per arm en project van \"{}\"), zodat wie nog wachtte vertegenwoordigd is; de gewichten gelden als bekend. De ongecorrigeerde schatting uit de Kaplan-Meier-curves staat ernaast.",
                s.o.id, t.id
            ),
        }
    };
    // One note per outcome, with the whole sample.
    if s.in_subset.is_none() {
        rows.notes.push(Note {
            outcome: Some(s.o.id.clone()),
            subset: None,
            text,
        });
    }
    rows.notes.extend(res.notes);
}

/// Analyse a time-to-event outcome in every subset.
fn analyse_time_to_event(
    plan: &Plan,
    o: &OutcomeSpec,
    te: &survival::TimeEvent,
    no_cluster: &[usize],
    subsets: &[(String, Option<String>)],
    rows: &mut Collected,
) {
    let (spec, units) = (plan.spec, plan.units);
    for (subset, in_subset) in subsets {
        let scope = survival::Scope {
            spec,
            o,
            units,
            te,
            subset,
            in_subset,
            conf: plan.opts.conf_level,
        };
        let mut res = survival::analyse(&scope, plan.min_at_risk);
        if units.any_missing_cluster()
            && count_missing_cluster(spec, units, no_cluster, in_subset, &mut res.arm_summaries)
        {
            rows.notes.push(missing_cluster_note(
                &o.id,
                subset,
                units,
                Text::new(
                    "analyse van deze uitkomst (overlevingscurves, toetsen en schattingen)",
                    "analysis of this outcome (survival curves, tests and estimates)",
                ),
            ));
        }
        rows.survival.extend(res.summaries);
        rows.arm_summaries.extend(res.arm_summaries);
        rows.estimates.extend(res.estimates);
        rows.tests.extend(res.tests);
        rows.notes.extend(res.notes);
    }
}

/// Units without a cluster id were left out of a time-to-event outcome's analysis (the
/// survival analysis takes every unit it is given): their number per arm goes into
/// the arm summaries. Returns whether any arm has such units.
fn count_missing_cluster(
    spec: &PilotSpec,
    units: &Units,
    no_cluster: &[usize],
    in_subset: &Option<String>,
    arm_summaries: &mut [ArmSummaryRow],
) -> bool {
    let mut per_arm = vec![0usize; spec.arms.values.len()];
    for &r in no_cluster
        .iter()
        .filter(|&&r| units.in_subset(in_subset, r))
    {
        per_arm[units.arm_of(r)] += 1;
    }
    for s in arm_summaries {
        s.n_missing_cluster = spec
            .arms
            .values
            .iter()
            .position(|a| a.value == s.arm)
            .map(|a| Some(per_arm[a]));
    }
    per_arm.iter().any(|&m| m > 0)
}

/// The error when no comparison could be estimated, listing the notes that say why.
fn nothing_estimated(spec: &PilotSpec, notes: &[Note]) -> Error {
    let why: Vec<String> = notes
        .iter()
        .map(|n| {
            format!(
                "\n  - {}: {}",
                n.outcome.as_deref().unwrap_or("-"),
                n.text.en
            )
        })
        .collect();
    Error::analysis(format!(
        "data {}: no comparison could be estimated (too few units per arm, or outcomes without variation):{}",
        spec.data.file,
        why.concat()
    ))
}

/// The arms' descriptions in the results, with their number of rows.
fn arm_meta(spec: &PilotSpec, units: &Units) -> Vec<ArmMeta> {
    spec.arms
        .values
        .iter()
        .enumerate()
        .map(|(i, a)| ArmMeta {
            value: a.value.clone(),
            label: a.label.clone(),
            control: a.value == spec.arms.control,
            n_rows: Some(units.arm.iter().filter(|&&x| usize::from(x) == i).count()),
        })
        .collect()
}

/// The subsets' descriptions in the results.
fn subset_meta(spec: &PilotSpec, subsets: &[(String, Option<String>)]) -> Vec<SubsetMeta> {
    subsets
        .iter()
        .map(|(v, _)| SubsetMeta {
            value: v.clone(),
            label: if v == POOLED && subsets.len() == 1 {
                Text::new("Alle eenheden", "All units")
            } else if v == POOLED {
                Text::new("Alle projecten samen", "All projects pooled")
            } else {
                spec.projects
                    .iter()
                    .find(|p| &p.value == v)
                    .map(|p| p.label.clone())
                    .unwrap_or_else(|| Text::new(v.clone(), v.clone()))
            },
        })
        .collect()
}

/// The analysis before disclosure control. `privacy` only sets how many units a
/// default time horizon needs at risk.
fn analyse(
    spec: &PilotSpec,
    input: &AnalysisInput,
    opts: &Options,
    privacy: Privacy,
) -> Result<PilotResults> {
    check_input(spec, input, opts)?;
    let units = &input.units;
    let plan = Plan {
        spec,
        units,
        opts,
        min_at_risk: privacy.min_persons(),
    };
    let subsets = subsets_of(spec, units);
    let mut rows = Collected::default();
    let mut outcomes = Vec::new();
    for (o, data) in spec.outcomes.iter().zip(&input.outcomes) {
        outcomes.push(outcome_meta(o));
        match data {
            OutcomeData::Values(ou) => {
                let source = o
                    .from_time
                    .as_ref()
                    .and_then(|ft| time_source(spec, input, ft));
                // Censoring weights where the design has no lottery, for every subset.
                let ipcw =
                    source
                        .filter(|_| !spec.design.kind.is_randomised())
                        .map(|(_, te, ft)| {
                            from_time::censoring_weights(units, te, ft, spec.arms.values.len())
                        });
                if o.from_time.is_none() {
                    rows.notes
                        .extend(missing_where_censored(spec, input, o, ou));
                }
                for (subset, in_subset) in &subsets {
                    let s = OutcomeSubset {
                        o,
                        ou,
                        subset,
                        in_subset,
                        ipcw: None,
                    };
                    match source {
                        Some(src) => analyse_from_time(&plan, &s, src, ipcw.as_deref(), &mut rows),
                        None => analyse_subset(&plan, &s, &mut rows),
                    }
                }
            }
            OutcomeData::TimeToEvent { te, no_cluster } => {
                analyse_time_to_event(&plan, o, te, no_cluster, &subsets, &mut rows);
            }
        }
    }
    let Collected {
        arm_summaries,
        mut estimates,
        tests,
        survival: survival_rows,
        notes,
    } = rows;
    adjust_headlines(&mut estimates, spec, spec.multiplicity);
    let mut notes = notes;
    add_mde(&mut estimates, opts.conf_level);
    notes.extend(plausible_effect_notes(spec, &estimates));
    if estimates.is_empty() {
        return Err(nothing_estimated(spec, &notes));
    }

    let n_clusters = units.cluster.as_ref().map(|c| c.levels().len());
    let arms = arm_meta(spec, units);
    let subset_meta = subset_meta(spec, &subsets);
    Ok(PilotResults {
        tool: format!("via-eval {}", env!("CARGO_PKG_VERSION")),
        slug: spec.slug.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        unit: spec.unit.clone(),
        design: spec.design.kind,
        design_note: spec.design.note.clone(),
        data_file: spec.data.file.clone(),
        n_rows: Some(input.n_rows),
        n_units: Some(input.n_units),
        synthetic: input.synthetic,
        conf_level: opts.conf_level,
        cluster: spec.design.cluster.clone(),
        n_clusters,
        covariates: spec.covariates.clone(),
        arms,
        subsets: subset_meta,
        outcomes,
        arm_summaries,
        estimates,
        tests,
        survival: survival_rows,
        notes,
        method: method_text(spec),
        multiplicity: spec.multiplicity,
        disclosure: disclosure::Disclosure::off(),
        meta: Vec::new(),
        summary: Vec::new(),
        balance: Vec::new(),
        subgroups: Default::default(),
        flow: Vec::new(),
        costs: None,
        panel_design: Vec::new(),
        its_design: Vec::new(),
    })
}

/// The subset id of the whole sample.
pub const POOLED: &str = "pooled";

fn subsets_of(spec: &PilotSpec, units: &Units) -> Vec<(String, Option<String>)> {
    let mut v = vec![(POOLED.to_string(), None)];
    if let Some(p) = &units.project {
        let mut seen: Vec<String> = spec.projects.iter().map(|p| p.value.clone()).collect();
        for x in p.levels() {
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
    let (nl_head, en_head) = match spec.design.headline {
        Some(h) => weighting_headline_text(h, spec, &nl_se, &en_se),
        None => (nl_head, en_head),
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
    Text::new(
        format!("{nl_head} {nl_d}{nl_c}"),
        format!("{en_head} {en_d}{en_c}"),
    )
}

/// The design note's sentence on a weighting headline (`design.headline`).
fn weighting_headline_text(
    h: crate::config::WeightingHeadline,
    spec: &PilotSpec,
    nl_se: &str,
    en_se: &str,
) -> (String, String) {
    use crate::config::WeightingHeadline as H;
    let covs = spec.covariates.join(", ");
    let (nl_m, en_m) = match h {
        H::Entropy => (
            "entropy balancing (Hainmueller 2012): de vergelijkingsgroep is zo gewogen dat haar gemiddelden gelijk zijn aan die van de deelnemers",
            "entropy balancing (Hainmueller 2012): the comparison group is weighted so that its means equal the participants'",
        ),
        H::Ipw => (
            "inverse-kansweging (IPW): elke vergelijkingspersoon telt met de odds van haar propensityscore",
            "inverse probability weighting (IPW): each comparison person counts with the odds of their propensity score",
        ),
        H::Overlap => (
            "overlapweging (Li, Morgan & Zaslavsky 2018); let op: het effect geldt dan voor de groep waarin deelnemers en vergelijkingsgroep overlappen, niet voor de deelnemers",
            "overlap weighting (Li, Morgan & Zaslavsky 2018); note: the effect is then the one in the population where participants and comparison group overlap, not on the participants",
        ),
        H::Aipw => (
            "dubbel robuuste AIPW: een uitkomstmodel en inverse-kansweging samen",
            "doubly robust AIPW: an outcome model and inverse probability weighting together",
        ),
        H::Matching => (
            "matching op de propensityscore (naaste buur)",
            "nearest-neighbour matching on the propensity score",
        ),
    };
    let (nl_se, en_se) = match h {
        H::Entropy | H::Overlap => (
            format!("{nl_se}, de gewichten als vast beschouwd"),
            format!("{en_se}, the weights treated as fixed"),
        ),
        H::Ipw | H::Aipw => (
            "een M-schattings-sandwich die meeneemt dat de propensityscore geschat is (binnen clusters opgeteld als die er zijn)".to_string(),
            "an M-estimation sandwich that accounts for the estimated propensity score (summed within clusters where there are any)".to_string(),
        ),
        H::Matching => (
            "clusterrobuuste standaardfouten per gematchte set (CR1), de matching als vast beschouwd".to_string(),
            "cluster-robust standard errors by matched set (CR1), the matching treated as fixed".to_string(),
        ),
    };
    (
        format!(
            "De hoofdschatting is {nl_m}, op de covariaten {covs}; het effect geldt voor de deelnemers (ATT), tenzij anders vermeld, met {nl_se}. Bij een uitkomst die uit een gecensureerde tijd wordt afgelezen telt elk gewicht maal het inverse-kansgewicht voor censurering (Robins & Finkelstein 2000; Cole & Hernán 2008), beide gewichten als bekend beschouwd. De voor covariaten gecorrigeerde regressie en het ongecorrigeerde verschil staan ernaast, met hun naam."
        ),
        format!(
            "The headline estimate is {en_m}, on the covariates {covs}; the effect is on the participants (ATT) unless said otherwise, with {en_se}. For an outcome read off a censored time each weight is multiplied by the inverse probability of censoring weight (Robins & Finkelstein 2000; Cole & Hernán 2008), both sets of weights treated as known. The covariate-adjusted regression and the unadjusted difference are shown beside it, by name."
        ),
    )
}

/// Differential attrition: a warning for each outcome whose share of missing
/// outcomes differs between arms by more than `spec.attrition_margin` (whole sample).
/// Whether to warn is decided on all units (`before` disclosure control); the shares
/// are quoted only when both arms' counts were published (`after`), since a share
/// and the arm's size give the missing count back.
fn attrition_warnings(
    spec: &PilotSpec,
    before: &[ArmSummaryRow],
    after: &[ArmSummaryRow],
) -> Vec<Note> {
    let share = |r: &ArmSummaryRow| -> Option<f64> {
        let (n, m) = (r.n? as f64, r.n_missing? as f64);
        (n + m > 0.0).then(|| m / (n + m))
    };
    let mut out = Vec::new();
    for o in &spec.outcomes {
        let shares: Vec<(&str, f64)> = before
            .iter()
            .filter(|r| r.outcome == o.id && r.subset == POOLED)
            .filter_map(|r| Some((r.arm.as_str(), share(r)?)))
            .collect();
        let (Some(lo), Some(hi)) = (
            shares.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
            shares.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
        ) else {
            continue;
        };
        if hi.1 - lo.1 <= spec.attrition_margin {
            continue;
        }
        let published = |arm: &str| {
            after
                .iter()
                .find(|r| r.outcome == o.id && r.subset == POOLED && r.arm == arm)
                .and_then(share)
        };
        let margin = spec.attrition_margin * 100.0;
        let nl = |x: f64| crate::numfmt::localise(&format!("{x:.1}"), crate::config::Lang::Nl);
        let text = match (published(hi.0), published(lo.0)) {
            (Some(h), Some(l)) => Text::new(
                format!(
                    "Let op: selectieve uitval. Ontbrekend: {}% in {} tegen {}% in {} (verschil groter dan {} procentpunt); de vergelijking van volledige gevallen kan vertekend zijn.",
                    nl(h * 100.0),
                    hi.0,
                    nl(l * 100.0),
                    lo.0,
                    nl(margin)
                ),
                format!(
                    "Warning: differential attrition. Missing: {:.1}% in {} against {:.1}% in {} (a difference above {margin:.1} percentage points); the complete-case comparison may be biased.",
                    h * 100.0,
                    hi.0,
                    l * 100.0,
                    lo.0
                ),
            ),
            _ => Text::new(
                format!(
                    "Let op: selectieve uitval. Het aandeel ontbrekende uitkomsten verschilt tussen {} en {} meer dan {} procentpunt (de aandelen zijn onderdrukt: ze rusten op te weinig personen); de vergelijking van volledige gevallen kan vertekend zijn.",
                    hi.0,
                    lo.0,
                    nl(margin)
                ),
                format!(
                    "Warning: differential attrition. The share of missing outcomes differs between {} and {} by more than {margin:.1} percentage points (the shares are suppressed: they rest on too few persons); the complete-case comparison may be biased.",
                    hi.0, lo.0
                ),
            ),
        };
        out.push(Note {
            outcome: Some(o.id.clone()),
            subset: Some(POOLED.into()),
            text,
        });
    }
    out
}

/// The comparison key of a design's rows (difference-in-differences, interrupted time
/// series): the first treated arm against the control, pooled.
pub(super) fn design_key(spec: &PilotSpec, outcome: &str) -> ComparisonKey {
    ComparisonKey {
        outcome: outcome.to_string(),
        subset: POOLED.to_string(),
        treated: spec
            .arms
            .treated()
            .next()
            .map_or_else(String::new, |a| a.value.clone()),
        control: spec.arms.control.clone(),
    }
}

/// The rows of a design with a time axis (difference-in-differences, interrupted time
/// series) lead the outcomes in `designed`: the plain comparison of those outcomes
/// steps back, the rows are added (each withheld when its flag says so), the headlines
/// of the whole results are adjusted again for multiplicity (the new ones with their
/// own p), and the method leads with the design's (`method` of the old one).
pub(super) fn lead_with_design(
    r: &mut PilotResults,
    spec: &PilotSpec,
    conf_level: f64,
    designed: &[String],
    rows: &[(EstimateRow, bool)],
    method: impl FnOnce(&Text) -> Text,
) {
    for e in r
        .estimates
        .iter_mut()
        .filter(|e| designed.contains(&e.outcome) && e.headline)
    {
        e.headline = false;
        e.p_value_adjusted = None;
        e.adjustment = None;
        e.mde = None;
    }
    let start = r.estimates.len();
    r.estimates.extend(rows.iter().map(|(e, _)| e.clone()));
    adjust_headlines(&mut r.estimates, spec, spec.multiplicity);
    add_mde(&mut r.estimates[start..], conf_level);
    for (e, (_, withheld)) in r.estimates[start..].iter_mut().zip(rows) {
        if *withheld {
            e.withhold_numbers();
            e.suppressed = true;
        }
    }
    r.method = method(&r.method);
}

/// Adjust the p-values of the headline estimates of the whole sample for multiple
/// testing, within two families: primary outcomes, and secondary outcomes (each
/// treated arm against the control counts as a test).
fn adjust_headlines(rows: &mut [EstimateRow], spec: &PilotSpec, method: Adjustment) {
    for primary in [true, false] {
        let idx: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.headline
                    && r.subset == POOLED
                    && spec
                        .outcomes
                        .iter()
                        .any(|o| o.id == r.outcome && o.primary == primary)
            })
            .map(|(i, _)| i)
            .collect();
        let p: Vec<f64> = idx.iter().map(|&i| rows[i].p_value).collect();
        for (&i, q) in idx.iter().zip(multiplicity::adjust(&p, method)) {
            rows[i].p_value_adjusted = Some(q);
            rows[i].adjustment = Some(method.label().to_string());
        }
    }
}

/// Power of the minimum detectable effect given beside each headline estimate.
pub const MDE_POWER: f64 = 0.8;

/// The minimum detectable effect of each headline estimate on the difference scale:
/// the true effect the pilot, as analysed, would have found (two-sided at its level)
/// with [`MDE_POWER`], from the estimate's standard error, which carries the design
/// (clusters, covariates, achieved sizes).
fn add_mde(rows: &mut [EstimateRow], conf_level: f64) {
    for r in rows
        .iter_mut()
        .filter(|r| r.headline && r.scale == Scale::Difference)
    {
        r.mde =
            crate::stats::power::mde_from_se(r.std_error, r.df, 1.0 - conf_level, MDE_POWER, true)
                .ok();
    }
}

/// Per primary outcome with a `plausible_effect` in the config: whether the pilot
/// (whole sample) could have detected an effect of that size, by the minimum
/// detectable effect of its headline estimate.
fn plausible_effect_notes(spec: &PilotSpec, rows: &[EstimateRow]) -> Vec<Note> {
    let mut notes = Vec::new();
    for o in spec.outcomes.iter().filter(|o| o.primary) {
        let Some(plausible) = o.plausible_effect else {
            continue;
        };
        let f = if o.kind == OutcomeKind::Binary {
            100.0
        } else {
            1.0
        };
        for r in rows
            .iter()
            .filter(|r| r.outcome == o.id && r.headline && r.subset == POOLED)
        {
            let Some(mde) = r.mde.filter(|m| m.is_finite()) else {
                continue;
            };
            let (m, p) = (fmt_short(mde * f), fmt_short(plausible.abs() * f));
            // Dutch writes a decimal comma.
            let (m_nl, p_nl) = (m.replace('.', ","), p.replace('.', ","));
            let (unit_en, unit_nl) = (&o.unit.en, &o.unit.nl);
            let text = if plausible.abs() < mde {
                Text {
                    en: format!(
                        "{} vs {}: the smallest effect this pilot could detect with 80% power is {m} {unit_en}; an effect of {p} {unit_en}, the size found elsewhere, would probably have been missed, so no clear effect here does not show that there is none.",
                        r.treated, r.control
                    ),
                    nl: format!(
                        "{} vs {}: het kleinste effect dat deze pilot met 80% onderscheidend vermogen kon aantonen is {m_nl} {unit_nl}; een effect van {p_nl} {unit_nl}, de omvang die elders is gevonden, was waarschijnlijk gemist, dus geen duidelijk effect hier laat niet zien dat er geen is.",
                        r.treated, r.control
                    ),
                }
            } else {
                Text {
                    en: format!(
                        "{} vs {}: the pilot was large enough to detect an effect of {p} {unit_en} (the size found elsewhere) with 80% power: its minimum detectable effect is {m} {unit_en}.",
                        r.treated, r.control
                    ),
                    nl: format!(
                        "{} vs {}: de pilot was groot genoeg om een effect van {p_nl} {unit_nl} (de omvang die elders is gevonden) met 80% onderscheidend vermogen aan te tonen: het kleinste aantoonbare effect is {m_nl} {unit_nl}.",
                        r.treated, r.control
                    ),
                }
            };
            notes.push(Note {
                outcome: Some(o.id.clone()),
                subset: Some(POOLED.to_string()),
                text,
            });
        }
    }
    notes
}

/// A number with three significant digits, for notes.
fn fmt_short(x: f64) -> String {
    let digits = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}")
}

/// One outcome with values (not time-to-event) in one subset.
#[derive(Clone, Copy)]
struct OutcomeSubset<'a> {
    o: &'a OutcomeSpec,
    ou: &'a OutcomeUnits,
    subset: &'a str,
    in_subset: &'a Option<String>,
    /// Inverse-probability-of-censoring weights per source row (`from_time` outcomes
    /// without a lottery; NaN where none): the comparisons are then the weighted
    /// adjusted regression only ([`estimate::estimate`]).
    ipcw: Option<&'a [f64]>,
}

impl OutcomeSubset<'_> {
    /// Whether source row `r` is in the subset.
    fn keep(&self, units: &Units, r: usize) -> bool {
        match (self.in_subset, &units.project) {
            (Some(p), Some(pr)) => &pr[r] == p,
            _ => true,
        }
    }
}

/// Counts per arm: observed outcomes, missing outcomes, missing covariates, missing
/// cluster ids.
struct ArmCounts {
    observed: Vec<usize>,
    missing: Vec<usize>,
    missing_cov: Vec<usize>,
    missing_cluster: Vec<usize>,
}

/// Count the units of each arm; `direct` when every row is a unit with an observed
/// outcome, so the columns are read directly.
fn count_by_arm(plan: &Plan, s: &OutcomeSubset, direct: bool) -> ArmCounts {
    let (units, ou) = (plan.units, s.ou);
    let n_arms = plan.spec.arms.values.len();
    let mut observed = vec![0usize; n_arms];
    let mut missing = vec![0usize; n_arms];
    let mut missing_cov = vec![0usize; n_arms];
    let mut missing_cluster = vec![0usize; n_arms];
    if direct {
        for &a in &units.arm {
            observed[usize::from(a)] += 1;
        }
        if let Some(m) = &units.covariate_missing {
            for (&a, &m) in units.arm.iter().zip(m) {
                missing_cov[usize::from(a)] += usize::from(m);
            }
        }
        if units.any_missing_cluster() {
            for (r, &a) in units.arm.iter().enumerate() {
                missing_cluster[usize::from(a)] += usize::from(units.missing_cluster(r));
            }
        }
    } else {
        for u in 0..ou.len() {
            let r = ou.row(u);
            if !s.keep(units, r) {
                continue;
            }
            let a = units.arm_of(r);
            if ou.values.get(u).is_some() {
                observed[a] += 1;
                if units.missing_covariate(r) {
                    missing_cov[a] += 1;
                }
                if units.missing_cluster(r) {
                    missing_cluster[a] += 1;
                }
            } else {
                missing[a] += 1;
            }
        }
    }
    ArmCounts {
        observed,
        missing,
        missing_cov,
        missing_cluster,
    }
}

/// The summary row of every arm with observed outcomes.
fn summarise_arms(
    plan: &Plan,
    s: &OutcomeSubset,
    counts: &ArmCounts,
    direct: bool,
    rows: &mut Collected,
) {
    let (spec, units, ou) = (plan.spec, plan.units, s.ou);
    let conf = plan.opts.conf_level;
    let binary = s.o.kind == OutcomeKind::Binary;
    let observed = &counts.observed;
    // Every row a unit with an observed outcome: the outcome split by arm in one pass
    // (the values of each arm in row order, as the filtered pass below gives them).
    let by_arm = direct.then(|| split_by_arm(ou.values.values(), &units.arm, observed));
    let two_values = two_values(ou);
    for (a, arm) in spec.arms.values.iter().enumerate() {
        if observed[a] == 0 {
            continue;
        }
        let (summary, value_counts) = if let Some(by_arm) = &by_arm {
            let vals = by_arm[a].iter().copied();
            (
                arm_summary(vals.clone(), observed[a], binary, conf),
                two_values.map(|v| count_values(vals, v)),
            )
        } else {
            let vals = (0..ou.len()).filter_map(|u| {
                let r = ou.row(u);
                if units.arm_of(r) == a && s.keep(units, r) {
                    ou.values.get(u)
                } else {
                    None
                }
            });
            (
                arm_summary(vals.clone(), observed[a], binary, conf),
                two_values.map(|v| count_values(vals, v)),
            )
        };
        if let Some((mean, sd, ci_low, ci_high, method)) = summary {
            rows.arm_summaries.push(ArmSummaryRow {
                outcome: s.o.id.clone(),
                subset: s.subset.to_string(),
                arm: arm.value.clone(),
                n: Some(observed[a]),
                n_missing: Some(counts.missing[a]),
                n_missing_covariates: (!units.covariates.is_empty())
                    .then_some(counts.missing_cov[a]),
                n_missing_cluster: units
                    .any_missing_cluster()
                    .then_some(Some(counts.missing_cluster[a])),
                mean,
                sd,
                ci_low,
                ci_high,
                ci_method: method.into(),
                suppressed: false,
                value_counts,
            });
        }
    }
    drop(by_arm);
}

/// The units of one comparison with an observed outcome: source rows (`None` when
/// every row is one, in order), outcomes and arm (true = treated). When every row is a
/// unit of this comparison with an observed outcome (`n` of them), the estimators read
/// the outcome column in place.
fn comparison_units<'a>(
    plan: &Plan<'a>,
    s: &OutcomeSubset<'a>,
    t_idx: usize,
    n: usize,
) -> (Option<Vec<usize>>, Cow<'a, [f64]>, Vec<bool>) {
    let (units, ou) = (plan.units, s.ou);
    let control_idx = plan.spec.arms.control_index();
    let everyone = s.in_subset.is_none() || units.project.is_none();
    // With weights, a unit without one (no time to weigh by) is left out.
    let weighed = |r: usize| s.ipcw.is_none_or(|w| w[r].is_finite() && w[r] > 0.0);
    if everyone && ou.rows.is_none() && n == ou.len() && s.ipcw.is_none() {
        let treated: Vec<bool> = units.arm.iter().map(|&a| usize::from(a) == t_idx).collect();
        (None, Cow::Borrowed(ou.values.values()), treated)
    } else {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        let mut treated = Vec::new();
        for u in 0..ou.len() {
            let r = ou.row(u);
            let a = units.arm_of(r);
            if (a != t_idx && a != control_idx) || !s.keep(units, r) || !weighed(r) {
                continue;
            }
            if let Some(v) = ou.values.get(u) {
                rows.push(r);
                y.push(v);
                treated.push(a == t_idx);
            }
        }
        (Some(rows), Cow::Owned(y), treated)
    }
}

/// Compare arm `t_idx` with the control: every estimator and test, or a note why not
/// (too few units, or no variation).
fn compare_arm(
    plan: &Plan,
    s: &OutcomeSubset,
    observed: &[usize],
    t_idx: usize,
    rows: &mut Collected,
) {
    let (spec, units, o, subset) = (plan.spec, plan.units, s.o, s.subset);
    let control_idx = spec.arms.control_index();
    let key = ComparisonKey {
        outcome: o.id.clone(),
        subset: subset.to_string(),
        treated: spec.arms.values[t_idx].value.clone(),
        control: spec.arms.control.clone(),
    };
    let (nt, nc) = (observed[t_idx], observed[control_idx]);
    if nt < 2 || nc < 2 {
        if nt + nc > 0 {
            rows.notes.extend(estimate::to_notes(
                &o.id,
                subset,
                vec![Text {
 en: format!(
                        "{} vs {}: not estimated, fewer than 2 units with an observed outcome in an arm.",
                        key.treated, key.control
                    ),
 nl: format!(
                        "{} vs {}: niet geschat, minder dan 2 eenheden met een waargenomen uitkomst in een arm.",
                        key.treated, key.control
                    ),
 }],
            ));
        }
        return;
    }
    let (pair_rows, y, treated) = comparison_units(plan, s, t_idx, nt + nc);
    if y.iter().all(|v| *v == y[0]) {
        // The value itself is not quoted: it would be every unit's value.
        let (t, c) = (&key.treated, &key.control);
        rows.notes.extend(estimate::to_notes(
            &o.id,
            subset,
            vec![Text {
 en: format!("{t} vs {c}: not estimated, the outcome has the same value for every unit in both arms (no variation)."),
 nl: format!("{t} vs {c}: niet geschat, de uitkomst heeft voor elke eenheid in beide armen dezelfde waarde (geen variatie)."),
 }],
        ));
        return;
    }
    let weights = s.ipcw.map(|w| {
        (0..y.len())
            .map(|i| w[pair_rows.as_ref().map_or(i, |r| r[i])])
            .collect()
    });
    let with_projects = s.in_subset.is_none() && units.project.is_some();
    let mut base_notes = Vec::new();
    let att_base = s
        .ipcw
        .and(plan.opts.estimator.and_then(Estimator::weighting))
        .and_then(
            |m| match baseline_weights(plan, s, t_idx, with_projects, m) {
                Ok(b) => Some(b),
                Err(e) => {
                    base_notes.push(Text {
                        en: format!(
                            "{} vs {}: {} not estimable ({e}).",
                            key.treated,
                            key.control,
                            m.id()
                        ),
                        nl: format!(
                            "{} vs {}: {} niet te schatten ({e}).",
                            key.treated,
                            key.control,
                            m.id()
                        ),
                    });
                    None
                }
            },
        );
    let pair = estimate::Pair {
        key,
        binary: o.kind == OutcomeKind::Binary,
        with_projects,
        units,
        rows: pair_rows,
        y,
        treated,
        weights,
        att_base,
    };
    let res = crate::timings::time("estimates", || {
        estimate::estimate(&pair, spec.design.kind, plan.opts)
    });
    rows.estimates.extend(res.estimates);
    rows.tests.extend(res.tests);
    rows.notes
        .extend(estimate::to_notes(&o.id, subset, res.notes));
    rows.notes
        .extend(estimate::to_notes(&o.id, subset, base_notes));
}

/// The baseline weights of a comparison of an outcome read off a censored time: made
/// on every unit of the two arms in the subset with its covariates and cluster id
/// known, whether or not its value is ([`weighting::base_weights`]).
fn baseline_weights(
    plan: &Plan,
    s: &OutcomeSubset,
    t_idx: usize,
    with_projects: bool,
    method: crate::stats::weighting::Method,
) -> std::result::Result<weighting::BaseWeights, crate::stats::StatsError> {
    let (units, ou) = (plan.units, s.ou);
    let control_idx = plan.spec.arms.control_index();
    let mut base_rows = Vec::new();
    let mut treated = Vec::new();
    for u in 0..ou.len() {
        let r = ou.row(u);
        let a = units.arm_of(r);
        if (a != t_idx && a != control_idx)
            || !s.keep(units, r)
            || units.missing_covariate(r)
            || units.missing_cluster(r)
        {
            continue;
        }
        base_rows.push(r);
        treated.push(a == t_idx);
    }
    weighting::base_weights(units, &base_rows, &treated, with_projects, method)
}

/// Analyse an outcome with values in one subset: the arm summaries, then every arm
/// against the control.
fn analyse_subset(plan: &Plan, s: &OutcomeSubset, rows: &mut Collected) {
    let counts = summarise_subset(plan, s, rows);
    compare_arms(plan, s, &counts, rows);
}

/// The arm summaries of an outcome in one subset; the counts per arm.
fn summarise_subset(plan: &Plan, s: &OutcomeSubset, rows: &mut Collected) -> ArmCounts {
    let units = plan.units;
    let everyone = s.in_subset.is_none() || units.project.is_none();
    // Every row a unit and every outcome observed: the columns are read directly.
    let direct = everyone && s.ou.rows.is_none() && s.ou.values.missing() == 0;
    let _p = crate::timings::phase("arm summaries");
    let counts = count_by_arm(plan, s, direct);
    summarise_arms(plan, s, &counts, direct, rows);
    counts
}

/// Every arm against the control (after a note on units without a cluster id, who
/// are left out of the cluster-robust estimates).
fn compare_arms(plan: &Plan, s: &OutcomeSubset, counts: &ArmCounts, rows: &mut Collected) {
    if counts.missing_cluster.iter().any(|&m| m > 0) {
        rows.notes.push(missing_cluster_note(
            &s.o.id,
            s.subset,
            plan.units,
            Text::new(
                "clusterrobuuste schattingen; ze tellen wel mee in de armsamenvattingen en in de verschillen die de clustering negeren",
                "cluster-robust estimates; they are kept in the arm summaries and in the differences that ignore the clustering",
            ),
        ));
    }
    let control_idx = plan.spec.arms.control_index();
    for t_idx in 0..plan.spec.arms.values.len() {
        if t_idx == control_idx {
            continue;
        }
        compare_arm(plan, s, &counts.observed, t_idx, rows);
    }
}

/// The note on units without a cluster id left out of `what` (the analyses named in
/// both languages).
fn missing_cluster_note(outcome: &str, subset: &str, units: &Units, what: Text) -> Note {
    let col = units.cluster_column.as_deref().unwrap_or_default();
    Note {
        outcome: Some(outcome.to_string()),
        subset: Some(subset.to_string()),
        text: Text::new(
            format!(
                "Eenheden zonder cluster-id (kolom \"{col}\") zijn weggelaten uit de {}, zoals estimatr, Stata en fixest doen; het aantal per arm staat in de resultaten (n_missing_cluster). Met `design.missing_cluster = \"error\"` (compare: --missing-cluster error) stopt de analyse in plaats daarvan.",
                what.nl
            ),
            format!(
                "Units without a cluster id (column \"{col}\") are left out of the {}, as estimatr, Stata and fixest do; their number per arm is in the results (n_missing_cluster). With `design.missing_cluster = \"error\"` (compare: --missing-cluster error) the analysis stops instead.",
                what.en
            ),
        ),
    }
}

/// The values of each arm (`arm` per row, as an index: u16, or bool for control and
/// treated; `n` per arm), in row order; one pass, with no branch per row.
fn split_by_arm<A: Copy>(y: &[f64], arm: &[A], n: &[usize]) -> Vec<Vec<f64>>
where
    usize: From<A>,
{
    // One slot more per arm: every value is written to its arm's next slot, which the
    // next value of that arm overwrites.
    let mut out: Vec<Vec<f64>> = n.iter().map(|&k| vec![0.0; k + 1]).collect();
    let mut at = vec![0usize; n.len()];
    for (&v, &a) in y.iter().zip(arm) {
        let a = usize::from(a);
        out[a][at[a]] = v;
        at[a] += 1;
    }
    for (o, &k) in out.iter_mut().zip(n) {
        o.truncate(k);
    }
    out
}

/// The two values of an outcome whose observed values take at most two distinct
/// values (the second is NaN when there is one), for the disclosure rule on shares.
fn two_values(ou: &OutcomeUnits) -> Option<(f64, f64)> {
    let mut first: Option<f64> = None;
    let mut second: Option<f64> = None;
    for u in 0..ou.len() {
        let Some(v) = ou.values.get(u) else { continue };
        match (first, second) {
            (None, _) => first = Some(v),
            (Some(a), _) if a == v => {}
            (Some(_), None) => second = Some(v),
            (Some(_), Some(b)) if b == v => {}
            _ => return None,
        }
    }
    first.map(|a| (a, second.unwrap_or(f64::NAN)))
}

/// How many of `vals` equal each of the two values.
fn count_values(vals: impl Iterator<Item = f64>, (a, b): (f64, f64)) -> (usize, usize) {
    vals.fold((0, 0), |(x, y), v| {
        (x + usize::from(v == a), y + usize::from(v == b))
    })
}

/// Estimate (mean or proportion), standard deviation, interval and interval method of
/// one arm from its `n` observed values, given in row order.
fn arm_summary(
    vals: impl Iterator<Item = f64> + Clone,
    n: usize,
    binary: bool,
    conf: f64,
) -> Option<(f64, Option<f64>, f64, f64, &'static str)> {
    if binary {
        let events = vals.filter(|&v| v == 1.0).count() as u64;
        binary::wilson(
            Counts {
                events,
                trials: n as u64,
            },
            conf,
        )
        .ok()
        .map(|w| (w.estimate, None, w.ci_low, w.ci_high, "wilson"))
    } else {
        describe::mean_ci_of(vals, conf)
            .ok()
            .map(|s| (s.mean, Some(s.sd), s.ci_low, s.ci_high, "t"))
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
