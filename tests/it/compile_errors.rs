//! Bad seed data does not compile: one test per class of error, each on a
//! copy of `tests/fixtures/base` with one thing broken, calling the same
//! compiler `build.rs` runs.

use crate::common;
use common::{assert_seed_error as assert_error, edit_file as replace};
use std::path::{Path, PathBuf};

use seedbake_compiler::{self as compiler, ErrorKind, SeedError};

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

#[test]
fn default_for_a_column_that_does_not_exist() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "erfasst_am = { now = true }",
            "erfast_am = { now = true }",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:33: [defaults.kind] erfast_am: table kind has no such column (columns: id, vorname,",
    );
    assert!(e.message.ends_with("did you mean \"erfasst_am\"?"), "{e}");
    assert_eq!(e.field.as_deref(), Some("kind.erfast_am"));
}

#[test]
fn default_for_a_table_that_does_not_exist() {
    let e = fails(|d| replace(d, "seed.toml", "[defaults.kind]", "[defaults.kinder]"));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:32: [defaults.kinder]: the schema creates no such table (tables: verband, kind, figur); did you mean \"kind\"?",
    );
}

#[test]
fn default_that_does_not_fit_its_column() {
    let e = fails(|d| append(d, "seed.toml", "groesse = \"zwölf\"\n"));
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/seed.toml:35: [defaults.kind] groesse: \"zwölf\" is not an integer",
    );
}

#[test]
fn the_current_time_only_fits_a_datetime_column() {
    let e = fails(|d| append(d, "seed.toml", "geburtsdatum = { now = true }\n"));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:35: [defaults.kind] geburtsdatum: { now = true } (the current time) fits a DATETIME column, and kind.geburtsdatum is DATE",
    );
    let e = fails(|d| append(d, "seed.toml", "vorname = { today = true }\n"));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "[defaults.kind] vorname: { today = true } (the current date) fits a DATE column, and kind.vorname is VARCHAR",
    );
}

#[test]
fn a_default_is_a_value_now_or_today() {
    for bad in [
        "{ jetzt = true }",
        "{ now = false }",
        "{ now = true, today = true }",
        "[1, 2]",
    ] {
        let e = fails(|d| {
            replace(
                d,
                "seed.toml",
                "erfasst_am = { now = true }",
                &format!("erfasst_am = {bad}"),
            )
        });
        assert!(
            e.kind == ErrorKind::Manifest || e.kind == ErrorKind::Type,
            "{bad}: {e}"
        );
        assert!(
            e.to_string()
                .starts_with("seed-data/seed.toml:33: [defaults.kind] erfasst_am: "),
            "{bad}: {e}"
        );
    }
}

#[test]
fn the_current_time_needs_a_declared_seed_time() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "seed_time = \"2025-09-01 08:00:00.000000\"\n",
            "",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:32: [defaults.kind] erfasst_am: the current time needs seed_time at the top of seed.toml",
    );
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "seed_time = \"2025-09-01 08:00:00.000000\"",
            "seed_time = \"gestern\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:3: seed_time \"gestern\" is not an ISO date-time",
    );
}

#[test]
fn bad_image_prefix() {
    for (prefix, why) in [
        ("../figuren/", "it contains '..'"),
        ("/srv/static/figuren/", "it is absolute"),
        ("figuren", "it must end with '/'"),
        ("figuren//", "empty component"),
        ("fig\\\\uren/", "backslash"),
    ] {
        let e = fails(|d| {
            replace(
                d,
                "seed.toml",
                "prefix = \"figuren/\"",
                &format!("prefix = \"{prefix}\""),
            )
        });
        assert_error(
            &e,
            ErrorKind::Manifest,
            "seed-data/seed.toml:20: [table.columns] bild of table figur: prefix ",
        );
        assert!(e.message.contains(why), "{prefix}: {e}");
        assert!(
            e.message
                .contains("cannot name a folder below the static folder"),
            "{e}"
        );
    }
}

#[test]
fn prefix_without_an_image() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "id = { auto = true }",
            "id = { auto = true, prefix = \"figuren/\" }",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "[table.columns] id of table figur: `prefix` is only meaningful with `image`",
    );
}

