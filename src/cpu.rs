//! What the CPU offers and which code paths this binary takes on it, for the benchmark
//! report (`via-eval cpu-paths`, a hidden command: `scripts/bench/run` prints its lines
//! beside the CPU model, so that a timing says which instructions produced it).
//!
//! The binary is built for the x86-64 baseline unless `-C target-cpu` says otherwise
//! ([`built_for`] lists the target features fixed at compile time). A few kernels pick a
//! path at run time with `is_x86_feature_detected!`; the report takes their choice from
//! the kernels themselves (`stats::resample::kernel_paths`: the resampling key stream,
//! AVX-512F, AVX2 or portable, and the bit sums of randomisation inference, POPCNT + BMI1
//! or portable), not from a second copy of their tests, which had drifted: it named the
//! portable key stream on AVX2 machines after the AVX2 path was added. Everything else
//! is portable Rust as compiled, plus what dependencies choose for themselves (memchr's
//! SSE2/AVX2 searches, faer's SIMD dispatch), which is not reported here.

/// The instruction-set extensions asked about, in the order they are reported.
#[cfg(target_arch = "x86_64")]
pub fn features() -> Vec<(&'static str, bool)> {
    use std::arch::is_x86_feature_detected as has;
    vec![
        ("sse4.2", has!("sse4.2")),
        ("popcnt", has!("popcnt")),
        ("avx", has!("avx")),
        ("avx2", has!("avx2")),
        ("fma", has!("fma")),
        ("bmi1", has!("bmi1")),
        ("bmi2", has!("bmi2")),
        ("avx512f", has!("avx512f")),
        ("avx512bw", has!("avx512bw")),
        ("avx512vl", has!("avx512vl")),
    ]
}

/// No run-time detection off x86-64.
#[cfg(not(target_arch = "x86_64"))]
pub fn features() -> Vec<(&'static str, bool)> {
    Vec::new()
}

/// The target features the binary was compiled with (available without any test).
pub fn built_for() -> Vec<&'static str> {
    let mut out = Vec::new();
    if cfg!(target_feature = "sse2") {
        out.push("sse2");
    }
    if cfg!(target_feature = "sse4.2") {
        out.push("sse4.2");
    }
    if cfg!(target_feature = "avx") {
        out.push("avx");
    }
    if cfg!(target_feature = "avx2") {
        out.push("avx2");
    }
    if cfg!(target_feature = "fma") {
        out.push("fma");
    }
    if cfg!(target_feature = "avx512f") {
        out.push("avx512f");
    }
    out
}

/// The report printed by `via-eval cpu-paths`: one `key: value` line each; `kernels`
/// are the paths the kernels chose at run time, as (kernel, path), asked from the
/// kernels themselves by the caller (this module is a leaf and computes nothing).
pub fn report(kernels: &[(&str, &str)]) -> String {
    let detected: Vec<String> = features()
        .iter()
        .map(|&(f, on)| format!("{f} {}", if on { "yes" } else { "no" }))
        .collect();
    let mut out = format!(
        "arch: {}\nbuilt for: {}\ndetected: {}\n",
        std::env::consts::ARCH,
        match built_for() {
            v if v.is_empty() => "no SIMD target features".to_string(),
            v => v.join(", "),
        },
        if detected.is_empty() {
            "no run-time detection on this architecture".to_string()
        } else {
            detected.join(", ")
        }
    );
    for (kernel, path) in kernels {
        out.push_str(&format!("{kernel}: {path}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report lists the features, then each kernel's path as given.
    #[test]
    fn report_lists_features_then_kernels() {
        let r = report(&[("k1", "path one"), ("k2", "path two")]);
        assert!(r.starts_with(&format!("arch: {}\n", std::env::consts::ARCH)));
        assert_eq!(r.lines().count(), 5);
        assert!(r.ends_with("k1: path one\nk2: path two\n"));
        #[cfg(target_arch = "x86_64")]
        assert!(built_for().contains(&"sse2"));
    }
}
