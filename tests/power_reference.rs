//! Power, sample size and minimum detectable effect (stats::power) against statsmodels
//! (TTestIndPower, NormalIndPower, proportion_effectsize), scipy.stats.nct, the
//! closed forms for cluster designs and R pwr (pwr.t2n.test, pwr.2p2n.test; power
//! only). Fixtures: `scripts/fixtures/make_power_fixtures.{py,R}` (versions in their
//! `source` fields). Tolerances are defined once, in
//! `tests/common/mod.rs`. Property tests: power is monotone in n and in the effect;
//! solving for n, then for power, returns at least the target and one person fewer per
//! arm falls short; solving for the MDE, then for power, returns the target.

mod common;

use common::{NCT_ABS_TOL, NCT_REL_TOL, assert_close, root};
use proptest::prelude::*;
use serde_json::Value;
use via_eval::stats::power::{
    self, Design, Effect, Method, Outcome, noncentral_t_cdf, noncentral_t_sf,
};

fn fixture() -> Value {
    let p = root().join("tests/fixtures/reference/power.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"))
}

fn method(v: &Value) -> Method {
    match v["method"].as_str().unwrap() {
        "t" => Method::T,
        "normal" => Method::Normal,
        "arcsine" => Method::Arcsine,
        m => panic!("{m}"),
    }
}

#[test]
fn noncentral_t_against_scipy() {
    let fx = fixture();
    for r in fx["nct"].as_array().unwrap() {
        let (t, df, delta) = (f(r, "t"), f(r, "df"), f(r, "delta"));
        for (what, got, want) in [
            ("cdf", noncentral_t_cdf(t, df, delta), f(r, "cdf")),
            ("sf", noncentral_t_sf(t, df, delta), f(r, "sf")),
        ] {
            assert!(
                (got - want).abs() <= NCT_REL_TOL * want.abs() + NCT_ABS_TOL,
                "nct {what}(t = {t}, df = {df}, delta = {delta}): got {got:.17e}, scipy {want:.17e}"
            );
        }
    }
}

#[test]
fn power_against_r_pwr() {
    let p = root().join("tests/fixtures/reference/power_pwr.json");
    let fx: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    for r in fx["cases"].as_array().unwrap() {
        let (effect, outcome) = match method(r) {
            Method::T => (Effect::D(f(r, "d")), Outcome::Continuous),
            _ => {
                let (p0, p1) = (f(r, "p0"), f(r, "p1"));
                assert_close("ES.h", power::cohens_h(p1, p0), f(r, "h"));
                (Effect::P1(p1), Outcome::Binary { p0 })
            }
        };
        let mut d = Design::new(outcome, method(r));
        d.alpha = f(r, "alpha");
        d.two_sided = f(r, "sided") == 2.0;
        let got = power::power(&d, effect, f(r, "n_treated"), f(r, "n_control")).unwrap();
        assert_close(&format!("power {r}"), got, f(r, "power"));
    }
}

#[test]
fn continuous_against_statsmodels() {
    let fx = fixture();
    for r in fx["continuous"].as_array().unwrap() {
        let mut d = Design::new(Outcome::Continuous, method(r));
        d.alpha = f(r, "alpha");
        d.two_sided = f(r, "sided") == 2.0;
        d.r2 = f(r, "r2");
        d.attrition = f(r, "attrition");
        d.allocation = f(r, "allocation");
        let (nt, nc, target) = (f(r, "n_treated"), f(r, "n_control"), f(r, "target"));
        let what = format!("{r}");
        let p = power::power(&d, Effect::D(f(r, "d")), nt, nc).unwrap();
        assert_close(&format!("power {what}"), p, f(r, "power"));
        let n = power::solve_n(&d, Effect::D(f(r, "d")), target).unwrap();
        assert_close(&format!("n {what}"), n.n_total_exact, f(r, "n_total_exact"));
        let a = d.allocation;
        assert_eq!(n.n_treated, (a * f(r, "n_total_exact")).ceil() as u64);
        assert_eq!(
            n.n_control,
            ((1.0 - a) * f(r, "n_total_exact")).ceil() as u64
        );
        let m = power::solve_mde(&d, nt, nc, target).unwrap();
        assert_close(&format!("mde {what}"), m.standardised, f(r, "mde_d"));
    }
}

