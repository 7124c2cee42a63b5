//! The propensity score: a logistic regression of the arm (1 = treated) on the
//! covariates with an intercept, fitted by iteratively reweighted least squares
//! (Newton-Raphson on the log-likelihood; McCullagh & Nelder 1989, §4.4; the same
//! model as statsmodels `Logit` / `GLM(family=Binomial())` and R `glm(family =
//! binomial)`). Factor covariates arrive already expanded into 0/1 columns.
//!
//! Numerics: the covariates are centred and scaled by their standard deviation before
//! the fit (the model is affine-equivariant, so the fitted probabilities do not change),
//! and each Newton step solves the k×k normal equations by Cholesky (nalgebra). The
//! score and the information of a step come from one pass over the rows, which
//! computes the standardised covariates block by block (nothing of size n×k is kept)
//! and sums in the fixed order of [`super::rows`] on all cores. The
//! coefficients are returned on the covariates' own scale. Iteration stops after
//! the first step that changes no scaled coefficient by more than 1e-10, which
//! Newton's quadratic convergence leaves at rounding level ([`newton`]); after
//! [`MAX_ITER`] steps without that, the fit fails. On many units the iterations start
//! from a fit on a subsample ([`warm_newton`]), which saves passes over all of them.
//!
//! Separation: when one covariate alone separates the arms (the ranges of the two arms
//! do not overlap, or touch only at one value; for a 0/1 column, a level that occurs
//! in one arm only), the maximum-likelihood estimate does not exist (Albert & Anderson
//! 1984) and the fit fails naming that covariate before iterating. Separation by a
//! combination of covariates shows as coefficients that grow without bound: the fit
//! fails with a message that says so.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::rows::{self, Block, Cross, Standardised};

use crate::stats::{StatsError, StatsResult};

/// Newton steps before the fit is declared not converged.
pub const MAX_ITER: usize = 100;
/// Convergence: largest change of a coefficient on the scaled covariates.
const STEP_TOL: f64 = 1e-10;
/// A linear predictor beyond this (p within about 1e-13 of 0 or 1) while the fit has
/// not converged is taken as separation.
const ETA_SEPARATED: f64 = 30.0;

/// A fitted propensity model.
#[derive(Debug, Clone)]
pub struct Logit {
    /// Intercept first, then one coefficient per covariate, on the covariates' scale.
    pub coef: Vec<f64>,
    /// Model-based standard errors (inverse Fisher information), same order.
    pub std_error: Vec<f64>,
    /// The fitted propensity score of each unit.
    pub fitted: Vec<f64>,
    /// Newton steps taken.
    pub iterations: usize,
    /// Residual deviance −2 log L.
    pub deviance: f64,
    /// The centre and reciprocal scale of every covariate in the standardised design
    /// the fit iterated on ([`Standardised`]), and the information Σ p(1 − p)zz' on
    /// that design at the estimate: the stacked sandwiches of IPW and AIPW take both
    /// over ([`Logit::design`]) instead of computing them again.
    pub(crate) centre: Vec<f64>,
    pub(crate) inv_scale: Vec<f64>,
    pub(crate) information: DMatrix<f64>,
}

