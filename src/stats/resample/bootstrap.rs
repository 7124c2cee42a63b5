//! Bootstrap confidence intervals: percentile and BCa (bias-corrected and accelerated),
//! from a stratified bootstrap that resamples each arm (stratum) separately with
//! replacement and keeps its size.
//!
//! Sources: Efron (1987), "Better bootstrap confidence intervals", *JASA* 82, 171-185;
//! Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, §14.3 and eq. 15.36
//! for the acceleration of a several-sample statistic. Conventions are those of scipy
//! `stats.bootstrap` (1.17), so that the same replicate and jackknife values give the
//! same interval ([`intervals`], [`acceleration`]):
//! - `std_error`: standard deviation of the replicates with n − 1 denominator.
//! - Percentile interval: the α and 1 − α quantiles of the replicates, α =
//!   (1 − conf_level)/2, by linear interpolation (Hyndman & Fan type 7, R's default
//!   `quantile` and scipy `stats.quantile(method = "linear")`).
//! - BCa: z₀ = Φ⁻¹(p̂) with p̂ = (#{θ* < θ̂} + #{θ* ≤ θ̂}) / 2B (ties count half);
//!   â = Σⱼ Σᵢ Uⱼᵢ³/nⱼ³ / (6 (Σⱼ Σᵢ Uⱼᵢ²/nⱼ²)^(3/2)) with Uⱼᵢ = (nⱼ − 1)(θ̄ⱼ − θ₍ⱼᵢ₎),
//!   θ₍ⱼᵢ₎ the statistic without unit i of stratum j and θ̄ⱼ their mean; the limits are
//!   the quantiles at Φ(z₀ + (z₀ ± z)/(1 − â(z₀ ± z))), z = Φ⁻¹(α).
//!
//! Paths:
//! - [`mean_difference`]: treated mean − control mean. The jackknife is closed-form
//!   (Uᵢ = yᵢ − ȳ in the treated arm, −(yᵢ − ȳ) in control), so the whole procedure
//!   is O(reps · n). An arm with few distinct values (at most n/16, e.g. binary or
//!   small-count outcomes) is resampled through its value counts, which are multinomial:
//!   conditional binomial draws, O(reps · distinct values), the same distribution as
//!   resampling units.
//! - [`proportion_difference`]: the same from event counts, O(reps).
//! - [`bootstrap`]: any statistic of a [`Resample`]; its jackknife costs one evaluation
//!   of the statistic per unit.

use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};
use serde::Serialize;

use super::super::binary::Counts;
use super::super::ols::Clusters;
use super::super::{StatsError, StatsResult, describe};
use super::keystream::BATCH;
use super::{
    Draws, ResampleOptions, draw_below, for_each_below, norm_cdf, norm_quantile, par_fill,
    replicate_rng,
};

/// Bootstrap estimate, standard error and intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapCi {
    /// The statistic on the data.
    pub estimate: f64,
    /// Standard deviation of the replicates (n − 1 denominator).
    pub std_error: f64,
    /// Mean of the replicates minus the estimate.
    pub bias: f64,
    pub percentile_low: f64,
    pub percentile_high: f64,
    pub bca_low: f64,
    pub bca_high: f64,
    /// BCa bias correction z₀.
    pub z0: f64,
    /// BCa acceleration â.
    pub acceleration: f64,
    pub conf_level: f64,
    /// Number of bootstrap replicates.
    pub reps: u64,
}

/// The acceleration â from jackknife values, one slice per stratum (scipy's
/// `_bca_interval`): Σⱼ Σᵢ Uⱼᵢ³/nⱼ³ / (6 (Σⱼ Σᵢ Uⱼᵢ²/nⱼ²)^(3/2)) with
/// Uⱼᵢ = (nⱼ − 1)(θ̄ⱼ − θ₍ⱼᵢ₎). NaN when all jackknife values are equal, as scipy.
pub fn acceleration(jackknife: &[&[f64]]) -> StatsResult<f64> {
    let mut moments = Vec::with_capacity(jackknife.len());
    for theta in jackknife {
        if theta.is_empty() {
            return Err(StatsError::Invalid(
                "an empty set of jackknife values".into(),
            ));
        }
        let n = theta.len() as f64;
        let mean = theta.iter().sum::<f64>() / n;
        let (mut s2, mut s3) = (0.0, 0.0);
        for &t in theta.iter() {
            let u = (n - 1.0) * (mean - t);
            s2 += u * u;
            s3 += u * u * u;
        }
        moments.push(Moments { n, s2, s3 });
    }
    Ok(acceleration_from(&moments))
}

