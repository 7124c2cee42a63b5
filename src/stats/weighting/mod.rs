//! Weighting estimators for non-randomised comparisons: the effect on the treated
//! (participants) or on the overlap population, from comparison units reweighted to
//! resemble the treated on measured covariates.
//!
//! One job per file:
//! - `propensity.rs`: the propensity score by logistic regression (IRLS);
//! - `entropy.rs`: entropy-balancing weights (Hainmueller 2012);
//! - `balance.rs`: balance per covariate (cobalt's conventions) and Kish's effective
//!   sample size;
//! - `evalue.rs`: the E-value (VanderWeele & Ding 2017);
//! - `aipw.rs`: the doubly robust AIPW estimate of the ATT with its stacked sandwich;
//! - `rows.rs`: the passes over the units that build the cross-product matrices and
//!   sums of all of these (blocks of rows, fixed chunks on the cores, a fixed order of
//!   summation);
//! - this file: the weights of IPW and overlap weighting, the weighted difference in
//!   means with its two standard errors, and [`estimate`], which runs one method end
//!   to end on slices.
//!
//! Weights, each normalised to sum to 1 within each arm (Hájek form):
//! - `ipw_att`: treated 1, comparison e/(1 − e) (the odds of the propensity score e;
//!   Hirano, Imbens & Ridder 2003; Imbens 2004), the estimand the ATT;
//! - `overlap_ato`: treated 1 − e, comparison e (Li, Morgan & Zaslavsky 2018, "Balancing
//!   covariates via propensity score weighting", *JASA* 113:390–400), the estimand the
//!   average effect in the overlap population (ATO), symmetric in the arms;
//! - `entropy_att`: treated 1, comparison by entropy balancing, the estimand the ATT.
//!
//! The effect is Σ_treated wᵢyᵢ − Σ_comparison wᵢyᵢ. Its standard errors:
//! - weights fixed: the sandwich of weighted least squares of y on an intercept and the
//!   arm indicator, HC2 by default (R `estimatr::lm_robust(y ~ t, weights = w,
//!   se_type = "HC2")`, statsmodels `WLS(y, X, w).fit(cov_type="HC2", use_t=True)`), t
//!   with n − 2 df. It ignores that the weights were estimated;
//! - stacked M-estimation (IPW only): the empirical sandwich A⁻¹BA⁻ᵀ of the stacked
//!   estimating equations of the propensity model and the two weighted means
//!   (Lunceford & Davidian 2004, *Stat. Med.* 23:2937–2960; for the ATT, Reifeis &
//!   Hudgens 2022, *Am. J. Epidemiol.* 191(6):1092–1097), no small-sample factor,
//!   normal reference. It accounts for the estimated propensity score (for the ATT
//!   this usually makes the standard error smaller than with the weights fixed).
//!
//! With clusters (schools) the weights-fixed sandwich is cluster-robust (CR0–CR2 of
//! [`super::ols`]), and the stacked sandwiches sum the estimating functions within
//! clusters, scaled by G/(G − 1), with t on G − 1 df ([`estimate_clustered`]).

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::Serialize;

use super::ols::{SeType, fit_weighted};
use super::{Inference, StatsError, StatsResult};

pub mod aipw;
pub mod balance;
pub mod entropy;
pub mod evalue;
pub mod matching;
pub mod propensity;
pub mod rosenbaum;
pub(crate) mod rows;

pub use aipw::aipw_att;
pub use balance::{Balance, balance, balance_table, effective_n, effective_ns};
pub use entropy::{EntropyFit, entropy_att};
pub use propensity::{Logit, expit, logit};

/// The weighting method (and with it the estimand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Inverse probability weighting for the ATT.
    IpwAtt,
    /// Overlap weights (ATO).
    OverlapAto,
    /// Entropy balancing for the ATT.
    EntropyAtt,
    /// Doubly robust AIPW for the ATT (IPW weights for balance, `aipw.rs`).
    AipwAtt,
    /// Nearest-neighbour matching on the propensity score for the ATT (`matching.rs`;
    /// run by [`estimate_matching`]).
    MatchingAtt,
}

impl Method {
    /// The estimator id of results.json.
    pub fn id(self) -> &'static str {
        match self {
            Self::IpwAtt => "ipw_att",
            Self::OverlapAto => "overlap_ato",
            Self::EntropyAtt => "entropy_att",
            Self::AipwAtt => "aipw_att",
            Self::MatchingAtt => "matching_att",
        }
    }
    /// The estimand's short name.
    pub fn estimand(self) -> &'static str {
        match self {
            Self::IpwAtt | Self::EntropyAtt | Self::AipwAtt | Self::MatchingAtt => "ATT",
            Self::OverlapAto => "ATO",
        }
    }
}

