//! What a new user meets in the first hour (issue 13): every CSV output loads with the
//! documented columns (checked with Python's csv module too), results.parquet holds the
//! same table with types and nulls, the terminal summary fits 100 columns, and `--help`
//! ends with examples.

mod common;

use common::{root, run_in, show};
use std::fs;
use std::path::Path;
use std::process::Command;
use via_eval::report::columns::{COLUMNS, Kind, Names};

/// The records of a CSV text (RFC 4180 quoting), read with the csv crate.
fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// Every line has as many fields as the header, and the header is the column list.
fn assert_rectangular(what: &str, text: &str, names: Names) {
    let recs = records(text);
    let want: Vec<&str> = COLUMNS.iter().map(|c| c.name(names)).collect();
    assert_eq!(recs[0], want, "{what}: header");
    assert!(recs.len() > 1, "{what}: no rows");
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(
            r.len(),
            want.len(),
            "{what}: line {} has {} fields, the header {}",
            i + 1,
            r.len(),
            want.len()
        );
    }
}

/// Python's csv module reads the file with the same column names and equal row widths.
/// Skipped, with a note, where python3 is not installed.
fn assert_python_reads(path: &Path, names: Names) {
    let script = r#"
import csv, json, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
print(json.dumps({"header": rows[0], "widths": sorted({len(r) for r in rows[1:]}), "n": len(rows) - 1}))
"#;
    let out = match Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            eprintln!("note: python3 not found; the Python csv check is skipped");
            return;
        }
    };
    assert!(
        out.status.success(),
        "python3 failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<&str> = COLUMNS.iter().map(|c| c.name(names)).collect();
    assert_eq!(got["header"], serde_json::json!(want), "{}", path.display());
    assert_eq!(
        got["widths"],
        serde_json::json!([want.len()]),
        "{}",
        path.display()
    );
    assert!(got["n"].as_u64().unwrap() > 0);
}

