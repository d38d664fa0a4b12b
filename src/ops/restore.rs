//! `restore`: load a SQL dump (seedbake's or the sqlite3 shell's `.dump`)
//! in place of everything in the database, in one transaction.
//!
//! The file is read twice, a statement at a time, so memory stays flat
//! whatever its size. The first pass ([`check_dump`]) runs before the
//! database is opened: the file must be text, complete (it ends as a dump
//! ends, with COMMIT), and hold only what a dump consists of. The second
//! ([`restore`]) checks every statement again before it runs it (the file
//! may have changed in between), and rolls back unless what it read is
//! byte for byte what the first pass checked.

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use fallible_iterator::FallibleIterator;
use libsql_sqlite3_parser::ast::{
    Cmd, CreateTableBody, Expr, InsertBody, Literal, Name, OneSelect, Operator, PragmaBody,
    QualifiedName, Stmt, UnaryOperator,
};
use libsql_sqlite3_parser::lexer::sql::{Error as ParseError, Parser};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::tx::{Failure, step};
use super::{BackupReport, SchemaObject, TrafficReport};
use crate::database::{Target, is_complete_statement};
use crate::error::{Error, Result};
use crate::schema::unquoted;

/// The largest statement a dump may hold (one row, as SQL text).
pub const MAX_STATEMENT_BYTES: usize = 256 << 20;

/// The deepest a statement may nest parentheses: the engine refuses
/// expressions deeper than 1000, and the checks here recurse.
const MAX_NESTING: u32 = 1000;

const READ_BYTES: usize = 256 << 10;

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub target: String,
    pub dropped: Vec<SchemaObject>,
    pub statements: usize,
    /// The backup taken under the write lock before anything changed.
    pub backup: Option<BackupReport>,
    pub traffic: Option<TrafficReport>,
}

/// A dump file that passed the first pass: what the second must find again.
#[derive(Debug, Clone)]
pub struct CheckedDump {
    path: PathBuf,
    shown: String,
    /// The statements that will run (the dump's own BEGIN, COMMIT and
    /// PRAGMA are left out: the restore runs in a transaction of its own).
    statements: usize,
    bytes: u64,
    digest: [u8; 32],
}

impl CheckedDump {
    pub fn statements(&self) -> usize {
        self.statements
    }
}

/// The first pass: reads the whole file, a statement at a time, and
/// refuses it unless it is a complete dump of nothing but what dumps are
/// made of. Touches no database.
pub fn check_dump(path: &Path) -> Result<CheckedDump> {
    let shown = path.display().to_string();
    let bad = |reason: String| {
        Error::BadDump(format!(
            "{shown} is not a SQL dump seedbake can load: {reason}"
        ))
    };
    let mut reader = Reader::open(path)?;
    let mut shape = Shape::default();
    while let Some(statement) = reader.next().map_err(bad)? {
        shape.accept(&statement).map_err(bad)?;
    }
    shape.finish().map_err(bad)?;
    Ok(CheckedDump {
        path: path.to_owned(),
        shown,
        statements: shape.body,
        bytes: reader.read,
        digest: reader.digest.finalize().into(),
    })
}

/// The second pass: drops everything, then runs the dump's statements, all
/// in one transaction (backed up to `backup` first, inside it), confined to
/// this database.
pub async fn restore(
    target: &dyn Target,
    dump: &CheckedDump,
    backup: Option<&Path>,
) -> Result<RestoreReport> {
    let shown = &dump.shown;
    // Found after the transaction began: kept here, and reported as what
    // it is once the transaction is rolled back.
    let mut refused: Option<Error> = None;
    let (mut tx, backup) = super::backup::begin_backed_up(target, backup).await?;
    let outcome: std::result::Result<_, Failure> = async {
        target
            .confine(true)
            .map_err(step("confining the restore to the database"))?;
        let mut reader = Reader::open(&dump.path).map_err(|e| {
            let reason = e.to_string();
            refused = Some(e);
            Failure::Usage(reason)
        })?;
        let existing = tx.objects().await.map_err(step("reading the schema"))?;
        let dropped = tx.drop_all(&existing).await?;
        let mut shape = Shape::default();
        let mut refuse = |reason: String| {
            let e = Error::BadDump(format!(
                "{shown} changed after it was checked, and is not a SQL dump seedbake can load any more: {reason}"
            ));
            let reason = e.to_string();
            refused = Some(e);
            Failure::Usage(reason)
        };
        loop {
            let statement = match reader.next() {
                Ok(Some(s)) => s,
                Ok(None) => break,
                Err(reason) => return Err(refuse(reason)),
            };
            if shape.accept(&statement).map_err(&mut refuse)? == Role::Body {
                // Without its semicolon: a server's batch adds its own.
                let sql = statement.text.strip_suffix(';').unwrap_or(&statement.text);
                tx.exec(sql).await.map_err(|e| {
                    Failure::Step(
                        format!("loading the dump (the statement at line {})", statement.line),
                        e,
                    )
                })?;
            }
        }
        shape.finish().map_err(&mut refuse)?;
        let digest: [u8; 32] = std::mem::take(&mut reader.digest).finalize().into();
        if digest != dump.digest || shape.body != dump.statements || reader.read != dump.bytes {
            return Err(refuse("its bytes differ from those checked".into()));
        }
        Ok((dropped, shape.body))
    }
    .await;
    // Lifted before the commit or rollback, which the confinement refuses.
    let lifted = target.confine(false);
    let (dropped, statements) = match tx.finish(outcome).await {
        Ok(done) => done,
        Err(e) => return Err(refused.unwrap_or(e)),
    };
    lifted.map_err(|e| Error::Database {
        target: target.location().to_string(),
        step: "lifting the restore's confinement".into(),
        reason: e.message,
    })?;
    Ok(RestoreReport {
        target: target.location().to_string(),
        dropped,
        statements,
        backup,
        traffic: target.traffic(),
    })
}

