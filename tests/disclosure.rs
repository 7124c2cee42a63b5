//! Disclosure control on real pilot outputs: small cells withheld (primary and
//! secondary), shown as suppressed and never as zero; person ids never in any output;
//! `--no-disclosure-control` stamps every output.

mod common;

use common::{root, run_in, show};
use std::fs;

fn evaluate(extra: &[&str]) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_string_lossy().to_string();
    let mut args = vec!["pilot", "leren-en-werken", "--out", &out_s, "--quiet"];
    args.extend(extra);
    let res = run_in(&root(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let json = serde_json::from_slice(&fs::read(out.join("results.json")).unwrap()).unwrap();
    (dir, json)
}

fn summary<'a>(
    j: &'a serde_json::Value,
    outcome: &str,
    subset: &str,
    arm: &str,
) -> &'a serde_json::Value {
    j["arm_summaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["outcome"] == outcome && s["subset"] == subset && s["arm"] == arm)
        .unwrap()
}

#[test]
fn small_cells_are_suppressed_with_secondary_suppression() {
    let (dir, j) = evaluate(&[]);
    assert_eq!(j["disclosure"]["applied"], true);
    assert_eq!(j["disclosure"]["threshold"], 10);
    // Every published arm summary rests on at least 10 persons, and for yes/no
    // outcomes at least 10 with and 10 without the outcome.
    for s in j["arm_summaries"].as_array().unwrap() {
        if s["suppressed"] == true {
            assert!(
                s["n"].is_null() && s["mean"].is_null() && s["ci_low"].is_null(),
                "{s}"
            );
            continue;
        }
        let n = s["n"].as_u64().unwrap();
        assert!(n >= 10, "{s}");
        if s["ci_method"] == "wilson" {
            let events = (s["mean"].as_f64().unwrap() * n as f64).round() as u64;
            assert!(events >= 10 && n - events >= 10, "{s}");
        }
        if let Some(m) = s["n_missing"].as_u64() {
            assert!(m == 0 || m >= 10, "{s}");
        }
    }
    // Secondary suppression: never exactly one withheld project per outcome and arm
    // beside a published pooled summary.
    let projects = ["utrecht", "liander", "nova", "spoor"];
    for o in j["outcomes"].as_array().unwrap() {
        let id = o["id"].as_str().unwrap();
        for arm in ["deelnemer", "vergelijking"] {
            let hidden = projects
                .iter()
                .filter(|p| summary(&j, id, p, arm)["suppressed"] == true)
                .count();
            let pooled_shown = summary(&j, id, "pooled", arm)["suppressed"] == false;
            assert!(
                !(hidden == 1 && pooled_shown),
                "{id} {arm}: one withheld project can be recovered"
            );
        }
    }
    // Estimates of comparisons with a withheld arm are withheld too.
    let withheld = j["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["suppressed"] == true)
        .count();
    assert!(withheld > 0, "the shipped data have small project cells");
    for e in j["estimates"].as_array().unwrap() {
        let hidden_arm = summary(
            &j,
            e["outcome"].as_str().unwrap(),
            e["subset"].as_str().unwrap(),
            e["treated"].as_str().unwrap(),
        )["suppressed"]
            == true;
        if hidden_arm {
            assert!(
                e["suppressed"] == true && e["estimate"].is_null() && e["n_treated"].is_null(),
                "{e}"
            );
        }
    }
    let md = fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        md.contains("suppressed") && md.contains("Disclosure control"),
        "{md}"
    );
}

#[test]
fn person_identifiers_never_appear_in_any_output() {
    let (dir, _) = evaluate(&["--no-disclosure-control"]);
    let csv = fs::read_to_string(root().join("notebooks-data/leren-en-werken.csv")).unwrap();
    let header: Vec<&str> = csv
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .split(',')
        .collect();
    let col = header.iter().position(|h| *h == "person_id").unwrap();
    let ids: Vec<String> = csv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().to_string())
        .collect();
    assert!(ids.len() > 1000);
    for f in fs::read_dir(dir.path().join("out")).unwrap() {
        let p = f.unwrap().path();
        let text = String::from_utf8_lossy(&fs::read(&p).unwrap()).to_string();
        for id in &ids {
            assert!(
                !text.contains(id.as_str()),
                "{} contains person id {id}",
                p.display()
            );
        }
    }
}

