//! A thin, safe wrapper over the libSQL C API (`libsql::ffi`): one `Conn` is one
//! database connection, used by exactly one Hrana stream at a time.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::ptr;

use libsql::ffi;

/// A value as stored by SQLite.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// An error reported by the engine.
#[derive(Debug, Clone)]
pub struct SqlError {
    /// Extended result code.
    pub code: i32,
    pub message: String,
    /// Byte offset of the error in the SQL text, or -1.
    pub offset: i32,
}

impl SqlError {
    pub fn primary(&self) -> i32 {
        self.code & 0xff
    }
}

pub struct Conn {
    db: *mut ffi::sqlite3,
    busy_ctx: *mut c_void,
    busy_drop: Option<unsafe fn(*mut c_void)>,
}

// SAFETY: the library is built with SQLITE_THREADSAFE=1 (serialized) and the
// connection is always used behind a mutex by one thread at a time.
unsafe impl Send for Conn {}

/// The longest string, blob or row sqld's engine makes: measured against
/// sqld 0.24.33 (`SELECT length(randomblob(N))` answers for 5,000,000 and
/// SQLITE_TOOBIG from 5,000,001 on; no flag changes it).
const MAX_LENGTH: c_int = 5_000_000;

pub type BusyCallback = unsafe extern "C" fn(*mut c_void, c_int) -> c_int;

impl Conn {
    pub fn open(path: &str) -> Result<Conn, SqlError> {
        let c_path = CString::new(path).map_err(|_| SqlError {
            code: ffi::SQLITE_MISUSE,
            message: "path contains NUL".into(),
            offset: -1,
        })?;
        let mut db: *mut ffi::sqlite3 = ptr::null_mut();
        let flags =
            ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE | ffi::SQLITE_OPEN_FULLMUTEX;
        // SAFETY: valid C string, out pointer to a local.
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
        let conn = Conn {
            db,
            busy_ctx: ptr::null_mut(),
            busy_drop: None,
        };
        if rc != ffi::SQLITE_OK {
            return Err(conn.last_error(rc));
        }
        // SAFETY: db is open.
        unsafe {
            ffi::sqlite3_extended_result_codes(db, 1);
            ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_LENGTH, MAX_LENGTH);
        }
        Ok(conn)
    }

    /// Installs a busy handler. `ctx` is owned by the connection from now on and
    /// released with `drop_ctx` after the connection is closed.
    pub fn set_busy_handler(
        &mut self,
        cb: BusyCallback,
        ctx: *mut c_void,
        drop_ctx: unsafe fn(*mut c_void),
    ) {
        // SAFETY: db is open; ctx outlives the connection (freed in Drop after close).
        unsafe {
            ffi::sqlite3_busy_handler(self.db, Some(cb), ctx);
        }
        self.busy_ctx = ctx;
        self.busy_drop = Some(drop_ctx);
    }

    fn last_error(&self, rc: i32) -> SqlError {
        if self.db.is_null() {
            return SqlError {
                code: rc,
                message: errstr(rc),
                offset: -1,
            };
        }
        // SAFETY: db is a valid handle; errmsg returns a NUL-terminated string.
        unsafe {
            let msg = ffi::sqlite3_errmsg(self.db);
            let message = if msg.is_null() {
                errstr(rc)
            } else {
                CStr::from_ptr(msg).to_string_lossy().into_owned()
            };
            let code = ffi::sqlite3_extended_errcode(self.db);
            let code = if code & 0xff == rc & 0xff { code } else { rc };
            SqlError {
                code,
                message,
                offset: ffi::sqlite3_error_offset(self.db),
            }
        }
    }

    /// Prepares the first statement of `sql`. Returns `None` when `sql` holds no
    /// statement (only whitespace/comments), else the statement and the byte
    /// offset where the rest of the text starts.
    pub fn prepare<'c>(&'c self, sql: &str) -> Result<Option<(Stmt<'c>, usize)>, SqlError> {
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        let base = sql.as_ptr() as *const c_char;
        // SAFETY: pointer/length pair describes `sql`, which outlives the call.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.db, base, sql.len() as c_int, &mut stmt, &mut tail)
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.last_error(rc));
        }
        let rest = if tail.is_null() {
            sql.len()
        } else {
            (tail as usize).saturating_sub(base as usize).min(sql.len())
        };
        if stmt.is_null() {
            return Ok(None);
        }
        Ok(Some((
            Stmt {
                ptr: stmt,
                conn: self,
            },
            rest,
        )))
    }

    /// Runs every statement of `sql`, discarding rows.
    pub fn exec(&self, sql: &str) -> Result<(), SqlError> {
        let mut rest = sql;
        loop {
            match self.prepare(rest)? {
                None => return Ok(()),
                Some((stmt, tail)) => {
                    while stmt.step()? {}
                    rest = &rest[tail..];
                }
            }
        }
    }

    pub fn is_autocommit(&self) -> bool {
        // SAFETY: db is open.
        unsafe { ffi::sqlite3_get_autocommit(self.db) != 0 }
    }

    /// True while this connection holds the database write lock.
    pub fn in_write_txn(&self) -> bool {
        // SAFETY: db is open; NULL schema means "any attached database".
        unsafe { ffi::sqlite3_txn_state(self.db, ptr::null()) == ffi::SQLITE_TXN_WRITE }
    }

    pub fn changes(&self) -> u64 {
        // SAFETY: db is open.
        unsafe { ffi::sqlite3_changes64(self.db) as u64 }
    }

    pub fn total_changes(&self) -> u64 {
        // SAFETY: db is open.
        unsafe { ffi::sqlite3_total_changes64(self.db) as u64 }
    }

    pub fn last_insert_rowid(&self) -> i64 {
        // SAFETY: db is open.
        unsafe { ffi::sqlite3_last_insert_rowid(self.db) }
    }

    /// Rolls back an open transaction, ignoring "no transaction is active".
    pub fn rollback(&self) {
        if !self.is_autocommit() {
            let _ = self.exec("ROLLBACK");
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.db.is_null() {
            // Closing a connection rolls back any open transaction.
            // SAFETY: all statements borrow the connection, so none is alive here.
            unsafe {
                ffi::sqlite3_close_v2(self.db);
            }
            self.db = ptr::null_mut();
        }
        if let Some(f) = self.busy_drop.take() {
            // SAFETY: the connection is closed, so the handler can no longer run.
            unsafe { f(self.busy_ctx) }
        }
    }
}

