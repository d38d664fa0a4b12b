//! Writing the files: every one whole or not at all, never through a
//! symbolic link, and nothing changed before every path has been checked.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::{StaticError, StaticFile, root_is_folder, validate};
use crate::atomic_file::AtomicFile;

/// What [`write_all`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// The folder the files went to, as given.
    pub root: PathBuf,
    /// Files written (new, or replacing different bytes).
    pub written: usize,
    /// Files that already held exactly the bytes, left alone.
    pub unchanged: usize,
    /// The size of all the files, written or unchanged.
    pub total_bytes: u64,
}

/// Writes every file below `root` (created if absent). See the module
/// documentation for the rules; on an error, files already written stay
/// (each one complete), the one in progress is untouched, and no temporary
/// file is left behind.
pub fn write_all(root: &Path, files: &[StaticFile]) -> Result<WriteReport, StaticError> {
    write_all_with(root, files, &mut |_| Ok(()))
}

/// [`write_all`], calling `before_rename` with each temporary file once it is
/// complete (tests inject a failure there).
pub(super) fn write_all_with(
    root: &Path,
    files: &[StaticFile],
    before_rename: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<WriteReport, StaticError> {
    let parts = validate(files)?;
    if !root_is_folder(root)? {
        fs::create_dir_all(root).map_err(|source| StaticError::Write {
            action: "create the folder",
            location: root.to_owned(),
            source,
        })?;
    }
    // Everything that is already there is checked before anything changes.
    for p in &parts {
        preflight(root, p)?;
    }
    let mut report = WriteReport {
        root: root.to_owned(),
        written: 0,
        unchanged: 0,
        total_bytes: 0,
    };
    for (f, p) in files.iter().zip(&parts) {
        let dir = make_folders(root, &p[..p.len() - 1])?;
        let dest = dir.join(p[p.len() - 1]);
        report.total_bytes += f.bytes.len() as u64;
        if holds(&dest, f.bytes)? {
            report.unchanged += 1;
        } else {
            replace(&dir, &dest, f.bytes, before_rename)?;
            report.written += 1;
        }
    }
    Ok(report)
}

/// Everything [`write_all`] checks before it writes, without writing or
/// creating anything: the paths, the root (a directory, or absent below an
/// existing folder), and no symbolic link or non-folder on the way to any
/// destination. Run before a change that cannot be undone, so that only the
/// writing itself (permissions, a full disk) can still fail after it.
pub fn check_writable(root: &Path, files: &[StaticFile]) -> Result<(), StaticError> {
    let parts = validate(files)?;
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(StaticError::RootNotDirectory {
                root: root.to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            return Err(StaticError::Write {
                action: "create the folder",
                location: root.to_owned(),
                source: e,
            });
        }
        Err(source) => {
            return Err(StaticError::Read {
                location: root.to_owned(),
                source,
            });
        }
    }
    for p in &parts {
        preflight(root, p)?;
    }
    Ok(())
}

/// Refuses a symbolic link or a non-folder on the way to a destination, and
/// anything but a regular file at it.
fn preflight(root: &Path, parts: &[&str]) -> Result<(), StaticError> {
    let mut at = root.to_owned();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let last = i + 1 == parts.len();
        let meta = match fs::symlink_metadata(&at) {
            Ok(m) => m,
            // Nothing there, nor below: it will be created.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(StaticError::Read {
                    location: at,
                    source,
                });
            }
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err(StaticError::Symlink { location: at });
        }
        let fits = if last { kind.is_file() } else { kind.is_dir() };
        if !fits {
            let what = if kind.is_dir() {
                "a directory"
            } else if kind.is_file() {
                "a file"
            } else {
                "a special file"
            };
            return Err(StaticError::InTheWay { location: at, what });
        }
    }
    Ok(())
}

/// Creates the folders `parts` below `root`, one at a time, refusing any
/// that is (or became) a symbolic link. Returns the innermost folder.
fn make_folders(root: &Path, parts: &[&str]) -> Result<PathBuf, StaticError> {
    let mut at = root.to_owned();
    for part in parts {
        at.push(part);
        match fs::create_dir(&at) {
            Ok(()) => {
                // The new entry itself must survive a crash.
                sync_dir(at.parent().unwrap_or(root))?;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(StaticError::Write {
                    action: "create the folder",
                    location: at,
                    source,
                });
            }
        }
        let meta = fs::symlink_metadata(&at).map_err(|source| StaticError::Read {
            location: at.clone(),
            source,
        })?;
        if meta.file_type().is_symlink() {
            return Err(StaticError::Symlink { location: at });
        }
        if !meta.is_dir() {
            return Err(StaticError::InTheWay {
                location: at,
                what: "a file",
            });
        }
    }
    Ok(at)
}

/// Whether `dest` is a regular file holding exactly `bytes` (a symbolic link
/// never is; it is refused).
fn holds(dest: &Path, bytes: &[u8]) -> Result<bool, StaticError> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(StaticError::Read {
                location: dest.to_owned(),
                source,
            });
        }
    };
    if meta.file_type().is_symlink() {
        return Err(StaticError::Symlink {
            location: dest.to_owned(),
        });
    }
    if !meta.is_file() {
        return Err(StaticError::InTheWay {
            location: dest.to_owned(),
            what: if meta.is_dir() {
                "a directory"
            } else {
                "a special file"
            },
        });
    }
    if meta.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let read = |source| StaticError::Read {
        location: dest.to_owned(),
        source,
    };
    let mut current = Vec::with_capacity(bytes.len());
    File::open(dest)
        .and_then(|mut f| f.read_to_end(&mut current))
        .map_err(read)?;
    Ok(current == bytes)
}

/// Writes `bytes` to `dest` whole or not at all (a temporary file in `dir`,
/// flushed, renamed over `dest`: see [`AtomicFile`]).
fn replace(
    dir: &Path,
    dest: &Path,
    bytes: &[u8],
    before_rename: &mut dyn FnMut(&Path) -> io::Result<()>,
) -> Result<(), StaticError> {
    debug_assert_eq!(dest.parent(), Some(dir));
    let failed = |source| StaticError::Write {
        action: "write",
        location: dest.to_owned(),
        source,
    };
    let mut file = AtomicFile::create(dest, true).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.finish_with(true, before_rename).map_err(|source| {
        if fs::symlink_metadata(dest).is_ok_and(|m| m.file_type().is_symlink()) {
            StaticError::Symlink {
                location: dest.to_owned(),
            }
        } else {
            failed(source)
        }
    })
}

/// Flushes a folder's entries (a new or renamed file's name) to disk.
fn sync_dir(dir: &Path) -> Result<(), StaticError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StaticError::Write {
            action: "flush the folder",
            location: dir.to_owned(),
            source,
        })
}
