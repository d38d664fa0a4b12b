//! Migrations and reference data that do not compile: one test per class of
//! error, each on a copy of `tests/fixtures/base` given the migrations in
//! `tests/fixtures/migrations` (which end at `schema-v3.sql`), with one
//! thing broken, calling the same compiler `build.rs` runs.

use crate::common;
use common::{assert_seed_error as assert_error, edit_file as replace, fixture};
use std::path::{Path, PathBuf};

use seedbake_compiler::{self as compiler, Compiled, ErrorKind, SeedError};

/// The base fixture (`seed-data`) with its three migrations and the schema
/// they end at, then `edit`.
fn seed(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    common::fixture_copy("base", |dir| {
        let migrations = dir.join("migrations");
        std::fs::create_dir(&migrations).unwrap();
        for file in [
            "0001_initial.sql",
            "0002_kind_notiz.sql",
            "0003_figur_grad_real.sql",
        ] {
            std::fs::copy(fixture("migrations").join(file), migrations.join(file)).unwrap();
        }
        std::fs::copy(fixture("migrations/schema-v3.sql"), dir.join("schema.sql")).unwrap();
        edit(dir);
    })
}

fn compiles(edit: impl FnOnce(&Path)) -> Compiled {
    let (_tmp, dir) = seed(edit);
    compiler::compile(&dir).unwrap_or_else(|e| panic!("does not compile: {e}"))
}

fn fails(edit: impl FnOnce(&Path)) -> SeedError {
    let (_tmp, dir) = seed(edit);
    match compiler::compile(&dir) {
        Ok(_) => panic!("the broken seed compiled"),
        Err(e) => e,
    }
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

#[test]
fn migrations_that_end_at_the_schema_compile_with_their_checksums() {
    let c = compiles(|_| {});
    let files: Vec<&str> = c.migrations.iter().map(|m| m.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "0001_initial.sql",
            "0002_kind_notiz.sql",
            "0003_figur_grad_real.sql"
        ]
    );
    let bytes = std::fs::read(fixture("migrations/0002_kind_notiz.sql")).unwrap();
    assert_eq!(
        c.migrations[1].checksum,
        compiler::migrations::checksum(&bytes)
    );
    assert_eq!(c.migrations[1].checksum.len(), 64);
    // Each version carries the schema after it: 0002 adds the index.
    let has_index = |i: usize| {
        c.migrations[i]
            .schema
            .iter()
            .any(|o| o.name == "ix_kind_vorname")
    };
    assert!(!has_index(0) && has_index(1) && has_index(2));
    // The table 0003 rebuilt and renamed into place is the table schema.sql declares.
    let figur = c.migrations[2]
        .schema
        .iter()
        .find(|o| o.name == "figur")
        .unwrap();
    assert!(figur.sql.contains("REAL"), "{}", figur.sql);
}

#[test]
fn a_seed_without_migrations_compiles_without_any() {
    let (_tmp, dir) = seed(|d| std::fs::remove_dir_all(d.join("migrations")).unwrap());
    assert!(compiler::compile(&dir).unwrap().migrations.is_empty());
}

#[test]
fn a_badly_named_file_is_refused() {
    for bad in ["0004-notes.sql", "notes.sql", "0004_notes.txt", "0004_.sql"] {
        let e = fails(|d| write(d, &format!("migrations/{bad}"), "SELECT 1;"));
        assert_error(
            &e,
            ErrorKind::MigrationFile,
            &format!(
                "seed-data/migrations/{bad}: is not named as a migration: <version>_<name>.sql"
            ),
        );
    }
    // Hidden files (editors' swap files) are not migrations.
    compiles(|d| write(d, "migrations/.0002_kind_notiz.sql.swp", "junk"));
}

#[test]
fn two_migrations_with_one_version_are_refused() {
    let e = fails(|d| write(d, "migrations/2_other.sql", "SELECT 1;"));
    assert_error(
        &e,
        ErrorKind::MigrationVersion,
        "seed-data/migrations/2_other.sql: version 2 is also the version of 0002_kind_notiz.sql",
    );
}

