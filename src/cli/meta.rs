//! `via-eval meta FILE`: pool estimates across sites or projects by meta-analysis.
//!
//! Input, one of:
//! - a CSV file with one row per study: `--estimate COL --std-error COL`, optionally
//!   `--label COL` and `--n COL` (the study's sample size, shown in the table and chart);
//! - a via-eval `results.json` with `--outcome ID`: the per-project estimates of the
//!   headline estimator of that outcome (one comparison, `--comparison` when the pilot
//!   has several), each with its estimate and standard error. Estimates on the ratio
//!   scale are pooled on the log scale (results.json gives the SE of the log ratio) and
//!   reported back on the ratio scale. Projects whose estimate disclosure control
//!   withheld are left out, with a note.
//!
//! The numbers come from [`crate::stats::meta`]; this module reads, formats and draws.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::choices::LangArg;
use crate::analysis::Scale;
use crate::cli::Format;
use crate::config::Lang;
use crate::error::{Error, Result, did_you_mean};
use crate::plot::{self, ForestChart, ForestHeterogeneity, ForestPooled, ForestRow};
use crate::report::{fmt_p, fmt_value, tables::render};
use crate::stats::meta::{self, Method, Options, Pooled};

/// Examples at the end of `via-eval meta --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval meta sites.csv --estimate effect --std-error se --label site
  via-eval meta out/leren-en-werken/results.json --outcome work_18m --out out/meta
  via-eval meta sites.csv --estimate effect --std-error se --method dl --no-hksj --format json
  via-eval meta out/lew/results.json out/uwv/results.json --outcome work_12m \\
      --comparison \"persoonlijk vs basis-online\"";

/// `--method`: the estimator of the between-study variance tau².
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Inverse-variance fixed (common) effect.
    Fe,
    /// Random effects, tau² by DerSimonian-Laird.
    Dl,
    /// Random effects, tau² by restricted maximum likelihood.
    Reml,
    /// Random effects, tau² by Paule-Mandel.
    Pm,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Fe => Method::Fixed,
            MethodArg::Dl => Method::DerSimonianLaird,
            MethodArg::Reml => Method::Reml,
            MethodArg::Pm => Method::PauleMandel,
        }
    }
}

/// `--measure`: the effect measure computed from event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MeasureArg {
    /// Risk difference.
    Rd,
    /// Risk ratio.
    Rr,
    /// Odds ratio.
    Or,
}

impl From<MeasureArg> for meta::Measure {
    fn from(m: MeasureArg) -> Self {
        match m {
            MeasureArg::Rd => meta::Measure::RiskDifference,
            MeasureArg::Rr => meta::Measure::LogRiskRatio,
            MeasureArg::Or => meta::Measure::LogOddsRatio,
        }
    }
}

/// Below this many estimates the Hartung-Knapp-Sidik-Jonkman adjustment is on unless
/// `--no-hksj` is given.
pub const HKSJ_BELOW: usize = 10;

#[derive(clap::Args, Debug)]
pub struct MetaArgs {
    /// A CSV file with one row per study, or a via-eval results.json (with --outcome;
    /// its projects are pooled), or several results.json files (with --outcome; the
    /// pilots' whole-sample estimates of that outcome are pooled).
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// CSV: column with the estimates.
    #[arg(long, help_heading = super::INPUT)]
    pub estimate: Option<String>,
    /// CSV: column with their standard errors.
    #[arg(long, help_heading = super::INPUT)]
    pub std_error: Option<String>,
    /// CSV: column with the study labels (default: study 1, study 2, ...).
    #[arg(long, help_heading = super::INPUT)]
    pub label: Option<String>,
    /// CSV: column with each study's sample size (optional).
    #[arg(long, help_heading = super::INPUT)]
    pub n: Option<String>,
    /// CSV of counts: column with the events in the treated arm (with --n-treated,
    /// --events-control, --n-control and --measure, instead of --estimate).
    #[arg(long, help_heading = super::INPUT, requires_all = ["n_treated", "events_control", "n_control"], conflicts_with_all = ["estimate", "std_error", "n"])]
    pub events_treated: Option<String>,
    /// CSV of counts: column with the size of the treated arm.
    #[arg(long, help_heading = super::INPUT, requires = "events_treated")]
    pub n_treated: Option<String>,
    /// CSV of counts: column with the events in the control arm.
    #[arg(long, help_heading = super::INPUT, requires = "events_treated")]
    pub events_control: Option<String>,
    /// CSV of counts: column with the size of the control arm.
    #[arg(long, help_heading = super::INPUT, requires = "events_treated")]
    pub n_control: Option<String>,
    /// CSV of counts: the effect measure (risk difference, risk ratio, odds ratio;
    /// ratios are pooled on the log scale). As metafor escalc, 1/2 is added to every
    /// cell of a study with a zero cell.
    #[arg(long, help_heading = super::INPUT, value_enum, default_value = "rd")]
    pub measure: MeasureArg,
    /// results.json: the outcome whose per-project estimates are pooled.
    #[arg(long, help_heading = super::INPUT)]
    pub outcome: Option<String>,
    /// results.json: the comparison ("<treated> vs <control>") when there are several.
    /// Pooling pilots: repeat it to name the comparison of each pilot that has several.
    #[arg(long, help_heading = super::INPUT)]
    pub comparison: Vec<String>,
    /// Fixed effect, or random effects with tau² by DL, REML or Paule-Mandel.
    #[arg(long, help_heading = super::ANALYSIS, value_enum, default_value = "reml")]
    pub method: MethodArg,
    /// Hartung-Knapp-Sidik-Jonkman standard error and t(k-1) intervals (default when
    /// there are fewer than 10 estimates).
    #[arg(long, help_heading = super::ANALYSIS, conflicts_with = "no_hksj")]
    pub hksj: bool,
    /// Normal (z) inference, without the HKSJ adjustment.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub no_hksj: bool,
    /// Confidence level of every interval.
    #[arg(long, help_heading = super::ANALYSIS, default_value_t = 0.95)]
    pub conf_level: f64,
    /// Output format (to standard output).
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "table")]
    pub format: Format,
    /// Folder for the forest plot (forest.png and forest.svg).
    #[arg(short, long, help_heading = super::OUTPUT, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Language of the forest plot.
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "en")]
    pub lang: LangArg,
}

