//! A local libSQL file: one connection through the engine's C API
//! ([`super::ffi`]) for every read and write, so what a command reads is
//! always what its transaction wrote.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::failure::{DbError, Kind};
use super::ffi::{OpenMode, RawConn};
use super::not_interrupted;
use super::{Location, Observer, RowFn, Settings, Target};
use crate::schema::quote_ident;
use crate::seed::TableData;

/// Rows per INSERT statement: enough to amortise the statement's cost,
/// and never more bound values than SQLite's default limit (32766).
const ROWS_PER_STATEMENT: usize = 64;
const MAX_VARIABLES: usize = 32_766;

/// A reset writes the whole seed in one transaction, then reads it back
/// (foreign keys, fingerprint). With SQLite's 2 MiB default cache a large
/// seed spills and re-reads pages; allow up to 256 MiB, allocated only as
/// used. A dump, which reads each page once, lowers it (`read_snapshot`).
const WRITE_CACHE_KIB: u32 = 256 << 10;
const READ_CACHE_KIB: u32 = 8 << 10;

pub struct Local {
    location: Location,
    settings: Settings,
    conn: RawConn,
}

impl Local {
    pub fn open(path: &Path, settings: Settings) -> Result<Local, DbError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(DbError::new(
                Kind::CannotOpen,
                format!(
                    "the folder {} does not exist; create it first or choose another path",
                    parent.display()
                ),
            ));
        }
        if path.is_dir() {
            return Err(DbError::new(
                Kind::CannotOpen,
                "that is a folder, not a database file",
            ));
        }
        let mode = if settings.create && !settings.read_only {
            OpenMode::Create
        } else {
            if !path.exists() {
                return Err(DbError::new(
                    Kind::CannotOpen,
                    format!(
                        "there is no such database file (this command never creates one); \
                         check the path, or create it with `{} reset`",
                        crate::program::name()
                    ),
                ));
            }
            if settings.read_only {
                OpenMode::ReadOnly
            } else {
                OpenMode::Existing
            }
        };
        let conn = RawConn::open(path, settings.lock_timeout, mode)?;
        conn.exec(&format!("PRAGMA cache_size = -{WRITE_CACHE_KIB}"))?;
        // Reading the schema proves the file is a database at all.
        read_schema_once(&conn)?;
        Ok(Local {
            location: Location::Local(PathBuf::from(path)),
            settings,
            conn,
        })
    }

    /// Opens `copy` (a scratch copy of another database) under that
    /// database's name, so what is said of it names the database the user
    /// asked about.
    pub fn open_as(copy: &Path, settings: Settings, shown: Location) -> Result<Local, DbError> {
        let mut local = Local::open(copy, settings)?;
        local.location = shown;
        Ok(local)
    }
}

#[async_trait(?Send)]
impl Target for Local {
    fn location(&self) -> &Location {
        &self.location
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn proves_in_transaction(&self) -> bool {
        true
    }

    async fn query(&self, sql: &str, f: RowFn<'_>) -> Result<(), DbError> {
        not_interrupted()?;
        // Checked between rows: a long read (a dump, a backup) stops soon
        // after a signal, and its caller cleans up.
        self.conn
            .for_each_row(sql, &mut |row| {
                if let Some(signal) = crate::interrupt::requested() {
                    return Err(DbError::interrupted(signal));
                }
                f(row)
            })
            .map_err(|stopped_or_engine| stopped_or_engine.unwrap_or_else(|engine| engine))
    }

    async fn execute(&self, sql: &str) -> Result<(), DbError> {
        not_interrupted()?;
        self.conn.exec(sql)
    }

    async fn write(&self, sql: &str) -> Result<(), DbError> {
        not_interrupted()?;
        self.conn.exec(sql)
    }

    async fn begin_write(&self) -> Result<(), DbError> {
        not_interrupted()?;
        // The busy handler already waited up to the lock timeout, or until
        // a signal came (then the error is the signal's). (The
        // pragma is a no-op inside a transaction, so it comes first.)
        self.conn.exec("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE")
    }

    async fn commit(&self) -> Result<(), DbError> {
        // Asked to stop before the commit: roll back instead.
        not_interrupted()?;
        self.conn.exec("COMMIT")
    }

    async fn rollback(&self) {
        let _ = self.conn.exec("ROLLBACK");
    }

    async fn read_snapshot(&self) -> Result<(), DbError> {
        self.conn
            .exec(&format!("PRAGMA cache_size = -{READ_CACHE_KIB}; BEGIN"))?;
        // A deferred transaction takes its snapshot at the first read.
        read_schema_once(&self.conn)
    }

    async fn end_snapshot(&self) {
        let _ = self.conn.exec("COMMIT");
    }

    fn confine(&self, on: bool) -> Result<(), DbError> {
        // A restore writes each page once and never reads it back: a small
        // cache spills to the file instead of growing with the dump.
        let cache = if on { READ_CACHE_KIB } else { WRITE_CACHE_KIB };
        if !on {
            self.conn.confine(false)?;
        }
        self.conn.exec(&format!("PRAGMA cache_size = -{cache}"))?;
        if on {
            self.conn.confine(true)?;
        }
        Ok(())
    }

    /// Inserts every row through prepared multi-row statements, binding the
    /// embedded values in place.
    async fn load_table(
        &self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> Result<(), DbError> {
        observer.table_started(table.name, table.row_count);
        if table.row_count == 0 {
            return Ok(());
        }
        let fail = |e: DbError| DbError {
            message: format!("inserting into {}: {}", table.name, e.message),
            ..e
        };
        let width = table.columns.len();
        let per_statement = ROWS_PER_STATEMENT.min(MAX_VARIABLES / width.max(1)).max(1);
        let mut full = self
            .conn
            .prepare(&insert_sql(table, per_statement.min(table.row_count)))
            .map_err(fail)?;
        let mut decoder = table.decoder();
        let mut done = 0;
        while done < table.row_count {
            let n = per_statement.min(table.row_count - done);
            let mut tail;
            let stmt = if n == per_statement || (done == 0 && n == table.row_count) {
                &mut full
            } else {
                tail = self.conn.prepare(&insert_sql(table, n)).map_err(fail)?;
                &mut tail
            };
            not_interrupted()?;
            for i in 0..n * width {
                stmt.bind_static(i as i32 + 1, decoder.next_value())
                    .map_err(fail)?;
            }
            stmt.run().map_err(fail)?;
            done += n;
            super::rows_loaded(observer, table.name, n)?;
        }
        Ok(())
    }
}

fn read_schema_once(conn: &RawConn) -> Result<(), DbError> {
    conn.for_each_row::<std::convert::Infallible>("SELECT count(*) FROM sqlite_schema", &mut |_| {
        Ok(())
    })
    .map_err(|e| match e {
        Ok(never) => match never {},
        Err(e) => e,
    })
}

fn insert_sql(table: &TableData, rows: usize) -> String {
    let cols = table.quoted_columns();
    let one = format!("({})", vec!["?"; table.columns.len()].join(", "));
    format!(
        "INSERT INTO {} ({cols}) VALUES {}",
        quote_ident(table.name),
        vec![one; rows].join(", ")
    )
}
