//! The prepare stage: from a validated pilot spec and its data to the one typed input
//! of the analysis ([`AnalysisInput`]).
//!
//! This is the only place that opens the data files a spec names (the data file and
//! any panel file of a time-to-event outcome), and the one place where data are
//! checked against the spec: arms, projects, clusters, unique ids, covariates that
//! are a function of the arm, binary values, counts, times and events. Every check
//! names the file, column and row and says what to change. The analysis then works on
//! plain vectors and never sees a frame or a path.

pub mod checks;
pub mod design;
pub mod panel;

use std::path::{Path, PathBuf};

use crate::analysis::input::{
    AnalysisInput, Labels, NO_LABEL, OutcomeData, OutcomeUnits, SubgroupLevels, Units,
};
use crate::analysis::survival::TimeEvent;
use crate::config::ReadOptions;
use crate::config::{
    DataLayout, DesignKind, MissingCluster, OutcomeKind, OutcomeSource, OutcomeSpec, PilotSpec,
};
use crate::data::{Frame, Numbers};
use crate::error::{Error, Result};

/// A pilot's prepared input, with the files it came from.
pub struct Prepared {
    pub input: AnalysisInput,
    /// Every file read (the data file first, then panel files), for the manifest.
    pub files: Vec<PathBuf>,
}

/// Read a pilot's data from `data_dir` and prepare it ([`read`], then [`prepare`]).
pub fn load(spec: &PilotSpec, data_dir: &Path, over: &ReadOptions) -> Result<Prepared> {
    prepare(spec, &read(spec, data_dir, over)?)
}

/// Check loaded data against the spec and build the analysis input. Panel files named
/// by the spec are read from the data file's folder. `compare` and tests call this
/// with a frame they loaded; `pilot` with the frame of [`read`].
pub fn prepare(spec: &PilotSpec, frame: &Frame) -> Result<Prepared> {
    let (input, files) = prepare_with_files(spec, frame)?;
    Ok(Prepared { input, files })
}

fn prepare_with_files(spec: &PilotSpec, frame: &Frame) -> Result<(AnalysisInput, Vec<PathBuf>)> {
    let arm = check_frame(spec, frame)?;
    let units = prepare_units(spec, frame, arm)?;
    let mut files = vec![frame.path().to_path_buf()];
    let mut outcomes = Vec::with_capacity(spec.outcomes.len());
    let mut n_units = frame.height();
    for o in &spec.outcomes {
        if o.kind == OutcomeKind::TimeToEvent {
            let (te, no_cluster, panel) = time_event(spec, frame, o, &units)?;
            files.extend(panel);
            outcomes.push(OutcomeData::TimeToEvent { te, no_cluster });
        } else {
            let ou = outcome_units(frame, o)?;
            if spec.data.layout == DataLayout::Aggregated {
                n_units = n_units.max(ou.len());
            }
            outcomes.push(OutcomeData::Values(ou));
        }
    }
    let cost = cost_column(spec, frame, &units.arm)?;
    let synthetic = frame.column_names().iter().any(|c| c == "data_source")
        && frame
            .strings("data_source")?
            .iter()
            .any(|v| v.as_deref() == Some("synthetic"));
    Ok((
        AnalysisInput {
            units,
            outcomes,
            n_rows: frame.height(),
            n_units,
            synthetic,
            cost,
            panels: design::panel_inputs(spec, frame)?,
            its: design::its_inputs(spec, frame)?,
        },
        files,
    ))
}

