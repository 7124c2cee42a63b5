//! `via-eval its` end to end on the Seatbelts fixture data: the three output formats
//! give the reference values of `tests/fixtures/reference/its_seatbelts.json` (through
//! the data layer, so reading and the design built from the flags are checked too),
//! `--out` writes the chart as PNG and SVG in both languages, disclosure control
//! withholds what it should, and bad input fails with a message naming the file and
//! column, never a panic.

mod common;

use std::fs;
use std::path::Path;

use common::{assert_close, root, run_in, show};
use serde_json::Value;

const SEATBELTS: &str = "tests/fixtures/data/seatbelts.csv";
const LONG: &str = "tests/fixtures/data/seatbelts_long.csv";

fn fixture() -> Value {
    let p = root().join("tests/fixtures/reference/its_seatbelts.json");
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

fn case<'a>(fx: &'a Value, group: &str, name: &str) -> &'a Value {
    fx[group]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let out = run_in(dir, args);
    assert!(out.status.success(), "{}", show(args, &out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(args, &out)))
}

fn fails_with(dir: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let out = run_in(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{}", show(args, &out));
    assert!(!err.contains("panicked"), "{}", show(args, &out));
    for n in needles {
        assert!(err.contains(n), "missing {n:?}: {}", show(args, &out));
    }
}

fn estimate<'a>(out: &'a Value, estimator: &str) -> &'a Value {
    match estimator {
        "its_pre_level" => &out["pre_period"]["level"],
        "its_pre_slope" => &out["pre_period"]["slope"],
        _ => out["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["estimator"] == estimator)
            .unwrap_or_else(|| panic!("no {estimator}")),
    }
}

/// Every field of the four estimates against the fixture's coefficients.
fn matches(out: &Value, want: &Value, what: &str) {
    for (estimator, key) in [
        ("its_level", "level_change"),
        ("its_slope", "slope_change"),
        ("its_pre_level", "pre_level"),
        ("its_pre_slope", "pre_slope"),
    ] {
        let e = estimate(out, estimator);
        for f in [
            "estimate",
            "std_error",
            "statistic",
            "df",
            "p_value",
            "ci_low",
            "ci_high",
        ] {
            assert_close(
                &format!("{what} {estimator} {f}"),
                e[f].as_f64().unwrap(),
                want[key][f].as_f64().unwrap(),
            );
        }
    }
}

#[test]
fn json_matches_the_reference() {
    let fx = fixture();
    let r = root();
    let out = json_of(
        &r,
        &[
            "its",
            SEATBELTS,
            "--time",
            "t",
            "--outcome",
            "DriversKilled",
            "--start",
            "170",
            "--format",
            "json",
        ],
    );
    matches(
        &out,
        &case(&fx, "series", "raw")["coefficients"],
        "raw, default lag",
    );
    let m = &out["model"];
    assert_eq!(m["se_type"], "newey_west");
    assert_eq!(m["hac_lag"], 4);
    assert!(m["hac_lag_rule"].as_str().unwrap().contains("T = 192"));
    assert_eq!(m["n_pre_periods"], 169);
    assert_eq!(m["n_post_periods"], 23);
    assert_eq!(out["series"].as_array().unwrap().len(), 192);
    assert_eq!(out["disclosure"]["applied"], true);
    let e = estimate(&out, "its_level");
    assert_eq!(e["scale"], "difference");
    assert!(out["pre_period"]["level"]["scale"].is_null());
    assert_eq!(out["pre_period"]["slope"]["estimator"], "its_pre_slope");
    assert_eq!(e["df_rule"], "n - k");

    // Log outcome, month indicators, lag 12.
    let out = json_of(
        &r,
        &[
            "its",
            SEATBELTS,
            "--time",
            "t",
            "--outcome",
            "DriversKilled",
            "--start",
            "170",
            "--log",
            "--dummies",
            "month",
            "--hac-lag",
            "12",
            "--format",
            "json",
        ],
    );
    matches(
        &out,
        &case(&fx, "series", "log_months_lag12")["coefficients"],
        "log, months, lag 12",
    );
    assert_eq!(out["model"]["hac_lag_rule"], "--hac-lag 12");

    // Four series pooled, CR1 and (the default with 4 units) CR2.
    let pooled = case(&fx, "pooled", "pooled_log_months");
    for (se, key) in [(Some("cr1"), "cr1"), (None, "cr2")] {
        let mut args = vec![
            "its",
            LONG,
            "--unit",
            "unit",
            "--time",
            "t",
            "--outcome",
            "killed",
            "--start",
            "170",
            "--log",
            "--dummies",
            "month",
            "--format",
            "json",
        ];
        if let Some(s) = se {
            args.extend(["--se", s]);
        }
        let out = json_of(&r, &args);
        matches(&out, &pooled[key], &format!("pooled {key}"));
        assert_eq!(out["model"]["n_units"], 4);
        assert!(out["model"]["hac_lag"].is_null());
    }
}

