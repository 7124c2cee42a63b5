//! The binary as a user meets it: commands on small files in a fresh folder, with
//! the exit code, stdout and stderr checked.

mod common;

use common::{root, run_in, show};
use std::fs;
use std::path::Path;

const CONFIG: &str = r#"
slug = "mini"
title = { nl = "Mini", en = "Mini" }
description = { nl = "Kleine test", en = "Small test" }
unit = { nl = "persoon", en = "person" }
covariates = ["age"]
[design]
kind = "individually-randomised"
[data]
file = "mini.csv"
[arms]
column = "arm"
control = "control"
values = [ { value = "control", label = { nl = "Controle", en = "Control" } }, { value = "treated", label = { nl = "Behandeld", en = "Treated" } } ]
[[outcomes]]
id = "work"
column = "work"
kind = "binary"
label = { nl = "Werk", en = "Work" }
unit = { nl = "procentpunt", en = "percentage points" }
primary = true
better = "higher"
[[outcomes]]
id = "income"
column = "income"
kind = "continuous"
label = { nl = "Inkomen", en = "Income" }
unit = { nl = "euro", en = "euros" }
better = "higher"
"#;

/// 40 rows: arm, age, work (0/1), income.
fn mini_csv() -> String {
    let mut s = String::from("arm,age,work,income\n");
    for i in 0..40 {
        let arm = if i % 2 == 0 { "treated" } else { "control" };
        let work = u8::from((i * 7) % 3 == 0);
        let income = 1000.0 + (i as f64 * 37.0) % 200.0 + if i % 2 == 0 { 50.0 } else { 0.0 };
        s.push_str(&format!("{arm},{},{work},{income}\n", 20 + i % 30));
    }
    s
}

fn setup(config: &str, csv: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("pilots")).unwrap();
    fs::create_dir_all(dir.path().join("notebooks-data")).unwrap();
    fs::write(dir.path().join("pilots/mini.toml"), config).unwrap();
    fs::write(dir.path().join("notebooks-data/mini.csv"), csv).unwrap();
    dir
}

fn fails_with(dir: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let out = run_in(dir, args);
    let msg = show(args, &out);
    assert_eq!(out.status.code(), Some(code), "{msg}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{msg}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}\n{msg}");
    }
}

#[test]
fn a_small_pilot_writes_every_output() {
    let dir = setup(CONFIG, &mini_csv());
    let args = ["pilot", "mini", "--out", "res"];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    for f in [
        "results.json",
        "results.csv",
        "report.md",
        "report.html",
        "effects.png",
        "effects.svg",
        "arms-work.png",
        "arms-income.svg",
    ] {
        let p = dir.path().join("res").join(f);
        assert!(
            p.metadata().map(|m| m.len() > 100).unwrap_or(false),
            "{f} missing or empty"
        );
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("res/results.json")).unwrap()).unwrap();
    let est = json["estimates"].as_array().unwrap();
    for key in [
        "outcome",
        "comparison",
        "estimator",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "conf_level",
        "p_value",
        "df",
        "n_treated",
        "n_control",
    ] {
        assert!(
            est.iter().all(|e| e.get(key).is_some()),
            "estimate without {key}"
        );
    }
    for key in ["arm", "n", "mean", "ci_low", "ci_high"] {
        assert!(
            json["arm_summaries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e.get(key).is_some())
        );
    }
    // Newcombe's interval for a binary outcome has a normal reference: df is null.
    let rd = est
        .iter()
        .find(|e| e["estimator"] == "risk_difference_newcombe")
        .unwrap();
    assert!(rd["df"].is_null());
    let html = fs::read_to_string(dir.path().join("res/report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(
        !html.contains("src=\"http"),
        "the HTML report must not load external assets"
    );
    // The terminal summary names the outcomes.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Work") && stdout.contains("Income"),
        "{stdout}"
    );
}

#[test]
fn dutch_report_is_in_dutch() {
    let dir = setup(CONFIG, &mini_csv());
    let args = ["pilot", "mini", "--out", "nl", "--lang", "nl", "--quiet"];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let md = fs::read_to_string(dir.path().join("nl/report.md")).unwrap();
    assert!(
        md.contains("Belangrijkste resultaten") && md.contains("Inkomen"),
        "{md}"
    );
}

