//! Large plain comma files of numbers, read in one pass per core.
//!
//! The general reader ([`super::text`]) checks every record with the `csv` crate and then
//! lets polars parse the selected columns: two passes over the file, with the file's bytes
//! held in memory in between. Most register extracts are simpler than what it is built
//! for: no quotes, no comment or blank lines, only ASCII, every record with the header's
//! fields, and numbers or plain text in the columns an analysis uses.
//! For such a file the record structure is a line per record and a comma between fields,
//! and one pass can both check it and parse the values. This module does that:
//!
//! 1. **Head.** The first part of the file (at least [`INFER_ROWS`] records, so that the
//!    types, the missing-value markers and the notes come out as for the whole file) is
//!    read by the general reader itself. Its header, separator, selection, types,
//!    markers, notes and rows are taken over as they are.
//! 2. **Check.** The rest is divided into a share per core. Beside the head, every
//!    share but the last is read in blocks, checked to be plain (none of `"`, `#`, NUL
//!    or a non-ASCII byte, no CR but in a CR LF line end, and no blank line) and its
//!    records counted; the last share is checked and counted in step 3, as it is read.
//! 3. **Values.** Every core parses its share (again), straight into its slice of the
//!    final columns, with the functions polars' CSV reader uses for the same types
//!    (`fast_float2::parse` for floating point, `atoi_simd::parse::<_, true, true>` for
//!    integers), so that every value is the one polars would have read. A plain
//!    decimal of at most 15 digits takes a shorter path to the same bits
//!    ([`plain_decimal`], tested against fast_float2). Integer columns
//!    are held as floating point, as [`super::compact_columns`] holds them; text is
//!    taken as written (empty or a marker is missing), as polars takes it.
//!
//! The module never reports an error of its own. Whenever the file is not plain as
//! described, or a value is not a number of its column's type or one of the markers,
//! [`read`] answers `None` and the general reader reads the file from the start, with
//! its own messages, notes and results. What this module returns is what the general
//! reader returns for the same file, by the same [`super::rules`] (tested in `tests`
//! below, every rule included).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::Selection;
use super::rules::{self, INFER_ROWS};
use super::text::{self, SNIFF_BYTES, TextTable};
use crate::config::ReadOptions;

/// How a plain file is divided; [`PLAIN`] in use, smaller in tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    /// Smaller files go to the general reader only.
    pub min_file: u64,
    /// Most bytes of the head first read: fewer when the records of the first
    /// [`SNIFF_BYTES`] are short ([`head_guess`]); grown until the head holds more than
    /// [`INFER_ROWS`] records ([`grow_head`]).
    pub head: usize,
    /// Bytes read from the file at a time.
    pub block: usize,
    /// Shares of the rest, read at once; 0 for one per rayon thread.
    pub shares: usize,
}

/// From 1 MB: a file of 10^5 records of 40 bytes (4 MB) was read in 28 ms by the
/// general reader alone and is read in 14 ms so (the threshold was 4 MB, with a head
/// of at least 1 MB, until 2026-12).
pub(crate) const PLAIN: Sizes = Sizes {
    min_file: 1 << 20,
    head: 1 << 20,
    block: 1 << 20,
    shares: 0,
};

/// Magnitude from which an integer column stays integer ([`rules::EXACT_INTEGERS`]);
/// such a file goes to the general reader.
const EXACT_INTEGERS: u64 = rules::EXACT_INTEGERS as u64;

/// How one header field is read: skipped, or into the k-th numeric or k-th text column.
#[derive(Debug, Clone, Copy)]
enum Field {
    Skip,
    Float(usize),
    Int(usize),
    Text(usize),
}

/// Read `path` as a plain file, or `None` when it is not one (or is small): then the
/// general reader is to read it.
pub(crate) fn read(path: &Path, opts: &ReadOptions, sel: &Selection) -> Option<TextTable> {
    read_with(path, opts, sel, PLAIN)
}

pub(crate) fn read_with(
    path: &Path,
    opts: &ReadOptions,
    sel: &Selection,
    sizes: Sizes,
) -> Option<TextTable> {
    // Forced encodings, separators other than the comma, decimal commas and markers
    // that read as numbers are the general reader's.
    if !rules::plain_read(opts) {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len < sizes.min_file {
        return None;
    }
    let want = head_size(&mut file, len, sizes.head)?;
    let first = head_bytes(&mut file, want)?;
    // The rest after the first cut is checked while the general reader parses the
    // head (on one core): the head almost always ends there. When it had to grow,
    // the rest after its end is checked again. The head runs on a thread of its own,
    // outside rayon's pool: polars parses it on its own pool, and a rayon worker that
    // waits for another pool takes on work of its own pool meanwhile, here a share of
    // the check, which the head then waited for (it took 0.04 s where it takes 0.02 s
    // alone, at 10^6 records).
    let cut = first.cut as u64;
    let (head, checked) = std::thread::scope(|s| {
        let head = s.spawn(|| {
            crate::timings::time("read: head", || head(&mut file, len, opts, sel, first))
        });
        let checked = crate::timings::time("read: check", || check_rest(path, cut..len, sizes));
        let head = head
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (head, checked)
    });
    let (head_end, head_lines, table) = head?;
    if table.delimiter != b',' || table.layout.unnamed_unused {
        return None;
    }
    let plan = Plan::of(&table)?;
    let (shares, counts) = if head_end == cut {
        checked?
    } else {
        check_rest(path, head_end..len, sizes)?
    };
    let head_rows = table.lines.len();
    let mut records = share_records(&shares, counts, head_rows, head_end)?;
    let most = |records: &[Records]| head_rows + records.iter().map(|r| r.most()).sum::<usize>();
    // The columns are made for the most records the shares may hold; the pages beyond
    // the records read are never touched, and are given back below.
    let (mut columns, mut missing) = head_numbers(&table, &plan, most(&records))?;
    let ctx = Parse {
        path,
        len,
        block: sizes.block,
        plan: &plan.fields,
        texts: plan.texts,
        markers: &table.layout.markers,
    };
    let mut found = crate::timings::time("read: values", || {
        parse_shares(&ctx, &shares, &records, &mut columns, head_rows)
    });
    // The last share held more records than it was given room for (its records are
    // much shorter than the others'): it is counted, and every share parsed again with
    // the room it needs.
    if found.as_ref().err() == Some(&Stop::Room) {
        let last = shares.last()?;
        *records.last_mut()? =
            Records::Counted(count_records(path, last.clone(), len, sizes.block)?);
        for c in &mut columns {
            c.resize(most(&records), 0.0);
        }
        found = crate::timings::time("read: values again", || {
            parse_shares(&ctx, &shares, &records, &mut columns, head_rows)
        });
    }
    let found = found.ok()?;
    let rows = head_rows + found.iter().map(|share| share.rows).sum::<usize>();
    for c in &mut columns {
        c.truncate(rows);
        c.shrink_to_fit();
    }
    let mut first = head_rows;
    for share in &found {
        for &(k, i) in &share.nulls {
            missing[k].push(first + i);
        }
        first += share.rows;
    }
    let cols = assemble(&table, &plan, columns, missing, found)?;
    let df = DataFrame::new(rows, cols).ok()?;
    // Every record after the head is one line: the lines from the head's last on, kept
    // as a run (u32, as the general reader's).
    let first_line = u32::try_from(head_lines).ok()?.checked_add(1)?;
    let lines = table.lines.followed_by(first_line, rows - head_rows)?;
    Some(TextTable {
        df,
        lines,
        finite: true,
        ..table
    })
}

/// How the fields of a record are read: by the type polars gave each selected column
/// in the head.
struct Plan {
    /// Per header field.
    fields: Vec<Field>,
    /// Per selected column, in selection order.
    place: Vec<Field>,
    numeric: usize,
    texts: usize,
}

impl Plan {
    /// The plan for the head's columns; `None` (the general reader's file) for a type
    /// other than float, integer or text, a column selected twice, or a marker that
    /// reads as a number (a number here and missing there).
    fn of(table: &TextTable) -> Option<Self> {
        let layout = &table.layout;
        let mut fields = vec![Field::Skip; layout.width];
        let mut place = Vec::with_capacity(layout.keep.len());
        let (mut numeric, mut texts) = (0, 0);
        for (&at, c) in layout.keep.iter().zip(table.df.columns()) {
            let field = match c.dtype() {
                DataType::Float64 => Field::Float(numeric),
                DataType::Int64 => Field::Int(numeric),
                DataType::String => Field::Text(texts),
                _ => return None,
            };
            match field {
                Field::Text(_) => texts += 1,
                _ => numeric += 1,
            }
            if !matches!(fields[at], Field::Skip) {
                return None;
            }
            fields[at] = field;
            place.push(field);
        }
        let numeric_marker = layout.markers.iter().any(|m| {
            number::<f64>(m.as_bytes()).is_some() || number::<i64>(m.as_bytes()).is_some()
        });
        (!numeric_marker).then_some(Self {
            fields,
            place,
            numeric,
            texts,
        })
    }
}

/// Per numeric column, the rows whose value is missing.
type MissingRows = Vec<Vec<usize>>;

/// The numeric columns as floating point, `rows` long, with the head's values in
/// front, and the head's missing rows per numeric column.
fn head_numbers(
    table: &TextTable,
    plan: &Plan,
    rows: usize,
) -> Option<(Vec<Vec<f64>>, MissingRows)> {
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(plan.numeric);
    let mut missing: Vec<Vec<usize>> = vec![Vec::new(); plan.numeric];
    for (c, field) in table.df.columns().iter().zip(&plan.place) {
        let (Field::Float(k) | Field::Int(k)) = *field else {
            continue;
        };
        let mut v = vec![0.0; rows];
        let s = c.as_materialized_series();
        if let Ok(f) = s.f64() {
            for (i, x) in f.iter().enumerate() {
                match x {
                    Some(x) if x.is_finite() => v[i] = x,
                    Some(_) => return None,
                    None => missing[k].push(i),
                }
            }
        } else {
            for (i, x) in s.i64().ok()?.iter().enumerate() {
                match x {
                    Some(x) if x.unsigned_abs() < EXACT_INTEGERS => v[i] = x as f64,
                    Some(_) => return None,
                    None => missing[k].push(i),
                }
            }
        }
        columns.push(v);
    }
    Some((columns, missing))
}

/// The records of a share: counted by the check ([`check_rest`]), or, for the last
/// share, which its parse checks and counts, about `expected` and room for at most
/// `bound`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Records {
    Counted(usize),
    AtMost { bound: usize, expected: usize },
}

