//! Sun & Abraham (2021), "Estimating dynamic treatment effects in event studies with
//! heterogeneous treatment effects", *J. Econometrics* 225(2), 175-199: the
//! interaction-weighted (IW) event study, estimator id `sun_abraham`.
//!
//! # Model
//!
//! One regression with unit and period effects absorbed and a dummy for every treated
//! cohort g and relative period e = t − g other than the reference (−1):
//!
//! y_it = α_i + λ_t + Σ_g Σ_{e ≠ ref} δ_{g,e} · 1[G_i = g] · 1[t − g = e] + x_it'γ + ε_it.
//!
//! The control cohort has no dummies: the never-treated units when there are any, else
//! the last-treated cohort, with the sample cut to the periods before it is treated
//! (Sun & Abraham 2021, section 4.2; the comparison is then "not yet treated by the end
//! of the sample"). δ_{g,e} is the cohort-specific effect CATT_{g,e} relative to
//! period g − 1. Units first treated after the last period count as never treated;
//! units treated from the first period on (no pre-period) are left out.
//!
//! # Aggregation (fixest conventions)
//!
//! The event-time effect ν_e = Σ_g w_{g,e} δ_{g,e} weights the cohorts by their share
//! of the rows at relative period e (fixest `aggregate()`: the column sums of the
//! dummies, times the regression weights when there are weights; the same as the
//! cohort shares Pr(G = g | G ∈ cohorts seen at e) on a balanced panel). The overall
//! ATT (fixest `summary(agg = "att")`, `sunab(att = TRUE)`) weights every post-period
//! cell (e ≥ 0) by its rows. Variances by the delta method from the CRV1 matrix of the
//! δ: Var(w'δ) = w' V w, the weights treated as fixed (fixest and pyfixest; Sun &
//! Abraham's own variance adds a term for estimating the shares, which this leaves out).
//!
//! CRV1 as in [`super::did`]: V = (N−1)/(N−K) · G/(G−1) · CR0 with K counting the fixed
//! effects as [`FeSmallSample`] says (fixest's default `nested`), t on G − 1 df (fixest's
//! coefficient table with a clustered vcov; fixest's `aggregate()` itself uses
//! t(N − K) and pyfixest's `aggregate()` the normal, for the same estimate and SE).
//!
//! Reference: pyfixest 0.60 `event_study(estimator = "saturated")` (the regression
//! `y ~ i(rel_time, cohort, ref = -1, ref2 = 0) | unit + year` of fixest's `sunab()`)
//! and its `aggregate(agg = "period", weighting = "shares")`, with the ATT computed by
//! hand on its coefficients (scripts/fixtures/make_sa_fixtures.py).

use serde::Serialize;

use super::did::{DUMMY_DESIGN_BUDGET, DidOptions, Panel, check_panel};
use super::did_balanced::CohortPanel;
use super::fe::{self, FeSmallSample, FeWeights};
use super::ols::Clusters;
use super::{Inference, StatsError, StatsResult};

/// The most work, rows × coefficients² (the QR of the regression and its CRV1 meat each
/// cost about that many multiply-adds), that one Sun & Abraham regression may take:
/// some seconds on an ordinary machine (2.3·10^9, 1,300 coefficients, took 1.3 s end to
/// end here). A fully saturated model on monthly data with many cohorts (10^4 units,
/// 97 monthly cohorts, 120 months: 11,543 coefficients) would take hours and tens of GB;
/// it gets an error that says what to do.
pub const SA_WORK_BUDGET: f64 = 2e10;

/// The comparison cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "cohort")]
pub enum SaControl {
    /// The never-treated units.
    Never,
    /// The last-treated cohort (first treated in this period); the sample ends the
    /// period before.
    LastTreated(i64),
}

/// One cohort-specific effect δ_{g,e} (CATT).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SaCell {
    pub group: i64,
    pub event_time: i64,
    pub inference: Inference,
    /// Rows of the cell (Σ weights with weights): its aggregation weight.
    pub weight: f64,
}

/// One interaction-weighted event-time effect ν_e.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SaEvent {
    pub event_time: i64,
    pub inference: Inference,
    /// Cohorts that contribute.
    pub cohorts: usize,
}

