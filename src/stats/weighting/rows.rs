//! The passes over the units that the weighting estimators share: weighted
//! cross-product matrices Σᵢ wᵢ vᵢ vᵢ' (the information of the propensity model, the
//! Hessian of the entropy-balancing dual, the bread and the meat of the stacked
//! sandwiches) and weighted sums Σᵢ wᵢ vᵢ, read in blocks of rows laid out column by
//! column.
//!
//! Order of every sum (fixed, so that results depend neither on the number of threads
//! nor on the CPU): the rows are cut into chunks of [`CHUNK`] rows, and each chunk is
//! read in blocks of [`BLOCK`] rows. Within a block a sum over rows runs in four
//! interleaved partial sums (rows r ≡ 0, 1, 2, 3 mod 4), combined as (s₀ + s₁) +
//! (s₂ + s₃), then the last r mod 4 rows are added in order; the blocks are added in
//! order into the chunk's sum, and the chunks' sums are added in chunk order. A
//! weighted product is rounded as (wᵢ·vᵢₐ)·vᵢᵦ, and no multiply-add is fused (Rust
//! never contracts floating-point operations), so the vector units of the CPU change
//! the speed only. The chunks run in parallel (rayon).

use nalgebra::DMatrix;
use rayon::prelude::*;

/// Rows per block: the length of the column buffers.
pub(crate) const BLOCK: usize = 256;
/// Rows per chunk: the unit of parallel work.
pub(crate) const CHUNK: usize = 1 << 14;

/// Run `f` on every chunk `(start, end)` of `0..n` and return the results in chunk
/// order: in parallel, or one chunk after another on this thread when not `parallel`.
pub(crate) fn map_chunks<T: Send>(
    n: usize,
    parallel: bool,
    f: impl Fn(usize, usize) -> T + Sync + Send,
) -> Vec<T> {
    let range = move |c: usize| (c * CHUNK, n.min((c + 1) * CHUNK));
    let count = n.div_ceil(CHUNK);
    if parallel {
        (0..count)
            .into_par_iter()
            .map(|c| {
                let (a, b) = range(c);
                f(a, b)
            })
            .collect()
    } else {
        (0..count)
            .map(|c| {
                let (a, b) = range(c);
                f(a, b)
            })
            .collect()
    }
}

/// The blocks `(start, len)` of rows `start..end`, in order.
pub(crate) fn blocks(start: usize, end: usize) -> impl Iterator<Item = (usize, usize)> {
    (start..end)
        .step_by(BLOCK)
        .map(move |b| (b, BLOCK.min(end - b)))
}

/// A block of `p` vectors over up to [`BLOCK`] rows, column by column.
pub(crate) struct Block {
    data: Vec<f64>,
    p: usize,
    len: usize,
}

impl Block {
    pub(crate) fn new(p: usize) -> Self {
        Self {
            data: vec![0.0; p * BLOCK],
            p,
            len: 0,
        }
    }
    /// Set the number of rows (at most [`BLOCK`]).
    pub(crate) fn set_len(&mut self, len: usize) {
        debug_assert!(len <= BLOCK);
        self.len = len;
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn col(&self, j: usize) -> &[f64] {
        &self.data[j * BLOCK..j * BLOCK + self.len]
    }
    pub(crate) fn col_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.data[j * BLOCK..j * BLOCK + self.len]
    }
}

/// The design of the propensity and outcome models as the passes read it: an
/// intercept, then every covariate centred at `centre` and multiplied by `inv_scale`
/// (the reciprocal of its standard deviation), computed block by block from the columns
/// in place (nothing of size n×k is stored).
pub(crate) struct Standardised<'a> {
    x: &'a [&'a [f64]],
    pub(crate) centre: Vec<f64>,
    pub(crate) inv_scale: Vec<f64>,
}

