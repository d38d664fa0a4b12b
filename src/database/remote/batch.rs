//! Requests that carry all they can, because every request is a round trip
//! the operator waits for: the write transaction's pending statements, then
//! the reads asked for, then, once the database may have changed, the reads
//! every command makes next (the schema, the tables' columns and shapes),
//! all in one Hrana batch on the open stream. Their answers are kept until
//! the next write, so the commands read them without asking again.
//!
//! Every step runs only if the one before it succeeded (the condition the
//! libsql client used too), so a failed write stops the reads and the
//! COMMIT behind it; its error comes back with the server's code. Reads ask
//! for their rows (`want_rows`), writes do not.

use std::rc::Rc;

use super::Remote;
use super::call::Fault;
use crate::database::failure::{DbError, Kind};
use crate::database::hrana::proto::{
    self, Batch, BatchStep, Cond, StreamRequest, StreamResponse, StreamResult,
};
use crate::database::pages::SHAPES_SQL;
use crate::schema::{OBJECTS_SQL, TABLE_COLUMNS_SQL};
use crate::value::Value;

/// A read's rows, as the server answered them.
pub(super) type Answer = Rc<Vec<Vec<Value>>>;

/// The database file's size in bytes.
pub(super) const SIZE_SQL: &str =
    "SELECT p.page_count * s.page_size FROM pragma_page_count() AS p, pragma_page_size() AS s";

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

    /// The pending statements as steps of a batch (taken: they are sent).
    pub(super) fn pending_steps(&self) -> Vec<proto::Stmt> {
        let text = std::mem::take(&mut *self.pending.borrow_mut());
        writes(&text)
    }

    /// Sends the pending statements, then `reads` (one statement each, in
    /// this order), then the read-ahead when asked to or when reads follow
    /// a change, then `last` (a statement that ends the transaction, see
    /// `ending.rs`), in one request, begun again first if it was ended;
    /// answers `reads`, and keeps every answer.
    pub(super) async fn exchange(
        &self,
        reads: &[&str],
        ahead: bool,
        last: Option<&str>,
    ) -> Result<Vec<Answer>, DbError> {
        if self.reopens() && !self.snapshot.get() && self.has_pending() {
            // The writes go after the lock is had again, in a request of
            // their own (see `ending.rs`).
            self.reopen_alone().await?;
        }
        let mut steps = self.pending_steps();
        // The transaction was ended with the reads said to be its last
        // (`ending.rs`), and something more is sent: it begins again.
        let recheck = self.recheck.borrow_mut().take();
        let sql_bytes = |s: &proto::Stmt| s.sql.as_ref().map_or(0, String::len);
        let mut writes_bytes: usize = steps.iter().map(sql_bytes).sum();
        let needed: usize = reads.iter().map(|r| r.len()).sum();
        if recheck.is_none()
            && writes_bytes > 0
            && writes_bytes + needed > self.settings.request_bytes
        {
            // The reads would take the request past `--request-bytes` (a
            // server's cap on a request): the writes go alone first.
            self.send(std::mem::take(&mut steps))
                .await
                .map_err(|(e, _)| e)?;
            writes_bytes = 0;
        }
        // The reads said to follow and the read-ahead only save requests:
        // they ride as far as the request has room for them.
        let mut room = self
            .settings
            .request_bytes
            .saturating_sub(writes_bytes + needed);
        let expected = std::mem::take(&mut *self.expected.borrow_mut());
        let read_ahead = ahead || (!reads.is_empty() && self.stale.get());
        let optional = expected
            .iter()
            .map(String::as_str)
            .filter(|r| self.answered(r).is_none())
            .chain(READ_AHEAD.into_iter().filter(|_| read_ahead));
        let mut asked: Vec<&str> = reads.to_vec();
        for read in optional {
            if read.len() <= room && !asked.contains(&read) {
                room -= read.len();
                asked.push(read);
            }
        }
        let first_read = steps.len();
        steps.extend(asked.iter().map(|r| proto::Stmt::new(*r, Vec::new(), true)));
        if let Some(last) = last {
            steps.push(proto::Stmt::new(last, Vec::new(), false));
        }
        let sent = match &recheck {
            None if steps.is_empty() => return Ok(Vec::new()),
            None => self.send(steps).await,
            Some(before) => self.reopen_with(before, steps).await,
        };
        let mut answers = match sent {
            Ok(answers) => answers,
            Err((e, refused)) => {
                self.not_reopened(recheck, refused && !e.is_busy());
                // A step the server refused stopped the steps behind it,
                // the transaction's end too: it is still open, for the
                // caller to go on in or end. Otherwise it may have ended.
                if last.is_some() && !refused {
                    self.ended_early();
                }
                return Err(e);
            }
        };
        answers.truncate(first_read + asked.len());
        let mut answers = answers.split_off(first_read);
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
        Ok(answers)
    }

    /// Sends `steps` as one batch (see [`Remote::batch`]); a failure comes
    /// with whether the server refused one of them (so none behind it ran)
    /// rather than leaving the outcome unknown.
    pub(super) async fn send(
        &self,
        steps: Vec<proto::Stmt>,
    ) -> Result<Vec<Answer>, (DbError, bool)> {
        let refused = std::cell::Cell::new(false);
        let batch = async {
            self.batch(steps)
                .await
                .inspect_err(|f| refused.set(matches!(f, Fault::Server(_))))
        };
        self.call(batch).await.map_err(|e| (e, refused.get()))
    }

    /// Sends the pending statements and then `sql` with `args`, in one
    /// request; answers `sql`'s rows (none unless `rows`).
    pub(super) async fn ask(
        &self,
        sql: &str,
        args: Vec<proto::Value>,
        rows: bool,
    ) -> Result<Answer, DbError> {
        // Nothing rides with a transaction begun again (`ending.rs`).
        self.reopen_alone().await?;
        let mut steps = self.pending_steps();
        steps.push(proto::Stmt::new(sql, args, rows));
        let mut answers = self.call(self.batch(steps)).await?;
        answers.pop().ok_or_else(missing)
    }

    /// Sends `steps` as one batch, each run only if the one before it
    /// succeeded; answers every step's rows, or the first failure.
    pub(super) async fn batch(&self, steps: Vec<proto::Stmt>) -> Result<Vec<Answer>, Fault> {
        let asked = steps.len();
        let steps = steps
            .into_iter()
            .enumerate()
            .map(|(i, stmt)| BatchStep {
                condition: i.checked_sub(1).map(|before| Cond::Ok {
                    step: before as u32,
                }),
                stmt,
            })
            .collect();
        let request = StreamRequest::Batch {
            batch: Batch { steps },
        };
        let result = self.only(self.stream.pipeline(vec![request]).await?)?;
        let StreamResponse::Batch { result } = result else {
            return Err(Fault::Malformed(
                "a batch answered as another request".into(),
            ));
        };
        let mut results = result.step_results.into_iter();
        let mut errors = result.step_errors.into_iter();
        let mut answers = Vec::with_capacity(asked);
        for _ in 0..asked {
            match (results.next().flatten(), errors.next().flatten()) {
                (_, Some(error)) => return Err(Fault::Server(error)),
                (Some(result), None) => {
                    let rows = result
                        .rows
                        .iter()
                        .map(|row| row.iter().map(proto::Value::to_seed).collect())
                        .collect::<Result<Vec<Vec<Value>>, String>>()
                        .map_err(Fault::Malformed)?;
                    answers.push(Rc::new(rows));
                }
                (None, None) => {
                    return Err(Fault::Malformed(
                        "the answer to a batch lacks some of its statements' results".into(),
                    ));
                }
            }
        }
        Ok(answers)
    }

    /// Runs `sql` and closes the stream, in one request.
    pub(super) async fn end_stream(&self, sql: &str) -> Result<(), Fault> {
        let requests = vec![
            StreamRequest::Execute {
                stmt: proto::Stmt::new(sql, Vec::new(), false),
            },
            StreamRequest::Close {},
        ];
        let results = self.stream.pipeline(requests).await?;
        for result in results {
            if let StreamResult::Error { error } = result {
                return Err(Fault::Server(error));
            }
        }
        Ok(())
    }

    /// The one request's response of a pipeline, or its error.
    fn only(&self, results: Vec<StreamResult>) -> Result<StreamResponse, Fault> {
        match results.into_iter().next() {
            Some(StreamResult::Ok { response }) => Ok(response),
            Some(StreamResult::Error { error }) => Err(Fault::Server(error)),
            None => Err(Fault::Malformed("an empty answer".into())),
        }
    }

    /// The database file's size, as the read-ahead last read it.
    pub(super) fn database_bytes(&self) -> Option<i64> {
        match self.answered(SIZE_SQL)?.first()?.first()? {
            Value::Integer(n) => Some(*n),
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

/// The statements of `sql` as steps that ask for no rows.
pub(super) fn writes(sql: &str) -> Vec<proto::Stmt> {
    statements(sql)
        .into_iter()
        .map(|sql| proto::Stmt::new(sql, Vec::new(), false))
        .collect()
}

/// The statements of `sql`, each ended where the engine would end it (a
/// trigger's body keeps its semicolons): a Hrana statement is exactly one.
/// Pieces with nothing but blanks and comments are left out. Semicolons in
/// quotes and comments are passed over here, so the engine's own test of
/// a whole statement runs about once a statement, not once a semicolon.
fn statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            quote @ (b'\'' | b'"' | b'`') => at = skip_past(bytes, at + 1, &[quote]),
            b'[' => at = skip_past(bytes, at + 1, b"]"),
            b'-' if bytes.get(at + 1) == Some(&b'-') => at = skip_past(bytes, at + 2, b"\n"),
            b'/' if bytes.get(at + 1) == Some(&b'*') => at = skip_past(bytes, at + 2, b"*/"),
            b';' => {
                let piece = &sql[start..=at];
                let complete = std::ffi::CString::new(piece)
                    .map_or(true, |c| crate::database::is_complete_statement(&c));
                if complete {
                    if has_statement(piece) {
                        out.push(piece.trim());
                    }
                    start = at + 1;
                }
                at += 1;
            }
            _ => at += 1,
        }
    }
    let rest = &sql[start..];
    if has_statement(rest) {
        out.push(rest.trim());
    }
    out
}