/// Σ U² and Σ U³ of one stratum's jackknife influence values, with its size.
#[derive(Debug, Clone, Copy)]
struct Moments {
    n: f64,
    s2: f64,
    s3: f64,
}

fn acceleration_from(m: &[Moments]) -> f64 {
    let num: f64 = m.iter().map(|m| m.s3 / (m.n * m.n * m.n)).sum();
    let den: f64 = m.iter().map(|m| m.s2 / (m.n * m.n)).sum();
    num / (6.0 * den.powf(1.5))
}

/// Quantile `p` of sorted values by linear interpolation, computed as scipy
/// `stats.quantile(method = "linear")`: j + 1 = ⌊pn + 1 − p⌋, g = frac(pn + 1 − p),
/// (1 − g)·x₍ⱼ₎ + g·x₍ⱼ₊₁₎ with indices clipped to the sample. NaN for NaN `p`.
fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    let n = sorted.len() as f64;
    let jg = p * n + (1.0 - p);
    let jp1 = jg.floor();
    let j = jp1 - 1.0;
    let g = if j < 0.0 { 0.0 } else { jg - jp1 };
    let last = n - 1.0;
    let lo = j.clamp(0.0, last) as usize;
    let hi = jp1.clamp(0.0, last) as usize;
    (1.0 - g) * sorted[lo] + g * sorted[hi]
}

/// Percentile and BCa intervals from bootstrap replicates and the acceleration.
///
/// `replicates` are the statistic on each resample (any order; sorted here). BCa
/// limits are NaN when z₀ is infinite (the estimate is below or above every replicate)
/// or â is NaN, as in scipy.
pub fn intervals(
    estimate: f64,
    mut replicates: Vec<f64>,
    acceleration: f64,
    conf_level: f64,
) -> StatsResult<BootstrapCi> {
    if replicates.len() < 2 {
        return Err(StatsError::TooFew {
            needed: 2,
            got: replicates.len(),
        });
    }
    if replicates.iter().any(|v| v.is_nan()) {
        return Err(StatsError::Invalid(
            "the statistic is NaN on some bootstrap resamples".into(),
        ));
    }
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(StatsError::Invalid(format!(
            "confidence level {conf_level} is not between 0 and 1"
        )));
    }
    replicates.sort_unstable_by(f64::total_cmp);
    let b = replicates.len();
    let (mean, var) = describe::mean_var(&replicates);
    let alpha = (1.0 - conf_level) / 2.0;
    let below_est = replicates.partition_point(|&v| v < estimate);
    let at_or_below = replicates.partition_point(|&v| v <= estimate);
    let z0 = norm_quantile((below_est + at_or_below) as f64 / (2 * b) as f64);
    let z_alpha = norm_quantile(alpha);
    let a = acceleration;
    let num1 = z0 + z_alpha;
    let alpha1 = norm_cdf(z0 + num1 / (1.0 - a * num1));
    let num2 = z0 - z_alpha;
    let alpha2 = norm_cdf(z0 + num2 / (1.0 - a * num2));
    Ok(BootstrapCi {
        estimate,
        std_error: var.sqrt(),
        bias: mean - estimate,
        percentile_low: quantile_sorted(&replicates, alpha),
        percentile_high: quantile_sorted(&replicates, 1.0 - alpha),
        bca_low: quantile_sorted(&replicates, alpha1),
        bca_high: quantile_sorted(&replicates, alpha2),
        z0,
        acceleration: a,
        conf_level,
        reps: b as u64,
    })
}

/// [`intervals`] with the acceleration from jackknife values, one slice per stratum:
/// the same computation as scipy's `bootstrap(method = "BCa")` given the same
/// replicates.
pub fn bca_interval(
    estimate: f64,
    replicates: Vec<f64>,
    jackknife: &[&[f64]],
    conf_level: f64,
) -> StatsResult<BootstrapCi> {
    intervals(estimate, replicates, acceleration(jackknife)?, conf_level)
}

