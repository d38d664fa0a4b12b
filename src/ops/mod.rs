//! The operations, written once against an open [`Target`]: reset, seed,
//! verify, dump, restore and init-admin.

mod admin;
mod ahead;
mod backup;
mod checks;
mod diagram;
mod differences;
mod draft;
mod dry_run;
mod dump;
pub mod extract;
pub mod images;
mod migrate;
pub mod paths;
mod production;
mod reference;
mod restore;
mod standing;
mod status;
mod tx;
mod verify;

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::database::TrafficReport;
pub use admin::{
    AdminOutcome, LockedAccount, MIN_ADMIN_PASSWORD, hash_password, init_admin, password_problem,
    set_password, username_problem,
};
pub use backup::BackupReport;
pub use diagram::{diagram_of, diagram_of_build};
pub use differences::RowDifference;
pub use draft::{DraftReport, migration_draft};
pub use dry_run::{READ_ONLY_COPY, migrate_plan};
pub use dump::split::MAX_STATEMENT_BYTES;
pub use dump::{DumpReport, dump, dump_to_file};
pub use extract::{ExtractOptions, ExtractReport, extract};
pub use migrate::{Applied, MigrateOptions, MigrateReport, migrate};
pub use production::{Environment, Plan, environment, plan};
pub use reference::{
    ChangedValue, ColumnValue, HIDDEN, KeptRow, RowValues, Shown, TableSync, UpdatedRow,
};
pub use restore::{CheckedDump, RestoreReport, check_dump, restore};
pub use standing::{Adoption, Modified, Record};
pub use status::{Pending, StatusReport, status};
pub use verify::{Recorded, VerifyReport, verify};

use tx::{Failure, Tx, sql_text, step};

use crate::database::{DbError, Target};
use crate::error::Result;
use crate::fingerprint::{self, META_TABLE};
use crate::schema::is_internal;
use crate::seed::{self, Profile};
use crate::value::ValueRef;

pub use crate::database::{Observer, Quiet};

/// Replace everything (`reset`) or fill an empty database (`seed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Reset,
    Seed,
}

pub struct LoadOptions<'a> {
    pub profile: &'static Profile,
    /// Replaces the seeded admin's development password (hashed here).
    pub admin_password: Option<&'a str>,
    /// Production: no seeded account keeps a password published in the
    /// seed. Every seeded credential gets an unusable password (but the
    /// admin's, given `admin_password`), to be set with `init-admin`.
    pub production: bool,
    /// Back the database up to this new file first, inside the load's
    /// transaction (under the write lock), before anything changes.
    pub backup: Option<&'a Path>,
}

/// Where the seeded admin's password came from. Never the password itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminPassword {
    /// The profile seeds no admin account.
    NotSeeded,
    /// The seed's development default.
    SeedDefault,
    /// `INITIAL_ADMIN_PASSWORD`.
    Provided,
    /// A random password nobody knows: the account waits for `init-admin`.
    Locked,
}

fn seed_has_no_admin(_: &AdminPassword) -> bool {
    seed::get().admin.is_none()
}

pub use crate::schema::SchemaObject;

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub mode: Mode,
    pub target: String,
    pub profile: String,
    /// What the reset dropped (the engine's own objects are kept).
    pub dropped: Vec<SchemaObject>,
    pub tables: Vec<(String, usize)>,
    pub rows: usize,
    pub fingerprint: String,
    /// The fingerprint was recomputed from the loaded rows before commit.
    pub verified: bool,
    /// Left out of `--json` for a seed without `[admin]`: there is no admin
    /// password to speak of.
    #[serde(skip_serializing_if = "seed_has_no_admin")]
    pub admin_password: AdminPassword,
    /// Seeded accounts whose published development password was replaced by
    /// one nobody knows (production).
    pub locked_accounts: Vec<LockedAccount>,
    /// The backup taken under the write lock before anything changed.
    pub backup: Option<BackupReport>,
    /// Milliseconds spent in each step, in order.
    pub phases: Vec<(&'static str, f64)>,
    /// What crossed the network, for servers.
    pub traffic: Option<TrafficReport>,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// The figure images, delivered after the commit by the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<images::Delivery>,
}

