//! Where a database differs from the seed, row by row: what `verify` names
//! once the fingerprint says a table differs. The table's rows are read
//! back and matched with the embedded ones by primary key (all columns for
//! a table without one), and each row is named by the seed's natural key
//! where it has one, so an operator can find it.

use std::collections::HashMap;

use serde::Serialize;

use super::reference::LiveTables;
use crate::database::{DbError, Target};
use crate::schema::quote_ident;
use crate::seed::{Profile, TableData};
use crate::value::{Decoder, Value};

/// How many differing rows `verify` names at most.
pub const SHOWN: usize = 5;

/// One row (or a whole table) that is not as the seed has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDifference {
    pub table: String,
    /// The row as the seed's natural key names it (`title = "Dune"`), else
    /// by its primary key, else by all its values; `None`: the whole table.
    pub row: Option<String>,
    /// The first column whose value differs (`None`: the row is missing,
    /// extra, or the table itself differs).
    pub column: Option<String>,
    /// What differs, e.g. `13.5 in the database, 12.5 in the seed`.
    pub what: String,
}

/// The first [`SHOWN`] differences in the seeded tables among `differing`
/// (the fingerprint's entries that did not match). Columns the fingerprint
/// leaves out (credentials) are not compared.
pub(crate) async fn first_differences(
    target: &dyn Target,
    profile: &Profile,
    differing: &[String],
) -> Result<Vec<RowDifference>, DbError> {
    let live = LiveTables::read(target).await?;
    let mut out = Vec::new();
    for table in profile
        .seeded_tables()
        .filter(|t| differing.iter().any(|d| d == t.name))
    {
        if out.len() >= SHOWN {
            break;
        }
        let whole = |what: String| RowDifference {
            table: table.name.to_owned(),
            row: None,
            column: None,
            what,
        };
        let seed_columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
        match live.columns(table.name) {
            None => out.push(whole("the database has no such table".into())),
            Some(columns) if columns != seed_columns.as_slice() => out.push(whole(format!(
                "its columns are ({}) in the database, ({}) in the seed",
                columns.join(", "),
                seed_columns.join(", ")
            ))),
            Some(_) => {
                let rows = live_rows(target, table).await?;
                out.extend(compare(table, &rows).into_iter().take(SHOWN - out.len()));
            }
        }
    }
    Ok(out)
}

async fn live_rows(target: &dyn Target, table: &TableData) -> Result<Vec<Vec<Value>>, DbError> {
    let sql = format!(
        "SELECT {} FROM {}",
        table.quoted_columns(),
        quote_ident(table.name)
    );
    let mut rows = Vec::new();
    target
        .query(&sql, &mut |r| {
            rows.push(r.iter().map(|v| Value::from(*v)).collect());
            Ok(())
        })
        .await?;
    Ok(rows)
}