#[test]
fn an_image_path_that_leaves_the_static_folder() {
    let e = fails(|d| {
        replace(
            d,
            "figuren.json",
            "\"images/f01.png\"",
            "\"./images/f01.png\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::ImagePath,
        "seed-data/figuren.json $.figuren[0].bild: figur.bild: the image path \"figuren/./images/f01.png\" cannot be delivered below the static folder: it contains '.'",
    );
}

#[test]
fn images_without_a_static_folder() {
    let e = fails(|d| replace(d, "seed.toml", "[images]\nstatic_dir = \"static\"\n", ""));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:20: figur.bild embeds images, but seed.toml has no [images] static_dir",
    );
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "static_dir = \"static\"",
            "static_dir = \" \"",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:30: [images] static_dir \" \" names no folder",
    );
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
fn every_bad_cell_is_reported_in_one_build_sorted_by_file_and_line() {
    let e = fails(|d| {
        append(d, "verband.csv", "Zu lang,ABCDEF\n");
        replace(d, "kind.csv", "LKNW", "LKNV");
        replace(d, "kind.csv", "W,140,", "W,groß,");
    });
    let kinds: Vec<ErrorKind> = e.errors().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [ErrorKind::Type, ErrorKind::Reference, ErrorKind::Type],
        "{e}"
    );
    assert_eq!(
        all_errors(&e),
        [
            "seed-data/kind.csv:2: kind.groesse: \"groß\" is not an integer",
            "seed-data/kind.csv:3: kind.verband_id: no verband row has the key abkuerzung = \"LKNV\" \
             (keys are in seed-data/verband.csv); did you mean \"LKNW\"?",
            "seed-data/verband.csv:4: verband.abkuerzung: \"ABCDEF\" is 6 characters long, the column allows 5",
        ]
    );
    // The first is the error itself, as a single error would be.
    assert_eq!(e.origin.to_string(), "seed-data/kind.csv:2");
    assert_eq!(e.field.as_deref(), Some("kind.groesse"));
    assert_eq!(e.left_out(), 0);
    assert_eq!(e.to_string(), all_errors(&e).join("\n"));
}

#[test]
fn bad_cells_of_one_row_are_all_reported_by_field() {
    let e = fails(|d| {
        replace(
            d,
            "kind.csv",
            "Mia,2012-03-04,W,140,",
            "Mia,04.03.2012,W,groß,",
        )
    });
    let fields: Vec<&str> = e.errors().map(|e| e.field.as_deref().unwrap()).collect();
    assert_eq!(fields, ["kind.geburtsdatum", "kind.groesse"], "{e}");
    assert!(
        e.errors()
            .all(|e| e.origin.to_string() == "seed-data/kind.csv:2")
    );
}

#[test]
fn a_reference_to_a_refused_row_is_not_a_second_error() {
    // The row is refused for its own cell; the kind that names it finds it.
    let e = fails(|d| {
        append(d, "verband.csv", "Zu lang,ABCDEF\n");
        replace(d, "kind.csv", "LKNW", "ABCDEF");
    });
    assert_eq!(e.errors().count(), 1, "{e}");
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/verband.csv:4: verband.abkuerzung: \"ABCDEF\" is 6 characters long",
    );
}

#[test]
fn errors_beyond_the_cap_are_counted() {
    let bad_rows = compiler::error::MAX_ERRORS + 12;
    let e = fails(|d| {
        let rows: String = (0..bad_rows)
            .map(|i| format!("Verband {i},ZULANG{i}\n"))
            .collect();
        append(d, "verband.csv", &rows);
    });
    assert_eq!(e.errors().count(), compiler::error::MAX_ERRORS);
    assert_eq!(e.left_out(), 12);
    // The first lines of the file are the ones kept.
    let lines: Vec<String> = e.errors().map(|e| e.origin.to_string()).collect();
    assert_eq!(lines[0], "seed-data/verband.csv:4");
    assert_eq!(
        lines[compiler::error::MAX_ERRORS - 1],
        format!("seed-data/verband.csv:{}", 3 + compiler::error::MAX_ERRORS)
    );
    assert!(e.to_string().ends_with("\nand 12 more"), "{e}");
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
