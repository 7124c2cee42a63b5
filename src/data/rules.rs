//! The reading rules: how the text of a cell becomes a value, decided here once for
//! every reader of the data layer (the reader of plain comma files [`super::plain`],
//! polars' CSV reader with inferred types or with every column as text
//! [`super::text`], the workbook reader [`super::sheet`], and the frame built from
//! what they read in [`super::Frame`]). A reader that cannot apply a rule itself
//! declines the file or the batch, and a reader that can does (the tests of
//! `reading_rules` below and of [`super::plain`] read the same files every way).
//!
//! - **Trimming** ([`trim`], [`is_blank`]): values are compared and parsed without the
//!   white space around them; a record whose fields are all blank (ASCII white space)
//!   is no data row.
//! - **Missing values** ([`NA_STRINGS`], [`is_marker`], [`Rules::is_na`]): an empty
//!   cell, one of the built-in markers in any case, or an extra marker (`--na`,
//!   `data.na`) exactly as written. A marker that reads as a number ([`reads_as_number`],
//!   "-99") is missing wherever it occurs, also where a reader parses numbers itself
//!   ([`numeric_markers`]); a number that polars reads as not-a-number ("nan") is a
//!   marker, so that reader gives way to the text rules ([`typed_is_final`]).
//! - **Decimal marks** ([`parse_number`], [`style`], [`DecimalEvidence`],
//!   [`decide_decimal`]): a decimal point unless `--decimal-comma` says otherwise or the
//!   text cells show decimal commas only; "1.500" alone is ambiguous and refused where a
//!   number is needed.
//! - **Leading zeros** ([`padded`]): a column with a whole number written with a leading
//!   zero anywhere ("0363", "007") is text, so that codes keep their zeros and "007" is
//!   not "7"; it still reads as numbers where a number is needed.
//! - **Types** ([`INFER_ROWS`], [`EXACT_INTEGERS`], [`typed_read`], [`plain_read`]):
//!   polars infers the types of a comma file from its first rows when the decimal mark
//!   allows it; a value further down that does not fit makes every column text. Whole
//!   numbers are held as floating point below [`EXACT_INTEGERS`]; a text column is
//!   numeric where it is used as a number, with yes/no words ([`yes_no`]) as 1/0.

use smallvec::SmallVec;

use crate::config::ReadOptions;

/// A value without the white space around it (any Unicode white space).
#[inline]
pub(crate) fn trim(t: &str) -> &str {
    t.trim()
}

/// Whether a field of a record is blank: nothing but ASCII white space. A record of
/// blank fields is not a data row (the structure of a text file is checked on bytes).
#[inline]
pub(crate) fn is_blank(f: &[u8]) -> bool {
    f.iter().all(|b| b.is_ascii_whitespace())
}

/// Rows polars looks at to infer the column types of a comma file.
pub(crate) const INFER_ROWS: usize = 10_000;

/// Largest integer magnitude a column may hold to be kept as 64-bit floating point:
/// below 2^53 every integer is exact, and below 10^15 [`fmt_number`] writes it as the
/// same digits. Integer columns with a larger value stay integers.
pub(crate) const EXACT_INTEGERS: f64 = 1e15;

/// Whether polars may infer the types of the columns (else every column is read as
/// text and the rules here make the numbers): only in comma files, and only when
/// decimal commas are not asked for, unless a first read found a value that does not
/// fit (`as_text`).
pub(crate) fn typed_read(delimiter: u8, opts: &ReadOptions, as_text: bool) -> bool {
    delimiter == b',' && opts.decimal_comma != Some(true) && !as_text
}

/// Whether the reader of plain files may try a file read with `opts`: not with a given
/// encoding, another separator than the comma, decimal commas, or an extra marker that
/// reads as a number (it parses numbers before it looks for markers).
pub(crate) fn plain_read(opts: &ReadOptions) -> bool {
    opts.encoding().is_none()
        && opts.decimal_comma != Some(true)
        && opts.delimiter.is_none_or(|d| d == ',')
        && numeric_markers(&opts.na).next().is_none()
}

/// Whether a (trimmed) text is a whole number written with a leading zero, as codes
/// are ("0363", "-007"): a column with one is read as text.
#[inline]
pub(crate) fn padded(t: &[u8]) -> bool {
    let t = t.trim_ascii();
    let t = t.strip_prefix(b"-").unwrap_or(t);
    t.len() >= 2 && t[0] == b'0' && t.iter().all(u8::is_ascii_digit)
}