/// The seed's rows against the database's, in seed order: changed and
/// missing rows first, then the rows the seed does not have.
fn compare(table: &TableData, live: &[Vec<Value>]) -> Vec<RowDifference> {
    let identity: Vec<usize> = match table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.primary_key)
        .map(|(i, _)| i)
        .collect::<Vec<_>>()
    {
        pk if pk.is_empty() => (0..table.columns.len()).collect(),
        pk => pk,
    };
    let id_of = |row: &[Value]| -> String {
        identity
            .iter()
            .map(|&i| format!("{} = {}", table.columns[i].name, row[i]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, row) in live.iter().enumerate() {
        by_id.entry(id_of(row)).or_default().push(i);
    }
    let keys = natural_keys(table);
    let compared: Vec<bool> = table
        .columns
        .iter()
        .map(|c| !table.unfingerprinted.contains(&c.name))
        .collect();
    let mut out = Vec::new();
    for (index, seed_row) in table.rows().enumerate() {
        let seed_row: Vec<Value> = seed_row.into_iter().map(Value::from).collect();
        let id = id_of(&seed_row);
        let name = keys.get(index).cloned().unwrap_or_else(|| id.clone());
        let difference = |column: Option<&str>, what: String| RowDifference {
            table: table.name.to_owned(),
            row: Some(name.clone()),
            column: column.map(str::to_owned),
            what,
        };
        let Some(live_index) = by_id.get_mut(&id).and_then(Vec::pop) else {
            out.push(difference(
                None,
                "the database does not have this row".into(),
            ));
            continue;
        };
        let live_row = &live[live_index];
        if let Some(c) = (0..seed_row.len()).find(|&c| compared[c] && seed_row[c] != live_row[c]) {
            out.push(difference(
                Some(table.columns[c].name),
                format!(
                    "{} in the database, {} in the seed",
                    live_row[c], seed_row[c]
                ),
            ));
        }
    }
    let mut extra: Vec<usize> = by_id.into_values().flatten().collect();
    extra.sort_unstable();
    out.extend(extra.into_iter().map(|i| RowDifference {
        table: table.name.to_owned(),
        row: Some(id_of(&live[i])),
        column: None,
        what: "a row the seed does not have".into(),
    }));
    out
}

/// Each seed row's natural key as it reads: `title = "Dune"` (empty when
/// the table has none).
fn natural_keys(table: &TableData) -> Vec<String> {
    let fields = table.key_fields;
    if fields.is_empty() {
        return Vec::new();
    }
    let mut decoder = Decoder::new(table.keys);
    let mut out = Vec::with_capacity(table.row_count);
    while !decoder.is_empty() {
        let parts: Vec<String> = fields
            .iter()
            .map(|f| format!("{f} = {}", decoder.next_value()))
            .collect();
        out.push(parts.join(", "));
    }
    out
}

#[cfg(all(test, feature = "builtin-seed"))]
mod tests {
    use super::*;

    /// The seed's own rows, with `edit` applied, as the database would
    /// return them.
    fn live_of(table: &TableData, edit: impl FnOnce(&mut Vec<Vec<Value>>)) -> Vec<Vec<Value>> {
        let mut rows: Vec<Vec<Value>> = table
            .rows()
            .map(|r| r.into_iter().map(Value::from).collect())
            .collect();
        edit(&mut rows);
        rows
    }

    #[test]
    fn a_changed_value_is_named_by_key_and_column() {
        let verband = crate::SEED.table("verband").unwrap();
        let name = verband.column_index("name").unwrap();
        let live = live_of(verband, |rows| {
            rows[1][name] = Value::Text("Umbenannt".into());
        });
        let found = compare(verband, &live);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].column.as_deref(), Some("name"));
        let key = &natural_keys(verband)[1];
        assert_eq!(found[0].row.as_deref(), Some(key.as_str()));
        assert!(key.starts_with("abkuerzung = \""), "{key}");
        assert!(
            found[0].what.starts_with("\"Umbenannt\" in the database"),
            "{}",
            found[0].what
        );
    }

    #[test]
    fn missing_and_extra_rows_are_told_apart() {
        let verband = crate::SEED.table("verband").unwrap();
        let id = verband.column_index("id").unwrap();
        let live = live_of(verband, |rows| {
            let mut moved = rows.remove(0);
            moved[id] = Value::Integer(999);
            rows.push(moved);
        });
        let found = compare(verband, &live);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].what, "the database does not have this row");
        assert_eq!(found[1].row.as_deref(), Some("id = 999"));
        assert_eq!(found[1].what, "a row the seed does not have");
    }

    #[test]
    fn credentials_are_not_compared() {
        let users = crate::SEED.table("users").unwrap();
        let column = users.unfingerprinted[0];
        let at = users.column_index(column).unwrap();
        let live = live_of(users, |rows| {
            for row in rows.iter_mut() {
                row[at] = Value::Text("rotated".into());
            }
        });
        assert_eq!(compare(users, &live), []);
    }
}
