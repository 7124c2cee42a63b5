//! `via-eval pilot <slug>`: evaluate one pilot (or all, with `--all`) from its config
//! and data, and write results.json, results.csv, report.md, report.html and charts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::analysis::{self, Options, PilotResults};
use crate::config::{self, Lang, PilotSpec};
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::report::{self, charts, document, html, markdown, tables};

#[derive(clap::Args, Debug)]
pub struct PilotArgs {
    /// The pilot's slug (see `via-eval pilots`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub slug: Option<String>,
    /// Evaluate every pilot in the pilots folder.
    #[arg(long)]
    pub all: bool,
    /// Output folder; default `out/<slug>`. With `--all`, one subfolder per pilot.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Language of labels, charts and report.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: Lang,
    /// Folder with the pilot configs.
    #[arg(long, default_value = "pilots")]
    pub pilots: PathBuf,
    /// Folder with the pilots' data files.
    #[arg(long, default_value = "notebooks-data")]
    pub data: PathBuf,
    /// Confidence level of every interval.
    #[arg(long, default_value_t = 0.95)]
    pub conf_level: f64,
    /// Bootstrap draws for percentile and BCa intervals of each difference.
    #[arg(long, value_name = "N")]
    pub bootstrap: Option<u64>,
    /// Re-randomisations for randomisation-inference p-values (as the design assigned).
    #[arg(long, value_name = "N")]
    pub permutations: Option<u64>,
    /// Seed of every resampling method (the same seed gives the same results).
    #[arg(long, default_value_t = analysis::DEFAULT_SEED)]
    pub seed: u64,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
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

/// Load and analyse one pilot.
pub fn evaluate(spec: &PilotSpec, data_dir: &Path, opts: &Options) -> Result<PilotResults> {
    let path = data_path(spec, data_dir);
    // `data_source` marks synthetic data; it is read when present.
    let frame = Frame::load_with_optional(&path, &spec.needed_columns(), &["data_source"])?;
    analysis::run(spec, &frame, opts)
}

/// Render every output file of an evaluation.
pub fn render_outputs(r: &PilotResults, lang: Lang) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![
        ("results.json".to_string(), report::to_json(r)?.into_bytes()),
        (
            "results.csv".to_string(),
            report::to_csv(&r.estimates).into_bytes(),
        ),
    ];
    let mut pngs = HashMap::new();
    let effect = charts::effect_chart(r, lang);
    let png = crate::plot::effect_chart_png(&effect)?;
    files.push((
        "effects.svg".into(),
        crate::plot::effect_chart_svg(&effect)?.into_bytes(),
    ));
    files.push(("effects.png".into(), png.clone()));
    pngs.insert("effects".to_string(), png);
    for o in &r.outcomes {
        if let Some(c) = charts::survival_chart(r, &o.id, analysis::POOLED, lang) {
            let stem = format!("km-{}", o.id);
            let png = crate::plot::survival_chart_png(&c)?;
            files.push((
                format!("{stem}.svg"),
                crate::plot::survival_chart_svg(&c)?.into_bytes(),
            ));
            files.push((format!("{stem}.png"), png.clone()));
            pngs.insert(stem, png);
        }
        if let Some(c) = charts::arm_chart(r, &o.id, lang) {
            let stem = format!("arms-{}", o.id);
            let png = crate::plot::arm_chart_png(&c)?;
            files.push((
                format!("{stem}.svg"),
                crate::plot::arm_chart_svg(&c)?.into_bytes(),
            ));
            files.push((format!("{stem}.png"), png.clone()));
            pngs.insert(stem, png);
        }
    }
    let blocks = document::build(r, lang);
    files.push(("report.md".into(), markdown::render(&blocks).into_bytes()));
    let title = r.title.get(lang).to_string();
    files.push((
        "report.html".into(),
        html::render(&blocks, &pngs, lang, &title).into_bytes(),
    ));
    Ok(files)
}

pub fn run(args: &PilotArgs) -> Result<()> {
    let slugs: Vec<String> = if args.all {
        config::discover(&args.pilots)?
            .iter()
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
            .collect()
    } else {
        vec![args.slug.clone().unwrap_or_default()]
    };
    if slugs.is_empty() {
        return Err(Error::usage(format!(
            "no pilot configs in {}",
            args.pilots.display()
        )));
    }
    let mut failures = Vec::new();
    for slug in &slugs {
        let out = match (&args.out, args.all) {
            (Some(o), true) => o.join(slug),
            (Some(o), false) => o.clone(),
            (None, _) => PathBuf::from("out").join(slug),
        };
        let res = (|| -> Result<PilotResults> {
            let spec = config::load_slug(&args.pilots, slug)?;
            let opts = Options {
                conf_level: args.conf_level,
                bootstrap: args.bootstrap,
                permutations: args.permutations,
                seed: args.seed,
                ..Options::default()
            };
            let r = evaluate(&spec, &args.data, &opts)?;
            let files = render_outputs(&r, args.lang)?;
            super::output::write_folder(&out, &files)?;
            Ok(r)
        })();
        match res {
            Ok(r) => {
                if !args.quiet {
                    super::print_out(&format!(
                        "{}\n→ {}\n\n",
                        tables::terminal_summary(&r, args.lang),
                        out.display()
                    ));
                }
            }
            Err(e) if args.all => {
                eprintln!("error: {slug}: {e}");
                failures.push(slug.clone());
            }
            Err(e) => return Err(e),
        }
    }
    if !failures.is_empty() {
        return Err(Error::analysis(format!(
            "{} of {} pilots failed: {}",
            failures.len(),
            slugs.len(),
            failures.join(", ")
        )));
    }
    Ok(())
}
