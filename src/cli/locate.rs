//! Where the pilot configs and their data are, so that commands work from any folder:
//! a flag (`--pilots`, `--data`) or its environment variable (`VIA_EVAL_PILOTS`,
//! `VIA_EVAL_DATA`, read by clap) wins; without one the configs are in `pilots/` of the
//! current folder and the data in `notebooks-data/` beside the pilots folder (the
//! repository's layout), else in `notebooks-data/` of the current folder. When nothing
//! is found the error says which flag or variable to set.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable naming the pilots folder (same as `--pilots`).
pub const PILOTS_ENV: &str = "VIA_EVAL_PILOTS";
/// Environment variable naming the data folder (same as `--data`).
pub const DATA_ENV: &str = "VIA_EVAL_DATA";
/// The pilots folder when none is given.
pub const PILOTS_DEFAULT: &str = "pilots";
/// The data folder's name beside the pilots folder.
pub const DATA_DEFAULT: &str = "notebooks-data";

/// The pilots folder: the one given (flag or environment), else `pilots/` in the
/// current folder. An error when it is not a folder, saying what to do.
pub fn pilots_dir(given: Option<&Path>) -> Result<PathBuf> {
    let (dir, source) = match given {
        Some(d) => (
            d.to_path_buf(),
            format!("given by --pilots or {PILOTS_ENV}"),
        ),
        None => (
            PathBuf::from(PILOTS_DEFAULT),
            "the default, in the current folder".to_string(),
        ),
    };
    if dir.is_dir() {
        return Ok(dir);
    }
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "?".into());
    Err(Error::usage(format!(
        "cannot find the pilots folder \"{}\" ({source}; current folder {cwd}). Run from \
         the via-eval repository folder, or give the folder of the pilot configs with \
         --pilots DIR or the environment variable {PILOTS_ENV}=DIR (and the data folder \
         with --data DIR or {DATA_ENV}=DIR when it is not {DATA_DEFAULT}/ beside it)",
        dir.display()
    )))
}

/// The data folder: the one given (flag or environment), else `notebooks-data/`
/// beside the pilots folder when it exists, else `notebooks-data/` in the current
/// folder. Whether the pilot's file is in it is checked when it is read.
pub fn data_dir(given: Option<&Path>, pilots: &Path) -> PathBuf {
    if let Some(d) = given {
        return d.to_path_buf();
    }
    let beside = pilots
        .parent()
        .map(|p| p.join(DATA_DEFAULT))
        .unwrap_or_else(|| PathBuf::from(DATA_DEFAULT));
    if beside.is_dir() {
        beside
    } else {
        PathBuf::from(DATA_DEFAULT)
    }
}

/// The hint of a missing data file of a pilot: where it was looked for and how to
/// point elsewhere, or how to make synthetic data.
pub fn missing_data_hint(slug: &str) -> String {
    format!(
        "the data file does not exist; check the path, give the data folder with --data DIR \
         or {DATA_ENV}=DIR, or make synthetic data with `via-eval simulate {slug}`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_defaults_to_the_folder_beside_the_pilots() {
        let d = tempfile::tempdir().unwrap();
        let pilots = d.path().join("pilots");
        std::fs::create_dir_all(&pilots).unwrap();
        std::fs::create_dir_all(d.path().join(DATA_DEFAULT)).unwrap();
        assert_eq!(data_dir(None, &pilots), d.path().join(DATA_DEFAULT));
        // A given folder wins, even when it does not exist (the read names it).
        assert_eq!(
            data_dir(Some(Path::new("elsewhere")), &pilots),
            PathBuf::from("elsewhere")
        );
        // Without a folder beside the pilots: the current folder's.
        let lone = d.path().join("lone/pilots");
        assert_eq!(data_dir(None, &lone), PathBuf::from(DATA_DEFAULT));
    }

    #[test]
    fn a_missing_pilots_folder_names_the_flag_and_the_variable() {
        let e = pilots_dir(Some(Path::new("/no/such/folder"))).unwrap_err();
        let m = e.to_string();
        for needle in [
            "/no/such/folder",
            "--pilots",
            PILOTS_ENV,
            "--data",
            DATA_ENV,
        ] {
            assert!(m.contains(needle), "{needle} missing in: {m}");
        }
    }
}