/// One statement of the file, as written, from its first token to its
/// semicolon, and the line it starts on.
struct Statement {
    text: String,
    line: usize,
}

/// Where the splitter is, lexically.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lex {
    Normal,
    /// After a `-` that may open a comment.
    Dash,
    /// After a `/` that may open a comment.
    Slash,
    LineComment,
    BlockComment,
    /// After a `*` inside a block comment.
    BlockStar,
    /// Inside a quoted string or name, until this byte.
    Quoted(u8),
}

/// Reads a file statement by statement, holding one statement at a time.
/// Refuses bytes that are not text as soon as it reads them.
struct Reader {
    file: File,
    buf: Vec<u8>,
    /// Bytes of the file read so far.
    read: u64,
    /// The file's offset of `buf[0]`.
    base: u64,
    /// The next byte to look at.
    scan: usize,
    /// The current statement's first token, once seen, and its line.
    token: Option<(usize, usize)>,
    lex: Lex,
    depth: u32,
    line: usize,
    /// `buf[..utf8]` is known to be valid UTF-8.
    utf8: usize,
    eof: bool,
    bom_checked: bool,
    digest: Sha256,
    /// The largest statement taken, in bytes.
    limit: usize,
}

impl Reader {
    fn open(path: &Path) -> Result<Reader> {
        let shown = path.display();
        let cannot = |e: std::io::Error| Error::BadDump(format!("cannot read {shown}: {e}"));
        let not_a_file = || {
            Error::BadDump(format!(
                "{shown} is not a regular file: restore reads a dump twice (it checks the whole file before \
                 touching the database), so give it a file, not a folder, pipe or device"
            ))
        };
        // Checked before opening too: opening a FIFO waits for a writer.
        if !std::fs::metadata(path).map_err(cannot)?.is_file() {
            return Err(not_a_file());
        }
        let file = File::open(path).map_err(cannot)?;
        if !file.metadata().map_err(cannot)?.is_file() {
            return Err(not_a_file());
        }
        Ok(Reader {
            file,
            buf: Vec::new(),
            read: 0,
            base: 0,
            scan: 0,
            token: None,
            lex: Lex::Normal,
            depth: 0,
            line: 1,
            utf8: 0,
            eof: false,
            bom_checked: false,
            digest: Sha256::new(),
            limit: MAX_STATEMENT_BYTES,
        })
    }

    /// The next statement, `None` at the end of the file. `Err` says why
    /// the file is not a dump.
    fn next(&mut self) -> std::result::Result<Option<Statement>, String> {
        loop {
            if let Some(statement) = self.split()? {
                return Ok(Some(statement));
            }
            if self.eof {
                if self.utf8 < self.buf.len() {
                    return Err(format!(
                        "it ends inside a UTF-8 character (byte {}): it is not a text SQL dump",
                        self.base + self.utf8 as u64
                    ));
                }
                if matches!(self.lex, Lex::Dash | Lex::Slash) {
                    // A lone `-` or `/` at the very end: no comment, a token.
                    self.mark(self.scan - 1);
                }
                return match self.token {
                    Some((_, line)) => Err(format!(
                        "it ends in the middle of the statement that starts at line {line} \
                         (no closing ';'): the file is cut off; use a complete dump"
                    )),
                    None => Ok(None),
                };
            }
            self.fill()?;
        }
    }

