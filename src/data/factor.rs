//! Factors and labels: a column as codes into its sorted distinct values, as labels
//! are written ([`Frame::strings`]), for arms, clusters, blocks and other codes.

use polars::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

use super::rules::{self, fmt_number, whole_number_text};
use super::{Frame, Labels, PerText};
use crate::error::Result;

/// A text column as codes into its sorted distinct values ([`Frame::factor`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// Per row, the index into `levels`, or missing.
    pub codes: Codes,
    /// The distinct values, sorted, in one buffer (a unit column of 10^5 numbers has
    /// 1.4 MB of labels so, 5.6 MB as a `String` each).
    pub levels: Labels,
}

impl Factor {
    /// Rows per level.
    pub fn counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.levels.len()];
        for c in self.codes.iter().flatten() {
            n[c as usize] += 1;
        }
        n
    }
}

/// Per row, an optional code, in 4 bytes (an `Option<u32>` takes 8): a unit column of
/// 10^7 rows is coded in 40 MB, beside the 80 MB of the column itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Codes(Vec<u32>);

impl Codes {
    /// The missing code; never a level's index, since a factor has fewer levels.
    const MISSING: u32 = u32::MAX;

    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    /// Add the next row's code (`None`: missing); `code` is below `u32::MAX`.
    pub fn push(&mut self, code: Option<u32>) {
        debug_assert!(code != Some(Self::MISSING));
        self.0.push(code.unwrap_or(Self::MISSING));
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Row `i`'s code; `None` when missing.
    pub fn get(&self, i: usize) -> Option<u32> {
        let c = self.0[i];
        (c != Self::MISSING).then_some(c)
    }
    /// The codes in row order.
    pub fn iter(&self) -> impl Iterator<Item = Option<u32>> + '_ {
        self.0.iter().map(|&c| (c != Self::MISSING).then_some(c))
    }
    /// Replace every present code `c` by `to[c]`.
    fn remap(&mut self, to: &[u32]) {
        for c in &mut self.0 {
            if *c != Self::MISSING {
                *c = to[*c as usize];
            }
        }
    }
}

impl Extend<Option<u32>> for Codes {
    fn extend<I: IntoIterator<Item = Option<u32>>>(&mut self, it: I) {
        for c in it {
            self.push(c);
        }
    }
}

/// The first row whose value is not in a list ([`Frame::positions`]): its index, and
/// its text (None: missing).
pub type Unplaced = (usize, Option<String>);

/// The distinct texts, sorted.
fn sorted_levels(texts: &[String]) -> Vec<String> {
    let mut levels = texts.to_vec();
    levels.sort();
    levels.dedup();
    levels
}

/// Rows per piece of [`Frame::number_parts`].
const NUMBER_PART: usize = 1 << 16;

/// Codes of numbers in order of first appearance ([`Frame::factor`]). Whole numbers
/// from 0 to 4,095 (arms, cluster and other small codes) are looked up in a table, the
/// rest in a hash map; 0 and -0 are one value.
struct NumberCodes {
    /// Code of each small whole number; `u32::MAX` when not seen yet.
    small: Vec<u32>,
    seen: FxHashMap<u64, u32>,
}

impl Default for NumberCodes {
    fn default() -> Self {
        Self {
            small: vec![u32::MAX; Self::SMALL],
            seen: FxHashMap::default(),
        }
    }
}

impl NumberCodes {
    const SMALL: usize = 4_096;

    /// The index of `x` in the table, when it is a whole number below [`Self::SMALL`].
    #[inline(always)]
    fn small_index(x: f64) -> Option<usize> {
        let i = x as u16;
        (f64::from(i) == x && usize::from(i) < Self::SMALL).then_some(usize::from(i))
    }

    #[inline(always)]
    fn code(&mut self, x: f64, texts: &mut Vec<String>) -> u32 {
        if let Some(i) = Self::small_index(x)
            && self.small[i] != u32::MAX
        {
            return self.small[i];
        }
        self.lookup(x, texts)
    }

