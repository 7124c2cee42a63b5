//! Plain-text tables for the terminal.

use crate::analysis::{POOLED, PilotResults};
use crate::config::Lang;

use super::{display_factor, fmt_count, fmt_p, fmt_value, localise, tr};
use crate::config::OutcomeKind;

/// Pad columns of a table of strings; the first row is the header.
pub fn render(rows: &[Vec<String>]) -> String {
    let ncol = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0; ncol];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (ri, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(width[i] - c.chars().count())))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if ri == 0 {
            let total: usize = width.iter().sum::<usize>() + 2 * ncol.saturating_sub(1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// Mean (or proportion) of an arm in display units, e.g. "14.2" or "–".
pub fn arm_mean(r: &PilotResults, outcome: &str, subset: &str, arm: &str, lang: Lang) -> String {
    let factor = r.outcome(outcome).map_or(1.0, |o| o.display_factor);
    r.arm_summaries
        .iter()
        .find(|s| s.outcome == outcome && s.subset == subset && s.arm == arm)
        .map(|s| {
            if s.suppressed {
                tr(lang, "onderdrukt", "suppressed").to_string()
            } else {
                localise(&fmt_value(s.mean * factor), lang)
            }
        })
        .unwrap_or_else(|| "–".into())
}

/// "+3.9 [−1.2, 9.0]" in display units.
pub fn effect_ci(est: f64, lo: f64, hi: f64, lang: Lang) -> String {
    let sign = if est > 0.0 { "+" } else { "" };
    localise(
        &format!(
            "{sign}{} [{}; {}]",
            fmt_value(est),
            fmt_value(lo),
            fmt_value(hi)
        ),
        lang,
    )
    .replace(';', if lang == Lang::En { "," } else { ";" })
}

/// The headline rows: one per outcome × subset × comparison.
pub fn summary_rows(r: &PilotResults, lang: Lang) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        tr(lang, "Uitkomst", "Outcome").to_string(),
        tr(lang, "Deelgroep", "Subset").to_string(),
        tr(lang, "Vergelijking", "Comparison").to_string(),
        tr(lang, "Controle", "Control").to_string(),
        tr(lang, "Behandeld", "Treated").to_string(),
        tr(lang, "Effect [95%-BI]", "Effect [95% CI]").to_string(),
        "p".to_string(),
        format!("p ({})", r.multiplicity.label()),
        "n".to_string(),
        tr(lang, "Schatter", "Estimator").to_string(),
    ]];
    let with_subsets = r.subsets.len() > 1;
    for o in &r.outcomes {
        for e in r
            .estimates
            .iter()
            .filter(|e| e.outcome == o.id && e.headline)
        {
            let f = display_factor(r, e);
            let star = if o.primary { " *" } else { "" };
            rows.push(vec![
                format!("{} ({}){star}", o.label.get(lang), o.unit.get(lang)),
                if e.subset == POOLED && r.subsets.len() == 1 {
                    String::new()
                } else {
                    r.subset_label(&e.subset, lang)
                },
                format!(
                    "{} vs {}",
                    r.arm_label(&e.treated, lang),
                    r.arm_label(&e.control, lang)
                ),
                arm_mean(r, &e.outcome, &e.subset, &e.control, lang),
                arm_mean(r, &e.outcome, &e.subset, &e.treated, lang),
                if e.suppressed {
                    tr(lang, "onderdrukt", "suppressed").to_string()
                } else {
                    effect_ci(e.estimate * f, e.ci_low * f, e.ci_high * f, lang)
                },
                localise(&fmt_p(e.p_value), lang),
                e.p_value_adjusted
                    .map(|q| localise(&fmt_p(q), lang))
                    .unwrap_or_default(),
                super::fmt_sizes(e.n_treated, e.n_control, lang),
                match &e.se_type {
                    Some(s) => format!("{} ({s})", e.estimator),
                    None => e.estimator.clone(),
                },
            ]);
        }
    }
    if !with_subsets {
        for row in &mut rows {
            row.remove(1);
        }
    }
    rows
}

