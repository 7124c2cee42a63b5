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
//! coefficients are returned on the covariates' own scale. Iteration stops when the
//! largest change of a scaled coefficient is below 1e-10 (one more step is then taken,
//! which Newton's quadratic convergence brings to rounding level); after
//! [`MAX_ITER`] steps without that, the fit fails.
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
}

/// Check the shapes shared by every estimator of this module: `x` columns as long as
/// `treated`, finite values, at least one unit in each arm and more treated units than
/// covariates. `names` name the columns in messages.
pub(crate) fn check_inputs(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<()> {
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
        if let Some(i) = c.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::Invalid(format!(
                "covariate \"{name}\" has a missing or non-finite value at unit {i} (0-based); \
                 drop incomplete rows first"
            )));
        }
    }
    let n1 = treated.iter().filter(|&&t| t).count();
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

/// Independent sets of bounds that [`ArmRanges::of`] keeps, one per lane.
const LANES: usize = 8;

/// The bounds of [`ArmRanges`] per lane, bound by bound.
struct Lanes {
    lo1: [f64; LANES],
    hi1: [f64; LANES],
    lo0: [f64; LANES],
    hi0: [f64; LANES],
    binary: [bool; LANES],
}

impl Lanes {
    fn new() -> Self {
        Self {
            lo1: [f64::INFINITY; LANES],
            hi1: [f64::NEG_INFINITY; LANES],
            lo0: [f64::INFINITY; LANES],
            hi0: [f64::NEG_INFINITY; LANES],
            binary: [true; LANES],
        }
    }

    /// Widen lane `l`'s bounds of arm `t` to take in `v` (finite).
    #[inline(always)]
    fn add(&mut self, l: usize, v: f64, t: bool) {
        let (inf, ninf) = (f64::INFINITY, f64::NEG_INFINITY);
        let (v1lo, v1hi) = if t { (v, v) } else { (inf, ninf) };
        let (v0lo, v0hi) = if t { (inf, ninf) } else { (v, v) };
        self.lo1[l] = least(v1lo, self.lo1[l]);
        self.hi1[l] = greatest(v1hi, self.hi1[l]);
        self.lo0[l] = least(v0lo, self.lo0[l]);
        self.hi0[l] = greatest(v0hi, self.hi0[l]);
        self.binary[l] &= (v == 0.0) | (v == 1.0);
    }

