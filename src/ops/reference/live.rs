//! What the live database's tables look like, as the sync needs them:
//! every table's columns, foreign keys and UNIQUE indexes, in one query.

use std::collections::HashMap;

use crate::schema::Rows;
use crate::value::ValueRef;

/// What the live database's tables look like: their columns, foreign keys
/// and UNIQUE indexes, read in one query whatever the number of tables.
pub(crate) struct LiveTables {
    pub(super) columns: HashMap<String, Vec<String>>,
    pub(super) foreign_keys: Vec<LiveForeignKey>,
    pub(super) unique: Vec<UniqueIndex>,
}

/// A UNIQUE index (or constraint, or a primary key that is not the rowid).
pub(super) struct UniqueIndex {
    pub(super) table: String,
    pub(super) name: String,
    /// Each key column (`None`: an expression) with the collation its
    /// values are compared by.
    pub(super) columns: Vec<(Option<String>, String)>,
    /// Whether it has a WHERE clause.
    pub(super) partial: bool,
    /// Its CREATE INDEX statement (`None`: a constraint of the table's).
    pub(super) sql: Option<String>,
}

impl UniqueIndex {
    /// Plain columns compared byte for byte, every row indexed: the sync
    /// predicts such an index by itself. Any other (partial, an
    /// expression, another collation) is evaluated by the engine.
    pub(super) fn plain(&self) -> bool {
        !self.partial
            && self
                .columns
                .iter()
                .all(|(c, coll)| c.is_some() && coll.eq_ignore_ascii_case("BINARY"))
    }
}

pub(super) struct LiveForeignKey {
    pub(super) table: String,
    pub(super) column: String,
    pub(super) parent_table: String,
    /// `None`: the parent's primary key.
    pub(super) parent_column: Option<String>,
}

/// Every table's columns, foreign keys and UNIQUE indexes, in one query
/// (sent ahead with other reads on a server: the text is the key).
pub(crate) const LIVE_TABLES_SQL: &str = "SELECT 0, m.name, p.name, NULL, NULL, p.cid, NULL FROM sqlite_schema AS m, pragma_table_info(m.name) AS p \
    WHERE m.type = 'table' \
    UNION ALL SELECT 1, m.name, f.\"from\", f.\"table\", f.\"to\", f.id, NULL FROM sqlite_schema AS m, \
    pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' \
    UNION ALL SELECT 2 + l.partial, m.name, i.name, l.name, i.coll, i.seqno, \
    (SELECT s.sql FROM sqlite_schema AS s WHERE s.type = 'index' AND s.name = l.name) \
    FROM sqlite_schema AS m, pragma_index_list(m.name) AS l, pragma_index_xinfo(l.name) AS i \
    WHERE m.type = 'table' AND l.\"unique\" = 1 AND i.key = 1 \
    ORDER BY 1, 2, 6";

impl LiveTables {
    /// One query (one round trip on a server): every table's columns, and
    /// every foreign key.
    pub(crate) async fn read<R: Rows + ?Sized>(conn: &R) -> Result<LiveTables, R::Error> {
        let mut columns: HashMap<String, Vec<String>> = HashMap::new();
        let mut foreign_keys = Vec::new();
        let mut unique: Vec<UniqueIndex> = Vec::new();
        conn.each_row(LIVE_TABLES_SQL, &mut |r| {
            match r {
                [
                    ValueRef::Integer(0),
                    ValueRef::Text(t),
                    ValueRef::Text(c),
                    ..,
                ] => {
                    columns
                        .entry((*t).to_owned())
                        .or_default()
                        .push((*c).to_owned());
                }
                [
                    ValueRef::Integer(1),
                    ValueRef::Text(t),
                    ValueRef::Text(c),
                    ValueRef::Text(p),
                    to,
                    ..,
                ] => {
                    foreign_keys.push(LiveForeignKey {
                        table: (*t).to_owned(),
                        column: (*c).to_owned(),
                        parent_table: (*p).to_owned(),
                        parent_column: match to {
                            ValueRef::Text(pc) => Some((*pc).to_owned()),
                            _ => None,
                        },
                    });
                }
                [
                    ValueRef::Integer(kind @ (2 | 3)),
                    ValueRef::Text(t),
                    c,
                    ValueRef::Text(i),
                    coll,
                    _,
                    sql,
                ] => {
                    let column = match c {
                        ValueRef::Text(c) => Some((*c).to_owned()),
                        _ => None,
                    };
                    let coll = match coll {
                        ValueRef::Text(coll) => (*coll).to_owned(),
                        _ => "BINARY".to_owned(),
                    };
                    match unique.iter_mut().find(|u| u.table == *t && u.name == *i) {
                        Some(u) => u.columns.push((column, coll)),
                        None => unique.push(UniqueIndex {
                            table: (*t).to_owned(),
                            name: (*i).to_owned(),
                            columns: vec![(column, coll)],
                            partial: *kind == 3,
                            sql: match sql {
                                ValueRef::Text(s) => Some((*s).to_owned()),
                                _ => None,
                            },
                        }),
                    }
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
        Ok(LiveTables {
            columns,
            foreign_keys,
            unique,
        })
    }

    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.columns.contains_key(table)
    }

    /// The table's columns in their order (`None`: no such table).
    pub(crate) fn columns(&self, table: &str) -> Option<&[String]> {
        self.columns.get(table).map(Vec::as_slice)
    }
}
