//! `extract`: the database, read in one snapshot, written back as a seed
//! folder the compiler accepts, whose build carries the same fingerprint as
//! the database. The folder is assembled beside its destination, compiled
//! there to prove the round trip, and only then put in place.

mod cells;
mod folder;
mod manifest_text;
mod source_files;
mod tables;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use self::tables::{DbTable, Gathered, Keyed, SourceRows};
use super::TrafficReport;
use super::tx::read_failed;
use crate::database::Target;
use crate::error::{Error, Result};
use crate::fingerprint::{self, Fingerprint, SCHEMA_ENTRY};
use crate::schema::{SchemaObject, TableScan, is_internal};
use crate::seed;
use crate::value::Value;

pub use tables::PASSWORD_PLACEHOLDER;

/// What to extract, and where to.
pub struct ExtractOptions<'a> {
    /// The seed folder to write; it must not exist or be empty, unless
    /// `replace`.
    pub out: &'a Path,
    /// The tables to write (empty: every table the seed knows and every
    /// other table holding rows).
    pub tables: &'a [String],
    pub replace: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtractReport {
    pub target: String,
    pub folder: String,
    /// The fingerprint of what was read, which the written folder's build
    /// carries too (when `complete`).
    pub fingerprint: String,
    /// The fingerprint a build of the folder has: `fingerprint` when
    /// complete, else that of the schema with the chosen tables' rows.
    pub folder_fingerprint: String,
    /// Every table was written: a build of the folder verifies the
    /// database as it was read. With `--tables`, only the written tables
    /// (and the schema) are proven equal.
    pub complete: bool,
    pub tables: Vec<(String, u64)>,
    pub rows: u64,
    /// Tables the seed did not know, written with a new manifest entry.
    pub new_tables: Vec<String>,
    /// How many credentials were written as [`PASSWORD_PLACEHOLDER`].
    pub placeholder_passwords: usize,
    pub images: usize,
    /// Whether seed.toml was written as a new document (tables added or
    /// left out), its comments not kept.
    pub manifest_rewritten: bool,
    pub traffic: Option<TrafficReport>,
}

