//! The analysis plan on small in-memory data: aggregated counts give the same answer
//! as the person rows they summarise; three arms each meet the control; headline and
//! design rules hold.

use polars::prelude::*;
use std::path::Path;
use via_eval::analysis::{self, Options, PilotResults, Privacy};
use via_eval::config::PilotSpec;
use via_eval::data::Frame;
use via_eval::prepare::prepare;

fn spec(text: &str, name: &str) -> PilotSpec {
    PilotSpec::from_toml(text, Path::new(&format!("pilots/{name}.toml"))).unwrap()
}

const HEAD: &str = r#"
title = { nl = "T", en = "T" }
description = { nl = "d", en = "d" }
unit = { nl = "werknemer", en = "employee" }
[arms]
column = "arm"
control = "other"
values = [ { value = "other", label = { nl = "Overig", en = "Other" } }, { value = "part", label = { nl = "Deelnemer", en = "Participant" } } ]
"#;

/// Employer-level counts: (arm, employer, events, trials).
const EMPLOYERS: &[(&str, &str, i64, i64)] = &[
    ("part", "e1", 12, 40),
    ("part", "e2", 30, 55),
    ("part", "e3", 8, 31),
    ("part", "e4", 21, 47),
    ("other", "e5", 10, 52),
    ("other", "e6", 14, 38),
    ("other", "e7", 5, 44),
    ("other", "e8", 17, 60),
];

fn aggregated_results() -> PilotResults {
    let text = format!(
        "slug = \"agg\"\n{HEAD}\n[design]\nkind = \"panel\"\ncluster = \"employer\"\n[data]\nfile = \"agg.csv\"\nlayout = \"aggregated\"\n[[outcomes]]\nid = \"share\"\nevents = \"outside_europe\"\ntrials = \"total\"\nkind = \"binary\"\nlabel = {{ nl = \"A\", en = \"A\" }}\nunit = {{ nl = \"pp\", en = \"pp\" }}\nbetter = \"higher\"\n"
    );
    let s = spec(&text, "agg");
    let df = df!(
        "arm" => EMPLOYERS.iter().map(|r| r.0).collect::<Vec<_>>(),
        "employer" => EMPLOYERS.iter().map(|r| r.1).collect::<Vec<_>>(),
        "outside_europe" => EMPLOYERS.iter().map(|r| r.2).collect::<Vec<_>>(),
        "total" => EMPLOYERS.iter().map(|r| r.3).collect::<Vec<_>>(),
    )
    .unwrap();
    analysis::run(
        &s,
        &prepare(&s, &Frame::from_frame(df, Path::new("agg.csv")))
            .unwrap()
            .input,
        &Options::default(),
        Privacy::Off,
    )
    .unwrap()
}

fn person_results() -> PilotResults {
    let text = format!(
        "slug = \"persons\"\n{HEAD}\n[design]\nkind = \"panel\"\ncluster = \"employer\"\n[data]\nfile = \"persons.csv\"\n[[outcomes]]\nid = \"share\"\ncolumn = \"outside_europe\"\nkind = \"binary\"\nlabel = {{ nl = \"A\", en = \"A\" }}\nunit = {{ nl = \"pp\", en = \"pp\" }}\nbetter = \"higher\"\n"
    );
    let s = spec(&text, "persons");
    let (mut arm, mut emp, mut y) = (Vec::new(), Vec::new(), Vec::new());
    // Persons listed in a different order from the counts: zeros first.
    for &(a, e, ev, tr) in EMPLOYERS.iter().rev() {
        for i in 0..tr {
            arm.push(a);
            emp.push(e);
            y.push(i64::from(i >= tr - ev));
        }
    }
    let df = df!("arm" => arm, "employer" => emp, "outside_europe" => y).unwrap();
    analysis::run(
        &s,
        &prepare(&s, &Frame::from_frame(df, Path::new("persons.csv")))
            .unwrap()
            .input,
        &Options::default(),
        Privacy::Off,
    )
    .unwrap()
}