#[test]
fn turning_disclosure_control_off_stamps_every_output() {
    let (dir, j) = evaluate(&["--no-disclosure-control"]);
    assert_eq!(j["disclosure"]["applied"], false);
    let out = dir.path().join("out");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("NO DISCLOSURE CONTROL"));
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("NO DISCLOSURE CONTROL"));
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(",off")),
        "every CSV row says so"
    );
    for f in fs::read_dir(&out).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "svg") {
            let svg = fs::read_to_string(&p).unwrap();
            assert!(
                svg.contains("NO DISCLOSURE CONTROL"),
                "{} lacks the stamp",
                p.display()
            );
        }
    }
    // Without control, the small Liander cell is published.
    assert_eq!(
        summary(&j, "work_12m", "liander", "deelnemer")["suppressed"],
        false
    );
}

// ---------------------------------------------------------------------------------
// Issue 12: a hostile walk over every output of a data set built to hold small cells
// of every kind. The threshold is 1,000, so every sensitive cell is a distinctive
// three-digit number that can be looked for in text, and every published count must
// be 0 or at least 1,000, as must everything that follows from published counts by
// subtraction.

const K: u64 = 1000;

/// The true sizes of the small cells built into `walk.csv` (each below `K`).
const SMALL_ARM: u64 = 617; // arm b
const MISSING_Y: u64 = 733; // y missing in arm a (project p1)
const MISSING_COV: u64 = 811; // covariate missing in arm c (project p2)
const MISSING_Y2: u64 = 826; // y2 missing in arm a, project p3 (leaves 907 observed)
const OBSERVED_Y2_P3: u64 = 907;
const ONES_Y01: u64 = 683; // y01 = 1 in arm c (a 0/1 outcome declared continuous)
const CENSORED_C: u64 = 211; // censored in arm c
const SENSITIVE: [u64; 7] = [
    SMALL_ARM,
    MISSING_Y,
    MISSING_COV,
    MISSING_Y2,
    OBSERVED_Y2_P3,
    ONES_Y01,
    CENSORED_C,
];

const WALK_CONFIG: &str = r#"
slug = "mini"
title = { nl = "Aanval", en = "Attack" }
description = { nl = "Kleine cellen van elke soort", en = "Small cells of every kind" }
unit = { nl = "persoon", en = "person" }
covariates = ["cov"]
[design]
kind = "matched-comparison"
project = "project"
[data]
file = "walk.csv"
id = "pid"
[arms]
column = "arm"
control = "c"
values = [ { value = "c", label = { nl = "Controle", en = "Control" } }, { value = "a", label = { nl = "A", en = "A" } }, { value = "b", label = { nl = "B", en = "B" } } ]
[[projects]]
value = "p1"
label = { nl = "P1", en = "P1" }
[[projects]]
value = "p2"
label = { nl = "P2", en = "P2" }
[[projects]]
value = "p3"
label = { nl = "P3", en = "P3" }
[[outcomes]]
id = "y_bin"
column = "y_bin"
kind = "binary"
label = { nl = "Werk", en = "Work" }
unit = { nl = "procentpunt", en = "percentage points" }
primary = true
better = "higher"
[[outcomes]]
id = "y"
column = "y"
kind = "continuous"
label = { nl = "Uren", en = "Hours" }
unit = { nl = "uren", en = "hours" }
better = "higher"
[[outcomes]]
id = "y2"
column = "y2"
kind = "continuous"
label = { nl = "Score", en = "Score" }
unit = { nl = "punten", en = "points" }
better = "higher"
[[outcomes]]
id = "y01"
column = "y01"
kind = "continuous"
label = { nl = "Nul of een", en = "Zero or one" }
unit = { nl = "punten", en = "points" }
better = "higher"
[[outcomes]]
id = "months"
column = "months"
event = "event"
kind = "time-to-event"
label = { nl = "Maanden tot werk", en = "Months to work" }
unit = { nl = "maanden", en = "months" }
better = "lower"
"#;

