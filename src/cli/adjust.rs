//! `via-eval adjust --method holm|bonferroni|bh [FILE]`: adjust a list of p-values for
//! multiple testing, outside a pilot, exactly as R `p.adjust`.
//!
//! Input (FILE, or standard input when FILE is absent or `-`), one of:
//! - one p-value per line (blank lines are skipped);
//! - a CSV file with a header line: the column `p_value`, or the one named with
//!   `--column`, or the only column when there is just one.
//!
//! `NA`, `NaN` and (in a CSV) an empty field are missing: passed through as missing and
//! not counted among the tests, as R's `p.adjust` does. Anything else that is not a
//! number in [0, 1] is an error naming its line. The output lists, per p-value, its
//! input line, the p-value and the adjusted p-value, as a table, CSV or JSON.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::Format;
use crate::error::{Error, Result, did_you_mean};
use crate::report::tables::render;
use crate::stats::multiplicity::{self, Adjustment};

/// Examples at the end of `via-eval adjust --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval adjust --method holm p-values.txt           # one p-value per line
  printf '0.01\\n0.04\\n0.03\\n' | via-eval adjust --method bh
  via-eval adjust --method bonferroni out/leren-en-werken/results.csv --column p_value --format csv";

#[derive(clap::Args, Debug)]
pub struct AdjustArgs {
    /// File of p-values: one per line, or a CSV file with a header. Standard input when
    /// absent or `-`.
    pub file: Option<PathBuf>,
    /// Adjustment: holm, bonferroni or bh (Benjamini-Hochberg); `none` copies.
    #[arg(long, value_enum)]
    pub method: super::choices::AdjustmentArg,
    /// CSV column that holds the p-values (default: `p_value`, or the only column).
    #[arg(long)]
    pub column: Option<String>,
    /// Output format (to standard output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// One input p-value with the line it came from (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AdjustedValue {
    pub line: usize,
    /// `None` when missing.
    pub p_value: Option<f64>,
    pub adjusted: Option<f64>,
}

/// The whole output, as written with `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustOutput {
    /// `holm`, `bonferroni`, `bh` or `none`.
    pub method: Adjustment,
    /// Number of non-missing p-values: the number of tests adjusted for.
    pub n_tests: usize,
    pub n_missing: usize,
    pub values: Vec<AdjustedValue>,
}

/// Split one CSV line into fields, honouring double quotes ("" inside quotes is ").
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    fields.push(cur);
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

fn is_missing(s: &str) -> bool {
    matches!(s, "NA" | "na" | "NaN" | "nan" | "NAN")
}

/// Parse one p-value; `Ok(None)` for a missing value.
fn parse_p(text: &str, line: usize, source: &Path, csv: bool) -> Result<Option<f64>> {
    if is_missing(text) || (csv && text.is_empty()) {
        return Ok(None);
    }
    let v: f64 = text.parse().map_err(|_| {
        Error::data(
            source,
            format!("line {line}: \"{text}\" is not a number (a p-value between 0 and 1, or NA)"),
        )
    })?;
    if !(0.0..=1.0).contains(&v) {
        return Err(Error::data(
            source,
            format!("line {line}: p-value {text} is outside [0, 1]"),
        ));
    }
    Ok(Some(v))
}

/// Read the p-values of `text` (the contents of `source`) with the line of each.
pub fn read_p_values(
    text: &str,
    column: Option<&str>,
    source: &Path,
) -> Result<Vec<(usize, Option<f64>)>> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let Some(&(first_no, first)) = lines.first() else {
        return Err(Error::data(source, "no p-values found: the input is empty"));
    };
    let first_is_value = {
        let f = csv_fields(first);
        f.len() == 1 && (is_missing(&f[0]) || f[0].parse::<f64>().is_ok())
    };
    if column.is_none() && first_is_value {
        // One p-value per line.
        return lines
            .iter()
            .map(|&(no, l)| Ok((no, parse_p(l, no, source, false)?)))
            .collect();
    }
    let header = csv_fields(first);
    let idx = match column {
        Some(c) => header.iter().position(|h| h == c),
        None if header.len() == 1 => Some(0),
        None => header.iter().position(|h| h == "p_value"),
    };
    let Some(idx) = idx else {
        let want = column.unwrap_or("p_value");
        let hint = did_you_mean(want, header.iter().map(String::as_str));
        return Err(Error::data(
            source,
            format!(
                "line {first_no}: the header has no column \"{want}\".{hint} Columns: {}. Name the column with --column.",
                header.join(", ")
            ),
        ));
    };
    lines[1..]
        .iter()
        .map(|&(no, l)| {
            let f = csv_fields(l);
            let cell = f.get(idx).ok_or_else(|| {
                Error::data(
                    source,
                    format!(
                        "line {no}: {} fields, but column \"{}\" is field {}",
                        f.len(),
                        header[idx],
                        idx + 1
                    ),
                )
            })?;
            Ok((no, parse_p(cell, no, source, true)?))
        })
        .collect()
}

/// Adjust the p-values read from `text`.
pub fn adjust_text(
    text: &str,
    column: Option<&str>,
    method: Adjustment,
    source: &Path,
) -> Result<AdjustOutput> {
    let read = read_p_values(text, column, source)?;
    if read.is_empty() {
        return Err(Error::data(source, "no p-values found below the header"));
    }
    let p: Vec<f64> = read.iter().map(|(_, v)| v.unwrap_or(f64::NAN)).collect();
    let adj = multiplicity::adjust(&p, method);
    let n_missing = read.iter().filter(|(_, v)| v.is_none()).count();
    Ok(AdjustOutput {
        method,
        n_tests: read.len() - n_missing,
        n_missing,
        values: read
            .iter()
            .zip(adj)
            .map(|(&(line, p), a)| AdjustedValue {
                line,
                p_value: p,
                adjusted: p.map(|_| a),
            })
            .collect(),
    })
}

