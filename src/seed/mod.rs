//! The seed embedded at build time, with a typed face.
//!
//! With the `builtin-seed` feature (the default), `build.rs` compiles
//! `seed-data/` into one generated file under `OUT_DIR`, included here:
//! [`SEED`] describes the whole seed, and [`tables`] holds one typed struct
//! per seeded table. An app's own crate includes the same kind of file,
//! compiled from its own folder, and hands its `SEED` to
//! [`crate::cli::main`] (or [`install`]s it); the operations use whichever
//! seed is installed ([`get`]).
//!
//! ```
//! # #[cfg(feature = "builtin-seed")] {
//! use seedbake::seed::tables::Figur;
//! let ballettbein = Figur::all().find(|f| f.name == "Ballettbein").unwrap();
//! assert_eq!(ballettbein.id, 1);
//! assert_eq!(Figur::by_key(&["F01"]).unwrap().name, "Ballettbein");
//! # }
//! ```

pub mod convert;
pub mod migrations;

use std::sync::OnceLock;

use crate::value::{Decoder, ValueRef};

#[cfg(feature = "builtin-seed")]
include!(concat!(env!("OUT_DIR"), "/seed.rs"));

/// The seed this process works with, once chosen.
static INSTALLED: OnceLock<&'static Seed> = OnceLock::new();

/// Makes `seed` the one the operations use, for the rest of the process.
/// The first seed installed stays: `false` when another one was already.
pub fn install(seed: &'static Seed) -> bool {
    std::ptr::eq(*INSTALLED.get_or_init(|| seed), seed)
}

/// The installed seed; before one is, this repository's own (built in).
pub fn get() -> &'static Seed {
    match INSTALLED.get() {
        Some(seed) => seed,
        None => builtin(),
    }
}

#[cfg(feature = "builtin-seed")]
fn builtin() -> &'static Seed {
    &SEED
}

#[cfg(not(feature = "builtin-seed"))]
fn builtin() -> &'static Seed {
    panic!(
        "no seed installed: this build has no built-in seed (the builtin-seed feature is off), so hand the \
         app's seed to seedbake::cli::main or seedbake::seed::install first"
    )
}

/// Everything the build embedded.
#[derive(Debug)]
pub struct Seed {
    /// `schema.sql` exactly as written; a reset runs it as-is.
    pub schema_sql: &'static str,
    /// Seeded tables in the order the build inserted them (the manifest's);
    /// a reset inserts them in the same order, foreign keys checked after.
    pub tables: &'static [TableData],
    pub profiles: &'static [Profile],
    pub default_profile: &'static str,
    /// The account `INITIAL_ADMIN_PASSWORD` applies to.
    pub admin: Option<Admin>,
    pub images: &'static [Image],
    /// `[images] static_dir`: the app's static folder the images go to when
    /// the operator names none (relative to the working directory).
    pub static_dir: Option<&'static str>,
    /// `[defaults]`: the values the app fills in itself, which every row
    /// seedbake writes outside the seed files gets.
    pub defaults: &'static [ColumnDefault],
    /// `migrations/` and `[[reference]]`.
    pub migrations: &'static migrations::Migrations,
    /// `[app]`: how the binary presents the app.
    pub app: App,
    /// `seed.toml` as written: `extract` writes the seed folder back in the
    /// manifest's own files and mappings.
    pub manifest: &'static str,
    /// Each JSON source file (relative to the seed folder) with its records
    /// list emptied to `[]`: the document `extract` puts records back into.
    pub documents: &'static [(&'static str, &'static str)],
}

/// `[app]` of seed.toml: what the binary says about the app it seeds.
#[derive(Debug, Clone, Copy)]
pub struct App {
    /// In help and `info`; `None`: the binary names no app.
    pub name: Option<&'static str>,
    /// The database used when neither `--database-url` nor `DATABASE_URL`
    /// names one; `None`: one of them must.
    pub database: Option<&'static str>,
    /// Variables whose being set (non-empty) means production.
    pub production_env: &'static [&'static str],
}

#[derive(Debug)]
pub struct TableData {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub row_count: usize,
    /// The rows, encoded by [`crate::value::encode_value`], all columns.
    pub rows: &'static [u8],
    pub key_fields: &'static [&'static str],
    /// Each row's natural key, as text values.
    pub keys: &'static [u8],
    /// Columns the fingerprint leaves out.
    pub unfingerprinted: &'static [&'static str],
}

/// A column of a seeded table, as its schema declares it.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub declared_type: &'static str,
    pub not_null: bool,
    pub primary_key: bool,
}

#[derive(Debug)]
pub struct Profile {
    pub name: &'static str,
    pub tables: &'static [&'static str],
    /// The fingerprint a database seeded with this profile has.
    pub fingerprint: &'static str,
    /// The per-table digests behind it (`(schema)` first).
    pub digests: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Clone, Copy)]
pub struct Admin {
    pub table: &'static str,
    pub password_column: &'static str,
    pub id_column: &'static str,
    pub id: i64,
    /// The natural key the manifest names, e.g. `admin`.
    pub key: &'static str,
    /// The column `init-admin` finds accounts by.
    pub username_column: &'static str,
    /// What `init-admin` sets besides the password.
    pub grant: &'static [(&'static str, ValueRef<'static>)],
}

