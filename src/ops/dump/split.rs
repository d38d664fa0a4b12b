//! The dump's statement splitter: reads a file a statement at a time, as
//! the engine would end each one, refusing bytes that are not text as soon
//! as it reads them. Memory holds one statement, whatever the file's size.

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::database::is_complete_statement;
use crate::error::{Error, Result};

/// The largest statement a dump may hold (one row, as SQL text).
pub const MAX_STATEMENT_BYTES: usize = 256 << 20;

/// The deepest a statement may nest parentheses: the engine refuses
/// expressions deeper than 1000, and the checks here recurse.
const MAX_NESTING: u32 = 1000;

const READ_BYTES: usize = 256 << 10;

/// One statement of the file, as written, from its first token to its
/// semicolon, and the line it starts on.
pub(crate) struct Statement {
    pub(crate) text: String,
    pub(crate) line: usize,
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
pub(crate) struct Reader {
    file: File,
    buf: Vec<u8>,
    /// Bytes of the file read so far.
    pub(crate) read: u64,
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
    pub(crate) digest: Sha256,
    /// The largest statement taken, in bytes.
    limit: usize,
}

impl Reader {
    pub(crate) fn open(path: &Path) -> Result<Reader> {
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
    pub(crate) fn next(&mut self) -> std::result::Result<Option<Statement>, String> {
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
}
