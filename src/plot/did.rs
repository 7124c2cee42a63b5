//! The charts of a difference-in-differences analysis: the event-study plot
//! (coefficients with intervals by period relative to the start, the zero line, the
//! reference period marked, the pre-period shaded), the outcome means by cohort over
//! calendar time (the picture of parallel trends), and the group-time effects ATT(g,t)
//! as small multiples (a panel per cohort).
//!
//! As every renderer here it computes nothing: the caller passes the estimates, limits
//! and means (withheld ones as NaN with `suppressed`), and the texts in the chart's
//! language.

use super::axis::Axis;
use super::frame::{footer, header};
use super::scene::{Align, Scene};
use super::text::{Words, format_number, words};
use super::theme::{
    ARM_COLOURS, AXIS, AXIS_LABEL, BAND, BLUE, GRID, INK, LABEL, MARGIN, MUTED, PANEL_TITLE, TICK,
    VERMILLION, WIDTH, ZERO,
};
use super::{EventStudyChart, GroupTimeChart, GroupTimePanel, GroupTimePoint, Lang, TrendChart};

/// Height of the plotting area.
const PLOT_H: i32 = 440;
/// Space left of the plot for the value labels.
const Y_LABELS: i32 = 90;

/// A value axis running up the page: `lo` at pixel row `bottom`, `hi` at `top`.
fn value_axis(values: impl IntoIterator<Item = f64>, top: i32, bottom: i32, lang: Lang) -> Axis {
    // Axis::fit lays out a horizontal axis over 0..height; `vy` turns its columns into
    // rows counted up from `bottom`.
    Axis::fit(values, 0, bottom - top, lang, true)
}

/// Pixel row of `v` on a value axis from [`value_axis`].
fn vy(a: &Axis, bottom: i32, v: f64) -> i32 {
    bottom - a.x(v)
}

/// Gridlines and labels of the value axis; the zero line darker.
fn draw_value_axis(s: &mut Scene, a: &Axis, bottom: i32, left: i32, right: i32, lang: Lang) {
    for v in a.ticks() {
        let y = vy(a, bottom, v);
        s.hline(left, right, y, 1, GRID);
        s.text(
            left - 8,
            y + TICK.baseline_in_line() / 2 - 2,
            &a.label(v, lang),
            TICK,
            MUTED,
            Align::Right,
        );
    }
    s.hline(left, right, vy(a, bottom, 0.0), 2, ZERO);
}

/// The x label under the plot and the y label above the plot; returns the y below.
fn axis_labels(
    s: &mut Scene,
    x_label: &str,
    y_label: &str,
    top: i32,
    bottom: i32,
    left: i32,
    right: i32,
) -> i32 {
    s.text(left, top - 12, y_label, AXIS_LABEL, MUTED, Align::Left);
    let y = bottom + 10 + TICK.line_height() + 6;
    s.text(
        (left + right) / 2,
        y + AXIS_LABEL.baseline_in_line(),
        x_label,
        AXIS_LABEL,
        INK,
        Align::Center,
    );
    y + AXIS_LABEL.line_height()
}

/// Pixel column of a period among `lo..=hi`, evenly spaced.
fn period_x(t: i64, lo: i64, hi: i64, left: i32, right: i32) -> i32 {
    let span = (hi - lo).max(1) as f64;
    let pad = (f64::from(right - left) / (span + 1.0)) / 2.0;
    let w = f64::from(right - left) - 2.0 * pad;
    (f64::from(left) + pad + (t - lo) as f64 / span * w).round() as i32
}

