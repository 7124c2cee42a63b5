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
use super::text::{chart_number as num, fit_line, format_number, wrap};
use super::theme::{
    AXIS_LABEL, BAND, BLUE, GUTTER, INK, LABEL, MARGIN, MUTED, ROW_MIN, TICK, VERMILLION, WHITE,
    WIDTH,
};
use super::{ForestChart, ForestRow, Lang};

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
    let w = forest_words(c.lang);
    let mut s = Scene::new(WIDTH, &c.title);
    let y = header(&mut s, &c.title, &c.subtitle);
    let labels = study_labels(c);
    let cols = Columns::new(c, &w, &labels);
    let y = column_headings(&mut s, c, &w, &cols, y);
    let rows = Rows::new(c, &labels, cols.label_w, y);
    draw_background(&mut s, &cols, &rows);
    let max_weight = c.rows.iter().map(|r| r.weight).fold(0.0, f64::max);
    for row in &rows.studies {
        draw_study(&mut s, &cols, row, max_weight, c.lang);
    }
    draw_pooled(&mut s, c, &cols, rows.pooled_cy);
    draw_prediction(&mut s, c, &w, &cols, rows.prediction_cy);

    let y = cols.axis.draw_scale(&mut s, rows.bottom, c.lang);
    let axis_lines = wrap(&c.axis_label, AXIS_LABEL, f64::from(cols.px1 - cols.px0), 2);
    let y = s.lines(
        &axis_lines,
        (cols.px0 + cols.px1) / 2,
        y,
        AXIS_LABEL,
        INK,
        Align::Center,
    );
    let het = wrap(
        &heterogeneity_line(c, &w),
        LABEL,
        f64::from(WIDTH - 2 * MARGIN),
        2,
    );
    let y = s.lines(&het, MARGIN, y + 10, LABEL, INK, Align::Left);
    s.height = footer(&mut s, &c.note, y);
    s
}

/// Each study's label, with its sample size when known: "Site (n)".
fn study_labels(c: &ForestChart) -> Vec<String> {
    c.rows
        .iter()
        .map(|r| match r.n {
            Some(n) => format!("{} ({})", r.label, format_number(n as f64, 0, c.lang)),
            None => r.label.to_string(),
        })
        .collect()
}

/// Where the columns of the forest plot sit, left to right: the labels, the plot (with
/// its value axis), the estimates with their intervals and the weights.
struct Columns {
    label_w: i32,
    /// The plotting area.
    px0: i32,
    px1: i32,
    /// Right edges of the estimate column and of the weight column.
    est_x1: i32,
    weight_x1: i32,
    axis: Axis,
}

impl Columns {
    /// The label column fits the widest label (at most 260 pixels), the text columns
    /// have fixed widths, and the axis covers every interval of the chart and zero.
    fn new(c: &ForestChart, w: &ForestWords, labels: &[String]) -> Self {
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
        let axis = Axis::fit(values, px0, px1, c.lang, true);
        Self {
            label_w,
            px0,
            px1,
            est_x1,
            weight_x1,
            axis,
        }
    }
}

/// The headings over the label, estimate and weight columns; returns the y below them.
fn column_headings(s: &mut Scene, c: &ForestChart, w: &ForestWords, cols: &Columns, y: i32) -> i32 {
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
        format_number(100.0 * c.conf_level, 0, c.lang),
        w.ci
    );
    s.text(
        cols.est_x1,
        base,
        &ci_head,
        TICK.bold(),
        MUTED,
        Align::Right,
    );
    s.text(
        cols.weight_x1,
        base,
        w.weight,
        TICK.bold(),
        MUTED,
        Align::Right,
    );
    y + TICK.line_height() + 8
}

/// One study's row: its wrapped label and its top and bottom.
struct StudyRow<'a> {
    row: &'a ForestRow,
    lines: Vec<String>,
    top: i32,
    bottom: i32,
}

/// The vertical layout of the rows: the studies, then the pooled estimate and the
/// prediction interval (when there is one).
struct Rows<'a> {
    studies: Vec<StudyRow<'a>>,
    /// Top and bottom of all rows, for the shading and the grid.
    top: i32,
    bottom: i32,
    /// Centre lines of the pooled row and of the prediction row.
    pooled_cy: i32,
    prediction_cy: i32,
}

impl<'a> Rows<'a> {
    /// Rows from `top` down; a study's row grows with its label (at most two lines).
    fn new(c: &'a ForestChart, labels: &[String], label_w: i32, top: i32) -> Self {
        let mut y = top;
        let mut studies = Vec::new();
        for (row, label) in c.rows.iter().zip(labels) {
            let lines = wrap(label, LABEL, f64::from(label_w), 2);
            let h = ROW_MIN.max(lines.len() as i32 * LABEL.line_height() + 10);
            studies.push(StudyRow {
                row,
                lines,
                top: y,
                bottom: y + h,
            });
            y += h;
        }
        let pooled_top = y + 6;
        let pooled_bottom = pooled_top + ROW_MIN + 4;
        let pred_bottom = pooled_bottom + if c.prediction.is_some() { ROW_MIN } else { 0 };
        Self {
            studies,
            top,
            bottom: pred_bottom + 4,
            pooled_cy: (pooled_top + pooled_bottom) / 2,
            prediction_cy: (pooled_bottom + pred_bottom) / 2,
        }
    }
}

