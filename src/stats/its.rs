//! Interrupted time series: segmented regression for before/after data without a
//! comparison group (Wagner, Soumerai, Zhang & Ross-Degnan 2002, "Segmented regression
//! analysis of interrupted time series studies in medication use research", *J. Clin.
//! Pharm. Ther.* 27(4); Bernal, Cummins & Gasparrini 2017, "Interrupted time series
//! regression for the evaluation of public health interventions: a tutorial", *Int. J.
//! Epidemiol.* 46(1)).
//!
//! The model, with t₀ the first period of the intervention (`start`):
//!
//! y = b₀ + b₁·(t − t₀) + b₂·post + b₃·(t − t₀)·post + γ'z (+ unit effects) + e,
//! post = 1 when t ≥ t₀.
//!
//! - `pre_level` = b₀: the pre-period line at t₀ (covariates at zero; with several units
//!   the mean of the units' levels, since the unit effects are coded to sum to zero);
//! - `pre_slope` = b₁: change per time unit before the start;
//! - `level_change` (`its_level`) = b₂: the jump at t₀ against the pre-period line
//!   projected to t₀;
//! - `slope_change` (`its_slope`) = b₃: the change of the slope per time unit.
//!
//! The coefficients come from [`crate::stats::ols`] (QR). Standard errors:
//!
//! - **one series: Newey-West** (1987) HAC with Bartlett weights wₗ = 1 − l/(L+1),
//!   l = 0..L, on the rows in time order: V = n/(n−k) · B S B, B = (X'X)⁻¹,
//!   S = Σₗ wₗ Σₜ (sₜsₜ₋ₗ' + sₜ₋ₗsₜ') (l = 0 counted once), sₜ = xₜeₜ; t with n − k df.
//!   This is R `sandwich::NeweyWest(fit, lag = L, prewhite = FALSE, adjust = TRUE)` with
//!   `lmtest::coeftest` (the reference of `tests/its.rs`), and statsmodels
//!   `OLS.fit(cov_type = "HAC", cov_kwds = {"maxlags": L, "use_correction": True},
//!   use_t = True)`. The default lag is the Newey & West (1994) rule of thumb
//!   L = ⌊4·(T/100)^(2/9)⌋ with T the number of periods (statsmodels' `cov_hac`
//!   default; 4 for 16 years of months). The periods must be equally spaced: the lags
//!   are counted in rows.
//! - **several units pooled: cluster-robust by unit** ([`SeType::Cr1`]: factor
//!   G/(G−1)·(n−1)/(n−k), t with G − 1 df, as `sandwich::vcovCL(type = "HC1")`; or
//!   [`SeType::Cr2`]: Bell-McCaffrey with their Satterthwaite df, as
//!   `clubSandwich::coef_test(vcov = "CR2")`), with unit effects in sum-to-zero coding.
//!   Panels whose regression with a dummy column per unit would exceed
//!   [`DUMMY_DESIGN_BUDGET`] cells (many units, e.g. person-months) are fitted with the
//!   unit effects absorbed: the same estimates and CR1 variance (see `absorbed`),
//!   in time and memory linear in the rows; CR2 is refused there with a message.
//!
//! Intervals are Wald intervals estimate ± q·SE with q from t(df).

use nalgebra::DMatrix;
use serde::Serialize;

use super::fe::{self, FeSmallSample};
use super::ols::{self, Clusters, SeType};
use super::{Inference, StatsError, StatsResult, above};

/// Standard errors of the segmented regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItsSe {
    /// Newey-West HAC (one series); `lag: None` takes [`default_hac_lag`].
    NeweyWest { lag: Option<usize> },
    /// Cluster-robust by unit (several series pooled): [`SeType::Cr1`] or [`SeType::Cr2`].
    Cluster(SeType),
}

/// What to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ItsOptions {
    /// The first period of the intervention: rows with time ≥ start are "post".
    pub start: f64,
    pub se: ItsSe,
    pub conf_level: f64,
}

