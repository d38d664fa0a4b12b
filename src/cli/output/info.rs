//! `info`: the embedded seed, described.

use serde_json::json;

use seedbake::seed;

use super::{Report, Text};

/// The seed built into this binary, as `info` describes it.
pub struct SeedInfo;

impl serde::Serialize for SeedInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let seed = seed::get();
        let tables: Vec<_> = seed
            .tables
            .iter()
            .map(|t| json!({ "name": t.name, "rows": t.row_count, "columns": t.columns.len() }))
            .collect();
        let profiles: Vec<_> = seed
            .profiles
            .iter()
            .map(|p| json!({ "name": p.name, "tables": p.tables, "rows": p.row_count(), "fingerprint": p.fingerprint }))
            .collect();
        let images: Vec<_> = seed
            .images
            .iter()
            .map(|i| json!({ "path": i.path, "media_type": i.media_type, "bytes": i.bytes.len() }))
            .collect();
        let app = seed.app;
        json!({
            "seedbake_version": env!("CARGO_PKG_VERSION"),
            "app": {
                "name": app.name,
                "database": app.database,
                "production_env": app.production_env,
            },
            "admin": seed.admin.is_some(),
            "migrations": seed.migrations.versions.len(),
            "default_profile": seed.default_profile,
            "tables": tables,
            "profiles": profiles,
            "images": images,
        })
        .serialize(s)
    }
}

impl Report for SeedInfo {
    fn text(&self, o: &mut Text) {
        let seed = seed::get();
        let app = seed.app;
        match app.name {
            Some(name) => say!(
                o,
                "seedbake {} — embedded seed of {name}",
                env!("CARGO_PKG_VERSION")
            ),
            None => say!(o, "seedbake {} — embedded seed", env!("CARGO_PKG_VERSION")),
        }
        if let Some(database) = app.database {
            say!(o, "default database: {database}");
        }
        if !app.production_env.is_empty() {
            say!(o, "production when set: {}", app.production_env.join(", "));
        }
        say!(o, "tables (insert order):");
        for t in seed.tables {
            say!(o, "  {:<24} {:>9} rows", t.name, t.row_count);
        }
        say!(o, "profiles:");
        for p in seed.profiles {
            let default = if p.name == seed.default_profile {
                " (default)"
            } else {
                ""
            };
            say!(
                o,
                "  {}{default}: {} tables, {} rows",
                p.name,
                p.tables.len(),
                p.row_count()
            );
            say!(o, "    fingerprint {}", p.fingerprint);
        }
        if !seed.images.is_empty() {
            say!(
                o,
                "images: {} embedded ({} bytes)",
                seed.images.len(),
                seed.images.iter().map(|i| i.bytes.len()).sum::<usize>()
            );
        }
    }
}
