//! `via-eval simulate <slug>`: make a pilot's synthetic data set.
//!
//! Reads `<pilots>/<slug>.toml` and `<pilots>/<slug>.sim.toml`, generates the data for
//! a seed, and writes the CSV, Parquet, truth and data dictionary to `--out`. The same
//! slug, seed and scale always give the same files, so the shipped data can be
//! regenerated and checked.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::config::{self, OutcomeKind};
use crate::error::Result;
use crate::simulate::{self, DEFAULT_SEED, SimParams, Truth};

/// Make a pilot's synthetic data set, with its true effects, from `<slug>.sim.toml`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// The pilot's slug, e.g. uwv-dienstverlening-ww (see `via-eval pilots`).
    pub slug: String,
    /// Random seed; the same seed gives the same data. The default (20190101) is the
    /// seed of the data shipped in notebooks-data/.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Directory with the pilot configs and their `.sim.toml` parameters.
    #[arg(long, default_value = "pilots")]
    pub pilots: PathBuf,
    /// Directory to write the data, truth and dictionary to.
    #[arg(long, default_value = "notebooks-data")]
    pub out: PathBuf,
    /// Multiplies the sizes (units per arm or project, or the number of clusters;
    /// units per cluster stay as configured). Use e.g. 10 to check that estimates
    /// recover the true effects, or 0.1 for quick tests.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

/// Generate and write one pilot's synthetic data; prints a short summary.
pub fn run(args: &SimulateArgs) -> Result<()> {
    let spec = config::load_slug(&args.pilots, &args.slug)?;
    let params = SimParams::from_file(&SimParams::path_for(&args.pilots, &spec.slug))?;
    let data = simulate::generate(&spec, &params, args.seed, args.scale)?;
    let paths = simulate::write(&spec, &data, &params, args.seed, &args.out)?;

    super::print_out(&summary(&spec.slug, args, &data.truth, &paths))
}

/// The summary printed after a run: rows per arm, true effects, files written.
fn summary(slug: &str, args: &SimulateArgs, t: &Truth, paths: &[PathBuf]) -> String {
    let mut out = String::new();
    let arms: Vec<String> = t
        .units_by_arm
        .iter()
        .map(|(a, n)| format!("{a} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "{slug} (SYNTHETIC, seed {}, scale {}): {} rows ({})",
        args.seed,
        args.scale,
        t.rows,
        arms.join(", ")
    );
    for o in &t.outcomes {
        let effects: Vec<String> = o
            .effects
            .iter()
            .map(|e| {
                let at = e
                    .project
                    .as_deref()
                    .map(|p| format!(" [{p}]"))
                    .unwrap_or_default();
                if o.kind == OutcomeKind::TimeToEvent {
                    format!("{}{at} HR {:.3}", e.arm, e.effect)
                } else {
                    format!("{}{at} {:+.4}", e.arm, e.effect)
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "  {:<28} control {:.4}; true effect: {}",
            o.id,
            o.control_mean,
            effects.join(", ")
        );
    }
    for p in paths {
        let _ = writeln!(out, "  wrote {}", p.display());
    }
    out
}
