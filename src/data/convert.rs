//! Conversion to columns: what a reader hands over (cells of a workbook, polars'
//! reading of a text file) becomes the frame's columns, with the reading rules of
//! [`super::rules`] applied: text trimmed, missing-value markers null, the decimal mark
//! decided, integer columns held as floating point, yes/no columns noted.

use polars::prelude::*;
use rayon::prelude::*;
use std::path::Path;

use super::rules::{self, DecimalEvidence, EXACT_INTEGERS, Rules, decide_decimal};
use super::{Frame, PerText, text};
use crate::config::ReadOptions;
use crate::error::{Error, Result};

/// A cell as read from a file, before it becomes part of a polars column.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Text(String),
    Number(f64),
}

/// What a reader hands back: the selected columns, and where each data row came from.
pub(crate) struct Table {
    pub columns: Vec<(String, Vec<Option<Cell>>)>,
    /// Line (text) or row (worksheet) of each data row, 1-based.
    pub rows: Vec<u32>,
    /// Prefix of a row number: "line " or "worksheet \"Blad1\", row ".
    pub row_word: String,
    pub assumptions: Vec<String>,
    /// Line or row of the header.
    pub header_row: u32,
    /// The field separator of a text file.
    pub delimiter: Option<u8>,
}

/// The columns of a freshly read frame made compact for the analysis, one column at a
/// time: each in one contiguous array (readers hand over several pieces), and integer
/// columns as floating point when every value is exactly representable, so that the
/// estimators read them in place instead of converting a copy per use.
pub(super) fn compact_columns(df: DataFrame) -> PolarsResult<DataFrame> {
    let height = df.height();
    let mut out = Vec::with_capacity(df.width());
    for c in df.into_columns() {
        let exact = c.dtype().is_integer() && {
            let s = c.as_materialized_series();
            let within = |m: Option<f64>| m.is_none_or(|m| m.abs() < EXACT_INTEGERS);
            within(s.min::<f64>()?) && within(s.max::<f64>()?)
        };
        let c = if exact {
            // Straight from the pieces into one array of floats.
            let s = c.as_materialized_series().cast(&DataType::Int64)?;
            let ints = s.i64()?;
            let joined: Float64Chunked = if ints.null_count() == 0 {
                let v: Vec<f64> = ints.into_no_null_iter().map(|x| x as f64).collect();
                Float64Chunked::from_vec(c.name().clone(), v)
            } else {
                ints.iter()
                    .map(|v| v.map(|x| x as f64))
                    .collect::<Float64Chunked>()
                    .with_name(c.name().clone())
            };
            joined.into_column()
        } else {
            c.rechunk()
        };
        out.push(c);
        crate::memory::release_freed();
    }
    DataFrame::new(height, out)
}

impl Frame {
    pub(super) fn from_table(
        path: &Path,
        mut t: Table,
        opts: &ReadOptions,
        required: &[String],
    ) -> Result<Self> {
        if t.rows.is_empty() {
            return Err(Error::data(
                path,
                format!(
                    "the file has a header ({}{}) but no data rows; export the data again with its rows",
                    t.row_word, t.header_row
                ),
            ));
        }
        let mut rules = Rules {
            decimal_comma: false,
            na: opts.na.clone(),
            ambiguous: false,
        };
        // Missing-value markers become nulls.
        for (_, cells) in &mut t.columns {
            for c in cells.iter_mut() {
                if let Some(Cell::Text(s)) = c
                    && rules.is_na(s)
                {
                    *c = None;
                }
            }
        }
        let at = |i: usize| format!("{}{}", t.row_word, t.rows[i]);
        let ev = decimal_evidence(&t);
        let names: Vec<String> = t.columns.iter().map(|c| c.0.clone()).collect();
        (rules.decimal_comma, rules.ambiguous) = decide_decimal(
            opts,
            &ev,
            t.delimiter,
            |e| format!("\"{}\" in column \"{}\", {}", e.2, names[e.0], at(e.1)),
            &mut t.assumptions,
        );
        let mut cols = Vec::with_capacity(t.columns.len());
        for (name, cells) in t.columns {
            let numeric = cells.iter().all(|c| !matches!(c, Some(Cell::Text(_))))
                && cells.iter().any(Option::is_some);
            let col = if numeric {
                let v: Vec<Option<f64>> = cells
                    .into_iter()
                    .map(|c| match c {
                        Some(Cell::Number(x)) => Some(x),
                        _ => None,
                    })
                    .collect();
                Column::new(name.as_str().into(), v)
            } else {
                let v: Vec<Option<String>> = cells
                    .into_iter()
                    .map(|c| match c {
                        Some(Cell::Text(s)) => Some(s),
                        Some(Cell::Number(x)) if rules.decimal_comma => {
                            Some(format!("{x}").replace('.', ","))
                        }
                        Some(Cell::Number(x)) => Some(format!("{x}")),
                        None => None,
                    })
                    .collect();
                Column::new(name.as_str().into(), v)
            };
            cols.push(col);
        }
        let df = DataFrame::new_infer_height(cols)
            .and_then(compact_columns)
            .map_err(|e| Error::data(path, "cannot build the table").with_cause(e))?;
        let mut frame = Self {
            path: path.to_path_buf(),
            df,
            rows: Some(super::RowLines::listed(t.rows)),
            row_word: t.row_word,
            rules,
            assumptions: t.assumptions,
            finite: false,
        };
        frame.note_yes_no();
        frame.check_not_all_missing(required)?;
        Ok(frame)
    }

