//! `[defaults.<table>]`: the values the app fills in itself (its ORM's
//! defaults, which the DDL does not carry), checked against the schema. A
//! seeded cell left empty takes its column's default at build time (`now`
//! and `today` then stand for `seed_time`, so builds stay reproducible); a
//! row seedbake writes at run time (`init-admin`) takes them as they are.

use seedbake_core::schema;
use seedbake_core::value::{ColumnKind, Value, is_iso_datetime};

use crate::error::{ErrorKind, SeedError};
use crate::manifest::Manifest;
use crate::suggest::closest;

/// A declared default, resolved against its column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A constant.
    Value(Value),
    /// The current UTC time in the app's spelling (`2025-09-01 08:00:00.000000`).
    Now,
    /// The current UTC date (`2025-09-01`).
    Today,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompiledDefault {
    pub table: String,
    pub column: String,
    pub value: DefaultValue,
}

impl CompiledDefault {
    /// The value a seeded row takes: `now` and `today` are `seed_time`.
    pub(crate) fn seeded(&self, seed_time: Option<&str>) -> Value {
        match &self.value {
            DefaultValue::Value(v) => v.clone(),
            DefaultValue::Now => Value::Text(seed_time.expect("checked").to_owned()),
            DefaultValue::Today => Value::Text(seed_time.expect("checked")[..10].to_owned()),
        }
    }
}

/// Every `[defaults]` entry, checked: the table and column exist, the value
/// fits the column, and `now`/`today` have a `seed_time` to stand for.
pub(crate) fn defaults(
    manifest: &Manifest,
    tables: &[schema::Table],
) -> Result<Vec<CompiledDefault>, SeedError> {
    let manifest_error = |origin, msg: String| SeedError::new(ErrorKind::Manifest, origin, msg);
    if let Some(t) = &manifest.seed_time
        && !is_iso_datetime(t)
    {
        return Err(manifest_error(
            manifest.origin(t),
            format!(
                "seed_time {:?} is not an ISO date-time: write it as the app does, e.g. \"2025-09-01 08:00:00.000000\"",
                t.as_str()
            ),
        ));
    }
    let mut out = Vec::new();
    for (table_name, columns) in &manifest.defaults {
        let Some(table) = tables.iter().find(|t| &t.name == table_name) else {
            let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            let hint = closest(table_name, names.iter().map(|n| (*n).to_owned()))
                .map(|c| format!("; did you mean {c:?}?"))
                .unwrap_or_default();
            return Err(manifest_error(
                manifest.origin(columns),
                format!(
                    "[defaults.{table_name}]: the schema creates no such table (tables: {}){hint}",
                    names.join(", ")
                ),
            ));
        };
        for (column_name, value) in columns.iter() {
            let origin = manifest.origin(value);
            let at = format!("[defaults.{table_name}] {column_name}");
            let Some(column) = table.column(column_name) else {
                let hint = closest(column_name, table.columns.iter().map(|c| c.name.clone()))
                    .map(|c| format!("; did you mean {c:?}?"))
                    .unwrap_or_default();
                return Err(manifest_error(
                    origin,
                    format!(
                        "{at}: table {table_name} has no such column (columns: {}){hint}",
                        table.column_list()
                    ),
                )
                .with_field(table_name, column_name));
            };
            if column.pk > 0 {
                return Err(manifest_error(
                    origin,
                    format!("{at}: a primary key column takes no default (the engine numbers an INTEGER PRIMARY KEY itself)"),
                )
                .with_field(table_name, column_name));
            }
            let kind = ColumnKind::from_declared(&column.declared_type);
            let resolved = match &**value {
                toml::Value::Table(t) => {
                    let clock = match t.iter().collect::<Vec<_>>().as_slice() {
                        [(k, toml::Value::Boolean(true))] if k.as_str() == "now" => {
                            Some(DefaultValue::Now)
                        }
                        [(k, toml::Value::Boolean(true))] if k.as_str() == "today" => {
                            Some(DefaultValue::Today)
                        }
                        _ => None,
                    };
                    let fits = match clock {
                        Some(DefaultValue::Now) => kind == ColumnKind::DateTime,
                        Some(DefaultValue::Today) => kind == ColumnKind::Date,
                        _ => false,
                    };
                    match clock {
                        Some(c) if fits => c,
                        Some(_) => {
                            return Err(manifest_error(
                                origin,
                                format!(
                                    "{at}: {} fits a {} column, and {table_name}.{column_name} is {}",
                                    if matches!(clock, Some(DefaultValue::Now)) {
                                        "{ now = true } (the current time)"
                                    } else {
                                        "{ today = true } (the current date)"
                                    },
                                    if matches!(clock, Some(DefaultValue::Now)) {
                                        "DATETIME"
                                    } else {
                                        "DATE"
                                    },
                                    column.declared_type
                                ),
                            )
                            .with_field(table_name, column_name));
                        }
                        None => {
                            return Err(manifest_error(
                                origin,
                                format!(
                                    "{at}: a default is a value (e.g. 0 or \"aktiv\"), {{ now = true }} (the current time, \
                                     for a DATETIME column) or {{ today = true }} (the current date, for a DATE column)"
                                ),
                            )
                            .with_field(table_name, column_name));
                        }
                    }
                }
                other => {
                    let json = serde_json::to_value(other).unwrap_or(serde_json::Value::Null);
                    let v = kind.parse_json(&json).map_err(|m| {
                        SeedError::new(ErrorKind::Type, origin.clone(), format!("{at}: {m}"))
                            .with_field(table_name, column_name)
                    })?;
                    DefaultValue::Value(v)
                }
            };
            if matches!(resolved, DefaultValue::Now | DefaultValue::Today)
                && manifest.seed_time.is_none()
            {
                return Err(manifest_error(
                    origin,
                    format!(
                        "{at}: the current time needs seed_time at the top of seed.toml, the time it stands for in \
                         seeded rows (e.g. seed_time = \"2025-09-01 08:00:00.000000\"), so that every build gives the same rows"
                    ),
                ));
            }
            out.push(CompiledDefault {
                table: table_name.clone(),
                column: column_name.clone(),
                value: resolved,
            });
        }
    }
    Ok(out)
}
