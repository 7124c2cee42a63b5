//! The report's section on a panel design with a time axis (staggered
//! difference-in-differences, [`crate::analysis::panel_design`]): the design and its
//! assumptions in plain words, the headline and the estimates beside it, the pre-trend
//! test in words, the event-study chart and the cohort-means chart (the picture of
//! parallel trends), each with its numbers in a table beside it. Numbers come from the
//! published results only; withheld cells read "suppressed".

use crate::analysis::its_design::ItsDesign;
use crate::analysis::panel_design::PanelDesign;
use crate::analysis::{EstimateRow, OutcomeMeta, PilotResults, TestRow};
use crate::config::Lang;
use crate::plot::{CohortSeries, EventPoint, EventStudyChart, TrendChart};

use super::document::Block;
use super::tables::effect_ci;
use super::{display_factor, fmt_p, fmt_value, localise, tr};

/// The file stem of an outcome's event-study chart.
pub fn event_stem(outcome: &str) -> String {
    format!("event-study-{outcome}")
}

/// The file stem of an outcome's cohort-means chart.
pub fn trends_stem(outcome: &str) -> String {
    format!("cohort-means-{outcome}")
}

fn design_of<'a>(r: &'a PilotResults, outcome: &str) -> Option<&'a PanelDesign> {
    r.panel_design.iter().find(|d| d.outcome == outcome)
}

fn rows<'a>(r: &'a PilotResults, outcome: &str, estimator: &str) -> Vec<&'a EstimateRow> {
    r.estimates
        .iter()
        .filter(|e| e.outcome == outcome && e.estimator == estimator)
        .collect()
}

fn pretrend<'a>(r: &'a PilotResults, outcome: &str) -> Option<&'a TestRow> {
    r.tests
        .iter()
        .find(|t| t.outcome == outcome && t.test == "pretrend_wald")
}

/// An estimate with its interval in display units, or "suppressed".
fn cell(r: &PilotResults, e: Option<&EstimateRow>, lang: Lang) -> String {
    match e {
        Some(e) if !e.suppressed => {
            let f = display_factor(r, e);
            effect_ci(e.estimate * f, e.ci_low * f, e.ci_high * f, lang)
        }
        Some(_) => tr(lang, "onderdrukt", "suppressed").into(),
        None => "–".into(),
    }
}

/// The pre-trend test in words.
fn pretrend_words(r: &PilotResults, outcome: &str, lang: Lang) -> String {
    let Some(t) = pretrend(r, outcome) else {
        return tr(
            lang,
            "Een toets op trends vóór de start was niet mogelijk (geen periodes vóór de start naast de referentieperiode).",
            "A test of trends before the start was not possible (no periods before the start besides the reference period).",
        )
        .into();
    };
    if t.suppressed {
        return tr(
            lang,
            "De toets op trends vóór de start is onderdrukt (onthullingscontrole).",
            "The test of trends before the start is suppressed (disclosure control).",
        )
        .into();
    }
    let df2 = design_of(r, outcome)
        .and_then(|d| d.pretrend_df2)
        .map_or("?".into(), |d| format!("{d}"));
    let stat = format!(
        "F({}, {df2}) = {}, p = {}",
        t.df.map_or("?".into(), |d| format!("{d}")),
        fmt_value(t.statistic.unwrap_or(f64::NAN)),
        fmt_p(t.p_value)
    );
    let stat = localise(&stat, lang);
    if t.p_value < 0.05 {
        match lang {
            Lang::Nl => format!(
                "Toets op trends vóór de start ({stat}): de deelnemers bewogen vóór hun start al anders dan de vergelijkingsgroep. De aanname van parallelle trends is twijfelachtig; lees de effecten met voorzichtigheid."
            ),
            Lang::En => format!(
                "Test of trends before the start ({stat}): the participants already moved differently from the comparison group before they joined. The parallel-trends assumption is in doubt; read the effects with caution."
            ),
        }
    } else {
        match lang {
            Lang::Nl => format!(
                "Toets op trends vóór de start ({stat}): vóór hun start bewogen de deelnemers niet aantoonbaar anders dan de vergelijkingsgroep. Dat steunt de aanname van parallelle trends, maar bewijst haar niet: de toets ziet alleen verschillen die groot genoeg zijn voor deze data."
            ),
            Lang::En => format!(
                "Test of trends before the start ({stat}): before they joined, the participants did not move detectably differently from the comparison group. This supports the parallel-trends assumption but does not prove it: the test only sees differences large enough for these data."
            ),
        }
    }
}