/// Whether a text reads as a number to a parser of numbers (polars', or std's).
pub(crate) fn reads_as_number(t: &str) -> bool {
    t.parse::<f64>().is_ok() || t.parse::<i64>().is_ok()
}

/// The extra missing-value markers that read as numbers ("-99", "999"): a reader that
/// parses numbers itself must treat them as missing wherever they occur.
pub(crate) fn numeric_markers(na: &[String]) -> impl Iterator<Item = &str> {
    na.iter().map(String::as_str).filter(|m| reads_as_number(m))
}

/// Whether a column polars read with an inferred type holds what the rules here would
/// make of the same texts. A floating-point column with a not-a-number value does not:
/// "nan" and "NaN" are missing-value markers, which polars read as numbers where they
/// were not among the markers found in the first rows. The file is then read as text.
pub(crate) fn typed_is_final(c: &polars::prelude::Column) -> bool {
    // Slots of missing values count too: a false alarm only costs the text read.
    c.f64().map_or(true, |ca| {
        ca.downcast_iter()
            .all(|a| a.values().iter().fold(true, |ok, x| ok & !x.is_nan()))
    })
}

/// Values that mean "missing" in every file, compared without regard to case, besides
/// an empty cell.
pub const NA_STRINGS: &[&str] = &["NA", "N/A", "NULL", "NaN", "#N/A", ".", "-"];

/// Words read as 1 where a number is needed (case does not matter).
pub const YES_WORDS: &[&str] = &["ja", "j", "yes", "y", "true", "waar"];
/// Words read as 0 where a number is needed (case does not matter).
pub const NO_WORDS: &[&str] = &["nee", "n", "no", "false", "onwaar"];

/// How the cells of one file are read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    pub decimal_comma: bool,
    /// Extra missing-value markers (exact, after trimming).
    pub na: Vec<String>,
    /// The decimal mark was not given and the file only has values such as "1.500"
    /// (1.5, or 1500 with decimal commas): such values are refused as numbers.
    pub ambiguous: bool,
}

/// Why a cell is not a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NotNumber {
    /// Plain text.
    Text,
    /// A decimal comma where a decimal point is expected.
    Comma,
    /// A decimal point where a decimal comma is expected.
    Point,
    /// Commas between thousands, as in `1,234.5`.
    Thousands,
}

/// Whether the text is a missing-value marker: one of [`NA_STRINGS`] (in any case) or
/// one of the `extra` markers (exactly).
pub(crate) fn is_marker(t: &str, extra: &[String]) -> bool {
    NA_STRINGS.iter().any(|m| m.eq_ignore_ascii_case(t)) || extra.iter().any(|m| m == t)
}

impl Rules {
    /// Whether the (trimmed) text marks a missing value.
    pub fn is_na(&self, t: &str) -> bool {
        t.is_empty() || is_marker(t, &self.na)
    }

    /// The number the (trimmed, non-missing) text writes.
    pub fn number(&self, t: &str) -> Result<f64, NotNumber> {
        parse_number(t, self.decimal_comma)
    }
}

