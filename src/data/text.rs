//! Delimited text files (CSV, semicolon- or tab-separated), in three steps.
//!
//! 1. **Text.** The bytes are decoded to UTF-8 (byte-order marks, UTF-16, Latin-1; valid
//!    UTF-8 is taken over without a copy), Excel's `sep=;` first line is honoured and
//!    old Mac line ends (a carriage return alone) become line feeds.
//! 2. **Structure**, with the `csv` crate: the separator is detected on the first
//!    records, title lines above the header are found, and one pass over all records
//!    checks that every row has as many fields as the header and that no quote is left
//!    open, and notes the line each data row starts on, so that every later problem can
//!    name its line. Blank lines and `#` comment lines are cut out here.
//! 3. **Values**, with polars' CSV reader, only for the selected columns. In a
//!    comma-separated file polars infers numeric types (the fast path for large
//!    registers; missing-value markers are passed as its null values); if a later value
//!    does not fit the inferred type, or the file uses another separator or decimal
//!    commas, every column is read as text and the data layer applies its own rules
//!    (decimal commas, thousands, missing markers, yes/no words) with row numbers.
//!
//! No input, however broken, can do more than return an error: both readers are given
//! the same bytes, and the number of rows polars reads is checked against the records
//! the structure pass counted.

use std::io::Cursor;
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use polars::prelude::*;

use super::Selection;
use super::rules::{self, INFER_ROWS, is_blank, is_marker, numeric_markers};
use crate::config::ReadOptions;
use crate::config::read::describe_delimiter;

/// Separators tried when none is given, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Records looked at to detect the separator and title lines.
const SNIFF_RECORDS: usize = 50;
/// Bytes looked at to detect the separator (cut at a line end).
pub(crate) const SNIFF_BYTES: usize = 64 * 1024;

/// Bytes to text, with a note on what was assumed (if anything). Valid UTF-8 without a
/// byte-order mark is taken over as it is.
pub(crate) fn decode(
    bytes: Vec<u8>,
    opts: &ReadOptions,
) -> Result<(String, Option<String>), String> {
    let forced = opts.encoding();
    if let Some((enc, bom_len)) = Encoding::for_bom(&bytes) {
        let note = match forced {
            Some(f) if f != enc => format!(
                "encoding {} from the byte-order mark (not {} as asked)",
                enc.name(),
                f.name()
            ),
            _ => format!("encoding {} (byte-order mark)", enc.name()),
        };
        return strict(enc, bytes, bom_len).map(|t| (t, Some(note)));
    }
    if let Some(enc) = forced {
        return strict(enc, bytes, 0).map(|t| (t, None));
    }
    if let Some(enc) = utf16_without_bom(&bytes) {
        return strict(enc, bytes, 0).map(|t| {
            (
                t,
                Some(format!(
                    "encoding {} detected (no byte-order mark)",
                    enc.name()
                )),
            )
        });
    }
    // `contains` on bytes is a fast memchr; the position is only needed for the message.
    if bytes.contains(&0)
        && let Some(p) = bytes.iter().position(|&b| b == 0)
    {
        return Err(format!(
            "byte {} is a NUL character: this is not a text file. Save the data as CSV (or give an Excel file its .xlsx name)",
            p + 1
        ));
    }
    match String::from_utf8(bytes) {
        Ok(t) => Ok((t, None)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            let (t, _) = WINDOWS_1252.decode_without_bom_handling(&bytes);
            Ok((
                t.into_owned(),
                Some(format!(
                    "encoding Windows-1252 (Latin-1) assumed: the file is not valid UTF-8 (first at line {line}); pass --encoding if it is another"
                )),
            ))
        }
    }
}

/// Decode `bytes[skip..]` with `enc`, refusing bytes that are not valid in it.
fn strict(enc: &'static Encoding, mut bytes: Vec<u8>, skip: usize) -> Result<String, String> {
    if enc == UTF_8 {
        bytes.drain(..skip);
        return String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let b = e.as_bytes();
            let line = 1 + b[..at].iter().filter(|&&c| c == b'\n').count();
            format!(
                "line {line}: byte 0x{:02X} is not valid UTF-8; the file may be Latin-1: pass --encoding latin1 (or leave --encoding out to detect it)",
                b[at]
            )
        });
    }
    let (t, had_errors) = enc.decode_without_bom_handling(&bytes[skip..]);
    if had_errors {
        return Err(format!(
            "the file is not valid {}; pass the right --encoding (or leave it out to detect it)",
            enc.name()
        ));
    }
    Ok(t.into_owned())
}

