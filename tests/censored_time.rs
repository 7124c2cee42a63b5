//! Issue 20: outcomes read off a censored time are estimated censoring-aware
//! (`from_time`), and the Cox model adjusted for covariates estimates the conditional
//! hazard ratio. Each on synthetic data with a known truth where the naive estimate
//! (complete cases; the unadjusted Cox model) is shown to miss it.

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use via_eval::analysis::{self, EstimateRow, Options, PilotResults, Privacy};
use via_eval::config::PilotSpec;
use via_eval::data::Frame;
use via_eval::prepare::prepare;
use via_eval::stats::survival::{CiTransform, cox_ph, kaplan_meier};

const HEAD: &str = r#"
title = { nl = "T", en = "T" }
description = { nl = "d", en = "d" }
unit = { nl = "persoon", en = "person" }
[arms]
column = "arm"
control = "c"
values = [ { value = "c", label = { nl = "Controle", en = "Control" } }, { value = "t", label = { nl = "Behandeld", en = "Treated" } } ]
[data]
file = "x.csv"
[[outcomes]]
id = "months"
column = "months"
event = "found"
kind = "time-to-event"
label = { nl = "Maanden", en = "Months" }
unit = { nl = "maanden", en = "months" }
better = "lower"
horizon = 24
"#;

/// A derived outcome's block: `work_by` (binary, event by 12) or `days` (min(T, 24) x 30).
fn derived(declared: bool) -> String {
    let ft = |s: &str| {
        if declared {
            format!("{s}\n")
        } else {
            String::new()
        }
    };
    format!(
        "[[outcomes]]\nid = \"work_by\"\ncolumn = \"work_by\"\nkind = \"binary\"\nprimary = true\nlabel = {{ nl = \"W\", en = \"W\" }}\nunit = {{ nl = \"pp\", en = \"pp\" }}\nbetter = \"higher\"\n{}[[outcomes]]\nid = \"days\"\ncolumn = \"days\"\nkind = \"count\"\nlabel = {{ nl = \"D\", en = \"D\" }}\nunit = {{ nl = \"dagen\", en = \"days\" }}\nbetter = \"lower\"\n{}",
        ft("from_time = { outcome = \"months\", by = 12 }"),
        ft("from_time = { outcome = \"months\", by = 24, per_time_unit = 30 }"),
    )
}

fn spec(design: &str, extra: &str) -> PilotSpec {
    let text = format!("slug = \"x\"\n{HEAD}\n[design]\nkind = \"{design}\"\n{extra}");
    PilotSpec::from_toml(&text, Path::new("pilots/x.toml")).unwrap()
}

fn run(spec: &PilotSpec, df: DataFrame) -> PilotResults {
    let input = prepare(spec, &Frame::from_frame(df, Path::new("x.csv")))
        .unwrap()
        .input;
    analysis::run(spec, &input, &Options::default(), Privacy::Off).unwrap()
}

fn row<'a>(r: &'a PilotResults, outcome: &str, estimator: &str) -> &'a EstimateRow {
    r.estimates
        .iter()
        .find(|e| e.outcome == outcome && e.estimator == estimator)
        .unwrap_or_else(|| panic!("no {estimator} for {outcome}"))
}

/// Exponential times (hazard 0.05 per month under control, x 1.5 treated), heavy
/// dropout (hazard 0.04) and 24 months of follow-up, randomised 1:1.
struct Censored {
    df: DataFrame,
    /// True P(T <= 12) treated minus control, and true E[min(T, 24)] x 30 difference.
    truth_share: f64,
    truth_days: f64,
}

