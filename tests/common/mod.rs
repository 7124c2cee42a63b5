//! Shared test helpers: the tolerances (defined once, here) and running the binary.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Relative tolerance for estimates, standard errors, interval limits and df against
/// reference packages (R estimatr/sandwich/clubSandwich, statsmodels, scipy).
pub const REL_TOL: f64 = 1e-8;
/// Absolute floor used with [`REL_TOL`] for values near zero (p-values close to 0 or 1,
/// estimates that are exactly zero in the reference).
pub const ABS_TOL: f64 = 1e-12;
/// Distribution quantiles (t, chi-square, F) against 60-digit mpmath, relative.
pub const DIST_QUANTILE_REL_TOL: f64 = 1e-10;
/// Distribution tail probabilities against 60-digit mpmath, relative (statrs' erfc,
/// which every normal-limit branch goes through, is good to about 5e-11 relative) ...
pub const DIST_TAIL_REL_TOL: f64 = 1e-8;
/// ... or absolute, for tails that underflow.
pub const DIST_TAIL_ABS_TOL: f64 = 1e-300;
/// NIST StRD certified values: significant digits that must agree.
pub const NIST_DIGITS: f64 = 10.0;

/// Whether `got` agrees with `want` to [`REL_TOL`] relative (or [`ABS_TOL`] absolute).
pub fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= REL_TOL * want.abs() + ABS_TOL
}

/// Assert agreement with a message that names what is compared.
#[track_caller]
pub fn assert_close(what: &str, got: f64, want: f64) {
    assert!(
        close(got, want),
        "{what}: got {got:.17e}, reference {want:.17e}, relative error {:.3e}",
        ((got - want) / want).abs()
    );
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run the built binary with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_via-eval"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the via-eval binary runs")
}

/// A readable account of a finished command, for assertion messages.
pub fn show(args: &[&str], out: &Output) -> String {
    format!(
        "via-eval {}\nstatus: {}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Relative tolerance for a computation that repeats another package's formula on
/// identical inputs (BCa limits from scipy's own bootstrap replicates and jackknife
/// values; jackknife values of a statistic). It equals REL_TOL: the normal CDF comes
/// from statrs, accurate to about 5e-10 relative, not to the last bit like scipy's.
pub const FORMULA_REL_TOL: f64 = REL_TOL;
/// Monte Carlo: a bootstrap standard error must be within this fraction of the
/// analytic one. With 10,000 replicates its own Monte Carlo error is about
/// 1/√(2·10,000) ≈ 0.7%, so 5% leaves room for the bootstrap's finite-sample bias.
pub const MC_SE_REL_TOL: f64 = 0.05;
/// Monte Carlo: a seeded estimate (p-value, bias) must be within this many Monte Carlo
/// standard errors of the exact value.
pub const MC_Z: f64 = 4.0;

/// A small individually randomised pilot, slug `mini`: data file `mini.csv` with id
/// `pid`, arms `control`/`treated`, covariate `age`, a binary outcome `work` (primary)
/// and a continuous outcome `income`.
pub const MINI_CONFIG: &str = r#"
slug = "mini"
title = { nl = "Mini", en = "Mini" }
description = { nl = "Kleine test", en = "Small test" }
unit = { nl = "persoon", en = "person" }
covariates = ["age"]
[design]
kind = "individually-randomised"
[data]
file = "mini.csv"
id = "pid"
[arms]
column = "arm"
control = "control"
values = [ { value = "control", label = { nl = "Controle", en = "Control" } }, { value = "treated", label = { nl = "Behandeld", en = "Treated" } } ]
[[outcomes]]
id = "work"
column = "work"
kind = "binary"
label = { nl = "Werk", en = "Work" }
unit = { nl = "procentpunt", en = "percentage points" }
primary = true
better = "higher"
[[outcomes]]
id = "income"
column = "income"
kind = "continuous"
label = { nl = "Inkomen", en = "Income" }
unit = { nl = "euro", en = "euros" }
better = "higher"
"#;

/// A folder laid out as the repository: `pilots/mini.toml` holding `config` and
/// `notebooks-data/<file>` holding `data`.
pub fn pilot_dir(config: &str, file: &str, data: impl AsRef<[u8]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("pilots")).unwrap();
    fs::create_dir_all(dir.path().join("notebooks-data")).unwrap();
    fs::write(dir.path().join("pilots/mini.toml"), config).unwrap();
    fs::write(dir.path().join("notebooks-data").join(file), data).unwrap();
    dir
}

/// The noncentral t distribution function (stats::power, Lenth's AS 243) against
/// scipy.stats.nct (Boost), relative ...
pub const NCT_REL_TOL: f64 = 1e-10;
/// ... with this absolute floor. The series' own truncation error is below 1e-15, but
/// its term Φ(−δ) comes from statrs' normal distribution function (erfc, about 5e-11
/// relative), which is off by up to 1.05e-12 absolute on the fixture grid (at δ = −2);
/// tails far below 1e-2 are therefore compared absolutely.
pub const NCT_ABS_TOL: f64 = 2e-12;

/// (estimator id, estimate, standard error) of every row of a JSON output's
/// `estimates`.
pub fn estimates_and_ses(v: &serde_json::Value) -> Vec<(String, f64, f64)> {
    v["estimates"]
        .as_array()
        .expect("an estimates list")
        .iter()
        .map(|e| {
            (
                e["estimator"].as_str().unwrap().to_string(),
                e["estimate"].as_f64().unwrap(),
                e["std_error"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The arguments of `via-eval did` on an mpdta-shaped file `data` (county, year, log
/// employment, first treated), then `extra`.
pub fn mpdta_did_args<'a>(data: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "did",
        data,
        "--unit",
        "countyreal",
        "--time",
        "year",
        "--outcome",
        "lemp",
        "--first-treated",
        "first.treat",
    ];
    args.extend_from_slice(extra);
    args
}
