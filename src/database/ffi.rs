//! The local engine through its C API (libsql's own `libsql::ffi`): the one
//! connection a local target reads and writes with.
//!
//! Why: the `libsql` crate's statement API copies every bound value twice
//! (into an owned `Value`, then a clone per call) before SQLite copies it a
//! third time; for a million-row seed that doubled the load. Here embedded
//! seed values are bound straight from the binary's static data
//! (`SQLITE_STATIC`: no copy at all), and rows are read back without
//! allocating.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;
use std::ptr;
use std::time::Duration;

use libsql::ffi;

use super::failure::{DbError, Kind, sqlite_kind};
use crate::value::ValueRef;

pub struct RawConn {
    db: *mut ffi::sqlite3,
    /// What the confinement (see [`RawConn::confine`]) refused last, for
    /// the error message. Boxed: the authorizer holds its address.
    denied: Box<RefCell<String>>,
    /// The lock wait's state. Boxed: the busy handler holds its address.
    busy: Box<BusyWait>,
}

/// Waiting for a lock another connection holds: up to `limit`, and not a
/// moment longer once a signal asked seedbake to stop. (SQLite's own
/// `busy_timeout` sleeps in the engine, deaf to signals: an operator's
/// Ctrl-C went unanswered until `--lock-timeout` ran out.)
struct BusyWait {
    limit: Duration,
    /// When this wait began (SQLite calls the handler with `tries` 0 at
    /// the start of every wait).
    since: std::cell::Cell<std::time::Instant>,
}

/// How often a lock wait looks again (and for a signal).
const BUSY_POLL: Duration = Duration::from_millis(10);

unsafe extern "C" fn on_busy(ctx: *mut c_void, tries: c_int) -> c_int {
    // SAFETY: `ctx` is the `BusyWait` boxed in the `RawConn` whose handle
    // calls this; the box outlives the handle (closed in `drop` first).
    let wait = unsafe { &*(ctx as *const BusyWait) };
    let now = std::time::Instant::now();
    if tries == 0 {
        wait.since.set(now);
    }
    let waited = now.duration_since(wait.since.get());
    if crate::interrupt::requested().is_some() || waited >= wait.limit {
        return 0;
    }
    std::thread::sleep(BUSY_POLL.min(wait.limit - waited));
    1
}

// SAFETY: the handle is opened with SQLITE_OPEN_NOMUTEX, so SQLite does not
// serialise calls on it; moving it to another thread is sound (SQLite allows
// a connection to be used from any one thread at a time), sharing it is not,
// hence `Send` without `Sync`. Statements borrow the connection, so none
// outlives it or crosses with it.
unsafe impl Send for RawConn {}

impl Drop for RawConn {
    fn drop(&mut self) {
        // Closing rolls back any transaction still open.
        // SAFETY: closed once, here; every statement borrowed `self` and is
        // gone (`close_v2` would defer the close if one were not).
        unsafe {
            ffi::sqlite3_close_v2(self.db);
        }
    }
}

/// The connection's last error, classified by its extended result code. A
/// lock wait cut short by a signal is the signal's error, not a lock's.
fn last_error(db: *mut ffi::sqlite3) -> DbError {
    let e = engine_error(db);
    match crate::interrupt::requested() {
        Some(signal) if e.is_busy() => DbError::interrupted(signal),
        _ => e,
    }
}

fn engine_error(db: *mut ffi::sqlite3) -> DbError {
    // SAFETY: `db` is a live handle (or null, which both calls accept and
    // answer with SQLITE_NOMEM); the message is copied before any other call.
    unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let m = ffi::sqlite3_errmsg(db);
        let message = if m.is_null() {
            "unknown error".into()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        };
        DbError::new(sqlite_kind(code), message)
    }
}

/// A length as the C API takes it; values of 2 GiB or more are refused
/// rather than truncated.
fn c_len(n: usize) -> Result<c_int, DbError> {
    c_int::try_from(n).map_err(|_| {
        DbError::new(
            Kind::TooLarge,
            format!("a value or statement of {n} bytes is larger than the engine takes"),
        )
    })
}

