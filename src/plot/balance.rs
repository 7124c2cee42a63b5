//! Two diagnostics of a weighting estimate: the Love plot (absolute standardised mean
//! difference per covariate before and after weighting, with the conventional 0.1
//! line) and the propensity-score overlap chart (the share of each arm per score bin,
//! participants above the centre line, the comparison group below).
//!
//! As every renderer here it computes nothing: absolute SMDs, shares per bin and all
//! texts come from the caller; a value that is missing (not defined, or withheld by
//! disclosure control) is drawn as a word, not as a mark.

use super::axis::Axis;
use super::frame::{content_width, footer, header, label_column};
use super::scene::{Align, Scene};
use super::text::{format_number, words, wrap};
use super::theme::{
    AXIS_LABEL, BAND, BLUE, GRID, GUTTER, INK, LABEL, MARGIN, MUTED, ROW_MIN, TICK, VERMILLION,
    WHITE, WIDTH, ZERO, lighten,
};
use super::{LoveChart, OverlapChart};

pub(crate) fn love_scene(c: &LoveChart) -> Scene {
    let lang = c.lang;
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let label_w = label_column(c.rows.iter().map(|r| (r.label.as_str(), LABEL))).min(260);
    let px0 = MARGIN + label_w + GUTTER;
    let px1 = WIDTH - MARGIN - 16;
    let values = c
        .rows
        .iter()
        .flat_map(|r| [r.before, r.after])
        .flatten()
        .chain([c.threshold]);
    let axis = Axis::fit(values, px0, px1, lang, false);

    // Legend: hollow vermillion = before, filled blue = after.
    let base = y + LABEL.baseline_in_line();
    let cy = y + LABEL.line_height() / 2;
    s.circle(px0 + 6, cy, 6, VERMILLION);
    s.circle(px0 + 6, cy, 3, WHITE);
    s.text(px0 + 18, base, &c.before_label, LABEL, INK, Align::Left);
    let x2 = px0 + 40 + LABEL.width(&c.before_label).ceil() as i32;
    s.circle(x2 + 6, cy, 6, BLUE);
    s.text(x2 + 18, base, &c.after_label, LABEL, INK, Align::Left);
    y += LABEL.line_height() + 12;

    let top = y;
    let mut rows = Vec::new();
    for r in &c.rows {
        let lines = wrap(&r.label, LABEL, f64::from(label_w), 2);
        let h = ROW_MIN.max(lines.len() as i32 * LABEL.line_height() + 8);
        rows.push((r, lines, y, y + h));
        y += h;
    }
    let bottom = y + 4;
    for (_, _, t, b) in rows.iter().step_by(2) {
        s.rect(MARGIN - 10, *t, px1 + 10, *b, BAND);
    }
    for v in axis.ticks() {
        s.vline(axis.x(v), top, bottom, 1, GRID);
    }
    s.vline(axis.x(0.0), top, bottom, 2, ZERO);
    s.vline(axis.x(c.threshold), top, bottom, 2, MUTED);
    let w = words(lang);
    for (r, lines, t, b) in &rows {
        let cy = (t + b) / 2;
        let ltop = cy - lines.len() as i32 * LABEL.line_height() / 2;
        s.lines(lines, MARGIN, ltop, LABEL, INK, Align::Left);
        match (r.before, r.after) {
            (Some(a), Some(z)) => {
                let (xa, xz) = (axis.x(a), axis.x(z));
                s.hline(xa.min(xz), xa.max(xz) + 1, cy, 2, lighten(INK, 0.6));
            }
            (None, None) => {
                let text_base = cy - LABEL.line_height() / 2 + LABEL.baseline_in_line();
                let word = if r.suppressed {
                    w.suppressed
                } else {
                    w.not_estimable
                };
                s.text(px0 + 8, text_base, word, LABEL, MUTED, Align::Left);
            }
            _ => {}
        }
        if let Some(a) = r.before {
            s.circle(axis.x(a), cy, 6, VERMILLION);
            s.circle(axis.x(a), cy, 3, WHITE);
        }
        if let Some(z) = r.after {
            s.circle(axis.x(z), cy, 6, BLUE);
        }
    }
    let y = axis.draw_scale(&mut s, bottom, lang);
    let axis_lines = wrap(&c.axis_label, AXIS_LABEL, f64::from(px1 - px0), 2);
    let y = s.lines(
        &axis_lines,
        (px0 + px1) / 2,
        y,
        AXIS_LABEL,
        INK,
        Align::Center,
    );
    s.height = footer(&mut s, &c.note, y);
    s
}

