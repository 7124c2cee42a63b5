//! The time axis of a pilot's design (`design.time` in the config) read from the loaded
//! data: for a panel design, one difference-in-differences panel per outcome
//! ([`PanelInput`], read by [`super::panel::read_panel`] with the config's columns).
//!
//! Conventions for a pilot panel:
//! - counts (`events`/`trials`) give each unit-period its share events/trials as the
//!   outcome, unweighted: every unit (employer) counts once, so the static TWFE
//!   estimate, the event study and Callaway & Sant'Anna (which takes no weights here)
//!   all estimate effects on the same scale, the average over employers. The trials
//!   still count the persons behind each row for disclosure control;
//! - the panel is balanced before the analysis: a unit without a value in some period
//!   (a count not published, a missing year) is left out, with a note, as R `did`
//!   does with `panel = TRUE` and `allow_unbalanced_panel = FALSE`;
//! - errors name the config key (`design.time`, `design.first_treated`) and say what
//!   to change.

use std::collections::BTreeMap;

use super::panel::{PanelColumns, PanelInput, TreatmentColumn, read_panel};
pub use crate::analysis::its_design::ItsData;
use crate::config::{OutcomeKind, OutcomeSource, PilotSpec, TimeDesign};
use crate::data::Frame;
use crate::error::{Error, Result};

/// One panel per outcome (`None` for an outcome the design cannot take: a
/// time-to-event outcome); `None` overall when the config has no panel time axis.
pub fn panel_inputs(spec: &PilotSpec, frame: &Frame) -> Result<Option<Vec<Option<PanelInput>>>> {
    let Some(TimeDesign::Panel {
        unit,
        time,
        first_treated,
    }) = &spec.design.time
    else {
        return Ok(None);
    };
    let path = frame.path().to_path_buf();
    let must_be_numbers = |col: &str, key: &str, what: &str| -> Result<()> {
        if frame.is_numeric(col) {
            return Ok(());
        }
        // Text that reads as numbers passes; otherwise say which key and what to give.
        frame.numbers(col).map(|_| ()).map_err(|e| {
            // The reader's message names the file already; keep what follows.
            let inner = e.report();
            let prefix = format!("data {}: ", path.display());
            let inner = inner.strip_prefix(&prefix).unwrap_or(&inner);
            Error::data(
                &path,
                format!(
                    "`{key}` in the config: column \"{col}\" holds text, not whole numbers ({inner}). Give {what}"
                ),
            )
        })
    };
    must_be_numbers(
        time,
        "design.time",
        "the period as a whole number (a year, or 1, 2, 3, ... for months or quarters)",
    )?;
    must_be_numbers(
        first_treated,
        "design.first_treated",
        "each unit's first treated period as a whole number in the time column's units, 0 or empty for never treated",
    )?;
    let mut out = Vec::with_capacity(spec.outcomes.len());
    for o in &spec.outcomes {
        let (outcome, events, trials) = match (&o.source, o.kind) {
            (OutcomeSource::Counts { events, trials }, _) => {
                (None, Some(events.clone()), Some(trials.clone()))
            }
            (OutcomeSource::Column(c), k) if k != OutcomeKind::TimeToEvent => {
                (Some(c.clone()), None, None)
            }
            _ => {
                out.push(None);
                continue;
            }
        };
        let cols = PanelColumns {
            unit: unit.clone(),
            time: time.clone(),
            outcome,
            treatment: TreatmentColumn::FirstTreated(first_treated.clone()),
            cluster: None,
            covariates: Vec::new(),
            weights: None,
            events,
            trials,
        };
        let mut p = read_panel(frame, &cols).map_err(|e| {
            Error::data(
                &path,
                format!(
                    "outcome \"{}\", panel of `design.unit` = \"{unit}\", `design.time` = \"{time}\", `design.first_treated` = \"{first_treated}\": {}",
                    o.id,
                    e.report()
                ),
            )
        })?;
        // Shares, each unit-period once (the trials stay as persons).
        p.weights = None;
        p.frequency = false;
        out.push(Some(balanced(p)));
    }
    Ok(Some(out))
}

