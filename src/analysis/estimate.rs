//! The estimates and tests for one comparison: one outcome, one subset, one treated
//! arm against the control. Which estimators run, and which one leads, follows the
//! design (clusters, blocks, fixed effects, covariates) and the options.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::plan::{ADJUSTED, Columns, Entry, PLAN, Plan, Run};
use super::{ComparisonKey, EstimateRow, Labels, Note, Options, Scale, TestRow, Units};
use crate::config::{DesignKind, Text};
use crate::data::Numbers;
use crate::stats::binary::{self, Counts};
use crate::stats::describe::Moments;
use crate::stats::design::{self, DimDesign};
use crate::stats::fe::{self, FeVcov};
use crate::stats::ols::{self, ArmEstimator, ArmRegression, Clusters, SeType};
use crate::stats::resample::{self, ResampleOptions, ri, wild};
use crate::stats::{Inference, StatsError, exact};
use crate::timings;

/// The estimator that leads (`compare --estimator`); `None` follows the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Welch's difference in means (unequal variances).
    Welch,
    /// Student's pooled-variance difference in means.
    Student,
    /// Least squares on the arm indicator (and covariates), robust SEs.
    Ols,
    /// Lin (2013): least squares with treatment × centred-covariate interactions.
    Lin,
    /// Inverse probability weighting for the effect on the treated (`ipw_att`).
    Ipw,
    /// Overlap weights (`overlap_ato`).
    Overlap,
    /// Entropy balancing for the effect on the treated (`entropy_att`).
    Entropy,
    /// Doubly robust AIPW for the effect on the treated (`aipw_att`).
    Aipw,
    /// Nearest-neighbour matching on the propensity score (`matching_att`).
    Matching,
}

impl Estimator {
    /// The weighting method of a weighting estimator.
    pub fn weighting(self) -> Option<crate::stats::weighting::Method> {
        use crate::stats::weighting::Method;
        match self {
            Self::Ipw => Some(Method::IpwAtt),
            Self::Overlap => Some(Method::OverlapAto),
            Self::Entropy => Some(Method::EntropyAtt),
            Self::Aipw => Some(Method::AipwAtt),
            Self::Matching => Some(Method::MatchingAtt),
            _ => None,
        }
    }
}

impl From<crate::config::WeightingHeadline> for Estimator {
    fn from(h: crate::config::WeightingHeadline) -> Self {
        use crate::config::WeightingHeadline as H;
        match h {
            H::Entropy => Self::Entropy,
            H::Ipw => Self::Ipw,
            H::Overlap => Self::Overlap,
            H::Aipw => Self::Aipw,
            H::Matching => Self::Matching,
        }
    }
}

/// Below this many clusters a wild cluster bootstrap p-value is added to the
/// cluster-robust estimate (Cameron, Gelbach & Miller 2008 find CR1 Wald tests
/// over-reject with fewer than about 30 clusters).
pub const FEW_CLUSTERS: usize = 30;

/// Draws of the wild cluster bootstrap added for few clusters (all 2^G sign vectors
/// when that is fewer).
pub const WILD_REPS: u64 = 9_999;

/// Fewest clusters for the wild cluster bootstrap. With G clusters Webb's six-point
/// weights give at most 6^G draws, and a draw and its mirror image (every weight
/// negated) give the same |t*|: at most 6^G / 2 distinct statistics. At G = 2 that is
/// 18, so the p-value cannot fall below about 1/18 ≈ 0.056 and never rejects at 5%; at
/// G = 3 it is 108, and the p-value moves in steps of about 0.01 near 0.05. From 4
/// clusters (648 values) the steps are below 0.002. Below this floor the bootstrap is
/// not run, and a note says why.
pub const MIN_WILD_CLUSTERS: usize = 4;

/// Fewest clusters with units in each arm for cluster-robust inference. With one
/// cluster in an arm the arm indicator is constant within clusters of that arm and its
/// effect cannot be told from that cluster's own effect: the cluster-robust variance is
/// then zero up to rounding (a standard error of 1e-17 and p = 1) or undefined.
pub const MIN_CLUSTERS_PER_ARM: usize = 2;

/// The units of one comparison with an observed outcome.
pub(crate) struct Pair<'a> {
    pub key: ComparisonKey,
    pub binary: bool,
    /// Whether the regression adds project indicators (pooled analysis of a pilot with
    /// projects).
    pub with_projects: bool,
    pub units: &'a Units,
    /// Source row per unit; None when unit `i` is row `i` (every row is a unit of
    /// this comparison).
    pub rows: Option<Vec<usize>>,
    /// Outcome and arm (true = treated) per unit.
    pub y: Cow<'a, [f64]>,
    pub treated: Vec<bool>,
    /// Inverse-probability-of-censoring weights per unit: the comparison is then the
    /// weighted covariate-adjusted regression only (`ols_adjusted_ipcw`).
    pub weights: Option<Vec<f64>>,
    /// With censoring weights and a weighting headline (`design.headline`): the
    /// weights for the effect on the treated made on the comparison's baseline sample,
    /// multiplied with the censoring weights ([`super::weighting::ipcw_weighting_estimate`]).
    pub att_base: Option<super::weighting::BaseWeights>,
}

