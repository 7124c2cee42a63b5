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

mod plain;
mod rules;
mod sheet;
mod text;

use polars::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::ReadOptions;
pub use crate::config::read::{FileKind, PARQUET_EXTENSIONS, SHEET_EXTENSIONS, TEXT_EXTENSIONS};
use crate::error::{Error, Result, closest};
use rules::{
    DecimalEvidence, EXACT_INTEGERS, NotNumber, Rules, Style, decide_decimal, whole_number_text,
};
pub use rules::{NA_STRINGS, NO_WORDS, YES_WORDS, fmt_number};

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

/// The columns to read: `required` (all when empty) and `optional` ones if present.
pub(crate) struct Selection<'a> {
    pub required: &'a [String],
    pub optional: &'a [&'a str],
}

impl Selection<'_> {
    /// Indices of the selected columns among the header's `raw` names, or a message
    /// for a column that is missing (with the closest name) or named twice.
    pub fn indices(&self, raw: &[String]) -> std::result::Result<Vec<usize>, String> {
        let (names, _) = unique_names(raw);
        if self.required.is_empty() {
            return Ok((0..names.len()).collect());
        }
        let mut out = Vec::new();
        for c in self.required {
            let at: Vec<usize> = (0..raw.len()).filter(|&i| raw[i] == *c).collect();
            match at.as_slice() {
                // A column asked for twice is read once.
                [i] if out.contains(i) => {}
                [i] => out.push(*i),
                [] => {
                    let shown: Vec<&str> = raw
                        .iter()
                        .map(String::as_str)
                        .filter(|s| !s.is_empty())
                        .collect();
                    let hint = closest(c, shown.iter().copied())
                        .map(|s| format!(" Did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    let case = shown
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(c) && hint.is_empty())
                        .map(|s| format!(" Did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    let split = if raw.len() == 1 && raw[0].contains([',', ';', '\t', '|']) {
                        " The header was read as a single column: is the separator right (--delimiter)?"
                    } else {
                        ""
                    };
                    let hint = if split.is_empty() {
                        hint
                    } else {
                        String::new()
                    };
                    return Err(format!(
                        "no column \"{c}\".{hint}{case}{split} The file has: {}",
                        shown.join(", ")
                    ));
                }
                many => {
                    let pos: Vec<String> = many.iter().map(|i| (i + 1).to_string()).collect();
                    return Err(format!(
                        "column \"{c}\" occurs {} times in the header (columns {}); rename or remove the extra ones",
                        many.len(),
                        pos.join(", ")
                    ));
                }
            }
        }
        for o in self.optional {
            if let Some(i) = raw.iter().position(|n| n == o)
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
        Ok(out)
    }
}

/// Header names made unique and non-empty ("column_7", "age_2"), with a note per rename.
///
/// Linear in the number of columns (issue 12: a header of 40,000 columns took seconds
/// here, and the reader of plain files reads the header several times): the names
/// taken and the header's names are looked up in sets, and the next suffix to try is
/// kept per name, so that many columns of one name do not try every suffix again.
/// A suffix skipped that way was taken already, and names are only ever added.
pub(crate) fn unique_names(raw: &[String]) -> (Vec<String>, Vec<(usize, String)>) {
    let in_header: HashSet<&str> = raw.iter().map(String::as_str).collect();
    let mut taken: HashSet<String> = HashSet::with_capacity(raw.len());
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    let mut notes = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let base = if r.is_empty() {
            format!("column_{}", i + 1)
        } else {
            r.clone()
        };
        let mut n = base.clone();
        let mut k = next_suffix.get(&base).copied().unwrap_or(2);
        let mut tried = false;
        while taken.contains(&n) || (n != *r && in_header.contains(n.as_str())) {
            n = format!("{base}_{k}");
            k += 1;
            tried = true;
        }
        if tried {
            next_suffix.insert(base.clone(), k);
        }
        taken.insert(n.clone());
        if n != *r {
            notes.push((
                i,
                if r.is_empty() {
                    format!("column {} has no name; called \"{n}\"", i + 1)
                } else {
                    format!("column {} repeats the name \"{r}\"; called \"{n}\"", i + 1)
                },
            ));
        }
        names.push(n);
    }
    (names, notes)
}

/// A text column as codes into its sorted distinct values ([`Frame::factor`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// Per row, the index into `levels`; None where the value is missing.
    pub codes: Vec<Option<u32>>,
    /// The distinct values, sorted.
    pub levels: Vec<String>,
}

impl Factor {
    /// Rows per level.
    pub fn counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.levels.len()];
        for c in self.codes.iter().flatten() {
            n[*c as usize] += 1;
        }
        n
    }
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

/// The first row whose value is not in a list ([`Frame::positions`]): its index, and
/// its text (None: missing).
pub type Unplaced = (usize, Option<String>);

/// The distinct texts, sorted.
fn sorted_levels(texts: &[String]) -> Vec<String> {
    let mut levels = texts.to_vec();
    levels.sort();
    levels.dedup();
    levels
}

