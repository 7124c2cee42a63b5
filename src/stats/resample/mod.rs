//! Resampling inference, seeded and parallel: bootstrap intervals (percentile and
//! BCa), the wild cluster bootstrap for few clusters, and randomisation inference that
//! re-randomises as the design did.
//!
//! - [`bootstrap`]: stratified (within-arm) bootstrap of a difference in means or
//!   proportions (fast paths) and of any statistic ([`bootstrap::bootstrap`]);
//!   percentile and BCa intervals (Efron 1987) with scipy's conventions.
//! - [`wild`]: restricted wild cluster bootstrap (WCR) of an OLS coefficient with
//!   Rademacher or Webb weights and CR1 t statistics (Cameron, Gelbach & Miller 2008;
//!   MacKinnon & Webb 2017; Roodman, MacKinnon, Nielsen & Webb 2019), with a
//!   confidence interval by test inversion.
//! - [`ri`]: randomisation-inference p-values for a difference in means under complete,
//!   blocked, cluster and blocked-cluster randomisation, exact when all assignments can
//!   be enumerated.
//!
//! # Reproducibility
//! Every replicate draws from its own generator, [`replicate_rng`]`(seed, r)`: ChaCha8
//! keyed by `seed` (`ChaCha8Rng::seed_from_u64`) on stream `r`, the replicate's index.
//! A replicate's draws therefore depend only on `(seed, r)`, never on which thread ran
//! it or on what it ran before, and results are identical for any number of threads.
//! Integers below a bound come from Lemire's unbiased multiply-and-reject method on
//! 32-bit words ([`below`]; bulk draws take the two halves of a 64-bit word), and
//! random subsets from the generator's raw bits, so the replicates depend only on the
//! ChaCha8 key stream, not on the sampling algorithms of a `rand` version; the only
//! exception is the binomial draw of the counts path of [`bootstrap::mean_difference`]
//! (rand_distr's `Binomial`). The bulk draws compute that key stream themselves, sixteen
//! blocks at a time (`keystream`), and then set the generator's word position past the
//! words used: the same words, and the same generator state afterwards, as drawing
//! them through `rand_chacha` (tested against it), only faster. Unchanged since the
//! draws were defined; a change of the words or of the way they map to integers
//! would change every seeded result and must be called out as such.
//!
//! # Parallelism and memory
//! Replicates run on the current rayon pool (the global pool, or the pool a caller
//! `install`s) in chunks of [`CHUNK`]. Each rayon work item allocates its working
//! buffers once and reuses them for all the replicates it runs (a handful of work items
//! per thread); nothing is allocated per replicate and no index matrix is built. The
//! output is one value per replicate, written in place.
//!
//! # Progress
//! Every entry point takes an optional [`Progress`] callback. It is called from worker
//! threads with the number of replicates just finished (at most [`CHUNK`] at a time);
//! the increments add up to the number of replicates. The library does no terminal I/O.
//!
//! # Ties
//! Tests count a replicate as at least as extreme as the observed statistic when
//! `|stat*| ≥ |stat| − TIE_RTOL·|stat|` ([`TIE_RTOL`] = 1e-9): replicates equal to the
//! observed value in exact arithmetic (the observed assignment itself, the all-ones
//! wild weights, binary outcomes) then count whatever the floating-point summation
//! order. scipy's `permutation_test` does the same with a relative tolerance of 100·ε.

pub mod bootstrap;
mod keystream;
pub mod ri;
pub mod wild;

use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use super::{StatsError, StatsResult};
use keystream::{BATCH, Batch, KeyStream};

/// The code paths the resampling kernels take on this CPU, as (kernel, path) lines for
/// `via-eval cpu-paths`: asked from the kernels' own run-time choice, so the report
/// cannot drift from what runs.
pub fn kernel_paths() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "resampling key stream (stats::resample::keystream)",
            keystream::Path::best().describe(),
        ),
        (
            "randomisation-inference bit sums (stats::resample::ri)",
            ri::bit_sum_path(),
        ),
    ]
}

/// The widest vectors the resampling key stream may use ([`limit_vectors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorLimit {
    /// No AVX-512: AVX2 where the CPU has it, as on most laptops and cloud machines.
    Avx2,
    /// The portable loop only.
    Portable,
}

/// Keep the resampling key stream from vectors wider than `limit` for the rest of the
/// process (`VIA_EVAL_SIMD`, read by the binary), so that a machine with AVX-512 can
/// time the paths other machines take. Every result stays the same to the bit (the
/// paths are tested equal). `false` when called after the first key stream or twice.
pub fn limit_vectors(limit: VectorLimit) -> bool {
    keystream::limit(match limit {
        VectorLimit::Avx2 => keystream::Path::Avx2,
        VectorLimit::Portable => keystream::Path::Portable,
    })
}

