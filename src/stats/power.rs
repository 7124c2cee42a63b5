//! Power, sample size and minimum detectable effect (MDE) for a two-arm comparison of a
//! continuous outcome (difference in means) or a binary outcome (difference in
//! proportions), for individually and cluster-randomised designs.
//!
//! Conventions, shared by every function here:
//! - **Sizes** are the numbers *enrolled* per arm, `n_treated` and `n_control`; they may
//!   be fractional inside the solvers. With expected attrition `r` the analysed sizes are
//!   `n·(1 − r)`, so a solved enrolled size is the analysed size inflated by
//!   `1/(1 − r)`.
//! - **Allocation** `a` is the treated share of the two arms compared: `n_treated = a·N`,
//!   `n_control = (1 − a)·N`. For one treatment arm of the UWV trial (80% control, 10%
//!   per treatment arm) against the control arm, `a = 0.1 / 0.9`.
//! - **Design effect** (clusters of size `m`, intra-cluster correlation ICC):
//!   `1 + (m − 1)·ICC` for equal cluster sizes (Donner & Klar 2000, eq. 3.3), or
//!   `1 + ((cv² + 1)·m − 1)·ICC` with `m` the mean cluster size and `cv` the coefficient
//!   of variation of the cluster sizes (Eldridge, Ashby & Kerry 2006, Int. J. Epidemiol.
//!   35:1292-1300, eq. 3). The variance of the difference is multiplied by it.
//! - **Covariates** explaining a share `R²` of the outcome variance multiply the variance
//!   by `1 − R²` (Bloom 2006, "The core analytics of randomized experiments", eq. 10).
//! - **The noncentrality** of the test is `λ = effect / SE`, with
//!   `SE² = DE·(1 − R²)·(v_t/n_t' + v_c/n_c')` over the analysed sizes `n'`; `v` is the
//!   outcome variance per arm (`sd²` in both for continuous outcomes; `p(1 − p)` per
//!   arm for the unpooled binary normal approximation; `1` on Cohen's h scale).
//! - **Two-sided** power counts both rejection regions,
//!   `P(T > c) + P(T < −c)`, as R `pwr` and statsmodels do; **one-sided** power is
//!   `P(T > c)` with `c` the `1 − α` quantile: the test in the direction of the effect
//!   (effects are taken in absolute value).
//! - **Reference distributions**: normal (`Method::Normal`, `Method::Arcsine`) or, for
//!   the t test (`Method::T`), the exact noncentral t with `df = N' − 2` (analysed sizes)
//!   in an individually randomised design, as R `pwr::pwr.t2n.test` and statsmodels
//!   `TTestIndPower`; in a cluster-randomised design `df = K − 2` with `K` the total
//!   number of clusters (an analysis of cluster means; Hayes & Moulton 2017, "Cluster
//!   Randomised Trials", 2nd ed., section 7.3).
//! - **Solving** is by bisection on a bracket in which power is monotone, down to a
//!   relative width of [`SOLVE_REL_TOL`]; sample sizes are then rounded **up to whole
//!   persons per arm**, so the power at the reported sizes is at least the target.
//!
//! The noncentral t distribution function ([`noncentral_t_cdf`]) is written here because
//! neither statrs nor any other crate in the dependency tree provides it; it is the one
//! distribution function of via-eval not taken from statrs (everything else here uses
//! [`crate::stats::dist`]).

use std::f64::consts::PI;

use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

use super::dist::{normal_quantile, t_quantile};
use super::{StatsError, StatsResult};

/// Relative width of the bracket at which the solvers stop (bisection): the solved
/// sample size or effect is within this fraction of the exact root.
pub const SOLVE_REL_TOL: f64 = 1e-13;

/// Convergence bound of the noncentral t series: the remaining terms add at most this
/// much (absolute) to the distribution function (Lenth 1989 uses 1e-12).
pub const NCT_ERRMAX: f64 = 1e-15;