/// One study (site, project) as read, on the scale it is pooled on (log for ratios).
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    pub label: String,
    pub estimate: f64,
    pub std_error: f64,
    pub n: Option<usize>,
}

/// The estimates to pool and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaInput {
    pub studies: Vec<Study>,
    /// Ratio: `estimate` of each study is the log ratio.
    pub scale: Scale,
    pub outcome: Option<String>,
    pub comparison: Option<String>,
    pub treated: Option<String>,
    pub control: Option<String>,
    pub notes: Vec<String>,
    /// What the studies are: "study", "project" or "pilot" (for the chart's words).
    pub unit: &'static str,
}

/// The heterogeneity block of the JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeterogeneityOut {
    pub tau2: f64,
    pub tau2_ci_low: f64,
    pub tau2_ci_high: f64,
    pub i2: f64,
    pub h2: f64,
    pub q: f64,
    pub q_df: f64,
    pub q_p_value: f64,
}

/// One leave-one-out row (on the reporting scale; tau² on the pooling scale).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOneOutRow {
    pub left_out: String,
    pub estimate: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub tau2: f64,
    pub i2: f64,
}

/// The pooled estimate, with the fields of a results.json estimate and the
/// meta-analysis ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaEstimate {
    pub outcome: Option<String>,
    pub subset: String,
    pub comparison: Option<String>,
    pub treated: Option<String>,
    pub control: Option<String>,
    /// meta_fe, meta_dl, meta_reml or meta_pm.
    pub estimator: String,
    /// "hksj" when the Hartung-Knapp-Sidik-Jonkman adjustment is applied, else null.
    pub se_type: Option<String>,
    pub df_rule: Option<String>,
    pub scale: Scale,
    pub estimate: f64,
    /// Of the log ratio for ratio-scale estimates, as in results.json.
    pub std_error: f64,
    pub statistic: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub conf_level: f64,
    pub p_value: f64,
    pub df: Option<f64>,
    /// Number of estimates pooled.
    pub k: usize,
    /// Sum of the studies' sizes, when every study has one.
    pub n: Option<usize>,
    pub heterogeneity: HeterogeneityOut,
    /// Prediction interval for a new site; null for the fixed effect.
    pub prediction_low: Option<f64>,
    pub prediction_high: Option<f64>,
    pub leave_one_out: Vec<LeaveOneOutRow>,
}

/// One input study in the output, on the reporting scale, with its weight in percent
/// and its normal (z) confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyOut {
    pub label: String,
    pub n: Option<usize>,
    pub estimate: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub weight: f64,
}

/// Everything `via-eval meta` reports (`--format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaOutput {
    pub tool: String,
    pub input: String,
    pub estimates: Vec<MetaEstimate>,
    pub studies: Vec<StudyOut>,
    pub notes: Vec<String>,
}

/// The file's text, or an I/O error naming it.
fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, "cannot read the file").with_cause(e))
}

impl MetaArgs {
    /// The first input file (the only one, except when pooling pilots).
    pub fn file(&self) -> &Path {
        self.files.first().map_or(Path::new(""), PathBuf::as_path)
    }
}

