//! `via-eval pilots`: a table of the pilot configs and whether their data are present.

use std::path::PathBuf;

use crate::config::{self, Lang, PilotSpec};
use crate::data::Frame;
use crate::error::Result;
use crate::report::tables::render;
use crate::report::tr;

/// Examples at the end of `via-eval pilots --help`.
pub const EXAMPLES: &str = "\
Examples:
  via-eval pilots
  via-eval pilots --lang nl
  VIA_EVAL_PILOTS=~/via-eval/pilots via-eval pilots    # from any folder";

#[derive(clap::Args, Debug)]
pub struct PilotsArgs {
    /// Folder with the pilot configs [default: pilots]
    #[arg(long, help_heading = super::INPUT, value_name = "DIR", env = super::locate::PILOTS_ENV)]
    pub pilots: Option<PathBuf>,
    /// Folder with the pilots' data files [default: notebooks-data beside the pilots
    /// folder, else in the current folder]
    #[arg(long, help_heading = super::INPUT, value_name = "DIR", env = super::locate::DATA_ENV)]
    pub data: Option<PathBuf>,
    /// Language of titles.
    #[arg(long, help_heading = super::OUTPUT, value_enum, default_value = "en")]
    pub lang: super::choices::LangArg,
}

pub fn run(args: &PilotsArgs) -> Result<()> {
    let lang: Lang = args.lang.into();
    let mut rows = vec![vec![
        "slug".to_string(),
        tr(lang, "titel", "title").into(),
        tr(lang, "opzet", "design").into(),
        "n".into(),
        tr(lang, "uitkomsten", "outcomes").into(),
        tr(lang, "data gevonden", "data found").into(),
    ]];
    let pilots = super::locate::pilots_dir(args.pilots.as_deref())?;
    let data_dir = super::locate::data_dir(args.data.as_deref(), &pilots);
    for path in config::discover(&pilots)? {
        let spec = PilotSpec::from_file(&path)?;
        let data = crate::prepare::data_path(&spec, &data_dir);
        let cols = std::slice::from_ref(&spec.arms.column);
        let (n, found) = match Frame::load_with(&data, cols, &[], &spec.data.read) {
            Ok(f) => (f.height().to_string(), data.display().to_string()),
            Err(_) if !data.exists() => ("–".into(), tr(lang, "ontbreekt", "missing").to_string()),
            Err(e) => ("–".into(), format!("{}: {e}", tr(lang, "fout", "error"))),
        };
        rows.push(vec![
            spec.slug.clone(),
            spec.title.get(lang).to_string(),
            spec.design.kind.label(lang).to_string(),
            n,
            spec.outcomes.len().to_string(),
            found,
        ]);
    }
    super::print_out(&render(&rows))?;
    Ok(())
}