/// Period labels under the plot, thinned so they do not crowd.
fn period_ticks(
    s: &mut Scene,
    (lo, hi): (i64, i64),
    left: i32,
    right: i32,
    bottom: i32,
    mark: Option<(i64, &str)>,
) {
    let n = (hi - lo + 1).max(1);
    let every = ((n as f64 * 60.0) / f64::from(right - left))
        .ceil()
        .max(1.0) as i64;
    s.hline(left, right + 1, bottom, 1, AXIS);
    for t in lo..=hi {
        let x = period_x(t, lo, hi, left, right);
        s.vline(x, bottom, bottom + 6, 1, AXIS);
        match mark {
            Some((m, word)) if m == t => s.text(
                x,
                bottom + 10 + TICK.baseline_in_line(),
                &format!("{t} ({word})"),
                TICK,
                INK,
                Align::Center,
            ),
            _ if (t - lo) % every == 0 => s.text(
                x,
                bottom + 10 + TICK.baseline_in_line(),
                &t.to_string(),
                TICK,
                MUTED,
                Align::Center,
            ),
            _ => {}
        }
    }
}

pub(crate) fn event_scene(c: &EventStudyChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let top = header(&mut s, &c.title, &c.subtitle) + 20;
    let bottom = top + PLOT_H;
    let left = MARGIN + Y_LABELS;
    let right = WIDTH - MARGIN;
    let mut lo = c.reference;
    let mut hi = c.reference;
    for p in c.points.iter().chain(&c.robust) {
        lo = lo.min(p.event_time);
        hi = hi.max(p.event_time);
    }
    let values = c
        .points
        .iter()
        .chain(&c.robust)
        .filter(|p| !p.suppressed)
        .flat_map(|p| [p.estimate, p.ci_low, p.ci_high]);
    let a = value_axis(values, top, bottom, c.lang);
    // Pre-period shaded: from the left edge to halfway between −1 and 0.
    if lo < 0 {
        let x_end = (period_x(-1, lo, hi, left, right) + period_x(0, lo, hi, left, right)) / 2;
        s.rect(left, top, x_end.min(right), bottom, BAND);
        let pre = if c.lang == Lang::Nl {
            "vóór de start"
        } else {
            "before the start"
        };
        s.text(
            left + 6,
            top + LABEL.baseline_in_line(),
            pre,
            LABEL,
            MUTED,
            Align::Left,
        );
    }
    draw_value_axis(&mut s, &a, bottom, left, right, c.lang);
    let w = words(c.lang);
    // With two series each is moved a little to its side of the period.
    let shift = if c.robust.is_empty() { 0 } else { 9 };
    for (series, dx, colour) in [(&c.points, -shift, BLUE), (&c.robust, shift, VERMILLION)] {
        for p in series {
            let x = period_x(p.event_time, lo, hi, left, right) + dx;
            if p.suppressed
                || !(p.estimate.is_finite() && p.ci_low.is_finite() && p.ci_high.is_finite())
            {
                let t = if p.suppressed {
                    w.suppressed
                } else {
                    w.not_estimable
                };
                s.text(x, vy(&a, bottom, 0.0) - 10, t, TICK, MUTED, Align::Center);
                continue;
            }
            s.vline(
                x,
                vy(&a, bottom, p.ci_high),
                vy(&a, bottom, p.ci_low),
                3,
                colour,
            );
            s.hline(x - 5, x + 6, vy(&a, bottom, p.ci_high), 2, colour);
            s.hline(x - 5, x + 6, vy(&a, bottom, p.ci_low), 2, colour);
            s.circle(x, vy(&a, bottom, p.estimate), 6, colour);
        }
    }
    // The reference period: a hollow marker on the zero line (on the first series'
    // side); its tick label says so.
    let xr = period_x(c.reference, lo, hi, left, right) - shift;
    s.circle(xr, vy(&a, bottom, 0.0), 8, INK);
    s.circle(xr, vy(&a, bottom, 0.0), 5, super::theme::WHITE);
    let rl = if c.lang == Lang::Nl {
        "referentie"
    } else {
        "reference"
    };
    period_ticks(
        &mut s,
        (lo, hi),
        left,
        right,
        bottom,
        Some((c.reference, rl)),
    );
    let mut y = axis_labels(&mut s, &c.x_label, &c.y_label, top, bottom, left, right);
    if !c.robust.is_empty() {
        for (label, colour) in [(&c.series_labels.0, BLUE), (&c.series_labels.1, VERMILLION)] {
            y += 6;
            s.circle(left + 8, y + LABEL.line_height() / 2, 6, colour);
            s.text(
                left + 22,
                y + LABEL.baseline_in_line(),
                label,
                LABEL,
                INK,
                Align::Left,
            );
            y += LABEL.line_height();
        }
    }
    let h = footer(&mut s, &c.note, y + 6);
    s.height = h;
    s
}

