//! The figure images, delivered where the app serves them: the folder is
//! chosen (`--static-dir`, `SEEDBAKE_STATIC_DIR`, the seed's `[images]
//! static_dir`), checked before anything changes, written after the
//! database committed, and checked again by `verify`.
//!
//! The files themselves are written by [`crate::static_files`]: whole or not
//! at all, never through a symbolic link, left alone when already identical.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::paths::Written;
use crate::error::{Error, Result};
use crate::seed::{self, Image, Profile};
use crate::static_files::{self, Problem, StaticError, StaticFile};

/// The environment variable that names the static folder.
pub const STATIC_DIR_VAR: &str = "SEEDBAKE_STATIC_DIR";

/// Where the static folder was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `--static-dir`.
    Flag,
    /// `SEEDBAKE_STATIC_DIR`.
    Environment,
    /// The seed's `[images] static_dir`.
    SeedDefault,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Flag => "--static-dir",
            Source::Environment => STATIC_DIR_VAR,
            Source::SeedDefault => "the seed's default",
        }
    }
}

/// The app's static folder, as chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticDir {
    /// Absolute (made so from the working directory; links not resolved),
    /// so every message names the real place.
    pub path: PathBuf,
    pub source: Source,
}

impl StaticDir {
    fn shown(&self) -> String {
        self.path.display().to_string()
    }
}

/// The static folder for a command that writes the images: `flag`, else
/// `env` (the value of [`STATIC_DIR_VAR`]), else the seed's default. `None`
/// when this seed embeds no image.
pub fn choose(flag: Option<&Path>, env: Option<OsString>) -> Result<Option<StaticDir>> {
    if seed::get().images.is_empty() {
        return Ok(None);
    }
    let named = given(flag, env)?;
    let (path, source) = match (named, seed::get().static_dir) {
        (Some(n), _) => (n.path, n.source),
        (None, Some(d)) => (PathBuf::from(d), Source::SeedDefault),
        (None, None) => {
            return Err(Error::Usage(format!(
                "the seed embeds images but names no static folder: give --static-dir DIR (or set {STATIC_DIR_VAR}), \
                 or pass --no-images"
            )));
        }
    };
    Ok(Some(StaticDir {
        path: absolute(&path)?,
        source,
    }))
}

/// The static folder `verify` checks: only one the operator named (flag or
/// environment), never the seed's default.
pub fn chosen_for_check(flag: Option<&Path>, env: Option<OsString>) -> Result<Option<StaticDir>> {
    if seed::get().images.is_empty() {
        return Ok(None);
    }
    match given(flag, env)? {
        Some(d) => Ok(Some(StaticDir {
            path: absolute(&d.path)?,
            source: d.source,
        })),
        None => Ok(None),
    }
}

fn given(flag: Option<&Path>, env: Option<OsString>) -> Result<Option<StaticDir>> {
    if let Some(f) = flag {
        if f.as_os_str().is_empty() {
            return Err(Error::Usage("--static-dir is empty; give a folder".into()));
        }
        return Ok(Some(StaticDir {
            path: f.to_owned(),
            source: Source::Flag,
        }));
    }
    match env {
        Some(v) if v.is_empty() => Err(Error::Usage(format!(
            "{STATIC_DIR_VAR} is set but empty; unset it to use the seed's default, or give a folder"
        ))),
        Some(v) => Ok(Some(StaticDir {
            path: PathBuf::from(v),
            source: Source::Environment,
        })),
        None => Ok(None),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| {
        Error::Usage(format!(
            "cannot tell where the static folder {} is: {e}",
            path.display()
        ))
    })
}

/// The images a profile's rows name, each at its path below the static folder.
pub fn files(profile: &Profile) -> Vec<StaticFile<'static>> {
    seed::get()
        .images
        .iter()
        .filter(|i| profile.includes(i.table))
        .map(|i: &'static Image| StaticFile {
            path: i.path,
            bytes: i.bytes,
        })
        .collect()
}

