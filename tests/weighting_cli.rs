//! `via-eval compare --estimator ipw|overlap|entropy` on the observational Lalonde
//! sample (NSW treated + PSID comparison, tests/fixtures/data/lalonde_psid.csv): the
//! JSON rows against the reference fixture, balance and E-values, disclosure control
//! of the balance table, and bad input (notes that say what to do, never NaN).

use serde_json::Value;

mod common;
use common::{assert_close, root, run_in, show};

const COVS: &str = "age,educ,black,hispan,married,nodegree,re74,re75";

fn compare(extra: &[&str]) -> (Value, String) {
    let data = root().join("tests/fixtures/data/lalonde_psid.csv");
    let data = data.to_str().unwrap();
    let mut args = vec![
        "compare",
        data,
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "re78,employed78",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = run_in(&root(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let text = String::from_utf8(out.stdout).unwrap();
    (serde_json::from_str(&text).unwrap(), text)
}

fn reference() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(
            root().join("tests/fixtures/reference/weighting_lalonde_psid.json"),
        )
        .unwrap(),
    )
    .unwrap()
}

fn row<'a>(r: &'a Value, outcome: &str, estimator: &str) -> &'a Value {
    r["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == outcome && e["estimator"] == estimator)
        .unwrap_or_else(|| panic!("no {estimator} row for {outcome}"))
}

#[test]
fn weighting_rows_match_the_reference_and_lead() {
    let want = reference();
    for (flag, id, se) in [
        ("ipw", "ipw_att", "stacked"),
        ("overlap", "overlap_ato", "HC2"),
        ("entropy", "entropy_att", "HC2"),
    ] {
        let (r, text) = compare(&["--covariates", COVS, "--estimator", flag]);
        assert!(!text.contains("NaN"));
        for outcome in ["re78", "employed78"] {
            let e = row(&r, outcome, id);
            let w = &want["methods"][id]["outcomes"][outcome][se];
            for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
                assert_close(
                    &format!("{id} {outcome} {k}"),
                    e[k].as_f64().unwrap(),
                    w[k].as_f64().unwrap(),
                );
            }
            assert_eq!(e["headline"], true, "{id} leads");
            let se_type = e["se_type"].as_str().unwrap();
            assert!(
                se_type.contains(if se == "stacked" {
                    "M-estimation"
                } else {
                    "weights fixed"
                }),
                "{se_type}"
            );
            let bal = e["balance"].as_array().unwrap();
            assert_eq!(bal.len(), 8);
            for (b, wb) in bal
                .iter()
                .zip(want["methods"][id]["balance"].as_array().unwrap())
            {
                assert_eq!(b["covariate"], wb["covariate"]);
                for k in [
                    "smd_before",
                    "variance_ratio_before",
                    "variance_ratio_after",
                    "mean_control",
                ] {
                    assert_close(
                        &format!("{id} {k}"),
                        b[k].as_f64().unwrap(),
                        wb[k].as_f64().unwrap(),
                    );
                }
                assert!(b["smd_after"].is_number() && b["mean_treated"].is_number());
            }
            let ess = &e["effective_n"];
            assert_close(
                "ess control",
                ess["control"].as_f64().unwrap(),
                want["methods"][id]["effective_n_control"].as_f64().unwrap(),
            );
            let ev = e["e_value"].as_f64().unwrap();
            let evc = e["e_value_ci"].as_f64().unwrap();
            assert!(ev >= 1.0 && evc >= 1.0 && evc <= ev, "{ev} {evc}");
        }
    }
    // AIPW: the doubly robust estimate with the stacked sandwich, IPW's balance.
    let (r, text) = compare(&["--covariates", COVS, "--estimator", "aipw"]);
    assert!(!text.contains("NaN"));
    for outcome in ["re78", "employed78"] {
        let e = row(&r, outcome, "aipw_att");
        let w = &want["aipw_att"][outcome];
        for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            assert_close(
                &format!("aipw {outcome} {k}"),
                e[k].as_f64().unwrap(),
                w[k].as_f64().unwrap(),
            );
        }
        assert_eq!(e["headline"], true);
        assert!(e["se_type"].as_str().unwrap().contains("M-estimation"));
        assert_eq!(e["balance"].as_array().unwrap().len(), 8);
    }
    // The E-values of IPW against the fixture's conversions.
    let (r, _) = compare(&["--covariates", COVS, "--estimator", "ipw"]);
    let evs = want["e_values"].as_array().unwrap();
    let sd = evs
        .iter()
        .find(|v| v["kind"] == "standardised_difference")
        .unwrap();
    assert_close(
        "e-value re78",
        row(&r, "re78", "ipw_att")["e_value"].as_f64().unwrap(),
        sd["e_value"].as_f64().unwrap(),
    );
    let rd = evs.iter().find(|v| v["kind"] == "risk_difference").unwrap();
    assert_close(
        "e-value employed78",
        row(&r, "employed78", "ipw_att")["e_value"]
            .as_f64()
            .unwrap(),
        rd["e_value"].as_f64().unwrap(),
    );
}