/// The design section of an outcome (nothing when the outcome has no panel design).
pub fn panel_blocks(r: &PilotResults, o: &OutcomeMeta, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let Some(d) = design_of(r, &o.id) else {
        return;
    };
    b.push(Heading(
        3,
        tr(
            lang,
            "Verschil-in-verschillen: deelnemers die op verschillende momenten startten",
            "Difference-in-differences: participants who joined at different times",
        )
        .into(),
    ));
    b.push(Paragraph(panel_intro(d, lang)));
    b.push(panel_estimates_table(r, o, lang));
    b.push(Paragraph(pretrend_words(r, &o.id, lang)));
    b.push(Chart {
        stem: event_stem(&o.id),
        alt: tr(
            lang,
            "Event study: effect per jaar sinds de start, met 95%-intervallen",
            "Event study: effect by year since joining, with 95% intervals",
        )
        .into(),
    });
    b.push(event_study_table(r, d, o, lang));
    b.push(Paragraph(
        tr(
            lang,
            "Na de start vergelijken beide schatters met het jaar vóór de start. Vóór de start vergelijkt de event study elk jaar met het jaar vóór de start (referentie, 0), Callaway & Sant'Anna elk jaar met het jaar ervoor; in beide horen de waarden vóór de start rond 0 te liggen.",
            "After the start both estimators compare with the year before the start. Before the start the event study compares each year with the year before the start (reference, 0), Callaway & Sant'Anna each year with the year before it; in both, the values before the start should lie around 0.",
        )
        .into(),
    ));
    b.push(Chart {
        stem: trends_stem(&o.id),
        alt: tr(
            lang,
            "Gemiddelde uitkomst per startjaar en jaar: vóór de start horen de lijnen evenwijdig te lopen",
            "Mean outcome by starting year and year: before the start the lines should run parallel",
        )
        .into(),
    });
    b.push(Table(cohort_table(r, d, o, lang)));
    if !d.notes.is_empty() {
        b.push(List(d.notes.clone()));
    }
}

/// The panel design in plain words: why the change is compared rather than the level,
/// the estimator, its assumption, and that the two-group comparison is descriptive.
fn panel_intro(d: &PanelDesign, lang: Lang) -> String {
    match lang {
        Lang::Nl => format!(
            "Deelnemers kozen zelf voor de pilot en zaten vooraf al op een ander niveau dan de anderen. Daarom vergelijken we niet de niveaus, maar de verandering: hoeveel veranderde de uitkomst bij een deelnemer sinds zijn start (kolom \"{}\"), vergeleken met de verandering in dezelfde jaren bij wie nooit deelnam? Dat is het verschil-in-verschillen, hier volgens Callaway & Sant'Anna (2021), dat ook klopt als deelnemers in verschillende jaren startten en het effect met de tijd groeit. De aanname: zonder de pilot was de uitkomst bij deelnemers evenwijdig gelopen aan die bij de anderen (parallelle trends), en er veranderde bij de start niets anders dat de uitkomst raakt. De vergelijking van de twee groepen hierboven is beschrijvend: ze mengt het effect met verschillen die er al waren.",
            d.first_treated
        ),
        Lang::En => format!(
            "Participants chose to take part and were at a different level from the others beforehand. So we compare not the levels but the change: how much did the outcome change at a participant since it joined (column \"{}\"), compared with the change in the same years at those that never joined? That is the difference-in-differences, here by Callaway & Sant'Anna (2021), which stays right when participants joined in different years and the effect grows over time. The assumption: without the pilot the outcome at participants would have run parallel to that at the others (parallel trends), and nothing else that affects the outcome changed when they joined. The comparison of the two groups above is descriptive: it mixes the effect with differences that were there already.",
            d.first_treated
        ),
    }
}