#[test]
fn binary_against_statsmodels_and_closed_form() {
    let fx = fixture();
    for r in fx["binary"].as_array().unwrap() {
        let mut d = Design::new(Outcome::Binary { p0: f(r, "p0") }, method(r));
        d.alpha = f(r, "alpha");
        d.two_sided = f(r, "sided") == 2.0;
        d.allocation = f(r, "allocation");
        let (nt, nc, target) = (f(r, "n_treated"), f(r, "n_control"), f(r, "target"));
        let p1 = f(r, "p1");
        let what = format!("{r}");
        assert_close(
            "Cohen's h",
            power::cohens_h(p1, f(r, "p0")),
            f(r, "cohens_h"),
        );
        let p = power::power(&d, Effect::P1(p1), nt, nc).unwrap();
        assert_close(&format!("power {what}"), p, f(r, "power"));
        let n = power::solve_n(&d, Effect::P1(p1), target).unwrap();
        assert_close(&format!("n {what}"), n.n_total_exact, f(r, "n_total_exact"));
        let m = power::solve_mde(&d, nt, nc, target).unwrap();
        let Effect::P1(mp1) = m.effect else { panic!() };
        assert_close(&format!("mde p1 {what}"), mp1, f(r, "mde_p1"));
    }
}

#[test]
fn cluster_designs_against_closed_forms() {
    let fx = fixture();
    for r in fx["cluster"].as_array().unwrap() {
        let mut d = Design::new(Outcome::Continuous, method(r));
        d.alpha = f(r, "alpha");
        d.two_sided = f(r, "sided") == 2.0;
        d.r2 = f(r, "r2");
        d.icc = f(r, "icc");
        d.cluster_size = Some(f(r, "cluster_size"));
        d.cv_cluster_size = f(r, "cv");
        let m = f(r, "cluster_size");
        let (nt, nc) = (f(r, "clusters_treated") * m, f(r, "clusters_control") * m);
        let what = format!("{r}");
        assert_close(
            &format!("design effect {what}"),
            d.design_effect().unwrap(),
            f(r, "design_effect"),
        );
        let p = power::power(&d, Effect::D(f(r, "d")), nt, nc).unwrap();
        assert_close(&format!("power {what}"), p, f(r, "power"));
        if let Some(want) = r["mde_d"].as_f64() {
            let got = power::solve_mde(&d, nt, nc, f(r, "target")).unwrap();
            assert_close(&format!("mde {what}"), got.standardised, want);
        }
    }
}

#[test]
fn mde_from_the_standard_error() {
    let fx = fixture();
    for r in fx["mde_from_se"].as_array().unwrap() {
        let got = power::mde_from_se(
            f(r, "se"),
            r["df"].as_f64(),
            f(r, "alpha"),
            f(r, "target"),
            f(r, "sided") == 2.0,
        )
        .unwrap();
        assert_close(&format!("mde {r}"), got, f(r, "mde"));
        if let Some(bloom) = r["bloom_closed_form"].as_f64() {
            assert_close(&format!("Bloom {r}"), got, bloom);
        }
    }
    assert!(power::mde_from_se(0.0, None, 0.05, 0.8, true).is_err());
    assert!(power::mde_from_se(1.0, Some(0.5), 0.05, 0.8, true).is_err());
    assert!(power::mde_from_se(1.0, None, 0.05, 1.0, true).is_err());
}

#[test]
fn bad_input_is_a_clear_error() {
    let c = Design::new(Outcome::Continuous, Method::T);
    let e = power::solve_n(&c, Effect::D(0.0), 0.8).unwrap_err();
    assert!(e.to_string().contains("effect is zero"), "{e}");
    for target in [0.0, 1.0, -0.2, f64::NAN] {
        let e = power::solve_n(&c, Effect::D(0.3), target).unwrap_err();
        assert!(e.to_string().contains("target power"), "{e}");
    }
    let mut d = c;
    d.icc = 1.0;
    d.cluster_size = Some(20.0);
    assert!(
        power::power(&d, Effect::D(0.3), 100.0, 100.0)
            .unwrap_err()
            .to_string()
            .contains("icc")
    );
    let mut d = c;
    d.alpha = 1.0;
    assert!(
        power::power(&d, Effect::D(0.3), 100.0, 100.0)
            .unwrap_err()
            .to_string()
            .contains("alpha")
    );
    let b = Design::new(Outcome::Binary { p0: 0.0 }, Method::Normal);
    assert!(
        power::power(&b, Effect::P1(0.3), 100.0, 100.0)
            .unwrap_err()
            .to_string()
            .contains("p0")
    );
    let b = Design::new(Outcome::Binary { p0: 0.3 }, Method::Arcsine);
    assert!(
        power::power(&b, Effect::P1(1.0), 100.0, 100.0)
            .unwrap_err()
            .to_string()
            .contains("p1")
    );
}

