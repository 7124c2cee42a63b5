//! Wall-time benchmarks of the core paths (run with `cargo bench --bench core`; release
//! build). Not a test: it prints a table of medians of 3 runs. Targets from the issues:
//! Kaplan-Meier + log-rank + RMST on 1M subjects is one sort plus a linear pass; the
//! UWV pilot (100,000 persons) evaluates in about a second end to end.

use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use via_eval::analysis::Options;
use via_eval::stats::ols::{self, Clusters, SeType};
use via_eval::stats::survival::{self, CiTransform};

fn median_of_3(mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..3)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[1]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);

    // Survival: 1M subjects, two arms, monthly times with ties, 30% censored.
    let n = 1_000_000;
    let group: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
    let time: Vec<f64> = (0..n)
        .map(|i| {
            let rate = if i % 2 == 0 { 0.05 } else { 0.06 };
            (-(1.0 - rng.random::<f64>()).ln() / rate).ceil().min(60.0)
        })
        .collect();
    let event: Vec<bool> = time
        .iter()
        .map(|t| *t < 60.0 && rng.random::<f64>() < 0.85)
        .collect();
    rows.push((
        "Kaplan-Meier per arm + log-rank + RMST, 1M subjects".into(),
        median_of_3(|| {
            let km =
                survival::kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
            let lr = survival::log_rank(&time, &event, &group, None).unwrap();
            let d = survival::rmst_difference(&km[1], &km[0], 36.0, 0.95).unwrap();
            assert!(lr.statistic.is_finite() && d.difference.estimate.is_finite());
        }),
    ));

    // OLS with HC2, 1M rows and 8 covariates.
    let n = 1_000_000;
    let cols: Vec<Vec<f64>> = (0..9)
        .map(|_| (0..n).map(|_| rng.random::<f64>()).collect())
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| cols.iter().map(|c| c[i]).sum::<f64>() + rng.random::<f64>())
        .collect();
    let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    rows.push((
        "OLS + HC2, 1M rows x 9 regressors".into(),
        median_of_3(|| {
            let f = ols::fit(&y, &x, true).unwrap();
            f.coef_inference(1, SeType::Hc2, None, 0.95).unwrap();
        }),
    ));

    // CR2 with Bell-McCaffrey df, 300k rows, 1,000 clusters.
    let n = 300_000;
    let labels: Vec<u32> = (0..n).map(|i| (i % 1000) as u32).collect();
    let cl = Clusters::from_labels(&labels);
    let x: Vec<&[f64]> = cols.iter().map(|c| &c[..n]).collect();
    rows.push((
        "OLS + CR2 (Bell-McCaffrey df), 300k rows, 1,000 clusters".into(),
        median_of_3(|| {
            let f = ols::fit(&y[..n], &x, true).unwrap();
            f.coef_inference(1, SeType::Cr2, Some(&cl), 0.95).unwrap();
        }),
    ));

    // The UWV pilot end to end (read CSV, analyse, render every output in memory).
    let pilots = root.join("pilots");
    let data = root.join("notebooks-data");
    let spec = via_eval::config::load_slug(&pilots, "uwv-dienstverlening-ww").unwrap();
    let csv = data.join(&spec.data.file);
    rows.push((
        "polars: read the UWV CSV (100,000 rows), the columns used".into(),
        median_of_3(|| {
            via_eval::data::Frame::load(&csv, &spec.needed_columns()).unwrap();
        }),
    ));
    rows.push((
        "via-eval pilot uwv-dienstverlening-ww: read, analyse, render outputs".into(),
        median_of_3(|| {
            let r = via_eval::cli::pilot::evaluate(&spec, &data, &Options::default()).unwrap();
            via_eval::cli::pilot::render_outputs(&r, via_eval::config::Lang::En).unwrap();
        }),
    ));

    println!("| workload | median of 3 (s) |\n|---|---|");
    for (name, t) in rows {
        println!("| {name} | {t:.3} |");
    }
}
