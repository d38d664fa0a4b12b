//! The seed compiler: reads `seed-data/`, checks every row against the real
//! schema in an in-memory libSQL database, and generates the Rust module the
//! binary embeds.
//!
//! The binary's `build.rs` is a thin door into this crate ([`build`]); tests
//! call [`compile`] on broken fixtures directly, and compare its result with
//! what the binary embedded.

mod admin;
mod app;
pub mod build_script;
mod cells;
mod checks;
pub mod codegen;
mod compiled;
mod defaults;
mod determinism;
pub use determinism::trigger_set_columns;
mod engine;
pub mod error;
mod explain;
mod images;
mod keys;
pub mod manifest;
pub mod migrations;
mod profiles;
mod reference;
mod rows;
pub mod source;
mod suggest;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use seedbake_core::{fingerprint, schema};

pub use app::CompiledApp;
pub use build_script::{build, build_from};
pub use compiled::{Compiled, CompiledAdmin, CompiledProfile, CompiledTable, Image};
pub use defaults::{CompiledDefault, DefaultValue};
pub use error::{ErrorKind, Origin, SeedError};
use manifest::Mapping;
pub use migrations::CompiledMigration;
pub use reference::CompiledReference;

/// Compiles the seed folder. Blocking: it runs its own small runtime, so call
/// it from a build script or a plain test, not from inside async code.
pub fn compile(seed_dir: &Path) -> Result<Compiled, SeedError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("cannot start a tokio runtime for the seed compiler");
    runtime.block_on(Compiler::new(seed_dir).run())
}

/// One compile: the seed folder, and what reading it gathers on the way.
struct Compiler {
    dir: PathBuf,
    /// How the folder is named in messages, e.g. `seed-data`.
    dir_name: String,
    inputs: Vec<PathBuf>,
    warnings: Vec<String>,
    images: Vec<Image>,
    /// The declared defaults, and the time `now` stands for in seeded rows.
    defaults: Vec<CompiledDefault>,
    seed_time: Option<String>,
    /// The bad cells found so far: each refuses its row, and together they
    /// refuse the build once every table is read.
    errors: Vec<SeedError>,
}

impl Compiler {
    fn new(dir: &Path) -> Self {
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        Compiler {
            dir: dir.to_owned(),
            dir_name,
            inputs: Vec::new(),
            warnings: Vec::new(),
            images: Vec::new(),
            defaults: Vec::new(),
            seed_time: None,
            errors: Vec::new(),
        }
    }

    /// The build's end at `last`, with the bad cells found before it.
    fn refused(&mut self, last: SeedError) -> SeedError {
        self.errors.push(last);
        error::gathered(std::mem::take(&mut self.errors)).expect("holds one")
    }

    fn display(&self, rel: &str) -> String {
        format!("{}/{}", self.dir_name, rel)
    }

    fn read_text(&mut self, rel: &str) -> Result<String, SeedError> {
        let path = self.dir.join(rel);
        self.inputs.push(path.clone());
        std::fs::read_to_string(&path).map_err(|e| {
            SeedError::new(
                ErrorKind::Io,
                Origin::file(self.display(rel)),
                format!("cannot read the file: {e}"),
            )
        })
    }