/// How one arm is resampled in the mean-difference paths. Values are stored shifted by
/// a data value (the median), which keeps sums accurate when the mean is large
/// relative to the spread and exact for integer data, so that a resample with the
/// data's own sum reproduces the estimate exactly (this matters for ties in z₀).
enum ArmSampler {
    /// Resample units: the sum of n shifted values at uniform random positions.
    Units { shifted: Vec<f64> },
    /// Resample value counts: distinct shifted values and how often each occurs.
    Counts { values: Vec<f64>, counts: Vec<u64> },
}

struct Arm {
    n: usize,
    shift: f64,
    /// Sum of the shifted values on the data.
    sum: f64,
    sampler: ArmSampler,
    moments: Moments,
}

impl Arm {
    fn from_values(y: &[f64]) -> StatsResult<Self> {
        let n = y.len();
        if n < 2 {
            return Err(StatsError::TooFew { needed: 2, got: n });
        }
        if u32::try_from(n).is_err() {
            return Err(StatsError::Invalid("more than 2^32 units in an arm".into()));
        }
        if y.iter().any(|v| !v.is_finite()) {
            return Err(StatsError::Invalid(
                "outcome values must be finite numbers".into(),
            ));
        }
        let mut sorted = y.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let shift = sorted[n / 2];
        let mut values = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        for &v in &sorted {
            if values.last() == Some(&(v - shift)) {
                *counts.last_mut().expect("a value was pushed") += 1;
            } else {
                values.push(v - shift);
                counts.push(1);
            }
        }
        let shifted: Vec<f64> = y.iter().map(|v| v - shift).collect();
        let sum = shifted.iter().sum::<f64>();
        let moments = influence_moments(&shifted, sum / n as f64);
        let sampler = if values.len() * 16 <= n {
            ArmSampler::Counts { values, counts }
        } else {
            ArmSampler::Units { shifted }
        };
        Ok(Self {
            n,
            shift,
            sum,
            sampler,
            moments,
        })
    }

    fn from_counts(c: Counts) -> StatsResult<Self> {
        let n =
            usize::try_from(c.trials).map_err(|_| StatsError::Invalid("too many trials".into()))?;
        if n < 2 {
            return Err(StatsError::TooFew { needed: 2, got: n });
        }
        let (x, m) = (c.events as f64, (c.trials - c.events) as f64);
        let p = c.proportion();
        // U = y − p̂ for x ones and n − x zeros.
        let moments = Moments {
            n: n as f64,
            s2: x * (1.0 - p).powi(2) + m * p * p,
            s3: x * (1.0 - p).powi(3) - m * p.powi(3),
        };
        Ok(Self {
            n,
            shift: 0.0,
            sum: x,
            sampler: ArmSampler::Counts {
                values: vec![0.0, 1.0],
                counts: vec![c.trials - c.events, c.events],
            },
            moments,
        })
    }

    fn mean_of(&self, sum: f64) -> f64 {
        self.shift + sum / self.n as f64
    }

