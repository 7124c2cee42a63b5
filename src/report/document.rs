//! The report as a small document model, rendered to Markdown and to HTML by
//! [`super::markdown`] and [`super::html`], so both carry the same content.

use crate::analysis::OutcomeMeta;
use crate::analysis::costs::{CostComparison, CostResults};
use crate::analysis::meta::ProjectMeta;
use crate::analysis::subgroups::{InteractionTest, SubgroupEstimate};
use crate::analysis::{
    ArmSummaryRow, EffectiveN, EstimateRow, POOLED, PilotResults, PropensityBins, Scale, TestRow,
};
use crate::config::{Lang, OutcomeKind};
use crate::numfmt::{p_words, signed_number};

use super::tables::{arm_mean, effect_ci, summary_tables};
use super::{display_factor, fmt_count, fmt_df, fmt_p, fmt_sizes, fmt_value, localise, tr};

/// A block of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(u8, String),
    Paragraph(String),
    /// A highlighted warning (synthetic data, non-randomised design).
    Warning(String),
    /// Header row then body rows.
    Table(Vec<Vec<String>>),
    /// A chart: file stem (e.g. "effects") and its alternative text.
    Chart {
        stem: String,
        alt: String,
    },
    List(Vec<String>),
    /// A finding in plain words, the box the report opens with: heading and text.
    Finding {
        title: String,
        text: String,
    },
    /// Links: (text, relative address).
    Links(Vec<(String, String)>),
}

/// The title and the synthetic-data warning.
fn title_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    b.push(Heading(
        1,
        format!(
            "{} — {}",
            r.title.get(lang),
            tr(lang, "evaluatie", "evaluation")
        ),
    ));
    if r.synthetic {
        b.push(Warning(
            tr(
                lang,
                "Deze resultaten zijn berekend op SYNTHETISCHE data (gesimuleerd, niet van echte personen). Ze illustreren de methode en zeggen niets over de echte pilot.",
                "These results are computed on SYNTHETIC data (simulated, not about real people). They illustrate the method and say nothing about the real pilot.",
            )
            .to_string(),
        ));
    }
}

/// What the pilot is, and the disclosure-control statement: after the findings.
fn about_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    b.push(Block::Paragraph(r.description.get(lang).to_string()));
    b.push(disclosure_block(r, lang));
}

/// The design and method: design, unit, data file, clusters, covariates and
/// confidence level, the method text and the design's note.
fn design_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    b.push(Heading(
        2,
        tr(lang, "Opzet en methode", "Design and method").into(),
    ));
    let mut design = vec![
        format!("{}: {}", tr(lang, "Opzet", "Design"), r.design.label(lang)),
        match r.n_units {
            Some(n) => format!(
                "{}: {} ({n} {})",
                tr(lang, "Eenheid", "Unit"),
                r.unit.get(lang),
                tr(lang, "in de data", "in the data")
            ),
            None => format!(
                "{}: {} ({})",
                tr(lang, "Eenheid", "Unit"),
                r.unit.get(lang),
                tr(
                    lang,
                    "aantal in de data onderdrukt",
                    "number in the data suppressed"
                )
            ),
        },
        format!("{}: {}", tr(lang, "Databestand", "Data file"), r.data_file),
    ];
    if let (Some(c), Some(g)) = (&r.cluster, r.n_clusters) {
        design.push(format!("{}: {c} ({g})", tr(lang, "Clusters", "Clusters")));
    }
    if !r.covariates.is_empty() {
        design.push(format!(
            "{}: {}",
            tr(lang, "Covariaten", "Covariates"),
            r.covariates.join(", ")
        ));
    }
    design.push(format!(
        "{}: {}%",
        tr(lang, "Betrouwbaarheidsniveau", "Confidence level"),
        localise(&format!("{}", r.conf_level * 100.0), lang)
    ));
    b.push(List(design));
    b.push(Paragraph(r.method.get(lang).to_string()));
    if let Some(n) = &r.design_note {
        b.push(Warning(n.get(lang).to_string()));
    }
}

/// The table of arms: label, role and number of rows.
fn arms_table(r: &PilotResults, lang: Lang) -> Block {
    let mut arms = vec![vec![
        tr(lang, "Arm", "Arm").to_string(),
        tr(lang, "Rol", "Role").to_string(),
        tr(lang, "Eenheden (rijen)", "Units (rows)").to_string(),
    ]];
    for a in &r.arms {
        arms.push(vec![
            a.label.get(lang).to_string(),
            if a.control {
                tr(lang, "controle", "control").into()
            } else {
                tr(lang, "behandeld", "treated").into()
            },
            fmt_count(a.n_rows, lang),
        ]);
    }
    Block::Table(arms)
}

/// Participant flow: the diagram of the first primary outcome and the table of every
/// primary outcome, per arm assigned, with the outcome, analysed, and why not.
fn flow_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    if r.flow.is_empty() {
        return;
    }
    b.push(Heading(
        2,
        tr(lang, "Deelnemersstroom", "Participant flow").into(),
    ));
    let alt = if r.flow.iter().any(|f| f.started_recorded) {
        tr(
            lang,
            "Deelnemersstroom per groep: in de data en wie begon, uitkomst bekend, geanalyseerd (de tabel hieronder geeft dezelfde aantallen)",
            "Participant flow per group: in the data and who started, outcome observed, analysed (the table below gives the same numbers)",
        )
    } else {
        tr(
            lang,
            "Deelnemersstroom per groep: in de data, uitkomst bekend, geanalyseerd (de tabel hieronder geeft dezelfde aantallen)",
            "Participant flow per group: in the data, outcome observed, analysed (the table below gives the same numbers)",
        )
    };
    b.push(Chart {
        stem: "flow".into(),
        alt: alt.into(),
    });
    let recorded = r.flow.iter().any(|f| f.started_recorded);
    let mut head = vec![
        tr(lang, "Uitkomst", "Outcome").to_string(),
        tr(lang, "Groep", "Group").to_string(),
        tr(lang, "In de data", "In the data").to_string(),
    ];
    if recorded {
        head.extend([
            tr(lang, "Begonnen", "Started").to_string(),
            tr(lang, "Niet begonnen", "Did not start").to_string(),
            tr(lang, "Onbekend of begonnen", "Start not recorded").to_string(),
        ]);
    }
    head.extend([
        tr(lang, "Uitkomst bekend", "Outcome observed").to_string(),
        tr(lang, "Geanalyseerd", "Analysed").to_string(),
        tr(lang, "Geen uitkomst", "No outcome").to_string(),
        tr(lang, "Covariaat ontbreekt", "Covariate missing").to_string(),
        tr(lang, "Cluster ontbreekt", "Cluster missing").to_string(),
        tr(lang, "Anders", "Other").to_string(),
    ]);
    let mut t = vec![head];
    for f in &r.flow {
        let label = r
            .outcome(&f.outcome)
            .map_or(f.outcome.clone(), |o| o.label.get(lang).to_string());
        let mut row = vec![
            label,
            r.arm_label(&f.arm, lang),
            fmt_count(f.assigned, lang),
        ];
        if recorded {
            row.extend([
                fmt_count(f.started, lang),
                fmt_count(f.not_started, lang),
                fmt_count(f.started_unknown, lang),
            ]);
        }
        row.extend([
            fmt_count(f.followed_up, lang),
            fmt_count(f.analysed, lang),
            fmt_count(f.missing.no_outcome, lang),
            fmt_count(f.missing.missing_covariate, lang),
            f.missing
                .missing_cluster
                .map_or("–".into(), |n| n.to_string()),
            fmt_count(f.missing.other, lang),
        ]);
        t.push(row);
    }
    b.push(Table(t));
    let started = if recorded {
        tr(
            lang,
            "'Begonnen': volgens de data begonnen met de aanpak van de eigen groep (bij de vergelijkingsgroep: de gewone dienstverlening). Iedereen blijft in de groep waarin hij of zij is ingedeeld, ook wie niet begon: de effecten gaan over het aanbod van de aanpak.",
            "'Started': began the approach of their own group according to the data (for the comparison group: the usual services). Everyone stays in the group they were assigned to, also those who did not start: the effects are those of offering the approach.",
        )
    } else {
        tr(
            lang,
            "Of iemand met de aanpak begon, staat niet in de data van deze pilot; daarom ontbreekt die stap.",
            "Whether someone started the programme is not recorded in this pilot's data, so that step is missing.",
        )
    };
    b.push(Paragraph(
        format!(
            "{started} {}",
            tr(
                lang,
                "'Anders': uitkomst bekend maar niet in de hoofdschatting, bijvoorbeeld omdat de volgtijd eindigde vóór de horizon.",
                "'Other': outcome observed but not in the headline estimate, for example because follow-up ended before the horizon.",
            )
        )
    ));
}

