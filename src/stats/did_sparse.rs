//! Two-way fixed effects with many indicator regressors on a panel that need not be
//! balanced: y_it = α_i + λ_t + Σ_j β_j x_j,it + z_it'γ + ε_it where every row has at
//! most one indicator x_j equal to 1 (the relative periods of an event study), errors
//! clustered by unit. The same slopes and CRV1 matrix as [`crate::stats::fe::feols`]
//! with unit and period effects, without an n-row column per indicator.
//!
//! # Method
//!
//! The unit effects are eliminated within units (M_A, demeaning each unit's rows), the
//! period effects by the reduced normal equations of the T period dummies B (Frisch &
//! Waugh 1933; Lovell 1963; the two-way elimination of Baltagi 2021, *Econometric
//! Analysis of Panel Data*, 6th ed., section 9.3, for unbalanced panels). With
//! F = [X | Z | y] and C = B'M_A B (T × T, the first period's effect fixed at 0 so that
//! C is positive definite when the periods are connected through the units):
//!
//! F̃'F̃ = F'M_A F − (F'M_A B) C⁻¹ (B'M_A F).
//!
//! F'M_A F, F'M_A B and C are sums over units of small products: a unit with n_i rows
//! and indicator counts c_i adds diag(c_i) − c_i c_i'/n_i to the indicator block, and
//! its within-unit deviations to the others, so the cost is about Σ_i n_i² (the rows
//! times the periods per unit), never n × (number of indicators). The slopes solve the
//! normal equations of F̃'F̃ by Cholesky (nalgebra), on columns scaled to unit norm.
//!
//! Scores (clustered by unit, the unit effect nested): with e_i the unit's residuals,
//! which sum to zero over its rows, s_i = Σ_t x̃_it e_it = V_i'e_i − H'E_i, where V are
//! the regressors as given, H = C⁻¹B'M_A V the period part of their projection on the
//! effects and E_i the unit's residuals placed at its periods. The meat Σ_i s_i s_i' is
//! assembled from Σ a_i a_i', Σ a_i E_i' and Σ E_i E_i' (a_i = V_i'e_i); V = (N−1)/(N−K)
//! · G/(G−1) · (F̃'F̃)⁻¹ meat (F̃'F̃)⁻¹ with K as [`crate::stats::fe::cluster_df_k`]
//! counts it, t on G − 1 df (fixest's and pyfixest's CRV1).
//!
//! Accuracy: the normal equations square the condition number, so a regressor counts as
//! absorbed when its two-way demeaned sum of squares is below 1e-12 of its centred one
//! (a norm ratio of 1e-6, where the regression path uses 1e-9) and as collinear when its
//! Cholesky pivot is below 1e-12 of its own demeaned sum of squares. The tests compare
//! this path with the regression to 1e-8.
//!
//! Used for the event study and for Sun & Abraham's cohort-by-relative-period cells when
//! their dummy design would exceed [`super::did::DUMMY_DESIGN_BUDGET`] cells and the
//! panel is unweighted, clustered by unit and not balanced (balanced panels take the
//! cohort tables of [`super::did_balanced`]); `None` from [`fit`] when the periods fall
//! apart into groups no unit links.

use nalgebra::{DMatrix, DVector};

use super::did::Panel;
use super::fe::{FeCovariance, FeSmallSample, FeWeights};
use super::{StatsError, StatsResult};

/// The row has no indicator.
pub const NONE: u32 = u32::MAX;

/// A demeaned sum of squares below this fraction of the centred one: absorbed.
const ABSORBED_SQ: f64 = 1e-12;
/// A Cholesky pivot below this fraction of the regressor's demeaned sum of squares:
/// collinear with the earlier regressors.
const COLLINEAR_SQ: f64 = 1e-12;

/// The rows of every unit: row indices grouped by unit code
/// ([`crate::stats::ols::group_rows`]).
struct ByUnit {
    start: Vec<usize>,
    rows: Vec<u32>,
}

impl ByUnit {
    /// `None` when there are more rows than a `u32` numbers.
    fn of(unit: &[u32]) -> Option<Self> {
        let units = unit.iter().max().map_or(0, |&u| u as usize + 1);
        let (start, rows) = crate::stats::ols::group_rows(unit, units)?;
        Some(Self { start, rows })
    }

