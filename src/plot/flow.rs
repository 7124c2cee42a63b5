//! The participant flow diagram (CONSORT-style): one column per arm, from assignment
//! through the observed outcome to the analysis, each stage a box with its count and,
//! between the boxes, the units that fell out with the reason.
//!
//! It computes nothing: the caller passes every box's and every step's text in the
//! chart's language, counts already formatted ("suppressed" where withheld).

use super::frame::{footer, header};
use super::scene::{Align, Scene};
use super::text::{Font, wrap};
use super::theme::{BAND, BLUE, INK, MARGIN, MUTED, PANEL_TITLE, WIDTH};

/// One stage box: its lines of text (the first drawn bold).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowBox {
    pub lines: Vec<String>,
}

/// One arm's column: a title, the boxes from top to bottom, and between box i and
/// box i + 1 the lines of `steps[i]` (who fell out, and why).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowColumn {
    pub title: String,
    pub boxes: Vec<FlowBox>,
    pub steps: Vec<Vec<String>>,
}

/// The flow diagram of one outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowChart {
    pub title: String,
    pub subtitle: String,
    pub columns: Vec<FlowColumn>,
    pub note: String,
    pub lang: super::Lang,
}

const BOX_TEXT: Font = Font::new(19.0, false);
const BOX_BOLD: Font = Font::new(19.0, true);
const STEP_TEXT: Font = Font::new(17.0, false);
const GAP: i32 = 28;
const PAD: i32 = 10;

pub(crate) fn scene(c: &FlowChart) -> Scene {
    let mut s = Scene::new(WIDTH, &c.title);
    let mut y = header(&mut s, &c.title, &c.subtitle);
    let n = c.columns.len().max(1) as i32;
    let col_w = (WIDTH - 2 * MARGIN - (n - 1) * GAP) / n;
    let text_w = f64::from(col_w - 2 * PAD);
    // Column titles.
    let titles: Vec<Vec<String>> = c
        .columns
        .iter()
        .map(|col| wrap(&col.title, PANEL_TITLE, f64::from(col_w), 3))
        .collect();
    let title_h = titles.iter().map(Vec::len).max().unwrap_or(0) as i32 * PANEL_TITLE.line_height();
    for (i, t) in titles.iter().enumerate() {
        let x = MARGIN + i as i32 * (col_w + GAP);
        s.lines(t, x, y, PANEL_TITLE, INK, Align::Left);
    }
    y += title_h + 12;
    // Rows: the stages are drawn level across the columns, each row as tall as its
    // tallest box (or step).
    let stages = c
        .columns
        .iter()
        .map(|col| col.boxes.len())
        .max()
        .unwrap_or(0);
    for k in 0..stages {
        let wrapped = |col: &FlowColumn| -> Vec<(String, Font)> {
            col.boxes.get(k).map_or_else(Vec::new, |b| {
                b.lines
                    .iter()
                    .enumerate()
                    .flat_map(|(i, l)| {
                        let f = if i == 0 { BOX_BOLD } else { BOX_TEXT };
                        wrap(l, f, text_w, 3).into_iter().map(move |w| (w, f))
                    })
                    .collect()
            })
        };
        let boxes: Vec<Vec<(String, Font)>> = c.columns.iter().map(wrapped).collect();
        let box_h = boxes
            .iter()
            .map(|b| b.iter().map(|(_, f)| f.line_height()).sum::<i32>())
            .max()
            .unwrap_or(0)
            + 2 * PAD;
        for (i, b) in boxes.iter().enumerate() {
            if b.is_empty() {
                continue;
            }
            let x0 = MARGIN + i as i32 * (col_w + GAP);
            let x1 = x0 + col_w;
            s.rect(x0, y, x1, y + box_h, BAND);
            s.hline(x0, x1, y, 2, BLUE);
            s.hline(x0, x1, y + box_h - 2, 2, BLUE);
            s.vline(x0, y, y + box_h, 2, BLUE);
            s.vline(x1 - 2, y, y + box_h, 2, BLUE);
            let mut ty = y + PAD;
            for (line, f) in b {
                s.text(
                    x0 + PAD,
                    ty + f.baseline_in_line(),
                    line,
                    *f,
                    INK,
                    Align::Left,
                );
                ty += f.line_height();
            }
        }
        y += box_h;
        if k + 1 == stages {
            break;
        }
        // The step to the next box: an arrow down the column's left third, the
        // reasons beside it.
        let steps: Vec<Vec<String>> = c
            .columns
            .iter()
            .map(|col| {
                col.steps
                    .get(k)
                    .map(|lines| {
                        lines
                            .iter()
                            .flat_map(|l| wrap(l, STEP_TEXT, text_w - 30.0, 3))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let step_h = (steps.iter().map(Vec::len).max().unwrap_or(0) as i32
            * STEP_TEXT.line_height())
        .max(24)
            + 16;
        for (i, lines) in steps.iter().enumerate() {
            let x0 = MARGIN + i as i32 * (col_w + GAP);
            let ax = x0 + 24;
            s.vline(ax, y, y + step_h - 8, 3, BLUE);
            s.text(ax, y + step_h + 2, "▼", STEP_TEXT, BLUE, Align::Center);
            s.lines(lines, ax + 18, y + 8, STEP_TEXT, MUTED, Align::Left);
        }
        y += step_h + 4;
    }
    let bottom = footer(&mut s, &c.note, y + 8);
    s.height = bottom;
    s
}
