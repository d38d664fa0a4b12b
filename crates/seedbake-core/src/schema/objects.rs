//! The one reader of `sqlite_schema`: every table, index, view and trigger
//! of a database, with the SQL that created it.

use super::{Rows, text};

/// One row of `sqlite_schema`. As JSON (a report's `dropped`): its type
/// and name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaObject {
    /// `table`, `index`, `view` or `trigger`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The table an index or trigger belongs to (a table's own name).
    #[serde(skip)]
    pub table: String,
    /// The SQL that created it; empty for the engine's automatic indexes.
    #[serde(skip)]
    pub sql: String,
}

/// Every object of the connection's main database, the engine's own
/// included, in creation order.
/// The query [`objects`] reads the schema with (a server may read it ahead).
pub const OBJECTS_SQL: &str =
    "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid";

pub async fn objects<R: Rows + ?Sized>(conn: &R) -> Result<Vec<SchemaObject>, R::Error> {
    let mut out = Vec::new();
    conn.each_row(OBJECTS_SQL, &mut |r| {
        out.push(SchemaObject {
            kind: text(&r[0]),
            name: text(&r[1]),
            table: text(&r[2]),
            sql: text(&r[3]),
        });
        Ok(())
    })
    .await?;
    Ok(out)
}
