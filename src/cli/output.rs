//! Writing an output folder all at once: files go to a temporary sibling folder that is
//! renamed into place only when every file is written, so an interrupted run leaves
//! the previous results intact and never a half-written set.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Write `files` (name, bytes) as the complete contents of `dir`, replacing an
/// earlier output folder of the same name.
pub fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| Error::io(&parent, format!("cannot create the output folder: {e}")))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| Error::usage(format!("{} is not a folder name", dir.display())))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)
        .map_err(|e| Error::io(&tmp, format!("cannot create a temporary folder: {e}")))?;
    for (n, bytes) in files {
        let p = tmp.join(n);
        if let Err(e) = std::fs::write(&p, bytes) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(Error::io(&p, format!("cannot write: {e}")));
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
            .map_err(|e| Error::io(dir, format!("cannot replace the earlier output: {e}")))?;
    }
    if let Err(e) = std::fs::rename(&tmp, dir) {
        // Put the earlier output back.
        if old.exists() {
            let _ = std::fs::rename(&old, dir);
        }
        return Err(Error::io(
            dir,
            format!("cannot move the new output into place: {e}"),
        ));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
