//! `via-eval did DATA`: difference-in-differences on a long panel (one row per unit and
//! period): the static two-way fixed effects estimate, the event study with its
//! pre-trend test, Callaway & Sant'Anna (with a multiplier-bootstrap band on request)
//! and Sun & Abraham, with charts (event-study plot; outcome means by cohort over time;
//! group-time effects per cohort).
//!
//! The numbers come from [`crate::stats::did`] through [`crate::analysis::did`], which
//! also applies disclosure control; the panel is read and checked by
//! [`crate::prepare::panel`]. This module parses flags, formats and draws.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::analysis_args::AnalysisArgs;
use crate::analysis::Privacy;
use crate::analysis::did::{self as adid, CohortMean, DidResults, EventSettings, Which};
use crate::cli::Format;
use crate::config::Lang;
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::plot::{
    self, CohortSeries, EventPoint, EventStudyChart, GroupTimeChart, GroupTimePanel,
    GroupTimePoint, TrendChart,
};
use crate::prepare::panel::{PanelColumns, PanelInput, TreatmentColumn, read_panel_owned};
use crate::report::{fmt_p, fmt_value, tables::render};
use crate::stats::Inference;
use crate::stats::did::DidOptions;
use crate::stats::did_sa::SaControl;
use crate::stats::fe::FeSmallSample;

/// Examples at the end of `via-eval did --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval did panel.csv --unit county --time year --outcome lemp --first-treated first_treat
  via-eval did panel.csv --unit org --time month --outcome hired --treatment active \\
      --window -6,6 --out charts
  via-eval did employers.csv --unit employer --time year --events hires --trials applicants \\
      --first-treated start_year --estimator event-study --format json";

/// `--estimator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EstimatorArg {
    /// Static two-way fixed effects.
    Twfe,
    /// Event study with relative-period indicators.
    EventStudy,
    /// Callaway & Sant'Anna group-time effects (doubly robust with --covariates).
    Cs,
    /// Sun & Abraham interaction-weighted event study and its overall ATT.
    Sa,
    /// Every available estimator.
    All,
}

impl DidArgs {
    /// Whether `--estimator` names `e` (directly, or through `all`).
    fn runs(&self, e: EstimatorArg) -> bool {
        self.estimator
            .iter()
            .any(|&a| a == e || a == EstimatorArg::All)
    }
    /// Whether `--estimator` names `e` itself (then its failure is an error, not a note).
    fn named(&self, e: EstimatorArg) -> bool {
        self.estimator.contains(&e)
    }
}

/// `--control`: the comparison group of Callaway & Sant'Anna.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ControlArg {
    /// Never-treated units.
    Never,
    /// Never-treated units and units not yet treated in the cell's period.
    NotYet,
}

/// `--base-period`: the base period of Callaway & Sant'Anna's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaseArg {
    /// Before the start t against t-1, from the start on t against g-1 (R did's default).
    Varying,
    /// Every cell t against g-1 (the cell g-1 is the reference, 0).
    Universal,
}

/// `--small-sample`: which fixed effects count in the CR1 small-sample factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmallSampleArg {
    /// Leave out fixed effects nested in the clusters (fixest's default).
    Nested,
    /// Count every dummy (lm + vcovCL, Stata regress with dummies).
    All,
    /// Count no fixed effect.
    None,
}