/// Everything that can be checked before the database changes: the seed's
/// default folder must exist (elsewhere seedbake is not in the app's backend
/// folder, and the pictures would land where nothing serves them), the
/// folder must be a folder, and nothing below it may be a link or a file in
/// the way. A refusal here changes nothing.
pub fn check_before(dir: &StaticDir, profile: &Profile) -> Result<()> {
    if dir.source == Source::SeedDefault && !dir.path.is_dir() {
        return Err(Error::StaticFolder(format!(
            "the app's static folder {} (the seed's default, relative to the working directory) does not exist: \
             run seedbake in the app's backend folder, give --static-dir DIR (or set {STATIC_DIR_VAR}), \
             or pass --no-images to leave the images out",
            dir.shown()
        )));
    }
    static_files::check_writable(&dir.path, &files(profile)).map_err(|e| {
        Error::StaticFolder(format!(
            "{e} (static folder from {})",
            dir.source.describe()
        ))
    })
}

/// What happened to the images of a load.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    /// Every file is in place: `written` new or replaced, `unchanged` already
    /// holding exactly the bytes.
    Delivered {
        static_dir: String,
        source: Source,
        files: usize,
        written: usize,
        unchanged: usize,
        bytes: u64,
    },
    /// Left out on purpose.
    Skipped { reason: String },
    /// The writing failed (after the database committed, for a load).
    Failed {
        static_dir: String,
        source: Source,
        error: String,
    },
}

impl Delivery {
    pub fn failed(&self) -> bool {
        matches!(self, Delivery::Failed { .. })
    }
}

/// `seedbake images`: the profile's images written into the static folder
/// `flag` or `env` names (else the seed's default), once everything that
/// can be checked first has been; skipped when the seed embeds none.
pub fn deliver_chosen(
    flag: Option<&Path>,
    env: Option<OsString>,
    profile: &Profile,
) -> Result<Delivery> {
    let Some(dir) = choose(flag, env)? else {
        return Ok(Delivery::Skipped {
            reason: "this seed embeds no images".into(),
        });
    };
    check_before(&dir, profile)?;
    Ok(deliver(&dir, profile))
}

/// Writes the profile's images into the static folder.
pub fn deliver(dir: &StaticDir, profile: &Profile) -> Delivery {
    let files = files(profile);
    match static_files::write_all(&dir.path, &files) {
        Ok(r) => Delivery::Delivered {
            static_dir: dir.shown(),
            source: dir.source,
            files: files.len(),
            written: r.written,
            unchanged: r.unchanged,
            bytes: r.total_bytes,
        },
        Err(e) => Delivery::Failed {
            static_dir: dir.shown(),
            source: dir.source,
            error: e.to_string(),
        },
    }
}

/// What a load (`reset`, `seed`) does with the seed's images after its
/// commit, decided before the database changes.
pub enum ForLoad {
    /// The seed has none for this profile.
    None,
    Write(StaticDir),
    /// Left out, and why.
    Skip(String),
}

impl ForLoad {
    /// Where a load's images go, or why they are left out. The seed's
    /// default folder missing means seedbake does not run in the app's
    /// backend folder (a developer's checkout, a one-off machine): the
    /// database is still what was asked for, so the images are left out
    /// rather than the load refused; a folder the operator named must work.
    pub fn choose(
        no_images: bool,
        flag: Option<&Path>,
        env: Option<OsString>,
        profile: &Profile,
    ) -> Result<ForLoad> {
        if no_images {
            return Ok(ForLoad::Skip("--no-images".into()));
        }
        if files(profile).is_empty() {
            return Ok(ForLoad::None);
        }
        let Some(dir) = choose(flag, env)? else {
            return Ok(ForLoad::None);
        };
        if dir.source == Source::SeedDefault && !dir.path.is_dir() {
            return Ok(ForLoad::Skip(format!(
                "the app's static folder {} (the seed's default, relative to the working directory) is not here, \
                 so this is not the app's backend folder; give --static-dir DIR, or write them later with \
                 `{} images --static-dir DIR`",
                dir.path.display(),
                crate::program::name()
            )));
        }
        check_before(&dir, profile)?;
        Ok(ForLoad::Write(dir))
    }

