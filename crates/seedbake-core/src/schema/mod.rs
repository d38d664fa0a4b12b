//! What a database's schema is, as the engine itself reports it: tables,
//! their columns, foreign keys and unique indexes.
//!
//! The compiler learns the seed's tables by running `schema.sql` in an
//! in-memory libSQL database and asking the engine (`PRAGMA table_info`,
//! `foreign_key_list`, `index_list`), so no hand-written SQL parser can drift
//! from what production will actually create. The runtime asks the same
//! questions of a target, through the same [`Rows`] trait.

mod canonical;
mod diff;
mod draft;
mod objects;
mod rows;

pub use canonical::{canonical_sql, canonical_type};
pub use diff::first_difference;
pub use draft::{Draft, draft_migration};
pub use objects::{OBJECTS_SQL, SchemaObject, objects};
pub use rows::{RowFn, Rows, TableScan, engine_message};

use crate::value::ValueRef;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub declared_type: String,
    pub not_null: bool,
    pub has_default: bool,
    /// The column's DEFAULT expression as the schema wrote it: the build
    /// asks whether the engine would evaluate a clock or randomness in it.
    pub default_sql: Option<String>,
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

/// A name as the engine reads it, without its quotes: the parser keeps a
/// name token as written (`"a b"`, `[a b]`, `` `a``b` ``), so a name is
/// compared, quoted again or shown only after this.
pub fn unquoted(name: &str) -> String {
    let b = name.as_bytes();
    let (open, close) = match (b.first(), b.last()) {
        (Some(&o), Some(&c)) if b.len() >= 2 => (o, c),
        _ => return name.to_owned(),
    };
    let quote = match (open, close) {
        (b'"', b'"') | (b'`', b'`') | (b'\'', b'\'') => open as char,
        (b'[', b']') => return name[1..name.len() - 1].to_owned(),
        _ => return name.to_owned(),
    };
    let doubled: String = [quote, quote].iter().collect();
    name[1..name.len() - 1].replace(&doubled, &quote.to_string())
}

/// Whether a name token, read without its quotes, is one of `wanted` (as
/// the engine compares names: ASCII case folded).
pub fn name_is(name: &str, wanted: &[&str]) -> bool {
    let n = unquoted(name);
    wanted.iter().any(|w| n.eq_ignore_ascii_case(w))
}

/// Whether a schema object belongs to the engine (or to libSQL) rather than
/// to the application, and so must never be dropped.
pub fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with("libsql_") || lower.starts_with("_litestream")
}

/// A catalogue value as text (a name, a declared type); NULL is empty.
pub fn text(v: &ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(t) => (*t).to_owned(),
        ValueRef::Null => String::new(),
        other => other.to_string(),
    }
}

/// A catalogue value as an integer (a flag, a position); anything else is 0.
pub fn int(v: &ValueRef<'_>) -> i64 {
    match v {
        ValueRef::Integer(i) => *i,
        _ => 0,
    }
}

/// Every user table of the connection's main database, in creation order,
/// read with [`TABLE_READS`].
pub async fn tables<R: Rows + ?Sized>(conn: &R) -> Result<Vec<Table>, R::Error> {
    let mut tables = table_columns(conn).await?;
    conn.each_row(TABLE_FOREIGN_KEYS_SQL, &mut |r| {
        if let Some(t) = tables.iter_mut().find(|t| t.name == text(&r[0])) {
            t.foreign_keys.push(ForeignKey {
                id: int(&r[1]),
                parent_table: text(&r[2]),
                column: text(&r[3]),
                parent_column: match r[4] {
                    ValueRef::Null => "rowid".into(),
                    ref v => text(v),
                },
            });
        }
        Ok(())
    })
    .await?;
    conn.each_row(TABLE_UNIQUE_SQL, &mut |r| {
        let Some(t) = tables.iter_mut().find(|t| t.name == text(&r[0])) else {
            return Ok(());
        };
        let index = text(&r[1]);
        if t.unique.last().is_none_or(|(name, _)| *name != index) {
            t.unique.push((index, Vec::new()));
        }
        // A key that is an expression has no column name.
        if r[2] != ValueRef::Null
            && let Some((_, columns)) = t.unique.last_mut()
        {
            columns.push(text(&r[2]));
        }
        Ok(())
    })
    .await?;
    Ok(tables)
}

