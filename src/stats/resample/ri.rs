//! Randomisation inference for a difference in means: the p-value of the sharp null
//! of no effect for any unit, from the distribution of the statistic over the
//! assignments the design could have made.
//!
//! Sources: Fisher (1935), *The Design of Experiments*; Imbens & Rubin (2015), *Causal
//! Inference*, ch. 5; Gerber & Green (2012), *Field Experiments*, §3.4. As R `ri2`
//! (`conduct_ri` with a `randomizr` declaration) and scipy `stats.permutation_test`.
//!
//! Designs ([`Design`]) and the assignments they re-draw, always with the observed
//! numbers treated:
//! - complete: m of the n units;
//! - blocked: m_b of the n_b units of each block, independently across blocks;
//! - clustered: m of the G clusters, every unit of a cluster sharing its assignment;
//! - blocked and clustered: m_b of the G_b clusters of each block.
//!
//! Statistic, the design's point estimate as R `estimatr::difference_in_means`:
//! unblocked designs use the difference of unit means, treated − control; blocked
//! designs use Σ_b (n_b/n)(ȳ_tb − ȳ_cb), block differences weighted by block size in
//! units.
//!
//! p-value (two-sided): the share of assignments with |stat*| ≥ |stat_obs| (ties within
//! [`super::TIE_RTOL`] count).
//! - When the number of possible assignments is at most `reps`, all are enumerated
//!   (the observed one among them) and p = count / number of assignments: exact, and
//!   independent of the seed, as scipy `permutation_test` with all permutations.
//! - Otherwise `reps` assignments are drawn at random (with replacement across draws)
//!   and p = (count + 1)/(reps + 1): the observed assignment is counted once, as scipy
//!   `permutation_test` does for random permutations, which makes the p-value valid
//!   (never below the chance of the observed assignment; Phipson & Smyth 2010). R `ri2`
//!   reports count/reps instead; [`RiResult`] gives the count so either can be formed.
//!
//! Draws: replicate r draws from `replicate_rng(seed, r)` block by block, in block
//! order, a uniformly random set of m_b of the block's G_b clusters (units when not
//! clustered), on cluster sums computed once (so the cost does not grow with the number
//! of units when clustered):
//! - a block with at least 256 clusters and at least an eighth of them in the smaller
//!   arm: by random bit masks, about 6 generator words per 64 clusters plus a
//!   correction of a few hundred single draws (see `draw_mask`), O(G_b / 64);
//! - any other block: the smaller of the treated and the control set, by drawing
//!   [`super::below`]`(G_b)` until it has that many distinct clusters (rejection of
//!   repeats), O(min(m_b, G_b − m_b)).
//!
//! Replicates are drawn in groups of up to 16 (`GROUP`): each replicate of the group
//! draws its assignments as above; then the sums over the bit masks are taken for the
//! whole group in one pass over the cluster totals (`sweep_masks`), each stretch of
//! totals read once for all of them. Every replicate's sums are those it would have on
//! its own, bit for bit; the grouping only saves memory traffic when the totals do not
//! fit in cache.
//!
//! Enumeration order: the assignments of each block are its combinations in
//! lexicographic order; assignment r takes block 0's combination r mod C₀, block 1's
//! (r / C₀) mod C₁, and so on.

use serde::Serialize;

use super::super::ols::Clusters;
use super::super::{StatsError, StatsResult};
use super::{
    ResampleOptions, at_least_as_extreme, below, par_fill, par_fill_chunks, replicate_rng,
};

/// How treatment was assigned.
#[derive(Debug, Clone, Copy)]
pub enum Design<'a> {
    /// Complete randomisation of units.
    Complete,
    /// Complete randomisation of units within each block.
    Blocked(&'a Clusters),
    /// Complete randomisation of whole clusters.
    Clustered(&'a Clusters),
    /// Complete randomisation of whole clusters within each block; clusters must nest
    /// in blocks.
    BlockedClustered {
        blocks: &'a Clusters,
        clusters: &'a Clusters,
    },
}

/// A randomisation-inference p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiResult {
    /// The statistic on the observed assignment (the design's difference in means).
    pub estimate: f64,
    pub p_value: f64,
    /// Number of assignments (enumerated or drawn) with |stat*| ≥ |estimate|.
    pub n_extreme: u64,
    /// Number of assignments enumerated or drawn.
    pub reps: u64,
    /// Whether all possible assignments were enumerated.
    pub exact: bool,
    /// Number of possible assignments (a float; exact below 2⁵³).
    pub assignments: f64,
}

