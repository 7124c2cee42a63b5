//! Reference distributions (statrs): quantiles and two-sided p-values.
//!
//! Large degrees of freedom (register data reach df ≈ 10^8): statrs computes the t
//! distribution through the regularised incomplete beta function I_x(ν/2, 1/2),
//! whose inverse takes minutes near ν = 3·10^7 and whose value loses digits as ν
//! grows (the upper tail at 1.96 is wrong in the third digit at ν = 10^12). From
//! [`DF_ASYMPTOTIC`] on, quantiles and p-values come from asymptotic expansions around
//! the normal distribution instead:
//! - p-values: Hill's normalising transformation (G. W. Hill 1970, "Algorithm 395:
//!   Student's t-distribution", CACM 13(10), 617-619), z = f(t, ν), then the normal
//!   tail at z;
//! - quantiles: the Cornish-Fisher expansion t_p = z + g1/ν + g2/ν² + g3/ν³ + g4/ν⁴
//!   (Abramowitz & Stegun 1964, 26.7.5), z the normal quantile.
//!
//! Against 60-digit mpmath values (tests/fixtures/reference/t_large_df.json, made by
//! scripts/fixtures/t_large_df.py) both are within 1e-15 relative for ν ≥ 10^5 in
//! exact arithmetic (the neglected terms are O(ν⁻⁵) and O(ν⁻³) relative); in double
//! precision the normal tail's own accuracy (about 5e-11 relative, statrs' erfc)
//! bounds them, as it bounds the normal reference everywhere. Both run in constant
//! time at any ν, up to infinity.

//!
//! Chi-square and F have their own large-df branches, in [`chisq`] and [`f`].

use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};

mod chisq;
mod f;

pub use chisq::{CHI_ASYMPTOTIC, chi_square_cdf, chi_square_quantile, chi_square_sf};
pub use f::{F_ASYMPTOTIC, f_cdf, f_quantile, f_sf};

/// Degrees of freedom from which the asymptotic expansions replace statrs' t: where
/// statrs' upper tail is off by about 8e-11 relative and getting worse (4e-10 at
/// 10^6, 2e-8 at 10^7), while the expansions are exact to double precision.
pub const DF_ASYMPTOTIC: f64 = 1e5;

fn normal() -> Normal {
    Normal::standard()
}

/// Upper quantile `q` with P(|T| ≤ q) = `conf_level`, for t(df) or the standard normal.
///
/// statrs' inverse CDFs are refined by Newton steps on the CDF so that the quantile
/// is accurate to near machine precision (the plain inverse of the t distribution in
/// statrs is accurate only to about 1e-9 for some df).
pub fn two_sided_quantile(conf_level: f64, df: Option<f64>) -> f64 {
    let p = 0.5 + conf_level / 2.0;
    match df {
        None => normal_quantile(p),
        Some(d) => t_quantile(p, d),
    }
}

/// Standard normal distribution function Φ(x) (statrs).
pub fn normal_cdf(x: f64) -> f64 {
    normal().cdf(x)
}

/// Standard normal quantile: statrs' inverse refined by Newton steps on its CDF.
pub fn normal_quantile(p: f64) -> f64 {
    let n = normal();
    refine(|x| n.cdf(x), |x| n.pdf(x), n.inverse_cdf(p), p)
}

/// Quantile of t(`df`), `df` > 0 (infinite: the normal): the `t` with P(T ≤ t) = `p`.
///
/// From [`DF_ASYMPTOTIC`] on the Cornish-Fisher expansion at the normal quantile;
/// below it statrs' inverse with Newton steps on statrs' CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if df >= DF_ASYMPTOTIC {
        // Infinite df is the normal limit: every correction term vanishes.
        return cornish_fisher_t(normal_quantile(p), df);
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => refine(|x| t.cdf(x), |x| t.pdf(x), t.inverse_cdf(p), p),
        Err(_) => f64::NAN,
    }
}

/// The t quantile at normal quantile `z` for `df` degrees of freedom by the
/// Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5), four terms.
fn cornish_fisher_t(z: f64, df: f64) -> f64 {
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    let v = 1.0 / df;
    z + v * (g1 + v * (g2 + v * (g3 + v * g4)))
}

/// The upper tail P(T > t), t ≥ 0, for `df` degrees of freedom by Hill's (1970)
/// normalising transformation to a standard normal deviate.
fn hill_t_sf(t: f64, df: f64) -> f64 {
    let a = df - 0.5;
    let b = 48.0 * a * a;
    let z2 = a * (t * t / df).ln_1p();
    let z = z2.sqrt();
    let z =
        (((((-0.4 * z2 - 3.3) * z2 - 24.0) * z2 - 85.5) / (0.8 * z2 * z2 + 100.0 + b) + z2 + 3.0)
            / b
            + 1.0)
            * z;
    normal().sf(z)
}

/// Two-sided p-value of a statistic under t(df) or, with `None`, the standard normal.
pub fn two_sided_p(statistic: f64, df: Option<f64>) -> f64 {
    if !statistic.is_finite() {
        return if statistic.is_nan() { f64::NAN } else { 0.0 };
    }
    let p = 2.0 * upper_tail(statistic.abs(), df.unwrap_or(f64::INFINITY));
    p.min(1.0)
}

/// Upper-tail probability P(T > `x`) of t(`df`) (infinite df: the normal).
pub fn t_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x >= 0.0 {
        upper_tail(x, df)
    } else {
        1.0 - upper_tail(-x, df)
    }
}

