//! One cell's value, by how the manifest maps its column: a field checked
//! against the column's type, a constant, a row number, a bcrypt hash, an
//! image path or a reference to another table's row by natural key.

use std::path::Path;

use seedbake_core::credentials::hash_seed_password;
use seedbake_core::schema;
use seedbake_core::static_path;
use seedbake_core::value::{ColumnKind, Value};

use crate::error::{ErrorKind, Origin, SeedError};
use crate::manifest::{BlobEncoding, Mapping};
use crate::source::{Cell, Record};
use crate::{CompiledTable, Compiler};

impl Compiler {
    /// The value of `table.col` for `record`, row `index` of the file at
    /// `source_path`; `done` holds the tables seeded before this one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn value(
        &mut self,
        table: &schema::Table,
        col: &schema::Column,
        mapping: &Mapping,
        record: &Record,
        index: usize,
        source_path: &Path,
        done: &[CompiledTable],
    ) -> Result<Value, SeedError> {
        let kind = ColumnKind::from_declared(&col.declared_type);
        let field_origin = |f: &str| record.origin.field(f);
        let type_error = |f: &str, msg: String| {
            SeedError::new(
                ErrorKind::Type,
                field_origin(f),
                format!("{}.{}: {msg}", table.name, col.name),
            )
            .with_field(&table.name, &col.name)
        };
        let cell = |f: &str| record.get(f).cloned().unwrap_or(Cell::Null);
        match mapping {
            Mapping::Auto => Ok(Value::Integer(index as i64 + 1)),
            Mapping::Field(f) => {
                let value = match cell(f) {
                    Cell::Null => Ok(Value::Null),
                    Cell::Text(t) => kind.parse_text(&t),
                    Cell::Json(j) => kind.parse_json(&j),
                }
                .map_err(|m| type_error(f, m))?;
                if kind == ColumnKind::Blob && matches!(value, Value::Text(_)) {
                    let warning = format!(
                        "{}: {}.{} is a BLOB column without a mapping, so its cells are stored as the text they are \
                         (as sqlite3 stores them); to store bytes, map it in seed.toml: {} = {{ blob = \"hex\" }} \
                         (or \"base64\", \"file\")",
                        record.origin.file, table.name, col.name, col.name
                    );
                    if !self.warnings.contains(&warning) {
                        self.warnings.push(warning);
                    }
                }
                Ok(value)
            }
            Mapping::Blob { field: f, encoding } => {
                let c = cell(f);
                if c.is_null() {
                    return Ok(Value::Null);
                }
                let text = c.key_text();
                let bytes = match encoding {
                    BlobEncoding::Hex => {
                        // PostgreSQL writes bytea as \x…, others 0x….
                        let t = text.trim();
                        let digits = t
                            .strip_prefix("\\x")
                            .or_else(|| t.strip_prefix("0x"))
                            .unwrap_or(t);
                        seedbake_core::hex::decode(digits)
                            .map_err(|why| format!("is not hexadecimal, two digits a byte ({why})"))
                    }
                    BlobEncoding::Base64 => base64::Engine::decode(
                        &base64::engine::general_purpose::STANDARD,
                        text.trim(),
                    )
                    .map_err(|e| format!("is not base64 ({e})")),
                    // Only files inside the source file's folder: a seed
                    // must not embed whatever else the build machine holds.
                    BlobEncoding::File if escapes(&text) => Err(
                        "names a file outside the source file's folder (an absolute path or ..); \
                         keep the files beside the source"
                            .to_owned(),
                    ),
                    BlobEncoding::File => {
                        let file = source_path.parent().unwrap_or(Path::new(".")).join(&text);
                        self.inputs.push(file.clone());
                        std::fs::read(&file).map_err(|e| {
                            format!(
                                "names a file that cannot be read ({e}); expected at {}",
                                file.display()
                            )
                        })
                    }
                }
                .map_err(|why| {
                    let shown: String = text.chars().take(40).collect();
                    type_error(f, format!("{shown:?} {why}"))
                })?;
                Ok(Value::Blob(bytes))
            }
            Mapping::Const(v) => {
                let json = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
                kind.parse_json(&json).map_err(|m| type_error(&col.name, m))
            }
            Mapping::Bcrypt(f) => {
                let c = cell(f);
                if c.is_empty() {
                    return Ok(Value::Null);
                }
                let plain = c.key_text();
                Ok(Value::Text(hash_seed_password(
                    &table.name,
                    &col.name,
                    index,
                    &plain,
                )))
            }
            Mapping::Image { field: f, prefix } => {
                let c = cell(f);
                if c.is_empty() {
                    return Ok(Value::Null);
                }
                let rel = c.key_text();
                // The app's spelling: the value is the file's path below its
                // static folder, which is also where the file is delivered.
                let stored = format!("{prefix}{rel}");
                if let Some(problem) = static_path::problem(&stored) {
                    return Err(SeedError::new(
                        ErrorKind::ImagePath,
                        field_origin(f),
                        format!(
                            "{}.{}: the image path {stored:?} cannot be delivered below the static folder: {problem}",
                            table.name, col.name
                        ),
                    )
                    .with_field(&table.name, &col.name));
                }
                self.embed_image(table, col, &rel, &stored, field_origin(f), source_path)?;
                kind.parse_text(&stored).map_err(|m| type_error(f, m))
            }
            Mapping::Ref {
                table: target,
                from,
            } => {
                let key: Vec<String> = from.iter().map(|f| cell(f).key_text()).collect();
                if key.iter().all(String::is_empty) {
                    return Ok(Value::Null);
                }
                reference(table, col, target, &key, field_origin(&from[0]), done)
            }
        }
    }
}