/// The cost column of `[costs]` (person-level data only, as validation requires):
/// numbers (text is refused by the reader, naming the row), 0 or more, not one value
/// for everyone (then give `per_person` costs), and a cost for someone in every arm.
/// Missing costs stay missing: the analysis uses the persons with both a cost and the
/// outcome and says how many it left out.
fn cost_column(spec: &PilotSpec, frame: &Frame, arm: &[u16]) -> Result<Option<Numbers>> {
    let Some(crate::config::Costs {
        basis: crate::config::CostBasis::Column(col),
        ..
    }) = &spec.costs
    else {
        return Ok(None);
    };
    let v = frame.numeric(col)?;
    if let Some((i, x)) = v
        .iter()
        .enumerate()
        .find_map(|(i, x)| x.filter(|x| !(x.is_finite() && *x >= 0.0)).map(|x| (i, x)))
    {
        return Err(Error::data(
            frame.path(),
            format!(
                "cost column \"{col}\", data row {}: cost {x}; costs are amounts of 0 or more euros (leave a cost empty when it is not known)",
                i + 1
            ),
        ));
    }
    let mut first = None;
    let mut varies = false;
    let mut per_arm = vec![0usize; spec.arms.values.len()];
    for (r, x) in v.iter().enumerate() {
        let Some(x) = x else { continue };
        per_arm[usize::from(arm[r])] += 1;
        match first {
            None => first = Some(x),
            Some(f) if f != x => varies = true,
            Some(_) => {}
        }
    }
    if let Some(a) = per_arm.iter().position(|&n| n == 0) {
        return Err(Error::data(
            frame.path(),
            format!(
                "cost column \"{col}\" has no cost for anyone in arm \"{}\"; fill in the costs of that arm, or give fixed costs per arm with `costs.per_person`",
                spec.arms.values[a].value
            ),
        ));
    }
    if !varies {
        return Err(Error::data(
            frame.path(),
            format!(
                "cost column \"{col}\" holds one cost for everyone ({}); with the same cost in every arm there is no extra cost to divide. Check the column, or give fixed costs per arm with `costs.per_person`",
                first.unwrap_or(0.0)
            ),
        ));
    }
    Ok(Some(v))
}

/// The data file of a pilot: `data_dir/<data.file>`, or the Parquet file of the same
/// stem when the CSV is absent.
pub fn data_path(spec: &PilotSpec, data_dir: &Path) -> PathBuf {
    let p = data_dir.join(&spec.data.file);
    if !p.exists() {
        let alt = p.with_extension("parquet");
        if alt.exists() {
            return alt;
        }
    }
    p
}

/// Read a pilot's data file (`data_dir/<data.file>`, or the Parquet file of the same
/// stem) with the config's read options, each overridden by one set in `over`: the
/// columns the spec needs, its id and `data_source` when present. What the reader
/// assumed (separator, decimal mark) is in [`Frame::assumptions`].
pub fn read(spec: &PilotSpec, data_dir: &Path, over: &ReadOptions) -> Result<Frame> {
    let path = data_path(spec, data_dir);
    if !path.exists() {
        return Err(Error::io(
            &path,
            "the data file does not exist; check the path or the data folder",
        ));
    }
    let mut cols = spec.needed_columns();
    if let Some(id) = &spec.data.id
        && !cols.contains(id)
    {
        cols.push(id.clone());
    }
    // `data_source` marks synthetic data; it is read when present.
    let read = spec.data.read.overridden_by(over);
    let frame = Frame::load_with(&path, &cols, &["data_source"], &read)?;
    Ok(frame)
}

/// The whole-file checks of data against a spec: ids (`data.id`) unique (per period in
/// a before/after design; not checked in a panel or with aggregated rows), every row's
/// arm one of the spec's ([`arm_codes`]) with the control and another arm present,
/// cluster ids that can cluster. Returns the arm of every row, which the check of the
/// arms counts (a factor of the arm column, made for its counts alone, took 11 ms at
/// 10^6 rows).
fn check_frame(spec: &PilotSpec, frame: &Frame) -> Result<Vec<u16>> {
    if let Some(id) = &spec.data.id
        && spec.data.layout == DataLayout::Person
        && spec.design.kind != DesignKind::Panel
    {
        let within =
            (spec.design.kind == DesignKind::BeforeAfter).then_some(spec.arms.column.as_str());
        checks::unique_ids(frame, id, within)?;
    }
    let arm = arm_codes(spec, frame)?;
    let arms: Vec<String> = spec.arms.values.iter().map(|a| a.value.clone()).collect();
    checks::arms(frame, &spec.arms.column, &arm, &arms, &spec.arms.control)?;
    if let Some(c) = &spec.design.cluster {
        checks::clusters(frame, c)?;
    }
    Ok(arm)
}

