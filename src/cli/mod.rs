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