/// Codes of numbers in order of first appearance ([`Frame::factor`]). Whole numbers
/// from 0 to 4,095 (arms, cluster and other small codes) are looked up in a table, the
/// rest in a hash map; 0 and -0 are one value.
struct NumberCodes {
    /// Code of each small whole number; `u32::MAX` when not seen yet.
    small: Vec<u32>,
    seen: FxHashMap<u64, u32>,
}

impl Default for NumberCodes {
    fn default() -> Self {
        Self {
            small: vec![u32::MAX; Self::SMALL],
            seen: FxHashMap::default(),
        }
    }
}

impl NumberCodes {
    const SMALL: usize = 4_096;

    /// The index of `x` in the table, when it is a whole number below [`Self::SMALL`].
    #[inline(always)]
    fn small_index(x: f64) -> Option<usize> {
        let i = x as u16;
        (f64::from(i) == x && usize::from(i) < Self::SMALL).then_some(usize::from(i))
    }

    #[inline(always)]
    fn code(&mut self, x: f64, texts: &mut Vec<String>) -> u32 {
        if let Some(i) = Self::small_index(x)
            && self.small[i] != u32::MAX
        {
            return self.small[i];
        }
        self.lookup(x, texts)
    }

    #[cold]
    #[inline(never)]
    fn lookup(&mut self, x: f64, texts: &mut Vec<String>) -> u32 {
        // x + 0.0 is x, except that -0 becomes +0.
        let key = (x + 0.0).to_bits();
        let next = texts.len() as u32;
        let c = *self.seen.entry(key).or_insert_with(|| {
            texts.push(fmt_number(x));
            next
        });
        if let Some(i) = Self::small_index(x) {
            self.small[i] = c;
        }
        c
    }
}

/// A numeric column as polars holds it: one contiguous array of values with a mask of
/// the missing ones. Cloning shares the values (no copy), so estimators can read large
/// columns in place ([`Frame::numeric`]).
#[derive(Clone)]
pub struct Numbers {
    ca: Float64Chunked,
}

impl Numbers {
    /// A column from values with missing ones as None (tests, derived outcomes).
    pub fn from_options(values: &[Option<f64>]) -> Self {
        Self::from_chunked(values.iter().copied().collect())
    }

    /// A column without missing values; takes the vector without copying it.
    pub fn from_values(values: Vec<f64>) -> Self {
        Self::from_chunked(Float64Chunked::from_vec(PlSmallStr::EMPTY, values))
    }

    fn from_chunked(ca: Float64Chunked) -> Self {
        Self {
            ca: ca.rechunk().into_owned(),
        }
    }

    pub fn len(&self) -> usize {
        self.ca.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ca.is_empty()
    }

    /// Number of missing values.
    pub fn missing(&self) -> usize {
        self.ca.null_count()
    }

    /// The value of row `i`, None where missing.
    #[inline]
    pub fn get(&self, i: usize) -> Option<f64> {
        let a = self.ca.downcast_as_array();
        match a.validity() {
            Some(v) if !v.get_bit(i) => None,
            _ => Some(a.values()[i]),
        }
    }

    /// All values in row order, including the slots of missing values, whose content
    /// is unspecified: read it only for rows known to be observed.
    pub fn values(&self) -> &[f64] {
        self.ca.downcast_as_array().values()
    }

    /// The values with missing ones as None.
    pub fn iter(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.ca.iter()
    }

    pub fn to_vec(&self) -> Vec<Option<f64>> {
        self.iter().collect()
    }
}

