//! Issue 17 item 5: a per-person cost column (`[costs] column`) and the seeded
//! bootstrap of the cost-effectiveness plane.
//!
//! Reference: scripts/fixtures/make_cost_fixtures.py (`person_cases`), the increments
//! and their covariance computed with pandas/numpy on the LaLonde NSW sample with
//! re78 standing in for the cost (no public trial with a cost column was at hand), then
//! Fieller and the acceptability curve in closed form (numpy.roots, mpmath). The
//! bootstrap cannot be matched bit for bit to another package: it is tested by its
//! properties (same seed, same result; a bounded interval holds the ICER; quadrant
//! shares add up; coverage near nominal in a seeded simulation).

use std::path::Path;

use via_eval::analysis::{self, Options, PilotResults, Privacy, Threshold};
use via_eval::config::PilotSpec;
use via_eval::stats::cost::{
    BootstrapKind, FiellerSet, Persons, acceptability, bootstrap_icer, icer, percentile_icer,
    person_increments,
};

mod common;
use common::{assert_close, root};

fn fixture() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cost_fieller.json"))
            .unwrap(),
    )
    .unwrap()
}

/// The LaLonde columns by name (no quoted fields, no missing values).
fn lalonde() -> std::collections::HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/lalonde.csv")).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for l in lines {
        for (c, v) in l.split(',').enumerate() {
            cols[c].push(v.parse().unwrap());
        }
    }
    names.into_iter().zip(cols).collect()
}

