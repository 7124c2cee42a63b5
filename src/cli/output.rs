//! Writing an output folder all at once: files go to a temporary sibling folder that is
//! renamed into place only when every file is written, so an interrupted run leaves
//! the previous results intact and never a half-written set.
//!
//! An existing folder is replaced only when it is empty or is an earlier via-eval
//! output: it holds a `manifest.json` written by via-eval that lists every file in the
//! folder. A folder with anything else in it is the user's, and is never deleted.

use std::path::{Path, PathBuf};

use super::manifest::MANIFEST;
use crate::error::{Error, Result};

/// Whether `dir` may be replaced: it is empty, or every entry in it is listed in its
/// via-eval manifest. Returns a message for the user when it may not.
fn check_replaceable(dir: &Path) -> Result<()> {
    let refuse = |why: String| {
        Err(Error::usage(format!(
            "the output folder {} already exists and {why}; via-eval replaces only its own \
             earlier output. Choose another --out (a new folder is created), or move those \
             files away",
            dir.display()
        )))
    };
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, "cannot look into the output folder").with_cause(e))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().to_string()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, "cannot look into the output folder").with_cause(e))?;
    if entries.is_empty() {
        return Ok(());
    }
    let manifest: Option<serde_json::Value> = std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let Some(manifest) = manifest.filter(|m| {
        m["tool"]
            .as_str()
            .is_some_and(|t| t.starts_with("via-eval "))
    }) else {
        return refuse(format!(
            "holds {} file(s) but no via-eval manifest.json",
            entries.len()
        ));
    };
    // Manifests of versions before the file list: the names those versions wrote.
    let listed: Option<Vec<&str>> = manifest["files"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect());
    let ours = |e: &str| match &listed {
        Some(l) => l.contains(&e),
        None => earlier_output_name(e),
    };
    let foreign = entries.iter().filter(|e| !ours(e)).count();
    if foreign > 0 {
        return refuse(format!(
            "holds {foreign} file(s) that its manifest.json does not list"
        ));
    }
    Ok(())
}

/// The file names an output folder of via-eval 0.1 held, for folders whose manifest
/// has no file list yet.
fn earlier_output_name(name: &str) -> bool {
    let fixed = [
        "results.json",
        "results.csv",
        "report.md",
        "report.html",
        MANIFEST,
    ];
    let chart = ["effects.", "arms-", "km-"]
        .iter()
        .any(|p| name.starts_with(p))
        && (name.ends_with(".png") || name.ends_with(".svg"));
    fixed.contains(&name) || chart
}

/// Write `files` (name, bytes) as the complete contents of `dir`, replacing an
/// earlier via-eval output folder of the same name (never a folder of other files).
pub fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    if dir.is_dir() {
        check_replaceable(dir)?;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| Error::io(&parent, "cannot create the output folder").with_cause(e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| Error::usage(format!("{} is not a folder name", dir.display())))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)
        .map_err(|e| Error::io(&tmp, "cannot create a temporary folder").with_cause(e))?;
    for (n, bytes) in files {
        let p = tmp.join(n);
        if let Err(e) = std::fs::write(&p, bytes) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(Error::io(&p, "cannot write").with_cause(e));
        }
    }
    if dir.exists() {
        if !dir.is_dir() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(Error::usage(format!(
                "{} exists and is not a folder; choose another --out",
                dir.display()
            )));
        }
        std::fs::rename(dir, &old)
            .map_err(|e| Error::io(dir, "cannot replace the earlier output").with_cause(e))?;
    }
    if let Err(e) = std::fs::rename(&tmp, dir) {
        // Put the earlier output back.
        if old.exists() {
            let _ = std::fs::rename(&old, dir);
        }
        return Err(Error::io(dir, "cannot move the new output into place").with_cause(e));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(files: &[&str]) -> Vec<u8> {
        serde_json::json!({"tool": "via-eval 0.1.0", "files": files})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn a_folder_of_user_files_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("thesis");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("chapter1.docx"), "my work").unwrap();
        let err = write_folder(&out, &[("results.json".into(), b"{}".to_vec())]).unwrap_err();
        assert!(err.to_string().contains("no via-eval manifest"), "{err}");
        assert_eq!(
            std::fs::read(out.join("chapter1.docx")).unwrap(),
            b"my work"
        );
        assert!(!out.join("results.json").exists());
    }

    #[test]
    fn an_earlier_output_with_a_user_file_added_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let files = vec![
            ("results.json".to_string(), b"{}".to_vec()),
            (MANIFEST.to_string(), manifest(&["results.json", MANIFEST])),
        ];
        write_folder(&out, &files).unwrap();
        // A rerun replaces its own output.
        write_folder(&out, &files).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = write_folder(&out, &files).unwrap_err();
        assert!(err.to_string().contains("1 file(s)"), "{err}");
        assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    }

    #[test]
    fn an_output_of_an_earlier_version_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let old = serde_json::json!({"tool": "via-eval 0.1.0"}).to_string();
        std::fs::write(out.join(MANIFEST), &old).unwrap();
        std::fs::write(out.join("km-x.png"), "png").unwrap();
        write_folder(&out, &[("a.txt".into(), b"x".to_vec())]).unwrap();
        assert!(!out.join("km-x.png").exists());
        std::fs::write(out.join(MANIFEST), &old).unwrap();
        std::fs::write(out.join("thesis.docx"), "mine").unwrap();
        assert!(write_folder(&out, &[("a.txt".into(), b"x".to_vec())]).is_err());
    }

    #[test]
    fn an_empty_folder_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("empty");
        std::fs::create_dir(&out).unwrap();
        write_folder(&out, &[("a.txt".into(), b"x".to_vec())]).unwrap();
        assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"x");
    }

    #[test]
    fn a_manifest_not_written_by_via_eval_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(
            out.join(MANIFEST),
            serde_json::json!({"tool": "other", "files": [MANIFEST]}).to_string(),
        )
        .unwrap();
        assert!(write_folder(&out, &[("a.txt".into(), b"x".to_vec())]).is_err());
        assert!(out.join(MANIFEST).exists());
    }
}
