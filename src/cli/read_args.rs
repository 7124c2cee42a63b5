//! The read options of the command line (`--delimiter`, `--decimal-comma`, `--encoding`,
//! `--na`, `--sheet`), shared by `pilot` and `compare`; they become a validated
//! [`ReadOptions`].

use crate::config::ReadOptions;
use crate::error::{Error, Result};

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