/// Baseline balance: per covariate the mean (share) per arm and the standardised
/// difference, flagged above 0.1; read as a check of the lottery in randomised designs.
fn balance_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    if r.balance.is_empty() {
        return;
    }
    b.push(Heading(
        2,
        tr(lang, "Balans bij de start", "Baseline balance").into(),
    ));
    let text = if r.design.is_randomised() {
        tr(
            lang,
            "Hoe de loting uitviel: per kenmerk het gemiddelde (bij ja/nee het percentage) per groep en het gestandaardiseerde verschil (verschil gedeeld door de gepoolde standaarddeviatie). Dit is een controle, geen toets: bij loting zijn verschillen toeval. Verschillen boven 0,1 zijn gemarkeerd (⚠); de gecorrigeerde schattingen houden rekening met deze kenmerken.",
            "How the lottery came out: per characteristic the mean (for yes/no the percentage) per group and the standardised difference (the difference divided by the pooled standard deviation). This is a check, not a test: with a lottery, differences are chance. Differences above 0.1 are flagged (⚠); the adjusted estimates take these characteristics into account.",
        )
    } else {
        tr(
            lang,
            "Hoe de groepen vóór de start verschilden: per kenmerk het gemiddelde (bij ja/nee het percentage) per groep en het gestandaardiseerde verschil (verschil gedeeld door de gepoolde standaarddeviatie). Verschillen boven 0,1 (⚠) betekenen dat de groepen niet goed vergelijkbaar zijn; de gecorrigeerde schattingen houden rekening met deze kenmerken, maar niet met wat niet gemeten is.",
            "How the groups differed before the start: per characteristic the mean (for yes/no the percentage) per group and the standardised difference (the difference divided by the pooled standard deviation). Differences above 0.1 (⚠) mean the groups are not well comparable; the adjusted estimates take these characteristics into account, but not what was not measured.",
        )
    };
    b.push(Paragraph(text.into()));
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    let mut head = vec![tr(lang, "Kenmerk", "Characteristic").to_string()];
    if several {
        head.push(tr(lang, "Vergelijking", "Comparison").to_string());
    }
    let first = &r.balance[0];
    head.extend([
        if several {
            tr(lang, "Behandeld", "Treated").to_string()
        } else {
            r.arm_label(&first.treated, lang)
        },
        if several {
            tr(lang, "Controle", "Control").to_string()
        } else {
            r.arm_label(&first.control, lang)
        },
        tr(lang, "Gestand. verschil", "Std. difference").to_string(),
    ]);
    let withheld = || tr(lang, "onderdrukt", "suppressed").to_string();
    let value = |row: &crate::analysis::balance::BaselineBalance, m: Option<f64>| match m {
        None if row.suppressed => withheld(),
        None => "–".into(),
        Some(m) if row.binary => format!("{}%", localise(&fmt_value(100.0 * m), lang)),
        Some(m) => localise(&fmt_value(m), lang),
    };
    let mut t = vec![head];
    for row in &r.balance {
        let mut cells = vec![row.covariate.clone()];
        if several {
            cells.push(format!(
                "{} vs {}",
                r.arm_label(&row.treated, lang),
                r.arm_label(&row.control, lang)
            ));
        }
        cells.push(value(row, row.mean_treated));
        cells.push(value(row, row.mean_control));
        cells.push(match row.smd {
            Some(d) => format!(
                "{}{}",
                signed_number(d, 2, lang),
                if row.imbalanced { " ⚠" } else { "" }
            ),
            None if row.suppressed => withheld(),
            None => "–".into(),
        });
        t.push(cells);
    }
    b.push(Table(t));
}

/// Balance before and after weighting of the headline weighting estimate
/// ([`super::charts::weighting_diagnostic`]): per covariate the means, the standardised
/// difference before and after (cobalt's ATT convention: divided by the participants'
/// SD, unweighted, unlike the pooled SD of the baseline table) and the variance ratios;
/// the effective sample sizes; the Love plot and the overlap chart, each with its
/// numbers in a table beside it; and the participants outside the comparison group's
/// propensity range. Only numbers as published (after disclosure control).
fn weighting_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let Some(e) = super::charts::weighting_diagnostic(r) else {
        return;
    };
    b.push(Heading(
        2,
        tr(lang, "Balans na weging", "Balance after weighting").into(),
    ));
    let (t_label, c_label) = (r.arm_label(&e.treated, lang), r.arm_label(&e.control, lang));
    b.push(Paragraph(weighting_intro(r, e, &t_label, &c_label, lang)));
    b.push(weighting_balance_table(e, &t_label, &c_label, lang));
    if let Some(n) = e.effective_n {
        b.push(Paragraph(effective_n_words(n, &t_label, &c_label, lang)));
    }
    b.push(love_chart(&t_label, &c_label, lang));
    overlap_blocks(e, &t_label, &c_label, lang, b);
}

/// The paragraph that opens the weighting section: which group is weighted towards
/// which and by what method, how to read the balance table, and the outcome.
fn weighting_intro(
    r: &PilotResults,
    e: &EstimateRow,
    t_label: &str,
    c_label: &str,
    lang: Lang,
) -> String {
    let method = estimator_label(&e.estimator, lang);
    let outcome_label = r
        .outcome(&e.outcome)
        .map_or(e.outcome.clone(), |o| o.label.get(lang).to_lowercase());
    if lang == Lang::Nl {
        format!(
            "De hoofdschatting weegt de {c} zo dat ze op de gemeten kenmerken op de {t} lijkt; methode: {method}. De tabel geeft per kenmerk het gemiddelde (bij ja/nee het aandeel) van de {t}, dat van de {c} vóór en na weging, en het gestandaardiseerde verschil vóór en na weging. Anders dan in de tabel 'Balans bij de start' is dat verschil hier gedeeld door de standaarddeviatie van de {t} (ongewogen; de ATT-conventie van het R-pakket cobalt). Verschillen onder 0,1 gelden als verwaarloosbaar. De variantieverhouding (deelnemers gedeeld door vergelijkingsgroep) hoort dicht bij 1 te liggen. Uitkomst: {}.",
            outcome_label,
            c = c_label.to_lowercase(),
            t = t_label.to_lowercase()
        )
    } else {
        format!(
            "The headline estimate weights the {c} so that it resembles the {t} on the measured characteristics; method: {method}. The table gives per characteristic the mean (for yes/no the share) of the {t}, that of the {c} before and after weighting, and the standardised difference before and after weighting. Unlike the table 'Baseline balance', that difference is divided here by the standard deviation of the {t} (unweighted; the ATT convention of the R package cobalt). Differences below 0.1 count as negligible. The variance ratio (participants over comparison group) should be close to 1. Outcome: {}.",
            outcome_label,
            c = c_label.to_lowercase(),
            t = t_label.to_lowercase()
        )
    }
}

/// The balance table of the weighting: per covariate the participants' mean, the
/// comparison group's before and after weighting, and the standardised differences and
/// variance ratios before and after.
fn weighting_balance_table(e: &EstimateRow, t_label: &str, c_label: &str, lang: Lang) -> Block {
    let withheld = || tr(lang, "onderdrukt", "suppressed").to_string();
    let mean = |m: Option<f64>, binary: bool| match m {
        None => withheld(),
        Some(m) if binary => format!("{}%", localise(&fmt_value(100.0 * m), lang)),
        Some(m) => localise(&fmt_value(m), lang),
    };
    let num = |v: Option<f64>, signed: bool| match v {
        None => "–".to_string(),
        Some(v) if signed => signed_number(v, 2, lang),
        Some(v) => localise(&format!("{v:.2}"), lang),
    };
    let mut t = vec![vec![
        tr(lang, "Kenmerk", "Characteristic").to_string(),
        t_label.to_string(),
        format!("{c_label} {}", tr(lang, "vóór", "before")),
        format!("{c_label} {}", tr(lang, "na", "after")),
        tr(lang, "Gestand. verschil vóór", "Std. difference before").to_string(),
        tr(lang, "Gestand. verschil na", "Std. difference after").to_string(),
        tr(lang, "Variantieverh. vóór", "Variance ratio before").to_string(),
        tr(lang, "Variantieverh. na", "Variance ratio after").to_string(),
    ]];
    for row in &e.balance {
        t.push(vec![
            row.covariate.clone(),
            mean(row.mean_treated, row.binary),
            mean(row.mean_control, row.binary),
            mean(row.mean_control_weighted, row.binary),
            num(row.smd_before, true),
            num(row.smd_after, true),
            num(row.variance_ratio_before, false),
            num(row.variance_ratio_after, false),
        ]);
    }
    Block::Table(t)
}