/// Iteration limit of the noncentral t series (Lenth 1989 uses 100). The Poisson
/// weights peak near term δ²/2, so large noncentralities need about δ²/2 + 10·|δ|
/// terms: at most about 1,100 below the cut-off |δ| = 37.62.
pub const NCT_ITRMAX: usize = 10_000;

/// Distribution function P(T ≤ `t`) of the noncentral t with `df` degrees of freedom and
/// noncentrality `delta`.
///
/// Algorithm AS 243 (R. V. Lenth 1989, "Cumulative distribution function of the
/// non-central t distribution", Applied Statistics 38(1), 185-189): the Poisson-weighted
/// series of regularised incomplete beta functions
/// `F(t) = Φ(−δ) + Σ_j [p_j·I_x(j + ½, ν/2) + q_j·I_x(j + 1, ν/2)]`, `x = t²/(t² + ν)`,
/// with the incomplete betas by their downward recurrences from statrs' `beta_reg` and
/// the error bound of the paper (here [`NCT_ERRMAX`], not 1e-12). Negative `t` by
/// `F(t; ν, δ) = 1 − F(−t; ν, −δ)`. Infinite `df` gives the normal `Φ(t − δ)`.
/// Checked against scipy.stats.nct (Boost's noncentral t) in tests/power_reference.rs.
///
/// Accuracy: the series is truncated at 1e-15 absolute; the term Φ(−δ) from statrs'
/// normal distribution function (erfc, about 5e-11 relative) bounds the result to about
/// 1e-12 absolute (measured: at most 1.05e-12 against scipy on the fixture grid). A tail
/// far below 1e-2 is therefore not accurate to 1e-10 relative; power calculations use
/// the distribution function near the critical value, where it is not small.
///
/// Large noncentralities, as R's `pnt` (which is also AS 243) handles them: where the
/// first Poisson weight e^(−δ²/2) underflows (δ² > 2·ln 2·1021, |δ| > 37.62) the
/// normal approximation of Abramowitz & Stegun (1964) 26.7.10,
/// `F ≈ Φ((t·(1 − 1/(4ν)) − δ) / √(1 + t²/(2ν)))`, replaces the series, and for
/// `t < 0` with `δ > 40` the result is 0 (it is below Φ(−40) ≈ 1e-350). That
/// approximation is good to about 3 digits in the body of the distribution only, but
/// at such noncentralities a power calculation evaluates the far lower tail (the
/// critical value is far below δ), where both are 0 to double precision unless df is
/// tiny (a handful of persons with an effect of dozens of SDs).
pub fn noncentral_t_cdf(t: f64, df: f64, delta: f64) -> f64 {
    if t.is_nan() || delta.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return norm_cdf(t - delta);
    }
    if t == f64::INFINITY {
        return 1.0;
    }
    if t == f64::NEG_INFINITY {
        return 0.0;
    }
    let (tt, del, negative) = if t < 0.0 {
        (-t, -delta, true)
    } else {
        (t, delta, false)
    };
    if negative && delta > 40.0 {
        return 0.0;
    }
    let lambda = del * del;
    if lambda > 2.0 * std::f64::consts::LN_2 * 1021.0 {
        // Abramowitz & Stegun 26.7.10, as R's pnt.
        let s = 1.0 / (4.0 * df);
        let f = norm_cdf((tt * (1.0 - s) - del) / (1.0 + tt * tt * 2.0 * s).sqrt());
        return if negative { 1.0 - f } else { f };
    }
    let mut tnc = 0.0;
    if tt > 0.0 {
        let x = tt * tt / (tt * tt + df);
        // ln(1 − x) = −ln(1 + t²/ν), without forming 1 − x.
        let ln_1mx = -(tt * tt / df).ln_1p();
        let b = 0.5 * df;
        let mut a = 0.5;
        let mut p = 0.5 * (-0.5 * lambda).exp();
        let mut q = (2.0 / PI).sqrt() * p * del;
        let mut s = 0.5 - p;
        let rxb = (b * ln_1mx).exp();
        let albeta = 0.5 * PI.ln() + ln_gamma(b) - ln_gamma(0.5 + b);
        let mut xodd = beta_reg(a, b, x);
        let mut godd = 2.0 * rxb * (a * x.ln() - albeta).exp();
        // I_x(1, b) = 1 − (1 − x)^b.
        let mut xeven = -(b * ln_1mx).exp_m1();
        let mut geven = b * x * rxb;
        tnc = p * xodd + q * xeven;
        let mut en = 1.0;
        for _ in 0..NCT_ITRMAX {
            a += 1.0;
            xodd -= godd;
            xeven -= geven;
            godd *= x * (a + b - 1.0) / a;
            geven *= x * (a + b - 0.5) / (a + 0.5);
            p *= lambda / (2.0 * en);
            q *= lambda / (2.0 * en + 1.0);
            s -= p;
            en += 1.0;
            tnc += p * xodd + q * xeven;
            let errbd = 2.0 * s * (xodd - godd);
            if errbd <= NCT_ERRMAX && en > lambda / 2.0 {
                break;
            }
        }
    }
    tnc += norm_cdf(-del);
    let f = if negative { 1.0 - tnc } else { tnc };
    f.clamp(0.0, 1.0)
}