/// UTF-16 without a byte-order mark shows as a zero byte in every other position.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let n = bytes.len().min(4096) / 2;
    if n < 2 {
        return None;
    }
    let (mut even, mut odd) = (0, 0);
    for i in 0..n {
        even += usize::from(bytes[2 * i] == 0);
        odd += usize::from(bytes[2 * i + 1] == 0);
    }
    if odd * 10 >= n * 9 && even * 10 <= n {
        Some(UTF_16LE)
    } else if even * 10 >= n * 9 && odd * 10 <= n {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Carriage returns that end a line on their own (old Mac files) become line feeds;
/// CRLF stays as it is.
fn normalise_line_ends(text: String) -> String {
    let b = text.as_bytes();
    if !b.contains(&b'\r') {
        return text;
    }
    let lone = b
        .iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'));
    if !lone {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A reader of records separated by `delim`, quoted with `"` (a doubled `""` inside a
/// quoted field is one quote), with `#` comment lines; lines end in LF or CRLF.
fn records(text: &[u8], delim: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text)
}

/// Fields that are not empty.
fn filled(r: &csv::ByteRecord) -> usize {
    r.iter().filter(|f| !is_blank(f)).count()
}

/// The first records of `sample` split by `d`: (fields, filled fields) of each record
/// that is not blank. The last record is left out when the sample was cut.
fn sample_widths(sample: &[u8], d: u8, cut: bool) -> Vec<(usize, usize)> {
    let mut rdr = records(sample, d);
    let mut out = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while out.len() < SNIFF_RECORDS + 1 {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                if rec.iter().all(is_blank) {
                    continue;
                }
                out.push((rec.len(), filled(&rec)));
            }
            _ => break,
        }
    }
    // A record cut off by the end of the sample (a quoted value over the cut) would
    // skew the counts; keep at least the first record.
    if (cut && out.len() > 1) || out.len() > SNIFF_RECORDS {
        out.pop();
    }
    out
}

/// Leading records with at most one filled field, before the first with two or more:
/// titles above the header (as in "Export VIA-pilot;;;"). None when no record has two.
fn title_lines(filled: &[usize]) -> usize {
    filled.iter().position(|&n| n >= 2).unwrap_or_default()
}

/// How well a separator splits the sample: evenly, with few title lines, many fields.
type Score = (bool, std::cmp::Reverse<usize>, usize);

/// The separator that splits the first records into the same number (more than one) of
/// fields; the most fields wins, then the order of [`CANDIDATES`].
fn detect_delimiter(sample: &[u8], cut: bool) -> (u8, Option<String>) {
    let mut best: Option<(u8, Score)> = None;
    let mut fits = Vec::new();
    for d in CANDIDATES {
        let mut w = sample_widths(sample, d, cut);
        let skip = title_lines(&w.iter().map(|x| x.1).collect::<Vec<_>>());
        w.drain(..skip);
        let Some(&(h, _)) = w.first() else { continue };
        if h < 2 {
            continue;
        }
        let consistent = w.iter().all(|&(x, _)| x == h);
        if consistent {
            fits.push((d, skip));
        }
        let score = (consistent, std::cmp::Reverse(skip), h);
        if best.as_ref().is_none_or(|(_, b)| score > *b) {
            best = Some((d, score));
        }
    }
    let min_skip = fits.iter().map(|f| f.1).min().unwrap_or(0);
    let fits: Vec<u8> = fits
        .into_iter()
        .filter(|f| f.1 == min_skip)
        .map(|f| f.0)
        .collect();
    match best {
        None => (
            b',',
            Some("only one column found; separator ',' assumed (pass --delimiter if the file uses another)".into()),
        ),
        Some((d, (consistent, _, _))) => {
            let name = describe_delimiter(d as char);
            let note = if !consistent {
                Some(format!(
                    "separator {name} assumed, though rows have different numbers of fields"
                ))
            } else if fits.len() > 1 {
                let others: Vec<String> = fits
                    .iter()
                    .filter(|&&x| x != d)
                    .map(|&x| describe_delimiter(x as char))
                    .collect();
                Some(format!(
                    "separator {name} detected ({} would also split the rows evenly; pass --delimiter if that is the right one)",
                    others.join(", ")
                ))
            } else if d != b',' {
                Some(format!("separator {name} detected"))
            } else {
                None
            };
            (d, note)
        }
    }
}

/// The first `SNIFF_BYTES` of the text, cut after a line end, and whether it was cut.
fn sample(body: &str) -> (&[u8], bool) {
    let b = body.as_bytes();
    if b.len() <= SNIFF_BYTES {
        return (b, false);
    }
    let end = b[..SNIFF_BYTES]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(SNIFF_BYTES, |i| i + 1);
    (&b[..end], true)
}

/// What the structure pass finds.
struct Structure {
    header_line: u32,
    header: Vec<String>,
    titles: Vec<(u32, String)>,
    /// Byte offset of the first data record.
    data_start: usize,
    /// Byte ranges after `data_start` that are not records (blank and comment lines),
    /// to be cut out before polars reads the data.
    gaps: Vec<(usize, usize)>,
    /// Line of each data record, in order.
    lines: Vec<u32>,
    /// Data records (by index) whose fields are all empty, such as ";;;".
    empty_rows: Vec<usize>,
    comments: usize,
    /// Unnamed header columns that hold a value somewhere.
    unnamed_used: Vec<bool>,
    /// Columns that hold a whole number written with a leading zero somewhere
    /// ([`rules::padded`]): read as text.
    padded: Vec<bool>,
    /// Where the data is cut into batches for polars: the offset of a record's first
    /// byte in the data as polars sees it (after `data_start`, gaps cut out), about
    /// every [`BATCH_BYTES`], and the number of records before it.
    cuts: Vec<(usize, usize)>,
    /// The end, in the same terms as `cuts`, of the first [`INFER_ROWS`] records (the
    /// rows types are inferred from); the end of the data when there are fewer.
    head_end: Option<usize>,
}

/// How the data is divided: polars parses about `batch` bytes at a time; data of at
/// least `parallel` bytes is checked in two halves at once ([`parallel_split`]).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    batch: usize,
    parallel: usize,
}

const SIZES: Sizes = Sizes {
    batch: BATCH_BYTES,
    parallel: PARALLEL_BYTES,
};

/// Bytes of data polars parses at a time. The file's bytes are released batch by
/// batch, from the end, so the peak memory of a read is about the larger of the file
/// and its parsed columns, not their sum.
const BATCH_BYTES: usize = 32 << 20;

/// Where the csv reader's records really start and end. The reader skips blank and
/// comment lines before a record and may stop between the CR and the LF of a line end;
/// these helpers find the record's first byte and the end of its line break, and count
/// lines on the way.
struct Cursorline<'a> {
    bytes: &'a [u8],
    /// Line number of the first byte of `bytes` in the file.
    first_line: u32,
    /// Position up to which line feeds have been counted, and how many.
    counted: usize,
    newlines: u32,
    comments: usize,
}

