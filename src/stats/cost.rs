//! Cost-effectiveness: the incremental cost-effectiveness ratio (ICER), the cost per
//! extra person with the outcome, with Fieller's interval, and the acceptability curve.
//!
//! Inputs are the incremental cost ΔC (treated minus control, per person) and the
//! incremental effect ΔE (the difference in the share with the outcome, or in a mean),
//! each with its standard error, and their covariance. With a fixed cost per person per
//! arm (the usual case in a pilot budget) ΔC is known: its standard error and the
//! covariance are 0.
//!
//! - ICER = ΔC / ΔE (Drummond et al., Methods for the Economic Evaluation of Health
//!   Care Programmes, 4th ed., 2015, ch. 4).
//! - Fieller's interval (Fieller 1954; for ICERs Willan & O'Brien 1996, Health Econ
//!   5:297, eq. 3): the ratios R with (ΔC − RΔE)² ≤ z²(v_C − 2R·c + R²v_E), the roots
//!   of a·R² + b·R + c₀ = 0 with a = ΔE² − z²v_E, b = −2(ΔC·ΔE − z²c),
//!   c₀ = ΔC² − z²v_C. When ΔE differs from 0 at the chosen level (a > 0) the interval
//!   is bounded; otherwise it is unbounded (two rays, or the whole line), which says the
//!   data cannot tell what an extra person with the outcome costs. z is the normal
//!   quantile (the normal approximation of both increments).
//! - Acceptability curve (van Hout et al. 1994, Health Econ 3:309): for a value λ of
//!   one extra person with the outcome, the probability that the net benefit
//!   λΔE − ΔC is positive, Φ((λΔE − ΔC) / sqrt(λ²v_E − 2λc + v_C)) under the same
//!   normal approximation.

use serde::Serialize;

use super::{StatsError, StatsResult, dist};

/// The increments of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Increments {
    /// ΔC: cost per person, treated minus control.
    pub cost: f64,
    pub cost_se: f64,
    /// ΔE: effect per person (e.g. a difference in proportions), treated minus control.
    pub effect: f64,
    pub effect_se: f64,
    /// Covariance of the two increments.
    pub covariance: f64,
}

/// Fieller's confidence set for the ICER.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FiellerSet {
    /// A bounded interval [low, high].
    Bounded { low: f64, high: f64 },
    /// Every ratio up to `below` and from `above` on: the effect is not different from
    /// zero at this level, so the cost per extra person is unbounded.
    TwoRays { below: f64, above: f64 },
    /// Every ratio.
    Everything,
}

/// The ICER with Fieller's interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Icer {
    /// ΔC / ΔE; NaN when ΔE is 0.
    pub icer: f64,
    pub fieller: FiellerSet,
    pub conf_level: f64,
}

fn check(inc: &Increments) -> StatsResult<()> {
    let finite = [
        inc.cost,
        inc.cost_se,
        inc.effect,
        inc.effect_se,
        inc.covariance,
    ]
    .iter()
    .all(|v| v.is_finite());
    if !finite || inc.cost_se < 0.0 || inc.effect_se <= 0.0 {
        return Err(StatsError::Invalid(
            "the increments need finite values and a positive standard error of the effect".into(),
        ));
    }
    Ok(())
}

/// The ICER and Fieller's interval at `conf_level`.
pub fn icer(inc: &Increments, conf_level: f64) -> StatsResult<Icer> {
    check(inc)?;
    let z = dist::two_sided_quantile(conf_level, None);
    let z2 = z * z;
    let (vc, ve, c) = (inc.cost_se.powi(2), inc.effect_se.powi(2), inc.covariance);
    let a = inc.effect.powi(2) - z2 * ve;
    let b = -2.0 * (inc.cost * inc.effect - z2 * c);
    let c0 = inc.cost.powi(2) - z2 * vc;
    let disc = b * b - 4.0 * a * c0;
    let fieller = if a > 0.0 {
        if disc < 0.0 {
            return Err(StatsError::Invalid(
                "Fieller's quadratic has no real roots: the covariance of the increments is inconsistent with their standard errors".into(),
            ));
        }
        let r = disc.sqrt();
        // The numerically stable pair of roots.
        let q = -0.5 * (b + b.signum() * r);
        let (r1, r2) = if q == 0.0 {
            (0.0, 0.0)
        } else {
            (q / a, c0 / q)
        };
        FiellerSet::Bounded {
            low: r1.min(r2),
            high: r1.max(r2),
        }
    } else if disc > 0.0 {
        let r = disc.sqrt();
        let (r1, r2) = ((-b - r) / (2.0 * a), (-b + r) / (2.0 * a));
        FiellerSet::TwoRays {
            below: r1.min(r2),
            above: r1.max(r2),
        }
    } else {
        FiellerSet::Everything
    };
    Ok(Icer {
        icer: if inc.effect == 0.0 {
            f64::NAN
        } else {
            inc.cost / inc.effect
        },
        fieller,
        conf_level,
    })
}