/// Whether a relative file name leaves its folder (absolute, or `..`).
fn escapes(name: &str) -> bool {
    use std::path::Component;
    Path::new(name)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The parent row's key column value for a reference by natural key.
fn reference(
    table: &schema::Table,
    col: &schema::Column,
    target: &str,
    key: &[String],
    origin: Origin,
    done: &[CompiledTable],
) -> Result<Value, SeedError> {
    let parent = done
        .iter()
        .find(|t| t.name() == target)
        .expect("checked earlier");
    let ci = referenced_column(
        table,
        col,
        &parent.schema,
        !parent.key_fields.is_empty(),
        &origin,
    )?;
    // A refused row's value is unknown, and its own error refuses the build.
    Ok(parent
        .index
        .resolve(key, &table.name, &col.name, origin)?
        .map_or(Value::Null, |row| parent.rows[row][ci].clone()))
}

/// The column of `target` that `table.col` holds when it refers to a
/// `target` row by natural key: the one its foreign key names, or else the
/// target's INTEGER PRIMARY KEY.
pub(crate) fn referenced_column(
    table: &schema::Table,
    col: &schema::Column,
    target: &schema::Table,
    target_has_key: bool,
    origin: &Origin,
) -> Result<usize, SeedError> {
    let manifest_error =
        |message: String| Err(SeedError::new(ErrorKind::Manifest, origin.clone(), message));
    if !target_has_key {
        return manifest_error(format!(
            "{}.{}: table {} has no `key` in seed.toml, so rows cannot refer to it by name",
            table.name, col.name, target.name
        ));
    }
    let fk = table.foreign_keys.iter().find(|fk| fk.column == col.name);
    let parent_column = match fk {
        Some(fk) if fk.parent_table != target.name => {
            return manifest_error(format!(
                "{}.{} is a foreign key to {}, but seed.toml resolves it in {}",
                table.name, col.name, fk.parent_table, target.name
            ));
        }
        Some(fk) if fk.parent_column != "rowid" => fk.parent_column.as_str(),
        _ => match target.rowid_alias() {
            Some(c) => c.name.as_str(),
            None => {
                return manifest_error(format!(
                    "{}.{}: table {} has no INTEGER PRIMARY KEY to refer to",
                    table.name, col.name, target.name
                ));
            }
        },
    };
    Ok(target
        .columns
        .iter()
        .position(|c| c.name == parent_column)
        .expect("foreign key names a parent column"))
}
