//! `migrate`: change a live database without wiping it. The pending
//! migrations and the reference-data sync run in one transaction, every
//! foreign key is checked, each applied migration is recorded in
//! `_seedbake_migrations`, then it commits; any failure rolls all of it back.
//!
//! Before changing anything it refuses a database it cannot migrate safely:
//! an applied migration whose checksum differs from the build's, a recorded
//! version the build does not know, a schema that is not the schema of its
//! recorded version (someone changed it by hand), or a database made
//! without migrations whose schema matches no version (or several: then
//! `--baseline` says which), records it did not write as they are, rows
//! that already dangle, and reference rows it could not sync. Those checks
//! live in `checks`, which `status` runs too.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::checks::{self, LastReads, ReadFailure, SyncNow};
use super::reference::{LiveTables, SyncPlan, TableSync};
use super::standing::{Adoption, START_MIGRATIONS};
use super::tx::{Failure, Tx, sql_text, step, step_of};
use super::{TrafficReport, as_millis, check_foreign_keys, engine};
use crate::database::{DbError, Target};
use crate::error::Result;
use crate::fingerprint::MIGRATIONS_TABLE;
use crate::schema::first_difference;
use crate::seed::migrations::{Build, Migration};

/// What `migrate` is asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct MigrateOptions<'a> {
    /// Adopt a database made without migrations at this version.
    pub baseline: Option<i64>,
    /// Do everything, then roll back: the plan, proven on the real data.
    pub dry_run: bool,
    /// The plan the operator confirmed: if the database has changed since,
    /// refuse rather than do something else.
    pub confirmed: Option<&'a MigrateReport>,
    /// Back the database up to this new file first, inside the migration's
    /// transaction (not in a dry run).
    pub backup: Option<&'a std::path::Path>,
}

/// What a migrate did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    pub target: String,
    pub dry_run: bool,
    /// The version the database was at (`None`: not under migrations, and
    /// not empty).
    pub from: Option<i64>,
    /// The version it is at afterwards.
    pub to: Option<i64>,
    /// How a database made without migrations was taken over.
    pub adopted: Option<Adoption>,
    /// The migrations applied, in order.
    pub applied: Vec<Applied>,
    /// Each reference table: rows inserted, updated, deleted, kept.
    pub reference: Vec<TableSync>,
    /// Whether anything was (or would be) written.
    pub changes: bool,
    /// A seed without migrations: how to start using them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_migrations: Option<&'static str>,
    /// The backup taken under the write lock before anything changed.
    pub backup: Option<super::BackupReport>,
    /// Where the plan was made, when not on the database itself (a dry run
    /// with a token that may only read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_on: Option<&'static str>,
    pub traffic: Option<TrafficReport>,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
}

impl MigrateReport {
    /// What the operator is asked to confirm: equal plans change the same
    /// rows the same way.
    fn decisions(&self) -> impl PartialEq + '_ {
        (
            self.from,
            self.adopted.as_ref().map(|a| a.version),
            &self.applied,
            &self.reference,
        )
    }
}

/// The table that records migrations. Its last column is the foreign-key
/// guard: on a server the final statement of the commit's request sets it
/// to the number of dangling keys, and the CHECK fails the whole batch.
fn create_records_table() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at TEXT NOT NULL, seedbake_version TEXT NOT NULL, \
         how TEXT NOT NULL CHECK (how IN ('migrate', 'reset', 'baseline')), \
         fk_violations INTEGER NOT NULL DEFAULT 0 CONSTRAINT {} CHECK (fk_violations = 0))",
        super::tx::FK_GUARD
    )
}

fn record(m: &Migration, how: &str) -> String {
    format!(
        "INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum, applied_at, seedbake_version, how) \
         VALUES ({}, {}, {}, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), {}, {})",
        m.version,
        sql_text(m.name),
        sql_text(m.checksum),
        sql_text(env!("CARGO_PKG_VERSION")),
        sql_text(how)
    )
}

/// Inside a reset's (or seed's) transaction, after the schema: records
/// every migration of the build as applied, since the schema a reset
/// creates is the schema they end at (proven at build time).
pub(crate) async fn record_reset(
    tx: &mut Tx<'_>,
    build: &Build,
) -> std::result::Result<(), DbError> {
    if build.migrations.is_empty() {
        return Ok(());
    }
    let mut sql = create_records_table();
    for m in build.migrations {
        sql.push_str(";\n");
        sql.push_str(&record(m, "reset"));
    }
    tx.exec(&sql).await
}

/// Applies the pending migrations and syncs the reference data in one
/// transaction (see the module's description). With `dry_run`, does all of
/// it and rolls back.
pub async fn migrate(
    target: &dyn Target,
    build: &Build,
    opts: &MigrateOptions<'_>,
) -> Result<MigrateReport> {
    let started = Instant::now();
    let backup_to = if opts.dry_run { None } else { opts.backup };
    super::checks::expect_first_reads(target);
    let (mut tx, backup) = super::backup::begin_backed_up(target, backup_to).await?;
    let outcome = run(&mut tx, build, opts, started)
        .await
        .map(|report| MigrateReport { backup, ..report });
    match outcome {
        Ok(report) if opts.dry_run || !report.changes => {
            tx.roll_back().await;
            Ok(MigrateReport {
                traffic: target.traffic(),
                ..report
            })
        }
        Ok(report) => {
            let mut report = tx.finish_checked_by(Ok(report), "status").await?;
            report.traffic = target.traffic();
            report.elapsed = started.elapsed();
            Ok(report)
        }
        Err(failure) => tx.finish_checked_by(Err(failure), "status").await,
    }
}

