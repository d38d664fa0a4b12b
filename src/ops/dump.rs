//! `dump`: the whole database as SQL text that the sqlite3 shell loads and
//! `restore` loads back. Rows stream from the database to the writer, so
//! memory stays flat however large the database is.

pub(crate) mod grammar;
pub(crate) mod split;

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::TrafficReport;
use super::tx::read_failed;
use crate::atomic_file::AtomicFile;
use crate::database::{DbError, Kind, Location, Target};
use crate::error::{Error, Result};
use crate::schema::{TableScan, is_internal, quote_ident};
use crate::value::{ValueRef, write_sql_literal};

#[derive(Debug, Clone, Serialize)]
pub struct DumpReport {
    pub target: String,
    pub tables: Vec<(String, u64)>,
    pub rows: u64,
    pub bytes: u64,
    pub traffic: Option<TrafficReport>,
}

/// Writes every table (schema and rows), then indexes, triggers and views,
/// inside one read transaction, so the dump is one consistent snapshot.
pub async fn dump(target: &dyn Target, out: &mut dyn Write) -> Result<DumpReport> {
    target
        .read_snapshot()
        .await
        .map_err(|e| read_failed(target, "starting a read transaction", e))?;
    // Nothing but the dump is read in this snapshot.
    target.last_reads();
    let result = dump_rows(target, out).await;
    target.end_snapshot().await;
    result.map(|report| DumpReport {
        traffic: target.traffic(),
        ..report
    })
}

