//! `via-eval its DATA --time COL --outcome COL --start VALUE`: the interrupted time
//! series, for before/after data without a comparison group.
//!
//! Input: one row per period (one series), or per unit and period with `--unit` (several
//! series pooled, with unit effects and cluster-robust standard errors by unit). The
//! time column holds numbers with equal steps (e.g. months counted from 1); `--start`
//! is the first period of the intervention. The numbers come from
//! [`crate::stats::its`]; this module reads, formats and draws.
//!
//! Disclosure control. The rows are periods, not persons (person rows repeat a period
//! and are refused, with the advice to aggregate them). What a period's value rests
//! on is the user's to say: with `--persons COL` (the persons behind each row's value)
//! a period whose rows rest on fewer than the threshold is withheld from the series
//! and the chart, and every estimate is withheld when the periods before the start or
//! those from the start together rest on fewer persons than the threshold; with
//! `--outcome-is-count` (the outcome counts persons, e.g. hires per month) an observed
//! count from 1 to threshold − 1 is withheld from the series and the chart. Fitted and
//! projected values and the estimates rest on every period and stay published. Without
//! either flag the values are taken to be aggregates over enough persons, and the
//! output says so.

use std::collections::BTreeSet;
use std::ops::Not;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::choices::LangArg;
use super::read_args::ReadArgs;
use crate::analysis::Scale;
use crate::analysis::disclosure::{DEFAULT_THRESHOLD, Threshold};
use crate::cli::Format;
use crate::config::Lang;
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::plot::{self, ItsChart};
use crate::report::{fmt_p, fmt_value, tables::render};
use crate::stats::Inference;
use crate::stats::its::{self, ItsFit, ItsInput, ItsOptions, ItsSe, default_hac_lag};
use crate::stats::ols::{Clusters, SeType};

/// Examples at the end of `via-eval its --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval its tests/fixtures/data/seatbelts.csv --time t --outcome DriversKilled --start 170
  via-eval its tests/fixtures/data/seatbelts.csv --time t --outcome DriversKilled --start 170 \\
      --dummies month --hac-lag 12 --format json --out out/its
  via-eval its tests/fixtures/data/seatbelts_long.csv --unit unit --time t --outcome killed \\
      --start 170 --dummies month --se cr1";

/// `--se` with several units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ItsSeArg {
    /// CR1 (factor G/(G-1)·(n-1)/(n-k), t with G - 1 df).
    Cr1,
    /// CR2 (Bell-McCaffrey) with Satterthwaite df.
    Cr2,
}

#[derive(clap::Args, Debug)]
pub struct ItsArgs {
    /// Data file: CSV or other delimited text, Excel, OpenDocument or Parquet; one row
    /// per period (and unit).
    pub data: PathBuf,
    /// Column with the period: numbers with equal steps (e.g. months 1, 2, 3, ...).
    #[arg(long, help_heading = super::ANALYSIS)]
    pub time: String,
    /// Column with the outcome of each period.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub outcome: String,
    /// The first period of the intervention (a value of the time column's scale).
    #[arg(long, help_heading = super::ANALYSIS, allow_hyphen_values = true)]
    pub start: f64,
    /// Column with the unit (organisation) when several series are pooled: unit
    /// effects, and standard errors cluster-robust by unit.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub unit: Option<String>,
    /// Analyse the natural log of the outcome (values must be positive): the level
    /// change is then about a relative change (exp(b) - 1).
    #[arg(long, help_heading = super::ANALYSIS)]
    pub log: bool,
    /// Newey-West lag (one series). Default: floor(4·(T/100)^(2/9)) for T periods
    /// (Newey & West 1994).
    #[arg(long, help_heading = super::ANALYSIS, value_name = "L", conflicts_with = "unit")]
    pub hac_lag: Option<usize>,
    /// Cluster-robust SE with --unit (default: CR2 with fewer than 30 units, else CR1).
    #[arg(long, help_heading = super::ANALYSIS, value_enum, requires = "unit")]
    pub se: Option<ItsSeArg>,
    /// Numeric covariates, comma-separated.
    #[arg(long, help_heading = super::ANALYSIS, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Categorical columns entered as indicators (the first value in sorted order is the
    /// reference), comma-separated; e.g. the calendar month for seasonality.
    #[arg(long, help_heading = super::ANALYSIS, value_delimiter = ',')]
    pub dummies: Vec<String>,
    /// Confidence level of every interval.
    #[arg(long, help_heading = super::ANALYSIS, default_value_t = 0.95)]
    pub conf_level: f64,
    /// Column with the number of persons behind each row's value (for disclosure
    /// control).
    #[arg(long, help_heading = super::DISCLOSURE)]
    pub persons: Option<String>,
    /// The outcome is a count of persons (e.g. hires per period): counts from 1 to the
    /// threshold minus 1 are withheld from the series and the chart.
    #[arg(long, help_heading = super::DISCLOSURE)]
    pub outcome_is_count: bool,
    /// Publish small cells: turn off disclosure control (for work inside a secure
    /// environment only; every output is then stamped with a warning).
    #[arg(long, help_heading = super::DISCLOSURE)]
    pub no_disclosure_control: bool,
    /// Minimum number of persons behind any published number (at least 5).
    #[arg(long, help_heading = super::DISCLOSURE, default_value_t = DEFAULT_THRESHOLD, value_name = "N")]
    pub disclosure_threshold: usize,
    /// Output format (to standard output).
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "table")]
    pub format: Format,
    /// Folder for the chart (its.png and its.svg).
    #[arg(short, long, help_heading = super::OUTPUT, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Language of the chart.
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "en")]
    pub lang: LangArg,
    #[command(flatten)]
    pub read: Box<ReadArgs>,
}

