//! A libSQL server (Turso, sqld) through seedbake's own Hrana client
//! (`hrana/`): every request bounded by `--timeout`, its failures
//! classified (`call.rs`), a
//! write transaction's statements packed into few large requests with the
//! reads that follow them (`batch.rs`), the last of which carries the
//! COMMIT, so the server applies all or nothing; a transaction ended by
//! the request that carries its last reads, and begun again, checked,
//! should more follow (`ending.rs`); tables read in pages (`scan.rs`).

mod batch;
mod call;
mod ending;
mod scan;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::failure::{DbError, Kind, Unreachable};
use super::hrana::{self, proto};
use super::pages::{Pager, Shape, Shapes};
use super::statements::Statements;
use super::transport::{self, Traffic};
use super::{Location, Observer, RowFn, Settings, Target, TrafficReport};
use crate::schema::TableScan;
use crate::seed::TableData;
use crate::value::Value;
use batch::Answer;

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
/// statement, so that one answer stays inside what the transport takes
/// (each page is at most sqld's 5,000,000-byte string, at most twice that
/// as JSON text: 60 MB against `MAX_ANSWER_BYTES`' 64 MiB); and no more
/// groups once this much is held, the rest being read by their own scans.
const PREFETCH_TABLES: usize = 6;
const PREFETCH_BYTES: usize = 16 << 20;

/// A database file at most this large has its tables fetched ahead whole,
/// in the one request that reads them: a page's JSON is a few times its
/// rows' size on disk (hex blobs, exact reals), far inside sqld's 10 MB
/// answer, and a read snapshot is committed in that same request. A server
/// that refuses the request all the same is read in pages.
const SMALL_DATABASE: i64 = 2 << 20;

/// The limit of a page that is the whole table.
const WHOLE_TABLE: usize = i64::MAX as usize;

