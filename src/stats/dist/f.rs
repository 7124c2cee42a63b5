//! The F distribution at any df: statrs while both df are below [`F_ASYMPTOTIC`], the
//! chi-square limits at infinite df, and a one-dimensional mixture integral otherwise.
//!
//! statrs computes F through the regularised incomplete beta I_y(d2/2, d1/2), a
//! continued fraction it stops after 140 terms and a prefactor with terms of size
//! d·ln d: at df2 = 10^7 both make it inexact.

use super::chisq::{CHI_ASYMPTOTIC, Eta, chi_square_cdf, chi_square_pdf, gamma_density};
use super::chisq::{chi_square_quantile, chi_square_sf};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};
use statrs::function::beta::checked_beta_reg;

/// The larger df from which the mixture integral replaces statrs' F.
pub const F_ASYMPTOTIC: f64 = CHI_ASYMPTOTIC;

/// Upper-tail probability P(F > `x`) of F(`df1`, `df2`); either df may be infinite.
pub fn f_sf(x: f64, df1: f64, df2: f64) -> f64 {
    tail(x, df1, df2, true)
}

/// Distribution function P(F ≤ `x`) of F(`df1`, `df2`); either df may be infinite.
pub fn f_cdf(x: f64, df1: f64, df2: f64) -> f64 {
    tail(x, df1, df2, false)
}

/// Quantile of F(`df1`, `df2`): the `x` with P(F ≤ x) = `p`.
///
/// Infinite df: the chi-square limits. Both df below [`F_ASYMPTOTIC`]: statrs'
/// inverse. Otherwise Newton steps on the mixture integral from the limit of the
/// larger df (χ²(df1)/df1 for df2 → ∞, df2/χ²(df2) for df1 → ∞).
pub fn f_quantile(p: f64, df1: f64, df2: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) || !valid(df1, df2) {
        return f64::NAN;
    }
    if p == 0.0 {
        return 0.0;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let x0 = match (df1.is_infinite(), df2.is_infinite()) {
        (true, true) => return 1.0,
        (false, true) => return chi_square_quantile(p, df1) / df1,
        (true, false) => return df2 / chi_square_quantile(1.0 - p, df2),
        _ if df1.max(df2) < F_ASYMPTOTIC => FisherSnedecor::new(df1, df2)
            .map(|f| f.inverse_cdf(p))
            .unwrap_or(f64::NAN),
        _ if df2 >= df1 => chi_square_quantile(p, df1) / df1,
        _ => df2 / chi_square_quantile(1.0 - p, df2),
    };
    super::newton_on_tail(
        x0,
        p,
        |x| tail(x, df1, df2, p > 0.5),
        |x| f_pdf(x, df1, df2),
    )
}

fn valid(df1: f64, df2: f64) -> bool {
    df1 > 0.0 && df2 > 0.0
}

/// P(F > x) (`upper`) or P(F ≤ x).
fn tail(x: f64, df1: f64, df2: f64, upper: bool) -> f64 {
    if x.is_nan() || !valid(df1, df2) {
        return f64::NAN;
    }
    if x <= 0.0 || x.is_infinite() {
        return if (x <= 0.0) == upper { 1.0 } else { 0.0 };
    }
    match (df1.is_infinite(), df2.is_infinite()) {
        // F = 1 with certainty.
        (true, true) => f64::from(u8::from((x < 1.0) == upper)),
        // F = χ²(df1)/df1.
        (false, true) => chi_tail(df1 * x, df1, upper),
        // F = df2/χ²(df2): F > x exactly when χ²(df2) < df2/x.
        (true, false) => chi_tail(df2 / x, df2, !upper),
        _ if df1.max(df2) < F_ASYMPTOTIC => statrs_tail(x, df1, df2, upper),
        _ => Mixture::new(x, df1, df2).tail(upper),
    }
}

/// statrs' regularised incomplete beta, each tail from its own argument:
/// I_{d1x/(d1x+d2)}(d1/2, d2/2) for P(F ≤ x) and I_{d2/(d1x+d2)}(d2/2, d1/2) for
/// P(F > x). (statrs' `FisherSnedecor::sf` passes 1 − d1x/(d1x+d2), which loses
/// digits for large x: 1.3e-9 relative in the 0.9995 quantile of F(10, 1).)
fn statrs_tail(x: f64, df1: f64, df2: f64, upper: bool) -> f64 {
    let s = df1 * x + df2;
    let r = if upper {
        checked_beta_reg(df2 / 2.0, df1 / 2.0, df2 / s)
    } else {
        checked_beta_reg(df1 / 2.0, df2 / 2.0, df1 * x / s)
    };
    r.unwrap_or(f64::NAN)
}

fn chi_tail(x: f64, df: f64, upper: bool) -> f64 {
    if upper {
        chi_square_sf(x, df)
    } else {
        chi_square_cdf(x, df)
    }
}

