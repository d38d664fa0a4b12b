//! Bad seed data does not compile: one test per class of error, each on a
//! copy of `tests/fixtures/base` with one thing broken, calling the same
//! compiler `build.rs` runs.

use crate::common;
use common::{assert_seed_error as assert_error, copy_dir, edit_file as replace};
use std::path::{Path, PathBuf};

use seedbake_compiler::{self as compiler, ErrorKind, SeedError};

mod defaults;
mod images;
mod many_errors;

/// A copy of the base fixture, broken by `edit`.
fn broken(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    common::fixture_copy("base", edit)
}

fn append(dir: &Path, file: &str, line: &str) {
    let path = dir.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(line);
    std::fs::write(path, text).unwrap();
}

fn fails(edit: impl FnOnce(&Path)) -> SeedError {
    fails_in("base", edit)
}

fn fails_in(fixture: &str, edit: impl FnOnce(&Path)) -> SeedError {
    let (_tmp, dir) = common::fixture_copy(fixture, edit);
    match compiler::compile(&dir) {
        Ok(_) => panic!("the broken seed compiled"),
        Err(e) => e,
    }
}

#[test]
fn the_base_fixture_compiles() {
    let (_tmp, dir) = broken(|_| {});
    let c = compiler::compile(&dir).unwrap();
    let names: Vec<&str> = c.tables.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["verband", "kind", "figur"]);
    assert_eq!(c.tables[1].rows.len(), 2);
    assert_eq!(c.images.len(), 1);
    assert_eq!(c.profiles.len(), 2);
    assert_ne!(
        c.profiles[0].fingerprint.total,
        c.profiles[1].fingerprint.total
    );
}

#[test]
fn duplicate_unique_value_names_both_lines() {
    let e = fails(|d| append(d, "verband.csv", "Doppelt,BKFD\n"));
    assert_error(
        &e,
        ErrorKind::Reference,
        "seed-data/verband.csv:4: the natural key abkuerzung = \"BKFD\" of table verband is already used at line 2",
    );
}

#[test]
fn unique_index_violation_is_reported_as_unique() {
    // Not a natural key here, so the engine's UNIQUE index catches it.
    let e = fails(|d| {
        replace(d, "seed.toml", "key = [\"abkuerzung\"]", "key = [\"name\"]");
        append(d, "verband.csv", "Drittverband,BKFD\n");
    });
    assert_error(
        &e,
        ErrorKind::Unique,
        "seed-data/verband.csv:4: verband.abkuerzung \"BKFD\" is already used at line 2 (UNIQUE ix_verband_abkuerzung)",
    );
    assert_eq!(e.field.as_deref(), Some("verband.abkuerzung"));
}

#[test]
fn text_longer_than_varchar_is_a_type_error() {
    let e = fails(|d| append(d, "verband.csv", "Zu lang,ABCDEF\n"));
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/verband.csv:4: verband.abkuerzung: \"ABCDEF\" is 6 characters long, the column allows 5",
    );
}

#[test]
fn non_integer_in_integer_column() {
    let e = fails(|d| replace(d, "kind.csv", "W,140,", "W,groß,"));
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/kind.csv:2: kind.groesse: \"groß\" is not an integer",
    );
}

#[test]
fn malformed_date() {
    let e = fails(|d| replace(d, "kind.csv", "2013-05-06", "06.05.2013"));
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/kind.csv:3: kind.geburtsdatum: \"06.05.2013\" is not an ISO date",
    );
}

#[test]
fn empty_not_null_cell() {
    let e = fails(|d| replace(d, "kind.csv", "Ali,", ","));
    assert_error(
        &e,
        ErrorKind::MissingValue,
        "seed-data/kind.csv:3: kind.vorname is empty, but the column is NOT NULL",
    );
}

#[test]
fn not_null_column_missing_from_the_header() {
    let e = fails(|d| std::fs::write(d.join("verband.csv"), "abkuerzung\nBKFD\n").unwrap());
    assert_error(
        &e,
        ErrorKind::MissingValue,
        "seed-data/verband.csv:1: verband.name is NOT NULL, but the source has no field \"name\"",
    );
}

#[test]
fn check_constraint() {
    let e = fails(|d| replace(d, "kind.csv", "M,,", "X,,"));
    assert_error(
        &e,
        ErrorKind::Check,
        "seed-data/kind.csv:3: kind: geschlecht = \"X\" violates CHECK",
    );
}

#[test]
fn unknown_natural_key_suggests_the_closest() {
    let e = fails(|d| replace(d, "kind.csv", "LKNW", "LKNV"));
    assert_error(
        &e,
        ErrorKind::Reference,
        "seed-data/kind.csv:3: kind.verband_id: no verband row has the key abkuerzung = \"LKNV\" (keys are in seed-data/verband.csv); did you mean \"LKNW\"?",
    );
}

