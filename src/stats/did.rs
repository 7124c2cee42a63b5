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
//!
//! # How the regressions are computed
//!
//! The same slopes and CRV1 matrices come from one of three computations: on a
//! balanced, unweighted panel clustered by unit, from cohort-by-period tables
//! ([`super::did_balanced`], covariates included); on an unbalanced one of that kind
//! whose indicators as dense columns would exceed [`DUMMY_DESIGN_BUDGET`] cells, from
//! the sparse normal equations of [`super::did_sparse`] (event study); otherwise by the
//! fixed-effects regression ([`crate::stats::fe::feols_weighted`]). Tests compare each
//! with the regression.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use super::did_balanced::CohortPanel;
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
    /// Each unit's first treated period, indexed by unit code (one value per unit, so
    /// a unit cannot have two); `None` for never treated.
    pub unit_first_treated: &'a [Option<i64>],
    /// Dense cluster codes (the unit codes for clustering by unit).
    pub cluster: &'a [u32],
    pub covariates: &'a [&'a [f64]],
    pub weights: FeWeights<'a>,
}

impl<'a> Panel<'a> {
    /// An unweighted panel clustered by unit (the shape most tests build).
    #[cfg(test)]
    pub(crate) fn by_unit(
        y: &'a [f64],
        unit: &'a [u32],
        period: &'a [i64],
        unit_first_treated: &'a [Option<i64>],
        covariates: &'a [&'a [f64]],
    ) -> Self {
        Self {
            y,
            unit,
            period,
            unit_first_treated,
            cluster: unit,
            covariates,
            weights: FeWeights::None,
        }
    }

    /// The first treated period of row `i`'s unit.
    #[inline]
    pub fn first_treated(&self, i: usize) -> Option<i64> {
        self.unit_first_treated[self.unit[i] as usize]
    }

    /// The first treated period of every row's unit, row by row.
    pub fn first_treated_rows(&self) -> impl Iterator<Item = &'a Option<i64>> + 'a {
        let of = self.unit_first_treated;
        self.unit.iter().map(move |&u| &of[u as usize])
    }
}