/// The statistic over re-randomised assignments.
#[derive(Debug, Clone, PartialEq)]
pub struct NullDistribution {
    /// The statistic on the observed assignment.
    pub observed: f64,
    /// The statistic on each enumerated or drawn assignment, in draw order.
    pub values: Vec<f64>,
    pub exact: bool,
    pub assignments: f64,
}

impl NullDistribution {
    /// The p-value with the conventions of the module docs.
    pub fn test(&self) -> RiResult {
        let n_extreme = self
            .values
            .iter()
            .filter(|&&v| at_least_as_extreme(v, self.observed))
            .count() as u64;
        let reps = self.values.len() as u64;
        let p_value = if self.exact {
            n_extreme as f64 / reps as f64
        } else {
            (n_extreme + 1) as f64 / (reps + 1) as f64
        };
        RiResult {
            estimate: self.observed,
            p_value,
            n_extreme,
            reps,
            exact: self.exact,
            assignments: self.assignments,
        }
    }
}

/// One block: its clusters are `start..end` of the cluster arrays, `treated` of them
/// treated in the data.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
    treated: usize,
    /// Outcome total and units of the block.
    total: f64,
    units: f64,
    /// Whether random assignments are drawn by bit masks (see [`draw_mask`]); such
    /// a block starts on a multiple of 64.
    bitmask: bool,
}

impl Block {
    fn size(&self) -> usize {
        self.end - self.start
    }
}

/// Cluster totals grouped by block.
struct Layout {
    /// Outcome sum of each cluster, clusters grouped by block.
    sums: Vec<f64>,
    /// Units in each cluster.
    sizes: Vec<f64>,
    /// Whether each cluster is treated in the data.
    treated: Vec<bool>,
    blocks: Vec<Block>,
    weighted: bool,
    units: f64,
    /// Whether every cluster has one unit (no clusters), so that the treated units of
    /// an assignment are the number of treated clusters.
    unit_sizes: bool,
}

impl Layout {
    fn new(y: &[f64], treated: &[bool], design: &Design) -> StatsResult<Self> {
        let n = y.len();
        let (blocks, clusters, weighted) = checked_design(y, treated, design)?;
        let per = ClusterTotals::of(y, treated, blocks, clusters)?;
        let n_blocks = blocks.map_or(1, Clusters::count);
        let (mut blocks_out, mut next, len) = block_layout(&per, n_blocks);
        let mut sums = vec![0.0; len];
        let mut sizes = vec![0.0; len];
        let mut arms = vec![false; len];
        for c in 0..per.sum.len() {
            let b = per.block_of[c] as usize;
            let pos = next[b];
            next[b] += 1;
            sums[pos] = per.sum[c];
            sizes[pos] = per.size[c];
            arms[pos] = per.arm[c];
            let blk = &mut blocks_out[b];
            blk.total += per.sum[c];
            blk.units += per.size[c];
        }
        let what = if clusters.is_some() {
            "clusters"
        } else {
            "units"
        };
        for blk in &blocks_out {
            if blk.treated == 0 || blk.treated == blk.size() {
                return Err(StatsError::Invalid(format!(
                    "a {} has {} treated of {} {what}: each needs treated and control {what}",
                    if blocks.is_some() { "block" } else { "sample" },
                    blk.treated,
                    blk.size()
                )));
            }
            if u32::try_from(blk.size()).is_err() {
                return Err(StatsError::Invalid(format!("more than 2^32 {what}")));
            }
        }
        Ok(Self {
            sums,
            sizes,
            treated: arms,
            blocks: blocks_out,
            weighted,
            units: n as f64,
            unit_sizes: clusters.is_none(),
        })
    }

    /// The statistic from each block's treated outcome sum and treated units.
    fn statistic(&self, treated: &[(f64, f64)]) -> f64 {
        if self.weighted {
            self.blocks
                .iter()
                .zip(treated)
                .map(|(b, &(s, m))| b.units / self.units * (s / m - (b.total - s) / (b.units - m)))
                .sum()
        } else {
            let (mut s, mut m, mut total) = (0.0, 0.0, 0.0);
            for (b, &(bs, bm)) in self.blocks.iter().zip(treated) {
                s += bs;
                m += bm;
                total += b.total;
            }
            s / m - (total - s) / (self.units - m)
        }
    }

    fn observed(&self) -> f64 {
        let per_block: Vec<(f64, f64)> = self
            .blocks
            .iter()
            .map(|b| {
                let mut acc = (0.0, 0.0);
                for c in b.start..b.end {
                    if self.treated[c] {
                        acc.0 += self.sums[c];
                        acc.1 += self.sizes[c];
                    }
                }
                acc
            })
            .collect();
        self.statistic(&per_block)
    }

