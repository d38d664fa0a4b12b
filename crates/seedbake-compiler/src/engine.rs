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
/// line. Returns each row's rowid.
pub(crate) async fn insert_rows(
    conn: &Connection,
    table: &schema::Table,
    rows: &[PendingRow],
) -> Result<Vec<i64>, SeedError> {
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
    let sql = if provided.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES", quote_ident(&table.name))
    } else {
        let marks: Vec<String> = (1..=provided.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
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
    let mut rowids = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let params: Vec<libsql::Value> = provided
            .iter()
            .map(|&i| to_libsql(row.values[i].as_ref().expect("uniform per table").as_ref()))
            .collect();
        stmt.reset();
        if let Err(e) = stmt.execute(params).await {
            let _ = conn.execute("ROLLBACK", ()).await;
            return Err(constraint_error(table, rows, n, schema::engine_message(&e)));
        }
        rowids.push(conn.last_insert_rowid());
    }
    conn.execute("COMMIT", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    Ok(rowids)
}

/// Every row of a table as the engine stored it, in insertion order.
pub(crate) async fn read_back(
    conn: &Connection,
    table: &schema::Table,
) -> libsql::Result<Vec<Vec<Value>>> {
    let cols: Vec<String> = table.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let base = format!(
        "SELECT {} FROM {}",
        cols.join(", "),
        quote_ident(&table.name)
    );
    let mut rows = match conn.query(&format!("{base} ORDER BY rowid"), ()).await {
        Ok(rows) => rows,
        // WITHOUT ROWID tables have no insertion order to keep.
        Err(_) => {
            let order: Vec<String> = table
                .order_columns()
                .iter()
                .map(|c| quote_ident(c))
                .collect();
            conn.query(&format!("{base} ORDER BY {}", order.join(", ")), ())
                .await?
        }
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let mut values = Vec::with_capacity(cols.len());
        for i in 0..cols.len() as i32 {
            values.push(Value::from(from_libsql(&row.get_value(i)?)));
        }
        out.push(values);
    }
    Ok(out)
}
