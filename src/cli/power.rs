//! `via-eval power --outcome continuous|binary --solve n|mde|power`: sample size,
//! minimum detectable effect (MDE) or power of a two-arm comparison, for individually
//! and cluster-randomised designs. The statistics are in [`crate::stats::power`]; this
//! module reads the flags, checks them (errors name the flag), computes the power
//! curve for the chart and writes the result.
//!
//! Sizes: `--n N` is the size of each arm; `--n T,C` gives the treated and the control
//! arm (the allocation is then T/(T + C)). In a cluster design `--clusters K` (or
//! `K_T,K_C`) with `--cluster-size M` gives K·M persons per arm. Solved sizes are
//! enrolled persons per arm, rounded up (with `--attrition`, inflated by
//! 1/(1 − attrition)).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::Format;
use crate::cli::choices::LangArg;
use crate::config::Lang;
use crate::error::{Error, Result};
use crate::plot::{PowerChart, power_chart_png, power_chart_svg};
use crate::report::tables::render;
use crate::report::{localise, tr};
use crate::stats::power::{self, Design, Effect, Method, Outcome};

/// Examples at the end of `via-eval power --help`.
pub const EXAMPLES: &str = "\
Examples:
  # persons per arm to detect 0.25 SD with 80% power (t test, two-sided, alpha 0.05)
  via-eval power --outcome continuous --solve n --d 0.25
  # a follow-up of intensieve-begeleiding: 150 euros a month on an SD of 600, covariates
  # explaining 30% of the variance, 10% attrition
  via-eval power --outcome continuous --solve n --effect 150 --sd 600 --r2 0.3 --attrition 0.1
  # UWV: one 10% treatment arm against the 80% control arm, 1,000 persons treated
  via-eval power --outcome binary --solve mde --p0 0.45 --n 1000,8000
  # a school-randomised design: 7 schools per arm of 40 pupils, ICC 0.05, with a chart
  via-eval power --outcome continuous --solve mde --clusters 7 --cluster-size 40 --icc 0.05 --out power";

/// What to solve for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Solve {
    /// The sample size per arm.
    N,
    /// The minimum detectable effect.
    Mde,
    /// The power.
    Power,
}

/// The kind of outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    /// A difference in means.
    Continuous,
    /// A difference in proportions.
    Binary,
}

/// The test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Two-sample t test, exact noncentral t (continuous outcomes; their default).
    T,
    /// Normal approximation; binary outcomes with unpooled variances (their default).
    Normal,
    /// Arcsine transformation, Cohen's h (binary outcomes), as R pwr.2p2n.test.
    Arcsine,
}

