//! The `via-eval` binary: parse arguments, dispatch to a subcommand, map errors to
//! exit codes (0 ok, 1 analysis or data error, 2 usage error).

use clap::{Parser, Subcommand};
use via_eval::cli;

/// Evaluate policy pilots: every treatment/control comparison with confidence
/// intervals, charts and a report.
#[derive(Parser, Debug)]
#[command(name = "via-eval", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// One value per process, parsed once: the size difference between variants is of
// no consequence.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// List the pilot configs: slug, title, design, n, outcomes, data found.
    Pilots(cli::pilots::PilotsArgs),
    /// Evaluate a pilot from its config and data; writes results, charts and a report.
    Pilot(cli::pilot::PilotArgs),
    /// Compare arms on any CSV or Parquet file, without a config.
    Compare(cli::compare::CompareArgs),
    /// Make a pilot's synthetic data set from its simulation parameters.
    Simulate(cli::simulate::SimulateArgs),
    /// Adjust a list of p-values for multiple testing (Holm, Bonferroni, BH).
    Adjust(cli::adjust::AdjustArgs),
    /// Simulate designs and report the empirical coverage of 95% intervals per SE type.
    Coverage(cli::coverage::CoverageArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let res = match &cli.command {
        Command::Pilots(a) => cli::pilots::run(a),
        Command::Pilot(a) => cli::pilot::run(a),
        Command::Compare(a) => cli::compare::run(a),
        Command::Simulate(a) => cli::simulate::run(a),
        Command::Adjust(a) => cli::adjust::run(a),
        Command::Coverage(a) => cli::coverage::run(a),
    };
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
