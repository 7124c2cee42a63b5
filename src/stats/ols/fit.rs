//! The OLS fit: coefficients, residuals and the R factor that every standard error
//! reads, with the pass over the rows of Q that the standard errors share.
//!
//! # Streaming tall-skinny QR
//!
//! The fit never forms the normal equations and never copies the design: it reads the
//! columns in place. With an intercept every regressor and y are first centred at
//! their means (one parallel pass); centring subtracts a multiple of the intercept
//! column, an earlier column, so it changes neither the fitted values nor the
//! orthonormal factor Q, but it removes the near-collinearity of a column like a
//! calendar year with the intercept from the factorisation (on NIST Longley the
//! coefficients and standard errors agree with the certified values to 14 significant
//! digits or more, against 10.8 for a Householder QR of the uncentred design).
//!
//! The R factor of the centred [X̃ ỹ] then comes from one parallel pass of tall-skinny
//! QR (TSQR; Demmel, Grigori, Hoemmen & Langou 2012, "Communication-optimal parallel
//! and sequential QR and LU factorizations", *SIAM J. Sci. Comput.* 34(1)): the rows
//! are cut into fixed chunks, each chunk is read in blocks of a few hundred rows, and
//! the Householder QR (nalgebra) of each block stacked under the chunk's running R
//! gives the new R; the R factors of the chunks are combined in chunk order by QR of
//! the stacked [R_a; R_b]. The chunks do not depend on the number of threads, so the
//! result does not either. With y as the last column, the last column of R holds Q'ỹ
//! above the diagonal and √RSS on it, so β̃ = R̃⁻¹Q'ỹ and the RSS come out of the same
//! factor; the coefficients on the original columns follow by undoing the centring.
//! The collinearity rule reads the diagonal of R̃ (which centring leaves unchanged)
//! against the column norms, summed in the same pass. A last pass computes the
//! residuals eᵢ = yᵢ − xᵢ'β (in centred form).

use std::borrow::Cow;

use nalgebra::DMatrix;
use rayon::prelude::*;

use super::{BLOCK, CHUNK};
use crate::stats::{StatsError, StatsResult, above};

/// A column whose part not explained by the earlier columns is below this fraction of
/// its norm is collinear.
const COLLINEAR: f64 = 1e-9;

/// A fitted OLS model. It keeps the regressor columns (borrowed for `'a`, or owned:
/// [`fit_owned`]) because the inference passes recompute the rows of Q from them; it
/// keeps nothing of size n×k.
#[derive(Debug, Clone)]
pub struct OlsFit<'a> {
    pub(super) n: usize,
    pub(super) k: usize,
    intercept: bool,
    /// The regressor columns, without the intercept.
    x: Vec<Cow<'a, [f64]>>,
    /// The value each design column is centred at (0 for the intercept, and for every
    /// column without an intercept).
    shift: Vec<f64>,
    /// R̃: the R factor of the centred design (k×k, upper triangular, positive diagonal).
    pub(super) r: DMatrix<f64>,
    /// T = M R̃⁻¹, the inverse R factor of the design as given (k×k, upper triangular),
    /// so that V = T B Tᵀ for a meat B in Q-space.
    pub(super) t: DMatrix<f64>,
    pub(super) coef: Vec<f64>,
    pub(super) resid: Vec<f64>,
    pub(super) rss: f64,
}

/// Fit y on the columns `x` (an intercept is added first when `intercept`). The fit
/// borrows the columns, which its inference methods read again.
///
/// Fails with [`StatsError::Collinear`] naming the first design column (0-based, the
/// intercept counted) whose part not explained by the earlier columns is below 1e-9 of
/// its own norm: a constant covariate, or one that is a linear combination of others.
pub fn fit<'a>(y: &[f64], x: &[&'a [f64]], intercept: bool) -> StatsResult<OlsFit<'a>> {
    fit_columns(
        Cow::Borrowed(y),
        x.iter().map(|c| Cow::Borrowed(*c)).collect(),
        intercept,
    )
}

