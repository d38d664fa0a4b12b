//! A whole table read from a server in pages, each page one small request
//! whose answer the server packs into one JSON text.
//!
//! Why pages: sqld releases a stream the moment a cursor starts and expires
//! a stream idle for 10 s (libsql-server `src/hrana/http/mod.rs`,
//! `handle_cursor`; `src/hrana/http/stream.rs`, `EXPIRATION`), so one
//! cursor over a big table leaves the snapshot's stream dead behind it (a
//! 1M-row dump failed after 12.9 s with STREAM_EXPIRED). Pages keep every
//! request short and the snapshot's stream busy, and memory bounded by a
//! page, however large the table; they run on the stream that holds the
//! snapshot (or the write transaction), so they read one consistent state.
//!
//! Why packed: sqld's cursor sends every row as its own entry (one channel
//! message and one HTTP chunk per row, each value as a JSON object), about
//! 60,000 rows a second; the engine's own `json_group_array` builds a page
//! of 100,000 rows in a fraction of that, and the client parses one string.
//! JSON carries integers, text and NULL exactly; blobs are sent as
//! `["b", hex]`, and reals as integers the engine computes exactly
//! (`real_sql`), never through its decimal printing: the libSQL engine of
//! this build prints the seventeenth digit of large numbers wrongly
//! (measured: 7.8917613404708820e214 as ...8825), sqld's does not, and the
//! client must not depend on which one it talks to.

mod cells;
mod reals;

pub use cells::{Cell, PageError, each_row};
use reals::{POWERS, real_sql};

use crate::schema::{Rows, TableScan, int, quote_ident, text};

/// One column as `pragma_table_xinfo` describes it.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub declared_type: String,
    pub not_null: bool,
    pub pk: i64,
    /// 0 ordinary, 1 hidden (virtual tables), 2 and 3 generated.
    pub hidden: i64,
}

/// What the pager needs to know about a table.
#[derive(Debug, Clone)]
pub struct Shape {
    pub columns: Vec<ColumnInfo>,
    /// False for a `WITHOUT ROWID` table.
    pub has_rowid: bool,
}

/// The query that describes every table at once: its name, each column,
/// and whether it has a rowid.
pub const SHAPES_SQL: &str = "SELECT m.name, x.name, x.type, x.\"notnull\", x.pk, x.hidden, l.wr \
     FROM sqlite_schema AS m, pragma_table_list(m.name) AS l, pragma_table_xinfo(m.name) AS x \
     WHERE m.type = 'table' AND l.schema = 'main' ORDER BY m.rowid, x.cid";

/// Every table's shape, by name, as [`SHAPES_SQL`] tells it.
pub type Shapes = std::collections::HashMap<String, Shape>;

/// Reads every table's shape in one query.
pub async fn shapes<R: Rows + ?Sized>(conn: &R) -> Result<Shapes, R::Error> {
    let mut shapes = Shapes::new();
    conn.each_row(SHAPES_SQL, &mut |r| {
        let shape = shapes.entry(text(&r[0])).or_insert_with(|| Shape {
            columns: Vec::new(),
            has_rowid: true,
        });
        shape.columns.push(ColumnInfo {
            name: text(&r[1]),
            declared_type: text(&r[2]),
            not_null: int(&r[3]) != 0,
            pk: int(&r[4]),
            hidden: int(&r[5]),
        });
        shape.has_rowid = int(&r[6]) == 0;
        Ok(())
    })
    .await?;
    Ok(shapes)
}

/// How a table is paged: what each page selects and which keys carry the
/// reading position from one page to the next.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pager {
    table: String,
    /// Expressions selected per row: the scan's columns, then any key that
    /// is not one of them.
    selected: Vec<String>,
    /// Whether each of `selected` may hold a REAL (its column's affinity is
    /// not TEXT, which converts numbers to text on the way in).
    may_real: Vec<bool>,
    /// How many of `selected` the caller gets.
    width: usize,
    /// Each key's expression and its position in `selected`.
    keys: Vec<(String, usize)>,
    /// Whether a key may be NULL (no primary key, or a nullable one).
    nullable: bool,
}

