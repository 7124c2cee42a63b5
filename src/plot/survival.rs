//! The Kaplan-Meier chart: per arm a step curve of the share still without the event,
//! its confidence band, censoring marks, and the number at risk under the time axis.
//!
//! Laid out for readers who are not statisticians: the y axis is in percent from 0 to
//! 100 so curves are never cut, every arm is named in the legend and in the at-risk
//! table, a key says what the band and the tick marks are, and the at-risk counts sit
//! exactly under the time-axis ticks (the ticks are the `at_risk_times`, when given).
//! Like the other charts, this renderer computes nothing: the curve points come from
//! [`crate::stats::survival`] and the texts from the caller, in the report language.
//!
//! Many distinct times (a curve of a million subjects) are drawn per pixel column: the
//! band and the line are merged where they fall in the same column, so a chart has at
//! most a few thousand shapes.

use plotters::style::RGBColor;

use super::axis::Axis;
use super::frame::{content_width, footer, header};
use super::scene::{Align, Scene};
use super::text::{Font, fit_line, format_number, wrap};
use super::theme::{
    ARM_COLOURS, AXIS, AXIS_LABEL, GRID, INK, LABEL, MARGIN, MUTED, NOTE, TICK, WIDTH,
};
use super::xy::axis_label_below;
use crate::config::Lang;
use crate::error::Result;

/// One arm's Kaplan-Meier curve, in display units.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalCurve {
    /// Arm label, e.g. "VIA approach".
    pub label: String,
    /// (time, S, lower, upper) at each event time, S and the limits in [0, 1]. A point
    /// at time 0 with S = 1 is implied. Limits that are NaN (undefined) leave a gap in
    /// the band; a NaN S ends the line there.
    pub points: Vec<(f64, f64, f64, f64)>,
    /// (time, S at that time) of each censoring, drawn as a small vertical tick; the
    /// last one also extends the curve to the end of follow-up.
    pub censored: Vec<(f64, f64)>,
}

/// The number at risk of one arm at each of the chart's `at_risk_times`.
#[derive(Debug, Clone, PartialEq)]
pub struct AtRiskRow {
    pub label: String,
    /// None where the count is withheld (disclosure control): drawn as a dash.
    pub counts: Vec<Option<usize>>,
}

/// A Kaplan-Meier chart with one curve per arm.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalChart {
    pub title: String,
    /// E.g. "Share still receiving benefit, with 95% confidence band".
    pub subtitle: String,
    /// The time axis with its unit, e.g. "Months since randomisation".
    pub x_label: String,
    /// The survival axis, e.g. "Still receiving benefit (%)".
    pub y_label: String,
    pub curves: Vec<SurvivalCurve>,
    /// Times of the at-risk table; they are also the ticks of the time axis. Empty:
    /// round ticks are chosen and no table is drawn.
    pub at_risk_times: Vec<f64>,
    pub at_risk: Vec<AtRiskRow>,
    pub note: String,
    /// Number format and the few fixed words ("Number at risk", the key).
    pub lang: Lang,
}

/// The chart as an SVG document.
pub fn survival_chart_svg(c: &SurvivalChart) -> Result<String> {
    super::register_fonts();
    scene(c).svg()
}

/// The chart as PNG file bytes, 1000 pixels wide.
pub fn survival_chart_png(c: &SurvivalChart) -> Result<Vec<u8>> {
    super::register_fonts();
    scene(c).png()
}

/// Height of the plotting area.
const PLOT_H: i32 = 420;
/// Line width of the curves.
const LINE: i32 = 3;
/// Opacity of a confidence band: overlapping bands of two arms stay distinguishable.
const BAND_ALPHA: f64 = 0.2;
/// Height of a censoring tick.
const TICK_H: i32 = 14;

struct Words {
    at_risk: &'static str,
    band: &'static str,
    censored: &'static str,
}

