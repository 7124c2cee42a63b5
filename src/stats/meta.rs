//! Meta-analysis of k estimates with known standard errors: the inverse-variance fixed
//! effect and the random-effects model with tau² by DerSimonian-Laird, REML or
//! Paule-Mandel, the Hartung-Knapp-Sidik-Jonkman adjustment, heterogeneity (Cochran's Q,
//! I², H², the Q-profile CI of tau²), the prediction interval and leave-one-out.
//!
//! The reference implementation is R metafor 3.8-1 (`rma.uni` with an intercept only,
//! `confint.rma.uni`, `predict.rma`, `leave1out.rma.uni`); every convention below is
//! metafor's and is checked against it to 1e-8 relative in `tests/meta_reference.rs`
//! (fixtures: `scripts/fixtures/make_meta_fixtures.R`, on metafor's `dat.bcg` and
//! `dat.hine1989`). Notation: yᵢ the estimates, vᵢ = seᵢ² their variances, wᵢ = 1/(vᵢ + τ²)
//! the weights, μ̂(τ²) = Σwᵢyᵢ / Σwᵢ, and Q(τ²) = Σwᵢ(yᵢ − μ̂(τ²))² the generalised Q
//! statistic (Cochran's Q at τ² = 0).

use super::{Inference, StatsError, StatsResult, dist};
use serde::Serialize;

/// How the between-study variance τ² is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Inverse-variance fixed (common) effect: τ² = 0.
    Fixed,
    /// DerSimonian & Laird (1986) method of moments.
    DerSimonianLaird,
    /// Restricted maximum likelihood (Viechtbauer 2005), metafor's default.
    Reml,
    /// Paule & Mandel (1982) generalised Q.
    PauleMandel,
}

impl Method {
    /// The `estimator` name of the pooled estimate in via-eval's JSON.
    pub fn estimator(self) -> &'static str {
        match self {
            Method::Fixed => "meta_fe",
            Method::DerSimonianLaird => "meta_dl",
            Method::Reml => "meta_reml",
            Method::PauleMandel => "meta_pm",
        }
    }
}

/// Options of [`pool`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub method: Method,
    /// Hartung-Knapp-Sidik-Jonkman: scaled standard error and t(k − 1) inference.
    pub hksj: bool,
    /// Confidence level of the interval of the pooled estimate, of τ² and of the
    /// prediction interval (e.g. 0.95).
    pub conf_level: f64,
}

/// Heterogeneity of the estimates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Heterogeneity {
    /// Between-study variance τ² of the chosen method (0 for the fixed effect).
    pub tau2: f64,
    /// Q-profile confidence interval of τ² (see [`tau2_q_profile_ci`]).
    pub tau2_ci_low: f64,
    pub tau2_ci_high: f64,
    /// I² in percent (see [`pool`] for metafor's two definitions).
    pub i2: f64,
    pub h2: f64,
    /// Cochran's Q, its degrees of freedom k − 1 and its chi-square p-value.
    pub q: f64,
    pub q_df: f64,
    pub q_p_value: f64,
}

/// The result of [`pool`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pooled {
    pub method: Method,
    pub hksj: bool,
    /// Number of estimates pooled.
    pub k: usize,
    /// The pooled estimate: z inference, or t(k − 1) with the HKSJ standard error.
    pub inference: Inference,
    pub heterogeneity: Heterogeneity,
    /// Weights of the estimates in percent, in input order (they sum to 100).
    pub weights: Vec<f64>,
    /// Prediction interval for the true effect in a new study; `None` for the fixed
    /// effect, as in metafor.
    pub prediction: Option<(f64, f64)>,
}

/// One row of [`leave_one_out`]: the pooled result without estimate `left_out`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    /// 0-based index of the estimate left out.
    pub left_out: usize,
    pub pooled: Pooled,
}

/// The effect measure computed from event counts per arm ([`effect_from_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Risk difference p₁ − p₀.
    RiskDifference,
    /// Log risk ratio ln(p₁/p₀).
    LogRiskRatio,
    /// Log odds ratio.
    LogOddsRatio,
}