/// Kish's effective sample size of each arm after weighting, and what it means.
fn effective_n_words(n: EffectiveN, t_label: &str, c_label: &str, lang: Lang) -> String {
    let f = |v: f64| localise(&format!("{v:.1}"), lang);
    if lang == Lang::Nl {
        format!(
            "Effectieve steekproefomvang na weging (Kish): {t_label} {}, {c_label} {}. Hoe ongelijker de gewichten, hoe kleiner dit getal ten opzichte van het aantal personen, en hoe minder informatie de vergelijking bevat.",
            f(n.treated),
            f(n.control)
        )
    } else {
        format!(
            "Effective sample size after weighting (Kish): {t_label} {}, {c_label} {}. The more unequal the weights, the smaller this number is against the number of persons, and the less information the comparison holds.",
            f(n.treated),
            f(n.control)
        )
    }
}

/// The Love plot of the weighting, with its alternative text.
fn love_chart(t_label: &str, c_label: &str, lang: Lang) -> Block {
    Block::Chart {
        stem: super::charts::LOVE_STEM.into(),
        alt: if lang == Lang::Nl {
            format!(
                "Love-plot: per kenmerk het absolute gestandaardiseerde verschil tussen {t_label} en {c_label} vóór en na weging, met een lijn bij 0,1. De getallen staan in de tabel hierboven."
            )
        } else {
            format!(
                "Love plot: per characteristic the absolute standardised difference between {t_label} and {c_label} before and after weighting, with a line at 0.1. The numbers are in the table above."
            )
        },
    }
}

/// The overlap of the propensity scores (nothing without them): how to read it with the
/// participants outside the comparison group's range, the overlap chart, and its
/// numbers per bin in a table.
fn overlap_blocks(e: &EstimateRow, t_label: &str, c_label: &str, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let Some(pb) = &e.propensity_bins else {
        return;
    };
    let outside = outside_support_words(pb, e.n_treated, lang);
    b.push(Paragraph(if lang == Lang::Nl {
        format!(
            "Overlap: de verdeling van de propensityscore (de kans op deelname volgens een logistisch model op dezelfde kenmerken) per groep. Waar deelnemers scores hebben die in de vergelijkingsgroep niet voorkomen, is er niemand om ze mee te vergelijken.{outside}"
        )
    } else {
        format!(
            "Overlap: the distribution of the propensity score (the probability of taking part according to a logistic model on the same characteristics) per group. Where participants have scores the comparison group does not have, there is no one to compare them with.{outside}"
        )
    }));
    b.push(Chart {
        stem: super::charts::OVERLAP_STEM.into(),
        alt: if lang == Lang::Nl {
            format!(
                "Overlapgrafiek: het aandeel van de {t_label} en van de {c_label} per klasse van de propensityscore (breedte 0,05). De getallen staan in de tabel hieronder."
            )
        } else {
            format!(
                "Overlap chart: the share of the {t_label} and of the {c_label} per bin of the propensity score (width 0.05). The numbers are in the table below."
            )
        },
    });
    b.push(overlap_table(pb, t_label, c_label, lang));
}

/// The sentence on the participants whose propensity score lies outside the comparison
/// group's range (with a leading space), or that their number is withheld.
fn outside_support_words(pb: &PropensityBins, n_treated: Option<usize>, lang: Lang) -> String {
    match (pb.treated_outside_support, n_treated) {
        (Some(k), Some(n)) if n > 0 => {
            let share = localise(&fmt_value(100.0 * k as f64 / n as f64), lang);
            if lang == Lang::Nl {
                format!(
                    " {k} van de {n} deelnemers ({share}%) hebben een propensityscore buiten het bereik van de vergelijkingsgroep; voor hen berust het effect op extrapolatie."
                )
            } else {
                format!(
                    " {k} of the {n} participants ({share}%) have a propensity score outside the comparison group's range; for them the effect rests on extrapolation."
                )
            }
        }
        _ => tr(
            lang,
            " Het aantal deelnemers buiten het bereik van de vergelijkingsgroep is onderdrukt.",
            " The number of participants outside the comparison group's range is withheld.",
        )
        .to_string(),
    }
}

/// The overlap chart's numbers: persons per arm in each propensity-score bin, leaving
/// out the bins that are empty in both arms.
fn overlap_table(pb: &PropensityBins, t_label: &str, c_label: &str, lang: Lang) -> Block {
    let mut t = vec![vec![
        tr(lang, "Propensityscore", "Propensity score").to_string(),
        format!("{t_label} (n)"),
        format!("{c_label} (n)"),
    ]];
    for i in 0..pb.treated.len().min(pb.control.len()) {
        if pb.treated[i] == Some(0) && pb.control[i] == Some(0) {
            continue;
        }
        t.push(vec![
            localise(&format!("{:.2}–{:.2}", pb.edges[i], pb.edges[i + 1]), lang),
            fmt_count(pb.treated[i], lang),
            fmt_count(pb.control[i], lang),
        ]);
    }
    Block::Table(t)
}

/// Effects per subgroup of the primary outcomes: per subgroup a table of the levels'
/// effects with their intervals and the interaction test, under the warning that
/// subgroup results are exploratory unless pre-registered. Numbers from `r.subgroups`.
fn subgroup_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let sg = &r.subgroups;
    if sg.estimates.is_empty() {
        return;
    }
    b.push(Heading(
        2,
        tr(
            lang,
            "Effecten per subgroep (verkennend)",
            "Effects per subgroup (exploratory)",
        )
        .into(),
    ));
    b.push(Warning(
        tr(
            lang,
            "Effecten per subgroep zijn verkennend, tenzij de subgroepen vooraf zijn vastgelegd: met veel subgroepen is er vaak één met een opvallend verschil door toeval. Kijk naar de interactietoets (verschilt het effect tussen de subgroepen?) en niet naar de p-waarde per subgroep.",
            "Effects per subgroup are exploratory unless the subgroups were registered in advance: with many subgroups one often shows a striking difference by chance. Look at the interaction test (does the effect differ between the subgroups?), not at the p-value per subgroup.",
        )
        .into(),
    ));
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    for o in r.outcomes.iter().filter(|o| o.primary) {
        for g in &sg.groups {
            let rows: Vec<_> = sg
                .estimates
                .iter()
                .filter(|e| e.estimate.outcome == o.id && e.subgroup == g.column)
                .collect();
            if rows.is_empty() {
                continue;
            }
            b.push(Heading(
                3,
                format!("{} — {}", o.label.get(lang), g.label.get(lang)),
            ));
            b.push(subgroup_table(r, g, &rows, several, lang));
            for test in sg
                .interactions
                .iter()
                .filter(|x| x.outcome == o.id && x.subgroup == g.column)
            {
                b.push(Paragraph(interaction_words(r, test, several, lang)));
            }
        }
    }
}

/// The table of one outcome's effects in the levels of subgroup `g`: per level (and
/// comparison, when there are several) the effect with its interval, p and group sizes.
fn subgroup_table(
    r: &PilotResults,
    g: &crate::config::Subgroup,
    rows: &[&SubgroupEstimate],
    several: bool,
    lang: Lang,
) -> Block {
    let mut head = Vec::new();
    if several {
        head.push(tr(lang, "Vergelijking", "Comparison").to_string());
    }
    head.extend([
        tr(lang, "Subgroep", "Subgroup").to_string(),
        format!(
            "{} [95%-{}]",
            tr(lang, "Effect", "Effect"),
            tr(lang, "BI", "CI")
        )
        .replace("[95%-CI]", "[95% CI]"),
        "p".into(),
        format!("n ({})", tr(lang, "behandeld/controle", "treated/control")),
    ]);
    let mut t = vec![head];
    for e in rows {
        t.push(subgroup_row(r, g, e, several, lang));
    }
    Block::Table(t)
}

