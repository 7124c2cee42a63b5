//! Difference-in-differences on a panel (units observed over periods): the static
//! two-way fixed effects (TWFE) regression and the event study with its pre-trend test.
//!
//! # Input
//!
//! A long panel, one row per unit and period ([`Panel`]): outcome, unit code, period
//! (whole numbers, consecutive), the unit's first treated period (`None` = never
//! treated), cluster codes, covariates and optional weights. The caller (the prepare
//! layer) has checked the panel ([`check_panel`] does the checks that need no labels).
//!
//! # Static TWFE ([`twfe_did`], estimator id `twfe_did`)
//!
//! y_it = α_i + λ_t + β·D_it + x_it'γ + ε_it with D_it = 1[g_i ≤ t] (treated from the
//! unit's first treated period on, absorbing). Unit and period effects are absorbed
//! ([`crate::stats::fe::feols_weighted`]); the standard error is CRV1 by cluster with
//! fixest's small-sample conventions, V = (N−1)/(N−K) · G/(G−1) · CR0 (Liang & Zeger
//! 1986), where K counts the fixed effects as [`FeSmallSample`] says (`nested`, fixest's
//! and pyfixest's default: effects nested in the clusters are left out; `all`: every
//! dummy, as `lm` + `sandwich::vcovCL`; `none`), t on G − 1 df (fixest `t.df = "min"`).
//! Reference: pyfixest 0.60 `feols("y ~ D | unit + time", vcov={"CRV1": unit},
//! ssc=ssc(k_fixef=...))`.
//!
//! With fewer than [`FEW_CLUSTERS`] clusters two more results are added, both on the
//! regression with the fixed effects as dummy columns (unit dummies, period dummies but
//! the first): CR2 with Bell & McCaffrey (2002) Satterthwaite df
//! ([`crate::stats::ols`], as R clubSandwich `vcovCR(type = "CR2")` + `coef_test(test =
//! "Satterthwaite")` on `lm(y ~ D + factor(unit) + factor(time))`), and the restricted
//! wild cluster bootstrap p-value (WCR, Rademacher weights, seeded;
//! [`crate::stats::resample::wild`], as boottest/fwildclusterboot with the fixed effects
//! as dummies). Weighted fits use the √w-transformed rows for both.
//!
//! Under staggered adoption with effects that change over time since adoption, β is a
//! weighted average of comparisons in which already-treated units serve as controls,
//! with weights that can be negative (Goodman-Bacon 2021, *J. Econometrics* 225;
//! de Chaisemartin & D'Haultfœuille 2020, *AER* 110): it is then not the average effect
//! on the treated. With one effect common to all units and periods it is unbiased.
//!
//! # Event study ([`event_study`], estimator id `event_study`)
//!
//! y_it = α_i + λ_t + Σ_{e ≠ ref} β_e · 1[t − g_i = e] + x_it'γ + ε_it for treated
//! units, never-treated units having every indicator 0 (they are the comparison group).
//! Relative periods outside the window [lo, hi] are binned into its endpoints (all
//! e ≤ lo into lo, all e ≥ hi into hi); without a window every observed relative period
//! gets its own coefficient (then the panel needs never-treated units, or the period
//! effects and the indicators are collinear). Same CRV1 conventions as above, from
//! the full cluster-robust matrix.
//!
//! Pre-trend test ([`WaldTest`]): the joint Wald test that every coefficient with
//! e < 0 (other than the reference) is zero. W = b'V⁻¹b with the CRV1 matrix V of
//! those coefficients; reported as F = W/q on (q, G − 1) df, as pyfixest
//! `wald_test(distribution = "F")` with a clustered vcov (dfd = G − 1), and as W on a
//! chi-square(q) (pyfixest `distribution = "chi2"`).

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::fe::{self, FeSmallSample, FeWeights};
use super::ols::{self, Clusters, SeType};
use super::resample::ResampleOptions;
use super::resample::wild::{WildClusterBootstrap, WildWeights};
use super::{Inference, StatsError, StatsResult, dist};