/// Whether the input is a results.json (by extension, or because `--outcome` is given).
fn is_json(args: &MetaArgs) -> bool {
    args.outcome.is_some()
        || args
            .file()
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The pooling scale: ratio (estimates on the log scale) or difference.
fn scale_of(ratio: bool) -> Scale {
    if ratio {
        Scale::Ratio
    } else {
        Scale::Difference
    }
}

/// Where the numbers of a CSV input are: the columns read per row and how to read them.
struct CsvLayout<'a> {
    /// The effect measure when the rows hold counts; None when they hold estimates.
    counts: Option<meta::Measure>,
    /// Estimate and SE, or the four counts, each by index and column name.
    values: Vec<(usize, &'a str)>,
    /// The column of the labels (--label).
    label: Option<usize>,
    /// The column of the sample sizes (--n), by index and name.
    n: Option<(usize, &'a str)>,
}

/// The index of column `name` (named by `flag`) in the header; an error lists the
/// columns and hints at the closest one.
fn column_index(path: &Path, headers: &csv::StringRecord, name: &str, flag: &str) -> Result<usize> {
    headers.iter().position(|h| h == name).ok_or_else(|| {
        let hint = did_you_mean(name, headers.iter());
        Error::data(
            path,
            format!(
                "{flag} \"{name}\": no such column.{hint} Columns: {}.",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

/// Look up in the header the columns the flags name: the numbers (estimate and SE, or
/// the four counts), then --label and --n.
fn csv_layout<'a>(
    args: &'a MetaArgs,
    path: &Path,
    headers: &csv::StringRecord,
) -> Result<CsvLayout<'a>> {
    let counts = args.events_treated.is_some();
    // The numeric columns read per row, with their flags: estimate and SE, or the
    // four counts.
    let flags: Vec<(&str, &str)> = if counts {
        vec![
            (
                "--events-treated",
                args.events_treated.as_deref().unwrap_or(""),
            ),
            ("--n-treated", args.n_treated.as_deref().unwrap_or("")),
            (
                "--events-control",
                args.events_control.as_deref().unwrap_or(""),
            ),
            ("--n-control", args.n_control.as_deref().unwrap_or("")),
        ]
    } else {
        vec![
            ("--estimate", args.estimate.as_deref().unwrap_or("")),
            ("--std-error", args.std_error.as_deref().unwrap_or("")),
        ]
    };
    let values: Vec<(usize, &str)> = flags
        .iter()
        .map(|(flag, name)| column_index(path, headers, name, flag).map(|i| (i, *name)))
        .collect::<Result<_>>()?;
    let label = args
        .label
        .as_deref()
        .map(|c| column_index(path, headers, c, "--label"))
        .transpose()?;
    let n = args
        .n
        .as_deref()
        .map(|c| column_index(path, headers, c, "--n").map(|i| (i, c)))
        .transpose()?;
    Ok(CsvLayout {
        counts: counts.then(|| args.measure.into()),
        values,
        label,
        n,
    })
}

/// One CSV row as a study: its numbers checked, counts turned into the effect and its
/// SE; without a label column it is called "study {index + 1}".
fn csv_study(
    path: &Path,
    rec: &csv::StringRecord,
    layout: &CsvLayout,
    index: usize,
) -> Result<Study> {
    let line = rec.position().map_or(0, |p| p.line());
    let field = |i: usize| rec.get(i).unwrap_or("");
    let number = |(i, name): (usize, &str)| -> Result<f64> {
        let s = field(i);
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                Error::data(
                    path,
                    format!("line {line}, column \"{name}\": \"{s}\" is not a finite number"),
                )
            })
    };
    let values: Vec<f64> = layout
        .values
        .iter()
        .map(|&c| number(c))
        .collect::<Result<_>>()?;
    let (estimate, std_error, n_counts) = match layout.counts {
        Some(measure) => {
            let (y, v) =
                meta::effect_from_counts(measure, values[0], values[1], values[2], values[3])
                    .map_err(|e| Error::data(path, format!("line {line}: {e}")))?;
            (y, v.sqrt(), Some((values[1] + values[3]) as usize))
        }
        None => (values[0], values[1], None),
    };
    if layout.counts.is_none() && std_error <= 0.0 {
        return Err(Error::data(
            path,
            format!(
                "line {line}, column \"{}\": standard error {std_error} must be positive",
                layout.values[1].1
            ),
        ));
    }
    let n = match layout.n {
        Some((i, name)) => Some(field(i).parse::<usize>().map_err(|_| {
            Error::data(
                path,
                format!(
                    "line {line}, column \"{name}\": \"{}\" is not a whole number",
                    field(i)
                ),
            )
        })?),
        None => n_counts,
    };
    let label = match layout.label {
        Some(i) => field(i).to_string(),
        None => format!("study {}", index + 1),
    };
    Ok(Study {
        label,
        estimate,
        std_error,
        n,
    })
}

/// Read the studies from a CSV file with the columns the flags name.
pub fn read_csv(args: &MetaArgs) -> Result<MetaInput> {
    let path = args.file();
    let counts = args.events_treated.is_some();
    if !counts && (args.estimate.is_none() || args.std_error.is_none()) {
        return Err(Error::usage(
            "a CSV input needs --estimate COL and --std-error COL, or the counts \
             --events-treated, --n-treated, --events-control and --n-control \
             (or give a results.json with --outcome ID)",
        ));
    }
    let text = read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::data(path, "cannot read the header line").with_cause(e))?
        .clone();
    let layout = csv_layout(args, path, &headers)?;
    let mut studies = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| Error::data(path, "cannot read a line").with_cause(e))?;
        let study = csv_study(path, &rec, &layout, studies.len())?;
        studies.push(study);
    }
    if studies.len() < 2 {
        return Err(Error::data(
            path,
            format!(
                "a meta-analysis needs at least 2 estimates, the file has {}",
                studies.len()
            ),
        ));
    }
    let ratio = layout
        .counts
        .is_some_and(|m| m != meta::Measure::RiskDifference);
    Ok(MetaInput {
        studies,
        scale: scale_of(ratio),
        outcome: None,
        comparison: None,
        treated: None,
        control: None,
        notes: Vec::new(),
        unit: "study",
    })
}