    /// Reads more of the file, dropping what was consumed.
    fn fill(&mut self) -> std::result::Result<(), String> {
        let keep_from = match self.token {
            Some((t, _)) => t,
            // Only whitespace and comments since the last statement: kept
            // only where a comment may be opening.
            None if matches!(self.lex, Lex::Dash | Lex::Slash) => self.scan - 1,
            None => self.scan,
        };
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as u64;
            self.scan -= keep_from;
            self.utf8 -= keep_from;
            if let Some((t, _)) = &mut self.token {
                *t -= keep_from;
            }
        }
        if let Some((t, line)) = self.token
            && self.buf.len() - t > self.limit
        {
            return Err(format!(
                "the statement at line {line} is larger than {} MiB, the most seedbake loads \
                 (one row of a dump is one statement)",
                self.limit as f64 / f64::from(1 << 20)
            ));
        }
        let old = self.buf.len();
        self.buf.resize(old + READ_BYTES, 0);
        let n = loop {
            match self.file.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(format!("reading it failed at byte {}: {e}", self.read));
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        let new = &self.buf[old..];
        self.digest.update(new);
        if let Some(i) = new.iter().position(|&b| b == 0) {
            return Err(format!(
                "it holds a NUL byte (at byte {}): it is not a text SQL dump (a database file, \
                 a compressed or binary file?)",
                self.read + i as u64
            ));
        }
        self.read += n as u64;
        match std::str::from_utf8(&self.buf[self.utf8..]) {
            Ok(_) => self.utf8 = self.buf.len(),
            Err(e) => {
                if e.error_len().is_some() {
                    return Err(format!(
                        "it is not valid UTF-8 (at byte {}): it is not a text SQL dump (a compressed \
                         or binary file, or text in another encoding?)",
                        self.base + (self.utf8 + e.valid_up_to()) as u64
                    ));
                }
                self.utf8 += e.valid_up_to();
            }
        }
        if !self.bom_checked && (self.buf.len() >= 3 || self.eof) {
            self.bom_checked = true;
            // A byte order mark (editors on Windows write one) is no SQL.
            if self.base == 0 && self.buf.starts_with(b"\xef\xbb\xbf") {
                self.scan = 3;
            }
        }
        Ok(())
    }

    /// Scans what was read for the end of the current statement.
    fn split(&mut self) -> std::result::Result<Option<Statement>, String> {
        if !self.bom_checked {
            return Ok(None);
        }
        let mut i = self.scan;
        while i < self.buf.len() {
            let b = self.buf[i];
            let mut again = false;
            match self.lex {
                Lex::Normal => match b {
                    b';' => {
                        // Without a token, an empty statement: skipped, as
                        // the engine does.
                        if let Some((t, line)) = self.token
                            && let Some(text) = self.complete(t, i)
                        {
                            self.token = None;
                            self.depth = 0;
                            self.scan = i + 1;
                            return Ok(Some(Statement { text, line }));
                        }
                    }
                    b'\'' | b'"' | b'`' => {
                        self.mark(i);
                        self.lex = Lex::Quoted(b);
                    }
                    b'[' => {
                        self.mark(i);
                        self.lex = Lex::Quoted(b']');
                    }
                    b'-' => self.lex = Lex::Dash,
                    b'/' => self.lex = Lex::Slash,
                    b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {}
                    b'(' => {
                        self.mark(i);
                        self.depth += 1;
                        if self.depth > MAX_NESTING {
                            return Err(format!(
                                "line {}: parentheses nest more than {MAX_NESTING} deep, more than the engine takes",
                                self.line
                            ));
                        }
                    }
                    b')' => {
                        self.mark(i);
                        self.depth = self.depth.saturating_sub(1);
                    }
                    _ => self.mark(i),
                },
                Lex::Dash | Lex::Slash => {
                    let opens = if self.lex == Lex::Dash { b'-' } else { b'*' };
                    if b == opens {
                        self.lex = if b == b'-' {
                            Lex::LineComment
                        } else {
                            Lex::BlockComment
                        };
                    } else {
                        // The `-` or `/` was an operator; this byte is read again.
                        self.mark(i - 1);
                        self.lex = Lex::Normal;
                        again = true;
                    }
                }
                Lex::LineComment => {
                    if b == b'\n' {
                        self.lex = Lex::Normal;
                    }
                }
                Lex::BlockComment => {
                    if b == b'*' {
                        self.lex = Lex::BlockStar;
                    }
                }
                Lex::BlockStar => {
                    self.lex = match b {
                        b'/' => Lex::Normal,
                        b'*' => Lex::BlockStar,
                        _ => Lex::BlockComment,
                    }
                }
                Lex::Quoted(end) => {
                    // A doubled quote closes and reopens: the same to the
                    // splitter. Most of a dump is inside quotes: skip to
                    // the closing one at once.
                    if b == end {
                        self.lex = Lex::Normal;
                    } else {
                        let rest = &self.buf[i..];
                        let skip = rest.iter().position(|&c| c == end).unwrap_or(rest.len());
                        self.line += rest[..skip].iter().filter(|&&c| c == b'\n').count();
                        i += skip;
                        continue;
                    }
                }
            }
            if !again {
                if b == b'\n' {
                    self.line += 1;
                }
                i += 1;
            }
        }
        self.scan = i;
        Ok(None)
    }

