//! Time to a first event from a long person-by-month status panel.
//!
//! The pilots' register data come as one row per person and month with a status
//! (has paid work; has left benefit). Months count from the start of follow-up
//! (randomisation or intake) as month 0. Per person:
//! - the event time is the first month, in month order, whose status is `true` (a
//!   status `true` in month 0 gives time 0);
//! - without such a month the person is censored at the end of follow-up: their
//!   `end` value when an end column is given (rows after it are ignored, so an event
//!   after the end of follow-up does not count), otherwise the last month observed;
//! - gaps (months without a row) are not filled: a status first seen `true` after a gap
//!   gives the first month it was seen, so the event may really have happened during
//!   the gap (interval censoring, recorded at the end of the interval, the usual
//!   convention for monthly register data);
//! - rows may come in any order; several rows for the same person and month are fine
//!   when their statuses agree, and an error naming the person and month when they do
//!   not (anywhere in the panel, also after the event: the data are then suspect).
//!
//! A missing month or status, a negative month or end, or end values that differ
//! within a person are errors naming the person. Cost: one sort of the row indices
//! by (person, month) and a linear pass.

use std::fmt::Display;

use super::{StatsError, StatsResult};

/// One (time, event) per person, in order of the person's first row in the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelSurvival<T> {
    pub id: Vec<T>,
    /// The person's first row in the input (0-based), to look up their arm, stratum or
    /// cluster there.
    pub first_row: Vec<usize>,
    /// Months from the start of follow-up to the event or censoring.
    pub time: Vec<f64>,
    pub event: Vec<bool>,
}

