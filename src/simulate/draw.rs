//! Random draws and the closed-form expectations that make the recorded truths exact.
//!
//! Each outcome model has a matching expectation function here: the generator records,
//! per unit, the expected outcome under its own arm and under the control arm, and the
//! true effect is the mean of their difference. So truths stay exact when a bound or a
//! cap binds for some units, where "effect = the configured delta" would be wrong.

use rand::Rng;
use rand::distr::Open01;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Binomial, Distribution, Exp1, Gamma, Poisson, StandardNormal};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};
use statrs::function::gamma::gamma_li;

pub type SimRng = ChaCha8Rng;

pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

pub fn std_normal(rng: &mut SimRng) -> f64 {
    StandardNormal.sample(rng)
}

/// A draw from (0, 1), never exactly 0 or 1, so logs and logits stay finite.
pub fn open01(rng: &mut SimRng) -> f64 {
    rng.sample(Open01)
}

pub fn exp1(rng: &mut SimRng) -> f64 {
    Exp1.sample(rng)
}

/// Uniform integer in `[lo, hi]`.
pub fn int_between(rng: &mut SimRng, lo: u64, hi: u64) -> u64 {
    rng.random_range(lo..=hi)
}

/// Binomial draw; degenerate probabilities are handled without the library (which
/// rejects p outside [0, 1]).
pub fn binomial(rng: &mut SimRng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    match Binomial::new(n, p) {
        Ok(d) => d.sample(rng),
        Err(_) => (n as f64 * p).round() as u64,
    }
}

/// Poisson draw with mean `lambda` (0 for a zero mean).
pub fn poisson(rng: &mut SimRng, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    match Poisson::new(lambda) {
        Ok(d) => d.sample(rng),
        Err(_) => lambda.round(),
    }
}

/// Negative binomial with mean `mu` and shape `k` (variance mu + mu^2/k), drawn as a
/// gamma-Poisson mixture so that the mean is exactly `mu`.
pub fn neg_binomial(rng: &mut SimRng, mu: f64, k: f64) -> f64 {
    let g = match Gamma::new(k, 1.0 / k) {
        Ok(d) => d.sample(rng),
        Err(_) => 1.0,
    };
    poisson(rng, mu * g)
}

/// Beta-binomial on `n` trials with mean `n * q` and precision `phi` (a + b).
pub fn beta_binomial(rng: &mut SimRng, n: u64, q: f64, phi: f64) -> u64 {
    if q <= 0.0 {
        return 0;
    }
    if q >= 1.0 {
        return n;
    }
    let p = match Beta::new(q * phi, (1.0 - q) * phi) {
        Ok(d) => d.sample(rng),
        Err(_) => q,
    };
    binomial(rng, n, p)
}

/// Round to `digits` decimal places.
pub fn round_to(x: f64, digits: u32) -> f64 {
    let f = 10f64.powi(digits as i32);
    (x * f).round() / f
}

/// Round a time up to `digits` decimal places, so that a positive time never becomes 0.
pub fn ceil_to(x: f64, digits: u32) -> f64 {
    let f = 10f64.powi(digits as i32);
    (x * f).ceil() / f
}

/// Draw from N(m, s) truncated to [lo, hi] by rejection (used for covariates, whose
/// exact mean does not enter any truth); falls back to clipping after 100 tries.
pub fn truncated_normal(rng: &mut SimRng, m: f64, s: f64, lo: f64, hi: f64) -> f64 {
    for _ in 0..100 {
        let x = m + s * std_normal(rng);
        if x >= lo && x <= hi {
            return x;
        }
    }
    m.clamp(lo, hi)
}

/// E[clamp(X, lo, hi)] for X ~ N(m, s): the exact mean of a continuous outcome whose
/// draws are clipped to its scale.
pub fn clipped_normal_mean(m: f64, s: f64, lo: f64, hi: f64) -> f64 {
    let Ok(z) = Normal::new(0.0, 1.0) else {
        return m.clamp(lo, hi);
    };
    let (fa, pa) = if lo.is_finite() {
        let a = (lo - m) / s;
        (z.cdf(a), z.pdf(a))
    } else {
        (0.0, 0.0)
    };
    let (fb, pb) = if hi.is_finite() {
        let b = (hi - m) / s;
        (z.cdf(b), z.pdf(b))
    } else {
        (1.0, 0.0)
    };
    let low_part = if lo.is_finite() { lo * fa } else { 0.0 };
    let high_part = if hi.is_finite() { hi * (1.0 - fb) } else { 0.0 };
    low_part + high_part + m * (fb - fa) + s * (pa - pb)
}

