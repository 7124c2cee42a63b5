//! `via-eval adjust`: p-values from a file or standard input, adjusted as R `p.adjust`
//! (reference: `tests/fixtures/reference/p_adjust.json`), and errors that name the line.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{close, root, run_in, show};
use serde_json::Value;

/// One reference row: set name, R method name, p-values and adjusted p-values (None
/// where R has NA).
struct RefSet {
    set: String,
    method: String,
    p: Vec<Option<f64>>,
    adjusted: Vec<Option<f64>>,
}

fn reference_sets() -> Vec<RefSet> {
    let p = root().join("tests/fixtures/reference/p_adjust.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["package"] == "stats::p.adjust")
        .map(|r| {
            let arr = |k: &str| -> Vec<Option<f64>> {
                r[k].as_array().unwrap().iter().map(Value::as_f64).collect()
            };
            RefSet {
                set: r["set"].as_str().unwrap().to_string(),
                method: r["method"].as_str().unwrap().to_string(),
                p: arr("p"),
                adjusted: arr("adjusted"),
            }
        })
        .collect()
}

fn method_flag(r_name: &str) -> &'static str {
    match r_name {
        "holm" => "holm",
        "bonferroni" => "bonferroni",
        "BH" => "bh",
        other => panic!("{other}"),
    }
}

#[test]
fn file_input_matches_r_p_adjust_in_json() {
    let dir = tempfile::tempdir().unwrap();
    for RefSet {
        set,
        method,
        p,
        adjusted: want,
    } in reference_sets()
    {
        let text: String = p
            .iter()
            .map(|v| v.map_or_else(|| "NA".to_string(), |x| format!("{x:e}")))
            .collect::<Vec<_>>()
            .join("\n");
        let file = dir.path().join(format!("{set}.txt"));
        std::fs::write(&file, text + "\n").unwrap();
        let args = [
            "adjust",
            "--method",
            method_flag(&method),
            "--format",
            "json",
            file.to_str().unwrap(),
        ];
        let out = run_in(dir.path(), &args);
        assert!(out.status.success(), "{}", show(&args, &out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let values = v["values"].as_array().unwrap();
        assert_eq!(values.len(), want.len(), "{set} {method}");
        for (i, (got, w)) in values.iter().zip(&want).enumerate() {
            match w {
                None => assert!(got["adjusted"].is_null(), "{set} {method} [{i}]"),
                Some(w) => {
                    let g = got["adjusted"].as_f64().unwrap();
                    assert!(close(g, *w), "{set} {method} [{i}]: {g} vs {w}");
                }
            }
        }
    }
}

#[test]
fn stdin_csv_column_and_csv_output() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_via-eval"))
        .args(["adjust", "--method", "bonferroni", "--format", "csv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"outcome,p_value\nwork,0.01\nhours,0.2\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "line,p_value,adjusted\n2,0.01,0.02\n3,0.2,0.4\n"
    );
}

#[test]
fn bad_values_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.txt");
    std::fs::write(&file, "0.01\n0.2\n1.7\n").unwrap();
    let args = ["adjust", "--method", "holm", file.to_str().unwrap()];
    let out = run_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", show(&args, &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("outside [0, 1]"),
        "{err}"
    );
    std::fs::write(&file, "0.01\nn/a\n").unwrap();
    let out = run_in(dir.path(), &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("\"n/a\""), "{err}");
}
