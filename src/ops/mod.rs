//! The operations, written once against an open [`Target`]: reset, seed and
//! verify.

pub mod load;

use std::time::{Duration, Instant};

use libsql::Connection;
use serde::Serialize;

pub use load::{Observer, Quiet};

use crate::error::{Error, Result, engine_message};
use crate::fingerprint::{self, META_TABLE};
use crate::schema::{is_internal, quote_ident};
use crate::seed::{Profile, SEED, TableData};
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
    /// What crossed the network, for servers.
    pub traffic: Option<TrafficReport>,
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

#[derive(Debug, Clone, Serialize)]
pub struct TrafficReport {
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl From<&crate::target::Traffic> for TrafficReport {
    fn from(t: &crate::target::Traffic) -> Self {
        TrafficReport {
            requests: t.requests(),
            bytes_sent: t.bytes_sent(),
            bytes_received: t.bytes_received(),
        }
    }
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

/// Limits for statements sent to a server as text. sqld reads a request
/// body whole and caps a response at 10 MB; Turso's edge has its own body
/// limits. Staying at 2 MiB per request and 512 KiB per statement keeps far
/// inside every limit we know while needing one request per ~2 MiB of seed.
pub const REMOTE_REQUEST_BYTES: usize = 2 << 20;
pub const REMOTE_STATEMENT_BYTES: usize = 512 << 10;

/// One write transaction on a target. Locally every statement runs at once;
/// on a server, statements are packed into few large requests, and the last
/// one carries the COMMIT, so the server applies all or nothing.
struct Tx<'t> {
    target: &'t Target,
    /// Statements waiting to be sent (servers only).
    pending: String,
}

impl<'t> Tx<'t> {
    async fn begin(target: &'t Target) -> Result<Tx<'t>> {
        let conn = &target.conn;
        let shown = target.location.to_string();
        let started = Instant::now();
        // Foreign keys off while the old schema goes: dropping a parent table
        // under enforcement would first delete its rows and trip over children.
        // The pragma is a no-op inside a transaction, so it comes first; the
        // load checks every foreign key itself before it commits.
        let setup = "PRAGMA foreign_keys = OFF";
        loop {
            let begun = if target.is_remote() {
                target
                    .bounded(conn.execute_batch(&format!("{setup}; BEGIN IMMEDIATE")))
                    .await
                    .map(|_| ())
            } else {
                match conn.execute(setup, ()).await {
                    Ok(_) => target
                        .bounded(conn.execute("BEGIN IMMEDIATE", ()))
                        .await
                        .map(|_| ()),
                    Err(e) => Err(target.explain(&e)),
                }
            };
            match begun {
                Ok(()) => break,
                // Locally the busy timeout already waited; a server answers
                // busy at once, so keep asking until the lock timeout.
                Err(reason) if is_busy_text(&reason) => {
                    if !target.is_remote() || started.elapsed() >= target.settings.lock_timeout {
                        return Err(Error::Locked {
                            target: shown,
                            waited: target.settings.lock_timeout,
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(reason) => {
                    return Err(Error::Unreachable {
                        target: shown,
                        reason,
                    });
                }
            }
        }
        Ok(Tx {
            target,
            pending: String::new(),
        })
    }

    async fn exec(&mut self, sql: &str) -> std::result::Result<(), String> {
        if self.target.is_remote() {
            if !self.pending.is_empty()
                && self.pending.len() + sql.len() > self.target.settings.request_bytes
            {
                self.flush().await?;
            }
            self.pending.push_str(sql);
            self.pending.push_str(";\n");
            Ok(())
        } else {
            self.target
                .bounded(self.target.conn.execute_batch(sql))
                .await
                .map(|_| ())
        }
    }

    async fn flush(&mut self) -> std::result::Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.target
            .bounded(self.target.conn.execute_batch(&batch))
            .await
            .map(|_| ())
    }

    async fn load_table(
        &mut self,
        table: &'static TableData,
        observer: &mut dyn Observer,
    ) -> std::result::Result<(), String> {
        if !self.target.is_remote() {
            return load::load_table(&self.target.conn, table, observer).await;
        }
        observer.table_started(table.name, table.row_count);
        let mut statements = Vec::new();
        let max_statement = REMOTE_STATEMENT_BYTES.min(self.target.settings.request_bytes);
        load::render_table(table, max_statement, |sql, rows| {
            statements.push((sql, rows));
            Ok(())
        })?;
        for (sql, rows) in statements {
            self.exec(&sql).await?;
            observer
                .rows_loaded(table.name, rows)
                .map_err(|reason| format!("loading {}: {reason}", table.name))?;
        }
        Ok(())
    }

    /// Reads rows inside the transaction. On a server this sends what is
    /// pending first, then costs two requests (describe, cursor).
    async fn objects(&mut self) -> std::result::Result<Vec<SchemaObject>, String> {
        self.flush().await?;
        schema_objects(&self.target.conn)
            .await
            .map_err(|e| self.target.scrub(&e))
    }

    async fn commit(mut self) -> std::result::Result<(), String> {
        if self.target.is_remote() {
            self.pending.push_str("COMMIT");
            return self.flush().await;
        }
        self.target
            .bounded(self.target.conn.execute("COMMIT", ()))
            .await
            .map(|_| ())
    }

    async fn rollback(self) {
        if self.target.is_remote() && self.target.conn.is_autocommit() {
            // The server already dropped the stream, and the transaction with it.
            return;
        }
        let _ = self
            .target
            .bounded(self.target.conn.execute("ROLLBACK", ()))
            .await;
    }
}

fn is_busy_text(reason: &str) -> bool {
    reason.contains("database is locked") || reason.contains("SQLITE_BUSY")
}

async fn load(
    target: &Target,
    mode: Mode,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> Result<LoadReport> {
    let started = Instant::now();
    let shown = target.location.to_string();
    let mut phases = Phases {
        last: Some(started),
        ..Phases::default()
    };
    let mut tx = Tx::begin(target).await?;
    phases.mark("lock");

    let outcome = load_in_transaction(&mut tx, mode, opts, observer, &mut phases).await;
    let outcome = match outcome {
        Ok(done) => match tx.commit().await {
            Ok(()) => Ok(done),
            Err(reason)
                if reason.contains("CHECK constraint failed")
                    && reason.contains("fk_violations") =>
            {
                Err(Failure::Step(
                    "checking foreign keys".into(),
                    "some rows refer to missing rows (PRAGMA foreign_key_check)".into(),
                ))
            }
            Err(reason) if is_busy_text(&reason) => {
                return Err(Error::Locked {
                    target: shown,
                    waited: target.settings.lock_timeout,
                });
            }
            Err(reason) => Err(Failure::Step("committing".into(), reason)),
        },
        Err(failure) => {
            tx.rollback().await;
            Err(failure)
        }
    };
    match outcome {
        Ok((dropped, fingerprint, admin_password)) => {
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
                verified: !target.is_remote(),
                admin_password,
                phases: phases.done,
                traffic: target.traffic.as_ref().map(TrafficReport::from),
                elapsed: started.elapsed(),
            })
        }
        Err(Failure::NotEmpty(objects)) => Err(Error::NotEmpty {
            target: shown,
            objects,
        }),
        Err(Failure::Step(step, reason)) => Err(Error::RolledBack {
            target: shown,
            step,
            reason: target.scrub(&reason),
        }),
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
    tx: &mut Tx<'_>,
    mode: Mode,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
    phases: &mut Phases,
) -> std::result::Result<(Vec<SchemaObject>, String, AdminPassword), Failure> {
    let existing = tx.objects().await.map_err(step("reading the schema"))?;
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
            tx.exec(&sql)
                .await
                .map_err(step(&format!("dropping {kind} {}", o.name)))?;
            dropped.push(o.clone());
        }
    }
    phases.mark("drop");

    tx.exec(SEED.schema_sql.trim_end().trim_end_matches(';'))
        .await
        .map_err(step("creating the schema"))?;
    phases.mark("schema");

    for table in opts.profile.seeded_tables() {
        tx.load_table(table, observer)
            .await
            .map_err(step("loading the seed"))?;
    }
    phases.mark("load");

    let admin_password = set_admin_password(tx, opts).await?;

    // The metadata row refuses to exist while any foreign key dangles: the
    // check travels with the last request and fails the COMMIT's batch.
    let expected = opts.profile.fingerprint;
    let meta = format!(
        "CREATE TABLE {META_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL, \
         profile TEXT NOT NULL, seedbake_version TEXT NOT NULL, applied_at TEXT NOT NULL, \
         fk_violations INTEGER NOT NULL CHECK (fk_violations = 0));\n\
         INSERT INTO {META_TABLE} VALUES (1, '{expected}', {}, '{}', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), \
         (SELECT count(*) FROM pragma_foreign_key_check))",
        sql_text(opts.profile.name),
        env!("CARGO_PKG_VERSION"),
    );
    if tx.target.is_remote() {
        tx.exec(&meta)
            .await
            .map_err(step("recording the fingerprint"))?;
        phases.mark("check");
        // Proven after the commit by `verify`: re-reading a server's rows
        // inside the transaction would cost a request per query.
        return Ok((dropped, expected.to_owned(), admin_password));
    }

    let violations = foreign_key_violations(&tx.target.conn)
        .await
        .map_err(step("checking foreign keys"))?;
    if !violations.is_empty() {
        return Err(Failure::Step(
            "checking foreign keys".into(),
            violations.join("; "),
        ));
    }
    phases.mark("check");

    let fp = fingerprint::compute(&tx.target.conn, &SEED.unfingerprinted())
        .await
        .map_err(|e| engine_message(&e))
        .map_err(step("fingerprinting the loaded rows"))?;
    if fp.total != expected {
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
    tx.exec(&meta)
        .await
        .map_err(step("recording the fingerprint"))?;
    Ok((dropped, fp.total, admin_password))
}

fn sql_text(text: &str) -> String {
    let mut out = String::new();
    crate::value::write_sql_literal(&mut out, crate::value::ValueRef::Text(text));
    out
}

async fn set_admin_password(
    tx: &mut Tx<'_>,
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
    // The row exists: the compiler resolved the admin's key to this id.
    let sql = format!(
        "UPDATE {} SET {} = {} WHERE {} = {}",
        quote_ident(admin.table),
        quote_ident(admin.password_column),
        sql_text(&hash),
        quote_ident(admin.id_column),
        admin.id
    );
    tx.exec(&sql)
        .await
        .map_err(step("setting the admin password"))?;
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