/// Below this many clusters CR2 with Bell-McCaffrey df and the wild cluster bootstrap
/// are reported beside CRV1.
pub const FEW_CLUSTERS: usize = 30;
/// Most numbers in the dummy design of the few-cluster results (n × columns); above it
/// they are left out with a note.
pub const DUMMY_DESIGN_BUDGET: usize = 20_000_000;
/// Wild bootstrap draws (all 2^G sign vectors when fewer).
pub const WILD_REPS: u64 = 9_999;

/// A long panel as the estimators read it: row i is unit `unit[i]` in period
/// `period[i]`.
#[derive(Debug, Clone, Copy)]
pub struct Panel<'a> {
    pub y: &'a [f64],
    /// Dense unit codes 0..U.
    pub unit: &'a [u32],
    /// Periods as whole numbers (consecutive across the panel).
    pub period: &'a [i64],
    /// The row's unit's first treated period; `None` for never treated.
    pub first_treated: &'a [Option<i64>],
    /// Dense cluster codes (the unit codes for clustering by unit).
    pub cluster: &'a [u32],
    pub covariates: &'a [&'a [f64]],
    pub weights: FeWeights<'a>,
}

/// Options shared by the estimators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DidOptions {
    pub small_sample: FeSmallSample,
    pub conf_level: f64,
    /// Seed of the wild cluster bootstrap.
    pub seed: u64,
    /// Wild bootstrap draws.
    pub wild_reps: u64,
}

impl Default for DidOptions {
    fn default() -> Self {
        Self {
            small_sample: FeSmallSample::Nested,
            conf_level: 0.95,
            seed: 20_240_601,
            wild_reps: WILD_REPS,
        }
    }
}

/// The few-cluster results of the static TWFE estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FewClusters {
    /// CR2 with Bell-McCaffrey df.
    pub cr2: Inference,
    /// Wild cluster bootstrap p-value (WCR, Rademacher) for β = 0.
    pub wild_p_value: f64,
    pub wild_reps: u64,
    pub wild_enumerated: bool,
}

/// The static TWFE DiD estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwfeResult {
    /// CRV1 inference (t on G − 1 df).
    pub inference: Inference,
    /// K in the small-sample factor and the factor itself.
    pub df_k: f64,
    pub scale: f64,
    pub clusters: usize,
    pub n: usize,
    pub small_sample: FeSmallSample,
    /// Coefficients of the covariates, in order.
    pub covariates: Vec<f64>,
    /// With fewer than [`FEW_CLUSTERS`] clusters (and a dummy design within budget).
    pub few_clusters: Option<FewClusters>,
    pub notes: Vec<String>,
}

/// One event-study coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EventCoef {
    /// Period relative to the first treated period (0 = first treated period).
    pub event_time: i64,
    /// Whether this coefficient is a binned endpoint that also holds periods beyond it.
    pub binned: bool,
    pub inference: Inference,
    /// Rows of treated units at this event time (after binning).
    pub rows: usize,
}

/// A joint Wald test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WaldTest {
    /// F = W/q.
    pub statistic: f64,
    pub df1: f64,
    pub df2: f64,
    /// From F(q, G − 1).
    pub p_value: f64,
    /// W, chi-square on q df.
    pub chi_square: f64,
    pub chi_square_p_value: f64,
}

/// The event study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventStudyResult {
    pub coefficients: Vec<EventCoef>,
    pub reference: i64,
    /// The window used (the observed range when none was given).
    pub window: (i64, i64),
    /// Joint test of the pre-period coefficients; `None` when there are none.
    pub pretrend: Option<WaldTest>,
    pub df_k: f64,
    pub clusters: usize,
    pub n: usize,
    pub small_sample: FeSmallSample,
}

