//! What the build knows about changing a live database without wiping it:
//! the migrations (`seed-data/migrations/`, each with its checksum and the
//! schema after it, proven at build time to end at `schema.sql`) and the
//! reference tables (`[[reference]]` in seed.toml) `migrate` keeps equal to
//! the seed by natural key.
//!
//! The operations take a [`Build`]: the embedded one
//! ([`Build::embedded`]), or one a test assembles from a seed it compiled.

use super::TableData;
use crate::schema::SchemaObject;

/// The migrations and reference tables the build embedded.
#[derive(Debug)]
pub struct Migrations {
    /// In version order.
    pub versions: &'static [Migration],
    /// Parents before children.
    pub reference: &'static [ReferenceTable],
}

#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    /// The name after the version, e.g. `kind_notiz`.
    pub name: &'static str,
    /// The file, e.g. `0002_kind_notiz.sql`.
    pub file: &'static str,
    /// The file's text, run as-is.
    pub sql: &'static str,
    /// Hex SHA-256 of the file's bytes.
    pub checksum: &'static str,
    /// The schema after this migration, as the fingerprint sees it.
    pub schema: &'static [SchemaEntry],
}

/// How messages name a migration, applied or in the build: its file's
/// name without `.sql`, `0002_kind_notiz`.
pub fn label(version: i64, name: &str) -> String {
    format!("{version:04}_{name}")
}

impl Migration {
    /// How messages name it: `0002_kind_notiz`.
    pub fn label(&self) -> &'static str {
        self.file.strip_suffix(".sql").unwrap_or(self.file)
    }

    /// The schema after this migration, as
    /// [`crate::fingerprint::canonical_schema`] reads a database's.
    pub fn schema_objects(&self) -> Vec<SchemaObject> {
        self.schema
            .iter()
            .map(|e| SchemaObject {
                kind: e.kind.to_owned(),
                name: e.name.to_owned(),
                table: e.table.to_owned(),
                sql: e.sql.to_owned(),
            })
            .collect()
    }
}

/// One schema object in canonical spelling.
#[derive(Debug)]
pub struct SchemaEntry {
    pub kind: &'static str,
    pub name: &'static str,
    pub table: &'static str,
    pub sql: &'static str,
}

/// A table whose rows the seed owns in a live database.
#[derive(Debug)]
pub struct ReferenceTable {
    pub table: &'static str,
    /// The columns that identify a row.
    pub key: &'static [&'static str],
    /// The rowid alias when it is not part of the key: existing rows keep
    /// theirs, new rows get the next free one.
    pub surrogate: Option<&'static str>,
    pub removed: Removed,
}

/// What `migrate` does with a row of a reference table the seed does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Removed {
    /// Deleted when nothing refers to it; kept and reported otherwise.
    Delete,
    /// Never deleted; reported.
    Keep,
    /// Deleted when nothing refers to it; one that something refers to stops
    /// the migration before anything changes.
    Fail,
}

/// Everything `migrate` and `status` compare a database with.
#[derive(Debug, Clone, Copy)]
pub struct Build {
    pub migrations: &'static [Migration],
    pub reference: &'static [ReferenceTable],
    /// The seeded tables (in load order); reference tables take their rows
    /// from here.
    pub tables: &'static [TableData],
    /// The digest of the schema `schema.sql` makes (the fingerprint's
    /// `(schema)` entry): what a build without migrations measures a
    /// database's schema by.
    pub schema_digest: &'static str,
}

impl Build {
    /// What the installed seed embeds ([`super::get`]).
    pub fn embedded() -> Build {
        let seed = super::get();
        Build {
            migrations: seed.migrations.versions,
            reference: seed.migrations.reference,
            tables: seed.tables,
            schema_digest: seed
                .default_profile()
                .digest(crate::fingerprint::SCHEMA_ENTRY)
                .expect("every profile's fingerprint has the schema's digest"),
        }
    }

    pub fn latest(&self) -> Option<&'static Migration> {
        self.migrations.last()
    }

    pub fn migration(&self, version: i64) -> Option<&'static Migration> {
        self.migrations.iter().find(|m| m.version == version)
    }

    pub fn table(&self, name: &str) -> Option<&'static TableData> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn is_reference(&self, table: &str) -> bool {
        self.reference.iter().any(|r| r.table == table)
    }
}