/// Height of each half of the overlap chart.
const HALF_H: i32 = 170;

pub(crate) fn overlap_scene(c: &OverlapChart) -> Scene {
    let lang = c.lang;
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let left = (TICK.width("100%") + 14.0).ceil() as i32;
    let (px0, px1) = (MARGIN + left, WIDTH - MARGIN - 16);
    // Axis::fit pads the upper end by 1.5% of the range; fitting to hi / 1.015 makes
    // the padded end the last edge itself (1 for scores), so no empty tick follows.
    let lo = c.edges.first().copied().unwrap_or(0.0);
    let hi = c.edges.last().copied().unwrap_or(1.0);
    let axis = Axis::fit([lo, lo + (hi - lo) / 1.015], px0, px1, lang, false);
    let peak = c
        .treated
        .shares
        .iter()
        .chain(&c.control.shares)
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    // Round the scale up to a multiple of 5%.
    let ymax = ((peak / 5.0).ceil() * 5.0).max(5.0);
    let y_lines = wrap(&c.y_label, AXIS_LABEL, content_width(), 2);
    y = s.lines(&y_lines, MARGIN, y, AXIS_LABEL, INK, Align::Left) + 10;
    let (top, mid) = (y, y + HALF_H);
    let bottom = mid + HALF_H;
    let h = |v: f64| (v.clamp(0.0, ymax) / ymax * f64::from(HALF_H)).round() as i32;
    for k in 0..=2 {
        let v = ymax * f64::from(k) / 2.0;
        let label = format!("{}%", format_number(v, 0, lang));
        s.hline(px0, px1 + 1, mid - h(v), 1, GRID);
        s.hline(px0, px1 + 1, mid + h(v), 1, GRID);
        s.text(px0 - 10, mid - h(v) + 6, &label, TICK, MUTED, Align::Right);
        if k > 0 {
            s.text(px0 - 10, mid + h(v) + 6, &label, TICK, MUTED, Align::Right);
        }
    }
    for (arm, up, colour) in [(&c.treated, true, BLUE), (&c.control, false, VERMILLION)] {
        for (i, share) in arm.shares.iter().enumerate() {
            let (Some(a), Some(b)) = (c.edges.get(i), c.edges.get(i + 1)) else {
                continue;
            };
            let (xa, xb) = (axis.x(*a) + 1, axis.x(*b) - 1);
            match share {
                Some(v) if v.is_finite() => {
                    let hh = h(*v);
                    if up {
                        s.rect(xa, mid - hh, xb, mid, lighten(colour, 0.35));
                    } else {
                        s.rect(xa, mid, xb, mid + hh, lighten(colour, 0.35));
                    }
                }
                _ => {
                    let yy = if up { mid - 8 } else { mid + 2 };
                    s.rect(xa, yy, xb, yy + 6, lighten(MUTED, 0.5));
                }
            }
        }
        let base = if up {
            top + LABEL.baseline_in_line()
        } else {
            bottom - LABEL.line_height() + LABEL.baseline_in_line()
        };
        s.text(px1, base, &arm.label, LABEL.bold(), colour, Align::Right);
    }
    s.hline(px0, px1 + 1, mid, 2, ZERO);
    let y = axis.draw_scale(&mut s, bottom + 4, lang);
    let x_lines = wrap(&c.x_label, AXIS_LABEL, f64::from(px1 - px0), 2);
    let y = s.lines(&x_lines, (px0 + px1) / 2, y, AXIS_LABEL, INK, Align::Center);
    s.height = footer(&mut s, &c.note, y);
    s
}
