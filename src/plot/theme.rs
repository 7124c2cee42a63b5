//! The look of every chart in one place: canvas, spacing, colours and type sizes.
//!
//! The readers are ministry staff, not statisticians, so the choices favour legibility
//! over density: text never below ~14 px, high-contrast ink, a white background, a light
//! grid, and the Okabe-Ito palette, whose colours stay distinct for the common forms of
//! colour blindness (and every coloured mark is also labelled in text).

use plotters::style::RGBColor;

use super::text::Font;

/// Canvas width in pixels; the height follows from the content.
pub(crate) const WIDTH: i32 = 1000;
/// Outer margin on all sides.
pub(crate) const MARGIN: i32 = 32;
/// Space between the label column and the plotting area.
pub(crate) const GUTTER: i32 = 24;
/// The label column adapts to the longest label within these bounds, so short labels
/// do not waste width and long ones wrap instead of squeezing the plot.
pub(crate) const LABEL_MIN: i32 = 180;
pub(crate) const LABEL_MAX: i32 = 380;
/// Minimum height of one estimate row; two-line labels make a row taller.
pub(crate) const ROW_MIN: i32 = 36;
/// Vertical space between stacked panels (outcomes) or groups (subsets).
pub(crate) const PANEL_GAP: i32 = 34;
/// PNG buffers are width x height x 3 bytes; refuse absurd heights instead of
/// allocating hundreds of megabytes.
pub(crate) const MAX_PNG_HEIGHT: i32 = 30_000;

// Okabe-Ito (2008), "Color Universal Design".
pub(crate) const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
pub(crate) const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
pub(crate) const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
pub(crate) const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
pub(crate) const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
pub(crate) const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
pub(crate) const BLACK: RGBColor = RGBColor(0x00, 0x00, 0x00);

/// Arm colours in order of first appearance; an arm keeps its colour across groups.
pub(crate) const ARM_COLOURS: [RGBColor; 7] = [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, BLACK];

pub(crate) const WHITE: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);
/// Main text (near-black is softer than pure black on screens).
pub(crate) const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
/// Secondary text: subtitle, ticks, notes. Contrast on white is about 7:1 (WCAG AAA).
pub(crate) const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Grid lines: visible but clearly behind the data.
pub(crate) const GRID: RGBColor = RGBColor(0xDE, 0xDE, 0xDE);
/// The axis base line and tick marks.
pub(crate) const AXIS: RGBColor = RGBColor(0x9A, 0x9A, 0x9A);
/// Alternate-row shading that helps the eye go from a label to its interval.
pub(crate) const BAND: RGBColor = RGBColor(0xF3, 0xF5, 0xF8);
/// The no-effect line: the most important reference, so dark.
pub(crate) const ZERO: RGBColor = RGBColor(0x33, 0x33, 0x33);

pub(crate) const TITLE: Font = Font::new(30.0, true);
pub(crate) const SUBTITLE: Font = Font::new(20.0, false);
pub(crate) const PANEL_TITLE: Font = Font::new(22.0, true);
pub(crate) const LABEL: Font = Font::new(19.0, false);
pub(crate) const TICK: Font = Font::new(18.0, false);
pub(crate) const AXIS_LABEL: Font = Font::new(19.0, false);
pub(crate) const NOTE: Font = Font::new(18.0, false);

/// `c` mixed with white; `t` = 0 keeps the colour, 1 gives white. Used for bar fills
/// so the dark interval whisker on top stays visible.
pub(crate) fn lighten(c: RGBColor, t: f64) -> RGBColor {
    let mix = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * t).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}
