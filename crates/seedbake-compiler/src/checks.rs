//! Checks `seed.toml` against the schema before any row is read: every
//! table, profile and admin setting it names must exist, once.

use seedbake_core::schema;

use crate::error::{ErrorKind, Origin, SeedError};
use crate::manifest::{ColumnSpec, Manifest};

/// The first problem with what the manifest names, if any.
pub(crate) fn check_manifest(
    manifest: &Manifest,
    tables: &[schema::Table],
) -> Result<(), SeedError> {
    let known = |name: &str| tables.iter().any(|t| t.name == name);
    let err = |origin: Origin, msg: String| Err(SeedError::new(ErrorKind::Manifest, origin, msg));
    let table_names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    if !manifest
        .profiles
        .contains_key(manifest.default_profile.as_str())
    {
        return err(
            manifest.origin(&manifest.default_profile),
            format!(
                "default_profile {:?} is not one of the profiles ({})",
                manifest.default_profile,
                manifest
                    .profiles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for (i, spec) in manifest.tables.iter().enumerate() {
        if !known(&spec.name) {
            return err(
                manifest.origin(spec),
                format!(
                    "[[table]] {:?}: the schema creates no such table (tables: {})",
                    spec.name,
                    table_names.join(", ")
                ),
            );
        }
        if manifest.tables[..i].iter().any(|s| s.name == spec.name) {
            return err(
                manifest.origin(spec),
                format!("table {} has two [[table]] entries", spec.name),
            );
        }
    }
    for (name, list) in &manifest.profiles {
        for (i, t) in list.iter().enumerate() {
            if !known(t) {
                return err(
                    manifest.origin(list),
                    format!(
                        "profile {name} names table {t:?}, which the schema does not create (tables: {})",
                        table_names.join(", ")
                    ),
                );
            }
            if list[..i].contains(t) {
                return err(
                    manifest.origin(list),
                    format!("profile {name} names table {t} twice"),
                );
            }
            if !manifest.tables.iter().any(|s| &s.name == t) {
                return err(
                    manifest.origin(list),
                    format!("profile {name} names table {t}, but no [[table]] entry feeds it"),
                );
            }
        }
    }
    if let Some(images) = &manifest.images {
        let dir = &images.static_dir;
        if dir.trim().is_empty() || dir.contains('\0') {
            return err(
                manifest.origin(dir),
                format!(
                    "[images] static_dir {:?} names no folder: give the app's static folder, relative to the \
                     working directory (e.g. \"static\")",
                    dir.as_str()
                ),
            );
        }
    } else if let Some((spec, column)) = manifest.tables.iter().find_map(|spec| {
        spec.columns
            .iter()
            .find(|(_, c)| matches!(c, ColumnSpec::Map(m) if m.image.is_some()))
            .map(|(column, _)| (spec, column))
    }) {
        return err(
            manifest.origin(spec),
            format!(
                "{}.{} embeds images, but seed.toml has no [images] static_dir: say where the app serves them \
                 from (e.g. [images] static_dir = \"static\")",
                spec.name, column
            ),
        );
    }
    if let Some(admin) = &manifest.admin {
        let Some(t) = tables.iter().find(|t| t.name == admin.table) else {
            return err(
                manifest.origin(admin),
                format!("[admin] table {:?} is not in the schema", admin.table),
            );
        };
        if t.column(&admin.password_column).is_none() {
            return err(
                manifest.origin(&admin.password_column),
                format!(
                    "[admin] password_column {:?} is not a column of {}",
                    admin.password_column, t.name
                ),
            );
        }
    }
    Ok(())
}
