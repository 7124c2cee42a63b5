//! Coverage of the difference-in-differences intervals over many seeded synthetic
//! staggered panels (the table in docs/did-recovery.md). Ignored by default (about 50 s
//! in a debug build for 3 x 1000 draws); run with
//! `cargo test --release --test did_recovery -- --ignored --nocapture`
//! (`DID_DRAWS=N` for another number of draws).
//!
//! Design: 300 units over periods 1-8; 100 first treated in period 3, 100 in period 5,
//! 100 never; treated units start 2 higher (unit effects sd 1, plus 2); a common trend
//! of 0.3 a period; noise sd 0.5. The effect at e periods after the start is 1 + 0.5e
//! (growing), or 2 (common), or differs by cohort (1 + 0.5e for cohort 3, 2 + e for
//! cohort 5). Truth: the average effect over treated unit-periods (the estimand of the
//! naive, TWFE, cs_simple and Sun & Abraham ATT numbers) and the effect per event time
//! (the cohorts' average; both cohorts are seen at e = 0..3 and equally likely).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use via_eval::stats::did::{DidOptions, Panel, event_study, twfe_did};
use via_eval::stats::did_cs::{CsControl, cs_att_gt, wide_from_panel};
use via_eval::stats::did_sa::sun_abraham;
use via_eval::stats::fe::FeWeights;

struct Synth {
    y: Vec<f64>,
    unit: Vec<u32>,
    period: Vec<i64>,
    first: Vec<Option<i64>>,
}

/// The effect of cohort g at e periods after its start.
type Effect<'a> = &'a dyn Fn(i64, i64) -> f64;

fn draw(seed: u64, effect: Effect) -> Synth {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.5).unwrap();
    let mut s = Synth {
        y: vec![],
        unit: vec![],
        period: vec![],
        first: vec![],
    };
    for u in 0..300u32 {
        let g = match rand::Rng::random_range(&mut rng, 0..3) {
            0 => Some(3),
            1 => Some(5),
            _ => None,
        };
        let alpha = noise.sample(&mut rng) * 2.0 + if g.is_some() { 2.0 } else { 0.0 };
        for t in 1..=8i64 {
            let tau = g.filter(|&g| t >= g).map_or(0.0, |g| effect(g, t - g));
            s.y.push(alpha + 0.3 * t as f64 + tau + noise.sample(&mut rng));
            s.unit.push(u);
            s.period.push(t);
            s.first.push(g);
        }
    }
    s
}

#[derive(Default)]
struct Tally {
    n: f64,
    bias: f64,
    covered: f64,
}

impl Tally {
    fn add(&mut self, est: f64, lo: f64, hi: f64, truth: f64) {
        self.n += 1.0;
        self.bias += est - truth;
        self.covered += f64::from(u8::from(lo <= truth && truth <= hi));
    }
    fn row(&self, name: &str, truth: f64) -> String {
        format!(
            "| {name} | {truth:.3} | {:+.3} | {:.1}% |",
            self.bias / self.n,
            100.0 * self.covered / self.n
        )
    }
    fn coverage(&self) -> f64 {
        self.covered / self.n
    }
}

/// The tallies of one scenario.
struct Outcome {
    naive: Tally,
    twfe: Tally,
    cs: Tally,
    /// Sun & Abraham's ATT and its event-time effects e = 0..3, against the truth
    /// given the draw's cohort sizes (the estimand its fixed-weight SEs are for).
    sa: Tally,
    sa_e: Vec<Tally>,
    /// The event study's e = 0..3.
    es: Vec<Tally>,
}