/// A straight segment drawn as closely spaced dots (the scene has no diagonal line).
fn segment(
    s: &mut Scene,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: plotters::style::RGBColor,
) {
    let len = f64::from((x1 - x0).pow(2) + (y1 - y0).pow(2)).sqrt();
    let steps = (len / 1.5).ceil().max(1.0) as i32;
    for k in 0..=steps {
        let t = f64::from(k) / f64::from(steps);
        let x = f64::from(x0) + t * f64::from(x1 - x0);
        let y = f64::from(y0) + t * f64::from(y1 - y0);
        s.circle(x.round() as i32, y.round() as i32, 2, color);
    }
}

pub(crate) fn trend_scene(c: &TrendChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let top = header(&mut s, &c.title, &c.subtitle) + 20;
    let bottom = top + PLOT_H;
    let left = MARGIN + Y_LABELS;
    let right = WIDTH - MARGIN - 170;
    let all: Vec<&(i64, f64)> = c.series.iter().flat_map(|s| s.points.iter()).collect();
    let lo = all.iter().map(|p| p.0).min().unwrap_or(0);
    let hi = all.iter().map(|p| p.0).max().unwrap_or(1);
    let finite: Vec<f64> = all.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
    // Means need not include zero: fit the axis to the data's own range.
    let (mn, mx) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (mn, mx) = if mn.is_finite() { (mn, mx) } else { (0.0, 1.0) };
    let shift = if mn > 0.0 {
        mn
    } else if mx < 0.0 {
        mx
    } else {
        0.0
    };
    let mut a = value_axis(finite.iter().map(|v| v - shift), top, bottom, c.lang);
    // The shift a whole number of steps, so that tick + shift is the value its label
    // shows (a shift of 7.49 with whole-number labels drew "7" at 7.49).
    let mut shift = shift;
    for _ in 0..3 {
        let snapped = (shift / a.step).floor() * a.step;
        if snapped == shift {
            break;
        }
        shift = snapped;
        a = value_axis(finite.iter().map(|v| v - shift), top, bottom, c.lang);
    }
    for v in a.ticks() {
        let y = vy(&a, bottom, v);
        s.hline(left, right, y, 1, GRID);
        let label = format_number(v + shift, a.decimals, c.lang);
        s.text(
            left - 8,
            y + TICK.baseline_in_line() / 2 - 2,
            &label,
            TICK,
            MUTED,
            Align::Right,
        );
    }
    let mut legend_y = top + 10;
    for (k, ser) in c.series.iter().enumerate() {
        let col = if ser.start.is_none() {
            ZERO
        } else {
            ARM_COLOURS[k % ARM_COLOURS.len()]
        };
        if let Some(g) = ser.start.filter(|g| (lo..=hi).contains(g)) {
            // The cohort's start: a short tick at the top in its colour.
            let x = period_x(g, lo, hi, left, right);
            s.vline(x, top, top + 14, 3, col);
        }
        let pts: Vec<(i32, i32)> = ser
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(t, v)| (period_x(t, lo, hi, left, right), vy(&a, bottom, v - shift)))
            .collect();
        for w in pts.windows(2) {
            segment(&mut s, w[0], w[1], col);
        }
        for &(x, y) in &pts {
            s.circle(x, y, 6, col);
        }
        s.hline(right + 16, right + 40, legend_y + 8, 4, col);
        s.text(
            right + 48,
            legend_y + LABEL.baseline_in_line() - 4,
            &ser.label,
            LABEL,
            INK,
            Align::Left,
        );
        legend_y += LABEL.line_height() + 6;
    }
    period_ticks(&mut s, (lo, hi), left, right, bottom, None);
    let y = axis_labels(&mut s, &c.x_label, &c.y_label, top, bottom, left, right);
    let h = footer(&mut s, &c.note, y + 6);
    s.height = h;
    s
}