/// Upper tail P(T > `t`) of the noncentral t: `1 − F(t)` by [`noncentral_t_cdf`].
pub fn noncentral_t_sf(t: f64, df: f64, delta: f64) -> f64 {
    noncentral_t_cdf(-t, df, -delta)
}

fn norm_cdf(x: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().cdf(x)
}

/// The outcome variance per arm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// A continuous outcome; effects are standardised (Cohen's d = difference / SD).
    Continuous,
    /// A binary outcome with proportion `p0` in the control arm; effects are the
    /// proportion `p1` in the treated arm.
    Binary { p0: f64 },
}

/// The test whose power is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Normal approximation (z test). Binary outcomes: unpooled variances
    /// `p1(1 − p1)/n_t + p0(1 − p0)/n_c` (Chow, Shao & Wang 2008, "Sample Size
    /// Calculations in Clinical Research", 2nd ed., 4.2).
    Normal,
    /// Two-sample t test, exact noncentral t (continuous outcomes only).
    T,
    /// Arcsine transformation (Cohen's h = 2·asin√p1 − 2·asin√p0, variance 1/n per
    /// arm; Cohen 1988, ch. 6), as R `pwr::pwr.2p2n.test` (binary outcomes only).
    Arcsine,
}

/// The design and test around a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Design {
    pub outcome: Outcome,
    pub method: Method,
    /// Significance level, in (0, 1).
    pub alpha: f64,
    /// One- or two-sided test.
    pub two_sided: bool,
    /// Treated share of the two arms, in (0, 1); used when solving for n.
    pub allocation: f64,
    /// Intra-cluster correlation, in [0, 1); 0 for individual randomisation.
    pub icc: f64,
    /// Mean cluster size `m` (≥ 1); `None` for individual randomisation.
    pub cluster_size: Option<f64>,
    /// Coefficient of variation of the cluster sizes (0: equal sizes).
    pub cv_cluster_size: f64,
    /// Share of the outcome variance explained by covariates, in [0, 1).
    pub r2: f64,
    /// Expected attrition, in [0, 1).
    pub attrition: f64,
}

impl Design {
    /// An individually randomised two-sided test at α = 0.05 with equal allocation.
    pub fn new(outcome: Outcome, method: Method) -> Self {
        Self {
            outcome,
            method,
            alpha: 0.05,
            two_sided: true,
            allocation: 0.5,
            icc: 0.0,
            cluster_size: None,
            cv_cluster_size: 0.0,
            r2: 0.0,
            attrition: 0.0,
        }
    }