/// Everything one comparison produced.
#[derive(Default)]
pub(crate) struct PairResults {
    pub estimates: Vec<EstimateRow>,
    pub tests: Vec<TestRow>,
    pub notes: Vec<Text>,
}

impl PairResults {
    fn note(&mut self, text: Text) {
        self.notes.push(text);
    }
}

/// The design matrix of a regression on complete cases. Columns are borrowed from the
/// data when the units are the data's rows, all of them, in order.
pub(super) struct RegData<'a> {
    pub(super) y: Cow<'a, [f64]>,
    pub(super) t: Cow<'a, [f64]>,
    /// Named columns after the arm indicator: covariates, then indicators.
    pub(super) cols: Vec<(String, Cow<'a, [f64]>)>,
    pub(super) clusters: Option<Clusters>,
    blocks: Option<Clusters>,
    /// The exact-matching column's level per unit (`design.exact`).
    pub(super) exact: Option<Clusters>,
    fe: Vec<Clusters>,
    pub(super) n_dropped_missing: usize,
    /// Weights per unit (weighted least squares), when the pair has them.
    w: Option<Vec<f64>>,
}

impl<'a> Pair<'a> {
    /// Number of units.
    fn len(&self) -> usize {
        self.y.len()
    }

    /// The source row of every unit, in order.
    fn row_iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(|i| self.rows.as_ref().map_or(i, |r| r[i]))
    }

    /// The outcomes of the treated and of the control units, in row order.
    fn split(&self) -> (Vec<f64>, Vec<f64>) {
        let nt = self.treated.iter().filter(|&&t| t).count();
        let counts = [self.treated.len() - nt, nt];
        let mut arms = super::split_by_arm(&self.y, &self.treated, &counts).into_iter();
        let (yc, yt) = (
            arms.next().unwrap_or_default(),
            arms.next().unwrap_or_default(),
        );
        (yt, yc)
    }

    fn counts(&self) -> (Counts, Counts) {
        let (yt, yc) = self.split();
        let c = |v: &[f64]| Counts {
            events: v.iter().filter(|&&x| x == 1.0).count() as u64,
            trials: v.len() as u64,
        };
        (c(&yt), c(&yc))
    }

    fn labels(&self, of: &Option<Labels>, rows: Option<&[usize]>) -> Option<Clusters> {
        of.as_ref().map(|c| match rows {
            Some(r) => c.clusters(r.iter().copied()),
            None => c.clusters(self.row_iter()),
        })
    }

    /// Units with observed covariates, and the design columns: covariates (when
    /// `adjust`), project indicators (pooled analysis with projects) and block
    /// indicators (blocked designs without absorbed effects).
    pub(super) fn reg_data(&'a self, adjust: bool, block_dummies: bool) -> RegData<'a> {
        let covs: &'a [(String, Numbers)] = if adjust { &self.units.covariates } else { &[] };
        let indicator = |tr: &bool| f64::from(u8::from(*tr));
        let n_dropped_missing = if adjust {
            self.row_iter()
                .filter(|&r| self.units.missing_covariate(r))
                .count()
        } else {
            0
        };
        // Units without a cluster id are left out of every regression here: all of
        // them are cluster-robust when the design has clusters.
        let left_out =
            |r: usize| (adjust && self.units.missing_covariate(r)) || self.units.missing_cluster(r);
        let n_dropped = if n_dropped_missing > 0 || self.units.any_missing_cluster() {
            self.row_iter().filter(|&r| left_out(r)).count()
        } else {
            0
        };
        // The units as the data's rows, all in order: read the columns in place.
        let in_place = self.rows.is_none() && n_dropped == 0;
        let w = self.weights.as_ref().map(|w| {
            self.row_iter()
                .enumerate()
                .filter(|&(_, r)| !left_out(r))
                .map(|(i, _)| w[i])
                .collect()
        });
        let (y, t, kept): (Cow<'a, [f64]>, Cow<'a, [f64]>, _) = if n_dropped == 0 {
            // An arm column of 0 (control) and 1 (treated) is the indicator itself.
            let t = match &self.units.arm_numbers {
                Some(a) if in_place && self.key.treated == "1" && self.key.control == "0" => {
                    Cow::Borrowed(a.values())
                }
                _ => Cow::Owned(self.treated.iter().map(indicator).collect()),
            };
            (Cow::Borrowed(&*self.y), t, None)
        } else {
            let mut y = Vec::new();
            let mut tt = Vec::new();
            let mut rows = Vec::new();
            for (i, r) in self.row_iter().enumerate() {
                if left_out(r) {
                    continue;
                }
                y.push(self.y[i]);
                tt.push(indicator(&self.treated[i]));
                rows.push(r);
            }
            (Cow::Owned(y), Cow::Owned(tt), Some(rows))
        };
        let rows: Option<&[usize]> = kept.as_deref().or(self.rows.as_deref());
        let row_at = |i: usize| rows.map_or(i, |r| r[i]);
        let n = y.len();
        let mut cols: Vec<(String, Cow<'a, [f64]>)> = covs
            .iter()
            .map(|(name, c)| {
                let col: Cow<'a, [f64]> = if in_place {
                    Cow::Borrowed(c.values())
                } else {
                    Cow::Owned(
                        (0..n)
                            .map(|i| c.get(row_at(i)).unwrap_or(f64::NAN))
                            .collect(),
                    )
                };
                (name.clone(), col)
            })
            .collect();
        let mut dummies = |name: &str, labels: &Option<Labels>| {
            if let Some(l) = labels {
                let present: BTreeMap<u32, ()> = (0..n).map(|i| (l.code(row_at(i)), ())).collect();
                for &code in present.keys().skip(1) {
                    cols.push((
                        format!("{name}={}", l.levels()[code as usize]),
                        Cow::Owned(
                            (0..n)
                                .map(|i| f64::from(u8::from(l.code(row_at(i)) == code)))
                                .collect(),
                        ),
                    ));
                }
            }
        };
        if self.with_projects && adjust {
            dummies("project", &self.units.project);
        }
        if block_dummies && adjust {
            dummies("block", &self.units.block);
        }
        RegData {
            clusters: self.labels(&self.units.cluster, rows),
            blocks: self.labels(&self.units.block, rows),
            exact: self.labels(&self.units.exact, rows),
            fe: self
                .units
                .fixed_effects
                .iter()
                .map(|(_, l)| l.clusters((0..n).map(|i| rows.map_or(i, |r| r[i]))))
                .collect(),
            y,
            t,
            cols,
            n_dropped_missing,
            w,
        }
    }
}

