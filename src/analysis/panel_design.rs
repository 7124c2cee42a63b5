//! A pilot with a panel design and a time axis (`design.kind = "panel"` with
//! `design.time` and `design.first_treated`): per outcome, the staggered
//! difference-in-differences of [`super::did::run_did`] on the prepared panel
//! ([`crate::prepare::design`]), added to the results beside the two-group comparison.
//!
//! - headline: Callaway & Sant'Anna's simple ATT (`cs_simple`) with never-treated
//!   employers as the comparison group, which stays unbiased when units join in
//!   different periods and effects grow with the time since joining;
//! - beside it: Callaway & Sant'Anna by event time (`cs_dynamic`, with `event_time`),
//!   the event study (`event_study`, reference period −1, every relative period its
//!   own coefficient) with its pre-trend test (`pretrend_wald` in `tests`), and the
//!   static TWFE estimate (`twfe_did`), which is biased under growing effects and is
//!   shown so the reader sees why it is not the headline;
//! - the two-group comparison of the arms stays in the results, no longer headline,
//!   and the report labels it descriptive.
//!
//! Disclosure control is [`super::did::run_did`]'s (cells of too few persons or units
//! withheld, numbers null); the multiplicity adjustment and the minimum detectable
//! effect of the new headline rows are made as for every headline
//! ([`super::adjust_headlines`], [`super::add_mde`]) before numbers are withheld.

use serde::Serialize;

use super::did::{self, CohortMean, DidResults, EventSettings, PanelInput, Which};
use super::{ComparisonKey, EstimateRow, Note, PilotResults, Privacy, Scale, TestRow};
use crate::config::{PilotSpec, Text, TimeDesign};
use crate::error::Result;
use crate::stats::Inference;
use crate::stats::did::DidOptions;
use crate::stats::did_cs::CsControl;

/// The estimator ids of the design (not the descriptive two-group comparison).
pub const DESIGN_ESTIMATORS: [&str; 6] = [
    "cs_simple",
    "cs_dynamic",
    "event_study",
    "twfe_did",
    "its_level",
    "its_slope",
];

/// Whether `estimator` is an estimate of a time design (difference-in-differences,
/// interrupted time series) rather than the descriptive comparison of the arms.
pub fn is_design_estimator(estimator: &str) -> bool {
    DESIGN_ESTIMATORS.contains(&estimator)
}

/// Units in one cohort (first treated period; `None` = never treated); null when
/// withheld.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortUnits {
    pub first_treated: Option<i64>,
    pub units: Option<usize>,
}

/// What the report's design section and charts need beyond the estimate rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelDesign {
    pub outcome: String,
    pub unit: String,
    pub time: String,
    pub first_treated: String,
    /// The event study's reference period (relative to the first treated period).
    pub reference: i64,
    /// The denominator df of the pre-trend F test (clusters − 1); null without the
    /// test or when it is withheld.
    pub pretrend_df2: Option<f64>,
    pub cohorts: Vec<CohortUnits>,
    /// Mean outcome by cohort and period (each unit once), withheld cells null.
    pub cohort_means: Vec<CohortMean>,
    /// Notes of the panel and the estimators (employers left out for a missing year,
    /// estimators not available).
    pub notes: Vec<String>,
}

/// A design row; `suppressed` rows have their numbers withheld later.
struct Row {
    row: EstimateRow,
    suppressed: bool,
}

#[allow(clippy::too_many_arguments)]
fn row(
    key: &ComparisonKey,
    estimator: &str,
    se_type: &str,
    df_rule: &str,
    inf: Inference,
    conf_level: f64,
    n: (Option<usize>, Option<usize>, usize),
    event_time: Option<i64>,
    suppressed: bool,
) -> Row {
    let mut r = EstimateRow::new(
        key,
        estimator,
        Some(se_type),
        Some(df_rule),
        Scale::Difference,
        inf,
        conf_level,
        (n.0.unwrap_or(0), n.1.unwrap_or(0)),
    );
    r.n_treated = n.0;
    r.n_control = n.1;
    r.n_clusters = Some(n.2);
    r.event_time = event_time;
    Row { row: r, suppressed }
}

