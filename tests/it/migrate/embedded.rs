//! The binary, with the seed it embeds: its reports, the migrations it
//! records, adoption and the refusals.

use super::*;

/// A database made by `reset` whose reference rows the app's operators
/// changed by hand: a verband renamed and moved (to a town with a leading
/// blank), one deleted, one added (with an empty town); a figure's
/// difficulty changed and its description emptied.
fn reference_rows_changed_by_hand(dir: &Path) -> PathBuf {
    let path = reset_db(dir);
    rt().block_on(common::execute(
        &path,
        "UPDATE verband SET name = 'Bayerischer KV', ort = ' Kassel' WHERE abkuerzung = 'BKFD';
         DELETE FROM verband WHERE abkuerzung = 'OFKF';
         INSERT INTO verband (name, abkuerzung, land, ort) VALUES ('Weg damit', 'WEG', 'Deutschland', '');
         UPDATE figur SET schwierigkeitsgrad = 18, beschreibung = NULL WHERE name = 'Vertikale';",
    ));
    path
}

/// The lines `status -v` and `migrate -v` show for those rows: one column
/// a line, each with the database's value and the seed's, aligned; a
/// string quoted only when it could be misread (blanks around it, empty),
/// cut with "…" past 40 columns.
const CHANGED_BY_HAND: &[&str] = &[
    "        key       column  database        seed",
    "        ~ \"BKFD\"  name    Bayerischer KV  Bundesverband Kunst- und Figurenschwimm…",
    "                  ort     \" Kassel\"       Kassel",
    "        + \"OFKF\"  name                    Österreichischer Fachverband für Kunst-…",
    "                  land                    Österreich",
    "                  ort                     Wien",
    "        - \"WEG\"   name    Weg damit",
    "                  land    Deutschland",
    "                  ort     \"\"",
];

const FIGURE_CHANGED_BY_HAND: &[&str] = &[
    "        key                          column              database  seed",
    "        ~ \"Vertikale\" / \"Vertikale\"  beschreibung        NULL      Beide Beine senkrecht gestreckt, Kopf n…",
    "                                     schwierigkeitsgrad  18        16",
];

#[track_caller]
fn assert_shows(said: &str, block: &[&str]) {
    assert!(
        said.contains(&(block.join("\n") + "\n")),
        "expected\n{}\nin\n{said}",
        block.join("\n")
    );
}