    /// Sum of the shifted values of one resample.
    fn resample_sum(&self, rng: &mut ChaCha8Rng) -> f64 {
        match &self.sampler {
            ArmSampler::Units { shifted } => {
                // Four partial sums break the chain of dependent additions: draw k goes
                // to lane k mod 4, in draw order within each lane.
                let mut lanes = [0.0; 4];
                let mut k = 0;
                let ahead = |idx: &[u32; BATCH]| {
                    if shifted.len() >= PREFETCH_MIN {
                        for &i in idx {
                            prefetch(&shifted[i as usize]);
                        }
                    }
                };
                draw_below(
                    rng,
                    shifted.len() as u32,
                    shifted.len(),
                    ahead,
                    |d| match d {
                        Draws::One(i) => {
                            lanes[k & 3] += shifted[i as usize];
                            k += 1;
                        }
                        Draws::Batch(idx) => {
                            // The same additions with the four lanes in registers: draw
                            // 16·b + w of the batch (word w of block b) is at idx[16·w + b]
                            // and goes to lane (k + w) mod 4. A batch is a multiple of 4 draws.
                            let r = k & 3;
                            let [mut a0, mut a1, mut a2, mut a3] = [
                                lanes[r],
                                lanes[(r + 1) & 3],
                                lanes[(r + 2) & 3],
                                lanes[(r + 3) & 3],
                            ];
                            for b in 0..16 {
                                for q in 0..4 {
                                    a0 += shifted[idx[(4 * q) * 16 + b] as usize];
                                    a1 += shifted[idx[(4 * q + 1) * 16 + b] as usize];
                                    a2 += shifted[idx[(4 * q + 2) * 16 + b] as usize];
                                    a3 += shifted[idx[(4 * q + 3) * 16 + b] as usize];
                                }
                            }
                            lanes[r] = a0;
                            lanes[(r + 1) & 3] = a1;
                            lanes[(r + 2) & 3] = a2;
                            lanes[(r + 3) & 3] = a3;
                            k += idx.len();
                        }
                    },
                );
                (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
            }
            ArmSampler::Counts { values, counts } => {
                // Multinomial(n; cₖ/n) counts as conditional binomials: the k-th count
                // is Binomial(trials left, cₖ / units left).
                let mut left_trials = self.n as u64;
                let mut left_units = self.n as u64;
                let mut s = 0.0;
                for (v, &c) in values.iter().zip(counts) {
                    if left_trials == 0 {
                        break;
                    }
                    let k = if c >= left_units {
                        left_trials
                    } else {
                        Binomial::new(left_trials, c as f64 / left_units as f64)
                            .expect("a probability in [0, 1)")
                            .sample(rng)
                    };
                    s += k as f64 * v;
                    left_trials -= k;
                    left_units -= c;
                }
                s
            }
        }
    }
}

/// Arms with at least this many units (8 MB of values) prefetch the values of the next
/// batch of draws. Below it the values sit in the processor's caches, and the prefetch
/// instructions only cost time. Measured on an AMD EPYC (1 MB level-2 cache per core,
/// 32 MB level 3), 10,000 resamples, AVX2 key stream:
/// - 10^5 units (two arms of 400 KB): 0.64 s with prefetch, 0.56 s without;
/// - 4·10^5 (1.6 MB each): 2.85 s and 2.63 s;
/// - 10^6 (4 MB each): 7.2-7.8 s and 6.4-6.8 s;
/// - at 10^7 units (40 MB each, beyond level 3; 1,000 resamples) prefetching halves the
///   time: 36 s without, 16.5 s with.
///
/// The threshold was 32,768 units (256 KB), which prefetched from level 2 and level 3
/// as well.
const PREFETCH_MIN: usize = 1 << 20;

/// Ask the CPU to bring the cache line of `v` into the level-1 cache (a hint: no
/// effect on results; nothing off x86-64).
#[inline(always)]
fn prefetch(v: &f64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch reads nothing architecturally and cannot fault; SSE, the
        // feature it needs, is part of the x86-64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(v).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = v;
}

/// Σ U² and Σ U³ with U = u − ū (the jackknife influence of a mean, from shifted
/// values u whose mean is ū).
fn influence_moments(u: &[f64], mean: f64) -> Moments {
    let (mut s2, mut s3) = (0.0, 0.0);
    for &v in u {
        let d = v - mean;
        s2 += d * d;
        s3 += d * d * d;
    }
    Moments {
        n: u.len() as f64,
        s2,
        s3,
    }
}

/// The replicates of treated mean − control mean: replicate r resamples the treated
/// arm, then the control arm, from `replicate_rng(seed, r)`.
fn two_arm_replicates(t: &Arm, c: &Arm, opts: &ResampleOptions) -> Vec<f64> {
    let mut reps = vec![0.0; opts.reps as usize];
    par_fill(
        &mut reps,
        || (),
        |_, r| {
            let mut rng = replicate_rng(opts.seed, r);
            let st = t.resample_sum(&mut rng);
            let sc = c.resample_sum(&mut rng);
            t.mean_of(st) - c.mean_of(sc)
        },
        opts.progress,
    );
    reps
}

fn two_arm_bootstrap(t: &Arm, c: &Arm, opts: &ResampleOptions) -> StatsResult<BootstrapCi> {
    opts.check()?;
    let estimate = t.mean_of(t.sum) - c.mean_of(c.sum);
    let reps = two_arm_replicates(t, c, opts);
    // In the control arm the influence is −(y − ȳ): Σ U³ changes sign, Σ U² does not.
    let mc = Moments {
        s3: -c.moments.s3,
        ..c.moments
    };
    let a = acceleration_from(&[t.moments, mc]);
    intervals(estimate, reps, a, opts.conf_level)
}

/// Stratified bootstrap of treated mean − control mean: each replicate resamples n_t
/// treated and n_c control units with replacement (scipy `bootstrap((treated,
/// control), statistic = mean difference)`, whose resampling is also within samples).
///
/// Each replicate draws the treated arm, then the control arm, from
/// `replicate_rng(seed, r)`: n unit positions in `0..n`, two per 64-bit word (low half
/// first, Lemire's rejection per half, a leftover half discarded), or, in an arm with at most n/16
/// distinct values, the multinomial value counts as conditional binomials in increasing
/// order of value. Each arm needs at least 2 units.
pub fn mean_difference(
    treated: &[f64],
    control: &[f64],
    opts: &ResampleOptions,
) -> StatsResult<BootstrapCi> {
    two_arm_bootstrap(
        &Arm::from_values(treated)?,
        &Arm::from_values(control)?,
        opts,
    )
}

/// Stratified bootstrap of p_t − p_c from event counts: the resampled number of events
/// in an arm is Binomial(n, x/n), the distribution of the count of ones among n units
/// resampled with replacement. The result equals in distribution (not replicate for
/// replicate) that of [`mean_difference`] on the 0/1 values.
pub fn proportion_difference(
    treated: Counts,
    control: Counts,
    opts: &ResampleOptions,
) -> StatsResult<BootstrapCi> {
    two_arm_bootstrap(
        &Arm::from_counts(treated)?,
        &Arm::from_counts(control)?,
        opts,
    )
}

/// The units of one bootstrap resample (or jackknife sample), by stratum: what a
/// statistic passed to [`bootstrap`] receives.
///
/// Unit indices refer to the caller's data (0..n, the order of the strata codes). A
/// bootstrap resample of stratum s holds as many indices as the stratum has units,
/// drawn with replacement from its units; a jackknife sample lacks one unit of one
/// stratum, and the order of the remaining indices is unspecified.
pub struct Resample<'a> {
    idx: &'a [u32],
    ranges: &'a [(usize, usize)],
}

