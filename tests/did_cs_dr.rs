//! Doubly robust Callaway & Sant'Anna with a covariate (`stats::did_cs::cs_att_gt_dr`)
//! against csdid 0.4.3 (`est_method="dr"`, `xformla="~lpop"`, its port of R DRDID's
//! `drdid_panel`) on mpdta: tests/fixtures/reference/cs_dr_mpdta.json, made by
//! scripts/fixtures/make_cs_dr_fixtures.py (conventions there). ATT(g,t), SEs and the
//! simple and dynamic aggregations, never-treated and not-yet-treated controls.

use serde_json::Value;
use via_eval::stats::did_cs::{
    CsBase, CsControl, CsFit, cs_att_gt, cs_att_gt_base, cs_att_gt_dr, cs_att_gt_dr_base,
};

mod common;
use common::{assert_close, mpdta_did_args, root};

/// mpdta in wide form: (lemp, lpop, periods, first treated), units in countyreal order.
fn wide() -> (Vec<f64>, Vec<f64>, Vec<i64>, Vec<Option<i64>>) {
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/mpdta.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (cu, cy, cl, cp, cg) = (
        col("countyreal"),
        col("year"),
        col("lemp"),
        col("lpop"),
        col("first.treat"),
    );
    let mut rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    rows.sort_by(|a, b| (a[cu], a[cy]).partial_cmp(&(b[cu], b[cy])).unwrap());
    let periods: Vec<i64> = (2003..=2007).collect();
    assert!(rows.len().is_multiple_of(periods.len()));
    let first = rows
        .chunks(periods.len())
        .map(|c| Some(c[0][cg] as i64).filter(|&g| g > 0))
        .collect();
    (
        rows.iter().map(|r| r[cl]).collect(),
        rows.iter().map(|r| r[cp]).collect(),
        periods,
        first,
    )
}

fn check(case: &str, fit: &CsFit, want: &Value) -> f64 {
    let mut worst: f64 = 0.0;
    let mut assert_close = |what: &str, got: f64, want: f64| {
        worst = worst.max(((got - want) / want).abs());
        assert_close(what, got, want);
    };
    let cells = &want["att_gt"];
    assert_eq!(fit.cells.len(), cells["att"].as_array().unwrap().len());
    for (j, c) in fit.cells.iter().enumerate() {
        assert_eq!(c.group, cells["group"][j].as_i64().unwrap());
        assert_eq!(c.time, cells["time"][j].as_i64().unwrap());
        let what = format!("{case} ATT({}, {})", c.group, c.time);
        assert_close(
            &what,
            c.inference.estimate,
            cells["att"][j].as_f64().unwrap(),
        );
        match cells["std_error"][j].as_f64() {
            Some(se) => assert_close(&format!("{what} SE"), c.inference.std_error, se),
            // The universal base period's reference cell: 0 without an SE.
            None => assert!(
                c.time == c.group - 1
                    && c.inference.estimate == 0.0
                    && c.inference.std_error == 0.0
            ),
        }
    }
    let s = fit.simple().unwrap().inference;
    assert_close(
        &format!("{case} simple"),
        s.estimate,
        want["simple"]["att"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} simple SE"),
        s.std_error,
        want["simple"]["std_error"].as_f64().unwrap(),
    );
    let (by_e, overall) = fit.dynamic().unwrap();
    let d = &want["dynamic"];
    assert_close(
        &format!("{case} dynamic"),
        overall.inference.estimate,
        d["att"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} dynamic SE"),
        overall.inference.std_error,
        d["std_error"].as_f64().unwrap(),
    );
    for (j, e) in by_e.iter().enumerate() {
        assert_eq!(e.event_time, d["event_time"][j].as_i64());
        assert_close(
            &format!("{case} e={:?}", e.event_time),
            e.inference.estimate,
            d["att_e"][j].as_f64().unwrap(),
        );
        match d["std_error_e"][j].as_f64() {
            Some(se) => assert_close(
                &format!("{case} e={:?} SE", e.event_time),
                e.inference.std_error,
                se,
            ),
            None => assert!(e.event_time == Some(-1) && e.inference.std_error == 0.0),
        }
    }
    worst
}

#[test]
fn doubly_robust_matches_csdid() {
    let (y, lpop, periods, first) = wide();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cs_dr_mpdta.json")).unwrap(),
    )
    .unwrap();
    let x = vec![lpop];
    for (case, control) in [
        ("nevertreated", CsControl::Never),
        ("notyettreated", CsControl::NotYet),
    ] {
        let fit = cs_att_gt_dr(&y, &x, &periods, &first, control, 0.95).unwrap();
        let worst = check(case, &fit, &want[case]);
        println!("{case}: largest relative difference {worst:.2e}");
    }
}

