//! The simulator: the eight configs and their parameters load, generation is
//! deterministic, sizes and shares follow the parameters, every column the analysis
//! reads is there, truths are exact and well-formed, and missing rates match.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, DataType};
use via_eval::config::{self, OutcomeKind, PilotSpec};
use via_eval::simulate::params::{DrawnModel, FromTime, OutcomeModel};
use via_eval::simulate::{SimData, SimParams, generate, write};
use via_eval::stats::survival::cox_ph;

const SLUGS: [&str; 8] = [
    "ouderbetrokkenheid-vmbo",
    "voorbereiding-mbo",
    "werving-en-selectie",
    "culturele-diversiteit",
    "behoud-en-doorstroom",
    "leren-en-werken",
    "uwv-dienstverlening-ww",
    "intensieve-begeleiding",
];
const SEED: u64 = 20190101;

fn pilots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pilots")
}

fn load(slug: &str) -> (PilotSpec, SimParams) {
    let dir = pilots_dir();
    let spec = PilotSpec::from_file(&dir.join(format!("{slug}.toml")))
        .unwrap_or_else(|e| panic!("{slug}: {e}"));
    let params = SimParams::from_file(&SimParams::path_for(&dir, slug))
        .unwrap_or_else(|e| panic!("{slug}: {e}"));
    (spec, params)
}

fn sim(slug: &str, seed: u64, scale: f64) -> (PilotSpec, SimParams, SimData) {
    let (spec, params) = load(slug);
    let data = generate(&spec, &params, seed, scale).unwrap_or_else(|e| panic!("{slug}: {e}"));
    (spec, params, data)
}