/// Replicates per parallel work unit and per progress report.
pub const CHUNK: usize = 64;

/// Relative tolerance for ties between a replicate's statistic and the observed one.
pub const TIE_RTOL: f64 = 1e-9;

/// A progress callback: receives the number of replicates just finished.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Settings shared by the resampling procedures.
#[derive(Clone, Copy)]
pub struct ResampleOptions<'a> {
    /// Number of bootstrap resamples, wild bootstrap draws or random assignments. When
    /// a procedure enumerates all possibilities instead (fewer than `reps` of them),
    /// its result says so and reports how many it used.
    pub reps: u64,
    /// Seed of the replicate generators (see [`replicate_rng`]).
    pub seed: u64,
    /// Confidence level of intervals, e.g. 0.95.
    pub conf_level: f64,
    /// Called with the number of replicates just finished.
    pub progress: Option<Progress<'a>>,
}

impl<'a> ResampleOptions<'a> {
    /// `reps` replicates with `seed`, 95% intervals, no progress callback.
    pub fn new(reps: u64, seed: u64) -> Self {
        Self {
            reps,
            seed,
            conf_level: 0.95,
            progress: None,
        }
    }

    pub fn with_conf_level(mut self, conf_level: f64) -> Self {
        self.conf_level = conf_level;
        self
    }

    pub fn with_progress(mut self, progress: Progress<'a>) -> Self {
        self.progress = Some(progress);
        self
    }

    pub(crate) fn check(&self) -> StatsResult<()> {
        if self.reps == 0 {
            return Err(StatsError::Invalid(
                "the number of replicates must be positive".into(),
            ));
        }
        if usize::try_from(self.reps).is_err() {
            return Err(StatsError::Invalid(format!(
                "{} replicates do not fit in memory",
                self.reps
            )));
        }
        if !(self.conf_level > 0.0 && self.conf_level < 1.0) {
            return Err(StatsError::Invalid(format!(
                "confidence level {} is not between 0 and 1",
                self.conf_level
            )));
        }
        Ok(())
    }
}

/// The generator of replicate `rep`: ChaCha8 with key `seed_from_u64(seed)` on stream
/// `rep`. Distinct replicates use disjoint ChaCha streams of the same key.
pub fn replicate_rng(seed: u64, rep: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(rep);
    rng
}

/// A uniform integer in `0..bound` (`bound ≥ 1`), unbiased: Lemire (2019), "Fast
/// random integer generation in an interval", *ACM TOMACS* 29(1), algorithm 5. The
/// product of a 32-bit word and `bound` is kept when its low half is not in the
/// `2³² mod bound` values that would make some results more likely than others.
#[inline]
pub fn below<R: RngCore + ?Sized>(rng: &mut R, bound: u32) -> u32 {
    debug_assert!(bound > 0);
    let mut m = u64::from(rng.next_u32()) * u64::from(bound);
    if (m as u32) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (m as u32) < threshold {
            m = u64::from(rng.next_u32()) * u64::from(bound);
        }
    }
    (m >> 32) as u32
}

/// What [`draw_below`] hands on: one integer, or a whole batch of [`BATCH`] integers
/// (integer `i` of the batch, in draw order, at `[(i % 16) * 16 + i / 16]`).
pub(crate) enum Draws<'a> {
    One(u32),
    Batch(&'a [u32; BATCH]),
}

