//! The seed compiler: reads `seed-data/`, checks every row against the real
//! schema in an in-memory libSQL database, and generates the Rust module the
//! binary embeds.
//!
//! The binary's `build.rs` is a thin door into this crate ([`build`]); tests
//! call [`compile`] on broken fixtures directly, and compare its result with
//! what the binary embedded.

pub mod build_script;
pub mod codegen;
pub mod error;
pub mod manifest;
pub mod source;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use libsql::Connection;

use seedbake_core::credentials::hash_seed_password;
use seedbake_core::fingerprint::{self, Fingerprint};
use seedbake_core::schema::{self, quote_ident};
use seedbake_core::value::{ColumnKind, Value, from_libsql, to_libsql};

pub use build_script::build;
pub use error::{ErrorKind, Origin, SeedError};
use manifest::{Manifest, Mapping};
use source::{Cell, Record};

/// A seed checked and ready to embed.
#[derive(Debug)]
pub struct Compiled {
    pub schema_sql: String,
    /// Seeded tables, in an order that inserts parents before children.
    pub tables: Vec<CompiledTable>,
    pub profiles: Vec<CompiledProfile>,
    pub default_profile: String,
    pub admin: Option<CompiledAdmin>,
    pub images: Vec<Image>,
    /// Things worth saying that do not stop the build.
    pub warnings: Vec<String>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct CompiledTable {
    pub schema: schema::Table,
    /// The source file as the user knows it.
    pub file: String,
    /// Every row as the engine stored it, all columns in schema order.
    pub rows: Vec<Vec<Value>>,
    /// The natural key's source fields, and each row's key texts.
    pub key_fields: Vec<String>,
    pub keys: Vec<Vec<String>>,
    /// Columns the fingerprint leaves out (credentials operators rotate).
    pub unfingerprinted: Vec<String>,
}

impl CompiledTable {
    pub fn name(&self) -> &str {
        &self.schema.name
    }
}

#[derive(Debug)]
pub struct CompiledProfile {
    pub name: String,
    pub tables: Vec<String>,
    pub fingerprint: Fingerprint,
}

#[derive(Debug)]
pub struct CompiledAdmin {
    pub table: String,
    pub password_column: String,
    pub username_column: String,
    /// Column values `init-admin` sets, checked against the column types.
    pub grant: Vec<(String, Value)>,
    /// The row's rowid alias column and value.
    pub id_column: String,
    pub id: i64,
    /// The natural key as written in seed.toml, e.g. `admin`.
    pub key: String,
}

#[derive(Debug)]
pub struct Image {
    /// The value stored in the column, e.g. `images/f01-balletbein.png`.
    pub path: String,
    pub table: String,
    pub column: String,
    pub file: PathBuf,
    pub media_type: &'static str,
}

/// Compiles the seed folder. Blocking: it runs its own small runtime, so call
/// it from a build script or a plain test, not from inside async code.
pub fn compile(seed_dir: &Path) -> Result<Compiled, SeedError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("cannot start a tokio runtime for the seed compiler");
    runtime.block_on(Compiler::new(seed_dir).run())
}

struct Compiler {
    dir: PathBuf,
    /// How the folder is named in messages, e.g. `seed-data`.
    dir_name: String,
    inputs: Vec<PathBuf>,
    warnings: Vec<String>,
    images: Vec<Image>,
}

/// A table's rows before the engine sees them: `None` for columns the source
/// does not provide (the engine applies their default or NULL).
struct PendingRow {
    origin: Origin,
    values: Vec<Option<Value>>,
}

