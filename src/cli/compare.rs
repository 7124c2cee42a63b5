//! `via-eval compare DATA --treatment COL --outcome COL`: the pilot comparisons on any
//! CSV or Parquet file, without a config. The command builds a pilot spec from its
//! flags and runs the same analysis as `via-eval pilot`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::choices::{EstimatorArg, MissingClusterArg, NamesArg, SeArg};
use super::read_args::ReadArgs;
use crate::analysis::{self, Options, PilotResults};
use crate::cli::Format;
use crate::config::{
    self, ArmDraft, ArmsDraft, DataDraft, DesignDraft, Lang, MissingCluster, Origin, OutcomeDraft,
    OutcomeKind, PilotDraft, PilotSpec, Text, check_roles,
};
use crate::data::Frame;
use crate::error::{Error, MAX_LISTED_VALUES, Result, did_you_mean};
use crate::report::{self, document::estimator_label, fmt_p, fmt_value, tables::render};

/// Outcome kind, or detect it from the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    Auto,
    Binary,
    Continuous,
}

/// Examples at the end of `via-eval compare --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval compare notebooks-data/leren-en-werken.csv --treatment arm --treated deelnemer \\
      --outcome work_12m,hours_week --covariates age,female,education_years
  via-eval compare trial.xlsx --sheet Data --treatment arm --treated 1 --outcome earnings \\
      --cluster school --format csv --names broom
  via-eval compare tests/fixtures/survival/data/veteran.csv --treatment group --treated 2 \\
      --control 1 --time time --event event --at 90,180 --format json";

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Data file: CSV or other delimited text (.csv, .tsv, .txt), Excel (.xlsx, .xls),
    /// OpenDocument (.ods) or Parquet.
    pub data: PathBuf,
    /// Column that holds the arm of each unit.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub treatment: String,
    /// Outcome column(s), comma-separated.
    #[arg(long, help_heading = super::ANALYSIS, value_delimiter = ',', required_unless_present = "time")]
    pub outcome: Vec<String>,
    /// Time-to-event outcome: the time column (with --event).
    #[arg(long, help_heading = super::ANALYSIS, requires = "event")]
    pub time: Option<String>,
    /// Time-to-event outcome: the event column (1 = event, 0 = censored).
    #[arg(long, help_heading = super::ANALYSIS, requires = "time")]
    pub event: Option<String>,
    /// Times at which survival is reported, comma-separated (default: even steps).
    #[arg(long, help_heading = super::ANALYSIS, value_delimiter = ',', requires = "time")]
    pub at: Vec<f64>,
    /// Horizon of the restricted mean survival time (default: the latest time at which
    /// at least 10 units of every arm, or the disclosure threshold, are still followed,
    /// rounded down to two digits).
    #[arg(long, help_heading = super::ANALYSIS, requires = "time")]
    pub horizon: Option<f64>,
    /// Value of the treatment column for the treated arm. Without it, every value other
    /// than the control is compared with the control.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub treated: Option<String>,
    /// Value of the treatment column for the control arm. Inferred when the column
    /// holds 0/1 or exactly two values and `--treated` names one of them.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub control: Option<String>,
    /// Covariates for the adjusted estimate, comma-separated (numeric columns).
    #[arg(long, help_heading = super::ANALYSIS, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Cluster column: cluster-robust (CR2) inference with Bell-McCaffrey df, and a
    /// wild cluster bootstrap p-value when there are fewer than 30 clusters.
    #[arg(long, help_heading = super::ANALYSIS)]
    pub cluster: Option<String>,
    /// Units whose cluster id is missing: `drop` leaves them out of the cluster-robust
    /// analyses (counted per arm as `n_missing_cluster`, and noted), as estimatr, Stata
    /// and fixest do; `error` stops with the row.
    #[arg(long, value_enum, default_value = "drop", requires = "cluster")]
    pub missing_cluster: MissingClusterArg,
    /// Block column: units were randomised within blocks (design-based blocked
    /// difference in means; block indicators in the adjusted regression).
    #[arg(long, help_heading = super::ANALYSIS)]
    pub block: Option<String>,
    /// Fixed effects to absorb, comma-separated columns (an extra `ols_fe` estimate).
    #[arg(long, help_heading = super::ANALYSIS, value_delimiter = ',')]
    pub fe: Vec<String>,
    /// The estimator that leads; by default the design decides (Welch without
    /// covariates, adjusted OLS with them).
    #[arg(long, help_heading = super::ANALYSIS, value_enum)]
    pub estimator: Option<EstimatorArg>,
    /// `--estimator matching`: comparison units per treated unit (1:K).
    #[arg(long, help_heading = super::ANALYSIS, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub ratio: u16,
    /// `--estimator matching`: match with replacement (a comparison unit may serve
    /// several treated units).
    #[arg(long, help_heading = super::ANALYSIS)]
    pub replace: bool,
    /// `--estimator matching`: caliper in standard deviations of the logit of the
    /// propensity score; treated units without a comparison unit this close are left
    /// out.
    #[arg(long, help_heading = super::ANALYSIS, value_name = "C")]
    pub caliper: Option<f64>,
    /// `--estimator matching`: match only within the same value of this column (exact
    /// matching, e.g. the school).
    #[arg(long, help_heading = super::ANALYSIS, value_name = "COL")]
    pub exact: Option<String>,
    /// Standard errors of the regressions (default HC2, or CR2 with --cluster).
    #[arg(long, help_heading = super::ANALYSIS, value_enum)]
    pub se: Option<SeArg>,
    /// Outcome kind; `auto` treats an outcome with only 0/1 values as binary.
    #[arg(long, help_heading = super::ANALYSIS, value_enum, default_value = "auto")]
    pub kind: KindArg,
    /// Cost column: each person's cost in euros. Adds the cost per extra person with
    /// the (first) outcome: incremental cost and effect (unadjusted differences in
    /// means on the persons with both a cost and the outcome), the ICER with Fieller's
    /// interval, a seeded bootstrap interval (`--seed`) and the acceptability curve.
    /// With `--format csv` the cost-effectiveness rows are printed instead of the
    /// estimates; `--out DIR` writes the plane and acceptability charts.
    #[arg(long, help_heading = super::ANALYSIS, value_name = "COL")]
    pub cost: Option<String>,
    /// With `--cost`: largest value of one extra person with the outcome on the
    /// acceptability curve (euros); the plane's dashed line is at half of it.
    #[arg(long, help_heading = super::ANALYSIS, value_name = "EUROS", default_value_t = 100_000.0, requires = "cost")]
    pub max_value: f64,
    /// With `--cost`: bootstrap replicates of the cost-effectiveness plane.
    #[arg(long, help_heading = super::ANALYSIS, value_name = "N", default_value_t = config::COST_BOOTSTRAP_REPS, requires = "cost")]
    pub cost_replicates: u64,
    /// Output format (to standard output).
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "table")]
    pub format: Format,
    /// Column names of `--format csv`: ours (`std_error`, `ci_low`, `p_value`) or R
    /// broom's (`std.error`, `conf.low`, `p.value`, `term`).
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "snake")]
    pub names: NamesArg,
    /// Folder for the charts of a weighting estimator (`--estimator ipw|overlap|
    /// entropy`): the Love plot and the propensity-score overlap chart; with `--cost`
    /// the cost-effectiveness plane and the acceptability curve. PNG and SVG, in Dutch
    /// and English.
    #[arg(long, help_heading = super::OUTPUT, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub analysis: super::analysis_args::AnalysisArgs,
    #[command(flatten)]
    pub read: Box<ReadArgs>,
}

