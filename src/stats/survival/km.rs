//! Kaplan-Meier curves per group, survival at chosen times and quantiles (the median).
//!
//! Estimator (Kaplan & Meier 1958): at the distinct event times t₁ < t₂ < … with nⱼ at
//! risk and dⱼ events, S(t) = Π_{tⱼ ≤ t} (nⱼ − dⱼ)/nⱼ. Variance (Greenwood 1926):
//! Var(−log S(t)) ≈ Σ_{tⱼ ≤ t} dⱼ/(nⱼ(nⱼ − dⱼ)); the `std_error` reported is that of
//! S, S·√(Σ …), as R `summary.survfit` prints it (R's `survfit()$std.err` is the one of
//! −log S). Once a curve reaches 0 (the last subject at risk has the event) the
//! standard error and the interval are undefined and reported as NaN, as R does.
//!
//! Intervals, with z the normal quantile and σ = √(Σ dⱼ/(nⱼ(nⱼ − dⱼ))), exactly as
//! R's `survfit(conf.type = …)`:
//! - log-log (default; Borgan & Liestøl 1990, Kalbfleisch & Prentice):
//!   S^exp(±zσ/log S), i.e. exp(−exp(log(−log S) ∓ zσ/log S));
//! - log: S·exp(±zσ), the upper limit capped at 1;
//! - plain: S ± zσS, cut to [0, 1].
//!
//! Before the first event S = 1 with standard error 0 and interval [1, 1].
//!
//! Scale: one sort by time ([`SortedSubjects`], a radix sort), a linear split by group
//! and one linear pass; memory is the sorted copy plus one row per distinct event time.

use serde::Serialize;

use super::super::dist::two_sided_quantile;
use super::{
    Codes, SortedSubjects, StatsError, StatsResult, check_level, check_nonempty, check_subjects,
    normalise,
};

/// The scale on which the pointwise confidence interval of S(t) is symmetric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiTransform {
    /// log(−log S): stays inside (0, 1); R `conf.type = "log-log"`, lifelines.
    #[default]
    LogLog,
    /// log S: R's default `conf.type = "log"`.
    Log,
    /// S itself (Greenwood's original), cut to [0, 1].
    Plain,
}

impl CiTransform {
    /// The name R uses for `conf.type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::LogLog => "log-log",
            Self::Log => "log",
            Self::Plain => "plain",
        }
    }

    /// Pointwise interval for S with σ the standard error of −log S.
    fn interval(self, s: f64, sigma: f64, z: f64) -> (f64, f64) {
        if s >= 1.0 {
            return (1.0, 1.0);
        }
        if !(s > 0.0 && sigma.is_finite()) {
            return (f64::NAN, f64::NAN);
        }
        match self {
            Self::LogLog => {
                let log_s = s.ln();
                let w = z * sigma / log_s;
                let c = (-log_s).ln();
                ((-(c - w).exp()).exp(), (-(c + w).exp()).exp())
            }
            Self::Log => {
                let log_s = s.ln();
                (
                    (log_s - z * sigma).exp(),
                    (log_s + z * sigma).exp().min(1.0),
                )
            }
            Self::Plain => {
                let h = z * sigma * s;
                ((s - h).max(0.0), (s + h).min(1.0))
            }
        }
    }
}

/// The curve at one distinct event time (R `summary(survfit)` rows).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KmRow {
    pub time: f64,
    pub survival: f64,
    /// Greenwood standard error of S (NaN once S = 0).
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Subjects with time ≥ `time`.
    pub at_risk: usize,
    /// Events at `time`.
    pub events: usize,
    /// Censored after the previous event time and up to and including `time` (R's
    /// `n.censor` in `summary.survfit`).
    pub censored: usize,
}

/// A distinct time with censorings, and the curve's value there (where a chart puts
/// its censoring mark).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Censoring {
    pub time: f64,
    pub count: usize,
    pub survival: f64,
}

/// The curve at a requested time (R `summary(survfit, times = …, extend = TRUE)`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KmAtTime {
    pub time: f64,
    /// S at the last event time ≤ `time` (1 before the first event).
    pub survival: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Subjects with time ≥ `time`: 0 after the last follow-up, where the curve is
    /// only carried forward.
    pub at_risk: usize,
    /// Events after the previous requested time, up to and including `time` (for the
    /// first requested time: all events up to it).
    pub events: usize,
    /// Censorings in the same interval.
    pub censored: usize,
}

