//! The analysis and disclosure options every analysing command shares (`pilot`,
//! `compare`, and the commands to come), flattened into each command's arguments so
//! that a flag means the same everywhere.

use crate::analysis::{self, Options, Privacy, ProgressFn};
use crate::error::Result;

#[derive(clap::Args, Debug, Clone)]
pub struct AnalysisArgs {
    /// Confidence level of every interval.
    #[arg(long, help_heading = super::ANALYSIS, default_value_t = 0.95)]
    pub conf_level: f64,
    /// Bootstrap draws for percentile and BCa intervals of each difference.
    #[arg(long, help_heading = super::ANALYSIS, value_name = "N")]
    pub bootstrap: Option<u64>,
    /// Re-randomisations for randomisation-inference p-values (as the design assigned).
    #[arg(long, help_heading = super::ANALYSIS, value_name = "N")]
    pub permutations: Option<u64>,
    /// Seed of every resampling method (the same seed gives the same results).
    #[arg(long, help_heading = super::ANALYSIS, default_value_t = analysis::DEFAULT_SEED)]
    pub seed: u64,
    /// Publish small cells: turn off disclosure control (for work inside a secure
    /// environment only; every output is then stamped with a warning).
    #[arg(long, help_heading = super::DISCLOSURE)]
    pub no_disclosure_control: bool,
    /// Minimum number of persons behind any published number (at least 5).
    #[arg(long, help_heading = super::DISCLOSURE, default_value_t = analysis::disclosure::DEFAULT_THRESHOLD, value_name = "N")]
    pub disclosure_threshold: usize,
}

impl AnalysisArgs {
    /// Whether a resampling method was asked for (then a progress bar is shown).
    pub fn resampling(&self) -> bool {
        self.bootstrap.is_some() || self.permutations.is_some()
    }

    /// The analysis options these flags set; the command adds its own (estimator,
    /// standard errors) to the result.
    pub fn options(&self, progress: Option<ProgressFn>) -> Options {
        Options {
            conf_level: self.conf_level,
            bootstrap: self.bootstrap,
            permutations: self.permutations,
            seed: self.seed,
            progress,
            ..Options::default()
        }
    }

    /// The disclosure control these flags ask for (a threshold below the floor is a
    /// usage error that names `--no-disclosure-control`).
    pub fn privacy(&self) -> Result<Privacy> {
        Privacy::from_flags(self.no_disclosure_control, self.disclosure_threshold)
    }
}