/// E[round(clamp(X, lo, hi), digits)] for X ~ N(m, s), summed over the rounding grid,
/// so that rounding a bounded score does not bias its recorded truth. Falls back to
/// [`clipped_normal_mean`] when a bound is infinite or the grid is very long (rounding
/// then moves the mean by far less than any standard error).
pub fn rounded_clipped_normal_mean(m: f64, s: f64, lo: f64, hi: f64, digits: u32) -> f64 {
    let step = 10f64.powi(-(digits as i32));
    let (a, b) = (round_to(lo, digits), round_to(hi, digits));
    let points = ((b - a) / step).round();
    if !(lo.is_finite() && hi.is_finite()) || points > 100_000.0 {
        return clipped_normal_mean(m, s, lo, hi);
    }
    let Ok(z) = Normal::new(m, s) else {
        return clipped_normal_mean(m, s, lo, hi);
    };
    // Distribution function of the clipped variable.
    let cdf = |x: f64| {
        if x < lo {
            0.0
        } else if x >= hi {
            1.0
        } else {
            z.cdf(x)
        }
    };
    let half = step / 2.0;
    (0..=points as u64)
        .map(|k| {
            let v = a + k as f64 * step;
            v * (cdf(v + half) - cdf(v - half))
        })
        .sum()
}

/// Weibull proportional-hazards model parameterised by the median time at linear
/// predictor 0: cumulative hazard H(t) = ln 2 (t / median)^shape exp(lp).
#[derive(Debug, Clone, Copy)]
pub struct Weibull {
    pub median: f64,
    pub shape: f64,
}

impl Weibull {
    /// The rate a of H(t) = a t^shape at linear predictor `lp`.
    pub fn rate(&self, lp: f64) -> f64 {
        std::f64::consts::LN_2 * lp.exp() / self.median.powf(self.shape)
    }

    /// Inverse-transform draw: T = (E / rate)^(1/shape), E ~ Exp(1).
    pub fn draw(&self, rng: &mut SimRng, lp: f64) -> f64 {
        (exp1(rng) / self.rate(lp)).powf(1.0 / self.shape)
    }

    /// P(T <= t).
    pub fn cdf(&self, t: f64, lp: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        1.0 - (-self.rate(lp) * t.powf(self.shape)).exp()
    }

    /// Restricted mean E[min(T, tau)] = integral of S(t) over [0, tau]
    /// = a^(-1/k) / k * lower_gamma(1/k, a tau^k), with a the rate and k the shape.
    pub fn restricted_mean(&self, tau: f64, lp: f64) -> f64 {
        if tau <= 0.0 {
            return 0.0;
        }
        let a = self.rate(lp);
        let k = self.shape;
        let x = a * tau.powf(k);
        if x <= 0.0 || !x.is_finite() {
            return tau;
        }
        a.powf(-1.0 / k) / k * gamma_li(1.0 / k, x)
    }
}

/// Proportional-odds model for an ordinal outcome with levels 1..K: cutpoints from the
/// level probabilities at linear predictor 0.
#[derive(Debug, Clone)]
pub struct Ordinal {
    cuts: Vec<f64>,
}

impl Ordinal {
    pub fn from_probs(probs: &[f64]) -> Self {
        let mut cum = 0.0;
        let mut cuts = Vec::with_capacity(probs.len().saturating_sub(1));
        for p in &probs[..probs.len().saturating_sub(1)] {
            cum += p;
            cuts.push(logit(cum.min(1.0 - 1e-12)));
        }
        Self { cuts }
    }

    /// Level (1..K) of a latent value.
    pub fn level(&self, latent: f64) -> i64 {
        1 + self.cuts.iter().filter(|c| latent > **c).count() as i64
    }

    /// Draw a level: latent = lp + standard logistic noise.
    pub fn draw(&self, rng: &mut SimRng, lp: f64) -> i64 {
        self.level(lp + logit(open01(rng)))
    }