/// One estimate, with the fields of a results.json estimate; numbers are null when
/// disclosure control withholds them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsEstimate {
    pub outcome: String,
    pub subset: String,
    /// its_level, its_slope, its_pre_level or its_pre_slope.
    pub estimator: String,
    /// newey_west, CR1 or CR2.
    pub se_type: String,
    pub df_rule: String,
    /// `difference` for the level and slope changes; null for the pre-period level and
    /// slope, which are not differences.
    pub scale: Option<Scale>,
    pub estimate: Option<f64>,
    pub std_error: Option<f64>,
    pub statistic: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub conf_level: f64,
    pub p_value: Option<f64>,
    pub df: Option<f64>,
    /// Rows (periods × units) used.
    pub n: usize,
    pub suppressed: bool,
}

/// The pre-period line, with the inference of each coefficient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsPrePeriod {
    pub level: ItsEstimate,
    pub slope: ItsEstimate,
}

impl ItsOutput {
    /// The estimates and then the pre-period level and slope: the rows of the table and
    /// the CSV.
    pub fn all_rows(&self) -> [&ItsEstimate; 4] {
        [
            &self.estimates[0],
            &self.estimates[1],
            &self.pre_period.level,
            &self.pre_period.slope,
        ]
    }
}

/// The model as fitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsModel {
    pub time: String,
    pub start: f64,
    pub unit: Option<String>,
    pub covariates: Vec<String>,
    pub dummies: Vec<String>,
    pub formula: String,
    pub se_type: String,
    /// The Newey-West lag used (null with cluster-robust SEs).
    pub hac_lag: Option<usize>,
    /// How the lag was chosen.
    pub hac_lag_rule: Option<String>,
    pub small_sample: String,
    pub df_rule: String,
    pub n: usize,
    pub k: usize,
    pub n_units: usize,
    pub n_pre_periods: usize,
    pub n_post_periods: usize,
}

/// One period of the series (means over the units); `observed` null when withheld.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsPointOut {
    pub time: f64,
    pub observed: Option<f64>,
    pub fitted: f64,
    pub counterfactual: f64,
    /// The segment lines without the covariates' and units' variation (see
    /// [`crate::stats::its::ItsPoint`]): what the chart draws.
    pub trend: f64,
    pub trend_counterfactual: f64,
}

/// What disclosure control did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsDisclosure {
    pub applied: bool,
    pub threshold: usize,
    /// What the threshold was applied to.
    pub basis: String,
    pub withheld_points: usize,
    pub suppressed_estimates: usize,
}

/// Everything `via-eval its` reports (`--format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsOutput {
    pub tool: String,
    pub input: String,
    /// The level change (`its_level`) and the slope change (`its_slope`).
    pub estimates: Vec<ItsEstimate>,
    /// The pre-period line: its level at the start (`its_pre_level`) and its slope
    /// (`its_pre_slope`).
    pub pre_period: ItsPrePeriod,
    pub model: ItsModel,
    pub series: Vec<ItsPointOut>,
    pub disclosure: ItsDisclosure,
    pub notes: Vec<String>,
}

/// The columns read, and the rows kept, from the file.
struct ItsData {
    time: Vec<f64>,
    y: Vec<f64>,
    /// The outcome as read (before --log), for disclosure control.
    raw_y: Vec<f64>,
    /// Per kept row, the rank of its unit's label among the labels in text order, and
    /// the number of labels.
    units: Option<(Vec<u32>, usize)>,
    covariates: Vec<Vec<f64>>,
    persons: Option<Vec<f64>>,
    notes: Vec<String>,
}