/// `walk.csv`: arms c (6,000), a (5,200) and b (617) over three projects, with the
/// small cells above.
fn walk_csv() -> String {
    let mut out = String::from("pid,arm,project,y_bin,y,y2,y01,cov,months,event\n");
    let cells: [(&str, &str, u64); 7] = [
        ("c", "p1", 2000),
        ("c", "p2", 2000),
        ("c", "p3", 2000),
        ("a", "p1", 1800),
        ("a", "p2", 1667),
        ("a", "p3", MISSING_Y2 + OBSERVED_Y2_P3),
        ("b", "p1", SMALL_ARM),
    ];
    let mut id = 0u64;
    let (mut ones_c, mut censored_c) = (0, 0);
    for (arm, project, n) in cells {
        for j in 0..n {
            id += 1;
            let h = id.wrapping_mul(2_654_435_761) % 4_294_967_296;
            let y_bin = j % 2;
            let y = if arm == "a" && project == "p1" && j < MISSING_Y {
                String::new()
            } else {
                format!("{}", 20 + h % 17)
            };
            let y2 = if arm == "a" && project == "p3" && j < MISSING_Y2 {
                String::new()
            } else {
                format!("{}.5", h % 101)
            };
            let y01 = if arm == "c" {
                ones_c += 1;
                u64::from(ones_c <= ONES_Y01)
            } else {
                (h >> 3) % 2
            };
            let cov = if arm == "c" && project == "p2" && j < MISSING_COV {
                String::new()
            } else {
                format!("{}", 18 + h % 47)
            };
            let months = 1 + (h >> 5) % 48;
            let event = if arm == "c" {
                censored_c += 1;
                u64::from(censored_c > CENSORED_C)
            } else {
                (h >> 7) % 2
            };
            out.push_str(&format!(
                "P{id:06},{arm},{project},{y_bin},{y},{y2},{y01},{cov},{months},{event}\n"
            ));
        }
    }
    out
}

/// Counts that results.json publishes, by key.
const COUNT_KEYS: [&str; 10] = [
    "n",
    "n_rows",
    "n_units",
    "n_missing",
    "n_missing_covariates",
    "n_missing_cluster",
    "n_treated",
    "n_control",
    "events",
    "at_risk",
];

fn walk_counts(v: &serde_json::Value, key: &str, out: &mut Vec<(String, u64)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                walk_counts(x, k, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                walk_counts(x, key, out);
            }
        }
        serde_json::Value::Number(n) if COUNT_KEYS.contains(&key) || key == "risk_table" => {
            out.push((key.to_string(), n.as_u64().unwrap_or(u64::MAX)));
        }
        _ => {}
    }
}

/// A number that follows from published ones must be 0 or at least K.
#[track_caller]
fn assert_not_sensitive(what: &str, derived: i64) {
    assert!(
        derived == 0 || derived >= K as i64 || derived < 0,
        "{what}: {derived} follows from published counts and rests on fewer than {K} persons"
    );
}

/// `whole = Σ parts`: when exactly one term is withheld, it must not be sensitive.
#[track_caller]
fn check_sum(what: &str, whole: Option<u64>, parts: &[Option<u64>]) {
    let unknown = parts.iter().filter(|p| p.is_none()).count() + usize::from(whole.is_none());
    if unknown != 1 {
        return;
    }
    let known: i64 = parts.iter().flatten().map(|&p| p as i64).sum();
    let derived = match whole {
        Some(w) => w as i64 - known,
        None => known,
    };
    assert_not_sensitive(what, derived);
}

fn text_tokens(text: &str) -> Vec<u64> {
    // Integers standing alone: not part of a decimal (1.5, 0,617) or a longer number.
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let before = start.checked_sub(1).map(|j| b[j]);
            let glued = |c: Option<u8>| c.is_some_and(|c| c == b'.' || c == b',');
            let decimal_after =
                glued(b.get(i).copied()) && b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !glued(before)
                && !decimal_after
                && let Ok(v) = text[start..i].parse()
            {
                out.push(v);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The text a reader sees: tags, inline images and SVG geometry left out.
fn visible_text(name: &str, bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes).to_string();
    if !(name.contains(".html") || name.contains(".svg")) {
        return s;
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    // Inline PNGs are base64 text between tags only inside attributes: gone already.
    out
}

fn by<'a>(
    list: &'a [serde_json::Value],
    outcome: &str,
    subset: &str,
    arm: &str,
) -> Option<&'a serde_json::Value> {
    list.iter()
        .find(|s| s["outcome"] == outcome && s["subset"] == subset && s["arm"] == arm)
}

fn num(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
}