impl Pager {
    pub fn new(scan: &TableScan<'_>, shape: &Shape) -> Result<Pager, String> {
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let visible: Vec<&ColumnInfo> = shape.columns.iter().filter(|c| c.hidden != 1).collect();
        let columns: Vec<String> = if scan.columns.is_empty() {
            visible.iter().map(|c| c.name.clone()).collect()
        } else {
            scan.columns.iter().map(|c| (*c).to_owned()).collect()
        };
        if columns.is_empty() {
            return Err(format!("{} has no columns to read", scan.table));
        }
        let info = |name: &str| shape.columns.iter().find(|c| same(&c.name, name));
        let pk: Vec<&ColumnInfo> = {
            let mut pk: Vec<&ColumnInfo> = shape.columns.iter().filter(|c| c.pk > 0).collect();
            pk.sort_by_key(|c| c.pk);
            pk
        };
        // The column that is the rowid itself (`id INTEGER PRIMARY KEY`).
        let alias = match pk.as_slice() {
            [c] if shape.has_rowid && c.declared_type.eq_ignore_ascii_case("INTEGER") => {
                Some(c.name.clone())
            }
            _ => None,
        };
        // The rowid under a name no column shadows.
        let rowid: Option<&str> = if shape.has_rowid {
            ["rowid", "_rowid_", "oid"]
                .into_iter()
                .find(|r| info(r).is_none())
        } else {
            None
        };
        let shadowed = || {
            format!(
                "{} has columns named rowid, _rowid_ and oid, so its rows cannot be read in pages",
                scan.table
            )
        };

        let mut keys: Vec<String> = scan.order.iter().map(|c| (*c).to_owned()).collect();
        let unique_already = match (keys.as_slice(), &alias) {
            ([only], Some(alias)) => same(only, alias),
            _ => !shape.has_rowid && !keys.is_empty(),
        };
        if keys.is_empty() {
            match (&alias, rowid) {
                (Some(alias), _) => keys.push(alias.clone()),
                (None, Some(r)) => keys.push(r.to_owned()),
                (None, None) if shape.has_rowid => return Err(shadowed()),
                (None, None) => keys.extend(pk.iter().map(|c| c.name.clone())),
            }
        } else if !unique_already {
            // Ties in the order (a nullable key, or none) are broken by the
            // rowid, as the engine's own index order breaks them.
            keys.push(rowid.ok_or_else(shadowed)?.to_owned());
        }
        let non_null = |k: &str| {
            Some(k) == rowid
                || alias.as_deref().is_some_and(|a| same(a, k))
                || info(k).is_some_and(|c| c.not_null || (!shape.has_rowid && c.pk > 0))
        };
        let nullable = !keys.iter().all(|k| non_null(k));
        if !shape.has_rowid && keys.is_empty() {
            return Err(format!("{} has no key to read it by", scan.table));
        }

        let mut selected: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let mut may_real: Vec<bool> = columns
            .iter()
            .map(|c| info(c).is_none_or(|c| !text_affinity(&c.declared_type)))
            .collect();
        let width = selected.len();
        let mut placed = Vec::new();
        for k in &keys {
            let is_rowid = Some(k.as_str()) == rowid;
            let position = columns.iter().position(|c| {
                same(c, k) || (is_rowid && alias.as_deref().is_some_and(|a| same(a, c)))
            });
            let expr = if is_rowid { k.clone() } else { quote_ident(k) };
            let position = position.unwrap_or_else(|| {
                selected.push(expr.clone());
                may_real
                    .push(!is_rowid && info(k).is_none_or(|c| !text_affinity(&c.declared_type)));
                selected.len() - 1
            });
            placed.push((expr, position));
        }
        Ok(Pager {
            table: quote_ident(scan.table),
            selected,
            may_real,
            width,
            keys: placed,
            nullable,
        })
    }

    /// The query for a page of at most `limit` rows, after the position
    /// bound to `?1…?n` (one per key) when `after` is true. It answers one
    /// row: the page's row count and the rows as one JSON array.
    pub fn page_sql(&self, after: bool, limit: usize) -> String {
        let powers = if self.needs_powers() {
            POWERS.as_str()
        } else {
            ""
        };
        format!(
            "{powers}SELECT count(*), {}",
            self.packed_page(after, limit)
        )
    }

