//! Covariate balance before and after weighting, with the conventions of R `cobalt`
//! (Greifer; `bal.tab`, `col_w_smd`, `col_w_var`) for the ATT:
//!
//! - means: weighted means per arm, Σwᵢxᵢ / Σwᵢ (unweighted before weighting);
//! - standardised mean difference (treated minus comparison) = difference in means
//!   divided by the standard deviation of the **treated group, unweighted** (cobalt's
//!   `s.d.denom = "treated"`, its default for the ATT), the same denominator before and
//!   after weighting. Unlike cobalt's default (`binary = "raw"`), 0/1 covariates are
//!   standardised too (`binary = "std"`), so every row is on one scale;
//! - variance ratio = weighted variance of the treated over that of the comparison
//!   group, each with cobalt's unbiased weighted variance
//!   Σwᵢ(xᵢ − x̄_w)² · Σwᵢ / ((Σwᵢ)² − Σwᵢ²) (the usual n − 1 variance for equal weights);
//! - effective sample size of an arm (Kish 1965): (Σwᵢ)² / Σwᵢ².
//!
//! A ratio whose denominator is zero (a covariate constant in the treated group, or in
//! the comparison group) is `None`, never NaN or infinite.

use rayon::prelude::*;
use serde::Serialize;

use super::rows;
use crate::stats::describe::{masked, opaque_mask};

/// Balance of one covariate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Balance {
    /// Unweighted means.
    pub mean_treated: f64,
    pub mean_control: f64,
    /// Weighted means.
    pub mean_treated_weighted: f64,
    pub mean_control_weighted: f64,
    /// Standardised mean differences; `None` when the covariate is constant among the
    /// treated.
    pub smd_before: Option<f64>,
    pub smd_after: Option<f64>,
    /// Variance ratios treated / comparison; `None` when the comparison variance is 0.
    pub variance_ratio_before: Option<f64>,
    pub variance_ratio_after: Option<f64>,
}

/// Weighted mean and cobalt's unbiased weighted variance from Σw, Σw², Σwx and the
/// second pass's Σw(x − x̄_w)².
fn finish([sw, sw2, swx]: [f64; 3], ss: f64) -> (f64, f64) {
    (swx / sw, ss * sw / (sw * sw - sw2))
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    let r = a / b;
    (b > 0.0 && r.is_finite()).then_some(r)
}

/// Each arm's sums ([treated, control]): unweighted [Σ1, Σ1, Σx], weighted
/// [Σw, Σw², Σwx], and the squared deviations from the four means (treated and control
/// unweighted, then weighted).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sums {
    plain: [[f64; 3]; 2],
    wtd: [[f64; 3]; 2],
    ss: [f64; 4],
}

/// The sums of each arm ([treated, comparison]) that are the same for every
/// covariate: the units Σ1, Σw and Σw², each over the arm's units in order. Made once
/// for all the covariates of a balance table ([`balance_with`]).
#[derive(Debug, Clone, Copy, PartialEq)]
struct ArmWeights {
    count: [f64; 2],
    sw: [f64; 2],
    sw2: [f64; 2],
}

impl ArmWeights {
    /// One pass over the units, both arms side by side as in [`sums`].
    fn of(treated: &[bool], w: &[f64]) -> Self {
        let (mut count, mut sw, mut sw2) = ([0.0_f64; 2], [0.0_f64; 2], [0.0_f64; 2]);
        for (&t, &wi) in treated.iter().zip(w) {
            let ww = wi * wi;
            // The row's masks made once for its three sums (each opaque mask is a
            // store and a load).
            for (a, m) in [opaque_mask(t), opaque_mask(!t)].into_iter().enumerate() {
                count[a] += masked(m, 1.0);
                sw[a] += masked(m, wi);
                sw2[a] += masked(m, ww);
            }
        }
        Self { count, sw, sw2 }
    }
}

/// The [`Sums`] of covariate `x`, with the covariate-free sums from `arms`: the one
/// column of [`sums_side`].
fn sums(x: &[f64], treated: &[bool], w: &[f64], arms: &ArmWeights) -> Sums {
    sums_side([x], treated, w, arms)[0]
}

