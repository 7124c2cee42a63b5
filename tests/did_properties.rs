//! Properties of `stats::did` on seeded synthetic panels:
//! - a binary outcome given as events/trials per employer-year (frequency weights)
//!   gives the same TWFE and event-study estimates and CRV1 standard errors as the
//!   person rows it summarises;
//! - recovery under staggered adoption with effects that grow with time since
//!   adoption: the naive treated-versus-untreated difference is biased (treated units
//!   start higher), the static TWFE estimate is biased (already-treated units serve as
//!   controls; Goodman-Bacon 2021) but unbiased when the effect is common, and the
//!   event-study coefficients recover the per-period truth;
//! - shifting the outcome changes nothing, negating it flips every sign, and the
//!   interval contains the estimate.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use via_eval::stats::did::{DidOptions, Panel, event_study, twfe_did, unit_first_treated};
use via_eval::stats::did_cs::{CsControl, cs_att_gt, wide_from_panel};
use via_eval::stats::fe::FeWeights;

mod common;
use common::assert_close;

struct Synth {
    y: Vec<f64>,
    unit: Vec<u32>,
    period: Vec<i64>,
    first: Vec<Option<i64>>,
    /// `first` per unit.
    unit_first: Vec<Option<i64>>,
}

impl Synth {
    fn panel(&self) -> Panel<'_> {
        Panel {
            y: &self.y,
            unit: &self.unit,
            period: &self.period,
            unit_first_treated: &self.unit_first,
            cluster: &self.unit,
            covariates: &[],
            weights: FeWeights::None,
        }
    }
}

/// 300 units over periods 1..=8: 100 first treated in period 3, 100 in period 5, 100
/// never. Treated units start 2 higher. Effect at event time e >= 0: `effect(e)`.
fn staggered(seed: u64, effect: impl Fn(i64) -> f64) -> Synth {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.5).unwrap();
    let mut s = Synth {
        y: vec![],
        unit: vec![],
        period: vec![],
        first: vec![],
        unit_first: vec![],
    };
    for u in 0..300u32 {
        let g = match u / 100 {
            0 => Some(3),
            1 => Some(5),
            _ => None,
        };
        let alpha = noise.sample(&mut rng) * 2.0 + if g.is_some() { 2.0 } else { 0.0 };
        for t in 1..=8i64 {
            let tau = g.filter(|&g| t >= g).map_or(0.0, |g| effect(t - g));
            s.y.push(alpha + 0.3 * t as f64 + tau + noise.sample(&mut rng));
            s.unit.push(u);
            s.period.push(t);
            s.first.push(g);
        }
    }
    s.unit_first = unit_first_treated(&s.unit, &s.first).unwrap();
    s
}

fn growing(e: i64) -> f64 {
    1.0 + 0.5 * e as f64
}