impl Records {
    /// The most records the share can hold.
    fn most(self) -> usize {
        match self {
            Records::Counted(n) => n,
            Records::AtMost { bound, .. } => bound,
        }
    }

    /// The records the share is expected to hold.
    fn expected(self) -> usize {
        match self {
            Records::Counted(n) => n,
            Records::AtMost { expected, .. } => expected,
        }
    }
}

/// The records of every share: the `counts` of all but the last, and for the last the
/// number expected at the rate of the counted shares, or of the head (`head_rows`
/// records in `head_bytes`), with room for an eighth more and 1,024 records. (Room for
/// the most records its bytes could hold, a byte per field, was several times the
/// columns in address space, which a system that does not overcommit memory refuses;
/// a last share with more records than its room is counted and parsed again.)
fn share_records(
    shares: &[Range<u64>],
    counts: Vec<usize>,
    head_rows: usize,
    head_bytes: u64,
) -> Option<Vec<Records>> {
    let (last, counted) = shares.split_last()?;
    if counted.len() != counts.len() {
        return None;
    }
    let bytes = |r: &Range<u64>| r.end - r.start;
    let counted_bytes: u64 = counted.iter().map(bytes).sum();
    let counted_rows: usize = counts.iter().sum();
    let per_byte = if counted_rows > 0 {
        counted_rows as f64 / counted_bytes as f64
    } else {
        head_rows as f64 / head_bytes.max(1) as f64
    };
    let expected = (bytes(last) as f64 * per_byte * 1.02) as usize + 16;
    let bound = expected + expected / 8 + 1024;
    Some(
        counts
            .into_iter()
            .map(Records::Counted)
            .chain([Records::AtMost { bound, expected }])
            .collect(),
    )
}

/// Parse every share in parallel, each into its slice of the numeric columns after
/// the head's `head_rows` rows; what each share gives besides its numbers.
fn parse_shares(
    ctx: &Parse,
    shares: &[Range<u64>],
    records: &[Records],
    columns: &mut [Vec<f64>],
    head_rows: usize,
) -> Result<Vec<Parsed>, Stop> {
    let mut tails: Vec<&mut [f64]> = columns.iter_mut().map(|c| &mut c[head_rows..]).collect();
    let mut jobs = Vec::with_capacity(shares.len());
    for (r, &n) in shares.iter().zip(records) {
        let mine: Vec<&mut [f64]> = tails
            .iter_mut()
            .map(|t| {
                let (a, b) = std::mem::take(t).split_at_mut(n.most());
                *t = b;
                a
            })
            .collect();
        jobs.push((r.clone(), n, mine));
    }
    jobs.into_par_iter()
        .map(|(r, n, mut out)| {
            // The pages of the records expected are made at once; more fault in one
            // by one.
            let expected = n.expected();
            out.iter_mut()
                .for_each(|c| crate::memory::populate(&mut c[..expected]));
            ctx.share(r, n, &mut out)
        })
        .collect::<Result<_, _>>()
}

/// The frame's columns in selection order: each text column the head's text then each
/// share's; each numeric column its values with the missing rows masked.
fn assemble(
    table: &TextTable,
    plan: &Plan,
    columns: Vec<Vec<f64>>,
    missing: Vec<Vec<usize>>,
    found: Vec<Parsed>,
) -> Option<Vec<Column>> {
    let mut columns = columns.into_iter().zip(missing);
    let mut found: Vec<std::vec::IntoIter<StringChunked>> =
        found.into_iter().map(|f| f.texts.into_iter()).collect();
    let mut cols: Vec<Column> = Vec::with_capacity(plan.place.len());
    for (c, field) in table.df.columns().iter().zip(&plan.place) {
        let name = c.name().clone();
        let col = if let Field::Text(_) = field {
            let mut ca = c.str().ok()?.clone();
            for share in &mut found {
                ca.append(&share.next()?).ok()?;
            }
            ca.into_column()
        } else {
            let (v, miss) = columns.next()?;
            super::columns::masked(v, miss.into_iter())
                .with_name(name)
                .into_column()
        };
        cols.push(col);
    }
    Some(cols)
}

/// The first bytes read for the head: the first `want` bytes of the file (from
/// [`head_size`]) cut after their last line end; the cut.
struct HeadBytes {
    want: usize,
    bytes: Vec<u8>,
    cut: usize,
}

/// How many bytes to read first for the head: at most `first`, fewer when the records
/// are short ([`head_guess`]); `None` when the file has no more records than the types
/// are inferred from (the general reader's file, read once, not a head of the whole
/// file first), or is empty.
fn head_size(file: &mut File, len: u64, first: usize) -> Option<usize> {
    let last = usize::try_from(len.checked_sub(1)?).ok()?;
    let (guess, records) = head_guess(file, last)?;
    (records > INFER_ROWS as f64).then(|| first.min(guess).min(last))
}

/// The first `want` bytes of the file, cut after their last line end.
fn head_bytes(file: &mut File, want: usize) -> Option<HeadBytes> {
    let mut bytes = vec![0; want];
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_exact(&mut bytes).ok()?;
    let cut = memchr::memrchr(b'\n', &bytes)? + 1;
    bytes.truncate(cut);
    Some(HeadBytes { want, bytes, cut })
}

/// The head: read by the general reader, at least [`INFER_ROWS`] + 1 records and more
/// than [`SNIFF_BYTES`], cut after a line end (`None` when that is the whole file),
/// from the bytes first read (`start`), read again and longer while they are too few.
/// Returns where it ends, its line ends and its table.
fn head(
    file: &mut File,
    len: u64,
    opts: &ReadOptions,
    sel: &Selection,
    start: HeadBytes,
) -> Option<(u64, usize, TextTable)> {
    let mut next = start;
    loop {
        let HeadBytes { want, bytes, cut } = next;
        // The general reader would decode the whole file as UTF-8 without a note when
        // its head is UTF-8 without a byte-order mark and the rest is ASCII (checked
        // with the rest).
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF])
            || bytes.starts_with(&[0xFF, 0xFE])
            || bytes.starts_with(&[0xFE, 0xFF])
            || memchr::memchr(0, &bytes).is_some()
            || !memchr::memchr_iter(b'\r', &bytes).all(|i| bytes.get(i + 1) == Some(&b'\n'))
            || std::str::from_utf8(&bytes).is_err()
        {
            return None;
        }
        let newlines = memchr::memchr_iter(b'\n', &bytes).count();
        let table = match text::read(bytes, opts, sel, false) {
            Ok(Ok(t)) => t,
            _ => return None,
        };
        let rows = table.lines.len();
        // The separator and title lines are found in the first SNIFF_BYTES: the head
        // covers them, as the whole file does.
        if rows > INFER_ROWS && cut > SNIFF_BYTES {
            return Some((cut as u64, newlines, table));
        }
        if want as u64 >= len - 1 {
            return None;
        }
        next = head_bytes(file, grow_head(want, cut, rows, len))?;
    }
}