#[derive(clap::Args, Debug)]
pub struct PowerArgs {
    /// Kind of outcome.
    #[arg(long, value_enum)]
    pub outcome: OutcomeKind,
    /// What to solve for: the sample size, the minimum detectable effect, or the power.
    #[arg(long, value_enum)]
    pub solve: Solve,
    /// Persons per arm: one number for each arm, or TREATED,CONTROL.
    #[arg(long, value_name = "N|T,C", allow_hyphen_values = true)]
    pub n: Option<String>,
    /// Effect in raw units: a difference in means (with --sd), or for a binary outcome
    /// a difference in proportions (p1 − p0, e.g. 0.05).
    #[arg(long, allow_hyphen_values = true)]
    pub effect: Option<f64>,
    /// Standardised effect (Cohen's d = difference / SD), continuous outcomes.
    #[arg(long, allow_hyphen_values = true)]
    pub d: Option<f64>,
    /// Standard deviation of the outcome (continuous outcomes).
    #[arg(long, allow_negative_numbers = true)]
    pub sd: Option<f64>,
    /// Proportion with the outcome in the control arm (binary outcomes).
    #[arg(long, allow_negative_numbers = true)]
    pub p0: Option<f64>,
    /// Proportion with the outcome in the treated arm (binary outcomes).
    #[arg(long, allow_negative_numbers = true)]
    pub p1: Option<f64>,
    /// Significance level.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.05)]
    pub alpha: f64,
    /// Target power, when solving for n or the MDE.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.8)]
    pub power: f64,
    /// Treated share of the two arms compared [default: 0.5, or T/(T + C) from --n].
    /// For one 10% arm of the UWV trial against its 80% control arm: 0.1111.
    #[arg(long, allow_negative_numbers = true)]
    pub allocation: Option<f64>,
    /// Intra-cluster correlation, in [0, 1) (cluster-randomised designs).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub icc: f64,
    /// Mean number of persons per cluster (cluster-randomised designs).
    #[arg(long, allow_negative_numbers = true)]
    pub cluster_size: Option<f64>,
    /// Clusters per arm: one number for each arm, or TREATED,CONTROL.
    #[arg(long, value_name = "K|KT,KC", allow_hyphen_values = true)]
    pub clusters: Option<String>,
    /// Coefficient of variation of the cluster sizes (0: all clusters equal).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub cv_cluster_size: f64,
    /// Share of the outcome variance explained by covariates, in [0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub r2: f64,
    /// Expected share of persons lost to follow-up, in [0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0)]
    pub attrition: f64,
    /// One- or two-sided test.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub sided: u8,
    /// Test [default: t for continuous, normal for binary outcomes].
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Output format (to standard output).
    #[arg(long, value_enum, default_value = "table", help_heading = super::OUTPUT)]
    pub format: Format,
    /// Language of the table and the chart.
    #[arg(long, value_enum, default_value = "en", help_heading = super::OUTPUT)]
    pub lang: LangArg,
    /// Folder for the power-curve chart (power-curve.png and power-curve.svg).
    #[arg(long, value_name = "DIR", help_heading = super::OUTPUT)]
    pub out: Option<PathBuf>,
}

/// Persons (or clusters) per arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PerArm<T> {
    pub treated: T,
    pub control: T,
}

/// The result, as written with `--format json`: the solution and every input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerOutput {
    pub outcome: OutcomeKind,
    pub solve: Solve,
    pub method: Method,
    /// Enrolled persons per arm (solved: rounded up to whole persons).
    pub n_per_arm: PerArm<u64>,
    pub n_total: u64,
    /// The exact (fractional) total at which power equals the target (`--solve n`).
    pub n_total_exact: Option<f64>,
    /// Clusters per arm (cluster designs; solved: persons / cluster size, rounded up).
    pub clusters_per_arm: Option<PerArm<u64>>,
    /// Minimum detectable effect in raw units (continuous: needs --sd; binary: p1 − p0).
    pub mde: Option<f64>,
    /// Standardised MDE: Cohen's d, or Cohen's h for a binary outcome.
    pub mde_d: Option<f64>,
    /// Power at `n_per_arm` and the effect (`--solve mde`: the target).
    pub power: f64,
    pub design_effect: f64,
    // Inputs.
    pub effect: Option<f64>,
    pub d: Option<f64>,
    pub sd: Option<f64>,
    pub p0: Option<f64>,
    pub p1: Option<f64>,
    pub alpha: f64,
    pub target_power: Option<f64>,
    pub allocation: f64,
    pub icc: f64,
    pub cluster_size: Option<f64>,
    pub cv_cluster_size: f64,
    pub r2: f64,
    pub attrition: f64,
    pub sided: u8,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::usage(msg)
}

/// `--flag` must lie in `range` (a description such as "[0, 1)").
fn check(flag: &str, v: f64, ok: bool, range: &str) -> Result<()> {
    if ok && v.is_finite() {
        Ok(())
    } else {
        Err(usage(format!("--{flag} must be in {range}, got {v}")))
    }
}

fn open01(v: f64) -> bool {
    v > 0.0 && v < 1.0
}