/// The meat B of a stacked sandwich: Σᵢ ψᵢψᵢ', or with clusters Σ_g (Σ_{i∈g} ψᵢ)(Σ_{i∈g} ψᵢ)'.
/// Without clusters it is summed in the order of [`rows`] (chunks merged with
/// [`Meat::merge`]); with clusters each cluster's sum runs over its units in row order
/// (one pass, [`stacked_pass`]).
pub(crate) struct Meat<'c> {
    b: rows::Cross,
    clusters: Option<&'c super::ols::Clusters>,
    sums: Vec<Vec<f64>>,
}

impl<'c> Meat<'c> {
    pub(crate) fn new(p: usize, clusters: Option<&'c super::ols::Clusters>) -> Self {
        let g = clusters.map_or(0, |c| c.count());
        Self {
            b: rows::Cross::new(p),
            clusters,
            sums: vec![vec![0.0; p]; g],
        }
    }
    /// Add the estimating functions of rows `i0..i0 + psi.len()` (one column of `psi`
    /// per parameter); `tmp` is scratch of the block's length.
    pub(crate) fn add_block(&mut self, i0: usize, psi: &rows::Block, tmp: &mut [f64]) {
        match self.clusters {
            Some(c) => {
                let codes = &c.codes()[i0..i0 + psi.len()];
                for (r, &g) in codes.iter().enumerate() {
                    let s = &mut self.sums[g as usize];
                    for (j, v) in s.iter_mut().enumerate() {
                        *v += psi.col(j)[r];
                    }
                }
            }
            None => self.b.add(psi, None, tmp),
        }
    }
    /// Add the meat of later rows (without clusters).
    pub(crate) fn merge(&mut self, other: &Meat) {
        debug_assert!(self.clusters.is_none());
        self.b.merge(&other.b);
    }
    /// B, and the Wald reference: none (normal) without clusters; with G clusters the
    /// meat is scaled by G/(G − 1) and t has G − 1 df (Stata's convention for
    /// cluster-robust M-estimators).
    pub(crate) fn finish(self) -> StatsResult<(DMatrix<f64>, Option<f64>)> {
        let mut b = self.b.to_matrix();
        if self.clusters.is_none() {
            return Ok((b, None));
        }
        let g = self.sums.len();
        if g < 2 {
            return Err(StatsError::TooFewClusters { got: g });
        }
        for s in &self.sums {
            let s = DVector::from_column_slice(s);
            b.ger(1.0, &s, &s, 1.0);
        }
        let gf = g as f64;
        Ok((b * (gf / (gf - 1.0)), Some(gf - 1.0)))
    }
}

/// Run `pass` over the rows `0..n` of a stacked sandwich: in fixed chunks on all cores
/// (results merged in chunk order by `merge`) without clusters, in one pass in row
/// order with them (the meat's cluster sums run over the rows in order).
pub(crate) fn stacked_pass<T: Send>(
    n: usize,
    clusters: bool,
    pass: impl Fn(usize, usize) -> T + Sync + Send,
    merge: impl Fn(&mut T, T),
) -> Option<T> {
    let parts = if clusters {
        vec![pass(0, n)]
    } else {
        rows::map_chunks(n, true, pass)
    };
    let mut it = parts.into_iter();
    let mut first = it.next()?;
    for p in it {
        merge(&mut first, p);
    }
    Some(first)
}

/// Normalise `w` to sum to 1 within each arm.
fn normalise(mut w: Vec<f64>, treated: &[bool]) -> Vec<f64> {
    let [s1, s0] = balance::arm_totals(&w, treated);
    w.par_iter_mut()
        .zip(treated.par_iter())
        .for_each(|(v, &t)| *v /= if t { s1 } else { s0 });
    w
}

/// IPW weights for the ATT from propensity scores `ps`: treated 1, comparison
/// e/(1 − e), normalised within each arm.
pub fn ipw_att(treated: &[bool], ps: &[f64]) -> Vec<f64> {
    let w = treated
        .par_iter()
        .zip(ps.par_iter())
        .map(|(&t, &e)| if t { 1.0 } else { e / (1.0 - e) })
        .collect();
    normalise(w, treated)
}

/// Overlap weights (ATO) from propensity scores `ps`: treated 1 − e, comparison e,
/// normalised within each arm.
pub fn overlap_ato(treated: &[bool], ps: &[f64]) -> Vec<f64> {
    let w = treated
        .iter()
        .zip(ps)
        .map(|(&t, &e)| if t { 1.0 - e } else { e })
        .collect();
    normalise(w, treated)
}