impl Cursorline<'_> {
    /// `pos` moved past the LF of a CRLF whose CR it follows.
    fn after_break(&self, pos: usize) -> usize {
        if pos > 0 && self.bytes[pos - 1] == b'\r' && self.bytes.get(pos) == Some(&b'\n') {
            pos + 1
        } else {
            pos
        }
    }

    /// The first byte at or after `pos` that is not a line break or in a comment line.
    fn record_start(&mut self, mut pos: usize) -> usize {
        let b = self.bytes;
        loop {
            while pos < b.len() && matches!(b[pos], b'\r' | b'\n') {
                pos += 1;
            }
            if pos < b.len() && b[pos] == b'#' {
                self.comments += 1;
                pos = b[pos..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |i| pos + i + 1);
                continue;
            }
            return pos;
        }
    }

    /// The record the reader has just read, which follows byte `end` (the end of the
    /// previous one) and ends at reader position `pos`: its first byte, the end of its
    /// line break and its line in the file. A quote left open in it is an error.
    fn place(&mut self, end: usize, pos: u64) -> Result<(usize, usize, u32), String> {
        let start = self.record_start(end);
        let end = self.after_break(pos as usize);
        let line = self.line(start);
        check_open_quote(self.bytes, start, end, line)?;
        Ok((start, end, line))
    }

    /// The line in the file of byte `pos`.
    fn line(&mut self, pos: usize) -> u32 {
        let pos = pos.min(self.bytes.len());
        if pos >= self.counted {
            self.newlines += self.bytes[self.counted..pos]
                .iter()
                .filter(|&&c| c == b'\n')
                .count() as u32;
            self.counted = pos;
        }
        self.first_line + self.newlines
    }
}

/// One pass over all records: header, titles, field counts, open quotes, lines.
fn structure(
    body: &str,
    delim: u8,
    first_line: u32,
    skip: usize,
    sizes: Sizes,
) -> Result<Structure, String> {
    let bytes = body.as_bytes();
    let mut rdr = records(bytes, delim);
    let mut rec = csv::ByteRecord::new();
    let mut cur = Cursorline {
        bytes,
        first_line,
        counted: 0,
        newlines: 0,
        comments: 0,
    };
    let split_err = |e: csv::Error| format!("cannot split the file into rows: {e}");
    let mut titles: Vec<(u32, String)> = Vec::new();
    let mut end = 0;
    // Header: the first record that is not blank (after the titles).
    let (header_line, header) = loop {
        if !rdr.read_byte_record(&mut rec).map_err(split_err)? {
            return Err("the file has no header row (only blank or comment lines)".into());
        }
        let line;
        (_, end, line) = cur.place(end, rdr.position().byte())?;
        if rec.iter().all(is_blank) {
            continue;
        }
        if titles.len() < skip {
            let t = rec.iter().find(|f| !is_blank(f)).unwrap_or_default();
            titles.push((line, shorten(rules::trim(&String::from_utf8_lossy(t)))));
            continue;
        }
        let names: Vec<String> = rec
            .iter()
            .map(|f| rules::trim(&String::from_utf8_lossy(f)).to_string())
            .collect();
        break (line, names);
    };
    let data_start = end;
    let part = Records {
        bytes,
        delim,
        width: header.len(),
        unnamed: (0..header.len())
            .filter(|&i| header[i].is_empty())
            .collect(),
        header_line,
        batch_bytes: sizes.batch,
    };
    let comments_before = cur.comments;
    let whole = |to: usize| Cursorline {
        bytes: &bytes[..to],
        first_line,
        counted: cur.counted,
        newlines: cur.newlines,
        comments: 0,
    };
    let (a, b) = match parallel_split(bytes, data_start, sizes.parallel) {
        // Two halves on two threads; the second counts the lines before it itself.
        Some(split) => {
            let (a, b) = rayon::join(
                || part.scan(data_start, split, whole(split)),
                || {
                    let cur = Cursorline {
                        bytes,
                        first_line,
                        counted: 0,
                        newlines: 0,
                        comments: 0,
                    };
                    part.scan(split, bytes.len(), cur)
                },
            );
            (a?, Some(b?))
        }
        None => (
            part.scan(data_start, bytes.len(), whole(bytes.len()))?,
            None,
        ),
    };
    let cuts = a.cuts_in_data(data_start, 0, 0).collect();
    let mut st = Structure {
        header_line,
        header,
        titles,
        data_start,
        gaps: a.gaps,
        cuts,
        head_end: a.head_end.map(|h| h.0 - data_start - h.1),
        lines: a.lines,
        empty_rows: a.empty_rows,
        comments: comments_before + a.comments,
        unnamed_used: a.unnamed_used,
        padded: a.padded,
    };
    if let Some(b) = b {
        let rows = st.lines.len();
        st.cuts.extend(b.cuts_in_data(data_start, a.removed, rows));
        st.gaps.extend(b.gaps);
        st.empty_rows.extend(b.empty_rows.iter().map(|r| rows + r));
        st.lines.extend(b.lines);
        st.comments += b.comments;
        for (u, v) in st.unnamed_used.iter_mut().zip(b.unnamed_used) {
            *u |= v;
        }
        for (u, v) in st.padded.iter_mut().zip(b.padded) {
            *u |= v;
        }
    }
    Ok(st)
}

/// Data smaller than this is scanned on one thread.
const PARALLEL_BYTES: usize = 8 << 20;

/// Where to cut the data after `data_start` in two halves that can be scanned apart:
/// only in a file without quotes, where every line break ends a record; at the line
/// break nearest after the middle.
fn parallel_split(bytes: &[u8], data_start: usize, min_bytes: usize) -> Option<usize> {
    let data = &bytes[data_start..];
    if data.len() < min_bytes || data.contains(&b'"') {
        return None;
    }
    let mid = data_start + data.len() / 2;
    let nl = bytes[mid..].iter().position(|&c| c == b'\n')?;
    let split = mid + nl + 1;
    (split < bytes.len()).then_some(split)
}

/// The rules every data record is checked against.
struct Records<'a> {
    bytes: &'a [u8],
    delim: u8,
    width: usize,
    unnamed: Vec<usize>,
    header_line: u32,
    batch_bytes: usize,
}

