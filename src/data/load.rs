//! File dispatch: which reader reads a file (by its kind and its first bytes), which
//! columns it keeps ([`Selection`]), and the names of the header made unique.

use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::convert::compact_columns;
use super::rules::Rules;
use super::{Frame, plain, sheet, text};
use crate::config::{FileKind, ReadOptions};
use crate::error::{Error, Result, did_you_mean};

/// The columns to read: `required` (all when empty) and `optional` ones if present.
pub(crate) struct Selection<'a> {
    pub required: &'a [String],
    pub optional: &'a [&'a str],
}

impl Selection<'_> {
    /// Indices of the selected columns among the header's `raw` names, or a message
    /// for a column that is missing (with the closest name) or named twice.
    pub fn indices(&self, raw: &[String]) -> std::result::Result<Vec<usize>, String> {
        let (names, _) = unique_names(raw);
        if self.required.is_empty() {
            return Ok((0..names.len()).collect());
        }
        let mut out = Vec::new();
        for c in self.required {
            let at: Vec<usize> = (0..raw.len()).filter(|&i| raw[i] == *c).collect();
            match at.as_slice() {
                // A column asked for twice is read once.
                [i] if out.contains(i) => {}
                [i] => out.push(*i),
                [] => {
                    let shown: Vec<&str> = raw
                        .iter()
                        .map(String::as_str)
                        .filter(|s| !s.is_empty())
                        .collect();
                    let hint = did_you_mean(c, shown.iter().copied());
                    let case = shown
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(c) && hint.is_empty())
                        .map(|s| format!(" Did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    let split = if raw.len() == 1 && raw[0].contains([',', ';', '\t', '|']) {
                        " The header was read as a single column: is the separator right (--delimiter)?"
                    } else {
                        ""
                    };
                    let hint = if split.is_empty() {
                        hint
                    } else {
                        String::new()
                    };
                    return Err(format!(
                        "no column \"{c}\".{hint}{case}{split} The file has: {}",
                        shown.join(", ")
                    ));
                }
                many => {
                    let pos: Vec<String> = many.iter().map(|i| (i + 1).to_string()).collect();
                    return Err(format!(
                        "column \"{c}\" occurs {} times in the header (columns {}); rename or remove the extra ones",
                        many.len(),
                        pos.join(", ")
                    ));
                }
            }
        }
        for o in self.optional {
            if let Some(i) = raw.iter().position(|n| n == o)
                && !out.contains(&i)
            {
                out.push(i);
            }
        }
        Ok(out)
    }
}

/// Header names made unique and non-empty ("column_7", "age_2"), with a note per rename.
///
/// Linear in the number of columns (issue 12: a header of 40,000 columns took seconds
/// here, and the reader of plain files reads the header several times): the names
/// taken and the header's names are looked up in sets, and the next suffix to try is
/// kept per name, so that many columns of one name do not try every suffix again.
/// A suffix skipped that way was taken already, and names are only ever added.
pub(crate) fn unique_names(raw: &[String]) -> (Vec<String>, Vec<(usize, String)>) {
    let in_header: HashSet<&str> = raw.iter().map(String::as_str).collect();
    let mut taken: HashSet<String> = HashSet::with_capacity(raw.len());
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    let mut notes = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let base = if r.is_empty() {
            format!("column_{}", i + 1)
        } else {
            r.clone()
        };
        let mut n = base.clone();
        let mut k = next_suffix.get(&base).copied().unwrap_or(2);
        let mut tried = false;
        while taken.contains(&n) || (n != *r && in_header.contains(n.as_str())) {
            n = format!("{base}_{k}");
            k += 1;
            tried = true;
        }
        if tried {
            next_suffix.insert(base.clone(), k);
        }
        taken.insert(n.clone());
        if n != *r {
            notes.push((
                i,
                if r.is_empty() {
                    format!("column {} has no name; called \"{n}\"", i + 1)
                } else {
                    format!("column {} repeats the name \"{r}\"; called \"{n}\"", i + 1)
                },
            ));
        }
        names.push(n);
    }
    (names, notes)
}

impl Frame {
    /// Read `path` (delimited text, a workbook or Parquet), keeping only `columns` (all
    /// when empty), with everything detected. See [`Frame::load_with`].
    pub fn load(path: &Path, columns: &[String]) -> Result<Self> {
        Self::load_with(path, columns, &[], &ReadOptions::default())
    }

    /// As [`Frame::load`], also keeping the `optional` columns that the file has.
    pub fn load_with_optional(path: &Path, columns: &[String], optional: &[&str]) -> Result<Self> {
        Self::load_with(path, columns, optional, &ReadOptions::default())
    }