fn censored_data(n: usize, seed: u64) -> Censored {
    let (h0, hr, drop) = (0.05_f64, 1.5_f64, 0.04_f64);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let exp = |rng: &mut ChaCha8Rng, rate: f64| -(1.0 - rng.random::<f64>()).ln() / rate;
    let (mut arm, mut months, mut found, mut work, mut days) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let treated = i % 2 == 1;
        let h = if treated { h0 * hr } else { h0 };
        let t = exp(&mut rng, h);
        let c = exp(&mut rng, drop).min(24.0);
        arm.push(if treated { "t" } else { "c" });
        months.push(t.min(c));
        found.push(i64::from(t <= c));
        // Known when the event came first, or follow-up reached the horizon.
        work.push(if t <= 12.0 {
            (t <= c).then_some(1i64)
        } else {
            (c >= 12.0).then_some(0)
        });
        days.push(if t <= 24.0 {
            (t <= c).then_some((t * 30.0).round())
        } else {
            (c >= 24.0).then_some(24.0 * 30.0)
        });
    }
    let share = |h: f64| 1.0 - (-h * 12.0).exp();
    let rmst = |h: f64| (1.0 - (-h * 24.0).exp()) / h;
    Censored {
        df: df!("arm" => arm, "months" => months, "found" => found, "work_by" => work, "days" => days)
            .unwrap(),
        truth_share: share(h0 * hr) - share(h0),
        truth_days: 30.0 * (rmst(h0 * hr) - rmst(h0)),
    }
}

#[test]
fn censored_time_outcomes_recover_their_truth_where_complete_cases_do_not() {
    let d = censored_data(40_000, 11);
    let r = run(&spec("individually-randomised", &derived(true)), d.df);
    let km = row(&r, "work_by", "km_risk_difference");
    let rm = row(&r, "days", "rmst_difference");
    assert!(km.headline && rm.headline);
    for (e, truth) in [(km, d.truth_share), (rm, d.truth_days)] {
        let z = (e.estimate - truth) / e.std_error;
        assert!(
            z.abs() < 4.0,
            "{}: {} vs truth {truth}",
            e.outcome,
            e.estimate
        );
        assert!(e.ci_low < e.estimate && e.estimate < e.ci_high);
    }
    // No complete-case effect is reported for a declared outcome.
    assert!(
        r.estimates
            .iter()
            .filter(|e| e.outcome == "work_by" || e.outcome == "days")
            .all(|e| e.estimator == "km_risk_difference" || e.estimator == "rmst_difference")
    );
    // The same data read as complete cases miss the truth by far.
    let d = censored_data(40_000, 11);
    let naive = run(&spec("individually-randomised", &derived(false)), d.df);
    let cc = row(&naive, "days", "welch");
    assert!(
        ((cc.estimate - d.truth_days) / cc.std_error).abs() > 3.0
            && !(cc.ci_low <= d.truth_days && d.truth_days <= cc.ci_high),
        "complete cases: {} vs truth {}",
        cc.estimate,
        d.truth_days
    );
    // ... and the analysis says why.
    assert!(
        naive
            .notes
            .iter()
            .any(|n| n.outcome.as_deref() == Some("days") && n.text.en.contains("from_time"))
    );
}

#[test]
fn the_kaplan_meier_difference_is_read_off_the_curves() {
    let d = censored_data(3_000, 5);
    let df = d.df.clone();
    let r = run(&spec("individually-randomised", &derived(true)), d.df);
    let time: Vec<f64> = df
        .column("months")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let event: Vec<bool> = df
        .column("found")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .map(|e| e == 1)
        .collect();
    let arms: Vec<String> = df
        .column("arm")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|a| a.unwrap().to_string())
        .collect();
    let group: Vec<u32> = arms.iter().map(|a| u32::from(a == "t")).collect();
    let curves = kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
    let at = |g: usize| curves[g].at_times(&[12.0]).unwrap()[0];
    let (c, t) = (at(0), at(1));
    let km = row(&r, "work_by", "km_risk_difference");
    assert!((km.estimate - ((1.0 - t.survival) - (1.0 - c.survival))).abs() < 1e-12);
    assert!((km.std_error - t.std_error.hypot(c.std_error)).abs() < 1e-12);
    let rm = row(&r, "days", "rmst_difference");
    let rmst = |g: usize| curves[g].rmst(24.0, 0.95).unwrap();
    assert!((rm.estimate - 30.0 * (rmst(1).estimate - rmst(0).estimate)).abs() < 1e-9);
    // Swapping the arms flips the sign.
    let mut swapped = df.clone();
    let flipped: Vec<&str> = arms
        .iter()
        .map(|a| if a == "t" { "c" } else { "t" })
        .collect();
    swapped
        .replace("arm", Column::new("arm".into(), flipped))
        .unwrap();
    let s = run(&spec("individually-randomised", &derived(true)), swapped);
    let km2 = row(&s, "work_by", "km_risk_difference");
    assert!((km.estimate + km2.estimate).abs() < 1e-12);
}