#[test]
fn no_output_publishes_or_gives_away_a_small_cell() {
    let dir = common::pilot_dir(WALK_CONFIG, "walk.csv", walk_csv());
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut json = None;
    for lang in ["en", "nl"] {
        let args = [
            "pilot",
            "mini",
            "--disclosure-threshold",
            "1000",
            "--lang",
            lang,
            "--out",
            "out",
        ];
        let res = run_in(dir.path(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        texts.push((format!("stdout {lang}"), res.stdout.clone()));
        texts.push((format!("stderr {lang}"), res.stderr.clone()));
        for f in fs::read_dir(dir.path().join("out")).unwrap() {
            let p = f.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".png") || name.ends_with(".parquet") {
                continue;
            }
            let bytes = fs::read(&p).unwrap();
            if name == "results.json" {
                json = Some(serde_json::from_slice::<serde_json::Value>(&bytes).unwrap());
            }
            texts.push((format!("{name} ({lang})"), bytes));
        }
    }
    let j = json.unwrap();
    assert_eq!(j["disclosure"]["applied"], true);
    assert_eq!(j["disclosure"]["threshold"], K);

    // 1. Every published count is 0 or at least K.
    let mut counts = Vec::new();
    walk_counts(&j, "", &mut counts);
    assert!(counts.len() > 50, "the walk found the counts");
    for (key, v) in &counts {
        assert!(*v == 0 || *v >= K, "{key} = {v} is published");
    }
    // 2. No sensitive number appears in any text a reader sees.
    for (name, bytes) in &texts {
        let text = visible_text(name, bytes);
        for t in text_tokens(&text) {
            assert!(!SENSITIVE.contains(&t), "{name} shows {t}:\n{text}");
        }
    }
    // 3. Nothing sensitive follows by subtraction.
    let arms: Vec<Option<u64>> = j["arms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| num(&a["n_rows"]))
        .collect();
    check_sum("n_rows - arms", num(&j["n_rows"]), &arms);
    check_sum("n_units - arms", num(&j["n_units"]), &arms);
    let sums = j["arm_summaries"].as_array().unwrap();
    let outcomes = ["y_bin", "y", "y2", "y01", "months"];
    let arm_ids = ["c", "a", "b"];
    for o in outcomes {
        for (ai, arm) in arm_ids.iter().enumerate() {
            let Some(p) = by(sums, o, "pooled", arm) else {
                continue;
            };
            check_sum(
                &format!("{o} {arm}: arm rows - n - missing"),
                arms[ai],
                &[num(&p["n"]), num(&p["n_missing"])],
            );
            for key in ["n", "n_missing"] {
                let parts: Vec<Option<u64>> = ["p1", "p2", "p3"]
                    .iter()
                    .filter_map(|s| by(sums, o, s, arm))
                    .map(|s| num(&s[key]))
                    .collect();
                check_sum(
                    &format!("{o} {arm} {key}: pooled - projects"),
                    num(&p[key]),
                    &parts,
                );
            }
        }
    }
    for e in j["estimates"].as_array().unwrap() {
        // Residual df are n − p: withheld with either arm size.
        if e["n_treated"].is_null() || e["n_control"].is_null() {
            assert!(e["df"].is_null(), "{e}");
        }
        let (o, s) = (
            e["outcome"].as_str().unwrap(),
            e["subset"].as_str().unwrap(),
        );
        for (side, arm) in [("n_treated", &e["treated"]), ("n_control", &e["control"])] {
            if let Some(a) = by(sums, o, s, arm.as_str().unwrap()) {
                check_sum(
                    &format!("{o} {s} {}: n - {side}", e["estimator"]),
                    num(&a["n"]),
                    &[num(&e[side])],
                );
            }
        }
    }
    for s in j["survival"].as_array().unwrap() {
        let what = format!("{} {} {}", s["outcome"], s["subset"], s["arm"]);
        let n = num(&s["n"]);
        if let (Some(n), Some(e)) = (n, num(&s["events"])) {
            assert_not_sensitive(&format!("{what}: censored"), n as i64 - e as i64);
        }
        // Numbers at risk fall by 0 or at least K between published values.
        let mut last = n;
        for c in s["risk_table"].as_array().unwrap() {
            if let (Some(l), Some(c)) = (last, num(c)) {
                assert_not_sensitive(&format!("{what}: at-risk drop"), l as i64 - c as i64);
                last = Some(c);
            }
        }
        // Survival and medians are published only where at least K are at risk.
        for p in s["at"].as_array().unwrap() {
            if p["survival"].is_number() {
                let at = p["at_risk"].as_u64();
                assert!(at.is_none_or(|a| a >= K), "{what}: {p}");
            }
        }
        if s["suppressed"] == true {
            assert!(
                s["curve"].as_array().unwrap().is_empty()
                    && s["median"].is_null()
                    && s["n"].is_null()
                    && s["events"].is_null(),
                "{s}"
            );
        }
    }
    // The small cells are really there, withheld.
    assert_eq!(
        by(sums, "y01", "pooled", "c").unwrap()["suppressed"],
        true,
        "a 0/1 outcome declared continuous keeps the rule for shares"
    );
    assert!(by(sums, "y", "pooled", "a").unwrap()["n_missing"].is_null());
    assert!(j["n_rows"].is_null(), "the total would give arm b back");
}

#[test]
fn totals_do_not_give_a_small_arm_away_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("walk.csv"), walk_csv()).unwrap();
    let mut totals = Vec::new();
    let mut sizes = Vec::new();
    for treated in [None, Some("a"), Some("b")] {
        let mut args = vec![
            "compare",
            "walk.csv",
            "--treatment",
            "arm",
            "--control",
            "c",
            "--outcome",
            "y_bin",
            "--disclosure-threshold",
            "1000",
            "--format",
            "json",
        ];
        if let Some(t) = treated {
            args.extend(["--treated", t]);
        }
        let res = run_in(dir.path(), &args);
        assert!(res.status.success(), "{}", show(&args, &res));
        let j: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
        totals.extend(num(&j["n_rows"]));
        totals.extend(num(&j["n_units"]));
        for a in j["arms"].as_array().unwrap() {
            sizes.extend(num(&a["n_rows"]));
        }
        for s in j["arm_summaries"].as_array().unwrap() {
            sizes.extend(num(&s["n"]));
            sizes.extend(num(&s["n_missing"]));
        }
    }
    assert!(!totals.is_empty(), "some total is published");
    for &x in &totals {
        for &y in &totals {
            let d = x as i64 - y as i64;
            assert_not_sensitive("difference of two runs' totals", d);
            for &s in &sizes {
                assert_not_sensitive("difference of totals less an arm", d - s as i64);
            }
        }
    }
}

