//! Meta-analysis (src/stats/meta.rs) against R metafor 3.8-1 on real trial data shipped
//! with it (dat.bcg, dat.hine1989): FE, DL, REML and PM, each with and without the
//! Knapp-Hartung (HKSJ) adjustment; Q-profile CI of tau², I², H², Q, the prediction
//! interval and leave-one-out. Fixtures: `scripts/fixtures/make_meta_fixtures.R`
//! (versions in each JSON `source` field). Tolerances: `tests/common/mod.rs`.
//! Also property tests: one study, I² range, order of the studies.

mod common;

use common::{assert_close, root};
use proptest::prelude::*;
use serde_json::Value;
use via_eval::stats::meta::{self, Measure, Method, Options, Pooled};

const CASES: [&str; 5] = ["bcg", "bcg_first4", "bcg_5to8", "bcg_5to8_90", "hine1989"];

fn fixture(name: &str) -> Value {
    let p = root()
        .join("tests/fixtures/reference")
        .join(format!("meta_{name}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn method(name: &str) -> Method {
    match name {
        "FE" => Method::Fixed,
        "DL" => Method::DerSimonianLaird,
        "REML" => Method::Reml,
        "PM" => Method::PauleMandel,
        other => panic!("unknown method {other}"),
    }
}

/// Compare `got` with the reference field `key` of `want`, when the reference has it.
fn check(what: &str, key: &str, got: Option<f64>, want: &Value) -> usize {
    match (got, want[key].as_f64()) {
        (Some(g), Some(w)) => {
            assert_close(&format!("{what} {key}"), g, w);
            1
        }
        (None, None) => 0,
        (g, w) => panic!("{what} {key}: got {g:?}, reference {w:?}"),
    }
}

fn check_pooled(what: &str, p: &Pooled, want: &Value, full: bool) -> usize {
    let inf = &p.inference;
    let h = &p.heterogeneity;
    let mut n = 0;
    n += check(what, "estimate", Some(inf.estimate), want);
    n += check(what, "std_error", Some(inf.std_error), want);
    n += check(what, "p_value", Some(inf.p_value), want);
    n += check(what, "ci_low", Some(inf.ci_low), want);
    n += check(what, "ci_high", Some(inf.ci_high), want);
    n += check(what, "i2", Some(h.i2), want);
    n += check(what, "q", Some(h.q), want);
    // metafor reports no tau² for fixed-effect leave-one-out rows.
    if !want["tau2"].is_null() {
        n += check(what, "tau2", Some(h.tau2), want);
    }
    if full {
        n += check(what, "statistic", Some(inf.statistic), want);
        n += check(what, "df", inf.df, want);
        n += check(what, "h2", Some(h.h2), want);
        n += check(what, "q_df", Some(h.q_df), want);
        n += check(what, "q_p_value", Some(h.q_p_value), want);
        n += check(what, "prediction_low", p.prediction.map(|x| x.0), want);
        n += check(what, "prediction_high", p.prediction.map(|x| x.1), want);
    }
    n
}

#[test]
fn matches_metafor() {
    let mut compared = 0;
    for case in CASES {
        let f = fixture(case);
        let y = floats(&f["estimates"]);
        let se = floats(&f["std_errors"]);
        let conf_level = f["conf_level"].as_f64().unwrap();
        let rows = f["results"].as_array().unwrap();
        assert_eq!(rows.len(), 8, "{case}: 4 methods x 2 tests");
        for row in rows {
            let m = row["method"].as_str().unwrap();
            let test = row["test"].as_str().unwrap();
            let opts = Options {
                method: method(m),
                hksj: test == "knha",
                conf_level,
            };
            let what = format!("{case} {m} test={test}");
            let p = meta::pool(&y, &se, opts).unwrap();
            compared += check_pooled(&what, &p, row, true);
            let h = &p.heterogeneity;
            compared += check(&what, "tau2_ci_low", Some(h.tau2_ci_low), &f);
            compared += check(&what, "tau2_ci_high", Some(h.tau2_ci_high), &f);
            assert!((p.weights.iter().sum::<f64>() - 100.0).abs() < 1e-10);

            let l1o = meta::leave_one_out(&y, &se, opts).unwrap();
            let want = row["leave_one_out"].as_array().unwrap();
            assert_eq!(l1o.len(), want.len());
            for (got, w) in l1o.iter().zip(want) {
                assert_eq!(got.left_out as u64, w["left_out"].as_u64().unwrap());
                let what = format!("{what} leave out {}", got.left_out);
                compared += check_pooled(&what, &got.pooled, w, false);
            }
        }
    }
    assert!(compared > 1500, "compared only {compared} values");
}

#[test]
fn tau2_functions_agree_with_pool() {
    let f = fixture("bcg");
    let y = floats(&f["estimates"]);
    let se = floats(&f["std_errors"]);
    let opts = |method| Options {
        method,
        hksj: false,
        conf_level: 0.95,
    };
    let tau2 = |m| meta::pool(&y, &se, opts(m)).unwrap().heterogeneity.tau2;
    assert_eq!(
        meta::tau2_dl(&y, &se).unwrap(),
        tau2(Method::DerSimonianLaird)
    );
    assert_eq!(meta::tau2_reml(&y, &se).unwrap(), tau2(Method::Reml));
    assert_eq!(meta::tau2_pm(&y, &se).unwrap(), tau2(Method::PauleMandel));
    let (lo, hi) = meta::tau2_q_profile_ci(&y, &se, 0.95).unwrap();
    assert_close("tau2 ci low", lo, f["tau2_ci_low"].as_f64().unwrap());
    assert_close("tau2 ci high", hi, f["tau2_ci_high"].as_f64().unwrap());
}

/// A case proptest found where plain Fisher scoring crawls (k = 2, variances 3,600
/// times apart): the REML tau² must still match metafor, whose value here was computed
/// with `rma(yi, sei = ..., method = "REML", control = list(threshold = 1e-15,
/// maxiter = 10000))` (R 4.2.2, metafor 3.8-1).
#[test]
fn reml_when_fisher_scoring_is_slow() {
    let y = [2.1726226177730674, 2.7713869256386596];
    let se = [0.5973789607004721, 0.01];
    assert_close(
        "REML tau2",
        meta::tau2_reml(&y, &se).unwrap(),
        0.0007785368430926183,
    );
}

/// Effect sizes from event counts against metafor's escalc on trials with zero cells
/// (one with no events at all), and the REML + Knapp-Hartung pooling of them.
#[test]
fn counts_match_escalc() {
    let f = fixture("counts_nielweise2007");
    let et = floats(&f["events_treated"]);
    let nt = floats(&f["n_treated"]);
    let ec = floats(&f["events_control"]);
    let nc = floats(&f["n_control"]);
    for m in f["measures"].as_array().unwrap() {
        let name = m["measure"].as_str().unwrap();
        let measure = match name {
            "RD" => Measure::RiskDifference,
            "RR" => Measure::LogRiskRatio,
            "OR" => Measure::LogOddsRatio,
            other => panic!("unknown measure {other}"),
        };
        let yi = floats(&m["yi"]);
        let vi = floats(&m["vi"]);
        let mut se = Vec::new();
        for i in 0..yi.len() {
            let (y, v) = meta::effect_from_counts(measure, et[i], nt[i], ec[i], nc[i]).unwrap();
            assert_close(&format!("{name} yi {i}"), y, yi[i]);
            assert_close(&format!("{name} vi {i}"), v, vi[i]);
            se.push(v.sqrt());
        }
        let p = meta::pool(
            &yi,
            &se,
            Options {
                method: Method::Reml,
                hksj: true,
                conf_level: 0.95,
            },
        )
        .unwrap();
        let want = &m["reml_knha"];
        let what = format!("{name} pooled");
        let inf = &p.inference;
        check(&what, "estimate", Some(inf.estimate), want);
        check(&what, "std_error", Some(inf.std_error), want);
        check(&what, "ci_low", Some(inf.ci_low), want);
        check(&what, "ci_high", Some(inf.ci_high), want);
        check(&what, "tau2", Some(p.heterogeneity.tau2), want);
        check(&what, "q", Some(p.heterogeneity.q), want);
    }
    assert!(meta::effect_from_counts(Measure::LogRiskRatio, 3.0, 2.0, 1.0, 5.0).is_err());
    assert!(meta::effect_from_counts(Measure::LogOddsRatio, -1.0, 2.0, 1.0, 5.0).is_err());
    assert!(meta::effect_from_counts(Measure::RiskDifference, 1.5, 2.0, 1.0, 5.0).is_err());
    assert!(meta::effect_from_counts(Measure::RiskDifference, 0.0, 0.0, 1.0, 5.0).is_err());
}

fn any_method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Fixed),
        Just(Method::DerSimonianLaird),
        Just(Method::Reml),
        Just(Method::PauleMandel),
    ]
}