/// Height of one panel's plotting area in the group-time chart.
const GT_PANEL_H: i32 = 230;
/// Space left of each panel for its value labels.
const GT_LABELS: i32 = 70;

pub(crate) fn group_time_scene(c: &GroupTimeChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let w = words(c.lang);
    y = group_time_legend(&mut s, c, y);
    s.text(
        MARGIN,
        y + AXIS_LABEL.baseline_in_line(),
        &c.y_label,
        AXIS_LABEL,
        MUTED,
        Align::Left,
    );
    y += AXIS_LABEL.line_height() + 10;
    let grid = PanelGrid::new(c, y);
    for (k, panel) in c.panels.iter().enumerate() {
        grid.draw_panel(&mut s, k, panel, &w, c.lang);
    }
    let mut y = grid.bottom(c.panels.len());
    s.text(
        (MARGIN + WIDTH - MARGIN) / 2,
        y + AXIS_LABEL.baseline_in_line(),
        &c.x_label,
        AXIS_LABEL,
        INK,
        Align::Center,
    );
    y += AXIS_LABEL.line_height();
    let h = footer(&mut s, &c.note, y + 6);
    s.height = h;
    s
}

/// The legend of the group-time chart on the line at `y`: the interval, and the
/// uniform band when a point has one. Returns the y below it.
fn group_time_legend(s: &mut Scene, c: &GroupTimeChart, y: i32) -> i32 {
    let has_band = c
        .panels
        .iter()
        .flat_map(|p| &p.points)
        .any(|p| p.band.is_some());
    let mut x = MARGIN;
    s.vline(x + 6, y + 2, y + LABEL.line_height() - 2, 3, BLUE);
    s.circle(x + 6, y + LABEL.line_height() / 2, 5, BLUE);
    s.text(
        x + 20,
        y + LABEL.baseline_in_line(),
        &c.legend.0,
        LABEL,
        INK,
        Align::Left,
    );
    x += 40 + LABEL.width(&c.legend.0).ceil() as i32;
    if has_band {
        s.tint(x, y + 2, x + 12, y + LABEL.line_height() - 2, BLUE, 0.22);
        s.text(
            x + 20,
            y + LABEL.baseline_in_line(),
            &c.legend.1,
            LABEL,
            INK,
            Align::Left,
        );
    }
    y + LABEL.line_height() + 8
}

/// The small multiples of the group-time chart: one or two columns of panels from
/// `top` down, all on the same periods and the same value axis.
struct PanelGrid {
    /// First and last period of all panels.
    periods: (i64, i64),
    /// The value axis over a panel's plot height (see [`value_axis`]).
    axis: Axis,
    cols: i32,
    col_w: i32,
    /// Height of a panel with its title and period labels.
    panel_h: i32,
    top: i32,
}

impl PanelGrid {
    /// The grid from `top`: the periods and the values of every panel set the axes,
    /// two columns when there is more than one panel.
    fn new(c: &GroupTimeChart, top: i32) -> Self {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for p in c.panels.iter().flat_map(|p| &p.points) {
            lo = lo.min(p.time);
            hi = hi.max(p.time);
        }
        if lo > hi {
            (lo, hi) = (0, 1);
        }
        // Every panel on the same value axis.
        let values: Vec<f64> = c
            .panels
            .iter()
            .flat_map(|p| &p.points)
            .filter(|p| !p.suppressed)
            .flat_map(|p| {
                let (a, b) = p.band.unwrap_or((p.ci_low, p.ci_high));
                [p.estimate, p.ci_low, p.ci_high, a, b]
            })
            .filter(|v| v.is_finite())
            .collect();
        let cols = if c.panels.len() > 1 { 2 } else { 1 };
        Self {
            periods: (lo, hi),
            axis: value_axis(values.iter().copied(), 0, GT_PANEL_H, c.lang),
            cols,
            col_w: (WIDTH - 2 * MARGIN - (cols - 1) * 24) / cols,
            panel_h: PANEL_TITLE.line_height() + 8 + GT_PANEL_H + 10 + TICK.line_height() + 16,
            top,
        }
    }

