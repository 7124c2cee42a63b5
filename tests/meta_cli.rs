//! `via-eval meta` end to end: a small CSV and the results.json of the leren-en-werken
//! pilot (4 projects). The pooled numbers in the JSON must be the ones
//! `stats::meta::pool` gives on the same inputs; bad input must fail with a message
//! that names the file, column and line.

mod common;

use std::fs;
use std::path::Path;

use common::{root, run_in, show};
use serde_json::Value;
use via_eval::stats::meta::{self, Method, Options};

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let out = run_in(dir, args);
    assert!(out.status.success(), "{}", show(args, &out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(args, &out)))
}

fn fails_with(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = run_in(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", show(args, &out));
    assert!(!err.contains("panicked"), "{}", show(args, &out));
    for n in needles {
        assert!(err.contains(n), "missing {n:?}: {}", show(args, &out));
    }
}

const ESTIMATE_KEYS: [&str; 17] = [
    "outcome",
    "subset",
    "comparison",
    "estimator",
    "se_type",
    "scale",
    "estimate",
    "std_error",
    "statistic",
    "ci_low",
    "ci_high",
    "conf_level",
    "p_value",
    "df",
    "prediction_low",
    "prediction_high",
    "leave_one_out",
];

const HETEROGENEITY_KEYS: [&str; 8] = [
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_p_value",
];

fn check_keys(e: &Value) {
    for k in ESTIMATE_KEYS {
        assert!(e.get(k).is_some(), "estimate has no {k}: {e}");
    }
    for k in HETEROGENEITY_KEYS {
        assert!(
            e["heterogeneity"][k].as_f64().is_some(),
            "heterogeneity has no {k}: {e}"
        );
    }
}

/// Same double, or within a few ulps (the JSON round trip is exact; the check is
/// strict on purpose).
fn same(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 4.0 * f64::EPSILON * want.abs(),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn csv_input_pools_as_the_stats_function() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("sites.csv"),
        "site,effect,se,n\nAmsterdam,0.10,0.05,100\nRotterdam,0.30,0.08,80\nUtrecht,-0.05,0.10,60\nDen Haag,0.12,0.06,90\n",
    )
    .unwrap();
    let args = [
        "meta",
        "sites.csv",
        "--estimate",
        "effect",
        "--std-error",
        "se",
        "--label",
        "site",
        "--n",
        "n",
        "--method",
        "pm",
        "--format",
        "json",
        "--out",
        "chart",
        "--lang",
        "nl",
    ];
    let v = json_of(dir.path(), &args);
    let e = &v["estimates"][0];
    check_keys(e);
    assert_eq!(e["estimator"], "meta_pm");
    // 4 estimates: HKSJ by default.
    assert_eq!(e["se_type"], "hksj");
    assert_eq!(e["df"].as_f64(), Some(3.0));
    let p = meta::pool(
        &[0.10, 0.30, -0.05, 0.12],
        &[0.05, 0.08, 0.10, 0.06],
        Options {
            method: Method::PauleMandel,
            hksj: true,
            conf_level: 0.95,
        },
    )
    .unwrap();
    same(
        "estimate",
        e["estimate"].as_f64().unwrap(),
        p.inference.estimate,
    );
    same(
        "se",
        e["std_error"].as_f64().unwrap(),
        p.inference.std_error,
    );
    same("ci_low", e["ci_low"].as_f64().unwrap(), p.inference.ci_low);
    same(
        "tau2",
        e["heterogeneity"]["tau2"].as_f64().unwrap(),
        p.heterogeneity.tau2,
    );
    same(
        "prediction_high",
        e["prediction_high"].as_f64().unwrap(),
        p.prediction.unwrap().1,
    );
    assert_eq!(e["leave_one_out"].as_array().unwrap().len(), 4);
    assert_eq!(v["studies"][1]["label"], "Rotterdam");
    assert_eq!(e["n"].as_u64(), Some(330));
    for f in ["forest.png", "forest.svg"] {
        assert!(dir.path().join("chart").join(f).exists(), "{f} missing");
    }

    // --no-hksj: normal inference, no df.
    let mut args2: Vec<&str> = args[..12].to_vec();
    args2.extend(["--no-hksj", "--format", "json"]);
    let v = json_of(dir.path(), &args2);
    assert!(v["estimates"][0]["df"].is_null());
    assert!(v["estimates"][0]["se_type"].is_null());

    // Table and CSV formats run and name the pooled row.
    let mut args3: Vec<&str> = args[..12].to_vec();
    args3.extend(["--format", "csv"]);
    let out = run_in(dir.path(), &args3);
    assert!(out.status.success(), "{}", show(&args3, &out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("pooled,meta_pm,")),
        "{text}"
    );
    let out = run_in(dir.path(), &args[..12]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pooled (meta_pm)") && text.contains("I²"),
        "{text}"
    );
}

