//! Entropy balancing for the average effect on the treated (Hainmueller 2012,
//! "Entropy balancing for causal effects", *Political Analysis* 20(1), eqs. 3–6; R
//! package `ebal`, function `ebalance`, first moments).
//!
//! The comparison units get the weights wᵢ closest to uniform in Kullback-Leibler
//! divergence, min Σ wᵢ log(wᵢ · n₀), subject to Σ wᵢ = 1 and Σ wᵢ xᵢ = x̄₁ (the
//! treated means of every covariate). The solution is wᵢ ∝ exp(λ'zᵢ), with λ the
//! minimiser of the convex dual L(λ) = log Σᵢ exp(λ'zᵢ) over the comparison units,
//! where zᵢ = (xᵢ − x̄₁)/s are the covariates centred at the treated means and scaled
//! by their standard deviation over all units (the scaling changes λ, not the
//! weights). The gradient of L is the weighted mean of z (zero at balance) and its
//! Hessian the weighted covariance of z, both from one pass ([`Controls::moments`]);
//! Newton steps with a backtracking line search
//! on L stop when every weighted mean of z is within 1e-12 of zero. The passes over
//! the comparison units compute z block by block from the columns (nothing of size
//! n×k is stored) and sum in the fixed order of [`super::rows`] on all cores.
//!
//! Balance is infeasible when the treated mean vector lies outside the convex hull of
//! the comparison units (then L has no minimum). A treated mean outside the range of
//! one covariate among the comparison units is reported naming that covariate; joint
//! infeasibility shows as Newton steps that do not reach balance.
//!
//! Treated units keep equal weights 1/n₁.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::rows::{self, Block, Cross};

use super::propensity::checked_columns;
use crate::stats::{StatsError, StatsResult};

/// Largest weighted mean of a standardised covariate accepted as balanced.
pub const BALANCE_TOL: f64 = 1e-12;
/// Newton steps before balance is declared infeasible.
const MAX_ITER: usize = 200;

/// Entropy-balancing weights.
#[derive(Debug, Clone)]
pub struct EntropyFit {
    /// One weight per unit: 1/n₁ for treated units, the balancing weights (summing to 1)
    /// for comparison units.
    pub weights: Vec<f64>,
    /// The dual solution λ, on the standardised covariates.
    pub lambda: Vec<f64>,
    /// Newton steps taken.
    pub iterations: usize,
    /// Largest |weighted comparison mean − treated mean| of a standardised covariate.
    pub max_imbalance: f64,
}