/// What a scan of part of the data records found. Positions are offsets in the body;
/// `cuts` and `head_end` hold (record start, bytes cut out before it in this part,
/// records before it in this part).
struct Scanned {
    gaps: Vec<(usize, usize)>,
    removed: usize,
    cuts: Vec<(usize, usize, usize)>,
    head_end: Option<(usize, usize)>,
    lines: Vec<u32>,
    empty_rows: Vec<usize>,
    comments: usize,
    unnamed_used: Vec<bool>,
    padded: Vec<bool>,
}

impl Scanned {
    /// The cuts as [`Structure::cuts`] holds them, for a part that follows `rows`
    /// records and `removed` bytes cut out before it.
    fn cuts_in_data(
        &self,
        data_start: usize,
        removed: usize,
        rows: usize,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.cuts
            .iter()
            .map(move |&(start, cut, n)| (start - data_start - removed - cut, rows + n))
    }
}

impl Records<'_> {
    /// Check the records in `bytes[from..to]` (`from` a record's start, `to` the end of
    /// a line), with `cur` counting lines.
    fn scan(&self, from: usize, to: usize, mut cur: Cursorline) -> Result<Scanned, String> {
        let (width, header_line) = (self.width, self.header_line);
        let dname = describe_delimiter(self.delim as char);
        let split_err = |e: csv::Error| format!("cannot split the file into rows: {e}");
        let mut rdr = records(&self.bytes[from..to], self.delim);
        let mut rec = csv::ByteRecord::new();
        let mut out = Scanned {
            gaps: Vec::new(),
            removed: 0,
            cuts: Vec::new(),
            head_end: None,
            lines: Vec::new(),
            empty_rows: Vec::new(),
            comments: 0,
            unnamed_used: vec![false; width],
            padded: vec![false; width],
        };
        let mut end = from;
        let mut last_cut = from;
        while rdr.read_byte_record(&mut rec).map_err(split_err)? {
            let (start, next, line) = cur.place(end, from as u64 + rdr.position().byte())?;
            if start > end {
                out.gaps.push((end, start));
                out.removed += start - end;
            }
            if out.lines.len() == INFER_ROWS && out.head_end.is_none() {
                out.head_end = Some((start, out.removed));
            }
            if start - last_cut >= self.batch_bytes {
                out.cuts.push((start, out.removed, out.lines.len()));
                last_cut = start;
            }
            end = next;
            if rec.iter().all(is_blank) {
                if rec.len() == 1 {
                    // A line with nothing but spaces.
                    out.gaps.push((start, end));
                    out.removed += end - start;
                } else {
                    out.empty_rows.push(out.lines.len());
                    out.lines.push(line);
                }
                continue;
            }
            let n = rec.len();
            if n > width {
                if let Some(x) = rec.iter().skip(width).find(|f| !is_blank(f)) {
                    return Err(format!(
                        "line {line}: {n} fields but the header (line {header_line}) has {width} (separator {dname}); a value probably contains the separator without quotes around it (the extra field starts \"{}\"). Quote such values or pass the right --delimiter",
                        shorten(rules::trim(&String::from_utf8_lossy(x)))
                    ));
                }
            } else if n < width {
                return Err(format!(
                    "line {line}: {n} field(s) but the header (line {header_line}) has {width} (separator {dname}); a value or a separator is missing, or a line break splits the row"
                ));
            }
            for &i in &self.unnamed {
                if !out.unnamed_used[i] && !is_blank(&rec[i]) {
                    out.unnamed_used[i] = true;
                }
            }
            for (seen, f) in out.padded.iter_mut().zip(rec.iter()) {
                *seen = *seen || rules::padded(f);
            }
            out.lines.push(line);
        }
        let tail = cur.record_start(end).min(to);
        if tail > end {
            out.gaps.push((end, tail));
            out.removed += tail - end;
        }
        out.comments = cur.comments;
        Ok(out)
    }
}

/// A quote that is never closed runs to the end of the file: the last record then holds
/// an odd number of quotes.
fn check_open_quote(bytes: &[u8], start: usize, end: usize, line: u32) -> Result<(), String> {
    if end < bytes.len() {
        return Ok(());
    }
    let raw = &bytes[start.min(end)..end];
    let quotes = raw.iter().filter(|&&b| b == b'"').count();
    if quotes % 2 == 1 {
        return Err(format!(
            "line {line}: a quote (\") opens a value that is never closed; close it or remove it"
        ));
    }
    Ok(())
}

/// The selected columns of a delimited text file, read by polars.
pub(crate) struct TextTable {
    /// The selected columns, named as in the header (made unique), in selection order.
    pub df: DataFrame,
    /// Line of each row of `df`.
    pub lines: super::RowLines,
    /// Rows of `df` whose fields are all empty (";;;"): the caller drops them.
    pub empty_rows: Vec<usize>,
    pub assumptions: Vec<String>,
    pub delimiter: u8,
    /// Every value of the numeric columns is a finite number (checked by the plain
    /// reader; the general reader leaves it to [`super::Frame::numeric`]).
    pub finite: bool,
    /// How the records are laid out, for the reader of plain files ([`super::plain`]).
    pub layout: Layout,
}

/// The layout of the records behind a [`TextTable`].
pub(crate) struct Layout {
    /// Fields in the header.
    pub width: usize,
    /// Header position of each selected column, in selection order.
    pub keep: Vec<usize>,
    /// Whether a column without a name has no value in these records (it would be
    /// kept if a later record had one).
    pub unnamed_unused: bool,
    /// The missing-value markers polars read as nulls (those in the first rows).
    pub markers: Vec<String>,
}

/// Read delimited text into a frame of the selected columns.
/// A value further down a comma file does not fit the types polars inferred from the
/// first rows: read the file again with `as_text`.
#[derive(Debug)]
pub(crate) struct RetryAsText;

