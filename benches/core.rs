//! Wall-time benchmarks of the core paths (run with `cargo bench --bench core`; release
//! build). Not a test: it prints a table of medians of 3 runs. Targets from the issues:
//! Kaplan-Meier + log-rank + RMST on 1M subjects is one sort plus a linear pass; the
//! UWV pilot (100,000 persons) evaluates in about a second end to end.

use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use via_eval::analysis::{Options, Privacy};
use via_eval::stats::ols::{self, Clusters, SeType};
use via_eval::stats::resample::{ResampleOptions, bootstrap, ri};
use via_eval::stats::survival::{self, CiTransform};

/// Time `f` (median of 3) into `rows` under `name`, unless the filter leaves it out.
fn bench(
    rows: &mut Vec<(String, f64)>,
    wanted: &dyn Fn(&str) -> bool,
    name: impl Into<String>,
    f: impl FnMut(),
) {
    let name = name.into();
    if wanted(&name) {
        let t = median_of_3(f);
        rows.push((name, t));
    }
}

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

/// Peak resident set size (VmHWM) of this process in MiB, from `/proc/self/status`.
fn peak_rss() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Reset the peak resident set size to the current one (Linux: write 5 to
/// `/proc/self/clear_refs`); returns the current resident size in MiB.
fn reset_peak_rss() -> Option<f64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut memory: Vec<String> = Vec::new();
    // `cargo bench --bench core -- WORD…` runs only the workloads whose name contains
    // one of the words.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f));
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
    bench(
        &mut rows,
        &wanted,
        "Kaplan-Meier per arm + log-rank + RMST, 1M subjects",
        || {
            let km =
                survival::kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
            let lr = survival::log_rank(&time, &event, &group, None).unwrap();
            let d = survival::rmst_difference(&km[1], &km[0], 36.0, 0.95).unwrap();
            assert!(lr.statistic.is_finite() && d.difference.estimate.is_finite());
        },
    );
    // The same plus the Cox model, as the analysis runs them: one call each (each sorts),
    // and sorted once with the Cox fit beside the curves and the log-rank test.
    let treated: Vec<f64> = group.iter().map(|&g| f64::from(g)).collect();
    bench(
        &mut rows,
        &wanted,
        "Kaplan-Meier + log-rank + RMST + Cox, 1M subjects, single calls",
        || {
            let km =
                survival::kaplan_meier(&time, &event, &group, CiTransform::LogLog, 0.95).unwrap();
            let lr = survival::log_rank(&time, &event, &group, None).unwrap();
            let d = survival::rmst_difference(&km[1], &km[0], 36.0, 0.95).unwrap();
            let cox = survival::cox_ph(&time, &event, &[&treated], None, None, 0.95).unwrap();
            assert!(lr.statistic.is_finite() && d.difference.estimate.is_finite());
            assert!(cox.coefficients[0].coef.is_finite());
        },
    );
    bench(
        &mut rows,
        &wanted,
        "Kaplan-Meier + log-rank + RMST + Cox, 1M subjects, sorted once, Cox beside",
        || {
            let sorted = survival::SortedSubjects::new(&time, &event).unwrap();
            let (cox, (km, lr)) = rayon::join(
                || survival::cox_ph_sorted(&sorted, &[&treated], None, None, 0.95).unwrap(),
                || {
                    let km =
                        survival::kaplan_meier_sorted(&sorted, &group, CiTransform::LogLog, 0.95)
                            .unwrap();
                    let lr = survival::log_rank_sorted(&sorted, &group, None).unwrap();
                    (km, lr)
                },
            );
            let d = survival::rmst_difference(&km[1], &km[0], 36.0, 0.95).unwrap();
            assert!(lr.statistic.is_finite() && d.difference.estimate.is_finite());
            assert!(cox.coefficients[0].coef.is_finite());
        },
    );

    // Resampling: 10,000 BCa bootstrap resamples and 10,000 random assignments of a
    // difference in means, 100,000 units in two arms of 50,000.
    let y: Vec<f64> = (0..100_000).map(|_| rng.random::<f64>() * 10.0).collect();
    let (y_t, y_c) = y.split_at(50_000);
    bench(
        &mut rows,
        &wanted,
        "bootstrap (BCa), 10,000 resamples of 100,000 units",
        || {
            let opts = ResampleOptions::new(10_000, 20190601);
            let ci = bootstrap::mean_difference(y_t, y_c, &opts).unwrap();
            assert!(ci.bca_low < ci.bca_high);
        },
    );
    let assigned: Vec<bool> = (0..100_000).map(|i| i < 50_000).collect();
    bench(
        &mut rows,
        &wanted,
        "randomisation test, 10,000 assignments of 100,000 units",
        || {
            let opts = ResampleOptions::new(10_000, 20190601);
            let r = ri::randomization_test(&y, &assigned, &ri::Design::Complete, &opts).unwrap();
            assert!(r.p_value > 0.0);
        },
    );

    // OLS: columns of 10M rows (9 regressors and y), generated when an OLS workload is
    // wanted; the smaller workloads use prefixes. Cluster of row i: i mod 1000.
    let hc2_1m = "OLS + HC2, 1M rows x 9 regressors";
    let hc2_10m = "OLS + HC2, 10M rows x 10 coefficients";
    let clustered: Vec<(usize, SeType, String)> = [
        (300_000, SeType::Cr2, "CR2 (Bell-McCaffrey df), 300k rows"),
        (1_000_000, SeType::Cr2, "CR2 (Bell-McCaffrey df), 1M rows"),
        (1_000_000, SeType::Cr1, "CR1, 1M rows"),
    ]
    .into_iter()
    .map(|(n, se, what)| (n, se, format!("OLS + {what}, 1,000 clusters, 9 regressors")))
    .collect();
    if wanted(hc2_1m) || wanted(hc2_10m) || clustered.iter().any(|c| wanted(&c.2)) {
        let big = 10_000_000;
        let cols: Vec<Vec<f64>> = (0..9)
            .map(|_| (0..big).map(|_| rng.random::<f64>()).collect())
            .collect();
        let y: Vec<f64> = (0..big)
            .map(|i| cols.iter().map(|c| c[i]).sum::<f64>() + rng.random::<f64>())
            .collect();
        let prefix = |n: usize| -> Vec<&[f64]> { cols.iter().map(|c| &c[..n]).collect() };
        let labels: Vec<u32> = (0..big).map(|i| (i % 1000) as u32).collect();

        let n = 1_000_000;
        let x = prefix(n);
        bench(&mut rows, &wanted, hc2_1m, || {
            let f = ols::fit(&y[..n], &x, true).unwrap();
            f.coef_inference(1, SeType::Hc2, None, 0.95).unwrap();
        });

        // 10 coefficients (intercept and 9 columns), with the peak resident memory of the
        // fit and the inference above what was resident before.
        let x = prefix(big);
        let mut extra_peak = None;
        bench(&mut rows, &wanted, hc2_10m, || {
            let before = reset_peak_rss();
            let f = ols::fit(&y, &x, true).unwrap();
            f.coef_inference(1, SeType::Hc2, None, 0.95).unwrap();
            drop(f);
            if let (Some(b), Some(p)) = (before, peak_rss()) {
                extra_peak = Some(extra_peak.unwrap_or(0.0f64).max(p - b));
            }
        });
        if let Some(mb) = extra_peak {
            memory.push(format!(
                "{hc2_10m}: peak resident memory {mb:.0} MiB above the {:.0} MiB of the \
                 input columns (y and 9 regressors)",
                10.0 * big as f64 * 8.0 / (1024.0 * 1024.0)
            ));
        }

        for (n, se, name) in clustered {
            let cl = Clusters::from_labels(&labels[..n]);
            let x = prefix(n);
            bench(&mut rows, &wanted, name, || {
                let f = ols::fit(&y[..n], &x, true).unwrap();
                f.coef_inference(1, se, Some(&cl), 0.95).unwrap();
            });
        }
    }

    // The UWV pilot end to end (read CSV, analyse, render every output in memory).
    let pilots = root.join("pilots");
    let data = root.join("notebooks-data");
    let spec = via_eval::config::load_slug(&pilots, "uwv-dienstverlening-ww").unwrap();
    let csv = data.join(&spec.data.file);
    bench(
        &mut rows,
        &wanted,
        "polars: read the UWV CSV (100,000 rows), the columns used",
        || {
            via_eval::data::Frame::load(&csv, &spec.needed_columns()).unwrap();
        },
    );
    bench(
        &mut rows,
        &wanted,
        "via-eval pilot uwv-dienstverlening-ww: read, analyse, render outputs",
        || {
            let r = via_eval::cli::pilot::evaluate(
                &spec,
                &data,
                &Options::default(),
                Privacy::default(),
            )
            .unwrap();
            via_eval::cli::pilot::render_outputs(&r, via_eval::config::Lang::En).unwrap();
        },
    );

    // Issue 12: one field of 16 MB in a column that is not used, among 300 rows; the
    // read is linear in the size of the file (a 4 MB field took minutes before).
    let long_csv =
        std::env::temp_dir().join(format!("via-eval-bench-long-{}.csv", std::process::id()));
    {
        let mut text = String::from("id,arm,y,note\n");
        let long = "x".repeat(16 << 20);
        for i in 0..300 {
            let note = if i == 5 { long.as_str() } else { "n" };
            text.push_str(&format!("{i},{},{}.5,{note}\n", i % 2, i % 7));
        }
        std::fs::write(&long_csv, text).unwrap();
    }
    let long_cols = ["arm".to_string(), "y".to_string()];
    bench(
        &mut rows,
        &wanted,
        "read a CSV of 300 rows with one 16 MB field (not used)",
        || {
            let f = via_eval::data::Frame::load(&long_csv, &long_cols).unwrap();
            assert_eq!(f.height(), 300);
        },
    );
    let _ = std::fs::remove_file(&long_csv);

    println!("| workload | median of 3 (s) |\n|---|---|");
    for (name, t) in rows {
        println!("| {name} | {t:.3} |");
    }
    for m in memory {
        println!("\n{m}");
    }
}