    /// `json_group_array(…) FROM (…)`: a page packed, less what it is
    /// selected with.
    fn packed_page(&self, after: bool, limit: usize) -> String {
        let inner: Vec<String> = self
            .selected
            .iter()
            .enumerate()
            .map(|(i, e)| format!("{e} AS c{i}"))
            .collect();
        let order: Vec<&str> = self.keys.iter().map(|(e, _)| e.as_str()).collect();
        let packed: Vec<String> = (0..self.selected.len())
            .map(|i| {
                let c = format!("c{i}");
                let real = if self.may_real[i] {
                    format!("WHEN 'real' THEN {} ", real_sql(&c))
                } else {
                    String::new()
                };
                format!(
                    "CASE typeof({c}) {real}WHEN 'blob' THEN json_array('b', hex({c})) ELSE {c} END"
                )
            })
            .collect();
        let mut sql = format!(
            "json_group_array(json_array({})) FROM (SELECT {} FROM {}",
            packed.join(", "),
            inner.join(", "),
            self.table
        );
        if after {
            sql.push_str(" WHERE ");
            sql.push_str(&self.after_condition());
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {limit})", order.join(", ")));
        sql
    }

    /// Whether a column may hold a REAL, so a page needs the tables
    /// `real_sql` reads.
    fn needs_powers(&self) -> bool {
        self.may_real.iter().any(|r| *r)
    }

    /// The query for the one next row, its values as they are (no packing):
    /// for a row whose page the server cannot make (its JSON text would be
    /// longer than the server's longest string).
    pub fn row_sql(&self, after: bool) -> String {
        let order: Vec<&str> = self.keys.iter().map(|(e, _)| e.as_str()).collect();
        let mut sql = format!("SELECT {} FROM {}", self.selected.join(", "), self.table);
        if after {
            sql.push_str(" WHERE ");
            sql.push_str(&self.after_condition());
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT 1", order.join(", ")));
        sql
    }

    /// Rows strictly after the bound position, in key order.
    fn after_condition(&self) -> String {
        let exprs: Vec<&str> = self.keys.iter().map(|(e, _)| e.as_str()).collect();
        if !self.nullable {
            if exprs.len() == 1 {
                return format!("{} > ?1", exprs[0]);
            }
            let params: Vec<String> = (1..=exprs.len()).map(|i| format!("?{i}")).collect();
            return format!("({}) > ({})", exprs.join(", "), params.join(", "));
        }
        // NULL sorts first; `IS` compares NULLs as equal.
        let mut any = Vec::new();
        for (i, e) in exprs.iter().enumerate() {
            let mut all: Vec<String> = exprs[..i]
                .iter()
                .enumerate()
                .map(|(j, p)| format!("{p} IS ?{}", j + 1))
                .collect();
            let n = i + 1;
            all.push(format!(
                "({e} > ?{n} OR (?{n} IS NULL AND {e} IS NOT NULL))"
            ));
            any.push(format!("({})", all.join(" AND ")));
        }
        format!("({})", any.join(" OR "))
    }

    /// How many values a row hands the caller.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Positions of the keys in a page's rows.
    pub fn key_positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.keys.iter().map(|(_, p)| *p)
    }
}

/// The first pages of several tables in one statement: one row, a column
/// per pager, each the page's row count, a space, and its rows as
/// [`Pager::page_sql`] packs them ([`split_first_page`] takes it apart). A
/// server charges a request (two, with the client's describe) per query,
/// so a database of many small tables is read in a few.
pub fn first_pages_sql(pagers: &[&Pager], limit: usize) -> String {
    let powers = if pagers.iter().any(|p| p.needs_powers()) {
        POWERS.as_str()
    } else {
        ""
    };
    let pages: Vec<String> = pagers
        .iter()
        .map(|p| {
            format!(
                "(SELECT count(*) || ' ' || {})",
                p.packed_page(false, limit)
            )
        })
        .collect();
    format!("{powers}SELECT {}", pages.join(", "))
}

/// A first page of [`first_pages_sql`]: its row count and its rows.
pub fn split_first_page(text: &str) -> Option<(i64, &str)> {
    let (count, rows) = text.split_once(' ')?;
    Some((count.parse().ok()?, rows))
}