/// One interrupted time series per outcome (`None` for an outcome it cannot take: a
/// time-to-event outcome, counts); `None` overall without a before/after time axis.
/// Person rows are averaged per unit (`design.cluster`) and period, each unit-period
/// mean counting once, since the segmented regression takes one row per unit and
/// period; without a cluster, per period (one series).
pub fn its_inputs(spec: &PilotSpec, frame: &Frame) -> Result<Option<Vec<Option<ItsData>>>> {
    let Some(TimeDesign::BeforeAfter { time, start }) = &spec.design.time else {
        return Ok(None);
    };
    let path = frame.path().to_path_buf();
    if !frame.is_numeric(time) {
        frame.numbers(time).map_err(|e| {
            Error::data(
                &path,
                format!(
                    "`design.time` in the config: column \"{time}\" holds text, not whole numbers ({}). Give the period as a whole number (1, 2, 3, ... for months)",
                    e.report()
                ),
            )
        })?;
    }
    let times = frame.numbers(time)?;
    let units = match &spec.design.cluster {
        Some(c) => Some(frame.strings(c)?),
        None => None,
    };
    let mut out = Vec::with_capacity(spec.outcomes.len());
    for o in &spec.outcomes {
        let col = match (&o.source, o.kind) {
            (OutcomeSource::Column(c), k) if k != OutcomeKind::TimeToEvent => c,
            _ => {
                out.push(None);
                continue;
            }
        };
        let y = frame.numbers(col)?;
        // (unit label, period) -> (sum, persons).
        let mut cells: BTreeMap<(String, i64), (f64, f64)> = BTreeMap::new();
        let mut left_out = 0usize;
        for i in 0..y.len() {
            let u = match &units {
                Some(u) => u[i].clone(),
                None => Some(String::new()),
            };
            match (y[i], times[i], u) {
                (Some(v), Some(t), Some(u)) => {
                    if t.fract() != 0.0 {
                        return Err(Error::data(
                            &path,
                            format!(
                                "{}: period {t} in column \"{time}\" (`design.time`) is not a whole number; number the periods 1, 2, 3, ...",
                                frame.row_ref(i)
                            ),
                        ));
                    }
                    let c = cells.entry((u, t as i64)).or_default();
                    c.0 += v;
                    c.1 += 1.0;
                }
                (Some(_), _, _) => left_out += 1,
                _ => {}
            }
        }
        let mut labels: Vec<String> = cells.keys().map(|(u, _)| u.clone()).collect();
        labels.dedup();
        let mut d = ItsData {
            start: *start,
            ..ItsData::default()
        };
        for ((u, t), (sum, n)) in &cells {
            d.time.push(*t as f64);
            d.y.push(sum / n);
            d.unit.push(labels.binary_search(u).map_or(0, |k| k as u32));
            d.persons.push(*n);
        }
        d.clustered = units.is_some();
        d.unit_labels = labels;
        if left_out > 0 {
            d.notes.push(format!(
                "{left_out} units with the outcome but without a period or {} left out of the time series",
                spec.design.cluster.as_deref().unwrap_or("unit")
            ));
        }
        out.push(Some(d));
    }
    Ok(Some(out))
}

/// Keep the units observed in every period, with dense unit codes; a note counts the
/// units left out.
pub fn balanced(p: PanelInput) -> PanelInput {
    let mut periods: Vec<i64> = p.period.clone();
    periods.sort_unstable();
    periods.dedup();
    let mut rows_of: BTreeMap<u32, usize> = BTreeMap::new();
    for &u in &p.unit {
        *rows_of.entry(u).or_default() += 1;
    }
    let keep_unit: BTreeMap<u32, u32> = rows_of
        .iter()
        .filter(|(_, k)| **k == periods.len())
        .enumerate()
        .map(|(new, (&old, _))| (old, new as u32))
        .collect();
    let dropped = rows_of.len() - keep_unit.len();
    if dropped == 0 {
        return p;
    }
    let rows: Vec<usize> = (0..p.y.len())
        .filter(|&i| keep_unit.contains_key(&p.unit[i]))
        .collect();
    let pick = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&i| v[i]).collect() };
    let unit: Vec<u32> = rows.iter().map(|&i| keep_unit[&p.unit[i]]).collect();
    let unit_labels = keep_unit
        .keys()
        .map(|&old| &p.unit_labels[old as usize])
        .collect();
    let mut notes = p.notes.clone();
    notes.push(format!(
        "{dropped} units left out because they lack a value in some of the {} periods (a balanced panel, as R did with panel = TRUE)",
        periods.len()
    ));
    PanelInput {
        y: pick(&p.y),
        unit,
        unit_labels,
        period: rows.iter().map(|&i| p.period[i]).collect(),
        unit_first_treated: keep_unit
            .keys()
            .map(|&old| p.unit_first_treated[old as usize])
            .collect(),
        // The kept units are the clusters.
        cluster: None,
        n_clusters: keep_unit.len(),
        covariates: p.covariates.iter().map(|c| pick(c)).collect(),
        covariate_names: p.covariate_names.clone(),
        weights: p.weights.as_ref().map(|w| pick(w)),
        frequency: p.frequency,
        persons: p.persons.as_deref().map(pick),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel() -> PanelInput {
        // Unit 0 in periods 1, 2; unit 1 in period 1 only; unit 2 in 1, 2.
        PanelInput {
            y: vec![1.0, 2.0, 3.0, 4.0, 5.0],
            unit: vec![0, 0, 1, 2, 2],
            unit_labels: ["a", "b", "c"].into_iter().collect(),
            period: vec![1, 2, 1, 1, 2],
            unit_first_treated: vec![Some(2), None, Some(3)],
            cluster: Some(vec![0, 0, 1, 2, 2]),
            n_clusters: 3,
            covariates: vec![],
            covariate_names: vec![],
            weights: None,
            frequency: false,
            persons: Some(vec![10.0, 11.0, 12.0, 13.0, 14.0]),
            notes: vec![],
        }
    }

    #[test]
    fn balancing_drops_incomplete_units_and_recodes() {
        let b = balanced(panel());
        assert_eq!(b.y, vec![1.0, 2.0, 4.0, 5.0]);
        assert_eq!(b.unit, vec![0, 0, 1, 1]);
        assert_eq!(b.cluster, None);
        assert_eq!(b.clusters(), b.unit);
        assert_eq!(b.unit_labels.iter().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(b.unit_first_treated, vec![Some(2), Some(3)]);
        assert_eq!(b.n_clusters, 2);
        assert_eq!(b.persons, Some(vec![10.0, 11.0, 13.0, 14.0]));
        assert!(b.notes[0].starts_with("1 units left out"));
    }

    #[test]
    fn a_balanced_panel_is_unchanged() {
        let mut p = panel();
        p.y.truncate(2);
        p.unit.truncate(2);
        p.period.truncate(2);
        p.unit_first_treated.truncate(1);
        p.cluster = None;
        if let Some(v) = p.persons.as_mut() {
            v.truncate(2);
        }
        p.unit_labels = p.unit_labels.iter().take(1).collect();
        p.n_clusters = 1;
        assert_eq!(balanced(p.clone()), p);
    }
}
