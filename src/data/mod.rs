//! The data layer: reads CSV and other delimited text, Excel and OpenDocument
//! workbooks, and Parquet; checks columns and values against what the analysis needs;
//! and hands columns to the estimators as plain vectors.
//!
//! Text files are decoded (UTF-8, UTF-16, Latin-1), their record structure is checked
//! with the `csv` crate (separator, title lines, field counts, open quotes, the line of
//! every row, so that every problem names its line) and their values are read by
//! polars' CSV reader ([`text`]); large plain comma files of numbers take a shorter way
//! with the same result, one pass per core ([`plain`]); workbooks are read with
//! calamine ([`sheet`]); Parquet with polars. Whatever the source,
//! the result is a polars frame of the columns asked for, and what the loader had to
//! assume (separator, decimal comma, encoding, ...) is kept in [`Frame::assumptions`].
//! Input files are only ever opened for reading.
//!
//! Values: empty cells and the markers in [`NA_STRINGS`] (plus `--na`/`data.na`) are
//! missing everywhere; numbers may use a decimal comma; where a number is needed, yes/no
//! words (ja/nee, WAAR/ONWAAR, true/false, yes/no, j/n, y/n) read as 1/0.
//! These rules, and the others on cell text (trimming, leading zeros, types), are
//! decided in [`rules`] for every reader.
//!
//! One job per file: [`load`] picks the reader for a file and the columns to keep;
//! [`text`], [`plain`] and [`sheet`] read; [`convert`] turns what they read into the
//! frame's columns; [`columns`] gives columns as text or numbers; [`factor`] codes
//! columns as factors and labels; [`labels`] keeps many labels in one buffer;
//! [`checks`] checks loaded data against a spec.

mod columns;
mod convert;
mod factor;
mod labels;
mod lines;
mod load;
mod plain;
mod rules;
mod sheet;
mod text;

use polars::prelude::*;
use rustc_hash::FxHashMap;
use std::path::PathBuf;

pub use crate::config::read::{FileKind, PARQUET_EXTENSIONS, SHEET_EXTENSIONS, TEXT_EXTENSIONS};
pub use columns::Numbers;
pub(crate) use convert::{Cell, Table};
pub use factor::{Codes, Factor, Unplaced};
pub use labels::Labels;
use lines::RowLines;
pub(crate) use load::{Selection, unique_names};
use rules::Rules;
pub use rules::{NA_STRINGS, NO_WORDS, YES_WORDS, fmt_number};

/// A loaded data file restricted to the columns an analysis needs.
pub struct Frame {
    path: PathBuf,
    df: DataFrame,
    /// Line or worksheet row of each data row, when the source has them.
    rows: Option<RowLines>,
    row_word: String,
    rules: Rules,
    assumptions: Vec<String>,
    /// Every number in the frame's numeric columns is known to be finite (the plain
    /// reader declines files with others), so [`Frame::numeric`] need not look.
    finite: bool,
}

/// A result per distinct text, for the few-valued text columns of large files (arms,
/// codes, yes/no): what a pure function of the text gives is computed once per distinct
/// value, up to [`PerText::LIMIT`] values (then every time).
struct PerText<'a, T> {
    known: FxHashMap<&'a str, T>,
}

impl<'a, T: Copy> PerText<'a, T> {
    const LIMIT: usize = 4_096;

    fn new() -> Self {
        Self {
            known: FxHashMap::default(),
        }
    }

    #[inline]
    fn get(&mut self, s: &'a str, f: impl FnOnce(&'a str) -> T) -> T {
        if let Some(&v) = self.known.get(s) {
            return v;
        }
        let v = f(s);
        if self.known.len() < Self::LIMIT {
            self.known.insert(s, v);
        }
        v
    }
}
