//! A libSQL server (Turso, sqld) through the libsql remote client: every
//! call bounded by `--timeout`, its failures classified, and a write
//! transaction's statements packed into few large requests, the last of
//! which carries the COMMIT, so the server applies all or nothing.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::failure::{
    DbError, Kind, Unreachable, client_report, hrana_kind, http_kind, sqlite_kind,
};
use super::statements::Statements;
use super::transport::{self, Refused, Traffic};
use super::{Location, Observer, RowFn, Settings, Target, TrafficReport};
use crate::seed::TableData;
use crate::value::from_libsql;

/// The most SQL text one statement carries. sqld reads a request body whole
/// and caps an answer at 10 MB; Turso's edge has its own body limits.
/// 512 KiB per statement within 2 MiB per request (`--request-bytes`) keeps
/// far inside every limit we know while needing one request per ~2 MiB.
pub const STATEMENT_BYTES: usize = 512 << 10;
pub const REQUEST_BYTES: usize = 2 << 20;

/// How often to ask again for a write lock another client holds: a server
/// answers busy at once rather than waiting.
const LOCK_RETRY: Duration = Duration::from_millis(250);

pub struct Remote {
    location: Location,
    host: String,
    settings: Settings,
    traffic: Traffic,
    conn: libsql::Connection,
    /// Statements of the open write transaction not yet sent.
    pending: RefCell<String>,
    // Keeps the client's database handle alive as long as the connection.
    _db: libsql::Database,
}

impl Remote {
    /// Opens the client; nothing is sent until the first call.
    pub async fn open(
        location: Location,
        token: &str,
        settings: Settings,
    ) -> Result<Remote, DbError> {
        let (url, host) = match &location {
            Location::Remote { url, host } => (url.clone(), host.clone()),
            Location::Local(_) => unreachable!("a server location"),
        };
        let traffic = Traffic::default();
        let failed = |e: libsql::Error| {
            DbError::new(
                Kind::Unreachable(Unreachable::Other),
                format!("the client could not be set up: {}", message_of(&e)),
            )
        };
        let db = transport::open(&url, token, settings.request_timeout, &traffic)
            .await
            .map_err(failed)?;
        let conn = db.connect().map_err(failed)?;
        Ok(Remote {
            location,
            host,
            settings,
            traffic,
            conn,
            pending: RefCell::new(String::new()),
            _db: db,
        })
    }

