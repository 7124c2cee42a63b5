//! Nearest-neighbour matching on the propensity score for the effect on the treated,
//! as R `MatchIt::matchit(method = "nearest", distance = "glm", link = "linear.logit",
//! m.order = "largest")` (Ho, Imai, King & Stuart 2011; MatchIt 4.5.1):
//!
//! - distance: the linear predictor (logit) of the logistic propensity model;
//! - order: treated units by decreasing distance (ties in data order);
//! - 1:k without replacement: in k rounds, each treated unit in that order takes the
//!   nearest comparison unit not yet used (every treated unit gets its first match
//!   before any gets a second); with replacement: each treated unit takes its k nearest
//!   comparison units;
//! - tie rule: among comparison units at the same distance, the first in data order;
//!   distances count as the same when their gaps to the treated unit differ by at most
//!   [`TIE`]·(1 + |distance of the treated unit|), so that a tie in exact arithmetic
//!   (a treated unit midway between two comparison units, which happens with integer
//!   covariates) does not turn on the last bits of the fitted propensity model;
//! - caliper c (optional): only comparison units within c standard deviations of the
//!   distance (SD over all units, n − 1) qualify; a treated unit without one stays
//!   unmatched and leaves the estimand (a note should say how many);
//! - weights: a matched treated unit 1; a comparison unit the sum, over the treated
//!   units it was matched to, of 1 / (that unit's number of matches); normalised here
//!   to sum to 1 within each arm (MatchIt scales the comparison weights to sum to the
//!   number of matched comparison units; the ratio is the same).
//!
//! Without replacement every treated unit and its matches form a subclass (`pair`), the
//! cluster of the cluster-robust standard error MatchIt's documentation recommends.

/// Gaps to the treated unit within this much (times 1 + |its distance|) are ties: far
/// above the rounding of the linear predictor (about 1e-15 of it, times the condition
/// of the fit), far below any difference between units that matters.
pub const TIE: f64 = 1e-10;

/// The result of matching.
#[derive(Debug, Clone)]
pub struct Matched {
    /// Weight per unit (0 for unmatched units), normalised within each arm.
    pub weights: Vec<f64>,
    /// Without replacement: the subclass (index of the treated unit's match set) of
    /// every matched unit; None for unmatched units, and for all with replacement.
    pub subclass: Vec<Option<u32>>,
    /// Treated units without a match (caliper).
    pub unmatched_treated: usize,
}

/// Match on `distance` (the propensity model's linear predictor). `ratio` ≥ 1.
pub fn nearest(
    distance: &[f64],
    treated: &[bool],
    ratio: usize,
    replace: bool,
    caliper: Option<f64>,
) -> Matched {
    nearest_within(distance, treated, None, ratio, replace, caliper)
}

/// [`nearest`] with exact matching on `groups` (one code per unit): a comparison unit
/// qualifies only when its code equals the treated unit's, as MatchIt's `exact =`
/// (the order of the treated units, the tie rule and the caliper's SD over all units
/// stay as in [`nearest`]).
pub fn nearest_within(
    distance: &[f64],
    treated: &[bool],
    groups: Option<&[u32]>,
    ratio: usize,
    replace: bool,
    caliper: Option<f64>,
) -> Matched {
    let n = distance.len();
    let ratio = ratio.max(1);
    let width = caliper.map(|c| {
        let (_, v) = crate::stats::describe::mean_var(distance);
        c * v.sqrt()
    });
    let mut order: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
    // Stable sort: ties keep data order.
    order.sort_by(|&a, &b| distance[b].total_cmp(&distance[a]));
    let pool = Pool::new(distance, groups, treated, width);
    let matches = if replace {
        pool.match_with_replacement(&order, ratio)
    } else {
        pool.match_without_replacement(&order, ratio)
    };
    matched_weights(&order, &matches, treated, replace)
}

/// The comparison units a treated unit can be matched to, sorted by (exact-matching
/// group, distance, data order), with the rules a match must meet. The nearest free
/// units are found by a binary search for the treated unit's position in its group's
/// run and a walk outwards over the free units only ([`Free`]), so that matching costs
/// O(n log n), not a pass over the comparison units per treated unit.
struct Pool<'a> {
    distance: &'a [f64],
    /// Exact-matching codes, one per unit.
    groups: Option<&'a [u32]>,
    /// With exact matching: each code's run of positions in `sorted`, by code.
    runs: Vec<(u32, usize, usize)>,
    sorted: Vec<usize>,
    /// The distance of each unit in `sorted`, side by side for the searches.
    key: Vec<f64>,
    /// The caliper on the distance's scale.
    width: Option<f64>,
}

