//! The coverage report as an aligned text table, a Markdown table or JSON.

use std::fmt::Write as _;

use super::design::{Design, EFFECT_BINARY, EFFECT_CONTINUOUS, Outcome};
use super::summary::{CoverageReport, CoverageRow};

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}", 100.0 * v)
    } else {
        "-".into()
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

const HEADER: [&str; 11] = [
    "design",
    "outcome",
    "estimator",
    "df",
    "coverage %",
    "MC SE %",
    "mean width",
    "SE/SD",
    "mean df",
    "bias",
    "failed",
];

fn cells(r: &CoverageRow) -> [String; 11] {
    [
        r.design.key().to_string(),
        r.outcome.key().to_string(),
        r.estimator.to_string(),
        r.df_rule.to_string(),
        pct(r.coverage),
        format!("{:.2}", 100.0 * r.mc_se),
        num(r.mean_width, 3),
        num(r.se_ratio, 3),
        num(r.mean_df, 1),
        format!("{:+.4}", r.bias),
        r.failed.to_string(),
    ]
}

fn preamble(report: &CoverageReport) -> Vec<String> {
    let mut lines = vec![format!(
        "Coverage of {:.0}% intervals: {} trials per design and outcome, seed {}; true effect {} (continuous), {} (binary risk difference).",
        100.0 * report.conf_level,
        report.trials,
        report.seed,
        EFFECT_CONTINUOUS,
        EFFECT_BINARY
    )];
    for d in &report.designs {
        lines.push(format!("{}: {}", d.design.key(), d.description));
    }
    lines
}

/// A plain-text table with aligned columns.
pub fn render_table(report: &CoverageReport) -> String {
    let body: Vec<[String; 11]> = report.rows.iter().map(cells).collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in preamble(report) {
        let _ = writeln!(out, "{l}");
    }
    out.push('\n');
    // Text columns left-aligned, numbers right-aligned.
    let line = |cols: &[String]| {
        let parts: Vec<String> = cols
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i < 4 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    let _ = writeln!(out, "{}", "-".repeat(total));
    let mut last: Option<(Design, Outcome)> = None;
    for (r, row) in report.rows.iter().zip(&body) {
        if last.is_some_and(|l| l != (r.design, r.outcome)) {
            out.push('\n');
        }
        last = Some((r.design, r.outcome));
        let _ = writeln!(out, "{}", line(row));
    }
    out
}

/// A Markdown table (for the documentation).
pub fn render_markdown(report: &CoverageReport) -> String {
    let mut out = String::new();
    for l in preamble(report) {
        let _ = writeln!(out, "{l}  ");
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let align: Vec<&str> = (0..HEADER.len())
        .map(|i| if i < 4 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "| {} |", align.join(" | "));
    for r in &report.rows {
        let _ = writeln!(out, "| {} |", cells(r).join(" | "));
    }
    out
}

/// The report as pretty-printed JSON.
pub fn render_json(report: &CoverageReport) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
