//! The coverage simulation of `via-eval coverage`: how often the 95% intervals of each
//! estimator and standard-error type contain the true effect, in designs like the VIA
//! pilots'.
//!
//! For every design and outcome type the simulation draws `trials` data sets with a
//! known, constant treatment effect, computes each applicable interval, and reports
//! the share of intervals that contain the true effect with its Monte Carlo standard
//! error √(c(1−c)/trials). A well-calibrated 95% interval covers in 95% of trials; an
//! interval that covers less overstates the precision of the pilot's result.
//!
//! Reading order, one step per file:
//! - [`design`]: the four designs, the two outcome types and how one trial's data set
//!   is drawn ([`simulate_trial`]);
//! - [`methods`]: the estimators applied to each design and what one of them gives on
//!   one data set ([`analyse`]);
//! - [`summary`]: the coverage, bias and interval width of a method over all trials;
//! - [`render`]: the report as a text table, Markdown or JSON;
//! - this file: [`run`], which ties them together.
//!
//! # Reproducibility
//!
//! Trial `r` of design d and outcome o draws from ChaCha8 keyed by `seed`
//! (`seed_from_u64`) on stream `(cell << 40) | r`, with cell = 2·d + o in the order of
//! [`Design::ALL`] and [`Outcome::ALL`]. Its draws therefore depend only on the seed,
//! the design, the outcome and the trial number: not on the thread that ran it, the
//! number of threads or which designs were selected. Trials run in parallel (rayon);
//! their results are collected in trial order and summed sequentially, so a seed gives
//! bit-identical numbers on any machine with the same floating-point behaviour.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::stats::resample::Progress;
use summary::summarise;

pub mod design;
pub mod methods;
pub mod render;
pub mod summary;

pub use design::{
    BLOCK_SIZES, Design, EFFECT_BINARY, EFFECT_CONTINUOUS, INDIVIDUAL_N, INDIVIDUAL_TREATED,
    Outcome, TrialData, simulate_trial, trial_rng,
};
pub use methods::{Method, TrialResult, analyse, methods};
pub use render::{render_json, render_markdown, render_table};
pub use summary::{CoverageReport, CoverageRow, DesignInfo};

/// Confidence level of every interval.
pub const CONF_LEVEL: f64 = 0.95;
/// Trials are numbered within 40 bits of the generator's stream.
const MAX_TRIALS: usize = 1 << 40;

/// `progress` is called with 1 after every trial (from worker threads).
pub fn run_cell(
    design: Design,
    outcome: Outcome,
    trials: usize,
    seed: u64,
    progress: Option<Progress<'_>>,
) -> Vec<CoverageRow> {
    let ms = methods(design, outcome);
    let truth = outcome.true_effect();
    let results: Vec<Vec<Option<TrialResult>>> = (0..trials as u64)
        .into_par_iter()
        .map(|r| {
            let data = simulate_trial(seed, design, outcome, r);
            let out = analyse(&data, &ms, truth, seed);
            if let Some(p) = progress {
                p(1);
            }
            out
        })
        .collect();
    ms.iter()
        .enumerate()
        .map(|(j, &m)| summarise(design, outcome, m, truth, results.iter().map(|r| r[j])))
        .collect()
}

/// Run the simulation for `designs` (both outcome types each), `trials` data sets per
/// design and outcome. `progress` receives 1 per finished trial; the total is
/// [`total_trials`].
pub fn run(
    designs: &[Design],
    trials: usize,
    seed: u64,
    progress: Option<Progress<'_>>,
) -> Result<CoverageReport> {
    if trials < 2 {
        return Err(Error::usage("--trials must be at least 2"));
    }
    if trials > MAX_TRIALS {
        return Err(Error::usage(format!(
            "--trials must be at most {MAX_TRIALS}"
        )));
    }
    let mut rows = Vec::new();
    for &d in designs {
        for o in Outcome::ALL {
            rows.extend(run_cell(d, o, trials, seed, progress));
        }
    }
    Ok(CoverageReport {
        seed,
        trials,
        conf_level: CONF_LEVEL,
        designs: designs
            .iter()
            .map(|&d| DesignInfo {
                design: d,
                description: d.description(),
            })
            .collect(),
        rows,
    })
}

/// Number of trials [`run`] simulates (for a progress bar).
pub fn total_trials(designs: &[Design], trials: usize) -> u64 {
    (designs.len() * Outcome::ALL.len() * trials) as u64
}
