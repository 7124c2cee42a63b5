//! The finding per primary outcome in plain words: what was compared, the effect in
//! the outcome's own unit with its interval, whether an effect was shown and how sure
//! that is, and the one caveat of the design that matters. The report opens with these
//! sentences and `results.json` carries them (`summary`), so the box a ministry reader
//! sees and the file an analyst checks say the same.
//!
//! The sentences quote only published numbers: they are made after disclosure
//! control, from the headline estimate of the whole sample and the arms' published
//! means. They compute nothing new; the verdict is read off the interval.

use serde::Serialize;

use super::{EstimateRow, OutcomeMeta, POOLED, PilotResults, Scale};
use crate::config::{Better, DesignKind, Lang, OutcomeKind, Text};
use crate::numfmt::{fmt_value, fmt_whole_or_value, localise, p_words, signed_value};

/// What the headline estimate of a primary outcome shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The interval excludes no effect, on the side the outcome calls better.
    Better,
    /// The interval excludes no effect, on the side the outcome calls worse.
    Worse,
    /// The interval excludes no effect; the outcome has no better direction.
    Different,
    /// The interval excludes no effect, but the p-value corrected for testing several
    /// outcomes is not below 1 − the confidence level: the difference may be chance.
    NotShownAfterCorrection,
    /// The interval contains no effect.
    NotShown,
    /// Disclosure control withheld the estimate.
    Withheld,
}

/// The plain-language finding for one primary outcome and one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub outcome: String,
    pub comparison: String,
    pub treated: String,
    pub control: String,
    /// The estimator of the estimate quoted (the headline of the whole sample).
    pub estimator: String,
    pub verdict: Verdict,
    /// The outcome's label, the box's heading.
    pub title: Text,
    /// The finding in a few sentences (Dutch at B1 level; plain English).
    pub text: Text,
}

/// The findings of every primary outcome's headline comparisons on the whole sample,
/// in the order of the outcomes. Without a primary outcome, those of every outcome.
pub fn summarise(r: &PilotResults) -> Vec<Finding> {
    let any_primary = r.outcomes.iter().any(|o| o.primary);
    let mut out = Vec::new();
    for o in r.outcomes.iter().filter(|o| o.primary || !any_primary) {
        for e in r
            .estimates
            .iter()
            .filter(|e| e.outcome == o.id && e.subset == POOLED && e.headline)
        {
            out.push(finding(r, o, e));
        }
    }
    out
}

fn finding(r: &PilotResults, o: &OutcomeMeta, e: &EstimateRow) -> Finding {
    let verdict = verdict(o, e);
    let text = Text::new(
        sentences(r, o, e, verdict, Lang::Nl),
        sentences(r, o, e, verdict, Lang::En),
    );
    Finding {
        outcome: o.id.clone(),
        comparison: e.comparison.clone(),
        treated: e.treated.clone(),
        control: e.control.clone(),
        estimator: e.estimator.clone(),
        verdict,
        title: o.label.clone(),
        text,
    }
}

/// The verdict, read off the interval at the estimate's own level.
pub fn verdict(o: &OutcomeMeta, e: &EstimateRow) -> Verdict {
    if e.suppressed || !e.ci_low.is_finite() || !e.ci_high.is_finite() {
        return Verdict::Withheld;
    }
    let null = if e.scale == Scale::Ratio { 1.0 } else { 0.0 };
    let above = e.ci_low > null;
    let below = e.ci_high < null;
    let alpha = 1.0 - e.conf_level;
    if (above || below) && e.p_value_adjusted.is_some_and(|p| p >= alpha) {
        return Verdict::NotShownAfterCorrection;
    }
    match (above || below, o.better) {
        (false, _) => Verdict::NotShown,
        (true, Better::Neither) => Verdict::Different,
        (true, Better::Higher) if above => Verdict::Better,
        (true, Better::Lower) if below => Verdict::Better,
        (true, _) => Verdict::Worse,
    }
}

fn tr(lang: Lang, nl: &str, en: &str) -> String {
    match lang {
        Lang::Nl => nl.to_string(),
        Lang::En => en.to_string(),
    }
}

