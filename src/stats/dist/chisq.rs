//! The chi-square distribution at any df: statrs below [`CHI_ASYMPTOTIC`], Temme's
//! uniform asymptotic expansion of the incomplete gamma function from there on.
//!
//! statrs computes Q(a, x) through the prefactor exp(a·ln x − x − ln Γ(a)), whose
//! terms are of size a·ln a: at a = 5·10^11 (df = 10^12) a rounding of the exponent
//! is an error of about 10^-3 in the result, and its series needs O(√a) terms.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF};
use statrs::function::erf::erfc;

/// Degrees of freedom from which Temme's expansion replaces statrs' chi-square. At
/// df = 10^4 (a = 5000) the neglected term c₂(η)/a² of the expansion is below 2e-13
/// of the distribution function, while statrs' exponent already carries rounding
/// errors of about 1e-11 relative (growing like df·ln df).
pub const CHI_ASYMPTOTIC: f64 = 1e4;

/// Upper-tail probability P(X > `x`) of chi-square(`df`); `df` may be infinite.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    tail(x, df, true)
}

/// Distribution function P(X ≤ `x`) of chi-square(`df`); `df` may be infinite.
pub fn chi_square_cdf(x: f64, df: f64) -> f64 {
    tail(x, df, false)
}

/// Density of chi-square(`df`) at `x`, for Newton steps.
pub(super) fn chi_square_pdf(x: f64, df: f64) -> f64 {
    if df < CHI_ASYMPTOTIC {
        return ChiSquared::new(df).map(|c| c.pdf(x)).unwrap_or(f64::NAN);
    }
    if x <= 0.0 || df.is_infinite() {
        return 0.0;
    }
    let a = df / 2.0;
    let u = (x - df) / df;
    gamma_density(a, u) / df
}

/// Quantile of chi-square(`df`): the `x` with P(X ≤ x) = `p`.
///
/// Below [`CHI_ASYMPTOTIC`] statrs' inverse, above it the Wilson-Hilferty cube-root
/// approximation (Abramowitz & Stegun 26.4.17, relative error about 1e-6 at
/// df = 10^4, shrinking like 1/df); both followed by Newton steps on the tail that
/// holds `p` (the upper tail for p > 1/2, so that 1 − p is exact).
pub fn chi_square_quantile(p: f64, df: f64) -> f64 {
    if p.is_nan() || df.is_nan() || df <= 0.0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return 0.0;
    }
    if p == 1.0 || df.is_infinite() {
        return f64::INFINITY;
    }
    let x0 = if df < CHI_ASYMPTOTIC {
        ChiSquared::new(df)
            .map(|c| c.inverse_cdf(p))
            .unwrap_or(f64::NAN)
    } else {
        wilson_hilferty(p, df)
    };
    super::newton_on_tail(x0, p, |x| tail(x, df, p > 0.5), |x| chi_square_pdf(x, df))
}

/// Wilson & Hilferty (1931): (X/k)^(1/3) is nearly normal with mean 1 − 2/(9k) and
/// variance 2/(9k) (A&S 26.4.17).
fn wilson_hilferty(p: f64, df: f64) -> f64 {
    let h = 2.0 / (9.0 * df);
    let z = super::normal_quantile(p);
    df * (1.0 - h + z * h.sqrt()).powi(3)
}

/// P(X > x) (`upper`) or P(X ≤ x) for chi-square(df).
fn tail(x: f64, df: f64, upper: bool) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 || df.is_infinite() {
        return if upper { 1.0 } else { 0.0 };
    }
    if df < CHI_ASYMPTOTIC {
        return match ChiSquared::new(df) {
            Ok(c) if upper => c.sf(x),
            Ok(c) => c.cdf(x),
            Err(_) => f64::NAN,
        };
    }
    gamma_temme(df / 2.0, (x - df) / df, upper)
}

