//! The arm chart: per subset (group), per arm a horizontal bar for the mean with its
//! confidence interval as a whisker, and the group size in the label.
//!
//! Groups are stacked and share one value axis, because all groups measure the same
//! outcome in the same unit: equal lengths then mean equal values across the whole
//! chart. Bars start at zero so their lengths can be compared directly; an arm keeps
//! its colour in every group, and is always named in text as well.

use std::collections::HashMap;

use plotters::style::RGBColor;

use super::axis::Axis;
use super::effects::not_estimable;
use super::frame::{content_width, footer, header, label_column};
use super::scene::{Align, Scene};
use super::text::{format_number, words, wrap};
use super::theme::{
    ARM_COLOURS, AXIS_LABEL, GUTTER, INK, LABEL, MARGIN, MUTED, PANEL_GAP, PANEL_TITLE, ROW_MIN,
    WIDTH, lighten,
};
use super::{ArmChart, ArmPoint};

/// Bar thickness; thinner than a row so bars of neighbouring arms stay apart.
const BAR: i32 = 22;

pub(crate) fn scene(c: &ArmChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let words = words(c.lang);
    // "n = 87" is glued with no-break spaces so wrapping never separates n from 87.
    let label = |p: &ArmPoint| match p.n {
        Some(n) => format!(
            "{} (n\u{a0}=\u{a0}{})",
            p.label,
            format_number(n as f64, 0, c.lang)
        ),
        None => p.label.clone(),
    };
    let labels: Vec<Vec<String>> = c
        .groups
        .iter()
        .map(|g| g.points.iter().map(label).collect())
        .collect();
    let label_w = label_column(labels.iter().flatten().map(|t| (t.as_str(), LABEL)));
    let (px0, px1) = (MARGIN + label_w + GUTTER, WIDTH - MARGIN - 14);
    let axis = Axis::fit(
        c.groups
            .iter()
            .flat_map(|g| g.points.iter())
            .filter(|p| p.mean.is_finite())
            .flat_map(|p| [p.mean, p.ci_low, p.ci_high]),
        px0,
        px1,
        c.lang,
        false,
    );
    let colours = arm_colours(c);
    let titled = c.groups.len() > 1 || c.groups.iter().any(|g| !g.title.trim().is_empty());
    let mut drew_rows = false;

    if c.groups.is_empty() {
        let line = [words.no_estimates.to_string()];
        y = s.lines(&line, MARGIN, y, LABEL, MUTED, Align::Left);
    }
    for (gi, (g, g_labels)) in c.groups.iter().zip(&labels).enumerate() {
        if gi > 0 {
            y += PANEL_GAP - 10;
        }
        if titled {
            let title = wrap(&g.title, PANEL_TITLE, content_width(), 2);
            y = s.lines(&title, MARGIN, y, PANEL_TITLE, INK, Align::Left);
        }
        if g.points.is_empty() {
            let line = [words.no_estimates.to_string()];
            y = s.lines(&line, MARGIN, y + 2, LABEL, MUTED, Align::Left);
            continue;
        }
        let rows_top = y + 6;
        let mut row_y = rows_top + 4;
        let mut rows = Vec::with_capacity(g.points.len());
        for (p, text) in g.points.iter().zip(g_labels) {
            let lines = wrap(text, LABEL, f64::from(label_w), 3);
            let h = (ROW_MIN + 4).max(lines.len() as i32 * LABEL.line_height() + 10);
            rows.push((p, lines, row_y, row_y + h));
            row_y += h;
        }
        let rows_bottom = row_y + 4;
        axis.draw_grid(&mut s, rows_top, rows_bottom);
        for (p, lines, t, b) in &rows {
            let cy = (t + b) / 2;
            let block_top = cy - lines.len() as i32 * LABEL.line_height() / 2;
            s.lines(lines, MARGIN, block_top, LABEL, INK, Align::Left);
            let colour = colours
                .get(p.label.as_str())
                .copied()
                .unwrap_or(ARM_COLOURS[0]);
            let missing = if p.suppressed {
                words.suppressed
            } else {
                words.not_estimable
            };
            bar(&mut s, &axis, p, cy, colour, missing);
        }
        // The grid's zero line is the bars' base: redraw it over the bar ends.
        s.vline(axis.x(0.0), rows_top, rows_bottom, 2, super::theme::ZERO);
        y = rows_bottom;
        drew_rows = true;
    }
    if drew_rows {
        y = axis.draw_scale(&mut s, y, c.lang);
        let lines = wrap(&c.axis_label, AXIS_LABEL, f64::from(px1 - px0), 2);
        y = s.lines(&lines, (px0 + px1) / 2, y, AXIS_LABEL, INK, Align::Center);
    }
    s.height = footer(&mut s, &c.note, y);
    s
}

/// Colours by arm label in order of first appearance, cycling through the palette.
fn arm_colours(c: &ArmChart) -> HashMap<&str, RGBColor> {
    let mut map = HashMap::new();
    for p in c.groups.iter().flat_map(|g| g.points.iter()) {
        let next = ARM_COLOURS[map.len() % ARM_COLOURS.len()];
        map.entry(p.label.as_str()).or_insert(next);
    }
    map
}

/// Bar from zero to the mean with the interval whisker on top.
fn bar(s: &mut Scene, axis: &Axis, p: &ArmPoint, cy: i32, colour: RGBColor, missing: &str) {
    if p.suppressed || !p.mean.is_finite() {
        not_estimable(s, axis, cy, missing);
        return;
    }
    let (z, m) = (axis.x(0.0), axis.x(p.mean));
    s.rect(z, cy - BAR / 2, m, cy + BAR / 2, lighten(colour, 0.15));
    if p.ci_low.is_finite() && p.ci_high.is_finite() {
        let a = axis.x(p.ci_low.min(p.ci_high));
        let b = axis.x(p.ci_low.max(p.ci_high));
        s.hline(a, b + 1, cy, 2, INK);
        s.vline(a, cy - 7, cy + 7, 2, INK);
        s.vline(b, cy - 7, cy + 7, 2, INK);
    }
}
