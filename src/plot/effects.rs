//! The effect chart: a forest plot with one panel per outcome, stacked vertically.
//!
//! Each panel gets its own axis because outcomes come in different units (percentage
//! points, euros, months); a shared axis would flatten all but the widest. Within a
//! panel every comparison is one row: the point estimate as a dot, the confidence
//! interval as a bar with end caps, and the no-effect line at zero drawn darker than
//! the grid so "does the bar cross zero?" is the first thing a reader can answer.

use crate::config::Better;

use super::axis::Axis;
use super::frame::{content_width, footer, header, label_column};
use super::scene::{Align, Scene};
use super::text::{Font, Words, fit_line, words, wrap};
use super::theme::{
    AXIS_LABEL, BAND, BLUE, GUTTER, INK, LABEL, MARGIN, MUTED, PANEL_GAP, PANEL_TITLE, ROW_MIN,
    TICK, WHITE, WIDTH,
};
use super::{EffectChart, EffectPanel, EffectRow};

pub(crate) fn scene(c: &EffectChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let label_w = label_column(
        c.panels
            .iter()
            .flat_map(|p| p.rows.iter())
            .map(|r| (r.label.as_str(), row_font(r))),
    );
    let plot = (MARGIN + label_w + GUTTER, WIDTH - MARGIN - 14);
    let words = words(c.lang);
    if c.panels.is_empty() {
        let line = [words.no_estimates.to_string()];
        y = s.lines(&line, MARGIN, y, LABEL, MUTED, Align::Left);
    }
    for (i, p) in c.panels.iter().enumerate() {
        if i > 0 {
            y += PANEL_GAP;
        }
        y = panel(&mut s, c, p, y, label_w, plot, &words);
    }
    s.height = footer(&mut s, &c.note, y);
    s
}

fn row_font(r: &EffectRow) -> Font {
    if r.emphasis { LABEL.bold() } else { LABEL }
}

/// One outcome: title, rows, axis with its unit, and the better/worse hint. Returns the
/// y below the panel.
fn panel(
    s: &mut Scene,
    c: &EffectChart,
    p: &EffectPanel,
    top: i32,
    label_w: i32,
    (px0, px1): (i32, i32),
    words: &Words,
) -> i32 {
    let title = wrap(&p.title, PANEL_TITLE, content_width(), 2);
    let y = s.lines(&title, MARGIN, top, PANEL_TITLE, INK, Align::Left);
    if p.rows.is_empty() {
        let line = [words.no_estimates.to_string()];
        return s.lines(&line, MARGIN, y + 2, LABEL, MUTED, Align::Left);
    }
    // With nothing to draw, an axis would show a made-up range: leave it out (the
    // 0..1 axis then only places the "not estimable" texts at the left).
    let has_axis = p.rows.iter().any(drawable);
    let axis = Axis::fit(
        p.rows
            .iter()
            .filter(|r| drawable(r))
            .flat_map(|r| [r.estimate, r.ci_low, r.ci_high]),
        px0,
        px1,
        c.lang,
        has_axis,
    );

    // Geometry first, so the shading and grid can be drawn under the marks.
    let rows_top = y + 8;
    let mut row_y = rows_top + 4;
    let mut rows = Vec::with_capacity(p.rows.len());
    for r in &p.rows {
        let font = row_font(r);
        let lines = wrap(&r.label, font, f64::from(label_w), 3);
        let h = ROW_MIN.max(lines.len() as i32 * font.line_height() + 10);
        rows.push((r, font, lines, row_y, row_y + h));
        row_y += h;
    }
    let rows_bottom = row_y + 4;

    if rows.len() > 1 {
        for (_, _, _, t, b) in rows.iter().step_by(2) {
            s.rect(MARGIN - 10, *t, px1 + 10, *b, BAND);
        }
    }
    if has_axis {
        axis.draw_grid(s, rows_top, rows_bottom);
    }
    for (r, font, lines, t, b) in &rows {
        let cy = (t + b) / 2;
        let block_top = cy - lines.len() as i32 * font.line_height() / 2;
        s.lines(lines, MARGIN, block_top, *font, INK, Align::Left);
        interval(s, &axis, r, cy, words);
    }
    if !has_axis {
        return rows_bottom;
    }
    let y = axis.draw_scale(s, rows_bottom, c.lang);
    caption(s, &axis, &p.axis_label, p.better, &c.better_label, y)
}

