//! Reference data (`[[reference]]` in seed.toml): the tables whose rows the
//! seed owns in a live database, which `seedbake migrate` keeps equal to the
//! seed by natural key. Checked here so that every row can be matched: the
//! key is made of columns, every seed row has one, no two share it, and a
//! reference row points only at other reference rows.

use seedbake_core::value::Value;

use crate::CompiledTable;
use crate::error::{ErrorKind, SeedError};
use crate::manifest::{Manifest, Mapping, Removed};

/// A reference table, ready to embed.
#[derive(Debug, Clone)]
pub struct CompiledReference {
    pub table: String,
    /// The columns that identify a row in the database.
    pub key: Vec<String>,
    /// The rowid alias when it is not part of the key: a row that exists
    /// keeps its id (the app's rows point at it); a new row gets the next.
    pub surrogate: Option<String>,
    pub removed: Removed,
}

/// Checks the manifest's `[[reference]]` entries against the compiled
/// tables (`tables` parents first); the result keeps that order.
pub(crate) fn reference_tables(
    manifest: &Manifest,
    tables: &[&CompiledTable],
) -> Result<Vec<CompiledReference>, SeedError> {
    let mut out = Vec::new();
    for (i, spec) in manifest.references.iter().enumerate() {
        let origin = manifest.origin(spec);
        let err = |msg: String| {
            Err(SeedError::new(
                ErrorKind::ReferenceData,
                origin.clone(),
                msg,
            ))
        };
        if manifest.references[..i]
            .iter()
            .any(|s| s.table == spec.table)
        {
            return err(format!(
                "table {} has two [[reference]] entries",
                spec.table
            ));
        }
        let (Some(table), Some(entry)) = (
            tables.iter().find(|t| t.name() == spec.table),
            manifest.tables.iter().find(|t| t.name == spec.table),
        ) else {
            return err(format!(
                "[[reference]] table {:?}: no [[table]] entry seeds it, so the seed has no rows to keep it equal to",
                spec.table
            ));
        };
        let name = table.name();
        let key = match &spec.key {
            Some(key) if key.is_empty() => {
                return err(format!("[[reference]] {name}: key names no column"));
            }
            Some(key) => {
                for column in key {
                    if table.schema.column(column).is_none() {
                        return err(format!(
                            "[[reference]] {name}: key column {column:?} is not a column of {name} (columns: {})",
                            table.schema.column_list()
                        ));
                    }
                }
                key.clone()
            }
            None if entry.key.is_empty() => {
                return err(format!(
                    "[[reference]] {name}: the table has no `key`; name the columns that identify a row: key = [\"…\"]"
                ));
            }
            None => {
                let mut columns = Vec::new();
                for field in &entry.key {
                    match stored_in(entry, &origin, table, field)? {
                        Some(c) => columns.push(c),
                        None => {
                            return err(format!(
                                "[[reference]] {name}: its natural key field {field:?} is not stored in a column of {name}, \
                                 so rows in the database cannot be matched by it; name the columns to match rows by: key = [\"…\"]"
                            ));
                        }
                    }
                }
                columns
            }
        };

        let positions: Vec<usize> = key
            .iter()
            .map(|k| {
                table
                    .schema
                    .columns
                    .iter()
                    .position(|c| &c.name == k)
                    .expect("checked")
            })
            .collect();
        let mut seen: Vec<(Vec<&Value>, usize)> = Vec::new();
        for (n, row) in table.rows.iter().enumerate() {
            let values: Vec<&Value> = positions.iter().map(|&p| &row[p]).collect();
            if values.iter().any(|v| **v == Value::Null) {
                return err(format!(
                    "[[reference]] {name}: row {} of {} has no value in the key ({}), so it cannot be matched",
                    n + 1,
                    table.file,
                    key.join(", ")
                ));
            }
            if let Some((_, first)) = seen.iter().find(|(v, _)| *v == values) {
                let shown: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                return err(format!(
                    "[[reference]] {name}: rows {} and {} of {} share the key {} = {}; choose key columns that tell every row apart",
                    first + 1,
                    n + 1,
                    table.file,
                    key.join(", "),
                    shown.join(", ")
                ));
            }
            seen.push((values, n));
        }

        for fk in &table.schema.foreign_keys {
            if fk.parent_table != name
                && !manifest
                    .references
                    .iter()
                    .any(|r| r.table == fk.parent_table)
            {
                return err(format!(
                    "[[reference]] {name}: {name}.{} refers to {}, which is not reference data; \
                     a reference row may point only at reference rows (add a [[reference]] entry for {})",
                    fk.column, fk.parent_table, fk.parent_table
                ));
            }
        }

        let surrogate = table
            .schema
            .rowid_alias()
            .map(|c| c.name.clone())
            .filter(|c| !key.contains(c));
        out.push(CompiledReference {
            table: name.to_owned(),
            key,
            surrogate,
            removed: spec.removed,
        });
    }
    out.sort_by_key(|r| tables.iter().position(|t| t.name() == r.table));
    Ok(out)
}

/// The column a source field fills unchanged, if one does.
fn stored_in(
    entry: &crate::manifest::TableSpec,
    origin: &crate::error::Origin,
    table: &CompiledTable,
    field: &str,
) -> Result<Option<String>, SeedError> {
    for (column, spec) in &entry.columns {
        if spec.mapping(origin, table.name(), column)? == Mapping::Field(field.to_owned()) {
            return Ok(Some(column.clone()));
        }
    }
    Ok(table
        .schema
        .column(field)
        .filter(|_| !entry.columns.contains_key(field))
        .map(|c| c.name.clone()))
}