fn text(df: &DataFrame, col: &str) -> Vec<String> {
    let c = df.column(col).unwrap_or_else(|e| panic!("{col}: {e}"));
    c.str()
        .unwrap_or_else(|e| panic!("{col}: {e}"))
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

fn num(df: &DataFrame, col: &str) -> Vec<Option<f64>> {
    let c = df.column(col).unwrap_or_else(|e| panic!("{col}: {e}"));
    let f = c.cast(&DataType::Float64).unwrap();
    f.f64().unwrap().iter().collect()
}

fn counts(v: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for x in v {
        *m.entry(x.clone()).or_insert(0) += 1;
    }
    m
}

#[test]
fn the_eight_configs_and_their_params_load_and_validate() {
    let found: Vec<String> = config::discover(&pilots_dir())
        .unwrap()
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
        .collect();
    let mut want: Vec<String> = SLUGS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(found, want);
    for slug in SLUGS {
        let (spec, params) = load(slug);
        params
            .check(&spec)
            .unwrap_or_else(|e| panic!("{slug}: {e}"));
        let primary = spec.outcomes.iter().filter(|o| o.primary).count();
        assert!(
            (1..=2).contains(&primary),
            "{slug}: {primary} primary outcomes"
        );
        assert!(!spec.sources.is_empty(), "{slug}: no sources");
    }
}

#[test]
fn same_seed_gives_the_same_frame_and_another_seed_does_not() {
    for slug in SLUGS {
        let (_, _, a) = sim(slug, SEED, 0.1);
        let (_, _, b) = sim(slug, SEED, 0.1);
        let (_, _, c) = sim(slug, SEED + 1, 0.1);
        assert!(
            a.frame.equals_missing(&b.frame),
            "{slug}: same seed, different frames"
        );
        assert!(
            !a.frame.equals_missing(&c.frame),
            "{slug}: another seed, same frame"
        );
        assert_eq!(
            serde_json::to_string(&a.truth).unwrap(),
            serde_json::to_string(&b.truth).unwrap()
        );
    }
}

#[test]
fn every_column_the_config_reads_is_generated_and_rows_say_synthetic() {
    for slug in SLUGS {
        let (spec, _, d) = sim(slug, SEED, 0.2);
        let names: BTreeSet<String> = d
            .frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        for c in spec.needed_columns() {
            assert!(names.contains(&c), "{slug}: column {c} missing");
        }
        for c in &spec.covariates {
            let dt = d.frame.column(c).unwrap().dtype().clone();
            assert!(dt.is_primitive_numeric(), "{slug}: covariate {c} is {dt}");
        }
        assert!(
            text(&d.frame, "data_source")
                .iter()
                .all(|s| s == "synthetic")
        );
        if let Some(id) = &spec.data.id {
            let ids = text(&d.frame, id);
            assert_eq!(
                ids.iter().collect::<BTreeSet<_>>().len(),
                ids.len(),
                "{slug}: ids repeat"
            );
        }
        assert!(d.truth.synthetic);
    }
}

#[test]
fn sizes_and_shares_follow_the_parameters() {
    // UWV: 80/10/10 exactly.
    let (_, _, d) = sim("uwv-dienstverlening-ww", SEED, 0.1);
    let arms = counts(&text(&d.frame, "arm"));
    assert_eq!(arms["persoonlijk"], 8000);
    assert_eq!(arms["handhaving"], 1000);
    assert_eq!(arms["basis-online"], 1000);

    // vmbo: 14 schools, 7 per arm, each school in one arm, 60-120 pupils each.
    let (_, _, d) = sim("ouderbetrokkenheid-vmbo", SEED, 1.0);
    let schools = text(&d.frame, "school");
    let arm = text(&d.frame, "arm");
    let mut arm_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (s, a) in schools.iter().zip(&arm) {
        arm_of.entry(s).or_default().insert(a);
    }
    assert_eq!(arm_of.len(), 14);
    assert!(arm_of.values().all(|a| a.len() == 1));
    let per_arm = counts(
        &arm_of
            .values()
            .map(|a| a.iter().next().unwrap().to_string())
            .collect::<Vec<_>>(),
    );
    assert_eq!(per_arm["interventie"], 7);
    for n in counts(&schools).values() {
        assert!((60..=120).contains(n), "school size {n}");
    }

    // werving: 19 organisations, each with both periods.
    let (_, _, d) = sim("werving-en-selectie", SEED, 1.0);
    let mut periods: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (o, p) in text(&d.frame, "organisation")
        .into_iter()
        .zip(text(&d.frame, "period"))
    {
        periods.entry(o).or_default().insert(p);
    }
    assert_eq!(periods.len(), 19);
    assert!(periods.values().all(|p| p.len() == 2));

    // culturele-diversiteit: 42 + 60 employers x 6 years, 250+ employees; the
    // participants join in 2019, 2020 or 2021 (14 each), the others never (0).
    let (_, _, d) = sim("culturele-diversiteit", SEED, 1.0);
    assert_eq!(d.frame.height(), 102 * 6);
    assert_eq!(counts(&text(&d.frame, "group"))["deelnemer"], 42 * 6);
    let first = num(&d.frame, "first_year");
    let group = text(&d.frame, "group");
    let mut starts: BTreeMap<i64, usize> = BTreeMap::new();
    for (g, f) in group.iter().zip(&first) {
        let f = f.unwrap() as i64;
        assert_eq!(g == "deelnemer", f != 0, "first_year {f} in group {g}");
        *starts.entry(f).or_default() += 1;
    }
    assert_eq!(
        starts.into_iter().collect::<Vec<_>>(),
        vec![(0, 60 * 6), (2019, 14 * 6), (2020, 14 * 6), (2021, 14 * 6)]
    );
    assert!(
        num(&d.frame, "n_employees")
            .iter()
            .flatten()
            .all(|n| *n >= 250.0)
    );
    // Counts by origin add up to the employees wherever delivered.
    let parts: Vec<Vec<Option<f64>>> = ["n_outside_europe", "n_europe", "n_netherlands"]
        .iter()
        .map(|c| num(&d.frame, c))
        .collect();
    for (i, total) in num(&d.frame, "n_employees").iter().enumerate() {
        if let (Some(a), Some(b), Some(c)) = (parts[0][i], parts[1][i], parts[2][i]) {
            assert_eq!(a + b + c, total.unwrap());
        }
    }

    // behoud: five employers; leren-en-werken: exact sizes per project.
    let (_, _, d) = sim("behoud-en-doorstroom", SEED, 1.0);
    assert_eq!(counts(&text(&d.frame, "employer")).len(), 5);
    let (_, _, d) = sim("leren-en-werken", SEED, 1.0);
    let cells = counts(
        &text(&d.frame, "project")
            .iter()
            .zip(text(&d.frame, "arm"))
            .map(|(p, a)| format!("{p}/{a}"))
            .collect::<Vec<_>>(),
    );
    assert_eq!(cells["liander/deelnemer"], 25);
    assert_eq!(cells["nova/vergelijking"], 360);

    // --scale multiplies the units per arm.
    let (_, _, d) = sim("intensieve-begeleiding", SEED, 2.0);
    assert_eq!(counts(&text(&d.frame, "arm"))["intensief"], 104);
}

#[test]
fn missing_rates_are_near_the_configured_ones() {
    let missing = |spec: &PilotSpec, params: &SimParams, outcome: &str| {
        let models = params.models(spec).unwrap();
        models[outcome].shared().unwrap().missing.clone()
    };
    let (spec, params, d) = sim("behoud-en-doorstroom", SEED, 1.0);
    let arm = text(&d.frame, "period");
    for outcome in ["inclusive_climate", "promoted_12m"] {
        let v = num(&d.frame, outcome);
        for (a, rate) in &missing(&spec, &params, outcome) {
            let rows: Vec<_> = v.iter().zip(&arm).filter(|(_, x)| *x == a).collect();
            let share = rows.iter().filter(|(y, _)| y.is_none()).count() as f64 / rows.len() as f64;
            let se = (rate * (1.0 - rate) / rows.len() as f64).sqrt();
            assert!(
                (share - rate).abs() < 4.0 * se + 1e-9,
                "{outcome} {a}: {share} vs {rate}"
            );
        }
    }
    let (spec, params, d) = sim("uwv-dienstverlening-ww", SEED, 0.5);
    let arm = text(&d.frame, "arm");
    let v = num(&d.frame, "work_12m");
    for (a, rate) in &missing(&spec, &params, "work_12m") {
        let rows: Vec<_> = v.iter().zip(&arm).filter(|(_, x)| *x == a).collect();
        let share = rows.iter().filter(|(y, _)| y.is_none()).count() as f64 / rows.len() as f64;
        let se = (rate * (1.0 - rate) / rows.len() as f64).sqrt();
        assert!(
            (share - rate).abs() < 4.0 * se,
            "work_12m {a}: {share} vs {rate}"
        );
    }
}

#[test]
fn truths_are_exact_where_nothing_is_bounded() {
    for slug in SLUGS {
        let (spec, params, d) = sim(slug, SEED, 0.5);
        let models = params.models(&spec).unwrap();
        let staggered = params.panel.as_ref().is_some_and(|p| p.staggered.is_some());
        for o in &d.truth.outcomes {
            let m = &models[&o.id];
            // Derived and gated outcomes are not additive in the configured effect,
            // nor are clipped continuous ones.
            let (independent, clipped) = match m {
                OutcomeModel::FromTime(_) => (false, false),
                OutcomeModel::Drawn { model, .. } => match model {
                    DrawnModel::Continuous(c) => {
                        (c.zero_unless.is_none(), c.min.is_some() || c.max.is_some())
                    }
                    DrawnModel::Count(c) => (c.zero_unless.is_none(), false),
                    _ => (true, false),
                },
            };
            let additive = matches!(o.kind, OutcomeKind::Binary | OutcomeKind::Count)
                || (o.kind == OutcomeKind::Continuous && !clipped);
            for e in &o.effects {
                assert!(e.effect.is_finite() && e.control_mean.is_finite());
                let configured = m.shared().and_then(|s| {
                    match (&e.project, spec.projects.is_empty()) {
                        (Some(p), false) => s.effect_by_project.get(p).and_then(|m| m.get(&e.arm)),
                        (None, true) => s.effect.get(&e.arm),
                        _ => None, // pooled over projects
                    }
                });
                let exact = o.kind == OutcomeKind::TimeToEvent
                    || (independent && additive && o.n_bounded == 0);
                // A staggered panel's effect starts at joining and grows: exact by
                // event time (0 before joining, effect + e x growth after).
                if let (Some(c), true, false) = (configured, exact, staggered) {
                    assert_eq!(e.effect, *c, "{slug} {} {}", o.id, e.arm);
                }
                if let (Some(c), true, true) = (configured, exact, staggered) {
                    let growth = m.shared().and_then(|s| s.effect_growth).unwrap_or(0.0);
                    assert!(!e.by_event_time.is_empty());
                    for t in &e.by_event_time {
                        let want = if t.event_time < 0 {
                            0.0
                        } else {
                            c + t.event_time as f64 * growth
                        };
                        assert!(
                            (t.effect - want).abs() < 1e-12,
                            "{slug} {} e = {}",
                            o.id,
                            t.event_time
                        );
                    }
                }
            }
            // Per treated arm, one entry (per project plus pooled where there are projects).
            let per_arm = if spec.projects.is_empty() {
                1
            } else {
                spec.projects.len() + 1
            };
            assert_eq!(
                o.effects.len(),
                per_arm * spec.arms.treated().count(),
                "{slug} {}",
                o.id
            );
        }
    }
}

#[test]
fn linked_outcomes_agree_with_each_other() {
    // Hired implies invited.
    let (_, _, d) = sim("werving-en-selectie", SEED, 1.0);
    for (h, i) in num(&d.frame, "hired").iter().zip(num(&d.frame, "invited")) {
        if let (Some(h), Some(i)) = (h, i) {
            assert!(*h <= i);
        }
    }
    // A job within 12 months is a first job at or before month 12; hours are 0
    // without a job within 18 months.
    let (_, _, d) = sim("leren-en-werken", SEED, 1.0);
    let w12 = num(&d.frame, "work_12m");
    let w18 = num(&d.frame, "work_18m");
    let t = num(&d.frame, "months_to_job");
    let ev = num(&d.frame, "job_found");
    let hours = num(&d.frame, "hours_week");
    for i in 0..d.frame.height() {
        if w12[i] == Some(1.0) {
            assert_eq!(ev[i], Some(1.0));
            assert!(t[i].unwrap() <= 12.01);
            assert_eq!(w18[i], Some(1.0));
        }
        if w18[i] == Some(0.0) {
            assert_eq!(hours[i], Some(0.0));
        }
    }
    // Benefit days are the capped time on WW in days.
    let (_, _, d) = sim("uwv-dienstverlening-ww", SEED, 0.05);
    let days = num(&d.frame, "benefit_days");
    assert!(days.iter().flatten().all(|x| (0.0..=730.0).contains(x)));
}

#[test]
fn randomised_draws_recover_their_truths_on_raw_differences() {
    // 100,000 persons: the raw difference in work at 12 months is within four
    // standard errors of the truth.
    let (_, _, d) = sim("uwv-dienstverlening-ww", SEED, 1.0);
    let arm = text(&d.frame, "arm");
    let y = num(&d.frame, "work_12m");
    let mean = |a: &str| {
        let v: Vec<f64> = y
            .iter()
            .zip(&arm)
            .filter(|(_, x)| *x == a)
            .filter_map(|(y, _)| *y)
            .collect();
        (v.iter().sum::<f64>() / v.len() as f64, v.len() as f64)
    };
    let (p1, n1) = mean("persoonlijk");
    let (p0, n0) = mean("basis-online");
    let se = (p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0).sqrt();
    let truth = d.truth.effect("work_12m", "persoonlijk", None).unwrap();
    assert_eq!(truth, 0.02);
    assert!(
        ((p1 - p0) - truth).abs() < 4.0 * se,
        "{} vs {truth}",
        p1 - p0
    );
}

/// The estimator ids the truth records for an outcome, by its simulation model.
fn expected_keys(m: &OutcomeModel) -> Vec<&'static str> {
    match m {
        OutcomeModel::FromTime(FromTime::Event(_)) => vec![
            "km_risk_difference",
            "ols",
            "ols_adjusted",
            "ols_adjusted_ipcw",
            "risk_difference_newcombe",
        ],
        OutcomeModel::FromTime(_) => vec![
            "ols",
            "ols_adjusted",
            "ols_adjusted_ipcw",
            "rmst_difference",
            "welch",
        ],
        OutcomeModel::Drawn { model, .. } => match model {
            DrawnModel::Binary(_) | DrawnModel::Counts(_) => vec![
                "odds_ratio",
                "ols",
                "ols_adjusted",
                "risk_difference_newcombe",
                "risk_ratio",
            ],
            DrawnModel::TimeToEvent(_) => vec!["cox_hazard_ratio", "rmst_difference"],
            _ => vec!["ols", "ols_adjusted", "welch"],
        },
    }
}