/// The `libsql` crate asserts, on its first local database, that it can set
/// the engine's threading mode, which only works before the engine starts.
/// Opening a connection here first would start it, and a program that also
/// uses `libsql` for local files (the tests; an app's own tests) would then
/// panic there. So `libsql` goes first, once.
fn let_libsql_configure_the_engine() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[allow(deprecated)] // the one synchronous way to reach that code
        let _ = libsql::Database::open_in_memory();
    });
}

/// Whether to create the file when it does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    Create,
    Existing,
    /// An existing file, read-only (`?mode=ro`).
    ReadOnly,
}

impl RawConn {
    pub fn open(path: &Path, busy: Duration, mode: OpenMode) -> Result<RawConn, DbError> {
        let_libsql_configure_the_engine();
        // The path's own bytes: a lossy conversion would open another file.
        use std::os::unix::ffi::OsStrExt as _;
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| DbError::new(Kind::CannotOpen, "the path contains a NUL byte"))?;
        let mut db = ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_NOMUTEX
            | match mode {
                OpenMode::Create => ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                OpenMode::Existing => ffi::SQLITE_OPEN_READWRITE,
                OpenMode::ReadOnly => ffi::SQLITE_OPEN_READONLY,
            };
        // SAFETY: a valid C string and an out-pointer; SQLite sets `db` even
        // on failure (then closed by `RawConn`'s drop), or leaves it null.
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
        let conn = RawConn {
            db,
            denied: Box::default(),
            busy: Box::new(BusyWait {
                limit: busy,
                since: std::cell::Cell::new(std::time::Instant::now()),
            }),
        };
        if rc != ffi::SQLITE_OK {
            return Err(if db.is_null() {
                DbError::new(Kind::Engine, "out of memory")
            } else {
                DbError::new(sqlite_kind(rc), last_error(db).message)
            });
        }
        // SAFETY: `db` is the live handle just opened; the context is the
        // connection's own box, alive until the handle is closed.
        unsafe {
            ffi::sqlite3_busy_handler(
                db,
                Some(on_busy),
                &*conn.busy as *const BusyWait as *mut c_void,
            );
        }
        Ok(conn)
    }

    /// Runs one or more statements that return no rows.
    pub fn exec(&self, sql: &str) -> Result<(), DbError> {
        let c_sql = CString::new(sql)
            .map_err(|_| DbError::new(Kind::Engine, "the SQL contains a NUL byte"))?;
        if let Ok(mut d) = self.denied.try_borrow_mut() {
            d.clear();
        }
        // SAFETY: a live handle and a NUL-terminated statement; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db,
                c_sql.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.explained(last_error(self.db)))
        }
    }

    /// Says what the confinement refused, when it was that. (The engine
    /// reports a denied function as an ordinary error, not SQLITE_AUTH.)
    fn explained(&self, e: DbError) -> DbError {
        let denied = self
            .denied
            .try_borrow()
            .map(|d| d.clone())
            .unwrap_or_default();
        if denied.is_empty() {
            return e;
        }
        DbError {
            message: format!(
                "{}: a restore may change only the database it restores, and may not use {denied}",
                e.message
            ),
            ..e
        }
    }

    /// Confines what SQL may do (`on`) to what a restore needs on this one
    /// database (drop its objects, run a dump's statements), or lifts that.
    /// Confined, the engine's authorizer refuses, at prepare time: ATTACH
    /// and DETACH, every PRAGMA but `foreign_keys`, transaction control,
    /// ALTER, TEMP objects, virtual tables, writes to the engine's own
    /// tables (but the schema's own bookkeeping of a CREATE or DROP,
    /// statistics and `sqlite_sequence`), and functions that reach outside
    /// the database (`load_extension`…). The engine's defensive mode is on
    /// as well, so no statement can write the schema or the file's pages
    /// directly.
    pub fn confine(&self, on: bool) -> Result<(), DbError> {
        if let Ok(mut d) = self.denied.try_borrow_mut() {
            d.clear();
        }
        let callback: Option<AuthorizerFn> = if on { Some(confined) } else { None };
        let user = &*self.denied as *const RefCell<String> as *mut c_void;
        // SAFETY: a live handle; `user` points into the box `self` owns,
        // which lives as long as the connection (the handle is closed in
        // `drop` before the box is freed), and the callback only borrows it
        // for the call. Without a callback the pointer is not used.
        let rc = unsafe { ffi::sqlite3_set_authorizer(self.db, callback, user) };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(self.db));
        }
        let mut now: c_int = -1;
        // SAFETY: a live handle; DEFENSIVE takes an int and an out-pointer
        // to an int, both valid for the call.
        let rc = unsafe {
            ffi::sqlite3_db_config(
                self.db,
                ffi::SQLITE_DBCONFIG_DEFENSIVE,
                c_int::from(on),
                &mut now as *mut c_int,
            )
        };
        if rc != ffi::SQLITE_OK || now != c_int::from(on) {
            return Err(DbError::new(
                Kind::Engine,
                "the engine did not switch its defensive mode",
            ));
        }
        Ok(())
    }

    pub fn prepare(&self, sql: &str) -> Result<RawStmt<'_>, DbError> {
        let len = c_len(sql.len())?;
        let mut stmt = ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes (no NUL terminator needed
        // when the length is given); the statement is finalised by RawStmt.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db,
                sql.as_ptr() as *const c_char,
                len,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(self.db));
        }
        Ok(RawStmt { conn: self, stmt })
    }

    /// Runs a query and hands every row to `f`, borrowing its values.
    /// A failure of `f` stops the query and comes back as `Err(Ok(…))`; the
    /// engine's as `Err(Err(…))`.
    pub fn for_each_row<E>(
        &self,
        sql: &str,
        f: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), E>,
    ) -> Result<(), Result<E, DbError>> {
        let stmt = self.prepare(sql).map_err(Err)?;
        // SAFETY: a prepared statement.
        let width = unsafe { ffi::sqlite3_column_count(stmt.stmt) }.max(0) as usize;
        let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(width);
        loop {
            // The previous row's values point into memory the step below
            // invalidates: they go first.
            values.clear();
            // SAFETY: a prepared statement, stepped from this thread only.
            match unsafe { ffi::sqlite3_step(stmt.stmt) } {
                ffi::SQLITE_ROW => {}
                ffi::SQLITE_DONE => return Ok(()),
                _ => return Err(Err(last_error(self.db))),
            }
            // SAFETY: the column pointers stay valid until the next step or
            // reset of this statement; the vector is emptied before either,
            // and `f` borrows the values for the call alone (the slice's
            // lifetime is its own, so it cannot keep them).
            values.extend((0..width).map(|i| unsafe { column(stmt.stmt, i as c_int) }));
            f(&values).map_err(Ok)?;
        }
    }
}

