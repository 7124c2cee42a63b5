//! Linear regression with absorbed fixed effects (`--fe COL[,COL]`), with the standard
//! errors and small-sample conventions of R `fixest::feols` and Python `pyfixest.feols`
//! defaults (`ssc()` with K.adj, K.fixef = "nonnested", G.adj, G.df = "min",
//! t.df = "min"; pyfixest 0.60.0 `ssc(k_adj=True, k_fixef="nonnested", G_adj=True,
//! G_df="min")`).
//!
//! # Estimation
//!
//! No dummy column is built per level. y and every regressor are demeaned within the
//! levels of the fixed effects (Frisch-Waugh-Lovell): exactly, by subtracting group
//! means, for one fixed effect; for several, by the method of alternating projections
//! (Guimarães & Portugal 2010; Gaure 2013, *Comput. Statist. Data Anal.* 66): sweep the
//! group-mean subtraction over the fixed effects until one sweep changes the vector by
//! at most 1e-12 of its initial (centred) norm. OLS without intercept on the demeaned
//! data ([`ols::fit_owned`], which keeps the demeaned columns for the standard errors)
//! then gives the slopes and residuals. A regressor that the fixed effects absorb (its
//! demeaned norm below 1e-9 of its centred norm) is reported as
//! [`StatsError::Collinear`] with its 0-based regressor index.
//!
//! # Standard errors
//!
//! With N observations, k slopes, L_f levels of fixed effect f (F fixed effects), the
//! number of parameters is df_k = k + K_fe with K_fe = Σ L_f − (F − 1) (one level of
//! every fixed effect after the first is taken as redundant; fixest does not look for
//! more redundancy unless `K.exact`/`fixef.force_exact`). For clustered errors the
//! fixed effects nested in the cluster (every level within one cluster) are left out
//! of K_fe and one parameter is added back per nested fixed effect (pyfixest's
//! `get_ssc`; fixest issue 554). With X̃ the demeaned regressors and e the residuals:
//!
//! - `Iid`: V = Σe²/(N − df_k) · (X̃'X̃)⁻¹; t with N − df_k df.
//! - `Hetero`: V = N/(N − df_k) · HC0; t with N − df_k df (fixest's "hetero").
//! - `Cluster` (CRV1): V = (N−1)/(N − df_k) · G/(G−1) · CR0 (Liang & Zeger 1986);
//!   t with G − 1 df.
//!
//! Singletons (a fixed-effect level with one observation) are kept; pyfixest drops
//! them by default (`fixef_rm = "singleton"`). The slopes are the same either way, the
//! small-sample factor differs slightly; the reference panels have none.

use serde::Serialize;

use super::ols::{self, Clusters, OlsFit, SeType};
use super::{Inference, StatsError, StatsResult};

/// Relative change at which the alternating projections stop.
pub const DEMEAN_TOL: f64 = 1e-12;
/// Most sweeps of the alternating projections before giving up.
pub const MAX_SWEEPS: usize = 100_000;
/// A regressor whose demeaned norm is below this fraction of its centred norm is
/// absorbed by the fixed effects.
pub(crate) const ABSORBED: f64 = 1e-9;

/// fixest's number of parameters K in the CRV1 small-sample factor, for `k` slopes and
/// fixed effects with `levels` levels each, `nested[f]` saying whether every level of
/// fixed effect f lies within one cluster: K = k + K_fe with K_fe = Σ L_f − (F − 1),
/// less the levels of the nested effects plus one per nested effect (`Nested`); every
/// level (`All`); k alone (`None`). See the module docs.
pub fn cluster_df_k(k: usize, levels: &[usize], nested: &[bool], rule: FeSmallSample) -> f64 {
    let k = k as f64;
    if rule == FeSmallSample::None {
        return k;
    }
    let nfe = levels.len();
    let k_fe = levels.iter().sum::<usize>() as f64 - (nfe as f64 - 1.0);
    if rule == FeSmallSample::All {
        return k + k_fe;
    }
    let k_nested = levels
        .iter()
        .zip(nested)
        .filter(|(_, n)| **n)
        .map(|(l, _)| *l)
        .sum::<usize>() as f64;
    let count = nested.iter().filter(|n| **n).count() as f64;
    k + k_fe - k_nested + count
}

/// Variance type for a fixed-effects fit (fixest's `vcov =`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeVcov {
    /// Homoskedastic ("iid").
    Iid,
    /// Heteroskedasticity-robust ("hetero", HC1 with fixest's K).
    Hetero,
    /// Cluster-robust CRV1.
    Cluster,
}

