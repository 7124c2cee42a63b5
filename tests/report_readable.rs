//! Issue 18, item 6, checked on every pilot's report in both languages: every chart has
//! alternative text, its PNG and SVG, and a table with its numbers before the next
//! section; the words drawn in a Dutch chart are Dutch and those in an English chart
//! English (no "Aantal at risk"); withheld values read "suppressed" / "onderdrukt",
//! never "not estimable".

mod common;

use common::root;
use via_eval::analysis::{Options, POOLED, PilotResults, Privacy};
use via_eval::cli::pilot::{evaluate, render_outputs};
use via_eval::config::{Lang, PilotSpec};
use via_eval::report::document::{Block, build};

const PILOTS: [&str; 8] = [
    "behoud-en-doorstroom",
    "culturele-diversiteit",
    "intensieve-begeleiding",
    "leren-en-werken",
    "ouderbetrokkenheid-vmbo",
    "uwv-dienstverlening-ww",
    "voorbereiding-mbo",
    "werving-en-selectie",
];

fn results(slug: &str) -> PilotResults {
    let spec = PilotSpec::from_file(&root().join("pilots").join(format!("{slug}.toml")))
        .unwrap_or_else(|e| panic!("{slug}: {e}"));
    evaluate(
        &spec,
        &root().join("notebooks-data"),
        &Options::default(),
        Privacy::default(),
    )
    .unwrap_or_else(|e| panic!("{slug}: {e}"))
}

/// The text drawn in an SVG: the content of its `<text>` elements.
fn svg_words(svg: &str) -> String {
    let mut out = String::new();
    for part in svg.split("<text").skip(1) {
        if let Some(start) = part.find('>')
            && let Some(end) = part.find("</text>")
            && start < end
        {
            out.push_str(&part[start + 1..end]);
            out.push('\n');
        }
    }
    out
}

/// Words of the other language that a chart must not draw. Pilot and arm labels come
/// from the config in the chart's language, so only the fixed words are checked.
fn foreign(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Nl => &[
            "at risk",
            "Number",
            "suppressed",
            "not estimable",
            "Estimate",
            "estimate",
            "months",
            "Treated",
            "Control group",
            "difference",
            "SYNTHETIC",
            "Source",
            " per cent",
            "Analysed",
            "weight",
        ],
        Lang::En => &[
            "Aantal",
            "onderdrukt",
            "niet te schatten",
            "schatting",
            "maanden",
            "verschil",
            "Behandeld",
            "SYNTHETISCHE",
            "Bron",
            "Geanalyseerd",
            "gewicht",
        ],
    }
}