/// # Safety
/// `stmt` has a current row; the value borrows the statement's memory and
/// must be dropped before the statement is stepped, reset or finalised.
unsafe fn column<'a>(stmt: *mut ffi::sqlite3_stmt, i: c_int) -> ValueRef<'a> {
    unsafe {
        // One call into the statement per column, then the value's own
        // accessors: the `sqlite3_column_*` family takes the connection's
        // mutex on every call (a fifth of a 1M-row proof's time). The value
        // is "unprotected", which the `sqlite3_value_*` accessors accept on
        // a connection opened with SQLITE_OPEN_NOMUTEX, used from one
        // thread (https://sqlite.org/c3ref/value.html).
        let v = ffi::sqlite3_column_value(stmt, i);
        match ffi::sqlite3_value_type(v) {
            ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_value_int64(v)),
            ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_value_double(v)),
            ffi::SQLITE_TEXT => {
                // Text first, then its length: the length of the form
                // just made (https://sqlite.org/c3ref/column_blob.html).
                let p = ffi::sqlite3_value_text(v);
                let n = ffi::sqlite3_value_bytes(v) as usize;
                let bytes = if p.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(p, n)
                };
                match crate::value::utf8(bytes) {
                    Some(text) => ValueRef::Text(text),
                    None => ValueRef::RawText(bytes),
                }
            }
            ffi::SQLITE_BLOB => {
                let p = ffi::sqlite3_value_blob(v) as *const u8;
                let n = ffi::sqlite3_value_bytes(v) as usize;
                ValueRef::Blob(if p.is_null() {
                    &[]
                } else {
                    std::slice::from_raw_parts(p, n)
                })
            }
            _ => ValueRef::Null,
        }
    }
}

