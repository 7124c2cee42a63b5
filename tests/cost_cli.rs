//! Issue 17 item 5: `via-eval compare --cost COL`, the cost per extra person for any
//! data file: table, JSON and CSV output, the charts with `--out`, and bad input.

mod common;
use common::{assert_close, root, run_in, show};

fn lalonde() -> String {
    root()
        .join("tests/fixtures/data/lalonde.csv")
        .display()
        .to_string()
}

fn fixture_case() -> serde_json::Value {
    let f: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cost_fieller.json"))
            .unwrap(),
    )
    .unwrap();
    f["person_cases"][0].clone()
}

#[test]
fn compare_cost_prints_json_csv_and_table_and_writes_the_charts() {
    let dir = tempfile::tempdir().unwrap();
    let data = lalonde();
    let base = [
        "compare",
        data.as_str(),
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "employed78",
        "--cost",
        "re78",
        "--cost-replicates",
        "500",
    ];
    let want = fixture_case();
    // JSON: the costs object with Fieller (closed form) and the bootstrap.
    let args: Vec<&str> = base.iter().copied().chain(["--format", "json"]).collect();
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let x = &j["costs"]["comparisons"][0];
    assert_eq!(x["cost_basis"], "column");
    for (k, w) in [
        ("incremental_cost", "cost"),
        ("cost_std_error", "cost_se"),
        ("incremental_effect", "effect"),
        ("effect_std_error", "effect_se"),
        ("covariance", "covariance"),
    ] {
        assert_close(k, x[k].as_f64().unwrap(), want[w].as_f64().unwrap());
    }
    assert_close(
        "fieller low",
        x["fieller"]["low"].as_f64().unwrap(),
        want["fieller_95"]["low"].as_f64().unwrap(),
    );
    assert_eq!(x["bootstrap_replicates"], 500);
    assert_eq!(x["bootstrap_kind"], "bounded");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("NaN"));
    // The same seed gives the same interval; another seed another.
    let again = run_in(dir.path(), &args);
    let j2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(j2["costs"], j["costs"]);
    let other: Vec<&str> = args.iter().copied().chain(["--seed", "5"]).collect();
    let j3: serde_json::Value = serde_json::from_slice(&run_in(dir.path(), &other).stdout).unwrap();
    assert_ne!(
        j3["costs"]["comparisons"][0]["bootstrap_low"],
        x["bootstrap_low"]
    );
    // CSV: a header and one row, numbers at full precision.
    let args: Vec<&str> = base.iter().copied().chain(["--format", "csv"]).collect();
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    let head: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    let col = |name: &str| row[head.iter().position(|h| *h == name).unwrap()];
    assert_close(
        "csv icer",
        col("icer").parse().unwrap(),
        want["cost"].as_f64().unwrap() / want["effect"].as_f64().unwrap(),
    );
    assert_eq!(col("fieller_kind"), "bounded");
    // Table with --out: the cost line and the charts in both languages.
    let args: Vec<&str> = base.iter().copied().chain(["--out", "charts"]).collect();
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Cost per extra person (employed78): about €16,223"),
        "{text}"
    );
    for f in [
        "ce_plane_nl.png",
        "ce_plane_en.svg",
        "acceptability_nl.svg",
        "acceptability_en.png",
    ] {
        assert!(dir.path().join("charts").join(f).exists(), "{f}");
    }
}

#[test]
fn compare_cost_bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/lalonde.csv")).unwrap();
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let extra = match i {
            0 => "cost_text,cost_neg,cost_same".to_string(),
            5 => "unknown,-3,100".to_string(),
            _ => format!("{i},{i},100"),
        };
        out.push_str(&format!("{l},{extra}\n"));
    }
    std::fs::write(dir.path().join("d.csv"), out).unwrap();
    for (col, words) in [
        ("cost_text", "unknown"),
        ("cost_neg", "0 or more"),
        ("cost_same", "one cost for everyone"),
        ("no_such_column", "no_such_column"),
    ] {
        let args = [
            "compare",
            "d.csv",
            "--treatment",
            "treat",
            "--outcome",
            "employed78",
            "--cost",
            col,
        ];
        let o = run_in(dir.path(), &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{}", show(&args, &o));
        assert!(err.contains(words), "{}", show(&args, &o));
        assert!(!err.contains("panicked"), "{}", show(&args, &o));
    }
    let args = [
        "compare",
        "d.csv",
        "--treatment",
        "treat",
        "--outcome",
        "employed78,re78",
        "--cost",
        "cost_neg",
    ];
    let o = run_in(dir.path(), &args);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--cost needs exactly one --outcome"),
        "{}",
        show(&args, &o)
    );
}