    #[cold]
    #[inline(never)]
    fn lookup(&mut self, x: f64, texts: &mut Vec<String>) -> u32 {
        // x + 0.0 is x, except that -0 becomes +0.
        let key = (x + 0.0).to_bits();
        let next = texts.len() as u32;
        let c = *self.seen.entry(key).or_insert_with(|| {
            texts.push(fmt_number(x));
            next
        });
        if let Some(i) = Self::small_index(x) {
            self.small[i] = c;
        }
        c
    }
}

/// Levels formatted by one task of [`WholeRange::levels`].
const LEVELS_PER_TASK: usize = 1 << 14;

/// The whole numbers of a column as offsets into `lo..lo + len`, and which of them
/// occur ([`Frame::whole_number_factor`]).
struct WholeRange {
    lo: i64,
    present: Vec<bool>,
}

impl WholeRange {
    /// Largest magnitude taken: every value's text is then at most 11 bytes.
    const MAX_ABS: f64 = 2_147_483_647.0;

    /// The range of the non-missing values (`chunks`: values, and which are present
    /// when some are missing), when all are whole numbers of magnitude at most
    /// [`Self::MAX_ABS`] and the range spans at most 2·`rows` + 4,096 values.
    fn of(chunks: &[(&[f64], Option<Vec<bool>>)], rows: usize) -> Option<Self> {
        let (mut lo, mut hi, mut whole) = (f64::INFINITY, f64::NEG_INFINITY, true);
        for (values, valid) in chunks {
            // Missing values are skipped (polars keeps some number in their slots).
            let mut take = |x: f64| {
                lo = lo.min(x);
                hi = hi.max(x);
                // NaN fails both tests; x as i64 saturates beyond the bound.
                whole &= (x.abs() <= Self::MAX_ABS) & (x == (x as i64) as f64);
            };
            match valid {
                None => values.iter().for_each(|&x| take(x)),
                Some(ok) => values
                    .iter()
                    .zip(ok)
                    .filter(|v| *v.1)
                    .for_each(|v| take(*v.0)),
            }
        }
        if !whole || lo > hi {
            return None;
        }
        let (lo, hi) = (lo as i64, hi as i64);
        let len = usize::try_from(hi - lo + 1).ok()?;
        if len > 2 * rows + 4_096 {
            return None;
        }
        let mut present = vec![false; len];
        for (values, valid) in chunks {
            for (i, &x) in values.iter().enumerate() {
                if valid.as_ref().is_none_or(|ok| ok[i]) {
                    present[(x as i64 - lo) as usize] = true;
                }
            }
        }
        Some(Self { lo, present })
    }

    /// The offset of a value of the range.
    #[inline(always)]
    fn index(&self, x: f64) -> usize {
        (x as i64 - self.lo) as usize
    }

    /// The values that occur as texts ([`fmt_number`]), sorted as texts are, and the
    /// code (index into them) of each offset of the range.
    fn levels(&self) -> (Labels, Vec<u32>) {
        let offsets: Vec<u32> = (0..self.present.len() as u32)
            .filter(|&i| self.present[i as usize])
            .collect();
        let mut keys: Vec<(u128, u32)> = offsets
            .par_iter()
            .map(|&i| (whole_key(self.lo + i64::from(i)), i))
            .collect();
        drop(offsets);
        // Keys are distinct (distinct whole numbers have distinct texts).
        keys.par_sort_unstable();
        let mut code_of = vec![u32::MAX; self.present.len()];
        for (k, &(_, i)) in keys.iter().enumerate() {
            code_of[i as usize] = k as u32;
        }
        // Formatted on all cores in runs of levels, then joined in order.
        let parts: Vec<Labels> = keys
            .par_chunks(LEVELS_PER_TASK)
            .map(|run| {
                run.iter()
                    .map(|&(_, i)| fmt_number((self.lo + i64::from(i)) as f64))
                    .collect()
            })
            .collect();
        drop(keys);
        (Labels::concat(parts), code_of)
    }
}