/// Q(a, a(1+u)) (`upper`) or P(a, a(1+u)) by Temme's uniform expansion (N. M. Temme
/// 1979, "The asymptotic expansion of the incomplete gamma functions", SIAM J. Math.
/// Anal. 10, 757-766; DLMF 8.12.3-8.12.9):
/// Q = ½ erfc(η √(a/2)) + e^(−aη²/2)/√(2πa) · (c₀(η) + c₁(η)/a + O(a⁻²)),
/// with ½η² = u − ln(1+u), η of the sign of u. For a ≥ 5000 the neglected term
/// (c₂(0) = 6.5e-4) is below 2e-13 of P and Q, and of the same relative size in the
/// tails (the correction is O(η/a) relative to the leading term there).
pub(super) fn gamma_temme(a: f64, u: f64, upper: bool) -> f64 {
    let e = Eta::new(u);
    let y = e.eta * (a / 2.0).sqrt();
    let r = (-a * e.d).exp() / (std::f64::consts::TAU * a).sqrt() * (e.c0() + e.c1() / a);
    if upper {
        0.5 * erfc(y) + r
    } else {
        0.5 * erfc(-y) - r
    }
}

/// Density of λ = X/a, X ~ Gamma(a, 1), at λ = 1 + u:
/// e^(−a·d)·√(a/2π) / ((1+u)·Γ*(a)), with
/// d = u − ln(1+u) and Γ*(a) = Γ(a)/(√(2π/a)·aᵃe⁻ᵃ) by Stirling's series (A&S
/// 6.1.37, four terms: the next, 571/(2488320a⁴), is below 1e-18 for a ≥ 5000).
pub(super) fn gamma_density(a: f64, u: f64) -> f64 {
    let e = Eta::new(u);
    let v = 1.0 / a;
    let stirling = 1.0 + v * (1.0 / 12.0 + v * (1.0 / 288.0 - v * (139.0 / 51840.0)));
    (-a * e.d).exp() * (a / std::f64::consts::TAU).sqrt() / ((1.0 + u) * stirling)
}

/// The quantities of Temme's expansion at u = x/a − 1 > −1, computed without
/// cancellation near u = 0: r² = 2d/u² = 1 + u·s, with
/// s = 2 Σ_{k≥1} (−1)ᵏ u^(k−1)/(k+2) summed directly for |u| < 0.1.
pub(super) struct Eta {
    u: f64,
    /// d = u − ln(1+u) = η²/2 ≥ 0.
    pub d: f64,
    pub eta: f64,
    /// s = (r² − 1)/u, r = η/u.
    s: f64,
    r: f64,
}

impl Eta {
    pub fn new(u: f64) -> Eta {
        let s = if u.abs() < 0.1 {
            // 24 terms: |u|^24/26 < 1e-25.
            -(1..=24)
                .rev()
                .fold(0.0, |acc, k| acc * -u + 2.0 / f64::from(k + 2))
        } else {
            (2.0 * (u - u.ln_1p()) / (u * u) - 1.0) / u
        };
        let r2 = 1.0 + u * s;
        let d = if u.abs() < 0.1 {
            0.5 * u * u * r2
        } else {
            u - u.ln_1p()
        };
        let r = r2.sqrt();
        Eta {
            u,
            d,
            eta: u * r,
            s,
            r,
        }
    }

    /// c₀(η) = 1/u − 1/η = s/(r(r+1)) (DLMF 8.12.8, rewritten without cancellation).
    fn c0(&self) -> f64 {
        self.s / (self.r * (self.r + 1.0))
    }

    /// c₁(η) = 1/η³ − 1/u³ − 1/u² − 1/(12u) (DLMF 8.12.8); for |u| < 0.01 its Taylor
    /// series in u, −1/540 − u/288 + 23u²/6048 − 3733u³/1088640 (coefficients exact,
    /// from the series of η(u); truncation below 1e-10, weighted by 1/a in the sum).
    fn c1(&self) -> f64 {
        let u = self.u;
        if u.abs() < 0.01 {
            return -1.0 / 540.0
                + u * (-1.0 / 288.0 + u * (23.0 / 6048.0 - u * (3733.0 / 1_088_640.0)));
        }
        1.0 / self.eta.powi(3) - 1.0 / u.powi(3) - 1.0 / (u * u) - 1.0 / (12.0 * u)
    }
}
