//! Files written whole or not at all: the bytes go to a temporary file
//! beside the destination, are flushed to disk, and only then take the
//! destination's name. A crash or an error leaves the destination as it
//! was; the temporary file is removed on every path this process controls.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file being written; [`AtomicFile::finish`] puts it in place.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path`, creating its folder if need be. The name is
    /// checked now (not only at the end) so a refusal costs nothing.
    pub fn create(path: &Path, replace: bool) -> io::Result<AtomicFile> {
        if let Ok(meta) = fs::symlink_metadata(path) {
            if meta.file_type().is_symlink() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it is a symbolic link, which seedbake never writes through",
                ));
            }
            if !replace || !meta.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it already exists, and seedbake never replaces a file it did not make",
                ));
            }
        }
        let dir = folder_of(path);
        fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
        let file = File::options().write(true).create_new(true).open(&tmp)?;
        Ok(AtomicFile {
            path: path.to_owned(),
            tmp,
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// Flushes the bytes to disk and gives the file its name. Without
    /// `replace`, an existing file at the destination (one that appeared
    /// meanwhile included) is left alone and this fails.
    pub fn finish(mut self, replace: bool) -> io::Result<()> {
        let writer = self.writer.take().expect("finished once");
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        if replace {
            fs::rename(&self.tmp, &self.path)?;
        } else {
            // A hard link never replaces its destination, nor follows a
            // symbolic link there: the check and the naming are one step.
            fs::hard_link(&self.tmp, &self.path)?;
            fs::remove_file(&self.tmp)?;
        }
        if let Ok(dir) = File::open(folder_of(&self.path)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The temporary file's path, for messages.
    pub fn temporary_path(&self) -> &Path {
        &self.tmp
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().expect("not finished").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().expect("not finished").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Finished or not, the temporary name must not stay behind.
        let _ = fs::remove_file(&self.tmp);
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial"))
            .collect()
    }

    #[test]
    fn a_finished_file_is_whole_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.sql");
        let mut f = AtomicFile::create(&path, false).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!path.exists(), "the name appears only when finished");
        f.finish(false).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello");
        assert!(leftovers(path.parent().unwrap()).is_empty());
    }

    #[test]
    fn an_abandoned_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.sql");
        let mut f = AtomicFile::create(&path, false).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert!(!path.exists());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn existing_files_and_links_are_never_replaced_without_leave() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("db.sqlite");
        fs::write(&existing, b"precious").unwrap();
        assert!(AtomicFile::create(&existing, false).is_err());
        let link = dir.path().join("link.sql");
        std::os::unix::fs::symlink(&existing, &link).unwrap();
        assert!(AtomicFile::create(&link, false).is_err());
        assert!(AtomicFile::create(&link, true).is_err());
        // A file that appears while the new one is written is kept too.
        let late = dir.path().join("late.sql");
        let mut f = AtomicFile::create(&late, false).unwrap();
        f.write_all(b"new").unwrap();
        fs::write(&late, b"theirs").unwrap();
        assert!(f.finish(false).is_err());
        assert_eq!(fs::read(&late).unwrap(), b"theirs");
        assert_eq!(fs::read(&existing).unwrap(), b"precious");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn replacing_is_allowed_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.png");
        fs::write(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path, true).unwrap();
        f.write_all(b"new").unwrap();
        f.finish(true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }
}