/// The Sun & Abraham event study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SaResult {
    pub cells: Vec<SaCell>,
    pub event: Vec<SaEvent>,
    /// The overall ATT (every post-period cell weighted by its rows).
    pub att: Inference,
    pub control: SaControl,
    pub reference: i64,
    /// The last period in the sample (the period before the control cohort starts when
    /// it is the last-treated cohort).
    pub last_period: i64,
    pub df_k: f64,
    pub clusters: usize,
    /// Rows in the regression.
    pub n: usize,
    pub small_sample: FeSmallSample,
    pub notes: Vec<String>,
}

/// The Sun & Abraham interaction-weighted event study (see the module docs).
pub fn sun_abraham(p: &Panel, reference: i64, opts: &DidOptions) -> StatsResult<SaResult> {
    check_panel(p)?;
    let sample = Sample::of(p);
    let cells = sample.cells(reference)?;
    let fast = match sample.cohort_tables(&cells, opts.small_sample)? {
        Some(fit) => Some(fit),
        None => sample.sparse(&cells, opts.small_sample, DUMMY_DESIGN_BUDGET)?,
    };
    let (coef, cov, weight) = match fast {
        Some(fit) => fit,
        None => {
            let (fit, cl, weight) = sample.regression(&cells)?;
            let cov = fit.cluster_vcov(&cl, opts.small_sample)?;
            (fit.coefficients().to_vec(), cov, weight)
        }
    };
    let est = Estimates {
        cells: &cells,
        weight: &weight,
        coef: &coef,
        cov: &cov,
        conf: opts.conf_level,
    };
    let out_cells = est.cells()?;
    let event = est.event()?;
    let post: Vec<usize> = (0..cells.len()).filter(|&k| cells[k].1 >= 0).collect();
    let att = est.combine(&post)?;
    Ok(SaResult {
        cells: out_cells,
        event,
        att,
        control: sample.control,
        reference,
        last_period: sample.end,
        df_k: cov.df_k,
        clusters: cov.clusters,
        n: sample.keep.len(),
        small_sample: opts.small_sample,
        notes: sample.notes,
    })
}

/// An error when the regression on `rows` rows with one coefficient per cell would
/// exceed [`SA_WORK_BUDGET`].
fn check_size(cells: &[(i64, i64)], rows: usize) -> StatsResult<()> {
    let k = cells.len() as f64;
    if rows as f64 * k * k <= SA_WORK_BUDGET {
        return Ok(());
    }
    let mut cohorts: Vec<i64> = cells.iter().map(|c| c.0).collect();
    cohorts.dedup();
    Err(StatsError::Invalid(format!(
        "Sun & Abraham needs one coefficient per treated cohort and period relative to its \
         start: {} here ({} cohorts), too many for one regression in \
         reasonable time and memory; use coarser periods (quarters or years instead of \
         months, so that there are fewer cohorts and relative periods), or the \
         Callaway-Sant'Anna estimates (--estimator cs), which have no such limit",
        cells.len(),
        cohorts.len()
    )))
}

/// The cohort of row `i` of `p`: cohorts after the last period `t_last` are never
/// treated (`None`).
fn cohort(p: &Panel, t_last: i64, i: usize) -> Option<i64> {
    p.first_treated(i).filter(|&g| g <= t_last)
}

/// The fitted cells: their slopes δ_{g,e}, the slopes' CRV1 matrix and each cell's rows
/// (Σ weights with weights).
type CellFit = (Vec<f64>, fe::FeCovariance, Vec<f64>);

/// The comparison cohort and the rows of the regression.
struct Sample<'a> {
    p: Panel<'a>,
    t_last: i64,
    control: SaControl,
    /// The last period in the sample.
    end: i64,
    /// The rows of `p` in the regression, in order.
    keep: Vec<usize>,
    notes: Vec<String>,
}

