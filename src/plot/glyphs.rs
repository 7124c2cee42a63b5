//! Horizontal glyph metrics read from the embedded DejaVu TrueType files.
//!
//! Why this exists: plotters 0.3.7 draws bitmap text by putting each glyph's pixel box
//! at the pen position, dropping the glyph's left side bearing. Letters then sit 0–2
//! pixels off and the spacing looks uneven ("at12", "Gronin gen"). The PNG renderer
//! therefore draws text glyph by glyph, at pen positions computed here and shifted by
//! each glyph's bearing, which restores the font's own spacing. The same advances and
//! kerning measure text for the layout, in floating point.
//!
//! Only what that needs is parsed: `hhea`, `maxp`, `hmtx`, `cmap` format 4 and `kern`
//! format 0, for the two bundled faces. The unit tests check the result against
//! plotters' own measurement of the same fonts.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Metrics of one face, in font units.
#[derive(Debug)]
pub(crate) struct Face {
    /// Ascender minus descender: plotters (ab_glyph) scales a font so that this
    /// height equals the requested size in pixels.
    height_units: f64,
    glyphs: HashMap<char, u16>,
    /// (advance width, left side bearing) per glyph id.
    metrics: Vec<(u16, i16)>,
    kerning: HashMap<(u16, u16), i16>,
}

/// One glyph of a laid-out line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placed {
    pub ch: char,
    /// Pen position in pixels from the start of the line.
    pub pen: f64,
    /// Where the glyph's pixel box starts relative to the pen, as ab_glyph rounds it.
    pub bearing: i32,
}

/// The regular or bold face; `None` only if the bundled font files were unreadable.
pub(crate) fn face(bold: bool) -> Option<&'static Face> {
    static REGULAR: OnceLock<Option<Face>> = OnceLock::new();
    static BOLD: OnceLock<Option<Face>> = OnceLock::new();
    if bold {
        BOLD.get_or_init(|| Face::parse(dejavu::sans::bold()))
            .as_ref()
    } else {
        REGULAR
            .get_or_init(|| Face::parse(dejavu::sans::regular()))
            .as_ref()
    }
}

impl Face {
    fn parse(font: &[u8]) -> Option<Self> {
        let n_tables = usize::from(u16_at(font, 4)?);
        let mut directory = HashMap::new();
        for i in 0..n_tables {
            let record = 12 + 16 * i;
            let tag = font.get(record..record + 4)?;
            let offset = u32_at(font, record + 8)? as usize;
            let length = u32_at(font, record + 12)? as usize;
            directory.insert(tag, font.get(offset..offset.checked_add(length)?)?);
        }
        let table = |tag: &[u8]| directory.get(tag).copied();

        let hhea = table(b"hhea")?;
        let ascender = f64::from(i16_at(hhea, 4)?);
        let descender = f64::from(i16_at(hhea, 6)?);
        let n_long = usize::from(u16_at(hhea, 34)?);
        let n_glyphs = usize::from(u16_at(table(b"maxp")?, 4)?);

        // The first n_long glyphs have (advance, bearing); the rest repeat the last
        // advance and list only their bearing.
        let hmtx = table(b"hmtx")?;
        let mut metrics = Vec::with_capacity(n_glyphs);
        let mut advance = 0;
        for g in 0..n_glyphs {
            let bearing = if g < n_long {
                advance = u16_at(hmtx, 4 * g)?;
                i16_at(hmtx, 4 * g + 2)?
            } else {
                i16_at(hmtx, 4 * n_long + 2 * (g - n_long))?
            };
            metrics.push((advance, bearing));
        }

        Some(Self {
            height_units: ascender - descender,
            glyphs: parse_cmap(table(b"cmap")?)?,
            metrics,
            kerning: table(b"kern").map(parse_kern).unwrap_or_default(),
        })
    }

    fn glyph(&self, c: char) -> u16 {
        self.glyphs.get(&c).copied().unwrap_or(0)
    }

    fn metrics(&self, glyph: u16) -> (u16, i16) {
        self.metrics
            .get(usize::from(glyph))
            .copied()
            .unwrap_or((0, 0))
    }