/// The text of a whole number of at most 16 bytes, as [`fmt_number`] writes it, as a
/// number that orders as the texts do: its bytes from the most significant end, zero
/// after them (no text has a NUL byte, so a text before its extensions).
fn whole_key(v: i64) -> u128 {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut m = v.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if v < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    let text = &digits[at..];
    assert!(text.len() <= 16, "a text key holds 16 bytes");
    let mut k = [0u8; 16];
    k[..text.len()].copy_from_slice(text);
    u128::from_be_bytes(k)
}

impl Frame {
    /// A column as a factor: per row the index of its value among the sorted distinct
    /// values (as [`Frame::strings`] writes them), None where missing. Each distinct
    /// value is formatted once, so this is cheap on large columns.
    pub fn factor(&self, name: &str) -> Result<Factor> {
        match self.whole_number_factor(name)? {
            Some(f) => Ok(f),
            None => self.general_factor(name),
        }
    }

    /// [`Frame::factor`] by codes in order of first appearance, then sorted: for any
    /// column.
    fn general_factor(&self, name: &str) -> Result<Factor> {
        let mut codes = Codes::with_capacity(self.height());
        let texts = self.code_rows(name, |c, _| codes.push(c))?;
        // Distinct texts, sorted; different raw values with the same text ("1" and
        // "1.0") become one level.
        let levels = sorted_levels(&texts);
        let remap: Vec<u32> = texts
            .iter()
            .map(|t| levels.binary_search(t).expect("every text is a level") as u32)
            .collect();
        if remap.iter().enumerate().any(|(i, &c)| i as u32 != c) {
            codes.remap(&remap);
        }
        Ok(Factor {
            codes,
            levels: levels.iter().collect(),
        })
    }

    /// [`Frame::factor`] of a numeric column of whole numbers in a range of at most
    /// about twice the rows (unit and person numbers, years): each row's code is looked
    /// up in a table over the range, not a hash map, and the distinct values are sorted
    /// by their text once. `None` for any other column (then the general path runs).
    fn whole_number_factor(&self, name: &str) -> Result<Option<Factor>> {
        let Some(f) = self.as_numbers(name)? else {
            return Ok(None);
        };
        let ca = f.f64().map_err(|e| self.err(name, e))?;
        let chunks: Vec<(&[f64], Option<Vec<bool>>)> = ca
            .downcast_iter()
            .map(|a| {
                let valid = a
                    .validity()
                    .filter(|v| v.unset_bits() > 0)
                    .map(|v| v.iter().collect());
                (a.values().as_slice(), valid)
            })
            .collect();
        let Some(range) = WholeRange::of(&chunks, ca.len()) else {
            return Ok(None);
        };
        let (levels, code_of) = range.levels();
        let mut codes = Codes::with_capacity(ca.len());
        for (values, valid) in &chunks {
            let code = |x: f64| code_of[range.index(x)];
            match valid {
                None => codes.extend(values.iter().map(|&x| Some(code(x)))),
                Some(ok) => codes.extend(values.iter().zip(ok).map(|(&x, &o)| o.then(|| code(x)))),
            }
        }
        Ok(Some(Factor { codes, levels }))
    }

    /// The levels of [`Frame::factor`] (sorted distinct values), and whether a value is
    /// missing, without a code per row.
    pub fn levels(&self, name: &str) -> Result<(Vec<String>, bool)> {
        if let Some(parts) = self.number_parts(name, |values, valid| {
            let (mut codes, mut texts) = (NumberCodes::default(), Vec::new());
            let mut missing = false;
            for (i, &x) in values.iter().enumerate() {
                if valid.is_none_or(|v| v[i]) {
                    codes.code(x, &mut texts);
                } else {
                    missing = true;
                }
            }
            (texts, missing)
        })? {
            let missing = parts.iter().any(|p| p.1);
            let texts: Vec<String> = parts.into_iter().flat_map(|p| p.0).collect();
            return Ok((sorted_levels(&texts), missing));
        }
        let mut missing = false;
        let texts = self.code_rows(name, |c, _| missing |= c.is_none())?;
        Ok((sorted_levels(&texts), missing))
    }