#[test]
fn every_effect_records_the_estimands_of_its_outcome_kind() {
    for slug in SLUGS {
        let (spec, params, d) = sim(slug, SEED, 0.3);
        let models = params.models(&spec).unwrap();
        for o in &d.truth.outcomes {
            let m = &models[&o.id];
            assert!(!o.estimand_method.is_empty(), "{slug} {}", o.id);
            let is_tte = o.kind == OutcomeKind::TimeToEvent;
            for e in &o.effects {
                let mut got: Vec<&str> = e.estimands.keys().map(String::as_str).collect();
                // The adjusted Cox ratio is there only where its model is correct.
                got.retain(|k| *k != "cox_hazard_ratio_adjusted");
                // A staggered panel adds the Callaway & Sant'Anna aggregations.
                if params.panel.as_ref().is_some_and(|p| p.staggered.is_some()) {
                    for k in ["cs_dynamic", "cs_simple"] {
                        assert!(got.contains(&k), "{slug} {} lacks {k}", o.id);
                    }
                    got.retain(|k| !k.starts_with("cs_"));
                }
                // A person series with `[time]` adds the interrupted time series.
                if params.time.is_some() && !is_tte {
                    for k in ["its_level", "its_slope"] {
                        assert!(got.contains(&k), "{slug} {} lacks {k}", o.id);
                    }
                    assert_eq!(e.estimands["its_slope"], 0.0);
                    assert_eq!(e.estimands["its_level"], e.effect);
                    got.retain(|k| !k.starts_with("its_"));
                }
                // Without a lottery the weighting estimators of the ATT have the same
                // truth as the other difference estimators.
                let mut want = expected_keys(m);
                if spec.design.kind == via_eval::config::DesignKind::MatchedComparison && !is_tte {
                    want.extend(["aipw_att", "entropy_att", "ipw_att", "matching_att"]);
                    want.sort_unstable();
                }
                assert_eq!(got, want, "{slug} {} {}", o.id, e.arm);
                for key in ["entropy_att", "ipw_att", "aipw_att", "matching_att"] {
                    if let Some(v) = e.estimands.get(key) {
                        assert_eq!(*v, e.effect, "{slug} {} {key}", o.id);
                    }
                }
                assert!(e.estimands.values().all(|v| v.is_finite()));
                assert_eq!(!e.survival_differences.is_empty(), is_tte);
                for key in ["ols", "welch", "km_risk_difference"] {
                    if let Some(v) = e.estimands.get(key) {
                        assert_eq!(*v, e.effect, "{slug} {} {key}", o.id);
                    }
                }
                if let Some(adj) = e.estimands.get("cox_hazard_ratio_adjusted") {
                    assert_eq!(*adj, e.effect, "{slug} {}", o.id);
                }
                for p in &e.survival_differences {
                    assert!((0.0..=1.0).contains(&p.treated) && (0.0..=1.0).contains(&p.control));
                    assert!((p.difference - (p.treated - p.control)).abs() < 1e-15);
                }
            }
        }
    }
}