#[test]
fn a_migration_that_does_not_run_names_its_line() {
    let e = fails(|d| {
        replace(
            d,
            "migrations/0002_kind_notiz.sql",
            "ALTER TABLE kind ADD",
            "ALTR TABLE kind ADD",
        )
    });
    assert_error(
        &e,
        ErrorKind::MigrationSql,
        "seed-data/migrations/0002_kind_notiz.sql:3: migration 0002: near \"ALTR\": syntax error",
    );

    // What parses but fails in the engine, on its own line.
    let e = fails(|d| {
        replace(
            d,
            "migrations/0002_kind_notiz.sql",
            "CREATE INDEX ix_kind_vorname ON kind (vorname);",
            "CREATE INDEX ix_kind_vorname ON kind (vornahme);",
        )
    });
    assert_error(
        &e,
        ErrorKind::MigrationSql,
        "seed-data/migrations/0002_kind_notiz.sql:5: migration 0002: no such column: vornahme",
    );

    let e = fails(|d| write(d, "migrations/0004_nothing.sql", "-- to do\n"));
    assert_error(
        &e,
        ErrorKind::MigrationSql,
        "seed-data/migrations/0004_nothing.sql:1: migration 0004: holds no SQL statement",
    );
}

#[test]
fn a_migration_may_not_run_its_own_transaction() {
    let e = fails(|d| {
        write(
            d,
            "migrations/0004_tx.sql",
            "BEGIN;\nUPDATE kind SET notiz = '';\nCOMMIT;\n",
        )
    });
    assert_error(
        &e,
        ErrorKind::MigrationSql,
        "seed-data/migrations/0004_tx.sql:1: migration 0004: a migration must not begin or end a transaction",
    );
    // However the name is quoted: the engine reads each as foreign_keys.
    for pragma in [
        "foreign_keys = ON",
        "\"foreign_keys\" = ON",
        "main.[Foreign_Keys]=1",
        "`FOREIGN_KEYS`",
    ] {
        let e = fails(|d| {
            write(
                d,
                "migrations/0004_fk.sql",
                &format!("\nPRAGMA {pragma};\n"),
            )
        });
        assert_error(
            &e,
            ErrorKind::MigrationSql,
            "seed-data/migrations/0004_fk.sql:2: migration 0004: PRAGMA foreign_keys has no effect",
        );
    }
    let e = fails(|d| {
        write(
            d,
            "migrations/0004_own.sql",
            "CREATE TABLE _seedbake_migrations (x);",
        )
    });
    assert_error(
        &e,
        ErrorKind::MigrationSql,
        "migration 0004: creates table _seedbake_migrations, a name seedbake keeps for its own records",
    );
}

#[test]
fn migrations_that_do_not_make_schema_sql_stop_the_build() {
    // schema.sql declares a column no migration adds.
    let e = fails(|d| std::fs::remove_file(d.join("migrations/0002_kind_notiz.sql")).unwrap());
    assert_error(
        &e,
        ErrorKind::MigrationDrift,
        "seed-data/migrations: after the migrations, kind has no column notiz that schema.sql declares. \
         The migrations (up to 0003_figur_grad_real) must make exactly the schema schema.sql declares",
    );

    // A migration adds what schema.sql does not declare.
    let e = fails(|d| {
        write(
            d,
            "migrations/0004_verband_land.sql",
            "ALTER TABLE verband ADD COLUMN land VARCHAR;",
        )
    });
    assert_error(
        &e,
        ErrorKind::MigrationDrift,
        "after the migrations, verband has a column land that schema.sql does not declare",
    );

    // A type that differs.
    let e = fails(|d| {
        replace(
            d,
            "schema.sql",
            "schwierigkeitsgrad REAL",
            "schwierigkeitsgrad NUMERIC",
        )
    });
    assert_error(
        &e,
        ErrorKind::MigrationDrift,
        "after the migrations, figur.schwierigkeitsgrad is `schwierigkeitsgrad REAL` where schema.sql declares `schwierigkeitsgrad NUMERIC`",
    );

    // An index no migration creates.
    let e = fails(|d| {
        let path = d.join("schema.sql");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("CREATE INDEX ix_figur_name ON figur (name);\n");
        std::fs::write(path, text).unwrap();
    });
    assert_error(
        &e,
        ErrorKind::MigrationDrift,
        "after the migrations, there is no index ix_figur_name that schema.sql declares",
    );

    // The same columns in another order are another schema (and another fingerprint).
    let e = fails(|d| {
        replace(d, "schema.sql", "    notiz VARCHAR,\n", "");
        replace(
            d,
            "schema.sql",
            "    groesse INTEGER,\n",
            "    groesse INTEGER,\n    notiz VARCHAR,\n",
        );
    });
    assert_error(
        &e,
        ErrorKind::MigrationDrift,
        "after the migrations, the columns of kind are in the order \
         (id, vorname, geburtsdatum, geschlecht, groesse, verband_id, erfasst_am, status, notiz) \
         where schema.sql has (id, vorname, geburtsdatum, geschlecht, groesse, notiz, verband_id, erfasst_am, status)",
    );
}