/// Without a lottery: a covariate raises both the chance of taking part and the
/// hazard, follow-up ends by dropout, and the risk difference by 12 months is the same
/// (0.06) for both values of the covariate. The unadjusted Kaplan-Meier difference is
/// confounded, the adjusted regression on complete cases misses the units still
/// waiting, and the adjusted regression weighted by inverse probability of censoring
/// recovers the truth.
fn confounded(declared: bool, seed: u64) -> (PilotResults, f64) {
    let (n, delta, drop) = (100_000, 0.06_f64, 0.25_f64);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let exp = |rng: &mut ChaCha8Rng, rate: f64| -(1.0 - rng.random::<f64>()).ln() / rate;
    let (mut arm, mut x, mut months, mut found, mut work) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let xi = rng.random::<f64>() < 0.5;
        let treated = rng.random::<f64>() < if xi { 0.7 } else { 0.3 };
        let h0: f64 = if xi { 0.08 } else { 0.03 };
        let f0 = 1.0 - (-12.0 * h0).exp();
        let h = if treated {
            -(1.0 - f0 - delta).ln() / 12.0
        } else {
            h0
        };
        let t = exp(&mut rng, h);
        let c = exp(&mut rng, drop).min(24.0);
        arm.push(if treated { "t" } else { "c" });
        x.push(f64::from(u8::from(xi)));
        months.push(t.min(c));
        found.push(i64::from(t <= c));
        work.push(if t <= 12.0 {
            (t <= c).then_some(1i64)
        } else {
            (c >= 12.0).then_some(0)
        });
    }
    let days: Vec<Option<f64>> = vec![Some(0.0); n];
    let df = df!("arm" => arm, "x" => x, "months" => months, "found" => found, "work_by" => work, "days" => days).unwrap();
    let s = spec("matched-comparison", &derived(declared));
    let s = PilotSpec {
        covariates: vec!["x".into()],
        ..s
    };
    (run(&s, df), delta)
}

#[test]
fn without_a_lottery_the_weighted_adjusted_regression_recovers_the_truth() {
    let (r, truth) = confounded(true, 21);
    let head: Vec<&EstimateRow> = r
        .estimates
        .iter()
        .filter(|e| e.outcome == "work_by" && e.headline)
        .collect();
    assert_eq!(head.len(), 1);
    let ipcw = head[0];
    assert_eq!(ipcw.estimator, "ols_adjusted_ipcw");
    assert_eq!(ipcw.covariates, vec!["x".to_string()]);
    let z = |e: &EstimateRow| (e.estimate - truth) / e.std_error;
    assert!(
        z(ipcw).abs() < 4.0,
        "weighted: {} vs {truth}",
        ipcw.estimate
    );
    // No complete-case estimate for a declared outcome; the KM one is beside it.
    let km = row(&r, "work_by", "km_risk_difference");
    assert!(!km.headline);
    assert!(
        z(km).abs() > 4.0,
        "unadjusted KM {} should be confounded",
        km.estimate
    );
    assert!(
        r.estimates
            .iter()
            .filter(|e| e.outcome == "work_by")
            .all(|e| e.estimator == "ols_adjusted_ipcw" || e.estimator == "km_risk_difference")
    );
    // The complete cases, adjusted, miss the truth.
    let (naive, _) = confounded(false, 21);
    let cc = row(&naive, "work_by", "ols_adjusted");
    assert!(
        z(cc).abs() > 4.0,
        "complete cases {} vs {truth} (z = {:.2}; weighted z = {:.2})",
        cc.estimate,
        z(cc),
        z(ipcw)
    );
}

