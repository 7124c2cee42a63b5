//! Every kind of bad input, run through the binary as a user would meet it, each in its
//! own folder: a non-zero exit, a message that names the file, the column and the row
//! where they apply and says what to do, no panic and no output folder. Where a problem
//! only makes part of the analysis impossible, the run goes on and says so in a note.

mod common;

use common::{MINI_CONFIG as CONFIG, pilot_dir, root, run_in, show};
use std::fs;
use std::path::Path;

const TIME_OUTCOME: &str = r#"
[[outcomes]]
id = "months"
column = "months"
event = "event"
kind = "time-to-event"
label = { nl = "Maanden", en = "Months" }
unit = { nl = "maanden", en = "months" }
better = "lower"
"#;

const COLUMNS: [&str; 9] = [
    "pid", "arm", "age", "age2", "work", "income", "school", "months", "event",
];

/// 40 good rows as cells, to be spoilt one cell at a time.
fn table() -> Vec<Vec<String>> {
    (0..40)
        .map(|i| {
            let arm = if i % 2 == 0 { "treated" } else { "control" };
            let income = 1000 + (i * 37) % 200 + if i % 2 == 0 { 50 } else { 0 };
            vec![
                format!("P{i:03}"),
                arm.to_string(),
                (20 + i % 30).to_string(),
                (2 * (20 + i % 30)).to_string(),
                u8::from((i * 7) % 3 == 0).to_string(),
                income.to_string(),
                format!("s{}", i % 6),
                (1 + i % 11).to_string(),
                (i % 2).to_string(),
            ]
        })
        .collect()
}

fn set(t: &mut [Vec<String>], row: usize, col: &str, v: &str) {
    let c = COLUMNS.iter().position(|x| *x == col).unwrap();
    t[row][c] = v.to_string();
}

fn csv(t: &[Vec<String>]) -> String {
    let mut s = COLUMNS.join(",") + "\n";
    for r in t {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s
}

fn setup(config: &str, data: impl AsRef<[u8]>) -> tempfile::TempDir {
    pilot_dir(config, "mini.csv", data)
}

const RUN: [&str; 4] = ["pilot", "mini", "--out", "res"];

/// Run, expect exit `code`, every needle on stderr, no panic and no output folder.
#[track_caller]
fn fails(dir: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let out = run_in(dir, args);
    let msg = show(args, &out);
    assert_eq!(out.status.code(), Some(code), "{msg}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{msg}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}\n{msg}");
    }
    assert!(
        out.stdout.is_empty(),
        "output on stdout after an error\n{msg}"
    );
    assert!(!dir.join("res").exists(), "an output folder after an error");
}

#[track_caller]
fn pilot_fails(config: &str, data: impl AsRef<[u8]>, needles: &[&str]) {
    let dir = setup(config, data);
    fails(dir.path(), &RUN, 1, needles);
}

/// Run a pilot that must succeed; its results.json.
#[track_caller]
fn results(config: &str, data: impl AsRef<[u8]>) -> serde_json::Value {
    let dir = setup(config, data);
    let out = run_in(dir.path(), &RUN);
    assert!(out.status.success(), "{}", show(&RUN, &out));
    serde_json::from_slice(&fs::read(dir.path().join("res/results.json")).unwrap()).unwrap()
}

