//! The library's errors. Each says what happened, where, and what to do next;
//! none ever carries a secret (tokens and passwords are never put in them).

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("unknown profile {name:?}: the seed has {known}")]
    UnknownProfile { name: String, known: String },

    #[error("invalid option: {0}")]
    Usage(String),

    /// A file `restore` will not load: unreadable, not a text SQL dump,
    /// incomplete, or holding a statement a dump does not consist of.
    #[error("{0}. Nothing was changed")]
    BadDump(String),

    #[error("cannot open the database {target}: {reason}")]
    Open { target: String, reason: String },

    #[error("cannot reach {target}: {} Nothing was changed", sentence(reason))]
    Unreachable { target: String, reason: String },

    /// The server was reached, but an answer to a read did not come back
    /// whole.
    #[error(
        "cannot read {target} ({step}): {} Nothing was changed",
        sentence(reason)
    )]
    Unreadable {
        target: String,
        step: String,
        reason: String,
    },

    #[error(
        "the database {target} is locked by another process (waited {} s for it); nothing was changed. \
         Stop the process that holds it (the app, a shell, another seedbake) or retry with a longer --lock-timeout",
        waited.as_secs_f32()
    )]
    Locked { target: String, waited: Duration },

    #[error(
        "the database {target} is not empty (it has {}); `seed` only fills an empty database. \
         Use `{} reset` to replace its contents",
        objects.join(", "),
        crate::program::name()
    )]
    NotEmpty {
        target: String,
        objects: Vec<String>,
    },

    #[error(
        "{step} failed on {target}: {reason}. The transaction was rolled back; the database is as it was before"
    )]
    RolledBack {
        target: String,
        step: String,
        reason: String,
    },

    #[error(
        "the last request to {target} (the commit) got no answer: {reason}. The server may or may not have \
         applied it; nothing here can tell. Run `{} {check}` to see what the database holds",
        crate::program::name()
    )]
    OutcomeUnknown {
        target: String,
        reason: String,
        /// The command that tells (`verify` after a load; `status` after a
        /// migration, which `verify` would report as different anyway).
        check: &'static str,
    },

    #[error("{step} on {target} stopped: {reason}")]
    Interrupted {
        target: String,
        step: String,
        reason: String,
    },

    #[error("{step} failed on {target}: {reason}")]
    Database {
        target: String,
        step: String,
        reason: String,
    },

    #[error("cannot hash the admin password: {0}")]
    Password(String),

    #[error("cannot write {path}: {reason}")]
    Output { path: String, reason: String },

    #[error("the backup to {path} failed: {reason}. Nothing was changed")]
    Backup { path: String, reason: String },

    #[error("{0}. Nothing was changed")]
    Aborted(String),

    /// The app's static folder cannot take the images; found before
    /// anything changed.
    #[error("{0}. Nothing was changed")]
    StaticFolder(String),

    /// The images could not be written to or read from the static folder.
    #[error("{0}")]
    Images(String),
    /// `extract` found a database it cannot write as a seed folder whose
    /// build holds the same values.
    #[error("cannot extract: {0}. Nothing was written")]
    Unextractable(String),

    /// `migrate` cannot change the database as it is.
    #[error("cannot migrate {target}: {reason}. Nothing was changed")]
    Unmigratable { target: String, reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` ending as a sentence ends (a reason may end in a question).
fn sentence(text: &str) -> String {
    if text.ends_with(['.', '?', '!']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}
