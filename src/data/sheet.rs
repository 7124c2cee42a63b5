//! Spreadsheets (.xlsx, .xlsm, .xls, .xlsb, .ods) read with calamine: the first row of
//! the used range is the header, the rest are data rows. Numbers stay numbers; text
//! cells are read like CSV fields; dates become ISO text; error cells (#DIV/0!) are
//! errors when a number is needed, except #N/A, which is missing.

use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

use calamine::{Data, Reader, Sheets};

use super::rules::trim;
use super::{Cell, Selection, Table};
use crate::config::ReadOptions;
use crate::error::did_you_mean;

/// Why a workbook could not be read: the plain-language message, and calamine's
/// error underneath when there is one (printed after the message as its cause).
#[derive(Debug)]
pub(crate) struct SheetError {
    pub msg: String,
    pub cause: Option<crate::error::Cause>,
}

impl From<String> for SheetError {
    fn from(msg: String) -> Self {
        Self { msg, cause: None }
    }
}

impl From<&str> for SheetError {
    fn from(msg: &str) -> Self {
        msg.to_string().into()
    }
}

impl SheetError {
    fn caused(msg: String, cause: calamine::Error) -> Self {
        Self {
            msg,
            cause: Some(Box::new(cause)),
        }
    }
}

/// Read the chosen (or first) worksheet of a workbook held in memory. A damaged
/// workbook can make the reader panic (found by fuzzing: an arithmetic overflow on a
/// mangled cell reference); that is caught, kept off the terminal and reported as an
/// error.
pub(crate) fn read(
    bytes: Vec<u8>,
    opts: &ReadOptions,
    sel: &Selection,
) -> Result<Table, SheetError> {
    static QUIET: Mutex<()> = Mutex::new(());
    let _one_at_a_time = QUIET.lock().unwrap_or_else(|e| e.into_inner());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let res = std::panic::catch_unwind(AssertUnwindSafe(|| read_unguarded(bytes, opts, sel)));
    std::panic::set_hook(hook);
    res.unwrap_or_else(|_| {
        Err("the workbook is damaged (it cannot be read); open it in Excel and save it again, or export the data as CSV".into())
    })
}

fn read_unguarded(
    bytes: Vec<u8>,
    opts: &ReadOptions,
    sel: &Selection,
) -> Result<Table, SheetError> {
    let mut wb: Sheets<Cursor<Vec<u8>>> = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| {
            SheetError::caused(
                "cannot open the workbook; save it again from Excel as .xlsx, or export CSV".into(),
                e,
            )
        })?;
    let mut assumptions = Vec::new();
    let name = choose_sheet(&wb.sheet_names(), opts, &mut assumptions)?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| SheetError::caused(format!("cannot read worksheet \"{name}\""), e))?;
    let Some((r0, c0)) = range.start() else {
        return Err(format!(
            "worksheet \"{name}\" is empty; put a header row and data rows on it (or choose another with --sheet)"
        )
        .into());
    };
    // Title rows above the header: rows with at most one filled cell before the first
    // row with two or more.
    let filled = |row: &[Data]| {
        row.iter()
            .filter(|c| cell_text(c).is_some_and(|t| !t.is_empty()))
            .count()
    };
    let counts: Vec<usize> = range.rows().take(50).map(filled).collect();
    let skip = counts.iter().position(|&n| n >= 2).unwrap_or(0);
    let mut rows_iter = range.rows();
    let titles: Vec<String> = rows_iter
        .by_ref()
        .take(skip)
        .filter_map(|r| {
            r.iter()
                .find_map(|c| cell_text(c).filter(|t| !t.is_empty()))
        })
        .collect();
    let header_row = r0 + 1 + skip as u32;
    let header = rows_iter.next().unwrap_or(&[]);
    let raw_names: Vec<String> = header
        .iter()
        .map(|c| cell_text(c).unwrap_or_default())
        .collect();
    if raw_names.iter().all(String::is_empty) {
        return Err(format!(
            "worksheet \"{name}\": the first used row (row {header_row}) is empty; the first row must name the columns"
        )
        .into());
    }
    let first_col = header
        .iter()
        .position(|c| cell_text(c).is_some_and(|t| !t.is_empty()))
        .unwrap_or(0) as u32;
    if let Some(t) = titles.first() {
        assumptions.push(format!(
            "worksheet \"{name}\": {skip} row(s) above the header skipped as titles (\"{t}\"); the header is row {header_row}"
        ));
    } else if c0 + first_col > 0 || r0 > 0 {
        assumptions.push(format!(
            "worksheet \"{name}\": header in row {header_row}, starting at column {}",
            column_letter(c0 + first_col)
        ));
    }
    let keep = sel.indices(&raw_names)?;
    let body = data_rows(rows_iter, &keep, raw_names.len(), header_row);
    if body.empty_rows > 0 {
        assumptions.push(format!("{} empty row(s) skipped", body.empty_rows));
    }
    let (names_u, renamed) = super::unique_names(&raw_names);
    let named = |i: usize| !raw_names[i].is_empty() || body.used[i];
    for (i, n) in renamed {
        if named(i) {
            assumptions.push(n);
        }
    }
    let columns = keep
        .iter()
        .zip(body.cols)
        .filter(|(i, _)| named(**i))
        .map(|(&i, c)| (names_u[i].clone(), c))
        .collect();
    Ok(Table {
        columns,
        rows: body.rows,
        row_word: format!("worksheet \"{name}\", row "),
        assumptions,
        header_row,
        delimiter: None,
    })
}