/// Checks that need no labels: lengths, at least two periods, one first treated
/// period per unit, a comparison (never-treated units, or cohorts treated at
/// different times), consecutive periods. Errors name unit codes and periods.
///
/// Several rows per unit and period are allowed here: person rows within
/// employer-years (repeated cross-sections, the unit effect then being the employer's)
/// give the same estimates and cluster-robust standard errors as the employer-year
/// rows with events/trials and frequency weights. A unit panel read by
/// [`crate::prepare::panel`] refuses duplicate unit-period rows.
pub fn check_panel(p: &Panel) -> StatsResult<()> {
    let n = p.y.len();
    let lens = [
        p.unit.len(),
        p.period.len(),
        p.first_treated.len(),
        p.cluster.len(),
    ];
    if lens.iter().any(|&l| l != n) || p.covariates.iter().any(|c| c.len() != n) {
        return Err(StatsError::Invalid(
            "panel columns of different lengths".into(),
        ));
    }
    if n == 0 {
        return Err(StatsError::TooFew { needed: 4, got: 0 });
    }
    let mut periods: Vec<i64> = p.period.to_vec();
    periods.sort_unstable();
    periods.dedup();
    if periods.len() < 2 {
        return Err(StatsError::Invalid(format!(
            "the panel has one period only ({}); difference-in-differences needs periods before and after",
            periods[0]
        )));
    }
    if let Some(w) = periods.windows(2).find(|w| w[1] != w[0] + 1) {
        return Err(StatsError::Invalid(format!(
            "the periods have a gap: none between {} and {}; number the periods consecutively (1, 2, 3, ...)",
            w[0], w[1]
        )));
    }
    let units = p.unit.iter().max().map_or(0, |&u| u as usize + 1);
    let mut first: Vec<Option<Option<i64>>> = vec![None; units];
    for (&u, &g) in p.unit.iter().zip(p.first_treated) {
        match first[u as usize] {
            None => first[u as usize] = Some(g),
            Some(h) if h != g => {
                return Err(StatsError::Invalid(format!(
                    "unit {u} has more than one first treated period"
                )));
            }
            _ => {}
        }
    }
    let cohorts: std::collections::BTreeSet<Option<i64>> =
        first.iter().flatten().copied().collect();
    let never = cohorts.contains(&None);
    if !never && cohorts.len() < 2 {
        return Err(StatsError::Invalid(
            "every unit is treated from the same period and none is never treated: there is no comparison group".into(),
        ));
    }
    if cohorts.iter().all(Option::is_none) {
        return Err(StatsError::Invalid("no unit is ever treated".into()));
    }
    Ok(())
}

/// Fixed effects of the panel: units and periods.
fn fixed_effects(p: &Panel) -> (Clusters, Clusters) {
    let units = p.unit.iter().max().map_or(0, |&u| u as usize + 1);
    let unit = Clusters::from_ranked_codes(p.unit.to_vec(), units);
    let period = Clusters::from_sorted_labels(p.period);
    (unit, period)
}

fn clusters_of(p: &Panel) -> Clusters {
    Clusters::from_sorted_labels(p.cluster)
}

/// The absorbing treatment indicator D_it = 1[g_i ≤ t].
pub fn treatment_indicator(p: &Panel) -> Vec<f64> {
    p.period
        .iter()
        .zip(p.first_treated)
        .map(|(&t, g)| f64::from(u8::from(g.is_some_and(|g| g <= t))))
        .collect()
}

/// Static TWFE difference-in-differences (see the module docs for the model, the
/// conventions and the source).
pub fn twfe_did(p: &Panel, opts: &DidOptions) -> StatsResult<TwfeResult> {
    check_panel(p)?;
    let d = treatment_indicator(p);
    if d.iter().all(|&v| v == 0.0) {
        return Err(StatsError::Invalid(
            "no row is treated: every first treated period lies after the last period".into(),
        ));
    }
    let (unit, period) = fixed_effects(p);
    let cl = clusters_of(p);
    let mut x: Vec<&[f64]> = vec![&d];
    x.extend(p.covariates.iter().copied());
    let fit = match fe::feols_weighted(p.y, &x, &[&unit, &period], p.weights) {
        Err(StatsError::Collinear { index: 0 }) => {
            return Err(StatsError::Invalid(
                "the treatment indicator is absorbed by the unit and period effects: every treated unit is treated in every period it is observed".into(),
            ));
        }
        Err(StatsError::Collinear { index }) => return Err(absorbed_covariate(index - 1)),
        r => r?,
    };
    let cov = fit.cluster_vcov(&cl, opts.small_sample)?;
    let b = fit.coefficients()[0];
    let se = cov.matrix[(0, 0)].sqrt();
    if !super::above(se, 0.0) {
        return Err(StatsError::NoVariance);
    }
    let inference = Inference::wald(b, se, Some(cov.df), opts.conf_level);
    let mut notes = Vec::new();
    let few_clusters = if cl.count() < FEW_CLUSTERS {
        let cols = 1 + p.covariates.len() + unit.count() + period.count() - 1;
        if p.y.len().saturating_mul(cols) > DUMMY_DESIGN_BUDGET {
            notes.push(format!(
                "CR2 and the wild cluster bootstrap are left out: the regression with {cols} dummy columns on {} rows is too large",
                p.y.len()
            ));
            None
        } else {
            Some(few_cluster_results(p, &x, &unit, &period, &cl, opts)?)
        }
    } else {
        None
    };
    Ok(TwfeResult {
        inference,
        df_k: cov.df_k,
        scale: cov.scale,
        clusters: cl.count(),
        n: p.y.len(),
        small_sample: opts.small_sample,
        covariates: fit.coefficients()[1..].to_vec(),
        few_clusters,
        notes,
    })
}

