//! The binary as a user meets it: commands on small files in a fresh folder, with
//! the exit code, stdout and stderr checked.

mod common;

use common::{MINI_CONFIG, pilot_dir, root, run_in, show};
use std::fs;
use std::path::Path;

/// The shared mini pilot without an id column (the data here have none).
fn config() -> String {
    MINI_CONFIG.replace("id = \"pid\"\n", "")
}

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
    pilot_dir(config, "mini.csv", csv)
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
    let dir = setup(&config(), &mini_csv());
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
    let dir = setup(&config(), &mini_csv());
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
    let dir = setup(&config(), &mini_csv());
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
        &config().replace("column = \"income\"", "column = \"incme\""),
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
    let dir = setup(&config(), &csv);
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
    let dir = setup(&config(), &csv);
    fails_with(dir.path(), &["pilot", "mini"], 1, &["binary", "work"]);
}

#[test]
fn bad_config_names_file_key_and_allowed_values() {
    let dir = setup(
        &config().replace("individually-randomised", "rct"),
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
    let dir = setup(&config(), &csv);
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &["income", "not a number"],
    );
}

#[test]
fn compare_without_config_gives_json_with_the_contract() {
    let dir = setup(&config(), &mini_csv());
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
    let head: Vec<_> = est.iter().filter(|e| e["headline"] == true).collect();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0]["estimator"], "welch");
    assert_eq!(head[0]["comparison"], "treated vs control");
    // Standardised effects sit beside the raw difference.
    let names: Vec<&str> = est
        .iter()
        .map(|e| e["estimator"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["welch", "cohens_d", "hedges_g"]);
}

#[test]
fn compare_reports_an_unknown_treated_value() {
    let dir = setup(&config(), &mini_csv());
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
    let dir = setup(&config(), &mini_csv());
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
    let dir = setup(&config(), &mini_csv());
    fs::remove_file(dir.path().join("notebooks-data/mini.csv")).unwrap();
    fails_with(
        dir.path(),
        &["pilot", "mini"],
        1,
        &["mini.csv", "does not exist", "simulate"],
    );
}

/// The time-to-event contract of `compare`, end to end on R's veteran trial, with the
/// numbers checked against R survival (tests/fixtures/survival/veteran.json).
#[test]
fn compare_time_to_event_json_matches_r_survival() {
    let args = [
        "compare",
        "tests/fixtures/survival/data/veteran.csv",
        "--treatment",
        "group",
        "--treated",
        "2",
        "--control",
        "1",
        "--time",
        "time",
        "--event",
        "event",
        "--at",
        "30,90,180",
        "--horizon",
        "365",
        "--format",
        "json",
    ];
    let out = run_in(&root(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &json["comparisons"][0];
    let close = |a: &serde_json::Value, b: f64| common::close(a.as_f64().unwrap(), b);
    assert!(
        close(&c["logrank"]["statistic"], 0.00822734320235077),
        "{}",
        c["logrank"]
    );
    assert_eq!(c["logrank"]["df"], 1.0);
    assert!(close(
        &c["rmst"]["difference"]["estimate"],
        -6.567408386065836
    ));
    assert!(close(
        &c["rmst"]["difference"]["std_error"],
        19.768381859305492
    ));
    assert_eq!(c["rmst"]["horizon"], 365.0);
    assert!(
        close(&c["cox"]["hazard_ratio"], 1.017900903938576),
        "{}",
        c["cox"]
    );
    assert!(close(&c["cox"]["ci_low"], 0.7143755261066743));
    let row = c["survival"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["arm"] == "1" && r["time"] == 30.0)
        .unwrap();
    assert!(close(&row["survival"], 0.7240693378800797));
    assert!(close(&row["std_error"], 0.053885236893051656));
    assert!(close(&row["ci_low"], 0.6021477028170307));
    assert_eq!(row["at_risk"], 50);
    let medians = c["median"].as_array().unwrap();
    assert!(
        medians
            .iter()
            .any(|m| m["arm"] == "2" && m["median"] == 52.5)
    );
}

#[test]
fn pilot_with_time_to_event_outcome_draws_kaplan_meier() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("lew");
    let out_s = out_dir.to_string_lossy().to_string();
    let args = ["pilot", "leren-en-werken", "--out", &out_s, "--quiet"];
    let out = run_in(&root(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    assert!(out_dir.join("km-months_to_job.png").exists());
    let md = fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(
        md.contains("km-months_to_job.png") && md.contains("log-rank"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("results.json")).unwrap()).unwrap();
    let heads: Vec<_> = json["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "months_to_job" && e["headline"] == true)
        .collect();
    assert_eq!(heads.len(), 5, "pooled and four projects");
    assert!(heads.iter().all(|e| e["estimator"] == "rmst_difference"));
}

/// A time-to-event outcome derived from a person-by-month panel gives the same
/// answer as the same outcome given as time and event columns. The panel comes
/// unsorted, with duplicate agreeing rows and a person without panel rows.
#[test]
fn panel_derived_time_to_event_equals_time_and_event_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("pilots")).unwrap();
    fs::create_dir_all(d.join("notebooks-data")).unwrap();
    let mut persons = String::from("person_id,arm,months,found_job\n");
    let mut panel_rows = Vec::new();
    for i in 0..60u32 {
        let arm = if i % 2 == 0 { "treated" } else { "control" };
        let time = (i * 7 + 3) % 19;
        let event = u32::from((i * 5) % 3 != 0);
        persons.push_str(&format!("P{i},{arm},{time},{event}\n"));
        for m in 0..=time {
            let status = u32::from(event == 1 && m == time);
            panel_rows.push(format!("P{i},{m},{status},{time}"));
            if m % 5 == 0 {
                panel_rows.push(format!("P{i},{m},{status},{time}"));
            }
        }
    }
    panel_rows.reverse();
    let panel = format!("person_id,month,employed,end\n{}\n", panel_rows.join("\n"));
    fs::write(d.join("notebooks-data/persons.csv"), persons).unwrap();
    fs::write(d.join("notebooks-data/panel.csv"), panel).unwrap();
    let head = r#"
title = { nl = "T", en = "T" }
description = { nl = "d", en = "d" }
unit = { nl = "p", en = "p" }
[design]
kind = "individually-randomised"
[data]
file = "persons.csv"
id = "person_id"
[arms]
column = "arm"
control = "control"
values = [ { value = "control", label = { nl = "C", en = "C" } }, { value = "treated", label = { nl = "T", en = "T" } } ]
[[outcomes]]
id = "months_to_job"
kind = "time-to-event"
label = { nl = "M", en = "M" }
unit = { nl = "maanden", en = "months" }
better = "lower"
primary = true
horizon = 12
"#;
    fs::write(
        d.join("pilots/cols.toml"),
        format!("slug = \"cols\"\n{head}column = \"months\"\nevent = \"found_job\"\n"),
    )
    .unwrap();
    fs::write(
        d.join("pilots/fromPanel.toml".to_lowercase()),
        format!(
            "slug = \"frompanel\"\n{head}panel = {{ file = \"panel.csv\", id = \"person_id\", month = \"month\", status = \"employed\", end = \"end\" }}\n"
        ),
    )
    .unwrap();
    let mut results = Vec::new();
    for slug in ["cols", "frompanel"] {
        let args = ["pilot", slug, "--out", slug, "--quiet"];
        let out = run_in(d, &args);
        assert!(out.status.success(), "{}", show(&args, &out));
        let json: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join(slug).join("results.json")).unwrap()).unwrap();
        results.push(json);
    }
    let (a, b) = (
        common::estimates_and_ses(&results[0]),
        common::estimates_and_ses(&results[1]),
    );
    assert_eq!(a.len(), 2, "rmst difference and Cox");
    assert_eq!(a, b);
}

