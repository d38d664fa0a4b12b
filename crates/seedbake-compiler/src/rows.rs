//! Building a table's rows from its source records: how each column is
//! filled, which fields are used, natural keys and NOT NULL.

use std::collections::HashMap;

use seedbake_core::schema;
use seedbake_core::value::Value;

use crate::error::{ErrorKind, Origin, SeedError};
use crate::manifest::{self, Mapping};
use crate::source::{self, Cell};
use crate::{CompiledTable, Compiler};

/// A table's rows before the engine sees them: `None` for columns the source
/// does not provide (the engine applies their default or NULL).
pub(crate) struct PendingRow {
    pub origin: Origin,
    pub values: Vec<Option<Value>>,
}

impl Compiler {
    /// Turns a table's source records into typed rows, resolving references
    /// and checking types and NOT NULL on the way.
    pub(crate) fn build_rows(
        &mut self,
        spec: &manifest::TableSpec,
        table: &schema::Table,
        entry: &Origin,
        done: &[CompiledTable],
    ) -> Result<(Vec<PendingRow>, Vec<Vec<String>>), SeedError> {
        let display = self.display(&spec.file);
        let path = self.dir.join(&spec.file);
        self.inputs.push(path.clone());
        let delimiter = spec
            .delimiter_byte()
            .map_err(|m| SeedError::new(ErrorKind::Manifest, entry.clone(), m))?;
        let shape = source::Shape {
            records: spec.records.as_deref(),
            delimiter,
        };
        let src = source::read(&path, &display, shape)?;

        for col in spec.columns.keys() {
            if table.column(col).is_none() {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "[table.columns] {col}: table {} has no such column (columns: {})",
                        table.name,
                        table.column_list()
                    ),
                ));
            }
        }

        // What a cell left empty (or a column the source leaves out) takes:
        // the app's own default, as `[defaults]` declares it.
        let seed_time = self.seed_time.as_deref();
        let defaults: Vec<Option<Value>> = table
            .columns
            .iter()
            .map(|col| {
                self.defaults
                    .iter()
                    .find(|d| d.table == table.name && d.column == col.name)
                    .map(|d| d.seeded(seed_time))
            })
            .collect();

        // How each column is filled, or None when the source leaves it out.
        let mut mappings: Vec<Option<Mapping>> = Vec::with_capacity(table.columns.len());
        for (col, default) in table.columns.iter().zip(&defaults) {
            let mapping = match spec.columns.get(&col.name) {
                Some(s) => Some(s.mapping(entry, &table.name, &col.name)?),
                None if src.header.contains(&col.name) => Some(Mapping::Field(col.name.clone())),
                None if table.rowid_alias().is_some_and(|a| a.name == col.name) => {
                    Some(Mapping::Auto)
                }
                None => None,
            };
            if mapping.is_none() && default.is_none() && col.not_null && !col.has_default {
                return Err(SeedError::new(
                    ErrorKind::MissingValue,
                    src.header_origin.clone(),
                    format!(
                        "{}.{} is NOT NULL, but the source has no field {:?}: add it, or map the column in seed.toml [table.columns]",
                        table.name, col.name, col.name
                    ),
                )
                .with_field(&table.name, &col.name));
            }
            if let Some(Mapping::Auto) = &mapping
                && table.rowid_alias().is_none_or(|a| a.name != col.name)
            {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "{}.{}: `auto = true` numbers rows, which only an INTEGER PRIMARY KEY column can take",
                        table.name, col.name
                    ),
                ));
            }
            if let Some(Mapping::Ref { table: target, .. }) = &mapping
                && !done.iter().any(|t| t.name() == target)
            {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "{}.{} refers to table {target:?}, which no earlier [[table]] entry seeds; list {target} before {}",
                        table.name, col.name, table.name
                    ),
                ));
            }
            mappings.push(mapping);
        }

        // Every field the source provides must be used by something.
        let mut used: Vec<&str> = spec.key.iter().map(String::as_str).collect();
        for m in mappings.iter().flatten() {
            used.extend(m.fields());
        }
        for field in &src.header {
            if !used.contains(&field.as_str()) {
                let origin = src
                    .records
                    .iter()
                    .find(|r| r.get(field).is_some())
                    .filter(|_| spec.records.is_some())
                    .map_or_else(|| src.header_origin.clone(), |r| r.origin.field(field));
                return Err(SeedError::new(
                    ErrorKind::UnknownColumn,
                    origin,
                    format!(
                        "unknown column {field:?}: table {} has no such column and seed.toml maps no column from it (columns: {})",
                        table.name,
                        table.column_list()
                    ),
                ));
            }
        }
        for field in spec
            .key
            .iter()
            .map(String::as_str)
            .chain(mappings.iter().flatten().flat_map(|m| m.fields()))
        {
            if !src.header.iter().any(|h| h == field) && spec.records.is_none() {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    src.header_origin.clone(),
                    format!(
                        "seed.toml reads the field {field:?} for table {}, but the header has no such field",
                        table.name
                    ),
                ));
            }
        }

        let mut rows = Vec::with_capacity(src.records.len());
        let mut keys = Vec::with_capacity(src.records.len());
        let mut seen_keys: HashMap<Vec<String>, usize> = HashMap::new();
        for (index, record) in src.records.iter().enumerate() {
            if !spec.key.is_empty() {
                let key: Vec<String> = spec
                    .key
                    .iter()
                    .map(|f| record.get(f).map(Cell::key_text).unwrap_or_default())
                    .collect();
                if key.iter().all(String::is_empty) {
                    return Err(SeedError::new(
                        ErrorKind::Reference,
                        record.origin.clone(),
                        format!(
                            "the natural key ({}) of this {} row is empty",
                            spec.key.join(", "),
                            table.name
                        ),
                    ));
                }
                if let Some(&first) = seen_keys.get(&key) {
                    return Err(SeedError::new(
                        ErrorKind::Reference,
                        record.origin.clone(),
                        format!(
                            "the natural key {} = {:?} of table {} is already used at {}",
                            spec.key.join(", "),
                            key.join(" "),
                            table.name,
                            src.records[first].origin.short()
                        ),
                    ));
                }
                seen_keys.insert(key.clone(), index);
                keys.push(key);
            }
            let mut values = Vec::with_capacity(table.columns.len());
            for ((col, mapping), default) in table.columns.iter().zip(&mappings).zip(&defaults) {
                let Some(mapping) = mapping else {
                    values.push(default.clone());
                    continue;
                };
                let mut value = self.value(table, col, mapping, record, index, &path, done)?;
                if let (Value::Null, Some(d)) = (&value, default) {
                    value = d.clone();
                }
                if value == Value::Null && col.not_null && !col.has_default {
                    let origin = record
                        .origin
                        .field(mapping.fields().first().copied().unwrap_or(&col.name));
                    return Err(SeedError::new(
                        ErrorKind::MissingValue,
                        origin,
                        format!(
                            "{}.{} is empty, but the column is NOT NULL",
                            table.name, col.name
                        ),
                    )
                    .with_field(&table.name, &col.name));
                }
                values.push(Some(value));
            }
            rows.push(PendingRow {
                origin: record.origin.clone(),
                values,
            });
        }
        Ok((rows, keys))
    }
}