/// One study's effect and its sampling variance from its events and sizes per arm,
/// treated (`events_t` of `n_t`) against control (`events_c` of `n_c`).
///
/// Source: metafor `escalc` with its defaults (measure "RD", "RR", "OR"; `add = 1/2`,
/// `to = "only0"`, `drop00 = FALSE`, `vtype = "LS"`): with a = events_t,
/// b = n_t − a, c = events_c, d = n_c − c, when any of the four cells is 0, 1/2 is added
/// to all four (a study with no events in either arm is kept, so corrected). Then
/// RD = a/(a+b) − c/(c+d) with v = p₁(1−p₁)/(a+b) + p₀(1−p₀)/(c+d);
/// log RR = ln((a/(a+b)) / (c/(c+d))) with v = 1/a − 1/(a+b) + 1/c − 1/(c+d);
/// log OR = ln(ad/(bc)) with v = 1/a + 1/b + 1/c + 1/d.
/// Returns (estimate, variance). Errors: counts that are negative, not whole, or
/// events above the arm size, or an empty arm.
pub fn effect_from_counts(
    measure: Measure,
    events_t: f64,
    n_t: f64,
    events_c: f64,
    n_c: f64,
) -> StatsResult<(f64, f64)> {
    for (x, what) in [
        (events_t, "treated events"),
        (n_t, "treated size"),
        (events_c, "control events"),
        (n_c, "control size"),
    ] {
        if !(x.is_finite() && x >= 0.0 && x.fract() == 0.0) {
            return Err(StatsError::Invalid(format!(
                "{what} must be a whole number of at least 0, is {x}"
            )));
        }
    }
    if !(n_t > 0.0 && n_c > 0.0) {
        return Err(StatsError::Invalid("an arm has no units".into()));
    }
    if events_t > n_t || events_c > n_c {
        return Err(StatsError::Invalid(format!(
            "more events than units ({events_t} of {n_t}, {events_c} of {n_c})"
        )));
    }
    let (mut a, mut b, mut c, mut d) = (events_t, n_t - events_t, events_c, n_c - events_c);
    if a == 0.0 || b == 0.0 || c == 0.0 || d == 0.0 {
        a += 0.5;
        b += 0.5;
        c += 0.5;
        d += 0.5;
    }
    let (n1, n0) = (a + b, c + d);
    let (p1, p0) = (a / n1, c / n0);
    Ok(match measure {
        Measure::RiskDifference => (p1 - p0, p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0),
        Measure::LogRiskRatio => ((p1 / p0).ln(), 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n0),
        Measure::LogOddsRatio => (
            (a * d / (b * c)).ln(),
            1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
        ),
    })
}

/// Checked inputs: the estimates and their variances.
struct Data {
    y: Vec<f64>,
    v: Vec<f64>,
}

impl Data {
    fn new(estimates: &[f64], std_errors: &[f64]) -> StatsResult<Self> {
        if estimates.len() != std_errors.len() {
            return Err(StatsError::Invalid(format!(
                "{} estimates but {} standard errors",
                estimates.len(),
                std_errors.len()
            )));
        }
        if estimates.len() < 2 {
            return Err(StatsError::TooFew {
                needed: 2,
                got: estimates.len(),
            });
        }
        for (i, (&y, &se)) in estimates.iter().zip(std_errors).enumerate() {
            if !y.is_finite() {
                return Err(StatsError::Invalid(format!(
                    "estimate {} is not a finite number ({y})",
                    i + 1
                )));
            }
            if !se.is_finite() || !super::above(se, 0.0) {
                return Err(StatsError::Invalid(format!(
                    "standard error {} must be a positive finite number, is {se}",
                    i + 1
                )));
            }
        }
        Ok(Self {
            y: estimates.to_vec(),
            v: std_errors.iter().map(|s| s * s).collect(),
        })
    }

    fn k(&self) -> usize {
        self.y.len()
    }

    fn weights(&self, tau2: f64) -> Vec<f64> {
        self.v.iter().map(|v| 1.0 / (v + tau2)).collect()
    }

    /// μ̂(τ²), Σwᵢ and Q(τ²) at the weights `w`.
    fn fit(&self, w: &[f64]) -> (f64, f64, f64) {
        let sw: f64 = w.iter().sum();
        let mu = w.iter().zip(&self.y).map(|(w, y)| w * y).sum::<f64>() / sw;
        let q = w
            .iter()
            .zip(&self.y)
            .map(|(w, y)| w * (y - mu) * (y - mu))
            .sum::<f64>();
        (mu, sw, q)
    }

