//! What the CPU offers and which code paths this binary takes on it, for the benchmark
//! report (`via-eval cpu-paths`, a hidden command: `scripts/bench/run` prints its lines
//! beside the CPU model, so that a timing says which instructions produced it).
//!
//! The binary is built for the x86-64 baseline unless `-C target-cpu` says otherwise
//! ([`built_for`] lists the target features fixed at compile time). A few kernels pick a
//! path at run time with `is_x86_feature_detected!`; [`paths`] repeats their tests, so
//! it must change with them: the resampling key stream
//! (`stats::resample::keystream`: AVX-512F or the portable loop) and the bit sums of
//! randomisation inference (`stats::resample::ri`: POPCNT + BMI1 or portable). Everything
//! else is portable Rust as compiled, plus what dependencies choose for themselves
//! (memchr's SSE2/AVX2 searches, faer's SIMD dispatch), which is not reported here.

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

/// The run-time choices of this binary's own kernels on this CPU: (kernel, path taken).
pub fn paths() -> Vec<(&'static str, String)> {
    let has = |name: &str| features().iter().any(|&(f, on)| f == name && on);
    let keystream = if has("avx512f") {
        "AVX-512F (16 ChaCha8 blocks per vector)".to_string()
    } else {
        "portable loop as compiled (AVX-512F not detected)".to_string()
    };
    let ri = if has("popcnt") && has("bmi1") {
        "POPCNT + BMI1".to_string()
    } else {
        "portable (POPCNT or BMI1 not detected)".to_string()
    };
    vec![
        (
            "resampling key stream (stats::resample::keystream)",
            keystream,
        ),
        ("randomisation-inference bit sums (stats::resample::ri)", ri),
    ]
}

/// The report printed by `via-eval cpu-paths`: one `key: value` line each.
pub fn report() -> String {
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
    for (kernel, path) in paths() {
        out.push_str(&format!("{kernel}: {path}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths follow the detected features: each kernel's fast path is named exactly
    /// when its features are there.
    #[test]
    fn paths_follow_the_features() {
        let f = features();
        let on = |n: &str| f.iter().any(|&(x, v)| x == n && v);
        let p = paths();
        assert_eq!(p[0].1.starts_with("AVX-512F"), on("avx512f"));
        assert_eq!(p[1].1 == "POPCNT + BMI1", on("popcnt") && on("bmi1"));
        let r = report();
        assert!(r.starts_with(&format!("arch: {}\n", std::env::consts::ARCH)));
        assert_eq!(r.lines().count(), 3 + p.len());
        #[cfg(target_arch = "x86_64")]
        assert!(built_for().contains(&"sse2"));
    }
}