#[test]
fn estimand_looks_up_the_recorded_values() {
    let (_, _, d) = sim("uwv-dienstverlening-ww", SEED, 0.1);
    let t = &d.truth;
    let arm = "persoonlijk";
    assert_eq!(t.estimand("work_12m", arm, None, "ols"), Some(0.02));
    assert_eq!(
        t.estimand("months_to_ww_exit", arm, None, "cox_hazard_ratio_adjusted"),
        Some(1.06)
    );
    assert!(
        t.estimand("work_12m", arm, None, "cox_hazard_ratio")
            .is_none()
    );
    assert!(
        t.estimand("work_12m", arm, Some("nowhere"), "ols")
            .is_none()
    );
    assert!(t.estimand("no_such_outcome", arm, None, "ols").is_none());
    // Marginal ratios of a binary outcome agree with its risk difference.
    let rr = t.estimand("work_12m", arm, None, "risk_ratio").unwrap();
    let or = t.estimand("work_12m", arm, None, "odds_ratio").unwrap();
    assert!(rr > 1.0 && or > rr);
    // The marginal Cox ratio lies between 1 and the conditional 1.06 (non-collapsible).
    let hr = t
        .estimand("months_to_ww_exit", arm, None, "cox_hazard_ratio")
        .unwrap();
    assert!(hr > 1.0 && hr < 1.06, "{hr}");
    // Leren en werken: the simulation's hazard uses an unmeasured confounder the
    // adjusted model leaves out, so no entry has an adjusted-Cox truth (the pooled
    // entry over projects with different hazard ratios would have none anyway); the
    // method says why.
    let (_, _, d) = sim("leren-en-werken", SEED, 0.5);
    let t = &d.truth;
    let adj = "cox_hazard_ratio_adjusted";
    for project in [Some("spoor"), None] {
        assert!(
            t.estimand("months_to_job", "deelnemer", project, adj)
                .is_none()
        );
    }
    let o = t.outcomes.iter().find(|o| o.id == "months_to_job").unwrap();
    assert!(o.estimand_method.contains("job_coach_motivated"));
    assert!(
        t.estimand("months_to_job", "deelnemer", None, "cox_hazard_ratio")
            .is_some()
    );
}

