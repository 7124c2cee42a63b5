//! Renderers: results → JSON, CSV, Markdown, HTML, terminal table and chart inputs.
//! They select, order, label and format; they compute no statistics.

pub mod charts;
pub mod columns;
pub mod cost_text;
pub mod design;
pub mod document;
pub mod html;
pub mod markdown;
pub mod overview;
pub mod tables;

use crate::analysis::{EstimateRow, PilotResults, Scale};
use crate::config::Lang;
use crate::error::{Error, Result};
pub use crate::numfmt::{fmt_p, fmt_value, localise, signed_value};

/// Pick the Dutch or English text.
pub fn tr<'a>(lang: Lang, nl: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Nl => nl,
        Lang::En => en,
    }
}

/// `results.json`: the whole result structure, pretty-printed.
pub fn to_json(r: &PilotResults) -> Result<String> {
    serde_json::to_string_pretty(r).map_err(|e| Error::analysis(format!("cannot write JSON: {e}")))
}

/// `results.csv` with our column names: the tidy table of estimates (see
/// [`columns::COLUMNS`]).
pub fn to_csv(rows: &[EstimateRow]) -> String {
    to_csv_with(rows, true)
}

/// `results.csv` with our column names; `disclosure_applied` fills the
/// `disclosure_control` column.
pub fn to_csv_with(rows: &[EstimateRow], disclosure_applied: bool) -> String {
    columns::to_csv(
        rows,
        &columns::Context { disclosure_applied },
        columns::Names::Snake,
    )
}

/// The factor that turns a row's estimate into display units.
pub fn display_factor(r: &PilotResults, row: &EstimateRow) -> f64 {
    match row.scale {
        Scale::Ratio | Scale::Standardised => 1.0,
        Scale::Difference => r.outcome(&row.outcome).map_or(1.0, |o| o.display_factor),
    }
}

/// A count for people: the number, or "suppressed" where disclosure control withheld it.
pub fn fmt_count(n: Option<usize>, lang: Lang) -> String {
    n.map_or_else(
        || tr(lang, "onderdrukt", "suppressed").to_string(),
        |n| n.to_string(),
    )
}

/// Degrees of freedom: "z" for the normal reference, "suppressed" where disclosure
/// control withholds them (NaN).
pub fn fmt_df(df: Option<f64>, lang: Lang) -> String {
    match df {
        None => "z".into(),
        Some(d) if d.is_nan() => tr(lang, "onderdrukt", "suppressed").into(),
        Some(d) => localise(&format!("{d:.1}"), lang),
    }
}

/// "treated/control" sizes for people.
pub fn fmt_sizes(t: Option<usize>, c: Option<usize>, lang: Lang) -> String {
    format!("{}/{}", fmt_count(t, lang), fmt_count(c, lang))
}