#[test]
fn status_and_the_migrate_plan_show_the_values_that_would_change_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let path = reference_rows_changed_by_hand(dir.path());

    let o = cli(&["status", "-v"], &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("verband          1 missing, 1 changed, 1 extra (1 to delete, 0 kept)"),
        "{said}"
    );
    assert_shows(&said, CHANGED_BY_HAND);
    assert_shows(&said, FIGURE_CHANGED_BY_HAND);

    let o = cli(&["migrate", "--dry-run", "-v"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert_shows(&said, CHANGED_BY_HAND);
    assert_shows(&said, FIGURE_CHANGED_BY_HAND);

    // Without -v: the keys and the columns, as before; no values.
    let o = cli(&["migrate", "--dry-run"], &path, &[]);
    let said = text(&o);
    assert!(said.contains("~ \"BKFD\" (name, ort)"), "{said}");
    assert!(!said.contains("Bayerischer KV"), "{said}");
    let o = cli(&["status"], &path, &[]);
    assert!(!text(&o).contains("Bayerischer KV"), "{}", text(&o));

    // --json: the same values, as JSON values, with or without -v.
    for args in [
        &["status", "--json"][..],
        &["migrate", "--dry-run", "--json"],
    ] {
        let o = cli(args, &path, &[]);
        let j = json(&o);
        let verband = &j["reference"][0];
        assert_eq!(verband["table"], "verband", "{j}");
        assert_eq!(
            verband["updated"][0]["changes"],
            serde_json::json!([
                {"column": "name", "database": "Bayerischer KV",
                 "seed": "Bundesverband Kunst- und Figurenschwimmen Deutschland e.V."},
                {"column": "ort", "database": " Kassel", "seed": "Kassel"},
            ]),
            "{args:?}"
        );
        assert_eq!(
            verband["deleted_rows"],
            serde_json::json!([{"key": "\"WEG\"", "values": [
                {"column": "name", "value": "Weg damit"},
                {"column": "abkuerzung", "value": "WEG"},
                {"column": "land", "value": "Deutschland"},
                {"column": "ort", "value": ""},
            ]}]),
            "{args:?}"
        );
        assert_eq!(verband["inserted_rows"][0]["key"], "\"OFKF\"", "{args:?}");
        assert_eq!(
            verband["inserted_rows"][0]["values"][3],
            serde_json::json!({"column": "ort", "value": "Wien"}),
            "{args:?}"
        );
        let figur = j["reference"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == "figur")
            .unwrap();
        assert_eq!(
            figur["updated"][0]["changes"],
            serde_json::json!([
                {"column": "beschreibung", "database": null,
                 "seed": "Beide Beine senkrecht gestreckt, Kopf nach unten"},
                {"column": "schwierigkeitsgrad", "database": 18, "seed": 16},
            ]),
            "{args:?}"
        );
    }
}

#[test]
fn the_embedded_migrations_are_what_the_compiler_makes_of_the_folder() {
    let embedded = Build::embedded();
    let compiled = build_of(&seedbake_compiler::compile(&repo().join("seed-data")).unwrap());
    assert!(!embedded.migrations.is_empty());
    assert_eq!(embedded.migrations.len(), compiled.migrations.len());
    for (e, c) in embedded.migrations.iter().zip(compiled.migrations) {
        assert_eq!(
            (e.version, e.file, e.sql, e.checksum),
            (c.version, c.file, c.sql, c.checksum)
        );
        assert_eq!(e.schema_objects(), c.schema_objects());
        // The pinned checksum is the file's SHA-256.
        let bytes = std::fs::read(repo().join("seed-data/migrations").join(e.file)).unwrap();
        assert_eq!(e.checksum, seedbake_compiler::migrations::checksum(&bytes));
    }
    let tables: Vec<(&str, &[&str])> = embedded
        .reference
        .iter()
        .map(|r| (r.table, r.key))
        .collect();
    assert_eq!(
        tables,
        [
            ("verband", &["abkuerzung"][..]),
            ("versicherung", &["kurz"][..]),
            ("figur", &["name", "kategorie"][..])
        ]
    );
    // The first migration is the schema: a reset database has it.
    let rt = rt();
    assert_eq!(
        embedded.migrations[0].schema_objects(),
        rt.block_on(schema_of_sql(seedbake::SEED.schema_sql))
    );
}

#[test]
fn reset_records_every_migration_and_status_says_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = reset_db(dir.path());
    let rt = rt();
    let recorded = rt.block_on(rows(
        &path,
        "SELECT version, name, checksum, how, seedbake_version FROM _seedbake_migrations",
    ));
    let first = &Build::embedded().migrations[0];
    assert_eq!(
        recorded,
        [format!(
            "Integer(1) | Text(\"initial\") | Text({:?}) | Text(\"reset\") | Text(\"{}\")",
            first.checksum,
            env!("CARGO_PKG_VERSION")
        )]
    );
    let o = cli(&["status"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("is in step with the build (version 1)"),
        "{}",
        text(&o)
    );
    let o = cli(&["status", "--json"], &path, &[]);
    let j = json(&o);
    assert_eq!(
        (j["ok"].as_bool(), j["in_step"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(j["reference"].as_array().unwrap().len(), 3);
    // verify still agrees: the record is not part of the fingerprint.
    let o = cli(&["verify"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Nothing to do.
    let before = rt.block_on(common::dump(&path));
    let o = cli(&["migrate"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("is up to date (version 1)"),
        "{}",
        text(&o)
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_database_made_without_migrations_is_adopted_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = reset_db(dir.path());
    let rt = rt();
    // As an earlier seedbake left it, and the app has worked on it since.
    rt.block_on(common::execute(
        &path,
        "DROP TABLE _seedbake_migrations; UPDATE verband SET ort = 'Bonn' WHERE abkuerzung = 'BKFD';",
    ));
    let o = cli(&["status"], &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(
            "`seedbake migrate` adopts it at version 1 (0001_initial): it records no migrations, and its schema equals the schema after 0001_initial and no other version's"
        ),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("verband          0 missing, 1 changed, 0 extra"),
        "{}",
        text(&o)
    );

    let o = cli(&["migrate"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(
            "adopted at version 1 (0001_initial) automatically: it records no migrations"
        ),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("~ \"BKFD\" (ort)"), "{}", text(&o));
    assert_eq!(
        rt.block_on(rows(&path, "SELECT version, how FROM _seedbake_migrations")),
        ["Integer(1) | Text(\"baseline\")"]
    );
    assert_eq!(
        rt.block_on(rows(
            &path,
            "SELECT ort FROM verband WHERE abkuerzung = 'BKFD'"
        )),
        ["Text(\"Kassel\")"]
    );
    assert_eq!(cli(&["status"], &path, &[]).status.code(), Some(0));
}

#[test]
fn an_empty_database_is_migrated_to_the_schema_and_the_reference_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aquarius.db");
    std::fs::File::create(&path).unwrap();
    let o = cli(&["migrate", "--json"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!((j["from"].as_i64(), j["to"].as_i64()), (Some(0), Some(1)));
    let rt = rt();
    assert_eq!(rt.block_on(one(&path, "SELECT count(*) FROM verband")), 13);
    assert_eq!(rt.block_on(one(&path, "SELECT count(*) FROM figur")), 26);
    assert_eq!(rt.block_on(one(&path, "SELECT count(*) FROM kind")), 0);
    assert_eq!(cli(&["status"], &path, &[]).status.code(), Some(0));
}

/// Runs migrate and status on a database broken by `sql`; migrate must
/// refuse with `message` (exit 9) and change nothing; status must say so
/// beforehand (exit 9, the same reason in `refusals`), showing
/// `status_says`.
#[track_caller]
fn refused(sql: &str, args: &[&str], message: &str, status_says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = reset_db(dir.path());
    let rt = rt();
    rt.block_on(common::execute(&path, sql));
    let before = rt.block_on(common::dump(&path));
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    let o = cli(&all, &path, &[]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.starts_with("error: cannot migrate "), "{said}");
    assert!(said.contains(message), "expected {message:?} in {said}");
    assert!(said.trim_end().ends_with("Nothing was changed"), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1, "{said}");
    assert_eq!(rt.block_on(common::dump(&path)), before);
    if !args.is_empty() {
        // `status` takes no --baseline: what it predicts is a plain migrate.
        return;
    }
    let o = cli(&["status"], &path, &[]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o));
    assert!(
        text(&o).contains(status_says),
        "expected {status_says:?} in {}",
        text(&o)
    );
    let o = cli(&["status", "--json"], &path, &[]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["in_step"], false, "{j}");
    let refusals: Vec<&str> = j["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        said.contains(&refusals.join("; ")) && refusals.iter().any(|r| r.contains(message)),
        "status --json refusals {refusals:?} are not what migrate said: {said}"
    );
}

#[test]
fn a_changed_applied_migration_is_refused_naming_it() {
    refused(
        "UPDATE _seedbake_migrations SET checksum = 'c0ffee' || substr(checksum, 7)",
        &[],
        "migration 0001_initial was applied on",
        "modified  0001_initial",
    );
    refused(
        "UPDATE _seedbake_migrations SET checksum = 'c0ffee' || substr(checksum, 7)",
        &[],
        "with checksum c0ffee",
        "differs from the build",
    );
}

#[test]
fn a_version_the_build_does_not_know_is_refused_naming_it() {
    refused(
        "INSERT INTO _seedbake_migrations (version, name, checksum, applied_at, seedbake_version, how) \
         VALUES (9, 'future', 'abc', '2031-01-01T00:00:00Z', '9.0.0', 'migrate')",
        &[],
        "the database records migration 0009_future (applied 2031-01-01T00:00:00Z by seedbake 9.0.0), which this build does not have",
        "unknown   0009_future",
    );
}

#[test]
fn a_schema_changed_by_hand_is_drift() {
    refused(
        "ALTER TABLE kind ADD COLUMN spitzname VARCHAR",
        &[],
        "its schema is not the schema of the version it records: in the database, kind has a column spitzname that 0001_initial (its recorded version) does not declare",
        "schema drift: its schema is not the schema of the version it records",
    );
    refused(
        "DROP INDEX ix_kind_nachname",
        &[],
        "in the database, there is no index ix_kind_nachname that 0001_initial (its recorded version) declares",
        "schema drift",
    );
}

#[test]
fn the_old_seeders_database_is_adopted_at_version_1() {
    // What the app's own models (and so its old Python seeder) create is
    // exactly version 1: migrate adopts it without --baseline and brings
    // the reference data in; the app's rows stay.
    let app_schema =
        std::fs::read_to_string(repo().join("tests/fixtures/aquarius/app-schema.sql")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("python.db");
    let rt = rt();
    rt.block_on(common::execute(&path, &app_schema));
    rt.block_on(common::execute(
        &path,
        "INSERT INTO users (username, hashed_password, role) VALUES ('trainerin', 'x', 'OFFIZIELLE')",
    ));
    let o = cli(&["migrate", "--baseline", "4"], &path, &[]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o));
    assert!(
        text(&o).contains("--baseline 4: this build has no migration 4 (it has 1)"),
        "{}",
        text(&o)
    );
    let o = cli(&["status", "--json"], &path, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = cli(&["migrate", "--json"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["adopted"]["version"], 1, "{j}");
    assert_eq!(j["adopted"]["by_baseline"], false, "{j}");
    let o = cli(&["status"], &path, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let users = rt.block_on(common::dump(&path));
    assert!(
        users.iter().any(|l| l.contains("trainerin")),
        "the app's own row stays"
    );
}

#[test]
fn baseline_is_only_for_databases_without_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = reset_db(dir.path());
    let o = cli(&["migrate", "--baseline", "1"], &path, &[]);
    assert_eq!(o.status.code(), Some(9), "{}", text(&o));
    assert!(
        text(&o).contains("the database is under migrations already (at version 1); --baseline is only for a database made without them"),
        "{}",
        text(&o)
    );
}

#[test]
fn dangling_keys_in_the_database_are_named_before_any_change() {
    refused(
        "PRAGMA foreign_keys = OFF; DELETE FROM versicherung WHERE kurz = 'AKV'",
        &[],
        "some of its rows already refer to missing rows, before any change: \"kind\" row",
        "differs from the build",
    );
}
