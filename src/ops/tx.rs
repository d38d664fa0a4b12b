//! One write transaction on a target, the same for every destructive
//! operation: begin (waiting a bounded time for the lock), run, then commit
//! or roll back, with failures explained in one place.

use std::time::{Duration, Instant};

use super::{Observer, SchemaObject, load};
use crate::error::{Error, Result, is_busy_message};
use crate::schema::{Rows, is_internal, quote_ident};
use crate::seed::TableData;
use crate::target::Target;
use crate::value::ValueRef;

/// Limits for statements sent to a server as text. sqld reads a request
/// body whole and caps a response at 10 MB; Turso's edge has its own body
/// limits. Staying at 2 MiB per request and 512 KiB per statement keeps far
/// inside every limit we know while needing one request per ~2 MiB of seed.
pub const REMOTE_REQUEST_BYTES: usize = 2 << 20;
pub const REMOTE_STATEMENT_BYTES: usize = 512 << 10;

/// One write transaction on a target. Locally every statement runs at once;
/// on a server, statements are packed into few large requests, and the last
/// one carries the COMMIT, so the server applies all or nothing.
pub(crate) struct Tx<'t> {
    pub(crate) target: &'t Target,
    /// Statements waiting to be sent (servers only).
    pending: String,
}

impl<'t> Tx<'t> {
    pub(crate) async fn begin(target: &'t Target) -> Result<Tx<'t>> {
        let conn = &target.conn;
        let shown = target.location.to_string();
        let started = Instant::now();
        // Foreign keys off while the old schema goes: dropping a parent table
        // under enforcement would first delete its rows and trip over children.
        // The pragma is a no-op inside a transaction, so it comes first; the
        // load checks every foreign key itself before it commits.
        let setup = "PRAGMA foreign_keys = OFF";
        loop {
            let begun = if target.is_remote() {
                target
                    .bounded(conn.execute_batch(&format!("{setup}; BEGIN IMMEDIATE")))
                    .await
                    .map(|_| ())
            } else {
                target.local().exec(&format!("{setup}; BEGIN IMMEDIATE"))
            };
            match begun {
                Ok(()) => break,
                // Locally the busy timeout already waited; a server answers
                // busy at once, so keep asking until the lock timeout.
                Err(reason) if is_busy_message(&reason) => {
                    if !target.is_remote() || started.elapsed() >= target.settings.lock_timeout {
                        return Err(Error::Locked {
                            target: shown,
                            waited: target.settings.lock_timeout,
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(reason) => {
                    return Err(Error::Unreachable {
                        target: shown,
                        reason,
                    });
                }
            }
        }
        Ok(Tx {
            target,
            pending: String::new(),
        })
    }

    pub(crate) async fn exec(&mut self, sql: &str) -> std::result::Result<(), String> {
        if self.target.is_remote() {
            if !self.pending.is_empty()
                && self.pending.len() + sql.len() > self.target.settings.request_bytes
            {
                self.flush().await?;
            }
            self.pending.push_str(sql);
            self.pending.push_str(";\n");
            Ok(())
        } else {
            self.target.local().exec(sql)
        }
    }

    pub(crate) async fn flush(&mut self) -> std::result::Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.target
            .bounded(self.target.conn.execute_batch(&batch))
            .await
            .map(|_| ())
    }

    pub(crate) async fn load_table(
        &mut self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> std::result::Result<(), String> {
        if !self.target.is_remote() {
            return load::load_table(self.target.local(), table, observer);
        }
        observer.table_started(table.name, table.row_count);
        let max_statement = REMOTE_STATEMENT_BYTES.min(self.target.settings.request_bytes);
        for (sql, rows) in load::Statements::new(table, max_statement) {
            self.exec(&sql).await?;
            observer
                .rows_loaded(table.name, rows)
                .map_err(|reason| format!("loading {}: {reason}", table.name))?;
        }
        Ok(())
    }

    /// Reads rows inside the transaction. On a server this sends what is
    /// pending first, then costs two requests (describe, cursor).
    pub(crate) async fn objects(&mut self) -> std::result::Result<Vec<SchemaObject>, String> {
        self.flush().await?;
        schema_objects(self.target.reader())
            .await
            .map_err(|e| self.target.scrub(&e))
    }

    pub(crate) async fn commit(mut self) -> std::result::Result<(), String> {
        if self.target.is_remote() {
            self.pending.push_str("COMMIT");
            return self.flush().await;
        }
        self.target.local().exec("COMMIT")
    }

    pub(crate) async fn rollback(self) {
        if self.target.is_remote() && self.target.conn.is_autocommit() {
            // The server already dropped the stream, and the transaction with it.
            return;
        }
        if self.target.is_remote() {
            let _ = self
                .target
                .bounded(self.target.conn.execute("ROLLBACK", ()))
                .await;
        } else {
            let _ = self.target.local().exec("ROLLBACK");
        }
    }
}

impl Tx<'_> {
    /// Commits after a successful run, or rolls back after a failed one.
    /// `Err` carries what failed; the database is then as before.
    pub(crate) async fn finish<T>(
        self,
        outcome: std::result::Result<T, Failure>,
    ) -> Result<std::result::Result<T, Failure>> {
        let target = self.target;
        match outcome {
            Ok(done) => match self.commit().await {
                Ok(()) => Ok(Ok(done)),
                Err(reason)
                    if reason.contains("CHECK constraint failed")
                        && reason.contains("fk_violations") =>
                {
                    Ok(Err(Failure::Step(
                        "checking foreign keys".into(),
                        "some rows refer to missing rows (PRAGMA foreign_key_check)".into(),
                    )))
                }
                Err(reason) if is_busy_message(&reason) => Err(Error::Locked {
                    target: target.location.to_string(),
                    waited: target.settings.lock_timeout,
                }),
                Err(reason) => Ok(Err(Failure::Step("committing".into(), reason))),
            },
            Err(failure) => {
                self.rollback().await;
                Ok(Err(failure))
            }
        }
    }

    /// One integer from a query inside the transaction (sends what is
    /// pending first; two requests on a server).
    pub(crate) async fn count(&mut self, sql: &str) -> std::result::Result<i64, String> {
        self.flush().await?;
        let mut n = 0;
        self.target
            .reader()
            .each_row(sql, &mut |r| {
                if let Some(ValueRef::Integer(i)) = r.first() {
                    n = *i;
                }
                Ok(())
            })
            .await
            .map_err(|e| self.target.scrub(&e))?;
        Ok(n)
    }

    /// Drops the given objects, views and triggers first (they may name the
    /// tables); indexes go with their tables.
    pub(crate) async fn drop_all(
        &mut self,
        objects: &[SchemaObject],
    ) -> std::result::Result<Vec<SchemaObject>, Failure> {
        let mut dropped = Vec::new();
        for kind in ["view", "trigger", "table"] {
            for o in objects.iter().filter(|o| o.kind == kind) {
                let sql = format!(
                    "DROP {} IF EXISTS {}",
                    kind.to_uppercase(),
                    quote_ident(&o.name)
                );
                self.exec(&sql)
                    .await
                    .map_err(step(&format!("dropping {kind} {}", o.name)))?;
                dropped.push(o.clone());
            }
        }
        Ok(dropped)
    }
}

pub(crate) enum Failure {
    NotEmpty(Vec<String>),
    /// The step that failed and why.
    Step(String, String),
}

pub(crate) fn step(name: &str) -> impl FnOnce(String) -> Failure + '_ {
    move |reason| Failure::Step(name.to_owned(), reason)
}

impl Failure {
    pub(crate) fn into_error(self, target: &Target) -> Error {
        let shown = target.location.to_string();
        match self {
            Failure::NotEmpty(objects) => Error::NotEmpty {
                target: shown,
                objects,
            },
            Failure::Step(step, reason) => Error::RolledBack {
                target: shown,
                step,
                reason: target.scrub(&reason),
            },
        }
    }
}

pub(crate) fn sql_text(text: &str) -> String {
    let mut out = String::new();
    crate::value::write_sql_literal(&mut out, crate::value::ValueRef::Text(text));
    out
}

/// Every application table, view, trigger and index (not the engine's own).
pub async fn schema_objects(conn: &dyn Rows) -> std::result::Result<Vec<SchemaObject>, String> {
    let mut out = Vec::new();
    conn.each_row(
        "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger', 'index') ORDER BY rowid",
        &mut |r| {
            if let [ValueRef::Text(kind), ValueRef::Text(name)] = r
                // Indexes go with their tables; auto-indexes are the engine's.
                && !is_internal(name)
                && *kind != "index"
            {
                out.push(SchemaObject {
                    kind: (*kind).to_owned(),
                    name: (*name).to_owned(),
                });
            }
            Ok(())
        },
    )
    .await?;
    Ok(out)
}