/// `N` or `T,C`: the same for both arms, or treated and control.
fn pair(flag: &str, text: &str) -> Result<(f64, f64)> {
    let parse = |s: &str| -> Result<f64> {
        let v: f64 = s.trim().parse().map_err(|_| {
            usage(format!(
                "--{flag} must be a number, or two numbers TREATED,CONTROL; got \"{text}\""
            ))
        })?;
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(usage(format!("--{flag} must be positive, got \"{text}\"")))
        }
    };
    match text.split_once(',') {
        None => {
            let v = parse(text)?;
            Ok((v, v))
        }
        Some((t, c)) => Ok((parse(t)?, parse(c)?)),
    }
}

/// Checks the flags, with errors that name them, and builds the design.
fn design(a: &PowerArgs) -> Result<(Design, Option<(f64, f64)>)> {
    check("alpha", a.alpha, open01(a.alpha), "(0, 1)")?;
    check("power", a.power, open01(a.power), "(0, 1)")?;
    check("icc", a.icc, (0.0..1.0).contains(&a.icc), "[0, 1)")?;
    check("r2", a.r2, (0.0..1.0).contains(&a.r2), "[0, 1)")?;
    check(
        "attrition",
        a.attrition,
        (0.0..1.0).contains(&a.attrition),
        "[0, 1)",
    )?;
    check(
        "cv-cluster-size",
        a.cv_cluster_size,
        a.cv_cluster_size >= 0.0,
        "[0, ∞)",
    )?;
    if let Some(m) = a.cluster_size {
        check("cluster-size", m, m >= 1.0, "[1, ∞)")?;
    }
    if let Some(v) = a.allocation {
        check("allocation", v, open01(v), "(0, 1)")?;
    }
    if a.cluster_size.is_none() {
        if a.icc > 0.0 {
            return Err(usage(
                "--icc needs --cluster-size (the mean number of persons per cluster)",
            ));
        }
        if a.clusters.is_some() {
            return Err(usage("--clusters needs --cluster-size"));
        }
        if a.cv_cluster_size > 0.0 {
            return Err(usage("--cv-cluster-size needs --cluster-size"));
        }
    }
    let outcome = match a.outcome {
        OutcomeKind::Continuous => {
            for (flag, v) in [("p0", a.p0), ("p1", a.p1)] {
                if v.is_some() {
                    return Err(usage(format!(
                        "--{flag} is for binary outcomes; give --effect with --sd, or --d"
                    )));
                }
            }
            Outcome::Continuous
        }
        OutcomeKind::Binary => {
            if a.d.is_some() || a.sd.is_some() {
                return Err(usage(
                    "--d and --sd are for continuous outcomes; give --p1 or --effect (p1 − p0)",
                ));
            }
            let p0 =
                a.p0.ok_or_else(|| usage("a binary outcome needs --p0 (the control proportion)"))?;
            check("p0", p0, open01(p0), "(0, 1)")?;
            Outcome::Binary { p0 }
        }
    };
    let method = match (a.method, a.outcome) {
        (None, OutcomeKind::Continuous) => Method::T,
        (None, OutcomeKind::Binary) => Method::Normal,
        (Some(MethodArg::T), OutcomeKind::Binary) => {
            return Err(usage(
                "--method t is for continuous outcomes; use normal or arcsine",
            ));
        }
        (Some(MethodArg::Arcsine), OutcomeKind::Continuous) => {
            return Err(usage(
                "--method arcsine is for binary outcomes; use t or normal",
            ));
        }
        (Some(MethodArg::T), _) => Method::T,
        (Some(MethodArg::Normal), _) => Method::Normal,
        (Some(MethodArg::Arcsine), _) => Method::Arcsine,
    };
    // Sizes, from --n or --clusters × --cluster-size.
    let sizes = match (&a.n, &a.clusters, a.cluster_size) {
        (Some(_), Some(_), _) => {
            return Err(usage("give --n or --clusters, not both"));
        }
        (Some(n), None, _) => Some(pair("n", n)?),
        (None, Some(k), Some(m)) => {
            let (kt, kc) = pair("clusters", k)?;
            Some((kt * m, kc * m))
        }
        _ => None,
    };
    let allocation = match (sizes, a.allocation) {
        (Some((t, c)), Some(v)) if a.solve != Solve::N => {
            let implied = t / (t + c);
            if (implied - v).abs() > 1e-9 {
                return Err(usage(format!(
                    "--allocation {v} disagrees with the arm sizes given ({t} treated, {c} control: a treated share of {implied:.4}); give unequal arms as --n TREATED,CONTROL and leave --allocation out"
                )));
            }
            implied
        }
        (Some((t, c)), None) => t / (t + c),
        (_, Some(v)) => v,
        (None, None) => 0.5,
    };
    let d = Design {
        outcome,
        method,
        alpha: a.alpha,
        two_sided: a.sided == 2,
        allocation,
        icc: a.icc,
        cluster_size: a.cluster_size,
        cv_cluster_size: a.cv_cluster_size,
        r2: a.r2,
        attrition: a.attrition,
    };
    Ok((d, sizes))
}

