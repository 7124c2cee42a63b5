//! Plain-text tables for the terminal.

use crate::analysis::{EstimateRow, OutcomeMeta, POOLED, PilotResults};
use crate::config::Lang;

use super::{display_factor, fmt_count, fmt_p, fmt_value, localise, signed_value, tr};
use crate::config::{DesignKind, OutcomeKind};

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
    r.arm_summary(outcome, subset, arm)
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
    localise(
        &format!(
            "{} [{}; {}]",
            signed_value(est),
            fmt_value(lo),
            fmt_value(hi)
        ),
        lang,
    )
    .replace(';', if lang == Lang::En { "," } else { ";" })
}

/// What a design calls its two groups, control first: "Control"/"Treated" in a
/// randomised trial, "Comparison"/"Participants" when participants are compared with a
/// group that was not assigned, "Before"/"After" in a before/after design.
pub fn arm_words(design: DesignKind, lang: Lang) -> (&'static str, &'static str) {
    match design {
        DesignKind::IndividuallyRandomised | DesignKind::ClusterRandomised => (
            tr(lang, "Controle", "Control"),
            tr(lang, "Behandeld", "Treated"),
        ),
        DesignKind::MatchedComparison | DesignKind::Panel => (
            tr(lang, "Vergelijking", "Comparison"),
            tr(lang, "Deelnemers", "Participants"),
        ),
        DesignKind::BeforeAfter => (tr(lang, "Voor", "Before"), tr(lang, "Na", "After")),
    }
}

/// The headline rows of the report, one table per outcome with a headline estimate:
/// one row per subset × comparison. The arm columns and the `n` column both run
/// control first, then treated; the estimator is named in words
/// ([`super::document::estimator_label`]), its code is in the methods.
pub fn summary_tables(r: &PilotResults, lang: Lang) -> Vec<(&OutcomeMeta, Vec<Vec<String>>)> {
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    // With one comparison the columns carry the arms' own names.
    let (control, treated) = match (r.arms.iter().find(|a| a.control), several) {
        (Some(c), false) => {
            let t = r.arms.iter().find(|a| !a.control).unwrap_or(c);
            (c.label.get(lang).to_string(), t.label.get(lang).to_string())
        }
        _ => {
            let (c, t) = arm_words(r.design, lang);
            (c.to_string(), t.to_string())
        }
    };
    let with_subsets = r.subsets.len() > 1;
    let mut head = Vec::new();
    if with_subsets {
        head.push(tr(lang, "Deelgroep", "Subset").to_string());
    }
    if several {
        head.push(tr(lang, "Vergelijking", "Comparison").to_string());
    }
    head.extend([
        control.clone(),
        treated.clone(),
        tr(lang, "Effect [95%-BI]", "Effect [95% CI]").to_string(),
        "p".to_string(),
        format!("p ({})", r.multiplicity.label()),
        tr(lang, "MDE (80%)", "MDE (80%)").to_string(),
        format!("n ({}/{})", control.to_lowercase(), treated.to_lowercase()),
        tr(lang, "Methode", "Method").to_string(),
    ]);
    let mut out = Vec::new();
    for o in &r.outcomes {
        let mut rows = vec![head.clone()];
        for e in r
            .estimates
            .iter()
            .filter(|e| e.outcome == o.id && e.headline)
        {
            let f = display_factor(r, e);
            let mut row = Vec::new();
            if with_subsets {
                row.push(r.subset_label(&e.subset, lang));
            }
            if several {
                row.push(format!(
                    "{} vs {}",
                    r.arm_label(&e.treated, lang),
                    r.arm_label(&e.control, lang)
                ));
            }
            row.extend([
                arm_mean(r, &e.outcome, &e.subset, &e.control, lang),
                arm_mean(r, &e.outcome, &e.subset, &e.treated, lang),
            ]);
            row.extend(effect_cells(e, f, lang));
            row.extend([
                e.mde
                    .filter(|m| m.is_finite())
                    .map(|m| localise(&fmt_value(m * f), lang))
                    .unwrap_or_default(),
                format!(
                    "{}/{}",
                    fmt_count(e.n_control, lang),
                    fmt_count(e.n_treated, lang)
                ),
                super::document::estimator_label(&e.estimator, lang),
            ]);
            rows.push(row);
        }
        if rows.len() > 1 {
            out.push((o, rows));
        }
    }
    out
}