fn fixed_words(lang: Lang) -> Words {
    match lang {
        Lang::Nl => Words {
            at_risk: "Aantal in de risicogroep (nog gevolgd, zonder gebeurtenis)",
            band: "band: betrouwbaarheidsinterval",
            censored: "streepje: gecensureerd (gevolgd tot hier, zonder gebeurtenis)",
        },
        Lang::En => Words {
            at_risk: "Number at risk (still followed, without the event)",
            band: "band: confidence interval",
            censored: "tick: censored (followed until here, without the event)",
        },
    }
}

fn scene(c: &SurvivalChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let w = fixed_words(c.lang);
    let colour = |i: usize| ARM_COLOURS[i % ARM_COLOURS.len()];

    // Left column: the y tick labels ("100%") and the at-risk row labels; the first
    // count is centred on time 0, so half of it reaches into the column too.
    let left = left_column(c);
    let (px0, px1) = (MARGIN + left, WIDTH - MARGIN - 16);

    y = legend(&mut s, c, y, &w);

    // Time axis over 0 .. the last time anything is shown.
    let last = c
        .curves
        .iter()
        .flat_map(|k| {
            k.points
                .iter()
                .map(|p| p.0)
                .chain(k.censored.iter().map(|p| p.0))
        })
        .chain(c.at_risk_times.iter().copied())
        .filter(|t| t.is_finite())
        .fold(0.0_f64, f64::max);
    let mut axis = Axis::fit([0.0, last], px0, px1, c.lang, false);
    if !c.at_risk_times.is_empty() && last > 0.0 {
        // The ticks are the caller's times: end the axis at the data, not at the next
        // round number.
        axis.hi = last;
    }
    let ticks: Vec<f64> = if c.at_risk_times.is_empty() {
        axis.ticks()
    } else {
        c.at_risk_times
            .iter()
            .copied()
            .filter(|t| t.is_finite())
            .collect()
    };
    let decimals = tick_decimals(&ticks);

    // y label above the plot, then the plot.
    let y_lines = wrap(&c.y_label, AXIS_LABEL, content_width(), 2);
    y = s.lines(&y_lines, MARGIN, y, AXIS_LABEL, INK, Align::Left) + 10;
    let (top, bottom) = (y, y + PLOT_H);
    let sy = |v: f64| bottom - (v.clamp(0.0, 1.0) * f64::from(PLOT_H)).round() as i32;
    for k in 0..=4 {
        let v = f64::from(k) / 4.0;
        let yy = sy(v);
        s.hline(px0, px1 + 1, yy, 1, GRID);
        let label = format!("{}%", format_number(100.0 * v, 0, c.lang));
        s.text(px0 - 10, yy + 6, &label, TICK, MUTED, Align::Right);
    }
    for &t in &ticks {
        s.vline(axis.x(t), top, bottom, 1, GRID);
    }
    for (i, k) in c.curves.iter().enumerate() {
        band(&mut s, k, &axis, &sy, colour(i));
    }
    for (i, k) in c.curves.iter().enumerate() {
        line(&mut s, k, &axis, &sy, colour(i));
    }
    for (i, k) in c.curves.iter().enumerate() {
        censor_marks(&mut s, k, &axis, &sy, colour(i));
    }
    s.vline(px0, top, bottom + 1, 1, AXIS);

    // Time axis: base line, ticks and labels at `ticks`, then its label.
    s.hline(px0, px1 + 1, bottom, 1, AXIS);
    let label_top = bottom + 10;
    for &t in &ticks {
        let x = axis.x(t);
        s.vline(x, bottom, bottom + 6, 1, AXIS);
        let text = format_number(t, decimals, c.lang);
        s.text(
            x,
            label_top + TICK.baseline_in_line(),
            &text,
            TICK,
            MUTED,
            Align::Center,
        );
    }
    y = label_top + TICK.line_height();
    y = axis_label_below(&mut s, &c.x_label, (px0, px1), y);

    if !c.at_risk_times.is_empty() && !c.at_risk.is_empty() {
        y = at_risk_table(&mut s, c, &axis, (px0, left), y + 14, &w);
    }
    s.height = footer(&mut s, &c.note, y + 4);
    s
}