/// The effect from --d, --effect (with --sd) or --p1; `None` when none is given.
fn effect(a: &PowerArgs, d: &Design) -> Result<Option<Effect>> {
    match d.outcome {
        Outcome::Continuous => match (a.d, a.effect, a.sd) {
            (Some(_), Some(_), _) => Err(usage("give --d or --effect, not both")),
            (Some(x), None, _) => {
                check("d", x, true, "the real numbers")?;
                Ok(Some(Effect::D(x)))
            }
            (None, Some(e), Some(sd)) => {
                check("sd", sd, sd > 0.0, "(0, ∞)")?;
                check("effect", e, true, "the real numbers")?;
                Ok(Some(Effect::D(e / sd)))
            }
            (None, Some(_), None) => Err(usage(
                "--effect (raw units) needs --sd; or give the standardised effect with --d",
            )),
            (None, None, _) => {
                if let Some(sd) = a.sd {
                    check("sd", sd, sd > 0.0, "(0, ∞)")?;
                }
                Ok(None)
            }
        },
        Outcome::Binary { p0 } => match (a.p1, a.effect) {
            (Some(_), Some(_)) => Err(usage("give --p1 or --effect, not both")),
            (Some(p1), None) => {
                check("p1", p1, open01(p1), "(0, 1)")?;
                Ok(Some(Effect::P1(p1)))
            }
            (None, Some(e)) => {
                let p1 = p0 + e;
                if !open01(p1) {
                    return Err(usage(format!(
                        "--effect {e} with --p0 {p0} gives p1 = {p1}, outside (0, 1)"
                    )));
                }
                Ok(Some(Effect::P1(p1)))
            }
            (None, None) => Ok(None),
        },
    }
}

fn stats_err(e: crate::stats::StatsError) -> Error {
    usage(e.to_string())
}

