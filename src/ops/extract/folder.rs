//! Where an extracted seed folder is assembled: a staging folder beside the
//! destination, renamed into place only once the folder is complete and
//! proven. Any failure or signal before that leaves nothing behind.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The staging folder; dropped without [`Staging::finish`], it is removed
/// with everything in it.
pub struct Staging {
    /// `<parent>/.<name>.extract-<pid>`, holding `<name>` (so messages about
    /// the folder name it as the destination is named).
    root: PathBuf,
    pub dir: PathBuf,
    out: PathBuf,
    replace: bool,
}

/// Refuses a destination that holds anything (unless `replace`) and starts
/// the staging folder beside it: both before the database is read.
pub fn start(out: &Path, replace: bool) -> Result<Staging> {
    let shown = out.display().to_string();
    match std::fs::symlink_metadata(out) {
        Ok(m) if !m.is_dir() => {
            return Err(Error::Usage(format!(
                "refusing to extract into {shown}: it exists and is not a folder"
            )));
        }
        Ok(_) if !replace && !is_empty_dir(out)? => {
            return Err(Error::Usage(format!(
                "refusing to extract into {shown}: the folder is not empty; choose a new folder, \
                 or give --replace to replace it once the new one is complete"
            )));
        }
        _ => {}
    }
    let name = out
        .file_name()
        .ok_or_else(|| Error::Usage(format!("--out {shown} does not name a folder")))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut root_name = std::ffi::OsString::from(".");
    root_name.push(name);
    root_name.push(format!(".extract-{}", std::process::id()));
    let root = parent.join(root_name);
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Output {
        path: root.display().to_string(),
        reason: format!("{e} (the new folder is assembled beside {shown})"),
    })?;
    Ok(Staging {
        root,
        dir,
        out: out.to_owned(),
        replace,
    })
}

fn is_empty_dir(dir: &Path) -> Result<bool> {
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::Output {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(entries.next().is_none())
}

impl Staging {
    /// Writes one file of the folder, its parent folders created.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(rel);
        let failed = |e: std::io::Error| Error::Output {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        std::fs::write(&path, bytes).map_err(failed)
    }

    /// Puts the folder in place: an empty destination gives way; a full one
    /// only with `replace`, and only now that the new folder is complete.
    pub fn finish(self) -> Result<()> {
        if let Some(signal) = crate::interrupt::requested() {
            return Err(Error::Interrupted {
                target: self.out.display().to_string(),
                step: "writing the seed folder".into(),
                reason: format!("{} received", signal.name()),
            });
        }
        let failed = |e: std::io::Error| Error::Output {
            path: self.out.display().to_string(),
            reason: e.to_string(),
        };
        let replaced = self.root.join("replaced");
        let mut moved_away = false;
        if self.out.is_dir() {
            if self.replace {
                std::fs::rename(&self.out, &replaced).map_err(failed)?;
                moved_away = true;
            } else {
                // Empty (checked at the start); one that filled up since is
                // not ours to remove, and this fails.
                std::fs::remove_dir(&self.out).map_err(failed)?;
            }
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.out) {
            // The old folder goes back before the staging folder, which
            // holds it, is removed.
            if moved_away {
                let _ = std::fs::rename(&replaced, &self.out);
            }
            return Err(failed(e));
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