impl<'a> Pool<'a> {
    fn new(
        distance: &'a [f64],
        groups: Option<&'a [u32]>,
        treated: &[bool],
        width: Option<f64>,
    ) -> Self {
        let mut sorted: Vec<usize> = (0..distance.len()).filter(|&i| !treated[i]).collect();
        let group = |i: usize| groups.map_or(0, |g| g[i]);
        sorted.sort_unstable_by(|&a, &b| {
            group(a)
                .cmp(&group(b))
                .then(distance[a].total_cmp(&distance[b]))
                .then(a.cmp(&b))
        });
        let key = sorted.iter().map(|&c| distance[c]).collect();
        let mut runs: Vec<(u32, usize, usize)> = Vec::new();
        if let Some(g) = groups {
            for (p, &c) in sorted.iter().enumerate() {
                match runs.last_mut() {
                    Some(run) if run.0 == g[c] => run.2 = p + 1,
                    _ => runs.push((g[c], p, p + 1)),
                }
            }
        }
        Pool {
            distance,
            groups,
            runs,
            sorted,
            key,
            width,
        }
    }

    /// The positions in `sorted` of the comparison units in treated unit `t`'s
    /// exact-matching group (all of them without groups).
    fn run_of(&self, t: usize) -> (usize, usize) {
        match self.groups {
            None => (0, self.sorted.len()),
            Some(g) => match self.runs.binary_search_by_key(&g[t], |run| run.0) {
                Ok(r) => (self.runs[r].1, self.runs[r].2),
                // No comparison unit has the treated unit's code.
                Err(_) => (0, 0),
            },
        }
    }

    /// The first position at or after `k` and before `hi` whose unit is free and not
    /// in `taken`.
    fn next_free(
        &self,
        free: &mut Free,
        mut k: usize,
        hi: usize,
        taken: &[usize],
    ) -> Option<usize> {
        loop {
            let p = free.at_or_after(k);
            if p >= hi {
                return None;
            }
            if !taken.contains(&self.sorted[p]) {
                return Some(p);
            }
            k = p + 1;
        }
    }

    /// The last position before `k` and at or after `lo` whose unit is free and not in
    /// `taken`.
    fn prev_free(
        &self,
        free: &mut Free,
        mut k: usize,
        lo: usize,
        taken: &[usize],
    ) -> Option<usize> {
        loop {
            let p = free.before(k).filter(|&p| p >= lo)?;
            if !taken.contains(&self.sorted[p]) {
                return Some(p);
            }
            k = p;
        }
    }

    /// The position in `sorted` of the nearest comparison unit of treated unit `t`
    /// that is free, not in `taken`, in `t`'s exact-matching group and within the
    /// caliper; among ties (see [`TIE`]) the first in data order.
    fn nearest_free(&self, free: &mut Free, t: usize, taken: &[usize]) -> Option<usize> {
        let (sorted, key) = (&self.sorted, &self.key);
        let dt = self.distance[t];
        let (lo, hi) = self.run_of(t);
        let at = lo + key[lo..hi].partition_point(|&d| d < dt);
        let gap = |p: usize| (key[p] - dt).abs();
        // Right: the first free unit at or above dt; left: the first free unit below.
        let right = self.next_free(free, at, hi, taken);
        let left = self.prev_free(free, at, lo, taken);
        let nearest = match (left, right) {
            (Some(l), Some(r)) => gap(l).min(gap(r)),
            (Some(l), None) => gap(l),
            (None, Some(r)) => gap(r),
            (None, None) => return None,
        };
        if self.width.is_some_and(|w| nearest > w) {
            return None;
        }
        // Gaps within the rounding of the fit count as equal: of the free units whose
        // gap is within TIE of the nearest, the first in data order. Units of equal
        // distance are in data order in `sorted`, so the first free position of a run
        // of equal distances holds that run's lowest free index.
        let limit = nearest + TIE * (1.0 + dt.abs());
        // False for a NaN gap (a comparison unit at the same infinite distance), which
        // ends a walk.
        let within = |p: usize| gap(p) <= limit;
        // The position of the lowest unit index seen.
        let mut best: Option<usize> = None;
        let mut keep = |p: usize| {
            if best.is_none_or(|b| sorted[p] < sorted[b]) {
                best = Some(p);
            }
        };
        // Rightwards from `right`, each step starts at the start of a run of equal
        // distances, so the first free position from it is the first free one of its
        // run.
        let mut next = right;
        while let Some(p) = next.filter(|&p| within(p)) {
            keep(p);
            let end = p + key[p..hi].partition_point(|&d| d == key[p]);
            next = self.next_free(free, end, hi, taken);
        }
        // Leftwards from `left`, the last free position below a run's start is in the
        // run nearest below; that run's first free position is found from its start.
        let mut prev = left;
        while let Some(p) = prev.filter(|&p| within(p)) {
            let start = lo + key[lo..p].partition_point(|&d| d < key[p]);
            if let Some(q) = self.next_free(free, start, p + 1, taken) {
                keep(q);
            }
            prev = self.prev_free(free, start, lo, taken);
        }
        best
    }

