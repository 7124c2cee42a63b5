//! The data layer: reads CSV or Parquet with polars, checks columns and values against
//! what the analysis needs, and hands columns to the estimators as plain vectors.
//!
//! Polars is used for reading and column selection only; estimators never see a frame.

use polars::prelude::*;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, closest};

/// A loaded data file restricted to the columns an analysis needs.
pub struct Frame {
    path: PathBuf,
    df: DataFrame,
}

/// Values a CSV may use for "missing", besides an empty field.
pub const NA_STRINGS: &[&str] = &["NA", "N/A", "NULL", "null", "."];

impl Frame {
    /// Read `path` (`.csv` or `.parquet`), keeping only `columns` (all when empty).
    ///
    /// A missing column is reported with the closest existing name. CSV: header row,
    /// comma separator, lines starting with `#` are comments, the schema is inferred
    /// from the first 10,000 rows.
    pub fn load(path: &Path, columns: &[String]) -> Result<Self> {
        Self::load_with_optional(path, columns, &[])
    }

    /// As [`Frame::load`], also keeping the `optional` columns that the file has.
    pub fn load_with_optional(path: &Path, columns: &[String], optional: &[&str]) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                "the data file does not exist; check the path (or run `via-eval simulate <slug>` to make synthetic data)",
            ));
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let pl_path = PlRefPath::new(path.to_string_lossy().as_ref());
        let lf = match ext {
            "csv" | "txt" => LazyCsvReader::new(pl_path)
                .with_has_header(true)
                .with_infer_schema_length(Some(10_000))
                .with_comment_prefix(Some("#".into()))
                .with_null_values(Some(NullValues::AllColumns(
                    NA_STRINGS.iter().map(|s| (*s).into()).collect(),
                )))
                .finish(),
            "parquet" => LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()),
            _ => {
                return Err(Error::data(
                    path,
                    format!("unknown file type \".{ext}\"; use a .csv or .parquet file"),
                ));
            }
        };
        let mut lf = lf.map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
        let schema = lf
            .collect_schema()
            .map_err(|e| Error::data(path, format!("cannot read the header: {e}")))?;
        let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
        for c in columns {
            if !names.iter().any(|n| n == c) {
                let hint = closest(c, names.iter().map(String::as_str))
                    .map(|s| format!(" Did you mean \"{s}\"?"))
                    .unwrap_or_default();
                return Err(Error::data(
                    path,
                    format!(
                        "no column \"{c}\".{hint} The file has: {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        let lf = if columns.is_empty() {
            lf
        } else {
            let mut sel: Vec<Expr> = columns.iter().map(|c| col(c.as_str())).collect();
            for o in optional {
                if names.iter().any(|n| n == o) && !columns.iter().any(|c| c == o) {
                    sel.push(col(*o));
                }
            }
            lf.select(sel)
        };
        let df = lf
            .collect()
            .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
        if df.height() == 0 {
            return Err(Error::data(path, "the file has a header but no data rows"));
        }
        Ok(Self {
            path: path.to_path_buf(),
            df,
        })
    }

    /// Wrap a frame made in memory (simulation, tests); `path` is used in messages.
    pub fn from_frame(df: DataFrame, path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            df,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|_| {
            Error::data(
                &self.path,
                format!("no column \"{name}\" in the loaded data"),
            )
        })
    }

    /// A column as text (numbers are written without a trailing ".0"); nulls stay None.
    pub fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        let out = match s.dtype() {
            DataType::Float32 | DataType::Float64 => {
                let f = s
                    .cast(&DataType::Float64)
                    .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?;
                f.f64()
                    .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?
                    .iter()
                    .map(|v| v.map(fmt_number))
                    .collect()
            }
            _ => {
                let t = s
                    .cast(&DataType::String)
                    .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?;
                t.str()
                    .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?
                    .iter()
                    .map(|v| v.map(|s| s.trim().to_string()))
                    .collect()
            }
        };
        Ok(out)
    }

    /// A column as numbers; nulls stay None. Text that is not a number is an error
    /// naming the row and the value; infinite values are errors too.
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        let vals: Vec<Option<f64>> = match s.dtype() {
            DataType::String => {
                let ca = s
                    .str()
                    .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?;
                let mut v = Vec::with_capacity(ca.len());
                for (i, x) in ca.iter().enumerate() {
                    v.push(match x.map(str::trim) {
                        None | Some("") => None,
                        Some(t) => Some(t.parse::<f64>().map_err(|_| {
                            Error::data(
                                &self.path,
                                format!(
                                    "column \"{name}\", data row {}: \"{t}\" is not a number; fix the value or mark it missing (empty or NA)",
                                    i + 1
                                ),
                            )
                        })?),
                    });
                }
                v
            }
            DataType::Boolean => s
                .bool()
                .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?
                .iter()
                .map(|b| b.map(|b| if b { 1.0 } else { 0.0 }))
                .collect(),
            dt if dt.is_primitive_numeric() => s
                .cast(&DataType::Float64)
                .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?
                .f64()
                .map_err(|e| Error::data(&self.path, format!("column \"{name}\": {e}")))?
                .iter()
                .collect(),
            dt => {
                return Err(Error::data(
                    &self.path,
                    format!("column \"{name}\" has type {dt}; a numeric column is needed"),
                ));
            }
        };
        if let Some(i) = vals.iter().position(|v| v.is_some_and(|x| !x.is_finite())) {
            return Err(Error::data(
                &self.path,
                format!(
                    "column \"{name}\", data row {}: the value is infinite or not a number; fix or remove it",
                    i + 1
                ),
            ));
        }
        Ok(vals)
    }
}

/// Format a number as a label: integers without decimals.
pub fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

impl Frame {
    /// Keep the rows whose `column` (as text) is one of `values`.
    pub fn filter_values(self, column: &str, values: &[String]) -> Result<Self> {
        let v = self.strings(column)?;
        let mask: BooleanChunked = v
            .iter()
            .map(|x| x.as_ref().is_some_and(|x| values.contains(x)))
            .collect();
        let df = self
            .df
            .filter(&mask)
            .map_err(|e| Error::data(&self.path, format!("cannot filter rows: {e}")))?;
        Ok(Self {
            path: self.path,
            df,
        })
    }
}