/// Computes the output and the chart's power curve.
pub fn compute(a: &PowerArgs) -> Result<(PowerOutput, PowerChartData)> {
    let (d, sizes) = design(a)?;
    let eff = effect(a, &d)?;
    let de = d.design_effect().map_err(stats_err)?;
    let need_effect = || {
        usage(match d.outcome {
            Outcome::Continuous => "this needs the effect: --d, or --effect with --sd".to_string(),
            Outcome::Binary { .. } => "this needs the effect: --p1, or --effect".to_string(),
        })
    };
    let need_n = || {
        usage(
            "solving for the power or the MDE needs the sizes: --n, or --clusters with --cluster-size",
        )
    };
    let (nt, nc, n_exact, pw, eff_used, target) = match a.solve {
        Solve::N => {
            if sizes.is_some() {
                return Err(usage(
                    "--solve n computes the sizes: leave out --n and --clusters",
                ));
            }
            let e = eff.ok_or_else(need_effect)?;
            let s = power::solve_n(&d, e, a.power).map_err(|e| match e {
                crate::stats::StatsError::Invalid(m) if m.contains("effect is zero") => {
                    usage("the effect (--d, --effect or --p1) is zero: no sample size detects it")
                }
                other => stats_err(other),
            })?;
            let (t, c) = (s.n_treated as f64, s.n_control as f64);
            let p = power::power(&d, e, t, c).map_err(stats_err)?;
            (t, c, Some(s.n_total_exact), p, e, Some(a.power))
        }
        Solve::Power => {
            let (t, c) = sizes.ok_or_else(need_n)?;
            let e = eff.ok_or_else(need_effect)?;
            let p = power::power(&d, e, t, c).map_err(stats_err)?;
            (t, c, None, p, e, None)
        }
        Solve::Mde => {
            let (t, c) = sizes.ok_or_else(need_n)?;
            if eff.is_some() {
                return Err(usage(
                    "--solve mde computes the effect: leave out --d, --effect and --p1",
                ));
            }
            let m = power::solve_mde(&d, t, c, a.power).map_err(stats_err)?;
            (t, c, None, a.power, m.effect, Some(a.power))
        }
    };
    let (mde, mde_d) = match (a.solve, eff_used, d.outcome) {
        (Solve::Mde, Effect::D(x), _) => (a.sd.map(|sd| x * sd), Some(x)),
        (Solve::Mde, Effect::P1(p1), Outcome::Binary { p0 }) => {
            (Some(p1 - p0), Some(power::cohens_h(p1, p0)))
        }
        _ => (None, None),
    };
    let clusters_per_arm = d.cluster_size.map(|m| PerArm {
        treated: (nt / m - 1e-9).ceil() as u64,
        control: (nc / m - 1e-9).ceil() as u64,
    });
    let (p0, p1) = match (d.outcome, eff_used) {
        (Outcome::Binary { p0 }, Effect::P1(p1)) => {
            (Some(p0), (a.solve != Solve::Mde).then_some(p1))
        }
        _ => (None, None),
    };
    let d_in = match eff_used {
        Effect::D(x) if a.solve != Solve::Mde => Some(x),
        _ => None,
    };
    let out = PowerOutput {
        outcome: a.outcome,
        solve: a.solve,
        method: d.method,
        n_per_arm: PerArm {
            treated: nt.ceil() as u64,
            control: nc.ceil() as u64,
        },
        n_total: nt.ceil() as u64 + nc.ceil() as u64,
        n_total_exact: n_exact,
        clusters_per_arm,
        mde,
        mde_d,
        power: pw,
        design_effect: de,
        effect: if a.solve == Solve::Mde {
            None
        } else {
            a.effect
        },
        d: d_in,
        sd: a.sd,
        p0,
        p1,
        alpha: a.alpha,
        target_power: target,
        allocation: d.allocation,
        icc: d.icc,
        cluster_size: d.cluster_size,
        cv_cluster_size: d.cv_cluster_size,
        r2: d.r2,
        attrition: d.attrition,
        sided: a.sided,
    };
    let curve = curve(&d, eff_used, nt + nc)?;
    Ok((
        out,
        PowerChartData {
            curve,
            marker: (nt + nc, pw),
            target,
        },
    ))
}

/// The power curve of the chart: power against the total enrolled size, at the
/// allocation of the result, from a tenth to three times the result's total.
pub struct PowerChartData {
    pub curve: Vec<(f64, f64)>,
    pub marker: (f64, f64),
    pub target: Option<f64>,
}

fn curve(d: &Design, e: Effect, total: f64) -> Result<Vec<(f64, f64)>> {
    let a = d.allocation;
    let lo = (total / 10.0).max(match (d.method, d.cluster_size) {
        (Method::T, None) => 4.0 / (1.0 - d.attrition),
        (Method::T, Some(m)) => 4.0 * m,
        _ => 2.0 / a.min(1.0 - a),
    });
    let hi = (3.0 * total).max(lo * 2.0);
    let k = 120;
    (0..=k)
        .map(|i| {
            let n = lo + (hi - lo) * i as f64 / k as f64;
            Ok((
                n,
                power::power(d, e, a * n, (1.0 - a) * n).map_err(stats_err)?,
            ))
        })
        .collect()
}

/// A number for the table: six decimals at most, trailing zeros dropped.
fn num(x: f64, lang: Lang) -> String {
    localise(&format!("{}", (x * 1e6).round() / 1e6), lang)
}