    /// The generalised Q statistic Q(τ²), decreasing in τ².
    fn q_at(&self, tau2: f64) -> f64 {
        self.fit(&self.weights(tau2)).2
    }

    /// Σwᵢ − Σwᵢ²/Σwᵢ at τ² = 0: tr(P) of metafor for an intercept-only model.
    fn trace_p_fixed(&self) -> f64 {
        let w = self.weights(0.0);
        let sw: f64 = w.iter().sum();
        sw - w.iter().map(|w| w * w).sum::<f64>() / sw
    }
}

/// The τ² ≥ 0 with Q(τ²) = `target`, or 0 when Q(0) ≤ `target`: Q(τ²) decreases
/// from Q(0) to 0, so the root is bracketed by doubling and found by bisection to the
/// last bit (each step costs O(k)).
fn solve_q(d: &Data, target: f64) -> f64 {
    if !super::above(d.q_at(0.0), target) {
        return 0.0;
    }
    let mut lo = 0.0;
    let mut hi = d.v.iter().cloned().fold(0.0, f64::max).max(1.0);
    while d.q_at(hi) > target {
        lo = hi;
        hi *= 2.0;
        if !hi.is_finite() {
            return f64::INFINITY;
        }
    }
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            return if (d.q_at(lo) - target).abs() <= (d.q_at(hi) - target).abs() {
                lo
            } else {
                hi
            };
        }
        if d.q_at(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
}

/// DerSimonian-Laird τ²: max(0, (Q − (k − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)) with wᵢ = 1/vᵢ.
///
/// Source: DerSimonian & Laird (1986), *Controlled Clinical Trials* 7, 177-188;
/// metafor `rma(method = "DL")`, truncated at 0 as there.
pub fn tau2_dl(estimates: &[f64], std_errors: &[f64]) -> StatsResult<f64> {
    let d = Data::new(estimates, std_errors)?;
    Ok(dl(&d))
}

fn dl(d: &Data) -> f64 {
    let q = d.q_at(0.0);
    ((q - (d.k() as f64 - 1.0)) / d.trace_p_fixed()).max(0.0)
}

/// Paule-Mandel τ²: the root of Q(τ²) = k − 1, or 0 when Q(0) < k − 1.
///
/// Source: Paule & Mandel (1982), *J. Res. Natl. Bur. Stand.* 87, 377-385; metafor
/// `rma(method = "PM")`, which finds the root with `uniroot` (here bisection to full
/// precision) and truncates at 0. metafor also gives up when the root exceeds its
/// `tau2.max` (default max(100, 10·mad(y)²)); here there is no upper limit.
pub fn tau2_pm(estimates: &[f64], std_errors: &[f64]) -> StatsResult<f64> {
    let d = Data::new(estimates, std_errors)?;
    Ok(pm(&d))
}

fn pm(d: &Data) -> f64 {
    solve_q(d, d.k() as f64 - 1.0)
}

/// REML τ² by Fisher scoring on the restricted likelihood, as metafor.
///
/// Source: Viechtbauer (2005), *J. Educ. Behav. Stat.* 30, 261-293, eq. 11; the
/// algorithm of metafor `rma(method = "REML")`: start at the Hedges (HE) estimator
/// max(0, (Σ(yᵢ − ȳ)² − (k−1)/k·Σvᵢ)/(k − 1)), then
/// τ² ← τ² + (y'PPy − tr P) / tr(PP) with P = W − ww'/Σw, halving the step while it
/// would make τ² negative, until the change is below 1e-12 relative (metafor's default
/// stops at an absolute change of 1e-5; the fixtures tighten it to 1e-15); then the
/// root of the REML score y'PPy = tr P next to that point is found by bisection to the
/// last bit, or τ² = 0 when the score is negative down to 0. As metafor, when the
/// restricted log-likelihood at τ² = 0 is higher than at the end point, τ² = 0.
pub fn tau2_reml(estimates: &[f64], std_errors: &[f64]) -> StatsResult<f64> {
    let d = Data::new(estimates, std_errors)?;
    reml(&d)
}