fn notes(r: &serde_json::Value) -> String {
    r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"]["en"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------- files ----

#[test]
fn missing_file() {
    let dir = setup(CONFIG, "");
    fs::remove_file(dir.path().join("notebooks-data/mini.csv")).unwrap();
    fails(
        dir.path(),
        &RUN,
        1,
        &[
            "notebooks-data/mini.csv",
            "does not exist",
            "check the path",
        ],
    );
}

#[test]
fn unreadable_file() {
    // A folder where the file should be (file permissions do not stop root).
    let dir = setup(CONFIG, "");
    let p = dir.path().join("notebooks-data/mini.csv");
    fs::remove_file(&p).unwrap();
    fs::create_dir(&p).unwrap();
    fails(
        dir.path(),
        &RUN,
        1,
        &["mini.csv", "is a folder, not a data file"],
    );
}

#[test]
fn wrong_encoding_asked_for() {
    let mut data = csv(&table()).into_bytes();
    data.extend(b"# gemaakt door Jos\xe9\n");
    let dir = setup(CONFIG, &data);
    let mut args = RUN.to_vec();
    args.push("--encoding=utf-8");
    fails(
        dir.path(),
        &args,
        1,
        &[
            "mini.csv",
            "line 42",
            "not valid UTF-8",
            "--encoding latin1",
        ],
    );
}

#[test]
fn not_a_text_file() {
    pilot_fails(
        CONFIG,
        b"\x00\x01\x02binary\x00stuff",
        &["mini.csv", "NUL", "not a text file"],
    );
}

#[test]
fn empty_file() {
    pilot_fails(CONFIG, "", &["mini.csv", "the file is empty"]);
    pilot_fails(CONFIG, "\r\n \n", &["mini.csv", "the file is empty"]);
}

#[test]
fn header_only() {
    pilot_fails(
        CONFIG,
        COLUMNS.join(";") + "\r\n",
        &["mini.csv", "header (line 1) but no data rows"],
    );
}

#[test]
fn corrupt_workbook_and_unknown_worksheet() {
    let cfg = CONFIG.replace("mini.csv", "mini.xlsx");
    let dir = setup(&cfg, "");
    fs::write(
        dir.path().join("notebooks-data/mini.xlsx"),
        b"PK\x03\x04 not really a zip",
    )
    .unwrap();
    fails(
        dir.path(),
        &RUN,
        1,
        &["mini.xlsx", "cannot open the workbook", "caused by:"],
    );
    // A cell reference past Excel's last row made the workbook reader overflow.
    fs::copy(
        root().join("tests/fixtures/input/damaged.xlsx"),
        dir.path().join("notebooks-data/mini.xlsx"),
    )
    .unwrap();
    fails(
        dir.path(),
        &RUN,
        1,
        &["mini.xlsx", "the workbook is damaged"],
    );
    fs::copy(
        root().join("tests/fixtures/input/pilot.xlsx"),
        dir.path().join("notebooks-data/mini.xlsx"),
    )
    .unwrap();
    let mut args = RUN.to_vec();
    args.extend(["--sheet", "gegevens"]);
    fails(
        dir.path(),
        &args,
        1,
        &["no worksheet \"gegevens\"", "Did you mean \"Gegevens\"?"],
    );
}

#[test]
fn ragged_rows_and_unclosed_quotes() {
    let mut s = csv(&table());
    s = s.replacen("P004,treated", "P004,treated,extra", 1);
    pilot_fails(
        CONFIG,
        &s,
        &[
            "line 6: 10 fields but the header (line 1) has 9",
            "without quotes",
        ],
    );
    let s = csv(&table()).replacen("P004,treated", "P004", 1);
    pilot_fails(
        CONFIG,
        &s,
        &["line 6: 8 field(s) but the header (line 1) has 9"],
    );
    let s = csv(&table()).replacen("P002,", "\"P002,", 1);
    pilot_fails(
        CONFIG,
        &s,
        &["line 4: a quote (\") opens a value that is never closed"],
    );
}

// -------------------------------------------------------------- columns ----

#[test]
fn missing_column_suggests_the_closest() {
    pilot_fails(
        &CONFIG.replace("column = \"income\"", "column = \"incme\""),
        csv(&table()),
        &[
            "mini.csv",
            "no column \"incme\"",
            "Did you mean \"income\"?",
        ],
    );
    // Case is not silently ignored, but suggested.
    pilot_fails(
        CONFIG,
        csv(&table()).replacen("income", "Income", 1),
        &["no column \"income\"", "Did you mean \"Income\"?"],
    );
}

#[test]
fn a_column_named_twice() {
    let s = csv(&table()).replacen("age2", "income", 1);
    pilot_fails(
        CONFIG,
        &s,
        &["column \"income\" occurs 2 times in the header (columns 4, 6)"],
    );
}

#[test]
fn all_values_missing() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "income", if r % 2 == 0 { "NA" } else { "" });
    }
    pilot_fails(
        CONFIG,
        csv(&t),
        &["column \"income\": all 40 values are missing", "--na"],
    );
}

// --------------------------------------------------------------- values ----

#[test]
fn wrong_type_names_row_line_and_value() {
    let mut t = table();
    set(&mut t, 2, "income", "duizend");
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "mini.csv",
            "column \"income\", data row 3 (line 4): \"duizend\" is not a number",
            "mark it missing",
        ],
    );
}

#[test]
fn decimal_marks_that_disagree() {
    // A comma-separated file: decimal points assumed, and the comma refused.
    let mut t = table();
    set(&mut t, 3, "income", "\"1050,5\"");
    set(&mut t, 7, "age", "30.5");
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "both with a decimal comma (\"1050,5\" in column \"income\", line 5) and with a decimal point (\"30.5\" in column \"age\", line 9); decimal point assumed",
            "column \"income\", data row 4 (line 5): \"1050,5\" has a decimal comma",
            "--decimal-comma",
        ],
    );
    // "1.500" alone in a ';' file could be 1.5 or 1500.
    let s = csv(&table()).replace(',', ";").replace(";1050;", ";1.050;");
    pilot_fails(
        CONFIG,
        &s,
        &[
            "column \"income\"",
            "\"1.050\" could be 1.05 (decimal point) or 1050",
            "--decimal-comma=false or --decimal-comma",
        ],
    );
}

