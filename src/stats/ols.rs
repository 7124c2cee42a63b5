//! Ordinary least squares with classical, heteroskedasticity-robust (HC0–HC3) and
//! cluster-robust (CR0, CR1, CR2) standard errors.
//!
//! The fit uses a Householder QR decomposition of the design (nalgebra), never the
//! normal equations: X = QR, β = R⁻¹Q'y, and every sandwich is formed in the
//! orthonormal Q-space, V = R⁻¹ · B · R⁻ᵀ with a k×k "meat" B, so nothing n×n (or
//! cluster-size squared) is ever built.
//!
//! Conventions, as R `estimatr::lm_robust` (Blair et al.), which the reference
//! fixtures come from:
//! - classical: σ̂² (X'X)⁻¹ with σ̂² = RSS/(n−k); t with n−k df.
//! - HC0: Σ eᵢ² xᵢxᵢ' (White 1980); HC1: HC0 · n/(n−k); HC2: eᵢ²/(1−hᵢᵢ);
//!   HC3: eᵢ²/(1−hᵢᵢ)² (MacKinnon & White 1985). t with n−k df.
//! - CR0: Σ_g X_g'e_g e_g'X_g (Liang & Zeger 1986); t with G−1 df.
//! - CR1 ("stata"): CR0 · G/(G−1) · (n−1)/(n−k); t with G−1 df (Stata, statsmodels).
//! - CR2: Bell & McCaffrey (2002) bias-reduced linearisation, with the adjustment
//!   A_g = (I − H_gg)^(−1/2) (symmetric square root), and their Satterthwaite degrees
//!   of freedom computed per coefficient under a working model of independent,
//!   homoskedastic errors (as estimatr `se_type = "CR2"` and clubSandwich
//!   `coef_test(vcov = "CR2", test = "Satterthwaite")` for OLS).
//!
//! CR2 in k×k algebra: with Q_g the rows of Q in cluster g, H_gg = Q_gQ_g'. Writing
//! S_g = Q_g'Q_g = VΛV', one has Q_g'A_g e_g = V diag((1−λ)^(−1/2)) V' Q_g'e_g, and the
//! Bell-McCaffrey matrix G'G for a contrast c has entries δ_gh·b_g − a_g'a_h with
//! w = R⁻ᵀc, a_g = V diag(λ(1−λ)^(−1/2)) V' w and b_g = w'V diag(λ/(1−λ)) V'w. Its
//! trace and squared Frobenius norm, which the df need, reduce to k×k products.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::Serialize;

use super::{Inference, StatsError, StatsResult};

/// Standard-error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SeType {
    Classical,
    Hc0,
    Hc1,
    Hc2,
    Hc3,
    Cr0,
    Cr1,
    Cr2,
}

impl SeType {
    pub fn is_cluster(self) -> bool {
        matches!(self, Self::Cr0 | Self::Cr1 | Self::Cr2)
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Classical => "classical",
            Self::Hc0 => "HC0",
            Self::Hc1 => "HC1",
            Self::Hc2 => "HC2",
            Self::Hc3 => "HC3",
            Self::Cr0 => "CR0",
            Self::Cr1 => "CR1",
            Self::Cr2 => "CR2",
        }
    }
    /// How the degrees of freedom are chosen, for reports.
    pub fn df_rule(self) -> &'static str {
        match self {
            Self::Classical | Self::Hc0 | Self::Hc1 | Self::Hc2 | Self::Hc3 => "n - k",
            Self::Cr0 | Self::Cr1 => "G - 1",
            Self::Cr2 => "Bell-McCaffrey",
        }
    }
}

/// Cluster membership as dense codes 0..G.
#[derive(Debug, Clone)]
pub struct Clusters {
    codes: Vec<u32>,
    count: usize,
}