/// The probability that the net benefit λΔE − ΔC is positive, for each value λ of one
/// extra unit of effect (one extra person with the outcome when ΔE is a difference in
/// proportions).
pub fn acceptability(inc: &Increments, values: &[f64]) -> StatsResult<Vec<f64>> {
    check(inc)?;
    let (vc, ve, c) = (inc.cost_se.powi(2), inc.effect_se.powi(2), inc.covariance);
    Ok(values
        .iter()
        .map(|&l| {
            let nb = l * inc.effect - inc.cost;
            let var = l * l * ve - 2.0 * l * c + vc;
            if var > 0.0 {
                dist::normal_cdf(nb / var.sqrt())
            } else if nb > 0.0 {
                1.0
            } else if nb < 0.0 {
                0.0
            } else {
                0.5
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------
// Increments measured on persons, and the bootstrap of the cost-effectiveness plane.
// ---------------------------------------------------------------------------------

/// The persons of one comparison, complete on cost and outcome: each person's cost,
/// outcome (0/1 for a yes/no outcome), arm, and optionally cluster. With clusters the
/// cluster (within its arm) is the unit of the variances and of the bootstrap.
#[derive(Debug, Clone, Copy)]
pub struct Persons<'a> {
    pub cost: &'a [f64],
    pub outcome: &'a [f64],
    pub treated: &'a [bool],
    /// Cluster code per person; None: each person is a unit of its own.
    pub cluster: Option<&'a [u32]>,
}

/// Resampling units: per unit (a person, or a cluster within an arm) the sums of cost
/// and outcome and the number of persons; treated units first.
struct Units {
    cost: Vec<f64>,
    outcome: Vec<f64>,
    persons: Vec<f64>,
    /// Number of treated units (they come first).
    n_treated: usize,
}

fn units(p: &Persons) -> StatsResult<Units> {
    let n = p.cost.len();
    if p.outcome.len() != n || p.treated.len() != n || p.cluster.is_some_and(|c| c.len() != n) {
        return Err(StatsError::Invalid(
            "cost, outcome, arm and cluster need one value per person".into(),
        ));
    }
    if !p.cost.iter().chain(p.outcome).all(|v| v.is_finite()) {
        return Err(StatsError::Invalid(
            "costs and outcomes must be finite numbers".into(),
        ));
    }
    let mut out = Units {
        cost: Vec::new(),
        outcome: Vec::new(),
        persons: Vec::new(),
        n_treated: 0,
    };
    for arm in [true, false] {
        let mut index: std::collections::BTreeMap<u32, usize> = Default::default();
        for i in (0..n).filter(|&i| p.treated[i] == arm) {
            let u = match p.cluster {
                Some(c) => *index.entry(c[i]).or_insert_with(|| {
                    out.cost.push(0.0);
                    out.outcome.push(0.0);
                    out.persons.push(0.0);
                    out.cost.len() - 1
                }),
                None => {
                    out.cost.push(0.0);
                    out.outcome.push(0.0);
                    out.persons.push(0.0);
                    out.cost.len() - 1
                }
            };
            out.cost[u] += p.cost[i];
            out.outcome[u] += p.outcome[i];
            out.persons[u] += 1.0;
        }
        if arm {
            out.n_treated = out.cost.len();
        }
    }
    let n_control = out.cost.len() - out.n_treated;
    if out.n_treated < 2 || n_control < 2 {
        return Err(StatsError::TooFew {
            needed: 2,
            got: out.n_treated.min(n_control),
        });
    }
    Ok(out)
}

/// One arm's means of cost and outcome, their variances and covariance, from units
/// `range` of `u`.
fn arm_moments(u: &Units, range: std::ops::Range<usize>) -> [f64; 5] {
    let g = range.len() as f64;
    let n: f64 = u.persons[range.clone()].iter().sum();
    let mc = u.cost[range.clone()].iter().sum::<f64>() / n;
    let me = u.outcome[range.clone()].iter().sum::<f64>() / n;
    let (mut vc, mut ve, mut cv) = (0.0, 0.0, 0.0);
    for k in range {
        let a = u.cost[k] - mc * u.persons[k];
        let b = u.outcome[k] - me * u.persons[k];
        vc += a * a;
        ve += b * b;
        cv += a * b;
    }
    let f = g / (g - 1.0) / (n * n);
    [mc, me, vc * f, ve * f, cv * f]
}

/// The increments from persons' costs and outcomes: ΔC and ΔE are the treated minus
/// control differences in mean cost and mean outcome (unadjusted), each arm's means
/// independent of the other's, so
/// var(ΔC) = var(C̄₁) + var(C̄₀), cov(ΔC, ΔE) = cov(C̄₁, Ē₁) + cov(C̄₀, Ē₀)
/// (Willan & Briggs 2006, *Statistical Analysis of Cost-effectiveness Data*, §2.3 and
/// §4.2). Within an arm, without clusters, var(C̄) = s²_C/n and
/// cov(C̄, Ē) = s_CE/n with n − 1 denominators; with clusters the linearised
/// (ratio-estimator) variance of a mean, G/(G − 1) · Σ_g u_g² / N² with
/// u_g = Σ_{i∈g}(Cᵢ − C̄) and likewise for the covariance (Stata's `mean, vce(cluster)`);
/// with clusters of one person both are the same. Needs two units (persons or
/// clusters) in each arm.
pub fn person_increments(p: &Persons) -> StatsResult<Increments> {
    let u = units(p)?;
    let t = arm_moments(&u, 0..u.n_treated);
    let c = arm_moments(&u, u.n_treated..u.cost.len());
    let inc = Increments {
        cost: t[0] - c[0],
        cost_se: (t[2] + c[2]).sqrt(),
        effect: t[1] - c[1],
        effect_se: (t[3] + c[3]).sqrt(),
        covariance: t[4] + c[4],
    };
    if inc.effect_se.is_nan() || inc.effect_se <= 0.0 {
        return Err(StatsError::Invalid(
            "the outcome takes one value in both arms, so its difference has no standard error"
                .into(),
        ));
    }
    Ok(inc)
}

/// What the percentile set of the bootstrap ICERs is (the shapes of [`FiellerSet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapKind {
    /// A bounded interval [low, high].
    Bounded,
    /// Every ratio up to `below` and from `above` on: the central replicates reach an
    /// effect of 0 on one side, so the cost per extra person is unbounded.
    TwoRays,
    /// Every ratio: the central replicates surround the origin.
    Everything,
    /// The estimated effect is exactly 0: there is no ratio to put an interval around.
    Undefined,
}

/// Share of bootstrap replicates in each quadrant of the cost-effectiveness plane
/// (x: incremental effect, y: incremental cost). A replicate on an axis (an increment
/// exactly 0, e.g. equal fixed costs) counts in `on_axis`; the five add up to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quadrants {
    /// More effect, more cost.
    pub north_east: f64,
    /// More effect, less cost (the approach dominates).
    pub south_east: f64,
    /// Less effect, less cost.
    pub south_west: f64,
    /// Less effect, more cost (the approach is dominated).
    pub north_west: f64,
    pub on_axis: f64,
}

/// The bootstrap of the cost-effectiveness plane and its percentile set of the ICER.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapIcer {
    pub kind: BootstrapKind,
    /// Limits of a bounded interval (None otherwise).
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The rays of an unbounded set: every ratio up to `below` and from `above` on
    /// (None otherwise).
    pub below: Option<f64>,
    pub above: Option<f64>,
    pub replicates: u64,
    pub seed: u64,
    pub conf_level: f64,
    pub quadrants: Quadrants,
    /// The replicates as (ΔE*, ΔC*), for the plane chart (not serialised).
    #[serde(skip)]
    pub points: Vec<(f64, f64)>,
}

/// The position of a replicate on the circle of directions of the cost-effectiveness
/// plane, as (region, ratio), for an ICER r̂ whose effect has sign `s` (±1). Region 0:
/// the estimate's side of the cost axis, ordered by the ratio ΔC*/ΔE*. Going round from
/// the estimate towards larger ratios one passes +∞ (ΔE* = 0) and then the other side's
/// ratios from −∞ up to r̂: region +1, ordered by their ratio. Going the other way one
/// passes −∞ and then the other side's ratios from +∞ down to r̂: region −1, ordered by
/// their ratio (the one nearest r̂ the farthest out). A replicate at the origin (both
/// increments 0) has no direction and is put at the far end of region +1, which can
/// only widen the set.
fn direction_key(s: f64, icer: f64, de: f64, dc: f64) -> (i8, f64) {
    if de * s > 0.0 {
        (0, dc / de)
    } else if de == 0.0 {
        if dc * s > 0.0 {
            (1, f64::NEG_INFINITY)
        } else if dc * s < 0.0 {
            (-1, f64::INFINITY)
        } else {
            (1, f64::INFINITY)
        }
    } else if dc / de < icer {
        (1, dc / de)
    } else {
        (-1, dc / de)
    }
}

/// Quantile `p` of sorted keys by linear interpolation between neighbours of one
/// region (Hyndman & Fan type 7, as [`super::resample::bootstrap`]); between
/// neighbours of two regions, or next to an infinite ratio, the outer neighbour.
fn key_quantile(sorted: &[(i8, f64)], p: f64, upper: bool) -> (i8, f64) {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    let (a, b) = (sorted[lo], sorted[hi]);
    if a == b {
        a
    } else if a.0 == b.0 && a.1.is_finite() && b.1.is_finite() {
        (a.0, a.1 + (h - lo as f64) * (b.1 - a.1))
    } else if upper {
        b
    } else {
        a
    }
}

/// The percentile set of the ICER from replicates (ΔE*, ΔC*) around the estimates
/// (ΔÊ, ΔĈ), and the quadrant shares.
///
/// The ratio ΔC/ΔE jumps from +∞ to −∞ where ΔE crosses 0, so the replicates are
/// ordered by direction round the cost-effectiveness plane, not by their ratio alone
/// (Briggs, Wonderling & Mooney 1997, Health Econ 6:327; Glick, Briggs & Polsky 2001,
/// Expert Rev Pharmacoecon Outcomes Res 1:25), starting opposite the estimate
/// ([`direction_key`]). The α/2 and 1 − α/2 quantiles of that order (type 7) bound an
/// arc of directions. An arc within the estimate's side is a bounded interval; an arc
/// that passes ΔE = 0 on one side is, in ratios, two rays (−∞, below] ∪ [above, ∞), as
/// Fieller's set can be, and says that the data cannot rule out an effect of 0; an arc
/// round the origin is every ratio. The order does not depend on the units of cost
/// and effect.
pub fn percentile_icer(
    effect: f64,
    cost: f64,
    points: Vec<(f64, f64)>,
    conf_level: f64,
    seed: u64,
) -> StatsResult<BootstrapIcer> {
    if points.is_empty() || !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(StatsError::Invalid(
            "a bootstrap interval needs replicates and a level between 0 and 1".into(),
        ));
    }
    if !points.iter().all(|(e, c)| e.is_finite() && c.is_finite())
        || !effect.is_finite()
        || !cost.is_finite()
    {
        return Err(StatsError::Invalid(
            "the bootstrap increments must be finite".into(),
        ));
    }
    let b = points.len() as f64;
    let share =
        |f: &dyn Fn(f64, f64) -> bool| points.iter().filter(|&&(e, c)| f(e, c)).count() as f64 / b;
    let quadrants = Quadrants {
        north_east: share(&|e, c| e > 0.0 && c > 0.0),
        south_east: share(&|e, c| e > 0.0 && c < 0.0),
        south_west: share(&|e, c| e < 0.0 && c < 0.0),
        north_west: share(&|e, c| e < 0.0 && c > 0.0),
        on_axis: share(&|e, c| e == 0.0 || c == 0.0),
    };
    let (mut low, mut high, mut below, mut above) = (None, None, None, None);
    let kind = if effect == 0.0 {
        BootstrapKind::Undefined
    } else {
        let s = effect.signum();
        let icer = cost / effect;
        let mut keys: Vec<(i8, f64)> = points
            .iter()
            .map(|&(e, c)| direction_key(s, icer, e, c))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let alpha = 1.0 - conf_level;
        let (rl, ql) = key_quantile(&keys, alpha / 2.0, false);
        let (rh, qh) = key_quantile(&keys, 1.0 - alpha / 2.0, true);
        match (rl, rh) {
            (0, 0) => {
                low = Some(ql);
                high = Some(qh);
                BootstrapKind::Bounded
            }
            // Through +∞ into the other side, up to the ratio qh there.
            (0, 1) if qh.is_finite() && qh < ql => {
                below = Some(qh);
                above = Some(ql);
                BootstrapKind::TwoRays
            }
            // Through −∞ from the ratio ql on the other side.
            (-1, 0) if ql.is_finite() && qh < ql => {
                below = Some(qh);
                above = Some(ql);
                BootstrapKind::TwoRays
            }
            _ => BootstrapKind::Everything,
        }
    };
    Ok(BootstrapIcer {
        kind,
        low,
        high,
        below,
        above,
        replicates: points.len() as u64,
        seed,
        conf_level,
        quadrants,
        points,
    })
}

