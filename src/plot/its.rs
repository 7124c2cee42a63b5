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

use plotters::style::RGBColor;

use super::axis::Axis;
use super::frame::{footer, header};
use super::scene::{Align, Scene};
use super::theme::{BLUE, INK, LABEL, MARGIN, MUTED, ORANGE, TICK, WHITE, WIDTH};
use super::xy::{Plot, value_label_room, y_label_above};
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

/// The fitted and projected lines of an [`ItsChart`], split at the start.
pub struct ItsLines {
    pub fitted_pre: Vec<(f64, f64)>,
    pub fitted_post: Vec<(f64, f64)>,
    pub projected: Vec<(f64, f64)>,
}

impl ItsLines {
    /// From (time, fitted, projected without the intervention) per period: the fitted
    /// line before `start` and from it, and the projection from `start` on, continued
    /// from the last fitted period before the start.
    pub fn split(points: &[(f64, f64, f64)], start: f64) -> Self {
        let fitted_pre: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.0 < start)
            .map(|p| (p.0, p.1))
            .collect();
        let from_start = || points.iter().filter(|p| p.0 >= start);
        let fitted_post = from_start().map(|p| (p.0, p.1)).collect();
        let projected = fitted_pre
            .last()
            .copied()
            .into_iter()
            .chain(from_start().map(|p| (p.0, p.2)))
            .collect();
        Self {
            fitted_pre,
            fitted_post,
            projected,
        }
    }
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
    let lines = Lines::new(c);
    let yaxis = Axis::fit_data(lines.points().map(|p| p.1), 0, PLOT_H, lang);
    let (px0, px1) = (MARGIN + value_label_room(&yaxis, lang), WIDTH - MARGIN - 16);
    let xaxis = Axis::fit_data(lines.points().map(|p| p.0).chain([c.start]), px0, px1, lang);
    y = legend(&mut s, &c.legend, y);
    let top = y_label_above(&mut s, &c.y_label, y);
    let plot = Plot {
        xaxis,
        yaxis,
        top,
        bottom: top + PLOT_H,
    };
    plot.draw_grid(&mut s, lang);
    draw_start(&mut s, &plot, c.start, &c.legend[3]);
    stroke(&mut s, &plot, &lines.projected, ORANGE, true);
    stroke(&mut s, &plot, &lines.pre, BLUE, false);
    stroke(&mut s, &plot, &lines.post, BLUE, false);
    for &(t, v) in &lines.observed {
        let (cx, cy) = (plot.xaxis.x(t), plot.sy(v));
        s.circle(cx, cy, 5, WHITE);
        s.circle(cx, cy, 4, INK);
    }
    y = plot.draw_bottom_axis(&mut s, &c.x_label, lang);
    s.height = footer(&mut s, &c.note, y + 4);
    s
}

/// The chart's four series, each without its non-finite points.
struct Lines {
    observed: Vec<(f64, f64)>,
    pre: Vec<(f64, f64)>,
    post: Vec<(f64, f64)>,
    projected: Vec<(f64, f64)>,
}

impl Lines {
    /// The chart's series with their non-finite points left out.
    fn new(c: &ItsChart) -> Self {
        Self {
            observed: finite(&c.observed),
            pre: finite(&c.fitted_pre),
            post: finite(&c.fitted_post),
            projected: finite(&c.projected),
        }
    }

    /// Every point of the four series, for fitting the axes.
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.observed
            .iter()
            .chain(&self.pre)
            .chain(&self.post)
            .chain(&self.projected)
            .copied()
    }
}

/// The legend on the line at `y`: a sample of each mark with its word (observed,
/// fitted, projected, start). Returns the y below it.
fn legend(s: &mut Scene, words: &[String; 4], y: i32) -> i32 {
    let base = y + LABEL.baseline_in_line();
    let mid = y + LABEL.line_height() / 2;
    let mut x = MARGIN;
    for (i, word) in words.iter().enumerate() {
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
    y + LABEL.line_height() + 8
}

/// The start as a vertical line through the plot, labelled with `word` at its top.
fn draw_start(s: &mut Scene, plot: &Plot, start: f64, word: &str) {
    let xs = plot.xaxis.x(start);
    s.vline(xs, plot.top, plot.bottom, 2, MUTED);
    s.text(
        xs + 6,
        plot.top + TICK.baseline_in_line(),
        word,
        TICK,
        MUTED,
        Align::Left,
    );
}

/// The line through `pts`: for each pixel column of the plot, a vertical stroke from
/// the previous column's height to this one's; `dashed` leaves out every other run of
/// `DASH` columns.
fn stroke(s: &mut Scene, plot: &Plot, pts: &[(f64, f64)], color: RGBColor, dashed: bool) {
    let (px0, px1) = (plot.xaxis.x0, plot.xaxis.x1);
    let (lo, hi) = (plot.xaxis.lo, plot.xaxis.hi);
    let mut prev: Option<i32> = None;
    for x in px0..=px1 {
        let Some(v) = value_at(
            pts,
            lo + (hi - lo) * f64::from(x - px0) / f64::from(px1 - px0),
        ) else {
            prev = None;
            continue;
        };
        let yy = plot.sy(v);
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
