//! `via-eval simulate <slug>`: make a pilot's synthetic data set.
//!
//! Reads `<pilots>/<slug>.toml` and `<pilots>/<slug>.sim.toml`, generates the data for
//! a seed, and writes the CSV, Parquet, truth and data dictionary to `--out`. The same
//! slug, seed and scale always give the same files, so the shipped data can be
//! regenerated and checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{self, OutcomeKind};
use crate::error::{Error, Result};
use crate::simulate::{self, DEFAULT_SEED, SimParams, Truth};

/// Examples at the end of `via-eval simulate --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval simulate leren-en-werken                    # into simulated/leren-en-werken/
  via-eval simulate uwv-dienstverlening-ww --scale 0.1 -o /tmp/uwv-small
  via-eval simulate leren-en-werken --scale 10 --seed 7 -o /tmp/recovery
  via-eval simulate leren-en-werken --out notebooks-data --overwrite   # regenerate the shipped data";

/// Make a pilot's synthetic data set, with its true effects, from `<slug>.sim.toml`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// The pilot's slug, e.g. uwv-dienstverlening-ww (see `via-eval pilots`).
    pub slug: String,
    /// Random seed; the same seed gives the same data. The default (20190101) is the
    /// seed of the data shipped in notebooks-data/.
    #[arg(long, help_heading = "Simulation", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Folder with the pilot configs and their `.sim.toml` parameters [default: pilots]
    #[arg(long, help_heading = super::INPUT, value_name = "DIR", env = super::locate::PILOTS_ENV)]
    pub pilots: Option<PathBuf>,
    /// Folder to write the data, truth and dictionary to [default: simulated/<slug>].
    /// The shipped data folder (notebooks-data/) is written to only with --overwrite.
    #[arg(short, long, help_heading = super::OUTPUT, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Allow replacing the shipped data set in notebooks-data/ (to regenerate it).
    #[arg(long, help_heading = super::OUTPUT)]
    pub overwrite: bool,
    /// Multiplies the sizes (units per arm or project, or the number of clusters;
    /// units per cluster stay as configured). Use e.g. 10 to check that estimates
    /// recover the true effects, or 0.1 for quick tests.
    #[arg(long, help_heading = "Simulation", default_value_t = 1.0)]
    pub scale: f64,
}

/// Generate and write one pilot's synthetic data; prints a short summary.
pub fn run(args: &SimulateArgs) -> Result<()> {
    let pilots = super::locate::pilots_dir(args.pilots.as_deref())?;
    let spec = config::load_slug(&pilots, &args.slug)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("simulated").join(&spec.slug));
    let shipped = super::locate::data_dir(None, &pilots);
    if !args.overwrite && holds_shipped_data(&out, &shipped, &spec) {
        return Err(Error::usage(format!(
            "{} holds the shipped data of {}; simulating would replace them. Choose another \
             folder with --out DIR (the default is simulated/{}), or add --overwrite to \
             regenerate the shipped data",
            out.display(),
            spec.slug,
            spec.slug
        )));
    }
    let params = SimParams::from_file(&SimParams::path_for(&pilots, &spec.slug))?;
    let data = simulate::generate(&spec, &params, args.seed, args.scale)?;
    let paths = simulate::write(&spec, &data, &params, args.seed, &out)?;

    super::print_out(&summary(&spec.slug, args, &data.truth, &paths))
}

/// Whether `out` is the shipped data folder and already holds this pilot's data file.
fn holds_shipped_data(out: &Path, shipped: &Path, spec: &config::PilotSpec) -> bool {
    let same = match (out.canonicalize(), shipped.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same && crate::prepare::data_path(spec, out).exists()
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
