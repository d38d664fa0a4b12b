//! The operations, written once against an open [`Target`]: reset, seed and
//! verify.

pub mod load;

use std::time::{Duration, Instant};

use libsql::Connection;
use serde::Serialize;

pub use load::{Observer, Quiet};

use crate::error::{Error, Result, engine_message, is_busy};
use crate::fingerprint::{self, META_TABLE};
use crate::schema::{is_internal, quote_ident};
use crate::seed::{Profile, SEED};
use crate::target::Target;

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
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
}

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
    pub admin_password: AdminPassword,
    /// Milliseconds spent in each step, in order.
    pub phases: Vec<(&'static str, f64)>,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
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

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub target: String,
    pub profile: String,
    pub expected: String,
    pub actual: String,
    /// What the last seedbake load recorded, if any did.
    pub recorded: Option<Recorded>,
    /// `(schema)` and table names whose content differs from the build.
    pub differing: Vec<String>,
    pub matches: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub fingerprint: String,
    pub profile: String,
    pub seedbake_version: String,
    pub applied_at: String,
}

/// Drops every application object, creates the schema, loads the profile's
/// rows and proves the fingerprint, all in one transaction.
pub async fn reset(
    target: &Target,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> Result<LoadReport> {
    load(target, Mode::Reset, opts, observer).await
}

/// Like [`reset`], but refuses a database that holds anything.
pub async fn seed(
    target: &Target,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> Result<LoadReport> {
    load(target, Mode::Seed, opts, observer).await
}

async fn exec(conn: &Connection, sql: &str) -> std::result::Result<(), String> {
    conn.execute(sql, ())
        .await
        .map(|_| ())
        .map_err(|e| engine_message(&e))
}

async fn load(
    target: &Target,
    mode: Mode,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> Result<LoadReport> {
    let started = Instant::now();
    let conn = &target.conn;
    let shown = target.location.to_string();
    let db_error = |step: &str, e: libsql::Error| {
        if is_busy(&e) {
            Error::Locked {
                target: shown.clone(),
                waited: target.lock_timeout,
            }
        } else {
            Error::Database {
                target: shown.clone(),
                step: step.to_owned(),
                reason: engine_message(&e),
            }
        }
    };
    // Foreign keys off while the old schema goes: dropping a parent table
    // under enforcement would first delete its rows and trip over children.
    // The pragma is a no-op inside a transaction, so it comes first; the
    // load checks every foreign key itself before it commits.
    conn.execute("PRAGMA foreign_keys = OFF", ())
        .await
        .map_err(|e| db_error("preparing the connection", e))?;
    let mut phases = Phases {
        last: Some(started),
        ..Phases::default()
    };
    conn.execute("BEGIN IMMEDIATE", ())
        .await
        .map_err(|e| db_error("starting the transaction", e))?;
    phases.mark("lock");

    let outcome = load_in_transaction(conn, mode, opts, observer, &mut phases).await;
    match outcome {
        Ok((dropped, fingerprint, admin_password)) => {
            if let Err(e) = conn.execute("COMMIT", ()).await {
                let _ = conn.execute("ROLLBACK", ()).await;
                return Err(if is_busy(&e) {
                    Error::Locked {
                        target: shown,
                        waited: target.lock_timeout,
                    }
                } else {
                    Error::RolledBack {
                        target: shown,
                        step: "committing".into(),
                        reason: engine_message(&e),
                    }
                });
            }
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
                verified: true,
                admin_password,
                phases: phases.done,
                elapsed: started.elapsed(),
            })
        }
        Err(Failure::NotEmpty(objects)) => {
            let _ = conn.execute("ROLLBACK", ()).await;
            Err(Error::NotEmpty {
                target: shown,
                objects,
            })
        }
        Err(Failure::Step(step, reason)) => {
            let _ = conn.execute("ROLLBACK", ()).await;
            Err(Error::RolledBack {
                target: shown,
                step,
                reason,
            })
        }
    }
}

enum Failure {
    NotEmpty(Vec<String>),
    /// The step that failed and why.
    Step(String, String),
}

fn step(name: &str) -> impl FnOnce(String) -> Failure + '_ {
    move |reason| Failure::Step(name.to_owned(), reason)
}