#[test]
fn aggregated_counts_equal_the_person_rows_they_summarise() {
    let a = aggregated_results();
    let p = person_results();
    assert_eq!(a.estimates.len(), p.estimates.len());
    assert!(a.estimates.len() >= 4);
    for (x, y) in a.estimates.iter().zip(&p.estimates) {
        assert_eq!(x.estimator, y.estimator);
        for (u, v) in [
            (x.estimate, y.estimate),
            (x.std_error, y.std_error),
            (x.ci_low, y.ci_low),
            (x.ci_high, y.ci_high),
            (x.p_value, y.p_value),
        ] {
            let same = (u.is_nan() && v.is_nan()) || (u - v).abs() <= 1e-12 * (1.0 + v.abs());
            assert!(same, "{}: {u} vs {v}", x.estimator);
        }
        assert_eq!((x.n_treated, x.n_control), (y.n_treated, y.n_control));
    }
    assert_eq!(a.n_units, Some(367));
    // Tests too: chi-square, Fisher, and the wild cluster bootstrap (8 clusters, Webb
    // weights drawn per cluster in sorted label order, so the row order is irrelevant).
    assert_eq!(a.tests.len(), p.tests.len());
    for (x, y) in a.tests.iter().zip(&p.tests) {
        assert_eq!(x.test, y.test);
        assert!(
            (x.p_value - y.p_value).abs() < 1e-12,
            "{}: {} vs {} ({:?} vs {:?})",
            x.test,
            x.p_value,
            y.p_value,
            x.detail,
            y.detail
        );
    }
    assert!(
        a.tests.iter().any(|t| t.test == "wild_cluster_bootstrap"
            && t.reps == Some(9_999)
            && t.seed.is_some())
    );
    // Tests too: chi-square, Fisher, and the wild cluster bootstrap (8 clusters, Webb
    // weights drawn per cluster in sorted label order, so the row order is irrelevant).
    assert_eq!(a.tests.len(), p.tests.len());
    for (x, y) in a.tests.iter().zip(&p.tests) {
        assert_eq!(x.test, y.test);
        assert!(
            (x.p_value - y.p_value).abs() < 1e-12,
            "{}: {} vs {} ({:?} vs {:?})",
            x.test,
            x.p_value,
            y.p_value,
            x.detail,
            y.detail
        );
    }
    assert!(
        a.tests.iter().any(|t| t.test == "wild_cluster_bootstrap"
            && t.reps == Some(9_999)
            && t.seed.is_some())
    );
    // Clustered design: the headline is the cluster-robust difference with 8 clusters.
    let h = a.estimates.iter().find(|e| e.headline).unwrap();
    assert_eq!(
        (h.estimator.as_str(), h.se_type.as_deref(), h.n_clusters),
        ("ols", Some("CR2"), Some(8))
    );
    assert!(h.df.unwrap() < 7.0, "Bell-McCaffrey df below G - 1");
}

#[test]
fn three_arms_are_each_compared_with_the_control() {
    let text = r#"
slug = "three"
title = { nl = "T", en = "T" }
description = { nl = "d", en = "d" }
unit = { nl = "p", en = "p" }
[design]
kind = "individually-randomised"
[data]
file = "three.csv"
[arms]
column = "arm"
control = "basis"
values = [ { value = "persoonlijk", label = { nl = "P", en = "P" } }, { value = "handhaving", label = { nl = "H", en = "H" } }, { value = "basis", label = { nl = "B", en = "B" } } ]
[[outcomes]]
id = "days"
column = "days"
kind = "continuous"
label = { nl = "D", en = "D" }
unit = { nl = "dagen", en = "days" }
better = "lower"
"#;
    let s = spec(text, "three");
    let arms = ["persoonlijk", "handhaving", "basis"];
    let arm: Vec<&str> = (0..60).map(|i| arms[i % 3]).collect();
    let days: Vec<f64> = (0..60)
        .map(|i| 100.0 + (i * 13 % 17) as f64 - if i % 3 == 0 { 8.0 } else { 0.0 })
        .collect();
    let df = df!("arm" => arm, "days" => days).unwrap();
    let r = analysis::run(
        &s,
        &prepare(&s, &Frame::from_frame(df, Path::new("three.csv")))
            .unwrap()
            .input,
        &Options::default(),
        Privacy::Off,
    )
    .unwrap();
    let heads: Vec<(&str, &str)> = r
        .estimates
        .iter()
        .filter(|e| e.headline)
        .map(|e| (e.comparison.as_str(), e.estimator.as_str()))
        .collect();
    assert_eq!(
        heads,
        [
            ("persoonlijk vs basis", "welch"),
            ("handhaving vs basis", "welch")
        ]
    );
    // Beside the raw difference: Cohen's d and Hedges' g for each comparison.
    assert_eq!(
        r.estimates
            .iter()
            .filter(|e| e.estimator == "hedges_g")
            .count(),
        2
    );
    // Both headline p-values are adjusted together (Holm, the default).
    assert!(
        r.estimates
            .iter()
            .filter(|e| e.headline)
            .all(|e| e.p_value_adjusted.unwrap() >= e.p_value)
    );
    assert_eq!(r.arm_summaries.len(), 3);
}
