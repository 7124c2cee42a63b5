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
    Codes, LevelIndex, SortedSubjects, StatsError, StatsResult, check_len, check_nonempty,
    check_subjects, levels,
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
    test(
        &SortedSubjects::sort(time, event, Some(group)),
        Codes::Carried,
        strata,
    )
}

/// [`log_rank`] on subjects sorted once ([`SortedSubjects`]); `group` and `strata` have
/// one code per subject in the caller's order. The same test.
pub fn log_rank_sorted<'a>(
    sorted: &SortedSubjects,
    group: impl Into<Codes<'a>>,
    strata: Option<&[u32]>,
) -> StatsResult<LogRank> {
    if let Some(s) = strata {
        check_len(sorted, "stratum codes", s.len())?;
    }
    check_nonempty(sorted)?;
    test(sorted, group.into(), strata)
}

fn test(sorted: &SortedSubjects, group: Codes, strata: Option<&[u32]>) -> StatsResult<LogRank> {
    // Group index of each sorted subject; the strata's sorted positions.
    let mut gidx = sorted.sorted_codes(group, "group codes")?;
    let levels = levels(&gidx);
    let index = LevelIndex::new(&levels);
    let ng = levels.len();
    for g in gidx.iter_mut() {
        *g = index.of(*g);
    }
    // Without strata the positions are simply 0..n.
    let by_stratum = strata
        .map(|s| sorted.sorted_codes(Codes::BySubject(s), "stratum codes"))
        .transpose()?
        .map(|s| sorted.grouped(s));

    let mut n_group = vec![0usize; ng];
    let mut observed = vec![0usize; ng];
    let mut expected = vec![0.0; ng];
    let mut var = vec![0.0; ng * ng];
    let mut at_risk = vec![0usize; ng];
    let mut d_here = vec![0usize; ng];
    let mut left_here = vec![0usize; ng];
    let n_strata = by_stratum.as_ref().map_or(1, |b| b.levels.len());
    for st in 0..n_strata {
        let seg: Option<&[u32]> = by_stratum.as_ref().map(|b| b.group(st));
        let len = seg.map_or(sorted.len(), <[u32]>::len);
        let pos = |i: usize| seg.map_or(i, |s| s[i] as usize);
        let time = |i: usize| sorted.time(pos(i));
        let g = |i: usize| gidx[pos(i)] as usize;
        at_risk.iter_mut().for_each(|a| *a = 0);
        for i in 0..len {
            at_risk[g(i)] += 1;
            n_group[g(i)] += 1;
        }
        let mut n = len;
        let mut i = 0;
        while i < len {
            let t = time(i);
            d_here.iter_mut().for_each(|x| *x = 0);
            left_here.iter_mut().for_each(|x| *x = 0);
            let mut d = 0;
            let first = i;
            while i < len && time(i) == t {
                let j = g(i);
                left_here[j] += 1;
                if sorted.event(pos(i)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Four subjects, all with the event: group 0 at times 1 and 3, group 1 at 2 and 4.
    /// By hand, per event time (n at risk, n₀ of them in group 0, d = 1 each time):
    ///
    /// | t | n | n₀ | E₀ += n₀/n | V += (n−1)/(n−1) · n₀/n · (1 − n₀/n) |
    /// |---|---|----|------------|--------------------------------------|
    /// | 1 | 4 | 2  | 1/2        | 1/4                                  |
    /// | 2 | 3 | 1  | 1/3        | 2/9                                  |
    /// | 3 | 2 | 1  | 1/2        | 1/4                                  |
    /// | 4 | 1 | 0  | 0          | 0 (one at risk: no variance)         |
    ///
    /// O₀ = 2, E₀ = 4/3, O₀ − E₀ = 2/3, V = 13/18, so the statistic is
    /// (2/3)² / (13/18) = 8/13 on 1 df, p = P(χ²₁ > 8/13) = erfc(√(4/13)) = 0.432768.
    #[test]
    fn two_groups_without_ties_by_hand() {
        let lr = log_rank(&[1.0, 3.0, 2.0, 4.0], &[true; 4], &[0, 0, 1, 1], None).unwrap();
        assert!(close(lr.statistic, 8.0 / 13.0), "{}", lr.statistic);
        assert_eq!(lr.df, 1);
        assert!(
            (lr.p_value - 0.432_767_580_667_784_6).abs() < 1e-9,
            "{}",
            lr.p_value
        );
        assert_eq!(lr.groups[0].observed, 2);
        assert_eq!(lr.groups[1].observed, 2);
        assert!(close(lr.groups[0].expected, 4.0 / 3.0));
        assert!(close(lr.groups[1].expected, 8.0 / 3.0));
        assert!(close(lr.variance[0][0], 13.0 / 18.0));
        assert!(close(lr.variance[0][1], -13.0 / 18.0));
        assert_eq!(lr.strata, 1);
    }

    /// Tied events use the hypergeometric variance d(n−d)/(n−1). Group 0: events at 2
    /// and 2, censored at 3; group 1: event at 2 and 4, censored at 5. At t = 2, six
    /// at risk (three per group) and three events, two of them in group 0:
    /// E₀ = 3 · 3/6 = 3/2 and V = 3·3/5 · 1/2 · 1/2 = 9/20. At t = 4 only group 1 is at
    /// risk, which adds nothing. O₀ − E₀ = 1/2, so the statistic is (1/4)/(9/20) = 5/9.
    #[test]
    fn tied_events_use_the_hypergeometric_variance() {
        let time = [2.0, 2.0, 3.0, 2.0, 4.0, 5.0];
        let event = [true, true, false, true, true, false];
        let lr = log_rank(&time, &event, &[0, 0, 0, 1, 1, 1], None).unwrap();
        assert!(close(lr.groups[0].expected, 1.5));
        assert!(close(lr.variance[0][0], 0.45));
        assert!(close(lr.statistic, 5.0 / 9.0), "{}", lr.statistic);
    }

    /// Two strata, each a copy of the first example: O − E and V add over strata, so
    /// the statistic is (4/3)² / (13/9) = 16/13.
    #[test]
    fn strata_add_their_observed_expected_and_variance() {
        let time = [1.0, 3.0, 2.0, 4.0, 1.0, 3.0, 2.0, 4.0];
        let group = [0, 0, 1, 1, 0, 0, 1, 1];
        let strata = [0, 0, 0, 0, 1, 1, 1, 1];
        let lr = log_rank(&time, &[true; 8], &group, Some(&strata)).unwrap();
        assert!(close(lr.statistic, 16.0 / 13.0), "{}", lr.statistic);
        assert!(close(lr.groups[0].expected, 8.0 / 3.0));
        assert_eq!(lr.strata, 2);
        // Sorted once, the same test.
        let sorted = SortedSubjects::sort(&time, &[true; 8], None);
        assert_eq!(log_rank_sorted(&sorted, &group, Some(&strata)).unwrap(), lr);
    }

    #[test]
    fn one_group_with_events_is_an_error() {
        let err = log_rank(&[1.0, 2.0], &[true, true], &[0, 0], None).unwrap_err();
        assert!(matches!(err, StatsError::Invalid(_)), "{err:?}");
    }
}