/// Draw `count` uniform integers in `0..bound` from the 32-bit words of `rng` in
/// stream order, with Lemire's rejection per word ([`below`]'s test), and hand them to
/// `f` in draw order. Words are used in pairs, as 64-bit words of the generator (low
/// half first): when the last integer comes from the first word of a pair, the second
/// is skipped, and `rng` is left after the last pair.
///
/// This is the same as calling `rng.next_u64()` and testing its low and then its high
/// half until `count` integers are accepted; the words come from [`KeyStream`] (the same
/// key stream, sixteen blocks at a time), and batches with no rejected word and no
/// integer beyond `count` are handed on whole.
///
/// A batch that will surely be needed is computed one batch ahead, before `f` receives
/// the current one, and `ahead` sees its integers (every word's, rejected or not, all
/// below `bound`) then: callers that look the integers up in a large table prefetch
/// them, so that the look-ups of a batch overlap the computing of the next.
pub(crate) fn draw_below(
    rng: &mut ChaCha8Rng,
    bound: u32,
    count: usize,
    mut ahead: impl FnMut(&[u32; BATCH]),
    mut f: impl FnMut(Draws<'_>),
) {
    debug_assert!(bound > 0);
    if count == 0 {
        return;
    }
    // A word is rejected when the low half of word·bound is below 2³² mod bound.
    let threshold = bound.wrapping_neg() % bound;
    let mut stream = KeyStream::new(rng);
    // Two batches: the one handed on (`cur`) and the one computed ahead.
    let mut words = [Batch { words: [0; BATCH] }, Batch { words: [0; BATCH] }];
    let mut drawn = [[0u32; BATCH]; 2];
    let mut rejected = [false; 2];
    let mut from = stream.skip();
    // Words used from the generator's position on, and integers accepted.
    let (mut used, mut k) = (0u64, 0usize);
    let (mut cur, mut computed) = (0usize, false);
    'batches: loop {
        if !computed {
            stream.next_batch(&mut words[cur]);
            rejected[cur] = stream.below(&words[cur], bound, threshold, &mut drawn[cur]);
        }
        // The next batch is needed when this one cannot complete the count.
        let next = cur ^ 1;
        computed = count - k > BATCH - from;
        if computed {
            stream.next_batch(&mut words[next]);
            rejected[next] = stream.below(&words[next], bound, threshold, &mut drawn[next]);
            ahead(&drawn[next]);
        }
        let (w, d) = (&words[cur].words, &drawn[cur]);
        if from == 0 && !rejected[cur] && count - k >= BATCH {
            f(Draws::Batch(d));
            used += BATCH as u64;
            k += BATCH;
            if k == count {
                break;
            }
        } else {
            for i in from..BATCH {
                let p = (i % 16) * 16 + i / 16;
                used += 1;
                if ((u64::from(w[p]) * u64::from(bound)) as u32) >= threshold {
                    f(Draws::One(d[p]));
                    k += 1;
                    if k == count {
                        break 'batches;
                    }
                }
            }
        }
        from = 0;
        cur = next;
    }
    stream.finish(rng, used.next_multiple_of(2));
}

/// Call `f` with `count` uniform integers in `0..bound`, drawn two per 64-bit word of
/// `rng` (the low half first) with Lemire's rejection per half; a half left over at
/// the end is discarded. The bulk draws of the bootstrap use this ([`draw_below`] one
/// integer at a time): it halves the number of generator calls against [`below`].
#[inline]
pub(crate) fn for_each_below(
    rng: &mut ChaCha8Rng,
    bound: u32,
    count: usize,
    mut f: impl FnMut(u32),
) {
    draw_below(
        rng,
        bound,
        count,
        |_| {},
        |d| match d {
            Draws::One(i) => f(i),
            Draws::Batch(b) => {
                for i in 0..BATCH {
                    f(b[(i % 16) * 16 + i / 16]);
                }
            }
        },
    );
}

/// Run `f(state, r)` for every replicate `r` in `0..out.len()` on the current rayon
/// pool and store the results in `out[r]`. `init` makes the per-work-item state (the
/// reusable buffers). `progress` receives the size of each finished chunk.
pub(crate) fn par_fill<T, S, I, F>(out: &mut [T], init: I, f: F, progress: Option<Progress<'_>>)
where
    T: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, u64) -> T + Sync + Send,
{
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each_init(init, |state, (c, chunk)| {
            let first = (c * CHUNK) as u64;
            for (i, slot) in chunk.iter_mut().enumerate() {
                *slot = f(state, first + i as u64);
            }
            if let Some(p) = progress {
                p(chunk.len() as u64);
            }
        });
}

/// [`par_fill`] for procedures that compute several replicates together: `f(state,
/// first, chunk)` fills `chunk` with replicates `first, first + 1, …` (at most [`CHUNK`]
/// of them). `progress` receives the size of each finished chunk.
pub(crate) fn par_fill_chunks<T, S, I, F>(
    out: &mut [T],
    init: I,
    f: F,
    progress: Option<Progress<'_>>,
) where
    T: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, u64, &mut [T]) + Sync + Send,
{
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each_init(init, |state, (c, chunk)| {
            f(state, (c * CHUNK) as u64, chunk);
            if let Some(p) = progress {
                p(chunk.len() as u64);
            }
        });
}

/// Whether `|stat|` is at least `|observed|`, ties within [`TIE_RTOL`] included.
#[inline]
pub(crate) fn at_least_as_extreme(stat: f64, observed: f64) -> bool {
    let o = observed.abs();
    stat.abs() >= o - TIE_RTOL * o
}

/// Standard normal distribution function Φ(x), from statrs (its erfc is accurate to
/// about 5e-10 relative near the 2.5% point, which bounds the BCa limits' agreement
/// with scipy; the project does not hand-roll distribution functions).
pub(crate) fn norm_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    Normal::standard().cdf(x)
}