pub struct RawStmt<'c> {
    conn: &'c RawConn,
    stmt: *mut ffi::sqlite3_stmt,
}

impl Drop for RawStmt<'_> {
    fn drop(&mut self) {
        // SAFETY: finalised once, here; nothing borrows its rows any more.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

impl RawStmt<'_> {
    /// Binds a value that lives as long as the program (the embedded seed),
    /// so SQLite reads it in place.
    pub fn bind_static(&mut self, index: c_int, value: ValueRef<'static>) -> Result<(), DbError> {
        let len = match value {
            ValueRef::Text(t) => c_len(t.len())?,
            ValueRef::RawText(b) | ValueRef::Blob(b) => c_len(b.len())?,
            _ => 0,
        };
        // SAFETY: `SQLITE_STATIC` promises the bytes outlive the statement's
        // use of them: they are `'static` (the binary's embedded seed), and
        // `len` is their exact length.
        let rc = unsafe {
            match value {
                ValueRef::Null => ffi::sqlite3_bind_null(self.stmt, index),
                ValueRef::Integer(i) => ffi::sqlite3_bind_int64(self.stmt, index, i),
                ValueRef::Real(r) => ffi::sqlite3_bind_double(self.stmt, index, r),
                ValueRef::Text(t) => ffi::sqlite3_bind_text(
                    self.stmt,
                    index,
                    t.as_ptr() as *const c_char,
                    len,
                    ffi::SQLITE_STATIC(),
                ),
                ValueRef::RawText(b) => ffi::sqlite3_bind_text(
                    self.stmt,
                    index,
                    b.as_ptr() as *const c_char,
                    len,
                    ffi::SQLITE_STATIC(),
                ),
                ValueRef::Blob(b) => ffi::sqlite3_bind_blob(
                    self.stmt,
                    index,
                    b.as_ptr() as *const std::ffi::c_void,
                    len,
                    ffi::SQLITE_STATIC(),
                ),
            }
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(last_error(self.conn.db))
        }
    }

    /// Runs the bound statement to completion, ready for the next binding.
    pub fn run(&mut self) -> Result<(), DbError> {
        // SAFETY: a prepared statement; no row of it is borrowed.
        let rc = unsafe { ffi::sqlite3_step(self.stmt) };
        // Read the error before the reset, which may replace it.
        let failed =
            (rc != ffi::SQLITE_DONE && rc != ffi::SQLITE_ROW).then(|| last_error(self.conn.db));
        // SAFETY: as above.
        let reset = unsafe { ffi::sqlite3_reset(self.stmt) };
        match failed {
            Some(e) => Err(e),
            None if reset != ffi::SQLITE_OK => Err(last_error(self.conn.db)),
            None => Ok(()),
        }
    }
}

type AuthorizerFn = unsafe extern "C" fn(
    *mut c_void,
    c_int,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
) -> c_int;

/// The authorizer of a confined connection. It must not unwind into the
/// engine: the verdict is a plain function of its arguments, and anything
/// unexpected (a panic) denies.
unsafe extern "C" fn confined(
    user: *mut c_void,
    action: c_int,
    first: *const c_char,
    second: *const c_char,
    database: *const c_char,
    _inner: *const c_char,
) -> c_int {
    let verdict = std::panic::catch_unwind(|| {
        // SAFETY: the engine passes NUL-terminated strings or null, valid
        // for the duration of the call; they are only read here.
        let text =
            |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes());
        match verdict(action, text(first), text(second), text(database)) {
            Ok(()) => ffi::SQLITE_OK,
            Err(what) => {
                // SAFETY: `user` is the `RefCell` that `RawConn::confine`
                // passed, alive as long as the connection; a shared borrow
                // for the call (the cell guards the mutation).
                let denied = unsafe { &*(user as *const RefCell<String>) };
                if let Ok(mut d) = denied.try_borrow_mut() {
                    *d = what;
                }
                ffi::SQLITE_DENY
            }
        }
    });
    verdict.unwrap_or(ffi::SQLITE_DENY)
}