impl<'a> Standardised<'a> {
    /// The design with the given centres and reciprocal scales (one per column).
    pub(crate) fn new(x: &'a [&'a [f64]], centre: Vec<f64>, inv_scale: Vec<f64>) -> Self {
        assert!(centre.len() == x.len() && inv_scale.len() == x.len());
        Self {
            x,
            centre,
            inv_scale,
        }
    }
    /// Columns with the intercept.
    pub(crate) fn k(&self) -> usize {
        self.x.len() + 1
    }
    /// Fill columns `first..first + k` of `b` with rows `i0..i0 + b.len()`: the
    /// intercept (1), then (x_j − centre_j)·inv_scale_j.
    pub(crate) fn fill(&self, b: &mut Block, first: usize, i0: usize) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { self.fill_avx2(b, first, i0) };
            return;
        }
        self.fill_in(b, first, i0);
    }

    /// [`Self::fill`] compiled for AVX2 (the same operation on each value, so the
    /// same values).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn fill_avx2(&self, b: &mut Block, first: usize, i0: usize) {
        self.fill_in(b, first, i0);
    }

    #[inline(always)]
    fn fill_in(&self, b: &mut Block, first: usize, i0: usize) {
        let len = b.len();
        b.col_mut(first).fill(1.0);
        for (j, c) in self.x.iter().enumerate() {
            let (m, s) = (self.centre[j], self.inv_scale[j]);
            for (o, v) in b.col_mut(first + 1 + j).iter_mut().zip(&c[i0..i0 + len]) {
                *o = (v - m) * s;
            }
        }
    }
    /// The linear predictor γ'zᵣ of every row of the block (columns `first..first +
    /// k` filled by [`Self::fill`]), summed over the columns in order.
    pub(crate) fn predict(&self, b: &Block, first: usize, gamma: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { Self::predict_avx2(b, first, gamma, out) };
            return;
        }
        Self::predict_in(b, first, gamma, out);
    }

    /// [`Self::predict`] compiled for AVX2 (the same operations on each row, so the
    /// same values).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn predict_avx2(b: &Block, first: usize, gamma: &[f64], out: &mut [f64]) {
        Self::predict_in(b, first, gamma, out);
    }

    #[inline(always)]
    fn predict_in(b: &Block, first: usize, gamma: &[f64], out: &mut [f64]) {
        let out = &mut out[..b.len()];
        out.fill(gamma[0]);
        for (j, g) in gamma.iter().enumerate().skip(1) {
            for (o, z) in out.iter_mut().zip(b.col(first + j)) {
                *o += g * z;
            }
        }
    }
}

/// The upper triangle (diagonal included) of a symmetric p×p sum Σᵢ wᵢ vᵢ vᵢ', row by
/// row; the entries below the diagonal are unused.
#[derive(Debug, Clone)]
pub(crate) struct Cross {
    p: usize,
    s: Vec<f64>,
}

impl Cross {
    pub(crate) fn new(p: usize) -> Self {
        Self {
            p,
            s: vec![0.0; p * p],
        }
    }

    /// Add Σ_r w_r v_r v_r' over the rows of `b` (all `p` columns; unit weights when
    /// `w` is `None`). `tmp` is scratch of at least the block's length.
    pub(crate) fn add(&mut self, b: &Block, w: Option<&[f64]>, tmp: &mut [f64]) {
        assert_eq!(b.p, self.p);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { cross_add_avx2(&mut self.s, b, w, tmp) };
            return;
        }
        cross_add(&mut self.s, b, w, tmp);
    }

    /// Add another sum of the same size (entrywise, `other` second).
    pub(crate) fn merge(&mut self, other: &Cross) {
        for (a, b) in self.s.iter_mut().zip(&other.s) {
            *a += b;
        }
    }

    /// Entry (a, b) with a ≤ b.
    #[cfg(test)]
    pub(crate) fn get(&self, a: usize, b: usize) -> f64 {
        debug_assert!(a <= b);
        self.s[a * self.p + b]
    }

    /// The full symmetric matrix.
    pub(crate) fn to_matrix(&self) -> DMatrix<f64> {
        let p = self.p;
        DMatrix::from_fn(p, p, |a, b| {
            if a <= b {
                self.s[a * p + b]
            } else {
                self.s[b * p + a]
            }
        })
    }
}

/// Sum the chunks' results in chunk order (the first one taken as it is).
pub(crate) fn merge_all(parts: Vec<Cross>) -> Option<Cross> {
    let mut it = parts.into_iter();
    let mut first = it.next()?;
    for c in it {
        first.merge(&c);
    }
    Some(first)
}