/// What an error says about the values of an arm column: all of them when there are
/// at most [`MAX_LISTED_VALUES`], otherwise only how many.
fn arm_values_text(listed: &[&str]) -> String {
    if listed.len() <= MAX_LISTED_VALUES {
        format!("Its values: {}.", listed.join(", "))
    } else {
        format!(
            "It has {} different values, too many for an arm column (its values are not shown, \
             since they may identify persons); check that --treatment names the arm column",
            listed.len()
        )
    }
}

/// The columns a comparison reads: those of the spec the flags describe, as
/// `PilotSpec::needed_columns` lists them for a config file, so that `compare` and
/// `pilot` cannot disagree on what a role reads. What only the data can tell (the
/// arms' values, an outcome's kind) is not known before the read, so the spec is first
/// validated with stand-ins for those (arms "0" and "1", outcomes continuous); every
/// other rule of a config file already holds for the flags here, before the data is
/// read, and holds again for the real spec in [`build_spec`].
fn columns_to_read(args: &CompareArgs) -> Result<Vec<String>> {
    let arms = ArmsDraft {
        column: args.treatment.clone(),
        control: "0".into(),
        values: ["0", "1"]
            .iter()
            .map(|v| ArmDraft {
                value: (*v).into(),
                label: Text::same(*v),
            })
            .collect(),
    };
    let outcomes = outcome_drafts(args, |_| Ok(OutcomeKind::Continuous))?;
    let probe = config::validate(pilot_draft(args, arms, outcomes), Origin::CommandLine)?;
    Ok(probe.needed_columns())
}

/// Read the columns the spec of the flags needs ([`columns_to_read`]), refusing a
/// column in two parts before the data is read; prints the reader's assumptions as notes.
fn load_frame(args: &CompareArgs) -> Result<Frame> {
    // Columns in two parts are refused before the data is read.
    check_roles(
        &args.treatment,
        args.outcome
            .iter()
            .chain(args.time.iter())
            .chain(args.event.iter())
            .map(|c| (c.as_str(), c.as_str())),
        &args.covariates,
    )
    .map_err(Error::usage)?;
    let cols = columns_to_read(args)?;
    let read = args.read.options()?;
    let frame = crate::timings::time("read", || Frame::load_with(&args.data, &cols, &[], &read))?;
    for a in frame.assumptions() {
        eprintln!("note: {}: {a}", args.data.display());
    }
    Ok(frame)
}

