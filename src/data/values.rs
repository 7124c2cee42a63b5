//! Cell values as people write them: missing-value markers, numbers with a decimal
//! point or a decimal comma (with thousands separators), and yes/no words.

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
    if t.contains(char::is_whitespace) {
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
    let normalised = match body.split_once(',') {
        Some((int, frac)) => {
            if frac.contains(',') {
                return Err(NotNumber::Text);
            }
            let int = if int.contains('.') {
                if !dot_grouped(int) {
                    return Err(NotNumber::Text);
                }
                int.replace('.', "")
            } else {
                int.to_string()
            };
            format!("{sign}{int}.{frac}")
        }
        None if body.contains('.') => {
            if dot_grouped(body) {
                format!("{sign}{}", body.replace('.', ""))
            } else if body.parse::<f64>().is_ok() {
                return Err(NotNumber::Point);
            } else {
                return Err(NotNumber::Text);
            }
        }
        None => t.to_string(),
    };
    // Refuse forms such as "1,", ",5e", "1.2,3": the parts must be digits (with an
    // optional exponent after the fraction).
    let (mantissa, _) = split_exponent(&normalised);
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
    if let Some((int, frac)) = b.split_once(',') {
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
    match b.split_once('.') {
        Some((int, frac)) if (int.is_empty() || all_digits(int)) && all_digits(frac) => {
            Style::Point
        }
        _ => Style::Neutral,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
