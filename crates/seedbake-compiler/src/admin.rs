//! The `[admin]` account: its row, id, username column and the grants
//! `init-admin` gives, resolved and checked against the seeded table.

use seedbake_core::value::{ColumnKind, Value};

use crate::error::{ErrorKind, Origin, SeedError};
use crate::manifest::Manifest;
use crate::{CompiledAdmin, CompiledDefault, CompiledTable};

pub(crate) fn admin(
    manifest: &Manifest,
    file: &str,
    compiled: &[CompiledTable],
    defaults: &[CompiledDefault],
) -> Result<Option<CompiledAdmin>, SeedError> {
    let Some(spec) = &manifest.admin else {
        return Ok(None);
    };
    let origin = Origin::file(file);
    let key = spec.key.parts();
    let table = compiled
        .iter()
        .find(|t| t.name() == spec.table)
        .ok_or_else(|| {
            SeedError::new(
                ErrorKind::Manifest,
                origin.clone(),
                format!("[admin] table {} is not seeded", spec.table),
            )
        })?;
    let row = table.keys.iter().position(|k| *k == key).ok_or_else(|| {
        SeedError::new(
            ErrorKind::Reference,
            origin.clone(),
            format!(
                "[admin] no {} row has the key {:?}",
                spec.table,
                key.join(" ")
            ),
        )
    })?;
    let alias = table.schema.rowid_alias().ok_or_else(|| {
        SeedError::new(
            ErrorKind::Manifest,
            origin.clone(),
            format!("[admin] table {} needs an INTEGER PRIMARY KEY", spec.table),
        )
    })?;
    let ci = table
        .schema
        .columns
        .iter()
        .position(|c| c.name == alias.name)
        .expect("alias is a column");
    let Value::Integer(id) = table.rows[row][ci] else {
        unreachable!("a rowid alias always holds an integer")
    };
    if table.schema.column(&spec.username_column).is_none() {
        return Err(SeedError::new(
            ErrorKind::Manifest,
            origin,
            format!(
                "[admin] username_column {:?} is not a column of {}",
                spec.username_column, spec.table
            ),
        ));
    }
    let mut grant = Vec::new();
    for (col, value) in &spec.grant {
        let column = table.schema.column(col).ok_or_else(|| {
            SeedError::new(
                ErrorKind::Manifest,
                origin.clone(),
                format!("[admin.grant] {col} is not a column of {}", spec.table),
            )
        })?;
        let json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        let value = ColumnKind::from_declared(&column.declared_type)
            .parse_json(&json)
            .map_err(|m| {
                SeedError::new(
                    ErrorKind::Type,
                    origin.clone(),
                    format!("[admin.grant] {col}: {m}"),
                )
            })?;
        grant.push((col.clone(), value));
    }
    // `init-admin` inserts an account with nothing but these: each column
    // the engine would refuse empty must get a value from one of them.
    for column in &table.schema.columns {
        let given = column.name == spec.username_column
            || column.name == *spec.password_column
            || column.name == alias.name
            || grant.iter().any(|(c, _)| *c == column.name)
            || defaults
                .iter()
                .any(|d| d.table == spec.table && d.column == column.name);
        if column.not_null && !column.has_default && !given {
            return Err(SeedError::new(
                ErrorKind::Manifest,
                origin,
                format!(
                    "[admin] init-admin could not create an account: {}.{} is NOT NULL and neither [admin] grant \
                     nor [defaults.{}] gives it a value",
                    spec.table, column.name, spec.table
                ),
            ));
        }
    }
    Ok(Some(CompiledAdmin {
        table: spec.table.clone(),
        password_column: String::clone(&spec.password_column),
        username_column: spec.username_column.clone(),
        grant,
        id_column: alias.name.clone(),
        id,
        key: key.join(" "),
    }))
}