/// The weighted difference in means Σ_treated wᵢyᵢ/Σ_treated wᵢ − (the same over the
/// comparison units), with the weights-fixed sandwich of weighted least squares on the
/// arm indicator (`se` one of HC0–HC3; t with n − 2 df).
pub fn weighted_difference(
    y: &[f64],
    treated: &[bool],
    w: &[f64],
    se: SeType,
    conf_level: f64,
) -> StatsResult<Inference> {
    weighted_difference_clustered(y, treated, w, se, None, conf_level)
}

/// As [`weighted_difference`], with clusters: `se` one of CR0, CR1, CR2 then (the
/// cluster-robust variances of [`super::ols`], weights fixed; t with G − 1 df, or
/// Bell-McCaffrey df for CR2), HC0 to HC3 without.
pub fn weighted_difference_clustered(
    y: &[f64],
    treated: &[bool],
    w: &[f64],
    se: SeType,
    clusters: Option<&super::ols::Clusters>,
    conf_level: f64,
) -> StatsResult<Inference> {
    if se == SeType::Classical || se.is_cluster() != clusters.is_some() {
        return Err(StatsError::Invalid(format!(
            "the weights-fixed sandwich takes HC0 to HC3 without clusters and CR0 to CR2 \
             with them, not {}",
            se.name()
        )));
    }
    if clusters.is_none() {
        return two_group_hc(y, treated, w, se, conf_level);
    }
    let t: Vec<f64> = treated.iter().map(|&t| f64::from(u8::from(t))).collect();
    let f = fit_weighted(y, &[&t], w, true)?;
    Ok(f.coef_inference(1, se, clusters, conf_level)?.inference)
}

