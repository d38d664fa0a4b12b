//! Where a migrate's plan is made: the whole migration, run and rolled
//! back, on something that cannot change the database.
//!
//! A local file: a scratch copy of it (`VACUUM INTO`, which a read-only
//! connection may run), so a read-only file or `?mode=ro` works. A server:
//! its own write transaction, rolled back. A token that may only read
//! cannot take one: sqld answers every statement that writes with HTTP 403
//! (libsql-server `connection/program.rs`, `check_program_auth`: a
//! `PRAGMA` that sets, DDL and DML need the write permission; `BEGIN` and
//! reads need only the read one). Then the plan is made on a local copy of
//! the server's database, read through one read transaction (a dump) and
//! loaded into a scratch file: what migrate would do, proven on the data
//! as it was when read, with nothing sent that writes.

use std::path::Path;

use super::migrate::{MigrateOptions, MigrateReport, migrate};
use super::tx::unavailable;
use crate::database::{self, Kind, Location, Settings, Target, local::Local};
use crate::error::{Error, Result};
use crate::seed::migrations::Build;

/// What the report says when the plan was made on a copy read from the
/// server.
pub const READ_ONLY_COPY: &str = "the token may only read, so the migration ran on a local copy of the \
     server's database, read in one transaction; what migrate would do to the server as it was then";

/// The plan of a migrate (`opts.dry_run` must be set): the migration run
/// and rolled back where it cannot change the database.
pub async fn migrate_plan(
    target: &dyn Target,
    build: &Build,
    opts: &MigrateOptions<'_>,
) -> Result<MigrateReport> {
    debug_assert!(opts.dry_run);
    let shown = target.location().to_string();
    let scratch = tempfile::tempdir().map_err(|e| Error::Open {
        target: shown.clone(),
        reason: format!("cannot make a scratch folder for the plan: {e}"),
    })?;
    if let Location::Local(_) = target.location() {
        let copy = database::scratch_copy(target, scratch.path())
            .await
            .transpose()?
            .expect("a local file is copied");
        return migrate(copy.as_ref(), build, opts).await;
    }
    // Asked as the migration itself would ask, before anything is read.
    match target.begin_write().await {
        Ok(()) => {
            target.rollback().await;
            migrate(target, build, opts).await
        }
        Err(e) if e.kind == Kind::Forbidden => {
            let copy = copy_of_server(target, scratch.path()).await?;
            let report = migrate(&copy, build, opts).await?;
            Ok(MigrateReport {
                planned_on: Some(READ_ONLY_COPY),
                traffic: target.traffic(),
                ..report
            })
        }
        Err(e) => Err(unavailable(target, e)),
    }
}

/// The server's database as a local scratch file in `dir`, named as the
/// server, so that what is said of it names the database asked about.
async fn copy_of_server(target: &dyn Target, dir: &Path) -> Result<Local> {
    let shown = target.location().to_string();
    let failed = |reason: String| Error::Open {
        target: shown.clone(),
        reason: format!("copying it for the dry run (the token may only read): {reason}"),
    };
    let dump = dir.join("server.sql");
    super::dump::dump_to_file(target, &dump).await?;
    let checked = super::restore::check_dump(&dump).map_err(|e| failed(e.to_string()))?;
    let settings = Settings {
        create: true,
        read_only: false,
        auth_token: None,
        ..target.settings().clone()
    };
    let copy = Local::open_as(&dir.join("copy.db"), settings, target.location().clone())
        .map_err(|e| failed(e.message))?;
    super::restore::restore(&copy, &checked, None)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(copy)
}
