//! Files delivered into the app's static folder (the figure images), and the
//! check that they are still there, byte for byte.
//!
//! Self-contained: it knows nothing of the seed. A caller hands over a root
//! folder and a list of `(relative path, bytes)`; [`write_all`] puts every
//! file in place so that a crash never leaves a half-written one (temporary
//! file in the same folder, flushed to disk, renamed over the destination),
//! and [`check_all`] names the files that are missing or differ.
//!
//! Safety rules for writing:
//! - every path is checked before anything is written: relative,
//!   `/`-separated, no `..`, `.` or empty component, no NUL, no backslash,
//!   none listed twice;
//! - below the root, nothing is written through a symbolic link: a link at
//!   a destination or at any folder between the root and it is refused with
//!   an error (the root itself may be a link; the caller chose it);
//! - a destination that already holds exactly the bytes is left alone.

mod check;
mod write;

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use check::{Mismatch, Problem, check_all};
pub use write::{WriteReport, check_writable, write_all};

/// One file to deliver: where below the root, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticFile<'a> {
    /// Relative and `/`-separated, e.g. `figuren/images/f01.png`.
    pub path: &'a str,
    pub bytes: &'a [u8],
}

/// Why the files could not be written or checked. Every message names the
/// path and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StaticError {
    #[error(
        "static file path {path:?} is not allowed: {reason}; a path must be relative, \
         '/'-separated and stay inside the static folder (fix the path in the seed)"
    )]
    InvalidPath { path: String, reason: &'static str },
    #[error(
        "cannot use {} as the static folder: it is not a directory; \
         choose another --static-dir or pass --no-images",
        root.display()
    )]
    RootNotDirectory { root: PathBuf },
    #[error(
        "refusing to write {}: it is a symbolic link, and seedbake never writes through one; \
         remove the link or choose another --static-dir",
        location.display()
    )]
    Symlink { location: PathBuf },
    #[error(
        "cannot write {}: {what} is in the way; remove it or choose another --static-dir",
        location.display()
    )]
    InTheWay {
        location: PathBuf,
        what: &'static str,
    },
    #[error(
        "cannot {action} {}: {}; choose a writable --static-dir or pass --no-images",
        location.display(),
        describe(source)
    )]
    Write {
        action: &'static str,
        location: PathBuf,
        source: io::Error,
    },
    #[error(
        "cannot read {}: {}; check the static folder's permissions or choose another --static-dir",
        location.display(),
        describe(source)
    )]
    Read {
        location: PathBuf,
        source: io::Error,
    },
}

/// An I/O error in the words an operator expects ("permission denied").
fn describe(e: &io::Error) -> String {
    use io::ErrorKind as K;
    match e.kind() {
        K::PermissionDenied => "permission denied".into(),
        K::ReadOnlyFilesystem => "read-only file system".into(),
        K::StorageFull => "no space left on device".into(),
        K::QuotaExceeded => "disk quota exceeded".into(),
        K::NotFound => "no such file or directory".into(),
        K::NotADirectory => "a part of the path is not a directory".into(),
        _ => e.to_string(),
    }
}

/// Checks every path before anything is touched; returns each one's
/// components.
fn validate<'a>(files: &[StaticFile<'a>]) -> Result<Vec<Vec<&'a str>>, StaticError> {
    let invalid = |path: &str, reason| StaticError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    let mut seen = BTreeSet::new();
    let mut folders = BTreeSet::new();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let p = f.path;
        if let Some(reason) = seedbake_core::static_path::problem(p) {
            return Err(invalid(p, reason));
        }
        let parts: Vec<&str> = p.split('/').collect();
        if !seen.insert(p) {
            return Err(invalid(p, "it is listed twice"));
        }
        for n in 1..parts.len() {
            folders.insert(parts[..n].join("/"));
        }
        out.push(parts);
    }
    if let Some(p) = seen.iter().find(|p| folders.contains(**p)) {
        return Err(invalid(
            p,
            "it is listed as a file and as a folder of another file",
        ));
    }
    Ok(out)
}

/// Whether `root` is a folder (`false`: it is absent, or a file is in the
/// way of its path, which creating it will say); anything else that is not
/// a folder is refused.
fn root_is_folder(root: &Path) -> Result<bool, StaticError> {
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(true),
        Ok(_) => Err(StaticError::RootNotDirectory {
            root: root.to_owned(),
        }),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(false)
        }
        Err(source) => Err(StaticError::Read {
            location: root.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests;