/// The data: one row per unit and period, in any order.
#[derive(Debug, Clone, Copy)]
pub struct ItsInput<'a> {
    pub time: &'a [f64],
    pub y: &'a [f64],
    /// The unit of each row when several series are pooled (unit effects, and the
    /// clusters of cluster-robust SEs); `None` for one series.
    pub units: Option<&'a Clusters>,
    /// Covariates (e.g. month indicators), each a column of the rows.
    pub covariates: &'a [&'a [f64]],
}

/// One period of the fitted series (means over the units observed in it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItsPoint {
    pub time: f64,
    /// Rows (units) observed in this period.
    pub rows: usize,
    pub observed: f64,
    pub fitted: f64,
    /// The fitted value without the level and slope changes: the pre-period line
    /// continued after the start (the counterfactual), with the covariates' part.
    pub counterfactual: f64,
    /// The segment lines alone, b₀ + b₁(t − t₀) + b₂·post + b₃(t − t₀)·post, plus the
    /// mean over all rows of the covariates' and unit effects' part: straight lines
    /// through the data, for charts.
    pub trend: f64,
    /// The pre-period segment line continued, b₀ + b₁(t − t₀), plus the same mean.
    pub trend_counterfactual: f64,
}

/// The fitted segmented regression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItsFit {
    pub pre_level: Inference,
    pub pre_slope: Inference,
    /// b₂, reported as `its_level`.
    pub level_change: Inference,
    /// b₃, reported as `its_slope`.
    pub slope_change: Inference,
    /// "newey_west", "CR1" or "CR2".
    pub se_type: &'static str,
    /// "n - k", "G - 1" or "Bell-McCaffrey".
    pub df_rule: &'static str,
    /// The Newey-West lag used (None for cluster-robust SEs).
    pub hac_lag: Option<usize>,
    /// Rows used.
    pub n: usize,
    /// Coefficients (intercept, the three segment terms, covariates, unit effects).
    pub k: usize,
    pub n_units: usize,
    /// Distinct periods before the start and from the start on.
    pub n_pre_periods: usize,
    pub n_post_periods: usize,
    /// Rows before the start and from the start on.
    pub n_pre_rows: usize,
    pub n_post_rows: usize,
    /// The series by period, in time order.
    pub series: Vec<ItsPoint>,
}

/// The Newey & West (1994) rule-of-thumb lag ⌊4·(T/100)^(2/9)⌋ for T periods.
pub fn default_hac_lag(periods: usize) -> usize {
    (4.0 * (periods as f64 / 100.0).powf(2.0 / 9.0)).floor() as usize
}

/// Relative tolerance of the equal-spacing check (times such as 1969 + m/12 are not
/// exact in binary).
const SPACING_TOL: f64 = 1e-9;

/// Fit the segmented regression. See the module documentation for the model, the
/// standard errors and the conventions.
///
/// Errors ([`StatsError::Invalid`] with a sentence that says what to change): inputs of
/// different lengths or not finite; fewer than two periods before or from the start
/// (a slope needs two); a unit with the same time twice; Newey-West with several units
/// or with unequally spaced periods; cluster-robust SEs without units.
pub fn its(input: &ItsInput, opt: &ItsOptions) -> StatsResult<ItsFit> {
    its_within_budget(input, opt, DUMMY_DESIGN_BUDGET)
}

