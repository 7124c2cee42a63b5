//! Difference-in-differences (`stats::did`) against pyfixest 0.60 and R clubSandwich on
//! real public panels: the Callaway-Sant'Anna `mpdta` county teen-employment panel
//! (500 counties, 2003-2007, staggered adoption) and Grunfeld (10 firms, 20 years, with a
//! pseudo-adoption by firm). Values in tests/fixtures/reference/did_reference.json, made
//! by scripts/fixtures/make_did_fixtures.py and make_did_fixtures.R, where every
//! convention is written beside the case:
//! - TWFE: `feols("y ~ D | unit + year", vcov={"CRV1": unit}, ssc=ssc(k_fixef=...))`,
//!   k_fixef "nonnested" = `--small-sample nested`, "full" = all, "none" = none; t on
//!   G − 1 df.
//! - Event study: pyfixest with relative-period dummies (reference −1 left out, never
//!   treated all zero, endpoints binned to the window), same vcov.
//! - Pre-trend: pyfixest `wald_test` Wald statistic W on the pre-period coefficients;
//!   F = W/q on (q, G − 1) df.
//! - CR2: clubSandwich 0.5.8 `vcovCR(lm(inv ~ D + factor(firm) + factor(year)), type =
//!   "CR2")`, `coef_test(test = "Satterthwaite")`.

use serde_json::Value;
use via_eval::stats::did::{DidOptions, Panel, event_study, twfe_did, unit_first_treated};
use via_eval::stats::fe::{FeSmallSample, FeWeights};

mod common;
use common::{assert_close, root};

struct Data {
    names: Vec<String>,
    cols: Vec<Vec<f64>>,
}

impl Data {
    fn read(file: &str) -> Self {
        let text = std::fs::read_to_string(root().join("tests/fixtures/data").join(file)).unwrap();
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
}

/// A panel's owned columns: y, unit codes, periods, first treated per unit.
struct Owned {
    y: Vec<f64>,
    unit: Vec<u32>,
    period: Vec<i64>,
    /// First treated period per unit.
    unit_first: Vec<Option<i64>>,
    weights: Option<Vec<f64>>,
}

impl Owned {
    fn new(d: &Data, unit: &str, time: &str, y: &str, first: impl Fn(usize) -> i64) -> Self {
        let mut labels: Vec<i64> = d.col(unit).iter().map(|&v| v as i64).collect();
        labels.sort_unstable();
        labels.dedup();
        let unit_codes: Vec<u32> = d
            .col(unit)
            .iter()
            .map(|&v| labels.binary_search(&(v as i64)).unwrap() as u32)
            .collect();
        let n = d.col(y).len();
        let first: Vec<Option<i64>> = (0..n).map(|i| Some(first(i)).filter(|&g| g > 0)).collect();
        let unit_first = unit_first_treated(&unit_codes, &first).unwrap();
        Self {
            y: d.col(y).to_vec(),
            unit: unit_codes,
            period: d.col(time).iter().map(|&v| v as i64).collect(),
            unit_first,
            weights: None,
        }
    }
    fn panel(&self) -> Panel<'_> {
        Panel {
            y: &self.y,
            unit: &self.unit,
            period: &self.period,
            unit_first_treated: &self.unit_first,
            cluster: &self.unit,
            covariates: &[],
            weights: match &self.weights {
                Some(w) => FeWeights::Analytic(w),
                None => FeWeights::None,
            },
        }
    }
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/reference/did_reference.json"))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn mpdta() -> Owned {
    let d = Data::read("mpdta.csv");
    let first = d.col("first.treat").to_vec();
    Owned::new(&d, "countyreal", "year", "lemp", |i| first[i] as i64)
}

fn grunfeld() -> Owned {
    let d = Data::read("grunfeld.csv");
    let firm = d.col("firm").to_vec();
    Owned::new(&d, "firm", "year", "inv", |i| match firm[i] as i64 {
        1..=3 => 1945,
        4..=6 => 1950,
        _ => 0,
    })
}

fn check_inference(case: &str, got: &via_eval::stats::Inference, want: &Value) {
    assert_close(
        &format!("{case} estimate"),
        got.estimate,
        want["estimate"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} SE"),
        got.std_error,
        want["std_error"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} t"),
        got.statistic,
        want["statistic"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} p"),
        got.p_value,
        want["p_value"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} ci_low"),
        got.ci_low,
        want["ci_low"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} ci_high"),
        got.ci_high,
        want["ci_high"].as_f64().unwrap(),
    );
}