/// The note for a regression refused because the arm indicator is collinear with
/// `column` (and the columns before it).
fn arm_collinear_note(out: &mut PairResults, what: &str, name: &str, column: &str) {
    out.note(Text {
 en: format!("{what}: {name} refused: \"{column}\" is collinear with the arm indicator (together with the intercept and the columns before it, it determines the arm), so the effect of the arm cannot be separated from it. Remove it from the covariates, or check that it was measured before assignment."),
 nl: format!("{what}: {name} geweigerd: \"{column}\" is collineair met de armindicator (samen met het intercept en de kolommen ervoor bepaalt hij de arm), zodat het effect van de arm er niet van te scheiden is. Haal hem uit de covariaten, of ga na of hij vóór de toewijzing gemeten is."),
 });
}

/// Distinct clusters with units in the treated arm and in the control arm.
fn clusters_per_arm(d: &RegData) -> Option<(usize, usize)> {
    let cl = d.clusters.as_ref()?;
    let mut seen = vec![[false; 2]; cl.count()];
    for (&c, &t) in cl.codes().iter().zip(d.t.iter()) {
        seen[c as usize][usize::from(t == 1.0)] = true;
    }
    Some((
        seen.iter().filter(|s| s[1]).count(),
        seen.iter().filter(|s| s[0]).count(),
    ))
}

/// Remove the columns a regression estimator left out ([`ols::ArmEffect::dropped`]);
/// returns their names.
fn drop_columns(d: &mut RegData, dropped: &[usize]) -> Vec<String> {
    let mut i = 0;
    let mut names = Vec::new();
    d.cols.retain_mut(|(name, _)| {
        let keep = !dropped.contains(&i);
        i += 1;
        if !keep {
            names.push(std::mem::take(name));
        }
        keep
    });
    names
}

/// The progress callback of a resampling run: `opts.progress`, or nothing.
fn progress_tick(opts: &Options) -> impl Fn(u64) + Sync + use<> {
    let progress = opts.progress.clone();
    move |k: u64| {
        if let Some(p) = &progress {
            p(k)
        }
    }
}

fn n_arms(t: &[f64]) -> (usize, usize) {
    let n1 = t.iter().filter(|&&v| v == 1.0).count();
    (n1, t.len() - n1)
}

/// One comparison being estimated: the units, the options and the design's features.
pub(crate) struct Ctx<'a, 'p> {
    pub(super) p: &'a Pair<'p>,
    pub(super) opts: &'a Options,
    pub(super) conf: f64,
    /// "treated vs control", the start of every note.
    pub(super) what: String,
    pub(super) clustered: bool,
    pub(super) blocked: bool,
    pub(super) has_fe: bool,
    /// Whether an adjusted estimate runs: covariates, or project indicators.
    pub(super) adjust: bool,
    /// The arms' counts (binary outcomes) or moments (other outcomes), taken once.
    arms: Arms,
    /// The standard-error type of the regressions ([`se_type`]), settled before the
    /// plan's design entries run.
    pub(super) se: SeType,
    /// Whether cluster-robust inference is refused for too few clusters in an arm
    /// ([`too_few_clusters`]), settled before the plan's design entries run.
    pub(super) refused: bool,
}