#[test]
fn the_universal_base_period_matches_csdid() {
    let (y, lpop, periods, first) = wide();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cs_dr_mpdta.json")).unwrap(),
    )
    .unwrap();
    let fit = cs_att_gt_base(
        &y,
        &periods,
        &first,
        CsControl::Never,
        CsBase::Universal,
        0.95,
    )
    .unwrap();
    assert_eq!(fit.cells.len(), 15);
    let worst = check("universal", &fit, &want["universal"]);
    let x = vec![lpop];
    let fit = cs_att_gt_dr_base(
        &y,
        &x,
        &periods,
        &first,
        CsControl::Never,
        CsBase::Universal,
        0.95,
    )
    .unwrap();
    let worst = worst.max(check("universal_dr", &fit, &want["universal_dr"]));
    println!("universal: largest relative difference {worst:.2e}");
}

#[test]
fn no_covariates_is_the_unconditional_estimator_and_shifts_behave() {
    let (y, _, periods, first) = wide();
    let plain = cs_att_gt(&y, &periods, &first, CsControl::Never, 0.95).unwrap();
    // Without covariates the DR estimator is the unconditional one.
    let same = cs_att_gt_dr(&y, &[], &periods, &first, CsControl::Never, 0.95).unwrap();
    assert_eq!(plain, same);
    // Shifting the outcome by a constant changes nothing; adding a known effect to the
    // treated post-period rows moves the post-period cells by it.
    let (_, lpop, _, _) = wide();
    let x = vec![lpop];
    let base = cs_att_gt_dr(&y, &x, &periods, &first, CsControl::Never, 0.95).unwrap();
    let nt = periods.len();
    let shifted: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (u, k) = (i / nt, i % nt);
            v + 10.0
                + if first[u].is_some_and(|g| periods[k] >= g) {
                    0.25
                } else {
                    0.0
                }
        })
        .collect();
    let moved = cs_att_gt_dr(&shifted, &x, &periods, &first, CsControl::Never, 0.95).unwrap();
    for (a, b) in moved.cells.iter().zip(&base.cells) {
        let d = if a.time >= a.group { 0.25 } else { 0.0 };
        assert!((a.inference.estimate - b.inference.estimate - d).abs() < 1e-9);
        assert!((a.inference.std_error - b.inference.std_error).abs() < 1e-9);
    }
    // A covariate constant over units: a clear error naming the problem.
    let constant = vec![vec![1.0; y.len()]];
    let err = cs_att_gt_dr(&y, &constant, &periods, &first, CsControl::Never, 0.95).unwrap_err();
    assert!(err.to_string().contains("constant"), "{err}");
}

fn run(extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let data = root()
        .join("tests/fixtures/data/mpdta.csv")
        .display()
        .to_string();
    let mut args = mpdta_did_args(&data, &["--estimator", "cs", "--format", "json"]);
    args.extend_from_slice(extra);
    common::run_in(dir.path(), &args)
}

#[test]
fn the_command_runs_the_doubly_robust_estimator_with_covariates() {
    let res = run(&["--covariates", "lpop"]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cs_dr_mpdta.json")).unwrap(),
    )
    .unwrap();
    let simple = v["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["estimator"] == "cs_simple")
        .unwrap();
    assert_close(
        "simple",
        simple["estimate"].as_f64().unwrap(),
        want["nevertreated"]["simple"]["att"].as_f64().unwrap(),
    );
    assert!(v["conventions"].as_array().unwrap().iter().any(|c| {
        c.as_str()
            .unwrap()
            .contains("doubly robust with the covariates lpop")
    }));
    // A covariate that separates the cohorts from the comparison units: a clear error
    // naming the column and what to do, non-zero exit.
    let res = run(&["--covariates", "treat"]);
    assert!(!res.status.success());
    let msg = String::from_utf8_lossy(&res.stderr);
    assert!(
        msg.contains("\"treat\"") && msg.contains("separation") && msg.contains("drop or coarsen"),
        "{msg}"
    );
    assert!(!msg.contains("panicked"));
}

#[test]
fn the_command_takes_the_universal_base_period() {
    let res = run(&["--base-period", "universal"]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let rows = v["estimates"].as_array().unwrap();
    let cells: Vec<&Value> = rows
        .iter()
        .filter(|e| e["estimator"] == "cs_att_gt")
        .collect();
    assert_eq!(cells.len(), 15);
    // The reference cells (t = g - 1): 0, no SE, no interval, not withheld.
    let refs: Vec<&&Value> = cells
        .iter()
        .filter(|c| c["time"].as_i64().unwrap() == c["group"].as_i64().unwrap() - 1)
        .collect();
    assert_eq!(refs.len(), 3);
    for r in refs {
        assert_eq!(r["estimate"].as_f64(), Some(0.0));
        assert!(r["std_error"].is_null() && r["ci_low"].is_null() && r["p_value"].is_null());
        assert_eq!(r["suppressed"], false);
    }
    assert!(
        v["conventions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("universal base period"))
    );
}
