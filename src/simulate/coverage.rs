//! Coverage simulation: how often the 95% intervals of each estimator and standard-error
//! type contain the true effect, in designs like the VIA pilots' (`via-eval coverage`).
//!
//! For every design and outcome type the simulation draws `trials` data sets with a
//! known, constant treatment effect, computes each applicable interval, and reports
//! the share of intervals that contain the true effect with its Monte Carlo standard
//! error √(c(1−c)/trials). A well-calibrated 95% interval covers in 95% of trials; an
//! interval that covers less overstates the precision of the pilot's result.
//!
//! # Designs (fixed; chosen before any result was seen)
//!
//! | key | units | assignment | model |
//! |---|---|---|---|
//! | `individual` | 80 persons | 24 treated, completely at random | covariate x ~ N(0,1) |
//! | `blocked` | 282 persons in 20 blocks of 4 to 40 | half of each block treated | block effects ~ N(0,1) |
//! | `clusters10` | 10 clusters of 5 to 90 persons (314) | 5 clusters treated | ICC 0.1 |
//! | `clusters50` | 50 clusters of 5 to 90 persons (1,488) | 25 clusters treated | ICC 0.1 |
//!
//! Cluster sizes are spread geometrically, size_g = round(5 · 18^(g/(G−1))), so the
//! largest cluster is 18 times the smallest. Block sizes are [`BLOCK_SIZES`].
//!
//! **Continuous outcomes** (true effect [`EFFECT_CONTINUOUS`] = 0.5). Errors are
//! normal and heteroskedastic: a treated unit's error has twice the standard deviation
//! of a control unit's (as when the effect differs between people), and further:
//! - individual: y = 1 + τT + 0.5x + (1+T)·√((1+x²)/2)·ε;
//! - blocked: y = 1 + α_b + τT + (1+T)·s_b·ε, α_b ~ N(0,1), s_b = 0.5 + 0.25·(b mod 5);
//! - clustered: y = 1 + τT + (1+T)·(u_g + e), u_g ~ N(0, 0.1), e ~ N(0, 0.9), so the
//!   intra-cluster correlation is 0.1 in both arms.
//!
//! **Binary outcomes** (base rate about 0.3, true risk difference
//! [`EFFECT_BINARY`] = 0.1), analysed as a linear probability model:
//! - individual: z ~ Bernoulli(½), P(y=1) = 0.2 + 0.2z + 0.1T;
//! - blocked: P(y=1) = p_b + 0.1T with p_b = 0.15 + 0.05·(b mod 7) (0.15 to 0.45);
//! - clustered: P(y=1) = p_g with p_g ~ Beta(9μ, 9(1−μ)), μ = 0.3 + 0.1T, which gives
//!   an intra-cluster correlation of 1/(9+1) = 0.1.
//!
//! # Estimators
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
//!
//! # Reproducibility
//!
//! Trial `r` of design d and outcome o draws from ChaCha8 keyed by `seed`
//! (`seed_from_u64`) on stream `(cell << 40) | r`, with cell = 2·d + o in the order of
//! [`Design::ALL`] and [`Outcome::ALL`]. Its draws therefore depend only on the seed,
//! the design, the outcome and the trial number: not on the thread that ran it, the
//! number of threads or which designs were selected. Trials run in parallel (rayon);
//! their results are collected in trial order and summed sequentially, so a seed gives
//! bit-identical numbers on any machine with the same floating-point behaviour.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::stats::binary::{self, Counts};
use crate::stats::ols::{self, Clusters, SeType};
use crate::stats::resample::wild::{WildClusterBootstrap, WildWeights};
use crate::stats::resample::{Progress, ResampleOptions, below};
use crate::stats::{Inference, design, twosample};

/// Confidence level of every interval.
pub const CONF_LEVEL: f64 = 0.95;
/// True effect on the continuous outcomes (outcome units).
pub const EFFECT_CONTINUOUS: f64 = 0.5;
/// True risk difference on the binary outcomes.
pub const EFFECT_BINARY: f64 = 0.1;
/// Persons and treated persons in the individually randomised design.
pub const INDIVIDUAL_N: usize = 80;
pub const INDIVIDUAL_TREATED: usize = 24;
/// Block sizes of the blocked design; half of each block is treated.
pub const BLOCK_SIZES: [usize; 20] = [
    4, 4, 4, 6, 6, 6, 8, 8, 10, 10, 12, 12, 14, 16, 18, 20, 24, 28, 32, 40,
];
/// Wild bootstrap draws at 10 clusters: all 2^10 Rademacher sign vectors.
const WILD_DRAWS: u64 = 1024;
/// Trials are numbered within 40 bits of the generator's stream.
const MAX_TRIALS: usize = 1 << 40;