/// [`its`] with the unit effects as dummy columns while rows × columns stay within
/// `budget`, absorbed beyond it (see [`absorbed`]).
fn its_within_budget(input: &ItsInput, opt: &ItsOptions, budget: usize) -> StatsResult<ItsFit> {
    check_input(input, opt)?;
    let n = input.y.len();
    let unit = |i: usize| input.units.map_or(0, |u| u.codes()[i]);
    let n_units = input.units.map_or(1, Clusters::count);
    let order = unit_time_order(input)?;
    let (times, n_pre_periods, n_post_periods) = periods(input, opt)?;
    let (se_type, df_rule, lag) = se_choice(opt, input.units.is_some(), n_units, &times, n)?;

    // The regressors in (unit, time) order: tt, post, tt·post, covariates.
    let y: Vec<f64> = order.iter().map(|&i| input.y[i]).collect();
    let tt: Vec<f64> = order.iter().map(|&i| input.time[i] - opt.start).collect();
    let post: Vec<f64> = order
        .iter()
        .map(|&i| f64::from(u8::from(input.time[i] >= opt.start)))
        .collect();
    let ttp: Vec<f64> = tt.iter().zip(&post).map(|(a, b)| a * b).collect();
    let mut cols = vec![tt, post, ttp];
    for c in input.covariates {
        cols.push(order.iter().map(|&i| c[i]).collect());
    }
    // Intercept, the regressors and the unit effects.
    let k = 1 + cols.len() + n_units - 1;
    let codes: Vec<u32> = order.iter().map(|&i| unit(i)).collect();
    let seg = match opt.se {
        ItsSe::Cluster(se) if n_units > 1 && n.saturating_mul(k) > budget => {
            absorbed(&y, &cols, codes, n_units, se, opt.conf_level)?
        }
        _ => dummies(&y, &cols, codes, n_units, opt, lag, input.covariates.len())?,
    };

    let (tt, post, ttp) = (&cols[0], &cols[1], &cols[2]);
    let series = series_by_period(
        input,
        &order,
        &seg.coef,
        &seg.resid,
        (&y, tt, post, ttp),
        &times,
    );
    let n_post_rows = post.iter().filter(|&&p| p == 1.0).count();
    let [pre_level, pre_slope, level_change, slope_change] = seg.inference;
    Ok(ItsFit {
        pre_level,
        pre_slope,
        level_change,
        slope_change,
        se_type,
        df_rule,
        hac_lag: lag,
        n,
        k,
        n_units,
        n_pre_periods,
        n_post_periods,
        n_pre_rows: n - n_post_rows,
        n_post_rows,
        series,
    })
}

/// Rows × columns of the regression with unit dummies above which the unit effects are
/// absorbed instead (the budget of the dummy regressions of [`super::did`]).
pub const DUMMY_DESIGN_BUDGET: usize = super::did::DUMMY_DESIGN_BUDGET;

/// The segmented regression's four coefficients (b₀ … b₃) with their inference, and
/// the residuals of the rows.
struct Segments {
    coef: [f64; 4],
    inference: [Inference; 4],
    resid: Vec<f64>,
}

/// The segmented regression by QR with the unit effects as dummy columns in
/// sum-to-zero coding (unit g < G−1: 1 in unit g, −1 in the last unit): Newey-West
/// for one series, CR1 or CR2 by unit for several.
fn dummies(
    y: &[f64],
    regressors: &[Vec<f64>],
    codes: Vec<u32>,
    n_units: usize,
    opt: &ItsOptions,
    lag: Option<usize>,
    n_covariates: usize,
) -> StatsResult<Segments> {
    let n = y.len();
    let last = (n_units.max(1) - 1) as u32;
    let mut cols = regressors.to_vec();
    for g in 0..n_units.saturating_sub(1) {
        cols.push(
            codes
                .iter()
                .map(|&u| match u {
                    u if u == g as u32 => 1.0,
                    u if u == last => -1.0,
                    _ => 0.0,
                })
                .collect(),
        );
    }
    let design = cols.clone();
    let fit = ols::fit_owned(y, cols, true).map_err(|e| match e {
        StatsError::Collinear { index } => collinear(index, n_covariates),
        e => e,
    })?;
    let k = fit.k();
    if n <= k {
        return Err(StatsError::TooFew {
            needed: k + 1,
            got: n,
        });
    }
    let coef = fit.coefficients();
    let inference: Vec<Inference> = match opt.se {
        ItsSe::NeweyWest { .. } => {
            let v = newey_west(&fit, &design, lag.unwrap_or(0))?;
            let df = (n - k) as f64;
            (0..4)
                .map(|j| {
                    let var = v[(j, j)];
                    if above(var, 0.0) {
                        Ok(Inference::wald(
                            coef[j],
                            var.sqrt(),
                            Some(df),
                            opt.conf_level,
                        ))
                    } else {
                        Err(StatsError::NoVariance)
                    }
                })
                .collect::<StatsResult<_>>()?
        }
        ItsSe::Cluster(se) => {
            let cl = Clusters::from_ranked_codes(codes, n_units);
            (0..4)
                .map(|j| {
                    fit.coef_inference(j, se, Some(&cl), opt.conf_level)
                        .map(|c| c.inference)
                })
                .collect::<StatsResult<_>>()?
        }
    };
    Ok(Segments {
        coef: [coef[0], coef[1], coef[2], coef[3]],
        inference: [inference[0], inference[1], inference[2], inference[3]],
        resid: fit.residuals().to_vec(),
    })
}

