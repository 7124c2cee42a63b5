//! Survival estimators against R `survival` on the data sets it ships (fixtures made by
//! scripts/fixtures/make_survival_fixtures.R; versions in each JSON `source` field and
//! in scripts/fixtures/README.md), properties that must hold on any data, the
//! derivation of (time, event) from a monthly panel, and the Kaplan-Meier chart.
//! Tolerances are defined once, in `tests/common/mod.rs`.

mod common;

use std::collections::HashMap;

use common::{REL_TOL, assert_close, root};
use proptest::prelude::*;
use serde_json::Value;
use via_eval::plot::{
    AtRiskRow, Lang, SurvivalChart, SurvivalCurve, survival_chart_png, survival_chart_svg,
};
use via_eval::stats::StatsError;
use via_eval::stats::ols::Clusters;
use via_eval::stats::survival::{
    CiTransform, KmCurve, cox_ph, kaplan_meier, log_rank, rmst_difference, survival_from_panel,
};

const CASES: [&str; 5] = ["veteran", "lung", "colon_recurrence", "rats", "ovarian"];

// ------------------------------------------------------------------ fixtures ----

fn fixture(name: &str) -> Value {
    let p = root()
        .join("tests/fixtures/survival")
        .join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// The fixture CSVs: plain header, no quoting, no missing values.
struct Table(HashMap<String, Vec<String>>);

impl Table {
    fn load(case: &Value) -> Self {
        let text = std::fs::read_to_string(root().join(case["data"].as_str().unwrap())).unwrap();
        let mut lines = text.lines();
        let names: Vec<&str> = lines.next().unwrap().split(',').collect();
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); names.len()];
        for line in lines {
            for (c, f) in cols.iter_mut().zip(line.split(',')) {
                c.push(f.to_string());
            }
        }
        Self(names.into_iter().map(String::from).zip(cols).collect())
    }
    fn text(&self, col: &str) -> &[String] {
        &self.0[col]
    }
    fn num(&self, col: &str) -> Vec<f64> {
        self.0[col].iter().map(|v| v.parse().unwrap()).collect()
    }
    fn event(&self) -> Vec<bool> {
        self.0["event"].iter().map(|v| v == "1").collect()
    }
    /// Labels as codes 0.. in order of first appearance.
    fn codes(&self, col: &str) -> Vec<u32> {
        let mut map = HashMap::new();
        self.0[col]
            .iter()
            .map(|v| {
                let next = map.len() as u32;
                *map.entry(v.clone()).or_insert(next)
            })
            .collect()
    }
}

/// Group labels coded by their position in the fixture's `groups` list.
fn group_codes(case: &Value, t: &Table) -> Vec<u32> {
    let groups: Vec<&str> = case["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    t.text("group")
        .iter()
        .map(|g| groups.iter().position(|x| x == g).unwrap() as u32)
        .collect()
}

fn group_code(case: &Value, label: &Value) -> u32 {
    case["groups"]
        .as_array()
        .unwrap()
        .iter()
        .position(|g| g == label)
        .unwrap() as u32
}

fn transform(name: &str) -> CiTransform {
    match name {
        "log-log" => CiTransform::LogLog,
        "log" => CiTransform::Log,
        "plain" => CiTransform::Plain,
        other => panic!("unknown conf_type {other}"),
    }
}

/// A reference number, or NaN for R's NA (null).
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Agreement to the shared tolerance; NaN (undefined) must match R's NA exactly.
#[track_caller]
fn check(what: &str, got: f64, want: &Value) {
    let w = num(want);
    if w.is_nan() {
        assert!(got.is_nan(), "{what}: got {got}, reference NA");
    } else {
        assert_close(what, got, w);
    }
}

#[track_caller]
fn check_opt(what: &str, got: Option<f64>, want: &Value) {
    match (got, want.as_f64()) {
        (None, None) => {}
        (Some(g), Some(w)) => assert_close(what, g, w),
        _ => panic!("{what}: got {got:?}, reference {want}"),
    }
}

#[track_caller]
fn check_count(what: &str, got: usize, want: &Value) {
    assert_eq!(got as u64, want.as_u64().unwrap(), "{what}");
}

struct Case {
    json: Value,
    table: Table,
    time: Vec<f64>,
    event: Vec<bool>,
    group: Vec<u32>,
}

fn case(name: &'static str) -> Case {
    let json = fixture(name);
    let table = Table::load(&json);
    Case {
        time: table.num("time"),
        event: table.event(),
        group: group_codes(&json, &table),
        json,
        table,
    }
}

fn curves(c: &Case, conf_type: &str) -> Vec<KmCurve> {
    let level = c.json["conf_level"].as_f64().unwrap();
    kaplan_meier(&c.time, &c.event, &c.group, transform(conf_type), level).unwrap()
}

fn curve_for<'a>(cs: &'a [KmCurve], c: &Case, label: &Value) -> &'a KmCurve {
    let code = group_code(&c.json, label);
    cs.iter().find(|k| k.group == code).unwrap()
}