/// Density of F(df1, df2) at x > 0 (for Newton steps).
fn f_pdf(x: f64, df1: f64, df2: f64) -> f64 {
    if df1.max(df2) < F_ASYMPTOTIC {
        // statrs' density is accurate here; Newton needs no more.
        use statrs::distribution::Continuous;
        return FisherSnedecor::new(df1, df2)
            .map(|f| f.pdf(x))
            .unwrap_or(f64::NAN);
    }
    Mixture::new(x, df1, df2).pdf()
}

/// F = (χ²(df1)/df1)/(χ²(df2)/df2) as a mixture over the ratio N = χ²(n)/n of the
/// larger df n (sd √(2/n), the narrower of the two), given which F's tail is a
/// chi-square tail of the smaller df m:
/// - df2 ≥ df1: N = χ²(df2)/df2 and P(F > x | N) = P(χ²(df1) > df1·x·N);
/// - df1 > df2: N = χ²(df1)/df1 and P(F > x | N) = P(χ²(df2) < df2·N/x).
///
/// The integral over N = 1 + u (density from [`gamma_density`], exact at any n) is
/// composite 8-point Gauss-Legendre on panels of 1.5 sd over u ∈ [−45 sd, beyond
/// e^(−745) of the density]; panels whose end values are below 1e-20 of a trapezoid
/// estimate are skipped. Against 60-digit mpmath (tests/dist_large_df.rs) the tails
/// agree to about 1e-12 relative at n ≥ 10^5.
struct Mixture {
    x: f64,
    /// Half the larger df (the shape of N's gamma law).
    a: f64,
    /// The smaller df.
    m: f64,
    /// Whether N is the denominator (df2 ≥ df1).
    denominator: bool,
}

impl Mixture {
    fn new(x: f64, df1: f64, df2: f64) -> Mixture {
        let denominator = df2 >= df1;
        let (n, m) = if denominator { (df2, df1) } else { (df1, df2) };
        Mixture {
            x,
            a: n / 2.0,
            m,
            denominator,
        }
    }

    /// The chi-square(m) argument given N = 1 + u.
    fn arg(&self, u: f64) -> f64 {
        if self.denominator {
            self.m * self.x * (1.0 + u)
        } else {
            self.m * (1.0 + u) / self.x
        }
    }

    fn tail(&self, upper: bool) -> f64 {
        // With N in the numerator, F > x is the lower chi-square tail.
        let chi_upper = upper == self.denominator;
        self.integrate(|u| chi_tail(self.arg(u), self.m, chi_upper))
    }

    /// dP(F ≤ x)/dx = E[density of χ²(m) at arg · |d arg/dx|].
    fn pdf(&self) -> f64 {
        self.integrate(|u| {
            let y = self.arg(u);
            chi_square_pdf(y, self.m) * y / self.x
        })
    }

    /// ∫ g(u)·density(u) du over the support of N = 1 + u.
    fn integrate(&self, g: impl Fn(f64) -> f64) -> f64 {
        let sd = 1.0 / self.a.sqrt();
        let lo = (-45.0 * sd).max(-0.999);
        let mut hi = 45.0 * sd;
        for _ in 0..60 {
            if self.a * Eta::new(hi).d >= 745.0 {
                break;
            }
            hi *= 1.5;
        }
        let panels = ((hi - lo) / (1.5 * sd)).ceil().clamp(1.0, 1e4) as usize;
        let h = (hi - lo) / panels as f64;
        let f = |u: f64| g(u) * gamma_density(self.a, u);
        let edges: Vec<f64> = (0..=panels).map(|i| f(lo + h * i as f64)).collect();
        let cutoff = 1e-20 * edges.iter().sum::<f64>() * h;
        let mut total = 0.0;
        for (i, pair) in edges.windows(2).enumerate() {
            if pair[0].max(pair[1]) * h > cutoff {
                total += gauss_legendre(&f, lo + h * i as f64, h);
            }
        }
        total
    }
}

/// 8-point Gauss-Legendre rule on [a, a + h] (A&S 25.4.30, Table 25.4).
fn gauss_legendre(f: &impl Fn(f64) -> f64, a: f64, h: f64) -> f64 {
    const NODES: [f64; 4] = [
        0.183_434_642_495_649_8,
        0.525_532_409_916_329,
        0.796_666_477_413_626_7,
        0.960_289_856_497_536_3,
    ];
    const WEIGHTS: [f64; 4] = [
        0.362_683_783_378_362,
        0.313_706_645_877_887_3,
        0.222_381_034_453_374_5,
        0.101_228_536_290_376_3,
    ];
    let (mid, half) = (a + h / 2.0, h / 2.0);
    let s: f64 = NODES
        .iter()
        .zip(WEIGHTS)
        .map(|(&t, w)| w * (f(mid - half * t) + f(mid + half * t)))
        .sum();
    s * half
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_is_exact_for_degree_15() {
        let got = gauss_legendre(&|x: f64| x.powi(14) + x.powi(15), 0.0, 1.0);
        assert!((got - (1.0 / 15.0 + 1.0 / 16.0)).abs() < 1e-15, "{got}");
    }
}
