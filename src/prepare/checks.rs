//! Checks of loaded data against what a pilot's spec needs: unique ids, rows in the
//! control arm and another, more than one cluster.

use std::collections::HashMap;

use crate::data::Frame;
use crate::error::{Error, Result};

/// Check that every row has an id and no id occurs twice (within each value of
/// `within`, when given: e.g. once per period in a before/after design). The error
/// names the rows, never the id (ids identify persons).
pub fn unique_ids(frame: &Frame, id: &str, within: Option<&str>) -> Result<()> {
    let ids = frame.strings(id)?;
    let groups = within.map(|w| frame.strings(w)).transpose()?;
    let mut first: HashMap<(Option<&str>, &str), Vec<usize>> = HashMap::new();
    let mut order: Vec<(Option<&str>, &str)> = Vec::new();
    for (i, v) in ids.iter().enumerate() {
        let Some(v) = v.as_deref() else {
            return Err(Error::data(
                frame.path(),
                format!(
                    "column \"{id}\", {}: the id is missing; every row needs an id (the config's data.id)",
                    frame.row_ref(i)
                ),
            ));
        };
        let g = groups.as_ref().and_then(|g| g[i].as_deref());
        let e = first.entry((g, v)).or_default();
        e.push(i);
        if e.len() == 2 {
            order.push((g, v));
        }
    }
    let Some(key) = order.first() else {
        return Ok(());
    };
    let rows = &first[key];
    let shown: Vec<String> = rows.iter().take(5).map(|&i| frame.row_ref(i)).collect();
    let within_text = match (within, key.0) {
        (Some(w), Some(g)) => format!(" within \"{g}\" of column \"{w}\""),
        _ => String::new(),
    };
    let more = if order.len() > 1 {
        format!(" ({} ids occur more than once in all)", order.len())
    } else {
        String::new()
    };
    Err(Error::data(
        frame.path(),
        format!(
            "column \"{id}\": an id occurs {} times{within_text}: {}{more}; each unit may have one row{}. Remove or merge the duplicate rows",
            rows.len(),
            shown.join(", "),
            if within.is_some() { " per period" } else { "" }
        ),
    ))
}

/// Check that the arm column has rows in the control arm and in at least one other
/// arm of `arms`, from the arm of every row (`codes`, indices into `arms`: a value
/// outside `arms` has already been named with its row).
pub fn arms(
    frame: &Frame,
    column: &str,
    codes: &[u16],
    arms: &[String],
    control: &str,
) -> Result<()> {
    let mut n = vec![0usize; arms.len()];
    for &c in codes {
        n[usize::from(c)] += 1;
    }
    let present: Vec<String> = arms
        .iter()
        .zip(&n)
        .filter(|(_, k)| **k > 0)
        .map(|(a, k)| format!("\"{a}\" ({k} rows)"))
        .collect();
    let has_control = arms.iter().zip(&n).any(|(a, k)| a == control && *k > 0);
    let has_other = arms.iter().zip(&n).any(|(a, k)| a != control && *k > 0);
    if has_control && has_other {
        return Ok(());
    }
    let found = if present.is_empty() {
        "no arm at all".to_string()
    } else {
        format!("only {}", present.join(", "))
    };
    Err(Error::data(
        frame.path(),
        format!(
            "column \"{column}\" has {found}; a comparison needs rows in the control arm \"{control}\" and in at least one other arm ({}). Check that this is the full data file and the right arm column",
            arms.iter()
                .filter(|a| *a != control)
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// Check that a cluster column has at least two clusters.
pub fn clusters(frame: &Frame, column: &str) -> Result<()> {
    let (seen, _) = frame.levels(column)?;
    if seen.len() > 1 {
        return Ok(());
    }
    Err(Error::data(
        frame.path(),
        format!(
            "column \"{column}\" holds a single cluster ({}); cluster-robust inference needs at least two clusters, and a cluster-randomised comparison at least one per arm. Check the cluster column, or leave it out if units were assigned one by one",
            seen.first()
                .map(|s| format!("\"{s}\""))
                .unwrap_or_else(|| "none".into())
        ),
    ))
}
