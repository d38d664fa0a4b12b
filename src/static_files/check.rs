//! Checking the files: which of them are missing or do not hold their
//! bytes any more. Changes nothing.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{StaticError, StaticFile, root_is_folder, validate};
use crate::hex::encode as hex;

/// A file in the static folder that does not hold what it should.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The file's relative path, as listed.
    pub path: String,
    /// Where it was looked for (root joined with `path`).
    pub location: PathBuf,
    pub problem: Problem,
}

/// How a [`Mismatch`] differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No file there.
    Missing,
    /// A file with other bytes: both SHA-256 sums (hex) and sizes.
    Differs {
        expected_sha256: String,
        found_sha256: String,
        expected_len: u64,
        found_len: u64,
    },
    /// Something else is there: "a symbolic link", "a directory", ….
    NotAFile(&'static str),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.location.display();
        match &self.problem {
            Problem::Missing => write!(f, "{at}: missing"),
            Problem::Differs {
                expected_sha256,
                found_sha256,
                expected_len,
                found_len,
            } => write!(
                f,
                "{at}: differs from the embedded file ({found_len} bytes, sha256 {} on disk; \
                 {expected_len} bytes, sha256 {} embedded)",
                short(found_sha256),
                short(expected_sha256)
            ),
            Problem::NotAFile(what) => write!(f, "{at}: is {what}, not the embedded file"),
        }
    }
}

/// The first 12 hex digits of a SHA-256, enough to tell two apart.
fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Names every listed file below `root` that is missing or does not hold its
/// bytes (compared by SHA-256), in the order listed. A missing root means
/// every file is missing. Changes nothing.
pub fn check_all(root: &Path, files: &[StaticFile]) -> Result<Vec<Mismatch>, StaticError> {
    validate(files)?;
    let root_exists = root_is_folder(root)?;
    let mut out = Vec::new();
    for f in files {
        let location = root.join(f.path);
        let mismatch = |problem| Mismatch {
            path: f.path.to_owned(),
            location: location.clone(),
            problem,
        };
        if !root_exists {
            out.push(mismatch(Problem::Missing));
            continue;
        }
        let meta = match fs::symlink_metadata(&location) {
            Ok(m) => m,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                out.push(mismatch(Problem::Missing));
                continue;
            }
            Err(source) => return Err(StaticError::Read { location, source }),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            out.push(mismatch(Problem::NotAFile("a symbolic link")));
        } else if kind.is_dir() {
            out.push(mismatch(Problem::NotAFile("a directory")));
        } else if !kind.is_file() {
            out.push(mismatch(Problem::NotAFile("a special file")));
        } else {
            let found = sha256_file(&location)?;
            let expected = hex(&Sha256::digest(f.bytes));
            if found.0 != expected {
                out.push(mismatch(Problem::Differs {
                    expected_sha256: expected,
                    found_sha256: found.0,
                    expected_len: f.bytes.len() as u64,
                    found_len: found.1,
                }));
            }
        }
    }
    Ok(out)
}

/// A file's SHA-256 (hex) and size, read in pieces.
fn sha256_file(path: &Path) -> Result<(String, u64), StaticError> {
    let read = |source| StaticError::Read {
        location: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read(e)),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex(&hasher.finalize()), len))
}