    fn units(&self) -> usize {
        self.start.len() - 1
    }

    fn rows(&self, u: usize) -> &[u32] {
        &self.rows[self.start[u]..self.start[u + 1]]
    }
}

/// Whether [`fit`] is the way to fit `k` indicators on `p`: the panel is unweighted and
/// clustered by unit, and the indicators and covariates as dense columns would exceed
/// `budget` cells.
pub fn applies(p: &Panel, k: usize, budget: usize) -> bool {
    matches!(p.weights, FeWeights::None)
        && p.cluster == p.unit
        && p.y.len().saturating_mul(k + p.covariates.len()) > budget
}

/// Fit y on the `k` indicators (`index[i]` the indicator of row i, or [`NONE`]) and the
/// panel's covariates, with unit and period effects; the slopes (indicators first) and
/// their CRV1 matrix clustered by unit, K counted by `rule`. Errors as
/// [`crate::stats::fe::feols`]: [`StatsError::Collinear`] with the regressor's index.
/// `Ok(None)` when the periods are not connected through the units, or there are more
/// rows than a `u32` numbers (the caller then fits the regression).
pub fn fit(
    p: &Panel,
    index: &[u32],
    k: usize,
    rule: FeSmallSample,
) -> StatsResult<Option<(Vec<f64>, FeCovariance)>> {
    if !matches!(p.weights, FeWeights::None) || p.cluster != p.unit {
        return Err(StatsError::Invalid(
            "the sparse event-study fit needs unweighted rows clustered by unit".into(),
        ));
    }
    let n = p.y.len();
    let q = p.covariates.len();
    let kp = k + q;
    // Columns of F: the k indicators, the q covariates, the outcome.
    let kf = kp + 1;
    let t0 = p.period.iter().copied().min().unwrap_or(0);
    let nt = p
        .period
        .iter()
        .map(|&t| (t - t0) as usize + 1)
        .max()
        .unwrap_or(0);
    let Some(by) = ByUnit::of(p.unit) else {
        return Ok(None);
    };
    let dense = |i: usize, m: usize| -> f64 { if m < q { p.covariates[m][i] } else { p.y[i] } };
    // Pass 1: F'M_A F, F'M_A B, C = B'M_A B, and the rows per indicator.
    let mut s = DMatrix::<f64>::zeros(kf, kf);
    let mut g = DMatrix::<f64>::zeros(kf, nt);
    let mut c = DMatrix::<f64>::zeros(nt, nt);
    let mut cnt = vec![0usize; k];
    // Rows per indicator, for the centred sums of squares.
    let mut total = vec![0usize; k];
    let mut touched: Vec<usize> = Vec::new();
    let mut dev = vec![0.0; (q + 1) * nt.max(1)];
    for u in 0..by.units() {
        let rows = by.rows(u);
        let ni = rows.len();
        if ni == 0 {
            continue;
        }
        let inv = 1.0 / ni as f64;
        touched.clear();
        for &r in rows {
            let j = index[r as usize];
            if j != NONE {
                let j = j as usize;
                if cnt[j] == 0 {
                    touched.push(j);
                }
                cnt[j] += 1;
            }
        }
        // Within-unit deviations of the dense columns, row by row (two passes for the
        // mean).
        for m in 0..=q {
            let mean = rows.iter().map(|&r| dense(r as usize, m)).sum::<f64>() * inv;
            let rest = rows
                .iter()
                .map(|&r| dense(r as usize, m) - mean)
                .sum::<f64>()
                * inv;
            for (a, &r) in rows.iter().enumerate() {
                dev[m * ni + a] = dense(r as usize, m) - mean - rest;
            }
        }
        // C and the period sums.
        for &r in rows {
            let t = (p.period[r as usize] - t0) as usize;
            c[(t, t)] += 1.0;
            for &r2 in rows {
                let t2 = (p.period[r2 as usize] - t0) as usize;
                c[(t, t2)] -= inv;
            }
        }
        // Indicator block: diag(c) − c c'/n_i; indicator × period: 1 at (j, t) minus
        // c_j/n_i at every period of the unit.
        for &j in &touched {
            let cj = cnt[j] as f64;
            s[(j, j)] += cj;
            for &l in &touched {
                s[(j, l)] -= cj * cnt[l] as f64 * inv;
            }
            for &r in rows {
                let t = (p.period[r as usize] - t0) as usize;
                g[(j, t)] -= cj * inv;
            }
        }
        for (a, &r) in rows.iter().enumerate() {
            let i = r as usize;
            let t = (p.period[i] - t0) as usize;
            let j = index[i];
            if j != NONE {
                let j = j as usize;
                g[(j, t)] += 1.0;
                // Indicator × dense: the deviations of the rows with the indicator
                // (X'M_A D = X'(M_A D)).
                for m in 0..=q {
                    s[(j, k + m)] += dev[m * ni + a];
                }
            }
            for m in 0..=q {
                let dm = dev[m * ni + a];
                g[(k + m, t)] += dm;
                for l in m..=q {
                    s[(k + m, k + l)] += dm * dev[l * ni + a];
                }
            }
        }
        for &j in &touched {
            total[j] += cnt[j];
            cnt[j] = 0;
        }
    }
    for a in 0..kf {
        for b in 0..a {
            s[(a, b)] = s[(b, a)];
        }
    }
    // The reduced normal equations: first period's effect fixed at 0.
    let m = nt.saturating_sub(1);
    let c_red = c.view((1, 1), (m, m)).into_owned();
    let Some(chol_c) = c_red.clone().cholesky() else {
        return Ok(None);
    };
    // A pivot that rounding alone keeps positive: periods that no unit links.
    let l = chol_c.l_dirty();
    if (0..m).any(|j| !super::above(l[(j, j)] * l[(j, j)], 1e-10 * c_red[(j, j)])) {
        return Ok(None);
    }
    let g_red = g.view((0, 1), (kf, m)).into_owned();
    // Y = L⁻¹ G', so G C⁻¹ G' = Y'Y; H = C⁻¹ G' = L⁻ᵀ Y.
    let y_mat = chol_c
        .l()
        .solve_lower_triangular(&g_red.transpose())
        .ok_or(StatsError::NoVariance)?;
    let schur = &s - y_mat.transpose() * &y_mat;
    let h_full = chol_c.solve(&g_red.transpose()); // m × kf
    // Absorbed: the demeaned sum of squares against the centred one of the raw column.
    for (j, raw) in centred_sums_sq(p, &total).into_iter().enumerate() {
        if !super::above(schur[(j, j)], ABSORBED_SQ * raw) {
            return Err(StatsError::Collinear { index: j });
        }
    }
    // Cholesky of the regressor block on columns scaled to unit norm (unit diagonal);
    // a pivot that is not positive is replaced by the smallest positive number, so
    // that the first collinear regressor shows as the first small diagonal entry.
    let scale: Vec<f64> = (0..kp).map(|j| 1.0 / schur[(j, j)].sqrt()).collect();
    let nmat = DMatrix::from_fn(kp, kp, |a, b| schur[(a, b)] * scale[a] * scale[b]);
    let chol = nalgebra::Cholesky::new_with_substitute(nmat, f64::MIN_POSITIVE)
        .ok_or(StatsError::Collinear { index: 0 })?;
    {
        let l = chol.l_dirty();
        if let Some(j) = (0..kp).find(|&j| !super::above(l[(j, j)] * l[(j, j)], COLLINEAR_SQ)) {
            return Err(StatsError::Collinear { index: j });
        }
    }
    let rhs = DVector::from_fn(kp, |a, _| schur[(a, kp)] * scale[a]);
    let beta_scaled = chol.solve(&rhs);
    let beta = DVector::from_fn(kp, |a, _| beta_scaled[a] * scale[a]);
    // (F̃'F̃)⁻¹ of the regressors, back on their own scale.
    let inv_scaled = chol.inverse();
    let bread = DMatrix::from_fn(kp, kp, |a, b| inv_scaled[(a, b)] * scale[a] * scale[b]);
    let h = h_full.columns(0, kp).into_owned(); // m × kp
    // A unit's residuals at β and the period effects h_y of y − Vβ (first period 0),
    // demeaned within the unit (twice, for accuracy).
    let residuals = |rows: &[u32], beta: &DVector<f64>, h_y: &DVector<f64>, e: &mut Vec<f64>| {
        e.clear();
        for &r in rows {
            let i = r as usize;
            let t = (p.period[i] - t0) as usize;
            let mut fit = 0.0;
            let j = index[i];
            if j != NONE {
                fit += beta[j as usize];
            }
            for mm in 0..q {
                fit += beta[k + mm] * p.covariates[mm][i];
            }
            let ht = if t == 0 { 0.0 } else { h_y[t - 1] };
            e.push(p.y[i] - fit - ht);
        }
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        let rest = e.iter().map(|v| v - mean).sum::<f64>() / e.len() as f64;
        e.iter_mut().for_each(|v| *v -= mean + rest);
    };
    let period_effects =
        |beta: &DVector<f64>| h_full.column(kp).into_owned() - h_full.columns(0, kp) * beta;
    // Iterative refinement (Wilkinson; Golub & Van Loan 2013, section 3.5.3): the
    // normal equations lose accuracy with the squared condition number, so the
    // gradient Ṽ'ẽ = Σ_i (V_i'e_i − H'E_i) is recomputed from the rows and the step
    // (F̃'F̃)⁻¹ Ṽ'ẽ added, twice. Ṽ'e does not depend on errors in h_y (Ṽ is
    // orthogonal to every unit and period effect).
    let mut beta = beta;
    let mut e = Vec::new();
    for _ in 0..2 {
        let h_y = period_effects(&beta);
        let mut grad = DVector::<f64>::zeros(kp);
        let mut by_period = DVector::<f64>::zeros(m);
        for u in 0..by.units() {
            let rows = by.rows(u);
            if rows.is_empty() {
                continue;
            }
            residuals(rows, &beta, &h_y, &mut e);
            for (&r, &ev) in rows.iter().zip(&e) {
                let i = r as usize;
                let j = index[i];
                if j != NONE {
                    grad[j as usize] += ev;
                }
                for mm in 0..q {
                    grad[k + mm] += p.covariates[mm][i] * ev;
                }
                let t = (p.period[i] - t0) as usize;
                if t > 0 {
                    by_period[t - 1] += ev;
                }
            }
        }
        grad -= h.transpose() * by_period;
        beta += &bread * grad;
    }
    let h_y = period_effects(&beta);
    // Pass 2: the meat pieces.
    let mut a1 = DMatrix::<f64>::zeros(kp, kp);
    let mut a2 = DMatrix::<f64>::zeros(kp, m);
    let mut a3 = DMatrix::<f64>::zeros(m, m);
    let mut a_i = vec![0.0; kp];
    let mut nz: Vec<usize> = Vec::new();
    for u in 0..by.units() {
        let rows = by.rows(u);
        if rows.is_empty() {
            continue;
        }
        residuals(rows, &beta, &h_y, &mut e);
        // a_i = V_i'e_i: sparse in the indicators, dense in the covariates.
        nz.clear();
        for (a, &r) in rows.iter().enumerate() {
            let j = index[r as usize];
            if j != NONE {
                let j = j as usize;
                if a_i[j] == 0.0 && !nz.contains(&j) {
                    nz.push(j);
                }
                a_i[j] += e[a];
            }
        }
        for mm in 0..q {
            a_i[k + mm] = rows
                .iter()
                .zip(&e)
                .map(|(&r, ev)| p.covariates[mm][r as usize] * ev)
                .sum();
            nz.push(k + mm);
        }
        for &x in &nz {
            for &y in &nz {
                a1[(x, y)] += a_i[x] * a_i[y];
            }
        }
        for (a, &r) in rows.iter().enumerate() {
            let t = (p.period[r as usize] - t0) as usize;
            if t == 0 {
                continue;
            }
            for &x in &nz {
                a2[(x, t - 1)] += a_i[x] * e[a];
            }
            for (b, &r2) in rows.iter().enumerate() {
                let t2 = (p.period[r2 as usize] - t0) as usize;
                if t2 > 0 {
                    a3[(t - 1, t2 - 1)] += e[a] * e[b];
                }
            }
        }
        for &x in &nz {
            a_i[x] = 0.0;
        }
    }
    let ht = h.transpose(); // kp × m
    let a2h = &a2 * &h; // kp × kp
    let meat = &a1 - &a2h - a2h.transpose() + &ht * a3 * &h;
    let cr0 = &bread * meat * &bread;
    let clusters = (0..by.units()).filter(|&u| !by.rows(u).is_empty()).count();
    let cov = FeCovariance::crv1_by_unit(cr0, kp, n, clusters, nt, rule)?;
    Ok(Some((beta.iter().copied().collect(), cov)))
}

