//! The parts every chart shares: title and subtitle on top, the note at the bottom.

use super::scene::{Align, Scene};
use super::text::wrap;
use super::theme::{INK, MARGIN, MUTED, NOTE, SUBTITLE, TITLE, WIDTH};

/// Usable text width between the outer margins.
pub(crate) fn content_width() -> f64 {
    f64::from(WIDTH - 2 * MARGIN)
}

/// Draws the title (bold, up to three lines) and subtitle; returns the y where the
/// chart body starts.
pub(crate) fn header(s: &mut Scene, title: &str, subtitle: &str) -> i32 {
    let mut y = MARGIN - 6;
    let title_lines = wrap(title, TITLE, content_width(), 3);
    y = s.lines(&title_lines, MARGIN, y, TITLE, INK, Align::Left);
    let sub_lines = wrap(subtitle, SUBTITLE, content_width(), 3);
    if !sub_lines.is_empty() {
        y = s.lines(&sub_lines, MARGIN, y + 6, SUBTITLE, MUTED, Align::Left);
    }
    y + 22
}

/// Draws the note under a thin rule; returns the bottom of the canvas.
pub(crate) fn footer(s: &mut Scene, note: &str, y: i32) -> i32 {
    let lines = wrap(note, NOTE, content_width(), 6);
    if lines.is_empty() {
        return y + MARGIN - 8;
    }
    let y = y + 10;
    s.hline(MARGIN, WIDTH - MARGIN, y, 1, super::theme::GRID);
    s.lines(&lines, MARGIN, y + 8, NOTE, MUTED, Align::Left) + MARGIN / 2
}

/// Width of the label column: the widest label on one line, within bounds; longer
/// labels wrap.
pub(crate) fn label_column<'a>(labels: impl Iterator<Item = (&'a str, super::text::Font)>) -> i32 {
    let widest = labels.map(|(t, f)| f.width(t)).fold(0.0, f64::max);
    (widest.ceil() as i32 + 4).clamp(super::theme::LABEL_MIN, super::theme::LABEL_MAX)
}