/// A via-eval results.json as read: the pilot's slug and the estimate rows.
struct ResultsFile {
    slug: Option<String>,
    estimates: Vec<serde_json::Value>,
}

/// Read a via-eval results.json; an error when it is not JSON or has no "estimates"
/// array.
fn read_results_file(path: &Path) -> Result<ResultsFile> {
    let mut v: serde_json::Value = serde_json::from_str(&read_text(path)?)
        .map_err(|e| Error::data(path, "is not valid JSON").with_cause(e))?;
    let Some(serde_json::Value::Array(estimates)) = v.get_mut("estimates").map(std::mem::take)
    else {
        return Err(Error::data(
            path,
            "has no \"estimates\" array; is it a via-eval results.json?",
        ));
    };
    Ok(ResultsFile {
        slug: v["slug"].as_str().map(String::from),
        estimates,
    })
}

/// A text field of a results.json row ("" when it is missing or not text).
fn str_field(r: &serde_json::Value, k: &str) -> String {
    r[k].as_str().unwrap_or("").to_string()
}

/// Whether an estimate and its standard error can be pooled: finite, a positive SE,
/// and a positive estimate on the ratio scale.
fn poolable(est: f64, se: f64, ratio: bool) -> bool {
    se.is_finite() && se > 0.0 && est.is_finite() && (!ratio || est > 0.0)
}

/// A results.json estimate row as a study, on the pooling scale (log for ratios); its
/// size is the treated plus the control arm when both are given.
fn json_study(label: String, est: f64, se: f64, ratio: bool, row: &serde_json::Value) -> Study {
    let n = match (row["n_treated"].as_u64(), row["n_control"].as_u64()) {
        (Some(a), Some(b)) => Some((a + b) as usize),
        _ => None,
    };
    Study {
        label,
        estimate: if ratio { est.ln() } else { est },
        std_error: se,
        n,
    }
}

