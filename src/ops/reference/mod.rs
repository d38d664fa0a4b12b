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

mod evaluated;
mod live;
mod planned;
mod removal;
mod report;
mod statements;
mod unique;

pub(crate) use live::{LIVE_TABLES_SQL, LiveTables};
pub(crate) use planned::reads;
pub use report::{
    ChangedValue, ColumnValue, HIDDEN, KeptRow, RowValues, Shown, TableSync, UpdatedRow,
};

use crate::database::{DbError, Target};
use crate::seed::migrations::Build;

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

/// Plans the sync of every reference table of `build` against what the
/// database holds now. Reads only.
pub(crate) async fn plan(
    target: &dyn Target,
    build: &Build,
    live: &LiveTables,
) -> Result<Result<SyncPlan, Refusal>, DbError> {
    let mut planned = Vec::new();
    for spec in build.reference {
        match planned::plan_table(target, build, live, spec, &planned).await? {
            Ok(table) => planned.push(table),
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    let deleted = match removal::decide(target, build, live, &mut planned).await? {
        Ok(deleted) => deleted,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let staged = match unique::stage(target, &mut planned, &deleted, live).await? {
        Ok(staged) => staged,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let statements = statements::statements(&planned, &deleted, &staged);
    Ok(Ok(SyncPlan {
        tables: planned.into_iter().map(|p| p.sync).collect(),
        statements,
    }))
}
