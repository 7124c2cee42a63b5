//! Callaway & Sant'Anna (2021), "Difference-in-differences with multiple time
//! periods", *J. Econometrics* 225(2), 200-230: group-time average treatment effects
//! ATT(g,t) and their aggregations, unconditional ([`cs_att_gt`]) or doubly robust with
//! covariates ([`cs_att_gt_dr`], Sant'Anna & Zhao 2020), never-treated or
//! not-yet-treated units as the comparison group ([`CsControl`]), the varying or the
//! universal base period ([`CsBase`]), balanced panel, analytic influence-function
//! standard errors. Conventions as R `did` (`att_gt` + `aggte`, `bstrap = FALSE`) and its
//! Python port csdid 0.4.3, which the reference fixtures come from:
//!
//! - cohorts g: the first treated periods after the first period (units treated from the
//!   first period on are left out, as R did; units first treated after the last period
//!   count as never treated);
//! - varying base period (the packages' default): a cell with t < g compares t with
//!   t − 1, a cell with t ≥ g compares t with g − 1; cells for every period but the
//!   first (universal: every cell compares t with g − 1, cells for every period);
//! - ATT(g,t) = mean_{G=g}(Y_t − Y_b) − mean_{never}(Y_t − Y_b); its influence function
//!   on the n units, zero outside the cohort and the never treated, is
//!   (n/n_gc)·[1(G=g)(ΔY − μ_g)/p − 1(never)(ΔY − μ_c)/(1 − p)] with n_gc the units in
//!   both groups and p = n_g/n_gc; SE = √(Σ ψ²)/n (R did: √(mean(ψ²)/n));
//! - aggregations weight the cells by the cohort shares P(G = g) = n_g/n and add the
//!   influence of estimating those shares (R did's `wif`): `cs_simple` averages the
//!   post-period cells (t ≥ g); `cs_dynamic` averages by event time e = t − g, and its
//!   overall effect is the plain mean of the e ≥ 0 effects; `cs_group` averages each
//!   cohort's post-period cells and weights the cohorts by size; `cs_calendar` weights
//!   the cells of each period by cohort size and averages the periods;
//! - intervals and p-values from the normal distribution (pointwise); on request a
//!   multiplier bootstrap ([`multiplier_bootstrap`]) gives bootstrap SEs and the critical
//!   value of a uniform (simultaneous) band over the ATT(g,t) cells or the event-time
//!   effects.

use rayon::prelude::*;
use std::borrow::Cow;

use serde::Serialize;

use super::{Inference, StatsError, StatsResult};

/// The comparison group of each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CsControl {
    /// Never-treated units only.
    Never,
    /// Never-treated units and units first treated after the cell's period (R did
    /// `control_group = "notyettreated"`: G = 0, or G > max(t, base) and G ≠ g).
    NotYet,
}

/// The base period of each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CsBase {
    /// R did's default: a pre-period cell compares t with t − 1, a post-period cell
    /// with g − 1.
    #[default]
    Varying,
    /// Every cell compares t with g − 1 (R did `base_period = "universal"`); the cell
    /// (g, g − 1) is the reference, reported as 0 with no standard error, and cells
    /// start in the first period.
    Universal,
}

/// One group-time effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AttGt {
    /// The cohort: first treated period.
    pub group: i64,
    pub time: i64,
    /// The period it is compared with.
    pub base: i64,
    pub inference: Inference,
    /// Units of the cohort and never-treated units.
    pub n_group: usize,
    pub n_control: usize,
}

/// All group-time effects with their influence functions (for the aggregations).
#[derive(Debug, Clone, PartialEq)]
pub struct CsFit {
    pub cells: Vec<AttGt>,
    /// ψ per cell: n values each, or (unconditional cells) the cell's means, from which
    /// [`CsFit::psi`] computes the n values when an aggregation needs them.
    influence: Vec<CellPsi>,
    /// The outcomes in wide form (unit-major) when a cell keeps its means only.
    y: Vec<f64>,
    nt: usize,
    control: CsControl,
    /// Cohort of each unit (`None` = never treated, or left out).
    unit_group: Vec<Option<i64>>,
    /// Units per cohort, (g, count), for the cohort shares.
    group_sizes: Vec<(i64, usize)>,
    n: usize,
    conf_level: f64,
}

/// The influence function of one cell.
#[derive(Debug, Clone, PartialEq)]
enum CellPsi {
    /// ψ on the n units.
    Values(Vec<f64>),
    /// The universal base period's reference cell: ψ = 0.
    Zero,
    /// The unconditional estimator's ψ: n/n₁ · (ΔY − μ_g)/p on the cohort's units and
    /// −n/n₁ · (ΔY − μ_c)/(1 − p) on the comparison units, ΔY = Y(t) − Y(b), 0 elsewhere.
    Means(MeanCell),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct MeanCell {
    group: i64,
    time: i64,
    /// Columns of t and of the base period in the wide outcomes.
    col_t: usize,
    col_b: usize,
    mu_g: f64,
    mu_c: f64,
    p: f64,
    scale: f64,
}

/// What a cell estimator returns besides the estimate: its influence function on the
/// cell's n₁ units (members, then controls), or the means of the unconditional
/// estimator (members mean, controls mean, p).
enum CellInfluence {
    Values(Vec<f64>),
    Means { mu_g: f64, mu_c: f64, p: f64 },
}

/// One aggregated effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CsAggregate {
    /// Event time for `cs_dynamic` per-period effects.
    pub event_time: Option<i64>,
    pub inference: Inference,
}

/// Group-time effects from a balanced panel in wide form: `y[u * periods.len() + k]`
/// is unit u in period `periods[k]` (consecutive whole numbers, ascending), and
/// `first_treated[u]` the unit's first treated period (`None` = never treated).
pub fn cs_att_gt(
    y: &[f64],
    periods: &[i64],
    first_treated: &[Option<i64>],
    control: CsControl,
    conf_level: f64,
) -> StatsResult<CsFit> {
    cs_att_gt_base(
        y,
        periods,
        first_treated,
        control,
        CsBase::Varying,
        conf_level,
    )
}

/// [`cs_att_gt`] with the base period chosen by `base`.
pub fn cs_att_gt_base(
    y: &[f64],
    periods: &[i64],
    first_treated: &[Option<i64>],
    control: CsControl,
    base: CsBase,
    conf_level: f64,
) -> StatsResult<CsFit> {
    fit_cells(
        Cow::Borrowed(y),
        periods,
        first_treated,
        control,
        base,
        conf_level,
        &unconditional_cell,
    )
}