impl From<SmallSampleArg> for FeSmallSample {
    fn from(a: SmallSampleArg) -> Self {
        match a {
            SmallSampleArg::Nested => Self::Nested,
            SmallSampleArg::All => Self::All,
            SmallSampleArg::None => Self::None,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct DidArgs {
    /// The panel: one row per unit and period (CSV or other delimited text, Excel,
    /// OpenDocument, Parquet).
    pub data: PathBuf,
    /// Column with the unit (person, employer, municipality).
    #[arg(long, help_heading = super::INPUT)]
    pub unit: String,
    /// Column with the period, as whole numbers (years, or 1, 2, 3, ...).
    #[arg(long, help_heading = super::INPUT)]
    pub time: String,
    /// Column with the outcome (or --events and --trials).
    #[arg(long, help_heading = super::INPUT, conflicts_with_all = ["events", "trials"])]
    pub outcome: Option<String>,
    /// Column with the unit's first treated period (0 or empty = never treated).
    #[arg(long, help_heading = super::INPUT, conflicts_with = "treatment", required_unless_present = "treatment")]
    pub first_treated: Option<String>,
    /// Column with an absorbing 0/1 treatment indicator (once 1, always 1).
    #[arg(long, help_heading = super::INPUT)]
    pub treatment: Option<String>,
    /// Column with the clusters of the standard errors (default: the unit).
    #[arg(long, help_heading = super::INPUT)]
    pub cluster: Option<String>,
    /// Covariates, comma-separated (numeric columns).
    #[arg(long, help_heading = super::INPUT, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Column with analytic weights.
    #[arg(long, help_heading = super::INPUT)]
    pub weights: Option<String>,
    /// Counts: column with the events per row (with --trials; the outcome is
    /// events/trials, the trials are frequency weights).
    #[arg(long, help_heading = super::INPUT, requires = "trials")]
    pub events: Option<String>,
    /// Counts: column with the trials (persons) per row.
    #[arg(long, help_heading = super::INPUT, requires = "events")]
    pub trials: Option<String>,
    /// Which estimator(s): one, or several separated by commas (e.g. `twfe,event-study`
    /// for the regression estimates alone).
    #[arg(long, help_heading = super::ANALYSIS, value_enum, value_delimiter = ',', default_value = "all")]
    pub estimator: Vec<EstimatorArg>,
    /// Callaway & Sant'Anna: the comparison group (the event study always compares
    /// with the never treated).
    #[arg(long, help_heading = super::ANALYSIS, value_enum, default_value = "never")]
    pub control: ControlArg,
    /// Callaway & Sant'Anna: the base period of each group-time cell.
    #[arg(long, help_heading = super::ANALYSIS, value_enum, default_value = "varying")]
    pub base_period: BaseArg,
    /// Event study: the reference period relative to the first treated period.
    #[arg(long, help_heading = super::ANALYSIS, default_value_t = -1, allow_hyphen_values = true)]
    pub reference: i64,
    /// Event study: bin relative periods below LO into LO and above HI into HI.
    #[arg(long, help_heading = super::ANALYSIS, value_name = "LO,HI", allow_hyphen_values = true)]
    pub window: Option<String>,
    /// Which fixed effects count in the CR1 small-sample factor.
    #[arg(long, help_heading = super::ANALYSIS, value_enum, default_value = "nested")]
    pub small_sample: SmallSampleArg,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Output format (to standard output).
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "table")]
    pub format: Format,
    /// Folder for the charts (event_study, trends and group_time, PNG and SVG, Dutch and
    /// English).
    #[arg(short, long, help_heading = super::OUTPUT, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// One estimate row of the output (results.json conventions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidEstimate {
    /// `twfe_did` or `event_study`.
    pub estimator: String,
    /// Relative period of an event-study coefficient.
    pub event_time: Option<i64>,
    /// Cohort (first treated period) of a group-time effect.
    pub group: Option<i64>,
    /// Calendar period of a group-time effect.
    pub time: Option<i64>,
    /// Whether the coefficient also holds the relative periods beyond it.
    pub binned: bool,
    /// CRV1, or CR2 (few clusters).
    pub se_type: String,
    pub df_rule: String,
    /// Which fixed effects count in the small-sample factor.
    pub small_sample: String,
    pub estimate: Option<f64>,
    pub std_error: Option<f64>,
    pub statistic: Option<f64>,
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub conf_level: f64,
    /// Wild cluster bootstrap p-value (few clusters, TWFE).
    pub wild_p_value: Option<f64>,
    /// Callaway & Sant'Anna with --bootstrap: the multiplier-bootstrap SE, and the
    /// uniform band estimate ± crit_value · bootstrap_se over the ATT(g,t) cells or the
    /// event-time effects (null elsewhere).
    pub bootstrap_se: Option<f64>,
    pub crit_value: Option<f64>,
    pub band_low: Option<f64>,
    pub band_high: Option<f64>,
    pub suppressed: bool,
}

/// The pre-trend test in the output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PretrendOut {
    /// "F = W/q on (q, G - 1) df, as pyfixest wald_test"; chi-square W on q df.
    pub convention: String,
    pub statistic: Option<f64>,
    pub df1: Option<f64>,
    pub df2: Option<f64>,
    pub p_value: Option<f64>,
    pub chi_square: Option<f64>,
    pub chi_square_p_value: Option<f64>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tests {
    pub pretrend_wald: Option<PretrendOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortOut {
    pub first_treated: Option<i64>,
    pub units: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisclosureOut {
    pub applied: bool,
    pub threshold: Option<usize>,
}

/// Everything `via-eval did` reports (`--format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DidOutput {
    pub tool: String,
    pub input: String,
    pub n_rows: usize,
    pub n_periods: usize,
    pub n_clusters: usize,
    pub weights: Option<String>,
    pub cohorts: Vec<CohortOut>,
    pub conventions: Vec<String>,
    /// The reference period of the event study or Sun & Abraham (null without either).
    pub reference: Option<i64>,
    pub estimates: Vec<DidEstimate>,
    pub tests: Tests,
    pub cohort_means: Vec<CohortMean>,
    pub disclosure: DisclosureOut,
    pub notes: Vec<String>,
}

fn parse_window(s: &str) -> Result<(i64, i64)> {
    let bad = || {
        Error::usage(format!(
            "--window \"{s}\": give two whole numbers LO,HI with LO <= -1 < 0 <= HI, e.g. --window -4,4"
        ))
    };
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let lo: i64 = a.trim().parse().map_err(|_| bad())?;
    let hi: i64 = b.trim().parse().map_err(|_| bad())?;
    if lo > hi {
        return Err(bad());
    }
    Ok((lo, hi))
}

// One flat row of the output from its parts; the call sites read as a table row.
#[allow(clippy::too_many_arguments)]
fn row(
    estimator: &str,
    event_time: Option<i64>,
    binned: bool,
    se_type: &str,
    df_rule: &str,
    small: &str,
    inf: &Inference,
    conf_level: f64,
    suppressed: bool,
) -> DidEstimate {
    let v = |x: f64| (!suppressed && x.is_finite()).then_some(x);
    DidEstimate {
        estimator: estimator.into(),
        event_time,
        group: None,
        time: None,
        binned,
        se_type: se_type.into(),
        df_rule: df_rule.into(),
        small_sample: small.into(),
        estimate: v(inf.estimate),
        std_error: v(inf.std_error),
        statistic: v(inf.statistic),
        df: inf.df.and_then(v),
        p_value: v(inf.p_value),
        ci_low: v(inf.ci_low),
        ci_high: v(inf.ci_high),
        conf_level,
        wild_p_value: None,
        bootstrap_se: None,
        crit_value: None,
        band_low: None,
        band_high: None,
        suppressed,
    }
}

/// Put the bootstrap SE and the uniform band on a row (not when it is withheld).
fn with_band(r: &mut DidEstimate, se: Option<f64>, crit: f64) {
    if r.suppressed {
        return;
    }
    if let (Some(se), Some(est)) = (se, r.estimate) {
        r.bootstrap_se = Some(se);
        r.crit_value = Some(crit);
        r.band_low = Some(est - crit * se);
        r.band_high = Some(est + crit * se);
    }
}

/// Read, check and estimate.
pub fn compute(args: &DidArgs) -> Result<DidOutput> {
    check_flags(args)?;
    let privacy = args.analysis.privacy()?;
    let window = args.window.as_deref().map(parse_window).transpose()?;
    let cols = panel_columns(args)?;
    // The loaded columns are dropped once they are read and checked, before the panel's
    // vectors are written (they are as large as it).
    let input = read_panel_owned(Frame::load(&args.data, &cols.all())?, &cols)?;
    let which = Which {
        twfe: args.runs(EstimatorArg::Twfe),
        event_study: args.runs(EstimatorArg::EventStudy),
        cs: args.runs(EstimatorArg::Cs),
        cs_required: args.named(EstimatorArg::Cs),
        cs_control: match args.control {
            ControlArg::Never => crate::stats::did_cs::CsControl::Never,
            ControlArg::NotYet => crate::stats::did_cs::CsControl::NotYet,
        },
    };
    let opts = DidOptions {
        small_sample: args.small_sample.into(),
        conf_level: args.analysis.conf_level,
        seed: args.analysis.seed,
        ..DidOptions::default()
    };
    let cs_base = match args.base_period {
        BaseArg::Varying => crate::stats::did_cs::CsBase::Varying,
        BaseArg::Universal => crate::stats::did_cs::CsBase::Universal,
    };
    let mut res = adid::run_did_with(
        &input,
        which,
        EventSettings {
            reference: args.reference,
            window,
        },
        &opts,
        privacy,
        cs_base,
    )?;
    let sa = sun_abraham(args, &input, &opts, privacy, &mut res.notes)?;
    let bands = match (args.analysis.bootstrap, &res.cs) {
        (Some(b), Some(_)) => Some(adid::run_cs_bootstrap(
            &input,
            which.cs_control,
            cs_base,
            b,
            args.analysis.seed,
            opts.conf_level,
        )?),
        _ => None,
    };
    let mut out = crate::timings::time("did: output", || {
        output(args, &input, &res, sa.as_ref(), &opts)
    });
    if let Some(b) = &bands {
        add_bands(&mut out, b);
    }
    Ok(out)
}

/// Refuse the resampling and confidence-level flags did cannot use: --permutations,
/// --bootstrap without Callaway & Sant'Anna or with too few draws, a level outside
/// (0, 1).
fn check_flags(args: &DidArgs) -> Result<()> {
    if args.analysis.permutations.is_some() {
        return Err(Error::usage(
            "--permutations does not apply to did; with fewer than 30 clusters the wild cluster bootstrap runs by itself (seeded by --seed)",
        ));
    }
    match args.analysis.bootstrap {
        Some(_) if !args.runs(EstimatorArg::Cs) => {
            return Err(Error::usage(
                "--bootstrap is the multiplier bootstrap of Callaway & Sant'Anna: use it with --estimator cs or all",
            ));
        }
        Some(b) if b < 99 => {
            return Err(Error::usage(format!(
                "--bootstrap {b}: give at least 99 draws (999 or more for a uniform band; 9999 for stable bands)"
            )));
        }
        _ => {}
    }
    if !(args.analysis.conf_level > 0.0 && args.analysis.conf_level < 1.0) {
        return Err(Error::usage(
            "--conf-level must lie between 0 and 1, e.g. 0.95",
        ));
    }
    Ok(())
}

/// The panel's columns the flags name; the treatment and the outcome (or its counts)
/// must be given one way.
fn panel_columns(args: &DidArgs) -> Result<PanelColumns> {
    let treatment = match (&args.first_treated, &args.treatment) {
        (Some(c), None) => TreatmentColumn::FirstTreated(c.clone()),
        (None, Some(c)) => TreatmentColumn::Indicator(c.clone()),
        _ => {
            return Err(Error::usage(
                "give the treatment as --first-treated COL or as --treatment COL (one of them)",
            ));
        }
    };
    let cols = PanelColumns {
        unit: args.unit.clone(),
        time: args.time.clone(),
        outcome: args.outcome.clone(),
        treatment,
        cluster: args.cluster.clone(),
        covariates: args.covariates.clone(),
        weights: args.weights.clone(),
        events: args.events.clone(),
        trials: args.trials.clone(),
    };
    if cols.outcome.is_none() && cols.events.is_none() {
        return Err(Error::usage(
            "give the outcome as --outcome COL, or as counts with --events COL --trials COL",
        ));
    }
    Ok(cols)
}

/// Sun & Abraham when --estimator asks for it: its failure is an error when it is named,
/// a note in `notes` when it runs as part of `all`.
fn sun_abraham(
    args: &DidArgs,
    input: &PanelInput,
    opts: &DidOptions,
    privacy: Privacy,
    notes: &mut Vec<String>,
) -> Result<Option<adid::SaResults>> {
    if args.named(EstimatorArg::Sa) {
        Ok(Some(adid::run_sun_abraham(
            input,
            args.reference,
            opts,
            privacy,
        )?))
    } else if args.runs(EstimatorArg::Sa) {
        match adid::run_sun_abraham(input, args.reference, opts, privacy) {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                notes.push(format!("Sun & Abraham not estimated: {}", e.report()));
                Ok(None)
            }
        }
    } else {
        Ok(None)
    }
}

fn output(
    args: &DidArgs,
    input: &crate::prepare::panel::PanelInput,
    res: &DidResults,
    sa: Option<&adid::SaResults>,
    opts: &DidOptions,
) -> DidOutput {
    let small = opts.small_sample.name();
    let cl = opts.conf_level;
    let mut out = Rows {
        estimates: Vec::new(),
        conventions: vec![
            "Treatment absorbing: D = 1 from the unit's first treated period on.".to_string(),
        ],
    };
    let regression = [
        format!(
            "Unit and period fixed effects absorbed; standard errors CRV1 clustered by {} with fixest's small-sample factor (N-1)/(N-K) * G/(G-1), K counting the fixed effects as '{small}' (nested = fixest default: effects nested in the clusters left out; all = every dummy; none), t on G-1 df.",
            args.cluster.as_deref().unwrap_or("unit")
        ),
        "Never-treated units are the comparison group of the event study.".to_string(),
    ];
    if res.twfe.is_some() || res.event_study.is_some() || sa.is_some() {
        out.conventions.extend(regression);
    }
    if input.frequency {
        out.conventions.push("Counts: outcome = events/trials per row, trials as frequency weights (N in the small-sample factor is the number of persons).".into());
    }
    twfe_rows(res, small, opts, &mut out);
    let pretrend = event_study_rows(args, res, small, cl, &mut out);
    if let Some(cs) = &res.cs {
        cs_rows(args, cs, cl, &mut out);
    }
    let mut notes = res.notes.clone();
    if let Some(t) = &res.twfe {
        notes.extend(t.notes.iter().cloned());
    }
    if let Some(sa) = sa {
        sa_rows(sa, small, cl, &mut out);
        notes.extend(sa.fit.notes.iter().cloned());
    }
    DidOutput {
        tool: format!("via-eval {} did", env!("CARGO_PKG_VERSION")),
        input: args.data.display().to_string(),
        n_rows: input.y.len(),
        n_periods: res.n_periods,
        n_clusters: input.n_clusters,
        weights: if input.frequency {
            Some("trials (frequency)".into())
        } else {
            args.weights.clone().map(|w| format!("{w} (analytic)"))
        },
        cohorts: res
            .cohorts
            .iter()
            .map(|&(g, u)| CohortOut {
                first_treated: g,
                units: u,
            })
            .collect(),
        conventions: out.conventions,
        reference: res
            .event_study
            .as_ref()
            .map(|e| e.reference)
            .or(sa.map(|s| s.fit.reference)),
        estimates: out.estimates,
        tests: Tests {
            pretrend_wald: pretrend,
        },
        cohort_means: res.cohort_means.clone(),
        disclosure: DisclosureOut {
            applied: res.threshold.is_some(),
            threshold: res.threshold,
        },
        notes,
    }
}

/// The rows and conventions of the estimators of a did run, in output order.
struct Rows {
    estimates: Vec<DidEstimate>,
    conventions: Vec<String>,
}

/// The static TWFE rows: CRV1, and with few clusters also CR2 and the wild cluster
/// bootstrap p-value.
fn twfe_rows(res: &DidResults, small: &str, opts: &DidOptions, out: &mut Rows) {
    let cl = opts.conf_level;
    if let Some(t) = &res.twfe {
        let mut r = row(
            "twfe_did",
            None,
            false,
            "CRV1",
            "G - 1",
            small,
            &t.inference,
            cl,
            res.twfe_suppressed,
        );
        if let Some(fc) = &t.few_clusters {
            r.wild_p_value = (!res.twfe_suppressed).then_some(fc.wild_p_value);
            out.estimates.push(r);
            out.estimates.push(row(
                "twfe_did",
                None,
                false,
                "CR2",
                "Bell-McCaffrey",
                "none",
                &fc.cr2,
                cl,
                res.twfe_suppressed,
            ));
            out.conventions.push(format!(
                "Fewer than 30 clusters: also CR2 with Bell-McCaffrey df and a wild cluster bootstrap p-value (restricted, Rademacher, {} draws{}, seed {}), both on the regression with the fixed effects as dummies.",
                fc.wild_reps,
                if fc.wild_enumerated { ", every sign vector" } else { "" },
                opts.seed
            ));
        } else {
            out.estimates.push(r);
        }
        out.conventions.push("The static TWFE estimate is biased when effects differ between cohorts or grow with time since adoption (already-treated units act as controls); read it beside the event study.".into());
    }
}

/// The event-study rows, and the pre-trend test when it was run; None without an
/// event study.
fn event_study_rows(
    args: &DidArgs,
    res: &DidResults,
    small: &str,
    cl: f64,
    out: &mut Rows,
) -> Option<PretrendOut> {
    let es = res.event_study.as_ref()?;
    for (c, &s) in es.coefficients.iter().zip(&res.event_suppressed) {
        out.estimates.push(row(
            "event_study",
            Some(c.event_time),
            c.binned,
            "CRV1",
            "G - 1",
            small,
            &c.inference,
            cl,
            s,
        ));
    }
    out.conventions.push(format!(
        "Event study: reference period {} (relative to the first treated period), window {},{}{}.",
        es.reference,
        es.window.0,
        es.window.1,
        if args.window.is_some() {
            " with the endpoints binned"
        } else {
            " (every observed relative period)"
        }
    ));
    res.pretrend.map(|w| {
        let s = res.pretrend_suppressed;
        let v = |x: f64| (!s).then_some(x);
        PretrendOut {
            convention: "F = W/q on (q, G-1) df, as pyfixest wald_test(distribution='F') with a clustered vcov; W on chi-square(q) as distribution='chi2'".into(),
            statistic: v(w.statistic),
            df1: v(w.df1),
            df2: v(w.df2),
            p_value: v(w.p_value),
            chi_square: v(w.chi_square),
            chi_square_p_value: v(w.chi_square_p_value),
            suppressed: s,
        }
    })
}

/// The Callaway-Sant'Anna rows: ATT(g,t) and the simple, dynamic, group and calendar
/// aggregations.
fn cs_rows(args: &DidArgs, cs: &adid::CsResults, cl: f64, out: &mut Rows) {
    // Every CS row: influence-function SEs, normal intervals, no small-sample factor.
    let cs_row = |id: &str, event_time: Option<i64>, i: &Inference, suppressed: bool| {
        row(
            id,
            event_time,
            false,
            "influence function",
            "normal",
            "none",
            i,
            cl,
            suppressed,
        )
    };
    for (c, &s) in cs.cells.iter().zip(&cs.cell_suppressed) {
        let mut r = cs_row("cs_att_gt", Some(c.time - c.group), &c.inference, s);
        r.group = Some(c.group);
        r.time = Some(c.time);
        if c.time == c.base {
            // The universal base period's reference cell: 0 by construction, no SE.
            (r.std_error, r.statistic, r.p_value, r.ci_low, r.ci_high) =
                (None, None, None, None, None);
        }
        out.estimates.push(r);
    }
    out.estimates.push(cs_row(
        "cs_simple",
        None,
        &cs.simple.inference,
        cs.simple_suppressed,
    ));
    for (d, &s) in cs.dynamic.iter().zip(&cs.dynamic_suppressed) {
        if d.inference.std_error == 0.0 && d.inference.estimate == 0.0 {
            // The universal base period's reference event time (-1).
            let mut r = cs_row("cs_dynamic", d.event_time, &d.inference, s);
            (r.std_error, r.statistic, r.p_value, r.ci_low, r.ci_high) =
                (None, None, None, None, None);
            out.estimates.push(r);
            continue;
        }
        out.estimates
            .push(cs_row("cs_dynamic", d.event_time, &d.inference, s));
    }
    out.estimates.push(cs_row(
        "cs_dynamic",
        None,
        &cs.dynamic_overall.inference,
        cs.dynamic_overall_suppressed,
    ));
    for (r, &sup) in cs.group.iter().zip(&cs.group_suppressed) {
        let mut e = cs_row("cs_group", None, &r.inference, sup);
        e.group = r.event_time;
        out.estimates.push(e);
    }
    out.estimates.push(cs_row(
        "cs_group",
        None,
        &cs.group_overall.inference,
        cs.post_suppressed,
    ));
    for (r, &sup) in cs.calendar.iter().zip(&cs.calendar_suppressed) {
        let mut e = cs_row("cs_calendar", None, &r.inference, sup);
        e.time = r.event_time;
        out.estimates.push(e);
    }
    out.estimates.push(cs_row(
        "cs_calendar",
        None,
        &cs.calendar_overall.inference,
        cs.post_suppressed,
    ));
    out.conventions.push(format!("Callaway & Sant'Anna (2021): ATT(g,t) {}, {} as controls, {}, analytic influence-function SEs and normal intervals as R did / csdid with bstrap = FALSE; cs_simple weights the post-period cells by cohort size, cs_dynamic by event time (its row without event time is the mean of the effects at e >= 0), cs_group per cohort (overall: weighted by cohort size), cs_calendar per period (overall: the mean of the periods). Units treated from the first period are left out; the influence function is per unit, so these SEs are clustered by unit whatever --cluster says.",
        if args.covariates.is_empty() {
            "without covariates".to_string()
        } else {
            format!("doubly robust with the covariates {} taken from the base period (Sant'Anna & Zhao 2020, as R DRDID drdid_panel, did est_method = \"dr\": logit propensity score trimmed at 0.995 for comparison units, least-squares outcome regression among them)", args.covariates.join(", "))
        },
        match args.control {
            ControlArg::Never => "never-treated units",
            ControlArg::NotYet => "never-treated and not-yet-treated units (first treated after the later of t and the base period)",
        },
        match args.base_period {
            BaseArg::Varying => "varying base period (t vs t-1 before the start, t vs g-1 after)",
            BaseArg::Universal => "universal base period (every t vs g-1; the cell t = g-1 is the reference, 0 without SE)",
        }
    ));
}

/// The Sun-Abraham rows: per event time and the overall ATT.
fn sa_rows(sa: &adid::SaResults, small: &str, cl: f64, out: &mut Rows) {
    for (e, &s) in sa.fit.event.iter().zip(&sa.event_suppressed) {
        out.estimates.push(row(
            "sun_abraham",
            Some(e.event_time),
            false,
            "CRV1",
            "G - 1",
            small,
            &e.inference,
            cl,
            s,
        ));
    }
    out.estimates.push(row(
        "sun_abraham",
        None,
        false,
        "CRV1",
        "G - 1",
        small,
        &sa.fit.att,
        cl,
        sa.att_suppressed,
    ));
    out.conventions.push(format!(
        "Sun & Abraham (2021): one regression with a dummy per treated cohort and period relative to its start (reference period {}), unit and period effects absorbed, {} as the comparison group; each event-time effect weights the cohorts by their share of the rows at that relative period (fixest aggregate(), weights fixed), the row without event time is the ATT over every post-period cohort-period cell weighted by its rows (fixest agg = \"att\"); SEs by the delta method from the CRV1 matrix, t on G-1 df; every relative period gets its own dummy (--window applies to the event study only).",
        sa.fit.reference,
        match sa.fit.control {
            SaControl::Never => "never-treated units".to_string(),
            SaControl::LastTreated(l) => format!("the last-treated cohort ({l}; periods before {l} only)"),
        }
    ));
}

/// The bootstrap SEs and uniform bands on the cs_att_gt and cs_dynamic rows, in their
/// order, and the convention.
fn add_bands(out: &mut DidOutput, b: &adid::CsBands) {
    let mut cells = b.cells.std_error.iter();
    let mut dynamic = b.dynamic.std_error.iter();
    for r in &mut out.estimates {
        match r.estimator.as_str() {
            "cs_att_gt" => {
                let se = cells.next().copied().flatten();
                with_band(r, se, b.cells.crit_value);
            }
            "cs_dynamic" if r.event_time.is_some() => {
                let se = dynamic.next().copied().flatten();
                with_band(r, se, b.dynamic.crit_value);
            }
            _ => {}
        }
    }
    out.conventions.push(format!(
        "Multiplier bootstrap (Callaway & Sant'Anna 2021, as R did's mboot): {} draws, seed {}, Rademacher weights per unit; bootstrap_se is the interquartile range of the draws scaled to the normal; the uniform band estimate ± crit_value * bootstrap_se covers all ATT(g,t) cells together (crit {:.3}), or all event-time effects together (crit {:.3}), with the confidence level; std_error, p and CI stay analytic.",
        b.cells.reps, b.cells.seed, b.cells.crit_value, b.dynamic.crit_value
    ));
}

/// A number of the table; a missing one says whether it is withheld or not estimable
/// (the reference cell of the universal base period).
fn opt(v: Option<f64>, suppressed: bool) -> String {
    match v {
        Some(x) => fmt_value(x),
        None if suppressed => "suppressed".into(),
        None => "–".into(),
    }
}

/// The plain-text table.
pub fn table(out: &DidOutput) -> String {
    let mut text = format!(
        "Difference-in-differences: {} ({} rows, {} periods, {} clusters)\n\n",
        out.input, out.n_rows, out.n_periods, out.n_clusters
    );
    let mut rows = vec![vec![
        "estimator".to_string(),
        "event time".into(),
        "SE type".into(),
        "estimate".into(),
        "SE".into(),
        "CI".into(),
        "df".into(),
        "p".into(),
    ]];
    for e in &out.estimates {
        rows.push(vec![
            e.estimator.clone(),
            match (e.group, e.time, e.event_time) {
                (Some(g), Some(t), _) => format!("g={g}, t={t}"),
                (Some(g), None, None) => format!("g={g}"),
                (None, Some(t), None) => format!("t={t}"),
                (_, _, Some(t)) => format!("{t}{}", if e.binned { " (binned)" } else { "" }),
                _ => String::new(),
            },
            e.se_type.clone(),
            opt(e.estimate, e.suppressed),
            opt(e.std_error, e.suppressed),
            match (e.ci_low, e.ci_high) {
                (Some(a), Some(b)) => format!("[{}, {}]", fmt_value(a), fmt_value(b)),
                _ if e.suppressed => "suppressed".into(),
                _ => "–".into(),
            },
            e.df.map_or("–".into(), |d| format!("{d:.1}")),
            match e.p_value {
                Some(p) => fmt_p(p),
                None if e.suppressed => "suppressed".into(),
                None => "–".into(),
            },
        ]);
        if let (Some(se), Some(lo), Some(hi)) = (e.bootstrap_se, e.band_low, e.band_high) {
            rows.push(vec![
                String::new(),
                String::new(),
                "bootstrap, uniform band".into(),
                String::new(),
                fmt_value(se),
                format!("[{}, {}]", fmt_value(lo), fmt_value(hi)),
                String::new(),
                String::new(),
            ]);
        }
        if let Some(w) = e.wild_p_value {
            rows.push(vec![
                String::new(),
                String::new(),
                "wild bootstrap".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                fmt_p(w),
            ]);
        }
    }
    text.push_str(&render(&rows));
    if let Some(p) = &out.tests.pretrend_wald {
        text.push_str(&match (p.statistic, p.df1, p.df2, p.p_value) {
            (Some(f), Some(a), Some(b), Some(pv)) => format!(
                "\nPre-trend test (all pre-period coefficients zero): F({a}, {b}) = {}, p = {}\n",
                fmt_value(f),
                fmt_p(pv)
            ),
            _ => "\nPre-trend test: suppressed\n".into(),
        });
    }
    text.push('\n');
    for c in &out.conventions {
        text.push_str(&format!("- {c}\n"));
    }
    for n in &out.notes {
        text.push_str(&format!("note: {n}\n"));
    }
    if !out.disclosure.applied {
        text.push_str("WARNING: no disclosure control; small cells are shown. For use inside a secure environment only.\n");
    }
    text
}

/// The estimates as CSV.
pub fn csv(out: &DidOutput) -> String {
    let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    let mut s = String::from(
        "estimator,group,time,event_time,binned,se_type,df_rule,small_sample,estimate,std_error,statistic,df,p_value,ci_low,ci_high,conf_level,wild_p_value,bootstrap_se,crit_value,band_low,band_high,suppressed\n",
    );
    for e in &out.estimates {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            e.estimator,
            e.group.map_or(String::new(), |t| t.to_string()),
            e.time.map_or(String::new(), |t| t.to_string()),
            e.event_time.map_or(String::new(), |t| t.to_string()),
            e.binned,
            e.se_type,
            e.df_rule,
            e.small_sample,
            f(e.estimate),
            f(e.std_error),
            f(e.statistic),
            f(e.df),
            f(e.p_value),
            f(e.ci_low),
            f(e.ci_high),
            e.conf_level,
            f(e.wild_p_value),
            f(e.bootstrap_se),
            f(e.crit_value),
            f(e.band_low),
            f(e.band_high),
            e.suppressed
        ));
    }
    s
}

