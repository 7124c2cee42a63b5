//! The documentation stays true to the repository (issue 13): every relative link in
//! the READMEs and docs/ points at a file that exists (and a `#section` at a heading
//! that exists), and the documented columns of results.csv are the columns the code
//! writes.

mod common;

use common::root;
use std::path::{Path, PathBuf};

/// The Markdown files whose links are checked: the READMEs a reader meets first and
/// every page under docs/.
fn documents() -> Vec<PathBuf> {
    let r = root();
    let mut v: Vec<PathBuf> = ["README.md", "pilots/README.md", "notebooks-data/README.md"]
        .iter()
        .map(|p| r.join(p))
        .collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(r.join("docs"))
        .expect("docs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    v.extend(docs);
    v
}

/// The prose of a Markdown file: fenced code blocks and inline code removed, so that a
/// link-like text inside code is not taken for a link.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        // Drop `inline code`.
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// The targets of inline links and images, `[text](target)`, with their line numbers.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut v = Vec::new();
    for (i, line) in prose(text).lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            v.push((i + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    v
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    prose(&text)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn relative_links_in_the_docs_resolve() {
    let mut dead = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (line, target) in links(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let dest = if file.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(file)
            };
            let name = doc
                .strip_prefix(root())
                .unwrap_or(&doc)
                .display()
                .to_string();
            if !dest.exists() {
                dead.push(format!("{name}:{line}: {target} (no such file)"));
            } else if let Some(a) = fragment
                && dest.extension().is_some_and(|x| x == "md")
                && !anchors(&dest).iter().any(|h| h == a)
            {
                dead.push(format!("{name}:{line}: {target} (no such section)"));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} links found: is the parser right?"
    );
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

/// The checker itself finds what it should and skips code.
#[test]
fn the_link_checker_finds_links_outside_code_only() {
    let text = "See [a](docs/a.md) and ![b](img.png#x).\n`[c](no.md)`\n```\n[d](no.md)\n```\n";
    let got: Vec<String> = links(text).into_iter().map(|(_, t)| t).collect();
    assert_eq!(got, ["docs/a.md", "img.png#x"]);
    assert_eq!(anchor(" Verified numbers"), "verified-numbers");
    assert_eq!(anchor("The JSON contract"), "the-json-contract");
}

/// docs/results-columns.md documents exactly the columns of results.csv, in order,
/// with both names.
#[test]
fn the_documented_columns_are_the_written_columns() {
    use via_eval::report::columns::COLUMNS;
    let text = std::fs::read_to_string(root().join("docs/results-columns.md")).unwrap();
    let documented: Vec<(String, String)> = text
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_string(),
                cells[2].trim_matches('`').to_string(),
            )
        })
        .collect();
    let written: Vec<(String, String)> = COLUMNS
        .iter()
        .map(|c| (c.name.to_string(), c.broom.to_string()))
        .collect();
    assert_eq!(
        documented, written,
        "docs/results-columns.md and report::columns::COLUMNS differ"
    );
}

/// The README's layout names every module of src/cli.
#[test]
fn the_readme_layout_names_every_cli_module() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let layout = readme
        .split_once("## Layout")
        .expect("README has a Layout section")
        .1;
    let mut missing = Vec::new();
    for e in std::fs::read_dir(root().join("src/cli")).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if stem != "mod" && !layout.contains(stem.as_str()) {
            missing.push(stem);
        }
    }
    assert!(
        missing.is_empty(),
        "README layout lacks src/cli modules: {missing:?}"
    );
}
