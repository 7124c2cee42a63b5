//! `via-eval compare DATA --treatment COL --outcome COL`: the pilot comparisons on any
//! CSV or Parquet file, without a config. The command builds a pilot spec from its
//! flags and runs the same analysis as `via-eval pilot`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::analysis::{self, Options, PilotResults};
use crate::config::{
    Arm, Arms, Better, DataLayout, DataSpec, Design, DesignKind, Lang, OutcomeKind, OutcomeSource,
    OutcomeSpec, PilotSpec, Text,
};
use crate::data::Frame;
use crate::error::{Error, Result, closest};
use crate::report::{self, document::estimator_label, fmt_p, fmt_value, tables::render};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Outcome kind, or detect it from the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    Auto,
    Binary,
    Continuous,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Data file (.csv or .parquet).
    pub data: PathBuf,
    /// Column that holds the arm of each unit.
    #[arg(long)]
    pub treatment: String,
    /// Outcome column(s), comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub outcome: Vec<String>,
    /// Value of the treatment column for the treated arm. Without it, every value other
    /// than the control is compared with the control.
    #[arg(long)]
    pub treated: Option<String>,
    /// Value of the treatment column for the control arm. Inferred when the column
    /// holds 0/1 or exactly two values and `--treated` names one of them.
    #[arg(long)]
    pub control: Option<String>,
    /// Covariates for the adjusted estimate, comma-separated (numeric columns).
    #[arg(long, value_delimiter = ',')]
    pub covariates: Vec<String>,
    /// Cluster column: cluster-robust (CR2) inference with Bell-McCaffrey df.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Outcome kind; `auto` treats an outcome with only 0/1 values as binary.
    #[arg(long, value_enum, default_value = "auto")]
    pub kind: KindArg,
    /// Confidence level of every interval.
    #[arg(long, default_value_t = 0.95)]
    pub conf_level: f64,
    /// Output format (to standard output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

fn same(s: &str) -> Text {
    Text {
        nl: s.to_string(),
        en: s.to_string(),
    }
}