/// The unconditional estimator of one cell: μ_g − μ_c, the influence function on the
/// cell's units (members, then controls) being (ΔY − μ_g)/p and −(ΔY − μ_c)/(1 − p),
/// kept as the means.
fn unconditional_cell(
    members: &[usize],
    controls: &[usize],
    dy: &dyn Fn(usize) -> f64,
    _b: usize,
) -> StatsResult<(f64, CellInfluence)> {
    let (ng, nc) = (members.len() as f64, controls.len() as f64);
    let p = ng / (ng + nc);
    let mu_g = members.iter().map(|&u| dy(u)).sum::<f64>() / ng;
    let mu_c = controls.iter().map(|&u| dy(u)).sum::<f64>() / nc;
    Ok((mu_g - mu_c, CellInfluence::Means { mu_g, mu_c, p }))
}

/// [`cs_att_gt_dr_base`] taking the wide outcomes by value: the fit keeps them for the
/// influence functions of the unconditional cells without a copy.
pub fn cs_att_gt_owned(
    y: Vec<f64>,
    x: &[Vec<f64>],
    periods: &[i64],
    first_treated: &[Option<i64>],
    control: CsControl,
    base: CsBase,
    conf_level: f64,
) -> StatsResult<CsFit> {
    if !x.is_empty() {
        return cs_att_gt_dr_base(&y, x, periods, first_treated, control, base, conf_level);
    }
    fit_cells(
        Cow::Owned(y),
        periods,
        first_treated,
        control,
        base,
        conf_level,
        &unconditional_cell,
    )
}

/// The estimate of one cell and its influence function on the cell's n₁ units
/// (members, then controls), from the members, the controls, ΔY per unit and the base
/// period's column.
type CellEstimator<'a> = &'a (
        dyn Fn(
    &[usize],
    &[usize],
    &dyn Fn(usize) -> f64,
    usize,
) -> StatsResult<(f64, CellInfluence)>
            + Sync
    );

/// The cells of [`cs_att_gt`] with the estimator `est` of each (ψ on all n units is
/// n/n₁ times the cell's influence function, zero elsewhere).
fn fit_cells(
    y_in: Cow<'_, [f64]>,
    periods: &[i64],
    first_treated: &[Option<i64>],
    control: CsControl,
    base: CsBase,
    conf_level: f64,
    est: CellEstimator,
) -> StatsResult<CsFit> {
    let y: &[f64] = &y_in;
    let nt = periods.len();
    let n = first_treated.len();
    check_wide(y, n, nt)?;
    let (t_first, t_last) = (periods[0], periods[nt - 1]);
    let unit_group: Vec<Option<i64>> = first_treated
        .iter()
        .map(|g| g.filter(|&g| g <= t_last))
        .collect();
    let never: Vec<usize> = (0..n).filter(|&u| unit_group[u].is_none()).collect();
    if control == CsControl::Never && never.len() < 2 {
        return Err(StatsError::Invalid(
            "Callaway-Sant'Anna with never-treated controls needs at least 2 never-treated units"
                .into(),
        ));
    }
    let groups = cohorts(&unit_group, t_first)?;
    let wide = CellData {
        y,
        nt,
        n,
        t_first,
        control,
        unit_group: &unit_group,
        never: &never,
        conf_level,
        est,
    };
    let (cells, influence) = wide.cells(&groups, periods, base)?;
    let lazy = influence.iter().any(|psi| matches!(psi, CellPsi::Means(_)));
    let group_sizes = group_sizes(&unit_group);
    Ok(CsFit {
        cells,
        influence,
        y: if lazy { y_in.into_owned() } else { Vec::new() },
        nt,
        control,
        unit_group,
        group_sizes,
        n,
        conf_level,
    })
}

/// Check the wide outcomes: at least two periods, `n` units × `nt` periods of them,
/// all finite.
fn check_wide(y: &[f64], n: usize, nt: usize) -> StatsResult<()> {
    if nt < 2 {
        return Err(StatsError::Invalid("needs at least two periods".into()));
    }
    if y.len() != n * nt {
        return Err(StatsError::Invalid(format!(
            "{} outcomes for {n} units x {nt} periods",
            y.len()
        )));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::Invalid(
            "the outcomes must be finite numbers".into(),
        ));
    }
    Ok(())
}

/// The cohorts with cells, ascending: the units' first treated periods after the first
/// period `t_first`; an error when there is none.
fn cohorts(unit_group: &[Option<i64>], t_first: i64) -> StatsResult<Vec<i64>> {
    let mut groups: Vec<i64> = unit_group
        .iter()
        .flatten()
        .copied()
        .filter(|&g| g > t_first)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.is_empty() {
        return Err(StatsError::Invalid(
            "no cohort is first treated after the first period".into(),
        ));
    }
    Ok(groups)
}

/// Units per cohort, (g, count), ascending in g.
fn group_sizes(unit_group: &[Option<i64>]) -> Vec<(i64, usize)> {
    let mut group_sizes: Vec<(i64, usize)> = Vec::new();
    for &g in unit_group.iter().flatten() {
        match group_sizes.binary_search_by_key(&g, |e| e.0) {
            Ok(at) => group_sizes[at].1 += 1,
            Err(at) => group_sizes.insert(at, (g, 1)),
        }
    }
    group_sizes
}

/// What every cell of [`fit_cells`] reads: the wide outcomes, the units' cohorts, the
/// comparison rule and the cell estimator.
struct CellData<'a> {
    y: &'a [f64],
    nt: usize,
    n: usize,
    t_first: i64,
    control: CsControl,
    /// Cohort of each unit (`None` = never treated).
    unit_group: &'a [Option<i64>],
    /// The never-treated units.
    never: &'a [usize],
    conf_level: f64,
    est: CellEstimator<'a>,
}