/// Read delimited text: decode, check the structure, and let polars read the selected
/// columns (typed in comma files unless `as_text`).
pub(crate) fn read(
    bytes: Vec<u8>,
    opts: &ReadOptions,
    sel: &Selection,
    as_text: bool,
) -> Result<Result<TextTable, RetryAsText>, String> {
    read_in_batches(bytes, opts, sel, as_text, SIZES)
}

/// [`read`], with the data divided by `sizes`.
fn read_in_batches(
    bytes: Vec<u8>,
    opts: &ReadOptions,
    sel: &Selection,
    as_text: bool,
    sizes: Sizes,
) -> Result<Result<TextTable, RetryAsText>, String> {
    let (text, enc_note) = crate::timings::time("read: decode", || decode(bytes, opts))?;
    let text = normalise_line_ends(text);
    let mut assumptions: Vec<String> = enc_note.into_iter().collect();
    let (body, first_line, delim) =
        excel_sep_line(&text, opts.delimiter.map(|c| c as u8), &mut assumptions);
    if body.trim().is_empty() {
        return Err(
            "the file is empty; export the data again with a header row and data rows".into(),
        );
    }
    let (sample, cut) = sample(body);
    let delim = match delim {
        Some(d) => d,
        None => {
            let (d, note) = detect_delimiter(sample, cut);
            assumptions.extend(note);
            d
        }
    };
    let filled_counts: Vec<usize> = sample_widths(sample, delim, cut)
        .iter()
        .map(|w| w.1)
        .collect();
    let st = crate::timings::time("read: structure", || {
        structure(body, delim, first_line, title_lines(&filled_counts), sizes)
    })?;
    if st.lines.is_empty() {
        return Err(format!(
            "the file has a header (line {}) but no data rows; export the data again with its rows",
            st.header_line
        ));
    }
    let keep: Vec<usize> = sel
        .indices(&st.header)?
        .into_iter()
        .filter(|&i| !st.header[i].is_empty() || st.unnamed_used[i])
        .collect();
    structure_notes(&st, &mut assumptions);
    let (names, renamed) = super::unique_names(&st.header);
    for (i, n) in renamed {
        if !st.header[i].is_empty() || st.unnamed_used[i] {
            assumptions.push(n);
        }
    }
    let body_at = text.len() - body.len();
    let (data, base) = records_buffer(text, body_at, &st);
    let typed = rules::typed_read(delim, opts, as_text);
    let mut columns = Columns {
        delim,
        proj: &keep,
        na: &opts.na,
        nulls: Vec::new(),
    };
    let df = match crate::timings::time("read: values (polars)", || {
        read_batches(&mut columns, data, base, &st, typed)
    })? {
        Ok(df) => df,
        Err(retry) => return Ok(Err(retry)),
    };
    let markers = std::mem::take(&mut columns.nulls);
    let df = header_named(&df, &keep, &names, st.lines.len())?;
    let layout = Layout {
        width: st.header.len(),
        unnamed_unused: (0..st.header.len())
            .any(|i| st.header[i].is_empty() && !st.unnamed_used[i]),
        markers: markers.iter().map(|m| m.to_string()).collect(),
        keep,
    };
    Ok(Ok(TextTable {
        df,
        lines: super::RowLines::listed(st.lines),
        empty_rows: st.empty_rows,
        assumptions,
        delimiter: delim,
        finite: false,
        layout,
    }))
}

/// Excel's "sep=;" first line, which names the separator: the text after it, the line
/// the rest starts on, and the separator (the one given wins; a note when the line
/// decided it).
fn excel_sep_line<'t>(
    text: &'t str,
    given: Option<u8>,
    assumptions: &mut Vec<String>,
) -> (&'t str, u32, Option<u8>) {
    let Some(rest) = text
        .strip_prefix("sep=")
        .or_else(|| text.strip_prefix("\"sep="))
    else {
        return (text, 1, given);
    };
    let mut delim = given;
    if let Some(c) = rest
        .chars()
        .next()
        .filter(|c| c.is_ascii() && !matches!(c, '\r' | '\n'))
        && delim.is_none()
    {
        delim = Some(c as u8);
        assumptions.push(format!(
            "separator {} from the file's \"sep=\" line",
            describe_delimiter(c)
        ));
    }
    let body = match text.find('\n') {
        Some(i) => &text[i + 1..],
        None => "",
    };
    (body, 2, delim)
}

/// The notes on what the structure check skipped: title lines above the header,
/// comment lines, and columns without a name or values.
fn structure_notes(st: &Structure, assumptions: &mut Vec<String>) {
    if let Some((l, t)) = st.titles.first() {
        assumptions.push(format!(
            "{} line(s) above the header skipped as titles (line {l}: \"{t}\"); the header is line {}",
            st.titles.len(),
            st.header_line
        ));
    }
    if st.comments > 0 {
        assumptions.push(format!(
            "{} comment line(s) starting with '#' skipped",
            st.comments
        ));
    }
    let empty_unnamed = (0..st.header.len())
        .filter(|&i| st.header[i].is_empty() && !st.unnamed_used[i])
        .count();
    if empty_unnamed > 0 {
        assumptions.push(format!(
            "{empty_unnamed} column(s) without a name and without values ignored"
        ));
    }
}

/// The data records as polars will see them: blank and comment lines cut out, and
/// where they start in the buffer. The decoded text (its body from `body_at`) becomes
/// that buffer without a copy when there is nothing to cut.
fn records_buffer(text: String, body_at: usize, st: &Structure) -> (Vec<u8>, usize) {
    if st.gaps.is_empty() {
        return (text.into_bytes(), body_at + st.data_start);
    }
    let b = &text.as_bytes()[body_at..];
    let mut v = Vec::with_capacity(b.len() - st.data_start);
    let mut at = st.data_start;
    for &(s, e) in &st.gaps {
        v.extend_from_slice(&b[at..s]);
        at = e;
    }
    v.extend_from_slice(&b[at..]);
    (v, 0)
}