#[test]
fn numeric_foreign_key_to_nowhere() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "verband_id = { ref = \"verband\", from = [\"verband\"] }",
            "verband_id = \"verband\"",
        );
        std::fs::write(
            d.join("kind.csv"),
            "vorname,geburtsdatum,geschlecht,groesse,verband\nMia,2012-03-04,W,140,1\nAli,2013-05-06,M,,9\n",
        )
        .unwrap();
    });
    assert_error(
        &e,
        ErrorKind::ForeignKey,
        "seed-data/kind.csv:3: kind.verband_id = Integer(9) refers to no row of verband",
    );
}

#[test]
fn unknown_csv_column() {
    let e = fails(|d| {
        std::fs::write(
            d.join("verband.csv"),
            "name,abkuerzung,land\nBundesverband,BKFD,DE\n",
        )
        .unwrap();
    });
    assert_error(
        &e,
        ErrorKind::UnknownColumn,
        "seed-data/verband.csv:1: unknown column \"land\"",
    );
}

#[test]
fn unknown_json_field_names_its_path() {
    let e = fails(|d| {
        replace(
            d,
            "figuren.json",
            "\"name\": \"Hocke\"",
            "\"name\": \"Hocke\", \"farbe\": \"blau\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::UnknownColumn,
        "seed-data/figuren.json $.figuren[1].farbe: unknown column \"farbe\"",
    );
}

#[test]
fn ragged_csv_row() {
    let e = fails(|d| append(d, "verband.csv", "Nur ein Feld\n"));
    assert_error(
        &e,
        ErrorKind::MalformedCsv,
        "seed-data/verband.csv:4: the row has 1 fields, the header has 2",
    );
}

#[test]
fn malformed_json() {
    let e = fails(|d| replace(d, "figuren.json", "\"Hocke\",", "\"Hocke\""));
    assert_error(
        &e,
        ErrorKind::MalformedJson,
        "seed-data/figuren.json:5: malformed JSON",
    );
}

#[test]
fn json_records_pointer_missing() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "records = \"/figuren\"",
            "records = \"/figures\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::MalformedJson,
        "the records list `/figures` (seed.toml `records`) is not in the file",
    );
}

#[test]
fn json_value_of_wrong_type_names_its_path() {
    let e = fails(|d| {
        replace(
            d,
            "figuren.json",
            "\"schwierigkeitsgrad\": 10",
            "\"schwierigkeitsgrad\": \"zehn\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/figuren.json $.figuren[1].schwierigkeitsgrad: figur.schwierigkeitsgrad: \"zehn\" is not an integer",
    );
}

#[test]
fn missing_image() {
    let e = fails(|d| std::fs::remove_file(d.join("images/f01.png")).unwrap());
    assert_error(
        &e,
        ErrorKind::MissingImage,
        "seed-data/figuren.json $.figuren[0].bild: figur.bild: image \"images/f01.png\" cannot be read",
    );
}

#[test]
fn missing_source_file() {
    let e = fails(|d| std::fs::remove_file(d.join("kind.csv")).unwrap());
    assert_error(
        &e,
        ErrorKind::Io,
        "seed-data/kind.csv: cannot read the file",
    );
}

#[test]
fn manifest_names_an_unknown_table() {
    let e = fails(|d| replace(d, "seed.toml", "name = \"figur\"", "name = \"figuren\""));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:20: [[table]] \"figuren\": the schema creates no such table",
    );
}

#[test]
fn manifest_syntax_error_names_its_line() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "key = [\"abkuerzung\"]",
            "key = [\"abkuerzung\"",
        )
    });
    assert_eq!(e.kind, ErrorKind::Manifest, "{e}");
    assert!(e.to_string().starts_with("seed-data/seed.toml:1"), "{e}");
}

#[test]
fn schema_that_does_not_run() {
    let e = fails(|d| replace(d, "schema.sql", "CREATE TABLE figur", "CREATE TABEL figur"));
    assert_error(
        &e,
        ErrorKind::Schema,
        "seed-data/schema.sql: the schema does not run",
    );
}

#[test]
fn profile_missing_a_referenced_table() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "minimal = [\"verband\"]",
            "minimal = [\"kind\"]",
        )
    });
    assert_error(
        &e,
        ErrorKind::Profile,
        "profile minimal seeds kind but not verband, which kind.verband_id refers to",
    );
}

#[test]
fn reference_to_a_table_listed_later() {
    let e = fails(|d| {
        let toml = std::fs::read_to_string(d.join("seed.toml")).unwrap();
        // Move the verband entry after kind.
        let verband =
            "[[table]]\nname = \"verband\"\nfile = \"verband.csv\"\nkey = [\"abkuerzung\"]\n\n";
        let moved = toml.replacen(verband, "", 1) + "\n" + verband;
        std::fs::write(d.join("seed.toml"), moved).unwrap();
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "kind.verband_id refers to table \"verband\", which no earlier [[table]] entry seeds",
    );
}

#[test]
fn builds_are_reproducible() {
    let (_a, dir_a) = broken(|_| {});
    let (_b, dir_b) = broken(|_| {});
    let a = compiler::compile(&dir_a).unwrap();
    let b = compiler::compile(&dir_b).unwrap();
    for (pa, pb) in a.profiles.iter().zip(&b.profiles) {
        assert_eq!(pa.fingerprint, pb.fingerprint);
    }
}

/// The real seed, so that `[admin]` is there to check.
fn real_seed_fails(edit: impl FnOnce(&Path)) -> SeedError {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data"),
        &dir,
    );
    edit(&dir);
    match compiler::compile(&dir) {
        Ok(_) => panic!("the broken seed compiled"),
        Err(e) => e,
    }
}