pub struct Remote {
    location: Location,
    host: String,
    settings: Settings,
    traffic: Traffic,
    stream: hrana::Stream,
    /// Statements of the open write transaction not yet sent.
    pending: RefCell<String>,
    /// Whether a read transaction (`read_snapshot`) is open.
    snapshot: Cell<bool>,
    /// The answers of reads made since the last change, by their SQL.
    answers: RefCell<HashMap<String, Answer>>,
    /// Something changed since the read-ahead was last read.
    stale: Cell<bool>,
    /// Every table's shape, for reading in pages; none after a write.
    shapes: RefCell<Option<HashMap<String, Shape>>>,
    /// First pages (of `FIRST_PAGE_ROWS`) fetched ahead, by the pager that
    /// reads each table: its row count and its rows. Emptied by a write.
    /// The limit asked for is kept too: a page of fewer rows is the table's
    /// last.
    first_pages: RefCell<HashMap<Pager, (i64, String, usize)>>,
    /// Reads the caller said will follow ([`Target::expect`]), sent with
    /// the next request.
    expected: RefCell<Vec<String>>,
    /// First-page statements sent ahead of the writes that make their
    /// tables ([`Target::expect_prefetch`]), each with the guarded form
    /// it was sent in.
    speculated: RefCell<HashMap<String, String>>,
    /// The caller's next reads are the transaction's last
    /// ([`Target::last_reads`]).
    last_reads: Cell<bool>,
    /// The transaction was ended with the request that carried its last
    /// reads: what it read, to be read again when it begins again
    /// (`ending.rs`).
    recheck: RefCell<Option<Vec<(String, Answer)>>>,
    /// Whether a write transaction (`begin_write`) is open…
    writing: Cell<bool>,
    /// …and nothing has been written in it yet.
    clean: Cell<bool>,
    /// The server has answered a call: an answer that cannot be read
    /// after that is not a stranger's.
    answered: Cell<bool>,
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
        let send = transport::client(settings.request_timeout, &traffic);
        let stream = hrana::Stream::new(send, &url, token).map_err(|why| {
            DbError::new(
                Kind::Unreachable(Unreachable::Other),
                format!("the client could not be set up: {why}"),
            )
        })?;
        Ok(Remote {
            location,
            host,
            settings,
            traffic,
            stream,
            pending: RefCell::new(String::new()),
            snapshot: Cell::new(false),
            answers: RefCell::new(HashMap::new()),
            stale: Cell::new(true),
            shapes: RefCell::new(None),
            first_pages: RefCell::new(HashMap::new()),
            expected: RefCell::new(Vec::new()),
            speculated: RefCell::new(HashMap::new()),
            last_reads: Cell::new(false),
            recheck: RefCell::new(None),
            writing: Cell::new(false),
            clean: Cell::new(false),
            answered: Cell::new(false),
        })
    }

    /// Forgets what was read: something may change it.
    fn changing(&self) {
        self.clean.set(false);
        self.shapes.borrow_mut().take();
        self.first_pages.borrow_mut().clear();
        self.answers.borrow_mut().clear();
        self.stale.set(true);
    }
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
        let answer = match self.answered(sql) {
            Some(answer) => answer,
            None => self.exchange(&[sql], false, self.ending()).await?.remove(0),
        };
        for row in answer.iter() {
            let values: Vec<_> = row.iter().map(Value::as_ref).collect();
            f(&values)?;
        }
        Ok(())
    }

    async fn scan(&self, scan: &TableScan<'_>, f: RowFn<'_>) -> Result<(), DbError> {
        self.scan_table(scan, f).await
    }

    async fn prefetch(&self, scans: &[TableScan<'_>]) -> Result<(), DbError> {
        self.prefetch_pages(scans).await
    }

    fn last_reads(&self) {
        self.last_reads
            .set(self.snapshot.get() || self.writing.get());
    }

    fn expect_prefetch(&self, shapes: &Shapes, scans: &[TableScan<'_>]) {
        self.speculate(shapes, scans);
    }

    fn expect(&self, reads: &[String]) {
        self.expected.borrow_mut().extend(reads.iter().cloned());
    }

    async fn execute(&self, sql: &str) -> Result<(), DbError> {
        self.changing();
        self.pending.borrow_mut().push_str(sql);
        self.flush().await
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
        self.recheck.borrow_mut().take();
        self.last_reads.set(false);
        let started = Instant::now();
        loop {
            // The lock, and what every command reads first, in one request.
            *self.pending.borrow_mut() = ending::BEGIN_WRITE.into();
            match self.exchange(&[], true, None).await {
                Err(e) if e.is_busy() && started.elapsed() < self.settings.lock_timeout => {
                    tokio::time::sleep(LOCK_RETRY).await;
                }
                Err(e) => return Err(e),
                Ok(_) => {
                    self.writing.set(true);
                    self.clean.set(true);
                    return Ok(());
                }
            }
        }
    }

    async fn commit(&self) -> Result<(), DbError> {
        self.changing();
        self.speculated.borrow_mut().clear();
        super::not_interrupted()?;
        if self.reopens() {
            // Ended early after all: begun again (and checked) before the
            // COMMIT may go.
            self.exchange(&[], false, None).await?;
        }
        self.writing.set(false);
        let mut steps = self.pending_steps();
        steps.push(proto::Stmt::new("COMMIT", Vec::new(), false));
        // Once the COMMIT leaves, its answer is awaited even after a signal.
        self.call_to_the_end(self.batch(steps)).await.map(|_| ())
    }

    async fn rollback(&self) {
        self.pending.borrow_mut().clear();
        self.speculated.borrow_mut().clear();
        self.changing();
        self.writing.set(false);
        self.last_reads.set(false);
        let ended = self.recheck.borrow_mut().take().is_some();
        if ended || !self.stream.is_open() {
            // Ended already, with its last reads (`ending.rs`); or the
            // server dropped the stream, and the transaction with it.
            return;
        }
        let _ = self.call(self.end_stream("ROLLBACK")).await;
    }

    async fn read_snapshot(&self) -> Result<(), DbError> {
        self.changing();
        self.recheck.borrow_mut().take();
        self.last_reads.set(false);
        // The snapshot, and what every command reads first, in one request.
        *self.pending.borrow_mut() = ending::BEGIN_READ.into();
        self.exchange(&[], true, None).await?;
        self.snapshot.set(true);
        Ok(())
    }

    async fn end_snapshot(&self) {
        self.snapshot.set(false);
        self.last_reads.set(false);
        if self.recheck.borrow_mut().take().is_some() {
            self.changing();
            return;
        }
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
                Some(json) => {
                    let arg = proto::Value::Text {
                        value: json.clone(),
                    };
                    self.ask(&statement.sql, vec![arg], false).await.map(|_| ())
                }
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
