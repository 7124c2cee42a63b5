//! The coverage simulation (`via-eval coverage`): a short run gives near-nominal
//! coverage for HC2 and CR2, the same seed gives the same table, and the table has a
//! row for every design, outcome and SE type. The full run (2,000+ trials per design)
//! is in docs/coverage.md.

use std::sync::OnceLock;

use via_eval::coverage::{
    self, CoverageReport, Design, Outcome, methods, render_json, render_markdown, render_table,
};

const SEED: u64 = 7;
const TRIALS: usize = 200;

/// One 200-trial run of every design, shared by the tests.
fn report() -> &'static CoverageReport {
    static R: OnceLock<CoverageReport> = OnceLock::new();
    R.get_or_init(|| coverage::run(&Design::ALL, TRIALS, SEED, None).unwrap())
}

fn row<'a>(
    r: &'a CoverageReport,
    d: Design,
    o: Outcome,
    method: &str,
) -> &'a coverage::CoverageRow {
    r.rows
        .iter()
        .find(|x| x.design == d && x.outcome == o && x.method == method)
        .unwrap_or_else(|| panic!("no row {d:?} {o:?} {method}"))
}

#[test]
fn hc2_and_cr2_cover_near_95_percent() {
    let r = report();
    // With 200 trials the Monte Carlo SE of a 95% coverage is 1.5 points; the band
    // allows about four of them below and anything above.
    let (lo, hi) = (0.885, 1.0);
    for o in Outcome::ALL {
        for (d, m) in [
            (Design::Individual, "ols-hc2"),
            (Design::Blocked, "ols-hc2"),
            (Design::Blocked, "blocked-dim"),
            (Design::Clusters10, "ols-cr2"),
            (Design::Clusters50, "ols-cr2"),
        ] {
            let x = row(r, d, o, m);
            assert_eq!(x.trials, TRIALS);
            assert!(
                x.coverage >= lo && x.coverage <= hi,
                "{d:?} {o:?} {m}: coverage {}",
                x.coverage
            );
            assert!(
                x.failed <= TRIALS / 100,
                "{d:?} {o:?} {m}: {} failed",
                x.failed
            );
            // The Monte Carlo SE is the binomial one.
            let n = (x.trials - x.failed) as f64;
            let want = (x.coverage * (1.0 - x.coverage) / n).sqrt();
            assert!((x.mc_se - want).abs() < 1e-15);
        }
    }
    // Ignoring the clusters gives intervals far too short: it must do clearly worse
    // than CR2 at 50 clusters.
    let ign = row(
        r,
        Design::Clusters50,
        Outcome::Continuous,
        "ols-hc2-ignoring-clusters",
    );
    let cr2 = row(r, Design::Clusters50, Outcome::Continuous, "ols-cr2");
    assert!(
        ign.coverage < cr2.coverage - 0.05,
        "{} vs {}",
        ign.coverage,
        cr2.coverage
    );
}

#[test]
fn estimates_are_unbiased_within_monte_carlo_error() {
    let r = report();
    for x in &r.rows {
        if let Some(ratio) = x.se_ratio {
            assert!(
                ratio > 0.3 && ratio < 3.0,
                "{} {}: {ratio}",
                x.design.key(),
                x.method
            );
        }
        // The SD of an estimate is at most about 1 (outcome units) in these designs,
        // so the mean of 200 has SE below 0.08.
        assert!(
            x.bias.abs() < 0.25,
            "{} {} bias {}",
            x.design.key(),
            x.method,
            x.bias
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_table() {
    let a = coverage::run(&[Design::Clusters10], 40, 11, None).unwrap();
    let b = coverage::run(&[Design::Clusters10], 40, 11, None).unwrap();
    assert_eq!(a, b);
    assert_eq!(render_json(&a), render_json(&b));
    let c = coverage::run(&[Design::Clusters10], 40, 12, None).unwrap();
    assert_ne!(a.rows, c.rows);
    // A design's rows do not depend on which other designs were run.
    let blocked = coverage::run(&[Design::Blocked], TRIALS, SEED, None).unwrap();
    let from_all: Vec<_> = report()
        .rows
        .iter()
        .filter(|x| x.design == Design::Blocked)
        .cloned()
        .collect();
    assert_eq!(blocked.rows, from_all);
    // Nor on the number of threads.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| coverage::run(&[Design::Clusters10], 40, 11, None).unwrap());
    assert_eq!(a, one);
}

#[test]
fn the_table_has_every_design_outcome_and_se_type() {
    let r = report();
    let want: usize = Design::ALL
        .iter()
        .flat_map(|&d| Outcome::ALL.map(|o| methods(d, o).len()))
        .sum();
    assert_eq!(r.rows.len(), want);
    let table = render_table(r);
    let md = render_markdown(r);
    let json: serde_json::Value = serde_json::from_str(&render_json(r)).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), want);
    assert_eq!(json["trials"], TRIALS);
    for d in Design::ALL {
        for o in Outcome::ALL {
            for m in methods(d, o) {
                let x = row(r, d, o, m.key());
                let found = |text: &str| {
                    text.lines().any(|l| {
                        let words: Vec<&str> =
                            l.split(['|', ' ']).filter(|w| !w.is_empty()).collect();
                        let label: Vec<&str> = m.label().split(' ').collect();
                        words.first() == Some(&d.key())
                            && words.get(1) == Some(&o.key())
                            && words[2..].starts_with(&label)
                            && l.contains(&format!("{:.1}", 100.0 * x.coverage))
                    })
                };
                assert!(found(&table), "table lacks {d:?} {o:?} {}", m.label());
                assert!(found(&md), "markdown lacks {d:?} {o:?} {}", m.label());
            }
        }
    }
    // The SE types the issue asks for are all there.
    let keys: Vec<&str> = r.rows.iter().map(|x| x.method).collect();
    for k in [
        "welch",
        "ols-classical",
        "ols-hc0",
        "ols-hc1",
        "ols-hc2",
        "ols-hc3",
        "blocked-dim",
        "newcombe",
        "ols-cr0",
        "ols-cr1",
        "ols-cr2",
        "wild-cluster-bootstrap",
    ] {
        assert!(keys.contains(&k), "no {k}");
    }
}