/// The arm of every row, as its index in `arms.values`; an error names the first row
/// without an arm or with a value that is not an arm.
fn arm_codes(spec: &PilotSpec, frame: &Frame) -> Result<Vec<u16>> {
    let path = frame.path();
    let allowed: Vec<&str> = spec.arms.values.iter().map(|a| a.value.as_str()).collect();
    if allowed.len() > usize::from(u16::MAX) {
        return Err(Error::data(
            path,
            format!(
                "column \"{}\" has {} different values; an analysis compares at most {} arms",
                spec.arms.column,
                allowed.len(),
                u16::MAX
            ),
        ));
    }
    match frame.positions(&spec.arms.column, &allowed)? {
        Ok(arm) => Ok(arm),
        Err((i, None)) => Err(Error::data(
            path,
            format!(
                "column \"{}\", {}: the arm is missing; every unit needs an arm",
                spec.arms.column,
                frame.row_ref(i)
            ),
        )),
        Err((i, Some(value))) => {
            // A column of many values is likely an id or a measurement: its values
            // are not echoed (they may identify persons).
            let many = !matches!(frame.levels(&spec.arms.column),
                Ok((l, _)) if l.len() <= crate::error::MAX_LISTED_VALUES);
            let shown = if many {
                format!(
                    "a value that is not an arm (the column has more than {} different values: \
                     is `arms.column` the arm column?)",
                    crate::error::MAX_LISTED_VALUES
                )
            } else {
                format!("unknown arm \"{value}\"")
            };
            Err(Error::data(
                path,
                format!(
                    "column \"{}\", {}: {shown}; the config ({}) allows: {}. Fix the data or add the arm to `arms.values`",
                    spec.arms.column,
                    frame.row_ref(i),
                    spec.path.display(),
                    allowed.join(", ")
                ),
            ))
        }
    }
}

/// The labels of column `c` (none when it is not set). `may_miss`: a row without a
/// label is kept (as [`NO_LABEL`]); else an error that names the row, the missing
/// `what`, and ends with `hint`.
fn labels(
    frame: &Frame,
    c: &Option<String>,
    what: &str,
    may_miss: bool,
    hint: &str,
) -> Result<Option<Labels>> {
    let Some(c) = c else { return Ok(None) };
    let _p = crate::timings::phase(format!("factor ({what})"));
    let f = frame.factor(c)?;
    let mut codes = Vec::with_capacity(f.codes.len());
    let mut n_missing = 0;
    for (i, x) in f.codes.iter().enumerate() {
        match x {
            Some(x) => codes.push(x),
            None if may_miss => {
                codes.push(NO_LABEL);
                n_missing += 1;
            }
            None => {
                return Err(Error::data(
                    frame.path(),
                    format!(
                        "column \"{c}\", {}: the {what} is missing{hint}",
                        frame.row_ref(i)
                    ),
                ));
            }
        }
    }
    Ok(Some(Labels {
        codes,
        levels: f.levels.iter().map(str::to_string).collect(),
        n_missing,
    }))
}

