//! Snapshot tests of what a reader sees: report.md of leren-en-werken (Dutch) and of
//! uwv-dienstverlening-ww (English), the terminal summary of leren-en-werken, and the
//! structure of its report.html (tags, headings and table shapes; image data left out).
//! A change in a report then shows as a diff in review.
//!
//! The snapshots are in `tests/snapshots/`. When one differs, `cargo test` fails and
//! insta writes the new version beside it as `.snap.new`. To review:
//! `cargo insta review` (with `cargo install cargo-insta`), or
//! `INSTA_UPDATE=always cargo test --test snapshots` and then `git diff tests/snapshots`;
//! commit the `.snap` files only when the change is intended.
//!
//! Snapshots hold no absolute paths, dates or version numbers: the data folder is
//! replaced by `[data]` and the package version by `[version]`.

use std::path::{Path, PathBuf};

use via_eval::analysis::{Options, PilotResults, Privacy};
use via_eval::cli::pilot::{evaluate, render_outputs};
use via_eval::config::{Lang, PilotSpec};
use via_eval::report::tables::terminal_summary;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data_dir() -> PathBuf {
    root().join("notebooks-data")
}

fn results(slug: &str) -> PilotResults {
    let spec = PilotSpec::from_file(&root().join("pilots").join(format!("{slug}.toml")))
        .unwrap_or_else(|e| panic!("{slug}: {e}"));
    evaluate(&spec, &data_dir(), &Options::default(), Privacy::default())
        .unwrap_or_else(|e| panic!("{slug}: {e}"))
}

/// The text of one rendered output file.
fn output(r: &PilotResults, lang: Lang, name: &str) -> String {
    let files = render_outputs(r, lang).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (_, bytes) = files
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} among the outputs"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Leave out what differs between machines and releases.
fn portable(text: &str) -> String {
    let mut t = text.replace(&data_dir().to_string_lossy().to_string(), "[data]");
    t = t.replace(&root().to_string_lossy().to_string(), "[root]");
    t.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

#[test]
fn report_md_leren_en_werken_nl() {
    let r = results("leren-en-werken");
    insta::assert_snapshot!(
        "report_md_leren_en_werken_nl",
        portable(&output(&r, Lang::Nl, "report.md"))
    );
}

#[test]
fn report_md_uwv_dienstverlening_ww_en() {
    let r = results("uwv-dienstverlening-ww");
    insta::assert_snapshot!(
        "report_md_uwv_dienstverlening_ww_en",
        portable(&output(&r, Lang::En, "report.md"))
    );
}

#[test]
fn terminal_summary_leren_en_werken() {
    let r = results("leren-en-werken");
    insta::assert_snapshot!(
        "terminal_summary_leren_en_werken_nl",
        portable(&terminal_summary(&r, Lang::Nl))
    );
}

#[test]
fn report_html_structure_leren_en_werken() {
    let r = results("leren-en-werken");
    let html = output(&r, Lang::Nl, "report.html");
    insta::assert_snapshot!(
        "report_html_structure_leren_en_werken_nl",
        portable(&outline(&html))
    );
}

// ---- An outline of an HTML document -------------------------------------------------

#[derive(Debug)]
enum Tok {
    Open(String, String),
    Close(String),
    Text(String),
}

/// Split HTML into tags and text (enough for the reports this crate writes: no
/// comments, no `>` inside attribute values).
fn tokens(html: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        if lt > 0 {
            toks.push(Tok::Text(rest[..lt].to_string()));
        }
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            toks.push(Tok::Close(name.trim().to_ascii_lowercase()));
        } else if !tag.starts_with('!') {
            let tag = tag.trim_end_matches('/');
            let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            toks.push(Tok::Open(name.to_ascii_lowercase(), attrs.to_string()));
        }
    }
    if !rest.is_empty() {
        toks.push(Tok::Text(rest.to_string()));
    }
    toks
}

/// The value of attribute `name` in an attribute string.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=\"");
    let start = attrs
        .match_indices(&pat)
        .find(|(i, _)| *i == 0 || attrs.as_bytes()[i - 1].is_ascii_whitespace())?
        .0
        + pat.len();
    let len = attrs[start..].find('"')?;
    Some(attrs[start..start + len].to_string())
}

const VOID: &[&str] = &["meta", "img", "br", "hr", "link", "input"];
const INLINE: &[&str] = &[
    "a", "b", "i", "em", "strong", "code", "span", "sup", "sub", "small", "br", "abbr",
];
/// Tags whose text is part of the outline.
const TITLED: &[&str] = &[
    "title",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "caption",
    "figcaption",
    "summary",
];

