//! Writing a synthetic data set: CSV, Parquet, `truth.json` and a data dictionary.
//!
//! Every file says the data are synthetic: the `data_source` column in the CSV and
//! Parquet, the `synthetic` flag and note in the truth, and the banner of the
//! dictionary. The dictionary is built from the config, the params and the frame
//! itself, so it cannot drift from the data it describes.

use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::params::{Dist, DrawnModel, Level, OutcomeModel, SimParams};
use super::{SimData, Truth};
use crate::config::{Better, OutcomeKind, OutcomeSource, OutcomeSpec, PilotSpec};
use crate::error::{Error, Result};

/// Write `<out>/<data.file stem>.csv` and `.parquet`, `<out>/<slug>.truth.json` and
/// `<out>/<slug>.dictionary.md`; returns the paths written.
pub fn write(
    spec: &PilotSpec,
    data: &SimData,
    params: &SimParams,
    seed: u64,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let stem = spec
        .data
        .file
        .strip_suffix(".csv")
        .or_else(|| spec.data.file.strip_suffix(".parquet"))
        .unwrap_or(&spec.data.file);
    let csv_path = out_dir.join(format!("{stem}.csv"));
    let parquet_path = out_dir.join(format!("{stem}.parquet"));
    let truth_path = out_dir.join(format!("{}.truth.json", spec.slug));
    let dict_path = out_dir.join(format!("{}.dictionary.md", spec.slug));
    for p in [&csv_path, &parquet_path] {
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(dir, "cannot create the output directory").with_cause(e))?;
        }
    }

    let mut df = data.frame.clone();
    let create = |p: &Path| {
        std::fs::File::create(p).map_err(|e| Error::io(p, "cannot create the file").with_cause(e))
    };
    CsvWriter::new(create(&csv_path)?)
        .include_header(true)
        .finish(&mut df)
        .map_err(|e| Error::io(&csv_path, "cannot write the CSV").with_cause(e))?;
    ParquetWriter::new(create(&parquet_path)?)
        .finish(&mut df)
        .map_err(|e| Error::io(&parquet_path, "cannot write the Parquet file").with_cause(e))?;

    let json = serde_json::to_string_pretty(&data.truth)
        .map_err(|e| Error::io(&truth_path, "cannot serialise the truth").with_cause(e))?;
    std::fs::write(&truth_path, json + "\n")
        .map_err(|e| Error::io(&truth_path, "cannot write the truth").with_cause(e))?;

    let dict = dictionary(spec, data, params, seed)?;
    std::fs::write(&dict_path, dict)
        .map_err(|e| Error::io(&dict_path, "cannot write the data dictionary").with_cause(e))?;
    Ok(vec![csv_path, parquet_path, truth_path, dict_path])
}

/// The command that regenerates a data set (run from the repository root).
pub(crate) fn regenerate_command(slug: &str, seed: u64, scale: f64) -> String {
    let scale = if scale == 1.0 {
        String::new()
    } else {
        format!(" --scale {scale}")
    };
    format!("cargo run --release -- simulate {slug} --seed {seed}{scale}")
}

/// What the dictionary says about a column, from the config and params.
#[derive(Debug, Clone, Default)]
struct ColumnMeaning {
    meaning: String,
    /// Code list or unit.
    codes: String,
}

/// Meaning and code list of each column, by column name.
#[derive(Default)]
struct Meanings(BTreeMap<String, ColumnMeaning>);

impl Meanings {
    fn put(&mut self, column: &str, meaning: impl Into<String>, codes: impl Into<String>) {
        self.0.insert(
            column.to_string(),
            ColumnMeaning {
                meaning: meaning.into(),
                codes: codes.into(),
            },
        );
    }
}