/// With `[[projects]]` listed, every row's project must be one of them.
fn check_projects(spec: &PilotSpec, frame: &Frame, project: &Option<Labels>) -> Result<()> {
    if let (Some(p), false) = (project, spec.projects.is_empty()) {
        let allowed: Vec<&str> = spec.projects.iter().map(|p| p.value.as_str()).collect();
        if let Some((i, v)) = (0..p.codes.len())
            .map(|i| (i, &p[i]))
            .find(|(_, v)| !allowed.contains(v))
        {
            return Err(Error::data(
                frame.path(),
                format!(
                    "column \"{}\", data row {}: unknown project \"{v}\"; the config allows: {}",
                    spec.design.project.as_deref().unwrap_or(""),
                    i + 1,
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The covariates' values; an error for a covariate that takes one value in each arm
/// (collinear with the arm indicator).
fn covariate_columns(
    spec: &PilotSpec,
    frame: &Frame,
    arm: &[u16],
) -> Result<Vec<(String, Numbers)>> {
    let n_arms = spec.arms.values.len();
    let mut covariates = Vec::new();
    for c in &spec.covariates {
        let v = frame.numeric(c)?;
        if let Some(k) = one_value_per_arm(&v, arm, n_arms) {
            return Err(Error::data(
                frame.path(),
                format!(
                    "covariate \"{c}\" takes one value in each arm of column \"{}\" ({k} arms with a value): it is collinear with the arm indicator, so the effect of the arm cannot be separated from it. Remove \"{c}\" from the covariates (a covariate should be measured before assignment)",
                    spec.arms.column
                ),
            ));
        }
        covariates.push((c.clone(), v));
    }
    Ok(covariates)
}

/// Each subgroup column as levels per row; an error for a column with more than
/// [`crate::config::MAX_SUBGROUP_LEVELS`] values or with only one.
fn subgroup_levels(spec: &PilotSpec, frame: &Frame) -> Result<Vec<SubgroupLevels>> {
    let mut out = Vec::new();
    for g in &spec.subgroups {
        let v = frame.numeric(&g.column)?;
        let mut values: Vec<f64> = v.iter().flatten().filter(|x| x.is_finite()).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        let max = crate::config::MAX_SUBGROUP_LEVELS;
        if values.len() > max || values.len() < 2 {
            return Err(Error::data(
                frame.path(),
                format!(
                    "subgroup column \"{}\" has {} distinct values; a subgroup needs 2 to {max} (code a continuous characteristic such as age into bands first)",
                    g.column,
                    values.len()
                ),
            ));
        }
        let codes = v
            .iter()
            .map(|x| match x {
                Some(x) if x.is_finite() => values
                    .binary_search_by(|p| p.total_cmp(&x))
                    .map_or(NO_LABEL, |i| i as u32),
                _ => NO_LABEL,
            })
            .collect();
        out.push(SubgroupLevels {
            column: g.column.clone(),
            values,
            codes,
        });
    }
    Ok(out)
}

/// The `data.started` column as yes/no per row: 1 started, 0 did not, empty unknown;
/// any other value is an error that names the column and the row.
fn started_column(spec: &PilotSpec, frame: &Frame) -> Result<Option<Vec<Option<bool>>>> {
    let Some(name) = &spec.data.started else {
        return Ok(None);
    };
    let v = frame.numeric(name)?;
    let mut out = Vec::with_capacity(v.len());
    for (i, x) in v.iter().enumerate() {
        out.push(match x {
            None => None,
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            Some(x) => {
                return Err(Error::data(
                    frame.path(),
                    format!(
                        "column \"{name}\" (`data.started`), data row {}: {x} is not 0 or 1; code whether the unit started the programme as 1 (yes), 0 (no) or leave it empty (unknown)",
                        i + 1
                    ),
                ));
            }
        });
    }
    Ok(Some(out))
}

/// Every unit's arm, project, cluster, block, fixed-effect levels and covariates.
fn prepare_units(spec: &PilotSpec, frame: &Frame, arm: Vec<u16>) -> Result<Units> {
    let project = labels(frame, &spec.design.project, "project", false, "")?;
    check_projects(spec, frame, &project)?;
    let cluster = labels(
        frame,
        &spec.design.cluster,
        "cluster",
        spec.design.missing_cluster == MissingCluster::Drop,
        "; fill it in, or leave such units out of the cluster-robust analyses (`design.missing_cluster = \"drop\"` in a config, `--missing-cluster drop` with compare)",
    )?;
    let block = labels(frame, &spec.design.block, "block", false, "")?;
    let exact = labels(
        frame,
        &spec.design.exact,
        "exact-matching",
        false,
        "; fill it in, or leave out --exact (config: design.exact)",
    )?;
    let mut fixed_effects = Vec::new();
    for f in &spec.design.fixed_effects {
        if let Some(l) = labels(frame, &Some(f.clone()), "fixed-effect level", false, "")? {
            fixed_effects.push((f.clone(), l));
        }
    }
    let covariates = covariate_columns(spec, frame, &arm)?;
    let covariate_missing = covariates.iter().any(|(_, c)| c.missing() > 0).then(|| {
        (0..arm.len())
            .map(|r| covariates.iter().any(|(_, c)| c.get(r).is_none()))
            .collect()
    });
    // Only the comparisons of outcome values read the arm column as numbers; time-to-
    // event outcomes do not, and at 10^8 rows the column is 800 MB.
    let values_compared = spec.outcomes.iter().any(|o| {
        !matches!(
            o.source,
            OutcomeSource::TimeEvent { .. } | OutcomeSource::Panel { .. }
        )
    });
    let arm_numbers = (values_compared && frame.is_numeric(&spec.arms.column))
        .then(|| frame.numeric(&spec.arms.column))
        .transpose()?;
    let subgroups = subgroup_levels(spec, frame)?;
    let started = started_column(spec, frame)?;
    Ok(Units {
        subgroups,
        started,
        arm,
        arm_numbers,
        project,
        cluster,
        cluster_column: spec.design.cluster.clone(),
        block,
        exact,
        fixed_effects,
        covariates,
        covariate_missing,
    })
}

/// When the observed values of `v` are one value per arm (`arm` per row, `n_arms`
/// arms) and not all the same: the number of arms with a value. Such a covariate is an
/// exact function of the arm.
fn one_value_per_arm(v: &Numbers, arm: &[u16], n_arms: usize) -> Option<usize> {
    let mut per_arm: Vec<Option<f64>> = vec![None; n_arms];
    for (r, &a) in arm.iter().enumerate() {
        let Some(x) = v.get(r) else { continue };
        let slot = &mut per_arm[usize::from(a)];
        match *slot {
            None => *slot = Some(x),
            Some(w) if w != x => return None,
            Some(_) => {}
        }
    }
    let seen: Vec<f64> = per_arm.into_iter().flatten().collect();
    (seen.len() >= 2 && seen.iter().any(|&x| x != seen[0])).then_some(seen.len())
}

fn outcome_units(frame: &Frame, o: &OutcomeSpec) -> Result<OutcomeUnits> {
    let path = frame.path();
    match &o.source {
        OutcomeSource::Column(c) => {
            let values = frame.numeric(c)?;
            if o.kind == OutcomeKind::Binary
                && let Some((i, v)) = values
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| v.filter(|x| *x != 0.0 && *x != 1.0).map(|x| (i, x)))
            {
                return Err(Error::data(
                    path,
                    format!(
                        "column \"{c}\", data row {}: value {v} in binary outcome \"{}\"; binary outcomes take 0 or 1 (or missing)",
                        i + 1,
                        o.id
                    ),
                ));
            }
            Ok(OutcomeUnits { rows: None, values })
        }
        OutcomeSource::Counts { events, trials } => {
            let ev = frame.numbers(events)?;
            let tr = frame.numbers(trials)?;
            let mut rows = Vec::new();
            let mut values = Vec::new();
            for (i, (e, t)) in ev.iter().zip(&tr).enumerate() {
                let (Some(e), Some(t)) = (e, t) else {
                    continue;
                };
                let ok = |x: f64| x >= 0.0 && x.fract() == 0.0;
                if !ok(*e) || !ok(*t) || e > t {
                    return Err(Error::data(
                        path,
                        format!(
                            "columns \"{events}\"/\"{trials}\", data row {}: {e} events out of {t}; counts must be whole numbers with events ≤ trials",
                            i + 1
                        ),
                    ));
                }
                let (e, t) = (*e as usize, *t as usize);
                rows.extend(std::iter::repeat_n(i as u32, t));
                values.extend(std::iter::repeat_n(1.0, e));
                values.extend(std::iter::repeat_n(0.0, t - e));
            }
            Ok(OutcomeUnits {
                rows: Some(rows),
                values: Numbers::from_values(values),
            })
        }
        OutcomeSource::TimeEvent { .. } | OutcomeSource::Panel { .. } => {
            Err(Error::analysis(format!(
                "outcome \"{}\" is time-to-event and is not analysed here",
                o.id
            )))
        }
    }
}

/// Time and event columns of a time-to-event outcome, checked: events 0/1, times
/// finite and not negative; a unit missing either is left out (and counted). A unit
/// without a cluster id is left out too: its row is in the second list.
fn time_event(
    spec: &PilotSpec,
    frame: &Frame,
    o: &OutcomeSpec,
    units: &Units,
) -> Result<(TimeEvent, Vec<usize>, Option<PathBuf>)> {
    let path = frame.path();
    if let OutcomeSource::Panel { .. } = &o.source {
        return panel_time_event(spec, frame, o, units);
    }
    let OutcomeSource::TimeEvent { time, event } = &o.source else {
        return Err(Error::analysis(format!(
            "outcome \"{}\" is not time-to-event",
            o.id
        )));
    };
    let t = frame.numeric(time)?;
    let e = frame.numeric(event)?;
    let mut no_cluster = Vec::new();
    let mut te = TimeEvent::new(spec.arms.values.len());
    for (i, (tv, ev)) in t.iter().zip(e.iter()).enumerate() {
        match (tv, ev) {
            (Some(tv), Some(ev)) => {
                if tv < 0.0 {
                    return Err(Error::data(
                        path,
                        format!(
                            "column \"{time}\", data row {}: time {tv} is negative; times count from the start of follow-up",
                            i + 1
                        ),
                    ));
                }
                if ev != 0.0 && ev != 1.0 {
                    return Err(Error::data(
                        path,
                        format!(
                            "column \"{event}\", data row {}: value {ev}; the event column takes 1 (event) or 0 (censored)",
                            i + 1
                        ),
                    ));
                }
                if units.missing_cluster(i) {
                    no_cluster.push(i);
                    continue;
                }
                te.push(i, tv, ev == 1.0);
            }
            _ => te.missing_by_arm[units.arm_of(i)] += 1,
        }
    }
    Ok((te, no_cluster, None))
}

/// Time and event from a person-by-month panel file, joined to the units by
/// `data.id`. Units without panel rows have a missing outcome (counted per arm).
fn panel_time_event(
    spec: &PilotSpec,
    frame: &Frame,
    o: &OutcomeSpec,
    units: &Units,
) -> Result<(TimeEvent, Vec<usize>, Option<PathBuf>)> {
    let OutcomeSource::Panel {
        file,
        id,
        month,
        status,
        end,
    } = &o.source
    else {
        return Err(Error::analysis(format!(
            "outcome \"{}\" has no panel",
            o.id
        )));
    };
    let dir = frame.path().parent().unwrap_or(std::path::Path::new("."));
    let ppath = dir.join(file);
    let mut cols = vec![id.clone(), month.clone(), status.clone()];
    cols.extend(end.iter().cloned());
    // The panel comes from the same source as the data file: the same read options.
    let panel = Frame::load_with(&ppath, &cols, &[], &spec.data.read)?;
    let ids: Vec<String> = panel
        .strings(id)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.ok_or_else(|| {
                Error::data(
                    &ppath,
                    format!("column \"{id}\", data row {}: the id is missing", i + 1),
                )
            })
        })
        .collect::<Result<_>>()?;
    let whole = |col: &str| -> Result<Vec<Option<i64>>> {
        panel
            .numbers(col)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Some(x) if x.fract() != 0.0 => Err(Error::data(
                    &ppath,
                    format!(
                        "column \"{col}\", data row {}: {x} is not a whole month",
                        i + 1
                    ),
                )),
                other => Ok(other.map(|x| x as i64)),
            })
            .collect()
    };
    let months = whole(month)?;
    let ends = end.as_deref().map(whole).transpose()?;
    let statuses: Vec<Option<bool>> = panel
        .numbers(status)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(x) if x == 0.0 || x == 1.0 => Ok(Some(x == 1.0)),
            Some(x) => Err(Error::data(
                &ppath,
                format!(
                    "column \"{status}\", data row {}: value {x}; the status takes 1 or 0",
                    i + 1
                ),
            )),
            None => Ok(None),
        })
        .collect::<Result<_>>()?;
    let derived =
        crate::stats::survival::survival_from_panel(&ids, &months, &statuses, ends.as_deref())
            .map_err(|e| Error::data(&ppath, format!("outcome \"{}\": {e}", o.id)))?;
    let by_id: std::collections::HashMap<&str, (f64, bool)> = derived
        .id
        .iter()
        .zip(derived.time.iter().zip(&derived.event))
        .map(|(k, (t, e))| (k.as_str(), (*t, *e)))
        .collect();
    let id_col = spec.data.id.as_deref().ok_or_else(|| {
        Error::config(
            &spec.path,
            "a panel outcome needs `data.id` to join the panel to the units",
        )
    })?;
    let unit_ids = frame.strings(id_col)?;
    let mut te = TimeEvent::new(spec.arms.values.len());
    let mut no_cluster = Vec::new();
    for (i, uid) in unit_ids.iter().enumerate() {
        match uid.as_deref().and_then(|k| by_id.get(k)) {
            Some(_) if units.missing_cluster(i) => no_cluster.push(i),
            Some(&(t, e)) => {
                te.push(i, t, e);
            }
            None => te.missing_by_arm[units.arm_of(i)] += 1,
        }
    }
    Ok((te, no_cluster, Some(ppath)))
}
