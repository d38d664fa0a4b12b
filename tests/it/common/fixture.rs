//! The seed fixtures of `tests/fixtures`, copied to be changed: a test
//! breaks or extends a copy, never the fixture.

use std::path::{Path, PathBuf};

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of `tests/fixtures/<name>` named `seed-data` (the folder name a
/// seed's messages show), changed by `edit`.
pub fn fixture_copy(name: &str, edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(&fixture(name), &dir);
    edit(&dir);
    (tmp, dir)
}

/// Replaces the first `from` in `dir/file` with `to`; `from` must be there,
/// so an edit that stopped matching fails the test rather than testing the
/// unchanged file.
#[track_caller]
pub fn edit_file(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Copies a folder (a seed fixture) with everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
