//! Disclosure control on real pilot outputs: small cells withheld (primary and
//! secondary), shown as suppressed and never as zero; person ids never in any output;
//! `--no-disclosure-control` stamps every output.

mod common;

use common::{root, run_in, show};
use std::fs;

fn evaluate(extra: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_string_lossy().to_string();
    let mut args = vec!["pilot", "leren-en-werken", "--out", &out_s, "--quiet"];
    args.extend(extra);
    let res = run_in(&root(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let json = serde_json::from_slice(&fs::read(out.join("results.json")).unwrap()).unwrap();
    (dir, json)
}

fn summary<'a>(
    j: &'a serde_json::Value,
    outcome: &str,
    subset: &str,
    arm: &str,
) -> &'a serde_json::Value {
    j["arm_summaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["outcome"] == outcome && s["subset"] == subset && s["arm"] == arm)
        .unwrap()
}

#[test]
fn small_cells_are_suppressed_with_secondary_suppression() {
    let (dir, j) = evaluate(&[]);
    assert_eq!(j["disclosure"]["applied"], true);
    assert_eq!(j["disclosure"]["threshold"], 10);
    // Every published arm summary rests on at least 10 persons, and for yes/no
    // outcomes at least 10 with and 10 without the outcome.
    for s in j["arm_summaries"].as_array().unwrap() {
        if s["suppressed"] == true {
            assert!(
                s["n"].is_null() && s["mean"].is_null() && s["ci_low"].is_null(),
                "{s}"
            );
            continue;
        }
        let n = s["n"].as_u64().unwrap();
        assert!(n >= 10, "{s}");
        if s["ci_method"] == "wilson" {
            let events = (s["mean"].as_f64().unwrap() * n as f64).round() as u64;
            assert!(events >= 10 && n - events >= 10, "{s}");
        }
        if let Some(m) = s["n_missing"].as_u64() {
            assert!(m == 0 || m >= 10, "{s}");
        }
    }
    // Secondary suppression: never exactly one withheld project per outcome and arm
    // beside a published pooled summary.
    let projects = ["utrecht", "liander", "nova", "spoor"];
    for o in j["outcomes"].as_array().unwrap() {
        let id = o["id"].as_str().unwrap();
        for arm in ["deelnemer", "vergelijking"] {
            let hidden = projects
                .iter()
                .filter(|p| summary(&j, id, p, arm)["suppressed"] == true)
                .count();
            let pooled_shown = summary(&j, id, "pooled", arm)["suppressed"] == false;
            assert!(
                !(hidden == 1 && pooled_shown),
                "{id} {arm}: one withheld project can be recovered"
            );
        }
    }
    // Estimates of comparisons with a withheld arm are withheld too.
    let withheld = j["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["suppressed"] == true)
        .count();
    assert!(withheld > 0, "the shipped data have small project cells");
    for e in j["estimates"].as_array().unwrap() {
        let hidden_arm = summary(
            &j,
            e["outcome"].as_str().unwrap(),
            e["subset"].as_str().unwrap(),
            e["treated"].as_str().unwrap(),
        )["suppressed"]
            == true;
        if hidden_arm {
            assert!(
                e["suppressed"] == true && e["estimate"].is_null() && e["n_treated"].is_null(),
                "{e}"
            );
        }
    }
    let md = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        md.contains("suppressed") && md.contains("Disclosure control"),
        "{md}"
    );
}

#[test]
fn person_identifiers_never_appear_in_any_output() {
    let (dir, _) = evaluate(&["--no-disclosure-control"]);
    let csv = fs::read_to_string(root().join("notebooks-data/leren-en-werken.csv")).unwrap();
    let header: Vec<&str> = csv
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .split(',')
        .collect();
    let col = header.iter().position(|h| *h == "person_id").unwrap();
    let ids: Vec<String> = csv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().to_string())
        .collect();
    assert!(ids.len() > 1000);
    for f in fs::read_dir(dir.path().join("out")).unwrap() {
        let p = f.unwrap().path();
        let text = String::from_utf8_lossy(&fs::read(&p).unwrap()).to_string();
        for id in &ids {
            assert!(
                !text.contains(id.as_str()),
                "{} contains person id {id}",
                p.display()
            );
        }
    }
}

#[test]
fn turning_disclosure_control_off_stamps_every_output() {
    let (dir, j) = evaluate(&["--no-disclosure-control"]);
    assert_eq!(j["disclosure"]["applied"], false);
    let out = dir.path().join("out");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("NO DISCLOSURE CONTROL"));
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("NO DISCLOSURE CONTROL"));
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(",off")),
        "every CSV row says so"
    );
    for f in fs::read_dir(&out).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "svg") {
            let svg = fs::read_to_string(&p).unwrap();
            assert!(
                svg.contains("NO DISCLOSURE CONTROL"),
                "{} lacks the stamp",
                p.display()
            );
        }
    }
    // Without control, the small Liander cell is published.
    assert_eq!(
        summary(&j, "work_12m", "liander", "deelnemer")["suppressed"],
        false
    );
}
