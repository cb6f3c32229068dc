//! Writing files so that nothing is ever half-written or silently replaced.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{RbigError, Result};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RbigError + '_ {
    move |source| RbigError::Io { path: path.to_path_buf(), source }
}

/// A temporary file beside `path`, removed on drop unless persisted.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory,
/// flushed to disk, then moved into place. Readers see the old file or the new one,
/// never a partial one. Without `overwrite`, an existing `path` is left untouched and
/// reported as [`RbigError::FileExists`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| RbigError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
    })?;
    if !overwrite && path.exists() {
        return Err(RbigError::FileExists(path.to_path_buf()));
    }
    let tmp_path = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let mut tmp = TempFile(Some(tmp_path.clone()));
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp_path).map_err(io_err(&tmp_path))?;
    file.write_all(bytes).map_err(io_err(&tmp_path))?;
    file.sync_all().map_err(io_err(&tmp_path))?;
    drop(file);
    if overwrite {
        fs::rename(&tmp_path, path).map_err(io_err(path))?;
    } else {
        // A hard link fails if the target exists, so a file created after the check
        // above is still never clobbered.
        match fs::hard_link(&tmp_path, path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(RbigError::FileExists(path.to_path_buf()));
            }
            // Filesystems without hard links: fall back to check-then-rename.
            Err(_) if !path.exists() => fs::rename(&tmp_path, path).map_err(io_err(path))?,
            Err(e) => return Err(RbigError::Io { path: path.to_path_buf(), source: e }),
        }
        let _ = fs::remove_file(&tmp_path);
    }
    tmp.0 = None;
    Ok(())
}