const REFERENCE: &str = "\n[[reference]]\ntable = \"verband\"\n";

#[test]
fn reference_tables_compile_with_their_keys() {
    let c = compiles(|d| {
        let path = d.join("seed.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(REFERENCE);
        text.push_str("\n[[reference]]\ntable = \"figur\"\nkey = [\"name\"]\nremoved = \"keep\"\n");
        std::fs::write(path, text).unwrap();
    });
    let r: Vec<(&str, Vec<&str>, Option<&str>)> = c
        .reference
        .iter()
        .map(|r| {
            (
                r.table.as_str(),
                r.key.iter().map(String::as_str).collect(),
                r.surrogate.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        r,
        [
            ("verband", vec!["abkuerzung"], Some("id")),
            ("figur", vec!["name"], Some("id"))
        ]
    );
}

#[test]
fn reference_tables_that_cannot_be_matched_are_refused() {
    let add = |d: &Path, entry: &str| {
        let path = d.join("seed.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(entry);
        std::fs::write(path, text).unwrap();
    };
    // figur's natural key "F01" is only in the source.
    let e = fails(|d| add(d, "\n[[reference]]\ntable = \"figur\"\n"));
    assert_error(
        &e,
        ErrorKind::ReferenceData,
        "[[reference]] figur: its natural key field \"id\" is not stored in a column of figur",
    );
    let e = fails(|d| add(d, "\n[[reference]]\ntable = \"figur\"\nkey = [\"titel\"]\n"));
    assert_error(
        &e,
        ErrorKind::ReferenceData,
        "[[reference]] figur: key column \"titel\" is not a column of figur",
    );
    let e = fails(|d| {
        add(
            d,
            "\n[[reference]]\ntable = \"figur\"\nkey = [\"schwierigkeitsgrad\"]\n",
        );
        replace(
            d,
            "figuren.json",
            "\"schwierigkeitsgrad\": 10",
            "\"schwierigkeitsgrad\": 12",
        );
    });
    assert_error(
        &e,
        ErrorKind::ReferenceData,
        "[[reference]] figur: rows 1 and 2 of seed-data/figuren.json share the key schwierigkeitsgrad = 12.0",
    );
    // A reference row may not point at the app's rows.
    let e = fails(|d| {
        add(
            d,
            "\n[[reference]]\ntable = \"kind\"\nkey = [\"vorname\"]\n",
        )
    });
    assert_error(
        &e,
        ErrorKind::ReferenceData,
        "[[reference]] kind: kind.verband_id refers to verband, which is not reference data",
    );
    let e = fails(|d| {
        add(
            d,
            "\n[[reference]]\ntable = \"verband\"\nremoved = \"sometimes\"\n",
        )
    });
    assert_error(&e, ErrorKind::Manifest, "unknown variant `sometimes`");
    let e = fails(|d| add(d, &format!("{REFERENCE}{REFERENCE}")));
    assert_error(
        &e,
        ErrorKind::ReferenceData,
        "table verband has two [[reference]] entries",
    );
}