/// The dump itself, read through whatever transaction is open: a read
/// snapshot (`dump`) or the write transaction a backup is taken in.
pub(crate) async fn dump_rows(target: &dyn Target, out: &mut dyn Write) -> Result<DumpReport> {
    let io = |e: std::io::Error| Error::Database {
        target: target.location().to_string(),
        step: "writing the dump".into(),
        reason: e.to_string(),
    };
    let objects = super::read_schema(target)
        .await
        .map_err(|e| read_failed(target, "reading the schema", e))?;
    if let Some(v) = objects.iter().find(|o| {
        o.sql
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL TABLE")
    }) {
        return Err(read_failed(
            target,
            "reading the schema",
            DbError::new(
                Kind::Engine,
                format!("the virtual table {} cannot be dumped as plain SQL", v.name),
            ),
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
        target.location()
    )
    .map_err(io)?;
    writeln!(written, "{}", grammar::OPENING).map_err(io)?;
    let mut tables = Vec::new();
    let mut total = 0;
    let mut line = String::with_capacity(256);
    // sqlite_sequence goes last, as the sqlite3 shell writes it: the engine
    // creates it with the first AUTOINCREMENT table, so its rows can only
    // be loaded after that table. With no such table left, its rows name
    // tables that are gone, and a fresh database would have no
    // sqlite_sequence to take them: it is left out.
    let autoincrement = objects.iter().any(|o| {
        o.kind == "table"
            && !is_internal(&o.name)
            && o.sql.to_ascii_uppercase().contains("AUTOINCREMENT")
    });
    let tables_in_order: Vec<_> = objects
        .iter()
        .filter(|o| o.kind == "table" && !is_internal(&o.name))
        .chain(
            objects
                .iter()
                .filter(|o| o.kind == "table" && o.name == "sqlite_sequence" && autoincrement),
        )
        .collect();
    let stored = written_columns(target)
        .await
        .map_err(|e| read_failed(target, "reading the tables' columns", e))?;
    let scans: Vec<TableScan<'_>> = tables_in_order
        .iter()
        .map(|o| TableScan {
            table: &o.name,
            columns: stored
                .get(&o.name)
                .map(|c| c.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            order: Vec::new(),
        })
        .collect();
    target
        .prefetch(&scans)
        .await
        .map_err(|e| read_failed(target, "reading the tables' first rows", e))?;
    for (o, scan) in tables_in_order.iter().zip(&scans) {
        if o.name == "sqlite_sequence" {
            writeln!(written, "{}", grammar::CLEAR_SEQUENCE).map_err(io)?;
        } else {
            writeln!(written, "{};", o.sql).map_err(io)?;
        }
        let mut count = 0u64;
        let table = quote_ident(&o.name);
        let head = if scan.columns.is_empty() {
            format!("INSERT INTO {table} VALUES(")
        } else {
            let quoted: Vec<String> = scan.columns.iter().map(|c| quote_ident(c)).collect();
            format!("INSERT INTO {table}({}) VALUES(", quoted.join(","))
        };
        // A failed write stops the query, and comes back from it.
        let read = target
            .scan(scan, &mut |row| {
                line.clear();
                line.push_str(&head);
                for (i, v) in row.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    write_sql_literal(&mut line, *v);
                }
                line.push_str(");\n");
                written
                    .write_all(line.as_bytes())
                    .map_err(DbError::stopped)?;
                count += 1;
                Ok(())
            })
            .await;
        read.map_err(|e| match e.stopped_by::<std::io::Error>() {
            Ok(written) => io(written),
            Err(e) => read_failed(target, &format!("reading {}", o.name), e),
        })?;
        total += count;
        tables.push((o.name.clone(), count));
    }
    for o in objects
        .iter()
        .filter(|o| o.kind != "table" && !o.sql.is_empty() && !is_internal(&o.name))
    {
        writeln!(written, "{};", o.sql).map_err(io)?;
    }
    writeln!(written, "{}", grammar::CLOSING).map_err(io)?;
    written.flush().map_err(io)?;
    Ok(DumpReport {
        target: target.location().to_string(),
        tables,
        rows: total,
        bytes: written.bytes,
        traffic: target.traffic(),
    })
}

/// The columns a dump writes, by table: none listed for a table whose
/// columns are all written (`*`, as the sqlite3 shell writes them); for a
/// table with generated columns, the others (an INSERT may not name a
/// generated column; the engine computes it again). One query for every
/// table: a server charges a round trip per query.
async fn written_columns(
    target: &dyn Target,
) -> std::result::Result<std::collections::HashMap<String, Vec<String>>, DbError> {
    let mut stored: std::collections::HashMap<String, (Vec<String>, bool)> = Default::default();
    target
        .query(
            // The query a server reads ahead with the transaction's start.
            crate::database::SHAPES_SQL,
            &mut |r| match (r.first(), r.get(1), r.get(5)) {
                (
                    Some(ValueRef::Text(table)),
                    Some(ValueRef::Text(name)),
                    Some(ValueRef::Integer(hidden)),
                ) => {
                    let (columns, generated) = stored.entry((*table).to_owned()).or_default();
                    // 0: an ordinary column; 2 and 3: generated (virtual,
                    // stored); 1: hidden, which only virtual tables have.
                    if *hidden == 0 {
                        columns.push((*name).to_owned());
                    } else {
                        *generated = true;
                    }
                    Ok(())
                }
                _ => Err(DbError::new(
                    Kind::Engine,
                    "pragma_table_xinfo answered in an unknown shape",
                )),
            },
        )
        .await?;
    Ok(stored
        .into_iter()
        .filter(|(_, (_, generated))| *generated)
        .map(|(table, (columns, _))| (table, columns))
        .collect())
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

/// Writes the dump to the new file `path`: complete or not at all, never
/// over an existing file or through a symbolic link, never onto the
/// database itself or one of its side files.
pub async fn dump_to_file(target: &dyn Target, path: &Path) -> Result<DumpReport> {
    let mut file = new_dump_file(target, path)?;
    let report = dump(target, &mut file).await?;
    finish_dump_file(file, path)?;
    Ok(report)
}

/// Starts the new file `path` for a dump; every refusal comes here, before
/// the database is read.
pub(crate) fn new_dump_file(target: &dyn Target, path: &Path) -> Result<AtomicFile> {
    let shown = path.display().to_string();
    if let Location::Local(db) = target.location()
        && is_database_file(db, path)
    {
        return Err(Error::Usage(format!(
            "refusing to write the dump to {shown}: that is the database or one of its side files"
        )));
    }
    AtomicFile::create(path, false).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!(
                "refusing to write the dump to {shown}: {e}; choose a new file name"
            ))
        } else {
            Error::Output {
                path: shown,
                reason: e.to_string(),
            }
        }
    })
}

/// Flushes the dump to disk and gives it its name.
pub(crate) fn finish_dump_file(file: AtomicFile, path: &Path) -> Result<()> {
    file.finish(false).map_err(|e| Error::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Whether `path` names the database file `db` or one of the files the
/// engine keeps beside it.
fn is_database_file(db: &Path, path: &Path) -> bool {
    let canonical = |p: &Path| -> Option<std::path::PathBuf> {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    let (Some(db), Some(path)) = (canonical(db), canonical(path)) else {
        return false;
    };
    ["", "-wal", "-shm", "-journal"].iter().any(|side| {
        let mut name = db.clone().into_os_string();
        name.push(side);
        name == path.as_os_str()
    })
}