/// The worksheet to read: the one asked for (`--sheet`, `data.sheet`), else the first,
/// with a note when there are others.
fn choose_sheet(
    names: &[String],
    opts: &ReadOptions,
    assumptions: &mut Vec<String>,
) -> Result<String, SheetError> {
    if names.is_empty() {
        return Err("the workbook has no worksheets".into());
    }
    if let Some(s) = &opts.sheet {
        if !names.iter().any(|n| n == s) {
            let hint = did_you_mean(s, names.iter().map(String::as_str));
            return Err(format!(
                "no worksheet \"{s}\".{hint} The workbook has: {}",
                names.join(", ")
            )
            .into());
        }
        return Ok(s.clone());
    }
    if names.len() > 1 {
        assumptions.push(format!(
            "worksheet \"{}\" read, the first of {} ({}); choose another with --sheet or data.sheet",
            names[0],
            names.len(),
            names.join(", ")
        ));
    }
    Ok(names[0].clone())
}

/// The data rows below the header: the selected cells, the sheet row of each, the
/// empty rows skipped, and which header columns hold any value.
struct DataRows {
    cols: Vec<Vec<Option<Cell>>>,
    rows: Vec<u32>,
    empty_rows: usize,
    used: Vec<bool>,
}

fn data_rows<'r>(
    rows_iter: impl Iterator<Item = &'r [Data]>,
    keep: &[usize],
    width: usize,
    header_row: u32,
) -> DataRows {
    let mut out = DataRows {
        cols: vec![Vec::new(); keep.len()],
        rows: Vec::new(),
        empty_rows: 0,
        used: vec![false; width],
    };
    for (k, row) in rows_iter.enumerate() {
        let sheet_row = header_row + 1 + k as u32;
        if row
            .iter()
            .all(|c| matches!(c, Data::Empty) || cell_text(c).is_some_and(|t| t.is_empty()))
        {
            out.empty_rows += 1;
            continue;
        }
        for (i, c) in row.iter().enumerate() {
            if i < width && !matches!(c, Data::Empty) {
                out.used[i] = true;
            }
        }
        for (j, &i) in keep.iter().enumerate() {
            out.cols[j].push(row.get(i).and_then(cell));
        }
        out.rows.push(sheet_row);
    }
    out
}

/// "A", "B", ..., "Z", "AA", ...
fn column_letter(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// A header cell as text.
fn cell_text(c: &Data) -> Option<String> {
    match c {
        Data::Empty => None,
        Data::String(s) => Some(trim(s).to_string()),
        Data::Float(x) => Some(super::fmt_number(*x)),
        Data::Int(i) => Some(i.to_string()),
        other => Some(trim(&other.to_string()).to_string()),
    }
}

/// A data cell.
fn cell(c: &Data) -> Option<Cell> {
    match c {
        Data::Empty => None,
        Data::Int(i) => Some(Cell::Number(*i as f64)),
        Data::Float(x) => Some(Cell::Number(*x)),
        Data::Bool(b) => Some(Cell::Text(if *b { "TRUE" } else { "FALSE" }.into())),
        Data::String(s) => {
            let t = trim(s);
            (!t.is_empty()).then(|| Cell::Text(t.to_string()))
        }
        Data::DateTime(d) => {
            if d.is_duration() {
                Some(Cell::Number(d.as_f64()))
            } else {
                let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
                Some(Cell::Text(if (h, mi, s) == (0, 0, 0) {
                    format!("{y:04}-{mo:02}-{da:02}")
                } else {
                    format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
                }))
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(Cell::Text(s.clone())),
        Data::Error(e) => Some(Cell::Text(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