/// The weights-fixed sandwich without clusters, in closed form. Weighted least
/// squares of y on an intercept and the arm indicator is saturated in the arm, so
/// (the general fit, [`fit_weighted`], gives the same up to rounding):
/// - the coefficient of the arm is ȳ₁ − ȳ₀, with ȳ_g = Σ_g wᵢyᵢ / W_g and W_g = Σ_g wᵢ;
/// - unit i of arm g has leverage hᵢ = wᵢ/W_g and residual rᵢ = yᵢ − ȳ_g;
/// - the sandwich (X'WX)⁻¹X'W diag(ωᵢrᵢ²) WX(X'WX)⁻¹ of that coefficient is
///   Σ_g Σ_{i∈g} ωᵢ wᵢ² rᵢ² / W_g², with ωᵢ = 1 (HC0), n/(n − 2) (HC1), 1/(1 − hᵢ) (HC2)
///   or 1/(1 − hᵢ)² (HC3) (MacKinnon & White 1985; as R `estimatr::lm_robust(y ~ t,
///   weights = w)` and statsmodels `WLS(...).fit(cov_type=...)` compute them);
/// - t with n − 2 df.
///
/// Two passes over the units in order (the sums of each arm, then the squared
/// residuals), on one core: the general fit made four weighted copies of the columns
/// and a QR decomposition, 38 ms at 10^6 units.
fn two_group_hc(
    y: &[f64],
    treated: &[bool],
    w: &[f64],
    se: SeType,
    conf_level: f64,
) -> StatsResult<Inference> {
    let n = y.len();
    if treated.len() != n {
        return Err(StatsError::Invalid(format!(
            "{} arms for {n} observations",
            treated.len()
        )));
    }
    super::ols::check_weights(w, n)?;
    // [arm 0, arm 1]: Σw, Σwy, units.
    let (mut sw, mut swy, mut count) = ([0.0_f64; 2], [0.0_f64; 2], [0_usize; 2]);
    for ((&yi, &t), &wi) in y.iter().zip(treated).zip(w) {
        let g = usize::from(t);
        sw[g] += wi;
        swy[g] += wi * yi;
        count[g] += 1;
    }
    if count.contains(&0) || n < 3 {
        return Err(StatsError::Invalid(format!(
            "the weighted difference needs units in both arms and more than 2 in all; \
             there are {} treated and {} comparison units",
            count[1], count[0]
        )));
    }
    let mean = [swy[0] / sw[0], swy[1] / sw[1]];
    let mut var = 0.0;
    let mut leverage_one = false;
    for ((&yi, &t), &wi) in y.iter().zip(treated).zip(w) {
        let g = usize::from(t);
        let h = wi / sw[g];
        leverage_one |= h >= super::ols::LEVERAGE_ONE;
        let omega = match se {
            SeType::Hc2 => 1.0 / (1.0 - h),
            SeType::Hc3 => 1.0 / ((1.0 - h) * (1.0 - h)),
            _ => 1.0,
        };
        let r = yi - mean[g];
        var += omega * (wi * r / sw[g]).powi(2);
    }
    if leverage_one && matches!(se, SeType::Hc2 | SeType::Hc3) {
        return Err(StatsError::Invalid(
            "an observation has leverage 1, so HC2/HC3 are undefined".into(),
        ));
    }
    let nf = n as f64;
    if se == SeType::Hc1 {
        var *= nf / (nf - 2.0);
    }
    if !crate::stats::above(var, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(Inference::wald(
        mean[1] - mean[0],
        var.sqrt(),
        Some(nf - 2.0),
        conf_level,
    ))
}

/// The IPW estimate of the ATT with the stacked M-estimation sandwich (see the module
/// documentation): parameters θ = (γ, μ₁, μ₀) with estimating equations
/// ψ_γ = zᵢ(Tᵢ − eᵢ), ψ₁ = Tᵢ(yᵢ − μ₁), ψ₀ = (1 − Tᵢ)·eᵢ/(1 − eᵢ)·(yᵢ − μ₀), the
/// effect μ₁ − μ₀, and Var = c'A⁻¹BA⁻ᵀc with A = −Σ∂ψᵢ/∂θ', B = Σψᵢψᵢ'. `x` are the
/// propensity model's covariates and `model` its fit on them.
pub fn ipw_att_stacked(
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    model: &Logit,
    clusters: Option<&super::ols::Clusters>,
    conf_level: f64,
) -> StatsResult<Inference> {
    // Lengths that differ give weights of another length, which the check below names.
    let w = ipw_att(treated, &model.fitted);
    ipw_att_stacked_with(y, treated, x, model, &w, clusters, conf_level)
}

/// [`ipw_att_stacked`] with the model's IPW weights `w` ([`ipw_att`] of its fitted
/// scores) already made, as [`estimate_clustered`] has them.
fn ipw_att_stacked_with(
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    model: &Logit,
    w: &[f64],
    clusters: Option<&super::ols::Clusters>,
    conf_level: f64,
) -> StatsResult<Inference> {
    let n = y.len();
    let k = x.len() + 1;
    let e = &model.fitted;
    if e.len() != n || treated.len() != n || w.len() != n {
        return Err(StatsError::Invalid(
            "outcome, arms, propensity scores and weights differ in length".into(),
        ));
    }
    let [mu1, mu0] = balance::arm_dots(w, y, treated);
    // The propensity model's centred and scaled covariates (any affine
    // reparametrisation of the model leaves the variance of μ₁ − μ₀ unchanged), and its
    // information on them at the estimate, the block ∂ψ_γ/∂γ' = −Σ e(1 − e)zz' of A.
    let design = model.design(x)?;
    let p = k + 2;
    // One pass: the other blocks of A (∂ψ₀/∂γ_l = Σ(1 − T)(y − μ₀)·odds·z_l since
    // ∂odds/∂η = odds, ∂ψ₁/∂μ₁ = −Σ T, ∂ψ₀/∂μ₀ = −Σ(1 − T)odds) and the meat.
    struct Part<'c> {
        a0: Vec<f64>,
        n1: f64,
        o0: f64,
        meat: Meat<'c>,
    }
    let pass = |i0: usize, i1: usize| {
        let mut z = rows::Block::new(k);
        let mut psi = rows::Block::new(p);
        let mut tmp = [0.0; rows::BLOCK];
        let mut part = Part {
            a0: vec![0.0; k],
            n1: 0.0,
            o0: 0.0,
            meat: Meat::new(p, clusters),
        };
        for (b0, len) in rows::blocks(i0, i1) {
            z.set_len(len);
            psi.set_len(len);
            design.fill(&mut z, 0, b0);
            let (tt, yy, ee) = (&treated[b0..b0 + len], &y[b0..b0 + len], &e[b0..b0 + len]);
            for r in 0..len {
                let ti = f64::from(u8::from(tt[r]));
                let odds = ee[r] / (1.0 - ee[r]);
                tmp[r] = ti - ee[r];
                psi.col_mut(k)[r] = ti * (yy[r] - mu1);
                psi.col_mut(k + 1)[r] = (1.0 - ti) * odds * (yy[r] - mu0);
                part.n1 += ti;
                part.o0 += (1.0 - ti) * odds;
            }
            for j in 0..k {
                for ((o, zj), res) in psi.col_mut(j).iter_mut().zip(z.col(j)).zip(&tmp) {
                    *o = zj * res;
                }
            }
            rows::add_sums(&mut part.a0, &z, psi.col(k + 1));
            part.meat.add_block(b0, &psi, &mut tmp);
        }
        part
    };
    let merge = |a: &mut Part, b: Part| {
        for (x, y) in a.a0.iter_mut().zip(&b.a0) {
            *x += y;
        }
        a.n1 += b.n1;
        a.o0 += b.o0;
        a.meat.merge(&b.meat);
    };
    let Some(part) = stacked_pass(n, clusters.is_some(), pass, merge) else {
        return Err(StatsError::NoVariance);
    };
    let mut a = DMatrix::<f64>::zeros(p, p);
    a.view_mut((0, 0), (k, k)).copy_from(&model.information);
    a[(k, k)] = part.n1;
    a[(k + 1, k + 1)] = part.o0;
    for l in 0..k {
        a[(k + 1, l)] = -part.a0[l];
    }
    stacked_difference(
        &a,
        (k, k + 1),
        part.meat,
        (mu1, mu0),
        conf_level,
        "the stacked sandwich is singular (the propensity model's information or the \
         comparison weights are degenerate)",
    )
}

