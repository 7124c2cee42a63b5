//! Column access: a frame's columns as text ([`Frame::strings`]) or as numbers
//! ([`Frame::numeric`], [`Numbers`]), where it came from ([`Frame::row_ref`]) and what
//! loading assumed, with messages that name the column, the row and the value.

use polars::prelude::*;
use std::path::Path;

use rayon::prelude::*;

use super::Frame;
use super::rules::{self, NotNumber, Rules, Style, fmt_number, whole_number_text};
use crate::error::{Error, Result};

/// Rows of a text column converted to numbers as one task ([`Frame::text_numbers`]).
const TEXT_PART: usize = 1 << 16;

/// What [`Frame::text_part`] found in its rows besides their values: the rows (of the
/// column) whose value is missing, the first yes/no word and the first number other
/// than 0 and 1 (row, text), and the error of the first bad value.
struct TextPart {
    missing: Vec<usize>,
    word: Option<(usize, String)>,
    other: Option<(usize, String)>,
    error: Option<Error>,
}

/// `values` as a column with the rows `missing` masked (unnamed): the vector taken
/// without a copy when no row is missing.
pub(super) fn masked(values: Vec<f64>, missing: impl Iterator<Item = usize>) -> Float64Chunked {
    let mut missing = missing.peekable();
    if missing.peek().is_none() {
        return Float64Chunked::from_vec(PlSmallStr::EMPTY, values);
    }
    let mut valid = vec![true; values.len()];
    for i in missing {
        valid[i] = false;
    }
    values
        .into_iter()
        .zip(valid)
        .map(|(x, ok)| ok.then_some(x))
        .collect()
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

    /// The values as a vector of their own, taken without a copy when the column has
    /// no missing value and holds the only reference to its buffer (the frame it came
    /// from has let go of the column); otherwise the column back as it was.
    pub fn try_into_values(self) -> std::result::Result<Vec<f64>, Self> {
        let shared = self.ca.downcast_as_array().values().storage_refcount() != 1;
        if self.ca.null_count() > 0 || shared {
            return Err(self);
        }
        let Some(array) = self.ca.downcast_into_iter().next() else {
            return Ok(Vec::new());
        };
        let (_, values, _) = array.into_inner();
        // Unshared (checked above), so taken as it is; a copy only if polars kept a
        // view of it after all (a sliced buffer).
        Ok(values.into_mut().either(|view| view.to_vec(), |own| own))
    }
}

impl std::fmt::Debug for Numbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Frame {
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