/// Σ (v − v̄)² of every regressor as given: indicator j with `total[j]` of the n rows
/// has c − c²/n, then the covariates from their values.
fn centred_sums_sq(p: &Panel, total: &[usize]) -> Vec<f64> {
    let n = p.y.len() as f64;
    let indicators = total
        .iter()
        .map(|&c| c as f64 - (c as f64) * (c as f64) / n);
    let covariates = p.covariates.iter().map(|v| {
        let mean = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - mean) * (x - mean)).sum()
    });
    indicators.chain(covariates).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::did::unit_first_treated;
    use crate::stats::fe;
    use crate::stats::ols::Clusters;

    /// An unbalanced panel: 60 units over periods 1..=12, cohorts first treated in 4, 6
    /// and 9 and never, some unit-periods missing (and one unit with a single row),
    /// unit levels far from 0, effects growing with time since the start, noise from a
    /// fixed sine sequence; with two covariates, one correlated with the treatment.
    #[allow(clippy::type_complexity)]
    fn panel() -> (
        Vec<f64>,
        Vec<u32>,
        Vec<i64>,
        Vec<Option<i64>>,
        Vec<f64>,
        Vec<f64>,
    ) {
        let (mut y, mut u, mut t, mut g, mut z1, mut z2) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for unit in 0..60u32 {
            let first = match unit % 4 {
                0 => Some(4),
                1 => Some(6),
                2 => Some(9),
                _ => None,
            };
            for period in 1..=12i64 {
                let missing =
                    (unit * 7 + period as u32 * 3).is_multiple_of(11) || (unit == 13 && period > 1);
                if missing {
                    continue;
                }
                let on = first.is_some_and(|f| period >= f);
                let eff = first
                    .filter(|&f| period >= f)
                    .map_or(0.0, |f| 0.4 + 0.15 * (period - f) as f64);
                let noise =
                    ((unit as f64 * 12.9898 + period as f64 * 78.233).sin() * 43_758.545).fract();
                let a = ((unit * 5 + period as u32) as f64 * 0.71).cos()
                    + 0.6 * f64::from(u8::from(on));
                let b = 20.0 + ((unit * 3 + period as u32 * 11) as f64).sin();
                y.push(
                    500.0 + 2.0 * unit as f64 + 0.3 * period as f64 + eff + noise + 0.8 * a
                        - 0.5 * b,
                );
                u.push(unit);
                t.push(period);
                g.push(first);
                z1.push(a);
                z2.push(b);
            }
        }
        (y, u, t, g, z1, z2)
    }

    /// Relative periods binned into [-4, 4], reference -1 left out: the indicator of
    /// every row and their number.
    fn indicators(t: &[i64], g: &[Option<i64>]) -> (Vec<u32>, usize) {
        let times: Vec<i64> = (-4..=4).filter(|&e| e != -1).collect();
        let index = t
            .iter()
            .zip(g)
            .map(|(&t, g)| {
                g.map(|g| (t - g).clamp(-4, 4))
                    .and_then(|e| times.binary_search(&e).ok())
                    .map_or(NONE, |j| j as u32)
            })
            .collect();
        (index, times.len())
    }

    fn dense(index: &[u32], k: usize) -> Vec<Vec<f64>> {
        (0..k)
            .map(|j| {
                index
                    .iter()
                    .map(|&x| f64::from(u8::from(x as usize == j)))
                    .collect()
            })
            .collect()
    }

    /// The sparse normal equations give the regression's slopes and its whole CRV1
    /// matrix (df, K and clusters too) under every small-sample rule, without and with
    /// covariates, on an unbalanced panel.
    #[test]
    fn the_sparse_fit_gives_the_regression() {
        let (y, u, t, g, z1, z2) = panel();
        let first = unit_first_treated(&u, &g).unwrap();
        let (index, k) = indicators(&t, &g);
        let cols = dense(&index, k);
        let none: [&[f64]; 0] = [];
        let two: [&[f64]; 2] = [&z1, &z2];
        for covariates in [&none[..], &two[..]] {
            let p = Panel::by_unit(&y, &u, &t, &first, covariates);
            let mut x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            x.extend(covariates.iter().copied());
            let unit = Clusters::from_sorted_labels(&u);
            let period = Clusters::from_sorted_labels(&t);
            let reg = fe::feols(&y, &x, &[&unit, &period]).unwrap();
            for rule in [
                FeSmallSample::Nested,
                FeSmallSample::All,
                FeSmallSample::None,
            ] {
                let want = reg.cluster_vcov(&unit, rule).unwrap();
                let (coef, got) = fit(&p, &index, k, rule).unwrap().unwrap();
                assert_eq!(coef.len(), k + covariates.len());
                assert_eq!(
                    (got.df_k, got.df, got.clusters),
                    (want.df_k, want.df, want.clusters)
                );
                for (a, b) in coef.iter().zip(reg.coefficients()) {
                    assert!((a - b).abs() <= 1e-8 * b.abs().max(1e-3), "{a} vs {b}");
                }
                for a in 0..coef.len() {
                    for b in 0..coef.len() {
                        let (x, w) = (got.matrix[(a, b)], want.matrix[(a, b)]);
                        let size = (want.matrix[(a, a)] * want.matrix[(b, b)]).sqrt();
                        assert!((x - w).abs() <= 1e-8 * size, "V[{a},{b}]: {x} vs {w}");
                    }
                }
            }
        }
    }

    /// A covariate the unit effects absorb and one equal to an indicator are named as
    /// the regression names them.
    #[test]
    fn absorbed_and_collinear_regressors_are_named() {
        let (y, u, t, g, z1, _) = panel();
        let first = unit_first_treated(&u, &g).unwrap();
        let (index, k) = indicators(&t, &g);
        let level: Vec<f64> = u.iter().map(|&u| f64::from(u % 3)).collect();
        let copy: Vec<f64> = index.iter().map(|&x| f64::from(u8::from(x == 2))).collect();
        for (covs, want) in [
            (vec![z1.as_slice(), level.as_slice()], k + 1),
            (vec![copy.as_slice()], k),
        ] {
            let p = Panel::by_unit(&y, &u, &t, &first, &covs);
            let e = fit(&p, &index, k, FeSmallSample::Nested).unwrap_err();
            assert_eq!(e, StatsError::Collinear { index: want });
        }
    }

    /// Periods that no unit links (units observed only in periods 1-2 or only in 3-4)
    /// leave the sparse path.
    #[test]
    fn disconnected_periods_leave_the_sparse_path() {
        let mut y = vec![];
        let (mut u, mut t) = (vec![], vec![]);
        for unit in 0..8u32 {
            let periods = if unit < 4 { [1, 2] } else { [3, 4] };
            for period in periods {
                y.push(
                    f64::from(unit)
                        + period as f64 * 0.5
                        + ((unit * 3 + period as u32) as f64).sin(),
                );
                u.push(unit);
                t.push(period);
            }
        }
        let g: Vec<Option<i64>> = u.iter().map(|&x| (x % 2 == 0).then_some(2)).collect();
        let first = unit_first_treated(&u, &g).unwrap();
        let index: Vec<u32> = t
            .iter()
            .zip(&g)
            .map(|(&t, g)| if g.is_some_and(|g| t >= g) { 0 } else { NONE })
            .collect();
        let p = Panel::by_unit(&y, &u, &t, &first, &[]);
        assert!(fit(&p, &index, 1, FeSmallSample::Nested).unwrap().is_none());
    }
}
