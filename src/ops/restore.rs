//! `restore`: load a SQL dump (seedbake's or the sqlite3 shell's `.dump`)
//! in place of everything in the database, in one transaction.

use std::path::Path;

use fallible_iterator::FallibleIterator;
use libsql_sqlite3_parser::ast::{Cmd, Stmt};
use libsql_sqlite3_parser::lexer::sql::Parser;
use serde::Serialize;

use super::tx::{Tx, step};
use super::{BackupReport, SchemaObject, TrafficReport};
use crate::database::Target;
use crate::database::remote::REQUEST_BYTES as REMOTE_REQUEST_BYTES;
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

/// Splits a dump into its statements, as written, leaving out the dump's own
/// transaction control (the restore runs in a transaction of its own).
/// Checked whole before the database is touched.
pub fn statements(sql: &str, file: &str) -> Result<Vec<String>> {
    let mut parser = Parser::new(sql.as_bytes());
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let cmd = match parser.next() {
            Ok(Some(cmd)) => cmd,
            Ok(None) => break,
            Err(e) => {
                return Err(Error::Usage(format!(
                    "{file} is not a SQL dump seedbake can load: {e} (near line {})",
                    parser.line()
                )));
            }
        };
        let end = parser.offset().min(sql.len());
        let text = sql[start..end].trim();
        start = end;
        match cmd {
            Cmd::Stmt(Stmt::Begin(..)) | Cmd::Stmt(Stmt::Commit(..)) => {}
            Cmd::Stmt(Stmt::Rollback { .. }) => {
                return Err(Error::Usage(format!(
                    "{file} ends its transaction with ROLLBACK (it was written after an error); refusing to load it"
                )));
            }
            _ => out.push(text.trim_end_matches(';').to_owned()),
        }
    }
    if out.is_empty() {
        return Err(Error::Usage(format!("{file} holds no SQL statements")));
    }
    Ok(out)
}

/// Drops everything, then runs the dump's statements, all in one transaction
/// (backed up to `backup` first, inside it).
pub async fn restore(
    target: &dyn Target,
    statements: &[String],
    backup: Option<&Path>,
) -> Result<RestoreReport> {
    let (mut tx, backup) = Tx::begin_backed_up(target, backup).await?;
    let outcome: std::result::Result<_, super::tx::Failure> = async {
        let existing = tx.objects().await.map_err(step("reading the schema"))?;
        let dropped = tx.drop_all(&existing).await?;
        // Locally, statements run in batches; on a server they are packed
        // into requests up to the request budget.
        let mut batch = String::new();
        for s in statements {
            if batch.len() + s.len() > REMOTE_REQUEST_BYTES / 2 && !batch.is_empty() {
                tx.exec(&std::mem::take(&mut batch))
                    .await
                    .map_err(step("loading the dump"))?;
            }
            batch.push_str(s);
            batch.push_str(";\n");
        }
        if !batch.is_empty() {
            tx.exec(batch.trim_end().trim_end_matches(';'))
                .await
                .map_err(step("loading the dump"))?;
        }
        Ok(dropped)
    }
    .await;
    let dropped = tx.finish(outcome).await?;
    Ok(RestoreReport {
        target: target.location().to_string(),
        dropped,
        statements: statements.len(),
        backup,
        traffic: target.traffic(),
    })
}
