//! The command line's names for the choices of the layers below (language, estimator,
//! standard errors, multiple-testing adjustment, column names, missing cluster ids).
//!
//! The layers below know nothing of clap: each choice here is a clap enum of its own
//! with the help text `--help` shows, and converts into the library's type with
//! `From`. The conversion is an exhaustive match, so a variant renamed or removed in the
//! library fails to compile here.

use crate::analysis::Estimator;
use crate::config::{Lang, MissingCluster};
use crate::report::columns::Names;
use crate::stats::multiplicity::Adjustment;
use crate::stats::ols::SeType;

/// A clap enum `$arg` whose variants are those of the library type `$ty`, with the
/// conversion into it.
macro_rules! choice {
    ($(#[$doc:meta])* $arg:ident => $ty:ident { $($(#[$m:meta])* $v:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $arg {
            $($(#[$m])* $v),*
        }

        impl From<$arg> for $ty {
            fn from(a: $arg) -> Self {
                match a {
                    $($arg::$v => $ty::$v),*
                }
            }
        }
    };
}

choice! {
    /// `--lang`: the language of labels, charts and reports.
    LangArg => Lang {
        /// Dutch.
        Nl,
        /// English.
        En,
    }
}

choice! {
    /// `--estimator`: the estimator that leads.
    EstimatorArg => Estimator {
        /// Welch's difference in means (unequal variances).
        Welch,
        /// Student's pooled-variance difference in means.
        Student,
        /// Least squares on the arm indicator (and covariates), robust SEs.
        Ols,
        /// Lin (2013): least squares with treatment × centred-covariate interactions.
        Lin,
        /// Non-randomised: inverse probability weighting for the effect on the treated
        /// (logistic propensity score on --covariates; stacked M-estimation SE).
        Ipw,
        /// Non-randomised: overlap weights (effect in the overlap population, ATO).
        Overlap,
        /// Non-randomised: entropy balancing on the means of --covariates (ATT).
        Entropy,
        /// Non-randomised: doubly robust AIPW for the effect on the treated (logistic
        /// propensity score and a regression among the comparison group).
        Aipw,
        /// Non-randomised: nearest-neighbour matching on the propensity score (ATT;
        /// --ratio, --replace, --caliper).
        Matching,
    }
}

choice! {
    /// `--se`: the standard errors of the regressions.
    SeArg => SeType {
        /// Classical (homoskedastic) standard errors.
        Classical,
        /// White's heteroskedasticity-robust standard errors.
        Hc0,
        /// HC0 with the n/(n-k) small-sample factor (Stata's `robust`).
        Hc1,
        /// HC0 with each squared residual divided by 1 - leverage (estimatr's default).
        Hc2,
        /// HC0 with each squared residual divided by (1 - leverage)².
        Hc3,
        /// Cluster-robust, without small-sample factor.
        Cr0,
        /// Cluster-robust with Stata's small-sample factor.
        Cr1,
        /// Bell-McCaffrey bias-reduced cluster-robust (estimatr's default with clusters).
        Cr2,
    }
}

choice! {
    /// `--method`: the multiple-testing adjustment.
    AdjustmentArg => Adjustment {
        /// Holm's step-down method (controls the family-wise error rate).
        Holm,
        /// Bonferroni: each p times the number of tests (family-wise error rate).
        Bonferroni,
        /// Benjamini-Hochberg step-up method (controls the false discovery rate).
        #[value(name = "bh", alias = "fdr")]
        BenjaminiHochberg,
        /// No adjustment: the p-values unchanged.
        None,
    }
}

choice! {
    /// `--names`: the column names of the tables.
    NamesArg => Names {
        /// Our names, as in `results.json` (`std_error`, `ci_low`, `p_value`).
        Snake,
        /// The names of R's broom::tidy (`term`, `std.error`, `conf.low`, `p.value`).
        Broom,
    }
}

choice! {
    /// `--missing-cluster`: what to do with a unit whose cluster id is missing.
    MissingClusterArg => MissingCluster {
        /// Leave it out of the cluster-robust analyses (counted and noted).
        Drop,
        /// Stop with an error that names the row.
        Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn command_line_names_match_the_config_names() {
        // The same names as a config file (serde) uses, so `--method bh` and
        // `multiplicity = "bh"` mean the same.
        for a in AdjustmentArg::value_variants() {
            let name = a.to_possible_value().unwrap().get_name().to_string();
            let from_config: Adjustment = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(from_config, Adjustment::from(*a), "{name}");
        }
        assert_eq!(
            Adjustment::from(AdjustmentArg::from_str("fdr", true).unwrap()),
            Adjustment::BenjaminiHochberg
        );
        for a in MissingClusterArg::value_variants() {
            let name = a.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(MissingCluster::from(*a).name(), name);
        }
        for a in SeArg::value_variants() {
            let name = a.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(SeType::from(*a).name().to_lowercase(), name);
        }
    }
}