#[test]
fn yes_no_words_mixed_with_numbers() {
    let mut t = table();
    set(&mut t, 4, "income", "ja");
    pilot_fails(
        CONFIG,
        csv(&t),
        &["column \"income\" mixes yes/no words (\"ja\", data row 5 (line 6))"],
    );
}

#[test]
fn infinite_values() {
    for v in ["inf", "-Infinity", "1e999"] {
        let mut t = table();
        set(&mut t, 5, "income", v);
        pilot_fails(
            CONFIG,
            csv(&t),
            &["column \"income\", data row 6 (line 7)", "infinite"],
        );
    }
}

#[test]
fn non_binary_value_in_a_binary_outcome() {
    let mut t = table();
    set(&mut t, 6, "work", "2");
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "column \"work\", data row 7",
            "value 2 in binary outcome",
            "0 or 1",
        ],
    );
}

#[test]
fn negative_time() {
    let mut t = table();
    set(&mut t, 8, "months", "-3");
    pilot_fails(
        &format!("{CONFIG}{TIME_OUTCOME}"),
        csv(&t),
        &["column \"months\", data row 9", "time -3 is negative"],
    );
}

#[test]
fn missing_time_is_left_out_and_counted() {
    let mut t = table();
    set(&mut t, 9, "months", "");
    set(&mut t, 11, "event", "NA");
    let r = results(&format!("{CONFIG}{TIME_OUTCOME}"), csv(&t));
    let control = r["arm_summaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["outcome"] == "months" && s["arm"] == "control" && s["subset"] == "pooled")
        .unwrap()
        .clone();
    // Left out of the analysis; the count itself may be suppressed as a small cell.
    assert_eq!(control["n"], 18, "{control}");
    assert!(
        control["n_missing"] == 2 || control["n_missing"].is_null(),
        "{control}"
    );
}

// ----------------------------------------------------------------- arms ----

#[test]
fn unknown_arm_value() {
    let mut t = table();
    set(&mut t, 0, "arm", "treatment");
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "column \"arm\", data row 1",
            "unknown arm \"treatment\"",
            "control, treated",
        ],
    );
    let mut t = table();
    set(&mut t, 3, "arm", "");
    pilot_fails(CONFIG, csv(&t), &["data row 4", "the arm is missing"]);
}

#[test]
fn a_single_arm() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "arm", "control");
    }
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "column \"arm\" has only \"control\" (40 rows)",
            "at least one other arm (\"treated\")",
        ],
    );
}

#[test]
fn an_arm_with_fewer_than_two_units() {
    // Two arms: nothing can be estimated, and the error says why.
    let t: Vec<_> = table()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1 || *i == 0)
        .map(|(_, r)| r)
        .collect();
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "no comparison could be estimated",
            "work: treated vs control: not estimated, fewer than 2 units",
        ],
    );
    // Three arms: the others are still compared, with a note about the small one.
    let cfg = CONFIG.replace(
        "{ value = \"treated\"",
        "{ value = \"coached\", label = { nl = \"C\", en = \"C\" } }, { value = \"treated\"",
    );
    let mut t = table();
    set(&mut t, 4, "arm", "coached");
    let r = results(&cfg, csv(&t));
    let n = notes(&r);
    assert!(
        n.contains("coached vs control: not estimated, fewer than 2 units"),
        "{n}"
    );
    assert!(
        r["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["treated"] == "treated")
    );
}

// ------------------------------------------------------------- outcomes ----

#[test]
fn an_outcome_without_variance() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "income", "1000");
    }
    // Beside another outcome: a note, and no estimate (never a made-up p-value).
    let r = results(CONFIG, csv(&t));
    let n = notes(&r);
    assert!(
        n.contains("the outcome has the same value for every unit in both arms (no variation)"),
        "{n}"
    );
    // The value is every unit's value: not quoted (issue 12).
    assert!(!n.contains("1000"), "{n}");
    assert!(
        !r["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "income")
    );
    // Alone: the run fails and says why.
    let only = CONFIG.split("[[outcomes]]").take(1).collect::<String>()
        + "[[outcomes]]"
        + CONFIG.split("[[outcomes]]").nth(2).unwrap();
    pilot_fails(
        &only,
        csv(&t),
        &[
            "no comparison could be estimated",
            "income: treated vs control: not estimated, the outcome has the same value",
        ],
    );
}

