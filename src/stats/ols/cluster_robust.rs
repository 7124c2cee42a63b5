//! Cluster-robust variances: CR0 (Liang & Zeger 1986) and CR1 (CR0 · G/(G−1) ·
//! (n−1)/(n−k), as Stata) with t on G−1 df, and CR2, the bias-reduced linearisation
//! of Bell & McCaffrey (2002) with their Satterthwaite degrees of freedom per
//! coefficient (as estimatr `se_type = "CR2"` and clubSandwich
//! `coef_test(vcov = "CR2", test = "Satterthwaite")`).
//!
//! CR2 in k×k algebra: with Q_g the rows of Q in cluster g, H_gg = Q_gQ_g'. Writing
//! S_g = Q_g'Q_g = VΛV', one has Q_g'A_g e_g = V diag((1−λ)^(−1/2)) V' Q_g'e_g, and the
//! Bell-McCaffrey matrix G'G for a contrast c has entries δ_gh·b_g − a_g'a_h with
//! w = R⁻ᵀc, a_g = V diag(λ(1−λ)^(−1/2)) V' w and b_g = w'V diag(λ/(1−λ)) V'w. Its
//! trace and squared Frobenius norm, which the df need, reduce to sums over clusters
//! of k-vectors and one k×k matrix Σ_g a_g a_g'. S_g and s_g = Q_g'e_g come from one
//! streaming pass that adds every row to a table of all clusters' pieces when that
//! table is small (at most 64 MiB, and half the size of the design); with more
//! clusters, cluster by cluster (rows grouped by cluster, each cluster's rows read in
//! blocks, clusters in parallel), so that only one cluster's pieces exist at a time
//! per thread.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rayon::prelude::*;

use super::fit::{OlsFit, dot, solve_block};
use super::{BLOCK, CHUNK, Clusters, SeType};
use crate::stats::{StatsError, StatsResult};

/// Most numbers in the tables of per-cluster pieces of [`OlsFit::cr2_streaming`]
/// (64 MiB).
const PIECES_BUDGET: usize = 1 << 23;

/// Chunks of rows whose CR0/CR1 contrast terms are held at once (64 × 2^14 rows, 8 MB).
const TERMS_WINDOW: usize = 64;
/// Clusters per unit of parallel work when their pieces are at hand.
const CLUSTER_RANGE: usize = 256;

/// Length of a cluster's packed pieces: the upper triangle of S_g row by row
/// (k(k+1)/2 numbers), then s_g (k).
fn piece_len(k: usize) -> usize {
    k * (k + 1) / 2 + k
}

/// Add one row's qᵢqᵢ' and qᵢeᵢ to a packed piece.
fn add_row(piece: &mut [f64], q: &[f64], e: f64) {
    let k = q.len();
    let mut off = 0;
    for (a, &qa) in q.iter().enumerate() {
        for (s, &qc) in piece[off..off + k - a].iter_mut().zip(&q[a..]) {
            *s += qa * qc;
        }
        off += k - a;
    }
    for (s, &qa) in piece[off..].iter_mut().zip(q) {
        *s += qa * e;
    }
}

/// Add a block's Q_b'Q_b and Q_b'e_b (Q_b column-major, e.len() rows) to a packed piece.
fn add_block(piece: &mut [f64], q: &[f64], e: &[f64]) {
    let b = e.len();
    let k = q.len() / b;
    let mut off = 0;
    for a in 0..k {
        let qa = &q[a * b..(a + 1) * b];
        for c in a..k {
            piece[off + c - a] += dot(qa, &q[c * b..(c + 1) * b]);
        }
        off += k - a;
    }
    for a in 0..k {
        piece[off + a] += dot(&q[a * b..(a + 1) * b], e);
    }
}

