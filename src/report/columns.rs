//! The columns of the tidy results table: `results.csv`, `results.parquet` and
//! `compare --format csv`. One list ([`COLUMNS`]) gives every column its name (ours and
//! the broom-style alternative), its type and its value, so that the CSV header, the CSV
//! rows and the Parquet schema cannot drift apart: a column added here appears in all
//! three, and `docs/results-columns.md` is checked against it by a test.

use std::io::Cursor;

use polars::prelude::{Column as FrameColumn, DataFrame, ParquetWriter, PolarsError, PolarsResult};

use crate::analysis::{EstimateRow, Scale};
use crate::error::{Error, Result};

/// Which names the table's columns carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Names {
    /// Our names, as in `results.json` (`std_error`, `ci_low`, `p_value`).
    #[default]
    Snake,
    /// The names of R's broom::tidy (`term`, `std.error`, `conf.low`, `p.value`).
    Broom,
}

/// The type of a column: what the Parquet file declares and how the CSV writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text; empty in CSV and null in Parquet when absent.
    Text,
    /// A 64-bit float; empty in CSV and null in Parquet when withheld or not defined.
    Float,
    /// A whole number of persons or clusters; empty/null when withheld.
    Count,
    /// `true` or `false`.
    Flag,
}

impl Kind {
    /// How the docs name the type.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Float => "float",
            Kind::Count => "integer",
            Kind::Flag => "boolean",
        }
    }
}

/// One value of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Float(Option<f64>),
    Count(Option<usize>),
    Flag(bool),
}

/// What a row's values depend on besides the row itself.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Whether statistical disclosure control was applied to the results.
    pub disclosure_applied: bool,
}

/// One column of the results table.
pub struct Column {
    /// Our name (snake_case, as in `results.json`).
    pub name: &'static str,
    /// The broom-style name (`--names broom`).
    pub broom: &'static str,
    pub kind: Kind,
    /// What the column holds, for the docs.
    pub about: &'static str,
    value: fn(&EstimateRow, &Context) -> Cell,
}

impl Column {
    /// The column's name in the chosen naming.
    pub fn name(&self, names: Names) -> &'static str {
        match names {
            Names::Snake => self.name,
            Names::Broom => self.broom,
        }
    }

    /// The column's value for one row.
    pub fn value(&self, row: &EstimateRow, ctx: &Context) -> Cell {
        (self.value)(row, ctx)
    }
}

