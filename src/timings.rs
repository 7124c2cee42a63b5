//! Wall times of the phases of a command, for reading benchmark results.
//!
//! With the environment variable `VIA_EVAL_TIMINGS` set (to anything but empty or
//! `0`), each timed phase prints one line to standard error when it ends:
//!
//! ```text
//! timing: read                              0.081 s   cpu   0.150 s   peak     41 MB   now     38 MB
//! ```
//!
//! The second figure is the CPU time (user + system, all threads) the process spent
//! during the phase, so a phase's use of the cores is cpu / wall; the third is the
//! peak resident memory of the process so far (the peak `/usr/bin/time` reports at
//! the end), so the phase that raised it is the first whose figure is the final one;
//! the fourth the resident memory when the phase ended. They are shown on Linux with
//! glibc only.
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
    cpu: Option<f64>,
}

/// The CPU time (user + system) of the whole process so far, in seconds, and its peak
/// resident memory so far, in bytes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn usage() -> Option<(f64, u64)> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: `getrusage` writes a whole `rusage` into the pointer it is given and
    // returns 0 when it has; the value is read only then.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    // Linux gives the peak in kilobytes.
    let peak = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    Some((secs(usage.ru_utime) + secs(usage.ru_stime), peak))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn usage() -> Option<(f64, u64)> {
    None
}

/// The resident memory of the process now, in bytes (Linux: the second field of
/// `/proc/self/statm`, in pages).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system setting.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Start timing a phase, or `None` when timings are off.
pub fn phase(name: impl Into<Cow<'static, str>>) -> Option<Phase> {
    enabled().then(|| Phase {
        name: name.into(),
        start: Instant::now(),
        cpu: usage().map(|u| u.0),
    })
}

impl Drop for Phase {
    fn drop(&mut self) {
        let wall = self.start.elapsed().as_secs_f64();
        match self.cpu.zip(usage()) {
            Some((a, (b, peak))) => eprintln!(
                "timing: {:<32} {wall:>8.3} s   cpu {:>7.3} s   peak {:>6} MB   now {:>6} MB",
                self.name,
                b - a,
                peak / 1_000_000,
                resident().unwrap_or(0) / 1_000_000
            ),
            None => eprintln!("timing: {:<32} {wall:>8.3} s", self.name),
        }
    }
}

/// Run `f` as the phase `name`.
pub fn time<T>(name: impl Into<Cow<'static, str>>, f: impl FnOnce() -> T) -> T {
    let _p = phase(name);
    f()
}