#[test]
fn twfe_matches_pyfixest_for_each_small_sample_rule() {
    let r = reference();
    let m = mpdta();
    for (case, rule) in [
        ("mpdta_twfe_nested", FeSmallSample::Nested),
        ("mpdta_twfe_all", FeSmallSample::All),
        ("mpdta_twfe_none", FeSmallSample::None),
    ] {
        let opts = DidOptions {
            small_sample: rule,
            ..DidOptions::default()
        };
        let got = twfe_did(&m.panel(), &opts).unwrap();
        let want = &r["cases"][case];
        check_inference(case, &got.inference, want);
        assert_eq!(got.inference.df, Some(want["df"].as_f64().unwrap()));
        assert_eq!(got.clusters, 500);
        // 500 clusters: no CR2 or wild bootstrap.
        assert!(got.few_clusters.is_none());
    }
}

#[test]
fn weighted_twfe_matches_pyfixest() {
    let r = reference();
    let mut m = mpdta();
    let d = Data::read("mpdta.csv");
    m.weights = Some(d.col("lpop").iter().map(|v| v.exp()).collect());
    let got = twfe_did(&m.panel(), &DidOptions::default()).unwrap();
    check_inference(
        "mpdta_twfe_weighted",
        &got.inference,
        &r["cases"]["mpdta_twfe_weighted"],
    );
}

#[test]
fn few_clusters_twfe_matches_pyfixest_and_clubsandwich() {
    let r = reference();
    let g = grunfeld();
    let got = twfe_did(&g.panel(), &DidOptions::default()).unwrap();
    check_inference(
        "grunfeld_twfe_nested",
        &got.inference,
        &r["cases"]["grunfeld_twfe_nested"],
    );
    let fc = got
        .few_clusters
        .expect("10 clusters: CR2 and wild bootstrap");
    let want = &r["cases"]["grunfeld_twfe_cr2"];
    assert_close(
        "CR2 estimate",
        fc.cr2.estimate,
        want["estimate"].as_f64().unwrap(),
    );
    assert_close(
        "CR2 SE",
        fc.cr2.std_error,
        want["std_error"].as_f64().unwrap(),
    );
    assert_close(
        "CR2 BM df",
        fc.cr2.df.unwrap(),
        want["df"].as_f64().unwrap(),
    );
    assert_close("CR2 p", fc.cr2.p_value, want["p_value"].as_f64().unwrap());
    // 2^10 = 1024 sign vectors ≤ 9999 draws: enumerated, so the p-value does not
    // depend on the seed.
    assert!(fc.wild_enumerated);
    assert_eq!(fc.wild_reps, 1024);
    let other = twfe_did(
        &g.panel(),
        &DidOptions {
            seed: 99,
            ..DidOptions::default()
        },
    )
    .unwrap();
    assert_eq!(other.few_clusters.unwrap().wild_p_value, fc.wild_p_value);
    // wildboottest 0.3.2 (WCR, Rademacher, enumerated) on the same dummy design counts
    // |t*| > |t| strictly; the all-ones and all-minus-ones draws tie with |t| and are
    // counted here, so the count is 2 higher.
    let w = &r["cases"]["grunfeld_twfe_wild"];
    assert_eq!(
        (fc.wild_p_value * 1024.0).round() as i64,
        w["n_extreme_strict"].as_i64().unwrap() + 2
    );
}

fn check_event_study(case: &str, o: &Owned, window: Option<(i64, i64)>) {
    let r = reference();
    let want = &r["cases"][case];
    let got = event_study(&o.panel(), -1, window, &DidOptions::default()).unwrap();
    let wc = want["coefficients"].as_array().unwrap();
    assert_eq!(
        got.coefficients.len(),
        wc.len(),
        "{case}: number of coefficients"
    );
    for (c, w) in got.coefficients.iter().zip(wc) {
        assert_eq!(c.event_time, w["event_time"].as_i64().unwrap());
        check_inference(&format!("{case} e={}", c.event_time), &c.inference, w);
    }
    let pw = got.pretrend.unwrap();
    let ww = &want["pretrend_wald"];
    assert_close(
        &format!("{case} W"),
        pw.chi_square,
        ww["chi2"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} chi2 p"),
        pw.chi_square_p_value,
        ww["chi2_p_value"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} F"),
        pw.statistic,
        ww["f"].as_f64().unwrap(),
    );
    assert_close(
        &format!("{case} F p"),
        pw.p_value,
        ww["f_p_value"].as_f64().unwrap(),
    );
    assert_eq!(pw.df1, ww["df1"].as_f64().unwrap());
    assert_eq!(pw.df2, ww["df2"].as_f64().unwrap());
}