fn human(v: Option<f64>) -> String {
    match v {
        None => "NA".into(),
        Some(0.0) => "0".into(),
        Some(x) if x < 1e-4 => format!("{x:.3e}"),
        Some(x) => format!("{x:.6}"),
    }
}

fn full(v: Option<f64>) -> String {
    v.map_or_else(|| "NA".into(), |x| x.to_string())
}

/// The output text in `format`.
pub fn render_output(out: &AdjustOutput, format: Format) -> Result<String> {
    Ok(match format {
        Format::Table => {
            let mut rows = vec![vec![
                "line".to_string(),
                "p_value".to_string(),
                "adjusted".to_string(),
            ]];
            rows.extend(
                out.values
                    .iter()
                    .map(|v| vec![v.line.to_string(), human(v.p_value), human(v.adjusted)]),
            );
            let missing = if out.n_missing > 0 {
                format!("; {} missing, not counted", out.n_missing)
            } else {
                String::new()
            };
            format!(
                "{} adjustment of {} p-values{missing}\n{}",
                out.method.label(),
                out.n_tests,
                render(&rows)
            )
        }
        Format::Csv => {
            let mut s = String::from("line,p_value,adjusted\n");
            for v in &out.values {
                s.push_str(&format!(
                    "{},{},{}\n",
                    v.line,
                    full(v.p_value),
                    full(v.adjusted)
                ));
            }
            s
        }
        Format::Json => super::json_text(out)?,
    })
}

/// Run `via-eval adjust`.
pub fn run(args: &AdjustArgs) -> Result<()> {
    let (text, source) = match &args.file {
        Some(p) if p.as_os_str() != "-" => (
            std::fs::read_to_string(p).map_err(|e| Error::io(p, "cannot read").with_cause(e))?,
            p.clone(),
        ),
        _ => {
            let mut s = String::new();
            let stdin = PathBuf::from("<stdin>");
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io(&stdin, "cannot read").with_cause(e))?;
            (s, stdin)
        }
    };
    let out = adjust_text(&text, args.column.as_deref(), args.method.into(), &source)?;
    super::print_out(&render_output(&out, args.format)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        PathBuf::from("p.txt")
    }

    #[test]
    fn one_per_line_with_missing() {
        let out = adjust_text(
            "0.01\n\n0.04\nNA\n0.03\n",
            None,
            Adjustment::Bonferroni,
            &src(),
        )
        .unwrap();
        assert_eq!(out.n_tests, 3);
        assert_eq!(out.n_missing, 1);
        let lines: Vec<usize> = out.values.iter().map(|v| v.line).collect();
        assert_eq!(lines, [1, 3, 4, 5]);
        assert_eq!(out.values[2].adjusted, None);
        assert!((out.values[0].adjusted.unwrap() - 0.03).abs() < 1e-15);
        assert_eq!(out.values[1].adjusted, Some(0.12));
    }

    #[test]
    fn csv_column_by_default_name_and_by_flag() {
        let text = "outcome,\"p_value\",q\nwork,0.02,0.5\n\"hours, weekly\",0.01,0.7\nwage,,0.1\n";
        let out = adjust_text(text, None, Adjustment::Holm, &src()).unwrap();
        assert_eq!(out.n_tests, 2);
        assert_eq!(out.values[0].p_value, Some(0.02));
        assert_eq!(out.values[1].adjusted, Some(0.02));
        assert_eq!(out.values[2].p_value, None);
        let q = adjust_text(text, Some("q"), Adjustment::None, &src()).unwrap();
        assert_eq!(q.values[1].adjusted, Some(0.7));
        let single = adjust_text("p\n0.2\n0.1\n", None, Adjustment::Holm, &src()).unwrap();
        assert_eq!(single.values[0].adjusted, Some(0.2));
    }

    #[test]
    fn errors_name_the_line() {
        let e = adjust_text("0.1\n0.2\nabc\n", None, Adjustment::Holm, &src()).unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        assert!(e.to_string().contains("\"abc\""), "{e}");
        let e = adjust_text("0.1\n1.5\n", None, Adjustment::Holm, &src()).unwrap_err();
        assert!(e.to_string().contains("line 2") && e.to_string().contains("outside [0, 1]"));
        let e = adjust_text("a,p_val\nx,0.1\n", None, Adjustment::Holm, &src()).unwrap_err();
        assert!(e.to_string().contains("Did you mean \"p_val\""), "{e}");
        assert!(adjust_text("  \n", None, Adjustment::Holm, &src()).is_err());
        let e = adjust_text("p\n-0.1\n", None, Adjustment::Holm, &src()).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn formats() {
        let out = adjust_text(
            "0.01\n0.5\nNA\n",
            None,
            Adjustment::BenjaminiHochberg,
            &src(),
        )
        .unwrap();
        let csv = render_output(&out, Format::Csv).unwrap();
        assert_eq!(
            csv,
            "line,p_value,adjusted\n1,0.01,0.02\n2,0.5,0.5\n3,NA,NA\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_output(&out, Format::Json).unwrap()).unwrap();
        assert_eq!(json["method"], "bh");
        assert_eq!(json["values"][2]["adjusted"], serde_json::Value::Null);
        let table = render_output(&out, Format::Table).unwrap();
        assert!(table.starts_with("Benjamini-Hochberg adjustment of 2 p-values; 1 missing"));
    }
}