#[test]
fn thresholds_below_the_floor_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("walk.csv"), walk_csv()).unwrap();
    for k in ["0", "1", "4"] {
        let args = [
            "compare",
            "walk.csv",
            "--treatment",
            "arm",
            "--control",
            "c",
            "--outcome",
            "y",
            "--disclosure-threshold",
            k,
        ];
        let res = run_in(dir.path(), &args);
        assert_eq!(res.status.code(), Some(2), "{}", show(&args, &res));
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains("--no-disclosure-control"), "{err}");
        assert!(res.stdout.is_empty());
    }
}

#[test]
fn errors_do_not_echo_person_ids() {
    // A duplicate id names its rows, not the id.
    let mut csv = walk_csv();
    csv.push_str("P000007,c,p1,1,20,1.5,0,30,5,1\n");
    let dir = common::pilot_dir(WALK_CONFIG, "walk.csv", &csv);
    let res = run_in(dir.path(), &["pilot", "mini", "--out", "out"]);
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("occurs 2 times"), "{err}");
    assert!(!err.contains("P000007"), "{err}");
    // A config whose arm column is the id column names no id either.
    let cfg = WALK_CONFIG.replace("column = \"arm\"", "column = \"pid\"");
    let dir2 = common::pilot_dir(&cfg, "walk.csv", walk_csv());
    let res = run_in(dir2.path(), &["pilot", "mini", "--out", "out"]);
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("is `arms.column` the arm column"), "{err}");
    assert!(!err.contains("P0000"), "{err}");
    // A wrong --treated on an id column lists no ids, and the message stays short.
    let args = [
        "compare",
        "notebooks-data/walk.csv",
        "--treatment",
        "pid",
        "--treated",
        "P99",
        "--outcome",
        "y",
    ];
    let res = run_in(dir.path(), &args);
    assert!(!res.status.success(), "{}", show(&args, &res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.len() < 600, "{err}");
    assert!(!err.contains("P0000"), "{err}");
}