/// The event-study chart in `lang`, from the output's numbers.
pub fn event_chart(out: &DidOutput, lang: Lang) -> Option<EventStudyChart> {
    let nl = lang == Lang::Nl;
    let series = |name: &str| -> Vec<EventPoint> {
        out.estimates
            .iter()
            .filter(|e| e.estimator == name && e.event_time.is_some())
            .map(|e| EventPoint {
                event_time: e.event_time.unwrap_or(0),
                estimate: e.estimate.unwrap_or(f64::NAN),
                ci_low: e.ci_low.unwrap_or(f64::NAN),
                ci_high: e.ci_high.unwrap_or(f64::NAN),
                suppressed: e.suppressed,
            })
            .collect()
    };
    // The event study; without it (--estimator sa) Sun & Abraham's event-time effects.
    let (mut points, mut first_is_sa) = (series("event_study"), false);
    if points.is_empty() {
        points = series("sun_abraham");
        first_is_sa = true;
    }
    if points.is_empty() {
        return None;
    }
    let reference = out.reference.unwrap_or(-1);
    // Beside it a heterogeneity-robust estimator: Callaway-Sant'Anna by event time, else
    // Sun & Abraham.
    let (mut robust, mut robust_is_sa) = (series("cs_dynamic"), false);
    if robust.is_empty() && !first_is_sa {
        robust = series("sun_abraham");
        robust_is_sa = true;
    }
    let level = out.estimates.first().map_or(0.95, |e| e.conf_level) * 100.0;
    let pre =
        out.tests
            .pretrend_wald
            .as_ref()
            .map(|p| match (p.statistic, p.df1, p.df2, p.p_value) {
                (Some(f), Some(a), Some(b), Some(pv)) => {
                    let f = plot::format_value(f, lang);
                    if nl {
                        let p = fmt_p(pv).replace('.', ",");
                        format!("Pre-trendtoets: F({a}, {b}) = {f}, p = {p}")
                    } else {
                        format!("Pre-trend test: F({a}, {b}) = {f}, p = {}", fmt_p(pv))
                    }
                }
                _ if nl => "Pre-trendtoets: afgeschermd".into(),
                _ => "Pre-trend test: suppressed".into(),
            });
    Some(EventStudyChart {
        title: if nl {
            "Event study: effect per periode sinds de start".into()
        } else {
            "Event study: effect by period since the start".into()
        },
        subtitle: if nl {
            format!(
                "Schatting met {level:.0}%-betrouwbaarheidsinterval; referentieperiode {reference}"
            )
        } else {
            format!("Estimate with {level:.0}% confidence interval; reference period {reference}")
        },
        x_label: if nl {
            "Periode ten opzichte van de eerste behandelde periode".into()
        } else {
            "Period relative to the first treated period".into()
        },
        y_label: if nl {
            "Verschil met de referentieperiode".into()
        } else {
            "Difference from the reference period".into()
        },
        points,
        robust,
        series_labels: {
            let sa = if nl {
                "Sun & Abraham per periode sinds de start"
            } else {
                "Sun & Abraham by period since the start"
            };
            let first = if first_is_sa {
                sa.to_string()
            } else if nl {
                "Event study (vaste effecten, nooit behandelden als controle)".into()
            } else {
                "Event study (fixed effects, never treated as controls)".into()
            };
            let second = if robust_is_sa {
                sa.to_string()
            } else if nl {
                "Callaway-Sant'Anna per periode sinds de start".into()
            } else {
                "Callaway-Sant'Anna by period since the start".into()
            };
            (first, second)
        },
        reference,
        note: pre.unwrap_or_default(),
        lang,
    })
}