/// The segmented regression of several units with the unit effects absorbed (within
/// transformation, [`fe::feols`]), for panels too large for dummy columns; CR1 only.
///
/// By Frisch-Waugh-Lovell the slopes and residuals are those of the dummy regression,
/// and so is the CR1 variance of the slopes with every unit effect counted in K
/// ([`FeSmallSample::All`], as `lm` + `sandwich::vcovCL(type = "HC1")`). The intercept
/// of the sum-to-zero coding is the mean of the units' intercepts,
/// b₀ = Ḡ(ȳ_g) − c'β with c = Ḡ(x̄_g) (Ḡ: the unweighted mean over units): linear in
/// y with weight 1/(G·n_g) − c'(X̃'X̃)⁻¹x̃ᵢ on row i of unit g. Residuals sum to zero
/// within each unit, so the first part drops out of every cluster's score and
/// Var b₀ = c'V_β c under the same small-sample factor. A test checks both paths agree.
fn absorbed(
    y: &[f64],
    cols: &[Vec<f64>],
    codes: Vec<u32>,
    n_units: usize,
    se: SeType,
    conf_level: f64,
) -> StatsResult<Segments> {
    let n = y.len();
    if se != SeType::Cr1 {
        return Err(StatsError::Invalid(format!(
            "{} standard errors with {n_units} units on {n} rows need a regression with \
             {n_units} unit columns, which is too large; use CR1 (--se cr1; with this many units CR1 \
             and CR2 differ little)",
            se.name()
        )));
    }
    let cl = Clusters::from_ranked_codes(codes, n_units);
    let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    let fit = fe::feols(y, &x, &[&cl]).map_err(|e| match e {
        StatsError::Collinear { index } => collinear(index + 1, cols.len() - 3),
        e => e,
    })?;
    let cov = fit.cluster_vcov(&cl, FeSmallSample::All)?;
    let beta = fit.coefficients();
    // Unit means of y and of the regressors, then their means over the units.
    let p = cols.len();
    let mut rows = vec![0usize; n_units];
    let mut sums = vec![0.0; n_units * (p + 1)];
    for (i, &g) in cl.codes().iter().enumerate() {
        let g = g as usize;
        rows[g] += 1;
        let s = &mut sums[g * (p + 1)..(g + 1) * (p + 1)];
        s[0] += y[i];
        for (j, c) in cols.iter().enumerate() {
            s[j + 1] += c[i];
        }
    }
    let mut mean = vec![0.0; p + 1];
    for g in 0..n_units {
        let m = rows[g] as f64;
        for (a, s) in mean.iter_mut().zip(&sums[g * (p + 1)..(g + 1) * (p + 1)]) {
            *a += s / m;
        }
    }
    mean.iter_mut().for_each(|a| *a /= n_units as f64);
    let c = nalgebra::DVector::from_column_slice(&mean[1..]);
    let b0 = mean[0] - c.dot(&nalgebra::DVector::from_column_slice(beta));
    let var0 = (c.transpose() * &cov.matrix * &c)[(0, 0)];
    let wald = |est: f64, var: f64| {
        if above(var, 0.0) {
            Ok(Inference::wald(est, var.sqrt(), Some(cov.df), conf_level))
        } else {
            Err(StatsError::NoVariance)
        }
    };
    let coef = [b0, beta[0], beta[1], beta[2]];
    let inference = [
        wald(b0, var0)?,
        wald(beta[0], cov.matrix[(0, 0)])?,
        wald(beta[1], cov.matrix[(1, 1)])?,
        wald(beta[2], cov.matrix[(2, 2)])?,
    ];
    Ok(Segments {
        coef,
        inference,
        resid: fit.into_residuals(),
    })
}

