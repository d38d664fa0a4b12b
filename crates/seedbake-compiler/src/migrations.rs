//! The seed's migrations: `migrations/<version>_<name>.sql`, applied in
//! version order to an empty in-memory database at build time, which must
//! then have exactly the schema `schema.sql` declares (as the fingerprint
//! compares schemas). So the schema a developer resets to and the schema
//! production migrates to cannot drift apart.
//!
//! Each migration is embedded with the SHA-256 of its bytes (a database
//! records it when the migration is applied; a different file under the same
//! version is refused at run time) and the schema after it (to adopt a
//! database made without migrations, and to find drift).

use std::path::Path;

use fallible_iterator::FallibleIterator;
use libsql::Connection;
use libsql_sqlite3_parser::ast::{Cmd, Stmt};
use libsql_sqlite3_parser::lexer::sql::Parser;
use proc_macro2::TokenStream;
use quote::quote;
use sha2::{Digest, Sha256};

use seedbake_core::fingerprint::{self, is_seedbake_table};
use seedbake_core::migration_file::parse_file_name;
use seedbake_core::schema::{self, SchemaObject, name_is};

use crate::engine::memory_db;
use crate::error::{ErrorKind, Origin, SeedError};
use crate::{Compiled, Compiler};

/// The folder, inside the seed folder, that holds the migrations.
pub const MIGRATIONS_DIR: &str = "migrations";

/// One migration, checked and ready to embed.
#[derive(Debug, Clone)]
pub struct CompiledMigration {
    pub version: i64,
    /// The name after the version, e.g. `kind_notiz`.
    pub name: String,
    /// The file's name, e.g. `0002_kind_notiz.sql`.
    pub file: String,
    pub sql: String,
    /// Hex SHA-256 of the file's bytes.
    pub checksum: String,
    /// The schema after this migration, as the fingerprint sees it
    /// ([`fingerprint::canonical_schema`]).
    pub schema: Vec<SchemaObject>,
}

impl CompiledMigration {
    /// How messages name it: `0002_kind_notiz`.
    pub fn label(&self) -> String {
        self.file.trim_end_matches(".sql").to_owned()
    }
}

/// A statement of a migration and the line it starts on.
struct MigrationStatement<'a> {
    line: u64,
    text: &'a str,
    cmd: Cmd,
}

/// A migration file as named: `<version>_<name>.sql`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MigrationFile {
    pub version: i64,
    /// The name after the version, e.g. `kind_notiz`.
    pub name: String,
    /// The file's name, e.g. `0002_kind_notiz.sql`.
    pub file: String,
}

/// The migration files in `dir` (a seed folder's [`MIGRATIONS_DIR`], named
/// `dir_name` in messages) in version order; none when there is no such
/// folder. Anything else in the folder, or two files of one version,
/// refuses the folder: the build and `migration new` read it alike.
pub fn list(dir: &Path, dir_name: &str) -> Result<Vec<MigrationFile>, SeedError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let file_error = |rel: &str, message: String| {
        SeedError::new(
            ErrorKind::MigrationFile,
            Origin::file(format!("{dir_name}/{rel}")),
            message,
        )
    };
    if !dir.is_dir() {
        return Err(SeedError::new(
            ErrorKind::MigrationFile,
            Origin::file(dir_name),
            "is not a folder: migrations go in a folder of <version>_<name>.sql files",
        ));
    }

    let unlisted = |e: std::io::Error| {
        SeedError::new(
            ErrorKind::Io,
            Origin::file(dir_name),
            format!("cannot list the folder: {e}"),
        )
    };
    let mut found: Vec<MigrationFile> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unlisted)? {
        let entry = entry.map_err(unlisted)?;
        let file = entry.file_name().to_string_lossy().into_owned();
        // Editors' swap and backup files are not migrations.
        if file.starts_with('.') {
            continue;
        }
        if !entry.path().is_file() {
            return Err(file_error(
                &file,
                "is not a file: the migrations folder holds only <version>_<name>.sql files".into(),
            ));
        }
        let Some((version, name)) = parse_file_name(&file) else {
            return Err(file_error(
                &file,
                "is not named as a migration: <version>_<name>.sql, a version of digits \
                 (1 or more, e.g. 0002), an underscore, and a name of letters, digits, _ or - \
                 (e.g. 0002_kind_notiz.sql)"
                    .into(),
            ));
        };
        found.push(MigrationFile {
            version,
            name,
            file,
        });
    }
    found.sort();
    for pair in found.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(SeedError::new(
                ErrorKind::MigrationVersion,
                Origin::file(format!("{dir_name}/{}", pair[1].file)),
                format!(
                    "version {} is also the version of {}: every migration needs a version of its own",
                    pair[1].version, pair[0].file
                ),
            ));
        }
    }
    Ok(found)
}

