//! One write transaction on a target, the same for every destructive
//! operation: begin (waiting a bounded time for the lock), run, then commit
//! or roll back, with failures turned into errors in one place. Nothing
//! else in `ops` commits or rolls back.

use super::{Observer, SchemaObject};
use crate::database::{DbError, Kind, Target};
use crate::error::{Error, Result};
use crate::schema::quote_ident;
use crate::seed::TableData;
use crate::value::ValueRef;

pub(crate) struct Tx<'t> {
    pub(crate) target: &'t dyn Target,
}

impl<'t> Tx<'t> {
    pub(crate) async fn begin(target: &'t dyn Target) -> Result<Tx<'t>> {
        match target.begin_write().await {
            Ok(()) => Ok(Tx { target }),
            Err(e) => Err(unavailable(target, e)),
        }
    }

    pub(crate) async fn exec(&mut self, sql: &str) -> std::result::Result<(), DbError> {
        self.target.write(sql).await
    }

    pub(crate) async fn load_table(
        &mut self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> std::result::Result<(), DbError> {
        self.target.load_table(table, observer).await
    }

    /// Every application object, read inside the transaction.
    pub(crate) async fn objects(&mut self) -> std::result::Result<Vec<SchemaObject>, DbError> {
        super::schema_objects(self.target).await
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

    /// Rolls back a run that succeeded but must leave nothing behind (a
    /// dry run, or one that found nothing to change).
    pub(crate) async fn roll_back(self) {
        self.target.rollback().await;
    }

    /// Commits after a successful run, or rolls back after a failed one.
    pub(crate) async fn finish<T>(self, outcome: std::result::Result<T, Failure>) -> Result<T> {
        self.finish_checked_by(outcome, "verify").await
    }

    /// [`Tx::finish`], for a change whose lost commit answer is told by
    /// the command `check` rather than `verify` (a migrated database
    /// differs from the build's seed by design: `status` tells).
    pub(crate) async fn finish_checked_by<T>(
        self,
        outcome: std::result::Result<T, Failure>,
        check: &'static str,
    ) -> Result<T> {
        let target = self.target;
        let failure = match outcome {
            Ok(done) => match target.commit().await {
                Ok(()) => return Ok(done),
                Err(e) => {
                    // The commit's batch carries the foreign-key guard (a
                    // CHECK on the record row) on servers.
                    let failure = if e.kind == Kind::Constraint && e.message.contains(FK_GUARD) {
                        Failure::Step(
                            "checking foreign keys".into(),
                            DbError::new(
                                Kind::Constraint,
                                "some rows refer to missing rows (PRAGMA foreign_key_check)",
                            ),
                        )
                    } else {
                        Failure::Commit(e)
                    };
                    target.rollback().await;
                    failure
                }
            },
            Err(failure) => {
                target.rollback().await;
                failure
            }
        };
        Err(failure.into_error(target, check))
    }
}

/// The name of the CHECK that refuses the record row while a foreign key
/// dangles (servers): a constraint failure naming it is that check.
pub(crate) const FK_GUARD: &str = "seedbake_foreign_keys";

pub(crate) enum Failure {
    NotEmpty(Vec<String>),
    /// What was asked cannot be done to this database: a usage error
    /// (exit 2) found only by looking inside it.
    Usage(String),
    /// `migrate` cannot change this database as it is (exit 9): a changed
    /// migration, drift, rows that dangle, a plan that no longer holds.
    Unmigratable(String),
    /// The step that failed and why.
    Step(String, DbError),
    /// The commit itself (on a server: the last request, which carries it).
    Commit(DbError),
    /// The operation's own error, found inside the transaction: returned
    /// as it is once the transaction is rolled back.
    Error(Error),
}

/// The step a failed read belongs to: its own, unless the statements of
/// step `unsent` may still have been on their way (a server receives them
/// with the next request) and it failed as they do: a constraint (a read
/// meets none), or the server ending the transaction while they ran.
pub(crate) fn step_of(e: &DbError, read: &str, unsent: Option<&str>) -> String {
    match unsent {
        Some(writes) if matches!(e.kind, Kind::Constraint | Kind::Expired) => writes.to_owned(),
        _ => read.to_owned(),
    }
}

pub(crate) fn step(name: &str) -> impl FnOnce(DbError) -> Failure + '_ {
    move |e| Failure::Step(name.to_owned(), e)
}

impl Failure {
    /// The error for a failure inside the write transaction, which was
    /// rolled back, unless the server may have committed it.
    fn into_error(self, target: &dyn Target, check: &'static str) -> Error {
        let shown = target.location().to_string();
        match self {
            Failure::Error(e) => e,
            Failure::NotEmpty(objects) => Error::NotEmpty {
                target: shown,
                objects,
            },
            Failure::Usage(reason) => Error::Usage(reason),
            Failure::Unmigratable(reason) => Error::Unmigratable {
                target: shown,
                reason,
            },
            Failure::Commit(e) if e.outcome_unknown() => Error::OutcomeUnknown {
                target: shown,
                reason: e.message,
                check,
            },
            Failure::Step(_, e) | Failure::Commit(e) if e.is_busy() => Error::Locked {
                target: shown,
                waited: target.settings().lock_timeout,
            },
            Failure::Commit(e) => Error::RolledBack {
                target: shown,
                step: "committing".into(),
                reason: e.message,
            },
            Failure::Step(step, e) => Error::RolledBack {
                target: shown,
                step,
                reason: e.message,
            },
        }
    }
}

/// The error for a failure before anything was written: the lock not to be
/// had, the database not to be reached.
pub(crate) fn unavailable(target: &dyn Target, e: DbError) -> Error {
    let shown = target.location().to_string();
    if e.kind == Kind::Interrupted {
        return Error::Interrupted {
            target: shown,
            step: "taking the write lock".into(),
            reason: e.message,
        };
    }
    if e.is_busy() {
        Error::Locked {
            target: shown,
            waited: target.settings().lock_timeout,
        }
    } else {
        Error::Unreachable {
            target: shown,
            reason: e.message,
        }
    }
}

/// The error for a failed step of a command that writes nothing: a
/// database that cannot be reached, or whose answers do not come back, is
/// unavailable (nothing was changed either way).
pub(crate) fn read_failed(target: &dyn Target, step: &str, e: DbError) -> Error {
    if e.kind == Kind::Interrupted {
        return Error::Interrupted {
            target: target.location().to_string(),
            step: step.to_owned(),
            reason: e.message,
        };
    }
    if e.is_busy() || e.is_unavailable() {
        return unavailable(target, e);
    }
    if e.is_transport() {
        return Error::Unreadable {
            target: target.location().to_string(),
            step: step.to_owned(),
            reason: e.message,
        };
    }
    Error::Database {
        target: target.location().to_string(),
        step: step.to_owned(),
        reason: e.message,
    }
}

pub(crate) fn sql_text(text: &str) -> String {
    let mut out = String::new();
    crate::value::write_sql_literal(&mut out, ValueRef::Text(text));
    out
}