impl FeVcov {
    pub fn name(self) -> &'static str {
        match self {
            Self::Iid => "iid",
            Self::Hetero => "hetero",
            Self::Cluster => "CRV1",
        }
    }
    /// How the degrees of freedom are chosen, for reports.
    pub fn df_rule(self) -> &'static str {
        match self {
            Self::Iid | Self::Hetero => "N - K (K counts the absorbed levels)",
            Self::Cluster => "G - 1",
        }
    }
}

/// A fitted regression with absorbed fixed effects.
#[derive(Debug, Clone)]
pub struct FeFit {
    fit: OlsFit<'static>,
    fe: Vec<Clusters>,
    sweeps: usize,
    /// N of the small-sample factor: the rows, or Σw for frequency weights.
    n_obs: f64,
}

/// The cluster-robust variance matrix of the slopes with its small-sample quantities.
#[derive(Debug, Clone, PartialEq)]
pub struct FeCovariance {
    pub matrix: nalgebra::DMatrix<f64>,
    /// The factor CR0 was multiplied by.
    pub scale: f64,
    /// The number of parameters K in that factor.
    pub df_k: f64,
    /// Degrees of freedom of t and F tests: G − 1.
    pub df: f64,
    pub clusters: usize,
}

impl FeCovariance {
    /// CRV1 from the CR0 matrix: V = (N−1)/(N−K) · G/(G−1) · CR0 on G − 1 df, for N
    /// observations (`rows` rows, reported when N ≤ K), K = `df_k` and G clusters;
    /// an error when N ≤ K or there are fewer than two clusters.
    pub(crate) fn crv1(
        cr0: nalgebra::DMatrix<f64>,
        n_obs: f64,
        rows: usize,
        df_k: f64,
        clusters: usize,
    ) -> StatsResult<Self> {
        if !super::above(n_obs - df_k, 0.0) {
            return Err(StatsError::TooFew {
                needed: df_k as usize + 1,
                got: rows,
            });
        }
        if clusters < 2 {
            return Err(StatsError::TooFewClusters { got: clusters });
        }
        let g = clusters as f64;
        let scale = (n_obs - 1.0) / (n_obs - df_k) * g / (g - 1.0);
        Ok(Self {
            matrix: cr0 * scale,
            scale,
            df_k,
            df: g - 1.0,
            clusters,
        })
    }

    /// [`Self::crv1`] for `k` slopes of a panel regression with unit and period effects
    /// clustered by unit (the unit effect nested in the clusters, the period effect
    /// not), K counted by `rule` ([`cluster_df_k`]).
    pub(crate) fn crv1_by_unit(
        cr0: nalgebra::DMatrix<f64>,
        k: usize,
        rows: usize,
        units: usize,
        periods: usize,
        rule: FeSmallSample,
    ) -> StatsResult<Self> {
        let df_k = cluster_df_k(k, &[units, periods], &[true, false], rule);
        Self::crv1(cr0, rows as f64, rows, df_k, units)
    }
}

/// Inference on one slope, with the small-sample quantities used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FeInference {
    pub inference: Inference,
    pub vcov: FeVcov,
    /// The number of parameters K in the small-sample factor.
    pub df_k: f64,
    /// The factor the uncorrected variance (σ̂²(X̃'X̃)⁻¹ with σ̂² = RSS/N, HC0 or CR0)
    /// was multiplied by.
    pub scale: f64,
}

/// Subtract group means in place, two-pass per group (the mean, then the mean of the
/// remainders) so that large means do not cost accuracy. With weights the means are
/// weighted (`counts` then holds the groups' sums of weights).
fn subtract_means(
    v: &mut [f64],
    codes: &[u32],
    sums: &mut [f64],
    counts: &[f64],
    weights: Option<&[f64]>,
) {
    for _ in 0..2 {
        sums.iter_mut().for_each(|s| *s = 0.0);
        match weights {
            None => {
                for (x, &g) in v.iter().zip(codes) {
                    sums[g as usize] += x;
                }
            }
            Some(w) => {
                for ((x, &g), w) in v.iter().zip(codes).zip(w) {
                    sums[g as usize] += w * x;
                }
            }
        }
        for (s, c) in sums.iter_mut().zip(counts) {
            *s /= c;
        }
        for (x, &g) in v.iter_mut().zip(codes) {
            *x -= sums[g as usize];
        }
    }
}