fn check_case(c: &serde_json::Value, inc: &via_eval::stats::cost::Increments) {
    let name = c["name"].as_str().unwrap();
    for key in ["cost", "cost_se", "effect", "effect_se", "covariance"] {
        let got = match key {
            "cost" => inc.cost,
            "cost_se" => inc.cost_se,
            "effect" => inc.effect,
            "effect_se" => inc.effect_se,
            _ => inc.covariance,
        };
        assert_close(&format!("{name} {key}"), got, c[key].as_f64().unwrap());
    }
    for (conf, key) in [(0.95, "fieller_95"), (0.90, "fieller_90")] {
        let got = icer(inc, conf).unwrap();
        let want = &c[key];
        assert_eq!(want["kind"], "bounded", "{name}");
        let FiellerSet::Bounded { low, high } = got.fieller else {
            panic!("{name}: {:?}", got.fieller)
        };
        assert_close(
            &format!("{name} {key} low"),
            low,
            want["low"].as_f64().unwrap(),
        );
        assert_close(
            &format!("{name} {key} high"),
            high,
            want["high"].as_f64().unwrap(),
        );
    }
    let lambdas: Vec<f64> = c["lambdas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let p = acceptability(inc, &lambdas).unwrap();
    for (i, want) in c["acceptability"].as_array().unwrap().iter().enumerate() {
        assert_close(&format!("{name} ceac {i}"), p[i], want.as_f64().unwrap());
    }
}

#[test]
fn person_increments_with_covariance_agree_with_the_closed_form() {
    let d = lalonde();
    let treated: Vec<bool> = d["treat"].iter().map(|&t| t == 1.0).collect();
    let age: Vec<u32> = d["age"].iter().map(|&a| a as u32).collect();
    let f = fixture();
    let cases = f["person_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for c in cases {
        let cluster = c["cluster"].as_str().map(|_| age.as_slice());
        let p = Persons {
            cost: &d["re78"],
            outcome: &d["employed78"],
            treated: &treated,
            cluster,
        };
        let inc = person_increments(&p).unwrap();
        check_case(c, &inc);
    }
}

fn lalonde_toml(costs: &str) -> String {
    format!(
        r#"
slug = "lalonde"
title = {{ nl = "NSW", en = "NSW" }}
description = {{ nl = "NSW", en = "NSW" }}
unit = {{ nl = "persoon", en = "person" }}
sources = ["LaLonde 1986; Dehejia & Wahba 1999"]
[design]
kind = "individually-randomised"
[data]
file = "lalonde.csv"
[arms]
column = "treat"
control = "0"
values = [
  {{ value = "1", label = {{ nl = "NSW", en = "NSW" }} }},
  {{ value = "0", label = {{ nl = "Controle", en = "Control" }} }},
]
[[outcomes]]
id = "employed78"
column = "employed78"
kind = "binary"
primary = true
better = "higher"
label = {{ nl = "Werk 1978", en = "Employed 1978" }}
unit = {{ nl = "procentpunt", en = "percentage points" }}
[costs]
outcome = "employed78"
{costs}
max_value = 100000.0
source = {{ nl = "re78 als kosten (test)", en = "re78 as the cost (test)" }}
"#
    )
}

fn spec(costs: &str) -> std::result::Result<PilotSpec, String> {
    PilotSpec::from_toml(
        &lalonde_toml(costs),
        &root().join("tests/fixtures/data/lalonde.toml"),
    )
    .map_err(|e| e.to_string())
}

fn run(spec: &PilotSpec, data: &Path, opts: &Options) -> via_eval::error::Result<PilotResults> {
    let input = via_eval::prepare::load(spec, data, &Default::default())?.input;
    analysis::run(spec, &input, opts, Privacy::Control(Threshold::default()))
}

#[test]
fn a_cost_column_runs_through_prepare_and_analysis() {
    let s = spec("column = \"re78\"\nbootstrap_replicates = 500").unwrap();
    let r = run(&s, &root().join("tests/fixtures/data"), &Options::default()).unwrap();
    let c = r.costs.as_ref().expect("a cost line");
    let x = &c.comparisons[0];
    let f = fixture();
    let want = &f["person_cases"][0];
    assert_eq!(x.cost_basis, "column");
    assert_eq!(x.n_treated, 185);
    assert_eq!(x.n_control, 260);
    assert_eq!(x.n_missing_cost, Some(0));
    assert_close(
        "cost_treated",
        x.cost_treated,
        want["cost_treated"].as_f64().unwrap(),
    );
    assert_close(
        "cost_control",
        x.cost_control,
        want["cost_control"].as_f64().unwrap(),
    );
    check_case(
        want,
        &via_eval::stats::cost::Increments {
            cost: x.incremental_cost,
            cost_se: x.cost_std_error,
            effect: x.incremental_effect,
            effect_se: x.effect_std_error,
            covariance: x.covariance,
        },
    );
    assert_eq!(x.bootstrap_replicates, Some(500));
    assert_eq!(x.bootstrap_seed, Some(analysis::DEFAULT_SEED));
    assert_eq!(x.plane.len(), 500);
    let json = serde_json::to_value(&r).unwrap();
    let cj = &json["costs"]["comparisons"][0];
    for k in [
        "bootstrap_low",
        "bootstrap_high",
        "bootstrap_replicates",
        "bootstrap_quadrants",
        "bootstrap_kind",
        "covariance",
        "cost_std_error",
    ] {
        assert!(!cj[k].is_null(), "{k} missing: {cj}");
    }
    assert!(
        cj.get("plane").is_none(),
        "replicates stay out of results.json"
    );
    assert!(!json.to_string().contains("NaN"));
    // A bounded percentile interval around a clear effect holds the ICER.
    assert_eq!(x.bootstrap_kind, Some(BootstrapKind::Bounded));
    let (lo, hi) = (x.bootstrap_low.unwrap(), x.bootstrap_high.unwrap());
    assert!(lo < x.icer.unwrap() && x.icer.unwrap() < hi, "{lo} {hi}");
}

#[test]
fn the_same_seed_gives_the_same_bootstrap_and_another_seed_another() {
    let d = lalonde();
    let treated: Vec<bool> = d["treat"].iter().map(|&t| t == 1.0).collect();
    let p = Persons {
        cost: &d["re78"],
        outcome: &d["employed78"],
        treated: &treated,
        cluster: None,
    };
    let a = bootstrap_icer(&p, 400, 7, 0.95).unwrap();
    let b = bootstrap_icer(&p, 400, 7, 0.95).unwrap();
    let c = bootstrap_icer(&p, 400, 8, 0.95).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.points, c.points);
    let q = a.quadrants;
    let sum = q.north_east + q.north_west + q.south_east + q.south_west + q.on_axis;
    assert!((sum - 1.0).abs() < 1e-12);
    // The replicates centre on the estimate.
    let inc = person_increments(&p).unwrap();
    let mean_e = a.points.iter().map(|p| p.0).sum::<f64>() / 400.0;
    assert!((mean_e - inc.effect).abs() < 2.0 * inc.effect_se / 20.0 + 0.01);
    // Swapping the arms: the ICER keeps its value (both increments flip sign).
    let swapped: Vec<bool> = treated.iter().map(|t| !t).collect();
    let ps = Persons {
        treated: &swapped,
        ..p
    };
    let inc_s = person_increments(&ps).unwrap();
    assert_close("swap cost", inc_s.cost, -inc.cost);
    assert_close("swap effect", inc_s.effect, -inc.effect);
    assert_close("swap covariance", inc_s.covariance, inc.covariance);
    // A constant added to every cost leaves the increments unchanged.
    let shifted: Vec<f64> = d["re78"].iter().map(|c| c + 1000.0).collect();
    let inc_k = person_increments(&Persons {
        cost: &shifted,
        ..p
    })
    .unwrap();
    assert!((inc_k.cost - inc.cost).abs() < 1e-9 * inc.cost.abs());
}

