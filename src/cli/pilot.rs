//! `via-eval pilot <slug>`: evaluate one pilot (or all, with `--all`) from its config
//! and data, and write results.json, results.csv, report.md, report.html and charts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::choices::{LangArg, NamesArg};
use super::read_args::ReadArgs;
use crate::analysis::{self, Options, PilotResults, Privacy};
use crate::config::ReadOptions;
use crate::config::{self, Lang, PilotSpec};
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::prepare;
use crate::report::columns::{self, Names};
use crate::report::{self, charts, document, html, markdown, tables};

/// Examples at the end of `via-eval pilot --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval pilot leren-en-werken                       # into out/leren-en-werken/
  via-eval pilot uwv-dienstverlening-ww --lang nl -o out/uwv
  via-eval pilot --all -o out -q                       # every pilot, one folder each
  via-eval pilot intensieve-begeleiding --permutations 2000 --names broom";

#[derive(clap::Args, Debug)]
pub struct PilotArgs {
    /// The pilot's slug (see `via-eval pilots`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub slug: Option<String>,
    /// Evaluate every pilot in the pilots folder.
    #[arg(long)]
    pub all: bool,
    /// Output folder; default `out/<slug>`. With `--all`, one subfolder per pilot.
    #[arg(short, long, help_heading = super::OUTPUT, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Language of labels, charts and report.
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "en")]
    pub lang: LangArg,
    /// Folder with the pilot configs [default: pilots]
    #[arg(long, help_heading = super::INPUT, value_name = "DIR", env = super::locate::PILOTS_ENV)]
    pub pilots: Option<PathBuf>,
    /// Folder with the pilots' data files [default: notebooks-data beside the pilots
    /// folder, else in the current folder]
    #[arg(long, help_heading = super::INPUT, value_name = "DIR", env = super::locate::DATA_ENV)]
    pub data: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long, help_heading = super::OUTPUT)]
    pub quiet: bool,
    /// Column names of results.csv and results.parquet: ours (`std_error`, `ci_low`,
    /// `p_value`) or R broom's (`std.error`, `conf.low`, `p.value`, `term`).
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "snake")]
    pub names: NamesArg,
    /// Read options; each overrides the `[data]` key of the same name in the config.
    #[command(flatten)]
    pub analysis: super::analysis_args::AnalysisArgs,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Read a pilot's data ([`prepare::read`]), with the command line's hint when the data
/// file is missing.
fn read(spec: &PilotSpec, data_dir: &Path, over: &ReadOptions) -> Result<Frame> {
    let path = prepare::data_path(spec, data_dir);
    if !path.exists() {
        return Err(Error::io(
            &path,
            super::locate::missing_data_hint(&spec.slug),
        ));
    }
    prepare::read(spec, data_dir, over)
}

/// Load, analyse and protect one pilot (`privacy` is required: see
/// [`analysis::Privacy`]).
pub fn evaluate(
    spec: &PilotSpec,
    data_dir: &Path,
    opts: &Options,
    privacy: Privacy,
) -> Result<PilotResults> {
    let prepared = prepare::prepare(spec, &read(spec, data_dir, &ReadOptions::default())?)?;
    analysis::run(spec, &prepared.input, opts, privacy)
}

/// Render every output file of an evaluation, the tables with our column names.
pub fn render_outputs(r: &PilotResults, lang: Lang) -> Result<Vec<(String, Vec<u8>)>> {
    render_outputs_named(r, lang, Names::Snake)
}