/// Add Σ_r w_r v_r over the rows of the block: `s[j] += Σ_r w_r · col_j[r]`.
pub(crate) fn add_sums(s: &mut [f64], b: &Block, w: &[f64]) {
    for (j, sj) in s.iter_mut().enumerate() {
        *sj += dot(w, b.col(j));
    }
}

/// Sum of a slice in the order of the module documentation.
pub(crate) fn sum(a: &[f64]) -> f64 {
    let (c, tail) = a.as_chunks::<4>();
    let mut s = [0.0; 4];
    for x in c {
        for m in 0..4 {
            s[m] += x[m];
        }
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for v in tail {
        t += v;
    }
    t
}

/// Σ aᵣbᵣ in the order of the module documentation.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let (ca, ta) = a.as_chunks::<4>();
    let (cb, tb) = b.as_chunks::<4>();
    let mut s = [0.0; 4];
    for (x, y) in ca.iter().zip(cb) {
        for m in 0..4 {
            s[m] += x[m] * y[m];
        }
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for (x, y) in ta.iter().zip(tb) {
        t += x * y;
    }
    t
}

/// `N` dot products of `u` with `c[0..N]` at once, each in the order of [`dot`]: one
/// pass over `u` for `N` entries of a row of the cross-product.
#[inline(always)]
fn dots<const N: usize>(u: &[f64], c: [&[f64]; N]) -> [f64; N] {
    let n = u.len();
    let (cu, tu) = u.as_chunks::<4>();
    let m = cu.len();
    let cc = c.map(|v| &v[..n].as_chunks::<4>().0[..m]);
    let mut s = [[0.0; 4]; N];
    for q in 0..m {
        let x = cu[q];
        for e in 0..N {
            let y = cc[e][q];
            for l in 0..4 {
                s[e][l] += x[l] * y[l];
            }
        }
    }
    finish_dots(s, tu, c, 4 * m)
}

/// The end of [`dots`]: each entry's four partial sums combined as (s₀ + s₁) + (s₂ +
/// s₃), then the rows from `from` on (fewer than four) added in order.
#[inline(always)]
fn finish_dots<const N: usize>(
    s: [[f64; 4]; N],
    tail: &[f64],
    c: [&[f64]; N],
    from: usize,
) -> [f64; N] {
    std::array::from_fn(|e| {
        let mut t = (s[e][0] + s[e][1]) + (s[e][2] + s[e][3]);
        for (r, x) in tail.iter().enumerate() {
            t += x * c[e][from + r];
        }
        t
    })
}

/// [`dots`] with AVX2 registers: each entry's four partial sums are the four lanes of
/// one register, so the arithmetic is that of [`dots`] lane by lane (a multiply, then
/// an add; nothing fused), and the result is the same to the last bit. Written out
/// because the compiler vectorised [`dots`] across the entries instead of the rows,
/// with a shuffle for every multiply; this runs about N independent adds per step.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn dots_avx2<const N: usize>(u: &[f64], c: [&[f64]; N]) -> [f64; N] {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_setzero_pd, _mm256_storeu_pd,
    };
    let n = u.len();
    assert!(c.iter().all(|v| v.len() >= n));
    let m = n / 4;
    let mut acc: [__m256d; N] = [_mm256_setzero_pd(); N];
    for q in 0..m {
        // SAFETY: rows 4q..4q + 4 lie within `u` (4m ≤ n) and within every column
        // (checked above to hold at least n rows); loads need no alignment.
        unsafe {
            let x = _mm256_loadu_pd(u.as_ptr().add(4 * q));
            for e in 0..N {
                let y = _mm256_loadu_pd(c[e].as_ptr().add(4 * q));
                acc[e] = _mm256_add_pd(acc[e], _mm256_mul_pd(x, y));
            }
        }
    }
    let s: [[f64; 4]; N] = std::array::from_fn(|e| {
        let mut lanes = [0.0; 4];
        // SAFETY: `lanes` holds four f64.
        unsafe { _mm256_storeu_pd(lanes.as_mut_ptr(), acc[e]) };
        lanes
    });
    finish_dots(s, &u[4 * m..], c, 4 * m)
}

