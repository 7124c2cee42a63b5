//! Issue 15, item 5: a pilot with a panel design and a time axis (culturele-diversiteit)
//! leads with the staggered difference-in-differences and its report, in both
//! languages, shows the event-study chart, the cohort-means chart and the pre-trend
//! test; bad panel keys in a config stop with an error that names the key.

mod common;

use common::{pilot_dir, root, run_in, show};
use via_eval::analysis::{Privacy, Threshold};
use via_eval::config::{self, Lang};

#[test]
fn culturele_diversiteit_reports_the_design_in_both_languages() {
    let spec = config::load_slug(&root().join("pilots"), "culturele-diversiteit").unwrap();
    let r = via_eval::cli::pilot::evaluate(
        &spec,
        &root().join("notebooks-data"),
        &Default::default(),
        Privacy::Control(Threshold::default()),
    )
    .unwrap();
    // The headline of the primary outcome is Callaway & Sant'Anna's simple ATT.
    let head: Vec<_> = r
        .estimates
        .iter()
        .filter(|e| e.outcome == "share_outside_europe" && e.headline)
        .collect();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0].estimator, "cs_simple");
    assert!(head[0].p_value_adjusted.is_some() && head[0].mde.is_some());
    assert_eq!(r.summary[0].estimator, "cs_simple");
    // Event study and CS by event time carry their event time; TWFE and the pre-trend
    // test are there.
    for id in ["event_study", "cs_dynamic"] {
        assert!(
            r.estimates
                .iter()
                .any(|e| e.estimator == id && e.event_time == Some(0)),
            "{id} at event time 0"
        );
    }
    assert!(r.estimates.iter().any(|e| e.estimator == "twfe_did"));
    let pre = r
        .tests
        .iter()
        .find(|t| t.test == "pretrend_wald" && t.outcome == "share_outside_europe")
        .unwrap();
    assert!(pre.p_value > 0.0 && pre.p_value <= 1.0 && pre.df == Some(3.0));
    // The two-group comparison is still reported, not as the headline.
    assert!(
        r.estimates
            .iter()
            .any(|e| e.estimator == "risk_difference_newcombe" && !e.headline)
    );
    // No E-value on a design estimate.
    assert!(head[0].e_value.is_none());
    let json = via_eval::report::to_json(&r).unwrap();
    assert!(json.contains("\"event_time\": -2") && json.contains("\"pretrend_wald\""));

    for (lang, words) in [
        (
            Lang::En,
            [
                "Difference-in-differences",
                "Test of trends before the start (F(3, ",
                "parallel trends",
                "(descriptive)",
            ],
        ),
        (
            Lang::Nl,
            [
                "Verschil-in-verschillen",
                "Toets op trends vóór de start (F(3, ",
                "parallelle trends",
                "(beschrijvend)",
            ],
        ),
    ] {
        let files = via_eval::cli::pilot::render_outputs(&r, lang).unwrap();
        let get = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.clone())
                .unwrap_or_else(|| panic!("{name} not written ({lang:?})"))
        };
        for stem in [
            "event-study-share_outside_europe",
            "cohort-means-share_outside_europe",
        ] {
            let png = get(&format!("{stem}.png"));
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 10_000,
                "{stem}.png"
            );
            assert!(
                String::from_utf8(get(&format!("{stem}.svg")))
                    .unwrap()
                    .contains("<svg")
            );
        }
        let md = String::from_utf8(get("report.md")).unwrap();
        let html = String::from_utf8(get("report.html")).unwrap();
        for w in words {
            assert!(md.contains(w), "report.md ({lang:?}) lacks {w:?}");
            assert!(
                html.contains(&w.replace('\'', "&#39;")) || html.contains(w),
                "report.html ({lang:?}) lacks {w:?}"
            );
        }
        assert!(md.contains("](event-study-share_outside_europe.png)"));
        assert!(md.contains("](cohort-means-share_outside_europe.png)"));
    }
}

/// A small aggregated panel: 24 employers over four years, 8 joining in 2020.
fn panel_csv(first_of: impl Fn(usize) -> String) -> String {
    let mut s = String::from("employer,year,first_year,group,events,trials\n");
    for u in 0..24 {
        for t in 2019..2023 {
            let group = if u < 8 { "deelnemer" } else { "overig" };
            s.push_str(&format!(
                "e{u:02},{t},{},{group},{},{}\n",
                first_of(u),
                20 + u + (t - 2019) as usize,
                400
            ));
        }
    }
    s
}

fn panel_config(design_keys: &str) -> String {
    format!(
        r#"
slug = "mini"
title = {{ nl = "Mini", en = "Mini" }}
description = {{ nl = "Test", en = "Test" }}
unit = {{ nl = "werknemer", en = "employee" }}
[design]
kind = "panel"
cluster = "employer"
{design_keys}
[data]
file = "mini.csv"
layout = "aggregated"
[arms]
column = "group"
control = "overig"
values = [ {{ value = "deelnemer", label = {{ nl = "Deelnemer", en = "Participant" }} }}, {{ value = "overig", label = {{ nl = "Overig", en = "Other" }} }} ]
[[outcomes]]
id = "share"
events = "events"
trials = "trials"
kind = "binary"
label = {{ nl = "Aandeel", en = "Share" }}
unit = {{ nl = "procentpunt", en = "percentage points" }}
primary = true
better = "higher"
"#
    )
}