fn internal(origin: Origin, e: libsql::Error) -> SeedError {
    SeedError::new(ErrorKind::Schema, origin, schema::engine_message(&e))
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
        }
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

        let conn = memory_db(&schema_sql, &schema_origin).await?;
        let all_tables = schema::tables(&conn)
            .await
            .map_err(|e| SeedError::new(ErrorKind::Schema, schema_origin.clone(), e))?;
        if all_tables.iter().any(|t| t.name == fingerprint::META_TABLE) {
            return Err(SeedError::new(
                ErrorKind::Schema,
                schema_origin,
                format!(
                    "the table name {} is reserved for seedbake's own metadata",
                    fingerprint::META_TABLE
                ),
            ));
        }
        self.check_manifest(&manifest, &manifest_text, &manifest_name, &all_tables)?;

        let mut compiled: Vec<CompiledTable> = Vec::new();
        // Each seeded row's origin by (table, rowid), to name the line of a
        // foreign-key violation the engine reports by rowid.
        let mut origins: HashMap<(String, i64), Origin> = HashMap::new();
        for (index, spec) in manifest.tables.iter().enumerate() {
            let entry = Origin::line(
                manifest_name.clone(),
                manifest::table_line(&manifest_text, index).unwrap_or(1),
            );
            let table = all_tables
                .iter()
                .find(|t| t.name == spec.name)
                .expect("checked by check_manifest");
            let (pending, keys) = self.build_rows(spec, table, &entry, &compiled)?;
            let rowids = insert_rows(&conn, table, &pending).await?;
            for (row, rowid) in pending.iter().zip(rowids) {
                origins.insert((table.name.clone(), rowid), row.origin.clone());
            }
            drop(pending);
            let rows = read_back(&conn, table)
                .await
                .map_err(|e| internal(entry.clone(), e))?;
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
                unfingerprinted.push(admin.password_column.clone());
            }
            compiled.push(CompiledTable {
                schema: table.clone(),
                file: self.display(&spec.file),
                rows,
                key_fields: spec.key.clone(),
                keys,
                unfingerprinted,
            });
        }

        check_foreign_keys(&conn, &all_tables, &origins).await?;
        let admin = self.admin(&manifest, &manifest_name, &compiled)?;
        let profiles = self
            .profiles(&manifest, &manifest_name, &schema_sql, &conn, &compiled)
            .await?;
        let tables = insertion_order(compiled);

        Ok(Compiled {
            schema_sql,
            tables,
            profiles,
            default_profile: manifest.default_profile,
            admin,
            images: self.images,
            warnings: self.warnings,
            inputs: self.inputs,
        })
    }

    fn check_manifest(
        &self,
        manifest: &Manifest,
        text: &str,
        file: &str,
        tables: &[schema::Table],
    ) -> Result<(), SeedError> {
        let known = |name: &str| tables.iter().any(|t| t.name == name);
        let at = |needle: &str| {
            let line = text
                .lines()
                .position(|l| l.contains(needle))
                .map_or(1, |i| i as u64 + 1);
            Origin::line(file, line)
        };
        let err =
            |needle: &str, msg: String| Err(SeedError::new(ErrorKind::Manifest, at(needle), msg));
        let table_names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        if !manifest.profiles.contains_key(&manifest.default_profile) {
            return err(
                "default_profile",
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
            let entry = Origin::line(file, manifest::table_line(text, i).unwrap_or(1));
            if !known(&spec.name) {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry,
                    format!(
                        "[[table]] {:?}: the schema creates no such table (tables: {})",
                        spec.name,
                        table_names.join(", ")
                    ),
                ));
            }
            if manifest.tables[..i].iter().any(|s| s.name == spec.name) {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry,
                    format!("table {} has two [[table]] entries", spec.name),
                ));
            }
        }
        for (name, list) in &manifest.profiles {
            for (i, t) in list.iter().enumerate() {
                if !known(t) {
                    return err(
                        &format!("{name} ="),
                        format!(
                            "profile {name} names table {t:?}, which the schema does not create (tables: {})",
                            table_names.join(", ")
                        ),
                    );
                }
                if list[..i].contains(t) {
                    return err(
                        &format!("{name} ="),
                        format!("profile {name} names table {t} twice"),
                    );
                }
                if !manifest.tables.iter().any(|s| &s.name == t) {
                    return err(
                        &format!("{name} ="),
                        format!("profile {name} names table {t}, but no [[table]] entry feeds it"),
                    );
                }
            }
        }
        if let Some(admin) = &manifest.admin {
            let Some(t) = tables.iter().find(|t| t.name == admin.table) else {
                return err(
                    "[admin]",
                    format!("[admin] table {:?} is not in the schema", admin.table),
                );
            };
            if t.column(&admin.password_column).is_none() {
                return err(
                    "password_column",
                    format!(
                        "[admin] password_column {:?} is not a column of {}",
                        admin.password_column, t.name
                    ),
                );
            }
        }
        Ok(())
    }

    /// Turns a table's source records into typed rows, resolving references
    /// and checking types and NOT NULL on the way.
    fn build_rows(
        &mut self,
        spec: &manifest::TableSpec,
        table: &schema::Table,
        entry: &Origin,
        done: &[CompiledTable],
    ) -> Result<(Vec<PendingRow>, Vec<Vec<String>>), SeedError> {
        let display = self.display(&spec.file);
        let path = self.dir.join(&spec.file);
        self.inputs.push(path.clone());
        let src = source::read(&path, &display, spec.records.as_deref())?;

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

        // How each column is filled, or None when the source leaves it out.
        let mut mappings: Vec<Option<Mapping>> = Vec::with_capacity(table.columns.len());
        for col in &table.columns {
            let mapping = match spec.columns.get(&col.name) {
                Some(s) => Some(s.mapping(entry, &table.name, &col.name)?),
                None if src.header.contains(&col.name) => Some(Mapping::Field(col.name.clone())),
                None if table.rowid_alias().is_some_and(|a| a.name == col.name) => {
                    Some(Mapping::Auto)
                }
                None => None,
            };
            if mapping.is_none() && col.not_null && !col.has_default {
                return Err(SeedError::new(
                    ErrorKind::MissingValue,
                    src.header_origin.clone(),
                    format!(
                        "{}.{} is NOT NULL, but the source has no field {:?}: add it, or map the column in seed.toml [table.columns]",
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
            if let Some(Mapping::Ref { table: target, .. }) = &mapping
                && !done.iter().any(|t| t.name() == target)
            {
                return Err(SeedError::new(
                    ErrorKind::Manifest,
                    entry.clone(),
                    format!(
                        "{}.{} refers to table {target:?}, which no earlier [[table]] entry seeds; list {target} before {}",
                        table.name, col.name, table.name
                    ),
                ));
            }
            mappings.push(mapping);
        }

        // Every field the source provides must be used by something.
        let mut used: Vec<&str> = spec.key.iter().map(String::as_str).collect();
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

        let mut rows = Vec::with_capacity(src.records.len());
        let mut keys = Vec::with_capacity(src.records.len());
        let mut seen_keys: HashMap<Vec<String>, usize> = HashMap::new();
        for (index, record) in src.records.iter().enumerate() {
            if !spec.key.is_empty() {
                let key: Vec<String> = spec
                    .key
                    .iter()
                    .map(|f| record.get(f).map(Cell::key_text).unwrap_or_default())
                    .collect();
                if key.iter().all(String::is_empty) {
                    return Err(SeedError::new(
                        ErrorKind::Reference,
                        record.origin.clone(),
                        format!(
                            "the natural key ({}) of this {} row is empty",
                            spec.key.join(", "),
                            table.name
                        ),
                    ));
                }
                if let Some(&first) = seen_keys.get(&key) {
                    return Err(SeedError::new(
                        ErrorKind::Reference,
                        record.origin.clone(),
                        format!(
                            "the natural key {} = {:?} of table {} is already used at {}",
                            spec.key.join(", "),
                            key.join(" "),
                            table.name,
                            src.records[first].origin.short()
                        ),
                    ));
                }
                seen_keys.insert(key.clone(), index);
                keys.push(key);
            }
            let mut values = Vec::with_capacity(table.columns.len());
            for (col, mapping) in table.columns.iter().zip(&mappings) {
                let Some(mapping) = mapping else {
                    values.push(None);
                    continue;
                };
                let value = self.value(table, col, mapping, record, index, &path, done)?;
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
                values.push(Some(value));
            }
            rows.push(PendingRow {
                origin: record.origin.clone(),
                values,
            });
        }
        Ok((rows, keys))
    }

    #[allow(clippy::too_many_arguments)]
    fn value(
        &mut self,
        table: &schema::Table,
        col: &schema::Column,
        mapping: &Mapping,
        record: &Record,
        index: usize,
        source_path: &Path,
        done: &[CompiledTable],
    ) -> Result<Value, SeedError> {
        let kind = ColumnKind::from_declared(&col.declared_type);
        let field_origin = |f: &str| record.origin.field(f);
        let type_error = |f: &str, msg: String| {
            SeedError::new(
                ErrorKind::Type,
                field_origin(f),
                format!("{}.{}: {msg}", table.name, col.name),
            )
            .with_field(&table.name, &col.name)
        };
        let cell = |f: &str| {
            record
                .get(f)
                .cloned()
                .unwrap_or(Cell::Json(serde_json::Value::Null))
        };
        match mapping {
            Mapping::Auto => Ok(Value::Integer(index as i64 + 1)),
            Mapping::Field(f) => match cell(f) {
                Cell::Text(t) => kind.parse_text(&t),
                Cell::Json(j) => kind.parse_json(&j),
            }
            .map_err(|m| type_error(f, m)),
            Mapping::Const(v) => {
                let json = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
                kind.parse_json(&json).map_err(|m| type_error(&col.name, m))
            }
            Mapping::Bcrypt(f) => {
                let c = cell(f);
                if c.is_empty() {
                    return Ok(Value::Null);
                }
                let plain = c.key_text();
                Ok(Value::Text(hash_seed_password(
                    &table.name,
                    &col.name,
                    index,
                    &plain,
                )))
            }
            Mapping::Image(f) => {
                let c = cell(f);
                if c.is_empty() {
                    return Ok(Value::Null);
                }
                let rel = c.key_text();
                let file = source_path.parent().unwrap_or(Path::new(".")).join(&rel);
                let bytes = std::fs::read(&file).map_err(|e| {
                    SeedError::new(
                        ErrorKind::MissingImage,
                        field_origin(f),
                        format!(
                            "{}.{}: image {rel:?} cannot be read ({e}); expected at {}",
                            table.name,
                            col.name,
                            file.display()
                        ),
                    )
                    .with_field(&table.name, &col.name)
                })?;
                self.inputs.push(file.clone());
                let media_type = sniff_media_type(&bytes);
                let ext = Path::new(&rel)
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                if !media_type_matches(media_type, &ext) {
                    self.warnings.push(format!(
                        "{}: image {rel:?} holds {media_type} data despite its .{ext} name (embedded as is)",
                        field_origin(f)
                    ));
                }
                if !self
                    .images
                    .iter()
                    .any(|i| i.path == rel && i.table == table.name)
                {
                    self.images.push(Image {
                        path: rel.clone(),
                        table: table.name.clone(),
                        column: col.name.clone(),
                        file,
                        media_type,
                    });
                }
                kind.parse_text(&rel).map_err(|m| type_error(f, m))
            }
            Mapping::Ref {
                table: target,
                from,
            } => {
                let key: Vec<String> = from.iter().map(|f| cell(f).key_text()).collect();
                if key.iter().all(String::is_empty) {
                    return Ok(Value::Null);
                }
                let parent = done
                    .iter()
                    .find(|t| t.name() == target)
                    .expect("checked earlier");
                let origin = field_origin(&from[0]);
                if parent.key_fields.is_empty() {
                    return Err(SeedError::new(
                        ErrorKind::Manifest,
                        origin,
                        format!(
                            "{}.{}: table {target} has no `key` in seed.toml, so rows cannot refer to it by name",
                            table.name, col.name
                        ),
                    ));
                }
                let Some(row) = parent.keys.iter().position(|k| *k == key) else {
                    let shown = key.join(" ");
                    let hint = closest(&shown, parent.keys.iter().map(|k| k.join(" ")))
                        .map(|c| format!("; did you mean {c:?}?"))
                        .unwrap_or_default();
                    return Err(SeedError::new(
                        ErrorKind::Reference,
                        origin,
                        format!(
                            "{}.{}: no {target} row has the key {} = {shown:?} (keys are in {}){hint}",
                            table.name,
                            col.name,
                            parent.key_fields.join(", "),
                            parent.file
                        ),
                    )
                    .with_field(&table.name, &col.name));
                };
                let fk = table.foreign_keys.iter().find(|fk| fk.column == col.name);
                let parent_column = match fk {
                    Some(fk) if fk.parent_table != *target => {
                        return Err(SeedError::new(
                            ErrorKind::Manifest,
                            origin,
                            format!(
                                "{}.{} is a foreign key to {}, but seed.toml resolves it in {target}",
                                table.name, col.name, fk.parent_table
                            ),
                        ));
                    }
                    Some(fk) if fk.parent_column != "rowid" => fk.parent_column.clone(),
                    _ => match parent.schema.rowid_alias() {
                        Some(c) => c.name.clone(),
                        None => {
                            return Err(SeedError::new(
                                ErrorKind::Manifest,
                                origin,
                                format!(
                                    "{}.{}: table {target} has no INTEGER PRIMARY KEY to refer to",
                                    table.name, col.name
                                ),
                            ));
                        }
                    },
                };
                let ci = parent
                    .schema
                    .columns
                    .iter()
                    .position(|c| c.name == parent_column)
                    .expect("foreign key names a parent column");
                Ok(parent.rows[row][ci].clone())
            }
        }
    }

    fn admin(
        &self,
        manifest: &Manifest,
        file: &str,
        compiled: &[CompiledTable],
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
        Ok(Some(CompiledAdmin {
            table: spec.table.clone(),
            password_column: spec.password_column.clone(),
            username_column: spec.username_column.clone(),
            grant,
            id_column: alias.name.clone(),
            id,
            key: key.join(" "),
        }))
    }

    async fn profiles(
        &self,
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
                            values: r.iter().cloned().map(Some).collect(),
                        })
                        .collect();
                    insert_rows(&db, &t.schema, &rows).await?;
                }
                fingerprint::compute(&db, &excluded).await
            }
            .map_err(|e| SeedError::new(ErrorKind::Schema, origin.clone(), e))?;
            out.push(CompiledProfile {
                name: name.clone(),
                tables: list.clone(),
                fingerprint: fp,
            });
        }
        Ok(out)
    }
}