/// The rows of the block weighted for row `a` of the cross-product: wᵣ·vᵣₐ in `tmp`,
/// or column `a` itself without weights.
#[inline(always)]
fn weighted<'t>(b: &'t Block, a: usize, w: Option<&[f64]>, tmp: &'t mut [f64]) -> &'t [f64] {
    let ca = b.col(a);
    match w {
        Some(w) => {
            let tmp = &mut tmp[..ca.len()];
            for ((t, &wi), &v) in tmp.iter_mut().zip(&w[..ca.len()]).zip(ca) {
                *t = wi * v;
            }
            tmp
        }
        None => ca,
    }
}

/// Add Σ_r w_r v_r v_r' over the rows of block `$b` to the upper triangle `$s`, with
/// `$dots::<N>` computing `N` entries of a row at a time: eight, then four, then two,
/// then one. (A macro, so that the AVX2 version calls its kernel from a function
/// compiled for AVX2.)
macro_rules! cross_rows {
    ($s:expr, $b:expr, $w:expr, $tmp:expr, $dots:ident) => {{
        let (s, b): (&mut [f64], &Block) = ($s, $b);
        let p = b.p;
        for a in 0..p {
            let u = weighted(b, a, $w, $tmp);
            let row = &mut s[a * p..(a + 1) * p];
            let mut put = |j: usize, d: &[f64]| {
                for (e, v) in d.iter().enumerate() {
                    row[j + e] += v;
                }
            };
            let mut j = a;
            while j + 8 <= p {
                put(j, &$dots::<8>(u, std::array::from_fn(|e| b.col(j + e))));
                j += 8;
            }
            if j + 4 <= p {
                put(j, &$dots::<4>(u, std::array::from_fn(|e| b.col(j + e))));
                j += 4;
            }
            if j + 2 <= p {
                put(j, &$dots::<2>(u, std::array::from_fn(|e| b.col(j + e))));
                j += 2;
            }
            if j < p {
                put(j, &$dots::<1>(u, [b.col(j)]));
            }
        }
    }};
}

#[inline(always)]
fn cross_add(s: &mut [f64], b: &Block, w: Option<&[f64]>, tmp: &mut [f64]) {
    cross_rows!(s, b, w, tmp, dots);
}

/// [`cross_add`] with the AVX2 dot products ([`dots_avx2`]); the same result to the
/// last bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn cross_add_avx2(s: &mut [f64], b: &Block, w: Option<&[f64]>, tmp: &mut [f64]) {
    cross_rows!(s, b, w, tmp, dots_avx2);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked cross-product equals the plain triple loop to rounding, on both
    /// the AVX2 and the portable path, for every remainder of the row count.
    #[test]
    fn cross_matches_the_plain_sum() {
        for n in [1usize, 3, 4, 7, 61, 256] {
            for p in [1usize, 2, 3, 5, 8, 11, 13, 16] {
                let mut b = Block::new(p);
                b.set_len(n);
                let w: Vec<f64> = (0..n).map(|r| 0.5 + ((r * 7) % 5) as f64 / 3.0).collect();
                for r in 0..n {
                    for j in 0..p {
                        b.col_mut(j)[r] = ((r * 13 + j * 29) % 17) as f64 / 4.0 - 2.0;
                    }
                }
                let mut tmp = vec![0.0; BLOCK];
                let mut c = Cross::new(p);
                c.add(&b, Some(&w), &mut tmp);
                let mut portable = vec![0.0; p * p];
                cross_add(&mut portable, &b, Some(&w), &mut tmp);
                for x in 0..p {
                    for y in x..p {
                        let want: f64 = (0..n).map(|r| w[r] * b.col(x)[r] * b.col(y)[r]).sum();
                        let got = c.get(x, y);
                        assert!(
                            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                            "n {n} p {p} ({x},{y}): {got} vs {want}"
                        );
                        assert_eq!(got.to_bits(), portable[x * p + y].to_bits());
                    }
                }
            }
        }
    }
}
