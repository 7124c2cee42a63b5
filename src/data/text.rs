//! Delimited text files (CSV, semicolon- or tab-separated): the bytes are decoded to
//! UTF-8 (byte-order marks, UTF-16, Latin-1), the separator is detected, and records
//! are split with quotes honoured, whatever the line endings.
//!
//! This reader is ours rather than polars' so that every problem can name its line,
//! and so that no input, however broken, can do more than return an error.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::options::{ReadOptions, describe_delimiter};
use super::{Cell, Selection, Table};

/// Separators tried when none is given, in order of preference on a tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Records looked at to detect the separator.
const SNIFF_RECORDS: usize = 50;

/// Bytes to text, with a note on what was assumed (if anything).
pub(crate) fn decode(bytes: &[u8], opts: &ReadOptions) -> Result<(String, Option<String>), String> {
    let forced = opts.encoding();
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        let note = match forced {
            Some(f) if f != enc => format!(
                "encoding {} from the byte-order mark (not {} as asked)",
                enc.name(),
                f.name()
            ),
            _ => format!("encoding {} (byte-order mark)", enc.name()),
        };
        return strict(enc, body).map(|t| (t, Some(note)));
    }
    match forced {
        Some(enc) => strict(enc, bytes).map(|t| (t, None)),
        None => {
            if let Some(enc) = utf16_without_bom(bytes) {
                return strict(enc, bytes).map(|t| {
                    (
                        t,
                        Some(format!(
                            "encoding {} detected (no byte-order mark)",
                            enc.name()
                        )),
                    )
                });
            }
            if let Some(p) = bytes.iter().position(|&b| b == 0) {
                return Err(format!(
                    "byte {} is a NUL character: this is not a text file. Save the data as CSV (or give an Excel file its .xlsx name)",
                    p + 1
                ));
            }
            match std::str::from_utf8(bytes) {
                Ok(t) => Ok((t.to_string(), None)),
                Err(e) => {
                    let line = 1 + bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    let (t, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
                    Ok((
                        t.into_owned(),
                        Some(format!(
                            "encoding Windows-1252 (Latin-1) assumed: the file is not valid UTF-8 (first at line {line}); pass --encoding if it is another"
                        )),
                    ))
                }
            }
        }
    }
}

/// Decode with `enc`, refusing bytes that are not valid in it.
fn strict(enc: &'static Encoding, bytes: &[u8]) -> Result<String, String> {
    if enc == UTF_8 {
        return match std::str::from_utf8(bytes) {
            Ok(t) => Ok(t.to_string()),
            Err(e) => {
                let at = e.valid_up_to();
                let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
                Err(format!(
                    "line {line}: byte 0x{:02X} is not valid UTF-8; the file may be Latin-1: pass --encoding latin1 (or leave --encoding out to detect it)",
                    bytes[at]
                ))
            }
        };
    }
    let (t, had_errors) = enc.decode_without_bom_handling(bytes);
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

/// One record and the line it starts on (1-based).
pub(crate) struct Record<'a> {
    pub line: u32,
    pub fields: Vec<Cow<'a, str>>,
}