/// Render every output file of an evaluation; `names` names the columns of
/// results.csv and results.parquet.
pub fn render_outputs_named(
    r: &PilotResults,
    lang: Lang,
    names: Names,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Rendered {
        files: result_files(r, names)?,
        pngs: HashMap::new(),
    };
    pilot_charts(r, lang, &mut out)?;
    weighting_diagnostics(r, lang, &mut out)?;
    outcome_charts(r, lang, &mut out)?;
    for i in 0..r.meta.len() {
        if let Some(c) = charts::forest_chart(r, i, lang) {
            let png = crate::plot::forest_chart_png(&c)?;
            out.chart(
                charts::forest_stem(r, i),
                png,
                crate::plot::forest_chart_svg(&c)?,
            );
        }
    }
    let Rendered { mut files, pngs } = out;
    let blocks = document::build(r, lang);
    files.push(("report.md".into(), markdown::render(&blocks).into_bytes()));
    let title = r.title.get(lang).to_string();
    files.push((
        "report.html".into(),
        html::render(&blocks, &pngs, lang, &title).into_bytes(),
    ));
    Ok(files)
}

/// The output files rendered so far, and each chart's PNG by its stem (for
/// report.html).
struct Rendered {
    files: Vec<(String, Vec<u8>)>,
    pngs: HashMap<String, Vec<u8>>,
}

impl Rendered {
    /// Add a chart as `stem`.svg and `stem`.png, and keep its PNG for report.html.
    fn chart(&mut self, stem: String, png: Vec<u8>, svg: String) {
        self.files.push((format!("{stem}.svg"), svg.into_bytes()));
        self.files.push((format!("{stem}.png"), png.clone()));
        self.pngs.insert(stem, png);
    }
}

/// The estimates as results.json, results.csv and results.parquet.
fn result_files(r: &PilotResults, names: Names) -> Result<Vec<(String, Vec<u8>)>> {
    let ctx = columns::Context {
        disclosure_applied: r.disclosure.applied,
    };
    Ok(vec![
        ("results.json".to_string(), report::to_json(r)?.into_bytes()),
        (
            "results.csv".to_string(),
            columns::to_csv(&r.estimates, &ctx, names).into_bytes(),
        ),
        (
            "results.parquet".to_string(),
            columns::to_parquet(&r.estimates, &ctx, names)?,
        ),
    ])
}

/// The charts of the whole pilot: the effects, and when the pilot has them the
/// acceptability curve, the cost-effectiveness plane and the flow of participants.
fn pilot_charts(r: &PilotResults, lang: Lang, out: &mut Rendered) -> Result<()> {
    let effect = charts::effect_chart(r, lang);
    let png = crate::plot::effect_chart_png(&effect)?;
    out.chart(
        "effects".into(),
        png,
        crate::plot::effect_chart_svg(&effect)?,
    );
    if let Some(c) = charts::acceptability_chart(r, lang) {
        let png = crate::plot::power_chart_png(&c)?;
        out.chart(
            "acceptability".into(),
            png,
            crate::plot::power_chart_svg(&c)?,
        );
    }
    if let Some(c) = charts::ce_plane_chart(r, lang) {
        let png = crate::plot::ce_plane_png(&c)?;
        out.chart("ce_plane".into(), png, crate::plot::ce_plane_svg(&c)?);
    }
    if let Some(c) = charts::flow_chart(r, lang) {
        let png = crate::plot::flow_chart_png(&c)?;
        out.chart("flow".into(), png, crate::plot::flow_chart_svg(&c)?);
    }
    Ok(())
}

/// The Love plot and overlap chart of the headline weighting estimate, each stamped
/// with the report's footer.
fn weighting_diagnostics(r: &PilotResults, lang: Lang, out: &mut Rendered) -> Result<()> {
    let Some(e) = charts::weighting_diagnostic(r) else {
        return Ok(());
    };
    let stamp = charts::report_footer(r, lang);
    let mut love = super::weighting_charts::love_chart(r, e, lang);
    love.note = format!("{} {stamp}", love.note);
    let png = crate::plot::love_chart_png(&love)?;
    out.chart(
        charts::LOVE_STEM.to_string(),
        png,
        crate::plot::love_chart_svg(&love)?,
    );
    if let Some(mut o) = super::weighting_charts::overlap_chart(r, e, lang) {
        o.note = format!("{} {stamp}", o.note);
        let png = crate::plot::overlap_chart_png(&o)?;
        out.chart(
            charts::OVERLAP_STEM.to_string(),
            png,
            crate::plot::overlap_chart_svg(&o)?,
        );
    }
    Ok(())
}