/// The parametric ("Monte Carlo") bootstrap of the ICER when the effect is a
/// model-based estimate that resampling persons would not reproduce (a covariate-
/// adjusted or weighted headline): `reps` draws of (ΔE*, ΔC*) from the bivariate
/// normal sampling distribution of the increments (mean the estimates, variances
/// `effect_se²`, `cost_se²`, covariance `covariance`; a cost known exactly has SE 0 and
/// stays fixed), then the same percentile set round the cost-effectiveness plane as
/// [`bootstrap_icer`]. This is the simulation behind the acceptability curve's normal
/// approximation (Briggs, Claxton & Sculpher 2006, ch. 4; O'Hagan & Stevens 2001),
/// seeded: ChaCha8 from `seed`, standard normals by `rand_distr`.
pub fn parametric_icer(
    inc: &Increments,
    reps: u64,
    seed: u64,
    conf_level: f64,
) -> StatsResult<BootstrapIcer> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let finite = [
        inc.effect,
        inc.effect_se,
        inc.cost,
        inc.cost_se,
        inc.covariance,
    ];
    if finite.iter().any(|v| !v.is_finite()) || inc.effect_se <= 0.0 || inc.cost_se < 0.0 {
        return Err(StatsError::Invalid(
            "the parametric bootstrap needs finite increments and a positive standard error of the effect".into(),
        ));
    }
    if reps == 0 {
        return Err(StatsError::Invalid(
            "the bootstrap needs at least one draw".into(),
        ));
    }
    // Cholesky factor of [[vE, c], [c, vC]]: E* = E + sE z1, C* = C + a z1 + b z2.
    let a = inc.covariance / inc.effect_se;
    let b2 = inc.cost_se * inc.cost_se - a * a;
    if b2 < -1e-12 * inc.cost_se.powi(2).max(f64::MIN_POSITIVE) {
        return Err(StatsError::Invalid(
            "the covariance of the increments exceeds the product of their standard errors".into(),
        ));
    }
    let b = b2.max(0.0).sqrt();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let points = (0..reps)
        .map(|_| {
            let z1: f64 = StandardNormal.sample(&mut rng);
            let z2: f64 = StandardNormal.sample(&mut rng);
            (inc.effect + inc.effect_se * z1, inc.cost + a * z1 + b * z2)
        })
        .collect();
    percentile_icer(inc.effect, inc.cost, points, conf_level, seed)
}