/// Under the marks: every other study row shaded, the grid with the zero line, and a
/// rule between the studies and the pooled estimate.
fn draw_background(s: &mut Scene, cols: &Columns, rows: &Rows) {
    for r in rows.studies.iter().step_by(2) {
        s.rect(MARGIN - 10, r.top, cols.weight_x1 + 10, r.bottom, BAND);
    }
    cols.axis.draw_grid(s, rows.top, rows.bottom);
    if let Some(last) = rows.studies.last() {
        s.hline(
            MARGIN,
            cols.weight_x1,
            last.bottom + 3,
            1,
            super::theme::AXIS,
        );
    }
}

/// Baseline of one line of row text centred on row `cy`.
fn row_baseline(cy: i32) -> i32 {
    cy - LABEL.line_height() / 2 + LABEL.baseline_in_line()
}

/// One study: its label, the interval with end caps, a square sized by the weight, and
/// the estimate with its interval and the weight as text.
fn draw_study(s: &mut Scene, cols: &Columns, study: &StudyRow, max_weight: f64, lang: Lang) {
    let r = study.row;
    let cy = (study.top + study.bottom) / 2;
    let top = cy - study.lines.len() as i32 * LABEL.line_height() / 2;
    s.lines(&study.lines, MARGIN, top, LABEL, INK, Align::Left);
    let a = cols.axis.x(r.ci_low);
    let z = cols.axis.x(r.ci_high);
    s.hline(a, z + 1, cy, 2, INK);
    s.vline(a, cy - 6, cy + 6, 2, INK);
    s.vline(z, cy - 6, cy + 6, 2, INK);
    // Marker area in proportion to the weight (the largest 14 px across).
    let half = if max_weight > 0.0 {
        (7.0 * (r.weight / max_weight).sqrt()).round().max(2.0) as i32
    } else {
        3
    };
    let x = cols.axis.x(r.estimate);
    s.rect(x - half, cy - half, x + half + 1, cy + half + 1, BLUE);
    let text_base = row_baseline(cy);
    let ci = interval_text(Some(r.estimate), r.ci_low, r.ci_high, lang);
    s.text(cols.est_x1, text_base, &ci, LABEL, INK, Align::Right);
    let wt = format!("{}%", format_number(r.weight, 1, lang));
    s.text(cols.weight_x1, text_base, &wt, LABEL, INK, Align::Right);
}

/// The pooled estimate on row `cy`: the diamond, its label, and the estimate with its
/// interval and the weight (100%) as text, all in bold.
fn draw_pooled(s: &mut Scene, c: &ForestChart, cols: &Columns, cy: i32) {
    let p = &c.pooled;
    // The diamond, drawn as horizontal strips narrowing to its top and bottom.
    let axis = &cols.axis;
    let (a, m, z) = (axis.x(p.ci_low), axis.x(p.estimate), axis.x(p.ci_high));
    let half_h: i32 = 10;
    for dy in -half_h..=half_h {
        let f = 1.0 - f64::from(dy.abs()) / f64::from(half_h);
        let l = m - (f64::from(m - a) * f).round() as i32;
        let r = m + (f64::from(z - m) * f).round() as i32;
        s.hline(l, r + 1, cy + dy, 1, BLUE);
    }
    let text_base = row_baseline(cy);
    let pooled_label = fit_line(&p.label, LABEL.bold(), f64::from(cols.label_w));
    s.text(
        MARGIN,
        text_base,
        &pooled_label,
        LABEL.bold(),
        INK,
        Align::Left,
    );
    let ci = interval_text(Some(p.estimate), p.ci_low, p.ci_high, c.lang);
    s.text(cols.est_x1, text_base, &ci, LABEL.bold(), INK, Align::Right);
    s.text(
        cols.weight_x1,
        text_base,
        "100%",
        LABEL.bold(),
        INK,
        Align::Right,
    );
}

/// The prediction interval on row `cy`, when there is one: a bar with the pooled
/// estimate as a ring on it, its name and its limits as text.
fn draw_prediction(s: &mut Scene, c: &ForestChart, w: &ForestWords, cols: &Columns, cy: i32) {
    let Some((lo, hi)) = c.prediction else {
        return;
    };
    let axis = &cols.axis;
    let (a, z) = (axis.x(lo), axis.x(hi));
    s.hline(a, z + 1, cy, 3, VERMILLION);
    s.vline(a, cy - 7, cy + 7, 2, VERMILLION);
    s.vline(z, cy - 7, cy + 7, 2, VERMILLION);
    s.circle(axis.x(c.pooled.estimate), cy, 5, WHITE);
    s.circle(axis.x(c.pooled.estimate), cy, 3, VERMILLION);
    let text_base = row_baseline(cy);
    s.text(MARGIN, text_base, w.prediction, LABEL, INK, Align::Left);
    let pi = interval_text(None, lo, hi, c.lang);
    s.text(cols.est_x1, text_base, &pi, LABEL, INK, Align::Right);
}

/// The heterogeneity line under the plot: I², τ² with its interval, and Q with its
/// degrees of freedom and p-value.
fn heterogeneity_line(c: &ForestChart, w: &ForestWords) -> String {
    let lang = c.lang;
    let h = &c.heterogeneity;
    format!(
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
    )
}