/// Demean `v` within the levels of every fixed effect; returns the number of sweeps.
fn demean(
    v: &mut [f64],
    fe: &[Clusters],
    counts: &[Vec<f64>],
    weights: Option<&[f64]>,
) -> StatsResult<usize> {
    let mut sums: Vec<Vec<f64>> = fe.iter().map(|f| vec![0.0; f.count()]).collect();
    if fe.len() == 1 {
        subtract_means(v, fe[0].codes(), &mut sums[0], &counts[0], weights);
        return Ok(1);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let scale = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>().sqrt();
    let mut prev = v.to_vec();
    for sweep in 1..=MAX_SWEEPS {
        for (f, (s, c)) in fe.iter().zip(sums.iter_mut().zip(counts)) {
            subtract_means(v, f.codes(), s, c, weights);
        }
        let change = v
            .iter()
            .zip(&prev)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        if change <= DEMEAN_TOL * scale {
            return Ok(sweep);
        }
        prev.copy_from_slice(v);
    }
    Err(StatsError::Invalid(format!(
        "demeaning by the fixed effects did not converge in {MAX_SWEEPS} sweeps"
    )))
}

/// Fit y on the columns `x` with the fixed effects `fe` absorbed (no intercept: the
/// fixed effects contain it). At least one fixed effect is needed.
pub fn feols(y: &[f64], x: &[&[f64]], fe: &[&Clusters]) -> StatsResult<FeFit> {
    feols_weighted(y, x, fe, FeWeights::None)
}

/// Observation weights of a fixed-effects fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeWeights<'a> {
    None,
    /// Analytic (precision) weights, fixest's and pyfixest's default `weights`: the
    /// number of observations N in the small-sample factor is the number of rows.
    Analytic(&'a [f64]),
    /// Frequency weights (pyfixest `weights_type = "fweights"`): each row stands for
    /// `w` identical observations, so N in the small-sample factor is Σw. With a row
    /// per group of persons (events/trials) the cluster-robust variances then equal
    /// those of the person rows, as long as every cluster holds whole rows.
    Frequency(&'a [f64]),
}

impl<'a> FeWeights<'a> {
    fn slice(self) -> Option<&'a [f64]> {
        match self {
            Self::None => None,
            Self::Analytic(w) | Self::Frequency(w) => Some(w),
        }
    }
}

/// As [`feols`], with weights: the weighted least-squares fit, by demeaning with
/// weighted group means and fitting √w·ỹ on √w·X̃ (as fixest and pyfixest do; the
/// residuals of [`FeFit::ols`] are then √wᵢ·eᵢ, as in [`ols::fit_weighted`]).
pub fn feols_weighted(
    y: &[f64],
    x: &[&[f64]],
    fe: &[&Clusters],
    weights: FeWeights<'_>,
) -> StatsResult<FeFit> {
    let n = y.len();
    if fe.is_empty() {
        return Err(StatsError::Invalid(
            "no fixed effects given; use ordinary least squares".into(),
        ));
    }
    if x.is_empty() {
        return Err(StatsError::Invalid(
            "no regressors besides the fixed effects".into(),
        ));
    }
    for c in x {
        if c.len() != n {
            return Err(StatsError::Invalid(format!(
                "regressor has {} rows, outcome {n}",
                c.len()
            )));
        }
    }
    for f in fe {
        if f.codes().len() != n {
            return Err(StatsError::Invalid(format!(
                "fixed effect has {} rows, outcome {n}",
                f.codes().len()
            )));
        }
    }
    if y.iter()
        .chain(x.iter().flat_map(|c| c.iter()))
        .any(|v| !v.is_finite())
    {
        return Err(StatsError::Invalid(
            "the outcome and regressors must be finite numbers".into(),
        ));
    }
    let w = weights.slice();
    if let Some(w) = w {
        super::ols::check_weights(w, n)?;
    }
    let fe: Vec<Clusters> = fe.iter().map(|f| (*f).clone()).collect();
    let counts: Vec<Vec<f64>> = fe
        .iter()
        .map(|f| {
            let mut c = vec![0.0; f.count()];
            match w {
                None => f.codes().iter().for_each(|&g| c[g as usize] += 1.0),
                Some(w) => f
                    .codes()
                    .iter()
                    .zip(w)
                    .for_each(|(&g, w)| c[g as usize] += w),
            }
            c
        })
        .collect();
    let root: Option<Vec<f64>> = w.map(|w| w.iter().map(|v| v.sqrt()).collect());
    let scale_rows = |v: &mut [f64]| {
        if let Some(r) = &root {
            v.iter_mut().zip(r).for_each(|(a, r)| *a *= r);
        }
    };
    let mut yt = y.to_vec();
    let mut sweeps = demean(&mut yt, &fe, &counts, w)?;
    scale_rows(&mut yt);
    let mut xt: Vec<Vec<f64>> = Vec::with_capacity(x.len());
    for (j, c) in x.iter().enumerate() {
        let m = c.iter().sum::<f64>() / n as f64;
        let scale = c.iter().map(|v| (v - m) * (v - m)).sum::<f64>().sqrt();
        let mut v = c.to_vec();
        sweeps = sweeps.max(demean(&mut v, &fe, &counts, w)?);
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if !super::above(norm, ABSORBED * scale) {
            return Err(StatsError::Collinear { index: j });
        }
        scale_rows(&mut v);
        xt.push(v);
    }
    let fit = ols::fit_owned(yt, xt, false)?;
    let n_obs = match weights {
        FeWeights::Frequency(w) => w.iter().sum(),
        _ => n as f64,
    };
    Ok(FeFit {
        fit,
        fe,
        sweeps,
        n_obs,
    })
}

/// Which fixed effects count in the number of parameters K of the small-sample factor
/// (fixest `ssc(fixef.K = ...)`, pyfixest `ssc(k_fixef = ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeSmallSample {
    /// fixest's default: fixed effects nested in the clusters are left out (one
    /// parameter added back per nested fixed effect, as pyfixest `"nonnested"`).
    Nested,
    /// Every level counts, as a regression with dummies (`lm` + `sandwich::vcovCL`,
    /// Stata `regress` with dummies; pyfixest `"full"`).
    All,
    /// No fixed effect counts: K is the number of slopes (pyfixest `"none"`).
    None,
}