/// Meaning and code list of each column, from the config and params.
fn column_meanings(
    spec: &PilotSpec,
    p: &SimParams,
    models: &BTreeMap<String, OutcomeModel>,
) -> BTreeMap<String, ColumnMeaning> {
    let mut m = Meanings::default();
    design_meanings(&mut m, spec, p);
    covariate_meanings(&mut m, p);
    if let (Some(st), Some(c)) = (&p.started, &spec.data.started) {
        m.put(
            c,
            st.description.clone(),
            "1 = yes, 0 = no, empty = not recorded",
        );
    }
    for (name, t) in &p.trials {
        m.put(name, t.description.clone(), "");
    }
    for o in &spec.outcomes {
        outcome_meanings(&mut m, o, models.get(&o.id));
    }
    m.0
}

/// Provenance, id, arm, project, cluster and period columns.
fn design_meanings(m: &mut Meanings, spec: &PilotSpec, p: &SimParams) {
    m.put(
        "data_source",
        "Provenance marker: these rows are synthetic, not pilot data.",
        "always `synthetic`",
    );
    if let Some(id) = &spec.data.id {
        m.put(
            id,
            format!(
                "Pseudonymous id of the {} (one per row); refers to no real person or organisation.",
                spec.unit.en
            ),
            format!("`{}` + number", p.id_prefix),
        );
    }
    let arms: Vec<String> = spec
        .arms
        .values
        .iter()
        .map(|a| {
            let ctl = if a.value == spec.arms.control {
                " (control)"
            } else {
                ""
            };
            format!("`{}` = {} / {}{ctl}", a.value, a.label.en, a.label.nl)
        })
        .collect();
    m.put(
        &spec.arms.column,
        "Arm (group) of the row.",
        arms.join("; "),
    );
    if let Some(pc) = &spec.design.project {
        let codes: Vec<String> = spec
            .projects
            .iter()
            .map(|x| format!("`{}` = {} / {}", x.value, x.label.en, x.label.nl))
            .collect();
        m.put(
            pc,
            "Project (sub-pilot) of the row; for the comparison group, the project it is matched to.",
            codes.join("; "),
        );
    }
    if let (Some(cc), Some(c)) = (&spec.design.cluster, &p.sizes.clusters) {
        m.put(
            cc,
            c.description.clone(),
            format!("`{}` + number (pseudonymous)", c.prefix),
        );
    }
    if let Some(panel) = &p.panel {
        m.put(&panel.column, panel.description.clone(), "");
    }
}

/// Covariate columns and their dummies.
fn covariate_meanings(m: &mut Meanings, p: &SimParams) {
    for c in &p.covariates {
        let level = if c.level == Level::Cluster {
            " Same for every row of a cluster."
        } else {
            ""
        };
        let codes = match c.dist {
            Dist::Bernoulli => "1 = yes, 0 = no",
            Dist::Normal | Dist::Uniform | Dist::Categorical => "",
        };
        m.put(&c.name, format!("{}{level}", c.description), codes);
        for (d, v) in &c.dummies {
            m.put(
                d,
                format!("Dummy of `{}`: 1 if it is \"{v}\", else 0.", c.name),
                "1 = yes, 0 = no",
            );
        }
    }
}

/// The columns of one outcome: its value, time and event, or counts and remainders.
fn outcome_meanings(m: &mut Meanings, o: &OutcomeSpec, model: Option<&OutcomeModel>) {
    let role = if o.primary { "primary" } else { "secondary" };
    let better = match o.better {
        Better::Higher => "higher is better",
        Better::Lower => "lower is better",
        Better::Neither => "no better direction",
    };
    let head = format!(
        "Outcome `{}` ({role}, {}, {better}): {} / {}.",
        o.id, o.kind, o.label.en, o.label.nl
    );
    const COUNT_CODES: &str =
        "count; empty = not delivered for this row, or below the reporting minimum";
    match &o.source {
        OutcomeSource::Column(c) => {
            let codes = match o.kind {
                OutcomeKind::Binary => "1 = yes, 0 = no; empty = missing".to_string(),
                _ => format!("in {}; empty = missing", o.unit.en),
            };
            m.put(c, head, codes);
        }
        OutcomeSource::TimeEvent { time, event } => {
            m.put(
                time,
                format!(
                    "{head} Time from the start of follow-up to the event, or to censoring when `{event}` is 0."
                ),
                format!("in {}; empty = missing", o.unit.en),
            );
            m.put(
                event,
                format!("Event indicator of outcome `{}`.", o.id),
                "1 = event observed, 0 = censored; empty = missing",
            );
        }
        OutcomeSource::Panel { file, .. } => m.put(
            &o.id,
            format!("{head} Derived by the analysis from the panel file `{file}`."),
            format!("in {}", o.unit.en),
        ),
        OutcomeSource::Counts { events, trials } => {
            m.put(
                events,
                format!("{head} Number of persons with the outcome, out of `{trials}`."),
                COUNT_CODES,
            );
            if let Some(OutcomeModel::Drawn {
                model: DrawnModel::Counts(c),
                ..
            }) = model
            {
                for r in &c.remainder {
                    m.put(&r.column, r.description.clone(), COUNT_CODES);
                }
            }
        }
    }
}

