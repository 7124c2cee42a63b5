//! Sun & Abraham (`stats::did_sa`) against pyfixest 0.60's saturated event study on the
//! `mpdta` county panel (tests/fixtures/reference/sa_mpdta.json, made by
//! scripts/fixtures/make_sa_fixtures.py, where the conventions are written out): the
//! cohort x relative-period coefficients with CRV1 by county (fixest's small-sample
//! factor, K leaving out the nested county effects), the event-time effects with
//! cohort-share weights (pyfixest `aggregate`), the overall ATT (every post-period cell
//! weighted by its rows, computed by hand on pyfixest's fit), t on G − 1 df; the
//! never-treated counties as controls, and (block `last_treated`) the 2007 cohort as
//! controls when mpdta's never-treated counties are left out. Plus properties.

use serde_json::Value;
use via_eval::stats::Inference;
use via_eval::stats::did::{DidOptions, Panel, unit_first_treated};
use via_eval::stats::did_sa::{SaControl, sun_abraham};
use via_eval::stats::fe::FeWeights;

mod common;
use common::{assert_close, mpdta_did_args, root};

struct Mpdta {
    y: Vec<f64>,
    unit: Vec<u32>,
    year: Vec<i64>,
    first: Vec<Option<i64>>,
    /// `first` per unit.
    unit_first: Vec<Option<i64>>,
}

fn mpdta() -> Mpdta {
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
    Mpdta::new(
        rows.iter().map(|r| r[cl]).collect(),
        rows.iter()
            .map(|r| ids.binary_search(&(r[cu] as i64)).unwrap() as u32)
            .collect(),
        rows.iter().map(|r| r[cy] as i64).collect(),
        rows.iter()
            .map(|r| Some(r[cg] as i64).filter(|&g| g > 0))
            .collect(),
    )
}

impl Mpdta {
    fn new(y: Vec<f64>, unit: Vec<u32>, year: Vec<i64>, first: Vec<Option<i64>>) -> Self {
        let unit_first = unit_first_treated(&unit, &first).unwrap();
        Self {
            y,
            unit,
            year,
            first,
            unit_first,
        }
    }
    fn panel(&self) -> Panel<'_> {
        Panel {
            y: &self.y,
            unit: &self.unit,
            period: &self.year,
            unit_first_treated: &self.unit_first,
            cluster: &self.unit,
            covariates: &[],
            weights: FeWeights::None,
        }
    }
    fn without_never_treated(&self) -> Self {
        let keep: Vec<usize> = (0..self.y.len())
            .filter(|&i| self.first[i].is_some())
            .collect();
        Self::new(
            keep.iter().map(|&i| self.y[i]).collect(),
            keep.iter().map(|&i| self.unit[i]).collect(),
            keep.iter().map(|&i| self.year[i]).collect(),
            keep.iter().map(|&i| self.first[i]).collect(),
        )
    }
}

fn reference() -> Value {
    let t = std::fs::read_to_string(root().join("tests/fixtures/reference/sa_mpdta.json")).unwrap();
    serde_json::from_str(&t).unwrap()
}

fn check(case: &str, got: &Inference, want: &Value) {
    for (name, g) in [
        ("estimate", got.estimate),
        ("std_error", got.std_error),
        ("statistic", got.statistic),
        ("p_value", got.p_value),
        ("ci_low", got.ci_low),
        ("ci_high", got.ci_high),
    ] {
        assert_close(&format!("{case} {name}"), g, want[name].as_f64().unwrap());
    }
    assert_eq!(got.df, want["df"].as_f64(), "{case} df");
}

fn check_block(block: &Value, r: &via_eval::stats::did_sa::SaResult) {
    assert_eq!(r.n as u64, block["n"].as_u64().unwrap());
    assert_eq!(r.clusters as u64, block["clusters"].as_u64().unwrap());
    let cells = block["cells"].as_array().unwrap();
    assert_eq!(r.cells.len(), cells.len());
    for want in cells {
        let (g, e) = (
            want["group"].as_i64().unwrap(),
            want["event_time"].as_i64().unwrap(),
        );
        let got = r
            .cells
            .iter()
            .find(|c| c.group == g && c.event_time == e)
            .unwrap_or_else(|| panic!("no cell g={g}, e={e}"));
        check(&format!("cell g={g} e={e}"), &got.inference, want);
    }
    let event = block["event"].as_array().unwrap();
    assert_eq!(r.event.len(), event.len());
    for (got, want) in r.event.iter().zip(event) {
        assert_eq!(got.event_time, want["event_time"].as_i64().unwrap());
        check(&format!("event {}", got.event_time), &got.inference, want);
    }
    check("ATT", &r.att, &block["att"]);
}