/// One row of a subgroup table: the comparison (when there are several), the level's
/// label, its effect and interval and p ("suppressed" or "not estimable" where there is
/// none), and the group sizes.
fn subgroup_row(
    r: &PilotResults,
    g: &crate::config::Subgroup,
    e: &SubgroupEstimate,
    several: bool,
    lang: Lang,
) -> Vec<String> {
    let est = &e.estimate;
    let level = g
        .levels
        .iter()
        .find(|l| l.value == e.level)
        .map(|l| l.label.get(lang).to_string())
        .unwrap_or_else(|| format!("{} = {}", g.column, e.level));
    let f = display_factor(r, est);
    let mut row = Vec::new();
    if several {
        row.push(format!(
            "{} vs {}",
            r.arm_label(&est.treated, lang),
            r.arm_label(&est.control, lang)
        ));
    }
    let withheld = tr(lang, "onderdrukt", "suppressed").to_string();
    let not_estimated = tr(lang, "niet te schatten", "not estimable").to_string();
    row.push(level);
    if est.suppressed {
        row.extend([withheld.clone(), withheld.clone()]);
    } else if !est.estimate.is_finite() {
        row.extend([not_estimated, "–".into()]);
    } else {
        row.push(effect_ci(
            est.estimate * f,
            est.ci_low * f,
            est.ci_high * f,
            lang,
        ));
        row.push(localise(&fmt_p(est.p_value), lang));
    }
    row.push(fmt_sizes(est.n_treated, est.n_control, lang));
    row
}

/// The interaction test of a subgroup in words: does the effect differ between the
/// levels, with the F statistic, its degrees of freedom and p.
fn interaction_words(
    r: &PilotResults,
    test: &InteractionTest,
    several: bool,
    lang: Lang,
) -> String {
    let p = p_words(test.p_value, lang);
    let stat = format!(
        "F = {} ({}, {})",
        localise(&fmt_value(test.statistic), lang),
        test.df1,
        test.df2.map_or("∞".to_string(), |d| format!("{d:.0}"))
    );
    let differs = test.p_value < 1.0 - r.conf_level;
    let stat = if several {
        format!(
            "{} vs {}: {stat}",
            r.arm_label(&test.treated, lang),
            r.arm_label(&test.control, lang)
        )
    } else {
        stat
    };
    match (lang, differs) {
        (Lang::Nl, true) => format!(
            "Verschilt het effect tussen de subgroepen? Waarschijnlijk wel: {stat}, {p} (interactietoets, HC2)."
        ),
        (Lang::Nl, false) => format!(
            "Verschilt het effect tussen de subgroepen? Dat is niet aangetoond: {stat}, {p} (interactietoets, HC2)."
        ),
        (Lang::En, true) => format!(
            "Does the effect differ between the subgroups? Probably: {stat}, {p} (interaction test, HC2)."
        ),
        (Lang::En, false) => format!(
            "Does the effect differ between the subgroups? Not shown: {stat}, {p} (interaction test, HC2)."
        ),
    }
}

/// The cost per extra person with the outcome: per comparison the costs per person,
/// the ICER with Fieller's interval in plain words, and the acceptability curve.
fn cost_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let Some(c) = &r.costs else { return };
    let Some(o) = r.outcome(&c.outcome) else {
        return;
    };
    let binary = o.kind == OutcomeKind::Binary;
    b.push(Heading(
        2,
        if binary {
            tr(
                lang,
                "Kosten per extra persoon met de uitkomst",
                "Cost per extra person with the outcome",
            )
            .into()
        } else {
            tr(
                lang,
                "Kosten per extra eenheid van de uitkomst",
                "Cost per extra unit of the outcome",
            )
            .into()
        },
    ));
    for x in &c.comparisons {
        b.push(Paragraph(cost_paragraph(r, x, lang)));
    }
    plane_blocks(c, lang, b);
    acceptability_blocks(c, lang, b);
}

/// The paragraph on one cost comparison: the mean costs per arm, the cost per extra
/// person with its intervals, and where the effect comes from.
fn cost_paragraph(r: &PilotResults, x: &CostComparison, lang: Lang) -> String {
    let euro = |v: f64| euro(v, lang);
    let t = r.arm_label(&x.treated, lang);
    let k = r.arm_label(&x.control, lang);
    let costs = match lang {
        Lang::Nl if x.cost_basis == "column" => format!(
            "Gemiddelde kosten per persoon (uit de data): {t} {}, {k} {} (verschil {}).",
            euro(x.cost_treated),
            euro(x.cost_control),
            euro(x.incremental_cost)
        ),
        Lang::En if x.cost_basis == "column" => format!(
            "Mean cost per person (from the data): {t} {}, {k} {} (difference {}).",
            euro(x.cost_treated),
            euro(x.cost_control),
            euro(x.incremental_cost)
        ),
        Lang::Nl => format!(
            "Kosten per persoon: {t} {}, {k} {} (verschil {}).",
            euro(x.cost_treated),
            euro(x.cost_control),
            euro(x.incremental_cost)
        ),
        Lang::En => format!(
            "Cost per person: {t} {}, {k} {} (difference {}).",
            euro(x.cost_treated),
            euro(x.cost_control),
            euro(x.incremental_cost)
        ),
    };
    let line = super::cost_text::cost_line(r, x, lang);
    let source = match lang {
        Lang::Nl => format!("Het effect is {}.", x.effect_source.nl),
        Lang::En => format!("The effect is {}.", x.effect_source.en),
    };
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    let head = if several {
        format!("{t} vs {k}: ")
    } else {
        String::new()
    };
    format!("{head}{costs} {line} {source}")
}

/// The cost-effectiveness plane of the first comparison with its bootstrap, and the
/// shares of the replicates per quadrant beside it.
fn plane_blocks(c: &CostResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    // The plane: the replicates and the estimate, and the quadrant shares beside it.
    if let Some(x) = c.comparisons.first()
        && let Some(q) = x.bootstrap_quadrants
    {
        b.push(Chart {
            stem: "ce_plane".into(),
            alt: tr(
                lang,
                "Kosteneffectiviteitsvlak: extra kosten per persoon tegen extra effect per persoon, met de bootstraptrekkingen en de schatting",
                "Cost-effectiveness plane: extra cost per person against extra effect per person, with the bootstrap replicates and the estimate",
            )
            .into(),
        });
        let pct = |v: f64| format!("{}%", localise(&format!("{:.1}", 100.0 * v), lang));
        let mut t = vec![vec![
            tr(lang, "Kwadrant", "Quadrant").to_string(),
            tr(lang, "Aandeel van de trekkingen", "Share of the replicates").to_string(),
        ]];
        for (nl, en, v) in [
            (
                "meer effect, duurder",
                "more effect, more cost",
                q.north_east,
            ),
            (
                "meer effect, goedkoper",
                "more effect, less cost",
                q.south_east,
            ),
            (
                "minder effect, goedkoper",
                "less effect, less cost",
                q.south_west,
            ),
            (
                "minder effect, duurder",
                "less effect, more cost",
                q.north_west,
            ),
            (
                "op een as (een verschil precies 0)",
                "on an axis (a difference of exactly 0)",
                q.on_axis,
            ),
        ] {
            t.push(vec![tr(lang, nl, en).to_string(), pct(v)]);
        }
        b.push(Table(t));
        if let Some(m) = &x.bootstrap_method {
            b.push(Paragraph(format!(
                "{} {}. {}",
                tr(lang, "Bootstrap:", "Bootstrap:"),
                m.get(lang),
                match lang {
                    Lang::Nl => format!(
                        "De stippellijn: één extra persoon € {} waard (de helft van de hoogste waarde van de acceptatiecurve); trekkingen onder de lijn zijn die waarde waard.",
                        crate::numfmt::format_number(c.reference_value, 0, lang)
                    ),
                    Lang::En => format!(
                        "The dashed line: one extra person worth €{} (half the largest value of the acceptability curve); replicates below the line are worth that value.",
                        crate::numfmt::format_number(c.reference_value, 0, lang)
                    ),
                }
            )));
        }
    }
}

