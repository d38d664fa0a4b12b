//! `seedbake migration new NAME`: the next migration file of a seed folder,
//! drafted from the difference between the schema its migrations make and
//! the schema its `schema.sql` declares (see
//! [`crate::schema::draft_migration`] for what is derived, and what never
//! is). A tool for the developer's checkout: it reads the folder, not the
//! seed compiled into the binary, since the build refuses a `schema.sql`
//! the migrations do not make yet.

use std::io::Write;
use std::path::{Path, PathBuf};

use seedbake_compiler::manifest::{self, MANIFEST_FILE};
use seedbake_compiler::migrations::{self, MIGRATIONS_DIR, MigrationFile};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fingerprint::{canonical_objects, is_seedbake_table};
use crate::schema::{self, SchemaObject, draft_migration, first_difference};

#[derive(Debug, Clone, Serialize)]
pub struct DraftReport {
    /// The file written.
    pub file: PathBuf,
    pub version: i64,
    pub sql: String,
    /// What to check by hand.
    pub notes: Vec<String>,
    /// `None`: applied after the other migrations, the draft makes the
    /// schema `schema.sql` declares; else the first difference left.
    pub remaining: Option<String>,
}

/// Writes `<seed_dir>/migrations/<next version>_<name>.sql`.
pub async fn migration_draft(seed_dir: &Path, name: &str) -> Result<DraftReport> {
    if let Some(problem) = seedbake_core::migration_file::name_problem(name) {
        let shown: String = name.chars().take(40).collect();
        let cut = if shown.len() < name.len() { "…" } else { "" };
        return Err(Error::Usage(format!(
            "migration name {shown:?}{cut}: {problem}"
        )));
    }
    let usage = |what: String| Error::Usage(what);
    let schema_file = schema_file(seed_dir)?;
    let schema_path = seed_dir.join(&schema_file);
    let schema_sql = std::fs::read_to_string(&schema_path).map_err(|e| {
        usage(format!(
            "cannot read {}: {e} (is --seed-dir the seed folder?)",
            schema_path.display()
        ))
    })?;
    let dir = seed_dir.join(MIGRATIONS_DIR);
    let migrations = migrations::list(&dir, MIGRATIONS_DIR).map_err(|e| usage(e.to_string()))?;

    let from = memory().await?;
    for MigrationFile { file, .. } in &migrations {
        let path = dir.join(file);
        let sql = std::fs::read_to_string(&path)
            .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
        from.execute_batch(&sql).await.map_err(|e| {
            usage(format!(
                "migrations/{file} does not run: {} (`cargo build` names its line)",
                schema::engine_message(&e)
            ))
        })?;
    }
    let to = memory().await?;
    to.execute_batch(&schema_sql).await.map_err(|e| {
        usage(format!(
            "{schema_file} does not run: {}",
            schema::engine_message(&e)
        ))
    })?;
    let (before, target) = (
        application_objects(&from).await?,
        application_objects(&to).await?,
    );
    if canonical_objects(before.clone()) == canonical_objects(target.clone()) {
        return Err(usage(format!(
            "nothing to draft: the migrations already make the schema {schema_file} declares; change {schema_file} first"
        )));
    }

    let draft = draft_migration(&before, &target);
    let remaining = match from.execute_batch(&draft.sql).await {
        Err(e) => Some(format!(
            "the draft does not run yet: {}",
            schema::engine_message(&e)
        )),
        Ok(_) => first_difference(
            &canonical_objects(application_objects(&from).await?),
            &canonical_objects(target),
            "after the draft",
            &schema_file,
        ),
    };

    let version = migrations.last().map_or(1, |m| m.version + 1);
    let width = migrations
        .iter()
        .map(|m| m.file.split('_').next().map_or(0, str::len))
        .max()
        .unwrap_or(4)
        .max(4);
    let file = dir.join(format!("{version:0width$}_{name}.sql"));
    let mut text = format!(
        "-- Draft by `seedbake migration new` from the difference between what the migrations make\n\
         -- and {schema_file}. Review it before it is applied anywhere: once applied, a migration\n\
         -- must never change (its checksum is recorded).\n"
    );
    for note in &draft.notes {
        text.push_str(&format!("-- CHECK: {note}\n"));
    }
    text.push('\n');
    text.push_str(&draft.sql);
    std::fs::create_dir_all(&dir)
        .map_err(|e| usage(format!("cannot create {}: {e}", dir.display())))?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(|e| Error::Output {
            path: file.display().to_string(),
            reason: e.to_string(),
        })?;
    out.write_all(text.as_bytes()).map_err(|e| Error::Output {
        path: file.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(DraftReport {
        file,
        version,
        sql: draft.sql,
        notes: draft.notes,
        remaining,
    })
}

/// The schema file the folder's `seed.toml` names, read as the build
/// reads it.
fn schema_file(seed_dir: &Path) -> Result<String> {
    let path = seed_dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!(
            "cannot read {}: {e} (is --seed-dir the seed folder?)",
            path.display()
        ))
    })?;
    let manifest =
        manifest::parse(&text, MANIFEST_FILE).map_err(|e| Error::Usage(e.to_string()))?;
    Ok(manifest.schema)
}

/// An empty in-memory database, foreign keys off (a schema is only read).
pub(crate) async fn memory() -> Result<libsql::Connection> {
    let failed = |e: libsql::Error| Error::Usage(format!("cannot open an in-memory database: {e}"));
    let db = libsql::Builder::new_local(":memory:")
        .build()
        .await
        .map_err(failed)?;
    let conn = db.connect().map_err(failed)?;
    conn.execute("PRAGMA foreign_keys = OFF", ())
        .await
        .map_err(failed)?;
    Ok(conn)
}

/// The application's objects in creation order, their SQL as written.
async fn application_objects(conn: &libsql::Connection) -> Result<Vec<SchemaObject>> {
    let mut objects = schema::objects(conn)
        .await
        .map_err(|e| Error::Usage(format!("cannot read the schema: {e}")))?;
    objects.retain(|o| !schema::is_internal(&o.name) && !is_seedbake_table(&o.table));
    Ok(objects)
}