/// A row is drawn only with its estimate and both interval bounds: a dot without its
/// interval would look exact to a reader who cannot see that the uncertainty is
/// missing.
fn drawable(r: &EffectRow) -> bool {
    r.estimate.is_finite() && r.ci_low.is_finite() && r.ci_high.is_finite()
}

/// The estimate and its interval on row `cy`; emphasised (pooled) rows are heavier.
fn interval(s: &mut Scene, axis: &Axis, r: &EffectRow, cy: i32, words: &Words) {
    if r.suppressed || !drawable(r) {
        let text = if r.suppressed {
            words.suppressed
        } else {
            words.not_estimable
        };
        not_estimable(s, axis, cy, text);
        return;
    }
    let (thick, cap, dot) = if r.emphasis { (5, 20, 8) } else { (3, 14, 6) };
    let a = axis.x(r.ci_low.min(r.ci_high));
    let b = axis.x(r.ci_low.max(r.ci_high));
    s.hline(a, b + 1, cy, thick, BLUE);
    s.vline(a, cy - cap / 2, cy + cap / 2, 2, BLUE);
    s.vline(b, cy - cap / 2, cy + cap / 2, 2, BLUE);
    let x = axis.x(r.estimate);
    s.circle(x, cy, dot + 2, WHITE);
    s.circle(x, cy, dot, BLUE);
}

/// Marks a row without a drawable estimate, on the roomier side of the zero line so
/// the text never runs into it.
pub(crate) fn not_estimable(s: &mut Scene, axis: &Axis, cy: i32, text: &str) {
    let zx = axis.x(0.0);
    let right = axis.x1 - zx - 16;
    let left = zx - axis.x0 - 16;
    let baseline = cy - TICK.line_height() / 2 + TICK.baseline_in_line();
    if right >= left {
        let t = fit_line(text, TICK, f64::from(right));
        s.text(zx + 12, baseline, &t, TICK, MUTED, Align::Left);
    } else {
        let t = fit_line(text, TICK, f64::from(left));
        s.text(zx - 12, baseline, &t, TICK, MUTED, Align::Right);
    }
}

/// The axis label centred under the plot and, for outcomes with a good direction, a
/// quiet "← worse … better →" at the two ends. They share a line when they fit and
/// otherwise the hint moves to its own line. Returns the y below.
fn caption(
    s: &mut Scene,
    axis: &Axis,
    label: &str,
    better: Better,
    (better_word, worse_word): &(String, String),
    top: i32,
) -> i32 {
    let (x0, x1) = (axis.x0, axis.x1);
    let centre = (x0 + x1) / 2;
    let lines = wrap(label, AXIS_LABEL, f64::from(x1 - x0), 2);
    let arrow_left = |w: &str| (!w.trim().is_empty()).then(|| format!("← {}", w.trim()));
    let arrow_right = |w: &str| (!w.trim().is_empty()).then(|| format!("{} →", w.trim()));
    let (left, right) = match better {
        Better::Higher => (arrow_left(worse_word), arrow_right(better_word)),
        Better::Lower => (arrow_left(better_word), arrow_right(worse_word)),
        Better::Neither => (None, None),
    };
    let half = f64::from(x1 - x0) / 2.0 - 12.0;
    let left = left.map(|t| fit_line(&t, TICK, half));
    let right = right.map(|t| fit_line(&t, TICK, half));
    let lw = left.as_deref().map_or(0.0, |t| TICK.width(t));
    let rw = right.as_deref().map_or(0.0, |t| TICK.width(t));
    let label_w = lines.first().map_or(0.0, |t| AXIS_LABEL.width(t));
    let share = lines.len() <= 1
        && f64::from(x0) + lw + 16.0 <= f64::from(centre) - label_w / 2.0
        && f64::from(centre) + label_w / 2.0 + 16.0 <= f64::from(x1) - rw;
    let y = s.lines(&lines, centre, top, AXIS_LABEL, INK, Align::Center);
    let hint_top = if share { top } else { y };
    let baseline = hint_top + AXIS_LABEL.baseline_in_line();
    if let Some(t) = &left {
        s.text(x0, baseline, t, TICK, MUTED, Align::Left);
    }
    if let Some(t) = &right {
        s.text(x1, baseline, t, TICK, MUTED, Align::Right);
    }
    if share || (left.is_none() && right.is_none()) {
        y
    } else {
        y + AXIS_LABEL.line_height()
    }
}