fn studies() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec((-3.0..3.0f64, 0.01..2.0f64), 2..15)
}

proptest! {
    /// A study pooled with an exact copy of itself (the smallest meta-analysis the
    /// functions accept) returns that study's estimate; with the fixed effect the SE is
    /// that of two independent copies, se/√2.
    #[test]
    fn one_study_returns_that_study(y in -5.0..5.0f64, se in 0.001..10.0f64, m in any_method()) {
        let p = meta::pool(&[y, y], &[se, se], Options { method: m, hksj: false, conf_level: 0.95 }).unwrap();
        prop_assert!((p.inference.estimate - y).abs() <= 1e-12 * y.abs().max(1.0));
        prop_assert_eq!(p.heterogeneity.tau2, 0.0);
        if m == Method::Fixed {
            let want = se / 2f64.sqrt();
            prop_assert!((p.inference.std_error - want).abs() <= 1e-12 * want);
        }
    }

    #[test]
    fn i2_is_a_percentage(s in studies(), m in any_method(), hksj in any::<bool>()) {
        let (y, se): (Vec<f64>, Vec<f64>) = s.into_iter().unzip();
        let p = meta::pool(&y, &se, Options { method: m, hksj, conf_level: 0.95 }).unwrap();
        let h = p.heterogeneity;
        prop_assert!((0.0..=100.0).contains(&h.i2), "I2 = {}", h.i2);
        prop_assert!(h.tau2 >= 0.0 && h.tau2_ci_low <= h.tau2_ci_high);
    }

    #[test]
    fn order_of_studies_does_not_matter(s in studies(), m in any_method(), hksj in any::<bool>(), rot in 0usize..15) {
        let (y, se): (Vec<f64>, Vec<f64>) = s.iter().cloned().unzip();
        let mut perm = s.clone();
        perm.rotate_left(rot % s.len());
        perm.reverse();
        let (py, pse): (Vec<f64>, Vec<f64>) = perm.into_iter().unzip();
        let o = Options { method: m, hksj, conf_level: 0.95 };
        let a = meta::pool(&y, &se, o).unwrap();
        let b = meta::pool(&py, &pse, o).unwrap();
        let near = |x: f64, z: f64| (x - z).abs() <= 1e-9 * x.abs().max(z.abs()) + 1e-12;
        prop_assert!(near(a.inference.estimate, b.inference.estimate));
        prop_assert!(near(a.inference.std_error, b.inference.std_error));
        prop_assert!(near(a.heterogeneity.tau2, b.heterogeneity.tau2));
        prop_assert!(near(a.heterogeneity.q, b.heterogeneity.q));
        prop_assert!(near(a.heterogeneity.tau2_ci_high, b.heterogeneity.tau2_ci_high));
    }
}