// ---------------------------------------------------------------- design ----

#[test]
fn duplicate_ids() {
    let mut t = table();
    set(&mut t, 7, "pid", "P003");
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "column \"pid\": an id occurs 2 times",
            "data row 4 (line 5), data row 8 (line 9)",
            "Remove or merge the duplicate rows",
        ],
    );
    // The id itself identifies a person: never in the message (issue 12).
    let mut t = table();
    set(&mut t, 7, "pid", "P003");
    let dir = pilot_dir(CONFIG, "mini.csv", csv(&t));
    let res = run_in(dir.path(), &["pilot", "mini", "--out", "res"]);
    assert!(!String::from_utf8_lossy(&res.stderr).contains("P003"));
    let mut t = table();
    set(&mut t, 5, "pid", "");
    pilot_fails(
        CONFIG,
        csv(&t),
        &["column \"pid\", data row 6", "the id is missing"],
    );
}

#[test]
fn before_after_ids_repeat_once_per_period() {
    let cfg = CONFIG
        .replace("individually-randomised", "before-after")
        .replace("covariates = [\"age\"]", "covariates = []");
    // The same person before and after: fine.
    let mut t = table();
    for r in 0..40 {
        let p = format!("P{:03}", r / 2);
        set(&mut t, r, "pid", &p);
    }
    results(&cfg, csv(&t));
    // Twice in the same period: not fine.
    set(&mut t, 2, "pid", "P000");
    pilot_fails(
        &cfg,
        csv(&t),
        &["an id occurs 2 times within \"treated\" of column \"arm\""],
    );
}

#[test]
fn collinear_covariates_are_dropped_with_a_note() {
    let cfg = CONFIG.replace("covariates = [\"age\"]", "covariates = [\"age\", \"age2\"]");
    let r = results(&cfg, csv(&table()));
    let n = notes(&r);
    assert!(
        n.contains("covariate \"age2\" dropped from the adjusted estimate: constant or collinear"),
        "{n}"
    );
    assert!(
        r["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["estimator"] == "ols_adjusted")
    );
}

#[test]
fn a_single_cluster() {
    let cfg = CONFIG.replace(
        "kind = \"individually-randomised\"",
        "kind = \"cluster-randomised\"\ncluster = \"school\"",
    );
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "school", "De Regenboog");
    }
    pilot_fails(
        &cfg,
        csv(&t),
        &[
            "column \"school\" holds a single cluster (\"De Regenboog\")",
            "at least two clusters",
        ],
    );
}

// ---------------------------------------------------------------- config ----

#[test]
fn unknown_config_keys_get_a_suggestion() {
    pilot_fails(
        &CONFIG.replace("id = \"pid\"", "id = \"pid\"\ndelimeter = \";\""),
        csv(&table()),
        &[
            "mini.toml",
            "unknown field `delimeter`",
            "Did you mean `delimiter`?",
        ],
    );
    pilot_fails(
        &CONFIG.replace("covariates =", "covariate ="),
        csv(&table()),
        &["unknown field `covariate`", "Did you mean `covariates`?"],
    );
}

#[test]
fn bad_read_options_in_the_config() {
    for (key, needles) in [
        (
            "delimiter = \";;\"",
            &["`data.delimiter`", "allowed values"][..],
        ),
        (
            "encoding = \"latin9x\"",
            &["`data.encoding`", "allowed values"],
        ),
        ("sheet = \"Blad1\"", &["`data.sheet` is only for workbooks"]),
        ("na = [\"a\\nb\"]", &["`data.na`", "line break"]),
    ] {
        let cfg = CONFIG.replace("id = \"pid\"", &format!("id = \"pid\"\n{key}"));
        let mut n = vec!["mini.toml"];
        n.extend(needles);
        pilot_fails(&cfg, csv(&table()), &n);
    }
    pilot_fails(
        &CONFIG.replace("file = \"mini.csv\"", "file = \"mini.docx\""),
        csv(&table()),
        &["`data.file` is \"mini.docx\"", "allowed file types: .csv"],
    );
}

#[test]
fn bad_read_flags_are_usage_errors() {
    let dir = setup(CONFIG, csv(&table()));
    for (flag, needle) in [
        ("--delimiter=ab", "--delimiter: \"ab\" is not one character"),
        (
            "--encoding=ebcdic-nl",
            "--encoding: \"ebcdic-nl\" is not an encoding",
        ),
        ("--decimal-comma=maybe", "invalid value 'maybe'"),
    ] {
        let mut args = RUN.to_vec();
        args.push(flag);
        fails(dir.path(), &args, 2, &[needle]);
    }
}