/// A randomisation design of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Design {
    Individual,
    Blocked,
    Clusters10,
    Clusters50,
}

impl Design {
    pub const ALL: [Design; 4] = [
        Self::Individual,
        Self::Blocked,
        Self::Clusters10,
        Self::Clusters50,
    ];

    /// The key used on the command line and in the output.
    pub fn key(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Blocked => "blocked",
            Self::Clusters10 => "clusters10",
            Self::Clusters50 => "clusters50",
        }
    }

    /// One line describing the design.
    pub fn description(self) -> String {
        match self {
            Self::Individual => {
                format!("{INDIVIDUAL_N} persons, {INDIVIDUAL_TREATED} treated completely at random")
            }
            Self::Blocked => format!(
                "{} persons in {} blocks of {} to {}, half of each block treated",
                BLOCK_SIZES.iter().sum::<usize>(),
                BLOCK_SIZES.len(),
                BLOCK_SIZES.iter().min().unwrap_or(&0),
                BLOCK_SIZES.iter().max().unwrap_or(&0)
            ),
            Self::Clusters10 | Self::Clusters50 => {
                let sizes = self.cluster_sizes();
                format!(
                    "{} clusters of {} to {} persons ({} in all), half the clusters treated, ICC 0.1",
                    sizes.len(),
                    sizes.iter().min().unwrap_or(&0),
                    sizes.iter().max().unwrap_or(&0),
                    sizes.iter().sum::<usize>()
                )
            }
        }
    }

    /// Number of clusters, for the clustered designs.
    pub fn clusters(self) -> Option<usize> {
        match self {
            Self::Clusters10 => Some(10),
            Self::Clusters50 => Some(50),
            _ => None,
        }
    }

    /// Cluster sizes round(5 · 18^(g/(G−1))), g = 0..G; empty for unclustered designs.
    pub fn cluster_sizes(self) -> Vec<usize> {
        let Some(g) = self.clusters() else {
            return Vec::new();
        };
        (0..g)
            .map(|i| (5.0 * 18f64.powf(i as f64 / (g - 1) as f64)).round() as usize)
            .collect()
    }

    fn index(self) -> u64 {
        match self {
            Self::Individual => 0,
            Self::Blocked => 1,
            Self::Clusters10 => 2,
            Self::Clusters50 => 3,
        }
    }
}

/// Outcome type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Continuous,
    Binary,
}

impl Outcome {
    pub const ALL: [Outcome; 2] = [Self::Continuous, Self::Binary];

    pub fn key(self) -> &'static str {
        match self {
            Self::Continuous => "continuous",
            Self::Binary => "binary",
        }
    }

    /// The true effect built into the data.
    pub fn true_effect(self) -> f64 {
        match self {
            Self::Continuous => EFFECT_CONTINUOUS,
            Self::Binary => EFFECT_BINARY,
        }
    }

    fn index(self) -> u64 {
        match self {
            Self::Continuous => 0,
            Self::Binary => 1,
        }
    }
}

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

/// One simulated data set.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialData {
    pub y: Vec<f64>,
    pub treated: Vec<bool>,
    /// The covariate of the individual design (x, or z for binary outcomes).
    pub covariate: Option<Vec<f64>>,
    /// Block codes 0..B (blocked design).
    pub blocks: Option<Vec<u32>>,
    /// Cluster codes 0..G (clustered designs).
    pub clusters: Option<Vec<u32>>,
}

/// The generator of trial `trial` of a design and outcome (see the module docs).
pub fn trial_rng(seed: u64, design: Design, outcome: Outcome, trial: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cell = 2 * design.index() + outcome.index();
    rng.set_stream((cell << 40) | trial);
    rng
}