impl Logit {
    /// The standardised design of the fit on covariates `x`, which must be the
    /// columns the model was fitted on (only their number can be checked).
    pub(crate) fn design<'a>(&self, x: &'a [&'a [f64]]) -> StatsResult<Standardised<'a>> {
        if x.len() != self.centre.len() {
            return Err(StatsError::Invalid(format!(
                "the propensity model has {} covariates, the data {}",
                self.centre.len(),
                x.len()
            )));
        }
        Ok(Standardised::new(
            x,
            self.centre.clone(),
            self.inv_scale.clone(),
        ))
    }
}

/// Check the shapes shared by every estimator of this module: `x` columns as long as
/// `treated`, at least one unit in each arm and more treated units than covariates.
/// `names` name the columns in messages. (Values that are not finite are found in the
/// pass of [`Column::of`] and reported by [`not_finite`].)
fn check_shapes(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<()> {
    let n = treated.len();
    if names.len() != x.len() {
        return Err(StatsError::Invalid(format!(
            "{} covariate names for {} covariates",
            names.len(),
            x.len()
        )));
    }
    for (c, name) in x.iter().zip(names) {
        if c.len() != n {
            return Err(StatsError::Invalid(format!(
                "covariate \"{name}\" has {} values for {n} units",
                c.len()
            )));
        }
    }
    let n1 = treated.par_iter().filter(|&&t| t).count();
    let n0 = n - n1;
    if n1 == 0 || n0 == 0 {
        return Err(StatsError::Invalid(format!(
            "weighting needs units in both arms; there are {n1} treated and {n0} comparison units"
        )));
    }
    if x.len() >= n1 {
        return Err(StatsError::Invalid(format!(
            "{} covariates for {n1} treated units: the propensity model and the balance \
             constraints need more treated units than covariates; use fewer covariates",
            x.len()
        )));
    }
    Ok(())
}

/// The inputs checked ([`check_shapes`]) and every covariate summarised in one pass
/// ([`Column::of`], on all cores): finite values, centre and scale, the treated sum, the
/// arm bounds; an error naming the first covariate with a value that is not finite.
pub(super) fn checked_columns(
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
) -> StatsResult<Vec<Column>> {
    check_shapes(treated, x, names)?;
    let columns: Vec<Column> = x.par_iter().map(|c| Column::of(c, treated)).collect();
    for ((col, c), name) in columns.iter().zip(x).zip(names) {
        if !col.finite {
            return Err(not_finite(c, name));
        }
    }
    Ok(columns)
}

/// The error for covariate `name` with a value that is not finite, naming the first.
fn not_finite(c: &[f64], name: &str) -> StatsError {
    let i = c.iter().position(|v| !v.is_finite()).unwrap_or(0);
    StatsError::Invalid(format!(
        "covariate \"{name}\" has a missing or non-finite value at unit {i} (0-based); \
         drop incomplete rows first"
    ))
}

/// How many values ahead [`Column::of`]'s AVX2 loop asks for the memory it reads.
#[cfg(target_arch = "x86_64")]
const PREFETCH: usize = 256;

/// Independent sets of sums and bounds that [`Column::of`] keeps, one per lane.
const LANES: usize = 4;

/// What [`Column::of`] keeps per lane: the sums of the deviations d = v − shift and
/// of their squares, the bounds of [`ArmRanges`], and a word that turns non-zero at the
/// first value that is not 0 or 1 (a word, not a boolean, so that the lanes stay in
/// vector registers). Whether every value is finite is read off the sums
/// ([`Lanes::combine`]).
struct Lanes {
    shift: f64,
    s: [f64; LANES],
    s1: [f64; LANES],
    ss: [f64; LANES],
    lo1: [f64; LANES],
    hi1: [f64; LANES],
    lo0: [f64; LANES],
    hi0: [f64; LANES],
    not_binary: [u64; LANES],
}

impl Lanes {
    fn new(shift: f64) -> Self {
        Self {
            shift,
            s: [0.0; LANES],
            s1: [-0.0; LANES],
            ss: [0.0; LANES],
            lo1: [f64::INFINITY; LANES],
            hi1: [f64::NEG_INFINITY; LANES],
            lo0: [f64::INFINITY; LANES],
            hi0: [f64::NEG_INFINITY; LANES],
            not_binary: [0; LANES],
        }
    }

    /// Take value `v` into lane `l`; `m` is the row's arm as a bit mask (all ones for
    /// a treated row, zero for a comparison row). The other arm's side gets ±∞, which
    /// moves no bound, chosen by bit operations so that the lanes run as vector
    /// instructions.
    #[inline(always)]
    fn add(&mut self, l: usize, v: f64, m: u64) {
        let (inf, ninf) = (f64::INFINITY, f64::NEG_INFINITY);
        let pick = |m: u64, a: f64, b: f64| f64::from_bits((a.to_bits() & m) | (b.to_bits() & !m));
        let d = v - self.shift;
        self.s[l] += d;
        self.ss[l] += d * d;
        self.s1[l] += crate::stats::describe::masked(m, v);
        self.lo1[l] = least(pick(m, v, inf), self.lo1[l]);
        self.hi1[l] = greatest(pick(m, v, ninf), self.hi1[l]);
        self.lo0[l] = least(pick(!m, v, inf), self.lo0[l]);
        self.hi0[l] = greatest(pick(!m, v, ninf), self.hi0[l]);
        self.not_binary[l] |= u64::from(!((v == 0.0) | (v == 1.0)));
    }

    /// The summary of `n` values from all lanes: the sums added pairwise in a fixed
    /// order, the bounds combined.
    fn combine(self, c: &[f64]) -> Column {
        let n = c.len();
        let low = |a: [f64; LANES]| a.into_iter().fold(f64::INFINITY, least);
        let high = |a: [f64; LANES]| a.into_iter().fold(f64::NEG_INFINITY, greatest);
        let total = |a: [f64; LANES]| (a[0] + a[1]) + (a[2] + a[3]);
        let (s, ss) = (total(self.s), total(self.ss));
        let nf = n as f64;
        Column {
            // A value that is not finite makes Σd not finite (NaN, or ±∞); finite
            // values whose squares overflow Σd² are told apart by a scan.
            finite: (s.is_finite() && ss.is_finite()) || c.iter().all(|v| v.is_finite()),
            treated_sum: total(self.s1),
            mean: self.shift + s / nf,
            var: crate::stats::describe::sample_variance(n, ss, s),
            ranges: ArmRanges {
                lo1: low(self.lo1),
                hi1: high(self.hi1),
                lo0: low(self.lo0),
                hi0: high(self.hi0),
                binary: self.not_binary.iter().all(|&b| b == 0),
            },
        }
    }
}

/// What the fit (and entropy balancing) needs to know of one covariate before
/// iterating, from one pass over its values ([`Column::of`]).
pub(super) struct Column {
    /// Every value is finite (else the rest means nothing).
    pub(super) finite: bool,
    /// The sum of the treated units' values (in the lanes' order).
    pub(super) treated_sum: f64,
    /// Mean and sample variance (n − 1), for centring and scaling only.
    pub(super) mean: f64,
    pub(super) var: f64,
    /// The bounds of each arm, for the separation check.
    pub(super) ranges: ArmRanges,
}

impl Column {
    /// One pass over a column, in [`LANES`] independent lanes combined at the end.
    /// The mean and variance are those of the shifted data d = v − v₀ (v₀ the first
    /// value; Chan, Golub & LeVeque 1983, §4): Σd/n + v₀ and (Σd² − (Σd)²/n)/(n − 1),
    /// accurate while v₀ is within a few standard deviations of the mean, which is
    /// all that centring and scaling ask (the fitted model does not depend on them,
    /// see the module documentation). Each value is compared with the bounds of both
    /// arms, the other arm's side getting ±∞ (which moves no bound), so the loop does
    /// not branch on the arm; a smallest or largest value does not depend on the order
    /// it is looked for in, so the lanes give the bounds of a plain scan. The lanes
    /// let the compiler use vector instructions: before, the check for values that
    /// are not finite, the mean and variance, and the bounds were four passes of one
    /// chain of additions or comparisons each (36 ms on two cores for ten columns of
    /// 10^6 rows).
    fn of(c: &[f64], treated: &[bool]) -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { Self::of_avx2(c, treated) };
        }
        Self::of_lanes(c, treated)
    }