/// What the differences that ignore the design need of the two arms.
enum Arms {
    Counts(Counts, Counts),
    Moments(Moments, Moments),
}

impl Ctx<'_, '_> {
    /// The note for an estimator that failed.
    pub(super) fn fail(&self, out: &mut PairResults, name: &str, e: &dyn std::fmt::Display) {
        let wat = &self.what;
        out.note(Text {
            en: format!("{wat}: {name} not estimable ({e})."),
            nl: format!("{wat}: {name} niet te schatten ({e})."),
        })
    }

    /// An estimate row of this comparison.
    pub(super) fn row(
        &self,
        est: &str,
        se: Option<&str>,
        df: Option<&str>,
        scale: Scale,
        inf: Inference,
        n: (usize, usize),
    ) -> EstimateRow {
        EstimateRow::new(&self.p.key, est, se, df, scale, inf, self.conf, n)
    }

    /// Whether the regressions are refused: their standard errors rest on clusters
    /// that are too few in an arm.
    pub(super) fn cluster_se_refused(&self) -> bool {
        self.refused && self.se.is_cluster()
    }

    /// The arms' counts; zero counts for a continuous outcome (the plan's `when`
    /// keeps count-based entries to binary outcomes, a plan test checks it).
    fn counts(&self) -> (Counts, Counts) {
        match self.arms {
            Arms::Counts(t, c) => (t, c),
            Arms::Moments(..) => {
                let none = Counts {
                    events: 0,
                    trials: 0,
                };
                (none, none)
            }
        }
    }

    /// The arms' sizes.
    fn n(&self) -> (usize, usize) {
        match self.arms {
            Arms::Counts(t, c) => (t.trials as usize, c.trials as usize),
            Arms::Moments(t, c) => (t.n, c.n),
        }
    }

    /// Run one entry of the plan.
    fn run(&self, e: &Entry, out: &mut PairResults) {
        let n = self.n();
        match (e.run, &self.arms) {
            (
                Run::Moments {
                    f,
                    scale,
                    df,
                    failing,
                },
                &Arms::Moments(t, c),
            ) => match f(t, c, self.conf) {
                Ok(inf) => out.estimates.push(self.row(e.id, None, df, scale, inf, n)),
                Err(err) => self.fail(out, failing, &err),
            },
            (Run::Counts { f, scale, failing }, &Arms::Counts(t, c)) => match f(t, c, self.conf) {
                Ok(inf) => out
                    .estimates
                    .push(self.row(e.id, None, None, scale, inf, n)),
                Err(err) => self.fail(out, failing, &err),
            },
            (Run::CountsCorrected { f, scale, failing }, &Arms::Counts(t, c)) => {
                match f(t, c, self.conf) {
                    Ok((inf, corrected)) => {
                        out.estimates
                            .push(self.row(e.id, None, None, scale, inf, n));
                        if corrected {
                            let (what, name) = (&self.what, e.id);
                            out.note(Text {
 en: format!("{what}: {name} has a zero cell; 0.5 was added to each cell (Haldane-Anscombe)."),
 nl: format!("{what}: {name} heeft een lege cel; bij elke cel is 0,5 opgeteld (Haldane-Anscombe)."),
 });
                        }
                    }
                    Err(err) => self.fail(out, failing, &err),
                }
            }
            (
                Run::Regression {
                    f,
                    columns,
                    failing,
                },
                _,
            ) => regression(self, out, e.id, f, columns, failing),
            (Run::Design(f), _) => f(self, out),
            // A kind that does not fit the outcome (moments of a binary outcome, counts
            // of a continuous one): the entry's `when` excludes it, a plan test checks.
            _ => {}
        }
    }
}

/// Cohen's h of a binary outcome (a point estimate; no interval).
pub(super) fn cohens_h(c: &Ctx, out: &mut PairResults) {
    let (ct, cc) = c.counts();
    let h = binary::cohens_h(ct, cc);
    let none = Inference {
        estimate: h,
        std_error: f64::NAN,
        statistic: f64::NAN,
        df: None,
        p_value: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
    };
    out.estimates
        .push(c.row("cohens_h", None, None, Scale::Standardised, none, c.n()));
}

/// Pearson's chi-square test of a binary outcome, without continuity correction.
pub(super) fn chi_square_test(c: &Ctx, out: &mut PairResults) {
    let (ct, cc) = c.counts();
    if let Ok((x2, pv)) = binary::chi_square(ct, cc) {
        out.tests.push(TestRow::new(
            &c.p.key,
            "chi_square",
            Some(x2),
            Some(1.0),
            pv,
        ));
    }
}

/// Fisher's exact test of a binary outcome.
pub(super) fn fisher_exact_test(c: &Ctx, out: &mut PairResults) {
    let (ct, cc) = c.counts();
    match exact::fisher_exact(ct, cc, c.conf) {
        Ok(f) => out.tests.push(TestRow::new(
            &c.p.key,
            "fisher_exact",
            None,
            None,
            f.p_value,
        )),
        Err(e) => c.fail(out, "Fisher's exact test", &e),
    }
}