#[test]
fn unknown_pilot_lists_the_known_ones() {
    let dir = setup(CONFIG, csv(&table()));
    fails(
        dir.path(),
        &["pilot", "minni", "--out", "res"],
        2,
        &[
            "unknown pilot \"minni\"",
            "Did you mean \"mini\"?",
            "Known pilots: mini",
        ],
    );
}

#[test]
fn compare_refuses_the_same_way() {
    let mut t = table();
    set(&mut t, 2, "income", "12%");
    let dir = setup(CONFIG, csv(&t));
    fails(
        dir.path(),
        &[
            "compare",
            "notebooks-data/mini.csv",
            "--treatment",
            "arm",
            "--outcome",
            "income",
        ],
        1,
        &["column \"income\", data row 3 (line 4): \"12%\" is a percentage"],
    );
    fails(
        dir.path(),
        &[
            "compare",
            "notebooks-data/mini.csv",
            "--treatment",
            "arm",
            "--outcome",
            "work",
            "--cluster",
            "pid",
            "--treated",
            "treated",
            "--delimiter",
            ";",
        ],
        1,
        &["no column \"arm\"", "The file has: pid,arm,age"],
    );
}

/// A treatment column with more distinct values than arms can be told apart (an id
/// column given by mistake) is refused with its count, before any per-arm work.
#[test]
fn too_many_arms_are_refused() {
    let dir = setup(CONFIG, csv(&table()));
    let mut text = String::from("arm,y\n");
    for i in 0..65_536 {
        text.push_str(&format!("{i},{}.5\n", i % 7));
    }
    fs::write(dir.path().join("notebooks-data/many.csv"), text).unwrap();
    fails(
        dir.path(),
        &[
            "compare",
            "notebooks-data/many.csv",
            "--treatment",
            "arm",
            "--outcome",
            "y",
            "--control",
            "0",
        ],
        1,
        &[
            "column \"arm\" has 65536 different values",
            "at most 65535 arms",
        ],
    );
}

// ------------------------------------------------------- issue 12: safety ----

/// A folder of the user's files given as `--out` is never replaced.
#[test]
fn an_out_folder_of_user_files_is_kept() {
    let dir = pilot_dir(CONFIG, "mini.csv", csv(&table()));
    let mine = dir.path().join("thesis");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("chapter1.txt"), "years of work").unwrap();
    let args = ["pilot", "mini", "--out", "thesis", "--quiet"];
    let res = run_in(dir.path(), &args);
    assert_eq!(res.status.code(), Some(2), "{}", show(&args, &res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("no via-eval manifest") && err.contains("--out"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(mine.join("chapter1.txt")).unwrap(),
        "years of work"
    );
    // Its own earlier output is replaced as before.
    let args = ["pilot", "mini", "--out", "res", "--quiet"];
    for _ in 0..2 {
        let res = run_in(dir.path(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
    }
}

/// Output that cannot be written is an error, not a silent success; only a closed
/// pipe ends quietly.
#[cfg(target_os = "linux")]
#[test]
fn a_full_device_on_stdout_is_an_error() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_via-eval"))
        .args(["pilots"])
        .current_dir(root())
        .stdout(std::process::Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("cannot write the output"), "{err}");
    // The system's reason follows the message, as its cause.
    assert!(err.contains("\n  caused by: "), "{err}");
}

/// A slug is a name: `pilot ../x --pilots DIR` does not read a config outside DIR.
#[test]
fn a_slug_cannot_leave_the_pilots_folder() {
    let dir = pilot_dir(CONFIG, "mini.csv", csv(&table()));
    fs::copy(
        dir.path().join("pilots/mini.toml"),
        dir.path().join("outside.toml"),
    )
    .unwrap();
    for slug in ["../outside", "/etc/passwd", "pilots/../outside"] {
        let args = ["pilot", slug, "--out", "res"];
        let res = run_in(dir.path(), &args);
        assert_eq!(res.status.code(), Some(2), "{}", show(&args, &res));
        assert!(String::from_utf8_lossy(&res.stderr).contains("not by a path"));
    }
}

// ------------------------------------------------------ issue 12 ----

const CLUSTERED: &str = "kind = \"cluster-randomised\"\ncluster = \"school\"";

fn clustered(extra: &str) -> String {
    CONFIG.replace(
        "kind = \"individually-randomised\"",
        &format!("{CLUSTERED}{extra}"),
    )
}

fn rows_of<'a>(r: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    r[key].as_array().unwrap()
}

/// Issue 12 (5): one cluster per arm. The cluster-robust standard error was 1e-17 with
/// p = 1 and a wild bootstrap p-value from 2 clusters was printed; now no
/// cluster-robust estimate is made, no headline rests on the differences that ignore
/// the clustering, and a note in both languages says why.
#[test]
fn one_cluster_per_arm_gets_no_cluster_robust_estimate() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "school", if r % 2 == 0 { "A" } else { "B" });
    }
    let r = results(&clustered(""), csv(&t));
    let n = notes(&r);
    assert!(
        n.contains("no cluster-robust estimate: the units of this comparison lie in 1 cluster(s) of \"school\" in the treated arm and 1 in the control arm"),
        "{n}"
    );
    let nl: Vec<&str> = rows_of(&r, "notes")
        .iter()
        .filter_map(|x| x["text"]["nl"].as_str())
        .collect();
    assert!(
        nl.iter()
            .any(|t| t.contains("geen clusterrobuuste schatting")),
        "{nl:?}"
    );
    for e in rows_of(&r, "estimates") {
        assert_ne!(e["se_type"], "CR2", "{e}");
        assert_ne!(e["headline"], true, "{e}");
    }
    assert!(
        rows_of(&r, "estimates")
            .iter()
            .any(|e| e["estimator"] == "welch")
    );
    assert!(
        !rows_of(&r, "tests")
            .iter()
            .any(|t| t["test"] == "wild_cluster_bootstrap")
    );
}