fn scenario(name: &str, effect_gt: Effect, draws: u64) -> Outcome {
    let opts = DidOptions::default();
    let (mut naive, mut twfe, mut cs) = (Tally::default(), Tally::default(), Tally::default());
    let mut es: Vec<Tally> = (0..4).map(|_| Tally::default()).collect();
    let mut csd: Vec<Tally> = (0..4).map(|_| Tally::default()).collect();
    let mut sa = Tally::default();
    let mut sa_e: Vec<Tally> = (0..4).map(|_| Tally::default()).collect();
    // The same against the population truth (cohorts equally likely).
    let mut sa_pop = Tally::default();
    let mut sa_pop_e: Vec<Tally> = (0..4).map(|_| Tally::default()).collect();
    // The effect at event time e: the average of the two cohorts (equally likely).
    let effect = |e: i64| (effect_gt(3, e) + effect_gt(5, e)) / 2.0;
    // The population average over treated unit-periods: cohorts equally likely,
    // cohort 3 treated in 6 periods, cohort 5 in 4.
    let truth = ((0..6).map(|e| effect_gt(3, e)).sum::<f64>()
        + (0..4).map(|e| effect_gt(5, e)).sum::<f64>())
        / 10.0;
    for d in 0..draws {
        let s = draw(1000 + d, effect_gt);
        let p = Panel {
            y: &s.y,
            unit: &s.unit,
            period: &s.period,
            unit_first_treated: &via_eval::stats::did::unit_first_treated(&s.unit, &s.first)
                .unwrap(),
            cluster: &s.unit,
            covariates: &[],
            weights: FeWeights::None,
        };

        // Naive: treated unit-periods against all others, Welch-type normal interval.
        let (a, b): (Vec<f64>, Vec<f64>) = {
            let mut a = vec![];
            let mut b = vec![];
            for i in 0..s.y.len() {
                if s.first[i].is_some_and(|g| s.period[i] >= g) {
                    a.push(s.y[i])
                } else {
                    b.push(s.y[i])
                }
            }
            (a, b)
        };
        let mv = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            (
                m,
                v.iter().map(|x| (x - m).powi(2)).sum::<f64>()
                    / (v.len() as f64 - 1.0)
                    / v.len() as f64,
            )
        };
        let ((ma, va), (mb, vb)) = (mv(&a), mv(&b));
        let se = (va + vb).sqrt();
        naive.add(ma - mb, ma - mb - 1.96 * se, ma - mb + 1.96 * se, truth);
        let t = twfe_did(&p, &opts).unwrap().inference;
        twfe.add(t.estimate, t.ci_low, t.ci_high, truth);
        let e = event_study(&p, -1, None, &opts).unwrap();
        for c in e
            .coefficients
            .iter()
            .filter(|c| (0..4).contains(&c.event_time))
        {
            let k = c.event_time as usize;
            es[k].add(
                c.inference.estimate,
                c.inference.ci_low,
                c.inference.ci_high,
                effect(c.event_time),
            );
        }
        let r = sun_abraham(&p, -1, &opts).unwrap();
        // Units per cohort in this draw (8 rows per unit).
        let n3 = s.first.iter().filter(|g| **g == Some(3)).count() as f64 / 8.0;
        let n5 = s.first.iter().filter(|g| **g == Some(5)).count() as f64 / 8.0;
        let cond_att = (n3 * (0..6).map(|e| effect_gt(3, e)).sum::<f64>()
            + n5 * (0..4).map(|e| effect_gt(5, e)).sum::<f64>())
            / (6.0 * n3 + 4.0 * n5);
        let cond_e = |e: i64| (n3 * effect_gt(3, e) + n5 * effect_gt(5, e)) / (n3 + n5);
        sa.add(r.att.estimate, r.att.ci_low, r.att.ci_high, cond_att);
        sa_pop.add(r.att.estimate, r.att.ci_low, r.att.ci_high, truth);
        for c in r.event.iter().filter(|c| (0..4).contains(&c.event_time)) {
            let k = c.event_time as usize;
            let i = &c.inference;
            sa_e[k].add(i.estimate, i.ci_low, i.ci_high, cond_e(c.event_time));
            sa_pop_e[k].add(i.estimate, i.ci_low, i.ci_high, effect(c.event_time));
        }
        let (y, periods, first) = wide_from_panel(&p).unwrap();
        let fit = cs_att_gt(&y, &periods, &first, CsControl::Never, 0.95).unwrap();
        let si = fit.simple().unwrap().inference;
        cs.add(si.estimate, si.ci_low, si.ci_high, truth);
        let (by_e, _) = fit.dynamic().unwrap();
        for d in by_e
            .iter()
            .filter(|d| (0..4).contains(&d.event_time.unwrap()))
        {
            let k = d.event_time.unwrap() as usize;
            csd[k].add(
                d.inference.estimate,
                d.inference.ci_low,
                d.inference.ci_high,
                effect(k as i64),
            );
        }
    }
    println!("\n### {name} ({draws} draws)\n");
    println!("| estimate | truth | mean bias | 95% CI coverage |\n|---|---|---|---|");
    println!("{}", naive.row("naive treated vs untreated rows", truth));
    println!("{}", twfe.row("static TWFE (`twfe_did`)", truth));
    println!(
        "{}",
        cs.row("Callaway-Sant'Anna simple (`cs_simple`)", truth)
    );
    println!(
        "{}",
        sa.row(
            "Sun & Abraham ATT (`sun_abraham`), truth given the cohort sizes",
            truth
        )
    );
    println!(
        "{}",
        sa_pop.row("Sun & Abraham ATT (`sun_abraham`), population truth", truth)
    );
    for k in 0..4 {
        println!(
            "{}",
            es[k].row(&format!("event study e = {k}"), effect(k as i64))
        );
        println!(
            "{}",
            csd[k].row(&format!("`cs_dynamic` e = {k}"), effect(k as i64))
        );
        println!(
            "{}",
            sa_e[k].row(
                &format!("`sun_abraham` e = {k}, truth given the cohort sizes"),
                effect(k as i64)
            )
        );
        println!(
            "{}",
            sa_pop_e[k].row(
                &format!("`sun_abraham` e = {k}, population truth"),
                effect(k as i64)
            )
        );
    }
    Outcome {
        naive,
        twfe,
        cs,
        sa,
        sa_e,
        es,
    }
}

