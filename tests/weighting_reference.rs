//! The weighting estimators (`stats::weighting`) against reference values on real
//! observational data: R MatchIt's `lalonde` (185 NSW treated men, 429 PSID comparison
//! men; tests/fixtures/data/lalonde_psid.csv), values in
//! tests/fixtures/reference/weighting_lalonde_psid.json made by
//! scripts/fixtures/make_weighting_fixtures.py (statsmodels Logit and WLS, the stacked
//! sandwich from numpy with a complex-step Jacobian, entropy balancing by scipy,
//! cobalt's balance formulas, VanderWeele & Ding's E-values). Then properties, a
//! seeded recovery test and bad input.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use serde_json::Value;
use via_eval::stats::Inference;
use via_eval::stats::ols::SeType;
use via_eval::stats::weighting::{
    self, Method, entropy_att, evalue, ipw_att, ipw_att_stacked, logit, overlap_ato,
    weighted_difference,
};

mod common;
use common::{assert_close, root};

const COVS: [&str; 8] = [
    "age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75",
];

struct Data {
    names: Vec<String>,
    cols: Vec<Vec<f64>>,
}

impl Data {
    fn load() -> Self {
        let text =
            std::fs::read_to_string(root().join("tests/fixtures/data/lalonde_psid.csv")).unwrap();
        let mut lines = text.lines();
        let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let mut cols = vec![Vec::new(); names.len()];
        for line in lines {
            for (c, v) in cols.iter_mut().zip(line.split(',')) {
                c.push(v.parse::<f64>().unwrap());
            }
        }
        Self { names, cols }
    }
    fn col(&self, name: &str) -> &[f64] {
        &self.cols[self.names.iter().position(|n| n == name).unwrap()]
    }
    fn treated(&self) -> Vec<bool> {
        self.col("treat").iter().map(|&v| v == 1.0).collect()
    }
    fn x(&self) -> Vec<&[f64]> {
        COVS.iter().map(|c| self.col(c)).collect()
    }
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

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn check_inference(what: &str, got: &Inference, want: &Value) {
    assert_close(
        &format!("{what} estimate"),
        got.estimate,
        f(&want["estimate"]),
    );
    assert_close(&format!("{what} se"), got.std_error, f(&want["std_error"]));
    assert_close(&format!("{what} ci_low"), got.ci_low, f(&want["ci_low"]));
    assert_close(&format!("{what} ci_high"), got.ci_high, f(&want["ci_high"]));
    assert_close(&format!("{what} p"), got.p_value, f(&want["p_value"]));
    match want["df"].as_f64() {
        Some(df) => assert_close(&format!("{what} df"), got.df.unwrap(), df),
        None => assert_eq!(got.df, None, "{what}: normal reference"),
    }
}

#[test]
fn propensity_model_matches_statsmodels_logit() {
    let d = Data::load();
    let want = &reference()["propensity"];
    let m = logit(&d.treated(), &d.x(), &COVS).unwrap();
    for (j, (b, s)) in m.coef.iter().zip(&m.std_error).enumerate() {
        assert_close(&format!("coef {j}"), *b, f(&want["coef"][j]));
        assert_close(&format!("se {j}"), *s, f(&want["std_error"][j]));
    }
    assert_close("deviance", m.deviance, f(&want["deviance"]));
    for i in 0..10 {
        assert_close(
            &format!("ps {i}"),
            m.fitted[i],
            f(&want["fitted_first10"][i]),
        );
    }
    assert_close("ps sum", m.fitted.iter().sum(), f(&want["fitted_sum"]));
}

#[test]
fn weights_effects_and_balance_match_the_reference() {
    let d = Data::load();
    let r = reference();
    let t = d.treated();
    let x = d.x();
    for method in [Method::IpwAtt, Method::OverlapAto, Method::EntropyAtt] {
        let want = &r["methods"][method.id()];
        let id = method.id();
        let (w, model) = weighting::weights(method, &t, &x, &COVS).unwrap();
        for i in 0..10 {
            assert_close(&format!("{id} w{i}"), w[i], f(&want["weights_first10"][i]));
        }
        let ss: f64 = (0..w.len()).filter(|&i| !t[i]).map(|i| w[i] * w[i]).sum();
        assert_close(&format!("{id} Σw²"), ss, f(&want["weights_control_sum_sq"]));
        for outcome in ["re78", "employed78"] {
            let y = d.col(outcome);
            let o = &want["outcomes"][outcome];
            for se in ["HC2", "HC0"] {
                let st = if se == "HC2" {
                    SeType::Hc2
                } else {
                    SeType::Hc0
                };
                let got = weighted_difference(y, &t, &w, st, 0.95).unwrap();
                check_inference(&format!("{id} {outcome} {se}"), &got, &o[se]);
            }
            if method == Method::IpwAtt {
                let got = ipw_att_stacked(y, &t, &x, model.as_ref().unwrap(), None, 0.95).unwrap();
                check_inference(&format!("{id} {outcome} stacked"), &got, &o["stacked"]);
            }
            let e = weighting::estimate(method, y, &t, &x, &COVS, SeType::Hc2, 0.95).unwrap();
            assert_close(
                &format!("{id} difference"),
                e.effect.estimate,
                f(&o["difference"]),
            );
            assert_close(
                &format!("{id} ess treated"),
                e.effective_n_treated,
                f(&want["effective_n_treated"]),
            );
            assert_close(
                &format!("{id} ess control"),
                e.effective_n_control,
                f(&want["effective_n_control"]),
            );
            for (b, wb) in e.balance.iter().zip(want["balance"].as_array().unwrap()) {
                let c = wb["covariate"].as_str().unwrap();
                let pairs = [
                    ("mean_treated", Some(b.mean_treated)),
                    ("mean_control", Some(b.mean_control)),
                    ("mean_treated_weighted", Some(b.mean_treated_weighted)),
                    ("mean_control_weighted", Some(b.mean_control_weighted)),
                    ("smd_before", b.smd_before),
                    ("variance_ratio_before", b.variance_ratio_before),
                    ("variance_ratio_after", b.variance_ratio_after),
                ];
                for (name, v) in pairs {
                    assert_close(&format!("{id} {c} {name}"), v.unwrap(), f(&wb[name]));
                }
                // Entropy balancing zeroes the difference: compare it absolutely, on
                // the scale of the SMD before weighting.
                let after = b.smd_after.unwrap();
                let want_after = f(&wb["smd_after"]);
                if method == Method::EntropyAtt {
                    assert!(
                        (after - want_after).abs() < 1e-10,
                        "{c}: {after} {want_after}"
                    );
                } else {
                    assert_close(&format!("{id} {c} smd_after"), after, want_after);
                }
            }
        }
    }
}

#[test]
fn aipw_matches_the_stacked_estimating_equations() {
    let d = Data::load();
    let r = reference();
    let t = d.treated();
    let x = d.x();
    let model = logit(&t, &x, &COVS).unwrap();
    for outcome in ["re78", "employed78"] {
        let got = weighting::aipw_att(d.col(outcome), &t, &x, &COVS, &model, None, 0.95).unwrap();
        check_inference(&format!("aipw {outcome}"), &got, &r["aipw_att"][outcome]);
        let e = weighting::estimate(
            Method::AipwAtt,
            d.col(outcome),
            &t,
            &x,
            &COVS,
            SeType::Hc2,
            0.95,
        )
        .unwrap();
        assert_eq!(e.effect, got);
        // Its balance is that of the IPW weights.
        let ipw = &r["methods"]["ipw_att"]["balance"][0]["smd_after"];
        assert_close("aipw balance", e.balance[0].smd_after.unwrap(), f(ipw));
    }
}

#[test]
fn e_values_match_the_closed_forms() {
    let r = reference();
    for row in r["e_values"].as_array().unwrap() {
        let kind = row["kind"].as_str().unwrap();
        let rare = row["rare"].as_bool().unwrap_or(true);
        let (est, lo, hi) = (
            f(&row["estimate"]),
            row["ci_low"].as_f64().unwrap_or(0.0),
            row["ci_high"].as_f64().unwrap_or(0.0),
        );
        let got = match kind {
            "risk_ratio" => evalue::risk_ratio(est, lo, hi),
            "odds_ratio" => evalue::odds_ratio(est, lo, hi, rare),
            "hazard_ratio" => evalue::hazard_ratio(est, lo, hi, rare),
            "standardised_difference" => {
                evalue::standardised_difference(est, f(&row["std_error"]), 0.95)
            }
            "risk_difference" => evalue::risk_difference(est, lo, hi, f(&row["p0"])),
            _ => panic!("{kind}"),
        }
        .unwrap();
        assert_close(&format!("{kind} {rare} e"), got.e_value, f(&row["e_value"]));
        assert_close(
            &format!("{kind} {rare} ci"),
            got.e_value_ci,
            f(&row["e_value_ci"]),
        );
    }
}

// ---- properties ---------------------------------------------------------------------

#[test]
fn weights_sum_to_one_per_arm_and_entropy_reproduces_treated_means() {
    let d = Data::load();
    let t = d.treated();
    let x = d.x();
    for method in [Method::IpwAtt, Method::OverlapAto, Method::EntropyAtt] {
        let (w, _) = weighting::weights(method, &t, &x, &COVS).unwrap();
        for arm in [true, false] {
            let s: f64 = (0..w.len()).filter(|&i| t[i] == arm).map(|i| w[i]).sum();
            assert!((s - 1.0).abs() < 1e-12, "{} {arm}: {s}", method.id());
        }
    }
    let e = entropy_att(&t, &x, &COVS).unwrap();
    for (c, name) in x.iter().zip(COVS) {
        let (mut m1, mut n1, mut m0) = (0.0, 0.0, 0.0);
        for i in 0..t.len() {
            if t[i] {
                m1 += c[i];
                n1 += 1.0;
            } else {
                m0 += e.weights[i] * c[i];
            }
        }
        m1 /= n1;
        let scale = m1.abs().max(1.0);
        assert!((m0 - m1).abs() <= 1e-10 * scale, "{name}: {m0} vs {m1}");
    }
}

#[test]
fn shift_of_outcome_leaves_effects_unchanged_and_arm_swap_flips_only_ato() {
    let d = Data::load();
    let t = d.treated();
    let x = d.x();
    let y = d.col("re78");
    let shifted: Vec<f64> = y.iter().map(|v| v + 12345.0).collect();
    for method in [
        Method::IpwAtt,
        Method::OverlapAto,
        Method::EntropyAtt,
        Method::AipwAtt,
    ] {
        let a = weighting::estimate(method, y, &t, &x, &COVS, SeType::Hc2, 0.95).unwrap();
        let b = weighting::estimate(method, &shifted, &t, &x, &COVS, SeType::Hc2, 0.95).unwrap();
        assert!((a.effect.estimate - b.effect.estimate).abs() < 1e-8 * a.effect.estimate.abs());
        assert!((a.effect.std_error - b.effect.std_error).abs() < 1e-8 * a.effect.std_error);
        assert!(a.effect.ci_low < a.effect.estimate && a.effect.estimate < a.effect.ci_high);
    }
    // Overlap weights target a population symmetric in the arms: swapping the arms
    // only flips the sign. The ATT does not: swapped, IPW estimates the effect on the
    // comparison group (the ATC), a different number.
    let swapped: Vec<bool> = t.iter().map(|v| !v).collect();
    let ato = |tt: &[bool]| {
        let m = logit(tt, &x, &COVS).unwrap();
        let w = overlap_ato(tt, &m.fitted);
        weighted_difference(y, tt, &w, SeType::Hc2, 0.95).unwrap()
    };
    let (a, b) = (ato(&t), ato(&swapped));
    assert!((a.estimate + b.estimate).abs() < 1e-8 * a.estimate.abs());
    assert!((a.std_error - b.std_error).abs() < 1e-8 * a.std_error);
    let att = |tt: &[bool]| {
        let m = logit(tt, &x, &COVS).unwrap();
        weighted_difference(y, tt, &ipw_att(tt, &m.fitted), SeType::Hc2, 0.95)
            .unwrap()
            .estimate
    };
    let (a, b) = (att(&t), att(&swapped));
    assert!(
        (a + b).abs() > 100.0,
        "ATT {a} and the swapped estimate {b} differ by more than a sign"
    );
}

// ---- recovery ---------------------------------------------------------------------

/// Selection on observables: x1, x2 ~ N(0,1); P(treated) = expit(−1 + 0.8x1 − 0.6x2);
/// y = 1 + 2x1 + 1.5x2 + τ(x)·T + ε with τ(x) = 1 + x1, so the effect varies and the
/// ATT is 1 + E[x1 | treated], recorded exactly as the mean of τ over the treated of
/// each draw (the sample ATT). The naive difference is biased by the selection on x1
/// and x2.
#[test]
fn ipw_and_entropy_recover_the_att_under_selection_on_observables() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261202);
    let normal = Normal::new(0.0, 1.0).unwrap();
    let n = 4000;
    let x1: Vec<f64> = (0..n).map(|_| normal.sample(&mut rng)).collect();
    let x2: Vec<f64> = (0..n).map(|_| normal.sample(&mut rng)).collect();
    let t: Vec<bool> = (0..n)
        .map(|i| rng.random::<f64>() < weighting::expit(-1.0 + 0.8 * x1[i] - 0.6 * x2[i]))
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let tau = 1.0 + x1[i];
            1.0 + 2.0 * x1[i]
                + 1.5 * x2[i]
                + tau * f64::from(u8::from(t[i]))
                + normal.sample(&mut rng)
        })
        .collect();
    let n1 = t.iter().filter(|&&v| v).count() as f64;
    let truth: f64 = (0..n).filter(|&i| t[i]).map(|i| 1.0 + x1[i]).sum::<f64>() / n1;
    let naive = {
        let w = vec![1.0; n];
        weighted_difference(&y, &t, &w, SeType::Hc2, 0.95).unwrap()
    };
    assert!(
        naive.ci_low > truth || naive.ci_high < truth,
        "the naive difference {naive:?} should miss the ATT {truth}"
    );
    let x: [&[f64]; 2] = [&x1, &x2];
    for method in [Method::IpwAtt, Method::EntropyAtt, Method::AipwAtt] {
        let e = weighting::estimate(method, &y, &t, &x, &["x1", "x2"], SeType::Hc2, 0.95).unwrap();
        assert!(
            e.effect.ci_low < truth && truth < e.effect.ci_high,
            "{}: {:?} misses the ATT {truth}",
            method.id(),
            e.effect
        );
        assert!(
            (e.effect.estimate - truth).abs() < 0.15,
            "{}",
            e.effect.estimate
        );
    }
}

