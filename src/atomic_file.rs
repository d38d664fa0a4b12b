//! Files written whole or not at all: the bytes go to a temporary file
//! beside the destination, are flushed to disk, and only then take the
//! destination's name. A crash or an error leaves the destination as it
//! was; the temporary file is removed on every path this process controls.
//! `tempfile` makes, names and removes the temporary file; what it does
//! not do is here: the checks on the destination, and the flushes of the
//! file and its folder that make the name durable.
//!
//! The one implementation behind `dump --output`, the automatic backups and
//! the figure images written into the app's static folder.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written; [`AtomicFile::finish`] puts it in place. The
/// temporary file (`tempfile`'s) is removed when this is dropped unfinished.
pub struct AtomicFile {
    path: PathBuf,
    writer: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path`, creating its folder if need be. The name is
    /// checked now (not only at the end) so a refusal costs nothing.
    pub fn create(path: &Path, replace: bool) -> io::Result<AtomicFile> {
        if let Ok(meta) = fs::symlink_metadata(path) {
            if meta.file_type().is_symlink() {
                return Err(symlink_refused());
            }
            if meta.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "a directory has that name",
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
        // Beside the destination, so that naming it is a rename on one file
        // system. tempfile's default mode is 0600; the file gets the mode a
        // plain `File::create` gives (the umask decides), since an app's
        // web server reads the images and an operator the dumps.
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .permissions(fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)?;
        Ok(AtomicFile {
            path: path.to_owned(),
            writer: BufWriter::with_capacity(1 << 16, tmp),
        })
    }

    /// Flushes the bytes to disk and gives the file its name. Without
    /// `replace`, an existing file at the destination (one that appeared
    /// meanwhile included) is left alone and this fails.
    pub fn finish(self, replace: bool) -> io::Result<()> {
        self.finish_with(replace, &mut |_| Ok(()))
    }

    /// [`AtomicFile::finish`], calling `before_rename` with the complete
    /// temporary file just before it takes its name (tests inject a failure
    /// there).
    pub(crate) fn finish_with(
        self,
        replace: bool,
        before_rename: &mut dyn FnMut(&Path) -> io::Result<()>,
    ) -> io::Result<()> {
        let tmp = self.writer.into_inner().map_err(|e| e.into_error())?;
        // tempfile names the file but promises nothing about the disk: the
        // bytes must be there before the name is.
        tmp.as_file().sync_all()?;
        before_rename(tmp.path())?;
        if replace {
            // The destination may have become a link since `create`; a
            // rename would replace the link, not write through it, but a
            // link there is someone's choice, so it is left alone.
            if fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(symlink_refused());
            }
            tmp.persist(&self.path).map_err(|e| e.error)?;
        } else {
            // Never replaces the destination, nor follows a link there: the
            // check and the naming are one step.
            tmp.persist_noclobber(&self.path).map_err(|e| e.error)?;
        }
        // The new name must survive a crash too. Best effort: some file
        // systems cannot flush a folder, and the file is in place already.
        if let Ok(dir) = File::open(folder_of(&self.path)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// The temporary file's path, for messages.
    pub fn temporary_path(&self) -> &Path {
        self.writer.get_ref().path()
    }
}

fn symlink_refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "it is a symbolic link, which seedbake never writes through",
    )
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
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
    fn a_link_that_appears_before_the_rename_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.png");
        let outside = dir.path().join("outside.png");
        fs::write(&outside, b"precious").unwrap();
        let mut f = AtomicFile::create(&path, true).unwrap();
        f.write_all(b"new").unwrap();
        let err = f
            .finish_with(true, &mut |_| std::os::unix::fs::symlink(&outside, &path))
            .unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(
            fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&outside).unwrap(), b"precious");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn files_written_side_by_side_get_their_own_temporary_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("same.sql");
        let a = AtomicFile::create(&path, true).unwrap();
        let b = AtomicFile::create(&path, true).unwrap();
        assert_ne!(a.temporary_path(), b.temporary_path());
        assert_eq!(a.temporary_path().parent(), Some(dir.path()));
        drop((a, b));
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_finished_file_has_the_mode_a_plain_file_gets() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let path = dir.path().join("img.png");
        AtomicFile::create(&path, false)
            .unwrap()
            .finish(false)
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&path), mode(&plain));
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
