//! Restricted wild cluster bootstrap (WCR) for one OLS coefficient, for designs with
//! few clusters.
//!
//! Sources: Cameron, Gelbach & Miller (2008), "Bootstrap-based improvements for
//! inference with clustered errors", *REStat* 90, 414-427; MacKinnon & Webb (2017),
//! "Wild bootstrap inference for wildly different cluster sizes", *J. Appl. Econ.* 32,
//! 233-254 (six-point weights); Roodman, MacKinnon, Nielsen & Webb (2019), "Fast and
//! wild: bootstrap inference in Stata using boottest", *Stata Journal* 19, 4-60 (the
//! algebra below, and test inversion for the interval).
//!
//! For H₀: β_j = c the bootstrap samples are y* = Xβ̃ + v_g ũ, with β̃ the least-squares
//! estimate under β_j = c, ũ its residuals and v_g one weight per cluster. Each sample
//! is refitted and its CR1 t statistic t* = (β̂*_j − c)/se_CR1(β̂*_j) compared with the
//! data's t = (β̂_j − c)/se_CR1(β̂_j); CR1 as in [`crate::stats::ols`] (Stata's
//! G/(G−1)·(n−1)/(n−k)). This is the "WCR11" bootstrap of Python `wildboottest` and R
//! `fwildclusterboot` (`impose_null = TRUE`, `bootstrap_type = "11"`), and boottest's
//! default.
//!
//! Conventions:
//! - p-value: the share of the draws with |t*| ≥ |t| (ties within
//!   [`super::TIE_RTOL`] count), over the B draws only, as boottest, fwildclusterboot
//!   and wildboottest (which count strict inequality; ties arise only with full
//!   enumeration, where the all-ones and all-minus-ones draws reproduce |t|).
//! - Rademacher weights (±1 with probability ½) are enumerated in full when 2^G ≤
//!   reps: draw r ∈ 0..2^G has v_g = −1 where bit g of r is set (g counts clusters in
//!   [`Clusters`] order), so draw 0 is the data itself. The result is then exact and
//!   does not depend on the seed. Otherwise v_g is bit g (mod 64) of the (g/64)-th
//!   64-bit word of `replicate_rng(seed, r)`: 1 → −1, 0 → +1.
//! - Webb weights are ±√(1/2), ±1, ±√(3/2) with probability ⅙ each; v_g is
//!   `[−√1.5, −1, −√0.5, √0.5, 1, √1.5][below(rng, 6)]`, clusters in order.
//! - Interval: test inversion, {c : p(c) > α} with α = 1 − conf_level, using the same
//!   draws for every c. From β̂_j (where p = 1) it walks outward in steps of a quarter of
//!   the CR1 Wald half-width t(G−1)·se to the first grid point with p ≤ α, then bisects
//!   to floating-point resolution. Because ties count, an endpoint is where the draw
//!   that crosses has |t*| = (1 − TIE_RTOL)|t|, within about 1e-9 relative of the
//!   exact crossing. If p(c) dips below α between two grid points and comes back,
//!   that dip is not seen. A side with no rejection within 100 Wald half-widths is
//!   reported as infinite.
//!
//! Algebra (per draw O(G·k), after one O(n·k²) pass): with X = QR (Householder), ω =
//! R⁻ᵀe_j (so β̂_j = ω'Q'y), per cluster a_g = Q_g'û_g and π_g = Q_g'Q_gω. Writing
//! δ = β̂_j − c, the restricted scores are Q_g'ũ_g = a_g + δπ_g/‖ω‖², and a draw v gives
//! β̂*_j − c = A + δB and CR0-variance Σ_g (e_g + δf_g)² = E + 2δF + δ²G with
//! S_a = Σ v_g a_g, S_π = Σ v_g π_g, A = ω'S_a, B = ω'S_π/‖ω‖²,
//! e_g = v_g ω'a_g − π_g'S_a and f_g = (v_g ω'π_g − π_g'S_π)/‖ω‖². The five numbers
//! (A, B, E, F, G) of each draw give t*(c) for every c.

use nalgebra::{DMatrix, DVector};
use rand::RngCore;
use serde::Serialize;

use super::super::ols::Clusters;
use super::super::{StatsError, StatsResult, above, dist};
use super::{ResampleOptions, at_least_as_extreme, below, par_fill, replicate_rng};