#[derive(Debug)]
pub struct Image {
    /// As stored in the column, and the file's path below the app's static
    /// folder: e.g. `figuren/images/f01-balletbein.png`.
    pub path: &'static str,
    pub table: &'static str,
    pub column: &'static str,
    /// From the bytes, not the file name.
    pub media_type: &'static str,
    pub bytes: &'static [u8],
}

/// One column's default, as `[defaults.<table>]` declares it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDefault {
    pub table: &'static str,
    pub column: &'static str,
    pub value: DefaultValue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    Value(ValueRef<'static>),
    /// The current UTC time, in the app's spelling: `2025-09-01 08:00:00.000000`.
    Now,
    /// The current UTC date: `2025-09-01`.
    Today,
}

impl DefaultValue {
    /// The value a row written at `now` takes.
    pub fn at(&self, now: time::OffsetDateTime) -> crate::value::Value {
        use crate::value::Value;
        let now = now.to_offset(time::UtcOffset::UTC);
        match self {
            DefaultValue::Value(v) => Value::from(*v),
            DefaultValue::Now => Value::Text(
                now.format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]"
                ))
                .expect("a UTC time always formats"),
            ),
            DefaultValue::Today => Value::Text(
                now.format(time::macros::format_description!("[year]-[month]-[day]"))
                    .expect("a UTC date always formats"),
            ),
        }
    }
}

impl Seed {
    /// The declared defaults of `table`.
    pub fn defaults_of<'a>(
        &self,
        table: &'a str,
    ) -> impl Iterator<Item = &'static ColumnDefault> + use<'a> {
        let defaults: &'static [ColumnDefault] = self.defaults;
        defaults.iter().filter(move |d| d.table == table)
    }

    pub fn table(&self, name: &str) -> Option<&'static TableData> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn profile(&self, name: &str) -> Option<&'static Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    pub fn default_profile(&self) -> &'static Profile {
        self.profile(self.default_profile)
            .expect("the compiler checks that the default profile exists")
    }

    pub fn image(&self, path: &str) -> Option<&'static Image> {
        self.images.iter().find(|i| i.path == path)
    }

    /// `(table, column)` pairs the fingerprint leaves out.
    pub fn unfingerprinted(&self) -> Vec<(&'static str, &'static str)> {
        self.tables
            .iter()
            .flat_map(|t| t.unfingerprinted.iter().map(move |c| (t.name, *c)))
            .collect()
    }
}

impl Profile {
    pub fn includes(&self, table: &str) -> bool {
        self.tables.contains(&table)
    }

    /// The seeded tables of this profile, in load order.
    pub fn seeded_tables(&self) -> impl Iterator<Item = &'static TableData> + use<> {
        let tables = self.tables;
        get()
            .tables
            .iter()
            .filter(move |t| tables.contains(&t.name))
    }

    pub fn row_count(&self) -> usize {
        self.seeded_tables().map(|t| t.row_count).sum()
    }

    pub fn digest(&self, entry: &str) -> Option<&'static str> {
        self.digests
            .iter()
            .find(|(n, _)| *n == entry)
            .map(|(_, d)| *d)
    }
}

impl TableData {
    /// Every row as its column values, in seed order.
    pub fn rows(&self) -> impl Iterator<Item = Vec<ValueRef<'static>>> + use<> {
        let width = self.columns.len();
        let mut decoder = Decoder::new(self.rows);
        std::iter::from_fn(move || {
            (!decoder.is_empty()).then(|| (0..width).map(|_| decoder.next_value()).collect())
        })
    }

    /// A decoder over the raw rows, for loading without allocation.
    pub fn decoder(&self) -> Decoder<'static> {
        Decoder::new(self.rows)
    }

    /// The position of the row with this natural key.
    pub fn find_key(&self, key: &[&str]) -> Option<usize> {
        let width = self.key_fields.len();
        if width == 0 || key.len() != width {
            return None;
        }
        let mut decoder = Decoder::new(self.keys);
        let mut index = 0;
        while !decoder.is_empty() {
            let mut all = true;
            for part in key {
                all &= decoder.next_value() == ValueRef::Text(part);
            }
            if all {
                return Some(index);
            }
            index += 1;
        }
        None
    }

    /// The column names, quoted and comma-separated, for SQL.
    pub fn quoted_columns(&self) -> String {
        self.columns
            .iter()
            .map(|c| crate::schema::quote_ident(c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn now_and_today_are_utc_in_the_apps_spelling() {
        let at = time::macros::datetime!(2025-12-31 23:30:00.25 -02:00);
        assert_eq!(
            DefaultValue::Now.at(at),
            Value::Text("2026-01-01 01:30:00.250000".into())
        );
        assert_eq!(DefaultValue::Today.at(at), Value::Text("2026-01-01".into()));
        assert_eq!(
            DefaultValue::Value(ValueRef::Integer(0)).at(at),
            Value::Integer(0)
        );
    }
}