/// results.parquet holds the CSV's table: same names, one typed column per documented
/// type, and a null exactly where the CSV field is empty.
fn assert_parquet_matches_csv(dir: &Path) {
    use polars::prelude::*;
    let file = fs::File::open(dir.join("results.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    let csv = records(&fs::read_to_string(dir.join("results.csv")).unwrap());
    assert_eq!(df.height(), csv.len() - 1, "{}", dir.display());
    for (j, c) in COLUMNS.iter().enumerate() {
        let col = df.column(c.name).unwrap();
        let want = match c.kind {
            Kind::Text => DataType::String,
            Kind::Float => DataType::Float64,
            Kind::Count => DataType::UInt64,
            Kind::Flag => DataType::Boolean,
        };
        assert_eq!(col.dtype(), &want, "{}: {}", dir.display(), c.name);
        for i in 0..df.height() {
            let null = col.get(i).unwrap().is_null();
            let empty = csv[i + 1][j].is_empty();
            assert_eq!(
                null,
                empty,
                "{}: row {i} column {}: null in Parquet {null}, empty in CSV {empty}",
                dir.display(),
                c.name
            );
        }
    }
}

/// Every pilot once: results.csv is rectangular and loads in Python with the documented
/// names, results.parquet agrees with it, and every line of the terminal summary fits
/// 100 columns (in both languages).
#[test]
fn every_pilot_writes_a_loadable_table_and_a_summary_that_fits() {
    let dir = tempfile::tempdir().unwrap();
    for (lang, sub) in [("en", "en"), ("nl", "nl")] {
        let out = dir.path().join(sub);
        let out_s = out.to_string_lossy().to_string();
        let args = ["pilot", "--all", "-o", &out_s, "--lang", lang];
        let res = run_in(&root(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        let stdout = String::from_utf8_lossy(&res.stdout);
        let too_wide: Vec<String> = stdout
            .lines()
            .filter(|l| l.chars().count() > 100)
            .map(|l| format!("{:>3}: {l}", l.chars().count()))
            .collect();
        assert!(
            too_wide.is_empty(),
            "terminal summary ({lang}) wider than 100 columns:\n{}",
            too_wide.join("\n")
        );
        if lang == "nl" {
            continue;
        }
        let mut pilots = 0;
        for e in fs::read_dir(&out).unwrap() {
            let p = e.unwrap().path();
            // Beside the pilots' folders: the overview (index.html, index.md, chart).
            if !p.is_dir() {
                continue;
            }
            let csv = p.join("results.csv");
            let text = fs::read_to_string(&csv).unwrap();
            assert_rectangular(&csv.display().to_string(), &text, Names::Snake);
            assert_python_reads(&csv, Names::Snake);
            assert_parquet_matches_csv(&p);
            pilots += 1;
        }
        assert_eq!(pilots, 8);
    }
}

/// `compare --format csv` prints the same table, with either naming; broom names change
/// the header only.
#[test]
fn compare_csv_has_the_documented_columns_in_both_namings() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "compare",
        "notebooks-data/leren-en-werken.csv",
        "--treatment",
        "arm",
        "--treated",
        "deelnemer",
        "--outcome",
        "work_12m,hours_week",
        "--covariates",
        "age,female",
        "--format",
        "csv",
    ];
    let mut bodies = Vec::new();
    for (names, flag) in [(Names::Snake, "snake"), (Names::Broom, "broom")] {
        let mut args = base.to_vec();
        args.extend(["--names", flag]);
        let res = run_in(&root(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        let text = String::from_utf8(res.stdout).unwrap();
        assert_rectangular(flag, &text, names);
        let path = dir.path().join(format!("{flag}.csv"));
        fs::write(&path, &text).unwrap();
        assert_python_reads(&path, names);
        bodies.push(text.split_once('\n').unwrap().1.to_string());
    }
    assert_eq!(bodies[0], bodies[1], "--names changes the header only");
    let broom = records(&fs::read_to_string(dir.path().join("broom.csv")).unwrap());
    for n in [
        "term",
        "estimate",
        "std.error",
        "statistic",
        "p.value",
        "conf.low",
        "conf.high",
    ] {
        assert!(broom[0].iter().any(|h| h == n), "broom header lacks {n}");
    }
}

/// Every command's help ends with examples of itself, and the options are grouped.
#[test]
fn every_help_ends_with_examples() {
    for cmd in [
        "pilots",
        "pilot",
        "compare",
        "simulate",
        "adjust",
        "coverage",
        "power",
        "meta",
        "did",
        "its",
        "completions",
        "man",
    ] {
        let args = [cmd, "--help"];
        let res = run_in(&root(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        let help = String::from_utf8_lossy(&res.stdout);
        let (_, examples) = help
            .split_once("Examples:")
            .unwrap_or_else(|| panic!("{cmd} --help has no examples:\n{help}"));
        let n = examples
            .lines()
            .filter(|l| l.contains(&format!("via-eval {cmd}")) || l.contains(&format!("-- {cmd}")))
            .count();
        assert!((2..=4).contains(&n), "{cmd}: {n} examples\n{help}");
    }
    let res = run_in(&root(), &["pilot", "--help"]);
    let help = String::from_utf8_lossy(&res.stdout);
    for heading in [
        "Input reading:",
        "Analysis:",
        "Output:",
        "Disclosure control:",
    ] {
        assert!(
            help.contains(heading),
            "pilot --help lacks {heading}\n{help}"
        );
    }
    assert!(
        help.contains("-o, --out") && help.contains("-q, --quiet"),
        "{help}"
    );
}

/// Completions and the man page come from the same definitions.
#[test]
fn completions_and_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let args = ["completions", shell];
        let res = run_in(&root(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        let text = String::from_utf8_lossy(&res.stdout);
        assert!(
            text.contains("via-eval") && text.contains("disclosure-threshold"),
            "{shell}"
        );
    }
    let res = run_in(&root(), &["man"]);
    assert!(res.status.success());
    let page = String::from_utf8_lossy(&res.stdout);
    assert!(page.contains(".TH via-eval"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_string_lossy().to_string();
    let res = run_in(&root(), &["man", "-o", &out]);
    assert!(res.status.success(), "{}", show(&["man"], &res));
    assert!(dir.path().join("via-eval-pilot.1").exists());
}

/// Run the binary in `dir` with extra environment variables.
fn run_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_via-eval"));
    c.args(args)
        .current_dir(dir)
        .env_remove("VIA_EVAL_PILOTS")
        .env_remove("VIA_EVAL_DATA");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the via-eval binary runs")
}

/// A copy of one shipped pilot (config, simulation parameters, data) in a fresh
/// repository-like folder: `pilots/` and `notebooks-data/`.
fn copy_pilot(slug: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("pilots")).unwrap();
    fs::create_dir_all(d.join("notebooks-data")).unwrap();
    fs::create_dir_all(d.join("elsewhere")).unwrap();
    for f in [format!("{slug}.toml"), format!("{slug}.sim.toml")] {
        fs::copy(root().join("pilots").join(&f), d.join("pilots").join(&f)).unwrap();
    }
    for ext in ["csv", "parquet", "truth.json", "dictionary.md"] {
        let f = format!("{slug}.{ext}");
        fs::copy(
            root().join("notebooks-data").join(&f),
            d.join("notebooks-data").join(&f),
        )
        .unwrap();
    }
    dir
}

/// From another folder: without a pilots folder the error names the flags and the
/// variables; with VIA_EVAL_PILOTS the data are found beside the configs.
#[test]
fn pilot_runs_from_another_folder() {
    let dir = copy_pilot("intensieve-begeleiding");
    let d = dir.path();
    let away = d.join("elsewhere");
    let args = ["pilot", "intensieve-begeleiding", "-q", "-o", "res"];
    let res = run_env(&away, &args, &[]);
    assert_eq!(res.status.code(), Some(2), "{}", show(&args, &res));
    let err = String::from_utf8_lossy(&res.stderr);
    for n in ["--pilots", "VIA_EVAL_PILOTS", "--data", "VIA_EVAL_DATA"] {
        assert!(err.contains(n), "error lacks {n}: {err}");
    }
    let res = run_env(&away, &args, &[("VIA_EVAL_PILOTS", &d.join("pilots"))]);
    assert!(res.status.success(), "{}", show(&args, &res));
    assert!(away.join("res/results.json").exists());
    // The flag works as the variable does, and a data folder that lacks the file says
    // how to point at another one.
    let pilots = d.join("pilots").to_string_lossy().to_string();
    let args = [
        "pilot",
        "intensieve-begeleiding",
        "--pilots",
        &pilots,
        "--data",
        "nowhere",
    ];
    let res = run_env(&away, &args, &[]);
    assert_eq!(res.status.code(), Some(1), "{}", show(&args, &res));
    let err = String::from_utf8_lossy(&res.stderr);
    for n in ["does not exist", "--data", "VIA_EVAL_DATA", "simulate"] {
        assert!(err.contains(n), "error lacks {n}: {err}");
    }
}

/// A missing file in `compare` is a path to check, not a pilot to simulate.
#[test]
fn compare_missing_file_hint_fits_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "compare",
        "nope.csv",
        "--treatment",
        "arm",
        "--outcome",
        "y",
    ];
    let res = run_env(dir.path(), &args, &[]);
    assert_eq!(res.status.code(), Some(1), "{}", show(&args, &res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("simulate"), "{err}");
}

/// `simulate` writes a new folder by default (the same bytes as the shipped data for
/// the default seed), and replaces the shipped data only with --overwrite.
#[test]
fn simulate_leaves_the_shipped_data_alone_unless_asked() {
    let slug = "intensieve-begeleiding";
    let dir = copy_pilot(slug);
    let d = dir.path();
    let shipped = fs::read(d.join(format!("notebooks-data/{slug}.csv"))).unwrap();
    let args = ["simulate", slug];
    let res = run_env(d, &args, &[]);
    assert!(res.status.success(), "{}", show(&args, &res));
    let made = fs::read(d.join(format!("simulated/{slug}/{slug}.csv"))).unwrap();
    assert!(made == shipped, "the default seed remakes the shipped data");

    let args = ["simulate", slug, "--seed", "5", "--out", "notebooks-data"];
    let res = run_env(d, &args, &[]);
    assert_eq!(res.status.code(), Some(2), "{}", show(&args, &res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("--overwrite") && err.contains("--out"),
        "{err}"
    );
    let after = fs::read(d.join(format!("notebooks-data/{slug}.csv"))).unwrap();
    assert!(after == shipped, "refused, so nothing changed");

    let mut args = args.to_vec();
    args.push("--overwrite");
    let res = run_env(d, &args, &[]);
    assert!(res.status.success(), "{}", show(&args, &res));
    let after = fs::read(d.join(format!("notebooks-data/{slug}.csv"))).unwrap();
    assert!(after != shipped, "--overwrite replaced the data (seed 5)");
}