    /// Runs one client call, bounded by the request timeout, its failure
    /// classified. A signal stops it (see [`Remote::call_to_the_end`]).
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = libsql::Result<T>>,
    ) -> Result<T, DbError> {
        if let Some(signal) = crate::interrupt::requested() {
            return Err(DbError::interrupted(signal));
        }
        tokio::select! {
            result = self.call_to_the_end(call) => result,
            // Abandoning a request that carries no COMMIT abandons the
            // transaction: the server rolls it back.
            signal = crate::interrupt::requested_wait() => Err(DbError::interrupted(signal)),
        }
    }

    /// Runs one client call, bounded by the request timeout, without giving
    /// up for a signal: for the COMMIT, whose answer is the only way to
    /// know whether the server applied it.
    async fn call_to_the_end<T>(
        &self,
        call: impl std::future::Future<Output = libsql::Result<T>>,
    ) -> Result<T, DbError> {
        self.traffic.forget();
        let sent_before = self.traffic.bytes_sent();
        let outcome = tokio::time::timeout(self.settings.request_timeout, call).await;
        let sent = self.traffic.bytes_sent() > sent_before;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.classify(&e, sent)),
            Err(_) => {
                let seconds = self.settings.request_timeout.as_secs_f64();
                let (kind, message) = if sent {
                    (
                        Kind::NoAnswer,
                        format!("the server did not answer within {seconds} s (--timeout)"),
                    )
                } else {
                    (
                        Kind::Unreachable(Unreachable::ConnectTimeout),
                        format!(
                            "could not reach {} within {seconds} s (--timeout)",
                            self.host
                        ),
                    )
                };
                Err(DbError {
                    kind,
                    message,
                    sent,
                })
            }
        }
    }

    fn classify(&self, e: &libsql::Error, sent: bool) -> DbError {
        let seen = self.traffic.seen();
        let report = client_report(e);
        let kind = if let Some(why) = seen.unreachable {
            Kind::Unreachable(why)
        } else if seen.tls_answer {
            Kind::Unreachable(Unreachable::Tls)
        } else if seen.refused.is_some() || report.malformed {
            Kind::BadAnswer
        } else if let Some(code) = &report.code {
            match (hrana_kind(code), report.status) {
                (Kind::Engine, Some(status)) => http_kind(status),
                (kind, _) => kind,
            }
        } else if let Some(status) = report.status {
            match http_kind(status) {
                // A status without the protocol's error: not a Hrana server.
                Kind::Engine => Kind::BadAnswer,
                kind => kind,
            }
        } else if report.transport {
            Kind::Broken
        } else {
            match e {
                libsql::Error::SqliteFailure(code, _) => sqlite_kind(*code),
                libsql::Error::ConnectionFailed(_) => Kind::Unreachable(Unreachable::Other),
                _ => Kind::Engine,
            }
        };
        let server_said = report.message.clone().unwrap_or_else(|| message_of(e));
        let host = &self.host;
        let message = match &kind {
            Kind::Unreachable(Unreachable::Dns(Some(own))) => own.clone(),
            Kind::Unreachable(Unreachable::Dns(None)) => {
                format!("cannot resolve the host name {host}: check the URL and the machine's DNS")
            }
            Kind::Unreachable(Unreachable::Refused) => {
                format!("{host} refused the connection: is the server running, and is the port right?")
            }
            Kind::Unreachable(Unreachable::ConnectTimeout) => format!(
                "could not connect to {host} within {} s (--timeout)",
                self.settings.request_timeout.as_secs_f64()
            ),
            Kind::Unreachable(Unreachable::Tls) => format!(
                "the TLS handshake with {host} failed: use https:// (or libsql://) for TLS servers and http:// for plain ones"
            ),
            Kind::Unreachable(Unreachable::Other) => format!("cannot connect to {host}"),
            Kind::Unauthorized => "the server rejected the auth token (401): check TURSO_AUTH_TOKEN or --auth-token; it may have expired".into(),
            Kind::Forbidden => "the token is not allowed to do this (403): use a token with write access to this database".into(),
            Kind::TooLarge => format!(
                "a server limit was exceeded (request or response too large; lower --request-bytes): {server_said}"
            ),
            // Not "rolled back": after a committed reset, the session that
            // expired is the check's, which wrote nothing.
            Kind::Expired => format!(
                "the server ended the session (idle too long, or it held the write lock too long while another client wanted it): {server_said}"
            ),
            Kind::ServerFailed => format!(
                "the server failed (HTTP {})",
                report.status.unwrap_or(500)
            ),
            Kind::Broken => format!("the connection to {host} broke mid-request"),
            Kind::NoAnswer => "the server did not answer".into(),
            Kind::BadAnswer => match seen.refused {
                Some(refused @ Refused::TooLarge { .. }) => format!(
                    "{refused}, far more than a libSQL server sends (sqld: at most 10 MB); seedbake refused it. \
                     Is {host} a libSQL server, and is nothing in between rewriting its answers?"
                ),
                Some(refused) => format!(
                    "{refused}; is {host} a libSQL server (sqld, Turso), and is nothing in between rewriting its answers?"
                ),
                None => match report.status {
                    Some(status) => format!(
                        "the server answered HTTP {status}; is {host} a libSQL server (sqld, Turso), and the URL's path right?"
                    ),
                    None => format!(
                        "the server's answer is not a libSQL (Hrana) answer; is {host} a libSQL server (sqld, Turso)?"
                    ),
                },
            },
            Kind::Interrupted => "interrupted".into(),
            Kind::Busy => format!("the database is locked by another client: {server_said}"),
            Kind::Constraint | Kind::CannotOpen | Kind::Engine => server_said,
        };
        DbError {
            kind,
            message,
            sent,
        }
    }

    /// Sends the write transaction's pending statements.
    async fn flush(&self) -> Result<(), DbError> {
        let batch = std::mem::take(&mut *self.pending.borrow_mut());
        if batch.is_empty() {
            return Ok(());
        }
        self.call(self.conn.execute_batch(&batch)).await.map(|_| ())
    }
}