/// Distribution function P(T ≤ `x`) of t(`df`), by symmetry.
pub fn t_cdf(x: f64, df: f64) -> f64 {
    t_sf(-x, df)
}

/// P(T > a) for a ≥ 0: the normal at infinite df, Hill's transformation from
/// [`DF_ASYMPTOTIC`] on, statrs below.
fn upper_tail(a: f64, df: f64) -> f64 {
    match df {
        d if d.is_infinite() && d > 0.0 => normal().sf(a),
        d if d >= DF_ASYMPTOTIC => hill_t_sf(a, d),
        d if d > 0.0 => StudentsT::new(0.0, 1.0, d).map_or(f64::NAN, |t| t.sf(a)),
        _ => f64::NAN,
    }
}

/// Newton steps on the tail that holds `p` (the upper tail for p > 1/2, where 1 − p
/// is exact) for a distribution on (0, ∞): solves P(X ≤ x) = p from `x0`. `tail` is
/// the upper tail for p > 1/2 and the distribution function otherwise. A step that
/// would leave the support halves x instead.
fn newton_on_tail(x0: f64, p: f64, tail: impl Fn(f64) -> f64, pdf: impl Fn(f64) -> f64) -> f64 {
    let (target, sign) = if p > 0.5 { (1.0 - p, -1.0) } else { (p, 1.0) };
    let mut x = x0;
    for _ in 0..30 {
        let d = sign * pdf(x);
        if !(d.is_finite() && d != 0.0 && x.is_finite()) {
            break;
        }
        let step = (tail(x) - target) / d;
        x = if x - step > 0.0 { x - step } else { x / 2.0 };
        if step.abs() <= 1e-15 * x {
            break;
        }
    }
    x
}

/// Newton refinement of `x` so that `cdf(x) = p`.
fn refine(cdf: impl Fn(f64) -> f64, pdf: impl Fn(f64) -> f64, mut x: f64, p: f64) -> f64 {
    for _ in 0..4 {
        let d = pdf(x);
        if !crate::stats::above(d, 0.0) {
            break;
        }
        let step = (cdf(x) - p) / d;
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 19: quantiles and p-values at df from 10^5 to 10^12 against 60-digit
    /// mpmath, in bounded time (the inverse at df = 3·10^7 used to take minutes).
    #[test]
    fn huge_df_against_mpmath() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/reference/t_large_df.json"
        ))
        .unwrap();
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        let num = |v: &serde_json::Value| -> f64 {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap()
        };
        let start = std::time::Instant::now();
        let mut checked = 0;
        for q in j["quantiles"].as_array().unwrap() {
            let (df, p, want) = (num(&q["df"]), num(&q["p"]), num(&q["q"]));
            let got = two_sided_quantile(2.0 * p - 1.0, Some(df));
            // Below the switch statrs' path with Newton steps; above, the expansion.
            let tol = if df >= DF_ASYMPTOTIC { 1e-10 } else { 1e-9 };
            assert!(
                ((got - want) / want).abs() < tol,
                "df {df}, p {p}: {got} against {want}"
            );
            checked += 1;
        }
        for r in j["sf"].as_array().unwrap() {
            let (df, x, want) = (num(&r["df"]), num(&r["x"]), num(&r["sf"]));
            if df < DF_ASYMPTOTIC {
                continue;
            }
            let got = two_sided_p(x, Some(df)) / 2.0;
            assert!(
                ((got - want) / want).abs() < 1e-9,
                "df {df}, x {x}: {got} against {want}"
            );
            checked += 1;
        }
        assert!(checked >= 40);
        // Milliseconds, not minutes (a loose bound: debug build on a loaded machine).
        assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
        // The limits: infinite df is the normal; the two paths meet at the switch.
        assert_eq!(
            two_sided_quantile(0.95, Some(f64::INFINITY)),
            two_sided_quantile(0.95, None)
        );
        // statrs' t is accurate to about 1e-10 relative just below the switch (8e-11
        // for the upper tail at df = 10^5, 4e-10 at 10^6, 2e-8 at 10^7, 2e-3 at 10^12,
        // against mpmath): that is where the expansions take over, and it bounds how
        // well the two paths meet.
        let below = two_sided_quantile(0.95, Some(DF_ASYMPTOTIC * (1.0 - 1e-12)));
        let above = two_sided_quantile(0.95, Some(DF_ASYMPTOTIC));
        assert!(((below - above) / above).abs() < 1e-9, "{below} {above}");
        let pb = two_sided_p(2.5, Some(DF_ASYMPTOTIC * (1.0 - 1e-12)));
        let pa = two_sided_p(2.5, Some(DF_ASYMPTOTIC));
        assert!(((pb - pa) / pa).abs() < 1e-9, "{pb} {pa}");
    }

    #[test]
    fn known_quantiles() {
        // qnorm(0.975) and qt(0.975, 10) in R 4.2.2. statrs' normal CDF (through erfc)
        // is accurate to about 5e-11 relative, which bounds the agreement here.
        assert!((two_sided_quantile(0.95, None) - 1.959963984540054).abs() < 1e-10);
        assert!((two_sided_quantile(0.95, Some(10.0)) - 2.228138851986274).abs() < 1e-12);
        assert!((two_sided_p(1.959963984540054, None) - 0.05).abs() < 1e-11);
    }
}