    /// The number of possible assignments, and whether it is at most `limit`.
    fn assignments(&self, limit: u64) -> (f64, bool) {
        let mut approx = 1.0;
        let mut exact: Option<u128> = Some(1);
        for b in &self.blocks {
            approx *= binomial_f64(b.size(), b.treated);
            exact = exact.and_then(|e| {
                binomial_capped(b.size(), b.treated, u128::from(limit))
                    .and_then(|c| e.checked_mul(c))
                    .filter(|&v| v <= u128::from(limit))
            });
        }
        match exact {
            Some(e) => (e as f64, true),
            None => (approx, false),
        }
    }
}

/// C(n, k) as a float (for reporting).
fn binomial_f64(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// C(n, k) if it is at most `cap`, else None.
fn binomial_capped(n: usize, k: usize, cap: u128) -> Option<u128> {
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        // C(n, i+1) = C(n, i)·(n−i)/(i+1), exact at every step.
        c = c.checked_mul((n - i) as u128)? / (i + 1) as u128;
        if c > cap {
            return None;
        }
    }
    Some(c)
}

/// Treated outcome sum and units of every combination of `m` of the clusters
/// `start..end`, in lexicographic order.
fn block_combinations(layout: &Layout, b: &Block) -> Vec<(f64, f64)> {
    let g = b.size();
    let m = b.treated;
    let mut out = Vec::new();
    let mut pick: Vec<usize> = (0..m).collect();
    loop {
        let mut acc = (0.0, 0.0);
        for &p in &pick {
            acc.0 += layout.sums[b.start + p];
            acc.1 += layout.sizes[b.start + p];
        }
        out.push(acc);
        // Next combination: the rightmost index that can move, then reset the rest.
        let Some(i) = (0..m).rev().find(|&i| pick[i] < g - m + i) else {
            return out;
        };
        pick[i] += 1;
        for j in i + 1..m {
            pick[j] = pick[j - 1] + 1;
        }
    }
}

/// Scratch space of one work item for random draws of a group of replicates.
struct DrawBuffers {
    /// The bit masks of the group's replicates, one after the other.
    masks: Vec<u64>,
    /// Clusters already drawn, for the draws by rejection of repeats.
    seen: Vec<u64>,
    chosen: Vec<u32>,
    /// Treated outcome sum and units of each block, for each replicate of the group.
    per_block: Vec<(f64, f64)>,
    /// Partial sums of the masked sums, for each replicate of the group.
    sums: Vec<MaskedSum>,
    units: Vec<MaskedSum>,
}

/// The statistic on the observed assignment and on re-randomised ones: all of them when
/// there are at most `opts.reps`, else `opts.reps` random ones (module docs).
pub fn null_distribution(
    y: &[f64],
    treated: &[bool],
    design: &Design,
    opts: &ResampleOptions,
) -> StatsResult<NullDistribution> {
    opts.check()?;
    let layout = Layout::new(y, treated, design)?;
    let observed = layout.observed();
    let (assignments, exact) = layout.assignments(opts.reps);
    let values = if exact {
        enumerate(&layout, assignments as u64, opts)
    } else {
        draw(&layout, opts)
    };
    Ok(NullDistribution {
        observed,
        values,
        exact,
        assignments,
    })
}

/// Randomisation-inference p-value (module docs for the design, statistic and
/// p-value conventions).
pub fn randomization_test(
    y: &[f64],
    treated: &[bool],
    design: &Design,
    opts: &ResampleOptions,
) -> StatsResult<RiResult> {
    Ok(null_distribution(y, treated, design, opts)?.test())
}

fn enumerate(layout: &Layout, total: u64, opts: &ResampleOptions) -> Vec<f64> {
    let combos: Vec<Vec<(f64, f64)>> = layout
        .blocks
        .iter()
        .map(|b| block_combinations(layout, b))
        .collect();
    let mut out = vec![0.0; total as usize];
    par_fill(
        &mut out,
        || vec![(0.0, 0.0); combos.len()],
        |per_block, r| {
            let mut rest = r;
            for (slot, c) in per_block.iter_mut().zip(&combos) {
                let len = c.len() as u64;
                *slot = c[(rest % len) as usize];
                rest /= len;
            }
            layout.statistic(per_block)
        },
        opts.progress,
    );
    out
}

/// Replicates drawn together at most: their bit masks are drawn first, then their
/// masked sums taken in one sweep over the cluster totals, so that each stretch of the
/// totals is read from memory once for the group instead of once per replicate.
const GROUP: usize = 16;
/// Bytes of bit masks a group holds at most (fewer replicates when the masks are large).
const GROUP_MASK_BYTES: usize = 4 << 20;
/// Mask words (64 clusters each) per step of the sweep: 2,048 totals, 16 KiB.
const SWEEP_WORDS: usize = 32;