#[test]
fn unknown_pilot_lists_the_known_ones() {
    let dir = setup(CONFIG, &mini_csv());
    fails_with(
        dir.path(),
        &["pilot", "mnii"],
        2,
        &["unknown pilot", "mini", "Did you mean"],
    );
}

#[test]
fn unknown_pilot_in_the_repository_lists_all_eight() {
    let out = run_in(&root(), &["pilot", "no-such-pilot"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for slug in [
        "ouderbetrokkenheid-vmbo",
        "voorbereiding-mbo",
        "werving-en-selectie",
        "culturele-diversiteit",
        "behoud-en-doorstroom",
        "leren-en-werken",
        "uwv-dienstverlening-ww",
        "intensieve-begeleiding",
    ] {
        assert!(err.contains(slug), "{err}");
    }
}

#[test]
fn missing_column_is_named_with_a_suggestion() {
    let dir = setup(
        &CONFIG.replace("column = \"income\"", "column = \"incme\""),
        &mini_csv(),
    );
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &["mini.csv", "incme", "Did you mean \"income\""],
    );
    assert!(
        !dir.path().join("out/mini").exists(),
        "no output after an error"
    );
}

#[test]
fn unknown_arm_value_names_row_and_allowed_values() {
    let csv = mini_csv().replacen("treated,", "treatment,", 1);
    let dir = setup(CONFIG, &csv);
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &[
            "unknown arm \"treatment\"",
            "data row 1",
            "control, treated",
        ],
    );
}

#[test]
fn non_binary_value_in_binary_outcome_is_refused() {
    let csv = mini_csv().replacen(",1,", ",2,", 1);
    let dir = setup(CONFIG, &csv);
    fails_with(dir.path(), &["pilot", "mini"], 1, &["binary", "work"]);
}

#[test]
fn bad_config_names_file_key_and_allowed_values() {
    let dir = setup(
        &CONFIG.replace("individually-randomised", "rct"),
        &mini_csv(),
    );
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &["mini.toml", "design.kind", "cluster-randomised"],
    );
}

#[test]
fn text_in_a_numeric_column_names_the_row() {
    let csv = mini_csv().replacen("1050", "n/a?", 1);
    let dir = setup(CONFIG, &csv);
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &["income", "not a number"],
    );
}

#[test]
fn compare_without_config_gives_json_with_the_contract() {
    let dir = setup(CONFIG, &mini_csv());
    let args = [
        "compare",
        "notebooks-data/mini.csv",
        "--treatment",
        "arm",
        "--treated",
        "treated",
        "--outcome",
        "income",
        "--format",
        "json",
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let est = json["estimates"].as_array().unwrap();
    // Without covariates the continuous estimator is Welch's.
    assert_eq!(est.len(), 1);
    assert_eq!(est[0]["estimator"], "welch");
    assert_eq!(est[0]["comparison"], "treated vs control");
}

#[test]
fn compare_reports_an_unknown_treated_value() {
    let dir = setup(CONFIG, &mini_csv());
    fails_with(
        dir.path(),
        &[
            "compare",
            "notebooks-data/mini.csv",
            "--treatment",
            "arm",
            "--treated",
            "treatd",
            "--outcome",
            "income",
        ],
        1,
        &["--treated \"treatd\"", "Did you mean \"treated\""],
    );
}

#[test]
fn compare_csv_and_table_formats() {
    let dir = setup(CONFIG, &mini_csv());
    let base = [
        "compare",
        "notebooks-data/mini.csv",
        "--treatment",
        "arm",
        "--treated",
        "treated",
        "--outcome",
        "work,income",
        "--covariates",
        "age",
    ];
    let mut args = base.to_vec();
    args.extend(["--format", "csv"]);
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("outcome,subset,comparison,"));
    assert!(
        csv.contains("ols_adjusted") && csv.contains("risk_difference_newcombe"),
        "{csv}"
    );
    let out = run_in(dir.path(), &base);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Welch"));
}

#[test]
fn missing_data_file_says_what_to_do() {
    let dir = setup(CONFIG, &mini_csv());
    fs::remove_file(dir.path().join("notebooks-data/mini.csv")).unwrap();
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &["mini.csv", "does not exist", "simulate"],
    );
}
