//! One reference table as planned: its live rows read, each seed row
//! matched to a live row by the natural key (its foreign keys translated
//! to live ids, a new row given the next free id), and the live rows the
//! seed does not have.

use std::collections::HashMap;

use super::Refusal;
use super::live::LiveTables;
use super::report::{ChangedValue, ColumnValue, HIDDEN, RowValues, Shown, TableSync, UpdatedRow};
use super::statements::literal;
use crate::database::{DbError, Target};
use crate::schema::quote_ident;
use crate::seed::TableData;
use crate::seed::migrations::{Build, ReferenceTable};
use crate::value::{Value, ValueRef, encode_value};

/// One reference table as planned: its live rows, its seed rows in live
/// terms (foreign keys translated, ids assigned) and what becomes of each.
pub(super) struct Planned {
    pub(super) spec: &'static ReferenceTable,
    pub(super) data: &'static TableData,
    /// The columns compared and written, by name, with their position in
    /// the seed's rows.
    pub(super) columns: Vec<(String, usize)>,
    /// The seed's rows in live terms, each with the live row it matched.
    pub(super) seed_rows: Vec<(Vec<Value>, Option<usize>)>,
    pub(super) live_rows: Vec<Vec<Value>>,
    /// Live rows the seed does not have.
    pub(super) extras: Vec<usize>,
    pub(super) sync: TableSync,
}

impl Planned {
    pub(super) fn position(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| c == column)
    }

    pub(super) fn key_positions(&self) -> Vec<usize> {
        self.spec
            .key
            .iter()
            .map(|k| self.position(k).expect("checked when planned"))
            .collect()
    }

    pub(super) fn key_of(&self, row: &[Value]) -> String {
        self.key_positions()
            .iter()
            .map(|&p| match self.shown(p, &row[p]) {
                Shown::Value(v) => v.to_string(),
                Shown::Hidden | Shown::Absent => HIDDEN.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// Column `c`'s value as a report may show it.
    pub(super) fn shown(&self, c: usize, value: &Value) -> Shown {
        self.shown_named(&self.columns[c].0, value)
    }

    fn shown_named(&self, column: &str, value: &Value) -> Shown {
        if self.data.unfingerprinted.contains(&column) {
            Shown::Hidden
        } else {
            Shown::Value(value.clone())
        }
    }

    /// The columns whose values differ between a seed row and a live row
    /// (the surrogate id aside: a row keeps its own).
    pub(super) fn differing(&self, row: &[Value], live: &[Value]) -> Vec<usize> {
        let surrogate = self.spec.surrogate.and_then(|s| self.position(s));
        (0..row.len())
            .filter(|&c| Some(c) != surrogate)
            .filter(|&c| encoded(&[&row[c]]) != encoded(&[&live[c]]))
            .collect()
    }

    /// A row's key and values, for a report.
    pub(super) fn row_values(&self, row: &[Value]) -> RowValues {
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
    pub(super) fn rows_after(&self, deleted: &[usize]) -> impl Iterator<Item = &Vec<Value>> {
        self.seed_rows.iter().map(|(r, _)| r).chain(
            self.extras
                .iter()
                .filter(|i| !deleted.contains(i))
                .map(|&i| &self.live_rows[i]),
        )
    }
}

pub(super) fn encoded(values: &[&Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode_value(&mut out, v.as_ref());
    }
    out
}

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

/// The reads [`plan_table`] makes of the reference tables' rows, to be
/// sent together: those of tables that have every column of their key.
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

/// Reads reference table `spec` and matches the seed's rows to its rows;
/// `planned` holds the tables before it (parents first), whose ids the
/// seed's foreign keys are translated to.
pub(super) async fn plan_table(
    target: &dyn Target,
    build: &Build,
    live: &LiveTables,
    spec: &'static ReferenceTable,
    planned: &[Planned],
) -> Result<Result<Planned, Refusal>, DbError> {
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
        return Ok(Ok(Planned {
            spec,
            data,
            columns,
            seed_rows: Vec::new(),
            live_rows: Vec::new(),
            extras: Vec::new(),
            sync,
        }));
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

    // Seed columns the table does not have yet (pending migrations add
    // them): not compared, but the sync will set them after the
    // migrations, so reports show the seed's values for them.
    let added: Vec<(&str, usize)> = data
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| table.position(c.name).is_none())
        .map(|(i, c)| (c.name, i))
        .collect();
    let surrogate = spec.surrogate.and_then(|s| table.position(s));
    let mut matched = vec![false; table.live_rows.len()];
    for seed_row in data.rows() {
        let mut row: Vec<Value> = table
            .columns
            .iter()
            .map(|(_, i)| Value::from(seed_row[*i]))
            .collect();
        translate_foreign_keys(&mut row, &table.columns, spec.table, live, planned);
        let key: Vec<&Value> = key_positions.iter().map(|&p| &row[p]).collect();
        match by_key.get(&encoded(&key)).copied() {
            Some(i) => {
                matched[i] = true;
                if let Some(p) = surrogate {
                    row[p] = table.live_rows[i][p].clone();
                }
                let live_row = &table.live_rows[i];
                let mut changes: Vec<ChangedValue> = table
                    .differing(&row, live_row)
                    .into_iter()
                    .map(|c| ChangedValue {
                        column: table.columns[c].0.clone(),
                        database: table.shown(c, &live_row[c]),
                        seed: table.shown(c, &row[c]),
                    })
                    .collect();
                // A new column starts NULL (or at a default the sync then
                // compares with): a seed value that is not NULL is a change.
                for &(column, at) in &added {
                    let value = Value::from(seed_row[at]);
                    if value != Value::Null {
                        changes.push(ChangedValue {
                            column: column.to_owned(),
                            database: Shown::Absent,
                            seed: table.shown_named(column, &value),
                        });
                    }
                }
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
                let mut values = table.row_values(&row);
                values
                    .values
                    .extend(added.iter().map(|&(column, at)| ColumnValue {
                        column: column.to_owned(),
                        value: table.shown_named(column, &Value::from(seed_row[at])),
                    }));
                table.sync.inserted_rows.push(values);
                table.seed_rows.push((row, None));
            }
        }
    }
    table.extras = (0..table.live_rows.len())
        .filter(|&i| !matched[i])
        .collect();
    Ok(Ok(table))
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