fn read(args: &ItsArgs) -> Result<ItsData> {
    let path = &args.data;
    let frame = load(args)?;
    let n = frame.height();
    let time = frame.numeric(&args.time).map_err(|e| {
        Error::data(
            path,
            format!(
                "--time \"{}\": the periods must be numbers with equal steps, e.g. months \
                 counted 1, 2, 3, ... (for calendar months: year * 12 + month)",
                args.time
            ),
        )
        .with_cause(e)
    })?;
    let y = frame.numeric(&args.outcome)?;
    let units = args.unit.as_deref().map(|u| frame.factor(u)).transpose()?;
    let covs = args
        .covariates
        .iter()
        .map(|c| frame.numeric(c))
        .collect::<Result<Vec<_>>>()?;
    let cats = args
        .dummies
        .iter()
        .map(|c| frame.strings(c))
        .collect::<Result<Vec<_>>>()?;
    let persons = args
        .persons
        .as_deref()
        .map(|p| frame.numeric(p))
        .transpose()?;
    // A row without a time or unit cannot be placed: an error. A row without the
    // outcome or a covariate is left out, with a note.
    let mut keep = Vec::with_capacity(n);
    let mut dropped = 0usize;
    for i in 0..n {
        check_row(args, &frame, i, &time, units.as_ref(), persons.as_ref())?;
        let complete = y.get(i).is_some()
            && covs.iter().all(|c| c.get(i).is_some())
            && cats.iter().all(|c| c[i].is_some());
        if complete {
            keep.push(i);
        } else {
            dropped += 1;
        }
    }
    if args.log
        && let Some(&i) = keep.iter().find(|&&i| y.get(i).is_some_and(|v| v <= 0.0))
    {
        return Err(Error::data(
            path,
            format!(
                "column \"{}\", {}: --log needs positive values, this one is {}",
                args.outcome,
                frame.row_ref(i),
                y.get(i).unwrap_or(f64::NAN)
            ),
        ));
    }
    let mut notes = Vec::new();
    if dropped > 0 {
        notes.push(format!(
            "{dropped} row(s) without the outcome or a covariate left out"
        ));
    }
    let pick = |v: &crate::data::Numbers| -> Vec<f64> {
        keep.iter().map(|&i| v.get(i).unwrap_or(f64::NAN)).collect()
    };
    let mut covariates: Vec<Vec<f64>> = covs.iter().map(pick).collect();
    covariates.extend(dummy_columns(args, &cats, &keep)?);
    Ok(ItsData {
        time: pick(&time),
        raw_y: pick(&y),
        y: if args.log {
            pick(&y).into_iter().map(f64::ln).collect()
        } else {
            pick(&y)
        },
        units: units.map(|u| {
            let mut by_text: Vec<usize> = (0..u.levels.len()).collect();
            by_text.sort_by(|&a, &b| u.levels[a].cmp(&u.levels[b]));
            let mut rank = vec![0u32; u.levels.len()];
            for (r, &k) in by_text.iter().enumerate() {
                rank[k] = r as u32;
            }
            let codes = keep
                .iter()
                .map(|&i| u.codes.get(i).map_or(0, |c| rank[c as usize]))
                .collect();
            (codes, u.levels.len())
        }),
        covariates,
        persons: persons.map(|p| pick(&p)),
        notes,
    })
}

/// The columns the flags name (each in one role only), loaded; the reader's
/// assumptions are printed as notes.
fn load(args: &ItsArgs) -> Result<Frame> {
    let path = &args.data;
    let mut cols = vec![args.time.clone(), args.outcome.clone()];
    cols.extend(args.unit.iter().cloned());
    cols.extend(args.covariates.iter().cloned());
    cols.extend(args.dummies.iter().cloned());
    cols.extend(args.persons.iter().cloned());
    let mut seen = BTreeSet::new();
    for c in &cols {
        if !seen.insert(c.clone()) {
            return Err(Error::usage(format!(
                "column \"{c}\" is named in two roles; each of --time, --outcome, --unit, \
                 --covariates, --dummies and --persons needs its own column"
            )));
        }
    }
    let frame = Frame::load_with(path, &cols, &[], &args.read.options()?)?;
    for a in frame.assumptions() {
        eprintln!("note: {}: {a}", path.display());
    }
    Ok(frame)
}

