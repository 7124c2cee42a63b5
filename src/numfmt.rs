//! Numbers for people: about three significant digits, p-values, and the decimal
//! comma in Dutch. Shared by the renderers and by the plain-language findings that
//! the analysis writes into the results ([`crate::analysis::findings`]), so a number
//! reads the same in the summary sentence and in the tables.

use crate::config::Lang;

/// Format a value for people: about three significant digits, at most 2 decimals
/// for values above 1.
pub fn fmt_value(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    let s = if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.1 || a == 0.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    };
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A p-value for people: "< 0.001" or three decimals.
pub fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// Localise the decimal separator (Dutch uses a comma).
pub fn localise(s: &str, lang: Lang) -> String {
    match lang {
        Lang::Nl => s.replace('.', ","),
        Lang::En => s.to_string(),
    }
}

/// A number as readers in `lang` write it: decimal comma and dot grouping in Dutch,
/// decimal point and comma grouping in English, a true minus sign, and no "−0".
pub fn format_number(v: f64, decimals: usize, lang: Lang) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let (group, point) = match lang {
        Lang::Nl => ('.', ','),
        Lang::En => (',', '.'),
    };
    let plain = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain.as_str(), None),
    };
    let mut out = String::new();
    if v < 0.0 && plain.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('\u{2212}');
    }
    let digits: Vec<char> = int.chars().collect();
    for (i, d) in digits.iter().enumerate() {
        if digits.len() >= 4 && i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(*d);
    }
    if let Some(f) = frac {
        out.push(point);
        out.push_str(f);
    }
    out
}

/// A number such as a time horizon: without decimals when it is whole ("24"), else as
/// [`fmt_value`], with the Dutch decimal comma.
pub fn fmt_whole_or_value(x: f64, lang: Lang) -> String {
    if x.fract() == 0.0 && x.abs() < 1e9 {
        format!("{x:.0}")
    } else {
        localise(&fmt_value(x), lang)
    }
}
