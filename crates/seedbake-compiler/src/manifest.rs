//! `seed.toml`: which file feeds which table, and how.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ErrorKind, Origin, SeedError};

pub const MANIFEST_FILE: &str = "seed.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// What the binary says about the app it seeds (see [`AppSpec`]).
    pub app: Option<At<AppSpec>>,
    /// The DDL file, run as-is by the engine.
    pub schema: String,
    pub default_profile: At<String>,
    pub profiles: BTreeMap<String, At<Vec<String>>>,
    pub admin: Option<At<AdminSpec>>,
    /// Where the app serves the seed's images from.
    pub images: Option<At<ImagesSpec>>,
    /// The values the app fills in itself, per table and column: what every
    /// row seedbake writes gets when nothing else gives the column a value.
    #[serde(default)]
    pub defaults: BTreeMap<String, At<BTreeMap<String, At<toml::Value>>>>,
    /// The time `{ now = true }` and `{ today = true }` stand for in seeded
    /// rows: fixed, so the same seed always builds the same rows.
    pub seed_time: Option<At<String>>,
    #[serde(rename = "table", default)]
    pub tables: Vec<At<TableSpec>>,
    /// Reference data: tables `seedbake migrate` keeps equal to the seed's
    /// rows by natural key (see [`ReferenceSpec`]).
    #[serde(rename = "reference", default)]
    pub references: Vec<At<ReferenceSpec>>,
    /// The manifest as the user knows it (`seed-data/seed.toml`) and its
    /// text, to name the line a value stands on.
    #[serde(skip)]
    file: String,
    #[serde(skip)]
    text: String,
}

impl Manifest {
    /// Where `value` stands: the manifest's file and the line on which the
    /// value (or, for a table such as `[[table]]`, its header) starts.
    pub fn origin<T>(&self, value: &At<T>) -> Origin {
        Origin::line(&self.file, line_of(&self.text, value.0.span().start))
    }
}

/// A manifest value with the place it was read from (see
/// [`Manifest::origin`]); it reads, prints and compares as the value itself.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct At<T>(Spanned<T>);

impl<T> At<T> {
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T> Deref for At<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.get_ref()
    }
}

impl<T: fmt::Debug> fmt::Debug for At<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.get_ref().fmt(f)
    }
}

/// `[app]`: the app the seed belongs to, as the binary presents it. Every
/// key is optional; without them the binary names no app, has no default
/// database and knows no production variable of the app's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// The app's name in help and `info`, e.g. `Aquarius`.
    pub name: Option<At<String>>,
    /// The database used when neither `--database-url` nor `DATABASE_URL`
    /// names one: a path or URL, e.g. `sqlite:///./aquarius.db`.
    pub database: Option<At<String>>,
    /// Environment variables whose being set (to anything but empty) means
    /// the binary runs in production, e.g. `["FLY_APP_NAME"]`.
    #[serde(default)]
    pub production_env: Vec<At<String>>,
}

/// The account whose password `INITIAL_ADMIN_PASSWORD` replaces at reset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSpec {
    pub table: String,
    pub key: KeySpec,
    pub password_column: At<String>,
    /// The column `init-admin` looks accounts up by.
    pub username_column: String,
    /// Values `init-admin` gives the account (e.g. `role = "ADMIN"`).
    #[serde(default)]
    pub grant: BTreeMap<String, toml::Value>,
}

/// `[images]`: the app's static folder, which the embedded images are
/// written into (each at the path its column holds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesSpec {
    /// The default folder, relative to the working directory (the app's
    /// backend folder) unless absolute; `--static-dir` overrides it.
    pub static_dir: At<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeySpec {
    One(String),
    Many(Vec<String>),
}

