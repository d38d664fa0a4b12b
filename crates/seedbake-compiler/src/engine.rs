//! The in-memory engine the seed is checked in: running the schema,
//! inserting each row so the engine judges it, and reading the rows back as
//! the engine stored them.

use libsql::Connection;
use seedbake_core::schema::{self, quote_ident};
use seedbake_core::value::{Value, from_libsql, to_libsql};

use crate::error::{ErrorKind, Origin, SeedError, internal};
use crate::explain::constraint_error;
use crate::rows::PendingRow;

/// A fresh in-memory database with the schema run and foreign keys off (they
/// are checked once, at the end).
pub(crate) async fn memory_db(schema_sql: &str, origin: &Origin) -> Result<Connection, SeedError> {
    let db = libsql::Builder::new_local(":memory:")
        .build()
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    let conn = db.connect().map_err(|e| internal(origin.clone(), e))?;
    conn.execute("PRAGMA foreign_keys = OFF", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    conn.execute_batch(schema_sql).await.map_err(|e| {
        SeedError::new(
            ErrorKind::Schema,
            origin.clone(),
            format!("the schema does not run: {}", schema::engine_message(&e)),
        )
    })?;
    Ok(conn)
}

/// Inserts the rows one by one, so the engine's verdict on each names its
/// line, binding only the columns the seed gives (the engine fills in the
/// rest, as it will at run time). Returns each row's rowid and the row as
/// the engine stored it, every column: affinity applied, defaults and
/// generated values filled in, but before any AFTER trigger touched it
/// (`RETURNING` reports the inserted row, not later writes).
pub(crate) async fn insert_rows(
    conn: &Connection,
    table: &schema::Table,
    rows: &[PendingRow],
) -> Result<Vec<(i64, Vec<Value>)>, SeedError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let provided: Vec<usize> = (0..table.columns.len())
        .filter(|&i| first.values[i].is_some())
        .collect();
    let cols: Vec<String> = provided
        .iter()
        .map(|&i| quote_ident(&table.columns[i].name))
        .collect();
    let all: Vec<String> = table.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let returning = format!("RETURNING {}", all.join(", "));
    let sql = if provided.is_empty() {
        format!(
            "INSERT INTO {} DEFAULT VALUES {returning}",
            quote_ident(&table.name)
        )
    } else {
        let marks: Vec<String> = (1..=provided.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}) {returning}",
            quote_ident(&table.name),
            cols.join(", "),
            marks.join(", ")
        )
    };
    let origin = &first.origin;
    conn.execute("BEGIN", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    let stmt = conn
        .prepare(&sql)
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    let mut stored = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let params: Vec<libsql::Value> = provided
            .iter()
            .map(|&i| to_libsql(row.values[i].as_ref().expect("uniform per table").as_ref()))
            .collect();
        stmt.reset();
        let returned = match returned_row(&stmt, params, all.len()).await {
            Ok(r) => r,
            Err(e) => {
                let _ = conn.execute("ROLLBACK", ()).await;
                return Err(constraint_error(table, rows, n, schema::engine_message(&e)));
            }
        };
        let Some(values) = returned else {
            let _ = conn.execute("ROLLBACK", ()).await;
            return Err(SeedError::new(
                ErrorKind::Check,
                row.origin.clone(),
                format!(
                    "a trigger of table {} dropped this row (RAISE(IGNORE)): the seed would not be what it says",
                    table.name
                ),
            ));
        };
        stored.push((conn.last_insert_rowid(), values));
    }
    drop(stmt);
    conn.execute("COMMIT", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    Ok(stored)
}

/// Runs the insert and reads the row its `RETURNING` gives, if any.
async fn returned_row(
    stmt: &libsql::Statement,
    params: Vec<libsql::Value>,
    width: usize,
) -> libsql::Result<Option<Vec<Value>>> {
    let mut rows = stmt.query(params).await?;
    let Some(row) = rows.next().await? else {
        return Ok(None);
    };
    let mut values = Vec::with_capacity(width);
    for i in 0..width as i32 {
        values.push(Value::from(from_libsql(&row.get_value(i)?)));
    }
    // Step to the end so the statement finishes (and its triggers run).
    while rows.next().await?.is_some() {}
    Ok(Some(values))
}
