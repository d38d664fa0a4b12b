//! The content fingerprint: a SHA-256 over a database's schema and rows in a
//! canonical order and encoding.
//!
//! The build computes it by running this very code on the in-memory database
//! it checked the seed in; `verify` runs it on the target. One function on
//! both sides means the fingerprint cannot disagree with itself. Shared with
//! `build.rs`.

use libsql::Connection;
use sha2::{Digest, Sha256};

use crate::schema::{self, quote_ident};
use crate::value::{ValueRef, encode_value};

/// Where seedbake records what it loaded; not part of the fingerprint.
pub const META_TABLE: &str = "_seedbake";

/// The name under which the schema objects' digest is listed.
pub const SCHEMA_ENTRY: &str = "(schema)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hex SHA-256 over every entry below.
    pub total: String,
    /// `(schema)` first, then every table by name, each with its hex digest.
    pub entries: Vec<(String, String)>,
}

impl Fingerprint {
    /// Names of the entries that differ between two fingerprints, including
    /// those only one of them has.
    pub fn differing(&self, other: &Fingerprint) -> Vec<String> {
        let mut names: Vec<&String> = self
            .entries
            .iter()
            .chain(other.entries.iter())
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| self.entry(n) != other.entry(n))
            .cloned()
            .collect()
    }

    pub fn entry(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn put_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

/// Fingerprints every application table of `conn` (all but the engine's own
/// and seedbake's metadata table). `excluded` lists `(table, column)` pairs
/// left out: credentials, which operators rotate after a reset.
pub async fn compute(conn: &Connection, excluded: &[(&str, &str)]) -> libsql::Result<Fingerprint> {
    let mut entries = vec![(SCHEMA_ENTRY.to_owned(), schema_digest(conn).await?)];
    let mut tables = schema::tables(conn).await?;
    tables.retain(|t| t.name != META_TABLE);
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    for table in &tables {
        entries.push((
            table.name.clone(),
            table_digest(conn, table, excluded).await?,
        ));
    }
    let mut h = Sha256::new();
    h.update(b"seedbake-fingerprint-v1");
    for (name, digest) in &entries {
        put_str(&mut h, name);
        put_str(&mut h, digest);
    }
    Ok(Fingerprint {
        total: hex(&h.finalize()),
        entries,
    })
}

async fn schema_digest(conn: &Connection) -> libsql::Result<String> {
    let mut h = Sha256::new();
    let mut rows = conn
        .query(
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name",
            (),
        )
        .await?;
    while let Some(row) = rows.next().await? {
        let name: String = row.get(1)?;
        let table: String = row.get(2)?;
        if schema::is_internal(&name) || table == META_TABLE {
            continue;
        }
        for i in 0..3 {
            put_str(&mut h, &row.get::<String>(i)?);
        }
        put_str(&mut h, &schema::canonical_sql(&row.get::<String>(3)?));
    }
    Ok(hex(&h.finalize()))
}

async fn table_digest(
    conn: &Connection,
    table: &schema::Table,
    excluded: &[(&str, &str)],
) -> libsql::Result<String> {
    let mut h = Sha256::new();
    let columns: Vec<&schema::Column> = table
        .columns
        .iter()
        .filter(|c| !excluded.contains(&(table.name.as_str(), c.name.as_str())))
        .collect();
    for c in &columns {
        put_str(&mut h, &c.name);
        put_str(&mut h, &schema::canonical_type(&c.declared_type));
    }
    if columns.is_empty() {
        return Ok(hex(&h.finalize()));
    }
    let select: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
    let order: Vec<String> = table
        .order_columns()
        .iter()
        .map(|c| quote_ident(c))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        select.join(", "),
        quote_ident(&table.name),
        order.join(", ")
    );
    let mut rows = conn.query(&sql, ()).await?;
    let mut buf = Vec::with_capacity(256);
    while let Some(row) = rows.next().await? {
        buf.clear();
        for i in 0..columns.len() as i32 {
            let v = row.get_value(i)?;
            encode_value(&mut buf, from_libsql(&v));
        }
        h.update(&buf);
    }
    Ok(hex(&h.finalize()))
}

pub fn from_libsql(v: &libsql::Value) -> ValueRef<'_> {
    match v {
        libsql::Value::Null => ValueRef::Null,
        libsql::Value::Integer(i) => ValueRef::Integer(*i),
        libsql::Value::Real(r) => ValueRef::Real(*r),
        libsql::Value::Text(t) => ValueRef::Text(t),
        libsql::Value::Blob(b) => ValueRef::Blob(b),
    }
}