/// Refuse an `--outcome` the results do not hold, listing those they do.
fn check_outcome(path: &Path, rows: &[serde_json::Value], outcome: &str) -> Result<()> {
    let outcomes: BTreeSet<String> = rows.iter().map(|r| str_field(r, "outcome")).collect();
    if !outcomes.contains(outcome) {
        let hint = did_you_mean(outcome, outcomes.iter().map(String::as_str));
        return Err(Error::data(
            path,
            format!(
                "--outcome \"{outcome}\" is not in the results.{hint} Outcomes: {}.",
                outcomes.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}

/// The comparison whose projects are pooled: the one `--comparison` names, or the only
/// one the outcome has.
fn choose_comparison(
    args: &MetaArgs,
    outcome: &str,
    chosen: &[&serde_json::Value],
) -> Result<String> {
    let comparisons: BTreeSet<String> = chosen.iter().map(|r| str_field(r, "comparison")).collect();
    match args.comparison.first() {
        Some(c) if comparisons.contains(c) => Ok(c.clone()),
        Some(c) => Err(Error::usage(format!(
            "--comparison \"{c}\" is not among the comparisons of \"{outcome}\": {}",
            comparisons.into_iter().collect::<Vec<_>>().join("; ")
        ))),
        None if comparisons.len() == 1 => Ok(comparisons.into_iter().next().unwrap_or_default()),
        None => Err(Error::usage(format!(
            "outcome \"{outcome}\" has several comparisons; choose one with --comparison: {}",
            comparisons.into_iter().collect::<Vec<_>>().join("; ")
        ))),
    }
}

/// The studies of the per-project rows, and a note for each project left out (withheld,
/// without an estimate or SE, or not poolable).
fn project_studies(chosen: &[&serde_json::Value], ratio: bool) -> (Vec<Study>, Vec<String>) {
    let mut notes = Vec::new();
    let mut studies = Vec::new();
    for r in chosen {
        let label = str_field(r, "subset");
        let (Some(est), Some(se)) = (r["estimate"].as_f64(), r["std_error"].as_f64()) else {
            notes.push(if r["suppressed"].as_bool() == Some(true) {
                format!("project {label} left out: its estimate is withheld by disclosure control")
            } else {
                format!("project {label} left out: it has no estimate or standard error")
            });
            continue;
        };
        if !poolable(est, se, ratio) {
            notes.push(format!(
                "project {label} left out: estimate {est} with standard error {se} cannot be pooled"
            ));
            continue;
        }
        studies.push(json_study(label, est, se, ratio, r));
    }
    (studies, notes)
}

/// Read the per-project headline estimates of `--outcome` from a via-eval results.json.
pub fn read_results(args: &MetaArgs) -> Result<MetaInput> {
    let path = args.file();
    let Some(outcome) = &args.outcome else {
        return Err(Error::usage(
            "a results.json input needs --outcome ID (the outcome whose projects are pooled)",
        ));
    };
    let rows = read_results_file(path)?.estimates;
    check_outcome(path, &rows, outcome)?;
    let mut chosen: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| {
            str_field(r, "outcome") == *outcome
                && str_field(r, "subset") != crate::analysis::POOLED
                && r["headline"].as_bool() == Some(true)
        })
        .collect();
    if chosen.is_empty() {
        return Err(Error::data(
            path,
            format!(
                "outcome \"{outcome}\" has no per-project estimates: the pilot has no projects to pool"
            ),
        ));
    }
    let comparison = choose_comparison(args, outcome, &chosen)?;
    chosen.retain(|r| str_field(r, "comparison") == comparison);
    let ratio = chosen.iter().any(|r| str_field(r, "scale") == "ratio");
    let (studies, notes) = project_studies(&chosen, ratio);
    if studies.len() < 2 {
        return Err(Error::data(
            path,
            format!(
                "outcome \"{outcome}\" has {} project estimate(s) that can be pooled; a meta-analysis needs at least 2{}",
                studies.len(),
                if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                }
            ),
        ));
    }
    let first = chosen[0];
    Ok(MetaInput {
        studies,
        scale: scale_of(ratio),
        outcome: Some(outcome.clone()),
        comparison: Some(comparison),
        treated: Some(str_field(first, "treated")),
        control: Some(str_field(first, "control")),
        notes,
        unit: "project",
    })
}

/// The whole-sample headline row of `outcome` in one pilot's results (`path`); of a
/// pilot with several comparisons, the one `--comparison` names.
fn pilot_row<'a>(
    args: &MetaArgs,
    outcome: &str,
    path: &Path,
    rows: &'a [serde_json::Value],
) -> Result<&'a serde_json::Value> {
    let rows: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| {
            str_field(r, "outcome") == *outcome
                && str_field(r, "subset") == crate::analysis::POOLED
                && r["headline"].as_bool() == Some(true)
        })
        .collect();
    // A pilot with several comparisons keeps the one --comparison names.
    let rows: Vec<&serde_json::Value> = if rows.len() > 1 {
        let named: Vec<&serde_json::Value> = rows
            .iter()
            .copied()
            .filter(|r| args.comparison.contains(&str_field(r, "comparison")))
            .collect();
        if named.is_empty() {
            let list: Vec<String> = rows.iter().map(|r| str_field(r, "comparison")).collect();
            return Err(Error::usage(format!(
                "{}: outcome \"{outcome}\" has several comparisons; name one with --comparison: {}",
                path.display(),
                list.join("; ")
            )));
        }
        named
    } else {
        rows
    };
    match rows.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::data(
            path,
            format!(
                "has no whole-sample estimate of outcome \"{outcome}\"{}",
                if args.comparison.is_empty() {
                    String::new()
                } else {
                    format!(" for comparison {}", args.comparison.join(" or "))
                }
            ),
        )),
        many => {
            let list: Vec<String> = many.iter().map(|r| str_field(r, "comparison")).collect();
            Err(Error::usage(format!(
                "{}: outcome \"{outcome}\" has several comparisons; choose one with --comparison: {}",
                path.display(),
                list.join("; ")
            )))
        }
    }
}

/// Several results.json files: the whole-sample headline estimate of `--outcome` of
/// each pilot (one comparison, `--comparison` when a pilot has several), labelled by
/// the pilot's slug. The outcome must have the same id and scale in every file.
pub fn read_pilots(args: &MetaArgs) -> Result<MetaInput> {
    let Some(outcome) = &args.outcome else {
        return Err(Error::usage(
            "pooling several results.json files needs --outcome ID (the outcome they share)",
        ));
    };
    let mut studies = Vec::new();
    let mut notes = Vec::new();
    let mut scale: Option<String> = None;
    let mut comparison_seen: Option<(String, String, String)> = None;
    for path in &args.files {
        let file = read_results_file(path)?;
        let row = pilot_row(args, outcome, path, &file.estimates)?;
        let label = match file.slug {
            Some(slug) => slug,
            None => path.display().to_string(),
        };
        let this_scale = str_field(row, "scale");
        if scale.get_or_insert_with(|| this_scale.clone()) != &this_scale {
            return Err(Error::data(
                path,
                format!(
                    "outcome \"{outcome}\" is on the {this_scale} scale here but on the {} scale in {}; only estimates on one scale can be pooled",
                    scale.clone().unwrap_or_default(),
                    args.files[0].display()
                ),
            ));
        }
        let ratio = this_scale == "ratio";
        match (row["estimate"].as_f64(), row["std_error"].as_f64()) {
            (Some(est), Some(se)) if poolable(est, se, ratio) => {
                studies.push(json_study(label, est, se, ratio, row));
                comparison_seen.get_or_insert((
                    str_field(row, "comparison"),
                    str_field(row, "treated"),
                    str_field(row, "control"),
                ));
            }
            _ => notes.push(format!(
                "pilot {label} left out: its estimate of \"{outcome}\" is withheld or not estimable"
            )),
        }
    }
    if studies.len() < 2 {
        return Err(Error::data(
            args.file(),
            format!(
                "{} pilot estimate(s) of \"{outcome}\" can be pooled; a meta-analysis needs at least 2",
                studies.len()
            ),
        ));
    }
    let (comparison, treated, control) = comparison_seen.unwrap_or_default();
    Ok(MetaInput {
        studies,
        scale: scale_of(scale.as_deref() == Some("ratio")),
        outcome: Some(outcome.clone()),
        comparison: Some(comparison),
        treated: Some(treated),
        control: Some(control),
        notes,
        unit: "pilot",
    })
}

