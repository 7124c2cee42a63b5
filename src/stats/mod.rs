//! Pure estimators: functions on slices and small structs, independent of polars and
//! of I/O. Each documents its formula's source and its conventions (degrees of
//! freedom, small-sample factor, CI transform) and is tested against reference values
//! from an established package (see `tests/reference.rs` and `scripts/fixtures/`).

pub mod binary;
pub mod cost;
pub mod describe;
pub mod design;
pub mod did;
pub mod did_balanced;
pub mod did_cs;
pub mod did_sa;
pub mod did_sparse;
pub mod dist;
pub mod effect_size;
pub mod exact;
pub mod fe;
pub mod its;
pub mod meta;
pub mod multiplicity;
pub mod ols;
pub mod power;
pub mod resample;
pub mod survival;
pub mod twosample;
pub mod wald;
pub mod weighting;

use serde::Serialize;

/// The inference for one estimate: point estimate, standard error, test and interval.
///
/// For ratio measures (risk ratio, odds ratio) `estimate`, `ci_low` and `ci_high` are on
/// the ratio scale and `std_error` is the standard error of the log ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Inference {
    pub estimate: f64,
    pub std_error: f64,
    /// Test statistic (t or z) for the null of no effect.
    pub statistic: f64,
    /// Degrees of freedom of the t reference distribution; `None` when it is normal.
    pub df: Option<f64>,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Inference {
    /// Wald inference: `estimate ± q·se` with q from t(df) or, for `df = None`, the
    /// standard normal; two-sided p-value for a null of zero.
    pub fn wald(estimate: f64, std_error: f64, df: Option<f64>, conf_level: f64) -> Self {
        let statistic = estimate / std_error;
        let q = dist::two_sided_quantile(conf_level, df);
        Self {
            estimate,
            std_error,
            statistic,
            df,
            p_value: dist::two_sided_p(statistic, df),
            ci_low: estimate - q * std_error,
            ci_high: estimate + q * std_error,
        }
    }

    /// Wald inference on the log scale, reported on the ratio scale: the estimate and
    /// the interval limits are exponentiated, `std_error` stays that of the log.
    pub fn log_ratio(log_estimate: f64, log_se: f64, conf_level: f64) -> Self {
        let w = Self::wald(log_estimate, log_se, None, conf_level);
        Self {
            estimate: log_estimate.exp(),
            std_error: log_se,
            statistic: w.statistic,
            df: None,
            p_value: w.p_value,
            ci_low: w.ci_low.exp(),
            ci_high: w.ci_high.exp(),
        }
    }
}

/// Errors that estimators report; the analysis layer turns them into notes or errors
/// that name the outcome and arm.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsError {
    /// Fewer observations than the estimator needs.
    TooFew { needed: usize, got: usize },
    /// No variation where the estimator needs some.
    NoVariance,
    /// Column `index` of the design (0-based, the intercept counted) is constant or a
    /// linear combination of the columns before it.
    Collinear { index: usize },
    /// The arm indicator of a regression ([`ols::ArmRegression`]) is a linear
    /// combination of the intercept and the design columns up to and including column
    /// `column` (0-based, of the columns after the arm indicator): the arm's effect
    /// cannot be told from theirs.
    ArmCollinear { column: usize },
    /// Cluster-robust inference needs at least two clusters.
    TooFewClusters { got: usize },
    /// Inputs of different lengths or values out of range.
    Invalid(String),
}

impl std::fmt::Display for StatsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooFew { needed, got } => {
                write!(f, "needs at least {needed} observations, has {got}")
            }
            Self::NoVariance => write!(f, "the values do not vary"),
            Self::Collinear { index } => write!(
                f,
                "design column {index} is constant or a linear combination of the others"
            ),
            Self::ArmCollinear { column } => write!(
                f,
                "the arm indicator is a linear combination of the design columns up to column {column}"
            ),
            Self::TooFewClusters { got } => {
                write!(
                    f,
                    "cluster-robust inference needs at least 2 clusters, has {got}"
                )
            }
            Self::Invalid(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for StatsError {}

pub type StatsResult<T> = Result<T, StatsError>;

/// `x > y`, false when either is NaN; written as a call so that checks like
/// "the variance is not positive" read plainly and treat NaN as not positive.
pub(crate) fn above(x: f64, y: f64) -> bool {
    x > y
}