#[test]
fn sun_abraham_matches_pyfixest_with_never_treated_controls() {
    let m = mpdta();
    let r = sun_abraham(&m.panel(), -1, &DidOptions::default()).unwrap();
    assert_eq!(r.control, SaControl::Never);
    check_block(&reference()["never_treated"], &r);
}

#[test]
fn sun_abraham_matches_pyfixest_with_the_last_treated_cohort_as_controls() {
    let m = mpdta().without_never_treated();
    let r = sun_abraham(&m.panel(), -1, &DidOptions::default()).unwrap();
    let block = &reference()["last_treated"];
    assert_eq!(
        r.control,
        SaControl::LastTreated(block["control_cohort"].as_i64().unwrap())
    );
    assert_eq!(r.last_period, 2006);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("last-treated cohort (2007)"))
    );
    check_block(block, &r);
}

/// With never-treated controls and no covariates Sun & Abraham's post-period cells are
/// Callaway & Sant'Anna's ATT(g,t) (never-treated controls; base period g − 1, the
/// varying base period's post-period rule): the same numbers by a regression.
#[test]
fn post_period_cells_equal_callaway_santanna() {
    let m = mpdta();
    let r = sun_abraham(&m.panel(), -1, &DidOptions::default()).unwrap();
    let (y, periods, first) = via_eval::stats::did_cs::wide_from_panel(&m.panel()).unwrap();
    let cs = via_eval::stats::did_cs::cs_att_gt(
        &y,
        &periods,
        &first,
        via_eval::stats::did_cs::CsControl::Never,
        0.95,
    )
    .unwrap();
    for c in r.cells.iter().filter(|c| c.event_time >= 0) {
        let t = c.group + c.event_time;
        let cell = cs
            .cells
            .iter()
            .find(|a| a.group == c.group && a.time == t)
            .unwrap();
        assert!((c.inference.estimate - cell.inference.estimate).abs() < 1e-10);
    }
}

#[test]
fn properties_shift_scale_and_interval() {
    let m = mpdta();
    let base = sun_abraham(&m.panel(), -1, &DidOptions::default()).unwrap();
    // A constant added to the outcome, or a period-specific shock common to all units,
    // leaves every effect and SE unchanged.
    let mut s = mpdta();
    for i in 0..s.y.len() {
        s.y[i] += 3.0 + 0.25 * (s.year[i] - 2003) as f64;
    }
    let r = sun_abraham(&s.panel(), -1, &DidOptions::default()).unwrap();
    assert!((r.att.estimate - base.att.estimate).abs() < 1e-10);
    assert!((r.att.std_error - base.att.std_error).abs() < 1e-10);
    // Scaling the outcome scales the effects and SEs and keeps t.
    let mut s = mpdta();
    s.y.iter_mut().for_each(|v| *v *= -2.0);
    let r = sun_abraham(&s.panel(), -1, &DidOptions::default()).unwrap();
    assert!((r.att.estimate + 2.0 * base.att.estimate).abs() < 1e-10);
    assert!((r.att.statistic + base.att.statistic).abs() < 1e-8);
    // Adding a known effect to the treated rows from the start on moves every
    // post-period effect by it and no pre-period one.
    let mut s = mpdta();
    for i in 0..s.y.len() {
        if s.first[i].is_some_and(|g| s.year[i] >= g) {
            s.y[i] += 0.5;
        }
    }
    let r = sun_abraham(&s.panel(), -1, &DidOptions::default()).unwrap();
    for (a, b) in r.event.iter().zip(&base.event) {
        let d = if a.event_time >= 0 { 0.5 } else { 0.0 };
        assert!((a.inference.estimate - b.inference.estimate - d).abs() < 1e-10);
    }
    for e in base.event.iter().map(|e| &e.inference).chain([&base.att]) {
        assert!(e.ci_low < e.estimate && e.estimate < e.ci_high);
        assert!(e.std_error > 0.0 && e.p_value > 0.0 && e.p_value <= 1.0);
    }
}