/// The Wald inference of μ₁ − μ₀ from a stacked sandwich with bread `a` and meat
/// `meat`, μ₁ and μ₀ being parameters `i1` and `i0`: Var = c'A⁻¹BA⁻ᵀc = g'Bg with
/// A'g = c (LU of A', nalgebra), c = +1 at `i1` and −1 at `i0`; the meat's reference
/// distribution (normal, or t on G − 1 df with clusters). `singular` is the message
/// when A is singular.
pub(crate) fn stacked_difference(
    a: &DMatrix<f64>,
    (i1, i0): (usize, usize),
    meat: Meat,
    (mu1, mu0): (f64, f64),
    conf_level: f64,
    singular: &str,
) -> StatsResult<Inference> {
    let mut c = DVector::<f64>::zeros(a.nrows());
    c[i1] = 1.0;
    c[i0] = -1.0;
    let g = a
        .transpose()
        .lu()
        .solve(&c)
        .ok_or_else(|| StatsError::Invalid(singular.into()))?;
    let (b, df) = meat.finish()?;
    let var = g.dot(&(&b * &g));
    if !crate::stats::above(var, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(Inference::wald(mu1 - mu0, var.sqrt(), df, conf_level))
}

/// The weights of one method for the covariates `x` (named `names` in messages), with
/// the propensity model where the method has one.
pub fn weights(
    method: Method,
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
) -> StatsResult<(Vec<f64>, Option<Logit>)> {
    Ok(match method {
        Method::EntropyAtt => (entropy_att(treated, x, names)?.weights, None),
        Method::IpwAtt | Method::OverlapAto | Method::AipwAtt | Method::MatchingAtt => {
            let m = logit(treated, x, names)?;
            let w = if method == Method::OverlapAto {
                overlap_ato(treated, &m.fitted)
            } else {
                ipw_att(treated, &m.fitted)
            };
            (w, Some(m))
        }
    })
}

/// Which standard error an estimate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectSe {
    /// The weighted-least-squares sandwich with the weights treated as fixed.
    WeightsFixed(SeType),
    /// The stacked M-estimation sandwich, accounting for the estimated propensity score.
    Stacked,
    /// The same with the estimating functions summed within clusters.
    StackedClustered,
    /// Matching: CR1 by matched set (without replacement) or HC2 (with replacement),
    /// the matching weights fixed.
    Matched(SeType),
}

impl EffectSe {
    /// The name in outputs (`se_type`).
    pub fn name(self) -> String {
        match self {
            Self::WeightsFixed(s) => format!("{} (weights fixed)", s.name()),
            Self::Stacked => "M-estimation (propensity score estimated)".into(),
            Self::StackedClustered => "M-estimation by cluster (propensity score estimated)".into(),
            Self::Matched(SeType::Cr1) => "CR1 by matched set (weights fixed)".into(),
            Self::Matched(s) => format!("{} (matching weights fixed)", s.name()),
        }
    }
    /// How the degrees of freedom are chosen.
    pub fn df_rule(self) -> &'static str {
        match self {
            Self::WeightsFixed(s) if s.is_cluster() => s.df_rule(),
            Self::WeightsFixed(_) | Self::Matched(SeType::Hc2) => "n - 2",
            Self::StackedClustered => "G - 1",
            Self::Matched(_) => "G - 1",
            Self::Stacked => "normal",
        }
    }
}