/// The hex SHA-256 of a migration's bytes, as embedded and recorded.
pub fn checksum(bytes: &[u8]) -> String {
    seedbake_core::hex::encode(&Sha256::digest(bytes))
}

impl Compiler {
    /// Reads, runs and proves the seed's migrations; none when the seed has
    /// no `migrations` folder. `schema_db` holds the schema `schema.sql`
    /// declares, `schema_file` names it in messages.
    pub(crate) async fn migrations(
        &mut self,
        schema_db: &Connection,
        schema_file: &str,
    ) -> Result<Vec<CompiledMigration>, SeedError> {
        let dir = self.dir.join(MIGRATIONS_DIR);
        let dir_name = self.display(MIGRATIONS_DIR);
        let found = list(&dir, &dir_name)?;
        if found.is_empty() && !dir.exists() {
            return Ok(Vec::new());
        }
        self.inputs.push(dir.clone());

        let db = memory_db("", &Origin::file(&dir_name)).await?;
        let mut out: Vec<CompiledMigration> = Vec::with_capacity(found.len());
        for MigrationFile {
            version,
            name,
            file,
        } in found
        {
            let path = dir.join(&file);
            let shown = format!("{dir_name}/{file}");
            out.push(
                self.migration(&db, &path, &shown, version, name, file)
                    .await?,
            );
        }

        if let Some(last) = out.last() {
            let expected = fingerprint::canonical_schema(schema_db)
                .await
                .map_err(|e| SeedError::new(ErrorKind::Schema, Origin::file(schema_file), e))?;
            if let Some(difference) = schema::first_difference(
                &last.schema,
                &expected,
                "after the migrations",
                schema_file,
            ) {
                return Err(SeedError::new(
                    ErrorKind::MigrationDrift,
                    Origin::file(&dir_name),
                    format!(
                        "{difference}. The migrations (up to {}) must make exactly the schema {schema_file} declares: \
                         add a migration for the change, or change {schema_file} to what the migrations make",
                        last.label()
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Reads one migration and runs it on `db`, statement by statement, so
    /// a failure names its line.
    async fn migration(
        &mut self,
        db: &Connection,
        path: &Path,
        shown: &str,
        version: i64,
        name: String,
        file: String,
    ) -> Result<CompiledMigration, SeedError> {
        self.inputs.push(path.to_owned());
        let bytes = std::fs::read(path).map_err(|e| {
            SeedError::new(
                ErrorKind::Io,
                Origin::file(shown),
                format!("cannot read the file: {e}"),
            )
        })?;
        let checksum = checksum(&bytes);
        let sql = String::from_utf8(bytes).map_err(|e| {
            SeedError::new(
                ErrorKind::MigrationFile,
                Origin::file(shown),
                format!("is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            )
        })?;
        let label = format!("migration {}", file.split('_').next().unwrap_or(""));
        let sql_error = |line: u64, message: String| {
            SeedError::new(
                ErrorKind::MigrationSql,
                Origin::line(shown, line),
                format!("{label}: {message}"),
            )
        };

        let statements = match split(&sql) {
            Ok(s) => s,
            Err((at, parse_error)) => {
                let line = line_at(&sql, at);
                // The engine names a syntax error best; the parser (which
                // the libsql client runs on every statement it sends to a
                // server) may also refuse what the engine takes.
                let message = match db.execute_batch(&sql[at..]).await {
                    Err(e) => schema::engine_message(&e),
                    Ok(_) => format!(
                        "the libsql client cannot parse this ({parse_error}), so it could not be sent to a server"
                    ),
                };
                return Err(sql_error(line, message));
            }
        };
        if statements.is_empty() {
            return Err(sql_error(1, "holds no SQL statement".into()));
        }
        for s in &statements {
            if let Some(why) = forbidden(&s.cmd) {
                return Err(sql_error(s.line, why.into()));
            }
            if let Err(e) = db.execute_batch(s.text).await {
                return Err(sql_error(s.line, schema::engine_message(&e)));
            }
        }
        let objects = schema::objects(db)
            .await
            .map_err(|e| sql_error(1, format!("cannot read the schema after it: {e}")))?;
        if let Some(own) = objects.iter().find(|o| is_seedbake_table(&o.table)) {
            return Err(sql_error(
                1,
                format!(
                    "creates {} {}, a name seedbake keeps for its own records",
                    own.kind, own.name
                ),
            ));
        }
        let schema = fingerprint::canonical_schema(db)
            .await
            .map_err(|e| sql_error(1, format!("cannot read the schema after it: {e}")))?;
        Ok(CompiledMigration {
            version,
            name,
            file,
            sql,
            checksum,
            schema,
        })
    }
}

/// What a migration may not do, since seedbake runs every pending migration
/// and the reference data in one transaction of its own, foreign keys off.
fn forbidden(cmd: &Cmd) -> Option<&'static str> {
    let Cmd::Stmt(stmt) = cmd else {
        return Some("EXPLAIN has no place in a migration");
    };
    match stmt {
        Stmt::Begin(..) | Stmt::Commit(..) | Stmt::Rollback { .. } => Some(
            "a migration must not begin or end a transaction: seedbake runs all pending migrations \
             and the reference data in one transaction of its own",
        ),
        Stmt::Vacuum(..) => Some("VACUUM cannot run inside the transaction a migration runs in"),
        Stmt::Attach { .. } | Stmt::Detach(..) => {
            Some("a migration changes this database only; ATTACH and DETACH have no place in it")
        }
        Stmt::Pragma(name, _) if name_is(&name.name.0, &["foreign_keys"]) => Some(
            "PRAGMA foreign_keys has no effect inside the transaction: seedbake runs migrations with \
             foreign keys off and checks every key once before it commits",
        ),
        _ => None,
    }
}

/// The statements of a migration, as written, each with its first line; on
/// a parse error, the offset of the statement that does not parse.
fn split(sql: &str) -> Result<Vec<MigrationStatement<'_>>, (usize, String)> {
    let mut parser = Parser::new(sql.as_bytes());
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        match parser.next() {
            Ok(Some(cmd)) => {
                let end = parser.offset().min(sql.len());
                out.push(MigrationStatement {
                    line: line_at(sql, first_token(sql, start)),
                    text: &sql[start..end],
                    cmd,
                });
                start = end;
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err((first_token(sql, start), e.to_string())),
        }
    }
}

/// The offset of the first character after `from` that is neither blank
/// nor inside a comment.
fn first_token(sql: &str, from: usize) -> usize {
    let mut at = from;
    loop {
        let rest = &sql[at..];
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            at += trimmed.find('\n').map_or(trimmed.len(), |n| n + 1);
        } else if trimmed.starts_with("/*") {
            at += trimmed.find("*/").map_or(trimmed.len(), |n| n + 2);
        } else {
            return at;
        }
    }
}

/// The 1-based line of byte `offset`.
fn line_at(text: &str, offset: usize) -> u64 {
    text[..offset.min(text.len())].matches('\n').count() as u64 + 1
}

/// The generated code for the migrations and the reference tables: one
/// static, `MIGRATIONS`, beside `SEED`.
pub fn tokens(c: &Compiled) -> TokenStream {
    let versions = c.migrations.iter().map(|m| {
        let (version, name, file, sql, checksum) = (m.version, &m.name, &m.file, &m.sql, &m.checksum);
        let schema = m.schema.iter().map(|o| {
            let (kind, name, table, sql) = (&o.kind, &o.name, &o.table, &o.sql);
            quote! { ::seedbake::seed::migrations::SchemaEntry { kind: #kind, name: #name, table: #table, sql: #sql } }
        });
        quote! {
            ::seedbake::seed::migrations::Migration {
                version: #version, name: #name, file: #file, sql: #sql, checksum: #checksum,
                schema: &[#(#schema),*],
            }
        }
    });
    let reference = c.reference.iter().map(|r| {
        let (table, key) = (&r.table, &r.key);
        let surrogate = match &r.surrogate {
            Some(s) => quote! { Some(#s) },
            None => quote! { None },
        };
        let removed = match r.removed {
            crate::manifest::Removed::Delete => {
                quote! { ::seedbake::seed::migrations::Removed::Delete }
            }
            crate::manifest::Removed::Keep => {
                quote! { ::seedbake::seed::migrations::Removed::Keep }
            }
            crate::manifest::Removed::Fail => {
                quote! { ::seedbake::seed::migrations::Removed::Fail }
            }
        };
        quote! {
            ::seedbake::seed::migrations::ReferenceTable {
                table: #table, key: &[#(#key),*], surrogate: #surrogate, removed: #removed,
            }
        }
    });
    quote! {
        /// The migrations and the reference tables compiled from the seed
        /// folder at build time.
        pub static MIGRATIONS: ::seedbake::seed::migrations::Migrations = ::seedbake::seed::migrations::Migrations {
            versions: &[#(#versions),*],
            reference: &[#(#reference),*],
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_their_lines() {
        let sql = "-- a comment\nCREATE TABLE a (x);\n\n/* more */\nCREATE TABLE b (\n  y\n);\nINSERT INTO a VALUES (1)";
        let s = split(sql).unwrap();
        assert_eq!(s.iter().map(|s| s.line).collect::<Vec<_>>(), [2, 5, 8]);
        assert!(s[1].text.contains("CREATE TABLE b"));
        let Err((at, _)) = split("CREATE TABLE a (x);\nALTR TABLE a ADD y;") else {
            panic!("a statement that does not parse");
        };
        assert_eq!(line_at("CREATE TABLE a (x);\nALTR TABLE a ADD y;", at), 2);
    }
}
