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

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::atomic_file::AtomicFile;
use crate::hex::encode as hex;

/// One file to deliver: where below the root, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticFile<'a> {
    /// Relative and `/`-separated, e.g. `figuren/images/f01.png`.
    pub path: &'a str,
    pub bytes: &'a [u8],
}

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

/// Writes every file below `root` (created if absent). See the module
/// documentation for the rules; on an error, files already written stay
/// (each one complete), the one in progress is untouched, and no temporary
/// file is left behind.
pub fn write_all(root: &Path, files: &[StaticFile]) -> Result<WriteReport, StaticError> {
    write_all_with(root, files, &mut |_| Ok(()))
}

/// [`write_all`], calling `before_rename` with each temporary file once it is
/// complete (tests inject a failure there).
fn write_all_with(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    const F01: StaticFile = StaticFile {
        path: "figuren/images/f01.png",
        bytes: b"\x89PNG first picture",
    };
    const F02: StaticFile = StaticFile {
        path: "figuren/images/f02.png",
        bytes: b"\xff\xd8\xff a jpeg in disguise",
    };
    const TOP: StaticFile = StaticFile {
        path: "top.txt",
        bytes: b"",
    };

    fn files() -> Vec<StaticFile<'static>> {
        vec![F01, F02, TOP]
    }

    /// Every entry below `dir`, recursively, as relative paths.
    fn listing(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let p = e.path();
                out.push(p.strip_prefix(base).unwrap().display().to_string());
                if e.file_type().unwrap().is_dir() {
                    walk(base, &p, out);
                }
            }
        }
        if dir.exists() {
            walk(dir, dir, &mut out);
        }
        out.sort();
        out
    }

    #[test]
    fn files_round_trip_and_check_clean() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        let report = write_all(&root, &files()).unwrap();
        assert_eq!(
            report,
            WriteReport {
                root: root.clone(),
                written: 3,
                unchanged: 0,
                total_bytes: (F01.bytes.len() + F02.bytes.len()) as u64,
            }
        );
        for f in files() {
            assert_eq!(fs::read(root.join(f.path)).unwrap(), f.bytes, "{}", f.path);
        }
        // Nothing else: no temporary file left over.
        assert_eq!(
            listing(&root),
            [
                "figuren",
                "figuren/images",
                "figuren/images/f01.png",
                "figuren/images/f02.png",
                "top.txt"
            ]
        );
        assert_eq!(check_all(&root, &files()).unwrap(), []);
    }

    #[test]
    fn identical_files_are_left_alone_and_different_ones_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write_all(root, &files()).unwrap();
        let inode = |p: &str| fs::metadata(root.join(p)).unwrap().ino();
        let before = (inode(F01.path), inode(F02.path));

        let again = write_all(root, &files()).unwrap();
        assert_eq!((again.written, again.unchanged), (0, 3));
        assert_eq!((inode(F01.path), inode(F02.path)), before);

        // Same size, other bytes; and a shorter file.
        let mut changed = F01.bytes.to_vec();
        changed[0] ^= 1;
        fs::write(root.join(F01.path), &changed).unwrap();
        fs::write(root.join(F02.path), b"x").unwrap();
        let repair = write_all(root, &files()).unwrap();
        assert_eq!((repair.written, repair.unchanged), (2, 1));
        assert_eq!(fs::read(root.join(F01.path)).unwrap(), F01.bytes);
        assert_eq!(fs::read(root.join(F02.path)).unwrap(), F02.bytes);
        assert_ne!(
            inode(F01.path),
            before.0,
            "replaced by rename, not rewritten"
        );
    }

    #[test]
    fn bad_paths_are_refused_before_anything_is_written() {
        for (path, reason) in [
            ("../x.png", "'..'"),
            ("figuren/../../x.png", "'..'"),
            ("/etc/x.png", "absolute"),
            ("", "empty"),
            ("figuren//x.png", "empty component"),
            ("figuren/", "empty component"),
            ("./x.png", "'.'"),
            ("x\0.png", "NUL"),
            ("figuren\\x.png", "backslash"),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("static");
            // A valid file first: it must not be written either.
            let list = [
                F01,
                StaticFile {
                    path,
                    bytes: b"evil",
                },
            ];
            let err = write_all(&root, &list).unwrap_err();
            assert!(
                matches!(err, StaticError::InvalidPath { .. }),
                "{path:?}: {err}"
            );
            let msg = err.to_string();
            assert!(msg.contains(reason), "{path:?}: {msg}");
            assert!(msg.contains(&format!("{path:?}")), "{msg}");
            assert!(!root.exists(), "{path:?}: something was written");
            assert!(!tmp.path().join("x.png").exists());
            assert!(matches!(
                check_all(&root, &list),
                Err(StaticError::InvalidPath { .. })
            ));
        }
        // Twice the same path, or a path that is another's folder.
        for list in [
            [F01, F01],
            [
                F01,
                StaticFile {
                    path: "figuren/images",
                    bytes: b"",
                },
            ],
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let err = write_all(tmp.path(), &list).unwrap_err();
            assert!(matches!(err, StaticError::InvalidPath { .. }), "{err}");
            assert!(listing(tmp.path()).is_empty());
        }
    }

    #[test]
    fn a_symlinked_destination_is_refused_and_not_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        let outside = tmp.path().join("outside.png");
        fs::write(&outside, b"precious").unwrap();
        fs::create_dir_all(root.join("figuren/images")).unwrap();
        symlink(&outside, root.join(F01.path)).unwrap();

        let err = write_all(&root, &files()).unwrap_err();
        assert!(matches!(err, StaticError::Symlink { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("static/figuren/images/f01.png"), "{msg}");
        assert!(msg.contains("symbolic link"), "{msg}");
        assert_eq!(fs::read(&outside).unwrap(), b"precious");
        assert!(
            fs::symlink_metadata(root.join(F01.path))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // Refused before anything was written, the other files included.
        assert!(!root.join(F02.path).exists());
        assert!(!root.join(TOP.path).exists());

        // check_all names it too.
        let found = check_all(&root, &[F01]).unwrap();
        assert_eq!(found[0].problem, Problem::NotAFile("a symbolic link"));
        assert!(found[0].to_string().contains("symbolic link"));
    }

    #[test]
    fn a_symlinked_folder_below_the_root_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::create_dir_all(&root).unwrap();
        symlink(&elsewhere, root.join("figuren")).unwrap();

        let err = write_all(&root, &files()).unwrap_err();
        assert!(matches!(err, StaticError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("static/figuren:"), "{err}");
        assert!(listing(&elsewhere).is_empty());
        assert!(!root.join(TOP.path).exists());
    }

    #[test]
    fn a_symlinked_root_is_the_callers_choice() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        let root = tmp.path().join("static");
        symlink(&real, &root).unwrap();
        assert_eq!(write_all(&root, &files()).unwrap().written, 3);
        assert_eq!(fs::read(real.join(F01.path)).unwrap(), F01.bytes);
    }

    #[test]
    fn a_root_that_is_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        fs::write(&root, b"not a folder").unwrap();
        for err in [
            write_all(&root, &files()).unwrap_err(),
            check_all(&root, &files()).unwrap_err(),
        ] {
            assert!(matches!(err, StaticError::RootNotDirectory { .. }), "{err}");
            let msg = err.to_string();
            assert!(
                msg.contains("static as the static folder: it is not a directory"),
                "{msg}"
            );
            assert!(msg.contains("--static-dir"), "{msg}");
        }
        assert_eq!(fs::read(&root).unwrap(), b"not a folder");
    }

    #[test]
    fn a_directory_or_file_in_the_way_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join(F01.path)).unwrap();
        let err = write_all(root, &[F01]).unwrap_err();
        assert!(
            err.to_string().contains("a directory is in the way"),
            "{err}"
        );

        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join("figuren"), b"a file where a folder goes").unwrap();
        let err = write_all(root, &[F01]).unwrap_err();
        assert!(matches!(err, StaticError::InTheWay { .. }), "{err}");
        assert!(
            err.to_string().contains("figuren: a file is in the way"),
            "{err}"
        );
        // check_all sees the file as missing.
        let found = check_all(root, &[F01]).unwrap();
        assert_eq!(found[0].problem, Problem::Missing);
    }

    #[test]
    fn permission_denied_is_named_with_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        fs::create_dir(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o555)).unwrap();
        // root (as in CI) writes to a read-only folder regardless.
        let privileged = fs::write(root.join("probe"), b"").is_ok();
        let result = write_all(&root, &files());
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        if privileged {
            eprintln!("running with privileges: the folder's mode cannot refuse a write");
            // The same error, as it would come from the system.
            let err = StaticError::Write {
                action: "write",
                location: root.join(F01.path),
                source: io::Error::from(io::ErrorKind::PermissionDenied),
            };
            assert_eq!(
                err.to_string(),
                format!(
                    "cannot write {}/figuren/images/f01.png: permission denied; \
                     choose a writable --static-dir or pass --no-images",
                    root.display()
                )
            );
            // And a real failure to create a folder: a path under a regular file.
            let blocker = tmp.path().join("blocker");
            fs::write(&blocker, b"").unwrap();
            let err = write_all(&blocker.join("static"), &files()).unwrap_err();
            assert!(matches!(err, StaticError::Write { .. }), "{err}");
            let msg = err.to_string();
            assert!(msg.contains("blocker/static"), "{msg}");
            assert!(msg.contains("not a directory"), "{msg}");
            assert!(msg.contains("--no-images"), "{msg}");
        } else {
            let err = result.unwrap_err();
            assert!(matches!(err, StaticError::Write { .. }), "{err}");
            let msg = err.to_string();
            assert!(msg.contains("static/figuren: permission denied"), "{msg}");
            assert!(msg.contains("--static-dir"), "{msg}");
            assert!(msg.contains("--no-images"), "{msg}");
            assert!(listing(&root).is_empty());
        }
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file_and_the_old_file_intact() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write_all(root, &files()).unwrap();
        fs::write(root.join(F02.path), b"old bytes").unwrap();
        let replacement = StaticFile {
            path: F02.path,
            bytes: b"new bytes, never to arrive",
        };
        let mut seen_temp = None;
        let err = write_all_with(root, &[F01, replacement], &mut |temp| {
            // The temporary file is complete and beside its destination.
            assert_eq!(fs::read(temp).unwrap(), replacement.bytes);
            assert_eq!(temp.parent(), root.join(F02.path).parent());
            seen_temp = Some(temp.to_owned());
            Err(io::Error::from(io::ErrorKind::StorageFull))
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("f02.png: no space left on device"),
            "{err}"
        );
        let temp = seen_temp.expect("the failure came after the temporary file");
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".f02.png.") && name.ends_with(".partial"),
            "{name}"
        );
        assert!(!temp.exists());
        assert_eq!(fs::read(root.join(F02.path)).unwrap(), b"old bytes");
        assert!(
            !listing(root).iter().any(|p| p.ends_with(".partial")),
            "{:?}",
            listing(root)
        );
    }

    #[test]
    fn check_writable_finds_what_write_all_would_refuse_without_writing() {
        let tmp = tempfile::tempdir().unwrap();
        // Absent: fine, and still absent.
        let root = tmp.path().join("static");
        check_writable(&root, &files()).unwrap();
        assert!(!root.exists());
        // Below a file: it could never be created.
        let blocker = tmp.path().join("blocker");
        fs::write(&blocker, b"").unwrap();
        let err = check_writable(&blocker.join("static"), &files()).unwrap_err();
        assert!(matches!(err, StaticError::Write { .. }), "{err}");
        assert!(err.to_string().contains("not a directory"), "{err}");
        // A file as the root.
        let err = check_writable(&blocker, &files()).unwrap_err();
        assert!(matches!(err, StaticError::RootNotDirectory { .. }), "{err}");
        // A file where a folder goes, and a link at a destination.
        fs::create_dir(&root).unwrap();
        fs::write(root.join("figuren"), b"").unwrap();
        let err = check_writable(&root, &files()).unwrap_err();
        assert!(matches!(err, StaticError::InTheWay { .. }), "{err}");
        fs::remove_file(root.join("figuren")).unwrap();
        fs::create_dir_all(root.join("figuren/images")).unwrap();
        symlink(&blocker, root.join(F02.path)).unwrap();
        let err = check_writable(&root, &files()).unwrap_err();
        assert!(matches!(err, StaticError::Symlink { .. }), "{err}");
        fs::remove_file(root.join(F02.path)).unwrap();
        // A bad path, before anything else.
        let bad = [StaticFile {
            path: "../x",
            bytes: b"",
        }];
        assert!(matches!(
            check_writable(&root, &bad),
            Err(StaticError::InvalidPath { .. })
        ));
        // Clean: and it wrote nothing.
        check_writable(&root, &files()).unwrap();
        assert_eq!(listing(&root), ["figuren", "figuren/images"]);
    }

    #[test]
    fn check_all_names_missing_and_differing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        // No folder at all: everything is missing.
        let found = check_all(&root, &files()).unwrap();
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|m| m.problem == Problem::Missing));
        assert!(!root.exists(), "check_all creates nothing");

        write_all(&root, &files()).unwrap();
        fs::remove_file(root.join(F01.path)).unwrap();
        fs::write(root.join(F02.path), b"someone else's picture").unwrap();
        let found = check_all(&root, &files()).unwrap();
        let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 2, "{lines:?}");
        assert_eq!(found[0].path, F01.path);
        assert_eq!(found[0].problem, Problem::Missing);
        assert_eq!(
            lines[0],
            format!("{}: missing", root.join(F01.path).display())
        );
        assert_eq!(found[1].path, F02.path);
        let expected = hex(&Sha256::digest(F02.bytes));
        let on_disk = hex(&Sha256::digest(b"someone else's picture"));
        assert_eq!(
            found[1].problem,
            Problem::Differs {
                expected_sha256: expected.clone(),
                found_sha256: on_disk.clone(),
                expected_len: F02.bytes.len() as u64,
                found_len: 22,
            }
        );
        assert!(lines[1].starts_with(&format!(
            "{}: differs from the embedded file",
            root.join(F02.path).display()
        )));
        assert!(lines[1].contains(&on_disk[..12]) && lines[1].contains(&expected[..12]));

        // Repaired, it is clean again.
        write_all(&root, &files()).unwrap();
        assert_eq!(check_all(&root, &files()).unwrap(), []);
    }
}