fn text(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

fn opt_text(s: Option<&str>) -> Cell {
    Cell::Text(s.map(str::to_string))
}

/// Non-finite numbers (withheld, or not defined such as a ratio with an empty cell)
/// become nulls.
fn float(x: f64) -> Cell {
    Cell::Float(x.is_finite().then_some(x))
}

/// The columns of the results table, in order: one row per outcome × subset ×
/// comparison × estimator.
pub const COLUMNS: &[Column] = &[
    Column {
        name: "outcome",
        broom: "outcome",
        kind: Kind::Text,
        about: "outcome id from the config",
        value: |r, _| text(&r.outcome),
    },
    Column {
        name: "subset",
        broom: "subset",
        kind: Kind::Text,
        about: "`pooled`, or the project/site the row is about",
        value: |r, _| text(&r.subset),
    },
    Column {
        name: "comparison",
        broom: "term",
        kind: Kind::Text,
        about: "`<treated> vs <control>`, arm values as in the data",
        value: |r, _| text(&r.comparison),
    },
    Column {
        name: "treated",
        broom: "treated",
        kind: Kind::Text,
        about: "arm value of the treated (or later) group",
        value: |r, _| text(&r.treated),
    },
    Column {
        name: "control",
        broom: "control",
        kind: Kind::Text,
        about: "arm value of the control (or earlier) group",
        value: |r, _| text(&r.control),
    },
    Column {
        name: "estimator",
        broom: "estimator",
        kind: Kind::Text,
        about: "estimator id (`welch`, `ols_adjusted`, `risk_difference_newcombe`, `rmst_difference`, ...)",
        value: |r, _| text(&r.estimator),
    },
    Column {
        name: "se_type",
        broom: "se.type",
        kind: Kind::Text,
        about: "standard-error type of regression estimators (`HC2`, `CR2`, ...); empty otherwise",
        value: |r, _| opt_text(r.se_type.as_deref()),
    },
    Column {
        name: "df_rule",
        broom: "df.rule",
        kind: Kind::Text,
        about: "how the degrees of freedom were chosen (e.g. `Welch-Satterthwaite`)",
        value: |r, _| opt_text(r.df_rule.as_deref()),
    },
    Column {
        name: "scale",
        broom: "scale",
        kind: Kind::Text,
        about: "`difference` (outcome units; proportions for yes/no outcomes), `ratio` (no effect is 1) or `standardised` (SD units)",
        value: |r, _| {
            text(match r.scale {
                Scale::Difference => "difference",
                Scale::Ratio => "ratio",
                Scale::Standardised => "standardised",
            })
        },
    },
    Column {
        name: "estimate",
        broom: "estimate",
        kind: Kind::Float,
        about: "the estimate (treated minus control, or treated over control)",
        value: |r, _| float(r.estimate),
    },
    Column {
        name: "std_error",
        broom: "std.error",
        kind: Kind::Float,
        about: "its standard error",
        value: |r, _| float(r.std_error),
    },
    Column {
        name: "statistic",
        broom: "statistic",
        kind: Kind::Float,
        about: "the test statistic (t or z)",
        value: |r, _| float(r.statistic),
    },
    Column {
        name: "ci_low",
        broom: "conf.low",
        kind: Kind::Float,
        about: "lower limit of the confidence interval",
        value: |r, _| float(r.ci_low),
    },
    Column {
        name: "ci_high",
        broom: "conf.high",
        kind: Kind::Float,
        about: "upper limit of the confidence interval",
        value: |r, _| float(r.ci_high),
    },
    Column {
        name: "conf_level",
        broom: "conf.level",
        kind: Kind::Float,
        about: "confidence level of the interval (0.95 by default)",
        value: |r, _| float(r.conf_level),
    },
    Column {
        name: "p_value",
        broom: "p.value",
        kind: Kind::Float,
        about: "two-sided p-value, not adjusted for multiple testing",
        value: |r, _| float(r.p_value),
    },
    Column {
        name: "df",
        broom: "df",
        kind: Kind::Float,
        about: "degrees of freedom of the t reference distribution; empty when it is normal",
        value: |r, _| Cell::Float(r.df.filter(|d| d.is_finite())),
    },
    Column {
        name: "n_treated",
        broom: "n.treated",
        kind: Kind::Count,
        about: "persons (or units) in the treated arm; empty when withheld",
        value: |r, _| Cell::Count(r.n_treated),
    },
    Column {
        name: "n_control",
        broom: "n.control",
        kind: Kind::Count,
        about: "persons (or units) in the control arm; empty when withheld",
        value: |r, _| Cell::Count(r.n_control),
    },
    Column {
        name: "n_clusters",
        broom: "n.clusters",
        kind: Kind::Count,
        about: "clusters used for cluster-robust inference; empty without clusters",
        value: |r, _| Cell::Count(r.n_clusters),
    },
    Column {
        name: "headline",
        broom: "headline",
        kind: Kind::Flag,
        about: "`true` for the estimate the report and effect chart lead with",
        value: |r, _| Cell::Flag(r.headline),
    },
    Column {
        name: "p_value_adjusted",
        broom: "p.adjusted",
        kind: Kind::Float,
        about: "headline rows: the p-value adjusted for multiple testing within its family (primary or secondary outcomes)",
        value: |r, _| Cell::Float(r.p_value_adjusted.filter(|p| p.is_finite())),
    },
    Column {
        name: "adjustment",
        broom: "adjustment",
        kind: Kind::Text,
        about: "method of `p_value_adjusted` (`holm`, `bonferroni`, `bh`)",
        value: |r, _| opt_text(r.adjustment.as_deref()),
    },
    Column {
        name: "mde",
        broom: "mde",
        kind: Kind::Float,
        about: "headline rows on the difference scale: the minimum detectable effect at 80% power (two-sided, the row's level) from the row's standard error and df (Bloom 1995); empty otherwise or when withheld",
        value: |r, _| Cell::Float(r.mde.filter(|m| m.is_finite())),
    },
    Column {
        name: "suppressed",
        broom: "suppressed",
        kind: Kind::Flag,
        about: "`true` when disclosure control withheld this row's numbers (they are empty)",
        value: |r, _| Cell::Flag(r.suppressed),
    },
    Column {
        name: "disclosure_control",
        broom: "disclosure.control",
        kind: Kind::Text,
        about: "`applied`, or `off` when the run used `--no-disclosure-control`",
        value: |_, c| {
            text(if c.disclosure_applied {
                "applied"
            } else {
                "off"
            })
        },
    },
];

/// Quote a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Cell {
    /// The cell as a CSV field: withheld and absent values are empty.
    fn to_csv(&self) -> String {
        match self {
            Cell::Text(s) => s.as_deref().map(csv_field).unwrap_or_default(),
            Cell::Float(x) => x.map(|x| format!("{x}")).unwrap_or_default(),
            Cell::Count(n) => n.map(|n| n.to_string()).unwrap_or_default(),
            Cell::Flag(b) => b.to_string(),
        }
    }
}

