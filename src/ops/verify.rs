//! `verify`: the database's fingerprint against the build's, in one read
//! snapshot, with the first differing rows named and what the last load
//! recorded.

use serde::Serialize;

use super::images;
use super::tx::read_failed;
use super::{RowDifference, TrafficReport, differences, read_schema, text_cell};
use crate::database::{DbError, Target};
use crate::error::Result;
use crate::fingerprint::{self, META_TABLE};
use crate::seed::{self, Profile};

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
    /// The first rows of the seeded tables that differ, named by key and
    /// column.
    pub differences: Vec<RowDifference>,
    /// Why those rows could not be read (the verdict stands without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences_unread: Option<String>,
    pub matches: bool,
    /// The static folder's images, when the caller checked them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<images::ImageCheck>,
    /// What crossed the network, for servers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficReport>,
}

impl VerifyReport {
    /// Neither the database nor the checked images differ from the build.
    pub fn clean(&self) -> bool {
        self.matches && self.images.as_ref().is_none_or(images::ImageCheck::matches)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub fingerprint: String,
    pub profile: String,
    pub seedbake_version: String,
    pub applied_at: String,
}

/// Recomputes the fingerprint from the database's rows and compares it with
/// the build's for `profile` (or the profile the last load recorded).
pub async fn verify(
    target: &dyn Target,
    profile: Option<&'static Profile>,
) -> Result<VerifyReport> {
    target
        .read_snapshot()
        .await
        .map_err(|e| read_failed(target, "starting a read transaction", e))?;
    let report = verify_snapshot(target, profile).await;
    target.end_snapshot().await;
    report.map(|report| VerifyReport {
        traffic: target.traffic(),
        ..report
    })
}

/// `verify` inside one read transaction: one consistent state is read,
/// however long it takes.
async fn verify_snapshot(
    target: &dyn Target,
    profile: Option<&'static Profile>,
) -> Result<VerifyReport> {
    let shown = target.location().to_string();
    // The record is read with the tables (one request on a server), and
    // the fingerprint needs no profile to be computed.
    if read_schema(target)
        .await
        .map_err(|e| read_failed(target, "reading the schema", e))?
        .iter()
        .any(|o| o.name == META_TABLE)
    {
        target.expect(&[recorded_sql()]);
    }
    // The verdict needs nothing more than the fingerprint and the record;
    // the differences named after a mismatch are a help read later.
    target.last_reads();
    let fp = fingerprint::compute(target, &seed::get().unfingerprinted())
        .await
        .map_err(|e| read_failed(target, "fingerprinting the database", e))?;
    let recorded = recorded(target)
        .await
        .map_err(|e| read_failed(target, "reading seedbake's record", e))?;
    let profile = match (profile, &recorded) {
        (Some(p), _) => p,
        (None, Some(r)) => seed::get()
            .profile(&r.profile)
            .unwrap_or_else(|| seed::get().default_profile()),
        (None, None) => seed::get().default_profile(),
    };
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
    let matches = fp.total == profile.fingerprint;
    // The fingerprint has spoken; naming the rows is a help on top of it,
    // and a read that fails here (a server refusing a whole big table in
    // one answer) must not turn a found difference into an error.
    let (differences, differences_unread) = if matches {
        (Vec::new(), None)
    } else {
        match differences::first_differences(target, profile, &differing).await {
            Ok(found) => (found, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        }
    };
    Ok(VerifyReport {
        target: shown,
        profile: profile.name.to_owned(),
        expected: profile.fingerprint.to_owned(),
        matches,
        differences,
        differences_unread,
        actual: fp.total,
        recorded,
        differing,
        images: None,
        traffic: None,
    })
}

/// The row the last load recorded.
fn recorded_sql() -> String {
    format!(
        "SELECT fingerprint, profile, seedbake_version, applied_at FROM {META_TABLE} WHERE id = 1"
    )
}

async fn recorded(target: &dyn Target) -> std::result::Result<Option<Recorded>, DbError> {
    if !read_schema(target)
        .await?
        .iter()
        .any(|o| o.name == META_TABLE)
    {
        return Ok(None);
    }
    let mut found = None;
    target
        .query(&recorded_sql(), &mut |r| {
            let text = |i| text_cell(r, i, META_TABLE);
            found = Some(Recorded {
                fingerprint: text(0)?,
                profile: text(1)?,
                seedbake_version: text(2)?,
                applied_at: text(3)?,
            });
            Ok(())
        })
        .await?;
    Ok(found)
}
