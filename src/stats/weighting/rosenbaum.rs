//! Rosenbaum bounds for 1:1 matched pairs (Rosenbaum 2002, *Observational Studies*, 2nd
//! ed., Springer, ch. 4): how strong a hidden bias in who took part would have to be
//! before the matched comparison stops being significant.
//!
//! Within a pair, an unmeasured difference may make one unit up to Γ times as likely to
//! take part as the other (Γ = 1: no hidden bias). For each Γ the one-sided p-value has
//! a largest possible value (the upper bound), and the reported `gamma` is the largest
//! Γ at which that bound stays at or below `alpha`: the sensitivity of the result.
//!
//! Conventions (as R `rbounds::psens` and `rbounds::binarysens`, Keele 2010):
//! - the test is one-sided in the direction of the matched difference's sign (pairs'
//!   differences treated − control; a negative sum of signed ranks or more pairs where
//!   only the control unit has the outcome tests the other side, on −d);
//! - continuous outcomes, Wilcoxon's signed-rank statistic: pairs with a zero
//!   difference are dropped; the |differences| are ranked with average ranks for ties;
//!   T = Σ rankᵢ·1(dᵢ > 0); with p⁺ = Γ/(1 + Γ) the upper bound of T has mean
//!   E = p⁺ Σ rankᵢ and variance V = p⁺(1 − p⁺) Σ rankᵢ² (Rosenbaum 2002, §4.3.3), and
//!   the bound on the p-value is the normal approximation 1 − Φ((T − E)/√V) (no
//!   continuity correction);
//! - yes/no outcomes, the sign (McNemar) test on the discordant pairs: of D pairs where
//!   exactly one unit has the outcome, T have it in the treated unit; the bound on the
//!   p-value is P(X ≥ T) for X ~ Binomial(D, p⁺), exact (Rosenbaum 2002, §4.3.2);
//! - `gamma`: the root of bound(Γ) = alpha by bisection on log Γ (the bound increases
//!   with Γ), to 1e-13 relative; None when even Γ = 1 gives a bound above alpha (not
//!   significant without hidden bias); capped at [`GAMMA_MAX`].

use statrs::distribution::{Binomial, DiscreteCDF};

use crate::stats::{StatsError, StatsResult};

/// The largest Γ searched for.
pub const GAMMA_MAX: f64 = 1e6;

/// Which test the bound is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairTest {
    /// Wilcoxon's signed-rank test (continuous outcomes).
    SignedRank,
    /// The sign (McNemar) test on discordant pairs (yes/no outcomes).
    Sign,
}

/// The sensitivity of a matched-pair comparison.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RosenbaumBound {
    pub test: PairTest,
    /// The largest Γ with the one-sided upper-bound p-value at or below `alpha`; None
    /// when the comparison is not significant at Γ = 1.
    pub gamma: Option<f64>,
    /// The one-sided p-value at Γ = 1 (no hidden bias).
    pub p_value: f64,
    pub alpha: f64,
    /// Pairs that enter the test (non-zero differences, or discordant pairs).
    pub n_pairs_used: usize,
}

/// The statistic of a one-sided test in the effect's direction and its upper-bound
/// p-value at any Γ.
enum Stat {
    SignedRank { t: f64, sum_q: f64, sum_q2: f64 },
    Sign { t: u64, d: u64 },
}

impl Stat {
    fn bound(&self, gamma: f64) -> f64 {
        let p = gamma / (1.0 + gamma);
        match *self {
            Stat::SignedRank { t, sum_q, sum_q2 } => {
                let (e, v) = (p * sum_q, p * (1.0 - p) * sum_q2);
                crate::stats::dist::normal_cdf(-(t - e) / v.sqrt())
            }
            Stat::Sign { t, d } => {
                if t == 0 {
                    return 1.0;
                }
                match Binomial::new(p, d) {
                    Ok(b) => b.sf(t - 1),
                    Err(_) => f64::NAN,
                }
            }
        }
    }
}

/// The largest Γ with bound(Γ) ≤ alpha, by bisection on log Γ.
fn solve(stat: &Stat, alpha: f64) -> Option<f64> {
    if stat.bound(1.0) > alpha {
        return None;
    }
    if stat.bound(GAMMA_MAX) <= alpha {
        return Some(GAMMA_MAX);
    }
    let (mut lo, mut hi) = (0.0f64, GAMMA_MAX.ln());
    while hi - lo > 1e-13 * hi.max(1e-3) {
        let mid = 0.5 * (lo + hi);
        if stat.bound(mid.exp()) <= alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((0.5 * (lo + hi)).exp())
}

fn check_alpha(alpha: f64) -> StatsResult<()> {
    if alpha > 0.0 && alpha < 0.5 {
        Ok(())
    } else {
        Err(StatsError::Invalid(format!(
            "alpha is {alpha}; use a one-sided level between 0 and 0.5, e.g. 0.05"
        )))
    }
}

/// Average ranks (1-based) of `v` (ties share the mean of their positions).
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Wilcoxon's signed-rank statistic of the pair differences `d` in the effect's
/// direction, and the number of non-zero differences.
fn signed_rank_stat(d: &[f64]) -> StatsResult<(Stat, usize)> {
    if d.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::Invalid(
            "a pair difference is missing or not finite".into(),
        ));
    }
    let nz: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0).collect();
    if nz.is_empty() {
        return Err(StatsError::Invalid(
            "every pair has the same outcome in both units: nothing to test".into(),
        ));
    }
    let q = average_ranks(&nz.iter().map(|x| x.abs()).collect::<Vec<_>>());
    let sum_q: f64 = q.iter().sum();
    let sum_q2: f64 = q.iter().map(|r| r * r).sum();
    let t_pos: f64 = nz
        .iter()
        .zip(&q)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    // In the effect's direction: the positive ranks when they are at least half the
    // total, else the negative ones (the test on −d).
    let t = if t_pos >= sum_q / 2.0 {
        t_pos
    } else {
        sum_q - t_pos
    };
    Ok((Stat::SignedRank { t, sum_q, sum_q2 }, nz.len()))
}