    /// Per row, the position in `allowed` (at most 65,535 values) of its value, as
    /// [`Frame::factor`]'s levels write it; or the first row whose value is missing
    /// (None) or not allowed (its text).
    pub fn positions(
        &self,
        name: &str,
        allowed: &[&str],
    ) -> Result<std::result::Result<Vec<u16>, Unplaced>> {
        const NOT: u16 = u16::MAX;
        // The position in `allowed` of code `c`'s text, or NOT; `of_code` holds those
        // of the codes so far and takes on the texts of new ones.
        fn place(of_code: &mut Vec<u16>, c: usize, texts: &[String], allowed: &[&str]) -> u16 {
            while of_code.len() < texts.len() {
                let t = &texts[of_code.len()];
                let at = allowed.iter().position(|a| a == t);
                of_code.push(at.and_then(|p| u16::try_from(p).ok()).unwrap_or(NOT));
            }
            of_code[c]
        }
        if let Some(parts) = self.number_parts(name, |values, valid| {
            let (mut codes, mut texts) = (NumberCodes::default(), Vec::new());
            let mut of_code: Vec<u16> = Vec::new();
            let mut bad = None;
            let mut out = Vec::with_capacity(values.len());
            for (i, &x) in values.iter().enumerate() {
                let p = if valid.is_none_or(|v| v[i]) {
                    let c = codes.code(x, &mut texts) as usize;
                    let p = place(&mut of_code, c, &texts, allowed);
                    if p == NOT && bad.is_none() {
                        bad = Some((i, Some(texts[c].clone())));
                    }
                    p
                } else {
                    if bad.is_none() {
                        bad = Some((i, None));
                    }
                    NOT
                };
                out.push(p);
            }
            (out, bad)
        })? {
            // The first row not placed, counted from the start of the column.
            let mut start = 0;
            for (out, bad) in &parts {
                if let Some((i, text)) = bad {
                    return Ok(Err((start + i, text.clone())));
                }
                start += out.len();
            }
            return Ok(Ok(parts.into_iter().flat_map(|p| p.0).collect()));
        }
        let mut out: Vec<u16> = Vec::with_capacity(self.height());
        let mut of_code: Vec<u16> = Vec::new();
        let mut bad = None;
        self.code_rows(name, |c, texts| {
            let p = c.map_or(NOT, |c| place(&mut of_code, c as usize, texts, allowed));
            if p == NOT && bad.is_none() {
                bad = Some((out.len(), c.map(|c| texts[c as usize].clone())));
            }
            out.push(p);
        })?;
        Ok(bad.map_or(Ok(out), Err))
    }

