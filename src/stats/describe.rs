//! Descriptive statistics per arm.

use super::{StatsError, StatsResult, dist};
use serde::Serialize;

/// Mean and sample variance (n − 1 denominator) by the corrected two-pass algorithm
/// (Chan, Golub & LeVeque 1983): the mean first, then Σ(x−m)² − (Σ(x−m))²/n, which
/// stays accurate when the mean is large relative to the spread.
pub fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (mean, f64::NAN);
    }
    let (mut ss, mut s) = (0.0, 0.0);
    for &v in x {
        let d = v - mean;
        ss += d * d;
        s += d;
    }
    (mean, (ss - s * s / n) / (n - 1.0))
}

/// A per-arm summary: size, mean (the proportion for binary outcomes) and its CI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); NaN for n < 2.
    pub sd: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Mean with a t interval: `mean ± t(n−1) · sd/√n`, as R `t.test(x)$conf.int` and
/// scipy `stats.t.interval(conf, n-1, mean, sem)`.
pub fn mean_ci(x: &[f64], conf_level: f64) -> StatsResult<Summary> {
    if x.len() < 2 {
        return Err(StatsError::TooFew {
            needed: 2,
            got: x.len(),
        });
    }
    let (mean, var) = mean_var(x);
    let sd = var.sqrt();
    let n = x.len();
    let q = dist::two_sided_quantile(conf_level, Some((n - 1) as f64));
    let half = q * sd / (n as f64).sqrt();
    Ok(Summary {
        n,
        mean,
        sd,
        ci_low: mean - half,
        ci_high: mean + half,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_is_accurate_with_a_large_mean() {
        let x = [1e9 + 1.0, 1e9 + 2.0, 1e9 + 4.0];
        let (m, v) = mean_var(&x);
        assert!((m - (1e9 + 7.0 / 3.0)).abs() < 1e-6);
        assert!((v - 7.0 / 3.0).abs() < 1e-12, "{v}");
    }

    #[test]
    fn mean_ci_contains_mean_and_needs_two() {
        let s = mean_ci(&[1.0, 2.0, 3.0, 10.0], 0.95).unwrap();
        assert!(s.ci_low < s.mean && s.mean < s.ci_high);
        assert!(mean_ci(&[1.0], 0.95).is_err());
    }
}