// ---- bad input ---------------------------------------------------------------------

fn message(r: Result<impl std::fmt::Debug, via_eval::stats::StatsError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn bad_input_gives_clear_errors() {
    let d = Data::load();
    let t = d.treated();
    // Perfect separation: a covariate equal to the arm.
    let sep: Vec<f64> = t.iter().map(|&v| f64::from(u8::from(v))).collect();
    let e = message(logit(&t, &[d.col("age"), &sep], &["age", "joined"]));
    assert!(e.contains("\"joined\"") && e.contains("separation"), "{e}");
    // No overlap: the treated all older than every comparison unit.
    let age: Vec<f64> = d
        .col("age")
        .iter()
        .zip(&t)
        .map(|(a, &tr)| if tr { a + 100.0 } else { *a })
        .collect();
    let e = message(logit(&t, &[&age], &["age"]));
    assert!(e.contains("\"age\"") && e.contains("do not overlap"), "{e}");
    let e = message(entropy_att(&t, &[&age], &["age"]));
    assert!(e.contains("\"age\"") && e.contains("infeasible"), "{e}");
    // A covariate constant in the treated arm: the fit works, the SMD is null (not NaN).
    let c: Vec<f64> = d
        .col("educ")
        .iter()
        .zip(&t)
        .map(|(v, &tr)| if tr { 10.0 } else { *v })
        .collect();
    let est = weighting::estimate(
        Method::IpwAtt,
        d.col("re78"),
        &t,
        &[d.col("age"), &c],
        &["age", "educ10"],
        SeType::Hc2,
        0.95,
    )
    .unwrap();
    assert_eq!(est.balance[1].smd_before, None);
    assert!(est.effect.estimate.is_finite() && est.effect.std_error.is_finite());
    // More covariates than treated units.
    let few: Vec<bool> = (0..t.len()).map(|i| i < 3).collect();
    let x = d.x();
    let e = message(logit(&few, &x, &COVS));
    assert!(e.contains("8 covariates for 3 treated units"), "{e}");
    // Jointly infeasible entropy balance: each mean within range, not both at once
    // (the treated sit where x1 + x2 is large; no comparison unit does).
    let t2 = [true, true, true, false, false, false, false];
    let x1 = [1.0, 0.9, 0.95, 1.0, 0.0, 0.0, 0.1];
    let x2 = [0.9, 1.0, 0.95, 0.0, 1.0, 0.0, 0.1];
    let e = message(entropy_att(&t2, &[&x1], &["x1"]).and(entropy_att(
        &t2,
        &[&x1, &x2],
        &["x1", "x2"],
    )));
    assert!(e.contains("infeasible") && e.contains("jointly"), "{e}");
}

/// One draw of the recovery design (see the test above) with `n` units.
fn draw(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> (Vec<f64>, Vec<f64>, Vec<bool>, Vec<f64>) {
    let normal = Normal::new(0.0, 1.0).unwrap();
    let x1: Vec<f64> = (0..n).map(|_| normal.sample(rng)).collect();
    let x2: Vec<f64> = (0..n).map(|_| normal.sample(rng)).collect();
    let t: Vec<bool> = (0..n)
        .map(|i| rng.random::<f64>() < weighting::expit(-1.0 + 0.8 * x1[i] - 0.6 * x2[i]))
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            1.0 + 2.0 * x1[i]
                + 1.5 * x2[i]
                + (1.0 + x1[i]) * f64::from(u8::from(t[i]))
                + normal.sample(rng)
        })
        .collect();
    (x1, x2, t, y)
}