/// 1 or 0 for a yes/no word.
pub fn yes_no(t: &str) -> Option<f64> {
    if YES_WORDS.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(1.0)
    } else if NO_WORDS.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(0.0)
    } else {
        None
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

/// `1.234` or `12.345.678`: digit groups of three after a first group of one to three
/// digits that does not start with 0, separated by dots.
fn dot_grouped(s: &str) -> bool {
    let mut parts = s.split('.');
    let first = parts.next().unwrap_or("");
    let mut n = 0;
    for p in parts {
        if p.len() != 3 || !all_digits(p) {
            return false;
        }
        n += 1;
    }
    n > 0 && (1..=3).contains(&first.len()) && all_digits(first) && !first.starts_with('0')
}

/// Parse a number written with a decimal point (`decimal_comma` false) or a decimal comma
/// (true; a dot then separates thousands: `1.234,5`). Exponents are accepted; text that
/// Rust reads as infinity or NaN comes back as such (the caller rejects it).
pub(crate) fn parse_number(t: &str, decimal_comma: bool) -> Result<f64, NotNumber> {
    if has_whitespace(t) {
        return Err(NotNumber::Text);
    }
    if !decimal_comma {
        if t.contains(',') {
            if t.contains('.') && looks_grouped(t, ',') && t.find(',') < t.find('.') {
                return Err(NotNumber::Thousands);
            }
            let looks = t.replace(',', ".").parse::<f64>().is_ok() || looks_grouped(t, ',');
            return Err(if looks {
                NotNumber::Comma
            } else {
                NotNumber::Text
            });
        }
        return t.parse::<f64>().map_err(|_| NotNumber::Text);
    }
    let body = strip_sign(t);
    let sign = &t[..t.len() - body.len()];
    // (The searches for ',' and '.' here and in [`style`] go byte by byte: a search for
    // a `char` pattern calls memcmp per match candidate, a tenth of the reading time of
    // a decimal-comma file.)
    // The text with a decimal point and without the dots that group thousands, written
    // into a buffer on the stack (most numbers fit; longer ones on the heap): this
    // runs once per value of every decimal-comma column.
    let mut buf: SmallVec<[u8; NORMALISED_INLINE]> = SmallVec::new();
    match split_once_byte(body, b',') {
        Some((int, frac)) => {
            if has_byte(frac, b',') {
                return Err(NotNumber::Text);
            }
            if has_byte(int, b'.') && !dot_grouped(int) {
                return Err(NotNumber::Text);
            }
            buf.extend_from_slice(sign.as_bytes());
            push_without_dots(&mut buf, int);
            buf.push(b'.');
            buf.extend_from_slice(frac.as_bytes());
        }
        None if has_byte(body, b'.') => {
            if dot_grouped(body) {
                buf.extend_from_slice(sign.as_bytes());
                push_without_dots(&mut buf, body);
            } else if body.parse::<f64>().is_ok() {
                return Err(NotNumber::Point);
            } else {
                return Err(NotNumber::Text);
            }
        }
        None => buf.extend_from_slice(t.as_bytes()),
    }
    // Whole `&str` pieces and ASCII bytes only: the bytes are UTF-8.
    let normalised = std::str::from_utf8(&buf).map_err(|_| NotNumber::Text)?;
    // Refuse forms such as "1,", ",5e", "1.2,3": the parts must be digits (with an
    // optional exponent after the fraction).
    let (mantissa, _) = split_exponent(normalised);
    let m = strip_sign(mantissa);
    let ok_mantissa = match m.split_once('.') {
        Some((i, f)) => (i.is_empty() || all_digits(i)) && all_digits(f),
        None => {
            all_digits(m) || m.eq_ignore_ascii_case("inf") || m.eq_ignore_ascii_case("infinity")
        }
    };
    if !ok_mantissa {
        return Err(NotNumber::Text);
    }
    normalised.parse::<f64>().map_err(|_| NotNumber::Text)
}

/// `s` split at its first `c`, an ASCII byte (so a character boundary): `split_once`
/// by a plain byte search.
fn split_once_byte(s: &str, c: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == c)?;
    Some((&s[..i], &s[i + 1..]))
}

/// Whether `s` holds the ASCII byte `c`.
fn has_byte(s: &str, c: u8) -> bool {
    s.bytes().any(|b| b == c)
}

/// Whether `t` has a character that `char::is_whitespace` calls white space: for ASCII
/// text by its bytes (tab to carriage return, and space), else by its characters.
fn has_whitespace(t: &str) -> bool {
    if t.is_ascii() {
        t.bytes().any(|b| matches!(b, b'\t'..=b'\r' | b' '))
    } else {
        t.contains(char::is_whitespace)
    }
}

/// Bytes of a normalised number kept on the stack (longer ones spill to the heap).
const NORMALISED_INLINE: usize = 32;

/// `s` without its dots, added to `buf`.
fn push_without_dots(buf: &mut SmallVec<[u8; NORMALISED_INLINE]>, s: &str) {
    buf.extend(s.bytes().filter(|&b| b != b'.'));
}