impl KeySpec {
    pub fn parts(&self) -> Vec<String> {
        match self {
            KeySpec::One(s) => vec![s.clone()],
            KeySpec::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    pub file: String,
    /// JSON only: a JSON pointer (`/figuren`) to the list of records.
    pub records: Option<String>,
    /// Source fields that name a row for references from other tables.
    #[serde(default)]
    pub key: Vec<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
    /// CSV: the field delimiter, one ASCII character (`";"`, `"\t"`).
    pub delimiter: Option<String>,
    /// Source fields read but not stored: no column takes them (a `key`
    /// field may be among them), and the source must have each.
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl TableSpec {
    /// The CSV delimiter as a byte, or why the manifest's cannot be one.
    pub fn delimiter_byte(&self) -> Result<Option<u8>, String> {
        let Some(d) = &self.delimiter else {
            return Ok(None);
        };
        match d.as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Ok(Some(*b)),
            _ => Err(format!(
                "delimiter {d:?} of table {}: give one ASCII character other than a quote or a line break, such as \";\" or \"\\t\"",
                self.name
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    /// `column = "field"`: take the value from a differently named field.
    Field(String),
    Map(ColumnMap),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    pub field: Option<String>,
    /// Resolve `from` in the named table's `key`, giving its referenced column.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub from: Option<Vec<String>>,
    /// Hash this field's plaintext with bcrypt at build time.
    pub bcrypt: Option<String>,
    /// This field is an image path relative to the source file; embed it.
    pub image: Option<String>,
    /// With `image`: the folder put before the path, giving both the value
    /// stored and the file's place below the static folder.
    pub prefix: Option<String>,
    /// Number the rows 1, 2, 3… (the rowid alias' default).
    pub auto: Option<bool>,
    /// A constant for every row.
    pub value: Option<toml::Value>,
    /// `blob = "hex" | "base64" | "file"`: how the field (`field`, or the
    /// column's own name) gives the bytes of a BLOB.
    pub blob: Option<String>,
}

/// How one column gets its value, once the manifest is validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    Field(String),
    Ref {
        table: String,
        from: Vec<String>,
    },
    Bcrypt(String),
    /// An image: the source field and the prefix (`""` for none).
    Image {
        field: String,
        prefix: String,
    },
    Auto,
    Const(toml::Value),
    Blob {
        field: String,
        encoding: BlobEncoding,
    },
}

/// How a source field spells a BLOB's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobEncoding {
    Hex,
    Base64,
    /// A path, relative to the source file's folder, whose bytes are stored.
    File,
}

impl Mapping {
    /// The source fields this mapping reads.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Mapping::Field(f)
            | Mapping::Bcrypt(f)
            | Mapping::Image { field: f, .. }
            | Mapping::Blob { field: f, .. } => {
                vec![f.as_str()]
            }
            Mapping::Ref { from, .. } => from.iter().map(String::as_str).collect(),
            Mapping::Auto | Mapping::Const(_) => vec![],
        }
    }
}

impl ColumnSpec {
    pub fn mapping(
        &self,
        origin: &Origin,
        table: &str,
        column: &str,
    ) -> Result<Mapping, SeedError> {
        let map = match self {
            ColumnSpec::Field(f) => return Ok(Mapping::Field(f.clone())),
            ColumnSpec::Map(m) => m,
        };
        let mut found = Vec::new();
        if let Some(encoding) = &map.blob {
            let encoding = match encoding.as_str() {
                "hex" => BlobEncoding::Hex,
                "base64" => BlobEncoding::Base64,
                "file" => BlobEncoding::File,
                other => {
                    return Err(SeedError::new(
                        ErrorKind::Manifest,
                        origin.clone(),
                        format!(
                            "[table.columns] {column} of table {table}: blob = {other:?}: give \"hex\", \"base64\" or \"file\""
                        ),
                    )
                    .with_field(table, column));
                }
            };
            let field = map.field.clone().unwrap_or_else(|| column.to_owned());
            found.push(Mapping::Blob { field, encoding });
        } else if let Some(f) = &map.field {
            found.push(Mapping::Field(f.clone()));
        }
        if let Some(t) = &map.reference {
            let from = map.from.clone().unwrap_or_else(|| vec![column.to_owned()]);
            found.push(Mapping::Ref {
                table: t.clone(),
                from,
            });
        }
        if let Some(f) = &map.bcrypt {
            found.push(Mapping::Bcrypt(f.clone()));
        }
        if let Some(f) = &map.image {
            found.push(Mapping::Image {
                field: f.clone(),
                prefix: map.prefix.clone().unwrap_or_default(),
            });
        }
        if map.auto == Some(true) {
            found.push(Mapping::Auto);
        }
        if let Some(v) = &map.value {
            found.push(Mapping::Const(v.clone()));
        }
        let bad = |msg: &str| {
            Err(SeedError::new(
                ErrorKind::Manifest,
                origin.clone(),
                format!("[table.columns] {column} of table {table}: {msg}"),
            )
            .with_field(table, column))
        };
        if map.from.is_some() && map.reference.is_none() {
            return bad("`from` is only meaningful with `ref`");
        }
        if let Some(prefix) = &map.prefix {
            if map.image.is_none() {
                return bad("`prefix` is only meaningful with `image`");
            }
            if let Some(problem) = seedbake_core::static_path::prefix_problem(prefix) {
                return bad(&format!(
                    "prefix {prefix:?} cannot name a folder below the static folder: {problem}; \
                     give a relative folder such as \"figuren/\""
                ));
            }
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => bad(
                "say where the value comes from: one of field, ref, bcrypt, image, blob, auto = true, value",
            ),
            _ => bad(
                "give only one of field, ref, bcrypt, image, blob, auto, value (`field` goes with `blob` to name its source field)",
            ),
        }
    }
}

/// A `[[reference]]` entry: a table whose rows the seed owns in a live
/// database. `seedbake migrate` inserts what is missing, updates what
/// changed and keeps the ids of rows that exist, matching rows by `key`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub table: String,
    /// Columns that identify a row in the database. Default: the table's
    /// `key`, when each of its fields fills a column of the same name.
    pub key: Option<Vec<String>>,
    /// What happens to a row the seed no longer has.
    #[serde(default)]
    pub removed: Removed,
}

/// What `migrate` does with a row of a reference table that the seed no
/// longer has (or never had: the app added it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Removed {
    /// Deleted when nothing refers to it; kept and reported otherwise.
    #[default]
    Delete,
    /// Never deleted; reported.
    Keep,
    /// Deleted when nothing refers to it; one that is referred to stops the
    /// migration before anything changes.
    Fail,
}