async fn run(
    tx: &mut Tx<'_>,
    build: &Build,
    opts: &MigrateOptions<'_>,
    started: Instant,
) -> std::result::Result<MigrateReport, Failure> {
    let target = tx.target;
    // A database at the build's schema most likely needs nothing written:
    // its transaction may then end with the reads that tell (and begins
    // again, checked, when something is written after all). A backup's
    // reads are not worth reading again.
    let last = match opts.backup {
        Some(_) if !opts.dry_run => LastReads::Never,
        _ => LastReads::AtBuildSchema,
    };
    let assessment = checks::assess(target, build, opts.baseline, SyncNow::UnlessPending, last)
        .await
        .map_err(|ReadFailure(what, e)| Failure::Step(what.into(), e))?;
    if !assessment.refusals.is_empty() {
        return Err(Failure::Unmigratable(assessment.refusals.join("; ")));
    }
    let standing = assessment.standing;
    let pending = standing.pending(build);
    let mut writes = !pending.is_empty() || standing.adoption.is_some();

    if writes {
        let mut sql = create_records_table();
        if let Some(a) = &standing.adoption {
            for m in build.migrations.iter().filter(|m| m.version <= a.version) {
                sql.push_str(";\n");
                sql.push_str(&record(m, "baseline"));
            }
        }
        tx.exec(&sql)
            .await
            .map_err(step("recording the migrations"))?;
    }
    for m in &pending {
        tx.exec(m.sql)
            .await
            .map_err(step(&format!("applying migration {}", m.label())))?;
        tx.exec(&record(m, "migrate"))
            .await
            .map_err(step("recording the migrations"))?;
    }
    if let (false, Some(latest)) = (pending.is_empty(), build.latest()) {
        // Proven at build time on an empty database; proven again here, on
        // this one, before anything depends on it.
        let applying = match pending.as_slice() {
            [one] => format!("applying migration {}", one.label()),
            many => format!(
                "applying migrations {} (sent to the server together)",
                many.iter()
                    .map(|m| m.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        // The reads after the migrations go with them (the request this
        // read sends): every migration's statements are queued by now.
        super::ahead::expect_after_migrations(target, build).await;
        let now = crate::fingerprint::canonical_schema(target)
            .await
            .map_err(|e| {
                Failure::Step(
                    step_of(&e, "reading the migrated schema", Some(&applying)),
                    e,
                )
            })?;
        if let Some(d) = first_difference(
            &now,
            &latest.schema_objects(),
            "after the migrations",
            latest.label(),
        ) {
            return Err(Failure::Step(
                "proving the migrated schema".into(),
                engine(format!(
                    "the migrations did not make the build's schema: {d}"
                )),
            ));
        }
    }

    let plan = match assessment.sync {
        // Planned before any change, and nothing changed since.
        Some(plan) if pending.is_empty() => plan,
        _ => after_migrations(target, build).await?,
    };
    for (sql, what) in &plan.statements {
        tx.exec(sql)
            .await
            .map_err(step(&format!("syncing the reference data ({what})")))?;
    }
    writes |= !plan.statements.is_empty();

    if writes {
        if target.proves_in_transaction() {
            // The sync's statements may travel with this check's request.
            let unsent = (!plan.statements.is_empty()).then_some("syncing the reference data");
            check_foreign_keys(target, unsent).await?;
        }
        tx.exec(&format!(
            "UPDATE {MIGRATIONS_TABLE} SET fk_violations = (SELECT count(*) FROM pragma_foreign_key_check) \
             WHERE version = (SELECT max(version) FROM {MIGRATIONS_TABLE})"
        ))
        .await
        .map_err(step("checking foreign keys"))?;
    }

    let to = pending.last().map(|m| m.version).or(standing.version);
    let report = MigrateReport {
        target: target.location().to_string(),
        dry_run: opts.dry_run,
        from: if standing.adoption.is_some() {
            None
        } else {
            standing.version
        },
        to,
        adopted: standing.adoption.clone(),
        applied: pending
            .iter()
            .map(|m| Applied {
                version: m.version,
                name: m.name.to_owned(),
                checksum: m.checksum.to_owned(),
            })
            .collect(),
        reference: plan.tables,
        changes: writes,
        start_migrations: build.migrations.is_empty().then_some(START_MIGRATIONS),
        backup: None,
        planned_on: None,
        traffic: target.traffic(),
        elapsed: started.elapsed(),
    };
    if let Some(confirmed) = opts.confirmed
        && confirmed.decisions() != report.decisions()
    {
        return Err(Failure::Unmigratable(
            "the database changed after the plan was shown (another writer was busy meanwhile); \
             run migrate again to see the plan as it is now"
                .into(),
        ));
    }
    Ok(report)
}

/// The reference sync planned on the tables the migrations left: the same
/// checks as before them, a refusal rolling the migrations back.
async fn after_migrations(
    target: &dyn Target,
    build: &Build,
) -> std::result::Result<SyncPlan, Failure> {
    let live = LiveTables::read(target)
        .await
        .map_err(step("reading the tables"))?;
    // Together, if they were not read with the migrations.
    target.expect(&super::reference::reads(build, &live));
    let synced = checks::sync(target, build, &live)
        .await
        .map_err(step("reading the reference data"))?;
    if !synced.refusals.is_empty() {
        return Err(Failure::Unmigratable(format!(
            "after the pending migrations (applied in the transaction, then rolled back): {}",
            synced.refusals.join("; ")
        )));
    }
    let plan = synced.plan.expect("a plan without refusals");
    // After the migrations every reference table has the build's shape.
    if let Some((t, why)) = plan
        .tables
        .iter()
        .find_map(|t| Some((&t.table, t.not_compared.as_ref()?)))
    {
        return Err(Failure::Step(
            "syncing the reference data".into(),
            engine(format!("{t} cannot be compared with the seed: {why}")),
        ));
    }
    Ok(plan)
}
