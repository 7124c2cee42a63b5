//! The Cox proportional-hazards model with Efron ties, model-based and robust
//! (sandwich, optionally clustered) standard errors.
//!
//! Partial likelihood (Cox 1972) with Efron's (1977) approximation for tied event
//! times: at a time with the d events D among the risk set R (everyone with time ≥ t
//! in the stratum), ℓ += Σ_{i∈D} ηᵢ − Σ_{l=0}^{d−1} log(Σ_R wⱼ − (l/d)Σ_D wⱼ), with
//! ηᵢ = xᵢ'β and wᵢ = exp(ηᵢ). Score and information follow by differentiation; with
//! strata each stratum has its own risk sets (R `strata()`).
//!
//! Fit: Newton-Raphson from β = 0, each step solving I·δ = U with a Cholesky
//! factorisation of the information (nalgebra), halving a step that lowers the
//! likelihood (unless the step is below 1e-6·(1 + |β|), where the likelihood's
//! rounding noise exceeds its change), iterated to full convergence (a step below
//! 1e-10·(1 + |β|)). Covariates are centred first, which changes nothing in the
//! results but keeps exp(η) in range.
//! A likelihood that keeps increasing as a coefficient grows without bound (e.g. no
//! events in one arm: "monotone likelihood") is reported as an error rather than
//! returning a huge coefficient as R does with a warning. It is recognised by the
//! information on a coefficient falling below 1e-10 of its value at β = 0, which a
//! finite estimate does not reach (it would need hazard ratios of order 1e10).
//!
//! Variances: model-based I⁻¹ at β̂ (R `coxph()$var`). Robust (Lin & Wei 1989):
//! I⁻¹ (Σ_g r_g r_g') I⁻¹ with r_g the sum over cluster g of the subjects' score
//! residuals rᵢ = Σ_t Σ_l [δᵢ(t)/d − wᵢ cᵢₗ/s₀ₗ](xᵢ − x̄ₗ), cᵢₗ = 1 − l/d for a subject
//! with an event at t and 1 otherwise (Efron-weighted, as R `residuals(type =
//! "score")`); no small-sample factor, as R `coxph(robust = TRUE)` / `cluster()`.
//! Each subject its own cluster gives R's `robust = TRUE` without `cluster()`.
//!
//! Inference: Wald z with the normal distribution; hazard ratio exp(β) with the
//! interval exp(β ± z·SE).
//!
//! Scale: one sort by time ([`SortedSubjects`], a radix sort), a linear split by stratum
//! and O(n·k²) work per Newton iteration. The log-likelihood's Efron terms are summed as
//! logarithms of products (one logarithm per few dozen tied events) and its Σηᵢ once per
//! event time; score and information, and so the estimates, are computed exactly as
//! before, term by term. Memory: the times and events are read in place from the
//! sorted subjects; the covariates are stored once, centred (8·k bytes a subject), or
//! for a single 0/1 covariate (an arm) as one byte a subject
//! ([`cox_ph_sorted_indicator`] takes it as codes), with the same values to the last
//! bit; with strata, 4 more bytes a subject hold the order.

use nalgebra::{Cholesky, DMatrix, DVector};
use serde::Serialize;

use super::super::Inference;
use super::super::describe::{masked, opaque_mask};
use super::super::ols::Clusters;
use super::{
    Codes, SortedSubjects, StatsError, StatsResult, check_len, check_level, check_nonempty,
    check_subjects,
};

/// The range a running product of Efron denominators is kept in before its logarithm
/// is taken ([`Sorted::derivatives`]); far from overflow and underflow.
const PRODUCT_MIN: f64 = 1e-250;
const PRODUCT_MAX: f64 = 1e250;

/// Newton iterations before the fit is declared not to converge.
const MAX_ITER: usize = 60;

/// One covariate's coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CoxCoef {
    /// Index of the covariate in the `covariates` argument.
    pub term: usize,
    /// log hazard ratio β.
    pub coef: f64,
    /// Model-based inference on the hazard-ratio scale: `estimate` = exp(β), interval
    /// exp(β ± z·SE), `std_error` = SE of β, Wald z and p.
    pub model: Inference,
    /// The same with the robust (sandwich) SE, when clusters were given.
    pub robust: Option<Inference>,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoxFit {
    pub n: usize,
    pub events: usize,
    /// Newton iterations used.
    pub iterations: usize,
    /// Log partial likelihood at β = 0 and at β̂.
    pub loglik_null: f64,
    pub loglik: f64,
    pub coefficients: Vec<CoxCoef>,
    /// Model-based variance-covariance matrix of β̂ (k×k, row by row).
    pub vcov: Vec<Vec<f64>>,
    /// Robust variance-covariance matrix of β̂, when clusters were given.
    pub robust_vcov: Option<Vec<Vec<f64>>>,
    /// Number of clusters of the robust variance.
    pub clusters: Option<usize>,
}

