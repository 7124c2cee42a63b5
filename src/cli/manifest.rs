//! The manifest written beside every output: what produced it, from what, with which
//! options, so a result can be traced and reproduced (same inputs, config and seed
//! give a byte-identical `results.json`).

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

use crate::error::{Error, Result};

/// The manifest's file name in every output folder.
pub const MANIFEST: &str = "manifest.json";

/// One input file and its SHA-256.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The manifest of one output folder.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub command: String,
    pub inputs: Vec<InputFile>,
    /// Options that change results (confidence level, resampling, seed, disclosure).
    pub options: serde_json::Value,
    /// Every file of the output folder, this manifest included: a later run replaces
    /// the folder only when it holds nothing else (see `output::write_folder`).
    pub files: Vec<String>,
}

/// SHA-256 of a file, hex-encoded.
pub fn sha256_file(path: &Path) -> Result<InputFile> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(path, "cannot read to fingerprint it").with_cause(e))?;
    let digest = Sha256::digest(&bytes);
    Ok(InputFile {
        path: path.display().to_string(),
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        bytes: bytes.len() as u64,
    })
}

impl Manifest {
    /// The manifest of a folder of `files` (names; `manifest.json` is added).
    pub fn new(
        command: &str,
        inputs: &[&Path],
        options: serde_json::Value,
        files: &[(String, Vec<u8>)],
    ) -> Result<Self> {
        let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        names.push(MANIFEST.to_string());
        names.sort();
        Ok(Self {
            tool: format!("via-eval {}", env!("CARGO_PKG_VERSION")),
            command: command.to_string(),
            inputs: inputs
                .iter()
                .map(|p| sha256_file(p))
                .collect::<Result<_>>()?,
            options,
            files: names,
        })
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::analysis("cannot write the manifest").with_cause(e))
    }
}

/// Refuse an output folder that is, or holds, one of the inputs: outputs replace the
/// folder as a whole, so an input inside it would be lost.
pub fn check_output_not_over_inputs(out: &Path, inputs: &[&Path]) -> Result<()> {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let out_c = canon(out);
    for i in inputs {
        let ic = canon(i);
        if ic == out_c || ic.starts_with(&out_c) {
            return Err(Error::usage(format!(
                "the output folder {} would replace the input {}; choose another --out",
                out.display(),
                i.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc.txt");
        std::fs::write(&p, "abc").unwrap();
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_file(&p).unwrap().sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn output_over_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d.csv");
        std::fs::write(&data, "a\n1\n").unwrap();
        assert!(check_output_not_over_inputs(dir.path(), &[&data]).is_err());
        assert!(check_output_not_over_inputs(&dir.path().join("out"), &[&data]).is_ok());
    }
}
