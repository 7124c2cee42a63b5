//! True values of the time-to-event estimands the analysis reports, beside the
//! configured (conditional) hazard ratio: restricted mean survival time (RMST)
//! differences, survival differences at the reporting times, and the hazard ratio an
//! unadjusted Cox model converges to (the marginal hazard ratio).
//!
//! All are defined over the treated units of an effect entry, each under its own arm
//! against under control (its counterfactual), from the Weibull proportional-hazards
//! model of the generator ([`Weibull`]): a unit with linear predictor `lp` has
//! survival S(t) = exp(−a t^k), a = ln 2 · e^lp / median^k, k the shape. Nothing here
//! draws from the generator's random streams.

use serde::Serialize;

use super::draw::Weibull;

/// Mean survival of the treated units under their own arm (`treated`) and under
/// control (`control`) at `time`; `difference` = treated − control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurvivalDifference {
    pub time: f64,
    pub treated: f64,
    pub control: f64,
    pub difference: f64,
}

/// Weighted mean of `f(i)` over units with weights `w`; NaN without weight.
fn weighted_mean(w: &[f64], f: impl Fn(usize) -> f64) -> f64 {
    let (num, den) = (0..w.len()).fold((0.0, 0.0), |(n, d), i| (n + w[i] * f(i), d + w[i]));
    if den > 0.0 { num / den } else { f64::NAN }
}

/// The treated units of an effect entry: linear predictors under their own arm and
/// under control, and their weights.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Units<'a> {
    pub lp_own: &'a [f64],
    pub lp_ctrl: &'a [f64],
    pub weight: &'a [f64],
}

/// RMST difference to `horizon`, treated minus control: the weighted mean over units
/// of E[min(T, h)] under the own arm minus under control ([`Weibull::restricted_mean`],
/// a closed form in the lower incomplete gamma function; exact to its precision).
pub(crate) fn rmst_difference(wb: &Weibull, horizon: f64, u: Units) -> f64 {
    weighted_mean(u.weight, |i| {
        wb.restricted_mean(horizon, u.lp_own[i]) - wb.restricted_mean(horizon, u.lp_ctrl[i])
    })
}

/// Mean survival S1(t) = mean of 1 − F(t | lp_own) and S0(t) likewise with lp_ctrl at
/// each of `times`, and S1 − S0 (closed form, exact).
pub(crate) fn survival_differences(
    wb: &Weibull,
    times: &[f64],
    u: Units,
) -> Vec<SurvivalDifference> {
    times
        .iter()
        .map(|&t| {
            let treated = weighted_mean(u.weight, |i| 1.0 - wb.cdf(t, u.lp_own[i]));
            let control = weighted_mean(u.weight, |i| 1.0 - wb.cdf(t, u.lp_ctrl[i]));
            SurvivalDifference {
                time: t,
                treated,
                control,
                difference: treated - control,
            }
        })
        .collect()
}

/// One stratum of the limiting Cox score: its treated units (under both arms), and
/// the (weighted) numbers of treated and control units in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoxStratum<'a> {
    pub units: Units<'a>,
    pub n_treated: f64,
    pub n_control: f64,
}

/// Censoring of the simulated times: administrative end at `follow_up` and
/// exponential dropout at rate `dropout` (0: none), so G(t) = exp(−dropout·t) on
/// [0, follow_up].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Censoring {
    pub follow_up: f64,
    pub dropout: f64,
}

/// The limit of the unadjusted Cox hazard ratio and a bound on its numerical error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MarginalHr {
    pub hazard_ratio: f64,
    pub error_bound: f64,
}

/// Gauss-Legendre panels over the substituted variable v ∈ [0, 1] (see [`Nodes`]).
const PANELS: usize = 64;
/// Points of the Gauss-Legendre rule on each panel.
const POINTS: usize = 10;
/// Bracket and tolerance of the bisection for the log hazard ratio.
const BETA_RANGE: f64 = 10.0;
const BETA_TOL: f64 = 1e-12;

