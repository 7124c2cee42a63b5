//! Resampling estimators (`stats::resample`) against references on real public data.
//!
//! Exact checks (deterministic): randomisation tests and the wild cluster bootstrap by
//! full enumeration, against numpy/itertools, scipy `permutation_test`, R brute force
//! and Python `wildboottest`; BCa intervals from scipy's own replicates and jackknife
//! values. Statistical checks (seeded, Monte Carlo): bootstrap standard errors against
//! the analytic ones, Monte Carlo p-values against exact ones. Determinism: the same
//! seed gives identical output on 1 and 2 threads. The fixtures and the scripts that
//! made them: `tests/fixtures/resample/`, `scripts/fixtures/make_resample_fixtures.*`.
//! Tolerances are defined once, in `tests/common/mod.rs`.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{ABS_TOL, FORMULA_REL_TOL, MC_SE_REL_TOL, MC_Z, assert_close, root};
use serde_json::Value;
use via_eval::stats::binary::Counts;
use via_eval::stats::ols::Clusters;
use via_eval::stats::resample::bootstrap::{self, BootstrapCi, Resample};
use via_eval::stats::resample::ri::{self, Design};
use via_eval::stats::resample::wild::{WildClusterBootstrap, WildWeights};
use via_eval::stats::resample::{ResampleOptions, TIE_RTOL};

// ------------------------------------------------------------------ helpers --

fn fixture(name: &str) -> Value {
    let p = root()
        .join("tests/fixtures/resample")
        .join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// A plain CSV file (header, commas, no quoting: the fixtures' format).
struct Csv {
    cols: HashMap<String, Vec<String>>,
}

impl Csv {
    fn load(rel: &str) -> Self {
        let text = std::fs::read_to_string(root().join(rel)).unwrap();
        let mut lines = text.lines();
        let names: Vec<String> = lines
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        let mut cols: HashMap<String, Vec<String>> =
            names.iter().map(|n| (n.clone(), Vec::new())).collect();
        for line in lines.filter(|l| !l.is_empty()) {
            for (n, v) in names.iter().zip(line.split(',')) {
                cols.get_mut(n).unwrap().push(v.to_string());
            }
        }
        Self { cols }
    }
    fn strs(&self, c: &str) -> &[String] {
        &self.cols[c]
    }
    fn nums(&self, c: &str) -> Vec<f64> {
        self.strs(c).iter().map(|v| v.parse().unwrap()).collect()
    }
    /// Keep the rows whose column `c` is one of `values`.
    fn filter(self, c: &str, values: &[&str]) -> Self {
        let keep: Vec<bool> = self.cols[c]
            .iter()
            .map(|v| values.contains(&v.as_str()))
            .collect();
        let cols = self
            .cols
            .into_iter()
            .map(|(k, v)| {
                let v = v
                    .into_iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| v)
                    .collect();
                (k, v)
            })
            .collect();
        Self { cols }
    }
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[track_caller]
fn assert_rel(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs() + ABS_TOL,
        "{what}: got {got:.17e}, reference {want:.17e}, relative error {:.3e}",
        ((got - want) / want).abs()
    );
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Treated and control outcomes of LaLonde's re78.
fn lalonde_re78() -> (Vec<f64>, Vec<f64>) {
    let d = Csv::load("tests/fixtures/data/lalonde.csv");
    let (t, y) = (d.nums("treat"), d.nums("re78"));
    let pick = |arm: f64| {
        t.iter()
            .zip(&y)
            .filter(|(a, _)| **a == arm)
            .map(|(_, v)| *v)
            .collect::<Vec<f64>>()
    };
    (pick(1.0), pick(0.0))
}

/// √(s²_t(n_t−1)/n_t² + s²_c(n_c−1)/n_c²): the standard error that the bootstrap of a
/// mean difference estimates (variances with n denominators).
fn plug_in_se(t: &[f64], c: &[f64]) -> f64 {
    let v = |x: &[f64]| {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n * n)
    };
    (v(t) + v(c)).sqrt()
}