/// The sign test's statistic for yes/no outcomes of matched pairs in the effect's
/// direction, and the number of discordant pairs.
fn sign_stat(treated: &[f64], control: &[f64]) -> StatsResult<(Stat, usize)> {
    if treated.len() != control.len() {
        return Err(StatsError::Invalid(format!(
            "{} treated and {} control outcomes for matched pairs",
            treated.len(),
            control.len()
        )));
    }
    if treated.iter().chain(control).any(|&v| v != 0.0 && v != 1.0) {
        return Err(StatsError::Invalid(
            "the sign test takes outcomes of 0 and 1 only".into(),
        ));
    }
    let count = |a: f64, b: f64| {
        treated
            .iter()
            .zip(control)
            .filter(|(t, c)| **t == a && **c == b)
            .count() as u64
    };
    let (only_t, only_c) = (count(1.0, 0.0), count(0.0, 1.0));
    let d = only_t + only_c;
    if d == 0 {
        return Err(StatsError::Invalid(
            "no discordant pair (every pair has the same outcome in both units): nothing to test"
                .into(),
        ));
    }
    Ok((
        Stat::Sign {
            t: only_t.max(only_c),
            d,
        },
        d as usize,
    ))
}

fn bound_of(test: PairTest, (stat, n): (Stat, usize), alpha: f64) -> RosenbaumBound {
    RosenbaumBound {
        test,
        gamma: solve(&stat, alpha),
        p_value: stat.bound(1.0),
        alpha,
        n_pairs_used: n,
    }
}

/// The Rosenbaum bound of Wilcoxon's signed-rank test for the pair differences `d`
/// (treated − control), at one-sided level `alpha`. See the module documentation.
pub fn signed_rank_bound(d: &[f64], alpha: f64) -> StatsResult<RosenbaumBound> {
    check_alpha(alpha)?;
    Ok(bound_of(PairTest::SignedRank, signed_rank_stat(d)?, alpha))
}

/// The Rosenbaum bound of the sign (McNemar) test for yes/no outcomes of matched pairs
/// (`treated[i]`, `control[i]` the outcomes, 0 or 1, of pair i), at one-sided level
/// `alpha`. See the module documentation.
pub fn sign_bound(treated: &[f64], control: &[f64], alpha: f64) -> StatsResult<RosenbaumBound> {
    check_alpha(alpha)?;
    Ok(bound_of(
        PairTest::Sign,
        sign_stat(treated, control)?,
        alpha,
    ))
}

/// The one-sided upper-bound p-value of the signed-rank test at `gamma` ≥ 1.
pub fn signed_rank_p_at(d: &[f64], gamma: f64) -> StatsResult<f64> {
    Ok(signed_rank_stat(d)?.0.bound(gamma))
}

/// The one-sided upper-bound p-value of the sign test at `gamma` ≥ 1.
pub fn sign_p_at(treated: &[f64], control: &[f64], gamma: f64) -> StatsResult<f64> {
    Ok(sign_stat(treated, control)?.0.bound(gamma))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_ranks_share_ties() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0]),
            vec![3.5, 1.0, 3.5, 2.0]
        );
    }

    #[test]
    fn the_bound_grows_with_gamma_and_gamma_solves_it() {
        let d: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin() + 0.6).collect();
        let b = signed_rank_bound(&d, 0.05).unwrap();
        let g = b.gamma.unwrap();
        assert!(g > 1.0);
        let at = signed_rank_p_at(&d, g).unwrap();
        assert!((at - 0.05).abs() < 1e-10, "{at}");
        assert!(signed_rank_p_at(&d, g * 1.1).unwrap() > 0.05);
        // Swapping the arms (negating every difference) gives the same bound.
        let neg: Vec<f64> = d.iter().map(|x| -x).collect();
        assert_eq!(signed_rank_bound(&neg, 0.05).unwrap().gamma, b.gamma);
    }

    #[test]
    fn no_effect_has_no_gamma_and_bad_input_is_refused() {
        let d = [1.0, -1.0, 2.0, -2.0];
        assert_eq!(signed_rank_bound(&d, 0.05).unwrap().gamma, None);
        assert!(signed_rank_bound(&[0.0, 0.0], 0.05).is_err());
        assert!(signed_rank_bound(&[1.0], 0.7).is_err());
        assert!(sign_bound(&[1.0, 2.0], &[0.0, 0.0], 0.05).is_err());
        assert!(sign_bound(&[1.0, 0.0], &[1.0, 0.0], 0.05).is_err());
    }
}
