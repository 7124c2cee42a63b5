//! Design-based estimators, Lin (2013), absorbed fixed effects, effect sizes, Fisher's
//! exact test and p-value adjustment against reference values from R (estimatr,
//! metafor, stats, sandwich), pyfixest, statsmodels, scipy and 50-digit mpmath, on
//! real public data. Fixtures: `scripts/fixtures/make_design_fixtures.{R,py}` (package
//! versions in each JSON `source` field and in scripts/fixtures/README.md).
//! Tolerances are defined once, in `tests/common/mod.rs`.

mod common;

use std::collections::BTreeMap;

use common::{assert_close, close, root};
use serde_json::Value;
use via_eval::data::Frame;
use via_eval::stats::Inference;
use via_eval::stats::binary::Counts;
use via_eval::stats::design::{self, DimDesign};
use via_eval::stats::effect_size;
use via_eval::stats::exact;
use via_eval::stats::fe::{self, FeVcov};
use via_eval::stats::multiplicity::{self, Adjustment};
use via_eval::stats::ols::{Clusters, SeType};

fn fixture(name: &str) -> Value {
    let p = root()
        .join("tests/fixtures/reference")
        .join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

fn frame(path: &str) -> Frame {
    Frame::load(&root().join(path), &[]).unwrap()
}

fn nums(f: &Frame, col: &str) -> Vec<f64> {
    f.numbers(col)
        .unwrap()
        .into_iter()
        .map(|v| v.unwrap())
        .collect()
}

fn labels(f: &Frame, col: &str) -> Vec<String> {
    f.strings(col)
        .unwrap()
        .into_iter()
        .map(|v| v.unwrap())
        .collect()
}

fn s<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {row}"))
}

/// Compare every field the reference row has (null = not reported) with `got`.
fn check(what: &str, got: &Inference, want: &Value) -> usize {
    let mut n = 0;
    for (k, v) in [
        ("estimate", got.estimate),
        ("std_error", got.std_error),
        ("statistic", got.statistic),
        ("ci_low", got.ci_low),
        ("ci_high", got.ci_high),
        ("p_value", got.p_value),
    ] {
        if let Some(w) = want[k].as_f64() {
            assert_close(&format!("{what} {k} [{}]", want["package"]), v, w);
            n += 1;
        }
    }
    if let Some(w) = want["df"].as_f64() {
        let d = got.df.unwrap_or(f64::NAN);
        assert_close(&format!("{what} df [{}]", want["package"]), d, w);
        n += 1;
    }
    n
}

fn se_type(s: &str) -> SeType {
    match s {
        "classical" => SeType::Classical,
        "HC0" => SeType::Hc0,
        "HC1" => SeType::Hc1,
        "HC2" => SeType::Hc2,
        "HC3" => SeType::Hc3,
        "CR2" => SeType::Cr2,
        other => panic!("unexpected se_type {other}"),
    }
}

// ------------------------------------------------------ difference in means ---

fn dim_case(name: &str) -> usize {
    let case = fixture(name);
    let f = frame(s(&case, "data"));
    let mut n = 0;
    for r in case["results"].as_array().unwrap() {
        if r["estimator"] != "difference_in_means" {
            continue;
        }
        let arm = labels(&f, s(r, "treatment"));
        let (treated, control) = (s(r, "treated"), s(r, "control"));
        let rows: Vec<usize> = (0..arm.len())
            .filter(|&i| arm[i] == treated || arm[i] == control)
            .collect();
        let all_y = nums(&f, s(r, "outcome"));
        let y: Vec<f64> = rows.iter().map(|&i| all_y[i]).collect();
        let t: Vec<bool> = rows.iter().map(|&i| arm[i] == treated).collect();
        let group = |key: &str| {
            r[key].as_str().map(|c| {
                let l = labels(&f, c);
                Clusters::from_labels(&rows.iter().map(|&i| l[i].clone()).collect::<Vec<_>>())
            })
        };
        let (blocks, clusters) = (group("blocks"), group("clusters"));
        let got =
            design::difference_in_means(&y, &t, blocks.as_ref(), clusters.as_ref(), 0.95).unwrap();
        let what = format!(
            "{name} {} {} blocks={} clusters={}",
            s(r, "outcome"),
            s(r, "treatment"),
            r["blocks"],
            r["clusters"]
        );
        assert_eq!(got.design.name(), s(r, "design"), "{what}");
        assert_eq!(
            got.mixed_pairs,
            r["mixed_pairs"].as_bool().unwrap(),
            "{what}"
        );
        if let Some(b) = r["n_blocks"].as_u64() {
            assert_eq!(got.n_blocks, Some(b as usize), "{what}");
        }
        n += check(&what, &got.inference, r);
    }
    n
}

