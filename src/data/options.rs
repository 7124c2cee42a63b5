//! Read options: what the loader cannot always detect by itself (the field separator,
//! decimal commas, the text encoding, extra missing-value markers, the worksheet).
//!
//! They come from the `[data]` table of a pilot config and from the command line
//! (`--delimiter`, `--decimal-comma`, `--encoding`, `--na`, `--sheet`); a flag overrides
//! the config. Anything left unset is detected, and what was detected is reported as an
//! assumption.

use serde::Serialize;

use crate::error::{Error, Result};

/// How to read a data file. `None` means "detect".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReadOptions {
    /// Field separator of a text file (an ASCII character).
    pub delimiter: Option<char>,
    /// `Some(true)`: numbers use a decimal comma (`12,5`, thousands `1.234,5`);
    /// `Some(false)`: a decimal point.
    pub decimal_comma: Option<bool>,
    /// Encoding of a text file, by its canonical name (e.g. `windows-1252`).
    pub encoding: Option<String>,
    /// Values that mean "missing" besides the built-in markers ([`super::NA_STRINGS`]).
    pub na: Vec<String>,
    /// Worksheet of a spreadsheet (default: the first).
    pub sheet: Option<String>,
}

/// Allowed separators, for messages.
pub const DELIMITER_ALLOWED: &str =
    "\",\", \";\", \"tab\", \"|\" or another single punctuation character (not a quote)";
/// Allowed encodings, for messages.
pub const ENCODING_ALLOWED: &str =
    "auto, utf-8, latin1 (= windows-1252), utf-16le, utf-16be, or another WHATWG encoding label";

/// A separator from its spelling: `;`, `,`, `|`, `tab` or `\t`, or any other single ASCII
/// punctuation character or a space. Quotes, letters, digits and line breaks are refused.
pub fn parse_delimiter(s: &str) -> std::result::Result<char, String> {
    let c = match s {
        "tab" | "TAB" | "\\t" | "\t" => '\t',
        "space" => ' ',
        "comma" => ',',
        "semicolon" => ';',
        "pipe" => '|',
        _ => {
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(format!(
                        "\"{s}\" is not one character; allowed values: {DELIMITER_ALLOWED}"
                    ));
                }
            }
        }
    };
    if !c.is_ascii() || c.is_ascii_alphanumeric() || matches!(c, '"' | '\n' | '\r' | '.') {
        return Err(format!(
            "{} cannot separate fields; allowed values: {DELIMITER_ALLOWED}",
            describe_delimiter(c)
        ));
    }
    Ok(c)
}

/// The encoding a label names (`None` for `auto`), or a message listing the choices.
pub fn parse_encoding(
    s: &str,
) -> std::result::Result<Option<&'static encoding_rs::Encoding>, String> {
    let l = s.trim().to_ascii_lowercase();
    if l == "auto" {
        return Ok(None);
    }
    let alias = match l.as_str() {
        "latin-1" | "latin_1" | "iso8859-1" | "iso88591" | "ansi" | "cp-1252" | "windows1252" => {
            "windows-1252"
        }
        "utf16" | "utf16le" | "utf-16-le" => "utf-16le",
        "utf16be" | "utf-16-be" => "utf-16be",
        "utf_8" => "utf-8",
        other => other,
    };
    match encoding_rs::Encoding::for_label_no_replacement(alias.as_bytes()) {
        Some(e) => Ok(Some(e)),
        None => Err(format!(
            "\"{s}\" is not an encoding this tool knows; allowed values: {ENCODING_ALLOWED}"
        )),
    }
}

/// A separator as people name it in messages.
pub fn describe_delimiter(c: char) -> String {
    match c {
        '\t' => "tab".to_string(),
        ' ' => "space".to_string(),
        c => format!("'{c}'"),
    }
}

impl ReadOptions {
    /// Options from their spellings (config keys or flags). The error names the key
    /// (`delimiter`, `encoding`, `na`, `sheet`) and says what is allowed.
    pub fn from_parts(
        delimiter: Option<&str>,
        decimal_comma: Option<bool>,
        encoding: Option<&str>,
        na: &[String],
        sheet: Option<&str>,
    ) -> std::result::Result<Self, (&'static str, String)> {
        let delimiter = delimiter
            .map(parse_delimiter)
            .transpose()
            .map_err(|m| ("delimiter", m))?;
        let encoding = match encoding {
            None => None,
            Some(e) => parse_encoding(e)
                .map_err(|m| ("encoding", m))?
                .map(|e| e.name().to_ascii_lowercase()),
        };
        for v in na {
            if v.contains(['\n', '\r']) {
                return Err((
                    "na",
                    format!(
                        "{v:?} contains a line break; a missing-value marker is one cell's text"
                    ),
                ));
            }
        }
        let mut na_list: Vec<String> = Vec::new();
        for v in na {
            let v = v.trim().to_string();
            if !v.is_empty() && !na_list.contains(&v) {
                na_list.push(v);
            }
        }
        let sheet = match sheet {
            Some(s) if s.trim().is_empty() => {
                return Err((
                    "sheet",
                    "the name is empty; name a worksheet, or leave it out to read the first".into(),
                ));
            }
            s => s.map(str::to_string),
        };
        Ok(Self {
            delimiter,
            decimal_comma,
            encoding,
            na: na_list,
            sheet,
        })
    }