    /// [`Column::of`] in AVX2 instructions: the four lanes in one vector each, each lane
    /// running the operations of [`Lanes::add`] on its values (a minimum is `vminpd`,
    /// which is [`least`] exactly; a choice by the arm mask is `vblendvpd`), the rows
    /// after the last whole group of four added by [`Lanes::add`] itself; so the same
    /// result to the bit (test `column_summary_paths_agree_to_the_bit`). The eight
    /// sums and bounds and the constants fit the sixteen vector registers, and the
    /// loop asks for its memory [`PREFETCH`] values ahead. In a copy of the loop on
    /// one core (ten columns of 10^6 rows, not in the cache) it took 4.2 ns a value
    /// without the prefetch, waiting on memory, and 1.2 ns with it, the speed of a
    /// plain sum over the same values. With the prefetch and four lanes in place of
    /// eight, w_ipw at 10^6 went 0.429 -> 0.405 s, w_entropy 0.510 -> 0.471 s (it
    /// summarises the columns twice: the weights and the overlap chart's model).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn of_avx2(c: &[f64], treated: &[bool]) -> Self {
        use std::arch::x86_64::*;
        let n = c.len().min(treated.len());
        let mut lanes = Lanes::new(c.first().copied().unwrap_or(0.0));
        let (vs, vr) = c[..n].as_chunks::<LANES>();
        let (ts, tr) = treated[..n].as_chunks::<LANES>();
        let shift = _mm256_set1_pd(lanes.shift);
        let inf = _mm256_set1_pd(f64::INFINITY);
        let ninf = _mm256_set1_pd(f64::NEG_INFINITY);
        let nzero = _mm256_set1_pd(-0.0);
        let (zero, one) = (_mm256_setzero_pd(), _mm256_set1_pd(1.0));
        let ones = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
        // SAFETY (every load and store below): an array of four f64, unaligned.
        let load = |a: &[f64; LANES]| unsafe { _mm256_loadu_pd(a.as_ptr()) };
        let (mut s, mut s1, mut ss) = (load(&lanes.s), load(&lanes.s1), load(&lanes.ss));
        let (mut lo1, mut hi1) = (load(&lanes.lo1), load(&lanes.hi1));
        let (mut lo0, mut hi0) = (load(&lanes.lo0), load(&lanes.hi0));
        // Non-zero lanes: a value not 0 or 1 was seen.
        let mut not01 = _mm256_setzero_pd();
        for (k, (v, t)) in vs.iter().zip(ts).enumerate() {
            // The values 2 KB ahead, and the arms' 64-byte line ahead once per line:
            // on this loop the hardware's own prefetching left most of the time
            // waiting on memory (a prefetch is a hint that cannot fault).
            _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().wrapping_add(PREFETCH) as *const i8);
            if k % 16 == 0 {
                _mm_prefetch::<_MM_HINT_T0>(t.as_ptr().wrapping_add(PREFETCH) as *const i8);
            }
            let x = unsafe { _mm256_loadu_pd(v.as_ptr()) };
            // The four arms as bytes 0/1 (a bool is one of those); 0 − 1 is all ones,
            // the mask of a treated row.
            let arms = _mm_cvtsi32_si128(i32::from_le_bytes(t.map(u8::from)));
            let m = _mm256_castsi256_pd(_mm256_sub_epi64(
                _mm256_setzero_si256(),
                _mm256_cvtepu8_epi64(arms),
            ));
            let d = _mm256_sub_pd(x, shift);
            s = _mm256_add_pd(s, d);
            ss = _mm256_add_pd(ss, _mm256_mul_pd(d, d));
            s1 = _mm256_add_pd(s1, _mm256_blendv_pd(nzero, x, m));
            lo1 = _mm256_min_pd(_mm256_blendv_pd(inf, x, m), lo1);
            hi1 = _mm256_max_pd(_mm256_blendv_pd(ninf, x, m), hi1);
            lo0 = _mm256_min_pd(_mm256_blendv_pd(x, inf, m), lo0);
            hi0 = _mm256_max_pd(_mm256_blendv_pd(x, ninf, m), hi0);
            let is01 = _mm256_or_pd(
                _mm256_cmp_pd::<_CMP_EQ_OQ>(x, zero),
                _mm256_cmp_pd::<_CMP_EQ_OQ>(x, one),
            );
            not01 = _mm256_or_pd(not01, _mm256_xor_pd(is01, ones));
        }
        let store =
            |a: &mut [f64; LANES], v: __m256d| unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) };
        store(&mut lanes.s, s);
        store(&mut lanes.s1, s1);
        store(&mut lanes.ss, ss);
        store(&mut lanes.lo1, lo1);
        store(&mut lanes.hi1, hi1);
        store(&mut lanes.lo0, lo0);
        store(&mut lanes.hi0, hi0);
        let mut flags = [0.0; LANES];
        store(&mut flags, not01);
        lanes.not_binary = flags.map(f64::to_bits);
        let mask = |t: bool| u64::from(t).wrapping_neg();
        for (&v, &t) in vr.iter().zip(tr) {
            lanes.add(0, v, mask(t));
        }
        lanes.combine(&c[..n])
    }

    #[inline(always)]
    fn of_lanes(c: &[f64], treated: &[bool]) -> Self {
        let n = c.len().min(treated.len());
        let mut lanes = Lanes::new(c.first().copied().unwrap_or(0.0));
        let (vs, vr) = c[..n].as_chunks::<LANES>();
        let (ts, tr) = treated[..n].as_chunks::<LANES>();
        let mask = |t: bool| u64::from(t).wrapping_neg();
        for (v, t) in vs.iter().zip(ts) {
            let m = t.map(mask);
            for l in 0..LANES {
                lanes.add(l, v[l], m[l]);
            }
        }
        for (&v, &t) in vr.iter().zip(tr) {
            lanes.add(0, v, mask(t));
        }
        lanes.combine(&c[..n])
    }
}