fn draw(layout: &Layout, opts: &ResampleOptions) -> Vec<f64> {
    let n_words = layout.sums.len() / 64;
    let n_blocks = layout.blocks.len();
    let group = if layout.blocks.iter().any(|b| b.bitmask) {
        (GROUP_MASK_BYTES / (8 * n_words).max(1)).clamp(1, GROUP)
    } else {
        1
    };
    let mut out = vec![0.0; opts.reps as usize];
    par_fill_chunks(
        &mut out,
        || DrawBuffers {
            masks: vec![0u64; group * n_words],
            seen: vec![0u64; n_words],
            chosen: Vec::with_capacity(layout.sums.len() / 2 + 1),
            per_block: vec![(0.0, 0.0); group * n_blocks],
            sums: vec![MaskedSum::default(); group],
            units: vec![MaskedSum::default(); group],
        },
        |buf, first, chunk| {
            for (i, reps) in chunk.chunks_mut(group).enumerate() {
                let first = first + (i * group) as u64;
                for g in 0..reps.len() {
                    let mut rng = replicate_rng(opts.seed, first + g as u64);
                    let masks = &mut buf.masks[g * n_words..(g + 1) * n_words];
                    let per_block = &mut buf.per_block[g * n_blocks..(g + 1) * n_blocks];
                    for (b, slot) in layout.blocks.iter().zip(per_block) {
                        if b.bitmask {
                            draw_mask(b, &mut rng, masks);
                        } else {
                            *slot = draw_by_rejection(
                                layout,
                                b,
                                &mut rng,
                                &mut buf.seen,
                                &mut buf.chosen,
                            );
                        }
                    }
                }
                sweep_masks(layout, reps.len(), buf);
                for (g, slot) in reps.iter_mut().enumerate() {
                    *slot = layout.statistic(&buf.per_block[g * n_blocks..(g + 1) * n_blocks]);
                }
            }
        },
        opts.progress,
    );
    out
}

/// One random assignment of block `b` by drawing the smaller of its treated and control
/// sets cluster by cluster with [`below`], repeats rejected: its treated outcome sum
/// and treated units.
fn draw_by_rejection<R: rand::RngCore>(
    layout: &Layout,
    b: &Block,
    rng: &mut R,
    seen: &mut [u64],
    chosen: &mut Vec<u32>,
) -> (f64, f64) {
    let g = b.size();
    let complement = 2 * b.treated > g;
    let k = if complement { g - b.treated } else { b.treated };
    let (mut s, mut m) = (0.0, 0.0);
    let bound = g as u32;
    chosen.clear();
    while chosen.len() < k {
        let c = b.start + below(rng, bound) as usize;
        let (word, bit) = (c / 64, 1u64 << (c % 64));
        if seen[word] & bit == 0 {
            seen[word] |= bit;
            chosen.push(c as u32);
            s += layout.sums[c];
            m += layout.sizes[c];
        }
    }
    for &c in chosen.iter() {
        seen[c as usize / 64] = 0;
    }
    if complement {
        (b.total - s, b.units - m)
    } else {
        (s, m)
    }
}

/// The treated outcome sums (and units) of the bit-mask blocks of the first `reps`
/// replicates of a group, from their masks in `buf.masks`, into `buf.per_block`; the
/// masks are left all zero. The totals are swept once, [`SWEEP_WORDS`] mask words at a
/// time, each stretch summed for every replicate of the group while it is in cache;
/// each replicate's sum is the same as [`masked_sum`] over its whole mask.
fn sweep_masks(layout: &Layout, reps: usize, buf: &mut DrawBuffers) {
    let n_words = layout.sums.len() / 64;
    let n_blocks = layout.blocks.len();
    for (bi, b) in layout.blocks.iter().enumerate() {
        if !b.bitmask {
            continue;
        }
        let first = b.start / 64;
        let words = b.size().div_ceil(64);
        buf.sums[..reps].fill(MaskedSum::default());
        buf.units[..reps].fill(MaskedSum::default());
        for from in (first..first + words).step_by(SWEEP_WORDS) {
            let to = (from + SWEEP_WORDS).min(first + words);
            let span = 64 * from..64 * to;
            for g in 0..reps {
                let mask = &buf.masks[g * n_words + from..g * n_words + to];
                buf.sums[g].add(&layout.sums[span.clone()], mask);
                if !layout.unit_sizes {
                    buf.units[g].add(&layout.sizes[span.clone()], mask);
                }
            }
        }
        for g in 0..reps {
            let units = if layout.unit_sizes {
                b.treated as f64
            } else {
                buf.units[g].total()
            };
            buf.per_block[g * n_blocks + bi] = (buf.sums[g].total(), units);
            buf.masks[g * n_words + first..g * n_words + first + words].fill(0);
        }
    }
}