    /// These options with every option set in `over` replacing this one's.
    pub fn overridden_by(&self, over: &ReadOptions) -> ReadOptions {
        ReadOptions {
            delimiter: over.delimiter.or(self.delimiter),
            decimal_comma: over.decimal_comma.or(self.decimal_comma),
            encoding: over.encoding.clone().or_else(|| self.encoding.clone()),
            na: if over.na.is_empty() {
                self.na.clone()
            } else {
                over.na.clone()
            },
            sheet: over.sheet.clone().or_else(|| self.sheet.clone()),
        }
    }

    pub(crate) fn encoding(&self) -> Option<&'static encoding_rs::Encoding> {
        self.encoding
            .as_deref()
            .and_then(|e| encoding_rs::Encoding::for_label_no_replacement(e.as_bytes()))
    }
}

/// The read options of the command line, shared by `pilot` and `compare`.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Input reading")]
pub struct ReadArgs {
    /// Field separator of text files: ',', ';', 'tab', '|', ... (default: detected).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Numbers are written with a decimal comma (12,5; thousands 1.234,5). Use
    /// `--decimal-comma=false` to insist on a decimal point (default: detected).
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub decimal_comma: Option<bool>,
    /// Text encoding: utf-8, latin1, windows-1252, utf-16le, ... (default: detected; a
    /// file that is not valid UTF-8 is read as Windows-1252/Latin-1).
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Extra values that mean "missing", comma-separated (e.g. `--na=-99,999`). Empty
    /// cells, NA, N/A, NULL, NaN, #N/A, "." and "-" always do.
    #[arg(
        long,
        value_name = "VALUES",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub na: Vec<String>,
    /// Worksheet of an Excel or OpenDocument file (default: the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

impl ReadArgs {
    /// The options these flags set (a usage error names the flag).
    pub fn options(&self) -> Result<ReadOptions> {
        ReadOptions::from_parts(
            self.delimiter.as_deref(),
            self.decimal_comma,
            self.encoding.as_deref(),
            &self.na,
            self.sheet.as_deref(),
        )
        .map_err(|(key, m)| Error::usage(format!("--{key}: {m}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_by_name_and_by_character() {
        assert_eq!(parse_delimiter(";"), Ok(';'));
        assert_eq!(parse_delimiter("tab"), Ok('\t'));
        assert_eq!(parse_delimiter("\\t"), Ok('\t'));
        assert_eq!(parse_delimiter("|"), Ok('|'));
        assert!(
            parse_delimiter("\"")
                .unwrap_err()
                .contains("allowed values")
        );
        assert!(
            parse_delimiter(";;")
                .unwrap_err()
                .contains("not one character")
        );
        assert!(parse_delimiter("x").is_err());
        assert!(parse_delimiter("é").is_err());
    }

    #[test]
    fn encodings_by_common_names() {
        let name = |s: &str| parse_encoding(s).unwrap().map(|e| e.name());
        assert_eq!(name("latin1"), Some("windows-1252"));
        assert_eq!(name("Latin-1"), Some("windows-1252"));
        assert_eq!(name("ISO-8859-1"), Some("windows-1252"));
        assert_eq!(name("utf8"), Some("UTF-8"));
        assert_eq!(name("utf-16"), Some("UTF-16LE"));
        assert_eq!(name("auto"), None);
        assert!(
            parse_encoding("klingon")
                .unwrap_err()
                .contains("allowed values")
        );
    }

    #[test]
    fn flags_override_the_config() {
        let cfg =
            ReadOptions::from_parts(Some(";"), Some(true), None, &["-99".into()], None).unwrap();
        let cli = ReadOptions::from_parts(None, Some(false), Some("latin1"), &[], None).unwrap();
        let m = cfg.overridden_by(&cli);
        assert_eq!(m.delimiter, Some(';'));
        assert_eq!(m.decimal_comma, Some(false));
        assert_eq!(m.encoding.as_deref(), Some("windows-1252"));
        assert_eq!(m.na, ["-99"]);
    }
}
