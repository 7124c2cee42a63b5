//! A horizontal value axis: range, "nice" ticks and the mapping to pixels.
//!
//! The range always contains zero, because "no effect" (or "nothing") is the reference
//! every reader looks for, and all intervals, so no whisker is ever cut off. Ticks are
//! round numbers (1, 2, 2.5 or 5 times a power of ten) spaced so their labels never
//! touch.

use crate::config::Lang;

use super::scene::{Align, Scene};
use super::text::{Font, format_number};
use super::theme::{AXIS, GRID, MUTED, TICK, ZERO};

#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    /// Decimals the tick labels need to show the step exactly.
    pub decimals: usize,
    /// Pixel columns of `lo` and `hi`.
    pub x0: i32,
    pub x1: i32,
}

impl Axis {
    /// An axis over pixels `x0..x1` covering zero and the finite `values` (infinite and
    /// NaN values are ignored: they are shown as "not estimable" by the caller).
    /// `pad_zero_side` lets effect charts show a little room below zero when zero is
    /// the minimum; bar charts starting at zero do not want a negative stub.
    pub(crate) fn fit(
        values: impl IntoIterator<Item = f64>,
        x0: i32,
        x1: i32,
        lang: Lang,
        pad_zero_side: bool,
    ) -> Self {
        let (mut lo, mut hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !(hi - lo).is_finite() {
            // Values near f64::MAX: nothing sensible fits on one axis; fall back to a
            // unit range and let the clamped marks sit at the edges.
            lo = -1.0;
            hi = 1.0;
        }
        if hi - lo <= 0.0 {
            lo = -1.0;
            hi = 1.0;
        }
        let pad = 0.03 * (hi - lo);
        if lo < 0.0 || pad_zero_side {
            lo -= pad;
        }
        if hi > 0.0 || pad_zero_side {
            hi += pad;
        }
        let width = f64::from((x1 - x0).max(1));
        let target = (width / 80.0).floor().clamp(3.0, 10.0);
        let mut step = nice_step((hi - lo) / target);
        let mut axis = Self::snap(lo, hi, step, x0, x1);
        // Widen the step until the widest tick label has room to breathe.
        for _ in 0..12 {
            let widest = axis
                .ticks()
                .iter()
                .map(|&v| TICK.width(&axis.label(v, lang)))
                .fold(0.0, f64::max);
            let spacing = width * step / (axis.hi - axis.lo);
            if widest + 20.0 <= spacing {
                break;
            }
            step = nice_step(step * 1.0001);
            axis = Self::snap(lo, hi, step, x0, x1);
        }
        axis
    }

    fn snap(lo: f64, hi: f64, step: f64, x0: i32, x1: i32) -> Self {
        // The tolerance rounds inwards, so a bound that is already a multiple of the
        // step (zero, typically) is kept rather than pushed out by one step.
        let lo_s = (lo / step + 1e-9).floor() * step;
        let hi_s = (hi / step - 1e-9).ceil() * step;
        Self {
            lo: lo_s,
            hi: if hi_s > lo_s { hi_s } else { lo_s + step },
            step,
            decimals: decimals_for(step),
            x0,
            x1,
        }
    }

    /// Pixel column of `v`, clamped to the axis so nothing is drawn outside the plot.
    pub(crate) fn x(&self, v: f64) -> i32 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        let t = if t.is_nan() { 0.0 } else { t };
        self.x0 + (t * f64::from(self.x1 - self.x0)).round() as i32
    }

    /// Tick values, computed as integer multiples of the step so they print cleanly.
    pub(crate) fn ticks(&self) -> Vec<f64> {
        let k0 = (self.lo / self.step).round() as i64;
        let k1 = (self.hi / self.step).round() as i64;
        (k0..=k1.min(k0 + 100)).map(|k| k as f64 * self.step).collect()
    }

    pub(crate) fn label(&self, v: f64, lang: Lang) -> String {
        format_number(v, self.decimals, lang)
    }

    /// Vertical grid lines at the ticks and the darker zero line, over `top..bottom`.
    pub(crate) fn draw_grid(&self, s: &mut Scene, top: i32, bottom: i32) {
        for v in self.ticks() {
            s.vline(self.x(v), top, bottom, 1, GRID);
        }
        s.vline(self.x(0.0), top, bottom, 2, ZERO);
    }

    /// Base line, tick marks and tick labels under the plot; returns the y below them.
    pub(crate) fn draw_scale(&self, s: &mut Scene, y: i32, lang: Lang) -> i32 {
        s.hline(self.x0, self.x1 + 1, y, 1, AXIS);
        let font: Font = TICK;
        let top = y + 10;
        for v in self.ticks() {
            let x = self.x(v);
            s.vline(x, y, y + 6, 1, AXIS);
            s.text(x, top + font.baseline_in_line(), &self.label(v, lang), font, MUTED, Align::Center);
        }
        top + font.line_height()
    }
}

/// The smallest of 1, 2, 2.5, 5 x 10^k that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// Decimals needed to print multiples of `step` exactly (2.5 needs one, 0.25 two).
fn decimals_for(step: f64) -> usize {
    (0..=8)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.3), 2.0);
        assert_eq!(nice_step(2.1), 2.5);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(6.0), 10.0);
        assert_eq!(nice_step(140.0), 200.0);
        assert_eq!(decimals_for(2.5), 1);
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(500.0), 0);
    }
}
