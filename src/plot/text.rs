//! Measuring, wrapping and formatting text.
//!
//! Layout is done once, in pixels, before any backend is touched, so the PNG and the
//! SVG come from the same positions. Widths are measured with the embedded DejaVu Sans
//! (the same glyph advances the bitmap backend draws, see `glyphs`). SVG viewers render the text a
//! little smaller (plotters writes `font-size = size / 1.24`), so whatever fits in the
//! PNG also fits in the SVG.

use plotters::style::{FontDesc, FontFamily, FontStyle};

use crate::config::Lang;
pub(crate) use crate::numfmt::format_number;

/// A text face: plotters size units (about 1.16 x the em size in pixels) and weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Font {
    pub size: f64,
    pub bold: bool,
}

impl Font {
    pub(crate) const fn new(size: f64, bold: bool) -> Self {
        Self { size, bold }
    }

    pub(crate) fn bold(self) -> Self {
        Self { bold: true, ..self }
    }

    pub(crate) fn desc(self) -> FontDesc<'static> {
        let style = if self.bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        FontDesc::new(FontFamily::SansSerif, self.size, style)
    }

    /// Width of `text` in pixels, from the embedded font's own metrics (the same
    /// advances and kerning plotters uses, without its rounding to whole pixels).
    pub(crate) fn width(self, text: &str) -> f64 {
        match super::glyphs::face(self.bold) {
            Some(face) => face.layout(text, self.size).1,
            None => match self.desc().box_size(text) {
                Ok((w, _)) => f64::from(w),
                // Generous, so a broken font file degrades the layout, not the report.
                Err(_) => 0.65 * self.size * text.chars().count() as f64,
            },
        }
    }

    /// Distance between baselines of wrapped lines.
    pub(crate) fn line_height(self) -> i32 {
        (self.size * 1.22).round() as i32
    }

    /// Offset from the top of a line box to the baseline that centres capital letters
    /// in the box (DejaVu capitals are about 0.63 x size tall).
    pub(crate) fn baseline_in_line(self) -> i32 {
        (f64::from(self.line_height()) / 2.0 + 0.31 * self.size).round() as i32
    }
}

/// Greedy word wrap of `text` into lines no wider than `max_width`, at most
/// `max_lines` of them; the last kept line ends in an ellipsis when text was cut.
/// Explicit newlines are kept. Words wider than a line are broken between characters
/// (long compound Dutch words in a narrow column). Only ordinary spaces break lines, so
/// callers glue units such as "n = 87" with no-break spaces.
pub(crate) fn wrap(text: &str, font: Font, max_width: f64, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if font.width(&candidate) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for ch in word.chars() {
                line.push(ch);
                if line.chars().count() > 1 && font.width(&line) > max_width {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(ch);
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            *last = with_ellipsis(last, font, max_width);
        }
    }
    lines
}

/// `text` cut so that it plus "…" fits in `max_width`; always ends in "…". Cuts at a
/// word boundary when that keeps at least half the line, so no half words dangle.
fn with_ellipsis(text: &str, font: Font, max_width: f64) -> String {
    let mut kept: String = text.to_string();
    while !kept.is_empty() && font.width(&format!("{kept}…")) > max_width {
        kept.pop();
    }
    let mid_word = text[kept.len()..].chars().next().is_some_and(|c| c != ' ');
    if mid_word && let Some(space) = kept.rfind(' ').filter(|&i| 2 * i >= kept.len()) {
        kept.truncate(space);
    }
    format!("{}…", kept.trim_end())
}

/// One line of text that fits in `max_width`, cut with an ellipsis if needed.
pub(crate) fn fit_line(text: &str, font: Font, max_width: f64) -> String {
    if font.width(text) <= max_width {
        text.to_string()
    } else {
        with_ellipsis(text, font, max_width)
    }
}

/// Fixed texts the caller does not supply, in the chart's language.
pub(crate) struct Words {
    /// Shown in place of an interval that could not be computed.
    pub not_estimable: &'static str,
    pub suppressed: &'static str,
    /// Shown under a panel or group title when there is nothing to draw.
    pub no_estimates: &'static str,
}

pub(crate) fn words(lang: Lang) -> Words {
    match lang {
        Lang::Nl => Words {
            not_estimable: "niet te schatten",
            suppressed: "onderdrukt",
            no_estimates: "geen schattingen beschikbaar",
        },
        Lang::En => Words {
            not_estimable: "not estimable",
            suppressed: "suppressed",
            no_estimates: "no estimates available",
        },
    }
}

/// A number for a chart's labels and subtitle: 0 to 3 decimals by its size (about
/// three significant digits), as readers in `lang` write it.
pub fn chart_number(v: f64, lang: Lang) -> String {
    let a = v.abs();
    let d = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    format_number(v, d, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(format_number(-1234.5, 1, Lang::En), "\u{2212}1,234.5");
        assert_eq!(format_number(-1234.5, 1, Lang::Nl), "\u{2212}1.234,5");
        assert_eq!(format_number(-0.001, 1, Lang::En), "0.0");
        assert_eq!(format_number(250.0, 0, Lang::Nl), "250");
        assert_eq!(format_number(1_000_000.0, 0, Lang::En), "1,000,000");
        assert_eq!(format_number(f64::NAN, 0, Lang::En), "–");
    }
}