/// "ols_adjusted (HC2)": the estimator id and its standard-error type.
fn estimator_name(e: &crate::analysis::EstimateRow) -> String {
    match &e.se_type {
        Some(s) => format!("{} ({s})", e.estimator),
        None => e.estimator.clone(),
    }
}

/// The width the terminal summary keeps to.
pub const TERMINAL_WIDTH: usize = 100;

/// `s` cut to `max` characters, with "…" where it was cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `text` broken into lines of at most `width` characters at spaces, the first line
/// starting with `first`, the others with `rest` (a word longer than a line is cut).
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        let room = width.saturating_sub(line.chars().count());
        line.push_str(&cut(word, room.max(1)));
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// Cut the text of the `shrinkable` columns, widest first, until the rendered table is
/// at most `width` characters wide.
fn fit(rows: &mut [Vec<String>], shrinkable: &[usize], width: usize) {
    let widths = |rows: &[Vec<String>]| -> Vec<usize> {
        let n = rows.iter().map(Vec::len).max().unwrap_or(0);
        (0..n)
            .map(|i| {
                rows.iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    };
    loop {
        let w = widths(rows);
        let total = w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
        if total <= width {
            return;
        }
        let Some(&widest) = shrinkable
            .iter()
            .filter(|&&i| w.get(i).is_some_and(|&x| x > 8))
            .max_by_key(|&&i| w[i])
        else {
            return;
        };
        let to = w[widest] - (total - width).min(w[widest] - 8);
        for r in rows.iter_mut() {
            if let Some(c) = r.get_mut(widest) {
                *c = cut(c, to);
            }
        }
    }
}

/// The columns of the terminal summary: the words for the arms, and whether there is
/// a subset column and a treated-arm column.
struct Columns {
    control_word: &'static str,
    treated_word: &'static str,
    /// Results per project besides the pooled ones.
    with_subsets: bool,
    /// More than one treated arm.
    several: bool,
}

/// The title (design, synthetic data) and which arm is which, wrapped to `width`.
fn summary_heading(r: &PilotResults, lang: Lang, cols: &Columns, width: usize) -> String {
    let (control_word, treated_word) = (cols.control_word, cols.treated_word);
    let mut out = wrap(
        &format!(
            "{} — {}{}",
            r.title.get(lang),
            r.design.label(lang),
            if r.synthetic {
                tr(lang, " (SYNTHETISCHE DATA)", " (SYNTHETIC DATA)")
            } else {
                ""
            }
        ),
        width,
        "",
        "  ",
    );
    let controls: Vec<String> = r
        .arms
        .iter()
        .filter(|a| a.control)
        .map(|a| a.label.get(lang).to_string())
        .collect();
    let treated: Vec<String> = r
        .arms
        .iter()
        .filter(|a| !a.control)
        .map(|a| a.label.get(lang).to_string())
        .collect();
    out.push_str(&wrap(
        &format!(
            "{control_word}: {}. {treated_word}: {}.",
            controls.join(", "),
            treated.join(", ")
        ),
        width,
        "",
        "  ",
    ));
    out
}

/// The header row of the terminal summary's table.
fn summary_header(r: &PilotResults, lang: Lang, cols: &Columns) -> Vec<String> {
    let (control_word, treated_word) = (cols.control_word, cols.treated_word);
    let mut head = Vec::new();
    if cols.with_subsets {
        head.push(tr(lang, "Deelgroep", "Subset").to_string());
    }
    if cols.several {
        head.push(treated_word.to_string());
    }
    head.extend([
        format!("{control_word} (n)"),
        format!("{treated_word} (n)"),
        tr(lang, "Effect [95%-BI]", "Effect [95% CI]").to_string(),
        "p".to_string(),
        format!("p ({})", r.multiplicity.label()),
    ]);
    head
}

/// One row of the terminal summary: subset, treated arm, each arm's mean and n, and the
/// headline estimate `e`.
fn summary_row(r: &PilotResults, e: &EstimateRow, lang: Lang, cols: &Columns) -> Vec<String> {
    let arm_cell = |outcome: &str, subset: &str, arm: &str, n: Option<usize>| {
        let mean = arm_mean(r, outcome, subset, arm, lang);
        match n {
            Some(n) => format!("{mean} ({n})"),
            None => mean,
        }
    };
    let f = display_factor(r, e);
    let mut row = Vec::new();
    if cols.with_subsets {
        row.push(if e.subset == POOLED {
            tr(lang, "alle", "all").to_string()
        } else {
            r.subset_label(&e.subset, lang)
        });
    }
    if cols.several {
        row.push(r.arm_label(&e.treated, lang));
    }
    row.extend([
        arm_cell(&e.outcome, &e.subset, &e.control, e.n_control),
        arm_cell(&e.outcome, &e.subset, &e.treated, e.n_treated),
    ]);
    row.extend(effect_cells(e, f, lang));
    row
}

/// An outcome's heading line in the terminal summary: label, unit, primary star and
/// the estimators of its headline rows.
fn outcome_heading(o: &OutcomeMeta, rows_here: &[&EstimateRow], lang: Lang) -> String {
    let mut estimators: Vec<String> = Vec::new();
    for e in rows_here {
        let name = estimator_name(e);
        if !estimators.contains(&name) {
            estimators.push(name);
        }
    }
    let star = if o.primary { " *" } else { "" };
    format!(
        "{} ({}){star} — {}",
        o.label.get(lang),
        o.unit.get(lang),
        estimators.join(", ")
    )
}

/// The table rendered once for aligned columns, with each outcome's heading line
/// (`breaks`: the data row it goes before) between the blocks.
fn render_with_headings(rows: &[Vec<String>], breaks: &[(usize, String)], width: usize) -> String {
    let mut out = String::new();
    let rendered = render(rows);
    let lines: Vec<&str> = rendered.lines().collect();
    out.push_str(&format!("  {}\n  {}\n", lines[0], lines[1]));
    for (i, line) in lines.iter().enumerate().skip(2) {
        let data_row = i - 1;
        if let Some((_, title)) = breaks.iter().find(|(at, _)| *at == data_row) {
            out.push_str(&wrap(title, width, "", "    "));
        }
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// The lines under the table: missing data and notes, the warning when disclosure
/// control is off, and the footnote.
fn summary_footer(r: &PilotResults, lang: Lang, cols: &Columns, width: usize) -> String {
    let mut out = missing_block(r, lang);
    if !r.disclosure.applied {
        out.push_str(&wrap(
            tr(
                lang,
                "WAARSCHUWING: zonder statistische geheimhouding; alleen voor de beveiligde omgeving.",
                "WARNING: no disclosure control; for use inside the secure environment only.",
            ),
            width,
            "",
            "  ",
        ));
    }
    let (c, t) = (
        cols.control_word.to_lowercase(),
        cols.treated_word.to_lowercase(),
    );
    out.push_str(&wrap(
        &match lang {
            Lang::Nl => format!(
                "* primaire uitkomst. Effect = {t} min {c}, in de eenheid van de uitkomst; (n) = aantal."
            ),
            Lang::En => format!(
                "* primary outcome. Effect = {t} minus {c}, in the outcome's unit; (n) = number."
            ),
        },
        width,
        "",
        "  ",
    ));
    out
}

/// The terminal summary of a pilot evaluation, at most [`TERMINAL_WIDTH`] characters
/// wide: the title, which arm is which, then per outcome a heading line (with the
/// estimator) and one row per subset and comparison with the headline estimate, each
/// arm's mean and n in the arms' order (control first).
pub fn terminal_summary(r: &PilotResults, lang: Lang) -> String {
    let width = TERMINAL_WIDTH;
    let (control_word, treated_word) = arm_words(r.design, lang);
    let cols = Columns {
        control_word,
        treated_word,
        with_subsets: r.subsets.len() > 1,
        several: r.arms.iter().filter(|a| !a.control).count() > 1,
    };
    let mut out = summary_heading(r, lang, &cols, width);
    out.push_str(&findings_block(r, lang, width));
    let mut rows = vec![summary_header(r, lang, &cols)];
    // Outcome heading lines go before the row they start.
    let mut breaks: Vec<(usize, String)> = Vec::new();
    for o in &r.outcomes {
        let rows_here: Vec<_> = r
            .estimates
            .iter()
            .filter(|e| e.outcome == o.id && e.headline)
            .collect();
        if rows_here.is_empty() {
            continue;
        }
        breaks.push((rows.len(), outcome_heading(o, &rows_here, lang)));
        for e in rows_here {
            rows.push(summary_row(r, e, lang, &cols));
        }
    }
    // Labels give way first (subset, then arm), so the numbers are never cut.
    let labels: Vec<usize> =
        (0..usize::from(cols.with_subsets) + usize::from(cols.several)).collect();
    fit(&mut rows, &labels, width - 2);
    // Render once for aligned columns, then put the outcome headings between blocks.
    out.push_str(&render_with_headings(&rows, &breaks, width));
    out.push_str(&summary_footer(r, lang, &cols, width));
    out
}

/// The findings in plain words ([`crate::analysis::findings`]), each wrapped to
/// `width` under its outcome, then an empty line; nothing without findings.
fn findings_block(r: &PilotResults, lang: Lang, width: usize) -> String {
    if r.summary.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{}\n", tr(lang, "In het kort:", "In short:"));
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    for f in &r.summary {
        let title = if several {
            format!(
                "{} ({} vs {})",
                f.title.get(lang),
                r.arm_label(&f.treated, lang),
                r.arm_label(&f.control, lang)
            )
        } else {
            f.title.get(lang).to_string()
        };
        out.push_str(&wrap(&format!("{title}."), width, "* ", "  "));
        out.push_str(&wrap(f.text.get(lang), width, "  ", "  "));
    }
    if let Some(c) = &r.costs {
        for x in &c.comparisons {
            out.push_str(&wrap(
                &super::cost_text::cost_line(r, x, lang),
                width,
                "* ",
                "  ",
            ));
        }
    }
    out.push('\n');
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
        let Some(line) = missing_line(r, o, lang) else {
            continue;
        };
        any = true;
        out.push_str(&wrap(&line, TERMINAL_WIDTH, "  ", "    "));
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
    for (text, outcomes) in notes_once(r, lang) {
        out.push_str(&note_line(text, &outcomes, lang));
    }
    out
}

/// An outcome's line of missing data (whole sample): per arm, control first, the units
/// without an outcome and, with covariates, those missing a covariate; `None` when the
/// outcome has no arm summaries.
fn missing_line(r: &PilotResults, o: &OutcomeMeta, lang: Lang) -> Option<String> {
    let mut sums: Vec<_> = r
        .arm_summaries
        .iter()
        .filter(|s| s.outcome == o.id && s.subset == POOLED)
        .collect();
    if sums.is_empty() {
        return None;
    }
    // Control first, as in the table; arms named as in the table's header.
    let (control_word, treated_word) = arm_words(r.design, lang);
    let several = r.arms.iter().filter(|a| !a.control).count() > 1;
    let is_control = |arm: &str| r.arms.iter().any(|a| a.value == arm && a.control);
    sums.sort_by_key(|s| !is_control(&s.arm));
    let name = |arm: &str| {
        if is_control(arm) {
            control_word.to_string()
        } else if several {
            r.arm_label(arm, lang)
        } else {
            treated_word.to_string()
        }
    };
    let part = |f: &dyn Fn(&crate::analysis::ArmSummaryRow) -> Option<usize>| {
        sums.iter()
            .map(|s| format!("{} {}", name(&s.arm), fmt_count(f(s), lang)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut line = format!(
        "{}: {} {}",
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
    Some(line)
}

/// Each note's text once, in the order they first come, with the label of each outcome
/// it is about once (a note repeated for the subsets or comparisons of one outcome
/// names it once).
fn notes_once(r: &PilotResults, lang: Lang) -> Vec<(&str, Vec<String>)> {
    let mut texts: Vec<(&str, Vec<String>)> = Vec::new();
    for n in &r.notes {
        let text = n.text.get(lang);
        let label = n
            .outcome
            .as_deref()
            .and_then(|o| r.outcome(o))
            .map(|o| o.label.get(lang).to_string());
        let i = match texts.iter().position(|(t, _)| *t == text) {
            Some(i) => i,
            None => {
                texts.push((text, Vec::new()));
                texts.len() - 1
            }
        };
        let outcomes = &mut texts[i].1;
        if let Some(l) = label.filter(|l| !outcomes.contains(l)) {
            outcomes.push(l);
        }
    }
    texts
}

/// A note wrapped for the terminal, its outcomes in brackets after it, opening with
/// "Note:" unless it is a warning that already says so.
fn note_line(text: &str, outcomes: &[String], lang: Lang) -> String {
    let warning = ["Warning:", "Waarschuwing:", "Let op:", "Note:"]
        .iter()
        .any(|w| text.starts_with(w));
    let first = if warning {
        String::new()
    } else {
        format!("{} ", tr(lang, "Let op:", "Note:"))
    };
    let about = if outcomes.is_empty() {
        String::new()
    } else {
        format!(" ({})", outcomes.join("; "))
    };
    wrap(&format!("{text}{about}"), TERMINAL_WIDTH, &first, "  ")
}

/// An estimate's effect with its interval ("suppressed" where withheld), its p-value
/// and its adjusted p-value, as table cells.
fn effect_cells(e: &crate::analysis::EstimateRow, f: f64, lang: Lang) -> [String; 3] {
    [
        if e.suppressed {
            tr(lang, "onderdrukt", "suppressed").to_string()
        } else {
            effect_ci(e.estimate * f, e.ci_low * f, e.ci_high * f, lang)
        },
        localise(&fmt_p(e.p_value), lang),
        e.p_value_adjusted
            .map(|q| localise(&fmt_p(q), lang))
            .unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_to_the_width_and_indents_the_continuation() {
        let text = "Warning: differential attrition. Missing: 12.0% in Regular guidance against 3.0% in Intensive neighbourhood-based guidance.";
        let got = wrap(text, 40, "", "  ");
        for l in got.lines() {
            assert!(l.chars().count() <= 40, "{l:?}");
        }
        assert!(got.lines().skip(1).all(|l| l.starts_with("  ")));
        let words: Vec<&str> = got.split_whitespace().collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn fit_cuts_labels_only_and_reaches_the_width() {
        let mut rows = vec![
            vec!["Subset".into(), "Effect".into()],
            vec![
                "Rail (ProRail, BAM, Strukton)".into(),
                "+0.05 [0.01, 0.09]".into(),
            ],
        ];
        fit(&mut rows, &[0], 30);
        let table = render(&rows);
        assert!(table.lines().all(|l| l.chars().count() <= 30), "{table}");
        assert_eq!(rows[1][1], "+0.05 [0.01, 0.09]");
        assert!(rows[1][0].ends_with('…'));
    }
}
