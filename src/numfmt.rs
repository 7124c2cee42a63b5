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