/// Nodes and weights of the n-point Gauss-Legendre rule on [−1, 1]: the roots of the
/// Legendre polynomial P_n by Newton's method from x = cos(π(i + 3/4)/(n + 1/2)), and
/// weights 2 / ((1 − x²) P_n'(x)²) (Press et al., Numerical Recipes, 3rd ed., §4.6).
/// Exact for polynomials of degree up to 2n − 1.
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let nf = n as f64;
    (0..n)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                // Three-term recurrence: p1 = P_n(x), p0 = P_{n−1}(x).
                let (mut p0, mut p1) = (1.0, x);
                for j in 2..=n {
                    let jf = j as f64;
                    let p2 = ((2.0 * jf - 1.0) * x * p1 - (jf - 1.0) * p0) / jf;
                    p0 = p1;
                    p1 = p2;
                }
                dp = nf * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-15 {
                    break;
                }
            }
            (x, 2.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

/// A stratum's units reduced to distinct Weibull rates (units with equal linear
/// predictors merged) with weights that sum to 1, so that one pass over them gives
/// the stratum's mean survival and density at a time.
struct Rates {
    rate: Vec<f64>,
    weight: Vec<f64>,
}

impl Rates {
    fn new(wb: &Weibull, lp: &[f64], weight: &[f64]) -> Self {
        let total: f64 = weight.iter().sum();
        let mut pairs: Vec<(f64, f64)> = lp
            .iter()
            .zip(weight)
            .filter(|(_, w)| **w > 0.0)
            .map(|(l, w)| (wb.rate(*l), *w / total))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Rates {
            rate: Vec::new(),
            weight: Vec::new(),
        };
        for (r, w) in pairs {
            match (out.rate.last(), out.weight.last_mut()) {
                (Some(last), Some(lw)) if *last == r => *lw += w,
                _ => {
                    out.rate.push(r);
                    out.weight.push(w);
                }
            }
        }
        out
    }

    /// Mean survival Σ w e^(−a u) and Σ w a e^(−a u) at u = t^k (the density is this
    /// times k t^(k−1)).
    fn at(&self, u: f64) -> (f64, f64) {
        self.rate
            .iter()
            .zip(&self.weight)
            .fold((0.0, 0.0), |(s, f), (a, w)| {
                let e = w * (-a * u).exp();
                (s + e, f + a * e)
            })
    }
}

/// One quadrature node of one stratum: the node's weight times G(t) dt/dv, and the
/// mean survival and density of the stratum's treated units under treatment (1) and
/// under control (0) at t.
struct Node {
    c: f64,
    s1: f64,
    s0: f64,
    f1: f64,
    f0: f64,
}

/// The nodes of `panels` composite Gauss-Legendre panels for one stratum, in the
/// variable v with t = F v^m, m = ⌈4/k⌉: then dt = m F v^(m−1) dv and the density's
/// t^(k−1) become v^(mk−1) with mk ≥ 4, smooth enough at 0 for any shape k, while
/// G and S stay smooth in v (m is an integer).
fn nodes(wb: &Weibull, st: &CoxStratum, cens: Censoring, panels: usize) -> Vec<Node> {
    let k = wb.shape;
    let m = (4.0 / k).ceil().max(1.0);
    let f = cens.follow_up;
    let own = Rates::new(wb, st.units.lp_own, st.units.weight);
    let ctrl = Rates::new(wb, st.units.lp_ctrl, st.units.weight);
    let rule = gauss_legendre(POINTS);
    let h = 1.0 / panels as f64;
    let mut out = Vec::with_capacity(panels * POINTS);
    for p in 0..panels {
        let a = p as f64 * h;
        for &(x, w) in &rule {
            let v = a + h * (x + 1.0) / 2.0;
            let t = f * v.powf(m);
            let dt_dv = m * f * v.powf(m - 1.0);
            let g = (-cens.dropout * t).exp();
            let u = t.powf(k);
            let dens = k * t.powf(k - 1.0);
            let (s1, r1) = own.at(u);
            let (s0, r0) = ctrl.at(u);
            out.push(Node {
                c: w * h / 2.0 * g * dt_dv,
                s1,
                s0,
                f1: r1 * dens,
                f0: r0 * dens,
            });
        }
    }
    out
}

/// The limiting partial-likelihood score of the treatment coefficient β (Struthers &
/// Kalbfleisch 1986, Biometrika 73:363-369; Lin & Wei 1989, JASA 84:1074-1078):
/// U(β) = Σ_s ∫_0^F G(t) [N1 f1(t) − N1 e^β S1(t) (N0 f0(t) + N1 f1(t)) /
/// (N0 S0(t) + N1 e^β S1(t))] dt, decreasing in β.
fn score(strata: &[(f64, f64, Vec<Node>)], beta: f64) -> f64 {
    let eb = beta.exp();
    strata
        .iter()
        .map(|(n1, n0, nodes)| {
            nodes
                .iter()
                .map(|q| {
                    let den = n0 * q.s0 + n1 * eb * q.s1;
                    let risk = if den > 0.0 {
                        n1 * eb * q.s1 * (n0 * q.f0 + n1 * q.f1) / den
                    } else {
                        0.0
                    };
                    q.c * (n1 * q.f1 - risk)
                })
                .sum::<f64>()
        })
        .sum()
}

/// The root β* of [`score`] on `panels` panels, by bisection on [−10, 10] to 1e-12;
/// None when the score does not change sign there (no events, or |β*| > 10).
fn limit(wb: &Weibull, strata: &[CoxStratum], cens: Censoring, panels: usize) -> Option<f64> {
    let prepared: Vec<(f64, f64, Vec<Node>)> = strata
        .iter()
        .filter(|s| s.n_treated > 0.0 && s.n_control > 0.0)
        .map(|s| (s.n_treated, s.n_control, nodes(wb, s, cens, panels)))
        .collect();
    let (mut lo, mut hi) = (-BETA_RANGE, BETA_RANGE);
    if prepared.is_empty() || !(score(&prepared, lo) > 0.0 && score(&prepared, hi) < 0.0) {
        return None;
    }
    while hi - lo > BETA_TOL {
        let mid = 0.5 * (lo + hi);
        if score(&prepared, mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// The hazard ratio an unadjusted Cox model (treatment indicator only, stratified by
/// `strata`) converges to: exp(β*) with β* the root of the limiting score. Under
/// covariate or cluster spread this marginal ratio lies closer to 1 than the
/// conditional one (non-collapsibility); without spread the two agree. The error bound
/// is the change from half the panels plus the bisection tolerance.
pub(crate) fn marginal_hazard_ratio(
    wb: &Weibull,
    strata: &[CoxStratum],
    cens: Censoring,
) -> Option<MarginalHr> {
    let fine = limit(wb, strata, cens, PANELS)?.exp();
    let coarse = limit(wb, strata, cens, PANELS / 2)?.exp();
    Some(MarginalHr {
        hazard_ratio: fine,
        error_bound: (fine - coarse).abs() + BETA_TOL * fine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::draw::{self, SimRng};
    use crate::stats::survival::cox_ph;
    use rand::SeedableRng;

    #[test]
    fn gauss_legendre_is_exact_for_polynomials_of_degree_19() {
        let rule = gauss_legendre(POINTS);
        for d in 0..20 {
            let q: f64 = rule.iter().map(|(x, w)| w * x.powi(d)).sum();
            let exact = if d % 2 == 0 {
                2.0 / (d as f64 + 1.0)
            } else {
                0.0
            };
            assert!((q - exact).abs() < 1e-13, "degree {d}: {q} vs {exact}");
        }
    }

    #[test]
    fn without_covariate_spread_the_marginal_hr_is_the_configured_one() {
        for (shape, dropout, hr) in [(0.8, 0.05, 1.5), (1.1, 0.0, 1.06), (1.7, 0.2, 0.6)] {
            let wb = Weibull { median: 8.0, shape };
            let lp_ctrl = vec![0.3; 50];
            let lp_own: Vec<f64> = lp_ctrl.iter().map(|l| l + f64::ln(hr)).collect();
            let weight = vec![1.0; 50];
            let st = CoxStratum {
                units: Units {
                    lp_own: &lp_own,
                    lp_ctrl: &lp_ctrl,
                    weight: &weight,
                },
                n_treated: 50.0,
                n_control: 400.0,
            };
            let cens = Censoring {
                follow_up: 24.0,
                dropout,
            };
            let m = marginal_hazard_ratio(&wb, &[st], cens).expect("a limit");
            assert!(
                (m.hazard_ratio - hr).abs() < 1e-9,
                "{} vs {hr}",
                m.hazard_ratio
            );
            assert!(m.error_bound < 1e-9);
        }
    }

    #[test]
    fn rmst_difference_matches_a_numerical_integral_of_the_survival_difference() {
        let wb = Weibull {
            median: 8.0,
            shape: 1.3,
        };
        let lp_ctrl = [-0.5, 0.0, 0.2, 0.9];
        let lp_own: Vec<f64> = lp_ctrl.iter().map(|l| l + 0.25).collect();
        let weight = [1.0, 2.0, 1.0, 3.0];
        let u = Units {
            lp_own: &lp_own,
            lp_ctrl: &lp_ctrl,
            weight: &weight,
        };
        let h = 18.0;
        // Composite Simpson on [0, h] of S1(t) − S0(t).
        let steps = 20_000;
        let dt = h / steps as f64;
        let times: Vec<f64> = (0..=steps).map(|i| i as f64 * dt).collect();
        let d = survival_differences(&wb, &times, u);
        let simpson: f64 = d
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let c = if i == 0 || i == steps {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                c * p.difference
            })
            .sum::<f64>()
            * dt
            / 3.0;
        let closed = rmst_difference(&wb, h, u);
        assert!(closed < 0.0);
        assert!((closed - simpson).abs() < 1e-9, "{closed} vs {simpson}");
    }

    /// Draw `n_control` control and all treated units of a stratum (the control units
    /// take the treated units' control linear predictors in turn) and their censoring.
    fn draw_stratum(
        r: &mut SimRng,
        wb: &Weibull,
        st: &CoxStratum,
        n_control: usize,
        cens: Censoring,
        out: &mut (Vec<f64>, Vec<bool>, Vec<f64>),
    ) {
        let n = st.units.lp_own.len();
        let arms = (0..n)
            .map(|i| (st.units.lp_own[i], 1.0))
            .chain((0..n_control).map(|j| (st.units.lp_ctrl[j % n], 0.0)));
        for (lp, z) in arms.collect::<Vec<_>>() {
            let t = wb.draw(r, lp);
            let c = cens.follow_up.min(draw::exp1(r) / cens.dropout);
            out.0.push(t.min(c));
            out.1.push(t <= c);
            out.2.push(z);
        }
    }

    #[test]
    fn the_marginal_hr_is_what_a_large_unadjusted_cox_fit_recovers() {
        // Strong covariate spread (N(0, 1) on the log-hazard scale) and a conditional
        // HR of 2: the marginal HR lies clearly closer to 1. Two strata with different
        // covariate means and allocation ratios, fitted as a stratified Cox model.
        let wb = Weibull {
            median: 8.0,
            shape: 1.3,
        };
        let cens = Censoring {
            follow_up: 24.0,
            dropout: 0.03,
        };
        let mut r = SimRng::seed_from_u64(2026);
        let lps = |r: &mut SimRng, n: usize, mean: f64| -> Vec<f64> {
            (0..n).map(|_| mean + draw::std_normal(r)).collect()
        };
        let (ctrl_a, ctrl_b) = (lps(&mut r, 10_000, 0.0), lps(&mut r, 15_000, -0.7));
        let shift = |v: &[f64]| -> Vec<f64> { v.iter().map(|l| l + f64::ln(2.0)).collect() };
        let (own_a, own_b) = (shift(&ctrl_a), shift(&ctrl_b));
        let (wa, wb_) = (vec![1.0; ctrl_a.len()], vec![1.0; ctrl_b.len()]);
        let strata = [
            CoxStratum {
                units: Units {
                    lp_own: &own_a,
                    lp_ctrl: &ctrl_a,
                    weight: &wa,
                },
                n_treated: 10_000.0,
                n_control: 20_000.0,
            },
            CoxStratum {
                units: Units {
                    lp_own: &own_b,
                    lp_ctrl: &ctrl_b,
                    weight: &wb_,
                },
                n_treated: 15_000.0,
                n_control: 15_000.0,
            },
        ];
        let m = marginal_hazard_ratio(&wb, &strata, cens).expect("a limit");
        assert!(m.error_bound < 1e-7, "{}", m.error_bound);
        let mut data = (Vec::new(), Vec::new(), Vec::new());
        let mut strata_codes = Vec::new();
        for (s, st) in strata.iter().enumerate() {
            let before = data.0.len();
            draw_stratum(&mut r, &wb, st, st.n_control as usize, cens, &mut data);
            strata_codes.extend(std::iter::repeat_n(s as u32, data.0.len() - before));
        }
        let fit = cox_ph(
            &data.0,
            &data.1,
            &[&data.2],
            Some(&strata_codes),
            None,
            0.95,
        )
        .expect("a Cox fit");
        let (b, se) = (
            fit.coefficients[0].coef,
            fit.coefficients[0].model.std_error,
        );
        let target = m.hazard_ratio.ln();
        assert!((b - target).abs() < 4.0 * se, "{b} vs {target} (SE {se})");
        // The conditional log HR is far outside that band: the check can tell them apart.
        assert!((f64::ln(2.0) - target).abs() > 8.0 * se);
    }
}