/// Derive (time, event) per person from `id`, `month` and `status` per row, with an
/// optional end of follow-up per row (constant within a person; `None` values are
/// ignored, and a person without any uses the last observed month). See the module
/// documentation for the rules.
pub fn survival_from_panel<T: Ord + Clone + Display>(
    id: &[T],
    month: &[Option<i64>],
    status: &[Option<bool>],
    end: Option<&[Option<i64>]>,
) -> StatsResult<PanelSurvival<T>> {
    let n = id.len();
    if month.len() != n || status.len() != n || end.is_some_and(|e| e.len() != n) {
        return Err(StatsError::Invalid(format!(
            "panel columns differ in length: {n} ids, {} months, {} statuses{}",
            month.len(),
            status.len(),
            end.map_or(String::new(), |e| format!(", {} ends", e.len()))
        )));
    }
    let mut months = Vec::with_capacity(n);
    for i in 0..n {
        let m = month[i].ok_or_else(|| {
            StatsError::Invalid(format!("person {}: row {i} (0-based) has no month", id[i]))
        })?;
        if m < 0 {
            return Err(StatsError::Invalid(format!(
                "person {}: month {m} is negative; months count from the start of follow-up (0)",
                id[i]
            )));
        }
        if status[i].is_none() {
            return Err(StatsError::Invalid(format!(
                "person {}, month {m}: the status is missing",
                id[i]
            )));
        }
        if let Some(e) = end.and_then(|e| e[i])
            && e < 0
        {
            return Err(StatsError::Invalid(format!(
                "person {}: end of follow-up {e} is negative",
                id[i]
            )));
        }
        months.push(m);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| {
        id[a]
            .cmp(&id[b])
            .then(months[a].cmp(&months[b]))
            .then(a.cmp(&b))
    });

    let mut people: Vec<(usize, T, f64, bool)> = Vec::new();
    let mut start = 0;
    while start < n {
        let who = &id[order[start]];
        let mut stop = start + 1;
        while stop < n && id[order[stop]] == *who {
            stop += 1;
        }
        let rows = &order[start..stop];
        let first_row = *rows.iter().min().expect("a person has rows");
        let mut follow_up: Option<i64> = None;
        for &r in rows {
            if let Some(e) = end.and_then(|e| e[r]) {
                match follow_up {
                    Some(f) if f != e => {
                        return Err(StatsError::Invalid(format!(
                            "person {who}: end of follow-up differs between rows ({f} and {e})"
                        )));
                    }
                    _ => follow_up = Some(e),
                }
            }
        }
        let mut event_month = None;
        for (k, &r) in rows.iter().enumerate() {
            let (m, s) = (months[r], status[r] == Some(true));
            if k > 0 {
                let prev = rows[k - 1];
                if months[prev] == m && status[prev] != status[r] {
                    return Err(StatsError::Invalid(format!(
                        "person {who}, month {m}: rows disagree on the status (true and false)"
                    )));
                }
            }
            if s && event_month.is_none() && follow_up.is_none_or(|f| m <= f) {
                event_month = Some(m);
            }
        }
        let last = months[*rows.last().expect("a person has rows")];
        let (time, event) = match event_month {
            Some(m) => (m, true),
            None => (follow_up.unwrap_or(last), false),
        };
        people.push((first_row, who.clone(), time as f64, event));
        start = stop;
    }
    people.sort_unstable_by_key(|p| p.0);
    let mut out = PanelSurvival {
        id: Vec::with_capacity(people.len()),
        first_row: Vec::with_capacity(people.len()),
        time: Vec::with_capacity(people.len()),
        event: Vec::with_capacity(people.len()),
    };
    for (r, who, t, e) in people {
        out.first_row.push(r);
        out.id.push(who);
        out.time.push(t);
        out.event.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Person a: status true first in month 2 (event at 2, the later true ignored);
    /// b: never true, last month 1 (censored at 1); c: true in month 0 (event at 0);
    /// d: false in month 0, next row month 3 true (event at 3, the gap not filled);
    /// e: end of follow-up 2, true only in month 3 (censored at 2). Rows shuffled.
    #[test]
    fn first_event_month_or_censoring_per_person() {
        let rows: [(&str, i64, bool); 14] = [
            ("a", 3, true),
            ("b", 0, false),
            ("a", 0, false),
            ("c", 0, true),
            ("d", 3, true),
            ("a", 2, true),
            ("e", 1, false),
            ("b", 1, false),
            ("a", 1, false),
            ("d", 0, false),
            ("e", 0, false),
            ("e", 3, true),
            ("e", 2, false),
            ("c", 0, true),
        ];
        let id: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let month: Vec<Option<i64>> = rows.iter().map(|r| Some(r.1)).collect();
        let status: Vec<Option<bool>> = rows.iter().map(|r| Some(r.2)).collect();
        let end: Vec<Option<i64>> = rows
            .iter()
            .map(|r| if r.0 == "e" { Some(2) } else { None })
            .collect();
        let s = survival_from_panel(&id, &month, &status, Some(&end)).unwrap();
        // In order of each person's first row.
        assert_eq!(s.id, ["a", "b", "c", "d", "e"]);
        assert_eq!(s.first_row, [0, 1, 3, 4, 6]);
        assert_eq!(s.time, [2.0, 1.0, 0.0, 3.0, 2.0]);
        assert_eq!(s.event, [true, false, true, true, false]);
    }

    #[test]
    fn inconsistent_panels_are_errors_naming_the_person() {
        let id = ["p7", "p7"];
        let err = |month: &[Option<i64>], status: &[Option<bool>], end: Option<&[Option<i64>]>| {
            match survival_from_panel(&id, month, status, end).unwrap_err() {
                StatsError::Invalid(m) => m,
                other => panic!("{other:?}"),
            }
        };
        let m = err(&[Some(1), Some(1)], &[Some(true), Some(false)], None);
        assert!(m.contains("p7") && m.contains("disagree"), "{m}");
        let m = err(&[Some(0), Some(-1)], &[Some(false), Some(false)], None);
        assert!(m.contains("p7") && m.contains("negative"), "{m}");
        let m = err(&[Some(0), Some(1)], &[Some(false), None], None);
        assert!(m.contains("p7") && m.contains("missing"), "{m}");
        let m = err(
            &[Some(0), Some(1)],
            &[Some(false), Some(false)],
            Some(&[Some(3), Some(4)]),
        );
        assert!(m.contains("p7") && m.contains("differs"), "{m}");
        assert!(survival_from_panel(&id, &[Some(0)], &[Some(true), Some(true)], None).is_err());
    }
}
