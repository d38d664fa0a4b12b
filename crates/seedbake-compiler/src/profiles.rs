//! Profiles: each must hold every table its rows point at, and gets the
//! fingerprint a database seeded with it has.

use libsql::Connection;
use seedbake_core::fingerprint;
use seedbake_core::value::Value;

use crate::engine::{insert_rows, memory_db};
use crate::error::{ErrorKind, Origin, SeedError};
use crate::manifest::Manifest;
use crate::rows::PendingRow;
use crate::{CompiledProfile, CompiledTable};

/// Checks and fingerprints every profile of the manifest. `full_db` holds
/// every seeded row; a profile with fewer tables is loaded afresh.
pub(crate) async fn profiles(
    manifest: &Manifest,
    file: &str,
    schema_sql: &str,
    full_db: &Connection,
    compiled: &[CompiledTable],
) -> Result<Vec<CompiledProfile>, SeedError> {
    let origin = Origin::file(file);
    let mut out = Vec::new();
    for (name, list) in &manifest.profiles {
        // A profile must hold every table its rows point at.
        for t in compiled
            .iter()
            .filter(|t| list.iter().any(|n| n == t.name()))
        {
            for fk in &t.schema.foreign_keys {
                if list.contains(&fk.parent_table) || fk.parent_table == t.name() {
                    continue;
                }
                let ci = t.schema.columns.iter().position(|c| c.name == fk.column);
                let used = ci.is_some_and(|ci| t.rows.iter().any(|r| r[ci] != Value::Null));
                if used {
                    return Err(SeedError::new(
                        ErrorKind::Profile,
                        origin.clone(),
                        format!(
                            "profile {name} seeds {} but not {}, which {}.{} refers to: add {} to the profile",
                            t.name(),
                            fk.parent_table,
                            t.name(),
                            fk.column,
                            fk.parent_table
                        ),
                    ));
                }
            }
        }
        let excluded: Vec<(&str, &str)> = compiled
            .iter()
            .flat_map(|t| {
                t.unfingerprinted
                    .iter()
                    .map(move |c| (t.name(), c.as_str()))
            })
            .collect();
        let everything = compiled.iter().all(|t| list.iter().any(|n| n == t.name()));
        let fp = if everything {
            fingerprint::compute(full_db, &excluded).await
        } else {
            let db = memory_db(schema_sql, &origin).await?;
            for t in compiled
                .iter()
                .filter(|t| list.iter().any(|n| n == t.name()))
            {
                let rows: Vec<PendingRow> = t
                    .rows
                    .iter()
                    .map(|r| PendingRow {
                        origin: origin.clone(),
                        values: r
                            .iter()
                            .zip(&t.inserted)
                            .map(|(v, &given)| given.then(|| v.clone()))
                            .collect(),
                    })
                    .collect();
                insert_rows(&db, &t.schema, &rows).await?;
            }
            fingerprint::compute(&db, &excluded).await
        }
        .map_err(|e| SeedError::new(ErrorKind::Schema, origin.clone(), e))?;
        out.push(CompiledProfile {
            name: name.clone(),
            tables: list.to_vec(),
            fingerprint: fp,
        });
    }
    Ok(out)
}
