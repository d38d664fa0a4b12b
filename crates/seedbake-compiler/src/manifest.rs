//! `seed.toml`: which file feeds which table, and how.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{ErrorKind, Origin, SeedError};

pub const MANIFEST_FILE: &str = "seed.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The DDL file, run as-is by the engine.
    pub schema: String,
    pub default_profile: String,
    pub profiles: BTreeMap<String, Vec<String>>,
    pub admin: Option<AdminSpec>,
    #[serde(rename = "table", default)]
    pub tables: Vec<TableSpec>,
}

/// The account whose password `INITIAL_ADMIN_PASSWORD` replaces at reset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSpec {
    pub table: String,
    pub key: KeySpec,
    pub password_column: String,
    /// The column `init-admin` looks accounts up by.
    pub username_column: String,
    /// Values `init-admin` gives the account (e.g. `role = "ROOT"`).
    #[serde(default)]
    pub grant: BTreeMap<String, toml::Value>,
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
    /// Number the rows 1, 2, 3… (the rowid alias' default).
    pub auto: Option<bool>,
    /// A constant for every row.
    pub value: Option<toml::Value>,
}

/// How one column gets its value, once the manifest is validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    Field(String),
    Ref { table: String, from: Vec<String> },
    Bcrypt(String),
    Image(String),
    Auto,
    Const(toml::Value),
}

impl Mapping {
    /// The source fields this mapping reads.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Mapping::Field(f) | Mapping::Bcrypt(f) | Mapping::Image(f) => vec![f.as_str()],
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
        if let Some(f) = &map.field {
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
            found.push(Mapping::Image(f.clone()));
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
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => bad(
                "say where the value comes from: one of field, ref, bcrypt, image, auto = true, value",
            ),
            _ => bad("give only one of field, ref, bcrypt, image, auto, value"),
        }
    }
}

/// Parses the manifest text; a syntax error names its line.
pub fn parse(text: &str, file: &str) -> Result<Manifest, SeedError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u64 + 1);
        let origin = match line {
            Some(l) => Origin::line(file, l),
            None => Origin::file(file),
        };
        SeedError::new(ErrorKind::Manifest, origin, e.message().trim().to_owned())
    })
}

/// The line on which `[[table]]` entry number `index` starts, for messages
/// about that entry.
pub fn table_line(text: &str, index: usize) -> Option<u64> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[table]]"))
        .nth(index)
        .map(|(i, _)| i as u64 + 1)
}
