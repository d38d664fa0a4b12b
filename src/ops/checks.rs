//! What `migrate` would refuse, found by reading only. `status` and
//! `migrate` both ask here, so that what `status` predicts is what
//! `migrate` does: the same checks, the same words.

use super::foreign_key_violations;
use super::reference::{self, LiveTables, SyncPlan, TableSync};
use super::standing::{START_MIGRATIONS, Standing, standing};
use crate::database::{DbError, Target};
use crate::fingerprint::{canonical_objects, schema_objects_digest};
use crate::seed::migrations::Build;

/// A database measured against the build, before any change.
pub(crate) struct Assessment {
    pub standing: Standing,
    /// The reference sync planned on the tables as they are (`None`: not
    /// planned, or refused).
    pub sync: Option<SyncPlan>,
    /// Each reference table as compared (empty: not compared).
    pub tables: Vec<TableSync>,
    /// Every reason `migrate` refuses the database, in the order it finds
    /// them: with any, it exits 9 and changes nothing.
    pub refusals: Vec<String>,
    /// What the reference tables as they are would make `migrate` refuse,
    /// while migrations are pending: those run first, and may change the
    /// rows, so `migrate` decides on the tables they leave.
    pub after_migrations: Vec<String>,
}

/// A read that failed, and the step it was part of.
pub(crate) struct ReadFailure(pub &'static str, pub DbError);

/// When to plan the reference sync on the tables as they are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncNow {
    /// Always (`status`: it shows the plan).
    Always,
    /// Only when no migration is pending (`migrate`: otherwise it plans
    /// after them, on the tables they leave).
    UnlessPending,
}

/// The reads [`assess`] starts with, which every database answers: a
/// server sends them with the request that opens the transaction.
pub(crate) fn expect_first_reads(target: &dyn Target) {
    target.expect(&[
        super::FK_CHECK_SQL.to_owned(),
        reference::LIVE_TABLES_SQL.to_owned(),
    ]);
}

/// When the transaction may end with the reads that follow the schema
/// (the records and the reference rows: see `Target::last_reads`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LastReads {
    /// Always (`status`: it writes nothing).
    Always,
    /// When the database has the build's latest schema (`migrate`): then
    /// most likely nothing is to be written.
    AtBuildSchema,
    Never,
}

/// Reads the database's standing, its dangling keys and (see [`SyncNow`])
/// the reference sync, and gathers every refusal.
pub(crate) async fn assess(
    target: &dyn Target,
    build: &Build,
    baseline: Option<i64>,
    when: SyncNow,
    last: LastReads,
) -> Result<Assessment, ReadFailure> {
    // The tables as they are, then every read that follows sent together
    // with the migrations' record (on a server, one request).
    let live = LiveTables::read(target)
        .await
        .map_err(|e| ReadFailure("reading the tables", e))?;
    target.expect(&reference::reads(build, &live));
    let migrations = |e| ReadFailure("reading the database's migrations", e);
    let objects = super::read_schema(target).await.map_err(migrations)?;
    let at_build_schema =
        || schema_objects_digest(&canonical_objects(objects.clone())) == build.schema_digest;
    if last == LastReads::Always || (last == LastReads::AtBuildSchema && at_build_schema()) {
        target.last_reads();
    }
    let standing = standing(target, build, baseline, objects)
        .await
        .map_err(migrations)?;
    let mut refusals: Vec<String> = standing.refusal(build).into_iter().collect();
    let dangling = foreign_key_violations(target)
        .await
        .map_err(|e| ReadFailure("checking foreign keys", e))?;
    if !dangling.is_empty() {
        refusals.push(format!(
            "some of its rows already refer to missing rows, before any change: {}; migrate checks every \
             foreign key before it commits, so repair these first",
            dangling.join("; ")
        ));
    }
    let pending = standing.version.is_some() && !standing.pending(build).is_empty();
    let mut assessment = Assessment {
        standing,
        sync: None,
        tables: Vec::new(),
        refusals,
        after_migrations: Vec::new(),
    };
    if assessment.standing.empty || (when == SyncNow::UnlessPending && pending) {
        return Ok(assessment);
    }
    let synced = sync(target, build, &live)
        .await
        .map_err(|e| ReadFailure("reading the reference data", e))?;
    assessment.tables = synced.tables;
    assessment.sync = synced.plan;
    if pending {
        assessment.after_migrations = synced.refusals;
    } else {
        assessment.refusals.extend(synced.refusals);
    }
    Ok(assessment)
}

/// The reference sync planned on the tables as they are now, and what in
/// it `migrate` refuses.
pub(crate) struct Synced {
    /// `None`: refused.
    pub plan: Option<SyncPlan>,
    pub tables: Vec<TableSync>,
    pub refusals: Vec<String>,
}

pub(crate) async fn sync(
    target: &dyn Target,
    build: &Build,
    live: &LiveTables,
) -> Result<Synced, DbError> {
    match reference::plan(target, build, live).await? {
        Ok(plan) => {
            let mut refusals = Vec::new();
            if build.migrations.is_empty() && !plan.statements.is_empty() {
                let tables: Vec<&str> = plan
                    .tables
                    .iter()
                    .filter(|t| t.changes())
                    .map(|t| t.table.as_str())
                    .collect();
                refusals.push(format!(
                    "the reference data of {} differs from the seed's; migrate records what it does among the \
                     migrations, and {START_MIGRATIONS}",
                    tables.join(", ")
                ));
            }
            Ok(Synced {
                tables: plan.tables.clone(),
                plan: Some(plan),
                refusals,
            })
        }
        Err(refusal) => Ok(Synced {
            plan: None,
            tables: build
                .reference
                .iter()
                .map(|r| TableSync {
                    not_compared: Some(
                        "the reference data cannot be synced as it is (see why migrate refuses)"
                            .into(),
                    ),
                    ..TableSync::empty(r)
                })
                .collect(),
            refusals: vec![refusal.0],
        }),
    }
}