/// A quantile of the survival time with its interval; `None` = not reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantile {
    /// The probability of the event by then (0.5 for the median).
    pub p: f64,
    pub estimate: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// The Kaplan-Meier curve of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmCurve {
    /// The group code this curve belongs to.
    pub group: u32,
    pub n: usize,
    pub events: usize,
    pub transform: CiTransform,
    pub conf_level: f64,
    /// One row per distinct event time, in time order.
    pub rows: Vec<KmRow>,
    /// One entry per distinct time with a censoring, in time order.
    pub censorings: Vec<Censoring>,
    /// The largest time observed (event or censored): the end of the curve.
    pub last_time: f64,
}

/// Kaplan-Meier curves, one per group code present, ordered by code.
///
/// Pass all zeros as `group` for a single curve. Fails with [`StatsError::Invalid`]
/// for slices of different lengths, a missing (NaN), infinite or negative time, or a
/// confidence level outside (0, 1); with [`StatsError::TooFew`] when there are no
/// subjects.
pub fn kaplan_meier(
    time: &[f64],
    event: &[bool],
    group: &[u32],
    transform: CiTransform,
    conf_level: f64,
) -> StatsResult<Vec<KmCurve>> {
    check_subjects(time, event, &[("group codes", group.len())])?;
    check_level(conf_level)?;
    curves(
        &SortedSubjects::sort(time, event, Some(group)),
        Codes::Carried,
        transform,
        conf_level,
    )
}

/// [`kaplan_meier`] on subjects sorted once ([`SortedSubjects`]); `group` gives one
/// code per subject, in the caller's order or carried by the sort ([`Codes`]). The
/// same curves.
pub fn kaplan_meier_sorted<'a>(
    sorted: &SortedSubjects,
    group: impl Into<Codes<'a>>,
    transform: CiTransform,
    conf_level: f64,
) -> StatsResult<Vec<KmCurve>> {
    check_level(conf_level)?;
    check_nonempty(sorted)?;
    curves(sorted, group.into(), transform, conf_level)
}

fn curves(
    sorted: &SortedSubjects,
    group: Codes,
    transform: CiTransform,
    conf_level: f64,
) -> StatsResult<Vec<KmCurve>> {
    let z = two_sided_quantile(conf_level, None);
    let grouped = sorted.grouped(sorted.sorted_codes(group, "group codes")?);
    Ok((0..grouped.levels.len())
        .map(|g| {
            curve(
                grouped.levels[g],
                sorted,
                grouped.group(g),
                transform,
                conf_level,
                z,
            )
        })
        .collect())
}

/// One curve from its subjects' positions in the sorted order (increasing time).
fn curve(
    group: u32,
    sorted: &SortedSubjects,
    positions: &[u32],
    transform: CiTransform,
    conf_level: f64,
    z: f64,
) -> KmCurve {
    let n = positions.len();
    let time = |i: usize| sorted.time(positions[i] as usize);
    let event = |i: usize| sorted.event(positions[i] as usize);
    let mut rows = Vec::new();
    let mut censorings = Vec::new();
    let (mut at_risk, mut s, mut greenwood) = (n, 1.0_f64, 0.0_f64);
    let (mut censored_since, mut events_total) = (0, 0);
    let mut i = 0;
    while i < n {
        let t = time(i);
        let (mut d, mut c) = (0usize, 0usize);
        while i < n && time(i) == t {
            if event(i) {
                d += 1;
            } else {
                c += 1;
            }
            i += 1;
        }
        censored_since += c;
        if d > 0 {
            s *= (at_risk - d) as f64 / at_risk as f64;
            greenwood += if d < at_risk {
                d as f64 / (at_risk as f64 * (at_risk - d) as f64)
            } else {
                f64::INFINITY
            };
            let sigma = greenwood.sqrt();
            let (ci_low, ci_high) = transform.interval(s, sigma, z);
            rows.push(KmRow {
                time: t,
                survival: s,
                std_error: std_error_of_s(s, sigma),
                ci_low,
                ci_high,
                at_risk,
                events: d,
                censored: censored_since,
            });
            censored_since = 0;
            events_total += d;
        }
        if c > 0 {
            censorings.push(Censoring {
                time: t,
                count: c,
                survival: s,
            });
        }
        at_risk -= d + c;
    }
    KmCurve {
        group,
        n,
        events: events_total,
        transform,
        conf_level,
        rows,
        censorings,
        last_time: if n > 0 { time(n - 1) } else { 0.0 },
    }
}