/// Splits text into records: fields separated by `delim`, a field may be quoted with `"`
/// (a doubled `""` inside is one quote; separators and line breaks inside are kept),
/// lines end in LF, CRLF or CR, and lines starting with `#` are comments.
pub(crate) struct Records<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    delim: u8,
    pub comments: usize,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str, delim: u8, first_line: u32) -> Self {
        Self {
            text,
            pos: 0,
            line: first_line,
            delim,
            comments: 0,
        }
    }

    fn skip_line(&mut self) {
        let b = self.text.as_bytes();
        while self.pos < b.len() && b[self.pos] != b'\n' && b[self.pos] != b'\r' {
            self.pos += 1;
        }
        self.end_of_line();
    }

    fn end_of_line(&mut self) {
        let b = self.text.as_bytes();
        if self.pos < b.len() && b[self.pos] == b'\r' {
            self.pos += 1;
        }
        if self.pos < b.len() && b[self.pos] == b'\n' {
            self.pos += 1;
        }
        self.line = self.line.saturating_add(1);
    }

    /// The next record, or an error naming the line of an unclosed quote.
    pub fn next_record(&mut self) -> Option<Result<Record<'a>, String>> {
        let text = self.text;
        let b = text.as_bytes();
        while self.pos < b.len() && b[self.pos] == b'#' {
            self.comments += 1;
            self.skip_line();
        }
        if self.pos >= b.len() {
            return None;
        }
        let line = self.line;
        let mut fields = Vec::new();
        loop {
            // A quoted field may have spaces before its opening quote.
            let mut q = self.pos;
            while q < b.len() && b[q] == b' ' {
                q += 1;
            }
            if q < b.len() && b[q] == b'"' {
                let open_line = self.line;
                let mut value = String::new();
                self.pos = q + 1;
                loop {
                    let Some(off) = b[self.pos..].iter().position(|&c| c == b'"') else {
                        return Some(Err(format!(
                            "line {open_line}: a quote (\") opens a value that is never closed; close it or remove it"
                        )));
                    };
                    let chunk = &text[self.pos..self.pos + off];
                    let cb = chunk.as_bytes();
                    let breaks = cb
                        .iter()
                        .enumerate()
                        .filter(|&(i, &c)| {
                            c == b'\n' || (c == b'\r' && cb.get(i + 1) != Some(&b'\n'))
                        })
                        .count();
                    self.line = self.line.saturating_add(breaks as u32);
                    value.push_str(chunk);
                    self.pos += off + 1;
                    if self.pos < b.len() && b[self.pos] == b'"' {
                        value.push('"');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                // Text after the closing quote (other than spaces) is kept.
                let start = self.pos;
                while self.pos < b.len()
                    && !matches!(b[self.pos], c if c == self.delim || c == b'\n' || c == b'\r')
                {
                    self.pos += 1;
                }
                value.push_str(text[start..self.pos].trim());
                fields.push(Cow::Owned(value));
            } else {
                let start = self.pos;
                while self.pos < b.len()
                    && !matches!(b[self.pos], c if c == self.delim || c == b'\n' || c == b'\r')
                {
                    self.pos += 1;
                }
                fields.push(Cow::Borrowed(&text[start..self.pos]));
            }
            if self.pos < b.len() && b[self.pos] == self.delim {
                self.pos += 1;
                continue;
            }
            self.end_of_line();
            break;
        }
        Some(Ok(Record { line, fields }))
    }
}

fn blank(r: &Record) -> bool {
    r.fields.iter().all(|f| f.trim().is_empty())
}

/// Field counts of the first records with separator `d`, or `None` if they do not split.
/// Also the number of title lines dropped from the front.
fn widths(text: &str, d: u8, first_line: u32) -> Option<(Vec<(usize, usize)>, usize)> {
    let mut rec = Records::new(text, d, first_line);
    let mut out = Vec::new();
    while out.len() < SNIFF_RECORDS {
        match rec.next_record() {
            None => break,
            Some(Err(_)) => {
                // An unclosed quote in the sample is fine only if the sample was cut.
                if out.is_empty() {
                    return None;
                }
                break;
            }
            Some(Ok(r)) if blank(&r) => continue,
            Some(Ok(r)) => out.push((r.fields.len(), filled(&r))),
        }
    }
    let skip = title_lines(&out.iter().map(|w| w.1).collect::<Vec<_>>());
    out.drain(..skip);
    Some((out, skip))
}

