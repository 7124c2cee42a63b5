//! A chart as a list of positioned shapes, and its painting onto plotters backends.
//!
//! Charts are laid out once into a [`Scene`] (pixels, top-left origin) and then painted
//! by the bitmap or the SVG backend, so both outputs agree. Only a few primitives are
//! needed: axis-aligned rectangles (which also serve as crisp horizontal and vertical
//! lines; translucent ones for confidence bands), filled circles and single lines of
//! text placed by their baseline.

use std::io::Cursor;

use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use plotters::backend::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, RGBColor};

use super::glyphs;
use super::text::Font;
use super::theme::{MAX_PNG_HEIGHT, WHITE};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Rect {
        x0: i32,
        y0: i32,
        x1: i32,
        y1: i32,
        color: RGBColor,
    },
    Circle {
        cx: i32,
        cy: i32,
        r: u32,
        color: RGBColor,
    },
    /// A rectangle blended over what is below it with opacity `alpha` (0–1), for
    /// confidence bands that may overlap.
    Tint {
        x0: i32,
        y0: i32,
        x1: i32,
        y1: i32,
        color: RGBColor,
        alpha: f64,
    },
    Text {
        x: i32,
        baseline: i32,
        text: String,
        font: Font,
        color: RGBColor,
        align: Align,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Scene {
    pub width: i32,
    pub height: i32,
    /// Accessible name of the SVG (`<title>`), read out by screen readers.
    pub title: String,
    pub shapes: Vec<Shape>,
}

/// Where plotters puts the baseline of text anchored at its top differs per backend
/// (the bitmap font code draws the baseline half a size below the anchor, the SVG
/// backend writes `dy="0.76em"` with `em = size / 1.24`); correcting for it keeps text
/// at the same place in the PNG and the SVG.
#[derive(Debug, Clone, Copy)]
enum Target {
    Bitmap,
    Svg,
}

impl Target {
    fn baseline_below_top(self, size: f64) -> i32 {
        match self {
            Self::Bitmap => (size * 0.5).round() as i32,
            Self::Svg => (size * 0.76 / 1.24).round() as i32,
        }
    }
}

impl Scene {
    pub(crate) fn new(width: i32, title: &str) -> Self {
        Self {
            width,
            height: 0,
            title: title.to_string(),
            shapes: Vec::new(),
        }
    }

    pub(crate) fn rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, color: RGBColor) {
        self.shapes.push(Shape::Rect {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
            color,
        });
    }

    /// A translucent rectangle covering columns x0..x1 and rows y0..y1 (end exclusive).
    pub(crate) fn tint(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, color: RGBColor, alpha: f64) {
        self.shapes.push(Shape::Tint {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
            color,
            alpha,
        });
    }

    /// A horizontal line `thickness` pixels thick, centred on row `y`.
    pub(crate) fn hline(&mut self, x0: i32, x1: i32, y: i32, thickness: i32, color: RGBColor) {
        let top = y - thickness / 2;
        self.rect(x0, top, x1, top + thickness, color);
    }

    /// A vertical line `thickness` pixels thick, centred on column `x`.
    pub(crate) fn vline(&mut self, x: i32, y0: i32, y1: i32, thickness: i32, color: RGBColor) {
        let left = x - thickness / 2;
        self.rect(left, y0, left + thickness, y1, color);
    }

    pub(crate) fn circle(&mut self, cx: i32, cy: i32, r: u32, color: RGBColor) {
        self.shapes.push(Shape::Circle { cx, cy, r, color });
    }

    pub(crate) fn text(
        &mut self,
        x: i32,
        baseline: i32,
        text: &str,
        font: Font,
        color: RGBColor,
        align: Align,
    ) {
        if text.trim().is_empty() {
            return;
        }
        self.shapes.push(Shape::Text {
            x,
            baseline,
            text: text.to_string(),
            font,
            color,
            align,
        });
    }

    /// Lines of text starting at `top`, one line box each; returns the y below them.
    pub(crate) fn lines(
        &mut self,
        lines: &[String],
        x: i32,
        top: i32,
        font: Font,
        color: RGBColor,
        align: Align,
    ) -> i32 {
        let lh = font.line_height();
        for (i, line) in lines.iter().enumerate() {
            let line_top = top + i as i32 * lh;
            self.text(
                x,
                line_top + font.baseline_in_line(),
                line,
                font,
                color,
                align,
            );
        }
        top + lines.len() as i32 * lh
    }

    pub(crate) fn svg(&self) -> Result<String> {
        let mut out = String::new();
        {
            let mut backend = SVGBackend::with_string(&mut out, self.size());
            self.paint(&mut backend, Target::Svg)?;
        }
        Ok(finish_svg(out, &self.title))
    }

    pub(crate) fn png(&self) -> Result<Vec<u8>> {
        if self.height > MAX_PNG_HEIGHT {
            return Err(Error::analysis(format!(
                "chart \"{}\" would be {} pixels tall (limit {MAX_PNG_HEIGHT}); split it into several charts",
                self.title, self.height
            )));
        }
        let (w, h) = self.size();
        let mut pixels = vec![0u8; w as usize * h as usize * 3];
        {
            let mut backend = BitMapBackend::with_buffer(&mut pixels, (w, h));
            self.paint(&mut backend, Target::Bitmap)?;
        }
        let mut png = Vec::new();
        // Adaptive row filters halve the file against the default (charts are mostly
        // flat colour), which matters for reports that inline the PNG as base64.
        PngEncoder::new_with_quality(
            Cursor::new(&mut png),
            CompressionType::Default,
            FilterType::Adaptive,
        )
        .write_image(&pixels, w, h, image::ColorType::Rgb8)
        .map_err(|e| {
            Error::analysis(format!(
                "encoding chart \"{}\" as PNG failed: {e}",
                self.title
            ))
        })?;
        Ok(png)
    }

    fn size(&self) -> (u32, u32) {
        (self.width.max(1) as u32, self.height.max(1) as u32)
    }

    fn paint<DB: DrawingBackend>(&self, db: &mut DB, target: Target) -> Result<()> {
        let fail = |e: &dyn std::fmt::Display| {
            Error::analysis(format!("drawing chart \"{}\" failed: {e}", self.title))
        };
        let (w, h) = self.size();
        db.draw_rect((0, 0), (w as i32, h as i32), &WHITE, true)
            .map_err(|e| fail(&e))?;
        for shape in &self.shapes {
            match shape {
                Shape::Rect {
                    x0,
                    y0,
                    x1,
                    y1,
                    color,
                } => db
                    .draw_rect((*x0, *y0), (*x1, *y1), color, true)
                    .map_err(|e| e.to_string()),
                Shape::Tint {
                    x0,
                    y0,
                    x1,
                    y1,
                    color,
                    alpha,
                } => db
                    .draw_rect((*x0, *y0), (*x1, *y1), &color.mix(*alpha), true)
                    .map_err(|e| e.to_string()),
                Shape::Circle { cx, cy, r, color } => db
                    .draw_circle((*cx, *cy), *r, &color.filled(), true)
                    .map_err(|e| e.to_string()),
                Shape::Text {
                    x,
                    baseline,
                    text,
                    font,
                    color,
                    align,
                } => {
                    let top = baseline - target.baseline_below_top(font.size);
                    if let (Target::Bitmap, Some(face)) = (target, glyphs::face(font.bold)) {
                        draw_glyphs(db, face, text, *font, *color, (*x, top), *align)
                    } else {
                        let h_pos = match align {
                            Align::Left => HPos::Left,
                            Align::Center => HPos::Center,
                            Align::Right => HPos::Right,
                        };
                        let style = font.desc().color(color).pos(Pos::new(h_pos, VPos::Top));
                        db.draw_text(text, &style, (*x, top))
                            .map_err(|e| e.to_string())
                    }
                }
            }
            .map_err(|e| fail(&e))?;
        }
        db.present().map_err(|e| fail(&e))
    }
}

