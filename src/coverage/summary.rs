//! The summary of one method over all trials of a design and outcome: coverage with
//! its Monte Carlo standard error, bias, mean interval width, SE/SD ratio and mean df.

use serde::Serialize;

use super::design::{Design, Outcome};
use super::methods::{Method, TrialResult};

/// Coverage of one method in one design and outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    pub design: Design,
    pub outcome: Outcome,
    /// Stable key of the method, e.g. `ols-cr2`.
    pub method: &'static str,
    /// The estimator and SE type, e.g. `OLS CR2`.
    pub estimator: &'static str,
    pub df_rule: &'static str,
    pub true_effect: f64,
    /// Data sets simulated.
    pub trials: usize,
    /// Trials in which the method could not be computed (left out of `coverage`).
    pub failed: usize,
    /// Share of the other trials whose interval contains the true effect.
    pub coverage: f64,
    /// Monte Carlo standard error of `coverage`: √(c(1−c)/(trials − failed)).
    pub mc_se: f64,
    /// Mean estimate minus the true effect.
    pub bias: f64,
    /// Mean interval width (none for the wild bootstrap, whose interval is not built).
    pub mean_width: Option<f64>,
    /// Mean standard error over the standard deviation of the estimates: below 1 the
    /// standard error is too small on average.
    pub se_ratio: Option<f64>,
    /// Mean degrees of freedom of the t reference distribution.
    pub mean_df: Option<f64>,
}

/// The whole simulation: settings and one row per design, outcome and method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub seed: u64,
    pub trials: usize,
    pub conf_level: f64,
    pub designs: Vec<DesignInfo>,
    pub rows: Vec<CoverageRow>,
}

/// A design as simulated, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignInfo {
    pub design: Design,
    pub description: String,
}

/// Mean of the finite values, or None.
fn finite_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for v in values.filter(|v| v.is_finite()) {
        s += v;
        n += 1;
    }
    (n > 0).then(|| s / n as f64)
}

pub(super) fn summarise(
    design: Design,
    outcome: Outcome,
    method: Method,
    truth: f64,
    results: impl Iterator<Item = Option<TrialResult>>,
) -> CoverageRow {
    let all: Vec<Option<TrialResult>> = results.collect();
    let ok: Vec<TrialResult> = all.iter().flatten().copied().collect();
    let valid = ok.len();
    let covered = ok.iter().filter(|r| r.covered).count();
    let coverage = if valid > 0 {
        covered as f64 / valid as f64
    } else {
        f64::NAN
    };
    let mean_est = finite_mean(ok.iter().map(|r| r.estimate)).unwrap_or(f64::NAN);
    let sd_est = if valid > 1 {
        (ok.iter()
            .map(|r| (r.estimate - mean_est).powi(2))
            .sum::<f64>()
            / (valid - 1) as f64)
            .sqrt()
    } else {
        f64::NAN
    };
    CoverageRow {
        design,
        outcome,
        method: method.key(),
        estimator: method.label(),
        df_rule: method.df_rule(),
        true_effect: truth,
        trials: all.len(),
        failed: all.len() - valid,
        coverage,
        mc_se: (coverage * (1.0 - coverage) / valid as f64).sqrt(),
        bias: mean_est - truth,
        mean_width: finite_mean(ok.iter().map(|r| r.width)),
        se_ratio: finite_mean(ok.iter().map(|r| r.std_error))
            .map(|s| s / sd_est)
            .filter(|v| v.is_finite()),
        mean_df: finite_mean(ok.iter().map(|r| r.df)),
    }
}