/// Wild bootstrap weight distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WildWeights {
    /// ±1 with probability ½ each.
    Rademacher,
    /// Webb's six-point distribution: ±√(1/2), ±1, ±√(3/2), probability ⅙ each.
    Webb,
}

impl WildWeights {
    pub fn name(self) -> &'static str {
        match self {
            Self::Rademacher => "Rademacher",
            Self::Webb => "Webb",
        }
    }
}

/// Webb's six values, in the order [`below`]`(rng, 6)` indexes them.
const WEBB: [f64; 6] = [
    -1.224_744_871_391_589,
    -1.0,
    -std::f64::consts::FRAC_1_SQRT_2,
    std::f64::consts::FRAC_1_SQRT_2,
    1.0,
    1.224_744_871_391_589,
];

/// The per-cluster pieces of one OLS fit and coefficient, ready for bootstrap draws.
#[derive(Debug, Clone)]
pub struct WildClusterBootstrap {
    n: usize,
    k: usize,
    g: usize,
    coef: usize,
    estimate: f64,
    /// CR0 variance of β̂_j: Σ_g (ω'a_g)².
    cr0: f64,
    /// CR1 factor G/(G−1)·(n−1)/(n−k).
    ssc: f64,
    omega_sq: f64,
    /// a_g, G rows of k.
    a: Vec<f64>,
    /// π_g, G rows of k.
    pi: Vec<f64>,
    /// ω'a_g.
    c: Vec<f64>,
    /// ω'π_g/‖ω‖².
    h: Vec<f64>,
}

/// The five numbers of one draw (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
struct DrawParts {
    a: f64,
    b: f64,
    e: f64,
    f: f64,
    g: f64,
}

impl DrawParts {
    /// t* for H₀: β_j = c, given δ = β̂_j − c and the CR1 factor.
    fn t(&self, delta: f64, ssc: f64) -> f64 {
        let num = self.a + delta * self.b;
        let var = (self.e + delta * (2.0 * self.f + delta * self.g)).max(0.0);
        num / (ssc * var).sqrt()
    }
}

/// Wild bootstrap draws for one coefficient: everything needed for p-values at any
/// null value and for the interval.
#[derive(Debug, Clone)]
pub struct WildDraws {
    parts: Vec<DrawParts>,
    estimate: f64,
    std_error: f64,
    ssc: f64,
    clusters: usize,
    weights: WildWeights,
    enumerated: bool,
}

/// Wild cluster bootstrap inference for one coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WildBootstrapResult {
    pub estimate: f64,
    /// CR1 standard error of the estimate.
    pub std_error: f64,
    /// CR1 t statistic for β_j = 0.
    pub statistic: f64,
    /// Bootstrap p-value for β_j = 0.
    pub p_value: f64,
    /// Number of draws with |t*| ≥ |t| for β_j = 0.
    pub n_extreme: u64,
    /// Number of draws (2^G when enumerated).
    pub reps: u64,
    /// Whether all 2^G Rademacher sign vectors were used.
    pub enumerated: bool,
    pub weights: WildWeights,
    pub clusters: usize,
    pub conf_level: f64,
    /// Interval by test inversion (see the module docs); infinite if not bounded.
    pub ci_low: f64,
    pub ci_high: f64,
}