/// A number in display units for this language.
fn num(x: f64, lang: Lang) -> String {
    localise(&fmt_value(x), lang)
}

/// A signed number ("+3.97", "−0.61").
fn signed(x: f64, lang: Lang) -> String {
    localise(&signed_value(x), lang).replacen('-', "−", 1)
}

/// "22.4%" for a share, "8.35 hours per week" for a mean.
fn arm_value(o: &OutcomeMeta, mean: f64, lang: Lang) -> String {
    if o.kind == OutcomeKind::Binary && o.display_factor == 100.0 {
        format!("{}%", num(mean * 100.0, lang))
    } else {
        format!(
            "{} {}",
            num(mean * o.display_factor, lang),
            o.unit.get(lang)
        )
    }
}

/// The first sentence: the comparison and, where published, each arm's value.
fn compared(r: &PilotResults, o: &OutcomeMeta, e: &EstimateRow, lang: Lang) -> String {
    let t = r.arm_label(&e.treated, lang);
    let c = r.arm_label(&e.control, lang);
    // A difference-in-differences compares changes, not the groups' levels.
    if e.estimator == "its_level" {
        return match lang {
            Lang::Nl => format!(
                "De sprong in de uitkomst bij de start ({t}), vergeleken met de doorgetrokken trend van daarvóór ({c}; onderbroken tijdreeks)."
            ),
            Lang::En => format!(
                "The jump in the outcome at the start ({t}), compared with the trend before it continued ({c}; interrupted time series)."
            ),
        };
    }
    if matches!(e.estimator.as_str(), "cs_simple" | "twfe_did") {
        return match lang {
            Lang::Nl => format!(
                "De verandering bij {t} sinds hun start, vergeleken met de verandering in dezelfde jaren bij {c} (verschil-in-verschillen)."
            ),
            Lang::En => format!(
                "The change at {t} since they joined, compared with the change in the same years at {c} (difference-in-differences)."
            ),
        };
    }
    let mean = |arm: &str| {
        r.arm_summary(&e.outcome, &e.subset, arm)
            .filter(|s| !s.suppressed && s.mean.is_finite())
            .map(|s| s.mean)
    };
    let horizon = e
        .horizon
        .map(|h| match lang {
            Lang::Nl => format!(
                " (gemiddelde over de eerste {} {})",
                fmt_whole_or_value(h, lang),
                o.unit.nl
            ),
            Lang::En => format!(
                " (average over the first {} {})",
                fmt_whole_or_value(h, lang),
                o.unit.en
            ),
        })
        .unwrap_or_default();
    match (mean(&e.treated), mean(&e.control)) {
        (Some(mt), Some(mc)) => match lang {
            Lang::Nl => format!(
                "{t}: {}, {c}: {}{horizon}.",
                arm_value(o, mt, lang),
                arm_value(o, mc, lang)
            ),
            Lang::En => format!(
                "{t}: {}, {c}: {}{horizon}.",
                arm_value(o, mt, lang),
                arm_value(o, mc, lang)
            ),
        },
        _ => match lang {
            Lang::Nl => format!("{t} vergeleken met {c}{horizon}."),
            Lang::En => format!("{t} compared with {c}{horizon}."),
        },
    }
}

