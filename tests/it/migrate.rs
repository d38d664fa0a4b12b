//! Changing a live database without wiping it, told as a story: the
//! Aquarius seed (version 1, the one this binary embeds) is reset into a
//! database; the app's users add children, registrations and an account;
//! version 2 of the seed (compiled here, at test time, from a copy of
//! `seed-data` with the migrations of `tests/fixtures/aquarius-v2`) adds
//! columns, a table and an index, rebuilds a table to change a column's type,
//! and changes, adds and removes reference rows. `migrate` must keep every
//! app row exactly, reach the schema of version 2's schema.sql, and make the
//! reference tables the seed's, locally and on the Hrana test server, and
//! leave the database as it was when anything fails.
//!
//! The refusals, `status`, adoption and the production guard run the real
//! binary against the seed it embeds.

use crate::common;

use common::{copy_dir, edit_file as replace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::output_text as text;
use common::server::{Kind, TestServer};
use seedbake::database::{self, Location, Settings, Target};
use seedbake::ops::{self, MigrateOptions, MigrateReport, Shown};
use seedbake::seed::migrations::{Build, Migration, ReferenceTable, Removed, SchemaEntry};
use seedbake::seed::{ColumnInfo, TableData};
use seedbake::value::Value;
use seedbake_compiler::Compiled;

const TOKEN: &str = "tok_migrate_Hv7qL2xR";

// ---------------------------------------------------------------------------
// Version 2 of the seed, compiled at test time.

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[track_caller]
fn keep_lines(dir: &Path, file: &str, keep: impl Fn(&str) -> bool) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| keep(l)).collect();
    std::fs::write(path, kept.join("\n") + "\n").unwrap();
}

const CATALOGUE: &str = "figuren/figuren-v1.0-saison-2024.json";

/// The edits that make version 2 of `seed-data`, in a folder that is a copy
/// of it with the fixture migrations added.
fn make_v2(dir: &Path) {
    for f in std::fs::read_dir(repo().join("tests/fixtures/aquarius-v2/migrations")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join("migrations").join(f.file_name())).unwrap();
    }
    // What the migrations make, declared in schema.sql.
    replace(
        dir,
        "schema.sql",
        "    vertrag VARCHAR,\n",
        "    vertrag VARCHAR,\n    notiz VARCHAR,\n",
    );
    replace(
        dir,
        "schema.sql",
        "    bild VARCHAR,\n",
        "    bild VARCHAR,\n    video VARCHAR,\n",
    );
    replace(
        dir,
        "schema.sql",
        "    vorlaeufig INTEGER,\n",
        "    vorlaeufig BOOLEAN,\n",
    );
    replace(
        dir,
        "schema.sql",
        "CREATE INDEX ix_anmeldung_id ON anmeldung (id);\n",
        "CREATE INDEX ix_anmeldung_id ON anmeldung (id);\nCREATE INDEX ix_anmeldung_kind_id ON anmeldung (kind_id);\n",
    );
    let path = dir.join("schema.sql");
    let mut schema = std::fs::read_to_string(&path).unwrap();
    schema.push_str(
        "\nCREATE TABLE kampfrichter (\n    id INTEGER NOT NULL,\n    name VARCHAR NOT NULL,\n    verband_id INTEGER,\n    \
         PRIMARY KEY (id),\n    FOREIGN KEY(verband_id) REFERENCES verband (id)\n);\nCREATE INDEX ix_kampfrichter_id ON kampfrichter (id);\n",
    );
    std::fs::write(&path, schema).unwrap();

    // Reference data: verband BKFD moves, NANK and OFKF leave, NEUV joins.
    replace(
        dir,
        "verbaende.csv",
        "BKFD,Deutschland,Kassel",
        "BKFD,Deutschland,Berlin",
    );
    keep_lines(dir, "verbaende.csv", |l| {
        !l.contains(",NANK,") && !l.contains(",OFKF,")
    });
    let path = dir.join("verbaende.csv");
    let mut verbaende = std::fs::read_to_string(&path).unwrap();
    verbaende.push_str("Neuer Verband für Figurenschwimmen e.V.,NEUV,Deutschland,Leipzig\n");
    std::fs::write(&path, verbaende).unwrap();
    // An insurer moves.
    replace(
        dir,
        "versicherungen.csv",
        "HUKC,Deutschland,Coburg",
        "HUKC,Deutschland,Bamberg",
    );

    // The catalogue: F02 described anew, F01 gets a video, F26 leaves
    // (with the seed's own rows that name it), F27 joins.
    let path = dir.join(CATALOGUE);
    let mut catalogue: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let figuren = catalogue["figuren"].as_array_mut().unwrap();
    figuren[0]["video"] = "https://example.org/f01.mp4".into();
    figuren[1]["beschreibung"] = "Beide Beine senkrecht gestreckt, Hüfte an der Oberfläche".into();
    figuren.retain(|f| f["id"] != "F26");
    figuren.push(serde_json::json!({
        "id": "F27", "name": "Delfin", "kategorie": "Delfin",
        "beschreibung": "Kreisbewegung rückwärts unter Wasser", "schwierigkeitsgrad": 14,
        "altersklasse": "U10–U12"
    }));
    std::fs::write(&path, serde_json::to_string_pretty(&catalogue).unwrap()).unwrap();
    keep_lines(dir, "wettkampf_figuren.csv", |l| !l.ends_with(",F26"));
    keep_lines(dir, "anmeldung_figuren.csv", |l| !l.ends_with(",F26"));
}

/// `seed-data`, changed by `edit`, compiled as `build.rs` would, and turned
/// into the [`Build`] the operations take.
fn compile(edit: impl FnOnce(&Path)) -> Build {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(&repo().join("seed-data"), &dir);
    edit(&dir);
    let compiled = seedbake_compiler::compile(&dir).unwrap_or_else(|e| panic!("{e}"));
    build_of(&compiled)
}

fn v2() -> Build {
    static V2: OnceLock<Build> = OnceLock::new();
    *V2.get_or_init(|| compile(make_v2))
}

