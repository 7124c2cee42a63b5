//! Factors and labels: a column as codes into its sorted distinct values, as labels
//! are written ([`Frame::strings`]), for arms, clusters, blocks and other codes.

use polars::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

use super::rules::{self, fmt_number, whole_number_text};
use super::{Frame, PerText};
use crate::error::Result;

/// A text column as codes into its sorted distinct values ([`Frame::factor`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// Per row, the index into `levels`; None where the value is missing.
    pub codes: Vec<Option<u32>>,
    /// The distinct values, sorted.
    pub levels: Vec<String>,
}

impl Factor {
    /// Rows per level.
    pub fn counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.levels.len()];
        for c in self.codes.iter().flatten() {
            n[*c as usize] += 1;
        }
        n
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

impl Frame {
    /// A column as a factor: per row the index of its value among the sorted distinct
    /// values (as [`Frame::strings`] writes them), None where missing. Each distinct
    /// value is formatted once, so this is cheap on large columns.
    pub fn factor(&self, name: &str) -> Result<Factor> {
        let mut codes: Vec<Option<u32>> = Vec::with_capacity(self.height());
        let texts = self.code_rows(name, |c, _| codes.push(c))?;
        // Distinct texts, sorted; different raw values with the same text ("1" and
        // "1.0") become one level.
        let levels = sorted_levels(&texts);
        let remap: Vec<u32> = texts
            .iter()
            .map(|t| levels.binary_search(t).expect("every text is a level") as u32)
            .collect();
        if remap.iter().enumerate().any(|(i, &c)| i as u32 != c) {
            for c in codes.iter_mut().flatten() {
                *c = remap[*c as usize];
            }
        }
        Ok(Factor { codes, levels })
    }

    /// The levels of [`Frame::factor`] (sorted distinct values), and whether a value is
    /// missing, without a code per row.
    pub fn levels(&self, name: &str) -> Result<(Vec<String>, bool)> {
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
        let mut out: Vec<u16> = Vec::with_capacity(self.height());
        // Position of each code's text in `allowed`, or NOT.
        let mut of_code: Vec<u16> = Vec::new();
        let mut bad = None;
        self.code_rows(name, |c, texts| {
            while of_code.len() < texts.len() {
                let t = &texts[of_code.len()];
                let at = allowed.iter().position(|a| a == t);
                of_code.push(at.and_then(|p| u16::try_from(p).ok()).unwrap_or(NOT));
            }
            let p = c.map_or(NOT, |c| of_code[c as usize]);
            if p == NOT && bad.is_none() {
                bad = Some((out.len(), c.map(|c| texts[c as usize].clone())));
            }
            out.push(p);
        })?;
        Ok(bad.map_or(Ok(out), Err))
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
                code.map(|c| n.levels[c as usize].clone()),
                x.map(fmt_number)
            );
        }
        assert_eq!(n.codes[3], n.codes[5], "-0 and 0");
        assert_eq!(f.levels("n").unwrap(), (n.levels.clone(), true));
        let t = f.factor("t").unwrap();
        assert_eq!(t.levels, ["a", "b", "c", "d"]);
        assert_eq!(t.codes[4], None);
        assert_eq!(t.codes[3], t.codes[6], "trimmed");
        assert_eq!(f.levels("t").unwrap(), (t.levels.clone(), true));
        // Positions in a list of allowed values, in the list's order.
        let allowed = ["d", "c", "b", "a"];
        assert_eq!(f.positions("t", &allowed).unwrap(), Err((4, None)));
        let f = f
            .filter_values("t", &["a".into(), "b".into(), "c".into()])
            .unwrap();
        let p = f.positions("t", &allowed).unwrap().unwrap();
        let t = f.factor("t").unwrap();
        for (p, c) in p.iter().zip(&t.codes) {
            assert_eq!(allowed[usize::from(*p)], t.levels[c.unwrap() as usize]);
        }
        assert_eq!(
            f.positions("t", &["a", "b"]).unwrap(),
            Err((3, Some("c".into())))
        );
        let n = f.positions("n", &["3", "4095", "0", "-1"]).unwrap();
        assert_eq!(n, Err((2, Some("4096".into()))));
    }
}