/// CR2 (Bell-McCaffrey df) and the wild cluster bootstrap p-value of coefficient 0 on
/// the regression with the fixed effects as dummies.
fn few_cluster_results(
    p: &Panel,
    x: &[&[f64]],
    unit: &Clusters,
    period: &Clusters,
    cl: &Clusters,
    opts: &DidOptions,
) -> StatsResult<FewClusters> {
    let n = p.y.len();
    let mut cols: Vec<Vec<f64>> = x.iter().map(|c| c.to_vec()).collect();
    for l in 0..unit.count() as u32 {
        cols.push(
            unit.codes()
                .iter()
                .map(|&c| f64::from(u8::from(c == l)))
                .collect(),
        );
    }
    for l in 1..period.count() as u32 {
        cols.push(
            period
                .codes()
                .iter()
                .map(|&c| f64::from(u8::from(c == l)))
                .collect(),
        );
    }
    let root: Option<Vec<f64>> = match p.weights {
        FeWeights::None => None,
        FeWeights::Analytic(w) | FeWeights::Frequency(w) => {
            Some(w.iter().map(|v| v.sqrt()).collect())
        }
    };
    let (y, cols) = match &root {
        None => (p.y.to_vec(), cols),
        Some(r) => {
            let scale = |c: &[f64]| -> Vec<f64> { c.iter().zip(r).map(|(a, b)| a * b).collect() };
            (scale(p.y), cols.iter().map(|c| scale(c)).collect())
        }
    };
    debug_assert!(cols.iter().all(|c| c.len() == n));
    let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    let fit = ols::fit(&y, &refs, false)?;
    let cr2 = fit
        .coef_inference(0, SeType::Cr2, Some(cl), opts.conf_level)?
        .inference;
    let wild = WildClusterBootstrap::new(&y, &refs, false, cl, 0)?;
    let ropts = ResampleOptions::new(opts.wild_reps, opts.seed).with_conf_level(opts.conf_level);
    let r = wild.run(WildWeights::Rademacher, &ropts)?;
    Ok(FewClusters {
        cr2,
        wild_p_value: r.p_value,
        wild_reps: r.reps,
        wild_enumerated: r.enumerated,
    })
}

/// The error for covariate `k` (0-based) that the fixed effects absorb. The message
/// starts with "covariate k " so that the caller can put the column's name in.
fn absorbed_covariate(k: usize) -> StatsError {
    StatsError::Invalid(format!(
        "covariate {k} is absorbed by the unit and period effects (constant within every unit, or the same for every unit in a period) or a combination of the other regressors; leave it out"
    ))
}

/// Relative periods per row (`None` for never treated) and the window (lo, hi).
pub type EventTimes = (Vec<Option<i64>>, (i64, i64));