/// The panel design's estimates side by side: the Callaway & Sant'Anna headline, its
/// mean over the years since joining, and the static TWFE estimate with why it may be
/// biased.
fn panel_estimates_table(r: &PilotResults, o: &OutcomeMeta, lang: Lang) -> Block {
    let simple = rows(r, &o.id, "cs_simple");
    let twfe = rows(r, &o.id, "twfe_did");
    let dyn_all = rows(r, &o.id, "cs_dynamic");
    let dyn_overall = dyn_all.iter().find(|e| e.event_time.is_none()).copied();
    let unit = o.unit.get(lang);
    let mut t = vec![vec![
        tr(lang, "Schatter", "Estimator").to_string(),
        format!("{} [95%-BI] ({unit})", tr(lang, "Schatting", "Estimate"))
            .replace("95%-BI", if lang == Lang::Nl { "95%-BI" } else { "95% CI" }),
        tr(lang, "Lezing", "Reading").to_string(),
    ]];
    t.push(vec![
        tr(
            lang,
            "Callaway & Sant'Anna, gemiddeld effect op deelnemers ◆",
            "Callaway & Sant'Anna, average effect on participants ◆",
        )
        .into(),
        cell(r, simple.first().copied(), lang),
        tr(lang, "hoofdschatting", "headline").into(),
    ]);
    t.push(vec![
        tr(
            lang,
            "Callaway & Sant'Anna, gemiddelde over de jaren sinds de start",
            "Callaway & Sant'Anna, mean over the years since joining",
        )
        .into(),
        cell(r, dyn_overall, lang),
        tr(lang, "ernaast", "beside it").into(),
    ]);
    t.push(vec![
        tr(
            lang,
            "Statische schatting met vaste effecten (TWFE)",
            "Static two-way fixed effects (TWFE)",
        )
        .into(),
        cell(r, twfe.first().copied(), lang),
        tr(
            lang,
            "vertekend als het effect met de tijd groeit (eerder gestarte deelnemers tellen als controle)",
            "biased when the effect grows over time (earlier participants count as controls)",
        )
        .into(),
    ]);
    Block::Table(t)
}

/// The event-study chart's numbers: per year relative to joining the event study and
/// Callaway & Sant'Anna estimates, the reference year marked.
fn event_study_table(r: &PilotResults, d: &PanelDesign, o: &OutcomeMeta, lang: Lang) -> Block {
    fn pick<'a>(v: &[&'a EstimateRow], e: i64) -> Option<&'a EstimateRow> {
        v.iter().find(|x| x.event_time == Some(e)).copied()
    }
    let es = rows(r, &o.id, "event_study");
    let dyn_all = rows(r, &o.id, "cs_dynamic");
    let mut times: Vec<i64> = es
        .iter()
        .chain(dyn_all.iter())
        .filter_map(|e| e.event_time)
        .collect();
    times.push(d.reference);
    times.sort_unstable();
    times.dedup();
    let mut t = vec![vec![
        tr(lang, "Jaar t.o.v. start", "Year relative to joining").to_string(),
        tr(lang, "Event study", "Event study").to_string(),
        tr(lang, "Callaway & Sant'Anna", "Callaway & Sant'Anna").to_string(),
    ]];
    for e in times {
        let es_cell = if e == d.reference {
            tr(lang, "0 (referentie)", "0 (reference)").to_string()
        } else {
            cell(r, pick(&es, e), lang)
        };
        t.push(vec![
            e.to_string(),
            es_cell,
            cell(r, pick(&dyn_all, e), lang),
        ]);
    }
    Block::Table(t)
}