    fn mark(&mut self, at: usize) {
        if self.token.is_none() {
            self.token = Some((at, self.line));
        }
    }

    /// The statement `buf[from..=semicolon]`, if the engine's tokenizer
    /// agrees it ends there (a trigger's body holds semicolons of its own).
    fn complete(&self, from: usize, semicolon: usize) -> Option<String> {
        // No NUL inside: every byte read was checked.
        let text = CString::new(&self.buf[from..=semicolon]).ok()?;
        if !is_complete_statement(&text) {
            return None;
        }
        // Valid UTF-8: checked as read, and a ';' ends no character.
        text.into_string().ok()
    }
}

/// What a statement is to the dump's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ForeignKeysOff,
    Begin,
    Commit,
    /// Runs in the restore's transaction.
    Body,
}

#[derive(Default, PartialEq, Eq)]
enum Phase {
    /// Before BEGIN: only `PRAGMA foreign_keys=OFF`.
    #[default]
    Opening,
    Body,
    /// After COMMIT: nothing.
    Closed,
}

/// A dump is `[PRAGMA foreign_keys=OFF;] BEGIN; … COMMIT;`, nothing else.
#[derive(Default)]
struct Shape {
    phase: Phase,
    /// Statements of the body.
    body: usize,
    any: bool,
}

impl Shape {
    fn accept(&mut self, s: &Statement) -> std::result::Result<Role, String> {
        self.any = true;
        let role = classify(&s.text, s.line)?;
        let line = s.line;
        match (&self.phase, role) {
            (Phase::Closed, _) => Err(format!(
                "line {line}: a statement after the dump's COMMIT; a dump ends with its COMMIT"
            )),
            (Phase::Opening, Role::ForeignKeysOff) => Ok(role),
            (Phase::Opening, Role::Begin) => {
                self.phase = Phase::Body;
                Ok(role)
            }
            (Phase::Opening, _) => Err(format!(
                "line {line}: a dump opens with BEGIN TRANSACTION (after PRAGMA foreign_keys=OFF); \
                 this file does not, so it is not a whole dump"
            )),
            (Phase::Body, Role::Begin) => Err(format!(
                "line {line}: a second BEGIN; a dump is one transaction"
            )),
            (Phase::Body, Role::Commit) => {
                self.phase = Phase::Closed;
                Ok(role)
            }
            (Phase::Body, Role::ForeignKeysOff) => Err(format!(
                "line {line}: PRAGMA foreign_keys inside the dump's transaction, where it does nothing; \
                 a dump sets it before BEGIN"
            )),
            (Phase::Body, Role::Body) => {
                self.body += 1;
                Ok(role)
            }
        }
    }

    fn finish(&self) -> std::result::Result<(), String> {
        match self.phase {
            Phase::Closed => Ok(()),
            _ if !self.any => Err("it holds no SQL statements".into()),
            Phase::Opening => {
                Err("it has no BEGIN and no COMMIT, so it is not a whole dump".into())
            }
            Phase::Body => Err(
                "it does not end with COMMIT, as every dump does: it is cut off (incomplete); \
                 use a complete dump"
                    .into(),
            ),
        }
    }
}

/// What one statement is, if a dump may hold it. `Err` says why not, with
/// its line.
fn classify(text: &str, line: usize) -> std::result::Result<Role, String> {
    let mut parser = Parser::new(text.as_bytes());
    let cmd = match parser.next() {
        Ok(Some(cmd)) => cmd,
        Ok(None) => return Err(format!("line {line}: an empty statement")),
        Err(e) => return Err(parse_problem(&e, line)),
    };
    match parser.next() {
        Ok(None) => {}
        Ok(Some(_)) => {
            return Err(format!(
                "line {line}: two statements where one was expected"
            ));
        }
        Err(e) => return Err(parse_problem(&e, line)),
    }
    let stmt = match cmd {
        Cmd::Stmt(stmt) => stmt,
        Cmd::Explain(_) | Cmd::ExplainQueryPlan(_) => return refuse(line, "EXPLAIN"),
    };
    if let Stmt::Rollback {
        savepoint_name: None,
        ..
    } = stmt
    {
        return Err(format!(
            "line {line}: it ends its transaction with ROLLBACK (it was written after an error); \
             refusing to load it"
        ));
    }
    role(&stmt).or_else(|what| refuse(line, &what))
}