#[test]
fn blocked_difference_in_means_matches_estimatr() {
    // npk: 6 blocks of 4 plots (2 treated, 2 control); warpbreaks: 3 blocks of 18.
    let n = dim_case("design_npk") + dim_case("design_warpbreaks");
    assert_eq!(n, 8 * 7);
}

#[test]
fn matched_pairs_match_estimatr() {
    // sleep: 10 pairs; the school-level trial: 18 pairs and one triple (mixed).
    let n = dim_case("design_sleep") + dim_case("design_achievement_awards_2001_schools");
    assert_eq!(n, 4 * 7);
}

#[test]
fn clustered_and_block_clustered_match_estimatr() {
    // Clustered (CR2), matched-pair clustered, block-clustered and standard, two outcomes.
    assert_eq!(dim_case("design_achievement_awards_2001"), 8 * 7);
}

#[test]
fn every_design_is_covered() {
    let mut seen = std::collections::BTreeSet::new();
    for name in [
        "design_npk",
        "design_sleep",
        "design_achievement_awards_2001",
        "design_achievement_awards_2001_schools",
    ] {
        for r in fixture(name)["results"].as_array().unwrap() {
            if let Some(d) = r["design"].as_str() {
                seen.insert(d.to_string());
            }
        }
    }
    for d in [
        DimDesign::Standard,
        DimDesign::Clustered,
        DimDesign::Blocked,
        DimDesign::MatchedPair,
        DimDesign::BlockClustered,
        DimDesign::MatchedPairClustered,
    ] {
        assert!(seen.contains(d.name()), "no reference for {}", d.name());
    }
}

// -------------------------------------------------------------------- Lin ---

