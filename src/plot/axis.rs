//! A horizontal value axis: range, "nice" ticks and the mapping to pixels.
//!
//! The range always contains zero, because "no effect" (or "nothing") is the reference
//! every reader looks for, and all intervals, so no whisker is ever cut off. Ticks are
//! round numbers (1, 2 or 5 times a power of ten) spaced so their labels never touch.

use crate::config::Lang;

use super::scene::{Align, Scene};
use super::text::{Font, format_number};
use super::theme::{AXIS, GRID, MUTED, TICK, WIDTH, ZERO};

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
    /// Zero is not padded when it is an end of the range: the zero line, or the base
    /// of the bars, can sit on the edge. When all values are zero (or there are none),
    /// `symmetric_if_flat` picks −1..1 (an effect of exactly zero, in the middle) over
    /// 0..1.
    pub(crate) fn fit(
        values: impl IntoIterator<Item = f64>,
        x0: i32,
        x1: i32,
        lang: Lang,
        symmetric_if_flat: bool,
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
            lo = if symmetric_if_flat { -1.0 } else { 0.0 };
            hi = 1.0;
        }
        // About 8 pixels, so no interval end sits on the edge of the plot.
        let pad = 0.015 * (hi - lo);
        if lo < 0.0 {
            lo -= pad;
        }
        if hi > 0.0 {
            hi += pad;
        }
        Self::fit_span(lo, hi, x0, x1, lang)
    }

    /// An axis over pixels `x0..x1` for the finite `values` alone, without zero (time,
    /// or a level far from zero), padded on both sides.
    pub(crate) fn fit_data(
        values: impl IntoIterator<Item = f64>,
        x0: i32,
        x1: i32,
        lang: Lang,
    ) -> Self {
        let (mut lo, mut hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if !(hi - lo).is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo <= 0.0 {
            let half = if lo == 0.0 { 1.0 } else { 0.5 * lo.abs() };
            (lo, hi) = (lo - half, hi + half);
        }
        let pad = 0.015 * (hi - lo);
        // Round ticks inside the data's range; the ends stay at the data (a time axis
        // from −50 to 200 for periods 1 to 192 would waste a quarter of the width).
        let (lo, hi) = (lo - pad, hi + pad);
        Self {
            lo,
            hi,
            ..Self::fit_span(lo, hi, x0, x1, lang)
        }
    }

    /// Round ticks for the range `lo..hi` (already padded).
    fn fit_span(lo: f64, hi: f64, x0: i32, x1: i32, lang: Lang) -> Self {
        let width = f64::from((x1 - x0).max(1));
        let data_span = hi - lo;
        // Try round steps around span / 7 and keep the best: little empty range beyond
        // the data, about seven ticks, and labels that never touch. The first step
        // whose labels fit is the fallback should no candidate qualify.
        let mut best: Option<(f64, Self)> = None;
        let mut fallback: Option<Self> = None;
        for step in candidate_steps(data_span) {
            let axis = Self::snap(lo, hi, step, x0, x1);
            let n = axis.ticks().len();
            let widest = axis
                .ticks()
                .iter()
                .map(|&v| TICK.width(&axis.label(v, lang)))
                .fold(0.0, f64::max);
            if widest + 20.0 > width * step / (axis.hi - axis.lo) {
                continue;
            }
            let score = (axis.hi - axis.lo) / data_span + 0.05 * (n as f64 - 7.0).abs();
            if (3..=11).contains(&n) && best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((score, axis.clone()));
            }
            fallback.get_or_insert(axis);
        }
        best.map(|(_, a)| a)
            .or(fallback)
            .unwrap_or_else(|| Self::snap(lo, hi, data_span, x0, x1))
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
        // Multiples of the step within lo..hi (the ends are multiples, except for
        // `fit_data` axes).
        let k0 = (self.lo / self.step - 1e-9).ceil() as i64;
        let k1 = (self.hi / self.step + 1e-9).floor() as i64;
        (k0..=k1.min(k0 + 100))
            .map(|k| k as f64 * self.step)
            .collect()
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
            let label = self.label(v, lang);
            // A wide last label (e.g. "1,500,000") is kept inside the canvas.
            let (x, align) = if f64::from(x) + font.width(&label) / 2.0 > f64::from(WIDTH - 6) {
                (WIDTH - 6, Align::Right)
            } else {
                (x, Align::Center)
            };
            s.text(x, top + font.baseline_in_line(), &label, font, MUTED, align);
        }
        top + font.line_height()
    }
}

/// Steps of 1, 2 and 5 times a power of ten (the values people count in), from about a
/// hundredth to about the whole of `span`, smallest first.
fn candidate_steps(span: f64) -> Vec<f64> {
    if !(span.is_finite() && span > 0.0) {
        return vec![1.0];
    }
    let top = span.log10().floor() as i32;
    (top - 2..=top)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .collect()
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
    fn round_steps() {
        assert_eq!(candidate_steps(14.0)[..3], [0.1, 0.2, 0.5]);
        assert_eq!(*candidate_steps(14.0).last().unwrap(), 50.0);
        assert_eq!(candidate_steps(f64::NAN), vec![1.0]);
        assert_eq!(decimals_for(2.5), 1);
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(500.0), 0);
    }

    #[test]
    fn ranges_cover_zero_and_data_with_round_ticks() {
        crate::plot::register_fonts();
        let a = Axis::fit([-3.6, 3.3, 10.0], 400, 960, Lang::En, true);
        assert_eq!((a.lo, a.hi, a.step), (-4.0, 12.0, 2.0));
        let a = Axis::fit([36.1, 55.7], 400, 960, Lang::En, false);
        assert_eq!((a.lo, a.hi, a.step), (0.0, 60.0, 10.0));
        let a = Axis::fit([-2.4, -0.2], 400, 960, Lang::En, true);
        assert!(a.lo <= -2.4 && a.hi >= 0.0 && a.ticks().contains(&0.0));
        // Ticks never crowd: euros in the hundred thousands on a narrow axis.
        let a = Axis::fit([-150_000.0, 420_000.0], 600, 960, Lang::Nl, true);
        let n = a.ticks().len() as f64;
        let widest = a
            .ticks()
            .iter()
            .map(|&v| TICK.width(&a.label(v, Lang::Nl)))
            .fold(0.0, f64::max);
        assert!(widest + 20.0 <= 360.0 / (n - 1.0));
    }
}