/// Whether a declared type gives a column TEXT affinity (SQLite's rules, in
/// their order: INT first, then CHAR, CLOB or TEXT).
fn text_affinity(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    !t.contains("INT") && (t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str, not_null: bool, pk: i64) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            declared_type: ty.into(),
            not_null,
            pk,
            hidden: 0,
        }
    }

    #[test]
    fn a_rowid_table_pages_by_its_integer_key() {
        let shape = Shape {
            columns: vec![
                col("id", "INTEGER", false, 1),
                col("name", "TEXT", false, 0),
            ],
            has_rowid: true,
        };
        let scan = TableScan {
            table: "t",
            columns: vec![],
            order: vec![],
        };
        let p = Pager::new(&scan, &shape).unwrap();
        assert_eq!(p.width(), 2);
        assert_eq!(p.key_positions().collect::<Vec<_>>(), [0]);
        let sql = p.page_sql(true, 10);
        assert!(
            sql.contains("WHERE \"id\" > ?1 ORDER BY \"id\" LIMIT 10"),
            "{sql}"
        );
        // The fingerprint's order on the same table needs no tie-breaker.
        let scan = TableScan {
            table: "t",
            columns: vec!["name"],
            order: vec!["id"],
        };
        let p = Pager::new(&scan, &shape).unwrap();
        assert_eq!(p.width(), 1);
        assert_eq!(p.key_positions().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn nullable_or_missing_keys_are_broken_by_the_rowid() {
        let shape = Shape {
            columns: vec![
                col("code", "TEXT", false, 1),
                col("rowid", "TEXT", false, 0),
            ],
            has_rowid: true,
        };
        let scan = TableScan {
            table: "t",
            columns: vec!["code", "rowid"],
            order: vec!["code"],
        };
        let p = Pager::new(&scan, &shape).unwrap();
        let sql = p.page_sql(true, 5);
        // "rowid" is a column here, so the rowid is read as _rowid_.
        assert!(sql.contains("ORDER BY \"code\", _rowid_"), "{sql}");
        assert!(sql.contains("?1 IS NULL"), "{sql}");
        assert_eq!(p.key_positions().collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn first_pages_are_split_into_their_count_and_rows() {
        assert_eq!(split_first_page("0 []"), Some((0, "[]")));
        assert_eq!(
            split_first_page("2 [[1,\"a b\"],[2,null]]"),
            Some((2, "[[1,\"a b\"],[2,null]]"))
        );
        assert_eq!(split_first_page("[]"), None);
        assert_eq!(split_first_page("x []"), None);
    }

    #[test]
    fn tables_a_page_cannot_be_keyed_on_are_refused_by_name() {
        let scan = TableScan {
            table: "t",
            columns: vec![],
            order: vec![],
        };
        let refused = |shape: Shape| Pager::new(&scan, &shape).unwrap_err();
        // Every name of the rowid taken by a column, and no key of its own.
        let shadowed = Shape {
            columns: vec![
                col("rowid", "TEXT", false, 0),
                col("_rowid_", "TEXT", false, 0),
                col("oid", "TEXT", false, 0),
            ],
            has_rowid: true,
        };
        assert!(refused(shadowed).contains("t has columns named rowid, _rowid_ and oid"),);
        assert!(
            refused(Shape {
                columns: vec![],
                has_rowid: true
            })
            .contains("t has no columns to read")
        );
        assert!(
            refused(Shape {
                columns: vec![col("a", "TEXT", false, 0)],
                has_rowid: false
            })
            .contains("t has no key to read it by")
        );
    }

    #[test]
    fn a_without_rowid_table_pages_by_its_primary_key() {
        let shape = Shape {
            columns: vec![col("a", "TEXT", false, 2), col("b", "INT", false, 1)],
            has_rowid: false,
        };
        let scan = TableScan {
            table: "w",
            columns: vec![],
            order: vec![],
        };
        let p = Pager::new(&scan, &shape).unwrap();
        let sql = p.page_sql(true, 5);
        assert!(sql.contains("(\"b\", \"a\") > (?1, ?2)"), "{sql}");
    }
}
