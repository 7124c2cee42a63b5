//! The multiplier bootstrap of Callaway & Sant'Anna (`stats::did_cs::multiplier_bootstrap`)
//! on mpdta: reproducible with a seed, the uniform critical value between the pointwise
//! normal quantile and Bonferroni's, bootstrap SEs close to the analytic ones, and close
//! to csdid 0.4.3's bootstrap (tests/fixtures/reference/cs_bootstrap_mpdta.json, made by
//! scripts/fixtures/make_cs_bootstrap_fixtures.py). csdid draws with numpy's generator
//! and via-eval with ChaCha8, so the last comparison is loose (Monte Carlo error), not
//! to 1e-8.

use serde_json::Value;
use via_eval::stats::did::Panel;
use via_eval::stats::did_cs::{CsControl, CsFit, cs_att_gt, multiplier_bootstrap, wide_from_panel};
use via_eval::stats::dist::normal_quantile;
use via_eval::stats::fe::FeWeights;

mod common;
use common::{mpdta_did_args, root};

fn fit() -> CsFit {
    let text = std::fs::read_to_string(root().join("tests/fixtures/data/mpdta.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (cu, cy, cl, cg) = (
        col("countyreal"),
        col("year"),
        col("lemp"),
        col("first.treat"),
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let mut ids: Vec<i64> = rows.iter().map(|r| r[cu] as i64).collect();
    ids.sort_unstable();
    ids.dedup();
    let y: Vec<f64> = rows.iter().map(|r| r[cl]).collect();
    let unit: Vec<u32> = rows
        .iter()
        .map(|r| ids.binary_search(&(r[cu] as i64)).unwrap() as u32)
        .collect();
    let year: Vec<i64> = rows.iter().map(|r| r[cy] as i64).collect();
    let first: Vec<Option<i64>> = rows
        .iter()
        .map(|r| Some(r[cg] as i64).filter(|&g| g > 0))
        .collect();
    let p = Panel {
        y: &y,
        unit: &unit,
        period: &year,
        unit_first_treated: &via_eval::stats::did::unit_first_treated(&unit, &first).unwrap(),
        cluster: &unit,
        covariates: &[],
        weights: FeWeights::None,
    };
    let (w, periods, g) = wide_from_panel(&p).unwrap();
    cs_att_gt(&w, &periods, &g, CsControl::Never, 0.95).unwrap()
}

fn reference() -> Value {
    let t =
        std::fs::read_to_string(root().join("tests/fixtures/reference/cs_bootstrap_mpdta.json"))
            .unwrap();
    serde_json::from_str(&t).unwrap()
}

#[test]
fn bootstrap_is_reproducible_bounded_and_close_to_the_analytic_and_csdid_values() {
    let f = fit();
    let reps = 9_999;
    let cells = f.bootstrap_cells(reps, 20_240_601).unwrap();
    // Same seed, same numbers; another seed, other numbers.
    assert_eq!(cells, f.bootstrap_cells(reps, 20_240_601).unwrap());
    assert_ne!(
        cells.crit_value,
        f.bootstrap_cells(reps, 7).unwrap().crit_value
    );
    let k = f.cells.len() as f64;
    let pointwise = normal_quantile(0.975);
    let bonferroni = normal_quantile(1.0 - 0.025 / k);
    assert!(
        pointwise <= cells.crit_value && cells.crit_value <= bonferroni,
        "crit {} not in [{pointwise}, {bonferroni}]",
        cells.crit_value
    );
    let want = reference();
    let mut worst_analytic: f64 = 0.0;
    let mut worst_csdid: f64 = 0.0;
    for (j, c) in f.cells.iter().enumerate() {
        let se = cells.std_error[j].unwrap();
        worst_analytic = worst_analytic.max((se / c.inference.std_error - 1.0).abs());
        let theirs = want["att_gt"]["std_error"][j].as_f64().unwrap();
        assert_eq!(want["att_gt"]["group"][j].as_i64().unwrap(), c.group);
        assert_eq!(want["att_gt"]["time"][j].as_i64().unwrap(), c.time);
        worst_csdid = worst_csdid.max((se / theirs - 1.0).abs());
    }
    println!(
        "ATT(g,t): crit {:.4} (csdid {:.4}); bootstrap SE vs analytic at most {:.1}% apart, vs csdid {:.1}%",
        cells.crit_value,
        want["att_gt"]["crit_value"].as_f64().unwrap(),
        100.0 * worst_analytic,
        100.0 * worst_csdid
    );
    // The interquartile-range SE differs from the analytic SD where the influence
    // function is heavy-tailed (cohort 2004 has 20 counties): within 10%.
    assert!(worst_analytic < 0.10, "{worst_analytic}");
    assert!(worst_csdid < 0.05, "{worst_csdid}");
    let crit_csdid = want["att_gt"]["crit_value"].as_f64().unwrap();
    assert!((cells.crit_value / crit_csdid - 1.0).abs() < 0.05);

    let dynamic = f.bootstrap_dynamic(reps, 20_240_601).unwrap();
    let (by_e, _) = f.dynamic().unwrap();
    assert_eq!(dynamic.std_error.len(), by_e.len());
    let bonferroni = normal_quantile(1.0 - 0.025 / by_e.len() as f64);
    assert!(pointwise <= dynamic.crit_value && dynamic.crit_value <= bonferroni);
    let crit_csdid = want["dynamic"]["crit_value"].as_f64().unwrap();
    println!(
        "dynamic: crit {:.4} (csdid {crit_csdid:.4})",
        dynamic.crit_value
    );
    assert!((dynamic.crit_value / crit_csdid - 1.0).abs() < 0.05);
    for (j, d) in by_e.iter().enumerate() {
        let se = dynamic.std_error[j].unwrap();
        assert!((se / d.inference.std_error - 1.0).abs() < 0.10);
        let theirs = want["dynamic"]["std_error"][j].as_f64().unwrap();
        assert!(
            (se / theirs - 1.0).abs() < 0.05,
            "e = {:?}: {se} vs {theirs}",
            d.event_time
        );
    }
}

#[test]
fn bootstrap_of_a_normal_influence_function_recovers_its_sd() {
    // ψ_i = ±1 alternating with a few larger values: the SD of n^{-1/2} Σ v_i ψ_i is
    // √(mean ψ²) exactly; IQR/1.349 estimates it for this near-normal sum.
    let psi: Vec<f64> = (0..400)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let b = multiplier_bootstrap(&[&psi], 9_999, 1, 0.95).unwrap();
    let se = b.std_error[0].unwrap();
    // SE = sd / √n = 1/20.
    assert!((se / 0.05 - 1.0).abs() < 0.04, "{se}");
    // One statistic: the band is the pointwise interval (up to Monte Carlo error).
    assert!((b.crit_value - 1.96).abs() < 0.08, "{}", b.crit_value);
    assert!(multiplier_bootstrap(&[], 10, 1, 0.95).is_err());
    assert!(multiplier_bootstrap(&[&psi], 1, 1, 0.95).is_err());
}

fn run(extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let data = root()
        .join("tests/fixtures/data/mpdta.csv")
        .display()
        .to_string();
    let mut args = mpdta_did_args(&data, &["--format", "json"]);
    args.extend_from_slice(extra);
    common::run_in(dir.path(), &args)
}

#[test]
fn the_command_reports_bands_and_refuses_bad_bootstrap_flags() {
    let res = run(&["--estimator", "cs", "--bootstrap", "999", "--seed", "11"]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let again = run(&["--estimator", "cs", "--bootstrap", "999", "--seed", "11"]);
    assert_eq!(res.stdout, again.stdout, "same seed, same output");
    let v: Value = serde_json::from_slice(&res.stdout).unwrap();
    let rows = v["estimates"].as_array().unwrap();
    let cells: Vec<&Value> = rows
        .iter()
        .filter(|r| r["estimator"] == "cs_att_gt")
        .collect();
    assert_eq!(cells.len(), 12);
    let crit = cells[0]["crit_value"].as_f64().unwrap();
    assert!(crit > 1.96);
    for r in &cells {
        assert_eq!(r["crit_value"].as_f64().unwrap(), crit);
        let (lo, hi) = (
            r["band_low"].as_f64().unwrap(),
            r["band_high"].as_f64().unwrap(),
        );
        let est = r["estimate"].as_f64().unwrap();
        let se = r["bootstrap_se"].as_f64().unwrap();
        assert!((hi - lo - 2.0 * crit * se).abs() < 1e-12 && lo < est && est < hi);
    }
    // The event-time effects have their own band; the overall rows have none.
    let dynamic: Vec<&Value> = rows
        .iter()
        .filter(|r| r["estimator"] == "cs_dynamic" && !r["event_time"].is_null())
        .collect();
    assert!(dynamic.iter().all(|r| r["crit_value"].as_f64().is_some()));
    assert!(
        rows.iter()
            .filter(|r| r["estimator"] == "cs_simple")
            .all(|r| r["crit_value"].is_null())
    );
    // Bad flags: a clear usage error, non-zero exit.
    for (extra, word) in [
        (
            vec!["--estimator", "twfe", "--bootstrap", "999"],
            "--estimator cs or all",
        ),
        (
            vec!["--estimator", "cs", "--bootstrap", "10"],
            "at least 99",
        ),
        (vec!["--permutations", "99"], "--permutations"),
    ] {
        let res = run(&extra);
        assert!(!res.status.success());
        let msg = String::from_utf8_lossy(&res.stderr);
        assert!(msg.contains(word), "{msg}");
        assert!(!msg.contains("panicked"));
    }
}

#[test]
fn the_group_time_chart_is_written_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("charts");
    let res = run(&[
        "--estimator",
        "cs",
        "--bootstrap",
        "199",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    for (lang, title, band) in [
        (
            "en",
            "Effect by group and period",
            "band for all points together",
        ),
        (
            "nl",
            "Effect per groep en periode",
            "band voor alle punten samen",
        ),
    ] {
        let png = std::fs::read(out.join(format!("group_time.{lang}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
        let svg = std::fs::read_to_string(out.join(format!("group_time.{lang}.svg"))).unwrap();
        assert!(svg.contains(title), "{lang}");
        assert!(svg.contains(band), "{lang}");
        for g in ["2004", "2006", "2007"] {
            assert!(svg.contains(&format!("{g} (start)")), "{lang} {g}");
        }
    }
    // Without Callaway & Sant'Anna there is no group-time chart.
    let out2 = dir.path().join("twfe");
    let res = run(&["--estimator", "twfe", "--out", out2.to_str().unwrap()]);
    assert!(res.status.success());
    assert!(!out2.join("group_time.en.png").exists());
}
