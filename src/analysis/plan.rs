//! The analysis plan: which estimators and tests run for one comparison, in which
//! order, and which estimate leads. The plan is data, two tables of [`Entry`]s:
//! [`PLAN`]`.plain` (differences that ignore the design) and [`PLAN`]`.design` (the
//! estimators that follow it: blocks, clusters, covariates, weighting, fixed effects).
//! [`super::estimate::estimate`] walks them in order; nothing else decides what runs.
//!
//! # Adding an estimator
//! Write it in `stats/` as a pure function with the signature of one of the [`Run`]
//! kinds (for example `fn(Moments, Moments, f64) -> StatsResult<Inference>` for a
//! difference of two continuous arms, or [`ArmEstimator`] for a regression on the arm
//! indicator and design columns), cite its source and conventions there, and add
//! one [`Entry`] to the table it belongs to: its id in results.json, its name in both
//! languages, when it runs, the function, and whether it may lead. The row then goes
//! through disclosure control, the reports and the charts like every other estimate:
//! those work on rows by id and take the name from here ([`label`]).
//!
//! Row order in results.json is table order, so an entry added at the end of a table
//! leaves every existing output unchanged.

use super::Scale;
use super::estimate::{
    Ctx, Estimator, PairResults, blocked_difference, chi_square_test, cohens_h, fisher_exact_test,
    fixed_effects_regression,
};
use crate::config::Lang;
use crate::stats::binary::{self, Counts};
use crate::stats::describe::Moments;
use crate::stats::design::lin_arm_effect;
use crate::stats::ols::{ArmEstimator, ols_arm_effect};
use crate::stats::weighting::Method;
use crate::stats::{Inference, StatsResult, effect_size, twosample};

/// A name in both languages, fixed at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Label {
    pub nl: &'static str,
    pub en: &'static str,
}

impl Label {
    /// The same name in both languages (a proper name: Welch, Cohen's d).
    const fn both(name: &'static str) -> Self {
        Self { nl: name, en: name }
    }

    /// The name in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Nl => self.nl,
            Lang::En => self.en,
        }
    }
}

/// How an entry computes its result.
#[derive(Clone, Copy)]
pub(crate) enum Run {
    /// From the moments of the treated and the control arm (continuous outcomes) and
    /// the confidence level: one estimate row on `scale`, with `df` naming its
    /// degrees-of-freedom rule.
    Moments {
        f: fn(Moments, Moments, f64) -> StatsResult<Inference>,
        scale: Scale,
        df: Option<&'static str>,
        /// Its name in a note when it cannot be estimated ("… not estimable").
        failing: &'static str,
    },
    /// From the counts of the treated and the control arm (binary outcomes).
    Counts {
        f: fn(Counts, Counts, f64) -> StatsResult<Inference>,
        scale: Scale,
        failing: &'static str,
    },
    /// From the counts, with a flag for a zero cell corrected by adding 0.5 to each
    /// cell (Haldane-Anscombe), which gets a note.
    CountsCorrected {
        f: fn(Counts, Counts, f64) -> StatsResult<(Inference, bool)>,
        scale: Scale,
        failing: &'static str,
    },
    /// A regression estimator ([`ArmEstimator`]): the arm's effect from the
    /// regression of the outcome on the arm indicator and the `columns`, with the
    /// comparison's clusters and standard-error type. Its row, the notes on units with
    /// a missing covariate and on columns left out, and the refusal when a column
    /// determines the arm are written by the analysis, the same for every such entry.
    Regression {
        f: ArmEstimator,
        columns: Columns,
        /// Its name in a note when it cannot be estimated.
        failing: &'static str,
    },
    /// From the whole comparison (units, design columns, options): design-based
    /// differences, fixed effects, weighting, tests. The function writes its rows,
    /// tests and notes itself.
    Design(fn(&Ctx, &mut PairResults)),
}

/// The columns of a regression entry's design besides the arm indicator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Columns {
    /// None: the regression difference in means.
    ArmOnly,
    /// The covariates, then project indicators (pooled analysis of a pilot with
    /// projects) and block indicators (blocked designs without absorbed effects).
    /// Units with a missing covariate are left out.
    Adjusted,
}

