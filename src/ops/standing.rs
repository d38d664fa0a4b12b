//! What a database is, measured against the build, before any change: its
//! migration records (and whether seedbake wrote them as they are), the
//! versions it has, whether its schema drifted from its recorded version,
//! and at which version one made without migrations can be adopted. Read by
//! `checks` (for `status` and `migrate` alike) and by `migrate` itself.

use serde::Serialize;

use super::tx::sql_text;
use crate::database::{DbError, Target};
use crate::fingerprint::{MIGRATIONS_TABLE, canonical_objects};
use crate::schema::{self, SchemaObject, first_difference};
use crate::seed::migrations::{Build, Migration, label};
use crate::value::ValueRef;

/// What a seed without migrations does to start using them: its first
/// migration is its whole `schema.sql`, which databases made by `reset` have.
pub const START_MIGRATIONS: &str = "this seed has no migrations; to start using them, run the \
    `migration new initial --seed-dir <the seed folder>` command in the app's checkout (it writes \
    migrations/0001_initial.sql, the whole schema.sql) and rebuild: `migrate` then adopts a database \
    made by reset at version 1";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Adoption {
    pub version: i64,
    pub migration: String,
    /// `true`: `--baseline` said so; `false`: the schema left one choice.
    pub by_baseline: bool,
    pub reason: String,
}

/// One row of `_seedbake_migrations`.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: String,
    pub seedbake_version: String,
    /// `migrate`, `reset` or `baseline`.
    pub how: String,
}

/// A recorded migration whose file changed since it was applied.
#[derive(Debug, Clone, Serialize)]
pub struct Modified {
    pub version: i64,
    pub name: String,
    pub recorded_checksum: String,
    pub build_checksum: String,
    pub applied_at: String,
}

/// What a database is, measured against the build, before any change.
#[derive(Debug, Clone)]
pub(crate) struct Standing {
    /// `None`: no `_seedbake_migrations` table (or one it cannot trust).
    pub records: Option<Vec<Record>>,
    /// Why the records cannot be trusted (see [`untrusted_records`]).
    pub untrusted: Option<String>,
    /// No application object at all.
    pub empty: bool,
    pub live_schema: Vec<SchemaObject>,
    /// Recorded versions the build does not have.
    pub unknown: Vec<Record>,
    pub modified: Vec<Modified>,
    /// Build versions not recorded but below a recorded one.
    pub out_of_order: Vec<&'static Migration>,
    /// The version the schema is at: recorded, or 0 for an empty database,
    /// or the one it can be adopted at.
    pub version: Option<i64>,
    pub adoption: Option<Adoption>,
    /// Why the database cannot be adopted (no records, schema matches no
    /// single version).
    pub unadoptable: Option<String>,
    /// The live schema differs from the schema of the recorded version.
    pub drift: Option<String>,
    /// The build has no migrations, the database records none, and its
    /// schema is the build's `schema.sql` (as a reset made it).
    pub unmigrated: bool,
}

impl Standing {
    /// The first reason `migrate` must not touch this database.
    pub(crate) fn refusal(&self, build: &Build) -> Option<String> {
        if let Some(why) = &self.untrusted {
            return Some(why.clone());
        }
        if let Some(r) = self.unknown.first() {
            return Some(format!(
                "the database records migration {} (applied {} by seedbake {}), which this build does not have: \
                 it was migrated by a newer build; migrate it with that build or a newer one",
                label(r.version, &r.name),
                r.applied_at,
                r.seedbake_version
            ));
        }
        if let Some(m) = self.modified.first() {
            return Some(format!(
                "migration {} was applied on {} with checksum {}, but this build's file has checksum {}: \
                 an applied migration must never change; restore the file as it was and put the change in a new migration",
                label(m.version, &m.name),
                m.applied_at,
                short(&m.recorded_checksum),
                short(&m.build_checksum)
            ));
        }
        if let Some(m) = self.out_of_order.first() {
            let last = self
                .records
                .iter()
                .flatten()
                .map(|r| r.version)
                .max()
                .unwrap_or(0);
            return Some(format!(
                "migration {} is not applied, yet a later version ({last}) is: migrations apply in version order; \
                 give {} a version above {last}",
                m.label(),
                m.file
            ));
        }
        if let Some(d) = &self.drift {
            return Some(d.clone());
        }
        if let Some(why) = &self.unadoptable {
            return Some(if build.migrations.is_empty() {
                format!("{why}; {START_MIGRATIONS}")
            } else {
                why.clone()
            });
        }
        if build.migrations.is_empty() && !self.unmigrated {
            return Some(if self.empty {
                format!(
                    "the database is empty, and without migrations migrate cannot create its schema: \
                     run reset or seed; {START_MIGRATIONS}"
                )
            } else {
                START_MIGRATIONS.to_owned()
            });
        }
        None
    }