#[test]
fn table_shows_balance_and_other_estimators_are_unchanged() {
    let data = root().join("tests/fixtures/data/lalonde_psid.csv");
    let args = [
        "compare",
        data.to_str().unwrap(),
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "re78",
        "--covariates",
        COVS,
        "--estimator",
        "entropy",
    ];
    let out = run_in(&root(), &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", show(&args, &out));
    assert!(
        text.contains("Balance, weighted (entropy balancing"),
        "{text}"
    );
    assert!(text.contains("SD of the treated (unweighted)"), "{text}");
    assert!(text.contains("Effective sample size (Kish)"), "{text}");
    assert!(text.contains("E-value re78"), "{text}");
    // Without a weighting estimator no estimate carries balance fields (the top-level
    // `balance` is the baseline table every person-level comparison has).
    let (r, text) = compare(&["--covariates", COVS]);
    assert!(!text.contains("e_value"));
    assert!(
        r["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("balance").is_none() && e.get("effective_n").is_none())
    );
    assert!(
        r["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["estimator"] != "ipw_att")
    );
}

#[test]
fn disclosure_withholds_small_shares_of_binary_covariates() {
    // 11 of the 185 treated are Hispanic: with a threshold of 12 that share is withheld.
    let (r, text) = compare(&[
        "--covariates",
        COVS,
        "--estimator",
        "ipw",
        "--disclosure-threshold",
        "12",
    ]);
    assert!(!text.contains("NaN"));
    let e = row(&r, "re78", "ipw_att");
    let hispan = e["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["covariate"] == "hispan")
        .unwrap();
    assert!(hispan["mean_treated"].is_null(), "{hispan}");
    assert!(hispan["mean_control"].is_number());
    let age = e["balance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["covariate"] == "age")
        .unwrap();
    assert!(age["mean_treated"].is_number());
}

#[test]
fn bad_input_gives_notes_never_nan() {
    // No covariates.
    let (r, text) = compare(&["--estimator", "ipw"]);
    assert!(
        text.contains("ipw_att needs covariates") && text.contains("--covariates"),
        "{text}"
    );
    assert!(!text.contains("NaN"));
    assert!(
        r["estimates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["estimator"] != "ipw_att")
    );
    // A covariate equal to the arm: refused before the analysis, naming it.
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(root().join("tests/fixtures/data/lalonde_psid.csv")).unwrap();
    let mut lines = src.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut csv = format!("{header},joined\n");
    for l in &rows {
        csv.push_str(&format!("{l},{}\n", &l[..1]));
    }
    let same = dir.path().join("same.csv");
    std::fs::write(&same, csv).unwrap();
    let args = [
        "compare",
        same.to_str().unwrap(),
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "re78",
        "--covariates",
        "age,joined",
        "--estimator",
        "ipw",
    ];
    let out = run_in(dir.path(), &args);
    assert!(!out.status.success(), "{}", show(&args, &out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"joined\""));
    // Quasi-complete separation: a level only some treated units have (the first 20).
    let mut csv = format!("{header},joined\n");
    for (i, l) in rows.iter().enumerate() {
        csv.push_str(&format!("{l},{}\n", u8::from(i < 20 && l.starts_with('1'))));
    }
    let path = dir.path().join("sep.csv");
    std::fs::write(&path, csv).unwrap();
    for est in ["ipw", "overlap", "entropy"] {
        let args = [
            "compare",
            path.to_str().unwrap(),
            "--treatment",
            "treat",
            "--treated",
            "1",
            "--outcome",
            "re78",
            "--covariates",
            "age,joined",
            "--estimator",
            est,
            "--format",
            "json",
        ];
        let out = run_in(dir.path(), &args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", show(&args, &out));
        assert!(!text.contains("NaN"), "{text}");
        assert!(
            text.contains("not estimable") && text.contains("\"joined\""),
            "{est}: {text}"
        );
    }
}

#[test]
fn out_writes_love_and_overlap_charts_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("tests/fixtures/data/lalonde_psid.csv");
    let out_dir = dir.path().join("charts");
    let args = [
        "compare",
        data.to_str().unwrap(),
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "re78,employed78",
        "--covariates",
        COVS,
        "--estimator",
        "ipw",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    for kind in ["love", "overlap"] {
        for lang in ["nl", "en"] {
            let png = std::fs::read(out_dir.join(format!("{kind}_ipw_att_1_{lang}.png"))).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert!(
                png.len() > 10_000,
                "{kind} {lang}: a drawn chart, not a blank one"
            );
        }
    }
    let svg = |n: &str| std::fs::read_to_string(out_dir.join(n)).unwrap();
    assert!(svg("love_ipw_att_1_en.svg").contains("Before weighting"));
    assert!(svg("love_ipw_att_1_nl.svg").contains("Voor weging"));
    assert!(svg("love_ipw_att_1_en.svg").contains("re74"));
    assert!(svg("overlap_ipw_att_1_nl.svg").contains("Propensityscore"));
    assert!(svg("overlap_ipw_att_1_en.svg").contains("Share of the group"));
    // Entropy balancing has no propensity score of its own: the overlap chart shows
    // one fitted on the same covariates for the diagnostics only.
    let out_dir = dir.path().join("entropy");
    let args = [
        "compare",
        data.to_str().unwrap(),
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "re78",
        "--covariates",
        COVS,
        "--estimator",
        "entropy",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 8);
    assert!(out_dir.join("overlap_entropy_att_1_en.svg").exists());
}

#[test]
fn propensity_bins_are_protected() {
    let (r, _) = compare(&["--covariates", COVS, "--estimator", "overlap"]);
    let e = row(&r, "re78", "overlap_ato");
    let pb = &e["propensity_bins"];
    assert_eq!(pb["edges"].as_array().unwrap().len(), 21);
    for arm in ["treated", "control"] {
        let c = pb[arm].as_array().unwrap();
        assert_eq!(c.len(), 20);
        // No published count of 1 to 9 persons; never exactly one withheld bin.
        assert!(
            c.iter()
                .all(|v| v.is_null() || v.as_u64().is_some_and(|n| n == 0 || n >= 10))
        );
        assert_ne!(c.iter().filter(|v| v.is_null()).count(), 1);
    }
    // 8 treated persons lie outside the comparison group's range: withheld at 10.
    assert!(pb["treated_outside_support"].is_null());
    let (r, _) = compare(&[
        "--covariates",
        COVS,
        "--estimator",
        "overlap",
        "--disclosure-threshold",
        "5",
    ]);
    let pb = &row(&r, "re78", "overlap_ato")["propensity_bins"];
    assert_eq!(pb["treated_outside_support"], 8);
    let total: u64 = pb["control"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_u64())
        .sum();
    assert!(total <= 429);
    // Without disclosure control every count is there and they sum to the arm sizes.
    let (r, text) = compare(&[
        "--covariates",
        COVS,
        "--estimator",
        "overlap",
        "--no-disclosure-control",
    ]);
    assert!(!text.contains("NaN"));
    let pb = &row(&r, "re78", "overlap_ato")["propensity_bins"];
    let sum = |arm: &str| -> u64 {
        pb[arm]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum()
    };
    assert_eq!((sum("treated"), sum("control")), (185, 429));
}

#[test]
fn matching_with_ratio_replace_and_caliper() {
    let want = reference();
    for case in want["matching"].as_array().unwrap() {
        let ratio = case["ratio"].to_string();
        let mut extra = vec![
            "--covariates",
            COVS,
            "--estimator",
            "matching",
            "--ratio",
            &ratio,
        ];
        if case["replace"].as_bool().unwrap() {
            extra.push("--replace");
        }
        let caliper = case["caliper"].as_f64().map(|c| c.to_string());
        if let Some(c) = &caliper {
            extra.extend(["--caliper", c]);
        }
        if let Some(col) = case["exact"].as_str() {
            extra.extend(["--exact", col]);
        }
        let (r, text) = compare(&extra);
        assert!(!text.contains("NaN"));
        let e = row(&r, "re78", "matching_att");
        assert_close(
            &format!("matching {extra:?}"),
            e["estimate"].as_f64().unwrap(),
            case["difference_re78"].as_f64().unwrap(),
        );
        assert_eq!(e["headline"], true);
        let unmatched = case["unmatched_treated"].as_u64().unwrap();
        assert_eq!(e["n_treated"].as_u64().unwrap(), 185 - unmatched);
        let se = e["se_type"].as_str().unwrap();
        if case["replace"].as_bool().unwrap() {
            assert!(se.starts_with("HC2"), "{se}");
        } else {
            assert!(se.starts_with("CR1 by matched set"), "{se}");
            assert_eq!(e["df_rule"], "G - 1");
        }
        assert_eq!(
            text.contains("no comparison unit within the caliper"),
            unmatched > 0
        );
    }
    // A caliper that is not a positive number is a usage error.
    let data = root().join("tests/fixtures/data/lalonde_psid.csv");
    let args = [
        "compare",
        data.to_str().unwrap(),
        "--treatment",
        "treat",
        "--treated",
        "1",
        "--outcome",
        "re78",
        "--covariates",
        COVS,
        "--estimator",
        "matching",
        "--caliper",
        "0",
    ];
    let out = run_in(&root(), &args);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--caliper"),
        "{}",
        show(&args, &out)
    );
}

#[test]
fn clusters_give_cluster_robust_weighting_standard_errors() {
    let (r, text) = compare(&[
        "--covariates",
        "educ,black,hispan,married,nodegree,re74,re75",
        "--cluster",
        "age",
        "--estimator",
        "ipw",
    ]);
    assert!(!text.contains("NaN"));
    let e = row(&r, "re78", "ipw_att");
    assert_eq!(
        e["se_type"],
        "M-estimation by cluster (propensity score estimated)"
    );
    assert_eq!(e["df_rule"], "G - 1");
    assert_eq!(e["df"].as_f64().unwrap(), 39.0);
    let (r, _) = compare(&[
        "--covariates",
        "educ,black,hispan,married,nodegree,re74,re75",
        "--cluster",
        "age",
        "--estimator",
        "entropy",
    ]);
    let e = row(&r, "re78", "entropy_att");
    assert_eq!(e["se_type"], "CR2 (weights fixed)");
    assert_eq!(e["df_rule"], "Bell-McCaffrey");
}

/// `--exact married`: matching within the value of a column, from the command line,
/// against the brute-force reference (make_weighting_fixtures.py); and its bad uses.
#[test]
fn exact_matching_from_the_command_line() {
    let want = reference();
    let case = want["matching"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["exact"] == "married")
        .unwrap();
    let (r, _) = compare(&[
        "--covariates",
        COVS,
        "--estimator",
        "matching",
        "--exact",
        "married",
    ]);
    let e = row(&r, "re78", "matching_att");
    assert_close(
        "exact matching on married, re78",
        e["estimate"].as_f64().unwrap(),
        case["difference_re78"].as_f64().unwrap(),
    );
    // Without --exact the match (and the estimate) differs.
    let (plain, _) = compare(&["--covariates", COVS, "--estimator", "matching"]);
    let p = row(&plain, "re78", "matching_att")["estimate"]
        .as_f64()
        .unwrap();
    assert!((p - e["estimate"].as_f64().unwrap()).abs() > 1.0);
    let data = root().join("tests/fixtures/data/lalonde_psid.csv");
    let data = data.to_str().unwrap();
    for (extra, needle) in [
        (
            vec!["--exact", "married"],
            "--exact applies to --estimator matching",
        ),
        (
            vec!["--estimator", "matching", "--exact", "no_such_column"],
            "no_such_column",
        ),
    ] {
        let mut args = vec![
            "compare",
            data,
            "--treatment",
            "treat",
            "--treated",
            "1",
            "--outcome",
            "re78",
            "--covariates",
            COVS,
        ];
        args.extend(extra);
        let out = run_in(&root(), &args);
        assert!(!out.status.success(), "{}", show(&args, &out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{}", show(&args, &out));
        assert!(!err.contains("panicked"));
    }
}

/// `--exact` on a column that no other flag names: compare reads it too (it used to
/// load only the columns of the other flags and stop with "no column married").
#[test]
fn exact_matching_on_a_column_named_nowhere_else() {
    let (r, text) = compare(&[
        "--covariates",
        "age,educ,black,hispan,nodegree,re74,re75",
        "--estimator",
        "matching",
        "--exact",
        "married",
    ]);
    let e = row(&r, "re78", "matching_att");
    assert!(e["estimate"].as_f64().unwrap().is_finite(), "{text}");
    assert_eq!(e["headline"], true);
    // Matching within married differs from matching across it.
    let (plain, _) = compare(&[
        "--covariates",
        "age,educ,black,hispan,nodegree,re74,re75",
        "--estimator",
        "matching",
    ]);
    let p = row(&plain, "re78", "matching_att")["estimate"]
        .as_f64()
        .unwrap();
    assert_ne!(p, e["estimate"].as_f64().unwrap());
}