#[test]
fn an_admin_account_init_admin_could_not_create() {
    // Without the app's default for role and without a granted role, the
    // account init-admin inserts would break users.role NOT NULL.
    let e = real_seed_fails(|d| {
        replace(d, "seed.toml", "role = \"OFFIZIELLE\"\n", "");
        replace(
            d,
            "seed.toml",
            "grant = { role = \"ADMIN\", is_active = 1 }",
            "grant = { is_active = 1 }",
        );
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml: [admin] init-admin could not create an account: users.role is NOT NULL and neither [admin] grant nor [defaults.users] gives it a value",
    );
}

/// Each error of a build as `file:place: message`, in the order reported.
fn all_errors(e: &SeedError) -> Vec<String> {
    e.errors()
        .map(|e| format!("{}: {}", e.origin, e.message))
        .collect()
}

#[test]
fn a_dangling_reference_to_the_tables_own_rows() {
    let e = fails_in("self_ref", |d| {
        replace(d, "kategorie.csv", "Figur,1,Pflicht", "Figur,1,Pflcht")
    });
    assert_eq!(e.errors().count(), 1, "{e}");
    assert_error(
        &e,
        ErrorKind::Reference,
        "seed-data/kategorie.csv:5: kategorie.oberkategorie_id: no kategorie row has the key name = \"Pflcht\" \
         (keys are in seed-data/kategorie.csv); did you mean \"Pflicht\"?",
    );
    assert_eq!(e.field.as_deref(), Some("kategorie.oberkategorie_id"));
}

#[test]
fn a_reference_to_the_tables_own_rows_needs_its_key() {
    let e = fails_in("self_ref", |d| {
        replace(d, "seed.toml", "key = [\"name\"]\n", "")
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:7: kategorie.oberkategorie_id: table kategorie has no `key` in seed.toml",
    );
}

#[test]
fn ignore_names_a_field_the_source_does_not_have() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "key = [\"abkuerzung\"]",
            "key = [\"abkuerzung\"]\nignore = [\"lnad\"]",
        );
        replace(d, "verband.csv", "name,abkuerzung", "name,abkuerzung,land");
        replace(d, "verband.csv", "BKFD", "BKFD,DE");
        replace(d, "verband.csv", "LKNW", "LKNW,DE");
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:9: [[table]] verband: ignore names the field \"lnad\", which seed-data/verband.csv \
         does not have (fields: name, abkuerzung, land); did you mean \"land\"?",
    );
}

#[test]
fn ignore_names_a_field_a_column_reads() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "file = \"kind.csv\"",
            "file = \"kind.csv\"\nignore = [\"verband\"]",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:14: [[table]] kind: ignore names the field \"verband\", which [table.columns] verband_id reads",
    );
}

#[test]
fn an_ignored_field_leaves_its_not_null_column_empty() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "file = \"kind.csv\"",
            "file = \"kind.csv\"\nignore = [\"vorname\"]",
        )
    });
    assert_error(
        &e,
        ErrorKind::MissingValue,
        "seed-data/kind.csv:1: kind.vorname is NOT NULL, but seed.toml ignores the field \"vorname\": take it out of `ignore`",
    );
}

#[test]
fn a_reference_to_an_own_row_whose_id_the_engine_would_choose() {
    let e = fails_in("self_ref", |d| {
        replace(d, "schema.sql", "id INTEGER NOT NULL,", "id INTEGER,");
        std::fs::write(
            d.join("kategorie.csv"),
            "id,name,punkte,ober\n1,Kür,10,Wettkampf\n2,Pflicht,5,Wettkampf\n,Wettkampf,,\n4,Figur,1,Pflicht\n",
        )
        .unwrap();
    });
    assert_eq!(
        all_errors(&e),
        [2, 3].map(|line| format!(
            "seed-data/kategorie.csv:{line}: kategorie.oberkategorie_id: the kategorie row with the key \
             name = \"Wettkampf\" (at line 4) has no id to refer to"
        ))
    );
}

#[test]
fn a_reference_to_an_own_column_the_seed_does_not_give() {
    // The foreign key names kategorie.code, which the file leaves out.
    let e = fails_in("self_ref", |d| {
        replace(
            d,
            "schema.sql",
            "punkte INTEGER,",
            "punkte INTEGER,\n    code VARCHAR UNIQUE,",
        );
        replace(
            d,
            "schema.sql",
            "REFERENCES kategorie (id)",
            "REFERENCES kategorie (code)",
        );
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:7: kategorie.oberkategorie_id refers to kategorie's own rows by code, which the seed does not give itself",
    );
}