fn cohort_label(g: Option<i64>, lang: Lang) -> String {
    match g {
        None => tr(lang, "nooit gestart", "never joined").into(),
        Some(g) => format!("{} {g}", tr(lang, "start", "joined")),
    }
}

/// Cohort means by period, in display units (percent for shares).
fn cohort_table(
    r: &PilotResults,
    d: &PanelDesign,
    o: &OutcomeMeta,
    lang: Lang,
) -> Vec<Vec<String>> {
    let _ = r;
    let mut periods: Vec<i64> = d.cohort_means.iter().map(|m| m.period).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut head = vec![tr(lang, "Groep (eenheden)", "Group (units)").to_string()];
    head.extend(periods.iter().map(|p| p.to_string()));
    let mut t = vec![head];
    for c in &d.cohorts {
        let units = c.units.map_or_else(
            || tr(lang, "onderdrukt", "suppressed").into(),
            |u| u.to_string(),
        );
        let mut row = vec![format!("{} ({units})", cohort_label(c.first_treated, lang))];
        for p in &periods {
            let m = d
                .cohort_means
                .iter()
                .find(|m| m.cohort == c.first_treated && m.period == *p);
            row.push(match m {
                Some(m) => match m.mean {
                    Some(v) => localise(&fmt_value(v * o.display_factor), lang),
                    None => tr(lang, "onderdrukt", "suppressed").into(),
                },
                None => "–".into(),
            });
        }
        t.push(row);
    }
    t
}