    /// Checks every parameter; the message names the parameter as the CLI flag does.
    pub fn validate(&self) -> StatsResult<()> {
        let bad = |m: String| Err(StatsError::Invalid(m));
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad(format!("alpha must be in (0, 1), got {}", self.alpha));
        }
        if !(self.allocation > 0.0 && self.allocation < 1.0) {
            return bad(format!(
                "allocation (the treated share) must be in (0, 1), got {}",
                self.allocation
            ));
        }
        if !(0.0..1.0).contains(&self.icc) {
            return bad(format!("icc must be in [0, 1), got {}", self.icc));
        }
        if !(0.0..1.0).contains(&self.r2) {
            return bad(format!("r2 must be in [0, 1), got {}", self.r2));
        }
        if !(0.0..1.0).contains(&self.attrition) {
            return bad(format!(
                "attrition must be in [0, 1), got {}",
                self.attrition
            ));
        }
        if let Some(m) = self.cluster_size
            && !(m >= 1.0 && m.is_finite())
        {
            return bad(format!("cluster-size must be at least 1, got {m}"));
        }
        if !(self.cv_cluster_size >= 0.0 && self.cv_cluster_size.is_finite()) {
            return bad(format!(
                "cv-cluster-size must be 0 or more, got {}",
                self.cv_cluster_size
            ));
        }
        match (self.outcome, self.method) {
            (Outcome::Continuous, Method::Arcsine) => {
                return bad("method arcsine is for binary outcomes".into());
            }
            (Outcome::Binary { .. }, Method::T) => {
                return bad("method t is for continuous outcomes".into());
            }
            (Outcome::Binary { p0 }, _) => check_p("p0", p0)?,
            _ => {}
        }
        Ok(())
    }

    /// The design effect of this design: see [`design_effect`]; 1 without clusters.
    pub fn design_effect(&self) -> StatsResult<f64> {
        match self.cluster_size {
            None => Ok(1.0),
            Some(m) => design_effect(self.icc, m, self.cv_cluster_size),
        }
    }
}

fn check_p(name: &str, p: f64) -> StatsResult<()> {
    if p > 0.0 && p < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Invalid(format!(
            "{name} must be a proportion in (0, 1), got {p}"
        )))
    }
}

/// Design effect of cluster randomisation with mean cluster size `m`, intra-cluster
/// correlation `icc` and coefficient of variation `cv` of the cluster sizes:
/// `1 + ((cv² + 1)·m − 1)·icc` (Eldridge, Ashby & Kerry 2006, eq. 3), which for equal
/// sizes (`cv = 0`) is the familiar `1 + (m − 1)·icc` (Donner & Klar 2000).
pub fn design_effect(icc: f64, m: f64, cv: f64) -> StatsResult<f64> {
    if !(0.0..1.0).contains(&icc) {
        return Err(StatsError::Invalid(format!(
            "icc must be in [0, 1), got {icc}"
        )));
    }
    if !(m >= 1.0 && m.is_finite()) {
        return Err(StatsError::Invalid(format!(
            "cluster-size must be at least 1, got {m}"
        )));
    }
    if !(cv >= 0.0 && cv.is_finite()) {
        return Err(StatsError::Invalid(format!(
            "cv-cluster-size must be 0 or more, got {cv}"
        )));
    }
    Ok(1.0 + ((cv * cv + 1.0) * m - 1.0) * icc)
}

/// Cohen's h for proportions `p1` (treated) and `p0` (control):
/// `2·asin√p1 − 2·asin√p0` (Cohen 1988, eq. 6.2.1; statsmodels `proportion_effectsize`).
pub fn cohens_h(p1: f64, p0: f64) -> f64 {
    2.0 * p1.sqrt().asin() - 2.0 * p0.sqrt().asin()
}

/// The effect whose power is computed: a standardised difference (continuous outcomes)
/// or the treated arm's proportion (binary outcomes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// Cohen's d: the difference in means divided by the outcome SD.
    D(f64),
    /// The proportion in the treated arm.
    P1(f64),
}

