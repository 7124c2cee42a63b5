//! Baseline balance: per covariate and comparison, the mean (for a 0/1 covariate the
//! share) in each arm and the standardised difference
//! ([`crate::stats::describe::standardised_mean_difference`], pooled SD), on every
//! unit with the covariate observed. For a randomised design it describes how the
//! lottery came out, not a test; for other designs it shows how far the groups differed
//! before the start. Differences above [`SMD_FLAG`] are flagged (Austin 2009).
//!
//! Disclosure control: an arm's mean over fewer than the threshold's persons is
//! withheld, and so is a share whose count of 0s or 1s in either arm is below it.

use rayon::prelude::*;
use serde::Serialize;

use super::input::Units;
use crate::data::Numbers;
use crate::stats::describe::{Moments, sample_variance, standardised_mean_difference, summand};

/// The absolute standardised difference above which a covariate is flagged as
/// imbalanced (0.1, Austin 2009; Stuart 2010).
pub const SMD_FLAG: f64 = 0.1;

/// One covariate's baseline balance in one comparison (pooled SD; the weighting
/// estimators' before/after balance, treated SD, is [`super::BalanceRow`]).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BaselineBalance {
    pub covariate: String,
    /// "<treated> vs <control>", arm values as in the data.
    pub comparison: String,
    pub treated: String,
    pub control: String,
    /// True when the covariate takes only the values 0 and 1: means are shares.
    pub binary: bool,
    /// Mean (share) among the treated and the control units with the covariate
    /// observed; null when withheld.
    pub mean_treated: Option<f64>,
    pub mean_control: Option<f64>,
    /// Standardised mean difference, treated minus control, pooled SD; null when
    /// withheld or when it cannot be standardised (both arms constant, unequal).
    pub smd: Option<f64>,
    /// |smd| above [`SMD_FLAG`].
    pub imbalanced: bool,
    /// True when disclosure control withheld this row's numbers.
    pub suppressed: bool,
}

/// The balance of every covariate in every comparison of a treated arm with the
/// control arm; `threshold` is the disclosure threshold (None: no control).
pub(crate) fn balance(
    units: &Units,
    arms: &[String],
    control: usize,
    threshold: Option<usize>,
) -> Vec<BaselineBalance> {
    let mut out = Vec::new();
    for (t, treated) in arms.iter().enumerate().filter(|(t, _)| *t != control) {
        // Covariates in parallel, each in two fused passes over its column (see
        // [`arm_moments`]): splitting each column into per-arm buffers first cost a
        // mispredicted branch per row (0.64 s of 3.4 s at 10^7 rows, 8 covariates).
        let rows: Vec<BaselineBalance> = units
            .covariates
            .par_iter()
            .map(|(name, values)| {
                let m = covariate_moments(units, values, (t, control));
                let binary = m.ones.is_some();
                let small = |n: usize, ones: Option<usize>| {
                    threshold
                        .is_some_and(|k| n < k || ones.is_some_and(|ones| ones < k || n - ones < k))
                };
                let suppressed = small(m.treated.n, m.ones.map(|o| o.0))
                    || small(m.control.n, m.ones.map(|o| o.1));
                let smd = standardised_mean_difference(m.treated, m.control, binary)
                    .filter(|_| !suppressed);
                let finite = |m: Moments| (m.n > 0 && !suppressed).then_some(m.mean);
                BaselineBalance {
                    covariate: name.clone(),
                    comparison: format!("{treated} vs {}", arms[control]),
                    treated: treated.clone(),
                    control: arms[control].clone(),
                    binary,
                    mean_treated: finite(m.treated),
                    mean_control: finite(m.control),
                    smd,
                    imbalanced: smd.is_some_and(|d| d.abs() > SMD_FLAG),
                    suppressed,
                }
            })
            .collect();
        out.extend(rows);
    }
    out
}

/// What the balance of one covariate needs of arms `t` and `c`, over the units with a
/// finite value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ArmMoments {
    treated: Moments,
    control: Moments,
    /// Values equal to 1 in (t, c) when every such value is 0 or 1 (a 0/1
    /// covariate); `None` otherwise.
    ones: Option<(usize, usize)>,
}

/// [`arm_moments`] of a covariate column (missing values left out, as non-finite ones).
fn covariate_moments(units: &Units, values: &Numbers, arms: (usize, usize)) -> ArmMoments {
    if values.missing() == 0 {
        arm_moments(values.values(), &units.arm, arms)
    } else {
        let filled: Vec<f64> = values.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        arm_moments(&filled, &units.arm, arms)
    }
}

