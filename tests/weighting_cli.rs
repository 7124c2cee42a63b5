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
    // Without a weighting estimator no balance fields appear.
    let (r, text) = compare(&["--covariates", COVS]);
    assert!(!text.contains("\"balance\"") && !text.contains("e_value"));
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