/// The values of the arm column.
struct ArmValues {
    values: BTreeSet<String>,
    /// Whether some row has no arm.
    missing: bool,
    /// What an error says about the values ([`arm_values_text`]).
    text: String,
}

/// The arm column's values, checking that `--treated` and `--control` are among them
/// and that there are at least two.
fn arm_values(args: &CompareArgs, frame: &Frame) -> Result<ArmValues> {
    let path = &args.data;
    let (arm_levels, arm_missing) = frame.levels(&args.treatment)?;
    let arm_values: BTreeSet<String> = arm_levels.into_iter().collect();
    let listed: Vec<&str> = arm_values.iter().map(String::as_str).collect();
    let values_text = arm_values_text(&listed);
    let check = |v: &str, flag: &str| -> Result<()> {
        if arm_values.contains(v) {
            Ok(())
        } else {
            // A hint names a value of the column only when it looks like an arm column.
            let hint = if listed.len() <= MAX_LISTED_VALUES {
                did_you_mean(v, listed.iter().copied())
            } else {
                String::new()
            };
            Err(Error::data(
                path,
                format!(
                    "{flag} \"{v}\" does not occur in column \"{}\".{hint} {values_text}",
                    args.treatment,
                ),
            ))
        }
    };
    if let Some(t) = &args.treated {
        check(t, "--treated")?;
    }
    if let Some(c) = &args.control {
        check(c, "--control")?;
    }
    if arm_values.len() < 2 {
        return Err(Error::data(
            path,
            format!(
                "column \"{}\" has only one value; a comparison needs two arms",
                args.treatment,
            ),
        ));
    }
    Ok(ArmValues {
        values: arm_values,
        missing: arm_missing,
        text: values_text,
    })
}

/// The control arm: `--control`, else "0" in a 0/1 column, else the arm other than
/// `--treated` of two, else one guessed from its name (with a note).
fn choose_control(args: &CompareArgs, arms: &ArmValues) -> Result<String> {
    let arm_values = &arms.values;
    let listed: Vec<&str> = arm_values.iter().map(String::as_str).collect();
    let is01 = arm_values.iter().all(|v| v == "0" || v == "1");
    Ok(match (&args.control, &args.treated) {
        (Some(c), _) => c.clone(),
        (None, _) if is01 => "0".to_string(),
        (None, Some(t)) if arm_values.len() == 2 => arm_values
            .iter()
            .find(|v| *v != t)
            .cloned()
            .unwrap_or_default(),
        _ => match control_guess(&listed) {
            Some(c) => {
                eprintln!(
                    "note: control arm \"{c}\" assumed from its name; name another with --control"
                );
                c.to_string()
            }
            None => {
                let values_text = &arms.text;
                return Err(Error::usage(format!(
                    "name the control arm with --control (column \"{}\"). {values_text}",
                    args.treatment,
                )));
            }
        },
    })
}

/// The treated arms: `--treated` (not the control), else every arm but the control.
fn treated_arms(args: &CompareArgs, arms: &ArmValues, control: &str) -> Result<Vec<String>> {
    Ok(match &args.treated {
        Some(t) if *t == control => {
            return Err(Error::usage(format!(
                "--treated and the control are both \"{t}\"; choose two different arms"
            )));
        }
        Some(t) => vec![t.clone()],
        None => arms
            .values
            .iter()
            .filter(|v| **v != control)
            .cloned()
            .collect(),
    })
}

/// The outcomes: ids from the column names (made valid ids where they are not), the
/// kind from `--kind` (or, with `--kind auto`, from `detect`), and the time-to-event
/// outcome of `--time`.
fn outcome_drafts(
    args: &CompareArgs,
    detect: impl Fn(&str) -> Result<OutcomeKind>,
) -> Result<Vec<OutcomeDraft>> {
    let mut ids = OutcomeIds::default();
    let mut outcomes = Vec::new();
    for o in &args.outcome {
        let kind = match args.kind {
            KindArg::Binary => OutcomeKind::Binary,
            KindArg::Continuous => OutcomeKind::Continuous,
            KindArg::Auto => detect(o)?,
        };
        outcomes.push(OutcomeDraft {
            id: ids.id_for(o),
            column: Some(o.clone()),
            kind: kind.to_string(),
            label: Text::same(o),
            unit: Text::same(if kind == OutcomeKind::Binary {
                "percentage points"
            } else {
                "outcome units"
            }),
            primary: true,
            better: "neither".into(),
            ..OutcomeDraft::default()
        });
    }
    if let (Some(t), Some(e)) = (&args.time, &args.event) {
        if args
            .at
            .iter()
            .chain(args.horizon.iter())
            .any(|x| !(x.is_finite() && *x > 0.0))
        {
            return Err(Error::usage("--at and --horizon take positive times"));
        }
        outcomes.push(OutcomeDraft {
            id: ids.id_for(t),
            column: Some(t.clone()),
            event: Some(e.clone()),
            kind: OutcomeKind::TimeToEvent.to_string(),
            label: Text::same(t),
            unit: Text::same("time units"),
            primary: true,
            better: "neither".into(),
            at: args.at.clone(),
            horizon: args.horizon,
            ..OutcomeDraft::default()
        });
    }
    Ok(outcomes)
}