/// One weighting estimate with its diagnostics.
#[derive(Debug, Clone)]
pub struct WeightedEstimate {
    pub method: Method,
    /// The weights, normalised to 1 within each arm.
    pub weights: Vec<f64>,
    /// The propensity scores (IPW and overlap weights).
    pub propensity: Option<Vec<f64>>,
    /// The effect with the standard error of `se`: stacked for IPW and AIPW, weights
    /// fixed otherwise (for AIPW the effect is the doubly robust one, while
    /// `effect_weights_fixed` is the IPW difference its weights give).
    pub effect: Inference,
    pub se: EffectSe,
    /// The same effect with the weights-fixed sandwich (for every method).
    pub effect_weights_fixed: Inference,
    /// Balance per covariate, in the order of `x`.
    pub balance: Vec<Balance>,
    /// Kish's effective sample size per arm.
    pub effective_n_treated: f64,
    pub effective_n_control: f64,
    /// Treated units whose propensity score lies outside the range of the comparison
    /// group's scores (IPW and overlap weights).
    pub treated_outside_support: Option<usize>,
    /// 1:1 matching without replacement: the matched pairs as (treated, comparison)
    /// unit indices, for Rosenbaum bounds ([`rosenbaum`]).
    pub pairs: Option<Vec<(usize, usize)>>,
}

/// Run `method` end to end: weights, effect with its standard errors (`se`, one of
/// HC0–HC3, for the weights-fixed sandwich), balance and effective sample sizes.
pub fn estimate(
    method: Method,
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
    se: SeType,
    conf_level: f64,
) -> StatsResult<WeightedEstimate> {
    estimate_clustered(method, y, treated, x, names, se, None, conf_level)
}

/// As [`estimate`], with clusters (schools): the weights-fixed sandwich takes `se` of
/// CR0–CR2, and the stacked sandwiches of IPW and AIPW sum the estimating functions
/// within clusters (G/(G − 1), t on G − 1 df).
#[allow(clippy::too_many_arguments)]
pub fn estimate_clustered(
    method: Method,
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
    se: SeType,
    clusters: Option<&super::ols::Clusters>,
    conf_level: f64,
) -> StatsResult<WeightedEstimate> {
    if y.len() != treated.len() {
        return Err(StatsError::Invalid(format!(
            "{} outcome values for {} units",
            y.len(),
            treated.len()
        )));
    }
    if let Some(i) = y.par_iter().position_first(|v| !v.is_finite()) {
        return Err(StatsError::Invalid(format!(
            "the outcome of unit {i} (0-based) is missing or not finite"
        )));
    }
    let (w, model) = weights(method, treated, x, names)?;
    let stacked = if clusters.is_some() {
        EffectSe::StackedClustered
    } else {
        EffectSe::Stacked
    };
    // The weights-fixed difference and the arms' effective sizes (one core) beside the
    // balance (all of them); the stacked sandwich after them, so that its memory does
    // not add to the difference's.
    let ((fixed, (effective_n_treated, effective_n_control)), (balance, outside)) = rayon::join(
        || {
            (
                weighted_difference_clustered(y, treated, &w, se, clusters, conf_level),
                effective_ns(&w, treated),
            )
        },
        || {
            let balance = balance_table(x, treated, &w);
            let outside = model.as_ref().map(|m| outside_support(&m.fitted, treated));
            (balance, outside)
        },
    );
    let fixed = fixed?;
    let (effect, se_kind) = match (&model, method) {
        (Some(m), Method::IpwAtt) => (
            ipw_att_stacked_with(y, treated, x, m, &w, clusters, conf_level)?,
            stacked,
        ),
        (Some(m), Method::AipwAtt) => (
            aipw_att(y, treated, x, names, m, clusters, conf_level)?,
            stacked,
        ),
        _ => (fixed, EffectSe::WeightsFixed(se)),
    };
    Ok(WeightedEstimate {
        method,
        balance,
        effective_n_treated,
        effective_n_control,
        treated_outside_support: outside,
        propensity: model.map(|m| m.fitted),
        weights: w,
        effect,
        se: se_kind,
        effect_weights_fixed: fixed,
        pairs: None,
    })
}