/// Balance of covariate `x` between the arms, before and after the weights `w` (one
/// per unit; only their ratios within an arm matter).
///
/// Two passes over the units: the sums of each arm, unweighted (every weight 1) and
/// weighted, then the squared deviations from the four means; each sum runs over the
/// units in order. For several covariates with the same weights, [`balance_table`].
pub fn balance(x: &[f64], treated: &[bool], w: &[f64]) -> Balance {
    balance_with(x, treated, w, &ArmWeights::of(treated, w))
}

/// The balance of every column of `x` under the same weights, in the order of `x`:
/// the sums of the arms are made once, then the covariates in groups of up to
/// [`SIDE`], one group per core at a time, side by side ([`sums_side`]). Each entry is
/// [`balance`] of that column to the bit.
pub fn balance_table(x: &[&[f64]], treated: &[bool], w: &[f64]) -> Vec<Balance> {
    let arms = ArmWeights::of(treated, w);
    // Groups of at most SIDE covariates, at least as many groups as cores (ten
    // covariates on two cores: 3 + 3 + 2 + 2), each group one pass side by side.
    let k = x.len();
    let groups = k
        .div_ceil(SIDE)
        .max(rayon::current_num_threads().min(k))
        .max(1);
    // Group g starts at its share of the columns, the first k % groups one larger.
    let start = |g: usize| g * (k / groups) + g.min(k % groups);
    (0..groups)
        .map(|g| start(g)..start(g + 1))
        .collect::<Vec<_>>()
        .into_par_iter()
        .flat_map_iter(|r| {
            let cols = &x[r];
            let sums: Vec<Sums> = match *cols {
                [a, b, c, d] => sums_side([a, b, c, d], treated, w, &arms).to_vec(),
                [a, b, c] => sums_side([a, b, c], treated, w, &arms).to_vec(),
                [a, b] => sums_side([a, b], treated, w, &arms).to_vec(),
                _ => cols.iter().map(|c| sums(c, treated, w, &arms)).collect(),
            };
            sums.into_iter().map(finish_balance)
        })
        .collect()
}

/// Covariates summed side by side in one pass ([`sums_side`]).
const SIDE: usize = 4;

/// The [`Sums`] of `L` covariates, with the covariate-free sums from `arms`, in one
/// pass over the units (and one for the squared deviations), both arms side by side
/// with every sum in a register: a unit of the other arm adds −0.0
/// ([`crate::stats::describe::masked`]), which leaves a sum as it is, so each arm's
/// sums are bit for bit those over its own units in order, whatever `L`. (Sums kept
/// in arrays indexed by the arm waited on the store of the row before.) The arm's
/// masks and the weight are read once per unit for all `L` covariates: one covariate
/// at a time read the weights and the arms again for each (17 of every 8 bytes of
/// covariate per pass), and its sums were a few chains of dependent additions; side by
/// side the chains of different covariates overlap. The sums that do not depend on
/// the covariate come from `arms`, made once for all covariates (with them in this
/// loop, the balance of ten covariates at 10^6 units took 0.06 s of CPU).
fn sums_side<const L: usize>(
    xs: [&[f64]; L],
    treated: &[bool],
    w: &[f64],
    arms: &ArmWeights,
) -> [Sums; L] {
    let n = treated.len();
    assert!(
        w.len() == n && xs.iter().all(|x| x.len() == n),
        "balance: columns of different lengths"
    );
    let mut sx = [[0.0_f64; 2]; L];
    let mut swx = [[0.0_f64; 2]; L];
    for i in 0..n {
        let (t, wi) = (treated[i], w[i]);
        let masks = [opaque_mask(t), opaque_mask(!t)];
        for l in 0..L {
            let v = xs[l][i];
            let wv = wi * v;
            for a in 0..2 {
                sx[l][a] += masked(masks[a], v);
                swx[l][a] += masked(masks[a], wv);
            }
        }
    }
    let plain: [[[f64; 3]; 2]; L] =
        std::array::from_fn(|l| [0, 1].map(|a| [arms.count[a], arms.count[a], sx[l][a]]));
    let wtd: [[[f64; 3]; 2]; L] =
        std::array::from_fn(|l| [0, 1].map(|a| [arms.sw[a], arms.sw2[a], swx[l][a]]));
    let means: [[f64; 4]; L] = std::array::from_fn(|l| {
        [
            plain[l][0][2] / plain[l][0][0],
            plain[l][1][2] / plain[l][1][0],
            wtd[l][0][2] / wtd[l][0][0],
            wtd[l][1][2] / wtd[l][1][0],
        ]
    });
    let mut ss = [[-0.0_f64; 4]; L];
    for i in 0..n {
        let (t, wi) = (treated[i], w[i]);
        let masks = [opaque_mask(t), opaque_mask(!t)];
        for l in 0..L {
            let v = xs[l][i];
            for a in 0..2 {
                ss[l][a] += masked(masks[a], (v - means[l][a]).powi(2));
                ss[l][2 + a] += masked(masks[a], wi * (v - means[l][2 + a]).powi(2));
            }
        }
    }
    std::array::from_fn(|l| Sums {
        plain: plain[l],
        wtd: wtd[l],
        ss: ss[l],
    })
}