/// The draft of the comparison: design, data and arms from the flags, the outcomes,
/// no multiple-testing adjustment.
fn pilot_draft(args: &CompareArgs, arms: ArmsDraft, outcomes: Vec<OutcomeDraft>) -> PilotDraft {
    let path = &args.data;
    let title = Text::same(format!(
        "{}: {}",
        path.file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
        args.outcome.join(", ")
    ));
    PilotDraft {
        slug: "compare".into(),
        title,
        unit: Text::same("unit"),
        design: DesignDraft {
            kind: if args.cluster.is_some() {
                "cluster-randomised"
            } else {
                "individually-randomised"
            }
            .into(),
            cluster: args.cluster.clone(),
            block: args.block.clone(),
            exact: args.exact.clone(),
            fixed_effects: args.fe.clone(),
            missing_cluster: args.cluster.is_some().then(|| {
                MissingCluster::from(args.missing_cluster)
                    .name()
                    .to_string()
            }),
            ..DesignDraft::default()
        },
        data: DataDraft {
            file: path.display().to_string(),
            delimiter: args.read.delimiter.clone(),
            decimal_comma: args.read.decimal_comma,
            encoding: args.read.encoding.clone(),
            na: args.read.na.clone(),
            sheet: args.read.sheet.clone(),
            ..DataDraft::default()
        },
        arms,
        covariates: args.covariates.clone(),
        costs: args.cost.as_ref().map(|col| config::CostsDraft {
            outcome: outcomes.first().map(|o| o.id.clone()).unwrap_or_default(),
            column: Some(col.clone()),
            source: Text::same(format!("column \"{col}\" of {}", path.display())),
            max_value: Some(args.max_value),
            bootstrap_replicates: Some(args.cost_replicates),
            ..config::CostsDraft::default()
        }),
        outcomes,
        multiplicity: Some("none".into()),
        ..PilotDraft::default()
    }
}

/// An outcome's kind from its values: yes/no when every value is 0 or 1.
fn detected_kind(frame: &Frame, column: &str) -> Result<OutcomeKind> {
    let v = frame.numeric(column)?;
    Ok(if v.iter().flatten().all(|x| x == 0.0 || x == 1.0) {
        OutcomeKind::Binary
    } else {
        OutcomeKind::Continuous
    })
}

/// Build the spec the flags describe, checking columns and arm values against the data.
/// Returns the spec, the frame and whether every row belongs to a compared arm.
fn build_spec(args: &CompareArgs) -> Result<(PilotSpec, Frame, bool)> {
    let frame = load_frame(args)?;
    let _check = crate::timings::phase("check");
    let arm_values = arm_values(args, &frame)?;
    if let Some(c) = &args.cluster {
        crate::prepare::checks::clusters(&frame, c)?;
    }
    let control = choose_control(args, &arm_values)?;
    let treated = treated_arms(args, &arm_values, &control)?;
    let every_row = !arm_values.missing && treated.len() + 1 == arm_values.values.len();
    let arm = |v: &String| ArmDraft {
        value: v.clone(),
        label: Text::same(v),
    };
    let mut arms = vec![arm(&control)];
    arms.extend(treated.iter().map(arm));
    let outcomes = outcome_drafts(args, |o| detected_kind(&frame, o))?;
    let arms = ArmsDraft {
        column: args.treatment.clone(),
        control,
        values: arms,
    };
    let draft = pilot_draft(args, arms, outcomes);
    let spec = config::validate(draft, Origin::CommandLine)?;
    Ok((spec, frame, every_row))
}

/// Outcome ids from column names: a name that is a valid id (lower-case letters,
/// digits, `-`, `_`) is its own id; another is lower-cased with every other character
/// replaced by `_` (and numbered when that id is taken). The column name stays the
/// outcome's label.
#[derive(Default)]
struct OutcomeIds {
    taken: BTreeSet<String>,
}