impl Resample<'_> {
    /// Number of strata.
    pub fn strata(&self) -> usize {
        self.ranges.len()
    }
    /// Unit indices of stratum `s` (0-based, in order of first appearance of the
    /// strata codes, as [`Clusters`] numbers them).
    pub fn stratum(&self, s: usize) -> &[u32] {
        let (a, b) = self.ranges[s];
        &self.idx[a..b]
    }
    /// Total number of units in the resample.
    pub fn len(&self) -> usize {
        self.ranges.iter().map(|(a, b)| b - a).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The units of each stratum, concatenated, and each stratum's range.
struct StrataLayout {
    idx: Vec<u32>,
    ranges: Vec<(usize, usize)>,
}

impl StrataLayout {
    fn new(strata: &Clusters) -> StatsResult<Self> {
        let codes = strata.codes();
        if u32::try_from(codes.len()).is_err() {
            return Err(StatsError::Invalid(
                "more than 2^32 units to resample".into(),
            ));
        }
        let mut sizes = vec![0usize; strata.count()];
        for &c in codes {
            sizes[c as usize] += 1;
        }
        if let Some(&small) = sizes.iter().find(|&&s| s < 2) {
            return Err(StatsError::TooFew {
                needed: 2,
                got: small,
            });
        }
        let mut ranges = Vec::with_capacity(sizes.len());
        let mut start = 0;
        for &s in &sizes {
            ranges.push((start, start + s));
            start += s;
        }
        let mut next: Vec<usize> = ranges.iter().map(|r| r.0).collect();
        let mut idx = vec![0u32; codes.len()];
        for (i, &c) in codes.iter().enumerate() {
            idx[next[c as usize]] = i as u32;
            next[c as usize] += 1;
        }
        Ok(Self { idx, ranges })
    }

    fn full(&self) -> Resample<'_> {
        Resample {
            idx: &self.idx,
            ranges: &self.ranges,
        }
    }
}

/// Bootstrap replicates of `statistic`, resampling units with replacement within each
/// stratum of `strata` (e.g. the arms). Replicate r draws stratum 0's units, then
/// stratum 1's, …, n_s positions in `0..n_s` each, as [`mean_difference`] does, from
/// `replicate_rng(seed, r)`.
pub fn replicates<F>(
    strata: &Clusters,
    statistic: &F,
    opts: &ResampleOptions,
) -> StatsResult<Vec<f64>>
where
    F: Fn(&Resample) -> f64 + Sync,
{
    opts.check()?;
    let layout = StrataLayout::new(strata)?;
    Ok(replicates_on(&layout, statistic, opts))
}

