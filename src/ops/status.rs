//! `status`: what differs between a database and the build, changing
//! nothing: pending, unknown or modified migrations, schema drift, and
//! reference tables out of date. In step means `migrate` would change
//! nothing; every reason it would refuse the database is found by the very
//! checks it runs (see `checks`).

use serde::Serialize;

use super::checks::{self, LastReads, ReadFailure, SyncNow};
use super::reference::TableSync;
use super::standing::{Adoption, Modified, Record};
use super::tx::read_failed;
use crate::database::Target;
use crate::error::Result;
use crate::seed::migrations::Build;

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub target: String,
    /// The build's latest version (`None`: it has no migrations).
    pub latest: Option<i64>,
    /// The version the database records (`None`: it records none).
    pub recorded: Option<i64>,
    pub applied: Vec<Record>,
    /// `_seedbake_migrations` is not as seedbake writes it (emptied, a
    /// value of the wrong type, a column missing): nothing it says is
    /// trusted, and `migrate` refuses (see `refusals`).
    pub records_untrusted: bool,
    pub pending: Vec<Pending>,
    /// Recorded versions this build does not have.
    pub unknown: Vec<Record>,
    /// Recorded migrations whose file has changed since.
    pub modified: Vec<Modified>,
    /// Not applied, though a later version is.
    pub out_of_order: Vec<Pending>,
    /// The live schema is not the schema of the recorded version.
    pub drift: Option<String>,
    /// A database without records: the version `migrate` would adopt it at…
    pub adoptable: Option<Adoption>,
    /// …or why it cannot.
    pub not_adoptable: Option<String>,
    pub empty: bool,
    pub reference: Vec<TableSync>,
    /// Nothing for `migrate` to do.
    pub in_step: bool,
    /// Why `migrate` would refuse the database (it then exits 9, and so
    /// does `status`); empty: it would not.
    pub refusals: Vec<String>,
    /// What would make `migrate` refuse the reference data as it is now;
    /// the pending migrations run first and may change it, so `migrate`
    /// decides after them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after_migrations: Vec<String>,
    /// A seed without migrations: how to start using them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_migrations: Option<&'static str>,
    /// What crossed the network, for servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<super::TrafficReport>,
}

impl StatusReport {
    /// `migrate` would exit 9: for a reason found now, or one the reference
    /// data as it is now gives it after the pending migrations (unless
    /// they change those rows).
    pub fn migrate_would_refuse(&self) -> bool {
        !self.refusals.is_empty() || !self.after_migrations.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub version: i64,
    pub name: String,
}

/// Compares the database with the build in one read transaction.
pub async fn status(target: &dyn Target, build: &Build) -> Result<StatusReport> {
    checks::expect_first_reads(target);
    target
        .read_snapshot()
        .await
        .map_err(|e| read_failed(target, "starting a read", e))?;
    let report = status_in_snapshot(target, build).await;
    target.end_snapshot().await;
    report.map(|report| StatusReport {
        traffic: target.traffic(),
        ..report
    })
}

async fn status_in_snapshot(target: &dyn Target, build: &Build) -> Result<StatusReport> {
    // A database in step is read to its end with the records and the
    // reference rows: the snapshot may end with them.
    let a = checks::assess(target, build, None, SyncNow::Always, LastReads::Always)
        .await
        .map_err(|ReadFailure(what, e)| read_failed(target, what, e))?;
    let s = &a.standing;
    let reference = a.tables;
    let pending: Vec<Pending> = if s.version.is_none() {
        Vec::new()
    } else {
        s.pending(build)
            .iter()
            .map(|m| Pending {
                version: m.version,
                name: m.name.to_owned(),
            })
            .collect()
    };
    let recorded = s
        .records
        .as_ref()
        .and_then(|r| r.iter().map(|r| r.version).max());
    let in_step = a.refusals.is_empty()
        && (s.records.is_some() || s.unmigrated)
        && pending.is_empty()
        && reference
            .iter()
            .all(|t| !t.changes() && t.not_compared.is_none());
    Ok(StatusReport {
        target: target.location().to_string(),
        latest: build.latest().map(|m| m.version),
        recorded,
        applied: s.records.clone().unwrap_or_default(),
        records_untrusted: s.untrusted.is_some(),
        pending,
        unknown: s.unknown.clone(),
        modified: s.modified.clone(),
        out_of_order: s
            .out_of_order
            .iter()
            .map(|m| Pending {
                version: m.version,
                name: m.name.to_owned(),
            })
            .collect(),
        drift: s.drift.clone(),
        adoptable: s.adoption.clone(),
        not_adoptable: if s.records.is_none() {
            s.unadoptable.clone()
        } else {
            None
        },
        empty: s.empty,
        reference,
        in_step,
        refusals: a.refusals,
        after_migrations: a.after_migrations,
        start_migrations: build
            .migrations
            .is_empty()
            .then_some(super::standing::START_MIGRATIONS),
        traffic: None,
    })
}
