//! The estimators of the coverage simulation and what each gives on one data set.
//!
//! Per design:
//!
//! - individual: Welch; OLS of y on T and the covariate (x, or z) with classical,
//!   HC0, HC1, HC2 and HC3 standard errors (t with n−k df); binary also Newcombe's
//!   hybrid score interval for the risk difference (unadjusted).
//! - blocked: Welch ignoring the blocks; OLS of y on T and block dummies with
//!   classical and HC0-HC3; the blocked difference in means (estimatr's
//!   `difference_in_means(blocks =)`, df N−2B).
//! - clustered: OLS of y on T with CR0 and CR1 (t with G−1 df) and CR2 with
//!   Bell-McCaffrey df; HC2 ignoring the clusters, to show what ignoring them costs;
//!   with 10 clusters also the restricted wild cluster bootstrap (Rademacher weights,
//!   all 2^10 = 1024 sign vectors enumerated, so exact and seed-free), whose "coverage"
//!   is the share of trials in which it does not reject the true effect at 5% — the
//!   coverage of the interval obtained by inverting the test.

use crate::stats::binary::{self, Counts};
use crate::stats::ols::{self, Clusters, SeType};
use crate::stats::resample::ResampleOptions;
use crate::stats::resample::wild::{WildClusterBootstrap, WildWeights};
use crate::stats::{Inference, design, twosample};

use super::CONF_LEVEL;
use super::design::{Design, Outcome, TrialData, arm};

/// Wild bootstrap draws at 10 clusters: all 2^10 Rademacher sign vectors.
const WILD_DRAWS: u64 = 1024;

/// An estimator with its standard error and interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Welch's difference in means (blocks and covariates ignored).
    Welch,
    /// OLS with this SE type: on T and the covariate (individual), T and block dummies
    /// (blocked), or T alone with clusters (clustered).
    Ols(SeType),
    /// OLS of y on T with HC2 standard errors that ignore the clusters.
    Hc2IgnoringClusters,
    /// estimatr's blocked difference in means.
    BlockedDim,
    /// Newcombe's hybrid score interval for the risk difference.
    Newcombe,
    /// Restricted wild cluster bootstrap, Rademacher weights, all sign vectors.
    WildBootstrap,
}

impl Method {
    /// A stable key for JSON and scripts.
    pub fn key(self) -> &'static str {
        match self {
            Self::Welch => "welch",
            Self::Ols(SeType::Classical) => "ols-classical",
            Self::Ols(SeType::Hc0) => "ols-hc0",
            Self::Ols(SeType::Hc1) => "ols-hc1",
            Self::Ols(SeType::Hc2) => "ols-hc2",
            Self::Ols(SeType::Hc3) => "ols-hc3",
            Self::Ols(SeType::Cr0) => "ols-cr0",
            Self::Ols(SeType::Cr1) => "ols-cr1",
            Self::Ols(SeType::Cr2) => "ols-cr2",
            Self::Hc2IgnoringClusters => "ols-hc2-ignoring-clusters",
            Self::BlockedDim => "blocked-dim",
            Self::Newcombe => "newcombe",
            Self::WildBootstrap => "wild-cluster-bootstrap",
        }
    }

    /// The estimator and standard error, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Welch => "Welch",
            Self::Ols(SeType::Classical) => "OLS classical",
            Self::Ols(SeType::Hc0) => "OLS HC0",
            Self::Ols(SeType::Hc1) => "OLS HC1",
            Self::Ols(SeType::Hc2) => "OLS HC2",
            Self::Ols(SeType::Hc3) => "OLS HC3",
            Self::Ols(SeType::Cr0) => "OLS CR0",
            Self::Ols(SeType::Cr1) => "OLS CR1",
            Self::Ols(SeType::Cr2) => "OLS CR2",
            Self::Hc2IgnoringClusters => "OLS HC2, clusters ignored",
            Self::BlockedDim => "blocked diff. in means",
            Self::Newcombe => "Newcombe",
            Self::WildBootstrap => "wild cluster bootstrap",
        }
    }

    /// The reference distribution and its degrees of freedom.
    pub fn df_rule(self) -> &'static str {
        match self {
            Self::Welch => "Welch-Satterthwaite",
            Self::Ols(se) => se.df_rule(),
            Self::Hc2IgnoringClusters => "n - k",
            Self::BlockedDim => "N - 2B",
            Self::Newcombe => "score (normal)",
            Self::WildBootstrap => "WCR, 2^G draws",
        }
    }
}

/// The estimators applied to a design and outcome, in table order.
pub fn methods(design: Design, outcome: Outcome) -> Vec<Method> {
    let hc = [
        SeType::Classical,
        SeType::Hc0,
        SeType::Hc1,
        SeType::Hc2,
        SeType::Hc3,
    ];
    let mut m = Vec::new();
    match design {
        Design::Individual | Design::Blocked => {
            m.push(Method::Welch);
            m.extend(hc.map(Method::Ols));
            if design == Design::Blocked {
                m.push(Method::BlockedDim);
            } else if outcome == Outcome::Binary {
                m.push(Method::Newcombe);
            }
        }
        Design::Clusters10 | Design::Clusters50 => {
            m.extend([SeType::Cr0, SeType::Cr1, SeType::Cr2].map(Method::Ols));
            m.push(Method::Hc2IgnoringClusters);
            if design == Design::Clusters10 {
                m.push(Method::WildBootstrap);
            }
        }
    }
    m
}