    /// A frame from polars' reading of a text file: rows of empty fields dropped, text
    /// trimmed, missing-value markers made null, the decimal mark decided.
    pub(super) fn from_text(
        path: &Path,
        t: text::TextTable,
        opts: &ReadOptions,
        required: &[String],
    ) -> Result<Self> {
        let text::TextTable {
            df,
            lines,
            empty_rows,
            mut assumptions,
            delimiter,
            finite,
            ..
        } = t;
        let fail = |e: PolarsError| Error::data(path, "cannot build the table").with_cause(e);
        let (df, lines) = drop_empty_rows(path, df, lines, &empty_rows, &mut assumptions)?;
        let mut rules = Rules {
            decimal_comma: false,
            na: opts.na.clone(),
            ambiguous: false,
        };
        let df = crate::timings::time("read: trim", || trimmed_text(df, &rules, lines.len()))
            .map_err(fail)?;
        let ev = crate::timings::time("read: decimal mark", || frame_decimal_evidence(&df));
        let names = df.get_column_names_owned();
        (rules.decimal_comma, rules.ambiguous) = decide_decimal(
            opts,
            &ev,
            Some(delimiter),
            |e| {
                // e.1 is a row of the frame, so it has a line.
                let line = lines.get(e.1).unwrap_or_default();
                format!("\"{}\" in column \"{}\", line {line}", e.2, names[e.0])
            },
            &mut assumptions,
        );
        let mut frame = Self {
            path: path.to_path_buf(),
            df,
            rows: Some(lines),
            row_word: "line ".into(),
            rules,
            assumptions,
            finite,
        };
        frame.note_yes_no();
        frame.check_not_all_missing(required)?;
        Ok(frame)
    }

    /// Say which text columns hold only yes/no words (and 0/1).
    pub(super) fn note_yes_no(&mut self) {
        let mut notes = Vec::new();
        for c in self.df.columns() {
            let Ok(ca) = c.as_materialized_series().str().cloned() else {
                continue;
            };
            let mut words: Vec<String> = Vec::new();
            let mut only = true;
            for v in ca.iter().flatten() {
                let v = rules::trim(v);
                if v == "0" || v == "1" {
                    continue;
                }
                if rules::yes_no(v).is_some() {
                    if !words.iter().any(|w| w == v) && words.len() < 6 {
                        words.push(v.to_string());
                    }
                } else {
                    only = false;
                    break;
                }
            }
            if only && !words.is_empty() {
                notes.push(format!(
                    "column \"{}\" holds yes/no words ({}): read as 1/0 where a number is needed",
                    c.name(),
                    words.join(", ")
                ));
            }
        }
        self.assumptions.extend(notes);
    }