/// The acceptability curve, its numbers beside it (every tenth point) and how to read it.
fn acceptability_blocks(c: &CostResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let euro = |v: f64| euro(v, lang);
    b.push(Chart {
        stem: "acceptability".into(),
        alt: tr(
            lang,
            "Kans dat de aanpak de kosten waard is, tegen de waarde van één extra persoon met de uitkomst",
            "Probability that the approach is worth its cost, against the value of one extra person with the outcome",
        )
        .into(),
    });
    // The curve's numbers beside it (accessibility): every tenth point.
    if let Some(x) = c.comparisons.first() {
        let mut t = vec![vec![
            tr(
                lang,
                "Waarde van één extra persoon",
                "Value of one extra person",
            )
            .to_string(),
            tr(
                lang,
                "Kans dat het de kosten waard is",
                "Probability it is worth the cost",
            )
            .to_string(),
        ]];
        for p in x.acceptability.iter().step_by(10) {
            t.push(vec![
                euro(p.value),
                format!(
                    "{}%",
                    localise(&format!("{:.0}", 100.0 * p.probability), lang)
                ),
            ]);
        }
        b.push(Table(t));
    }
    b.push(Paragraph(format!(
        "{} {}",
        tr(
            lang,
            "De curve geeft per waarde van één extra persoon met de uitkomst de kans dat de aanpak die waarde opbrengt (normale benadering). Bron van de kosten:",
            "The curve gives, per value of one extra person with the outcome, the probability that the approach is worth it (normal approximation). Source of the costs:",
        ),
        c.source.get(lang)
    )));
}

/// An amount in euros, rounded to whole euros, with a minus sign when negative.
fn euro(x: f64, lang: Lang) -> String {
    let sign = if x < 0.0 { "−" } else { "" };
    format!("{sign}€{}", crate::numfmt::format_number(x.abs(), 0, lang))
}

/// The findings in plain words, one box per primary outcome and comparison, then the
/// effects chart: what a reader should see first.
fn headline_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    if r.summary.is_empty() {
        return;
    }
    b.push(Heading(2, tr(lang, "In het kort", "In short").into()));
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    for f in &r.summary {
        let title = if several {
            format!(
                "{} — {} vs {}",
                f.title.get(lang),
                r.arm_label(&f.treated, lang),
                r.arm_label(&f.control, lang)
            )
        } else {
            f.title.get(lang).to_string()
        };
        b.push(Finding {
            title,
            text: f.text.get(lang).to_string(),
        });
    }
    // The cost per extra person, in one sentence per comparison.
    if let Some(c) = &r.costs {
        for x in &c.comparisons {
            b.push(Paragraph(super::cost_text::cost_line(r, x, lang)));
        }
    }
    b.push(Chart {
        stem: "effects".into(),
        alt: tr(
            lang,
            "Effecten per uitkomst met 95%-betrouwbaarheidsintervallen (de getallen staan in de tabellen onder 'Belangrijkste resultaten')",
            "Effects per outcome with 95% confidence intervals (the numbers are in the tables under 'Main results')",
        )
        .into(),
    });
}

/// The main results: per outcome a table of the headline estimates (whole sample and
/// projects), with readable estimator names.
fn main_results_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    b.push(Heading(
        2,
        tr(lang, "Belangrijkste resultaten", "Main results").into(),
    ));
    b.push(Paragraph(
        tr(
            lang,
            "Per uitkomst het verschil tussen elke arm en de controlegroep, met 95%-betrouwbaarheidsinterval. Een interval dat nul bevat, betekent dat de data verenigbaar zijn met geen effect. De kolommen per groep geven de gemiddelden (bij ja/nee-uitkomsten het percentage). MDE (80%) is het kleinste ware effect dat de pilot met 80% kans had aangetoond.",
            "For each outcome, the difference between each arm and the control group, with a 95% confidence interval. An interval that contains zero means the data are compatible with no effect. The columns per group give the means (for yes/no outcomes the percentage). MDE (80%) is the smallest true effect the pilot would have detected with 80% probability.",
        )
        .into(),
    ));
    if r.summary.is_empty() {
        b.push(Chart {
            stem: "effects".into(),
            alt: tr(
                lang,
                "Effecten per uitkomst met 95%-betrouwbaarheidsintervallen (de getallen staan in de tabellen hieronder)",
                "Effects per outcome with 95% confidence intervals (the numbers are in the tables below)",
            )
            .into(),
        });
    }
    for (o, rows) in summary_tables(r, lang) {
        let role = if o.primary {
            tr(lang, "primair", "primary")
        } else {
            tr(lang, "secundair", "secondary")
        };
        b.push(Heading(
            3,
            format!("{} ({}; {role})", o.label.get(lang), o.unit.get(lang)),
        ));
        b.push(Table(rows));
    }
}

/// An outcome's table of arm summaries: per subset and arm the units, missing
/// outcomes (and covariates), mean and interval.
fn arm_summaries_table(
    r: &PilotResults,
    o: &OutcomeMeta,
    sums: &[&ArmSummaryRow],
    lang: Lang,
) -> Block {
    let with_cov = !r.covariates.is_empty() && o.kind != OutcomeKind::TimeToEvent;
    let mut t = vec![vec![
        tr(lang, "Deelgroep", "Subset").to_string(),
        "Arm".to_string(),
        "n".to_string(),
        tr(lang, "ontbreekt", "missing").to_string(),
        if o.kind == OutcomeKind::TimeToEvent {
            format!(
                "{} ({})",
                tr(lang, "Beperkt gemiddelde (RMST)", "Restricted mean (RMST)"),
                o.unit.get(lang)
            )
        } else {
            format!(
                "{} ({})",
                tr(lang, "Gemiddelde", "Mean"),
                o.unit
                    .get(lang)
                    .replace("percentage points", "%")
                    .replace("procentpunt", "%")
            )
        },
        tr(lang, "95%-BI", "95% CI").to_string(),
    ]];
    if with_cov {
        t[0].insert(
            4,
            tr(lang, "covariaat ontbreekt", "missing covariate").to_string(),
        );
    }
    for s in sums {
        let f = o.display_factor;
        t.push(vec![
            r.subset_label(&s.subset, lang),
            r.arm_label(&s.arm, lang),
            fmt_count(s.n, lang),
            fmt_count(s.n_missing, lang),
            localise(&fmt_value(s.mean * f), lang),
            localise(
                &format!("{} – {}", fmt_value(s.ci_low * f), fmt_value(s.ci_high * f)),
                lang,
            ),
        ]);
        if with_cov {
            t.last_mut()
                .expect("a row was just added")
                .insert(4, fmt_count(s.n_missing_covariates, lang));
        }
    }
    Block::Table(t)
}

/// An outcome's table of estimates: per subset and comparison every estimator, its
/// estimate and interval, standard error, df, p and group sizes.
fn estimates_table(r: &PilotResults, rows: &[&EstimateRow], lang: Lang) -> Block {
    let mut t = vec![vec![
        tr(lang, "Deelgroep", "Subset").to_string(),
        tr(lang, "Vergelijking", "Comparison").to_string(),
        tr(lang, "Schatter", "Estimator").to_string(),
        tr(lang, "Schatting [95%-BI]", "Estimate [95% CI]").to_string(),
        tr(lang, "SF", "SE").to_string(),
        "df".to_string(),
        "p".to_string(),
        "n".to_string(),
    ]];
    for e in rows {
        let f = display_factor(r, e);
        let withheld = || tr(lang, "onderdrukt", "suppressed").to_string();
        let est = match e.scale {
            _ if e.suppressed => withheld(),
            Scale::Ratio => {
                let sep = if lang == Lang::Nl { "; " } else { ", " };
                localise(
                    &format!(
                        "{} [{}{sep}{}]",
                        fmt_value(e.estimate),
                        fmt_value(e.ci_low),
                        fmt_value(e.ci_high)
                    ),
                    lang,
                )
            }
            Scale::Difference | Scale::Standardised => {
                effect_ci(e.estimate * f, e.ci_low * f, e.ci_high * f, lang)
            }
        };
        t.push(vec![
            if e.subset == POOLED {
                tr(lang, "alle", "all").into()
            } else {
                r.subset_label(&e.subset, lang)
            },
            r.arm_label(&e.treated, lang),
            format!(
                "{}{}{}{}",
                estimator_label(&e.estimator, lang),
                if descriptive(r, e) {
                    tr(lang, " (beschrijvend)", " (descriptive)")
                } else {
                    ""
                },
                e.se_type
                    .as_ref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default(),
                if e.headline { " ◆" } else { "" }
            ),
            est,
            if e.suppressed {
                withheld()
            } else {
                localise(
                    &fmt_value(e.std_error * if e.scale == Scale::Ratio { 1.0 } else { f }),
                    lang,
                )
            },
            fmt_df(e.df, lang),
            if e.suppressed {
                withheld()
            } else {
                localise(&fmt_p(e.p_value), lang)
            },
            fmt_sizes(e.n_treated, e.n_control, lang),
        ]);
    }
    Block::Table(t)
}