/// Swatch of an at-risk row, and the space between a row label and the counts.
const SWATCH: i32 = 20;
const LABEL_GAP: i32 = 18;

/// Width of the column left of the plot.
fn left_column(c: &SurvivalChart) -> i32 {
    let ticks = TICK.width("100%") + 14.0;
    let label = c
        .at_risk
        .iter()
        .map(|r| LABEL.width(&r.label))
        .fold(0.0, f64::max);
    let half_count = c
        .at_risk
        .iter()
        .filter_map(|r| r.counts.first())
        .map(|&n| TICK.width(&count_text(n, c.lang)) / 2.0)
        .fold(0.0, f64::max);
    let rows = if c.at_risk.is_empty() || c.at_risk_times.is_empty() {
        0.0
    } else {
        f64::from(SWATCH + LABEL_GAP) + label + half_count
    };
    (ticks.max(rows).ceil() as i32).clamp(90, 300)
}

/// Arms with a line swatch, then the key to the band and the censoring ticks.
fn legend(s: &mut Scene, c: &SurvivalChart, top: i32, w: &Words) -> i32 {
    let lh = LABEL.line_height();
    let (mut x, mut y) = (MARGIN, top);
    let max_x = WIDTH - MARGIN;
    for (i, k) in c.curves.iter().enumerate() {
        let colour = ARM_COLOURS[i % ARM_COLOURS.len()];
        let text = fit_line(&k.label, LABEL, f64::from(max_x - MARGIN - 40));
        let width = 40 + LABEL.width(&text).ceil() as i32 + 28;
        if x > MARGIN && x + width > max_x {
            x = MARGIN;
            y += lh + 4;
        }
        let mid = y + lh / 2;
        s.tint(x, mid - 8, x + 30, mid + 8, colour, BAND_ALPHA);
        s.hline(x, x + 30, mid, LINE + 1, colour);
        s.text(
            x + 40,
            y + LABEL.baseline_in_line(),
            &text,
            LABEL,
            INK,
            Align::Left,
        );
        x += width;
    }
    if !c.curves.is_empty() {
        y += lh + 4;
    }
    // The key, in the muted note style.
    let font: Font = NOTE;
    let mid = y + font.line_height() / 2;
    s.tint(MARGIN, mid - 8, MARGIN + 30, mid + 8, MUTED, BAND_ALPHA);
    s.text(
        MARGIN + 40,
        y + font.baseline_in_line(),
        w.band,
        font,
        MUTED,
        Align::Left,
    );
    // The tick key only where ticks are drawn (disclosure control leaves them out).
    if c.curves.iter().all(|k| k.censored.is_empty()) {
        return y + font.line_height() + 14;
    }
    let x2 = MARGIN + 40 + font.width(w.band).ceil() as i32 + 36;
    let (x2, y2) = if f64::from(x2) + 30.0 + font.width(w.censored) > f64::from(max_x) {
        (MARGIN, y + font.line_height() + 2)
    } else {
        (x2, y)
    };
    let mid2 = y2 + font.line_height() / 2;
    s.vline(x2 + 6, mid2 - TICK_H / 2, mid2 + TICK_H / 2, 2, INK);
    s.text(
        x2 + 20,
        y2 + font.baseline_in_line(),
        w.censored,
        font,
        MUTED,
        Align::Left,
    );
    y2 + font.line_height() + 14
}