/// The error for design column `index` (the intercept counted) being collinear.
fn collinear(index: usize, n_covariates: usize) -> StatsError {
    StatsError::Invalid(format!(
        "design column {index} ({}) is constant or a linear combination of the others",
        column_name(index, n_covariates)
    ))
}

/// Lengths agree, there are rows, the start and every time and outcome are finite.
fn check_input(input: &ItsInput, opt: &ItsOptions) -> StatsResult<()> {
    let n = input.y.len();
    if input.time.len() != n
        || input.units.is_some_and(|u| u.codes().len() != n)
        || input.covariates.iter().any(|c| c.len() != n)
    {
        return Err(StatsError::Invalid(
            "time, outcome, units and covariates must have the same length".into(),
        ));
    }
    if n == 0 {
        return Err(StatsError::TooFew { needed: 5, got: 0 });
    }
    if !opt.start.is_finite() {
        return Err(StatsError::Invalid(
            "the start must be a finite number".into(),
        ));
    }
    if let Some(i) = (0..n).find(|&i| !input.time[i].is_finite() || !input.y[i].is_finite()) {
        return Err(StatsError::Invalid(format!(
            "row {}: time and outcome must be finite numbers",
            i + 1
        )));
    }
    Ok(())
}

/// The rows in (unit, time) order; a unit (or the series) with one time twice is an
/// error.
fn unit_time_order(input: &ItsInput) -> StatsResult<Vec<usize>> {
    let n = input.y.len();
    let unit = |i: usize| input.units.map_or(0, |u| u.codes()[i]);
    let by_time = |a: &usize, b: &usize| input.time[*a].total_cmp(&input.time[*b]);
    let mut order: Vec<usize> = (0..n).collect();
    match input
        .units
        .and_then(|u| super::ols::group_rows(u.codes(), u.count()))
    {
        // Rows grouped by unit in row order, then each unit's rows sorted by time: the
        // stable sort by (unit, time) without comparing units.
        Some((start, rows)) => {
            for (o, r) in order.iter_mut().zip(rows) {
                *o = r as usize;
            }
            for w in start.windows(2) {
                order[w[0]..w[1]].sort_by(by_time);
            }
        }
        None => order.sort_by(|a, b| unit(*a).cmp(&unit(*b)).then(by_time(a, b))),
    }
    if let Some(w) = order
        .windows(2)
        .find(|w| unit(w[0]) == unit(w[1]) && input.time[w[0]] == input.time[w[1]])
    {
        let what = if input.units.is_some() {
            "a unit has"
        } else {
            "the series has"
        };
        return Err(StatsError::Invalid(format!(
            "{what} time {} twice (rows {} and {}): one row per period{} is needed; \
             aggregate the rows of a period first (e.g. the mean or the count per period)",
            input.time[w[0]],
            w[0].min(w[1]) + 1,
            w[0].max(w[1]) + 1,
            if input.units.is_some() {
                " and unit"
            } else {
                ""
            }
        )));
    }

    Ok(order)
}

