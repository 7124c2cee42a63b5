//! Descriptive statistics per arm.

use super::{StatsError, StatsResult, dist};
use serde::Serialize;

/// Mean and sample variance (n − 1 denominator) by the corrected two-pass algorithm
/// (Chan, Golub & LeVeque 1983): the mean first, then Σ(x−m)² − (Σ(x−m))²/n, which
/// stays accurate when the mean is large relative to the spread.
pub fn mean_var(x: &[f64]) -> (f64, f64) {
    let (_, mean, var) = moments_of(x.iter().copied());
    (mean, var)
}

/// Count, mean and variance as [`mean_var`], of values given as an iterator that can be
/// run twice (two passes, in the same order and with the same arithmetic as on a
/// slice; the sum starts from −0.0 as `Iterator::sum` does): for large columns read in
/// place, without copying the values out.
pub fn moments_of(x: impl Iterator<Item = f64> + Clone) -> (usize, f64, f64) {
    let (count, total) = x.clone().fold((0usize, -0.0), |(c, s), v| (c + 1, s + v));
    let mean = total / count as f64;
    if count < 2 {
        return (count, mean, f64::NAN);
    }
    let (mut ss, mut s) = (0.0, 0.0);
    for v in x {
        let d = v - mean;
        ss += d * d;
        s += d;
    }
    (count, mean, sample_variance(count, ss, s))
}

/// The sample variance (n − 1) from the sums over n values of d² and of d, the
/// deviations from their mean: (Σd² − (Σd)²/n) / (n − 1), the second term correcting
/// the rounding of the mean (the corrected two-pass algorithm, Chan, Golub & LeVeque
/// 1983). NaN for n < 2.
pub fn sample_variance(n: usize, ss: f64, s: f64) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    let nf = n as f64;
    (ss - s * s / nf) / (nf - 1.0)
}

/// All ones when `keep`, else zero, through [`std::hint::black_box`] so that the
/// compiler cannot turn a [`masked`] choice into a branch: seen as a select, it is
/// compiled to a branch, which a randomised arm column mispredicts on every other row.
/// The black box is a store and a load, so a row makes its masks once for all its sums
/// and columns.
#[inline(always)]
pub fn opaque_mask(keep: bool) -> u64 {
    std::hint::black_box(u64::from(keep)).wrapping_neg()
}

/// `v` where `mask` is all ones, −0.0 where it is zero: the neutral element of
/// floating-point addition (x + (−0.0) is x for every x, zeros of either sign and NaN
/// included), so that a sum over the rows of one group can run over all rows without a
/// branch ([`opaque_mask`]), bit for bit the sum over the group's own rows in order.
#[inline(always)]
pub fn masked(mask: u64, v: f64) -> f64 {
    f64::from_bits((v.to_bits() & mask) | ((-0.0f64).to_bits() & !mask))
}

/// Size, mean and sample variance of one group ([`moments_of`]): what the two-sample
/// estimators need of each arm, computed once when several of them are wanted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: usize,
    pub mean: f64,
    /// Sample variance (n − 1); NaN for n < 2.
    pub var: f64,
}

impl Moments {
    /// The moments of `x`, as [`mean_var`] computes them.
    pub fn of(x: &[f64]) -> Self {
        let (n, mean, var) = moments_of(x.iter().copied());
        Self { n, mean, var }
    }

    /// Both groups have a sample variance: two values or more each.
    pub fn check_pair(a: Moments, b: Moments) -> StatsResult<()> {
        for x in [a, b] {
            if x.n < 2 {
                return Err(StatsError::TooFew {
                    needed: 2,
                    got: x.n,
                });
            }
        }
        Ok(())
    }

    /// The pooled sample variance ((n₁−1)s₁² + (n₀−1)s₀²) / (n₁+n₀−2).
    pub fn pooled_var(a: Moments, b: Moments) -> f64 {
        let (n1, n0) = (a.n as f64, b.n as f64);
        ((n1 - 1.0) * a.var + (n0 - 1.0) * b.var) / (n1 + n0 - 2.0)
    }
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
    mean_ci_of(x.iter().copied(), conf_level)
}

/// [`mean_ci`] of values given as an iterator that can be run twice ([`moments_of`]).
pub fn mean_ci_of(x: impl Iterator<Item = f64> + Clone, conf_level: f64) -> StatsResult<Summary> {
    let (n, mean, var) = moments_of(x);
    if n < 2 {
        return Err(StatsError::TooFew { needed: 2, got: n });
    }
    let sd = var.sqrt();
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

/// A covariate's balance between two groups: the standardised mean difference with the
/// pooled standard deviation, `(m_t − m_c) / sqrt((s²_t + s²_c) / 2)`, as cobalt's
/// `col_w_smd` with `s.d.denom = "pooled"` (the convention of Austin 2009, "Balance
/// diagnostics for comparing the distribution of baseline covariates between treatment
/// groups", Stat Med 28:3083, eq. 1 and 2). For a 0/1 covariate the variance is
/// p(1 − p), as cobalt and Austin (eq. 2) take it, and the difference is standardised
/// too (cobalt's `binary = "std"`); otherwise the sample variance (n − 1).
///
/// `None` when either group is empty, or when both variances are zero and the means
/// differ (the difference cannot be standardised). Two constant groups with the same
/// value have a difference of 0.
pub fn standardised_mean_difference(
    treated: Moments,
    control: Moments,
    binary: bool,
) -> Option<f64> {
    if treated.n == 0 || control.n == 0 {
        return None;
    }
    let var = |m: Moments| {
        if binary {
            m.mean * (1.0 - m.mean)
        } else if m.n < 2 {
            0.0
        } else {
            m.var
        }
    };
    let diff = treated.mean - control.mean;
    let sd = ((var(treated) + var(control)) / 2.0).sqrt();
    if sd > 0.0 {
        Some(diff / sd)
    } else if diff == 0.0 {
        Some(0.0)
    } else {
        None
    }
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