/// Build the spec the flags describe, checking columns and arm values against the data.
fn build_spec(args: &CompareArgs) -> Result<(PilotSpec, Frame)> {
    let mut cols = vec![args.treatment.clone()];
    cols.extend(args.outcome.iter().cloned());
    cols.extend(args.covariates.iter().cloned());
    cols.extend(args.cluster.iter().cloned());
    let mut seen = BTreeSet::new();
    cols.retain(|c| seen.insert(c.clone()));
    let frame = Frame::load(&args.data, &cols)?;
    let path = &args.data;

    let arm_values: BTreeSet<String> = frame
        .strings(&args.treatment)?
        .into_iter()
        .flatten()
        .collect();
    let listed: Vec<&str> = arm_values.iter().map(String::as_str).collect();
    let check = |v: &str, flag: &str| -> Result<()> {
        if arm_values.contains(v) {
            Ok(())
        } else {
            let hint = closest(v, listed.iter().copied())
                .map(|c| format!(" Did you mean \"{c}\"?"))
                .unwrap_or_default();
            Err(Error::data(
                path,
                format!(
                    "{flag} \"{v}\" does not occur in column \"{}\".{hint} Its values: {}",
                    args.treatment,
                    listed.join(", ")
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
                "column \"{}\" has only one value ({}); a comparison needs two arms",
                args.treatment,
                listed.join(", ")
            ),
        ));
    }
    let is01 = arm_values.iter().all(|v| v == "0" || v == "1");
    let control = match (&args.control, &args.treated) {
        (Some(c), _) => c.clone(),
        (None, _) if is01 => "0".to_string(),
        (None, Some(t)) if arm_values.len() == 2 => arm_values
            .iter()
            .find(|v| *v != t)
            .cloned()
            .unwrap_or_default(),
        _ => {
            return Err(Error::usage(format!(
                "name the control arm with --control (column \"{}\" has values: {})",
                args.treatment,
                listed.join(", ")
            )));
        }
    };
    let treated: Vec<String> = match &args.treated {
        Some(t) if *t == control => {
            return Err(Error::usage(format!(
                "--treated and the control are both \"{t}\"; choose two different arms"
            )));
        }
        Some(t) => vec![t.clone()],
        None => arm_values
            .iter()
            .filter(|v| **v != control)
            .cloned()
            .collect(),
    };
    let mut values: Vec<Arm> = vec![Arm {
        value: control.clone(),
        label: same(&control),
    }];
    values.extend(treated.iter().map(|t| Arm {
        value: t.clone(),
        label: same(t),
    }));

    let mut outcomes = Vec::new();
    for o in &args.outcome {
        let kind = match args.kind {
            KindArg::Binary => OutcomeKind::Binary,
            KindArg::Continuous => OutcomeKind::Continuous,
            KindArg::Auto => {
                let v = frame.numbers(o)?;
                let binary = v.iter().flatten().all(|x| *x == 0.0 || *x == 1.0);
                if binary {
                    OutcomeKind::Binary
                } else {
                    OutcomeKind::Continuous
                }
            }
        };
        outcomes.push(OutcomeSpec {
            id: o.clone(),
            kind,
            label: same(o),
            unit: same(if kind == OutcomeKind::Binary {
                "percentage points"
            } else {
                "outcome units"
            }),
            primary: true,
            better: Better::Neither,
            source: OutcomeSource::Column(o.clone()),
        });
    }
    let title = same(&format!(
        "{}: {}",
        path.file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
        args.outcome.join(", ")
    ));
    let spec = PilotSpec {
        slug: "compare".into(),
        title,
        description: same(""),
        unit: same("unit"),
        design: Design {
            kind: if args.cluster.is_some() {
                DesignKind::ClusterRandomised
            } else {
                DesignKind::IndividuallyRandomised
            },
            cluster: args.cluster.clone(),
            block: None,
            project: None,
            note: None,
        },
        data: DataSpec {
            file: path.display().to_string(),
            id: None,
            layout: DataLayout::Person,
        },
        arms: Arms {
            column: args.treatment.clone(),
            control,
            values,
        },
        covariates: args.covariates.clone(),
        projects: Vec::new(),
        outcomes,
        sources: Vec::new(),
        path: PathBuf::from("(command line)"),
    };
    Ok((spec, frame))
}

/// Keep only the units of the arms being compared (a `--treated` choice may leave
/// others out).
fn restrict(frame: Frame, spec: &PilotSpec) -> Result<Frame> {
    let keep: Vec<String> = spec.arms.values.iter().map(|a| a.value.clone()).collect();
    frame.filter_values(&spec.arms.column, &keep)
}

/// Run the comparison and return the results (for tests and the binary).
pub fn compute(args: &CompareArgs) -> Result<PilotResults> {
    let (spec, frame) = build_spec(args)?;
    let frame = restrict(frame, &spec)?;
    analysis::run(
        &spec,
        &frame,
        &Options {
            conf_level: args.conf_level,
        },
    )
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
            e.df.map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "z".into()),
            format!("{}/{}", e.n_treated, e.n_control),
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
            s.n.to_string(),
            s.n_missing.to_string(),
            fmt_value(s.mean),
            fmt_value(s.ci_low),
            fmt_value(s.ci_high),
        ]);
    }
    out.push_str(&render(&rows));
    for n in &r.notes {
        out.push_str(&format!("note: {}\n", n.text.en));
    }
    out.push_str("Differences are treated minus control; binary outcomes as proportions.\n");
    out
}

pub fn run(args: &CompareArgs) -> Result<()> {
    let r = compute(args)?;
    let text = match args.format {
        Format::Table => table(&r),
        Format::Json => report::to_json(&r)? + "\n",
        Format::Csv => report::to_csv(&r.estimates),
    };
    print!("{text}");
    Ok(())
}
