//! Issue 18 items 1, 3 and 9: the finding per primary outcome in plain words (results
//! `summary`, the report's opening box) and the baseline balance table (`balance`).

use std::path::Path;

use via_eval::analysis::findings::Verdict;
use via_eval::analysis::{self, Options, PilotResults, Privacy, Threshold};
use via_eval::config::{self, PilotSpec};
use via_eval::numfmt::{fmt_p, fmt_value, localise};

mod common;
use common::{assert_close, root};

fn evaluate(slug: &str, privacy: Privacy) -> PilotResults {
    let spec = config::load_slug(&root().join("pilots"), slug).unwrap();
    let data = root().join("notebooks-data");
    let input = via_eval::prepare::load(&spec, &data, &Default::default())
        .unwrap()
        .input;
    analysis::run(&spec, &input, &Options::default(), privacy).unwrap()
}

fn protected(slug: &str) -> PilotResults {
    evaluate(slug, Privacy::Control(Threshold::default()))
}

const PILOTS: [&str; 8] = [
    "uwv-dienstverlening-ww",
    "intensieve-begeleiding",
    "leren-en-werken",
    "voorbereiding-mbo",
    "ouderbetrokkenheid-vmbo",
    "werving-en-selectie",
    "culturele-diversiteit",
    "behoud-en-doorstroom",
];