/// The standard-error type of the regressions: the option, else HC2 (CR2 with
/// clusters); a cluster type without clusters falls back to HC2, with a note.
fn se_type(c: &Ctx, out: &mut PairResults) -> SeType {
    let (clustered, what) = (c.clustered, &c.what);
    let default_se = if clustered { SeType::Cr2 } else { SeType::Hc2 };
    let se = c.opts.se.unwrap_or(default_se);
    if se.is_cluster() && !clustered {
        out.note(Text {
            en: format!(
                "{what}: {} needs a cluster column; HC2 used instead.",
                se.name()
            ),
            nl: format!(
                "{what}: {} vraagt een clusterkolom; HC2 gebruikt.",
                se.name()
            ),
        });
    }
    if se.is_cluster() && !clustered {
        SeType::Hc2
    } else {
        se
    }
}

/// Whether cluster-robust inference is refused for a clustered comparison: it needs
/// clusters on both sides (at least [`MIN_CLUSTERS_PER_ARM`] in each arm). A note says
/// why when it is refused.
fn too_few_clusters(c: &Ctx, out: &mut PairResults) -> bool {
    let (p, what) = (c.p, &c.what);
    let base = p.reg_data(false, false);
    match clusters_per_arm(&base) {
        Some((ct, cc)) if ct.min(cc) < MIN_CLUSTERS_PER_ARM => {
            let col = p.units.cluster_column.as_deref().unwrap_or_default();
            out.note(Text {
 en: format!("{what}: no cluster-robust estimate: the units of this comparison lie in {ct} cluster(s) of \"{col}\" in the treated arm and {cc} in the control arm, and cluster-robust inference needs at least {MIN_CLUSTERS_PER_ARM} in each arm. With one cluster in an arm the effect of the arm cannot be told apart from that cluster's own effect, and the cluster-robust standard error is zero or undefined. The differences shown ignore the clustering and are for reference only."),
 nl: format!("{what}: geen clusterrobuuste schatting: de eenheden van deze vergelijking liggen in {ct} cluster(s) van \"{col}\" in de behandelde arm en {cc} in de controlearm, en clusterrobuuste inferentie vraagt er minstens {MIN_CLUSTERS_PER_ARM} in elke arm. Met één cluster in een arm is het effect van de arm niet te onderscheiden van het eigen effect van dat cluster, en is de clusterrobuuste standaardfout nul of onbepaald. De getoonde verschillen negeren de clustering en staan er alleen ter vergelijking."),
 });
            true
        }
        _ => false,
    }
}

/// The design-based difference in means of a blocked (and perhaps clustered) design.
pub(super) fn blocked_difference(c: &Ctx, out: &mut PairResults) {
    let (p, conf, what) = (c.p, c.conf, &c.what);
    let base = p.reg_data(false, false);
    let treated: Vec<bool> = base.t.iter().map(|&v| v == 1.0).collect();
    match design::difference_in_means(
        &base.y,
        &treated,
        base.blocks.as_ref(),
        base.clusters.as_ref(),
        conf,
    ) {
        Ok(d) => {
            let mut r = c.row(
                "difference_in_means",
                Some(d.design.name()),
                Some(d.design.df_rule()),
                Scale::Difference,
                d.inference,
                n_arms(&base.t),
            );
            r.n_clusters = d.n_clusters;
            out.estimates.push(r);
            if d.design == DimDesign::MatchedPair || d.design == DimDesign::MatchedPairClustered {
                out.note(Text {
 en: format!("{what}: blocks of one treated and one control unit; the matched-pair variance is used."),
 nl: format!("{what}: blokken van één behandelde en één controle-eenheid; de variantie voor gematchte paren is gebruikt."),
 });
            }
        }
        Err(e) => c.fail(out, "blocked difference in means", &e),
    }
}

impl RegData<'_> {
    /// The regression of the outcome on the arm indicator and the columns, as the
    /// plan's regression estimators take it.
    fn arm_regression(&self) -> ArmRegression<'_> {
        ArmRegression {
            y: &self.y,
            arm: &self.t,
            columns: self.cols.iter().map(|(_, c)| &**c).collect(),
            clusters: self.clusters.as_ref(),
            weights: self.w.as_deref(),
        }
    }
}

