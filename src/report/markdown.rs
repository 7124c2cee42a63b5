//! Markdown rendering of the report blocks; charts are linked as PNG files beside it.

use super::document::Block;

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Render blocks as GitHub-flavoured Markdown.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, t) => {
                out.push_str(&format!("{} {t}\n\n", "#".repeat(*level as usize)));
            }
            Block::Paragraph(t) => out.push_str(&format!("{t}\n\n")),
            Block::Warning(t) => out.push_str(&format!("> **{t}**\n\n")),
            Block::List(items) => {
                for i in items {
                    out.push_str(&format!("- {i}\n"));
                }
                out.push('\n');
            }
            Block::Table(rows) => {
                if let Some((head, body)) = rows.split_first() {
                    let h: Vec<String> = head.iter().map(|c| cell(c)).collect();
                    out.push_str(&format!("| {} |\n", h.join(" | ")));
                    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                    for r in body {
                        let r: Vec<String> = r.iter().map(|c| cell(c)).collect();
                        out.push_str(&format!("| {} |\n", r.join(" | ")));
                    }
                    out.push('\n');
                }
            }
            Block::Chart { stem, alt } => out.push_str(&format!("![{alt}]({stem}.png)\n\n")),
            Block::Links(links) => {
                for (text, href) in links {
                    out.push_str(&format!("- [{text}]({})\n", href.replace(".html", ".md")));
                }
                out.push('\n');
            }
            Block::Finding { title, text } => {
                out.push_str(&format!("> **{title}**\n>\n> {text}\n\n"));
            }
        }
    }
    out
}