/// The effect with its interval, saying when it is corrected for background.
fn effect(o: &OutcomeMeta, e: &EstimateRow, lang: Lang) -> String {
    let conf = format!("{:.0}", 100.0 * e.conf_level);
    let adjusted = !e.covariates.is_empty();
    let interval = match lang {
        Lang::Nl => format!("{conf}%-interval"),
        Lang::En => format!("{conf}% interval"),
    };
    if e.scale == Scale::Ratio {
        return format!(
            "{}: {} ({interval} {} {} {}; {}).",
            tr(lang, "Verhouding", "Ratio"),
            num(e.estimate, lang),
            num(e.ci_low, lang),
            tr(lang, "tot", "to"),
            num(e.ci_high, lang),
            tr(lang, "1 is geen verschil", "1 means no difference"),
        );
    }
    let f = if e.scale == Scale::Difference {
        o.display_factor
    } else {
        1.0
    };
    let unit = if e.scale == Scale::Standardised {
        tr(lang, "standaarddeviaties", "standard deviations")
    } else {
        o.unit.get(lang).to_string()
    };
    let lead = match (lang, adjusted) {
        (Lang::Nl, true) => "Verschil, rekening houdend met achtergrondkenmerken",
        (Lang::Nl, false) => "Verschil",
        (Lang::En, true) => "Difference, taking background characteristics into account",
        (Lang::En, false) => "Difference",
    };
    format!(
        "{lead}: {} {unit} ({interval} {} {} {}).",
        signed(e.estimate * f, lang),
        signed(e.ci_low * f, lang),
        tr(lang, "tot", "to"),
        signed(e.ci_high * f, lang),
    )
}

/// Whether an effect was shown and how sure that is.
fn how_sure(r: &PilotResults, o: &OutcomeMeta, e: &EstimateRow, v: Verdict, lang: Lang) -> String {
    let t = r.arm_label(&e.treated, lang);
    let p = e.p_value_adjusted.unwrap_or(e.p_value);
    let corrected = if e.p_value_adjusted.is_some() {
        tr(
            lang,
            ", gecorrigeerd voor het toetsen van meer uitkomsten",
            ", corrected for testing several outcomes",
        )
    } else {
        String::new()
    };
    let chance = if p < 0.001 {
        tr(
            lang,
            "Zo'n verschil komt zonder echt effect bijna nooit door toeval",
            "A difference like this almost never arises by chance without a real effect",
        )
    } else if p < 0.01 {
        tr(
            lang,
            "Zo'n verschil komt zonder echt effect zelden door toeval",
            "A difference like this rarely arises by chance without a real effect",
        )
    } else {
        tr(
            lang,
            "Het bewijs is matig: zo'n verschil komt zonder echt effect soms door toeval",
            "The evidence is moderate: a difference like this sometimes arises by chance without a real effect",
        )
    };
    let pw = p_words(p, lang);
    match v {
        Verdict::Better => match lang {
            Lang::Nl => {
                format!("Het resultaat is duidelijk beter bij {t}. {chance} ({pw}{corrected}).")
            }
            Lang::En => {
                format!("The result is clearly better with {t}. {chance} ({pw}{corrected}).")
            }
        },
        Verdict::Worse => match lang {
            Lang::Nl => {
                format!("Het resultaat is duidelijk slechter bij {t}. {chance} ({pw}{corrected}).")
            }
            Lang::En => {
                format!("The result is clearly worse with {t}. {chance} ({pw}{corrected}).")
            }
        },
        Verdict::Different => match lang {
            Lang::Nl => format!("Er is een duidelijk verschil. {chance} ({pw}{corrected})."),
            Lang::En => format!("There is a clear difference. {chance} ({pw}{corrected})."),
        },
        Verdict::NotShownAfterCorrection => match lang {
            Lang::Nl => format!(
                "Het interval bevat nul niet, maar omdat er meer uitkomsten zijn getoetst, kan het verschil toch door toeval komen ({pw}{corrected}). Dit is dus geen duidelijk bewijs."
            ),
            Lang::En => format!(
                "The interval does not contain zero, but because several outcomes were tested the difference may still be chance ({pw}{corrected}). So this is not clear evidence."
            ),
        },
        Verdict::NotShown => {
            let mde = e
                .mde
                .filter(|m| m.is_finite() && e.scale == Scale::Difference)
                .map(|m| {
                    let m = num(m * o.display_factor, lang);
                    let u = o.unit.get(lang);
                    match lang {
                        Lang::Nl => format!(" De pilot kon alleen effecten van ongeveer {m} {u} of groter betrouwbaar zien (80% kans); een kleiner effect kan gemist zijn."),
                        Lang::En => format!(" The pilot could only reliably see effects of about {m} {u} or more (80% chance); a smaller effect may have been missed."),
                    }
                })
                .unwrap_or_default();
            match lang {
                Lang::Nl => format!(
                    "Er is geen duidelijk effect aangetoond: het interval bevat {} ({}{corrected}).{mde}",
                    if e.scale == Scale::Ratio { "1" } else { "nul" },
                    pw
                ),
                Lang::En => format!(
                    "No clear effect was shown: the interval contains {} ({}{corrected}).{mde}",
                    if e.scale == Scale::Ratio { "1" } else { "zero" },
                    pw
                ),
            }
        }
        // A withheld estimate has no interval to speak of ([`sentences`]).
        Verdict::Withheld => String::new(),
    }
}

