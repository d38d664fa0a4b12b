//! One cell's value, by how the manifest maps its column: a field checked
//! against the column's type, a constant, a row number, a bcrypt hash, an
//! image path or a reference to another table's row by natural key.

use std::path::Path;

use seedbake_core::credentials::hash_seed_password;
use seedbake_core::schema;
use seedbake_core::static_path;
use seedbake_core::value::{ColumnKind, Value};

use crate::error::{ErrorKind, Origin, SeedError};
use crate::manifest::Mapping;
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
        let cell = |f: &str| {
            record
                .get(f)
                .cloned()
                .unwrap_or(Cell::Json(serde_json::Value::Null))
        };
        match mapping {
            Mapping::Auto => Ok(Value::Integer(index as i64 + 1)),
            Mapping::Field(f) => match cell(f) {
                Cell::Text(t) => kind.parse_text(&t),
                Cell::Json(j) => kind.parse_json(&j),
            }
            .map_err(|m| type_error(f, m)),
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