fn footnote(r: &PilotResults, lang: Lang) -> String {
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

fn points(r: &PilotResults, rows: &[&EstimateRow]) -> Vec<EventPoint> {
    rows.iter()
        .filter_map(|e| {
            let f = display_factor(r, e);
            Some(EventPoint {
                event_time: e.event_time?,
                estimate: e.estimate * f,
                ci_low: e.ci_low * f,
                ci_high: e.ci_high * f,
                suppressed: e.suppressed,
            })
        })
        .collect()
}

/// The event-study chart of an outcome: the event study and Callaway & Sant'Anna by
/// event time, in display units, the pre-trend test in the note.
pub fn event_chart(r: &PilotResults, outcome: &str, lang: Lang) -> Option<EventStudyChart> {
    let d = design_of(r, outcome)?;
    let o = r.outcome(outcome)?;
    let nl = lang == Lang::Nl;
    let pts = points(r, &rows(r, outcome, "event_study"));
    if pts.is_empty() {
        return None;
    }
    let pre = match pretrend(r, outcome) {
        Some(t) if !t.suppressed => localise(
            &format!(
                "{} F = {}, p = {}",
                tr(lang, "Pre-trendtoets:", "Pre-trend test:"),
                fmt_value(t.statistic.unwrap_or(f64::NAN)),
                fmt_p(t.p_value)
            ),
            lang,
        ),
        Some(_) => tr(
            lang,
            "Pre-trendtoets: onderdrukt",
            "Pre-trend test: suppressed",
        )
        .into(),
        None => String::new(),
    };
    Some(EventStudyChart {
        title: format!(
            "{}: {}",
            o.label.get(lang),
            tr(
                lang,
                "effect per jaar sinds de start",
                "effect by year since joining"
            )
        ),
        subtitle: format!(
            "{} · {}",
            tr(
                lang,
                "Schatting met 95%-interval; referentiejaar -1",
                "Estimate with 95% interval; reference year -1"
            ),
            footnote(r, lang)
        ),
        x_label: tr(
            lang,
            "Jaar ten opzichte van de start",
            "Year relative to joining",
        )
        .into(),
        y_label: o.unit.get(lang).to_string(),
        points: pts,
        robust: points(
            r,
            &rows(r, outcome, "cs_dynamic")
                .into_iter()
                .filter(|e| e.event_time.is_some())
                .collect::<Vec<_>>(),
        ),
        series_labels: if nl {
            (
                "Event study (vaste effecten, nooit gestart als controle)".into(),
                "Callaway-Sant'Anna per jaar sinds de start".into(),
            )
        } else {
            (
                "Event study (fixed effects, never joined as controls)".into(),
                "Callaway-Sant'Anna by year since joining".into(),
            )
        },
        reference: d.reference,
        note: pre,
        lang,
    })
}

/// The cohort-means chart of an outcome (the picture of parallel trends), in display
/// units; withheld cells are gaps.
pub fn trends_chart(r: &PilotResults, outcome: &str, lang: Lang) -> Option<TrendChart> {
    let d = design_of(r, outcome)?;
    let o = r.outcome(outcome)?;
    let series = d
        .cohorts
        .iter()
        .map(|c| CohortSeries {
            label: cohort_label(c.first_treated, lang),
            start: c.first_treated,
            points: d
                .cohort_means
                .iter()
                .filter(|m| m.cohort == c.first_treated)
                .map(|m| (m.period, m.mean.map_or(f64::NAN, |v| v * o.display_factor)))
                .collect(),
        })
        .collect();
    let y_label = if o.display_factor == 100.0 {
        tr(lang, "Gemiddeld aandeel (%)", "Mean share (%)").to_string()
    } else {
        o.label.get(lang).to_string()
    };
    Some(TrendChart {
        title: format!(
            "{}: {}",
            o.label.get(lang),
            tr(lang, "per startjaar", "by year of joining")
        ),
        subtitle: tr(
            lang,
            "Gemiddelde over de eenheden (elk één keer); vóór de start horen de lijnen evenwijdig te lopen",
            "Mean over the units (each once); before the start the lines should run parallel",
        )
        .into(),
        x_label: format!("{} ({})", tr(lang, "Periode", "Period"), d.time),
        y_label,
        series,
        note: footnote(r, lang),
        lang,
    })
}

/// The file stem of an outcome's interrupted-time-series chart.
pub fn its_stem(outcome: &str) -> String {
    format!("its-{outcome}")
}

fn its_of<'a>(
    r: &'a PilotResults,
    outcome: &str,
) -> Option<&'a crate::analysis::its_design::ItsDesign> {
    r.its_design.iter().find(|d| d.outcome == outcome)
}

/// The interrupted-time-series section of an outcome (nothing without one).
pub fn its_blocks(r: &PilotResults, o: &OutcomeMeta, lang: Lang, b: &mut Vec<Block>) {
    use Block::*;
    let Some(d) = its_of(r, &o.id) else {
        return;
    };
    b.push(Heading(
        3,
        tr(
            lang,
            "Onderbroken tijdreeks: de trend vóór de start doorgetrokken",
            "Interrupted time series: the trend before the start continued",
        )
        .into(),
    ));
    b.push(Paragraph(its_intro(r, d, o, lang)));
    b.push(its_estimates_table(r, o, lang));
    if let Some(s) = d.pre_slope {
        b.push(Paragraph(pre_slope_words(s, o, lang)));
    }
    if d.series.is_empty() {
        return;
    }
    b.push(Chart {
        stem: its_stem(&o.id),
        alt: tr(
            lang,
            "Onderbroken tijdreeks: waarnemingen, de geschatte lijnen en de lijn zonder de interventie",
            "Interrupted time series: observed values, the fitted lines and the line without the intervention",
        )
        .into(),
    });
    b.push(its_series_table(d, o, lang));
    if !d.notes.is_empty() {
        b.push(List(d.notes.clone()));
    }
}