/// The terminal summary of a pilot evaluation: per outcome a heading line and one
/// row per subset and comparison with the headline estimate.
pub fn terminal_summary(r: &PilotResults, lang: Lang) -> String {
    let mut out = format!(
        "{} — {}{}\n",
        r.title.get(lang),
        r.design.label(lang),
        if r.synthetic {
            tr(lang, " (SYNTHETISCHE DATA)", " (SYNTHETIC DATA)")
        } else {
            ""
        }
    );
    let all = summary_rows(r, lang);
    let (head, body) = all.split_first().expect("summary rows have a header");
    // The columns after the outcome, which becomes a heading line.
    let pick = |row: &Vec<String>| -> Vec<String> { row[1..].to_vec() };
    let mut rows = vec![pick(head)];
    let mut last = String::new();
    let mut breaks = Vec::new();
    for row in body {
        if row[0] != last {
            breaks.push((rows.len(), row[0].clone()));
            last = row[0].clone();
        }
        rows.push(pick(row));
    }
    // Render once for aligned columns, then put the outcome headings between blocks.
    let rendered = render(&rows);
    let lines: Vec<&str> = rendered.lines().collect();
    out.push_str(&format!("  {}\n  {}\n", lines[0], lines[1]));
    for (i, line) in lines.iter().enumerate().skip(2) {
        let data_row = i - 1;
        if let Some((_, title)) = breaks.iter().find(|(at, _)| *at == data_row) {
            out.push_str(&format!("{title}\n"));
        }
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(&missing_block(r, lang));
    if !r.disclosure.applied {
        out.push_str(tr(
            lang,
            "WAARSCHUWING: zonder statistische geheimhouding; alleen voor de beveiligde omgeving.\n",
            "WARNING: no disclosure control; for use inside the secure environment only.\n",
        ));
    }
    out.push_str(tr(
        lang,
        "* primaire uitkomst. Effect = behandeld min controle, in de eenheid van de uitkomst.\n",
        "* primary outcome. Effect = treated minus control, in the outcome's unit.\n",
    ));
    out
}

/// Missing data in the terminal: per outcome (whole sample), per arm the units without
/// an outcome and those with an outcome but a missing covariate; then every note
/// (differential attrition, dropped covariates, failed estimators).
fn missing_block(r: &PilotResults, lang: Lang) -> String {
    let mut out = format!(
        "{}\n",
        tr(
            lang,
            "Ontbrekende gegevens (volledige gevallen per analyse; hele steekproef):",
            "Missing data (complete cases per analysis; whole sample):"
        )
    );
    let mut any = false;
    for o in &r.outcomes {
        let sums: Vec<_> = r
            .arm_summaries
            .iter()
            .filter(|s| s.outcome == o.id && s.subset == POOLED)
            .collect();
        if sums.is_empty() {
            continue;
        }
        any = true;
        let part = |f: &dyn Fn(&crate::analysis::ArmSummaryRow) -> Option<usize>| {
            sums.iter()
                .map(|s| format!("{} {}", r.arm_label(&s.arm, lang), fmt_count(f(s), lang)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut line = format!(
            "  {}: {} {}",
            o.label.get(lang),
            tr(lang, "zonder uitkomst", "no outcome"),
            part(&|s| s.n_missing)
        );
        if sums.iter().any(|s| s.n_missing_covariates.is_some())
            || (!r.covariates.is_empty() && o.kind != OutcomeKind::TimeToEvent)
        {
            line.push_str(&format!(
                "; {} {}",
                tr(lang, "covariaat ontbreekt", "missing covariate"),
                part(&|s| s.n_missing_covariates)
            ));
        }
        out.push_str(&line);
        out.push('\n');
    }
    if !any {
        return String::new();
    }
    if r.disclosure.applied {
        out.push_str(&format!(
            "  {}\n",
            match lang {
                Lang::Nl => format!(
                    "(aantallen onder {} en wat daaruit af te leiden is: onderdrukt)",
                    r.disclosure.threshold
                ),
                Lang::En => format!(
                    "(counts below {} and what would reveal them: suppressed)",
                    r.disclosure.threshold
                ),
            }
        ));
    }
    for n in &r.notes {
        out.push_str(&format!(
            "{} {}\n",
            tr(lang, "Let op:", "Note:"),
            n.text.get(lang)
        ));
    }
    out
}