/// A regression estimator of the plan ([`Run::Regression`]): its design (the arm
/// alone, or with the covariates and the project and block indicators), the estimate
/// with the comparison's standard-error type, its row and its notes. `failing` names
/// it in a note when it cannot be estimated.
pub(super) fn regression(
    c: &Ctx,
    out: &mut PairResults,
    id: &str,
    f: ArmEstimator,
    columns: Columns,
    failing: &str,
) {
    let (what, se) = (&c.what, c.se);
    let adjust = columns == Columns::Adjusted;
    let mut d = timings::time(format!("design ({id})"), || {
        c.p.reg_data(adjust, adjust && c.blocked && !c.has_fe)
    });
    if d.n_dropped_missing > 0 {
        out.note(Text {
 en: format!("{what}: units with a missing covariate are left out of the adjusted estimates (their number per arm is in the arm table, column \"missing covariate\")."),
 nl: format!("{what}: eenheden met een ontbrekende covariaat zijn niet meegenomen in de gecorrigeerde schattingen (het aantal per arm staat in de armtabel, kolom \"covariaat ontbreekt\")."),
 });
    }
    let res = timings::time(format!("fit and {} ({id})", se.name()), || {
        f(&d.arm_regression(), se, c.conf)
    });
    match res {
        Ok(e) => {
            for name in &drop_columns(&mut d, &e.dropped) {
                out.note(Text {
 en: format!("{what}: covariate \"{name}\" dropped from the adjusted estimate: constant or collinear in this subset."),
 nl: format!("{what}: covariaat \"{name}\" weggelaten uit de gecorrigeerde schatting: constant of collineair in deze deelgroep."),
 });
            }
            let mut r = c.row(
                id,
                Some(se.name()),
                Some(se.df_rule()),
                Scale::Difference,
                e.inference,
                n_arms(&d.t),
            );
            r.n_clusters = d.clusters.as_ref().map(Clusters::count);
            r.covariates = d.cols.iter().map(|(n, _)| n.clone()).collect();
            out.estimates.push(r);
        }
        Err(StatsError::ArmCollinear { column }) => {
            arm_collinear_note(out, what, failing, &d.cols[column].0)
        }
        Err(e) => c.fail(out, failing, &e),
    }
}

/// The estimate with absorbed fixed effects (cluster-robust errors when clustered).
pub(super) fn fixed_effects_regression(c: &Ctx, out: &mut PairResults) {
    let u = c.p.units;
    let d = c.p.reg_data(!u.covariates.is_empty(), false);
    let mut x: Vec<&[f64]> = vec![&d.t];
    x.extend(d.cols.iter().map(|(_, c)| &**c));
    let fe_refs: Vec<&Clusters> = d.fe.iter().collect();
    let vcov = if c.clustered {
        FeVcov::Cluster
    } else {
        FeVcov::Hetero
    };
    match fe::feols(&d.y, &x, &fe_refs)
        .and_then(|f| f.coef_inference(0, vcov, d.clusters.as_ref(), c.conf))
    {
        Ok(fi) => {
            let names: Vec<String> = u.fixed_effects.iter().map(|(n, _)| n.clone()).collect();
            let mut r = c.row(
                "ols_fe",
                Some(vcov.name()),
                Some(vcov.df_rule()),
                Scale::Difference,
                fi.inference,
                n_arms(&d.t),
            );
            r.n_clusters = d.clusters.as_ref().map(Clusters::count);
            r.covariates = d
                .cols
                .iter()
                .map(|(n, _)| n.clone())
                .chain(names.iter().map(|n| format!("fe:{n}")))
                .collect();
            out.estimates.push(r);
        }
        Err(e) => c.fail(out, "fixed-effects estimate", &e),
    }
}

/// Run every estimator and test the design and options call for: the entries of the
/// analysis plan ([`super::plan::PLAN`]) whose conditions hold, then the resampling.
pub(crate) fn estimate(p: &Pair, design: DesignKind, opts: &Options) -> PairResults {
    estimate_with(&PLAN, p, design, opts)
}

/// [`estimate`] with a given plan.
pub(super) fn estimate_with(
    plan: &Plan,
    p: &Pair,
    design: DesignKind,
    opts: &Options,
) -> PairResults {
    let key = &p.key;
    let mut out = PairResults::default();
    let u = p.units;
    let arms = {
        let (yt, yc) = p.split();
        // The arms' copies are not kept (large files: only their summaries are).
        if p.binary {
            let c = |v: &[f64]| Counts {
                events: v.iter().filter(|&&x| x == 1.0).count() as u64,
                trials: v.len() as u64,
            };
            Arms::Counts(c(&yt), c(&yc))
        } else {
            Arms::Moments(Moments::of(&yt), Moments::of(&yc))
        }
    };
    let mut c = Ctx {
        p,
        opts,
        conf: opts.conf_level,
        what: format!("{} vs {}", key.treated, key.control),
        clustered: u.cluster.is_some(),
        blocked: u.block.is_some(),
        has_fe: !u.fixed_effects.is_empty(),
        adjust: !u.covariates.is_empty() || p.with_projects,
        arms,
        se: SeType::Hc2,
        refused: false,
    };
    if p.weights.is_some() {
        weighted_only(&mut c, &mut out);
        return out;
    }

    // Differences that ignore the design, and standardised effects.
    let differences = timings::phase("differences in means");
    for e in plan.plain.iter().filter(|e| (e.when)(&c)) {
        c.run(e, &mut out);
    }
    drop(differences);

    // The standard errors of the regressions, and whether cluster-robust inference
    // is refused: it needs clusters on both sides of the comparison.
    c.se = se_type(&c, &mut out);
    c.refused = c.clustered && timings::time("clusters per arm", || too_few_clusters(&c, &mut out));
    for e in plan.design.iter().filter(|e| (e.when)(&c)) {
        c.run(e, &mut out);
    }

    let order = plan.lead_order(opts.estimator, c.refused);
    if let Some(i) = order
        .iter()
        .find_map(|id| out.estimates.iter().position(|r| r.estimator == *id))
    {
        out.estimates[i].headline = true;
    }
    resampling(
        p,
        &mut out,
        opts,
        design,
        c.adjust,
        c.blocked && !c.has_fe,
        c.refused,
    );
    out
}