/// Coverage of the 95% intervals over seeded draws (n = 1000 each) against the
/// population ATT = 1 + E[x1 | treated], itself computed from 4,000,000 seeded draws
/// (Monte Carlo error about 0.001, against standard errors near 0.1). Prints the table
/// of docs/weighting-coverage.md. About 10 s in release; run with
/// `cargo test --release --test weighting_reference -- --ignored --nocapture`.
#[test]
#[ignore = "simulation, about 10 s in release; prints the table of docs/weighting-coverage.md"]
fn coverage_over_seeded_draws() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
    let (x1, _, t, _) = draw(&mut rng, 4_000_000);
    let n1 = t.iter().filter(|&&v| v).count() as f64;
    let truth = 1.0 + (0..t.len()).filter(|&i| t[i]).map(|i| x1[i]).sum::<f64>() / n1;
    let reps = 1000;
    let methods = [Method::IpwAtt, Method::EntropyAtt, Method::AipwAtt];
    let mut covered = [0usize; 4];
    let mut bias = [0.0f64; 4];
    for _ in 0..reps {
        let (x1, x2, t, y) = draw(&mut rng, 1000);
        let naive = weighted_difference(&y, &t, &vec![1.0; y.len()], SeType::Hc2, 0.95).unwrap();
        covered[0] += usize::from(naive.ci_low < truth && truth < naive.ci_high);
        bias[0] += naive.estimate - truth;
        let x: [&[f64]; 2] = [&x1, &x2];
        for (m, method) in methods.iter().enumerate() {
            let e = weighting::estimate(*method, &y, &t, &x, &["x1", "x2"], SeType::Hc2, 0.95)
                .unwrap()
                .effect;
            covered[m + 1] += usize::from(e.ci_low < truth && truth < e.ci_high);
            bias[m + 1] += e.estimate - truth;
        }
    }
    println!("population ATT {truth:.4}, {reps} draws of n = 1000");
    println!("| estimator | coverage of 95% CI | mean bias |");
    println!("| --- | --- | --- |");
    for (name, (c, b)) in [
        "naive (Welch-type, HC2)",
        "ipw_att",
        "entropy_att",
        "aipw_att",
    ]
    .iter()
    .zip(covered.iter().zip(bias))
    {
        println!(
            "| {name} | {:.1}% | {:+.3} |",
            100.0 * *c as f64 / reps as f64,
            b / reps as f64
        );
    }
    // IPW and AIPW carry the stacked sandwich, entropy the weights-fixed one; all three
    // within Monte Carlo error (±1.4% at 1000 draws, 2 SE) of 95% or conservative,
    // the naive difference far below.
    for c in &covered[1..] {
        assert!(*c as f64 / reps as f64 > 0.92, "{covered:?}");
    }
    assert!((covered[0] as f64) / (reps as f64) < 0.5, "{covered:?}");
}