/// The charts per outcome: survival curves and arm means for every outcome, then the
/// event study, interrupted time series and trends for every outcome that has them.
fn outcome_charts(r: &PilotResults, lang: Lang, out: &mut Rendered) -> Result<()> {
    for o in &r.outcomes {
        if let Some(c) = charts::survival_chart(r, &o.id, analysis::POOLED, lang) {
            let png = crate::plot::survival_chart_png(&c)?;
            out.chart(
                format!("km-{}", o.id),
                png,
                crate::plot::survival_chart_svg(&c)?,
            );
        }
        if let Some(c) = charts::arm_chart(r, &o.id, lang) {
            let png = crate::plot::arm_chart_png(&c)?;
            out.chart(
                format!("arms-{}", o.id),
                png,
                crate::plot::arm_chart_svg(&c)?,
            );
        }
    }
    for o in &r.outcomes {
        if let Some(c) = report::design::event_chart(r, &o.id, lang) {
            let png = crate::plot::event_study_png(&c)?;
            out.chart(
                report::design::event_stem(&o.id),
                png,
                crate::plot::event_study_svg(&c)?,
            );
        }
        if let Some(c) = report::design::its_chart(r, &o.id, lang) {
            let png = crate::plot::its_chart_png(&c)?;
            out.chart(
                report::design::its_stem(&o.id),
                png,
                crate::plot::its_chart_svg(&c)?,
            );
        }
        if let Some(c) = report::design::trends_chart(r, &o.id, lang) {
            let png = crate::plot::trend_chart_png(&c)?;
            out.chart(
                report::design::trends_stem(&o.id),
                png,
                crate::plot::trend_chart_svg(&c)?,
            );
        }
    }
    Ok(())
}

/// The overview of several evaluated pilots (slug, results): index.md, index.html and
/// its chart, with links to each pilot's folder (named by its slug).
pub fn overview_files(
    done: &[(String, PilotResults)],
    lang: Lang,
) -> Result<Vec<(String, Vec<u8>)>> {
    let entries: Vec<report::overview::PilotEntry> = done
        .iter()
        .map(|(slug, r)| report::overview::PilotEntry {
            results: r,
            folder: slug.clone(),
        })
        .collect();
    let chart = report::overview::overview_chart(&entries, lang);
    let png = crate::plot::effect_chart_png(&chart)?;
    let blocks = report::overview::build(&entries, lang);
    let mut pngs = HashMap::new();
    pngs.insert("overview".to_string(), png.clone());
    let title = match lang {
        Lang::Nl => "VIA-pilots — overzicht",
        Lang::En => "VIA pilots — overview",
    };
    Ok(vec![
        ("index.md".into(), markdown::render(&blocks).into_bytes()),
        (
            "index.html".into(),
            html::render(&blocks, &pngs, lang, title).into_bytes(),
        ),
        ("overview.png".into(), png),
        (
            "overview.svg".into(),
            crate::plot::effect_chart_svg(&chart)?.into_bytes(),
        ),
    ])
}

/// Write the overview files into `root` beside the pilots' folders, each by a
/// temporary file renamed into place. An existing index.html that via-eval did not
/// write is the user's and is left alone: the overview is then not written.
fn write_overview(root: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let index = root.join("index.html");
    if let Ok(old) = std::fs::read_to_string(&index)
        && !old.contains("<meta name=\"generator\" content=\"via-eval\">")
    {
        return Err(Error::usage(format!(
            "{} exists and was not written by via-eval; the overview of the pilots was not written. Move that file away, or choose another --out",
            index.display()
        )));
    }
    std::fs::create_dir_all(root)
        .map_err(|e| Error::io(root, "cannot create the output folder").with_cause(e))?;
    for (name, bytes) in files {
        let path = root.join(name);
        let tmp = root.join(format!(".{name}.via-eval-tmp"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Error::io(&path, "cannot write the overview").with_cause(e)
            })?;
    }
    Ok(())
}