/// By the line length in the first [`SNIFF_BYTES`]: the bytes the head needs (those
/// of [`INFER_ROWS`] + 1 records, a tenth more, and more than [`SNIFF_BYTES`]) and the
/// records in the file of `last` + 1 bytes (`usize::MAX` and infinity when the sample
/// has fewer than two line ends: no guess). Short records need far less than the
/// first megabyte: the head of a panel of 40 bytes a record is 0.44 MB, and the
/// general reader takes about 15 ms a megabyte.
fn head_guess(file: &mut File, last: usize) -> Option<(usize, f64)> {
    let mut sample = vec![0; SNIFF_BYTES.min(last)];
    file.seek(SeekFrom::Start(0)).ok()?;
    let got = read_full(file, &mut sample)?;
    let lines = memchr::memchr_iter(b'\n', &sample[..got]).count();
    if lines < 2 {
        return Some((usize::MAX, f64::INFINITY));
    }
    let per_line = got as f64 / lines as f64;
    let guess = (per_line * (INFER_ROWS + 1) as f64 * 1.1) as usize;
    Some((
        guess.max(SNIFF_BYTES + (SNIFF_BYTES >> 3)),
        (last + 1) as f64 / per_line,
    ))
}

/// The next number of bytes to read for the head, after `want` bytes gave `rows`
/// records in their first `cut` bytes: enough for the rows still needed at the rate so
/// far, with a tenth more; not beyond the file (`len` bytes).
///
/// The head grows at least by half each time, whatever the estimate says, so that the
/// bytes read for it stay below four times the file. A record longer than the head
/// (a field of megabytes) leaves `cut` where it is, and the estimate from the rows
/// before it can be below `want`: growing by one byte at a time then read the whole
/// head again for every byte of that record (issue 12: a 4 MB field took minutes).
fn grow_head(want: usize, cut: usize, rows: usize, len: u64) -> usize {
    let estimate = (cut as f64 / rows.max(1) as f64 * (INFER_ROWS + 1) as f64 * 1.1) as usize;
    let estimate = estimate.max(SNIFF_BYTES + (SNIFF_BYTES >> 3));
    let least = want.saturating_add(want / 2).max(want + 1);
    let next = estimate.clamp(least, want.saturating_mul(4).max(least));
    next.min(usize::try_from(len.saturating_sub(1)).unwrap_or(usize::MAX))
}

/// The `rest` of the file divided into shares ([`divide`]) and the records of each
/// but the last, when its bytes are plain ([`count_records`], on all cores). The last
/// share's parse checks and counts it ([`Parse::share`]), which saves a reading of its
/// bytes; with two cores the count of the other share, beside the head, ends before
/// it (at 10^6 records of twelve numbers the check of both shares had taken 0.03 s
/// beside the head's 0.02 s).
fn check_rest(
    path: &Path,
    rest: Range<u64>,
    sizes: Sizes,
) -> Option<(Vec<Range<u64>>, Vec<usize>)> {
    let len = rest.end;
    let mut file = File::open(path).ok()?;
    let shares = divide(&mut file, rest, sizes)?;
    let counted = shares.len().saturating_sub(1);
    let counts = shares[..counted]
        .par_iter()
        .map(|r| count_records(path, r.clone(), len, sizes.block))
        .collect::<Option<_>>()?;
    Some((shares, counts))
}

/// The rest of the file divided into shares that start after a line end.
fn divide(file: &mut File, rest: Range<u64>, sizes: Sizes) -> Option<Vec<Range<u64>>> {
    let n = match sizes.shares {
        0 => rayon::current_num_threads().max(1),
        n => n,
    } as u64;
    let size = rest.end - rest.start;
    let mut starts = vec![rest.start];
    let mut probe = vec![0; 64 << 10];
    for k in 1..n {
        let at = rest.start + size * k / n;
        if at <= *starts.last()? {
            continue;
        }
        file.seek(SeekFrom::Start(at)).ok()?;
        let got = read_full(file, &mut probe)?;
        if let Some(i) = memchr::memchr(b'\n', &probe[..got]) {
            let start = at + i as u64 + 1;
            if start < rest.end {
                starts.push(start);
            }
        }
    }
    starts.dedup();
    let ends = starts.iter().skip(1).copied().chain([rest.end]);
    Some(
        starts
            .iter()
            .copied()
            .zip(ends)
            .map(|(s, e)| s..e)
            .collect(),
    )
}

/// Fill `buf` from the file as far as it goes; the number of bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> Option<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(got)
}

/// Whether `b` can be part of a plain file: ASCII without quotes, `#` or NUL, no blank
/// line, and no CR but one before a LF (a CR at the very end is checked with what
/// follows it).
fn plain_bytes(b: &[u8]) -> bool {
    b.is_ascii()
        && memchr::memchr3(b'"', b'#', 0, b).is_none()
        && memchr::memmem::find(b, b"\n\n").is_none()
        && memchr::memmem::find(b, b"\n\r\n").is_none()
        && memchr::memchr_iter(b'\r', b).all(|i| i + 1 == b.len() || b[i + 1] == b'\n')
}

/// The line ends (LF) in block `b` when it is plain ([`plain_bytes`]) after `tail`, the
/// two bytes before it (every share starts after a line end: `[b'0', b'\n']`); `None`
/// when it is not.
///
/// On AVX2 processors one pass over the block decides it ([`plain_lines_avx2`]); else
/// the seam between `tail` and the block, then the block, by [`plain_bytes`]'s searches,
/// and the line ends counted. Both answer the same for every share (test
/// `plain_check_paths_agree`).
fn plain_lines(b: &[u8], tail: [u8; 2]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { plain_lines_avx2(b, tail) };
    }
    plain_lines_searched(b, tail)
}

/// [`plain_lines`] by [`plain_bytes`]'s searches: the seam between blocks, then the block.
fn plain_lines_searched(b: &[u8], tail: [u8; 2]) -> Option<usize> {
    let mut seam = tail.to_vec();
    seam.extend_from_slice(&b[..b.len().min(2)]);
    (plain_bytes(&seam) && plain_bytes(b)).then(|| memchr::memchr_iter(b'\n', b).count())
}

/// [`plain_lines`] in one pass, 64 bytes at a time as bit masks (bit i for byte i):
/// no byte with the high bit set, none of `"`, `#` and NUL; no LF or CR right after a
/// LF (a blank line: `\n\n` or `\n\r\n`); a LF right after every CR. A CR that ends
/// the block is checked with the next block's first byte (the caller's `tail`), as the
/// searches check it with the seam; a LF followed by a CR fails here at once, where the
/// searches fail it at the byte after the CR (which is not a LF, or makes `\n\r\n`) or
/// at the end of the file (a last CR): either way the share is not plain. The six
/// searches of [`plain_bytes`] and the count took most of the check's time besides
/// the copy from the page cache: at 10^6 records of twelve numbers (84 MB) the one
/// pass took the CPU time of a whole run from 0.78-0.81 s to 0.75-0.77 s (the check
/// runs beside the head, so the wall time moved less).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn plain_lines_avx2(b: &[u8], tail: [u8; 2]) -> Option<usize> {
    use std::arch::x86_64::*;
    let mut after_lf = u64::from(tail[1] == b'\n');
    let mut after_cr = u64::from(tail[1] == b'\r');
    let quote = _mm256_set1_epi8(b'"' as i8);
    let hash = _mm256_set1_epi8(b'#' as i8);
    let nul = _mm256_setzero_si256();
    let lf_byte = _mm256_set1_epi8(b'\n' as i8);
    let cr_byte = _mm256_set1_epi8(b'\r' as i8);
    let mut lines = 0;
    let mut chunks = b.chunks_exact(64);
    for c in &mut chunks {
        // SAFETY: `c` has 64 bytes, read as two unaligned 32-byte vectors.
        let (v0, v1) = unsafe {
            (
                _mm256_loadu_si256(c.as_ptr().cast()),
                _mm256_loadu_si256(c.as_ptr().add(32).cast()),
            )
        };
        // The 64-bit mask of the bytes where `m0` (first half) and `m1` are set.
        let bits = |m0: __m256i, m1: __m256i| {
            u64::from(_mm256_movemask_epi8(m0) as u32)
                | u64::from(_mm256_movemask_epi8(m1) as u32) << 32
        };
        let odd = |v: __m256i| {
            let q = _mm256_cmpeq_epi8(v, quote);
            let h = _mm256_cmpeq_epi8(v, hash);
            let z = _mm256_cmpeq_epi8(v, nul);
            // The high bit of a byte of 0x80 or more is its own mask bit.
            _mm256_or_si256(_mm256_or_si256(q, h), _mm256_or_si256(z, v))
        };
        let bad = bits(odd(v0), odd(v1));
        let lf = bits(
            _mm256_cmpeq_epi8(v0, lf_byte),
            _mm256_cmpeq_epi8(v1, lf_byte),
        );
        let cr = bits(
            _mm256_cmpeq_epi8(v0, cr_byte),
            _mm256_cmpeq_epi8(v1, cr_byte),
        );
        let prev_lf = lf << 1 | after_lf;
        let prev_cr = cr << 1 | after_cr;
        if bad | (prev_lf & (lf | cr)) | (prev_cr & !lf) != 0 {
            return None;
        }
        lines += lf.count_ones() as usize;
        after_lf = lf >> 63;
        after_cr = cr >> 63;
    }
    for &c in chunks.remainder() {
        let (lf, cr) = (c == b'\n', c == b'\r');
        if c >= 0x80
            || matches!(c, b'"' | b'#' | 0)
            || (after_lf == 1 && (lf || cr))
            || (after_cr == 1 && !lf)
        {
            return None;
        }
        lines += usize::from(lf);
        (after_lf, after_cr) = (u64::from(lf), u64::from(cr));
    }
    Some(lines)
}