impl OutcomeIds {
    fn id_for(&mut self, column: &str) -> String {
        let base: String = if config::valid_outcome_id(column) {
            column.to_string()
        } else {
            let mut s: String = column
                .to_lowercase()
                .chars()
                .map(|c| if config::outcome_id_char(c) { c } else { '_' })
                .collect();
            if s.is_empty() {
                s.push_str("outcome");
            }
            s
        };
        let mut id = base.clone();
        let mut k = 2;
        while !self.taken.insert(id.clone()) {
            id = format!("{base}_{k}");
            k += 1;
        }
        id
    }
}

/// The likely control arm among two or more arm values written as text: the one value
/// that names a control or comparison group, or says "no".
pub fn control_guess<'a>(values: &[&'a str]) -> Option<&'a str> {
    const CONTROL: &[&str] = &[
        "control",
        "controle",
        "controlegroep",
        "control group",
        "comparison",
        "vergelijking",
        "vergelijkingsgroep",
        "regulier",
        "usual care",
    ];
    let hits: Vec<&str> = values
        .iter()
        .copied()
        .filter(|v| {
            let l = v.to_lowercase();
            CONTROL.contains(&l.as_str())
                || (values.len() == 2 && crate::data::NO_WORDS.contains(&l.as_str()))
        })
        .collect();
    match hits.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// Keep only the units of the arms being compared (a `--treated` choice may leave
/// others out).
fn restrict(frame: Frame, spec: &PilotSpec) -> Result<Frame> {
    let keep: Vec<String> = spec.arms.values.iter().map(|a| a.value.clone()).collect();
    frame.filter_values(&spec.arms.column, &keep)
}

/// Run the comparison and return the results (for tests and the binary).
pub fn compute(args: &CompareArgs) -> Result<PilotResults> {
    let privacy = args.analysis.privacy()?;
    if args.cost.is_some() && (args.outcome.len() != 1 || args.time.is_some()) {
        return Err(Error::usage(
            "--cost needs exactly one --outcome (yes/no or continuous; not --time): the cost per extra person is of one outcome",
        ));
    }
    if args.caliper.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
        return Err(Error::usage(
            "--caliper takes a positive number of standard deviations",
        ));
    }
    if args.exact.is_some() && args.estimator != Some(EstimatorArg::Matching) {
        return Err(Error::usage(
            "--exact applies to --estimator matching only; add --estimator matching or leave out --exact",
        ));
    }
    let (spec, frame, every_row) = build_spec(args)?;
    let frame = if every_row {
        frame
    } else {
        restrict(frame, &spec)?
    };
    let (progress, bar) = super::resampling_progress(args.analysis.resampling());
    let input = crate::timings::time("prepare", || crate::prepare::prepare(&spec, &frame))?.input;
    // The analysis needs only what `prepare` took from the frame: columns it copied
    // (time and event, arm codes) are freed here; numeric columns it shares stay.
    crate::timings::time("free the frame", || {
        drop(frame);
        crate::memory::release_freed();
    });
    let _analysis = crate::timings::phase("analysis");
    let r = analysis::run(
        &spec,
        &input,
        &Options {
            estimator: args.estimator.map(Into::into),
            se: args.se.map(Into::into),
            matching: crate::stats::weighting::MatchingSpec {
                ratio: usize::from(args.ratio),
                replace: args.replace,
                caliper: args.caliper,
            },
            ..args.analysis.options(progress)
        },
        privacy,
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    r
}