fn reml(d: &Data) -> StatsResult<f64> {
    let k = d.k() as f64;
    let ybar = d.y.iter().sum::<f64>() / k;
    let rss = d.y.iter().map(|y| (y - ybar) * (y - ybar)).sum::<f64>();
    let he = (rss - (k - 1.0) / k * d.v.iter().sum::<f64>()) / (k - 1.0);
    let mut tau2 = he.max(0.0);
    for _ in 0..1_000 {
        let (score, info) = reml_score(d, tau2);
        let mut adj = score / info;
        if !adj.is_finite() {
            break;
        }
        while tau2 + adj < 0.0 {
            adj /= 2.0;
        }
        let old = tau2;
        tau2 += adj;
        if (tau2 - old).abs() <= 1e-12 * tau2 {
            break;
        }
    }
    let tau2 = polish_reml(d, tau2);
    if !tau2.is_finite() {
        return Err(StatsError::Invalid(
            "REML estimate of tau² not found (the restricted likelihood has no maximum)".into(),
        ));
    }
    if restricted_loglik(d, 0.0) > restricted_loglik(d, tau2) {
        return Ok(0.0);
    }
    Ok(tau2)
}

/// Twice the REML score, y'PPy − tr P, and the Fisher information tr(PP) (times two)
/// at τ², for the intercept-only model: P y = wᵢ(yᵢ − μ̂), tr P = Σw − Σw²/Σw and
/// tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)².
fn reml_score(d: &Data, tau2: f64) -> (f64, f64) {
    let w = d.weights(tau2);
    let (mu, sw, _) = d.fit(&w);
    let sw2: f64 = w.iter().map(|w| w * w).sum();
    let sw3: f64 = w.iter().map(|w| w * w * w).sum();
    let ypp_y: f64 = w
        .iter()
        .zip(&d.y)
        .map(|(w, y)| (w * (y - mu)) * (w * (y - mu)))
        .sum();
    let tr_p = sw - sw2 / sw;
    let tr_pp = sw2 - 2.0 * sw3 / sw + (sw2 / sw) * (sw2 / sw);
    (ypp_y - tr_p, tr_pp)
}

/// The root of the REML score next to `start` (where Fisher scoring stopped), to the
/// last bit: bracketed by halving or doubling from `start`, then bisection. Fisher
/// scoring can converge slowly (k = 2 with very unequal variances took more than
/// 10,000 steps to reach 1e-14); bisection on the score's sign does not. 0 when the
/// score is not positive down to τ² = 0 (the maximum is on the boundary).
fn polish_reml(d: &Data, start: f64) -> f64 {
    let positive = |t: f64| reml_score(d, t).0 > 0.0;
    let (mut lo, mut hi);
    if start > 0.0 && positive(start) {
        lo = start;
        hi = 2.0 * start;
        while positive(hi) {
            lo = hi;
            hi *= 2.0;
            if !hi.is_finite() {
                return f64::INFINITY;
            }
        }
    } else {
        if !positive(0.0) {
            return 0.0;
        }
        hi = start;
        lo = start / 2.0;
        while lo > 0.0 && !positive(lo) {
            hi = lo;
            lo /= 2.0;
        }
        if hi <= 0.0 {
            // Fisher scoring stopped at 0 though the score there is positive.
            hi = d.v.iter().cloned().fold(0.0, f64::max).max(1.0);
            while positive(hi) {
                lo = hi;
                hi *= 2.0;
                if !hi.is_finite() {
                    return f64::INFINITY;
                }
            }
        }
    }
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            return mid;
        }
        if positive(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
}

/// Restricted log-likelihood of the intercept-only model at τ², up to a constant:
/// −½(Σ log(vᵢ + τ²) + log Σwᵢ + Q(τ²)).
fn restricted_loglik(d: &Data, tau2: f64) -> f64 {
    let w = d.weights(tau2);
    let (_, sw, q) = d.fit(&w);
    -0.5 * (d.v.iter().map(|v| (v + tau2).ln()).sum::<f64>() + sw.ln() + q)
}