#[test]
fn the_percentile_set_is_unbounded_when_the_effect_crosses_zero() {
    // Replicates on both sides of the cost axis: ratios jump through infinity.
    let mut pts = Vec::new();
    for i in 0..200 {
        let e = -0.05 + 0.001 * f64::from(i); // -0.05 .. 0.149
        pts.push((e, 1000.0));
    }
    // With a fixed cost of 1000 the central replicates pass ΔE = 0 above: two rays,
    // (−∞, 1000/−0.045] ∪ [about 1000/0.144, ∞) (type 7 quantiles of the 200).
    let b = percentile_icer(0.05, 1000.0, pts.clone(), 0.95, 1).unwrap();
    assert_eq!(b.kind, BootstrapKind::TwoRays);
    assert_eq!((b.low, b.high), (None, None));
    let e = |i: u32| -0.05 + 0.001 * f64::from(i);
    // Sorted: 149 ratios of the positive effects, then ΔE = 0 (i = 50), then the
    // negative effects from i = 49 down; type 7 at 199 × 0.975 = 194.025 and
    // 199 × 0.025 = 4.975.
    let below = 1000.0 / e(5) + 0.025 * (1000.0 / e(4) - 1000.0 / e(5));
    assert_close("below", b.below.unwrap(), below);
    let above = 1000.0 / e(195) + 0.975 * (1000.0 / e(194) - 1000.0 / e(195));
    assert_close("above", b.above.unwrap(), above);
    // Replicates round the origin in every direction: every ratio.
    let round: Vec<(f64, f64)> = (0..400)
        .map(|i| {
            let a = f64::from(i) * std::f64::consts::TAU / 400.0;
            (0.01 * a.cos(), 100.0 * a.sin())
        })
        .collect();
    let b = percentile_icer(0.01, 0.0, round, 0.95, 1).unwrap();
    assert_eq!(b.kind, BootstrapKind::Everything);
    // Replicates on one side only: bounded, and the estimate inside.
    let one_side: Vec<(f64, f64)> = pts.iter().map(|&(e, c)| (e + 0.06, c)).collect();
    let b = percentile_icer(0.1, 1000.0, one_side, 0.95, 1).unwrap();
    assert_eq!(b.kind, BootstrapKind::Bounded);
    assert!(b.low.unwrap() < 10_000.0 && 10_000.0 < b.high.unwrap());
    // A zero effect has no ratio: undefined, never NaN.
    let b = percentile_icer(0.0, 1000.0, pts, 0.95, 1).unwrap();
    assert_eq!(b.kind, BootstrapKind::Undefined);
    assert!(serde_json::to_string(&b).unwrap().contains("\"low\":null"));
}