/// S·σ, with S = 1 giving 0 and S = 0 giving NaN (R's 0·∞).
fn std_error_of_s(s: f64, sigma: f64) -> f64 {
    if s > 0.0 && sigma.is_finite() {
        s * sigma
    } else {
        f64::NAN
    }
}

impl KmCurve {
    /// Survival, its interval and the numbers at risk at each of `times` (returned in
    /// ascending order, as R does). The curve is a right-continuous step function:
    /// at an event time it already includes that time's drop. After `last_time` the
    /// last value is carried forward with 0 at risk (R `extend = TRUE`); callers
    /// should not read it as an estimate there unless the curve ended at 0.
    pub fn at_times(&self, times: &[f64]) -> StatsResult<Vec<KmAtTime>> {
        if let Some(bad) = times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
            return Err(StatsError::Invalid(format!(
                "requested time {bad}: times must be finite and ≥ 0"
            )));
        }
        let mut sorted: Vec<f64> = times.iter().map(|&t| normalise(t)).collect();
        sorted.sort_by(f64::total_cmp);
        let (mut r, mut c) = (0, 0);
        // Counts of events and censorings with time < t, and ≤ t at the previous t.
        let (mut ev_before, mut cens_before) = (0usize, 0usize);
        let (mut ev_prev, mut cens_prev) = (0usize, 0usize);
        let mut out = Vec::with_capacity(sorted.len());
        for t in sorted {
            while r < self.rows.len() && self.rows[r].time < t {
                ev_before += self.rows[r].events;
                r += 1;
            }
            while c < self.censorings.len() && self.censorings[c].time < t {
                cens_before += self.censorings[c].count;
                c += 1;
            }
            let at_risk = self.n - ev_before - cens_before;
            let (ev_here, last_row) = match self.rows.get(r) {
                Some(row) if row.time == t => (row.events, Some(row)),
                _ => (0, r.checked_sub(1).map(|k| &self.rows[k])),
            };
            let cens_here = match self.censorings.get(c) {
                Some(x) if x.time == t => x.count,
                _ => 0,
            };
            let (ev_upto, cens_upto) = (ev_before + ev_here, cens_before + cens_here);
            let (survival, std_error, ci_low, ci_high) = match last_row {
                Some(row) => (row.survival, row.std_error, row.ci_low, row.ci_high),
                None => (1.0, 0.0, 1.0, 1.0),
            };
            out.push(KmAtTime {
                time: t,
                survival,
                std_error,
                ci_low,
                ci_high,
                at_risk,
                events: ev_upto - ev_prev,
                censored: cens_upto - cens_prev,
            });
            (ev_prev, cens_prev) = (ev_upto, cens_upto);
        }
        Ok(out)
    }

    /// The median survival time and its interval; see [`KmCurve::quantile`].
    pub fn median(&self) -> Quantile {
        self.quantile(0.5)
            .expect("0.5 is a valid probability for a quantile")
    }

    /// The time by which a share `p` (0 < p < 1) has had the event, with its interval,
    /// by R `quantile.survfit`'s rule (Brookmeyer & Crowley 1982 style, from the
    /// pointwise bands):
    /// - the estimate is the first time where 1 − S ≥ p; if 1 − S equals p (within
    ///   √ε) on a flat stretch, it is the midpoint of that stretch (to the next event
    ///   time, or to the last follow-up time when the curve stays there);
    /// - the lower limit is the same rule applied to 1 − (lower band), the upper limit
    ///   to 1 − (upper band);
    /// - a value the curve (or band) never reaches is `None`: "not reached".
    ///
    /// R `print.survfit` uses a slightly different rule for a curve that stays at
    /// exactly 1 − p until the end (it takes the start of the stretch); both are in the
    /// fixtures and agree elsewhere.
    pub fn quantile(&self, p: f64) -> StatsResult<Quantile> {
        if !(p > 0.0 && p < 1.0) {
            return Err(StatsError::Invalid(format!(
                "quantile probability {p} is not between 0 and 1"
            )));
        }
        let times: Vec<f64> = self.rows.iter().map(|r| r.time).collect();
        let find = |value: &dyn Fn(&KmRow) -> f64| {
            let y: Vec<f64> = self.rows.iter().map(|r| 1.0 - value(r)).collect();
            first_crossing(&times, &y, p, self.last_time)
        };
        Ok(Quantile {
            p,
            estimate: find(&|r| r.survival),
            ci_low: find(&|r| r.ci_low),
            ci_high: find(&|r| r.ci_high),
        })
    }
}

