//! Design-based estimators of the average treatment effect: the difference in means
//! for standard, blocked, cluster-randomised and blocked-and-clustered designs, exactly
//! as R `estimatr::difference_in_means` (estimatr 1.0.0), and the Lin (2013)
//! covariate-adjusted estimator as `estimatr::lm_lin`.
//!
//! # Difference in means (`difference_in_means`)
//!
//! Effect = mean of the treated − mean of the control (estimatr's `condition2` minus
//! `condition1`). With n_b units in block b of B blocks and N = Σ n_b:
//!
//! | design | when | estimate | SE | df |
//! |---|---|---|---|---|
//! | standard | no blocks, no clusters | ȳ₁ − ȳ₀ | Welch √(s₁²/n₁ + s₀²/n₀) | Welch-Satterthwaite |
//! | clustered | clusters, no blocks | OLS slope of y on T | CR2 (Bell & McCaffrey 2002) | Bell-McCaffrey |
//! | blocked | blocks, every block with > 2 units | Σ (n_b/N)·d_b | √(Σ (n_b/N)²·SE_b²), SE_b Welch-type within the block | N − 2B |
//! | matched pair | blocks, a block with exactly 2 units | Σ (n_b/N)·d_b | √(Σ (d_b − d)² / (B(B−1))) | B − 1 |
//! | block-clustered | blocks and clusters, every block with > 2 clusters | Σ (n_b/N)·d_b | √(Σ (n_b/N)²·SE_b²), SE_b CR2 within the block | G − 2B |
//! | matched-pair clustered | blocks and clusters, a block with exactly 2 clusters | Σ (n_b/N)·d_b | √(B/((B−1)N²) · Σ (n_b·d_b − N·d/B)²) | B − 1 |
//!
//! where d_b is the difference in unit means within block b (in the block-clustered
//! design the CR2 slope within the block, which is the same number) and G the total
//! number of clusters. The matched-pair formulas are Imai, King & Nall (2009) for
//! clusters and the paired-difference variance without; estimatr also applies them
//! (with a warning) when blocks of two are mixed with larger blocks, because no
//! within-block variance exists for a block of two: [`DimResult::mixed_pairs`] flags
//! that case. Intervals and p-values use t with the df above.
//!
//! Requirements (as estimatr): every block holds both arms; a cluster lies in one
//! block and has one arm; without pairs, each block has at least two treated and two
//! control units. Deliberate difference: estimatr returns a CR2 standard error when an
//! arm (of the design or of a block) has a single cluster, although none can be
//! estimated from one cluster; here that is a [`StatsError::TooFewClusters`] error.
//! Weights (estimatr's `weights =`) are not supported. For more than two arms the
//! caller passes the two arms to compare (estimatr's `condition1`/`condition2`).
//!
//! # Lin (2013) (`lin`)
//!
//! OLS of y on an intercept, T, the covariates centred at their means, and T times
//! each centred covariate (Lin 2013, *Ann. Appl. Stat.* 7, 295-318); the coefficient
//! on T estimates the average treatment effect. Column order as `lm_lin`: intercept,
//! T, centred covariates, interactions. Standard errors: HC2 by default (Lin's
//! recommendation and `lm_lin`'s default), CR2 with Bell-McCaffrey df with clusters;
//! any [`SeType`] can be asked for.

use serde::Serialize;

use super::describe::mean_var;
use super::ols::{self, Clusters, CoefInference, OlsFit, SeType};
use super::{Inference, StatsError, StatsResult, twosample};

/// Which estimator the design called for (estimatr's `design` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DimDesign {
    Standard,
    Clustered,
    Blocked,
    MatchedPair,
    BlockClustered,
    MatchedPairClustered,
}

impl DimDesign {
    /// estimatr's name for the design.
    pub fn name(self) -> &'static str {
        match self {
            Self::Standard => "Standard",
            Self::Clustered => "Clustered",
            Self::Blocked => "Blocked",
            Self::MatchedPair => "Matched-pair",
            Self::BlockClustered => "Block-clustered",
            Self::MatchedPairClustered => "Matched-pair clustered",
        }
    }

    /// How the degrees of freedom are chosen, for reports.
    pub fn df_rule(self) -> &'static str {
        match self {
            Self::Standard => "Welch-Satterthwaite",
            Self::Clustered => "Bell-McCaffrey",
            Self::Blocked => "N - 2B",
            Self::BlockClustered => "G - 2B",
            Self::MatchedPair | Self::MatchedPairClustered => "B - 1",
        }
    }
}