fn refuse(line: usize, what: &str) -> std::result::Result<Role, String> {
    Err(format!(
        "line {line}: {what} is not part of a dump; restore runs only CREATE TABLE, INDEX, VIEW or TRIGGER, \
         INSERT … VALUES, and a dump's own BEGIN, COMMIT, PRAGMA foreign_keys=OFF and sqlite_sequence rows"
    ))
}

/// The parser's error with the file's line numbers.
fn parse_problem(e: &ParseError, first_line: usize) -> String {
    let (what, at) = match e {
        ParseError::Io(e) => (e.to_string(), None),
        ParseError::UnrecognizedToken(at) => ("an unrecognized token".into(), *at),
        ParseError::UnterminatedLiteral(at) => ("an unterminated string".into(), *at),
        ParseError::UnterminatedBracket(at) => ("an unterminated bracket".into(), *at),
        ParseError::UnterminatedBlockComment(at) => ("an unterminated comment".into(), *at),
        ParseError::BadVariableName(at) => ("a bad parameter name".into(), *at),
        ParseError::BadNumber(at) => ("a malformed number".into(), *at),
        ParseError::ExpectedEqualsSign(at) => ("a missing '='".into(), *at),
        ParseError::MalformedBlobLiteral(at) => ("a malformed blob literal".into(), *at),
        ParseError::MalformedHexInteger(at) => ("a malformed hex integer".into(), *at),
        ParseError::ParserError(e, at) => (e.to_string(), *at),
        other => (format!("{other:?}"), None),
    };
    match at {
        Some((l, column)) => format!(
            "line {}: {what} (column {column})",
            first_line + l.saturating_sub(1) as usize
        ),
        None => format!("line {first_line}: {what}"),
    }
}

fn is(name: &Name, wanted: &[&str]) -> bool {
    crate::schema::name_is(&name.0, wanted)
}

/// The object is in the database being restored (`main`), not in another
/// one (`temp`, or one a statement attached).
fn in_main(name: &QualifiedName) -> std::result::Result<(), String> {
    match &name.db_name {
        Some(db) if !is(db, &["main"]) => Err(format!(
            "a statement on another database ({}.{})",
            unquoted(&db.0),
            unquoted(&name.name.0)
        )),
        _ => Ok(()),
    }
}