/// Fit a Cox model of (`time`, `event`) on `covariates` (each one value per subject;
/// no intercept), stratified by `strata` when given, with robust standard errors
/// clustered by `clusters` when given (pass each subject as its own cluster for the
/// plain robust variance).
///
/// Errors: [`StatsError::Invalid`] for inputs of different lengths, a missing or
/// negative time, a non-finite covariate, no events, or no convergence (a coefficient
/// that may be infinite); [`StatsError::Collinear`] with the 0-based covariate index
/// for a covariate that is constant or a linear combination of earlier ones;
/// [`StatsError::NoVariance`] when the information matrix is singular otherwise (e.g. a
/// covariate constant within every stratum); [`StatsError::TooFewClusters`].
pub fn cox_ph(
    time: &[f64],
    event: &[bool],
    covariates: &[&[f64]],
    strata: Option<&[u32]>,
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<CoxFit> {
    let mut others: Vec<(&str, usize)> = covariates
        .iter()
        .map(|c| ("covariate values", c.len()))
        .collect();
    if let Some(s) = strata {
        others.push(("stratum codes", s.len()));
    }
    if let Some(c) = clusters {
        others.push(("cluster codes", c.codes().len()));
    }
    check_subjects(time, event, &others)?;
    let sorted = SortedSubjects::sort(time, event, None);
    check_finite(covariates)?;
    check_fit(&sorted, covariates.len(), clusters, conf_level)?;
    fit(
        &Sorted::new(&sorted, covariates, strata),
        clusters,
        conf_level,
    )
}

/// [`cox_ph`] on subjects sorted once ([`SortedSubjects`]); covariates, strata and
/// clusters have one value per subject in the caller's order. The same fit, up to the
/// rounding of sums over subjects with tied times (added in another order).
pub fn cox_ph_sorted(
    sorted: &SortedSubjects,
    covariates: &[&[f64]],
    strata: Option<&[u32]>,
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<CoxFit> {
    for c in covariates {
        check_len(sorted, "covariate values", c.len())?;
    }
    check_strata_clusters(sorted, strata, clusters)?;
    check_finite(covariates)?;
    check_fit(sorted, covariates.len(), clusters, conf_level)?;
    fit(
        &Sorted::new(sorted, covariates, strata),
        clusters,
        conf_level,
    )
}

/// [`cox_ph_sorted`] with one covariate, a 0/1 indicator (a treatment arm) given as one
/// code per subject. The same fit to the last bit as with the indicator as a column of
/// 0.0 and 1.0, but without that copy (8 bytes a subject) or the model's own copies of
/// the covariate and the times (the subjects are read in place and the indicator kept
/// as one byte a subject). Fails as [`cox_ph_sorted`] does, and with
/// [`StatsError::Invalid`] for a code other than 0 or 1.
pub fn cox_ph_sorted_indicator<'a>(
    sorted: &SortedSubjects,
    indicator: impl Into<Codes<'a>>,
    strata: Option<&[u32]>,
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<CoxFit> {
    let indicator = indicator.into();
    // One byte a subject: 0, 1, or 2 for any other code.
    let level = sorted.sorted_codes_as(indicator, "indicator values", |v| v.min(2) as u8)?;
    check_strata_clusters(sorted, strata, clusters)?;
    check_fit(sorted, 1, clusters, conf_level)?;
    // The first subject (in the caller's order) with a code other than 0 or 1, and
    // its sorted position.
    if let Some((i, p)) = level
        .iter()
        .zip(&sorted.subject)
        .enumerate()
        .filter(|&(_, (&v, _))| v > 1)
        .map(|(p, (_, &i))| (i, p))
        .min()
    {
        let codes = sorted.sorted_codes(indicator, "indicator values")?;
        return Err(StatsError::Invalid(format!(
            "indicator of subject {} (row {i}, 0-based) is {}: an indicator is 0 or 1",
            i + 1,
            codes[p]
        )));
    }
    fit(
        &Sorted::indicator(sorted, level, strata),
        clusters,
        conf_level,
    )
}

fn check_strata_clusters(
    sorted: &SortedSubjects,
    strata: Option<&[u32]>,
    clusters: Option<&Clusters>,
) -> StatsResult<()> {
    if let Some(s) = strata {
        check_len(sorted, "stratum codes", s.len())?;
    }
    if let Some(c) = clusters {
        check_len(sorted, "cluster codes", c.codes().len())?;
    }
    check_nonempty(sorted)
}

/// What every fit needs beyond the shapes: a confidence level, a covariate, two
/// clusters when clustered, and an event.
fn check_fit(
    sorted: &SortedSubjects,
    k: usize,
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<()> {
    check_level(conf_level)?;
    if k == 0 {
        return Err(StatsError::Invalid(
            "the Cox model needs at least one covariate".into(),
        ));
    }
    if let Some(c) = clusters
        && c.count() < 2
    {
        return Err(StatsError::TooFewClusters { got: c.count() });
    }
    if sorted.events() == 0 {
        return Err(StatsError::Invalid(
            "no events: the Cox model needs at least one event".into(),
        ));
    }
    Ok(())
}

fn check_finite(covariates: &[&[f64]]) -> StatsResult<()> {
    for (j, c) in covariates.iter().enumerate() {
        if let Some(i) = c.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::Invalid(format!(
                "covariate {j} of subject {} (row {i}, 0-based) is missing or not finite",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The fit on validated subjects.
fn fit(data: &Sorted, clusters: Option<&Clusters>, conf_level: f64) -> StatsResult<CoxFit> {
    let n = data.len();
    let k = data.k;
    let events = data.subjects.events();
    data.check_collinear()?;

    let beta = vec![0.0; k];
    let cur = data.derivatives(&beta);
    let loglik_null = cur.loglik;
    let info_null: Vec<f64> = (0..k).map(|j| cur.info[(j, j)]).collect();
    // No information at β = 0 (every risk set at an event has one value of the
    // covariate) can come out as rounding noise rather than an exact zero; against the
    // largest information the events could carry it is zero, and the coefficient is
    // not estimable (found by the arm-flip property test: one coding stopped at a huge
    // β, the other did not).
    for (j, &i0) in info_null.iter().enumerate() {
        let max_sq = (0..n)
            .map(|i| data.xi(i)[j] * data.xi(i)[j])
            .fold(0.0_f64, f64::max);
        if !super::super::above(i0, 1e-12 * events as f64 * max_sq) {
            return Err(StatsError::NoVariance);
        }
    }
    let (beta, cur, iterations) = newton(|b| data.derivatives(b), beta, cur, &info_null)?;
    let chol = Cholesky::new(cur.info.clone()).ok_or_else(|| not_converged(iterations))?;
    let vcov = chol.inverse();
    let robust_vcov = clusters.map(|cl| {
        let meat = data.cluster_meat(&beta, cl);
        &vcov * meat * &vcov
    });
    let coefficients = (0..k)
        .map(|j| {
            let se = vcov[(j, j)].sqrt();
            CoxCoef {
                term: j,
                coef: beta[j],
                model: Inference::log_ratio(beta[j], se, conf_level),
                robust: robust_vcov
                    .as_ref()
                    .map(|v| Inference::log_ratio(beta[j], v[(j, j)].sqrt(), conf_level)),
            }
        })
        .collect();
    let rows = |m: &DMatrix<f64>| {
        (0..k)
            .map(|a| (0..k).map(|b| m[(a, b)]).collect())
            .collect()
    };
    Ok(CoxFit {
        n,
        events,
        iterations,
        loglik_null,
        loglik: cur.loglik,
        coefficients,
        vcov: rows(&vcov),
        robust_vcov: robust_vcov.as_ref().map(rows),
        clusters: clusters.map(Clusters::count),
    })
}

/// Newton-Raphson from `beta` (with its derivatives `cur`) to the maximum of the
/// partial likelihood, halving a step while it lowers the log-likelihood (a step of at
/// least 1e-6·(1 + |β|): a smaller one is taken as it is). Returns the
/// estimate, its derivatives and the number of iterations; fails when a coefficient
/// runs off (its information vanishes against `info_null`, the information at 0).
fn newton(
    derivatives: impl Fn(&[f64]) -> Derivatives,
    mut beta: Vec<f64>,
    mut cur: Derivatives,
    info_null: &[f64],
) -> StatsResult<(Vec<f64>, Derivatives, usize)> {
    let k = beta.len();
    let mut iterations = 0;
    loop {
        if iterations == MAX_ITER {
            return Err(not_converged(iterations));
        }
        let chol = Cholesky::new(cur.info.clone()).ok_or_else(|| {
            // Singular at β = 0: the data carry no information on a coefficient.
            // Singular later: the information vanished as a coefficient ran off.
            if iterations == 0 {
                StatsError::NoVariance
            } else {
                not_converged(iterations)
            }
        })?;
        let step = chol.solve(&cur.score);
        iterations += 1;
        let mut next: Vec<f64> = beta.iter().zip(step.iter()).map(|(b, s)| b + s).collect();
        let mut trial = derivatives(&next);
        let mut halvings = 0;
        let small = |tol: f64| {
            step.iter()
                .zip(&beta)
                .all(|(s, b)| s.abs() <= tol * (1.0 + b.abs()))
        };
        // A step this small is inside the region where Newton's method converges
        // quadratically: the log-likelihood changes by about its square times the
        // information, far below the rounding noise of a sum over millions of risk
        // sets (at 10^8 subjects about 0.01 of 1.5·10^9, more than the 1e-11 allowed
        // below), so the comparison could only halve it on noise.
        let trusted = small(1e-6);
        while !(trial.loglik.is_finite()
            && (trusted || trial.loglik >= cur.loglik - 1e-11 * cur.loglik.abs()))
            && halvings < 40
        {
            for (nx, b) in next.iter_mut().zip(&beta) {
                *nx = (*nx + b) / 2.0;
            }
            trial = derivatives(&next);
            halvings += 1;
        }
        // A Newton step this small leaves an error of about its square; the second
        // rule stops at rounding noise in a badly scaled problem.
        let flat = (trial.loglik - cur.loglik).abs() <= 8.0 * f64::EPSILON * cur.loglik.abs();
        let converged = small(1e-10) || (iterations > 3 && flat && small(1e-6));
        beta = next;
        cur = trial;
        // Information on a coefficient that has all but vanished means the likelihood
        // is still rising as the coefficient runs off to ±∞ (the score is then only
        // rounding noise, and so would be any "converged" step).
        if (0..k).any(|j| !super::super::above(cur.info[(j, j)], 1e-10 * info_null[j])) {
            return Err(not_converged(iterations));
        }
        if converged {
            return Ok((beta, cur, iterations));
        }
    }
}

fn not_converged(iterations: usize) -> StatsError {
    StatsError::Invalid(format!(
        "the Cox model did not converge (after {iterations} iterations): a coefficient may be \
         infinite, e.g. when one arm has no events or all its events come first"
    ))
}

/// Log partial likelihood, score and information at one β.
struct Derivatives {
    loglik: f64,
    score: DVector<f64>,
    info: DMatrix<f64>,
}

/// The subjects in the order of the model's passes, by stratum and within each from
/// the latest time to the earliest, with their covariates centred. The times, events
/// and subject numbers are read in place from the [`SortedSubjects`].
struct Sorted<'s> {
    k: usize,
    subjects: &'s SortedSubjects,
    /// The sorted position of each subject in this order; `None` without strata, when
    /// the order is the sorted positions from the last to the first.
    positions: Option<Vec<u32>>,
    x: Covariates,
    /// [start, end) of each stratum in this order.
    segments: Vec<(usize, usize)>,
}

/// The centred covariates in the order of [`Sorted`].
enum Covariates {
    /// k values per subject, subject by subject.
    Dense(Vec<f64>),
    /// One covariate that takes the values 0 and 1 (an arm): each subject's value as
    /// 0 or 1, and the two centred values.
    Indicator { level: Vec<u8>, centred: [f64; 2] },
}

impl<'s> Sorted<'s> {
    fn new(sorted: &'s SortedSubjects, covariates: &[&[f64]], strata: Option<&[u32]>) -> Self {
        if let [c] = covariates
            && c.iter().all(|&v| v == 0.0 || v == 1.0)
        {
            // −0.0 is 0 here: its centred value, −0.0 − m, is that of +0.0.
            let mut data = Self::order(sorted, strata);
            let m = c.iter().sum::<f64>() / c.len() as f64;
            let level = (0..data.len())
                .map(|i| u8::from(c[data.row(i)] == 1.0))
                .collect();
            data.x = Covariates::Indicator {
                level,
                centred: [0.0 - m, 1.0 - m],
            };
            return data;
        }
        Self::dense(sorted, covariates, strata)
    }

    /// The covariates stored as they are, k values a subject.
    fn dense(sorted: &'s SortedSubjects, covariates: &[&[f64]], strata: Option<&[u32]>) -> Self {
        let mut data = Self::order(sorted, strata);
        let k = covariates.len();
        let means: Vec<f64> = covariates
            .iter()
            .map(|c| c.iter().sum::<f64>() / sorted.len() as f64)
            .collect();
        let mut x = Vec::with_capacity(data.len() * k);
        for i in 0..data.len() {
            let r = data.row(i);
            for (c, m) in covariates.iter().zip(&means) {
                x.push(c[r] - m);
            }
        }
        data.k = k;
        data.x = Covariates::Dense(x);
        data
    }

    /// One 0/1 indicator given in sorted order (checked by the caller).
    fn indicator(sorted: &'s SortedSubjects, mut codes: Vec<u8>, strata: Option<&[u32]>) -> Self {
        let mut data = Self::order(sorted, strata);
        // Σ of the 0.0/1.0 values in any order: a whole number, exact in f64.
        let ones = codes.iter().filter(|&&v| v == 1).count();
        let m = ones as f64 / codes.len() as f64;
        // Into this order: without strata the sorted order reversed, in place.
        let level = match &data.positions {
            None => {
                codes.reverse();
                codes
            }
            Some(_) => (0..data.len()).map(|i| codes[data.position(i)]).collect(),
        };
        data.x = Covariates::Indicator {
            level,
            centred: [0.0 - m, 1.0 - m],
        };
        data
    }

    /// The order and strata, without covariates yet (one).
    fn order(sorted: &'s SortedSubjects, strata: Option<&[u32]>) -> Self {
        let n = sorted.len();
        let (positions, segments) = if let Some(strata) = strata {
            let by_stratum = sorted.grouped(sorted.in_sorted_order(strata));
            let mut segments = Vec::with_capacity(by_stratum.levels.len());
            let mut positions: Vec<u32> = Vec::with_capacity(n);
            for g in 0..by_stratum.levels.len() {
                let start = positions.len();
                positions.extend(by_stratum.group(g).iter().rev().copied());
                segments.push((start, positions.len()));
            }
            (Some(positions), segments)
        } else {
            (None, vec![(0, n)])
        };
        Self {
            k: 1,
            subjects: sorted,
            positions,
            x: Covariates::Dense(Vec::new()),
            segments,
        }
    }

    fn len(&self) -> usize {
        self.subjects.len()
    }

    /// The sorted position of the subject at `i` in this order.
    #[inline]
    fn position(&self, i: usize) -> usize {
        match &self.positions {
            Some(p) => p[i] as usize,
            None => self.subjects.len() - 1 - i,
        }
    }

    #[inline]
    fn time(&self, i: usize) -> f64 {
        self.subjects.time(self.position(i))
    }

    #[inline]
    fn event(&self, i: usize) -> bool {
        self.subjects.event(self.position(i))
    }

    /// The caller's index of the subject at `i`.
    #[inline]
    fn row(&self, i: usize) -> usize {
        self.subjects.subject(self.position(i)) as usize
    }

    #[inline]
    fn xi(&self, i: usize) -> &[f64] {
        match &self.x {
            Covariates::Dense(x) => &x[i * self.k..(i + 1) * self.k],
            Covariates::Indicator { level, centred } => {
                std::slice::from_ref(&centred[level[i] as usize])
            }
        }
    }

    /// A covariate that is constant or a linear combination of earlier ones, from a QR
    /// decomposition of the centred covariates (the same 1e-9 rule as OLS).
    fn check_collinear(&self) -> StatsResult<()> {
        if self.k == 1 {
            // One column: R's only entry is the column's norm, so the rule below fails
            // exactly when the centred covariate is zero (the covariate is constant).
            let norm = (0..self.len())
                .map(|i| self.xi(i)[0] * self.xi(i)[0])
                .sum::<f64>()
                .sqrt();
            if !super::super::above(norm, 1e-9 * norm) {
                return Err(StatsError::Collinear { index: 0 });
            }
            return Ok(());
        }
        let m = DMatrix::from_fn(self.len(), self.k, |i, j| self.xi(i)[j]);
        let norms: Vec<f64> = (0..self.k).map(|j| m.column(j).norm()).collect();
        let r = m.qr().r();
        for j in 0..self.k {
            if !super::super::above(r[(j, j)].abs(), 1e-9 * norms[j]) {
                return Err(StatsError::Collinear { index: j });
            }
        }
        Ok(())
    }

    /// One pass over the risk sets, from the latest time to the earliest.
    fn derivatives(&self, beta: &[f64]) -> Derivatives {
        match beta {
            [b] => self.derivatives_one(*b),
            _ => self.derivatives_any(beta),
        }
    }

    /// [`Sorted::derivatives`] for any number of covariates.
    fn derivatives_any(&self, beta: &[f64]) -> Derivatives {
        let k = self.k;
        // The log-likelihood adds up millions of terms of similar size: compensated
        // summation keeps its rounding noise far below the changes Newton looks at.
        let mut loglik = Neumaier::default();
        let mut score = vec![0.0; k];
        let mut info = vec![0.0; k * k];
        let (mut s1, mut s2) = (vec![0.0; k], vec![0.0; k * k]);
        let (mut d1, mut d2) = (vec![0.0; k], vec![0.0; k * k]);
        let mut a1 = vec![0.0; k];
        let mut memo = ExpMemo::default();
        for &(lo, hi) in &self.segments {
            let mut s0 = 0.0;
            s1.fill(0.0);
            s2.fill(0.0);
            let mut i = lo;
            while i < hi {
                let t = self.time(i);
                let mut d0 = 0.0;
                d1.fill(0.0);
                d2.fill(0.0);
                // Σ η over this time's events, added to the log-likelihood once.
                let mut eta_events = 0.0;
                let mut d = 0usize;
                while i < hi && self.time(i) == t {
                    let xi = self.xi(i);
                    let eta: f64 = xi.iter().zip(beta).map(|(a, b)| a * b).sum();
                    let w = memo.exp(eta);
                    s0 += w;
                    add_outer(&mut s1, &mut s2, xi, w);
                    if self.event(i) {
                        d += 1;
                        d0 += w;
                        add_outer(&mut d1, &mut d2, xi, w);
                        eta_events += eta;
                        for (u, x) in score.iter_mut().zip(xi) {
                            *u += x;
                        }
                    }
                    i += 1;
                }
                // Σₗ log a0ₗ as the logarithm of their product, taken in pieces that stay
                // well inside the floating-point range: one logarithm per piece rather
                // than per event (a large share of the fit's time with many events).
                let mut product = 1.0;
                for l in 0..d {
                    let f = l as f64 / d as f64;
                    let a0 = s0 - f * d0;
                    for a in 0..k {
                        a1[a] = s1[a] - f * d1[a];
                    }
                    let next = product * a0;
                    if (PRODUCT_MIN..=PRODUCT_MAX).contains(&next) {
                        product = next;
                    } else {
                        loglik.add(-product.ln());
                        product = a0;
                    }
                    for a in 0..k {
                        score[a] -= a1[a] / a0;
                        for b in 0..k {
                            let s2ab = s2[a * k + b] - f * d2[a * k + b];
                            info[a * k + b] += s2ab / a0 - a1[a] * a1[b] / (a0 * a0);
                        }
                    }
                }
                if d > 0 {
                    loglik.add(eta_events);
                    loglik.add(-product.ln());
                }
            }
        }
        Derivatives {
            loglik: loglik.total(),
            score: DVector::from_vec(score),
            info: DMatrix::from_row_slice(k, k, &info),
        }
    }

    /// [`Sorted::derivatives`] for one covariate (an arm indicator, say), with every
    /// sum held in a register: the same operations in the same order, so the same
    /// values to the last bit, several times faster on millions of subjects.
    fn derivatives_one(&self, beta: f64) -> Derivatives {
        let n = self.len();
        match &self.positions {
            None => self.one_in_order(beta, |i| n - 1 - i),
            Some(p) => self.one_in_order(beta, |i| p[i] as usize),
        }
    }

    /// [`Sorted::derivatives_one`] with the sorted position of each subject given by
    /// `position` (compiled once per way of finding it, and per storage of `x`).
    #[inline(always)]
    fn one_in_order(&self, beta: f64, position: impl Fn(usize) -> usize) -> Derivatives {
        match &self.x {
            Covariates::Dense(x) => {
                let mut memo = ExpMemo::default();
                self.one_pass(&position, |i| Terms::of(x[i], beta, &mut memo))
            }
            Covariates::Indicator { level, centred } => {
                // The two subjects' terms, computed as every subject's would be.
                let mut memo = ExpMemo::default();
                let terms = centred.map(|x| Terms::of(x, beta, &mut memo));
                self.one_pass(&position, |i| terms[level[i] as usize])
            }
        }
    }

    /// One pass with the terms of the subject at `i` from `terms`: every sum adds the
    /// same values in the same order as a pass that branches on the event, but an
    /// event-free subject adds −0.0 to the event sums
    /// ([`crate::stats::describe::masked`]), which leaves
    /// them as they are, so that the pass does not branch on the events (which come in
    /// random order).
    #[inline(always)]
    fn one_pass(
        &self,
        position: impl Fn(usize) -> usize,
        mut terms: impl FnMut(usize) -> Terms,
    ) -> Derivatives {
        let time = |i: usize| self.subjects.time(position(i));
        let event = |i: usize| self.subjects.event(position(i));
        let mut loglik = Neumaier::default();
        let (mut score, mut info) = (0.0, 0.0);
        for &(lo, hi) in &self.segments {
            let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
            let mut i = lo;
            while i < hi {
                let t = time(i);
                let (mut d0, mut d1, mut d2) = (0.0, 0.0, 0.0);
                let mut eta_events = 0.0;
                let mut d = 0usize;
                while i < hi && time(i) == t {
                    let Terms { x, eta, w, wx, wxx } = terms(i);
                    s0 += w;
                    s1 += wx;
                    s2 += wxx;
                    let e = event(i);
                    let mask = opaque_mask(e);
                    d += usize::from(e);
                    d0 += masked(mask, w);
                    d1 += masked(mask, wx);
                    d2 += masked(mask, wxx);
                    eta_events += masked(mask, eta);
                    score += masked(mask, x);
                    i += 1;
                }
                let mut product = 1.0;
                for l in 0..d {
                    let f = l as f64 / d as f64;
                    let a0 = s0 - f * d0;
                    let a1 = s1 - f * d1;
                    let next = product * a0;
                    if (PRODUCT_MIN..=PRODUCT_MAX).contains(&next) {
                        product = next;
                    } else {
                        loglik.add(-product.ln());
                        product = a0;
                    }
                    score -= a1 / a0;
                    let s2ab = s2 - f * d2;
                    info += s2ab / a0 - a1 * a1 / (a0 * a0);
                }
                if d > 0 {
                    loglik.add(eta_events);
                    loglik.add(-product.ln());
                }
            }
        }
        Derivatives {
            loglik: loglik.total(),
            score: DVector::from_vec(vec![score]),
            info: DMatrix::from_row_slice(1, 1, &[info]),
        }
    }

    /// Σ_g r_g r_g' over clusters, r_g the summed score residuals of cluster g at β.
    ///
    /// Two linear passes: from the latest time to the earliest, the risk-set sums give
    /// per event time a = Σₗ 1/s₀ₗ, b = Σₗ x̄ₗ/s₀ₗ, m = Σₗ x̄ₗ/d, a' = Σₗ (l/d)/s₀ₗ and
    /// b' = Σₗ (l/d)x̄ₗ/s₀ₗ; then from the earliest time, with A and B the running sums
    /// of a and b over event times ≤ tᵢ, rᵢ = −wᵢ(xᵢA − B), plus, for a subject with
    /// an event at tᵢ, (xᵢ − m) + wᵢ(xᵢa' − b') (the Efron weights of its own time).
    fn cluster_meat(&self, beta: &[f64], clusters: &Clusters) -> DMatrix<f64> {
        let k = self.k;
        let stride = 2 + 3 * k;
        let w: Vec<f64> = (0..self.len())
            .map(|i| {
                self.xi(i)
                    .iter()
                    .zip(beta)
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    .exp()
            })
            .collect();
        let codes = clusters.codes();
        let mut sums = vec![0.0; clusters.count() * k];
        let (mut s1, mut d1, mut xbar) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
        let mut stats: Vec<f64> = Vec::new();
        let (mut big_b, mut r) = (vec![0.0; k], vec![0.0; k]);
        for &(lo, hi) in &self.segments {
            // Pass 1 (decreasing time): per event time [a, a', b, m, b'].
            stats.clear();
            let mut s0 = 0.0;
            s1.fill(0.0);
            let mut i = lo;
            while i < hi {
                let t = self.time(i);
                let (mut d0, mut d) = (0.0, 0usize);
                d1.fill(0.0);
                while i < hi && self.time(i) == t {
                    let xi = self.xi(i);
                    s0 += w[i];
                    for a in 0..k {
                        s1[a] += w[i] * xi[a];
                    }
                    if self.event(i) {
                        d += 1;
                        d0 += w[i];
                        for a in 0..k {
                            d1[a] += w[i] * xi[a];
                        }
                    }
                    i += 1;
                }
                if d == 0 {
                    continue;
                }
                let base = stats.len();
                stats.resize(base + stride, 0.0);
                let st = &mut stats[base..];
                for l in 0..d {
                    let f = l as f64 / d as f64;
                    let a0 = s0 - f * d0;
                    for a in 0..k {
                        xbar[a] = (s1[a] - f * d1[a]) / a0;
                    }
                    st[0] += 1.0 / a0;
                    st[1] += f / a0;
                    for a in 0..k {
                        st[2 + a] += xbar[a] / a0;
                        st[2 + k + a] += xbar[a] / d as f64;
                        st[2 + 2 * k + a] += f * xbar[a] / a0;
                    }
                }
            }
            // Pass 2 (increasing time): residuals, summed into their clusters.
            let mut big_a = 0.0;
            big_b.fill(0.0);
            let mut next_stat = stats.len();
            let mut i = hi;
            while i > lo {
                let t = self.time(i - 1);
                let mut first = i - 1;
                while first > lo && self.time(first - 1) == t {
                    first -= 1;
                }
                let has_event = (first..i).any(|p| self.event(p));
                let st = if has_event {
                    next_stat -= stride;
                    let st = &stats[next_stat..next_stat + stride];
                    big_a += st[0];
                    for a in 0..k {
                        big_b[a] += st[2 + a];
                    }
                    Some(st)
                } else {
                    None
                };
                for p in first..i {
                    let xi = self.xi(p);
                    for a in 0..k {
                        r[a] = -w[p] * (xi[a] * big_a - big_b[a]);
                    }
                    if self.event(p) {
                        let st = st.expect("an event time has its statistics");
                        for a in 0..k {
                            r[a] += (xi[a] - st[2 + k + a])
                                + w[p] * (xi[a] * st[1] - st[2 + 2 * k + a]);
                        }
                    }
                    let g = codes[self.row(p)] as usize;
                    for a in 0..k {
                        sums[g * k + a] += r[a];
                    }
                }
                i = first;
            }
        }
        let mut meat = DMatrix::zeros(k, k);
        for g in sums.chunks_exact(k) {
            for a in 0..k {
                for b in 0..k {
                    meat[(a, b)] += g[a] * g[b];
                }
            }
        }
        meat
    }
}

/// exp(η) of the two latest distinct η: with few distinct covariate rows (an arm
/// indicator) nearly every subject reuses one, and the values are those of `exp`.
struct ExpMemo([(f64, f64); 2]);

impl Default for ExpMemo {
    fn default() -> Self {
        Self([(f64::NAN, f64::NAN); 2])
    }
}

impl ExpMemo {
    #[inline]
    fn exp(&mut self, eta: f64) -> f64 {
        let m = &mut self.0;
        if eta.to_bits() == m[0].0.to_bits() {
            m[0].1
        } else if eta.to_bits() == m[1].0.to_bits() {
            m[1].1
        } else {
            let w = eta.exp();
            *m = [(eta, w), m[0]];
            w
        }
    }
}

/// What one subject with covariate x adds at β: η = xβ, w = exp(η), w·x and w·x·x.
#[derive(Clone, Copy)]
struct Terms {
    x: f64,
    eta: f64,
    w: f64,
    wx: f64,
    wxx: f64,
}

impl Terms {
    #[inline(always)]
    fn of(x: f64, beta: f64, memo: &mut ExpMemo) -> Self {
        let eta = x * beta;
        let w = memo.exp(eta);
        let wx = w * x;
        Self {
            x,
            eta,
            w,
            wx,
            wxx: wx * x,
        }
    }
}

/// s1 += w·x and s2 += w·xx'.
fn add_outer(s1: &mut [f64], s2: &mut [f64], x: &[f64], w: f64) {
    let k = x.len();
    for a in 0..k {
        let wa = w * x[a];
        s1[a] += wa;
        for b in 0..k {
            s2[a * k + b] += wa * x[b];
        }
    }
}

/// Neumaier's compensated sum (Neumaier 1974; Kahan's, robust to terms larger than the
/// running sum).
#[derive(Default)]
struct Neumaier {
    sum: f64,
    carry: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.carry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log-likelihood of size 1.5·10^9 that is only accurate to ±0.02, as a sum over
    /// 10^8 risk sets is, and an information 1e-8 off, so that Newton's first step
    /// lands 1.5e-9 short of the maximum: the second step, of that size, gains 2e-11
    /// but the noise has it look 0.04 lower, more than the 1e-11 (0.015) allowed. It is
    /// taken, not halved (halving it on the noise took a fit on 10^8 subjects to 6
    /// iterations and 4 halvings; here it would halve 40 times).
    #[test]
    fn small_steps_are_not_halved_on_rounding_noise() {
        let (top, info, peak) = (-1.5e9, 2.0e7, -0.148);
        let calls = std::cell::Cell::new(0u32);
        let derivatives = |b: &[f64]| {
            calls.set(calls.get() + 1);
            let d = b[0] - peak;
            let noise = if calls.get() <= 2 { 0.02 } else { -0.02 };
            Derivatives {
                loglik: top - 0.5 * info * d * d + noise,
                score: DVector::from_vec(vec![-info * d]),
                info: DMatrix::from_row_slice(1, 1, &[info * (1.0 + 1e-8)]),
            }
        };
        let start = derivatives(&[0.0]);
        let (beta, _, iterations) = newton(derivatives, vec![0.0], start, &[info]).unwrap();
        assert!((beta[0] - peak).abs() < 1e-15, "{}", beta[0]);
        assert_eq!(iterations, 3);
        assert_eq!(calls.get(), 4, "derivatives evaluated, halvings included");
    }

    /// `n` subjects with many tied times, time i = ((i·a) mod m) / d, censored every
    /// `censor`-th; sorted; with `strata` strata and `clusters` clusters by rotation.
    fn tied_subjects(
        n: usize,
        (a, m, d): (usize, usize, f64),
        censor: usize,
        (strata, clusters): (usize, usize),
    ) -> (Vec<f64>, SortedSubjects, Vec<u32>, Clusters) {
        let time: Vec<f64> = (0..n).map(|i| ((i * a) % m) as f64 / d).collect();
        let event: Vec<bool> = (0..n).map(|i| i % censor != 0).collect();
        let sorted = SortedSubjects::new(&time, &event).unwrap();
        let st = (0..n).map(|i| (i % strata) as u32).collect();
        let cl = Clusters::from_labels(&(0..n).map(|i| i % clusters).collect::<Vec<_>>());
        (time, sorted, st, cl)
    }

    /// A 0/1 covariate kept as one byte per subject, read through the sorted subjects
    /// in place, gives what the stored covariate gives, to the last bit: the
    /// derivatives in the one-covariate and the general passes and the cluster meat,
    /// without strata (the order computed) and with strata (the order stored).
    #[test]
    fn an_indicator_gives_the_stored_covariate_bit_for_bit() {
        let n = 2_000;
        let (_, sorted, strata, clusters) = tied_subjects(n, (7919, 89, 3.0), 4, (3, 41));
        let arm: Vec<f64> = (0..n).map(|i| ((i * 31 + i / 7) % 2) as f64).collect();
        let bits = |d: Derivatives| [d.loglik, d.score[0], d.info[(0, 0)]].map(f64::to_bits);
        for st in [None, Some(strata.as_slice())] {
            let stored = Sorted::dense(&sorted, &[&arm], st);
            let coded = Sorted::new(&sorted, &[&arm], st);
            assert!(matches!(stored.x, Covariates::Dense(_)));
            assert!(matches!(coded.x, Covariates::Indicator { .. }));
            assert_eq!(stored.positions.is_some(), st.is_some());
            for beta in [0.0, 0.4, -2.1] {
                assert_eq!(
                    bits(stored.derivatives_one(beta)),
                    bits(coded.derivatives_one(beta))
                );
                assert_eq!(
                    bits(stored.derivatives_any(&[beta])),
                    bits(coded.derivatives_any(&[beta]))
                );
                let (a, b) = (
                    stored.cluster_meat(&[beta], &clusters),
                    coded.cluster_meat(&[beta], &clusters),
                );
                assert_eq!(a[(0, 0)].to_bits(), b[(0, 0)].to_bits());
            }
        }
    }

    /// The indicator given as codes fits as the same indicator given as numbers, to
    /// the last bit, with strata and clusters; a code other than 0 or 1 is refused.
    #[test]
    fn indicator_codes_fit_as_the_numbers() {
        let n = 1_500;
        let (time, sorted, strata, clusters) = tied_subjects(n, (613, 71, 2.0), 3, (4, 37));
        // Treated units have the event a little earlier: a hazard ratio above 1.
        let codes: Vec<u32> = (0..n)
            .map(|i| u32::from(time[i] < 20.0 || i % 5 == 0))
            .collect();
        let numbers: Vec<f64> = codes.iter().map(|&c| f64::from(c)).collect();
        for st in [None, Some(strata.as_slice())] {
            for cl in [None, Some(&clusters)] {
                let a = cox_ph_sorted(&sorted, &[&numbers], st, cl, 0.95).unwrap();
                let b = cox_ph_sorted_indicator(&sorted, &codes, st, cl, 0.95).unwrap();
                assert_eq!(a, b);
                assert!(a.coefficients[0].coef > 0.1, "{a:?}");
                assert_eq!(a.robust_vcov.is_some(), cl.is_some());
            }
        }
        let mut bad = codes.clone();
        bad[7] = 2;
        let err = cox_ph_sorted_indicator(&sorted, &bad, None, None, 0.95).unwrap_err();
        assert!(err.to_string().contains("subject 8"), "{err}");
        let short = cox_ph_sorted_indicator(&sorted, &codes[1..], None, None, 0.95).unwrap_err();
        assert!(matches!(short, StatsError::Invalid(_)), "{short:?}");
    }

    /// The one-covariate path gives the general path's values to the last bit, with
    /// ties, strata and a covariate that is not 0/1.
    #[test]
    fn one_covariate_path_equals_the_general_one() {
        let n = 3_000;
        let time: Vec<f64> = (0..n).map(|i| ((i * 7919) % 97) as f64 / 4.0).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 5 != 0).collect();
        let sorted = SortedSubjects::new(&time, &event).unwrap();
        let arm: Vec<f64> = (0..n).map(|i| ((i * 31) % 2) as f64).collect();
        let dose: Vec<f64> = (0..n).map(|i| ((i * 13) % 11) as f64 * 0.37).collect();
        let strata: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        for (x, st) in [(&arm, None), (&dose, Some(strata.as_slice()))] {
            let data = Sorted::new(&sorted, &[x.as_slice()], st);
            for beta in [0.0, 0.3, -1.7] {
                let a = data.derivatives_one(beta);
                let b = data.derivatives_any(&[beta]);
                assert_eq!(a.loglik.to_bits(), b.loglik.to_bits());
                assert_eq!(a.score[0].to_bits(), b.score[0].to_bits());
                assert_eq!(a.info[(0, 0)].to_bits(), b.info[(0, 0)].to_bits());
            }
        }
    }
}