    pub(super) fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|_| {
            Error::data(
                &self.path,
                format!("no column \"{name}\" in the loaded data"),
            )
        })
    }

    /// A column polars cannot hand over as asked, with polars' error as the cause.
    pub(super) fn err(&self, name: &str, e: PolarsError) -> Error {
        Error::data(
            &self.path,
            format!("column \"{name}\": cannot read its values"),
        )
        .with_cause(e)
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

    /// Take column `name` out of the frame (nothing when it has none): its memory is
    /// freed once nothing else holds it.
    pub fn drop_column(&mut self, name: &str) {
        // No such column: nothing to drop.
        let _ = self.df.drop_in_place(name);
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
                self.text_numbers(name, ca)?
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
        self.check_finite(name, s.dtype().is_primitive_numeric(), &nums)?;
        Ok(nums)
    }

    /// A text column as numbers (see [`Frame::numeric`]): missing-value words are None,
    /// yes/no words 1/0 unless the column also holds other numbers. The rows are read in
    /// parts of [`TEXT_PART`] rows on all cores (a decimal-comma export of 10^6 rows
    /// and 10 columns spent 0.8 s here on one core); each part stops at its first bad
    /// value, and the first bad value of the column is the one reported, so the result
    /// and every message are those of reading the rows in order.
    fn text_numbers(&self, name: &str, ca: &StringChunked) -> Result<Numbers> {
        let n = ca.len();
        // The values are written in place (a missing one as 0, under the mask, as
        // polars holds it), so that a column is not also held as options.
        let mut values = vec![0.0; n];
        let mut parts: Vec<TextPart> = values
            .par_chunks_mut(TEXT_PART)
            .enumerate()
            .map(|(k, out)| {
                let at = k * TEXT_PART;
                self.text_part(name, &ca.slice(at as i64, out.len()), at, out)
            })
            .collect();
        let mut word: Option<(usize, String)> = None;
        let mut other: Option<(usize, String)> = None;
        for part in &mut parts {
            if let Some(e) = part.error.take() {
                return Err(e);
            }
            word = word.or_else(|| part.word.take());
            other = other.or_else(|| part.other.take());
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
        let missing = parts.iter().flat_map(|p| p.missing.iter().copied());
        Ok(Numbers::from_chunked(masked(values, missing)))
    }

    /// [`Self::text_numbers`] of the rows `first..` in `ca`, up to the first bad value,
    /// into `out` (one place per row of `ca`).
    fn text_part(&self, name: &str, ca: &StringChunked, first: usize, out: &mut [f64]) -> TextPart {
        let mut part = TextPart {
            missing: Vec::new(),
            word: None,
            other: None,
            error: None,
        };
        for ((r, x), o) in ca.iter().enumerate().zip(out) {
            let i = first + r;
            let t = match x.map(rules::trim) {
                Some(t) if !self.rules.is_na(t) => t,
                _ => {
                    part.missing.push(i);
                    continue;
                }
            };
            if self.rules.ambiguous && rules::style(t) == Style::Grouped {
                part.error = Some(self.ambiguous_grouping(name, i, t));
                return part;
            }
            match self.rules.number(t) {
                Ok(x) => {
                    if x != 0.0 && x != 1.0 && part.other.is_none() {
                        part.other = Some((i, t.to_string()));
                    }
                    if !x.is_finite() {
                        part.error = Some(Error::data(
                            &self.path,
                            format!(
                                "column \"{name}\", {}: \"{}\" is infinite or not a number; fix or remove it",
                                self.row_ref(i),
                                t.chars().take(60).collect::<String>()
                            ),
                        ));
                        return part;
                    }
                    *o = x;
                }
                Err(why) => match rules::yes_no(t) {
                    Some(x) => {
                        if part.word.is_none() {
                            part.word = Some((i, t.to_string()));
                        }
                        *o = x;
                    }
                    None => {
                        part.error = Some(self.not_a_number(name, i, t, why));
                        return part;
                    }
                },
            }
        }
        part
    }

    /// An error naming the first row whose value is infinite or not a number, unless the
    /// frame's numeric columns are known to be finite and this is one (`numeric_dtype`).
    fn check_finite(&self, name: &str, numeric_dtype: bool, nums: &Numbers) -> Result<()> {
        // Known to be finite, or checked in blocks without a branch per value first
        // (most columns are clean).
        let known = self.finite && numeric_dtype;
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
        Ok(())
    }

    /// A number written with dots that could group thousands or mark the decimals, in a
    /// file whose decimal mark is not known.
    fn ambiguous_grouping(&self, name: &str, i: usize, t: &str) -> Error {
        Error::data(
            &self.path,
            format!(
                "column \"{name}\", {}: \"{t}\" could be {} (decimal point) or {} (a dot between thousands, with decimal commas); say which with --decimal-comma=false or --decimal-comma (config: data.decimal_comma)",
                self.row_ref(i),
                rules::parse_number(t, false).unwrap_or(f64::NAN),
                rules::parse_number(t, true)
                    .map(fmt_number)
                    .unwrap_or_default()
            ),
        )
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

    /// Keep the rows whose `column` (as text) is one of `values`.
    pub fn filter_values(self, column: &str, values: &[String]) -> Result<Self> {
        let f = self.factor(column)?;
        let wanted: Vec<bool> = f
            .levels
            .iter()
            .map(|l| values.iter().any(|v| v == l))
            .collect();
        let keep: Vec<bool> = f
            .codes
            .iter()
            .map(|c| c.is_some_and(|c| wanted[c as usize]))
            .collect();
        let mask: BooleanChunked = keep.iter().copied().collect();
        let df = self
            .df
            .filter(&mask)
            .map_err(|e| Error::data(&self.path, "cannot filter rows").with_cause(e))?;
        let rows = self.rows.map(|r| r.filter(&keep));
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

/// "2024-01-31", "31-01-2024", "31/1/2024" and the like.
fn is_date(t: &str) -> bool {
    let parts: Vec<&str> = t.split(['-', '/', ' ']).filter(|p| !p.is_empty()).collect();
    parts.len() >= 3
        && parts[..3]
            .iter()
            .all(|p| p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values leave a column without a copy only when nothing else holds them and
    /// none is missing; otherwise the column comes back unchanged.
    #[test]
    fn values_are_taken_without_a_copy_only_from_an_unshared_complete_column() {
        let v = vec![1.5, -2.0, 3.25];
        let at = v.as_ptr();
        let taken = Numbers::from_values(v).try_into_values().unwrap();
        assert_eq!(
            (taken.as_ptr(), taken.as_slice()),
            (at, &[1.5, -2.0, 3.25][..])
        );

        let col = Numbers::from_values(vec![4.0, 5.0]);
        let other = col.clone();
        let back = col.try_into_values().unwrap_err();
        assert_eq!(back.to_vec(), [Some(4.0), Some(5.0)]);
        drop((back, other));

        let gaps = Numbers::from_options(&[Some(1.0), None]);
        assert_eq!(
            gaps.try_into_values().unwrap_err().to_vec(),
            [Some(1.0), None]
        );
        assert!(
            Numbers::from_values(Vec::new())
                .try_into_values()
                .unwrap()
                .is_empty()
        );
    }

    fn frame(values: Vec<Option<String>>) -> Frame {
        let df = DataFrame::new_infer_height(vec![Column::new("x".into(), values)]).unwrap();
        Frame::from_frame(df, Path::new("t.csv"))
    }

    /// A text column of several parts reads as in one pass: the numbers, the missing
    /// values, and the first bad value of the column (not of a later part) in the
    /// message; yes/no words in one part and other numbers in another are found.
    #[test]
    fn text_columns_read_in_parts_as_in_one_pass() {
        let n = 3 * TEXT_PART + 17;
        let text = |i: usize| match i % 7 {
            0 => None,
            1 => Some(" NA ".to_string()),
            _ => Some(format!(" {}.25", i % 1000)),
        };
        let nums = frame((0..n).map(text).collect()).numeric("x").unwrap();
        assert_eq!(nums.len(), n);
        for (i, v) in nums.iter().enumerate() {
            let want = text(i)
                .filter(|t| t.trim() != "NA")
                .map(|t| t.trim().parse::<f64>().unwrap());
            assert_eq!(v, want, "row {i}");
        }
        // The error of the column with some rows' text replaced.
        let error_with = |edits: &[(usize, &str)]| {
            let cell = |i: usize| match edits.iter().find(|e| e.0 == i) {
                Some(e) => Some(e.1.to_string()),
                None => text(i),
            };
            frame((0..n).map(cell).collect())
                .numeric("x")
                .unwrap_err()
                .to_string()
        };
        // Bad values in the second and fourth parts: the first is named.
        let e = error_with(&[(TEXT_PART + 5, "abc"), (3 * TEXT_PART + 2, "xyz")]);
        assert!(
            e.contains(&format!("data row {}", TEXT_PART + 6)) && e.contains("\"abc\""),
            "{e}"
        );
        // A yes/no word in the third part, other numbers from the first.
        let e = error_with(&[(2 * TEXT_PART + 3, "ja")]);
        assert!(
            e.contains("mixes yes/no words (\"ja\"")
                && e.contains(&format!("data row {}", 2 * TEXT_PART + 4))
                && e.contains("(\"2.25\", data row 3)"),
            "{e}"
        );
    }
}