    async fn run(mut self) -> Result<Compiled, SeedError> {
        let manifest_name = self.display(manifest::MANIFEST_FILE);
        let manifest_text = self.read_text(manifest::MANIFEST_FILE)?;
        let manifest = manifest::parse(&manifest_text, &manifest_name)?;
        let schema_sql = self.read_text(&manifest.schema)?;
        let schema_origin = Origin::file(self.display(&manifest.schema));

        let conn = engine::memory_db(&schema_sql, &schema_origin).await?;
        let all_tables = schema::tables(&conn)
            .await
            .map_err(|e| SeedError::new(ErrorKind::Schema, schema_origin.clone(), e))?;
        if let Some(own) = all_tables
            .iter()
            .find(|t| fingerprint::is_seedbake_table(&t.name))
        {
            return Err(SeedError::new(
                ErrorKind::Schema,
                schema_origin,
                format!(
                    "the table name {} is reserved for seedbake's own metadata",
                    own.name
                ),
            ));
        }
        checks::check_manifest(&manifest, &all_tables)?;
        let app = app::app(&manifest)?;
        self.defaults = defaults::defaults(&manifest, &all_tables)?;
        self.seed_time = manifest.seed_time.as_ref().map(|t| t.as_str().to_owned());
        let schema_name = manifest.schema.clone();
        let migrations = self.migrations(&conn, &schema_name).await?;

        let mut compiled: Vec<CompiledTable> = Vec::new();
        // Each seeded row's origin by (table, rowid), to name the line of a
        // foreign-key violation the engine reports by rowid.
        let mut origins: HashMap<(String, i64), Origin> = HashMap::new();
        for spec in &manifest.tables {
            let entry = manifest.origin(spec);
            let table = all_tables
                .iter()
                .find(|t| t.name == spec.name)
                .expect("checked by check_manifest");
            let rows::BuiltRows {
                rows: pending,
                keys,
                index,
            } = self
                .build_rows(spec, table, &entry, &compiled)
                .map_err(|e| self.refused(e))?;
            let inserted: Vec<bool> = match pending.first() {
                Some(row) => row.values.iter().map(Option::is_some).collect(),
                None => vec![true; table.columns.len()],
            };
            let stored = engine::insert_rows(&conn, table, &pending)
                .await
                .map_err(|e| self.refused(e))?;
            let mut rows = Vec::with_capacity(stored.len());
            for (row, (rowid, values)) in pending.iter().zip(stored) {
                origins.insert((table.name.clone(), rowid), row.origin.clone());
                rows.push(values);
            }
            drop(pending);
            let mut unfingerprinted: Vec<String> = spec
                .columns
                .iter()
                .filter(|(col, s)| {
                    matches!(s.mapping(&entry, &table.name, col), Ok(Mapping::Bcrypt(_)))
                })
                .map(|(col, _)| col.clone())
                .collect();
            if let Some(admin) = &manifest.admin
                && admin.table == table.name
                && !unfingerprinted.contains(&admin.password_column)
            {
                unfingerprinted.push(String::clone(&admin.password_column));
            }
            compiled.push(CompiledTable {
                schema: table.clone(),
                file: self.display(&spec.file),
                rows,
                inserted,
                key_fields: spec.key.clone(),
                keys,
                index,
                unfingerprinted,
            });
        }
        if let Some(e) = error::gathered(std::mem::take(&mut self.errors)) {
            return Err(e);
        }

        determinism::check(
            &conn,
            &all_tables,
            &compiled,
            &schema_origin,
            &manifest_name,
        )
        .await?;
        explain::check_foreign_keys(&conn, &all_tables, &origins).await?;
        let admin = admin::admin(&manifest, &manifest_name, &compiled, &self.defaults)?;
        let profiles =
            profiles::profiles(&manifest, &manifest_name, &schema_sql, &conn, &compiled).await?;
        // The binary loads the tables in the order the build did, the
        // manifest's: triggers that write shared tables then run in the
        // same order on both sides (foreign keys are checked after the load).
        let tables = compiled;
        let reference = reference::reference_tables(&manifest, &parents_first(&tables))?;
        let documents = self.documents(&manifest)?;

        Ok(Compiled {
            app,
            schema_sql,
            manifest: manifest_text,
            documents,
            tables,
            profiles,
            default_profile: manifest.default_profile.into_inner(),
            admin,
            images: self.images,
            static_dir: manifest
                .images
                .map(|i| i.into_inner().static_dir.into_inner()),
            defaults: self.defaults,
            migrations,
            reference,
            warnings: self.warnings,
            inputs: self.inputs,
        })
    }
}

impl Compiler {
    /// The JSON sources with their records emptied (see [`Compiled::documents`]).
    fn documents(
        &mut self,
        manifest: &manifest::Manifest,
    ) -> Result<Vec<(String, String)>, SeedError> {
        let mut documents = Vec::new();
        for spec in manifest.tables.iter().filter(|s| s.file.ends_with(".json")) {
            let text = self.read_text(&spec.file)?;
            let pointer = spec.records.as_deref().unwrap_or("");
            // The build has read this very list already: the span is there.
            let Some(span) = seedbake_core::json_span::pointer_span(&text, pointer) else {
                continue;
            };
            let emptied = format!("{}[]{}", &text[..span.start], &text[span.end..]);
            documents.push((spec.file.clone(), emptied));
        }
        Ok(documents)
    }
}

/// Parents before children (stable: manifest order where the foreign keys
/// allow it): the order `migrate` inserts reference rows in, so a new row's
/// parent id is known before the row.
fn parents_first(tables: &[CompiledTable]) -> Vec<&CompiledTable> {
    let mut pending: Vec<&CompiledTable> = tables.iter().collect();
    let mut ordered: Vec<&CompiledTable> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| {
            t.schema.foreign_keys.iter().all(|fk| {
                fk.parent_table == t.name() || !pending.iter().any(|p| p.name() == fk.parent_table)
            })
        });
        // A cycle: keep manifest order.
        ordered.push(pending.remove(ready.unwrap_or(0)));
    }
    ordered
}
