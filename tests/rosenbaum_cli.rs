//! `compare --estimator matching --ratio 1` reports `rosenbaum_gamma`, the Rosenbaum
//! bound of the matched pairs (signed-rank for a continuous outcome, sign test for a
//! yes/no one), and only for 1:1 matching without replacement.

use serde_json::Value;

mod common;
use common::{run_in, show};

/// A deterministic observational data set: participation rises with x, the outcome
/// with x and by 1.5 (continuous) with participation.
fn data(dir: &std::path::Path) -> std::path::PathBuf {
    let mut csv = String::from("t,x,z,y,found\n");
    for i in 0..400 {
        let u = (i as f64 * 0.618_033_988_75).fract();
        let x = ((i * 37) % 101) as f64 / 25.0 - 2.0;
        let z = ((i * 53) % 97) as f64 / 97.0;
        let p = 1.0 / (1.0 + (-(x - 1.0)).exp());
        let t = u64::from(u < p);
        let noise = (i as f64 * 1.7).sin();
        let y = x + 1.5 * t as f64 + noise;
        let found = u64::from(y > 0.8);
        csv.push_str(&format!("{t},{x},{z},{y},{found}\n"));
    }
    let path = dir.join("pairs.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn compare(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = data(dir.path());
    let mut args = vec![
        "compare",
        path.to_str().unwrap(),
        "--treatment",
        "t",
        "--treated",
        "1",
        "--outcome",
        "y,found",
        "--covariates",
        "x,z",
        "--estimator",
        "matching",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn gamma(r: &Value, outcome: &str) -> Option<f64> {
    r["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == outcome && e["estimator"] == "matching_att")
        .unwrap_or_else(|| panic!("no matching_att row for {outcome}"))["rosenbaum_gamma"]
        .as_f64()
}

#[test]
fn one_to_one_matching_reports_the_rosenbaum_bound() {
    let r = compare(&["--ratio", "1"]);
    for outcome in ["y", "found"] {
        let g = gamma(&r, outcome).unwrap_or_else(|| panic!("{outcome}: no rosenbaum_gamma"));
        assert!(g > 1.0 && g.is_finite(), "{outcome}: {g}");
    }
    // The continuous outcome's pairs carry more information than the yes/no ones.
    assert!(gamma(&r, "y").unwrap() > gamma(&r, "found").unwrap());
}

#[test]
fn other_matching_designs_report_none() {
    for extra in [&["--ratio", "2"][..], &["--ratio", "1", "--replace"][..]] {
        let r = compare(extra);
        assert_eq!(gamma(&r, "y"), None, "{extra:?}");
    }
}