#[test]
fn table_and_csv() {
    let fx = fixture();
    let raw = &case(&fx, "series", "raw")["coefficients"];
    let r = root();
    let base = [
        "its",
        SEATBELTS,
        "--time",
        "t",
        "--outcome",
        "DriversKilled",
        "--start",
        "170",
    ];
    let out = run_in(&r, &base);
    assert!(out.status.success(), "{}", show(&base, &out));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Level change at the start (its_level)",
        "-32.9",
        "Slope change",
        "Newey-West",
        "lag 4",
        "n - k = 188 df",
        "disclosure control",
    ] {
        assert!(text.contains(needle), "missing {needle:?}:\n{text}");
    }
    assert!(!text.contains("NaN"), "{text}");

    let mut args = base.to_vec();
    args.extend(["--format", "csv"]);
    let out = run_in(&r, &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let slope: Vec<&str> = lines
        .iter()
        .find(|l| l.contains(",its_slope,"))
        .unwrap()
        .split(',')
        .collect();
    for (f, key) in [
        ("estimate", "estimate"),
        ("std_error", "std_error"),
        ("p_value", "p_value"),
        ("ci_low", "ci_low"),
    ] {
        assert_close(
            &format!("csv its_slope {f}"),
            slope[col(f)].parse().unwrap(),
            raw["slope_change"][key].as_f64().unwrap(),
        );
    }
    assert_eq!(slope[col("se_type")], "newey_west");
    assert_eq!(slope[col("hac_lag")], "4");
}