/// Read the input the arguments name.
pub fn read_input(args: &MetaArgs) -> Result<MetaInput> {
    if args.files.len() > 1 {
        read_pilots(args)
    } else if is_json(args) {
        read_results(args)
    } else {
        read_csv(args)
    }
}

/// The options the flags set for `k` estimates.
pub fn options(args: &MetaArgs, k: usize) -> Result<Options> {
    if !(args.conf_level > 0.0 && args.conf_level < 1.0) {
        return Err(Error::usage(format!(
            "--conf-level must be between 0 and 1 (e.g. 0.95), is {}",
            args.conf_level
        )));
    }
    Ok(Options {
        method: args.method.into(),
        hksj: args.hksj || (!args.no_hksj && k < HKSJ_BELOW),
        conf_level: args.conf_level,
    })
}

/// Pool the input and build the output (for tests and the binary); also returns the
/// stats result the output was built from.
pub fn compute(args: &MetaArgs) -> Result<(MetaOutput, MetaInput, Pooled)> {
    let input = read_input(args)?;
    let y: Vec<f64> = input.studies.iter().map(|s| s.estimate).collect();
    let se: Vec<f64> = input.studies.iter().map(|s| s.std_error).collect();
    let opts = options(args, y.len())?;
    let stats_err = |e: crate::stats::StatsError| {
        Error::data(args.file(), format!("cannot pool the estimates: {e}"))
    };
    let pooled = meta::pool(&y, &se, opts).map_err(stats_err)?;
    let l1o = if y.len() >= 3 {
        meta::leave_one_out(&y, &se, opts).map_err(stats_err)?
    } else {
        Vec::new()
    };
    let ratio = input.scale == Scale::Ratio;
    let show = |x: f64| if ratio { x.exp() } else { x };
    let inf = pooled.inference;
    let h = pooled.heterogeneity;
    let z = crate::stats::dist::two_sided_quantile(opts.conf_level, None);
    let studies = input
        .studies
        .iter()
        .zip(&pooled.weights)
        .map(|(s, w)| StudyOut {
            label: s.label.clone(),
            n: s.n,
            estimate: show(s.estimate),
            std_error: s.std_error,
            ci_low: show(s.estimate - z * s.std_error),
            ci_high: show(s.estimate + z * s.std_error),
            weight: *w,
        })
        .collect();
    let leave_one_out = l1o
        .iter()
        .map(|r| LeaveOneOutRow {
            left_out: input.studies[r.left_out].label.clone(),
            estimate: show(r.pooled.inference.estimate),
            std_error: r.pooled.inference.std_error,
            ci_low: show(r.pooled.inference.ci_low),
            ci_high: show(r.pooled.inference.ci_high),
            p_value: r.pooled.inference.p_value,
            tau2: r.pooled.heterogeneity.tau2,
            i2: r.pooled.heterogeneity.i2,
        })
        .collect();
    let n = input.studies.iter().map(|s| s.n).sum::<Option<usize>>();
    let estimate = MetaEstimate {
        outcome: input.outcome.clone(),
        subset: "meta".into(),
        comparison: input.comparison.clone(),
        treated: input.treated.clone(),
        control: input.control.clone(),
        estimator: opts.method.estimator().into(),
        se_type: opts.hksj.then(|| "hksj".to_string()),
        df_rule: opts.hksj.then(|| "k-1".to_string()),
        scale: input.scale,
        estimate: show(inf.estimate),
        std_error: inf.std_error,
        statistic: inf.statistic,
        ci_low: show(inf.ci_low),
        ci_high: show(inf.ci_high),
        conf_level: opts.conf_level,
        p_value: inf.p_value,
        df: inf.df,
        k: pooled.k,
        n,
        heterogeneity: HeterogeneityOut {
            tau2: h.tau2,
            tau2_ci_low: h.tau2_ci_low,
            tau2_ci_high: h.tau2_ci_high,
            i2: h.i2,
            h2: h.h2,
            q: h.q,
            q_df: h.q_df,
            q_p_value: h.q_p_value,
        },
        prediction_low: pooled.prediction.map(|p| show(p.0)),
        prediction_high: pooled.prediction.map(|p| show(p.1)),
        leave_one_out,
    };
    let out = MetaOutput {
        tool: format!("via-eval {}", env!("CARGO_PKG_VERSION")),
        input: args
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        estimates: vec![estimate],
        studies,
        notes: input.notes.clone(),
    };
    Ok((out, input, pooled))
}