fn replicates_on<F>(layout: &StrataLayout, statistic: &F, opts: &ResampleOptions) -> Vec<f64>
where
    F: Fn(&Resample) -> f64 + Sync,
{
    let mut out = vec![0.0; opts.reps as usize];
    par_fill(
        &mut out,
        || vec![0u32; layout.idx.len()],
        |buf, r| {
            let mut rng = replicate_rng(opts.seed, r);
            for &(a, b) in &layout.ranges {
                let units = &layout.idx[a..b];
                let mut slots = buf[a..b].iter_mut();
                for_each_below(&mut rng, units.len() as u32, units.len(), |i| {
                    *slots.next().expect("one draw per slot") = units[i as usize];
                });
            }
            statistic(&Resample {
                idx: buf,
                ranges: &layout.ranges,
            })
        },
        opts.progress,
    );
    out
}

/// Delete-one jackknife values of `statistic`, one vector per stratum, in the order of
/// the stratum's units: element i of stratum s is the statistic without the i-th unit
/// (by unit index) of stratum s. Costs one evaluation per unit, in parallel.
pub fn jackknife<F>(strata: &Clusters, statistic: &F) -> StatsResult<Vec<Vec<f64>>>
where
    F: Fn(&Resample) -> f64 + Sync,
{
    let layout = StrataLayout::new(strata)?;
    Ok(jackknife_on(&layout, statistic, None))
}

fn jackknife_on<F>(
    layout: &StrataLayout,
    statistic: &F,
    progress: Option<super::Progress<'_>>,
) -> Vec<Vec<f64>>
where
    F: Fn(&Resample) -> f64 + Sync,
{
    let n = layout.idx.len();
    let mut flat = vec![0.0; n];
    // Position p (in the concatenated layout) is left out by swapping it with the last
    // position of its stratum and shortening that stratum's range by one.
    par_fill(
        &mut flat,
        || (layout.idx.clone(), layout.ranges.clone()),
        |(idx, ranges), p| {
            let p = p as usize;
            let s = layout.ranges.partition_point(|r| r.1 <= p);
            let last = ranges[s].1 - 1;
            idx.swap(p, last);
            ranges[s].1 = last;
            let v = statistic(&Resample { idx, ranges });
            ranges[s].1 = last + 1;
            idx.swap(p, last);
            v
        },
        progress,
    );
    layout
        .ranges
        .iter()
        .map(|&(a, b)| flat[a..b].to_vec())
        .collect()
}

/// Stratified bootstrap of any statistic, with percentile and BCa intervals (the
/// acceleration from the delete-one jackknife within strata, as scipy).
///
/// `strata` gives each unit's stratum (resampling keeps each stratum's size); for a
/// one-sample bootstrap give every unit the same label. The statistic receives a
/// [`Resample`] and looks its units up in data it holds. The progress callback counts
/// `reps` replicates, then one per unit for the jackknife (reps + n in all). For a
/// difference in means or proportions use the faster [`mean_difference`] and
/// [`proportion_difference`].
pub fn bootstrap<F>(
    strata: &Clusters,
    statistic: F,
    opts: &ResampleOptions,
) -> StatsResult<BootstrapCi>
where
    F: Fn(&Resample) -> f64 + Sync,
{
    opts.check()?;
    let layout = StrataLayout::new(strata)?;
    let estimate = statistic(&layout.full());
    let reps = replicates_on(&layout, &statistic, opts);
    let jack = jackknife_on(&layout, &statistic, opts.progress);
    let slices: Vec<&[f64]> = jack.iter().map(Vec::as_slice).collect();
    bca_interval(estimate, reps, &slices, opts.conf_level)
}

#[cfg(test)]
mod tests {
    use super::super::keystream::{self, Path};
    use super::super::tests::reference_for_each_below;
    use super::*;
    use rand::RngCore;