/// As [`fit`], for columns the fit is to own (columns built for the regression, such
/// as demeaned or interacted ones); they are moved, not copied. An outcome given by
/// value (a `Vec`) becomes the residuals in place, which saves a column of memory.
pub fn fit_owned<'y>(
    y: impl Into<Cow<'y, [f64]>>,
    x: Vec<Vec<f64>>,
    intercept: bool,
) -> StatsResult<OlsFit<'static>> {
    fit_columns(y.into(), x.into_iter().map(Cow::Owned).collect(), intercept)
}

/// The design as the passes read it: column j of X̃ is `cols[j]` minus `shift[j]`, or
/// all ones where `cols[j]` is `None` (the intercept).
pub(super) struct Design<'s> {
    cols: Vec<Option<&'s [f64]>>,
    shift: &'s [f64],
}

impl Design<'_> {
    fn k(&self) -> usize {
        self.cols.len()
    }

    /// Rows i0..i0+out.len() of centred column j.
    fn fill(&self, j: usize, i0: usize, out: &mut [f64]) {
        match self.cols[j] {
            None => out.fill(1.0),
            Some(c) => {
                let s = self.shift[j];
                let b = out.len();
                for (o, v) in out.iter_mut().zip(&c[i0..i0 + b]) {
                    *o = v - s;
                }
            }
        }
    }

    /// The given rows of centred column j.
    pub(super) fn gather(&self, j: usize, rows: &[u32], out: &mut [f64]) {
        match self.cols[j] {
            None => out.fill(1.0),
            Some(c) => {
                let s = self.shift[j];
                for (o, &i) in out.iter_mut().zip(rows) {
                    *o = c[i as usize] - s;
                }
            }
        }
    }

    /// Σ x² over rows i0..i1 of column j as given (not centred).
    fn sum_sq(&self, j: usize, i0: usize, i1: usize) -> f64 {
        match self.cols[j] {
            None => (i1 - i0) as f64,
            Some(c) => dot(&c[i0..i1], &c[i0..i1]),
        }
    }
}

/// The chunks of 0..n, in order.
fn chunks(n: usize) -> impl IndexedParallelIterator<Item = (usize, usize)> {
    (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(move |c| (c * CHUNK, n.min((c + 1) * CHUNK)))
}

/// Mean of a column, summed by chunks.
fn mean(c: &[f64]) -> f64 {
    let parts: Vec<f64> = c.par_chunks(CHUNK).map(sum).collect();
    parts.iter().sum::<f64>() / c.len() as f64
}

/// R factor of the stacked [a; b] (both p×p).
fn stack_r(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    let p = a.ncols();
    let mut m = DMatrix::zeros(2 * p, p);
    m.rows_mut(0, p).copy_from(a);
    m.rows_mut(p, p).copy_from(b);
    m.qr().r()
}

/// Rows of the design per [`householder_update`]: 256 rows of 12 columns (25 KB) stay
/// in a core's first-level cache while each column is read and written twice.
const UPDATE_ROWS: usize = 256;

/// Sequential TSQR of rows i0..i1: the R factor (p×p) of those rows of the design,
/// updated by each block of rows in turn ([`householder_update`]); and Σx² of each
/// column as given.
fn chunk_r(d: &Design, i0: usize, i1: usize) -> (DMatrix<f64>, Vec<f64>) {
    let p = d.k();
    // R column-major, its upper triangle in use; zero rows are no rows.
    let mut r = vec![0.0; p * p];
    let mut sq = vec![0.0; p];
    let mut block = vec![0.0; p * UPDATE_ROWS];
    let mut i = i0;
    while i < i1 {
        let b = UPDATE_ROWS.min(i1 - i);
        let data = &mut block[..p * b];
        for (j, s) in sq.iter_mut().enumerate() {
            d.fill(j, i, &mut data[j * b..(j + 1) * b]);
            *s += d.sum_sq(j, i, i + b);
        }
        householder_update(&mut r, data, p, b);
        i += b;
    }
    (DMatrix::from_column_slice(p, p, &r), sq)
}

/// The R factor of [R; B] in place of R (p×p, column-major, upper triangular), by
/// Householder reflections that use the zeros of R: `b` holds the block B column by
/// column (`len` rows each) and is overwritten.
///
/// The reflection of column i acts on row i of R and the rows of B only, since below
/// its diagonal column i of R is zero: with x = (R_ii, B_·i), α = −sign(R_ii)‖x‖ and
/// v = (R_ii − α, B_·i), every later column c = (R_ij, B_·j) becomes c − (2v'c/v'v)v,
/// and R_ii becomes α (Golub & Van Loan 2013, *Matrix Computations*, 4th ed., §5.1.3
/// and §5.2.2; the update of an R factor by new rows, §6.5.3). This is the
/// Householder QR of the stacked matrix, as nalgebra's `QR` computes it on
/// [R; B] (test `update_gives_the_r_of_the_stacked_block`: the same R up to the signs
/// of its rows, to rounding), without forming the stacked matrix: nalgebra's QR of
/// each block of 512 rows stacked under R, with its three allocations a block, took
/// 0.07 s of CPU for 10^6 rows and 12 columns, this 0.05 s.
///
/// On AVX2 processors the same operations run on vectors of four (the dot products'
/// sixteen partial sums lane by lane), so the result is the same to the bit (test
/// `update_paths_agree_to_the_bit`).
fn householder_update(r: &mut [f64], b: &mut [f64], p: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { householder_update_avx2(r, b, p, len) };
        return;
    }
    householder_update_in(r, b, p, len);
}

