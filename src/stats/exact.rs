//! Fisher's exact test for a 2×2 table, with the conditional maximum-likelihood odds
//! ratio and its exact confidence interval, as R `stats::fisher.test` defines them.
//!
//! Source: Fisher (1935), *JRSS* 98; the conditional MLE and interval follow
//! Cornfield (1956) and R's `fisher.test` (R 4.2.2), whose code this mirrors:
//! conditional on the margins, the count `a` of the table
//!
//! ```text
//!            event   no event
//! treated      a        b
//! control      c        d
//! ```
//!
//! follows Fisher's noncentral hypergeometric distribution on the support
//! lo = max(0, k − n) … hi = min(k, m) (m = a + c events, n = b + d non-events,
//! k = a + b treated), with P(a = s) ∝ C(m, s)·C(n, k − s)·ψˢ for odds ratio ψ.
//! The central weights C(m, s)·C(n, k − s) come from statrs' hypergeometric pmf.
//!
//! - p-value (two-sided): the sum of the null (ψ = 1) probabilities of all tables that
//!   are no more likely than the observed one, with R's relative tolerance: the tables
//!   with P(s) ≤ P(a)·(1 + 10⁻⁷).
//! - estimate: the conditional MLE, the ψ at which E_ψ[a] = a; 0 when a = lo and ∞
//!   when a = hi (as R).
//! - interval at level 1 − α: the lower limit solves P_ψ(a' ≥ a) = α/2 (0 when
//!   a = lo), the upper limit P_ψ(a' ≤ a) = α/2 (∞ when a = hi).
//!
//! R solves these equations with `uniroot` at its default tolerance, so its estimate
//! and limits are good to only about 1e-4 relative; here they are solved by bisection
//! on log ψ to the limits of double precision, and agree with a 50-digit solution of
//! the same equations (see `scripts/fixtures/README.md`).

use serde::Serialize;
use statrs::distribution::{Discrete, Hypergeometric};

use super::binary::Counts;
use super::{StatsError, StatsResult};

/// Fisher's exact test and the conditional odds ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FisherExact {
    /// Two-sided p-value.
    pub p_value: f64,
    /// Conditional maximum-likelihood estimate of the odds ratio (treated vs control).
    pub odds_ratio: f64,
    /// Exact (conditional) confidence limits of the odds ratio.
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The conditional distribution of the top-left count, from its central log weights.
struct Noncentral {
    lo: u64,
    /// log C(m, s)·C(n, k − s) up to a constant, for s = lo..=hi.
    log_weight: Vec<f64>,
}

impl Noncentral {
    fn new(m: u64, n: u64, k: u64) -> StatsResult<Self> {
        let h = Hypergeometric::new(m + n, m, k)
            .map_err(|e| StatsError::Invalid(format!("hypergeometric margins: {e}")))?;
        let lo = k.saturating_sub(n);
        let hi = k.min(m);
        let log_weight = (lo..=hi).map(|s| h.ln_pmf(s)).collect();
        Ok(Self { lo, log_weight })
    }

    fn hi(&self) -> u64 {
        self.lo + self.log_weight.len() as u64 - 1
    }

    /// Probabilities of s = lo..=hi at log odds ratio `u` (R's `dnhyper`).
    fn density(&self, u: f64) -> Vec<f64> {
        let logs: Vec<f64> = self
            .log_weight
            .iter()
            .enumerate()
            .map(|(i, w)| w + u * (self.lo + i as u64) as f64)
            .collect();
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let d: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
        let total: f64 = d.iter().sum();
        d.into_iter().map(|v| v / total).collect()
    }

    /// E_ψ[a] at log odds ratio `u` (R's `mnhyper`).
    fn mean(&self, u: f64) -> f64 {
        self.density(u)
            .iter()
            .enumerate()
            .map(|(i, p)| p * (self.lo + i as u64) as f64)
            .sum()
    }

    /// P_ψ(a' ≤ x), or P_ψ(a' ≥ x) when `upper` (R's `pnhyper`).
    fn tail(&self, x: u64, u: f64, upper: bool) -> f64 {
        let d = self.density(u);
        d.iter()
            .enumerate()
            .filter(|(i, _)| {
                let s = self.lo + *i as u64;
                if upper { s >= x } else { s <= x }
            })
            .map(|(_, p)| p)
            .sum()
    }
}

