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
use crate::stats::describe::{
    Moments, masked, opaque_mask, sample_variance, standardised_mean_difference,
};

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
        let moments = all_moments(units, (t, control));
        let rows = units.covariates.iter().zip(moments).map(|((name, _), m)| {
            let binary = m.ones.is_some();
            let small = |n: usize, ones: Option<usize>| {
                threshold
                    .is_some_and(|k| n < k || ones.is_some_and(|ones| ones < k || n - ones < k))
            };
            let suppressed =
                small(m.treated.n, m.ones.map(|o| o.0)) || small(m.control.n, m.ones.map(|o| o.1));
            let smd =
                standardised_mean_difference(m.treated, m.control, binary).filter(|_| !suppressed);
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
        });
        out.extend(rows);
    }
    out
}

/// What the balance of one covariate needs of arms `t` and `c`, over the units with a
/// finite value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ArmMoments {
    pub(super) treated: Moments,
    pub(super) control: Moments,
    /// Values equal to 1 in (t, c) when every such value is 0 or 1 (a 0/1
    /// covariate); `None` otherwise.
    ones: Option<(usize, usize)>,
}

/// [`arm_moments`] of every covariate, in order. Splitting each column into per-arm
/// buffers first cost a mispredicted branch per row (0.64 s of 3.4 s at 10^7 rows, 8
/// covariates); the fused passes take four columns at a time, and the groups of four
/// run in parallel.
fn all_moments(units: &Units, arms: (usize, usize)) -> Vec<ArmMoments> {
    let columns: Vec<&Numbers> = units.covariates.iter().map(|(_, v)| v).collect();
    let arm = &units.arm;
    columns
        .par_chunks(4)
        .flat_map_iter(|group| match *group {
            [a, b, c, d] => covariates_moments([a, b, c, d], arm, arms).to_vec(),
            [a, b, c] => {
                let [ma, mb] = covariates_moments([a, b], arm, arms);
                vec![ma, mb, covariates_moments([c], arm, arms)[0]]
            }
            [a, b] => covariates_moments([a, b], arm, arms).to_vec(),
            _ => group
                .iter()
                .map(|&v| covariates_moments([v], arm, arms)[0])
                .collect(),
        })
        .collect()
}

/// [`arm_moments`] of `L` covariate columns side by side.
fn covariates_moments<const L: usize>(
    values: [&Numbers; L],
    arm: &[u16],
    arms: (usize, usize),
) -> [ArmMoments; L] {
    // Missing values as NaN, which the passes leave out as they do every non-finite one.
    let filled: [Option<Vec<f64>>; L] = values
        .map(|v| (v.missing() > 0).then(|| v.iter().map(|v| v.unwrap_or(f64::NAN)).collect()));
    let columns: [&[f64]; L] =
        std::array::from_fn(|k| filled[k].as_deref().unwrap_or(values[k].values()));
    arm_moments(columns, arm, arms)
}

/// The moments of the finite values of each column of `xs` in arm `t` and in arm `c`,
/// each exactly as [`Moments::of`] gives them on that arm's values in row order
/// ([`crate::stats::describe::moments_of`]: a sum from −0.0, then the sums of d² and d
/// from 0.0, in row order), from two passes over all rows with both arms, and `L`
/// columns, side by side.
///
/// Branch-free: a row of the other arm (or not finite) adds −0.0 to a sum (and +0.0 to
/// the sum of squares, which is never −0.0), which leaves every float as it is, so each
/// arm's sums are bit for bit those over its own values. As `if` (or `&&`, or a plain
/// bit mask) the compiler made the choice a branch, mispredicted on every other row of
/// a randomised arm column: the arm masks go through
/// [`crate::stats::describe::opaque_mask`]. At 10^7 rows a covariate took 126 ms as a
/// branchy fold, 55 ms so (one core).
///
/// Each sum runs in row order, so one column's sums are a chain of dependent additions,
/// one row after the other: with one column at a time the passes wait on that chain.
/// Columns side by side (`L` = 4) give the processor independent chains to overlap.
///
/// The arm of a row is a code (`u16` for the arms of a pilot) or a flag (`bool`, 1 for
/// treated): anything that converts to `usize`.
///
/// On AVX2 processors the same operations run compiled for AVX2 (the `L` columns'
/// sums side by side in one vector), so the same values.
pub(super) fn arm_moments<const L: usize, A: Copy + Into<usize>>(
    xs: [&[f64]; L],
    arm: &[A],
    arms: (usize, usize),
) -> [ArmMoments; L] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { arm_moments_avx2(xs, arm, arms) };
    }
    arm_moments_in(xs, arm, arms)
}