/// Every table's foreign keys, in one query, each table's in the order
/// `PRAGMA foreign_key_list` gives them.
pub const TABLE_FOREIGN_KEYS_SQL: &str = "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\" \
     FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f \
     WHERE m.type = 'table' ORDER BY m.rowid, f.id, f.seq";

/// Every table's UNIQUE indexes and constraints but the primary key, by
/// name, with their key columns in order (NULL: an expression), in one
/// query.
pub const TABLE_UNIQUE_SQL: &str = "SELECT m.name, l.name, i.name \
     FROM sqlite_schema AS m, pragma_index_list(m.name) AS l, pragma_index_info(l.name) AS i \
     WHERE m.type = 'table' AND l.\"unique\" <> 0 AND l.origin <> 'pk' \
     ORDER BY m.rowid, l.name, i.seqno";

/// The queries [`tables`] reads with, whatever the number of tables: none
/// fails on any database, so a server may send them ahead, with the
/// request that begins the transaction.
pub const TABLE_READS: [&str; 3] = [TABLE_COLUMNS_SQL, TABLE_FOREIGN_KEYS_SQL, TABLE_UNIQUE_SQL];

/// The query [`table_columns`] reads every table's columns with (a server
/// may read it ahead).
pub const TABLE_COLUMNS_SQL: &str = "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
     FROM sqlite_schema AS m, pragma_table_info(m.name) AS p \
     WHERE m.type = 'table' ORDER BY m.rowid, p.cid";

/// Every user table of the connection's main database with its columns
/// alone (no keys or indexes), in one query: what the fingerprint needs,
/// read in one round trip from a server.
pub async fn table_columns<R: Rows + ?Sized>(conn: &R) -> Result<Vec<Table>, R::Error> {
    let mut tables: Vec<Table> = Vec::new();
    conn.each_row(TABLE_COLUMNS_SQL, &mut |r| {
        let table = text(&r[0]);
        if is_internal(&table) {
            return Ok(());
        }
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(Table {
                name: table,
                columns: Vec::new(),
                foreign_keys: Vec::new(),
                unique: Vec::new(),
            });
        }
        let t = tables.last_mut().expect("just pushed");
        t.columns.push(column(r));
        Ok(())
    })
    .await?;
    Ok(tables)
}

/// A column from a row whose values 1 to 5 are `pragma_table_info`'s
/// name, type, notnull, dflt_value and pk (the pragma's own row, or one
/// joined after the table's name).
fn column(r: &[ValueRef<'_>]) -> Column {
    Column {
        name: text(&r[1]),
        declared_type: text(&r[2]),
        not_null: int(&r[3]) != 0,
        has_default: r[4] != ValueRef::Null,
        default_sql: (r[4] != ValueRef::Null).then(|| text(&r[4])),
        pk: int(&r[5]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_without_their_quotes() {
        assert_eq!(unquoted("\"a\"\"b\""), "a\"b");
        assert_eq!(unquoted("[a b]"), "a b");
        assert_eq!(unquoted("`a``b`"), "a`b");
        assert_eq!(unquoted("'a''b'"), "a'b");
        assert_eq!(unquoted("plain"), "plain");
        assert_eq!(unquoted("\""), "\"");
    }

    #[test]
    fn a_name_is_what_it_reads_as_whatever_its_quotes() {
        for n in [
            "foreign_keys",
            "\"foreign_keys\"",
            "[FOREIGN_KEYS]",
            "`Foreign_Keys`",
        ] {
            assert!(name_is(n, &["foreign_keys"]), "{n}");
        }
        assert!(!name_is("\"foreign keys\"", &["foreign_keys"]));
    }
}
