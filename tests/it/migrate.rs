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
use seedbake::seed::{Column, TableData};
use seedbake::value::Value;
use seedbake_compiler::Compiled;

mod embedded;
mod local;
mod migration_new;
mod on_a_server;
mod predicted;
mod status;

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
                    .map(|col| Column {
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
