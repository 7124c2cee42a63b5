//! The import graph of the library follows its stages: cli → config → prepare →
//! analysis → stats, with data under prepare and report/plot beside analysis computing
//! nothing. This test reads every source file and fails on an import that goes the
//! wrong way, on clap outside the command line, on polars outside the modules that
//! read or write frames, and on file I/O in the stages that must not do any.
//!
//! Only code counts: comments and `#[cfg(test)]` modules (at the end of a file, as
//! everywhere in this crate) are skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which top-level modules each module may use (`crate::<module>`); itself always.
const ALLOWED: &[(&str, &[&str])] = &[
    ("stats", &[]),
    ("error", &[]),
    ("memory", &[]),
    // Phase timings (VIA_EVAL_TIMINGS=1) and the CPU paths the binary chose: leaves,
    // used by the stages to report on themselves, never to compute a result.
    ("timings", &[]),
    ("cpu", &[]),
    // Numbers for people (decimal comma, p-values): shared by the findings and the
    // renderers so a number reads the same in both.
    ("numfmt", &["config"]),
    ("config", &["stats", "error"]),
    // The reader times its own phases (head, check, values) like the stages above it.
    ("data", &["config", "error", "memory", "timings"]),
    // `data::Numbers` and `data::Labels` only (see EXCEPTIONS): the analysis never sees a
    // frame or a path.
    (
        "analysis",
        &["config", "stats", "numfmt", "error", "timings"],
    ),
    (
        "prepare",
        &["analysis", "config", "data", "stats", "error", "timings"],
    ),
    ("plot", &["config", "numfmt", "stats", "error"]),
    (
        "report",
        &["analysis", "config", "numfmt", "plot", "stats", "error"],
    ),
    ("simulate", &["config", "stats", "error"]),
    ("coverage", &["stats", "error"]),
    (
        "cli",
        &[
            "analysis", "config", "coverage", "data", "error", "plot", "prepare", "report",
            "simulate", "stats", "memory", "timings", "cpu",
        ],
    ),
];

/// Single items a module may take from a module it may not otherwise use, and why.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "analysis",
        "crate::data::Numbers",
        "the numeric column type, shared with the reader without a copy",
    ),
    (
        "analysis",
        "crate::data::Labels",
        "many labels in one buffer (a panel's units), a plain container beside Numbers",
    ),
];

/// Modules that may name these crates (besides `main.rs`).
const CRATE_USERS: &[(&str, &[&str])] = &[
    ("clap", &["cli"]),
    // Frames: reading (data), the Parquet results table (report::columns), and the
    // synthetic data the simulator writes.
    ("polars", &["data", "report", "simulate"]),
];

/// Modules that must not touch files themselves.
const NO_FILE_IO: &[&str] = &["analysis", "stats", "report", "plot", "prepare", "coverage"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file: without comment lines, trailing comments and the test module.
fn code(text: &str) -> String {
    let body = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    body.lines()
        .map(|l| l.trim_start())
        .filter(|l| !l.starts_with("//"))
        .map(|l| match l.find(" //") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a source file belongs to (`src/stats/ols/fit.rs` → `stats`).
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<module>` path in the code, with the item path as written.
fn crate_paths(code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        let tail = &rest[i + "crate::".len()..];
        rest = tail;
        // `$crate::`, `other_crate::` or `a::crate::` are not this crate's paths.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$') {
            continue;
        }
        let module: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let item: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        // `crate::Result` and `crate::Error` are the error module's, re-exported.
        let module = match module.as_str() {
            "Result" | "Error" => "error".to_string(),
            _ => module,
        };
        out.push((module, format!("crate::{}", item.trim_end_matches(':'))));
    }
    out
}

fn uses_crate(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().last();
        let after = &code[i + name.len()..];
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"')
            && after.starts_with("::")
    })
}

#[test]
fn imports_follow_the_stages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    let mut seen_modules = 0;
    for f in &files {
        let module = module_of(&root, f);
        if module == "main" || module == "lib" {
            continue;
        }
        seen_modules += 1;
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "{}: module `{module}` is not in the layer table of tests/layers.rs; add it",
                f.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        let code = code(&text);
        for (used, item) in crate_paths(&code) {
            let ok = used == module
                || may.contains(&used.as_str())
                || EXCEPTIONS
                    .iter()
                    .any(|(m, it, _)| *m == module && item.starts_with(it));
            if !ok {
                wrong.push(format!("{}: `{module}` uses {item}", f.display()));
            }
        }
        for (krate, users) in CRATE_USERS {
            if uses_crate(&code, krate) && !users.contains(&module.as_str()) {
                wrong.push(format!(
                    "{}: `{module}` uses the {krate} crate",
                    f.display()
                ));
            }
        }
        if NO_FILE_IO.contains(&module.as_str())
            && ["std::fs", "File::open", "File::create"]
                .iter()
                .any(|p| code.contains(p))
        {
            wrong.push(format!("{}: `{module}` does file I/O", f.display()));
        }
    }
    assert!(seen_modules > 50, "only {seen_modules} source files read");
    assert!(
        wrong.is_empty(),
        "imports against the stages:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_a_wrong_import() {
    // The scanner itself: an upward import, a commented one, another crate's path.
    let c = code("use crate::cli::x;\n// use crate::report::y;\nlet a = via_eval::crate::z;\n");
    let paths = crate_paths(&c);
    assert_eq!(paths, [("cli".to_string(), "crate::cli::x".to_string())]);
    assert!(uses_crate("#[derive(clap::ValueEnum)]", "clap"));
    assert!(!uses_crate("let clap = 1; \"clap::x\"", "clap"));
    assert!(
        code("fn f() {}\n#[cfg(test)]\nmod tests { use crate::cli; }")
            .find("cli")
            .is_none()
    );
}
