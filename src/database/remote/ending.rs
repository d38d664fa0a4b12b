//! A transaction ended by the request that carries the reads the caller
//! said are its last ([`Target::last_reads`]), which saves the request that
//! would end it alone; and begun again, should more be read or written
//! after all, by a request that first reads again everything read before.
//! The same answers mean the new transaction sees what the old one saw, so
//! everything read and written from there belongs to one consistent state
//! with it; other answers fail the command (nothing was changed), which can
//! then be run again.
//!
//! [`Target::last_reads`]: crate::database::Target::last_reads

use std::time::Instant;

use super::batch::{Answer, SIZE_SQL, missing, writes};
use super::{LOCK_RETRY, Remote};
use crate::database::failure::{DbError, Kind};
use crate::database::hrana::proto;

/// How a read transaction begins.
pub(super) const BEGIN_READ: &str = "BEGIN;\n";

/// How a write transaction begins: the lock, with foreign keys off (see
/// [`crate::database::Target::begin_write`]).
pub(super) const BEGIN_WRITE: &str = "PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE;\n";

impl Remote {
    /// The statement that ends the open transaction with the next request,
    /// if it may: the caller said the last reads follow, nothing waits to
    /// be sent, and a write transaction has written nothing yet (it is
    /// rolled back).
    pub(super) fn ending(&self) -> Option<&'static str> {
        if !self.last_reads.get() || self.has_pending() || self.reopens() {
            return None;
        }
        if self.snapshot.get() {
            Some("COMMIT")
        } else if self.writing.get() && self.clean.get() {
            Some("ROLLBACK")
        } else {
            None
        }
    }

    /// Whether the transaction was ended early, so that the next request
    /// begins it again.
    pub(super) fn reopens(&self) -> bool {
        self.recheck.borrow().is_some()
    }

    /// Keeps what the transaction read, now that a request ended it (or
    /// may have: one that failed ended it too, its stream being closed).
    /// The file's size is left out: any write elsewhere changes it, and it
    /// only chose how tables are read.
    pub(super) fn ended_early(&self) {
        let read: Vec<(String, Answer)> = self
            .answers
            .borrow()
            .iter()
            .filter(|(sql, _)| sql.as_str() != SIZE_SQL)
            .map(|(sql, answer)| (sql.clone(), answer.clone()))
            .collect();
        *self.recheck.borrow_mut() = Some(read);
        self.last_reads.set(false);
    }

    /// Begins the write transaction again, checked, in a request of its
    /// own, before the writes waiting to be sent: sqld rolls back a write
    /// transaction older than 5 s when another client wants the lock
    /// (`TXN_TIMEOUT`), but a long migration sent in the very request
    /// that began the transaction was seen not to be cut (it ran into
    /// `--timeout`, 30 s, while the other client waited); sent after it,
    /// it is cut as before (`sqlds_transaction_timeout_is_told_under_the_
    /// migration_it_cut`). So writes never ride with a BEGIN, as when the
    /// transaction was first begun.
    pub(super) async fn reopen_alone(&self) -> Result<(), DbError> {
        let Some(before) = self.recheck.borrow_mut().take() else {
            return Ok(());
        };
        match self.reopen_with(&before, Vec::new()).await {
            Ok(_) => Ok(()),
            Err((e, refused)) => {
                self.not_reopened(Some(before), refused && !e.is_busy());
                Err(e)
            }
        }
    }

    /// After a request that was to begin the transaction again failed:
    /// `begun` when the server refused a step after the BEGIN (each step
    /// runs only if the one before it succeeded, and a BEGIN is refused
    /// only as busy), so it is open, for the caller to end. Otherwise (the
    /// lock was not had, the request was lost) the next request tries once
    /// more, checked again.
    pub(super) fn not_reopened(&self, recheck: Option<Vec<(String, Answer)>>, begun: bool) {
        if recheck.is_some() && !begun {
            *self.recheck.borrow_mut() = recheck;
        }
    }

    /// Sends `body` in the transaction begun again, after reading again
    /// everything in `before`; answers the steps of `body`, once the reads
    /// again answered as before. A write lock another client holds is
    /// waited for as [`crate::database::Target::begin_write`] waits.
    pub(super) async fn reopen_with(
        &self,
        before: &[(String, Answer)],
        body: Vec<proto::Stmt>,
    ) -> Result<Vec<Answer>, (DbError, bool)> {
        let begin = writes(if self.snapshot.get() {
            BEGIN_READ
        } else {
            BEGIN_WRITE
        });
        let begin_steps = begin.len();
        let mut steps = begin;
        steps.extend(
            before
                .iter()
                .map(|(sql, _)| proto::Stmt::new(sql, Vec::new(), true)),
        );
        steps.extend(body);
        let started = Instant::now();
        let mut answers = loop {
            // Each step of a batch runs only if the one before succeeded:
            // nothing is read or written when the lock is not had.
            match self.send(steps.clone()).await {
                Err((e, _))
                    if e.is_busy()
                        && !self.snapshot.get()
                        && started.elapsed() < self.settings.lock_timeout =>
                {
                    tokio::time::sleep(LOCK_RETRY).await;
                }
                other => break other?,
            }
        };
        if answers.len() < begin_steps + before.len() {
            return Err((missing(), true));
        }
        let again: Vec<_> = answers.drain(..begin_steps + before.len()).collect();
        for ((_, was), answer) in before.iter().zip(again.into_iter().skip(begin_steps)) {
            if answer != *was {
                return Err((
                    DbError::new(
                        Kind::Engine,
                        "the database changed while it was read (another client wrote to it between two \
                     requests), so what was read is not one consistent state; nothing was changed: run \
                     the command again",
                    ),
                    true,
                ));
            }
        }
        Ok(answers)
    }
}
