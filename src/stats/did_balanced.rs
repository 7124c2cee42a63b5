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
//! cohorts × periods. Used when the panel is balanced, unweighted, without covariates
//! and clustered by unit with at least [`super::did::FEW_CLUSTERS`] units; otherwise
//! the callers fit the general regression. The absorbed-regressor and collinearity
//! checks are those of [`crate::stats::fe::feols`] and [`crate::stats::ols::fit`]
//! (relative thresholds 1e-9), applied to the same sums.

use nalgebra::{DMatrix, DVector};

use super::did::{FEW_CLUSTERS, Panel};
use super::fe::{self, FeCovariance, FeSmallSample, FeWeights};
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
    /// Σ over the cohort's units of (y_i − ȳ_c)(y_i − ȳ_c)', T × T per cohort.
    pub within: Vec<DMatrix<f64>>,
    pub units: usize,
    pub n: usize,
}

impl CohortPanel {
    /// The cohort form of `p`, or `None` when the fast path does not apply: weights,
    /// covariates, clusters other than the units, fewer than [`FEW_CLUSTERS`] units, or
    /// a unit missing a period (or with two rows in one).
    pub fn of(p: &Panel) -> Option<Self> {
        if !matches!(p.weights, FeWeights::None) || !p.covariates.is_empty() || p.cluster != p.unit
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

    /// Fit y on the k regressors `x(cohort, period, out)` with unit and period effects
    /// absorbed; returns the slopes and their CRV1 matrix (clustered by unit, K counted
    /// by `rule`). Errors as [`crate::stats::fe::feols`]: [`StatsError::Collinear`]
    /// with the regressor's index.
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
        // Least squares on the weighted cell table [√n_c x̃ | √n_c ỹ], by QR; at least
        // k + 1 rows so that R is square.
        let rows = cells.max(k + 1);
        let mut a = DMatrix::zeros(rows, k + 1);
        for cell in 0..cells {
            let s = weight(cell).sqrt();
            for j in 0..k {
                a[(cell, j)] = s * xt[j][cell];
            }
            a[(cell, k)] = s * yt[cell];
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
        let qty = full.view((0, k), (k, 1)).into_owned();
        let r_inv = r
            .solve_upper_triangular(&DMatrix::identity(k, k))
            .ok_or(StatsError::Collinear { index: k - 1 })?;
        let beta: DVector<f64> = (&r_inv * qty).column(0).into_owned();
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
        let g = self.units;
        let levels = [self.units, nt];
        // Clusters are the units: the unit effect is nested, the period effect is not
        // (there are at least FEW_CLUSTERS units in every period).
        let df_k = fe::cluster_df_k(k, &levels, &[true, false], rule);
        let nf = self.n as f64;
        if !super::above(nf - df_k, 0.0) {
            return Err(StatsError::TooFew {
                needed: df_k as usize + 1,
                got: self.n,
            });
        }
        let gf = g as f64;
        let scale = (nf - 1.0) / (nf - df_k) * gf / (gf - 1.0);
        Ok((
            beta.iter().copied().collect(),
            FeCovariance {
                matrix: cr0 * scale,
                scale,
                df_k,
                df: gf - 1.0,
                clusters: g,
            },
        ))
    }
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
                twfe_did(&fast, &opts).unwrap(),
                twfe_did(&general, &opts).unwrap(),
            );
            close(a.inference.estimate, b.inference.estimate, "TWFE");
            close(a.inference.std_error, b.inference.std_error, "TWFE SE");
            assert_eq!((a.df_k, a.clusters), (b.df_k, b.clusters));
            close(a.scale, b.scale, "scale");
            let (a, b) = (
                event_study(&fast, -1, None, &opts).unwrap(),
                event_study(&general, -1, None, &opts).unwrap(),
            );
            assert_eq!(a.coefficients.len(), b.coefficients.len());
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
            // Binned endpoints.
            let (a, b) = (
                event_study(&fast, -1, Some((-2, 2)), &opts).unwrap(),
                event_study(&general, -1, Some((-2, 2)), &opts).unwrap(),
            );
            for (x, z) in a.coefficients.iter().zip(&b.coefficients) {
                assert_eq!(
                    (x.event_time, x.rows, x.binned),
                    (z.event_time, z.rows, z.binned)
                );
                close(x.inference.estimate, z.inference.estimate, "binned");
                close(x.inference.std_error, z.inference.std_error, "binned SE");
            }
        }
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