/// Add the staggered difference-in-differences of every outcome with a panel to `r`
/// (see the module doc). An outcome whose design cannot be estimated keeps its
/// two-group headline, with a note saying why.
pub(crate) fn apply(
    r: &mut PilotResults,
    spec: &PilotSpec,
    panels: &[Option<PanelInput>],
    opts: &super::Options,
    privacy: Privacy,
) -> Result<()> {
    let Some(TimeDesign::Panel {
        unit,
        time,
        first_treated,
    }) = &spec.design.time
    else {
        return Ok(());
    };
    let did_opts = DidOptions {
        conf_level: opts.conf_level,
        seed: opts.seed,
        wild_reps: opts.wild_reps,
        ..DidOptions::default()
    };
    let which = Which {
        twfe: true,
        event_study: true,
        cs: true,
        cs_control: CsControl::Never,
        cs_required: true,
    };
    let events = EventSettings {
        reference: -1,
        window: None,
    };
    let threshold = privacy.threshold();
    let mut rows: Vec<Row> = Vec::new();
    let mut designed: Vec<String> = Vec::new();
    for (o, panel) in spec.outcomes.iter().zip(panels) {
        let Some(p) = panel else { continue };
        let res = match did::run_did(p, which, events, &did_opts, privacy) {
            Ok(res) => res,
            Err(e) => {
                r.notes.push(Note {
                    outcome: Some(o.id.clone()),
                    subset: None,
                    text: Text::new(
                        format!(
                            "Het verschil-in-verschillenontwerp kon niet worden geschat ({}); de vergelijking van de twee groepen blijft de hoofdschatting en is beschrijvend.",
                            e.report()
                        ),
                        format!(
                            "The difference-in-differences design could not be estimated ({}); the comparison of the two groups stays the headline and is descriptive.",
                            e.report()
                        ),
                    ),
                });
                continue;
            }
        };
        let k = super::design_key(spec, &o.id);
        let n = cohort_units(p, threshold);
        let conf = opts.conf_level;
        estimate_rows(&k, &res, conf, n, &mut rows);
        if let Some(t) = pretrend_test(&k, &res) {
            r.tests.push(t);
        }
        r.panel_design.push(panel_design(
            o,
            (unit, time, first_treated),
            events.reference,
            &res,
        ));
        designed.push(o.id.clone());
    }
    if designed.is_empty() {
        return Ok(());
    }
    let rows: Vec<(EstimateRow, bool)> = rows.into_iter().map(|x| (x.row, x.suppressed)).collect();
    super::lead_with_design(r, spec, opts.conf_level, &designed, &rows, |old| {
        Text::new(
            format!(
                "{METHOD_NL} Voor de beschrijvende vergelijking van de twee groepen: {}",
                old.nl
            ),
            format!(
                "{METHOD_EN} For the descriptive comparison of the two groups: {}",
                old.en
            ),
        )
    });
    Ok(())
}

/// The units in the cohorts Callaway & Sant'Anna uses (first treated after the first
/// period and up to the last) and the never treated (withheld below the threshold),
/// and the clusters.
fn cohort_units(p: &PanelInput, threshold: Option<usize>) -> (Option<usize>, Option<usize>, usize) {
    let enough = |k: usize| threshold.is_none_or(|t| k >= t);
    let mut periods = p.period.clone();
    periods.sort_unstable();
    periods.dedup();
    let (t0, t_last) = (periods[0], periods[periods.len() - 1]);
    let first = &p.unit_first_treated;
    let treated_units = first
        .iter()
        .filter(|g| g.is_some_and(|g| g > t0 && g <= t_last))
        .count();
    let never_units = first
        .iter()
        .filter(|g| g.is_none_or(|g| g > t_last))
        .count();
    (
        enough(treated_units).then_some(treated_units),
        enough(never_units).then_some(never_units),
        p.n_clusters,
    )
}

