//! Every file one run writes, checked to be distinct before anything
//! starts: a backup written to where an image then goes, or a database
//! that is also an image's destination, would be overwritten after the
//! commit (the only backup gone, the database a picture).

use std::path::{Component, Path, PathBuf};

use crate::database::Location;
use crate::{Error, Result};

/// A file the run writes (or reads and must not overwrite), and what it is.
#[derive(Debug, Clone)]
pub struct Written {
    pub what: String,
    pub path: PathBuf,
}

impl Written {
    pub fn new(what: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Written {
            what: what.into(),
            path: path.into(),
        }
    }
}

/// The database's own files, when it is a local file: the file and the
/// journal files the engine keeps beside it.
pub fn database_files(location: &Location) -> Vec<Written> {
    let Location::Local(path) = location else {
        return Vec::new();
    };
    let mut out = vec![Written::new("the database", path)];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        out.push(Written::new(
            format!("the database's {} file", &suffix[1..]),
            PathBuf::from(side),
        ));
    }
    out
}

/// Refuses (a usage error, nothing done yet) when two of `paths` are the
/// same file, or one would have to be a folder holding the other.
pub fn check_distinct(paths: &[Written]) -> Result<()> {
    let resolved: Vec<PathBuf> = paths.iter().map(|w| resolve(&w.path)).collect();
    for (i, a) in resolved.iter().enumerate() {
        for (j, b) in resolved.iter().enumerate().skip(i + 1) {
            let (first, second) = (&paths[i], &paths[j]);
            if a == b {
                return Err(Error::Usage(format!(
                    "{} and {} are the same file ({}): one would overwrite the other; \
                     choose another path for one of them",
                    first.what,
                    second.what,
                    first.path.display()
                )));
            }
            let (outer, inner) = if b.starts_with(a) {
                (first, second)
            } else if a.starts_with(b) {
                (second, first)
            } else {
                continue;
            };
            return Err(Error::Usage(format!(
                "{} ({}) would have to be a folder holding {} ({}); choose another path for one of them",
                outer.what,
                outer.path.display(),
                inner.what,
                inner.path.display()
            )));
        }
    }
    Ok(())
}

/// An absolute path naming the same file: its longest existing part with
/// links resolved, the rest added with `.` and `..` applied, so two
/// spellings of one file compare equal before either exists.
fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let parts: Vec<Component<'_>> = absolute.components().collect();
    // The longest prefix that exists, resolved by the file system.
    for keep in (1..=parts.len()).rev() {
        let head: PathBuf = parts[..keep].iter().collect();
        if let Ok(real) = head.canonicalize() {
            let mut out = real;
            for c in &parts[keep..] {
                match c {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other.as_os_str()),
                }
            }
            return out;
        }
    }
    absolute
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_spellings_of_one_file_clash_and_distinct_files_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("static")).unwrap();
        std::os::unix::fs::symlink(d.join("static"), d.join("link")).unwrap();
        let clash = check_distinct(&[
            Written::new("the backup", d.join("link/a/../b.png")),
            Written::new("image b.png", d.join("static/./b.png")),
        ])
        .unwrap_err();
        assert!(matches!(clash, Error::Usage(_)), "{clash}");
        assert!(
            clash
                .to_string()
                .contains("the backup and image b.png are the same file"),
            "{clash}"
        );

        let folder = check_distinct(&[
            Written::new("the backup", d.join("static/figuren")),
            Written::new("image figuren/x.png", d.join("static/figuren/x.png")),
        ])
        .unwrap_err();
        assert!(
            folder
                .to_string()
                .contains("would have to be a folder holding"),
            "{folder}"
        );

        check_distinct(&[
            Written::new("the backup", d.join("exports/b.sql")),
            Written::new("image b.png", d.join("static/b.png")),
        ])
        .unwrap();
    }

    #[test]
    fn a_database_brings_its_journal_files() {
        let files = database_files(&Location::Local(PathBuf::from("app.db")));
        let names: Vec<String> = files.iter().map(|w| w.path.display().to_string()).collect();
        assert_eq!(
            names,
            ["app.db", "app.db-wal", "app.db-shm", "app.db-journal"]
        );
    }
}
