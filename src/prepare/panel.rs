//! A long panel (one row per unit and period) read from a loaded data file into the
//! typed input of the difference-in-differences estimators ([`crate::stats::did`]),
//! with every check that needs the file's labels: the period column holds whole
//! numbers, one row per unit and period, a unit's first treated period is one value,
//! an absorbing 0/1 treatment never goes back to 0, events lie within trials.
//!
//! Treatment is given either as the first treated period per unit (0 or empty = never
//! treated) or as an absorbing 0/1 column (the first period with 1 becomes the first
//! treated period). Counts: `events` and `trials` per row give the outcome
//! events/trials with the trials as frequency weights, so estimates and
//! cluster-robust standard errors equal those of the person rows they summarise.
//! Rows missing the outcome, a covariate, the weight or the cluster are left out
//! (complete cases), with a note.

use std::collections::HashMap;

pub use crate::analysis::did::PanelInput;
use crate::data::{Frame, Numbers};
use crate::error::{Error, Result};

/// How treatment is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreatmentColumn {
    /// The unit's first treated period; 0 or empty = never treated.
    FirstTreated(String),
    /// An absorbing 0/1 indicator per row.
    Indicator(String),
}

/// The columns of a panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelColumns {
    pub unit: String,
    pub time: String,
    /// The outcome (or `None` with events and trials).
    pub outcome: Option<String>,
    pub treatment: TreatmentColumn,
    pub cluster: Option<String>,
    pub covariates: Vec<String>,
    pub weights: Option<String>,
    pub events: Option<String>,
    pub trials: Option<String>,
}

impl PanelColumns {
    /// Every column to load.
    pub fn all(&self) -> Vec<String> {
        let mut c = vec![self.unit.clone(), self.time.clone()];
        c.extend(self.outcome.iter().cloned());
        c.push(match &self.treatment {
            TreatmentColumn::FirstTreated(s) | TreatmentColumn::Indicator(s) => s.clone(),
        });
        c.extend(self.cluster.iter().cloned());
        c.extend(self.covariates.iter().cloned());
        c.extend(self.weights.iter().cloned());
        c.extend(self.events.iter().cloned());
        c.extend(self.trials.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        c.retain(|x| seen.insert(x.clone()));
        c
    }

    /// How many roles read column `name` (the unit column may also be the cluster, or
    /// a covariate).
    fn roles_of(&self, name: &str) -> usize {
        let treatment = match &self.treatment {
            TreatmentColumn::FirstTreated(s) | TreatmentColumn::Indicator(s) => s,
        };
        [&self.unit, &self.time, treatment]
            .into_iter()
            .chain(&self.outcome)
            .chain(&self.cluster)
            .chain(&self.covariates)
            .chain(&self.weights)
            .chain(&self.events)
            .chain(&self.trials)
            .filter(|c| c.as_str() == name)
            .count()
    }
}

/// Outcome, weights, whether they are frequency weights, persons per row (`None`: 1
/// each). Numeric columns of the frame are read in place ([`Numbers`]).
type OutcomeColumns = (Numbers, Option<Numbers>, bool, Option<Vec<f64>>);

/// The rows of the file that the panel keeps, in order.
enum Kept {
    /// Every one of the n rows.
    All(usize),
    Rows(Vec<usize>),
}

impl Kept {
    fn len(&self) -> usize {
        match self {
            Self::All(n) => *n,
            Self::Rows(r) => r.len(),
        }
    }
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The file row of kept row r.
    fn get(&self, r: usize) -> usize {
        match self {
            Self::All(_) => r,
            Self::Rows(rows) => rows[r],
        }
    }
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(|r| self.get(r))
    }
}