/// A tag, its id and class, and for images the alt text and the kind of source (the
/// data of an inline image left out).
fn describe(name: &str, attrs: &str) -> String {
    let mut s = name.to_string();
    if let Some(id) = attr(attrs, "id") {
        s += &format!(" #{id}");
    }
    if let Some(class) = attr(attrs, "class") {
        s += &format!(" .{class}");
    }
    if name == "img" {
        if let Some(alt) = attr(attrs, "alt") {
            s += &format!(" alt=\"{alt}\"");
        }
        if let Some(src) = attr(attrs, "src") {
            let src = match src.split_once(',') {
                Some((head, _)) if src.starts_with("data:") => format!("{head},[data left out]"),
                _ => src,
            };
            s += &format!(" src=\"{src}\"");
        }
    }
    if name == "meta" {
        for a in ["charset", "name"] {
            if let Some(v) = attr(attrs, a) {
                s += &format!(" {a}=\"{v}\"");
            }
        }
    }
    s
}

/// Text up to the close of `name`, inline tags dropped and spaces collapsed; returns
/// the text and the index after the closing tag.
fn text_until(toks: &[Tok], mut i: usize, name: &str) -> (String, usize) {
    let mut text = String::new();
    while i < toks.len() {
        match &toks[i] {
            Tok::Close(n) if n == name => return (collapse(&text), i + 1),
            Tok::Text(t) => text.push_str(t),
            _ => {}
        }
        i += 1;
    }
    (collapse(&text), i)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line for a table: its header cells and, per body, the number of rows and the
/// number of cells per row.
fn table_shape(toks: &[Tok], mut i: usize) -> (String, usize) {
    let mut header: Vec<String> = Vec::new();
    let mut rows: Vec<usize> = Vec::new();
    let mut in_head = false;
    while i < toks.len() {
        match &toks[i] {
            Tok::Close(n) if n == "table" => {
                i += 1;
                break;
            }
            Tok::Open(n, _) if n == "thead" => in_head = true,
            Tok::Close(n) if n == "thead" => in_head = false,
            Tok::Open(n, _) if n == "tr" && !in_head => rows.push(0),
            Tok::Open(n, _) if n == "th" && in_head => {
                let (t, next) = text_until(toks, i + 1, "th");
                header.push(t);
                i = next;
                continue;
            }
            Tok::Open(n, _) if (n == "td" || n == "th") && !in_head => {
                if let Some(last) = rows.last_mut() {
                    *last += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut widths: Vec<usize> = rows.clone();
    widths.dedup();
    let shape = match widths.as_slice() {
        [w] => format!("{} rows x {w} cells", rows.len()),
        _ => format!("{} rows, cells per row {rows:?}", rows.len()),
    };
    (format!("table [{}] {shape}", header.join(" | ")), i)
}

/// An indented outline of an HTML document: block tags, the text of titles and
/// headings, and one line per table.
fn outline(html: &str) -> String {
    let toks = tokens(html);
    let mut out = String::new();
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let indent = "  ".repeat(stack.len());
        match &toks[i] {
            Tok::Open(name, _) if name == "style" || name == "script" => {
                out += &format!("{indent}{name}\n");
                i = text_until(&toks, i + 1, name).1;
                continue;
            }
            Tok::Open(name, _) if name == "table" => {
                let (line, next) = table_shape(&toks, i + 1);
                out += &format!("{indent}{line}\n");
                i = next;
                continue;
            }
            Tok::Open(name, attrs) if TITLED.contains(&name.as_str()) => {
                let (text, next) = text_until(&toks, i + 1, name);
                out += &format!("{indent}{}: {text}\n", describe(name, attrs));
                i = next;
                continue;
            }
            Tok::Open(name, attrs)
                if VOID.contains(&name.as_str()) && !INLINE.contains(&name.as_str()) =>
            {
                out += &format!("{indent}{}\n", describe(name, attrs));
            }
            Tok::Open(name, attrs) if !INLINE.contains(&name.as_str()) => {
                out += &format!("{indent}{}\n", describe(name, attrs));
                stack.push(name.clone());
            }
            Tok::Close(name) if stack.last() == Some(name) => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn outline_leaves_out_image_data_and_counts_table_rows() {
    let html = "<html><body><h2 id=\"x\">Effects <em>now</em></h2>\
        <figure><img alt=\"chart\" src=\"data:image/png;base64,AAAA\"></figure>\
        <table><thead><tr><th>a</th><th>b</th></tr></thead>\
        <tbody><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4</td></tr></tbody></table>\
        <p>text <strong>bold</strong></p></body></html>";
    assert_eq!(
        outline(html),
        "html\n  body\n    h2 #x: Effects now\n    figure\n      \
         img alt=\"chart\" src=\"data:image/png;base64,[data left out]\"\n    \
         table [a | b] 2 rows x 2 cells\n    p\n"
    );
}