/// The method in words.
fn method_text(e: &MetaEstimate) -> String {
    let m = match e.estimator.as_str() {
        "meta_fe" => "fixed effect (inverse variance)",
        "meta_dl" => "random effects, DerSimonian-Laird tau²",
        "meta_reml" => "random effects, REML tau²",
        _ => "random effects, Paule-Mandel tau²",
    };
    if e.se_type.is_some() {
        format!(
            "{m}; Hartung-Knapp-Sidik-Jonkman SE with t({}) intervals",
            fmt_df(e.df)
        )
    } else {
        format!("{m}; normal (z) intervals")
    }
}

fn fmt_df(df: Option<f64>) -> String {
    df.map(|d| format!("{d}")).unwrap_or_default()
}

/// "= 0.123" or "< 0.001", to follow "p".
fn p_text(p: f64) -> String {
    let t = fmt_p(p);
    if t.starts_with('<') {
        t
    } else {
        format!("= {t}")
    }
}

/// The `table` format.
pub fn table(out: &MetaOutput) -> String {
    let e = &out.estimates[0];
    let pct = |x: f64| format!("{:.1}%", x);
    let n_text = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut rows = vec![
        ["study", "n", "estimate", "ci_low", "ci_high", "weight"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    ];
    for s in &out.studies {
        rows.push(vec![
            s.label.clone(),
            n_text(s.n),
            fmt_value(s.estimate),
            fmt_value(s.ci_low),
            fmt_value(s.ci_high),
            pct(s.weight),
        ]);
    }
    rows.push(vec![
        format!("pooled ({})", e.estimator),
        n_text(e.n),
        fmt_value(e.estimate),
        fmt_value(e.ci_low),
        fmt_value(e.ci_high),
        pct(100.0),
    ]);
    if let (Some(lo), Some(hi)) = (e.prediction_low, e.prediction_high) {
        rows.push(vec![
            "prediction interval".into(),
            String::new(),
            String::new(),
            fmt_value(lo),
            fmt_value(hi),
            String::new(),
        ]);
    }
    let mut text = render(&rows);
    let h = &e.heterogeneity;
    text.push_str(&format!(
        "\nMethod: {}.\nPooled p {}. Heterogeneity: tau² = {} ({:.0}% CI {} to {}), I² = {:.1}%, H² = {}, Q = {} on {} df, p {}.\n",
        method_text(e),
        p_text(e.p_value),
        fmt_value(h.tau2),
        100.0 * e.conf_level,
        fmt_value(h.tau2_ci_low),
        fmt_value(h.tau2_ci_high),
        h.i2,
        fmt_value(h.h2),
        fmt_value(h.q),
        h.q_df,
        p_text(h.q_p_value),
    ));
    if e.scale == Scale::Ratio {
        text.push_str("Ratios are pooled on the log scale; tau² is on the log scale.\n");
    }
    if !e.leave_one_out.is_empty() {
        let mut rows = vec![
            [
                "left out", "estimate", "ci_low", "ci_high", "p", "tau2", "I2",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        ];
        for r in &e.leave_one_out {
            rows.push(vec![
                r.left_out.clone(),
                fmt_value(r.estimate),
                fmt_value(r.ci_low),
                fmt_value(r.ci_high),
                fmt_p(r.p_value),
                fmt_value(r.tau2),
                format!("{:.1}%", r.i2),
            ]);
        }
        text.push_str("\nLeave one out:\n");
        text.push_str(&render(&rows));
    }
    for n in &out.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text
}

/// CSV field quoting for labels.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The `csv` format: one row per study, the pooled row and the prediction interval;
/// the heterogeneity columns are filled on the pooled row.
pub fn csv(out: &MetaOutput) -> String {
    let e = &out.estimates[0];
    let h = &e.heterogeneity;
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x}")
        } else {
            String::new()
        }
    };
    let mut text = String::from(
        "row,label,n,estimate,std_error,ci_low,ci_high,weight,p_value,tau2,tau2_ci_low,tau2_ci_high,i2,h2,q,q_df,q_p_value\n",
    );
    for s in &out.studies {
        text.push_str(&format!(
            "study,{},{},{},{},{},{},{},,,,,,,,,\n",
            csv_field(&s.label),
            s.n.map(|n| n.to_string()).unwrap_or_default(),
            num(s.estimate),
            num(s.std_error),
            num(s.ci_low),
            num(s.ci_high),
            num(s.weight),
        ));
    }
    text.push_str(&format!(
        "pooled,{},{},{},{},{},{},100,{},{},{},{},{},{},{},{},{}\n",
        e.estimator,
        e.n.map(|n| n.to_string()).unwrap_or_default(),
        num(e.estimate),
        num(e.std_error),
        num(e.ci_low),
        num(e.ci_high),
        num(e.p_value),
        num(h.tau2),
        num(h.tau2_ci_low),
        num(h.tau2_ci_high),
        num(h.i2),
        num(h.h2),
        num(h.q),
        num(h.q_df),
        num(h.q_p_value),
    ));
    if let (Some(lo), Some(hi)) = (e.prediction_low, e.prediction_high) {
        text.push_str(&format!(
            "prediction,{},,,,{},{},,,,,,,,,,\n",
            e.estimator,
            num(lo),
            num(hi)
        ));
    }
    text
}

