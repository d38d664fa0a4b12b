//! What a database's schema is, as the engine itself reports it.
//!
//! The compiler learns the seed's tables by running `schema.sql` in an
//! in-memory libSQL database and asking the engine (`PRAGMA table_info`,
//! `foreign_key_list`, `index_list`), so no hand-written SQL parser can drift
//! from what production will actually create.

use std::future::Future;
use std::pin::Pin;

use libsql::Connection;

use crate::value::ValueRef;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub declared_type: String,
    pub not_null: bool,
    pub has_default: bool,
    /// Position in the primary key (1-based), 0 when not part of it.
    pub pk: i64,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub id: i64,
    pub column: String,
    pub parent_table: String,
    pub parent_column: String,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Unique indexes and constraints, each as its name and columns.
    pub unique: Vec<(String, Vec<String>)>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The rowid alias, if the table has one (`id INTEGER … PRIMARY KEY`):
    /// such a column may be left out of the seed and numbered 1, 2, 3….
    pub fn rowid_alias(&self) -> Option<&Column> {
        let pk: Vec<_> = self.columns.iter().filter(|c| c.pk > 0).collect();
        match pk.as_slice() {
            [c] if c.declared_type.eq_ignore_ascii_case("INTEGER") => Some(c),
            _ => None,
        }
    }

    /// The column names, comma-separated, for messages.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The columns that order the rows canonically: the primary key, or every
    /// column when there is none.
    pub fn order_columns(&self) -> Vec<&str> {
        let mut pk: Vec<_> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        if pk.is_empty() {
            self.columns.iter().map(|c| c.name.as_str()).collect()
        } else {
            pk.iter().map(|c| c.name.as_str()).collect()
        }
    }
}

/// Double-quotes an identifier for SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether a schema object belongs to the engine (or to libSQL) rather than
/// to the application, and so must never be dropped.
pub fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with("libsql_") || lower.starts_with("_litestream")
}

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
                let refs: Vec<ValueRef<'_>> = owned
                    .iter()
                    .map(|v| match v {
                        libsql::Value::Null => ValueRef::Null,
                        libsql::Value::Integer(i) => ValueRef::Integer(*i),
                        libsql::Value::Real(r) => ValueRef::Real(*r),
                        libsql::Value::Text(t) => ValueRef::Text(t),
                        libsql::Value::Blob(b) => ValueRef::Blob(b),
                    })
                    .collect();
                f(&refs)?;
            }
            Ok(())
        })
    }
}

fn text(v: &ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(t) => (*t).to_owned(),
        ValueRef::Null => String::new(),
        other => other.to_string(),
    }
}

fn int(v: &ValueRef<'_>) -> i64 {
    match v {
        ValueRef::Integer(i) => *i,
        _ => 0,
    }
}

/// Every user table of the connection's main database, in creation order.
pub async fn tables(conn: &dyn Rows) -> Result<Vec<Table>, String> {
    let mut names = Vec::new();
    conn.each_row(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY rowid",
        &mut |r| {
            let name = text(&r[0]);
            if !is_internal(&name) {
                names.push(name);
            }
            Ok(())
        },
    )
    .await?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        tables.push(table(conn, &name).await?);
    }
    Ok(tables)
}

pub async fn table(conn: &dyn Rows, name: &str) -> Result<Table, String> {
    let q = quote_ident(name);
    let mut columns = Vec::new();
    conn.each_row(&format!("PRAGMA table_info({q})"), &mut |r| {
        columns.push(Column {
            name: text(&r[1]),
            declared_type: text(&r[2]),
            not_null: int(&r[3]) != 0,
            has_default: r[4] != ValueRef::Null,
            pk: int(&r[5]),
        });
        Ok(())
    })
    .await?;

    let mut foreign_keys = Vec::new();
    conn.each_row(&format!("PRAGMA foreign_key_list({q})"), &mut |r| {
        foreign_keys.push(ForeignKey {
            id: int(&r[0]),
            parent_table: text(&r[2]),
            column: text(&r[3]),
            parent_column: match r[4] {
                ValueRef::Null => "rowid".into(),
                ref v => text(v),
            },
        });
        Ok(())
    })
    .await?;

    let mut index_names = Vec::new();
    conn.each_row(&format!("PRAGMA index_list({q})"), &mut |r| {
        if int(&r[2]) != 0 && text(&r[3]) != "pk" {
            index_names.push(text(&r[1]));
        }
        Ok(())
    })
    .await?;
    index_names.sort();
    let mut unique = Vec::new();
    for index in index_names {
        let mut cols = Vec::new();
        conn.each_row(
            &format!("PRAGMA index_info({})", quote_ident(&index)),
            &mut |r| {
                if r[2] != ValueRef::Null {
                    cols.push(text(&r[2]));
                }
                Ok(())
            },
        )
        .await?;
        unique.push((index, cols));
    }

    Ok(Table {
        name: name.to_owned(),
        columns,
        foreign_keys,
        unique,
    })
}

/// A schema object's SQL in one canonical spelling.
///
/// The libsql remote client does not send SQL as written: it parses every
/// statement and sends its syntax tree re-rendered (`VARCHAR(5)` arrives as
/// `VARCHAR (5)`, newlines and comments go). A server's `sqlite_schema`
/// therefore spells the same schema differently from a local file. Rendering
/// both through the same parser makes them compare equal when, and only
/// when, they mean the same.
pub fn canonical_sql(sql: &str) -> String {
    use fallible_iterator::FallibleIterator;
    let mut parser = libsql_sqlite3_parser::lexer::sql::Parser::new(sql.as_bytes());
    match parser.next() {
        Ok(Some(cmd)) => cmd.to_string(),
        _ => sql.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// A declared column type in one spelling: `VARCHAR (5)` → `VARCHAR(5)`.
pub fn canonical_type(declared: &str) -> String {
    let joined = declared.split_whitespace().collect::<Vec<_>>().join(" ");
    joined
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(", ", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sql_ignores_formatting_only() {
        let written = "CREATE TABLE verband (\n    id INTEGER NOT NULL, -- key\n    abkuerzung VARCHAR(5) NOT NULL,\n    PRIMARY KEY (id)\n)";
        let rendered = "CREATE TABLE verband (id INTEGER NOT NULL, abkuerzung VARCHAR (5) NOT NULL, PRIMARY KEY (id))";
        assert_eq!(canonical_sql(written), canonical_sql(rendered));
        assert_ne!(
            canonical_sql(written),
            canonical_sql(&rendered.replace("(5)", "(6)"))
        );
        assert_eq!(canonical_type("VARCHAR (5)"), "VARCHAR(5)");
        assert_eq!(canonical_type("DECIMAL ( 10 , 2 )"), "DECIMAL(10,2)");
    }
}
