//! Where a command operates: a local libSQL file or a libSQL server, behind
//! one interface, [`Target`], that every operation is written against. Each
//! kind of database has one implementation: [`local::Local`] (the engine's
//! C API on a file) and [`remote::Remote`] (seedbake's Hrana client over
//! HTTP, `hrana/`).

pub mod dns;
pub mod failure;
mod ffi;
#[doc(hidden)]
pub mod hrana;
pub mod local;
mod pages;
pub mod remote;
mod statements;
mod transport;
mod url;

pub use failure::{DbError, Kind};
pub use pages::{SHAPES_SQL, Shapes, shapes};
pub use transport::Traffic;
pub use url::{DatabaseUrl, Location, display_url, parse_database_url, parse_url};

use std::fmt;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::schema::{Rows, TableScan};
use crate::seed::TableData;

/// Told what happens while rows load; may stop the load by returning an
/// error (the transaction then rolls back).
pub trait Observer {
    fn table_started(&mut self, _table: &str, _rows: usize) {}
    fn rows_loaded(&mut self, _table: &str, _rows: usize) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// Tells the observer that `rows` more rows of `table` are in; its refusal
/// stops the load.
fn rows_loaded(
    observer: &mut dyn Observer,
    table: &str,
    rows: usize,
) -> std::result::Result<(), DbError> {
    observer
        .rows_loaded(table, rows)
        .map_err(|reason| DbError::new(failure::Kind::Engine, format!("loading {table}: {reason}")))
}

/// Stops before the next step once a signal came.
fn not_interrupted() -> std::result::Result<(), DbError> {
    match crate::interrupt::requested() {
        Some(signal) => Err(DbError::interrupted(signal)),
        None => Ok(()),
    }
}

/// Observes nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What a query hands each row to; an `Err` stops the query and comes back
/// from it as it is (see [`DbError::stopped`] for an error of the caller's
/// own).
pub type RowFn<'f> = crate::schema::RowFn<'f, DbError>;

/// How to reach and wait for a database.
#[derive(Clone)]
pub struct Settings {
    /// How long to wait for another connection's write lock.
    pub lock_timeout: Duration,
    /// For servers: the bearer token. Never displayed (see `Debug`).
    pub auth_token: Option<String>,
    /// For servers: how long one request may take before seedbake gives up.
    pub request_timeout: Duration,
    /// For servers: the most SQL text one request carries.
    pub request_bytes: usize,
    /// For local files: create the file when it does not exist. Only the
    /// commands that fill a database do; the others say it is missing.
    pub create: bool,
    /// For local files: open read-only (`?mode=ro`).
    pub read_only: bool,
    /// For servers: prove a load inside its transaction, before the commit,
    /// by re-reading every row (`--no-verify` turns it off; a local file
    /// always proves its load).
    pub prove: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lock_timeout: Duration::from_secs(5),
            auth_token: None,
            request_timeout: Duration::from_secs(30),
            request_bytes: remote::REQUEST_BYTES,
            create: true,
            read_only: false,
            prove: true,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("lock_timeout", &self.lock_timeout)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "(hidden)"))
            .field("request_timeout", &self.request_timeout)
            .field("request_bytes", &self.request_bytes)
            .field("create", &self.create)
            .field("read_only", &self.read_only)
            .field("prove", &self.prove)
            .finish()
    }
}

/// Bytes and requests exchanged with a server.
#[derive(Debug, Clone, Serialize)]
pub struct TrafficReport {
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl From<&Traffic> for TrafficReport {
    fn from(t: &Traffic) -> Self {
        TrafficReport {
            requests: t.requests(),
            bytes_sent: t.bytes_sent(),
            bytes_received: t.bytes_received(),
        }
    }
}

/// An open database. The operations (`crate::ops`) use nothing else.
///
/// Reads see the open write transaction's writes. Writes made with
/// [`Target::write`] belong to the transaction begun by
/// [`Target::begin_write`] and may be sent later, with the commit at the
/// latest; everything else happens when called.
#[async_trait(?Send)]
pub trait Target {
    fn location(&self) -> &Location;

