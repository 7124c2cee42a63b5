//! Issue 15, item 5: the pilot werving-en-selectie as an interrupted time series. On
//! seeded redraws of its synthetic applicants (application months 1-12 before and
//! 13-24 during the nudges, all 19 organisations starting in month 13, a rising trend
//! of +0.3 points a month in invitations and a level change of +3 points), the level
//! change (`its_level`, CR2 by organisation with Bell-McCaffrey df) covers its truth
//! about 95% of the time, while the before/after difference carries twelve months of
//! trend and misses.
//!
//! Runs the design part only (prepare + [`via_eval::stats::its::its`]) so that 40
//! redraws take seconds in debug.

use std::path::Path;
use via_eval::config;
use via_eval::data::Frame;
use via_eval::simulate::{SimParams, generate};
use via_eval::stats::its::{ItsInput, ItsOptions, ItsSe, its};
use via_eval::stats::ols::{Clusters, SeType};

mod common;
use common::root;

const SLUG: &str = "werving-en-selectie";
const REDRAWS: u64 = 40;

#[test]
fn its_level_covers_the_truth_and_the_before_after_difference_misses_it() {
    let pilots = root().join("pilots");
    let spec = config::load_slug(&pilots, SLUG).unwrap();
    let params = SimParams::from_file(&SimParams::path_for(&pilots, SLUG)).unwrap();
    let (mut hits, mut naive_hits, mut n) = (0usize, 0usize, 0usize);
    let (mut bias, mut naive_bias, mut slope_hits) = (0.0, 0.0, 0usize);
    for seed in 1..=REDRAWS {
        let sim = generate(&spec, &params, seed, 1.0).unwrap();
        let truth = &sim.truth;
        let frame = Frame::from_frame(sim.frame, Path::new("synthetic"));
        let series = via_eval::prepare::design::its_inputs(&spec, &frame)
            .unwrap()
            .unwrap();
        let period = frame.strings("period").unwrap();
        for (o, d) in spec.outcomes.iter().zip(&series) {
            if o.id != "invited" {
                continue;
            }
            let d = d.as_ref().unwrap();
            let t_level = truth
                .estimand("invited", "tijdens", None, "its_level")
                .unwrap();
            let t_slope = truth
                .estimand("invited", "tijdens", None, "its_slope")
                .unwrap();
            assert_eq!(t_slope, 0.0);
            let cl = Clusters::from_sorted_labels(&d.unit);
            let fit = its(
                &ItsInput {
                    time: &d.time,
                    y: &d.y,
                    units: Some(&cl),
                    covariates: &[],
                },
                &ItsOptions {
                    start: 13.0,
                    se: ItsSe::Cluster(SeType::Cr2),
                    conf_level: 0.95,
                },
            )
            .unwrap();
            let l = fit.level_change;
            hits += usize::from(l.ci_low <= t_level && t_level <= l.ci_high);
            let s = fit.slope_change;
            slope_hits += usize::from(s.ci_low <= 0.0 && 0.0 <= s.ci_high);
            bias += l.estimate - t_level;
            // The before/after difference in the share invited, with its Wald interval
            // (the persons as independent: what a plain comparison reports).
            let y = frame.numbers("invited").unwrap();
            let mut sums = [(0.0, 0.0); 2];
            for (v, p) in y.iter().zip(&period) {
                if let Some(v) = v {
                    let k = usize::from(p.as_deref() == Some("tijdens"));
                    sums[k].0 += v;
                    sums[k].1 += 1.0;
                }
            }
            let (p1, p0) = (sums[1].0 / sums[1].1, sums[0].0 / sums[0].1);
            let se = (p1 * (1.0 - p1) / sums[1].1 + p0 * (1.0 - p0) / sums[0].1).sqrt();
            let diff = p1 - p0;
            naive_hits += usize::from((diff - t_level).abs() <= 1.96 * se);
            naive_bias += diff - t_level;
            n += 1;
        }
    }
    let nf = n as f64;
    eprintln!(
        "{n} draws: its_level coverage {:.3}, its_slope coverage {:.3}, mean bias {:.4}; before/after coverage {:.3}, mean bias {:.4}",
        hits as f64 / nf,
        slope_hits as f64 / nf,
        bias / nf,
        naive_hits as f64 / nf,
        naive_bias / nf
    );
    // 40 intervals: 0.85 is about 3 Monte Carlo SEs below 0.95.
    assert!(hits as f64 / nf >= 0.85);
    assert!(slope_hits as f64 / nf >= 0.85);
    // Twelve months of a +0.3-point trend: the before/after difference is about 3.6
    // points too high and its interval rarely holds the truth.
    assert!(
        naive_bias / nf > 0.025,
        "before/after bias {}",
        naive_bias / nf
    );
    assert!((naive_hits as f64 / nf) < 0.5);
    assert!((bias / nf).abs() < 0.02);
}