/// The observed type and values of a column, for the dictionary.
struct Observed {
    /// "text", "integer" or "decimal".
    dtype: &'static str,
    /// Distinct values or range, and the number missing.
    values: String,
}

/// Observed type and values of a column, for the dictionary.
fn describe_column(col: &Column) -> Observed {
    let s = col.as_materialized_series();
    let nulls = s.null_count();
    let missing = if nulls > 0 {
        format!("; {nulls} missing")
    } else {
        String::new()
    };
    let observed = |dtype, values| Observed { dtype, values };
    match s.dtype() {
        DataType::String => {
            let Ok(ca) = s.str() else {
                return observed("text", String::new());
            };
            let uniq: BTreeSet<&str> = ca.iter().flatten().collect();
            let shown = if uniq.len() <= 12 {
                uniq.iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                format!("{} distinct values", uniq.len())
            };
            observed("text", format!("{shown}{missing}"))
        }
        dt => {
            let kind = if dt.is_integer() {
                "integer"
            } else {
                "decimal"
            };
            let Ok(f) = s.cast(&DataType::Float64) else {
                return observed(kind, String::new());
            };
            let Ok(ca) = f.f64() else {
                return observed(kind, String::new());
            };
            let vals: Vec<f64> = ca.iter().flatten().collect();
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let range = if vals.is_empty() {
                "all missing".to_string()
            } else {
                format!("{lo} to {hi}")
            };
            observed(kind, format!("{range}{missing}"))
        }
    }
}