/// What a statement is to a dump; `Err` names what it is when it is not
/// part of one.
fn role(stmt: &Stmt) -> std::result::Result<Role, String> {
    match stmt {
        Stmt::Pragma(name, body) => {
            let pragma = unquoted(&name.name.0).to_ascii_lowercase();
            let off = match body {
                Some(PragmaBody::Equals(v) | PragmaBody::Call(v)) => is_off(v),
                None => false,
            };
            if pragma == "foreign_keys" && off && name.db_name.is_none() {
                Ok(Role::ForeignKeysOff)
            } else if pragma == "writable_schema" {
                Err(
                    "PRAGMA writable_schema (the sqlite3 shell writes it for a virtual table, \
                     which cannot be restored)"
                        .into(),
                )
            } else {
                Err(format!("PRAGMA {pragma}"))
            }
        }
        Stmt::Begin(..) => Ok(Role::Begin),
        Stmt::Commit(_) => Ok(Role::Commit),
        Stmt::Rollback {
            savepoint_name: None,
            ..
        } => Err("ROLLBACK".into()),
        Stmt::Rollback { .. } => Err("ROLLBACK TO".into()),
        Stmt::Savepoint(_) => Err("SAVEPOINT".into()),
        Stmt::Release(_) => Err("RELEASE".into()),
        Stmt::Attach { .. } => Err("ATTACH (it reaches other database files)".into()),
        Stmt::Detach(_) => Err("DETACH".into()),
        Stmt::CreateTable {
            temporary,
            tbl_name,
            body,
            ..
        } => {
            if *temporary {
                return Err("CREATE TEMP TABLE".into());
            }
            in_main(tbl_name)?;
            if let CreateTableBody::AsSelect(_) = body {
                return Err("CREATE TABLE … AS SELECT".into());
            }
            Ok(Role::Body)
        }
        Stmt::CreateIndex { idx_name, .. } => in_main(idx_name).map(|()| Role::Body),
        Stmt::CreateView {
            temporary,
            view_name,
            ..
        } => {
            if *temporary {
                return Err("CREATE TEMP VIEW".into());
            }
            in_main(view_name).map(|()| Role::Body)
        }
        Stmt::CreateTrigger {
            temporary,
            trigger_name,
            tbl_name,
            ..
        } => {
            if *temporary {
                return Err("CREATE TEMP TRIGGER".into());
            }
            in_main(trigger_name)?;
            in_main(tbl_name).map(|()| Role::Body)
        }
        Stmt::CreateVirtualTable { .. } => {
            Err("CREATE VIRTUAL TABLE (virtual tables cannot be restored from a dump)".into())
        }
        Stmt::Insert {
            with,
            tbl_name,
            body,
            returning,
            ..
        } => {
            in_main(tbl_name)?;
            let table = unquoted(&tbl_name.name.0);
            let lower = table.to_ascii_lowercase();
            if lower.starts_with("sqlite_")
                && !matches!(
                    lower.as_str(),
                    "sqlite_sequence" | "sqlite_stat1" | "sqlite_stat4"
                )
            {
                return Err(format!("INSERT INTO {table}"));
            }
            if with.is_some() || returning.is_some() {
                return Err("INSERT with WITH or RETURNING".into());
            }
            let select = match body {
                InsertBody::DefaultValues => return Ok(Role::Body),
                InsertBody::Select(_, Some(_)) => return Err("INSERT … ON CONFLICT".into()),
                InsertBody::Select(select, None) => select,
            };
            let rows = match &select.body.select {
                OneSelect::Values(rows)
                    if select.with.is_none()
                        && select.order_by.is_none()
                        && select.limit.is_none()
                        && select.body.compounds.is_none() =>
                {
                    rows
                }
                _ => return Err(format!("INSERT INTO {table} … SELECT")),
            };
            if rows.iter().flatten().all(is_value) {
                Ok(Role::Body)
            } else {
                Err(format!(
                    "INSERT INTO {table} with a value that is not a literal (only literals, arithmetic, \
                     || and char(), replace(), unistr(), unhex() are)"
                ))
            }
        }
        Stmt::Delete {
            with: None,
            tbl_name,
            indexed: None,
            where_clause: None,
            returning: None,
            order_by: None,
            limit: None,
        } if tbl_name.db_name.is_none() && is(&tbl_name.name, &["sqlite_sequence"]) => {
            Ok(Role::Body)
        }
        Stmt::Delete { tbl_name, .. } => Err(format!("DELETE FROM {}", unquoted(&tbl_name.name.0))),
        Stmt::Analyze(Some(name))
            if name.db_name.is_none() && is(&name.name, &["sqlite_schema", "sqlite_master"]) =>
        {
            Ok(Role::Body)
        }
        Stmt::Analyze(_) => Err("ANALYZE".into()),
        Stmt::AlterTable(..) => Err("ALTER TABLE".into()),
        Stmt::DropIndex { .. } => Err("DROP INDEX".into()),
        Stmt::DropTable { .. } => Err("DROP TABLE".into()),
        Stmt::DropTrigger { .. } => Err("DROP TRIGGER".into()),
        Stmt::DropView { .. } => Err("DROP VIEW".into()),
        Stmt::Reindex { .. } => Err("REINDEX".into()),
        Stmt::Select(_) => Err("SELECT".into()),
        Stmt::Update { .. } => Err("UPDATE".into()),
        Stmt::Vacuum(..) => Err("VACUUM".into()),
    }
}

