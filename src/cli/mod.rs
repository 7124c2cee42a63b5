//! One module per subcommand; each has an `Args` struct (clap) and a `run` function.

pub mod adjust;
pub mod compare;
pub mod coverage;
pub mod manifest;
pub mod output;
pub mod pilot;
pub mod pilots;
pub mod simulate;

/// Write command output to stdout. A reader that closed the pipe early (`| head`)
/// ends the output quietly instead of a panic.
pub fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}