/// The distinct periods in order, and how many lie before and from the start (at least
/// two on each side).
fn periods(input: &ItsInput, opt: &ItsOptions) -> StatsResult<(Vec<f64>, usize, usize)> {
    // The distinct times (by bit pattern, as sorting with total_cmp and removing
    // repeats would find them), without sorting the column.
    let mut seen = std::collections::HashSet::new();
    let mut times: Vec<f64> = input
        .time
        .iter()
        .filter(|t| seen.insert(t.to_bits()))
        .copied()
        .collect();
    drop(seen);
    times.sort_by(f64::total_cmp);
    let n_pre_periods = times.iter().filter(|&&t| t < opt.start).count();
    let n_post_periods = times.len() - n_pre_periods;
    let (first, last) = (times[0], times[times.len() - 1]);
    if n_pre_periods < 2 || n_post_periods < 2 {
        let (side, m) = if n_pre_periods < 2 {
            ("before", n_pre_periods)
        } else {
            ("from", n_post_periods)
        };
        return Err(StatsError::Invalid(format!(
            "the start {} leaves {m} period(s) {side} the start (the data run from {first} \
             to {last}); an interrupted time series needs at least two periods before and \
             two from the start (the start is the first period of the intervention)",
            opt.start
        )));
    }

    Ok((times, n_pre_periods, n_post_periods))
}

/// The standard errors' id, degrees-of-freedom rule and HAC lag: Newey-West for one
/// series (evenly spaced periods, lag below the rows), CR1 or CR2 by unit.
fn se_choice(
    opt: &ItsOptions,
    has_units: bool,
    n_units: usize,
    times: &[f64],
    n: usize,
) -> StatsResult<(&'static str, &'static str, Option<usize>)> {
    Ok(match opt.se {
        ItsSe::NeweyWest { lag } => {
            if n_units > 1 {
                return Err(StatsError::Invalid(
                    "Newey-West standard errors are for one series; with several units use \
                     cluster-robust standard errors by unit"
                        .into(),
                ));
            }
            check_spacing(times)?;
            let lag = lag.unwrap_or_else(|| default_hac_lag(times.len()));
            if lag >= n {
                return Err(StatsError::Invalid(format!(
                    "the Newey-West lag {lag} must be below the number of periods ({n})"
                )));
            }
            ("newey_west", "n - k", Some(lag))
        }
        ItsSe::Cluster(se @ (SeType::Cr1 | SeType::Cr2)) => {
            if !has_units {
                return Err(StatsError::Invalid(
                    "cluster-robust standard errors need the unit of each row".into(),
                ));
            }
            (se.name(), se.df_rule(), None)
        }
        ItsSe::Cluster(se) => {
            return Err(StatsError::Invalid(format!(
                "{} is not a cluster-robust type for an interrupted time series (CR1 or CR2)",
                se.name()
            )));
        }
    })
}

/// The series by period: the means over the rows of each period of the observed,
/// fitted and counterfactual values (`rows` are in (unit, time) order, `order` maps
/// them to the input), with the fitted segments of the trend. `times` are the distinct
/// periods, ascending; each period's sums run over its rows in row order.
fn series_by_period(
    input: &ItsInput,
    order: &[usize],
    coef: &[f64; 4],
    resid: &[f64],
    (y, tt, post, ttp): (&[f64], &[f64], &[f64], &[f64]),
    times: &[f64],
) -> Vec<ItsPoint> {
    let n = y.len();
    let segment = |r: usize| coef[0] + coef[1] * tt[r] + coef[2] * post[r] + coef[3] * ttp[r];
    let other = (0..n).map(|r| y[r] - resid[r] - segment(r)).sum::<f64>() / n as f64;
    let mut series: Vec<Option<ItsPoint>> = vec![None; times.len()];
    for r in 0..n {
        let fitted = y[r] - resid[r];
        let cf = fitted - coef[2] * post[r] - coef[3] * ttp[r];
        // The time as given (tt + start need not give it back exactly).
        let time = input.time[order[r]];
        let at = times
            .binary_search_by(|t| t.total_cmp(&time))
            .expect("every time is one of the periods");
        match &mut series[at] {
            Some(p) => {
                p.rows += 1;
                p.observed += y[r];
                p.fitted += fitted;
                p.counterfactual += cf;
            }
            slot => {
                *slot = Some(ItsPoint {
                    time,
                    rows: 1,
                    observed: y[r],
                    fitted,
                    counterfactual: cf,
                    trend: segment(r) + other,
                    trend_counterfactual: coef[0] + coef[1] * tt[r] + other,
                })
            }
        }
    }
    let mut series: Vec<ItsPoint> = series.into_iter().flatten().collect();
    for p in &mut series {
        let m = p.rows as f64;
        p.observed /= m;
        p.fitted /= m;
        p.counterfactual /= m;
    }
    series
}