fn read_err(e: PolarsError) -> String {
    format!(
        "cannot read the values ({}); check the quotes around values, or save the file again as CSV",
        shorten(e.to_string().lines().next().unwrap_or_default())
    )
}

/// Let polars read the records in `data` (from `base`) batch by batch, from the end
/// so that each batch's bytes are released once read; typed (`typed`) with the types
/// of the first rows, which hold for every batch. A value further down that does not
/// fit them, or a not-a-number the rules call missing, asks for the text read.
fn read_batches(
    columns: &mut Columns,
    mut data: Vec<u8>,
    base: usize,
    st: &Structure,
    typed: bool,
) -> Result<Result<DataFrame, RetryAsText>, String> {
    // Codes written with leading zeros ("0363", "007") stay text, so that they still
    // match the config's labels and are not taken for duplicates of "363" and "7".
    let types = if typed {
        let text_cols: Vec<usize> = columns
            .proj
            .iter()
            .copied()
            .filter(|&i| st.padded[i])
            .collect();
        // Only the first rows are handed over: polars would split all of the data
        // before stopping after them.
        let head = &data[base..st.head_end.map_or(data.len(), |e| base + e)];
        match columns
            .find_markers(head)
            .and_then(|()| columns.types(head, &text_cols))
        {
            Ok(t) => Some(t),
            Err(_) => return Ok(Err(RetryAsText)),
        }
    } else {
        None
    };
    let mut parts = Vec::with_capacity(st.cuts.len() + 1);
    let mut end = data.len();
    let mut upto = st.lines.len();
    for &(cut, rows) in st.cuts.iter().rev().chain(std::iter::once(&(0, 0))) {
        let start = base + cut;
        let part = match columns.read(&data[start..end], types.as_ref()) {
            Ok(df) => df,
            Err(_) if typed => return Ok(Err(RetryAsText)),
            Err(e) => return Err(read_err(e)),
        };
        if part.height() != upto - rows {
            return Err(format!(
                "the rows could not be read consistently ({} records found from data row {}, {} read); check the file's quotes, or save it again as CSV",
                upto - rows,
                rows + 1,
                part.height()
            ));
        }
        upto = rows;
        parts.push(part);
        // Release the bytes just parsed.
        data.truncate(start);
        data.shrink_to_fit();
        end = start;
    }
    // The batches were read from the end: join them in file order.
    let mut parts = parts.into_iter().rev();
    let Some(mut df) = parts.next() else {
        return Err("the file has no data rows".into());
    };
    for part in parts {
        df.vstack_mut_owned(part).map_err(read_err)?;
    }
    if typed && !df.columns().iter().all(rules::typed_is_final) {
        return Ok(Err(RetryAsText));
    }
    if df.height() != st.lines.len() {
        return Err(format!(
            "the rows could not be read consistently ({} records found, {} read); check the file's quotes, or save it again as CSV",
            st.lines.len(),
            df.height()
        ));
    }
    Ok(Ok(df))
}

/// polars names the columns by position: the selected columns (`keep`) under their
/// header names (`names`), in the order of the selection.
fn header_named(
    df: &DataFrame,
    keep: &[usize],
    names: &[String],
    rows: usize,
) -> Result<DataFrame, String> {
    let columns = keep
        .iter()
        .map(|&i| {
            let mut c = df
                .column(&format!("column_{}", i + 1))
                .map_err(|e| format!("cannot read column {}: {e}", i + 1))?
                .clone();
            c.rename(names[i].as_str().into());
            Ok(c)
        })
        .collect::<Result<Vec<Column>, String>>()?;
    DataFrame::new(rows, columns).map_err(|e| format!("cannot build the table: {e}"))
}

/// How polars reads the data records (no header) of the selected columns: `proj`, by
/// position, with the file's separator and missing-value markers.
struct Columns<'a> {
    delim: u8,
    proj: &'a [usize],
    na: &'a [String],
    /// The missing-value markers polars is to read as nulls: those that occur, as
    /// written, in the first rows ([`Columns::find_markers`]).
    nulls: Vec<PlSmallStr>,
}

impl Columns<'_> {
    fn options(&self, typed: bool) -> CsvReadOptions {
        let mut parse = CsvParseOptions::default()
            .with_separator(self.delim)
            .with_quote_char(Some(b'"'))
            .with_missing_is_null(true)
            .with_truncate_ragged_lines(true);
        if typed && !self.nulls.is_empty() {
            parse = parse.with_null_values(Some(NullValues::AllColumns(self.nulls.clone())));
        }
        let mut proj = self.proj.to_vec();
        proj.sort_unstable();
        CsvReadOptions::default()
            .with_has_header(false)
            .with_projection(Some(Arc::new(proj)))
            .with_raise_if_empty(false)
            // The data layer joins the pieces one column at a time, after the file's
            // bytes are gone ([`super::Frame`]), which keeps the peak memory down.
            .with_rechunk(false)
            .with_parse_options(parse)
    }

    /// Find the missing-value markers ([`is_marker`]: the standard ones in any case, and
    /// `na`) that occur in the first [`INFER_ROWS`] records of the selected columns.
    /// Matching only these keeps polars from comparing every field with every marker; a
    /// marker that first appears further down fails its batch, and the file is then read
    /// as text. Extra markers that read as numbers ([`numeric_markers`]) would not fail
    /// it: they are always matched.
    fn find_markers(&mut self, data: &[u8]) -> PolarsResult<()> {
        let first = self
            .options(false)
            .with_infer_schema_length(Some(0))
            .with_n_rows(Some(INFER_ROWS))
            .into_reader_with_file_handle(Cursor::new(data))
            .finish()?;
        let mut found: Vec<PlSmallStr> = numeric_markers(self.na).map(Into::into).collect();
        for c in first.columns() {
            for v in c.str()?.iter().flatten() {
                if is_marker(v, self.na) && !found.iter().any(|f| f.as_str() == v) {
                    found.push(v.into());
                }
            }
        }
        self.nulls = found;
        Ok(())
    }

    /// The types polars infers from the first [`INFER_ROWS`] records, with the columns
    /// at `text_cols` as text.
    fn types(&self, data: &[u8], text_cols: &[usize]) -> PolarsResult<SchemaRef> {
        let overwrite = (!text_cols.is_empty()).then(|| {
            Arc::new(Schema::from_iter(text_cols.iter().map(|&i| {
                Field::new(format!("column_{}", i + 1).into(), DataType::String)
            })))
        });
        let first = self
            .options(true)
            .with_schema_overwrite(overwrite)
            .with_infer_schema_length(Some(INFER_ROWS))
            .with_n_rows(Some(INFER_ROWS))
            .into_reader_with_file_handle(Cursor::new(data))
            .finish()?;
        Ok(Arc::new(Schema::from_iter(
            first
                .columns()
                .iter()
                .map(|c| Field::new(c.name().clone(), c.dtype().clone())),
        )))
    }

    /// Read records with the given types of the selected columns, or all as text.
    fn read(&self, data: &[u8], types: Option<&SchemaRef>) -> PolarsResult<DataFrame> {
        self.options(types.is_some())
            .with_schema_overwrite(types.cloned())
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(data))
            .finish()
    }
}