    /// The y below the last row of `n` panels.
    fn bottom(&self, n: usize) -> i32 {
        let rows = (n as i32 + self.cols - 1) / self.cols;
        self.top + rows * self.panel_h
    }

    /// Panel `k` (row by row): its title, the periods before the cohort's start
    /// shaded, the value axis, the effects and the period labels.
    fn draw_panel(&self, s: &mut Scene, k: usize, panel: &GroupTimePanel, w: &Words, lang: Lang) {
        let (r, col) = (k as i32 / self.cols, k as i32 % self.cols);
        let x0 = MARGIN + col * (self.col_w + 24);
        let y0 = self.top + r * self.panel_h;
        s.text(
            x0,
            y0 + PANEL_TITLE.baseline_in_line(),
            &panel.title,
            PANEL_TITLE,
            INK,
            Align::Left,
        );
        let top = y0 + PANEL_TITLE.line_height() + 8;
        let bottom = top + GT_PANEL_H;
        let left = x0 + GT_LABELS;
        let right = x0 + self.col_w;
        let (lo, hi) = self.periods;
        // Periods before the cohort's start shaded, the start marked.
        if panel.group > lo {
            let xs = (period_x(panel.group - 1, lo, hi, left, right)
                + period_x(panel.group.min(hi + 1), lo, hi, left, right))
                / 2;
            s.rect(left, top, xs.min(right), bottom, BAND);
            s.vline(xs.min(right), top, bottom, 2, MUTED);
        }
        draw_value_axis(s, &self.axis, bottom, left, right, lang);
        for p in &panel.points {
            let px = period_x(p.time, lo, hi, left, right);
            group_time_point(s, &self.axis, bottom, px, p, w);
        }
        period_ticks(
            s,
            (lo, hi),
            left,
            right,
            bottom,
            // "start" in Dutch and English alike.
            Some((panel.group, "start")),
        );
    }
}

/// One effect in column `px` of a panel whose plot ends at `bottom`: the uniform band
/// as a tint when there is one, the interval with end caps and the estimate; a word
/// when it is withheld or not estimable.
fn group_time_point(s: &mut Scene, a: &Axis, bottom: i32, px: i32, p: &GroupTimePoint, w: &Words) {
    let sub = |v: f64| vy(a, bottom, v);
    if p.suppressed || !(p.estimate.is_finite() && p.ci_low.is_finite() && p.ci_high.is_finite()) {
        let t = if p.suppressed {
            w.suppressed
        } else {
            w.not_estimable
        };
        s.text(px, sub(0.0) - 8, t, TICK, MUTED, Align::Center);
        return;
    }
    if let Some((bl, bh)) = p.band.filter(|b| b.0.is_finite() && b.1.is_finite()) {
        s.tint(px - 9, sub(bh), px + 9, sub(bl), BLUE, 0.22);
    }
    s.vline(px, sub(p.ci_high), sub(p.ci_low), 3, BLUE);
    s.hline(px - 5, px + 6, sub(p.ci_high), 2, BLUE);
    s.hline(px - 5, px + 6, sub(p.ci_low), 2, BLUE);
    s.circle(px, sub(p.estimate), 5, BLUE);
}

/// For the callers' texts: a value with three significant-ish decimals in `lang`.
pub fn format_value(v: f64, lang: Lang) -> String {
    let d = if v.abs() >= 100.0 {
        1
    } else if v.abs() >= 1.0 {
        2
    } else {
        3
    };
    format_number(v, d, lang)
}
