//! A before/after pilot with a time axis (`design.kind = "before-after"` with
//! `design.time` and `design.start`): per outcome the interrupted time series
//! ([`crate::stats::its`], segmented regression) on the unit-period means
//! ([`crate::prepare::design::its_inputs`]), added beside the before/after comparison.
//!
//! - headline: the level change at the start (`its_level`); beside it the slope change
//!   (`its_slope`); the before/after difference stays, no longer headline, and the
//!   report labels it descriptive;
//! - several units (organisations, `design.cluster`): unit effects and cluster-robust
//!   standard errors by unit. With fewer than
//!   [`crate::analysis::estimate::FEW_CLUSTERS`] units CR2 with Bell & McCaffrey's
//!   Satterthwaite df (the small-sample rule for few clusters, as clubSandwich), else
//!   CR1 on G − 1 df; one series: Newey-West with the Newey & West (1994) lag rule;
//! - disclosure control: a period's mean is shown in the chart and table only when it
//!   rests on at least the threshold of persons; the estimates are withheld when the
//!   persons before the start or from the start are fewer than the threshold.

use serde::Serialize;

use super::{ComparisonKey, EstimateRow, Note, PilotResults, Privacy, Scale};
use crate::config::{PilotSpec, Text};
use crate::error::Result;
use crate::stats::its::{self, ItsInput, ItsOptions, ItsSe};
use crate::stats::ols::{Clusters, SeType};

/// One outcome's series: unit-period means of the person rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItsData {
    /// The first period of the intervention.
    pub start: i64,
    pub time: Vec<f64>,
    pub y: Vec<f64>,
    /// Unit codes (indexes into `unit_labels`).
    pub unit: Vec<u32>,
    pub unit_labels: Vec<String>,
    /// Whether the units are the design's clusters (else one series).
    pub clustered: bool,
    /// Persons behind each row's mean.
    pub persons: Vec<f64>,
    pub notes: Vec<String>,
}

/// One period of the chart and its table (display units applied by the report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsPeriod {
    pub time: f64,
    /// Mean of the unit means observed in the period; null when withheld.
    pub observed: Option<f64>,
    /// Persons behind it; null when withheld.
    pub persons: Option<f64>,
    /// The fitted segment line and the pre-period line continued (no persons behind
    /// a single number; published).
    pub fitted: f64,
    pub projected: f64,
}

/// What the report's section and chart need beyond the estimate rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsDesign {
    pub outcome: String,
    pub time: String,
    pub start: i64,
    pub se_type: String,
    pub df_rule: String,
    pub n_units: usize,
    /// The pre-period slope per period (null when the estimates are withheld).
    pub pre_slope: Option<f64>,
    pub series: Vec<ItsPeriod>,
    pub notes: Vec<String>,
}

/// Add the interrupted time series of every outcome with a series to `r`.
pub(crate) fn apply(
    r: &mut PilotResults,
    spec: &PilotSpec,
    data: &[Option<ItsData>],
    opts: &super::Options,
    privacy: Privacy,
) -> Result<()> {
    let Some(crate::config::TimeDesign::BeforeAfter { time, start }) = &spec.design.time else {
        return Ok(());
    };
    let threshold = privacy.threshold().map(|t| t as f64);
    let enough = |p: f64| threshold.is_none_or(|t| p >= t);
    let mut designed = Vec::new();
    let mut rows: Vec<(EstimateRow, bool)> = Vec::new();
    for (o, d) in spec.outcomes.iter().zip(data) {
        let Some(d) = d else { continue };
        let clusters = d.clustered.then(|| Clusters::from_sorted_labels(&d.unit));
        let n_units = clusters.as_ref().map_or(1, Clusters::count);
        let se = series_se(clusters.is_some(), n_units);
        let input = ItsInput {
            time: &d.time,
            y: &d.y,
            units: clusters.as_ref(),
            covariates: &[],
        };
        let fit = match its::its(
            &input,
            &ItsOptions {
                start: *start as f64,
                se,
                conf_level: opts.conf_level,
            },
        ) {
            Ok(f) => f,
            Err(e) => {
                r.notes.push(not_estimated_note(&o.id, &e));
                continue;
            }
        };
        let (pre, post) = persons_before_and_from(d, *start as f64);
        let withheld = !(enough(pre) && enough(post));
        let key = super::design_key(spec, &o.id);
        let n = (
            enough(post).then_some(post as usize),
            enough(pre).then_some(pre as usize),
            n_units,
        );
        estimate_rows(&key, &fit, opts.conf_level, n, withheld, &mut rows);
        let series = series(&fit, d, enough);
        let mut notes = d.notes.clone();
        if series.iter().any(|p| p.observed.is_none()) {
            notes.push(
                "periods with too few persons are left out of the observed series (disclosure control)"
                    .into(),
            );
        }
        r.its_design.push(ItsDesign {
            outcome: o.id.clone(),
            time: time.clone(),
            start: *start,
            se_type: fit.se_type.to_string(),
            df_rule: fit.df_rule.to_string(),
            n_units,
            pre_slope: (!withheld).then_some(fit.pre_slope.estimate),
            series: if withheld { Vec::new() } else { series },
            notes,
        });
        designed.push(o.id.clone());
    }
    if designed.is_empty() {
        return Ok(());
    }
    super::lead_with_design(r, spec, opts.conf_level, &designed, &rows, |old| {
        Text::new(
            format!(
                "{METHOD_NL} Voor de beschrijvende voor/na-vergelijking: {}",
                old.nl
            ),
            format!(
                "{METHOD_EN} For the descriptive before/after comparison: {}",
                old.en
            ),
        )
    });
    Ok(())
}