fn text_of(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn slice_of<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

/// What the generated module would embed, built from the compiler's output
/// (the rows encoded by the very functions codegen uses).
fn build_of(c: &Compiled) -> Build {
    let tables = c
        .tables
        .iter()
        .map(|t| TableData {
            name: text_of(t.name()),
            columns: slice_of(
                t.embedded_columns()
                    .map(|col| ColumnInfo {
                        name: text_of(&col.name),
                        declared_type: text_of(&col.declared_type),
                        not_null: col.not_null,
                        primary_key: col.pk > 0,
                    })
                    .collect(),
            ),
            row_count: t.rows.len(),
            rows: slice_of(seedbake_compiler::codegen::encode_rows(t)),
            key_fields: slice_of(t.key_fields.iter().map(|k| text_of(k)).collect()),
            keys: slice_of(seedbake_compiler::codegen::encode_keys(t)),
            unfingerprinted: slice_of(t.unfingerprinted.iter().map(|k| text_of(k)).collect()),
        })
        .collect();
    let migrations = c
        .migrations
        .iter()
        .map(|m| Migration {
            version: m.version,
            name: text_of(&m.name),
            file: text_of(&m.file),
            sql: text_of(&m.sql),
            checksum: text_of(&m.checksum),
            schema: slice_of(
                m.schema
                    .iter()
                    .map(|o| SchemaEntry {
                        kind: text_of(&o.kind),
                        name: text_of(&o.name),
                        table: text_of(&o.table),
                        sql: text_of(&o.sql),
                    })
                    .collect(),
            ),
        })
        .collect();
    let reference = c
        .reference
        .iter()
        .map(|r| ReferenceTable {
            table: text_of(&r.table),
            key: slice_of(r.key.iter().map(|k| text_of(k)).collect()),
            surrogate: r.surrogate.as_deref().map(text_of),
            removed: match r.removed {
                seedbake_compiler::manifest::Removed::Delete => Removed::Delete,
                seedbake_compiler::manifest::Removed::Keep => Removed::Keep,
                seedbake_compiler::manifest::Removed::Fail => Removed::Fail,
            },
        })
        .collect();
    let schema = c.profiles[0]
        .fingerprint
        .entry(seedbake::fingerprint::SCHEMA_ENTRY)
        .unwrap();
    Build {
        migrations: slice_of(migrations),
        reference: slice_of(reference),
        tables: slice_of(tables),
        schema_digest: text_of(schema),
    }
}

// ---------------------------------------------------------------------------
// Databases and what they hold.

use common::rt;

/// Every row a query returns, as text.
async fn rows(path: &Path, sql: &str) -> Vec<String> {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn.query(sql, ()).await.unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().await.unwrap() {
        let values: Vec<String> = (0..r.column_count())
            .map(|i| format!("{:?}", r.get_value(i).unwrap()))
            .collect();
        out.push(values.join(" | "));
    }
    out
}

async fn one(path: &Path, sql: &str) -> i64 {
    common::query_i64(path, sql).await
}

/// The app's own tables in version 1, each with its columns then.
const APP_TABLES: &[&str] = &[
    "users",
    "saison",
    "schwimmbad",
    "verein",
    "wettkampf",
    "kind",
    "wettkampf_figuren",
    "anmeldung",
    "anmeldung_figuren",
    "performance_probe",
];

/// Every row of every app table, over the columns version 1 has.
async fn app_rows(path: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for t in APP_TABLES {
        let v1 = seedbake::SEED.table(t).unwrap();
        out.insert(
            (*t).to_owned(),
            rows(
                path,
                &format!("SELECT {} FROM \"{t}\" ORDER BY rowid", v1.quoted_columns()),
            )
            .await,
        );
    }
    out
}

/// The app's users at work: a child nominated by the verband NANK (which
/// version 2 drops), registered with a figure (F26, which version 2 drops)
/// under a contract number another child has (which a broken version 2
/// makes unique), and a new account.
async fn app_work(path: &Path) {
    common::execute(
        path,
        "INSERT INTO kind (vorname, nachname, email, geburtsdatum, geschlecht, verein_id, verband_id, versicherung_id, vertrag)
           VALUES ('Lina', 'Neumann', 'lina@example.org', '2014-02-03', 'W', 1,
                   (SELECT id FROM verband WHERE abkuerzung = 'NANK'),
                   (SELECT id FROM versicherung WHERE kurz = 'HUKC'),
                   (SELECT vertrag FROM kind ORDER BY id LIMIT 1));
         INSERT INTO anmeldung (kind_id, wettkampf_id, startnummer, anmeldedatum, vorlaeufig, status)
           VALUES ((SELECT max(id) FROM kind), (SELECT id FROM wettkampf WHERE name = 'Herbstpokal 2026'), 99, '2026-09-01', 1, 'aktiv');
         INSERT INTO anmeldung_figuren (anmeldung_id, figur_id)
           VALUES ((SELECT max(id) FROM anmeldung), (SELECT id FROM figur WHERE name = 'Umgekehrte Pike zur Vertikalen'));
         INSERT INTO users (username, email, full_name, hashed_password, role, is_active, created_at, totp_enabled, is_app_user, can_read_all, can_write_all)
           VALUES ('trainerin', 'trainerin@example.org', 'Trainerin', '$2b$12$abcdefghijklmnopqrstuuJ2Vh1m3Tn0H8vq6wR0s7JcHk0f3g5eW', 'OFFIZIELLE', 1, '2026-01-01 00:00:00.000000', 0, 0, 1, 0);",
    )
    .await;
}

/// A version-1 database with the app's work in it.
fn v1_with_app_work(dir: &Path) -> PathBuf {
    let path = dir.join("aquarius.db");
    let o = cli(&["reset"], &path, &[]);
    assert!(o.status.success(), "{}", text(&o));
    rt().block_on(app_work(&path));
    path
}

async fn migrate_local(path: &Path, build: &Build) -> seedbake::Result<MigrateReport> {
    let target = common::open(path).await;
    ops::migrate(&*target, build, &MigrateOptions::default()).await
}

/// The canonical schema a database built from `schema_sql` has.
async fn schema_of_sql(schema_sql: &str) -> Vec<seedbake::schema::SchemaObject> {
    let db = libsql::Builder::new_local(":memory:")
        .build()
        .await
        .unwrap();
    let conn = db.connect().unwrap();
    conn.execute_batch(schema_sql).await.unwrap();
    seedbake::fingerprint::canonical_schema(&conn)
        .await
        .unwrap()
}

async fn schema_of(path: &Path) -> Vec<seedbake::schema::SchemaObject> {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    seedbake::fingerprint::canonical_schema(&conn)
        .await
        .unwrap()
}

/// Each reference table's rows by key, without the id: what the seed says.
fn seed_reference(build: &Build) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for r in build.reference {
        let t = build.table(r.table).unwrap();
        let mut list: Vec<String> = t
            .rows()
            .map(|row| {
                t.columns
                    .iter()
                    .zip(row)
                    .filter(|(c, _)| Some(c.name) != r.surrogate)
                    .map(|(_, v)| format!("{:?}", seedbake::value::to_libsql(v)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        list.sort();
        out.insert(r.table.to_owned(), list);
    }
    out
}

/// The same, from a database.
async fn live_reference(path: &Path, build: &Build) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for r in build.reference {
        let t = build.table(r.table).unwrap();
        let columns: Vec<String> = t
            .columns
            .iter()
            .filter(|c| Some(c.name) != r.surrogate)
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        let mut list = rows(
            path,
            &format!("SELECT {} FROM \"{}\"", columns.join(", "), r.table),
        )
        .await;
        list.sort();
        out.insert(r.table.to_owned(), list);
    }
    out
}

// ---------------------------------------------------------------------------
// The story, locally.

#[test]
fn version_2_keeps_every_app_row_reaches_its_schema_and_the_seeds_reference_data() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let app_before = rt.block_on(app_rows(&path));
    let ids_before = rt.block_on(rows(
        &path,
        "SELECT abkuerzung, id FROM verband ORDER BY id",
    ));
    let figur_ids_before = rt.block_on(rows(
        &path,
        "SELECT name, kategorie, id FROM figur ORDER BY id",
    ));

    let report = rt.block_on(migrate_local(&path, &v2)).unwrap();
    assert!(report.changes && !report.dry_run);
    assert_eq!((report.from, report.to), (Some(1), Some(3)));
    let applied: Vec<i64> = report.applied.iter().map(|m| m.version).collect();
    assert_eq!(applied, [2, 3]);
    let table = |name: &str| report.reference.iter().find(|t| t.table == name).unwrap();
    let verband = table("verband");
    assert_eq!(verband.inserted, ["\"NEUV\""]);
    assert_eq!(verband.updated.len(), 1);
    assert_eq!(
        (
            verband.updated[0].key.as_str(),
            verband.updated[0].columns.as_slice()
        ),
        ("\"BKFD\"", &["ort".to_owned()][..])
    );
    let text = |t: &str| Shown::Value(Value::Text(t.to_owned()));
    assert_eq!(
        verband.updated[0].changes,
        [ops::ChangedValue {
            column: "ort".into(),
            database: text("Kassel"),
            seed: text("Berlin"),
        }]
    );
    let values = |r: &ops::RowValues| -> Vec<(String, Shown)> {
        r.values
            .iter()
            .map(|v| (v.column.clone(), v.value.clone()))
            .collect()
    };
    assert_eq!(
        values(&verband.inserted_rows[0]),
        [
            ("name", text("Neuer Verband für Figurenschwimmen e.V.")),
            ("abkuerzung", text("NEUV")),
            ("land", text("Deutschland")),
            ("ort", text("Leipzig")),
        ]
        .map(|(c, v)| (c.to_owned(), v))
    );
    assert_eq!(verband.deleted_rows[0].key, "\"OFKF\"");
    assert!(
        values(&verband.deleted_rows[0]).contains(&("abkuerzung".into(), text("OFKF"))),
        "{:?}",
        verband.deleted_rows
    );
    assert_eq!(verband.deleted, ["\"OFKF\""]);
    assert_eq!(verband.kept.len(), 1);
    assert_eq!(verband.kept[0].key, "\"NANK\"");
    assert_eq!(
        verband.kept[0].reason,
        "the seed does not have it, but 1 kind row refers to it"
    );
    let figur = table("figur");
    assert_eq!(figur.inserted, ["\"Delfin\" / \"Delfin\""]);
    let updated: Vec<(&str, Vec<&str>)> = figur
        .updated
        .iter()
        .map(|u| {
            (
                u.key.as_str(),
                u.columns.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        updated,
        [
            ("\"Ballettbein\" / \"Ballettbein\"", vec!["video"]),
            (
                "\"Ballettbein beidbeinig\" / \"Ballettbein\"",
                vec!["beschreibung"]
            )
        ]
    );
    assert!(figur.deleted.is_empty());
    assert_eq!(
        figur.kept[0].key,
        "\"Umgekehrte Pike zur Vertikalen\" / \"Kombination\""
    );
    assert_eq!(
        figur.kept[0].reason,
        "the seed does not have it, but 2 anmeldung_figuren rows and 2 wettkampf_figuren rows refer to it"
    );
    let versicherung = table("versicherung");
    assert_eq!(versicherung.updated.len(), 1);
    assert_eq!(versicherung.unchanged, 17);

    // Every row of the app's own tables, exactly as it was (the new column
    // empty, the rebuilt table's rows with their ids and values).
    assert_eq!(rt.block_on(app_rows(&path)), app_before);
    assert_eq!(
        rt.block_on(one(
            &path,
            "SELECT count(*) FROM kind WHERE notiz IS NOT NULL"
        )),
        0
    );
    assert_eq!(
        rt.block_on(one(&path, "SELECT count(*) FROM kampfrichter")),
        0
    );

    // The schema version 2's schema.sql declares, as the fingerprint sees it.
    let v2_schema_sql = {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("seed-data");
        copy_dir(&repo().join("seed-data"), &dir);
        make_v2(&dir);
        std::fs::read_to_string(dir.join("schema.sql")).unwrap()
    };
    assert_eq!(
        rt.block_on(schema_of(&path)),
        rt.block_on(schema_of_sql(&v2_schema_sql))
    );

    // The reference tables hold the seed's rows, plus the two the app's rows
    // still point at; rows that stayed kept their ids.
    let mut expected = seed_reference(&v2);
    let live = rt.block_on(live_reference(&path, &v2));
    let nank = live["verband"]
        .iter()
        .find(|r| r.contains("NANK"))
        .unwrap()
        .clone();
    let pike = live["figur"]
        .iter()
        .find(|r| r.contains("Umgekehrte Pike"))
        .unwrap()
        .clone();
    expected.get_mut("verband").unwrap().push(nank);
    expected.get_mut("figur").unwrap().push(pike);
    for list in expected.values_mut() {
        list.sort();
    }
    assert_eq!(live, expected);
    let ids_after = rt.block_on(rows(
        &path,
        "SELECT abkuerzung, id FROM verband ORDER BY id",
    ));
    for row in &ids_before {
        if !row.contains("OFKF") {
            assert!(ids_after.contains(row), "{row} lost its id: {ids_after:?}");
        }
    }
    assert!(ids_after.last().unwrap().contains("NEUV"));
    let figur_ids_after = rt.block_on(rows(
        &path,
        "SELECT name, kategorie, id FROM figur ORDER BY id",
    ));
    assert_eq!(figur_ids_after[..26], figur_ids_before[..]);
    assert_eq!(
        rt.block_on(one(&path, "SELECT count(*) FROM pragma_foreign_key_check")),
        0
    );

    // Recorded, in step, and a second run has nothing to do.
    let recorded = rt.block_on(rows(
        &path,
        "SELECT version, name, how FROM _seedbake_migrations ORDER BY version",
    ));
    assert_eq!(
        recorded,
        [
            "Integer(1) | Text(\"initial\") | Text(\"reset\")",
            "Integer(2) | Text(\"notiz_video_kampfrichter\") | Text(\"migrate\")",
            "Integer(3) | Text(\"anmeldung_vorlaeufig_boolean\") | Text(\"migrate\")",
        ]
    );
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &v2).await.unwrap()
    });
    assert!(status.in_step, "{status:?}");
    assert_eq!(status.recorded, Some(3));
    let before_again = rt.block_on(common::dump(&path));
    let again = rt.block_on(migrate_local(&path, &v2)).unwrap();
    assert!(!again.changes, "{again:?}");
    assert_eq!(rt.block_on(common::dump(&path)), before_again);
}

/// The one value `rows` shows, as the text it is.
fn text_value(shown: &str) -> String {
    shown
        .strip_prefix("Text(\"")
        .and_then(|s| s.strip_suffix("\")"))
        .unwrap_or_else(|| panic!("not a text: {shown}"))
        .to_owned()
}

#[test]
fn a_credential_columns_values_never_appear_in_a_report() {
    // Version 1 with the accounts as reference data too: their password
    // hashes (a bcrypt column, the admin's password column) are compared
    // like any column.
    let with_users = compile(|dir| {
        let path = dir.join("seed.toml");
        let manifest = std::fs::read_to_string(&path).unwrap();
        std::fs::write(path, manifest + "\n[[reference]]\ntable = \"users\"\n").unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    // The app's work adds the account "trainerin", which the seed does not have.
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let hash_of = |user: &str| {
        text_value(
            &rt.block_on(rows(
                &path,
                &format!("SELECT hashed_password FROM users WHERE username = '{user}'"),
            ))[0],
        )
    };
    let hashes = [hash_of("admin"), hash_of("fritz"), hash_of("trainerin")];
    let planted = "$2b$12$PLANTEDplantedPLANTEDpu5oZ8b2Hq9Vx3Lk7Ww1Ee4Rr6Tt0Yy";
    rt.block_on(common::execute(
        &path,
        &format!(
            "UPDATE users SET hashed_password = '{planted}', full_name = 'Chefin' WHERE username = 'admin';
             DELETE FROM users WHERE username = 'fritz';"
        ),
    ));

    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &with_users).await.unwrap()
    });
    let plan = rt.block_on(async {
        let target = common::open(&path).await;
        let opts = MigrateOptions {
            dry_run: true,
            ..Default::default()
        };
        ops::migrate(&*target, &with_users, &opts).await.unwrap()
    });
    for (what, reference, shown) in [
        (
            "status",
            &status.reference,
            format!("{}\n{status:?}", serde_json::to_string(&status).unwrap()),
        ),
        (
            "the plan",
            &plan.reference,
            format!("{}\n{plan:?}", serde_json::to_string(&plan).unwrap()),
        ),
    ] {
        let users = reference.iter().find(|t| t.table == "users").unwrap();
        // The changes are there, the hashes are not: an update, an insert and
        // a delete each show the column hidden.
        let admin = users.updated.iter().find(|u| u.key == "\"admin\"").unwrap();
        let hidden = |c: &ops::ChangedValue| {
            c.column == "hashed_password" && c.database == Shown::Hidden && c.seed == Shown::Hidden
        };
        assert!(admin.changes.iter().any(hidden), "{what}: {admin:?}");
        assert!(
            admin.changes.iter().any(|c| c.column == "full_name"
                && c.database == Shown::Value(Value::Text("Chefin".into()))),
            "{what}: the other columns show their values: {admin:?}"
        );
        let password_of = |r: &ops::RowValues| {
            r.values
                .iter()
                .find(|v| v.column == "hashed_password")
                .map(|v| v.value.clone())
        };
        assert_eq!(users.inserted_rows.len(), 1, "{what}");
        assert_eq!(users.inserted_rows[0].key, "\"fritz\"");
        assert_eq!(password_of(&users.inserted_rows[0]), Some(Shown::Hidden));
        assert_eq!(users.deleted_rows.len(), 1, "{what}");
        assert_eq!(users.deleted_rows[0].key, "\"trainerin\"");
        assert_eq!(password_of(&users.deleted_rows[0]), Some(Shown::Hidden));
        assert!(shown.contains(r#"{"hidden":true}"#), "{what}");
        for hash in hashes.iter().map(String::as_str).chain([planted]) {
            assert!(!shown.contains(hash), "{what} shows the hash {hash}");
        }
        assert!(!shown.contains("$2b$"), "{what} shows a hash");
    }
}

#[test]
fn a_dry_run_plans_exactly_what_the_migration_does_and_changes_nothing() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let plan = rt
        .block_on(async {
            let target = common::open(&path).await;
            ops::migrate(
                &*target,
                &v2,
                &MigrateOptions {
                    dry_run: true,
                    ..MigrateOptions::default()
                },
            )
            .await
        })
        .unwrap();
    assert!(plan.dry_run && plan.changes);
    assert_eq!(rt.block_on(common::dump(&path)), before);
    // Run with the confirmed plan, it does just that.
    let done = rt
        .block_on(async {
            let target = common::open(&path).await;
            ops::migrate(
                &*target,
                &v2,
                &MigrateOptions {
                    confirmed: Some(&plan),
                    ..MigrateOptions::default()
                },
            )
            .await
        })
        .unwrap();
    assert_eq!(done.reference, plan.reference);
    assert_eq!(done.applied, plan.applied);
}

#[test]
fn a_database_that_changed_after_its_plan_was_confirmed_is_refused() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let plan = rt
        .block_on(async {
            let target = common::open(&path).await;
            let opts = MigrateOptions {
                dry_run: true,
                ..MigrateOptions::default()
            };
            ops::migrate(&*target, &v2, &opts).await
        })
        .unwrap();
    // Meanwhile someone changes an insurer.
    rt.block_on(common::execute(
        &path,
        "UPDATE versicherung SET hauptsitz = 'Nirgendwo' WHERE kurz = 'AKS'",
    ));
    let before = rt.block_on(common::dump(&path));
    let e = rt
        .block_on(async {
            let target = common::open(&path).await;
            let opts = MigrateOptions {
                confirmed: Some(&plan),
                ..MigrateOptions::default()
            };
            ops::migrate(&*target, &v2, &opts).await
        })
        .unwrap_err();
    assert!(matches!(e, seedbake::Error::Refused { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("the database changed after the plan was shown"),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_migration_that_fails_on_live_data_leaves_the_database_as_it_was() {
    // Version 2, plus a unique index that the app's data breaks: Lina got
    // a contract number another child has. It runs on an empty database
    // (the build proves that) and fails here, after 0002 and 0003 ran.
    let broken = compile(|d| {
        make_v2(d);
        std::fs::write(
            d.join("migrations/0004_vertrag_unique.sql"),
            "CREATE UNIQUE INDEX ix_kind_vertrag ON kind (vertrag);\n",
        )
        .unwrap();
        let path = d.join("schema.sql");
        let mut schema = std::fs::read_to_string(&path).unwrap();
        schema.push_str("CREATE UNIQUE INDEX ix_kind_vertrag ON kind (vertrag);\n");
        std::fs::write(path, schema).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let e = rt.block_on(migrate_local(&path, &broken)).unwrap_err();
    assert!(matches!(e, seedbake::Error::RolledBack { .. }), "{e}");
    let said = e.to_string();
    assert!(
        said.contains("applying migration 0004_vertrag_unique failed")
            && said.contains("UNIQUE constraint failed: kind.vertrag")
            && said.contains("rolled back"),
        "{said}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_key_left_dangling_at_the_end_rolls_everything_back() {
    // A migration that deletes a verband the seed's children point at: the
    // sync puts the row back under a new id, the children still name the
    // old one, and the check before the commit stops it all.
    let broken = compile(|d| {
        make_v2(d);
        std::fs::write(
            d.join("migrations/0004_drop_hvfk.sql"),
            "DELETE FROM verband WHERE abkuerzung = 'HVFK';\n",
        )
        .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let e = rt.block_on(migrate_local(&path, &broken)).unwrap_err();
    assert!(matches!(e, seedbake::Error::RolledBack { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("checking foreign keys failed")
            && e.contains("\"kind\" row")
            && e.contains("refers to a missing \"verband\" row")
            && e.contains("rolled back"),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_removed_row_still_referred_to_stops_a_fail_policy_before_any_change() {
    let strict = compile(|d| {
        make_v2(d);
        replace(
            d,
            "seed.toml",
            "table = \"verband\"",
            "table = \"verband\"\nremoved = \"fail\"",
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &strict).await.unwrap()
    });
    let e = rt.block_on(migrate_local(&path, &strict)).unwrap_err();
    assert!(matches!(e, seedbake::Error::Refused { .. }), "{e}");
    // status said so beforehand, in the same words: found on the rows as
    // they are, which the pending migrations run before.
    assert!(
        !status.in_step && status.refusals.is_empty() && status.migrate_would_refuse(),
        "{status:?}"
    );
    assert_eq!(status.after_migrations.len(), 1, "{status:?}");
    assert!(
        e.to_string().contains(&format!(
            "after the pending migrations (applied in the transaction, then rolled back): {}",
            status.after_migrations[0]
        )),
        "{status:?}\n{e}"
    );
    assert!(
        e.to_string().contains(
            "the seed no longer has verband row \"NANK\" (1 kind row refers to it) that the database still refers to, \
             and its policy is removed = \"fail\""
        ),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
}

#[test]
fn a_changed_natural_key_that_collides_with_a_kept_row_is_refused_by_status_and_migrate_alike() {
    // The seed renames BKFD to BKDE: by key, a new row. The old one stays
    // (children point at it) and holds the name the new one needs: no
    // order of statements can make that, so it is refused before any
    // change, naming both rows, the column and what to do.
    let renamed = compile(|d| {
        replace(d, "verbaende.csv", ",BKFD,", ",BKDE,");
        replace(d, "kind.csv", ",BKFD,", ",BKDE,");
    });
    let dir = tempfile::tempdir().unwrap();
    let path = v1_with_app_work(dir.path());
    let rt = rt();
    let before = rt.block_on(common::dump(&path));
    let status = rt.block_on(async {
        let target = common::open(&path).await;
        ops::status(&*target, &renamed).await.unwrap()
    });
    let e = rt.block_on(migrate_local(&path, &renamed)).unwrap_err();
    assert!(matches!(e, seedbake::Error::Refused { .. }), "{e}");
    let e = e.to_string();
    let expected = "the seed's verband row \"BKDE\" would have name = \"Bundesverband Kunst- und Figurenschwimmen \
                    Deutschland e.V.\", which the row \"BKFD\" has, and it stays (the seed does not have it, but";
    assert!(
        e.contains(expected)
            && e.contains("the UNIQUE index ix_verband_name allows one such row")
            && e.contains("change the key of \"BKFD\" in the database first"),
        "{e}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
    assert!(!status.in_step, "{status:?}");
    assert_eq!(status.refusals.len(), 1, "{status:?}");
    assert!(e.contains(&status.refusals[0]), "{status:?}\n{e}");
}

// ---------------------------------------------------------------------------
// The story on the Hrana test server.

async fn open_remote(server: &TestServer) -> Box<dyn Target> {
    let (location, _) = database::parse_url_with_token(&server.url()).unwrap();
    assert!(matches!(location, Location::Remote { .. }));
    database::open(
        location,
        Settings {
            auth_token: Some(TOKEN.into()),
            lock_timeout: Duration::from_secs(2),
            ..Settings::default()
        },
    )
    .await
    .unwrap()
}

#[test]
fn the_story_on_a_server_equals_the_story_on_a_file_and_a_failure_at_any_request_changes_nothing() {
    let v2 = v2();
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();

    // The same database twice: a local file, and a file the server serves.
    let local_dir = dir.path().join("local");
    std::fs::create_dir(&local_dir).unwrap();
    let local = v1_with_app_work(&local_dir);
    let served = dir.path().join("server.db");
    std::fs::copy(&local, &served).unwrap();
    let server = TestServer::start(&served, TOKEN, &["--stream-expiry-ms", "500"]);

    let before = rt.block_on(common::dump(&served));
    // Fail every request from the k-th on, for growing k: each attempt must
    // leave the database exactly as it was, until one gets through.
    let mut k = 1;
    let report = loop {
        server.faults(&format!(r#"{{"fail_after_requests": {k}}}"#));
        let outcome = rt.block_on(async {
            let target = open_remote(&server).await;
            ops::migrate(&*target, &v2, &MigrateOptions::default()).await
        });
        server.faults("{}");
        match outcome {
            Ok(report) => break report,
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        seedbake::Error::RolledBack { .. }
                            | seedbake::Error::Unreachable { .. }
                            | seedbake::Error::Database { .. }
                    ),
                    "attempt {k}: {e}"
                );
                // The server drops an abandoned stream, and its transaction.
                std::thread::sleep(Duration::from_millis(1200));
                assert_eq!(
                    rt.block_on(common::dump(&served)),
                    before,
                    "attempt {k} changed the database: {e}"
                );
            }
        }
        k += 1;
        assert!(k < 40, "no attempt got through");
    };
    assert!(
        k > 3,
        "the failures must have hit the migration itself (k = {k})"
    );
    // A request per read (each costs two: describe and rows), whatever the
    // number of rows, the foreign-key check among them (it names what
    // dangles before the commit); every write travels with the commit.
    let traffic = report.traffic.clone().unwrap();
    assert!(traffic.requests <= 26, "{} requests", traffic.requests);

    let local_report = rt.block_on(migrate_local(&local, &v2)).unwrap();
    assert_eq!(local_report.reference, report.reference);
    assert_eq!(local_report.applied, report.applied);

    // Row for row the same as the local file; the schema the same as the
    // fingerprint sees it (the client re-renders SQL text).
    let rows_of = |path: &Path| {
        rt.block_on(common::dump(path))
            .into_iter()
            .filter(|l| !l.starts_with("_seedbake") && !l.contains(": CREATE"))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows_of(&served), rows_of(&local));
    assert_eq!(
        rt.block_on(schema_of(&served)),
        rt.block_on(schema_of(&local))
    );

    let status = rt.block_on(async {
        let target = open_remote(&server).await;
        ops::status(&*target, &v2).await.unwrap()
    });
    assert!(status.in_step, "{status:?}");
}

// ---------------------------------------------------------------------------
// The binary, with the seed it embeds.

fn cli(args: &[&str], db: &Path, env: &[(&str, &str)]) -> Output {
    let url = db.display().to_string();
    let mut all = vec![("DATABASE_URL", url.as_str())];
    all.extend_from_slice(env);
    common::seedbake_command(&all)
        .args(args)
        .current_dir(db.parent().unwrap())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    let out = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(out.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

fn reset_db(dir: &Path) -> PathBuf {
    let path = dir.join("aquarius.db");
    let o = cli(&["reset"], &path, &[]);
    assert!(o.status.success(), "{}", text(&o));
    path
}

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

// ---------------------------------------------------------------------------
// `status` predicts `migrate`, on a file and on a server: the binary, on a
// database made by reset and then changed as the app's operators (or a
// tester) might.

/// A database made by `reset`, as a local file or behind a server.
struct Place {
    dir: tempfile::TempDir,
    /// The file itself, or the file the server serves.
    db: PathBuf,
    server: Option<TestServer>,
}

impl Place {
    fn file() -> Place {
        let dir = tempfile::tempdir().unwrap();
        let db = reset_db(dir.path());
        Place {
            dir,
            db,
            server: None,
        }
    }

    /// The test server, or sqld (when `SEEDBAKE_TEST_SQLD` names it).
    fn server(sqld: bool) -> Option<Place> {
        let dir = tempfile::tempdir().unwrap();
        let server = if sqld {
            TestServer::sqld("status_predicts_migrate")?
        } else {
            TestServer::start(&dir.path().join("server.db"), TOKEN, &[])
        };
        let place = Place {
            db: server.db.clone(),
            dir,
            server: Some(server),
        };
        let o = place.run(&["reset", "--yes", "--no-backup"]);
        assert!(o.status.success(), "{}", text(&o));
        Some(place)
    }

    fn name(&self) -> String {
        match &self.server {
            None => "a file".into(),
            Some(s) => format!("{:?} server", s.kind),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let (url, token) = match &self.server {
            Some(s) => (s.url(), s.token.clone()),
            None => (self.db.display().to_string(), String::new()),
        };
        let mut env = vec![("DATABASE_URL", url.as_str())];
        if self.server.is_some() {
            env.push(("TURSO_AUTH_TOKEN", token.as_str()));
        }
        common::seedbake_command(&env)
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Changes the database as its users would: through the server when
    /// there is one (so that it sees them), one statement at a time.
    fn exec(&self, statements: &[&str]) {
        match &self.server {
            Some(s) => s.exec(statements),
            None => rt().block_on(common::execute(&self.db, &statements.join(";\n"))),
        }
    }

    fn dump(&self) -> Vec<String> {
        if let Some(s) = self.server.as_ref().filter(|s| s.kind == Kind::Test) {
            s.settle();
        }
        rt().block_on(common::dump(&self.db))
    }
}

/// Every place the binary can migrate: a file, the test server, and sqld
/// when it is there.
fn places() -> Vec<Place> {
    [
        Some(Place::file()),
        Place::server(false),
        Place::server(true),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What `status --json` says `migrate` would do, then what `migrate`
/// does: exit 9 with the same reasons and nothing changed, or exit 0 and
/// in step afterwards. Returns migrate's output.
#[track_caller]
fn status_then_migrate(place: &Place, expected_status: i32) -> Output {
    let on = place.name();
    let o = place.run(&["status", "--json"]);
    assert_eq!(o.status.code(), Some(expected_status), "{on}: {}", text(&o));
    let status = json(&o);
    let refusals: Vec<String> = status["refusals"]
        .as_array()
        .unwrap_or_else(|| panic!("{on}: no refusals in {status}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    let before = place.dump();
    let o = place.run(&["migrate", "--yes", "--no-backup"]);
    if expected_status == 9 {
        assert_eq!(o.status.code(), Some(9), "{on}: {}", text(&o));
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.contains(&format!(": {}. Nothing was changed", refusals.join("; "))),
            "{on}: status said {refusals:?}, migrate said {said}"
        );
        assert_eq!(place.dump(), before, "{on}: migrate changed the database");
    } else {
        assert!(refusals.is_empty(), "{on}: {refusals:?}");
        assert_eq!(o.status.code(), Some(0), "{on}: {}", text(&o));
        let after = place.run(&["status"]);
        assert_eq!(after.status.code(), Some(0), "{on}: {}", text(&after));
    }
    o
}

#[test]
fn rows_that_already_refer_to_missing_rows_make_status_say_migrate_refuses() {
    // SQLite apps often run with foreign keys off; a row's parent goes and
    // the row stays.
    for place in places() {
        place.exec(&[
            "PRAGMA foreign_keys = OFF",
            "DELETE FROM versicherung WHERE kurz = 'AKV'",
        ]);
        let o = place.run(&["status"]);
        assert_eq!(o.status.code(), Some(9), "{}: {}", place.name(), text(&o));
        assert!(
            text(&o).contains(
                "would refuse it (exit 9): some of its rows already refer to missing rows, before any change: \
                 \"kind\" row"
            ) && text(&o).contains("(its versicherung_id) refers to a missing \"versicherung\" row"),
            "{}: {}",
            place.name(),
            text(&o)
        );
        status_then_migrate(&place, 9);
    }
}

#[test]
fn reference_rows_that_swap_unique_values_are_staged_not_refused() {
    // Two verbands' names swapped, and three more passed round in a
    // chain, by hand: each update takes a name another row still has, so
    // applied in any order one of them would hit ix_verband_name.
    let names = |place: &Place| {
        place
            .dump()
            .into_iter()
            .filter(|l| l.starts_with("verband: "))
            .collect::<Vec<_>>()
    };
    for place in places() {
        let seeded = names(&place);
        place.exec(&[
            "CREATE TABLE seeded AS SELECT abkuerzung, name FROM verband",
            "UPDATE verband SET name = 'vorher ' || abkuerzung WHERE abkuerzung IN ('BKFD', 'BFVKF', 'LKNW', 'HVFK', 'NANK')",
            "UPDATE verband SET name = (SELECT name FROM seeded WHERE abkuerzung = CASE verband.abkuerzung \
             WHEN 'BKFD' THEN 'BFVKF' WHEN 'BFVKF' THEN 'BKFD' \
             WHEN 'LKNW' THEN 'HVFK' WHEN 'HVFK' THEN 'NANK' WHEN 'NANK' THEN 'LKNW' END) \
             WHERE abkuerzung IN ('BKFD', 'BFVKF', 'LKNW', 'HVFK', 'NANK')",
            "DROP TABLE seeded",
        ]);
        assert_ne!(names(&place), seeded, "{}", place.name());
        let o = status_then_migrate(&place, 1);
        let said = text(&o);
        assert!(
            said.contains("verband          0 inserted, 5 updated, 0 deleted")
                && said.contains("give their unique values to one another"),
            "{}: {said}",
            place.name()
        );
        assert_eq!(names(&place), seeded, "{}", place.name());
    }
}

#[test]
fn an_app_row_that_holds_a_unique_value_the_seed_needs_is_refused_naming_it() {
    // The app added a verband of its own (a child points at it, so it
    // stays) under the name the seed gives BKFD: no order of statements
    // can make that.
    for place in places() {
        place.exec(&[
            "UPDATE verband SET name = 'Umbenannt' WHERE abkuerzung = 'BKFD'",
            "INSERT INTO verband (name, abkuerzung, land, ort) \
             VALUES ('Bundesverband Kunst- und Figurenschwimmen Deutschland e.V.', 'EIGEN', 'Deutschland', 'Bonn')",
            "UPDATE kind SET verband_id = (SELECT id FROM verband WHERE abkuerzung = 'EIGEN') \
             WHERE id = (SELECT min(id) FROM kind)",
        ]);
        let o = status_then_migrate(&place, 9);
        let said = text(&o);
        assert!(
            said.contains(
                "the seed's verband row \"BKFD\" would have name = \"Bundesverband Kunst- und Figurenschwimmen \
                 Deutschland e.V.\", which the row \"EIGEN\" has, and it stays (the seed does not have it, but 1 \
                 kind row refers to it): the UNIQUE index ix_verband_name allows one such row"
            ),
            "{}: {said}",
            place.name()
        );
    }
}

/// Recreates `_seedbake_migrations` without its types and constraints (as
/// a tester, or another tool, might), filled by `select` from the one reset
/// wrote (as `r`).
fn records_rewritten(columns: &str, select: &str) -> Vec<String> {
    vec![
        "CREATE TABLE r AS SELECT * FROM _seedbake_migrations".into(),
        "DROP TABLE _seedbake_migrations".into(),
        format!("CREATE TABLE _seedbake_migrations ({columns})"),
        format!("INSERT INTO _seedbake_migrations {select} FROM r"),
        "DROP TABLE r".into(),
    ]
}

#[test]
fn migration_records_seedbake_did_not_write_are_refused_alike_by_status_migrate_and_baseline() {
    let all = "version, name, checksum, applied_at, seedbake_version, how";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["DELETE FROM _seedbake_migrations".into()],
            "it holds no row, and seedbake never leaves it empty",
        ),
        (
            records_rewritten(all, &format!("SELECT CAST(version AS TEXT), {}", &all[9..])),
            "a version is the text \"1\", not an integer",
        ),
        (
            records_rewritten(all, &format!("SELECT version + 0.5, {}", &all[9..])),
            "a version is the real 1.5, not an integer",
        ),
        (
            records_rewritten(
                all,
                "SELECT version, name, NULL, applied_at, seedbake_version, how",
            ),
            "version 1 has NULL as its checksum, not text",
        ),
        (
            records_rewritten(
                "version, name, checksum, applied_at, seedbake_version",
                "SELECT version, name, checksum, applied_at, seedbake_version",
            ),
            "it has no column how",
        ),
    ];
    for (sql, why) in &cases {
        for place in places() {
            let on = place.name();
            let statements: Vec<&str> = sql.iter().map(String::as_str).collect();
            place.exec(&statements);
            let before = place.dump();
            let o = place.run(&["status"]);
            assert_eq!(o.status.code(), Some(9), "{on}: {}", text(&o));
            assert!(
                text(&o).contains("migrations: its records cannot be read as seedbake writes them"),
                "{on}: {}",
                text(&o)
            );
            let o = status_then_migrate(&place, 9);
            let said = text(&o);
            assert!(
                said.contains(&format!(
                    "its migration records (_seedbake_migrations) are not as seedbake writes them: {why}; so \
                     which migrations it has cannot be told from them. If its schema is as a version of this \
                     build made it, drop that table (DROP TABLE _seedbake_migrations) and run migrate again"
                )),
                "{on}: {said}"
            );
            // --baseline follows the same rule, in the same words.
            let o = place.run(&["migrate", "--baseline", "1", "--yes", "--no-backup"]);
            assert_eq!(o.status.code(), Some(9), "{on}: {}", text(&o));
            assert!(text(&o).contains(why), "{on}: {}", text(&o));
            assert_eq!(place.dump(), before, "{on}");
            // What it says to do works: without the table, migrate adopts
            // the database by its schema.
            place.exec(&["DROP TABLE _seedbake_migrations"]);
            let o = status_then_migrate(&place, 1);
            assert!(
                text(&o).contains("adopted at version 1 (0001_initial) automatically"),
                "{on}: {}",
                text(&o)
            );
        }
    }
}

#[test]
fn production_migrate_is_planned_confirmed_and_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = reset_db(dir.path());
    let rt = rt();
    rt.block_on(common::execute(
        &path,
        "UPDATE figur SET beschreibung = 'von Hand' WHERE name = 'Vertikale'",
    ));
    let before = rt.block_on(common::dump(&path));
    let prod = [("SEEDBAKE_ENV", "production")];

    // No terminal, no --yes: the plan, then a refusal; nothing changed.
    let o = cli(&["migrate"], &path, &prod);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("plan: migrate"), "{said}");
    assert!(
        said.contains("~ \"Vertikale\" / \"Vertikale\" (beschreibung)"),
        "{said}"
    );
    assert!(said.contains("PRODUCTION"), "{said}");
    assert!(said.contains("holds"), "{said}");
    assert!(!said.contains("will drop"), "{said}");
    assert!(
        said.contains("refusing to migrate a production database without confirmation"),
        "{said}"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);
    assert!(!dir.path().join("exports").exists());

    // --dry-run: the plan, nothing changed, no backup.
    let o = cli(&["migrate", "--dry-run", "--json"], &path, &prod);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!(
        (j["dry_run"].as_bool(), j["changes"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        j["reference"][2]["updated"][0]["columns"][0],
        "beschreibung"
    );
    assert_eq!(rt.block_on(common::dump(&path)), before);

    // --yes: backed up first, then migrated.
    let o = cli(&["migrate", "--yes"], &path, &prod);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("backup written to exports/"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("migrated"), "{}", text(&o));
    let backups: Vec<_> = std::fs::read_dir(dir.path().join("exports"))
        .unwrap()
        .collect();
    assert_eq!(backups.len(), 1);
    let backup = std::fs::read_to_string(backups[0].as_ref().unwrap().path()).unwrap();
    assert!(
        backup.contains("von Hand"),
        "the backup holds the database as it was"
    );
    assert_ne!(rt.block_on(common::dump(&path)), before);
    assert_eq!(
        rt.block_on(rows(
            &path,
            "SELECT count(*) FROM figur WHERE beschreibung = 'von Hand'"
        )),
        ["Integer(0)"]
    );

    // In step now: nothing to confirm, no backup.
    let o = cli(&["migrate"], &path, &prod);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("is up to date"), "{}", text(&o));
    assert_eq!(
        std::fs::read_dir(dir.path().join("exports"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn migrate_needs_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli(&["migrate"], &dir.path().join("missing.db"), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("there is no such database file"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("missing.db").exists());
}

#[test]
fn the_binary_migrates_a_server_as_production_without_showing_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let server = TestServer::start(&db, TOKEN, &[]);
    let url = server.url();
    let env = [("DATABASE_URL", url.as_str()), ("TURSO_AUTH_TOKEN", TOKEN)];
    let run = |args: &[&str]| {
        common::seedbake_command(&env)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run(&["reset", "--yes", "--no-backup"]);
    assert!(o.status.success(), "{}", text(&o));
    let rt = rt();
    rt.block_on(common::execute(
        &db,
        "UPDATE versicherung SET hauptsitz = 'Irgendwo' WHERE kurz = 'ERGO'; DROP TABLE _seedbake_migrations;",
    ));

    let o = run(&["status"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run(&["migrate", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("~ \"ERGO\" (hauptsitz)"), "{}", text(&o));
    // A server is production: no terminal, no --yes, no migration.
    let o = run(&["migrate"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run(&["migrate", "--yes", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j = json(&o);
    assert_eq!(j["adopted"]["version"], 1);
    assert_eq!(j["reference"][1]["updated"][0]["key"], "\"ERGO\"");
    assert!(j["traffic"]["requests"].as_u64().unwrap() > 0);
    assert!(
        text(&o).contains("backup written to exports/"),
        "{}",
        text(&o)
    );
    let o = run(&["status", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["in_step"], true);
    for o in [run(&["status"]), run(&["migrate", "--baseline", "1"])] {
        let all = text(&o);
        assert!(
            !all.contains(TOKEN) && !all.contains(&TOKEN[4..12]),
            "the token leaked: {all}"
        );
    }
}

// ---------------------------------------------------------------------------
// `seedbake migration new`: a draft the build then proves.

fn draft(dir: &Path, name: &str) -> Output {
    common::seedbake_command(&[])
        .args(["migration", "new", name, "--seed-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn migration_new_drafts_what_schema_sql_adds_and_the_build_proves_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(&repo().join("seed-data"), &dir);
    let o = draft(&dir, "nothing");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nothing to draft"), "{}", text(&o));
    // A name no file system takes is a usage error, before anything else.
    let o = draft(&dir, &"a".repeat(300));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("a migration's name has at most 100"),
        "{}",
        text(&o)
    );

    // Version 2's schema, without its migrations: the draft writes them.
    replace(
        &dir,
        "schema.sql",
        "    vertrag VARCHAR,\n",
        "    vertrag VARCHAR,\n    notiz VARCHAR,\n",
    );
    replace(
        &dir,
        "schema.sql",
        "    vorlaeufig INTEGER,\n",
        "    vorlaeufig BOOLEAN,\n",
    );
    replace(
        &dir,
        "schema.sql",
        "CREATE INDEX ix_anmeldung_id ON anmeldung (id);\n",
        "CREATE INDEX ix_anmeldung_id ON anmeldung (id);\nCREATE INDEX ix_anmeldung_kind_id ON anmeldung (kind_id);\n",
    );
    let o = draft(&dir, "kind_notiz");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("with it, the migrations make the schema schema.sql declares"),
        "{}",
        text(&o)
    );
    let written = std::fs::read_to_string(dir.join("migrations/0002_kind_notiz.sql")).unwrap();
    assert!(
        written.contains("ALTER TABLE \"kind\" ADD COLUMN notiz VARCHAR;"),
        "{written}"
    );
    assert!(
        written.contains("ALTER TABLE \"anmeldung_new\" RENAME TO \"anmeldung\";"),
        "{written}"
    );
    let compiled = seedbake_compiler::compile(&dir)
        .unwrap_or_else(|e| panic!("the draft does not build: {e}"));
    assert_eq!(compiled.migrations.len(), 2);

    // A column dropped from schema.sql: the data would go, so the rebuild
    // is written commented out, said loudly, and the build still refuses.
    replace(&dir, "schema.sql", "    notiz VARCHAR,\n", "");
    let o = draft(&dir, "drop_notiz");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("warning: rebuilding kind leaves out the column notiz"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("not there yet: after the draft, kind has a column notiz"),
        "{}",
        text(&o)
    );
    let written = std::fs::read_to_string(dir.join("migrations/0003_drop_notiz.sql")).unwrap();
    assert!(
        written.contains("-- CHECK: rebuilding kind leaves out the column notiz"),
        "{written}"
    );
    assert!(
        written
            .lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.starts_with("--")),
        "nothing may run uncommented: {written}"
    );
    let e = seedbake_compiler::compile(&dir).unwrap_err();
    assert_eq!(e.kind, seedbake_compiler::ErrorKind::MigrationSql, "{e}");
}