/// Parses the manifest text; a syntax error names its line.
pub fn parse(text: &str, file: &str) -> Result<Manifest, SeedError> {
    let mut manifest: Manifest = toml::from_str(text).map_err(|e| {
        let origin = match e.span() {
            Some(s) => Origin::line(file, line_of(text, s.start)),
            None => Origin::file(file),
        };
        SeedError::new(ErrorKind::Manifest, origin, e.message().trim().to_owned())
    })?;
    manifest.file = file.to_owned();
    manifest.text = text.to_owned();
    Ok(manifest)
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> u64 {
    text[..offset.min(text.len())].matches('\n').count() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# default_profile, [admin] and password_column named in a comment first
schema = "schema.sql"
default_profile = "full"

[profiles]
full = ["users", "verband"]
minimal = [
    "users",
]

[admin]
table = "users"
key = "admin"
username_column = "username"
password_column = "hashed_password"

[[table]]
name = "users"
file = "users.csv"
[table.columns]
hashed_password = { bcrypt = "password" }

  [[table]]
name = "verband"
file = "verband.csv"
"#;

    fn line<T>(m: &Manifest, at: &At<T>) -> String {
        m.origin(at).to_string()
    }

    #[test]
    fn values_are_placed_by_their_spans() {
        let m = parse(TEXT, "seed-data/seed.toml").unwrap();
        assert_eq!(line(&m, &m.default_profile), "seed-data/seed.toml:3");
        assert_eq!(line(&m, &m.profiles["full"]), "seed-data/seed.toml:6");
        assert_eq!(line(&m, &m.profiles["minimal"]), "seed-data/seed.toml:7");
        let admin = m.admin.as_ref().unwrap();
        assert_eq!(line(&m, admin), "seed-data/seed.toml:11");
        assert_eq!(line(&m, &admin.password_column), "seed-data/seed.toml:15");
        assert_eq!(line(&m, &m.tables[0]), "seed-data/seed.toml:17");
        assert_eq!(line(&m, &m.tables[1]), "seed-data/seed.toml:23");
        // The spans change nothing about the values.
        assert_eq!(*m.default_profile, "full");
        assert_eq!(
            format!("{:?}", admin.password_column),
            "\"hashed_password\""
        );
        assert_eq!(m.tables[1].name, "verband");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = parse("schema = \"s.sql\"\ndefault_profile = [\n", "seed.toml").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Manifest);
        assert!(
            e.to_string().starts_with("seed.toml:2: unclosed array"),
            "{e}"
        );
    }
}