impl<'a> Sample<'a> {
    /// Choose the comparison cohort (the never treated, else the last-treated cohort
    /// with the sample cut before it starts) and the rows kept.
    fn of(p: &Panel<'a>) -> Self {
        let t_first = *p.period.iter().min().unwrap_or(&0);
        let t_last = *p.period.iter().max().unwrap_or(&0);
        // Cohorts after the last period are never treated; from the first period on, left out.
        let cohort = |i: usize| cohort(p, t_last, i);
        let mut notes = Vec::new();
        let always = (0..p.y.len()).any(|i| cohort(i).is_some_and(|g| g <= t_first));
        if always {
            notes.push(format!(
                "units treated from the first period ({t_first}) on have no period before treatment and are left out of Sun & Abraham"
            ));
        }
        let has_never = (0..p.y.len()).any(|i| cohort(i).is_none());
        let control = if has_never {
            SaControl::Never
        } else {
            let last = (0..p.y.len()).filter_map(cohort).max().unwrap_or(t_last);
            notes.push(format!(
                "no never-treated units: the last-treated cohort ({last}) is the comparison group, and Sun & Abraham uses the periods before {last} only"
            ));
            SaControl::LastTreated(last)
        };
        let end = match control {
            SaControl::Never => t_last,
            SaControl::LastTreated(l) => l - 1,
        };
        let keep: Vec<usize> = (0..p.y.len())
            .filter(|&i| p.period[i] <= end && cohort(i).is_none_or(|g| g > t_first))
            .collect();
        Self {
            p: *p,
            t_last,
            control,
            end,
            keep,
            notes,
        }
    }

    /// The cohort of row `i` (see [`cohort`]).
    fn cohort(&self, i: usize) -> Option<i64> {
        cohort(&self.p, self.t_last, i)
    }

    /// Whether cohort `g` is the comparison cohort.
    fn is_control(&self, g: Option<i64>) -> bool {
        match (self.control, g) {
            (SaControl::Never, None) => true,
            (SaControl::LastTreated(l), Some(g)) => g == l,
            _ => false,
        }
    }

    /// The cells (g, e) of the treated cohorts in the sample, sorted, without the
    /// reference period; an error when there is nothing to estimate or a cohort is not
    /// seen at the reference period.
    fn cells(&self, reference: i64) -> StatsResult<Vec<(i64, i64)>> {
        let p = &self.p;
        let mut cells: Vec<(i64, i64)> = self
            .keep
            .iter()
            .filter_map(|&i| {
                let g = self.cohort(i);
                (!self.is_control(g)).then(|| g.map(|g| (g, p.period[i] - g)))?
            })
            .filter(|&(_, e)| e != reference)
            .collect();
        cells.sort_unstable();
        cells.dedup();
        let groups: Vec<i64> = {
            let mut g: Vec<i64> = cells.iter().map(|c| c.0).collect();
            g.dedup();
            g
        };
        if groups.is_empty() {
            return Err(StatsError::Invalid(
                "Sun & Abraham: no treated cohort besides the comparison cohort has periods in the sample".into(),
            ));
        }
        if !cells.iter().any(|c| c.1 >= 0) {
            return Err(StatsError::Invalid(
                "Sun & Abraham: no treated cohort is observed after its start before the comparison cohort starts".into(),
            ));
        }
        for &g in &groups {
            let seen = self
                .keep
                .iter()
                .any(|&i| self.cohort(i) == Some(g) && p.period[i] - g == reference);
            if !seen {
                return Err(StatsError::Invalid(format!(
                    "Sun & Abraham: cohort {g} is not observed at the reference period {reference} (period {}); choose another with --reference",
                    g + reference
                )));
            }
        }
        Ok(cells)
    }

    /// The index in `cells` of the indicator of a unit first treated in `first` (as
    /// given, before [`cohort`]'s cut), in period `t`: none for the comparison cohort,
    /// the never treated and the reference period.
    fn cell(&self, cells: &[(i64, i64)], first: Option<i64>, t: i64) -> Option<usize> {
        let g = first.filter(|&g| g <= self.t_last && !self.is_control(Some(g)))?;
        cells.binary_search(&(g, t - g)).ok()
    }

