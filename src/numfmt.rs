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

/// [`fmt_value`] with a plus sign before a positive value whose digits show it: a value
/// that rounds to zero ("0.000") gets no sign, as in [`signed_number`].
pub fn signed_value(x: f64) -> String {
    with_plus(x, fmt_value(x))
}

/// `shown`, the text of `v`, with a plus sign before it when `v` is positive and the
/// text shows a digit other than 0: the one rule of [`signed_value`] and
/// [`signed_number`].
fn with_plus(v: f64, shown: String) -> String {
    if v > 0.0 && shown.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{shown}")
    } else {
        shown
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

/// A p-value after "p", localised: "p = 0.004" or "p < 0.001" ("p = 0,004" in
/// Dutch); the wording of the findings and of the report.
pub fn p_words(p: f64, lang: Lang) -> String {
    let s = localise(&fmt_p(p), lang);
    if s.starts_with('<') {
        format!("p {s}")
    } else {
        format!("p = {s}")
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

/// A signed difference as readers in `lang` write it ("+0,12", "−0,35"): as
/// [`format_number`], with a plus sign before a positive value. A value that rounds to
/// zero at `decimals` gets no sign ("0,00"): a difference of zero to the digits shown
/// does not read as a direction (a balanced covariate after entropy balancing is
/// about 1e-12 off, on either side by rounding).
pub fn signed_number(v: f64, decimals: usize, lang: Lang) -> String {
    with_plus(v, format_number(v, decimals, lang))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_words_follow_p_in_both_languages() {
        assert_eq!(p_words(0.0042, Lang::En), "p = 0.004");
        assert_eq!(p_words(0.0042, Lang::Nl), "p = 0,004");
        assert_eq!(p_words(0.0004, Lang::En), "p < 0.001");
        assert_eq!(p_words(0.0004, Lang::Nl), "p < 0,001");
        assert_eq!(p_words(f64::NAN, Lang::En), "p = –");
    }

    #[test]
    fn signed_numbers_show_a_direction_only_when_the_digits_do() {
        assert_eq!(signed_number(0.123, 2, Lang::Nl), "+0,12");
        assert_eq!(signed_number(-0.351, 2, Lang::Nl), "\u{2212}0,35");
        assert_eq!(signed_number(0.59, 2, Lang::En), "+0.59");
        // Zero to the digits shown: no sign, whichever side of zero.
        for v in [0.0, -0.0, 1e-12, -1e-12, 0.004, -0.004] {
            assert_eq!(signed_number(v, 2, Lang::Nl), "0,00", "{v}");
            assert_eq!(signed_number(v, 2, Lang::En), "0.00", "{v}");
        }
        assert_eq!(signed_number(0.005001, 2, Lang::En), "+0.01");
        assert_eq!(signed_number(1234.5, 1, Lang::En), "+1,234.5");
    }

    #[test]
    fn signed_values_show_a_direction_only_when_the_digits_do() {
        assert_eq!(signed_value(0.123), "+0.12");
        assert_eq!(signed_value(0.0123), "+0.012");
        assert_eq!(signed_value(-0.0123), "-0.012");
        for v in [0.0, -0.0] {
            assert_eq!(signed_value(v), "0.00", "{v}");
        }
        for v in [1e-12, -1e-12, 0.0004, -0.0004] {
            assert_eq!(signed_value(v), "0.000", "{v}");
        }
    }
}