pub async fn extract(target: &dyn Target, opts: &ExtractOptions<'_>) -> Result<ExtractReport> {
    let seed = seed::get();
    let manifest = seedbake_compiler::manifest::parse(seed.manifest, "seed.toml").map_err(|e| {
        Error::Unextractable(format!("this binary's seed.toml does not parse: {e}"))
    })?;
    let staging = folder::start(opts.out, opts.replace)?;

    // The tables' descriptions, whatever their number, with the request
    // that begins the snapshot.
    target.expect(&crate::schema::TABLE_READS.map(str::to_owned));
    target
        .read_snapshot()
        .await
        .map_err(|e| read_failed(target, "starting a read transaction", e))?;
    let read = read_all(target).await;
    target.end_snapshot().await;
    let (objects, db_tables, read_fp) = read?;

    let known: Vec<&str> = manifest.tables.iter().map(|t| t.name.as_str()).collect();
    for wanted in opts.tables {
        if !db_tables.iter().any(|t| t.schema.name == *wanted) {
            return Err(Error::Usage(format!(
                "--tables: the database has no table {wanted:?}"
            )));
        }
    }
    let chosen = |name: &str| opts.tables.is_empty() || opts.tables.iter().any(|t| t == name);
    parents_chosen(&manifest, &chosen)?;
    let complete = opts.tables.is_empty()
        || db_tables
            .iter()
            .all(|t| chosen(&t.schema.name) || t.rows.is_empty());

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.extend(schema_files(seed, &manifest.schema, &objects, &read_fp)?);

    let mut speller = cells::RealSpeller::new().await.map_err(|e| {
        Error::Unextractable(format!(
            "cannot start the in-memory engine reals are checked in: {e}"
        ))
    })?;
    // Columns the database's triggers keep (a counter, a total): the
    // engine fills them again when the seed loads, so they stay out.
    let maintained = seedbake_compiler::trigger_set_columns(
        objects
            .iter()
            .filter(|o| o.kind == "trigger")
            .map(|o| o.sql.as_str()),
    );
    let mut gathered = Gathered::default();
    let mut keyed: HashMap<String, Keyed> = HashMap::new();
    let mut written = Vec::new();
    for spec in manifest.tables.iter().filter(|s| chosen(&s.name)) {
        let db = db_tables
            .iter()
            .find(|t| t.schema.name == spec.name)
            .ok_or_else(|| {
                Error::Unextractable(format!(
                    "the database has no table {}, which the seed fills",
                    spec.name
                ))
            })?;
        let (mut rows, index) = tables::known(seed, spec, db, &keyed, &maintained, &mut gathered)
            .map_err(Error::Unextractable)?;
        let text = if spec.file.ends_with(".json") {
            let document = seed
                .documents
                .iter()
                .find(|(f, _)| *f == spec.file)
                .map(|(_, d)| *d);
            source_files::json_document(&rows, document, spec.records.as_deref().unwrap_or(""))
        } else {
            let delimiter = spec
                .delimiter_byte()
                .map_err(Error::Unextractable)?
                .unwrap_or(b',');
            spell_reals(&mut speller, &spec.name, &mut rows).await?;
            source_files::csv(&rows, delimiter)
        };
        files.push((spec.file.clone(), text.into_bytes()));
        keyed.insert(spec.name.clone(), index);
        written.push((spec.name.clone(), rows.rows.len() as u64));
    }
    let mut new_tables = Vec::new();
    for db in db_tables.iter().filter(|t| {
        !known.contains(&t.schema.name.as_str()) && chosen(&t.schema.name) && !t.rows.is_empty()
    }) {
        let (mut rows, blobs): (SourceRows, Vec<String>) =
            tables::unknown(db).map_err(Error::Unextractable)?;
        spell_reals(&mut speller, &db.schema.name, &mut rows).await?;
        let file = format!("{}.csv", db.schema.name);
        files.push((file.clone(), source_files::csv(&rows, b',').into_bytes()));
        new_tables.push(manifest_text::NewTable {
            name: db.schema.name.clone(),
            file,
            blobs,
        });
        written.push((db.schema.name.clone(), rows.rows.len() as u64));
    }
    let left_out: Vec<&str> = known.iter().copied().filter(|t| !chosen(t)).collect();
    let manifest_rewritten = !new_tables.is_empty() || !left_out.is_empty();
    let manifest_out = if manifest_rewritten {
        manifest_text::rewrite(seed.manifest, &left_out, &new_tables)
            .map_err(Error::Unextractable)?
    } else {
        seed.manifest.to_owned()
    };
    files.push((
        seedbake_compiler::manifest::MANIFEST_FILE.to_owned(),
        manifest_out.into_bytes(),
    ));
    for (path, bytes) in &gathered.images {
        files.push((path.clone(), bytes.to_vec()));
    }
    for (path, bytes) in &files {
        staging.write(path, bytes)?;
    }

    let built = prove(&staging.dir, &read_fp, &db_tables, &written, complete)
        .await
        .map_err(|e| with_trigger_hint(e, &objects))?;
    staging.finish()?;
    let rows = written.iter().map(|(_, n)| n).sum();
    Ok(ExtractReport {
        target: target.location().to_string(),
        folder: opts.out.display().to_string(),
        fingerprint: read_fp.total.clone(),
        folder_fingerprint: built,
        complete,
        tables: written,
        rows,
        new_tables: new_tables.into_iter().map(|t| t.name).collect(),
        placeholder_passwords: gathered.passwords,
        images: gathered.images.len(),
        manifest_rewritten,
        traffic: target.traffic(),
    })
}

/// With `--tables`, a chosen table's `ref` must name a chosen table: the
/// folder gives references as the parent's natural keys.
fn parents_chosen(
    manifest: &seedbake_compiler::manifest::Manifest,
    chosen: &dyn Fn(&str) -> bool,
) -> Result<()> {
    use seedbake_compiler::manifest::Mapping;
    let origin = seedbake_compiler::Origin::file(seedbake_compiler::manifest::MANIFEST_FILE);
    for spec in manifest.tables.iter().filter(|s| chosen(&s.name)) {
        for (col, column) in &spec.columns {
            if let Ok(Mapping::Ref { table, .. }) = column.mapping(&origin, &spec.name, col)
                && !chosen(&table)
            {
                return Err(Error::Usage(format!(
                    "--tables: {}.{col} refers to {table} by its natural key, so {table} must be extracted too",
                    spec.name
                )));
            }
        }
    }
    Ok(())
}