    /// Pen positions of every character of `text` at plotters size `size`, and the
    /// width of the line (advances plus kerning, as plotters measures it).
    pub(crate) fn layout(&self, text: &str, size: f64) -> (Vec<Placed>, f64) {
        let scale = size / self.height_units;
        let mut pen = 0.0;
        let mut previous: Option<u16> = None;
        let mut placed = Vec::with_capacity(text.len());
        for ch in text.chars() {
            let glyph = self.glyph(ch);
            if let Some(prev) = previous {
                pen += f64::from(self.kerning.get(&(prev, glyph)).copied().unwrap_or(0)) * scale;
            }
            let (advance, bearing) = self.metrics(glyph);
            placed.push(Placed {
                ch,
                pen,
                bearing: (f64::from(bearing) * scale).floor() as i32,
            });
            pen += f64::from(advance) * scale;
            previous = Some(glyph);
        }
        (placed, pen)
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn i16_at(b: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Character to glyph map from the Unicode BMP subtable (format 4), which holds every
/// character a chart label can reasonably contain.
fn parse_cmap(cmap: &[u8]) -> Option<HashMap<char, u16>> {
    let n = usize::from(u16_at(cmap, 2)?);
    let offset = (0..n)
        .filter_map(|i| {
            let record = 4 + 8 * i;
            let platform = (u16_at(cmap, record)?, u16_at(cmap, record + 2)?);
            let offset = u32_at(cmap, record + 4)? as usize;
            matches!(platform, (3, 1) | (0, 3)).then_some(offset)
        })
        .find(|&offset| u16_at(cmap, offset) == Some(4))?;
    let t = cmap.get(offset..)?;
    let seg_x2 = usize::from(u16_at(t, 6)?);
    let (ends, starts) = (14, 16 + seg_x2);
    let (deltas, ranges) = (starts + seg_x2, starts + 2 * seg_x2);
    let mut map = HashMap::new();
    for s in 0..seg_x2 / 2 {
        let end = u16_at(t, ends + 2 * s)?;
        let start = u16_at(t, starts + 2 * s)?;
        let delta = u16_at(t, deltas + 2 * s)?;
        let range = usize::from(u16_at(t, ranges + 2 * s)?);
        if start > end || start == 0xFFFF {
            continue;
        }
        for code in start..=end {
            let glyph = if range == 0 {
                code.wrapping_add(delta)
            } else {
                // idRangeOffset counts bytes from its own position in the array.
                let at = ranges + 2 * s + range + 2 * usize::from(code - start);
                match u16_at(t, at)? {
                    0 => 0,
                    g => g.wrapping_add(delta),
                }
            };
            if let (Some(c), true) = (char::from_u32(u32::from(code)), glyph != 0) {
                map.insert(c, glyph);
            }
        }
    }
    Some(map)
}

/// Horizontal kerning pairs from a version-0 `kern` table with format-0 subtables (the
/// pairs ab_glyph, and so plotters, applies).
fn parse_kern(kern: &[u8]) -> HashMap<(u16, u16), i16> {
    let mut pairs = HashMap::new();
    let (Some(0), Some(n)) = (u16_at(kern, 0), u16_at(kern, 2)) else {
        return pairs;
    };
    let mut offset = 4;
    for _ in 0..n {
        let (Some(length), Some(coverage)) = (u16_at(kern, offset + 2), u16_at(kern, offset + 4))
        else {
            break;
        };
        // Format 0 (high byte), horizontal, not minimum, not cross-stream, no override.
        if coverage >> 8 == 0 && coverage & 0x0F == 1 {
            let n_pairs = usize::from(u16_at(kern, offset + 6).unwrap_or(0));
            for p in 0..n_pairs {
                let at = offset + 14 + 6 * p;
                if let (Some(l), Some(r), Some(v)) =
                    (u16_at(kern, at), u16_at(kern, at + 2), i16_at(kern, at + 4))
                {
                    pairs.insert((l, r), v);
                }
            }
        }
        offset += usize::from(length);
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::register_fonts;
    use crate::plot::text::Font;

    #[test]
    fn both_faces_parse() {
        for bold in [false, true] {
            let f = face(bold).expect("bundled font parses");
            assert!(f.glyphs.len() > 3000);
            assert!(f.kerning.len() > 1000);
            assert!(f.glyph('€') != 0 && f.glyph('→') != 0 && f.glyph('\u{2212}') != 0);
        }
    }

    #[test]
    fn widths_match_plotters() {
        register_fonts();
        let texts = [
            "Participants vs comparison — Gemeente Groningen",
            "Paid work at 12 months (primary)",
            "AVATAR Te Wo P. ij",
            "−1.234,5 € ← beter →",
        ];
        for bold in [false, true] {
            for size in [18.0, 22.0, 30.0] {
                let font = Font::new(size, bold);
                for t in texts {
                    let (w, _) = font.desc().box_size(t).unwrap();
                    let ours = face(bold).unwrap().layout(t, size).1;
                    // plotters truncates its float width to whole pixels.
                    assert!(
                        (ours - f64::from(w)).abs() < 1.0,
                        "{t} at {size}: {ours} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn bearings_and_kerning() {
        let f = face(false).unwrap();
        let (placed, _) = f.layout("1", 22.0);
        assert!(
            placed[0].bearing >= 1,
            "the digit one has a wide left bearing"
        );
        let (av, _) = f.layout("AV", 100.0);
        let (a, _) = f.layout("A", 100.0);
        let (_, a_width) = f.layout("A", 100.0);
        assert!(av[1].pen < a_width, "A and V kern together");
        assert_eq!(a[0].pen, 0.0);
    }
}