/// Entropy-balancing weights for the ATT on the covariates `x` (named by `names` in
/// messages). See the module documentation for the method and its errors.
pub fn entropy_att(treated: &[bool], x: &[&[f64]], names: &[&str]) -> StatsResult<EntropyFit> {
    // One pass over every covariate: finite values, the treated mean, the SD over
    // all units, the comparison units' range.
    let columns = checked_columns(treated, x, names)?;
    let n = treated.len();
    let n1 = treated.iter().filter(|&&t| t).count();
    let k = x.len();
    let controls: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
    let n0 = controls.len();
    // z = (x − treated mean) / SD over all units, for the comparison units, computed
    // block by block from the columns (nothing of size n×k is stored).
    let stats: Vec<(f64, f64, f64, f64)> = columns
        .iter()
        .map(|col| {
            let m1 = col.treated_sum / n1 as f64;
            (m1, col.var.sqrt(), col.ranges.lo0, col.ranges.hi0)
        })
        .collect();
    let mut centre = Vec::with_capacity(k);
    let mut inv_scale = Vec::with_capacity(k);
    for (j, &(m1, s, lo, hi)) in stats.iter().enumerate() {
        if !crate::stats::above(s, 0.0) {
            return Err(StatsError::Invalid(format!(
                "covariate \"{}\" is constant; leave it out of the balance constraints",
                names[j]
            )));
        }
        if m1 < lo || m1 > hi || (lo == hi && m1 != lo) {
            return Err(StatsError::Invalid(format!(
                "entropy balancing is infeasible: the treated mean of covariate \"{}\" ({m1}) \
                 lies outside the range of the comparison group ({lo} to {hi}), so no \
                 weighting of the comparison group can match it; drop that covariate or \
                 find comparison units like the participants",
                names[j]
            )));
        }
        centre.push(m1);
        inv_scale.push(1.0 / s);
    }
    let z = Controls {
        x,
        rows: &controls,
        centre,
        inv_scale,
    };
    let mut lambda = DVector::<f64>::zeros(k);
    let mut w = vec![0.0; n0];
    let mut objective = z.eval(lambda.as_slice(), &mut w);
    let mut iterations = 0;
    let mut trial = vec![0.0; n0];
    loop {
        let (grad, hess) = z.moments(&w);
        let grad = DVector::from_vec(grad);
        if grad.amax() <= BALANCE_TOL {
            let mut weights = vec![1.0 / n1 as f64; n];
            for (r, &i) in controls.iter().enumerate() {
                weights[i] = w[r];
            }
            return Ok(EntropyFit {
                weights,
                lambda: lambda.iter().copied().collect(),
                iterations,
                max_imbalance: grad.amax(),
            });
        }
        if iterations == MAX_ITER {
            return Err(infeasible(names, grad.amax()));
        }
        iterations += 1;
        // Where the one-pass Hessian is not positive definite (the weights piled on
        // a few units, as when balance is infeasible, so that the subtraction of gg'
        // left only rounding), the covariance about the means, summed directly.
        let chol = hess
            .cholesky()
            .or_else(|| z.covariance(&w, grad.as_slice()).cholesky());
        let step = match chol {
            Some(ch) => -ch.solve(&grad),
            // Past the first step the weights have moved off uniform: a covariance
            // that was positive definite under uniform weights (the first step) and
            // is no longer has its weight piled on a few units, which is how a
            // balance that cannot be reached shows (the treated means outside the
            // comparison units' hull); which of the two errors a given infeasible
            // problem reaches first otherwise depends on rounding.
            None if iterations > 1 => return Err(infeasible(names, grad.amax())),
            None => {
                return Err(StatsError::Invalid(format!(
                    "entropy balancing cannot proceed: among the weighted comparison units the \
                     covariates ({}) are collinear or one is constant; drop a covariate",
                    names.join(", ")
                )));
            }
        };
        // Backtracking line search (Armijo) on the dual objective.
        let slope = grad.dot(&step);
        let mut t = 1.0;
        loop {
            let cand = &lambda + &step * t;
            let f = z.eval(cand.as_slice(), &mut trial);
            // Near the solution the decrease of L (about −slope/2) is below the
            // rounding of L itself: the full Newton step is then taken, as the
            // quadratic region has been reached.
            if f <= objective + 1e-4 * t * slope || -slope < 1e-12 || t < 1e-10 {
                lambda = cand;
                objective = f;
                std::mem::swap(&mut w, &mut trial);
                break;
            }
            t *= 0.5;
        }
        if !objective.is_finite() || lambda.amax() > 1e6 {
            return Err(infeasible(names, grad.amax()));
        }
    }
}

/// The standardised covariates of the comparison units, read block by block from the
/// columns: zᵣⱼ = (x_j[rows[r]] − centre_j)·inv_scale_j. Every pass runs in the chunks
/// and order of [`rows`].
struct Controls<'a> {
    x: &'a [&'a [f64]],
    rows: &'a [usize],
    centre: Vec<f64>,
    inv_scale: Vec<f64>,
}