/// [`balance`], with the sums of the arms made beforehand (the same for every
/// covariate): the same result to the bit.
fn balance_with(x: &[f64], treated: &[bool], w: &[f64], arms: &ArmWeights) -> Balance {
    finish_balance(sums(x, treated, w, arms))
}

/// The balance of a covariate from its sums.
fn finish_balance(Sums { plain, wtd, ss }: Sums) -> Balance {
    let (m1, v1) = finish(plain[0], ss[0]);
    let (m0, v0) = finish(plain[1], ss[1]);
    let (m1w, v1w) = finish(wtd[0], ss[2]);
    let (m0w, v0w) = finish(wtd[1], ss[3]);
    let sd1 = v1.sqrt();
    // A spread below rounding level of the mean counts as constant.
    let sd = (sd1 > 1e-12 * m1.abs()).then_some(sd1);
    Balance {
        mean_treated: m1,
        mean_control: m0,
        mean_treated_weighted: m1w,
        mean_control_weighted: m0w,
        smd_before: sd.and_then(|s| ratio(m1 - m0, s)),
        smd_after: sd.and_then(|s| ratio(m1w - m0w, s)),
        variance_ratio_before: ratio(v1, v0),
        variance_ratio_after: ratio(v1w, v0w),
    }
}

/// Kish's effective sample size (Σwᵢ)² / Σwᵢ² of the units where `keep` holds.
pub fn effective_n(w: &[f64], keep: impl Fn(usize) -> bool) -> f64 {
    let (s, s2) = (0..w.len())
        .filter(|&i| keep(i))
        .fold((0.0, 0.0), |a, i| (a.0 + w[i], a.1 + w[i] * w[i]));
    kish(s, s2)
}

/// Kish's effective sample size of each arm, (treated, comparison), from one pass
/// ([`ArmWeights`]): [`effective_n`] of both arms, to the bit.
pub fn effective_ns(w: &[f64], treated: &[bool]) -> (f64, f64) {
    let a = ArmWeights::of(treated, w);
    (kish(a.sw[0], a.sw2[0]), kish(a.sw[1], a.sw2[1]))
}

/// Σwᵢ of each arm, [treated, comparison], in row order ([`ArmWeights`]).
pub(crate) fn arm_totals(w: &[f64], treated: &[bool]) -> [f64; 2] {
    ArmWeights::of(treated, w).sw
}

/// (Σw)² / Σw², 0 without weight.
fn kish(s: f64, s2: f64) -> f64 {
    if s2 > 0.0 { s * s / s2 } else { 0.0 }
}