/// Whole number, or `None`.
fn whole(v: f64) -> Option<i64> {
    (v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

/// The first row `r` whose (unit, period) an earlier row already has, with the first
/// row that has it: `Some((first, r))`. A bit per unit and period when units × the
/// span of the periods is small (every panel with periods numbered closely), a hash
/// set otherwise.
fn duplicate_unit_period(unit: &[u32], period: &[i64], n_units: usize) -> Option<(usize, usize)> {
    let (lo, hi) = period
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    if unit.is_empty() {
        return None;
    }
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let cells = span * n_units as u128;
    let first_of = |r: usize| {
        (0..r)
            .find(|&q| unit[q] == unit[r] && period[q] == period[r])
            .map(|q| (q, r))
    };
    if cells <= 8 * (unit.len() as u128 + 1_000_000) {
        let span = span as usize;
        let mut bits = vec![0u64; (cells as usize).div_ceil(64)];
        for (r, (&u, &t)) in unit.iter().zip(period).enumerate() {
            let k = u as usize * span + (t - lo) as usize;
            let (w, b) = (k / 64, 1u64 << (k % 64));
            if bits[w] & b != 0 {
                return first_of(r);
            }
            bits[w] |= b;
        }
        None
    } else {
        let mut seen: HashMap<(u32, i64), usize> = HashMap::with_capacity(unit.len());
        for (r, (&u, &t)) in unit.iter().zip(period).enumerate() {
            if let Some(&first) = seen.get(&(u, t)) {
                return Some((first, r));
            }
            seen.insert((u, t), r);
        }
        None
    }
}

/// Read and check the panel. Errors name the file, the column, the unit or row, and
/// say what to change.
pub fn read_panel(frame: &Frame, cols: &PanelColumns) -> Result<PanelInput> {
    let keys = Keys::of(frame, cols)?;
    Ok(assemble(read_columns(frame, cols, keys)?, cols))
}

/// [`read_panel`] taking the frame: it is dropped once the columns are read and checked,
/// before the panel's vectors are written, so that the loaded file and the panel are
/// not held in memory together. The unit and period columns leave it as soon as they
/// are coded (unless another role reads them), so that each is not held beside its
/// codes: at 10^6 rows of four columns the peak fell from 68 to 58 MB.
pub fn read_panel_owned(mut frame: Frame, cols: &PanelColumns) -> Result<PanelInput> {
    let keys = Keys::of(&frame, cols)?;
    for name in [&cols.unit, &cols.time] {
        if cols.roles_of(name) == 1 {
            frame.drop_column(name);
        }
    }
    let read = crate::timings::time("panel: columns", || read_columns(&frame, cols, keys))?;
    crate::timings::time("panel: free the frame", || drop(frame));
    Ok(crate::timings::time("panel: assemble", || {
        assemble(read, cols)
    }))
}

/// The columns of the panel read and checked, before its vectors are written.
struct Columns {
    y: Numbers,
    weights: Option<Numbers>,
    frequency: bool,
    persons: Option<Vec<f64>>,
    covs: Vec<Numbers>,
    /// Cluster codes of the kept rows (ranked as their labels sort) and how many.
    clusters: Option<(Vec<u32>, usize)>,
    keep: Kept,
    period: Vec<i64>,
    unit: Vec<u32>,
    labels: crate::data::Labels,
    /// First treated period per unit.
    first_of: Vec<Option<Option<i64>>>,
    notes: Vec<String>,
}

/// The unit and period columns as read from the frame: the units as codes into their
/// sorted distinct labels (each label formatted once), the periods as numbers.
struct Keys {
    units: crate::data::Factor,
    times: crate::data::Numbers,
}

impl Keys {
    fn of(frame: &Frame, cols: &PanelColumns) -> Result<Self> {
        if !frame.is_numeric(&cols.time) {
            return Err(Error::data(
                frame.path(),
                format!(
                    "column \"{}\" (--time) holds text; give the periods as whole numbers (a year, or 1, 2, 3, ... for months or quarters)",
                    cols.time
                ),
            ));
        }
        Ok(Self {
            units: crate::timings::time("panel: unit codes", || frame.factor(&cols.unit))?,
            times: frame.numeric(&cols.time)?,
        })
    }
}

/// The panel's columns from the frame and the [`Keys`] read from it (the frame may no
/// longer hold the unit and period columns).
fn read_columns(frame: &Frame, cols: &PanelColumns, keys: Keys) -> Result<Columns> {
    let path = frame.path().to_path_buf();
    let err = |m: String| Error::data(&path, m);
    let Keys { units, times } = keys;
    let n = units.codes.len();
    let mut notes = Vec::new();
    let (y, weights, frequency, persons) = outcome_columns(frame, cols, n, &mut notes)?;
    let covs: Vec<Numbers> = cols
        .covariates
        .iter()
        .map(|c| frame.numeric(c))
        .collect::<Result<_>>()?;
    // Clusters as codes into their sorted labels (as the units), not a text per row.
    let clusters = match &cols.cluster {
        Some(c) => Some(frame.factor(c)?),
        None => None,
    };
    // Rows kept: unit, time, outcome, covariates, weight and cluster present. Counted
    // first; the list of kept rows is written only when some are left out.
    let complete = |i: usize| {
        units.codes.get(i).is_some()
            && times.get(i).is_some()
            && y.get(i).is_some()
            && covs.iter().all(|c| c.get(i).is_some())
            && weights.as_ref().is_none_or(|w| w.get(i).is_some())
            && clusters.as_ref().is_none_or(|c| c.codes.get(i).is_some())
    };
    let dropped = (0..n).filter(|&i| !complete(i)).count();
    let keep = if dropped == 0 {
        Kept::All(n)
    } else {
        Kept::Rows((0..n).filter(|&i| complete(i)).collect())
    };
    if dropped > 0 {
        notes.push(format!(
            "{dropped} rows left out for a missing unit, period, outcome, covariate, weight or cluster"
        ));
    }
    if keep.is_empty() {
        return Err(err("no row has every column needed".into()));
    }
    // Units in sorted label order: the labels of the kept rows (a unit whose rows are
    // all left out has no code), numbered in the factor's sorted order. Before the
    // periods are written, so that the factor's codes are gone by then.
    let (unit, labels) = crate::timings::time("panel: unit ranks", || ranked_codes(units, &keep));
    let clusters = clusters.map(|c| {
        let (codes, labels) = ranked_codes(c, &keep);
        (codes, labels.len())
    });
    let not_whole = |i: usize, t: f64| {
        err(format!(
            "{}: period {t} in column \"{}\" is not a whole number; number the periods 1, 2, 3, ... (or use years)",
            frame.row_ref(i),
            cols.time
        ))
    };
    // Every row kept and the period column the panel's alone: the periods are written
    // over its values, in its own buffer (no second column of n values beside it).
    let owned = match keep {
        Kept::All(_) => times.try_into_values(),
        Kept::Rows(_) => Err(times),
    };
    let period = match owned {
        Ok(values) => {
            if let Some(i) = values.iter().position(|&t| whole(t).is_none()) {
                return Err(not_whole(i, values[i]));
            }
            // Same size and alignment: the vector's allocation is reused.
            values.into_iter().map(|t| t as i64).collect::<Vec<i64>>()
        }
        Err(times) => {
            let mut period = Vec::with_capacity(keep.len());
            for i in keep.iter() {
                let t = times.get(i).unwrap_or(f64::NAN);
                period.push(whole(t).ok_or_else(|| not_whole(i, t))?);
            }
            period
        }
    };
    // Duplicate unit-period rows.
    if let Some((first, r)) = crate::timings::time("panel: duplicates", || {
        duplicate_unit_period(&unit, &period, labels.len())
    }) {
        let (u, t) = (unit[r], period[r]);
        return Err(err(format!(
            "unit \"{}\" has two rows for period {t} ({} and {}); a panel has one row per unit and period (aggregate the rows first, or use --events/--trials for counts)",
            &labels[u as usize],
            frame.row_ref(keep.get(first)),
            frame.row_ref(keep.get(r))
        )));
    }
    let first_of = crate::timings::time("panel: first treated", || {
        first_treated(frame, cols, &keep, &unit, &period, &labels)
    })?;
    Ok(Columns {
        y,
        weights,
        frequency,
        persons,
        covs,
        clusters,
        keep,
        period,
        unit,
        labels,
        first_of,
        notes,
    })
}

/// The outcome and the weights: the outcome column (with `--weights` as analytic
/// weights), or events / trials per row with the trials as frequency weights (then also
/// the persons per row, for the small-sample factor). A note counts rows of 0 trials.
fn outcome_columns(
    frame: &Frame,
    cols: &PanelColumns,
    n: usize,
    notes: &mut Vec<String>,
) -> Result<OutcomeColumns> {
    let path = frame.path().to_path_buf();
    let err = |m: String| Error::data(&path, m);
    Ok(match (&cols.events, &cols.trials, &cols.outcome) {
        (Some(ev), Some(tr), None) => {
            if cols.weights.is_some() {
                return Err(Error::usage(
                    "--weights cannot be combined with --events/--trials: the trials are the weights",
                ));
            }
            let e = frame.numbers(ev)?;
            let t = frame.numbers(tr)?;
            let mut y = Vec::with_capacity(n);
            let mut w = Vec::with_capacity(n);
            let mut zero = 0usize;
            for i in 0..n {
                match (e[i], t[i]) {
                    (Some(e), Some(t)) => {
                        if whole(t).is_none() || t < 0.0 || whole(e).is_none() || e < 0.0 || e > t {
                            return Err(err(format!(
                                "{}: events {e} and trials {t} (columns \"{ev}\", \"{tr}\") must be whole numbers with 0 <= events <= trials",
                                frame.row_ref(i)
                            )));
                        }
                        if t == 0.0 {
                            zero += 1;
                            y.push(None);
                            w.push(None);
                        } else {
                            y.push(Some(e / t));
                            w.push(Some(t));
                        }
                    }
                    _ => {
                        y.push(None);
                        w.push(None);
                    }
                }
            }
            if zero > 0 {
                notes.push(format!("{zero} rows with 0 trials left out"));
            }
            let persons = w.iter().map(|v| v.unwrap_or(0.0)).collect();
            (
                Numbers::from_options(&y),
                Some(Numbers::from_options(&w)),
                true,
                Some(persons),
            )
        }
        (None, None, Some(o)) => {
            let y = frame.numeric(o)?;
            let w = match &cols.weights {
                Some(wc) => {
                    let w = frame.numeric(wc)?;
                    if let Some(i) = w
                        .iter()
                        .position(|v| v.is_some_and(|v| v.is_nan() || v <= 0.0))
                    {
                        return Err(err(format!(
                            "{}: weight {} in column \"{wc}\" is not positive; weights must be above 0",
                            frame.row_ref(i),
                            w.get(i).unwrap_or(f64::NAN)
                        )));
                    }
                    Some(w)
                }
                None => None,
            };
            (y, w, false, None)
        }
        _ => {
            return Err(Error::usage(
                "give the outcome as --outcome COL, or as counts with both --events COL and --trials COL",
            ));
        }
    })
}

/// The level of every kept row (a unit or a cluster) as a code into the labels of the
/// levels with a kept row, in the factor's sorted order, and those labels.
fn ranked_codes(factor: crate::data::Factor, keep: &Kept) -> (Vec<u32>, crate::data::Labels) {
    let mut used = vec![false; factor.levels.len()];
    for i in keep.iter() {
        if let Some(c) = factor.codes.get(i) {
            used[c as usize] = true;
        }
    }
    let mut rank = vec![u32::MAX; factor.levels.len()];
    let mut next = 0;
    for (k, r) in rank.iter_mut().enumerate() {
        if used[k] {
            *r = next;
            next += 1;
        }
    }
    let crate::data::Factor { codes, levels } = factor;
    // Usually every level has a kept row, and the factor's labels are the panel's.
    let labels = if next as usize == levels.len() {
        levels
    } else {
        levels
            .iter()
            .zip(&used)
            .filter(|&(_, &u)| u)
            .map(|(l, _)| l)
            .collect()
    };
    let ranked: Vec<u32> = keep
        .iter()
        .map(|i| codes.get(i).map_or(0, |c| rank[c as usize]))
        .collect();
    (ranked, labels)
}

/// The first treated period of every unit (`None` inside: never treated), from the
/// first-treated column (one value per unit) or from an absorbing 0/1 column.
fn first_treated(
    frame: &Frame,
    cols: &PanelColumns,
    keep: &Kept,
    unit: &[u32],
    period: &[i64],
    labels: &crate::data::Labels,
) -> Result<Vec<Option<Option<i64>>>> {
    let path = frame.path().to_path_buf();
    let err = |m: String| Error::data(&path, m);
    let mut first_of: Vec<Option<Option<i64>>> = vec![None; labels.len()];
    match &cols.treatment {
        TreatmentColumn::FirstTreated(c) => {
            let g = frame.numeric(c)?;
            for (r, i) in keep.iter().enumerate() {
                let v = match g.get(i) {
                    None => None,
                    Some(0.0) => None,
                    Some(v) => Some(whole(v).ok_or_else(|| {
                        err(format!(
                            "{}: first treated period {v} in column \"{c}\" is not a whole number",
                            frame.row_ref(i)
                        ))
                    })?),
                };
                let u = unit[r] as usize;
                match first_of[u] {
                    None => first_of[u] = Some(v),
                    Some(w) if w != v => {
                        let show = |x: Option<i64>| {
                            x.map_or("never (0 or empty)".to_string(), |x| x.to_string())
                        };
                        return Err(err(format!(
                            "unit \"{}\" has two first treated periods in column \"{c}\": {} and {} ({}); give one value per unit",
                            &labels[u],
                            show(w),
                            show(v),
                            frame.row_ref(i)
                        )));
                    }
                    _ => {}
                }
            }
        }
        TreatmentColumn::Indicator(c) => {
            let d = frame.numeric(c)?;
            let mut rows: Vec<usize> = (0..keep.len()).collect();
            rows.sort_by_key(|&r| (unit[r], period[r]));
            let mut last_treated: Vec<Option<i64>> = vec![None; labels.len()];
            for r in rows {
                let i = keep.get(r);
                let u = unit[r] as usize;
                let t = period[r];
                let v = d.get(i).ok_or_else(|| {
                    err(format!(
                        "{}: treatment column \"{c}\" is empty; give 0 or 1 in every row",
                        frame.row_ref(i)
                    ))
                })?;
                if v != 0.0 && v != 1.0 {
                    return Err(err(format!(
                        "{}: treatment {v} in column \"{c}\" is not 0 or 1",
                        frame.row_ref(i)
                    )));
                }
                if first_of[u].is_none() {
                    first_of[u] = Some(None);
                }
                if v == 1.0 {
                    if first_of[u] == Some(None) {
                        first_of[u] = Some(Some(t));
                    }
                    last_treated[u] = Some(t);
                } else if let Some(tt) = last_treated[u] {
                    return Err(err(format!(
                        "unit \"{}\" is treated in period {tt} and untreated again in period {t} (column \"{c}\"); \
                         the designs here need treatment that stays on once it starts. Give --first-treated, or leave out the periods after treatment ended",
                        &labels[u]
                    )));
                }
            }
        }
    }
    Ok(first_of)
}

/// The panel's vectors from the read columns.
fn assemble(c: Columns, cols: &PanelColumns) -> PanelInput {
    let Columns {
        y,
        weights,
        frequency,
        persons,
        covs,
        clusters,
        keep,
        period,
        unit,
        labels,
        first_of,
        notes,
    } = c;
    // Every unit has rows (its code comes from them), so each has its value.
    let unit_first_treated: Vec<Option<i64>> = first_of.into_iter().map(Option::flatten).collect();
    let (cluster, n_clusters) = match clusters {
        Some((codes, count)) => (Some(codes), count),
        None => (None, labels.len()),
    };
    let pick = |v: &Numbers| -> Vec<f64> {
        match keep {
            Kept::All(_) if v.missing() == 0 => v.values().to_vec(),
            _ => keep.iter().map(|i| v.get(i).unwrap_or(f64::NAN)).collect(),
        }
    };
    let y = {
        let out = pick(&y);
        drop(y);
        out
    };
    PanelInput {
        y,
        unit,
        unit_labels: labels,
        period,
        unit_first_treated,
        cluster,
        n_clusters,
        covariates: covs.iter().map(&pick).collect(),
        covariate_names: cols.covariates.clone(),
        weights: weights.as_ref().map(pick),
        frequency,
        persons: persons.map(|p| keep.iter().map(|i| p[i]).collect()),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, DataFrame};

    /// The owned reader drops the unit and period columns from the frame once coded,
    /// but not when another role reads them: it gives the panel the shared reader
    /// gives, with the unit column also the clusters and the period also a covariate.
    #[test]
    fn the_owned_reader_gives_the_shared_readers_panel() {
        let n = 24;
        let frame = || {
            let col = |name: &str, f: &dyn Fn(usize) -> f64| {
                Column::new(name.into(), (0..n).map(f).collect::<Vec<f64>>())
            };
            let df = DataFrame::new_infer_height(vec![
                col("unit", &|i| (10 + i / 4) as f64),
                col("time", &|i| (i % 4 + 1) as f64),
                col("g", &|i| if (i / 4) % 2 == 0 { 3.0 } else { 0.0 }),
                col("y", &|i| ((i * 7) % 5) as f64 + 0.5),
            ])
            .unwrap();
            Frame::from_frame(df, std::path::Path::new("panel.csv"))
        };
        let base = PanelColumns {
            unit: "unit".into(),
            time: "time".into(),
            outcome: Some("y".into()),
            treatment: TreatmentColumn::FirstTreated("g".into()),
            cluster: None,
            covariates: vec![],
            weights: None,
            events: None,
            trials: None,
        };
        let shared_roles = PanelColumns {
            cluster: Some("unit".into()),
            covariates: vec!["time".into()],
            ..base.clone()
        };
        assert_eq!(base.roles_of("unit"), 1);
        assert_eq!(shared_roles.roles_of("unit"), 2);
        assert_eq!(shared_roles.roles_of("time"), 2);
        for cols in [&base, &shared_roles] {
            let shared = read_panel(&frame(), cols).unwrap();
            let owned = read_panel_owned(frame(), cols).unwrap();
            assert_eq!(owned, shared);
            assert_eq!(owned.y.len(), n);
        }
    }

    #[test]
    fn duplicate_rows_are_found_by_the_bit_table_and_by_the_hash_set() {
        // Close periods: the bit table. Unit 1 has period 3 twice (rows 1 and 4).
        let unit = [0, 1, 0, 2, 1];
        let period = [3, 3, 4, 3, 3];
        assert_eq!(duplicate_unit_period(&unit, &period, 3), Some((1, 4)));
        assert_eq!(duplicate_unit_period(&unit[..4], &period[..4], 3), None);
        // Periods far apart (a span of 10^12): the hash set, same answers.
        let far = [0, 1_000_000_000_000, 5, 0, 1_000_000_000_000];
        assert_eq!(
            duplicate_unit_period(&[0, 0, 1, 1, 0], &far, 2),
            Some((1, 4))
        );
        assert_eq!(duplicate_unit_period(&[0, 0, 1, 1, 2], &far, 3), None);
        assert_eq!(duplicate_unit_period(&[], &[], 0), None);
    }
}