pub fn run(args: &PilotArgs) -> Result<()> {
    let pilots = super::locate::pilots_dir(args.pilots.as_deref())?;
    let data = super::locate::data_dir(args.data.as_deref(), &pilots);
    let slugs: Vec<String> = if args.all {
        config::discover(&pilots)?
            .iter()
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
            .collect()
    } else {
        vec![args.slug.clone().unwrap_or_default()]
    };
    if slugs.is_empty() {
        return Err(Error::usage(format!(
            "no pilot configs in {}",
            pilots.display()
        )));
    }
    let read = args.read.options()?;
    let privacy = args.analysis.privacy()?;
    let mut failures = Vec::new();
    let mut done: Vec<(String, PilotResults)> = Vec::new();
    for slug in &slugs {
        let out = match (&args.out, args.all) {
            (Some(o), true) => o.join(slug),
            (Some(o), false) => o.clone(),
            (None, _) => PathBuf::from("out").join(slug),
        };
        let res = (|| -> Result<PilotResults> {
            let spec = config::load_slug(&pilots, slug)?;
            let (progress, bar) =
                super::resampling_progress(!args.quiet && args.analysis.resampling());
            let opts = args.analysis.options(progress);
            let frame = self::read(&spec, &data, &read)?;
            if !args.quiet {
                for a in frame.assumptions() {
                    eprintln!("note: {}: {a}", frame.path().display());
                }
            }
            let prepared = prepare::prepare(&spec, &frame)?;
            let r = analysis::run(&spec, &prepared.input, &opts, privacy);
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let r = r?;
            let inputs: Vec<&Path> = std::iter::once(spec.path.as_path())
                .chain(prepared.files.iter().map(PathBuf::as_path))
                .collect();
            super::manifest::check_output_not_over_inputs(&out, &inputs)?;
            let mut files = render_outputs_named(&r, args.lang.into(), args.names.into())?;
            let manifest = super::manifest::Manifest::new(
                &format!("pilot {slug}"),
                &inputs,
                serde_json::json!({
                    "conf_level": args.analysis.conf_level,
                    "bootstrap": args.analysis.bootstrap,
                    "permutations": args.analysis.permutations,
                    "seed": args.analysis.seed,
                    "lang": Lang::from(args.lang),
                    "disclosure_control": r.disclosure.applied,
                    "disclosure_threshold": r.disclosure.applied.then_some(r.disclosure.threshold),
                }),
                &files,
            )?;
            files.push((
                super::manifest::MANIFEST.into(),
                manifest.to_json()?.into_bytes(),
            ));
            super::output::write_folder(&out, &files)?;
            Ok(r)
        })();
        match res {
            Ok(r) => {
                if !args.quiet {
                    super::print_out(&format!(
                        "{}\n→ {}\n\n",
                        tables::terminal_summary(&r, args.lang.into()),
                        out.display()
                    ))?;
                }
                if args.all {
                    done.push((slug.clone(), r));
                }
            }
            Err(e) if args.all => {
                eprintln!("error: {slug}: {}", e.report());
                failures.push(slug.clone());
            }
            Err(e) => return Err(e),
        }
    }
    if args.all && !done.is_empty() {
        let root = args.out.clone().unwrap_or_else(|| PathBuf::from("out"));
        let files = overview_files(&done, args.lang.into())?;
        write_overview(&root, &files)?;
        if !args.quiet {
            super::print_out(&format!(
                "{} → {}\n",
                match Lang::from(args.lang) {
                    Lang::Nl => "Overzicht van de pilots",
                    Lang::En => "Overview of the pilots",
                },
                root.join("index.html").display()
            ))?;
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