    pub(super) fn check_not_all_missing(&self, required: &[String]) -> Result<()> {
        for c in required {
            let Ok(col) = self.df.column(c) else { continue };
            if col.null_count() == col.len() {
                return Err(Error::data(
                    &self.path,
                    format!(
                        "column \"{c}\": all {} values are missing (empty or a missing-value marker such as NA); check that this is the right column, and that --na or data.na does not list real values",
                        col.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn decimal_evidence(t: &Table) -> DecimalEvidence {
    let mut ev = DecimalEvidence::default();
    'cols: for (c, (_, cells)) in t.columns.iter().enumerate() {
        for (i, cell) in cells.iter().enumerate() {
            let Some(Cell::Text(s)) = cell else { continue };
            if ev.see(c, i, s) {
                break 'cols;
            }
        }
    }
    ev
}

/// The rows of a text table without those whose fields are all empty (`empty_rows`),
/// with a note naming their lines; an error when no row is left.
fn drop_empty_rows(
    path: &Path,
    df: DataFrame,
    lines: super::RowLines,
    empty_rows: &[usize],
    assumptions: &mut Vec<String>,
) -> Result<(DataFrame, super::RowLines)> {
    if empty_rows.is_empty() {
        return Ok((df, lines));
    }
    let dropped: Vec<u32> = empty_rows.iter().filter_map(|&i| lines.get(i)).collect();
    let mut keep = vec![true; lines.len()];
    for &i in empty_rows {
        keep[i] = false;
    }
    let mask: BooleanChunked = keep.iter().copied().collect();
    let df = df
        .filter(&mask)
        .map_err(|e| Error::data(path, "cannot build the table").with_cause(e))?;
    let lines = lines.filter(&keep);
    assumptions.push(format!(
        "{} row(s) with only empty fields skipped (line {})",
        dropped.len(),
        text::list_lines(&dropped)
    ));
    if lines.is_empty() {
        return Err(Error::data(
            path,
            "the file has a header but every row is empty; export the data again with its rows",
        ));
    }
    Ok((df, lines))
}

/// The frame with its text trimmed and missing-value markers as nulls, by `rules`,
/// and its columns compacted. Columns are moved out of the frame, so that each piece
/// is freed as soon as its column is rebuilt; a clean column is kept as it is. The
/// columns are looked at on all cores (each on its own).
fn trimmed_text(mut df: DataFrame, rules: &Rules, height: usize) -> PolarsResult<DataFrame> {
    let cols: Vec<Column> = std::mem::replace(&mut df, DataFrame::empty())
        .into_columns()
        .into_par_iter()
        .map(|c| {
            let Ok(ca) = c.str() else {
                return c;
            };
            let mut memo = PerText::new();
            let clean = ca.iter().all(|v| {
                v.is_none_or(|s| {
                    memo.get(s, |s| rules::trim(s).len() == s.len() && !rules.is_na(s))
                })
            });
            if clean {
                return c.clone();
            }
            let v: StringChunked = ca
                .iter()
                .map(|v| v.map(rules::trim).filter(|s| !rules.is_na(s)))
                .collect();
            v.with_name(c.name().clone()).into_column()
        })
        .collect();
    DataFrame::new(height, cols).and_then(compact_columns)
}

/// What the text cells (each distinct text once, at its first row) and, when they show
/// decimal commas only, the numbers polars read with a decimal point say about the
/// decimal mark.
fn frame_decimal_evidence(df: &DataFrame) -> DecimalEvidence {
    let mut ev = DecimalEvidence::default();
    for (ci, c) in df.columns().iter().enumerate() {
        if let Ok(ca) = c.str() {
            let mut first = PerText::new();
            for (i, v) in ca.iter().enumerate() {
                if let Some(v) = v
                    && first.get(v, |_| i) == i
                    && ev.see(ci, i, v)
                {
                    break;
                }
            }
        }
    }
    if ev.comma.is_some() && ev.point.is_none() {
        'cols: for (ci, c) in df.columns().iter().enumerate() {
            if let Ok(ca) = c.f64() {
                for (i, v) in ca.iter().enumerate() {
                    if let Some(x) = v.filter(|x| x.fract() != 0.0) {
                        ev.point = Some((ci, i, format!("{x}")));
                        break 'cols;
                    }
                }
            }
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns in pieces become one array; integers become floats unless one is too
    /// large to be written back with the same digits; text stays text.
    #[test]
    fn compact_columns_join_and_convert() {
        let mut small = Series::new("small".into(), [Some(1i64), None, Some(-3)]);
        small
            .append(&Series::new("small".into(), [Some(4i64), Some(5), Some(6)]))
            .unwrap();
        assert_eq!(small.n_chunks(), 2);
        let large = Series::new("large".into(), [1i64, 10_000_000_000_000_000, 3, 4, 5, 6]);
        let text = Series::new("text".into(), ["a", "b", "c", "d", "e", "f"]);
        let df = DataFrame::new(6, vec![small.into(), large.into(), text.into()]).unwrap();
        let df = compact_columns(df).unwrap();
        let small = df.column("small").unwrap();
        assert_eq!(small.dtype(), &DataType::Float64);
        assert_eq!(small.n_chunks(), 1);
        let v: Vec<Option<f64>> = small.f64().unwrap().iter().collect();
        assert_eq!(
            v,
            [Some(1.0), None, Some(-3.0), Some(4.0), Some(5.0), Some(6.0)]
        );
        assert_eq!(df.column("large").unwrap().dtype(), &DataType::Int64);
        assert_eq!(df.column("text").unwrap().dtype(), &DataType::String);
        let f = Frame::from_frame(df, Path::new("t.csv"));
        assert_eq!(f.strings("small").unwrap()[2].as_deref(), Some("-3"));
        assert_eq!(
            f.strings("large").unwrap()[1].as_deref(),
            Some("10000000000000000")
        );
        let n = f.numeric("small").unwrap();
        assert_eq!(
            (n.len(), n.missing(), n.get(1), n.get(2)),
            (6, 1, None, Some(-3.0))
        );
    }
}