    /// The files the images go to, for the check that no other file of
    /// the run is among them.
    pub fn writes(&self, profile: &Profile) -> Vec<Written> {
        let ForLoad::Write(dir) = self else {
            return Vec::new();
        };
        files(profile)
            .iter()
            .map(|f| Written::new(format!("the image {}", f.path), dir.path.join(f.path)))
            .collect()
    }

    /// Delivers the images; run only once the database committed: pictures
    /// of a seed that was rolled back would name rows that are not there.
    pub fn deliver(&self, profile: &Profile) -> Option<Delivery> {
        match self {
            ForLoad::Write(dir) => Some(deliver(dir, profile)),
            ForLoad::Skip(reason) => Some(Delivery::Skipped {
                reason: reason.clone(),
            }),
            ForLoad::None => None,
        }
    }
}

/// One image that is not as the build embedded it.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// Below the static folder, as the database names it.
    pub path: String,
    /// `missing`, `differs` or `not_a_file`.
    pub problem: &'static str,
    /// The whole line: where, and how it differs.
    pub detail: String,
}

/// What `verify` found in the static folder.
#[derive(Debug, Clone, Serialize)]
pub struct ImageCheck {
    pub static_dir: String,
    pub source: Source,
    /// How many images were checked.
    pub files: usize,
    pub mismatches: Vec<Mismatch>,
}

impl ImageCheck {
    pub fn matches(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Compares the images in the static folder with the embedded bytes.
/// Changes nothing.
pub fn check(dir: &StaticDir, profile: &Profile) -> Result<ImageCheck> {
    let files = files(profile);
    let found = static_files::check_all(&dir.path, &files).map_err(|e| match e {
        StaticError::RootNotDirectory { .. } => Error::StaticFolder(e.to_string()),
        other => Error::Images(other.to_string()),
    })?;
    Ok(ImageCheck {
        static_dir: dir.shown(),
        source: dir.source,
        files: files.len(),
        mismatches: found
            .into_iter()
            .map(|m| Mismatch {
                problem: match m.problem {
                    Problem::Missing => "missing",
                    Problem::Differs { .. } => "differs",
                    Problem::NotAFile(_) => "not_a_file",
                },
                detail: m.to_string(),
                path: m.path,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_environment_then_the_seed() {
        let cwd = std::env::current_dir().unwrap();
        let flag = choose(Some(Path::new("a")), Some("b".into()))
            .unwrap()
            .unwrap();
        assert_eq!((flag.path, flag.source), (cwd.join("a"), Source::Flag));
        let env = choose(None, Some("/srv/b".into())).unwrap().unwrap();
        assert_eq!(
            (env.path, env.source),
            (PathBuf::from("/srv/b"), Source::Environment)
        );
        let default = choose(None, None).unwrap().unwrap();
        assert_eq!(
            (default.path, default.source),
            (
                cwd.join(seed::get().static_dir.unwrap()),
                Source::SeedDefault
            )
        );
        // verify checks only a folder someone named.
        assert_eq!(chosen_for_check(None, None).unwrap(), None);
        assert_eq!(
            chosen_for_check(None, Some("c".into()))
                .unwrap()
                .unwrap()
                .path,
            cwd.join("c")
        );
    }

    #[test]
    fn an_empty_name_is_a_usage_error() {
        for err in [
            choose(Some(Path::new("")), None).unwrap_err(),
            choose(None, Some("".into())).unwrap_err(),
            chosen_for_check(None, Some("".into())).unwrap_err(),
        ] {
            assert!(matches!(err, Error::Usage(_)), "{err}");
        }
    }

    #[test]
    fn a_profile_without_the_figures_has_no_images() {
        let minimal = seed::get().profile("minimal").unwrap();
        assert!(files(minimal).is_empty());
        let full = seed::get().default_profile();
        let paths: Vec<&str> = files(full).iter().map(|f| f.path).collect();
        assert_eq!(paths.len(), 5);
        assert!(
            paths.iter().all(|p| p.starts_with("figuren/images/")),
            "{paths:?}"
        );
    }
}