/// How the adjusted regressions are named in a note when they cannot be estimated.
pub(crate) const ADJUSTED: &str = "adjusted estimate";

/// When an estimate leads its comparison without `--estimator`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByDefault {
    Never,
    /// Whenever it ran.
    Always,
    /// When cluster-robust inference was not refused for too few clusters: a
    /// difference that ignores the clustering does not lead a clustered design.
    UnlessRefused,
}

/// Whether and where an estimate leads: among the estimates that may lead, the one
/// with the lowest `rank` that ran does.
#[derive(Clone, Copy)]
pub(crate) struct Lead {
    pub rank: u8,
    pub by_default: ByDefault,
    /// The `--estimator` choices under which it may lead (then only those may).
    pub asked: &'static [Estimator],
}

impl Lead {
    /// Never leads.
    const NEVER: Self = Self {
        rank: u8::MAX,
        by_default: ByDefault::Never,
        asked: &[],
    };
    /// Leads only when asked for with `--estimator`.
    const fn asked(asked: &'static [Estimator]) -> Self {
        Self {
            rank: 0,
            by_default: ByDefault::Never,
            asked,
        }
    }
}

/// One estimator or test of the plan.
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    /// The id of the row it writes (`estimator` in results.json, or `test`).
    pub id: &'static str,
    /// Its name in reports, charts and tables.
    pub label: Label,
    /// Whether it runs for this comparison.
    pub when: fn(&Ctx) -> bool,
    pub run: Run,
    pub lead: Lead,
}

/// The two tables, walked in this order.
pub(crate) struct Plan {
    /// Differences that ignore the design (and the standardised effects).
    pub plain: &'static [Entry],
    /// Estimators that follow the design; they run after the standard-error type and
    /// the cluster check are settled ([`Ctx::se`], [`Ctx::refused`]).
    pub design: &'static [Entry],
}

impl Plan {
    /// Every entry, in the order they run.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &'static Entry> {
        self.plain.iter().chain(self.design.iter())
    }

    /// The ids that may lead, best first: under `--estimator` the entries it names,
    /// else those that lead by default (unless `refused`, for the ones that need it).
    pub(crate) fn lead_order(&self, asked: Option<Estimator>, refused: bool) -> Vec<&'static str> {
        let mut leads: Vec<(u8, &'static str)> = self
            .entries()
            .filter(|e| match asked {
                Some(a) => e.lead.asked.contains(&a),
                None => match e.lead.by_default {
                    ByDefault::Never => false,
                    ByDefault::Always => true,
                    ByDefault::UnlessRefused => !refused,
                },
            })
            .map(|e| (e.lead.rank, e.id))
            .collect();
        // Stable: equal ranks keep table order.
        leads.sort_by_key(|&(rank, _)| rank);
        leads.into_iter().map(|(_, id)| id).collect()
    }
}

/// The name of an estimator or test id of the plan, when it is one.
pub fn label(id: &str) -> Option<Label> {
    PLAN.entries().find(|e| e.id == id).map(|e| e.label)
}

const WELCH_STUDENT: &[Estimator] = &[Estimator::Welch, Estimator::Student];

/// Weighting for a non-randomised comparison, by method.
fn weighting(c: &Ctx, out: &mut PairResults, m: Method) {
    super::weighting::weighting_estimate(c, out, m, c.se);
}