/// Blocks with at least this many clusters, and at least an eighth of them in the
/// smaller arm, draw assignments by bit masks.
const BITMASK_MIN_CLUSTERS: usize = 256;

/// One random assignment of block `b` (exactly `b.treated` of its clusters, every such
/// subset equally likely), drawn on the bits of `bits` (the block's words all zero on
/// entry): bit j of the block's mask set when its cluster j is treated.
///
/// Each cluster is first included independently with probability q = p/64, the
/// multiple of 1/64 nearest to m/G: a 64-cluster word of the mask is built from 64-bit
/// generator words w₁…w₆ by r ← w | r for a 1 digit of q and r ← w & r for a 0 digit,
/// from the last binary digit of q to the first (each bit of r is then 1 with
/// probability exactly q). Given its size K, such a subset is uniform among K-subsets;
/// removing K − m of its members (or adding m − K non-members) one at a time, each
/// drawn uniformly by rejection with [`below`], keeps it uniform and leaves exactly m.
/// The sums are then taken over the set bits in cluster order ([`masked_sum`]).
fn draw_mask<R: rand::RngCore>(b: &Block, rng: &mut R, bits: &mut [u64]) {
    let g = b.size();
    let m = b.treated;
    let first = b.start / 64;
    let n_words = g.div_ceil(64);
    let words = &mut bits[first..first + n_words];
    let p = ((64 * m + g / 2) / g).clamp(1, 63) as u32;
    let tail = g % 64;
    let mut count = 0usize;
    for (i, w) in words.iter_mut().enumerate() {
        let mut r = 0u64;
        for digit in p.trailing_zeros()..6 {
            let word = rng.next_u64();
            r = if (p >> digit) & 1 == 1 {
                word | r
            } else {
                word & r
            };
        }
        if i + 1 == n_words && tail != 0 {
            r &= (1u64 << tail) - 1;
        }
        *w = r;
        count += r.count_ones() as usize;
    }
    let bound = g as u32;
    while count != m {
        let j = below(rng, bound) as usize;
        let (wi, bit) = (j / 64, 1u64 << (j % 64));
        let set = words[wi] & bit != 0;
        if count > m && set {
            words[wi] &= !bit;
            count -= 1;
        } else if count < m && !set {
            words[wi] |= bit;
            count += 1;
        }
    }
}

/// Σ `values[64·i + j]` over the set bits j of `words[i]`, lowest first, in four partial
/// sums: the k-th set bit goes to sum k mod 4, and the result is (s₀ + s₁) + (s₂ + s₃).
#[cfg(test)]
fn masked_sum(values: &[f64], words: &[u64]) -> f64 {
    let mut s = MaskedSum::default();
    s.add(values, words);
    s.total()
}

/// A masked sum ([`masked_sum`]) taken stretch by stretch: the four partial sums, the
/// next set bit's first (`a[0]`), and how many bits were added.
#[derive(Debug, Clone, Copy, Default)]
struct MaskedSum {
    a: [f64; 4],
    k: usize,
}

/// Whether [`MaskedSum::add`] takes its POPCNT + BMI1 path on this CPU.
#[cfg(target_arch = "x86_64")]
fn bit_instructions() -> bool {
    std::arch::is_x86_feature_detected!("popcnt") && std::arch::is_x86_feature_detected!("bmi1")
}

/// The path [`MaskedSum::add`] takes on this CPU, in words (`via-eval cpu-paths`).
pub fn bit_sum_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if bit_instructions() {
        return "POPCNT + BMI1";
    }
    "portable (POPCNT or BMI1 not detected)"
}

impl MaskedSum {
    /// Add the next stretch of the sum: `values[64·i + j]` for the set bits j of
    /// `words[i]`. Compiled with the bit-counting instructions (POPCNT, BMI1's TZCNT
    /// and BLSR) where the CPU has them; the result is the same either way.
    fn add(&mut self, values: &[f64], words: &[u64]) {
        #[cfg(target_arch = "x86_64")]
        if bit_instructions() {
            // SAFETY: the CPU has both features `masked_sum_bmi` is compiled for (`bit_instructions`).
            return unsafe { masked_sum_bmi(self, values, words) };
        }
        masked_sum_in(self, values, words)
    }

