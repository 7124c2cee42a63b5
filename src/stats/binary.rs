//! Binary outcomes from counts: x events out of n per arm.
//!
//! All functions take counts, so person rows and aggregated events/trials give the
//! same answer by construction.

use super::{Inference, StatsError, StatsResult, dist};
use serde::Serialize;

/// Events and trials in one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub events: u64,
    pub trials: u64,
}

impl Counts {
    pub fn new(events: u64, trials: u64) -> StatsResult<Self> {
        if events > trials {
            return Err(StatsError::Invalid(format!(
                "{events} events out of {trials} trials"
            )));
        }
        Ok(Self { events, trials })
    }
    pub fn proportion(self) -> f64 {
        self.events as f64 / self.trials as f64
    }
    fn nonempty(self) -> StatsResult<Self> {
        if self.trials == 0 {
            Err(StatsError::TooFew { needed: 1, got: 0 })
        } else {
            Ok(self)
        }
    }
}

/// A proportion with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Wilson score interval without continuity correction.
///
/// Source: Wilson (1927), *JASA* 22; as statsmodels `proportion_confint(method="wilson")`
/// and R `prop.test(correct = FALSE)$conf.int`.
/// (p̂ + z²/2n ± z√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n).
pub fn wilson(c: Counts, conf_level: f64) -> StatsResult<Interval> {
    let c = c.nonempty()?;
    let n = c.trials as f64;
    let p = c.proportion();
    let z = dist::two_sided_quantile(conf_level, None);
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z2 / n;
    // At x = 0 (x = n) the lower (upper) limit is exactly 0 (1); set it so rounding
    // cannot put the limit on the wrong side of the estimate.
    let ci_low = if c.events == 0 {
        0.0
    } else {
        ((centre - half) / denom).max(0.0)
    };
    let ci_high = if c.events == c.trials {
        1.0
    } else {
        ((centre + half) / denom).min(1.0)
    };
    Ok(Interval {
        estimate: p,
        ci_low,
        ci_high,
    })
}

/// Risk difference p₁ − p₀ with the Newcombe hybrid score interval.
///
/// Source: Newcombe (1998), *Statistics in Medicine* 17, method 10; as statsmodels
/// `confint_proportions_2indep(compare="diff", method="newcomb")`. With Wilson limits
/// (l₁, u₁) and (l₀, u₀): L = d − √((p₁−l₁)² + (u₀−p₀)²), U = d + √((u₁−p₁)² + (p₀−l₀)²).
/// `std_error` is the unpooled Wald SE √(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀), reported for
/// reference; `statistic` and `p_value` are those of the Pearson chi-square test without
/// continuity correction (the pooled score test, R `prop.test(correct = FALSE)`), as a
/// signed z. The reference distribution is normal (`df = None`).
pub fn newcombe(treated: Counts, control: Counts, conf_level: f64) -> StatsResult<Inference> {
    let w1 = wilson(treated, conf_level)?;
    let w0 = wilson(control, conf_level)?;
    let (p1, p0) = (w1.estimate, w0.estimate);
    let d = p1 - p0;
    let low = d - ((p1 - w1.ci_low).powi(2) + (w0.ci_high - p0).powi(2)).sqrt();
    let high = d + ((w1.ci_high - p1).powi(2) + (p0 - w0.ci_low).powi(2)).sqrt();
    let z = pooled_z(treated, control);
    Ok(Inference {
        estimate: d,
        std_error: wald_se(treated, control),
        statistic: z,
        df: None,
        p_value: dist::two_sided_p(z, None),
        ci_low: low,
        ci_high: high,
    })
}