async fn load_in_transaction(
    conn: &Connection,
    mode: Mode,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
    phases: &mut Phases,
) -> std::result::Result<(Vec<SchemaObject>, String, AdminPassword), Failure> {
    let existing = schema_objects(conn)
        .await
        .map_err(step("reading the schema"))?;
    if mode == Mode::Seed && !existing.is_empty() {
        return Err(Failure::NotEmpty(
            existing
                .iter()
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect(),
        ));
    }
    // Views and triggers first: they may name the tables.
    let mut dropped = Vec::new();
    for kind in ["view", "trigger", "table"] {
        for o in existing.iter().filter(|o| o.kind == kind) {
            let sql = format!(
                "DROP {} IF EXISTS {}",
                kind.to_uppercase(),
                quote_ident(&o.name)
            );
            exec(conn, &sql)
                .await
                .map_err(step(&format!("dropping {kind} {}", o.name)))?;
            dropped.push(o.clone());
        }
    }

    phases.mark("drop");
    conn.execute_batch(SEED.schema_sql)
        .await
        .map_err(|e| engine_message(&e))
        .map_err(step("creating the schema"))?;

    phases.mark("schema");
    for table in opts.profile.seeded_tables() {
        load::load_table(conn, table, observer)
            .await
            .map_err(step("loading the seed"))?;
    }
    phases.mark("load");

    let admin_password = set_admin_password(conn, opts).await?;

    let violations = foreign_key_violations(conn)
        .await
        .map_err(step("checking foreign keys"))?;
    if !violations.is_empty() {
        return Err(Failure::Step(
            "checking foreign keys".into(),
            violations.join("; "),
        ));
    }
    phases.mark("check");

    let fp = fingerprint::compute(conn, &SEED.unfingerprinted())
        .await
        .map_err(|e| engine_message(&e))
        .map_err(step("fingerprinting the loaded rows"))?;
    if fp.total != opts.profile.fingerprint {
        let differing: Vec<String> = fp
            .entries
            .iter()
            .filter(|(n, d)| opts.profile.digest(n) != Some(d.as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        return Err(Failure::Step(
            "proving the fingerprint".into(),
            format!(
                "the loaded database does not match the build (differs in {}); this is a seedbake bug or an engine that changes values",
                differing.join(", ")
            ),
        ));
    }

    phases.mark("fingerprint");
    let meta = format!(
        "CREATE TABLE {META_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL, \
         profile TEXT NOT NULL, seedbake_version TEXT NOT NULL, applied_at TEXT NOT NULL)"
    );
    exec(conn, &meta)
        .await
        .map_err(step("recording the fingerprint"))?;
    conn.execute(
        &format!(
            "INSERT INTO {META_TABLE} VALUES (1, ?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"
        ),
        libsql::params![
            fp.total.clone(),
            opts.profile.name,
            env!("CARGO_PKG_VERSION")
        ],
    )
    .await
    .map_err(|e| engine_message(&e))
    .map_err(step("recording the fingerprint"))?;

    Ok((dropped, fp.total, admin_password))
}

async fn set_admin_password(
    conn: &Connection,
    opts: &LoadOptions<'_>,
) -> std::result::Result<AdminPassword, Failure> {
    let Some(admin) = SEED.admin.filter(|a| opts.profile.includes(a.table)) else {
        return Ok(AdminPassword::NotSeeded);
    };
    let Some(password) = opts.admin_password else {
        return Ok(AdminPassword::SeedDefault);
    };
    let hash = hash_password(password)
        .map_err(|e| Failure::Step("hashing the admin password".into(), e))?;
    let sql = format!(
        "UPDATE {} SET {} = ?1 WHERE {} = ?2",
        quote_ident(admin.table),
        quote_ident(admin.password_column),
        quote_ident(admin.id_column)
    );
    let changed = conn
        .execute(&sql, libsql::params![hash, admin.id])
        .await
        .map_err(|e| engine_message(&e))
        .map_err(step("setting the admin password"))?;
    if changed != 1 {
        return Err(Failure::Step(
            "setting the admin password".into(),
            format!(
                "no {} row with {} = {}",
                admin.table, admin.id_column, admin.id
            ),
        ));
    }
    Ok(AdminPassword::Provided)
}

/// A bcrypt hash the app's passlib verifies (`$2b$`, cost 12).
pub fn hash_password(password: &str) -> std::result::Result<String, String> {
    if password.len() > 72 {
        return Err("bcrypt uses at most 72 bytes of a password; choose a shorter one".into());
    }
    bcrypt::hash_with_result(password, crate::compiler::BCRYPT_COST)
        .map(|h| h.format_for_version(bcrypt::Version::TwoB))
        .map_err(|e| e.to_string())
}

/// Every application table, view, trigger and index (not the engine's own).
pub async fn schema_objects(conn: &Connection) -> std::result::Result<Vec<SchemaObject>, String> {
    let mut rows = conn
        .query(
            "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger', 'index') ORDER BY rowid",
            (),
        )
        .await
        .map_err(|e| engine_message(&e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.map_err(|e| engine_message(&e))? {
        let kind: String = row.get(0).map_err(|e| engine_message(&e))?;
        let name: String = row.get(1).map_err(|e| engine_message(&e))?;
        // Indexes go with their tables; auto-indexes are the engine's.
        if !is_internal(&name) && kind != "index" {
            out.push(SchemaObject { kind, name });
        }
    }
    Ok(out)
}

async fn foreign_key_violations(conn: &Connection) -> std::result::Result<Vec<String>, String> {
    let mut rows = conn
        .query("PRAGMA foreign_key_check", ())
        .await
        .map_err(|e| engine_message(&e))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.map_err(|e| engine_message(&e))? {
        let table: String = row.get(0).unwrap_or_default();
        let rowid: Option<i64> = row.get(1).ok();
        let parent: String = row.get(2).unwrap_or_default();
        out.push(format!(
            "{table} row {} refers to a missing {parent} row",
            rowid.map_or("?".into(), |r| r.to_string())
        ));
        if out.len() >= 5 {
            break;
        }
    }
    Ok(out)
}

/// Recomputes the fingerprint from the database's rows and compares it with
/// the build's for `profile` (or the profile the last load recorded).
pub async fn verify(target: &Target, profile: Option<&'static Profile>) -> Result<VerifyReport> {
    let conn = &target.conn;
    let shown = target.location.to_string();
    let fail = |step: &str, reason: String| Error::Database {
        target: shown.clone(),
        step: step.to_owned(),
        reason,
    };
    let recorded = recorded(conn)
        .await
        .map_err(|r| fail("reading seedbake's record", r))?;
    let profile = match (profile, &recorded) {
        (Some(p), _) => p,
        (None, Some(r)) => SEED
            .profile(&r.profile)
            .unwrap_or_else(|| SEED.default_profile()),
        (None, None) => SEED.default_profile(),
    };
    let fp = fingerprint::compute(conn, &SEED.unfingerprinted())
        .await
        .map_err(|e| fail("fingerprinting the database", engine_message(&e)))?;
    let mut differing: Vec<String> = profile
        .digests
        .iter()
        .filter(|(n, d)| fp.entry(n) != Some(*d))
        .map(|(n, _)| (*n).to_owned())
        .collect();
    for (n, _) in &fp.entries {
        if profile.digest(n).is_none() {
            differing.push(n.clone());
        }
    }
    Ok(VerifyReport {
        target: shown,
        profile: profile.name.to_owned(),
        expected: profile.fingerprint.to_owned(),
        matches: fp.total == profile.fingerprint,
        actual: fp.total,
        recorded,
        differing,
    })
}

async fn recorded(conn: &Connection) -> std::result::Result<Option<Recorded>, String> {
    let mut rows = conn
        .query(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [META_TABLE],
        )
        .await
        .map_err(|e| engine_message(&e))?;
    let exists = match rows.next().await.map_err(|e| engine_message(&e))? {
        Some(row) => row.get::<i64>(0).map_err(|e| engine_message(&e))? > 0,
        None => false,
    };
    if !exists {
        return Ok(None);
    }
    let mut rows = conn
        .query(
            &format!("SELECT fingerprint, profile, seedbake_version, applied_at FROM {META_TABLE} WHERE id = 1"),
            (),
        )
        .await
        .map_err(|e| engine_message(&e))?;
    let Some(row) = rows.next().await.map_err(|e| engine_message(&e))? else {
        return Ok(None);
    };
    let text = |i| row.get::<String>(i).map_err(|e| engine_message(&e));
    Ok(Some(Recorded {
        fingerprint: text(0)?,
        profile: text(1)?,
        seedbake_version: text(2)?,
        applied_at: text(3)?,
    }))
}