/// [`householder_update`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn householder_update_avx2(r: &mut [f64], b: &mut [f64], p: usize, len: usize) {
    householder_update_in(r, b, p, len);
}

#[inline(always)]
fn householder_update_in(r: &mut [f64], b: &mut [f64], p: usize, len: usize) {
    for i in 0..p {
        let (done, rest) = b.split_at_mut((i + 1) * len);
        let v = &done[i * len..];
        let sigma = dot16(v, v);
        if sigma == 0.0 {
            // Nothing below the diagonal: the column is already triangular.
            continue;
        }
        let x0 = r[i + i * p];
        let norm = (x0 * x0 + sigma).sqrt();
        let alpha = if x0 >= 0.0 { -norm } else { norm };
        let v0 = x0 - alpha;
        let tau = 2.0 / (v0 * v0 + sigma);
        r[i + i * p] = alpha;
        for (j, c) in rest.chunks_exact_mut(len).enumerate() {
            let j = i + 1 + j;
            let f = tau * (v0 * r[i + j * p] + dot16(v, c));
            r[i + j * p] -= f * v0;
            for (cr, vr) in c.iter_mut().zip(v) {
                *cr -= f * vr;
            }
        }
    }
}

/// Σ aᵣbᵣ with sixteen partial sums (lane r mod 16), added pairwise at the end: so
/// that the products are summed four vectors at a time.
#[inline(always)]
fn dot16(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0; 16];
    let (ca, ta) = a.as_chunks::<16>();
    let (cb, tb) = b.as_chunks::<16>();
    for (x, y) in ca.iter().zip(cb) {
        for m in 0..16 {
            s[m] += x[m] * y[m];
        }
    }
    for (m, (x, y)) in ta.iter().zip(tb).enumerate() {
        s[m] += x * y;
    }
    let mut w = 16;
    while w > 1 {
        w /= 2;
        for m in 0..w {
            s[m] += s[m + w];
        }
    }
    s[0]
}