/// The outcome means by cohort over calendar time, in `lang`.
pub fn trend_chart(out: &DidOutput, lang: Lang) -> TrendChart {
    let nl = lang == Lang::Nl;
    let mut series: Vec<CohortSeries> = Vec::new();
    for c in &out.cohorts {
        let label = match (c.first_treated, nl) {
            (None, true) => "Nooit behandeld".to_string(),
            (None, false) => "Never treated".to_string(),
            (Some(g), true) => format!("Start {g}"),
            (Some(g), false) => format!("Start {g}"),
        };
        let points = out
            .cohort_means
            .iter()
            .filter(|m| m.cohort == c.first_treated)
            .map(|m| (m.period, m.mean.unwrap_or(f64::NAN)))
            .collect();
        series.push(CohortSeries {
            label,
            start: c.first_treated,
            points,
        });
    }
    TrendChart {
        title: if nl {
            "Gemiddelde uitkomst per groep en periode".into()
        } else {
            "Mean outcome by group and period".into()
        },
        subtitle: if nl {
            "Groepen naar eerste behandelde periode; vóór de start horen de lijnen evenwijdig te lopen".into()
        } else {
            "Groups by first treated period; before the start the lines should run parallel".into()
        },
        x_label: if nl {
            "Periode".into()
        } else {
            "Period".into()
        },
        y_label: if nl {
            "Gemiddelde uitkomst".into()
        } else {
            "Mean outcome".into()
        },
        series,
        note: if out.disclosure.applied {
            if nl {
                "Cellen met te weinig personen zijn weggelaten (onthullingscontrole).".into()
            } else {
                "Cells with too few persons are left out (disclosure control).".into()
            }
        } else if nl {
            "GEEN onthullingscontrole: alleen voor gebruik in een beveiligde omgeving.".into()
        } else {
            "NO disclosure control: for use inside a secure environment only.".into()
        },
        lang,
    }
}

