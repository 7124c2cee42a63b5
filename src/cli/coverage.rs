//! `via-eval coverage`: a simulation of the empirical coverage of the 95% intervals of
//! each estimator and standard-error type, in individually randomised, blocked and
//! cluster-randomised designs (see [`crate::coverage`] and docs/coverage.md).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::coverage::{self, Design};
use crate::error::Result;
use crate::simulate::DEFAULT_SEED;

/// Which designs to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DesignChoice {
    All,
    Individual,
    Blocked,
    Clusters10,
    Clusters50,
}

impl DesignChoice {
    pub fn designs(self) -> Vec<Design> {
        match self {
            Self::All => Design::ALL.to_vec(),
            Self::Individual => vec![Design::Individual],
            Self::Blocked => vec![Design::Blocked],
            Self::Clusters10 => vec![Design::Clusters10],
            Self::Clusters50 => vec![Design::Clusters50],
        }
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CoverageFormat {
    Table,
    Markdown,
    Json,
}

/// Examples at the end of `via-eval coverage --help`.
pub const EXAMPLES: &str = "\
Examples:
  cargo run --release -- coverage --trials 2000        # the table of docs/coverage.md (slow)
  via-eval coverage --trials 200 --design clusters10   # a quick look at 10 clusters
  via-eval coverage --trials 500 --format json";

/// Simulate the coverage of 95% confidence intervals for each design and SE type.
#[derive(clap::Args, Debug)]
pub struct CoverageArgs {
    /// Simulated data sets per design and outcome type.
    #[arg(long, default_value_t = 2000)]
    pub trials: usize,
    /// Random seed; the same seed gives the same table.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// The design(s) to simulate.
    #[arg(long, value_enum, default_value_t = DesignChoice::All)]
    pub design: DesignChoice,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CoverageFormat::Table)]
    pub format: CoverageFormat,
}

/// Run the simulation and print the table. A progress line goes to stderr only when
/// stderr is a terminal.
pub fn run(args: &CoverageArgs) -> Result<()> {
    let designs = args.design.designs();
    let total = coverage::total_trials(&designs, args.trials);
    let done = AtomicU64::new(0);
    // The last whole percentage shown: trials finish on several threads, so the
    // printing is serialised and never goes backwards.
    let shown = Mutex::new(0u64);
    let start = Instant::now();
    let show = std::io::stderr().is_terminal() && total > 0;
    let report_progress = |k: u64| {
        let after = done.fetch_add(k, Ordering::Relaxed) + k;
        let percent = after * 100 / total;
        let Ok(mut last) = shown.lock() else {
            return;
        };
        if percent > *last {
            *last = percent;
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\rcoverage: {percent}% of {total} trials, {:.0} s",
                start.elapsed().as_secs_f64()
            );
            let _ = err.flush();
        }
    };
    let report = coverage::run(
        &designs,
        args.trials,
        args.seed,
        if show { Some(&report_progress) } else { None },
    );
    if shown.lock().is_ok_and(|s| *s > 0) {
        eprintln!();
    }
    let report = report?;
    let text = match args.format {
        CoverageFormat::Table => coverage::render_table(&report),
        CoverageFormat::Markdown => coverage::render_markdown(&report),
        CoverageFormat::Json => coverage::render_json(&report),
    };
    super::print_out(&text)?;
    Ok(())
}