    fn settings(&self) -> &Settings;

    /// What crossed the network so far, for servers.
    fn traffic(&self) -> Option<TrafficReport> {
        None
    }

    /// Whether a load proves its rows inside its own transaction, before
    /// the commit (always on a local file; on a server unless told not to).
    fn proves_in_transaction(&self) -> bool;

    /// Runs a query and hands every row to `f`.
    async fn query(&self, sql: &str, f: RowFn<'_>) -> std::result::Result<(), DbError>;

    /// Reads a whole table, handing every row to `f`, in `scan.order` when
    /// it names columns. A server reads it in short pages on the stream of
    /// the open snapshot or transaction, so no request outlasts the
    /// server's clocks and memory stays bounded by a page.
    async fn scan(&self, scan: &TableScan<'_>, f: RowFn<'_>) -> std::result::Result<(), DbError> {
        self.query(&scan.sql(), f).await
    }

    /// The tables `scan` reads next, in this order: a server fetches their
    /// first pages together, a few tables a request, and `scan` takes each
    /// from there (until anything is written). A local file gains nothing.
    async fn prefetch(&self, _scans: &[TableScan<'_>]) -> std::result::Result<(), DbError> {
        Ok(())
    }

    /// Reads that follow (each one statement that cannot fail on any
    /// database, in any order): a server sends them with its next request
    /// and answers them from there (until anything is written).
    fn expect(&self, _reads: &[String]) {}

    /// The tables [`Target::prefetch`] will be asked for once the pending
    /// writes are done, with the shapes those writes give them (`shapes`,
    /// read from a database that holds the schema they create): a server
    /// reads them whole with the request that carries the writes, if the
    /// database is small then, and `prefetch` uses what it read only where
    /// its own statements, made from the shapes it finds in that same
    /// request, are the same (otherwise it reads again).
    fn expect_prefetch(&self, _shapes: &Shapes, _scans: &[TableScan<'_>]) {}

    /// Says that the reads from here on are most likely the open
    /// transaction's last, and (in a write transaction) that nothing has
    /// been written: a server may then end the transaction with the request
    /// that carries them (a write transaction is rolled back), saving the
    /// request that ends it. Should more be read or written after all, it
    /// begins it again with the next request, which first reads again what
    /// was read before and fails unless the answers are the same, so what
    /// is read and written still belongs to one consistent state.
    fn last_reads(&self) {}

    /// Runs statements now, returning no rows.
    async fn execute(&self, sql: &str) -> std::result::Result<(), DbError>;

    /// Takes the write lock (waiting up to the lock timeout) with foreign
    /// keys off: a reset drops parents before their children and checks
    /// every key itself before it commits.
    async fn begin_write(&self) -> std::result::Result<(), DbError>;

    /// A statement of the write transaction.
    async fn write(&self, sql: &str) -> std::result::Result<(), DbError>;

    /// Inserts every embedded row of `table` in the write transaction.
    async fn load_table(
        &self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> std::result::Result<(), DbError>;

    async fn commit(&self) -> std::result::Result<(), DbError>;

    /// Undoes the write transaction, if one is still open.
    async fn rollback(&self);

    /// Starts a read transaction: what is read until [`Target::end_snapshot`]
    /// is one consistent state of the database.
    async fn read_snapshot(&self) -> std::result::Result<(), DbError>;

    async fn end_snapshot(&self);

    /// Confines (`on`) what SQL may do during a restore to what a restore
    /// needs on this one database, or lifts that: no other database file
    /// (ATTACH), no PRAGMA but `foreign_keys`, no transaction control, no
    /// writes to the engine's own tables, no `load_extension`. Locally the
    /// engine's authorizer enforces it (and a small page cache keeps a
    /// restore's memory flat: it writes each page once). A server offers no
    /// authorizer over its protocol: there the restore's own allow-list,
    /// checked on every statement before it is sent, is the confinement,
    /// hence the default that does nothing.
    fn confine(&self, _on: bool) -> std::result::Result<(), DbError> {
        Ok(())
    }
}

/// Whether `sql` ends with a complete statement, as the engine's own
/// tokenizer sees it (quotes, comments, semicolons in a trigger's body).
pub(crate) fn is_complete_statement(sql: &std::ffi::CStr) -> bool {
    ffi::is_complete(sql)
}

/// Opens the database at `location`.
/// A scratch copy of a local database in `dir`, made as one consistent
/// snapshot (`VACUUM INTO`, which a read-only connection may run) and
/// opened writable under the original's name: a dry run works on it, so
/// the original is never written, locked for writing or given a journal.
/// `None` for a server, whose rolled-back transaction keeps nothing.
pub async fn scratch_copy(target: &dyn Target, dir: &Path) -> Option<Result<Box<dyn Target>>> {
    let Location::Local(_) = target.location() else {
        return None;
    };
    let shown = target.location().to_string();
    let copy = dir.join("scratch.db");
    let Some(literal) = copy
        .to_str()
        .map(|p| format!("'{}'", p.replace('\'', "''")))
    else {
        return Some(Err(Error::Open {
            target: shown,
            reason: format!("the scratch folder {} is not UTF-8", dir.display()),
        }));
    };
    let made = async {
        target.execute(&format!("VACUUM INTO {literal}")).await?;
        let settings = Settings {
            create: false,
            read_only: false,
            ..target.settings().clone()
        };
        local::Local::open_as(&copy, settings, target.location().clone())
    };
    Some(match made.await {
        Ok(local) => Ok(Box::new(local) as Box<dyn Target>),
        Err(e) => Err(Error::Open {
            target: shown,
            reason: format!("copying it for the dry run: {}", e.message),
        }),
    })
}

pub async fn open(location: Location, settings: Settings) -> Result<Box<dyn Target>> {
    let shown = location.to_string();
    let unavailable = |e: DbError| Error::Open {
        target: shown.clone(),
        reason: e.message,
    };
    match &location {
        Location::Local(path) => {
            let local = local::Local::open(path, settings).map_err(|e| {
                if e.is_busy() {
                    Error::Locked {
                        target: shown.clone(),
                        waited: Duration::ZERO,
                    }
                } else {
                    unavailable(e)
                }
            })?;
            Ok(Box::new(local))
        }
        Location::Remote { .. } => {
            let Some(token) = settings.auth_token.clone().filter(|t| !t.is_empty()) else {
                return Err(Error::Usage(format!(
                    "{shown} needs an auth token: set TURSO_AUTH_TOKEN or pass --auth-token \
                     (create one with `turso db tokens create <db>`)"
                )));
            };
            let remote = remote::Remote::open(location, &token, settings)
                .await
                .map_err(unavailable)?;
            Ok(Box::new(remote))
        }
    }
}

/// A target read through [`Rows`] (the schema and the fingerprint, shared
/// with the build): its own reads, failing with its own errors, so their
/// kind (an unreachable server, a lock, a lost answer) still decides what
/// is said and the exit code.
impl Rows for dyn Target + '_ {
    type Error = DbError;

    async fn each_row(&self, sql: &str, f: RowFn<'_>) -> std::result::Result<(), DbError> {
        self.query(sql, f).await
    }

    // A whole table goes through the target's scan: a server's in pages
    // inside the snapshot's clock, not one cursor that outlives it.
    async fn each_table_row(
        &self,
        scan: &TableScan<'_>,
        f: RowFn<'_>,
    ) -> std::result::Result<(), DbError> {
        self.scan(scan, f).await
    }

    async fn prefetch(&self, scans: &[TableScan<'_>]) -> std::result::Result<(), DbError> {
        Target::prefetch(self, scans).await
    }
}
