//! The interrupted-time-series chart: the observed outcome per period as dots, the
//! fitted segments before and from the start as solid lines, the pre-period line
//! continued after the start (what the model projects without the intervention) as a
//! dashed line, and the start as a vertical line.
//!
//! As every chart here it computes nothing: the points, the fitted and projected
//! values and the texts come from the caller (from `stats::its`); this module places
//! them. Lines are drawn as short vertical strokes, one per pixel column, linearly
//! interpolated between the caller's points (the scene has rectangles, circles and text
//! only); the dashed line leaves out every other run of columns.

use super::axis::Axis;
use super::frame::{content_width, footer, header};
use super::scene::{Align, Scene};
use super::text::{format_number, wrap};
use super::theme::{
    AXIS, AXIS_LABEL, BLUE, GRID, INK, LABEL, MARGIN, MUTED, ORANGE, TICK, WHITE, WIDTH,
};
use super::{Lang, register_fonts};
use crate::error::Result;

/// An interrupted time series: observed points, fitted segments and the projection.
#[derive(Debug, Clone, PartialEq)]
pub struct ItsChart {
    pub title: String,
    /// E.g. the level and slope changes with their intervals.
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    /// (time, value) per period; periods withheld by disclosure control left out.
    pub observed: Vec<(f64, f64)>,
    /// The fitted line before the start and from the start, (time, value).
    pub fitted_pre: Vec<(f64, f64)>,
    pub fitted_post: Vec<(f64, f64)>,
    /// The pre-period line continued from the last period before the start.
    pub projected: Vec<(f64, f64)>,
    /// The first period of the intervention.
    pub start: f64,
    /// Legend words: observed, fitted, projected without the intervention, start.
    pub legend: [String; 4],
    pub note: String,
    pub lang: Lang,
}

/// The chart as an SVG document.
pub fn its_chart_svg(c: &ItsChart) -> Result<String> {
    register_fonts();
    scene(c).svg()
}

/// The chart as PNG file bytes, 1000 pixels wide.
pub fn its_chart_png(c: &ItsChart) -> Result<Vec<u8>> {
    register_fonts();
    scene(c).png()
}

/// Height of the plotting area in pixels.
const PLOT_H: i32 = 420;
/// Stroke width of the lines.
const LINE: i32 = 3;
/// Length of a dash (and of the gap after it) in pixel columns.
const DASH: i32 = 8;

