//! The [`Rows`] trait, the one way seedbake reads query results (over a
//! libsql connection, local or remote, or the raw local writer), and the
//! engine's message without libsql's wrapping.

use std::future::Future;
use std::pin::Pin;

use libsql::Connection;

use crate::value::{ValueRef, from_libsql};

/// Something that runs a query and hands over its rows: a `libsql`
/// connection (local or remote), or seedbake's raw local writer. The schema
/// and the fingerprint read through it, so the build, a reset's proof and
/// `verify` share one implementation.
pub trait Rows {
    fn each_row<'a>(
        &'a self,
        sql: &'a str,
        f: &'a mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), String>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

    /// Every row of a whole table, in the scan's order. A reader may read
    /// it in pieces (a server does: in pages, inside one snapshot), so this
    /// is the one way a whole table is read. No default: a reader that
    /// wraps another must pass scans on, or a server's big table would be
    /// read as one cursor that outlives the server's stream clock.
    fn each_table_row<'a>(
        &'a self,
        scan: &'a TableScan<'a>,
        f: &'a mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), String>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

    /// Says which whole tables are read next, so that a reader that pays
    /// per request (a server) can fetch their beginnings together. The
    /// rows still come from `each_table_row`; nothing else changes. No
    /// default either: a wrapper that drops this makes a server's proof
    /// two requests a table.
    fn prefetch<'a>(
        &'a self,
        scans: &'a [TableScan<'a>],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;
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

impl Rows for Connection {
    fn each_row<'a>(
        &'a self,
        sql: &'a str,
        f: &'a mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), String>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>> {
        Box::pin(async move {
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
        })
    }

    /// One query for the whole table: what the build's in-memory database
    /// needs (a server target is read through `Target::scan`, in pages).
    fn each_table_row<'a>(
        &'a self,
        scan: &'a TableScan<'a>,
        f: &'a mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), String>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>> {
        Box::pin(async move {
            let sql = scan.sql();
            self.each_row(&sql, f).await
        })
    }

    /// Nothing to gain: a query costs no round trip here.
    fn prefetch<'a>(
        &'a self,
        _scans: &'a [TableScan<'a>],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>> {
        Box::pin(async { Ok(()) })
    }
}
