//! The local engine through its C API (libsql's own `libsql::ffi`): the one
//! connection a local target reads and writes with.
//!
//! Why: the `libsql` crate's statement API copies every bound value twice
//! (into an owned `Value`, then a clone per call) before SQLite copies it a
//! third time; for a million-row seed that doubled the load. Here embedded
//! seed values are bound straight from the binary's static data
//! (`SQLITE_STATIC`: no copy at all), and rows are read back without
//! allocating.

use std::ffi::{CStr, CString, c_char, c_int};
use std::path::Path;
use std::ptr;
use std::time::Duration;

use libsql::ffi;

use super::failure::{DbError, Kind, sqlite_kind};
use crate::value::ValueRef;

pub struct RawConn {
    db: *mut ffi::sqlite3,
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

/// The connection's last error, classified by its extended result code.
fn last_error(db: *mut ffi::sqlite3) -> DbError {
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
        let c_path = CString::new(path.to_string_lossy().as_bytes())
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
        let conn = RawConn { db };
        if rc != ffi::SQLITE_OK {
            return Err(if db.is_null() {
                DbError::new(Kind::Engine, "out of memory")
            } else {
                DbError::new(sqlite_kind(rc), last_error(db).message)
            });
        }
        let millis = c_int::try_from(busy.as_millis()).unwrap_or(c_int::MAX);
        // SAFETY: `db` is the live handle just opened.
        unsafe {
            ffi::sqlite3_busy_timeout(db, millis);
        }
        Ok(conn)
    }

    /// Runs one or more statements that return no rows.
    pub fn exec(&self, sql: &str) -> Result<(), DbError> {
        let c_sql = CString::new(sql)
            .map_err(|_| DbError::new(Kind::Engine, "the SQL contains a NUL byte"))?;
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
            Err(last_error(self.db))
        }
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
        match ffi::sqlite3_column_type(stmt, i) {
            ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_column_int64(stmt, i)),
            ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_column_double(stmt, i)),
            ffi::SQLITE_TEXT => {
                let p = ffi::sqlite3_column_text(stmt, i);
                let n = ffi::sqlite3_column_bytes(stmt, i) as usize;
                let bytes = if p.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(p, n)
                };
                ValueRef::Text(std::str::from_utf8(bytes).unwrap_or("\u{fffd}"))
            }
            ffi::SQLITE_BLOB => {
                let p = ffi::sqlite3_column_blob(stmt, i) as *const u8;
                let n = ffi::sqlite3_column_bytes(stmt, i) as usize;
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
            ValueRef::Blob(b) => c_len(b.len())?,
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
