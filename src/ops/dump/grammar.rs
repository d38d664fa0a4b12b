//! The dump's grammar: what `dump` writes and `restore` loads,
//! `[PRAGMA foreign_keys=OFF;] BEGIN; … COMMIT;` with only the statements a
//! dump consists of in between.

use fallible_iterator::FallibleIterator;
use libsql_sqlite3_parser::ast::{
    Cmd, CreateTableBody, Expr, InsertBody, Literal, Name, OneSelect, Operator, PragmaBody,
    QualifiedName, Stmt, UnaryOperator,
};
use libsql_sqlite3_parser::lexer::sql::{Error as ParseError, Parser};

use super::split::Statement;
use crate::schema::unquoted;

/// How the writer opens a dump: foreign keys off (a table's rows load
/// before the rows they refer to may be there), then its one transaction.
pub(crate) const OPENING: &str = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;";

/// How the writer ends a dump.
pub(crate) const CLOSING: &str = "COMMIT;";

/// How the writer empties `sqlite_sequence` before its rows: the engine
/// made the table, with rows of its own, when it created the first
/// AUTOINCREMENT table.
pub(crate) const CLEAR_SEQUENCE: &str = "DELETE FROM sqlite_sequence;";

/// What a statement is to the dump's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
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
pub(crate) struct Shape {
    phase: Phase,
    /// Statements of the body.
    pub(crate) body: usize,
    any: bool,
}

impl Shape {
    pub(crate) fn accept(&mut self, s: &Statement) -> std::result::Result<Role, String> {
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

    pub(crate) fn finish(&self) -> std::result::Result<(), String> {
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

    #[test]
    fn what_the_writer_frames_a_dump_with_is_a_dump() {
        let mut shape = Shape::default();
        let text = format!("{OPENING}\n{CLEAR_SEQUENCE}\n{CLOSING}");
        for (i, sql) in text.split_inclusive(';').enumerate() {
            let statement = Statement {
                text: sql.trim().to_owned(),
                line: i + 1,
            };
            assert!(shape.accept(&statement).is_ok(), "{sql}");
        }
        assert_eq!(shape.finish(), Ok(()));
        assert_eq!(shape.body, 1);
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
