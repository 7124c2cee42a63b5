//! Ordinary least squares with classical, heteroskedasticity-robust (HC0–HC3) and
//! cluster-robust (CR0, CR1, CR2) standard errors.
//!
//! One job per file:
//! - `fit.rs`: the fit by streaming tall-skinny QR (coefficients, residuals,
//!   leverages) and the pass over the rows of Q that every standard error uses;
//! - `hc.rs`: the heteroskedasticity-robust meats HC0–HC3;
//! - `clusters.rs`: cluster membership as dense codes;
//! - `cluster_robust.rs`: the cluster-robust variances CR0, CR1 and CR2 with the
//!   Bell-McCaffrey degrees of freedom;
//! - `weighted.rs`: weighted least squares by the square-root transform;
//! - `arm.rs`: the effect of an arm from a regression, the shape of the analysis
//!   plan's regression estimators ([`ArmRegression`], [`ArmEstimator`]);
//! - this file: the standard-error types and the two entry points that pick the
//!   variance for a type, [`OlsFit::vcov`] and [`OlsFit::coef_inference`].
//!
//! Nothing of size n×k is kept. Each standard error is one more parallel pass that
//! recomputes the rows of Q = X̃R̃⁻¹ on the fly, qᵢ = R̃⁻ᵀx̃ᵢ, by a triangular solve
//! (forward substitution, k²/2 operations a row, a block of rows at a time); the
//! leverages are hᵢ = ‖qᵢ‖². For one coefficient the HC and CR0/CR1 passes need only
//! the scalars w'qᵢ (w = R⁻ᵀc for the contrast c) with eᵢ and hᵢ.
//! Every sandwich is formed in the orthonormal Q-space, V = T · B · Tᵀ with a k×k
//! "meat" B and T = M R̃⁻¹ = R⁻¹ (M the centring, upper triangular), so nothing n×n
//! (or cluster-size squared) is ever built. A fitted model borrows the regressor
//! columns ([`OlsFit`] has a lifetime) or owns them ([`fit_owned`]).
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

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::{Inference, StatsError, StatsResult};

mod arm;
mod cluster_robust;
mod clusters;
mod fit;
mod hc;
mod weighted;

pub use arm::{ArmEffect, ArmEstimator, ArmRegression, ols_arm_effect, ols_dropped_columns};
pub use clusters::{Clusters, group_rows};
pub use fit::{OlsFit, fit, fit_owned};
pub(crate) use hc::LEVERAGE_ONE;
pub(crate) use weighted::check_weights;
pub use weighted::fit_weighted;

/// Rows per block: the unit of the small QR and of the triangular solves.
const BLOCK: usize = 512;
/// Rows per chunk: the unit of parallel work. Fixed, so that the order of every sum
/// and of the combination of R factors does not depend on the number of threads.
const CHUNK: usize = 1 << 14;

/// Standard-error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// Inference for one coefficient with its SE type and df rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoefInference {
    pub inference: Inference,
    pub se_type: SeType,
}

impl OlsFit<'_> {
    /// (X'X)⁻¹ of the design as fitted (the intercept first when fitted): the bread of
    /// every sandwich, without a scale.
    pub fn xtx_inverse(&self) -> DMatrix<f64> {
        &self.t * self.t.transpose()
    }

    /// Variance-covariance matrix of the coefficients for a non-cluster SE type.
    pub fn vcov(&self, se: SeType) -> StatsResult<DMatrix<f64>> {
        let (n, k) = (self.n as f64, self.k as f64);
        let tt = self.t.transpose();
        Ok(match se {
            SeType::Classical => &self.t * tt * (self.rss / (n - k)),
            SeType::Hc0 | SeType::Hc2 | SeType::Hc3 => &self.t * self.hc_meat(se)? * tt,
            SeType::Hc1 => &self.t * self.hc_meat(se)? * tt * (n / (n - k)),
            SeType::Cr0 | SeType::Cr1 | SeType::Cr2 => {
                return Err(StatsError::Invalid(format!("{} needs clusters", se.name())));
            }
        })
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
        // w = R⁻ᵀ e_j: the j-th row of R⁻¹, so that β_j = w'(Q'y) and Var β_j = w'Bw.
        let w: DVector<f64> = self.t.row(j).transpose();
        let (n, k) = (self.n as f64, self.k as f64);
        let (var, df) = if se.is_cluster() {
            let cl = clusters
                .ok_or_else(|| StatsError::Invalid(format!("{} needs clusters", se.name())))?;
            self.cluster_variance(&w, se, cl)?
        } else {
            let v = match se {
                SeType::Classical => w.norm_squared() * self.rss / (n - k),
                SeType::Hc1 => self.hc_contrast(se, &w)? * (n / (n - k)),
                _ => self.hc_contrast(se, &w)?,
            };
            (v, n - k)
        };
        if !super::above(var, 0.0) {
            return Err(StatsError::NoVariance);
        }
        Ok(CoefInference {
            inference: Inference::wald(est, var.sqrt(), Some(df), conf_level),
            se_type: se,
        })
    }
}

/// Small and large designs shared by the tests of the fit and of the variances.
#[cfg(test)]
mod test_data {
    /// Eight rows: an arm indicator t, a covariate x and y.
    pub(super) fn toy() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let t = vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0];
        let x = vec![1.0, 2.5, 3.0, 0.5, 2.0, 4.0, 1.5, 3.5];
        let y = vec![1.0, 2.0, 2.7, 2.1, 3.3, 5.2, 1.2, 4.9];
        (t, x, y)
    }

    /// A design of `n` rows spanning several chunks: an arm indicator, a covariate far
    /// from zero (so that centring matters) and a noise column; y; cluster labels.
    pub(super) fn large(n: usize, clusters: u32) -> (Vec<Vec<f64>>, Vec<f64>, Vec<u32>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let t: Vec<f64> = (0..n)
            .map(|_| f64::from(u8::from(rng.random::<bool>())))
            .collect();
        let x: Vec<f64> = (0..n).map(|_| 1000.0 + rng.random::<f64>()).collect();
        let z: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
        let g: Vec<u32> = (0..n).map(|_| rng.random_range(0..clusters)).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 2.0 + 0.5 * t[i] - 3.0 * x[i] + z[i] * (1.0 + t[i]) + rng.random::<f64>())
            .collect();
        (vec![t, x, z], y, g)
    }
}
