//! A libSQL server (Turso, sqld) through the libsql remote client: every
//! call bounded by `--timeout`, its failures classified, and a write
//! transaction's statements packed into few large requests, the last of
//! which carries the COMMIT, so the server applies all or nothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::failure::{
    DbError, Kind, Unreachable, client_report, hrana_kind, http_kind, server_words, sqlite_kind,
};
use super::pages::{self, Cell, ColumnInfo, PageError, Pager, Shape};
use super::statements::Statements;
use super::transport::{self, Refused, Traffic};
use super::{Location, Observer, RowFn, Settings, Target, TrafficReport};
use crate::schema::TableScan;
use crate::seed::TableData;
use crate::value::{ValueRef, from_libsql, to_libsql};

/// The most SQL text one statement carries. sqld reads a request body whole
/// and caps an answer at 10 MB; Turso's edge has its own body limits.
/// 512 KiB per statement within 2 MiB per request (`--request-bytes`) keeps
/// far inside every limit we know while needing one request per ~2 MiB.
pub const STATEMENT_BYTES: usize = 512 << 10;
pub const REQUEST_BYTES: usize = 2 << 20;

/// How often to ask again for a write lock another client holds: a server
/// answers busy at once rather than waiting.
const LOCK_RETRY: Duration = Duration::from_millis(250);

/// A table is read in pages (`pages.rs`) of about this much JSON and at
/// most this long each: far inside sqld's 10 s idle clock, even over a
/// slow link, and a bounded amount of memory. The first page is small; the
/// next ones are sized from what the last one cost.
const PAGE_BYTES: usize = 4 << 20;
const PAGE_TIME: Duration = Duration::from_secs(1);
const FIRST_PAGE_ROWS: usize = 512;

/// Rows of less JSON than this travel as a literal, packed with other
/// statements (the Aquarius seed takes 4 requests); more, bound to a
/// statement of their own.
const BIND_FROM: usize = 256 << 10;
const MAX_PAGE_ROWS: usize = 1 << 20;

/// First pages fetched together ([`Target::prefetch`]): this many tables a
/// statement, so that one answer's row stays far inside what the transport
/// takes in one line (each page is at most sqld's 5,000,000-byte string,
/// at most twice that as JSON text: 60 MB against `MAX_LINE_BYTES`' 64
/// MiB); and no more groups once this much is held, the rest being read
/// by their own scans.
const PREFETCH_TABLES: usize = 6;
const PREFETCH_BYTES: usize = 16 << 20;

