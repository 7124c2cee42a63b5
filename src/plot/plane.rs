//! The cost-effectiveness plane: incremental effect across, incremental cost up, the
//! bootstrap replicates as a light cloud, the estimate as a dot, the axes through zero
//! (the four quadrants named in their corners) and a dashed line through the origin for
//! a stated value of one extra unit of effect: points below it are worth that value.
//!
//! As every chart here it computes nothing: the caller passes the points in display
//! units, the line's slope in cost per display unit of effect, and the texts in the
//! chart's language. The scene has rectangles, circles and text only, so the cloud is
//! drawn as small translucent squares and the dashed line as short squares along it.

use super::CePlaneChart;
use super::axis::Axis;
use super::frame::{content_width, footer, header};
use super::scene::{Align, Scene};
use super::text::wrap;
use super::theme::{
    AXIS, AXIS_LABEL, BLUE, GRID, INK, LABEL, MARGIN, MUTED, SKY, TICK, VERMILLION, WIDTH, ZERO,
};

/// Height of the plotting area in pixels.
const PLOT_H: i32 = 520;

pub(crate) fn scene(c: &CePlaneChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let pts: Vec<(f64, f64)> = c.points.iter().filter(finite).copied().collect();
    let est = Some(&c.estimate).filter(finite).copied();
    // The vertical axis first: its widest tick label sets the left margin.
    let yaxis = Axis::fit(
        pts.iter().map(|p| p.1).chain(est.map(|e| e.1)),
        0,
        PLOT_H,
        c.lang,
        true,
    );
    let widest = yaxis
        .ticks()
        .iter()
        .map(|&v| TICK.width(&yaxis.label(v, c.lang)))
        .fold(0.0, f64::max);
    let (px0, px1) = (MARGIN + (widest + 14.0).ceil() as i32, WIDTH - MARGIN - 16);
    let xaxis = Axis::fit(
        pts.iter().map(|p| p.0).chain(est.map(|e| e.0)),
        px0,
        px1,
        c.lang,
        true,
    );

    // Legend: what the marks are.
    let mut lx = MARGIN;
    let ly = y + 4;
    if est.is_some() {
        s.circle(lx + 7, ly + 8, 7, INK);
        s.text(lx + 20, ly + 15, &c.legend[0], LABEL, INK, Align::Left);
        lx += 40 + LABEL.width(&c.legend[0]).ceil() as i32;
    }
    if !pts.is_empty() {
        s.tint(lx, ly + 3, lx + 12, ly + 15, SKY, 0.6);
        s.text(lx + 20, ly + 15, &c.legend[1], LABEL, INK, Align::Left);
        lx += 40 + LABEL.width(&c.legend[1]).ceil() as i32;
    }
    if c.slope.is_some_and(f64::is_finite) {
        for k in 0..3 {
            s.rect(lx + 8 * k, ly + 8, lx + 8 * k + 5, ly + 11, VERMILLION);
        }
        let room = f64::from(WIDTH - MARGIN - lx - 30);
        let lines = wrap(&c.legend[2], LABEL, room, 2);
        s.lines(&lines, lx + 30, ly - 3, LABEL, INK, Align::Left);
        y += 24 * (lines.len().max(1) as i32 - 1);
    }
    y += 34;
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
            &yaxis.label(v, c.lang),
            TICK,
            MUTED,
            Align::Right,
        );
    }
    for v in xaxis.ticks() {
        s.vline(xaxis.x(v), top, bottom, 1, GRID);
    }
    // Quadrant names in the corners: NE, NW, SW, SE.
    let (qx0, qx1, qy0, qy1) = (px0 + 8, px1 - 8, top + 20, bottom - 10);
    s.text(qx1, qy0, &c.quadrants[0], TICK, MUTED, Align::Right);
    s.text(qx0, qy0, &c.quadrants[1], TICK, MUTED, Align::Left);
    s.text(qx0, qy1, &c.quadrants[2], TICK, MUTED, Align::Left);
    s.text(qx1, qy1, &c.quadrants[3], TICK, MUTED, Align::Right);
    // The cloud, then the axes through zero, the line and the estimate on top.
    for &(e, k) in &pts {
        let (x, yy) = (xaxis.x(e), sy(k));
        s.tint(x - 2, yy - 2, x + 3, yy + 3, SKY, 0.35);
    }
    s.hline(px0, px1 + 1, sy(0.0), 2, ZERO);
    s.vline(xaxis.x(0.0), top, bottom, 2, ZERO);
    if let Some(m) = c.slope.filter(|m| m.is_finite()) {
        // Dashes of 8 pixels every 16 along the line, within the plot.
        let (mut last, mut run) = (None::<(f64, f64)>, 0.0);
        let steps = 2000;
        for i in 0..=steps {
            let v = xaxis.lo + (xaxis.hi - xaxis.lo) * f64::from(i) / f64::from(steps);
            let w = m * v;
            if w < yaxis.lo || w > yaxis.hi {
                last = None;
                continue;
            }
            let p = (f64::from(xaxis.x(v)), f64::from(sy(w)));
            if let Some(q) = last {
                run += ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
            }
            last = Some(p);
            if run % 16.0 < 8.0 {
                let (x, yy) = (p.0 as i32, p.1 as i32);
                s.rect(x - 1, yy - 1, x + 2, yy + 2, VERMILLION);
            }
        }
    }
    if let Some((e, k)) = est {
        s.circle(xaxis.x(e), sy(k), 8, INK);
        s.circle(xaxis.x(e), sy(k), 5, BLUE);
    }
    s.vline(px0, top, bottom + 1, 1, AXIS);
    y = xaxis.draw_scale(&mut s, bottom, c.lang);
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
