//! Writing files so that nothing is ever half-written, silently replaced or left behind.
//!
//! An [`OutputFile`] is reserved before the work that fills it: the target is checked
//! (its directory exists; it is absent, or a regular file and replacing was asked for)
//! and a hidden temporary file is created beside it, so a bad path fails at once rather
//! than after a long fit. The bytes go to the temporary file, are flushed to disk, and
//! the file is moved into place: readers see the old file or the new one, never a
//! partial one. A temporary file is removed when its output is dropped unfinished, and
//! [`remove_unfinished_outputs`] removes those of writes in progress for a signal
//! handler.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::io_error;
use crate::error::{RbigError, Result};

/// Temporary files of outputs not yet committed or dropped.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The list of unfinished outputs; a panic while it was held leaves it usable (it is a
/// list of paths, never half-updated).
fn unfinished() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes the temporary files of every output being written, for a handler of
/// SIGINT or SIGTERM to call before the process exits (the `rbig` tool does). Outputs
/// already in place are untouched.
///
/// ```
/// rbig::io::remove_unfinished_outputs(); // nothing in progress: nothing happens
/// ```
pub fn remove_unfinished_outputs() {
    for path in unfinished().drain(..) {
        let _ = fs::remove_file(path);
    }
}

fn forget(temp: &Path) {
    unfinished().retain(|p| p != temp);
}

fn refused(path: &Path, reason: &str) -> RbigError {
    io_error(path, std::io::Error::new(std::io::ErrorKind::InvalidInput, reason))
}

/// A target that exists but is not a regular file.
fn not_regular(path: &Path) -> RbigError {
    refused(path, "not a regular file (a device, FIFO or link): refusing to replace it")
}

/// An output file reserved before it is written: see the module documentation.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("rbig-doc-output-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let out = rbig::io::OutputFile::create(dir.join("x.csv"), false)?; // checked now
/// out.commit(b"1,2\n")?; // in place, whole
/// assert!(rbig::io::OutputFile::create(dir.join("x.csv"), false).is_err()); // never replaced unasked
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OutputFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<fs::File>,
    overwrite: bool,
}

impl OutputFile {
    /// Reserves `path`.
    ///
    /// # Errors
    /// [`RbigError::FileExists`] if `path` exists and `overwrite` is false;
    /// [`RbigError::Io`] naming `path` if its directory does not exist or cannot be
    /// written, if it is a directory, or if it exists and is not a regular file (a
    /// device, a FIFO or a symbolic link is never replaced by a regular file).
    pub fn create(path: impl AsRef<Path>, overwrite: bool) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(refused(&target, &format!("{} is not a directory", dir.display()))),
            Err(_) => return Err(refused(&target, &format!("the directory {} does not exist", dir.display()))),
        }
        match fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => return Err(refused(&target, "is a directory; give a file name")),
            Ok(m) if !m.file_type().is_file() => return Err(not_regular(&target)),
            Ok(_) if !overwrite => return Err(RbigError::FileExists(target)),
            _ => {}
        }
        // A short name of its own (a long target name would not fit twice), unique even
        // beside the leftovers of a killed process with the same pid.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let mut attempt = 0;
        loop {
            let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".rbig-{}-{nanos:08x}-{unique}.tmp", std::process::id()));
            match fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    unfinished().push(temp.clone());
                    return Ok(Self { target, temp, file: Some(file), overwrite });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 64 => attempt += 1,
                Err(e) => return Err(io_error(&target, e)),
            }
        }
    }

    /// The path the output goes to.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Writes `bytes` and moves them into place. A replaced file keeps its permissions.
    ///
    /// # Errors
    /// [`RbigError::Io`] naming the target if writing fails (the temporary file is then
    /// removed); [`RbigError::FileExists`] if, without `overwrite`, the target appeared
    /// since [`OutputFile::create`].
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let target = self.target.clone();
        let mut file = self.file.take().expect("an output is committed once");
        file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| io_error(&target, e))?;
        drop(file);
        if self.overwrite {
            if let Ok(m) = fs::symlink_metadata(&target) {
                if !m.file_type().is_file() {
                    return Err(not_regular(&target));
                }
                fs::set_permissions(&self.temp, m.permissions()).map_err(|e| io_error(&target, e))?;
            }
            fs::rename(&self.temp, &target).map_err(|e| io_error(&target, e))?;
        } else {
            // A hard link fails if the target exists, so a file created since `create`
            // is still never clobbered.
            match fs::hard_link(&self.temp, &target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(RbigError::FileExists(target)),
                // Filesystems without hard links: fall back to check-then-rename.
                Err(_) if fs::symlink_metadata(&target).is_err() => {
                    fs::rename(&self.temp, &target).map_err(|e| io_error(&target, e))?
                }
                Err(e) => return Err(io_error(&target, e)),
            }
        }
        Ok(())
    }
}

impl Drop for OutputFile {
    /// Removes the temporary file (after a commit, the hard link's leftover name).
    fn drop(&mut self) {
        self.file = None;
        let _ = fs::remove_file(&self.temp);
        forget(&self.temp);
    }
}

/// Writes `bytes` to `path` atomically (see [`OutputFile`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    OutputFile::create(path, overwrite)?.commit(bytes)
}