#[test]
fn out_writes_png_and_svg_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let r = root();
    for (lang, word) in [
        ("en", "Interrupted time series"),
        ("nl", "Onderbroken tijdreeks"),
    ] {
        let out_dir = dir.path().join(lang);
        let o = out_dir.to_str().unwrap();
        let args = [
            "its",
            SEATBELTS,
            "--time",
            "t",
            "--outcome",
            "DriversKilled",
            "--start",
            "170",
            "--dummies",
            "month",
            "--format",
            "json",
            "--out",
            o,
            "--lang",
            lang,
        ];
        let res = run_in(&r, &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        let png = fs::read(out_dir.join("its.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.len() > 10_000);
        let svg = fs::read_to_string(out_dir.join("its.svg")).unwrap();
        assert!(svg.contains("<svg") && svg.contains(word), "{lang}");
        assert!(!svg.contains("NaN"));
    }
}

#[test]
fn disclosure_control_withholds_small_cells() {
    let dir = tempfile::tempdir().unwrap();
    // 24 months, counts of persons; the first months have counts below 10, and the
    // persons column puts month 3 below the threshold.
    let mut csv = String::from("month,hires,applicants\n");
    for m in 1..=24 {
        let hires = if m <= 2 { 4 + m } else { 10 + m };
        let applicants = if m == 3 { 6 } else { 40 };
        csv.push_str(&format!("{m},{hires},{applicants}\n"));
    }
    fs::write(dir.path().join("h.csv"), csv).unwrap();
    let base = [
        "its",
        "h.csv",
        "--time",
        "month",
        "--outcome",
        "hires",
        "--start",
        "13",
    ];
    let mut args = base.to_vec();
    args.extend(["--outcome-is-count", "--format", "json"]);
    let out = json_of(dir.path(), &args);
    let series = out["series"].as_array().unwrap();
    assert!(series[0]["observed"].is_null() && series[1]["observed"].is_null());
    assert!(series[2]["observed"].is_number());
    assert_eq!(out["disclosure"]["withheld_points"], 2);
    assert!(estimate(&out, "its_level")["estimate"].is_number());

    let mut args = base.to_vec();
    args.extend(["--persons", "applicants", "--format", "json"]);
    let out = json_of(dir.path(), &args);
    assert!(out["series"][2]["observed"].is_null());
    assert_eq!(out["disclosure"]["withheld_points"], 1);

    // Too few persons before the start: every estimate withheld, no NaN anywhere.
    let mut csv = String::from("month,rate,persons\n");
    for m in 1..=12 {
        csv.push_str(&format!(
            "{m},{},{}\n",
            0.1 * f64::from(m),
            if m < 7 { 1 } else { 30 }
        ));
    }
    fs::write(dir.path().join("few.csv"), csv).unwrap();
    let args = [
        "its",
        "few.csv",
        "--time",
        "month",
        "--outcome",
        "rate",
        "--start",
        "7",
        "--persons",
        "persons",
        "--format",
        "json",
    ];
    let out = json_of(dir.path(), &args);
    let est = out["estimates"].as_array().unwrap();
    assert_eq!(est.len(), 2);
    for e in est
        .iter()
        .chain([&out["pre_period"]["level"], &out["pre_period"]["slope"]])
    {
        assert!(e["estimate"].is_null() && e["ci_low"].is_null() && e["df"].is_null());
        assert_eq!(e["suppressed"], true);
    }
    let table = run_in(dir.path(), &args[..args.len() - 2]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("suppressed") && !text.contains("NaN"),
        "{text}"
    );

    // Off: stamped.
    let mut args = base.to_vec();
    args.extend(["--no-disclosure-control", "--format", "json"]);
    let out = json_of(dir.path(), &args);
    assert_eq!(out["disclosure"]["applied"], false);
    assert!(out["notes"][0].as_str().unwrap().contains("OFF"));
}

#[test]
fn bad_input_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, rows: &[(&str, &str)]| {
        let mut s = String::from("t,y\n");
        for (t, y) in rows {
            s.push_str(&format!("{t},{y}\n"));
        }
        fs::write(d.join(name), s).unwrap();
    };
    let series: Vec<(String, String)> = (1..=12)
        .map(|i| (i.to_string(), (10 + i * 3 % 7).to_string()))
        .collect();
    let write_owned = |name: &str, v: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        write(name, &refs);
    };
    write_owned("ok.csv", &series);
    let run = |file: &str, start: &str| {
        vec![
            "its".to_string(),
            file.to_string(),
            "--time".into(),
            "t".into(),
            "--outcome".into(),
            "y".into(),
            "--start".into(),
            start.to_string(),
        ]
    };
    let check = |args: Vec<String>, code: i32, needles: &[&str]| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(d, &a, code, needles);
    };
    // Start before the first period, after the last, or leaving one period on a side.
    check(
        run("ok.csv", "-5"),
        1,
        &["ok.csv", "0 period(s) before the start", "from 1 to 12"],
    );
    check(run("ok.csv", "40"), 1, &["0 period(s) from the start"]);
    check(run("ok.csv", "12"), 1, &["1 period(s) from the start"]);
    // One period only.
    write("one.csv", &[("5", "3")]);
    check(run("one.csv", "5"), 1, &["one.csv", "at least two periods"]);
    // Text in the time column.
    let mut v = series.clone();
    v[4].0 = "mei".into();
    write_owned("text.csv", &v);
    check(
        run("text.csv", "7"),
        1,
        &["text.csv", "column \"t\"", "\"mei\" is not a number"],
    );
    let mut v = series.clone();
    v[4].0 = "2024-05-01".into();
    write_owned("date.csv", &v);
    check(
        run("date.csv", "7"),
        1,
        &["column \"t\"", "is a date", "year * 12 + month"],
    );
    // Duplicated period.
    let mut v = series.clone();
    v[5].0 = "5".into();
    write_owned("dup.csv", &v);
    check(
        run("dup.csv", "8"),
        1,
        &["dup.csv", "time 5 twice", "aggregate"],
    );
    // Unequal spacing (a missing month).
    let v: Vec<(String, String)> = series.iter().filter(|(t, _)| t != "6").cloned().collect();
    write_owned("gap.csv", &v);
    check(
        run("gap.csv", "8"),
        1,
        &["gap.csv", "not equally spaced", "5 to 7"],
    );
    // A column that does not exist.
    let mut a = run("ok.csv", "7");
    a[5] = "yy".into();
    check(a, 1, &["ok.csv", "yy"]);
    // --hac-lag with --unit, --se without --unit: usage errors.
    let mut a = run("ok.csv", "7");
    a.extend(["--unit".into(), "t".into(), "--hac-lag".into(), "2".into()]);
    check(a, 2, &["--hac-lag"]);
    let mut a = run("ok.csv", "7");
    a.extend(["--se".into(), "cr1".into()]);
    check(a, 2, &["--unit"]);
    // A column in two roles; a bad confidence level; --log with a zero.
    let mut a = run("ok.csv", "7");
    a.extend(["--covariates".into(), "y".into()]);
    check(a, 2, &["two roles"]);
    let mut a = run("ok.csv", "7");
    a.extend(["--conf-level".into(), "95".into()]);
    check(a, 2, &["--conf-level"]);
    let mut v = series.clone();
    v[2].1 = "0".into();
    write_owned("zero.csv", &v);
    let mut a = run("zero.csv", "7");
    a.push("--log".into());
    check(a, 1, &["zero.csv", "--log needs positive values"]);
    // One unit with --unit.
    fs::write(d.join("u.csv"), "u,t,y\na,1,1\na,2,2\na,3,4\na,4,3\n").unwrap();
    let a = vec![
        "its",
        "u.csv",
        "--unit",
        "u",
        "--time",
        "t",
        "--outcome",
        "y",
        "--start",
        "3",
    ];
    fails_with(d, &a, 1, &["one unit"]);
    // Unit repeating a period.
    fs::write(
        d.join("u2.csv"),
        "u,t,y\na,1,1\na,2,2\na,3,4\na,4,3\nb,1,1\nb,1,2\nb,3,4\nb,4,3\n",
    )
    .unwrap();
    let a = vec![
        "its",
        "u2.csv",
        "--unit",
        "u",
        "--time",
        "t",
        "--outcome",
        "y",
        "--start",
        "3",
    ];
    fails_with(d, &a, 1, &["a unit has time 1 twice"]);
}