    /// Read `path` with `opts`, keeping `columns` (all when empty) and the `optional`
    /// columns the file has.
    ///
    /// A missing column is reported with the closest existing name. Text files: the
    /// first non-blank line is the header, lines starting with `#` are comments, rows
    /// of empty fields are skipped. Workbooks: the first row of the used range of the
    /// first (or the named) worksheet is the header. A required column without any
    /// value is an error.
    pub fn load_with(
        path: &Path,
        columns: &[String],
        optional: &[&str],
        opts: &ReadOptions,
    ) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(
                path,
                "the data file does not exist; check the path",
            ));
        }
        if path.is_dir() {
            return Err(Error::io(
                path,
                "is a folder, not a data file; give the path of the file itself",
            ));
        }
        let Some(kind) = FileKind::of(path) else {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_string())
                .unwrap_or_default();
            return Err(Error::data(
                path,
                format!(
                    "unknown file type \".{ext}\"; allowed file types: {}",
                    FileKind::allowed()
                ),
            ));
        };
        let sel = Selection {
            required: columns,
            optional,
        };
        if kind == FileKind::Parquet {
            return Self::load_parquet(path, &sel, opts);
        }
        // Large plain comma files of numbers: one pass per core (the same result).
        if kind == FileKind::Text
            && let Some(t) = plain::read(path, opts, &sel)
        {
            return Self::from_text(path, t, opts, columns);
        }
        // Read-only: std::fs::read opens the file for reading and nothing else.
        let bytes = std::fs::read(path).map_err(|e| {
            Error::io(
                path,
                "cannot read the data file; check that it exists and that you may read it",
            )
            .with_cause(e)
        })?;
        let table = if kind == FileKind::Sheet {
            sheet::read(bytes, opts, &sel)
        } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            sheet::read(bytes, opts, &sel).map(|mut t| {
                t.assumptions.insert(
                    0,
                    "the file is a spreadsheet workbook despite its name; read as a workbook"
                        .into(),
                );
                t
            })
        } else if bytes.starts_with(b"PAR1") {
            return Self::load_parquet(path, &sel, opts).map(|mut f| {
                f.assumptions.insert(
                    0,
                    "the file is Parquet despite its name; read as Parquet".into(),
                );
                f
            });
        } else {
            let t = match text::read(bytes, opts, &sel, false) {
                Ok(Ok(t)) => t,
                // A value further down does not fit the types of the first rows: read
                // the file again with every value as text.
                Ok(Err(text::RetryAsText)) => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        Error::io(path, "cannot read the data file again").with_cause(e)
                    })?;
                    match text::read(bytes, opts, &sel, true) {
                        Ok(Ok(t)) => t,
                        Ok(Err(text::RetryAsText)) => {
                            return Err(Error::data(path, "cannot read the values as text"));
                        }
                        Err(m) => return Err(Error::data(path, m)),
                    }
                }
                Err(m) => return Err(Error::data(path, m)),
            };
            return Self::from_text(path, t, opts, columns);
        }
        .map_err(|e| {
            let err = Error::data(path, e.msg);
            match e.cause {
                Some(c) => err.with_cause(c),
                None => err,
            }
        })?;
        Self::from_table(path, table, opts, columns)
    }

    pub(super) fn load_parquet(path: &Path, sel: &Selection, opts: &ReadOptions) -> Result<Self> {
        // polars' eager reader with a column projection: only the selected columns are
        // decoded. (The lazy engine would do the same, at the cost of a network stack in
        // the build; see Cargo.toml.)
        let file = std::fs::File::open(path)
            .map_err(|e| Error::io(path, "cannot open the data file").with_cause(e))?;
        let mut reader = ParquetReader::new(file);
        let schema = reader
            .schema()
            .map_err(|e| Error::data(path, "cannot read the header").with_cause(e))?;
        let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
        let idx = sel.indices(&names).map_err(|m| Error::data(path, m))?;
        let wanted: Vec<&str> = idx.iter().map(|&i| names[i].as_str()).collect();
        let metadata = reader
            .get_metadata()
            .map_err(|e| Error::data(path, "cannot read the header").with_cause(e))?
            .clone();
        // One column at a time, each made compact before the next is read: the pages
        // of one column are held at a time, not those of all. Each column's row groups
        // are still decoded in parallel; a file of one row group is decoded a column at
        // a time. Measured (peak, time): Welch + OLS-HC2 on 10^7 rows of ten columns
        // (ten row groups) 1,300 -> 932 MB in the same time (1.8-2.0 s); at 10^6 rows
        // (one row group) 180 -> 130 MB, 0.16 -> 0.19 s; did on 10^7 rows of four
        // columns 423 -> 407 MB. Reading two columns at once on the two cores gave the
        // time back at 10^6 rows but held two columns' pages: did on 10^6 rows then
        // peaked at 63-69 MB, above twice its columns (64 MB).
        // A numeric column of a file with several row groups is read a few row groups
        // at a time into its one array ([`read_by_row_groups`]).
        let read = |i: usize, name: &str| -> PolarsResult<Column> {
            // Only a column stored as numbers can take that path.
            let numeric = schema.get_at_index(i).is_some_and(|(_, f)| {
                use ArrowDataType::*;
                matches!(
                    f.dtype,
                    Float64 | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64
                )
            });
            if numeric {
                let by_groups = crate::timings::time(format!("read: parquet {name}"), || {
                    read_by_row_groups(path, &metadata, i, name)
                })?;
                if let Some(c) = by_groups {
                    return Ok(c);
                }
            }
            let df = crate::timings::time(format!("read: parquet {name}"), || {
                column_reader(path, &metadata, i)?.finish()
            })?;
            let df = crate::timings::time("read: compact", || compact_columns(df))?;
            df.into_columns()
                .pop()
                .ok_or_else(|| polars_err!(ComputeError: "no column read"))
        };
        let df = idx
            .iter()
            .zip(&wanted)
            .map(|(&i, name)| read(i, name))
            .collect::<PolarsResult<Vec<Column>>>()
            .and_then(|columns| {
                let height = columns.first().map_or(0, |c| c.len());
                DataFrame::new(height, columns)
            })
            .map_err(|e| Error::data(path, "cannot read the columns").with_cause(e))?;
        let frame = Self {
            path: path.to_path_buf(),
            df,
            rows: None,
            row_word: String::new(),
            rules: Rules {
                decimal_comma: opts.decimal_comma.unwrap_or(false),
                na: opts.na.clone(),
                ambiguous: false,
            },
            assumptions: Vec::new(),
            finite: false,
        };
        if frame.height() == 0 {
            return Err(Error::data(path, "the file has a header but no data rows"));
        }
        frame.check_not_all_missing(sel.required)?;
        Ok(frame)
    }
}