/// Noncentrality `λ = effect/SE` (absolute) and, for the t test, the degrees of
/// freedom, at enrolled sizes `n_t`, `n_c` (see the module conventions).
fn noncentrality(d: &Design, effect: Effect, n_t: f64, n_c: f64) -> StatsResult<(f64, f64)> {
    let de = d.design_effect()?;
    let keep = 1.0 - d.attrition;
    let (at, ac) = (n_t * keep, n_c * keep);
    let inflate = de * (1.0 - d.r2);
    let lambda = match (d.outcome, effect, d.method) {
        (Outcome::Continuous, Effect::D(x), _) => {
            x.abs() / (inflate * (1.0 / at + 1.0 / ac)).sqrt()
        }
        (Outcome::Binary { p0 }, Effect::P1(p1), Method::Arcsine) => {
            check_p("p1", p1)?;
            cohens_h(p1, p0).abs() / (inflate * (1.0 / at + 1.0 / ac)).sqrt()
        }
        (Outcome::Binary { p0 }, Effect::P1(p1), _) => {
            check_p("p1", p1)?;
            let v = p1 * (1.0 - p1) / at + p0 * (1.0 - p0) / ac;
            (p1 - p0).abs() / (inflate * v).sqrt()
        }
        _ => {
            return Err(StatsError::Invalid(
                "the effect does not match the outcome (d for continuous, p1 for binary)".into(),
            ));
        }
    };
    // Degrees of freedom of the t test: analysed persons − 2, or clusters − 2.
    let df = match d.cluster_size {
        None => at + ac - 2.0,
        Some(m) => (n_t + n_c) / m - 2.0,
    };
    Ok((lambda, df))
}

/// Power at enrolled sizes `n_treated`, `n_control` (fractional sizes allowed): the
/// probability that the test rejects at level α when the true effect is `effect`.
///
/// Normal and arcsine: `Φ(λ − z) + Φ(−λ − z)` two-sided with `z = z_{1−α/2}`
/// (`Φ(λ − z_{1−α})` one-sided), as statsmodels `NormalIndPower` and R
/// `pwr.2p2n.test`. t: `P(T' > c) + P(T' < −c)`, `T'` noncentral t(df, λ),
/// `c = t_{1−α/2, df}`, as statsmodels `TTestIndPower` and R `pwr.t2n.test`.
/// Errors: invalid design (see [`Design::validate`]), sizes leaving fewer than 1 df for
/// the t test (or not positive), p1 outside (0, 1).
pub fn power(d: &Design, effect: Effect, n_treated: f64, n_control: f64) -> StatsResult<f64> {
    d.validate()?;
    if !(n_treated > 0.0 && n_control > 0.0) {
        return Err(StatsError::Invalid(format!(
            "the arm sizes must be positive, got {n_treated} and {n_control}"
        )));
    }
    let (lambda, df) = noncentrality(d, effect, n_treated, n_control)?;
    power_at(d, lambda, df)
}

fn power_at(d: &Design, lambda: f64, df: f64) -> StatsResult<f64> {
    let tail = if d.two_sided { d.alpha / 2.0 } else { d.alpha };
    Ok(match d.method {
        Method::T => {
            if df.is_nan() || df < 1.0 {
                return Err(StatsError::Invalid(format!(
                    "the t test needs at least 1 degree of freedom, the sizes give {df}"
                )));
            }
            let c = t_quantile(1.0 - tail, df);
            let upper = noncentral_t_sf(c, df, lambda);
            if d.two_sided {
                upper + noncentral_t_cdf(-c, df, lambda)
            } else {
                upper
            }
        }
        Method::Normal | Method::Arcsine => {
            let z = normal_quantile(1.0 - tail);
            let upper = norm_cdf(lambda - z);
            if d.two_sided {
                upper + norm_cdf(-lambda - z)
            } else {
                upper
            }
        }
    })
}

fn check_target(target: f64) -> StatsResult<()> {
    if target > 0.0 && target < 1.0 {
        Ok(())
    } else {
        Err(StatsError::Invalid(format!(
            "the target power must be in (0, 1), got {target}"
        )))
    }
}