impl WildClusterBootstrap {
    /// Prepare the bootstrap of coefficient `coef` (0-based, the intercept first when
    /// `intercept`) of the OLS regression of `y` on `x`, clusters `clusters`.
    ///
    /// Fails like [`crate::stats::ols::fit`] on a collinear design, and with
    /// [`StatsError::TooFewClusters`] for fewer than 2 clusters.
    pub fn new(
        y: &[f64],
        x: &[&[f64]],
        intercept: bool,
        clusters: &Clusters,
        coef: usize,
    ) -> StatsResult<Self> {
        let n = y.len();
        if let Some(bad) = x.iter().find(|c| c.len() != n) {
            return Err(StatsError::Invalid(format!(
                "design column has {} rows, outcome {n}",
                bad.len()
            )));
        }
        if clusters.codes().len() != n {
            return Err(StatsError::Invalid(format!(
                "{} cluster codes for {n} observations",
                clusters.codes().len()
            )));
        }
        let g = clusters.count();
        if g < 2 {
            return Err(StatsError::TooFewClusters { got: g });
        }
        let k = x.len() + usize::from(intercept);
        if k == 0 {
            return Err(StatsError::Invalid("empty design".into()));
        }
        if coef >= k {
            return Err(StatsError::Invalid(format!("no coefficient {coef}")));
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
        // The same collinearity rule as ols::fit.
        for (j, norm) in norms.iter().enumerate() {
            if !above(r[(j, j)].abs(), 1e-9 * norm) {
                return Err(StatsError::Collinear { index: j });
            }
        }
        let q = qr.q();
        let mut ej = DVector::zeros(k);
        ej[coef] = 1.0;
        let omega = r
            .tr_solve_upper_triangular(&ej)
            .ok_or(StatsError::Collinear { index: k - 1 })?;
        let qty = q.tr_mul(&DVector::from_column_slice(y));
        let estimate = omega.dot(&qty);
        let fitted = &q * &qty;
        let omega_sq = omega.norm_squared();
        let mut a = vec![0.0; g * k];
        let mut pi = vec![0.0; g * k];
        let mut row = vec![0.0; k];
        for (i, &code) in clusters.codes().iter().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = q[(i, j)];
            }
            let resid = y[i] - fitted[i];
            let qw: f64 = row.iter().zip(omega.iter()).map(|(u, w)| u * w).sum();
            let base = code as usize * k;
            for (j, &v) in row.iter().enumerate() {
                a[base + j] += v * resid;
                pi[base + j] += v * qw;
            }
        }
        let dot = |u: &[f64]| u.iter().zip(omega.iter()).map(|(p, q)| p * q).sum::<f64>();
        let c: Vec<f64> = a.chunks_exact(k).map(dot).collect();
        let h: Vec<f64> = pi.chunks_exact(k).map(|p| dot(p) / omega_sq).collect();
        let cr0 = c.iter().map(|v| v * v).sum();
        let (nf, kf, gf) = (n as f64, k as f64, g as f64);
        Ok(Self {
            n,
            k,
            g,
            coef,
            estimate,
            cr0,
            ssc: gf / (gf - 1.0) * (nf - 1.0) / (nf - kf),
            omega_sq,
            a,
            pi,
            c,
            h,
        })
    }

    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// CR1 standard error.
    pub fn std_error(&self) -> f64 {
        (self.ssc * self.cr0).sqrt()
    }
    /// CR1 t statistic for β_j = `null`.
    pub fn statistic(&self, null: f64) -> f64 {
        (self.estimate - null) / self.std_error()
    }
    pub fn clusters(&self) -> usize {
        self.g
    }
    pub fn observations(&self) -> usize {
        self.n
    }
    pub fn coefficient(&self) -> usize {
        self.coef
    }

    /// The five numbers of the draw with cluster weights `v`, using `sa` and `sp`
    /// (length k) as scratch.
    fn parts(&self, v: &[f64], sa: &mut [f64], sp: &mut [f64]) -> DrawParts {
        let k = self.k;
        sa.fill(0.0);
        sp.fill(0.0);
        let (mut num_a, mut num_b) = (0.0, 0.0);
        for (gi, &w) in v.iter().enumerate() {
            let ag = &self.a[gi * k..(gi + 1) * k];
            let pg = &self.pi[gi * k..(gi + 1) * k];
            for j in 0..k {
                sa[j] += w * ag[j];
                sp[j] += w * pg[j];
            }
            num_a += w * self.c[gi];
            num_b += w * self.h[gi];
        }
        let (mut e2, mut ef, mut f2) = (0.0, 0.0, 0.0);
        for (gi, &w) in v.iter().enumerate() {
            let pg = &self.pi[gi * k..(gi + 1) * k];
            let (mut pa, mut pp) = (0.0, 0.0);
            for j in 0..k {
                pa += pg[j] * sa[j];
                pp += pg[j] * sp[j];
            }
            let e = w * self.c[gi] - pa;
            let f = w * self.h[gi] - pp / self.omega_sq;
            e2 += e * e;
            ef += e * f;
            f2 += f * f;
        }
        DrawParts {
            a: num_a,
            b: num_b,
            e: e2,
            f: ef,
            g: f2,
        }
    }

    /// The bootstrap t statistic for H₀: β_j = `null` of the draw with cluster weights
    /// `weights` (one per cluster, in [`Clusters`] order). Exposed so that single draws
    /// can be checked against a brute-force refit.
    pub fn replicate_t(&self, weights: &[f64], null: f64) -> StatsResult<f64> {
        if weights.len() != self.g {
            return Err(StatsError::Invalid(format!(
                "{} weights for {} clusters",
                weights.len(),
                self.g
            )));
        }
        let mut sa = vec![0.0; self.k];
        let mut sp = vec![0.0; self.k];
        Ok(self
            .parts(weights, &mut sa, &mut sp)
            .t(self.estimate - null, self.ssc))
    }

    /// Draw the bootstrap samples: all 2^G Rademacher sign vectors when 2^G ≤
    /// `opts.reps`, else `opts.reps` random draws (see the module docs).
    pub fn draw(&self, weights: WildWeights, opts: &ResampleOptions) -> StatsResult<WildDraws> {
        opts.check()?;
        let enumerated =
            weights == WildWeights::Rademacher && self.g < 64 && (1u64 << self.g) <= opts.reps;
        let reps = if enumerated {
            1u64 << self.g
        } else {
            opts.reps
        };
        let mut parts = vec![DrawParts::default(); reps as usize];
        let (g, k) = (self.g, self.k);
        par_fill(
            &mut parts,
            || (vec![0.0; g], vec![0.0; k], vec![0.0; k]),
            |(v, sa, sp), r| {
                if enumerated {
                    for (gi, w) in v.iter_mut().enumerate() {
                        *w = if (r >> gi) & 1 == 1 { -1.0 } else { 1.0 };
                    }
                } else {
                    let mut rng = replicate_rng(opts.seed, r);
                    match weights {
                        WildWeights::Rademacher => {
                            for chunk in v.chunks_mut(64) {
                                let bits = rng.next_u64();
                                for (b, w) in chunk.iter_mut().enumerate() {
                                    *w = if (bits >> b) & 1 == 1 { -1.0 } else { 1.0 };
                                }
                            }
                        }
                        WildWeights::Webb => {
                            for w in v.iter_mut() {
                                *w = WEBB[below(&mut rng, 6) as usize];
                            }
                        }
                    }
                }
                self.parts(v, sa, sp)
            },
            opts.progress,
        );
        Ok(WildDraws {
            parts,
            estimate: self.estimate,
            std_error: self.std_error(),
            ssc: self.ssc,
            clusters: self.g,
            weights,
            enumerated,
        })
    }

    /// Draw, then the p-value for β_j = 0 and the interval at `opts.conf_level`.
    pub fn run(
        &self,
        weights: WildWeights,
        opts: &ResampleOptions,
    ) -> StatsResult<WildBootstrapResult> {
        let draws = self.draw(weights, opts)?;
        let (ci_low, ci_high) = draws.confidence_interval(opts.conf_level);
        let n_extreme = draws.n_extreme(0.0);
        Ok(WildBootstrapResult {
            estimate: self.estimate,
            std_error: self.std_error(),
            statistic: self.statistic(0.0),
            p_value: n_extreme as f64 / draws.reps() as f64,
            n_extreme,
            reps: draws.reps(),
            enumerated: draws.enumerated,
            weights,
            clusters: self.g,
            conf_level: opts.conf_level,
            ci_low,
            ci_high,
        })
    }
}