/// `OFF`, `0`, `false` or `no`, as the engine reads a boolean pragma.
fn is_off(v: &Expr) -> bool {
    let word = match v {
        Expr::Id(id) => unquoted(&id.0),
        Expr::Name(name) => unquoted(&name.0),
        Expr::Literal(Literal::Numeric(n)) => n.clone(),
        Expr::Literal(Literal::String(s)) => unquoted(s),
        Expr::Literal(Literal::Keyword(k)) => k.clone(),
        _ => return false,
    };
    ["off", "0", "false", "no"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
}

/// A value as dumps write them: literals, signs, arithmetic and
/// concatenation of literals (exact floats, text around CRs), and the few
/// functions dumpers spell characters and bytes with.
fn is_value(e: &Expr) -> bool {
    match e {
        Expr::Literal(_) => true,
        Expr::Unary(UnaryOperator::Negative | UnaryOperator::Positive, x) => is_value(x),
        Expr::Parenthesized(xs) => xs.iter().all(is_value),
        Expr::Binary(
            l,
            Operator::Add
            | Operator::Substract
            | Operator::Multiply
            | Operator::Divide
            | Operator::Concat,
            r,
        ) => is_value(l) && is_value(r),
        Expr::Cast { expr, .. } => is_value(expr),
        Expr::FunctionCall {
            name,
            distinctness: None,
            args,
            filter_over: None,
        } => {
            crate::schema::name_is(&name.0, &["char", "replace", "unistr", "unhex"])
                && args.iter().flatten().all(is_value)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> std::result::Result<Vec<(String, usize)>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sql");
        std::fs::write(&path, text).unwrap();
        let mut r = Reader::open(&path).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(s) = r.next()? {
            out.push((s.text, s.line));
        }
        Ok(out)
    }

    #[test]
    fn statements_split_where_the_engine_ends_them() {
        let got = split(
            "\u{feff}-- header; with a semicolon\nPRAGMA foreign_keys=OFF;BEGIN TRANSACTION;\n\
             CREATE TABLE \"a;b\" (x TEXT DEFAULT ';', [y;] /* ; */ INT);\n\
             ;;\n\
             CREATE TRIGGER t AFTER INSERT ON \"a;b\" BEGIN\n  INSERT INTO log VALUES('x;'); -- ;\n  SELECT 1 - -2 / 3;\nEND;\n\
             INSERT INTO \"a;b\" VALUES('it''s; \"q\"\nnext line',`c;`);\nCOMMIT; -- done\n",
        )
        .unwrap();
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "PRAGMA foreign_keys=OFF;",
                "BEGIN TRANSACTION;",
                "CREATE TABLE \"a;b\" (x TEXT DEFAULT ';', [y;] /* ; */ INT);",
                "CREATE TRIGGER t AFTER INSERT ON \"a;b\" BEGIN\n  INSERT INTO log VALUES('x;'); -- ;\n  SELECT 1 - -2 / 3;\nEND;",
                "INSERT INTO \"a;b\" VALUES('it''s; \"q\"\nnext line',`c;`);",
                "COMMIT;",
            ]
        );
        let lines: Vec<usize> = got.iter().map(|(_, l)| *l).collect();
        assert_eq!(lines, [2, 2, 3, 5, 9, 11]);
    }

    #[test]
    fn a_statement_cut_off_is_refused_with_its_line() {
        let e = split("BEGIN;\nINSERT INTO t VALUES('a;\n").unwrap_err();
        assert!(e.contains("starts at line 2"), "{e}");
        let e = split("BEGIN;\nCREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;").unwrap_err();
        assert!(e.contains("starts at line 2"), "{e}");
        // Trailing comments are no statement; a lone `-` is.
        let e = split("BEGIN; -- x\n/* y */ -").unwrap_err();
        assert!(e.contains("starts at line 2"), "{e}");
        assert_eq!(split("BEGIN; -- x\n/* y */").unwrap().len(), 1);
    }

    #[test]
    fn a_statement_larger_than_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sql");
        let long = format!("BEGIN;\nINSERT INTO t VALUES('{}');\n", "x".repeat(3 << 20));
        std::fs::write(&path, &long).unwrap();
        let mut r = Reader::open(&path).unwrap();
        r.limit = 1 << 20;
        assert_eq!(r.next().unwrap().unwrap().text, "BEGIN;");
        let e = r.next().err().unwrap();
        assert!(
            e.contains("the statement at line 2 is larger than 1 MiB"),
            "{e}"
        );
        // It stopped reading soon after the limit.
        assert!(r.read < (2 << 20), "{}", r.read);
        let mut r = Reader::open(&path).unwrap();
        r.limit = 4 << 20;
        assert_eq!(std::iter::from_fn(|| r.next().unwrap()).count(), 2);
    }

    #[test]
    fn bytes_that_are_not_text_are_refused() {
        let e = split("BEGIN;\0").unwrap_err();
        assert!(e.contains("NUL byte (at byte 6)"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sql");
        std::fs::write(&path, b"BEGIN;\n\xff\xfe").unwrap();
        let mut r = Reader::open(&path).unwrap();
        let e = std::iter::from_fn(|| r.next().transpose())
            .find_map(|r| r.err())
            .unwrap();
        assert!(e.contains("not valid UTF-8 (at byte 7)"), "{e}");
        std::fs::write(&path, b"BEGIN;\n'\xc3").unwrap();
        let mut r = Reader::open(&path).unwrap();
        let e = std::iter::from_fn(|| r.next().transpose())
            .find_map(|r| r.err())
            .unwrap();
        assert!(e.contains("inside a UTF-8 character (byte 8)"), "{e}");
    }

    fn role_of(sql: &str) -> std::result::Result<Role, String> {
        classify(sql, 7)
    }

    #[test]
    fn only_what_dumps_consist_of_is_allowed() {
        for ok in [
            "PRAGMA foreign_keys=OFF;",
            "PRAGMA foreign_keys = 0;",
            "BEGIN TRANSACTION;",
            "BEGIN;",
            "COMMIT;",
            "END;",
            "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a * 2) VIRTUAL) STRICT;",
            "CREATE TABLE main.t (a);",
            "CREATE UNIQUE INDEX i ON t (a) WHERE a > 0;",
            "CREATE VIEW v AS SELECT * FROM t;",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END;",
            "INSERT INTO \"t\" VALUES(1,-2.5,'x',X'00ff',NULL,(-9223372036854775807-1));",
            "INSERT INTO t(\"a\",\"b\") VALUES((3.0/4294967296.0/2.0),('a'||char(13)||'b'));",
            "INSERT INTO t VALUES(replace('a\\nb','\\n',char(10)), unistr('\\u000d'));",
            "INSERT INTO sqlite_sequence VALUES('t',5);",
            "DELETE FROM sqlite_sequence;",
            "ANALYZE sqlite_schema;",
            "INSERT INTO sqlite_stat1 VALUES('t','i','3 1');",
        ] {
            assert!(role_of(ok).is_ok(), "{ok}: {:?}", role_of(ok));
        }
        for (bad, says) in [
            ("ATTACH 'other.db' AS o;", "ATTACH"),
            ("ATTACH DATABASE 'x' AS y;", "ATTACH"),
            ("DETACH o;", "DETACH"),
            ("PRAGMA writable_schema=ON;", "PRAGMA writable_schema"),
            ("PRAGMA foreign_keys=ON;", "PRAGMA foreign_keys"),
            ("PRAGMA main.foreign_keys=OFF;", "PRAGMA foreign_keys"),
            ("PRAGMA journal_mode=OFF;", "PRAGMA journal_mode"),
            ("DROP TABLE t;", "DROP TABLE"),
            ("UPDATE t SET a = 1;", "UPDATE"),
            ("DELETE FROM t;", "DELETE FROM t"),
            (
                "DELETE FROM sqlite_sequence WHERE load_extension('x');",
                "DELETE FROM sqlite_sequence",
            ),
            ("VACUUM;", "VACUUM"),
            ("VACUUM INTO '/tmp/x.db';", "VACUUM"),
            ("SELECT load_extension('x');", "SELECT"),
            ("INSERT INTO t SELECT load_extension('x');", "SELECT"),
            (
                "INSERT INTO t VALUES(load_extension('x'));",
                "not a literal",
            ),
            ("INSERT INTO t VALUES((SELECT 1));", "not a literal"),
            ("INSERT INTO t VALUES(a);", "not a literal"),
            ("INSERT INTO o.t VALUES(1);", "another database (o.t)"),
            ("INSERT INTO temp.t VALUES(1);", "another database"),
            (
                "INSERT INTO sqlite_schema VALUES(1);",
                "INSERT INTO sqlite_schema",
            ),
            (
                "INSERT INTO \"sqlite_master\" VALUES(1);",
                "INSERT INTO sqlite_master",
            ),
            (
                "INSERT INTO t VALUES(1) ON CONFLICT DO NOTHING;",
                "ON CONFLICT",
            ),
            ("INSERT INTO t VALUES(1) RETURNING *;", "RETURNING"),
            ("CREATE TEMP TABLE t (a);", "CREATE TEMP TABLE"),
            ("CREATE TABLE o.t (a);", "another database"),
            ("CREATE TABLE t AS SELECT 1;", "AS SELECT"),
            ("CREATE INDEX o.i ON t (a);", "another database"),
            ("CREATE TEMP VIEW v AS SELECT 1;", "CREATE TEMP VIEW"),
            (
                "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
                "TEMP TRIGGER",
            ),
            ("CREATE VIRTUAL TABLE f USING fts5(a);", "virtual tables"),
            ("ROLLBACK;", "ends its transaction with ROLLBACK"),
            ("SAVEPOINT s;", "SAVEPOINT"),
            ("RELEASE s;", "RELEASE"),
            ("ALTER TABLE t ADD COLUMN b;", "ALTER TABLE"),
            ("REINDEX;", "REINDEX"),
            ("ANALYZE;", "ANALYZE"),
            ("EXPLAIN SELECT 1;", "EXPLAIN"),
        ] {
            let e = role_of(bad).unwrap_err();
            assert!(e.starts_with("line 7: ") && e.contains(says), "{bad}: {e}");
        }
        let e = role_of("INSERT INTO t VALUES (1;").unwrap_err();
        assert!(e.starts_with("line 7: "), "{e}");
        let e = role_of("CREATE TABLE t (a);\nINSERT INTO t VALUES (1,;").unwrap_err();
        assert!(e.starts_with("line 8: "), "{e}");
    }
}