    /// E[level] = 1 + sum over cutpoints of P(latent > cut).
    pub fn mean(&self, lp: f64) -> f64 {
        1.0 + self.cuts.iter().map(|c| logistic(lp - c)).sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> SimRng {
        SimRng::seed_from_u64(7)
    }

    #[test]
    fn clipped_normal_mean_matches_monte_carlo_and_limits() {
        // Without bounds it is the mean.
        assert!(
            (clipped_normal_mean(2.0, 1.0, f64::NEG_INFINITY, f64::INFINITY) - 2.0).abs() < 1e-12
        );
        // max(0, Z) has mean phi(0) = 0.3989...
        assert!((clipped_normal_mean(0.0, 1.0, 0.0, f64::INFINITY) - 0.398_942_280_4).abs() < 1e-9);
        let mut r = rng();
        let n = 200_000;
        let mc: f64 = (0..n)
            .map(|_| (1.5 + 2.0 * std_normal(&mut r)).clamp(1.0, 4.0))
            .sum::<f64>()
            / n as f64;
        assert!((mc - clipped_normal_mean(1.5, 2.0, 1.0, 4.0)).abs() < 0.01);
    }

    #[test]
    fn rounded_clipped_normal_mean_matches_monte_carlo() {
        let mut r = rng();
        let n = 400_000;
        let mc: f64 = (0..n)
            .map(|_| round_to((3.2 + 1.1 * std_normal(&mut r)).clamp(1.0, 5.0), 0))
            .sum::<f64>()
            / n as f64;
        let exact = rounded_clipped_normal_mean(3.2, 1.1, 1.0, 5.0, 0);
        assert!((mc - exact).abs() < 0.005, "{mc} vs {exact}");
        // Rounding to integers on [1, 5] moves the mean visibly from the unrounded one.
        assert!((exact - clipped_normal_mean(3.2, 1.1, 1.0, 5.0)).abs() > 1e-4);
    }

    #[test]
    fn weibull_median_cdf_and_restricted_mean() {
        let w = Weibull {
            median: 8.0,
            shape: 1.3,
        };
        assert!((w.cdf(8.0, 0.0) - 0.5).abs() < 1e-12);
        // Restricted mean against a trapezoid integral of the survival function.
        let tau = 24.0;
        let steps = 200_000;
        let h = tau / steps as f64;
        let integral: f64 = (0..steps)
            .map(|i| {
                let (a, b) = (i as f64 * h, (i + 1) as f64 * h);
                h * (2.0 - w.cdf(a, 0.3) - w.cdf(b, 0.3)) / 2.0
            })
            .sum();
        assert!((integral - w.restricted_mean(tau, 0.3)).abs() < 1e-6);
        // Draws have the stated median.
        let mut r = rng();
        let n = 100_000;
        let below = (0..n).filter(|_| w.draw(&mut r, 0.0) <= 8.0).count();
        assert!((below as f64 / n as f64 - 0.5).abs() < 0.01);
    }

    #[test]
    fn ordinal_probs_and_mean() {
        let probs = [0.1, 0.3, 0.4, 0.2];
        let o = Ordinal::from_probs(&probs);
        let expected: f64 = probs
            .iter()
            .enumerate()
            .map(|(i, p)| (i + 1) as f64 * p)
            .sum();
        assert!((o.mean(0.0) - expected).abs() < 1e-12);
        let mut r = rng();
        let n = 100_000;
        let mean = (0..n).map(|_| o.draw(&mut r, 0.4) as f64).sum::<f64>() / n as f64;
        assert!((mean - o.mean(0.4)).abs() < 0.02);
    }

    #[test]
    fn count_draws_keep_their_means() {
        let mut r = rng();
        let n = 100_000;
        let nb = (0..n).map(|_| neg_binomial(&mut r, 12.0, 2.0)).sum::<f64>() / n as f64;
        assert!((nb - 12.0).abs() < 0.2);
        let bb = (0..n)
            .map(|_| beta_binomial(&mut r, 365, 0.4, 3.0) as f64)
            .sum::<f64>()
            / n as f64;
        assert!((bb - 146.0).abs() < 1.5);
        assert_eq!(binomial(&mut r, 10, 1.0), 10);
        assert_eq!(binomial(&mut r, 10, 0.0), 0);
    }
}