// -------------------------------------------------------------- Kaplan-Meier ----

#[test]
fn kaplan_meier_rows_match_r() {
    let mut rows_checked = 0;
    for name in CASES {
        let c = case(name);
        for want in c.json["km"].as_array().unwrap() {
            let ct = want["conf_type"].as_str().unwrap();
            let cs = curves(&c, ct);
            let got = curve_for(&cs, &c, &want["group"]);
            let tag = format!("{name} group {} {ct}", want["group"]);
            check_count(&format!("{tag} n"), got.n, &want["n"]);
            check_count(&format!("{tag} events"), got.events, &want["events"]);
            let rows = want["rows"].as_array().unwrap();
            assert_eq!(got.rows.len(), rows.len(), "{tag}: number of event times");
            for (g, w) in got.rows.iter().zip(rows) {
                let at = format!("{tag} t={}", w["time"]);
                check(&format!("{at} time"), g.time, &w["time"]);
                check(&format!("{at} survival"), g.survival, &w["survival"]);
                check(&format!("{at} std_error"), g.std_error, &w["std_error"]);
                check(&format!("{at} ci_low"), g.ci_low, &w["ci_low"]);
                check(&format!("{at} ci_high"), g.ci_high, &w["ci_high"]);
                check_count(&format!("{at} at_risk"), g.at_risk, &w["at_risk"]);
                check_count(&format!("{at} events"), g.events, &w["events"]);
                check_count(&format!("{at} censored"), g.censored, &w["censored"]);
                rows_checked += 1;
            }
        }
    }
    assert!(rows_checked > 1000, "only {rows_checked} rows compared");
}