fn shorten(s: &str) -> String {
    let t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// "4" or "4, 9, 12" or "4, 9, 12, … (7 in all)".
pub(crate) fn list_lines(v: &[u32]) -> String {
    let shown: Vec<String> = v.iter().take(5).map(|x| x.to_string()).collect();
    if v.len() > 5 {
        format!("{}, … ({} in all)", shown.join(", "), v.len())
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Sizes = Sizes {
        batch: 1_000,
        parallel: 1_000,
    };

    fn st(text: &str, d: u8) -> Result<Structure, String> {
        structure(text, d, 1, 0, SIZES)
    }

    /// A file read in batches of a few hundred bytes gives the same table, lines and
    /// notes as read in one piece: quoted line breaks, CRLF, blank, comment and empty
    /// rows, missing-value markers and a separator inside quotes fall on both sides of
    /// the cuts.
    #[test]
    fn batches_join_to_the_whole() {
        let mut f = String::from("id,arm,y,note\r\n");
        for i in 0..3_000 {
            match i % 97 {
                5 => f.push_str("\r\n"),
                11 => f.push_str("# a comment line\r\n"),
                23 => f.push_str(",,,\r\n"),
                _ => {}
            }
            let y = match i % 13 {
                0 => "NA".to_string(),
                1 => String::new(),
                _ => format!("{}.{}", i % 50, i % 7),
            };
            let note = if i % 17 == 0 {
                "\"two\r\nlines, one \"\"quote\"\"\"".to_string()
            } else {
                format!("n{i}")
            };
            f.push_str(&format!("{i},{},{y},{note}\r\n", i % 2));
        }
        let cols: Vec<String> = ["id", "arm", "y", "note"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let sel = Selection {
            required: &cols,
            optional: &[],
        };
        let opts = ReadOptions::default();
        let whole = read_in_batches(f.clone().into_bytes(), &opts, &sel, false, SIZES)
            .unwrap()
            .unwrap();
        for batch in [200, 1_000, 4_096] {
            let sizes = Sizes {
                batch,
                parallel: usize::MAX,
            };
            let parts = read_in_batches(f.clone().into_bytes(), &opts, &sel, false, sizes)
                .unwrap()
                .unwrap();
            assert!(parts.df.equals_missing(&whole.df), "batch {batch}");
            for c in parts.df.columns() {
                assert!(c.n_chunks() > 1, "column {} in one piece", c.name());
            }
            assert_eq!(parts.lines, whole.lines);
            assert_eq!(parts.empty_rows, whole.empty_rows);
            assert_eq!(parts.assumptions, whole.assumptions);
        }
        assert_eq!(whole.df.height(), 3_000 + 31);
        assert_eq!(whole.df.column("y").unwrap().dtype(), &DataType::Float64);
        assert_eq!(whole.df.column("y").unwrap().null_count(), 231 + 231 + 31);
    }

    /// A file without quotes checked in two halves at once gives the structure one pass
    /// gives: lines, gaps, empty rows, comments, batch cuts; and an error in the second
    /// half names the same line.
    #[test]
    fn two_halves_give_one_structure() {
        let mut f = String::from("title line\r\n\r\nid;arm;y;\r\n");
        for i in 0..2_000 {
            match i % 89 {
                3 => f.push_str("\r\n"),
                7 => f.push_str("# comment\r\n"),
                13 => f.push_str("   \r\n"),
                29 => f.push_str(";;;\r\n"),
                _ => {}
            }
            let extra = if i == 1_700 { "x" } else { "" };
            f.push_str(&format!("{i};{};{},{};{extra}\r\n", i % 2, i % 9, i % 4));
        }
        f.push_str("\r\n# trailing comment\r\n");
        let one = Sizes {
            batch: 2_000,
            parallel: usize::MAX,
        };
        let two = Sizes {
            batch: 2_000,
            parallel: 1_000,
        };
        assert!(parallel_split(f.as_bytes(), 40, two.parallel).is_some());
        let a = structure(&f, b';', 1, 1, one).unwrap();
        let b = structure(&f, b';', 1, 1, two).unwrap();
        assert_eq!(a.lines, b.lines);
        assert_eq!(a.gaps, b.gaps);
        assert_eq!(a.empty_rows, b.empty_rows);
        assert_eq!(a.comments, b.comments);
        assert_eq!(a.unnamed_used, b.unnamed_used);
        assert_eq!(a.unnamed_used, [false, false, false, true]);
        assert_eq!(a.head_end, b.head_end);
        assert_eq!((a.header_line, a.data_start), (b.header_line, b.data_start));
        assert_eq!(a.comments, 24);
        assert!(b.cuts.len() > 10);
        // Cuts differ only where the second half starts; each is a record start with
        // the right number of records before it.
        let data: Vec<u8> = {
            let mut v = Vec::new();
            let mut at = b.data_start;
            for &(s, e) in &b.gaps {
                v.extend_from_slice(&f.as_bytes()[at..s]);
                at = e;
            }
            v.extend_from_slice(&f.as_bytes()[at..]);
            v
        };
        for &(off, rows) in &b.cuts {
            assert_eq!(data[off - 1], b'\n');
            let before = data[..off].iter().filter(|&&c| c == b'\n').count();
            assert_eq!(before, rows);
        }
        let row = format!("1900;0;{},{};\r\n", 1900 % 9, 1900 % 4);
        assert!(f.contains(&row));
        let bad = f.replacen(&row, "1900;0\r\n", 1);
        let e1 = structure(&bad, b';', 1, 1, one).err().unwrap();
        let e2 = structure(&bad, b';', 1, 1, two).err().unwrap();
        assert_eq!(e1, e2);
        assert!(e1.starts_with("line 1"), "{e1}");
    }

    /// A marker that first appears after the rows polars infers types from, in a
    /// numeric column, makes the typed read give way to the text read.
    #[test]
    fn a_late_marker_asks_for_the_text_read() {
        let mut f = String::from("arm,y\n");
        for i in 0..(INFER_ROWS + 500) {
            let y = if i == INFER_ROWS + 100 {
                "N/A".to_string()
            } else {
                format!("{i}.5")
            };
            f.push_str(&format!("{},{y}\n", i % 2));
        }
        let cols: Vec<String> = ["arm", "y"].iter().map(|s| s.to_string()).collect();
        let sel = Selection {
            required: &cols,
            optional: &[],
        };
        let opts = ReadOptions::default();
        assert!(matches!(
            read_in_batches(f.clone().into_bytes(), &opts, &sel, false, SMALL),
            Ok(Err(RetryAsText))
        ));
        let t = read_in_batches(f.into_bytes(), &opts, &sel, true, SMALL)
            .unwrap()
            .unwrap();
        assert_eq!(t.df.column("y").unwrap().dtype(), &DataType::String);
        assert_eq!(t.df.height(), INFER_ROWS + 500);
    }

    #[test]
    fn quotes_line_endings_and_line_numbers() {
        let s = st(
            "a;b\r\n\"x;1\";\"say \"\"hi\"\"\"\r\n\"multi\nline\";2\r\n\r\n# note\nlast;3",
            b';',
        )
        .unwrap();
        assert_eq!(s.header, ["a", "b"]);
        assert_eq!(s.lines, [2, 3, 7]);
        assert_eq!(s.comments, 1);
        assert_eq!(s.gaps.len(), 1);
    }

    #[test]
    fn unclosed_quote_names_its_line() {
        let e = st("a,b\n1,2\n\"3,4\n5,6\n", b',').err().unwrap();
        assert!(e.contains("line 3") && e.contains("never closed"), "{e}");
    }

    #[test]
    fn short_and_long_rows_name_their_line() {
        let e = st("a,b,c\n1,2,3\n4,5\n", b',').err().unwrap();
        assert!(e.starts_with("line 3: 2 field(s)"), "{e}");
        let e = st("a;b\n1;2;x\n", b';').err().unwrap();
        assert!(
            e.starts_with("line 2: 3 fields") && e.contains("\"x\""),
            "{e}"
        );
        // Trailing empty fields are fine.
        assert_eq!(st("a;b\n1;2;\n", b';').unwrap().lines, [2]);
    }

    #[test]
    fn empty_rows_and_blank_lines() {
        let s = st("a;b\n1;2\n;\n   \n3;4\n", b';').unwrap();
        assert_eq!(s.lines, [2, 3, 5]);
        assert_eq!(s.empty_rows, [1]);
        assert_eq!(s.gaps.len(), 1);
    }

    #[test]
    fn separators_are_detected() {
        let d = |t: &str| detect_delimiter(t.as_bytes(), false).0;
        assert_eq!(d("a;b;c\n1,5;2;3\n4;5,5;6\n"), b';');
        assert_eq!(d("a\tb\n1\t2\n"), b'\t');
        assert_eq!(d("a,b\n\"1;2\",3\n"), b',');
        assert_eq!(d("g;u\nx;1,5\ny;2,5\n"), b';');
        assert_eq!(d("Titel\narm;y;z\na;1,5;2\n"), b';');
        let (d, note) = detect_delimiter(b"a\n1\n", false);
        assert_eq!(d, b',');
        assert!(note.unwrap().contains("one column"));
    }

    #[test]
    fn old_mac_line_ends() {
        assert_eq!(normalise_line_ends("a\rb\r\nc".into()), "a\nb\nc");
        assert_eq!(normalise_line_ends("a\r\nb".into()), "a\r\nb");
    }

    #[test]
    fn latin1_and_utf16_are_decoded() {
        let opts = ReadOptions::default();
        let (t, note) = decode(b"naam\nJos\xe9\n".to_vec(), &opts).unwrap();
        assert_eq!(t, "naam\nJosé\n");
        assert!(note.unwrap().contains("Windows-1252"));
        let mut u16 = vec![0xFF, 0xFE];
        for c in "a\tb\n".encode_utf16() {
            u16.extend(c.to_le_bytes());
        }
        let (t, note) = decode(u16, &opts).unwrap();
        assert_eq!(t, "a\tb\n");
        assert!(note.unwrap().contains("UTF-16LE"));
        let (t, note) = decode(b"\xEF\xBB\xBFarm\n".to_vec(), &opts).unwrap();
        assert_eq!(t, "arm\n");
        assert!(note.unwrap().contains("UTF-8"));
        let strict = ReadOptions {
            encoding: Some("utf-8".into()),
            ..ReadOptions::default()
        };
        assert!(
            decode(b"a\nJos\xe9\n".to_vec(), &strict)
                .unwrap_err()
                .contains("line 2")
        );
    }
}
