//! Requests that carry all they can, because every request is a round trip
//! the operator waits for: the write transaction's pending statements, then
//! the reads asked for, then, once the database may have changed, the reads
//! every command makes next (the schema, the tables' columns and shapes),
//! all in one Hrana batch on the open stream. Their answers are kept until
//! the next write, so the commands read them without asking again.
//!
//! The libsql client sends a batch's statements with `want_rows: false`,
//! and the Hrana 3 specification says a server *should* then answer no
//! rows; sqld (libsql-server 0.24.33, measured) answers them all the same,
//! and that is what lets reads ride in a batch. A server that withholds
//! them is told apart by a sentinel read (`SELECT 1`, which has a row) in
//! every batch until one answers it: from then on a server that withheld
//! it is read a query a request (a cursor), as before.
//!
//! The libsql client reports a batch's failed step by its message only, so
//! a read that fails in a batch without writes is asked again on its own
//! (a cursor, whose error keeps the server's code): the kind of a failure,
//! and so the exit code, never depends on a message's wording.

use std::rc::Rc;

use super::Remote;
use crate::database::failure::{DbError, Kind};
use crate::database::pages::SHAPES_SQL;
use crate::schema::{OBJECTS_SQL, TABLE_COLUMNS_SQL};

/// A read's rows, as the server answered them.
pub(super) type Answer = Rc<Vec<Vec<libsql::Value>>>;

/// The database file's size in bytes.
pub(super) const SIZE_SQL: &str =
    "SELECT p.page_count * s.page_size FROM pragma_page_count() AS p, pragma_page_size() AS s";

/// A read with one row, whatever the database: its answer tells whether the
/// server sends the rows of a batch.
const SENTINEL: &str = "SELECT 1";

/// What every command reads once a transaction starts or its writes are
/// done: sent with that request, so none of them costs a round trip.
const READ_AHEAD: [&str; 4] = [OBJECTS_SQL, TABLE_COLUMNS_SQL, SHAPES_SQL, SIZE_SQL];

impl Remote {
    /// The answer to `sql` at the database's current state, if it was read.
    pub(super) fn answered(&self, sql: &str) -> Option<Answer> {
        self.answers.borrow().get(sql).cloned()
    }

    /// Whether a statement is waiting to be sent.
    pub(super) fn has_pending(&self) -> bool {
        !self.pending.borrow().is_empty()
    }

    /// Whether reads may ride in batches: the server sends their rows, or
    /// it is not known yet (the next batch tells).
    pub(super) fn batch_reads(&self) -> bool {
        self.rows_in_batches.get() != Some(false)
    }

