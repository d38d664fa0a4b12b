//! Which live rows the seed no longer has may go: those nothing refers
//! to, or as the table's `removed` policy says; the others are kept, or
//! refuse the sync (`fail`).

use std::collections::HashMap;

use super::Refusal;
use super::live::{LiveForeignKey, LiveTables};
use super::planned::{Planned, encoded};
use super::report::KeptRow;
use crate::database::{DbError, Target};
use crate::schema::quote_ident;
use crate::seed::migrations::{Build, Removed};
use crate::value::{Value, ValueRef, encode_value};

/// Per referenced column of a table, per (encoded) value: which tables'
/// rows point at it, and how many.
type References = Vec<(String, HashMap<Vec<u8>, Vec<(String, u64)>>)>;

/// Decides, for every table, which of its extra rows are deleted (by
/// index into its live rows) and which kept, and why.
pub(super) async fn decide(
    target: &dyn Target,
    build: &Build,
    live: &LiveTables,
    planned: &mut [Planned],
) -> Result<Result<Vec<Vec<usize>>, Refusal>, DbError> {
    // Children first: whether a row the seed dropped may go depends on the
    // rows that point at it, those of other reference tables included.
    let mut deleted: Vec<Vec<usize>> = vec![Vec::new(); planned.len()];
    // Every table's count of the app's rows that refer to it, in one
    // request: what is counted does not depend on what is decided.
    let counts: Vec<String> = (0..planned.len())
        .filter(|&t| !planned[t].extras.is_empty())
        .filter_map(|t| app_references_sql(&app_references(build, live, planned, t)))
        .collect();
    target.expect(&counts);
    for t in (0..planned.len()).rev() {
        if planned[t].extras.is_empty() {
            continue;
        }
        let references = references_to(target, build, live, planned, &deleted, t).await?;
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
    Ok(Ok(deleted))
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
    for fk in live
        .foreign_keys
        .iter()
        .filter(|fk| fk.parent_table == name)
    {
        if let Some(child) = planned.iter().position(|p| p.spec.table == fk.table)
            && build.is_reference(&fk.table)
        {
            let parent_column = parent_column(fk, table);
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
        }
    }
    let queries = app_references(build, live, planned, t);
    if let Some(sql) = app_references_sql(&queries) {
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

/// The column of `table` that `fk` refers to.
fn parent_column(fk: &LiveForeignKey, table: &Planned) -> String {
    fk.parent_column
        .clone()
        .or_else(|| table.spec.surrogate.map(str::to_owned))
        .unwrap_or_else(|| "rowid".into())
}

/// The foreign keys into table `t` from the app's tables (not reference
/// tables, whose rows are planned), each with the column it refers to.
fn app_references<'l>(
    build: &Build,
    live: &'l LiveTables,
    planned: &[Planned],
    t: usize,
) -> Vec<(String, &'l LiveForeignKey)> {
    let table = &planned[t];
    live.foreign_keys
        .iter()
        .filter(|fk| fk.parent_table == table.spec.table)
        .filter(|fk| {
            !(planned.iter().any(|p| p.spec.table == fk.table) && build.is_reference(&fk.table))
        })
        .map(|fk| (parent_column(fk, table), fk))
        .collect()
}

/// One query that counts, per key `i` of `queries`, the app's rows that
/// refer to each value: rows `(i, value, count)`.
fn app_references_sql(queries: &[(String, &LiveForeignKey)]) -> Option<String> {
    (!queries.is_empty()).then(|| {
        queries
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
            .join(" UNION ALL ")
    })
}