/// A reader of column `i` of the Parquet file at `path`, with the file's footer as
/// read once (`metadata`).
fn column_reader(
    path: &Path,
    metadata: &std::sync::Arc<polars::io::parquet::read::FileMetadata>,
    i: usize,
) -> PolarsResult<ParquetReader<std::fs::File>> {
    let mut reader = ParquetReader::new(std::fs::File::open(path)?);
    reader.set_metadata(metadata.clone());
    Ok(reader.with_projection(Some(vec![i])))
}

/// Column `i` of a Parquet file of several row groups, read as many row groups at a
/// time as there are threads (decoded in parallel) and copied into one array of floats
/// as it goes; `None`, having read nothing or part of it, when the file has one row
/// group or the column is not numbers without missing values that floats hold exactly
/// (the caller then reads it whole and makes it compact, as
/// [`super::convert::compact_columns`] does, to the same values).
///
/// Why: read whole, a column's pieces and then its joined array each take fresh
/// memory, every byte twice; here the pieces of a few row groups at a time are freed
/// before the next are decoded, and the allocator hands their memory out again.
/// Welch + OLS-HC2 on 10^8 rows of ten columns (100 row groups): the read 18.0 ->
/// 7.4 s, the run 30.0 -> 17.6 s, the same peak (9.15 GB) and output.
fn read_by_row_groups(
    path: &Path,
    metadata: &std::sync::Arc<polars::io::parquet::read::FileMetadata>,
    i: usize,
    name: &str,
) -> PolarsResult<Option<Column>> {
    let groups: Vec<usize> = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
    if groups.len() < 2 {
        return Ok(None);
    }
    let mut out: Vec<f64> = Vec::with_capacity(groups.iter().sum());
    let mut offset = 0;
    for some in groups.chunks(rayon::current_num_threads().max(1)) {
        let len: usize = some.iter().sum();
        let df = column_reader(path, metadata, i)?
            .with_slice(Some((offset, len)))
            .finish()?;
        let [c] = df.columns() else {
            return Ok(None);
        };
        if c.null_count() > 0 {
            return Ok(None);
        }
        match c.dtype() {
            DataType::Float64 => {
                for a in c.f64()?.downcast_iter() {
                    out.extend_from_slice(a.values());
                }
            }
            d if d.is_integer() => {
                // A value beyond i64 (a u64 column) casts to a missing value.
                let s = c.as_materialized_series().cast(&DataType::Int64)?;
                if s.null_count() > 0 {
                    return Ok(None);
                }
                for a in s.i64()?.downcast_iter() {
                    for &v in a.values().iter() {
                        let x = v as f64;
                        if x.abs() >= super::rules::EXACT_INTEGERS {
                            return Ok(None);
                        }
                        out.push(x);
                    }
                }
            }
            _ => return Ok(None),
        }
        offset += len;
    }
    // The pieces' memory served this column's row groups; it goes back before the
    // next column, as after [`super::convert::compact_columns`].
    crate::memory::release_freed();
    Ok(Some(
        Float64Chunked::from_vec(name.into(), out).into_column(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numeric columns of a file of several row groups, read a few row groups at a
    /// time, are what reading them whole and making them compact gives; the others
    /// (a missing value, text, an integer beyond 2^53, beyond i64) are read whole.
    #[test]
    fn row_groups_read_in_turn_give_the_whole_column() {
        let n = 2500;
        let big = |i: usize| if i == 2000 { 1i64 << 60 } else { i as i64 };
        let mut df = DataFrame::new(
            n,
            vec![
                Column::new(
                    "f".into(),
                    (0..n).map(|i| i as f64 * 0.37 - 100.0).collect::<Vec<_>>(),
                ),
                Column::new(
                    "i".into(),
                    (0..n).map(|i| (i % 7) as i32).collect::<Vec<_>>(),
                ),
                Column::new(
                    "gap".into(),
                    (0..n)
                        .map(|i| (i != 1700).then_some(i as f64))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "t".into(),
                    (0..n).map(|i| format!("a{i}")).collect::<Vec<_>>(),
                ),
                Column::new("big".into(), (0..n).map(big).collect::<Vec<_>>()),
                Column::new(
                    "u".into(),
                    (0..n)
                        .map(|i| if i == 3 { u64::MAX } else { 1 })
                        .collect::<Vec<_>>(),
                ),
            ],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(700))
            .finish(&mut df)
            .unwrap();
        let mut reader = ParquetReader::new(std::fs::File::open(&path).unwrap());
        let metadata = reader.get_metadata().unwrap().clone();
        assert!(
            metadata.row_groups.len() >= 3,
            "{}",
            metadata.row_groups.len()
        );
        let whole = compact_columns(reader.finish().unwrap()).unwrap();
        for (i, name) in ["f", "i", "gap", "t", "big", "u"].into_iter().enumerate() {
            let got = read_by_row_groups(&path, &metadata, i, name).unwrap();
            assert_eq!(got.is_some(), i < 2, "{name}");
            if let Some(c) = got {
                let want = whole.column(name).unwrap();
                assert_eq!(c.dtype(), want.dtype());
                assert!(
                    c.as_materialized_series()
                        .equals_missing(want.as_materialized_series()),
                    "{name}"
                );
            }
        }
        // Through the reader: the same frame as read whole.
        let cols: Vec<String> = ["f", "i", "gap", "t", "big", "u"]
            .map(String::from)
            .to_vec();
        let frame = Frame::load(&path, &cols).unwrap();
        for name in &cols {
            let (a, b) = (frame.df.column(name).unwrap(), whole.column(name).unwrap());
            assert_eq!(a.dtype(), b.dtype(), "{name}");
            assert!(
                a.as_materialized_series()
                    .equals_missing(b.as_materialized_series()),
                "{name}"
            );
        }
    }

    #[test]
    fn duplicate_and_empty_names_are_made_unique() {
        let raw: Vec<String> = ["a", "", "a", "a_2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (n, notes) = unique_names(&raw);
        assert_eq!(n, ["a", "column_2", "a_3", "a_2"]);
        assert_eq!(notes.len(), 2);
        let raw: Vec<String> = ["x", "x_2", "", "x", "column_3", "x", "", "column_3_2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (n, _) = unique_names(&raw);
        assert_eq!(
            n,
            [
                "x",
                "x_2",
                "column_3_3",
                "x_3",
                "column_3",
                "x_4",
                "column_7",
                "column_3_2"
            ]
        );
    }

    /// Issue 12: names were made unique by comparing each with all before it, so that
    /// 50,000 columns of one name tried 1.25 billion suffixes; now once each.
    #[test]
    fn many_columns_of_one_name() {
        let raw = vec!["v".to_string(); 50_000];
        let (n, notes) = unique_names(&raw);
        assert_eq!(n[0], "v");
        assert_eq!(n[1], "v_2");
        assert_eq!(n[49_999], "v_50000");
        assert_eq!(notes.len(), 49_999);
        let distinct: HashSet<&String> = n.iter().collect();
        assert_eq!(distinct.len(), 50_000);
    }
}