/// The average effect over treated rows (the estimand the naive and TWFE numbers are
/// read as).
fn att(s: &Synth, effect: impl Fn(i64) -> f64) -> f64 {
    let v: Vec<f64> = s
        .period
        .iter()
        .zip(&s.first)
        .filter_map(|(&t, g)| g.filter(|&g| t >= g).map(|g| effect(t - g)))
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn naive(s: &Synth) -> f64 {
    let (mut a, mut na, mut b, mut nb) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..s.y.len() {
        if s.first[i].is_some_and(|g| s.period[i] >= g) {
            a += s.y[i];
            na += 1.0;
        } else {
            b += s.y[i];
            nb += 1.0;
        }
    }
    a / na - b / nb
}

#[test]
fn recovery_under_staggered_adoption() {
    let s = staggered(11, growing);
    let truth = att(&s, growing);
    let opts = DidOptions::default();
    // Naive: off by the level difference and the trend.
    let nv = naive(&s);
    assert!((nv - truth).abs() > 1.0, "naive {nv} vs truth {truth}");
    // Static TWFE under growing effects: biased downwards, by many standard errors.
    let tw = twfe_did(&s.panel(), &opts).unwrap();
    let bias = tw.inference.estimate - truth;
    assert!(
        bias < -5.0 * tw.inference.std_error,
        "TWFE {} vs truth {truth}",
        tw.inference.estimate
    );
    // Event study: every coefficient within 4 SE of its truth (0 before the start).
    let es = event_study(&s.panel(), -1, None, &opts).unwrap();
    assert_eq!(es.window, (-4, 5));
    for c in &es.coefficients {
        let want = if c.event_time >= 0 {
            growing(c.event_time)
        } else {
            0.0
        };
        let z = (c.inference.estimate - want) / c.inference.std_error;
        assert!(
            z.abs() < 4.0,
            "e = {}: {} vs {want}",
            c.event_time,
            c.inference.estimate
        );
        assert!(
            c.inference.ci_low <= c.inference.estimate
                && c.inference.estimate <= c.inference.ci_high
        );
    }
    assert!(es.pretrend.unwrap().p_value > 0.001);
    // Callaway-Sant'Anna: the simple aggregation recovers the average effect on the
    // treated, the dynamic one each event time's effect.
    let (y, periods, first) = wide_from_panel(&s.panel()).unwrap();
    let cs = cs_att_gt(&y, &periods, &first, CsControl::Never, 0.95).unwrap();
    let simple = cs.simple().unwrap().inference;
    assert!(
        ((simple.estimate - truth) / simple.std_error).abs() < 4.0,
        "cs_simple {}",
        simple.estimate
    );
    let (by_e, _) = cs.dynamic().unwrap();
    for d in &by_e {
        let e = d.event_time.unwrap();
        let want = if e >= 0 { growing(e) } else { 0.0 };
        assert!(
            ((d.inference.estimate - want) / d.inference.std_error).abs() < 4.0,
            "cs e = {e}"
        );
    }
    // With a common effect TWFE is unbiased.
    let common = staggered(12, |_| 2.0);
    let tw = twfe_did(&common.panel(), &opts).unwrap();
    let z = (tw.inference.estimate - 2.0) / tw.inference.std_error;
    assert!(
        z.abs() < 4.0,
        "common effect: TWFE {}",
        tw.inference.estimate
    );
}

#[test]
fn shifting_and_negating_the_outcome() {
    let s = staggered(13, growing);
    let opts = DidOptions::default();
    let base = twfe_did(&s.panel(), &opts).unwrap();
    let es = event_study(&s.panel(), -1, Some((-3, 3)), &opts).unwrap();
    let shifted = Synth {
        y: s.y.iter().map(|v| v + 1000.0).collect(),
        ..staggered(13, growing)
    };
    let b2 = twfe_did(&shifted.panel(), &opts).unwrap();
    assert!((b2.inference.estimate - base.inference.estimate).abs() < 1e-8);
    let negated = Synth {
        y: s.y.iter().map(|v| -v).collect(),
        ..staggered(13, growing)
    };
    let b3 = twfe_did(&negated.panel(), &opts).unwrap();
    assert_close("negated", b3.inference.estimate, -base.inference.estimate);
    assert_close(
        "negated SE",
        b3.inference.std_error,
        base.inference.std_error,
    );
    let es3 = event_study(&negated.panel(), -1, Some((-3, 3)), &opts).unwrap();
    for (a, b) in es.coefficients.iter().zip(&es3.coefficients) {
        assert_close("negated event", b.inference.estimate, -a.inference.estimate);
    }
    assert_close(
        "pre-trend F unchanged",
        es3.pretrend.unwrap().statistic,
        es.pretrend.unwrap().statistic,
    );
}

#[test]
fn events_and_trials_equal_the_person_rows() {
    // 24 employers over 5 periods, 8 first treated in period 3, 8 in period 4, 8 never;
    // 1-12 persons per employer-year with a yes/no outcome.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut py, mut pu, mut pt, mut pg) = (vec![], vec![], vec![], vec![]);
    let (mut ay, mut aw, mut au, mut at, mut ag) = (vec![], vec![], vec![], vec![], vec![]);
    for e in 0..24u32 {
        let g = match e / 8 {
            0 => Some(3),
            1 => Some(4),
            _ => None,
        };
        for t in 1..=5i64 {
            let n = rng.random_range(1..=12);
            let p = 0.3 + 0.05 * t as f64 + if g.is_some_and(|g| t >= g) { 0.2 } else { 0.0 };
            let mut events = 0;
            for _ in 0..n {
                let yes = rng.random::<f64>() < p;
                events += u32::from(yes);
                py.push(f64::from(u8::from(yes)));
                pu.push(e);
                pt.push(t);
                pg.push(g);
            }
            ay.push(f64::from(events) / f64::from(n));
            aw.push(f64::from(n));
            au.push(e);
            at.push(t);
            ag.push(g);
        }
    }
    let persons = Panel {
        y: &py,
        unit: &pu,
        period: &pt,
        unit_first_treated: &via_eval::stats::did::unit_first_treated(&pu, &pg).unwrap(),
        cluster: &pu,
        covariates: &[],
        weights: FeWeights::None,
    };
    let cells = Panel {
        y: &ay,
        unit: &au,
        period: &at,
        unit_first_treated: &via_eval::stats::did::unit_first_treated(&au, &ag).unwrap(),
        cluster: &au,
        covariates: &[],
        weights: FeWeights::Frequency(&aw),
    };
    let opts = DidOptions::default();
    let a = twfe_did(&persons, &opts).unwrap();
    let b = twfe_did(&cells, &opts).unwrap();
    assert_close(
        "events/trials estimate",
        b.inference.estimate,
        a.inference.estimate,
    );
    assert_close(
        "events/trials CRV1 SE",
        b.inference.std_error,
        a.inference.std_error,
    );
    assert_eq!(a.inference.df, b.inference.df);
    // The wild bootstrap p-value is the same too (its t statistics are ratios in which
    // N cancels); CR2 is not (its leverages are those of the rows given).
    let (fa, fb) = (a.few_clusters.unwrap(), b.few_clusters.unwrap());
    assert_eq!(fa.wild_reps, fb.wild_reps);
    assert!((fa.wild_p_value - fb.wild_p_value).abs() < 1e-12);
    let ea = event_study(&persons, -1, None, &opts).unwrap();
    let eb = event_study(&cells, -1, None, &opts).unwrap();
    for (x, y) in ea.coefficients.iter().zip(&eb.coefficients) {
        assert_close("event estimate", y.inference.estimate, x.inference.estimate);
        assert_close("event SE", y.inference.std_error, x.inference.std_error);
    }
    assert_close(
        "pre-trend W",
        eb.pretrend.unwrap().chi_square,
        ea.pretrend.unwrap().chi_square,
    );
}

/// The wide form for Callaway-Sant'Anna needs a first treated period for every unit
/// code: one too few is a clear error, not a panic.
#[test]
fn the_wide_form_refuses_a_missing_first_treated_period() {
    let s = staggered(5, growing);
    let short = &s.unit_first[..s.unit_first.len() - 1];
    let p = Panel {
        unit_first_treated: short,
        ..s.panel()
    };
    let e = wide_from_panel(&p).unwrap_err().to_string();
    assert!(
        e.contains("a first treated period per unit is missing"),
        "{e}"
    );
    assert!(wide_from_panel(&s.panel()).is_ok());
}