impl Clusters {
    /// From any labels: codes are assigned in order of first appearance.
    pub fn from_labels<T: std::hash::Hash + Eq + Clone>(labels: &[T]) -> Self {
        let mut map = std::collections::HashMap::new();
        let codes = labels
            .iter()
            .map(|l| {
                let next = map.len() as u32;
                *map.entry(l.clone()).or_insert(next)
            })
            .collect();
        Self {
            codes,
            count: map.len(),
        }
    }
    /// From labels, with codes in sorted label order, so that anything that depends
    /// on the order of clusters (the weights of a wild cluster bootstrap draw) does not
    /// depend on the order of the rows.
    pub fn from_sorted_labels<T: Ord + Clone>(labels: &[T]) -> Self {
        let mut levels: Vec<T> = labels.to_vec();
        levels.sort();
        levels.dedup();
        let codes = labels
            .iter()
            .map(|l| levels.binary_search(l).map_or(0, |i| i as u32))
            .collect();
        Self {
            codes,
            count: levels.len(),
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }
}

/// A fitted OLS model.
#[derive(Debug, Clone)]
pub struct OlsFit {
    n: usize,
    k: usize,
    coef: Vec<f64>,
    resid: Vec<f64>,
    /// Thin Q (n×k).
    q: DMatrix<f64>,
    /// R⁻¹ (k×k, upper triangular).
    r_inv: DMatrix<f64>,
    rss: f64,
}

/// Inference for one coefficient with its SE type and df rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoefInference {
    pub inference: Inference,
    pub se_type: SeType,
}

/// Fit y on the columns `x` (an intercept is added first when `intercept`).
///
/// Fails with [`StatsError::Collinear`] naming the first design column (0-based, the
/// intercept counted) whose part not explained by the earlier columns is below 1e-9 of
/// its own norm: a constant covariate, or one that is a linear combination of others.
pub fn fit(y: &[f64], x: &[&[f64]], intercept: bool) -> StatsResult<OlsFit> {
    let n = y.len();
    if let Some(bad) = x.iter().find(|c| c.len() != n) {
        return Err(StatsError::Invalid(format!(
            "design column has {} rows, outcome {n}",
            bad.len()
        )));
    }
    let k = x.len() + usize::from(intercept);
    if k == 0 {
        return Err(StatsError::Invalid("empty design".into()));
    }
    if n <= k {
        return Err(StatsError::TooFew {
            needed: k + 1,
            got: n,
        });
    }
    let mut data = Vec::with_capacity(n * k);
    if intercept {
        data.extend(std::iter::repeat_n(1.0, n));
    }
    for c in x {
        data.extend_from_slice(c);
    }
    let xm = DMatrix::from_vec(n, k, data);
    let norms: Vec<f64> = (0..k).map(|j| xm.column(j).norm()).collect();
    let qr = xm.qr();
    let r = qr.r();
    for j in 0..k {
        if !super::above(r[(j, j)].abs(), 1e-9 * norms[j]) {
            return Err(StatsError::Collinear { index: j });
        }
    }
    let q = qr.q();
    let r_inv = r
        .solve_upper_triangular(&DMatrix::identity(k, k))
        .ok_or(StatsError::Collinear { index: k - 1 })?;
    let yv = DVector::from_column_slice(y);
    let qty = q.tr_mul(&yv);
    let coef = &r_inv * &qty;
    // Residuals as y − Q Q'y, which is accurate even when X is ill-conditioned.
    let fitted = &q * &qty;
    let resid: Vec<f64> = y.iter().zip(fitted.iter()).map(|(a, b)| a - b).collect();
    let rss = resid.iter().map(|e| e * e).sum();
    Ok(OlsFit {
        n,
        k,
        coef: coef.as_slice().to_vec(),
        resid,
        q,
        r_inv,
        rss,
    })
}

impl OlsFit {
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn k(&self) -> usize {
        self.k
    }
    pub fn coefficients(&self) -> &[f64] {
        &self.coef
    }
    pub fn residuals(&self) -> &[f64] {
        &self.resid
    }
    pub fn rss(&self) -> f64 {
        self.rss
    }