/// Σwᵢyᵢ of each arm, [treated, comparison], on all cores: each chunk of
/// [`rows::CHUNK`] rows summed in row order, the chunks added in their order, so that
/// the sums do not depend on the number of threads; a row's arm picks its sum by a
/// mask, not a branch.
pub(crate) fn arm_dots(w: &[f64], y: &[f64], treated: &[bool]) -> [f64; 2] {
    let n = w.len().min(y.len()).min(treated.len());
    let parts = rows::map_chunks(n, true, |a, b| {
        let mut s = [-0.0; 2];
        for ((&v, &x), &t) in w[a..b].iter().zip(&y[a..b]).zip(&treated[a..b]) {
            let m = opaque_mask(t);
            s[0] += masked(m, v * x);
            s[1] += masked(!m, v * x);
        }
        s
    });
    parts
        .iter()
        .fold([0.0; 2], |acc, p| [acc[0] + p[0], acc[1] + p[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sums as [`balance`] computed them before [`sums`]: in arrays indexed by
    /// the arm.
    fn sums_by_index(x: &[f64], treated: &[bool], w: &[f64]) -> Sums {
        // [treated, comparison] × (Σw, Σw², Σwx), unweighted and weighted.
        let mut plain = [[0.0_f64; 3]; 2];
        let mut wtd = [[0.0_f64; 3]; 2];
        for ((&v, &t), &wi) in x.iter().zip(treated).zip(w) {
            let a = usize::from(!t);
            plain[a][0] += 1.0;
            plain[a][1] += 1.0;
            plain[a][2] += v;
            wtd[a][0] += wi;
            wtd[a][1] += wi * wi;
            wtd[a][2] += wi * v;
        }
        let means = [
            plain[0][2] / plain[0][0],
            plain[1][2] / plain[1][0],
            wtd[0][2] / wtd[0][0],
            wtd[1][2] / wtd[1][0],
        ];
        // Σ(x − m)² unweighted and Σw(x − m_w)² weighted, per arm.
        let mut ss = [-0.0_f64; 4];
        for ((&v, &t), &wi) in x.iter().zip(treated).zip(w) {
            let a = usize::from(!t);
            ss[a] += (v - means[a]).powi(2);
            ss[2 + a] += wi * (v - means[2 + a]).powi(2);
        }
        Sums { plain, wtd, ss }
    }

    #[test]
    fn each_arms_sums_are_its_own_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let bits = |s: Sums| {
            let all: Vec<f64> = s
                .plain
                .iter()
                .chain(&s.wtd)
                .flatten()
                .chain(&s.ss)
                .copied()
                .collect();
            all.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        for case in 0..300 {
            let n = rng.random_range(0..50);
            let x: Vec<f64> = (0..n)
                .map(|_| match rng.random_range(0..10) {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => f64::from(u8::from(rng.random_bool(0.5))),
                    _ => rng.random_range(-1e3..1e3),
                })
                .collect();
            let t: Vec<bool> = (0..n).map(|_| rng.random_bool(0.3)).collect();
            let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..5.0)).collect();
            assert_eq!(
                bits(sums(&x, &t, &w, &ArmWeights::of(&t, &w))),
                bits(sums_by_index(&x, &t, &w)),
                "case {case}"
            );
        }
    }

    /// The table, with covariates summed side by side in groups, gives every
    /// covariate's balance to the bit as [`balance`] of that column alone, for every
    /// number of covariates (groups of one to four).
    #[test]
    fn the_table_is_each_columns_balance_to_the_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(23);
        let bits = |b: &Balance| {
            [
                Some(b.mean_treated),
                Some(b.mean_control),
                Some(b.mean_treated_weighted),
                Some(b.mean_control_weighted),
                b.smd_before,
                b.smd_after,
                b.variance_ratio_before,
                b.variance_ratio_after,
            ]
            .map(|v| v.map(f64::to_bits))
        };
        for k in 1..=11 {
            let n = rng.random_range(5..400);
            let t: Vec<bool> = (0..n).map(|_| rng.random_bool(0.4)).collect();
            let w: Vec<f64> = (0..n).map(|_| rng.random_range(0.1..4.0)).collect();
            let cols: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    (0..n)
                        .map(|_| match (j, rng.random_range(0..10)) {
                            (0, _) => f64::from(u8::from(rng.random_bool(0.3))),
                            (_, 0) => -0.0,
                            _ => rng.random_range(-50.0..80.0),
                        })
                        .collect()
                })
                .collect();
            let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
            let table = balance_table(&x, &t, &w);
            assert_eq!(table.len(), k);
            for (j, b) in table.iter().enumerate() {
                assert_eq!(bits(b), bits(&balance(x[j], &t, &w)), "k {k}, column {j}");
            }
        }
    }

    #[test]
    fn constant_in_treated_gives_none() {
        let x = [1.0, 1.0, 2.0, 3.0];
        let t = [true, true, false, false];
        let b = balance(&x, &t, &[0.5, 0.5, 0.3, 0.7]);
        assert_eq!(b.smd_before, None);
        assert_eq!(b.variance_ratio_before, Some(0.0));
        assert!((effective_n(&[1.0, 1.0, 1.0], |_| true) - 3.0).abs() < 1e-15);
    }
}
