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
use super::rows;
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
    // The propensity model's centred and scaled covariates with the intercept first
    // (the variance of τ does not depend on the parametrisation of the two models).
    let data = Data {
        y,
        treated,
        e,
        design: model.design(x)?,
    };
    let (zz, beta) = data.outcome_model(names)?;
    let beta = beta.as_slice();
    let (mu1, n1, mu0) = data.residual_means(beta);
    let Some(part) = data.sandwich_sums(beta, mu1, mu0, clusters) else {
        return Err(StatsError::NoVariance);
    };
    let (i1, i0) = (2 * k, 2 * k + 1);
    let a = bread(&part, &model.information, &zz, n1);
    super::stacked_difference(
        &a,
        (i1, i0),
        part.meat,
        (mu1, mu0),
        conf_level,
        "the stacked sandwich of AIPW is singular",
    )
}

/// What the passes over the rows read: outcome, arms, propensity scores and the
/// standardised design (intercept first).
struct Data<'a> {
    y: &'a [f64],
    treated: &'a [bool],
    e: &'a [f64],
    design: rows::Standardised<'a>,
}

impl Data<'_> {
    /// The outcome model among the comparison units, by the normal equations solved
    /// by Cholesky: the cross-product Σ(1 − T)zz' and the coefficients β.
    fn outcome_model(&self, names: &[&str]) -> StatsResult<(DMatrix<f64>, DVector<f64>)> {
        let (n, k) = (self.y.len(), self.design.k());
        let fit = rows::map_chunks(n, true, |i0, i1| {
            let mut z = rows::Block::new(k);
            let mut w = [0.0; rows::BLOCK];
            let mut wy = [0.0; rows::BLOCK];
            let mut tmp = [0.0; rows::BLOCK];
            let mut zz = rows::Cross::new(k);
            let mut zy = vec![0.0; k];
            for (b0, len) in rows::blocks(i0, i1) {
                z.set_len(len);
                self.design.fill(&mut z, 0, b0);
                for r in 0..len {
                    let c = f64::from(u8::from(!self.treated[b0 + r]));
                    w[r] = c;
                    wy[r] = c * self.y[b0 + r];
                }
                rows::add_sums(&mut zy, &z, &wy[..len]);
                zz.add(&z, Some(&w[..len]), &mut tmp);
            }
            (zz, zy)
        });
        let mut zy = DVector::<f64>::zeros(k);
        let mut parts = Vec::with_capacity(fit.len());
        for (c, v) in fit {
            for (a, b) in zy.iter_mut().zip(&v) {
                *a += b;
            }
            parts.push(c);
        }
        let zz = rows::merge_all(parts).map_or_else(|| DMatrix::zeros(k, k), |c| c.to_matrix());
        let beta = zz.clone().cholesky().map(|c| c.solve(&zy)).ok_or_else(|| {
            StatsError::Invalid(format!(
                "the outcome model of AIPW cannot be fitted among the comparison units: the \
                 covariates ({}) are collinear or constant there; drop a covariate",
                names.join(", ")
            ))
        })?;
        Ok((zz, beta))
    }

    /// The residuals y − z'β of the rows `b0..b0 + z.len()` into `out`, with their
    /// design left in `z`.
    fn residuals(&self, beta: &[f64], z: &mut rows::Block, b0: usize, out: &mut [f64]) {
        self.design.fill(z, 0, b0);
        self.design.predict(z, 0, beta, out);
        for (o, v) in out[..z.len()].iter_mut().zip(&self.y[b0..]) {
            *o = v - *o;
        }
    }

    /// μ₁ (the treated mean residual), the number of treated units and μ₀ (the
    /// odds-weighted comparison mean residual).
    fn residual_means(&self, beta: &[f64]) -> (f64, f64, f64) {
        let (n, k) = (self.y.len(), self.design.k());
        let sums = rows::map_chunks(n, true, |i0, i1| {
            let mut z = rows::Block::new(k);
            let mut r = [0.0; rows::BLOCK];
            let mut s = [0.0; 4];
            for (b0, len) in rows::blocks(i0, i1) {
                z.set_len(len);
                self.residuals(beta, &mut z, b0, &mut r);
                for (q, &rq) in r[..len].iter().enumerate() {
                    let i = b0 + q;
                    if self.treated[i] {
                        s[0] += rq;
                        s[1] += 1.0;
                    } else {
                        let o = self.e[i] / (1.0 - self.e[i]);
                        s[2] += o * rq;
                        s[3] += o;
                    }
                }
            }
            s
        });
        let [s1, n1, s0, o0] = sums.iter().fold([0.0; 4], |a, s| {
            [a[0] + s[0], a[1] + s[1], a[2] + s[2], a[3] + s[3]]
        });
        (s1 / n1, n1, s0 / o0)
    }

    /// The sums of the sandwich in one pass: A's blocks other than the propensity
    /// model's information (∂ψ₁/∂β = −Σ Tz', ∂ψ₀/∂β = −Σ(1 − T)o z', ∂ψ₀/∂γ = Σ(1 − T)(r − μ₀)o z',
    /// ∂ψ₀/∂μ₀ = −Σ(1 − T)o) and the meat; `None` without rows.
    fn sandwich_sums<'c>(
        &self,
        beta: &[f64],
        mu1: f64,
        mu0: f64,
        clusters: Option<&'c crate::stats::ols::Clusters>,
    ) -> Option<Part<'c>> {
        let (n, k) = (self.y.len(), self.design.k());
        let p = 2 * k + 2;
        let (i1, i0) = (2 * k, 2 * k + 1);
        let pass = |j0: usize, j1: usize| {
            let mut z = rows::Block::new(k);
            let mut psi = rows::Block::new(p);
            let mut r = [0.0; rows::BLOCK];
            let mut tw = [0.0; rows::BLOCK];
            let mut ow = [0.0; rows::BLOCK];
            let mut tmp = [0.0; rows::BLOCK];
            let mut part = Part::new(k, p, clusters);
            for (b0, len) in rows::blocks(j0, j1) {
                z.set_len(len);
                psi.set_len(len);
                self.residuals(beta, &mut z, b0, &mut r);
                for q in 0..len {
                    let i = b0 + q;
                    let ti = f64::from(u8::from(self.treated[i]));
                    let ei = self.e[i];
                    let o = ei / (1.0 - ei);
                    tmp[q] = ti - ei;
                    tw[q] = ti;
                    ow[q] = (1.0 - ti) * o;
                    psi.col_mut(i1)[q] = ti * (r[q] - mu1);
                    psi.col_mut(i0)[q] = (1.0 - ti) * o * (r[q] - mu0);
                    part.o0 += (1.0 - ti) * o;
                }
                for j in 0..k {
                    let zj = z.col(j);
                    for ((o, a), res) in psi.col_mut(j).iter_mut().zip(zj).zip(&tmp) {
                        *o = a * res;
                    }
                    let out = psi.col_mut(k + j);
                    for (q, o) in out.iter_mut().enumerate() {
                        *o = (1.0 - tw[q]) * zj[q] * r[q];
                    }
                }
                rows::add_sums(&mut part.t_z, &z, &tw[..len]);
                rows::add_sums(&mut part.o_z, &z, &ow[..len]);
                rows::add_sums(&mut part.r_z, &z, psi.col(i0));
                part.meat.add_block(b0, &psi, &mut tmp);
            }
            part
        };
        super::stacked_pass(n, clusters.is_some(), pass, Part::merge)
    }
}

