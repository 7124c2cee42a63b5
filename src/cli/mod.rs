//! One module per subcommand; each has an `Args` struct (clap) and a `run` function.

pub mod adjust;
pub mod analysis_args;
pub mod choices;
pub mod compare;
pub mod coverage;
pub mod did;
pub mod its;
pub mod locate;
pub mod manifest;
pub mod meta;
pub mod output;
pub mod pilot;
pub mod pilots;
pub mod power;
pub mod read_args;
pub mod shell;
pub mod simulate;
pub mod weighting_charts;

/// Output format of a command that prints its result to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// A command's output as JSON: indented, with a final newline.
pub fn json_text<T: serde::Serialize>(value: &T) -> crate::Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| crate::Error::analysis("cannot write JSON").with_cause(e))
}

/// Print a command's output in `format` to standard output. The table shows the notes
/// itself; with JSON or CSV they go to standard error (`note: ...`), so the output stays
/// machine-readable and the reader still sees them.
pub fn emit<T: serde::Serialize>(
    format: Format,
    output: &T,
    notes: &[String],
    table: impl FnOnce(&T) -> String,
    csv: impl FnOnce(&T) -> String,
) -> crate::Result<()> {
    if format != Format::Table {
        for n in notes {
            eprintln!("note: {n}");
        }
    }
    let text = match format {
        Format::Table => table(output),
        Format::Csv => csv(output),
        Format::Json => json_text(output)?,
    };
    print_out(&text)
}

/// The environment variable that keeps the resampling kernels to narrower vectors:
/// `avx2` (no AVX-512) or `portable`. For timing, on one machine, the paths that
/// machines without AVX-512 take; results do not change.
pub const SIMD_ENV: &str = "VIA_EVAL_SIMD";

/// Apply [`SIMD_ENV`] if set; an error naming the variable for any other value.
pub fn limit_vectors_from_env() -> crate::Result<()> {
    use crate::stats::resample::{VectorLimit, limit_vectors};
    let Some(value) = std::env::var_os(SIMD_ENV) else {
        return Ok(());
    };
    let limit = match value.to_str().map(str::trim) {
        Some("") => return Ok(()),
        Some(v) if v.eq_ignore_ascii_case("avx2") => VectorLimit::Avx2,
        Some(v) if v.eq_ignore_ascii_case("portable") => VectorLimit::Portable,
        _ => {
            return Err(crate::Error::usage(format!(
                "{SIMD_ENV}={} is not a vector limit; set it to avx2 or portable, or unset it",
                value.to_string_lossy()
            )));
        }
    };
    limit_vectors(limit);
    Ok(())
}

/// Write command output to stdout. A reader that closed the pipe early (`| head`)
/// ends the output quietly (exit 0); any other failure (a full device, a closed
/// descriptor) is an error, so a run never reports success on output it did not write.
pub fn print_out(text: &str) -> crate::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(crate::Error::io(
            std::path::Path::new("standard output"),
            "cannot write the output",
        )
        .with_cause(e)),
    }
}

/// A progress indicator for resampling draws, on stderr and only when `active` (the
/// caller's choice: resampling asked for, and not `--quiet`) and stderr is a terminal:
/// it counts draws as the worker threads finish them. It has no colour (so there is
/// nothing for `NO_COLOR` to turn off). Returns the callback for the analysis and the bar
/// to finish afterwards.
pub fn resampling_progress(
    active: bool,
) -> (
    Option<crate::analysis::ProgressFn>,
    Option<indicatif::ProgressBar>,
) {
    use std::io::IsTerminal;
    if !active || !std::io::stderr().is_terminal() {
        return (None, None);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} resampling: {human_pos} draws, {elapsed}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let b = bar.clone();
    let f: crate::analysis::ProgressFn = std::sync::Arc::new(move |k| b.inc(k));
    (Some(f), Some(bar))
}

/// Headings that group the options in `--help`.
pub const INPUT: &str = "Input reading";
pub const ANALYSIS: &str = "Analysis";
pub const OUTPUT: &str = "Output";
pub const DISCLOSURE: &str = "Disclosure control";