impl CellData<'_> {
    /// The column of period `t` in the wide outcomes.
    fn col(&self, t: i64) -> usize {
        (t - self.t_first) as usize
    }

    /// Every cell, cohort by cohort and period by period, with its influence function.
    /// The cells are estimated in parallel (each on its own, so the results do not
    /// depend on the threads); the first failing cell in this order gives the error.
    fn cells(
        &self,
        groups: &[i64],
        periods: &[i64],
        base: CsBase,
    ) -> StatsResult<(Vec<AttGt>, Vec<CellPsi>)> {
        let n = self.n;
        let members: Vec<Vec<usize>> = groups
            .par_iter()
            .map(|&g| (0..n).filter(|&u| self.unit_group[u] == Some(g)).collect())
            .collect();
        let times = match base {
            CsBase::Varying => &periods[1..],
            CsBase::Universal => periods,
        };
        let specs: Vec<(usize, i64)> = (0..groups.len())
            .flat_map(|k| times.iter().map(move |&t| (k, t)))
            .collect();
        let done: Vec<StatsResult<(AttGt, CellPsi)>> = specs
            .par_iter()
            .map(|&(k, t)| self.cell_at(groups[k], t, base, &members[k]))
            .collect();
        done.into_iter()
            .collect::<StatsResult<Vec<_>>>()
            .map(|v| v.into_iter().unzip())
    }

    /// The cell of cohort `g` (its `members`) in period `t`: its base period, its
    /// comparison units and its estimate.
    fn cell_at(
        &self,
        g: i64,
        t: i64,
        base: CsBase,
        members: &[usize],
    ) -> StatsResult<(AttGt, CellPsi)> {
        let b = match base {
            CsBase::Varying if t < g => t - 1,
            _ => g - 1,
        };
        let controls = self.controls(g, t, b)?;
        if t == b {
            // The universal base period's reference cell: 0 by construction.
            let cell = AttGt {
                group: g,
                time: t,
                base: b,
                inference: Inference::wald(0.0, 0.0, None, self.conf_level),
                n_group: members.len(),
                n_control: controls.len(),
            };
            return Ok((cell, CellPsi::Zero));
        }
        self.cell((g, t, b), members, &controls)
    }

    /// The comparison units of cohort `g` in period `t` with base period `b`; an error
    /// when there are fewer than 2.
    fn controls(&self, g: i64, t: i64, b: i64) -> StatsResult<Vec<usize>> {
        let controls: Vec<usize> = match self.control {
            CsControl::Never => self.never.to_vec(),
            CsControl::NotYet => (0..self.n)
                .filter(|&u| match self.unit_group[u] {
                    None => true,
                    Some(h) => h > t.max(b) && h != g,
                })
                .collect(),
        };
        if controls.len() < 2 {
            return Err(StatsError::Invalid(format!(
                "cohort {g} in period {t} has {} comparison units (never treated{}); Callaway-Sant'Anna needs at least 2",
                controls.len(),
                if self.control == CsControl::NotYet {
                    " or not yet treated"
                } else {
                    ""
                }
            )));
        }
        Ok(controls)
    }

    /// The cell of cohort g in period t with base period b, by the cell estimator, and
    /// its ψ on the n units.
    fn cell(
        &self,
        (g, t, b): (i64, i64, i64),
        members: &[usize],
        controls: &[usize],
    ) -> StatsResult<(AttGt, CellPsi)> {
        let (y, nt, n) = (self.y, self.nt, self.n);
        let dy = |u: usize| y[u * nt + self.col(t)] - y[u * nt + self.col(b)];
        let (att, inf) = (self.est)(members, controls, &dy, self.col(b)).map_err(|e| match e {
            StatsError::Invalid(m) => StatsError::Invalid(format!("cohort {g} in period {t}: {m}")),
            e => e,
        })?;
        let scale = n as f64 / (members.len() + controls.len()) as f64;
        let (se, psi) = match inf {
            CellInfluence::Values(inf) => {
                let mut psi = vec![0.0; n];
                for (&u, v) in members.iter().chain(controls).zip(&inf) {
                    psi[u] = scale * v;
                }
                let se = (psi.iter().map(|v| v * v).sum::<f64>()).sqrt() / n as f64;
                (se, CellPsi::Values(psi))
            }
            CellInfluence::Means { mu_g, mu_c, p } => {
                let cell = MeanCell {
                    group: g,
                    time: t,
                    col_t: self.col(t),
                    col_b: self.col(b),
                    mu_g,
                    mu_c,
                    p,
                    scale,
                };
                (self.mean_cell_se(&cell), CellPsi::Means(cell))
            }
        };
        let cell = AttGt {
            group: g,
            time: t,
            base: b,
            inference: Inference::wald(att, se, None, self.conf_level),
            n_group: members.len(),
            n_control: controls.len(),
        };
        Ok((cell, psi))
    }

    /// The standard error of an unconditional cell from its means: Σψ² over the units
    /// in unit order, as from the n values.
    fn mean_cell_se(&self, cell: &MeanCell) -> f64 {
        let n = self.n;
        let ss = (0..n)
            .map(|u| {
                let v = mean_cell_psi(cell, self.y, self.nt, self.control, self.unit_group[u], u);
                v * v
            })
            .sum::<f64>();
        ss.sqrt() / n as f64
    }
}

/// ψ of an unconditional cell at unit `u` (cohort `gu`): as the n values were written,
/// n/n₁ · (ΔY − μ_g)/p for the cohort, n/n₁ · (−(ΔY − μ_c)/(1 − p)) for the comparison
/// units, 0 elsewhere.
#[inline]
fn mean_cell_psi(
    c: &MeanCell,
    y: &[f64],
    nt: usize,
    control: CsControl,
    gu: Option<i64>,
    u: usize,
) -> f64 {
    let dy = || y[u * nt + c.col_t] - y[u * nt + c.col_b];
    if gu == Some(c.group) {
        return c.scale * ((dy() - c.mu_g) / c.p);
    }
    let is_control = match (control, gu) {
        (_, None) => true,
        (CsControl::Never, Some(_)) => false,
        (CsControl::NotYet, Some(h)) => {
            let b = c.time - (c.col_t as i64 - c.col_b as i64);
            h > c.time.max(b) && h != c.group
        }
    };
    if is_control {
        c.scale * (-(dy() - c.mu_c) / (1.0 - c.p))
    } else {
        0.0
    }
}

/// Doubly robust group-time effects with covariates: each cell is the Sant'Anna & Zhao
/// (2020, *J. Econometrics* 219(1), 101-122) panel estimator, as R DRDID's
/// `drdid_panel` (the locally efficient "traditional" DR, not the improved one) which R
/// did and csdid call with `est_method = "dr"`:
///
/// - the propensity score p(X) by logistic regression of cohort membership on an
///   intercept and the covariates among the cell's units ([`crate::stats::weighting::logit`]),
///   capped at 1 − 10⁻⁶; comparison units with p ≥ 0.995 get weight 0 (DRDID's trimming);
/// - the outcome regression: ΔY on the covariates by least squares among the comparison
///   units, m(X) its prediction;
/// - ATT = mean_w₁(ΔY − m(X)) − mean_w₀(ΔY − m(X)) with w₁ = D, w₀ = p(X)(1 − D)/(1 − p(X))
///   (each normalised by its mean);
/// - its influence function with the estimation of both models (DRDID's
///   `asy.lin.rep.ps` and `asy.lin.rep.wols` terms).
///
/// `x[j][u * periods.len() + k]` is covariate j of unit u in period k; the covariates
/// are taken from the cell's base period. Unweighted. Conventions otherwise as
/// [`cs_att_gt`].
pub fn cs_att_gt_dr(
    y: &[f64],
    x: &[Vec<f64>],
    periods: &[i64],
    first_treated: &[Option<i64>],
    control: CsControl,
    conf_level: f64,
) -> StatsResult<CsFit> {
    cs_att_gt_dr_base(
        y,
        x,
        periods,
        first_treated,
        control,
        CsBase::Varying,
        conf_level,
    )
}