/// The plan of every comparison of two arms.
pub(crate) static PLAN: Plan = Plan {
    plain: &[
        // Binary outcomes.
        Entry {
            id: "risk_difference_newcombe",
            label: Label {
                nl: "verschil (Newcombe)",
                en: "difference (Newcombe)",
            },
            when: |c| c.p.binary,
            run: Run::Counts {
                f: binary::newcombe,
                scale: Scale::Difference,
                failing: "risk difference",
            },
            lead: Lead {
                rank: 5,
                by_default: ByDefault::UnlessRefused,
                asked: WELCH_STUDENT,
            },
        },
        Entry {
            id: "risk_ratio",
            label: Label {
                nl: "risicoratio",
                en: "risk ratio",
            },
            when: |c| c.p.binary,
            run: Run::CountsCorrected {
                f: binary::risk_ratio,
                scale: Scale::Ratio,
                failing: "risk_ratio",
            },
            lead: Lead::NEVER,
        },
        Entry {
            id: "odds_ratio",
            label: Label {
                nl: "oddsratio",
                en: "odds ratio",
            },
            when: |c| c.p.binary,
            run: Run::CountsCorrected {
                f: binary::odds_ratio,
                scale: Scale::Ratio,
                failing: "odds_ratio",
            },
            lead: Lead::NEVER,
        },
        Entry {
            id: "cohens_h",
            label: Label::both("Cohen's h"),
            when: |c| c.p.binary,
            run: Run::Design(cohens_h),
            lead: Lead::NEVER,
        },
        Entry {
            id: "chi_square",
            label: Label {
                nl: "chi-kwadraat (zonder correctie)",
                en: "chi-square (no correction)",
            },
            when: |c| c.p.binary,
            run: Run::Design(chi_square_test),
            lead: Lead::NEVER,
        },
        Entry {
            id: "fisher_exact",
            label: Label {
                nl: "exacte toets van Fisher",
                en: "Fisher's exact test",
            },
            when: |c| c.p.binary,
            run: Run::Design(fisher_exact_test),
            lead: Lead::NEVER,
        },
        // Continuous outcomes.
        Entry {
            id: "welch",
            label: Label::both("Welch"),
            when: |c| !c.p.binary,
            run: Run::Moments {
                f: twosample::welch_of,
                scale: Scale::Difference,
                df: Some("Welch-Satterthwaite"),
                failing: "difference in means",
            },
            lead: Lead {
                rank: 5,
                by_default: ByDefault::UnlessRefused,
                asked: &[Estimator::Welch],
            },
        },
        Entry {
            id: "student",
            label: Label::both("Student"),
            when: |c| !c.p.binary && c.opts.estimator == Some(Estimator::Student),
            run: Run::Moments {
                f: twosample::student_of,
                scale: Scale::Difference,
                df: Some("n1 + n0 - 2"),
                failing: "Student's difference",
            },
            lead: Lead {
                rank: 5,
                by_default: ByDefault::Never,
                asked: &[Estimator::Student],
            },
        },
        Entry {
            id: "cohens_d",
            label: Label::both("Cohen's d"),
            when: |c| !c.p.binary,
            run: Run::Moments {
                f: effect_size::cohens_d_of,
                scale: Scale::Standardised,
                df: None,
                failing: "cohens_d",
            },
            lead: Lead::NEVER,
        },
        Entry {
            id: "hedges_g",
            label: Label::both("Hedges' g"),
            when: |c| !c.p.binary,
            run: Run::Moments {
                f: effect_size::hedges_g_of,
                scale: Scale::Standardised,
                df: None,
                failing: "hedges_g",
            },
            lead: Lead::NEVER,
        },
    ],
    design: &[
        Entry {
            id: "difference_in_means",
            label: Label {
                nl: "verschil (blokken)",
                en: "difference (blocks)",
            },
            when: |c| c.blocked && !c.refused,
            run: Run::Design(blocked_difference),
            lead: Lead {
                rank: 3,
                by_default: ByDefault::Always,
                asked: &[],
            },
        },
        Entry {
            id: "ols",
            label: Label {
                nl: "verschil (regressie)",
                en: "difference (regression)",
            },
            when: |c| {
                (c.clustered || (c.opts.estimator == Some(Estimator::Ols) && !c.adjust))
                    && !c.cluster_se_refused()
            },
            run: Run::Regression {
                f: ols_arm_effect,
                columns: Columns::ArmOnly,
                failing: "regression difference",
            },
            lead: Lead {
                rank: 4,
                by_default: ByDefault::Always,
                asked: &[Estimator::Ols],
            },
        },
        Entry {
            id: "ols_adjusted",
            label: Label {
                nl: "gecorrigeerd (regressie)",
                en: "adjusted (regression)",
            },
            when: |c| {
                c.adjust && c.opts.estimator != Some(Estimator::Lin) && !c.cluster_se_refused()
            },
            run: Run::Regression {
                f: ols_arm_effect,
                columns: Columns::Adjusted,
                failing: ADJUSTED,
            },
            lead: Lead {
                rank: 2,
                by_default: ByDefault::Always,
                asked: &[Estimator::Ols],
            },
        },
        Entry {
            id: "lin",
            label: Label {
                nl: "gecorrigeerd (Lin)",
                en: "adjusted (Lin)",
            },
            when: |c| {
                (c.adjust || c.blocked)
                    && c.opts.estimator == Some(Estimator::Lin)
                    && !c.cluster_se_refused()
            },
            run: Run::Regression {
                f: lin_arm_effect,
                columns: Columns::Adjusted,
                failing: ADJUSTED,
            },
            lead: Lead::asked(&[Estimator::Lin]),
        },
        Entry {
            id: "ipw_att",
            label: Label {
                nl: "gewogen (IPW, effect op deelnemers)",
                en: "weighted (IPW, effect on the treated)",
            },
            when: |c| c.opts.estimator == Some(Estimator::Ipw),
            run: Run::Design(|c, out| weighting(c, out, Method::IpwAtt)),
            lead: Lead::asked(&[Estimator::Ipw]),
        },
        Entry {
            id: "overlap_ato",
            label: Label {
                nl: "gewogen (overlapgewichten)",
                en: "weighted (overlap weights)",
            },
            when: |c| c.opts.estimator == Some(Estimator::Overlap),
            run: Run::Design(|c, out| weighting(c, out, Method::OverlapAto)),
            lead: Lead::asked(&[Estimator::Overlap]),
        },
        Entry {
            id: "entropy_att",
            label: Label {
                nl: "gewogen (entropy balancing, effect op deelnemers)",
                en: "weighted (entropy balancing, effect on the treated)",
            },
            when: |c| c.opts.estimator == Some(Estimator::Entropy),
            run: Run::Design(|c, out| weighting(c, out, Method::EntropyAtt)),
            lead: Lead::asked(&[Estimator::Entropy]),
        },
        Entry {
            id: "aipw_att",
            label: Label {
                nl: "dubbel robuust (AIPW, effect op deelnemers)",
                en: "doubly robust (AIPW, effect on the treated)",
            },
            when: |c| c.opts.estimator == Some(Estimator::Aipw),
            run: Run::Design(|c, out| weighting(c, out, Method::AipwAtt)),
            lead: Lead::asked(&[Estimator::Aipw]),
        },
        Entry {
            id: "matching_att",
            label: Label {
                nl: "gematcht (naaste buur, effect op deelnemers)",
                en: "matched (nearest neighbour, effect on the treated)",
            },
            when: |c| c.opts.estimator == Some(Estimator::Matching),
            run: Run::Design(|c, out| weighting(c, out, Method::MatchingAtt)),
            lead: Lead::asked(&[Estimator::Matching]),
        },
        Entry {
            id: "ols_fe",
            label: Label {
                nl: "vaste effecten",
                en: "fixed effects",
            },
            when: |c| c.has_fe && !c.refused,
            run: Run::Design(fixed_effects_regression),
            lead: Lead {
                rank: 1,
                by_default: ByDefault::Always,
                asked: &[],
            },
        },
    ],
};

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::analysis::estimate::{Pair, estimate, estimate_with};
    use crate::analysis::{ComparisonKey, Options, Units};
    use crate::config::DesignKind;
    use crate::data::Numbers;

    fn units(n: usize) -> Units {
        Units {
            arm: (0..n).map(|i| (i % 2) as u16).collect(),
            arm_numbers: None,
            project: None,
            cluster: None,
            cluster_column: None,
            block: None,
            exact: None,
            fixed_effects: Vec::new(),
            covariates: Vec::new(),
            covariate_missing: None,
            subgroups: Vec::new(),
            started: None,
        }
    }

    fn pair<'a>(u: &'a Units, y: Vec<f64>, binary: bool) -> Pair<'a> {
        Pair {
            key: ComparisonKey {
                outcome: "y".into(),
                subset: "all".into(),
                treated: "1".into(),
                control: "0".into(),
            },
            binary,
            with_projects: false,
            units: u,
            rows: None,
            treated: u.arm.iter().map(|&a| a == 1).collect(),
            y: Cow::Owned(y),
            weights: None,
            att_base: None,
        }
    }

    /// A continuous outcome: control units 0, 2, 4, … and treated 1, 3, 5, ….
    fn continuous(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| (i % 7) as f64 + if i % 2 == 1 { 1.5 } else { 0.0 })
            .collect()
    }

    #[test]
    fn ids_are_unique_and_named_in_both_languages() {
        let ids: Vec<&str> = PLAN.entries().map(|e| e.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "duplicate id in the plan: {ids:?}");
        for e in PLAN.entries() {
            assert!(!e.label.nl.is_empty() && !e.label.en.is_empty(), "{}", e.id);
            assert_eq!(label(e.id).map(|l| l.en), Some(e.label.en));
        }
        assert!(label("no_such_estimator").is_none());
    }

    #[test]
    fn every_estimator_choice_has_an_entry_that_leads() {
        use Estimator::*;
        for asked in [
            Welch, Student, Ols, Lin, Ipw, Overlap, Entropy, Aipw, Matching,
        ] {
            assert!(
                !PLAN.lead_order(Some(asked), false).is_empty(),
                "--estimator {asked:?} names no entry of the plan"
            );
        }
    }

    #[test]
    fn default_lead_follows_the_design_then_the_plain_difference() {
        let order = PLAN.lead_order(None, false);
        assert_eq!(
            order,
            [
                "ols_fe",
                "ols_adjusted",
                "difference_in_means",
                "ols",
                "risk_difference_newcombe",
                "welch"
            ]
        );
        // With too few clusters the differences that ignore them do not lead.
        assert!(!PLAN.lead_order(None, true).contains(&"welch"));
        assert_eq!(
            PLAN.lead_order(Some(Estimator::Ols), false),
            ["ols_adjusted", "ols"]
        );
    }

    #[test]
    fn kinds_fit_the_outcomes_their_entries_run_on() {
        // Every moments entry that runs for a binary outcome, or counts entry for a
        // continuous one, would silently write nothing.
        let u = units(40);
        for binary in [true, false] {
            let y = if binary {
                (0..40).map(|i| f64::from(u8::from(i % 3 == 0))).collect()
            } else {
                continuous(40)
            };
            let p = pair(&u, y, binary);
            let out = estimate(&p, DesignKind::IndividuallyRandomised, &Options::default());
            for r in &out.estimates {
                let e = PLAN.entries().find(|e| e.id == r.estimator).unwrap();
                let fits = match e.run {
                    Run::Moments { .. } => !binary,
                    Run::Counts { .. } | Run::CountsCorrected { .. } => binary,
                    Run::Regression { .. } | Run::Design(_) => true,
                };
                assert!(fits, "{} ran for binary = {binary}", e.id);
            }
            assert_eq!(out.estimates.iter().filter(|r| r.headline).count(), 1);
            let lead = out.estimates.iter().find(|r| r.headline).unwrap();
            let expected = if binary {
                "risk_difference_newcombe"
            } else {
                "welch"
            };
            assert_eq!(lead.estimator, expected);
        }
    }

    /// Every row of `before` is in `after`, in order, with the same estimate and lead.
    fn assert_rows_unchanged(before: &PairResults, after: &PairResults) {
        for (a, b) in before.estimates.iter().zip(&after.estimates) {
            assert_eq!(a.estimator, b.estimator);
            assert_eq!(a.estimate.to_bits(), b.estimate.to_bits());
            assert_eq!(a.headline, b.headline);
        }
    }

    /// The point of the plan: a new estimator is a function and one entry. Here a
    /// test-only estimator (the difference in means with a normal interval) is added
    /// to a copy of the plan; its row appears with its own id and value, and every
    /// other row and the headline are as before.
    #[test]
    fn an_added_entry_runs_without_touching_anything_else() {
        fn normal_difference(t: Moments, c: Moments, conf: f64) -> StatsResult<Inference> {
            let d = t.mean - c.mean;
            let se = (t.var / t.n as f64 + c.var / c.n as f64).sqrt();
            let z = crate::stats::dist::normal_quantile(0.5 + conf / 2.0);
            Ok(Inference {
                estimate: d,
                std_error: se,
                statistic: d / se,
                df: None,
                p_value: f64::NAN,
                ci_low: d - z * se,
                ci_high: d + z * se,
            })
        }
        let mut plain: Vec<Entry> = PLAN.plain.to_vec();
        plain.push(Entry {
            id: "normal_difference",
            label: Label::both("normal"),
            when: |c| !c.p.binary,
            run: Run::Moments {
                f: normal_difference,
                scale: Scale::Difference,
                df: None,
                failing: "normal difference",
            },
            lead: Lead::NEVER,
        });
        let extended = Plan {
            plain: Box::leak(plain.into_boxed_slice()),
            design: PLAN.design,
        };
        let u = units(60);
        let y = continuous(60);
        let p = pair(&u, y.clone(), false);
        let opts = Options::default();
        let before = estimate(&p, DesignKind::IndividuallyRandomised, &opts);
        let after = estimate_with(&extended, &p, DesignKind::IndividuallyRandomised, &opts);
        assert_eq!(after.estimates.len(), before.estimates.len() + 1);
        let added = after.estimates.last().unwrap();
        assert_eq!(added.estimator, "normal_difference");
        let mean = |odd: usize| {
            let v: Vec<f64> = y.iter().skip(odd).step_by(2).copied().collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!((added.estimate - (mean(1) - mean(0))).abs() < 1e-12);
        assert!(added.ci_low < added.estimate && added.estimate < added.ci_high);
        assert!(!added.headline);
        assert_rows_unchanged(&before, &after);
    }

    /// The same for a regression estimator: a function of the shape
    /// [`ArmEstimator`] and one entry. Here the covariate-adjusted OLS estimate with a
    /// normal instead of a t interval, added to a copy of the design table; the
    /// analysis builds its design from the covariates and writes its row with the
    /// covariates and the standard-error type, as for the plan's own regressions.
    #[test]
    fn an_added_regression_entry_runs_without_touching_anything_else() {
        use crate::stats::ols::{ArmEffect, ArmRegression, SeType};
        fn normal_ols(r: &ArmRegression, se: SeType, conf: f64) -> StatsResult<ArmEffect> {
            let mut e = ols_arm_effect(r, se, conf)?;
            let z = crate::stats::dist::normal_quantile(0.5 + conf / 2.0);
            let i = &mut e.inference;
            (i.df, i.ci_low, i.ci_high) = (
                None,
                i.estimate - z * i.std_error,
                i.estimate + z * i.std_error,
            );
            Ok(e)
        }
        let mut design: Vec<Entry> = PLAN.design.to_vec();
        design.push(Entry {
            id: "ols_normal",
            label: Label::both("OLS (normal)"),
            when: |c| c.adjust,
            run: Run::Regression {
                f: normal_ols,
                columns: Columns::Adjusted,
                failing: ADJUSTED,
            },
            lead: Lead::NEVER,
        });
        let extended = Plan {
            plain: PLAN.plain,
            design: Box::leak(design.into_boxed_slice()),
        };
        let n = 80;
        let mut u = units(n);
        let x: Vec<Option<f64>> = (0..n).map(|i| Some(((i * 7) % 11) as f64)).collect();
        u.covariates = vec![("x".into(), Numbers::from_options(&x))];
        let y: Vec<f64> = continuous(n)
            .iter()
            .zip(&x)
            .map(|(y, x)| y + 0.3 * x.unwrap())
            .collect();
        let p = pair(&u, y, false);
        let opts = Options::default();
        let before = estimate(&p, DesignKind::IndividuallyRandomised, &opts);
        let after = estimate_with(&extended, &p, DesignKind::IndividuallyRandomised, &opts);
        assert_eq!(after.estimates.len(), before.estimates.len() + 1);
        let added = after.estimates.last().unwrap();
        let adjusted = before
            .estimates
            .iter()
            .find(|r| r.estimator == "ols_adjusted")
            .unwrap();
        assert_eq!(added.estimator, "ols_normal");
        assert_eq!(added.estimate.to_bits(), adjusted.estimate.to_bits());
        assert_eq!(added.std_error.to_bits(), adjusted.std_error.to_bits());
        assert_eq!(added.covariates, ["x"]);
        assert_eq!(added.se_type, adjusted.se_type);
        // A normal interval is narrower than the t interval of the same SE.
        assert!(added.ci_high - added.ci_low < adjusted.ci_high - adjusted.ci_low);
        assert!(added.ci_low < added.estimate && added.estimate < added.ci_high);
        assert!(!added.headline);
        assert_rows_unchanged(&before, &after);
    }
}