/// Every real of a CSV table in a spelling the engine reads back exactly,
/// or the row whose real has none.
async fn spell_reals(
    speller: &mut cells::RealSpeller,
    table: &str,
    rows: &mut SourceRows,
) -> Result<()> {
    for (ri, row) in rows.rows.iter_mut().enumerate() {
        for (field, cell) in rows.fields.iter().zip(row.iter_mut()) {
            let cells::Cell::Real(r) = *cell else {
                continue;
            };
            let spelled = speller.spell(r).await.map_err(|e| {
                Error::Unextractable(format!("cannot check a real in the in-memory engine: {e}"))
            })?;
            *cell = cells::Cell::Number(spelled.ok_or_else(|| {
                Error::Unextractable(format!(
                    "table {table}, row {}, field {field}: the real {} has no decimal spelling the engine reads \
                     back as the same double, so no CSV cell can give it",
                    ri + 1,
                    cells::real_text(r)
                ))
            })?);
        }
    }
    Ok(())
}

/// A load fires the database's triggers again on rows that already hold
/// what the triggers wrote the first time (and on tables they fill): when
/// the round trip fails with triggers about, they are the likely cause.
fn with_trigger_hint(e: Error, objects: &[SchemaObject]) -> Error {
    let triggers: Vec<&str> = objects
        .iter()
        .filter(|o| o.kind == "trigger")
        .map(|o| o.name.as_str())
        .collect();
    match e {
        Error::Unextractable(reason) if !triggers.is_empty() => Error::Unextractable(format!(
            "{reason}. The database has triggers ({}), which fire again when the seed loads: rows and columns \
             they wrote are extracted as they are and would be written twice; leave the tables they fill out \
             (--tables) or make the triggers skip what the seed gives",
            triggers.join(", ")
        )),
        other => other,
    }
}

/// The schema objects, every application table's rows and the fingerprint,
/// all from the one snapshot open on `target`.
async fn read_all(target: &dyn Target) -> Result<(Vec<SchemaObject>, Vec<DbTable>, Fingerprint)> {
    let objects = super::read_schema(target)
        .await
        .map_err(|e| read_failed(target, "reading the schema", e))?;
    let mut schemas = crate::schema::tables(target)
        .await
        .map_err(|e| read_failed(target, "reading the tables", e))?;
    schemas.retain(|t| !is_internal(&t.name) && !fingerprint::is_seedbake_table(&t.name));
    let scans: Vec<TableScan<'_>> = schemas
        .iter()
        .map(|t| TableScan {
            table: &t.name,
            columns: t.columns.iter().map(|c| c.name.as_str()).collect(),
            order: t.order_columns(),
        })
        .collect();
    // The rows, and the rows the fingerprint reads (all but the credentials),
    // in the snapshot's last request.
    let excluded = seed::get().unfingerprinted();
    let mut ahead = scans.clone();
    ahead.extend(fingerprint::table_scans(&schemas, &excluded));
    target.last_reads();
    target
        .prefetch(&ahead)
        .await
        .map_err(|e| read_failed(target, "reading the tables' first rows", e))?;
    let mut all_rows = Vec::with_capacity(scans.len());
    for scan in &scans {
        let mut rows: Vec<Vec<Value>> = Vec::new();
        target
            .scan(scan, &mut |row| {
                rows.push(row.iter().map(|v| Value::from(*v)).collect());
                Ok(())
            })
            .await
            .map_err(|e| read_failed(target, &format!("reading {}", scan.table), e))?;
        all_rows.push(rows);
    }
    let tables = schemas
        .into_iter()
        .zip(all_rows)
        .map(|(schema, rows)| DbTable { schema, rows })
        .collect();
    let fp = fingerprint::compute(target, &excluded)
        .await
        .map_err(|e| read_failed(target, "fingerprinting the database", e))?;
    Ok((objects, tables, fp))
}