    /// (s₀ + s₁) + (s₂ + s₃).
    fn total(&self) -> f64 {
        // a[0] holds sum k mod 4, a[1] the next one, …
        let sum = |j: usize| self.a[(j + 4 - self.k % 4) % 4];
        (sum(0) + sum(1)) + (sum(2) + sum(3))
    }
}

/// [`masked_sum_in`] compiled for POPCNT and BMI1.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt,bmi1")]
fn masked_sum_bmi(acc: &mut MaskedSum, values: &[f64], words: &[u64]) {
    masked_sum_in(acc, values, words)
}

/// See [`MaskedSum::add`]. The sums stay in registers: four bits at a time while a word
/// has four left, then one at a time with the sums rotated so that `a0` is always the
/// next bit's.
#[inline(always)]
fn masked_sum_in(acc: &mut MaskedSum, values: &[f64], words: &[u64]) {
    let [mut a0, mut a1, mut a2, mut a3] = acc.a;
    let mut k = acc.k;
    for (&w, chunk) in words.iter().zip(values.chunks_exact(64)) {
        let mut left = w.count_ones();
        let mut w = w;
        let mut next = || {
            let j = (w.trailing_zeros() & 63) as usize;
            w &= w - 1;
            chunk[j]
        };
        while left >= 4 {
            a0 += next();
            a1 += next();
            a2 += next();
            a3 += next();
            left -= 4;
        }
        for _ in 0..left {
            a0 += next();
            (a0, a1, a2, a3) = (a1, a2, a3, a0);
            k += 1;
        }
    }
    acc.a = [a0, a1, a2, a3];
    acc.k = k;
}

/// The design's blocks and clusters after checking the inputs' lengths and values, and
/// whether the statistic weighs blocks (blocked designs).
fn checked_design<'d>(
    y: &[f64],
    treated: &[bool],
    design: &Design<'d>,
) -> StatsResult<(Option<&'d Clusters>, Option<&'d Clusters>, bool)> {
    let n = y.len();
    if treated.len() != n {
        return Err(StatsError::Invalid(format!(
            "{} treatment values for {n} outcomes",
            treated.len()
        )));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::Invalid(
            "outcome values must be finite numbers".into(),
        ));
    }
    let (blocks, clusters, weighted) = match *design {
        Design::Complete => (None, None, false),
        Design::Blocked(b) => (Some(b), None, true),
        Design::Clustered(c) => (None, Some(c), false),
        Design::BlockedClustered { blocks, clusters } => (Some(blocks), Some(clusters), true),
    };
    for (what, g) in [("block", blocks), ("cluster", clusters)] {
        if let Some(g) = g
            && g.codes().len() != n
        {
            return Err(StatsError::Invalid(format!(
                "{} {what} codes for {n} observations",
                g.codes().len()
            )));
        }
    }
    Ok((blocks, clusters, weighted))
}

/// Per cluster (per unit without clusters): its block, its arm, its outcome sum and
/// its size.
struct ClusterTotals {
    block_of: Vec<u32>,
    arm: Vec<bool>,
    sum: Vec<f64>,
    size: Vec<f64>,
}

impl ClusterTotals {
    /// Fails when a cluster spans two blocks or treatment varies within a cluster.
    fn of(
        y: &[f64],
        treated: &[bool],
        blocks: Option<&Clusters>,
        clusters: Option<&Clusters>,
    ) -> StatsResult<Self> {
        let n = y.len();
        let cluster_of = |i: usize| clusters.map_or(i, |c| c.codes()[i] as usize);
        let n_clusters = clusters.map_or(n, Clusters::count);
        let mut t = Self {
            block_of: vec![u32::MAX; n_clusters],
            arm: vec![false; n_clusters],
            sum: vec![0.0; n_clusters],
            size: vec![0.0; n_clusters],
        };
        for i in 0..n {
            let c = cluster_of(i);
            let b = blocks.map_or(0, |b| b.codes()[i]);
            if t.block_of[c] == u32::MAX {
                t.block_of[c] = b;
                t.arm[c] = treated[i];
            } else if t.block_of[c] != b {
                return Err(StatsError::Invalid(
                    "a cluster spans two blocks; clusters must nest in blocks".into(),
                ));
            } else if t.arm[c] != treated[i] {
                return Err(StatsError::Invalid(
                    "treatment varies within a cluster; the design assigns whole clusters".into(),
                ));
            }
            t.sum[c] += y[i];
            t.size[c] += 1.0;
        }
        Ok(t)
    }
}