/// A number for the chart: about three significant digits.
fn short(x: f64, lang: Lang) -> String {
    localise(&crate::report::fmt_value(x), lang)
}

/// The output text in `format`.
pub fn render_output(o: &PowerOutput, format: Format, lang: Lang) -> Result<String> {
    Ok(match format {
        Format::Json => super::json_text(o)?,
        Format::Csv => {
            let v = serde_json::to_value(o)
                .map_err(|e| Error::analysis("cannot write CSV").with_cause(e))?;
            let keys = [
                "outcome",
                "solve",
                "method",
                "n_treated",
                "n_control",
                "n_total",
                "n_total_exact",
                "clusters_treated",
                "clusters_control",
                "mde",
                "mde_d",
                "power",
                "design_effect",
                "effect",
                "d",
                "sd",
                "p0",
                "p1",
                "alpha",
                "target_power",
                "allocation",
                "icc",
                "cluster_size",
                "cv_cluster_size",
                "r2",
                "attrition",
                "sided",
            ];
            let cell = |k: &str| -> String {
                let x = match k {
                    "n_treated" => v["n_per_arm"]["treated"].clone(),
                    "n_control" => v["n_per_arm"]["control"].clone(),
                    "clusters_treated" => v["clusters_per_arm"]["treated"].clone(),
                    "clusters_control" => v["clusters_per_arm"]["control"].clone(),
                    _ => v[k].clone(),
                };
                match x {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }
            };
            let row: Vec<String> = keys.iter().map(|k| cell(k)).collect();
            format!("{}\n{}\n", keys.join(","), row.join(","))
        }
        Format::Table => table(o, lang),
    })
}

fn table(o: &PowerOutput, lang: Lang) -> String {
    let t = |nl: &str, en: &str| tr(lang, nl, en).to_string();
    let mut rows = vec![vec![t("grootheid", "quantity"), t("waarde", "value")]];
    let mut add = |k: String, v: String| rows.push(vec![k, v]);
    let solved = |yes: bool| if yes { " *" } else { "" };
    add(
        format!(
            "{}{}",
            t(
                "personen per arm (behandeld, controle)",
                "persons per arm (treated, control)"
            ),
            solved(o.solve == Solve::N)
        ),
        format!("{}, {}", o.n_per_arm.treated, o.n_per_arm.control),
    );
    add(t("totaal", "total"), o.n_total.to_string());
    if let Some(c) = o.clusters_per_arm {
        add(
            t(
                "clusters per arm (behandeld, controle)",
                "clusters per arm (treated, control)",
            ),
            format!("{}, {}", c.treated, c.control),
        );
    }
    if let Some(x) = o.mde {
        add(
            format!(
                "{}{}",
                t("minimaal detecteerbaar effect", "minimum detectable effect"),
                solved(true)
            ),
            num(x, lang),
        );
    }
    if let Some(x) = o.mde_d {
        let name = match o.outcome {
            OutcomeKind::Continuous => t("MDE gestandaardiseerd (d)", "MDE standardised (d)"),
            OutcomeKind::Binary => t("MDE als Cohens h", "MDE as Cohen's h"),
        };
        add(format!("{name}{}", solved(true)), num(x, lang));
    }
    add(
        format!(
            "{}{}",
            t("onderscheidend vermogen", "power"),
            solved(o.solve == Solve::Power)
        ),
        num(o.power, lang),
    );
    add(
        t("design-effect", "design effect"),
        num(o.design_effect, lang),
    );
    if let Some(x) = o.effect {
        add(
            t("effect (ruwe eenheden)", "effect (raw units)"),
            num(x, lang),
        );
    }
    if let Some(x) = o.sd {
        add(t("standaardafwijking", "standard deviation"), num(x, lang));
    }
    if let Some(x) = o.d {
        add(t("effect (d)", "effect (d)"), num(x, lang));
    }
    if let Some(x) = o.p0 {
        add("p0".into(), num(x, lang));
    }
    if let Some(x) = o.p1 {
        add("p1".into(), num(x, lang));
    }
    add(
        "alpha".into(),
        format!(
            "{} ({}{})",
            num(o.alpha, lang),
            o.sided,
            t("-zijdig", "-sided")
        ),
    );
    add(
        t("aandeel behandeld", "treated share"),
        num(o.allocation, lang),
    );
    for (nl, en, v, show) in [
        ("ICC", "ICC", o.icc, o.cluster_size.is_some()),
        (
            "verklaarde variantie (R²)",
            "variance explained (R²)",
            o.r2,
            o.r2 > 0.0,
        ),
        ("uitval", "attrition", o.attrition, o.attrition > 0.0),
    ] {
        if show {
            add(t(nl, en), num(v, lang));
        }
    }
    if let Some(m) = o.cluster_size {
        add(
            t("personen per cluster", "persons per cluster"),
            num(m, lang),
        );
    }
    let method = match o.method {
        Method::T => t("t-toets (niet-centrale t)", "t test (noncentral t)"),
        Method::Normal => t("normale benadering", "normal approximation"),
        Method::Arcsine => t("arcsinus (Cohens h)", "arcsine (Cohen's h)"),
    };
    add(t("methode", "method"), method);
    let note = t("* berekend", "* solved for");
    format!("{}{note}\n", render(&rows))
}