fn sniff_media_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"<svg") || bytes.starts_with(b"<?xml") {
        "image/svg+xml"
    } else {
        "application/octet-stream"
    }
}

fn media_type_matches(media_type: &str, ext: &str) -> bool {
    matches!(
        (media_type, ext),
        ("image/png", "png")
            | ("image/jpeg", "jpg" | "jpeg")
            | ("image/gif", "gif")
            | ("image/webp", "webp")
            | ("image/svg+xml", "svg")
    )
}

/// The candidate closest to `wanted` by edit distance, if it is close enough
/// to be a plausible typo.
fn closest(wanted: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    candidates
        .map(|c| (distance(wanted, &c), c))
        .filter(|(d, c)| *d <= 3.max(c.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

async fn memory_db(schema_sql: &str, origin: &Origin) -> Result<Connection, SeedError> {
    let db = libsql::Builder::new_local(":memory:")
        .build()
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    let conn = db.connect().map_err(|e| internal(origin.clone(), e))?;
    conn.execute("PRAGMA foreign_keys = OFF", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    conn.execute_batch(schema_sql).await.map_err(|e| {
        SeedError::new(
            ErrorKind::Schema,
            origin.clone(),
            format!("the schema does not run: {}", schema::engine_message(&e)),
        )
    })?;
    Ok(conn)
}

/// Inserts the rows one by one, so the engine's verdict on each names its
/// line. Returns each row's rowid.
async fn insert_rows(
    conn: &Connection,
    table: &schema::Table,
    rows: &[PendingRow],
) -> Result<Vec<i64>, SeedError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let provided: Vec<usize> = (0..table.columns.len())
        .filter(|&i| first.values[i].is_some())
        .collect();
    let cols: Vec<String> = provided
        .iter()
        .map(|&i| quote_ident(&table.columns[i].name))
        .collect();
    let sql = if provided.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES", quote_ident(&table.name))
    } else {
        let marks: Vec<String> = (1..=provided.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote_ident(&table.name),
            cols.join(", "),
            marks.join(", ")
        )
    };
    let origin = &first.origin;
    conn.execute("BEGIN", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    let stmt = conn
        .prepare(&sql)
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    let mut rowids = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let params: Vec<libsql::Value> = provided
            .iter()
            .map(|&i| to_libsql(row.values[i].as_ref().expect("uniform per table").as_ref()))
            .collect();
        stmt.reset();
        if let Err(e) = stmt.execute(params).await {
            let _ = conn.execute("ROLLBACK", ()).await;
            return Err(constraint_error(table, rows, n, schema::engine_message(&e)));
        }
        rowids.push(conn.last_insert_rowid());
    }
    conn.execute("COMMIT", ())
        .await
        .map_err(|e| internal(origin.clone(), e))?;
    Ok(rowids)
}

/// Explains the engine's refusal of row `n` in the seed's terms.
fn constraint_error(
    table: &schema::Table,
    rows: &[PendingRow],
    n: usize,
    msg: String,
) -> SeedError {
    let row = &rows[n];
    let col_index = |name: &str| table.columns.iter().position(|c| c.name == name);
    let show = |ci: usize| {
        row.values[ci]
            .as_ref()
            .map_or_else(|| "NULL".to_owned(), |v| v.to_string())
    };
    if let Some(list) = msg.strip_prefix("UNIQUE constraint failed: ") {
        let cols: Vec<String> = list
            .split(", ")
            .map(|c| c.rsplit('.').next().unwrap_or(c).to_owned())
            .collect();
        let idx: Vec<usize> = cols.iter().filter_map(|c| col_index(c)).collect();
        let earlier = rows[..n]
            .iter()
            .position(|r| idx.iter().all(|&i| r.values[i] == row.values[i]));
        let constraint = table.unique.iter().find(|(_, c)| *c == cols).map_or_else(
            || "PRIMARY KEY".to_owned(),
            |(name, _)| format!("UNIQUE {name}"),
        );
        let values: Vec<String> = idx.iter().map(|&i| show(i)).collect();
        let place = earlier.map_or_else(|| "another row".to_owned(), |e| rows[e].origin.short());
        return SeedError::new(
            ErrorKind::Unique,
            row.origin.clone(),
            format!(
                "{}.{} {} is already used at {place} ({constraint})",
                table.name,
                cols.join(", "),
                values.join(", ")
            ),
        )
        .with_field(&table.name, &cols[0]);
    }
    if let Some(rest) = msg.strip_prefix("CHECK constraint failed: ") {
        let involved: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                rest.split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                    .any(|w| w == c.name)
            })
            .map(|(i, c)| format!("{} = {}", c.name, show(i)))
            .collect();
        let mut e = SeedError::new(
            ErrorKind::Check,
            row.origin.clone(),
            format!(
                "{}: {} violates CHECK ({rest})",
                table.name,
                involved.join(", ")
            ),
        );
        if let Some(c) = table.columns.iter().find(|c| rest.contains(&c.name)) {
            e = e.with_field(&table.name, &c.name);
        }
        return e;
    }
    if let Some(rest) = msg.strip_prefix("NOT NULL constraint failed: ") {
        return SeedError::new(
            ErrorKind::MissingValue,
            row.origin.clone(),
            format!("{rest} is empty, but the column is NOT NULL"),
        );
    }
    SeedError::new(
        ErrorKind::Schema,
        row.origin.clone(),
        format!("the engine refused the row: {msg}"),
    )
}

