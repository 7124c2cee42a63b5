//! Properties every estimator must have, on random inputs (proptest).

use proptest::prelude::*;
use via_eval::stats::binary::{self, Counts};
use via_eval::stats::ols::{self, Clusters, SeType};
use via_eval::stats::twosample;

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1000.0f64..1000.0, 3..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn welch_swapping_arms_flips_the_sign(a in sample(), b in sample()) {
        let x = twosample::welch(&a, &b, 0.95);
        let y = twosample::welch(&b, &a, 0.95);
        if let (Ok(x), Ok(y)) = (x, y) {
            prop_assert!((x.estimate + y.estimate).abs() <= 1e-9 * (1.0 + x.estimate.abs()));
            prop_assert!((x.ci_low + y.ci_high).abs() <= 1e-9 * (1.0 + x.ci_low.abs()));
            prop_assert!((x.p_value - y.p_value).abs() < 1e-12);
        }
    }

    #[test]
    fn shifting_the_outcome_moves_no_difference(a in sample(), b in sample(), shift in -1e4f64..1e4) {
        let a2: Vec<f64> = a.iter().map(|v| v + shift).collect();
        let b2: Vec<f64> = b.iter().map(|v| v + shift).collect();
        if let (Ok(x), Ok(y)) = (twosample::welch(&a, &b, 0.95), twosample::welch(&a2, &b2, 0.95)) {
            prop_assert!((x.estimate - y.estimate).abs() <= 1e-6 * (1.0 + x.estimate.abs()));
            prop_assert!((x.std_error - y.std_error).abs() <= 1e-6 * x.std_error);
        }
    }

    #[test]
    fn intervals_contain_their_estimate(a in sample(), b in sample()) {
        if let Ok(x) = twosample::welch(&a, &b, 0.95) {
            prop_assert!(x.ci_low <= x.estimate && x.estimate <= x.ci_high);
        }
    }

    #[test]
    fn binary_intervals_contain_estimates_and_stay_in_range(
        x1 in 0u64..60, extra1 in 1u64..60, x0 in 0u64..60, extra0 in 1u64..60
    ) {
        let t = Counts::new(x1, x1 + extra1).unwrap();
        let c = Counts::new(x0, x0 + extra0).unwrap();
        let w = binary::wilson(t, 0.95).unwrap();
        prop_assert!(0.0 <= w.ci_low && w.ci_low <= w.estimate && w.estimate <= w.ci_high && w.ci_high <= 1.0);
        let d = binary::newcombe(t, c, 0.95).unwrap();
        prop_assert!(-1.0 <= d.ci_low && d.ci_low <= d.estimate && d.estimate <= d.ci_high && d.ci_high <= 1.0);
        let swapped = binary::newcombe(c, t, 0.95).unwrap();
        prop_assert!((d.estimate + swapped.estimate).abs() < 1e-15);
        let (rr, _) = binary::risk_ratio(t, c, 0.95).unwrap();
        prop_assert!(rr.ci_low <= rr.estimate && rr.estimate <= rr.ci_high);
    }

    #[test]
    fn ols_arm_coefficient_flips_with_the_arms_and_ignores_shifts(
        y in prop::collection::vec(-100.0f64..100.0, 12..40),
        cov in prop::collection::vec(0.0f64..10.0, 40),
        shift in -1e3f64..1e3,
    ) {
        let n = y.len();
        let t: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        let flipped: Vec<f64> = t.iter().map(|v| 1.0 - v).collect();
        let x = &cov[..n];
        let shifted: Vec<f64> = y.iter().map(|v| v + shift).collect();
        let (Ok(a), Ok(b), Ok(c)) = (
            ols::fit(&y, &[&t, x], true),
            ols::fit(&y, &[&flipped, x], true),
            ols::fit(&shifted, &[&t, x], true),
        ) else { return Ok(()) };
        for se in [SeType::Classical, SeType::Hc0, SeType::Hc1, SeType::Hc2, SeType::Hc3] {
            let (Ok(ia), Ok(ib), Ok(ic)) = (
                a.coef_inference(1, se, None, 0.95),
                b.coef_inference(1, se, None, 0.95),
                c.coef_inference(1, se, None, 0.95),
            ) else { continue };
            let scale = 1.0 + ia.inference.estimate.abs();
            prop_assert!((ia.inference.estimate + ib.inference.estimate).abs() < 1e-8 * scale);
            prop_assert!((ia.inference.std_error - ib.inference.std_error).abs() < 1e-8 * scale);
            prop_assert!((ia.inference.estimate - ic.inference.estimate).abs() < 1e-7 * scale);
        }
    }

    #[test]
    fn cr2_with_one_unit_per_cluster_is_hc2(
        y in prop::collection::vec(-100.0f64..100.0, 8..30),
        cov in prop::collection::vec(0.0f64..10.0, 30),
    ) {
        let n = y.len();
        let t: Vec<f64> = (0..n).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect();
        let fit = match ols::fit(&y, &[&t, &cov[..n]], true) { Ok(f) => f, Err(_) => return Ok(()) };
        let ids: Vec<usize> = (0..n).collect();
        let cl = Clusters::from_labels(&ids);
        if let (Ok(h), Ok(c)) = (
            fit.coef_inference(1, SeType::Hc2, None, 0.95),
            fit.coef_inference(1, SeType::Cr2, Some(&cl), 0.95),
        ) {
            prop_assert!((h.inference.std_error - c.inference.std_error).abs() <= 1e-9 * h.inference.std_error);
        }
    }
}

#[test]
fn welch_equals_student_with_equal_sizes_and_variances() {
    // Mirror-image samples have equal variances; equal sizes make the df agree too.
    let a = [3.0, 5.0, 6.0, 9.0, 12.0];
    let b: Vec<f64> = a.iter().map(|v| 20.0 - v).collect();
    let w = twosample::welch(&a, &b, 0.95).unwrap();
    let s = twosample::student(&a, &b, 0.95).unwrap();
    assert!((w.std_error - s.std_error).abs() < 1e-14);
    assert!((w.df.unwrap() - s.df.unwrap()).abs() < 1e-9);
    assert!((w.ci_low - s.ci_low).abs() < 1e-12);
}

#[test]
fn intervals_narrow_as_samples_grow() {
    let small: Vec<f64> = (0..20).map(|i| (i % 7) as f64).collect();
    let large: Vec<f64> = (0..2000).map(|i| (i % 7) as f64).collect();
    let shifted = |v: &[f64]| v.iter().map(|x| x + 1.0).collect::<Vec<_>>();
    let a = twosample::welch(&shifted(&small), &small, 0.95).unwrap();
    let b = twosample::welch(&shifted(&large), &large, 0.95).unwrap();
    assert!(b.ci_high - b.ci_low < (a.ci_high - a.ci_low) / 5.0);
}