/// The `table` format: every estimate with its interval, then per-arm summaries.
pub fn table(r: &PilotResults) -> String {
    let lang = Lang::En;
    let mut rows = vec![
        [
            "outcome",
            "comparison",
            "estimator",
            "se",
            "estimate",
            "ci_low",
            "ci_high",
            "p",
            "df",
            "n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    for e in &r.estimates {
        rows.push(vec![
            e.outcome.clone(),
            e.comparison.clone(),
            estimator_label(&e.estimator, lang),
            e.se_type.clone().unwrap_or_default(),
            fmt_value(e.estimate),
            fmt_value(e.ci_low),
            fmt_value(e.ci_high),
            fmt_p(e.p_value),
            report::fmt_df(e.df, lang),
            report::fmt_sizes(e.n_treated, e.n_control, lang),
        ]);
    }
    let mut out = render(&rows);
    out.push('\n');
    let mut rows = vec![
        [
            "outcome", "arm", "n", "missing", "mean", "ci_low", "ci_high",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    for s in &r.arm_summaries {
        rows.push(vec![
            s.outcome.clone(),
            s.arm.clone(),
            report::fmt_count(s.n, lang),
            report::fmt_count(s.n_missing, lang),
            fmt_value(s.mean),
            fmt_value(s.ci_low),
            fmt_value(s.ci_high),
        ]);
    }
    out.push_str(&render(&rows));
    out.push_str(&balance_table(r, lang));
    out.push_str(&cost_table(r));
    for n in &r.notes {
        out.push_str(&format!("note: {}\n", n.text.en));
    }
    out.push_str("Differences are treated minus control; binary outcomes as proportions.\n");
    if !r.disclosure.applied {
        out.push_str("WARNING: no disclosure control; small cells are shown. For use inside a secure environment only.\n");
    } else if r.disclosure.suppressed_summaries + r.disclosure.suppressed_estimates > 0 {
        out.push_str(&format!(
            "Disclosure control: numbers resting on fewer than {} persons are suppressed.\n",
            r.disclosure.threshold
        ));
    }
    out
}

/// The cost-effectiveness rows: per comparison the costs, increments, ICER, Fieller's
/// set and the bootstrap set; empty cells for what does not apply.
fn cost_rows(r: &PilotResults, full: bool) -> Vec<Vec<String>> {
    use crate::stats::cost::FiellerSet;
    // Full precision for CSV (shortest round-trip form), rounded for the table.
    let fmt_value = |v: f64| if full { format!("{v}") } else { fmt_value(v) };
    let opt = |v: Option<f64>| v.map_or_else(String::new, fmt_value);
    let mut rows = vec![
        [
            "outcome",
            "comparison",
            "n_treated",
            "n_control",
            "n_missing_cost",
            "cost_treated",
            "cost_control",
            "incremental_cost",
            "cost_std_error",
            "incremental_effect",
            "effect_std_error",
            "covariance",
            "icer",
            "fieller_kind",
            "fieller_low",
            "fieller_high",
            "bootstrap_kind",
            "bootstrap_low",
            "bootstrap_high",
            "bootstrap_below",
            "bootstrap_above",
            "bootstrap_replicates",
            "seed",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>(),
    ];
    let Some(c) = &r.costs else { return rows };
    for x in &c.comparisons {
        let (fk, fl, fh) = match x.fieller {
            FiellerSet::Bounded { low, high } => ("bounded", Some(low), Some(high)),
            FiellerSet::TwoRays { below, above } => ("two_rays", Some(below), Some(above)),
            FiellerSet::Everything => ("everything", None, None),
        };
        let kind = x
            .bootstrap_kind
            .and_then(|k| serde_json::to_value(k).ok())
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        rows.push(vec![
            c.outcome.clone(),
            x.comparison.clone(),
            x.n_treated.to_string(),
            x.n_control.to_string(),
            x.n_missing_cost.map(|n| n.to_string()).unwrap_or_default(),
            fmt_value(x.cost_treated),
            fmt_value(x.cost_control),
            fmt_value(x.incremental_cost),
            fmt_value(x.cost_std_error),
            fmt_value(x.incremental_effect),
            fmt_value(x.effect_std_error),
            fmt_value(x.covariance),
            opt(x.icer),
            fk.into(),
            opt(fl),
            opt(fh),
            kind,
            opt(x.bootstrap_low),
            opt(x.bootstrap_high),
            opt(x.bootstrap_below),
            opt(x.bootstrap_above),
            x.bootstrap_replicates
                .map(|n| n.to_string())
                .unwrap_or_default(),
            x.bootstrap_seed.map(|n| n.to_string()).unwrap_or_default(),
        ]);
    }
    rows
}

/// `--format csv` with `--cost`: the cost-effectiveness rows (fieller_low/high are the
/// interval's limits, or for `two_rays` the rays' ends: every ratio up to the first and
/// from the second on).
fn cost_csv(r: &PilotResults) -> String {
    let mut out = String::new();
    for row in cost_rows(r, true) {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The cost section of the table format: the rows (transposed, one line per field)
/// and the cost line in plain words.
fn cost_table(r: &PilotResults) -> String {
    let Some(c) = &r.costs else {
        return String::new();
    };
    let rows = cost_rows(r, false);
    let mut out = String::from("\nCost per extra person with the outcome (euros):\n");
    for (i, x) in c.comparisons.iter().enumerate() {
        let t: Vec<Vec<String>> = rows[0]
            .iter()
            .zip(&rows[i + 1])
            .skip(1)
            .map(|(k, v)| {
                vec![
                    k.clone(),
                    if v.is_empty() {
                        "–".into()
                    } else {
                        v.clone()
                    },
                ]
            })
            .collect();
        out.push_str(&render(&t));
        out.push_str(&report::cost_text::cost_line(r, x, Lang::En));
        out.push('\n');
    }
    out
}

/// With `--cost` and `--out DIR`: the cost-effectiveness plane and the acceptability
/// curve, PNG and SVG, in Dutch and English (`ce_plane_nl.png`, `acceptability_en.svg`,
/// ...). The file names written.
fn write_cost_charts(r: &PilotResults, dir: &std::path::Path) -> Result<Vec<String>> {
    if r.costs.is_none() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, "cannot create the output folder").with_cause(e))?;
    let mut files = Vec::new();
    let mut write = |name: String, bytes: Vec<u8>| -> Result<()> {
        let p = dir.join(&name);
        std::fs::write(&p, bytes)
            .map_err(|e| Error::io(&p, "cannot write the chart").with_cause(e))?;
        files.push(name);
        Ok(())
    };
    for (lang, tag) in [(Lang::Nl, "nl"), (Lang::En, "en")] {
        if let Some(c) = report::charts::ce_plane_chart(r, lang) {
            write(
                format!("ce_plane_{tag}.png"),
                crate::plot::ce_plane_png(&c)?,
            )?;
            write(
                format!("ce_plane_{tag}.svg"),
                crate::plot::ce_plane_svg(&c)?.into_bytes(),
            )?;
        }
        if let Some(c) = report::charts::acceptability_chart(r, lang) {
            write(
                format!("acceptability_{tag}.png"),
                crate::plot::power_chart_png(&c)?,
            )?;
            write(
                format!("acceptability_{tag}.svg"),
                crate::plot::power_chart_svg(&c)?.into_bytes(),
            )?;
        }
    }
    Ok(files)
}

/// The balance of every weighting estimate (first outcome of each comparison, as the
/// covariates are the same for all), its effective sample sizes and E-values; empty
/// when no weighting estimator ran.
fn balance_table(r: &PilotResults, lang: Lang) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "–".to_string(), fmt_value);
    let mut out = String::new();
    let mut seen = BTreeSet::new();
    for e in r.estimates.iter().filter(|e| !e.balance.is_empty()) {
        if !seen.insert((e.estimator.clone(), e.comparison.clone(), e.subset.clone())) {
            continue;
        }
        out.push_str(&format!(
            "\nBalance, {} ({}); SMD = difference in means / SD of the treated (unweighted):\n",
            estimator_label(&e.estimator, lang),
            e.comparison
        ));
        let mut rows = vec![
            [
                "covariate",
                "mean_treated",
                "mean_control",
                "smd_before",
                "smd_after",
                "vr_before",
                "vr_after",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        ];
        for b in &e.balance {
            rows.push(vec![
                b.covariate.clone(),
                opt(b.mean_treated),
                opt(b.mean_control),
                opt(b.smd_before),
                opt(b.smd_after),
                opt(b.variance_ratio_before),
                opt(b.variance_ratio_after),
            ]);
        }
        out.push_str(&render(&rows));
        if let Some(n) = e.effective_n {
            out.push_str(&format!(
                "Effective sample size (Kish): treated {}, control {}\n",
                fmt_value(n.treated),
                fmt_value(n.control)
            ));
        }
    }
    for e in r.estimates.iter().filter(|e| e.e_value.is_some()) {
        out.push_str(&format!(
            "E-value {} {} ({}): {} (confidence limit: {})\n",
            e.outcome,
            e.comparison,
            e.estimator,
            opt(e.e_value),
            opt(e.e_value_ci)
        ));
    }
    out
}

pub fn run(args: &CompareArgs) -> Result<()> {
    let _total = crate::timings::phase("compare (total)");
    let r = compute(args)?;
    let _output = crate::timings::phase("output");
    if let Some(dir) = &args.out {
        let mut files = super::weighting_charts::write_charts(&r, dir)?;
        files.extend(write_cost_charts(&r, dir)?.into_iter().map(PathBuf::from));
        if files.is_empty() && args.cost.is_none() {
            eprintln!(
                "note: --out writes the charts of a weighting estimator \
                 (--estimator ipw|overlap|entropy with --covariates); there is none, so \
                 nothing was written"
            );
        }
    }
    let text = match args.format {
        Format::Table => table(&r),
        Format::Json if args.time.is_some() => {
            serde_json::to_string_pretty(&survival_json(&r))
                .map_err(|e| Error::analysis("cannot write JSON").with_cause(e))?
                + "\n"
        }
        Format::Json => report::to_json(&r)? + "\n",
        Format::Csv if args.cost.is_some() => cost_csv(&r),
        Format::Csv => report::columns::to_csv(
            &r.estimates,
            &report::columns::Context {
                disclosure_applied: r.disclosure.applied,
            },
            args.names.into(),
        ),
    };
    super::print_out(&text)?;
    Ok(())
}

/// The JSON of a time-to-event comparison: `survival` rows (arm, time, survival,
/// std_error, ci_low, ci_high, at_risk), `median` per arm, `logrank`, `rmst` (per arm
/// and the difference) and `cox`, one object per treated arm, plus the full results.
pub fn survival_json(r: &PilotResults) -> serde_json::Value {
    use serde_json::json;
    let mut comparisons = Vec::new();
    let outcomes: Vec<&str> =
        r.survival
            .iter()
            .map(|s| s.outcome.as_str())
            .fold(Vec::new(), |mut v, o| {
                if !v.contains(&o) {
                    v.push(o);
                }
                v
            });
    for o in outcomes {
        let rows: Vec<serde_json::Value> = r
            .survival
            .iter()
            .filter(|s| s.outcome == o)
            .flat_map(|s| {
                s.at.iter().map(move |p| {
                    json!({"arm": s.arm, "time": p.time, "survival": p.survival, "std_error": p.std_error,
                           "ci_low": p.ci_low, "ci_high": p.ci_high, "at_risk": p.at_risk})
                })
            })
            .collect();
        let medians: Vec<serde_json::Value> = r
            .survival
            .iter()
            .filter(|s| s.outcome == o)
            .map(|s| {
                json!({"arm": s.arm, "n": s.n, "events": s.events, "median": s.median,
                            "ci_low": s.median_ci_low, "ci_high": s.median_ci_high,
                            "suppressed": s.suppressed || s.median_suppressed})
            })
            .collect();
        let rmst_arms: Vec<serde_json::Value> = r
            .arm_summaries
            .iter()
            .filter(|s| s.outcome == o)
            .map(|s| json!({"arm": s.arm, "estimate": s.mean, "ci_low": s.ci_low, "ci_high": s.ci_high, "n": s.n}))
            .collect();
        for e in r
            .estimates
            .iter()
            .filter(|e| e.outcome == o && e.estimator == "rmst_difference")
        {
            let logrank = r
                .tests
                .iter()
                .find(|t| t.outcome == o && t.treated == e.treated && t.test == "logrank");
            let cox = r.estimates.iter().find(|c| {
                c.outcome == o && c.treated == e.treated && c.estimator == "cox_hazard_ratio"
            });
            comparisons.push(json!({
                "outcome": o,
                "comparison": e.comparison,
                "survival": rows,
                "median": medians,
                "logrank": logrank.map(|t| json!({"statistic": t.statistic, "df": t.df, "p_value": t.p_value})),
                "rmst": {
                    "horizon": r.survival.iter().find(|s| s.outcome == o).map(|s| s.horizon),
                    "arms": rmst_arms,
                    "difference": {"estimate": e.estimate, "std_error": e.std_error, "ci_low": e.ci_low,
                                   "ci_high": e.ci_high, "p_value": e.p_value},
                },
                "cox": cox.map(|c| json!({"hazard_ratio": c.estimate, "std_error_log": c.std_error,
                                          "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value,
                                          "se_type": c.se_type})),
            }));
        }
    }
    json!({"comparisons": comparisons, "results": r})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_arms_by_name() {
        assert_eq!(
            control_guess(&["interventie", "controle"]),
            Some("controle")
        );
        assert_eq!(control_guess(&["ja", "nee"]), Some("nee"));
        assert_eq!(control_guess(&["a", "b"]), None);
        assert_eq!(control_guess(&["control", "comparison", "x"]), None);
    }

    fn parse(flags: &[&str]) -> CompareArgs {
        #[derive(clap::Parser)]
        struct Cmd {
            #[command(flatten)]
            args: CompareArgs,
        }
        let mut argv = vec!["compare", "data.csv"];
        argv.extend_from_slice(flags);
        <Cmd as clap::Parser>::try_parse_from(argv).unwrap().args
    }

    /// Every flag that names a column gets its column read, once, whether or not
    /// another flag names it too; the list is the spec's, not one kept here.
    #[test]
    fn every_column_a_flag_names_is_read_once() {
        let args = parse(&[
            "--treatment",
            "arm",
            "--outcome",
            "y1,y2",
            "--time",
            "t",
            "--event",
            "e",
            "--covariates",
            "age,sex",
            "--fe",
            "region",
            "--cluster",
            "school",
            "--cost",
            "euro",
        ]);
        let cols = columns_to_read(&args).unwrap();
        let mut sorted = cols.clone();
        sorted.sort();
        let mut want = vec![
            "age", "arm", "e", "euro", "region", "school", "sex", "t", "y1", "y2",
        ];
        want.sort();
        assert_eq!(sorted, want);
        // --exact with matching: the column is read although no other flag names it.
        let args = parse(&[
            "--treatment",
            "arm",
            "--outcome",
            "y",
            "--covariates",
            "age",
            "--estimator",
            "matching",
            "--exact",
            "school",
            "--block",
            "b",
        ]);
        let mut cols = columns_to_read(&args).unwrap();
        cols.sort();
        assert_eq!(cols, vec!["age", "arm", "b", "school", "y"]);
    }

    /// A rule of a config file holds for the flags before the data is read: a
    /// column in two parts is refused with the flags' own message.
    #[test]
    fn an_outcome_that_is_a_covariate_is_refused_before_reading() {
        let args = parse(&["--treatment", "arm", "--outcome", "y", "--covariates", "y"]);
        let Err(e) = load_frame(&args) else {
            panic!("the outcome that is a covariate was read")
        };
        let e = e.to_string();
        assert!(e.contains("also listed as a covariate"), "{e}");
    }
}