/// Issue 12 (5): one cluster per arm and a time-to-event outcome: no Cox hazard ratio
/// on a cluster-robust standard error that cannot exist, and a note says why.
#[test]
fn one_cluster_per_arm_gets_no_cox_hazard_ratio() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "school", if r % 2 == 0 { "A" } else { "B" });
    }
    let r = results(&format!("{}{TIME_OUTCOME}", clustered("")), csv(&t));
    assert!(
        !rows_of(&r, "estimates")
            .iter()
            .any(|e| e["outcome"] == "months" && e["estimator"] == "cox_hazard_ratio"),
        "{r}"
    );
    assert!(
        notes(&r).contains("no Cox hazard ratio: the units lie in 1 cluster(s) in the treated arm and 1 in the control arm"),
        "{}",
        notes(&r)
    );
}

/// Issue 12 (5): two clusters, each with both arms: cluster-robust estimates, but no
/// wild bootstrap (at most 18 distinct statistics), with a note.
#[test]
fn too_few_clusters_for_the_wild_bootstrap() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "school", if r < 20 { "A" } else { "B" });
    }
    let r = results(&clustered(""), csv(&t));
    let n = notes(&r);
    assert!(
        n.contains("wild cluster bootstrap not run: 2 clusters")
            && n.contains("at most 18 different values"),
        "{n}"
    );
    assert!(
        !rows_of(&r, "tests")
            .iter()
            .any(|t| t["test"] == "wild_cluster_bootstrap")
    );
    assert!(
        rows_of(&r, "estimates")
            .iter()
            .any(|e| e["se_type"] == "CR2" && e["headline"] == true)
    );
    // Six clusters, three per arm: the bootstrap runs.
    let r = results(&clustered(""), csv(&table()));
    assert!(
        rows_of(&r, "tests")
            .iter()
            .any(|t| t["test"] == "wild_cluster_bootstrap")
    );
}

/// Issue 12 (5): an outcome that is also a covariate, an outcome that is the arm
/// column and a covariate that is the arm column are refused, naming the columns, in a
/// config and on the command line.
#[test]
fn columns_in_two_parts_are_refused() {
    pilot_fails(
        &CONFIG.replace(
            "covariates = [\"age\"]",
            "covariates = [\"age\", \"income\"]",
        ),
        csv(&table()),
        &[
            "outcome \"income\" is also listed as a covariate",
            "Remove \"income\" from the covariates",
        ],
    );
    pilot_fails(
        &CONFIG.replace("column = \"work\"", "column = \"arm\""),
        csv(&table()),
        &["column \"arm\" of outcome \"work\" is the arm column"],
    );
    pilot_fails(
        &CONFIG.replace("covariates = [\"age\"]", "covariates = [\"arm\"]"),
        csv(&table()),
        &["covariate \"arm\" is the arm column"],
    );
    let dir = setup(CONFIG, csv(&table()));
    let base = ["compare", "notebooks-data/mini.csv", "--treatment", "arm"];
    let with = |extra: &[&'static str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    fails(
        dir.path(),
        &with(&["--outcome", "income", "--covariates", "age,income"]),
        2,
        &["outcome \"income\" is also listed as a covariate"],
    );
    fails(
        dir.path(),
        &with(&["--outcome", "arm"]),
        2,
        &["outcome \"arm\" is the arm column"],
    );
    fails(
        dir.path(),
        &with(&["--outcome", "income", "--covariates", "arm"]),
        2,
        &["covariate \"arm\" is the arm column"],
    );
}