#[test]
fn every_chart_has_alt_text_its_files_and_a_table_in_the_charts_language() {
    let mut charts = 0;
    for slug in PILOTS {
        let r = results(slug);
        for lang in [Lang::Nl, Lang::En] {
            let files = render_outputs(&r, lang).unwrap();
            let file = |name: &str| files.iter().find(|(n, _)| n == name).map(|(_, b)| b);
            let blocks = build(&r, lang);
            for (i, b) in blocks.iter().enumerate() {
                let Block::Chart { stem, alt } = b else {
                    continue;
                };
                charts += 1;
                let at = format!("{slug} ({lang:?}) chart {stem}");
                assert!(alt.trim().len() > 10, "{at}: alt text {alt:?}");
                assert!(file(&format!("{stem}.png")).is_some(), "{at}: no PNG");
                let svg = file(&format!("{stem}.svg")).unwrap_or_else(|| panic!("{at}: no SVG"));
                // Its numbers in a table before the next chart or heading; the effects
                // chart that opens the report points to the main results' tables, which
                // follow under the next heading.
                let until_next = |skip_heading: bool| {
                    let mut headings = 0;
                    blocks[i + 1..]
                        .iter()
                        .take_while(|b| match b {
                            Block::Chart { .. } => false,
                            Block::Heading(..) => {
                                headings += 1;
                                skip_heading && headings == 1
                            }
                            _ => true,
                        })
                        .any(|b| matches!(b, Block::Table(t) if t.len() > 1))
                };
                let points_on =
                    alt.contains("Main results") || alt.contains("Belangrijkste resultaten");
                // Or just above it, when the alternative text says so.
                let above = (alt.contains("table above") || alt.contains("tabel hierboven"))
                    && blocks[..i]
                        .iter()
                        .rev()
                        .take_while(|b| !matches!(b, Block::Chart { .. } | Block::Heading(..)))
                        .any(|b| matches!(b, Block::Table(t) if t.len() > 1));
                let table = until_next(false) || (points_on && until_next(true)) || above;
                assert!(table, "{at}: no table with its numbers beside it");
                let words = svg_words(std::str::from_utf8(svg).unwrap());
                assert!(!words.is_empty(), "{at}: no text found in the SVG");
                for w in foreign(lang) {
                    assert!(!words.contains(w), "{at} draws {w:?}:\n{words}");
                }
                // Labels wrap; one cut short ends in an ellipsis.
                let cut: Vec<&str> = words
                    .lines()
                    .filter(|l| l.trim_end().ends_with('…'))
                    .collect();
                assert!(cut.is_empty(), "{at}: text cut off: {cut:?}");
                // A withheld headline estimate is drawn as withheld, not as a failure.
                let withheld = r
                    .estimates
                    .iter()
                    .any(|e| e.headline && e.subset == POOLED && e.suppressed);
                if stem == "effects" && withheld {
                    let word = match lang {
                        Lang::Nl => "onderdrukt",
                        Lang::En => "suppressed",
                    };
                    assert!(words.contains(word), "{at}: withheld but not said");
                }
            }
        }
    }
    assert!(charts > 40, "only {charts} charts found");
}

#[test]
fn dutch_reports_write_decimal_commas() {
    let mut bad = Vec::new();
    for slug in PILOTS {
        let r = results(slug);
        let blocks = build(&r, Lang::Nl);
        let md = via_eval::report::markdown::render(&blocks);
        for line in md.lines() {
            // Code spans (column names, estimator codes) and addresses are not prose.
            let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
            let prose = prose.split("](").next().unwrap_or("");
            if prose.contains("via-eval 0.") {
                continue;
            }
            // Euro amounts are grouped with dots in Dutch (€6.500): leave them out.
            let prose: String = prose
                .replace("€ ", "€")
                .split(' ')
                .filter(|w| !w.trim_start_matches(['(', '|']).starts_with('€'))
                .collect::<Vec<_>>()
                .join(" ");
            let b = prose.as_bytes();
            for i in 1..b.len().saturating_sub(1) {
                if b[i] == b'.' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit() {
                    bad.push(format!("{slug}: {line}"));
                    break;
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "decimal points in Dutch text:\n{}",
        bad.join("\n")
    );
}

/// A note in the terminal summary names each outcome it is about once, however many
/// subsets or comparisons of that outcome gave it (leren-en-werken's overlap note named
/// each of three outcomes four times).
#[test]
fn terminal_notes_name_each_outcome_once() {
    for slug in PILOTS {
        let r = results(slug);
        for lang in [Lang::Nl, Lang::En] {
            let text = via_eval::report::tables::terminal_summary(&r, lang);
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let labels: Vec<String> = r
                .outcomes
                .iter()
                .map(|o| o.label.get(lang).to_string())
                .collect();
            for a in &labels {
                assert!(
                    !text.contains(&format!("{a}; {a}")),
                    "{slug} ({lang:?}): \"{a}\" twice in a row in a note:\n{text}"
                );
                for b in labels.iter().filter(|b| *b != a) {
                    assert!(
                        !text.contains(&format!("{a}; {b}; {a}")),
                        "{slug} ({lang:?}): \"{a}\" twice in a note"
                    );
                }
            }
        }
    }
}