/// [`cs_att_gt_dr`] with the base period chosen by `base`.
pub fn cs_att_gt_dr_base(
    y: &[f64],
    x: &[Vec<f64>],
    periods: &[i64],
    first_treated: &[Option<i64>],
    control: CsControl,
    base: CsBase,
    conf_level: f64,
) -> StatsResult<CsFit> {
    let nt = periods.len();
    if x.is_empty() {
        return cs_att_gt_base(y, periods, first_treated, control, base, conf_level);
    }
    if x.iter()
        .any(|c| c.len() != y.len() || c.iter().any(|v| !v.is_finite()))
    {
        return Err(StatsError::Invalid(
            "the covariates must be finite numbers, one per unit and period".into(),
        ));
    }
    fit_cells(
        Cow::Borrowed(y),
        periods,
        first_treated,
        control,
        base,
        conf_level,
        &|members: &[usize], controls: &[usize], dy: &dyn Fn(usize) -> f64, b: usize| {
            let units: Vec<usize> = members.iter().chain(controls).copied().collect();
            let d: Vec<f64> = (0..units.len())
                .map(|i| f64::from(u8::from(i < members.len())))
                .collect();
            let dy: Vec<f64> = units.iter().map(|&u| dy(u)).collect();
            let cov: Vec<Vec<f64>> = x
                .iter()
                .map(|c| units.iter().map(|&u| c[u * nt + b]).collect())
                .collect();
            let (att, inf) = drdid_panel(&dy, &d, &cov)?;
            Ok((att, CellInfluence::Values(inf)))
        },
    )
}