/// The CSV table: a header and one line per row, every line with one field per column.
pub fn to_csv(rows: &[EstimateRow], ctx: &Context, names: Names) -> String {
    let header: Vec<&str> = COLUMNS.iter().map(|c| c.name(names)).collect();
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let fields: Vec<String> = COLUMNS.iter().map(|c| c.value(r, ctx).to_csv()).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// The table as a polars frame with typed columns (nulls where the CSV is empty).
pub fn to_frame(rows: &[EstimateRow], ctx: &Context, names: Names) -> PolarsResult<DataFrame> {
    let columns = COLUMNS
        .iter()
        .map(|c| {
            let name = c.name(names);
            let cells = rows.iter().map(|r| c.value(r, ctx));
            match c.kind {
                Kind::Text => FrameColumn::new(
                    name.into(),
                    cells
                        .map(|v| match v {
                            Cell::Text(s) => s,
                            _ => None,
                        })
                        .collect::<Vec<Option<String>>>(),
                ),
                Kind::Float => FrameColumn::new(
                    name.into(),
                    cells
                        .map(|v| match v {
                            Cell::Float(x) => x,
                            _ => None,
                        })
                        .collect::<Vec<Option<f64>>>(),
                ),
                Kind::Count => FrameColumn::new(
                    name.into(),
                    cells
                        .map(|v| match v {
                            Cell::Count(n) => n.map(|n| n as u64),
                            _ => None,
                        })
                        .collect::<Vec<Option<u64>>>(),
                ),
                Kind::Flag => FrameColumn::new(
                    name.into(),
                    cells
                        .map(|v| match v {
                            Cell::Flag(b) => Some(b),
                            _ => None,
                        })
                        .collect::<Vec<Option<bool>>>(),
                ),
            }
        })
        .collect::<Vec<_>>();
    DataFrame::new(rows.len(), columns)
}

/// The table as Parquet bytes.
pub fn to_parquet(rows: &[EstimateRow], ctx: &Context, names: Names) -> Result<Vec<u8>> {
    let fail = |e: PolarsError| Error::analysis(format!("cannot write results.parquet: {e}"));
    let mut df = to_frame(rows, ctx, names).map_err(fail)?;
    let mut buf = Cursor::new(Vec::new());
    ParquetWriter::new(&mut buf).finish(&mut df).map_err(fail)?;
    Ok(buf.into_inner())
}