/// A pilot whose arm "s" has 3 persons, for the library entry points below.
const SMALL_ARM_CONFIG: &str = r#"
slug = "entry"
title = { nl = "T", en = "T" }
description = { nl = "d", en = "d" }
unit = { nl = "persoon", en = "person" }
[design]
kind = "individually-randomised"
[data]
file = "entry.csv"
[arms]
column = "arm"
control = "c"
values = [
  { value = "c", label = { nl = "C", en = "C" } },
  { value = "t", label = { nl = "T", en = "T" } },
  { value = "s", label = { nl = "S", en = "S" } },
]
[[outcomes]]
id = "y"
column = "y"
kind = "continuous"
label = { nl = "Y", en = "Y" }
unit = { nl = "euro", en = "euros" }
better = "higher"
"#;

/// What every entry point must have withheld: the small arm's counts and its
/// comparison, while the large arms are published.
fn assert_small_arm_withheld(who: &str, r: &via_eval::analysis::PilotResults) {
    let arm = |a: &str| r.arms.iter().find(|m| m.value == a).unwrap();
    assert_eq!(
        arm("s").n_rows,
        None,
        "{who}: the small arm's rows published"
    );
    assert_eq!(arm("c").n_rows, Some(40), "{who}");
    for s in r.arm_summaries.iter().filter(|s| s.arm == "s") {
        assert_eq!(s.n, None, "{who}: the small arm's n published");
        assert!(
            s.suppressed && s.mean.is_nan(),
            "{who}: the small arm's mean published"
        );
    }
    let small: Vec<_> = r.estimates.iter().filter(|e| e.treated == "s").collect();
    assert!(!small.is_empty(), "{who}: no row for the small arm");
    for e in small {
        assert!(
            e.suppressed,
            "{who}: {} for the small arm published",
            e.estimator
        );
    }
    assert!(r.disclosure.applied, "{who}");
}

#[test]
fn every_library_entry_point_withholds_small_cells() {
    use clap::Parser;
    use via_eval::analysis::{self, Options, Privacy};
    use via_eval::config::PilotSpec;

    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("arm,y\n");
    for (arm, n) in [("c", 40), ("t", 40), ("s", 3)] {
        for i in 0..n {
            csv.push_str(&format!("{arm},{}\n", 100 + (i * 7) % 23));
        }
    }
    let data = dir.path().join("entry.csv");
    fs::write(&data, csv).unwrap();
    let spec = PilotSpec::from_toml(SMALL_ARM_CONFIG, &dir.path().join("entry.toml")).unwrap();

    // The pilot command's library function.
    let r =
        via_eval::cli::pilot::evaluate(&spec, dir.path(), &Options::default(), Privacy::default())
            .unwrap();
    assert_small_arm_withheld("cli::pilot::evaluate", &r);

    // The analysis itself, on input from each way the prepare stage offers.
    let prepared = via_eval::prepare::load(&spec, dir.path(), &Default::default()).unwrap();
    let r = analysis::run(
        &spec,
        &prepared.input,
        &Options::default(),
        Privacy::default(),
    )
    .unwrap();
    assert_small_arm_withheld("prepare::load + analysis::run", &r);
    let frame = via_eval::prepare::read(&spec, dir.path(), &Default::default()).unwrap();
    let input = via_eval::prepare::prepare(&spec, &frame).unwrap().input;
    let r = analysis::run(&spec, &input, &Options::default(), Privacy::default()).unwrap();
    assert_small_arm_withheld("prepare::prepare + analysis::run", &r);

    // The compare command's library function, with its default flags.
    #[derive(Parser)]
    struct Compare {
        #[command(flatten)]
        args: via_eval::cli::compare::CompareArgs,
    }
    let data_s = data.to_string_lossy().to_string();
    let c = Compare::try_parse_from([
        "compare",
        &data_s,
        "--treatment",
        "arm",
        "--control",
        "c",
        "--outcome",
        "y",
    ])
    .unwrap();
    let r = via_eval::cli::compare::compute(&c.args).unwrap();
    assert_small_arm_withheld("cli::compare::compute", &r);

    // And the one way to publish it is to ask by name.
    let r = analysis::run(&spec, &input, &Options::default(), Privacy::Off).unwrap();
    let s = r.arms.iter().find(|m| m.value == "s").unwrap();
    assert_eq!(s.n_rows, Some(3));
    assert!(!r.disclosure.applied);
}