/// DRDID's `drdid_panel` (unweighted) on one cell: ΔY, the treatment indicator and the
/// covariates (without intercept) of its n₁ units; returns the ATT and its influence
/// function.
fn drdid_panel(dy: &[f64], d: &[f64], cov: &[Vec<f64>]) -> StatsResult<(f64, Vec<f64>)> {
    use nalgebra::{DMatrix, DVector};
    let n = dy.len();
    let k = cov.len() + 1;
    let xm = DMatrix::from_fn(n, k, |i, j| if j == 0 { 1.0 } else { cov[j - 1][i] });
    let treated: Vec<bool> = d.iter().map(|&v| v > 0.5).collect();
    let names: Vec<String> = (0..cov.len()).map(|j| format!("covariate {j}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let cols: Vec<&[f64]> = cov.iter().map(Vec::as_slice).collect();
    let ps = super::weighting::logit(&treated, &cols, &name_refs)?;
    let ps_fit: Vec<f64> = ps.fitted.iter().map(|&p| p.min(1.0 - 1e-6)).collect();
    let trim: Vec<f64> = (0..n)
        .map(|i| f64::from(u8::from(treated[i] || ps_fit[i] < 0.995)))
        .collect();
    // Outcome regression among the comparison units.
    let ctrl: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
    let xc = DMatrix::from_fn(ctrl.len(), k, |r, j| xm[(ctrl[r], j)]);
    let yc = DVector::from_iterator(ctrl.len(), ctrl.iter().map(|&i| dy[i]));
    let beta = (xc.transpose() * &xc)
        .cholesky()
        .ok_or_else(|| {
            StatsError::Invalid(
                "the outcome regression among the comparison units is singular (a covariate constant or collinear among them)".into(),
            )
        })?
        .solve(&(xc.transpose() * yc));
    let out: Vec<f64> = (0..n).map(|i| (xm.row(i) * &beta)[0]).collect();
    let nf = n as f64;
    let mean = |v: &dyn Fn(usize) -> f64| (0..n).map(v).sum::<f64>() / nf;
    let w1: Vec<f64> = (0..n).map(|i| trim[i] * d[i]).collect();
    let w0: Vec<f64> = (0..n)
        .map(|i| trim[i] * ps_fit[i] * (1.0 - d[i]) / (1.0 - ps_fit[i]))
        .collect();
    let r: Vec<f64> = (0..n).map(|i| dy[i] - out[i]).collect();
    let (m1, m0) = (mean(&|i| w1[i]), mean(&|i| w0[i]));
    let eta1 = mean(&|i| w1[i] * r[i]) / m1;
    let eta0 = mean(&|i| w0[i] * r[i]) / m0;
    // Asymptotic linear representations of the two models.
    let xpx = DMatrix::from_fn(k, k, |a, b| {
        (0..n)
            .map(|i| (1.0 - d[i]) * xm[(i, a)] * xm[(i, b)])
            .sum::<f64>()
            / nf
    });
    let xpx_inv = xpx
        .cholesky()
        .ok_or_else(|| {
            StatsError::Invalid("the covariates are collinear among the cell's units".into())
        })?
        .inverse();
    let info = DMatrix::from_fn(k, k, |a, b| {
        (0..n)
            .map(|i| ps_fit[i] * (1.0 - ps_fit[i]) * xm[(i, a)] * xm[(i, b)])
            .sum::<f64>()
    });
    let hess = info
        .cholesky()
        .ok_or_else(|| {
            StatsError::Invalid("the covariates are collinear among the cell's units".into())
        })?
        .inverse()
        * nf;
    let col_mean = |f: &dyn Fn(usize) -> f64| {
        DVector::from_fn(k, |j, _| {
            (0..n).map(|i| f(i) * xm[(i, j)]).sum::<f64>() / nf
        })
    };
    let mv1 = col_mean(&|i| w1[i]);
    let mv2 = col_mean(&|i| w0[i] * (r[i] - eta0));
    let mv3 = col_mean(&|i| w0[i]);
    // a_wols = xpx_inv · M, a_ps = hess · M: the linear maps of each unit's scores.
    let (a1, a2, a3) = (&xpx_inv * &mv1, &hess * &mv2, &xpx_inv * &mv3);
    let inf: Vec<f64> = (0..n)
        .map(|i| {
            let xi = xm.row(i).transpose();
            let wols = (1.0 - d[i]) * r[i];
            let score_ps = d[i] - ps_fit[i];
            let t = (w1[i] * r[i] - w1[i] * eta1 - wols * xi.dot(&a1)) / m1;
            let c =
                (w0[i] * r[i] - w0[i] * eta0 + score_ps * xi.dot(&a2) - wols * xi.dot(&a3)) / m0;
            t - c
        })
        .collect();
    Ok((eta1 - eta0, inf))
}

/// An event-time effect with its influence function: (e, estimate, ψ).
type EventPart = (i64, f64, Vec<f64>);

impl CsFit {
    /// Cohort share P(G = g) over all n units.
    fn share(&self, g: i64) -> f64 {
        let count = self
            .group_sizes
            .binary_search_by_key(&g, |e| e.0)
            .map_or(0, |at| self.group_sizes[at].1);
        count as f64 / self.n as f64
    }

    /// ψ of cell k on the n units: its values, or computed into `scratch`.
    fn psi<'s>(&'s self, k: usize, scratch: &'s mut Vec<f64>) -> &'s [f64] {
        match &self.influence[k] {
            CellPsi::Values(v) => v,
            CellPsi::Zero => {
                scratch.clear();
                scratch.resize(self.n, 0.0);
                scratch
            }
            CellPsi::Means(c) => {
                scratch.clear();
                scratch.extend((0..self.n).map(|u| {
                    mean_cell_psi(c, &self.y, self.nt, self.control, self.unit_group[u], u)
                }));
                scratch
            }
        }
    }

    /// Rows i0.. of cell k's influence function (as [`Self::psi`]), into `out`.
    fn psi_rows(&self, k: usize, i0: usize, out: &mut [f64]) {
        match &self.influence[k] {
            CellPsi::Values(v) => out.copy_from_slice(&v[i0..i0 + out.len()]),
            CellPsi::Zero => out.fill(0.0),
            CellPsi::Means(c) => {
                for (r, o) in out.iter_mut().enumerate() {
                    let u = i0 + r;
                    *o = mean_cell_psi(c, &self.y, self.nt, self.control, self.unit_group[u], u);
                }
            }
        }
    }

    /// The weighted average of the cells `keep` with weights ∝ P(G = g), and its
    /// influence function including the estimated weights (R did `wif`).
    fn weighted(&self, keep: &[usize]) -> (f64, Vec<f64>) {
        let items: Vec<(i64, f64)> = keep
            .iter()
            .map(|&k| (self.cells[k].group, self.cells[k].inference.estimate))
            .collect();
        let mut scratch = Vec::new();
        self.share_weighted_by(&items, &mut |j, psi, w| {
            for (a, v) in psi.iter_mut().zip(self.psi(keep[j], &mut scratch)) {
                *a += w * v;
            }
        })
    }

    /// Σ_j w_j θ_j with w_j ∝ P(G = g_j), for items (g_j, θ_j), and its influence
    /// function Σ_j w_j ψ_j + wif (R did `get_agg_inf_func` with `wif`). The ψ_j are
    /// made one at a time: `add(j, ψ, w_j)` adds w_j ψ_j to ψ, for j in order, so that
    /// the caller need not hold them all.
    fn share_weighted_by(
        &self,
        items: &[(i64, f64)],
        add: &mut dyn FnMut(usize, &mut [f64], f64),
    ) -> (f64, Vec<f64>) {
        let pg: Vec<f64> = items.iter().map(|it| self.share(it.0)).collect();
        let total: f64 = pg.iter().sum();
        let est = items.iter().zip(&pg).map(|(it, p)| it.1 * p).sum::<f64>() / total;
        let mut psi = vec![0.0; self.n];
        for (j, p) in pg.iter().enumerate() {
            add(j, &mut psi, p / total);
        }
        // wif: if1[i,j] = (1(G_i = g_j) − pg_j)/Σpg; if2[i,j] = (Σ_l (1(G_i = g_l) − pg_l))·pg_j/(Σpg)²;
        // the correction is Σ_j (if1 − if2)[i,j]·θ_j.
        let sum_pa: f64 = pg.iter().zip(items).map(|(p, it)| p * it.1).sum();
        for (i, p) in psi.iter_mut().enumerate() {
            let gi = self.unit_group[i];
            let mut a1 = 0.0;
            let mut s = 0.0;
            for (it, pgj) in items.iter().zip(&pg) {
                let d = f64::from(u8::from(gi == Some(it.0))) - pgj;
                a1 += d * it.1;
                s += d;
            }
            *p += a1 / total - s * sum_pa / (total * total);
        }
        (est, psi)
    }

    /// The plain mean of the estimates of the cells `keep`.
    fn mean_estimate(&self, keep: &[usize]) -> f64 {
        let m = keep.len() as f64;
        keep.iter()
            .map(|&k| self.cells[k].inference.estimate)
            .sum::<f64>()
            / m
    }

    /// The plain mean of the cells `keep` and of their influence functions.
    fn mean_of(&self, keep: &[usize]) -> (f64, Vec<f64>) {
        let m = keep.len() as f64;
        let est = self.mean_estimate(keep);
        let mut psi = vec![0.0; self.n];
        let mut scratch = Vec::new();
        for &k in keep {
            for (a, v) in psi.iter_mut().zip(self.psi(k, &mut scratch)) {
                *a += v / m;
            }
        }
        (est, psi)
    }

    fn aggregate(&self, label: Option<i64>, (est, psi): &(f64, Vec<f64>)) -> CsAggregate {
        CsAggregate {
            event_time: label,
            inference: Inference::wald(*est, self.se(psi), None, self.conf_level),
        }
    }

    /// `cs_group`: per cohort g the plain mean of its post-period cells, and overall
    /// their average weighted by the cohort shares (with the `wif` term), as R did
    /// `aggte(type = "group")`. The per-cohort rows carry the cohort in `event_time`.
    ///
    /// The cohorts' influence functions are made one at a time and added to the
    /// overall one as they are made (the sums in the same order as over a list of
    /// them), so that only one is held.
    pub fn by_group(&self) -> StatsResult<(Vec<CsAggregate>, CsAggregate)> {
        let mut groups: Vec<i64> = self.cells.iter().map(|c| c.group).collect();
        groups.dedup();
        let cohorts: Vec<(i64, Vec<usize>)> = groups
            .iter()
            .map(|&g| {
                let keep = (0..self.cells.len())
                    .filter(|&k| self.cells[k].group == g && self.cells[k].time >= g)
                    .collect();
                (g, keep)
            })
            .filter(|(_, keep): &(i64, Vec<usize>)| !keep.is_empty())
            .collect();
        if cohorts.is_empty() {
            return Err(StatsError::Invalid("no post-treatment cell".into()));
        }
        let items: Vec<(i64, f64)> = cohorts
            .iter()
            .map(|(g, keep)| (*g, self.mean_estimate(keep)))
            .collect();
        let mut rows = Vec::with_capacity(cohorts.len());
        let overall = self.share_weighted_by(&items, &mut |j, psi, w| {
            let (g, keep) = &cohorts[j];
            let r = self.mean_of(keep);
            rows.push(self.aggregate(Some(*g), &r));
            for (a, v) in psi.iter_mut().zip(&r.1) {
                *a += w * v;
            }
        });
        Ok((rows, self.aggregate(None, &overall)))
    }

    /// `cs_calendar`: per period t (from the first cohort's start) the cohort-share
    /// weighted average of the cells (g ≤ t, t), and overall their plain mean, as R did
    /// `aggte(type = "calendar")`. The per-period rows carry t in `event_time`.
    pub fn by_calendar(&self) -> StatsResult<(Vec<CsAggregate>, CsAggregate)> {
        let first = self.cells.iter().map(|c| c.group).min().unwrap_or(0);
        let mut times: Vec<i64> = self
            .cells
            .iter()
            .map(|c| c.time)
            .filter(|&t| t >= first)
            .collect();
        times.sort_unstable();
        times.dedup();
        if times.is_empty() {
            return Err(StatsError::Invalid("no post-treatment cell".into()));
        }
        // Each period's influence function is added to the overall one as it is made
        // (in the order of a sum over a list of them), so that only one is held.
        let m = times.len() as f64;
        let mut rows = Vec::with_capacity(times.len());
        let mut estimates = Vec::with_capacity(times.len());
        let mut psi = vec![0.0; self.n];
        for &t in &times {
            let keep: Vec<usize> = (0..self.cells.len())
                .filter(|&k| self.cells[k].time == t && self.cells[k].group <= t)
                .collect();
            let r = self.weighted(&keep);
            rows.push(self.aggregate(Some(t), &r));
            estimates.push(r.0);
            for (a, v) in psi.iter_mut().zip(&r.1) {
                *a += v / m;
            }
        }
        let est = estimates.iter().sum::<f64>() / m;
        Ok((rows, self.aggregate(None, &(est, psi))))
    }

    fn se(&self, psi: &[f64]) -> f64 {
        psi.iter().map(|v| v * v).sum::<f64>().sqrt() / self.n as f64
    }

    /// `cs_simple`: the average of the post-period cells (t ≥ g), weighted by cohort size.
    pub fn simple(&self) -> StatsResult<CsAggregate> {
        let keep: Vec<usize> = (0..self.cells.len())
            .filter(|&k| self.cells[k].time >= self.cells[k].group)
            .collect();
        if keep.is_empty() {
            return Err(StatsError::Invalid("no post-treatment cell".into()));
        }
        let (est, psi) = self.weighted(&keep);
        Ok(CsAggregate {
            event_time: None,
            inference: Inference::wald(est, self.se(&psi), None, self.conf_level),
        })
    }

    /// `cs_dynamic`: the effect per event time e = t − g (weighted by cohort size), and
    /// the overall effect, the plain mean of the effects with e ≥ 0.
    pub fn dynamic(&self) -> StatsResult<(Vec<CsAggregate>, CsAggregate)> {
        let mut out = Vec::new();
        let overall = self.dynamic_walk(&mut |e, est, psi| {
            out.push(CsAggregate {
                event_time: Some(e),
                inference: Inference::wald(est, self.se(psi), None, self.conf_level),
            });
        })?;
        Ok((out, overall))
    }

    /// The event-time effects with their influence functions (e, estimate, ψ), and the
    /// overall effect.
    fn dynamic_parts(&self) -> StatsResult<(Vec<EventPart>, CsAggregate)> {
        let mut out = Vec::new();
        let overall = self.dynamic_walk(&mut |e, est, psi| out.push((e, est, psi.to_vec())))?;
        Ok((out, overall))
    }

    /// Each event-time effect in turn, passed to `each` with its influence function
    /// (one at a time, so that only one is held), and the overall effect.
    fn dynamic_walk(&self, each: &mut dyn FnMut(i64, f64, &[f64])) -> StatsResult<CsAggregate> {
        let mut es: Vec<i64> = self.cells.iter().map(|c| c.time - c.group).collect();
        es.sort_unstable();
        es.dedup();
        let posts = es.iter().filter(|&&e| e >= 0).count();
        if posts == 0 {
            return Err(StatsError::Invalid("no post-treatment event time".into()));
        }
        let m = posts as f64;
        let mut post_est: Vec<f64> = Vec::with_capacity(posts);
        let mut overall = vec![0.0; self.n];
        for &e in &es {
            let keep: Vec<usize> = (0..self.cells.len())
                .filter(|&k| self.cells[k].time - self.cells[k].group == e)
                .collect();
            let (est, psi) = self.weighted(&keep);
            if e >= 0 {
                post_est.push(est);
                for (a, b) in overall.iter_mut().zip(&psi) {
                    *a += b / m;
                }
            }
            each(e, est, &psi);
        }
        let est = post_est.iter().sum::<f64>() / m;
        Ok(CsAggregate {
            event_time: None,
            inference: Inference::wald(est, self.se(&overall), None, self.conf_level),
        })
    }
}

/// A balanced panel in wide form for [`cs_att_gt`]: (outcomes unit-major, periods,
/// first treated per unit). Fails naming a unit code that lacks a period, or when there
/// are weights or covariates (see [`wide_with_covariates`] for these).
pub type Wide = (Vec<f64>, Vec<i64>, Vec<Option<i64>>);

/// The wide form of a long [`super::did::Panel`] (one row per unit and period).
pub fn wide_from_panel(p: &super::did::Panel) -> StatsResult<Wide> {
    if !matches!(p.weights, super::fe::FeWeights::None) {
        return Err(StatsError::Invalid(
            "Callaway-Sant'Anna is available without weights only; leave out --weights and --events/--trials for it".into(),
        ));
    }
    if !p.covariates.is_empty() {
        return Err(StatsError::Invalid(
            "covariates need the doubly robust estimator: use wide_with_covariates and cs_att_gt_dr".into(),
        ));
    }
    let periods = super::did::distinct_periods(p.period);
    let nt = periods.len();
    let units = p.unit.iter().max().map_or(0, |&u| u as usize + 1);
    let mut y = vec![f64::NAN; units * nt];
    let first = p
        .unit_first_treated
        .get(..units)
        .ok_or_else(|| StatsError::Invalid("a first treated period per unit is missing".into()))?
        .to_vec();
    for i in 0..p.y.len() {
        let u = p.unit[i] as usize;
        let k = periods.binary_search(&p.period[i]).unwrap_or(0);
        if !y[u * nt + k].is_nan() {
            return Err(StatsError::Invalid(format!(
                "unit {u} has more than one row in period {}",
                p.period[i]
            )));
        }
        y[u * nt + k] = p.y[i];
    }
    if let Some(pos) = y.iter().position(|v| v.is_nan()) {
        return Err(StatsError::Invalid(format!(
            "unit {} has no row for period {}: Callaway-Sant'Anna needs a balanced panel (every unit in every period)",
            pos / nt,
            periods[pos % nt]
        )));
    }
    Ok((y, periods, first))
}

/// A multiplier bootstrap of influence functions: bootstrap standard errors and the
/// critical value of a uniform band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CsBootstrap {
    /// Per statistic; `None` when its bootstrap distribution is degenerate.
    pub std_error: Vec<Option<f64>>,
    /// The simultaneous critical value: the band est ± crit · se covers all statistics
    /// together with probability `conf_level`.
    pub crit_value: f64,
    pub reps: u64,
    pub seed: u64,
}

/// The multiplier bootstrap of R did's `mboot` (Callaway & Sant'Anna 2021, section 4.1
/// and algorithm 1), for the n-unit influence functions `psi` of K statistics:
///
/// - per draw b, Rademacher weights v_i = ±1 with probability ½ each (as R did ≥ 2.0 and
///   csdid; not Mammen's), one per unit, and R*_bk = n^{-1/2} Σ_i v_i ψ_ik;
/// - bootstrap SE_k = (q75 − q25)/(z75 − z25) / √n over the draws (the normal-scaled
///   interquartile range, robust to outlying draws), quantiles of type 1 (the inverse
///   empirical cdf, numpy `inverted_cdf`, as csdid);
/// - the critical value: the `conf_level` quantile (type 1) over the draws of
///   max_k |R*_bk| / (√n · SE_k), statistics with a degenerate distribution left out.
///
/// The weights come from ChaCha8 seeded with `seed` (64 signs per 64-bit word): the
/// same seed gives the same numbers; R and csdid draw with other generators, so their
/// numbers differ by Monte Carlo error only. Clustering is by unit (the influence
/// function is per unit). The sums are matrix products of blocks of signs and of
/// influence functions ([`multiplier_draws`]).
pub fn multiplier_bootstrap(
    psi: &[&[f64]],
    reps: u64,
    seed: u64,
    conf_level: f64,
) -> StatsResult<CsBootstrap> {
    let n = psi.first().map_or(0, |p| p.len());
    if psi.iter().any(|p| p.len() != n) {
        return Err(unequal_lengths());
    }
    bootstrap_by(n, psi.len(), reps, seed, conf_level, &|j, i0, out| {
        out.copy_from_slice(&psi[j][i0..i0 + out.len()]);
    })
}

fn unequal_lengths() -> StatsError {
    StatsError::Invalid("the multiplier bootstrap needs influence functions of equal length".into())
}

/// [`multiplier_bootstrap`] of `k` influence functions of `n` units read through
/// `fill` ([`multiplier_draws_by`]): the checks, the draws and their statistics.
fn bootstrap_by(
    n: usize,
    k: usize,
    reps: u64,
    seed: u64,
    conf_level: f64,
    fill: PsiRows,
) -> StatsResult<CsBootstrap> {
    if k == 0 || n < 2 {
        return Err(unequal_lengths());
    }
    if reps < 2 {
        return Err(StatsError::Invalid(
            "the multiplier bootstrap needs at least 2 draws".into(),
        ));
    }
    let draws = multiplier_draws_by(n, k, reps as usize, seed, fill);
    bootstrap_from_draws(&draws, n, k, reps, seed, conf_level)
}

/// The bootstrap SEs and the uniform critical value of [`multiplier_bootstrap`] from
/// its draws (draw-major, `reps` × `k`) of n-unit influence functions.
fn bootstrap_from_draws(
    draws: &[f64],
    n: usize,
    k: usize,
    reps: u64,
    seed: u64,
    conf_level: f64,
) -> StatsResult<CsBootstrap> {
    let root_n = (n as f64).sqrt();
    let quantile = |sorted: &[f64], p: f64| -> f64 {
        // Type 1: the smallest value with empirical cdf >= p.
        let m = sorted.len();
        let idx = ((p * m as f64).ceil() as usize).clamp(1, m) - 1;
        sorted[idx]
    };
    let iqr_z = super::dist::normal_quantile(0.75) - super::dist::normal_quantile(0.25);
    let mut sigma = vec![None; k];
    let mut col = vec![0.0; reps as usize];
    for (j, sig) in sigma.iter_mut().enumerate() {
        for b in 0..reps as usize {
            col[b] = draws[b * k + j];
        }
        col.sort_by(f64::total_cmp);
        let s = (quantile(&col, 0.75) - quantile(&col, 0.25)) / iqr_z;
        if s.is_finite() && s > 0.0 {
            *sig = Some(s);
        }
    }
    let mut max_t: Vec<f64> = (0..reps as usize)
        .map(|b| {
            (0..k)
                .filter_map(|j| sigma[j].map(|s| (draws[b * k + j] / s).abs()))
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .filter(|v| v.is_finite())
        .collect();
    if max_t.is_empty() {
        return Err(StatsError::NoVariance);
    }
    max_t.sort_by(f64::total_cmp);
    Ok(CsBootstrap {
        std_error: sigma.iter().map(|s| s.map(|s| s / root_n)).collect(),
        crit_value: quantile(&max_t, conf_level),
        reps,
        seed,
    })
}

/// Units and statistics per block of [`multiplier_draws`].
const DRAW_UNITS: usize = 1024;
const DRAW_STATS: usize = 256;

/// The bootstrap draws R*_bk = n^{-1/2} Σ_i v_ib ψ_ik, draw-major (`[b * K + k]`), with
/// v_ib = ±1 from ChaCha8 seeded with `seed`: per draw, one 64-bit word per 64 units in
/// unit order, bit i % 64 of word i / 64 set for +1. The sums over the units are
/// products of a block of signs (draws × 1024 units) with a block of influence
/// functions (1024 units × 256 statistics) by nalgebra's matrix product, the blocks of
/// statistics on all cores, added over the unit blocks in order (so a seed gives the
/// same numbers on every run). Memory: the signs as bits, one block of each kind per
/// core, and the draws.
pub fn multiplier_draws(psi: &[&[f64]], reps: usize, seed: u64) -> Vec<f64> {
    let n = psi.first().map_or(0, |p| p.len());
    multiplier_draws_by(n, psi.len(), reps, seed, &|j, i0, out| {
        out.copy_from_slice(&psi[j][i0..i0 + out.len()]);
    })
}

/// Writes rows i0.. of influence function j into `out` (as many as it holds).
type PsiRows<'a> = &'a (dyn Fn(usize, usize, &mut [f64]) + Sync);

/// [`multiplier_draws`] for `k` influence functions of `n` units read block by block
/// through `fill`, so that they need not be held in memory together.
fn multiplier_draws_by(n: usize, k: usize, reps: usize, seed: u64, fill: PsiRows) -> Vec<f64> {
    use nalgebra::DMatrix;
    use rand::{RngCore, SeedableRng};
    use rayon::prelude::*;
    let words = n.div_ceil(64);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let bits: Vec<u64> = (0..reps * words).map(|_| rng.next_u64()).collect();
    let blocks: Vec<(usize, usize)> = (0..k)
        .step_by(DRAW_STATS)
        .map(|k0| (k0, (k0 + DRAW_STATS).min(k)))
        .collect();
    let mut sums: Vec<DMatrix<f64>> = blocks
        .iter()
        .map(|&(k0, k1)| DMatrix::zeros(reps, k1 - k0))
        .collect();
    let mut signs = DMatrix::<f64>::zeros(reps, DRAW_UNITS);
    for i0 in (0..n).step_by(DRAW_UNITS) {
        let nb = DRAW_UNITS.min(n - i0);
        for r in 0..nb {
            let i = i0 + r;
            let col = signs.column_mut(r);
            for (b, v) in col.into_iter().enumerate() {
                let on = (bits[b * words + i / 64] >> (i % 64)) & 1 == 1;
                *v = if on { 1.0 } else { -1.0 };
            }
        }
        let s = signs.columns(0, nb);
        sums.par_iter_mut()
            .zip(&blocks)
            .for_each(|(acc, &(k0, k1))| {
                let mut block = DMatrix::<f64>::zeros(nb, k1 - k0);
                for (c, col) in block.as_mut_slice().chunks_exact_mut(nb).enumerate() {
                    fill(k0 + c, i0, col);
                }
                acc.gemm(1.0, &s, &block, 1.0);
            });
    }
    let root_n = (n as f64).sqrt();
    let mut draws = vec![0.0; reps * k];
    for (acc, &(k0, k1)) in sums.iter().zip(&blocks) {
        for j in k0..k1 {
            for b in 0..reps {
                draws[b * k + j] = acc[(b, j - k0)] / root_n;
            }
        }
    }
    draws
}

impl CsFit {
    /// The multiplier bootstrap over the ATT(g,t) cells, in the order of `cells`.
    /// The influence functions are computed block by block as the draws need them
    /// (none is held whole: on a monthly panel there are thousands of cells).
    pub fn bootstrap_cells(&self, reps: u64, seed: u64) -> StatsResult<CsBootstrap> {
        bootstrap_by(
            self.n,
            self.cells.len(),
            reps,
            seed,
            self.conf_level,
            &|j, i0, out| self.psi_rows(j, i0, out),
        )
    }

    /// The multiplier bootstrap over the event-time effects of [`CsFit::dynamic`], in
    /// its order (the overall effect is not part of the band).
    pub fn bootstrap_dynamic(&self, reps: u64, seed: u64) -> StatsResult<CsBootstrap> {
        let (parts, _) = self.dynamic_parts()?;
        let psi: Vec<&[f64]> = parts.iter().map(|p| p.2.as_slice()).collect();
        multiplier_bootstrap(&psi, reps, seed, self.conf_level)
    }
}

/// The wide form of a long panel with its covariates (for [`cs_att_gt_dr`]): the
/// outcomes, periods and first treated periods as [`wide_from_panel`], and per covariate
/// its values unit-major (`x[j][u * periods.len() + k]`). Fails when there are weights.
pub fn wide_with_covariates(p: &super::did::Panel) -> StatsResult<(Wide, Vec<Vec<f64>>)> {
    let plain = super::did::Panel {
        covariates: &[],
        ..*p
    };
    let (y, periods, first) = wide_from_panel(&plain)?;
    let nt = periods.len();
    // Not `vec![column; k]`: that makes (and fills) one column even for k = 0.
    let mut x: Vec<Vec<f64>> = (0..p.covariates.len())
        .map(|_| vec![f64::NAN; y.len()])
        .collect();
    for i in 0..p.y.len() {
        let k = periods.binary_search(&p.period[i]).unwrap_or(0);
        let at = p.unit[i] as usize * nt + k;
        for (xj, c) in x.iter_mut().zip(p.covariates) {
            xj[at] = c[i];
        }
    }
    Ok(((y, periods, first), x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    /// The draws one unit at a time, in the order the signs are drawn: the definition
    /// that [`multiplier_draws`] computes by blocks.
    fn draws_one_by_one(psi: &[&[f64]], reps: usize, seed: u64) -> Vec<f64> {
        let (k, n) = (psi.len(), psi[0].len());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut out = vec![0.0; reps * k];
        for b in 0..reps {
            let mut bits = 0u64;
            for i in 0..n {
                if i % 64 == 0 {
                    bits = rng.next_u64();
                }
                let v = if bits & 1 == 1 { 1.0 } else { -1.0 };
                for (o, p) in out[b * k..(b + 1) * k].iter_mut().zip(psi) {
                    *o += v * p[i];
                }
                bits >>= 1;
            }
        }
        let root_n = (n as f64).sqrt();
        out.iter_mut().for_each(|v| *v /= root_n);
        out
    }

    /// The blocked products give the one-by-one sums (to rounding), for unit and
    /// statistic counts that are not multiples of the blocks or of 64, across several
    /// blocks of each; and the same seed gives the same draws.
    #[test]
    fn blocked_draws_are_the_one_by_one_sums() {
        for (n, k, reps) in [(1, 1, 3), (100, 3, 17), (2_500, 300, 40), (1_024, 256, 9)] {
            let cols: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    (0..n)
                        .map(|i| ((i * 31 + j * 7) as f64 * 0.37).sin() * (1.0 + j as f64))
                        .collect()
                })
                .collect();
            let psi: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            let got = multiplier_draws(&psi, reps, 42);
            let want = draws_one_by_one(&psi, reps, 42);
            assert_eq!(got.len(), want.len());
            for (b, (g, w)) in got.iter().zip(&want).enumerate() {
                let j = b % k;
                let scale = (1.0 + j as f64) * (n as f64).sqrt();
                assert!((g - w).abs() <= 1e-12 * scale, "n {n} k {k}: {g} vs {w}");
            }
            assert_eq!(got, multiplier_draws(&psi, reps, 42));
        }
    }

    /// The cells' bootstrap, with the influence functions made block by block, is the
    /// bootstrap of the influence functions held whole, number for number, under both
    /// comparison groups (mean-based and stored influence functions).
    #[test]
    fn cell_bootstrap_by_blocks_is_the_bootstrap_of_the_whole_functions() {
        let (units, nt) = (1_500usize, 6usize);
        let periods: Vec<i64> = (1..=nt as i64).collect();
        let first: Vec<Option<i64>> = (0..units)
            .map(|u| match u % 4 {
                0 => Some(3),
                1 => Some(4),
                2 => Some(6),
                _ => None,
            })
            .collect();
        let y: Vec<f64> = (0..units * nt)
            .map(|i| {
                let (u, t) = (i / nt, i % nt + 1);
                let on = first[u].is_some_and(|g| t as i64 >= g);
                (u % 17) as f64
                    + 0.1 * t as f64
                    + f64::from(u8::from(on)) * 0.7
                    + ((i as f64) * 12.9898).sin()
            })
            .collect();
        for control in [CsControl::Never, CsControl::NotYet] {
            let f = cs_att_gt(&y, &periods, &first, control, 0.95).unwrap();
            let whole: Vec<Vec<f64>> = (0..f.cells.len())
                .map(|k| f.psi(k, &mut Vec::new()).to_vec())
                .collect();
            let psi: Vec<&[f64]> = whole.iter().map(Vec::as_slice).collect();
            let want = multiplier_bootstrap(&psi, 199, 11, 0.95).unwrap();
            assert_eq!(f.bootstrap_cells(199, 11).unwrap(), want);
        }
    }
}