#[test]
fn from_time_is_checked_against_the_outcomes() {
    let bad = |extra: &str| {
        let text =
            format!("slug = \"x\"\n{HEAD}\n[design]\nkind = \"individually-randomised\"\n{extra}");
        PilotSpec::from_toml(&text, Path::new("pilots/x.toml"))
            .unwrap_err()
            .to_string()
    };
    let block = |ft: &str, kind: &str| {
        format!(
            "[[outcomes]]\nid = \"w\"\ncolumn = \"w\"\nkind = \"{kind}\"\nlabel = {{ nl = \"W\", en = \"W\" }}\nunit = {{ nl = \"pp\", en = \"pp\" }}\nbetter = \"higher\"\nfrom_time = {ft}\n"
        )
    };
    let e = bad(&block("{ outcome = \"nope\", by = 12 }", "binary"));
    assert!(e.contains("nope") && e.contains("months"), "{e}");
    let e = bad(&block(
        "{ outcome = \"months\", by = 12, per_time_unit = 30 }",
        "binary",
    ));
    assert!(e.contains("per_time_unit"), "{e}");
    let e = bad(&block("{ outcome = \"months\", by = -1 }", "count"));
    assert!(e.contains("by"), "{e}");
    let e = bad(&block("{ outcome = \"months\", by = 3 }", "ordinal"));
    assert!(e.contains("ordinal"), "{e}");
}

/// Weibull-free PH data with a strong covariate: the unadjusted Cox model estimates
/// the marginal hazard ratio (attenuated towards 1), the adjusted one the conditional
/// hazard ratio built into the data.
#[test]
fn the_adjusted_cox_model_recovers_the_conditional_hazard_ratio() {
    let (n, hr) = (20_000, 1.5_f64);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let (mut arm, mut x, mut months, mut found) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let treated = i % 2 == 1;
        let xi: f64 = if rng.random::<f64>() < 0.5 { 1.0 } else { 0.0 };
        let h = 0.05 * (1.8 * xi).exp() * if treated { hr } else { 1.0 };
        let t = -(1.0 - rng.random::<f64>()).ln() / h;
        arm.push(if treated { "t" } else { "c" });
        x.push(xi);
        months.push(t.min(36.0));
        found.push(i64::from(t <= 36.0));
    }
    let df = df!("arm" => arm.clone(), "x" => x.clone(), "months" => months.clone(), "found" => found.clone()).unwrap();
    let s = spec("individually-randomised", "");
    let s = PilotSpec {
        covariates: vec!["x".into()],
        ..s
    };
    let r = run(&s, df);
    let adj = row(&r, "months", "cox_hazard_ratio_adjusted");
    let raw = row(&r, "months", "cox_hazard_ratio");
    let z = |e: &EstimateRow| (e.estimate.ln() - hr.ln()) / e.std_error;
    assert!(z(adj).abs() < 4.0, "adjusted {}", adj.estimate);
    assert!(
        z(raw) < -4.0,
        "unadjusted {} should be attenuated",
        raw.estimate
    );
    assert_eq!(adj.covariates, vec!["x".to_string()]);
    // The same model as cox_ph on the treatment indicator and the covariate.
    let t: Vec<f64> = arm.iter().map(|a| f64::from(u8::from(*a == "t"))).collect();
    let ev: Vec<bool> = found.iter().map(|&e| e == 1).collect();
    let fit = cox_ph(&months, &ev, &[&t, &x], None, None, 0.95).unwrap();
    assert!((fit.coefficients[0].model.estimate - adj.estimate).abs() < 1e-9);
}