/// [`fit`] on columns that are borrowed or owned.
fn fit_columns<'a>(
    y: Cow<'_, [f64]>,
    x: Vec<Cow<'a, [f64]>>,
    intercept: bool,
) -> StatsResult<OlsFit<'a>> {
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
    // Design columns (`None` for the intercept), then y; centred at their means when
    // there is an intercept.
    let x_cols: Vec<Option<&[f64]>> = intercept
        .then_some(None)
        .into_iter()
        .chain(x.iter().map(|c| Some(&**c)))
        .collect();
    let mut cols = Vec::with_capacity(k + 1);
    cols.extend_from_slice(&x_cols);
    cols.push(Some(&*y));
    let shift: Vec<f64> = cols
        .iter()
        .map(|c| match c {
            Some(c) if intercept => mean(c),
            _ => 0.0,
        })
        .collect();
    let d = Design {
        cols,
        shift: &shift,
    };

    // TSQR: chunks in parallel, their R factors combined in chunk order.
    let parts: Vec<(DMatrix<f64>, Vec<f64>)> =
        chunks(n).map(|(i0, i1)| chunk_r(&d, i0, i1)).collect();
    let mut sq = vec![0.0; k + 1];
    let mut full: Option<DMatrix<f64>> = None;
    for (r, s) in parts {
        sq.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
        full = Some(match full {
            None => r,
            Some(acc) => stack_r(&acc, &r),
        });
    }
    let mut full = full.ok_or(StatsError::TooFew {
        needed: k + 1,
        got: n,
    })?;
    // Rows with a positive diagonal (a row of R times −1 is a column of Q times −1:
    // the same factorisation).
    for i in 0..=k {
        if full[(i, i)] < 0.0 {
            full.row_mut(i).neg_mut();
        }
    }
    let r = full.view((0, 0), (k, k)).into_owned();
    for j in 0..k {
        if !above(r[(j, j)].abs(), COLLINEAR * sq[j].sqrt()) {
            return Err(StatsError::Collinear { index: j });
        }
    }
    let qty = full.view((0, k), (k, 1)).into_owned();
    let rss = full[(k, k)] * full[(k, k)];
    let r_inv = r
        .solve_upper_triangular(&DMatrix::identity(k, k))
        .ok_or(StatsError::Collinear { index: k - 1 })?;
    let beta_c = r
        .solve_upper_triangular(&qty)
        .ok_or(StatsError::Collinear { index: k - 1 })?;

    // Undo the centring: X̃ = XM with M = I except M_0j = −c_j, so β = Mβ̃ (and the
    // intercept takes back the mean of y), and R⁻¹ = M R̃⁻¹.
    let mut coef: Vec<f64> = beta_c.iter().copied().collect();
    let mut t = r_inv.clone();
    if intercept {
        coef[0] += shift[k];
        for j in 1..k {
            coef[0] -= shift[j] * beta_c[j];
            for c in j..k {
                t[(0, c)] -= shift[j] * r_inv[(j, c)];
            }
        }
    }

    // Residuals ỹ − X̃β̃ = y − Xβ, in the outcome's own buffer when the fit owns it
    // (the same operations as from a copy: ỹ = y − its shift, then each column).
    drop(d);
    let mut resid = y.into_owned();
    let y_shift = shift[k];
    resid.par_chunks_mut(CHUNK).enumerate().for_each(|(c, e)| {
        let i0 = c * CHUNK;
        e.iter_mut().for_each(|v| *v -= y_shift);
        for j in 0..k {
            let b = beta_c[j];
            match x_cols[j] {
                None => e.iter_mut().for_each(|v| *v -= b),
                Some(col) => {
                    let s = shift[j];
                    for (v, x) in e.iter_mut().zip(&col[i0..]) {
                        *v -= b * (x - s);
                    }
                }
            }
        }
    });
    Ok(OlsFit {
        n,
        k,
        intercept,
        x,
        shift: shift[..k].to_vec(),
        r,
        t,
        coef,
        resid,
        rss,
    })
}

/// Solve R̃ᵀqᵢ = x̃ᵢ for every row of a block at once: on entry `q` holds the block's
/// centred design columns (column-major, `b` rows), on exit its rows of Q. Column j
/// is (x̃_j − Σ_{l<j} R̃_lj q_l) / R̃_jj, the forward substitution of each row.
pub(super) fn solve_block(r: &DMatrix<f64>, q: &mut [f64], b: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { solve_block_avx2(r, q, b) };
        return;
    }
    solve_block_in(r, q, b);
}

