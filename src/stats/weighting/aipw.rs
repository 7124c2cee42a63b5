//! Doubly robust augmented inverse probability weighting (AIPW) for the effect on the
//! treated (Moodie, Saarela & Stephens 2018, "A doubly robust weighting estimator of
//! the average treatment effect on the treated", *Stat* 7:e205; Mercatanti & Li 2014):
//!
//!   τ̂ = Σ Tᵢ(yᵢ − m̂₀(xᵢ)) / Σ Tᵢ − Σ (1 − Tᵢ) ôᵢ (yᵢ − m̂₀(xᵢ)) / Σ (1 − Tᵢ) ôᵢ,
//!
//! with m̂₀ the least-squares regression of y on the covariates among the comparison
//! units (with an intercept) and ôᵢ = êᵢ/(1 − êᵢ) the odds of the logistic propensity
//! score. It is consistent when either the propensity model or the outcome model is
//! right. The standard error is the stacked M-estimation sandwich of the estimating
//! equations θ = (γ, β, μ₁, μ₀):
//!   ψ_γ = zᵢ(Tᵢ − eᵢ), ψ_β = (1 − Tᵢ) zᵢ (yᵢ − zᵢ'β),
//!   ψ₁ = Tᵢ(yᵢ − zᵢ'β − μ₁), ψ₀ = (1 − Tᵢ) oᵢ (yᵢ − zᵢ'β − μ₀),
//! τ = μ₁ − μ₀, Var = c'A⁻¹BA⁻ᵀc (A = −Σ∂ψᵢ/∂θ', B = Σψᵢψᵢ'), no small-sample factor,
//! normal reference; with clusters B sums ψ within clusters, times G/(G − 1), t on
//! G − 1 df.

use nalgebra::{DMatrix, DVector};

use super::propensity::Logit;
use crate::stats::{Inference, StatsError, StatsResult};

/// The AIPW estimate of the ATT with its stacked sandwich; `model` is the propensity
/// model fitted on the same covariates `x` (named `names` in messages).
pub fn aipw_att(
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
    model: &Logit,
    clusters: Option<&crate::stats::ols::Clusters>,
    conf_level: f64,
) -> StatsResult<Inference> {
    let n = y.len();
    let k = x.len() + 1;
    let e = &model.fitted;
    if e.len() != n || treated.len() != n {
        return Err(StatsError::Invalid(
            "outcome, arms and propensity scores differ in length".into(),
        ));
    }
    // Centred and scaled covariates with the intercept first (the variance of τ does
    // not depend on the parametrisation of the two models).
    let mut centre = vec![0.0; k];
    let mut scale = vec![1.0; k];
    for (j, c) in x.iter().enumerate() {
        let (m, v) = crate::stats::describe::mean_var(c);
        centre[j + 1] = m;
        scale[j + 1] = if v > 0.0 { v.sqrt() } else { 1.0 };
    }
    let zrow = |i: usize, z: &mut [f64]| {
        z[0] = 1.0;
        for j in 1..k {
            z[j] = (x[j - 1][i] - centre[j]) / scale[j];
        }
    };
    // The outcome model among the comparison units: normal equations by Cholesky.
    let mut zz = DMatrix::<f64>::zeros(k, k);
    let mut zy = DVector::<f64>::zeros(k);
    let mut z = vec![0.0; k];
    for i in (0..n).filter(|&i| !treated[i]) {
        zrow(i, &mut z);
        for a in 0..k {
            zy[a] += z[a] * y[i];
            for b in 0..k {
                zz[(a, b)] += z[a] * z[b];
            }
        }
    }
    let beta = zz.clone().cholesky().map(|c| c.solve(&zy)).ok_or_else(|| {
        StatsError::Invalid(format!(
            "the outcome model of AIPW cannot be fitted among the comparison units: the \
             covariates ({}) are collinear or constant there; drop a covariate",
            names.join(", ")
        ))
    })?;
    let resid: Vec<f64> = (0..n)
        .map(|i| {
            zrow(i, &mut z);
            y[i] - z.iter().zip(beta.iter()).map(|(a, b)| a * b).sum::<f64>()
        })
        .collect();
    let (mut s1, mut n1, mut s0, mut o0) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        if treated[i] {
            s1 += resid[i];
            n1 += 1.0;
        } else {
            let o = e[i] / (1.0 - e[i]);
            s0 += o * resid[i];
            o0 += o;
        }
    }
    let (mu1, mu0) = (s1 / n1, s0 / o0);
    let p = 2 * k + 2;
    let (i1, i0) = (2 * k, 2 * k + 1);
    let mut a = DMatrix::<f64>::zeros(p, p);
    let mut meat = super::Meat::new(p, clusters);
    let mut psi = DVector::<f64>::zeros(p);
    for i in 0..n {
        zrow(i, &mut z);
        let ti = f64::from(u8::from(treated[i]));
        let ei = e[i];
        let o = ei / (1.0 - ei);
        let r = resid[i];
        for j in 0..k {
            psi[j] = z[j] * (ti - ei);
            psi[k + j] = (1.0 - ti) * z[j] * r;
            for l in 0..k {
                a[(j, l)] += ei * (1.0 - ei) * z[j] * z[l];
                a[(k + j, k + l)] += (1.0 - ti) * z[j] * z[l];
            }
            // ∂ψ₁/∂β = −T z', ∂ψ₀/∂β = −(1 − T) o z', ∂ψ₀/∂γ = (1 − T)(r − μ₀) o z'.
            a[(i1, k + j)] += ti * z[j];
            a[(i0, k + j)] += (1.0 - ti) * o * z[j];
            a[(i0, j)] -= (1.0 - ti) * o * (r - mu0) * z[j];
        }
        psi[i1] = ti * (r - mu1);
        psi[i0] = (1.0 - ti) * o * (r - mu0);
        a[(i1, i1)] += ti;
        a[(i0, i0)] += (1.0 - ti) * o;
        meat.add(i, &psi);
    }
    let mut c = DVector::<f64>::zeros(p);
    c[i1] = 1.0;
    c[i0] = -1.0;
    let g =
        a.transpose().lu().solve(&c).ok_or_else(|| {
            StatsError::Invalid("the stacked sandwich of AIPW is singular".into())
        })?;
    let (b, df) = meat.finish()?;
    let var = g.dot(&(&b * &g));
    if !crate::stats::above(var, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(Inference::wald(mu1 - mu0, var.sqrt(), df, conf_level))
}