async fn check_foreign_keys(
    conn: &Connection,
    tables: &[schema::Table],
    origins: &HashMap<(String, i64), Origin>,
) -> Result<(), SeedError> {
    let fallback = Origin::file("seed");
    let mut rows = conn
        .query("PRAGMA foreign_key_check", ())
        .await
        .map_err(|e| internal(fallback.clone(), e))?;
    if let Some(row) = rows
        .next()
        .await
        .map_err(|e| internal(fallback.clone(), e))?
    {
        let table: String = row.get(0).unwrap_or_default();
        let rowid: Option<i64> = row.get(1).ok();
        let parent: String = row.get(2).unwrap_or_default();
        let fkid: i64 = row.get(3).unwrap_or(-1);
        let t = tables.iter().find(|t| t.name == table);
        let fk = t.and_then(|t| t.foreign_keys.iter().find(|f| f.id == fkid));
        let column = fk.map_or("?", |f| f.column.as_str());
        let origin = rowid
            .and_then(|r| origins.get(&(table.clone(), r)))
            .cloned()
            .unwrap_or_else(|| Origin::file(table.clone()));
        let value = match (t, rowid) {
            (Some(t), Some(r)) => {
                let sql = format!(
                    "SELECT {} FROM {} WHERE rowid = ?1",
                    quote_ident(column),
                    quote_ident(&t.name)
                );
                match conn.query(&sql, [r]).await {
                    Ok(mut rs) => match rs.next().await {
                        Ok(Some(v)) => v
                            .get_value(0)
                            .map(|v| format!("{:?}", v))
                            .unwrap_or_default(),
                        _ => String::new(),
                    },
                    Err(_) => String::new(),
                }
            }
            _ => String::new(),
        };
        let parent_col = fk.map_or("id", |f| f.parent_column.as_str());
        return Err(SeedError::new(
            ErrorKind::ForeignKey,
            origin,
            format!("{table}.{column} = {value} refers to no row of {parent} ({parent}.{parent_col}) (FOREIGN KEY)"),
        )
        .with_field(&table, column));
    }
    Ok(())
}