/// Matching: our rule against the brute-force implementation of the fixture script
/// (weights per unit); the effect and its standard errors from MatchIt's own weights
/// and subclasses against R (lm + sandwich::vcovCL by subclass / vcovHC HC2). MatchIt
/// 4.5.1 itself picks neighbours differently (see make_matching_fixtures.R), so its
/// matches are not compared.
#[test]
fn nearest_neighbour_matching() {
    use via_eval::stats::weighting::matching::{Matched, matched_difference, nearest_within};
    let d = Data::load();
    let t = d.treated();
    let x = d.x();
    let r = reference();
    let model = logit(&t, &x, &COVS).unwrap();
    let eta: Vec<f64> = model.fitted.iter().map(|p| p.ln() - (-p).ln_1p()).collect();
    for case in r["matching"].as_array().unwrap() {
        let (ratio, replace) = (
            case["ratio"].as_u64().unwrap() as usize,
            case["replace"].as_bool().unwrap(),
        );
        let exact = case["exact"].as_str();
        let id = format!(
            "1:{ratio} replace={replace} caliper={} exact={exact:?}",
            case["caliper"]
        );
        // Exact matching on a 0/1 column: its values as group codes.
        let groups: Option<Vec<u32>> = exact.map(|c| d.col(c).iter().map(|&v| v as u32).collect());
        let m = nearest_within(
            &eta,
            &t,
            groups.as_deref(),
            ratio,
            replace,
            case["caliper"].as_f64(),
        );
        if let Some(g) = &groups {
            // Every matched comparison unit shares the value of some treated unit it
            // serves; with 1:1 without replacement, exactly its pair's.
            if ratio == 1 && !replace {
                for i in (0..t.len()).filter(|&i| !t[i] && m.weights[i] > 0.0) {
                    let s = m.subclass[i].unwrap();
                    let tt = (0..t.len())
                        .find(|&j| t[j] && m.subclass[j] == Some(s))
                        .unwrap();
                    assert_eq!(g[i], g[tt], "{id} unit {i}");
                }
            }
        }
        assert_eq!(
            m.unmatched_treated as u64,
            case["unmatched_treated"].as_u64().unwrap(),
            "{id}"
        );
        for (i, w) in case["weights"].as_array().unwrap().iter().enumerate() {
            assert!((m.weights[i] - f(w)).abs() <= 1e-14, "{id} unit {i}");
        }
        let y = d.col("re78");
        let dm: f64 = (0..t.len())
            .map(|i| {
                if t[i] {
                    m.weights[i] * y[i]
                } else {
                    -m.weights[i] * y[i]
                }
            })
            .sum();
        assert_close(&format!("{id} difference"), dm, f(&case["difference_re78"]));
        // Every treated unit of a 1:k match without replacement is in its own subclass.
        if !replace {
            assert!((0..t.len()).all(|i| (m.weights[i] > 0.0) == m.subclass[i].is_some()));
        }
    }
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("tests/fixtures/reference/matching_lalonde_psid.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for case in want["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let replace = case["replace"].as_bool().unwrap();
        let w: Vec<f64> = case["weights"].as_array().unwrap().iter().map(f).collect();
        let subclass: Vec<Option<u32>> = if replace {
            vec![None; w.len()]
        } else {
            case["subclass"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().map(|s| s as u32))
                .collect()
        };
        let m = Matched {
            weights: w,
            subclass,
            unmatched_treated: 0,
        };
        for outcome in ["re78", "employed78"] {
            let (inf, se) = matched_difference(d.col(outcome), &t, &m, 0.95).unwrap();
            let want_se = if replace { SeType::Hc2 } else { SeType::Cr1 };
            assert_eq!(se, want_se, "{id}");
            check_inference(
                &format!("MatchIt {id} {outcome}"),
                &inf,
                &case["outcomes"][outcome],
            );
        }
    }
}

