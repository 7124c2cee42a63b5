//! The log-rank test of equal survival in G groups, optionally stratified.
//!
//! Mantel (1966); Peto & Peto (1972). At each distinct event time (within a stratum)
//! with n at risk, d events, nⱼ at risk and dⱼ events in group j:
//! Eⱼ += d·nⱼ/n and, with the hypergeometric variance for tied events,
//! Vⱼₖ += d(n−d)/(n−1) · nⱼ/n · (δⱼₖ − nₖ/n). Stratified: O, E and V are summed over
//! the strata (each stratum has its own risk sets). The statistic is
//! (O−E)'V⁻(O−E) computed, as R `survdiff` does, by dropping the groups with no
//! expected events and then the first remaining group, and solving with the rest;
//! df = (groups with expected events) − 1; p from χ²(df).
//!
//! Scale: one sort by time ([`SortedSubjects`], a radix sort), a linear split by
//! stratum and one linear pass with O(G²) work per distinct event time.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::super::dist::chi_square_sf;
use super::{
    LevelIndex, SortedSubjects, StatsError, StatsResult, check_len, check_nonempty, check_subjects,
    levels,
};

/// Observed and expected events of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogRankGroup {
    pub group: u32,
    pub n: usize,
    pub observed: usize,
    pub expected: f64,
}

/// The log-rank test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRank {
    pub statistic: f64,
    pub df: usize,
    pub p_value: f64,
    /// Per group, ordered by code.
    pub groups: Vec<LogRankGroup>,
    /// The G×G variance matrix of O − E (rows in group order).
    pub variance: Vec<Vec<f64>>,
    /// Number of strata (1 when unstratified).
    pub strata: usize,
}

/// Log-rank test of `group` (codes, any values), stratified by `strata` when given.
///
/// Fails with [`StatsError::Invalid`] for inputs of different lengths, a missing,
/// infinite or negative time, or fewer than two groups with expected events; with
/// [`StatsError::NoVariance`] when the variance matrix is singular.
pub fn log_rank(
    time: &[f64],
    event: &[bool],
    group: &[u32],
    strata: Option<&[u32]>,
) -> StatsResult<LogRank> {
    let mut others = vec![("group codes", group.len())];
    if let Some(s) = strata {
        others.push(("stratum codes", s.len()));
    }
    check_subjects(time, event, &others)?;
    test(&SortedSubjects::sort(time, event), group, strata)
}

/// [`log_rank`] on subjects sorted once ([`SortedSubjects`]); `group` and `strata` have
/// one code per subject in the caller's order. The same test.
pub fn log_rank_sorted(
    sorted: &SortedSubjects,
    group: &[u32],
    strata: Option<&[u32]>,
) -> StatsResult<LogRank> {
    check_len(sorted, "group codes", group.len())?;
    if let Some(s) = strata {
        check_len(sorted, "stratum codes", s.len())?;
    }
    check_nonempty(sorted)?;
    test(sorted, group, strata)
}

fn test(sorted: &SortedSubjects, group: &[u32], strata: Option<&[u32]>) -> StatsResult<LogRank> {
    let levels = levels(group);
    let index = LevelIndex::new(&levels);
    let ng = levels.len();
    // Group index of each sorted subject; the strata's sorted positions.
    let gidx: Vec<u32> = sorted
        .keyed
        .iter()
        .map(|&(_, i)| index.of(group[i as usize]))
        .collect();
    let by_stratum = sorted.grouped(strata);

    let mut n_group = vec![0usize; ng];
    let mut observed = vec![0usize; ng];
    let mut expected = vec![0.0; ng];
    let mut var = vec![0.0; ng * ng];
    let mut at_risk = vec![0usize; ng];
    let mut d_here = vec![0usize; ng];
    let mut left_here = vec![0usize; ng];
    let n_strata = by_stratum.levels.len();
    for st in 0..n_strata {
        let seg = by_stratum.group(st);
        let time = |i: usize| sorted.time(seg[i] as usize);
        let g = |i: usize| gidx[seg[i] as usize] as usize;
        at_risk.iter_mut().for_each(|a| *a = 0);
        for i in 0..seg.len() {
            at_risk[g(i)] += 1;
            n_group[g(i)] += 1;
        }
        let mut n = seg.len();
        let mut i = 0;
        while i < seg.len() {
            let t = time(i);
            d_here.iter_mut().for_each(|x| *x = 0);
            left_here.iter_mut().for_each(|x| *x = 0);
            let mut d = 0;
            let first = i;
            while i < seg.len() && time(i) == t {
                let j = g(i);
                left_here[j] += 1;
                if sorted.event[seg[i] as usize] {
                    d_here[j] += 1;
                    d += 1;
                }
                i += 1;
            }
            if d > 0 {
                let (nf, df) = (n as f64, d as f64);
                let hyper = if n > 1 {
                    df * (nf - df) / (nf - 1.0)
                } else {
                    0.0
                };
                for j in 0..ng {
                    observed[j] += d_here[j];
                    let pj = at_risk[j] as f64 / nf;
                    expected[j] += df * pj;
                    if hyper > 0.0 && at_risk[j] > 0 {
                        for k in 0..ng {
                            let pk = at_risk[k] as f64 / nf;
                            let delta = if j == k { 1.0 } else { 0.0 };
                            var[j * ng + k] += hyper * pj * (delta - pk);
                        }
                    }
                }
            }
            for j in 0..ng {
                at_risk[j] -= left_here[j];
            }
            n -= i - first;
        }
    }

    // Groups with expected events; the first of them is the reference left out.
    let keep: Vec<usize> = (0..ng).filter(|&j| expected[j] > 0.0).collect();
    if keep.len() < 2 {
        return Err(StatsError::Invalid(format!(
            "the log-rank test needs at least two groups with subjects at risk at an event time; {} group(s) have",
            keep.len()
        )));
    }
    let rest = &keep[1..];
    let m = rest.len();
    let v = DMatrix::from_fn(m, m, |a, b| var[rest[a] * ng + rest[b]]);
    let u = DVector::from_fn(m, |a, _| observed[rest[a]] as f64 - expected[rest[a]]);
    let solved = v.lu().solve(&u).ok_or(StatsError::NoVariance)?;
    let statistic = u.dot(&solved);
    if !statistic.is_finite() {
        return Err(StatsError::NoVariance);
    }
    Ok(LogRank {
        statistic,
        df: m,
        p_value: chi_square_sf(statistic, m as f64),
        groups: (0..ng)
            .map(|j| LogRankGroup {
                group: levels[j],
                n: n_group[j],
                observed: observed[j],
                expected: expected[j],
            })
            .collect(),
        variance: (0..ng)
            .map(|j| var[j * ng..(j + 1) * ng].to_vec())
            .collect(),
        strata: n_strata,
    })
}