/// The index just past the first `end` at or after `from` (a doubled
/// quote closes and reopens, which comes to the same), or the text's end.
fn skip_past(bytes: &[u8], from: usize, end: &[u8]) -> usize {
    bytes[from.min(bytes.len())..]
        .windows(end.len())
        .position(|w| w == end)
        .map_or(bytes.len(), |i| from + i + end.len())
}

/// Whether `piece` holds anything but blanks, comments and semicolons.
fn has_statement(piece: &str) -> bool {
    let mut rest = piece;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return !rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_split_into_whole_statements() {
        let sql = "PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE;\n\
                   INSERT INTO t VALUES ('a;b', \"c;d\", [e;f], 'it''s;'); -- x;y\n;\n-- a note\n\
                   CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM u; END;\n\
                   /* end */ SELECT 1";
        assert_eq!(
            statements(sql),
            [
                "PRAGMA foreign_keys = OFF;",
                "BEGIN IMMEDIATE;",
                "INSERT INTO t VALUES ('a;b', \"c;d\", [e;f], 'it''s;');",
                "-- a note\nCREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM u; END;",
                "/* end */ SELECT 1",
            ]
        );
        assert!(statements("-- only a comment\n  ;  ").is_empty());
        assert!(statements("").is_empty());
    }
}
