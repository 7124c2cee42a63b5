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
//!
//! Intervals are Wald intervals estimate ± q·SE with q from t(df).

use nalgebra::DMatrix;
use serde::Serialize;

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
    check_input(input, opt)?;
    let n = input.y.len();
    let unit = |i: usize| input.units.map_or(0, |u| u.codes()[i]);
    let n_units = input.units.map_or(1, Clusters::count);
    let order = unit_time_order(input)?;
    let (times, n_pre_periods, n_post_periods) = periods(input, opt)?;
    let (se_type, df_rule, lag) = se_choice(opt, input.units.is_some(), n_units, &times, n)?;

    // The design, in (unit, time) order: tt, post, tt·post, covariates, unit effects
    // in sum-to-zero coding (unit g < G−1: 1 in unit g, −1 in the last unit).
    let y: Vec<f64> = order.iter().map(|&i| input.y[i]).collect();
    let tt: Vec<f64> = order.iter().map(|&i| input.time[i] - opt.start).collect();
    let post: Vec<f64> = order
        .iter()
        .map(|&i| f64::from(u8::from(input.time[i] >= opt.start)))
        .collect();
    let ttp: Vec<f64> = tt.iter().zip(&post).map(|(a, b)| a * b).collect();
    let mut cols = vec![tt.clone(), post.clone(), ttp.clone()];
    for c in input.covariates {
        cols.push(order.iter().map(|&i| c[i]).collect());
    }
    for g in 0..n_units.saturating_sub(1) {
        let last = (n_units - 1) as u32;
        cols.push(
            order
                .iter()
                .map(|&i| match unit(i) {
                    u if u == g as u32 => 1.0,
                    u if u == last => -1.0,
                    _ => 0.0,
                })
                .collect(),
        );
    }
    let design = cols.clone();
    let fit = ols::fit_owned(&y, cols, true).map_err(|e| match e {
        StatsError::Collinear { index } => StatsError::Invalid(format!(
            "design column {index} ({}) is constant or a linear combination of the others",
            column_name(index, input.covariates.len())
        )),
        e => e,
    })?;
    let k = fit.k();
    if n <= k {
        return Err(StatsError::TooFew {
            needed: k + 1,
            got: n,
        });
    }
    let coef = fit.coefficients().to_vec();

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
            let codes: Vec<u32> = order.iter().map(|&i| unit(i)).collect();
            let cl = Clusters::from_ranked_codes(codes, n_units);
            (0..4)
                .map(|j| {
                    fit.coef_inference(j, se, Some(&cl), opt.conf_level)
                        .map(|c| c.inference)
                })
                .collect::<StatsResult<_>>()?
        }
    };

    let series = series_by_period(
        input,
        &order,
        &coef,
        &fit,
        (&y, &tt, &post, &ttp),
        times.len(),
    );
    let n_post_rows = post.iter().filter(|&&p| p == 1.0).count();
    Ok(ItsFit {
        pre_level: inference[0],
        pre_slope: inference[1],
        level_change: inference[2],
        slope_change: inference[3],
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
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        unit(a)
            .cmp(&unit(b))
            .then(input.time[a].total_cmp(&input.time[b]))
    });
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
    let mut times: Vec<f64> = input.time.to_vec();
    times.sort_by(f64::total_cmp);
    times.dedup();
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
/// them to the input), with the fitted segments of the trend.
fn series_by_period(
    input: &ItsInput,
    order: &[usize],
    coef: &[f64],
    fit: &ols::OlsFit,
    (y, tt, post, ttp): (&[f64], &[f64], &[f64], &[f64]),
    n_periods: usize,
) -> Vec<ItsPoint> {
    let n = y.len();
    let resid = fit.residuals();
    let segment = |r: usize| coef[0] + coef[1] * tt[r] + coef[2] * post[r] + coef[3] * ttp[r];
    let other = (0..n).map(|r| y[r] - resid[r] - segment(r)).sum::<f64>() / n as f64;
    let mut by_time: Vec<usize> = (0..n).collect();
    by_time.sort_by(|&a, &b| input.time[order[a]].total_cmp(&input.time[order[b]]));
    let mut series: Vec<ItsPoint> = Vec::with_capacity(n_periods);
    for &r in &by_time {
        let fitted = y[r] - resid[r];
        let cf = fitted - coef[2] * post[r] - coef[3] * ttp[r];
        // The time as given (tt + start need not give it back exactly).
        let time = input.time[order[r]];
        match series.last_mut() {
            Some(p) if p.time == time => {
                p.rows += 1;
                p.observed += y[r];
                p.fitted += fitted;
                p.counterfactual += cf;
            }
            _ => series.push(ItsPoint {
                time,
                rows: 1,
                observed: y[r],
                fitted,
                counterfactual: cf,
                trend: segment(r) + other,
                trend_counterfactual: coef[0] + coef[1] * tt[r] + other,
            }),
        }
    }
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
