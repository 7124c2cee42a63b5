//! The diagnostics charts of weighting estimates (`compare --estimator ipw|overlap|
//! entropy --out DIR`): per weighting estimate (the first outcome of each comparison,
//! as the covariates are the same for every outcome) a Love plot and, for the methods
//! with a propensity score, the overlap chart, each as PNG and SVG in Dutch and
//! English:
//! `love_<estimator>_<treated>_<nl|en>.{png,svg}`,
//! `overlap_<estimator>_<treated>_<nl|en>.{png,svg}`.
//!
//! The chart values are taken from the results as published (after disclosure
//! control): withheld numbers are drawn as withheld.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::analysis::{EstimateRow, PilotResults};
use crate::config::Lang;
use crate::error::{Error, Result};
use crate::plot::{self, LoveChart, LoveRow, OverlapArm, OverlapChart};
use crate::report::document::estimator_label;

/// A file name part from an arm value: letters and digits kept, others `-`.
fn slug(v: &str) -> String {
    v.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

pub(crate) fn love_chart(r: &PilotResults, e: &EstimateRow, lang: Lang) -> LoveChart {
    let nl = lang == Lang::Nl;
    let method = estimator_label(&e.estimator, lang);
    let comparison = format!(
        "{} vs {}",
        r.arm_label(&e.treated, lang),
        r.arm_label(&e.control, lang)
    );
    LoveChart {
        title: if nl {
            format!("Balans van de covariaten: {method}")
        } else {
            format!("Covariate balance: {method}")
        },
        subtitle: if nl {
            format!("{comparison}; absoluut gestandaardiseerd verschil per covariaat")
        } else {
            format!("{comparison}; absolute standardised mean difference per covariate")
        },
        axis_label: if nl {
            "|verschil in gemiddelden| / SD van de deelnemers (ongewogen)".into()
        } else {
            "|difference in means| / SD of the treated (unweighted)".into()
        },
        rows: e
            .balance
            .iter()
            .map(|b| LoveRow {
                label: b.covariate.clone(),
                before: b.smd_before.map(f64::abs),
                after: b.smd_after.map(f64::abs),
                suppressed: false,
            })
            .collect(),
        threshold: 0.1,
        before_label: if nl {
            "Voor weging"
        } else {
            "Before weighting"
        }
        .into(),
        after_label: if nl { "Na weging" } else { "After weighting" }.into(),
        note: if nl {
            format!(
                "Verticale lijn bij 0,1: een gangbare grens voor een verwaarloosbaar verschil. Uitkomst {}.",
                e.outcome
            )
        } else {
            format!(
                "Vertical line at 0.1: a common bound for a negligible difference. Outcome {}.",
                e.outcome
            )
        },
        lang,
    }
}

pub(crate) fn overlap_chart(r: &PilotResults, e: &EstimateRow, lang: Lang) -> Option<OverlapChart> {
    let pb = e.propensity_bins.as_ref()?;
    let nl = lang == Lang::Nl;
    let shares = |counts: &[Option<usize>], n: Option<usize>| -> Vec<Option<f64>> {
        counts
            .iter()
            .map(|c| match (c, n) {
                (Some(c), Some(n)) if n > 0 => Some(100.0 * *c as f64 / n as f64),
                _ => None,
            })
            .collect()
    };
    let arm = |value: &str, n: Option<usize>| match n {
        Some(n) => format!("{} (n = {n})", r.arm_label(value, lang)),
        None => r.arm_label(value, lang),
    };
    let outside = match (pb.treated_outside_support, nl) {
        (Some(k), true) => {
            format!(" {k} deelnemers hebben een score buiten het bereik van de vergelijkingsgroep.")
        }
        (Some(k), false) => {
            format!(" {k} treated persons have a score outside the comparison group's range.")
        }
        (None, _) => String::new(),
    };
    Some(OverlapChart {
        title: if nl {
            "Overlap van de propensityscores".into()
        } else {
            "Overlap of the propensity scores".into()
        },
        subtitle: estimator_label(&e.estimator, lang),
        x_label: if nl {
            "Propensityscore (kans op deelname volgens het model)".into()
        } else {
            "Propensity score (modelled probability of taking part)".into()
        },
        y_label: if nl {
            "Aandeel van de groep (%)".into()
        } else {
            "Share of the group (%)".into()
        },
        edges: pb.edges.clone(),
        treated: OverlapArm {
            label: arm(&e.treated, e.n_treated),
            shares: shares(&pb.treated, e.n_treated),
        },
        control: OverlapArm {
            label: arm(&e.control, e.n_control),
            shares: shares(&pb.control, e.n_control),
        },
        note: if nl {
            format!("Grijze streepjes: klassen met te weinig personen, onderdrukt.{outside}")
        } else {
            format!("Grey stubs: bins with too few persons, withheld.{outside}")
        },
        lang,
    })
}

fn write(path: PathBuf, bytes: Vec<u8>) -> Result<()> {
    std::fs::write(&path, bytes).map_err(|e| Error::io(&path, "cannot write").with_cause(e))
}

/// Write the charts of every weighting estimate in `r` into `dir`; returns the files.
pub fn write_charts(r: &PilotResults, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(dir, "cannot create the output folder").with_cause(e))?;
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    for e in r.estimates.iter().filter(|e| !e.balance.is_empty()) {
        if !seen.insert((e.estimator.clone(), e.treated.clone(), e.subset.clone())) {
            continue;
        }
        for lang in [Lang::Nl, Lang::En] {
            let tag = format!(
                "{}_{}_{}",
                e.estimator,
                slug(&e.treated),
                if lang == Lang::Nl { "nl" } else { "en" }
            );
            let love = love_chart(r, e, lang);
            let mut out = vec![
                (format!("love_{tag}.png"), plot::love_chart_png(&love)?),
                (
                    format!("love_{tag}.svg"),
                    plot::love_chart_svg(&love)?.into_bytes(),
                ),
            ];
            if let Some(o) = overlap_chart(r, e, lang) {
                out.push((format!("overlap_{tag}.png"), plot::overlap_chart_png(&o)?));
                out.push((
                    format!("overlap_{tag}.svg"),
                    plot::overlap_chart_svg(&o)?.into_bytes(),
                ));
            }
            for (name, bytes) in out {
                let p = dir.join(name);
                write(p.clone(), bytes)?;
                files.push(p);
            }
        }
    }
    Ok(files)
}