/// [`solve_block`] compiled for AVX2 (the same operations on each row, so the same
/// values).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn solve_block_avx2(r: &DMatrix<f64>, q: &mut [f64], b: usize) {
    solve_block_in(r, q, b);
}

#[inline(always)]
fn solve_block_in(r: &DMatrix<f64>, q: &mut [f64], b: usize) {
    for j in 0..r.ncols() {
        let (done, rest) = q.split_at_mut(j * b);
        let col = &mut rest[..b];
        for l in 0..j {
            let rlj = r[(l, j)];
            for (c, ql) in col.iter_mut().zip(&done[l * b..(l + 1) * b]) {
                *c -= rlj * ql;
            }
        }
        let d = r[(j, j)];
        col.iter_mut().for_each(|c| *c /= d);
    }
}

/// Sum with four partial sums (so that it vectorises).
fn sum(a: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    let c = a.chunks_exact(4);
    let tail: f64 = c.remainder().iter().sum();
    for x in c {
        for m in 0..4 {
            s[m] += x[m];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// Dot product with four partial sums (so that it vectorises).
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for m in 0..4 {
            s[m] += x[m] * y[m];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

impl OlsFit<'_> {
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

    /// The residuals, moved out of the fit.
    pub fn into_residuals(self) -> Vec<f64> {
        self.resid
    }
    pub fn rss(&self) -> f64 {
        self.rss
    }

    pub(super) fn design(&self) -> Design<'_> {
        let mut cols = Vec::with_capacity(self.k);
        if self.intercept {
            cols.push(None);
        }
        cols.extend(self.x.iter().map(|c| Some(&**c)));
        Design {
            cols,
            shift: &self.shift,
        }
    }

    /// One parallel pass over the rows in blocks, in parts of `part` rows (a multiple
    /// of [`CHUNK`]): `f(acc, q, e, h, i)` gets a block's rows of Q (column-major),
    /// residuals and leverages (an empty slice unless `leverages`), and the index of
    /// its first row. Returns the accumulators of the parts, in order.
    pub(super) fn row_pass<A: Send>(
        &self,
        part: usize,
        leverages: bool,
        init: impl Fn() -> A + Sync,
        f: impl Fn(&mut A, &[f64], &[f64], &[f64], usize) + Sync,
    ) -> Vec<A> {
        self.row_pass_in(0..self.n, part, leverages, init, f)
    }

    /// [`Self::row_pass`] over the rows `rows` only (which start at a multiple of
    /// `part`), in parts of `part` rows.
    pub(super) fn row_pass_in<A: Send>(
        &self,
        rows: std::ops::Range<usize>,
        part: usize,
        leverages: bool,
        init: impl Fn() -> A + Sync,
        f: impl Fn(&mut A, &[f64], &[f64], &[f64], usize) + Sync,
    ) -> Vec<A> {
        let (first, n) = (rows.start, rows.end);
        (0..(n - first).div_ceil(part))
            .into_par_iter()
            .map(|p| {
                let part = first + p * part..n.min(first + (p + 1) * part);
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { self.part_pass_avx2(part, leverages, &init, &f) };
                }
                self.part_pass(part, leverages, &init, &f)
            })
            .collect()
    }

    /// [`Self::part_pass`] compiled for AVX2, `f` with it where the compiler inlines it
    /// (the same operations on each row, so the same values).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn part_pass_avx2<A>(
        &self,
        rows: std::ops::Range<usize>,
        leverages: bool,
        init: &impl Fn() -> A,
        f: &impl Fn(&mut A, &[f64], &[f64], &[f64], usize),
    ) -> A {
        self.part_pass(rows, leverages, init, f)
    }

    /// The pass of [`Self::row_pass_in`] over one part of the rows, block by block.
    #[inline(always)]
    fn part_pass<A>(
        &self,
        rows: std::ops::Range<usize>,
        leverages: bool,
        init: &impl Fn() -> A,
        f: &impl Fn(&mut A, &[f64], &[f64], &[f64], usize),
    ) -> A {
        let d = self.design();
        let k = self.k;
        let mut acc = init();
        let mut q = vec![0.0; BLOCK * k];
        let mut h = vec![0.0; BLOCK];
        let mut i = rows.start;
        while i < rows.end {
            let b = BLOCK.min(rows.end - i);
            let q = &mut q[..b * k];
            for j in 0..k {
                d.fill(j, i, &mut q[j * b..(j + 1) * b]);
            }
            solve_block_in(&self.r, q, b);
            let h = &mut h[..if leverages { b } else { 0 }];
            h.fill(0.0);
            if leverages {
                for qj in q.chunks_exact(b) {
                    for (hi, v) in h.iter_mut().zip(qj) {
                        *hi += v * v;
                    }
                }
            }
            f(&mut acc, q, &self.resid[i..i + b], h, i);
            i += b;
        }
        acc
    }

    /// Leverages hᵢᵢ = ‖qᵢ‖², qᵢ = R̃⁻ᵀx̃ᵢ.
    pub fn leverages(&self) -> Vec<f64> {
        let parts = self.row_pass(CHUNK, true, Vec::new, |acc: &mut Vec<f64>, _, _, h, _| {
            acc.extend_from_slice(h)
        });
        parts.concat()
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DVector;

    use super::super::test_data::{large, toy};
    use super::*;
    use crate::stats::ols::{Clusters, SeType};

    /// Numbers in [−1, 1) from a linear congruential generator seeded `seed`.
    fn numbers(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
    }

    /// A p×p upper-triangular R (column-major) and a block B of `len` rows.
    fn r_and_block(p: usize, len: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut next = numbers(seed);
        let mut r = vec![0.0; p * p];
        for j in 0..p {
            for i in 0..=j {
                r[i + j * p] = next() + if i == j { 2.0 } else { 0.0 };
            }
        }
        let mut b: Vec<f64> = (0..p * len).map(|_| next()).collect();
        // A column of the block without rows below R's diagonal to reflect.
        if p > 2 {
            b[len..2 * len].fill(0.0);
        }
        (r, b)
    }

    /// The update gives the R factor of the stacked [R; B] as nalgebra's Householder
    /// QR does: the same rows up to their signs, to rounding, for blocks longer and
    /// shorter than R and a block column of zeros.
    #[test]
    fn update_gives_the_r_of_the_stacked_block() {
        for (p, len) in [(1, 1), (3, 1), (3, 2), (5, 7), (12, 256), (13, 100)] {
            let (mut r, mut b) = r_and_block(p, len, 3 + p as u64);
            let mut stacked = DMatrix::zeros(p + len, p);
            for j in 0..p {
                for i in 0..p {
                    stacked[(i, j)] = r[i + j * p];
                }
                for i in 0..len {
                    stacked[(p + i, j)] = b[i + j * len];
                }
            }
            let want = stacked.qr().r();
            householder_update(&mut r, &mut b, p, len);
            for i in 0..p {
                let sign = (r[i + i * p] * want[(i, i)]).signum();
                for j in 0..p {
                    let (got, w) = (sign * r[i + j * p], want[(i, j)]);
                    assert!(
                        (got - w).abs() <= 1e-13 * (1.0 + w.abs()),
                        "p {p}, len {len}, ({i}, {j}): {got} vs {w}"
                    );
                }
            }
        }
    }

    /// The AVX2 build of the update gives the portable build's R to the bit.
    #[test]
    fn update_paths_agree_to_the_bit() {
        for (p, len) in [(2, 3), (5, 17), (12, 256), (13, 255)] {
            let (r0, b0) = r_and_block(p, len, 7 * p as u64);
            let (mut r1, mut b1) = (r0.clone(), b0.clone());
            householder_update(&mut r1, &mut b1, p, len);
            let (mut r2, mut b2) = (r0, b0);
            householder_update_in(&mut r2, &mut b2, p, len);
            assert_eq!(
                r1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                r2.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "p {p}, len {len}"
            );
        }
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
    fn tsqr_over_chunks_matches_a_direct_qr() {
        let n = 2 * CHUNK + 777;
        let (cols, y, g) = large(n, 40);
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let f = fit(&y, &x, true).unwrap();
        // The reference: Householder QR of the whole n×k design, thin Q kept, with the
        // covariate shifted by 1000 and y by 3000 (both exact: Sterbenz), so that it is
        // well conditioned; the intercept moves by −1000 β_x − 3000.
        let k = 4;
        let mut data = vec![1.0; n];
        data.extend_from_slice(&cols[0]);
        data.extend(cols[1].iter().map(|v| v - 1000.0));
        data.extend_from_slice(&cols[2]);
        let qr = DMatrix::from_vec(n, k, data).qr();
        let (q, r) = (qr.q(), qr.r());
        let r_inv = r.solve_upper_triangular(&DMatrix::identity(k, k)).unwrap();
        let y_shifted: Vec<f64> = y.iter().map(|v| v + 3000.0).collect();
        let qty = q.tr_mul(&DVector::from_column_slice(&y_shifted));
        let mut coef = &r_inv * &qty;
        coef[0] -= 1000.0 * coef[2] + 3000.0;
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        for j in 0..k {
            assert!(
                rel(f.coefficients()[j], coef[j]) < 1e-10,
                "coefficient {j}: {} {} {}",
                f.coefficients()[j],
                coef[j],
                rel(f.coefficients()[j], coef[j])
            );
        }
        let fitted = &q * &qty;
        let resid: Vec<f64> = y_shifted
            .iter()
            .zip(fitted.iter())
            .map(|(a, b)| a - b)
            .collect();
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in f.residuals().iter().zip(&resid) {
            assert!((a - b).abs() < 1e-10 * scale);
        }
        let rss: f64 = resid.iter().map(|e| e * e).sum();
        assert!(rel(f.rss(), rss) < 1e-10);
        let h: Vec<f64> = (0..n).map(|i| q.row(i).norm_squared()).collect();
        for (a, b) in f.leverages().iter().zip(&h) {
            assert!(rel(*a, *b) < 1e-9);
        }
        // HC2 and CR1 variances of the arm coefficient, from the rows of Q.
        let w: DVector<f64> = r_inv.row(1).transpose();
        let psi: Vec<f64> = (0..n).map(|i| q.row(i).transpose().dot(&w)).collect();
        let hc2: f64 = (0..n)
            .map(|i| resid[i] * resid[i] / (1.0 - h[i]) * psi[i] * psi[i])
            .sum();
        let got = f.coef_inference(1, SeType::Hc2, None, 0.95).unwrap();
        assert!(rel(got.inference.std_error, hc2.sqrt()) < 1e-10);
        let full = f.vcov(SeType::Hc2).unwrap();
        assert!(rel(full[(1, 1)], hc2) < 1e-10);
        let cl = Clusters::from_labels(&g);
        let mut sums = vec![0.0; cl.count()];
        for (i, &c) in cl.codes().iter().enumerate() {
            sums[c as usize] += psi[i] * resid[i];
        }
        let (gf, nf) = (cl.count() as f64, n as f64);
        let cr1 = sums.iter().map(|s| s * s).sum::<f64>() * gf / (gf - 1.0) * (nf - 1.0)
            / (nf - k as f64);
        let got = f.coef_inference(1, SeType::Cr1, Some(&cl), 0.95).unwrap();
        assert!(rel(got.inference.std_error, cr1.sqrt()) < 1e-10);
    }

    #[test]
    fn owned_and_borrowed_fits_agree() {
        let (t, x, y) = toy();
        let a = fit(&y, &[&t, &x], true).unwrap();
        let b = fit_owned(&y, vec![t.clone(), x.clone()], true).unwrap();
        assert_eq!(a.coefficients(), b.coefficients());
        let se = |f: &OlsFit| f.coef_inference(2, SeType::Hc3, None, 0.95).unwrap();
        assert_eq!(se(&a), se(&b));
    }
}