    /// A numeric column as floating point; `None` for a column of another type.
    fn as_numbers(&self, name: &str) -> Result<Option<Series>> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        if !s.dtype().is_primitive_numeric() {
            return Ok(None);
        }
        s.cast(&DataType::Float64)
            .map(Some)
            .map_err(|e| self.err(name, e))
    }

    /// For a numeric column, `part` on every piece of [`NUMBER_PART`] rows, on all
    /// cores, in row order: the values and which are present (`None`: all). `None` for
    /// a column of another type.
    fn number_parts<T: Send>(
        &self,
        name: &str,
        part: impl Fn(&[f64], Option<&[bool]>) -> T + Sync,
    ) -> Result<Option<Vec<T>>> {
        let Some(f) = self.as_numbers(name)? else {
            return Ok(None);
        };
        let ca = f.f64().map_err(|e| self.err(name, e))?;
        let mut parts = Vec::new();
        for a in ca.downcast_iter() {
            let values = a.values().as_slice();
            let valid: Option<Vec<bool>> = a
                .validity()
                .filter(|v| v.unset_bits() > 0)
                .map(|v| v.iter().collect());
            let pieces: Vec<T> = values
                .par_chunks(NUMBER_PART)
                .enumerate()
                .map(|(k, v)| {
                    let at = k * NUMBER_PART;
                    part(v, valid.as_deref().map(|ok| &ok[at..at + v.len()]))
                })
                .collect();
            parts.extend(pieces);
        }
        Ok(Some(parts))
    }

    /// Hand `each` the code of every row in order (codes in order of first appearance;
    /// None where missing), with the texts of the codes so far; the text of each code.
    fn code_rows(
        &self,
        name: &str,
        mut each: impl FnMut(Option<u32>, &[String]),
    ) -> Result<Vec<String>> {
        let c = self.column(name)?;
        let s = c.as_materialized_series();
        let mut texts: Vec<String> = Vec::new();
        match s.dtype() {
            DataType::String => {
                let ca = s.str().map_err(|e| self.err(name, e))?;
                let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
                // The code of each raw text, trimmed and looked up once.
                let mut memo = PerText::new();
                for v in ca.iter() {
                    let code = v.and_then(|raw| {
                        memo.get(raw, |raw| {
                            let t = rules::trim(raw);
                            if self.rules.is_na(t) {
                                return None;
                            }
                            let next = seen.len() as u32;
                            Some(*seen.entry(t).or_insert_with(|| {
                                texts.push(whole_number_text(t, self.rules.decimal_comma));
                                next
                            }))
                        })
                    });
                    each(code, &texts);
                }
            }
            dt if dt.is_primitive_numeric() => {
                let f = s.cast(&DataType::Float64).map_err(|e| self.err(name, e))?;
                let ca = f.f64().map_err(|e| self.err(name, e))?;
                let mut codes = NumberCodes::default();
                for arr in ca.downcast_iter() {
                    let values = arr.values().iter();
                    match arr.validity() {
                        None => values.for_each(|&x| {
                            let c = codes.code(x, &mut texts);
                            each(Some(c), &texts);
                        }),
                        Some(valid) => values.zip(valid.iter()).for_each(|(&x, ok)| {
                            let c = ok.then(|| codes.code(x, &mut texts));
                            each(c, &texts);
                        }),
                    }
                }
            }
            _ => {
                let v = self.strings(name)?;
                let mut seen: HashMap<String, u32> = HashMap::new();
                for t in v {
                    let c = t.map(|t| {
                        let next = seen.len() as u32;
                        *seen.entry(t.clone()).or_insert_with(|| {
                            texts.push(t);
                            next
                        })
                    });
                    each(c, &texts);
                }
            }
        }
        Ok(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn owned(l: &Labels) -> Vec<String> {
        l.iter().map(str::to_string).collect()
    }

    /// The table path for whole numbers gives the factor of the general path: levels
    /// sorted as texts ("-12" < "-3" < "0" < "10" < "9"), -0 as 0, missing rows without
    /// a code, a range beyond the table's bound or a fraction left to the general path.
    #[test]
    fn whole_numbers_by_table_as_by_the_general_path() {
        let frame = |v: Vec<Option<f64>>| {
            let df = DataFrame::new(v.len(), vec![Column::new("n".into(), &v)]).unwrap();
            Frame::from_frame(df, Path::new("test.csv"))
        };
        let cases: Vec<Vec<Option<f64>>> = vec![
            [10.0, 9.0, -3.0, 0.0, -12.0, 9.0, -0.0, 10.0, 100.0, 1.0]
                .map(Some)
                .to_vec(),
            vec![Some(7.0), None, Some(-7.0), Some(70.0), None, Some(7.0)],
            (0..5_000)
                .map(|i| Some(f64::from((i * 7_919) % 6_007)))
                .collect(),
            (0..300)
                .map(|i| (i % 7 != 3).then_some(f64::from(1_000 - i)))
                .collect(),
        ];
        for v in cases {
            let f = frame(v.clone());
            let table = f.whole_number_factor("n").unwrap().expect("the table path");
            assert_eq!(table, f.general_factor("n").unwrap(), "{v:?}");
            assert_eq!(f.factor("n").unwrap(), table);
        }
        let first = frame([Some(-10.0), Some(-3.0), Some(0.0), Some(9.0), Some(10.0)].to_vec())
            .factor("n")
            .unwrap();
        assert_eq!(first.levels, ["-10", "-3", "0", "10", "9"]);
        assert_eq!(
            first.codes.iter().collect::<Vec<_>>(),
            [0, 1, 2, 4, 3].map(Some)
        );
        // Not for the table: a fraction, a range far wider than the rows, huge values.
        for v in [
            vec![Some(1.0), Some(2.5)],
            vec![Some(1.0), Some(1e6)],
            vec![Some(3e9), Some(3e9 + 1.0)],
        ] {
            let f = frame(v);
            assert!(f.whole_number_factor("n").unwrap().is_none());
            assert_eq!(f.factor("n").unwrap(), f.general_factor("n").unwrap());
        }
    }

    /// Codes from the small-number table, the hash map and text agree with the levels:
    /// every row's code names its own value, -0 is 0, values beyond the table and
    /// fractions are found, missing rows have no code; `levels` and `positions` say the
    /// same as `factor`.
    #[test]
    fn factor_levels_and_positions_agree() {
        let nums: Vec<Option<f64>> = [
            Some(3.0),
            Some(4_095.0),
            Some(4_096.0),
            Some(-0.0),
            None,
            Some(0.0),
            Some(2.5),
            Some(-1.0),
            Some(3.0),
            Some(1e12),
            Some(4_096.0),
        ]
        .to_vec();
        let texts = ["b", "a", "b", " c ", "NA", "a", "c", "d", "b", "a", "a"];
        let df = DataFrame::new(
            nums.len(),
            vec![
                Column::new("n".into(), &nums),
                Column::new("t".into(), texts.to_vec()),
            ],
        )
        .unwrap();
        let f = Frame::from_frame(df, Path::new("test.csv"));
        let n = f.factor("n").unwrap();
        assert_eq!(
            n.levels,
            ["-1", "0", "1000000000000", "2.5", "3", "4095", "4096"]
        );
        for (code, x) in n.codes.iter().zip(&nums) {
            assert_eq!(
                code.map(|c| n.levels[c as usize].to_string()),
                x.map(fmt_number)
            );
        }
        assert_eq!(n.codes.get(3), n.codes.get(5), "-0 and 0");
        assert_eq!(f.levels("n").unwrap(), (owned(&n.levels), true));
        let t = f.factor("t").unwrap();
        assert_eq!(t.levels, ["a", "b", "c", "d"]);
        assert_eq!(t.codes.get(4), None);
        assert_eq!(t.codes.get(3), t.codes.get(6), "trimmed");
        assert_eq!(f.levels("t").unwrap(), (owned(&t.levels), true));
        // Positions in a list of allowed values, in the list's order.
        let allowed = ["d", "c", "b", "a"];
        assert_eq!(f.positions("t", &allowed).unwrap(), Err((4, None)));
        let f = f
            .filter_values("t", &["a".into(), "b".into(), "c".into()])
            .unwrap();
        let p = f.positions("t", &allowed).unwrap().unwrap();
        let t = f.factor("t").unwrap();
        for (p, c) in p.iter().zip(t.codes.iter()) {
            assert_eq!(allowed[usize::from(*p)], &t.levels[c.unwrap() as usize]);
        }
        assert_eq!(
            f.positions("t", &["a", "b"]).unwrap(),
            Err((3, Some("c".into())))
        );
        let n = f.positions("n", &["3", "4095", "0", "-1"]).unwrap();
        assert_eq!(n, Err((2, Some("4096".into()))));
    }
}