impl std::fmt::Debug for Numbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The columns of a freshly read frame made compact for the analysis, one column at a
/// time: each in one contiguous array (readers hand over several pieces), and integer
/// columns as floating point when every value is exactly representable, so that the
/// estimators read them in place instead of converting a copy per use.
fn compact_columns(df: DataFrame) -> PolarsResult<DataFrame> {
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

/// A loaded data file restricted to the columns an analysis needs.
pub struct Frame {
    path: PathBuf,
    df: DataFrame,
    /// Line or worksheet row of each data row, when the source has them.
    rows: Option<Vec<u32>>,
    row_word: String,
    rules: Rules,
    assumptions: Vec<String>,
    /// Every number in the frame's numeric columns is known to be finite (the plain
    /// reader declines files with others), so [`Frame::numeric`] need not look.
    finite: bool,
}

impl Frame {
    /// Read `path` (delimited text, a workbook or Parquet), keeping only `columns` (all
    /// when empty), with everything detected. See [`Frame::load_with`].
    pub fn load(path: &Path, columns: &[String]) -> Result<Self> {
        Self::load_with(path, columns, &[], &ReadOptions::default())
    }

    /// As [`Frame::load`], also keeping the `optional` columns that the file has.
    pub fn load_with_optional(path: &Path, columns: &[String], optional: &[&str]) -> Result<Self> {
        Self::load_with(path, columns, optional, &ReadOptions::default())
    }

    /// Read `path` with `opts`, keeping `columns` (all when empty) and the `optional`
    /// columns the file has.
    ///
    /// A missing column is reported with the closest existing name. Text files: the
    /// first non-blank line is the header, lines starting with `#` are comments, rows
    /// of empty fields are skipped. Workbooks: the first row of the used range of the
    /// first (or the named) worksheet is the header. A required column without any
    /// value is an error.
    pub fn load_with(
        path: &Path,
        columns: &[String],
        optional: &[&str],
        opts: &ReadOptions,
    ) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                "the data file does not exist; check the path",
            ));
        }
        if path.is_dir() {
            return Err(Error::io(
                path,
                "is a folder, not a data file; give the path of the file itself",
            ));
        }
        let Some(kind) = FileKind::of(path) else {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_string())
                .unwrap_or_default();
            return Err(Error::data(
                path,
                format!(
                    "unknown file type \".{ext}\"; allowed file types: {}",
                    FileKind::allowed()
                ),
            ));
        };
        let sel = Selection {
            required: columns,
            optional,
        };
        if kind == FileKind::Parquet {
            return Self::load_parquet(path, &sel, opts);
        }
        // Large plain comma files of numbers: one pass per core (the same result).
        if kind == FileKind::Text
            && let Some(t) = plain::read(path, opts, &sel)
        {
            return Self::from_text(path, t, opts, columns);
        }
        // Read-only: std::fs::read opens the file for reading and nothing else.
        let bytes = std::fs::read(path).map_err(|e| {
            Error::io(
                path,
                format!(
                    "cannot read the data file: {e}; check that it exists and that you may read it"
                ),
            )
        })?;
        let table = if kind == FileKind::Sheet {
            sheet::read(bytes, opts, &sel)
        } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            sheet::read(bytes, opts, &sel).map(|mut t| {
                t.assumptions.insert(
                    0,
                    "the file is a spreadsheet workbook despite its name; read as a workbook"
                        .into(),
                );
                t
            })
        } else if bytes.starts_with(b"PAR1") {
            return Self::load_parquet(path, &sel, opts).map(|mut f| {
                f.assumptions.insert(
                    0,
                    "the file is Parquet despite its name; read as Parquet".into(),
                );
                f
            });
        } else {
            let t = match text::read(bytes, opts, &sel, false) {
                Ok(Ok(t)) => t,
                // A value further down does not fit the types of the first rows: read
                // the file again with every value as text.
                Ok(Err(text::RetryAsText)) => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        Error::io(path, format!("cannot read the data file again: {e}"))
                    })?;
                    match text::read(bytes, opts, &sel, true) {
                        Ok(Ok(t)) => t,
                        Ok(Err(text::RetryAsText)) => {
                            return Err(Error::data(path, "cannot read the values as text"));
                        }
                        Err(m) => return Err(Error::data(path, m)),
                    }
                }
                Err(m) => return Err(Error::data(path, m)),
            };
            return Self::from_text(path, t, opts, columns);
        }
        .map_err(|m| Error::data(path, m))?;
        Self::from_table(path, table, opts, columns)
    }

    fn load_parquet(path: &Path, sel: &Selection, opts: &ReadOptions) -> Result<Self> {
        // polars' eager reader with a column projection: only the selected columns are
        // decoded. (The lazy engine would do the same, at the cost of a network stack in
        // the build; see Cargo.toml.)
        let file = std::fs::File::open(path)
            .map_err(|e| Error::io(path, format!("cannot open the data file: {e}")))?;
        let mut reader = ParquetReader::new(file);
        let schema = reader
            .schema()
            .map_err(|e| Error::data(path, format!("cannot read the header: {e}")))?;
        let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
        let idx = sel.indices(&names).map_err(|m| Error::data(path, m))?;
        let wanted: Vec<&str> = idx.iter().map(|&i| names[i].as_str()).collect();
        let mut in_file_order = idx;
        in_file_order.sort_unstable();
        let df = reader
            .with_projection(Some(in_file_order))
            .finish()
            // The projection reads columns in file order; put them in the selection's.
            .and_then(|df| df.select(wanted.iter().copied()))
            .and_then(compact_columns)
            .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
        let frame = Self {
            path: path.to_path_buf(),
            df,
            rows: None,
            row_word: String::new(),
            rules: Rules {
                decimal_comma: opts.decimal_comma.unwrap_or(false),
                na: opts.na.clone(),
                ambiguous: false,
            },
            assumptions: Vec::new(),
            finite: false,
        };
        if frame.height() == 0 {
            return Err(Error::data(path, "the file has a header but no data rows"));
        }
        frame.check_not_all_missing(sel.required)?;
        Ok(frame)
    }

    fn from_table(
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
            .map_err(|e| Error::data(path, format!("cannot build the table: {e}")))?;
        let mut frame = Self {
            path: path.to_path_buf(),
            df,
            rows: Some(t.rows),
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
    fn from_text(
        path: &Path,
        t: text::TextTable,
        opts: &ReadOptions,
        required: &[String],
    ) -> Result<Self> {
        let text::TextTable {
            mut df,
            mut lines,
            empty_rows,
            mut assumptions,
            delimiter,
            finite,
            ..
        } = t;
        let fail = |e: PolarsError| Error::data(path, format!("cannot build the table: {e}"));
        if !empty_rows.is_empty() {
            let dropped: Vec<u32> = empty_rows.iter().map(|&i| lines[i]).collect();
            let mut keep = vec![true; lines.len()];
            for &i in &empty_rows {
                keep[i] = false;
            }
            let mask: BooleanChunked = keep.iter().copied().collect();
            df = df.filter(&mask).map_err(fail)?;
            lines = lines
                .into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(l, _)| l)
                .collect();
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
        }
        let mut rules = Rules {
            decimal_comma: false,
            na: opts.na.clone(),
            ambiguous: false,
        };
        // Text is trimmed, and missing-value markers become nulls.
        // Columns are moved out of the frame, so that each piece is freed as soon as
        // its column is rebuilt.
        let mut cols = Vec::with_capacity(df.width());
        for c in std::mem::replace(&mut df, DataFrame::empty()).into_columns() {
            let Ok(ca) = c.str() else {
                cols.push(c);
                continue;
            };
            let mut memo = PerText::new();
            let clean = ca.iter().all(|v| {
                v.is_none_or(|s| {
                    memo.get(s, |s| rules::trim(s).len() == s.len() && !rules.is_na(s))
                })
            });
            if clean {
                cols.push(c.clone());
                continue;
            }
            let v: StringChunked = ca
                .iter()
                .map(|v| v.map(rules::trim).filter(|s| !rules.is_na(s)))
                .collect();
            cols.push(v.with_name(c.name().clone()).into_column());
        }
        df = DataFrame::new(lines.len(), cols)
            .and_then(compact_columns)
            .map_err(fail)?;
        let mut ev = DecimalEvidence::default();
        for (ci, c) in df.columns().iter().enumerate() {
            if let Ok(ca) = c.str() {
                // Each distinct text once, at its first row (what `see` keeps).
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
            // Numbers polars read with a decimal point count as such.
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
        let names = df.get_column_names_owned();
        (rules.decimal_comma, rules.ambiguous) = decide_decimal(
            opts,
            &ev,
            Some(delimiter),
            |e| {
                format!(
                    "\"{}\" in column \"{}\", line {}",
                    e.2, names[e.0], lines[e.1]
                )
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
    fn note_yes_no(&mut self) {
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

    fn check_not_all_missing(&self, required: &[String]) -> Result<()> {
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

    /// Wrap a frame made in memory (simulation, tests); `path` is used in messages.
    pub fn from_frame(df: DataFrame, path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            df,
            rows: None,
            row_word: String::new(),
            rules: Rules::default(),
            assumptions: Vec::new(),
            finite: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// What loading had to assume or detect (separator, decimal comma, encoding,
    /// skipped rows, yes/no words, worksheet), one sentence each.
    pub fn assumptions(&self) -> &[String] {
        &self.assumptions
    }

    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// "data row 5 (line 6)": the row as the analysis counts it and where it is in the file.
    pub fn row_ref(&self, i: usize) -> String {
        match self.rows.as_ref().and_then(|r| r.get(i)) {
            Some(n) => format!("data row {} ({}{n})", i + 1, self.row_word),
            None => format!("data row {}", i + 1),
        }
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|_| {
            Error::data(
                &self.path,
                format!("no column \"{name}\" in the loaded data"),
            )
        })
    }

    fn err(&self, name: &str, e: impl std::fmt::Display) -> Error {
        Error::data(&self.path, format!("column \"{name}\": {e}"))
    }

    /// A column as text (numbers are written without a trailing ".0"); missing values
    /// are None.
    pub fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        let out = match s.dtype() {
            DataType::Float32 | DataType::Float64 => {
                let f = s.cast(&DataType::Float64).map_err(|e| self.err(name, e))?;
                f.f64()
                    .map_err(|e| self.err(name, e))?
                    .iter()
                    .map(|v| v.map(fmt_number))
                    .collect()
            }
            DataType::String => s
                .str()
                .map_err(|e| self.err(name, e))?
                .iter()
                .map(|v| {
                    v.map(rules::trim)
                        .filter(|t| !self.rules.is_na(t))
                        .map(|t| whole_number_text(t, self.rules.decimal_comma))
                })
                .collect(),
            _ => {
                let t = s.cast(&DataType::String).map_err(|e| self.err(name, e))?;
                t.str()
                    .map_err(|e| self.err(name, e))?
                    .iter()
                    .map(|v| v.map(|s| rules::trim(s).to_string()))
                    .collect()
            }
        };
        Ok(out)
    }

    /// A column as a factor: per row the index of its value among the sorted distinct
    /// values (as [`Frame::strings`] writes them), None where missing. Each distinct
    /// value is formatted once, so this is cheap on large columns.
    pub fn factor(&self, name: &str) -> Result<Factor> {
        let mut codes: Vec<Option<u32>> = Vec::with_capacity(self.height());
        let texts = self.code_rows(name, |c, _| codes.push(c))?;
        // Distinct texts, sorted; different raw values with the same text ("1" and
        // "1.0") become one level.
        let levels = sorted_levels(&texts);
        let remap: Vec<u32> = texts
            .iter()
            .map(|t| levels.binary_search(t).expect("every text is a level") as u32)
            .collect();
        if remap.iter().enumerate().any(|(i, &c)| i as u32 != c) {
            for c in codes.iter_mut().flatten() {
                *c = remap[*c as usize];
            }
        }
        Ok(Factor { codes, levels })
    }

    /// The levels of [`Frame::factor`] (sorted distinct values), and whether a value is
    /// missing, without a code per row.
    pub fn levels(&self, name: &str) -> Result<(Vec<String>, bool)> {
        let mut missing = false;
        let texts = self.code_rows(name, |c, _| missing |= c.is_none())?;
        Ok((sorted_levels(&texts), missing))
    }

    /// Per row, the position in `allowed` (at most 65,535 values) of its value, as
    /// [`Frame::factor`]'s levels write it; or the first row whose value is missing
    /// (None) or not allowed (its text).
    pub fn positions(
        &self,
        name: &str,
        allowed: &[&str],
    ) -> Result<std::result::Result<Vec<u16>, Unplaced>> {
        const NOT: u16 = u16::MAX;
        let mut out: Vec<u16> = Vec::with_capacity(self.height());
        // Position of each code's text in `allowed`, or NOT.
        let mut of_code: Vec<u16> = Vec::new();
        let mut bad = None;
        self.code_rows(name, |c, texts| {
            while of_code.len() < texts.len() {
                let t = &texts[of_code.len()];
                let at = allowed.iter().position(|a| a == t);
                of_code.push(at.and_then(|p| u16::try_from(p).ok()).unwrap_or(NOT));
            }
            let p = c.map_or(NOT, |c| of_code[c as usize]);
            if p == NOT && bad.is_none() {
                bad = Some((out.len(), c.map(|c| texts[c as usize].clone())));
            }
            out.push(p);
        })?;
        Ok(bad.map_or(Ok(out), Err))
    }

    /// Hand `each` the code of every row in order (codes in order of first appearance;
    /// None where missing), with the texts of the codes so far; the text of each code.
    fn code_rows(
        &self,
        name: &str,
        mut each: impl FnMut(Option<u32>, &[String]),
    ) -> Result<Vec<String>> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        let mut texts: Vec<String> = Vec::new();
        match s.dtype() {
            DataType::String => {
                let ca = s.str().map_err(|e| self.err(name, e))?;
                let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
                // The code of each raw text, trimmed and looked up once.
                let mut memo = PerText::new();
                for v in ca.iter() {
                    let code = v.and_then(|raw| {
                        memo.get(raw, |raw| {
                            let t = rules::trim(raw);
                            if self.rules.is_na(t) {
                                return None;
                            }
                            let next = seen.len() as u32;
                            Some(*seen.entry(t).or_insert_with(|| {
                                texts.push(whole_number_text(t, self.rules.decimal_comma));
                                next
                            }))
                        })
                    });
                    each(code, &texts);
                }
            }
            dt if dt.is_primitive_numeric() => {
                let f = s.cast(&DataType::Float64).map_err(|e| self.err(name, e))?;
                let ca = f.f64().map_err(|e| self.err(name, e))?;
                let mut codes = NumberCodes::default();
                for arr in ca.downcast_iter() {
                    let values = arr.values().iter();
                    match arr.validity() {
                        None => values.for_each(|&x| {
                            let c = codes.code(x, &mut texts);
                            each(Some(c), &texts);
                        }),
                        Some(valid) => values.zip(valid.iter()).for_each(|(&x, ok)| {
                            let c = ok.then(|| codes.code(x, &mut texts));
                            each(c, &texts);
                        }),
                    }
                }
            }
            _ => {
                let v = self.strings(name)?;
                let mut seen: HashMap<String, u32> = HashMap::new();
                for t in v {
                    let c = t.map(|t| {
                        let next = seen.len() as u32;
                        *seen.entry(t.clone()).or_insert_with(|| {
                            texts.push(t);
                            next
                        })
                    });
                    each(c, &texts);
                }
            }
        }
        Ok(texts)
    }

    /// Whether the column holds numbers (read as such, not as text).
    pub fn is_numeric(&self, name: &str) -> bool {
        self.df
            .column(name)
            .is_ok_and(|c| c.dtype().is_primitive_numeric())
    }

    /// A column as numbers; missing values are None. See [`Frame::numeric`].
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>> {
        Ok(self.numeric(name)?.to_vec())
    }

    /// A column as numbers, without copying a floating-point column. Text that is not
    /// a number is an error naming the row and the value; yes/no words read as 1/0 when
    /// the column holds nothing else (besides 0 and 1); infinite values are errors too.
    pub fn numeric(&self, name: &str) -> Result<Numbers> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        let nums = match s.dtype() {
            DataType::String => {
                let ca = s.str().map_err(|e| self.err(name, e))?;
                let mut v = Vec::with_capacity(ca.len());
                let mut word: Option<(usize, String)> = None;
                let mut other: Option<(usize, String)> = None;
                for (i, x) in ca.iter().enumerate() {
                    let t = match x.map(rules::trim) {
                        None => {
                            v.push(None);
                            continue;
                        }
                        Some(t) if self.rules.is_na(t) => {
                            v.push(None);
                            continue;
                        }
                        Some(t) => t,
                    };
                    if self.rules.ambiguous && rules::style(t) == Style::Grouped {
                        return Err(Error::data(
                            &self.path,
                            format!(
                                "column \"{name}\", {}: \"{t}\" could be {} (decimal point) or {} (a dot between thousands, with decimal commas); say which with --decimal-comma=false or --decimal-comma (config: data.decimal_comma)",
                                self.row_ref(i),
                                rules::parse_number(t, false).unwrap_or(f64::NAN),
                                rules::parse_number(t, true)
                                    .map(fmt_number)
                                    .unwrap_or_default()
                            ),
                        ));
                    }
                    match self.rules.number(t) {
                        Ok(x) => {
                            if x != 0.0 && x != 1.0 && other.is_none() {
                                other = Some((i, t.to_string()));
                            }
                            if !x.is_finite() {
                                return Err(Error::data(
                                    &self.path,
                                    format!(
                                        "column \"{name}\", {}: \"{}\" is infinite or not a number; fix or remove it",
                                        self.row_ref(i),
                                        t.chars().take(60).collect::<String>()
                                    ),
                                ));
                            }
                            v.push(Some(x));
                        }
                        Err(why) => match rules::yes_no(t) {
                            Some(x) => {
                                if word.is_none() {
                                    word = Some((i, t.to_string()));
                                }
                                v.push(Some(x));
                            }
                            None => return Err(self.not_a_number(name, i, t, why)),
                        },
                    }
                }
                if let (Some((wi, w)), Some((oi, o))) = (word, other) {
                    return Err(Error::data(
                        &self.path,
                        format!(
                            "column \"{name}\" mixes yes/no words (\"{w}\", {}) with other numbers (\"{o}\", {}); a yes/no column holds only yes/no words or 1/0, a numeric column only numbers",
                            self.row_ref(wi),
                            self.row_ref(oi)
                        ),
                    ));
                }
                Numbers::from_options(&v)
            }
            DataType::Boolean => Numbers::from_chunked(
                s.bool()
                    .map_err(|e| self.err(name, e))?
                    .iter()
                    .map(|b| b.map(|b| if b { 1.0 } else { 0.0 }))
                    .collect(),
            ),
            dt if dt.is_primitive_numeric() => Numbers::from_chunked(
                s.cast(&DataType::Float64)
                    .map_err(|e| self.err(name, e))?
                    .f64()
                    .map_err(|e| self.err(name, e))?
                    .clone(),
            ),
            dt => {
                return Err(Error::data(
                    &self.path,
                    format!("column \"{name}\" has type {dt}; a numeric column is needed"),
                ));
            }
        };
        // Known to be finite, or checked in blocks without a branch per value first
        // (most columns are clean).
        let known = self.finite && s.dtype().is_primitive_numeric();
        let clean = known
            || nums
                .values()
                .chunks(4096)
                .all(|b| b.iter().fold(true, |ok, x| ok & x.is_finite()));
        let bad = if clean {
            None
        } else if nums.missing() == 0 {
            nums.values().iter().position(|x| !x.is_finite())
        } else {
            nums.iter().position(|v| v.is_some_and(|x| !x.is_finite()))
        };
        if let Some(i) = bad {
            return Err(Error::data(
                &self.path,
                format!(
                    "column \"{name}\", {}: the value is infinite or not a number; fix or remove it",
                    self.row_ref(i)
                ),
            ));
        }
        Ok(nums)
    }

    fn not_a_number(&self, name: &str, i: usize, t: &str, why: NotNumber) -> Error {
        let at = self.row_ref(i);
        let shown: String = t.chars().take(60).collect();
        let msg = match why {
            NotNumber::Comma => format!(
                "column \"{name}\", {at}: \"{shown}\" has a decimal comma but the file is read with decimal points; pass --decimal-comma (config: data.decimal_comma = true) if the file uses decimal commas"
            ),
            NotNumber::Thousands => format!(
                "column \"{name}\", {at}: \"{shown}\" has commas between thousands; write the number without them (1234.5)"
            ),
            NotNumber::Point => format!(
                "column \"{name}\", {at}: \"{shown}\" has a decimal point but the file is read with decimal commas; fix the value, or pass --decimal-comma=false if the file uses decimal points"
            ),
            NotNumber::Text if t.starts_with('#') && (t.ends_with('!') || t.ends_with('?')) => {
                format!(
                    "column \"{name}\", {at}: \"{shown}\" is a spreadsheet error value, not a number; fix the formula or clear the cell"
                )
            }
            NotNumber::Text if is_date(t) => format!(
                "column \"{name}\", {at}: \"{shown}\" is a date; a number is needed here (e.g. months from the start of the pilot)"
            ),
            NotNumber::Text if t.ends_with('%') => format!(
                "column \"{name}\", {at}: \"{shown}\" is a percentage; write it as a plain number (45 or 0.45)"
            ),
            NotNumber::Text => format!(
                "column \"{name}\", {at}: \"{shown}\" is not a number; fix the value or mark it missing (empty or NA; other markers with --na)"
            ),
        };
        Error::data(&self.path, msg)
    }

    /// Check that every row has an id and no id occurs twice (within each value of
    /// `within`, when given: e.g. once per period in a before/after design). The error
    /// names the rows, never the id (ids identify persons).
    pub fn check_unique_ids(&self, id: &str, within: Option<&str>) -> Result<()> {
        let ids = self.strings(id)?;
        let groups = within.map(|w| self.strings(w)).transpose()?;
        let mut first: HashMap<(Option<&str>, &str), Vec<usize>> = HashMap::new();
        let mut order: Vec<(Option<&str>, &str)> = Vec::new();
        for (i, v) in ids.iter().enumerate() {
            let Some(v) = v.as_deref() else {
                return Err(Error::data(
                    &self.path,
                    format!(
                        "column \"{id}\", {}: the id is missing; every row needs an id (the config's data.id)",
                        self.row_ref(i)
                    ),
                ));
            };
            let g = groups.as_ref().and_then(|g| g[i].as_deref());
            let e = first.entry((g, v)).or_default();
            e.push(i);
            if e.len() == 2 {
                order.push((g, v));
            }
        }
        let Some(key) = order.first() else {
            return Ok(());
        };
        let rows = &first[key];
        let shown: Vec<String> = rows.iter().take(5).map(|&i| self.row_ref(i)).collect();
        let within_text = match (within, key.0) {
            (Some(w), Some(g)) => format!(" within \"{g}\" of column \"{w}\""),
            _ => String::new(),
        };
        let more = if order.len() > 1 {
            format!(" ({} ids occur more than once in all)", order.len())
        } else {
            String::new()
        };
        Err(Error::data(
            &self.path,
            format!(
                "column \"{id}\": an id occurs {} times{within_text}: {}{more}; each unit may have one row{}. Remove or merge the duplicate rows",
                rows.len(),
                shown.join(", "),
                if within.is_some() { " per period" } else { "" }
            ),
        ))
    }
}

impl Frame {
    /// Check that the arm column has rows in the control arm and in at least one other
    /// arm of `arms`. Values outside `arms` are left to the analysis, which names their
    /// rows.
    pub fn check_arms(&self, column: &str, arms: &[String], control: &str) -> Result<()> {
        let f = self.factor(column)?;
        let mut n = vec![0usize; arms.len()];
        for (level, k) in f.levels.iter().zip(f.counts()) {
            match arms.iter().position(|a| a == level) {
                Some(i) => n[i] += k,
                None => return Ok(()),
            }
        }
        let present: Vec<String> = arms
            .iter()
            .zip(&n)
            .filter(|(_, k)| **k > 0)
            .map(|(a, k)| format!("\"{a}\" ({k} rows)"))
            .collect();
        let has_control = arms.iter().zip(&n).any(|(a, k)| a == control && *k > 0);
        let has_other = arms.iter().zip(&n).any(|(a, k)| a != control && *k > 0);
        if has_control && has_other {
            return Ok(());
        }
        let found = if present.is_empty() {
            "no arm at all".to_string()
        } else {
            format!("only {}", present.join(", "))
        };
        Err(Error::data(
            &self.path,
            format!(
                "column \"{column}\" has {found}; a comparison needs rows in the control arm \"{control}\" and in at least one other arm ({}). Check that this is the full data file and the right arm column",
                arms.iter()
                    .filter(|a| *a != control)
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }

    /// Check that a cluster column has at least two clusters.
    pub fn check_clusters(&self, column: &str) -> Result<()> {
        let (seen, _) = self.levels(column)?;
        if seen.len() > 1 {
            return Ok(());
        }
        Err(Error::data(
            &self.path,
            format!(
                "column \"{column}\" holds a single cluster ({}); cluster-robust inference needs at least two clusters, and a cluster-randomised comparison at least one per arm. Check the cluster column, or leave it out if units were assigned one by one",
                seen.first()
                    .map(|s| format!("\"{s}\""))
                    .unwrap_or_else(|| "none".into())
            ),
        ))
    }
}

/// "2024-01-31", "31-01-2024", "31/1/2024" and the like.
fn is_date(t: &str) -> bool {
    let parts: Vec<&str> = t.split(['-', '/', ' ']).filter(|p| !p.is_empty()).collect();
    parts.len() >= 3
        && parts[..3]
            .iter()
            .all(|p| p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
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
            CONTROL.contains(&l.as_str()) || (values.len() == 2 && NO_WORDS.contains(&l.as_str()))
        })
        .collect();
    match hits.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

impl Frame {
    /// Keep the rows whose `column` (as text) is one of `values`.
    pub fn filter_values(self, column: &str, values: &[String]) -> Result<Self> {
        let f = self.factor(column)?;
        let wanted: Vec<bool> = f.levels.iter().map(|l| values.contains(l)).collect();
        let keep: Vec<bool> = f
            .codes
            .iter()
            .map(|c| c.is_some_and(|c| wanted[c as usize]))
            .collect();
        let mask: BooleanChunked = keep.iter().copied().collect();
        let df = self
            .df
            .filter(&mask)
            .map_err(|e| Error::data(&self.path, format!("cannot filter rows: {e}")))?;
        let rows = self.rows.map(|r| {
            r.into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(r, _)| r)
                .collect()
        });
        Ok(Self {
            path: self.path,
            df,
            rows,
            row_word: self.row_word,
            rules: self.rules,
            assumptions: self.assumptions,
            finite: self.finite,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes from the small-number table, the hash map and text agree with the levels:
    /// every row's code names its own value, -0 is 0, values beyond the table and
    /// fractions are found, missing rows have no code; `levels` and `positions` say the
    /// same as `factor`.
    #[test]
    fn factor_levels_and_positions_agree() {
        let nums: Vec<Option<f64>> = [
            Some(3.0),
            Some(4_095.0),
            Some(4_096.0),
            Some(-0.0),
            None,
            Some(0.0),
            Some(2.5),
            Some(-1.0),
            Some(3.0),
            Some(1e12),
            Some(4_096.0),
        ]
        .to_vec();
        let texts = ["b", "a", "b", " c ", "NA", "a", "c", "d", "b", "a", "a"];
        let df = DataFrame::new(
            nums.len(),
            vec![
                Column::new("n".into(), &nums),
                Column::new("t".into(), texts.to_vec()),
            ],
        )
        .unwrap();
        let f = Frame::from_frame(df, Path::new("test.csv"));
        let n = f.factor("n").unwrap();
        assert_eq!(
            n.levels,
            ["-1", "0", "1000000000000", "2.5", "3", "4095", "4096"]
        );
        for (code, x) in n.codes.iter().zip(&nums) {
            assert_eq!(
                code.map(|c| n.levels[c as usize].clone()),
                x.map(fmt_number)
            );
        }
        assert_eq!(n.codes[3], n.codes[5], "-0 and 0");
        assert_eq!(f.levels("n").unwrap(), (n.levels.clone(), true));
        let t = f.factor("t").unwrap();
        assert_eq!(t.levels, ["a", "b", "c", "d"]);
        assert_eq!(t.codes[4], None);
        assert_eq!(t.codes[3], t.codes[6], "trimmed");
        assert_eq!(f.levels("t").unwrap(), (t.levels.clone(), true));
        // Positions in a list of allowed values, in the list's order.
        let allowed = ["d", "c", "b", "a"];
        assert_eq!(f.positions("t", &allowed).unwrap(), Err((4, None)));
        let f = f
            .filter_values("t", &["a".into(), "b".into(), "c".into()])
            .unwrap();
        let p = f.positions("t", &allowed).unwrap().unwrap();
        let t = f.factor("t").unwrap();
        for (p, c) in p.iter().zip(&t.codes) {
            assert_eq!(allowed[usize::from(*p)], t.levels[c.unwrap() as usize]);
        }
        assert_eq!(
            f.positions("t", &["a", "b"]).unwrap(),
            Err((3, Some("c".into())))
        );
        let n = f.positions("n", &["3", "4095", "0", "-1"]).unwrap();
        assert_eq!(n, Err((2, Some("4096".into()))));
    }

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

    #[test]
    fn whole_numbers_lose_their_zero_decimals() {
        assert_eq!(whole_number_text("1.0", false), "1");
        assert_eq!(whole_number_text("-2.00", false), "-2");
        assert_eq!(whole_number_text("1.5", false), "1.5");
        assert_eq!(whole_number_text("1,0", true), "1");
        assert_eq!(whole_number_text("v1.0", false), "v1.0");
    }

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

    #[test]
    fn duplicate_and_empty_names_are_made_unique() {
        let raw: Vec<String> = ["a", "", "a", "a_2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (n, notes) = unique_names(&raw);
        assert_eq!(n, ["a", "column_2", "a_3", "a_2"]);
        assert_eq!(notes.len(), 2);
        let raw: Vec<String> = ["x", "x_2", "", "x", "column_3", "x", "", "column_3_2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (n, _) = unique_names(&raw);
        assert_eq!(
            n,
            [
                "x",
                "x_2",
                "column_3_3",
                "x_3",
                "column_3",
                "x_4",
                "column_7",
                "column_3_2"
            ]
        );
    }

    /// Issue 12: names were made unique by comparing each with all before it, so that
    /// 50,000 columns of one name tried 1.25 billion suffixes; now once each.
    #[test]
    fn many_columns_of_one_name() {
        let raw = vec!["v".to_string(); 50_000];
        let (n, notes) = unique_names(&raw);
        assert_eq!(n[0], "v");
        assert_eq!(n[1], "v_2");
        assert_eq!(n[49_999], "v_50000");
        assert_eq!(notes.len(), 49_999);
        let distinct: HashSet<&String> = n.iter().collect();
        assert_eq!(distinct.len(), 50_000);
    }
}