/// Records how long each step of a load takes.
#[derive(Default)]
struct Phases {
    done: Vec<(&'static str, f64)>,
    last: Option<Instant>,
}

impl Phases {
    fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        let since = self.last.unwrap_or(now);
        self.done.push((name, (now - since).as_secs_f64() * 1000.0));
        self.last = Some(now);
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Drops every application object, creates the schema, loads the profile's
/// rows and proves the fingerprint, all in one transaction.
pub async fn reset(
    target: &dyn Target,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> Result<LoadReport> {
    load(target, Mode::Reset, opts, observer, None).await
}

/// [`reset`], handing `show` the plan (what it replaces) read under the
/// write lock, before anything is written: for a run that asks nothing
/// (`--yes`), whose plan then costs no request of its own.
pub async fn reset_showing_plan(
    target: &dyn Target,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
    show: &dyn Fn(&Plan),
) -> Result<LoadReport> {
    load(target, Mode::Reset, opts, observer, Some(show)).await
}

/// Like [`reset`], but refuses a database that holds anything.
pub async fn seed(
    target: &dyn Target,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> Result<LoadReport> {
    load(target, Mode::Seed, opts, observer, None).await
}

async fn load(
    target: &dyn Target,
    mode: Mode,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
    show_plan: Option<&dyn Fn(&Plan)>,
) -> Result<LoadReport> {
    let started = Instant::now();
    let shown = target.location().to_string();
    let mut phases = Phases {
        last: Some(started),
        ..Phases::default()
    };
    // What does not need the database starts before the lock is taken: the
    // password hashes (checked now, hashed on threads of their own and
    // waited for only when the transaction writes them), and refusing the
    // backup's file name.
    let hashes = admin::hash_credentials(opts)?;
    phases.mark("hash");
    let file = opts
        .backup
        .map(|path| backup::Backup::create(target, path))
        .transpose()?;
    let tx = Tx::begin(target).await?;
    phases.mark("lock");
    let (mut tx, backup) = backup::back_up(tx, file).await?;
    if backup.is_some() {
        phases.mark("backup");
    }
    if let Some(show) = show_plan {
        // The backup counted every table's rows under this lock.
        let counted = backup.as_ref().map(|b| b.table_rows.as_slice());
        match production::read_plan(target, counted).await {
            Ok(plan) => show(&plan),
            Err(e) => {
                let failure = Failure::Step(production::PLAN_STEP.into(), e);
                return tx.finish(Err(failure)).await;
            }
        }
    }

    let outcome = load_in_transaction(&mut tx, mode, opts, &hashes, observer, &mut phases).await;
    let (dropped, fingerprint, credentials) = tx.finish(outcome).await?;
    phases.mark("commit");
    let tables: Vec<(String, usize)> = opts
        .profile
        .seeded_tables()
        .map(|t| (t.name.to_owned(), t.row_count))
        .collect();
    Ok(LoadReport {
        mode,
        target: shown,
        profile: opts.profile.name.to_owned(),
        dropped,
        rows: tables.iter().map(|(_, n)| n).sum(),
        tables,
        fingerprint,
        verified: target.proves_in_transaction(),
        admin_password: credentials.admin,
        locked_accounts: credentials.locked,
        backup,
        phases: phases.done,
        traffic: target.traffic(),
        elapsed: started.elapsed(),
        images: None,
    })
}

async fn load_in_transaction(
    tx: &mut Tx<'_>,
    mode: Mode,
    opts: &LoadOptions<'_>,
    hashes: &admin::CredentialHashes,
    observer: &mut dyn Observer,
    phases: &mut Phases,
) -> std::result::Result<(Vec<SchemaObject>, String, admin::SeededCredentials), Failure> {
    let existing = tx.objects().await.map_err(step("reading the schema"))?;
    if mode == Mode::Seed && !existing.is_empty() {
        return Err(Failure::NotEmpty(
            existing
                .iter()
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect(),
        ));
    }
    let dropped = tx.drop_all(&existing).await?;
    phases.mark("drop");

    tx.exec(seed::get().schema_sql.trim_end().trim_end_matches(';'))
        .await
        .map_err(step("creating the schema"))?;
    migrate::record_reset(tx, &crate::seed::migrations::Build::embedded())
        .await
        .map_err(step("recording the migrations"))?;
    phases.mark("schema");

    for table in opts.profile.seeded_tables() {
        tx.load_table(table, observer)
            .await
            .map_err(step("loading the seed"))?;
    }
    phases.mark("load");

    let credentials = admin::set_seeded_credentials(tx, opts, hashes).await?;
    phases.mark("credentials");

    let expected = opts.profile.fingerprint;
    let record = |fk_violations: &str| {
        format!(
            "CREATE TABLE {META_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL, \
             profile TEXT NOT NULL, seedbake_version TEXT NOT NULL, applied_at TEXT NOT NULL, \
             fk_violations INTEGER NOT NULL CONSTRAINT {} CHECK (fk_violations = 0));\n\
             INSERT INTO {META_TABLE} VALUES (1, '{expected}', {}, '{}', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), \
             {fk_violations})",
            tx::FK_GUARD,
            sql_text(opts.profile.name),
            env!("CARGO_PKG_VERSION"),
        )
    };
    if !tx.target.proves_in_transaction() {
        // Unproven (a server told --no-verify): the metadata row refuses to
        // exist while any foreign key dangles; the check travels with the
        // last request and fails the COMMIT's batch.
        tx.exec(&record("(SELECT count(*) FROM pragma_foreign_key_check)"))
            .await
            .map_err(step("recording the fingerprint"))?;
        phases.mark("check");
        // Not proven at all: the operator chose speed; `seedbake verify`
        // proves it later.
        return Ok((dropped, expected.to_owned(), credentials));
    }

    // The proof: the fingerprint recomputed from every row the database now
    // holds (on a server, read back in pages on this transaction's stream)
    // equals the build's.
    // The foreign-key question below goes with the proof's first request
    // (with the writes), not in one of its own.
    if let Some(sql) = credentials_in_foreign_keys_sql() {
        tx.target.expect(&[sql]);
    }
    ahead::expect_proof(tx.target).await;
    let fp = fingerprint::compute(tx.target, &seed::get().unfingerprinted())
        .await
        // The load's statements travel with the proof's first reads: a
        // clash or a lost transaction met there is the load's.
        .map_err(|e| {
            Failure::Step(
                tx::step_of(
                    &e,
                    "fingerprinting the loaded rows",
                    Some("loading the seed"),
                ),
                e,
            )
        })?;
    if fp.total != expected {
        let differing: Vec<String> = fp
            .entries
            .iter()
            .filter(|(n, d)| opts.profile.digest(n) != Some(d.as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        return Err(Failure::Step(
            "proving the fingerprint".into(),
            engine(format!(
                "the loaded database does not match the build (differs in {}): the engine or server holds other values than were sent, or this is a seedbake bug",
                differing.join(", ")
            )),
        ));
    }
    phases.mark("fingerprint");

    // Foreign keys: the proof shows the schema and every row are the
    // build's, and the build checked that database's foreign keys in the
    // engine, so they hold here too. Only a column the fingerprint leaves
    // out (a credential) could break one; if any takes part in a foreign
    // key, the engine checks them all.
    if credentials_in_foreign_keys(tx.target)
        .await
        .map_err(step("checking foreign keys"))?
    {
        check_foreign_keys(tx.target, None).await?;
    }
    phases.mark("check");
    tx.exec(&record("0"))
        .await
        .map_err(step("recording the fingerprint"))?;
    Ok((dropped, fp.total, credentials))
}

/// Whether a column the fingerprint leaves out takes part in a foreign key,
/// as the child's column or the parent's.
async fn credentials_in_foreign_keys(target: &dyn Target) -> std::result::Result<bool, DbError> {
    let Some(sql) = credentials_in_foreign_keys_sql() else {
        return Ok(false);
    };
    let mut found = false;
    target
        .query(&sql, &mut |r| {
            found = !matches!(r.first(), Some(ValueRef::Integer(0)));
            Ok(())
        })
        .await?;
    Ok(found)
}

/// The query [`credentials_in_foreign_keys`] asks, if any column is left
/// out of the fingerprint.
fn credentials_in_foreign_keys_sql() -> Option<String> {
    let excluded = seed::get().unfingerprinted();
    if excluded.is_empty() {
        return None;
    }
    let pairs: Vec<String> = excluded
        .iter()
        .map(|(t, c)| format!("({}, {})", sql_text(t), sql_text(c)))
        .collect();
    let pairs = pairs.join(", ");
    Some(format!(
        "SELECT count(*) FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f \
         WHERE m.type = 'table' AND ((m.name, f.\"from\") IN (VALUES {pairs}) \
         OR (f.\"table\", f.\"to\") IN (VALUES {pairs}))"
    ))
}

/// A failure with no kind of its own: the text says what.
fn engine(message: String) -> DbError {
    DbError::new(crate::database::Kind::Engine, message)
}

/// Fails the step when any foreign key dangles, naming the first ones.
/// `unsent`: the step whose statements may
/// still be on their way (on a server they travel with the next request,
/// this check's): a constraint met then is theirs, as a read meets none.
async fn check_foreign_keys(
    target: &dyn Target,
    unsent: Option<&str>,
) -> std::result::Result<(), Failure> {
    let violations = foreign_key_violations(target)
        .await
        .map_err(|e| Failure::Step(tx::step_of(&e, "checking foreign keys", unsent), e))?;
    if violations.is_empty() {
        return Ok(());
    }
    Err(Failure::Step(
        "checking foreign keys".into(),
        DbError::new(crate::database::Kind::Constraint, violations.join("; ")),
    ))
}

/// Every dangling foreign key, with the columns it goes through.
pub(crate) const FK_CHECK_SQL: &str = "SELECT c.\"table\", c.rowid, c.parent, (SELECT group_concat(f.\"from\", ', ') \
     FROM pragma_foreign_key_list(c.\"table\") AS f WHERE f.id = c.fkid) \
     FROM pragma_foreign_key_check AS c";

async fn foreign_key_violations(target: &dyn Target) -> std::result::Result<Vec<String>, DbError> {
    let mut out = Vec::new();
    let mut more = 0;
    target
        .query(FK_CHECK_SQL, &mut |r| {
            if out.len() == 5 {
                more += 1;
                return Ok(());
            }
            let through = match r.get(3) {
                Some(ValueRef::Text(c)) => format!(" (its {c})"),
                _ => String::new(),
            };
            out.push(format!(
                "{} row {}{through} refers to a missing {} row",
                r[0], r[1], r[2]
            ));
            Ok(())
        })
        .await?;
    if more > 0 {
        out.push(format!("and {more} more"));
    }
    Ok(out)
}

/// Column `i` of a row of seedbake's own table `table`, which holds text
/// there.
pub(crate) fn text_cell(
    row: &[ValueRef<'_>],
    i: usize,
    table: &str,
) -> std::result::Result<String, DbError> {
    match row.get(i) {
        Some(ValueRef::Text(t)) => Ok((*t).to_owned()),
        _ => Err(DbError::new(
            crate::database::Kind::Engine,
            format!("{table} holds a value that is not text"),
        )),
    }
}

/// Everything in `sqlite_schema`, in creation order, through the one reader
/// the build and the fingerprint use, a failure keeping its kind (an
/// unreachable server or a lock is told apart from a bad answer).
pub(crate) async fn read_schema(
    target: &dyn Target,
) -> std::result::Result<Vec<SchemaObject>, DbError> {
    crate::schema::objects(target).await
}

/// Every application table, view and trigger, in creation order (indexes
/// go with their tables; the engine's own objects are left out).
pub async fn schema_objects(
    target: &dyn Target,
) -> std::result::Result<Vec<SchemaObject>, DbError> {
    let mut objects = read_schema(target).await?;
    objects.retain(|o| {
        matches!(o.kind.as_str(), "table" | "view" | "trigger") && !is_internal(&o.name)
    });
    Ok(objects)
}