/// The bread A of the sandwich from the pass's sums, the propensity model's
/// information `info` on the same design (∂ψ_γ/∂γ' = −Σ e(1 − e)zz'), the outcome
/// model's cross-product `zz` (∂ψ_β/∂β' = −Σ(1 − T)zz') and the number of treated
/// units `n1` (∂ψ₁/∂μ₁ = −Σ T).
fn bread(part: &Part, info: &DMatrix<f64>, zz: &DMatrix<f64>, n1: f64) -> DMatrix<f64> {
    let k = zz.nrows();
    let p = 2 * k + 2;
    let (i1, i0) = (2 * k, 2 * k + 1);
    let mut a = DMatrix::<f64>::zeros(p, p);
    a.view_mut((0, 0), (k, k)).copy_from(info);
    a.view_mut((k, k), (k, k)).copy_from(zz);
    for j in 0..k {
        a[(i1, k + j)] = part.t_z[j];
        a[(i0, k + j)] = part.o_z[j];
        a[(i0, j)] = -part.r_z[j];
    }
    a[(i1, i1)] = n1;
    a[(i0, i0)] = part.o0;
    a
}

/// One chunk's share of the AIPW sandwich.
struct Part<'c> {
    /// Σ Tz, Σ(1 − T)o z and Σ(1 − T)o(r − μ₀)z.
    t_z: Vec<f64>,
    o_z: Vec<f64>,
    r_z: Vec<f64>,
    /// Σ(1 − T)o.
    o0: f64,
    meat: super::Meat<'c>,
}

impl<'c> Part<'c> {
    /// Empty sums for `k` design columns and `p` parameters.
    fn new(k: usize, p: usize, clusters: Option<&'c crate::stats::ols::Clusters>) -> Self {
        Self {
            t_z: vec![0.0; k],
            o_z: vec![0.0; k],
            r_z: vec![0.0; k],
            o0: 0.0,
            meat: super::Meat::new(p, clusters),
        }
    }

    /// Add the sums of later rows.
    fn merge(&mut self, b: Part) {
        for (x, y) in [
            (&mut self.t_z, &b.t_z),
            (&mut self.o_z, &b.o_z),
            (&mut self.r_z, &b.r_z),
        ] {
            for (u, v) in x.iter_mut().zip(y) {
                *u += v;
            }
        }
        self.o0 += b.o0;
        self.meat.merge(&b.meat);
    }
}