pub struct Stmt<'c> {
    ptr: *mut ffi::sqlite3_stmt,
    conn: &'c Conn,
}

impl Stmt<'_> {
    /// Advances the statement; `Ok(true)` when a row is available.
    pub fn step(&self) -> Result<bool, SqlError> {
        // SAFETY: ptr is a live prepared statement.
        let rc = unsafe { ffi::sqlite3_step(self.ptr) };
        match rc {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.conn.last_error(rc)),
        }
    }

    pub fn column_count(&self) -> usize {
        // SAFETY: ptr is live.
        unsafe { ffi::sqlite3_column_count(self.ptr) as usize }
    }

    fn cstr(p: *const c_char) -> Option<String> {
        if p.is_null() {
            None
        } else {
            // SAFETY: SQLite returns NUL-terminated UTF-8 strings.
            Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        }
    }

    pub fn column_name(&self, i: usize) -> Option<String> {
        // SAFETY: ptr is live, i < column_count.
        Self::cstr(unsafe { ffi::sqlite3_column_name(self.ptr, i as c_int) })
    }

    pub fn column_decltype(&self, i: usize) -> Option<String> {
        // SAFETY: ptr is live, i < column_count.
        Self::cstr(unsafe { ffi::sqlite3_column_decltype(self.ptr, i as c_int) })
    }

    pub fn column_value(&self, i: usize) -> Val {
        let i = i as c_int;
        // SAFETY: ptr is live and positioned on a row; blob/text pointers are
        // copied before any other call on the statement.
        unsafe {
            match ffi::sqlite3_column_type(self.ptr, i) {
                ffi::SQLITE_INTEGER => Val::Int(ffi::sqlite3_column_int64(self.ptr, i)),
                ffi::SQLITE_FLOAT => Val::Float(ffi::sqlite3_column_double(self.ptr, i)),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(self.ptr, i);
                    let n = ffi::sqlite3_column_bytes(self.ptr, i) as usize;
                    if p.is_null() {
                        Val::Text(String::new())
                    } else {
                        let bytes = std::slice::from_raw_parts(p, n);
                        Val::Text(String::from_utf8_lossy(bytes).into_owned())
                    }
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_column_blob(self.ptr, i) as *const u8;
                    let n = ffi::sqlite3_column_bytes(self.ptr, i) as usize;
                    if p.is_null() || n == 0 {
                        Val::Blob(Vec::new())
                    } else {
                        Val::Blob(std::slice::from_raw_parts(p, n).to_vec())
                    }
                }
                _ => Val::Null,
            }
        }
    }

    pub fn param_count(&self) -> usize {
        // SAFETY: ptr is live.
        unsafe { ffi::sqlite3_bind_parameter_count(self.ptr) as usize }
    }

    /// Name of the 1-based parameter `i` (with its prefix), if named.
    pub fn param_name(&self, i: usize) -> Option<String> {
        // SAFETY: ptr is live.
        Self::cstr(unsafe { ffi::sqlite3_bind_parameter_name(self.ptr, i as c_int) })
    }

    /// 1-based index of a named parameter, 0 when unknown.
    pub fn param_index(&self, name: &str) -> usize {
        let Ok(c) = CString::new(name) else { return 0 };
        // SAFETY: ptr is live, c is NUL-terminated.
        unsafe { ffi::sqlite3_bind_parameter_index(self.ptr, c.as_ptr()) as usize }
    }

    /// Binds the 1-based parameter `i`.
    pub fn bind(&self, i: usize, v: &Val) -> Result<(), SqlError> {
        let i = i as c_int;
        // SAFETY: ptr is live; text/blob are copied by SQLite (SQLITE_TRANSIENT).
        let rc = unsafe {
            match v {
                Val::Null => ffi::sqlite3_bind_null(self.ptr, i),
                Val::Int(x) => ffi::sqlite3_bind_int64(self.ptr, i, *x),
                Val::Float(x) => ffi::sqlite3_bind_double(self.ptr, i, *x),
                Val::Text(s) => ffi::sqlite3_bind_text64(
                    self.ptr,
                    i,
                    s.as_ptr() as *const c_char,
                    s.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                ),
                Val::Blob(b) => ffi::sqlite3_bind_blob64(
                    self.ptr,
                    i,
                    b.as_ptr() as *const c_void,
                    b.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                ),
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(self.conn.last_error(rc));
        }
        Ok(())
    }

    pub fn readonly(&self) -> bool {
        // SAFETY: ptr is live.
        unsafe { ffi::sqlite3_stmt_readonly(self.ptr) != 0 }
    }

    pub fn is_explain(&self) -> bool {
        // SAFETY: ptr is live.
        unsafe { ffi::sqlite3_stmt_isexplain(self.ptr) != 0 }
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: ptr is live and finalized exactly once.
        unsafe {
            ffi::sqlite3_finalize(self.ptr);
        }
    }
}

fn errstr(rc: i32) -> String {
    // SAFETY: sqlite3_errstr returns a static string.
    unsafe {
        let p = ffi::sqlite3_errstr(rc);
        if p.is_null() {
            format!("error code {rc}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// Name of a primary result code, as sqld reports it in Hrana errors.
pub fn code_name(primary: i32) -> &'static str {
    match primary {
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        _ => "SQLITE_UNKNOWN",
    }
}