impl Controls<'_> {
    /// Fill `b` with comparison units `r0..r0 + b.len()`.
    fn fill(&self, b: &mut Block, r0: usize) {
        let idx = &self.rows[r0..r0 + b.len()];
        for (j, c) in self.x.iter().enumerate() {
            let (m, s) = (self.centre[j], self.inv_scale[j]);
            for (o, &i) in b.col_mut(j).iter_mut().zip(idx) {
                *o = (c[i] - m) * s;
            }
        }
    }

    /// The dual objective L(λ) = log Σ exp(λ'zᵣ), filling `w` with the normalised
    /// weights exp(λ'zᵣ)/Σ exp(λ'z) (computed from λ'zᵣ less its largest value).
    fn eval(&self, lambda: &[f64], w: &mut [f64]) -> f64 {
        let k = self.x.len();
        let tops: Vec<f64> = w
            .par_chunks_mut(rows::CHUNK)
            .enumerate()
            .map(|(c, out)| {
                let r0 = c * rows::CHUNK;
                let mut b = Block::new(k);
                let mut top = f64::NEG_INFINITY;
                for (b0, len) in rows::blocks(r0, r0 + out.len()) {
                    b.set_len(len);
                    self.fill(&mut b, b0);
                    let o = &mut out[b0 - r0..b0 - r0 + len];
                    o.fill(0.0);
                    for (j, l) in lambda.iter().enumerate() {
                        for (v, zj) in o.iter_mut().zip(b.col(j)) {
                            *v += zj * l;
                        }
                    }
                    top = o.iter().fold(top, |t, &v| t.max(v));
                }
                top
            })
            .collect();
        let top = tops.iter().fold(f64::NEG_INFINITY, |t, &v| t.max(v));
        let totals: Vec<f64> = w
            .par_chunks_mut(rows::CHUNK)
            .map(|out| {
                for v in out.iter_mut() {
                    *v = (*v - top).exp();
                }
                rows::sum(out)
            })
            .collect();
        let total = totals.iter().fold(0.0, |a, b| a + b);
        w.par_chunks_mut(rows::CHUNK).for_each(|out| {
            for v in out {
                *v /= total;
            }
        });
        top + total.ln()
    }

    /// The weighted means g = Σ wᵣzᵣ (the gradient of L) and the weighted covariance
    /// Σ wᵣ(zᵣ − g)(zᵣ − g)' (the Hessian of L), in one pass: the covariance as
    /// Σ wᵣzᵣzᵣ' − gg' (the weights sum to 1). The subtraction loses digits only in
    /// proportion to |g|² over the variances, and the Hessian only sets the direction
    /// of a step, not the balance reached: the iterations stop on g, which is summed as
    /// before. (Before 2026-12 the means and the covariance about them were two passes
    /// over the comparison units.)
    fn moments(&self, w: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
        let k = self.x.len();
        let parts = rows::map_chunks(w.len(), true, |r0, r1| {
            let mut b = Block::new(k);
            let mut tmp = [0.0; rows::BLOCK];
            let mut s = vec![0.0; k];
            let mut c = Cross::new(k);
            for (b0, len) in rows::blocks(r0, r1) {
                b.set_len(len);
                self.fill(&mut b, b0);
                let wb = &w[b0..b0 + len];
                rows::add_sums(&mut s, &b, wb);
                c.add(&b, Some(wb), &mut tmp);
            }
            (s, c)
        });
        let mut g = vec![0.0; k];
        let mut crosses = Vec::with_capacity(parts.len());
        for (s, c) in parts {
            for (x, y) in g.iter_mut().zip(&s) {
                *x += y;
            }
            crosses.push(c);
        }
        let mut h =
            rows::merge_all(crosses).map_or_else(|| DMatrix::zeros(k, k), |c| c.to_matrix());
        let gv = DVector::from_column_slice(&g);
        h.ger(-1.0, &gv, &gv, 1.0);
        (g, h)
    }

    /// The weighted covariance Σ wᵣ(zᵣ − m)(zᵣ − m)' about the weighted means `m`,
    /// summed directly (one more pass): where [`Controls::moments`] loses the Hessian
    /// to rounding.
    fn covariance(&self, w: &[f64], m: &[f64]) -> DMatrix<f64> {
        let k = self.x.len();
        let parts = rows::map_chunks(w.len(), true, |r0, r1| {
            let mut b = Block::new(k);
            let mut tmp = [0.0; rows::BLOCK];
            let mut c = Cross::new(k);
            for (b0, len) in rows::blocks(r0, r1) {
                b.set_len(len);
                self.fill(&mut b, b0);
                for (j, mj) in m.iter().enumerate() {
                    for v in b.col_mut(j) {
                        *v -= mj;
                    }
                }
                c.add(&b, Some(&w[b0..b0 + len]), &mut tmp);
            }
            c
        });
        rows::merge_all(parts).map_or_else(|| DMatrix::zeros(k, k), |c| c.to_matrix())
    }
}

fn infeasible(names: &[&str], imbalance: f64) -> StatsError {
    StatsError::Invalid(format!(
        "entropy balancing is infeasible: no weighting of the comparison group matches the \
         treated means of the covariates ({}) jointly (largest remaining difference \
         {imbalance:.3} standard deviations); the participants lie outside what the \
         comparison group covers: drop covariates or find comparison units like them",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_named() {
        let t = [true, true, false, false, false];
        let x = [10.0, 12.0, 1.0, 2.0, 3.0];
        let e = entropy_att(&t, &[&x], &["age"]).unwrap_err().to_string();
        assert!(e.contains("\"age\"") && e.contains("infeasible"), "{e}");
    }

    #[test]
    fn reproduces_treated_means() {
        let t = [true, true, false, false, false, false];
        let x = [2.0, 3.0, 1.0, 2.0, 4.0, 5.0];
        let f = entropy_att(&t, &[&x], &["x"]).unwrap();
        let m0: f64 = (2..6).map(|i| f.weights[i] * x[i]).sum();
        assert!((m0 - 2.5).abs() < 1e-10, "{m0}");
    }
}