fn lin_case(name: &str) -> usize {
    let case = fixture(name);
    let f = frame(s(&case, "data"));
    let mut fits = BTreeMap::new();
    let mut n = 0;
    for r in case["results"].as_array().unwrap() {
        if r["estimator"] != "lm_lin" {
            continue;
        }
        let se = se_type(s(r, "se_type"));
        let covs: Vec<String> = r["covariates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let clusters = r["clusters"]
            .as_str()
            .map(|c| Clusters::from_labels(&labels(&f, c)));
        let key = (s(r, "outcome").to_string(), s(r, "se_type").to_string());
        let fit = fits.entry(key).or_insert_with(|| {
            let y = nums(&f, s(r, "outcome"));
            let t: Vec<bool> = labels(&f, s(r, "treatment"))
                .iter()
                .map(|v| v == "1")
                .collect();
            let cols: Vec<Vec<f64>> = covs.iter().map(|c| nums(&f, c)).collect();
            let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            design::lin(&y, &t, &refs, se, clusters.as_ref(), 0.95).unwrap()
        });
        let j = r["index"].as_u64().unwrap() as usize;
        let got = if j == 1 {
            fit.treatment.inference
        } else {
            fit.fit
                .coef_inference(j, se, clusters.as_ref(), 0.95)
                .unwrap()
                .inference
        };
        n += check(
            &format!(
                "{name} lin {} {} {}",
                s(r, "outcome"),
                s(r, "se_type"),
                s(r, "term")
            ),
            &got,
            r,
        );
    }
    n
}

#[test]
fn lin_estimator_matches_estimatr_and_statsmodels() {
    // lalonde: 10 terms × 5 SE types × (estimatr, statsmodels); 7 fields each.
    assert_eq!(lin_case("design_lalonde_lin"), 10 * 5 * 2 * 7);
    // Achievement awards: CR2 by school (two outcomes) and HC2; 10 terms each.
    assert_eq!(lin_case("design_achievement_awards_2001"), 3 * 10 * 7);
}

// ---------------------------------------------------------- fixed effects ---

fn fe_case(name: &str) -> usize {
    let case = fixture(name);
    let f = frame(s(&case, "data"));
    let mut fits = BTreeMap::new();
    let mut n = 0;
    for r in case["results"].as_array().unwrap() {
        let strs = |key: &str| -> Vec<String> {
            r[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let (xs, fes) = (strs("regressors"), strs("fixed_effects"));
        let fit = fits.entry(s(r, "model").to_string()).or_insert_with(|| {
            let y = nums(&f, s(r, "outcome"));
            let cols: Vec<Vec<f64>> = xs.iter().map(|c| nums(&f, c)).collect();
            let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            let groups: Vec<Clusters> = fes
                .iter()
                .map(|c| Clusters::from_labels(&labels(&f, c)))
                .collect();
            let grefs: Vec<&Clusters> = groups.iter().collect();
            fe::feols(&y, &refs, &grefs).unwrap()
        });
        let vcov = match s(r, "vcov") {
            "iid" => FeVcov::Iid,
            "hetero" => FeVcov::Hetero,
            "CRV1" => FeVcov::Cluster,
            other => panic!("vcov {other}"),
        };
        let cl = r["cluster"]
            .as_str()
            .map(|c| Clusters::from_labels(&labels(&f, c)));
        let j = r["index"].as_u64().unwrap() as usize;
        let got = fit.coef_inference(j, vcov, cl.as_ref(), 0.95).unwrap();
        let what = format!(
            "{name} {} {} {} {}",
            s(r, "model"),
            s(r, "vcov"),
            r["cluster"],
            s(r, "term")
        );
        assert_eq!(got.df_k, r["df_k"].as_f64().unwrap(), "{what} K");
        n += check(&what, &got.inference, r);
    }
    n
}

#[test]
fn absorbed_fixed_effects_match_fixest_conventions() {
    // Grunfeld: balanced, one and two fixed effects; 16 rows per package.
    assert_eq!(fe_case("fe_grunfeld"), 2 * 16 * 7);
}

#[test]
fn unbalanced_two_way_panel_matches_pyfixest_and_dummy_regression() {
    assert_eq!(fe_case("fe_empluk"), 2 * 24 * 7);
}

// ----------------------------------------------------------- effect sizes ---

#[test]
fn hedges_g_and_cohens_d_match_metafor() {
    let case = fixture("effect_size_smd");
    let mut n = 0;
    for r in case["results"].as_array().unwrap() {
        let f = frame(case["data"][s(r, "case")].as_str().unwrap());
        let y = nums(&f, s(r, "outcome"));
        let arm = labels(&f, s(r, "treatment"));
        let pick = |v: &str| -> Vec<f64> {
            y.iter()
                .zip(&arm)
                .filter(|(_, a)| *a == v)
                .map(|(y, _)| *y)
                .collect()
        };
        let (t, c) = (pick(s(r, "treated")), pick(s(r, "control")));
        assert_eq!(t.len() as u64, r["n_treated"].as_u64().unwrap());
        let got = match s(r, "estimator") {
            "hedges_g" => effect_size::hedges_g(&t, &c, 0.95),
            "cohens_d" => effect_size::cohens_d(&t, &c, 0.95),
            other => panic!("{other}"),
        }
        .unwrap();
        let what = format!("{} {} {}", s(r, "estimator"), s(r, "case"), s(r, "treated"));
        assert_close(
            &format!("{what} variance"),
            got.std_error * got.std_error,
            r["variance"].as_f64().unwrap(),
        );
        n += check(&what, &got, r);
    }
    // 4 comparisons × (metafor g, closed-form d, scipy g) × 6 fields.
    assert_eq!(n, 12 * 6);
}

// ------------------------------------------------------------------ Fisher ---

/// Fisher rows of a case: p against every package, estimate and CI against mpmath.
fn fisher_rows(what: &str, t: Counts, c: Counts, rows: &[&Value]) -> usize {
    let got = exact::fisher_exact(t, c, 0.95).unwrap();
    let mut n = 0;
    for r in rows {
        let pkg = s(r, "package");
        assert_close(
            &format!("{what} p [{pkg}]"),
            got.p_value,
            r["p_value"].as_f64().unwrap(),
        );
        n += 1;
        if pkg.starts_with("mpmath") {
            for (k, v) in [
                ("estimate", got.odds_ratio),
                ("ci_low", got.ci_low),
                ("ci_high", got.ci_high),
            ] {
                assert_close(&format!("{what} {k}"), v, r[k].as_f64().unwrap());
                n += 1;
            }
        } else if pkg.starts_with("stats::fisher.test") {
            // R's uniroot tolerance: the estimate and limits agree only to ~1e-2.
            assert!((got.odds_ratio / r["estimate"].as_f64().unwrap() - 1.0).abs() < 1e-2);
        }
    }
    n
}

#[test]
fn fisher_exact_matches_r_scipy_and_mpmath() {
    let mut n = 0;
    for name in [
        "lalonde_employed78",
        "lalonde_nonblack_employed78",
        "achievement_awards_2001_bagrut_binary",
    ] {
        let case = fixture(name);
        let c = |x: &str, m: &str| {
            Counts::new(case[x].as_u64().unwrap(), case[m].as_u64().unwrap()).unwrap()
        };
        let rows: Vec<&Value> = case["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["estimator"] == "fisher")
            .collect();
        n += fisher_rows(
            name,
            c("x_treated", "n_treated"),
            c("x_control", "n_control"),
            &rows,
        );
    }
    let small = fixture("fisher_small_tables");
    let all = small["results"].as_array().unwrap();
    for table in ["TeaTasting", "Convictions"] {
        let rows: Vec<&Value> = all.iter().filter(|r| r["table"] == table).collect();
        let c = |x: &str, m: &str| {
            Counts::new(rows[0][x].as_u64().unwrap(), rows[0][m].as_u64().unwrap()).unwrap()
        };
        n += fisher_rows(
            table,
            c("x_treated", "n_treated"),
            c("x_control", "n_control"),
            &rows,
        );
    }
    // 5 tables × (3 p-values + estimate and 2 limits from mpmath).
    assert_eq!(n, 5 * 6);
}

// --------------------------------------------------------------- p.adjust ---

#[test]
fn adjusted_p_values_match_r_p_adjust_and_statsmodels() {
    let case = fixture("p_adjust");
    let mut n = 0;
    for r in case["results"].as_array().unwrap() {
        let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        let p: Vec<f64> = r["p"].as_array().unwrap().iter().map(num).collect();
        let want: Vec<f64> = r["adjusted"].as_array().unwrap().iter().map(num).collect();
        let method = match s(r, "method") {
            "holm" => Adjustment::Holm,
            "bonferroni" => Adjustment::Bonferroni,
            "BH" => Adjustment::BenjaminiHochberg,
            other => panic!("{other}"),
        };
        assert_eq!(method.r_name(), s(r, "method"));
        let got = multiplicity::adjust(&p, method);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let what = format!(
                "{} {} [{i}] [{}]",
                s(r, "set"),
                s(r, "method"),
                s(r, "package")
            );
            if w.is_nan() {
                assert!(g.is_nan(), "{what}: got {g}, want NA");
            } else {
                assert!(close(*g, *w), "{what}: got {g:.17e}, want {w:.17e}");
            }
            n += 1;
        }
    }
    assert!(n > 60, "{n}");
}