/// The root of an increasing function `f` of the log odds ratio, by bisection to the
/// resolution of doubles. `f` must change sign on the real line.
fn solve_increasing(f: impl Fn(f64) -> f64) -> f64 {
    let (mut a, mut b) = (-1.0, 1.0);
    while f(a) > 0.0 {
        a *= 2.0;
        if a < -1e4 {
            return f64::NEG_INFINITY;
        }
    }
    while f(b) < 0.0 {
        b *= 2.0;
        if b > 1e4 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (a + b);
        if mid <= a || mid >= b {
            break;
        }
        if f(mid) < 0.0 {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

/// Fisher's exact test of `treated` events vs `control` events, with the conditional
/// MLE of the odds ratio (odds of the event in the treated arm over the control arm)
/// and its exact interval at `conf_level`.
///
/// As R `fisher.test(matrix(c(a, c, b, d), 2))` (rows treated, control; columns event,
/// no event). A table whose margins leave a single possible table (an arm of size 0
/// is refused earlier, but e.g. no events at all) has p = 1, estimate 0 and interval
/// (0, ∞), as in R.
pub fn fisher_exact(treated: Counts, control: Counts, conf_level: f64) -> StatsResult<FisherExact> {
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(StatsError::Invalid(format!(
            "confidence level {conf_level} is not between 0 and 1"
        )));
    }
    for c in [treated, control] {
        if c.trials == 0 {
            return Err(StatsError::TooFew { needed: 1, got: 0 });
        }
    }
    let a = treated.events;
    let m = treated.events + control.events;
    let n = (treated.trials - treated.events) + (control.trials - control.events);
    let k = treated.trials;
    let dist = Noncentral::new(m, n, k)?;
    let (lo, hi) = (dist.lo, dist.hi());

    // p-value: null density, tables no more likely than the observed one.
    let d0 = dist.density(0.0);
    let observed = d0[(a - lo) as usize] * (1.0 + 1e-7);
    let p_value = d0.iter().filter(|&&p| p <= observed).sum::<f64>().min(1.0);

    let x = a as f64;
    let odds_ratio = if a == lo {
        0.0
    } else if a == hi {
        f64::INFINITY
    } else {
        solve_increasing(|u| dist.mean(u) - x).exp()
    };
    let alpha = (1.0 - conf_level) / 2.0;
    // P(a' ≥ a) increases with ψ; the lower limit is where it reaches α/2.
    let ci_low = if a == lo {
        0.0
    } else {
        solve_increasing(|u| dist.tail(a, u, true) - alpha).exp()
    };
    // P(a' ≤ a) decreases with ψ; the upper limit is where it falls to α/2.
    let ci_high = if a == hi {
        f64::INFINITY
    } else {
        solve_increasing(|u| alpha - dist.tail(a, u, false)).exp()
    };
    Ok(FisherExact {
        p_value,
        odds_ratio,
        ci_low,
        ci_high,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: u64, n: u64) -> Counts {
        Counts::new(x, n).unwrap()
    }

    #[test]
    fn tea_tasting() {
        // Fisher's lady tasting tea (R ?fisher.test): 3 of 4 right in each row;
        // two-sided p = 0.4857142857142857 = 34/70.
        let f = fisher_exact(c(3, 4), c(1, 4), 0.95).unwrap();
        assert!((f.p_value - 34.0 / 70.0).abs() < 1e-14, "{}", f.p_value);
        // The conditional MLE solves E[a] = 3; by symmetry of this table ψ̂ > 1.
        assert!(f.odds_ratio > 1.0 && f.ci_low < 1.0 && f.ci_high > f.odds_ratio);
    }

    #[test]
    fn boundary_tables() {
        // a = hi: estimate and upper limit infinite.
        let f = fisher_exact(c(5, 5), c(1, 6), 0.95).unwrap();
        assert!(f.odds_ratio.is_infinite() && f.ci_high.is_infinite());
        assert!(f.ci_low > 0.0 && f.ci_low.is_finite());
        // a = lo: estimate and lower limit 0.
        let g = fisher_exact(c(0, 5), c(4, 6), 0.95).unwrap();
        assert_eq!((g.odds_ratio, g.ci_low), (0.0, 0.0));
        assert!(g.ci_high.is_finite());
        // One possible table only.
        let h = fisher_exact(c(0, 5), c(0, 6), 0.95).unwrap();
        assert_eq!(h.p_value, 1.0);
    }

    #[test]
    fn swapping_arms_inverts_the_odds_ratio() {
        let f = fisher_exact(c(12, 30), c(5, 28), 0.95).unwrap();
        let g = fisher_exact(c(5, 28), c(12, 30), 0.95).unwrap();
        assert!((f.odds_ratio * g.odds_ratio - 1.0).abs() < 1e-12);
        assert!((f.ci_low * g.ci_high - 1.0).abs() < 1e-12);
        assert!((f.p_value - g.p_value).abs() < 1e-14);
    }
}
