//! The designs and outcome types of the coverage simulation, and the drawing of one
//! trial's data set.
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

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, StandardNormal};
use serde::Serialize;

use crate::stats::resample::below;

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

/// The generator of trial `trial` of a design and outcome (see "Reproducibility" in
/// [`crate::coverage`]).
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

pub(super) fn arm(t: bool) -> f64 {
    f64::from(u8::from(t))
}

/// Draw the data set of trial `trial` (the models are in the module documentation).
pub fn simulate_trial(seed: u64, design: Design, outcome: Outcome, trial: u64) -> TrialData {
    let mut rng = trial_rng(seed, design, outcome, trial);
    match design {
        Design::Individual => individual_trial(&mut rng, outcome),
        Design::Blocked => blocked_trial(&mut rng, outcome),
        Design::Clusters10 | Design::Clusters50 => {
            clustered_trial(&mut rng, outcome, &design.cluster_sizes())
        }
    }
}

/// The individually randomised design: [`INDIVIDUAL_TREATED`] of [`INDIVIDUAL_N`]
/// persons treated, one covariate per person (x for continuous outcomes, z for binary).
fn individual_trial(rng: &mut ChaCha8Rng, outcome: Outcome) -> TrialData {
    let tau = outcome.true_effect();
    let n = INDIVIDUAL_N;
    let treated = choose(rng, n, INDIVIDUAL_TREATED);
    let mut y = Vec::with_capacity(n);
    let mut cov = Vec::with_capacity(n);
    for &t in &treated {
        let t = arm(t);
        match outcome {
            Outcome::Continuous => {
                let x = normal(rng);
                let sd = (1.0 + t) * ((1.0 + x * x) / 2.0).sqrt();
                y.push(1.0 + tau * t + 0.5 * x + sd * normal(rng));
                cov.push(x);
            }
            Outcome::Binary => {
                let z = bernoulli(rng, 0.5);
                y.push(bernoulli(rng, 0.2 + 0.2 * z + tau * t));
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

/// The blocked design: blocks of [`BLOCK_SIZES`], half of each block treated, with a
/// block effect (continuous) or a block base rate (binary).
fn blocked_trial(rng: &mut ChaCha8Rng, outcome: Outcome) -> TrialData {
    let tau = outcome.true_effect();
    let n: usize = BLOCK_SIZES.iter().sum();
    let mut y = Vec::with_capacity(n);
    let mut treated = Vec::with_capacity(n);
    let mut blocks = Vec::with_capacity(n);
    for (b, &size) in BLOCK_SIZES.iter().enumerate() {
        let alpha = normal(rng);
        let s_b = 0.5 + 0.25 * (b % 5) as f64;
        let p_b = 0.15 + 0.05 * (b % 7) as f64;
        for t in choose(rng, size, size / 2) {
            let tf = arm(t);
            y.push(match outcome {
                Outcome::Continuous => 1.0 + alpha + tau * tf + (1.0 + tf) * s_b * normal(rng),
                Outcome::Binary => bernoulli(rng, p_b + tau * tf),
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

/// A clustered design with clusters of `sizes`, half the clusters treated, and an
/// intra-cluster correlation of 0.1 (a normal cluster effect, or a Beta cluster rate).
fn clustered_trial(rng: &mut ChaCha8Rng, outcome: Outcome, sizes: &[usize]) -> TrialData {
    let tau = outcome.true_effect();
    let g = sizes.len();
    let arms = choose(rng, g, g / 2);
    let n: usize = sizes.iter().sum();
    let mut y = Vec::with_capacity(n);
    let mut treated = Vec::with_capacity(n);
    let mut clusters = Vec::with_capacity(n);
    for (c, (&size, &t)) in sizes.iter().zip(&arms).enumerate() {
        let tf = arm(t);
        match outcome {
            Outcome::Continuous => {
                let u = 0.1f64.sqrt() * normal(rng);
                for _ in 0..size {
                    let e = 0.9f64.sqrt() * normal(rng);
                    y.push(1.0 + tau * tf + (1.0 + tf) * (u + e));
                }
            }
            Outcome::Binary => {
                let mu = 0.3 + tau * tf;
                let p = Beta::new(9.0 * mu, 9.0 * (1.0 - mu))
                    .expect("positive Beta parameters")
                    .sample(rng);
                for _ in 0..size {
                    y.push(bernoulli(rng, p));
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
}