/// What design column `index` (0-based, the intercept counted) is, for messages.
fn column_name(index: usize, n_covariates: usize) -> String {
    match index {
        0 => "the intercept".into(),
        1 => "time since the start".into(),
        2 => "the post-period indicator".into(),
        3 => "time since the start in the post period".into(),
        i if i < 4 + n_covariates => format!("covariate {}", i - 3),
        _ => "a unit effect".into(),
    }
}

/// The periods must be equally spaced (Newey-West counts lags in rows).
fn check_spacing(times: &[f64]) -> StatsResult<()> {
    let step = times[1] - times[0];
    for w in times.windows(2) {
        let d = w[1] - w[0];
        if (d - step).abs() > SPACING_TOL * step.abs().max(d.abs()) {
            return Err(StatsError::Invalid(format!(
                "the periods are not equally spaced: {} to {} is a step of {}, {} to {} one \
                 of {}; Newey-West standard errors count lags in periods, so every period \
                 must be present once (fill a missing period's outcome, or use a time \
                 column with equal steps)",
                times[0], times[1], step, w[0], w[1], d
            )));
        }
    }
    Ok(())
}

/// The Newey-West variance n/(n−k) · B S B (see the module documentation) for the
/// rows in time order. `design` holds the regressors without the intercept.
fn newey_west(fit: &ols::OlsFit, design: &[Vec<f64>], lag: usize) -> StatsResult<DMatrix<f64>> {
    let (n, k) = (fit.n(), fit.k());
    let resid = fit.residuals();
    // Scores sₜ = xₜeₜ, row t of an n×k matrix (intercept first).
    let scores = DMatrix::from_fn(n, k, |t, j| {
        let x = if j == 0 { 1.0 } else { design[j - 1][t] };
        x * resid[t]
    });
    let mut meat = scores.transpose() * &scores;
    for l in 1..=lag {
        let w = 1.0 - l as f64 / (lag as f64 + 1.0);
        let a = scores.rows(l, n - l);
        let b = scores.rows(0, n - l);
        let gamma = a.transpose() * b;
        meat += (&gamma + gamma.transpose()) * w;
    }
    // B = (X'X)⁻¹ from the fit's QR: the classical variance is σ̂²(X'X)⁻¹.
    let sigma2 = fit.rss() / (n - k) as f64;
    if !above(sigma2, 0.0) {
        return Err(StatsError::NoVariance);
    }
    let bread = fit.vcov(SeType::Classical)? / sigma2;
    Ok(&bread * meat * &bread * (n as f64 / (n - k) as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// An unbalanced panel: `units` units, up to 14 periods each (some missing), a
    /// covariate, unit levels and a level and slope change at period 7.
    fn panel(units: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<u32>, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (mut time, mut y, mut unit, mut z) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for g in 0..units {
            let level = rng.random::<f64>() * 3.0;
            for t in 0..14 {
                if rng.random::<f64>() < 0.15 {
                    continue;
                }
                let post = f64::from(u8::from(t >= 7));
                let zi = rng.random::<f64>() + 0.1 * g as f64;
                let tf = f64::from(t);
                time.push(tf);
                z.push(zi);
                unit.push(g as u32);
                y.push(
                    level
                        + 0.2 * tf
                        + 0.8 * post
                        + 0.1 * (tf - 7.0) * post
                        + 0.5 * zi
                        + rng.random::<f64>(),
                );
            }
        }
        (time, y, unit, z)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
    }

    /// The absorbed path (for panels too large for dummy columns) gives the dummy
    /// regression's coefficients, CR1 standard errors, intervals and series.
    #[test]
    fn absorbed_unit_effects_equal_the_dummy_regression() {
        for (units, seed) in [(3, 1), (12, 2), (40, 3)] {
            let (time, y, unit, z) = panel(units, seed);
            let cl = Clusters::from_labels(&unit);
            let covs: [&[f64]; 1] = [&z];
            let input = ItsInput {
                time: &time,
                y: &y,
                units: Some(&cl),
                covariates: &covs,
            };
            let opt = ItsOptions {
                start: 7.0,
                se: ItsSe::Cluster(SeType::Cr1),
                conf_level: 0.95,
            };
            let dense = its_within_budget(&input, &opt, usize::MAX).unwrap();
            let within = its_within_budget(&input, &opt, 0).unwrap();
            for (a, b) in [
                (dense.pre_level, within.pre_level),
                (dense.pre_slope, within.pre_slope),
                (dense.level_change, within.level_change),
                (dense.slope_change, within.slope_change),
            ] {
                for (u, v) in [
                    (a.estimate, b.estimate),
                    (a.std_error, b.std_error),
                    (a.p_value, b.p_value),
                    (a.ci_low, b.ci_low),
                    (a.ci_high, b.ci_high),
                ] {
                    assert!(close(u, v), "{units} units: {u} against {v}");
                }
                assert_eq!(a.df, b.df);
            }
            assert_eq!((dense.k, dense.n), (within.k, within.n));
            assert_eq!(dense.series.len(), within.series.len());
            for (p, q) in dense.series.iter().zip(&within.series) {
                assert_eq!((p.time, p.rows), (q.time, q.rows));
                for (u, v) in [
                    (p.fitted, q.fitted),
                    (p.counterfactual, q.counterfactual),
                    (p.trend, q.trend),
                    (p.trend_counterfactual, q.trend_counterfactual),
                ] {
                    assert!(close(u, v), "{units} units, series: {u} against {v}");
                }
            }
        }
    }

    /// Beyond the budget CR2 is refused with a message that names CR1, and a covariate
    /// constant within units is named as collinear on both paths.
    #[test]
    fn absorbed_path_errors_say_what_to_do() {
        let (time, y, unit, _) = panel(12, 5);
        let cl = Clusters::from_labels(&unit);
        let per_unit: Vec<f64> = unit.iter().map(|&g| f64::from(g % 4)).collect();
        let none: [&[f64]; 0] = [];
        let input = ItsInput {
            time: &time,
            y: &y,
            units: Some(&cl),
            covariates: &none,
        };
        let cr2 = ItsOptions {
            start: 7.0,
            se: ItsSe::Cluster(SeType::Cr2),
            conf_level: 0.95,
        };
        let e = its_within_budget(&input, &cr2, 0).unwrap_err().to_string();
        assert!(e.contains("use CR1"), "{e}");
        assert!(!e.contains("  "), "one space between words: {e}");
        assert!(its_within_budget(&input, &cr2, usize::MAX).is_ok());
        let covs: [&[f64]; 1] = [&per_unit];
        let input = ItsInput {
            covariates: &covs,
            ..input
        };
        let cr1 = ItsOptions {
            se: ItsSe::Cluster(SeType::Cr1),
            ..cr2
        };
        for budget in [0, usize::MAX] {
            let e = its_within_budget(&input, &cr1, budget)
                .unwrap_err()
                .to_string();
            assert!(e.contains("linear combination"), "{budget}: {e}");
        }
    }
}
