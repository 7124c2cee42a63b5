//! Two-way fixed effects on a balanced panel whose regressors depend only on the unit's
//! cohort and the period (the static TWFE indicator D = 1[g ≤ t], the event-study
//! indicators 1[t − g = e]): the same slopes and CRV1 matrix as
//! [`crate::stats::fe::feols`] with unit and period effects and errors clustered by
//! unit, from cohort-by-period tables instead of demeaned n-row columns.
//!
//! # Method
//!
//! In a balanced panel (every unit observed once in every one of T periods) the
//! two-way within transformation is exact in one step: x̃_it = x_it − x̄_i· − x̄_·t + x̄
//! (Wooldridge 2010, *Econometric Analysis of Cross Section and Panel Data*, 2nd ed.,
//! section 10.5; Baltagi 2021, *Econometric Analysis of Panel Data*, 6th ed., section
//! 3.2). When x depends on (cohort c, period t) only, so does x̃: a C × T table with
//! the cohorts weighted by their unit counts n_c. With ȳ_c(t) the mean outcome of
//! cohort c in period t and ỹ(c,t) its two-way demeaned table (same weights):
//!
//! - X̃'X̃ = Σ_c n_c Σ_t x̃(c,t)x̃(c,t)' and X̃'ỹ = Σ_c n_c Σ_t x̃(c,t)ỹ(c,t), so the
//!   slopes are the least-squares fit on the √n_c-weighted cell table (by a QR
//!   decomposition, [`nalgebra`]);
//! - a unit's score s_i = Σ_t x̃(c_i,t)e_it = X̃_c'((y_i − ȳ_c) + d_c) with
//!   d_c = ỹ_c − X̃_c β (the terms constant over t drop out because Σ_t x̃(c,t) = 0), so
//!   the CR0 meat Σ_i s_i s_i' = Σ_c X̃_c'(W_c + n_c d_c d_c')X̃_c with W_c the T × T
//!   matrix of products of the within-cohort deviations y_i − ȳ_c, summed over the
//!   cohort's units (Liang & Zeger 1986 for CR0);
//! - V = (N − 1)/(N − K) · G/(G − 1) · (X̃'X̃)⁻¹ meat (X̃'X̃)⁻¹ with G = units and K as
//!   [`crate::stats::fe::cluster_df_k`] counts it: fixest's and pyfixest's CRV1.
//!
//! Only the outcome is read per row (twice: the cohort-period means, then the
//! within-cohort products); memory is the outcome in wide form (n values) and tables of
//! cohorts × periods.
//!
//! # Covariates that vary by row
//!
//! With covariates z_it (p of them) the regressors are [x(c,t), z_it]. The two-way
//! demeaned z̃_it = z_it − z̄_i· − z̄_·t + z̄ is computed row by row (one step, the panel
//! being balanced), and the fit is split by Frisch-Waugh-Lovell (Frisch & Waugh 1933;
//! Lovell 1963):
//! - the cell regressors are fitted on the cell table as above; appending the columns
//!   S(c,t)/√n_c, with S(c,t) = Σ_{i∈c} z̃_it, to its QR gives Π = (X̃'X̃)⁻¹X̃'Z̃, whose
//!   cell table q(c,t) = x̃(c,t)'Π is the part of z̃ that the cell regressors explain;
//! - z*_it = z̃_it − q(c_i,t) and the outcome with the cell regressors partialled out,
//!   y*_it = y_it − ȳ_c(t) + ỹ(c,t) − x̃(c,t)'β₀ (β₀ the fit without covariates; terms
//!   constant within a unit drop out because z* sums to zero over each unit's periods),
//!   are fitted by the row-level QR of [`crate::stats::ols`]: γ, and β = β₀ − Πγ;
//! - the bread (X̃'X̃)⁻¹ of the stacked regressors is T diag((X̃'X̃)⁻¹, (Z*'Z*)⁻¹) T' with
//!   T = [[I, −Π], [0, I]] (the partitioned inverse through the Schur complement
//!   Z*'Z*), and the meat is Σ_i s_i s_i' with s_i = [X̃_c'e_i; Z̃_i'e_i] from one pass
//!   over the units: per cohort the T × T sums of e_i e_i' and the T × p sums of
//!   e_i (Z̃_i'e_i)', and the p × p sum of (Z̃_i'e_i)(Z̃_i'e_i)'.
//!
//! The outcome and the covariates are then held in wide form ((1 + p)·n values, and the
//! same again for y* and z* during the fit): no n-row column per cell regressor, which
//! is what makes an event study with covariates on a monthly panel cheap.
//!
//! Used when the panel is balanced, unweighted and clustered by unit with at least
//! [`super::did::FEW_CLUSTERS`] units, with finite covariates; otherwise the callers fit
//! the general regression. The absorbed-regressor and collinearity
//! checks are those of [`crate::stats::fe::feols`] and [`crate::stats::ols::fit`]
//! (relative thresholds 1e-9), applied to the same sums.

