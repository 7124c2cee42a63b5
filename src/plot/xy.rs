//! The frame shared by the charts with a value axis up the left and an axis along the
//! bottom (the interrupted time series and the cost-effectiveness plane): the room for
//! the value labels, the y label above the plot, the grid, and the bottom axis with
//! its label. The power curve and the survival chart, whose value axes are fixed
//! percentage scales, take the y label and the bottom axis's label from here too.
//!
//! The value axis is fitted over `0..PLOT_H` like a horizontal one; a value `v` is
//! then drawn at row `bottom - yaxis.x(v)`.

use super::axis::Axis;
use super::frame::content_width;
use super::scene::{Align, Scene};
use super::text::wrap;
use super::theme::{AXIS, AXIS_LABEL, GRID, INK, MARGIN, MUTED, TICK};
use crate::config::Lang;

/// Width left of the plot for the value axis: its widest tick label and a gap.
pub(crate) fn value_label_room(yaxis: &Axis, lang: Lang) -> i32 {
    let widest = yaxis
        .ticks()
        .iter()
        .map(|&v| TICK.width(&yaxis.label(v, lang)))
        .fold(0.0, f64::max);
    (widest + 14.0).ceil() as i32
}

/// The y label above the plot, at most two lines from `y`; returns the top of the plot.
pub(crate) fn y_label_above(s: &mut Scene, label: &str, y: i32) -> i32 {
    let y_lines = wrap(label, AXIS_LABEL, content_width(), 2);
    s.lines(&y_lines, MARGIN, y, AXIS_LABEL, INK, Align::Left) + 10
}

/// The plotting area of such a chart: the bottom axis over the plot's pixel columns,
/// the value axis over `0..height`, and the plot's top and bottom rows.
pub(crate) struct Plot {
    pub xaxis: Axis,
    pub yaxis: Axis,
    pub top: i32,
    pub bottom: i32,
}

impl Plot {
    /// Pixel row of value `v`.
    pub(crate) fn sy(&self, v: f64) -> i32 {
        self.bottom - self.yaxis.x(v)
    }

    /// The grid over the plot: a labelled horizontal line at each tick of the value
    /// axis, then a vertical line at each tick of the bottom axis.
    pub(crate) fn draw_grid(&self, s: &mut Scene, lang: Lang) {
        let (px0, px1) = (self.xaxis.x0, self.xaxis.x1);
        for v in self.yaxis.ticks() {
            let yy = self.sy(v);
            s.hline(px0, px1 + 1, yy, 1, GRID);
            s.text(
                px0 - 10,
                yy + 6,
                &self.yaxis.label(v, lang),
                TICK,
                MUTED,
                Align::Right,
            );
        }
        for v in self.xaxis.ticks() {
            s.vline(self.xaxis.x(v), self.top, self.bottom, 1, GRID);
        }
    }

    /// The left edge of the plot, the bottom axis with its ticks, and `label` under
    /// it; returns the y below the label.
    pub(crate) fn draw_bottom_axis(&self, s: &mut Scene, label: &str, lang: Lang) -> i32 {
        let (px0, px1) = (self.xaxis.x0, self.xaxis.x1);
        s.vline(px0, self.top, self.bottom + 1, 1, AXIS);
        let y = self.xaxis.draw_scale(s, self.bottom, lang);
        axis_label_below(s, label, (px0, px1), y)
    }
}

/// The label of a bottom axis spanning pixel columns `px0..=px1`, at most two lines
/// centred under it from `y`; returns the row below it.
pub(crate) fn axis_label_below(s: &mut Scene, label: &str, (px0, px1): (i32, i32), y: i32) -> i32 {
    let x_lines = wrap(label, AXIS_LABEL, f64::from(px1 - px0), 2);
    s.lines(
        &x_lines,
        (px0 + px1) / 2,
        y + 2,
        AXIS_LABEL,
        INK,
        Align::Center,
    )
}