/// The chart texts and data in `lang`; the chart itself computes nothing.
fn chart(o: &PowerOutput, data: &PowerChartData, lang: Lang) -> PowerChart {
    let t = |nl: &str, en: &str| tr(lang, nl, en).to_string();
    let effect = match (o.outcome, o.mde_d, o.d, o.p0, o.p1) {
        (_, _, Some(d), _, _) => format!("d = {}", short(d, lang)),
        (OutcomeKind::Continuous, Some(d), _, _, _) => format!("d = {} (MDE)", short(d, lang)),
        (_, _, _, Some(p0), Some(p1)) => {
            format!("p0 = {}, p1 = {}", short(p0, lang), short(p1, lang))
        }
        (_, _, _, Some(p0), None) => format!(
            "p0 = {}, p1 = {} (MDE)",
            short(p0, lang),
            short(p0 + o.mde.unwrap_or(f64::NAN), lang)
        ),
        _ => String::new(),
    };
    PowerChart {
        title: t(
            "Onderscheidend vermogen naar steekproefomvang",
            "Power by sample size",
        ),
        subtitle: format!(
            "{effect}; alpha = {} ({}{}); {} {}",
            short(o.alpha, lang),
            o.sided,
            t("-zijdig", "-sided"),
            t("aandeel behandeld", "treated share"),
            short(o.allocation, lang)
        ),
        x_label: t(
            "Totaal aantal personen (beide armen)",
            "Total persons (both arms)",
        ),
        y_label: t("Onderscheidend vermogen", "Power"),
        curve: data.curve.clone(),
        marker: data.marker,
        target: data.target,
        note: t(
            "Berekend met via-eval power. De stip is de uitkomst, de rode lijn het beoogde onderscheidend vermogen.",
            "Computed with via-eval power. The dot is the result, the red line the target power.",
        ),
        lang,
    }
}

fn write_chart(dir: &Path, c: &PowerChart) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, "cannot create the output folder").with_cause(e))?;
    let png = power_chart_png(c)?;
    let svg = power_chart_svg(c)?;
    for (name, bytes) in [
        ("power-curve.png", png),
        ("power-curve.svg", svg.into_bytes()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, "cannot write").with_cause(e))?;
    }
    Ok(())
}

/// Run `via-eval power`.
pub fn run(args: &PowerArgs) -> Result<()> {
    let lang: Lang = args.lang.into();
    let (out, data) = compute(args)?;
    if let Some(dir) = &args.out {
        write_chart(dir, &chart(&out, &data, lang))?;
    }
    super::print_out(&render_output(&out, args.format, lang)?)?;
    Ok(())
}