/// Issue 12 (5): a covariate that takes one value per arm is refused before any
/// estimate; one that is collinear with the arm only together with another covariate
/// refuses the adjusted estimate (it used to be dropped, leaving an unadjusted
/// estimate labelled adjusted).
#[test]
fn covariates_collinear_with_the_arm_are_refused() {
    let mut t = table();
    for r in 0..40 {
        set(&mut t, r, "age", if r % 2 == 0 { "30" } else { "40" });
    }
    pilot_fails(
        CONFIG,
        csv(&t),
        &[
            "covariate \"age\" takes one value in each arm of column \"arm\"",
            "Remove \"age\" from the covariates",
        ],
    );
    let mut t = table();
    for r in (0..40).step_by(2) {
        let age: i32 = t[r][2].parse().unwrap();
        set(&mut t, r, "age2", &(2 * age + 1).to_string());
    }
    let cfg = CONFIG.replace("covariates = [\"age\"]", "covariates = [\"age\", \"age2\"]");
    let r = results(&cfg, csv(&t));
    let n = notes(&r);
    assert!(
        n.contains("adjusted estimate refused: \"age2\" is collinear with the arm indicator"),
        "{n}"
    );
    assert!(!n.contains("dropped from the adjusted estimate"), "{n}");
    assert!(
        !rows_of(&r, "estimates")
            .iter()
            .any(|e| e["estimator"] == "ols_adjusted")
    );
}

/// Issue 12 (7): units without a cluster id are left out of the cluster-robust
/// analyses (as estimatr, Stata and fixest do), counted per arm and noted; with
/// `missing_cluster = "error"` (or `--missing-cluster error`) the run stops at the row.
#[test]
fn missing_cluster_ids_are_left_out_and_counted() {
    let mut t = table();
    for r in [3, 4, 7] {
        set(&mut t, r, "school", "");
    }
    // The counts are below the disclosure threshold: read them without control.
    let dir = setup(&clustered(""), csv(&t));
    let args = [&RUN[..], &["--no-disclosure-control"]].concat();
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let r: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("res/results.json")).unwrap()).unwrap();
    let n = notes(&r);
    assert!(
        n.contains("Units without a cluster id (column \"school\") are left out of the cluster-robust estimates"),
        "{n}"
    );
    let arm = |outcome: &str, arm: &str| {
        rows_of(&r, "arm_summaries")
            .iter()
            .find(|s| s["outcome"] == outcome && s["arm"] == arm && s["subset"] == "pooled")
            .unwrap()
            .clone()
    };
    for o in ["income", "work"] {
        assert_eq!(arm(o, "control")["n_missing_cluster"], 2);
        assert_eq!(arm(o, "treated")["n_missing_cluster"], 1);
        assert_eq!(arm(o, "control")["n"], 20);
    }
    let ols = rows_of(&r, "estimates")
        .iter()
        .find(|e| e["outcome"] == "income" && e["estimator"] == "ols")
        .unwrap();
    assert_eq!(
        (ols["n_treated"].as_u64(), ols["n_control"].as_u64()),
        (Some(19), Some(18))
    );
    assert_eq!(ols["se_type"], "CR2");
    let welch = rows_of(&r, "estimates")
        .iter()
        .find(|e| e["outcome"] == "income" && e["estimator"] == "welch")
        .unwrap();
    assert_eq!(
        (welch["n_treated"].as_u64(), welch["n_control"].as_u64()),
        (Some(20), Some(20))
    );
    // Under disclosure control the small counts are null, and so are the sizes of the
    // cluster-robust estimates that would give them back (20 − 19 = 1).
    let r = results(&clustered(""), csv(&t));
    let arm = |outcome: &str, arm: &str| {
        rows_of(&r, "arm_summaries")
            .iter()
            .find(|s| s["outcome"] == outcome && s["arm"] == arm && s["subset"] == "pooled")
            .unwrap()
            .clone()
    };
    assert!(arm("income", "control")["n_missing_cluster"].is_null());
    assert_eq!(arm("income", "control")["n"], 20);
    let ols = rows_of(&r, "estimates")
        .iter()
        .find(|e| e["outcome"] == "income" && e["estimator"] == "ols")
        .unwrap();
    assert!(
        ols["n_treated"].is_null() && ols["n_control"].is_null(),
        "{ols}"
    );
    // Without a missing cluster id the field is absent, as before.
    let r = results(&clustered(""), csv(&table()));
    assert!(
        rows_of(&r, "arm_summaries")[0]
            .get("n_missing_cluster")
            .is_none()
    );

    pilot_fails(
        &clustered("\nmissing_cluster = \"error\""),
        csv(&t),
        &["column \"school\", data row 4 (line 5): the cluster is missing"],
    );
    pilot_fails(
        &clustered("\nmissing_cluster = \"keep\""),
        csv(&t),
        &["`design.missing_cluster` is \"keep\"; allowed values: drop, error"],
    );
    // A time-to-event outcome: the units are left out of its whole analysis.
    let dir = setup(&format!("{}{TIME_OUTCOME}", clustered("")), csv(&t));
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let r: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("res/results.json")).unwrap()).unwrap();
    assert!(
        notes(&r).contains("are left out of the analysis of this outcome (survival curves"),
        "{}",
        notes(&r)
    );
    let months = |arm: &str| {
        rows_of(&r, "arm_summaries")
            .iter()
            .find(|s| s["outcome"] == "months" && s["arm"] == arm && s["subset"] == "pooled")
            .unwrap()
            .clone()
    };
    assert_eq!(months("control")["n_missing_cluster"], 2);
    assert_eq!(months("control")["n"], 18);
    assert_eq!(months("treated")["n_missing_cluster"], 1);
    assert_eq!(months("treated")["n"], 19);

    let dir = setup(CONFIG, csv(&t));
    fails(
        dir.path(),
        &[
            "compare",
            "notebooks-data/mini.csv",
            "--treatment",
            "arm",
            "--outcome",
            "income",
            "--cluster",
            "school",
            "--missing-cluster",
            "error",
        ],
        1,
        &["column \"school\", data row 4 (line 5): the cluster is missing"],
    );
}