/// What one method gave in one trial. Fields that do not apply are NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialResult {
    /// Whether the interval contains the true effect (wild bootstrap: whether the
    /// test of the true effect does not reject at 5%).
    pub covered: bool,
    pub estimate: f64,
    pub std_error: f64,
    /// ci_high − ci_low.
    pub width: f64,
    pub df: f64,
}

impl TrialResult {
    fn from_inference(i: &Inference, truth: f64) -> Self {
        Self {
            covered: i.ci_low <= truth && truth <= i.ci_high,
            estimate: i.estimate,
            std_error: i.std_error,
            width: i.ci_high - i.ci_low,
            df: i.df.unwrap_or(f64::NAN),
        }
    }
}

/// Apply `methods` to one data set; `None` where a method could not be computed (for
/// example no variance in a small binary sample). `seed` is passed to the wild
/// bootstrap, which only uses it when it cannot enumerate.
pub fn analyse(
    data: &TrialData,
    methods: &[Method],
    truth: f64,
    seed: u64,
) -> Vec<Option<TrialResult>> {
    let t: Vec<f64> = data.treated.iter().map(|&b| arm(b)).collect();
    let block_codes = data.blocks.as_ref().map(|b| Clusters::from_labels(b));
    let cluster_codes = data.clusters.as_ref().map(|c| Clusters::from_labels(c));
    // The OLS design: T and the covariate, T and block dummies, or T alone.
    let mut cols: Vec<Vec<f64>> = vec![t.clone()];
    if let Some(c) = &data.covariate {
        cols.push(c.clone());
    }
    if let Some(b) = &data.blocks {
        let nb = b.iter().max().map_or(0, |m| *m as usize + 1);
        for level in 1..nb as u32 {
            cols.push(b.iter().map(|&v| f64::from(u8::from(v == level))).collect());
        }
    }
    let col_refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    let needs_ols = methods
        .iter()
        .any(|m| matches!(m, Method::Ols(_) | Method::Hc2IgnoringClusters));
    let fit = if needs_ols {
        ols::fit(&data.y, &col_refs, true).ok()
    } else {
        None
    };
    let split = || {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (&v, &tr) in data.y.iter().zip(&data.treated) {
            if tr { a.push(v) } else { b.push(v) }
        }
        (a, b)
    };
    methods
        .iter()
        .map(|&m| {
            let inf = match m {
                Method::Welch => {
                    let (a, b) = split();
                    twosample::welch(&a, &b, CONF_LEVEL).ok()
                }
                Method::Ols(se) => fit.as_ref().and_then(|f| {
                    let cl = if se.is_cluster() {
                        cluster_codes.as_ref()
                    } else {
                        None
                    };
                    f.coef_inference(1, se, cl, CONF_LEVEL)
                        .ok()
                        .map(|c| c.inference)
                }),
                Method::Hc2IgnoringClusters => fit.as_ref().and_then(|f| {
                    f.coef_inference(1, SeType::Hc2, None, CONF_LEVEL)
                        .ok()
                        .map(|c| c.inference)
                }),
                Method::BlockedDim => design::difference_in_means(
                    &data.y,
                    &data.treated,
                    block_codes.as_ref(),
                    None,
                    CONF_LEVEL,
                )
                .ok()
                .map(|d| d.inference),
                Method::Newcombe => {
                    let count = |arm: bool| {
                        let (mut x, mut n) = (0u64, 0u64);
                        for (&v, &tr) in data.y.iter().zip(&data.treated) {
                            if tr == arm {
                                n += 1;
                                x += u64::from(v > 0.5);
                            }
                        }
                        Counts {
                            events: x,
                            trials: n,
                        }
                    };
                    binary::newcombe(count(true), count(false), CONF_LEVEL).ok()
                }
                Method::WildBootstrap => {
                    return cluster_codes
                        .as_ref()
                        .and_then(|cl| wild(data, &t, cl, truth, seed));
                }
            };
            inf.map(|i| TrialResult::from_inference(&i, truth))
        })
        .collect()
}

/// The wild cluster bootstrap test of β_T = truth.
fn wild(data: &TrialData, t: &[f64], cl: &Clusters, truth: f64, seed: u64) -> Option<TrialResult> {
    let wb = WildClusterBootstrap::new(&data.y, &[t], true, cl, 1).ok()?;
    let draws = wb
        .draw(
            WildWeights::Rademacher,
            &ResampleOptions::new(WILD_DRAWS, seed),
        )
        .ok()?;
    let p = draws.p_value(truth);
    if !p.is_finite() || !wb.std_error().is_finite() || wb.std_error() <= 0.0 {
        return None;
    }
    Some(TrialResult {
        covered: p > 1.0 - CONF_LEVEL,
        estimate: wb.estimate(),
        std_error: f64::NAN,
        width: f64::NAN,
        df: f64::NAN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::simulate_trial;

    #[test]
    fn every_method_gives_a_result_on_a_typical_trial() {
        for d in Design::ALL {
            for o in Outcome::ALL {
                let ms = methods(d, o);
                let data = simulate_trial(5, d, o, 1);
                let res = analyse(&data, &ms, o.true_effect(), 5);
                assert!(res.iter().all(Option::is_some), "{d:?} {o:?}");
            }
        }
    }
}