fn mean_difference_statistic(data: &[f64]) -> impl Fn(&Resample) -> f64 + Sync + '_ {
    move |r: &Resample| {
        let m = |s: usize| {
            let u = r.stratum(s);
            u.iter().map(|&i| data[i as usize]).sum::<f64>() / u.len() as f64
        };
        m(0) - m(1)
    }
}

// ---------------------------------------------------------------------- BCa --

fn check_ci(what: &str, got: &BootstrapCi, want: &Value, tol: f64) {
    for (k, v) in [
        ("estimate", got.estimate),
        ("std_error", got.std_error),
        ("percentile_low", got.percentile_low),
        ("percentile_high", got.percentile_high),
        ("bca_low", got.bca_low),
        ("bca_high", got.bca_high),
        ("z0", got.z0),
        ("acceleration", got.acceleration),
    ] {
        assert_rel(&format!("{what} {k}"), v, want[k].as_f64().unwrap(), tol);
    }
}

#[test]
fn bca_equals_scipy_on_the_same_replicates() {
    for case in ["bca_lalonde_re78", "bca_lalonde_re78_treated_sd"] {
        let f = fixture(case);
        let jack: Vec<Vec<f64>> = f["jackknife"]
            .as_array()
            .unwrap()
            .iter()
            .map(f64s)
            .collect();
        let slices: Vec<&[f64]> = jack.iter().map(Vec::as_slice).collect();
        let ci = bootstrap::bca_interval(
            f["estimate"].as_f64().unwrap(),
            f64s(&f["replicates"]),
            &slices,
            f["conf_level"].as_f64().unwrap(),
        )
        .unwrap();
        assert_eq!(ci.reps, 2000);
        check_ci(case, &ci, &f, FORMULA_REL_TOL);
    }
}

