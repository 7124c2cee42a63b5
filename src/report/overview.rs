//! The cross-pilot overview (`via-eval pilot --all`): every pilot on one page with its
//! design, whether that design supports a causal claim, its size, its primary outcome's
//! finding and headline effect with interval, one chart of all primary effects, and a
//! link to each pilot's report. It selects and formats the pilots' published results;
//! it computes nothing.

use crate::analysis::findings::{Finding, Verdict};
use crate::analysis::{OutcomeMeta, POOLED, PilotResults};
use crate::config::{DesignKind, Lang};
use crate::plot::{EffectChart, EffectPanel, EffectRow};

use super::document::Block;
use super::tables::effect_ci;
use super::{display_factor, fmt_count, tr};

/// One pilot as the overview shows it: its results and the folder (relative to the
/// overview) that holds its report.
pub struct PilotEntry<'a> {
    pub results: &'a PilotResults,
    pub folder: String,
}

/// Whether the design lets a difference be read as the pilot's effect, in words.
fn causal_words(design: DesignKind, lang: Lang) -> &'static str {
    match design {
        DesignKind::IndividuallyRandomised | DesignKind::ClusterRandomised => {
            tr(lang, "ja (loting)", "yes (lottery)")
        }
        DesignKind::MatchedComparison => tr(
            lang,
            "beperkt (geen loting; gecorrigeerd voor gemeten verschillen)",
            "limited (no lottery; adjusted for measured differences)",
        ),
        DesignKind::Panel => tr(
            lang,
            "beperkt (geen loting; vergelijking door de tijd)",
            "limited (no lottery; comparison over time)",
        ),
        DesignKind::BeforeAfter => tr(
            lang,
            "nee (voor/na zonder vergelijkingsgroep)",
            "no (before/after without a comparison group)",
        ),
    }
}

fn verdict_words(v: Verdict, lang: Lang) -> &'static str {
    match v {
        Verdict::Better => tr(lang, "duidelijk beter", "clearly better"),
        Verdict::Worse => tr(lang, "duidelijk slechter", "clearly worse"),
        Verdict::Different => tr(lang, "duidelijk verschil", "clear difference"),
        Verdict::NotShownAfterCorrection => tr(
            lang,
            "niet aangetoond (na correctie)",
            "not shown (after correction)",
        ),
        Verdict::NotShown => tr(lang, "geen effect aangetoond", "no effect shown"),
        Verdict::Withheld => tr(lang, "onderdrukt", "suppressed"),
    }
}

/// The overview page in blocks; its chart is [`overview_chart`] (stem "overview").
pub fn build(pilots: &[PilotEntry], lang: Lang) -> Vec<Block> {
    use Block::*;
    let mut b = vec![Heading(
        1,
        tr(lang, "VIA-pilots — overzicht", "VIA pilots — overview").into(),
    )];
    if pilots.iter().any(|p| p.results.synthetic) {
        b.push(Warning(
            tr(
                lang,
                "Berekend op SYNTHETISCHE data (gesimuleerd, niet van echte personen): dit overzicht illustreert de methode en zegt niets over de echte pilots.",
                "Computed on SYNTHETIC data (simulated, not about real people): this overview illustrates the method and says nothing about the real pilots.",
            )
            .into(),
        ));
    }
    b.push(Paragraph(
        tr(
            lang,
            "Per pilot de primaire uitkomst: het effect met 95%-betrouwbaarheidsinterval en of de opzet een oorzakelijke conclusie draagt. Alleen bij loting komt een verschil door de aanpak; bij de andere opzetten kan een deel van het verschil komen door wie er meedeed of door andere veranderingen in dezelfde tijd. Elk rapport geeft de details.",
            "Per pilot the primary outcome: the effect with its 95% confidence interval and whether the design supports a causal conclusion. Only with a lottery does a difference come from the approach; with the other designs part of the difference may come from who took part or from other changes at the same time. Each report has the details.",
        )
        .into(),
    ));
    b.push(Chart {
        stem: "overview".into(),
        alt: tr(
            lang,
            "Effect op de primaire uitkomst per pilot, met 95%-betrouwbaarheidsintervallen",
            "Effect on the primary outcome per pilot, with 95% confidence intervals",
        )
        .into(),
    });
    let mut t = vec![vec![
        "Pilot".to_string(),
        tr(lang, "Opzet", "Design").into(),
        tr(lang, "Oorzakelijk?", "Causal?").into(),
        tr(lang, "Eenheden", "Units").into(),
        tr(lang, "Primaire uitkomst", "Primary outcome").into(),
        tr(lang, "Effect [95%-BI]", "Effect [95% CI]").into(),
        tr(lang, "Bevinding", "Finding").into(),
    ]];
    for p in pilots {
        t.extend(pilot_rows(p.results, lang));
    }
    b.push(Table(t));
    b.push(Heading(2, tr(lang, "Rapporten", "Reports").into()));
    b.push(Links(
        pilots
            .iter()
            .map(|p| {
                (
                    p.results.title.get(lang).to_string(),
                    format!("{}/report.html", p.folder),
                )
            })
            .collect(),
    ));
    b
}