/// Fields that are not empty.
fn filled(r: &Record) -> usize {
    r.fields.iter().filter(|f| !f.trim().is_empty()).count()
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
fn detect_delimiter(text: &str, first_line: u32) -> (u8, Option<String>) {
    // Score: rows split evenly, then fewer lines taken for titles, then more fields.
    let mut best: Option<(u8, Score)> = None;
    let mut fits = Vec::new();
    for d in CANDIDATES {
        let Some((w, skip)) = widths(text, d, first_line) else {
            continue;
        };
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

/// Read delimited text into a table of the selected columns.
pub(crate) fn read(bytes: &[u8], opts: &ReadOptions, sel: &Selection) -> Result<Table, String> {
    let (text, enc_note) = decode(bytes, opts)?;
    let mut assumptions: Vec<String> = enc_note.into_iter().collect();
    let mut body: &str = &text;
    let mut first_line = 1;
    // Excel's "sep=;" first line names the separator.
    let mut delim = opts.delimiter.map(|c| c as u8);
    if let Some(rest) = body
        .strip_prefix("sep=")
        .or_else(|| body.strip_prefix("\"sep="))
    {
        let c = rest.chars().next();
        if let Some(c) = c.filter(|c| c.is_ascii() && !matches!(c, '\r' | '\n'))
            && delim.is_none()
        {
            delim = Some(c as u8);
            assumptions.push(format!(
                "separator {} from the file's \"sep=\" line",
                describe_delimiter(c)
            ));
        }
        body = match body.find('\n') {
            Some(i) => &body[i + 1..],
            None => "",
        };
        first_line = 2;
    }
    if body.trim().is_empty() {
        return Err(
            "the file is empty; export the data again with a header row and data rows".into(),
        );
    }
    let delim = match delim {
        Some(d) => d,
        None => {
            let (d, note) = detect_delimiter(body, first_line);
            assumptions.extend(note);
            d
        }
    };
    let dname = describe_delimiter(delim as char);
    let mut rec = Records::new(body, delim, first_line);
    // Title lines above the header, if any.
    let skip = {
        let mut probe = Records::new(body, delim, first_line);
        let mut f = Vec::new();
        while f.len() < SNIFF_RECORDS {
            match probe.next_record() {
                Some(Ok(r)) if blank(&r) => continue,
                Some(Ok(r)) => f.push(filled(&r)),
                _ => break,
            }
        }
        title_lines(&f)
    };
    // Header: the first record that is not blank (after the titles).
    let mut titles: Vec<(u32, String)> = Vec::new();
    let (header_line, header) = loop {
        match rec.next_record() {
            None => {
                return Err("the file has no header row (only blank or comment lines)".into());
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(r)) if blank(&r) => continue,
            Some(Ok(r)) if titles.len() < skip => {
                let t = r.fields.iter().find(|f| !f.trim().is_empty());
                titles.push((r.line, t.map(|t| shorten(t.trim())).unwrap_or_default()));
            }
            Some(Ok(r)) => break (r.line, r.fields),
        }
    };
    if let Some((l, t)) = titles.first() {
        assumptions.push(format!(
            "{} line(s) above the header skipped as titles (line {l}: \"{t}\"); the header is line {header_line}",
            titles.len()
        ));
    }
    let width = header.len();
    let raw_names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    // Read every record, keeping all columns until we know which unnamed ones are empty.
    let mut cols: Vec<Vec<Option<Cell>>> = vec![Vec::new(); width];
    let mut rows: Vec<u32> = Vec::new();
    let mut empty_rows: Vec<u32> = Vec::new();
    let unnamed: Vec<usize> = (0..width).filter(|&i| raw_names[i].is_empty()).collect();
    let mut unnamed_used = vec![false; width];
    // Only the selected columns are stored; the rest are checked for width only.
    let keep_idx = sel.indices(&raw_names)?;
    let mut keep_mask = vec![false; width];
    for &i in &keep_idx {
        keep_mask[i] = true;
    }
    while let Some(r) = rec.next_record() {
        let r = r?;
        if blank(&r) {
            if rec_is_blank_line(&r) {
                continue;
            }
            empty_rows.push(r.line);
            continue;
        }
        let n = r.fields.len();
        if n > width {
            let extra = &r.fields[width..];
            if let Some(x) = extra.iter().find(|f| !f.trim().is_empty()) {
                return Err(format!(
                    "line {}: {n} fields but the header (line {header_line}) has {width} (separator {dname}); a value probably contains the separator without quotes around it (the extra field starts \"{}\"). Quote such values or pass the right --delimiter",
                    r.line,
                    shorten(x)
                ));
            }
        } else if n < width {
            return Err(format!(
                "line {}: {n} field(s) but the header (line {header_line}) has {width} (separator {dname}); a value or a separator is missing, or a line break splits the row",
                r.line
            ));
        }
        for (i, f) in r.fields.into_iter().take(width).enumerate() {
            if raw_names[i].is_empty() && !f.trim().is_empty() {
                unnamed_used[i] = true;
            }
            if keep_mask[i] {
                let t = f.trim();
                cols[i].push(if t.is_empty() {
                    None
                } else {
                    Some(Cell::Text(t.to_string()))
                });
            }
        }
        rows.push(r.line);
    }
    if rec.comments > 0 {
        assumptions.push(format!(
            "{} comment line(s) starting with '#' skipped",
            rec.comments
        ));
    }
    if !empty_rows.is_empty() {
        assumptions.push(format!(
            "{} row(s) with only empty fields skipped (line {})",
            empty_rows.len(),
            list_lines(&empty_rows)
        ));
    }
    let empty_unnamed = unnamed.iter().filter(|&&i| !unnamed_used[i]).count();
    if empty_unnamed > 0 {
        assumptions.push(format!(
            "{empty_unnamed} column(s) without a name and without values ignored"
        ));
    }
    let (names, renamed) = super::unique_names(&raw_names);
    for (i, n) in renamed {
        if !raw_names[i].is_empty() || unnamed_used[i] {
            assumptions.push(n);
        }
    }
    let columns = keep_idx
        .iter()
        .filter(|&&i| !raw_names[i].is_empty() || unnamed_used[i])
        .map(|&i| (names[i].clone(), std::mem::take(&mut cols[i])))
        .collect();
    Ok(Table {
        columns,
        rows,
        row_word: "line ".into(),
        assumptions,
        header_row: header_line,
        delimiter: Some(delim),
    })
}

/// A line with nothing on it (as opposed to a row of empty fields such as ";;;").
fn rec_is_blank_line(r: &Record) -> bool {
    r.fields.len() == 1
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

    fn records(text: &str, d: u8) -> Vec<(u32, Vec<String>)> {
        let mut r = Records::new(text, d, 1);
        let mut out = Vec::new();
        while let Some(x) = r.next_record() {
            let x = x.unwrap();
            out.push((x.line, x.fields.iter().map(|f| f.to_string()).collect()));
        }
        out
    }

    #[test]
    fn quotes_line_endings_and_line_numbers() {
        let v = records(
            "a;b\r\n\"x;1\";\"say \"\"hi\"\"\"\r\n\"multi\nline\";2\rlast;3",
            b';',
        );
        assert_eq!(v[0], (1, vec!["a".into(), "b".into()]));
        assert_eq!(v[1], (2, vec!["x;1".into(), "say \"hi\"".into()]));
        assert_eq!(v[2], (3, vec!["multi\nline".into(), "2".into()]));
        assert_eq!(v[3], (5, vec!["last".into(), "3".into()]));
    }

    #[test]
    fn unclosed_quote_names_its_line() {
        let mut r = Records::new("a,b\n1,2\n\"3,4\n5,6\n", b',', 1);
        r.next_record();
        r.next_record();
        let e = r.next_record().unwrap().err().unwrap();
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn separators_are_detected() {
        assert_eq!(detect_delimiter("a;b;c\n1,5;2;3\n4;5,5;6\n", 1).0, b';');
        assert_eq!(detect_delimiter("a\tb\n1\t2\n", 1).0, b'\t');
        assert_eq!(detect_delimiter("a,b\n\"1;2\",3\n", 1).0, b',');
        assert_eq!(detect_delimiter("g;u\nx;1,5\ny;2,5\n", 1).0, b';');
        assert_eq!(detect_delimiter("Titel\narm;y;z\na;1,5;2\n", 1).0, b';');
        let (d, note) = detect_delimiter("a\n1\n", 1);
        assert_eq!(d, b',');
        assert!(note.unwrap().contains("one column"));
    }

    #[test]
    fn latin1_and_utf16_are_decoded() {
        let opts = ReadOptions::default();
        let (t, note) = decode(b"naam\nJos\xe9\n", &opts).unwrap();
        assert_eq!(t, "naam\nJosé\n");
        assert!(note.unwrap().contains("Windows-1252"));
        let mut u16 = vec![0xFF, 0xFE];
        for c in "a\tb\n".encode_utf16() {
            u16.extend(c.to_le_bytes());
        }
        let (t, note) = decode(&u16, &opts).unwrap();
        assert_eq!(t, "a\tb\n");
        assert!(note.unwrap().contains("UTF-16LE"));
        let (t, note) = decode(b"\xEF\xBB\xBFarm\n", &opts).unwrap();
        assert_eq!(t, "arm\n");
        assert!(note.unwrap().contains("UTF-8"));
        let strict = ReadOptions {
            encoding: Some("utf-8".into()),
            ..ReadOptions::default()
        };
        assert!(
            decode(b"a\nJos\xe9\n", &strict)
                .unwrap_err()
                .contains("line 2")
        );
    }
}