    /// The dummies δ_{g,e} of `cells` over the kept rows, and each cell's rows (Σ of
    /// the kept weights `w` with weights).
    fn dummies(&self, cells: &[(i64, i64)], w: Option<&[f64]>) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut cols = vec![vec![0.0; self.keep.len()]; cells.len()];
        let mut weight = vec![0.0; cells.len()];
        for (r, &i) in self.keep.iter().enumerate() {
            if let Some(k) = self.cell(cells, self.p.first_treated(i), self.p.period[i]) {
                cols[k][r] = 1.0;
                weight[k] += w.map_or(1.0, |w| w[r]);
            }
        }
        (cols, weight)
    }

    /// The error for a regressor the unit and period effects absorb or that is
    /// collinear: a cell's indicator (index below the cells) or a covariate.
    fn collinear(cells: &[(i64, i64)], index: usize) -> StatsError {
        if index < cells.len() {
            let (g, e) = cells[index];
            StatsError::Invalid(format!(
                "Sun & Abraham: the indicator of cohort {g} at relative period {e} is collinear with the unit and period effects (too few comparison units in period {})",
                g + e
            ))
        } else {
            super::did::absorbed_covariate(index - cells.len())
        }
    }

    /// The regression by cohort-by-period tables ([`CohortPanel`]), when every row is
    /// kept and the panel is balanced, unweighted and clustered by unit (the indicators
    /// depend on the cohort and the period only; covariates follow them): the slopes,
    /// their CRV1 matrix and each cell's rows. The same slopes and matrix as
    /// [`Self::regression`] up to rounding (tested); `None` when it does not apply.
    fn cohort_tables(
        &self,
        cells: &[(i64, i64)],
        rule: FeSmallSample,
    ) -> StatsResult<Option<CellFit>> {
        if self.keep.len() != self.p.y.len() {
            return Ok(None);
        }
        let Some(cp) = CohortPanel::of(&self.p) else {
            return Ok(None);
        };
        check_size(cells, (cp.cohorts.len() * cp.nt).max(cells.len() + 1))?;
        let indicator = |g: Option<i64>, t: i64, out: &mut [f64]| {
            if let Some(k) = self.cell(cells, g, t) {
                out[k] = 1.0;
            }
        };
        let (coef, cov) = cp.fit(cells.len(), &indicator, rule).map_err(|e| match e {
            StatsError::Collinear { index } => Self::collinear(cells, index),
            e => e,
        })?;
        // Rows per cell: the cohort's units, once per period.
        let mut weight = vec![0.0; cells.len()];
        for (c, &g) in cp.cohorts.iter().enumerate() {
            for k in 0..cp.nt {
                if let Some(j) = self.cell(cells, g, cp.period(k)) {
                    weight[j] += cp.n_c[c] as f64;
                }
            }
        }
        Ok(Some((coef, cov, weight)))
    }

    /// The regression by the sparse normal equations ([`super::did_sparse`]), when every
    /// row is kept, the panel is unweighted and clustered by unit and the dummies would
    /// exceed `budget` cells (the unbalanced panels that [`Self::cohort_tables`] does
    /// not take): the slopes, their CRV1 matrix and each cell's rows; `None` when it
    /// does not apply. Its work grows with the cube of the cells, which
    /// [`check_size`] bounds.
    fn sparse(
        &self,
        cells: &[(i64, i64)],
        rule: FeSmallSample,
        budget: usize,
    ) -> StatsResult<Option<CellFit>> {
        let p = &self.p;
        if self.keep.len() != p.y.len() || !super::did_sparse::applies(p, cells.len(), budget) {
            return Ok(None);
        }
        check_size(cells, cells.len() + 1)?;
        let mut weight = vec![0.0; cells.len()];
        let index: Vec<u32> = (0..p.y.len())
            .map(
                |i| match self.cell(cells, p.first_treated(i), p.period[i]) {
                    Some(k) => {
                        weight[k] += 1.0;
                        k as u32
                    }
                    None => super::did_sparse::NONE,
                },
            )
            .collect();
        let fit = super::did_sparse::fit(p, &index, cells.len(), rule).map_err(|e| match e {
            StatsError::Collinear { index } => Self::collinear(cells, index),
            e => e,
        })?;
        Ok(fit.map(|(coef, cov)| (coef, cov, weight)))
    }

    /// The regression on the kept rows with unit and period effects absorbed: its fit,
    /// the clusters of its rows and each cell's rows.
    fn regression(&self, cells: &[(i64, i64)]) -> StatsResult<(fe::FeFit, Clusters, Vec<f64>)> {
        let (p, keep) = (&self.p, &self.keep);
        check_size(cells, keep.len())?;
        let pick = |v: &[f64]| -> Vec<f64> { keep.iter().map(|&i| v[i]).collect() };
        let y = pick(p.y);
        let w: Option<Vec<f64>> = match p.weights {
            FeWeights::None => None,
            FeWeights::Analytic(w) | FeWeights::Frequency(w) => Some(pick(w)),
        };
        let weights = match (&w, p.weights) {
            (Some(w), FeWeights::Frequency(_)) => FeWeights::Frequency(w),
            (Some(w), _) => FeWeights::Analytic(w),
            (None, _) => FeWeights::None,
        };
        let covs: Vec<Vec<f64>> = p.covariates.iter().map(|c| pick(c)).collect();
        let (cols, weight) = self.dummies(cells, w.as_deref());
        let mut x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        x.extend(covs.iter().map(Vec::as_slice));
        let units = p.unit.iter().max().map_or(0, |&u| u as usize + 1);
        let unit = Clusters::from_ranked_codes(keep.iter().map(|&i| p.unit[i]).collect(), units);
        let period_codes: Vec<i64> = keep.iter().map(|&i| p.period[i]).collect();
        let period = Clusters::from_sorted_labels(&period_codes);
        let cluster_codes: Vec<u32> = keep.iter().map(|&i| p.cluster[i]).collect();
        let cl = Clusters::from_sorted_labels(&cluster_codes);
        let fit = match fe::feols_weighted(&y, &x, &[&unit, &period], weights) {
            Err(StatsError::Collinear { index }) => return Err(Self::collinear(cells, index)),
            r => r?,
        };
        Ok((fit, cl, weight))
    }
}