/// Standard normal quantile Φ⁻¹(p): statrs' inverse plus Newton steps on [`norm_cdf`]
/// so that Φ(Φ⁻¹(p)) = p to near machine precision. ±∞ at 0 and 1, NaN outside.
pub(crate) fn norm_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let n = Normal::standard();
    let mut x = n.inverse_cdf(p);
    for _ in 0..3 {
        let d = n.pdf(x);
        if !super::above(d, 0.0) {
            break;
        }
        let step = (norm_cdf(x) - p) / d;
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_uses_all_values() {
        let mut rng = replicate_rng(7, 3);
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            let v = below(&mut rng, 6);
            seen[v as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
        assert_eq!(below(&mut rng, 1), 0);
        let mut seen = [0u32; 6];
        for_each_below(&mut rng, 6, 6001, |v| seen[v as usize] += 1);
        assert_eq!(seen.iter().sum::<u32>(), 6001);
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
        // Bound 3·2³⁰ rejects a quarter of the words; the results stay in range.
        let mut n = 0;
        for_each_below(&mut rng, 3 << 30, 1000, |v| {
            assert!(v < 3 << 30);
            n += 1;
        });
        assert_eq!(n, 1000);
    }

    /// Lemire's test on one 32-bit word: the integer below `bound` it maps to, or `None`
    /// when the word falls in the rejection zone (see [`below`]).
    #[inline]
    pub(crate) fn lemire(word: u32, bound: u32) -> Option<u32> {
        let m = u64::from(word) * u64::from(bound);
        if (m as u32) < bound && (m as u32) < bound.wrapping_neg() % bound {
            return None;
        }
        Some((m >> 32) as u32)
    }

    /// The bulk draws as they were defined before [`draw_below`]: `next_u64` calls,
    /// low half then high half.
    pub(crate) fn reference_for_each_below(
        rng: &mut ChaCha8Rng,
        bound: u32,
        count: usize,
    ) -> Vec<u32> {
        let mut out = Vec::new();
        while out.len() < count {
            let r = rng.next_u64();
            if let Some(i) = lemire(r as u32, bound) {
                out.push(i);
                if out.len() == count {
                    break;
                }
            }
            if let Some(i) = lemire((r >> 32) as u32, bound) {
                out.push(i);
            }
        }
        out
    }

    #[test]
    fn bulk_draws_are_the_generator_words() {
        for (bound, count, offset) in [
            (100_000u32, 100_000usize, 0usize),
            (50_001, 50_001, 1),
            (6, 256, 0),
            (6, 257, 2),
            (7, 255, 13),
            (1, 600, 0),
            (3 << 30, 2000, 5),
            (u32::MAX, 1000, 0),
            (10, 0, 3),
            (10, 1, 0),
        ] {
            let mut a = replicate_rng(20190601, 17);
            let mut b = replicate_rng(20190601, 17);
            for _ in 0..offset {
                a.next_u32();
                b.next_u32();
            }
            let mut mine = Vec::new();
            for_each_below(&mut a, bound, count, |i| mine.push(i));
            let want = reference_for_each_below(&mut b, bound, count);
            assert_eq!(mine, want, "bound {bound}, count {count}");
            // The generator is left where the reference leaves it.
            assert_eq!(a.next_u64(), b.next_u64(), "bound {bound}, count {count}");
        }
    }

    #[test]
    fn replicate_streams_differ_and_repeat() {
        let a: Vec<u32> = (0..4).map(|_| replicate_rng(1, 0).next_u32()).collect();
        assert!(a.iter().all(|&v| v == a[0]));
        assert_ne!(
            replicate_rng(1, 0).next_u64(),
            replicate_rng(1, 1).next_u64()
        );
        assert_ne!(
            replicate_rng(1, 0).next_u64(),
            replicate_rng(2, 0).next_u64()
        );
    }

    #[test]
    fn normal_quantile_inverts_cdf() {
        for &p in &[1e-12, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999_999] {
            let x = norm_quantile(p);
            assert!(((norm_cdf(x) - p) / p).abs() < 1e-12, "p = {p}");
        }
        // scipy.special.ndtr (1.17.1).
        for (x, want) in [
            (-5.0, 2.866_515_718_791_933e-7),
            (-1.959963984540054, 0.025),
            (-1.0, 1.586_552_539_314_570_7e-1),
            (0.5, 6.914_624_612_740_131e-1),
            (3.0, 9.986_501_019_683_699e-1),
        ] {
            assert!(((norm_cdf(x) - want) / want).abs() < 1e-8, "x = {x}");
        }
        // qnorm(0.975) in R 4.2.2.
        assert!((norm_quantile(0.975) - 1.959963984540054).abs() < 1e-9);
        assert!((norm_quantile(0.025) + 1.959963984540054).abs() < 1e-9);
    }
}