    /// With replacement: each treated unit in `order` takes its `ratio` nearest
    /// comparison units. The matches of every unit (empty for comparison units).
    fn match_with_replacement(&self, order: &[usize], ratio: usize) -> Vec<Vec<usize>> {
        let n = self.distance.len();
        // Nothing is ever used up: the free list stays full.
        let mut free = Free::new(self.sorted.len());
        let mut matches: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &t in order {
            for _ in 0..ratio {
                match self.nearest_free(&mut free, t, &matches[t]) {
                    Some(p) => matches[t].push(self.sorted[p]),
                    None => break,
                }
            }
        }
        matches
    }

    /// Without replacement: in `ratio` rounds, each treated unit in `order` takes the
    /// nearest comparison unit not yet used. The matches of every unit.
    fn match_without_replacement(&self, order: &[usize], ratio: usize) -> Vec<Vec<usize>> {
        let n = self.distance.len();
        let mut free = Free::new(self.sorted.len());
        let mut matches: Vec<Vec<usize>> = vec![Vec::new(); n];
        for round in 0..ratio {
            for &t in order {
                // A treated unit without a first match gets no later ones.
                if round > 0 && matches[t].len() < round {
                    continue;
                }
                if let Some(p) = self.nearest_free(&mut free, t, &[]) {
                    free.take(p);
                    matches[t].push(self.sorted[p]);
                }
            }
        }
        matches
    }
}

/// The free positions of a sorted list, as two disjoint-set forests with path
/// halving (Tarjan & van Leeuwen 1984): each position points to itself while free and
/// past itself once taken, so the nearest free position on either side is found in
/// near-constant amortised time however many units are used up around it.
struct Free {
    /// `right[k]` leads to the first free position ≥ k (`len` when none).
    right: Vec<usize>,
    /// `left[k]` leads to 1 + the last free position < k (0 when none).
    left: Vec<usize>,
}

impl Free {
    fn new(len: usize) -> Self {
        Free {
            right: (0..=len).collect(),
            left: (0..=len).collect(),
        }
    }

    /// The root of `k` in `forest`, halving the path on the way.
    fn root(forest: &mut [usize], k: usize) -> usize {
        let mut k = k;
        while forest[k] != k {
            let up = forest[forest[k]];
            forest[k] = up;
            k = up;
        }
        k
    }

    /// The first free position ≥ k, or the list's length when there is none.
    fn at_or_after(&mut self, k: usize) -> usize {
        Self::root(&mut self.right, k)
    }

    /// The last free position < k.
    fn before(&mut self, k: usize) -> Option<usize> {
        Self::root(&mut self.left, k).checked_sub(1)
    }

    /// Take position `p` off the list.
    fn take(&mut self, p: usize) {
        self.right[p] = p + 1;
        self.left[p + 1] = p;
    }
}

/// The weights (normalised within each arm) and, without replacement, the subclasses
/// of the `matches` (one list per unit) of the treated units in `order`.
fn matched_weights(
    order: &[usize],
    matches: &[Vec<usize>],
    treated: &[bool],
    replace: bool,
) -> Matched {
    let n = matches.len();
    let mut weights = vec![0.0; n];
    let mut subclass = vec![None; n];
    let mut unmatched_treated = 0;
    for (s, &t) in order.iter().enumerate() {
        let m = &matches[t];
        if m.is_empty() {
            unmatched_treated += 1;
            continue;
        }
        weights[t] = 1.0;
        for &c in m {
            weights[c] += 1.0 / m.len() as f64;
        }
        if !replace {
            subclass[t] = Some(s as u32);
            for &c in m {
                subclass[c] = Some(s as u32);
            }
        }
    }
    let (s1, s0) = (0..n).fold((0.0, 0.0), |a, i| {
        if treated[i] {
            (a.0 + weights[i], a.1)
        } else {
            (a.0, a.1 + weights[i])
        }
    });
    for i in 0..n {
        let s = if treated[i] { s1 } else { s0 };
        if s > 0.0 {
            weights[i] /= s;
        }
    }
    Matched {
        weights,
        subclass,
        unmatched_treated,
    }
}

