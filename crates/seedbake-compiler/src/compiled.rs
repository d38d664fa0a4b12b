//! What a compiled seed is: the checked tables, profiles, admin account and
//! images that the generated module embeds.

use std::path::PathBuf;

use seedbake_core::fingerprint::Fingerprint;
use seedbake_core::schema;
use seedbake_core::value::Value;

use crate::CompiledDefault;

/// A seed checked and ready to embed.
#[derive(Debug)]
pub struct Compiled {
    /// `[app]`: the app's name, default database and production variables.
    pub app: crate::CompiledApp,
    pub schema_sql: String,
    /// `seed.toml` exactly as written: `extract` writes a seed folder back
    /// with the manifest's own files and mappings.
    pub manifest: String,
    /// Each JSON source (its file, relative to the seed folder) with its
    /// records list emptied to `[]`: the rest of the document as written,
    /// which `extract` puts the database's records back into.
    pub documents: Vec<(String, String)>,
    /// Seeded tables in the manifest's order: the order the build inserted
    /// them in, and so the order a reset inserts them in.
    pub tables: Vec<CompiledTable>,
    pub profiles: Vec<CompiledProfile>,
    pub default_profile: String,
    pub admin: Option<CompiledAdmin>,
    pub images: Vec<Image>,
    /// `[images] static_dir`: where the app serves the images from, unless
    /// the operator says otherwise.
    pub static_dir: Option<String>,
    /// `[defaults]`: what rows written outside the seed files get.
    pub defaults: Vec<CompiledDefault>,
    /// `migrations/`, in version order (empty when the seed has none).
    pub migrations: Vec<crate::CompiledMigration>,
    /// The `[[reference]]` tables, parents first.
    pub reference: Vec<crate::CompiledReference>,
    /// Things worth saying that do not stop the build.
    pub warnings: Vec<String>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

impl Compiled {
    /// The profile `reset` loads when none is named (the compiler checks
    /// that the manifest's `default_profile` is one of its profiles).
    pub fn default_profile(&self) -> &CompiledProfile {
        self.profiles
            .iter()
            .find(|p| p.name == self.default_profile)
            .expect("the compiler checks the default profile")
    }
}

#[derive(Debug)]
pub struct CompiledTable {
    pub schema: schema::Table,
    /// The source file as the user knows it.
    pub file: String,
    /// Every row as the engine stored it when it was inserted (affinity
    /// applied, defaults filled in, before any AFTER trigger), all columns
    /// in schema order.
    pub rows: Vec<Vec<Value>>,
    /// Which columns the seed gives a value (schema order). Only these are
    /// embedded and bound at run time: the rest are the engine's (its
    /// DEFAULT, a generated value or NULL), so a reset inserts exactly the
    /// source rows, once, and the triggers fire once.
    pub inserted: Vec<bool>,
    /// The natural key's source fields, and each row's key texts.
    pub key_fields: Vec<String>,
    pub keys: Vec<Vec<String>>,
    /// The rows by natural key, for references from other tables.
    pub(crate) index: crate::keys::KeyIndex,
    /// Columns the fingerprint leaves out (credentials operators rotate).
    pub unfingerprinted: Vec<String>,
}

impl CompiledTable {
    pub fn name(&self) -> &str {
        &self.schema.name
    }

    /// The positions of the columns the seed gives, in schema order.
    pub fn inserted_columns(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.inserted.len()).filter(|&i| self.inserted[i])
    }

    /// The columns the binary embeds (those the seed gives), in order.
    pub fn embedded_columns(&self) -> impl Iterator<Item = &schema::Column> + '_ {
        self.inserted_columns().map(|i| &self.schema.columns[i])
    }
}

#[derive(Debug)]
pub struct CompiledProfile {
    pub name: String,
    pub tables: Vec<String>,
    pub fingerprint: Fingerprint,
}

#[derive(Debug)]
pub struct CompiledAdmin {
    pub table: String,
    pub password_column: String,
    pub username_column: String,
    /// Column values `init-admin` sets, checked against the column types.
    pub grant: Vec<(String, Value)>,
    /// The row's rowid alias column and value.
    pub id_column: String,
    pub id: i64,
    /// The natural key as written in seed.toml, e.g. `admin`.
    pub key: String,
}

#[derive(Debug)]
pub struct Image {
    /// The value stored in the column and the file's path below the app's
    /// static folder, e.g. `figuren/images/f01-balletbein.png`.
    pub path: String,
    pub table: String,
    pub column: String,
    pub file: PathBuf,
    pub media_type: &'static str,
}