/// Whether a row is the two-group comparison of an outcome that has a time design:
/// then it is descriptive, the design estimate leads.
fn descriptive(r: &PilotResults, e: &EstimateRow) -> bool {
    (r.panel_design.iter().any(|d| d.outcome == e.outcome)
        || r.its_design.iter().any(|d| d.outcome == e.outcome))
        && !crate::analysis::panel_design::is_design_estimator(&e.estimator)
}

/// An outcome's table of tests: per subset and comparison the test, statistic, p and
/// draws.
fn tests_table(r: &PilotResults, tests: &[&TestRow], lang: Lang) -> Block {
    let mut t = vec![vec![
        tr(lang, "Deelgroep", "Subset").to_string(),
        tr(lang, "Vergelijking", "Comparison").to_string(),
        tr(lang, "Toets", "Test").to_string(),
        tr(lang, "Statistiek", "Statistic").to_string(),
        "p".to_string(),
        tr(lang, "Trekkingen", "Draws").to_string(),
    ]];
    for x in tests {
        t.push(vec![
            if x.subset == POOLED {
                tr(lang, "alle", "all").into()
            } else {
                r.subset_label(&x.subset, lang)
            },
            r.arm_label(&x.treated, lang),
            test_label(&x.test, lang),
            x.statistic
                .map(|v| localise(&fmt_value(v), lang))
                .unwrap_or_else(|| "–".into()),
            localise(&fmt_p(x.p_value), lang),
            x.reps.map(|n| n.to_string()).unwrap_or_default(),
        ]);
    }
    Block::Table(t)
}

/// An outcome's notes, each with its subset when that is not the pooled one.
fn outcome_notes(r: &PilotResults, o: &OutcomeMeta, lang: Lang) -> Vec<String> {
    r.notes
        .iter()
        .filter(|n| n.outcome.as_deref() == Some(&o.id))
        .map(|n| match &n.subset {
            Some(s) if s != POOLED => {
                format!("{}: {}", r.subset_label(s, lang), n.text.get(lang))
            }
            _ => n.text.get(lang).to_string(),
        })
        .collect()
}

/// An outcome's section: heading, arm summaries (and survival curves), estimates,
/// tests and notes; only its notes when nothing was estimated.
fn outcome_blocks(r: &PilotResults, o: &OutcomeMeta, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let role = if o.primary {
        tr(lang, "primair", "primary")
    } else {
        tr(lang, "secundair", "secondary")
    };
    b.push(Heading(2, format!("{} ({role})", o.label.get(lang))));
    // Rows by event time are in the design section's table.
    let rows: Vec<_> = r
        .estimates
        .iter()
        .filter(|e| e.outcome == o.id && e.event_time.is_none())
        .collect();
    let sums: Vec<_> = r
        .arm_summaries
        .iter()
        .filter(|s| s.outcome == o.id)
        .collect();
    if rows.is_empty() && sums.is_empty() {
        for n in r
            .notes
            .iter()
            .filter(|n| n.outcome.as_deref() == Some(&o.id))
        {
            b.push(Paragraph(n.text.get(lang).to_string()));
        }
        return;
    }
    b.push(arm_summaries_table(r, o, &sums, lang));
    if o.kind == OutcomeKind::TimeToEvent {
        survival_blocks(r, o, lang, b);
    }
    b.push(Chart {
        stem: format!("arms-{}", o.id),
        alt: format!(
            "{}: {}",
            o.label.get(lang),
            tr(lang, "gemiddelde per arm", "mean per arm")
        ),
    });
    b.push(estimates_table(r, &rows, lang));
    b.push(Paragraph(
        tr(
            lang,
            "◆ hoofdschatting. Verschillen in de eenheid van de uitkomst; risicoratio en oddsratio als verhouding (1 = geen effect; SF op logschaal). df: vrijheidsgraden van de t-verdeling, z: normale verdeling.",
            "◆ headline estimate. Differences in the outcome's unit; risk ratio and odds ratio as ratios (1 = no effect; SE on the log scale). df: degrees of freedom of the t distribution, z: normal distribution.",
        )
        .into(),
    ));
    project_meta_blocks(r, o, lang, b);
    super::design::panel_blocks(r, o, lang, b);
    super::design::its_blocks(r, o, lang, b);
    let tests: Vec<_> = r.tests.iter().filter(|t| t.outcome == o.id).collect();
    if !tests.is_empty() {
        b.push(tests_table(r, &tests, lang));
    }
    let notes = outcome_notes(r, o, lang);
    if !notes.is_empty() {
        b.push(List(notes));
    }
    let _ = arm_mean;
}

/// Pilots with projects: the random-effects pooling of the outcome's projects, beside
/// the regression estimate on the whole sample, with its heterogeneity, whether the
/// projects agree in plain words, and its forest plot. Numbers from `r.meta`.
fn project_meta_blocks(r: &PilotResults, o: &OutcomeMeta, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    for (i, m) in r.meta.iter().enumerate().filter(|(_, m)| m.outcome == o.id) {
        let w = MetaWords::new(o, m, lang);
        b.push(Paragraph(meta_summary(r, o, m, &w)));
        b.push(Paragraph(format!(
            "{}{}",
            projects_agree_words(m, lang),
            left_out_words(r, m, lang)
        )));
        b.push(Chart {
            stem: super::charts::forest_stem(r, i),
            alt: format!(
                "{}: {}",
                o.label.get(lang),
                tr(
                    lang,
                    "effect per project (forestplot; de tabel hieronder geeft dezelfde getallen)",
                    "effect per project (forest plot; the table below gives the same numbers)"
                )
            ),
        });
        b.push(meta_table(r, m, &w));
    }
}

/// What the paragraph and the table of one pooling share: the language, the factor to
/// display units (the outcome's for differences, else 1), the confidence level in
/// percent and the method tag after "REML".
struct MetaWords {
    lang: Lang,
    factor: f64,
    /// The confidence level in percent, e.g. "95".
    conf: String,
    /// ", HKSJ" when the interval has the Hartung-Knapp-Sidik-Jonkman adjustment.
    hksj: &'static str,
}

impl MetaWords {
    /// The words of pooling `m` of outcome `o`.
    fn new(o: &OutcomeMeta, m: &ProjectMeta, lang: Lang) -> Self {
        MetaWords {
            lang,
            factor: if m.scale == Scale::Difference {
                o.display_factor
            } else {
                1.0
            },
            conf: format!("{:.0}", 100.0 * m.conf_level),
            hksj: if m.se_type.is_some() { ", HKSJ" } else { "" },
        }
    }

    /// A number in display units, localised.
    fn value(&self, x: f64) -> String {
        localise(&fmt_value(x * self.factor), self.lang)
    }

    /// An interval as "a to b" / "a tot b", in the paragraph and the table alike.
    fn interval(&self, a: f64, z: f64) -> String {
        format!(
            "{} {} {}",
            self.value(a),
            tr(self.lang, "tot", "to"),
            self.value(z)
        )
    }
}

