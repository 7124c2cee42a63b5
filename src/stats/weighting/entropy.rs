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
//! Hessian the weighted covariance of z; Newton steps with a backtracking line search
//! on L stop when every weighted mean of z is within 1e-12 of zero.
//!
//! Balance is infeasible when the treated mean vector lies outside the convex hull of
//! the comparison units (then L has no minimum). A treated mean outside the range of
//! one covariate among the comparison units is reported naming that covariate; joint
//! infeasibility shows as Newton steps that do not reach balance.
//!
//! Treated units keep equal weights 1/n₁.

use nalgebra::{DMatrix, DVector};

use super::propensity::check_inputs;
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
    check_inputs(treated, x, names)?;
    let n = treated.len();
    let n1 = treated.iter().filter(|&&t| t).count();
    let k = x.len();
    let controls: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
    let n0 = controls.len();
    // z = (x − treated mean) / SD over all units, comparison units only, row-major.
    let mut z = vec![0.0; n0 * k];
    for (j, c) in x.iter().enumerate() {
        let m1 = (0..n).filter(|&i| treated[i]).map(|i| c[i]).sum::<f64>() / n1 as f64;
        let (_, v) = crate::stats::describe::mean_var(c);
        let s = v.sqrt();
        if !crate::stats::above(s, 0.0) {
            return Err(StatsError::Invalid(format!(
                "covariate \"{}\" is constant; leave it out of the balance constraints",
                names[j]
            )));
        }
        let (lo, hi) = controls
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |a, &i| {
                (a.0.min(c[i]), a.1.max(c[i]))
            });
        if m1 < lo || m1 > hi || (lo == hi && m1 != lo) {
            return Err(StatsError::Invalid(format!(
                "entropy balancing is infeasible: the treated mean of covariate \"{}\" ({m1}) \
                 lies outside the range of the comparison group ({lo} to {hi}), so no \
                 weighting of the comparison group can match it; drop that covariate or \
                 find comparison units like the participants",
                names[j]
            )));
        }
        for (r, &i) in controls.iter().enumerate() {
            z[r * k + j] = (c[i] - m1) / s;
        }
    }
    let mut lambda = DVector::<f64>::zeros(k);
    let mut w = vec![0.0; n0];
    // Dual objective at λ, filling the normalised weights w.
    let eval = |lambda: &DVector<f64>, w: &mut [f64]| -> f64 {
        let mut top = f64::NEG_INFINITY;
        for (r, wr) in w.iter_mut().enumerate() {
            let row = &z[r * k..(r + 1) * k];
            *wr = row.iter().zip(lambda.iter()).map(|(a, b)| a * b).sum();
            top = top.max(*wr);
        }
        let mut total = 0.0;
        for wr in w.iter_mut() {
            *wr = (*wr - top).exp();
            total += *wr;
        }
        for wr in w.iter_mut() {
            *wr /= total;
        }
        top + total.ln()
    };
    let mut objective = eval(&lambda, &mut w);
    let mut iterations = 0;
    let mut grad = DVector::<f64>::zeros(k);
    loop {
        grad.fill(0.0);
        for (r, &wr) in w.iter().enumerate() {
            for j in 0..k {
                grad[j] += wr * z[r * k + j];
            }
        }
        if grad.amax() <= BALANCE_TOL {
            break;
        }
        if iterations == MAX_ITER {
            return Err(infeasible(names, grad.amax()));
        }
        iterations += 1;
        let mut hess = DMatrix::<f64>::zeros(k, k);
        for (r, &wr) in w.iter().enumerate() {
            let row = &z[r * k..(r + 1) * k];
            for a in 0..k {
                for b in a..k {
                    hess[(a, b)] += wr * (row[a] - grad[a]) * (row[b] - grad[b]);
                }
            }
        }
        hess.fill_lower_triangle_with_upper_triangle();
        let step = match hess.cholesky() {
            Some(ch) => -ch.solve(&grad),
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
        let mut trial = vec![0.0; n0];
        loop {
            let cand = &lambda + &step * t;
            let f = eval(&cand, &mut trial);
            // Near the solution the decrease of L (about −slope/2) is below the
            // rounding of L itself: the full Newton step is then taken, as the
            // quadratic region has been reached.
            if f <= objective + 1e-4 * t * slope || -slope < 1e-12 || t < 1e-10 {
                lambda = cand;
                objective = f;
                w.copy_from_slice(&trial);
                break;
            }
            t *= 0.5;
        }
        if !objective.is_finite() || lambda.amax() > 1e6 {
            return Err(infeasible(names, grad.amax()));
        }
    }
    let mut weights = vec![1.0 / n1 as f64; n];
    for (r, &i) in controls.iter().enumerate() {
        weights[i] = w[r];
    }
    Ok(EntropyFit {
        weights,
        lambda: lambda.iter().copied().collect(),
        iterations,
        max_imbalance: grad.amax(),
    })
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