/// With clusters (age, 40 values, as an illustration): the stacked sandwiches of IPW and
/// AIPW with estimating functions summed within clusters (G/(G − 1), t on G − 1 df),
/// against numpy; the weights-fixed CR1 against statsmodels WLS cluster.
#[test]
fn clustered_sandwiches_match_the_reference() {
    use via_eval::stats::ols::Clusters;
    use via_eval::stats::weighting::weighted_difference_clustered;
    let d = Data::load();
    let r = reference();
    let t = d.treated();
    let x = d.x();
    let ages: Vec<i64> = d.col("age").iter().map(|&a| a as i64).collect();
    let cl = Clusters::from_labels(&ages);
    assert_eq!(
        cl.count() as u64,
        r["clustered"]["n_clusters"].as_u64().unwrap()
    );
    let model = logit(&t, &x, &COVS).unwrap();
    for outcome in ["re78", "employed78"] {
        let y = d.col(outcome);
        let want = &r["clustered"][outcome];
        let got = ipw_att_stacked(y, &t, &x, &model, Some(&cl), 0.95).unwrap();
        check_inference(
            &format!("{outcome} ipw clustered"),
            &got,
            &want["ipw_stacked"],
        );
        let got = weighting::aipw_att(y, &t, &x, &COVS, &model, Some(&cl), 0.95).unwrap();
        check_inference(
            &format!("{outcome} aipw clustered"),
            &got,
            &want["aipw_stacked"],
        );
        let w = ipw_att(&t, &model.fitted);
        let got = weighted_difference_clustered(y, &t, &w, SeType::Cr1, Some(&cl), 0.95).unwrap();
        let cr1 = &want["ipw_weights_fixed_CR1"];
        for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            let v = match k {
                "estimate" => got.estimate,
                "std_error" => got.std_error,
                "ci_low" => got.ci_low,
                "ci_high" => got.ci_high,
                _ => got.p_value,
            };
            assert_close(&format!("{outcome} CR1 {k}"), v, f(&cr1[k]));
        }
        // Through `estimate_clustered`: IPW carries the clustered stacked SE.
        let e = weighting::estimate_clustered(
            Method::IpwAtt,
            y,
            &t,
            &x,
            &COVS,
            SeType::Cr2,
            Some(&cl),
            0.95,
        )
        .unwrap();
        assert_close(
            "via estimate",
            e.effect.std_error,
            f(&want["ipw_stacked"]["std_error"]),
        );
    }
}