/// Time as a fraction of the year (1969 + (month − 1)/12, not exact in binary): the
/// same level change as with months counted 1..192, slopes per year (12 × per month),
/// and every period found again by disclosure control.
#[test]
fn fractional_years_as_time() {
    let fx = fixture();
    let raw = &case(&fx, "series", "raw")["coefficients"];
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join(SEATBELTS)).unwrap();
    let mut csv = String::from("when,killed\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let t: f64 = f[0].parse().unwrap();
        csv.push_str(&format!("{:?},{}\n", 1969.0 + (t - 1.0) / 12.0, f[3]));
    }
    fs::write(dir.path().join("years.csv"), csv).unwrap();
    let start = format!("{:?}", 1969.0 + 169.0 / 12.0);
    let args = [
        "its",
        "years.csv",
        "--time",
        "when",
        "--outcome",
        "killed",
        "--start",
        &start,
        "--outcome-is-count",
        "--format",
        "json",
    ];
    let out = json_of(dir.path(), &args);
    let level = estimate(&out, "its_level");
    assert_close(
        "level change, time in years",
        level["estimate"].as_f64().unwrap(),
        raw["level_change"]["estimate"].as_f64().unwrap(),
    );
    assert!(
        (level["std_error"].as_f64().unwrap() / raw["level_change"]["std_error"].as_f64().unwrap()
            - 1.0)
            .abs()
            < 1e-6
    );
    let slope = estimate(&out, "its_pre_slope")["estimate"]
        .as_f64()
        .unwrap();
    let want = 12.0 * raw["pre_slope"]["estimate"].as_f64().unwrap();
    assert!((slope / want - 1.0).abs() < 1e-6, "{slope} vs {want}");
    assert_eq!(out["series"].as_array().unwrap().len(), 192);
    // No count below 10 in the data: nothing withheld.
    assert_eq!(out["disclosure"]["withheld_points"], 0);
}