/// `schema.sql` (and the migrations): the seed's own files when the
/// database has the seed's schema, else the schema as the database has it.
fn schema_files(
    seed: &seed::Seed,
    schema_file: &str,
    objects: &[SchemaObject],
    read: &Fingerprint,
) -> Result<Vec<(String, Vec<u8>)>> {
    let seeds_schema = seed.default_profile().digest(SCHEMA_ENTRY);
    if read.entry(SCHEMA_ENTRY) == seeds_schema {
        let mut files = vec![(schema_file.to_owned(), seed.schema_sql.as_bytes().to_vec())];
        for m in seed.migrations.versions {
            files.push((format!("migrations/{}", m.file), m.sql.as_bytes().to_vec()));
        }
        return Ok(files);
    }
    if !seed.migrations.versions.is_empty() {
        return Err(Error::Unextractable(
            "the database's schema is not this build's, and the seed's migrations would not end at it: \
             bring the database in step first (`seedbake status`, `seedbake migrate`), or add the migration \
             to the seed and extract with the binary built from it"
                .into(),
        ));
    }
    let mut sql = String::new();
    for o in objects.iter().filter(|o| {
        !o.sql.is_empty() && !is_internal(&o.name) && !fingerprint::is_seedbake_table(&o.table)
    }) {
        sql.push_str(&o.sql);
        sql.push_str(";\n\n");
    }
    Ok(vec![(schema_file.to_owned(), sql.into_bytes())])
}

/// Compiles the written folder, as a build would, and requires its
/// fingerprint to be the database's (for a partial extract: the schema's
/// and the written tables' digests). A difference names the first row and
/// column that did not come back as it was read.
async fn prove(
    dir: &Path,
    read: &Fingerprint,
    db_tables: &[DbTable],
    written: &[(String, u64)],
    complete: bool,
) -> Result<String> {
    let (send, receive) = tokio::sync::oneshot::channel();
    let owned = dir.to_owned();
    // The compiler runs its own runtime, which may not start inside ours.
    std::thread::spawn(move || {
        let _ = send.send(seedbake_compiler::compile(&owned));
    });
    let compiled = receive
        .await
        .map_err(|_| Error::Unextractable("the compiler stopped while checking the written folder".into()))?
        .map_err(|e| {
            Error::Unextractable(format!(
                "the folder written from the database does not compile, so it cannot be extracted as it is: {e}"
            ))
        })?;
    let default = compiled.default_profile();
    let built = &default.fingerprint;
    let differing: Vec<String> = if complete {
        built.differing(read)
    } else {
        std::iter::once(SCHEMA_ENTRY)
            .chain(written.iter().map(|(t, _)| t.as_str()))
            .filter(|n| built.entry(n) != read.entry(n))
            .map(str::to_owned)
            .collect()
    };
    let Some(first) = differing.first() else {
        return Ok(built.total.clone());
    };
    let mut reason = format!(
        "the folder written from the database builds another fingerprint (it differs in {})",
        differing.join(", ")
    );
    if let (Some(db), Some(table)) = (
        db_tables.iter().find(|t| t.schema.name == *first),
        compiled.tables.iter().find(|t| t.name() == first),
    ) {
        reason.push_str(&first_difference(db, &table.rows));
    }
    Err(Error::Unextractable(reason))
}

/// The first row and column the build does not hold as the database does.
fn first_difference(db: &DbTable, built: &[Vec<Value>]) -> String {
    if db.rows.len() != built.len() {
        return format!(
            ": table {} has {} rows in the database and {} in the build (triggers the load fires write it?)",
            db.schema.name,
            db.rows.len(),
            built.len()
        );
    }
    for (ri, (a, b)) in db.rows.iter().zip(built).enumerate() {
        for (ci, col) in db.schema.columns.iter().enumerate() {
            if a.get(ci) != b.get(ci) {
                return format!(
                    ": table {}, row {}, column {}: the database holds {}, the seed gives {}",
                    db.schema.name,
                    ri + 1,
                    col.name,
                    cells::literal(&a[ci]),
                    b.get(ci).map(cells::literal).unwrap_or_default()
                );
            }
        }
    }
    String::new()
}