#[test]
fn rmst_truths_of_a_time_and_of_its_capped_days_agree() {
    // Benefit days are min(months, 24) x 30.41667 (rounded to whole days): the RMST
    // difference of the days is that of the months to 24 months times the factor, up
    // to the rounding of the cap (730.0001 days to 730).
    let (_, _, d) = sim("uwv-dienstverlening-ww", SEED, 0.1);
    for arm in ["persoonlijk", "handhaving"] {
        let months = d
            .truth
            .estimand("months_to_ww_exit", arm, None, "rmst_difference")
            .unwrap();
        let days = d
            .truth
            .estimand("benefit_days", arm, None, "rmst_difference")
            .unwrap();
        assert!(months < 0.0);
        assert!(
            (days - 30.41667 * months).abs() < 1e-5,
            "{days} vs {months}"
        );
    }
}

#[test]
fn an_unadjusted_cox_fit_on_the_data_recovers_the_marginal_hr() {
    // Individually randomised, 90,000 persons in the comparison: the Cox estimate on
    // the generated times is within four standard errors of its recorded limit.
    let (_, _, d) = sim("uwv-dienstverlening-ww", SEED, 1.0);
    let arm = text(&d.frame, "arm");
    let time = num(&d.frame, "months_to_ww_exit");
    let event = num(&d.frame, "ww_exit");
    let rows: Vec<usize> = (0..arm.len())
        .filter(|&i| arm[i] == "persoonlijk" || arm[i] == "basis-online")
        .filter(|&i| time[i].is_some() && event[i].is_some())
        .collect();
    let t: Vec<f64> = rows.iter().map(|&i| time[i].unwrap()).collect();
    let e: Vec<bool> = rows.iter().map(|&i| event[i] == Some(1.0)).collect();
    let z: Vec<f64> = rows
        .iter()
        .map(|&i| f64::from(u8::from(arm[i] == "persoonlijk")))
        .collect();
    let fit = cox_ph(&t, &e, &[&z], None, None, 0.95).unwrap();
    let (b, se) = (
        fit.coefficients[0].coef,
        fit.coefficients[0].model.std_error,
    );
    let target = d
        .truth
        .estimand("months_to_ww_exit", "persoonlijk", None, "cox_hazard_ratio")
        .unwrap()
        .ln();
    assert!((b - target).abs() < 4.0 * se, "{b} vs {target} (SE {se})");
}