/// The paragraph on one pooling: the comparison and number of projects, the pooled
/// effect with its interval, the prediction interval for a new municipality, and the
/// heterogeneity (I², τ, Q with its df and p).
fn meta_summary(r: &PilotResults, o: &OutcomeMeta, m: &ProjectMeta, w: &MetaWords) -> String {
    let lang = w.lang;
    let h = &m.heterogeneity;
    let tau = if m.scale == Scale::Ratio {
        format!(
            "τ = {} ({})",
            localise(&fmt_value(h.tau2.sqrt()), lang),
            tr(lang, "logschaal", "log scale")
        )
    } else {
        format!("τ = {} {}", w.value(h.tau2.sqrt()), o.unit.get(lang))
    };
    let p_q = p_words(h.q_p_value, lang);
    let prediction = match (m.prediction_low, m.prediction_high) {
        (Some(a), Some(z)) => format!(
            " {} {}.",
            tr(
                lang,
                "Voorspellingsinterval voor een nieuwe gemeente:",
                "Prediction interval for a new municipality:"
            ),
            w.interval(a, z)
        ),
        _ => String::new(),
    };
    let cmp = format!(
        "{} vs {}",
        r.arm_label(&m.treated, lang),
        r.arm_label(&m.control, lang)
    );
    let (k, hksj, conf) = (m.k, w.hksj, &w.conf);
    format!(
        "{} ({cmp}, {k} {}; REML{hksj}): {} ({conf}% {} {}).{prediction} {}: I² = {:.0}%, {tau}, Q = {} (df = {}), {p_q}.",
        tr(
            lang,
            "Random-effects-meta-analyse van de projecten, naast de regressieschatting op de hele steekproef",
            "Random-effects meta-analysis of the projects, beside the regression estimate on the whole sample"
        ),
        tr(lang, "projecten", "projects"),
        w.value(m.estimate),
        tr(lang, "BI", "CI"),
        w.interval(m.ci_low, m.ci_high),
        tr(lang, "Heterogeniteit", "Heterogeneity"),
        h.i2,
        localise(&fmt_value(h.q), lang),
        h.q_df,
    )
}

/// Whether the projects agree, in plain words, with Cochran's Q test and what to look
/// at instead when they do not.
fn projects_agree_words(m: &ProjectMeta, lang: Lang) -> String {
    let p_q = p_words(m.heterogeneity.q_p_value, lang);
    let k = m.k;
    if m.projects_agree {
        match lang {
            Lang::Nl => format!(
                "De projecten verschillen niet meer dan toeval verklaart ({p_q}, grens 0,10). Met {k} projecten heeft deze toets weinig onderscheidingsvermogen: het voorspellingsinterval laat zien hoe ver het effect in een nieuwe gemeente van het gemiddelde kan liggen."
            ),
            Lang::En => format!(
                "The projects do not differ more than chance explains ({p_q}, threshold 0.10). With {k} projects this test has little power: the prediction interval shows how far the effect in a new municipality could lie from the average."
            ),
        }
    } else {
        match lang {
            Lang::Nl => format!(
                "De projecten verschillen meer dan toeval verklaart ({p_q}, grens 0,10): het effect hangt af van het project en het gemiddelde verbergt dat. Bekijk de projecten afzonderlijk en het voorspellingsinterval."
            ),
            Lang::En => format!(
                "The projects differ more than chance explains ({p_q}, threshold 0.10): the effect depends on the project, and the average hides that. Look at the projects one by one and at the prediction interval."
            ),
        }
    }
}

/// The projects left out of a pooling (withheld or not estimable), as a sentence with
/// a leading space; empty when none was.
fn left_out_words(r: &PilotResults, m: &ProjectMeta, lang: Lang) -> String {
    if m.left_out.is_empty() {
        return String::new();
    }
    let names: Vec<String> = m.left_out.iter().map(|s| r.subset_label(s, lang)).collect();
    format!(
        " {}: {}.",
        tr(
            lang,
            "Niet meegenomen (schatting onderdrukt of niet te schatten)",
            "Left out (estimate withheld or not estimable)"
        ),
        names.join(", ")
    )
}

/// The forest plot's numbers: per project n, effect, interval and weight, then the
/// pooled row.
fn meta_table(r: &PilotResults, m: &ProjectMeta, w: &MetaWords) -> Block {
    let lang = w.lang;
    let mut t = vec![vec![
        tr(lang, "Project", "Project").to_string(),
        "n".to_string(),
        tr(lang, "Effect", "Effect").to_string(),
        format!("{}% {}", w.conf, tr(lang, "BI", "CI")),
        tr(lang, "Gewicht", "Weight").to_string(),
    ]];
    for p in &m.projects {
        t.push(vec![
            r.subset_label(&p.subset, lang),
            fmt_count(p.n, lang),
            w.value(p.estimate),
            w.interval(p.ci_low, p.ci_high),
            format!("{}%", localise(&format!("{:.1}", p.weight), lang)),
        ]);
    }
    t.push(vec![
        format!("{} (REML{})", tr(lang, "Gepoold", "Pooled"), w.hksj),
        String::new(),
        w.value(m.estimate),
        w.interval(m.ci_low, m.ci_high),
        "100%".into(),
    ]);
    Block::Table(t)
}

/// The methods: the estimators and conventions, and the tool that made the report.
fn methods_blocks(r: &PilotResults, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    b.push(Heading(2, tr(lang, "Verantwoording", "Methods").into()));
    b.push(List(vec![
        tr(lang, "Welch: verschil in gemiddelden met Welch-Satterthwaite-vrijheidsgraden (Welch 1947).", "Welch: difference in means with Welch-Satterthwaite degrees of freedom (Welch 1947).").into(),
        tr(lang, "ols / ols_adjusted: kleinste-kwadratenregressie op een arm-indicator (en covariaten), met HC2-standaardfouten (MacKinnon & White 1985) of, bij clusters, CR2 met Bell-McCaffrey-vrijheidsgraden (Bell & McCaffrey 2002), zoals R estimatr::lm_robust.", "ols / ols_adjusted: least-squares regression on an arm indicator (and covariates), with HC2 standard errors (MacKinnon & White 1985) or, with clusters, CR2 with Bell-McCaffrey degrees of freedom (Bell & McCaffrey 2002), as R estimatr::lm_robust.").into(),
        tr(lang, "risk_difference_newcombe: verschil in proporties met het hybride score-interval van Newcombe (1998, methode 10); p-waarde van de chi-kwadraattoets zonder continuïteitscorrectie.", "risk_difference_newcombe: difference in proportions with Newcombe's hybrid score interval (1998, method 10); p-value of the chi-square test without continuity correction.").into(),
        tr(lang, "risk_ratio en odds_ratio: Wald-intervallen op logschaal (Katz 1978; Woolf 1955). Per arm: Wilson-interval (1927) voor proporties, t-interval voor gemiddelden.", "risk_ratio and odds_ratio: Wald intervals on the log scale (Katz 1978; Woolf 1955). Per arm: Wilson interval (1927) for proportions, t interval for means.").into(),
        tr(lang, "Ontbrekende gegevens: per analyse worden alleen volledige gevallen gebruikt. Per arm staan in de tabellen het aantal zonder uitkomst (niet in enige schatting) en het aantal met uitkomst maar zonder een covariaat (niet in de gecorrigeerde schattingen).", "Missing data: each analysis uses complete cases. Per arm the tables give the number without an outcome (in no estimate) and the number with an outcome but a missing covariate (not in the adjusted estimates).").into(),
        format!("{} ({}).", tr(lang, "Meervoudig toetsen: de p-waarden van de hoofdschattingen voor de hele steekproef zijn gecorrigeerd binnen twee families, primaire en secundaire uitkomsten", "Multiple testing: the p-values of the headline estimates for the whole sample are adjusted within two families, primary and secondary outcomes"), r.multiplicity.label()),
        tr(lang, "Effectgroottes: Cohen's d en Hedges' g (gestandaardiseerd met de gepoolde SD; interval als metafor::escalc), Cohen's h voor proporties.", "Effect sizes: Cohen's d and Hedges' g (standardised by the pooled SD; interval as metafor::escalc), Cohen's h for proportions.").into(),
        tr(lang, "Bij minder dan 30 clusters: een wild-clusterbootstrap (Webb-gewichten, nulhypothese opgelegd) als controle op de clusterrobuuste p-waarde.", "With fewer than 30 clusters: a wild cluster bootstrap (Webb weights, null imposed) as a check on the cluster-robust p-value.").into(),
    ]));
    let mut codes: Vec<(String, String)> = Vec::new();
    for e in &r.estimates {
        let code = match &e.se_type {
            Some(se) => format!("{} ({se})", e.estimator),
            None => e.estimator.clone(),
        };
        let pair = (estimator_label(&e.estimator, lang), code);
        if !codes.contains(&pair) {
            codes.push(pair);
        }
    }
    if !codes.is_empty() {
        b.push(Paragraph(
            tr(
                lang,
                "Namen van de methoden in dit rapport en hun code in results.json (kolom estimator, met het type standaardfout):",
                "Names of the methods in this report and their code in results.json (column estimator, with the standard-error type):",
            )
            .into(),
        ));
        b.push(List(
            codes
                .into_iter()
                .map(|(label, code)| format!("{label}: {code}"))
                .collect(),
        ));
    }
    b.push(Paragraph(format!(
        "{} {}.",
        tr(lang, "Gemaakt met", "Made with"),
        r.tool
    )));
}