/// S_g (symmetric k×k) and s_g from a packed piece.
fn unpack_piece(piece: &[f64], k: usize) -> (DMatrix<f64>, DVector<f64>) {
    let mut s = DMatrix::zeros(k, k);
    let mut off = 0;
    for a in 0..k {
        for c in a..k {
            s[(a, c)] = piece[off + c - a];
            s[(c, a)] = piece[off + c - a];
        }
        off += k - a;
    }
    (s, DVector::from_column_slice(&piece[off..off + k]))
}

/// Per-thread sums of the CR2 variance and Bell-McCaffrey df over clusters.
struct Cr2Sums {
    var: f64,
    sum_b: f64,
    sum_a2: f64,
    sum_b2: f64,
    sum_ba2: f64,
    /// Σ_g a_g a_g' (= AA' for A with columns a_g).
    aat: DMatrix<f64>,
}

impl Cr2Sums {
    fn new(k: usize) -> Self {
        Self {
            var: 0.0,
            sum_b: 0.0,
            sum_a2: 0.0,
            sum_b2: 0.0,
            sum_ba2: 0.0,
            aat: DMatrix::zeros(k, k),
        }
    }

    /// Add cluster g from S_g = Q_g'Q_g and s_g = Q_g'e_g, for w = R⁻ᵀc.
    fn add(&mut self, s: DMatrix<f64>, qe: &DVector<f64>, w: &DVector<f64>) {
        let k = w.len();
        let eig = SymmetricEigen::new(s);
        let vecs = &eig.eigenvectors;
        // Eigenvalues of H_gg lie in [0, 1]; at 1 the adjustment is taken as the
        // Moore-Penrose inverse square root (factor 0), as clubSandwich.
        let lam: Vec<f64> = eig.eigenvalues.iter().map(|l| l.clamp(0.0, 1.0)).collect();
        let inv_sqrt = |l: f64| {
            if l < 1.0 - 1e-12 {
                (1.0 - l).powf(-0.5)
            } else {
                0.0
            }
        };
        let vt_s = vecs.tr_mul(qe);
        let vt_w = vecs.tr_mul(w);
        // u_g = V diag((1−λ)^(−1/2)) V' s_g; the variance adds (w'u_g)².
        let wu: f64 = (0..k).map(|m| vt_w[m] * inv_sqrt(lam[m]) * vt_s[m]).sum();
        self.var += wu * wu;
        // a_g = V diag(λ(1−λ)^(−1/2)) V'w;  b_g = Σ λ/(1−λ) (V'w)².
        let coeffs = DVector::from_iterator(k, (0..k).map(|m| lam[m] * inv_sqrt(lam[m]) * vt_w[m]));
        let a = vecs * coeffs;
        let b: f64 = (0..k)
            .map(|m| {
                let f = inv_sqrt(lam[m]);
                lam[m] * f * f * vt_w[m] * vt_w[m]
            })
            .sum();
        let a2 = a.norm_squared();
        self.sum_b += b;
        self.sum_a2 += a2;
        self.sum_b2 += b * b;
        self.sum_ba2 += b * a2;
        self.aat.ger(1.0, &a, &a, 1.0);
    }

    /// The sums of the parts, added in order.
    fn merge_all(k: usize, parts: Vec<Self>) -> Self {
        let mut total = Self::new(k);
        for p in parts {
            total.merge(p);
        }
        total
    }

    fn merge(&mut self, o: Self) {
        self.var += o.var;
        self.sum_b += o.sum_b;
        self.sum_a2 += o.sum_a2;
        self.sum_b2 += o.sum_b2;
        self.sum_ba2 += o.sum_ba2;
        self.aat += o.aat;
    }
}