/// A seeded nonparametric bootstrap of the cost-effectiveness plane: `reps` resamples
/// of the units (persons, or clusters when `p.cluster` is given) with replacement
/// within each arm, keeping each arm's number of units; per resample the increments
/// ΔC* and ΔE* as in [`person_increments`] (ratios of sums, so clusters of any size);
/// then [`percentile_icer`] around the increments of the data. The draws are those of
/// [`super::resample::bootstrap::replicates`] (replicate r from `replicate_rng(seed,
/// r)`), so the same seed gives the same result on any number of threads. With a fixed
/// cost per arm give every person their arm's cost: ΔC* is then that difference in
/// every replicate and only the effect varies.
pub fn bootstrap_icer(
    p: &Persons,
    reps: u64,
    seed: u64,
    conf_level: f64,
) -> StatsResult<BootstrapIcer> {
    use super::ols::Clusters;
    use super::resample::{ResampleOptions, bootstrap::replicates};
    let u = units(p)?;
    let strata: Vec<u32> = (0..u.cost.len())
        .map(|k| u32::from(k >= u.n_treated))
        .collect();
    let strata = Clusters::from_ranked_codes(strata, 2);
    let opts = ResampleOptions::new(reps, seed).with_conf_level(conf_level);
    let diff = |v: &[f64]| {
        let v = v.to_vec();
        let persons = u.persons.clone();
        move |r: &super::resample::bootstrap::Resample| {
            let mean = |s: usize| {
                let (mut a, mut n) = (0.0, 0.0);
                for &k in r.stratum(s) {
                    a += v[k as usize];
                    n += persons[k as usize];
                }
                a / n
            };
            mean(0) - mean(1)
        }
    };
    // The same options give the same resamples in both runs, so the pairs line up.
    let dc = replicates(&strata, &diff(&u.cost), &opts)?;
    let de = replicates(&strata, &diff(&u.outcome), &opts)?;
    let est = person_increments(p)?;
    percentile_icer(
        est.effect,
        est.cost,
        de.into_iter().zip(dc).collect(),
        conf_level,
        seed,
    )
}