/// Exactly `m` of `n` positions set, uniformly at random (partial Fisher-Yates).
fn choose(rng: &mut ChaCha8Rng, n: usize, m: usize) -> Vec<bool> {
    let mut idx: Vec<usize> = (0..n).collect();
    let mut out = vec![false; n];
    for i in 0..m {
        let j = i + below(rng, (n - i) as u32) as usize;
        idx.swap(i, j);
        out[idx[i]] = true;
    }
    out
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

fn bernoulli(rng: &mut ChaCha8Rng, p: f64) -> f64 {
    f64::from(u8::from(rng.random::<f64>() < p))
}

fn arm(t: bool) -> f64 {
    f64::from(u8::from(t))
}

/// Draw the data set of trial `trial` (see the module docs for the models).
pub fn simulate_trial(seed: u64, design: Design, outcome: Outcome, trial: u64) -> TrialData {
    let mut rng = trial_rng(seed, design, outcome, trial);
    let tau = outcome.true_effect();
    match design {
        Design::Individual => {
            let n = INDIVIDUAL_N;
            let treated = choose(&mut rng, n, INDIVIDUAL_TREATED);
            let mut y = Vec::with_capacity(n);
            let mut cov = Vec::with_capacity(n);
            for &t in &treated {
                let t = arm(t);
                match outcome {
                    Outcome::Continuous => {
                        let x = normal(&mut rng);
                        let sd = (1.0 + t) * ((1.0 + x * x) / 2.0).sqrt();
                        y.push(1.0 + tau * t + 0.5 * x + sd * normal(&mut rng));
                        cov.push(x);
                    }
                    Outcome::Binary => {
                        let z = bernoulli(&mut rng, 0.5);
                        y.push(bernoulli(&mut rng, 0.2 + 0.2 * z + tau * t));
                        cov.push(z);
                    }
                }
            }
            TrialData {
                y,
                treated,
                covariate: Some(cov),
                blocks: None,
                clusters: None,
            }
        }
        Design::Blocked => {
            let n: usize = BLOCK_SIZES.iter().sum();
            let mut y = Vec::with_capacity(n);
            let mut treated = Vec::with_capacity(n);
            let mut blocks = Vec::with_capacity(n);
            for (b, &size) in BLOCK_SIZES.iter().enumerate() {
                let alpha = normal(&mut rng);
                let s_b = 0.5 + 0.25 * (b % 5) as f64;
                let p_b = 0.15 + 0.05 * (b % 7) as f64;
                for t in choose(&mut rng, size, size / 2) {
                    let tf = arm(t);
                    y.push(match outcome {
                        Outcome::Continuous => {
                            1.0 + alpha + tau * tf + (1.0 + tf) * s_b * normal(&mut rng)
                        }
                        Outcome::Binary => bernoulli(&mut rng, p_b + tau * tf),
                    });
                    treated.push(t);
                    blocks.push(b as u32);
                }
            }
            TrialData {
                y,
                treated,
                covariate: None,
                blocks: Some(blocks),
                clusters: None,
            }
        }
        Design::Clusters10 | Design::Clusters50 => {
            let sizes = design.cluster_sizes();
            let g = sizes.len();
            let arms = choose(&mut rng, g, g / 2);
            let n: usize = sizes.iter().sum();
            let mut y = Vec::with_capacity(n);
            let mut treated = Vec::with_capacity(n);
            let mut clusters = Vec::with_capacity(n);
            for (c, (&size, &t)) in sizes.iter().zip(&arms).enumerate() {
                let tf = arm(t);
                match outcome {
                    Outcome::Continuous => {
                        let u = 0.1f64.sqrt() * normal(&mut rng);
                        for _ in 0..size {
                            let e = 0.9f64.sqrt() * normal(&mut rng);
                            y.push(1.0 + tau * tf + (1.0 + tf) * (u + e));
                        }
                    }
                    Outcome::Binary => {
                        let mu = 0.3 + tau * tf;
                        let p = Beta::new(9.0 * mu, 9.0 * (1.0 - mu))
                            .expect("positive Beta parameters")
                            .sample(&mut rng);
                        for _ in 0..size {
                            y.push(bernoulli(&mut rng, p));
                        }
                    }
                }
                treated.extend(std::iter::repeat_n(t, size));
                clusters.extend(std::iter::repeat_n(c as u32, size));
            }
            TrialData {
                y,
                treated,
                covariate: None,
                blocks: None,
                clusters: Some(clusters),
            }
        }
    }
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

/// Coverage of one method in one design and outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    pub design: Design,
    pub outcome: Outcome,
    /// Stable key of the method, e.g. `ols-cr2`.
    pub method: &'static str,
    /// The estimator and SE type, e.g. `OLS CR2`.
    pub estimator: &'static str,
    pub df_rule: &'static str,
    pub true_effect: f64,
    /// Data sets simulated.
    pub trials: usize,
    /// Trials in which the method could not be computed (left out of `coverage`).
    pub failed: usize,
    /// Share of the other trials whose interval contains the true effect.
    pub coverage: f64,
    /// Monte Carlo standard error of `coverage`: √(c(1−c)/(trials − failed)).
    pub mc_se: f64,
    /// Mean estimate minus the true effect.
    pub bias: f64,
    /// Mean interval width (none for the wild bootstrap, whose interval is not built).
    pub mean_width: Option<f64>,
    /// Mean standard error over the standard deviation of the estimates: below 1 the
    /// standard error is too small on average.
    pub se_ratio: Option<f64>,
    /// Mean degrees of freedom of the t reference distribution.
    pub mean_df: Option<f64>,
}

/// The whole simulation: settings and one row per design, outcome and method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub seed: u64,
    pub trials: usize,
    pub conf_level: f64,
    pub designs: Vec<DesignInfo>,
    pub rows: Vec<CoverageRow>,
}

