//! `restore`: load a SQL dump (seedbake's or the sqlite3 shell's `.dump`)
//! in place of everything in the database, in one transaction.
//!
//! The file is read twice, a statement at a time, so memory stays flat
//! whatever its size. The first pass ([`check_dump`]) runs before the
//! database is opened: the file must be text, complete (it ends as a dump
//! ends, with COMMIT), and hold only what a dump consists of. The second
//! ([`restore`]) checks every statement again before it runs it (the file
//! may have changed in between), and rolls back unless what it read is
//! byte for byte what the first pass checked.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::Digest;

use super::dump::grammar::{Role, Shape};
use super::dump::split::Reader;
use super::tx::{Failure, step};
use super::{BackupReport, SchemaObject, TrafficReport};
use crate::database::Target;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub target: String,
    pub dropped: Vec<SchemaObject>,
    pub statements: usize,
    /// The backup taken under the write lock before anything changed.
    pub backup: Option<BackupReport>,
    pub traffic: Option<TrafficReport>,
}

/// A dump file that passed the first pass: what the second must find again.
#[derive(Debug, Clone)]
pub struct CheckedDump {
    path: PathBuf,
    shown: String,
    /// The statements that will run (the dump's own BEGIN, COMMIT and
    /// PRAGMA are left out: the restore runs in a transaction of its own).
    statements: usize,
    bytes: u64,
    digest: [u8; 32],
}

impl CheckedDump {
    pub fn statements(&self) -> usize {
        self.statements
    }
}

/// The first pass: reads the whole file, a statement at a time, and
/// refuses it unless it is a complete dump of nothing but what dumps are
/// made of. Touches no database.
pub fn check_dump(path: &Path) -> Result<CheckedDump> {
    let shown = path.display().to_string();
    let bad = |reason: String| {
        Error::BadDump(format!(
            "{shown} is not a SQL dump seedbake can load: {reason}"
        ))
    };
    let mut reader = Reader::open(path)?;
    let mut shape = Shape::default();
    while let Some(statement) = reader.next().map_err(bad)? {
        shape.accept(&statement).map_err(bad)?;
    }
    shape.finish().map_err(bad)?;
    Ok(CheckedDump {
        path: path.to_owned(),
        shown,
        statements: shape.body,
        bytes: reader.read,
        digest: reader.digest.finalize().into(),
    })
}

/// The second pass: drops everything, then runs the dump's statements, all
/// in one transaction (backed up to `backup` first, inside it), confined to
/// this database.
pub async fn restore(
    target: &dyn Target,
    dump: &CheckedDump,
    backup: Option<&Path>,
) -> Result<RestoreReport> {
    let shown = &dump.shown;
    let (mut tx, backup) = super::backup::begin_backed_up(target, backup).await?;
    let outcome: std::result::Result<_, Failure> = async {
        target
            .confine(true)
            .map_err(step("confining the restore to the database"))?;
        let mut reader = Reader::open(&dump.path).map_err(Failure::Error)?;
        let existing = tx.objects().await.map_err(step("reading the schema"))?;
        let dropped = tx.drop_all(&existing).await?;
        let mut shape = Shape::default();
        let refuse = |reason: String| {
            Failure::Error(Error::BadDump(format!(
                "{shown} changed after it was checked, and is not a SQL dump seedbake can load any more: {reason}"
            )))
        };
        loop {
            let statement = match reader.next() {
                Ok(Some(s)) => s,
                Ok(None) => break,
                Err(reason) => return Err(refuse(reason)),
            };
            if shape.accept(&statement).map_err(refuse)? == Role::Body {
                // Without its semicolon: a server's batch adds its own.
                let sql = statement.text.strip_suffix(';').unwrap_or(&statement.text);
                tx.exec(sql).await.map_err(|e| {
                    Failure::Step(
                        format!("loading the dump (the statement at line {})", statement.line),
                        e,
                    )
                })?;
            }
        }
        shape.finish().map_err(refuse)?;
        let digest: [u8; 32] = std::mem::take(&mut reader.digest).finalize().into();
        if digest != dump.digest || shape.body != dump.statements || reader.read != dump.bytes {
            return Err(refuse("its bytes differ from those checked".into()));
        }
        Ok((dropped, shape.body))
    }
    .await;
    // Lifted before the commit or rollback, which the confinement refuses.
    let lifted = target.confine(false);
    let (dropped, statements) = tx.finish(outcome).await?;
    lifted.map_err(|e| Error::Database {
        target: target.location().to_string(),
        step: "lifting the restore's confinement".into(),
        reason: e.message,
    })?;
    Ok(RestoreReport {
        target: target.location().to_string(),
        dropped,
        statements,
        backup,
        traffic: target.traffic(),
    })
}