/// Draws `text` one glyph at a time at the font's own positions (see `glyphs` for why
/// plotters' whole-string drawing is not used for bitmaps). The error is returned as
/// text because plotters does not re-export the backend error type by name.
fn draw_glyphs<DB: DrawingBackend>(
    db: &mut DB,
    face: &glyphs::Face,
    text: &str,
    font: Font,
    color: RGBColor,
    (x, top): (i32, i32),
    align: Align,
) -> std::result::Result<(), String> {
    let (placed, width) = face.layout(text, font.size);
    let start = f64::from(x)
        - match align {
            Align::Left => 0.0,
            Align::Center => width / 2.0,
            Align::Right => width,
        };
    let style = font
        .desc()
        .color(&color)
        .pos(Pos::new(HPos::Left, VPos::Top));
    let mut buf = [0u8; 4];
    for g in placed.iter().filter(|g| !g.ch.is_whitespace()) {
        let gx = (start + g.pen).round() as i32 + g.bearing;
        db.draw_text(g.ch.encode_utf8(&mut buf), &style, (gx, top))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Gives the SVG an accessible title and a font list that starts with the face the
/// layout was measured with, so viewers that have DejaVu Sans (or the similar Verdana)
/// draw it as in the PNG, and others fall back to a narrower sans-serif that still fits.
fn finish_svg(svg: String, title: &str) -> String {
    let svg = svg.replace(
        "font-family=\"sans-serif\"",
        "font-family=\"DejaVu Sans, Verdana, sans-serif\"",
    );
    let mut escaped = String::new();
    for c in title.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            other => escaped.push(other),
        }
    }
    match svg.find('>') {
        Some(end) => format!(
            "{}\n<title>{escaped}</title>{}",
            &svg[..=end],
            &svg[end + 1..]
        ),
        None => svg,
    }
}
