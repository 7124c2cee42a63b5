//! Issue 17 item 5: the cost per extra person with the outcome (ICER) with Fieller's
//! interval and the acceptability curve, against the closed form
//! (scripts/fixtures/make_cost_fixtures.py).

use via_eval::stats::cost::{FiellerSet, Increments, acceptability, icer};

mod common;
use common::{assert_close, root};

fn increments(c: &serde_json::Value) -> Increments {
    Increments {
        cost: c["cost"].as_f64().unwrap(),
        cost_se: c["cost_se"].as_f64().unwrap(),
        effect: c["effect"].as_f64().unwrap(),
        effect_se: c["effect_se"].as_f64().unwrap(),
        covariance: c["covariance"].as_f64().unwrap(),
    }
}

#[test]
fn fieller_and_acceptability_agree_with_the_closed_form() {
    let f: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cost_fieller.json"))
            .unwrap(),
    )
    .unwrap();
    let cases = f["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    let mut kinds = std::collections::BTreeSet::new();
    for c in cases {
        let inc = increments(c);
        let name = c["name"].as_str().unwrap();
        for (conf, key) in [(0.95, "fieller_95"), (0.90, "fieller_90")] {
            let got = icer(&inc, conf).unwrap();
            assert_close(name, got.icer, inc.cost / inc.effect);
            let want = &c[key];
            match (got.fieller, want["kind"].as_str().unwrap()) {
                (FiellerSet::Bounded { low, high }, "bounded") => {
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
                    // A bounded interval holds the ratio itself.
                    assert!(low <= got.icer && got.icer <= high, "{name}");
                }
                (FiellerSet::TwoRays { below, above }, "two_rays") => {
                    assert_close(
                        &format!("{name} {key} below"),
                        below,
                        want["below"].as_f64().unwrap(),
                    );
                    assert_close(
                        &format!("{name} {key} above"),
                        above,
                        want["above"].as_f64().unwrap(),
                    );
                }
                (FiellerSet::Everything, "everything") => {}
                (g, w) => panic!("{name} {key}: got {g:?}, want {w}"),
            }
            kinds.insert(want["kind"].as_str().unwrap().to_string());
        }
        let lambdas: Vec<f64> = c["lambdas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let p = acceptability(&inc, &lambdas).unwrap();
        for (i, want) in c["acceptability"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            // Probabilities near 0.5 at a net benefit of exactly 0 up to rounding.
            assert!(
                (p[i] - want).abs() <= 1e-8 * want.abs().max(1e-300) + 1e-12,
                "{name} λ = {}: {} vs {want}",
                lambdas[i],
                p[i]
            );
        }
    }
    assert_eq!(kinds.len(), 3, "every kind of Fieller set is checked");
}

#[test]
fn fixed_costs_give_the_inverted_effect_interval() {
    // With a known cost, Fieller's interval is ΔC divided by the ends of the effect's
    // normal interval.
    let inc = Increments {
        cost: 2000.0,
        cost_se: 0.0,
        effect: 0.05,
        effect_se: 0.01,
        covariance: 0.0,
    };
    let z = via_eval::stats::dist::normal_quantile(0.975);
    let FiellerSet::Bounded { low, high } = icer(&inc, 0.95).unwrap().fieller else {
        panic!("bounded expected");
    };
    assert_close("low", low, 2000.0 / (0.05 + z * 0.01));
    assert_close("high", high, 2000.0 / (0.05 - z * 0.01));
    // The acceptability curve rises with the value of an extra person in work.
    let p = acceptability(&inc, &[0.0, 20_000.0, 40_000.0, 80_000.0]).unwrap();
    assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
    assert_eq!(p[0], 0.0);
}

#[test]
fn bad_increments_are_errors() {
    let ok = Increments {
        cost: 1.0,
        cost_se: 0.0,
        effect: 0.1,
        effect_se: 0.02,
        covariance: 0.0,
    };
    assert!(
        icer(
            &Increments {
                effect_se: 0.0,
                ..ok
            },
            0.95
        )
        .is_err()
    );
    assert!(
        icer(
            &Increments {
                cost: f64::NAN,
                ..ok
            },
            0.95
        )
        .is_err()
    );
    assert!(
        icer(
            &Increments {
                cost_se: -1.0,
                ..ok
            },
            0.95
        )
        .is_err()
    );
    assert!(
        acceptability(
            &Increments {
                effect_se: f64::INFINITY,
                ..ok
            },
            &[1.0]
        )
        .is_err()
    );
}

#[test]
fn a_pilot_with_costs_reports_the_cost_per_extra_person_in_both_languages() {
    use via_eval::analysis::{self, Options, Privacy, Threshold};
    let spec = via_eval::config::load_slug(&root().join("pilots"), "leren-en-werken").unwrap();
    let input = via_eval::prepare::load(&spec, &root().join("notebooks-data"), &Default::default())
        .unwrap()
        .input;
    let r = analysis::run(
        &spec,
        &input,
        &Options::default(),
        Privacy::Control(Threshold::default()),
    )
    .unwrap();
    let c = r.costs.as_ref().expect("leren-en-werken declares [costs]");
    assert_eq!(c.outcome, "work_12m");
    let x = &c.comparisons[0];
    let e = r
        .estimates
        .iter()
        .find(|e| e.outcome == "work_12m" && e.subset == "pooled" && e.headline)
        .unwrap();
    assert_eq!(x.incremental_cost, 6500.0);
    assert_eq!(x.incremental_effect, e.estimate);
    assert_close("icer", x.icer.unwrap(), 6500.0 / e.estimate);
    // The effect's interval contains 0, so Fieller's set is unbounded.
    assert!(e.ci_low < 0.0);
    assert!(
        matches!(x.fieller, FiellerSet::TwoRays { .. }),
        "{:?}",
        x.fieller
    );
    assert_eq!(
        x.acceptability.len(),
        via_eval::analysis::costs::CURVE_POINTS
    );
    assert!(
        x.acceptability
            .windows(2)
            .all(|w| w[0].probability <= w[1].probability)
    );
    for (lang, words) in [
        (
            via_eval::config::Lang::En,
            ["Cost per extra person", "unbounded", "ILLUSTRATIVE"],
        ),
        (
            via_eval::config::Lang::Nl,
            ["Kosten per extra persoon", "onbegrensd", "ILLUSTRATIEVE"],
        ),
    ] {
        let md = via_eval::report::markdown::render(&via_eval::report::document::build(&r, lang));
        for w in words {
            assert!(md.contains(w), "{lang:?}: '{w}' missing");
        }
        assert!(md.contains("acceptability.png"));
    }
}

#[test]
fn costs_must_name_every_arm_and_a_source() {
    let text = std::fs::read_to_string(root().join("pilots/leren-en-werken.toml")).unwrap();
    let path = std::path::Path::new("pilots/leren-en-werken.toml");
    let missing = text.replace("  { arm = \"vergelijking\", cost = 0.0 },\n", "");
    assert_ne!(missing, text);
    let e = via_eval::config::PilotSpec::from_toml(&missing, path)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("costs.per_person") && e.contains("vergelijking"),
        "{e}"
    );
    let negative = text.replace("cost = 6500.0", "cost = -1.0");
    let e = via_eval::config::PilotSpec::from_toml(&negative, path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("0 or more"), "{e}");
    let wrong = text.replace(
        "outcome = \"work_12m\"\nper_person",
        "outcome = \"months_to_job\"\nper_person",
    );
    assert_ne!(wrong, text);
    let e = via_eval::config::PilotSpec::from_toml(&wrong, path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("time to an event"), "{e}");
}
