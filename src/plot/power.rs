//! The power curve: power (0–100%) against the total sample size, with the target
//! power as a dashed-free horizontal reference and the result as a dot.
//!
//! As every chart here it computes nothing: the caller passes the curve's points, the
//! result and the texts in the chart's language. The curve is drawn as a polyline of
//! short vertical strokes, one per pixel column (the scene has rectangles, circles and
//! text only), linearly interpolated between the caller's points.

use super::PowerChart;
use super::axis::Axis;
use super::frame::{footer, header};
use super::scene::{Align, Scene};
use super::text::format_number;
use super::theme::{AXIS, BLUE, GRID, INK, MARGIN, MUTED, TICK, VERMILLION, WIDTH};
use super::xy::{axis_label_below, y_label_above};

/// Height of the plotting area in pixels.
const PLOT_H: i32 = 420;
/// Stroke width of the curve.
const LINE: i32 = 3;

pub(crate) fn scene(c: &PowerChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let left = (TICK.width("100%") + 14.0).ceil() as i32;
    let (px0, px1) = (MARGIN + left, WIDTH - MARGIN - 16);
    let pts: Vec<(f64, f64)> = c
        .curve
        .iter()
        .copied()
        .filter(|(x, p)| x.is_finite() && p.is_finite())
        .collect();
    let axis = Axis::fit(
        pts.iter().map(|p| p.0).chain([c.marker.0]),
        px0,
        px1,
        c.lang,
        false,
    );

    y = y_label_above(&mut s, &c.y_label, y);
    let (top, bottom) = (y, y + PLOT_H);
    let sy = |v: f64| bottom - (v.clamp(0.0, 1.0) * f64::from(PLOT_H)).round() as i32;
    for k in 0..=5 {
        let v = f64::from(k) / 5.0;
        let yy = sy(v);
        s.hline(px0, px1 + 1, yy, 1, GRID);
        let label = format!("{}%", format_number(100.0 * v, 0, c.lang));
        s.text(px0 - 10, yy + 6, &label, TICK, MUTED, Align::Right);
    }
    for v in axis.ticks() {
        s.vline(axis.x(v), top, bottom, 1, GRID);
    }
    if let Some(t) = c.target.filter(|t| t.is_finite()) {
        s.hline(px0, px1 + 1, sy(t), 2, VERMILLION);
    }
    // The curve: for each pixel column, a vertical stroke from the previous column's
    // height to this one's.
    let mut prev: Option<i32> = None;
    for x in px0..=px1 {
        let v = value_at(
            &pts,
            axis.lo + (axis.hi - axis.lo) * f64::from(x - px0) / f64::from(px1 - px0),
        );
        let Some(v) = v else {
            prev = None;
            continue;
        };
        let yy = sy(v);
        let (a, b) = match prev {
            Some(p) => (p.min(yy), p.max(yy)),
            None => (yy, yy),
        };
        s.vline(x, a - LINE / 2, b + LINE / 2 + 1, LINE, BLUE);
        prev = Some(yy);
    }
    if c.marker.0.is_finite() && c.marker.1.is_finite() {
        s.circle(axis.x(c.marker.0), sy(c.marker.1), 7, INK);
    }
    s.vline(px0, top, bottom + 1, 1, AXIS);
    y = axis.draw_scale(&mut s, bottom, c.lang);
    y = axis_label_below(&mut s, &c.x_label, (px0, px1), y);
    s.height = footer(&mut s, &c.note, y + 4);
    s
}

/// The curve at `x` by linear interpolation between neighbouring points; `None`
/// outside the points' range.
fn value_at(pts: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = pts.windows(2).position(|w| w[0].0 <= x && x <= w[1].0)?;
    let ((x0, y0), (x1, y1)) = (pts[i], pts[i + 1]);
    Some(if x1 > x0 {
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    } else {
        y0
    })
}