/// The step-shaped band, per pixel column: a column spans the lowest lower and the
/// highest upper limit of the steps that touch it; equal neighbouring columns are
/// merged into one rectangle. Columns where a limit is undefined stay empty.
fn band(s: &mut Scene, k: &SurvivalCurve, axis: &Axis, sy: &dyn Fn(f64) -> i32, c: RGBColor) {
    let steps = steps(k);
    let Some(first) = steps.first() else {
        return;
    };
    let x_start = axis.x(first.start);
    let width = (axis.x(first.end) - x_start + 1).max(1) as usize;
    // Per column (top, bottom) in pixels; (i32::MAX, i32::MIN) = nothing drawn.
    let mut cols = vec![(i32::MAX, i32::MIN); width];
    for (i, st) in steps.iter().enumerate() {
        let end = steps.get(i + 1).map_or(st.end, |n| n.start);
        if !(st.low.is_finite() && st.high.is_finite()) {
            continue;
        }
        let (x0, x1) = (axis.x(st.start) - x_start, axis.x(end) - x_start);
        let (yt, yb) = (sy(st.high), sy(st.low) + 1);
        for col in cols
            .iter_mut()
            .take((x1.max(x0 + 1)) as usize)
            .skip(x0 as usize)
        {
            *col = (col.0.min(yt), col.1.max(yb));
        }
    }
    let mut x = 0;
    while x < width {
        let mut end = x + 1;
        while end < width && cols[end] == cols[x] {
            end += 1;
        }
        let (yt, yb) = cols[x];
        if yb > yt {
            s.tint(
                x_start + x as i32,
                yt,
                x_start + end as i32,
                yb,
                c,
                BAND_ALPHA,
            );
        }
        x = end;
    }
}

/// The step line: a horizontal segment per step and a riser where S drops; risers in
/// the same pixel column are merged into one.
fn line(s: &mut Scene, k: &SurvivalCurve, axis: &Axis, sy: &dyn Fn(f64) -> i32, c: RGBColor) {
    let steps = steps(k);
    let mut level: Option<i32> = None; // y of the previous step
    let mut riser: Option<(i32, i32, i32)> = None; // (x, y top, y bottom) not yet drawn
    let draw_riser = |s: &mut Scene, r: (i32, i32, i32)| {
        s.vline(r.0, r.1 - LINE / 2, r.2 + LINE / 2 + 1, LINE, c);
    };
    for (i, st) in steps.iter().enumerate() {
        if !st.survival.is_finite() {
            break;
        }
        let end = steps.get(i + 1).map_or(st.end, |n| n.start);
        let (x0, x1, yy) = (axis.x(st.start), axis.x(end), sy(st.survival));
        if let Some(py) = level
            && py != yy
        {
            riser = match riser {
                Some((rx, rt, rb)) if rx == x0 => {
                    Some((rx, rt.min(yy).min(py), rb.max(yy).max(py)))
                }
                other => {
                    if let Some(r) = other {
                        draw_riser(s, r);
                    }
                    Some((x0, py.min(yy), py.max(yy)))
                }
            };
        }
        if x1 > x0 {
            s.hline(x0, x1 + 1, yy, LINE, c);
        }
        level = Some(yy);
    }
    if let Some(r) = riser {
        draw_riser(s, r);
    }
}

/// A short vertical tick at each censoring, one per pixel position.
fn censor_marks(
    s: &mut Scene,
    k: &SurvivalCurve,
    axis: &Axis,
    sy: &dyn Fn(f64) -> i32,
    c: RGBColor,
) {
    let mut last: Option<(i32, i32)> = None;
    let mut marks: Vec<(i32, i32)> = k
        .censored
        .iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .map(|p| (axis.x(p.0), sy(p.1)))
        .collect();
    marks.sort_unstable();
    for m in marks {
        if last == Some(m) {
            continue;
        }
        s.vline(m.0, m.1 - TICK_H / 2, m.1 + TICK_H / 2, 2, c);
        last = Some(m);
    }
}

/// One horizontal stretch of a curve: from `start` the curve is at `survival` with the
/// given limits; `end` matters only for the last stretch (the end of follow-up).
struct Step {
    start: f64,
    end: f64,
    survival: f64,
    low: f64,
    high: f64,
}