/// The client's error as text, for the rare errors that have no kind.
fn message_of(e: &libsql::Error) -> String {
    crate::schema::engine_message(e)
}

#[async_trait(?Send)]
impl Target for Remote {
    fn location(&self) -> &Location {
        &self.location
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn traffic(&self) -> Option<TrafficReport> {
        Some(TrafficReport::from(&self.traffic))
    }

    /// Re-reading a server's rows inside the transaction would cost
    /// requests per query and hold the server's write lock meanwhile; a
    /// server load is proven after the commit instead (`verify`).
    fn proves_in_transaction(&self) -> bool {
        false
    }

    async fn query(&self, sql: &str, f: RowFn<'_>) -> Result<(), DbError> {
        self.flush().await?;
        let mut rows = self.call(self.conn.query(sql, ())).await?;
        let width = rows.column_count().max(0);
        let mut owned = Vec::with_capacity(width as usize);
        while let Some(row) = self.call(rows.next()).await? {
            owned.clear();
            for i in 0..width {
                owned.push(row.get_value(i).map_err(|e| self.classify(&e, false))?);
            }
            let values: Vec<_> = owned.iter().map(from_libsql).collect();
            f(&values).map_err(|stopped| DbError::new(Kind::Engine, stopped))?;
        }
        Ok(())
    }

    async fn execute(&self, sql: &str) -> Result<(), DbError> {
        self.flush().await?;
        self.call(self.conn.execute_batch(sql)).await.map(|_| ())
    }

    async fn write(&self, sql: &str) -> Result<(), DbError> {
        let full = {
            let pending = self.pending.borrow();
            !pending.is_empty() && pending.len() + sql.len() > self.settings.request_bytes
        };
        if full {
            self.flush().await?;
        }
        let mut pending = self.pending.borrow_mut();
        pending.push_str(sql);
        pending.push_str(";\n");
        Ok(())
    }

    async fn begin_write(&self) -> Result<(), DbError> {
        let started = Instant::now();
        loop {
            match self
                .call(
                    self.conn
                        .execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE"),
                )
                .await
            {
                Err(e) if e.is_busy() && started.elapsed() < self.settings.lock_timeout => {
                    tokio::time::sleep(LOCK_RETRY).await;
                }
                other => return other.map(|_| ()),
            }
        }
    }

    async fn commit(&self) -> Result<(), DbError> {
        if let Some(signal) = crate::interrupt::requested() {
            return Err(DbError::interrupted(signal));
        }
        let mut batch = std::mem::take(&mut *self.pending.borrow_mut());
        batch.push_str("COMMIT");
        // Once the COMMIT leaves, its answer is awaited even after a signal.
        self.call_to_the_end(self.conn.execute_batch(&batch))
            .await
            .map(|_| ())
    }

    async fn rollback(&self) {
        self.pending.borrow_mut().clear();
        if self.conn.is_autocommit() {
            // The server already dropped the stream, and the transaction with it.
            return;
        }
        let _ = self.call(self.conn.execute("ROLLBACK", ())).await;
    }

    async fn read_snapshot(&self) -> Result<(), DbError> {
        self.execute("BEGIN").await
    }

    async fn end_snapshot(&self) {
        let _ = self.execute("COMMIT").await;
    }

    async fn load_table(
        &self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> Result<(), DbError> {
        observer.table_started(table.name, table.row_count);
        let max_statement = STATEMENT_BYTES.min(self.settings.request_bytes);
        for (sql, rows) in Statements::new(table, max_statement) {
            self.write(&sql).await?;
            observer.rows_loaded(table.name, rows).map_err(|reason| {
                DbError::new(Kind::Engine, format!("loading {}: {reason}", table.name))
            })?;
        }
        Ok(())
    }
}