#[test]
fn bad_csv_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("zero.csv"), "site,effect,se\nA,0.1,0.05\nB,0.2,0\n").unwrap();
    fs::write(
        d.join("text.csv"),
        "site,effect,se\nA,0.1,0.05\nB,abc,0.1\n",
    )
    .unwrap();
    fs::write(d.join("one.csv"), "site,effect,se\nA,0.1,0.05\n").unwrap();
    let base = ["--estimate", "effect", "--std-error", "se"];
    let with = |file: &'static str| {
        let mut a = vec!["meta", file];
        a.extend(base);
        a
    };
    fails_with(
        d,
        &with("zero.csv"),
        &["zero.csv", "line 3", "\"se\"", "positive"],
    );
    fails_with(
        d,
        &with("text.csv"),
        &["text.csv", "line 3", "\"effect\"", "abc"],
    );
    fails_with(d, &with("one.csv"), &["one.csv", "at least 2"]);
    fails_with(
        d,
        &[
            "meta",
            "zero.csv",
            "--estimate",
            "efect",
            "--std-error",
            "se",
        ],
        &["\"efect\"", "Did you mean \"effect\""],
    );
    fails_with(d, &with("missing.csv"), &["missing.csv"]);
}

#[test]
fn results_json_of_a_pilot_pools_its_projects() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("lew");
    let out_s = out_dir.to_string_lossy().to_string();
    let args = ["pilot", "leren-en-werken", "--out", &out_s, "--quiet"];
    let out = run_in(&root(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let results = out_dir.join("results.json");
    let results_s = results.to_string_lossy().to_string();
    let chart_s = dir.path().join("meta").to_string_lossy().to_string();
    let args = [
        "meta",
        &results_s,
        "--outcome",
        "work_18m",
        "--format",
        "json",
        "--out",
        &chart_s,
    ];
    let v = json_of(&root(), &args);
    let e = &v["estimates"][0];
    check_keys(e);
    assert_eq!(e["estimator"], "meta_reml");
    assert_eq!(e["outcome"], "work_18m");

    // The inputs, read independently: the headline per-project estimates.
    let r: Value = serde_json::from_slice(&fs::read(&results).unwrap()).unwrap();
    let rows: Vec<&Value> = r["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["outcome"] == "work_18m" && x["subset"] != "pooled" && x["headline"] == true)
        .collect();
    assert_eq!(rows.len(), 4, "leren-en-werken has 4 projects");
    let y: Vec<f64> = rows
        .iter()
        .map(|x| x["estimate"].as_f64().unwrap())
        .collect();
    let se: Vec<f64> = rows
        .iter()
        .map(|x| x["std_error"].as_f64().unwrap())
        .collect();
    let p = meta::pool(
        &y,
        &se,
        Options {
            method: Method::Reml,
            hksj: true,
            conf_level: 0.95,
        },
    )
    .unwrap();
    same(
        "estimate",
        e["estimate"].as_f64().unwrap(),
        p.inference.estimate,
    );
    same(
        "se",
        e["std_error"].as_f64().unwrap(),
        p.inference.std_error,
    );
    same(
        "ci_high",
        e["ci_high"].as_f64().unwrap(),
        p.inference.ci_high,
    );
    same(
        "q",
        e["heterogeneity"]["q"].as_f64().unwrap(),
        p.heterogeneity.q,
    );
    assert_eq!(v["studies"].as_array().unwrap().len(), 4);
    assert!(dir.path().join("meta/forest.png").exists());

    // The pilot's own results carry the same random-effects pooling (issue 17 item 2),
    // and its report shows it with the forest plot and says whether the projects agree.
    let m = r["meta"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["outcome"] == "work_18m")
        .expect("results.json has the pooling of work_18m");
    assert_eq!(m["estimator"], "meta_reml");
    assert_eq!(m["se_type"], "hksj");
    same(
        "pilot meta",
        m["estimate"].as_f64().unwrap(),
        p.inference.estimate,
    );
    same(
        "pilot meta tau2",
        m["heterogeneity"]["tau2"].as_f64().unwrap(),
        p.heterogeneity.tau2,
    );
    assert_eq!(m["projects_agree"], true);
    assert!(out_dir.join("forest-work_18m.png").exists());
    let md = fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(
        md.contains("forest-work_18m.png")
            && md.contains("The projects do not differ more than chance explains"),
        "{md}"
    );

    // An outcome that is not there is named, with the outcomes that are.
    fails_with(
        &root(),
        &["meta", &results_s, "--outcome", "work_1m"],
        &["work_1m", "Did you mean", "work_12m"],
    );
}

/// Ratio-scale estimates (results.json gives the ratio and the SE of its log) are
/// pooled on the log scale and reported as ratios; a withheld project is left out with
/// a note.
#[test]
fn ratio_estimates_are_pooled_on_the_log_scale() {
    let dir = tempfile::tempdir().unwrap();
    let row = |subset: &str, est: Option<f64>, se: Option<f64>| {
        serde_json::json!({
            "outcome": "work", "subset": subset, "comparison": "t vs c", "treated": "t",
            "control": "c", "estimator": "risk_ratio", "headline": true, "scale": "ratio",
            "estimate": est, "std_error": se, "suppressed": est.is_none(),
            "n_treated": 50, "n_control": 50
        })
    };
    let results = serde_json::json!({"estimates": [
        row("pooled", Some(1.3), Some(0.1)),
        row("a", Some(1.5), Some(0.2)),
        row("b", Some(1.1), Some(0.15)),
        row("c", Some(0.9), Some(0.3)),
        row("d", None, None),
    ]});
    fs::write(dir.path().join("results.json"), results.to_string()).unwrap();
    let args = [
        "meta",
        "results.json",
        "--outcome",
        "work",
        "--method",
        "dl",
        "--format",
        "json",
    ];
    let v = json_of(dir.path(), &args);
    let e = &v["estimates"][0];
    assert_eq!(e["scale"], "ratio");
    let p = meta::pool(
        &[1.5f64.ln(), 1.1f64.ln(), 0.9f64.ln()],
        &[0.2, 0.15, 0.3],
        Options {
            method: Method::DerSimonianLaird,
            hksj: true,
            conf_level: 0.95,
        },
    )
    .unwrap();
    same(
        "ratio",
        e["estimate"].as_f64().unwrap(),
        p.inference.estimate.exp(),
    );
    same(
        "ci_low",
        e["ci_low"].as_f64().unwrap(),
        p.inference.ci_low.exp(),
    );
    same(
        "se of log",
        e["std_error"].as_f64().unwrap(),
        p.inference.std_error,
    );
    let notes = v["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("project d")),
        "{v}"
    );
}

/// Event counts per arm: the CSV of dat.nielweise2007 (zero cells, one double-zero
/// trial) pooled as odds ratios gives metafor's REML + Knapp-Hartung result, reported
/// as a ratio.
#[test]
fn counts_input_matches_metafor() {
    let f: Value = serde_json::from_slice(
        &fs::read(root().join("tests/fixtures/reference/meta_counts_nielweise2007.json")).unwrap(),
    )
    .unwrap();
    let col = |k: &str| -> Vec<f64> {
        f[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let (et, nt, ec, nc) = (
        col("events_treated"),
        col("n_treated"),
        col("events_control"),
        col("n_control"),
    );
    let mut csv = String::from("trial,et,nt,ec,nc\n");
    for (i, label) in f["labels"].as_array().unwrap().iter().enumerate() {
        csv.push_str(&format!(
            "\"{}\",{},{},{},{}\n",
            label.as_str().unwrap(),
            et[i],
            nt[i],
            ec[i],
            nc[i]
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("niel.csv"), csv).unwrap();
    let args = [
        "meta",
        "niel.csv",
        "--events-treated",
        "et",
        "--n-treated",
        "nt",
        "--events-control",
        "ec",
        "--n-control",
        "nc",
        "--label",
        "trial",
        "--measure",
        "or",
        "--hksj",
        "--format",
        "json",
    ];
    let v = json_of(dir.path(), &args);
    let e = &v["estimates"][0];
    assert_eq!(e["scale"], "ratio");
    let want = f["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["measure"] == "OR")
        .unwrap()["reml_knha"]
        .clone();
    common::assert_close(
        "pooled OR",
        e["estimate"].as_f64().unwrap(),
        want["estimate"].as_f64().unwrap().exp(),
    );
    common::assert_close(
        "SE of log OR",
        e["std_error"].as_f64().unwrap(),
        want["std_error"].as_f64().unwrap(),
    );
    common::assert_close(
        "tau2",
        e["heterogeneity"]["tau2"].as_f64().unwrap(),
        want["tau2"].as_f64().unwrap(),
    );
    assert_eq!(v["studies"][0]["n"].as_u64(), Some(233));

    // More events than units is named with its line.
    fs::write(
        dir.path().join("bad.csv"),
        "trial,et,nt,ec,nc\nA,1,10,2,10\nB,12,10,2,10\n",
    )
    .unwrap();
    let mut bad = args.to_vec();
    bad[1] = "bad.csv";
    fails_with(
        dir.path(),
        &bad,
        &["bad.csv", "line 3", "more events than units"],
    );
}

/// Several results.json files: the pilots' whole-sample estimates of a shared outcome
/// are pooled, labelled by slug; a pilot with several comparisons needs --comparison.
#[test]
fn several_results_files_pool_the_pilots() {
    let dir = tempfile::tempdir().unwrap();
    let row = |subset: &str, cmp: &str, est: f64, se: f64| {
        serde_json::json!({
            "outcome": "work_12m", "subset": subset, "comparison": cmp, "treated": "t",
            "control": "c", "estimator": "ols_adjusted", "headline": true,
            "scale": "difference", "estimate": est, "std_error": se, "suppressed": false,
            "n_treated": 100, "n_control": 120
        })
    };
    let a = serde_json::json!({"slug": "pilot-a", "estimates": [
        row("pooled", "t vs c", 0.05, 0.02), row("north", "t vs c", 0.07, 0.03)]});
    let b = serde_json::json!({"slug": "pilot-b", "estimates": [
        row("pooled", "x vs c", 0.01, 0.01), row("pooled", "y vs c", 0.03, 0.015)]});
    fs::write(dir.path().join("a.json"), a.to_string()).unwrap();
    fs::write(dir.path().join("b.json"), b.to_string()).unwrap();
    let args = [
        "meta",
        "a.json",
        "b.json",
        "--outcome",
        "work_12m",
        "--comparison",
        "y vs c",
        "--method",
        "fe",
        "--format",
        "json",
    ];
    let v = json_of(dir.path(), &args);
    let e = &v["estimates"][0];
    let p = meta::pool(
        &[0.05, 0.03],
        &[0.02, 0.015],
        Options {
            method: Method::Fixed,
            hksj: true,
            conf_level: 0.95,
        },
    )
    .unwrap();
    same(
        "pooled pilots",
        e["estimate"].as_f64().unwrap(),
        p.inference.estimate,
    );
    assert_eq!(v["studies"][0]["label"], "pilot-a");
    assert_eq!(v["studies"][1]["label"], "pilot-b");
    let out = run_in(dir.path(), &args[..5]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&args[..5], &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("b.json") && err.contains("x vs c; y vs c"),
        "{err}"
    );
}