#[test]
fn written_files_say_they_are_synthetic() {
    let dir = tempfile::tempdir().unwrap();
    for slug in ["culturele-diversiteit", "leren-en-werken"] {
        let (spec, params, d) = sim(slug, SEED, 0.2);
        let paths = write(&spec, &d, &params, SEED, dir.path()).unwrap();
        assert_eq!(paths.len(), 4);
        let csv = std::fs::read_to_string(&paths[0]).unwrap();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("data_source,"));
        assert!(lines.all(|l| l.starts_with("synthetic,")));
        assert!(paths[1].extension().is_some_and(|e| e == "parquet"));
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&paths[2]).unwrap()).unwrap();
        assert_eq!(truth["synthetic"], true);
        assert_eq!(truth["slug"], slug);
        assert_eq!(truth["seed"], SEED);
        assert_eq!(
            truth["outcomes"].as_array().unwrap().len(),
            spec.outcomes.len()
        );
        let dict = std::fs::read_to_string(&paths[3]).unwrap();
        assert!(dict.contains("SYNTHETIC DATA"));
        assert!(dict.contains(&format!("simulate {slug} --seed {SEED}")));
        for c in d.frame.get_column_names() {
            assert!(
                dict.contains(&format!("| `{c}` |")),
                "{slug}: {c} not in the dictionary"
            );
        }
    }
}