/// The Markdown data dictionary of a generated data set.
pub fn dictionary(
    spec: &PilotSpec,
    data: &SimData,
    params: &SimParams,
    seed: u64,
) -> Result<String> {
    let t: &Truth = &data.truth;
    let mut md = String::new();
    let cmd = regenerate_command(&spec.slug, seed, t.scale);
    let _ = writeln!(
        md,
        "# Data dictionary: {} (`{}`)\n",
        spec.title.en, spec.slug
    );
    let _ = writeln!(
        md,
        "> **SYNTHETIC DATA.** Made by `via-eval simulate` (seed {seed}, scale {}). No row describes a real \
         person, school or employer; names of places and sectors are only there to look realistic. The \
         structure follows the pilot's design and the base rates follow published figures (see \
         `pilots/{}.sim.toml`); the true effects built in are in `{}.truth.json`.\n",
        t.scale, spec.slug, spec.slug
    );
    let _ = writeln!(md, "Regenerate (from the repository root): `{cmd}`\n");
    let _ = writeln!(md, "- Pilot: {} / {}", spec.title.en, spec.title.nl);
    let _ = writeln!(
        md,
        "- Design: {} / {}",
        spec.design.kind.label(crate::config::Lang::En),
        spec.design.kind.label(crate::config::Lang::Nl)
    );
    let _ = writeln!(
        md,
        "- One row: {}",
        if spec.data.layout == crate::config::DataLayout::Aggregated {
            "one cluster in one period, with counts of persons".to_string()
        } else {
            format!("one {} / {}", spec.unit.en, spec.unit.nl)
        }
    );
    let by_arm: Vec<String> = t
        .units_by_arm
        .iter()
        .map(|(a, n)| format!("{a} {n}"))
        .collect();
    let _ = writeln!(md, "- Rows: {} ({})", t.rows, by_arm.join(", "));
    if let Some(c) = &t.clusters_by_arm {
        let v: Vec<String> = c.iter().map(|(a, n)| format!("{a} {n}")).collect();
        let _ = writeln!(md, "- Clusters with rows in each arm: {}", v.join(", "));
    }
    let _ = writeln!(
        md,
        "- Files: `{}` (CSV: comma-separated, `.` decimals, header row, empty field = missing) and the same data as Parquet.\n",
        spec.data.file
    );

    let _ = writeln!(md, "## Columns\n");
    let _ = writeln!(
        md,
        "| column | type | meaning | codes / unit | observed values |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    let meanings = column_meanings(spec, params, &params.models(spec)?);
    for col in data.frame.columns() {
        let name = col.name().as_str();
        let ColumnMeaning { meaning, codes } = meanings.get(name).cloned().unwrap_or_default();
        let Observed { dtype, values } = describe_column(col);
        let _ = writeln!(
            md,
            "| `{name}` | {dtype} | {meaning} | {codes} | {values} |"
        );
    }

    let _ = writeln!(md, "\n## True effects built into these data\n");
    let _ = writeln!(
        md,
        "| outcome | arm | project | true effect | scale | control mean |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for o in &t.outcomes {
        let scale = match o.kind {
            OutcomeKind::Binary => "risk difference",
            OutcomeKind::TimeToEvent => "hazard ratio",
            _ => "mean difference",
        };
        for e in &o.effects {
            let project = e.project.clone().unwrap_or_else(|| {
                if spec.projects.is_empty() {
                    "-".into()
                } else {
                    "pooled".into()
                }
            });
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {:.4} | {scale} | {:.4} |",
                o.id, e.arm, project, e.effect, e.control_mean
            );
        }
    }
    let _ = writeln!(
        md,
        "\nRisk differences are proportions (0.02 = +2 percentage points). Hazard ratios are conditional on the \
         covariates (and cluster). Missing follow-up is missing completely at random within an arm, at the \
         rates in `{}.truth.json`. There each effect also lists, under `estimands`, the true value of every \
         estimator the analysis reports (marginal risk and odds ratios, the RMST difference, the hazard ratio an \
         unadjusted Cox model converges to, ...), and each outcome says how they were computed in \
         `estimand_method`.",
        spec.slug
    );
    unmeasured_section(&mut md, t);
    Ok(md)
}

/// The dictionary's section on unmeasured confounders (`hidden` covariates), if any.
fn unmeasured_section(md: &mut String, t: &Truth) {
    if t.unmeasured.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n## Unmeasured confounder (not in the data)\n");
    for u in &t.unmeasured {
        let shares: Vec<String> = u
            .share_by_arm
            .iter()
            .map(|(a, s)| format!("{a} {s:.3}"))
            .collect();
        let _ = writeln!(
            md,
            "`{}`: {} It was generated and affects participation and the outcomes below, but it is NOT a column of the data, so no analysis can adjust for it. Share with the trait per arm: {}; risk ratio with participation RR_EU = {:.2}.\n",
            u.name,
            u.description,
            shares.join(", "),
            u.risk_ratio_participation
        );
        let _ = writeln!(
            md,
            "| outcome | coefficient (model scale) | risk ratio with the outcome RR_UD | bias factor |"
        );
        let _ = writeln!(md, "|---|---|---|---|");
        for o in &u.outcomes {
            let _ = writeln!(
                md,
                "| `{}` | {} | {:.2} | {:.3} |",
                o.outcome, o.coefficient, o.risk_ratio, o.bias_factor
            );
        }
        let _ = writeln!(
            md,
            "\nThe bias factor RR_EU·RR_UD/(RR_EU + RR_UD − 1) is the most this confounder can shift a risk ratio (Ding & VanderWeele 2016). An estimate whose E-value is above both risk ratios cannot be explained away by a confounder this strong; the weighting estimates keep the small bias it causes (measured in docs/recovery.md)."
        );
    }
}