/// Seeded coverage check: with a clearly non-zero effect the bootstrap percentile
/// interval of the ICER covers the true ratio close to 95% of the time. 200 data sets
/// of 300 persons per arm, 400 replicates each (about 2 s in the debug build).
#[test]
fn bootstrap_coverage_is_near_nominal_with_a_clear_effect() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let (n, sims) = (300, 200);
    // Truth: cost 1000 more (SD 800), employment 0.30 → 0.50; true ICER 5000.
    let truth = 1000.0 / 0.2;
    let mut covered = 0;
    for s in 0..sims {
        let mut cost = Vec::new();
        let mut y = Vec::new();
        let mut t = Vec::new();
        for i in 0..2 * n {
            let treated = i < n;
            let p = if treated { 0.5 } else { 0.3 };
            let work = rng.random::<f64>() < p;
            // Cost correlated with the outcome (those in work cost more to support).
            let base = if treated { 3000.0 } else { 2000.0 };
            let noise: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            cost.push(
                base + 800.0 * noise + if work { 200.0 } else { 0.0 }
                    - if treated { 200.0 * 0.5 } else { 200.0 * 0.3 },
            );
            y.push(f64::from(u8::from(work)));
            t.push(treated);
        }
        let p = Persons {
            cost: &cost,
            outcome: &y,
            treated: &t,
            cluster: None,
        };
        let b = bootstrap_icer(&p, 400, s, 0.95).unwrap();
        if let (Some(lo), Some(hi)) = (b.low, b.high)
            && lo <= truth
            && truth <= hi
        {
            covered += 1;
        }
    }
    let rate = f64::from(covered) / f64::from(sims as u32);
    // Binomial SD at 95% with 200 sets: 1.5 points.
    assert!((0.90..=0.99).contains(&rate), "coverage {rate}");
}

#[test]
fn costs_config_needs_one_of_per_person_and_column() {
    let e = spec("").unwrap_err();
    assert!(e.contains("neither `per_person` nor `column`"), "{e}");
    let both = "column = \"re78\"\nper_person = [{ arm = \"1\", cost = 1.0 }, { arm = \"0\", cost = 0.0 }]";
    let e = spec(both).unwrap_err();
    assert!(e.contains("both `per_person` and `column`"), "{e}");
    let e = spec("column = \"employed78\"").unwrap_err();
    assert!(e.contains("costs.column"), "{e}");
    let e = spec("column = \"re78\"\nbootstrap_replicates = 5").unwrap_err();
    assert!(e.contains("bootstrap_replicates"), "{e}");
}