    /// The bounds over all lanes.
    fn combine(self) -> ArmRanges {
        let low = |a: [f64; LANES]| a.into_iter().fold(f64::INFINITY, least);
        let high = |a: [f64; LANES]| a.into_iter().fold(f64::NEG_INFINITY, greatest);
        ArmRanges {
            lo1: low(self.lo1),
            hi1: high(self.hi1),
            lo0: low(self.lo0),
            hi0: high(self.hi0),
            binary: self.binary.iter().all(|&b| b),
        }
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

/// A covariate that on its own separates the arms, with a description of how (the
/// first such covariate in the order of `x`; the covariates are looked at in parallel).
fn separating_covariate(treated: &[bool], x: &[&[f64]], names: &[&str]) -> Option<String> {
    let found: Vec<Option<String>> = x
        .par_iter()
        .zip(names)
        .map(|(c, name)| ArmRanges::of(c, treated).separation(name))
        .collect();
    found.into_iter().flatten().next()
}

/// The smallest and largest value of a covariate in each arm, and whether every value
/// is 0 or 1.
struct ArmRanges {
    lo1: f64,
    hi1: f64,
    lo0: f64,
    hi0: f64,
    binary: bool,
}

impl ArmRanges {
    /// One pass over a column of finite values. Each value is compared with the bounds
    /// of both arms, the other arm's side getting ±∞ (which moves no bound), so the
    /// loop does not branch on the arm: the arms alternate as randomly as the data.
    /// The rows go through [`LANES`] independent sets of bounds, combined at the end;
    /// a smallest or largest value does not depend on the order it is looked for in,
    /// so this is the one-lane result, and the lanes let the compiler use vector
    /// compares (a single chain of `min`s waited on each comparison before: 17-24 ms
    /// for ten columns of 10^6 rows on two cores).
    fn of(c: &[f64], treated: &[bool]) -> Self {
        let mut lanes = Lanes::new();
        let (mut vs, mut ts) = (c.chunks_exact(LANES), treated.chunks_exact(LANES));
        for (v, t) in (&mut vs).zip(&mut ts) {
            for l in 0..LANES {
                lanes.add(l, v[l], t[l]);
            }
        }
        for (&v, &t) in vs.remainder().iter().zip(ts.remainder()) {
            lanes.add(0, v, t);
        }
        lanes.combine()
    }

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
/// do not fit together ([`check_inputs`]); a covariate does not vary ("covariate
/// \"x\" is constant"); the covariates are collinear; one covariate separates the arms;
/// or the iterations do not converge (separation by a combination of covariates, or
/// non-convergence in [`MAX_ITER`] steps).
pub fn logit(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<Logit> {
    check_inputs(treated, x, names)?;
    let k = x.len() + 1;
    // Centre and scale every covariate.
    let (centre, inv_scale) = centre_and_scale(x, names)?;
    if let Some(why) = separating_covariate(treated, x, names) {
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
        .cholesky()
        .ok_or(StatsError::Collinear { index: 0 })?
        .inverse();
    let (beta, cov) = to_covariate_scale(&design, &gamma, cov_scaled);
    let fitted_ok = fitted.iter().all(|p| p.is_finite());
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
    })
}

/// The centre (mean) and reciprocal scale (1/standard deviation) of every covariate;
/// an error naming a covariate that does not vary.
fn centre_and_scale(x: &[&[f64]], names: &[&str]) -> StatsResult<(Vec<f64>, Vec<f64>)> {
    let moments = rows::moments(x);
    let mut centre = Vec::with_capacity(x.len());
    let mut inv_scale = Vec::with_capacity(x.len());
    for (j, &(m, v)) in moments.iter().enumerate() {
        if !crate::stats::above(v, 0.0) || v.sqrt() <= 1e-12 * m.abs() {
            return Err(StatsError::Invalid(format!(
                "covariate \"{}\" is constant; leave it out of the propensity model",
                names[j]
            )));
        }
        centre.push(m);
        inv_scale.push(1.0 / v.sqrt());
    }
    Ok((centre, inv_scale))
}

/// The Newton-Raphson iterations from the intercept-only fit: the coefficients γ on
/// the standardised design and the number of steps taken (one more after the
/// convergence test passes); an error when the information is singular or the steps
/// do not converge in [`MAX_ITER`].
fn newton(
    treated: &[bool],
    design: &Standardised,
    names: &[&str],
) -> StatsResult<(DVector<f64>, usize)> {
    let n = treated.len();
    // Start from the intercept-only fit.
    let n1 = treated.iter().filter(|&&t| t).count();
    let pbar = n1 as f64 / n as f64;
    let mut gamma = DVector::zeros(design.k());
    gamma[0] = (pbar / (1.0 - pbar)).ln();
    let mut converged_at = None;
    for iter in 1..=MAX_ITER {
        // Score and information at γ in one pass over the rows.
        let (score, info) = score_and_information(treated, design, gamma.as_slice());
        let chol = info.cholesky().ok_or_else(|| {
            StatsError::Invalid(format!(
                "the propensity model cannot be fitted: the covariates ({}) are collinear \
                 or the fitted probabilities reached 0 or 1 (separation); drop a covariate",
                names.join(", ")
            ))
        })?;
        let step = chol.solve(&score);
        gamma += &step;
        let big = step.amax();
        if let Some(at) = converged_at {
            if iter > at {
                break;
            }
        } else if big < STEP_TOL * gamma.amax().max(1.0) {
            converged_at = Some(iter);
        }
        if iter == MAX_ITER {
            return Err(not_converged(design, n, gamma.as_slice(), names));
        }
    }
    Ok((gamma, converged_at.map_or(MAX_ITER, |a| a + 1)))
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
/// chunks in parallel, summed in chunk order).
fn score_and_information(
    treated: &[bool],
    design: &Standardised,
    gamma: &[f64],
) -> (DVector<f64>, DMatrix<f64>) {
    let k = design.k();
    let parts = rows::map_chunks(treated.len(), true, |i0, i1| {
        let mut b = Block::new(k);
        let mut eta = [0.0; rows::BLOCK];
        let mut w = [0.0; rows::BLOCK];
        let mut tmp = [0.0; rows::BLOCK];
        let mut score = vec![0.0; k];
        let mut info = Cross::new(k);
        for (b0, len) in rows::blocks(i0, i1) {
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

    /// The lanes of [`ArmRanges::of`] give the bounds a plain scan gives, for every
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
        let mut state = 7_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1001] {
            let u: Vec<f64> = (0..n).map(|_| next()).collect();
            let treated: Vec<bool> = (0..n).map(|_| next() < 0.3).collect();
            let cont: Vec<f64> = u.iter().map(|v| 40.0 * v - 10.0).collect();
            let bin: Vec<f64> = u.iter().map(|&v| f64::from(u8::from(v < 0.5))).collect();
            for c in [&cont, &bin] {
                for t in [treated.clone(), vec![true; n], vec![false; n]] {
                    let r = ArmRanges::of(c, &t);
                    assert_eq!(
                        (r.lo1, r.hi1, r.lo0, r.hi0, r.binary),
                        plain(c, &t),
                        "n = {n}"
                    );
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