use nalgebra::{DMatrix, DVector};

use super::did::{FEW_CLUSTERS, Panel};
use super::fe::{self, FeCovariance, FeSmallSample, FeWeights};
use super::ols;
use super::{StatsError, StatsResult};

/// A regressor relative-norm threshold shared with [`crate::stats::fe`] and
/// [`crate::stats::ols`]: below it a regressor counts as absorbed or collinear.
const COLLINEAR: f64 = 1e-9;

/// A regressor table's entries: `x(cohort, period, out)` writes the k regressors of the
/// cells of that cohort and period into `out` (zeroed before each call).
pub type CellRegressors<'a> = &'a dyn Fn(Option<i64>, i64, &mut [f64]);

/// The balanced panel in cohort form: the outcome in wide form and each unit's cohort.
pub struct CohortPanel {
    /// Periods t_0, t_0 + 1, ..., t_0 + T − 1.
    pub t0: i64,
    pub nt: usize,
    /// Distinct first treated periods (`None` = never treated), sorted.
    pub cohorts: Vec<Option<i64>>,
    /// Units per cohort.
    pub n_c: Vec<usize>,
    /// Mean outcome of cohort c in period k at `ybar[c * nt + k]`.
    pub ybar: Vec<f64>,
    /// Σ over the cohort's units of (y_i − ȳ_c)(y_i − ȳ_c)', T × T per cohort; empty
    /// with covariates (their meat comes from a pass over the units).
    pub within: Vec<DMatrix<f64>>,
    /// The covariates that vary by row, when there are any.
    covariates: Option<WideCovariates>,
    pub units: usize,
    pub n: usize,
}

/// The outcome and the covariates in wide form (unit u's period k at `u * nt + k`).
struct WideCovariates {
    y: Vec<f64>,
    /// Each unit's cohort (an index into `cohorts`).
    code: Vec<u32>,
    /// Covariate j two-way demeaned: z̃_j.
    z: Vec<Vec<f64>>,
    /// ‖z_j − z̄_j‖, which the absorbed check compares ‖z̃_j‖ with.
    centred: Vec<f64>,
}

