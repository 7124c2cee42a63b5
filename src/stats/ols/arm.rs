//! The effect of an arm from a regression: the one shape every regression estimator of
//! the analysis plan has (`analysis::plan`, entries of kind `Run::Regression`). The
//! analysis builds the [`ArmRegression`] of a comparison (outcome, arm indicator,
//! design columns, clusters, weights) and writes the row, the notes and the disclosure
//! control; the estimator is a function of type [`ArmEstimator`] here in `stats`. A new
//! regression estimator is such a function and one entry of the plan.

use super::{Clusters, OlsFit, SeType, fit, fit_weighted};
use crate::stats::{Inference, StatsError, StatsResult};

/// A regression of an outcome on an arm indicator and further design columns.
pub struct ArmRegression<'a> {
    pub y: &'a [f64],
    /// 1 for a treated unit, 0 for a control unit.
    pub arm: &'a [f64],
    /// The columns after the arm indicator: covariates, then indicators.
    pub columns: Vec<&'a [f64]>,
    /// Cluster of every unit, for the cluster-robust standard errors.
    pub clusters: Option<&'a Clusters>,
    /// Weight of every unit (weighted least squares), when the units have them.
    pub weights: Option<&'a [f64]>,
}

/// What a regression estimator gives: the inference on the arm's effect, and the
/// columns it left out.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmEffect {
    pub inference: Inference,
    /// Indices into [`ArmRegression::columns`] of the columns left out as constant or
    /// collinear, in increasing order.
    pub dropped: Vec<usize>,
}

/// A regression estimator of the effect of the arm, with standard errors of type `se`
/// and intervals at `conf_level`. Fails with [`StatsError::ArmCollinear`] when a column
/// makes the arm effect unidentified.
pub type ArmEstimator = fn(&ArmRegression, SeType, f64) -> StatsResult<ArmEffect>;

/// Least squares (weighted with weights) of y on an intercept, the arm indicator and
/// the columns; the arm's coefficient with `se` ([`OlsFit::coef_inference`], whose
/// conventions are estimatr `lm_robust`'s). With no columns this is the regression
/// difference in means.
///
/// Constant or collinear columns are left out one at a time, the later of two
/// collinear columns first. A column is left out
/// only when it is constant or a combination of the columns before it without the arm
/// indicator. One that is collinear only together with the arm indicator (a covariate
/// that takes one value per arm, or project indicators when whole projects are in one
/// arm) is not: leaving it out would silently turn an adjusted estimate into an
/// unadjusted one, and keeping it leaves the arm effect unidentified. The fit is then
/// refused with [`StatsError::ArmCollinear`] naming the column.
pub fn ols_arm_effect(r: &ArmRegression, se: SeType, conf_level: f64) -> StatsResult<ArmEffect> {
    let (f, dropped) = fit_dropping(r)?;
    let ci = f.coef_inference(1, se, r.clusters, conf_level)?;
    Ok(ArmEffect {
        inference: ci.inference,
        dropped,
    })
}

/// The columns [`ols_arm_effect`] leaves out, without the standard errors.
pub fn ols_dropped_columns(r: &ArmRegression) -> StatsResult<Vec<usize>> {
    fit_dropping(r).map(|(_, dropped)| dropped)
}

/// The fit of [`ols_arm_effect`] and the columns it left out.
fn fit_dropping<'d>(r: &ArmRegression<'d>) -> StatsResult<(OlsFit<'d>, Vec<usize>)> {
    let mut kept: Vec<usize> = (0..r.columns.len()).collect();
    loop {
        let mut x: Vec<&[f64]> = vec![r.arm];
        x.extend(kept.iter().map(|&c| r.columns[c]));
        let fitted = match r.weights {
            Some(w) => fit_weighted(r.y, &x, w, true),
            None => fit(r.y, &x, true),
        };
        match fitted {
            Ok(f) => {
                let dropped = (0..r.columns.len()).filter(|c| !kept.contains(c)).collect();
                return Ok((f, dropped));
            }
            // Index 0 is the intercept, 1 the arm indicator, 2.. the kept columns.
            Err(StatsError::Collinear { index }) if index >= 2 => {
                let c = kept[index - 2];
                let mut without_arm: Vec<&[f64]> =
                    kept[..index - 2].iter().map(|&k| r.columns[k]).collect();
                without_arm.push(r.columns[c]);
                match fit(r.y, &without_arm, true) {
                    Err(StatsError::Collinear { index: j }) if j == without_arm.len() => {
                        kept.remove(index - 2);
                    }
                    Err(e) => return Err(e),
                    Ok(_) => return Err(StatsError::ArmCollinear { column: c }),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regression<'a>(y: &'a [f64], arm: &'a [f64], columns: Vec<&'a [f64]>) -> ArmRegression<'a> {
        ArmRegression {
            y,
            arm,
            columns,
            clusters: None,
            weights: None,
        }
    }

    /// Without columns, the arm's coefficient is the difference in means.
    #[test]
    fn no_columns_gives_the_difference_in_means() {
        let y = [1.0, 2.0, 4.0, 3.0, 7.0, 6.0];
        let arm = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let e = ols_arm_effect(&regression(&y, &arm, vec![]), SeType::Hc2, 0.95).unwrap();
        assert!((e.inference.estimate - (16.0 / 3.0 - 7.0 / 3.0)).abs() < 1e-12);
        assert!(e.dropped.is_empty());
    }

    /// A constant column and a copy of an earlier one are left out; the estimate is
    /// then the one without them.
    #[test]
    fn constant_and_repeated_columns_are_left_out() {
        let y = [1.0, 2.5, 4.0, 3.0, 7.5, 6.0, 2.0, 5.0];
        let arm = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let x = [0.3, 1.2, 0.7, 2.2, 1.9, 0.4, 1.1, 2.6];
        let one = [5.0; 8];
        let with = regression(&y, &arm, vec![&x, &one, &x]);
        let e = ols_arm_effect(&with, SeType::Hc2, 0.95).unwrap();
        assert_eq!(e.dropped, [1, 2]);
        let alone = ols_arm_effect(&regression(&y, &arm, vec![&x]), SeType::Hc2, 0.95).unwrap();
        assert_eq!(e.inference, alone.inference);
    }

    /// A column that is the arm indicator in disguise is refused, not dropped.
    #[test]
    fn a_column_that_determines_the_arm_is_refused() {
        let y = [1.0, 2.5, 4.0, 3.0, 7.5, 6.0];
        let arm = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let x = [0.3, 1.2, 0.7, 2.2, 1.9, 0.4];
        let per_arm = [2.0, 2.0, 2.0, 9.0, 9.0, 9.0];
        let r = regression(&y, &arm, vec![&x, &per_arm]);
        assert_eq!(
            ols_arm_effect(&r, SeType::Hc2, 0.95),
            Err(StatsError::ArmCollinear { column: 1 })
        );
    }
}
