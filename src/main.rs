//! The `via-eval` binary: parse arguments, dispatch to a subcommand, map errors to
//! exit codes (0 ok, 1 analysis or data error, 2 usage error).

use clap::{CommandFactory, Parser, Subcommand};
use via_eval::cli;

/// Evaluate policy pilots: every treatment/control comparison with confidence
/// intervals, charts and a report.
#[derive(Parser, Debug)]
#[command(name = "via-eval", version, about, long_about = None, after_help = EXAMPLES)]
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
    #[command(after_help = cli::pilots::EXAMPLES)]
    Pilots(cli::pilots::PilotsArgs),
    /// Evaluate a pilot from its config and data; writes results, charts and a report.
    #[command(after_help = cli::pilot::EXAMPLES)]
    Pilot(cli::pilot::PilotArgs),
    /// Compare arms on any data file (CSV or other delimited text, Excel, OpenDocument,
    /// Parquet), without a config.
    #[command(after_help = cli::compare::EXAMPLES)]
    Compare(cli::compare::CompareArgs),
    /// Make a pilot's synthetic data set from its simulation parameters.
    #[command(after_help = cli::simulate::EXAMPLES)]
    Simulate(cli::simulate::SimulateArgs),
    /// Adjust a list of p-values for multiple testing (Holm, Bonferroni, BH).
    #[command(after_help = cli::adjust::EXAMPLES)]
    Adjust(cli::adjust::AdjustArgs),
    /// Sample size, minimum detectable effect or power of a two-arm comparison, with a
    /// power-curve chart.
    #[command(after_help = cli::power::EXAMPLES)]
    Power(cli::power::PowerArgs),
    /// Pool estimates across sites or projects: fixed or random effects (DL, REML,
    /// Paule-Mandel), heterogeneity, prediction interval, forest plot.
    #[command(after_help = cli::meta::EXAMPLES)]
    Meta(cli::meta::MetaArgs),
    /// Difference-in-differences on a panel: static two-way fixed effects and the event
    /// study with its pre-trend test, with charts.
    #[command(after_help = cli::did::EXAMPLES)]
    Did(cli::did::DidArgs),
    /// Interrupted time series: level and slope change at the start of an intervention,
    /// for before/after data without a comparison group (Newey-West or cluster-robust SE).
    #[command(after_help = cli::its::EXAMPLES)]
    Its(cli::its::ItsArgs),
    /// Simulate designs and report the empirical coverage of 95% intervals per SE type.
    #[command(after_help = cli::coverage::EXAMPLES)]
    Coverage(cli::coverage::CoverageArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cli::shell::CompletionsArgs),
    /// Print the manual page, or write one page per command into a folder.
    Man(cli::shell::ManArgs),
    /// Print the CPU's instruction sets and the code paths this binary takes on it (for
    /// benchmark reports).
    #[command(hide = true)]
    CpuPaths,
}

const EXAMPLES: &str = "\
Examples:
  via-eval pilots                          # the pilots, their designs and data
  via-eval pilot leren-en-werken           # evaluate one pilot into out/leren-en-werken/
  via-eval pilot --all -o out --lang nl    # every pilot, reports in Dutch
  via-eval compare data.csv --treatment arm --treated 1 --outcome earnings

Run `via-eval <command> --help` for a command's options and examples.";

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Err(e) = cli::limit_vectors_from_env() {
        eprintln!("error: {}", e.report());
        std::process::exit(e.exit_code());
    }
    let res = match &cli.command {
        Command::Pilots(a) => cli::pilots::run(a),
        Command::Pilot(a) => cli::pilot::run(a),
        Command::Compare(a) => cli::compare::run(a),
        Command::Simulate(a) => cli::simulate::run(a),
        Command::Adjust(a) => cli::adjust::run(a),
        Command::Coverage(a) => cli::coverage::run(a),
        Command::Power(a) => cli::power::run(a),
        Command::Meta(a) => cli::meta::run(a),
        Command::Did(a) => cli::did::run(a),
        Command::Its(a) => cli::its::run(a),
        Command::Completions(a) => cli::shell::completions(Cli::command(), a),
        Command::Man(a) => cli::shell::man(Cli::command(), a),
        Command::CpuPaths => cli::print_out(&via_eval::cpu::report(
            &via_eval::stats::resample::kernel_paths(),
        )),
    };
    if let Err(e) = res {
        // The plain-language message, then the error underneath it, if any.
        eprintln!("error: {}", e.report());
        std::process::exit(e.exit_code());
    }
}