/// The interrupted time series in plain words: why a plain before/after comparison
/// does not do, what is compared instead, the assumption, and (with CR2) the sentence
/// on few clusters.
fn its_intro(r: &PilotResults, d: &ItsDesign, o: &OutcomeMeta, lang: Lang) -> String {
    let small = few_clusters_words(r, d, o, lang);
    match lang {
        Lang::Nl => format!(
            "Er is geen vergelijkingsgroep: dezelfde organisaties zijn vóór en tijdens de interventie gemeten. Een simpele voor/na-vergelijking telt alles wat in die tijd veranderde mee als effect. Daarom volgen we de uitkomst per periode (kolom \"{}\"): we trekken de lijn van vóór de start (periode {}) door en kijken hoeveel de uitkomst bij de start daarvan afwijkt (sprong in niveau) en of de helling verandert. De aanname: zonder de interventie was de trend van vóór de start doorgegaan, en er veranderde bij de start niets anders dat de uitkomst raakt.{small}",
            d.time, d.start
        ),
        Lang::En => format!(
            "There is no comparison group: the same organisations were measured before and during the intervention. A plain before/after comparison counts everything that changed over that time as the effect. So we follow the outcome by period (column \"{}\"): we continue the line from before the start (period {}) and see how far the outcome departs from it at the start (level change) and whether its slope changes. The assumption: without the intervention the trend before the start would have continued, and nothing else that affects the outcome changed at the start.{small}",
            d.time, d.start
        ),
    }
}

/// With CR2 standard errors, the sentence (with a leading space) on the few clusters,
/// the small-sample correction and its degrees of freedom; empty otherwise.
fn few_clusters_words(r: &PilotResults, d: &ItsDesign, o: &OutcomeMeta, lang: Lang) -> String {
    if d.se_type != "CR2" {
        return String::new();
    }
    let df = rows(r, &o.id, "its_level")
        .first()
        .and_then(|e| e.df)
        .filter(|d| d.is_finite())
        .map_or_else(String::new, |d| localise(&format!(" = {d:.1}"), lang));
    let cl = r.cluster.as_deref().unwrap_or("cluster");
    match lang {
        Lang::Nl => format!(
            " Met maar {} clusters (kolom \"{cl}\") zijn de standaardfouten clusterrobuust met de correctie voor weinig clusters (CR2 met Bell-McCaffrey-vrijheidsgraden, df{df}); het interval is daardoor breed en een effect van realistische grootte valt er makkelijk binnen.",
            d.n_units
        ),
        Lang::En => format!(
            " With only {} clusters (column \"{cl}\") the standard errors are cluster-robust with the correction for few clusters (CR2 with Bell-McCaffrey degrees of freedom, df{df}); the interval is wide for that reason, and an effect of realistic size easily lies within it.",
            d.n_units
        ),
    }
}

/// The interrupted time series' estimates: the level change at the start (the
/// headline) and the change of slope beside it.
fn its_estimates_table(r: &PilotResults, o: &OutcomeMeta, lang: Lang) -> Block {
    let unit = o.unit.get(lang);
    let level = rows(r, &o.id, "its_level");
    let slope = rows(r, &o.id, "its_slope");
    let mut t = vec![vec![
        tr(lang, "Schatter", "Estimator").to_string(),
        format!(
            "{} [{}] ({unit})",
            tr(lang, "Schatting", "Estimate"),
            tr(lang, "95%-BI", "95% CI")
        ),
        tr(lang, "Lezing", "Reading").to_string(),
    ]];
    t.push(vec![
        tr(
            lang,
            "Sprong in niveau bij de start ◆",
            "Level change at the start ◆",
        )
        .into(),
        cell(r, level.first().copied(), lang),
        tr(lang, "hoofdschatting", "headline").into(),
    ]);
    t.push(vec![
        tr(
            lang,
            "Verandering van de helling per periode",
            "Change of slope per period",
        )
        .into(),
        cell(r, slope.first().copied(), lang),
        tr(lang, "ernaast", "beside it").into(),
    ]);
    Block::Table(t)
}

