//! Explaining the engine's verdicts in the seed's terms: a refused row
//! (UNIQUE, CHECK, NOT NULL) and a foreign key that points at no row, each
//! named by file, line and field.

use std::collections::HashMap;

use libsql::Connection;
use seedbake_core::schema::{self, quote_ident};

use crate::error::internal;
use crate::error::{ErrorKind, Origin, SeedError};
use crate::rows::PendingRow;

/// Explains the engine's refusal of row `n` in the seed's terms.
pub(crate) fn constraint_error(
    table: &schema::Table,
    rows: &[PendingRow],
    n: usize,
    msg: String,
) -> SeedError {
    let row = &rows[n];
    let col_index = |name: &str| table.columns.iter().position(|c| c.name == name);
    let show = |ci: usize| {
        row.values[ci]
            .as_ref()
            .map_or_else(|| "NULL".to_owned(), |v| v.to_string())
    };
    if let Some(list) = msg.strip_prefix("UNIQUE constraint failed: ") {
        let cols: Vec<String> = list
            .split(", ")
            .map(|c| c.rsplit('.').next().unwrap_or(c).to_owned())
            .collect();
        let idx: Vec<usize> = cols.iter().filter_map(|c| col_index(c)).collect();
        let earlier = rows[..n]
            .iter()
            .position(|r| idx.iter().all(|&i| r.values[i] == row.values[i]));
        let constraint = table.unique.iter().find(|(_, c)| *c == cols).map_or_else(
            || "PRIMARY KEY".to_owned(),
            |(name, _)| format!("UNIQUE {name}"),
        );
        let values: Vec<String> = idx.iter().map(|&i| show(i)).collect();
        let place = earlier.map_or_else(|| "another row".to_owned(), |e| rows[e].origin.short());
        return SeedError::new(
            ErrorKind::Unique,
            row.origin.clone(),
            format!(
                "{}.{} {} is already used at {place} ({constraint})",
                table.name,
                cols.join(", "),
                values.join(", ")
            ),
        )
        .with_field(&table.name, &cols[0]);
    }
    if let Some(rest) = msg.strip_prefix("CHECK constraint failed: ") {
        let involved: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                rest.split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                    .any(|w| w == c.name)
            })
            .map(|(i, c)| format!("{} = {}", c.name, show(i)))
            .collect();
        let mut e = SeedError::new(
            ErrorKind::Check,
            row.origin.clone(),
            format!(
                "{}: {} violates CHECK ({rest})",
                table.name,
                involved.join(", ")
            ),
        );
        if let Some(c) = table.columns.iter().find(|c| rest.contains(&c.name)) {
            e = e.with_field(&table.name, &c.name);
        }
        return e;
    }
    if let Some(rest) = msg.strip_prefix("NOT NULL constraint failed: ") {
        return SeedError::new(
            ErrorKind::MissingValue,
            row.origin.clone(),
            format!("{rest} is empty, but the column is NOT NULL"),
        );
    }
    SeedError::new(
        ErrorKind::Schema,
        row.origin.clone(),
        format!("the engine refused the row: {msg}"),
    )
}

/// The first row that breaks a foreign key, once every table is loaded.
pub(crate) async fn check_foreign_keys(
    conn: &Connection,
    tables: &[schema::Table],
    origins: &HashMap<(String, i64), Origin>,
) -> Result<(), SeedError> {
    let fallback = Origin::file("seed");
    let mut rows = conn
        .query("PRAGMA foreign_key_check", ())
        .await
        .map_err(|e| internal(fallback.clone(), e))?;
    if let Some(row) = rows
        .next()
        .await
        .map_err(|e| internal(fallback.clone(), e))?
    {
        let table: String = row.get(0).unwrap_or_default();
        let rowid: Option<i64> = row.get(1).ok();
        let parent: String = row.get(2).unwrap_or_default();
        let fkid: i64 = row.get(3).unwrap_or(-1);
        let t = tables.iter().find(|t| t.name == table);
        let fk = t.and_then(|t| t.foreign_keys.iter().find(|f| f.id == fkid));
        let column = fk.map_or("?", |f| f.column.as_str());
        let origin = rowid
            .and_then(|r| origins.get(&(table.clone(), r)))
            .cloned()
            .unwrap_or_else(|| Origin::file(table.clone()));
        let value = match (t, rowid) {
            (Some(t), Some(r)) => {
                let sql = format!(
                    "SELECT {} FROM {} WHERE rowid = ?1",
                    quote_ident(column),
                    quote_ident(&t.name)
                );
                match conn.query(&sql, [r]).await {
                    Ok(mut rs) => match rs.next().await {
                        Ok(Some(v)) => v
                            .get_value(0)
                            .map(|v| format!("{:?}", v))
                            .unwrap_or_default(),
                        _ => String::new(),
                    },
                    Err(_) => String::new(),
                }
            }
            _ => String::new(),
        };
        let parent_col = fk.map_or("id", |f| f.parent_column.as_str());
        return Err(SeedError::new(
            ErrorKind::ForeignKey,
            origin,
            format!("{table}.{column} = {value} refers to no row of {parent} ({parent}.{parent_col}) (FOREIGN KEY)"),
        )
        .with_field(&table, column));
    }
    Ok(())
}
