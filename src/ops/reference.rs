//! Reference data synced by natural key: what it takes to make each
//! reference table of a live database hold the seed's rows, and the
//! statements that do it.
//!
//! Rows are matched by the table's key (columns). A row that exists keeps
//! its id, since the app's rows point at it; a missing row is inserted with
//! the next free id; a changed row is updated in place. A row the seed does
//! not have is deleted only when nothing refers to it (or as the table's
//! `removed` policy says). A reference row's own foreign keys are
//! translated from the seed's ids to the live database's through the
//! parent's key. Nothing but the reference tables is ever written.
//!
//! Planning only reads (so `status` and a dry run use it as is); `migrate`
//! then writes the plan inside its transaction.

use std::collections::HashMap;

use serde::Serialize;

use crate::database::{DbError, Target};
use crate::schema::quote_ident;
use crate::seed::TableData;
use crate::seed::migrations::{Build, ReferenceTable, Removed};
use crate::value::{Value, ValueRef, encode_value, write_sql_literal};

/// What reports show instead of a credential's value.
pub const HIDDEN: &str = "(hidden)";

/// What the live database's tables look like: their columns and foreign
/// keys, read in two queries whatever the number of tables.
pub(crate) struct LiveTables {
    columns: HashMap<String, Vec<String>>,
    foreign_keys: Vec<LiveForeignKey>,
    unique: Vec<UniqueIndex>,
}

/// A UNIQUE index (or constraint, or a primary key that is not the rowid)
/// over plain columns, without a WHERE clause: one the sync can predict.
struct UniqueIndex {
    table: String,
    name: String,
    /// `None`: an expression, which the sync cannot evaluate (the index
    /// is then left to the engine).
    columns: Vec<Option<String>>,
}

struct LiveForeignKey {
    table: String,
    column: String,
    parent_table: String,
    /// `None`: the parent's primary key.
    parent_column: Option<String>,
}

/// Every table's columns, foreign keys and unique indexes, in one query.
pub(crate) const LIVE_TABLES_SQL: &str = "SELECT 0, m.name, p.name, NULL, NULL, p.cid FROM sqlite_schema AS m, pragma_table_info(m.name) AS p \
     WHERE m.type = 'table' \
     UNION ALL SELECT 1, m.name, f.\"from\", f.\"table\", f.\"to\", f.id FROM sqlite_schema AS m, \
     pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' \
     UNION ALL SELECT 2, m.name, i.name, l.name, NULL, i.seqno FROM sqlite_schema AS m, \
     pragma_index_list(m.name) AS l, pragma_index_info(l.name) AS i \
     WHERE m.type = 'table' AND l.\"unique\" = 1 AND l.partial = 0 \
     ORDER BY 1, 2, 6";

