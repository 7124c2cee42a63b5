//! Fuzzing with property tests: arbitrary bytes and mangled versions of good inputs
//! fed to config parsing and to data loading (text, workbooks) and on through the
//! analysis. Each must return Ok or an error; none may panic.
//!
//! The normal run tries a few hundred cases per target. The ignored `long_*` tests run
//! many more (`FUZZ_CASES`, default 100,000):
//!
//!     FUZZ_CASES=100000 cargo test --release --test fuzz_inputs -- --ignored
//!
//! See docs/input-files.md for the cargo-fuzz targets in `fuzz/`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::path::Path;
use via_eval::analysis::{self, Options, Privacy};
use via_eval::config::PilotSpec;
use via_eval::config::ReadOptions;
use via_eval::data::Frame;

const GOOD: &str = r#"slug = "demo"
title = { nl = "Demo", en = "Demo" }
description = { nl = "d", en = "d" }
unit = { nl = "persoon", en = "person" }
covariates = ["x"]
[design]
kind = "cluster-randomised"
cluster = "g"
[data]
file = "demo.csv"
id = "id"
delimiter = ";"
decimal_comma = true
na = ["-99"]
[arms]
column = "arm"
control = "c"
values = [ { value = "c", label = { nl = "C", en = "C" } }, { value = "t", label = { nl = "T", en = "T" } } ]
[[outcomes]]
id = "y"
column = "y"
kind = "continuous"
label = { nl = "Y", en = "Y" }
unit = { nl = "euro", en = "euros" }
better = "higher"
[[outcomes]]
id = "s"
column = "s"
event = "e"
kind = "time-to-event"
label = { nl = "S", en = "S" }
unit = { nl = "m", en = "m" }
better = "lower"
at = [3.0, 6.0]
"#;

/// Parse config text; a panic fails the property.
fn check_config(text: &str) {
    let _ = PilotSpec::from_toml(text, Path::new("pilots/demo.toml"));
}

/// Load bytes as a data file of the given name and read every column every way.
fn check_data(dir: &Path, name: &str, bytes: &[u8], opts: &ReadOptions) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    for cols in [vec![], vec!["arm".to_string(), "y".to_string()]] {
        if let Ok(f) = Frame::load_with(&p, &cols, &["x"], opts) {
            for c in f.column_names() {
                let _ = f.strings(&c);
                let _ = f.numbers(&c);
                let _ = via_eval::prepare::checks::unique_ids(&f, &c, None);
                let _ = via_eval::prepare::checks::clusters(&f, &c);
            }
            let _ = f.assumptions();
        }
    }
}

/// Load a CSV and run a pilot analysis on it.
fn check_analysis(dir: &Path, bytes: &[u8]) {
    let spec = PilotSpec::from_toml(
        &GOOD
            .replace("delimiter = \";\"\ndecimal_comma = true\n", "")
            .replace("id = \"id\"\n", ""),
        Path::new("pilots/demo.toml"),
    )
    .unwrap();
    let p = dir.join("demo.csv");
    std::fs::write(&p, bytes).unwrap();
    if let Ok(f) = Frame::load(&p, &spec.needed_columns())
        && let Ok(p) = via_eval::prepare::prepare(&spec, &f)
    {
        let _ = analysis::run(&spec, &p.input, &Options::default(), Privacy::default());
    }
}

/// Text made of the characters that matter to a CSV reader.
fn csv_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        ",", ";", "\t", "|", "\"", "\"\"", "\n", "\r\n", "\r", " ", "#", "a", "arm", "y", "x", "1",
        "0", "-", ".", "1,5", "1.500", "-2.5", "NA", "ja", "nee", "inf", "1e999", "é", "\u{feff}",
        "sep=;", "", "c", "t",
    ]);
    prop::collection::vec(pieces, 0..120).prop_map(|v| v.concat())
}

/// Rows of a small pilot with values that are sometimes odd.
fn pilot_rows() -> impl Strategy<Value = String> {
    let cell = |v: Vec<&'static str>| prop::sample::select(v);
    let row = (
        cell(vec!["c", "t", "t", "c", "x", "", "NA"]),
        cell(vec!["1", "2", "3", "4", "5", "6"]),
        cell(vec!["0", "1", "2.5", "-1", "", "NA", "ja", "1e300", "x"]),
        cell(vec!["1", "2", "5", "10", "0", "", "-1", "3.5"]),
        cell(vec!["0", "1", "1", "", "2"]),
        cell(vec!["1", "2", "3", "", "1e308"]),
    );
    prop::collection::vec(row, 0..40).prop_map(|rows| {
        let mut s = String::from("arm,g,y,s,e,x\n");
        for (a, g, y, t, e, x) in rows {
            s.push_str(&format!("{a},{g},{y},{t},{e},{x}\n"));
        }
        s
    })
}