/// The moments of the finite values of `x` in arm `t` and in arm `c`, each exactly as
/// [`Moments::of`] gives them on that arm's values in row order
/// ([`crate::stats::describe::moments_of`]: a sum from −0.0, then the sums of d² and d
/// from 0.0, in row order), from two passes over all rows with both arms side by side.
///
/// Branch-free: a row of the other arm (or not finite) adds −0.0 to a sum (and +0.0 to
/// the sum of squares, which is never −0.0), which leaves every float as it is, so each
/// arm's sums are bit for bit those over its own values. As `if` (or `&&`, or a plain
/// bit mask) the compiler made the choice a branch, mispredicted on every other row of
/// a randomised arm column: [`summand`] hides the mask from it. At 10^7 rows a covariate
/// took 126 ms as a branchy fold, 55 ms so (one core).
fn arm_moments(x: &[f64], arm: &[u16], (t, c): (usize, usize)) -> ArmMoments {
    let (mut nt, mut nc, mut other) = (0usize, 0usize, 0usize);
    let (mut st, mut sc) = (-0.0f64, -0.0f64);
    for (&v, &a) in x.iter().zip(arm) {
        let a = usize::from(a);
        let bits = v.to_bits();
        let ok = v.is_finite();
        let (it, ic) = (ok & (a == t), ok & (a == c));
        // Neither 0 (either sign) nor 1: the covariate is not 0/1.
        let not_01 = (bits << 1 != 0) & (bits != 1.0f64.to_bits());
        nt += usize::from(it);
        nc += usize::from(ic);
        other += usize::from((it | ic) & not_01);
        st += summand(it, v);
        sc += summand(ic, v);
    }
    // For a 0/1 covariate the sum is the count of 1s, exactly (below 2^53).
    let ones = (other == 0).then_some((st as usize, sc as usize));
    let (mt, mc) = (st / nt as f64, sc / nc as f64);
    let (mut sst, mut ssc, mut dt, mut dc) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (&v, &a) in x.iter().zip(arm) {
        let a = usize::from(a);
        let ok = v.is_finite();
        let d_t = summand(ok & (a == t), v - mt);
        let d_c = summand(ok & (a == c), v - mc);
        sst += d_t * d_t;
        ssc += d_c * d_c;
        dt += d_t;
        dc += d_c;
    }
    let moments = |n: usize, mean: f64, ss: f64, s: f64| Moments {
        n,
        mean,
        var: sample_variance(n, ss, s),
    };
    ArmMoments {
        treated: moments(nt, mt, sst, dt),
        control: moments(nc, mc, ssc, dc),
        ones,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The arm's finite values in row order, then [`Moments::of`]: what the balance
    /// computed before the fused passes.
    fn by_splitting(x: &[f64], arm: &[u16], (t, c): (usize, usize)) -> ArmMoments {
        let pick = |k: usize| -> Vec<f64> {
            x.iter()
                .zip(arm)
                .filter(|&(v, &a)| v.is_finite() && usize::from(a) == k)
                .map(|(&v, _)| v)
                .collect()
        };
        let (xt, xc) = (pick(t), pick(c));
        let ones = |v: &[f64]| v.iter().filter(|&&v| v == 1.0).count();
        let binary = xt.iter().chain(&xc).all(|&v| v == 0.0 || v == 1.0);
        ArmMoments {
            treated: Moments::of(&xt),
            control: Moments::of(&xc),
            ones: binary.then(|| (ones(&xt), ones(&xc))),
        }
    }

    fn same_bits(a: Moments, b: Moments) -> bool {
        a.n == b.n && a.mean.to_bits() == b.mean.to_bits() && a.var.to_bits() == b.var.to_bits()
    }

    #[test]
    fn fused_passes_give_the_split_arms_moments_bit_for_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261203);
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1.0];
        for case in 0..400 {
            let n = rng.random_range(0..60);
            let kind = case % 4;
            let x: Vec<f64> = (0..n)
                .map(|_| match kind {
                    // 0/1 covariates, some missing.
                    0 if rng.random_bool(0.1) => f64::NAN,
                    0 => f64::from(u8::from(rng.random_bool(0.3))),
                    1 => specials[rng.random_range(0..specials.len())],
                    2 => rng.random_range(-1e6..1e6) * 10f64.powi(rng.random_range(-8..8)),
                    _ => 40.0 + rng.random_range(-10.0..10.0),
                })
                .collect();
            let arms = 1 + case % 3;
            let arm: Vec<u16> = (0..n).map(|_| rng.random_range(0..arms as u16)).collect();
            for t in 0..arms {
                for c in 0..arms {
                    let got = arm_moments(&x, &arm, (t, c));
                    let want = by_splitting(&x, &arm, (t, c));
                    assert!(
                        same_bits(got.treated, want.treated)
                            && same_bits(got.control, want.control)
                            && got.ones == want.ones,
                        "case {case} arms ({t}, {c}): {got:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_empty_or_single_arm_has_no_variance() {
        let m = arm_moments(&[2.0, 3.0, f64::NAN], &[0, 1, 1], (1, 0));
        assert_eq!((m.treated.n, m.treated.mean), (1, 3.0));
        assert!(m.treated.var.is_nan());
        let m = arm_moments(&[2.0, 3.0], &[0, 0], (1, 0));
        assert_eq!(m.treated.n, 0);
        assert!(m.treated.mean.is_nan() && m.treated.var.is_nan());
        assert_eq!((m.control.mean, m.control.var), (2.5, 0.5));
        // Rows of the other arm leave the sign of a zero sum as it is.
        let m = arm_moments(&[-0.0, 5.0, -0.0], &[1, 0, 1], (1, 0));
        assert_eq!(m.treated.mean.to_bits(), (-0.0f64).to_bits());
        assert_eq!(m.ones, None);
        let m = arm_moments(&[0.0, 1.0, 1.0, f64::NAN, 7.0], &[1, 1, 0, 0, 2], (1, 0));
        assert_eq!(m.ones, Some((1, 1)));
    }
}