fn fails_with(config: &str, data: &str, needles: &[&str]) {
    let dir = pilot_dir(config, "mini.csv", data);
    let out_dir = dir.path().join("out");
    let out_s = out_dir.to_string_lossy().to_string();
    let args = ["pilot", "mini", "-o", &out_s, "-q"];
    let res = run_in(dir.path(), &args);
    let err = String::from_utf8_lossy(&res.stderr).to_string();
    assert!(!res.status.success(), "{}", show(&args, &res));
    assert!(
        !err.contains("panicked") && !err.contains("NaN"),
        "{}",
        show(&args, &res)
    );
    for n in needles {
        assert!(
            err.contains(n),
            "stderr lacks {n:?}:\n{}",
            show(&args, &res)
        );
    }
}

#[test]
fn a_first_treated_column_without_a_time_column_is_a_config_error() {
    let data = panel_csv(|u| if u < 8 { "2021".into() } else { "0".into() });
    fails_with(
        &panel_config(r#"first_treated = "first_year""#),
        &data,
        &[
            "mini.toml",
            "`design.first_treated` is set but `design.time` is not",
        ],
    );
    fails_with(
        &panel_config(r#"time = "year""#),
        &data,
        &["`design.time` is set but `design.first_treated` is not"],
    );
}

#[test]
fn a_time_column_missing_from_the_data_is_named() {
    let data = panel_csv(|u| if u < 8 { "2021".into() } else { "0".into() });
    fails_with(
        &panel_config("time = \"jaar\"\nfirst_treated = \"first_year\""),
        &data,
        &["jaar"],
    );
}

#[test]
fn a_first_treated_column_with_text_is_a_data_error_naming_the_key() {
    let data = panel_csv(|u| {
        if u < 8 {
            "from 2021".into()
        } else {
            "0".into()
        }
    });
    fails_with(
        &panel_config("time = \"year\"\nfirst_treated = \"first_year\""),
        &data,
        &["first_year", "`design.first_treated`", "holds text"],
    );
}

#[test]
fn a_small_panel_runs_and_leads_with_the_design() {
    let data = panel_csv(|u| if u < 8 { "2021".into() } else { "0".into() });
    let dir = pilot_dir(
        &panel_config("time = \"year\"\nfirst_treated = \"first_year\""),
        "mini.csv",
        data,
    );
    let out_dir = dir.path().join("out");
    let out_s = out_dir.to_string_lossy().to_string();
    let args = ["pilot", "mini", "-o", &out_s, "-q", "--lang", "nl"];
    let res = run_in(dir.path(), &args);
    assert!(res.status.success(), "{}", show(&args, &res));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("results.json")).unwrap()).unwrap();
    let head: Vec<_> = json["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["headline"] == true)
        .collect();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0]["estimator"], "cs_simple");
    // 8 participating employers: fewer than the threshold of 10, so the Callaway &
    // Sant'Anna cells are withheld (numbers null, not zero).
    assert_eq!(head[0]["suppressed"], true);
    assert!(head[0]["estimate"].is_null());
    assert!(out_dir.join("event-study-share.png").exists());
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("onderdrukt"));
}

#[test]
fn werving_en_selectie_reports_the_interrupted_time_series_in_both_languages() {
    let spec = config::load_slug(&root().join("pilots"), "werving-en-selectie").unwrap();
    let r = via_eval::cli::pilot::evaluate(
        &spec,
        &root().join("notebooks-data"),
        &Default::default(),
        Privacy::Control(Threshold::default()),
    )
    .unwrap();
    let head: Vec<_> = r
        .estimates
        .iter()
        .filter(|e| e.outcome == "invited" && e.headline)
        .collect();
    assert_eq!(head.len(), 1);
    assert_eq!(head[0].estimator, "its_level");
    assert_eq!(head[0].se_type.as_deref(), Some("CR2"));
    assert_eq!(head[0].n_clusters, Some(19));
    assert!(r.estimates.iter().any(|e| e.estimator == "its_slope"));
    assert!(
        r.estimates
            .iter()
            .any(|e| e.estimator == "ols_adjusted" && e.outcome == "invited" && !e.headline)
    );
    for (lang, words) in [
        (
            Lang::En,
            [
                "Interrupted time series",
                "trend before the start would have continued",
                "(descriptive)",
            ],
        ),
        (
            Lang::Nl,
            [
                "Onderbroken tijdreeks",
                "trend van vóór de start doorgegaan",
                "(beschrijvend)",
            ],
        ),
    ] {
        let files = via_eval::cli::pilot::render_outputs(&r, lang).unwrap();
        let md = files
            .iter()
            .find(|(n, _)| n == "report.md")
            .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
            .unwrap();
        for w in words {
            assert!(md.contains(w), "report.md ({lang:?}) lacks {w:?}");
        }
        assert!(md.contains("](its-invited.png)"));
        let png = &files
            .iter()
            .find(|(n, _)| n == "its-invited.png")
            .unwrap()
            .1;
        assert!(png.starts_with(b"\x89PNG"));
    }
}

#[test]
fn a_before_after_time_column_without_a_start_is_a_config_error() {
    let text = std::fs::read_to_string(root().join("pilots/werving-en-selectie.toml"))
        .unwrap()
        .replace("start = 13\n", "");
    let err = via_eval::config::PilotSpec::from_toml(
        &text,
        std::path::Path::new("pilots/werving-en-selectie.toml"),
    )
    .unwrap_err()
    .report();
    assert!(
        err.contains("`design.time` is set but `design.start` is not"),
        "{err}"
    );
    let text = std::fs::read_to_string(root().join("pilots/werving-en-selectie.toml"))
        .unwrap()
        .replace("time = \"month\"\n", "first_treated = \"month\"\n");
    let err = via_eval::config::PilotSpec::from_toml(
        &text,
        std::path::Path::new("pilots/werving-en-selectie.toml"),
    )
    .unwrap_err()
    .report();
    assert!(
        err.contains("`design.first_treated` is for a panel design"),
        "{err}"
    );
}