pub struct Remote {
    location: Location,
    host: String,
    settings: Settings,
    traffic: Traffic,
    conn: libsql::Connection,
    /// Statements of the open write transaction not yet sent.
    pending: RefCell<String>,
    /// Whether a read transaction (`read_snapshot`) is open.
    snapshot: std::cell::Cell<bool>,
    /// Every table's shape, for reading in pages; none after a write.
    shapes: RefCell<Option<HashMap<String, Shape>>>,
    /// First pages (of `FIRST_PAGE_ROWS`) fetched ahead, by the pager that
    /// reads each table: its row count and its rows. Emptied by a write.
    first_pages: RefCell<HashMap<Pager, (i64, String)>>,
    /// The server has answered a call: an answer that cannot be read
    /// after that is not a stranger's.
    answered: std::cell::Cell<bool>,
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
            snapshot: std::cell::Cell::new(false),
            shapes: RefCell::new(None),
            first_pages: RefCell::new(HashMap::new()),
            answered: std::cell::Cell::new(false),
            _db: db,
        })
    }

    /// Runs one client call, bounded by the request timeout, its failure
    /// classified. A signal stops it (see [`Remote::call_to_the_end`]).
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = libsql::Result<T>>,
    ) -> Result<T, DbError> {
        super::not_interrupted()?;
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
            Ok(Ok(value)) => {
                self.answered.set(true);
                Ok(value)
            }
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
        let kind = if seen.sent_elsewhere.is_some() {
            Kind::BadAnswer
        } else if let Some(why) = seen.unreachable {
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
        let server_said = server_words(&report.message.clone().unwrap_or_else(|| message_of(e)));
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
            Kind::Expired if self.snapshot.get() => format!(
                "the server ended the read transaction: no request reached it for longer than its stream clock \
                 (10 s on sqld; a page of rows took too long or the link stalled), so what was read is not one \
                 consistent state and is not used; nothing was changed: run the command again on a steadier link: \
                 {server_said}"
            ),
            // The caller says what became of the work (a write transaction
            // is gone with the session: rolled back).
            // sqld takes the write lock from a transaction older than 5 s
            // when another client asks for it (libsql-server
            // `connection/mod.rs`, `TXN_TIMEOUT`), and says so by this code.
            Kind::Expired if report.code.as_deref() == Some("TRANSACTION_TIMEOUT") => format!(
                "the server rolled the transaction back: seedbake held the write lock longer than the server \
                 allows while another client wanted to write (5 s on sqld). Stop the app's writers while this \
                 runs (a big database takes longer than 5 s), then run it again: {server_said}"
            ),
            Kind::Expired => format!(
                "the server ended the session: no request reached it within its stream clock (10 s on sqld), or \
                 it took the write lock away while another client wanted to write (after 5 s on sqld). Run it \
                 again on a steadier link, with the app's writers stopped: {server_said}"
            ),
            Kind::ServerFailed => format!(
                "the server failed (HTTP {})",
                report.status.unwrap_or(500)
            ),
            Kind::Broken => format!("the connection to {host} broke mid-request"),
            Kind::NoAnswer => "the server did not answer".into(),
            Kind::BadAnswer if seen.sent_elsewhere.is_some() => format!(
                "the server told the client to go on at {}, not at {host} where the database URL points; \
                 seedbake sends the auth token nowhere else, so it stopped there and sent nothing to it. \
                 Is {host} the database's own server, and is nothing in between rewriting its answers?",
                seen.sent_elsewhere.as_deref().unwrap_or_default()
            ),
            Kind::BadAnswer => match seen.refused {
                Some(refused @ Refused::TooLarge { .. }) => format!(
                    "{refused}, far more than a libSQL server sends (sqld: at most 10 MB); seedbake refused it. \
                     Is {host} a libSQL server, and is nothing in between rewriting its answers?"
                ),
                Some(refused) => format!(
                    "{refused}; is {host} a libSQL server (sqld, Turso), and is nothing in between rewriting its answers?"
                ),
                None if self.answered.get() => "the server's answer broke off or could not be read, \
                    though its earlier answers could: sqld answers so when a value it must send is TEXT that \
                    is not valid UTF-8, which it cannot write as JSON (HTTP 500 \"invalid utf-8 sequence\", \
                    or a cursor that ends early). Such values can be read only where the database file is \
                    (the sqlite3 shell, or seedbake on the file); they must be mended before a server can \
                    send them"
                    .to_owned(),
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

    /// A table's columns and whether it has a rowid. Every table's shape is
    /// read at once, in one query, and kept until the next write.
    async fn shape(&self, table: &str) -> Result<Shape, DbError> {
        if self.shapes.borrow().is_none() {
            let mut shapes: HashMap<String, Shape> = HashMap::new();
            use crate::schema::{int, text};
            self.query(pages::SHAPES_SQL, &mut |r| {
                let shape = shapes.entry(text(&r[0])).or_insert_with(|| Shape {
                    columns: Vec::new(),
                    has_rowid: true,
                });
                shape.columns.push(ColumnInfo {
                    name: text(&r[1]),
                    declared_type: text(&r[2]),
                    not_null: int(&r[3]) != 0,
                    pk: int(&r[4]),
                    hidden: int(&r[5]),
                });
                shape.has_rowid = int(&r[6]) == 0;
                Ok(())
            })
            .await?;
            *self.shapes.borrow_mut() = Some(shapes);
        }
        self.shapes
            .borrow()
            .as_ref()
            .and_then(|s| s.get(table).cloned())
            .ok_or_else(|| DbError::new(Kind::Engine, format!("there is no table {table} to read")))
    }

    /// Forgets what the tables looked like: something may change them.
    fn changing(&self) {
        self.shapes.borrow_mut().take();
        self.first_pages.borrow_mut().clear();
    }

    /// The time a page should take: a second, or less under a short
    /// `--timeout` (a page must never be what runs into it).
    fn page_aim(&self) -> Duration {
        PAGE_TIME.min(self.settings.request_timeout / 4)
    }

    /// One page: its rows handed to `f`; the last row's values, the number
    /// of rows and of bytes, and whether it was fetched ahead.
    async fn page(
        &self,
        pager: &Pager,
        after: Option<&[libsql::Value]>,
        limit: usize,
        f: RowFn<'_>,
    ) -> Result<(Option<Vec<Cell<'static>>>, usize, usize, bool), DbError> {
        let fetched = match after {
            None if limit == FIRST_PAGE_ROWS => self.first_pages.borrow_mut().remove(pager),
            _ => None,
        };
        let prefetched = fetched.is_some();
        let (counted, text) = match fetched {
            Some(page) => page,
            None => {
                self.fetch_page(&pager.page_sql(after.is_some(), limit), after)
                    .await?
            }
        };
        let (last, n) = pages::each_row(&text, pager.width(), &mut |cells| {
            let values: Vec<ValueRef<'_>> = cells.iter().map(Cell::as_ref).collect();
            f(&values)
        })
        .map_err(|e| match e {
            PageError::Stopped(why) | PageError::Unreadable(why) => DbError::new(Kind::Engine, why),
        })?;
        if counted != n as i64 {
            return Err(DbError::new(
                Kind::Engine,
                format!("the server counted {counted} rows in a page of {n}"),
            ));
        }
        Ok((last, n, text.len(), prefetched))
    }

    /// A page from the server: its row count and its rows.
    async fn fetch_page(
        &self,
        sql: &str,
        after: Option<&[libsql::Value]>,
    ) -> Result<(i64, String), DbError> {
        let params = after.map(<[_]>::to_vec).unwrap_or_default();
        let mut rows = self.call(self.conn.query(sql, params)).await?;
        let Some(row) = self.call(rows.next()).await? else {
            return Err(DbError::new(
                Kind::Engine,
                "the server answered a page with nothing",
            ));
        };
        let counted = match row.get_value(0) {
            Ok(libsql::Value::Integer(n)) => n,
            _ => -1,
        };
        let text = match row.get_value(1) {
            Ok(libsql::Value::Text(t)) => t,
            _ => String::new(),
        };
        drop(row);
        // The rest of the answer (the step's end), so the connection is
        // free for the next request.
        while self.call(rows.next()).await?.is_some() {}
        Ok((counted, text))
    }

    /// The next row alone, through a plain query (no page to make): its
    /// values go to `f`; its keys come back, or nothing at the table's end.
    async fn one_row(
        &self,
        pager: &Pager,
        after: Option<&[libsql::Value]>,
        f: RowFn<'_>,
    ) -> Result<Option<Vec<libsql::Value>>, DbError> {
        let sql = pager.row_sql(after.is_some());
        let params = after.map(<[_]>::to_vec).unwrap_or_default();
        let mut rows = self.call(self.conn.query(&sql, params)).await?;
        let Some(row) = self.call(rows.next()).await? else {
            return Ok(None);
        };
        let width = rows.column_count().max(0);
        let mut owned = Vec::with_capacity(width as usize);
        for i in 0..width {
            owned.push(row.get_value(i).map_err(|e| self.classify(&e, false))?);
        }
        drop(row);
        while self.call(rows.next()).await?.is_some() {}
        let values: Vec<ValueRef<'_>> = owned.iter().map(from_libsql).collect();
        f(&values[..pager.width()]).map_err(|why| DbError::new(Kind::Engine, why))?;
        Ok(Some(
            pager.key_positions().map(|i| owned[i].clone()).collect(),
        ))
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

    /// A server's rows are re-read in packed pages (`pages.rs`) on the
    /// transaction's own stream: for the 1M-row bench seed a fraction of
    /// the load's time, and nothing is committed that is not the build's.
    fn proves_in_transaction(&self) -> bool {
        self.settings.prove
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

    async fn scan(&self, scan: &TableScan<'_>, f: RowFn<'_>) -> Result<(), DbError> {
        self.flush().await?;
        let shape = self.shape(scan.table).await?;
        let pager = Pager::new(scan, &shape).map_err(|m| DbError::new(Kind::Engine, m))?;
        let mut after: Option<Vec<libsql::Value>> = None;
        let mut limit = FIRST_PAGE_ROWS;
        loop {
            let started = Instant::now();
            let (last, n, bytes, prefetched) =
                match self.page(&pager, after.as_deref(), limit, f).await {
                    // Rows far larger than the last ones (or the first page of
                    // a table of big rows): the server refused to make the page
                    // (sqld's engine makes no string over 5,000,000 bytes, and
                    // answers no more than 10 MB) before sending any row, and
                    // the stream goes on. Smaller pages, down to one row; a row
                    // whose page alone is too big is read as it is.
                    Err(e) if e.kind == Kind::TooLarge && limit > 1 => {
                        limit = (limit / 8).max(1);
                        continue;
                    }
                    Err(e) if e.kind == Kind::TooLarge => {
                        match self.one_row(&pager, after.as_deref(), f).await? {
                            Some(keys) => after = Some(keys),
                            None => return Ok(()),
                        }
                        continue;
                    }
                    page => page?,
                };
            let Some(last) = last.filter(|_| n == limit) else {
                return Ok(());
            };
            after = Some(
                pager
                    .key_positions()
                    .map(|i| to_libsql(last[i].as_ref()))
                    .collect(),
            );
            let by_bytes = PAGE_BYTES * n / bytes.max(1);
            let took = started.elapsed().as_secs_f64().max(1e-3);
            // A page fetched ahead says nothing of what a page costs.
            let by_time = if prefetched {
                n * 8
            } else {
                (self.page_aim().as_secs_f64() / took * n as f64) as usize
            };
            limit = by_bytes.min(by_time).clamp(1, MAX_PAGE_ROWS);
        }
    }

    async fn prefetch(&self, scans: &[TableScan<'_>]) -> Result<(), DbError> {
        self.flush().await?;
        self.first_pages.borrow_mut().clear();
        let mut pagers = Vec::with_capacity(scans.len());
        for scan in scans {
            // A table that cannot be paged is refused by its own scan.
            if let Ok(pager) = Pager::new(scan, &self.shape(scan.table).await?) {
                pagers.push(pager);
            }
        }
        let mut held = 0;
        for group in pagers.chunks(PREFETCH_TABLES) {
            if held >= PREFETCH_BYTES {
                break;
            }
            let started = Instant::now();
            let refs: Vec<&Pager> = group.iter().collect();
            let mut texts: Vec<Option<String>> = Vec::with_capacity(group.len());
            let read = self
                .query(
                    &pages::first_pages_sql(&refs, FIRST_PAGE_ROWS),
                    &mut |row| {
                        texts.extend(row.iter().map(|v| match v {
                            ValueRef::Text(t) => Some((*t).to_owned()),
                            _ => None,
                        }));
                        Ok(())
                    },
                )
                .await;
            match read {
                // A page longer than the server's longest string: these
                // tables' scans read them in smaller pages.
                Err(e) if e.kind == Kind::TooLarge => continue,
                read => read?,
            }
            let mut cache = self.first_pages.borrow_mut();
            for (pager, text) in group.iter().zip(texts) {
                let Some(mut text) = text else { continue };
                let Some((count, rows)) = pages::split_first_page(&text) else {
                    continue;
                };
                let count_len = text.len() - rows.len();
                text.drain(..count_len);
                held += text.len();
                cache.insert(pager.clone(), (count, text));
            }
            // First pages that cost more than a page should (a table
            // without a key is sorted whole to find its first rows): the
            // rest are read a table a request, each inside the aim.
            if started.elapsed() > self.page_aim() {
                break;
            }
        }
        Ok(())
    }

    async fn execute(&self, sql: &str) -> Result<(), DbError> {
        self.changing();
        self.flush().await?;
        self.call(self.conn.execute_batch(sql)).await.map(|_| ())
    }

    async fn write(&self, sql: &str) -> Result<(), DbError> {
        self.changing();
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
        self.changing();
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
        self.changing();
        super::not_interrupted()?;
        let mut batch = std::mem::take(&mut *self.pending.borrow_mut());
        batch.push_str("COMMIT");
        // Once the COMMIT leaves, its answer is awaited even after a signal.
        self.call_to_the_end(self.conn.execute_batch(&batch))
            .await
            .map(|_| ())
    }

    async fn rollback(&self) {
        self.changing();
        self.pending.borrow_mut().clear();
        if self.conn.is_autocommit() {
            // The server already dropped the stream, and the transaction with it.
            return;
        }
        let _ = self.call(self.conn.execute("ROLLBACK", ())).await;
    }

    async fn read_snapshot(&self) -> Result<(), DbError> {
        self.execute("BEGIN").await?;
        self.snapshot.set(true);
        Ok(())
    }

    async fn end_snapshot(&self) {
        self.snapshot.set(false);
        let _ = self.execute("COMMIT").await;
    }

    async fn load_table(
        &self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> Result<(), DbError> {
        self.changing();
        observer.table_started(table.name, table.row_count);
        // Rows bound as JSON go one statement per request, as large as a
        // request may be; literal rows are packed several to a request.
        let max_statement = STATEMENT_BYTES.min(self.settings.request_bytes);
        let max_bound = self.settings.request_bytes;
        // The next statement is made on a thread of its own while the
        // server works on this one.
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let maker = std::thread::spawn(move || {
            for statement in Statements::new(table, max_statement, max_bound) {
                if tx.blocking_send(statement).is_err() {
                    return;
                }
            }
        });
        let mut outcome = Ok(());
        while let Some(statement) = rx.recv().await {
            let sent = match &statement.rows_json {
                // Small tables' rows ride along with the other statements
                // of a request, as a literal; bound JSON needs a request
                // of its own.
                Some(json) if json.len() < BIND_FROM => self.write(&statement.inlined()).await,
                Some(json) => match self.flush().await {
                    Ok(()) => self
                        .call(self.conn.execute(&statement.sql, [json.as_str()]))
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                },
                None => self.write(&statement.sql).await,
            };
            outcome = sent.and_then(|()| super::rows_loaded(observer, table.name, statement.rows));
            if outcome.is_err() {
                break;
            }
        }
        drop(rx);
        let _ = maker.join();
        outcome
    }
}