/// The cell estimates δ_{g,e} with their CRV1 matrix, and what aggregating them needs.
struct Estimates<'a> {
    cells: &'a [(i64, i64)],
    /// Each cell's rows (Σ weights with weights).
    weight: &'a [f64],
    coef: &'a [f64],
    cov: &'a fe::FeCovariance,
    conf: f64,
}

impl Estimates<'_> {
    /// The cohort-specific effects, one per cell.
    fn cells(&self) -> StatsResult<Vec<SaCell>> {
        let mut out_cells = Vec::with_capacity(self.cells.len());
        for (k, &(g, e)) in self.cells.iter().enumerate() {
            let se = self.cov.matrix[(k, k)].sqrt();
            if !super::above(se, 0.0) {
                return Err(StatsError::NoVariance);
            }
            out_cells.push(SaCell {
                group: g,
                event_time: e,
                inference: Inference::wald(self.coef[k], se, Some(self.cov.df), self.conf),
                weight: self.weight[k],
            });
        }
        Ok(out_cells)
    }

    /// w'δ and √(w'Vw) over the cells `idx` with weights ∝ their rows.
    fn combine(&self, idx: &[usize]) -> StatsResult<Inference> {
        let (weight, coef) = (self.weight, self.coef);
        let total: f64 = idx.iter().map(|&k| weight[k]).sum();
        let est = idx.iter().map(|&k| weight[k] * coef[k]).sum::<f64>() / total;
        let mut var = 0.0;
        for &a in idx {
            for &b in idx {
                var += weight[a] * weight[b] * self.cov.matrix[(a, b)];
            }
        }
        let se = var.max(0.0).sqrt() / total;
        if !super::above(se, 0.0) {
            return Err(StatsError::NoVariance);
        }
        Ok(Inference::wald(est, se, Some(self.cov.df), self.conf))
    }

    /// The event-time effects ν_e, one per relative period in order.
    fn event(&self) -> StatsResult<Vec<SaEvent>> {
        let cells = self.cells;
        let mut times: Vec<i64> = cells.iter().map(|c| c.1).collect();
        times.sort_unstable();
        times.dedup();
        let mut event = Vec::with_capacity(times.len());
        for &e in &times {
            let idx: Vec<usize> = (0..cells.len()).filter(|&k| cells[k].1 == e).collect();
            event.push(SaEvent {
                event_time: e,
                inference: self.combine(&idx)?,
                cohorts: idx.len(),
            });
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 9 units x 5 periods: three cohorts (2, 3, never), effects growing with time since
    /// the start, no noise: the cells recover the effects exactly.
    #[test]
    fn exact_effects_are_recovered_without_noise() {
        let (mut y, mut u, mut t, mut g) = (vec![], vec![], vec![], vec![]);
        for unit in 0..9u32 {
            let first = match unit % 3 {
                0 => Some(2),
                1 => Some(3),
                _ => None,
            };
            for period in 0..5i64 {
                let eff = first.map_or(0.0, |f| {
                    if period >= f {
                        1.0 + (period - f) as f64
                    } else {
                        0.0
                    }
                });
                y.push(
                    f64::from(unit) * 0.7
                        + (period as f64).powi(2) * 0.1
                        + eff
                        + 0.01 * ((unit * 5 + period as u32) as f64).sin(),
                );
                u.push(unit);
                t.push(period);
                g.push(first);
            }
        }
        let p = Panel {
            y: &y,
            unit: &u,
            period: &t,
            unit_first_treated: &super::super::did::unit_first_treated(&u, &g).unwrap(),
            cluster: &u,
            covariates: &[],
            weights: FeWeights::None,
        };
        let r = sun_abraham(&p, -1, &DidOptions::default()).unwrap();
        assert_eq!(r.control, SaControl::Never);
        for e in &r.event {
            let want = if e.event_time >= 0 {
                1.0 + e.event_time as f64
            } else {
                0.0
            };
            assert!((e.inference.estimate - want).abs() < 0.05, "{e:?}");
        }
        // Cohort 2: e = 0, 1, 2 (3 cells of 3 units); cohort 3: e = 0, 1 (2 cells).
        // ATT = (1 + 2 + 3 + 1 + 2)/5 rows-weighted = 9/5.
        assert!((r.att.estimate - 1.8).abs() < 0.05);
    }

    /// A saturated model too large for one regression (one cohort per period over 150
    /// periods: about 11,000 cells) is refused at once, on the balanced path and on the
    /// general one (one row left out makes the panel unbalanced), with what to do.
    #[test]
    fn too_many_cells_is_an_error_that_says_what_to_do() {
        let periods = 150i64;
        let (mut y, mut u, mut t, mut g) = (vec![], vec![], vec![], vec![]);
        for unit in 0..300u32 {
            let first = (unit % 2 == 0).then(|| 2 + i64::from(unit / 2) % (periods - 4));
            for period in 0..periods {
                y.push(f64::from(unit % 7) + 0.01 * period as f64);
                u.push(unit);
                t.push(period);
                g.push(first);
            }
        }
        for drop_one in [false, true] {
            let n = y.len() - usize::from(drop_one);
            let first = super::super::did::unit_first_treated(&u[..n], &g[..n]).unwrap();
            let p = Panel {
                y: &y[..n],
                unit: &u[..n],
                period: &t[..n],
                unit_first_treated: &first,
                cluster: &u[..n],
                covariates: &[],
                weights: FeWeights::None,
            };
            let e = sun_abraham(&p, -1, &DidOptions::default())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("coarser periods") && e.contains("--estimator cs"),
                "{e}"
            );
        }
    }

    /// A staggered panel over periods 2..=9: unit u in cohort `cohorts[u % len]`,
    /// effects growing with time since the start and differing by cohort, a covariate
    /// that varies by row (and moves the outcome), noise from a fixed sine sequence; the
    /// unit-periods where `missing` holds are left out. Returns y, unit, period, first
    /// treated period per row and the covariate.
    #[allow(clippy::type_complexity)]
    fn staggered(
        units: u32,
        cohorts: &[Option<i64>],
        missing: impl Fn(u32, i64) -> bool,
    ) -> (Vec<f64>, Vec<u32>, Vec<i64>, Vec<Option<i64>>, Vec<f64>) {
        let (mut y, mut u, mut t, mut g, mut z) = (vec![], vec![], vec![], vec![], vec![]);
        for unit in 0..units {
            let first = cohorts[unit as usize % cohorts.len()];
            for period in 2..=9i64 {
                if missing(unit, period) {
                    continue;
                }
                let eff = first
                    .filter(|&f| period >= f)
                    .map_or(0.0, |f| 0.5 + 0.3 * (period - f) as f64 + 0.1 * f as f64);
                let noise = ((unit * 31 + period as u32 * 7) as f64).sin();
                z.push(((unit * 17 + period as u32 * 5) as f64).cos() + 0.1 * period as f64);
                y.push(
                    100.0 + f64::from(unit % 13) + 0.2 * period as f64 + eff + noise
                        - 0.7 * z[z.len() - 1],
                );
                u.push(unit);
                t.push(period);
                g.push(first);
            }
        }
        (y, u, t, g, z)
    }

    /// On a balanced, unweighted panel clustered by unit the cohort tables give the
    /// regression's cells, event-time effects, ATT, standard errors, df and clusters
    /// (unit weights of 1 take the general regression with the same numbers), under
    /// both small-sample rules, without and with a covariate that varies by row; a cohort
    /// after the last period counts as never treated.
    #[test]
    fn cohort_tables_give_the_general_regression() {
        let cohorts = [Some(4), Some(6), Some(7), Some(12), None];
        let (y, u, t, g, z) = staggered(80, &cohorts, |_, _| false);
        let ones = vec![1.0; y.len()];
        let first = super::super::did::unit_first_treated(&u, &g).unwrap();
        let zs: [&[f64]; 1] = [&z];
        for covariates in [&[][..], &zs[..]] {
            let fast = Panel::by_unit(&y, &u, &t, &first, covariates);
            let general = Panel {
                weights: FeWeights::Analytic(&ones),
                ..fast
            };
            let sample = Sample::of(&fast);
            let cells = sample.cells(-1).unwrap();
            assert!(
                sample
                    .cohort_tables(&cells, FeSmallSample::Nested)
                    .unwrap()
                    .is_some()
            );
            assert!(
                Sample::of(&general)
                    .cohort_tables(&cells, FeSmallSample::Nested)
                    .unwrap()
                    .is_none()
            );
            let close = |a: f64, b: f64, what: &str| {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{what}: {a} vs {b}"
                );
            };
            for rule in [FeSmallSample::Nested, FeSmallSample::All] {
                let opts = DidOptions {
                    small_sample: rule,
                    ..DidOptions::default()
                };
                let a = sun_abraham(&fast, -1, &opts).unwrap();
                let b = sun_abraham(&general, -1, &opts).unwrap();
                assert_eq!((a.df_k, a.clusters, a.n), (b.df_k, b.clusters, b.n));
                assert_eq!(a.cells.len(), b.cells.len());
                for (x, z) in a.cells.iter().zip(&b.cells) {
                    assert_eq!(
                        (x.group, x.event_time, x.weight),
                        (z.group, z.event_time, z.weight)
                    );
                    close(x.inference.estimate, z.inference.estimate, "cell");
                    close(x.inference.std_error, z.inference.std_error, "cell SE");
                }
                for (x, z) in a.event.iter().zip(&b.event) {
                    assert_eq!((x.event_time, x.cohorts), (z.event_time, z.cohorts));
                    close(x.inference.estimate, z.inference.estimate, "event");
                    close(x.inference.std_error, z.inference.std_error, "event SE");
                    close(x.inference.p_value, z.inference.p_value, "event p");
                }
                close(a.att.estimate, b.att.estimate, "ATT");
                close(a.att.std_error, b.att.std_error, "ATT SE");
            }
        }
    }

    /// On an unbalanced, unweighted panel clustered by unit the sparse normal equations
    /// give the regression's cell estimates, their CRV1 matrix and each cell's rows,
    /// without and with a covariate, under both small-sample rules.
    #[test]
    fn the_sparse_fit_gives_the_general_regression() {
        let cohorts = [Some(4), Some(6), Some(7), None];
        let (y, u, t, g, z) = staggered(90, &cohorts, |unit, period| {
            (unit * 5 + period as u32 * 3).is_multiple_of(7)
        });
        let first = super::super::did::unit_first_treated(&u, &g).unwrap();
        let zs: [&[f64]; 1] = [&z];
        for covariates in [&[][..], &zs[..]] {
            let p = Panel::by_unit(&y, &u, &t, &first, covariates);
            let sample = Sample::of(&p);
            let cells = sample.cells(-1).unwrap();
            assert!(
                sample
                    .cohort_tables(&cells, FeSmallSample::Nested)
                    .unwrap()
                    .is_none()
            );
            // Under the budget the regression is used.
            assert!(
                sample
                    .sparse(&cells, FeSmallSample::Nested, DUMMY_DESIGN_BUDGET)
                    .unwrap()
                    .is_none()
            );
            for rule in [FeSmallSample::Nested, FeSmallSample::All] {
                let (coef, cov, weight) = sample.sparse(&cells, rule, 0).unwrap().unwrap();
                let (fit, cl, want_weight) = sample.regression(&cells).unwrap();
                let want = fit.cluster_vcov(&cl, rule).unwrap();
                assert_eq!(weight, want_weight);
                assert_eq!((cov.df_k, cov.clusters), (want.df_k, want.clusters));
                for (a, b) in coef.iter().zip(fit.coefficients()) {
                    assert!((a - b).abs() <= 1e-8 * b.abs().max(1e-3), "{a} vs {b}");
                }
                for j in 0..coef.len() {
                    let (a, b) = (cov.matrix[(j, j)], want.matrix[(j, j)]);
                    assert!((a - b).abs() <= 1e-8 * b, "V[{j},{j}]: {a} vs {b}");
                }
            }
        }
    }
}