#[test]
fn jackknife_and_closed_form_acceleration_equal_scipy() {
    let (t, c) = lalonde_re78();
    // Generic jackknife of the mean difference, strata = arms.
    let f = fixture("bca_lalonde_re78");
    let data: Vec<f64> = t.iter().chain(&c).copied().collect();
    let labels: Vec<u8> = (0..data.len()).map(|i| u8::from(i >= t.len())).collect();
    let strata = Clusters::from_labels(&labels);
    let jack = bootstrap::jackknife(&strata, &mean_difference_statistic(&data)).unwrap();
    for (s, want) in jack.iter().zip(f["jackknife"].as_array().unwrap()) {
        for (i, (g, w)) in s.iter().zip(f64s(want)).enumerate() {
            assert_rel(&format!("jackknife value {i}"), *g, w, FORMULA_REL_TOL);
        }
    }
    // The fast path's closed-form acceleration.
    let fast = bootstrap::mean_difference(&t, &c, &ResampleOptions::new(50, 1)).unwrap();
    let want_a = f["acceleration"].as_f64().unwrap();
    assert_rel(
        "closed-form acceleration",
        fast.acceleration,
        want_a,
        FORMULA_REL_TOL,
    );
    assert_rel(
        "estimate",
        fast.estimate,
        f["estimate"].as_f64().unwrap(),
        FORMULA_REL_TOL,
    );

    // One-sample generic jackknife of the standard deviation.
    let f = fixture("bca_lalonde_re78_treated_sd");
    let one = Clusters::from_labels(&vec![0u8; t.len()]);
    let sd = |r: &Resample| {
        let u = r.stratum(0);
        let n = u.len() as f64;
        let m = u.iter().map(|&i| t[i as usize]).sum::<f64>() / n;
        (u.iter().map(|&i| (t[i as usize] - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    };
    let jack = bootstrap::jackknife(&one, &sd).unwrap();
    for (i, (g, w)) in jack[0].iter().zip(f64s(&f["jackknife"][0])).enumerate() {
        assert_rel(&format!("sd jackknife value {i}"), *g, w, FORMULA_REL_TOL);
    }
}

// ---------------------------------------------------------- bootstrap (MC) --

#[test]
fn bootstrap_se_is_close_to_the_analytic_se() {
    let opts = ResampleOptions::new(10_000, 20261128);
    // Units path: LaLonde earnings (many distinct values).
    let (t, c) = lalonde_re78();
    let ci = bootstrap::mean_difference(&t, &c, &opts).unwrap();
    assert_rel(
        "lalonde se",
        ci.std_error,
        plug_in_se(&t, &c),
        MC_SE_REL_TOL,
    );
    assert!(ci.bca_low < ci.estimate && ci.estimate < ci.bca_high);
    assert!(ci.percentile_low < ci.estimate && ci.estimate < ci.percentile_high);

    // Units path on a larger sample, and the counts path (awarded: 25 distinct values
    // in 3821 students), all 2001 Achievement Awards students.
    let d = Csv::load("tests/fixtures/data/achievement_awards_2001.csv");
    let arm = d.nums("treated");
    for col in ["lagscore", "awarded", "Bagrut_status"] {
        let y = d.nums(col);
        let t: Vec<f64> = y
            .iter()
            .zip(&arm)
            .filter(|p| *p.1 == 1.0)
            .map(|p| *p.0)
            .collect();
        let c: Vec<f64> = y
            .iter()
            .zip(&arm)
            .filter(|p| *p.1 == 0.0)
            .map(|p| *p.0)
            .collect();
        let ci = bootstrap::mean_difference(&t, &c, &opts).unwrap();
        assert_rel(col, ci.std_error, plug_in_se(&t, &c), MC_SE_REL_TOL);
        assert_rel(
            &format!("{col} bias"),
            ci.bias.abs() + ci.std_error,
            ci.std_error,
            MC_Z / (opts.reps as f64).sqrt(),
        );
        if col == "Bagrut_status" {
            // The same from counts.
            let k = |v: &[f64]| Counts::new(v.iter().sum::<f64>() as u64, v.len() as u64).unwrap();
            let p = bootstrap::proportion_difference(k(&t), k(&c), &opts).unwrap();
            assert_close("proportion estimate", p.estimate, ci.estimate);
            assert_rel(
                "proportion se",
                p.std_error,
                plug_in_se(&t, &c),
                MC_SE_REL_TOL,
            );
            assert_close("proportion acceleration", p.acceleration, ci.acceleration);
        }
    }
}

#[test]
fn generic_bootstrap_repeats_the_fast_path_draw_for_draw() {
    // Both draw stratum 0 (treated) then stratum 1 with below(n_s) from the same
    // replicate generator, so the resamples are the same units.
    let (t, c) = lalonde_re78();
    let data: Vec<f64> = t.iter().chain(&c).copied().collect();
    let labels: Vec<u8> = (0..data.len()).map(|i| u8::from(i >= t.len())).collect();
    let strata = Clusters::from_labels(&labels);
    let opts = ResampleOptions::new(2000, 99);
    let fast = bootstrap::mean_difference(&t, &c, &opts).unwrap();
    let generic = bootstrap::bootstrap(&strata, mean_difference_statistic(&data), &opts).unwrap();
    let fields = |ci: &BootstrapCi| {
        [
            ci.estimate,
            ci.std_error,
            ci.percentile_low,
            ci.percentile_high,
            ci.bca_low,
            ci.bca_high,
            ci.z0,
            ci.acceleration,
        ]
    };
    for (g, f) in fields(&generic).iter().zip(fields(&fast)) {
        assert_close("generic vs fast", *g, f);
    }
}

// ----------------------------------------------------- randomisation tests --

struct RiCase {
    y: Vec<f64>,
    treated: Vec<bool>,
    blocks: Option<Clusters>,
    clusters: Option<Clusters>,
}

impl RiCase {
    fn load(f: &Value) -> Self {
        let mut d = Csv::load(f["data"].as_str().unwrap());
        if let Some(flt) = f["filter"].as_object() {
            let vals: Vec<&str> = flt["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            d = d.filter(flt["column"].as_str().unwrap(), &vals);
        }
        let want = match &f["treated"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let treated = d
            .strs(f["treatment"].as_str().unwrap())
            .iter()
            .map(|v| *v == want)
            .collect();
        let group = |key: &str| {
            f["design"][key]
                .as_str()
                .map(|c| Clusters::from_labels(d.strs(c)))
        };
        Self {
            y: d.nums(f["outcome"].as_str().unwrap()),
            treated,
            blocks: group("block"),
            clusters: group("cluster"),
        }
    }

    fn design(&self) -> Design<'_> {
        match (&self.blocks, &self.clusters) {
            (None, None) => Design::Complete,
            (Some(b), None) => Design::Blocked(b),
            (None, Some(c)) => Design::Clustered(c),
            (Some(b), Some(c)) => Design::BlockedClustered {
                blocks: b,
                clusters: c,
            },
        }
    }
}

const RI_CASES: [&str; 5] = [
    "ri_plantgrowth_trt1",
    "ri_plantgrowth_trt2",
    "ri_sleep_blocked",
    "ri_religious_clustered",
    "ri_awards_pairs_clustered",
];

#[test]
fn exact_randomisation_tests_match_full_enumeration() {
    for name in RI_CASES {
        let f = fixture(name);
        let case = RiCase::load(&f);
        let opts = ResampleOptions::new(1_000_000, 1);
        let null = ri::null_distribution(&case.y, &case.treated, &case.design(), &opts).unwrap();
        let res = null.test();
        let n = f["assignments"].as_u64().unwrap();
        assert!(res.exact, "{name}");
        assert_eq!(res.reps, n, "{name}");
        assert_eq!(res.assignments, n as f64, "{name}");
        assert_close(
            &format!("{name} observed"),
            res.estimate,
            f["observed"].as_f64().unwrap(),
        );
        assert_eq!(res.n_extreme, f["n_extreme"].as_u64().unwrap(), "{name}");
        for row in f["results"].as_array().unwrap() {
            assert_close(
                &format!("{name} p [{}]", row["package"]),
                res.p_value,
                row["p_value"].as_f64().unwrap(),
            );
        }
        // The enumerated set, through its first two moments.
        let k = null.values.len() as f64;
        let mean = null.values.iter().sum::<f64>() / k;
        let sd = (null.values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
        let want_sd = f["null_sd"].as_f64().unwrap();
        assert!(
            (mean - f["null_mean"].as_f64().unwrap()).abs() <= 1e-12 * want_sd,
            "{name} null mean {mean}"
        );
        assert_close(&format!("{name} null sd"), sd, want_sd);
    }
}

#[test]
fn monte_carlo_randomisation_p_values_agree_with_exact_ones() {
    for (name, reps) in [
        ("ri_plantgrowth_trt2", 20_000),
        ("ri_sleep_blocked", 1_000),
        ("ri_religious_clustered", 200),
        ("ri_awards_pairs_clustered", 10_000),
    ] {
        let f = fixture(name);
        let case = RiCase::load(&f);
        let res = ri::randomization_test(
            &case.y,
            &case.treated,
            &case.design(),
            &ResampleOptions::new(reps, 7),
        )
        .unwrap();
        assert!(!res.exact && res.reps == reps, "{name}");
        assert_eq!(res.p_value, (res.n_extreme + 1) as f64 / (reps + 1) as f64);
        let p = f["p_value"].as_f64().unwrap();
        let mc_se = (p * (1.0 - p) / reps as f64).sqrt();
        assert!(
            (res.p_value - p).abs() <= MC_Z * mc_se + 1.0 / (reps + 1) as f64,
            "{name}: Monte Carlo p {} vs exact {p} (MC se {mc_se:.2e})",
            res.p_value
        );
    }
}

#[test]
fn randomisation_distribution_has_the_analytic_mean_and_variance() {
    // Complete randomisation of m of n units: the difference in means has mean 0 and
    // variance S²·n/(m(n − m)) over the assignments, S² the sample variance of all n
    // outcomes (e.g. Imbens & Rubin 2015, §6.4). LaLonde: 185 of 445, large enough for
    // the bit-mask draws; achievement awards: 1945 of 3821 (binary outcome).
    let (t, c) = lalonde_re78();
    let aw = Csv::load("tests/fixtures/data/achievement_awards_2001.csv");
    let at: Vec<bool> = aw.nums("treated").iter().map(|v| *v == 1.0).collect();
    let cases = [
        (
            t.iter().chain(&c).copied().collect::<Vec<f64>>(),
            (0..t.len() + c.len())
                .map(|i| i < t.len())
                .collect::<Vec<bool>>(),
        ),
        (aw.nums("Bagrut_status"), at),
    ];
    for (y, tr) in cases {
        let n = y.len() as f64;
        let m = tr.iter().filter(|&&b| b).count() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let s2 = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let sd = (s2 * n / (m * (n - m))).sqrt();
        let reps = 20_000;
        let null =
            ri::null_distribution(&y, &tr, &Design::Complete, &ResampleOptions::new(reps, 5))
                .unwrap();
        assert!(!null.exact);
        let r = reps as f64;
        let got_mean = null.values.iter().sum::<f64>() / r;
        let got_sd = (null
            .values
            .iter()
            .map(|v| (v - got_mean).powi(2))
            .sum::<f64>()
            / (r - 1.0))
            .sqrt();
        assert!(
            got_mean.abs() <= MC_Z * sd / r.sqrt(),
            "mean {got_mean} (sd {sd})"
        );
        assert_rel("randomisation sd", got_sd, sd, MC_Z / (2.0 * r).sqrt());
    }
}

// ----------------------------------------------------- wild cluster bootstrap --

fn wild_setup(f: &Value) -> WildClusterBootstrap {
    let d = Csv::load(f["data"].as_str().unwrap());
    let y = d.nums(f["outcome"].as_str().unwrap());
    let mut cols = vec![d.nums("treated")];
    for c in f["covariates"].as_array().unwrap() {
        cols.push(d.nums(c.as_str().unwrap()));
    }
    let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    let cl = Clusters::from_labels(d.strs(f["cluster"].as_str().unwrap()));
    let j = f["coef_index"].as_u64().unwrap() as usize;
    WildClusterBootstrap::new(&y, &x, true, &cl, j).unwrap()
}

const WILD_CASES: [&str; 3] = [
    "wild_religious_bagrut_adjusted",
    "wild_religious_bagrut_unadjusted",
    "wild_religious_awarded_adjusted",
];

#[test]
fn wild_bootstrap_enumeration_matches_brute_force_refits() {
    for name in WILD_CASES {
        let f = fixture(name);
        let wb = wild_setup(&f);
        assert_close(
            &format!("{name} estimate"),
            wb.estimate(),
            f["estimate"].as_f64().unwrap(),
        );
        assert_close(
            &format!("{name} se"),
            wb.std_error(),
            f["std_error"].as_f64().unwrap(),
        );
        let t = wb.statistic(0.0);
        assert_close(&format!("{name} t"), t, f["statistic"].as_f64().unwrap());

        let opts = ResampleOptions::new(9_999, 1);
        let draws = wb.draw(WildWeights::Rademacher, &opts).unwrap();
        assert!(draws.enumerated());
        assert_eq!(draws.reps(), 1024);
        // Every draw, in the documented order (draw r flips the clusters of r's bits).
        for (r, (got, want)) in draws.t_stats(0.0).zip(f64s(&f["t_star"])).enumerate() {
            assert_close(&format!("{name} t* of draw {r}"), got, want);
        }
        let res = wb.run(WildWeights::Rademacher, &opts).unwrap();
        assert_eq!(res.n_extreme, f["n_extreme"].as_u64().unwrap(), "{name}");
        assert_eq!(res.p_value, f["p_value"].as_f64().unwrap(), "{name}");
        for row in f["results"].as_array().unwrap() {
            let want = row["n_extreme"].as_u64().unwrap();
            // wildboottest counts strictly: it may leave out the draws that tie.
            let ties = f["n_ties"].as_u64().unwrap();
            assert!(
                want <= res.n_extreme && res.n_extreme <= want + ties,
                "{name} [{}]: {} vs {want}",
                row["package"],
                res.n_extreme
            );
        }
        // p-values at other null values.
        for nl in f["nulls"].as_array().unwrap() {
            let c = nl["null"].as_f64().unwrap();
            assert_eq!(
                draws.n_extreme(c),
                nl["n_extreme"].as_u64().unwrap(),
                "{name} null {c}"
            );
        }
        // The interval by test inversion against the exact crossing points.
        let ci = &f["ci"];
        assert_close(
            &format!("{name} ci_low"),
            res.ci_low,
            ci["ci_low"].as_f64().unwrap(),
        );
        assert_close(
            &format!("{name} ci_high"),
            res.ci_high,
            ci["ci_high"].as_f64().unwrap(),
        );
        // Webb draws for given weight vectors, at two null values.
        for w in f["webb"].as_array().unwrap() {
            let weights = f64s(&w["weights"]);
            for (c, want) in f64s(&w["null"]).into_iter().zip(f64s(&w["t"])) {
                let got = wb.replicate_t(&weights, c).unwrap();
                assert_close(&format!("{name} Webb t* at {c}"), got, want);
            }
        }
    }
}

#[test]
fn monte_carlo_wild_bootstrap_agrees_with_enumeration() {
    for name in WILD_CASES {
        let f = fixture(name);
        let wb = wild_setup(&f);
        // 999 < 2^10 draws: random signs.
        let reps = 999;
        let res = wb
            .run(WildWeights::Rademacher, &ResampleOptions::new(reps, 11))
            .unwrap();
        assert!(!res.enumerated && res.reps == reps);
        let p = f["p_value"].as_f64().unwrap();
        let mc_se = (p * (1.0 - p) / reps as f64).sqrt();
        assert!(
            (res.p_value - p).abs() <= MC_Z * mc_se,
            "{name}: {} vs {p}",
            res.p_value
        );
        // Webb draws give a valid p-value and an interval around the estimate.
        let webb = wb
            .run(WildWeights::Webb, &ResampleOptions::new(reps, 11))
            .unwrap();
        assert!(webb.p_value > 0.0 && webb.p_value <= 1.0);
        assert!(webb.ci_low < webb.estimate && webb.estimate < webb.ci_high);
    }
}

// ------------------------------------------------------------ determinism --

#[test]
fn same_seed_same_result_on_one_and_two_threads() {
    let (t, c) = lalonde_re78();
    let data: Vec<f64> = t.iter().chain(&c).copied().collect();
    let labels: Vec<u8> = (0..data.len()).map(|i| u8::from(i >= t.len())).collect();
    let strata = Clusters::from_labels(&labels);
    let aw = Csv::load("tests/fixtures/data/achievement_awards_2001.csv");
    let ay = aw.nums("awarded");
    let at: Vec<bool> = aw.nums("treated").iter().map(|v| *v == 1.0).collect();
    let (awt, awc): (Vec<f64>, Vec<f64>) = {
        let t = ay.iter().zip(&at).filter(|p| *p.1).map(|p| *p.0).collect();
        let c = ay.iter().zip(&at).filter(|p| !*p.1).map(|p| *p.0).collect();
        (t, c)
    };
    let blocks = Clusters::from_labels(aw.strs("pair"));
    let schools = Clusters::from_labels(aw.strs("school_id"));
    let wild = wild_setup(&fixture(WILD_CASES[0]));

    let run = |threads: usize| {
        pool(threads).install(|| {
            let o = ResampleOptions::new(3_000, 42);
            (
                bootstrap::mean_difference(&t, &c, &o).unwrap(),
                bootstrap::mean_difference(&awt, &awc, &o).unwrap(),
                bootstrap::bootstrap(&strata, mean_difference_statistic(&data), &o).unwrap(),
                ri::randomization_test(
                    &data,
                    &labels.iter().map(|l| *l == 0).collect::<Vec<_>>(),
                    &Design::Complete,
                    &o,
                )
                .unwrap(),
                ri::null_distribution(
                    &ay,
                    &at,
                    &Design::BlockedClustered {
                        blocks: &blocks,
                        clusters: &schools,
                    },
                    &o,
                )
                .unwrap(),
                wild.run(WildWeights::Webb, &o).unwrap(),
                wild.run(WildWeights::Rademacher, &ResampleOptions::new(500, 42))
                    .unwrap(),
            )
        })
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
    assert_eq!(one.2, two.2);
    assert_eq!(one.3, two.3);
    assert_eq!(one.4, two.4);
    assert_eq!(one.5, two.5);
    assert_eq!(one.6, two.6);
    // And a different seed gives different draws.
    let other = pool(2)
        .install(|| bootstrap::mean_difference(&t, &c, &ResampleOptions::new(3_000, 43)).unwrap());
    assert_ne!(one.0.std_error, other.std_error);
}

#[test]
fn progress_reports_add_up_to_the_work() {
    let (t, c) = lalonde_re78();
    let done = AtomicU64::new(0);
    let cb = |k: u64| {
        done.fetch_add(k, Ordering::Relaxed);
    };
    let o = ResampleOptions::new(1_000, 3).with_progress(&cb);
    bootstrap::mean_difference(&t, &c, &o).unwrap();
    assert_eq!(done.swap(0, Ordering::Relaxed), 1_000);
    let y: Vec<f64> = t.iter().chain(&c).copied().collect();
    let tr: Vec<bool> = (0..y.len()).map(|i| i < t.len()).collect();
    ri::randomization_test(&y, &tr, &Design::Complete, &o).unwrap();
    assert_eq!(done.swap(0, Ordering::Relaxed), 1_000);
    // The generic path also reports its jackknife: reps + n.
    let strata = Clusters::from_labels(&tr);
    bootstrap::bootstrap(&strata, mean_difference_statistic(&y), &o).unwrap();
    assert_eq!(done.swap(0, Ordering::Relaxed), 1_000 + y.len() as u64);
}

#[test]
fn ties_use_the_documented_tolerance() {
    assert_eq!(TIE_RTOL, 1e-9);
    // Binary outcome, complete randomisation: many assignments tie with the observed
    // statistic exactly; they count.
    let y = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0];
    let t = [true, true, true, false, false, false];
    let r =
        ri::randomization_test(&y, &t, &Design::Complete, &ResampleOptions::new(100, 1)).unwrap();
    // Observed 2/3 − 1/3 = 1/3; every assignment has |d| = 1/3 or 1 (computed as
    // 2/3 − 1/3 or 1/3 − 2/3, which need not round to the same magnitude).
    assert!(r.exact && r.reps == 20);
    assert_eq!(r.n_extreme, 20);
}

#[test]
fn invalid_inputs_are_reported() {
    let o = ResampleOptions::new(100, 1);
    assert!(bootstrap::mean_difference(&[1.0], &[1.0, 2.0], &o).is_err());
    assert!(bootstrap::mean_difference(&[1.0, f64::NAN], &[1.0, 2.0], &o).is_err());
    assert!(
        bootstrap::mean_difference(&[1.0, 2.0], &[1.0, 2.0], &ResampleOptions::new(0, 1)).is_err()
    );
    assert!(ri::randomization_test(&[1.0, 2.0], &[true, true], &Design::Complete, &o).is_err());
    let one = Clusters::from_labels(&[1, 1, 1, 1]);
    let x = [0.0, 1.0, 0.0, 1.0];
    assert!(WildClusterBootstrap::new(&[1.0, 2.0, 3.0, 4.0], &[&x], true, &one, 1).is_err());
}

// ------------------------------------------------------------- performance --

/// Process CPU time (user + system) in seconds, from /proc/self/stat (Linux); NaN
/// elsewhere. With other work on the machine it says more than the wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (tick(11), tick(12)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

/// Timings for issue 6 (10,000 draws on 100,000 units). Run with
/// `cargo test --release --test resample -- --ignored --nocapture timings`.
#[test]
#[ignore]
fn timings() {
    use std::time::Instant;
    let time = |what: &str, f: &mut dyn FnMut() -> String| {
        let (c0, w0) = (cpu_seconds(), Instant::now());
        let note = f();
        println!(
            "{what}: {:.3} s wall, {:.2} s CPU{note}",
            w0.elapsed().as_secs_f64(),
            cpu_seconds() - c0
        );
    };
    let n = 100_000;
    let mut rng = via_eval::stats::resample::replicate_rng(2026, 0);
    // Exponential outcomes with mean 1000 (skewed, like earnings).
    let y: Vec<f64> = (0..n)
        .map(|_| {
            let u = (rand::RngCore::next_u64(&mut rng) >> 11) as f64 / (1u64 << 53) as f64;
            -1000.0 * (1.0 - u).ln()
        })
        .collect();
    let treated: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    let split = |v: &[f64]| -> (Vec<f64>, Vec<f64>) {
        (
            v.iter().step_by(2).copied().collect(),
            v.iter().skip(1).step_by(2).copied().collect(),
        )
    };
    let (t, c) = split(&y);
    let o = ResampleOptions::new(10_000, 1);
    println!("rayon threads: {}", rayon::current_num_threads());
    time(
        "RI, complete randomisation, 10,000 permutations, 100k units",
        &mut || {
            let r = ri::randomization_test(&y, &treated, &Design::Complete, &o).unwrap();
            format!(" (p = {:.4})", r.p_value)
        },
    );
    time(
        "BCa bootstrap of a mean difference, 10,000 resamples, 100k units",
        &mut || {
            let b = bootstrap::mean_difference(&t, &c, &o).unwrap();
            format!(
                " (se = {:.3}, BCa [{:.2}, {:.2}])",
                b.std_error, b.bca_low, b.bca_high
            )
        },
    );
    let yb: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v > 700.0))).collect();
    let (tb, cb) = split(&yb);
    time(
        "BCa bootstrap, binary outcome (counts path), 10,000 resamples, 100k units",
        &mut || {
            bootstrap::mean_difference(&tb, &cb, &o).unwrap();
            String::new()
        },
    );
    let strata = Clusters::from_labels(&treated);
    let stat = mean_difference_statistic(&y);
    time(
        "generic bootstrap, replicates only, 10,000 resamples, 100k units",
        &mut || {
            bootstrap::replicates(&strata, &stat, &o).unwrap();
            String::new()
        },
    );
    let cl: Vec<u32> = (0..n as u32).map(|i| i % 1000).collect();
    let clusters = Clusters::from_labels(&cl);
    let ct: Vec<bool> = cl.iter().map(|c| c % 2 == 0).collect();
    time(
        "RI, 1,000 clusters, 10,000 permutations, 100k units",
        &mut || {
            ri::randomization_test(&y, &ct, &Design::Clustered(&clusters), &o).unwrap();
            String::new()
        },
    );
    let blocks: Vec<u32> = (0..n as u32).map(|i| (i / 2) % 50).collect();
    let blocks = Clusters::from_labels(&blocks);
    time(
        "RI, 50 blocks of 2,000 units, 10,000 permutations",
        &mut || {
            ri::randomization_test(&y, &treated, &Design::Blocked(&blocks), &o).unwrap();
            String::new()
        },
    );
    let x: Vec<f64> = ct.iter().map(|&b| f64::from(u8::from(b))).collect();
    let z: Vec<f64> = (0..n).map(|i| (i % 17) as f64).collect();
    time(
        "wild cluster bootstrap, 1,000 clusters, 100k rows, k = 3, 10,000 Webb draws + CI",
        &mut || {
            let wb = WildClusterBootstrap::new(&y, &[&x, &z], true, &clusters, 1).unwrap();
            let r = wb.run(WildWeights::Webb, &o).unwrap();
            format!(" (p = {:.3})", r.p_value)
        },
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!(
            "peak resident memory of the test process: {}",
            line[6..].trim()
        );
    }
}
