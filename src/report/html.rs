//! Self-contained HTML rendering of the report blocks: styles inline, charts embedded
//! as base64 PNG data, no external assets.

use base64::Engine;
use std::collections::HashMap;

use super::document::Block;
use crate::config::Lang;

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;max-width:1080px;margin:2em auto;padding:0 1em;color:#1a1a1a;line-height:1.45}\
h1{font-size:1.7em;border-bottom:2px solid #0072B2;padding-bottom:.2em}h2{font-size:1.3em;margin-top:1.8em;color:#0b3d5c}\
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#eef4f9}tr:nth-child(even) td{background:#fafafa}.warn{background:#fff4e5;border-left:5px solid #E69F00;padding:.6em 1em;font-weight:600}\
img{max-width:100%;height:auto;border:1px solid #e5e5e5;margin:.5em 0}\
.finding{background:#eef6fb;border-left:6px solid #0072B2;padding:.5em 1.1em;margin:.8em 0;font-size:1.05em}.finding h3{margin:.3em 0 .2em;font-size:1.1em;color:#0b3d5c}.finding p{margin:.2em 0 .5em}\
.tbl{overflow-x:auto;max-width:100%}@media (max-width:600px){body{margin:1em auto}table{font-size:.82em}th,td{padding:.25em .4em}}\
@page{size:A4;margin:15mm}@media print{body{max-width:none;margin:0;font-size:10pt}.tbl{overflow:visible}.finding,figure,tr{break-inside:avoid}h2{break-after:avoid}}";

/// Render blocks as one HTML page; `charts` maps a chart stem to its PNG bytes.
pub fn render(
    blocks: &[Block],
    charts: &HashMap<String, Vec<u8>>,
    lang: Lang,
    title: &str,
) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"via-eval\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        match lang {
            Lang::Nl => "nl",
            Lang::En => "en",
        },
        esc(title)
    );
    for b in blocks {
        match b {
            Block::Heading(level, t) => out.push_str(&format!("<h{level}>{}</h{level}>\n", esc(t))),
            Block::Paragraph(t) => out.push_str(&format!("<p>{}</p>\n", esc(t))),
            Block::Warning(t) => out.push_str(&format!("<p class=\"warn\">{}</p>\n", esc(t))),
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", esc(i)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(rows) => {
                if let Some((head, body)) = rows.split_first() {
                    out.push_str("<div class=\"tbl\" tabindex=\"0\">\n<table>\n<thead><tr>");
                    for c in head {
                        out.push_str(&format!("<th scope=\"col\">{}</th>", esc(c)));
                    }
                    out.push_str("</tr></thead>\n<tbody>\n");
                    for r in body {
                        out.push_str("<tr>");
                        for c in r {
                            out.push_str(&format!("<td>{}</td>", esc(c)));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</tbody>\n</table>\n</div>\n");
                }
            }
            Block::Links(links) => {
                out.push_str("<ul>\n");
                for (text, href) in links {
                    out.push_str(&format!(
                        "<li><a href=\"{}\">{}</a></li>\n",
                        esc(href),
                        esc(text)
                    ));
                }
                out.push_str("</ul>\n");
            }
            Block::Finding { title, text } => out.push_str(&format!(
                "<section class=\"finding\"><h3>{}</h3><p>{}</p></section>\n",
                esc(title),
                esc(text)
            )),
            Block::Chart { stem, alt } => {
                if let Some(png) = charts.get(stem) {
                    let data = base64::engine::general_purpose::STANDARD.encode(png);
                    out.push_str(&format!(
                        "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\"></figure>\n",
                        esc(alt)
                    ));
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
