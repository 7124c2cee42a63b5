//! Read options: what the loader cannot always detect by itself (the field separator,
//! decimal commas, the text encoding, extra missing-value markers, the worksheet), and
//! the kind of a data file by its name.
//!
//! They come from the `[data]` table of a pilot config and from the command line
//! (`--delimiter`, `--decimal-comma`, `--encoding`, `--na`, `--sheet`, parsed in
//! `cli::read_args`); a flag overrides the config. Anything left unset is detected, and
//! what was detected is reported as an assumption. The data layer reads files with
//! these options; this module needs nothing from it.

use serde::Serialize;
use std::path::Path;

/// File name extensions read as delimited text.
pub const TEXT_EXTENSIONS: &[&str] = &["csv", "tsv", "tab", "txt", "dat"];
/// File name extensions read as workbooks.
pub const SHEET_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "xlsb", "ods"];
/// File name extensions read as Parquet.
pub const PARQUET_EXTENSIONS: &[&str] = &["parquet", "pq"];

/// The kind of file a name stands for, by its extension (case does not matter). The
/// config checks which read options fit a file with it; the data layer picks the
/// reader with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Text,
    Sheet,
    Parquet,
}

impl FileKind {
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        if TEXT_EXTENSIONS.contains(&ext.as_str()) {
            Some(Self::Text)
        } else if SHEET_EXTENSIONS.contains(&ext.as_str()) {
            Some(Self::Sheet)
        } else if PARQUET_EXTENSIONS.contains(&ext.as_str()) {
            Some(Self::Parquet)
        } else {
            None
        }
    }

    /// The extensions allowed, for messages.
    pub fn allowed() -> String {
        [TEXT_EXTENSIONS, SHEET_EXTENSIONS, PARQUET_EXTENSIONS]
            .concat()
            .iter()
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

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
    /// Values that mean "missing" besides the built-in markers (`data::NA_STRINGS`).
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