/// Every row of a table as the engine stored it, in insertion order.
async fn read_back(conn: &Connection, table: &schema::Table) -> libsql::Result<Vec<Vec<Value>>> {
    let cols: Vec<String> = table.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let base = format!(
        "SELECT {} FROM {}",
        cols.join(", "),
        quote_ident(&table.name)
    );
    let mut rows = match conn.query(&format!("{base} ORDER BY rowid"), ()).await {
        Ok(rows) => rows,
        // WITHOUT ROWID tables have no insertion order to keep.
        Err(_) => {
            let order: Vec<String> = table
                .order_columns()
                .iter()
                .map(|c| quote_ident(c))
                .collect();
            conn.query(&format!("{base} ORDER BY {}", order.join(", ")), ())
                .await?
        }
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let mut values = Vec::with_capacity(cols.len());
        for i in 0..cols.len() as i32 {
            values.push(Value::from(from_libsql(&row.get_value(i)?)));
        }
        out.push(values);
    }
    Ok(out)
}

/// Parents before children (stable: manifest order where the foreign keys
/// allow it), so a reset inserts without deferring constraints.
fn insertion_order(tables: Vec<CompiledTable>) -> Vec<CompiledTable> {
    let mut pending = tables;
    let mut ordered: Vec<CompiledTable> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| {
            t.schema.foreign_keys.iter().all(|fk| {
                fk.parent_table == t.name() || !pending.iter().any(|p| p.name() == fk.parent_table)
            })
        });
        // A cycle: keep manifest order; the reset checks foreign keys at the end.
        ordered.push(pending.remove(ready.unwrap_or(0)));
    }
    ordered
}