fn split_exponent(s: &str) -> (&str, &str) {
    match s.find(['e', 'E']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn looks_grouped(t: &str, sep: char) -> bool {
    let b = strip_sign(t);
    let int = b.split('.').next().unwrap_or("");
    let mut parts = int.split(sep);
    let first = parts.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && all_digits(first)
        && parts.all(|p| p.len() == 3 && all_digits(p))
}

/// How a piece of text writes a number, for detecting the decimal mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Style {
    /// `12,5` or `1.234,5`: only readable with a decimal comma.
    Comma,
    /// `12.5`, `0.500`: only readable with a decimal point.
    Point,
    /// `1.500`, `12.345.678`: a decimal point, or thousands with a decimal comma.
    Grouped,
    /// Integers, text, anything else: the same either way.
    Neutral,
}

/// The style of a (trimmed, non-missing) cell.
pub(crate) fn style(t: &str) -> Style {
    let b = strip_sign(t);
    if let Some((int, frac)) = split_once_byte(b, b',') {
        let int_ok = all_digits(int) || dot_grouped(int);
        return if int_ok && all_digits(frac) {
            Style::Comma
        } else {
            Style::Neutral
        };
    }
    if dot_grouped(b) {
        return Style::Grouped;
    }
    match split_once_byte(b, b'.') {
        Some((int, frac)) if (int.is_empty() || all_digits(int)) && all_digits(frac) => {
            Style::Point
        }
        _ => Style::Neutral,
    }
}

/// "3.0" → "3" (and "3,0" with decimal commas), so that a column of whole numbers
/// written as decimals matches labels such as arm "1".
pub(crate) fn whole_number_text(t: &str, decimal_comma: bool) -> String {
    let mark = if decimal_comma { ',' } else { '.' };
    if let Some((int, frac)) = t.split_once(mark) {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let int_body = int.strip_prefix('-').unwrap_or(int);
        if digits(int_body) && digits(frac) && frac.bytes().all(|b| b == b'0') {
            return int.to_string();
        }
    }
    t.to_string()
}

/// Evidence for the decimal mark in the text cells: the first cell only readable with a
/// decimal comma, the first only readable with a decimal point, and the first that is
/// either ("1.500"), as (column, row, text).
pub(crate) type Evidence = Option<(usize, usize, String)>;

#[derive(Default)]
pub(crate) struct DecimalEvidence {
    pub comma: Evidence,
    pub point: Evidence,
    pub grouped: Evidence,
}

impl DecimalEvidence {
    /// Take in one (trimmed, non-missing) text cell; true once both kinds are seen.
    pub fn see(&mut self, col: usize, row: usize, s: &str) -> bool {
        let slot = match style(s) {
            Style::Comma => &mut self.comma,
            Style::Point => &mut self.point,
            Style::Grouped => &mut self.grouped,
            Style::Neutral => return false,
        };
        if slot.is_none() {
            *slot = Some((col, row, s.to_string()));
        }
        self.comma.is_some() && self.point.is_some()
    }
}

/// The decimal mark: as given, or from the evidence, with a note on what was assumed.
/// Returns (decimal comma, ambiguous).
pub(crate) fn decide_decimal(
    opts: &ReadOptions,
    ev: &DecimalEvidence,
    delimiter: Option<u8>,
    example: impl Fn(&(usize, usize, String)) -> String,
    assumptions: &mut Vec<String>,
) -> (bool, bool) {
    if let Some(b) = opts.decimal_comma {
        return (b, false);
    }
    match (&ev.comma, &ev.point) {
        (Some(c), None) => {
            assumptions.push(format!("decimal comma detected (e.g. {})", example(c)));
            (true, false)
        }
        (Some(c), Some(p)) => {
            // Both kinds: follow the separator's convention (decimal commas go with ';'
            // and tabs); values of the other kind are refused where a number is needed,
            // so nothing is read wrongly.
            let comma_mode = delimiter.is_some_and(|d| d != b',');
            assumptions.push(format!(
                "numbers are written both with a decimal comma ({}) and with a decimal point ({}); {} assumed, the others are refused where a number is needed (--decimal-comma or --decimal-comma=false settles it)",
                example(c),
                example(p),
                if comma_mode { "decimal comma" } else { "decimal point" }
            ));
            (comma_mode, false)
        }
        // "1.500" alone: 1.5 or 1500? Refused where a number is needed.
        (None, None) if ev.grouped.is_some() && delimiter != Some(b',') => (false, true),
        _ => (false, false),
    }
}

/// Format a number as a label: integers without decimals.
pub fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < EXACT_INTEGERS {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers longer than the stack buffer are normalised in a String, with the same
    /// result; the white-space test by bytes agrees with `char::is_whitespace`.
    #[test]
    fn long_decimal_comma_numbers_and_white_space() {
        let long = "-1.234.567.890.123.456.789,12345678901234567890123";
        assert!(long.len() > NORMALISED_INLINE);
        assert_eq!(
            parse_number(long, true),
            Ok("-1234567890123456789.12345678901234567890123"
                .parse::<f64>()
                .unwrap())
        );
        assert_eq!(
            parse_number("12345678901234567890123456789012345,5", true),
            Ok(12345678901234567890123456789012345.5)
        );
        assert_eq!(parse_number("1.23.4,5", true), Err(NotNumber::Text));
        for c in (0u8..128)
            .map(char::from)
            .chain(['\u{a0}', '\u{2003}', 'é'])
        {
            let t = format!("1{c}5");
            assert_eq!(has_whitespace(&t), c.is_whitespace(), "{:?}", c);
        }
    }

    #[test]
    fn decimal_point_numbers() {
        assert_eq!(parse_number("12.5", false), Ok(12.5));
        assert_eq!(parse_number("-3", false), Ok(-3.0));
        assert_eq!(parse_number("1e3", false), Ok(1000.0));
        assert_eq!(parse_number("12,5", false), Err(NotNumber::Comma));
        assert_eq!(parse_number("1,234", false), Err(NotNumber::Comma));
        assert_eq!(parse_number("1,234.5", false), Err(NotNumber::Thousands));
        assert_eq!(parse_number("abc", false), Err(NotNumber::Text));
        assert_eq!(parse_number("1 000", false), Err(NotNumber::Text));
        assert!(parse_number("inf", false).unwrap().is_infinite());
    }

    #[test]
    fn decimal_comma_numbers() {
        assert_eq!(parse_number("12,5", true), Ok(12.5));
        assert_eq!(parse_number("-0,25", true), Ok(-0.25));
        assert_eq!(parse_number("1.234,5", true), Ok(1234.5));
        assert_eq!(parse_number("1.234.567", true), Ok(1234567.0));
        assert_eq!(parse_number("1.500", true), Ok(1500.0));
        assert_eq!(parse_number("7", true), Ok(7.0));
        assert_eq!(parse_number("1,5E-03", true), Ok(0.0015));
        assert_eq!(parse_number("12.5", true), Err(NotNumber::Point));
        assert_eq!(parse_number("12.34,5", true), Err(NotNumber::Text));
        assert_eq!(parse_number("1,2,3", true), Err(NotNumber::Text));
        assert_eq!(parse_number("1,", true), Err(NotNumber::Text));
        assert_eq!(parse_number(",", true), Err(NotNumber::Text));
    }

    #[test]
    fn styles_for_detection() {
        assert_eq!(style("12,5"), Style::Comma);
        assert_eq!(style("1.234,50"), Style::Comma);
        assert_eq!(style("12.5"), Style::Point);
        assert_eq!(style("0.500"), Style::Point);
        assert_eq!(style("1.500"), Style::Grouped);
        assert_eq!(style("-12"), Style::Neutral);
        assert_eq!(style("Amsterdam, Noord"), Style::Neutral);
    }

    #[test]
    fn missing_markers_and_yes_no() {
        let r = Rules {
            decimal_comma: false,
            na: vec!["-99".into()],
            ambiguous: false,
        };
        for t in [
            "", "NA", "na", "N/A", "NULL", "null", ".", "-", "#N/A", "nan", "-99",
        ] {
            assert!(r.is_na(t), "{t}");
        }
        assert!(!r.is_na("-5"));
        assert_eq!(yes_no("Ja"), Some(1.0));
        assert_eq!(yes_no("ONWAAR"), Some(0.0));
        assert_eq!(yes_no("maybe"), None);
    }

    #[test]
    fn whole_numbers_lose_their_zero_decimals() {
        assert_eq!(whole_number_text("1.0", false), "1");
        assert_eq!(whole_number_text("-2.00", false), "-2");
        assert_eq!(whole_number_text("1.5", false), "1.5");
        assert_eq!(whole_number_text("1,0", true), "1");
        assert_eq!(whole_number_text("v1.0", false), "v1.0");
    }
}