/// Sun & Abraham's ATT and event-time effects cover 93-97%.
fn assert_sa_covers(o: &Outcome) {
    for t in std::iter::once(&o.sa).chain(&o.sa_e) {
        assert!(
            (0.93..=0.97).contains(&t.coverage()),
            "Sun & Abraham coverage {}",
            t.coverage()
        );
    }
}

#[test]
#[ignore = "simulation: about 50 s in debug; see the module docs"]
fn coverage_over_seeded_draws() {
    let draws: u64 = std::env::var("DID_DRAWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let o = scenario(
        "Effects growing with time since adoption (1 + 0.5e)",
        &|_, e| 1.0 + 0.5 * e as f64,
        draws,
    );
    assert!(o.naive.coverage() < 0.05 && o.twfe.coverage() < 0.5);
    assert!(
        (0.93..=0.97).contains(&o.cs.coverage()),
        "cs_simple coverage {}",
        o.cs.coverage()
    );
    assert_sa_covers(&o);
    let o = scenario("A common effect of 2", &|_, _| 2.0, draws);
    assert!(
        (0.93..=0.97).contains(&o.twfe.coverage()),
        "TWFE coverage {}",
        o.twfe.coverage()
    );
    assert!((0.93..=0.97).contains(&o.cs.coverage()));
    assert_sa_covers(&o);
    // Effects that differ by cohort: the event study's coefficients mix in other
    // relative periods' effects (Sun & Abraham 2021, prop. 3); SA does not.
    let o = scenario(
        "Effects differing by cohort (cohort 3: 1 + 0.5e, cohort 5: 2 + e)",
        &|g, e| {
            if g == 3 {
                1.0 + 0.5 * e as f64
            } else {
                2.0 + e as f64
            }
        },
        draws,
    );
    assert!(o.naive.coverage() < 0.05 && o.twfe.coverage() < 0.5);
    assert_sa_covers(&o);
    let worst = o.es.iter().map(Tally::coverage).fold(1.0, f64::min);
    println!("\nworst event-study coverage with cohort effects: {worst:.3}");
    assert!(worst < 0.5, "event study coverage {worst}");
}