/// The records in `share` when its bytes are plain, read in blocks of `block` bytes.
fn count_records(path: &Path, share: Range<u64>, len: u64, block: usize) -> Option<usize> {
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(share.start)).ok()?;
    let mut buf = vec![0; block];
    let mut left = share.end - share.start;
    let mut lines = ShareLines::START;
    while left > 0 {
        let want = block.min(left as usize);
        let b = &mut buf[..want];
        if read_full(&mut file, b)? != want {
            return None;
        }
        left -= want as u64;
        lines.add(b, plain_lines)?;
    }
    lines.records(share.end == len)
}

/// The check of a share so far: its last two bytes and its line ends.
#[derive(Debug, Clone, Copy)]
struct ShareLines {
    tail: [u8; 2],
    lines: usize,
}

impl ShareLines {
    /// Every share starts after a line end.
    const START: Self = Self {
        tail: [b'0', b'\n'],
        lines: 0,
    };

    /// Take the next block, checked and counted by `check` ([`plain_lines`]); `None`
    /// when it is not plain.
    fn add(&mut self, b: &[u8], check: fn(&[u8], [u8; 2]) -> Option<usize>) -> Option<()> {
        self.lines += check(b, self.tail)?;
        self.tail = match *b {
            [] => self.tail,
            [only] => [self.tail[1], only],
            [.., a, z] => [a, z],
        };
        Some(())
    }

    /// The records of the share; at the end of the file (`last`) the last line may end
    /// without a line break, but not in a CR.
    fn records(self, last: bool) -> Option<usize> {
        match self.tail[1] {
            b'\n' => Some(self.lines),
            _ if !last => Some(self.lines),
            b'\r' => None,
            _ => Some(self.lines + 1),
        }
    }
}

/// The bytes of the field `b` starts with: up to a comma or a line end (CR or LF). None
/// only when `b` has neither, which cannot happen in records that end with a line end.
fn field_len(b: &[u8]) -> Option<usize> {
    memchr::memchr3(b',', b'\n', b'\r', b)
}

/// A number of the column's type, read as polars reads it, and the bytes it takes; a
/// field is that number when it is followed by the field's end.
trait Number: Sized + Copy {
    fn prefix(b: &[u8]) -> Option<(Self, usize)>;
    /// Whether the number has no fractional part (a text with a leading zero that
    /// makes a column text is a whole number: [`rules::padded`]).
    fn is_whole(self) -> bool;
}

impl Number for f64 {
    fn prefix(b: &[u8]) -> Option<(f64, usize)> {
        plain_decimal(b).or_else(|| fast_float2::parse_partial::<f64, _>(b).ok())
    }
    /// By a round trip through i64, not `fract` (a call of libm's `trunc` on x86-64
    /// without SSE4.1, once per field); from 2^52 up every float is whole.
    fn is_whole(self) -> bool {
        (self.abs() >= 4_503_599_627_370_496.0) | (self == (self as i64) as f64)
    }
}

impl Number for i64 {
    fn prefix(b: &[u8]) -> Option<(i64, usize)> {
        atoi_simd::parse_prefix::<i64, true, true>(b).ok()
    }
    fn is_whole(self) -> bool {
        true
    }
}

/// The powers of ten a plain decimal of at most 15 digits divides by, 10^0 to 10^15
/// (all exact in binary floating point, as is every one up to 10^22).
const EXACT_POWERS: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The number a plain decimal at the start of `b` is written as, and its bytes: an
/// optional `-`, digits, and an optional `.` with digits, at most 15 digits in all and
/// no exponent after them; `None` for anything else (fast_float2 then reads it).
///
/// The value is the digits as an integer m < 10^15 divided by 10^f (f the digits after
/// the point): both are exact in binary floating point, so the one correctly rounded
/// division gives the correctly rounded value of the decimal (Clinger 1990, "How to
/// read floating point numbers accurately", the fast path), the value fast_float2
/// gives as well (it takes the same path for such numbers). The test
/// `plain_decimals_read_as_fast_float_reads_them` compares the two. At 10^6 rows of
/// 12 columns this read a field in 9 ns where fast_float2 took 13.5 ns (one core).
#[inline(always)]
fn plain_decimal(b: &[u8]) -> Option<(f64, usize)> {
    let neg = b.first() == Some(&b'-');
    let mut i = usize::from(neg);
    let mut m: u64 = 0;
    let first = i;
    while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        m = m.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    let mut digits = i - first;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let point = i;
        while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        frac = i - point;
        digits += frac;
    }
    // More than 15 digits may have wrapped m or lost exactness; an exponent is
    // fast_float2's to read.
    if digits == 0 || digits > 15 || b.get(i).is_some_and(|c| c | 0x20 == b'e') {
        return None;
    }
    let x = m as f64 / EXACT_POWERS[frac];
    Some((if neg { -x } else { x }, i))
}

/// The whole of `b` as a number of type `T`.
fn number<T: Number>(b: &[u8]) -> Option<T> {
    T::prefix(b).filter(|&(_, n)| n == b.len()).map(|p| p.0)
}

/// Whether a number's text is a whole number with a leading zero ([`rules::padded`]).
/// The check runs on every field, so it looks at the text only when the number `x`
/// read from it is whole: "0.35" or "-1.2" cannot be such a text. Looking at the first
/// bytes of every number instead cost more than a fifth of the parse at 10^6 rows (a
/// leading "-" or "0" is as random as the data, and the branches on it mispredicted).
#[inline(always)]
fn leading_zero<T: Number>(x: T, t: &[u8]) -> bool {
    x.is_whole() && rules::padded(t)
}

/// What every share is parsed with.
struct Parse<'a> {
    path: &'a Path,
    len: u64,
    block: usize,
    plan: &'a [Field],
    /// Text columns read.
    texts: usize,
    markers: &'a [String],
}

/// Why a share's parse stopped: more records than the room it was given (the last
/// share, whose records were not counted), or anything else (the general reader's
/// file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Room,
    Other,
}

/// What a share gives besides its numbers: its records, the missing numbers, as (numeric
/// column, row in the share), and its part of each text column.
struct Parsed {
    rows: usize,
    nulls: Vec<(usize, usize)>,
    texts: Vec<StringChunked>,
}