/// A design-based difference in means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DimResult {
    pub inference: Inference,
    pub design: DimDesign,
    /// Units in the two arms.
    pub n: usize,
    pub n_blocks: Option<usize>,
    /// Clusters in the two arms (estimatr reports 2 per block for matched-pair
    /// clustered designs, also for a block of three clusters; this is the true count).
    pub n_clusters: Option<usize>,
    /// Blocks of two units (clusters) mixed with larger blocks, so the matched-pair
    /// variance was used for all blocks (estimatr warns about this).
    pub mixed_pairs: bool,
}

/// Dense codes of a grouping restricted to the rows in `rows`, in order of first
/// appearance, with their count.
fn recode(codes: &[u32], rows: &[usize]) -> Clusters {
    let sub: Vec<u32> = rows.iter().map(|&i| codes[i]).collect();
    Clusters::from_labels(&sub)
}

/// Number of distinct codes among `rows`.
fn distinct(codes: &[u32], rows: &[usize]) -> usize {
    let mut v: Vec<u32> = rows.iter().map(|&i| codes[i]).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn check_lengths(
    y: &[f64],
    treated: &[bool],
    groups: &[(&str, Option<&Clusters>)],
) -> StatsResult<()> {
    if treated.len() != y.len() {
        return Err(StatsError::Invalid(format!(
            "{} treatment values for {} outcomes",
            treated.len(),
            y.len()
        )));
    }
    for (what, g) in groups {
        if let Some(g) = g
            && g.codes().len() != y.len()
        {
            return Err(StatsError::Invalid(format!(
                "{} {what} codes for {} outcomes",
                g.codes().len(),
                y.len()
            )));
        }
    }
    if let Some(bad) = y.iter().position(|v| !v.is_finite()) {
        return Err(StatsError::Invalid(format!(
            "outcome {bad} is not a finite number"
        )));
    }
    Ok(())
}

/// Every cluster has a single arm, and (with blocks) lies in a single block.
fn check_clusters(
    treated: &[bool],
    clusters: &Clusters,
    blocks: Option<&Clusters>,
) -> StatsResult<()> {
    let g = clusters.count();
    let mut arm: Vec<Option<bool>> = vec![None; g];
    let mut block: Vec<Option<u32>> = vec![None; g];
    for (i, &c) in clusters.codes().iter().enumerate() {
        let c = c as usize;
        match arm[c] {
            None => arm[c] = Some(treated[i]),
            Some(a) if a != treated[i] => {
                return Err(StatsError::Invalid(
                    "all units of a cluster must be in the same arm".into(),
                ));
            }
            _ => {}
        }
        if let Some(b) = blocks {
            let bi = b.codes()[i];
            match block[c] {
                None => block[c] = Some(bi),
                Some(x) if x != bi => {
                    return Err(StatsError::Invalid(
                        "every cluster must lie within one block".into(),
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Split `rows` of `y` by arm.
fn arm_values(y: &[f64], treated: &[bool], rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut t = Vec::new();
    let mut c = Vec::new();
    for &i in rows {
        if treated[i] {
            t.push(y[i]);
        } else {
            c.push(y[i]);
        }
    }
    (t, c)
}

fn mean(x: &[f64]) -> f64 {
    mean_var(x).0
}

/// CR2 slope of y on T over `rows`, with clusters recoded to those rows: (estimate,
/// SE, Bell-McCaffrey df, number of clusters).
fn cr2_slope(
    y: &[f64],
    treated: &[bool],
    clusters: &Clusters,
    rows: &[usize],
) -> StatsResult<(f64, f64, f64, usize)> {
    let cl = recode(clusters.codes(), rows);
    let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
    let tt: Vec<f64> = rows
        .iter()
        .map(|&i| f64::from(u8::from(treated[i])))
        .collect();
    for arm in [true, false] {
        let arm_rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| treated[i] == arm)
            .collect();
        let g = distinct(clusters.codes(), &arm_rows);
        if g < 2 {
            return Err(StatsError::TooFewClusters { got: g });
        }
    }
    let fit = ols::fit(&yy, &[&tt], true)?;
    let ci = fit.coef_inference(1, SeType::Cr2, Some(&cl), 0.95)?;
    Ok((
        ci.inference.estimate,
        ci.inference.std_error,
        ci.inference.df.unwrap_or(f64::NAN),
        cl.count(),
    ))
}

/// The design-based difference in means (treated − control) as
/// `estimatr::difference_in_means(y ~ t, blocks = , clusters = )`; see the module
/// documentation for the estimator each design gets.
///
/// `blocks` and `clusters` are codes per unit (build them with
/// [`Clusters::from_labels`]).
pub fn difference_in_means(
    y: &[f64],
    treated: &[bool],
    blocks: Option<&Clusters>,
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<DimResult> {
    check_lengths(y, treated, &[("block", blocks), ("cluster", clusters)])?;
    if let Some(cl) = clusters {
        check_clusters(treated, cl, blocks)?;
    }
    let Some(blocks) = blocks else {
        return unblocked(y, treated, clusters, conf_level);
    };
    let n = y.len();
    let nb = blocks.count();
    let rows = block_rows(blocks);
    // Units (or clusters) per block decide between the blocked and pair estimators.
    let per_block: Vec<usize> = rows
        .iter()
        .map(|r| match clusters {
            Some(cl) => distinct(cl.codes(), r),
            None => r.len(),
        })
        .collect();
    if per_block.contains(&1) {
        return Err(StatsError::Invalid(format!(
            "every block needs at least two {}",
            if clusters.is_some() {
                "clusters"
            } else {
                "units"
            }
        )));
    }
    let pairs = per_block.contains(&2);
    let mixed_pairs = pairs && per_block.iter().any(|&c| c > 2);
    let b = block_differences(y, treated, clusters, &rows, pairs)?;
    let (se, df, design) = blocked_se(&b, pairs, clusters.is_some(), n)?;
    if !super::above(se, 0.0) {
        return Err(StatsError::NoVariance);
    }
    Ok(DimResult {
        inference: Inference::wald(b.estimate, se, Some(df), conf_level),
        design,
        n,
        n_blocks: Some(nb),
        n_clusters: clusters.map(|_| b.n_clusters),
        mixed_pairs,
    })
}

/// Without blocks: Welch, or with clusters the CR2 slope of y on the arm.
fn unblocked(
    y: &[f64],
    treated: &[bool],
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<DimResult> {
    let n = y.len();
    let all: Vec<usize> = (0..n).collect();
    let (t, c) = arm_values(y, treated, &all);
    match clusters {
        None => Ok(DimResult {
            inference: twosample::welch(&t, &c, conf_level)?,
            design: DimDesign::Standard,
            n,
            n_blocks: None,
            n_clusters: None,
            mixed_pairs: false,
        }),
        Some(cl) => {
            let need = t.len().min(c.len());
            if need < 2 {
                return Err(StatsError::TooFew {
                    needed: 2,
                    got: need,
                });
            }
            let (est, se, df, g) = cr2_slope(y, treated, cl, &all)?;
            Ok(DimResult {
                inference: Inference::wald(est, se, Some(df), conf_level),
                design: DimDesign::Clustered,
                n,
                n_blocks: None,
                n_clusters: Some(g),
                mixed_pairs: false,
            })
        }
    }
}

/// The rows of each block, in order of the block codes.
fn block_rows(blocks: &Clusters) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); blocks.count()];
    for (i, &b) in blocks.codes().iter().enumerate() {
        rows[b as usize].push(i);
    }
    rows
}

/// The per-block differences of a blocked design and what its standard error needs.
struct BlockDifferences {
    /// Difference in means per block.
    d: Vec<f64>,
    /// Units per block.
    w: Vec<f64>,
    /// Σ_b SE_b² (n_b/N)², the blocked variance (0 terms for pairs).
    var_terms: f64,
    /// Clusters over all blocks (clustered designs).
    n_clusters: usize,
    /// Σ_b d_b n_b/N.
    estimate: f64,
}

/// The difference in means of each block with its variance term: the plain difference
/// for pairs, Welch's variance for blocks, the CR2 slope for clusters within blocks.
fn block_differences(
    y: &[f64],
    treated: &[bool],
    clusters: Option<&Clusters>,
    rows: &[Vec<usize>],
    pairs: bool,
) -> StatsResult<BlockDifferences> {
    let nf = y.len() as f64;
    let mut d = Vec::with_capacity(rows.len());
    let mut w = Vec::with_capacity(rows.len());
    let mut var_terms = 0.0;
    let mut n_clusters = 0usize;
    for r in rows {
        let (t, c) = arm_values(y, treated, r);
        if t.is_empty() || c.is_empty() {
            return Err(StatsError::Invalid(
                "every block must hold units of both arms".into(),
            ));
        }
        if !pairs && (t.len() < 2 || c.len() < 2) {
            return Err(StatsError::Invalid(
                "without matched pairs, every block needs at least two treated and two control units"
                    .into(),
            ));
        }
        let nbk = r.len() as f64;
        let (db, se2) = match (pairs, clusters) {
            (true, _) => (mean(&t) - mean(&c), 0.0),
            (false, None) => {
                let (mt, vt) = mean_var(&t);
                let (mc, vc) = mean_var(&c);
                (mt - mc, vt / t.len() as f64 + vc / c.len() as f64)
            }
            (false, Some(cl)) => {
                let (est, se, _, g) = cr2_slope(y, treated, cl, r)?;
                n_clusters += g;
                (est, se * se)
            }
        };
        if let (true, Some(cl)) = (pairs, clusters) {
            n_clusters += distinct(cl.codes(), r);
        }
        var_terms += se2 * (nbk / nf) * (nbk / nf);
        d.push(db);
        w.push(nbk);
    }
    let estimate: f64 = d.iter().zip(&w).map(|(db, nbk)| db * nbk / nf).sum();
    Ok(BlockDifferences {
        d,
        w,
        var_terms,
        n_clusters,
        estimate,
    })
}

/// Standard error, df and design of a blocked estimate: the blocked variance with
/// N − 2B df (clusters: G − 2B), or for matched pairs the spread of the pair
/// differences with B − 1 df.
fn blocked_se(
    b: &BlockDifferences,
    pairs: bool,
    clustered: bool,
    n: usize,
) -> StatsResult<(f64, f64, DimDesign)> {
    let nb = b.d.len();
    let nf = n as f64;
    let bf = nb as f64;
    let est = b.estimate;
    Ok(match (pairs, clustered) {
        (false, false) => (b.var_terms.sqrt(), nf - 2.0 * bf, DimDesign::Blocked),
        (false, true) => (
            b.var_terms.sqrt(),
            b.n_clusters as f64 - 2.0 * bf,
            DimDesign::BlockClustered,
        ),
        (true, false) => {
            if nb < 2 {
                return Err(StatsError::TooFew { needed: 2, got: nb });
            }
            let ss: f64 = b.d.iter().map(|db| (db - est).powi(2)).sum();
            (
                (ss / (bf * (bf - 1.0))).sqrt(),
                bf - 1.0,
                DimDesign::MatchedPair,
            )
        }
        (true, true) => {
            if nb < 2 {
                return Err(StatsError::TooFew { needed: 2, got: nb });
            }
            let ss: f64 =
                b.d.iter()
                    .zip(&b.w)
                    .map(|(db, nbk)| (nbk * db - nf * est / bf).powi(2))
                    .sum();
            (
                (bf / ((bf - 1.0) * nf * nf) * ss).sqrt(),
                bf - 1.0,
                DimDesign::MatchedPairClustered,
            )
        }
    })
}

/// A Lin (2013) fit: the full regression, the inference on the treatment coefficient
/// and the covariate means used for centring.
#[derive(Debug, Clone)]
pub struct LinFit {
    /// The regression, owning its columns (T, centred covariates, interactions).
    pub fit: OlsFit<'static>,
    /// Inference on T (coefficient 1): the average treatment effect.
    pub treatment: CoefInference,
    /// The means the covariates were centred at, in the order given.
    pub centers: Vec<f64>,
}

/// The Lin (2013) estimator as `estimatr::lm_lin(y ~ t, covariates = ~ x1 + …)`:
/// y on an intercept, T, the centred covariates and T × each centred covariate; the
/// coefficient on T with `se` (`lm_lin`'s default is HC2, or CR2 with clusters).
///
/// A constant or collinear covariate is reported as [`StatsError::Collinear`] with
/// the design column index (0 intercept, 1 T, 2.. covariates, then interactions).
pub fn lin(
    y: &[f64],
    treated: &[bool],
    covariates: &[&[f64]],
    se: SeType,
    clusters: Option<&Clusters>,
    conf_level: f64,
) -> StatsResult<LinFit> {
    check_lengths(y, treated, &[("cluster", clusters)])?;
    if let Some(bad) = covariates.iter().find(|c| c.len() != y.len()) {
        return Err(StatsError::Invalid(format!(
            "covariate has {} values for {} outcomes",
            bad.len(),
            y.len()
        )));
    }
    let t: Vec<f64> = treated.iter().map(|&b| f64::from(u8::from(b))).collect();
    let centers: Vec<f64> = covariates.iter().map(|c| mean(c)).collect();
    let centred: Vec<Vec<f64>> = covariates
        .iter()
        .zip(&centers)
        .map(|(c, m)| c.iter().map(|v| v - m).collect())
        .collect();
    let interactions: Vec<Vec<f64>> = centred
        .iter()
        .map(|c| c.iter().zip(&t).map(|(v, ti)| v * ti).collect())
        .collect();
    let mut cols: Vec<Vec<f64>> = vec![t];
    cols.extend(centred);
    cols.extend(interactions);
    let fit = ols::fit_owned(y, cols, true)?;
    let treatment = fit.coef_inference(1, se, clusters, conf_level)?;
    Ok(LinFit {
        fit,
        treatment,
        centers,
    })
}

/// [`lin`] as a regression estimator of the analysis plan
/// ([`ols::ArmEstimator`]): the columns are the covariates (centred and interacted
/// with the arm by [`lin`]). Lin's interacted model has no weighted form here:
/// weights are refused.
pub fn lin_arm_effect(
    r: &ols::ArmRegression,
    se: SeType,
    conf_level: f64,
) -> StatsResult<ols::ArmEffect> {
    if r.weights.is_some() {
        return Err(StatsError::Invalid(
            "Lin's estimator takes no weights".into(),
        ));
    }
    let treated: Vec<bool> = r.arm.iter().map(|&v| v == 1.0).collect();
    let l = lin(r.y, &treated, &r.columns, se, r.clusters, conf_level)?;
    Ok(ols::ArmEffect {
        inference: l.treatment.inference,
        dropped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<f64>, Vec<bool>, Vec<u32>) {
        let y = vec![
            3.1, 2.0, 4.4, 5.2, 1.9, 2.5, 3.8, 4.9, 2.2, 3.0, 4.1, 6.0, 2.8, 1.7, 5.5, 4.0,
        ];
        let t = vec![
            true, false, true, true, false, false, true, true, false, false, true, true, false,
            false, true, false,
        ];
        let b = vec![0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2];
        (y, t, b)
    }

    /// As a plan estimator Lin gives the treatment inference of [`lin`], and refuses
    /// weights (its interacted model has no weighted form here).
    #[test]
    fn lin_as_an_arm_estimator() {
        let (y, t, b) = toy();
        let arm: Vec<f64> = t.iter().map(|&v| f64::from(u8::from(v))).collect();
        let x: Vec<f64> = b
            .iter()
            .zip(&y)
            .map(|(&g, v)| f64::from(g) + 0.1 * v)
            .collect();
        let r = ols::ArmRegression {
            y: &y,
            arm: &arm,
            columns: vec![&x],
            clusters: None,
            weights: None,
        };
        let e = lin_arm_effect(&r, SeType::Hc2, 0.95).unwrap();
        let direct = lin(&y, &t, &[&x], SeType::Hc2, None, 0.95).unwrap();
        assert_eq!(e.inference, direct.treatment.inference);
        assert!(e.dropped.is_empty());
        let w = vec![1.0; y.len()];
        let weighted = ols::ArmRegression {
            weights: Some(&w),
            ..r
        };
        assert!(matches!(
            lin_arm_effect(&weighted, SeType::Hc2, 0.95),
            Err(StatsError::Invalid(_))
        ));
    }

    #[test]
    fn one_block_equals_the_unblocked_difference() {
        let (y, t, _) = toy();
        let one = Clusters::from_labels(&vec![0u8; y.len()]);
        let b = difference_in_means(&y, &t, Some(&one), None, 0.95).unwrap();
        let s = difference_in_means(&y, &t, None, None, 0.95).unwrap();
        assert_eq!(b.design, DimDesign::Blocked);
        assert!((b.inference.estimate - s.inference.estimate).abs() < 1e-14);
        assert!((b.inference.std_error - s.inference.std_error).abs() < 1e-14);
        assert_eq!(b.inference.df, Some(y.len() as f64 - 2.0));
    }

    #[test]
    fn blocked_weights_by_block_size() {
        let (y, t, b) = toy();
        let blocks = Clusters::from_labels(&b);
        let r = difference_in_means(&y, &t, Some(&blocks), None, 0.95).unwrap();
        let mut want = 0.0;
        for k in 0..3u32 {
            let rows: Vec<usize> = (0..y.len()).filter(|&i| b[i] == k).collect();
            let (tv, cv) = arm_values(&y, &t, &rows);
            want += (mean(&tv) - mean(&cv)) * rows.len() as f64 / y.len() as f64;
        }
        assert!((r.inference.estimate - want).abs() < 1e-14);
        assert_eq!(r.inference.df, Some(16.0 - 6.0));
        assert_eq!(r.n_blocks, Some(3));
    }

    #[test]
    fn pairs_use_the_paired_variance() {
        let y = [5.0, 3.0, 4.0, 4.5, 7.0, 5.0, 2.0, 1.0];
        let t = [true, false, false, true, true, false, true, false];
        let b = Clusters::from_labels(&[0, 0, 1, 1, 2, 2, 3, 3]);
        let r = difference_in_means(&y, &t, Some(&b), None, 0.95).unwrap();
        // Pair differences 2, 0.5, 2, 1: mean 1.375, SE = sd/√4.
        let d = [2.0, 0.5, 2.0, 1.0];
        let (m, v) = mean_var(&d);
        assert_eq!(r.design, DimDesign::MatchedPair);
        assert!((r.inference.estimate - m).abs() < 1e-14);
        assert!((r.inference.std_error - (v / 4.0).sqrt()).abs() < 1e-14);
        assert_eq!(r.inference.df, Some(3.0));
        assert!(!r.mixed_pairs);
    }

    #[test]
    fn invalid_designs_are_refused() {
        let (y, t, b) = toy();
        // A block with one arm only.
        let mut tb = t.clone();
        tb.iter_mut().take(6).for_each(|v| *v = true);
        let blocks = Clusters::from_labels(&b);
        assert!(difference_in_means(&y, &tb, Some(&blocks), None, 0.95).is_err());
        // A cluster with both arms.
        let cl = Clusters::from_labels(&vec![0u8; y.len()]);
        assert!(difference_in_means(&y, &t, None, Some(&cl), 0.95).is_err());
        // Length mismatch.
        assert!(difference_in_means(&y[1..], &t, None, None, 0.95).is_err());
    }

    #[test]
    fn lin_equals_ols_adjustment_when_covariates_are_balanced() {
        // The covariate has the same mean in both arms, so the interaction does not
        // move the treatment coefficient away from the additive adjustment.
        let t = [true, true, true, true, false, false, false, false];
        let x = [1.0, 2.0, 3.0, 6.0, 0.0, 4.0, 5.0, 3.0];
        let y = [2.0, 3.5, 3.9, 7.0, 0.5, 3.0, 4.8, 2.1];
        let l = lin(&y, &t, &[&x], SeType::Hc2, None, 0.95).unwrap();
        let tf: Vec<f64> = t.iter().map(|&b| f64::from(u8::from(b))).collect();
        let o = ols::fit(&y, &[&tf, &x], true).unwrap();
        assert!((l.treatment.inference.estimate - o.coefficients()[1]).abs() < 1e-12);
        assert!((l.centers[0] - 3.0).abs() < 1e-15);
        // Without covariates Lin is the difference in means.
        let none = lin(&y, &t, &[], SeType::Hc2, None, 0.95).unwrap();
        let dim = difference_in_means(&y, &t, None, None, 0.95).unwrap();
        assert!((none.treatment.inference.estimate - dim.inference.estimate).abs() < 1e-12);
        // HC2 with only T equals Welch's SE (a known identity).
        assert!((none.treatment.inference.std_error - dim.inference.std_error).abs() < 1e-12);
    }
}
