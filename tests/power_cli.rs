//! `via-eval power` as a new user runs it: a follow-up of intensieve-begeleiding (the
//! participation ladder, continuous, with a baseline covariate and attrition) and the
//! UWV trial's 80/10/10 allocation (one 10% arm against the 80% control arm, a binary
//! outcome), in both languages, the chart files, and bad input.

mod common;

use common::{run_in, show};
use serde_json::Value;
use via_eval::stats::power::{self, Design, Effect, Method, Outcome};

fn json(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), args);
    assert!(out.status.success(), "{}", show(args, &out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stdout(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), args);
    assert!(out.status.success(), "{}", show(args, &out));
    String::from_utf8(out.stdout).unwrap()
}

/// Ladder steps: 0.3 steps on an SD of 1.2; the baseline step explains 40% of the
/// variance; 15% do not answer the last questionnaire.
const LADDER: [&str; 16] = [
    "power",
    "--outcome",
    "continuous",
    "--solve",
    "n",
    "--effect",
    "0.3",
    "--sd",
    "1.2",
    "--r2",
    "0.4",
    "--attrition",
    "0.15",
    "--format",
    "json",
    "--power=0.8",
];

#[test]
fn intensieve_begeleiding_follow_up_sample_size() {
    let v = json(&LADDER);
    let mut d = Design::new(Outcome::Continuous, Method::T);
    d.r2 = 0.4;
    d.attrition = 0.15;
    let want = power::solve_n(&d, Effect::D(0.25), 0.8).unwrap();
    assert_eq!(v["n_per_arm"]["treated"], want.n_treated);
    assert_eq!(v["n_per_arm"]["control"], want.n_control);
    assert_eq!(v["n_total"], want.n_treated + want.n_control);
    assert!(v["power"].as_f64().unwrap() >= 0.8);
    assert_eq!(v["design_effect"], 1.0);
    assert_eq!(v["d"], 0.25);
    assert_eq!(v["effect"], 0.3);
    assert_eq!(v["r2"], 0.4);
    assert_eq!(v["method"], "t");
    // The same run as a table, in Dutch and in English.
    let mut args = LADDER.to_vec();
    args.truncate(13);
    let nl = stdout(&[args.as_slice(), &["--lang", "nl"]].concat());
    let line = format!("{}, {}", want.n_treated, want.n_control);
    assert!(
        nl.contains("personen per arm") && nl.contains(&line),
        "{nl}"
    );
    assert!(nl.contains("0,25") && nl.contains("t-toets"), "{nl}");
    let en = stdout(&[args.as_slice(), &["--lang", "en"]].concat());
    assert!(en.contains("persons per arm") && en.contains(&line), "{en}");
    assert!(en.contains("0.25") && en.contains("t test"), "{en}");
}

#[test]
fn uwv_one_tenth_arm_against_the_control_arm() {
    // 1,000 in one treatment arm, 8,000 in the control arm: the MDE on paid work.
    let v = json(&[
        "power",
        "--outcome",
        "binary",
        "--solve",
        "mde",
        "--p0",
        "0.45",
        "--n",
        "1000,8000",
        "--format",
        "json",
    ]);
    let a = v["allocation"].as_f64().unwrap();
    assert!((a - 1.0 / 9.0).abs() < 1e-15);
    let d = Design::new(Outcome::Binary { p0: 0.45 }, Method::Normal);
    let m = power::solve_mde(&d, 1000.0, 8000.0, 0.8).unwrap();
    assert_eq!(v["mde"].as_f64().unwrap(), m.difference);
    assert_eq!(v["mde_d"].as_f64().unwrap(), m.standardised);
    assert_eq!(v["n_total"], 9000);
    // The sizes for 5 percentage points, at the 1:8 allocation, by the arcsine method.
    let v = json(&[
        "power",
        "--outcome",
        "binary",
        "--solve",
        "n",
        "--p0",
        "0.45",
        "--effect",
        "0.05",
        "--allocation",
        "0.1111111111111111",
        "--method",
        "arcsine",
        "--format",
        "json",
    ]);
    let t = v["n_per_arm"]["treated"].as_u64().unwrap();
    let c = v["n_per_arm"]["control"].as_u64().unwrap();
    assert!((c as f64 / t as f64 - 8.0).abs() < 0.01, "{t} {c}");
    assert!(v["power"].as_f64().unwrap() >= 0.8);
    assert!((v["p1"].as_f64().unwrap() - 0.5).abs() < 1e-15);
    for (lang, word) in [("nl", "aandeel behandeld"), ("en", "treated share")] {
        let s = stdout(&[
            "power",
            "--outcome",
            "binary",
            "--solve",
            "power",
            "--p0",
            "0.45",
            "--p1",
            "0.5",
            "--n",
            "1000,8000",
            "--lang",
            lang,
        ]);
        assert!(s.contains(word), "{s}");
        assert!(
            s.contains(if lang == "nl" { "0,111111" } else { "0.111111" }),
            "{s}"
        );
    }
}