/// A weighted pair: the covariate-adjusted regression with its weights, as the
/// headline, and nothing else (the unweighted estimators would be the complete cases
/// the weights correct).
fn weighted_only(c: &mut Ctx, out: &mut PairResults) {
    c.se = se_type(c, out);
    c.refused = c.clustered && too_few_clusters(c, out);
    if c.cluster_se_refused() {
        return;
    }
    // Lin's interacted model has no weighted form: the weighted regression is OLS.
    regression(
        c,
        out,
        "ols_adjusted_ipcw",
        ols::ols_arm_effect,
        Columns::Adjusted,
        ADJUSTED,
    );
    // A weighting headline: ATT weights times censoring weights lead, the weighted
    // regression stays beside them.
    if let Some(base) = &c.p.att_base
        && super::weighting::ipcw_weighting_estimate(c, out, c.se, base)
    {
        return;
    }
    for r in &mut out.estimates {
        r.headline = true;
    }
}

/// Percentile and BCa bootstrap intervals of the difference (units resampled; not run
/// with clusters, with a note).
fn bootstrap(p: &Pair, out: &mut PairResults, opts: &Options, reps: u64) {
    let key = &p.key;
    let what = format!("{} vs {}", key.treated, key.control);
    let conf = opts.conf_level;
    if p.units.cluster.is_some() {
        out.note(Text {
 en: format!("{what}: the bootstrap resamples units, not clusters; with clusters use the wild cluster bootstrap instead. Not run."),
 nl: format!("{what}: de bootstrap trekt eenheden, geen clusters; gebruik bij clusters de wild-clusterbootstrap. Niet uitgevoerd."),
 });
        return;
    }
    let (yt, yc) = p.split();
    let tick = progress_tick(opts);
    let ro = ResampleOptions::new(reps, opts.seed)
        .with_conf_level(conf)
        .with_progress(&tick);
    let res = if p.binary {
        let (ct, cc) = p.counts();
        resample::bootstrap::proportion_difference(ct, cc, &ro)
    } else {
        resample::bootstrap::mean_difference(&yt, &yc, &ro)
    };
    match res {
        Ok(b) => {
            for (name, lo, hi) in [
                ("bootstrap_percentile", b.percentile_low, b.percentile_high),
                ("bootstrap_bca", b.bca_low, b.bca_high),
            ] {
                let inf = Inference {
                    estimate: b.estimate,
                    std_error: b.std_error,
                    statistic: f64::NAN,
                    df: None,
                    p_value: f64::NAN,
                    ci_low: lo,
                    ci_high: hi,
                };
                let mut r = EstimateRow::new(
                    key,
                    name,
                    None,
                    Some("bootstrap"),
                    Scale::Difference,
                    inf,
                    conf,
                    (yt.len(), yc.len()),
                );
                r.covariates = Vec::new();
                out.estimates.push(r);
            }
        }
        Err(e) => out.note(Text {
            en: format!("{what}: bootstrap not run ({e})."),
            nl: format!("{what}: bootstrap niet uitgevoerd ({e})."),
        }),
    }
}

/// The randomisation-inference p-value, re-randomised as the design assigned (blocks,
/// clusters); a note when the design was not randomised.
fn randomisation(p: &Pair, out: &mut PairResults, opts: &Options, design: DesignKind, reps: u64) {
    let key = &p.key;
    let what = format!("{} vs {}", key.treated, key.control);
    let conf = opts.conf_level;
    if !design.is_randomised() {
        out.note(Text {
 en: format!("{what}: randomisation inference assumes a randomised design; this pilot was not randomised, so the p-value is a permutation test of exchangeable arms."),
 nl: format!("{what}: randomisatie-inferentie veronderstelt loting; in deze pilot is niet geloot, dus de p-waarde is een permutatietoets."),
 });
    }
    let base = p.reg_data(false, false);
    let treated: Vec<bool> = base.t.iter().map(|&v| v == 1.0).collect();
    let rdesign = match (base.blocks.as_ref(), base.clusters.as_ref()) {
        (Some(b), Some(c)) => ri::Design::BlockedClustered {
            blocks: b,
            clusters: c,
        },
        (Some(b), None) => ri::Design::Blocked(b),
        (None, Some(c)) => ri::Design::Clustered(c),
        (None, None) => ri::Design::Complete,
    };
    let tick = progress_tick(opts);
    let ro = ResampleOptions::new(reps, opts.seed)
        .with_conf_level(conf)
        .with_progress(&tick);
    match ri::randomization_test(&base.y, &treated, &rdesign, &ro) {
        Ok(r) => {
            let mut t = TestRow::new(key, "randomisation", Some(r.estimate), None, r.p_value);
            t.reps = Some(r.reps);
            t.seed = (!r.exact).then_some(opts.seed);
            t.detail = Some(if r.exact {
                "difference in means, all assignments enumerated".into()
            } else {
                "difference in means, re-randomised as assigned".into()
            });
            out.tests.push(t);
        }
        Err(e) => out.note(Text {
            en: format!("{what}: randomisation inference not run ({e})."),
            nl: format!("{what}: randomisatie-inferentie niet uitgevoerd ({e})."),
        }),
    }
}