fn finite(v: &[(f64, f64)]) -> Vec<(f64, f64)> {
    v.iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

pub(crate) fn scene(c: &ItsChart) -> Scene {
    let lang = c.lang;
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let observed = finite(&c.observed);
    let pre = finite(&c.fitted_pre);
    let post = finite(&c.fitted_post);
    let projected = finite(&c.projected);
    let all = || {
        observed
            .iter()
            .chain(&pre)
            .chain(&post)
            .chain(&projected)
            .copied()
    };
    let yaxis = Axis::fit_data(all().map(|p| p.1), 0, PLOT_H, lang);
    let widest = yaxis
        .ticks()
        .iter()
        .map(|&v| TICK.width(&yaxis.label(v, lang)))
        .fold(0.0, f64::max);
    let left = (widest + 14.0).ceil() as i32;
    let (px0, px1) = (MARGIN + left, WIDTH - MARGIN - 16);
    let xaxis = Axis::fit_data(all().map(|p| p.0).chain([c.start]), px0, px1, lang);

    // Legend: a sample of each mark with its word.
    let base = y + LABEL.baseline_in_line();
    let mid = y + LABEL.line_height() / 2;
    let mut x = MARGIN;
    for (i, word) in c.legend.iter().enumerate() {
        match i {
            0 => {
                s.circle(x + 8, mid, 5, INK);
            }
            1 => s.hline(x, x + 28, mid, LINE, BLUE),
            2 => {
                s.hline(x, x + DASH, mid, LINE, ORANGE);
                s.hline(x + 2 * DASH, x + 3 * DASH, mid, LINE, ORANGE);
            }
            _ => s.vline(x + 8, mid - 10, mid + 10, 2, MUTED),
        }
        let tx = x + 36;
        s.text(tx, base, word, LABEL, INK, Align::Left);
        x = tx + LABEL.width(word).ceil() as i32 + 28;
    }
    y += LABEL.line_height() + 8;

    let y_lines = wrap(&c.y_label, AXIS_LABEL, content_width(), 2);
    y = s.lines(&y_lines, MARGIN, y, AXIS_LABEL, INK, Align::Left) + 10;
    let (top, bottom) = (y, y + PLOT_H);
    let sy = |v: f64| bottom - yaxis.x(v);
    for v in yaxis.ticks() {
        let yy = sy(v);
        s.hline(px0, px1 + 1, yy, 1, GRID);
        s.text(
            px0 - 10,
            yy + 6,
            &yaxis.label(v, lang),
            TICK,
            MUTED,
            Align::Right,
        );
    }
    for v in xaxis.ticks() {
        s.vline(xaxis.x(v), top, bottom, 1, GRID);
    }
    // The start, labelled at the top of the plot.
    let xs = xaxis.x(c.start);
    s.vline(xs, top, bottom, 2, MUTED);
    s.text(
        xs + 6,
        top + TICK.baseline_in_line(),
        &c.legend[3],
        TICK,
        MUTED,
        Align::Left,
    );

    let column_value = |pts: &[(f64, f64)], x: i32| {
        value_at(
            pts,
            xaxis.lo + (xaxis.hi - xaxis.lo) * f64::from(x - px0) / f64::from(px1 - px0),
        )
    };
    let stroke = |s: &mut Scene, pts: &[(f64, f64)], color, dashed: bool| {
        let mut prev: Option<i32> = None;
        for x in px0..=px1 {
            let Some(v) = column_value(pts, x) else {
                prev = None;
                continue;
            };
            let yy = sy(v);
            let (a, b) = match prev {
                Some(p) => (p.min(yy), p.max(yy)),
                None => (yy, yy),
            };
            prev = Some(yy);
            if dashed && ((x - px0) / DASH) % 2 == 1 {
                continue;
            }
            s.vline(x, a - LINE / 2, b + LINE / 2 + 1, LINE, color);
        }
    };
    stroke(&mut s, &projected, ORANGE, true);
    stroke(&mut s, &pre, BLUE, false);
    stroke(&mut s, &post, BLUE, false);
    for &(t, v) in &observed {
        let (cx, cy) = (xaxis.x(t), sy(v));
        s.circle(cx, cy, 5, WHITE);
        s.circle(cx, cy, 4, INK);
    }
    s.vline(px0, top, bottom + 1, 1, AXIS);
    y = xaxis.draw_scale(&mut s, bottom, lang);
    let x_lines = wrap(&c.x_label, AXIS_LABEL, f64::from(px1 - px0), 2);
    y = s.lines(
        &x_lines,
        (px0 + px1) / 2,
        y + 2,
        AXIS_LABEL,
        INK,
        Align::Center,
    );
    s.height = footer(&mut s, &c.note, y + 4);
    s
}

/// The line at `x` by linear interpolation between neighbouring points; `None` outside
/// the points' range. A single point is drawn only in its own column's range.
fn value_at(pts: &[(f64, f64)], x: f64) -> Option<f64> {
    if let [(x0, y0)] = pts {
        return ((x - x0).abs() < f64::EPSILON * x0.abs().max(1.0)).then_some(*y0);
    }
    let i = pts.windows(2).position(|w| w[0].0 <= x && x <= w[1].0)?;
    let ((x0, y0), (x1, y1)) = (pts[i], pts[i + 1]);
    Some(if x1 > x0 {
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    } else {
        y0
    })
}

/// A number for the chart's subtitle: about three significant digits.
pub fn chart_number(v: f64, lang: Lang) -> String {
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
