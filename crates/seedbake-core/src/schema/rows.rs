//! The [`Rows`] trait, the one way seedbake reads query results (over a
//! libsql connection, local or remote, or the raw local writer), and the
//! engine's message without libsql's wrapping.

use libsql::Connection;

use crate::value::{ValueRef, from_libsql};

/// What a read hands each row to; an `Err` stops the read and comes back
/// from it as it is.
pub type RowFn<'f, E> = &'f mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), E>;

/// Something that runs a query and hands over its rows: a `libsql`
/// connection (local or remote), or a runtime target. The schema and the
/// fingerprint read through it, so the build, a reset's proof and `verify`
/// share one implementation. A read fails with the reader's own error, so
/// its caller gets back what the reader said (a target's kind of failure
/// decides the exit code) with nothing kept on the side.
// Nothing reads through `Rows` from another thread, so the futures need
// not promise `Send` (a runtime target's are not).
#[allow(async_fn_in_trait)]
pub trait Rows {
    /// How a read fails; a row function stops a read with one too.
    type Error;

    async fn each_row(&self, sql: &str, f: RowFn<'_, Self::Error>) -> Result<(), Self::Error>;

    /// Every row of a whole table, in the scan's order. A reader may read
    /// it in pieces (a server does: in pages, inside one snapshot), so this
    /// is the one way a whole table is read. No default: a reader that
    /// wraps another must pass scans on, or a server's big table would be
    /// read as one cursor that outlives the server's stream clock.
    async fn each_table_row(
        &self,
        scan: &TableScan<'_>,
        f: RowFn<'_, Self::Error>,
    ) -> Result<(), Self::Error>;

    /// Says which whole tables are read next, so that a reader that pays
    /// per request (a server) can fetch their beginnings together. The
    /// rows still come from `each_table_row`; nothing else changes. No
    /// default either: a wrapper that drops this makes a server's proof
    /// two requests a table.
    async fn prefetch(&self, scans: &[TableScan<'_>]) -> Result<(), Self::Error>;
}

/// A whole table, read row by row.
#[derive(Debug, Clone)]
pub struct TableScan<'a> {
    pub table: &'a str,
    /// The columns to read, in this order; empty: every column `SELECT *`
    /// gives, in the table's order.
    pub columns: Vec<&'a str>,
    /// The columns that order the rows (their ties, if any, are identical
    /// rows or are broken by the rowid); empty: any order.
    pub order: Vec<&'a str>,
}

impl TableScan<'_> {
    /// The scan as one query.
    pub fn sql(&self) -> String {
        let columns = if self.columns.is_empty() {
            "*".to_owned()
        } else {
            let quoted: Vec<String> = self.columns.iter().map(|c| super::quote_ident(c)).collect();
            quoted.join(", ")
        };
        let mut sql = format!("SELECT {columns} FROM {}", super::quote_ident(self.table));
        if !self.order.is_empty() {
            let order: Vec<String> = self.order.iter().map(|c| super::quote_ident(c)).collect();
            sql.push_str(" ORDER BY ");
            sql.push_str(&order.join(", "));
        }
        sql
    }
}

/// The engine's message without libsql's wrapping (the compiler's errors and
/// the runtime's both use it).
pub fn engine_message(e: &libsql::Error) -> String {
    match e {
        libsql::Error::SqliteFailure(_, msg) => msg.clone(),
        other => other.to_string(),
    }
}

/// The build's reader: its failures are the engine's words.
impl Rows for Connection {
    type Error = String;

    async fn each_row(&self, sql: &str, f: RowFn<'_, String>) -> Result<(), String> {
        let mut rows = self.query(sql, ()).await.map_err(|e| engine_message(&e))?;
        let width = rows.column_count().max(0);
        let mut owned: Vec<libsql::Value> = Vec::with_capacity(width as usize);
        while let Some(row) = rows.next().await.map_err(|e| engine_message(&e))? {
            owned.clear();
            for i in 0..width {
                owned.push(row.get_value(i).map_err(|e| engine_message(&e))?);
            }
            let refs: Vec<ValueRef<'_>> = owned.iter().map(from_libsql).collect();
            f(&refs)?;
        }
        Ok(())
    }

    /// One query for the whole table: what the build's in-memory database
    /// needs (a server target is read through `Target::scan`, in pages).
    async fn each_table_row(
        &self,
        scan: &TableScan<'_>,
        f: RowFn<'_, String>,
    ) -> Result<(), String> {
        self.each_row(&scan.sql(), f).await
    }

    /// Nothing to gain: a query costs no round trip here.
    async fn prefetch(&self, _scans: &[TableScan<'_>]) -> Result<(), String> {
        Ok(())
    }
}