/// The stretches of a curve, starting at S = 1 at time 0 and ending at its last
/// point or censoring.
fn steps(k: &SurvivalCurve) -> Vec<Step> {
    let mut pts: Vec<(f64, f64, f64, f64)> = k
        .points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let end = pts
        .iter()
        .map(|p| p.0)
        .chain(k.censored.iter().map(|p| p.0).filter(|t| t.is_finite()))
        .fold(0.0_f64, f64::max);
    if pts.is_empty() && k.censored.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(pts.len() + 1);
    if pts.first().is_none_or(|p| p.0 > 0.0) {
        out.push(Step {
            start: 0.0,
            end,
            survival: 1.0,
            low: 1.0,
            high: 1.0,
        });
    }
    out.extend(pts.into_iter().map(|p| Step {
        start: p.0,
        end,
        survival: p.1,
        low: p.2,
        high: p.3,
    }));
    out
}

/// Decimals that print every tick exactly (up to 3).
fn tick_decimals(ticks: &[f64]) -> usize {
    (0..=3)
        .find(|&d| {
            let f = 10f64.powi(d as i32);
            ticks
                .iter()
                .all(|t| ((t * f) - (t * f).round()).abs() < 1e-6)
        })
        .unwrap_or(3)
}

/// "Number at risk" and one row per arm: a colour swatch and the label in the left
/// column, the counts centred under the ticks. Returns the y below the table.
fn at_risk_table(
    s: &mut Scene,
    c: &SurvivalChart,
    axis: &Axis,
    (px0, left): (i32, i32),
    top: i32,
    w: &Words,
) -> i32 {
    let title = fit_line(w.at_risk, LABEL.bold(), content_width());
    let mut y = s.lines(&[title], MARGIN, top, LABEL.bold(), INK, Align::Left) + 2;
    // Counts shrink to a smaller size when the widest would touch its neighbour.
    let xs: Vec<i32> = c.at_risk_times.iter().map(|&t| axis.x(t)).collect();
    let gap = xs.windows(2).map(|p| p[1] - p[0]).min().unwrap_or(i32::MAX);
    let widest = c
        .at_risk
        .iter()
        .flat_map(|r| r.counts.iter())
        .map(|&n| TICK.width(&count_text(n, c.lang)))
        .fold(0.0, f64::max);
    let font = if widest + 8.0 <= f64::from(gap) {
        TICK
    } else {
        Font::new(14.0, false)
    };
    let lh = LABEL.line_height().max(font.line_height());
    for (i, row) in c.at_risk.iter().enumerate() {
        let colour = c
            .curves
            .iter()
            .position(|k| k.label == row.label)
            .map_or(ARM_COLOURS[i % ARM_COLOURS.len()], |j| {
                ARM_COLOURS[j % ARM_COLOURS.len()]
            });
        let mid = y + lh / 2;
        s.hline(MARGIN, MARGIN + 14, mid, LINE + 1, colour);
        let half_count = row
            .counts
            .first()
            .map_or(0.0, |&n| font.width(&count_text(n, c.lang)) / 2.0);
        let room = f64::from(left - SWATCH - LABEL_GAP) - half_count;
        // A long arm label wraps onto a second (third) line rather than being cut.
        let label = wrap(&row.label, LABEL, room, 3);
        s.lines(&label, MARGIN + SWATCH, y, LABEL, INK, Align::Left);
        for (n, &x) in row.counts.iter().zip(&xs) {
            let text = count_text(*n, c.lang);
            let x = x.clamp(px0, WIDTH - 6 - (font.width(&text) / 2.0) as i32);
            s.text(
                x,
                y + font.baseline_in_line(),
                &text,
                font,
                INK,
                Align::Center,
            );
        }
        y += lh.max(label.len() as i32 * LABEL.line_height()) + 2;
    }
    y
}

/// A count for the at-risk table, or a dash where it is withheld.
fn count_text(n: Option<usize>, lang: Lang) -> String {
    n.map_or_else(
        || "\u{2013}".to_string(),
        |n| format_number(n as f64, 0, lang),
    )
}