/// The wild cluster bootstrap p-value with fewer than [`FEW_CLUSTERS`] clusters (a
/// note instead below [`MIN_WILD_CLUSTERS`]).
fn wild_cluster(
    p: &Pair,
    out: &mut PairResults,
    opts: &Options,
    adjust: bool,
    block_dummies: bool,
) {
    let key = &p.key;
    let what = format!("{} vs {}", key.treated, key.control);
    let conf = opts.conf_level;
    let mut d = p.reg_data(adjust, block_dummies);
    if let Some(cl) = d.clusters.as_ref()
        && cl.count() < MIN_WILD_CLUSTERS
    {
        let g = cl.count();
        let distinct = 6u64.pow(g as u32) / 2;
        out.note(Text {
 en: format!("{what}: wild cluster bootstrap not run: {g} clusters. With G clusters Webb's weights give at most 6^G draws, half of them mirror images with the same |t|: here at most {distinct} different values, too few for a p-value that means something (it needs at least {MIN_WILD_CLUSTERS} clusters). With so few clusters every cluster-robust result is fragile."),
 nl: format!("{what}: wild-clusterbootstrap niet uitgevoerd: {g} clusters. Met G clusters geven Webb-gewichten hoogstens 6^G trekkingen, waarvan de helft spiegelbeelden met dezelfde |t|: hier hoogstens {distinct} verschillende waarden, te weinig voor een zinvolle p-waarde (er zijn minstens {MIN_WILD_CLUSTERS} clusters nodig). Met zo weinig clusters is elk clusterrobuust resultaat wankel."),
 });
        return;
    }
    if let Some(cl) = d.clusters.as_ref()
        && cl.count() < FEW_CLUSTERS
    {
        let Ok(dropped) = ols::ols_dropped_columns(&d.arm_regression()) else {
            return;
        };
        drop_columns(&mut d, &dropped);
        let mut x: Vec<&[f64]> = vec![&d.t];
        x.extend(d.cols.iter().map(|(_, c)| &**c));
        let Some(cl) = d.clusters.as_ref() else {
            return;
        };
        let ro = ResampleOptions::new(opts.wild_reps, opts.seed).with_conf_level(conf);
        let res = wild::WildClusterBootstrap::new(&d.y, &x, true, cl, 1)
            .and_then(|w| w.run(wild::WildWeights::Webb, &ro));
        match res {
            Ok(w) => {
                let mut t = TestRow::new(
                    key,
                    "wild_cluster_bootstrap",
                    Some(w.statistic),
                    None,
                    w.p_value,
                );
                t.reps = Some(w.reps);
                t.seed = (!w.enumerated).then_some(opts.seed);
                t.detail = Some(format!(
                    "{} arm coefficient, restricted (null imposed), CR1 t, {} weights, {} clusters; interval [{}, {}]",
                    if adjust { "adjusted" } else { "unadjusted" },
                    w.weights.name(),
                    w.clusters,
                    w.ci_low,
                    w.ci_high
                ));
                out.tests.push(t);
            }
            Err(e) => out.note(Text {
                en: format!("{what}: wild cluster bootstrap not run ({e})."),
                nl: format!("{what}: wild-clusterbootstrap niet uitgevoerd ({e})."),
            }),
        }
    }
}

/// Bootstrap intervals, randomisation inference and, with few clusters (but at least
/// [`MIN_WILD_CLUSTERS`], and not when cluster-robust inference was `refused`), the
/// wild cluster bootstrap.
fn resampling(
    p: &Pair,
    out: &mut PairResults,
    opts: &Options,
    design: DesignKind,
    adjust: bool,
    block_dummies: bool,
    refused: bool,
) {
    if let Some(reps) = opts.bootstrap {
        bootstrap(p, out, opts, reps);
    }
    if let Some(reps) = opts.permutations {
        randomisation(p, out, opts, design, reps);
    }
    if p.units.cluster.is_none() || refused {
        return;
    }
    wild_cluster(p, out, opts, adjust, block_dummies);
}

/// Notes for an outcome and subset.
pub(crate) fn to_notes(outcome: &str, subset: &str, texts: Vec<Text>) -> Vec<Note> {
    texts
        .into_iter()
        .map(|text| Note {
            outcome: Some(outcome.to_string()),
            subset: Some(subset.to_string()),
            text,
        })
        .collect()
}
