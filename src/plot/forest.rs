//! The forest plot of a meta-analysis: one row per site with its estimate, confidence
//! interval and weight, the pooled estimate as a diamond, the prediction interval as a
//! bar below it, and the heterogeneity line under the rows.
//!
//! As every renderer here it computes nothing: estimates, limits, weights and the
//! heterogeneity numbers come from the caller (from `stats::meta`); this module only
//! places them, sizes the markers by the weight it is given, and formats the numbers
//! in the chart's language.

use super::axis::Axis;
use super::frame::{footer, header, label_column};
use super::scene::{Align, Scene};
use super::text::{fit_line, format_number, wrap};
use super::theme::{
    AXIS_LABEL, BAND, BLUE, GUTTER, INK, LABEL, MARGIN, MUTED, ROW_MIN, TICK, VERMILLION, WHITE,
    WIDTH,
};
use super::{ForestChart, Lang};

/// Width of the text columns right of the plot: "estimate [low, high]" and the weight.
const ESTIMATE_W: i32 = 210;
const WEIGHT_W: i32 = 96;

/// Fixed words of the forest plot.
struct ForestWords {
    study: &'static str,
    estimate: &'static str,
    weight: &'static str,
    prediction: &'static str,
    heterogeneity: &'static str,
    ci: &'static str,
}

fn forest_words(lang: Lang) -> ForestWords {
    match lang {
        Lang::Nl => ForestWords {
            study: "Locatie (n)",
            estimate: "Schatting",
            weight: "Gewicht",
            prediction: "Voorspellingsinterval",
            heterogeneity: "Heterogeniteit",
            ci: "BI",
        },
        Lang::En => ForestWords {
            study: "Site (n)",
            estimate: "Estimate",
            weight: "Weight",
            prediction: "Prediction interval",
            heterogeneity: "Heterogeneity",
            ci: "CI",
        },
    }
}

/// Three significant-ish decimals for estimates and limits.
fn num(v: f64, lang: Lang) -> String {
    let a = v.abs();
    let d = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    format_number(v, d, lang)
}

fn interval_text(est: Option<f64>, lo: f64, hi: f64, lang: Lang) -> String {
    let sep = match lang {
        Lang::Nl => "; ",
        Lang::En => ", ",
    };
    let range = format!("[{}{sep}{}]", num(lo, lang), num(hi, lang));
    match est {
        Some(e) => format!("{} {range}", num(e, lang)),
        None => range,
    }
}