/// The estimate rows of one outcome: the Callaway-Sant'Anna simple aggregation (the
/// headline), its dynamic aggregation, the event study and the static TWFE estimate.
fn estimate_rows(
    k: &ComparisonKey,
    res: &DidResults,
    conf: f64,
    n: (Option<usize>, Option<usize>, usize),
    rows: &mut Vec<Row>,
) {
    if let Some(cs) = &res.cs {
        let mut head = row(
            k,
            "cs_simple",
            "influence function (by unit)",
            "normal",
            cs.simple.inference,
            conf,
            n,
            None,
            cs.simple_suppressed,
        );
        head.row.headline = true;
        rows.push(head);
        rows.push(row(
            k,
            "cs_dynamic",
            "influence function (by unit)",
            "normal; mean of the effects at e >= 0",
            cs.dynamic_overall.inference,
            conf,
            n,
            None,
            cs.dynamic_overall_suppressed,
        ));
        for (d, &s) in cs.dynamic.iter().zip(&cs.dynamic_suppressed) {
            rows.push(row(
                k,
                "cs_dynamic",
                "influence function (by unit)",
                "normal",
                d.inference,
                conf,
                n,
                d.event_time,
                s,
            ));
        }
    }
    if let Some(es) = &res.event_study {
        for (c, &s) in es.coefficients.iter().zip(&res.event_suppressed) {
            rows.push(row(
                k,
                "event_study",
                "CRV1 (fixest, nested)",
                "t, clusters - 1",
                c.inference,
                conf,
                n,
                Some(c.event_time),
                s,
            ));
        }
    }
    if let Some(tw) = &res.twfe {
        rows.push(row(
            k,
            "twfe_did",
            "CRV1 (fixest, nested)",
            "t, clusters - 1",
            tw.inference,
            conf,
            n,
            None,
            res.twfe_suppressed,
        ));
    }
}

/// The joint Wald test of the pre-period event-study coefficients, when there is an
/// event study (its numbers withheld when suppressed).
fn pretrend_test(k: &ComparisonKey, res: &DidResults) -> Option<TestRow> {
    let w = res.pretrend.filter(|_| res.event_study.is_some())?;
    let mut t = TestRow::new(
        k,
        "pretrend_wald",
        Some(w.statistic),
        Some(w.df1),
        w.p_value,
    );
    t.detail = Some(format!(
        "joint Wald test of the pre-period event-study coefficients: F({}, {}) (CRV1 by unit, denominator df = clusters - 1); chi-square {} on {} df, p = {}",
        w.df1, w.df2, w.chi_square, w.df1, w.chi_square_p_value
    ));
    if res.pretrend_suppressed {
        t.statistic = None;
        t.df = None;
        t.p_value = f64::NAN;
        t.detail = None;
        t.suppressed = true;
    }
    Some(t)
}

/// What the report says about the panel design of one outcome.
fn panel_design(
    o: &crate::config::OutcomeSpec,
    (unit, time, first_treated): (&String, &String, &String),
    reference: i64,
    res: &DidResults,
) -> PanelDesign {
    // run_did's notes start with the panel's own.
    let notes: Vec<String> = res.notes.clone();
    PanelDesign {
        outcome: o.id.clone(),
        unit: unit.clone(),
        time: time.clone(),
        first_treated: first_treated.clone(),
        reference,
        pretrend_df2: res
            .pretrend
            .filter(|_| res.event_study.is_some() && !res.pretrend_suppressed)
            .map(|w| w.df2),
        cohorts: res
            .cohorts
            .iter()
            .map(|(g, u)| CohortUnits {
                first_treated: *g,
                units: *u,
            })
            .collect(),
        cohort_means: res.cohort_means.clone(),
        notes,
    }
}

const METHOD_EN: &str = "Because participants joined in different years and differed from the others beforehand, the headline is a difference-in-differences: Callaway & Sant'Anna's average effect on the participants (cs_simple), comparing each participant's change since it joined with the change at those that never joined (never-treated comparison group, each unit counted once, analytic influence-function standard errors by unit). It assumes parallel trends: without the pilot, the participants' outcome would have moved like the others'; and that nothing else changed for the participants when they joined. The event study and the static two-way fixed effects estimate are shown beside it; the comparison of the two groups is descriptive.";
const METHOD_NL: &str = "Omdat deelnemers in verschillende jaren instapten en al vooraf verschilden van de anderen, is de hoofdschatting een verschil-in-verschillen: het gemiddelde effect op de deelnemers volgens Callaway & Sant'Anna (cs_simple), dat de verandering bij elke deelnemer sinds de start vergelijkt met de verandering bij wie nooit deelnam (elke eenheid telt één keer, analytische standaardfouten per eenheid uit de invloedsfunctie). De aanname is parallelle trends: zonder de pilot was de uitkomst bij deelnemers net zo veranderd als bij de anderen; en dat er bij de start niets anders veranderde voor de deelnemers. De event study en de statische schatting met vaste effecten staan ernaast; de vergelijking van de twee groepen is beschrijvend.";