    /// Sends the pending statements, then `reads` (one statement each, in
    /// this order), then the read-ahead when asked to or when reads follow
    /// a change, then `last` (a statement that ends the transaction, see
    /// `ending.rs`), in one request, begun again first if it was ended;
    /// answers `reads`, and keeps every answer. `None`: the
    /// server withholds a batch's rows, so no read is answered (the
    /// statements ran all the same).
    pub(super) async fn exchange(
        &self,
        reads: &[&str],
        ahead: bool,
        last: Option<&str>,
    ) -> Result<Option<Vec<Answer>>, DbError> {
        if self.reopens() && !self.snapshot.get() && self.has_pending() {
            // The writes go after the lock is had again, in a request of
            // their own (see `ending.rs`).
            self.reopen_alone().await?;
        }
        let mut batch = std::mem::take(&mut *self.pending.borrow_mut());
        // The transaction was ended with the reads said to be its last
        // (`ending.rs`), and something more is sent: it begins again.
        let recheck = self.recheck.borrow_mut().take();
        let expected = std::mem::take(&mut *self.expected.borrow_mut());
        let mut asked: Vec<&str> = reads.to_vec();
        asked.extend(
            expected
                .iter()
                .map(String::as_str)
                .filter(|r| !reads.contains(r) && self.answered(r).is_none()),
        );
        if ahead || (!reads.is_empty() && self.stale.get()) {
            let missing: Vec<&str> = READ_AHEAD
                .into_iter()
                .filter(|r| !asked.contains(r))
                .collect();
            asked.extend(missing);
        }
        if !self.batch_reads() {
            asked.clear();
        }
        let probe = !asked.is_empty() && self.rows_in_batches.get().is_none();
        if probe {
            asked.push(SENTINEL);
        }
        // A statement left unfinished (or ending in a comment) must not
        // swallow the first read.
        if !batch.is_empty() && !batch.trim_end().ends_with(';') {
            batch.push_str("\n;\n");
        }
        for read in &asked {
            batch.push_str(read);
            batch.push_str(";\n");
        }
        if let Some(last) = last {
            batch.push_str(last);
        }
        let sent = match &recheck {
            None if batch.is_empty() => return Ok(Some(Vec::new())),
            None => self.run_batch(&batch).await,
            Some(before) => self.reopen_with(before, &batch).await,
        };
        let mut steps = match sent {
            Ok(steps) => steps,
            Err(e) => {
                self.not_reopened(recheck);
                if last.is_some() {
                    self.ended_early();
                }
                return Err(e);
            }
        };
        let tail = usize::from(last.is_some());
        let Some(end) = steps.len().checked_sub(tail) else {
            return Err(missing());
        };
        let Some(start) = end.checked_sub(asked.len()) else {
            return Err(missing());
        };
        let mut answers = Vec::with_capacity(asked.len());
        for step in steps.drain(start..end) {
            answers.push(Rc::new(self.rows_of(step).await?));
        }
        if probe {
            let answered = answers.pop().is_some_and(|a| a.len() == 1);
            self.rows_in_batches.set(Some(answered));
            asked.pop();
            if !answered {
                return Ok(None);
            }
        }
        if asked.len() < reads.len() {
            return Ok(None);
        }
        if asked.contains(&OBJECTS_SQL) {
            self.stale.set(false);
        }
        {
            let mut kept = self.answers.borrow_mut();
            for (sql, answer) in asked.iter().zip(&answers) {
                kept.insert((*sql).to_owned(), answer.clone());
            }
        }
        if last.is_some() {
            self.ended_early();
        }
        answers.truncate(reads.len());
        Ok(Some(answers))
    }

    /// Sends one batch; answers each statement's step (`None`: it has no
    /// rows to give).
    pub(super) async fn run_batch(
        &self,
        batch: &str,
    ) -> Result<Vec<Option<libsql::Rows>>, DbError> {
        let mut steps = Vec::new();
        let mut results = self.call(self.conn.execute_batch(batch)).await?;
        while let Some(step) = results.next_stmt_row() {
            steps.push(step);
        }
        Ok(steps)
    }

    /// A read's rows from its step.
    pub(super) async fn rows_of(
        &self,
        step: Option<libsql::Rows>,
    ) -> Result<Vec<Vec<libsql::Value>>, DbError> {
        let Some(mut rows) = step else {
            return Err(missing());
        };
        let width = rows.column_count().max(0);
        let mut all = Vec::new();
        while let Some(row) = rows.next().await.map_err(|e| self.classify(&e, true))? {
            let mut values = Vec::with_capacity(width as usize);
            for i in 0..width {
                values.push(row.get_value(i).map_err(|e| self.classify(&e, true))?);
            }
            all.push(values);
        }
        Ok(all)
    }

    /// The database file's size, as the read-ahead last read it.
    pub(super) fn database_bytes(&self) -> Option<i64> {
        match self.answered(SIZE_SQL)?.first()?.first()? {
            libsql::Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// Sends the write transaction's pending statements now.
    pub(super) async fn flush(&self) -> Result<(), DbError> {
        if self.has_pending() || self.reopens() {
            self.exchange(&[], false, None).await?;
        }
        Ok(())
    }
}

pub(super) fn missing() -> DbError {
    DbError::new(
        Kind::BadAnswer,
        "the server's answer to a batch lacks some of its statements' results",
    )
}