/// The report in blocks, in the chosen language.
pub fn build(r: &PilotResults, lang: Lang) -> Vec<Block> {
    let mut b = Vec::new();
    title_blocks(r, lang, &mut b);
    headline_blocks(r, lang, &mut b);
    about_blocks(r, lang, &mut b);
    design_blocks(r, lang, &mut b);
    b.push(arms_table(r, lang));
    flow_blocks(r, lang, &mut b);
    balance_blocks(r, lang, &mut b);
    weighting_blocks(r, lang, &mut b);
    main_results_blocks(r, lang, &mut b);
    subgroup_blocks(r, lang, &mut b);
    cost_blocks(r, lang, &mut b);
    for o in &r.outcomes {
        outcome_blocks(r, o, lang, &mut b);
    }
    methods_blocks(r, lang, &mut b);
    b
}

/// A readable name for a test id: the analysis plan's name for the tests of a
/// two-arm comparison ([`crate::analysis::plan::label`]), else the names below.
pub fn test_label(id: &str, lang: Lang) -> String {
    if let Some(l) = crate::analysis::plan::label(id) {
        return l.get(lang).into();
    }
    match id {
        "randomisation" => tr(lang, "randomisatie-inferentie", "randomisation inference").into(),
        "wild_cluster_bootstrap" => tr(
            lang,
            "wild-clusterbootstrap (Webb)",
            "wild cluster bootstrap (Webb)",
        )
        .into(),
        "logrank" => tr(lang, "log-rank", "log-rank").into(),
        "pretrend_wald" => tr(
            lang,
            "pre-trendtoets (Wald, periodes vóór de start)",
            "pre-trend test (Wald, periods before the start)",
        )
        .into(),
        other => other.into(),
    }
}

/// A readable name for an estimator id: the analysis plan's name for the estimators
/// of a two-arm comparison ([`crate::analysis::plan::label`]), else the names below.
pub fn estimator_label(id: &str, lang: Lang) -> String {
    if let Some(l) = crate::analysis::plan::label(id) {
        return l.get(lang).into();
    }
    match id {
        "ols_adjusted_ipcw" => tr(
            lang,
            "gecorrigeerd, gewogen voor censurering",
            "adjusted, weighted for censoring",
        )
        .into(),
        "bootstrap_percentile" => {
            tr(lang, "bootstrap (percentiel)", "bootstrap (percentile)").into()
        }
        "bootstrap_bca" => tr(lang, "bootstrap (BCa)", "bootstrap (BCa)").into(),
        "cox_hazard_ratio" => tr(lang, "hazardratio (Cox)", "hazard ratio (Cox)").into(),
        "cox_hazard_ratio_adjusted" => tr(
            lang,
            "hazardratio (Cox, gecorrigeerd)",
            "hazard ratio (Cox, adjusted)",
        )
        .into(),
        "km_risk_difference" => {
            tr(lang, "verschil (Kaplan-Meier)", "difference (Kaplan-Meier)").into()
        }
        "rmst_difference" => tr(lang, "verschil in RMST", "RMST difference").into(),
        "cs_simple" => tr(
            lang,
            "verschil-in-verschillen (Callaway & Sant'Anna)",
            "difference-in-differences (Callaway & Sant'Anna)",
        )
        .into(),
        "cs_dynamic" => tr(
            lang,
            "Callaway & Sant'Anna, per jaar sinds de start",
            "Callaway & Sant'Anna, by time since the start",
        )
        .into(),
        "event_study" => "event study".into(),
        "its_level" => tr(
            lang,
            "onderbroken tijdreeks: sprong in niveau",
            "interrupted time series: level change",
        )
        .into(),
        "its_slope" => tr(
            lang,
            "onderbroken tijdreeks: verandering van de helling",
            "interrupted time series: change of slope",
        )
        .into(),
        "twfe_did" => tr(
            lang,
            "statische vaste effecten (TWFE)",
            "static two-way fixed effects (TWFE)",
        )
        .into(),
        other => other.into(),
    }
}

/// The Kaplan-Meier chart and table of a time-to-event outcome: per arm the median
/// and the share without the event at the reporting times.
fn survival_blocks(r: &PilotResults, o: &OutcomeMeta, lang: Lang, b: &mut Vec<Block>) {
    let sums: Vec<_> = r.survival.iter().filter(|s| s.outcome == o.id).collect();
    let Some(first) = sums.first() else { return };
    b.push(Block::Chart {
        stem: format!("km-{}", o.id),
        alt: format!("{}: Kaplan-Meier", o.label.get(lang)),
    });
    let mut head = vec![
        tr(lang, "Deelgroep", "Subset").to_string(),
        "Arm".to_string(),
        "n".to_string(),
        tr(lang, "gebeurtenissen", "events").to_string(),
        format!("{} [95%-BI]", tr(lang, "Mediaan", "Median")),
    ];
    for p in &first.at {
        head.push(format!("S({})", localise(&fmt_value(p.time), lang)));
    }
    let mut t = vec![head];
    let withheld = || tr(lang, "onderdrukt", "suppressed").to_string();
    let not_reached = || tr(lang, "niet bereikt", "not reached").to_string();
    for s in &sums {
        let med = if s.suppressed || s.median_suppressed {
            withheld()
        } else {
            match s.median {
                Some(m) if s.median_ci_suppressed => {
                    format!("{} [{}]", fmt_value(m), withheld())
                }
                Some(m) => format!(
                    "{} [{}, {}]",
                    fmt_value(m),
                    s.median_ci_low.map(fmt_value).unwrap_or_else(|| "–".into()),
                    s.median_ci_high.map(fmt_value).unwrap_or_else(not_reached)
                ),
                None => not_reached(),
            }
        };
        let mut row = vec![
            r.subset_label(&s.subset, lang),
            r.arm_label(&s.arm, lang),
            fmt_count(s.n, lang),
            fmt_count(s.events, lang),
            localise(&med, lang),
        ];
        for (i, _) in first.at.iter().enumerate() {
            row.push(match s.at.get(i) {
                Some(p) if p.survival.is_finite() => {
                    localise(&format!("{}%", fmt_value(p.survival * 100.0)), lang)
                }
                _ => withheld(),
            });
        }
        t.push(row);
    }
    b.push(Block::Table(t));
    b.push(Block::Paragraph(format!(
        "{} {}.",
        tr(
            lang,
            "S(t): aandeel zonder de gebeurtenis op tijdstip t (Kaplan-Meier, log-log-interval). RMST: gemiddelde tijd zonder de gebeurtenis tot de horizon",
            "S(t): share without the event at time t (Kaplan-Meier, log-log interval). RMST: mean time without the event up to the horizon",
        ),
        localise(&fmt_value(first.horizon), lang)
    )));
}

/// The disclosure-control statement: a warning stamp when it was turned off.
fn disclosure_block(r: &PilotResults, lang: Lang) -> Block {
    if r.disclosure.applied {
        Block::Paragraph(format!(
            "{} {}.",
            tr(
                lang,
                "Statistische geheimhouding: geen getal, percentage, gemiddelde of grafiekonderdeel berust op minder dan",
                "Disclosure control: no number, percentage, mean or chart element rests on fewer than",
            ),
            match lang {
                Lang::Nl => format!(
                    "{} personen; onderdrukte waarden staan er als 'onderdrukt'",
                    r.disclosure.threshold
                ),
                Lang::En => format!(
                    "{} persons; withheld values read 'suppressed'",
                    r.disclosure.threshold
                ),
            }
        ))
    } else {
        Block::Warning(
            tr(
                lang,
                "ZONDER STATISTISCHE GEHEIMHOUDING: dit document kan kleine aantallen over personen bevatten. Alleen voor gebruik binnen de beveiligde omgeving; niet publiceren.",
                "NO DISCLOSURE CONTROL: this document may contain small counts about persons. For use inside the secure environment only; do not publish.",
            )
            .into(),
        )
    }
}