#[test]
fn event_study_matches_pyfixest() {
    let m = mpdta();
    check_event_study("mpdta_event_study", &m, None);
    check_event_study("mpdta_event_study_binned", &m, Some((-3, 2)));
    check_event_study("grunfeld_event_study_binned", &grunfeld(), Some((-4, 3)));
}

/// Callaway & Sant'Anna on mpdta against csdid 0.4.3 (R did conventions; see
/// scripts/fixtures/make_cs_fixtures.py): ATT(g,t) with never-treated and with
/// not-yet-treated controls and a varying base period, the simple and dynamic aggregations, analytic SEs.
#[test]
fn callaway_santanna_matches_csdid() {
    use via_eval::stats::did_cs::{CsControl, cs_att_gt, wide_from_panel};
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/reference/cs_mpdta.json")).unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    let m = mpdta();
    let (y, periods, first) = wide_from_panel(&m.panel()).unwrap();
    for (control, r) in [
        (CsControl::Never, &r),
        (CsControl::NotYet, &r["notyettreated"]),
    ] {
        let fit = cs_att_gt(&y, &periods, &first, control, 0.95).unwrap();
        let g = &r["att_gt"];
        assert_eq!(fit.cells.len(), g["att"].as_array().unwrap().len());
        for (k, c) in fit.cells.iter().enumerate() {
            assert_eq!(c.group, g["group"][k].as_i64().unwrap());
            assert_eq!(c.time, g["time"][k].as_i64().unwrap());
            assert_close(
                &format!("ATT({},{})", c.group, c.time),
                c.inference.estimate,
                g["att"][k].as_f64().unwrap(),
            );
            assert_close(
                &format!("SE({},{})", c.group, c.time),
                c.inference.std_error,
                g["std_error"][k].as_f64().unwrap(),
            );
        }
        let s = fit.simple().unwrap();
        assert_close(
            "simple",
            s.inference.estimate,
            r["simple"]["att"].as_f64().unwrap(),
        );
        assert_close(
            "simple SE",
            s.inference.std_error,
            r["simple"]["std_error"].as_f64().unwrap(),
        );
        let (by_e, overall) = fit.dynamic().unwrap();
        let d = &r["dynamic"];
        assert_close(
            "dynamic",
            overall.inference.estimate,
            d["att"].as_f64().unwrap(),
        );
        assert_close(
            "dynamic SE",
            overall.inference.std_error,
            d["std_error"].as_f64().unwrap(),
        );
        assert_eq!(by_e.len(), d["event_time"].as_array().unwrap().len());
        for (k, e) in by_e.iter().enumerate() {
            assert_eq!(e.event_time, d["event_time"][k].as_i64());
            assert_close(
                "dynamic e",
                e.inference.estimate,
                d["att_e"][k].as_f64().unwrap(),
            );
            assert_close(
                "dynamic e SE",
                e.inference.std_error,
                d["std_error_e"][k].as_f64().unwrap(),
            );
        }
        for (name, (rows, overall)) in [
            ("group", fit.by_group().unwrap()),
            ("calendar", fit.by_calendar().unwrap()),
        ] {
            let w = &r[name];
            assert_close(name, overall.inference.estimate, w["att"].as_f64().unwrap());
            assert_close(
                name,
                overall.inference.std_error,
                w["std_error"].as_f64().unwrap(),
            );
            assert_eq!(rows.len(), w["egt"].as_array().unwrap().len());
            for (k, row) in rows.iter().enumerate() {
                assert_eq!(row.event_time, w["egt"][k].as_i64());
                assert_close(
                    name,
                    row.inference.estimate,
                    w["att_egt"][k].as_f64().unwrap(),
                );
                assert_close(
                    name,
                    row.inference.std_error,
                    w["std_error_egt"][k].as_f64().unwrap(),
                );
            }
        }
    }
}

/// TWFE with time-varying covariates (Grunfeld's value and capital) against pyfixest
/// `feols("inv ~ D + value + capital | firm + year", vcov={"CRV1": "firm"})`.
#[test]
fn twfe_with_covariates_matches_pyfixest() {
    let r = reference();
    let g = grunfeld();
    let d = Data::read("grunfeld.csv");
    let covs: Vec<&[f64]> = vec![d.col("value"), d.col("capital")];
    let p = Panel {
        covariates: &covs,
        ..g.panel()
    };
    let got = twfe_did(&p, &DidOptions::default()).unwrap();
    check_inference(
        "grunfeld_twfe_covariates",
        &got.inference,
        &r["cases"]["grunfeld_twfe_covariates"],
    );
    assert_eq!(got.covariates.len(), 2);
}
