//! `via-eval did`: the command on the mpdta panel (JSON agrees with the pyfixest
//! reference, charts in both languages, CSV), and bad input: a clear error that names
//! the file, column or unit and what to do, a non-zero exit, never a panic.

use serde_json::Value;

mod common;
use common::{assert_close, estimates_and_ses, mpdta_did_args, root, run_in, show};

fn mpdta() -> String {
    root()
        .join("tests/fixtures/data/mpdta.csv")
        .display()
        .to_string()
}

#[test]
fn json_matches_the_reference_and_charts_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("charts");
    let data = mpdta();
    let args = mpdta_did_args(&data, &["--format", "json", "--out", out.to_str().unwrap()]);
    let res = run_in(dir.path(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let refs: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/did_reference.json"))
            .unwrap(),
    )
    .unwrap();
    let est = v["estimates"].as_array().unwrap();
    let twfe = &est[0];
    assert_eq!(twfe["estimator"], "twfe_did");
    assert_eq!(twfe["small_sample"], "nested");
    let want = &refs["cases"]["mpdta_twfe_nested"];
    assert_close(
        "TWFE",
        twfe["estimate"].as_f64().unwrap(),
        want["estimate"].as_f64().unwrap(),
    );
    assert_close(
        "TWFE SE",
        twfe["std_error"].as_f64().unwrap(),
        want["std_error"].as_f64().unwrap(),
    );
    let es: Vec<&Value> = est
        .iter()
        .filter(|e| e["estimator"] == "event_study")
        .collect();
    assert_eq!(es.len(), 7);
    assert_eq!(es[0]["event_time"], -4);
    let pw = &v["tests"]["pretrend_wald"];
    assert_close(
        "pre-trend F",
        pw["statistic"].as_f64().unwrap(),
        refs["cases"]["mpdta_event_study"]["pretrend_wald"]["f"]
            .as_f64()
            .unwrap(),
    );
    assert_eq!(pw["df1"], 3.0);
    assert_eq!(v["disclosure"]["applied"], true);
    for name in [
        "event_study.en.png",
        "event_study.nl.png",
        "event_study.en.svg",
        "event_study.nl.svg",
        "trends.en.png",
        "trends.nl.png",
        "trends.en.svg",
        "trends.nl.svg",
    ] {
        let p = out.join(name);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "{name}"
        );
    }
    let svg = std::fs::read_to_string(out.join("event_study.nl.svg")).unwrap();
    assert!(svg.contains("referentie") && svg.contains("Pre-trendtoets"));
    // CSV: one row per estimate, no NaN anywhere.
    let args = mpdta_did_args(
        &data,
        &[
            "--format",
            "csv",
            "--window",
            "-3,2",
            "--estimator",
            "event-study",
        ],
    );
    let res = run_in(dir.path(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let text = String::from_utf8_lossy(&res.stdout);
    assert_eq!(text.lines().count(), 1 + 5);
    assert!(!text.to_lowercase().contains("nan"));
    assert!(text.contains("event_study,,,-3,true"));
    // A covariate the unit effects absorb (county population is constant over time).
    let args = mpdta_did_args(&data, &["--covariates", "lpop"]);
    let res = run_in(dir.path(), &args);
    assert_error(
        &res,
        &show(&args, &res),
        &["covariate \"lpop\" is absorbed", "leave it out"],
    );
    // Callaway-Sant'Anna by name: the simple aggregation agrees with csdid.
    let args = mpdta_did_args(&data, &["--format", "json", "--estimator", "cs"]);
    let res = run_in(dir.path(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let cs: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/cs_mpdta.json")).unwrap(),
    )
    .unwrap();
    let simple = v["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["estimator"] == "cs_simple")
        .unwrap();
    assert_close(
        "cs_simple",
        simple["estimate"].as_f64().unwrap(),
        cs["simple"]["att"].as_f64().unwrap(),
    );
    for (name, want) in [("cs_group", &cs["group"]), ("cs_calendar", &cs["calendar"])] {
        let overall = v["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["estimator"] == name && e["group"].is_null() && e["time"].is_null())
            .unwrap();
        assert_close(
            name,
            overall["estimate"].as_f64().unwrap(),
            want["att"].as_f64().unwrap(),
        );
    }
    let cell = &v["estimates"][0];
    assert_eq!(
        (cell["group"].as_i64(), cell["time"].as_i64()),
        (Some(2004), Some(2004))
    );
}

/// Write `csv` into a temp dir and run `did` on it with `extra` flags.
fn run_csv(csv: &str, extra: &[&str]) -> (std::process::Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("panel.csv");
    std::fs::write(&f, csv).unwrap();
    let fs = f.to_str().unwrap().to_string();
    let mut args = vec![
        "did",
        fs.as_str(),
        "--unit",
        "u",
        "--time",
        "t",
        "--outcome",
        "y",
    ];
    args.extend_from_slice(extra);
    let res = run_in(dir.path(), &args);
    let msg = show(&args, &res);
    (res, msg)
}

/// A small panel: `units` units over periods 1..=4; units 0..k treated from period 3.
fn panel(units: usize, treated: usize, treatment: impl Fn(usize, usize) -> String) -> String {
    let mut s = String::from("u,t,y,g\n");
    for u in 0..units {
        for t in 1..=4 {
            s.push_str(&format!(
                "unit{u},{t},{},{}\n",
                (u * 7 + t * 3) % 11,
                if u < treated {
                    treatment(u, t)
                } else {
                    "0".into()
                }
            ));
        }
    }
    s
}

fn assert_error(res: &std::process::Output, msg: &str, words: &[&str]) {
    assert!(!res.status.success(), "{msg}");
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!err.contains("panicked"), "{msg}");
    for w in words {
        assert!(err.contains(w), "stderr lacks {w:?}\n{msg}");
    }
}

#[test]
fn bad_panels_get_clear_errors() {
    // Treated and later untreated (absorbing 0/1 column).
    let csv = panel(30, 15, |u, t| {
        if u == 2 && t == 4 {
            "0".into()
        } else if t >= 3 {
            "1".into()
        } else {
            "0".into()
        }
    });
    let (res, msg) = run_csv(&csv, &["--treatment", "g"]);
    assert_error(
        &res,
        &msg,
        &[
            "unit \"unit2\"",
            "untreated again in period 4",
            "--first-treated",
        ],
    );

    // Text in the period column.
    let csv = "u,t,y,g\na,2020-01,1,0\na,2020-02,2,0\nb,2020-01,1,2020\nb,2020-02,3,2020\n";
    let (res, msg) = run_csv(csv, &["--first-treated", "g"]);
    assert_error(
        &res,
        &msg,
        &["panel.csv", "\"t\"", "holds text", "whole numbers"],
    );

    // A period that is not a whole number: every row kept (the periods are written
    // over the column's own values), and with a row left out for a missing outcome.
    let csv = "u,t,y,g\na,1,1,0\na,2,2,0\nb,1,1,2\nb,2.5,3,2\n";
    let (res, msg) = run_csv(csv, &["--first-treated", "g"]);
    assert_error(
        &res,
        &msg,
        &["line 5", "period 2.5", "\"t\"", "not a whole number"],
    );
    let csv = "u,t,y,g\na,1,,0\na,2,2,0\nb,1,1,2\nb,2.5,3,2\n";
    let (res, msg) = run_csv(csv, &["--first-treated", "g"]);
    assert_error(&res, &msg, &["line 5", "period 2.5", "not a whole number"]);

    // One period only.
    let csv = "u,t,y,g\na,1,1,0\nb,1,2,1\nc,1,3,0\n";
    let (res, msg) = run_csv(csv, &["--first-treated", "g"]);
    assert_error(&res, &msg, &["one period only"]);

    // Every unit treated at the same time, none never treated.
    let csv = panel(30, 30, |_, _| "3".into());
    let (res, msg) = run_csv(&csv, &["--first-treated", "g"]);
    assert_error(&res, &msg, &["no comparison group"]);

    // Duplicate unit-period rows.
    let mut csv = panel(30, 15, |_, _| "3".into());
    csv.push_str("unit4,2,5,3\n");
    let (res, msg) = run_csv(&csv, &["--first-treated", "g"]);
    assert_error(&res, &msg, &["unit \"unit4\"", "two rows for period 2"]);

    // Two first treated periods for one unit.
    let csv = panel(30, 15, |u, t| {
        if u == 1 && t == 4 {
            "2".into()
        } else {
            "3".into()
        }
    });
    let (res, msg) = run_csv(&csv, &["--first-treated", "g"]);
    assert_error(&res, &msg, &["unit \"unit1\"", "two first treated periods"]);

    // A gap in the periods.
    let csv = panel(30, 15, |_, _| "3".into()).replace(",4,", ",6,");
    let (res, msg) = run_csv(&csv, &["--first-treated", "g"]);
    assert_error(&res, &msg, &["gap", "between 3 and 6"]);

    // A missing column, and Sun & Abraham with a reference period no cohort has.
    let csv = panel(30, 15, |_, _| "3".into());
    let (res, msg) = run_csv(&csv, &["--first-treated", "start"]);
    assert_error(&res, &msg, &["start"]);
    let (res, msg) = run_csv(
        &csv,
        &[
            "--first-treated",
            "g",
            "--estimator",
            "sa",
            "--reference",
            "-7",
        ],
    );
    assert_error(&res, &msg, &["Sun & Abraham", "reference period -7"]);
    // Callaway-Sant'Anna asked for by name on an unbalanced panel: a clear error.
    let unbalanced: String = csv
        .lines()
        .filter(|l| !l.starts_with("unit20,2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (res, msg) = run_csv(&unbalanced, &["--first-treated", "g", "--estimator", "cs"]);
    assert_error(&res, &msg, &["unit \"unit20\"", "balanced panel"]);
    let (res, msg) = run_csv(&csv, &["--first-treated", "g", "--window", "3,-2"]);
    assert_error(&res, &msg, &["--window"]);
}

#[test]
fn no_never_treated_units_with_binned_endpoints() {
    // 60 units over periods 1-6: 30 first treated in period 3, 30 in period 5, none
    // never treated. The binned event study is identified by the timing differences.
    let mut csv = String::from("u,t,y,g\n");
    for u in 0..60 {
        let g = if u < 30 { 3 } else { 5 };
        for t in 1..=6 {
            let effect = if t >= g { 1.0 } else { 0.0 };
            let y = f64::from(u % 7)
                + 0.2 * f64::from(t)
                + effect
                + f64::from((u * 13 + t * 5) % 9) / 20.0;
            csv.push_str(&format!("unit{u},{t},{y},{g}\n"));
        }
    }
    let (res, msg) = run_csv(
        &csv,
        &[
            "--first-treated",
            "g",
            "--estimator",
            "event-study",
            "--window",
            "-2,1",
            "--format",
            "json",
        ],
    );
    assert!(res.status.success(), "{msg}");
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let est = v["estimates"].as_array().unwrap();
    assert!(!est.is_empty());
    for e in est {
        assert_eq!(e["suppressed"], false, "{e}");
    }
    // Without the window the relative periods are not identified: a clear error.
    let (res, msg) = run_csv(
        &csv,
        &["--first-treated", "g", "--estimator", "event-study"],
    );
    assert_error(&res, &msg, &["collinear", "--window"]);
    // Callaway-Sant'Anna needs never-treated units.
    let (res, msg) = run_csv(&csv, &["--first-treated", "g", "--estimator", "cs"]);
    assert_error(&res, &msg, &["never-treated"]);
    // Not-yet-treated controls: cohort 3 has them until period 4, none from period 5.
    let (res, msg) = run_csv(
        &csv,
        &[
            "--first-treated",
            "g",
            "--estimator",
            "cs",
            "--control",
            "not-yet",
        ],
    );
    assert_error(
        &res,
        &msg,
        &[
            "cohort 3 in period 5 has 0 comparison units",
            "not yet treated",
        ],
    );
}

#[test]
fn small_cells_are_withheld() {
    // 3 treated units of 40: the treated cells rest on 3 persons.
    let csv = panel(40, 3, |_, _| "3".into());
    let (res, msg) = run_csv(&csv, &["--first-treated", "g", "--format", "json"]);
    assert!(res.status.success(), "{msg}");
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    for e in v["estimates"].as_array().unwrap() {
        assert_eq!(e["suppressed"], true, "{e}");
        assert!(e["estimate"].is_null());
    }
    assert!(v["tests"]["pretrend_wald"]["statistic"].is_null());
    let (res, msg) = run_csv(
        &csv,
        &[
            "--first-treated",
            "g",
            "--format",
            "json",
            "--no-disclosure-control",
        ],
    );
    assert!(res.status.success(), "{msg}");
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    assert!(v["estimates"][0]["estimate"].is_f64());
    assert_eq!(v["disclosure"]["applied"], false);
}

/// The input forms give the same numbers: an absorbing 0/1 column equals the first
/// treated period; analytic weights read from a column match pyfixest; events/trials
/// rows equal the person rows they summarise (computed here with stats::did).
#[test]
fn treatment_weights_and_counts_columns() {
    let refs: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/did_reference.json"))
            .unwrap(),
    )
    .unwrap();
    // mpdta with an absorbing indicator D and a population column.
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/mpdta.csv")).unwrap();
    let mut csv = String::from("u,t,y,g,d,pop\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (year, g): (i64, i64) = (f[1].parse().unwrap(), f[4].parse().unwrap());
        let d = u8::from(g > 0 && year >= g);
        let pop = f[2].parse::<f64>().unwrap().exp();
        csv.push_str(&format!(
            "{},{},{},{},{d},{pop:?}\n",
            f[0], f[1], f[3], f[4]
        ));
    }
    let json = |extra: &[&str]| -> Value {
        let mut a = vec!["--format", "json", "--estimator", "twfe"];
        a.extend_from_slice(extra);
        let (res, msg) = run_csv(&csv, &a);
        assert!(res.status.success(), "{msg}");
        serde_json::from_slice(&res.stdout).unwrap()
    };
    let by_first = json(&["--first-treated", "g"]);
    let by_d = json(&["--treatment", "d"]);
    assert_eq!(by_first["estimates"], by_d["estimates"]);
    let w = json(&["--first-treated", "g", "--weights", "pop"]);
    let want = &refs["cases"]["mpdta_twfe_weighted"];
    assert_close(
        "weighted",
        w["estimates"][0]["estimate"].as_f64().unwrap(),
        want["estimate"].as_f64().unwrap(),
    );
    assert_close(
        "weighted SE",
        w["estimates"][0]["std_error"].as_f64().unwrap(),
        want["std_error"].as_f64().unwrap(),
    );

    // Counts: 40 employers x 4 periods, 20 first treated in period 3.
    use via_eval::stats::did::{DidOptions, Panel, twfe_did};
    use via_eval::stats::fe::FeWeights;
    let mut csv = String::from("u,t,events,trials,g\n");
    let (mut py, mut pu, mut pt, mut pg) = (vec![], vec![], vec![], vec![]);
    for e in 0..40u32 {
        let g = (e < 20).then_some(3i64);
        for t in 1..=4i64 {
            let n = 1 + (e as i64 * 7 + t * 3) % 12;
            let k =
                (e as i64 * 5 + t * 11 + if g.is_some_and(|g| t >= g) { 4 } else { 0 }) % (n + 1);
            csv.push_str(&format!("emp{e:02},{t},{k},{n},{}\n", g.unwrap_or(0)));
            for j in 0..n {
                py.push(f64::from(u8::from(j < k)));
                pu.push(e);
                pt.push(t);
                pg.push(g);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("counts.csv");
    std::fs::write(&f, &csv).unwrap();
    let fs = f.to_str().unwrap();
    let args = [
        "did",
        fs,
        "--unit",
        "u",
        "--time",
        "t",
        "--events",
        "events",
        "--trials",
        "trials",
        "--first-treated",
        "g",
        "--estimator",
        "twfe",
        "--format",
        "json",
    ];
    let res = run_in(dir.path(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let persons = Panel {
        y: &py,
        unit: &pu,
        period: &pt,
        unit_first_treated: &via_eval::stats::did::unit_first_treated(&pu, &pg).unwrap(),
        cluster: &pu,
        covariates: &[],
        weights: FeWeights::None,
    };
    let want = twfe_did(&persons, &DidOptions::default())
        .unwrap()
        .inference;
    assert_close(
        "counts estimate",
        v["estimates"][0]["estimate"].as_f64().unwrap(),
        want.estimate,
    );
    assert_close(
        "counts CRV1 SE",
        v["estimates"][0]["std_error"].as_f64().unwrap(),
        want.std_error,
    );
    assert_eq!(v["weights"], "trials (frequency)");
}

#[test]
fn an_estimator_list_runs_those_estimators_alone_with_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let data = mpdta();
    let base = mpdta_did_args(&data, &["--format", "json", "--estimator"]);
    let json = |which: &str| -> Value {
        let mut a = base.clone();
        a.push(which);
        let res = run_in(dir.path(), &a);
        assert!(res.status.success(), "{}", show(&a, &res));
        serde_json::from_slice(&res.stdout).unwrap()
    };
    let all = json("all");
    let two = json("twfe,event-study");
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["estimator"].as_str().unwrap().to_string())
            .collect();
        n.dedup();
        n
    };
    assert_eq!(names(&two), ["twfe_did", "event_study"]);
    assert!(names(&all).contains(&"cs_att_gt".to_string()));
    let regression = |v: &Value| -> Vec<Value> {
        v["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["estimator"] == "twfe_did" || e["estimator"] == "event_study")
            .cloned()
            .collect()
    };
    assert_eq!(regression(&two), regression(&all));
    assert_eq!(two["tests"], all["tests"]);
    // A misspelt name in the list is refused by name.
    let mut a = base.to_vec();
    a.push("twfe,evnt-study");
    let res = run_in(dir.path(), &a);
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("evnt-study"));
}

/// The Callaway-Sant'Anna cells, its aggregations and the other estimators run in
/// parallel: the output is the same, to the last digit, on one thread and on four
/// (never-treated and not-yet-treated comparisons, with the multiplier bootstrap).
#[test]
fn the_output_does_not_depend_on_the_threads() {
    let data = mpdta();
    let dir = tempfile::tempdir().unwrap();
    for control in ["never", "not-yet"] {
        let args = mpdta_did_args(
            &data,
            &[
                "--control",
                control,
                "--bootstrap",
                "499",
                "--format",
                "json",
            ],
        );
        let run = |threads: &str| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_via-eval"))
                .args(&args)
                .current_dir(dir.path())
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", show(&args, &out));
            out.stdout
        };
        let one = run("1");
        let v: Value = serde_json::from_slice(&one).unwrap();
        let ids: Vec<&str> = v["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["estimator"].as_str())
            .collect();
        for id in [
            "cs_att_gt",
            "cs_simple",
            "cs_dynamic",
            "cs_group",
            "cs_calendar",
        ] {
            assert!(ids.contains(&id), "{control}: {id} missing");
        }
        assert!(one == run("4"), "{control}: one thread and four differ");
    }
}

/// `--cluster COL`: a text column that names each unit once clusters as the units do
/// (same estimates and SEs); a coarser one (7 regions) gives 7 clusters and other SEs;
/// rows without a cluster are left out with a note.
#[test]
fn clusters_from_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(mpdta()).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let county = head.split(',').position(|h| h == "countyreal").unwrap();
    let first_county = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(county)
        .unwrap()
        .to_string();
    let mut out = format!("{head},region,county_text,region_gap\n");
    for line in lines {
        let c: f64 = line.split(',').nth(county).unwrap().parse().unwrap();
        let c = c as i64;
        let gap = if c.to_string() == first_county {
            String::new()
        } else {
            format!("r{}", c % 7)
        };
        out += &format!("{line},r{},c{c},{gap}\n", c % 7);
    }
    let data = dir.path().join("mpdta_clusters.csv");
    std::fs::write(&data, out).unwrap();
    let data = data.to_str().unwrap().to_string();
    let run = |cluster: Option<&str>| -> Value {
        let mut args = mpdta_did_args(
            &data,
            &["--estimator", "twfe,event-study,cs", "--format", "json"],
        );
        if let Some(c) = cluster {
            args.extend(["--cluster", c]);
        }
        let res = run_in(dir.path(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        serde_json::from_slice(&res.stdout).unwrap()
    };
    let numbers = estimates_and_ses;
    let base = run(None);
    let same = run(Some("county_text"));
    assert_eq!(base["n_clusters"], 500);
    assert_eq!(same["n_clusters"], 500);
    assert_eq!(numbers(&base), numbers(&same));
    let region = run(Some("region"));
    assert_eq!(region["n_clusters"], 7);
    assert_eq!(region["n_rows"], 2500);
    let (b, r) = (numbers(&base), numbers(&region));
    assert_eq!(b[0].0, "twfe_did");
    // The estimate does not depend on the clusters (the unit clusters take the cohort
    // tables, the regions the regression: equal up to rounding).
    assert_close("TWFE with regions", r[0].1, b[0].1);
    assert!(b[0].2 != r[0].2, "the SE does");
    let gap = run(Some("region_gap"));
    assert_eq!(gap["n_clusters"], 7);
    assert_eq!(gap["n_rows"], 2495);
    let notes = gap["notes"].to_string();
    assert!(notes.contains("5 rows left out"), "{notes}");
}
