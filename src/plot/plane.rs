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
use super::frame::{footer, header};
use super::scene::{Align, Scene};
use super::text::wrap;
use super::theme::{BLUE, INK, LABEL, MARGIN, MUTED, SKY, TICK, VERMILLION, WIDTH, ZERO};
use super::xy::{Plot, value_label_room, y_label_above};

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
    let (px0, px1) = (
        MARGIN + value_label_room(&yaxis, c.lang),
        WIDTH - MARGIN - 16,
    );
    let xaxis = Axis::fit(
        pts.iter().map(|p| p.0).chain(est.map(|e| e.0)),
        px0,
        px1,
        c.lang,
        true,
    );
    y = legend(&mut s, c, est.is_some(), !pts.is_empty(), y);
    let top = y_label_above(&mut s, &c.y_label, y);
    let plot = Plot {
        xaxis,
        yaxis,
        top,
        bottom: top + PLOT_H,
    };
    plot.draw_grid(&mut s, c.lang);
    quadrant_names(&mut s, &plot, &c.quadrants);
    // The cloud, then the axes through zero, the line and the estimate on top.
    for &(e, k) in &pts {
        let (x, yy) = (plot.xaxis.x(e), plot.sy(k));
        s.tint(x - 2, yy - 2, x + 3, yy + 3, SKY, 0.35);
    }
    s.hline(px0, px1 + 1, plot.sy(0.0), 2, ZERO);
    s.vline(plot.xaxis.x(0.0), plot.top, plot.bottom, 2, ZERO);
    if let Some(m) = c.slope.filter(|m| m.is_finite()) {
        dashed_line(&mut s, &plot, m);
    }
    if let Some((e, k)) = est {
        s.circle(plot.xaxis.x(e), plot.sy(k), 8, INK);
        s.circle(plot.xaxis.x(e), plot.sy(k), 5, BLUE);
    }
    y = plot.draw_bottom_axis(&mut s, &c.x_label, c.lang);
    s.height = footer(&mut s, &c.note, y + 4);
    s
}

/// The legend from `y`: the estimate and the replicates when there are any, and the
/// line when it has a slope (its text wraps to two lines at most). Returns the y below
/// it.
fn legend(s: &mut Scene, c: &CePlaneChart, has_estimate: bool, has_points: bool, y: i32) -> i32 {
    let mut y = y;
    let mut lx = MARGIN;
    let ly = y + 4;
    if has_estimate {
        s.circle(lx + 7, ly + 8, 7, INK);
        s.text(lx + 20, ly + 15, &c.legend[0], LABEL, INK, Align::Left);
        lx += 40 + LABEL.width(&c.legend[0]).ceil() as i32;
    }
    if has_points {
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
    y + 34
}

/// The quadrant names in the corners of the plot: north-east, north-west, south-west,
/// south-east.
fn quadrant_names(s: &mut Scene, plot: &Plot, names: &[String; 4]) {
    let (qx0, qx1) = (plot.xaxis.x0 + 8, plot.xaxis.x1 - 8);
    let (qy0, qy1) = (plot.top + 20, plot.bottom - 10);
    s.text(qx1, qy0, &names[0], TICK, MUTED, Align::Right);
    s.text(qx0, qy0, &names[1], TICK, MUTED, Align::Left);
    s.text(qx0, qy1, &names[2], TICK, MUTED, Align::Left);
    s.text(qx1, qy1, &names[3], TICK, MUTED, Align::Right);
}

/// The dashed line through the origin with slope `m`: dashes of 8 pixels every 16
/// along the line, within the plot.
fn dashed_line(s: &mut Scene, plot: &Plot, m: f64) {
    let (xaxis, yaxis) = (&plot.xaxis, &plot.yaxis);
    let (mut last, mut run) = (None::<(f64, f64)>, 0.0);
    let steps = 2000;
    for i in 0..=steps {
        let v = xaxis.lo + (xaxis.hi - xaxis.lo) * f64::from(i) / f64::from(steps);
        let w = m * v;
        if w < yaxis.lo || w > yaxis.hi {
            last = None;
            continue;
        }
        let p = (f64::from(xaxis.x(v)), f64::from(plot.sy(w)));
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