fn compare_json(args: &[&str]) -> serde_json::Value {
    let out = run_in(&root(), args);
    assert!(out.status.success(), "{}", show(args, &out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn estimate<'a>(json: &'a serde_json::Value, estimator: &str) -> &'a serde_json::Value {
    json["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["estimator"] == estimator)
        .unwrap_or_else(|| panic!("no {estimator} in {json}"))
}

/// The issue-3 contract of `compare`: --block gives estimatr's blocked difference in
/// means (npk, tests/fixtures/reference/design_npk.json), --estimator lin gives
/// lm_lin (design_lalonde_lin.json), each naming its estimator, SE type and df rule.
#[test]
fn compare_block_and_lin_match_estimatr_through_the_cli() {
    let j = compare_json(&[
        "compare",
        "tests/fixtures/data/npk.csv",
        "--treatment",
        "N",
        "--outcome",
        "yield",
        "--block",
        "block",
        "--format",
        "json",
    ]);
    let e = estimate(&j, "difference_in_means");
    assert!(common::close(
        e["estimate"].as_f64().unwrap(),
        5.616666666666666
    ));
    assert!(common::close(
        e["std_error"].as_f64().unwrap(),
        1.845678134935173
    ));
    assert_eq!(e["df"], 12.0);
    assert_eq!(e["se_type"], "Blocked");
    assert_eq!(e["df_rule"], "N - 2B");
    assert_eq!(e["headline"], true);

    let j = compare_json(&[
        "compare",
        "tests/fixtures/data/lalonde.csv",
        "--treatment",
        "treat",
        "--outcome",
        "re78",
        "--covariates",
        "age,educ,re74,re75",
        "--estimator",
        "lin",
        "--format",
        "json",
    ]);
    let e = estimate(&j, "lin");
    assert!(common::close(
        e["estimate"].as_f64().unwrap(),
        1613.3556514331533
    ));
    assert!(common::close(
        e["std_error"].as_f64().unwrap(),
        654.0388636399441
    ));
    assert_eq!(e["df"], 435.0);
    assert_eq!(
        (e["se_type"].as_str(), e["headline"].as_bool()),
        (Some("HC2"), Some(true))
    );
}

/// Resampling through the CLI is reproducible for a seed, and a few clusters bring a
/// wild cluster bootstrap test.
#[test]
fn compare_resampling_is_seeded_and_few_clusters_add_a_wild_bootstrap() {
    let args = [
        "compare",
        "tests/fixtures/data/achievement_awards_2001_religious.csv",
        "--treatment",
        "treated",
        "--outcome",
        "Bagrut_status",
        "--cluster",
        "school_id",
        "--permutations",
        "500",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let a = compare_json(&args);
    let b = compare_json(&args);
    assert_eq!(a["tests"], b["tests"]);
    let tests = a["tests"].as_array().unwrap();
    for name in [
        "wild_cluster_bootstrap",
        "randomisation",
        "chi_square",
        "fisher_exact",
    ] {
        let t = tests
            .iter()
            .find(|t| t["test"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        let p = t["p_value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{name}: {p}");
    }
    // 10 schools: CR2 with Bell-McCaffrey df leads.
    let e = estimate(&a, "ols");
    assert_eq!(
        (e["se_type"].as_str(), e["n_clusters"].as_u64()),
        (Some("CR2"), Some(10))
    );
    assert!(e["df"].as_f64().unwrap() < 9.0);
}

/// Complete cases, counted per arm and reason in results.json, the report and the
/// terminal: 12 treated and 11 control units without an income, 10 treated units with
/// an income but no age (left out of the adjusted estimate only).
#[test]
fn missing_data_are_counted_per_arm_and_reason_everywhere() {
    let mut s = String::from("arm,age,work,income\n");
    for i in 0..200 {
        let arm = if i % 2 == 0 { "treated" } else { "control" };
        let work = u8::from((i * 7) % 3 == 0);
        let income = if i < 23 {
            "NA".to_string()
        } else {
            format!("{}", 1000 + (i * 37) % 200)
        };
        let age = if (24..44).contains(&i) && i % 2 == 0 {
            String::new()
        } else {
            format!("{}", 20 + i % 30)
        };
        s.push_str(&format!("{arm},{age},{work},{income}\n"));
    }
    let dir = setup(&config(), &s);
    let args = ["pilot", "mini", "--out", "res", "--lang", "en"];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("res/results.json")).unwrap()).unwrap();
    let row = |arm: &str| {
        json["arm_summaries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["outcome"] == "income" && r["arm"] == arm)
            .unwrap()
            .clone()
    };
    assert_eq!(row("treated")["n_missing"], 12);
    assert_eq!(row("control")["n_missing"], 11);
    assert_eq!(row("treated")["n_missing_covariates"], 10);
    // 0 is published; no small count is.
    assert_eq!(row("control")["n_missing_covariates"], 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "Income: no outcome Control 11, Treated 12; missing covariate Control 0, Treated 10"
        ),
        "{stdout}"
    );
    let md = fs::read_to_string(dir.path().join("res/report.md")).unwrap();
    assert!(md.contains("| missing covariate |"), "{md}");
    // The adjusted estimate uses 12 + 10 fewer treated units than there are rows.
    let adj = json["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == "income" && e["estimator"] == "ols_adjusted")
        .unwrap();
    assert_eq!(adj["n_treated"], 100 - 12 - 10);
    assert_eq!(adj["n_control"], 100 - 11);
}

/// `VIA_EVAL_SIMD` keeps the resampling key stream to narrower vectors: `cpu-paths`
/// names the path taken, a bootstrap and a permutation test give the same JSON to the
/// byte under every limit, and any other value is refused with the variable named.
#[test]
fn vector_limit_changes_the_path_not_the_result() {
    let dir = setup(&config(), &mini_csv());
    let run = |simd: Option<&str>, args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_via-eval"));
        cmd.args(args).current_dir(dir.path());
        match simd {
            Some(v) => cmd.env("VIA_EVAL_SIMD", v),
            None => cmd.env_remove("VIA_EVAL_SIMD"),
        };
        cmd.output().expect("the via-eval binary runs")
    };
    let paths = ["cpu-paths"];
    let portable = run(Some("portable"), &paths);
    assert!(portable.status.success(), "{}", show(&paths, &portable));
    let text = String::from_utf8_lossy(&portable.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("key stream") && l.contains("portable loop")),
        "{text}"
    );
    let capped = run(Some("avx2"), &paths);
    let text = String::from_utf8_lossy(&capped.stdout);
    assert!(!text.contains("AVX-512F (16"), "{text}");
    let args = [
        "compare",
        "notebooks-data/mini.csv",
        "--treatment",
        "arm",
        "--treated",
        "treated",
        "--outcome",
        "income",
        "--bootstrap",
        "2000",
        "--permutations",
        "999",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let free = run(None, &args);
    assert!(free.status.success(), "{}", show(&args, &free));
    for limit in ["avx2", "portable"] {
        let out = run(Some(limit), &args);
        assert!(out.status.success(), "{}", show(&args, &out));
        assert_eq!(out.stdout, free.stdout, "VIA_EVAL_SIMD={limit}");
    }
    let bad = run(Some("sse9"), &args);
    assert_eq!(bad.status.code(), Some(2), "{}", show(&args, &bad));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("VIA_EVAL_SIMD=sse9") && err.contains("avx2 or portable"),
        "{err}"
    );
    assert!(bad.stdout.is_empty());
}