/// The number of treated units whose propensity score lies outside the range of the
/// comparison group's scores (a score that is NaN counts in neither).
///
/// Two passes on all cores, in chunks, each without a branch on the arm (a treated row
/// offers the range ±∞, which moves neither bound): the least and greatest comparison
/// score, then the treated outside them. The bounds do not depend on the order in
/// which they are taken. (As one serial filter and fold this took 7-9 ms at 10^6 units,
/// alone on one core at the end of the balance table.)
pub fn outside_support(fitted: &[f64], treated: &[bool]) -> usize {
    let n = fitted.len().min(treated.len());
    let (fitted, treated) = (&fitted[..n], &treated[..n]);
    let (inf, ninf) = (f64::INFINITY, f64::NEG_INFINITY);
    let (lo, hi) = fitted
        .par_chunks(rows::CHUNK)
        .zip(treated.par_chunks(rows::CHUNK))
        .map(|(p, t)| {
            p.iter().zip(t).fold((inf, ninf), |(lo, hi), (&p, &t)| {
                let (a, b) = if t { (inf, ninf) } else { (p, p) };
                (lo.min(a), hi.max(b))
            })
        })
        .reduce(|| (inf, ninf), |x, y| (x.0.min(y.0), x.1.max(y.1)));
    fitted
        .par_chunks(rows::CHUNK)
        .zip(treated.par_chunks(rows::CHUNK))
        .map(|(p, t)| {
            p.iter()
                .zip(t)
                .map(|(&p, &t)| usize::from(t & ((p < lo) | (p > hi))))
                .sum::<usize>()
        })
        .sum()
}

/// The options of nearest-neighbour matching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchingSpec {
    /// Comparison units per treated unit (1:k).
    pub ratio: usize,
    /// Whether a comparison unit may be matched more than once.
    pub replace: bool,
    /// Caliper in standard deviations of the logit of the propensity score.
    pub caliper: Option<f64>,
}

impl Default for MatchingSpec {
    fn default() -> Self {
        Self {
            ratio: 1,
            replace: false,
            caliper: None,
        }
    }
}

/// Nearest-neighbour matching on the logit of the propensity score ([`matching`]), end
/// to end: the matched difference with its standard error (CR1 by matched set without
/// replacement, HC2 with the weights fixed with replacement), balance of the matched
/// sample and effective sample sizes. Fails when no treated unit finds a match.
pub fn estimate_matching(
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
    spec: &MatchingSpec,
    conf_level: f64,
) -> StatsResult<(WeightedEstimate, usize)> {
    estimate_matching_within(y, treated, x, names, spec, None, conf_level)
}