#[test]
fn bad_input_is_refused_with_clear_errors() {
    let m = mpdta();
    // A reference period no cohort is observed at.
    let err = sun_abraham(&m.panel(), -9, &DidOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("reference period -9"), "{err}");
    // One cohort only and no never-treated units: nothing to compare with.
    let keep: Vec<usize> = (0..m.y.len())
        .filter(|&i| m.first[i] == Some(2007))
        .collect();
    let y: Vec<f64> = keep.iter().map(|&i| m.y[i]).collect();
    let u: Vec<u32> = keep.iter().map(|&i| m.unit[i]).collect();
    let t: Vec<i64> = keep.iter().map(|&i| m.year[i]).collect();
    let g: Vec<Option<i64>> = keep.iter().map(|&i| m.first[i]).collect();
    let p = Panel {
        y: &y,
        unit: &u,
        period: &t,
        unit_first_treated: &unit_first_treated(&u, &g).unwrap(),
        cluster: &u,
        covariates: &[],
        weights: FeWeights::None,
    };
    let err = sun_abraham(&p, -1, &DidOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no comparison group"), "{err}");
}

fn run_sa(extra: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = root()
        .join("tests/fixtures/data/mpdta.csv")
        .display()
        .to_string();
    let mut args = mpdta_did_args(&data, &["--format", "json"]);
    args.extend_from_slice(extra);
    let res = common::run_in(dir.path(), &args);
    assert!(res.status.success(), "{}", common::show(&args, &res));
    (
        serde_json::from_slice(&res.stdout).unwrap(),
        String::from_utf8_lossy(&res.stderr).into(),
    )
}

#[test]
fn the_command_reports_sun_abraham_rows_as_the_reference() {
    let (v, _) = run_sa(&["--estimator", "sa"]);
    let want = &reference()["never_treated"];
    let rows: Vec<&Value> = v["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["estimator"] == "sun_abraham")
        .collect();
    assert_eq!(rows.len(), want["event"].as_array().unwrap().len() + 1);
    assert_eq!(v["estimates"].as_array().unwrap().len(), rows.len());
    for (got, w) in rows.iter().zip(want["event"].as_array().unwrap()) {
        assert_eq!(got["event_time"], w["event_time"]);
        assert_eq!(got["se_type"], "CRV1");
        for k in ["estimate", "std_error", "p_value", "ci_low", "ci_high"] {
            assert_close(k, got[k].as_f64().unwrap(), w[k].as_f64().unwrap());
        }
    }
    let att = rows.last().unwrap();
    assert!(att["event_time"].is_null());
    assert_close(
        "ATT",
        att["estimate"].as_f64().unwrap(),
        want["att"]["estimate"].as_f64().unwrap(),
    );
    assert_close(
        "ATT SE",
        att["std_error"].as_f64().unwrap(),
        want["att"]["std_error"].as_f64().unwrap(),
    );
    assert_eq!(v["reference"], -1);
    assert!(
        v["conventions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("Sun & Abraham (2021)"))
    );
    // `all` has them too, after the other estimators.
    let (all, _) = run_sa(&[]);
    let n = all["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["estimator"] == "sun_abraham")
        .count();
    assert_eq!(n, rows.len());
}

#[test]
fn small_cells_withhold_sun_abraham_effects() {
    // mpdta's cohorts have 20 (2004), 40 (2006) and 131 (2007) counties: a threshold of 50 withholds the effects
    // that rest on cohort 2004 alone (e = 2, 3) and therefore the ATT, never with a zero.
    let (v, _) = run_sa(&["--estimator", "sa", "--disclosure-threshold", "50"]);
    let rows: Vec<&Value> = v["estimates"].as_array().unwrap().iter().collect();
    let by_e = |e: i64| rows.iter().find(|r| r["event_time"] == e).unwrap();
    assert_eq!(by_e(2)["suppressed"], true);
    assert!(by_e(2)["estimate"].is_null());
    assert_eq!(by_e(0)["suppressed"], false);
    assert_eq!(rows.last().unwrap()["suppressed"], true);
    assert!(rows.last().unwrap()["estimate"].is_null());
}