impl WildDraws {
    pub fn reps(&self) -> u64 {
        self.parts.len() as u64
    }
    pub fn enumerated(&self) -> bool {
        self.enumerated
    }
    pub fn weights(&self) -> WildWeights {
        self.weights
    }
    pub fn clusters(&self) -> usize {
        self.clusters
    }

    /// The bootstrap t statistics for H₀: β_j = `null`, in draw order.
    pub fn t_stats(&self, null: f64) -> impl Iterator<Item = f64> + '_ {
        let delta = self.estimate - null;
        self.parts.iter().map(move |p| p.t(delta, self.ssc))
    }

    /// Number of draws with |t*| ≥ |t| for H₀: β_j = `null`.
    pub fn n_extreme(&self, null: f64) -> u64 {
        let t = (self.estimate - null) / self.std_error;
        self.t_stats(null)
            .filter(|&ts| at_least_as_extreme(ts, t))
            .count() as u64
    }

    /// Bootstrap p-value for H₀: β_j = `null`.
    pub fn p_value(&self, null: f64) -> f64 {
        self.n_extreme(null) as f64 / self.reps() as f64
    }

    /// The interval {c : p(c) > 1 − conf_level} by test inversion (module docs).
    pub fn confidence_interval(&self, conf_level: f64) -> (f64, f64) {
        let alpha = 1.0 - conf_level;
        let half =
            dist::two_sided_quantile(conf_level, Some(self.clusters as f64 - 1.0)) * self.std_error;
        if !above(half, 0.0) || !half.is_finite() {
            return (f64::NAN, f64::NAN);
        }
        let step = half / 4.0;
        let accepted = |c: f64| self.p_value(c) > alpha;
        let edge = |dir: f64| {
            let mut inside = self.estimate;
            for i in 1..=400 {
                let c = self.estimate + dir * step * f64::from(i);
                if !accepted(c) {
                    let mut outside = c;
                    for _ in 0..200 {
                        let mid = 0.5 * (inside + outside);
                        if mid == inside || mid == outside {
                            break;
                        }
                        if accepted(mid) {
                            inside = mid;
                        } else {
                            outside = mid;
                        }
                    }
                    return 0.5 * (inside + outside);
                }
                inside = c;
            }
            dir * f64::INFINITY
        };
        (edge(-1.0), edge(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::ols::{self, SeType};

    fn toy() -> (Vec<f64>, Vec<f64>, Vec<f64>, Clusters) {
        let t = vec![0., 0., 1., 1., 0., 1., 0., 1., 1., 0., 0., 1.];
        let x = vec![1.0, 2.5, 3.0, 0.5, 2.0, 4.0, 1.5, 3.5, 2.2, 0.3, 1.1, 2.8];
        let y = vec![1.0, 2.0, 2.7, 2.1, 3.3, 5.2, 1.2, 4.9, 3.1, 0.2, 1.9, 3.3];
        let cl = Clusters::from_labels(&[1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
        (t, x, y, cl)
    }

    #[test]
    fn webb_values_have_mean_0_and_variance_1() {
        assert_eq!(WEBB[5], 1.5f64.sqrt());
        assert_eq!(WEBB[3], 0.5f64.sqrt());
        assert_eq!(WEBB.iter().sum::<f64>(), 0.0);
        assert!((WEBB.iter().map(|w| w * w).sum::<f64>() / 6.0 - 1.0).abs() < 1e-15);
    }

    #[test]
    fn statistic_is_cr1_t_of_ols() {
        let (t, x, y, cl) = toy();
        let wb = WildClusterBootstrap::new(&y, &[&t, &x], true, &cl, 1).unwrap();
        let f = ols::fit(&y, &[&t, &x], true).unwrap();
        let inf = f.coef_inference(1, SeType::Cr1, Some(&cl), 0.95).unwrap();
        assert!((wb.estimate() - inf.inference.estimate).abs() < 1e-13);
        assert!((wb.std_error() / inf.inference.std_error - 1.0).abs() < 1e-12);
    }

    #[test]
    fn all_ones_draw_reproduces_the_data() {
        let (t, x, y, cl) = toy();
        let wb = WildClusterBootstrap::new(&y, &[&t, &x], true, &cl, 1).unwrap();
        let ones = vec![1.0; cl.count()];
        let ts = wb.replicate_t(&ones, 0.0).unwrap();
        assert!((ts / wb.statistic(0.0) - 1.0).abs() < 1e-12);
        // And for any null value: the restricted fit plus its residuals is the data.
        let ts = wb.replicate_t(&ones, 0.7).unwrap();
        assert!((ts / wb.statistic(0.7) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn enumeration_counts_both_signs_of_the_data() {
        let (t, x, y, cl) = toy();
        let wb = WildClusterBootstrap::new(&y, &[&t, &x], true, &cl, 1).unwrap();
        let d = wb
            .draw(WildWeights::Rademacher, &ResampleOptions::new(64, 1))
            .unwrap();
        assert!(d.enumerated());
        assert_eq!(d.reps(), 64);
        // t*(−v) = −t*(v): the draws come in pairs.
        let ts: Vec<f64> = d.t_stats(0.0).collect();
        for r in 0..32 {
            assert!((ts[r] + ts[63 - r]).abs() < 1e-12 * ts[r].abs().max(1.0));
        }
        assert!(d.n_extreme(0.0) >= 2);
        assert_eq!(d.p_value(wb.estimate()), 1.0);
    }
}