/// The clusters grouped by block, keeping cluster order within a block: each block's
/// place (a block drawn by bit masks starts on a multiple of 64; the gap is padding
/// with sum 0 and size 0), the next free position per block, and the total length.
fn block_layout(per: &ClusterTotals, n_blocks: usize) -> (Vec<Block>, Vec<usize>, usize) {
    let mut counts = vec![0usize; n_blocks];
    let mut treated_in = vec![0usize; n_blocks];
    for (&b, &a) in per.block_of.iter().zip(&per.arm) {
        counts[b as usize] += 1;
        treated_in[b as usize] += usize::from(a);
    }
    let mut next = Vec::with_capacity(n_blocks);
    let mut blocks_out = Vec::with_capacity(n_blocks);
    let mut acc = 0usize;
    for (&c, &m) in counts.iter().zip(&treated_in) {
        let bitmask = c >= BITMASK_MIN_CLUSTERS && 8 * m.min(c - m) >= c;
        if bitmask {
            acc = acc.next_multiple_of(64);
        }
        next.push(acc);
        blocks_out.push(Block {
            start: acc,
            end: acc + c,
            treated: m,
            total: 0.0,
            units: 0.0,
            bitmask,
        });
        acc += c;
    }
    (blocks_out, next, acc.next_multiple_of(64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn masked_sum_adds_in_the_defined_order() {
        // The definition: set bits lowest first, the k-th into partial sum k mod 4.
        let reference = |values: &[f64], words: &[u64]| {
            let mut lanes = [0.0; 4];
            let mut k = 0;
            for (i, &w) in words.iter().enumerate() {
                for j in 0..64 {
                    if w >> j & 1 == 1 {
                        lanes[k & 3] += values[64 * i + j];
                        k += 1;
                    }
                }
            }
            (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
        };
        let mut rng = replicate_rng(9, 0);
        let values: Vec<f64> = (0..64 * 5)
            .map(|_| f64::from(rng.next_u32()) * 1e-7 - 200.0)
            .collect();
        for density in 0..6 {
            let words: Vec<u64> = (0..5)
                .map(|_| (0..density).fold(u64::MAX, |r, _| r & rng.next_u64()))
                .collect();
            let got = masked_sum(&values, &words);
            assert_eq!(got.to_bits(), reference(&values, &words).to_bits());
        }
        assert_eq!(masked_sum(&values, &[0, 0]), 0.0);
        assert_eq!(
            masked_sum(&values, &[0b1011]),
            values[0] + values[1] + values[3]
        );
    }

    #[test]
    fn binomials() {
        assert_eq!(binomial_capped(20, 10, u128::MAX), Some(184_756));
        assert_eq!(binomial_capped(20, 10, 184_755), None);
        assert_eq!(binomial_capped(5, 0, 10), Some(1));
        assert_eq!(binomial_f64(20, 10), 184_756.0);
    }

    #[test]
    fn combinations_are_all_and_distinct() {
        let y = [1.0, 2.0, 4.0, 8.0, 16.0];
        let t = [true, true, false, false, false];
        let layout = Layout::new(&y, &t, &Design::Complete).unwrap();
        let c = block_combinations(&layout, &layout.blocks[0]);
        assert_eq!(c.len(), 10);
        let mut sums: Vec<f64> = c.iter().map(|v| v.0).collect();
        sums.sort_by(f64::total_cmp);
        sums.dedup();
        assert_eq!(sums.len(), 10);
        assert_eq!(c[0], (3.0, 2.0));
    }

    #[test]
    fn the_observed_assignment_is_among_the_enumerated() {
        let y = [1.0, 2.5, 4.0, 8.0, 1.5, 0.5];
        let t = [true, false, true, false, false, true];
        let d =
            null_distribution(&y, &t, &Design::Complete, &ResampleOptions::new(100, 1)).unwrap();
        assert!(d.exact);
        assert_eq!(d.values.len(), 20);
        assert!(d.values.contains(&d.observed));
        // Swapping arms maps the set of assignments onto itself with the sign flipped.
        let mut neg: Vec<f64> = d.values.iter().map(|v| -v).collect();
        let mut pos = d.values.clone();
        neg.sort_by(f64::total_cmp);
        pos.sort_by(f64::total_cmp);
        for (a, b) in neg.iter().zip(&pos) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn bit_mask_draws_are_exact_size_and_uniform() {
        // 300 units, 70 treated: drawn by bit masks (q = 15/64 before correction).
        let n = 300;
        let m = 70;
        let y: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let t: Vec<bool> = (0..n).map(|i| i < m).collect();
        let layout = Layout::new(&y, &t, &Design::Complete).unwrap();
        let b = layout.blocks[0];
        assert!(b.bitmask);
        let mut bits = vec![0u64; layout.sums.len() / 64];
        let reps = 20_000;
        let mut sum_of_sums = 0.0;
        for r in 0..reps {
            let mut rng = replicate_rng(3, r);
            draw_mask(&b, &mut rng, &mut bits);
            let ones: u32 = bits.iter().map(|w| w.count_ones()).sum();
            assert_eq!(ones, m as u32);
            sum_of_sums += masked_sum(&layout.sums, &bits);
            bits.fill(0);
        }
        // E[Σ treated y] = m·ȳ; its sd over assignments is
        // √(m(n−m)/n · S²) with S² = n(n+1)/12 for y = 0..n−1; 4 Monte Carlo SEs.
        let (nf, mf) = (n as f64, m as f64);
        let expect = mf * (nf - 1.0) / 2.0;
        let sd = (mf * (nf - mf) / nf * nf * (nf + 1.0) / 12.0).sqrt();
        let got = sum_of_sums / reps as f64;
        assert!(
            (got - expect).abs() < 4.0 * sd / (reps as f64).sqrt(),
            "{got} vs {expect}"
        );
    }

    /// Replicate r as defined, on its own: each block's assignment in block order, a
    /// bit-mask block's sums over its whole mask.
    fn reference_replicate(layout: &Layout, seed: u64, r: u64) -> f64 {
        let n_words = layout.sums.len() / 64;
        let mut buf = DrawBuffers {
            masks: vec![0; n_words],
            seen: vec![0; n_words],
            chosen: Vec::new(),
            per_block: Vec::new(),
            sums: Vec::new(),
            units: Vec::new(),
        };
        let mut rng = replicate_rng(seed, r);
        let mut per_block = Vec::new();
        for b in &layout.blocks {
            if !b.bitmask {
                per_block.push(draw_by_rejection(
                    layout,
                    b,
                    &mut rng,
                    &mut buf.seen,
                    &mut buf.chosen,
                ));
                continue;
            }
            buf.masks.fill(0);
            draw_mask(b, &mut rng, &mut buf.masks);
            let span = b.start..b.start + 64 * b.size().div_ceil(64);
            let mask = &buf.masks[b.start / 64..span.end / 64];
            let s = masked_sum(&layout.sums[span.clone()], mask);
            let units = if layout.unit_sizes {
                b.treated as f64
            } else {
                masked_sum(&layout.sizes[span], mask)
            };
            per_block.push((s, units));
        }
        layout.statistic(&per_block)
    }

    /// Drawing replicates in groups, with one sweep over the totals per group, gives
    /// every replicate's statistic bit for bit as drawn on its own: complete, blocked
    /// (a bit-mask block sharing its last mask word with the next block) and clustered
    /// designs, a number of replicates that is not a multiple of the group.
    #[test]
    fn grouped_draws_are_the_replicates_drawn_alone() {
        let mut rng = replicate_rng(77, 1);
        let n = 5000;
        let y: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.next_u32()) * 1e-6 - 2000.0)
            .collect();
        let t: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let block_of: Vec<u32> = (0..n as u32)
            .map(|i| match i {
                0..300 => 0,
                300..350 => 1,
                _ => 2 + i % 2,
            })
            .collect();
        let blocks = Clusters::from_labels(&block_of);
        let cluster_of: Vec<u32> = (0..n as u32).map(|i| i / 3 * 3 % 4999).collect();
        let t_cl: Vec<bool> = cluster_of.iter().map(|&c| c % 2 == 0).collect();
        let clusters = Clusters::from_labels(&cluster_of);
        let opts = ResampleOptions::new(150, 5);
        for (design, treated) in [
            (Design::Complete, &t),
            (Design::Blocked(&blocks), &t),
            (Design::Clustered(&clusters), &t_cl),
        ] {
            let layout = Layout::new(&y, treated, &design).unwrap();
            assert!(layout.blocks.iter().any(|b| b.bitmask), "{design:?}");
            let got = draw(&layout, &opts);
            for (r, v) in got.iter().enumerate() {
                let want = reference_replicate(&layout, opts.seed, r as u64);
                assert_eq!(v.to_bits(), want.to_bits(), "{design:?}, replicate {r}");
            }
        }
    }

    #[test]
    fn whole_clusters_and_nesting_are_checked() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let cl = Clusters::from_labels(&[1, 1, 2, 2]);
        let bad = [true, false, false, false];
        let o = ResampleOptions::new(10, 1);
        assert!(randomization_test(&y, &bad, &Design::Clustered(&cl), &o).is_err());
        let blocks = Clusters::from_labels(&[1, 2, 2, 2]);
        let t = [true, true, false, false];
        let d = Design::BlockedClustered {
            blocks: &blocks,
            clusters: &cl,
        };
        assert!(randomization_test(&y, &t, &d, &o).is_err());
    }
}
