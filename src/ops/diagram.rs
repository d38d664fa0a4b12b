//! `seedbake schema`: the model an entity-relationship diagram is drawn
//! from, read from the build or from a live database, changing nothing.

use super::tx::read_failed;
use crate::database::Target;
use crate::diagram::{Drift, Entity, Model};
use crate::error::{Error, Result};
use crate::fingerprint::is_seedbake_table;
use crate::schema::{self, quote_ident};
use crate::seed::{self, Profile};
use crate::value::ValueRef;

/// The schema this binary embeds, as the engine creates it from
/// `schema.sql`, with the row counts `profile` seeds (0 for a table it
/// leaves empty). Touches no database but one in memory.
pub async fn diagram_of_build(profile: &Profile) -> Result<Model> {
    let tables = build_tables().await?;
    Ok(Model {
        title: format!(
            "The schema this seedbake build embeds (rows: the {} seed)",
            profile.name
        ),
        tables: tables
            .into_iter()
            .map(|table| {
                let rows = if profile.includes(&table.name) {
                    seed::get()
                        .table(&table.name)
                        .map_or(0, |t| t.row_count as u64)
                } else {
                    0
                };
                Entity {
                    table,
                    rows,
                    drift: Drift::default(),
                }
            })
            .collect(),
        missing_tables: Vec::new(),
    })
}

/// The tables `schema.sql` creates, as the engine reports them.
async fn build_tables() -> Result<Vec<schema::Table>> {
    let failed = |reason: String| Error::Database {
        target: "the embedded schema".into(),
        step: "reading schema.sql in an in-memory database".into(),
        reason,
    };
    let conn = super::draft::memory().await?;
    conn.execute_batch(seed::get().schema_sql)
        .await
        .map_err(|e| failed(schema::engine_message(&e)))?;
    schema::tables(&conn).await.map_err(failed)
}

/// The schema of a live database and each table's `count(*)`, read in one
/// snapshot, each table marked where it differs from the build's (by
/// table and column names). seedbake's own bookkeeping tables are left
/// out: they are not the application's.
pub async fn diagram_of(target: &dyn Target) -> Result<Model> {
    let build = build_tables().await?;
    target
        .read_snapshot()
        .await
        .map_err(|e| read_failed(target, "starting a read transaction", e))?;
    let model = read(target, &build).await;
    target.end_snapshot().await;
    model
}

async fn read(target: &dyn Target, build: &[schema::Table]) -> Result<Model> {
    let tables = schema::tables(target)
        .await
        .map_err(|e| read_failed(target, "reading the schema", e))?;
    let mut entities = Vec::new();
    for table in tables {
        if is_seedbake_table(&table.name) {
            continue;
        }
        let mut count = 0;
        target
            .query(
                &format!("SELECT count(*) FROM {}", quote_ident(&table.name)),
                &mut |r| {
                    if let Some(ValueRef::Integer(n)) = r.first() {
                        count = (*n).max(0) as u64;
                    }
                    Ok(())
                },
            )
            .await
            .map_err(|e| read_failed(target, &format!("counting the rows of {}", table.name), e))?;
        let built = build
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&table.name));
        entities.push(Entity {
            drift: Drift::of(&table, built),
            table,
            rows: count,
        });
    }
    let missing_tables = build
        .iter()
        .filter(|b| {
            !entities
                .iter()
                .any(|e| e.table.name.eq_ignore_ascii_case(&b.name))
        })
        .map(|b| b.name.clone())
        .collect();
    Ok(Model {
        title: format!("The schema of {}", target.location()),
        tables: entities,
        missing_tables,
    })
}
