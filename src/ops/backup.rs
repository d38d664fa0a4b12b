//! The automatic backup before a destructive command, taken inside the very
//! write transaction that then replaces the database: with the write lock
//! held, no other writer can commit between the backup and the change, so
//! every write is either in the backup or waits for the change to finish.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dump::{dump_rows, finish_dump_file, new_dump_file};
use super::tx::Tx;
use crate::atomic_file::AtomicFile;
use crate::database::Target;
use crate::error::{Error, Result};

/// A backup that was written: complete, flushed to disk and named.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: String,
    pub tables: usize,
    pub rows: u64,
    pub bytes: u64,
    /// Each table's rows, as backed up: what a plan read under the same
    /// lock counts, without asking again.
    #[serde(skip)]
    pub table_rows: Vec<(String, u64)>,
}

/// The backup file, started before the lock is taken so that a refusal (the
/// file exists, the folder cannot be made) costs nothing and changes nothing.
pub(crate) struct Backup {
    path: PathBuf,
    file: AtomicFile,
}

impl Backup {
    pub(crate) fn create(target: &dyn Target, path: &Path) -> Result<Backup> {
        let file = new_dump_file(target, path).map_err(|e| failed(path, e))?;
        Ok(Backup {
            path: path.to_owned(),
            file,
        })
    }

    /// Dumps the database as the open write transaction sees it, and names
    /// the file only when all of it is on disk. Nothing has been written to
    /// the database yet, so a failure here leaves it as it was.
    pub(crate) async fn write(mut self, target: &dyn Target) -> Result<BackupReport> {
        let report = dump_rows(target, &mut self.file)
            .await
            .map_err(|e| failed(&self.path, e))?;
        finish_dump_file(self.file, &self.path).map_err(|e| failed(&self.path, e))?;
        Ok(BackupReport {
            path: self.path.display().to_string(),
            tables: report.tables.len(),
            rows: report.rows,
            bytes: report.bytes,
            table_rows: report.tables,
        })
    }
}

/// Begins the write transaction and, given a path, backs the database up
/// inside it before anything changes: what the backup holds is exactly
/// what the transaction then replaces. A failed backup rolls back and
/// changes nothing.
pub(crate) async fn begin_backed_up<'t>(
    target: &'t dyn Target,
    backup: Option<&Path>,
) -> Result<(Tx<'t>, Option<BackupReport>)> {
    let file = backup.map(|p| Backup::create(target, p)).transpose()?;
    back_up(Tx::begin(target).await?, file).await
}

/// Writes `file` (started before the lock was taken) from inside `tx`,
/// which has changed nothing yet; on failure, rolls back.
pub(crate) async fn back_up(
    tx: Tx<'_>,
    file: Option<Backup>,
) -> Result<(Tx<'_>, Option<BackupReport>)> {
    let Some(file) = file else {
        return Ok((tx, None));
    };
    match file.write(tx.target).await {
        Ok(report) => Ok((tx, Some(report))),
        Err(e) => {
            tx.roll_back().await;
            Err(e)
        }
    }
}

fn failed(path: &Path, e: Error) -> Error {
    Error::Backup {
        path: path.display().to_string(),
        reason: match e {
            Error::Usage(reason)
            | Error::Output { reason, .. }
            | Error::Unreachable { reason, .. }
            | Error::Unreadable { reason, .. } => reason,
            other => other.to_string(),
        },
    }
}