/// The matched difference in means Σ_treated wᵢyᵢ − Σ_comparison wᵢyᵢ over the matched
/// units, by weighted least squares of y on the arm indicator: without replacement
/// with the cluster-robust CR1 variance by subclass (as sandwich `vcovCL(type =
/// "HC1")`, t with G − 1 df), with replacement HC2 with the weights fixed (t with
/// n − 2 df). Returns the inference and the SE type.
pub fn matched_difference(
    y: &[f64],
    treated: &[bool],
    m: &Matched,
    conf_level: f64,
) -> crate::stats::StatsResult<(crate::stats::Inference, crate::stats::ols::SeType)> {
    use crate::stats::ols::{Clusters, SeType, fit_weighted};
    let keep: Vec<usize> = (0..y.len()).filter(|&i| m.weights[i] > 0.0).collect();
    let yk: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
    let tk: Vec<f64> = keep
        .iter()
        .map(|&i| f64::from(u8::from(treated[i])))
        .collect();
    let wk: Vec<f64> = keep.iter().map(|&i| m.weights[i]).collect();
    let fit = fit_weighted(&yk, &[&tk], &wk, true)?;
    let with_subclasses = keep.iter().all(|&i| m.subclass[i].is_some());
    if with_subclasses {
        let labels: Vec<u32> = keep.iter().filter_map(|&i| m.subclass[i]).collect();
        let cl = Clusters::from_labels(&labels);
        let inf = fit.coef_inference(1, SeType::Cr1, Some(&cl), conf_level)?;
        Ok((inf.inference, SeType::Cr1))
    } else {
        let inf = fit.coef_inference(1, SeType::Hc2, None, conf_level)?;
        Ok((inf.inference, SeType::Hc2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The documented rule by brute force: the free comparison unit with the smallest
    /// |difference|, ties (within TIE) to the lowest data index.
    fn brute(
        d: &[f64],
        t: &[bool],
        groups: Option<&[u32]>,
        ratio: usize,
        replace: bool,
        width: Option<f64>,
    ) -> Vec<f64> {
        let n = d.len();
        let mut order: Vec<usize> = (0..n).filter(|&i| t[i]).collect();
        order.sort_by(|&a, &b| d[b].total_cmp(&d[a]));
        let mut used = vec![false; n];
        let mut m: Vec<Vec<usize>> = vec![Vec::new(); n];
        let best = |i: usize, used: &[bool], taken: &[usize]| {
            let ok = |c: &usize| {
                !t[*c]
                    && groups.is_none_or(|g| g[*c] == g[i])
                    && !used[*c]
                    && !taken.contains(c)
                    && width.is_none_or(|w| (d[*c] - d[i]).abs() <= w)
            };
            let g = (0..n)
                .filter(ok)
                .map(|c| (d[c] - d[i]).abs())
                .min_by(f64::total_cmp)?;
            (0..n)
                .filter(ok)
                .find(|&c| (d[c] - d[i]).abs() <= g + TIE * (1.0 + d[i].abs()))
        };
        for round in 0..ratio {
            for &i in &order {
                if (!replace && round > 0 && m[i].len() < round) || (replace && m[i].len() < round)
                {
                    continue;
                }
                let taken = m[i].clone();
                if let Some(c) = best(i, &used, &taken) {
                    used[c] |= !replace;
                    m[i].push(c);
                }
            }
        }
        let mut w = vec![0.0; n];
        for i in 0..n {
            if !m[i].is_empty() {
                w[i] = 1.0;
                for &c in &m[i] {
                    w[c] += 1.0 / m[i].len() as f64;
                }
            }
        }
        w
    }

    #[test]
    fn sorted_search_equals_brute_force_with_ties() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for draw in 0..120 {
            // Small and larger samples, few and many treated (so that most comparison
            // units are used up and the free list skips long runs), with and without
            // exact-matching groups.
            let n = if draw % 3 == 0 { 400 } else { 60 };
            let share = [0.3, 0.6][draw % 2];
            // Distances on a coarse grid, so that ties are common.
            let d: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.random_range(0..12u8)) / 4.0)
                .collect();
            let t: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < share).collect();
            let codes: Vec<u32> = (0..n).map(|_| rng.random_range(0..3u32)).collect();
            let groups = (draw % 4 >= 2).then_some(codes.as_slice());
            for (ratio, replace, caliper) in [
                (1, false, None),
                (2, false, None),
                (2, true, None),
                (3, true, Some(0.3)),
                (1, false, Some(0.3)),
            ] {
                let m = nearest_within(&d, &t, groups, ratio, replace, caliper);
                let width = caliper.map(|c| c * crate::stats::describe::mean_var(&d).1.sqrt());
                let want = brute(&d, &t, groups, ratio, replace, width);
                let (s1, s0) = (0..n).fold((0.0, 0.0), |a, i| {
                    if t[i] {
                        (a.0 + want[i], a.1)
                    } else {
                        (a.0, a.1 + want[i])
                    }
                });
                for i in 0..n {
                    let w = want[i] / if t[i] { s1 } else { s0 };
                    assert!(
                        (m.weights[i] - w).abs() < 1e-12,
                        "draw {draw} {ratio} {replace} {caliper:?} groups {} unit {i}",
                        groups.is_some()
                    );
                }
            }
        }
    }

    /// A fitted propensity of exactly 1 gives an infinite distance: such a treated unit
    /// takes, as the brute force does, the first finite comparison unit in data order
    /// (every finite one is infinitely far, a tie), and never one at the same infinite
    /// distance (their gap is not a number).
    #[test]
    fn infinite_distances_follow_the_brute_force() {
        let inf = f64::INFINITY;
        let d = [inf, 0.5, inf, 0.2, 1.0, inf, 0.4, 0.9];
        let t = [true, false, false, true, false, false, false, true];
        for (ratio, replace) in [(1, false), (2, false), (2, true)] {
            let m = nearest(&d, &t, ratio, replace, None);
            let want = brute(&d, &t, None, ratio, replace, None);
            let (s1, s0) = (0..d.len()).fold((0.0, 0.0), |a, i| {
                if t[i] {
                    (a.0 + want[i], a.1)
                } else {
                    (a.0, a.1 + want[i])
                }
            });
            for i in 0..d.len() {
                let w = want[i] / if t[i] { s1 } else { s0 };
                assert!(
                    (m.weights[i] - w).abs() < 1e-12,
                    "{ratio} {replace} unit {i}"
                );
            }
        }
    }

    /// The free list against a plain scan, taking positions in a random order.
    #[test]
    fn free_list_finds_the_nearest_free_positions() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let len = 300;
        let mut free = Free::new(len);
        let mut used = vec![false; len];
        for _ in 0..len {
            for k in 0..=len {
                let right = (k..len).find(|&p| !used[p]).unwrap_or(len);
                let left = (0..k).rev().find(|&p| !used[p]);
                assert_eq!(free.at_or_after(k), right, "right of {k}");
                assert_eq!(free.before(k), left, "left of {k}");
            }
            let p = loop {
                let p = rng.random_range(0..len);
                if !used[p] {
                    break p;
                }
            };
            used[p] = true;
            free.take(p);
        }
        assert_eq!(free.at_or_after(0), len);
        assert_eq!(free.before(len), None);
    }

    /// A treated unit midway between two comparison units is a tie even when the two
    /// gaps differ in the last bits (0.3 − 0.1 and 0.5 − 0.3 differ in floating point):
    /// the first comparison unit in data order is taken, not the one whose gap rounds
    /// smaller.
    #[test]
    fn midway_is_a_tie_whatever_the_rounding() {
        let d = [0.3_f64, 0.5, 0.1];
        assert_ne!((d[0] - d[2]).abs(), (d[1] - d[0]).abs());
        let t = [true, false, false];
        let m = nearest(&d, &t, 1, false, None);
        assert_eq!(m.weights, vec![1.0, 1.0, 0.0]);
        // The same with the comparison units in the other order.
        let d = [0.3_f64, 0.1, 0.5];
        let m = nearest(&d, &t, 1, false, None);
        assert_eq!(m.weights, vec![1.0, 1.0, 0.0]);
    }
}