pub(crate) fn scene(c: &ForestChart) -> Scene {
    let lang = c.lang;
    let w = forest_words(lang);
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let row_label = |label: &str, n: Option<usize>| match n {
        Some(n) => format!("{label} ({})", format_number(n as f64, 0, lang)),
        None => label.to_string(),
    };
    let labels: Vec<String> = c.rows.iter().map(|r| row_label(&r.label, r.n)).collect();
    let label_w = label_column(labels.iter().map(|l| (l.as_str(), LABEL)).chain([
        (c.pooled.label.as_str(), LABEL.bold()),
        (w.prediction, LABEL),
    ]))
    .min(260);
    let px0 = MARGIN + label_w + GUTTER;
    let weight_x1 = WIDTH - MARGIN;
    let est_x1 = weight_x1 - WEIGHT_W;
    let px1 = est_x1 - ESTIMATE_W - GUTTER;
    let values = c
        .rows
        .iter()
        .flat_map(|r| [r.estimate, r.ci_low, r.ci_high])
        .chain([c.pooled.ci_low, c.pooled.ci_high])
        .chain(c.prediction.iter().flat_map(|p| [p.0, p.1]));
    let axis = Axis::fit(values, px0, px1, lang, true);

    // Column headings.
    let base = y + TICK.baseline_in_line();
    let study_head = if c.rows.iter().any(|r| r.n.is_some()) {
        w.study
    } else {
        w.study.trim_end_matches(" (n)")
    };
    s.text(MARGIN, base, study_head, TICK.bold(), MUTED, Align::Left);
    let ci_head = format!(
        "{} [{}% {}]",
        w.estimate,
        format_number(100.0 * c.conf_level, 0, lang),
        w.ci
    );
    s.text(est_x1, base, &ci_head, TICK.bold(), MUTED, Align::Right);
    s.text(weight_x1, base, w.weight, TICK.bold(), MUTED, Align::Right);
    y += TICK.line_height() + 8;

    let rows_top = y;
    let mut rows = Vec::new();
    for (r, label) in c.rows.iter().zip(&labels) {
        let lines = wrap(label, LABEL, f64::from(label_w), 2);
        let h = ROW_MIN.max(lines.len() as i32 * LABEL.line_height() + 10);
        rows.push((r, lines, y, y + h));
        y += h;
    }
    let pooled_top = y + 6;
    let pooled_bottom = pooled_top + ROW_MIN + 4;
    let pred_bottom = pooled_bottom + if c.prediction.is_some() { ROW_MIN } else { 0 };
    let rows_bottom = pred_bottom + 4;

    for (_, _, t, b) in rows.iter().step_by(2) {
        s.rect(MARGIN - 10, *t, weight_x1 + 10, *b, BAND);
    }
    for v in axis.ticks() {
        s.vline(axis.x(v), rows_top, rows_bottom, 1, super::theme::GRID);
    }
    s.vline(axis.x(0.0), rows_top, rows_bottom, 2, super::theme::ZERO);
    if let Some((_, _, _, b)) = rows.last() {
        s.hline(MARGIN, weight_x1, *b + 3, 1, super::theme::AXIS);
    }

    let max_weight = c.rows.iter().map(|r| r.weight).fold(0.0, f64::max);
    for (r, lines, t, b) in &rows {
        let cy = (t + b) / 2;
        let top = cy - lines.len() as i32 * LABEL.line_height() / 2;
        s.lines(lines, MARGIN, top, LABEL, INK, Align::Left);
        let a = axis.x(r.ci_low);
        let z = axis.x(r.ci_high);
        s.hline(a, z + 1, cy, 2, INK);
        s.vline(a, cy - 6, cy + 6, 2, INK);
        s.vline(z, cy - 6, cy + 6, 2, INK);
        // Marker area in proportion to the weight (the largest 14 px across).
        let half = if max_weight > 0.0 {
            (7.0 * (r.weight / max_weight).sqrt()).round().max(2.0) as i32
        } else {
            3
        };
        let x = axis.x(r.estimate);
        s.rect(x - half, cy - half, x + half + 1, cy + half + 1, BLUE);
        let text_base = cy - LABEL.line_height() / 2 + LABEL.baseline_in_line();
        let ci = interval_text(Some(r.estimate), r.ci_low, r.ci_high, lang);
        s.text(est_x1, text_base, &ci, LABEL, INK, Align::Right);
        let wt = format!("{}%", format_number(r.weight, 1, lang));
        s.text(weight_x1, text_base, &wt, LABEL, INK, Align::Right);
    }

    // The pooled diamond, drawn as horizontal strips narrowing to its top and bottom.
    let p = &c.pooled;
    let cy = (pooled_top + pooled_bottom) / 2;
    let (a, m, z) = (axis.x(p.ci_low), axis.x(p.estimate), axis.x(p.ci_high));
    let half_h: i32 = 10;
    for dy in -half_h..=half_h {
        let f = 1.0 - f64::from(dy.abs()) / f64::from(half_h);
        let l = m - (f64::from(m - a) * f).round() as i32;
        let r = m + (f64::from(z - m) * f).round() as i32;
        s.hline(l, r + 1, cy + dy, 1, BLUE);
    }
    let text_base = cy - LABEL.line_height() / 2 + LABEL.baseline_in_line();
    let pooled_label = fit_line(&p.label, LABEL.bold(), f64::from(label_w));
    s.text(
        MARGIN,
        text_base,
        &pooled_label,
        LABEL.bold(),
        INK,
        Align::Left,
    );
    let ci = interval_text(Some(p.estimate), p.ci_low, p.ci_high, lang);
    s.text(est_x1, text_base, &ci, LABEL.bold(), INK, Align::Right);
    s.text(
        weight_x1,
        text_base,
        "100%",
        LABEL.bold(),
        INK,
        Align::Right,
    );

    if let Some((lo, hi)) = c.prediction {
        let cy = (pooled_bottom + pred_bottom) / 2;
        let (a, z) = (axis.x(lo), axis.x(hi));
        s.hline(a, z + 1, cy, 3, VERMILLION);
        s.vline(a, cy - 7, cy + 7, 2, VERMILLION);
        s.vline(z, cy - 7, cy + 7, 2, VERMILLION);
        s.circle(axis.x(p.estimate), cy, 5, WHITE);
        s.circle(axis.x(p.estimate), cy, 3, VERMILLION);
        let text_base = cy - LABEL.line_height() / 2 + LABEL.baseline_in_line();
        s.text(MARGIN, text_base, w.prediction, LABEL, INK, Align::Left);
        let pi = interval_text(None, lo, hi, lang);
        s.text(est_x1, text_base, &pi, LABEL, INK, Align::Right);
    }

    let y = axis.draw_scale(&mut s, rows_bottom, lang);
    let axis_lines = wrap(&c.axis_label, AXIS_LABEL, f64::from(px1 - px0), 2);
    let y = s.lines(
        &axis_lines,
        (px0 + px1) / 2,
        y,
        AXIS_LABEL,
        INK,
        Align::Center,
    );

    let h = &c.heterogeneity;
    let line = format!(
        "{}: I² = {}%, τ² = {} [{}% {} {}{} {}], Q = {} (df = {}), p {}",
        w.heterogeneity,
        format_number(h.i2, 1, lang),
        format_number(h.tau2, 4, lang),
        format_number(100.0 * c.conf_level, 0, lang),
        w.ci,
        format_number(h.tau2_ci_low, 4, lang),
        match lang {
            Lang::Nl => ";",
            Lang::En => ",",
        },
        format_number(h.tau2_ci_high, 4, lang),
        format_number(h.q, 2, lang),
        format_number(h.q_df, 0, lang),
        if h.q_p_value < 0.001 {
            match lang {
                Lang::Nl => "< 0,001".to_string(),
                Lang::En => "< 0.001".to_string(),
            }
        } else {
            format!("= {}", format_number(h.q_p_value, 3, lang))
        },
    );
    let het = wrap(&line, LABEL, f64::from(WIDTH - 2 * MARGIN), 2);
    let y = s.lines(&het, MARGIN, y + 10, LABEL, INK, Align::Left);
    s.height = footer(&mut s, &c.note, y);
    s
}