/// The standard errors of a series: Newey-West for one series; by unit (`clustered`)
/// CR2 below [`super::estimate::FEW_CLUSTERS`] units, else CR1.
fn series_se(clustered: bool, n_units: usize) -> ItsSe {
    if !clustered {
        ItsSe::NeweyWest { lag: None }
    } else if n_units < super::estimate::FEW_CLUSTERS {
        ItsSe::Cluster(SeType::Cr2)
    } else {
        ItsSe::Cluster(SeType::Cr1)
    }
}

/// The note that the series of `outcome` could not be estimated (`e` says why).
fn not_estimated_note(outcome: &str, e: &dyn std::fmt::Display) -> Note {
    Note {
        outcome: Some(outcome.to_string()),
        subset: None,
        text: Text::new(
            format!(
                "De onderbroken tijdreeks kon niet worden geschat ({e}); de voor/na-vergelijking blijft de hoofdschatting en is beschrijvend."
            ),
            format!(
                "The interrupted time series could not be estimated ({e}); the before/after comparison stays the headline and is descriptive."
            ),
        ),
    }
}

/// Persons behind the series before the start and from the start on.
fn persons_before_and_from(d: &ItsData, start: f64) -> (f64, f64) {
    d.time.iter().zip(&d.persons).fold(
        (0.0, 0.0),
        |(a, b), (&t, &p)| {
            if t < start { (a + p, b) } else { (a, b + p) }
        },
    )
}

/// The two estimate rows of one outcome, each with whether it is `withheld`: the level
/// change at the start (the headline) and the slope change. `n` holds the persons from
/// and before the start (null when withheld) and the units.
fn estimate_rows(
    key: &ComparisonKey,
    fit: &its::ItsFit,
    conf_level: f64,
    n: (Option<usize>, Option<usize>, usize),
    withheld: bool,
    rows: &mut Vec<(EstimateRow, bool)>,
) {
    for (id, inf, head) in [
        ("its_level", fit.level_change, true),
        ("its_slope", fit.slope_change, false),
    ] {
        let mut e = EstimateRow::new(
            key,
            id,
            Some(fit.se_type),
            Some(fit.df_rule),
            Scale::Difference,
            inf,
            conf_level,
            (0, 0),
        );
        e.n_treated = n.0;
        e.n_control = n.1;
        e.n_clusters = Some(n.2);
        e.headline = head;
        rows.push((e, withheld));
    }
}

const METHOD_EN: &str = "Without a comparison group the headline is an interrupted time series: a segmented regression of the means per organisation and period on time, with a level change (its_level, the headline) and a change of slope (its_slope) at the start, organisation effects, and cluster-robust standard errors by organisation (CR2 with Bell-McCaffrey degrees of freedom when there are fewer than 30 organisations, the small-sample rule for few clusters; CR1 on G - 1 df otherwise). It assumes that the trend before the start would have continued without the intervention and that nothing else changed at the start.";
const METHOD_NL: &str = "Zonder vergelijkingsgroep is de hoofdschatting een onderbroken tijdreeks: een gesegmenteerde regressie van de gemiddelden per organisatie en periode op de tijd, met een sprong in niveau (its_level, de hoofdschatting) en een verandering van de helling (its_slope) bij de start, effecten per organisatie en clusterrobuuste standaardfouten per organisatie (CR2 met Bell-McCaffrey-vrijheidsgraden bij minder dan 30 organisaties, de correctie voor weinig clusters; anders CR1 met G - 1 vrijheidsgraden). De aanname: zonder de interventie was de trend van vóór de start doorgegaan, en er veranderde bij de start niets anders.";

/// The series to draw: per period the mean of the unit means (withheld for a period
/// with too few persons: `enough`) and the fitted and projected lines.
fn series(fit: &its::ItsFit, d: &ItsData, enough: impl Fn(f64) -> bool) -> Vec<ItsPeriod> {
    let mut series = Vec::new();
    for p in &fit.series {
        let persons: f64 = d
            .time
            .iter()
            .zip(&d.persons)
            .filter(|(t, _)| **t == p.time)
            .map(|(_, n)| n)
            .sum();
        let ok = enough(persons);
        series.push(ItsPeriod {
            time: p.time,
            observed: ok.then_some(p.observed),
            persons: ok.then_some(persons),
            fitted: p.trend,
            projected: p.trend_counterfactual,
        });
    }
    series
}