    /// The migrations the database does not have yet.
    pub(crate) fn pending(&self, build: &Build) -> Vec<&'static Migration> {
        let at = self.version.unwrap_or(0);
        build.migrations.iter().filter(|m| m.version > at).collect()
    }
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

/// Reads what the database holds (its schema is `objects`) and measures it
/// against the build.
pub(crate) async fn standing(
    target: &dyn Target,
    build: &Build,
    baseline: Option<i64>,
    objects: Vec<SchemaObject>,
) -> std::result::Result<Standing, DbError> {
    let has_records = objects
        .iter()
        .any(|o| o.kind == "table" && o.name == MIGRATIONS_TABLE);
    let empty = !objects.iter().any(|o| {
        matches!(o.kind.as_str(), "table" | "view" | "trigger")
            && !schema::is_internal(&o.name)
            && !crate::fingerprint::is_seedbake_table(&o.name)
    });
    let live_schema = canonical_objects(objects);
    let (records, untrusted) = if has_records {
        match read_records(target).await? {
            Ok(records) => (Some(records), None),
            Err(why) => (None, Some(untrusted_records(&why))),
        }
    } else {
        (None, None)
    };

    let mut s = Standing {
        records: records.clone(),
        untrusted,
        empty,
        live_schema,
        unknown: Vec::new(),
        modified: Vec::new(),
        out_of_order: Vec::new(),
        version: None,
        adoption: None,
        unadoptable: None,
        drift: None,
        unmigrated: false,
    };
    if s.untrusted.is_some() {
        return Ok(s);
    }
    match &records {
        Some(records) => {
            for r in records {
                match build.migration(r.version) {
                    None => s.unknown.push(r.clone()),
                    Some(m) if m.checksum != r.checksum => s.modified.push(Modified {
                        version: r.version,
                        name: r.name.clone(),
                        recorded_checksum: r.checksum.clone(),
                        build_checksum: m.checksum.to_owned(),
                        applied_at: r.applied_at.clone(),
                    }),
                    Some(_) => {}
                }
            }
            let last = records.iter().map(|r| r.version).max();
            if let Some(last) = last {
                s.out_of_order = build
                    .migrations
                    .iter()
                    .filter(|m| m.version < last && !records.iter().any(|r| r.version == m.version))
                    .collect();
            }
            if baseline.is_some() {
                s.unadoptable = Some(format!(
                    "the database is under migrations already (at version {}); --baseline is only for a database made without them",
                    last.unwrap_or(0)
                ));
            }
            s.version = Some(last.unwrap_or(0));
            if let Some(m) = last.and_then(|v| build.migration(v))
                && s.unknown.is_empty()
                && s.modified.is_empty()
                && let Some(d) = first_difference(
                    &s.live_schema,
                    &m.schema_objects(),
                    "in the database",
                    &format!("{} (its recorded version)", m.label()),
                )
            {
                s.drift = Some(format!(
                    "its schema is not the schema of the version it records: {d}. Someone changed it outside the migrations: \
                     undo the change, or put it in a migration (`{} status` shows the drift)",
                    crate::program::name()
                ));
            }
        }
        None if s.empty => {
            if baseline.is_some() {
                s.unadoptable = Some(
                    "the database is empty, so there is nothing to adopt: run migrate without --baseline (it applies every migration), or reset"
                        .into(),
                );
            }
            s.version = Some(0);
        }
        None if build.migrations.is_empty() => without_migrations(&mut s, build, baseline),
        None => adopt(&mut s, build, baseline),
    }
    Ok(s)
}