/// What a confined connection may do: `Err` names what it may not.
/// `first`/`second` are the authorizer's arguments for `action` (a table
/// and column, a pragma and its value, a function's name in `second`…);
/// `database` the schema it concerns, when it concerns one.
fn verdict(
    action: c_int,
    first: Option<&[u8]>,
    second: Option<&[u8]>,
    database: Option<&[u8]>,
) -> Result<(), String> {
    let name = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
    let lower = |b: Option<&[u8]>| name(b).to_ascii_lowercase();
    match action {
        ffi::SQLITE_CREATE_TABLE
        | ffi::SQLITE_CREATE_INDEX
        | ffi::SQLITE_CREATE_VIEW
        | ffi::SQLITE_CREATE_TRIGGER
        | ffi::SQLITE_DROP_TABLE
        | ffi::SQLITE_DROP_INDEX
        | ffi::SQLITE_DROP_VIEW
        | ffi::SQLITE_DROP_TRIGGER
        | ffi::SQLITE_READ
        | ffi::SQLITE_SELECT
        | ffi::SQLITE_RECURSIVE
        | ffi::SQLITE_ANALYZE
        | ffi::SQLITE_REINDEX => Ok(()),
        ffi::SQLITE_INSERT | ffi::SQLITE_UPDATE | ffi::SQLITE_DELETE => {
            let table = lower(first);
            if database.is_some_and(|d| !d.eq_ignore_ascii_case(b"main")) {
                return Err(format!("writes to the database {}", name(database)));
            }
            let allowed = match table.as_str() {
                // A CREATE or DROP records itself there; a statement of its
                // own cannot (that takes writable_schema, refused below,
                // and defensive mode forbids it).
                "sqlite_master" | "sqlite_schema" => true,
                "sqlite_sequence" | "sqlite_stat1" | "sqlite_stat4" => true,
                t => !t.starts_with("sqlite_"),
            };
            if allowed {
                Ok(())
            } else {
                Err(format!("writes to {}", name(first)))
            }
        }
        ffi::SQLITE_PRAGMA => match lower(first).as_str() {
            "foreign_keys" => Ok(()),
            _ => Err(format!("PRAGMA {}", name(first))),
        },
        ffi::SQLITE_FUNCTION => match lower(second).as_str() {
            // Loads code; reads or writes files; hands out pointers.
            "load_extension" | "readfile" | "writefile" | "edit" | "fts3_tokenizer" => {
                Err(format!("{}()", name(second)))
            }
            _ => Ok(()),
        },
        ffi::SQLITE_ATTACH => Err("ATTACH".into()),
        ffi::SQLITE_DETACH => Err("DETACH".into()),
        ffi::SQLITE_TRANSACTION | ffi::SQLITE_SAVEPOINT => {
            Err("transaction control (the restore's transaction is its own)".into())
        }
        ffi::SQLITE_CREATE_TEMP_TABLE
        | ffi::SQLITE_CREATE_TEMP_INDEX
        | ffi::SQLITE_CREATE_TEMP_VIEW
        | ffi::SQLITE_CREATE_TEMP_TRIGGER => Err("TEMP objects".into()),
        ffi::SQLITE_CREATE_VTABLE | ffi::SQLITE_DROP_VTABLE => Err("virtual tables".into()),
        ffi::SQLITE_ALTER_TABLE => Err("ALTER TABLE".into()),
        ffi::SQLITE_DROP_TEMP_TABLE
        | ffi::SQLITE_DROP_TEMP_INDEX
        | ffi::SQLITE_DROP_TEMP_VIEW
        | ffi::SQLITE_DROP_TEMP_TRIGGER => Err("TEMP objects".into()),
        // SQLITE_COPY and whatever later engines add.
        _ => Err(format!("action {action}")),
    }
}

/// Whether `sql` ends with a complete statement, as the engine's own
/// tokenizer sees it (quotes, comments, and the semicolons inside a
/// trigger's body).
pub fn is_complete(sql: &CStr) -> bool {
    // SAFETY: a NUL-terminated string, only read for the call. The function
    // needs no initialised engine and no connection.
    unsafe { ffi::sqlite3_complete(sql.as_ptr()) != 0 }
}
