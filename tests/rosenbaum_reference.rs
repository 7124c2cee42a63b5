//! Rosenbaum bounds (stats::weighting::rosenbaum) against base-R values from
//! Rosenbaum's closed forms (scripts/fixtures/make_rosenbaum_fixtures.R): R MatchIt's
//! 185 matched pairs of lalonde_psid (bounds on a grid of Γ; neither outcome is
//! significant at Γ = 1), `sleep` (signed-rank, Γ) and the approval example of
//! ?mcnemar.test (sign test, Γ).

use serde_json::Value;
use via_eval::stats::weighting::rosenbaum::{
    sign_bound, sign_p_at, signed_rank_bound, signed_rank_p_at,
};

mod common;
use common::{assert_close, root};

fn fixture() -> Value {
    let p = root().join("tests/fixtures/reference/rosenbaum_lalonde_psid.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn vec_of(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check_grid(name: &str, case: &Value, p_at: impl Fn(f64) -> f64) {
    let grid = vec_of(&case["gamma_grid"]);
    let want = vec_of(&case["p_upper"]);
    for (g, w) in grid.iter().zip(&want) {
        let got = p_at(*g);
        eprintln!(
            "{name} p at gamma {g}: relative error {:.1e}",
            ((got - w) / w).abs()
        );
        assert_close(&format!("{name} p at gamma {g}"), got, *w);
    }
}

#[test]
fn signed_rank_bounds_match_the_closed_form_in_r() {
    let f = fixture();
    let alpha = f["alpha"].as_f64().unwrap();
    // lalonde pairs: differences treated − control of re78.
    let c = &f["re78"];
    let d: Vec<f64> = vec_of(&c["treated"])
        .iter()
        .zip(vec_of(&c["control"]))
        .map(|(t, c)| t - c)
        .collect();
    assert_eq!(d.len(), f["n_pairs"].as_u64().unwrap() as usize);
    check_grid("re78", c, |g| signed_rank_p_at(&d, g).unwrap());
    let b = signed_rank_bound(&d, alpha).unwrap();
    assert!(c["gamma"].is_null() && b.gamma.is_none());
    assert_eq!(b.n_pairs_used as u64, c["n_pairs_used"].as_u64().unwrap());
    // sleep: significant, with a gamma.
    let c = &f["sleep"];
    let d = vec_of(&c["differences"]);
    check_grid("sleep", c, |g| signed_rank_p_at(&d, g).unwrap());
    let b = signed_rank_bound(&d, alpha).unwrap();
    let want = c["gamma"].as_f64().unwrap();
    eprintln!(
        "sleep gamma: relative error {:.1e}",
        ((b.gamma.unwrap() - want) / want).abs()
    );
    assert_close("sleep gamma", b.gamma.unwrap(), want);
    assert_eq!(b.n_pairs_used as u64, c["n_pairs_used"].as_u64().unwrap());
}

#[test]
fn sign_test_bounds_match_the_closed_form_in_r() {
    let f = fixture();
    let alpha = f["alpha"].as_f64().unwrap();
    for (name, has_gamma) in [("employed78", false), ("approval", true)] {
        let c = &f[name];
        let (t, k) = (vec_of(&c["treated"]), vec_of(&c["control"]));
        check_grid(name, c, |g| sign_p_at(&t, &k, g).unwrap());
        let b = sign_bound(&t, &k, alpha).unwrap();
        assert_eq!(b.n_pairs_used as u64, c["n_pairs_used"].as_u64().unwrap());
        if has_gamma {
            let want = c["gamma"].as_f64().unwrap();
            eprintln!(
                "{name} gamma: relative error {:.1e}",
                ((b.gamma.unwrap() - want) / want).abs()
            );
            assert_close(
                &format!("{name} gamma"),
                b.gamma.unwrap(),
                c["gamma"].as_f64().unwrap(),
            );
        } else {
            assert!(c["gamma"].is_null() && b.gamma.is_none());
        }
    }
}

#[test]
fn swapping_the_arms_gives_the_same_bound() {
    let f = fixture();
    let c = &f["approval"];
    let (t, k) = (vec_of(&c["treated"]), vec_of(&c["control"]));
    let a = sign_bound(&t, &k, 0.05).unwrap();
    let b = sign_bound(&k, &t, 0.05).unwrap();
    assert_eq!(a.gamma, b.gamma);
    // A constant shift of both outcomes leaves the differences, and the bound, alone.
    let d = vec_of(&f["sleep"]["differences"]);
    let shifted: Vec<f64> = d.iter().map(|x| (x + 7.0) - 7.0).collect();
    assert_eq!(
        signed_rank_bound(&d, 0.05).unwrap().gamma,
        signed_rank_bound(&shifted, 0.05).unwrap().gamma
    );
}