impl Parse<'_> {
    /// Parse the `records` of `share` into `out` (a slice of each numeric column, as
    /// long as the most records) and the share's text columns. A share whose records
    /// were not counted (the last) is checked here as [`check_rest`] checks the others,
    /// block by block as it is read.
    fn share(
        &self,
        share: Range<u64>,
        records: Records,
        out: &mut [&mut [f64]],
    ) -> Result<Parsed, Stop> {
        let mut file = File::open(self.path).map_err(|_| Stop::Other)?;
        file.seek(SeekFrom::Start(share.start))
            .map_err(|_| Stop::Other)?;
        let mut buf: Vec<u8> = Vec::with_capacity(self.block + 1);
        let mut left = share.end - share.start;
        let mut row = 0;
        let rows = records.most();
        let mut lines = ShareLines::START;
        let mut nulls = Vec::new();
        let mut texts: Vec<StringChunkedBuilder> = (0..self.texts)
            .map(|_| StringChunkedBuilder::new(PlSmallStr::EMPTY, records.expected()))
            .collect();
        while left > 0 {
            // Bytes of an unfinished record stay at the front of the buffer.
            let kept = buf.len();
            let want = self.block.min(left as usize);
            buf.resize(kept + want, 0);
            if read_full(&mut file, &mut buf[kept..]) != Some(want) {
                return Err(Stop::Other);
            }
            left -= want as u64;
            if let Records::AtMost { .. } = records {
                lines.add(&buf[kept..], plain_lines).ok_or(Stop::Other)?;
            }
            if left == 0 && share.end == self.len && buf.last() != Some(&b'\n') {
                buf.push(b'\n');
            }
            // The bytes kept from before hold no line end: look only at the new ones,
            // so that a record over many blocks is not searched again for each.
            let Some(end) = memchr::memrchr(b'\n', &buf[kept..]).map(|i| kept + i + 1) else {
                continue;
            };
            row = match self.records(&buf[..end], row, rows, out, &mut texts, &mut nulls) {
                Some(next) => next,
                // More records than the room left (a record is a line here).
                None if memchr::memchr_iter(b'\n', &buf[..end]).count() > rows - row => {
                    return Err(Stop::Room);
                }
                None => return Err(Stop::Other),
            };
            buf.drain(..end);
        }
        let all = match records {
            Records::Counted(n) => row == n,
            Records::AtMost { .. } => lines.records(share.end == self.len) == Some(row),
        };
        if !(all && buf.is_empty()) {
            return Err(Stop::Other);
        }
        Ok(Parsed {
            rows: row,
            nulls,
            texts: texts.into_iter().map(|t| t.finish()).collect(),
        })
    }

    /// Parse the whole records in `b` (which ends with a line end) from row `row`; the
    /// row after them.
    fn records(
        &self,
        b: &[u8],
        mut row: usize,
        rows: usize,
        out: &mut [&mut [f64]],
        texts: &mut [StringChunkedBuilder],
        nulls: &mut Vec<(usize, usize)>,
    ) -> Option<usize> {
        let last = self.plan.len() - 1;
        let mut p = 0;
        while p < b.len() {
            if row == rows {
                return None;
            }
            let start = p;
            let mut filled = false;
            for (j, field) in self.plan.iter().enumerate() {
                let end = if j == last { b'\n' } else { b',' };
                let value = match *field {
                    Field::Skip => {
                        p += field_len(&b[p..])?;
                        None
                    }
                    Field::Float(k) => {
                        let v = self.value::<f64>(b, &mut p, end)?;
                        // Infinite or not a number ("inf", "1e999", "NaN"): the
                        // general reader's message.
                        if v.is_some_and(|x| !x.is_finite()) {
                            return None;
                        }
                        Some((k, v))
                    }
                    Field::Int(k) => {
                        let v = self.value::<i64>(b, &mut p, end)?;
                        if v.is_some_and(|x| x.unsigned_abs() >= EXACT_INTEGERS) {
                            return None;
                        }
                        Some((k, v.map(|x| x as f64)))
                    }
                    Field::Text(k) => {
                        // As polars reads text: the bytes as they are; empty or a
                        // marker is missing.
                        let n = field_len(&b[p..])?;
                        let text = &b[p..p + n];
                        p += n;
                        if text.is_empty() || self.is_marker(text) {
                            texts[k].append_null();
                        } else {
                            texts[k].append_value(std::str::from_utf8(text).ok()?);
                        }
                        None
                    }
                };
                // A line may end in CR LF (a CR is always before a LF here).
                if j == last && b[p] == b'\r' {
                    p += 1;
                }
                if b[p] != end {
                    // Too few fields, or too many.
                    return None;
                }
                p += 1;
                match value {
                    Some((k, Some(x))) => {
                        out[k][row] = x;
                        filled = true;
                    }
                    Some((k, None)) => nulls.push((k, row)),
                    None => {}
                }
            }
            // A record of blank fields only is dropped by the general reader, with a
            // note. (A record with a number is not blank.)
            if !filled && b[start..p - 1].split(|c| *c == b',').all(rules::is_blank) {
                return None;
            }
            row += 1;
        }
        Some(row)
    }

    /// Whether a field is written as one of the missing-value markers.
    fn is_marker(&self, field: &[u8]) -> bool {
        self.markers.iter().any(|m| m.as_bytes() == field)
    }

    /// The field at `*p` in a column of type `T`: a number, or missing (empty or a
    /// marker). `*p` is left at the field's end; `None` when it is neither.
    #[inline]
    fn value<T: Number>(&self, b: &[u8], p: &mut usize, end: u8) -> Option<Option<T>> {
        let at = *p;
        if b[at] == end || b[at] == b'\r' {
            return Some(None);
        }
        if let Some((x, n)) = T::prefix(&b[at..])
            && matches!(b[at + n], b',' | b'\n' | b'\r')
        {
            // A whole number with a leading zero makes its column text: the general
            // reader's.
            if leading_zero(x, &b[at..at + n]) {
                return None;
            }
            *p = at + n;
            return Some(Some(x));
        }
        let n = field_len(&b[at..])?;
        if self.is_marker(&b[at..at + n]) {
            *p = at + n;
            return Some(None);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Frame;
    use std::io::Write;

    /// The one-pass check of a share and the searches answer the same: plain or not,
    /// and the records, on shares of bytes drawn mostly from record text with every
    /// byte the check looks for mixed in, cut into blocks of every length from 1 byte
    /// to more than the 64 of a pass (and each share once as the last of its file).
    #[test]
    fn plain_check_paths_agree() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let common = b"0123456789,.-\n";
        let rare = [b'\r', b'"', b'#', 0, 0x80, 0xC3, b'a', b' '];
        let run =
            |share: &[u8], cut: usize, last: bool, check: fn(&[u8], [u8; 2]) -> Option<usize>| {
                let mut lines = ShareLines::START;
                for b in share.chunks(cut) {
                    lines.add(b, check)?;
                }
                lines.records(last)
            };
        let (mut plain, mut not) = (0, 0);
        for round in 0..4_000 {
            let len = rng.random_range(0..400);
            // Rare bytes at a rate from none to often; CR mostly before LF.
            let rate = [0.0, 0.002, 0.02, 0.1][round % 4];
            let mut share = Vec::with_capacity(len + 1);
            while share.len() < len {
                if rng.random_bool(rate) {
                    let c = rare[rng.random_range(0..rare.len())];
                    share.push(c);
                    if c == b'\r' && rng.random_bool(0.8) {
                        share.push(b'\n');
                    }
                } else {
                    share.push(common[rng.random_range(0..common.len())]);
                }
            }
            for cut in [1, 2, 3, 5, 63, 64, 65, 130, 1000] {
                for last in [false, true] {
                    let want = run(&share, cut, last, plain_lines_searched);
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the CPU has AVX2, checked just above.
                        let avx2: fn(&[u8], [u8; 2]) -> Option<usize> =
                            |b, t| unsafe { plain_lines_avx2(b, t) };
                        assert_eq!(
                            run(&share, cut, last, avx2),
                            want,
                            "{:?} in blocks of {cut}, last {last}",
                            String::from_utf8_lossy(&share)
                        );
                    }
                    assert_eq!(run(&share, cut, last, plain_lines), want);
                    if want.is_some() {
                        plain += 1;
                    } else {
                        not += 1;
                    }
                }
            }
        }
        // Both answers occur often.
        assert!(plain > 10_000 && not > 10_000, "{plain} plain, {not} not");
    }

    /// The leading-zero check on whole numbers only is the rule on every text that
    /// reads as a number: a padded text is a whole number.
    #[test]
    fn leading_zero_is_the_padded_rule_on_numbers() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let pieces = [
            "0", "00", "1", "9", "-", ".", "5", "e3", "e-2", "07", "10", "-0",
        ];
        let mut checked = (0, 0);
        for _ in 0..20_000 {
            let k = rng.random_range(1..6);
            let t: String = (0..k)
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            let b = t.as_bytes();
            if let Some(x) = number::<f64>(b) {
                assert_eq!(leading_zero(x, b), rules::padded(b), "f64 {t:?}");
                checked.0 += usize::from(rules::padded(b));
            }
            if let Some(x) = number::<i64>(b) {
                assert_eq!(leading_zero(x, b), rules::padded(b), "i64 {t:?}");
                checked.1 += 1;
            }
        }
        // Padded texts and integers were among them.
        assert!(checked.0 > 100 && checked.1 > 100, "{checked:?}");
    }

    /// Every text the plain-decimal path reads, it reads as fast_float2 does: the same
    /// bits and the same length, on random texts built from pieces (signs, points,
    /// exponents, long digit runs) and on random decimals of 1 to 17 digits with the
    /// point anywhere. Texts it leaves alone go to fast_float2, so the reader's result
    /// is fast_float2's for every text.
    #[test]
    fn plain_decimals_read_as_fast_float_reads_them() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let same = |t: &str| {
            let b = t.as_bytes();
            let want = fast_float2::parse_partial::<f64, _>(b).ok();
            let got = plain_decimal(b);
            if let Some((x, n)) = got {
                let (y, m) = want.unwrap_or_else(|| panic!("{t:?}: fast_float2 reads nothing"));
                assert_eq!((x.to_bits(), n), (y.to_bits(), m), "{t:?}: {x} vs {y}");
            }
            let whole = <f64 as Number>::prefix(b);
            assert_eq!(
                whole.map(|(x, n)| (x.to_bits(), n)),
                want.map(|(x, n)| (x.to_bits(), n)),
                "{t:?}"
            );
            got.is_some()
        };
        let pieces = [
            "0",
            "1",
            "9",
            "5",
            "-",
            ".",
            "e",
            "E",
            "+",
            "3",
            "7",
            "123456789",
            "00",
            ",",
            "inf",
            "x",
        ];
        let mut taken = 0;
        for _ in 0..50_000 {
            let k = rng.random_range(1..7);
            let t: String = (0..k)
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            taken += usize::from(same(&t));
        }
        for _ in 0..200_000 {
            let digits = rng.random_range(1..18);
            let mut t = String::new();
            if rng.random_bool(0.5) {
                t.push('-');
            }
            let point = rng.random_range(0..=digits);
            for d in 0..digits {
                if d == point && rng.random_bool(0.9) {
                    t.push('.');
                }
                t.push(char::from(b'0' + rng.random_range(0..10u8)));
            }
            if rng.random_bool(0.2) {
                t.push_str([",", "\n", "e5", ".", "x"][rng.random_range(0..5)]);
            }
            taken += usize::from(same(&t));
        }
        // Most texts were the plain path's.
        assert!(taken > 150_000, "{taken}");
    }

    /// Tiny pieces, so that records straddle blocks and shares.
    const TINY: Sizes = Sizes {
        min_file: 0,
        head: 4_096,
        block: 97,
        shares: 3,
    };

    fn opts() -> ReadOptions {
        ReadOptions::default()
    }

    fn names(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    /// The `cols` as the required columns.
    fn select(cols: &[String]) -> Selection<'_> {
        Selection {
            required: cols,
            optional: &[],
        }
    }

    /// A plain file of `rows` records: an integer, a float with exponents and missing
    /// values, a column that is never selected, a float with a marker in the head.
    fn plain_file(rows: usize) -> String {
        let mut f = String::from("\"id\",arm,y,skip,z\n");
        for i in 0..rows {
            f.push_str(&format!(
                "{i},{},{},t{},{}\n",
                i % 3,
                y_text(i),
                i % 4,
                z_text(i)
            ));
        }
        f
    }

    fn y_text(i: usize) -> String {
        match i % 11 {
            0 => String::new(),
            1 => format!("-{}.{}e-3", i % 90, i % 7),
            2 => format!("{}E2", i % 13),
            _ => format!("{}.{:03}", i % 1_000, i % 997),
        }
    }

    fn z_text(i: usize) -> String {
        if i % 29 == 3 {
            "NA".into()
        } else {
            format!("-{}", i % 5)
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.flush().unwrap();
        f
    }

    /// The general reader's frame and the plain reader's (None when it declines).
    fn both(text: &str, cols: &[&str], sizes: Sizes) -> (Frame, Option<Frame>) {
        let f = file(text);
        let cols = names(cols);
        let sel = select(&cols);
        let general = text::read(text.as_bytes().to_vec(), &opts(), &sel, false)
            .unwrap()
            .unwrap();
        let general = Frame::from_text(f.path(), general, &opts(), &cols).unwrap();
        let plain = read_with(f.path(), &opts(), &sel, sizes)
            .map(|t| Frame::from_text(f.path(), t, &opts(), &cols).unwrap());
        (general, plain)
    }

    fn assert_same(a: &Frame, b: &Frame) {
        assert_eq!(a.df.height(), b.df.height());
        assert!(a.df.equals_missing(&b.df), "{:?}\n{:?}", a.df, b.df);
        for c in a.df.columns() {
            assert_eq!(c.dtype(), b.df.column(c.name()).unwrap().dtype());
        }
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.assumptions, b.assumptions);
    }

    /// A last share whose records are far shorter than the rest holds more records
    /// than the room made for it at the other shares' rate: it is counted and the
    /// shares parsed again, to the general reader's frame (with one share, at the
    /// head's rate, too).
    #[test]
    fn a_last_share_of_short_records_is_counted_and_read_again() {
        // The head (10,001 records and more) and about half the rest long, the other
        // half short.
        let mut text = String::from("a,b,c\n");
        for i in 0..30_000 {
            text.push_str(&format!("{}.123456789,{}.987654321,{}\n", i, i % 7, i % 3));
        }
        for i in 0..100_000 {
            text.push_str(&format!("{},{},{}\n", i % 10, i % 7, i % 3));
        }
        for shares in [1, 2, 3] {
            let sizes = Sizes {
                head: 60_000,
                shares,
                ..TINY
            };
            let (g, p) = both(&text, &["a", "b", "c"], sizes);
            let p = p.expect("a plain file");
            assert_same(&g, &p);
            assert_eq!(p.height(), 130_000);
        }
    }

    #[test]
    fn reads_what_the_general_reader_reads() {
        let text = plain_file(12_345);
        for sizes in [
            TINY,
            Sizes {
                block: 1 << 20,
                shares: 1,
                ..TINY
            },
            Sizes {
                block: 5_000,
                shares: 7,
                head: 100_000,
                ..TINY
            },
        ] {
            let (g, p) = both(&text, &["y", "id", "z", "arm"], sizes);
            let p = p.expect("a plain file");
            assert_same(&g, &p);
            assert_eq!(p.height(), 12_345);
        }
        // Without a line end after the last record.
        let text = text.trim_end();
        let (g, p) = both(text, &["id", "arm", "y", "z"], TINY);
        assert_same(&g, &p.expect("a plain file"));
        // Lines ending in CR LF.
        let crlf = text.replace('\n', "\r\n") + "\r\n";
        let (g, p) = both(&crlf, &["id", "arm", "y", "z"], TINY);
        assert_same(&g, &p.expect("a plain file with CR LF"));
        // A first column without a name (pandas' index), selected or not.
        let mut indexed = String::new();
        for (i, line) in text.lines().enumerate() {
            if i == 0 {
                indexed.push_str(&format!(",{line}\n"));
            } else {
                indexed.push_str(&format!("{},{line}\n", i - 1));
            }
        }
        for cols in [&["y", "arm"][..], &[]] {
            let (g, p) = both(&indexed.replace(",t", ","), cols, TINY);
            assert_same(&g, &p.unwrap_or_else(|| panic!("index column, {cols:?}")));
        }
    }

    /// Text columns: as written, with markers (in the head and further down), empty
    /// fields and spaces, selected with numbers or alone.
    #[test]
    fn text_columns_as_the_general_reader_reads_them() {
        let mut text = String::from("id,arm,label,y\n");
        for i in 0..23_456 {
            let arm = ["treated", "control", "waitlist"][i % 3];
            let label = match i % 11 {
                0 => String::new(),
                1 => "NA".into(),
                2 => " b c ".into(),
                3 if i > 15_000 => "NULL".into(),
                _ => format!("L{}", i % 13),
            };
            text.push_str(&format!("{i},{arm},{label},{}\n", y_text(i)));
        }
        for cols in [&["arm", "label", "y"][..], &["label"], &[]] {
            let (g, p) = both(&text, cols, TINY);
            let p = p.unwrap_or_else(|| panic!("text columns {cols:?}"));
            assert_same(&g, &p);
        }
        let (_, p) = both(&text, &["arm", "label"], TINY);
        let p = p.unwrap();
        assert_eq!(
            p.factor("arm").unwrap().levels,
            ["control", "treated", "waitlist"]
        );
        let label = p.strings("label").unwrap();
        assert_eq!(label[15_007], None, "NULL further down");
        assert_eq!(label[15_008].as_deref(), Some("L6"));
        assert_eq!(label[2].as_deref(), Some("b c"));
    }

    /// Every value is the correctly rounded number its text writes (std's parser is an
    /// independent check), missing where the field is empty or a marker.
    #[test]
    fn values_are_the_numbers_written() {
        let (_, p) = both(&plain_file(10_500), &["y", "z"], TINY);
        let p = p.unwrap();
        let (y, z) = (p.numeric("y").unwrap(), p.numeric("z").unwrap());
        for i in 0..10_500 {
            assert_eq!(y.get(i), y_text(i).parse::<f64>().ok(), "y, row {i}");
            assert_eq!(z.get(i), z_text(i).parse::<f64>().ok(), "z, row {i}");
        }
        assert!(y.missing() > 0 && z.missing() > 0);
    }

    /// Anything the plain reader does not handle is left to the general reader.
    #[test]
    fn declines_files_that_are_not_plain() {
        let base = plain_file(20_000);
        let late = |line: &str| {
            let mut t = base.clone();
            t.push_str(line);
            t.push('\n');
            t.push_str("10201,1,2.5,t,3\n");
            t
        };
        let cases = [
            ("a quote", late("10200,1,\"2.5\",t,3")),
            ("a quote in a skipped column", late("10200,1,2.5,\"t\",3")),
            ("a carriage return alone", late("10200,1,2.5\r,t,3")),
            ("a CR LF blank line", late("\r")),
            ("a blank line", late("")),
            ("a comment", late("# note")),
            ("a non-ASCII byte", late("10200,1,2.5,Zoë,3")),
            ("too few fields", late("10200,1,2.5,t")),
            ("too many fields", late("10200,1,2.5,t,3,")),
            ("text in a number column", late("10200,1,two,t,3")),
            ("a marker not in the head", late("10200,1,.,t,3")),
            ("a decimal in an integer column", late("10200,1.5,2.5,t,3")),
            (
                "an integer of 10^15",
                late("10200,1000000000000000,2.5,t,3"),
            ),
            ("a blank record", late(",,,,")),
            ("a NUL byte", late("10200,1,2.5,t\0,3")),
            ("spaces before a number", late("10200,1, 2.5,t,3")),
            ("an infinite number", late("10200,1,1e999,t,3")),
            ("not a number", late("10200,1,nan,t,3")),
        ];
        let cols = ["id", "arm", "y", "z"];
        for (what, text) in &cases {
            let f = file(text);
            let cols = names(&cols);
            let sel = select(&cols);
            assert!(
                read_with(f.path(), &opts(), &sel, TINY).is_none(),
                "{what}: read as plain"
            );
            // The general reader still reads it, or says what is wrong.
            let _ = Frame::load_with(f.path(), &cols, &[], &opts());
        }
        // A marker that reads as a number, small files, other separators and columns
        // of other types: the general reader's.
        let f = file(&base);
        let cols = names(&cols);
        let sel = select(&cols);
        let na = ReadOptions {
            na: vec!["-4".into()],
            ..opts()
        };
        assert!(read_with(f.path(), &na, &sel, TINY).is_none());
        assert!(
            read_with(f.path(), &opts(), &sel, PLAIN).is_none(),
            "small file"
        );
        let semi = file(&base.replace(',', ";"));
        // A column without a name, empty in the head but not further down.
        let mut unnamed = String::new();
        for (i, line) in base.lines().enumerate() {
            let extra = if i > 15_000 { "7" } else { "" };
            unnamed.push_str(&format!("{line},{extra}\n"));
        }
        let unnamed = file(&unnamed);
        assert!(read_with(unnamed.path(), &opts(), &sel, TINY).is_none());
        assert!(read_with(semi.path(), &opts(), &sel, TINY).is_none());
        let mut flags = String::from("id,flag\n");
        for i in 0..20_000 {
            flags.push_str(&format!("{i},{}\n", i % 3 == 0));
        }
        let flags = file(&flags);
        let flag = names(&["flag"]);
        let sel = select(&flag);
        assert!(
            read_with(flags.path(), &opts(), &sel, TINY).is_none(),
            "true/false"
        );
        // A column asked for twice is read once, by either reader.
        let (g, p) = both(&base, &["y", "arm", "y"], TINY);
        let p = p.expect("y twice");
        assert_same(&g, &p);
        assert_eq!(p.column_names(), ["y", "arm"]);
        // Fewer rows than the types are inferred from.
        let short = file(&plain_file(9_000));
        let sel = select(&cols);
        assert!(read_with(short.path(), &opts(), &sel, TINY).is_none());
        // The same file without the odd line is plain.
        assert!(read_with(f.path(), &opts(), &sel, TINY).is_some());
    }

    /// Through the loader: a file above [`PLAIN`]'s size is read by this module, with
    /// the frame the general reader gives.
    #[test]
    fn loader_reads_large_plain_files_as_before() {
        // From the smallest size read as plain (with a head sized by the records'
        // length, well under the whole file), and a larger one.
        let small = plain_file(60_000);
        assert!(small.len() as u64 > PLAIN.min_file && small.len() < 2 << 20);
        let f = file(&small);
        let mut file_handle = File::open(f.path()).unwrap();
        let (guess, records) = head_guess(&mut file_handle, small.len() - 1).unwrap();
        assert!(guess < small.len() / 2 && (50_000.0..70_000.0).contains(&records));
        let cols = names(&["arm", "y", "z"]);
        let sel = select(&cols);
        assert!(
            read(f.path(), &opts(), &sel).is_some(),
            "1 MB read as plain"
        );
        let loaded = Frame::load_with(f.path(), &cols, &[], &opts()).unwrap();
        let general = text::read(small.into_bytes(), &opts(), &sel, false)
            .unwrap()
            .unwrap();
        assert_same(
            &Frame::from_text(f.path(), general, &opts(), &cols).unwrap(),
            &loaded,
        );

        let text = plain_file(250_000);
        assert!(text.len() as u64 > PLAIN.min_file);
        let f = file(&text);
        let cols = names(&["arm", "y", "z"]);
        let sel = select(&cols);
        assert!(read(f.path(), &opts(), &sel).is_some(), "read as plain");
        let loaded = Frame::load_with(f.path(), &cols, &[], &opts()).unwrap();
        let general = text::read(text.into_bytes(), &opts(), &sel, false)
            .unwrap()
            .unwrap();
        let general = Frame::from_text(f.path(), general, &opts(), &cols).unwrap();
        assert_same(&general, &loaded);
    }

    /// Issue 12: a record longer than the head (a field of megabytes) made the head grow
    /// by one byte at a time, each time read and parsed again, so that a file with a
    /// 4 MB field took minutes. It now grows by half at least: from 1 MiB to the end of a
    /// 1 GiB file in at most 19 reads, of less than four times the file in all.
    #[test]
    fn the_head_grows_by_half_at_least() {
        let len: u64 = 1 << 30;
        let (mut want, mut reads, mut total) = (1usize << 20, 1, 1u64 << 20);
        // Five records in the first 100 bytes, then one that does not end in the head.
        while (want as u64) < len - 1 {
            let next = grow_head(want, 100, 5, len);
            assert!(
                next >= want + want / 2 || next as u64 == len - 1,
                "{want} -> {next}"
            );
            want = next;
            reads += 1;
            total += want as u64;
            assert!(reads <= 19, "{reads} reads of the head");
        }
        assert_eq!(want as u64, len - 1);
        assert!(total < 4 * len, "{total} bytes read for the head");
        // An ordinary head grows to the estimate, at most fourfold.
        assert_eq!(grow_head(1 << 20, 1 << 20, 1_000, len), 4 << 20);
        assert_eq!(grow_head(1 << 20, 1 << 20, 9_000, len), 1_572_864);
        assert_eq!(grow_head(1 << 20, 1 << 20, 5_000, len), 2_307_097);
    }

    /// Issue 12: a field of a megabyte in a column that is not read, where the head
    /// does not hold it (the plain reader then declines: too few rows) and past the
    /// head (a record over ten thousand blocks), is read as the general reader reads it.
    #[test]
    fn a_long_field_is_read_once() {
        let long = "x".repeat(1 << 20);
        let file_with = |rows: usize, at: usize| {
            let mut f = String::from("id,arm,y,note\n");
            for i in 0..rows {
                let note = if i == at { long.as_str() } else { "n" };
                f.push_str(&format!("{i},{},{}.5,{note}\n", i % 2, i % 7));
            }
            f
        };
        let (g, p) = both(&file_with(300, 5), &["arm", "y"], TINY);
        assert!(p.is_none());
        assert_eq!(g.height(), 300);
        let rows = INFER_ROWS + 2_000;
        let (g, p) = both(&file_with(rows, INFER_ROWS + 1_000), &["y", "arm"], TINY);
        let p = p.expect("a plain file");
        assert_same(&g, &p);
        assert_eq!(p.height(), rows);
    }

    /// A case of the rules file: what it shows, the cells put in (row, column, text),
    /// the extra markers, and whether this module takes the file.
    type RuleCase<'a> = (&'a str, Vec<(usize, &'a str, &'a str)>, &'a [&'a str], bool);

    /// The columns of the file that exercises the reading rules.
    const RULE_COLUMNS: [&str; 6] = ["arm", "y", "n", "code", "yn", "label"];

    /// Rows of that file: more than polars infers types from, so that a case can sit in
    /// the first rows or far down.
    const RULE_ROWS: usize = INFER_ROWS + 10_000;

    /// The cells of the file: numbers with a decimal point (and markers) in `y`,
    /// integers in `n`, whole-number codes in `code`, yes/no words in `yn`, text with
    /// spaces in `label`; then the case's cells (row, column, text) put in.
    fn rule_cells(case: &[(usize, &str, &str)]) -> Vec<Vec<String>> {
        let mut rows: Vec<Vec<String>> = (0..RULE_ROWS)
            .map(|i| {
                let y = match i % 101 {
                    5 => "NA".to_string(),
                    17 => String::new(),
                    _ => format!("{}.{}", i % 100, i % 10),
                };
                let label = if i % 13 == 0 {
                    "  L x ".to_string()
                } else {
                    format!("L{}", i % 7)
                };
                vec![
                    ["treated", "control"][i % 2].to_string(),
                    y,
                    (i % 50).to_string(),
                    (100 + i % 900).to_string(),
                    if i % 3 == 0 { "ja" } else { "nee" }.to_string(),
                    label,
                ]
            })
            .collect();
        for &(row, col, text) in case {
            let c = RULE_COLUMNS.iter().position(|n| *n == col).unwrap();
            rows[row][c] = text.to_string();
        }
        rows
    }

    /// The cells as a comma file (quoted where they hold a comma), or as Dutch Excel
    /// writes them: ';' and decimal commas in `y`.
    fn rule_file(cells: &[Vec<String>], dutch: bool) -> String {
        let sep = if dutch { ";" } else { "," };
        let mut f = RULE_COLUMNS.join(sep) + "\n";
        for row in cells {
            let row: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(j, c)| match (dutch, j) {
                    (true, 1) if c.trim() != "." => c.replace('.', ","),
                    (false, _) if c.contains(',') => format!("\"{c}\""),
                    _ => c.clone(),
                })
                .collect();
            f.push_str(&row.join(sep));
            f.push('\n');
        }
        f
    }

    /// Two frames hold the same values: per column the same texts, the same numbers
    /// (or both refuse them) and the same factor; the same rows. `numbers_only` compares
    /// only numbers in `y` (its texts are written with another decimal mark).
    fn same_values(what: &str, a: &Frame, b: &Frame, numbers_only: bool) {
        assert_eq!(a.column_names(), b.column_names(), "{what}");
        assert_eq!(a.rows, b.rows, "{what}: rows");
        for c in a.column_names() {
            match (a.numbers(&c), b.numbers(&c)) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "{what}: numbers of {c}"),
                (Err(_), Err(_)) => {}
                (x, y) => panic!("{what}: numbers of {c}: {:?} and {:?}", x.err(), y.err()),
            }
            if numbers_only && c == "y" {
                continue;
            }
            assert_eq!(
                a.strings(&c).unwrap(),
                b.strings(&c).unwrap(),
                "{what}: {c}"
            );
            assert_eq!(a.factor(&c).unwrap(), b.factor(&c).unwrap(), "{what}: {c}");
        }
    }

    /// Every reading rule of [`rules`] holds whichever way a file is read: polars with
    /// inferred types (when it does not give way to the text read), polars with every
    /// column as text, this module (when it takes the file), the loader, and the same
    /// cells written with ';' and decimal commas. Each case puts a rule's cells far down
    /// the file, after the rows types and markers are taken from, where the readers
    /// drifted apart before: a marker that reads as a number ("-99") or as not-a-number
    /// ("nan") was read as a number, and a code with a leading zero after the first
    /// thousand rows as a number ("0363" as 363).
    #[test]
    fn every_reader_applies_the_same_rules() {
        // Past the head this module takes the types from (in TINY pieces, about 15,000
        // records).
        let late = INFER_ROWS + 9_000;
        let cases: [RuleCase; 13] = [
            ("clean", vec![], &[], true),
            (
                "built-in markers in any case",
                vec![
                    (late, "y", "na"),
                    (late + 1, "y", "NULL"),
                    (late + 2, "y", "#N/A"),
                    (late + 3, "n", "n/a"),
                    (late + 4, "label", "-"),
                ],
                &[],
                false,
            ),
            ("not-a-number", vec![(late, "y", "nan")], &[], false),
            (
                "a marker that reads as a number",
                vec![(late, "y", "-99"), (late + 7, "n", "-99")],
                &["-99"],
                false,
            ),
            (
                "the same marker in the first rows",
                vec![(3, "y", "-99"), (late, "y", "-99")],
                &["-99"],
                false,
            ),
            (
                "a marker in words",
                vec![(late, "y", "onbekend"), (late + 1, "arm", "onbekend")],
                &["onbekend"],
                false,
            ),
            (
                "a leading zero far down",
                vec![(late, "code", "0363"), (late + 1, "code", "-007")],
                &[],
                false,
            ),
            (
                "a leading zero in the first rows",
                vec![(4, "code", "0518")],
                &[],
                true,
            ),
            (
                "spaces around values",
                vec![
                    (late, "y", " 2.5 "),
                    (late + 1, "arm", " treated "),
                    (6, "n", " 4"),
                ],
                &[],
                false,
            ),
            (
                "an integer too large for floating point",
                vec![(late, "n", "10000000000000000")],
                &[],
                false,
            ),
            ("a decimal comma", vec![(late, "y", "1,5")], &[], false),
            (
                "text in a number column",
                vec![(late, "n", "vier")],
                &[],
                false,
            ),
            (
                "yes/no words mixed with numbers",
                vec![(late, "yn", "2")],
                &[],
                true,
            ),
        ];
        let cols = names(&RULE_COLUMNS);
        let sel = select(&cols);
        for (what, case, na, plain_takes_it) in cases {
            let opts = ReadOptions {
                na: na.iter().map(|s| s.to_string()).collect(),
                ..ReadOptions::default()
            };
            let cells = rule_cells(&case);
            let text = rule_file(&cells, false);
            let f = file(&text);
            let frame = |t| Frame::from_text(f.path(), t, &opts, &cols).unwrap();
            let as_text = frame(
                text::read(text.as_bytes().to_vec(), &opts, &sel, true)
                    .unwrap()
                    .unwrap(),
            );
            if let Ok(typed) = text::read(text.as_bytes().to_vec(), &opts, &sel, false).unwrap() {
                let typed = frame(typed);
                same_values(&format!("{what}, typed"), &as_text, &typed, false);
                assert_eq!(as_text.assumptions, typed.assumptions, "{what}");
            }
            let plain = read_with(f.path(), &opts, &sel, TINY).map(frame);
            assert_eq!(plain.is_some(), plain_takes_it, "{what}: read as plain");
            if let Some(plain) = plain {
                same_values(&format!("{what}, plain"), &as_text, &plain, false);
                assert_eq!(as_text.assumptions, plain.assumptions, "{what}");
            }
            let loaded = Frame::load_with(f.path(), &cols, &[], &opts).unwrap();
            same_values(&format!("{what}, loaded"), &as_text, &loaded, false);
            if what != "a decimal comma" {
                let dutch = file(&rule_file(&cells, true));
                let nl = Frame::load_with(dutch.path(), &cols, &[], &opts).unwrap();
                same_values(&format!("{what}, ';'"), &as_text, &nl, true);
                assert!(
                    nl.assumptions.iter().any(|a| a.contains("decimal comma")),
                    "{what}: {:?}",
                    nl.assumptions
                );
            }
        }
        // What the rules make of the cases, read any way.
        let read = |case: Vec<(usize, &str, &str)>, na: &[&str]| {
            let f = file(&rule_file(&rule_cells(&case), false));
            let opts = ReadOptions {
                na: na.iter().map(|s| s.to_string()).collect(),
                ..ReadOptions::default()
            };
            Frame::load_with(f.path(), &cols, &[], &opts).unwrap()
        };
        let f = read(vec![(late, "y", "-99"), (late, "n", "-99")], &["-99"]);
        assert_eq!(f.numbers("y").unwrap()[late], None);
        assert_eq!(f.numbers("n").unwrap()[late], None);
        let f = read(vec![(late, "y", "nan")], &[]);
        assert_eq!(f.numbers("y").unwrap()[late], None);
        let f = read(vec![(late, "code", "0363")], &[]);
        assert_eq!(f.strings("code").unwrap()[late].as_deref(), Some("0363"));
        assert_eq!(f.numbers("code").unwrap()[late], Some(363.0));
        let f = read(vec![(late, "y", " 2.5 ")], &[]);
        assert_eq!(f.numbers("y").unwrap()[late], Some(2.5));
        assert_eq!(f.strings("label").unwrap()[0].as_deref(), Some("L x"));
    }
}