/// The trend before the start (`slope` per period, in model units) in words, and that
/// the before/after comparison includes it.
fn pre_slope_words(slope: f64, o: &OutcomeMeta, lang: Lang) -> String {
    let unit = o.unit.get(lang);
    localise(
        &match lang {
            Lang::Nl => format!(
                "Vóór de start veranderde de uitkomst met {} {unit} per periode; de voor/na-vergelijking hierboven telt die trend mee en is beschrijvend.",
                fmt_value(slope * o.display_factor)
            ),
            Lang::En => format!(
                "Before the start the outcome changed by {} {unit} per period; the before/after comparison above includes that trend and is descriptive.",
                fmt_value(slope * o.display_factor)
            ),
        },
        lang,
    )
}

/// The interrupted-time-series chart's numbers: per period the observed mean, the
/// fitted value and, from the start on, the line without the intervention.
fn its_series_table(d: &ItsDesign, o: &OutcomeMeta, lang: Lang) -> Block {
    let mut t = vec![vec![
        tr(lang, "Periode", "Period").to_string(),
        tr(lang, "Waargenomen", "Observed").to_string(),
        tr(lang, "Geschat", "Fitted").to_string(),
        tr(lang, "Zonder interventie", "Without the intervention").to_string(),
    ]];
    let f = o.display_factor;
    for p in &d.series {
        let v = |x: f64| localise(&fmt_value(x * f), lang);
        t.push(vec![
            crate::numfmt::fmt_whole_or_value(p.time, lang),
            p.observed
                .map_or_else(|| tr(lang, "onderdrukt", "suppressed").into(), v),
            v(p.fitted),
            if p.time >= d.start as f64 {
                v(p.projected)
            } else {
                "–".into()
            },
        ]);
    }
    Block::Table(t)
}

/// The interrupted-time-series chart of an outcome, in display units.
pub fn its_chart(r: &PilotResults, outcome: &str, lang: Lang) -> Option<crate::plot::ItsChart> {
    let d = its_of(r, outcome)?;
    let o = r.outcome(outcome)?;
    if d.series.is_empty() {
        return None;
    }
    let f = o.display_factor;
    let start = d.start as f64;
    let points: Vec<(f64, f64, f64)> = d
        .series
        .iter()
        .map(|p| (p.time, p.fitted * f, p.projected * f))
        .collect();
    let lines = crate::plot::ItsLines::split(&points, start);
    let level = rows(r, outcome, "its_level");
    Some(crate::plot::ItsChart {
        title: format!(
            "{}: {}",
            o.label.get(lang),
            tr(lang, "onderbroken tijdreeks", "interrupted time series")
        ),
        subtitle: format!(
            "{}: {} ({}) · {}",
            tr(lang, "Sprong bij de start", "Level change at the start"),
            cell(r, level.first().copied(), lang),
            o.unit.get(lang),
            footnote(r, lang)
        ),
        x_label: format!("{} ({})", tr(lang, "Periode", "Period"), d.time),
        y_label: if f == 100.0 {
            tr(lang, "Gemiddelde (%)", "Mean (%)").into()
        } else {
            o.label.get(lang).to_string()
        },
        observed: d
            .series
            .iter()
            .filter_map(|p| p.observed.map(|v| (p.time, v * f)))
            .collect(),
        fitted_pre: lines.fitted_pre,
        fitted_post: lines.fitted_post,
        projected: lines.projected,
        start,
        legend: if lang == Lang::Nl {
            [
                "Waargenomen (gemiddelde van de organisaties)".into(),
                "Geschat".into(),
                "Zonder interventie (trend doorgetrokken)".into(),
                "Start".into(),
            ]
        } else {
            [
                "Observed (mean of the organisations)".into(),
                "Fitted".into(),
                "Without the intervention (trend continued)".into(),
                "Start".into(),
            ]
        },
        note: d.notes.join(" "),
        lang,
    })
}