/// Relative periods of the treated rows, binned into `window`; `None` for rows of
/// never-treated units. Returns them with the window used.
pub fn event_times(p: &Panel, window: Option<(i64, i64)>) -> StatsResult<EventTimes> {
    let raw: Vec<Option<i64>> = p
        .period
        .iter()
        .zip(p.first_treated)
        .map(|(&t, g)| g.map(|g| t - g))
        .collect();
    let (lo, hi) = match window {
        Some((lo, hi)) => {
            if lo > hi {
                return Err(StatsError::Invalid(format!(
                    "window {lo},{hi}: the first number must not exceed the second"
                )));
            }
            (lo, hi)
        }
        None => {
            let mut it = raw.iter().flatten();
            let first = *it
                .next()
                .ok_or_else(|| StatsError::Invalid("no unit is ever treated".into()))?;
            it.fold((first, first), |(a, b), &e| (a.min(e), b.max(e)))
        }
    };
    Ok((
        raw.iter().map(|e| e.map(|e| e.clamp(lo, hi))).collect(),
        (lo, hi),
    ))
}

/// Event study with relative-period indicators (see the module docs).
pub fn event_study(
    p: &Panel,
    reference: i64,
    window: Option<(i64, i64)>,
    opts: &DidOptions,
) -> StatsResult<EventStudyResult> {
    check_panel(p)?;
    let (rel, (lo, hi)) = event_times(p, window)?;
    // Whether an endpoint holds relative periods beyond it.
    let (raw, _) = event_times(p, None)?;
    let below = raw.iter().flatten().any(|&e| e < lo);
    let above = raw.iter().flatten().any(|&e| e > hi);
    if !(lo..=hi).contains(&reference) {
        return Err(StatsError::Invalid(format!(
            "reference period {reference} lies outside the window {lo},{hi}"
        )));
    }
    let mut seen: Vec<i64> = rel.iter().flatten().copied().collect();
    seen.sort_unstable();
    seen.dedup();
    if !seen.contains(&reference) {
        return Err(StatsError::Invalid(format!(
            "no treated unit is observed at reference period {reference}; choose another with --reference"
        )));
    }
    let times: Vec<i64> = seen.into_iter().filter(|&e| e != reference).collect();
    if times.is_empty() {
        return Err(StatsError::Invalid(
            "only the reference period is observed for treated units: nothing to estimate".into(),
        ));
    }
    let cols: Vec<Vec<f64>> = times
        .iter()
        .map(|&e| {
            rel.iter()
                .map(|&r| f64::from(u8::from(r == Some(e))))
                .collect()
        })
        .collect();
    let rows: Vec<usize> = cols
        .iter()
        .map(|c| c.iter().filter(|&&v| v > 0.0).count())
        .collect();
    let mut x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    x.extend(p.covariates.iter().copied());
    let (unit, period) = fixed_effects(p);
    let cl = clusters_of(p);
    let fit = match fe::feols_weighted(p.y, &x, &[&unit, &period], p.weights) {
        Err(StatsError::Collinear { index }) if index < times.len() => {
            return Err(StatsError::Invalid(format!(
                "the event-study indicator for relative period {} is collinear with the unit and period effects \
                 (without never-treated units the relative periods and calendar periods are not separately identified); \
                 bin the endpoints with --window",
                times[index]
            )));
        }
        Err(StatsError::Collinear { index }) => {
            return Err(absorbed_covariate(index - times.len()));
        }
        r => r?,
    };
    let cov = fit.cluster_vcov(&cl, opts.small_sample)?;
    let coefs = fit.coefficients();
    let mut out = Vec::with_capacity(times.len());
    for (j, &e) in times.iter().enumerate() {
        let se = cov.matrix[(j, j)].sqrt();
        if !super::above(se, 0.0) {
            return Err(StatsError::NoVariance);
        }
        out.push(EventCoef {
            event_time: e,
            binned: (e == lo && below) || (e == hi && above),
            inference: Inference::wald(coefs[j], se, Some(cov.df), opts.conf_level),
            rows: rows[j],
        });
    }
    let pre: Vec<usize> = (0..times.len()).filter(|&j| times[j] < 0).collect();
    let pretrend = if pre.is_empty() {
        None
    } else {
        Some(wald_test(coefs, &cov.matrix, &pre, cov.df)?)
    };
    Ok(EventStudyResult {
        coefficients: out,
        reference,
        window: (lo, hi),
        pretrend,
        df_k: cov.df_k,
        clusters: cl.count(),
        n: p.y.len(),
        small_sample: opts.small_sample,
    })
}