/// The first treated period of each unit from one value per row (`unit[i]`'s value in
/// row i; units are dense codes); an error naming a unit with two different values.
/// For callers that hold the treatment row by row.
pub fn unit_first_treated(unit: &[u32], rows: &[Option<i64>]) -> StatsResult<Vec<Option<i64>>> {
    if unit.len() != rows.len() {
        return Err(StatsError::Invalid(
            "panel columns of different lengths".into(),
        ));
    }
    let units = unit.iter().max().map_or(0, |&u| u as usize + 1);
    let mut first: Vec<Option<Option<i64>>> = vec![None; units];
    for (&u, &g) in unit.iter().zip(rows) {
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
    Ok(first.into_iter().map(Option::flatten).collect())
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
    let lens = [p.unit.len(), p.period.len(), p.cluster.len()];
    if lens.iter().any(|&l| l != n) || p.covariates.iter().any(|c| c.len() != n) {
        return Err(StatsError::Invalid(
            "panel columns of different lengths".into(),
        ));
    }
    if n == 0 {
        return Err(StatsError::TooFew { needed: 4, got: 0 });
    }
    let periods = distinct_periods(p.period);
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
    if p.unit_first_treated.len() < units {
        return Err(StatsError::Invalid(format!(
            "{} first treated periods for {units} units",
            p.unit_first_treated.len()
        )));
    }
    // The cohorts of the units with rows.
    let mut present = vec![false; units];
    for &u in p.unit {
        present[u as usize] = true;
    }
    let first = p
        .unit_first_treated
        .iter()
        .zip(&present)
        .map(|(&g, &here)| here.then_some(g));
    let cohorts: std::collections::BTreeSet<Option<i64>> = first.flatten().collect();
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

/// The distinct periods, ascending: from a table of the span between the first and the
/// last period when it is not much longer than the column (always, for periods
/// numbered consecutively), else by sorting a copy.
pub fn distinct_periods(period: &[i64]) -> Vec<i64> {
    let Some(span) = period_span(period) else {
        let mut v = period.to_vec();
        v.sort_unstable();
        v.dedup();
        return v;
    };
    let (lo, len) = span;
    let mut seen = vec![false; len];
    for &t in period {
        seen[(t - lo) as usize] = true;
    }
    (0..len)
        .filter(|&k| seen[k])
        .map(|k| lo + k as i64)
        .collect()
}

/// The distinct first treated periods (`None`, never treated, first), ascending, in
/// one pass (a unit's rows mostly follow each other, so most rows repeat the last value).
pub fn distinct_cohorts(first_treated: &[Option<i64>]) -> Vec<Option<i64>> {
    let mut out: Vec<Option<i64>> = Vec::new();
    let mut last: Option<Option<i64>> = None;
    for &g in first_treated {
        if last == Some(g) {
            continue;
        }
        last = Some(g);
        if let Err(at) = out.binary_search(&g) {
            out.insert(at, g);
        }
    }
    out
}

/// The first period and the number of periods from it to the last, when that span is
/// at most the rows plus 2^20 (a table of it is cheap); `None` otherwise or when empty.
fn period_span(period: &[i64]) -> Option<(i64, usize)> {
    let (lo, hi) = period
        .iter()
        .fold((i64::MAX, i64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
    if period.is_empty() {
        return None;
    }
    let len = usize::try_from(hi.checked_sub(lo)?).ok()?.checked_add(1)?;
    (len <= period.len() + (1 << 20)).then_some((lo, len))
}

/// Fixed effects of the panel: units and periods.
fn fixed_effects(p: &Panel) -> (Clusters, Clusters) {
    let units = p.unit.iter().max().map_or(0, |&u| u as usize + 1);
    let unit = Clusters::from_ranked_codes(p.unit.to_vec(), units);
    // Period codes t − t_first rank like the periods: the same clusters as
    // `Clusters::from_sorted_labels(p.period)`, without the sort.
    let period = match period_span(p.period) {
        Some((lo, len)) => {
            Clusters::from_ranked_codes(p.period.iter().map(|&t| (t - lo) as u32).collect(), len)
        }
        None => Clusters::from_sorted_labels(p.period),
    };
    (unit, period)
}

/// The clusters: the codes are dense (ranked like their labels), so ranking the codes
/// present gives `Clusters::from_sorted_labels(p.cluster)` without a sort.
fn clusters_of(p: &Panel) -> Clusters {
    let levels = p.cluster.iter().max().map_or(0, |&c| c as usize + 1);
    Clusters::from_ranked_codes(p.cluster.to_vec(), levels)
}

/// Whether each row is treated: the absorbing D_it = 1[g_i ≤ t], row by row.
fn treated_rows<'p>(p: &'p Panel) -> impl Iterator<Item = bool> + 'p {
    p.period
        .iter()
        .zip(p.first_treated_rows())
        .map(|(&t, g)| g.is_some_and(|g| g <= t))
}

/// The absorbing treatment indicator D_it = 1[g_i ≤ t].
pub fn treatment_indicator(p: &Panel) -> Vec<f64> {
    treated_rows(p).map(|d| f64::from(u8::from(d))).collect()
}

/// Static TWFE difference-in-differences (see the module docs for the model, the
/// conventions and the source).
pub fn twfe_did(p: &Panel, opts: &DidOptions) -> StatsResult<TwfeResult> {
    check_panel(p)?;
    // The check without the indicator's column: the cohort tables do not need it.
    if !treated_rows(p).any(|d| d) {
        return Err(StatsError::Invalid(
            "no row is treated: every first treated period lies after the last period".into(),
        ));
    }
    let map_err = |e| {
        match e {
        StatsError::Collinear { index: 0 } => StatsError::Invalid(
            "the treatment indicator is absorbed by the unit and period effects: every treated unit is treated in every period it is observed".into(),
        ),
        StatsError::Collinear { index } => absorbed_covariate(index - 1),
        e => e,
    }
    };
    if let Some(cp) = CohortPanel::of(p) {
        // Balanced, unweighted, clustered by unit: the cohort tables.
        let (coefs, cov) = cp
            .fit(
                1,
                &|g, t, out| out[0] = f64::from(u8::from(g.is_some_and(|g| g <= t))),
                opts.small_sample,
            )
            .map_err(map_err)?;
        let se = cov.matrix[(0, 0)].sqrt();
        if !super::above(se, 0.0) {
            return Err(StatsError::NoVariance);
        }
        return Ok(TwfeResult {
            inference: Inference::wald(coefs[0], se, Some(cov.df), opts.conf_level),
            df_k: cov.df_k,
            scale: cov.scale,
            clusters: cov.clusters,
            n: p.y.len(),
            small_sample: opts.small_sample,
            covariates: coefs[1..].to_vec(),
            few_clusters: None,
            notes: Vec::new(),
        });
    }
    let d = treatment_indicator(p);
    let (unit, period) = fixed_effects(p);
    let cl = clusters_of(p);
    let mut x: Vec<&[f64]> = vec![&d];
    x.extend(p.covariates.iter().copied());
    let fit = fe::feols_weighted(p.y, &x, &[&unit, &period], p.weights).map_err(map_err)?;
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
pub(crate) fn absorbed_covariate(k: usize) -> StatsError {
    StatsError::Invalid(format!(
        "covariate {k} is absorbed by the unit and period effects (constant within every unit, or the same for every unit in a period) or a combination of the other regressors; leave it out"
    ))
}

/// A window of relative periods must run from low to high.
fn check_window(lo: i64, hi: i64) -> StatsResult<()> {
    if lo > hi {
        return Err(StatsError::Invalid(format!(
            "window {lo},{hi}: the first number must not exceed the second"
        )));
    }
    Ok(())
}

/// Relative periods per row (`None` for never treated) and the window (lo, hi).
pub type EventTimes = (Vec<Option<i64>>, (i64, i64));

/// Relative periods of the treated rows, binned into `window`; `None` for rows of
/// never-treated units. Returns them with the window used.
pub fn event_times(p: &Panel, window: Option<(i64, i64)>) -> StatsResult<EventTimes> {
    let raw: Vec<Option<i64>> = p
        .period
        .iter()
        .zip(p.first_treated_rows())
        .map(|(&t, g)| g.map(|g| t - g))
        .collect();
    let (lo, hi) = match window {
        Some((lo, hi)) => {
            check_window(lo, hi)?;
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
    let w = event_window(p, window, reference)?;
    // The relative periods of the treated rows binned into the window: which occur and
    // in how many rows.
    let counts = relative_totals(p, w.lo, w.hi, None);
    if !counts.contains_key(&reference) {
        return Err(StatsError::Invalid(format!(
            "no treated unit is observed at reference period {reference}; choose another with --reference"
        )));
    }
    let times: Vec<i64> = counts.keys().copied().filter(|&e| e != reference).collect();
    if times.is_empty() {
        return Err(StatsError::Invalid(
            "only the reference period is observed for treated units: nothing to estimate".into(),
        ));
    }
    let rows: Vec<usize> = times.iter().map(|e| counts[e].0).collect();
    let fit = fit_indicators(p, &times, w, opts)?;
    let out = fit.coefficients(&times, &rows, w, opts.conf_level)?;
    let IndicatorFit {
        coefs,
        cov,
        clusters,
    } = fit;
    let pre: Vec<usize> = (0..times.len()).filter(|&j| times[j] < 0).collect();
    let pretrend = if pre.is_empty() {
        None
    } else {
        Some(wald_test(&coefs, &cov.matrix, &pre, cov.df)?)
    };
    Ok(EventStudyResult {
        coefficients: out,
        reference,
        window: (w.lo, w.hi),
        pretrend,
        df_k: cov.df_k,
        clusters,
        n: p.y.len(),
        small_sample: opts.small_sample,
    })
}

/// The window [lo, hi] of an event study and whether each endpoint holds relative
/// periods beyond it.
#[derive(Debug, Clone, Copy)]
struct Window {
    lo: i64,
    hi: i64,
    below: bool,
    above: bool,
}

/// The window of the event study: `window`, or the range of the observed relative
/// periods t − g of the treated rows; an error when `window` is reversed, no unit is
/// treated or the `reference` period lies outside.
fn event_window(p: &Panel, window: Option<(i64, i64)>, reference: i64) -> StatsResult<Window> {
    if let Some((lo, hi)) = window {
        check_window(lo, hi)?;
    }
    // The observed relative periods t − g of the treated rows: their range.
    let (raw_lo, raw_hi) = p
        .period
        .iter()
        .zip(p.first_treated_rows())
        .filter_map(|(&t, g)| g.map(|g| t - g))
        .fold(None, |acc: Option<(i64, i64)>, e| {
            Some(acc.map_or((e, e), |(a, b)| (a.min(e), b.max(e))))
        })
        .ok_or_else(|| StatsError::Invalid("no unit is ever treated".into()))?;
    let (lo, hi) = window.unwrap_or((raw_lo, raw_hi));
    // Whether an endpoint holds relative periods beyond it.
    let below = raw_lo < lo;
    let above = raw_hi > hi;
    if !(lo..=hi).contains(&reference) {
        return Err(StatsError::Invalid(format!(
            "reference period {reference} lies outside the window {lo},{hi}"
        )));
    }
    Ok(Window {
        lo,
        hi,
        below,
        above,
    })
}

/// The fitted relative-period indicators: their coefficients (first, one per event
/// time), the CRV1 matrix and the number of clusters.
struct IndicatorFit {
    coefs: Vec<f64>,
    cov: fe::FeCovariance,
    clusters: usize,
}

/// Fit the indicators of the relative periods `times` (binned into the window `w`) with
/// unit and period effects: by the cohort tables when the panel allows
/// ([`CohortPanel`]), by the sparse normal equations for a large unbalanced panel
/// ([`sparse_fit`]), else by the fixed-effects regression.
fn fit_indicators(
    p: &Panel,
    times: &[i64],
    w: Window,
    opts: &DidOptions,
) -> StatsResult<IndicatorFit> {
    let (lo, hi) = (w.lo, w.hi);
    let rel_of = |t: i64, g: Option<i64>| g.map(|g| (t - g).clamp(lo, hi));
    let map_err = |e| match e {
        StatsError::Collinear { index } if index < times.len() => StatsError::Invalid(format!(
            "the event-study indicator for relative period {} is collinear with the unit and period effects \
             (without never-treated units the relative periods and calendar periods are not separately identified); \
             bin the endpoints with --window",
            times[index]
        )),
        StatsError::Collinear { index } => absorbed_covariate(index - times.len()),
        e => e,
    };
    let (coefs, cov, clusters) = if let Some(cp) = CohortPanel::of(p) {
        // Balanced, unweighted, clustered by unit: the cohort tables.
        let indicator = |g: Option<i64>, t: i64, out: &mut [f64]| {
            if let Some(e) = rel_of(t, g)
                && let Ok(j) = times.binary_search(&e)
            {
                out[j] = 1.0;
            }
        };
        let (coefs, cov) = cp
            .fit(times.len(), &indicator, opts.small_sample)
            .map_err(map_err)?;
        let g = cov.clusters;
        (coefs, cov, g)
    } else if let Some((coefs, cov)) = sparse_fit(p, times, &rel_of, opts).map_err(map_err)? {
        // A dummy design beyond the budget, unweighted, clustered by unit: the sparse
        // normal equations.
        let g = cov.clusters;
        (coefs, cov, g)
    } else {
        let cols: Vec<Vec<f64>> = times
            .iter()
            .map(|&e| {
                p.period
                    .iter()
                    .zip(p.first_treated_rows())
                    .map(|(&t, &g)| f64::from(u8::from(rel_of(t, g) == Some(e))))
                    .collect()
            })
            .collect();
        let mut x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        x.extend(p.covariates.iter().copied());
        let (unit, period) = fixed_effects(p);
        let cl = clusters_of(p);
        let fit = fe::feols_weighted(p.y, &x, &[&unit, &period], p.weights).map_err(map_err)?;
        drop(cols);
        let cov = fit.cluster_vcov(&cl, opts.small_sample)?;
        (fit.coefficients().to_vec(), cov, cl.count())
    };
    Ok(IndicatorFit {
        coefs,
        cov,
        clusters,
    })
}

/// The event-study fit by [`super::did_sparse`] when the indicators as dense columns
/// would exceed [`DUMMY_DESIGN_BUDGET`] cells and the panel is unweighted and clustered
/// by unit; `None` otherwise (and when its periods are not connected through the units).
fn sparse_fit(
    p: &Panel,
    times: &[i64],
    rel_of: &dyn Fn(i64, Option<i64>) -> Option<i64>,
    opts: &DidOptions,
) -> StatsResult<Option<(Vec<f64>, fe::FeCovariance)>> {
    sparse_fit_within_budget(p, times, rel_of, opts, DUMMY_DESIGN_BUDGET)
}

/// [`sparse_fit`] with the budget given (the tests take the sparse path on small panels).
fn sparse_fit_within_budget(
    p: &Panel,
    times: &[i64],
    rel_of: &dyn Fn(i64, Option<i64>) -> Option<i64>,
    opts: &DidOptions,
    budget: usize,
) -> StatsResult<Option<(Vec<f64>, fe::FeCovariance)>> {
    if !super::did_sparse::applies(p, times.len(), budget) {
        return Ok(None);
    }
    let index: Vec<u32> = p
        .period
        .iter()
        .zip(p.first_treated_rows())
        .map(|(&t, &g)| {
            rel_of(t, g)
                .and_then(|e| times.binary_search(&e).ok())
                .map_or(super::did_sparse::NONE, |j| j as u32)
        })
        .collect();
    super::did_sparse::fit(p, &index, times.len(), opts.small_sample)
}

impl IndicatorFit {
    /// One coefficient per relative period in `times` (with its treated `rows`), marked
    /// binned at an endpoint of `w` that holds periods beyond it.
    fn coefficients(
        &self,
        times: &[i64],
        rows: &[usize],
        w: Window,
        conf_level: f64,
    ) -> StatsResult<Vec<EventCoef>> {
        let (coefs, cov) = (&self.coefs, &self.cov);
        let mut out = Vec::with_capacity(times.len());
        for (j, &e) in times.iter().enumerate() {
            let se = cov.matrix[(j, j)].sqrt();
            if !super::above(se, 0.0) {
                return Err(StatsError::NoVariance);
            }
            out.push(EventCoef {
                event_time: e,
                binned: (e == w.lo && w.below) || (e == w.hi && w.above),
                inference: Inference::wald(coefs[j], se, Some(cov.df), conf_level),
                rows: rows[j],
            });
        }
        Ok(out)
    }
}

/// Per relative period e = t − g of the treated rows, binned into [lo, hi]: the rows
/// and the sum of `persons` over them (1 per row when `None`), for the periods that
/// occur. One pass, with a table over [lo, hi] when that is not much longer than the
/// column.
pub fn relative_totals(
    p: &Panel,
    lo: i64,
    hi: i64,
    persons: Option<&[f64]>,
) -> std::collections::BTreeMap<i64, (usize, f64)> {
    let person = |i: usize| persons.map_or(1.0, |w| w[i]);
    let mut out = std::collections::BTreeMap::new();
    let span = usize::try_from(hi.saturating_sub(lo))
        .ok()
        .and_then(|s| s.checked_add(1))
        .filter(|&s| s <= p.period.len() + (1 << 20));
    match span {
        Some(len) => {
            let mut table = vec![(0usize, 0.0); len];
            for (i, (&t, g)) in p.period.iter().zip(p.first_treated_rows()).enumerate() {
                if let Some(g) = g {
                    let cell = &mut table[((t - g).clamp(lo, hi) - lo) as usize];
                    cell.0 += 1;
                    cell.1 += person(i);
                }
            }
            for (k, cell) in table.into_iter().enumerate() {
                if cell.0 > 0 {
                    out.insert(lo + k as i64, cell);
                }
            }
        }
        None => {
            for (i, (&t, g)) in p.period.iter().zip(p.first_treated_rows()).enumerate() {
                if let Some(g) = g {
                    let cell = out.entry((t - g).clamp(lo, hi)).or_insert((0, 0.0));
                    cell.0 += 1;
                    cell.1 += person(i);
                }
            }
        }
    }
    out
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
            unit_first_treated: &unit_first_treated(&u, &g).unwrap(),
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
            unit_first_treated: &unit_first_treated(&u, &g0).unwrap(),
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
        assert!(
            unit_first_treated(&u, &g)
                .unwrap_err()
                .to_string()
                .contains("more than one first treated")
        );
        let panel = Panel {
            period: &t,
            ..panel
        };
        let all: Vec<Option<i64>> = vec![Some(2); y.len()];
        let panel = Panel {
            unit_first_treated: &unit_first_treated(&u, &all).unwrap(),
            ..panel
        };
        assert!(
            check_panel(&panel)
                .unwrap_err()
                .to_string()
                .contains("no comparison group")
        );
        // One first treated period too few for the units.
        let short = unit_first_treated(&u, &g0).unwrap();
        let panel = Panel {
            unit_first_treated: &short[1..],
            ..panel
        };
        assert!(
            check_panel(&panel)
                .unwrap_err()
                .to_string()
                .contains("first treated periods for")
        );
        // Per unit, as given row by row.
        assert_eq!(short.len(), *u.iter().max().unwrap() as usize + 1);
        for (i, &unit) in u.iter().enumerate() {
            assert_eq!(short[unit as usize], g0[i]);
        }
    }

    /// The sparse normal equations, reached with the event study's own indicator index
    /// (relative periods binned into the window), give the regression's coefficients
    /// and SEs on an unbalanced panel, with and without binned endpoints.
    #[test]
    fn the_event_study_index_on_the_sparse_path_gives_the_regression() {
        let (mut y, mut u, mut t, mut g) = (vec![], vec![], vec![], vec![]);
        for unit in 0..60u32 {
            let first = match unit % 4 {
                0 => Some(3),
                1 => Some(5),
                2 => Some(7),
                _ => None,
            };
            for period in 0..10i64 {
                if (unit * 3 + period as u32 * 5).is_multiple_of(9) {
                    continue;
                }
                let eff = first
                    .filter(|&f| period >= f)
                    .map_or(0.0, |f| 1.0 + 0.2 * (period - f) as f64);
                let noise = ((unit as f64 * 7.3 + period as f64 * 3.1).sin()) * 0.5;
                y.push(50.0 + unit as f64 + 0.4 * period as f64 + eff + noise);
                u.push(unit);
                t.push(period);
                g.push(first);
            }
        }
        let first = unit_first_treated(&u, &g).unwrap();
        let p = Panel::by_unit(&y, &u, &t, &first, &[]);
        let opts = DidOptions::default();
        for window in [None, Some((-3, 3))] {
            // Under the budget: the regression.
            let want = event_study(&p, -1, window, &opts).unwrap();
            let times: Vec<i64> = want.coefficients.iter().map(|c| c.event_time).collect();
            let (lo, hi) = want.window;
            let rel_of = |t: i64, g: Option<i64>| g.map(|g| (t - g).clamp(lo, hi));
            assert!(sparse_fit(&p, &times, &rel_of, &opts).unwrap().is_none());
            let (coefs, cov) = sparse_fit_within_budget(&p, &times, &rel_of, &opts, 0)
                .unwrap()
                .unwrap();
            assert_eq!(cov.clusters, want.clusters);
            assert_eq!(cov.df_k, want.df_k);
            for (j, c) in want.coefficients.iter().enumerate() {
                let (b, se) = (c.inference.estimate, c.inference.std_error);
                assert!(
                    (coefs[j] - b).abs() <= 1e-8 * se,
                    "{window:?} {j}: {} vs {b}",
                    coefs[j]
                );
                let got = cov.matrix[(j, j)].sqrt();
                assert!(
                    (got - se).abs() <= 1e-8 * se,
                    "{window:?} {j}: SE {got} vs {se}"
                );
            }
        }
    }
}