/// The numbers a sentence quotes, as written ("22,4", "−1,96", "0.190").
fn numbers_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || ((c == '.' || c == ',') && !cur.is_empty() && next_digit) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_number_in_a_summary_sentence_is_in_the_results() {
    let mut checked = 0;
    for slug in PILOTS {
        let r = protected(slug);
        let primaries = r.outcomes.iter().filter(|o| o.primary).count();
        assert!(
            primaries == 0 || !r.summary.is_empty(),
            "{slug}: no findings"
        );
        for f in &r.summary {
            let o = r.outcome(&f.outcome).unwrap();
            assert!(o.primary, "{slug}: a finding for a secondary outcome");
            let e = r
                .estimates
                .iter()
                .find(|e| {
                    e.outcome == f.outcome
                        && e.subset == analysis::POOLED
                        && e.headline
                        && e.treated == f.treated
                        && e.estimator == f.estimator
                })
                .expect("the finding quotes a headline estimate");
            for (lang, text) in [
                (config::Lang::Nl, &f.text.nl),
                (config::Lang::En, &f.text.en),
            ] {
                // Every number the results publish for this comparison, as written.
                let fd = if e.scale == analysis::Scale::Difference {
                    o.display_factor
                } else {
                    1.0
                };
                let mut allowed: Vec<String> = Vec::new();
                let mut add = |x: f64| {
                    allowed.push(localise(&fmt_value(x), lang).replace('-', ""));
                };
                for x in [e.estimate, e.ci_low, e.ci_high] {
                    add(x * fd);
                }
                if let Some(m) = e.mde {
                    add(m * fd);
                }
                for v in [e.e_value, e.e_value_ci].into_iter().flatten() {
                    add(v);
                }
                for arm in [&e.treated, &e.control] {
                    if let Some(s) = r.arm_summary(&e.outcome, &e.subset, arm) {
                        add(s.mean * o.display_factor);
                    }
                }
                let p = e.p_value_adjusted.unwrap_or(e.p_value);
                allowed.push(localise(&fmt_p(p), lang).replace("< ", ""));
                if let Some(h) = e.horizon {
                    allowed.push(format!("{h:.0}"));
                }
                // The confidence level and the power of the MDE are stated numbers.
                allowed.extend(["95".into(), "80".into(), "0,001".into(), "0.001".into()]);
                // Digits inside arm and outcome labels ("2019", "12 months").
                let labels = format!(
                    "{} {} {} {}",
                    r.arm_label(&e.treated, lang),
                    r.arm_label(&e.control, lang),
                    o.unit.get(lang),
                    o.label.get(lang)
                );
                let in_labels = numbers_in(&labels);
                for n in numbers_in(text) {
                    assert!(
                        allowed.contains(&n) || in_labels.contains(&n),
                        "{slug} {}: '{n}' in the summary is not a published number\n{text}\nallowed: {allowed:?}",
                        f.outcome
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn the_verdict_follows_the_interval_and_the_design_caveat_the_design() {
    // uwv: personal services clearly better (the truth is +2 pp); randomised.
    let r = protected("uwv-dienstverlening-ww");
    let f = r
        .summary
        .iter()
        .find(|f| f.treated == "persoonlijk")
        .expect("a finding for personal services");
    assert_eq!(f.verdict, Verdict::Better);
    assert!(f.text.en.contains("formed by lottery"), "{}", f.text.en);
    assert!(f.text.nl.contains("loting"), "{}", f.text.nl);
    // leren-en-werken: interval contains zero; not randomised; MDE stated.
    let r = protected("leren-en-werken");
    let f = &r.summary[0];
    assert_eq!(f.verdict, Verdict::NotShown);
    assert!(f.text.en.contains("not formed by lottery"), "{}", f.text.en);
    assert!(f.text.en.contains("a smaller effect may have been missed"));
    assert!(f.text.nl.contains("niet door loting"), "{}", f.text.nl);
    // Dutch numbers have a decimal comma and no English words.
    assert!(f.text.nl.contains("30,4%"), "{}", f.text.nl);
    for word in [" the ", " interval contains", "percentage points"] {
        assert!(!f.text.nl.contains(word), "'{word}' in {}", f.text.nl);
    }
    // behoud-en-doorstroom: before/after, restricted mean up to the horizon.
    let r = protected("behoud-en-doorstroom");
    assert!(
        r.summary
            .iter()
            .all(|f| f.text.en.contains("no comparison group")),
        "{:?}",
        r.summary
    );
    assert!(
        r.summary
            .iter()
            .any(|f| f.text.en.contains("over the first 24 months"))
    );
}

#[test]
fn the_report_opens_with_the_findings_then_the_effects_chart() {
    let r = protected("leren-en-werken");
    for lang in [config::Lang::En, config::Lang::Nl] {
        let blocks = via_eval::report::document::build(&r, lang);
        let pos = |pred: &dyn Fn(&via_eval::report::document::Block) -> bool| {
            blocks.iter().position(pred).expect("block present")
        };
        use via_eval::report::document::Block;
        let finding = pos(&|b| matches!(b, Block::Finding { .. }));
        let chart = pos(&|b| matches!(b, Block::Chart { stem, .. } if stem == "effects"));
        let first_table = pos(&|b| matches!(b, Block::Table(_)));
        assert!(
            finding < chart && chart < first_table,
            "{finding} {chart} {first_table}"
        );
        // Detailed tables name estimators in words; codes only in the methods list.
        let md = via_eval::report::markdown::render(&blocks);
        let main = md.split("## Verantwoording").next().unwrap();
        let main = main.split("## Methods").next().unwrap();
        for code in ["ols_adjusted_ipcw", "rmst_difference", "ols_adjusted (HC2)"] {
            assert!(!main.contains(code), "{code} before the methods");
            assert!(md.contains(code), "{code} not in the methods");
        }
    }
}

#[test]
fn balance_agrees_with_an_independent_computation() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/balance_pilots.json"))
            .unwrap(),
    )
    .unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut by_pilot: std::collections::BTreeMap<String, PilotResults> = Default::default();
    for c in cases {
        let slug = c["pilot"].as_str().unwrap();
        let r = by_pilot
            .entry(slug.to_string())
            .or_insert_with(|| evaluate(slug, Privacy::Off));
        let row = r
            .balance
            .iter()
            .find(|b| {
                b.covariate == c["covariate"].as_str().unwrap()
                    && b.treated == c["treated"].as_str().unwrap()
            })
            .unwrap_or_else(|| panic!("{slug}: no balance row for {c}"));
        let what = format!("{slug} {}", row.covariate);
        assert_close(
            &what,
            row.mean_treated.unwrap(),
            c["mean_treated"].as_f64().unwrap(),
        );
        assert_close(
            &what,
            row.mean_control.unwrap(),
            c["mean_control"].as_f64().unwrap(),
        );
        assert_close(&what, row.smd.unwrap(), c["smd"].as_f64().unwrap());
        assert_eq!(row.imbalanced, row.smd.unwrap().abs() > 0.1);
    }
}

/// A small pilot written to a temporary folder: arm "t" has 12 persons, arm "c" 30;
/// `rare` is 1 for 3 of the treated, `age` is continuous.
fn small_pilot(dir: &Path) -> PilotSpec {
    let mut csv = String::from("id,arm,y,age,rare,female\n");
    for i in 0..42 {
        let arm = if i < 12 { "t" } else { "c" };
        let rare = u8::from(i < 3 || (12..20).contains(&i));
        let female = i % 2;
        csv.push_str(&format!(
            "{i},{arm},{},{},{rare},{female}\n",
            (i * 7 % 10) as f64 / 2.0,
            20 + (i * 13) % 30
        ));
    }
    std::fs::write(dir.join("small.csv"), csv).unwrap();
    let toml = r#"
slug = "small"
title = { nl = "Klein", en = "Small" }
description = { nl = "Klein", en = "Small" }
unit = { nl = "persoon", en = "person" }
covariates = ["age", "rare", "female"]
sources = ["test"]
[design]
kind = "matched-comparison"
[data]
file = "small.csv"
id = "id"
[arms]
column = "arm"
control = "c"
values = [
  { value = "t", label = { nl = "Deelnemers", en = "Participants" } },
  { value = "c", label = { nl = "Vergelijking", en = "Comparison" } },
]
[[outcomes]]
id = "y"
column = "y"
kind = "continuous"
primary = true
better = "higher"
label = { nl = "Y", en = "Y" }
unit = { nl = "punten", en = "points" }
"#;
    PilotSpec::from_toml(toml, &dir.join("small.toml")).unwrap()
}

#[test]
fn disclosure_control_holds_in_the_balance_table() {
    let dir = tempfile::tempdir().unwrap();
    let spec = small_pilot(dir.path());
    let input = via_eval::prepare::load(&spec, dir.path(), &Default::default())
        .unwrap()
        .input;
    let r = analysis::run(
        &spec,
        &input,
        &Options::default(),
        Privacy::Control(Threshold::default()),
    )
    .unwrap();
    let row = |c: &str| r.balance.iter().find(|b| b.covariate == c).unwrap();
    // 12 participants: a mean of a continuous covariate may be shown.
    assert!(!row("age").suppressed && row("age").mean_treated.is_some());
    // 3 participants with `rare`: the share would reveal them.
    assert!(row("rare").suppressed);
    assert_eq!(
        (
            row("rare").mean_treated,
            row("rare").mean_control,
            row("rare").smd
        ),
        (None, None, None)
    );
    // 6 of 12 participants female: fewer than 10 at each value, withheld too.
    assert!(row("female").suppressed);
    // Without disclosure control everything is shown.
    let open = analysis::run(&spec, &input, &Options::default(), Privacy::Off).unwrap();
    assert!(
        open.balance
            .iter()
            .all(|b| !b.suppressed && b.smd.is_some())
    );
    // And the report reads "suppressed", never a number, for the withheld rows.
    let md = via_eval::report::markdown::render(&via_eval::report::document::build(
        &r,
        config::Lang::En,
    ));
    let line = md.lines().find(|l| l.starts_with("| rare |")).unwrap();
    assert!(line.contains("suppressed") && !line.contains('%'), "{line}");
}

#[test]
fn the_standardised_difference_flips_with_the_arms_and_ignores_a_shift() {
    use via_eval::stats::describe::{Moments, standardised_mean_difference as smd};
    let t = [3.0, 5.5, 7.25, 2.0, 9.0];
    let c = [1.0, 4.0, 2.5, 6.0];
    let (mt, mc) = (Moments::of(&t), Moments::of(&c));
    let d = smd(mt, mc, false).unwrap();
    assert_close("swap", smd(mc, mt, false).unwrap(), -d);
    let shift = |x: &[f64]| x.iter().map(|v| v + 1000.0).collect::<Vec<_>>();
    let d_shift = smd(Moments::of(&shift(&t)), Moments::of(&shift(&c)), false).unwrap();
    assert!((d_shift - d).abs() < 1e-9, "{d_shift} {d}");
    // By hand: means 5.35 and 3.375, variances 8.425 and 4.5625 (n - 1).
    assert_close(
        "by hand",
        d,
        (5.35 - 3.375) / ((8.425 + 4.5625) / 2.0_f64).sqrt(),
    );
    // 0/1: variance p(1 - p); constant equal groups differ by 0; unequal ones by nothing.
    let b = smd(
        Moments::of(&[1.0, 1.0, 0.0, 0.0]),
        Moments::of(&[1.0, 0.0, 0.0, 0.0]),
        true,
    );
    assert_close(
        "binary",
        b.unwrap(),
        0.25 / ((0.25 + 0.1875) / 2.0_f64).sqrt(),
    );
    assert_eq!(
        smd(Moments::of(&[2.0, 2.0]), Moments::of(&[2.0]), false),
        Some(0.0)
    );
    assert_eq!(
        smd(Moments::of(&[2.0, 2.0]), Moments::of(&[3.0, 3.0]), false),
        None
    );
    assert_eq!(smd(Moments::of(&[]), Moments::of(&[3.0, 3.0]), false), None);
}

#[test]
fn the_flow_adds_up_and_agrees_with_a_count_of_the_data() {
    // An independent count of the UWV file: rows per arm and empty outcome cells.
    let text =
        std::fs::read_to_string(root().join("notebooks-data/uwv-dienstverlening-ww.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (arm, y, st) = (col("arm"), col("work_12m"), col("started"));
    let mut rows = std::collections::BTreeMap::<String, (usize, usize)>::new();
    // Per arm: started (1), did not start (0), not recorded (empty).
    let mut starts = std::collections::BTreeMap::<String, [usize; 3]>::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let e = rows.entry(f[arm].to_string()).or_default();
        e.0 += 1;
        if f[y].trim().is_empty() {
            e.1 += 1;
        }
        let s = starts.entry(f[arm].to_string()).or_default();
        match f[st].trim() {
            "1" => s[0] += 1,
            "0" => s[1] += 1,
            _ => s[2] += 1,
        }
    }
    let r = protected("uwv-dienstverlening-ww");
    let flow: Vec<_> = r.flow.iter().filter(|f| f.outcome == "work_12m").collect();
    assert_eq!(flow.len(), 3);
    for f in &flow {
        let (n, missing) = rows[&f.arm];
        assert_eq!(f.assigned, Some(n), "{}", f.arm);
        assert_eq!(f.missing.no_outcome, Some(missing), "{}", f.arm);
        assert_eq!(f.followed_up, Some(n - missing), "{}", f.arm);
        let [yes, no, unknown] = starts[&f.arm];
        assert!(f.started_recorded);
        assert_eq!(f.started, Some(yes), "{}", f.arm);
        assert_eq!(f.not_started, Some(no), "{}", f.arm);
        assert_eq!(f.started_unknown, Some(unknown), "{}", f.arm);
    }
    // Personal services: about 9 in 10 started; the control arms all did.
    let started = |arm: &str| flow.iter().find(|f| f.arm == arm).unwrap().started;
    assert!(started("persoonlijk").unwrap() < 76_000);
    assert_eq!(started("handhaving"), Some(10_000));
    // In every pilot, the published counts add up.
    for slug in PILOTS {
        let r = protected(slug);
        for f in &r.flow {
            if let (Some(a), Some(fu), Some(no)) = (f.assigned, f.followed_up, f.missing.no_outcome)
            {
                assert_eq!(a, fu + no, "{slug} {} {}", f.outcome, f.arm);
            }
            if let (Some(a), Some(y), Some(n), Some(u)) =
                (f.assigned, f.started, f.not_started, f.started_unknown)
            {
                assert_eq!(a, y + n + u, "{slug} {} {}", f.outcome, f.arm);
            }
            // A published start count never leaves a small rest to subtract.
            if let (Some(a), Some(y)) = (f.assigned, f.started) {
                let rest = a - y;
                assert!(rest == 0 || rest >= 10, "{slug} {}", f.arm);
                assert!(y == 0 || y >= 10, "{slug} {}", f.arm);
            }
            if let (Some(fu), Some(an), Some(c), Some(o)) = (
                f.followed_up,
                f.analysed,
                f.missing.missing_covariate,
                f.missing.other,
            ) {
                assert_eq!(
                    fu,
                    an + c + f.missing.missing_cluster.unwrap_or(0) + o,
                    "{slug} {}",
                    f.arm
                );
            }
        }
    }
}

#[test]
fn without_a_lottery_every_estimate_says_how_strong_a_hidden_confounder_must_be() {
    let r = protected("leren-en-werken");
    // The headline is entropy balancing (`design.headline`); its E-value converts the
    // difference with the weighted comparison share (analysis::weighting).
    let h = r
        .estimates
        .iter()
        .find(|e| e.outcome == "work_12m" && e.subset == analysis::POOLED && e.headline)
        .unwrap();
    assert_eq!(h.estimator, "entropy_att");
    assert!(h.e_value.unwrap() > 1.0);
    if h.ci_low <= 0.0 && h.ci_high >= 0.0 {
        assert_eq!(h.e_value_ci, Some(1.0));
    }
    // The regression beside it: by hand (VanderWeele & Ding 2017), RR = (p0 + RD) / p0
    // with the comparison arm's share.
    let e = r
        .estimates
        .iter()
        .find(|e| {
            e.outcome == "work_12m"
                && e.subset == analysis::POOLED
                && e.estimator == "ols_adjusted_ipcw"
        })
        .unwrap();
    let p0 = r
        .arm_summary("work_12m", analysis::POOLED, &e.control)
        .unwrap()
        .mean;
    let rr = (p0 + e.estimate) / p0;
    assert_close("E-value", e.e_value.unwrap(), rr + (rr * (rr - 1.0)).sqrt());
    // The limit nearest to no effect: 1 when the interval contains 0, else its own.
    if e.ci_low <= 0.0 {
        assert_eq!(e.e_value_ci, Some(1.0));
    } else {
        let rl = (p0 + e.ci_low) / p0;
        assert_close(
            "E-value of the limit",
            e.e_value_ci.unwrap(),
            rl + (rl * (rl - 1.0)).sqrt(),
        );
    }
    assert!(r.summary[0].text.en.contains("E-value"));
    assert!(r.summary[0].text.nl.contains("E-waarde"));
    // A randomised pilot has none.
    let u = protected("uwv-dienstverlening-ww");
    assert!(u.estimates.iter().all(|e| e.e_value.is_none()));
    assert!(u.summary.iter().all(|f| !f.text.en.contains("E-value")));
    // Withheld estimates have none.
    assert!(
        r.estimates
            .iter()
            .filter(|e| e.suppressed)
            .all(|e| e.e_value.is_none())
    );
}

#[test]
fn a_start_count_that_leaves_a_small_rest_is_withheld() {
    // Intensieve begeleiding: a few in each arm did not start (fewer than 10), so
    // publishing the starters would give that small number by subtraction.
    let r = protected("intensieve-begeleiding");
    assert!(!r.flow.is_empty());
    for f in &r.flow {
        assert!(f.started_recorded);
        assert_eq!(
            (f.started, f.not_started, f.started_unknown),
            (None, None, None)
        );
    }
    let blocks = via_eval::report::document::build(&r, via_eval::config::Lang::En);
    let md = via_eval::report::markdown::render(&blocks);
    let flow = md.split("## Participant flow").nth(1).unwrap();
    let row = flow.lines().find(|l| l.contains("| Intensive")).unwrap();
    assert!(row.contains("suppressed"), "{row}");
}