/// Q-profile confidence interval of τ² at `conf_level`.
///
/// Source: Viechtbauer (2007), *Statistics in Medicine* 26, 37-52; metafor
/// `confint.rma.uni` (type "QP"). The limits solve Q(τ²) = χ²_{k−1, 1−α/2} (lower) and
/// Q(τ²) = χ²_{k−1, α/2} (upper); a limit whose equation has no root at τ² ≥ 0
/// (Q(0) below its quantile) is 0. The interval depends on the data only, not on the
/// estimator of τ². metafor caps the upper limit at its `tau2.max` (default
/// max(100, 10·τ̂²)); here it is not capped.
pub fn tau2_q_profile_ci(
    estimates: &[f64],
    std_errors: &[f64],
    conf_level: f64,
) -> StatsResult<(f64, f64)> {
    let d = Data::new(estimates, std_errors)?;
    Ok(q_profile(&d, conf_level))
}

fn q_profile(d: &Data, conf_level: f64) -> (f64, f64) {
    let df = d.k() as f64 - 1.0;
    let alpha = 1.0 - conf_level;
    let upper_q = dist::chi_square_quantile(1.0 - alpha / 2.0, df);
    let lower_q = dist::chi_square_quantile(alpha / 2.0, df);
    (solve_q(d, upper_q), solve_q(d, lower_q))
}

/// Pool `estimates` with standard errors `std_errors`.
///
/// Conventions, all metafor 3.8-1 `rma.uni` with an intercept only:
/// - pooled estimate μ̂ = Σwᵢyᵢ/Σwᵢ with wᵢ = 1/(vᵢ + τ̂²) (τ̂² = 0 for the fixed effect),
///   SE = √(1/Σwᵢ), z test and normal interval (`test = "z"`);
/// - with `hksj`, the Hartung-Knapp-Sidik-Jonkman adjustment (Hartung & Knapp 2001,
///   *Stat. Med.* 20, 3875-3889; Sidik & Jonkman 2002, *Stat. Med.* 21, 3153-3159),
///   metafor `test = "knha"`: SE² = s²/Σwᵢ with s² = Q(τ̂²)/(k − 1), and t(k − 1)
///   inference. **s² is not truncated at 1** (metafor's `knha` does not truncate; its
///   separate `test = "adhoc"` does, and is not implemented here); as metafor, s² = 0
///   when Q(τ̂²) ≤ machine epsilon. It is also applied to the fixed effect if asked
///   (metafor warns that it is not meant for it, and computes it the same way);
/// - Cochran's Q = Q(0) with k − 1 df and its chi-square upper-tail p-value (Cochran
///   1954);
/// - I² and H² (Higgins & Thompson 2002, *Stat. Med.* 21, 1539-1558) as metafor: for
///   the fixed effect from Q, I² = max(0, 100·(Q − (k−1))/Q) (0 when Q = 0) and
///   H² = Q/(k − 1); for random effects from τ̂², I² = 100·τ̂²/(ṽ + τ̂²) and
///   H² = τ̂²/ṽ + 1, with the typical within-study variance ṽ = (k − 1)/(Σwᵢ − Σwᵢ²/Σwᵢ)
///   at wᵢ = 1/vᵢ;
/// - τ² CI: [`tau2_q_profile_ci`], reported for every method;
/// - prediction interval (metafor `predict.rma`): μ̂ ± c·√(SE² + τ̂²) with SE the
///   (adjusted, with HKSJ) standard error and c the normal quantile, or the t(k − 1)
///   quantile with HKSJ (metafor's default `pi.type`; not t(k − 2) of Higgins et al.
///   2009). None for the fixed effect, where metafor gives none either.
///
/// Errors: fewer than 2 estimates, lengths that differ, an estimate that is not finite,
/// a standard error that is zero, negative or not finite.
pub fn pool(estimates: &[f64], std_errors: &[f64], opts: Options) -> StatsResult<Pooled> {
    let d = Data::new(estimates, std_errors)?;
    pool_data(&d, opts)
}

