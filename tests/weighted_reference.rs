//! Weighted least squares (`stats::ols::fit_weighted`, used for inverse-probability-of-
//! censoring weights) against statsmodels WLS on the Lalonde NSW data
//! (tests/fixtures/reference/wls_lalonde.json, made by
//! scripts/fixtures/make_wls_fixtures.py), and its properties.

use serde_json::Value;
use via_eval::stats::ols::{Clusters, SeType, fit, fit_weighted};

mod common;
use common::{assert_close, root};

/// The Lalonde columns as numbers, by name.
fn lalonde() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/lalonde.csv")).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols = vec![Vec::new(); names.len()];
    for line in lines {
        for (c, v) in cols.iter_mut().zip(line.split(',')) {
            c.push(v.parse::<f64>().unwrap());
        }
    }
    (names, cols)
}

fn col<'a>(d: &'a (Vec<String>, Vec<Vec<f64>>), name: &str) -> &'a [f64] {
    &d.1[d.0.iter().position(|n| n == name).unwrap()]
}

#[test]
fn weighted_least_squares_matches_statsmodels() {
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/wls_lalonde.json")).unwrap(),
    )
    .unwrap();
    let d = lalonde();
    let w: Vec<f64> = col(&d, "educ")
        .iter()
        .zip(col(&d, "married"))
        .map(|(e, m)| 1.0 + e / 4.0 + 0.5 * m)
        .collect();
    let x: Vec<&[f64]> = ["treat", "age", "educ", "black", "re75"]
        .iter()
        .map(|n| col(&d, n))
        .collect();
    let f = fit_weighted(col(&d, "re78"), &x, &w, true).unwrap();
    for (j, b) in want["coefficients"].as_array().unwrap().iter().enumerate() {
        assert_close(
            &format!("coefficient {j}"),
            f.coefficients()[j],
            b.as_f64().unwrap(),
        );
    }
    let ages: Vec<i64> = col(&d, "age").iter().map(|a| *a as i64).collect();
    let by_age = Clusters::from_labels(&ages);
    for (name, se, clusters) in [
        ("HC1", SeType::Hc1, None),
        ("HC2", SeType::Hc2, None),
        ("CR1", SeType::Cr1, Some(&by_age)),
    ] {
        let case = &want["se"][name];
        for (j, s) in case["se"].as_array().unwrap().iter().enumerate() {
            let ci = f.coef_inference(j, se, clusters, 0.95).unwrap();
            assert_close(
                &format!("{name} SE {j}"),
                ci.inference.std_error,
                s.as_f64().unwrap(),
            );
            assert_close(
                &format!("{name} df"),
                ci.inference.df.unwrap(),
                case["df"].as_f64().unwrap(),
            );
        }
    }
}

#[test]
fn equal_weights_are_ordinary_least_squares_and_scale_does_not_matter() {
    let d = lalonde();
    let x: Vec<&[f64]> = ["treat", "age"].iter().map(|n| col(&d, n)).collect();
    let y = col(&d, "re78");
    let n = y.len();
    let ols = fit(y, &x, true).unwrap();
    let w3 = fit_weighted(y, &x, &vec![3.0; n], true).unwrap();
    let wv: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
    let wv10: Vec<f64> = wv.iter().map(|v| v * 10.0).collect();
    let (a, b) = (
        fit_weighted(y, &x, &wv, true).unwrap(),
        fit_weighted(y, &x, &wv10, true).unwrap(),
    );
    for j in 0..3 {
        assert_close("equal weights", w3.coefficients()[j], ols.coefficients()[j]);
        let se = |f: &via_eval::stats::ols::OlsFit, t| {
            f.coef_inference(j, t, None, 0.95)
                .unwrap()
                .inference
                .std_error
        };
        assert_close(
            "equal weights HC2",
            se(&w3, SeType::Hc2),
            se(&ols, SeType::Hc2),
        );
        assert_close("scaled weights", a.coefficients()[j], b.coefficients()[j]);
        assert_close(
            "scaled weights HC2",
            se(&a, SeType::Hc2),
            se(&b, SeType::Hc2),
        );
    }
    // Bad weights are refused, not fitted.
    let mut bad = wv.clone();
    bad[3] = 0.0;
    assert!(fit_weighted(y, &x, &bad, true).is_err());
    assert!(fit_weighted(y, &x, &wv[1..], true).is_err());
}
