//! Building a table's rows from its source records: how each column is
//! filled, which fields are used, natural keys (a table may refer to its own
//! rows by them) and NOT NULL. A bad cell refuses its row, not the build:
//! its error joins the build's others, so that one build names them all.

use seedbake_core::schema;
use seedbake_core::value::Value;

use crate::cells::referenced_column;
use crate::error::{ErrorKind, Origin, SeedError};
use crate::keys::KeyIndex;
use crate::manifest::{self, Mapping};
use crate::source::{self, Cell, Record};
use crate::suggest::closest;
use crate::{CompiledTable, Compiler};

/// A table's rows before the engine sees them: `None` for columns the source
/// does not provide (the engine applies their default or NULL).
pub(crate) struct PendingRow {
    pub origin: Origin,
    pub values: Vec<Option<Value>>,
}

/// A table's rows as built: those without a bad cell, their natural keys,
/// and every row's key (refused rows' too) for references to them.
pub(crate) struct BuiltRows {
    pub rows: Vec<PendingRow>,
    pub keys: Vec<Vec<String>>,
    pub index: KeyIndex,
}

impl Compiler {
    /// Turns a table's source records into typed rows, resolving references
    /// and checking types and NOT NULL on the way. A problem with the table
    /// as a whole is returned; bad cells go to `self.errors`, and their rows
    /// are left out.
    pub(crate) fn build_rows(
        &mut self,
        spec: &manifest::TableSpec,
        table: &schema::Table,
        entry: &Origin,
        done: &[CompiledTable],
    ) -> Result<BuiltRows, SeedError> {
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
        // Columns that refer to this table's own rows, each with the column
        // of the row it refers to: filled once every row's key is known.
        let mut self_refs: Vec<(usize, usize)> = Vec::new();
        for (ci, (col, default)) in table.columns.iter().zip(&defaults).enumerate() {
            let mapping = match spec.columns.get(&col.name) {
                Some(s) => Some(s.mapping(entry, &table.name, &col.name)?),
                None if src.header.contains(&col.name) && !spec.ignore.contains(&col.name) => {
                    Some(Mapping::Field(col.name.clone()))
                }
                None if table.rowid_alias().is_some_and(|a| a.name == col.name) => {
                    Some(Mapping::Auto)
                }
                None => None,
            };
            if mapping.is_none() && default.is_none() && col.not_null && !col.has_default {
                let (why, fix) = if spec.ignore.contains(&col.name) {
                    ("seed.toml ignores the field", "take it out of `ignore`")
                } else {
                    ("the source has no field", "add it")
                };
                return Err(SeedError::new(
                    ErrorKind::MissingValue,
                    src.header_origin.clone(),
                    format!(
                        "{}.{} is NOT NULL, but {why} {:?}: {fix}, or map the column in seed.toml [table.columns]",
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
            if let Some(Mapping::Ref { table: target, .. }) = &mapping {
                let (parent, parent_has_key) = if *target == table.name {
                    (table, !spec.key.is_empty())
                } else if let Some(t) = done.iter().find(|t| t.name() == target) {
                    (&t.schema, !t.key_fields.is_empty())
                } else {
                    return Err(SeedError::new(
                        ErrorKind::Manifest,
                        entry.clone(),
                        format!(
                            "{}.{} refers to table {target:?}, which no earlier [[table]] entry seeds; list {target} before {}",
                            table.name, col.name, table.name
                        ),
                    ));
                };
                let referenced = referenced_column(table, col, parent, parent_has_key, entry)?;
                if parent.name == table.name {
                    self_refs.push((ci, referenced));
                }
            }
            mappings.push(mapping);
        }
        for &(ci, referenced) in &self_refs {
            // The engine's choice (a default, an id it assigns) cannot be
            // known while the rows are built.
            let filled = defaults[referenced].is_some()
                || mappings[referenced]
                    .as_ref()
                    .is_some_and(|_| !self_refs.iter().any(|&(c, _)| c == referenced));
            if !filled {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "{t}.{} refers to {t}'s own rows by {}, which the seed does not give itself: give it in {display}",
                        table.columns[ci].name,
                        table.columns[referenced].name,
                        t = table.name
                    ),
                ));
            }
        }

        for field in &spec.ignore {
            if !src.header.contains(field) {
                let hint = closest(field, src.header.iter().cloned())
                    .map(|c| format!("; did you mean {c:?}?"))
                    .unwrap_or_default();
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "[[table]] {}: ignore names the field {field:?}, which {display} does not have (fields: {}){hint}",
                        table.name,
                        src.header.join(", ")
                    ),
                ));
            }
            if let Some((col, _)) = table.columns.iter().zip(&mappings).find(|(_, m)| {
                m.as_ref()
                    .is_some_and(|m| m.fields().contains(&field.as_str()))
            }) {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "[[table]] {}: ignore names the field {field:?}, which [table.columns] {} reads; a field is read or ignored, not both",
                        table.name, col.name
                    ),
                ));
            }
        }

        // Every field the source provides must be used by something.
        let mut used: Vec<&str> = spec
            .key
            .iter()
            .chain(&spec.ignore)
            .map(String::as_str)
            .collect();
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

        let count = src.records.len();
        let mut index = KeyIndex::new(&table.name, &spec.key, &display);
        let mut keys = Vec::with_capacity(count);
        let mut built: Vec<Vec<Option<Value>>> = Vec::with_capacity(count);
        let mut refused = vec![false; count];
        for (n, record) in src.records.iter().enumerate() {
            if !spec.key.is_empty() {
                let key = key_of(record, &spec.key);
                let problem = if key.iter().all(String::is_empty) {
                    Some(format!(
                        "the natural key ({}) of this {} row is empty",
                        spec.key.join(", "),
                        table.name
                    ))
                } else {
                    index.insert(key.clone(), n).map(|first| {
                        format!(
                            "the natural key {} = {:?} of table {} is already used at {}",
                            spec.key.join(", "),
                            key.join(" "),
                            table.name,
                            src.records[first].origin.short()
                        )
                    })
                };
                if let Some(problem) = problem {
                    self.errors.push(SeedError::new(
                        ErrorKind::Reference,
                        record.origin.clone(),
                        problem,
                    ));
                    refused[n] = true;
                }
                keys.push(key);
            }
            let mut values = Vec::with_capacity(table.columns.len());
            for (ci, ((col, mapping), default)) in table
                .columns
                .iter()
                .zip(&mappings)
                .zip(&defaults)
                .enumerate()
            {
                let Some(mapping) = mapping else {
                    values.push(default.clone());
                    continue;
                };
                if self_refs.iter().any(|&(c, _)| c == ci) {
                    values.push(None);
                    continue;
                }
                let value = self
                    .value(table, col, mapping, record, n, &path, done)
                    .and_then(|v| settle(table, col, mapping, record, v, default));
                match value {
                    Ok(v) => values.push(Some(v)),
                    Err(e) => {
                        self.errors.push(e);
                        refused[n] = true;
                        values.push(None);
                    }
                }
            }
            built.push(values);
        }

        // Every row's key is known now: fill the references to the table's
        // own rows, whichever order the rows come in.
        for &(ci, referenced) in &self_refs {
            let col = &table.columns[ci];
            let mapping = mappings[ci].as_ref().expect("a reference maps its column");
            let Mapping::Ref { from, .. } = mapping else {
                unreachable!("only references are collected")
            };
            for (n, record) in src.records.iter().enumerate() {
                let key = key_of(record, from);
                let value = if key.iter().all(String::is_empty) {
                    Ok(Value::Null)
                } else {
                    let origin = record.origin.field(&from[0]);
                    index
                        .resolve(&key, &table.name, &col.name, origin.clone())
                        .and_then(|row| {
                            let row = row.expect("no row is refused yet");
                            match &built[row][referenced] {
                                Some(Value::Null) => Err(SeedError::new(
                                    ErrorKind::Reference,
                                    origin,
                                    format!(
                                        "{t}.{}: the {t} row with the key {} = {:?} (at {}) has no {} to refer to",
                                        col.name,
                                        spec.key.join(", "),
                                        key.join(" "),
                                        src.records[row].origin.short(),
                                        table.columns[referenced].name,
                                        t = table.name
                                    ),
                                )
                                .with_field(&table.name, &col.name)),
                                Some(v) => Ok(v.clone()),
                                // That row's own bad cell refuses the build.
                                None => Ok(Value::Null),
                            }
                        })
                };
                match value.and_then(|v| settle(table, col, mapping, record, v, &defaults[ci])) {
                    Ok(v) => built[n][ci] = Some(v),
                    Err(e) => {
                        self.errors.push(e);
                        refused[n] = true;
                    }
                }
            }
        }

        let mut rows = Vec::with_capacity(count);
        let mut kept_keys = Vec::with_capacity(keys.len());
        let mut kept = Vec::with_capacity(count);
        let mut keys = keys.into_iter();
        for ((record, values), refused) in src.records.iter().zip(built).zip(refused) {
            let key = keys.next();
            if refused {
                kept.push(None);
                continue;
            }
            kept.push(Some(rows.len()));
            rows.push(PendingRow {
                origin: record.origin.clone(),
                values,
            });
            kept_keys.extend(key);
        }
        index.renumber(&kept);
        Ok(BuiltRows {
            rows,
            keys: kept_keys,
            index,
        })
    }
}

/// The texts of `fields` in `record`, as natural keys compare them.
fn key_of(record: &Record, fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .map(|f| record.get(f).map(Cell::key_text).unwrap_or_default())
        .collect()
}

/// A cell's value once an empty cell has taken the column's declared
/// default, checked against NOT NULL.
fn settle(
    table: &schema::Table,
    col: &schema::Column,
    mapping: &Mapping,
    record: &Record,
    value: Value,
    default: &Option<Value>,
) -> Result<Value, SeedError> {
    let value = match (value, default) {
        (Value::Null, Some(d)) => d.clone(),
        (v, _) => v,
    };
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
    Ok(value)
}