/// [`estimate_matching`] with exact matching: a treated unit is matched only to
/// comparison units of the same `groups` code (MatchIt's `exact =`); the caliper's SD
/// stays that of all units.
pub fn estimate_matching_within(
    y: &[f64],
    treated: &[bool],
    x: &[&[f64]],
    names: &[&str],
    spec: &MatchingSpec,
    groups: Option<&[u32]>,
    conf_level: f64,
) -> StatsResult<(WeightedEstimate, usize)> {
    if spec.ratio == 0 || spec.caliper.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
        return Err(StatsError::Invalid(
            "matching needs a ratio of at least 1 and a positive caliper".into(),
        ));
    }
    let model = logit(treated, x, names)?;
    let eta: Vec<f64> = model.fitted.iter().map(|p| p.ln() - (-p).ln_1p()).collect();
    let m = matching::nearest_within(
        &eta,
        treated,
        groups,
        spec.ratio,
        spec.replace,
        spec.caliper,
    );
    let n1 = treated.iter().filter(|&&t| t).count();
    if m.unmatched_treated == n1 {
        return Err(StatsError::Invalid(
            "no treated unit has a comparison unit within the caliper (and, with exact matching, of the same value of the exact column); widen the caliper or match exactly on fewer values".into(),
        ));
    }
    let (effect, se) = matching::matched_difference(y, treated, &m, conf_level)?;
    // 1:1 without replacement: the pairs, treated unit first.
    let pairs = (spec.ratio == 1 && !spec.replace).then(|| {
        // Subclasses are numbered 0.. in the treated units' matching order.
        let mut by_set: Vec<(Option<usize>, Option<usize>)> = vec![(None, None); n1];
        for (i, s) in m.subclass.iter().enumerate() {
            if let Some(s) = s {
                let e = &mut by_set[*s as usize];
                if treated[i] {
                    e.0 = Some(i);
                } else {
                    e.1 = Some(i);
                }
            }
        }
        by_set
            .into_iter()
            .filter_map(|(t, c)| Some((t?, c?)))
            .collect()
    });
    let w = &m.weights;
    let outside = outside_support(&model.fitted, treated);
    Ok((
        WeightedEstimate {
            method: Method::MatchingAtt,
            balance: balance_table(x, treated, w),
            effective_n_treated: effective_n(w, |i| treated[i]),
            effective_n_control: effective_n(w, |i| !treated[i]),
            treated_outside_support: Some(outside),
            propensity: Some(model.fitted),
            weights: m.weights.clone(),
            effect,
            se: EffectSe::Matched(se),
            effect_weights_fixed: effect,
            pairs,
        },
        m.unmatched_treated,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunked, branch-free count of treated units outside the comparison range is
    /// the plain filter and fold's, with NaN scores, ties at the bounds, no comparison
    /// units and no treated units among the cases, and lengths around the chunk size.
    #[test]
    fn outside_support_is_the_plain_count() {
        use rand::{Rng, SeedableRng};
        let plain = |p: &[f64], t: &[bool]| {
            let (lo, hi) = p
                .iter()
                .zip(t)
                .filter(|(_, t)| !**t)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |a, (&p, _)| {
                    (a.0.min(p), a.1.max(p))
                });
            p.iter()
                .zip(t)
                .filter(|(p, t)| **t && (**p < lo || **p > hi))
                .count()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut nonzero = 0;
        for case in 0..200 {
            let n = [0, 1, 7, rows::CHUNK - 1, rows::CHUNK + 3, 3 * rows::CHUNK][case % 6];
            let share = [0.0, 0.3, 1.0, 0.9][case % 4];
            let t: Vec<bool> = (0..n).map(|_| rng.random_bool(share)).collect();
            let p: Vec<f64> = t
                .iter()
                .map(|&t| match rng.random_range(0..50) {
                    0 => f64::NAN,
                    1 => 0.5,
                    _ if t => rng.random_range(0.2..1.0),
                    _ => rng.random_range(0.0..0.8),
                })
                .collect();
            let want = plain(&p, &t);
            assert_eq!(outside_support(&p, &t), want, "case {case}");
            nonzero += usize::from(want > 0);
        }
        assert!(nonzero > 50, "{nonzero} cases with units outside");
    }

    /// Units with an outcome, an arm and a positive weight, from a fixed generator.
    fn units(n: usize, seed: u64) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut y = Vec::with_capacity(n);
        let mut t = Vec::with_capacity(n);
        let mut w = Vec::with_capacity(n);
        for _ in 0..n {
            let treated = next() < 0.35;
            y.push(100.0 + 3.0 * next() + if treated { 0.7 } else { 0.0 });
            t.push(treated);
            w.push(0.05 + 2.0 * next());
        }
        (y, t, w)
    }

    /// The closed form of the weights-fixed sandwich is the general weighted least
    /// squares fit's, for every HC type (the general fit is the one checked against
    /// estimatr in `tests/weighting_reference.rs`).
    #[test]
    fn two_group_closed_form_is_the_general_fit() {
        for (n, seed) in [(12, 1), (40, 2), (1001, 3)] {
            let (y, t, w) = units(n, seed);
            let treated = t.iter().filter(|&&t| t).count();
            assert!(treated >= 2 && n - treated >= 2, "{n}: {treated} treated");
            let tf: Vec<f64> = t.iter().map(|&t| f64::from(u8::from(t))).collect();
            let fit = fit_weighted(&y, &[&tf], &w, true).unwrap();
            for se in [SeType::Hc0, SeType::Hc1, SeType::Hc2, SeType::Hc3] {
                let want = fit.coef_inference(1, se, None, 0.9).unwrap().inference;
                let got = weighted_difference(&y, &t, &w, se, 0.9).unwrap();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1e-3);
                assert!(close(got.estimate, want.estimate), "{n} {se:?}");
                assert!(close(got.std_error, want.std_error), "{n} {se:?}");
                assert!(close(got.ci_low, want.ci_low), "{n} {se:?}");
                assert_eq!(got.df, want.df);
            }
        }
    }

    /// A comparison arm of one unit has leverage 1: HC2 and HC3 are refused, HC0 is
    /// 0 for that arm; a weight of 0 and an empty arm are refused by name.
    #[test]
    fn two_group_closed_form_refuses_what_the_fit_refuses() {
        let y = [1.0, 2.0, 4.0, 3.0];
        let t = [true, true, true, false];
        let w = [1.0, 2.0, 1.0, 1.0];
        for se in [SeType::Hc2, SeType::Hc3] {
            let e = weighted_difference(&y, &t, &w, se, 0.95).unwrap_err();
            assert!(e.to_string().contains("leverage 1"), "{e}");
        }
        assert!(weighted_difference(&y, &t, &w, SeType::Hc0, 0.95).is_ok());
        let e = weighted_difference(&y, &t, &[1.0, 0.0, 1.0, 1.0], SeType::Hc2, 0.95).unwrap_err();
        assert!(e.to_string().contains("weight 0 of observation 1"), "{e}");
        let e = weighted_difference(&y, &[true; 4], &w, SeType::Hc2, 0.95).unwrap_err();
        assert!(e.to_string().contains("both arms"), "{e}");
    }
}
