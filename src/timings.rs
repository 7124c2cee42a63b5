//! Wall times of the phases of a command, for reading benchmark results.
//!
//! With the environment variable `VIA_EVAL_TIMINGS` set (to anything but empty or
//! `0`), each timed phase prints one line to standard error when it ends:
//!
//! ```text
//! timing: read                              0.081 s
//! ```
//!
//! Unset (the default), nothing is measured or printed and no output changes. The
//! phases are named where they are timed (`compare`: read, check, factor, prepare,
//! design, fit, sandwich, analysis, output, and for time-to-event outcomes `survival:
//! sort`, `survival: cox` and `survival: curves and log-rank`; `did`: the read, the
//! panel reader's steps as `panel: ...`, the estimators as `did: ...` and
//! Callaway-Sant'Anna's wide form and cells as `cs: ...`); a phase inside another is
//! printed before it, so the lines are in order of their ends, not their starts.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

/// The environment variable that turns the timings on.
pub const ENV: &str = "VIA_EVAL_TIMINGS";

/// Whether timings are on (read once per process).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os(ENV).is_some_and(|v| !v.is_empty() && v != "0"))
}

/// A running phase; prints its wall time to standard error when dropped.
#[must_use = "a phase is timed until it is dropped"]
pub struct Phase {
    name: Cow<'static, str>,
    start: Instant,
}

/// Start timing a phase, or `None` when timings are off.
pub fn phase(name: impl Into<Cow<'static, str>>) -> Option<Phase> {
    enabled().then(|| Phase {
        name: name.into(),
        start: Instant::now(),
    })
}

impl Drop for Phase {
    fn drop(&mut self) {
        eprintln!(
            "timing: {:<32} {:>8.3} s",
            self.name,
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Run `f` as the phase `name`.
pub fn time<T>(name: impl Into<Cow<'static, str>>, f: impl FnOnce() -> T) -> T {
    let _p = phase(name);
    f()
}