/// A pilot's rows in the overview table: one per finding, the pilot's title, design,
/// causal claim and size on the first only; one row of dashes without findings.
fn pilot_rows(r: &PilotResults, lang: Lang) -> Vec<Vec<String>> {
    let about = || {
        vec![
            r.title.get(lang).to_string(),
            r.design.label(lang).to_string(),
            causal_words(r.design, lang).to_string(),
            fmt_count(r.n_units, lang),
        ]
    };
    if r.summary.is_empty() {
        let mut row = about();
        row.extend(["–".into(), "–".into(), "–".into()]);
        return vec![row];
    }
    let mut rows = Vec::new();
    for f in &r.summary {
        let Some(o) = r.outcome(&f.outcome) else {
            continue;
        };
        let mut row = if rows.is_empty() {
            about()
        } else {
            vec![String::new(); 4]
        };
        row.extend([
            finding_outcome(r, o, f, lang),
            finding_effect(r, o, f, lang),
            verdict_words(f.verdict, lang).into(),
        ]);
        rows.push(row);
    }
    rows
}

/// The outcome a finding is about, with its comparison when the pilot has several.
fn finding_outcome(r: &PilotResults, o: &OutcomeMeta, f: &Finding, lang: Lang) -> String {
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    if several {
        format!(
            "{} ({} vs {})",
            o.label.get(lang),
            r.arm_label(&f.treated, lang),
            r.arm_label(&f.control, lang)
        )
    } else {
        o.label.get(lang).to_string()
    }
}

/// The whole-sample headline effect a finding quotes, with its interval and unit, or
/// "suppressed".
fn finding_effect(r: &PilotResults, o: &OutcomeMeta, f: &Finding, lang: Lang) -> String {
    let e = r.estimates.iter().find(|e| {
        e.outcome == f.outcome
            && e.subset == POOLED
            && e.headline
            && e.treated == f.treated
            && e.estimator == f.estimator
    });
    match e {
        Some(e) if !e.suppressed => {
            let k = display_factor(r, e);
            format!(
                "{} {}",
                effect_ci(e.estimate * k, e.ci_low * k, e.ci_high * k, lang),
                o.unit.get(lang)
            )
        }
        _ => tr(lang, "onderdrukt", "suppressed").into(),
    }
}

/// One panel per pilot and primary outcome: the whole-sample headline effect of each
/// comparison, each panel on its own axis (the units differ).
pub fn overview_chart(pilots: &[PilotEntry], lang: Lang) -> EffectChart {
    let mut panels = Vec::new();
    for p in pilots {
        let r = p.results;
        for o in r.outcomes.iter().filter(|o| o.primary) {
            let rows: Vec<EffectRow> = r
                .estimates
                .iter()
                .filter(|e| e.outcome == o.id && e.subset == POOLED && e.headline)
                .map(|e| {
                    let k = display_factor(r, e);
                    let cmp = format!(
                        "{} vs {}",
                        r.arm_label(&e.treated, lang),
                        r.arm_label(&e.control, lang)
                    );
                    EffectRow {
                        label: if e.suppressed {
                            format!("{cmp} ({})", tr(lang, "onderdrukt", "suppressed"))
                        } else {
                            cmp
                        },
                        estimate: e.estimate * k,
                        ci_low: e.ci_low * k,
                        ci_high: e.ci_high * k,
                        emphasis: true,
                        suppressed: e.suppressed,
                    }
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            panels.push(EffectPanel {
                title: format!(
                    "{}: {} ({})",
                    r.title.get(lang),
                    o.label.get(lang),
                    causal_words(r.design, lang)
                ),
                axis_label: format!(
                    "{} {}",
                    tr(lang, "Verschil in", "Difference in"),
                    o.unit.get(lang)
                ),
                better: o.better,
                rows,
            });
        }
    }
    EffectChart {
        title: tr(lang, "VIA-pilots: effect op de primaire uitkomst", "VIA pilots: effect on the primary outcome").into(),
        subtitle: tr(
            lang,
            "Verschil met de controle- of vergelijkingsgroep, met 95%-betrouwbaarheidsinterval. Tussen haakjes: of de opzet een oorzakelijke conclusie draagt.",
            "Difference from the control or comparison group, with 95% confidence interval. In brackets: whether the design supports a causal conclusion.",
        )
        .into(),
        panels,
        note: if pilots.iter().any(|p| p.results.synthetic) {
            tr(lang, "Synthetische data", "Synthetic data").into()
        } else {
            String::new()
        },
        better_label: (
            tr(lang, "beter", "better").into(),
            tr(lang, "slechter", "worse").into(),
        ),
        lang,
    }
}
