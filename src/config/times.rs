//! The default reporting times of a time-to-event outcome (when the config gives no
//! `at`), shared by the analysis (survival table, at-risk table) and the simulator
//! (the truth at the same times).

/// Nice, evenly spaced times from 0 to at most `max` (about five steps): steps of 1, 2,
/// 2.5, 5 or 10 times a power of ten.
pub fn nice_times(max: f64) -> Vec<f64> {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (max / step).floor() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}