/// The one caveat of the design that matters for reading the effect.
pub fn design_caveat(design: DesignKind, lang: Lang) -> String {
    match design {
        DesignKind::IndividuallyRandomised | DesignKind::ClusterRandomised => tr(
            lang,
            "De groepen zijn door loting gemaakt. Een verschil komt dus door de aanpak en niet door wie er meedeed.",
            "The groups were formed by lottery, so a difference comes from the approach, not from who took part.",
        ),
        DesignKind::MatchedComparison => tr(
            lang,
            "Let op: de groepen zijn niet door loting gemaakt. Een deel van het verschil kan komen door wie er meedeed, en niet door de aanpak.",
            "Note: the groups were not formed by lottery. Part of the difference may come from who took part, not from the approach.",
        ),
        DesignKind::BeforeAfter => tr(
            lang,
            "Let op: er is geen vergelijkingsgroep. Het verschil tussen voor en na kan ook komen door andere veranderingen in die tijd.",
            "Note: there is no comparison group. The difference between before and after may also come from other changes over that time.",
        ),
        DesignKind::Panel => tr(
            lang,
            "Let op: de groepen zijn niet door loting gemaakt. De vergelijking gaat ervan uit dat beide groepen zonder de pilot op dezelfde manier waren veranderd.",
            "Note: the groups were not formed by lottery. The comparison assumes both groups would have changed alike without the pilot.",
        ),
    }
}

fn sentences(r: &PilotResults, o: &OutcomeMeta, e: &EstimateRow, v: Verdict, lang: Lang) -> String {
    if v == Verdict::Withheld {
        return format!(
            "{} {} {}",
            compared(r, o, e, lang),
            tr(
                lang,
                "Het resultaat is niet gepubliceerd: het gaat over te weinig personen om het veilig te tonen.",
                "The result is not published: it rests on too few persons to show it safely.",
            ),
            design_caveat(r.design, lang)
        );
    }
    format!(
        "{} {} {} {}{}",
        compared(r, o, e, lang),
        effect(o, e, lang),
        how_sure(r, o, e, v, lang),
        design_caveat(r.design, lang),
        e_value_words(o, e, lang)
    )
}

/// Without a lottery: the E-value in plain words (" An unmeasured difference would
/// have to ..."), or nothing.
fn e_value_words(o: &OutcomeMeta, e: &EstimateRow, lang: Lang) -> String {
    let (Some(ev), Some(ci)) = (e.e_value, e.e_value_ci) else {
        return String::new();
    };
    let what = o.label.get(lang).to_lowercase();
    let x = num(ev, lang);
    let limit = if ci <= 1.0 {
        tr(
            lang,
            " Het interval omvat nul (geen effect) al.",
            " The interval already includes zero (no effect).",
        )
    } else {
        match lang {
            Lang::Nl => format!(
                " Voor de grens van het interval die het dichtst bij geen effect ligt is dat {}.",
                num(ci, lang)
            ),
            Lang::En => format!(
                " For the interval limit nearest to no effect it is {}.",
                num(ci, lang)
            ),
        }
    };
    match lang {
        Lang::Nl => format!(
            " Een niet gemeten verschil tussen de groepen zou deelname en de uitkomst ({what}) elk ongeveer {x} keer zo waarschijnlijk moeten maken om deze schatting te verklaren (E-waarde).{limit}"
        ),
        Lang::En => format!(
            " An unmeasured difference between the groups would have to make taking part and the outcome ({what}) each about {x} times as likely to explain this estimate away (E-value).{limit}"
        ),
    }
}