impl FeSmallSample {
    pub fn name(self) -> &'static str {
        match self {
            Self::Nested => "nested",
            Self::All => "all",
            Self::None => "none",
        }
    }
}

impl FeFit {
    /// The OLS fit on the demeaned data (slopes, residuals).
    pub fn ols(&self) -> &OlsFit<'static> {
        &self.fit
    }

    /// The residuals of the demeaned regression, moved out of the fit.
    pub fn into_residuals(self) -> Vec<f64> {
        self.fit.into_residuals()
    }
    pub fn coefficients(&self) -> &[f64] {
        self.fit.coefficients()
    }
    pub fn n(&self) -> usize {
        self.fit.n()
    }
    /// Levels of each fixed effect.
    pub fn levels(&self) -> Vec<usize> {
        self.fe.iter().map(Clusters::count).collect()
    }
    /// Sweeps the alternating projections took (1 for a single fixed effect).
    pub fn sweeps(&self) -> usize {
        self.sweeps
    }

    /// Whether every level of fixed effect `f` lies within one cluster.
    fn nested(&self, f: usize, cl: &Clusters) -> bool {
        let fe = &self.fe[f];
        let mut owner: Vec<Option<u32>> = vec![None; fe.count()];
        for (&g, &c) in fe.codes().iter().zip(cl.codes()) {
            match owner[g as usize] {
                None => owner[g as usize] = Some(c),
                Some(o) if o != c => return false,
                _ => {}
            }
        }
        true
    }

    /// fixest's number of parameters K for the small-sample factor.
    pub fn df_k(&self, vcov: FeVcov, clusters: Option<&Clusters>) -> StatsResult<f64> {
        self.df_k_with(vcov, clusters, FeSmallSample::Nested)
    }

    /// N of the small-sample factor: the rows, or Σw for frequency weights.
    pub fn n_obs(&self) -> f64 {
        self.n_obs
    }

    /// The number of parameters K with the fixed effects counted as `rule` says (for
    /// `Iid` and `Hetero` nothing is nested, so `Nested` counts every level).
    pub fn df_k_with(
        &self,
        vcov: FeVcov,
        clusters: Option<&Clusters>,
        rule: FeSmallSample,
    ) -> StatsResult<f64> {
        let k = self.fit.k();
        if rule == FeSmallSample::None {
            return Ok(k as f64);
        }
        let levels = self.levels();
        let nfe = levels.len();
        Ok(match vcov {
            FeVcov::Iid | FeVcov::Hetero => {
                cluster_df_k(k, &levels, &vec![false; nfe], FeSmallSample::All)
            }
            FeVcov::Cluster if rule == FeSmallSample::All => {
                self.check_clusters(clusters)?;
                cluster_df_k(k, &levels, &vec![false; nfe], rule)
            }
            FeVcov::Cluster => {
                let cl = self.check_clusters(clusters)?;
                let nested: Vec<bool> = (0..nfe).map(|f| self.nested(f, cl)).collect();
                cluster_df_k(k, &levels, &nested, rule)
            }
        })
    }

    fn check_clusters<'a>(&self, clusters: Option<&'a Clusters>) -> StatsResult<&'a Clusters> {
        let cl =
            clusters.ok_or_else(|| StatsError::Invalid("clustered errors need clusters".into()))?;
        if cl.codes().len() != self.n() {
            return Err(StatsError::Invalid(format!(
                "{} cluster codes for {} observations",
                cl.codes().len(),
                self.n()
            )));
        }
        if cl.count() < 2 {
            return Err(StatsError::TooFewClusters { got: cl.count() });
        }
        Ok(cl)
    }

    /// The CRV1 variance matrix of all slopes, V = (N−1)/(N−K) · G/(G−1) · CR0, with K
    /// counted by `rule`; t and F tests on G − 1 df (fixest's `t.df = "min"`).
    pub fn cluster_vcov(
        &self,
        clusters: &Clusters,
        rule: FeSmallSample,
    ) -> StatsResult<FeCovariance> {
        let cl = self.check_clusters(Some(clusters))?;
        let df_k = self.df_k_with(FeVcov::Cluster, Some(cl), rule)?;
        // check_clusters above made the checks of cr0_vcov: N ≤ K is the only error left.
        FeCovariance::crv1(
            self.fit.cr0_vcov(cl)?,
            self.n_obs,
            self.n(),
            df_k,
            cl.count(),
        )
    }

    /// Inference for slope `j` (0-based, in the order of the regressors).
    pub fn coef_inference(
        &self,
        j: usize,
        vcov: FeVcov,
        clusters: Option<&Clusters>,
        conf_level: f64,
    ) -> StatsResult<FeInference> {
        if j >= self.fit.k() {
            return Err(StatsError::Invalid(format!("no coefficient {j}")));
        }
        let n = self.n_obs;
        let df_k = self.df_k(vcov, clusters)?;
        if !super::above(n - df_k, 0.0) {
            return Err(StatsError::TooFew {
                needed: df_k as usize + 1,
                got: self.n(),
            });
        }
        let kf = self.fit.k() as f64;
        let (var, scale, df) = match vcov {
            FeVcov::Iid => {
                // ols' classical variance is RSS/(N − k)·(X̃'X̃)⁻¹.
                let v = self.fit.vcov(SeType::Classical)?[(j, j)] * (n - kf);
                (v / (n - df_k), n / (n - df_k), n - df_k)
            }
            FeVcov::Hetero => {
                let s = n / (n - df_k);
                (self.fit.vcov(SeType::Hc0)?[(j, j)] * s, s, n - df_k)
            }
            FeVcov::Cluster => {
                let cl = self.check_clusters(clusters)?;
                let g = cl.count() as f64;
                let cr0 = self
                    .fit
                    .coef_inference(j, SeType::Cr0, Some(cl), conf_level)?;
                let s = (n - 1.0) / (n - df_k) * g / (g - 1.0);
                let se0 = cr0.inference.std_error;
                (se0 * se0 * s, s, g - 1.0)
            }
        };
        if !super::above(var, 0.0) {
            return Err(StatsError::NoVariance);
        }
        Ok(FeInference {
            inference: Inference::wald(
                self.fit.coefficients()[j],
                var.sqrt(),
                Some(df),
                conf_level,
            ),
            vcov,
            df_k,
            scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small unbalanced panel: 4 units, 3 periods, one observation missing.
    fn panel() -> (Vec<f64>, Vec<f64>, Vec<u32>, Vec<u32>) {
        let unit = vec![0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3];
        let time = vec![0, 1, 2, 0, 1, 2, 0, 2, 0, 1, 2];
        let x = vec![1.0, 2.5, 2.0, 4.0, 3.5, 5.0, 0.5, 1.5, 2.0, 2.2, 3.9];
        let y = vec![2.0, 3.1, 3.3, 6.0, 5.2, 7.9, 1.0, 2.8, 3.0, 3.5, 6.1];
        (y, x, unit, time)
    }

    /// The same regression with one dummy column per level (the first level of each
    /// fixed effect after the first dropped).
    fn dummies(y: &[f64], x: &[f64], fes: &[&[u32]]) -> OlsFit<'static> {
        let mut cols: Vec<Vec<f64>> = vec![x.to_vec()];
        for (f, codes) in fes.iter().enumerate() {
            let levels = *codes.iter().max().unwrap() + 1;
            let start = u32::from(f > 0);
            for l in start..levels {
                cols.push(codes.iter().map(|&c| f64::from(u8::from(c == l))).collect());
            }
        }
        ols::fit_owned(y, cols, false).unwrap()
    }

    #[test]
    fn absorbed_equals_dummy_regression() {
        let (y, x, unit, time) = panel();
        let u = Clusters::from_labels(&unit);
        let t = Clusters::from_labels(&time);
        let one = feols(&y, &[&x], &[&u]).unwrap();
        let d1 = dummies(&y, &x, &[&unit]);
        assert!((one.coefficients()[0] - d1.coefficients()[0]).abs() < 1e-12);
        assert_eq!(one.sweeps(), 1);
        let two = feols(&y, &[&x], &[&u, &t]).unwrap();
        let d2 = dummies(&y, &x, &[&unit, &time]);
        assert!((two.coefficients()[0] - d2.coefficients()[0]).abs() < 1e-10);
        assert!((two.ols().rss() - d2.rss()).abs() < 1e-10 * d2.rss());
        // iid SE: the dummy regression's classical SE (its N − K equals N − df_k).
        let se = two.coef_inference(0, FeVcov::Iid, None, 0.95).unwrap();
        let want = d2.coef_inference(0, SeType::Classical, None, 0.95).unwrap();
        assert!(
            (se.inference.std_error - want.inference.std_error).abs()
                < 1e-9 * want.inference.std_error
        );
        assert_eq!(se.df_k, 1.0 + 4.0 + 3.0 - 1.0);
        assert_eq!(se.inference.df, Some(11.0 - 7.0));
    }

    #[test]
    fn nested_fixed_effects_leave_k() {
        let (y, x, unit, time) = panel();
        let u = Clusters::from_labels(&unit);
        let t = Clusters::from_labels(&time);
        let f = feols(&y, &[&x], &[&u, &t]).unwrap();
        // Clustering by unit: the unit effect is nested, so K = 1 + (4 + 3 − 1) − 4 + 1.
        assert_eq!(f.df_k(FeVcov::Cluster, Some(&u)).unwrap(), 4.0);
        // By time: the time effect is nested.
        assert_eq!(
            f.df_k(FeVcov::Cluster, Some(&t)).unwrap(),
            1.0 + 6.0 - 3.0 + 1.0
        );
        // Coarser clusters containing whole units.
        let pairs = Clusters::from_labels(&unit.iter().map(|u| u / 2).collect::<Vec<_>>());
        assert_eq!(f.df_k(FeVcov::Cluster, Some(&pairs)).unwrap(), 4.0);
        let r = f
            .coef_inference(0, FeVcov::Cluster, Some(&pairs), 0.95)
            .unwrap();
        assert_eq!(r.inference.df, Some(1.0));
        assert_eq!(f.df_k(FeVcov::Hetero, None).unwrap(), 7.0);
    }

    #[test]
    fn absorbed_regressors_are_reported() {
        let (y, x, unit, _) = panel();
        let u = Clusters::from_labels(&unit);
        let unit_level: Vec<f64> = unit.iter().map(|&g| f64::from(g) * 1.5 + 2.0).collect();
        assert_eq!(
            feols(&y, &[&x, &unit_level], &[&u]).unwrap_err(),
            StatsError::Collinear { index: 1 }
        );
        assert!(feols(&y, &[&x], &[]).is_err());
    }

    #[test]
    fn shifting_the_outcome_changes_nothing() {
        let (y, x, unit, time) = panel();
        let u = Clusters::from_labels(&unit);
        let t = Clusters::from_labels(&time);
        let shifted: Vec<f64> = y.iter().map(|v| v + 1000.0).collect();
        let a = feols(&y, &[&x], &[&u, &t]).unwrap();
        let b = feols(&shifted, &[&x], &[&u, &t]).unwrap();
        assert!((a.coefficients()[0] - b.coefficients()[0]).abs() < 1e-9);
    }
}