/// Row `i` has its time, its unit (with --unit) and a number of persons of 0 or more
/// (with --persons): a row without them cannot be placed.
fn check_row(
    args: &ItsArgs,
    frame: &Frame,
    i: usize,
    time: &crate::data::Numbers,
    units: Option<&crate::data::Factor>,
    persons: Option<&crate::data::Numbers>,
) -> Result<()> {
    let path = &args.data;
    if time.get(i).is_none() {
        return Err(Error::data(
            path,
            format!(
                "column \"{}\", {}: the time is missing; every row needs its period",
                args.time,
                frame.row_ref(i)
            ),
        ));
    }
    if let (Some(u), Some(name)) = (units, &args.unit)
        && u.codes.get(i).is_none()
    {
        return Err(Error::data(
            path,
            format!(
                "column \"{name}\", {}: the unit is missing; every row needs its unit",
                frame.row_ref(i)
            ),
        ));
    }
    if let (Some(p), Some(name)) = (persons, &args.persons) {
        match p.get(i) {
            Some(v) if v >= 0.0 => {}
            _ => {
                return Err(Error::data(
                    path,
                    format!(
                        "column \"{name}\", {}: the number of persons must be a number of \
                         0 or more",
                        frame.row_ref(i)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The indicator columns of the --dummies columns over the kept rows: one per level
/// after the first (each column needs at least two levels).
fn dummy_columns(
    args: &ItsArgs,
    cats: &[Vec<Option<String>>],
    keep: &[usize],
) -> Result<Vec<Vec<f64>>> {
    let path = &args.data;
    let mut covariates = Vec::new();
    for (c, name) in cats.iter().zip(&args.dummies) {
        let levels: BTreeSet<&str> = keep.iter().filter_map(|&i| c[i].as_deref()).collect();
        if levels.len() < 2 {
            return Err(Error::data(
                path,
                format!("--dummies \"{name}\": the column has one value; it needs at least two"),
            ));
        }
        for level in levels.iter().skip(1) {
            covariates.push(
                keep.iter()
                    .map(|&i| f64::from(u8::from(c[i].as_deref() == Some(*level))))
                    .collect(),
            );
        }
    }
    Ok(covariates)
}

/// The disclosure threshold the flags ask for (None without control).
fn threshold(args: &ItsArgs) -> Result<Option<usize>> {
    if args.no_disclosure_control {
        Ok(None)
    } else {
        Threshold::new(args.disclosure_threshold).map(|t| Some(t.get()))
    }
}

/// Read, fit and protect: the output of `via-eval its`.
pub fn compute(args: &ItsArgs) -> Result<ItsOutput> {
    if !(args.conf_level > 0.0 && args.conf_level < 1.0) {
        return Err(Error::usage(format!(
            "--conf-level {} must be between 0 and 1 (e.g. 0.95)",
            args.conf_level
        )));
    }
    let thr = threshold(args)?;
    let data = read(args)?;
    let path = &args.data;
    // Units numbered in their labels' text order (Clusters::from_sorted_labels).
    let clusters = data
        .units
        .as_ref()
        .map(|(codes, levels)| Clusters::from_ranked_codes(codes.clone(), *levels));
    let n_units = clusters.as_ref().map_or(1, Clusters::count);
    let se = match (&clusters, args.se) {
        (None, _) => ItsSe::NeweyWest { lag: args.hac_lag },
        (Some(_), Some(ItsSeArg::Cr1)) => ItsSe::Cluster(SeType::Cr1),
        (Some(_), Some(ItsSeArg::Cr2)) => ItsSe::Cluster(SeType::Cr2),
        (Some(_), None) if n_units < crate::analysis::estimate::FEW_CLUSTERS => {
            ItsSe::Cluster(SeType::Cr2)
        }
        (Some(_), None) => ItsSe::Cluster(SeType::Cr1),
    };
    if clusters.is_some() && n_units < 2 {
        return Err(Error::data(
            path,
            format!(
                "--unit \"{}\": the column has one unit; leave out --unit for one series",
                args.unit.as_deref().unwrap_or("")
            ),
        ));
    }
    let cov_refs: Vec<&[f64]> = data.covariates.iter().map(Vec::as_slice).collect();
    let fit = its::its(
        &ItsInput {
            time: &data.time,
            y: &data.y,
            units: clusters.as_ref(),
            covariates: &cov_refs,
        },
        &ItsOptions {
            start: args.start,
            se,
            conf_level: args.conf_level,
        },
    )
    .map_err(|e| {
        Error::data(
            path,
            format!(
                "interrupted time series of \"{}\" over \"{}\" with --start {}: {e}",
                args.outcome, args.time, args.start
            ),
        )
    })?;
    let (disclosure, withheld) = protect(args, thr, &data, &fit);
    let mut notes = data.notes;
    notes.extend(disclosure_notes(args, thr, &disclosure));
    Ok(output(args, &fit, disclosure, &withheld, notes))
}

/// Which periods' observed values are withheld, and whether the estimates are.
fn protect(
    args: &ItsArgs,
    thr: Option<usize>,
    data: &ItsData,
    fit: &ItsFit,
) -> (ItsDisclosure, Vec<bool>) {
    let mut withheld = vec![false; fit.series.len()];
    let basis = match (&args.persons, args.outcome_is_count) {
        (Some(p), true) => {
            format!("persons per row (column \"{p}\") and the outcome as a count of persons")
        }
        (Some(p), false) => format!("persons per row (column \"{p}\")"),
        (None, true) => "the outcome as a count of persons".to_string(),
        (None, false) => {
            "none: the values are taken to be aggregates over enough persons (give --persons \
             or --outcome-is-count when they are not)"
                .to_string()
        }
    };
    let Some(t) = thr else {
        return (
            ItsDisclosure {
                applied: false,
                threshold: 0,
                basis,
                withheld_points: 0,
                suppressed_estimates: 0,
            },
            withheld,
        );
    };
    let tf = t as f64;
    let index = |time: f64| {
        fit.series
            .binary_search_by(|p| p.time.total_cmp(&time))
            .unwrap_or(0)
    };
    let (mut pre_persons, mut post_persons) = (0.0, 0.0);
    let mut period_persons = vec![0.0; fit.series.len()];
    for (i, &time) in data.time.iter().enumerate() {
        let k = index(time);
        if let Some(p) = &data.persons {
            period_persons[k] += p[i];
            if time < args.start {
                pre_persons += p[i];
            } else {
                post_persons += p[i];
            }
        }
        if args.outcome_is_count && data.raw_y[i] >= 1.0 && data.raw_y[i] < tf {
            withheld[k] = true;
        }
    }
    let mut suppress_estimates = false;
    if data.persons.is_some() {
        for (w, &p) in withheld.iter_mut().zip(&period_persons) {
            if p < tf {
                *w = true;
            }
        }
        suppress_estimates = pre_persons < tf || post_persons < tf;
    }
    let withheld_points = withheld.iter().filter(|&&w| w).count();
    (
        ItsDisclosure {
            applied: true,
            threshold: t,
            basis,
            withheld_points,
            suppressed_estimates: if suppress_estimates { 4 } else { 0 },
        },
        withheld,
    )
}

fn disclosure_notes(args: &ItsArgs, thr: Option<usize>, d: &ItsDisclosure) -> Vec<String> {
    let mut notes = Vec::new();
    match thr {
        None => notes.push(
            "disclosure control is OFF (--no-disclosure-control): small cells may be shown; \
             for use inside a secure environment only"
                .to_string(),
        ),
        Some(t) => {
            if args.persons.is_none() && !args.outcome_is_count {
                notes.push(format!(
                    "disclosure control: the rows are periods; the values are taken to be \
                     aggregates over at least {t} persons each (give --persons COL or \
                     --outcome-is-count when they are not)"
                ));
            }
            if d.withheld_points > 0 {
                notes.push(format!(
                    "disclosure control: the observed value of {} period(s) resting on fewer \
                     than {t} persons is withheld (null in the series, left out of the chart)",
                    d.withheld_points
                ));
            }
            if d.suppressed_estimates > 0 {
                notes.push(format!(
                    "disclosure control: the periods before or from the start rest on fewer \
                     than {t} persons; every estimate is withheld"
                ));
            }
        }
    }
    notes
}

fn output(
    args: &ItsArgs,
    fit: &ItsFit,
    disclosure: ItsDisclosure,
    withheld: &[bool],
    notes: Vec<String>,
) -> ItsOutput {
    let suppress = disclosure.suppressed_estimates > 0;
    let outcome = if args.log {
        format!("log({})", args.outcome)
    } else {
        args.outcome.clone()
    };
    let estimate = |estimator: &str, inf: &Inference| {
        let v = |x: f64| (!suppress && x.is_finite()).then_some(x);
        ItsEstimate {
            outcome: outcome.clone(),
            subset: "all".into(),
            estimator: estimator.into(),
            se_type: fit.se_type.into(),
            df_rule: fit.df_rule.into(),
            scale: estimator
                .starts_with("its_pre")
                .not()
                .then_some(Scale::Difference),
            estimate: v(inf.estimate),
            std_error: v(inf.std_error),
            statistic: v(inf.statistic),
            ci_low: v(inf.ci_low),
            ci_high: v(inf.ci_high),
            conf_level: args.conf_level,
            p_value: v(inf.p_value),
            df: if suppress { None } else { inf.df },
            n: fit.n,
            suppressed: suppress,
        }
    };
    let hac_lag_rule = fit.hac_lag.map(|l| match args.hac_lag {
        Some(_) => format!("--hac-lag {l}"),
        None => format!(
            "floor(4*(T/100)^(2/9)) = {} for T = {} periods (Newey & West 1994)",
            default_hac_lag(fit.n_pre_periods + fit.n_post_periods),
            fit.n_pre_periods + fit.n_post_periods
        ),
    });
    let mut terms = vec![
        "b0".to_string(),
        "b1*(t - start)".into(),
        "b2*post".into(),
        "b3*(t - start)*post".into(),
    ];
    terms.extend(args.covariates.iter().cloned());
    terms.extend(args.dummies.iter().map(|d| format!("indicators({d})")));
    if args.unit.is_some() {
        terms.push("unit effects (sum to zero)".into());
    }
    let small_sample = match fit.se_type {
        "newey_west" => "n/(n-k); Bartlett weights 1 - l/(L+1)",
        "CR1" => "G/(G-1)*(n-1)/(n-k)",
        _ => "Bell-McCaffrey adjustment (I - H_gg)^(-1/2)",
    };
    ItsOutput {
        tool: format!("via-eval {}", env!("CARGO_PKG_VERSION")),
        input: args.data.display().to_string(),
        estimates: vec![
            estimate("its_level", &fit.level_change),
            estimate("its_slope", &fit.slope_change),
        ],
        pre_period: ItsPrePeriod {
            level: estimate("its_pre_level", &fit.pre_level),
            slope: estimate("its_pre_slope", &fit.pre_slope),
        },
        model: ItsModel {
            time: args.time.clone(),
            start: args.start,
            unit: args.unit.clone(),
            covariates: args.covariates.clone(),
            dummies: args.dummies.clone(),
            formula: format!("{outcome} = {} + e", terms.join(" + ")),
            se_type: fit.se_type.into(),
            hac_lag: fit.hac_lag,
            hac_lag_rule,
            small_sample: small_sample.into(),
            df_rule: fit.df_rule.into(),
            n: fit.n,
            k: fit.k,
            n_units: fit.n_units,
            n_pre_periods: fit.n_pre_periods,
            n_post_periods: fit.n_post_periods,
        },
        series: fit
            .series
            .iter()
            .zip(withheld)
            .map(|(p, &w)| ItsPointOut {
                time: p.time,
                observed: (!w).then_some(p.observed),
                fitted: p.fitted,
                counterfactual: p.counterfactual,
                trend: p.trend,
                trend_counterfactual: p.trend_counterfactual,
            })
            .collect(),
        disclosure,
        notes,
    }
}

fn opt_value(x: Option<f64>) -> String {
    x.map_or_else(|| "suppressed".to_string(), fmt_value)
}

fn label(estimator: &str) -> &'static str {
    match estimator {
        "its_level" => "Level change at the start",
        "its_slope" => "Slope change (per time unit)",
        "its_pre_level" => "Pre-period level at the start",
        _ => "Pre-period slope (per time unit)",
    }
}

/// The standard errors in words.
fn method_text(out: &ItsOutput) -> String {
    let m = &out.model;
    let df = out.estimates[0]
        .df
        .map_or_else(|| "suppressed".to_string(), |d| format!("{}", d.round()));
    match m.se_type.as_str() {
        "newey_west" => format!(
            "Newey-West (HAC) standard errors, Bartlett kernel, lag {} ({}), small-sample \
             factor n/(n-k); t with n - k = {df} df",
            m.hac_lag.unwrap_or(0),
            m.hac_lag_rule.as_deref().unwrap_or("")
        ),
        "CR1" => format!(
            "cluster-robust standard errors by unit (CR1, factor G/(G-1)*(n-1)/(n-k)), {} \
             units; t with G - 1 = {df} df",
            m.n_units
        ),
        _ => format!(
            "cluster-robust standard errors by unit (CR2, Bell-McCaffrey), {} units; t with \
             Bell-McCaffrey df (per estimate)",
            m.n_units
        ),
    }
}

/// The `table` format.
pub fn table(out: &ItsOutput) -> String {
    let mut rows = vec![
        ["", "estimate", "ci_low", "ci_high", "std_error", "p"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    ];
    for e in out.all_rows() {
        rows.push(vec![
            format!("{} ({})", label(&e.estimator), e.estimator),
            opt_value(e.estimate),
            opt_value(e.ci_low),
            opt_value(e.ci_high),
            opt_value(e.std_error),
            e.p_value.map_or_else(|| "suppressed".into(), fmt_p),
        ]);
    }
    let m = &out.model;
    let mut text = format!(
        "Interrupted time series: {} over {}, start {} ({} periods before, {} from the start{})\n\n",
        out.estimates[0].outcome,
        m.time,
        m.start,
        m.n_pre_periods,
        m.n_post_periods,
        if m.n_units > 1 {
            format!(", {} units", m.n_units)
        } else {
            String::new()
        }
    );
    text.push_str(&render(&rows));
    text.push_str(&format!(
        "\nModel: {}.\nMethod: segmented regression (OLS); {}; {:.0}% intervals.\n",
        m.formula,
        method_text(out),
        100.0 * out.estimates[0].conf_level
    ));
    for n in &out.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text
}

fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| format!("{v:?}"))
        .unwrap_or_default()
}

/// The `csv` format: one row per estimate.
pub fn csv(out: &ItsOutput) -> String {
    let mut text = String::from(
        "outcome,estimator,estimate,std_error,statistic,df,p_value,ci_low,ci_high,conf_level,se_type,hac_lag,n,n_units,suppressed\n",
    );
    for e in out.all_rows() {
        let outcome = if e.outcome.contains([',', '"', '\n']) {
            format!("\"{}\"", e.outcome.replace('"', "\"\""))
        } else {
            e.outcome.clone()
        };
        text.push_str(&format!(
            "{outcome},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            e.estimator,
            num(e.estimate),
            num(e.std_error),
            num(e.statistic),
            num(e.df),
            num(e.p_value),
            num(e.ci_low),
            num(e.ci_high),
            e.conf_level,
            e.se_type,
            out.model.hac_lag.map(|l| l.to_string()).unwrap_or_default(),
            e.n,
            out.model.n_units,
            e.suppressed
        ));
    }
    text
}

pub fn run(args: &ItsArgs) -> Result<()> {
    let out = compute(args)?;
    if let Some(dir) = &args.out {
        write_chart(&out, args.lang.into(), dir)?;
    }
    super::emit(args.format, &out, &out.notes, table, csv)
}

/// The chart of the output, in `lang`; every number taken from the output.
pub fn its_chart(out: &ItsOutput, lang: Lang) -> ItsChart {
    let nl = lang == Lang::Nl;
    let m = &out.model;
    let outcome = &out.estimates[0].outcome;
    let lines = ChartLines::new(out);
    let units = if m.n_units > 1 {
        if nl {
            format!(" (gemiddelde van {} eenheden)", m.n_units)
        } else {
            format!(" (mean of {} units)", m.n_units)
        }
    } else {
        String::new()
    };
    ItsChart {
        title: if nl {
            format!("Onderbroken tijdreeks: {outcome}")
        } else {
            format!("Interrupted time series: {outcome}")
        },
        subtitle: chart_subtitle(out, lang),
        x_label: if nl {
            format!("Periode ({})", m.time)
        } else {
            format!("Period ({})", m.time)
        },
        y_label: format!("{outcome}{units}"),
        observed: lines.observed,
        fitted_pre: lines.fitted_pre,
        fitted_post: lines.fitted_post,
        projected: lines.projected,
        start: m.start,
        legend: if nl {
            [
                "Waargenomen".into(),
                "Model".into(),
                "Zonder interventie".into(),
                "Start".into(),
            ]
        } else {
            [
                "Observed".into(),
                "Fitted".into(),
                "Without the intervention".into(),
                "Start".into(),
            ]
        },
        note: chart_note(out, lang),
        lang,
    }
}

/// The chart's series, (time, value) each: the observed periods that are published,
/// the fitted segments before and from the start, and the pre-period line continued
/// from the last period before the start.
struct ChartLines {
    observed: Vec<(f64, f64)>,
    fitted_pre: Vec<(f64, f64)>,
    fitted_post: Vec<(f64, f64)>,
    projected: Vec<(f64, f64)>,
}

impl ChartLines {
    /// The lines from the output's series (the fitted ones from its `trend` and
    /// `trend_counterfactual`), split at the start.
    fn new(out: &ItsOutput) -> Self {
        let start = out.model.start;
        let observed = out
            .series
            .iter()
            .filter_map(|p| p.observed.map(|o| (p.time, o)))
            .collect();
        let points: Vec<(f64, f64, f64)> = out
            .series
            .iter()
            .map(|p| (p.time, p.trend, p.trend_counterfactual))
            .collect();
        let lines = plot::ItsLines::split(&points, start);
        Self {
            observed,
            fitted_pre: lines.fitted_pre,
            fitted_post: lines.fitted_post,
            projected: lines.projected,
        }
    }
}

/// The chart's subtitle: the level change and the slope change with their intervals
/// ("suppressed" where withheld).
fn chart_subtitle(out: &ItsOutput, lang: Lang) -> String {
    let nl = lang == Lang::Nl;
    let n = |v: Option<f64>| {
        v.map_or_else(
            || {
                if nl {
                    "onderdrukt".into()
                } else {
                    "suppressed".into()
                }
            },
            |x| plot::its_number(x, lang),
        )
    };
    let (lvl, slope) = (&out.estimates[0], &out.estimates[1]);
    let pct = if (100.0 * lvl.conf_level).fract() == 0.0 {
        format!("{:.0}", 100.0 * lvl.conf_level)
    } else {
        plot::its_number(100.0 * lvl.conf_level, lang)
    };
    let sep = if nl { "; " } else { ", " };
    if nl {
        format!(
            "Niveauverandering bij de start {} [{pct}%-BI {}{sep}{}]; hellingsverandering {} per periode [{}{sep}{}]",
            n(lvl.estimate),
            n(lvl.ci_low),
            n(lvl.ci_high),
            n(slope.estimate),
            n(slope.ci_low),
            n(slope.ci_high)
        )
    } else {
        format!(
            "Level change at the start {} [{pct}% CI {}{sep}{}]; slope change {} per period [{}{sep}{}]",
            n(lvl.estimate),
            n(lvl.ci_low),
            n(lvl.ci_high),
            n(slope.estimate),
            n(slope.ci_low),
            n(slope.ci_high)
        )
    }
}

/// The chart's note: the method and standard errors, what the lines are and the
/// assumption behind the dashed one, then the periods left out by disclosure control
/// and a warning when there was none.
fn chart_note(out: &ItsOutput, lang: Lang) -> String {
    let nl = lang == Lang::Nl;
    let m = &out.model;
    let se = match m.se_type.as_str() {
        "newey_west" => format!("Newey-West, lag {}", m.hac_lag.unwrap_or(0)),
        s => format!(
            "{s}, {}",
            if nl {
                "geclusterd per eenheid"
            } else {
                "clustered by unit"
            }
        ),
    };
    let seasonal = match (m.covariates.is_empty() && m.dummies.is_empty(), nl) {
        (true, _) => "",
        (false, true) => " bij het gemiddelde van de covariaten",
        (false, false) => " at the covariates' mean",
    };
    let mut note = if nl {
        format!(
            "Gesegmenteerde regressie; standaardfouten {se}. Lijnen: de geschatte segmenten{seasonal}. Gestreepte lijn: de lijn van vóór de start doorgetrokken, wat het model verwacht zonder de interventie; de aanname is dat er rond de start niets anders veranderde."
        )
    } else {
        format!(
            "Segmented regression; standard errors {se}. Lines: the fitted segments{seasonal}. Dashed line: the pre-period line continued, what the model expects without the intervention; this assumes nothing else changed around the start."
        )
    };
    if out.disclosure.withheld_points > 0 {
        note.push_str(&if nl {
            format!(
                " {} perioden zijn weggelaten (minder dan {} personen).",
                out.disclosure.withheld_points, out.disclosure.threshold
            )
        } else {
            format!(
                " {} periods left out (fewer than {} persons).",
                out.disclosure.withheld_points, out.disclosure.threshold
            )
        });
    }
    if !out.disclosure.applied {
        note.push_str(if nl {
            " ZONDER onthullingscontrole: alleen voor gebruik in een beveiligde omgeving."
        } else {
            " WITHOUT disclosure control: for use inside a secure environment only."
        });
    }
    note
}

/// Write its.png and its.svg into `dir`.
fn write_chart(out: &ItsOutput, lang: Lang, dir: &Path) -> Result<()> {
    let chart = its_chart(out, lang);
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, "cannot create the output folder").with_cause(e))?;
    let png = plot::its_chart_png(&chart)?;
    let svg = plot::its_chart_svg(&chart)?;
    for (name, bytes) in [("its.png", png), ("its.svg", svg.into_bytes())] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, "cannot write").with_cause(e))?;
    }
    Ok(())
}