#[test]
fn survival_at_times_matches_r() {
    for name in CASES {
        let c = case(name);
        let times: Vec<f64> = c.json["at_times"]["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(num)
            .collect();
        for want in c.json["at_times"]["results"].as_array().unwrap() {
            let ct = want["conf_type"].as_str().unwrap();
            let cs = curves(&c, ct);
            let got = curve_for(&cs, &c, &want["group"]).at_times(&times).unwrap();
            let rows = want["rows"].as_array().unwrap();
            assert_eq!(got.len(), rows.len());
            for (g, w) in got.iter().zip(rows) {
                let at = format!("{name} group {} {ct} at {}", want["group"], w["time"]);
                check(&format!("{at} time"), g.time, &w["time"]);
                check(&format!("{at} survival"), g.survival, &w["survival"]);
                check(&format!("{at} std_error"), g.std_error, &w["std_error"]);
                check(&format!("{at} ci_low"), g.ci_low, &w["ci_low"]);
                check(&format!("{at} ci_high"), g.ci_high, &w["ci_high"]);
                check_count(&format!("{at} at_risk"), g.at_risk, &w["at_risk"]);
                check_count(&format!("{at} events"), g.events, &w["events"]);
                check_count(&format!("{at} censored"), g.censored, &w["censored"]);
            }
        }
    }
}

#[test]
fn median_and_its_interval_match_r() {
    let mut not_reached = 0;
    for name in CASES {
        let c = case(name);
        for want in c.json["median"].as_array().unwrap() {
            let ct = want["conf_type"].as_str().unwrap();
            let cs = curves(&c, ct);
            let m = curve_for(&cs, &c, &want["group"]).median();
            let tag = format!("{name} group {} {ct} median", want["group"]);
            check_opt(&tag, m.estimate, &want["estimate"]);
            check_opt(&format!("{tag} ci_low"), m.ci_low, &want["ci_low"]);
            check_opt(&format!("{tag} ci_high"), m.ci_high, &want["ci_high"]);
            // print.survfit's rule gives the same on these data.
            check_opt(
                &format!("{tag} (print)"),
                m.estimate,
                &want["print_estimate"],
            );
            not_reached += usize::from(m.estimate.is_none()) + usize::from(m.ci_high.is_none());
        }
    }
    assert!(not_reached > 5, "the fixtures cover medians not reached");
}

// ------------------------------------------------------------------ log-rank ----

fn check_logrank(tag: &str, c: &Case, got: &via_eval::stats::survival::LogRank, want: &Value) {
    check(
        &format!("{tag} statistic"),
        got.statistic,
        &want["statistic"],
    );
    check_count(&format!("{tag} df"), got.df, &want["df"]);
    check(&format!("{tag} p"), got.p_value, &want["p_value"]);
    for w in want["groups"].as_array().unwrap() {
        let code = group_code(&c.json, &w["group"]);
        let g = got.groups.iter().find(|g| g.group == code).unwrap();
        check_count(&format!("{tag} n"), g.n, &w["n"]);
        assert_eq!(g.observed as f64, num(&w["observed"]), "{tag} observed");
        check(&format!("{tag} expected"), g.expected, &w["expected"]);
    }
    for (a, row) in want["variance"].as_array().unwrap().iter().enumerate() {
        for (b, v) in row.as_array().unwrap().iter().enumerate() {
            let (va, vb) = (got.variance[a][b], num(v));
            // Off-diagonal sums of opposite terms: compare on the scale of the diagonal.
            let scale = got.variance[a][a].abs().max(got.variance[b][b].abs());
            assert!(
                (va - vb).abs() <= REL_TOL * scale,
                "{tag} variance[{a}][{b}]: {va} vs {vb}"
            );
        }
    }
}

#[test]
fn log_rank_matches_r_survdiff() {
    for name in CASES {
        let c = case(name);
        let got = log_rank(&c.time, &c.event, &c.group, None).unwrap();
        assert_eq!(got.strata, 1);
        check_logrank(name, &c, &got, &c.json["logrank"]);
    }
}

#[test]
fn stratified_log_rank_matches_r_survdiff() {
    let mut checked = 0;
    for name in CASES {
        let c = case(name);
        let want = &c.json["logrank_stratified"];
        if want.is_null() {
            continue;
        }
        let strata = c.table.codes(want["strata"].as_str().unwrap());
        let got = log_rank(&c.time, &c.event, &c.group, Some(&strata)).unwrap();
        assert!(got.strata > 1);
        check_logrank(&format!("{name} stratified"), &c, &got, want);
        checked += 1;
    }
    assert_eq!(checked, 4);
}

// ---------------------------------------------------------------------- RMST ----

#[test]
fn rmst_and_difference_match_r() {
    for name in CASES {
        let c = case(name);
        let want = &c.json["rmst"];
        let tau = num(&want["tau"]);
        let level = c.json["conf_level"].as_f64().unwrap();
        let cs = curves(&c, "log-log");
        let treated = curve_for(&cs, &c, &want["treated"]);
        let control = curve_for(&cs, &c, &want["control"]);
        let got = rmst_difference(treated, control, tau, level).unwrap();
        for (arm, w) in [got.treated, got.control]
            .iter()
            .zip(want["arms"].as_array().unwrap())
        {
            assert_eq!(arm.group, group_code(&c.json, &w["group"]));
            let tag = format!("{name} RMST group {}", w["group"]);
            check(&format!("{tag} estimate"), arm.estimate, &w["estimate"]);
            check(&format!("{tag} se"), arm.std_error, &w["std_error"]);
            check(&format!("{tag} ci_low"), arm.ci_low, &w["ci_low"]);
            check(&format!("{tag} ci_high"), arm.ci_high, &w["ci_high"]);
            check(
                &format!("{tag} vs survival"),
                arm.estimate,
                &w["survival_rmean"],
            );
        }
        let d = &want["difference"];
        let tag = format!("{name} RMST difference");
        check(
            &format!("{tag} estimate"),
            got.difference.estimate,
            &d["estimate"],
        );
        check(
            &format!("{tag} se"),
            got.difference.std_error,
            &d["std_error"],
        );
        check(
            &format!("{tag} ci_low"),
            got.difference.ci_low,
            &d["ci_low"],
        );
        check(
            &format!("{tag} ci_high"),
            got.difference.ci_high,
            &d["ci_high"],
        );
        check(
            &format!("{tag} z"),
            got.difference.statistic,
            &d["statistic"],
        );
        check(&format!("{tag} p"), got.difference.p_value, &d["p_value"]);
    }
}

#[test]
fn rmst_horizon_beyond_follow_up_is_an_error() {
    // Both veteran arms end with an event (S = 0 afterwards): any horizon is defined.
    let c = case("veteran");
    let cs = curves(&c, "log-log");
    assert!(cs[0].rmst(2000.0, 0.95).is_ok() && cs[1].rmst(2000.0, 0.95).is_ok());
    // Lung, men: the last follow-up (1022 days) is censored.
    let c = case("lung");
    let cs = curves(&c, "log-log");
    assert!(cs[0].rmst(1022.0, 0.95).is_ok());
    let err = cs[0].rmst(1100.0, 0.95).unwrap_err();
    assert!(
        matches!(err, StatsError::Invalid(ref m) if m.contains("1022")),
        "{err}"
    );
    assert!(cs[0].rmst(0.0, 0.95).is_err());
    assert!(cs[0].rmst(f64::NAN, 0.95).is_err());
}

// ----------------------------------------------------------------------- Cox ----

#[test]
fn cox_matches_r_coxph() {
    let mut robust_checked = 0;
    for name in CASES {
        let c = case(name);
        let level = c.json["conf_level"].as_f64().unwrap();
        for m in c.json["cox"].as_array().unwrap() {
            let tag = format!("{name} cox {}", m["model"]);
            let cols: Vec<Vec<f64>> = m["covariates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| c.table.num(v.as_str().unwrap()))
                .collect();
            let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            let strata = m["strata"].as_str().map(|s| c.table.codes(s));
            let clusters = if let Some(cl) = m["cluster"].as_str() {
                Some(Clusters::from_labels(c.table.text(cl)))
            } else if m["robust"].as_bool().unwrap() {
                Some(Clusters::from_labels(
                    &(0..c.time.len()).collect::<Vec<_>>(),
                ))
            } else {
                None
            };
            let fit = cox_ph(
                &c.time,
                &c.event,
                &x,
                strata.as_deref(),
                clusters.as_ref(),
                level,
            )
            .unwrap();
            check_count(&format!("{tag} n"), fit.n, &m["n"]);
            check_count(&format!("{tag} events"), fit.events, &m["events"]);
            check(&format!("{tag} loglik"), fit.loglik, &m["loglik"]);
            check(
                &format!("{tag} loglik_null"),
                fit.loglik_null,
                &m["loglik_null"],
            );
            for (g, w) in fit
                .coefficients
                .iter()
                .zip(m["coefficients"].as_array().unwrap())
            {
                let t = format!("{tag} {}", w["term"]);
                check(&format!("{t} coef"), g.coef, &w["coef"]);
                check(&format!("{t} se"), g.model.std_error, &w["std_error"]);
                check(&format!("{t} hr"), g.model.estimate, &w["hazard_ratio"]);
                check(&format!("{t} ci_low"), g.model.ci_low, &w["ci_low"]);
                check(&format!("{t} ci_high"), g.model.ci_high, &w["ci_high"]);
                check(&format!("{t} z"), g.model.statistic, &w["z"]);
                check(&format!("{t} p"), g.model.p_value, &w["p_value"]);
                match (&g.robust, w.get("robust_std_error")) {
                    (Some(r), Some(se)) => {
                        check(&format!("{t} robust se"), r.std_error, se);
                        check(&format!("{t} robust ci_low"), r.ci_low, &w["robust_ci_low"]);
                        check(
                            &format!("{t} robust ci_high"),
                            r.ci_high,
                            &w["robust_ci_high"],
                        );
                        check(&format!("{t} robust z"), r.statistic, &w["robust_z"]);
                        check(&format!("{t} robust p"), r.p_value, &w["robust_p_value"]);
                        robust_checked += 1;
                    }
                    (None, None) => {}
                    _ => panic!("{t}: robust SE present on one side only"),
                }
            }
        }
    }
    assert!(robust_checked >= 8, "robust SEs compared: {robust_checked}");
}

#[test]
fn cox_errors_are_clear() {
    let time = [1.0, 2.0, 3.0, 4.0];
    let event = [true, true, false, true];
    let constant = [1.0; 4];
    assert_eq!(
        cox_ph(&time, &event, &[&constant], None, None, 0.95).unwrap_err(),
        StatsError::Collinear { index: 0 }
    );
    let x = [0.0, 1.0, 0.0, 1.0];
    let twice = [0.0, 2.0, 0.0, 2.0];
    assert_eq!(
        cox_ph(&time, &event, &[&x, &twice], None, None, 0.95).unwrap_err(),
        StatsError::Collinear { index: 1 }
    );
    let none = [false; 4];
    assert!(matches!(
        cox_ph(&time, &none, &[&x], None, None, 0.95),
        Err(StatsError::Invalid(_))
    ));
    // All events in arm 0 before any in arm 1 would need β = −∞: reported, not returned.
    let time = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let event = [true, true, true, false, false, false];
    let arm = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let err = cox_ph(&time, &event, &[&arm], None, None, 0.95).unwrap_err();
    assert!(
        matches!(err, StatsError::Invalid(ref m) if m.contains("infinite")),
        "{err}"
    );
}

// ------------------------------------------------------------ invalid inputs ----

#[test]
fn invalid_times_are_reported() {
    let event = [true, false];
    for bad in [f64::NAN, -1.0, f64::INFINITY] {
        let time = [1.0, bad];
        let e = kaplan_meier(&time, &event, &[0, 0], CiTransform::LogLog, 0.95).unwrap_err();
        assert!(
            matches!(e, StatsError::Invalid(ref m) if m.contains("subject 2")),
            "{e}"
        );
        assert!(log_rank(&time, &event, &[0, 1], None).is_err());
    }
    assert!(kaplan_meier(&[1.0], &event, &[0], CiTransform::LogLog, 0.95).is_err());
    assert_eq!(
        kaplan_meier(&[], &[], &[], CiTransform::LogLog, 0.95).unwrap_err(),
        StatsError::TooFew { needed: 1, got: 0 }
    );
    let one_group = log_rank(&[1.0, 2.0], &event, &[0, 0], None).unwrap_err();
    assert!(matches!(one_group, StatsError::Invalid(_)));
}

#[test]
fn sparse_group_codes_and_unsorted_requests() {
    let time = [5.0, 1.0, 3.0, 2.0, 4.0, 6.0];
    let event = [true, true, false, true, true, false];
    let group = [7, 3, 7, 3, 7, 3];
    let cs = kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
    assert_eq!(cs.iter().map(|c| c.group).collect::<Vec<_>>(), [3, 7]);
    assert_eq!((cs[0].n, cs[0].events, cs[0].last_time), (3, 2, 6.0));
    let at = cs[1].at_times(&[4.5, 0.0, 3.0]).unwrap();
    assert_eq!(
        at.iter().map(|a| a.time).collect::<Vec<_>>(),
        [0.0, 3.0, 4.5]
    );
    assert_eq!(at.iter().map(|a| a.at_risk).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(at.iter().map(|a| a.events).collect::<Vec<_>>(), [0, 0, 1]);
    assert_eq!(at.iter().map(|a| a.censored).collect::<Vec<_>>(), [0, 1, 0]);
    assert_eq!(
        (at[2].survival, at[0].ci_low, at[0].std_error),
        (0.5, 1.0, 0.0)
    );
    assert!(cs[0].at_times(&[-1.0]).is_err());
    // The log-rank test does not depend on which codes name the groups.
    let dense: Vec<u32> = group.iter().map(|&g| u32::from(g == 7)).collect();
    let a = log_rank(&time, &event, &group, None).unwrap();
    let b = log_rank(&time, &event, &dense, None).unwrap();
    assert_eq!(a.statistic, b.statistic);
    assert_eq!(a.groups[1].group, 7);
}

// --------------------------------------------------------------- properties ----

fn times_strategy() -> impl Strategy<Value = Vec<(u8, bool, bool)>> {
    // Small integer times give many ties.
    prop::collection::vec((0u8..20, any::<bool>(), any::<bool>()), 4..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn without_censoring_km_is_the_empirical_survival_function(raw in times_strategy()) {
        let time: Vec<f64> = raw.iter().map(|r| f64::from(r.0)).collect();
        let event = vec![true; time.len()];
        let c = &kaplan_meier(&time, &event, &vec![0; time.len()], CiTransform::LogLog, 0.95)
            .unwrap()[0];
        let n = time.len() as f64;
        for row in &c.rows {
            let above = time.iter().filter(|&&t| t > row.time).count() as f64;
            prop_assert!((row.survival - above / n).abs() < 1e-12);
        }
        prop_assert_eq!(c.rows.last().unwrap().survival, 0.0);
    }

    #[test]
    fn swapping_groups_leaves_the_log_rank_test_unchanged(raw in times_strategy()) {
        let time: Vec<f64> = raw.iter().map(|r| f64::from(r.0)).collect();
        let event: Vec<bool> = raw.iter().map(|r| r.1).collect();
        let group: Vec<u32> = raw.iter().map(|r| u32::from(r.2)).collect();
        let swapped: Vec<u32> = group.iter().map(|g| 1 - g).collect();
        let strata: Vec<u32> = raw.iter().map(|r| u32::from(r.0 % 3)).collect();
        for s in [None, Some(strata.as_slice())] {
            match (log_rank(&time, &event, &group, s), log_rank(&time, &event, &swapped, s)) {
                (Ok(a), Ok(b)) => {
                    // Relative, with an absolute floor: a statistic of 1e-31 is rounding
                    // noise around zero in both codings.
                    prop_assert!((a.statistic - b.statistic).abs() <= 1e-10 * (1.0 + a.statistic));
                    prop_assert_eq!(a.df, b.df);
                    prop_assert_eq!(a.groups[0].observed, b.groups[1].observed);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "one coding fails: {:?} / {:?}", a, b),
            }
        }
    }

    #[test]
    fn flipping_the_arm_coding_inverts_the_hazard_ratio(raw in times_strategy()) {
        let time: Vec<f64> = raw.iter().map(|r| f64::from(r.0)).collect();
        let event: Vec<bool> = raw.iter().map(|r| r.1).collect();
        let arm: Vec<f64> = raw.iter().map(|r| f64::from(u8::from(r.2))).collect();
        let flipped: Vec<f64> = arm.iter().map(|a| 1.0 - a).collect();
        let a = cox_ph(&time, &event, &[&arm], None, None, 0.95);
        let b = cox_ph(&time, &event, &[&flipped], None, None, 0.95);
        if let (Ok(a), Ok(b)) = (&a, &b) {
            let (ca, cb) = (&a.coefficients[0], &b.coefficients[0]);
            prop_assert!((ca.coef + cb.coef).abs() <= 1e-9 * (1.0 + ca.coef.abs()));
            prop_assert!((ca.model.estimate * cb.model.estimate - 1.0).abs() <= 1e-9);
            prop_assert!((ca.model.std_error - cb.model.std_error).abs() <= 1e-9 * ca.model.std_error);
            prop_assert!((ca.model.ci_low * cb.model.ci_high - 1.0).abs() <= 1e-9);
            prop_assert!((a.loglik - b.loglik).abs() <= 1e-9 * a.loglik.abs());
        } else {
            // Both fail alike (no events, one arm only, infinite coefficient).
            prop_assert_eq!(a.is_err(), b.is_err());
        }
    }
}

// --------------------------------------------------------- panel derivation ----

fn panel(rows: &[(&str, i64, bool)]) -> (Vec<String>, Vec<Option<i64>>, Vec<Option<bool>>) {
    (
        rows.iter().map(|r| r.0.to_string()).collect(),
        rows.iter().map(|r| Some(r.1)).collect(),
        rows.iter().map(|r| Some(r.2)).collect(),
    )
}

#[test]
fn panel_first_event_and_censoring() {
    let (id, month, status) = panel(&[
        // b: unsorted, event in month 3 after a gap (month 2 missing).
        ("b", 3, true),
        ("b", 0, false),
        ("b", 1, false),
        ("b", 4, false),
        // a: event in month 0.
        ("a", 0, true),
        ("a", 1, true),
        // c: never an event; last observed month 5, with a gap.
        ("c", 0, false),
        ("c", 5, false),
        ("c", 2, false),
        // d: agreeing duplicate person-months.
        ("d", 1, false),
        ("d", 1, false),
        ("d", 2, true),
        ("d", 2, true),
    ]);
    let got = survival_from_panel(&id, &month, &status, None).unwrap();
    assert_eq!(got.id, ["b", "a", "c", "d"]);
    assert_eq!(got.first_row, [0, 4, 6, 9]);
    assert_eq!(got.time, [3.0, 0.0, 5.0, 2.0]);
    assert_eq!(got.event, [true, true, false, true]);
}

#[test]
fn panel_end_of_follow_up() {
    let (id, month, status) = panel(&[
        ("1", 0, false),
        ("1", 1, false),
        ("1", 7, true), // after the end of follow-up (6): ignored
        ("2", 0, false),
        ("2", 2, true),
        ("3", 0, false), // followed until 9 by its end value, rows stop at 0
    ]);
    let end = vec![Some(6), Some(6), Some(6), Some(6), None, Some(9)];
    let got = survival_from_panel(&id, &month, &status, Some(&end)).unwrap();
    assert_eq!(got.time, [6.0, 2.0, 9.0]);
    assert_eq!(got.event, [false, true, false]);
    // Numeric ids work the same.
    let ids: Vec<u32> = vec![7, 7, 3];
    let got = survival_from_panel(
        &ids,
        &[Some(0), Some(1), Some(0)],
        &[Some(false), Some(false), Some(false)],
        None,
    )
    .unwrap();
    assert_eq!((got.id, got.time), (vec![7, 3], vec![1.0, 0.0]));
}

#[test]
fn panel_errors_name_the_person() {
    let (id, month, status) = panel(&[("p1", 0, false), ("p2", 3, false), ("p2", 3, true)]);
    let e = survival_from_panel(&id, &month, &status, None).unwrap_err();
    assert!(
        matches!(e, StatsError::Invalid(ref m) if m.contains("p2") && m.contains("month 3")),
        "{e}"
    );
    let (id, month, status) = panel(&[("p1", -1, false)]);
    let e = survival_from_panel(&id, &month, &status, None).unwrap_err();
    assert!(matches!(e, StatsError::Invalid(ref m) if m.contains("p1") && m.contains("negative")));
    let e = survival_from_panel(&["x"], &[None], &[Some(true)], None).unwrap_err();
    assert!(matches!(e, StatsError::Invalid(ref m) if m.contains("x") && m.contains("no month")));
    let e = survival_from_panel(&["x"], &[Some(2)], &[None], None).unwrap_err();
    assert!(matches!(e, StatsError::Invalid(ref m) if m.contains("status is missing")));
    let e = survival_from_panel(
        &["q", "q"],
        &[Some(0), Some(1)],
        &[Some(false), Some(false)],
        Some(&[Some(4), Some(5)]),
    )
    .unwrap_err();
    assert!(matches!(e, StatsError::Invalid(ref m) if m.contains("q") && m.contains("end")));
    assert!(survival_from_panel(&["a"], &[Some(0)], &[], None).is_err());
}

// --------------------------------------------------------------------- chart ----

/// The chart inputs from Kaplan-Meier curves, as the report layer builds them.
fn chart_from(curves: &[KmCurve], labels: &[&str], times: &[f64], lang: Lang) -> SurvivalChart {
    SurvivalChart {
        title: "Time to first paid job".to_string(),
        subtitle: "Share still without paid work, with 95% confidence band".to_string(),
        x_label: "Months since randomisation".to_string(),
        y_label: "Still without paid work (%)".to_string(),
        curves: curves
            .iter()
            .zip(labels)
            .map(|(k, l)| SurvivalCurve {
                label: l.to_string(),
                points: k
                    .rows
                    .iter()
                    .map(|r| (r.time, r.survival, r.ci_low, r.ci_high))
                    .collect(),
                censored: k.censorings.iter().map(|c| (c.time, c.survival)).collect(),
            })
            .collect(),
        at_risk_times: times.to_vec(),
        at_risk: curves
            .iter()
            .zip(labels)
            .map(|(k, l)| AtRiskRow {
                label: l.to_string(),
                counts: k
                    .at_times(times)
                    .unwrap()
                    .iter()
                    .map(|a| Some(a.at_risk))
                    .collect(),
            })
            .collect(),
        note: "Source: R survival data set (not pilot data).".to_string(),
        lang,
    }
}

/// Writes a sample to `$VIA_EVAL_CHART_SAMPLES/<name>` when that variable is set.
fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("VIA_EVAL_CHART_SAMPLES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn decode(png: &[u8]) -> image::RgbImage {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    assert_eq!(img.width(), 1000);
    img
}

/// Pixels close to an Okabe-Ito colour (the curves are drawn in full colour).
fn count_colour(img: &image::RgbImage, [r, g, b]: [u8; 3]) -> usize {
    img.pixels()
        .filter(|p| {
            p.0.iter()
                .zip([r, g, b])
                .all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() < 12)
        })
        .count()
}

#[test]
fn survival_chart_renders_curves_bands_marks_and_table() {
    let c = case("colon_recurrence");
    let curves = curves(&c, "log-log");
    let times: Vec<f64> = (0..=9).map(|y| 365.0 * f64::from(y)).collect();
    let mut chart = chart_from(
        &curves,
        &["Observation", "Levamisole", "Levamisole + 5-FU"],
        &times,
        Lang::En,
    );
    chart.title = "Time to recurrence of colon cancer".to_string();
    chart.subtitle = "Share still without recurrence, with 95% confidence band".to_string();
    chart.x_label = "Days since randomisation".to_string();
    chart.y_label = "Still without recurrence (%)".to_string();
    let png = survival_chart_png(&chart).unwrap();
    keep("survival_colon.png", &png);
    let img = decode(&png);
    // Each arm's line is drawn in its colour: blue, vermillion, green.
    for rgb in [[0x00, 0x72, 0xB2], [0xD5, 0x5E, 0x00], [0x00, 0x9E, 0x73]] {
        assert!(count_colour(&img, rgb) > 500, "colour {rgb:?} missing");
    }
    let svg = survival_chart_svg(&chart).unwrap();
    keep("survival_colon.svg", svg.as_bytes());
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for text in [
        "Time to recurrence of colon cancer",
        "Levamisole + 5-FU",
        "Number at risk",
        "Days since randomisation",
        "Still without recurrence (%)",
        "50%",
        "3,285",
        // At risk at day 365 in the observation arm (R summary(times = 365)).
        &curves[0].at_times(&[365.0]).unwrap()[0].at_risk.to_string(),
    ] {
        assert!(
            svg.contains(&format!(">{text}<")) || svg.contains(text),
            "SVG lacks {text:?}"
        );
    }
    // Translucent bands are drawn with an opacity below 1.
    assert!(svg.contains("opacity=\"0.2\""));
}

#[test]
fn survival_chart_in_dutch_and_with_months() {
    let c = case("ovarian");
    let curves = curves(&c, "log-log");
    let times = [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0, 1200.0];
    let chart = chart_from(
        &curves,
        &["Cyclofosfamide", "Cyclofosfamide + adriamycine"],
        &times,
        Lang::Nl,
    );
    let png = survival_chart_png(&chart).unwrap();
    keep("survival_ovarian_nl.png", &png);
    decode(&png);
    let svg = survival_chart_svg(&chart).unwrap();
    assert!(svg.contains("1.200"), "Dutch thousands separator");
    assert!(svg.contains("gecensureerd"));
    assert!(
        !svg.contains("at risk"),
        "no English words in a Dutch chart"
    );
    // Without censoring marks (disclosure control) the key does not explain them.
    let mut bare = chart.clone();
    for k in &mut bare.curves {
        k.censored.clear();
    }
    let svg = survival_chart_svg(&bare).unwrap();
    assert!(!svg.contains("gecensureerd"), "a key for ticks not drawn");
}

#[test]
fn survival_chart_handles_one_arm_empty_curves_and_nan() {
    let one = SurvivalChart {
        title: "One arm".to_string(),
        subtitle: String::new(),
        x_label: "Months".to_string(),
        y_label: "Still on benefit (%)".to_string(),
        curves: vec![SurvivalCurve {
            label: "All".to_string(),
            points: vec![
                (0.0, 0.9, 0.8, 0.95),
                (3.0, 0.5, f64::NAN, f64::NAN),
                (6.0, 0.0, f64::NAN, f64::NAN),
            ],
            censored: vec![(2.0, 0.9)],
        }],
        at_risk_times: vec![],
        at_risk: vec![],
        note: String::new(),
        lang: Lang::En,
    };
    let png = survival_chart_png(&one).unwrap();
    keep("survival_one_arm.png", &png);
    decode(&png);
    survival_chart_svg(&one).unwrap();
    let empty = SurvivalChart {
        curves: vec![
            SurvivalCurve {
                label: "No one".to_string(),
                points: vec![],
                censored: vec![],
            },
            SurvivalCurve {
                label: "Censored only".to_string(),
                points: vec![],
                censored: vec![(4.0, 1.0)],
            },
        ],
        at_risk_times: vec![0.0, 6.0, 12.0],
        // A row shorter than the times, and a label without a curve.
        at_risk: vec![
            AtRiskRow {
                label: "No one".to_string(),
                counts: vec![Some(0)],
            },
            AtRiskRow {
                label: "Other".to_string(),
                counts: vec![Some(1), Some(2), Some(3), None],
            },
        ],
        ..one.clone()
    };
    let png = survival_chart_png(&empty).unwrap();
    keep("survival_empty_curves.png", &png);
    decode(&png);
    survival_chart_svg(&empty).unwrap();
    let nothing = SurvivalChart {
        curves: vec![],
        at_risk: vec![],
        at_risk_times: vec![],
        ..one
    };
    decode(&survival_chart_png(&nothing).unwrap());
}

/// A pilot-like curve: months to a first job for 20,000 people, many ties and
/// censorings, to look at dense censoring marks.
#[test]
fn survival_chart_with_many_subjects() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let n = 20_000;
    let group: Vec<u32> = (0..n).map(|_| rng.random_range(0..2)).collect();
    let mut time = Vec::with_capacity(n);
    let mut event = Vec::with_capacity(n);
    for &g in &group {
        let rate = if g == 1 { 0.06 } else { 0.045 };
        let t_event = (-(1.0 - rng.random::<f64>()).ln() / rate).floor();
        let t_cens = f64::from(rng.random_range(12..=36u8));
        time.push(t_event.min(t_cens));
        event.push(t_event <= t_cens);
    }
    let curves = kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
    let times: Vec<f64> = (0..=6).map(|k| 6.0 * f64::from(k)).collect();
    let chart = chart_from(
        &curves,
        &["Usual support", "VIA work-first"],
        &times,
        Lang::En,
    );
    let png = survival_chart_png(&chart).unwrap();
    keep("survival_months.png", &png);
    decode(&png);
}

// --------------------------------------------------------------------- scale ----

/// Kaplan-Meier and the stratified log-rank test on a million subjects (issue 6).
/// Ignored by default; run with `cargo test --release --test survival -- --ignored`.
#[test]
#[ignore]
fn km_and_log_rank_on_a_million_subjects() {
    use rand::{Rng, SeedableRng};
    let n = 1_000_000;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    // Months 0-59 (many ties), 70% events, two arms, 20 strata.
    let time: Vec<f64> = (0..n)
        .map(|_| f64::from(rng.random_range(0..60u8)))
        .collect();
    let event: Vec<bool> = (0..n).map(|_| rng.random_bool(0.7)).collect();
    let group: Vec<u32> = (0..n).map(|_| rng.random_range(0..2)).collect();
    let strata: Vec<u32> = (0..n).map(|_| rng.random_range(0..20)).collect();
    let t0 = std::time::Instant::now();
    let km = kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
    let t_km = t0.elapsed();
    let t1 = std::time::Instant::now();
    let lr = log_rank(&time, &event, &group, Some(&strata)).unwrap();
    let t_lr = t1.elapsed();
    let t2 = std::time::Instant::now();
    let arm: Vec<f64> = group.iter().map(|&g| f64::from(g)).collect();
    let clusters = Clusters::from_labels(&strata);
    let cox = cox_ph(&time, &event, &[&arm], None, Some(&clusters), 0.95).unwrap();
    let t_cox = t2.elapsed();
    eprintln!(
        "n = {n}: Kaplan-Meier {t_km:?}, stratified log-rank {t_lr:?}, \
         Cox with clustered SE {t_cox:?} ({} iterations)",
        cox.iterations
    );
    assert_eq!(km.len(), 2);
    assert_eq!(lr.groups.iter().map(|g| g.n).sum::<usize>(), n);
}

/// A case proptest found: exact balance in every stratum gives a log-rank statistic of
/// about 1e-31 under both codings of the groups, which a purely relative tolerance
/// called different. Swapping the groups must leave the test unchanged.
#[test]
fn a_balanced_stratified_log_rank_is_zero_under_both_codings() {
    let raw: [(u8, bool, bool); 13] = [
        (8, true, true),
        (2, true, false),
        (3, true, true),
        (8, false, false),
        (19, false, true),
        (1, true, true),
        (2, true, false),
        (1, true, false),
        (2, true, false),
        (8, true, false),
        (10, true, false),
        (9, false, false),
        (9, false, false),
    ];
    let time: Vec<f64> = raw.iter().map(|r| f64::from(r.0)).collect();
    let event: Vec<bool> = raw.iter().map(|r| r.1).collect();
    let group: Vec<u32> = raw.iter().map(|r| u32::from(r.2)).collect();
    let swapped: Vec<u32> = group.iter().map(|g| 1 - g).collect();
    let strata: Vec<u32> = raw.iter().map(|r| u32::from(r.0 % 3)).collect();
    let a = log_rank(&time, &event, &group, Some(&strata)).unwrap();
    let b = log_rank(&time, &event, &swapped, Some(&strata)).unwrap();
    assert!(a.statistic < 1e-20 && b.statistic < 1e-20);
    assert!((a.p_value - 1.0).abs() < 1e-12 && (b.p_value - 1.0).abs() < 1e-12);
    assert_eq!(a.groups[0].observed, b.groups[1].observed);
}