/// Joint Wald test that the coefficients `idx` are zero: W = b'V⁻¹b, F = W/q on
/// (q, `df2`) df and W on chi-square(q) (pyfixest `wald_test`).
pub fn wald_test(
    coef: &[f64],
    vcov: &DMatrix<f64>,
    idx: &[usize],
    df2: f64,
) -> StatsResult<WaldTest> {
    let q = idx.len();
    let b = DVector::from_iterator(q, idx.iter().map(|&i| coef[i]));
    let v = DMatrix::from_fn(q, q, |r, c| vcov[(idx[r], idx[c])]);
    let chol = v.cholesky().ok_or_else(|| {
        StatsError::Invalid("the variance matrix of the pre-period coefficients is singular".into())
    })?;
    let w = b.dot(&chol.solve(&b));
    let qf = q as f64;
    Ok(WaldTest {
        statistic: w / qf,
        df1: qf,
        df2,
        p_value: dist::f_sf(w / qf, qf, df2),
        chi_square: w,
        chi_square_p_value: dist::chi_square_sf(w, qf),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 6 units x 4 periods; units 0-1 treated from period 2, 2-3 from 3, 4-5 never.
    fn toy() -> (Vec<f64>, Vec<u32>, Vec<i64>, Vec<Option<i64>>) {
        let mut y = Vec::new();
        let mut u = Vec::new();
        let mut t = Vec::new();
        let mut g = Vec::new();
        for unit in 0..6u32 {
            let first = match unit {
                0 | 1 => Some(2),
                2 | 3 => Some(3),
                _ => None,
            };
            for period in 0..4i64 {
                let treated = first.is_some_and(|f| period >= f);
                let noise = ((unit as f64 * 7.3 + period as f64 * 3.1).sin()) * 0.3;
                y.push(
                    unit as f64 + 0.5 * period as f64 + 2.0 * f64::from(u8::from(treated)) + noise,
                );
                u.push(unit);
                t.push(period);
                g.push(first);
            }
        }
        (y, u, t, g)
    }

    #[test]
    fn twfe_and_event_study_run_on_a_toy_panel() {
        let (y, u, t, g) = toy();
        let p = Panel {
            y: &y,
            unit: &u,
            period: &t,
            first_treated: &g,
            cluster: &u,
            covariates: &[],
            weights: FeWeights::None,
        };
        let r = twfe_did(&p, &DidOptions::default()).unwrap();
        assert!((r.inference.estimate - 2.0).abs() < 0.5);
        let fc = r.few_clusters.unwrap();
        assert!(fc.wild_enumerated);
        assert_eq!(fc.wild_reps, 64);
        let es = event_study(&p, -1, None, &DidOptions::default()).unwrap();
        assert_eq!(es.window, (-3, 1));
        let times: Vec<i64> = es.coefficients.iter().map(|c| c.event_time).collect();
        assert_eq!(times, vec![-3, -2, 0, 1]);
        assert!(es.pretrend.unwrap().df1 == 2.0);
    }

    #[test]
    fn bad_panels_are_refused() {
        let (y, u, t, g0) = toy();
        let one = vec![0i64; y.len()];
        let panel = Panel {
            y: &y,
            unit: &u,
            period: &one,
            first_treated: &g0,
            cluster: &u,
            covariates: &[],
            weights: FeWeights::None,
        };
        assert!(
            check_panel(&panel)
                .unwrap_err()
                .to_string()
                .contains("one period")
        );
        let mut g = g0.clone();
        g[1] = Some(3);
        let panel = Panel {
            period: &t,
            first_treated: &g,
            ..panel
        };
        assert!(
            check_panel(&panel)
                .unwrap_err()
                .to_string()
                .contains("more than one first treated")
        );
        let all: Vec<Option<i64>> = vec![Some(2); y.len()];
        let panel = Panel {
            first_treated: &all,
            ..panel
        };
        assert!(
            check_panel(&panel)
                .unwrap_err()
                .to_string()
                .contains("no comparison group")
        );
    }
}