/// The group-time effects ATT(g,t) of Callaway & Sant'Anna as small multiples (a panel
/// per cohort) in `lang`; `None` without them.
pub fn group_time_chart(out: &DidOutput, lang: Lang) -> Option<GroupTimeChart> {
    let nl = lang == Lang::Nl;
    let cells: Vec<&DidEstimate> = out
        .estimates
        .iter()
        .filter(|e| e.estimator == "cs_att_gt")
        .collect();
    let mut groups: Vec<i64> = cells.iter().filter_map(|e| e.group).collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.is_empty() {
        return None;
    }
    let panels = groups
        .iter()
        .map(|&g| GroupTimePanel {
            title: if nl {
                format!("Gestart in {g}")
            } else {
                format!("Started in {g}")
            },
            group: g,
            points: cells
                .iter()
                // Not the universal base period's reference cell (0, no interval).
                .filter(|e| e.group == Some(g) && (e.suppressed || e.std_error.is_some()))
                .map(|e| GroupTimePoint {
                    time: e.time.unwrap_or(g),
                    estimate: e.estimate.unwrap_or(f64::NAN),
                    ci_low: e.ci_low.unwrap_or(f64::NAN),
                    ci_high: e.ci_high.unwrap_or(f64::NAN),
                    band: e.band_low.zip(e.band_high),
                    suppressed: e.suppressed,
                })
                .collect(),
        })
        .collect();
    let level = cells[0].conf_level * 100.0;
    let banded = cells.iter().any(|e| e.band_low.is_some());
    Some(GroupTimeChart {
        title: if nl {
            "Effect per groep en periode (Callaway-Sant'Anna)".into()
        } else {
            "Effect by group and period (Callaway-Sant'Anna)".into()
        },
        subtitle: if nl {
            "Een paneel per groep (eerste behandelde periode); grijs: perioden vóór de start, waar het effect nul hoort te zijn".into()
        } else {
            "One panel per group (first treated period); grey: periods before the start, where the effect should be zero".into()
        },
        x_label: if nl {
            "Periode".into()
        } else {
            "Period".into()
        },
        y_label: if nl {
            "Effect ATT(g,t): verschil met de vergelijkingsgroep, ten opzichte van de basisperiode"
                .into()
        } else {
            "Effect ATT(g,t): difference from the comparison group, relative to the base period"
                .into()
        },
        panels,
        legend: if nl {
            (
                format!("{level:.0}%-betrouwbaarheidsinterval (per punt)"),
                format!("{level:.0}%-band voor alle punten samen (bootstrap)"),
            )
        } else {
            (
                format!("{level:.0}% confidence interval (pointwise)"),
                format!("{level:.0}% band for all points together (bootstrap)"),
            )
        },
        note: {
            let mut n = if nl {
                "Vóór de start vergelijkt elk punt een periode met de vorige; vanaf de start met de periode vóór de start.".to_string()
            } else {
                "Before the start each point compares a period with the one before; from the start on, with the period before the start.".to_string()
            };
            if banded {
                n.push_str(if nl {
                    " De band (multiplier-bootstrap) geldt voor alle punten tegelijk."
                } else {
                    " The band (multiplier bootstrap) holds for all points at once."
                });
            }
            if !out.disclosure.applied {
                n.push_str(if nl {
                    " GEEN onthullingscontrole: alleen voor gebruik in een beveiligde omgeving."
                } else {
                    " NO disclosure control: for use inside a secure environment only."
                });
            }
            n
        },
        lang,
    })
}

