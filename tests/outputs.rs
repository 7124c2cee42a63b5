//! Outputs are reproducible and traceable, and never replace an input.

mod common;

use common::{root, run_in, show};
use std::fs;

#[test]
fn same_inputs_and_seed_give_byte_identical_results_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let mut jsons = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let out_s = out.to_string_lossy().to_string();
        let args = [
            "pilot",
            "ouderbetrokkenheid-vmbo",
            "--out",
            &out_s,
            "--quiet",
            "--permutations",
            "200",
            "--seed",
            "11",
        ];
        let res = run_in(&root(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        jsons.push(fs::read(out.join("results.json")).unwrap());
    }
    assert!(
        jsons[0] == jsons[1],
        "results.json differs between identical runs"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("a/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["options"]["seed"], 11);
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2, "config and data");
    for i in inputs {
        let sha = i["sha256"].as_str().unwrap();
        assert_eq!(sha.len(), 64);
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
    }
    assert!(inputs.iter().any(|i| {
        i["path"]
            .as_str()
            .unwrap()
            .ends_with("ouderbetrokkenheid-vmbo.toml")
    }));
}

#[test]
fn output_folder_over_an_input_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("pilots")).unwrap();
    fs::create_dir_all(d.join("data")).unwrap();
    let config = fs::read_to_string(root().join("pilots/intensieve-begeleiding.toml")).unwrap();
    fs::write(d.join("pilots/intensieve-begeleiding.toml"), &config).unwrap();
    let data = fs::read(root().join("notebooks-data/intensieve-begeleiding.csv")).unwrap();
    fs::write(d.join("data/intensieve-begeleiding.csv"), &data).unwrap();
    let args = [
        "pilot",
        "intensieve-begeleiding",
        "--data",
        "data",
        "--out",
        "data",
    ];
    let res = run_in(d, &args);
    assert_eq!(res.status.code(), Some(2), "{}", show(&args, &res));
    assert!(String::from_utf8_lossy(&res.stderr).contains("would replace the input"));
    assert_eq!(
        fs::read(d.join("data/intensieve-begeleiding.csv")).unwrap(),
        data
    );
}

#[test]
fn an_earlier_output_survives_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("res");
    let out_s = out.to_string_lossy().to_string();
    let ok = [
        "pilot",
        "intensieve-begeleiding",
        "--out",
        &out_s,
        "--quiet",
    ];
    assert!(run_in(&root(), &ok).status.success());
    let before = fs::read(out.join("results.json")).unwrap();
    // Same output folder, a confidence level that fails validation: exit non-zero
    // and the earlier results stay as they were.
    let bad = [
        "pilot",
        "intensieve-begeleiding",
        "--out",
        &out_s,
        "--conf-level",
        "1.5",
    ];
    let res = run_in(&root(), &bad);
    assert!(!res.status.success(), "{}", show(&bad, &res));
    assert_eq!(fs::read(out.join("results.json")).unwrap(), before);
}
