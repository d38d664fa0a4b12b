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
    /// Seeded tables, in an order that inserts parents before children.
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

#[derive(Debug)]
pub struct CompiledTable {
    pub schema: schema::Table,
    /// The source file as the user knows it.
    pub file: String,
    /// Every row as the engine stored it, all columns in schema order.
    pub rows: Vec<Vec<Value>>,
    /// The natural key's source fields, and each row's key texts.
    pub key_fields: Vec<String>,
    pub keys: Vec<Vec<String>>,
    /// Columns the fingerprint leaves out (credentials operators rotate).
    pub unfingerprinted: Vec<String>,
}

impl CompiledTable {
    pub fn name(&self) -> &str {
        &self.schema.name
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