#[test]
fn params_errors_name_the_key_and_the_choices() {
    let (spec, _) = load("intensieve-begeleiding");
    let path = Path::new("intensieve-begeleiding.sim.toml");
    let base = std::fs::read_to_string(SimParams::path_for(&pilots_dir(), &spec.slug)).unwrap();

    let bad = base.replace(
        "effect = { intensief = 0.03 }",
        "effect = { intensive = 0.03 }",
    );
    let err = SimParams::from_toml(&bad, path)
        .unwrap()
        .check(&spec)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("intensive") && err.contains("intensief"),
        "{err}"
    );

    let bad = base.replace(
        "[outcomes.paid_work]\n",
        "[outcomes.paid_work]\nshape = 1.0\n",
    );
    let err = SimParams::from_toml(&bad, path)
        .unwrap()
        .check(&spec)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("outcomes.paid_work") && err.contains("shape"),
        "{err}"
    );

    let bad = base.replace(
        "slug = \"intensieve-begeleiding\"",
        "slug = \"uwv-dienstverlening-ww\"",
    );
    assert!(
        SimParams::from_toml(&bad, path)
            .unwrap()
            .check(&spec)
            .is_err()
    );

    let bad = base.replace("id_prefix = \"B\"", "id_prefix = \"B\"\nunknown_key = 1");
    let err = SimParams::from_toml(&bad, path).unwrap_err().to_string();
    assert!(err.contains("unknown_key"), "{err}");

    let (spec, params) = load("intensieve-begeleiding");
    assert!(generate(&spec, &params, SEED, 0.0).is_err());
    assert!(generate(&spec, &params, SEED, f64::NAN).is_err());
}

#[test]
fn misplaced_outcome_keys_name_the_file_the_outcome_and_the_key() {
    let (spec, _) = load("uwv-dienstverlening-ww");
    let path = Path::new("pilots/uwv-dienstverlening-ww.sim.toml");
    let base = std::fs::read_to_string(SimParams::path_for(&pilots_dir(), &spec.slug)).unwrap();
    let check = |bad: &str| {
        SimParams::from_toml(bad, path)
            .unwrap()
            .check(&spec)
            .unwrap_err()
            .to_string()
    };

    // `nested_in` is a key of binary outcomes; `months_to_ww_exit` is time-to-event.
    let err = check(&base.replace(
        "[outcomes.months_to_ww_exit]\n",
        "[outcomes.months_to_ww_exit]\nnested_in = \"work_12m\"\n",
    ));
    assert!(
        err.contains("uwv-dienstverlening-ww.sim.toml")
            && err.contains(
                "`outcomes.months_to_ww_exit.nested_in` does not apply to a time-to-event outcome"
            )
            && err.contains("follow_up"),
        "{err}"
    );

    // A derived outcome takes none of the keys of drawn outcomes.
    let err = check(&base.replace(
        "from_time = \"months_to_ww_exit\"\n",
        "from_time = \"months_to_ww_exit\"\nmissing = { basis-online = 0.1 }\n",
    ));
    assert!(
        err.contains("`outcomes.benefit_days.missing` does not apply"),
        "{err}"
    );

    // A required key of the model.
    let err = check(&base.replace("shape = 1.1\n", ""));
    assert!(
        err.contains("outcomes.months_to_ww_exit") && err.contains("shape"),
        "{err}"
    );
}