/// Write event_study.{en,nl}.{png,svg}, trends.{en,nl}.{png,svg} and (with Callaway &
/// Sant'Anna) group_time.{en,nl}.{png,svg} into `dir`.
pub fn write_charts(out: &DidOutput, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, "cannot create the output folder").with_cause(e))?;
    let mut written = Vec::new();
    let mut put = |name: String, bytes: Vec<u8>| -> Result<()> {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, "cannot write").with_cause(e))?;
        written.push(p);
        Ok(())
    };
    for lang in [Lang::En, Lang::Nl] {
        let tag = if lang == Lang::Nl { "nl" } else { "en" };
        if let Some(c) = event_chart(out, lang) {
            put(format!("event_study.{tag}.png"), plot::event_study_png(&c)?)?;
            put(
                format!("event_study.{tag}.svg"),
                plot::event_study_svg(&c)?.into_bytes(),
            )?;
        }
        if let Some(c) = group_time_chart(out, lang) {
            put(format!("group_time.{tag}.png"), plot::group_time_png(&c)?)?;
            put(
                format!("group_time.{tag}.svg"),
                plot::group_time_svg(&c)?.into_bytes(),
            )?;
        }
        let t = trend_chart(out, lang);
        put(format!("trends.{tag}.png"), plot::trend_chart_png(&t)?)?;
        put(
            format!("trends.{tag}.svg"),
            plot::trend_chart_svg(&t)?.into_bytes(),
        )?;
    }
    Ok(written)
}

pub fn run(args: &DidArgs) -> Result<()> {
    let out = compute(args)?;
    if let Some(dir) = &args.out {
        write_charts(&out, dir)?;
    }
    super::emit(args.format, &out, &out.notes, table, csv)
}
