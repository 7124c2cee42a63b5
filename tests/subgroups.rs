//! Issue 18 item 4: effects per subgroup with the interaction test, against statsmodels
//! on the LaLonde NSW sample (scripts/fixtures/make_subgroup_fixtures.py), with
//! disclosure control on every subgroup cell.

use std::path::Path;

use via_eval::analysis::{self, Options, PilotResults, Privacy, Threshold};
use via_eval::config::PilotSpec;
use via_eval::stats::ols::SeType;
use via_eval::stats::wald::interaction_test;

mod common;
use common::{assert_close, root};

fn fixture() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/subgroups_lalonde.json"))
            .unwrap(),
    )
    .unwrap()
}

/// The LaLonde columns by name (the file has no quoted fields and no missing values).
fn lalonde() -> std::collections::HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/lalonde.csv")).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for l in lines {
        for (c, v) in l.split(',').enumerate() {
            cols[c].push(v.parse().unwrap());
        }
    }
    names.into_iter().zip(cols).collect()
}

#[test]
fn interaction_tests_agree_with_statsmodels() {
    let d = lalonde();
    let n = d["treat"].len();
    let treated: Vec<bool> = d["treat"].iter().map(|&t| t == 1.0).collect();
    // The three-level subgroup of the script: 0 neither, 1 black, 2 hispanic.
    let ethnic: Vec<u32> = (0..n)
        .map(|i| {
            if d["black"][i] == 1.0 {
                1
            } else if d["hisp"][i] == 1.0 {
                2
            } else {
                0
            }
        })
        .collect();
    let f = fixture();
    let cases = f["interactions"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let sub = c["subgroup"].as_str().unwrap();
        let level: Vec<u32> = if sub == "ethnic" {
            ethnic.clone()
        } else {
            d[sub].iter().map(|&v| v as u32).collect()
        };
        let covs: Vec<&[f64]> = c["covariates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| d[v.as_str().unwrap()].as_slice())
            .collect();
        let y = &d[c["outcome"].as_str().unwrap()];
        let w = interaction_test(y, &treated, &level, &covs, None, SeType::Hc2).unwrap();
        let what = format!("{} by {sub}", c["outcome"]);
        assert_close(&what, w.statistic, c["statistic"].as_f64().unwrap());
        assert_close(&what, w.df1, c["df1"].as_f64().unwrap());
        assert_close(&what, w.df2.unwrap(), c["df2"].as_f64().unwrap());
        assert_close(&what, w.p_value, c["p_value"].as_f64().unwrap());
        // Which level is the reference, and a shift of the outcome, change nothing.
        let top = *level.iter().max().unwrap();
        let flipped: Vec<u32> = level.iter().map(|&l| top - l).collect();
        let shifted: Vec<f64> = y.iter().map(|v| v + 1000.0).collect();
        let w2 = interaction_test(&shifted, &treated, &flipped, &covs, None, SeType::Hc2).unwrap();
        assert!(
            (w2.statistic - w.statistic).abs() <= 1e-8 * w.statistic,
            "{what}"
        );
    }
}

#[test]
fn a_bad_interaction_design_is_an_error_not_a_number() {
    let y = [1.0, 2.0, 3.0, 4.0];
    let t = [true, false, true, false];
    // One level only.
    assert!(interaction_test(&y, &t, &[0, 0, 0, 0], &[], None, SeType::Hc2).is_err());
    // Cluster-robust types are refused.
    assert!(interaction_test(&y, &t, &[0, 1, 0, 1], &[], None, SeType::Cr2).is_err());
    // Treatment only in one level: the product is not identified.
    let t2 = [true, false, false, false];
    assert!(interaction_test(&y, &t2, &[0, 0, 1, 1], &[], None, SeType::Hc2).is_err());
}

fn lalonde_pilot() -> PilotSpec {
    let toml = r#"
slug = "lalonde"
title = { nl = "NSW", en = "NSW" }
description = { nl = "NSW", en = "NSW" }
unit = { nl = "persoon", en = "person" }
covariates = ["age", "educ", "black"]
sources = ["LaLonde 1986; Dehejia & Wahba 1999"]
[design]
kind = "individually-randomised"
[data]
file = "lalonde.csv"
[arms]
column = "treat"
control = "0"
values = [
  { value = "1", label = { nl = "NSW", en = "NSW" } },
  { value = "0", label = { nl = "Controle", en = "Control" } },
]
[[subgroups]]
column = "married"
label = { nl = "Gehuwd", en = "Married" }
[[outcomes]]
id = "re78"
column = "re78"
kind = "continuous"
primary = true
better = "higher"
label = { nl = "Inkomen 1978", en = "Earnings 1978" }
unit = { nl = "dollar", en = "dollars" }
[[outcomes]]
id = "employed78"
column = "employed78"
kind = "binary"
primary = true
better = "higher"
label = { nl = "Werk 1978", en = "Employed 1978" }
unit = { nl = "procentpunt", en = "percentage points" }
"#;
    PilotSpec::from_toml(toml, &root().join("tests/fixtures/data/lalonde.toml")).unwrap()
}

fn run(spec: &PilotSpec, data: &Path, privacy: Privacy) -> PilotResults {
    let input = via_eval::prepare::load(spec, data, &Default::default())
        .unwrap()
        .input;
    analysis::run(spec, &input, &Options::default(), privacy).unwrap()
}

#[test]
fn subgroup_effects_agree_with_statsmodels_and_carry_the_test() {
    let spec = lalonde_pilot();
    let r = run(&spec, &root().join("tests/fixtures/data"), Privacy::Off);
    let f = fixture();
    for c in f["subgroup_estimates"].as_array().unwrap() {
        let outcome = c["outcome"].as_str().unwrap();
        let level = c["level"].as_i64().unwrap().to_string();
        let e = &r
            .subgroups
            .estimates
            .iter()
            .find(|s| s.estimate.outcome == outcome && s.level == level)
            .unwrap_or_else(|| panic!("no subgroup row for {outcome} married = {level}"))
            .estimate;
        let what = format!("{outcome} married = {level}");
        assert_eq!(e.estimator, "ols_adjusted", "{what}");
        assert_eq!(e.se_type.as_deref(), Some("HC2"));
        for (field, got) in [
            ("estimate", e.estimate),
            ("std_error", e.std_error),
            ("df", e.df.unwrap()),
            ("p_value", e.p_value),
            ("ci_low", e.ci_low),
            ("ci_high", e.ci_high),
        ] {
            assert_close(&format!("{what} {field}"), got, c[field].as_f64().unwrap());
        }
        assert_eq!(e.n_treated, Some(c["n_treated"].as_u64().unwrap() as usize));
        assert_eq!(e.n_control, Some(c["n_control"].as_u64().unwrap() as usize));
    }
    // One interaction test per primary outcome and subgroup.
    assert_eq!(r.subgroups.interactions.len(), 2);
    for t in &r.subgroups.interactions {
        assert_eq!(t.test, "interaction_wald");
        assert!(t.p_value > 0.0 && t.p_value < 1.0 && t.df1 == 1.0);
    }
    // The report shows them under the exploratory warning, in both languages.
    for (lang, heading, warning) in [
        (
            via_eval::config::Lang::En,
            "Effects per subgroup (exploratory)",
            "exploratory unless",
        ),
        (
            via_eval::config::Lang::Nl,
            "Effecten per subgroep (verkennend)",
            "verkennend, tenzij",
        ),
    ] {
        let md = via_eval::report::markdown::render(&via_eval::report::document::build(&r, lang));
        assert!(md.contains(heading) && md.contains(warning), "{lang:?}");
        assert!(md.contains("married = 1"), "{lang:?}");
    }
}

#[test]
fn disclosure_control_holds_in_every_subgroup_cell() {
    // 40 treated (12 of them in subgroup g = 1) and 40 controls (30 in g = 1).
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,arm,y,g\n");
    for i in 0..80 {
        let arm = if i < 40 { "t" } else { "c" };
        let g = u8::from(i < 12 || (40..70).contains(&i));
        csv.push_str(&format!("{i},{arm},{},{g}\n", (i * 37 % 17) as f64));
    }
    std::fs::write(dir.path().join("small.csv"), csv).unwrap();
    let toml = r#"
slug = "small"
title = { nl = "Klein", en = "Small" }
description = { nl = "Klein", en = "Small" }
unit = { nl = "persoon", en = "person" }
sources = ["test"]
[design]
kind = "individually-randomised"
[data]
file = "small.csv"
id = "id"
[arms]
column = "arm"
control = "c"
values = [
  { value = "t", label = { nl = "T", en = "T" } },
  { value = "c", label = { nl = "C", en = "C" } },
]
[[subgroups]]
column = "g"
label = { nl = "G", en = "G" }
[[outcomes]]
id = "y"
column = "y"
kind = "continuous"
primary = true
better = "higher"
label = { nl = "Y", en = "Y" }
unit = { nl = "punten", en = "points" }
"#;
    let spec = PilotSpec::from_toml(toml, &dir.path().join("small.toml")).unwrap();
    let r = run(&spec, dir.path(), Privacy::Control(Threshold::default()));
    let level = |l: &str| {
        &r.subgroups
            .estimates
            .iter()
            .find(|s| s.level == l)
            .unwrap()
            .estimate
    };
    // g = 0 has 28 treated and 10 controls, g = 1 12 and 30: at the default threshold
    // of 10 every cell is large enough, and every size is published.
    for l in ["0", "1"] {
        assert!(!level(l).suppressed && level(l).estimate.is_finite(), "{l}");
        assert!(
            level(l).n_treated.is_some() && level(l).n_control.is_some(),
            "{l}"
        );
    }
    // At 11, g = 0's 10 controls are too few: withheld; g = 1 is estimated, but its
    // sizes are withheld too, as with the published totals they would give g = 0's back.
    let mid = run(
        &spec,
        dir.path(),
        Privacy::Control(Threshold::new(11).unwrap()),
    );
    let at = |l: &str| {
        &mid.subgroups
            .estimates
            .iter()
            .find(|s| s.level == l)
            .unwrap()
            .estimate
    };
    assert!(at("0").suppressed && !at("0").estimate.is_finite());
    assert!(!at("1").suppressed && at("1").estimate.is_finite());
    assert_eq!((at("1").n_treated, at("1").n_control), (None, None));
    assert!(at("1").df.is_none_or(f64::is_nan));
    // With a threshold of 15, g = 0's 10 controls and g = 1's 12 treated are too few.
    let strict = run(
        &spec,
        dir.path(),
        Privacy::Control(Threshold::new(15).unwrap()),
    );
    for s in &strict.subgroups.estimates {
        assert!(s.estimate.suppressed, "{}", s.level);
        assert!(!s.estimate.estimate.is_finite() && !s.estimate.p_value.is_finite());
        assert_eq!((s.estimate.n_treated, s.estimate.n_control), (None, None));
    }
    let md = via_eval::report::markdown::render(&via_eval::report::document::build(
        &strict,
        via_eval::config::Lang::En,
    ));
    let line = md.lines().find(|l| l.starts_with("| g = 1 |")).unwrap();
    assert!(line.contains("suppressed"), "{line}");
    // Three treated without a value of g: the levels' sizes would count them (the
    // whole sample's sizes are published), so the sizes are withheld.
    let mut csv = std::fs::read_to_string(dir.path().join("small.csv")).unwrap();
    for i in 80..83 {
        csv.push_str(&format!("{i},t,{},\n", i % 5));
    }
    let sub = dir.path().join("gaps");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("small.csv"), csv).unwrap();
    let gaps = run(&spec, &sub, Privacy::Control(Threshold::default()));
    for s in &gaps.subgroups.estimates {
        assert!(!s.estimate.suppressed, "{}", s.level);
        assert_eq!(
            (s.estimate.n_treated, s.estimate.n_control),
            (None, None),
            "{}",
            s.level
        );
    }
    // Without disclosure control every size is shown.
    let open = run(&spec, dir.path(), Privacy::Off);
    assert!(
        open.subgroups
            .estimates
            .iter()
            .all(|s| s.estimate.n_treated.is_some())
    );
}

#[test]
fn a_subgroup_column_must_be_a_few_coded_values_measured_before_the_start() {
    let spec = lalonde_pilot();
    let text = std::fs::read_to_string(root().join("pilots/leren-en-werken.toml")).unwrap();
    // The arm column as a subgroup: a config error that names the key.
    let bad = text.replacen(
        "column = \"female\"\nlabel = { nl = \"Geslacht\"",
        "column = \"arm\"\nlabel = { nl = \"Geslacht\"",
        1,
    );
    assert_ne!(
        bad, text,
        "the leren-en-werken config declares a subgroup on female"
    );
    let e = PilotSpec::from_toml(&bad, Path::new("pilots/leren-en-werken.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("subgroups[0].column") && e.contains("arm column"),
        "{e}"
    );
    // A continuous column: a data error that names the file, the column and what to do.
    let mut age = spec.clone();
    age.subgroups[0].column = "age".into();
    let e = via_eval::prepare::load(
        &age,
        &root().join("tests/fixtures/data"),
        &Default::default(),
    )
    .err()
    .expect("an error")
    .to_string();
    assert!(
        e.contains("lalonde.csv") && e.contains("\"age\"") && e.contains("bands"),
        "{e}"
    );
}