/// A build without migrations and a database that records none: fine as
/// long as its schema is the one `schema.sql` makes (right after a reset).
fn without_migrations(s: &mut Standing, build: &Build, baseline: Option<i64>) {
    if let Some(v) = baseline {
        s.unadoptable = Some(format!(
            "--baseline {v}: this seed has no migration to adopt the database at"
        ));
    } else if crate::fingerprint::schema_objects_digest(&s.live_schema) == build.schema_digest {
        s.unmigrated = true;
    } else {
        s.unadoptable = Some(
            "its schema is not the one this build's schema.sql makes, and without migrations nothing can \
             bring it there but a reset (which replaces its rows)"
                .into(),
        );
    }
}

/// A database made without migrations (by an earlier reset, or another
/// seeder): the version whose schema it has.
fn adopt(s: &mut Standing, build: &Build, baseline: Option<i64>) {
    let matching: Vec<&Migration> = build
        .migrations
        .iter()
        .filter(|m| m.schema_objects() == s.live_schema)
        .collect();
    match baseline {
        Some(v) => {
            let Some(m) = build.migration(v) else {
                let known: Vec<String> = build
                    .migrations
                    .iter()
                    .map(|m| m.version.to_string())
                    .collect();
                s.unadoptable = Some(format!(
                    "--baseline {v}: this build has no migration {v} (it has {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ));
                return;
            };
            if let Some(d) = first_difference(
                &s.live_schema,
                &m.schema_objects(),
                "in the database",
                m.label(),
            ) {
                s.unadoptable = Some(format!(
                    "--baseline {v}: the database's schema is not the schema after {}: {d}",
                    m.label()
                ));
                return;
            }
            s.version = Some(v);
            s.adoption = Some(Adoption {
                version: v,
                migration: m.label().to_owned(),
                by_baseline: true,
                reason: format!(
                    "--baseline {v}, and its schema equals the schema after {}",
                    m.label()
                ),
            });
        }
        None => match matching.as_slice() {
            [m] => {
                s.version = Some(m.version);
                s.adoption = Some(Adoption {
                    version: m.version,
                    migration: m.label().to_owned(),
                    by_baseline: false,
                    reason: format!(
                        "it records no migrations, and its schema equals the schema after {} and no other version's",
                        m.label()
                    ),
                });
            }
            [] => {
                let nearest = build.migrations.iter().min_by_key(|m| {
                    let theirs = m.schema_objects();
                    let differing = theirs.iter().filter(|o| !s.live_schema.contains(o)).count()
                        + s.live_schema.iter().filter(|o| !theirs.contains(o)).count();
                    (differing, std::cmp::Reverse(m.version))
                });
                s.unadoptable = Some(match nearest {
                    Some(m) => format!(
                        "it records no migrations, and its schema is not the schema of any version of this build; \
                         the nearest is {}: {}. Make the schema match (or reset the database)",
                        m.label(),
                        first_difference(
                            &s.live_schema,
                            &m.schema_objects(),
                            "in the database",
                            m.label()
                        )
                        .unwrap_or_default()
                    ),
                    None => "it records no migrations, and this build has none".into(),
                });
            }
            several => {
                let labels: Vec<&str> = several.iter().map(|m| m.label()).collect();
                s.unadoptable = Some(format!(
                    "it records no migrations, and its schema equals the schema after each of {} (a migration that \
                     changes no schema cannot be told from its schema): say which with --baseline <version>",
                    labels.join(", ")
                ));
            }
        },
    }
}

/// The columns seedbake writes to `_seedbake_migrations` and reads back.
const RECORD_COLUMNS: [&str; 6] = [
    "version",
    "name",
    "checksum",
    "applied_at",
    "seedbake_version",
    "how",
];

/// The records, or why they are not as seedbake writes them (then nothing
/// they say can be trusted: see [`untrusted_records`]).
async fn read_records(
    target: &dyn Target,
) -> std::result::Result<std::result::Result<Vec<Record>, String>, DbError> {
    let mut out = Vec::new();
    let mut wrong: Option<String> = None;
    let read = target
        .query(
            &format!(
                "SELECT {} FROM {MIGRATIONS_TABLE} ORDER BY version",
                RECORD_COLUMNS.join(", ")
            ),
            &mut |r| {
                if wrong.is_none() {
                    match record_of(r) {
                        Ok(record) => out.push(record),
                        Err(why) => wrong = Some(why),
                    }
                }
                Ok(())
            },
        )
        .await;
    if let Err(e) = read {
        // A missing column fails the query itself; only then is it worth
        // a second request to tell which.
        return match missing_record_columns(target).await {
            Ok(missing) if !missing.is_empty() => {
                Ok(Err(format!("it has no column {}", missing.join(", "))))
            }
            _ => Err(e),
        };
    }
    if let Some(why) = wrong {
        return Ok(Err(why));
    }
    if out.is_empty() {
        return Ok(Err(
            "it holds no row, and seedbake never leaves it empty".into()
        ));
    }
    if let Some(w) = out.windows(2).find(|w| w[0].version == w[1].version) {
        return Ok(Err(format!("version {} is recorded twice", w[0].version)));
    }
    Ok(Ok(out))
}

async fn missing_record_columns(
    target: &dyn Target,
) -> std::result::Result<Vec<&'static str>, DbError> {
    let mut present: Vec<String> = Vec::new();
    target
        .query(
            &format!(
                "SELECT name FROM pragma_table_info({})",
                sql_text(MIGRATIONS_TABLE)
            ),
            &mut |r| {
                if let [ValueRef::Text(c)] = r {
                    present.push((*c).to_owned());
                }
                Ok(())
            },
        )
        .await?;
    Ok(RECORD_COLUMNS
        .into_iter()
        .filter(|c| !present.iter().any(|p| p == c))
        .collect())
}

/// One row of the records as seedbake writes it: an integer version, and
/// text everywhere else.
fn record_of(r: &[ValueRef<'_>]) -> std::result::Result<Record, String> {
    let version = match r.first() {
        Some(ValueRef::Integer(v)) => *v,
        other => {
            return Err(format!("a version is {}, not an integer", described(other)));
        }
    };
    let text = |i: usize| match r.get(i) {
        Some(ValueRef::Text(t)) => Ok((*t).to_owned()),
        other => Err(format!(
            "version {version} has {} as its {}, not text",
            described(other),
            RECORD_COLUMNS[i]
        )),
    };
    let record = Record {
        version,
        name: text(1)?,
        checksum: text(2)?,
        applied_at: text(3)?,
        seedbake_version: text(4)?,
        how: text(5)?,
    };
    if !["migrate", "reset", "baseline"].contains(&record.how.as_str()) {
        return Err(format!(
            "version {version} has how = {:?}, which is none of migrate, reset, baseline",
            record.how
        ));
    }
    Ok(record)
}

fn described(v: Option<&ValueRef<'_>>) -> String {
    match v {
        None => "no value".into(),
        Some(ValueRef::Null) => "NULL".into(),
        Some(ValueRef::Integer(i)) => format!("the integer {i}"),
        Some(ValueRef::Real(r)) => format!("the real {r:?}"),
        Some(ValueRef::Text(t)) => format!("the text {t:?}"),
        Some(ValueRef::RawText(_)) => "text that is not UTF-8".into(),
        Some(ValueRef::Blob(_)) => "a blob".into(),
    }
}

/// The one rule for records seedbake did not write as they are (emptied,
/// a value of the wrong type or NULL, a column missing): `status`,
/// `migrate` and `--baseline` all refuse the database, saying how to let
/// `migrate` adopt it by its schema instead.
fn untrusted_records(why: &str) -> String {
    format!(
        "its migration records ({MIGRATIONS_TABLE}) are not as seedbake writes them: {why}; so which migrations it \
         has cannot be told from them. If its schema is as a version of this build made it, drop that table \
         (DROP TABLE {MIGRATIONS_TABLE}) and run migrate again: it then adopts the database by its schema (or at \
         --baseline <version>), as one made without migrations"
    )
}