impl CohortPanel {
    /// The cohort form of `p`, or `None` when the fast path does not apply: weights,
    /// clusters other than the units, fewer than [`FEW_CLUSTERS`] units, a unit missing
    /// a period (or with two rows in one), or a covariate value that is not finite.
    pub fn of(p: &Panel) -> Option<Self> {
        if !matches!(p.weights, FeWeights::None)
            || p.cluster != p.unit
            || p.covariates
                .iter()
                .any(|c| c.iter().any(|v| !v.is_finite()))
        {
            return None;
        }
        let n = p.y.len();
        let (lo, hi) = p
            .period
            .iter()
            .fold((i64::MAX, i64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
        if n == 0 || hi < lo {
            return None;
        }
        let nt = usize::try_from(hi.checked_sub(lo)?).ok()?.checked_add(1)?;
        let units = p.unit.iter().max().map_or(0, |&u| u as usize + 1);
        if units < FEW_CLUSTERS || units.checked_mul(nt)? != n {
            return None;
        }
        // Wide outcome; a NaN left means a missing unit-period (then a duplicate too).
        let mut wide = vec![f64::NAN; n];
        let first: Vec<Option<i64>> = p.unit_first_treated.get(..units)?.to_vec();
        for i in 0..n {
            let u = p.unit[i] as usize;
            let at = u * nt + (p.period[i] - lo) as usize;
            if !wide[at].is_nan() {
                return None;
            }
            wide[at] = p.y[i];
        }
        if wide.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut cohorts = first.clone();
        cohorts.sort_unstable();
        cohorts.dedup();
        let code: Vec<u32> = first
            .iter()
            .map(|g| cohorts.binary_search(g).map_or(0, |c| c as u32))
            .collect();
        drop(first);
        let nc = cohorts.len();
        let mut n_c = vec![0usize; nc];
        let mut sums = vec![0.0; nc * nt];
        for (u, &c) in code.iter().enumerate() {
            n_c[c as usize] += 1;
            let row = &wide[u * nt..(u + 1) * nt];
            for (s, v) in sums[c as usize * nt..].iter_mut().zip(row) {
                *s += v;
            }
        }
        let mut ybar: Vec<f64> = sums
            .iter()
            .enumerate()
            .map(|(j, s)| s / n_c[j / nt] as f64)
            .collect();
        // Second pass: the mean of the remainders (accuracy with large levels), then
        // the within-cohort products.
        sums.iter_mut().for_each(|s| *s = 0.0);
        for (u, &c) in code.iter().enumerate() {
            let c = c as usize;
            let row = &wide[u * nt..(u + 1) * nt];
            for ((s, v), m) in sums[c * nt..].iter_mut().zip(row).zip(&ybar[c * nt..]) {
                *s += v - m;
            }
        }
        for (j, (m, s)) in ybar.iter_mut().zip(&sums).enumerate() {
            *m += s / n_c[j / nt] as f64;
        }
        if !p.covariates.is_empty() {
            let z: Vec<(Vec<f64>, f64)> = p
                .covariates
                .iter()
                .map(|c| two_way_demeaned(c, p, lo, nt, units))
                .collect();
            let (z, centred) = z.into_iter().unzip();
            return Some(Self {
                t0: lo,
                nt,
                cohorts,
                n_c,
                ybar,
                within: Vec::new(),
                covariates: Some(WideCovariates {
                    y: wide,
                    code,
                    z,
                    centred,
                }),
                units,
                n,
            });
        }
        let mut within = vec![DMatrix::zeros(nt, nt); nc];
        let mut dev = vec![0.0; nt];
        for (u, &c) in code.iter().enumerate() {
            let c = c as usize;
            let row = &wide[u * nt..(u + 1) * nt];
            for ((d, v), m) in dev.iter_mut().zip(row).zip(&ybar[c * nt..]) {
                *d = v - m;
            }
            let w = &mut within[c];
            for a in 0..nt {
                let da = dev[a];
                for b in a..nt {
                    w[(a, b)] += da * dev[b];
                }
            }
        }
        for w in &mut within {
            for a in 0..nt {
                for b in 0..a {
                    w[(a, b)] = w[(b, a)];
                }
            }
        }
        Some(Self {
            t0: lo,
            nt,
            cohorts,
            n_c,
            ybar,
            within,
            covariates: None,
            units,
            n,
        })
    }

    /// Period of column k.
    pub fn period(&self, k: usize) -> i64 {
        self.t0 + k as i64
    }

    /// Two-way demeaning of a cohort × period table (cohorts weighted by n_c).
    fn demean(&self, v: &[f64]) -> Vec<f64> {
        let (nc, nt) = (self.cohorts.len(), self.nt);
        let u = self.units as f64;
        let row: Vec<f64> = (0..nc)
            .map(|c| v[c * nt..(c + 1) * nt].iter().sum::<f64>() / nt as f64)
            .collect();
        let col: Vec<f64> = (0..nt)
            .map(|k| {
                (0..nc)
                    .map(|c| self.n_c[c] as f64 * v[c * nt + k])
                    .sum::<f64>()
                    / u
            })
            .collect();
        let grand = (0..nc).map(|c| self.n_c[c] as f64 * row[c]).sum::<f64>() / u;
        (0..nc * nt)
            .map(|j| v[j] - row[j / nt] - col[j % nt] + grand)
            .collect()
    }

    /// Fit y on the k regressors `x(cohort, period, out)` (and the covariates, when the
    /// panel has them: their slopes follow) with unit and period effects absorbed;
    /// returns the slopes and their CRV1 matrix (clustered by unit, K counted by
    /// `rule`). Errors as [`crate::stats::fe::feols`]: [`StatsError::Collinear`] with
    /// the regressor's index (the covariates numbered after the k cell regressors).
    pub fn fit(
        &self,
        k: usize,
        x: CellRegressors,
        rule: FeSmallSample,
    ) -> StatsResult<(Vec<f64>, FeCovariance)> {
        let (nc, nt) = (self.cohorts.len(), self.nt);
        let cells = nc * nt;
        // Regressor tables, column j at xs[j][c * nt + k].
        let mut xs = vec![vec![0.0; cells]; k];
        let mut buf = vec![0.0; k];
        for (c, &g) in self.cohorts.iter().enumerate() {
            for kk in 0..nt {
                buf.iter_mut().for_each(|b| *b = 0.0);
                x(g, self.period(kk), &mut buf);
                for j in 0..k {
                    xs[j][c * nt + kk] = buf[j];
                }
            }
        }
        let weight = |j: usize| self.n_c[j / nt] as f64;
        let xt: Vec<Vec<f64>> = xs.iter().map(|v| self.demean(v)).collect();
        for (j, (raw, dm)) in xs.iter().zip(&xt).enumerate() {
            let mean = (0..cells).map(|a| weight(a) * raw[a]).sum::<f64>() / self.n as f64;
            let centred = (0..cells)
                .map(|a| weight(a) * (raw[a] - mean) * (raw[a] - mean))
                .sum::<f64>()
                .sqrt();
            let norm = (0..cells)
                .map(|a| weight(a) * dm[a] * dm[a])
                .sum::<f64>()
                .sqrt();
            if !super::above(norm, fe::ABSORBED * centred) {
                return Err(StatsError::Collinear { index: j });
            }
        }
        let yt = self.demean(&self.ybar);
        if let Some(wc) = &self.covariates {
            return self.fit_with_covariates(&xt, &yt, wc, rule);
        }
        let (r_inv, beta, _) = self.cell_least_squares(&xt, &yt, &[])?;
        // Meat: Σ_c X̃_c'(W_c + n_c d_c d_c')X̃_c.
        let mut meat = DMatrix::zeros(k, k);
        for c in 0..nc {
            let xc = DMatrix::from_fn(nt, k, |t, j| xt[j][c * nt + t]);
            let d = DVector::from_fn(nt, |t, _| yt[c * nt + t] - (xc.row(t) * &beta)[0]);
            let omega = &self.within[c] + (&d * d.transpose()) * self.n_c[c] as f64;
            meat += xc.transpose() * omega * &xc;
        }
        let bread = &r_inv * r_inv.transpose();
        let cr0 = &bread * meat * &bread;
        self.crv1(beta.iter().copied().collect(), cr0, rule)
    }

    /// Least squares of the demeaned outcome table `yt` on the demeaned regressor tables
    /// `xt`, on the weighted cell table [√n_c x̃ | √n_c ỹ | extra/√n_c] by QR: R⁻¹ of the
    /// regressors, the slopes, and R⁻¹Q'(extra/√n_c) = (X̃'X̃)⁻¹ Σ_cells x̃ · extra (one
    /// column per extra table). [`StatsError::Collinear`] for a regressor explained by
    /// the earlier ones.
    fn cell_least_squares(
        &self,
        xt: &[Vec<f64>],
        yt: &[f64],
        extra: &[Vec<f64>],
    ) -> StatsResult<(DMatrix<f64>, DVector<f64>, DMatrix<f64>)> {
        let (k, p) = (xt.len(), extra.len());
        let nt = self.nt;
        let cells = self.cohorts.len() * nt;
        let weight = |j: usize| self.n_c[j / nt] as f64;
        // At least k + 1 + p rows so that R is square.
        let rows = cells.max(k + 1 + p);
        let mut a = DMatrix::zeros(rows, k + 1 + p);
        for cell in 0..cells {
            let s = weight(cell).sqrt();
            for j in 0..k {
                a[(cell, j)] = s * xt[j][cell];
            }
            a[(cell, k)] = s * yt[cell];
            for (j, e) in extra.iter().enumerate() {
                a[(cell, k + 1 + j)] = e[cell] / s;
            }
        }
        let full = a.qr().r();
        let r = full.view((0, 0), (k, k)).into_owned();
        for j in 0..k {
            let sq = (0..cells)
                .map(|c| weight(c) * xt[j][c] * xt[j][c])
                .sum::<f64>();
            if !super::above(r[(j, j)].abs(), COLLINEAR * sq.sqrt()) {
                return Err(StatsError::Collinear { index: j });
            }
        }
        let r_inv = r
            .solve_upper_triangular(&DMatrix::identity(k, k))
            .ok_or(StatsError::Collinear { index: k - 1 })?;
        let beta: DVector<f64> = (&r_inv * full.view((0, k), (k, 1))).column(0).into_owned();
        let pi = &r_inv * full.view((0, k + 1), (k, p));
        Ok((r_inv, beta, pi))
    }

    /// [`Self::fit`] with covariates that vary by row, by the partitioned regression of
    /// the module docs: the k cell slopes then the p covariate slopes, and their CRV1
    /// matrix.
    fn fit_with_covariates(
        &self,
        xt: &[Vec<f64>],
        yt: &[f64],
        wc: &WideCovariates,
        rule: FeSmallSample,
    ) -> StatsResult<(Vec<f64>, FeCovariance)> {
        let (k, p) = (xt.len(), wc.z.len());
        let (nc, nt) = (self.cohorts.len(), self.nt);
        let cells = nc * nt;
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        for (j, (z, &centred)) in wc.z.iter().zip(&wc.centred).enumerate() {
            if !super::above(norm(z), fe::ABSORBED * centred) {
                return Err(StatsError::Collinear { index: k + j });
            }
        }
        // S(c, t) = Σ_{i∈c} z̃_it, per covariate.
        let mut sz = vec![vec![0.0; cells]; p];
        for (u, &c) in wc.code.iter().enumerate() {
            let at = c as usize * nt;
            for (s, z) in sz.iter_mut().zip(&wc.z) {
                for (a, v) in s[at..at + nt].iter_mut().zip(&z[u * nt..(u + 1) * nt]) {
                    *a += v;
                }
            }
        }
        let (r_inv, beta0, pi) = self.cell_least_squares(xt, yt, &sz)?;
        drop(sz);
        // Cell tables: q_l = x̃'Π_l (the part of z̃_l the cell regressors explain) and
        // d₀ = ỹ − x̃'β₀.
        let mut q = vec![vec![0.0; cells]; p];
        let mut d0 = yt.to_vec();
        for (j, col) in xt.iter().enumerate() {
            for (cell, &x) in col.iter().enumerate() {
                if x != 0.0 {
                    d0[cell] -= x * beta0[j];
                    for (l, ql) in q.iter_mut().enumerate() {
                        ql[cell] += x * pi[(j, l)];
                    }
                }
            }
        }
        // Rows: y* and z*, in wide order.
        let n = self.n;
        let mut ystar = vec![0.0; n];
        let mut zstar = vec![vec![0.0; n]; p];
        for (u, &c) in wc.code.iter().enumerate() {
            let (at, cell) = (u * nt, c as usize * nt);
            for kk in 0..nt {
                ystar[at + kk] = wc.y[at + kk] - self.ybar[cell + kk] + d0[cell + kk];
            }
            for ((zs, z), ql) in zstar.iter_mut().zip(&wc.z).zip(&q) {
                for kk in 0..nt {
                    zs[at + kk] = z[at + kk] - ql[cell + kk];
                }
            }
        }
        drop(q);
        for (l, (zs, z)) in zstar.iter().zip(&wc.z).enumerate() {
            if !super::above(norm(zs), COLLINEAR * norm(z)) {
                return Err(StatsError::Collinear { index: k + l });
            }
        }
        let fit = ols::fit_owned(ystar, zstar, false).map_err(|e| match e {
            StatsError::Collinear { index } => StatsError::Collinear { index: k + index },
            e => e,
        })?;
        let gamma = DVector::from_column_slice(fit.coefficients());
        let beta = &beta0 - &pi * &gamma;
        // Meat, from one pass over the units' residuals e_i (up to a constant per unit,
        // which the scores do not see).
        let e = fit.residuals();
        let mut ee = vec![DMatrix::<f64>::zeros(nt, nt); nc];
        let mut ef = vec![DMatrix::<f64>::zeros(nt, p); nc];
        let mut gz = DMatrix::<f64>::zeros(p, p);
        let mut score = vec![0.0; p];
        for (u, &c) in wc.code.iter().enumerate() {
            let c = c as usize;
            let eu = &e[u * nt..(u + 1) * nt];
            for (s, z) in score.iter_mut().zip(&wc.z) {
                *s = z[u * nt..(u + 1) * nt]
                    .iter()
                    .zip(eu)
                    .map(|(a, b)| a * b)
                    .sum();
            }
            let m = ee[c].as_mut_slice();
            for (b, &eb) in eu.iter().enumerate() {
                for (cell, &ea) in m[b * nt..b * nt + b + 1].iter_mut().zip(eu) {
                    *cell += ea * eb;
                }
            }
            let f = ef[c].as_mut_slice();
            for (l, &s) in score.iter().enumerate() {
                for (cell, &ea) in f[l * nt..(l + 1) * nt].iter_mut().zip(eu) {
                    *cell += ea * s;
                }
            }
            for a in 0..p {
                for b in 0..p {
                    gz[(a, b)] += score[a] * score[b];
                }
            }
        }
        let kp = k + p;
        let mut meat = DMatrix::zeros(kp, kp);
        for (c, (m, f)) in ee.iter_mut().zip(&ef).enumerate() {
            for b in 0..nt {
                for a in 0..b {
                    m[(b, a)] = m[(a, b)];
                }
            }
            let xc = DMatrix::from_fn(nt, k, |t, j| xt[j][c * nt + t]);
            let xct = xc.transpose();
            let dd = &xct * &*m * &xc;
            let dz = &xct * f;
            let mut block = meat.view_mut((0, 0), (k, k));
            block += &dd;
            let mut block = meat.view_mut((0, k), (k, p));
            block += &dz;
        }
        let dz = meat.view((0, k), (k, p)).transpose();
        meat.view_mut((k, 0), (p, k)).copy_from(&dz);
        meat.view_mut((k, k), (p, p)).copy_from(&gz);
        // Bread: T diag((X̃'X̃)⁻¹, (Z*'Z*)⁻¹) T' with T = [[I, −Π], [0, I]].
        let mut inner = DMatrix::zeros(kp, kp);
        inner
            .view_mut((0, 0), (k, k))
            .copy_from(&(&r_inv * r_inv.transpose()));
        inner.view_mut((k, k), (p, p)).copy_from(&fit.xtx_inverse());
        let mut t = DMatrix::identity(kp, kp);
        t.view_mut((0, k), (k, p)).copy_from(&(-&pi));
        let bread = &t * inner * t.transpose();
        let cr0 = &bread * meat * &bread;
        let coefs = beta.iter().chain(gamma.iter()).copied().collect();
        self.crv1(coefs, cr0, rule)
    }

    /// The CRV1 matrix from the CR0 one of `coefs.len()` slopes: clustered by unit, the
    /// unit effect nested in the clusters, the period effect not (there are at least
    /// [`FEW_CLUSTERS`] units in every period), K counted by `rule`.
    fn crv1(
        &self,
        coefs: Vec<f64>,
        cr0: DMatrix<f64>,
        rule: FeSmallSample,
    ) -> StatsResult<(Vec<f64>, FeCovariance)> {
        let cov = FeCovariance::crv1_by_unit(cr0, coefs.len(), self.n, self.units, self.nt, rule)?;
        Ok((coefs, cov))
    }
}

/// Covariate `c` of the balanced panel `p` (periods from `lo`, `nt` of them, `units`
/// units) in wide form and two-way demeaned, z − z̄_i· − z̄_·t + z̄ (exact in one step
/// in a balanced panel), with ‖c − c̄‖ for the absorbed check.
fn two_way_demeaned(c: &[f64], p: &Panel, lo: i64, nt: usize, units: usize) -> (Vec<f64>, f64) {
    let n = c.len();
    let mean = c.iter().sum::<f64>() / n as f64;
    let centred = c
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        .sqrt();
    let mut z = vec![0.0; n];
    for ((&v, &u), &t) in c.iter().zip(p.unit).zip(p.period) {
        z[u as usize * nt + (t - lo) as usize] = v;
    }
    // Each unit's mean out (twice: the mean, then the mean of the remainders).
    for row in z.chunks_exact_mut(nt) {
        for _ in 0..2 {
            let m = row.iter().sum::<f64>() / nt as f64;
            row.iter_mut().for_each(|v| *v -= m);
        }
    }
    // Then each period's mean of what is left, z̄_·t − z̄.
    let mut col = vec![0.0; nt];
    for row in z.chunks_exact(nt) {
        for (s, v) in col.iter_mut().zip(row) {
            *s += v;
        }
    }
    col.iter_mut().for_each(|s| *s /= units as f64);
    for row in z.chunks_exact_mut(nt) {
        for (v, s) in row.iter_mut().zip(&col) {
            *v -= s;
        }
    }
    (z, centred)
}

#[cfg(test)]
mod tests {
    use super::super::did::{DidOptions, event_study, twfe_did};
    use super::*;

    /// A balanced panel of `units` units over periods 3..=9: cohorts first treated in 5,
    /// 7 and 8 and never, unit levels far from 0 (so that demeaning matters), effects
    /// growing with time since the start, and noise from a fixed sine sequence.
    fn panel(units: u32) -> (Vec<f64>, Vec<u32>, Vec<i64>, Vec<Option<i64>>) {
        let (mut y, mut u, mut t, mut g) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Rows in a shuffled order (not unit-major) to exercise the wide form.
        for period in (3..=9i64).rev() {
            for unit in 0..units {
                let first = match unit % 4 {
                    0 => Some(5),
                    1 => Some(7),
                    2 => Some(8),
                    _ => None,
                };
                let eff = first.map_or(0.0, |f| {
                    if period >= f {
                        0.5 + 0.2 * (period - f) as f64
                    } else {
                        0.0
                    }
                });
                let noise =
                    ((unit as f64 * 12.9898 + period as f64 * 78.233).sin() * 43_758.545).fract();
                y.push(1000.0 + 3.0 * unit as f64 + 0.3 * period as f64 + eff + noise);
                u.push(unit);
                t.push(period);
                g.push(first);
            }
        }
        (y, u, t, g)
    }

    fn close(a: f64, b: f64, what: &str) {
        assert!(
            (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-13,
            "{what}: {a} vs {b}"
        );
    }

    /// The cohort-table path (`fast`) and the regression (`general`, the same panel
    /// with unit weights of 1) give the same TWFE estimate with its covariates' slopes,
    /// SE, scale, df and clusters, and the same event study (all relative periods, and
    /// endpoints binned at -2 and 2) with its pre-trend test, under every rule.
    fn same_estimates(fast: &Panel, general: &Panel) {
        for rule in [
            FeSmallSample::Nested,
            FeSmallSample::All,
            FeSmallSample::None,
        ] {
            let opts = DidOptions {
                small_sample: rule,
                ..DidOptions::default()
            };
            let (a, b) = (
                twfe_did(fast, &opts).unwrap(),
                twfe_did(general, &opts).unwrap(),
            );
            close(a.inference.estimate, b.inference.estimate, "TWFE");
            close(a.inference.std_error, b.inference.std_error, "TWFE SE");
            close(a.scale, b.scale, "scale");
            assert_eq!((a.df_k, a.clusters), (b.df_k, b.clusters));
            assert_eq!(a.covariates.len(), fast.covariates.len());
            assert_eq!(a.covariates.len(), b.covariates.len());
            for (x, z) in a.covariates.iter().zip(&b.covariates) {
                close(*x, *z, "covariate");
            }
            for window in [None, Some((-2, 2))] {
                let (a, b) = (
                    event_study(fast, -1, window, &opts).unwrap(),
                    event_study(general, -1, window, &opts).unwrap(),
                );
                assert_eq!(a.coefficients.len(), b.coefficients.len());
                assert_eq!((a.df_k, a.clusters), (b.df_k, b.clusters));
                for (x, z) in a.coefficients.iter().zip(&b.coefficients) {
                    assert_eq!(
                        (x.event_time, x.rows, x.binned),
                        (z.event_time, z.rows, z.binned)
                    );
                    close(x.inference.estimate, z.inference.estimate, "event");
                    close(x.inference.std_error, z.inference.std_error, "event SE");
                }
                let (wa, wb) = (a.pretrend.unwrap(), b.pretrend.unwrap());
                close(wa.chi_square, wb.chi_square, "Wald");
            }
        }
    }

    #[test]
    fn cohort_tables_give_the_general_regression() {
        let (y, u, t, g) = panel(48);
        let ones = vec![1.0; y.len()];
        let fast = Panel {
            y: &y,
            unit: &u,
            period: &t,
            unit_first_treated: &crate::stats::did::unit_first_treated(&u, &g).unwrap(),
            cluster: &u,
            covariates: &[],
            weights: FeWeights::None,
        };
        assert!(CohortPanel::of(&fast).is_some());
        // Unit weights of 1 take the general path with the same numbers.
        let general = Panel {
            weights: FeWeights::Analytic(&ones),
            ..fast
        };
        assert!(CohortPanel::of(&general).is_none());
        same_estimates(&fast, &general);
    }

    /// Covariates that vary by row: the partitioned fit on the cohort tables gives the
    /// general regression's slopes (the covariates' too), CRV1 standard errors, df and
    /// pre-trend test, under every small-sample rule, with one and two covariates (one
    /// of them correlated with the treatment, so that leaving it out would move the
    /// estimate).
    #[test]
    fn covariates_that_vary_by_row_give_the_general_regression() {
        let (mut y, u, t, g) = panel(48);
        let treated: Vec<f64> = t
            .iter()
            .zip(&g)
            .map(|(&t, g)| f64::from(u8::from(g.is_some_and(|g| g <= t))))
            .collect();
        let z1: Vec<f64> = (0..y.len())
            .map(|i| ((i as f64) * 0.37).cos() + 0.05 * t[i] as f64 + 0.8 * treated[i])
            .collect();
        let z2: Vec<f64> = (0..y.len())
            .map(|i| 50.0 + ((i as f64) * 1.91).sin() + f64::from(u[i] % 5))
            .collect();
        for (i, v) in y.iter_mut().enumerate() {
            *v += 0.9 * z1[i] - 0.4 * z2[i];
        }
        let first = crate::stats::did::unit_first_treated(&u, &g).unwrap();
        let ones = vec![1.0; y.len()];
        let one: [&[f64]; 1] = [&z1];
        let two: [&[f64]; 2] = [&z1, &z2];
        for covariates in [&one[..], &two[..]] {
            let fast = Panel::by_unit(&y, &u, &t, &first, covariates);
            assert!(CohortPanel::of(&fast).is_some());
            let general = Panel {
                weights: FeWeights::Analytic(&ones),
                ..fast
            };
            same_estimates(&fast, &general);
        }
        // The covariate moves the estimate: without it the TWFE estimate differs.
        let without = Panel::by_unit(&y, &u, &t, &first, &[]);
        let with = Panel {
            covariates: &one,
            ..without
        };
        let opts = DidOptions::default();
        let (a, b) = (
            twfe_did(&without, &opts).unwrap(),
            twfe_did(&with, &opts).unwrap(),
        );
        assert!((a.inference.estimate - b.inference.estimate).abs() > 0.1);
    }

    /// A covariate the unit effects absorb, one equal to another, and one equal to the
    /// treatment indicator give the general regression's errors.
    #[test]
    fn absorbed_or_collinear_covariates_give_the_general_regression_errors() {
        let (y, u, t, g) = panel(48);
        let first = crate::stats::did::unit_first_treated(&u, &g).unwrap();
        let ones = vec![1.0; y.len()];
        let level: Vec<f64> = u.iter().map(|&u| f64::from(u % 3)).collect();
        let z: Vec<f64> = (0..y.len()).map(|i| ((i as f64) * 0.37).cos()).collect();
        let twice: Vec<f64> = z.iter().map(|v| 2.0 * v - 1.0).collect();
        let treated: Vec<f64> = t
            .iter()
            .zip(&g)
            .map(|(&t, g)| f64::from(u8::from(g.is_some_and(|g| g <= t))))
            .collect();
        let cases: [Vec<&[f64]>; 3] = [vec![&z, &level], vec![&z, &twice], vec![&treated]];
        for covariates in &cases {
            let fast = Panel::by_unit(&y, &u, &t, &first, covariates);
            assert!(CohortPanel::of(&fast).is_some());
            let general = Panel {
                weights: FeWeights::Analytic(&ones),
                ..fast
            };
            let opts = DidOptions::default();
            let (a, b) = (
                twfe_did(&fast, &opts).unwrap_err(),
                twfe_did(&general, &opts).unwrap_err(),
            );
            assert_eq!(a, b);
            assert!(a.to_string().contains("covariate"), "{a}");
        }
        // A covariate value that is not finite leaves the fast path.
        let mut bad = z.clone();
        bad[5] = f64::NAN;
        let cov: [&[f64]; 1] = [&bad];
        let p = Panel::by_unit(&y, &u, &t, &first, &cov);
        assert!(CohortPanel::of(&p).is_none());
    }

    #[test]
    fn the_fast_path_is_left_for_unbalanced_or_small_panels() {
        let (y, u, t, g) = panel(48);
        let p = Panel {
            y: &y[1..],
            unit: &u[1..],
            period: &t[1..],
            unit_first_treated: &crate::stats::did::unit_first_treated(&u[1..], &g[1..]).unwrap(),
            cluster: &u[1..],
            covariates: &[],
            weights: FeWeights::None,
        };
        assert!(CohortPanel::of(&p).is_none());
        let (y, u, t, g) = panel(8);
        let p = Panel {
            y: &y,
            unit: &u,
            period: &t,
            unit_first_treated: &crate::stats::did::unit_first_treated(&u, &g).unwrap(),
            cluster: &u,
            covariates: &[],
            weights: FeWeights::None,
        };
        assert!(CohortPanel::of(&p).is_none());
    }

    #[test]
    fn an_absorbed_indicator_is_reported_as_collinear() {
        let (y, u, t, g) = panel(48);
        let p = Panel {
            y: &y,
            unit: &u,
            period: &t,
            unit_first_treated: &crate::stats::did::unit_first_treated(&u, &g).unwrap(),
            cluster: &u,
            covariates: &[],
            weights: FeWeights::None,
        };
        let cp = CohortPanel::of(&p).unwrap();
        // Constant within cohorts: absorbed by the unit effects.
        let r = cp.fit(
            1,
            &|g, _, out| out[0] = f64::from(u8::from(g.is_some())),
            FeSmallSample::Nested,
        );
        assert_eq!(r.unwrap_err(), StatsError::Collinear { index: 0 });
        // Two copies of one indicator: the second is collinear.
        let r = cp.fit(
            2,
            &|g, t, out| {
                let d = f64::from(u8::from(g.is_some_and(|g| g <= t)));
                out[0] = d;
                out[1] = 2.0 * d;
            },
            FeSmallSample::Nested,
        );
        assert_eq!(r.unwrap_err(), StatsError::Collinear { index: 1 });
    }
}