impl LiveTables {
    /// One query (one round trip on a server): every table's columns, and
    /// every foreign key.
    pub(crate) async fn read(target: &dyn Target) -> Result<LiveTables, DbError> {
        let mut columns: HashMap<String, Vec<String>> = HashMap::new();
        let mut foreign_keys = Vec::new();
        let mut unique: Vec<UniqueIndex> = Vec::new();
        target
            .query(LIVE_TABLES_SQL, &mut |r| {
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
                        _,
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
                        ValueRef::Integer(2),
                        ValueRef::Text(t),
                        c,
                        ValueRef::Text(i),
                        ..,
                    ] => {
                        let column = match c {
                            ValueRef::Text(c) => Some((*c).to_owned()),
                            _ => None,
                        };
                        match unique.iter_mut().find(|u| u.table == *t && u.name == *i) {
                            Some(u) => u.columns.push(column),
                            None => unique.push(UniqueIndex {
                                table: (*t).to_owned(),
                                name: (*i).to_owned(),
                                columns: vec![column],
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

/// What syncing one reference table does (or, for `status`, would do).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableSync {
    pub table: String,
    /// The key columns rows are matched by.
    pub key: Vec<String>,
    /// Keys of rows the seed has and the database does not.
    pub inserted: Vec<String>,
    /// Rows whose values differ from the seed's, with the columns that do.
    pub updated: Vec<UpdatedRow>,
    /// Keys of rows the seed does not have, deleted.
    pub deleted: Vec<String>,
    /// The rows inserted, with their values (as `inserted`, in order).
    pub inserted_rows: Vec<RowValues>,
    /// The rows deleted, with the values they had (as `deleted`, in order).
    pub deleted_rows: Vec<RowValues>,
    /// Rows the seed does not have, kept, and why.
    pub kept: Vec<KeptRow>,
    /// Keys of updated rows whose unique values another row takes (a swap,
    /// or a chain): each is first given a temporary value, in the same
    /// transaction, so that no moment holds two rows with one value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub staged: Vec<String>,
    pub unchanged: usize,
    /// Why the table could not be compared (status only: a table the
    /// pending migrations create or change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UpdatedRow {
    pub key: String,
    pub columns: Vec<String>,
    /// Each of `columns` with the value the database has and the seed's.
    pub changes: Vec<ChangedValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangedValue {
    pub column: String,
    pub database: Shown,
    pub seed: Shown,
}

/// A row's key and its values, every column but the surrogate id (which
/// the database assigns and the app's rows point at).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowValues {
    pub key: String,
    pub values: Vec<ColumnValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ColumnValue {
    pub column: String,
    pub value: Shown,
}

/// A value as reports show it. A credential column's (a password hash,
/// one the fingerprint leaves out) is never carried, so that no report,
/// text or JSON, can print it.
///
/// In JSON: a string, a number or `null` as itself; anything JSON cannot
/// say plainly is an object naming what it is: `{"blob": "<hex>"}`,
/// `{"text_hex": "<hex>"}` (text that is not UTF-8), `{"real": "inf"}` or
/// `"-inf"`, and `{"hidden": true}` for a credential.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Value(Value),
    Hidden,
}

impl Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (tag, tagged): (&str, serde_json::Value) = match self {
            Shown::Hidden => ("hidden", true.into()),
            Shown::Value(Value::Null) => return s.serialize_unit(),
            Shown::Value(Value::Integer(i)) => return s.serialize_i64(*i),
            Shown::Value(Value::Real(r)) if r.is_finite() => return s.serialize_f64(*r),
            // The engine stores no NaN (it reads back as NULL).
            Shown::Value(Value::Real(r)) if r.is_nan() => return s.serialize_unit(),
            Shown::Value(Value::Real(r)) => ("real", if *r > 0.0 { "inf" } else { "-inf" }.into()),
            Shown::Value(Value::Text(t)) => return s.serialize_str(t),
            Shown::Value(Value::RawText(b)) => ("text_hex", crate::hex::encode(b).into()),
            Shown::Value(Value::Blob(b)) => ("blob", crate::hex::encode(b).into()),
        };
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(tag, &tagged)?;
        m.end()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeptRow {
    pub key: String,
    pub reason: String,
}

impl TableSync {
    /// Nothing planned yet.
    pub(crate) fn empty(spec: &ReferenceTable) -> TableSync {
        TableSync {
            table: spec.table.to_owned(),
            key: spec.key.iter().map(|k| (*k).to_owned()).collect(),
            inserted: Vec::new(),
            updated: Vec::new(),
            deleted: Vec::new(),
            inserted_rows: Vec::new(),
            deleted_rows: Vec::new(),
            kept: Vec::new(),
            staged: Vec::new(),
            unchanged: 0,
            not_compared: None,
        }
    }

    /// Whether syncing writes anything to this table.
    pub fn changes(&self) -> bool {
        !self.inserted.is_empty() || !self.updated.is_empty() || !self.deleted.is_empty()
    }
}

/// A reference table's rows cannot be brought to the seed's safely.
#[derive(Debug)]
pub(crate) struct Refusal(pub String);

/// The plan for every reference table, and the statements it takes.
pub(crate) struct SyncPlan {
    pub tables: Vec<TableSync>,
    /// Deletions (children first), then updates and inserts (parents
    /// first), each with what it does ("inserting verband \"NEUV\"").
    pub statements: Vec<(String, String)>,
}

/// One reference table as planned: its live rows, its seed rows in live
/// terms (foreign keys translated, ids assigned) and what becomes of each.
struct Planned {
    spec: &'static ReferenceTable,
    data: &'static TableData,
    /// The columns compared and written, by name, with their position in
    /// the seed's rows.
    columns: Vec<(String, usize)>,
    /// The seed's rows in live terms, each with the live row it matched.
    seed_rows: Vec<(Vec<Value>, Option<usize>)>,
    live_rows: Vec<Vec<Value>>,
    /// Live rows the seed does not have.
    extras: Vec<usize>,
    sync: TableSync,
}

impl Planned {
    fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| c == column)
    }

    fn key_positions(&self) -> Vec<usize> {
        self.spec
            .key
            .iter()
            .map(|k| self.position(k).expect("checked when planned"))
            .collect()
    }

    fn key_of(&self, row: &[Value]) -> String {
        self.key_positions()
            .iter()
            .map(|&p| match self.shown(p, &row[p]) {
                Shown::Value(v) => v.to_string(),
                Shown::Hidden => HIDDEN.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// Column `c`'s value as a report may show it.
    fn shown(&self, c: usize, value: &Value) -> Shown {
        if self
            .data
            .unfingerprinted
            .contains(&self.columns[c].0.as_str())
        {
            Shown::Hidden
        } else {
            Shown::Value(value.clone())
        }
    }

    /// The columns whose values differ between a seed row and a live row
    /// (the surrogate id aside: a row keeps its own).
    fn differing(&self, row: &[Value], live: &[Value]) -> Vec<usize> {
        let surrogate = self.spec.surrogate.and_then(|s| self.position(s));
        (0..row.len())
            .filter(|&c| Some(c) != surrogate)
            .filter(|&c| encoded(&[&row[c]]) != encoded(&[&live[c]]))
            .collect()
    }

    /// A row's key and values, for a report.
    fn row_values(&self, row: &[Value]) -> RowValues {
        let surrogate = self.spec.surrogate.and_then(|s| self.position(s));
        RowValues {
            key: self.key_of(row),
            values: (0..row.len())
                .filter(|&c| Some(c) != surrogate)
                .map(|c| ColumnValue {
                    column: self.columns[c].0.clone(),
                    value: self.shown(c, &row[c]),
                })
                .collect(),
        }
    }

    /// The rows this table holds after the sync, as far as other tables'
    /// references to it go: the seed's rows and the extras it keeps.
    fn rows_after(&self, deleted: &[usize]) -> impl Iterator<Item = &Vec<Value>> {
        self.seed_rows.iter().map(|(r, _)| r).chain(
            self.extras
                .iter()
                .filter(|i| !deleted.contains(i))
                .map(|&i| &self.live_rows[i]),
        )
    }
}

/// Per referenced column of a table, per (encoded) value: which tables'
/// rows point at it, and how many.
type References = Vec<(String, HashMap<Vec<u8>, Vec<(String, u64)>>)>;

fn encoded(values: &[&Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode_value(&mut out, v.as_ref());
    }
    out
}

/// Plans the sync of every reference table of `build` against what the
/// database holds now. Reads only.
/// The seed's columns of `data` that the live table has too, with their
/// positions in the seed's rows.
fn live_columns_of(data: &TableData, live: &LiveTables) -> Vec<(String, usize)> {
    let live_columns = live.columns.get(data.name);
    data.columns
        .iter()
        .enumerate()
        .filter(|(_, c)| live_columns.is_some_and(|l| l.iter().any(|n| n == c.name)))
        .map(|(i, c)| (c.name.to_owned(), i))
        .collect()
}

fn live_rows_sql(table: &str, columns: &[(String, usize)]) -> String {
    let select: Vec<String> = columns.iter().map(|(c, _)| quote_ident(c)).collect();
    format!("SELECT {} FROM {}", select.join(", "), quote_ident(table))
}

/// The reads [`plan`] makes of the reference tables' rows, to be sent
/// together: those of tables that have every column of their key.
pub(crate) fn reads(build: &Build, live: &LiveTables) -> Vec<String> {
    build
        .reference
        .iter()
        .filter_map(|spec| {
            let data = build.table(spec.table)?;
            let columns = live_columns_of(data, live);
            let keyed = live.columns.contains_key(spec.table)
                && spec.key.iter().all(|k| columns.iter().any(|(c, _)| c == k));
            keyed.then(|| live_rows_sql(spec.table, &columns))
        })
        .collect()
}

pub(crate) async fn plan(
    target: &dyn Target,
    build: &Build,
    live: &LiveTables,
) -> Result<Result<SyncPlan, Refusal>, DbError> {
    let mut planned: Vec<Planned> = Vec::new();
    for spec in build.reference {
        let data = build
            .table(spec.table)
            .expect("the compiler checks that every reference table is seeded");
        let columns = live_columns_of(data, live);
        let live_columns = live.columns.get(spec.table);
        let mut sync = TableSync::empty(spec);
        let missing_key: Vec<&str> = spec
            .key
            .iter()
            .copied()
            .filter(|k| !columns.iter().any(|(c, _)| c == k))
            .collect();
        if live_columns.is_none() || !missing_key.is_empty() {
            sync.not_compared = Some(match live_columns {
                None => format!("the database has no table {}", spec.table),
                Some(_) => format!(
                    "{} has no column {} (its key)",
                    spec.table,
                    missing_key.join(", ")
                ),
            });
            planned.push(Planned {
                spec,
                data,
                columns,
                seed_rows: Vec::new(),
                live_rows: Vec::new(),
                extras: Vec::new(),
                sync,
            });
            continue;
        }

        let mut live_rows: Vec<Vec<Value>> = Vec::new();
        target
            .query(&live_rows_sql(spec.table, &columns), &mut |r| {
                live_rows.push(r.iter().map(|v| Value::from(*v)).collect());
                Ok(())
            })
            .await?;
        let mut next_id = next_free_id(target, live, spec, &columns, &live_rows).await?;

        let mut table = Planned {
            spec,
            data,
            columns,
            seed_rows: Vec::new(),
            live_rows,
            extras: Vec::new(),
            sync,
        };
        let key_positions = table.key_positions();
        let mut by_key: HashMap<Vec<u8>, usize> = HashMap::new();
        for (i, row) in table.live_rows.iter().enumerate() {
            let key: Vec<&Value> = key_positions.iter().map(|&p| &row[p]).collect();
            if key.iter().any(|v| **v == Value::Null) {
                continue;
            }
            if let Some(first) = by_key.insert(encoded(&key), i) {
                let ids = match spec.surrogate.and_then(|s| table.position(s)) {
                    Some(p) => format!(
                        " (rows {} and {})",
                        table.live_rows[first][p].as_ref(),
                        row[p].as_ref()
                    ),
                    None => String::new(),
                };
                return Ok(Err(Refusal(format!(
                    "{} has two rows with the key {} = {}{ids}; the natural key must name one row: \
                     merge or rename them first",
                    spec.table,
                    spec.key.join(", "),
                    table.key_of(row)
                ))));
            }
        }

        let surrogate = spec.surrogate.and_then(|s| table.position(s));
        let mut matched = vec![false; table.live_rows.len()];
        for seed_row in data.rows() {
            let mut row: Vec<Value> = table
                .columns
                .iter()
                .map(|(_, i)| Value::from(seed_row[*i]))
                .collect();
            translate_foreign_keys(&mut row, &table.columns, spec.table, live, &planned);
            let key: Vec<&Value> = key_positions.iter().map(|&p| &row[p]).collect();
            match by_key.get(&encoded(&key)).copied() {
                Some(i) => {
                    matched[i] = true;
                    if let Some(p) = surrogate {
                        row[p] = table.live_rows[i][p].clone();
                    }
                    let live_row = &table.live_rows[i];
                    let changes: Vec<ChangedValue> = table
                        .differing(&row, live_row)
                        .into_iter()
                        .map(|c| ChangedValue {
                            column: table.columns[c].0.clone(),
                            database: table.shown(c, &live_row[c]),
                            seed: table.shown(c, &row[c]),
                        })
                        .collect();
                    if changes.is_empty() {
                        table.sync.unchanged += 1;
                    } else {
                        table.sync.updated.push(UpdatedRow {
                            key: table.key_of(&row),
                            columns: changes.iter().map(|c| c.column.clone()).collect(),
                            changes,
                        });
                    }
                    table.seed_rows.push((row, Some(i)));
                }
                None => {
                    if let Some(p) = surrogate {
                        row[p] = Value::Integer(next_id);
                        next_id += 1;
                    }
                    table.sync.inserted.push(table.key_of(&row));
                    table.sync.inserted_rows.push(table.row_values(&row));
                    table.seed_rows.push((row, None));
                }
            }
        }
        table.extras = (0..table.live_rows.len())
            .filter(|&i| !matched[i])
            .collect();
        planned.push(table);
    }

    // Children first: whether a row the seed dropped may go depends on the
    // rows that point at it, those of other reference tables included.
    let mut deleted: Vec<Vec<usize>> = vec![Vec::new(); planned.len()];
    for t in (0..planned.len()).rev() {
        if planned[t].extras.is_empty() {
            continue;
        }
        let references = references_to(target, build, live, &planned, &deleted, t).await?;
        let table = &planned[t];
        let mut gone = Vec::new();
        let mut kept = Vec::new();
        let mut refused = Vec::new();
        for &i in &table.extras {
            let row = &table.live_rows[i];
            let key = table.key_of(row);
            let said = describe_references(&references, table, row);
            match (table.spec.removed, said) {
                (Removed::Keep, said) => kept.push(KeptRow {
                    key,
                    reason: match said {
                        Some(s) => format!("removed = \"keep\" (and {s} to it)"),
                        None => "removed = \"keep\"".into(),
                    },
                }),
                (_, None) => gone.push(i),
                (Removed::Delete, Some(s)) => kept.push(KeptRow {
                    key,
                    reason: format!("the seed does not have it, but {s} to it"),
                }),
                (Removed::Fail, Some(s)) => refused.push(format!("{key} ({s} to it)")),
            }
        }
        if !refused.is_empty() {
            return Ok(Err(Refusal(format!(
                "the seed no longer has {} row{} {} that the database still refers to, and its policy is \
                 removed = \"fail\": point those rows elsewhere first",
                table.spec.table,
                if refused.len() == 1 { "" } else { "s" },
                refused.join(", ")
            ))));
        }
        let table = &mut planned[t];
        table.sync.deleted_rows = gone
            .iter()
            .map(|&i| table.row_values(&table.live_rows[i]))
            .collect();
        table.sync.deleted = table
            .sync
            .deleted_rows
            .iter()
            .map(|r| r.key.clone())
            .collect();
        table.sync.kept = kept;
        deleted[t] = gone;
    }

    let mut staged: Vec<Vec<(usize, Vec<usize>)>> = Vec::new();
    let mut clashes = Vec::new();
    for (t, table) in planned.iter_mut().enumerate() {
        match unique_clashes(table, &deleted[t], live) {
            Ok(moved) => {
                table.sync.staged = moved
                    .iter()
                    .map(|(i, _)| table.key_of(&table.live_rows[*i]))
                    .collect();
                staged.push(moved);
            }
            Err(why) => {
                clashes.extend(why);
                staged.push(Vec::new());
            }
        }
    }
    if !clashes.is_empty() {
        return Ok(Err(Refusal(clashes.join("; "))));
    }

    let mut statements = Vec::new();
    for (t, table) in planned.iter().enumerate().rev() {
        for &i in &deleted[t] {
            let row = &table.live_rows[i];
            statements.push((
                format!(
                    "DELETE FROM {} WHERE {}",
                    quote_ident(table.spec.table),
                    row_filter(table, row)
                ),
                format!("deleting {} {}", table.spec.table, table.key_of(row)),
            ));
        }
    }
    let mut aside = 0;
    for (t, table) in planned.iter().enumerate() {
        for (i, columns) in &staged[t] {
            let row = &table.live_rows[*i];
            let sets: Vec<String> = columns
                .iter()
                .map(|&c| {
                    aside += 1;
                    format!(
                        "{} = {}",
                        quote_ident(&table.columns[c].0),
                        temporary(table, c, &row[c], aside)
                    )
                })
                .collect();
            let names: Vec<&str> = columns
                .iter()
                .map(|&c| table.columns[c].0.as_str())
                .collect();
            statements.push((
                format!(
                    "UPDATE {} SET {} WHERE {}",
                    quote_ident(table.spec.table),
                    sets.join(", "),
                    row_filter(table, row)
                ),
                format!(
                    "moving the {} of {} {} aside, for another row takes it",
                    names.join(", "),
                    table.spec.table,
                    table.key_of(row)
                ),
            ));
        }
    }
    for table in &planned {
        for (row, live) in &table.seed_rows {
            match live {
                Some(i) => {
                    let old = &table.live_rows[*i];
                    let sets: Vec<String> = table
                        .differing(row, old)
                        .into_iter()
                        .map(|c| {
                            format!(
                                "{} = {}",
                                quote_ident(&table.columns[c].0),
                                literal(&row[c])
                            )
                        })
                        .collect();
                    if !sets.is_empty() {
                        statements.push((
                            format!(
                                "UPDATE {} SET {} WHERE {}",
                                quote_ident(table.spec.table),
                                sets.join(", "),
                                row_filter(table, old)
                            ),
                            format!("updating {} {}", table.spec.table, table.key_of(row)),
                        ));
                    }
                }
                None => {
                    let names: Vec<String> =
                        table.columns.iter().map(|(c, _)| quote_ident(c)).collect();
                    let values: Vec<String> = row.iter().map(literal).collect();
                    statements.push((
                        format!(
                            "INSERT INTO {} ({}) VALUES ({})",
                            quote_ident(table.spec.table),
                            names.join(", "),
                            values.join(", ")
                        ),
                        format!("inserting {} {}", table.spec.table, table.key_of(row)),
                    ));
                }
            }
        }
    }
    Ok(Ok(SyncPlan {
        tables: planned.into_iter().map(|p| p.sync).collect(),
        statements,
    }))
}

/// Where the plan would leave two rows of `table` with one value of a
/// UNIQUE index. In the end state that cannot be done: refused, naming
/// both rows. Only on the way (an update takes a value another updated row
/// gives up: a swap, a chain) it can: the live rows to move aside first,
/// each with the columns to move.
fn unique_clashes(
    table: &Planned,
    deleted: &[usize],
    live: &LiveTables,
) -> Result<Vec<(usize, Vec<usize>)>, Vec<String>> {
    let name = table.spec.table;
    let indexes: Vec<(&str, Vec<usize>)> = live
        .unique
        .iter()
        .filter(|u| u.table == name)
        .filter_map(|u| {
            let columns: Option<Vec<usize>> = u
                .columns
                .iter()
                .map(|c| table.position(c.as_deref()?))
                .collect();
            Some((u.name.as_str(), columns?))
        })
        .collect();
    // NULLs never clash in a UNIQUE index.
    let tuple = |columns: &[usize], row: &[Value]| -> Option<Vec<u8>> {
        let values: Vec<&Value> = columns.iter().map(|&c| &row[c]).collect();
        (!values.iter().any(|v| **v == Value::Null)).then(|| encoded(&values))
    };
    let said = |columns: &[usize], row: &[Value]| -> String {
        columns
            .iter()
            .map(|&c| {
                let value = match table.shown(c, &row[c]) {
                    Shown::Value(v) => v.to_string(),
                    Shown::Hidden => HIDDEN.to_owned(),
                };
                format!("{} = {value}", table.columns[c].0)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let remaining: Vec<usize> = table
        .extras
        .iter()
        .copied()
        .filter(|i| !deleted.contains(i))
        .collect();
    let mut refused = Vec::new();
    let mut moved: Vec<(usize, Vec<usize>)> = Vec::new();
    for (index, columns) in &indexes {
        let mut end: HashMap<Vec<u8>, &[Value]> = HashMap::new();
        for (row, _) in &table.seed_rows {
            if let Some(t) = tuple(columns, row)
                && let Some(other) = end.insert(t, row)
            {
                refused.push(format!(
                    "the seed's {name} rows {} and {} both have {} (UNIQUE index {index})",
                    table.key_of(other),
                    table.key_of(row),
                    said(columns, row)
                ));
            }
        }
        for &i in &remaining {
            let row = &table.live_rows[i];
            let Some(other) = tuple(columns, row).and_then(|t| end.get(&t)) else {
                continue;
            };
            let key = table.key_of(row);
            let why = table
                .sync
                .kept
                .iter()
                .find(|k| k.key == key)
                .map_or(String::new(), |k| format!(" ({})", k.reason));
            refused.push(format!(
                "the seed's {name} row {} would have {}, which the row {key} has, and it stays{why}: the UNIQUE \
                 index {index} allows one such row. If {} is {key} renamed, change the key of {key} in the \
                 database first (the rows that refer to it then follow); otherwise change or remove {key}",
                table.key_of(other),
                said(columns, other),
                table.key_of(other),
            ));
        }
        let now: HashMap<Vec<u8>, usize> = table
            .seed_rows
            .iter()
            .filter_map(|(_, live)| *live)
            .filter_map(|i| Some((tuple(columns, &table.live_rows[i])?, i)))
            .collect();
        for (row, live_row) in &table.seed_rows {
            let Some(&holder) = tuple(columns, row).and_then(|t| now.get(&t)) else {
                continue;
            };
            if Some(holder) == *live_row {
                continue;
            }
            // The holder is updated too (the end state has no clash), so it
            // gives the value up: it moves aside first.
            let Some((end_row, _)) = table.seed_rows.iter().find(|(_, l)| *l == Some(holder))
            else {
                continue;
            };
            let before = &table.live_rows[holder];
            let changing: Vec<usize> = columns
                .iter()
                .copied()
                .filter(|&c| encoded(&[&before[c]]) != encoded(&[&end_row[c]]))
                .collect();
            match moved.iter_mut().find(|(i, _)| *i == holder) {
                Some((_, cs)) => {
                    for c in changing {
                        if !cs.contains(&c) {
                            cs.push(c);
                        }
                    }
                }
                None => moved.push((holder, changing)),
            }
        }
    }
    if refused.is_empty() {
        Ok(moved)
    } else {
        Err(refused)
    }
}

/// A value for column `c` that no row has, of the type it holds now, for
/// a row moved aside: the update after it sets the row's own value.
fn temporary(table: &Planned, c: usize, now: &Value, n: usize) -> String {
    let column = quote_ident(&table.columns[c].0);
    match now {
        Value::Integer(_) | Value::Real(_) => format!(
            "(SELECT coalesce(min({column}), 0) - 1 FROM {})",
            quote_ident(table.spec.table)
        ),
        Value::Blob(_) => "randomblob(16)".into(),
        _ => literal(&Value::Text(format!(
            "(seedbake: moved aside {n}, set again in this transaction)"
        ))),
    }
}

/// "12 kind rows and 3 anmeldung_figuren rows refer", or `None` when
/// nothing refers to the row.
fn describe_references(references: &References, table: &Planned, row: &[Value]) -> Option<String> {
    let mut parts: Vec<(String, u64)> = Vec::new();
    for (column, counts) in references {
        let Some(at) = table.position(column) else {
            continue;
        };
        if let Some(by) = counts.get(&encoded(&[&row[at]])) {
            for (child, n) in by {
                parts.push((
                    format!("{n} {child} row{}", if *n == 1 { "" } else { "s" }),
                    *n,
                ));
            }
        }
    }
    let rows: u64 = parts.iter().map(|(_, n)| n).sum();
    let said: Vec<String> = parts.into_iter().map(|(s, _)| s).collect();
    (!said.is_empty()).then(|| {
        format!(
            "{} {}",
            said.join(" and "),
            if rows == 1 { "refers" } else { "refer" }
        )
    })
}

/// For table `t`: per referenced column of `t`, per value, which tables'
/// rows point at it and how many. Other reference tables count as they
/// will be after the sync; the app's tables as they are.
async fn references_to(
    target: &dyn Target,
    build: &Build,
    live: &LiveTables,
    planned: &[Planned],
    deleted: &[Vec<usize>],
    t: usize,
) -> Result<References, DbError> {
    let table = &planned[t];
    let name = table.spec.table;
    let mut out: References = Vec::new();
    let mut add = |column: &str, value: Vec<u8>, child: &str, n: u64| {
        let at = match out.iter().position(|(c, _)| c == column) {
            Some(at) => at,
            None => {
                out.push((column.to_owned(), HashMap::new()));
                out.len() - 1
            }
        };
        let by = out[at].1.entry(value).or_default();
        match by.iter_mut().find(|(c, _)| c == child) {
            Some((_, m)) => *m += n,
            None => by.push((child.to_owned(), n)),
        }
    };
    let mut queries = Vec::new();
    for fk in live
        .foreign_keys
        .iter()
        .filter(|fk| fk.parent_table == name)
    {
        let parent_column = fk
            .parent_column
            .clone()
            .or_else(|| table.spec.surrogate.map(str::to_owned))
            .unwrap_or_else(|| "rowid".into());
        if let Some(child) = planned.iter().position(|p| p.spec.table == fk.table)
            && build.is_reference(&fk.table)
        {
            let child = &planned[child];
            let Some(at) = child.position(&fk.column) else {
                continue;
            };
            let child_index = planned
                .iter()
                .position(|p| p.spec.table == fk.table)
                .expect("found");
            for row in child.rows_after(&deleted[child_index]) {
                if row[at] != Value::Null {
                    add(&parent_column, encoded(&[&row[at]]), &fk.table, 1);
                }
            }
        } else {
            queries.push((parent_column, fk));
        }
    }
    if !queries.is_empty() {
        let sql = queries
            .iter()
            .enumerate()
            .map(|(i, (_, fk))| {
                let c = quote_ident(&fk.column);
                format!(
                    "SELECT {i}, {c}, count(*) FROM {} WHERE {c} IS NOT NULL GROUP BY {c}",
                    quote_ident(&fk.table)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut found: Vec<(usize, Vec<u8>, u64)> = Vec::new();
        target
            .query(&sql, &mut |r| {
                if let [ValueRef::Integer(i), v, ValueRef::Integer(n)] = r {
                    let mut value = Vec::new();
                    encode_value(&mut value, *v);
                    found.push((*i as usize, value, *n as u64));
                }
                Ok(())
            })
            .await?;
        for (i, value, n) in found {
            let (parent_column, fk) = &queries[i];
            add(parent_column, value, &fk.table, n);
        }
    }
    Ok(out)
}

/// The seed's foreign-key values in `row` are the seed's ids of parent rows;
/// the live database's parent rows may have other ids. Each becomes the id
/// of the live row with the same key (planned already: parents first).
fn translate_foreign_keys(
    row: &mut [Value],
    columns: &[(String, usize)],
    table: &str,
    live: &LiveTables,
    planned: &[Planned],
) {
    for fk in live.foreign_keys.iter().filter(|fk| fk.table == table) {
        let Some(at) = columns.iter().position(|(c, _)| *c == fk.column) else {
            continue;
        };
        if row[at] == Value::Null {
            continue;
        }
        let Some(parent) = planned.iter().find(|p| p.spec.table == fk.parent_table) else {
            continue;
        };
        let parent_column = fk
            .parent_column
            .as_deref()
            .or(parent.spec.surrogate)
            .unwrap_or_default();
        let (Some(live_at), Some(seed_at)) = (
            parent.position(parent_column),
            parent.data.column_index(parent_column),
        ) else {
            continue;
        };
        let wanted = encoded(&[&row[at]]);
        for (n, seed_row) in parent.data.rows().enumerate() {
            let mut v = Vec::new();
            encode_value(&mut v, seed_row[seed_at]);
            if v == wanted {
                if let Some((live_row, _)) = parent.seed_rows.get(n) {
                    row[at] = live_row[live_at].clone();
                }
                break;
            }
        }
    }
}

/// The next id for a new row: past every live row's and past what
/// AUTOINCREMENT has handed out (an id once used is never reused).
async fn next_free_id(
    target: &dyn Target,
    live: &LiveTables,
    spec: &ReferenceTable,
    columns: &[(String, usize)],
    rows: &[Vec<Value>],
) -> Result<i64, DbError> {
    let Some(at) = spec
        .surrogate
        .and_then(|s| columns.iter().position(|(c, _)| c == s))
    else {
        return Ok(1);
    };
    let mut max = rows
        .iter()
        .filter_map(|r| match r[at] {
            Value::Integer(i) => Some(i),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    if live.has_table("sqlite_sequence") {
        target
            .query(
                &format!(
                    "SELECT seq FROM sqlite_sequence WHERE name = {}",
                    literal(&Value::Text(spec.table.to_owned()))
                ),
                &mut |r| {
                    if let [ValueRef::Integer(seq)] = r {
                        max = max.max(*seq);
                    }
                    Ok(())
                },
            )
            .await?;
    }
    Ok(max + 1)
}

/// Picks out one live row: by its id, or by its key.
fn row_filter(table: &Planned, row: &[Value]) -> String {
    let columns: Vec<usize> = match table.spec.surrogate.and_then(|s| table.position(s)) {
        Some(p) => vec![p],
        None => table.key_positions(),
    };
    columns
        .iter()
        .map(|&c| {
            format!(
                "{} IS {}",
                quote_ident(&table.columns[c].0),
                literal(&row[c])
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn literal(v: &Value) -> String {
    let mut out = String::new();
    write_sql_literal(&mut out, v.as_ref());
    out
}