    /// Leverages hᵢᵢ = ‖Q row i‖².
    pub fn leverages(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.q.row(i).norm_squared()).collect()
    }

    /// Sandwich from a k×k meat in Q-space: R⁻¹ B R⁻ᵀ.
    fn sandwich(&self, meat: &DMatrix<f64>) -> DMatrix<f64> {
        &self.r_inv * meat * self.r_inv.transpose()
    }

    /// Σ wᵢ qᵢqᵢ' over rows.
    fn weighted_meat(&self, w: impl Fn(usize) -> f64) -> DMatrix<f64> {
        let k = self.k;
        let mut m = DMatrix::zeros(k, k);
        let mut row = vec![0.0; k];
        for i in 0..self.n {
            let wi = w(i);
            for (j, r) in row.iter_mut().enumerate() {
                *r = self.q[(i, j)];
            }
            for a in 0..k {
                let ra = row[a] * wi;
                for b in a..k {
                    m[(a, b)] += ra * row[b];
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                m[(a, b)] = m[(b, a)];
            }
        }
        m
    }

    /// Variance-covariance matrix of the coefficients for a non-cluster SE type.
    pub fn vcov(&self, se: SeType) -> StatsResult<DMatrix<f64>> {
        let (n, k) = (self.n as f64, self.k as f64);
        let e = &self.resid;
        Ok(match se {
            SeType::Classical => {
                let s2 = self.rss / (n - k);
                self.sandwich(&DMatrix::identity(self.k, self.k)) * s2
            }
            SeType::Hc0 => self.sandwich(&self.weighted_meat(|i| e[i] * e[i])),
            SeType::Hc1 => self.sandwich(&self.weighted_meat(|i| e[i] * e[i])) * (n / (n - k)),
            SeType::Hc2 | SeType::Hc3 => {
                let h = self.leverages();
                if h.iter().any(|&h| h >= 1.0 - 1e-12) {
                    return Err(StatsError::Invalid(
                        "an observation has leverage 1, so HC2/HC3 are undefined".into(),
                    ));
                }
                let pow = if se == SeType::Hc2 { 1 } else { 2 };
                self.sandwich(&self.weighted_meat(|i| e[i] * e[i] / (1.0 - h[i]).powi(pow)))
            }
            SeType::Cr0 | SeType::Cr1 | SeType::Cr2 => {
                return Err(StatsError::Invalid(format!("{} needs clusters", se.name())));
            }
        })
    }

    /// Per-cluster sufficient pieces: S_g = Q_g'Q_g and s_g = Q_g'e_g, one pass.
    fn cluster_pieces(&self, cl: &Clusters) -> StatsResult<Vec<(DMatrix<f64>, DVector<f64>)>> {
        if cl.codes.len() != self.n {
            return Err(StatsError::Invalid(format!(
                "{} cluster codes for {} observations",
                cl.codes.len(),
                self.n
            )));
        }
        if cl.count < 2 {
            return Err(StatsError::TooFewClusters { got: cl.count });
        }
        let k = self.k;
        let mut pieces = vec![(DMatrix::zeros(k, k), DVector::zeros(k)); cl.count];
        let mut row = vec![0.0; k];
        for i in 0..self.n {
            let (s, v) = &mut pieces[cl.codes[i] as usize];
            for (j, r) in row.iter_mut().enumerate() {
                *r = self.q[(i, j)];
            }
            for a in 0..k {
                v[a] += row[a] * self.resid[i];
                for b in a..k {
                    s[(a, b)] += row[a] * row[b];
                }
            }
        }
        for (s, _) in &mut pieces {
            for a in 0..k {
                for b in 0..a {
                    s[(a, b)] = s[(b, a)];
                }
            }
        }
        Ok(pieces)
    }

    /// Inference for coefficient `j` (0-based, intercept first when fitted).
    pub fn coef_inference(
        &self,
        j: usize,
        se: SeType,
        clusters: Option<&Clusters>,
        conf_level: f64,
    ) -> StatsResult<CoefInference> {
        if j >= self.k {
            return Err(StatsError::Invalid(format!("no coefficient {j}")));
        }
        let est = self.coef[j];
        let (var, df) = if se.is_cluster() {
            let cl = clusters
                .ok_or_else(|| StatsError::Invalid(format!("{} needs clusters", se.name())))?;
            self.cluster_variance(j, se, cl)?
        } else {
            let v = self.vcov(se)?;
            (v[(j, j)], (self.n - self.k) as f64)
        };
        if !super::above(var, 0.0) {
            return Err(StatsError::NoVariance);
        }
        Ok(CoefInference {
            inference: Inference::wald(est, var.sqrt(), Some(df), conf_level),
            se_type: se,
        })
    }

    /// Cluster-robust variance of coefficient j and its df.
    fn cluster_variance(&self, j: usize, se: SeType, cl: &Clusters) -> StatsResult<(f64, f64)> {
        let pieces = self.cluster_pieces(cl)?;
        let g = cl.count as f64;
        // w = R⁻ᵀ e_j: the j-th row of R⁻¹, so that β_j = w'(Q'y).
        let w: DVector<f64> = self.r_inv.row(j).transpose();
        match se {
            SeType::Cr0 | SeType::Cr1 => {
                let v: f64 = pieces.iter().map(|(_, s)| w.dot(s).powi(2)).sum();
                let (n, k) = (self.n as f64, self.k as f64);
                let factor = if se == SeType::Cr1 {
                    g / (g - 1.0) * (n - 1.0) / (n - k)
                } else {
                    1.0
                };
                Ok((v * factor, g - 1.0))
            }
            SeType::Cr2 => {
                let k = self.k;
                let mut var = 0.0;
                let mut a_mat = DMatrix::zeros(k, pieces.len());
                let mut b = Vec::with_capacity(pieces.len());
                for (gi, (s, qe)) in pieces.iter().enumerate() {
                    let eig = SymmetricEigen::new(s.clone());
                    let vecs = &eig.eigenvectors;
                    // Eigenvalues of H_gg lie in [0, 1]; at 1 the adjustment is taken as
                    // the Moore-Penrose inverse square root (factor 0), as clubSandwich.
                    let lam: Vec<f64> = eig.eigenvalues.iter().map(|l| l.clamp(0.0, 1.0)).collect();
                    let inv_sqrt = |l: f64| {
                        if l < 1.0 - 1e-12 {
                            (1.0 - l).powf(-0.5)
                        } else {
                            0.0
                        }
                    };
                    let vt_s = vecs.tr_mul(qe);
                    let vt_w = vecs.tr_mul(&w);
                    // u_g = V diag((1−λ)^(−1/2)) V' s_g; the variance adds (w'u_g)².
                    let wu: f64 = (0..k).map(|m| vt_w[m] * inv_sqrt(lam[m]) * vt_s[m]).sum();
                    var += wu * wu;
                    // a_g = V diag(λ(1−λ)^(−1/2)) V'w;  b_g = Σ λ/(1−λ) (V'w)².
                    let coeffs = DVector::from_iterator(
                        k,
                        (0..k).map(|m| lam[m] * inv_sqrt(lam[m]) * vt_w[m]),
                    );
                    a_mat.set_column(gi, &(vecs * coeffs));
                    b.push(
                        (0..k)
                            .map(|m| {
                                let f = inv_sqrt(lam[m]);
                                lam[m] * f * f * vt_w[m] * vt_w[m]
                            })
                            .sum::<f64>(),
                    );
                }
                // G'G = diag(b) − A'A; df = tr(G'G)² / ‖G'G‖²_F, where
                // ‖G'G‖²_F = Σb² − 2Σ b_g‖a_g‖² + ‖AA'‖²_F.
                let norms: Vec<f64> = (0..b.len())
                    .map(|gi| a_mat.column(gi).norm_squared())
                    .collect();
                let trace: f64 = b.iter().sum::<f64>() - norms.iter().sum::<f64>();
                let aat = &a_mat * a_mat.transpose();
                let frob2 = b.iter().map(|x| x * x).sum::<f64>()
                    - 2.0 * b.iter().zip(&norms).map(|(x, y)| x * y).sum::<f64>()
                    + aat.norm_squared();
                let df = trace * trace / frob2;
                Ok((var, df))
            }
            _ => unreachable!("cluster_variance is only called for cluster SE types"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let t = vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0];
        let x = vec![1.0, 2.5, 3.0, 0.5, 2.0, 4.0, 1.5, 3.5];
        let y = vec![1.0, 2.0, 2.7, 2.1, 3.3, 5.2, 1.2, 4.9];
        (t, x, y)
    }

    #[test]
    fn hc2_equals_cr2_with_singleton_clusters() {
        let (t, x, y) = toy();
        let f = fit(&y, &[&t, &x], true).unwrap();
        let ids: Vec<usize> = (0..y.len()).collect();
        let cl = Clusters::from_labels(&ids);
        let hc2 = f.coef_inference(1, SeType::Hc2, None, 0.95).unwrap();
        let cr2 = f.coef_inference(1, SeType::Cr2, Some(&cl), 0.95).unwrap();
        assert!((hc2.inference.std_error - cr2.inference.std_error).abs() < 1e-12);
    }

    #[test]
    fn collinear_and_constant_columns_are_reported() {
        let (t, x, y) = toy();
        let twice: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        assert_eq!(
            fit(&y, &[&t, &x, &twice], true).unwrap_err(),
            StatsError::Collinear { index: 3 }
        );
        let ones = vec![3.0; y.len()];
        assert_eq!(
            fit(&y, &[&t, &ones], true).unwrap_err(),
            StatsError::Collinear { index: 2 }
        );
    }

    #[test]
    fn hc_ordering() {
        let (t, x, y) = toy();
        let f = fit(&y, &[&t, &x], true).unwrap();
        let se = |s| {
            f.coef_inference(1, s, None, 0.95)
                .unwrap()
                .inference
                .std_error
        };
        assert!(se(SeType::Hc0) < se(SeType::Hc1));
        assert!(se(SeType::Hc0) < se(SeType::Hc2) && se(SeType::Hc2) < se(SeType::Hc3));
    }
}
