//! Adjusting p-values for multiple testing: Holm, Bonferroni and Benjamini-Hochberg,
//! exactly as R `stats::p.adjust`.
//!
//! Sources: Bonferroni; Holm (1979), *Scand. J. Statist.* 6, 65-70; Benjamini &
//! Hochberg (1995), *JRSS B* 57, 289-300. With m p-values sorted ascending,
//! p₍₁₎ ≤ … ≤ p₍ₘ₎ (R's `p.adjust` code, R 4.2.2):
//! - Bonferroni: min(1, m·pᵢ).
//! - Holm: p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎) (step-down, a running maximum).
//! - Benjamini-Hochberg: p̃₍ᵢ₎ = min(1, min_{j ≥ i} (m/j)·p₍ⱼ₎) (step-up, a running
//!   minimum from the largest p down).
//!
//! Missing p-values (NaN) are passed through as NaN and do not count in m: R's
//! `p.adjust(p)` drops the `NA`s before it evaluates its default `n = length(p)`, so m
//! is the number of non-missing p-values (the `na.rm` semantics of its help page).
//! Ties get equal adjusted values under every method, whatever their order.

use serde::{Deserialize, Serialize};

/// A multiple-testing adjustment of p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adjustment {
    /// Holm's step-down method (controls the family-wise error rate).
    #[default]
    Holm,
    /// Bonferroni: each p times the number of tests (family-wise error rate).
    Bonferroni,
    /// Benjamini-Hochberg step-up method (controls the false discovery rate).
    #[serde(rename = "bh", alias = "BH", alias = "fdr")]
    BenjaminiHochberg,
    /// No adjustment: the p-values unchanged.
    None,
}

impl Adjustment {
    /// The name R's `p.adjust` uses for the method.
    pub fn r_name(self) -> &'static str {
        match self {
            Self::Holm => "holm",
            Self::Bonferroni => "bonferroni",
            Self::BenjaminiHochberg => "BH",
            Self::None => "none",
        }
    }

    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Holm => "Holm",
            Self::Bonferroni => "Bonferroni",
            Self::BenjaminiHochberg => "Benjamini-Hochberg",
            Self::None => "none",
        }
    }
}

/// Adjusted p-values in the order of `p`, as R `p.adjust(p, method)`.
///
/// NaN entries stay NaN and are not counted in the number of tests. The inputs are
/// not checked to lie in [0, 1] (callers that read p-values check that); values above
/// 1 after adjustment are capped at 1, as in R.
pub fn adjust(p: &[f64], method: Adjustment) -> Vec<f64> {
    let mut out = p.to_vec();
    // Indices of the non-missing p-values, sorted ascending by p (stable).
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    let m = idx.len();
    if m == 0 {
        return out;
    }
    let mf = m as f64;
    match method {
        Adjustment::None => {}
        Adjustment::Bonferroni => {
            for &i in &idx {
                out[i] = (mf * p[i]).min(1.0);
            }
        }
        Adjustment::Holm => {
            idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut running = f64::NEG_INFINITY;
            for (j, &i) in idx.iter().enumerate() {
                running = running.max((mf - j as f64) * p[i]);
                out[i] = running.min(1.0);
            }
        }
        Adjustment::BenjaminiHochberg => {
            idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let mut running = f64::INFINITY;
            for (j, &i) in idx.iter().enumerate().rev() {
                running = running.min(mf / (j + 1) as f64 * p[i]);
                out[i] = running.min(1.0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn r_documentation_style_example() {
        // p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") = 0.05 0.08 0.09 0.09 0.09
        // and "BH" = 0.05 for all five (R 4.2.2).
        let p = [0.01, 0.02, 0.03, 0.04, 0.05];
        let h = adjust(&p, Adjustment::Holm);
        for (g, w) in h.iter().zip([0.05, 0.08, 0.09, 0.09, 0.09]) {
            assert!((g - w).abs() < 1e-15, "{h:?}");
        }
        let b = adjust(&p, Adjustment::BenjaminiHochberg);
        assert!(b.iter().all(|v| (v - 0.05).abs() < 1e-15), "{b:?}");
        let bon = adjust(&p, Adjustment::Bonferroni);
        assert!((bon[1] - 0.1).abs() < 1e-15 && (bon[4] - 0.25).abs() < 1e-15);
        assert_eq!(adjust(&[0.3, 0.9], Adjustment::Bonferroni), [0.6, 1.0]);
        assert_eq!(adjust(&p, Adjustment::None), p.to_vec());
    }

    #[test]
    fn missing_values_pass_through_and_do_not_count() {
        let p = [0.01, f64::NAN, 0.04];
        let b = adjust(&p, Adjustment::Bonferroni);
        assert!(b[1].is_nan());
        assert!((b[0] - 0.02).abs() < 1e-15 && (b[2] - 0.08).abs() < 1e-15);
        assert!(adjust(&[f64::NAN], Adjustment::Holm)[0].is_nan());
        assert!(adjust(&[], Adjustment::BenjaminiHochberg).is_empty());
    }

    #[test]
    fn ties_get_equal_values() {
        let p = [0.02, 0.01, 0.02, 0.3];
        for m in [Adjustment::Holm, Adjustment::BenjaminiHochberg] {
            let a = adjust(&p, m);
            assert_eq!(a[0], a[2], "{m:?}");
        }
    }

    #[test]
    fn names_parse_from_config() {
        let bh: Adjustment = serde_json::from_str("\"bh\"").unwrap();
        assert_eq!(bh, Adjustment::BenjaminiHochberg);
        let holm: Adjustment = serde_json::from_str("\"holm\"").unwrap();
        assert_eq!(holm, Adjustment::Holm);
        assert_eq!(
            serde_json::to_string(&Adjustment::BenjaminiHochberg).unwrap(),
            "\"bh\""
        );
    }

    proptest! {
        #[test]
        fn ordering_and_bounds(p in proptest::collection::vec(0.0f64..=1.0, 1..40)) {
            let holm = adjust(&p, Adjustment::Holm);
            let bh = adjust(&p, Adjustment::BenjaminiHochberg);
            let bon = adjust(&p, Adjustment::Bonferroni);
            for i in 0..p.len() {
                // raw ≤ BH ≤ Holm ≤ Bonferroni ≤ 1.
                prop_assert!(p[i] <= bh[i] * (1.0 + 1e-15));
                prop_assert!(bh[i] <= holm[i] * (1.0 + 1e-15));
                prop_assert!(holm[i] <= bon[i] * (1.0 + 1e-15));
                prop_assert!(bon[i] <= 1.0);
                for j in 0..p.len() {
                    // Monotone in the raw p-values.
                    if p[i] <= p[j] {
                        prop_assert!(holm[i] <= holm[j]);
                        prop_assert!(bh[i] <= bh[j]);
                        prop_assert!(bon[i] <= bon[j]);
                    }
                }
            }
        }
    }
}