/// A design as simulated, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignInfo {
    pub design: Design,
    pub description: String,
}

/// Simulate `trials` data sets of one design and outcome and summarise each method.
/// `progress` is called with 1 after every trial (from worker threads).
pub fn run_cell(
    design: Design,
    outcome: Outcome,
    trials: usize,
    seed: u64,
    progress: Option<Progress<'_>>,
) -> Vec<CoverageRow> {
    let ms = methods(design, outcome);
    let truth = outcome.true_effect();
    let results: Vec<Vec<Option<TrialResult>>> = (0..trials as u64)
        .into_par_iter()
        .map(|r| {
            let data = simulate_trial(seed, design, outcome, r);
            let out = analyse(&data, &ms, truth, seed);
            if let Some(p) = progress {
                p(1);
            }
            out
        })
        .collect();
    ms.iter()
        .enumerate()
        .map(|(j, &m)| summarise(design, outcome, m, truth, results.iter().map(|r| r[j])))
        .collect()
}

/// Mean of the finite values, or None.
fn finite_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for v in values.filter(|v| v.is_finite()) {
        s += v;
        n += 1;
    }
    (n > 0).then(|| s / n as f64)
}

fn summarise(
    design: Design,
    outcome: Outcome,
    method: Method,
    truth: f64,
    results: impl Iterator<Item = Option<TrialResult>>,
) -> CoverageRow {
    let all: Vec<Option<TrialResult>> = results.collect();
    let ok: Vec<TrialResult> = all.iter().flatten().copied().collect();
    let valid = ok.len();
    let covered = ok.iter().filter(|r| r.covered).count();
    let coverage = if valid > 0 {
        covered as f64 / valid as f64
    } else {
        f64::NAN
    };
    let mean_est = finite_mean(ok.iter().map(|r| r.estimate)).unwrap_or(f64::NAN);
    let sd_est = if valid > 1 {
        (ok.iter()
            .map(|r| (r.estimate - mean_est).powi(2))
            .sum::<f64>()
            / (valid - 1) as f64)
            .sqrt()
    } else {
        f64::NAN
    };
    CoverageRow {
        design,
        outcome,
        method: method.key(),
        estimator: method.label(),
        df_rule: method.df_rule(),
        true_effect: truth,
        trials: all.len(),
        failed: all.len() - valid,
        coverage,
        mc_se: (coverage * (1.0 - coverage) / valid as f64).sqrt(),
        bias: mean_est - truth,
        mean_width: finite_mean(ok.iter().map(|r| r.width)),
        se_ratio: finite_mean(ok.iter().map(|r| r.std_error))
            .map(|s| s / sd_est)
            .filter(|v| v.is_finite()),
        mean_df: finite_mean(ok.iter().map(|r| r.df)),
    }
}

/// Run the simulation for `designs` (both outcome types each), `trials` data sets per
/// design and outcome. `progress` receives 1 per finished trial; the total is
/// [`total_trials`].
pub fn run(
    designs: &[Design],
    trials: usize,
    seed: u64,
    progress: Option<Progress<'_>>,
) -> Result<CoverageReport> {
    if trials < 2 {
        return Err(Error::usage("--trials must be at least 2"));
    }
    if trials > MAX_TRIALS {
        return Err(Error::usage(format!(
            "--trials must be at most {MAX_TRIALS}"
        )));
    }
    let mut rows = Vec::new();
    for &d in designs {
        for o in Outcome::ALL {
            rows.extend(run_cell(d, o, trials, seed, progress));
        }
    }
    Ok(CoverageReport {
        seed,
        trials,
        conf_level: CONF_LEVEL,
        designs: designs
            .iter()
            .map(|&d| DesignInfo {
                design: d,
                description: d.description(),
            })
            .collect(),
        rows,
    })
}