/// Bisection for the smallest `x` in `[lo, hi]` with `f(x) ≥ target`, `f` increasing;
/// stops at a relative bracket width of [`SOLVE_REL_TOL`] and returns the upper end
/// (where `f ≥ target` holds).
fn bisect(
    mut lo: f64,
    mut hi: f64,
    target: f64,
    f: impl Fn(f64) -> StatsResult<f64>,
) -> StatsResult<f64> {
    for _ in 0..400 {
        if hi - lo <= SOLVE_REL_TOL * hi.abs().max(f64::MIN_POSITIVE) {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if f(mid)? >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

/// A solved sample size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleSize {
    /// The exact (fractional) total enrolled size `N` at which power equals the target.
    pub n_total_exact: f64,
    /// `a·N` and `(1 − a)·N` rounded up to whole persons.
    pub n_treated: u64,
    pub n_control: u64,
}

/// Sample size (enrolled, per arm) for `effect` to be detected with power `target`:
/// the root in `N` of `power(a·N, (1 − a)·N) = target` by bisection (see
/// [`SOLVE_REL_TOL`]), then each arm rounded up to whole persons. With the t test the
/// smallest N considered leaves 1 df (or 1 cluster − 2 df); if even that has the
/// target power, it is returned.
///
/// Errors: invalid design, target not in (0, 1), an effect of zero (no finite n
/// detects it), p1 outside (0, 1).
pub fn solve_n(d: &Design, effect: Effect, target: f64) -> StatsResult<SampleSize> {
    d.validate()?;
    check_target(target)?;
    let zero = match (d.outcome, effect) {
        (Outcome::Continuous, Effect::D(x)) => x == 0.0 || !x.is_finite(),
        (Outcome::Binary { p0 }, Effect::P1(p1)) => {
            check_p("p1", p1)?;
            p1 == p0
        }
        _ => false,
    };
    if zero {
        return Err(StatsError::Invalid(
            "the effect is zero (or not finite): no sample size detects it; give a non-zero effect"
                .into(),
        ));
    }
    let a = d.allocation;
    let pw = |n: f64| power(d, effect, a * n, (1.0 - a) * n);
    // Smallest total with a defined test: 1 df for t, one person per arm otherwise.
    let keep = 1.0 - d.attrition;
    let mut lo = match (d.method, d.cluster_size) {
        (Method::T, None) => 3.0 / keep,
        (Method::T, Some(m)) => 3.0 * m,
        _ => 1.0 / a.min(1.0 - a),
    };
    lo *= 1.0 + 1e-12;
    if pw(lo)? >= target {
        return settle(lo, a, |t, c| power(d, effect, t, c), target);
    }
    let mut hi = 2.0 * lo;
    while pw(hi)? < target {
        lo = hi;
        hi *= 2.0;
        if hi > 1e15 {
            return Err(StatsError::Invalid(
                "the effect is too small for any realistic sample size (more than 1e15)".into(),
            ));
        }
    }
    let n = bisect(lo, hi, target, pw)?;
    settle(n, a, |t, c| power(d, effect, t, c), target)
}

/// Whole arm sizes for the solved total `n`: each arm rounded up, except that an arm
/// within 1e-9 (relative) of a whole number is taken as that number when the design
/// still reaches the target with it. Without this, the 1e-12 nudge that keeps the
/// smallest total defined (or the bisection's last step) can add a whole person to
/// an arm (1.000000000001 rounded up is 2).
fn settle(
    n: f64,
    a: f64,
    power_at: impl Fn(f64, f64) -> StatsResult<f64>,
    target: f64,
) -> StatsResult<SampleSize> {
    let up = round_up(n, a);
    let near = |x: f64| {
        let r = x.round();
        if r >= 1.0 && (x - r).abs() <= 1e-9 * r {
            r
        } else {
            x.ceil()
        }
    };
    let (t, c) = (near(a * n), near((1.0 - a) * n));
    if (t as u64, c as u64) != (up.n_treated, up.n_control)
        && power_at(t, c).is_ok_and(|p| p >= target)
    {
        return Ok(SampleSize {
            n_total_exact: n,
            n_treated: t as u64,
            n_control: c as u64,
        });
    }
    Ok(up)
}

fn round_up(n: f64, a: f64) -> SampleSize {
    SampleSize {
        n_total_exact: n,
        n_treated: (a * n).ceil() as u64,
        n_control: ((1.0 - a) * n).ceil() as u64,
    }
}

/// A solved minimum detectable effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mde {
    /// Continuous: Cohen's d. Binary: the proportion p1 in the treated arm (above p0).
    pub effect: Effect,
    /// Continuous: d (multiply by the SD for raw units). Binary: p1 − p0.
    pub difference: f64,
    /// The standardised MDE: d, or Cohen's h for a binary outcome.
    pub standardised: f64,
}

/// Minimum detectable effect at sizes `n_treated`, `n_control` and power `target`: the
/// effect at which power equals the target, by bisection ([`SOLVE_REL_TOL`]). For a
/// binary outcome the effect is an increase: `p1` in `(p0, 1)`.
///
/// Errors: invalid design, target not in (0, 1) or not above α (for two-sided tests
/// power is at least α at every effect), sizes too small for the test, no `p1 < 1`
/// reaching the target.
pub fn solve_mde(d: &Design, n_treated: f64, n_control: f64, target: f64) -> StatsResult<Mde> {
    d.validate()?;
    check_target(target)?;
    if target <= d.alpha {
        return Err(StatsError::Invalid(format!(
            "the target power {target} must exceed alpha {}",
            d.alpha
        )));
    }
    match d.outcome {
        Outcome::Continuous => {
            let pw = |x: f64| power(d, Effect::D(x), n_treated, n_control);
            let mut hi = 1.0;
            while pw(hi)? < target {
                hi *= 2.0;
                if hi > 1e6 {
                    return Err(StatsError::Invalid(
                        "no effect size reaches the target power at these sizes".into(),
                    ));
                }
            }
            let x = bisect(0.0, hi, target, pw)?;
            Ok(Mde {
                effect: Effect::D(x),
                difference: x,
                standardised: x,
            })
        }
        Outcome::Binary { p0 } => {
            // Power in p1 over (p0, 1): bisect on the share s of the way from p0 to 1.
            let p1_of = |s: f64| p0 + s * (1.0 - p0);
            let pw = |s: f64| power(d, Effect::P1(p1_of(s)), n_treated, n_control);
            let top = 1.0 - 1e-12;
            if pw(top)? < target {
                return Err(StatsError::Invalid(format!(
                    "no increase from p0 = {p0} reaches the target power at these sizes"
                )));
            }
            let s = bisect(0.0, top, target, pw)?;
            let p1 = p1_of(s);
            Ok(Mde {
                effect: Effect::P1(p1),
                difference: p1 - p0,
                standardised: cohens_h(p1, p0),
            })
        }
    }
}

/// Minimum detectable effect of an estimate already made, from its standard error
/// `se`: `λ*·se`, with `λ*` the noncentrality at which the test of the estimate has
/// power `target` (Bloom 1995, "Minimum detectable effects: a simple way to report the
/// statistical power of experimental designs", Evaluation Review 19(5), 547-556).
/// `df`: the estimate's t degrees of freedom (noncentral t, as [`power`]), or `None`
/// for a normal reference. Two-sided power counts both rejection regions, as
/// everywhere here, so for a two-sided test `λ*` is a hair below Bloom's
/// `t_{1−α/2} + t_{power}` (the multiplier, 2.80 at α = 0.05 and 80% power with the
/// normal); one-sided with the normal it is exactly `z_{1−α} + z_{power}`. The
/// standard error carries the design: clusters (a cluster-robust SE), covariates and
/// the achieved sizes, so no ICC or R² is needed. Solved by bisection
/// ([`SOLVE_REL_TOL`]).
///
/// Errors: `se` not positive and finite, alpha or target not in (0, 1), target not
/// above alpha, df below 1.
pub fn mde_from_se(
    se: f64,
    df: Option<f64>,
    alpha: f64,
    target: f64,
    two_sided: bool,
) -> StatsResult<f64> {
    if !(se > 0.0 && se.is_finite()) {
        return Err(StatsError::Invalid(format!(
            "the standard error must be positive, got {se}"
        )));
    }
    check_target(target)?;
    let mut d = Design::new(
        Outcome::Continuous,
        if df.is_some() {
            Method::T
        } else {
            Method::Normal
        },
    );
    d.alpha = alpha;
    d.two_sided = two_sided;
    d.validate()?;
    if target <= alpha {
        return Err(StatsError::Invalid(format!(
            "the target power {target} must exceed alpha {alpha}"
        )));
    }
    let df = df.unwrap_or(f64::INFINITY);
    let pw = |lambda: f64| power_at(&d, lambda, df);
    let mut hi = 4.0;
    while pw(hi)? < target {
        hi *= 2.0;
        if hi > 1e6 {
            return Err(StatsError::Invalid(
                "no effect reaches the target power with these degrees of freedom".into(),
            ));
        }
    }
    Ok(se * bisect(0.0, hi, target, pw)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_effects() {
        assert_eq!(design_effect(0.05, 21.0, 0.0).unwrap(), 2.0);
        let v = design_effect(0.1, 10.0, 0.5).unwrap();
        assert!((v - (1.0 + (1.25 * 10.0 - 1.0) * 0.1)).abs() < 1e-15);
        assert!(design_effect(1.0, 10.0, 0.0).is_err());
        assert!(design_effect(-0.1, 10.0, 0.0).is_err());
    }

    #[test]
    fn nct_reduces_to_central_t_and_normal() {
        for &(t, df) in &[(1.3, 5.0), (-2.1, 12.0), (0.4, 40.0)] {
            let want = super::super::dist::t_cdf(t, df);
            assert!((noncentral_t_cdf(t, df, 0.0) - want).abs() < 1e-13);
        }
        assert!((noncentral_t_cdf(1.0, f64::INFINITY, 0.5) - norm_cdf(0.5)).abs() < 1e-15);
    }

    #[test]
    fn large_noncentrality_is_not_nan() {
        // Beyond |δ| = 37.62 the normal approximation (as R's pnt); power is then 1.
        // The approximation from scipy norm.cdf; statrs' normal is good to about 5e-11 relative.
        assert!((noncentral_t_cdf(45.0, 50.0, 40.0) - 0.8498622884810887).abs() < 1e-9);
        assert_eq!(noncentral_t_cdf(-1.0, 10.0, 45.0), 0.0);
        let d = Design::new(Outcome::Continuous, Method::T);
        assert_eq!(power(&d, Effect::D(5.0), 200.0, 200.0).unwrap(), 1.0);
        let n = solve_n(&d, Effect::D(20.0), 0.9).unwrap();
        assert!(n.n_total_exact.is_finite() && n.n_treated >= 2);
    }

    #[test]
    fn errors() {
        let d = Design::new(Outcome::Continuous, Method::T);
        assert!(solve_n(&d, Effect::D(0.0), 0.8).is_err());
        assert!(solve_n(&d, Effect::D(0.3), 1.0).is_err());
        let mut bad = d;
        bad.alpha = 0.0;
        assert!(power(&bad, Effect::D(0.3), 50.0, 50.0).is_err());
        let b = Design::new(Outcome::Binary { p0: 1.2 }, Method::Normal);
        assert!(power(&b, Effect::P1(0.3), 50.0, 50.0).is_err());
        let b = Design::new(Outcome::Binary { p0: 0.2 }, Method::T);
        assert!(power(&b, Effect::P1(0.3), 50.0, 50.0).is_err());
    }
}