/// Risk difference with the Wald interval d ± z·√(p₁(1−p₁)/n₁ + p₀(1−p₀)/n₀) and Wald
/// z-test (statsmodels `confint_proportions_2indep(method="wald")`).
pub fn risk_difference_wald(
    treated: Counts,
    control: Counts,
    conf_level: f64,
) -> StatsResult<Inference> {
    treated.nonempty()?;
    control.nonempty()?;
    let se = wald_se(treated, control);
    if !super::above(se, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(Inference::wald(
        treated.proportion() - control.proportion(),
        se,
        None,
        conf_level,
    ))
}

fn wald_se(t: Counts, c: Counts) -> f64 {
    let (p1, p0) = (t.proportion(), c.proportion());
    (p1 * (1.0 - p1) / t.trials as f64 + p0 * (1.0 - p0) / c.trials as f64).sqrt()
}

/// Signed pooled z statistic; its square is Pearson's chi-square without continuity
/// correction. Zero when both arms have the same proportion or the pooled one is 0 or 1.
fn pooled_z(t: Counts, c: Counts) -> f64 {
    let (n1, n0) = (t.trials as f64, c.trials as f64);
    let p = (t.events + c.events) as f64 / (n1 + n0);
    let se = (p * (1.0 - p) * (1.0 / n1 + 1.0 / n0)).sqrt();
    if se > 0.0 {
        (t.proportion() - c.proportion()) / se
    } else {
        0.0
    }
}

/// Pearson chi-square test of independence in the 2×2 table, no continuity correction
/// (R `chisq.test(correct = FALSE)`): returns (statistic, p-value), df = 1.
pub fn chi_square(treated: Counts, control: Counts) -> StatsResult<(f64, f64)> {
    treated.nonempty()?;
    control.nonempty()?;
    let z = pooled_z(treated, control);
    let x2 = z * z;
    Ok((x2, dist::chi_square_sf(x2, 1.0)))
}

/// Whether a ratio measure needs the Haldane–Anscombe 0.5 added to every cell.
pub fn has_zero_cell(t: Counts, c: Counts) -> bool {
    t.events == 0 || c.events == 0 || t.events == t.trials || c.events == c.trials
}

/// Risk ratio p₁/p₀ with a Wald interval on the log scale (Katz et al. 1978):
/// SE(log RR) = √(1/x₁ − 1/n₁ + 1/x₀ − 1/n₀); z-test of log RR = 0.
///
/// As R `epitools::riskratio(method="wald")` and statsmodels
/// `confint_proportions_2indep(compare="ratio", method="log")` with `correction=False`.
/// When an arm has no events, 0.5 is added to the events and to the non-events of both
/// arms (Haldane–Anscombe) and `corrected` is true.
pub fn risk_ratio(
    treated: Counts,
    control: Counts,
    conf_level: f64,
) -> StatsResult<(Inference, bool)> {
    treated.nonempty()?;
    control.nonempty()?;
    let corrected = treated.events == 0 || control.events == 0;
    let add = if corrected { 0.5 } else { 0.0 };
    let (x1, n1) = (
        treated.events as f64 + add,
        treated.trials as f64 + 2.0 * add,
    );
    let (x0, n0) = (
        control.events as f64 + add,
        control.trials as f64 + 2.0 * add,
    );
    let log_rr = (x1 / n1).ln() - (x0 / n0).ln();
    let se = (1.0 / x1 - 1.0 / n1 + 1.0 / x0 - 1.0 / n0).sqrt();
    if !super::above(se, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok((Inference::log_ratio(log_rr, se, conf_level), corrected))
}

/// Odds ratio with Woolf's logit interval: SE(log OR) = √(1/a + 1/b + 1/c + 1/d);
/// z-test of log OR = 0.
///
/// Source: Woolf (1955), *Annals of Human Genetics* 19; as statsmodels
/// `Table2x2(...).oddsratio_confint()` on a table without zero cells. With a zero cell,
/// 0.5 is added to all four (Haldane–Anscombe) and `corrected` is true.
pub fn odds_ratio(
    treated: Counts,
    control: Counts,
    conf_level: f64,
) -> StatsResult<(Inference, bool)> {
    treated.nonempty()?;
    control.nonempty()?;
    let corrected = has_zero_cell(treated, control);
    let add = if corrected { 0.5 } else { 0.0 };
    let a = treated.events as f64 + add;
    let b = (treated.trials - treated.events) as f64 + add;
    let c = control.events as f64 + add;
    let d = (control.trials - control.events) as f64 + add;
    let log_or = (a * d / (b * c)).ln();
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    Ok((Inference::log_ratio(log_or, se, conf_level), corrected))
}

/// Cohen's h = 2·asin√p₁ − 2·asin√p₀ (Cohen 1988, ch. 6).
pub fn cohens_h(treated: Counts, control: Counts) -> f64 {
    2.0 * treated.proportion().sqrt().asin() - 2.0 * control.proportion().sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: u64, n: u64) -> Counts {
        Counts::new(x, n).unwrap()
    }

    #[test]
    fn newcombe_worked_example() {
        // Newcombe (1998), Table II, example (a): 56/70 vs 48/80, method 10 gives
        // 0.0524 to 0.3339.
        let r = newcombe(c(56, 70), c(48, 80), 0.95).unwrap();
        assert!((r.ci_low - 0.0524).abs() < 5e-5, "{}", r.ci_low);
        assert!((r.ci_high - 0.3339).abs() < 5e-5, "{}", r.ci_high);
    }

    #[test]
    fn wilson_worked_example() {
        // Newcombe (1998), Table I: 81/263, Wilson 0.2553 to 0.3662.
        let w = wilson(c(81, 263), 0.95).unwrap();
        assert!((w.ci_low - 0.2553).abs() < 5e-5);
        assert!((w.ci_high - 0.3662).abs() < 5e-5);
    }

    #[test]
    fn swapping_arms_flips_difference_and_inverts_ratios() {
        let (a, b) = (c(30, 100), c(20, 90));
        let d1 = newcombe(a, b, 0.95).unwrap();
        let d2 = newcombe(b, a, 0.95).unwrap();
        assert!((d1.estimate + d2.estimate).abs() < 1e-15);
        assert!((d1.ci_low + d2.ci_high).abs() < 1e-15);
        let (r1, _) = risk_ratio(a, b, 0.95).unwrap();
        let (r2, _) = risk_ratio(b, a, 0.95).unwrap();
        assert!((r1.estimate * r2.estimate - 1.0).abs() < 1e-14);
        let (o1, _) = odds_ratio(a, b, 0.95).unwrap();
        let (o2, _) = odds_ratio(b, a, 0.95).unwrap();
        assert!((o1.ci_low * o2.ci_high - 1.0).abs() < 1e-12);
    }

    #[test]
    fn zero_cells_are_corrected_not_infinite() {
        let (r, corrected) = odds_ratio(c(0, 10), c(5, 10), 0.95).unwrap();
        assert!(corrected && r.ci_high.is_finite() && r.ci_low > 0.0);
        assert!(Counts::new(3, 2).is_err());
    }
}