/// The smaller of two finite numbers, as one compare-and-select (which `f64::min`,
/// minding NaN, is not).
#[inline(always)]
fn least(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The larger of two finite numbers ([`least`]).
#[inline(always)]
fn greatest(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// The smallest and largest value of a covariate in each arm, and whether every value
/// is 0 or 1.
pub(super) struct ArmRanges {
    lo1: f64,
    hi1: f64,
    pub(super) lo0: f64,
    pub(super) hi0: f64,
    binary: bool,
}

impl ArmRanges {
    /// How covariate `name` with these ranges separates the arms, if it does: a 0/1
    /// level present in one arm only, or ranges that do not overlap (or touch at one
    /// value).
    fn separation(&self, name: &str) -> Option<String> {
        let Self {
            lo1,
            hi1,
            lo0,
            hi0,
            binary,
        } = *self;
        if binary && lo1.min(lo0) < hi1.max(hi0) {
            // A level present in one arm only: its coefficient runs off to ±∞.
            for level in [0.0, 1.0] {
                let in1 = lo1 == level || hi1 == level;
                let in0 = lo0 == level || hi0 == level;
                if in1 != in0 {
                    let arm = if in1 { "treated" } else { "comparison" };
                    return Some(format!(
                        "covariate \"{name}\" = {level} occurs only in the {arm} arm"
                    ));
                }
            }
            None
        } else if hi1 <= lo0 || hi0 <= lo1 {
            Some(format!(
                "the values of covariate \"{name}\" in the two arms do not overlap \
                 (treated {lo1} to {hi1}, comparison {lo0} to {hi0})"
            ))
        } else {
            None
        }
    }
}

/// Fit the propensity model P(treated | x) = 1 / (1 + exp(−(β₀ + x'β))).
///
/// Fails, with a message naming the covariate where one is to blame, when: the inputs
/// do not fit together ([`check_shapes`]) or a value is not finite; a covariate does not vary ("covariate
/// \"x\" is constant"); the covariates are collinear; one covariate separates the arms;
/// or the iterations do not converge (separation by a combination of covariates, or
/// non-convergence in [`MAX_ITER`] steps).
pub fn logit(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<Logit> {
    let columns = checked_columns(treated, x, names)?;
    let k = x.len() + 1;
    let (centre, inv_scale) = centre_and_scale(&columns, names)?;
    if let Some(why) = columns
        .iter()
        .zip(names)
        .find_map(|(col, name)| col.ranges.separation(name))
    {
        return Err(StatsError::Invalid(format!(
            "the propensity model cannot be fitted: {why} (complete or quasi-complete \
             separation, so participation is perfectly predicted and the comparison \
             group has no comparable units); drop or coarsen that covariate, or restrict \
             the sample to where both arms occur"
        )));
    }
    let design = Standardised::new(x, centre, inv_scale);
    let (gamma, iterations) = newton(treated, &design, names)?;
    let (fitted, deviance, info) = fitted_and_information(treated, &design, gamma.as_slice());
    let cov_scaled = info
        .clone()
        .cholesky()
        .ok_or(StatsError::Collinear { index: 0 })?
        .inverse();
    let (beta, cov) = to_covariate_scale(&design, &gamma, cov_scaled);
    let fitted_ok = fitted.par_iter().all(|p| p.is_finite());
    if !fitted_ok {
        return Err(StatsError::Invalid(
            "the propensity model gave a non-finite probability".into(),
        ));
    }
    Ok(Logit {
        coef: beta.iter().copied().collect(),
        std_error: (0..k).map(|j| cov[(j, j)].sqrt()).collect(),
        fitted,
        iterations,
        deviance,
        centre: design.centre,
        inv_scale: design.inv_scale,
        information: info,
    })
}

/// The centre (mean) and reciprocal scale (1/standard deviation) of every covariate;
/// an error naming a covariate that does not vary.
fn centre_and_scale(columns: &[Column], names: &[&str]) -> StatsResult<(Vec<f64>, Vec<f64>)> {
    let mut centre = Vec::with_capacity(columns.len());
    let mut inv_scale = Vec::with_capacity(columns.len());
    for (col, name) in columns.iter().zip(names) {
        let (m, v) = (col.mean, col.var);
        if !crate::stats::above(v, 0.0) || v.sqrt() <= 1e-12 * m.abs() {
            return Err(StatsError::Invalid(format!(
                "covariate \"{name}\" is constant; leave it out of the propensity model"
            )));
        }
        centre.push(m);
        inv_scale.push(1.0 / v.sqrt());
    }
    Ok((centre, inv_scale))
}

/// The Newton-Raphson iterations from the intercept-only fit: the coefficients γ on
/// the standardised design and the number of steps taken; an error when the
/// information is singular or the steps do not converge in [`MAX_ITER`].
///
/// The iterations stop after the first step smaller than [`STEP_TOL`] (relative to the
/// largest coefficient). Newton's method converges quadratically: what remains after a
/// step of size δ is about Cδ², and C is of order one for this likelihood (on the
/// benchmark's 10^6 units and ten covariates the steps were 0.36, 0.094, 3.8e-3,
/// 8.5e-6, 4.8e-11, 4.0e-17, so C ≈ 0.6), so after a step below 1e-10 the
/// coefficients are at rounding level. (Until 2026-12 one more step was taken after
/// that: a whole pass over the data that moved nothing above 1e-16.) From
/// [`WARM_FROM`] units on, the iterations start from a subsample's fit
/// ([`warm_newton`]).
fn newton(
    treated: &[bool],
    design: &Standardised,
    names: &[&str],
) -> StatsResult<(DVector<f64>, usize)> {
    let n = treated.len();
    let start = intercept_start(treated, design.k());
    if n >= WARM_FROM
        && let Some(fit) = warm_newton(treated, design, start.clone())
    {
        return Ok(fit);
    }
    plain_newton(treated, design, names, start)
}

/// The iterations of [`newton`] on all units from `start`.
fn plain_newton(
    treated: &[bool],
    design: &Standardised,
    names: &[&str],
    start: DVector<f64>,
) -> StatsResult<(DVector<f64>, usize)> {
    let n = treated.len();
    let mut gamma = start;
    for iter in 1..=MAX_ITER {
        let step = newton_step(treated, design, &mut gamma, 1).ok_or_else(|| {
            StatsError::Invalid(format!(
                "the propensity model cannot be fitted: the covariates ({}) are collinear \
                 or the fitted probabilities reached 0 or 1 (separation); drop a covariate",
                names.join(", ")
            ))
        })?;
        if step.amax() < STEP_TOL * gamma.amax().max(1.0) {
            return Ok((gamma, iter));
        }
    }
    Err(not_converged(design, n, gamma.as_slice(), names))
}

/// One Newton step from γ, with the score and the information in one pass over every
/// `stride`-th block of rows ([`score_and_information`]): γ moved by the step, and the
/// step; `None` when the information is not positive definite.
fn newton_step(
    treated: &[bool],
    design: &Standardised,
    gamma: &mut DVector<f64>,
    stride: usize,
) -> Option<DVector<f64>> {
    let (score, info) = score_and_information(treated, design, gamma.as_slice(), stride);
    let step = info.cholesky()?.solve(&score);
    *gamma += &step;
    Some(step)
}

/// The intercept-only fit, where the iterations start: the log odds of treatment, and
/// 0 for the `k` − 1 covariates.
fn intercept_start(treated: &[bool], k: usize) -> DVector<f64> {
    let n1 = treated.par_iter().filter(|&&t| t).count();
    let pbar = n1 as f64 / treated.len() as f64;
    let mut start = DVector::zeros(k);
    start[0] = (pbar / (1.0 - pbar)).ln();
    start
}

/// From this many units on, Newton's method starts from a fit on a subsample
/// ([`warm_newton`]).
const WARM_FROM: usize = 1 << 17;
/// The subsample: every `WARM_STRIDE`-th block of [`rows::BLOCK`] rows, spread over
/// the whole file (a sixteenth of the units).
const WARM_STRIDE: usize = 16;
/// Steps allowed in each stage of the warm start before it gives way to the plain
/// iterations.
const WARM_MAX_ITER: usize = 25;

/// Newton's method on many units, started close to the estimate: first iterated to
/// convergence on a subsample ([`WARM_STRIDE`]) from `start`, then on all units from
/// there. The subsample's estimate differs from the full one by sampling error (about
/// 0.01-0.02 on the standardised scale at 10^6 units), which two or three steps on all
/// units remove, where five passes were needed from the intercept-only start.
///
/// Stopping: after a step δₖ below [`STEP_TOL`] as in [`newton`], or when δₖ is below
/// 1e-6 and the next step predicted from the quadratic rate, 10·Cδₖ² with
/// C = δₖ/δₖ₋₁², is below [`STEP_TOL`]: the pass that would confirm a step at rounding
/// level is left out. On the benchmark (10^6 units, ten covariates) the subsample's
/// steps were those of the plain iterations on all units (0.36 ... 4.7e-11), and
/// then the full-data steps 2.0e-2, 1.9e-4, 1.6e-8: three passes over all units (plus
/// about a third of a pass on the subsample) in place of five. The coefficients agree
/// with the plain iterations' to 1e-12 (test `warm_start_gives_the_plain_estimate`);
/// on the benchmark no number of the output moved by more than 2.6e-12 relative.
///
/// `None` whenever either stage fails (a singular information, no convergence within
/// [`WARM_MAX_ITER`] steps): [`newton`] then iterates from the intercept-only start as
/// for fewer units, with its own messages.
fn warm_newton(
    treated: &[bool],
    design: &Standardised,
    start: DVector<f64>,
) -> Option<(DVector<f64>, usize)> {
    let mut gamma = start;
    let stage = |stride: usize, predicted: bool, gamma: &mut DVector<f64>| {
        let mut last: Option<f64> = None;
        for iter in 1..=WARM_MAX_ITER {
            let step = newton_step(treated, design, gamma, stride)?;
            let (size, tol) = (step.amax(), STEP_TOL * gamma.amax().max(1.0));
            let next = last.map(|prev| 10.0 * size / (prev * prev) * size * size);
            if !size.is_finite() {
                return None;
            }
            if size < tol || (predicted && size < 1e-6 && next.is_some_and(|p| p < tol)) {
                return Some(iter);
            }
            last = Some(size);
        }
        None
    };
    stage(WARM_STRIDE, false, &mut gamma)?;
    let iterations = stage(1, true, &mut gamma)?;
    Some((gamma, iterations))
}

/// The error after [`MAX_ITER`] steps: separation by a combination of covariates when
/// some linear predictor at γ is beyond [`ETA_SEPARATED`], else non-convergence.
fn not_converged(design: &Standardised, n: usize, gamma: &[f64], names: &[&str]) -> StatsError {
    let separated = max_abs_eta(design, n, gamma) > ETA_SEPARATED;
    StatsError::Invalid(if separated {
        format!(
            "the propensity model did not converge in {MAX_ITER} steps: a combination \
             of the covariates ({}) separates the arms (quasi-complete separation; \
             some units have a propensity score of 0 or 1); drop or coarsen \
             covariates, or restrict the sample to where both arms occur",
            names.join(", ")
        )
    } else {
        format!(
            "the propensity model did not converge in {MAX_ITER} steps; check the \
             covariates ({}) for near-collinearity",
            names.join(", ")
        )
    })
}

/// The fitted scores, the deviance and the information at the final estimate γ (for
/// the standard errors), in one pass over the rows.
fn fitted_and_information(
    treated: &[bool],
    design: &Standardised,
    gamma: &[f64],
) -> (Vec<f64>, f64, DMatrix<f64>) {
    let (n, k) = (treated.len(), design.k());
    let mut fitted = vec![0.0; n];
    let parts: Vec<(Cross, f64)> = fitted
        .par_chunks_mut(rows::CHUNK)
        .enumerate()
        .map(|(c, out)| {
            let i0 = c * rows::CHUNK;
            let mut b = Block::new(k);
            let mut w = [0.0; rows::BLOCK];
            let mut tmp = [0.0; rows::BLOCK];
            let mut info = Cross::new(k);
            let mut loglik = Vec::with_capacity(out.len());
            for (b0, len) in rows::blocks(i0, i0 + out.len()) {
                b.set_len(len);
                design.fill(&mut b, 0, b0);
                let o = &mut out[b0 - i0..b0 - i0 + len];
                design.predict(&b, 0, gamma, o);
                for (r, e) in o.iter_mut().enumerate() {
                    let p = expit(*e);
                    *e = p;
                    w[r] = p * (1.0 - p);
                    loglik.push(if treated[b0 + r] {
                        p.ln()
                    } else {
                        (1.0 - p).ln()
                    });
                }
                info.add(&b, Some(&w[..len]), &mut tmp);
            }
            (info, rows::sum(&loglik))
        })
        .collect();
    let deviance = -2.0 * rows::sum(&parts.iter().map(|p| p.1).collect::<Vec<_>>());
    let info = rows::merge_all(parts.into_iter().map(|p| p.0).collect())
        .map_or_else(|| DMatrix::zeros(k, k), |c| c.to_matrix());
    (fitted, deviance, info)
}

/// The coefficients and their covariance back on the covariates' scale: β = M γ with
/// β_j = γ_j / s_j (j ≥ 1) and β₀ = γ₀ − Σ γ_j c_j / s_j, and M V M'.
fn to_covariate_scale(
    design: &Standardised,
    gamma: &DVector<f64>,
    cov_scaled: DMatrix<f64>,
) -> (DVector<f64>, DMatrix<f64>) {
    let k = design.k();
    let mut m = DMatrix::zeros(k, k);
    m[(0, 0)] = 1.0;
    for j in 1..k {
        m[(j, j)] = design.inv_scale[j - 1];
        m[(0, j)] = -design.centre[j - 1] * design.inv_scale[j - 1];
    }
    let beta = &m * gamma;
    let cov = &m * cov_scaled * m.transpose();
    (beta, cov)
}

/// The score Σ zᵢ(Tᵢ − pᵢ) and the information Σ pᵢ(1 − pᵢ) zᵢzᵢ' of the logistic model
/// at γ (on the standardised design), in one pass over the rows ([`rows`]: fixed
/// chunks in parallel, summed in chunk order); over every `stride`-th block of rows
/// only (1: all rows).
fn score_and_information(
    treated: &[bool],
    design: &Standardised,
    gamma: &[f64],
    stride: usize,
) -> (DVector<f64>, DMatrix<f64>) {
    let k = design.k();
    let parts = rows::map_chunks(treated.len(), true, |i0, i1| {
        let mut b = Block::new(k);
        let mut eta = [0.0; rows::BLOCK];
        let mut w = [0.0; rows::BLOCK];
        let mut tmp = [0.0; rows::BLOCK];
        let mut score = vec![0.0; k];
        let mut info = Cross::new(k);
        let blocks =
            rows::blocks(i0, i1).filter(|(b0, _)| (b0 / rows::BLOCK).is_multiple_of(stride));
        for (b0, len) in blocks {
            b.set_len(len);
            design.fill(&mut b, 0, b0);
            design.predict(&b, 0, gamma, &mut eta);
            for r in 0..len {
                let p = expit(eta[r]);
                w[r] = p * (1.0 - p);
                // The residual Tᵢ − pᵢ, kept in `eta`.
                eta[r] = f64::from(u8::from(treated[b0 + r])) - p;
            }
            rows::add_sums(&mut score, &b, &eta[..len]);
            info.add(&b, Some(&w[..len]), &mut tmp);
        }
        (score, info)
    });
    let mut score = DVector::zeros(k);
    let mut infos = Vec::with_capacity(parts.len());
    for (s, i) in parts {
        for (a, v) in score.iter_mut().zip(&s) {
            *a += v;
        }
        infos.push(i);
    }
    let info = rows::merge_all(infos).map_or_else(|| DMatrix::zeros(k, k), |c| c.to_matrix());
    (score, info)
}

/// The largest |γ'zᵢ| over the units.
fn max_abs_eta(design: &Standardised, n: usize, gamma: &[f64]) -> f64 {
    let k = design.k();
    let mut b = Block::new(k);
    let mut eta = [0.0; rows::BLOCK];
    let mut top = 0.0_f64;
    for (b0, len) in rows::blocks(0, n) {
        b.set_len(len);
        design.fill(&mut b, 0, b0);
        design.predict(&b, 0, gamma, &mut eta);
        top = eta[..len].iter().fold(top, |t, e| t.max(e.abs()));
    }
    top
}

/// The logistic function 1/(1 + e^(−x)), without overflow for large |x|: with
/// e = exp(−|x|), 1/(1 + e) for x ≥ 0 and e/(1 + e) below. The sign picks the
/// numerator only, so the loop over the units has no branch on it (the signs of the
/// linear predictors are as random as the arms).
#[inline]
pub fn expit(x: f64) -> f64 {
    let e = (-x.abs()).exp();
    let num = if x >= 0.0 { 1.0 } else { e };
    num / (1.0 + e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same bits as the two-branch form 1/(1 + e^(−x)) | e^x/(1 + e^x), on
    /// both sides of 0, at ±0, far out and for NaN.
    #[test]
    fn expit_is_the_two_branch_form() {
        let two = |x: f64| {
            if x >= 0.0 {
                1.0 / (1.0 + (-x).exp())
            } else {
                let e = x.exp();
                e / (1.0 + e)
            }
        };
        let mut xs = vec![0.0, -0.0, 1e-300, -1e-300, 745.0, -745.0, 800.0, -800.0];
        xs.extend((-4000..=4000).map(|i| f64::from(i) * 0.0123));
        for x in xs {
            assert_eq!(expit(x).to_bits(), two(x).to_bits(), "x = {x}");
        }
        assert!(expit(f64::NAN).is_nan());
        assert_eq!(expit(-0.0), 0.5);
    }

    /// Uniform numbers in [0, 1) from a linear congruential generator seeded `seed`.
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The lanes of [`Column::of`] give the bounds a plain scan gives, for every
    /// length around the lane count (the remainder rows), with one arm empty, and
    /// for 0/1 columns.
    #[test]
    fn arm_ranges_are_those_of_a_plain_scan() {
        let plain = |c: &[f64], t: &[bool]| {
            let pick = |arm: bool| c.iter().zip(t).filter(move |p| *p.1 == arm).map(|p| *p.0);
            let lo = |arm| pick(arm).fold(f64::INFINITY, f64::min);
            let hi = |arm| pick(arm).fold(f64::NEG_INFINITY, f64::max);
            let binary = c.iter().all(|&v| v == 0.0 || v == 1.0);
            (lo(true), hi(true), lo(false), hi(false), binary)
        };
        let mut next = uniforms(7);
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1001] {
            let u: Vec<f64> = (0..n).map(|_| next()).collect();
            let treated: Vec<bool> = (0..n).map(|_| next() < 0.3).collect();
            let cont: Vec<f64> = u.iter().map(|v| 40.0 * v - 10.0).collect();
            let bin: Vec<f64> = u.iter().map(|&v| f64::from(u8::from(v < 0.5))).collect();
            for c in [&cont, &bin] {
                for t in [treated.clone(), vec![true; n], vec![false; n]] {
                    let r = Column::of(c, &t).ranges;
                    assert_eq!(
                        (r.lo1, r.hi1, r.lo0, r.hi0, r.binary),
                        plain(c, &t),
                        "n = {n}"
                    );
                }
            }
        }
    }

    /// The AVX2 path of the column summary gives the portable one's result to the
    /// bit (both run the same operations lane by lane), at lengths around the lane
    /// count, with all, some or no units treated, on continuous and 0/1 columns (a
    /// −0.0 among them), and both find values that are not finite wherever they are.
    #[test]
    fn column_summary_paths_agree_to_the_bit() {
        let bits = |c: &Column| {
            let r = &c.ranges;
            (
                c.finite,
                [c.treated_sum, c.mean, c.var, r.lo1, r.hi1, r.lo0, r.hi0].map(f64::to_bits),
                r.binary,
            )
        };
        let mut next = uniforms(11);
        for n in [1, 7, 8, 9, 16, 17, 100, 1001] {
            for share in [0.0, 0.4, 1.0] {
                let t: Vec<bool> = (0..n).map(|_| next() < share).collect();
                let cont: Vec<f64> = (0..n).map(|_| 1e3 * next() - 400.0).collect();
                let bin: Vec<f64> = (0..n).map(|_| f64::from(u8::from(next() < 0.5))).collect();
                let mut zeros = bin.clone();
                zeros[0] = -0.0;
                for c in [&cont, &bin, &zeros] {
                    let portable = Column::of_lanes(c, &t);
                    assert_eq!(bits(&Column::of(c, &t)), bits(&portable), "n = {n}");
                }
                // Values that are not finite, at every position of the lanes and in
                // the rows after them: found on both paths.
                for at in [0, n / 2, n - 1] {
                    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                        let mut c = cont.clone();
                        c[at] = bad;
                        assert!(!Column::of(&c, &t).finite, "n = {n}, at {at}");
                        assert!(!Column::of_lanes(&c, &t).finite, "n = {n}, at {at}");
                    }
                }
            }
        }
    }

    #[test]
    fn separation_is_named() {
        let t = [true, true, true, false, false, false, false];
        let x = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0];
        let z = [0.3, 0.1, 0.5, 0.2, 0.9, 0.4, 0.7];
        let e = logit(&t, &[&x, &z], &["age", "z"]).unwrap_err().to_string();
        assert!(e.contains("\"age\"") && e.contains("separation"), "{e}");
        let d = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let e = logit(&t, &[&d], &["school_a"]).unwrap_err().to_string();
        assert!(
            e.contains("\"school_a\" = 1") && e.contains("treated"),
            "{e}"
        );
    }

    #[test]
    fn the_first_separating_covariate_is_named() {
        // z overlaps; "late" and "early" both separate: the first in order is named,
        // however the columns are shared out between threads.
        let t = [true, true, true, true, false, false, false, false];
        let z = [0.3, 0.1, 0.5, 0.8, 0.2, 0.9, 0.4, 0.7];
        let late = [5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0];
        let early = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let e = logit(&t, &[&z, &late, &early], &["z", "late", "early"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"late\"") && !e.contains("early"), "{e}");
        assert!(e.contains("(treated 5 to 8, comparison 1 to 4)"), "{e}");
        let e = logit(&t, &[&z, &early, &late], &["z", "early", "late"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"early\" = 0 occurs only in the treated arm"),
            "{e}"
        );
    }

    /// On enough units for the warm start, the estimate is the one the plain
    /// iterations reach from the intercept-only start (to rounding level), in fewer
    /// passes over all units; the warm start really ran (it took fewer full-data steps).
    #[test]
    fn warm_start_gives_the_plain_estimate() {
        let n = WARM_FROM + 12_345;
        let mut u = uniforms(31);
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|j| {
                (0..n)
                    .map(|_| (u() - 0.5) * (j + 1) as f64 + j as f64)
                    .collect()
            })
            .collect();
        let treated: Vec<bool> = (0..n)
            .map(|i| {
                let eta = -0.4 + 0.8 * cols[0][i] - 0.3 * cols[1][i] + 0.2 * cols[3][i] - 0.6;
                u() < expit(eta)
            })
            .collect();
        let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let names = ["a", "b", "c", "d"];
        let columns = checked_columns(&treated, &x, &names).unwrap();
        let (centre, inv_scale) = centre_and_scale(&columns, &names).unwrap();
        let design = Standardised::new(&x, centre, inv_scale);
        let start = intercept_start(&treated, design.k());
        let (plain, plain_steps) = plain_newton(&treated, &design, &names, start.clone()).unwrap();
        let (warm, warm_steps) = warm_newton(&treated, &design, start).unwrap();
        assert!(warm_steps < plain_steps, "{warm_steps} vs {plain_steps}");
        for (a, b) in warm.iter().zip(plain.iter()) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
        }
        // The public fit takes the warm start on these units and gives the same.
        let fit = logit(&treated, &x, &names).unwrap();
        assert_eq!(fit.iterations, warm_steps);
    }

    #[test]
    fn intercept_only_is_the_share() {
        let t = [true, false, false, true, false, false, true, false];
        let x = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let f = logit(&t, &[&x], &["x"]).unwrap();
        // The fitted scores reproduce the share of treated units at each level.
        let p1 = f.fitted[1];
        assert!((p1 - 0.5).abs() < 1e-12, "{p1}");
        assert!((f.fitted[0] - 0.25).abs() < 1e-12);
    }
}