/// Found by the property test below: at a 10/90 allocation the smallest defined total
/// (1 + 9) already reaches the target, and solve_n used to return 2 + 10 because the
/// nudge that keeps the total defined was rounded up to a whole extra person.
#[test]
fn smallest_total_is_not_rounded_past_a_whole_person() {
    let mut d = Design::new(Outcome::Continuous, Method::Normal);
    d.alpha = 0.193;
    d.two_sided = false;
    d.allocation = 0.1;
    d.r2 = 0.48;
    let n = power::solve_n(&d, Effect::D(0.993), 0.5).unwrap();
    assert_eq!((n.n_treated, n.n_control), (1, 9));
    assert!(power::power(&d, Effect::D(0.993), 1.0, 9.0).unwrap() >= 0.5);
}

fn any_design() -> impl Strategy<Value = Design> {
    (
        prop_oneof![Just(Method::T), Just(Method::Normal)],
        0.01f64..0.2,
        any::<bool>(),
        0.1f64..0.9,
        0.0f64..0.6,
        0.0f64..0.3,
    )
        .prop_map(|(m, alpha, two, a, r2, att)| {
            let mut d = Design::new(Outcome::Continuous, m);
            d.alpha = alpha;
            d.two_sided = two;
            d.allocation = a;
            d.r2 = r2;
            d.attrition = att;
            d
        })
}

fn any_binary() -> impl Strategy<Value = Design> {
    (
        prop_oneof![Just(Method::Arcsine), Just(Method::Normal)],
        0.05f64..0.8,
        0.1f64..0.9,
        prop_oneof![Just(None), (2.0f64..30.0).prop_map(Some)],
        0.0f64..0.2,
    )
        .prop_map(|(m, p0, a, cl, icc)| {
            let mut d = Design::new(Outcome::Binary { p0 }, m);
            d.allocation = a;
            d.cluster_size = cl;
            d.icc = if cl.is_some() { icc } else { 0.0 };
            d
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn power_is_monotone_in_n_and_effect(d in any_design(), x in 0.05f64..1.0, n in 10.0f64..500.0) {
        // Up to the accuracy of the distribution functions (about 1e-12 absolute): near
        // a power of 1 neighbouring values differ by rounding only.
        let p = power::power(&d, Effect::D(x), n, n).unwrap() - 1e-12;
        prop_assert!(power::power(&d, Effect::D(x), n + 5.0, n + 5.0).unwrap() >= p);
        prop_assert!(power::power(&d, Effect::D(x * 1.1), n, n).unwrap() >= p);
    }

    #[test]
    fn solved_n_reaches_the_target_and_one_fewer_falls_short(
        d in any_design(), x in 0.1f64..1.0, target in 0.5f64..0.95,
    ) {
        let n = power::solve_n(&d, Effect::D(x), target).unwrap();
        let (t, c) = (n.n_treated as f64, n.n_control as f64);
        prop_assert!(power::power(&d, Effect::D(x), t, c).unwrap() >= target);
        if t > 1.0
            && c > 1.0
            && let Ok(p) = power::power(&d, Effect::D(x), t - 1.0, c - 1.0)
        {
            prop_assert!(p < target, "{} {} {}", t, c, p);
        }
    }

    #[test]
    fn solved_n_binary_reaches_the_target(d in any_binary(), up in 0.05f64..0.15, target in 0.5f64..0.95) {
        let Outcome::Binary { p0 } = d.outcome else { unreachable!() };
        let p1 = p0 + up;
        let n = power::solve_n(&d, Effect::P1(p1), target).unwrap();
        let (t, c) = (n.n_treated as f64, n.n_control as f64);
        prop_assert!(power::power(&d, Effect::P1(p1), t, c).unwrap() >= target);
        prop_assert!(power::power(&d, Effect::P1(p1), t - 1.0, c - 1.0).unwrap() < target);
    }

    #[test]
    fn solved_mde_has_the_target_power(d in any_design(), n in 10.0f64..800.0, target in 0.5f64..0.95) {
        let m = power::solve_mde(&d, n, 1.5 * n, target).unwrap();
        let p = power::power(&d, m.effect, n, 1.5 * n).unwrap();
        prop_assert!((p - target).abs() < 1e-9, "{} {}", p, target);
    }

    #[test]
    fn solved_binary_mde_has_the_target_power(d in any_binary(), n in 200.0f64..2000.0, target in 0.5f64..0.95) {
        if let Ok(m) = power::solve_mde(&d, n, n, target) {
            let p = power::power(&d, m.effect, n, n).unwrap();
            prop_assert!((p - target).abs() < 1e-9, "{} {}", p, target);
        }
    }
}