impl OlsFit<'_> {
    fn check_clusters(&self, cl: &Clusters) -> StatsResult<()> {
        if cl.codes().len() != self.n {
            return Err(StatsError::Invalid(format!(
                "{} cluster codes for {} observations",
                cl.codes().len(),
                self.n
            )));
        }
        if cl.count() < 2 {
            return Err(StatsError::TooFewClusters { got: cl.count() });
        }
        Ok(())
    }

    /// The CR0 variance matrix of all coefficients, T·(Σ_g s_g s_g')·Tᵀ with
    /// s_g = Q_g'e_g (Liang & Zeger 1986), without a small-sample factor. The rows are
    /// read in at most a few parts, each adding to its own table of the clusters' s_g.
    pub fn cr0_vcov(&self, cl: &Clusters) -> StatsResult<DMatrix<f64>> {
        self.check_clusters(cl)?;
        let k = self.k;
        let table = cl.count().saturating_mul(k).max(1);
        let chunks = self.n.div_ceil(CHUNK).max(1);
        let parts = (PIECES_BUDGET / table).clamp(1, 8).min(chunks);
        let part = chunks.div_ceil(parts) * CHUNK;
        let tables = self.row_pass(
            part,
            false,
            || vec![0.0; cl.count() * k],
            |t: &mut Vec<f64>, q, e, _, i| {
                let b = e.len();
                for (r, (&g, &er)) in cl.codes()[i..i + b].iter().zip(e).enumerate() {
                    let base = g as usize * k;
                    for j in 0..k {
                        t[base + j] += q[j * b + r] * er;
                    }
                }
            },
        );
        let mut s = vec![0.0; cl.count() * k];
        for t in tables {
            s.iter_mut().zip(t).for_each(|(a, b)| *a += b);
        }
        let mut meat = DMatrix::zeros(k, k);
        for sg in s.chunks_exact(k) {
            let v = DVector::from_column_slice(sg);
            meat += &v * v.transpose();
        }
        Ok(&self.t * meat * self.t.transpose())
    }

    /// Cluster-robust variance of the contrast w'(Q'y) and its df.
    pub(super) fn cluster_variance(
        &self,
        w: &DVector<f64>,
        se: SeType,
        cl: &Clusters,
    ) -> StatsResult<(f64, f64)> {
        self.check_clusters(cl)?;
        let g = cl.count() as f64;
        match se {
            SeType::Cr0 | SeType::Cr1 => {
                let sums = self.contrast_sums(w, cl, TERMS_WINDOW);
                let v: f64 = sums.iter().map(|s| s * s).sum();
                let (n, k) = (self.n as f64, self.k as f64);
                let factor = if se == SeType::Cr1 {
                    g / (g - 1.0) * (n - 1.0) / (n - k)
                } else {
                    1.0
                };
                Ok((v * factor, g - 1.0))
            }
            SeType::Cr2 => {
                let s = self.cr2_sums(w, cl)?;
                // G'G = diag(b) − A'A; df = tr(G'G)² / ‖G'G‖²_F, where
                // ‖G'G‖²_F = Σb² − 2Σ b_g‖a_g‖² + ‖AA'‖²_F.
                let trace = s.sum_b - s.sum_a2;
                let frob2 = s.sum_b2 - 2.0 * s.sum_ba2 + s.aat.norm_squared();
                Ok((s.var, trace * trace / frob2))
            }
            _ => unreachable!("cluster_variance is only called for cluster SE types"),
        }
    }

    /// w's_g = Σ_{i∈g} (w'qᵢ)eᵢ for every cluster g: the terms in parallel, the cluster
    /// sums in row order, `window` chunks of rows at a time (so the terms held are
    /// those of one window, not a column of n). The window does not change a bit.
    fn contrast_sums(&self, w: &DVector<f64>, cl: &Clusters, window: usize) -> Vec<f64> {
        let mut sums = vec![0.0; cl.count()];
        for start in (0..self.n).step_by(window * CHUNK) {
            let rows = start..self.n.min(start + window * CHUNK);
            let parts = self.row_pass_in(
                rows.clone(),
                CHUNK,
                false,
                || Vec::with_capacity(CHUNK),
                |u: &mut Vec<f64>, q, e, _, _| {
                    let b = e.len();
                    let start = u.len();
                    u.resize(start + b, 0.0);
                    let psi = &mut u[start..];
                    for (qj, &wj) in q.chunks_exact(b).zip(w.iter()) {
                        for (p, x) in psi.iter_mut().zip(qj) {
                            *p += wj * x;
                        }
                    }
                    for (p, e) in psi.iter_mut().zip(e) {
                        *p *= e;
                    }
                },
            );
            for (&code, u) in cl.codes()[rows].iter().zip(parts.iter().flatten()) {
                sums[code as usize] += u;
            }
        }
        sums
    }

    /// The CR2 sums over clusters, from the pieces S_g = Q_g'Q_g and s_g = Q_g'e_g of
    /// each cluster, by [`Self::cr2_streaming`] when a table of every cluster's pieces
    /// is small (at most [`PIECES_BUDGET`] numbers and half the size of the design),
    /// else by [`Self::cr2_gather`].
    fn cr2_sums(&self, w: &DVector<f64>, cl: &Clusters) -> StatsResult<Cr2Sums> {
        let table = cl.count().saturating_mul(piece_len(self.k));
        let budget = PIECES_BUDGET.min(self.n.saturating_mul(self.k) / 2);
        if table <= budget {
            Ok(self.cr2_streaming(w, cl, budget / table))
        } else {
            self.cr2_gather(w, cl)
        }
    }

    /// CR2 sums from one streaming pass over the rows: each part of the rows (at most
    /// `max_parts` of them, whole chunks) adds every row's qᵢqᵢ' and qᵢeᵢ to a table of
    /// all clusters' pieces; the tables are added in order, and the clusters' terms
    /// computed in parallel over fixed ranges of clusters.
    fn cr2_streaming(&self, w: &DVector<f64>, cl: &Clusters, max_parts: usize) -> Cr2Sums {
        let k = self.k;
        let len = piece_len(k);
        let chunks = self.n.div_ceil(CHUNK);
        let part = chunks.div_ceil(max_parts.clamp(1, chunks)) * CHUNK;
        let tables = self.row_pass(
            part,
            false,
            || (vec![0.0; cl.count() * len], vec![0.0; k]),
            |(table, row), q, e, _, i| {
                let b = e.len();
                for (t, (&g, &et)) in cl.codes()[i..i + b].iter().zip(e).enumerate() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = q[j * b + t];
                    }
                    let g = g as usize;
                    add_row(&mut table[g * len..(g + 1) * len], row, et);
                }
            },
        );
        let mut tables = tables.into_iter().map(|(t, _)| t);
        let mut total = tables.next().unwrap_or_default();
        for t in tables {
            total.iter_mut().zip(&t).for_each(|(a, b)| *a += b);
        }
        let ranges: Vec<std::ops::Range<usize>> = (0..cl.count())
            .step_by(CLUSTER_RANGE)
            .map(|g| g..cl.count().min(g + CLUSTER_RANGE))
            .collect();
        let parts: Vec<Cr2Sums> = ranges
            .into_par_iter()
            .map(|range| {
                let mut acc = Cr2Sums::new(k);
                for g in range {
                    let (s, qe) = unpack_piece(&total[g * len..(g + 1) * len], k);
                    acc.add(s, &qe, w);
                }
                acc
            })
            .collect();
        Cr2Sums::merge_all(k, parts)
    }

    /// CR2 sums cluster by cluster: the rows grouped by cluster (a counting sort), the
    /// rows of each cluster read in blocks and its pieces accumulated, its terms added;
    /// clusters in parallel, in ranges of about a chunk of rows, combined in order.
    /// Only one cluster's pieces exist at a time per thread.
    fn cr2_gather(&self, w: &DVector<f64>, cl: &Clusters) -> StatsResult<Cr2Sums> {
        let k = self.k;
        let n_cl = cl.count();
        let (start, rows) = super::clusters::group_rows(cl.codes(), n_cl)
            .ok_or_else(|| StatsError::Invalid("too many observations for CR2".into()))?;
        let mut ranges = Vec::new();
        let mut first = 0;
        for g in 0..n_cl {
            if start[g + 1] - start[first] >= CHUNK || g + 1 == n_cl {
                ranges.push(first..g + 1);
                first = g + 1;
            }
        }
        let d = self.design();
        let parts: Vec<Cr2Sums> = ranges
            .into_par_iter()
            .map(|range| {
                let mut acc = Cr2Sums::new(k);
                let mut q = vec![0.0; BLOCK * k];
                let mut e = vec![0.0; BLOCK];
                let mut piece = vec![0.0; piece_len(k)];
                for g in range {
                    piece.fill(0.0);
                    for idx in rows[start[g]..start[g + 1]].chunks(BLOCK) {
                        let b = idx.len();
                        let q = &mut q[..b * k];
                        for j in 0..k {
                            d.gather(j, idx, &mut q[j * b..(j + 1) * b]);
                        }
                        solve_block(&self.r, q, b);
                        let e = &mut e[..b];
                        for (v, &i) in e.iter_mut().zip(idx) {
                            *v = self.resid[i as usize];
                        }
                        add_block(&mut piece, q, e);
                    }
                    let (s, qe) = unpack_piece(&piece, k);
                    acc.add(s, &qe, w);
                }
                acc
            })
            .collect();
        Ok(Cr2Sums::merge_all(k, parts))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fit;
    use super::super::test_data::{large, toy};
    use super::*;

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

    /// The CR0/CR1 cluster sums taken a window of rows at a time are those of one
    /// pass over all rows, to the last bit, whatever the window (one chunk, two, or
    /// more than the rows), with a last window that is not full.
    #[test]
    fn contrast_sums_do_not_depend_on_the_window() {
        let n = 3 * CHUNK + 777;
        let (cols, y, g) = large(n, 50);
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let f = fit(&y, &x, true).unwrap();
        let cl = Clusters::from_labels(&g);
        let w: DVector<f64> = f.t.row(1).transpose();
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        let whole = bits(f.contrast_sums(&w, &cl, 4));
        assert_eq!(whole.len(), 50);
        for window in [1, 2, TERMS_WINDOW] {
            assert_eq!(
                bits(f.contrast_sums(&w, &cl, window)),
                whole,
                "window {window}"
            );
        }
        // The sums are the sums of (w'qᵢ)eᵢ over each cluster's rows.
        let q_w: Vec<f64> = f
            .row_pass(CHUNK, false, Vec::new, |u: &mut Vec<f64>, q, e, _, _| {
                let b = e.len();
                for r in 0..b {
                    let wq: f64 = (0..f.k).map(|j| w[j] * q[j * b + r]).sum();
                    u.push(wq * e[r]);
                }
            })
            .concat();
        let mut direct = vec![0.0; 50];
        for (&c, v) in cl.codes().iter().zip(&q_w) {
            direct[c as usize] += v;
        }
        let got = f.contrast_sums(&w, &cl, 1);
        for (a, b) in got.iter().zip(&direct) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn cr2_streaming_and_by_cluster_agree() {
        let n = CHUNK + 3000;
        let (cols, y, g) = large(n, 60);
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let f = fit(&y, &x, true).unwrap();
        let cl = Clusters::from_labels(&g);
        let w: DVector<f64> = f.t.row(1).transpose();
        let by_cluster = f.cr2_gather(&w, &cl).unwrap();
        for parts in [1, 2, 5] {
            let streamed = f.cr2_streaming(&w, &cl, parts);
            let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
            assert!(rel(streamed.var, by_cluster.var) < 1e-12);
            assert!(rel(streamed.sum_b, by_cluster.sum_b) < 1e-12);
            assert!(rel(streamed.sum_b2, by_cluster.sum_b2) < 1e-12);
            assert!(rel(streamed.sum_ba2, by_cluster.sum_ba2) < 1e-12);
            assert!(rel(streamed.sum_a2, by_cluster.sum_a2) < 1e-12);
            assert!((&streamed.aat - &by_cluster.aat).norm() < 1e-12 * by_cluster.aat.norm());
        }
    }
}
