//! A local write connection through the engine's C API (libsql's own
//! `libsql::ffi`, the same engine the rest of seedbake uses).
//!
//! Why: the `libsql` crate's statement API copies every bound value twice
//! (into an owned `Value`, then a clone per call) before SQLite copies it a
//! third time; for a million-row seed that doubled the load. Here embedded
//! seed values are bound straight from the binary's static data
//! (`SQLITE_STATIC`: no copy at all), and rows are read back without
//! allocating. Only local resets, seeds, restores and `init-admin` use it;
//! reads elsewhere stay on `libsql::Connection`.

use std::ffi::{CStr, CString, c_char, c_int};
use std::path::Path;
use std::pin::Pin;
use std::ptr;
use std::time::Duration;

use libsql::ffi;

use crate::schema::Rows;
use crate::value::ValueRef;

pub struct RawConn {
    db: *mut ffi::sqlite3,
}

// The handle is used from one task at a time; SQLite's own mutexes guard it.
unsafe impl Send for RawConn {}
unsafe impl Sync for RawConn {}

impl Drop for RawConn {
    fn drop(&mut self) {
        // Closing rolls back any transaction still open.
        unsafe {
            ffi::sqlite3_close_v2(self.db);
        }
    }
}

fn message(db: *mut ffi::sqlite3) -> String {
    unsafe {
        let m = ffi::sqlite3_errmsg(db);
        if m.is_null() {
            "unknown error".into()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        }
    }
}

impl RawConn {
    pub fn open(path: &Path, busy: Duration) -> Result<RawConn, String> {
        let c_path = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| "the path contains a NUL byte".to_owned())?;
        let mut db = ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_NOMUTEX;
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
        let conn = RawConn { db };
        if rc != ffi::SQLITE_OK {
            return Err(if db.is_null() {
                "out of memory".into()
            } else {
                message(db)
            });
        }
        unsafe {
            ffi::sqlite3_busy_timeout(db, busy.as_millis().min(i32::MAX as u128) as c_int);
        }
        Ok(conn)
    }

    /// Runs one or more statements that return no rows.
    pub fn exec(&self, sql: &str) -> Result<(), String> {
        let c_sql = CString::new(sql).map_err(|_| "the SQL contains a NUL byte".to_owned())?;
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
            Err(message(self.db))
        }
    }

    pub fn prepare(&self, sql: &str) -> Result<RawStmt<'_>, String> {
        let mut stmt = ptr::null_mut();
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                self.db,
                sql.as_ptr() as *const c_char,
                sql.len() as c_int,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(message(self.db));
        }
        Ok(RawStmt { conn: self, stmt })
    }

    /// Runs a query and hands every row to `f`, borrowing its values.
    pub fn for_each_row(
        &self,
        sql: &str,
        f: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), String>,
    ) -> Result<(), String> {
        let stmt = self.prepare(sql)?;
        let width = unsafe { ffi::sqlite3_column_count(stmt.stmt) };
        let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(width as usize);
        loop {
            match unsafe { ffi::sqlite3_step(stmt.stmt) } {
                ffi::SQLITE_ROW => {}
                ffi::SQLITE_DONE => return Ok(()),
                _ => return Err(message(self.db)),
            }
            values.clear();
            for i in 0..width {
                // SAFETY: the pointers stay valid until the next step or
                // reset, and the values are dropped before either.
                values.push(unsafe { column(stmt.stmt, i) });
            }
            f(&values)?;
        }
    }
}

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
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

impl RawStmt<'_> {
    /// Binds a value that lives as long as the program (the embedded seed),
    /// so SQLite reads it in place.
    pub fn bind_static(&mut self, index: c_int, value: ValueRef<'static>) -> Result<(), String> {
        let rc = unsafe {
            match value {
                ValueRef::Null => ffi::sqlite3_bind_null(self.stmt, index),
                ValueRef::Integer(i) => ffi::sqlite3_bind_int64(self.stmt, index, i),
                ValueRef::Real(r) => ffi::sqlite3_bind_double(self.stmt, index, r),
                ValueRef::Text(t) => ffi::sqlite3_bind_text(
                    self.stmt,
                    index,
                    t.as_ptr() as *const c_char,
                    t.len() as c_int,
                    ffi::SQLITE_STATIC(),
                ),
                ValueRef::Blob(b) => ffi::sqlite3_bind_blob(
                    self.stmt,
                    index,
                    b.as_ptr() as *const std::ffi::c_void,
                    b.len() as c_int,
                    ffi::SQLITE_STATIC(),
                ),
            }
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(message(self.conn.db))
        }
    }

    /// Runs the bound statement to completion, ready for the next binding.
    pub fn run(&mut self) -> Result<(), String> {
        let rc = unsafe { ffi::sqlite3_step(self.stmt) };
        let reset = unsafe { ffi::sqlite3_reset(self.stmt) };
        match rc {
            ffi::SQLITE_DONE | ffi::SQLITE_ROW if reset == ffi::SQLITE_OK => Ok(()),
            _ => Err(message(self.conn.db)),
        }
    }
}

impl Rows for RawConn {
    fn each_row<'a>(
        &'a self,
        sql: &'a str,
        f: &'a mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), String>,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<(), String>> + 'a>> {
        Box::pin(std::future::ready(self.for_each_row(sql, f)))
    }
}
