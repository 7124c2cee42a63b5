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
//! Draws: replicate r selects, block by block in block order, the smaller of the
//! treated and the control set of clusters (units when not clustered) by drawing
//! [`super::below`]`(G_b)` from `replicate_rng(seed, r)` until it has that many distinct
//! ones (rejection of repeats), which gives a uniformly random subset. Cost per draw is
//! O(min(m_b, G_b − m_b)) per block, on cluster sums computed once: independent of the
//! number of units when clustered.
//!
//! Enumeration order: the assignments of each block are its combinations in
//! lexicographic order; assignment r takes block 0's combination r mod C₀, block 1's
//! (r / C₀) mod C₁, and so on.

use serde::Serialize;

use super::super::ols::Clusters;
use super::super::{StatsError, StatsResult};
use super::{ResampleOptions, at_least_as_extreme, below, par_fill, replicate_rng};

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
}

impl Layout {
    fn new(y: &[f64], treated: &[bool], design: &Design) -> StatsResult<Self> {
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
        let cluster_of = |i: usize| clusters.map_or(i, |c| c.codes()[i] as usize);
        let n_clusters = clusters.map_or(n, Clusters::count);
        let n_blocks = blocks.map_or(1, Clusters::count);
        // Per cluster: block, treatment, sum, size.
        let mut block_of = vec![u32::MAX; n_clusters];
        let mut arm = vec![false; n_clusters];
        let mut sum = vec![0.0; n_clusters];
        let mut size = vec![0.0; n_clusters];
        for i in 0..n {
            let c = cluster_of(i);
            let b = blocks.map_or(0, |b| b.codes()[i]);
            if block_of[c] == u32::MAX {
                block_of[c] = b;
                arm[c] = treated[i];
            } else if block_of[c] != b {
                return Err(StatsError::Invalid(
                    "a cluster spans two blocks; clusters must nest in blocks".into(),
                ));
            } else if arm[c] != treated[i] {
                return Err(StatsError::Invalid(
                    "treatment varies within a cluster; the design assigns whole clusters".into(),
                ));
            }
            sum[c] += y[i];
            size[c] += 1.0;
        }
        // Group clusters by block, keeping cluster order within a block.
        let mut counts = vec![0usize; n_blocks];
        for &b in &block_of {
            counts[b as usize] += 1;
        }
        let mut next = Vec::with_capacity(n_blocks);
        let mut acc = 0;
        for &c in &counts {
            next.push(acc);
            acc += c;
        }
        let mut blocks_out: Vec<Block> = next
            .iter()
            .zip(&counts)
            .map(|(&s, &c)| Block {
                start: s,
                end: s + c,
                treated: 0,
                total: 0.0,
                units: 0.0,
            })
            .collect();
        let mut sums = vec![0.0; n_clusters];
        let mut sizes = vec![0.0; n_clusters];
        let mut arms = vec![false; n_clusters];
        for c in 0..n_clusters {
            let b = block_of[c] as usize;
            let pos = next[b];
            next[b] += 1;
            sums[pos] = sum[c];
            sizes[pos] = size[c];
            arms[pos] = arm[c];
            let blk = &mut blocks_out[b];
            blk.treated += usize::from(arm[c]);
            blk.total += sum[c];
            blk.units += size[c];
        }
        for blk in &blocks_out {
            let what = if clusters.is_some() {
                "clusters"
            } else {
                "units"
            };
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

/// Scratch space of one work item for random draws.
struct DrawBuffers {
    bits: Vec<u64>,
    chosen: Vec<u32>,
    per_block: Vec<(f64, f64)>,
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

fn draw(layout: &Layout, opts: &ResampleOptions) -> Vec<f64> {
    let n_clusters = layout.sums.len();
    let mut out = vec![0.0; opts.reps as usize];
    par_fill(
        &mut out,
        || DrawBuffers {
            bits: vec![0u64; n_clusters.div_ceil(64)],
            chosen: Vec::with_capacity(n_clusters / 2 + 1),
            per_block: vec![(0.0, 0.0); layout.blocks.len()],
        },
        |buf, r| {
            let mut rng = replicate_rng(opts.seed, r);
            for (b, slot) in layout.blocks.iter().zip(buf.per_block.iter_mut()) {
                let g = b.size();
                let complement = 2 * b.treated > g;
                let k = if complement { g - b.treated } else { b.treated };
                let (mut s, mut m) = (0.0, 0.0);
                let bound = g as u32;
                buf.chosen.clear();
                while buf.chosen.len() < k {
                    let c = b.start + below(&mut rng, bound) as usize;
                    let (word, bit) = (c / 64, 1u64 << (c % 64));
                    if buf.bits[word] & bit == 0 {
                        buf.bits[word] |= bit;
                        buf.chosen.push(c as u32);
                        s += layout.sums[c];
                        m += layout.sizes[c];
                    }
                }
                for &c in &buf.chosen {
                    buf.bits[c as usize / 64] = 0;
                }
                *slot = if complement {
                    (b.total - s, b.units - m)
                } else {
                    (s, m)
                };
            }
            layout.statistic(&buf.per_block)
        },
        opts.progress,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