/// R survival's `findq` on the points (0, 0), (xᵢ, yᵢ): y is a cumulative probability
/// (1 − S, or 1 − a band), NaN where undefined; `x_max` is the last follow-up time.
fn first_crossing(x: &[f64], y: &[f64], p: f64, x_max: f64) -> Option<f64> {
    let tol = f64::EPSILON.sqrt();
    // Keep the first point of each distinct y (a NaN counts as one value), as R's
    // `duplicated()`; the curve is flat between the points kept.
    let mut seen = std::collections::HashSet::new();
    let mut xs = Vec::with_capacity(x.len() + 1);
    let mut ys = Vec::with_capacity(x.len() + 1);
    for (&xi, &yi) in std::iter::once((&0.0, &0.0)).chain(x.iter().zip(y)) {
        let key = if yi.is_nan() { u64::MAX } else { yi.to_bits() };
        if seen.insert(key) {
            xs.push(xi);
            ys.push(yi);
        }
    }
    let reached = ys
        .iter()
        .filter(|v| !v.is_nan())
        .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    if reached < p {
        return None;
    }
    let first = |shift: f64| (0..ys.len()).find(|&k| !ys[k].is_nan() && ys[k] + shift >= p);
    let i1 = first(tol)?;
    match first(-tol) {
        Some(i2) => Some((xs[i1] + xs[i2]) / 2.0),
        None => {
            let last = *ys.last().expect("the origin is always kept");
            (!last.is_nan() && (p - last).abs() < tol).then(|| (xs[i1] + x_max) / 2.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_curve() {
        // Times 1, 2, 2+, 3, 4+, 4, 5, 6. R survfit(conf.type = "log-log"): S = 0.875,
        // 0.75, 0.6, 0.45, 0.225, 0 (SE and interval NA at 0); median 4 (1, NA).
        let time = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0];
        let event = [true, true, false, true, false, true, true, true];
        let c = &kaplan_meier(&time, &event, &[0; 8], CiTransform::LogLog, 0.95).unwrap()[0];
        let s: Vec<f64> = c.rows.iter().map(|r| r.survival).collect();
        let want = [0.875, 0.75, 0.6, 0.45, 0.225, 0.0];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
        let last = c.rows.last().unwrap();
        assert!(last.std_error.is_nan() && last.ci_low.is_nan());
        let m = c.median();
        assert_eq!(
            (m.estimate, m.ci_low, m.ci_high),
            (Some(4.0), Some(1.0), None)
        );
    }

    #[test]
    fn midpoint_rule_for_a_flat_half() {
        // 4 subjects, events at 1 and 2 → S = 0.5 from 2 until the event at 5.
        let time = [1.0, 2.0, 5.0, 7.0];
        let event = [true, true, true, false];
        let c = &kaplan_meier(&time, &event, &[0; 4], CiTransform::LogLog, 0.95).unwrap()[0];
        assert_eq!(c.median().estimate, Some(3.5));
        // Stays at 0.5 until the last follow-up: midpoint with the last time.
        let event = [true, true, false, false];
        let c = &kaplan_meier(&time, &event, &[0; 4], CiTransform::LogLog, 0.95).unwrap()[0];
        assert_eq!(c.median().estimate, Some(4.5));
    }
}
