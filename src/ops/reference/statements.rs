//! The statements that carry out the plan, in an order no constraint
//! trips over: deletions (children first), rows moved aside, then updates
//! and inserts (parents first).

use super::planned::Planned;
use super::unique::{Staged, temporary};
use crate::schema::quote_ident;
use crate::value::{Value, write_sql_literal};

/// Each statement with what it does ("inserting verband \"NEUV\"").
pub(super) fn statements(
    planned: &[Planned],
    deleted: &[Vec<usize>],
    staged: &Staged,
) -> Vec<(String, String)> {
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
    for table in planned {
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
    statements
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

pub(super) fn literal(v: &Value) -> String {
    let mut out = String::new();
    write_sql_literal(&mut out, v.as_ref());
    out
}
