//! `dump`: the whole database as SQL text that the sqlite3 shell loads and
//! `restore` loads back. Rows stream from the database to the writer, so
//! memory stays flat however large the database is.

use std::io::Write;

use serde::Serialize;

use super::TrafficReport;
use crate::error::{Error, Result};
use crate::schema::{is_internal, quote_ident};
use crate::target::Target;
use crate::value::{from_libsql, write_sql_literal};

#[derive(Debug, Clone, Serialize)]
pub struct DumpReport {
    pub target: String,
    pub tables: Vec<(String, u64)>,
    pub rows: u64,
    pub bytes: u64,
    pub traffic: Option<TrafficReport>,
}

struct Object {
    kind: String,
    name: String,
    sql: String,
}

/// Writes every table (schema and rows), then indexes, triggers and views,
/// inside one read transaction, so the dump is one consistent snapshot.
pub async fn dump(target: &Target, out: &mut dyn Write) -> Result<DumpReport> {
    let conn = &target.conn;
    let shown = target.location.to_string();
    let fail = |step: &str, reason: String| target.failed(step, reason);
    let io = |e: std::io::Error| Error::Database {
        target: shown.clone(),
        step: "writing the dump".into(),
        reason: e.to_string(),
    };
    if !target.is_remote() {
        // A dump reads every page once: a small cache keeps its memory flat
        // however large the database (the target opens with a large one for
        // resets, which re-read what they wrote).
        let _ = conn.query("PRAGMA cache_size = -8192", ()).await;
    }
    target
        .bounded(conn.execute("BEGIN", ()))
        .await
        .map_err(|r| fail("starting a read transaction", r))?;
    let result = dump_rows(target, out, &fail, &io).await;
    let _ = target.bounded(conn.execute("COMMIT", ())).await;
    result
}

async fn dump_rows(
    target: &Target,
    out: &mut dyn Write,
    fail: &dyn Fn(&str, String) -> Error,
    io: &dyn Fn(std::io::Error) -> Error,
) -> Result<DumpReport> {
    let conn = &target.conn;
    let mut objects = Vec::new();
    let mut rows = target
        .bounded(conn.query(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid",
            (),
        ))
        .await
        .map_err(|r| fail("reading the schema", r))?;
    while let Some(row) = target
        .bounded(rows.next())
        .await
        .map_err(|r| fail("reading the schema", r))?
    {
        let get = |i| {
            row.get::<String>(i)
                .map_err(|e| fail("reading the schema", target.explain(&e)))
        };
        objects.push(Object {
            kind: get(0)?,
            name: get(1)?,
            sql: get(2)?,
        });
    }
    if let Some(v) = objects.iter().find(|o| {
        o.sql
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL TABLE")
    }) {
        return Err(fail(
            "reading the schema",
            format!("the virtual table {} cannot be dumped as plain SQL", v.name),
        ));
    }

    let mut written = Counting {
        inner: out,
        bytes: 0,
    };
    writeln!(
        written,
        "-- seedbake {} dump of {}",
        env!("CARGO_PKG_VERSION"),
        target.location
    )
    .map_err(io)?;
    writeln!(written, "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;").map_err(io)?;
    let mut tables = Vec::new();
    let mut total = 0;
    let mut line = String::with_capacity(256);
    for o in objects.iter().filter(|o| o.kind == "table") {
        let is_sequence = o.name == "sqlite_sequence";
        if is_internal(&o.name) && !is_sequence {
            continue;
        }
        if is_sequence {
            writeln!(written, "DELETE FROM sqlite_sequence;").map_err(io)?;
        } else {
            writeln!(written, "{};", o.sql).map_err(io)?;
        }
        let mut rows = target
            .bounded(conn.query(&format!("SELECT * FROM {}", quote_ident(&o.name)), ()))
            .await
            .map_err(|r| fail(&format!("reading {}", o.name), r))?;
        let mut count = 0u64;
        let head = format!("INSERT INTO {} VALUES(", quote_ident(&o.name));
        while let Some(row) = target
            .bounded(rows.next())
            .await
            .map_err(|r| fail(&format!("reading {}", o.name), r))?
        {
            line.clear();
            line.push_str(&head);
            for i in 0..row.column_count() {
                if i > 0 {
                    line.push(',');
                }
                let v = row
                    .get_value(i)
                    .map_err(|e| fail(&format!("reading {}", o.name), target.explain(&e)))?;
                write_sql_literal(&mut line, from_libsql(&v));
            }
            line.push_str(");\n");
            written.write_all(line.as_bytes()).map_err(io)?;
            count += 1;
        }
        total += count;
        tables.push((o.name.clone(), count));
    }
    for o in objects
        .iter()
        .filter(|o| o.kind != "table" && !o.sql.is_empty() && !is_internal(&o.name))
    {
        writeln!(written, "{};", o.sql).map_err(io)?;
    }
    writeln!(written, "COMMIT;").map_err(io)?;
    written.flush().map_err(io)?;
    Ok(DumpReport {
        target: target.location.to_string(),
        tables,
        rows: total,
        bytes: written.bytes,
        traffic: target.traffic.as_ref().map(TrafficReport::from),
    })
}

struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