/// A good config with a few characters changed, inserted or removed.
fn mangled_config() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..6);
    edits.prop_map(|edits| {
        let mut chars: Vec<char> = GOOD.chars().collect();
        for (at, op, c) in edits {
            let i = at.index(chars.len() + 1);
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => {
                    chars.remove(i);
                }
                _ if i < chars.len() => chars[i] = c,
                _ => {}
            }
        }
        chars.into_iter().collect()
    })
}

/// A good workbook with some bytes overwritten.
fn mangled_workbook() -> impl Strategy<Value = Vec<u8>> {
    let wb = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/input/pilot.xlsx"),
    )
    .unwrap();
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8).prop_map(
        move |edits| {
            let mut b = wb.clone();
            for (at, x) in edits {
                let i = at.index(b.len());
                b[i] = x;
            }
            b
        },
    )
}

fn options() -> impl Strategy<Value = ReadOptions> {
    (
        prop::option::of(prop::sample::select(vec![',', ';', '\t', '|'])),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec![
            "utf-8".to_string(),
            "windows-1252".into(),
            "utf-16le".into(),
        ])),
    )
        .prop_map(|(delimiter, decimal_comma, encoding)| ReadOptions {
            delimiter,
            decimal_comma,
            encoding,
            na: vec!["-99".into()],
            sheet: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn config_from_arbitrary_text(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_config(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn config_mangled(text in mangled_config()) {
        check_config(&text);
    }

    #[test]
    fn data_from_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400), opts in options()) {
        let dir = tempfile::tempdir().unwrap();
        check_data(dir.path(), "f.csv", &bytes, &opts);
    }

    #[test]
    fn data_from_csv_like_text(text in csv_like(), opts in options()) {
        let dir = tempfile::tempdir().unwrap();
        check_data(dir.path(), "f.csv", text.as_bytes(), &opts);
        check_data(dir.path(), "f.csv", text.as_bytes(), &ReadOptions::default());
    }

    #[test]
    fn analysis_of_odd_rows(text in pilot_rows()) {
        let dir = tempfile::tempdir().unwrap();
        check_analysis(dir.path(), text.as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn workbook_mangled(bytes in mangled_workbook()) {
        let dir = tempfile::tempdir().unwrap();
        check_data(dir.path(), "f.xlsx", &bytes, &ReadOptions::default());
    }
}

/// Cases for the long runs.
fn long_cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}

fn long_run<S: Strategy>(strategy: S, test: impl Fn(S::Value)) {
    let mut runner = TestRunner::new(Config {
        cases: long_cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |v| {
            test(v);
            Ok(())
        })
        .unwrap();
}

#[test]
#[ignore = "long fuzz run; FUZZ_CASES sets the number of cases"]
fn long_config() {
    long_run(prop::collection::vec(any::<u8>(), 0..2000), |b| {
        check_config(&String::from_utf8_lossy(&b))
    });
    long_run(mangled_config(), |t| check_config(&t));
}

#[test]
#[ignore = "long fuzz run; FUZZ_CASES sets the number of cases"]
fn long_data() {
    let dir = tempfile::tempdir().unwrap();
    long_run(
        (prop::collection::vec(any::<u8>(), 0..2000), options()),
        |(b, o)| check_data(dir.path(), "f.csv", &b, &o),
    );
    long_run((csv_like(), options()), |(t, o)| {
        check_data(dir.path(), "f.csv", t.as_bytes(), &o)
    });
}

#[test]
#[ignore = "long fuzz run; FUZZ_CASES sets the number of cases"]
fn long_analysis() {
    let dir = tempfile::tempdir().unwrap();
    long_run(pilot_rows(), |t| check_analysis(dir.path(), t.as_bytes()));
}

#[test]
#[ignore = "long fuzz run; FUZZ_CASES sets the number of cases"]
fn long_workbook() {
    let dir = tempfile::tempdir().unwrap();
    long_run(mangled_workbook(), |b| {
        check_data(dir.path(), "f.xlsx", &b, &ReadOptions::default())
    });
}