/// Issue 12 (4): a field of 5 MB in a column that is not used (above the size from
/// which the reader of plain files tries first) took minutes; the file is read, and
/// gives the estimates the file without the long field gives.
#[test]
fn a_field_of_megabytes_is_read() {
    let long = "x".repeat(5 << 20);
    let with_note = |note: &str| {
        let mut text = COLUMNS.join(",") + ",note\n";
        for (i, r) in table().iter().enumerate() {
            text.push_str(&r.join(","));
            text.push(',');
            text.push_str(if i == 5 { note } else { "n" });
            text.push('\n');
        }
        text
    };
    let dir = setup(CONFIG, with_note(&long));
    fs::write(dir.path().join("notebooks-data/short.csv"), with_note("n")).unwrap();
    let estimates = |file: &str| {
        let args = [
            "compare",
            file,
            "--treatment",
            "arm",
            "--outcome",
            "income",
            "--format",
            "json",
        ];
        let out = run_in(dir.path(), &args);
        assert!(out.status.success(), "{}", show(&args, &out));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["estimates"].clone()
    };
    let long = estimates("notebooks-data/mini.csv");
    assert!(long.as_array().is_some_and(|e| e.len() > 2), "{long}");
    assert_eq!(long, estimates("notebooks-data/short.csv"));
}

#[test]
fn started_column_with_a_value_other_than_0_or_1() {
    let config = CONFIG.replace("id = \"pid\"\n", "id = \"pid\"\nstarted = \"event\"\n");
    // Good data first: the flow counts who started per arm (event = 1 in the control
    // rows, 0 in the treated rows of this table).
    let r = results(&config, csv(&table()));
    let flow = r["flow"].as_array().unwrap();
    let arm = |a: &str| flow.iter().find(|f| f["arm"] == a).unwrap();
    assert_eq!(arm("control")["started"], 20);
    assert_eq!(arm("treated")["started"], 0);
    assert_eq!(arm("treated")["not_started"], 20);
    let mut t = table();
    set(&mut t, 6, "event", "2");
    pilot_fails(
        &config,
        csv(&t),
        &[
            "column \"event\" (`data.started`), data row 7",
            "not 0 or 1",
        ],
    );
    let aggregated = config.replace("id = \"pid\"\n", "layout = \"aggregated\"\n");
    pilot_fails(
        &aggregated,
        csv(&table()),
        &["`data.started` needs person rows"],
    );
}
