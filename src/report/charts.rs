//! Results → chart inputs (labels in the chosen language, values in display units).

use crate::analysis::{POOLED, PilotResults, Scale};
use crate::config::{DesignKind, Lang};
use crate::plot::{
    ArmChart, ArmGroup, ArmPoint, AtRiskRow, EffectChart, EffectPanel, EffectRow, ForestChart,
    ForestHeterogeneity, ForestPooled, ForestRow, SurvivalChart, SurvivalCurve,
};

use super::{display_factor, fmt_count, tr};

fn footer(r: &PilotResults, lang: Lang) -> String {
    let mut s = format!("{} · {}", r.title.get(lang), r.design.label(lang));
    if r.synthetic {
        s.push_str(tr(lang, " · SYNTHETISCHE DATA", " · SYNTHETIC DATA"));
    }
    if !r.disclosure.applied {
        s.push_str(tr(
            lang,
            " · ZONDER GEHEIMHOUDING: NIET PUBLICEREN",
            " · NO DISCLOSURE CONTROL: DO NOT PUBLISH",
        ));
    }
    s
}

/// The effect chart: one panel per outcome (primary first), one row per comparison
/// and subset, the headline estimate with its interval.
pub fn effect_chart(r: &PilotResults, lang: Lang) -> EffectChart {
    let mut panels = Vec::new();
    // With one treated arm the comparison is the same on every row: name the subset only.
    let one_comparison = r.arms.iter().filter(|a| !a.control).count() == 1;
    for o in &r.outcomes {
        let rows: Vec<EffectRow> = r
            .estimates
            .iter()
            .filter(|e| e.outcome == o.id && e.headline)
            .map(|e| {
                let f = display_factor(r, e);
                let cmp = format!(
                    "{} vs {}",
                    r.arm_label(&e.treated, lang),
                    r.arm_label(&e.control, lang)
                );
                let label = match (r.subsets.len() > 1, one_comparison) {
                    (true, true) => r.subset_label(&e.subset, lang),
                    (true, false) => format!("{} — {cmp}", r.subset_label(&e.subset, lang)),
                    (false, _) => cmp,
                };
                let label = if e.suppressed {
                    format!("{label} ({})", tr(lang, "onderdrukt", "suppressed"))
                } else {
                    label
                };
                EffectRow {
                    label,
                    estimate: e.estimate * f,
                    ci_low: e.ci_low * f,
                    ci_high: e.ci_high * f,
                    emphasis: e.subset == POOLED,
                    suppressed: e.suppressed,
                }
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let role = if o.primary {
            tr(lang, "primair", "primary")
        } else {
            tr(lang, "secundair", "secondary")
        };
        panels.push(EffectPanel {
            title: format!("{} ({role})", o.label.get(lang)),
            axis_label: match r
                .estimates
                .iter()
                .find(|e| e.outcome == o.id && e.headline)
                .and_then(|e| e.horizon)
            {
                Some(h) => format!(
                    "{} {} ({} {} {})",
                    tr(lang, "Verschil in", "Difference in"),
                    o.unit.get(lang),
                    tr(lang, "gemiddelde over de eerste", "mean over the first"),
                    crate::numfmt::fmt_whole_or_value(h, lang),
                    o.unit.get(lang)
                ),
                None => format!(
                    "{} {}",
                    tr(lang, "Verschil in", "Difference in"),
                    o.unit.get(lang)
                ),
            },
            better: o.better,
            rows,
        });
    }
    EffectChart {
        title: format!("{}: {}", r.title.get(lang), tr(lang, "effecten", "effects")),
        subtitle: format!(
            "{}{}",
            comparison_intro(r, lang, one_comparison),
            match r.design {
                DesignKind::IndividuallyRandomised | DesignKind::ClusterRandomised => tr(
                    lang,
                    "Verschil met de controlegroep (loting), met 95%-betrouwbaarheidsinterval. Snijdt het interval de nullijn, dan is een effect niet aangetoond.",
                    "Difference from the control group (lottery), with 95% confidence interval. If the interval crosses the zero line, an effect has not been demonstrated.",
                ),
                DesignKind::MatchedComparison | DesignKind::Panel => tr(
                    lang,
                    "Verschil met een vergelijkingsgroep die niet door loting is gevormd, met 95%-betrouwbaarheidsinterval. Snijdt het interval de nullijn, dan is een effect niet aangetoond.",
                    "Difference from a comparison group not formed by lottery, with 95% confidence interval. If the interval crosses the zero line, an effect has not been demonstrated.",
                ),
                DesignKind::BeforeAfter => tr(
                    lang,
                    "Verschil tussen na en voor (geen vergelijkingsgroep), met 95%-betrouwbaarheidsinterval. Snijdt het interval de nullijn, dan is een verandering niet aangetoond.",
                    "Difference between after and before (no comparison group), with 95% confidence interval. If the interval crosses the zero line, a change has not been demonstrated.",
                ),
            }
        ),
        panels,
        note: footer(r, lang),
        better_label: (
            tr(lang, "beter", "better").into(),
            tr(lang, "slechter", "worse").into(),
        ),
        lang,
    }
}

/// Per-arm means with intervals for one outcome, grouped by subset.
pub fn arm_chart(r: &PilotResults, outcome: &str, lang: Lang) -> Option<ArmChart> {
    let o = r.outcome(outcome)?;
    let f = o.display_factor;
    let mut groups = Vec::new();
    for s in &r.subsets {
        let points: Vec<ArmPoint> = r
            .arm_summaries
            .iter()
            .filter(|a| a.outcome == outcome && a.subset == s.value)
            .map(|a| ArmPoint {
                mean: a.mean * f,
                ci_low: a.ci_low * f,
                ci_high: a.ci_high * f,
                n: a.n,
                suppressed: a.suppressed,
                label: if a.suppressed {
                    format!(
                        "{} ({})",
                        r.arm_label(&a.arm, lang),
                        tr(
                            lang,
                            "onderdrukt: te weinig personen",
                            "suppressed: too few persons"
                        )
                    )
                } else {
                    r.arm_label(&a.arm, lang)
                },
            })
            .collect();
        if !points.is_empty() {
            groups.push(ArmGroup {
                title: s.label.get(lang).to_string(),
                points,
            });
        }
    }
    if groups.is_empty() {
        return None;
    }
    let axis_label = if o.kind == crate::config::OutcomeKind::TimeToEvent {
        format!(
            "{} ({})",
            tr(
                lang,
                "Beperkt gemiddelde tijd zonder gebeurtenis",
                "Restricted mean time without the event"
            ),
            o.unit.get(lang)
        )
    } else if f == 100.0 {
        format!("{} (%)", tr(lang, "Aandeel", "Share"))
    } else {
        format!("{} ({})", tr(lang, "Gemiddelde", "Mean"), o.unit.get(lang))
    };
    Some(ArmChart {
        title: o.label.get(lang).to_string(),
        subtitle: tr(
            lang,
            "Per arm: gemiddelde (bij ja/nee: percentage) met 95%-betrouwbaarheidsinterval",
            "Per arm: mean (for yes/no: percentage) with 95% confidence interval",
        )
        .into(),
        axis_label,
        groups,
        note: footer(r, lang),
        lang,
    })
}

/// "Participants vs Comparison group. " when every row has the same comparison.
fn comparison_intro(r: &PilotResults, lang: Lang, one_comparison: bool) -> String {
    if !one_comparison {
        return String::new();
    }
    let treated = r.arms.iter().find(|a| !a.control);
    let control = r.arms.iter().find(|a| a.control);
    match (treated, control) {
        (Some(t), Some(c)) => format!("{} vs {}. ", t.label.get(lang), c.label.get(lang)),
        _ => String::new(),
    }
}

/// Kaplan-Meier curves of one time-to-event outcome in one subset, all arms.
pub fn survival_chart(
    r: &PilotResults,
    outcome: &str,
    subset: &str,
    lang: Lang,
) -> Option<SurvivalChart> {
    let o = r.outcome(outcome)?;
    let sums: Vec<_> = r
        .survival
        .iter()
        .filter(|s| s.outcome == outcome && s.subset == subset)
        .collect();
    let first = sums.first()?;
    let curves = sums
        .iter()
        .map(|s| SurvivalCurve {
            label: r.arm_label(&s.arm, lang),
            points: s
                .curve
                .iter()
                .map(|p| (p.time, p.survival, p.ci_low, p.ci_high))
                .collect(),
            censored: s.censored.clone(),
        })
        .collect();
    let at_risk = sums
        .iter()
        .map(|s| AtRiskRow {
            label: r.arm_label(&s.arm, lang),
            counts: s.risk_table.clone(),
        })
        .collect();
    let subset_note = if r.subsets.len() > 1 {
        format!(" — {}", r.subset_label(subset, lang))
    } else {
        String::new()
    };
    Some(SurvivalChart {
        title: format!("{}{subset_note}", o.label.get(lang)),
        // The ticks are explained only where the chart draws them (disclosure control
        // leaves them out).
        subtitle: if sums.iter().any(|s| !s.censored.is_empty()) {
            tr(
                lang,
                "Aandeel bij wie de gebeurtenis nog niet heeft plaatsgevonden (Kaplan-Meier), met 95%-betrouwbaarheidsband. Streepjes: einde van de waarneming.",
                "Share who have not yet had the event (Kaplan-Meier), with 95% confidence band. Ticks: end of observation.",
            )
        } else {
            tr(
                lang,
                "Aandeel bij wie de gebeurtenis nog niet heeft plaatsgevonden (Kaplan-Meier), met 95%-betrouwbaarheidsband.",
                "Share who have not yet had the event (Kaplan-Meier), with 95% confidence band.",
            )
        }
        .into(),
        x_label: format!("{} ({})", tr(lang, "Tijd", "Time"), o.unit.get(lang)),
        y_label: tr(lang, "Nog zonder gebeurtenis (%)", "Event not yet happened (%)").into(),
        curves,
        at_risk_times: first.risk_times.clone(),
        at_risk,
        note: footer(r, lang),
        lang,
    })
}

/// File stem of the forest plot of `r.meta[i]`: `forest-<outcome>`, numbered when the
/// outcome has more than one comparison.
pub fn forest_stem(r: &PilotResults, i: usize) -> String {
    let m = &r.meta[i];
    let before = r.meta[..i]
        .iter()
        .filter(|x| x.outcome == m.outcome)
        .count();
    if before == 0 {
        format!("forest-{}", m.outcome)
    } else {
        format!("forest-{}-{}", m.outcome, before + 1)
    }
}

/// The forest plot of the random-effects pooling `r.meta[i]`: one row per project,
/// values in display units (ratios on the log scale, the plot's additive axis).
pub fn forest_chart(r: &PilotResults, i: usize, lang: Lang) -> Option<ForestChart> {
    let m = r.meta.get(i)?;
    let o = r.outcome(&m.outcome)?;
    let ratio = m.scale == Scale::Ratio;
    let f = if m.scale == Scale::Difference {
        o.display_factor
    } else {
        1.0
    };
    let v = |x: f64| if ratio { x.ln() } else { x * f };
    let hksj = if m.se_type.is_some() { ", HKSJ" } else { "" };
    let unit = o.unit.get(lang);
    let axis_label = if ratio {
        tr(
            lang,
            "Logaritme van de ratio (0 = geen effect)",
            "Log of the ratio (0 = no effect)",
        )
        .to_string()
    } else {
        format!("{} ({unit})", tr(lang, "Verschil", "Difference"))
    };
    Some(ForestChart {
        title: format!(
            "{}: {}",
            o.label.get(lang),
            tr(lang, "effect per project", "effect per project")
        ),
        subtitle: format!(
            "{} vs {}; {}",
            r.arm_label(&m.treated, lang),
            r.arm_label(&m.control, lang),
            tr(
                lang,
                "random-effects-meta-analyse van de projectschattingen",
                "random-effects meta-analysis of the project estimates"
            )
        ),
        axis_label,
        rows: m
            .projects
            .iter()
            .map(|p| ForestRow {
                label: r.subset_label(&p.subset, lang),
                n: p.n,
                estimate: v(p.estimate),
                ci_low: v(p.ci_low),
                ci_high: v(p.ci_high),
                weight: p.weight,
            })
            .collect(),
        pooled: ForestPooled {
            label: format!("{} (REML{hksj})", tr(lang, "Gepoold", "Pooled")),
            estimate: v(m.estimate),
            ci_low: v(m.ci_low),
            ci_high: v(m.ci_high),
        },
        prediction: m
            .prediction_low
            .zip(m.prediction_high)
            .map(|(a, b)| (v(a), v(b))),
        heterogeneity: ForestHeterogeneity {
            i2: m.heterogeneity.i2,
            tau2: m.heterogeneity.tau2 * f * f,
            tau2_ci_low: m.heterogeneity.tau2_ci_low * f * f,
            tau2_ci_high: m.heterogeneity.tau2_ci_high * f * f,
            q: m.heterogeneity.q,
            q_df: m.heterogeneity.q_df,
            q_p_value: m.heterogeneity.q_p_value,
        },
        conf_level: m.conf_level,
        note: footer(r, lang),
        lang,
    })
}

/// The first box of an arm's flow: the units in the data and, when the data record it,
/// how many started.
fn assigned_lines(f: &crate::analysis::flow::FlowRow, lang: Lang) -> Vec<String> {
    let count = |n: Option<usize>| fmt_count(n, lang);
    let mut lines = vec![
        tr(lang, "In de data (toegewezen)", "In the data (assigned)").into(),
        format!("n = {}", count(f.assigned)),
    ];
    if f.started_recorded {
        lines.push(format!(
            "{}: {}",
            tr(lang, "begonnen", "started"),
            count(f.started)
        ));
        lines.push(format!(
            "{}: {}",
            tr(lang, "niet begonnen", "did not start"),
            count(f.not_started)
        ));
        if f.started_unknown != Some(0) {
            lines.push(format!(
                "{}: {}",
                tr(lang, "onbekend of begonnen", "start not recorded"),
                count(f.started_unknown)
            ));
        }
    }
    lines
}

/// The participant flow of the first primary outcome: per arm, assigned, outcome
/// observed and analysed, with the reasons between. Numbers from `r.flow`.
pub fn flow_chart(r: &PilotResults, lang: Lang) -> Option<crate::plot::FlowChart> {
    use crate::plot::{FlowBox, FlowColumn};
    let first = r.flow.first()?;
    let o = r.outcome(&first.outcome)?;
    let count = |n: Option<usize>| fmt_count(n, lang);
    let columns = r
        .flow
        .iter()
        .filter(|f| f.outcome == first.outcome)
        .map(|f| {
            let fell_out = vec![format!(
                "{}: {}",
                tr(lang, "geen uitkomst", "no outcome"),
                count(f.missing.no_outcome)
            )];
            let mut excluded = Vec::new();
            if f.missing.missing_covariate.is_some_and(|n| n > 0)
                || f.missing.missing_covariate.is_none()
            {
                excluded.push(format!(
                    "{}: {}",
                    tr(lang, "covariaat ontbreekt", "covariate missing"),
                    count(f.missing.missing_covariate)
                ));
            }
            if let Some(n) = f.missing.missing_cluster {
                excluded.push(format!(
                    "{}: {n}",
                    tr(lang, "cluster ontbreekt", "cluster missing")
                ));
            }
            if let Some(n) = f.missing.other.filter(|&n| n > 0) {
                excluded.push(format!("{}: {n}", tr(lang, "anders", "other")));
            }
            if excluded.is_empty() {
                excluded.push(tr(lang, "niemand weggelaten", "no one left out").into());
            }
            FlowColumn {
                title: r.arm_label(&f.arm, lang),
                boxes: vec![
                    FlowBox {
                        lines: assigned_lines(f, lang),
                    },
                    FlowBox {
                        lines: vec![
                            tr(lang, "Uitkomst bekend", "Outcome observed").into(),
                            format!("n = {}", count(f.followed_up)),
                        ],
                    },
                    FlowBox {
                        lines: vec![
                            tr(
                                lang,
                                "Geanalyseerd (hoofdschatting)",
                                "Analysed (headline estimate)",
                            )
                            .into(),
                            format!("n = {}", count(f.analysed)),
                        ],
                    },
                ],
                steps: vec![fell_out, excluded],
            }
        })
        .collect();
    Some(crate::plot::FlowChart {
        title: format!(
            "{}: {}",
            r.title.get(lang),
            tr(lang, "deelnemersstroom", "participant flow")
        ),
        subtitle: format!(
            "{} {} {}",
            o.label.get(lang),
            tr(
                lang,
                "— wie in de data zit, van wie de uitkomst bekend is en wie in de hoofdschatting meetelt.",
                "— who is in the data, whose outcome is known, and who counts in the headline estimate.",
            ),
            if first.started_recorded {
                tr(
                    lang,
                    "Ook wie niet begon, telt mee in de eigen groep.",
                    "Those who did not start still count in their own group.",
                )
            } else {
                tr(
                    lang,
                    "Of iemand echt begon, staat niet in de data.",
                    "Whether someone actually started is not in the data.",
                )
            }
        ),
        columns,
        note: footer(r, lang),
        lang,
    })
}

/// The acceptability curve of the first cost comparison: the probability that the
/// approach is worth its cost against the value of one extra person with the outcome.
/// Drawn by the power-curve renderer (a probability against a value). From `r.costs`.
pub fn acceptability_chart(r: &PilotResults, lang: Lang) -> Option<crate::plot::PowerChart> {
    let c = r.costs.as_ref()?;
    let x = c.comparisons.first()?;
    let o = r.outcome(&c.outcome)?;
    let curve: Vec<(f64, f64)> = x
        .acceptability
        .iter()
        .map(|p| (p.value, p.probability))
        .collect();
    let mid = curve
        .iter()
        .find(|p| p.1 >= 0.5)
        .copied()
        .unwrap_or(*curve.last()?);
    Some(crate::plot::PowerChart {
        title: format!(
            "{}: {}",
            r.title.get(lang),
            tr(lang, "is het de kosten waard?", "is it worth the cost?")
        ),
        subtitle: format!(
            "{} vs {}. {}",
            r.arm_label(&x.treated, lang),
            r.arm_label(&x.control, lang),
            tr(
                lang,
                "Kans dat de aanpak de kosten waard is, als één extra persoon met de uitkomst zoveel euro waard is.",
                "Probability that the approach is worth its cost, if one extra person with the outcome is worth this many euros.",
            )
        ),
        x_label: format!(
            "{} ({}, €)",
            tr(
                lang,
                "Waarde van één extra persoon",
                "Value of one extra person"
            ),
            o.label.get(lang)
        ),
        y_label: tr(
            lang,
            "Kans dat het de kosten waard is",
            "Probability it is worth the cost",
        )
        .into(),
        curve,
        marker: mid,
        target: Some(0.5),
        note: footer(r, lang),
        lang,
    })
}

/// The weighting estimate whose diagnostics the report shows: the headline weighting
/// estimate (one with balance rows) of the whole sample, of a primary outcome if one
/// has it. The covariates are the same for every outcome; the balance differs only by
/// whose outcome is known.
pub fn weighting_diagnostic(r: &PilotResults) -> Option<&crate::analysis::EstimateRow> {
    let candidates = || {
        r.estimates.iter().filter(|e| {
            e.headline
                && !e.suppressed
                && !e.balance.is_empty()
                && e.subset == crate::analysis::POOLED
        })
    };
    let primary =
        |e: &&crate::analysis::EstimateRow| r.outcome(&e.outcome).is_some_and(|o| o.primary);
    candidates().find(primary).or_else(|| candidates().next())
}

/// The file stems of the report's Love plot and overlap chart.
pub const LOVE_STEM: &str = "love";
pub const OVERLAP_STEM: &str = "overlap";

/// The footer every chart of a pilot report carries (title, design, synthetic data, no
/// disclosure control), for charts drawn outside this module (the Love plot and the
/// overlap chart).
pub fn report_footer(r: &PilotResults, lang: Lang) -> String {
    footer(r, lang)
}

/// The cost-effectiveness plane of the first cost comparison: the bootstrap replicates
/// and the estimate (effect in display units: percentage points for a yes/no outcome),
/// with the dashed line for one extra person worth the results' reference value (the
/// config's `max_value` / 2). From `r.costs`; None without replicates (a withheld
/// estimate has no cost comparison, an adjusted headline with fixed costs no bootstrap).
pub fn ce_plane_chart(r: &PilotResults, lang: Lang) -> Option<crate::plot::CePlaneChart> {
    let c = r.costs.as_ref()?;
    let x = c.comparisons.first().filter(|x| !x.plane.is_empty())?;
    let o = r.outcome(&c.outcome)?;
    let f = o.display_factor;
    let euros = crate::numfmt::format_number(c.reference_value, 0, lang);
    let unit = o.unit.get(lang);
    Some(crate::plot::CePlaneChart {
        title: format!(
            "{}: {}",
            r.title.get(lang),
            tr(lang, "kosten en effect", "cost and effect")
        ),
        subtitle: format!(
            "{} vs {}. {}",
            r.arm_label(&x.treated, lang),
            r.arm_label(&x.control, lang),
            tr(
                lang,
                "Extra kosten per persoon tegen extra effect per persoon; elke lichte stip is één bootstraptrekking, de donkere stip de schatting.",
                "Extra cost per person against extra effect per person; each light dot is one bootstrap replicate, the dark dot the estimate.",
            )
        ),
        x_label: format!(
            "{} ({}, {unit})",
            tr(lang, "Extra effect per persoon", "Extra effect per person"),
            o.label.get(lang)
        ),
        y_label: tr(
            lang,
            "Extra kosten per persoon (€)",
            "Extra cost per person (€)",
        )
        .into(),
        points: x.plane.iter().map(|&(e, k)| (e * f, k)).collect(),
        estimate: (x.incremental_effect * f, x.incremental_cost),
        slope: Some(c.reference_value / f),
        legend: [
            tr(lang, "schatting", "estimate").into(),
            tr(lang, "bootstraptrekkingen", "bootstrap replicates").into(),
            match lang {
                Lang::Nl => format!(
                    "één extra persoon € {euros} waard (de helft van de hoogste waarde van de acceptatiecurve): punten onder de lijn zijn dat waard"
                ),
                Lang::En => format!(
                    "one extra person worth €{euros} (half the largest value of the acceptability curve): points below the line are worth it"
                ),
            },
        ],
        quadrants: [
            tr(lang, "meer effect, duurder", "more effect, more cost").into(),
            tr(lang, "minder effect, duurder", "less effect, more cost").into(),
            tr(lang, "minder effect, goedkoper", "less effect, less cost").into(),
            tr(lang, "meer effect, goedkoper", "more effect, less cost").into(),
        ],
        note: footer(r, lang),
        lang,
    })
}
