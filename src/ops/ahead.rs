//! Reads asked for before the writes they follow are sent, so that a
//! server answers them in the request that carries the writes rather than
//! in requests of their own. What the writes leave is known before they
//! run: after a load the schema is the seed's, after the pending
//! migrations the last one's. The reads are made from that schema, in a
//! database in memory (the schema only: no rows, and no migration run
//! again), and a server uses an answer only where the read the command
//! then makes, from the tables as it finds them, is the same statement;
//! otherwise the command reads as before.
//!
//! A read made ahead names tables and columns that the writes create: were
//! they missing (a migration that did not make the schema it was proven to
//! make at build time), the request would fail as a whole, and the
//! transaction with it.

use super::reference::{self, LIVE_TABLES_SQL, LiveTables};
use crate::database::{self, Target};
use crate::fingerprint;
use crate::seed::{self, migrations::Build};

/// Asks `target` to read the loaded tables as the proof will, with its
/// next request. A model that cannot be made asks for nothing: the proof
/// then reads on its own.
pub(crate) async fn expect_proof(target: &dyn Target) {
    let Some(model) = model(target, &[seed::get().schema_sql]).await else {
        return;
    };
    let (Ok(shapes), Ok(tables)) = (
        database::shapes(&model).await,
        fingerprint::fingerprinted_tables(&model).await,
    ) else {
        return;
    };
    let excluded = seed::get().unfingerprinted();
    target.expect_prefetch(&shapes, &fingerprint::table_scans(&tables, &excluded));
}

/// Asks `target` to read, with the request that carries the pending
/// migrations, what the reference sync reads after them: the tables'
/// columns and keys, and the reference tables' rows.
pub(crate) async fn expect_after_migrations(target: &dyn Target, build: &Build) {
    let Some(latest) = build.latest() else {
        return;
    };
    // The schema the last migration ends at, not the migrations run again
    // here: what they compute (a data migration's statements) is the
    // server's to do. Tables before what is made on them.
    let mut entries: Vec<_> = latest.schema.iter().collect();
    entries.sort_by_key(|e| {
        ["table", "index", "view", "trigger"]
            .iter()
            .position(|k| *k == e.kind)
    });
    let script: Vec<&str> = entries.iter().map(|e| e.sql).collect();
    let Some(model) = model(target, &[&script.join(";\n")]).await else {
        return;
    };
    let Ok(live) = LiveTables::read(&model).await else {
        return;
    };
    let mut reads = vec![LIVE_TABLES_SQL.to_owned()];
    reads.extend(reference::reads(build, &live));
    target.expect(&reads);
}

/// A database in memory made by `scripts`, in order; only for a server
/// (a local file answers each read at no cost).
async fn model(target: &dyn Target, scripts: &[&str]) -> Option<libsql::Connection> {
    if !target.location().is_remote() {
        return None;
    }
    let model = super::draft::memory().await.ok()?;
    for script in scripts {
        model.execute_batch(script).await.ok()?;
    }
    Some(model)
}