fn pool_data(d: &Data, opts: Options) -> StatsResult<Pooled> {
    if !(opts.conf_level > 0.0 && opts.conf_level < 1.0) {
        return Err(StatsError::Invalid(format!(
            "the confidence level must be between 0 and 1, is {}",
            opts.conf_level
        )));
    }
    let k = d.k();
    let df = k as f64 - 1.0;
    let tau2 = match opts.method {
        Method::Fixed => 0.0,
        Method::DerSimonianLaird => dl(d),
        Method::Reml => reml(d)?,
        Method::PauleMandel => pm(d),
    };
    let w = d.weights(tau2);
    let (mu, sw, q_tau2) = d.fit(&w);
    let mut var = 1.0 / sw;
    let mut t_df = None;
    if opts.hksj {
        let s2 = if q_tau2 <= f64::EPSILON {
            0.0
        } else {
            q_tau2 / df
        };
        var *= s2;
        t_df = Some(df);
    }
    let se = var.sqrt();
    let inference = Inference::wald(mu, se, t_df, opts.conf_level);

    let q = d.q_at(0.0).max(0.0);
    let (i2, h2) = match opts.method {
        Method::Fixed => {
            let i2 = if q > 0.0 {
                (100.0 * (q - df) / q).max(0.0)
            } else {
                0.0
            };
            (i2, q / df)
        }
        _ => {
            let vt = df / d.trace_p_fixed();
            (100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0)
        }
    };
    let (tau2_ci_low, tau2_ci_high) = q_profile(d, opts.conf_level);
    let heterogeneity = Heterogeneity {
        tau2,
        tau2_ci_low,
        tau2_ci_high,
        i2,
        h2,
        q,
        q_df: df,
        q_p_value: dist::chi_square_sf(q, df),
    };
    let prediction = match opts.method {
        Method::Fixed => None,
        _ => {
            let c = dist::two_sided_quantile(opts.conf_level, t_df);
            let half = c * (var + tau2).sqrt();
            Some((mu - half, mu + half))
        }
    };
    Ok(Pooled {
        method: opts.method,
        hksj: opts.hksj,
        k,
        inference,
        heterogeneity,
        weights: w.iter().map(|w| 100.0 * w / sw).collect(),
        prediction,
    })
}

/// Leave-one-out: [`pool`] with the same options on the k − 1 estimates left when
/// each estimate in turn is removed (metafor `leave1out.rma.uni`, which refits with the
/// same method and test). Needs at least 3 estimates (each fit pools 2 or more).
pub fn leave_one_out(
    estimates: &[f64],
    std_errors: &[f64],
    opts: Options,
) -> StatsResult<Vec<LeftOut>> {
    let d = Data::new(estimates, std_errors)?;
    if d.k() < 3 {
        return Err(StatsError::TooFew {
            needed: 3,
            got: d.k(),
        });
    }
    (0..d.k())
        .map(|i| {
            let keep = |x: &[f64]| -> Vec<f64> {
                x.iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, &a)| a)
                    .collect()
            };
            let rest = Data {
                y: keep(&d.y),
                v: keep(&d.v),
            };
            Ok(LeftOut {
                left_out: i,
                pooled: pool_data(&rest, opts)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(method: Method, hksj: bool) -> Options {
        Options {
            method,
            hksj,
            conf_level: 0.95,
        }
    }

    #[test]
    fn rejects_bad_input() {
        let o = opts(Method::Reml, false);
        assert_eq!(
            pool(&[1.0], &[1.0], o).unwrap_err(),
            StatsError::TooFew { needed: 2, got: 1 }
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = pool(&[1.0, 2.0], &[1.0, bad], o).unwrap_err();
            assert!(e.to_string().contains("standard error 2"), "{e}");
        }
        assert!(pool(&[1.0, f64::NAN], &[1.0, 1.0], o).is_err());
        assert!(pool(&[1.0, 2.0], &[1.0], o).is_err());
        assert!(leave_one_out(&[1.0, 2.0], &[1.0, 1.0], o).is_err());
    }

    #[test]
    fn equal_estimates_have_no_heterogeneity() {
        for m in [
            Method::Fixed,
            Method::DerSimonianLaird,
            Method::Reml,
            Method::PauleMandel,
        ] {
            let p = pool(&[0.3, 0.3, 0.3], &[0.1, 0.2, 0.3], opts(m, false)).unwrap();
            assert_eq!(p.heterogeneity.tau2, 0.0);
            assert!((p.inference.estimate - 0.3).abs() < 1e-15);
            assert_eq!(p.heterogeneity.i2, 0.0);
        }
    }
}