pub fn run(args: &MetaArgs) -> Result<()> {
    let (out, input, _) = compute(args)?;
    if let Some(dir) = &args.out {
        write_chart(&out, &input, args.lang.into(), dir)?;
    }
    super::emit(args.format, &out, &out.notes, table, csv)
}

/// The forest plot of the output, in `lang`: values on the pooling scale (log for
/// ratios), every number taken from the output.
pub fn forest_chart(out: &MetaOutput, input: &MetaInput, lang: Lang) -> ForestChart {
    let e = &out.estimates[0];
    let ratio = e.scale == Scale::Ratio;
    let pool_scale = |x: f64| if ratio { x.ln() } else { x };
    let nl = lang == Lang::Nl;
    let method = match e.estimator.as_str() {
        "meta_fe" if nl => "vaste effecten",
        "meta_fe" => "fixed effect",
        m => method_short(m),
    };
    let hksj = if e.se_type.is_some() { ", HKSJ" } else { "" };
    let pooled_label = if nl {
        format!("Gepoold ({method}{hksj})")
    } else {
        format!("Pooled ({method}{hksj})")
    };
    let (of_nl, of_en, per_nl, per_en) = match input.unit {
        "pilot" => ("de pilots", "the pilots", "pilot", "pilot"),
        _ => ("de projecten", "the projects", "project", "project"),
    };
    let title = match (&e.outcome, nl) {
        (Some(o), true) => format!("Meta-analyse van {of_nl}: {o}"),
        (Some(o), false) => format!("Meta-analysis of {of_en}: {o}"),
        (None, true) => "Meta-analyse".to_string(),
        (None, false) => "Meta-analysis".to_string(),
    };
    let subtitle = match (&e.comparison, nl) {
        (Some(c), true) => format!("{c}; schatting per {per_nl} met betrouwbaarheidsinterval"),
        (Some(c), false) => format!("{c}; estimate per {per_en} with confidence interval"),
        (None, true) => "Schatting per studie met betrouwbaarheidsinterval".to_string(),
        (None, false) => "Estimate per study with confidence interval".to_string(),
    };
    let axis_label = match (ratio, nl) {
        (true, true) => "Logaritme van de ratio (0 = geen effect)",
        (true, false) => "Log of the ratio (0 = no effect)",
        (false, true) => "Verschil (0 = geen effect)",
        (false, false) => "Difference (0 = no effect)",
    }
    .to_string();
    let note = if nl {
        "Vierkantjes: schatting per studie, grootte naar gewicht. Ruit: gepoolde schatting. Rode balk: voorspellingsinterval voor een nieuwe locatie."
    } else {
        "Squares: estimate per study, sized by weight. Diamond: pooled estimate. Red bar: prediction interval for a new site."
    }
    .to_string();
    let h = &e.heterogeneity;
    ForestChart {
        title,
        subtitle,
        axis_label,
        rows: out
            .studies
            .iter()
            .zip(&input.studies)
            .map(|(s, raw)| ForestRow {
                label: s.label.clone(),
                n: s.n,
                estimate: raw.estimate,
                ci_low: pool_scale(s.ci_low),
                ci_high: pool_scale(s.ci_high),
                weight: s.weight,
            })
            .collect(),
        pooled: ForestPooled {
            label: pooled_label,
            estimate: pool_scale(e.estimate),
            ci_low: pool_scale(e.ci_low),
            ci_high: pool_scale(e.ci_high),
        },
        prediction: e
            .prediction_low
            .zip(e.prediction_high)
            .map(|(a, b)| (pool_scale(a), pool_scale(b))),
        heterogeneity: ForestHeterogeneity {
            i2: h.i2,
            tau2: h.tau2,
            tau2_ci_low: h.tau2_ci_low,
            tau2_ci_high: h.tau2_ci_high,
            q: h.q,
            q_df: h.q_df,
            q_p_value: h.q_p_value,
        },
        conf_level: e.conf_level,
        note,
        lang,
    }
}

fn method_short(estimator: &str) -> &'static str {
    match estimator {
        "meta_dl" => "DL",
        "meta_reml" => "REML",
        _ => "PM",
    }
}

/// Write forest.png and forest.svg into `dir`.
fn write_chart(out: &MetaOutput, input: &MetaInput, lang: Lang, dir: &Path) -> Result<()> {
    let chart = forest_chart(out, input, lang);
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, "cannot create the output folder").with_cause(e))?;
    let png = plot::forest_chart_png(&chart)?;
    let svg = plot::forest_chart_svg(&chart)?;
    for (name, bytes) in [("forest.png", png), ("forest.svg", svg.into_bytes())] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, "cannot write").with_cause(e))?;
    }
    Ok(())
}