/// Bad cost columns: text, a negative cost, one cost for everyone, an arm without
/// costs, each a clear error naming the column; missing costs are left out and counted.
#[test]
fn bad_cost_columns_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/lalonde.csv")).unwrap();
    let write = |f: &dyn Fn(usize, &str, bool) -> String| {
        let mut out = String::new();
        for (i, l) in text.lines().enumerate() {
            if i == 0 {
                out.push_str(l);
                out.push_str(",cost\n");
            } else {
                let treated = l.starts_with('1');
                out.push_str(&format!("{l},{}\n", f(i, l, treated)));
            }
        }
        std::fs::write(dir.path().join("lalonde.csv"), out).unwrap();
    };
    let s = spec("column = \"cost\"").unwrap();
    let err = |s: &PilotSpec| {
        run(s, dir.path(), &Options::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    write(&|i, _, _| if i == 3 { "abc".into() } else { format!("{i}") });
    let e = err(&s);
    assert!(e.contains("\"cost\"") && e.contains("abc"), "{e}");
    write(&|i, _, _| if i == 4 { "-5".into() } else { format!("{i}") });
    let e = err(&s);
    assert!(e.contains("\"cost\"") && e.contains("0 or more"), "{e}");
    write(&|_, _, _| "100".into());
    let e = err(&s);
    assert!(e.contains("one cost for everyone"), "{e}");
    write(&|i, _, t| if t { String::new() } else { format!("{i}") });
    let e = err(&s);
    assert!(e.contains("no cost for anyone in arm \"1\""), "{e}");
    // Twenty treated persons without a cost: left out, counted, said in a note.
    write(&|i, _, t| {
        if t && i <= 20 {
            String::new()
        } else {
            format!("{i}")
        }
    });
    let r = run(&s, dir.path(), &Options::default()).unwrap();
    let x = &r.costs.as_ref().unwrap().comparisons[0];
    assert_eq!(x.n_missing_cost, Some(20));
    assert_eq!(x.n_treated, 165);
    assert!(r.notes.iter().any(|n| {
        n.text
            .en
            .contains("20 persons with the outcome but no cost")
    }));
    // Three missing: below the threshold, so the count is withheld.
    write(&|i, _, t| {
        if t && i <= 3 {
            String::new()
        } else {
            format!("{i}")
        }
    });
    let r = run(&s, dir.path(), &Options::default()).unwrap();
    let x = &r.costs.as_ref().unwrap().comparisons[0];
    assert_eq!(x.n_missing_cost, None);
    assert!(r.notes.iter().any(|n| n.text.en.contains("fewer than 10")));
}

/// The plane chart and the cost line in the report and the terminal summary, in both
/// languages; with fixed costs and a covariate-adjusted headline there is no bootstrap
/// (its unadjusted resamples would belong to another estimate) and a note says so.
#[test]
fn the_plane_and_the_cost_line_reach_the_report_in_both_languages() {
    let s = spec("column = \"re78\"\nbootstrap_replicates = 300").unwrap();
    let r = run(&s, &root().join("tests/fixtures/data"), &Options::default()).unwrap();
    for (lang, words) in [
        (
            via_eval::config::Lang::En,
            [
                "Cost per extra person (employed 1978): about €",
                "95% interval €",
                "bootstrap €",
                "Mean cost per person (from the data)",
            ],
        ),
        (
            via_eval::config::Lang::Nl,
            [
                "Kosten per extra persoon (werk 1978): ongeveer €",
                "95%-interval €",
                "bootstrap €",
                "Gemiddelde kosten per persoon (uit de data)",
            ],
        ),
    ] {
        let md = via_eval::report::markdown::render(&via_eval::report::document::build(&r, lang));
        for w in words {
            assert!(md.contains(w), "{lang:?}: '{w}' missing");
        }
        assert!(md.contains("(ce_plane.png)"));
        let summary = via_eval::report::tables::terminal_summary(&r, lang);
        let head = &words[0][..words[0].find(':').unwrap()];
        assert!(summary.contains(&head[..21]), "{summary}");
        let c = via_eval::report::charts::ce_plane_chart(&r, lang).expect("a plane");
        assert_eq!(c.points.len(), 300);
        // A yes/no effect in percentage points; the line at max_value / 2 per person,
        // so per percentage point a hundredth of it.
        assert_close("slope", c.slope.unwrap(), 50_000.0 / 100.0);
        let png = via_eval::plot::ce_plane_png(&c).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
        let svg = via_eval::plot::ce_plane_svg(&c).unwrap();
        assert!(svg.contains("<svg"));
    }
    // Fixed costs with a covariate: Fieller on the adjusted headline, and the parametric
    // bootstrap of that estimate (not a resampling of the unadjusted difference).
    let toml =
        lalonde_toml("per_person = [{ arm = \"1\", cost = 3000.0 }, { arm = \"0\", cost = 0.0 }]")
            .replace(
                "sources = [",
                "covariates = [\"age\", \"educ\"]\nsources = [",
            );
    let s = PilotSpec::from_toml(&toml, &root().join("tests/fixtures/data/lalonde.toml")).unwrap();
    let r = run(&s, &root().join("tests/fixtures/data"), &Options::default()).unwrap();
    let x = &r.costs.as_ref().unwrap().comparisons[0];
    assert!(x.bootstrap_kind.is_some());
    assert!(!x.plane.is_empty());
    assert!(x.plane.iter().all(|p| p.1 == 3000.0));
    assert!(
        x.bootstrap_method
            .as_ref()
            .unwrap()
            .en
            .contains("parametric bootstrap")
    );
    assert!(via_eval::report::charts::ce_plane_chart(&r, via_eval::config::Lang::En).is_some());
    // Without the covariate the headline is Newcombe's difference: the bootstrap runs,
    // every replicate costs 3000 more (north), and only the effect varies.
    let s =
        spec("per_person = [{ arm = \"1\", cost = 3000.0 }, { arm = \"0\", cost = 0.0 }]").unwrap();
    let r = run(&s, &root().join("tests/fixtures/data"), &Options::default()).unwrap();
    let x = &r.costs.as_ref().unwrap().comparisons[0];
    let q = x.bootstrap_quadrants.unwrap();
    assert_eq!(q.north_east + q.north_west, 1.0);
    assert!(x.plane.iter().all(|p| p.1 == 3000.0));
}

/// The parametric bootstrap of an adjusted headline with fixed costs: with the cost
/// known exactly, ΔC/ΔE* has the percentile limits ΔC/(ΔE ± z·SE), which are Fieller's
/// limits when var(ΔC) = 0; the share of draws with more effect is Φ(ΔE/SE); the same
/// seed gives the same draws.
#[test]
fn the_parametric_bootstrap_matches_fieller_with_a_fixed_cost() {
    use via_eval::stats::cost::{BootstrapKind, Increments, icer, parametric_icer};
    let inc = Increments {
        cost: 6500.0,
        cost_se: 0.0,
        effect: 0.08,
        effect_se: 0.02,
        covariance: 0.0,
    };
    let b = parametric_icer(&inc, 40_000, 11, 0.95).unwrap();
    let again = parametric_icer(&inc, 40_000, 11, 0.95).unwrap();
    assert_eq!(b.points, again.points);
    assert_eq!(b.kind, BootstrapKind::Bounded);
    let f = icer(&inc, 0.95).unwrap();
    let FiellerSet::Bounded { low, high } = f.fieller else {
        panic!("{:?}", f.fieller)
    };
    let (bl, bh) = (b.low.unwrap(), b.high.unwrap());
    assert!((bl - low).abs() / low < 0.02, "{bl} {low}");
    assert!((bh - high).abs() / high < 0.02, "{bh} {high}");
    // Every draw has the fixed cost; about Φ(4) of them more effect.
    assert!(b.points.iter().all(|p| p.1 == 6500.0));
    let more = b.points.iter().filter(|p| p.0 > 0.0).count() as f64 / 40_000.0;
    assert!(more > 0.999, "{more}");
    // A weak effect: the set is unbounded, as Fieller's.
    let weak = Increments {
        effect: 0.01,
        ..inc
    };
    let w = parametric_icer(&weak, 4000, 3, 0.95).unwrap();
    assert_ne!(w.kind, BootstrapKind::Bounded);
    // Bad input: no spread in the effect.
    assert!(
        parametric_icer(
            &Increments {
                effect_se: 0.0,
                ..inc
            },
            10,
            1,
            0.95
        )
        .is_err()
    );
}