#[test]
fn csv_and_cluster_design() {
    let s = stdout(&[
        "power",
        "--outcome",
        "continuous",
        "--solve",
        "mde",
        "--clusters",
        "7",
        "--cluster-size",
        "40",
        "--icc",
        "0.05",
        "--sd",
        "10",
        "--format",
        "csv",
    ]);
    let mut lines = s.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let get = |k: &str| row[head.iter().position(|h| *h == k).unwrap()];
    assert_eq!(get("design_effect"), "2.95");
    assert_eq!(get("n_treated"), "280");
    assert_eq!(get("clusters_control"), "7");
    let mde: f64 = get("mde").parse().unwrap();
    let mde_d: f64 = get("mde_d").parse().unwrap();
    assert!((mde - 10.0 * mde_d).abs() < 1e-12);
}

#[test]
fn chart_in_both_languages() {
    for (lang, title) in [
        ("nl", "Onderscheidend vermogen"),
        ("en", "Power by sample size"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let args = [
            "power",
            "--outcome",
            "continuous",
            "--solve",
            "n",
            "--d",
            "0.3",
            "--out",
            "chart",
            "--lang",
            lang,
        ];
        let out = run_in(dir.path(), &args);
        assert!(out.status.success(), "{}", show(&args, &out));
        let png = std::fs::read(dir.path().join("chart/power-curve.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000);
        let svg = std::fs::read_to_string(dir.path().join("chart/power-curve.svg")).unwrap();
        assert!(svg.contains(title), "{lang}");
    }
}

#[test]
fn bad_input_names_the_flag() {
    let base = [
        "power",
        "--outcome",
        "continuous",
        "--solve",
        "n",
        "--d",
        "0.3",
    ];
    let cases: [(&[&str], &str); 12] = [
        (&["--icc", "1", "--cluster-size", "20"], "--icc"),
        (&["--icc", "-0.1", "--cluster-size", "20"], "--icc"),
        (&["--icc", "0.1"], "--cluster-size"),
        (&["--power", "1"], "--power"),
        (&["--power", "0"], "--power"),
        (&["--alpha", "1.5"], "--alpha"),
        (&["--r2", "1"], "--r2"),
        (&["--attrition", "1"], "--attrition"),
        (&["--allocation", "0"], "--allocation"),
        (&["--method", "arcsine"], "--method"),
        (&["--n", "100"], "--n"),
        (&["--sided", "3"], "--sided"),
    ];
    for (extra, flag) in cases {
        let args = [&base[..], extra].concat();
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(dir.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}", show(&args, &out));
        assert!(err.contains(flag), "{}", show(&args, &out));
        assert!(!err.contains("panicked"), "{}", show(&args, &out));
    }
    let others: [(&[&str], &str); 6] = [
        (
            &[
                "power",
                "--outcome",
                "continuous",
                "--solve",
                "power",
                "--d",
                "0.3",
                "--n",
                "100",
                "--allocation",
                "0.3",
            ],
            "--allocation",
        ),
        (
            &[
                "power",
                "--outcome",
                "continuous",
                "--solve",
                "n",
                "--d",
                "0",
            ],
            "zero",
        ),
        (
            &[
                "power",
                "--outcome",
                "binary",
                "--solve",
                "n",
                "--p1",
                "0.3",
            ],
            "--p0",
        ),
        (
            &[
                "power",
                "--outcome",
                "binary",
                "--solve",
                "n",
                "--p0",
                "1.2",
                "--p1",
                "0.3",
            ],
            "--p0",
        ),
        (
            &[
                "power",
                "--outcome",
                "binary",
                "--solve",
                "n",
                "--p0",
                "0.3",
                "--p1",
                "0",
            ],
            "--p1",
        ),
        (
            &[
                "power",
                "--outcome",
                "continuous",
                "--solve",
                "power",
                "--d",
                "0.3",
            ],
            "--n",
        ),
    ];
    for (args, word) in others {
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(word),
            "{}",
            show(args, &out)
        );
        assert!(!err.contains("panicked"), "{}", show(args, &out));
    }
}