/// Number of trials [`run`] simulates (for a progress bar).
pub fn total_trials(designs: &[Design], trials: usize) -> u64 {
    (designs.len() * Outcome::ALL.len() * trials) as u64
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}", 100.0 * v)
    } else {
        "-".into()
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

const HEADER: [&str; 11] = [
    "design",
    "outcome",
    "estimator",
    "df",
    "coverage %",
    "MC SE %",
    "mean width",
    "SE/SD",
    "mean df",
    "bias",
    "failed",
];

fn cells(r: &CoverageRow) -> [String; 11] {
    [
        r.design.key().to_string(),
        r.outcome.key().to_string(),
        r.estimator.to_string(),
        r.df_rule.to_string(),
        pct(r.coverage),
        format!("{:.2}", 100.0 * r.mc_se),
        num(r.mean_width, 3),
        num(r.se_ratio, 3),
        num(r.mean_df, 1),
        format!("{:+.4}", r.bias),
        r.failed.to_string(),
    ]
}

fn preamble(report: &CoverageReport) -> Vec<String> {
    let mut lines = vec![format!(
        "Coverage of {:.0}% intervals: {} trials per design and outcome, seed {}; true effect {} (continuous), {} (binary risk difference).",
        100.0 * report.conf_level,
        report.trials,
        report.seed,
        EFFECT_CONTINUOUS,
        EFFECT_BINARY
    )];
    for d in &report.designs {
        lines.push(format!("{}: {}", d.design.key(), d.description));
    }
    lines
}

/// A plain-text table with aligned columns.
pub fn render_table(report: &CoverageReport) -> String {
    let body: Vec<[String; 11]> = report.rows.iter().map(cells).collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in preamble(report) {
        let _ = writeln!(out, "{l}");
    }
    out.push('\n');
    // Text columns left-aligned, numbers right-aligned.
    let line = |cols: &[String]| {
        let parts: Vec<String> = cols
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i < 4 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    let _ = writeln!(out, "{}", "-".repeat(total));
    let mut last: Option<(Design, Outcome)> = None;
    for (r, row) in report.rows.iter().zip(&body) {
        if last.is_some_and(|l| l != (r.design, r.outcome)) {
            out.push('\n');
        }
        last = Some((r.design, r.outcome));
        let _ = writeln!(out, "{}", line(row));
    }
    out
}

/// A Markdown table (for the documentation).
pub fn render_markdown(report: &CoverageReport) -> String {
    let mut out = String::new();
    for l in preamble(report) {
        let _ = writeln!(out, "{l}  ");
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let align: Vec<&str> = (0..HEADER.len())
        .map(|i| if i < 4 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "| {} |", align.join(" | "));
    for r in &report.rows {
        let _ = writeln!(out, "| {} |", cells(r).join(" | "));
    }
    out
}

/// The report as pretty-printed JSON.
pub fn render_json(report: &CoverageReport) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn designs_have_the_documented_sizes() {
        assert_eq!(
            Design::Clusters10.cluster_sizes(),
            vec![5, 7, 10, 13, 18, 25, 34, 47, 65, 90]
        );
        assert_eq!(
            Design::Clusters10.cluster_sizes().iter().sum::<usize>(),
            314
        );
        let d = simulate_trial(1, Design::Blocked, Outcome::Binary, 0);
        assert_eq!(d.y.len(), BLOCK_SIZES.iter().sum::<usize>());
        assert_eq!(d.treated.iter().filter(|&&t| t).count(), d.y.len() / 2);
        let c = simulate_trial(1, Design::Clusters50, Outcome::Continuous, 3);
        let g = c.clusters.as_ref().unwrap();
        // Half the clusters are treated, and every cluster has one arm.
        let mut arms = [None; 50];
        for (i, &k) in g.iter().enumerate() {
            let a = arms[k as usize].get_or_insert(c.treated[i]);
            assert_eq!(*a, c.treated[i]);
        }
        assert_eq!(arms.iter().filter(|a| **a == Some(true)).count(), 25);
        let i = simulate_trial(1, Design::Individual, Outcome::Continuous, 0);
        assert_eq!(i.treated.iter().filter(|&&t| t).count(), INDIVIDUAL_TREATED);
    }

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