/// [`arm_moments`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn arm_moments_avx2<const L: usize, A: Copy + Into<usize>>(
    xs: [&[f64]; L],
    arm: &[A],
    arms: (usize, usize),
) -> [ArmMoments; L] {
    arm_moments_in(xs, arm, arms)
}

#[inline(always)]
fn arm_moments_in<const L: usize, A: Copy + Into<usize>>(
    xs: [&[f64]; L],
    arm: &[A],
    (t, c): (usize, usize),
) -> [ArmMoments; L] {
    let n = arm.len();
    assert!(
        xs.iter().all(|x| x.len() == n),
        "a covariate column of another length"
    );
    let (mut nt, mut nc, mut other) = ([0usize; L], [0usize; L], [0usize; L]);
    let (mut st, mut sc) = ([-0.0f64; L], [-0.0f64; L]);
    let one = 1.0f64.to_bits();
    for (i, &a) in arm.iter().enumerate() {
        let a: usize = a.into();
        let (at, ac) = (opaque_mask(a == t), opaque_mask(a == c));
        for l in 0..L {
            let v = xs[l][i];
            let bits = v.to_bits();
            let ok = u64::from(v.is_finite()).wrapping_neg();
            let (it, ic) = (at & ok, ac & ok);
            // Neither 0 (either sign) nor 1: the covariate is not 0/1.
            let not_01 = u64::from((bits << 1 != 0) & (bits != one));
            nt[l] += (it & 1) as usize;
            nc[l] += (ic & 1) as usize;
            other[l] += ((it | ic) & not_01) as usize;
            st[l] += masked(it, v);
            sc[l] += masked(ic, v);
        }
    }
    let mean = |s: f64, n: usize| s / n as f64;
    let (mt, mc): ([f64; L], [f64; L]) = (
        std::array::from_fn(|l| mean(st[l], nt[l])),
        std::array::from_fn(|l| mean(sc[l], nc[l])),
    );
    let (mut sst, mut ssc, mut dt, mut dc) = ([0.0f64; L], [0.0f64; L], [0.0f64; L], [0.0f64; L]);
    for (i, &a) in arm.iter().enumerate() {
        let a: usize = a.into();
        let (at, ac) = (opaque_mask(a == t), opaque_mask(a == c));
        for l in 0..L {
            let v = xs[l][i];
            let ok = u64::from(v.is_finite()).wrapping_neg();
            let d_t = masked(at & ok, v - mt[l]);
            let d_c = masked(ac & ok, v - mc[l]);
            sst[l] += d_t * d_t;
            ssc[l] += d_c * d_c;
            dt[l] += d_t;
            dc[l] += d_c;
        }
    }
    let moments = |n: usize, mean: f64, ss: f64, s: f64| Moments {
        n,
        mean,
        var: sample_variance(n, ss, s),
    };
    std::array::from_fn(|l| ArmMoments {
        treated: moments(nt[l], mt[l], sst[l], dt[l]),
        control: moments(nc[l], mc[l], ssc[l], dc[l]),
        // For a 0/1 covariate the sum is the count of 1s, exactly (below 2^53).
        ones: (other[l] == 0).then_some((st[l] as usize, sc[l] as usize)),
    })
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

    /// Equal bit for bit, except that any NaN equals any NaN: the mean of an empty arm
    /// is −0.0 / 0, whose NaN's sign the hardware or the compiler may choose, and no
    /// output shows it (an empty arm's mean is withheld).
    fn same_bits(a: Moments, b: Moments) -> bool {
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        a.n == b.n && same(a.mean, b.mean) && same(a.var, b.var)
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
                    let [got] = arm_moments([&x], &arm, (t, c));
                    let want = by_splitting(&x, &arm, (t, c));
                    assert!(
                        same_bits(got.treated, want.treated)
                            && same_bits(got.control, want.control)
                            && got.ones == want.ones,
                        "case {case} arms ({t}, {c}): {got:?} vs {want:?}"
                    );
                    // Arms as flags (the weighting estimates' `treated`): the same.
                    if arms == 2 {
                        let flags: Vec<bool> = arm.iter().map(|&a| a == 1).collect();
                        let [by_flag] = arm_moments([&x], &flags, (t, c));
                        assert!(
                            same_bits(by_flag.treated, got.treated)
                                && same_bits(by_flag.control, got.control)
                                && by_flag.ones == got.ones,
                            "case {case} arms ({t}, {c}) as flags"
                        );
                    }
                }
            }
        }
    }

    /// Four columns side by side (with missing values among them) give each column's
    /// moments as it gets them alone, and as the split arms give them.
    #[test]
    fn columns_side_by_side_give_each_columns_moments() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(31);
        for case in 0..60 {
            let n = rng.random_range(0..300);
            let arm: Vec<u16> = (0..n).map(|_| rng.random_range(0..3u16)).collect();
            let columns: Vec<Numbers> = (0..4)
                .map(|k| {
                    let v: Vec<Option<f64>> = (0..n)
                        .map(|_| match k {
                            _ if rng.random_bool(0.05) => None,
                            0 => Some(f64::from(u8::from(rng.random_bool(0.4)))),
                            1 => Some(rng.random_range(-1e3..1e3)),
                            2 => Some([f64::NAN, 1.0, 0.0, -0.0][rng.random_range(0..4)]),
                            _ => Some(1e9 + rng.random_range(0.0..1.0)),
                        })
                        .collect();
                    Numbers::from_options(&v)
                })
                .collect();
            let together = covariates_moments(
                [&columns[0], &columns[1], &columns[2], &columns[3]],
                &arm,
                (1, 0),
            );
            let pair = covariates_moments([&columns[2], &columns[3]], &arm, (1, 0));
            for (k, got) in together.iter().enumerate() {
                let [alone] = covariates_moments([&columns[k]], &arm, (1, 0));
                let x: Vec<f64> = columns[k].iter().map(|v| v.unwrap_or(f64::NAN)).collect();
                let want = by_splitting(&x, &arm, (1, 0));
                for m in [alone, want]
                    .into_iter()
                    .chain((k >= 2).then(|| pair[k - 2]))
                {
                    assert!(
                        same_bits(got.treated, m.treated)
                            && same_bits(got.control, m.control)
                            && got.ones == m.ones,
                        "case {case} column {k}: {got:?} vs {m:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_empty_or_single_arm_has_no_variance() {
        let [m] = arm_moments([&[2.0, 3.0, f64::NAN]], &[0u16, 1, 1], (1, 0));
        assert_eq!((m.treated.n, m.treated.mean), (1, 3.0));
        assert!(m.treated.var.is_nan());
        let [m] = arm_moments([&[2.0, 3.0]], &[0u16, 0], (1, 0));
        assert_eq!(m.treated.n, 0);
        assert!(m.treated.mean.is_nan() && m.treated.var.is_nan());
        assert_eq!((m.control.mean, m.control.var), (2.5, 0.5));
        // Rows of the other arm leave the sign of a zero sum as it is.
        let [m] = arm_moments([&[-0.0, 5.0, -0.0]], &[1u16, 0, 1], (1, 0));
        assert_eq!(m.treated.mean.to_bits(), (-0.0f64).to_bits());
        assert_eq!(m.ones, None);
        let [m] = arm_moments(
            [&[0.0, 1.0, 1.0, f64::NAN, 7.0]],
            &[1u16, 1, 0, 0, 2],
            (1, 0),
        );
        assert_eq!(m.ones, Some((1, 1)));
    }
}