    /// Replicate r of [`two_arm_replicates`] as defined: the arm's unit positions from
    /// `next_u64` words of `replicate_rng(seed, r)` (treated arm first), the k-th drawn
    /// value added to partial sum k mod 4 in draw order, (s₀ + s₁) + (s₂ + s₃).
    fn reference_replicate(t: &Arm, c: &Arm, seed: u64, r: u64) -> f64 {
        let mut rng = replicate_rng(seed, r);
        let mut sum = |arm: &Arm| {
            let ArmSampler::Units { shifted } = &arm.sampler else {
                panic!("a units arm")
            };
            let mut lanes = [0.0; 4];
            let idx = reference_for_each_below(&mut rng, arm.n as u32, arm.n);
            for (k, &i) in idx.iter().enumerate() {
                lanes[k % 4] += shifted[i as usize];
            }
            (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
        };
        let st = sum(t);
        let sc = sum(c);
        t.mean_of(st) - c.mean_of(sc)
    }

    /// The bootstrap replicates are the same bit for bit on every key stream path the
    /// machine has (the portable one always), and equal to the definition.
    #[test]
    fn replicates_are_bit_identical_on_every_path() {
        let mut rng = replicate_rng(42, 0);
        let mut draw = |n: usize, scale: f64| -> Vec<f64> {
            (0..n)
                .map(|_| (f64::from(rng.next_u32()) * scale).round() / 1e6 - 1000.0)
                .collect()
        };
        // Arm sizes that are not multiples of a batch, and a bound that rejects words.
        let (yt, yc) = (draw(3001, 1e-3), draw(1777, 1e-2));
        let (t, c) = (
            Arm::from_values(&yt).unwrap(),
            Arm::from_values(&yc).unwrap(),
        );
        assert!(matches!(t.sampler, ArmSampler::Units { .. }));
        let opts = ResampleOptions::new(150, 20190601);
        let want: Vec<u64> = (0..opts.reps)
            .map(|r| reference_replicate(&t, &c, opts.seed, r).to_bits())
            .collect();
        let labels: Vec<u8> = (0..4778).map(|i| u8::from(i % 3 == 0)).collect();
        let strata = Clusters::from_labels(&labels);
        let mean1 = |r: &Resample| r.stratum(1).iter().map(|&i| f64::from(i)).sum::<f64>();
        let _guard = keystream::FORCE_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut generic = Vec::new();
        for path in Path::available() {
            keystream::force(Some(path));
            let got: Vec<u64> = two_arm_replicates(&t, &c, &opts)
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(got, want, "{path:?}");
            let g: Vec<u64> = replicates(&strata, &mean1, &opts)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            generic.push((path, g));
        }
        keystream::force(None);
        for (path, g) in &generic {
            assert_eq!(g, &generic[0].1, "{path:?} against {:?}", generic[0].0);
        }
    }

    #[test]
    fn quantile_matches_type_7() {
        let x = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_sorted(&x, 0.0), 1.0);
        assert_eq!(quantile_sorted(&x, 1.0), 8.0);
        assert!((quantile_sorted(&x, 0.5) - 3.0).abs() < 1e-15);
        // R: quantile(c(1, 2, 4, 8), 0.1) = 1.3
        assert!((quantile_sorted(&x, 0.1) - 1.3).abs() < 1e-15);
    }

    #[test]
    fn acceleration_is_zero_for_symmetric_influence() {
        let a = acceleration(&[&[1.0, 2.0, 3.0], &[5.0, 7.0]]).unwrap();
        assert!(a.abs() < 1e-15);
    }

    #[test]
    fn closed_form_jackknife_matches_the_generic_one() {
        let t = [3.0, 1.5, 8.25, 4.0, 2.0];
        let c = [1.0, 0.5, 2.5, 7.0];
        let arm_t = Arm::from_values(&t).unwrap();
        let arm_c = Arm::from_values(&c).unwrap();
        let mc = Moments {
            s3: -arm_c.moments.s3,
            ..arm_c.moments
        };
        let fast = acceleration_from(&[arm_t.moments, mc]);
        let data: Vec<f64> = t.iter().chain(&c).copied().collect();
        let labels: Vec<u8> = (0..data.len()).map(|i| u8::from(i >= t.len())).collect();
        let strata = Clusters::from_labels(&labels);
        let stat = |r: &Resample| {
            let m = |s: usize| {
                let u = r.stratum(s);
                u.iter().map(|&i| data[i as usize]).sum::<f64>() / u.len() as f64
            };
            m(0) - m(1)
        };
        let jack = jackknife(&strata, &stat).unwrap();
        let slow = acceleration(&[&jack[0], &jack[1]]).unwrap();
        assert!((fast - slow).abs() < 1e-13 * slow.abs(), "{fast} vs {slow}");
    }
}
