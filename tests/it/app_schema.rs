//! Schema parity, proven: a database seeded by seedbake has exactly the shape
//! the Aquarius app's own DDL gives (`app-schema.sql`, what its SQLAlchemy
//! models emit on SQLite, plus the `performance_probe` table its seeder
//! makes): the same tables; the same columns in the same order, with the same
//! type affinity, nullability and primary-key position; the same foreign keys;
//! every index with its uniqueness, columns in order and partial-ness. Any
//! drift fails with one readable line per difference.
//!
//! Where the app's DDL comes from: `../shared/aquarius/app-schema.sql` beside
//! this checkout (the project's shared folder), else the vendored copy
//! `tests/fixtures/aquarius/app-schema.sql`, copied byte for byte from it, so
//! a clean checkout without `../shared` still runs this test. When both are
//! there they must be equal (see `the_vendored_app_schema_is_current`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use libsql::{Connection, Value};

mod compare;

use compare::differences;

/// The shared original, relative to the crate's manifest directory.
const SHARED_APP_SCHEMA: &str = "../shared/aquarius/app-schema.sql";
/// The vendored copy of it.
const VENDORED_APP_SCHEMA: &str = "tests/fixtures/aquarius/app-schema.sql";

/// The app's DDL and the file it was read from.
fn app_schema_sql() -> (String, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for candidate in [SHARED_APP_SCHEMA, VENDORED_APP_SCHEMA] {
        let path = root.join(candidate);
        if let Ok(sql) = std::fs::read_to_string(&path) {
            return (sql, path);
        }
    }
    panic!(
        "neither {SHARED_APP_SCHEMA} nor {VENDORED_APP_SCHEMA} (relative to {}) is readable",
        root.display()
    );
}

/// Seeds a fresh database file with the default profile through seedbake's
/// library. The only place this file touches seedbake's own API, so a rename
/// there is a change here alone.
async fn seed_fresh_database(path: &Path) {
    use seedbake::ops;
    let settings = seedbake::database::Settings {
        lock_timeout: Duration::from_secs(5),
        ..seedbake::database::Settings::default()
    };
    let location = seedbake::database::Location::Local(path.to_owned());
    let target = seedbake::database::open(location, settings)
        .await
        .expect("open the temporary database");
    let opts = ops::LoadOptions {
        profile: seedbake::SEED.default_profile(),
        admin_password: None,
        production: false,
        backup: None,
    };
    ops::reset(&*target, &opts, &mut ops::Quiet)
        .await
        .expect("reset the temporary database");
}

// ---------------------------------------------------------------------------
// A database's shape, read from SQLite's own pragmas.

/// What the comparison sees of a database.
#[derive(Debug, Default)]
struct Shape {
    tables: BTreeMap<String, Table>,
    /// Every index, keyed by a name that identifies it across databases: its
    /// own name, or for the engine's automatic indexes (primary keys and
    /// UNIQUE constraints), what they index.
    indexes: BTreeMap<String, Index>,
    /// Views and triggers, as "view NAME" / "trigger NAME".
    others: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Table {
    columns: Vec<Column>,
    /// Rendered: "saison_id -> saison(id)", plus any ON DELETE / ON UPDATE.
    foreign_keys: BTreeSet<String>,
    without_rowid: bool,
    strict: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    declared: String,
    affinity: &'static str,
    not_null: bool,
    /// 1-based position in the primary key, 0 when not part of it.
    pk: i64,
    /// 0 ordinary; 2 or 3 generated (virtual, stored).
    hidden: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    table: String,
    unique: bool,
    partial: bool,
    columns: Vec<String>,
}

/// A column's type affinity by SQLite's rules (section 3.1 of "Datatypes In
/// SQLite"), in their order of precedence.
fn affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") || t.trim().is_empty() {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// One result row's values (a local `libsql::Row` is only valid until the
/// next step, so rows are copied out as they come).
type Row = Vec<Value>;

fn text(row: &Row, i: usize) -> Option<String> {
    match row[i].clone() {
        Value::Null => None,
        Value::Text(s) => Some(s),
        Value::Integer(n) => Some(n.to_string()),
        other => panic!("column {i}: expected text, got {other:?}"),
    }
}

fn int(row: &Row, i: usize) -> i64 {
    match &row[i] {
        Value::Integer(n) => *n,
        Value::Null => 0,
        other => panic!("column {i}: expected an integer, got {other:?}"),
    }
}

async fn rows(conn: &Connection, sql: &str, arg: &str) -> Vec<Row> {
    let mut rows = if sql.contains("?1") {
        conn.query(sql, [arg]).await
    } else {
        conn.query(sql, ()).await
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    while let Some(r) = rows.next().await.unwrap() {
        out.push(
            (0..r.column_count())
                .map(|i| r.get_value(i).unwrap())
                .collect(),
        );
    }
    out
}

/// Reads a database's shape, leaving out the engine's own tables and
/// seedbake's bookkeeping tables `_seedbake` and `_seedbake_migrations`.
async fn shape(conn: &Connection) -> Shape {
    let mut shape = Shape::default();
    let objects = rows(
        conn,
        "SELECT type, name FROM sqlite_schema \
         WHERE type IN ('table', 'view', 'trigger') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name NOT IN ('_seedbake', '_seedbake_migrations') ORDER BY type, name",
        "",
    )
    .await;
    for o in objects {
        let (kind, name) = (text(&o, 0).unwrap(), text(&o, 1).unwrap());
        if kind == "table" {
            let table = read_table(conn, &name, &mut shape.indexes).await;
            shape.tables.insert(name, table);
        } else {
            shape.others.insert(format!("{kind} {name}"));
        }
    }
    shape
}

async fn read_table(conn: &Connection, name: &str, indexes: &mut BTreeMap<String, Index>) -> Table {
    let mut table = Table::default();
    for r in rows(
        conn,
        "SELECT wr, strict FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
        name,
    )
    .await
    {
        table.without_rowid = int(&r, 0) != 0;
        table.strict = int(&r, 1) != 0;
    }
    for r in rows(
        conn,
        "SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid",
        name,
    )
    .await
    {
        let declared = text(&r, 1).unwrap_or_default();
        table.columns.push(Column {
            name: text(&r, 0).unwrap(),
            affinity: affinity(&declared),
            declared,
            not_null: int(&r, 2) != 0,
            pk: int(&r, 3),
            hidden: int(&r, 4),
        });
    }
    // A composite foreign key is several rows with one id.
    let mut fks: BTreeMap<i64, (Vec<String>, String, Vec<String>, String)> = BTreeMap::new();
    for r in rows(
        conn,
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        name,
    )
    .await
    {
        let entry = fks.entry(int(&r, 0)).or_default();
        entry.0.push(text(&r, 2).unwrap());
        entry.1 = text(&r, 1).unwrap();
        // NULL: the parent's primary key, implied.
        entry
            .2
            .push(text(&r, 3).unwrap_or_else(|| "(its primary key)".into()));
        let mut actions = String::new();
        for (what, action) in [("ON UPDATE", text(&r, 4)), ("ON DELETE", text(&r, 5))] {
            if let Some(a) = action.filter(|a| a != "NO ACTION") {
                actions.push_str(&format!(" {what} {a}"));
            }
        }
        entry.3 = actions;
    }
    for (from, parent, to, actions) in fks.into_values() {
        table.foreign_keys.insert(format!(
            "{} -> {parent}({}){actions}",
            from.join(", "),
            to.join(", ")
        ));
    }
    for r in rows(
        conn,
        "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)",
        name,
    )
    .await
    {
        let index_name = text(&r, 0).unwrap();
        let mut columns = Vec::new();
        for c in rows(
            conn,
            "SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
            &index_name,
        )
        .await
        {
            let mut col = match (int(&c, 0), text(&c, 1)) {
                (-2, _) => "<expression>".to_owned(),
                (-1, _) => "rowid".to_owned(),
                (_, Some(n)) => n,
                (_, None) => "?".to_owned(),
            };
            if int(&c, 2) != 0 {
                col.push_str(" DESC");
            }
            if let Some(coll) = text(&c, 3).filter(|c| !c.eq_ignore_ascii_case("BINARY")) {
                col.push_str(&format!(" COLLATE {coll}"));
            }
            columns.push(col);
        }
        let key = match text(&r, 2).as_deref() {
            Some("pk") => format!("{name}'s primary key ({})", columns.join(", ")),
            Some("u") => format!("{name}'s UNIQUE constraint ({})", columns.join(", ")),
            _ => format!("index {index_name}"),
        };
        indexes.insert(
            key,
            Index {
                table: name.to_owned(),
                unique: int(&r, 1) != 0,
                partial: int(&r, 3) != 0,
                columns,
            },
        );
    }
    table
}

/// A fresh in-memory database holding `sql`, and its shape.
async fn shape_of_sql(sql: &str) -> Shape {
    let db = libsql::Builder::new_local(":memory:")
        .build()
        .await
        .unwrap();
    let conn = db.connect().unwrap();
    conn.execute_batch(sql).await.expect("the DDL loads");
    shape(&conn).await
}

async fn shape_of_file(path: &Path) -> Shape {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    shape(&conn).await
}

// ---------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn a_seeded_database_has_exactly_the_apps_schema() {
    let (app_sql, source) = app_schema_sql();
    let app = shape_of_sql(&app_sql).await;
    // Not a vacuous comparison: the app's DDL is what MODEL.md describes.
    assert_eq!(app.tables.len(), 13, "{:?}", app.tables.keys());
    assert_eq!(
        app.indexes
            .keys()
            .filter(|k| k.starts_with("index "))
            .count(),
        23,
        "{:?}",
        app.indexes.keys()
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aquarius.db");
    seed_fresh_database(&path).await;
    let seeded = shape_of_file(&path).await;

    let diffs = differences(&app, &seeded);
    assert!(
        diffs.is_empty(),
        "the seeded database's schema differs from the app's ({}): fix seed-data/schema.sql\n  {}",
        source.display(),
        diffs.join("\n  ")
    );
}

#[test]
fn the_vendored_app_schema_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vendored = std::fs::read(root.join(VENDORED_APP_SCHEMA)).expect("the vendored copy");
    match std::fs::read(root.join(SHARED_APP_SCHEMA)) {
        Ok(shared) => assert!(
            shared == vendored,
            "{VENDORED_APP_SCHEMA} differs from {SHARED_APP_SCHEMA}: copy the shared file over it"
        ),
        Err(e) => {
            eprintln!("{SHARED_APP_SCHEMA} not readable ({e}); only the vendored copy is used")
        }
    }
}

/// Replaces `from` (which must occur exactly once) by `to`.
fn drift(sql: &str, from: &str, to: &str) -> String {
    assert_eq!(sql.matches(from).count(), 1, "{from:?} must occur once");
    sql.replacen(from, to, 1)
}

#[tokio::test]
async fn the_comparison_names_a_dropped_index_and_a_lost_not_null() {
    let (app_sql, _) = app_schema_sql();
    let drifted = drift(
        &app_sql,
        "CREATE INDEX ix_kind_nachname ON kind (nachname);\n",
        "",
    );
    let drifted = drift(
        &drifted,
        "\thashed_password VARCHAR NOT NULL, \n",
        "\thashed_password VARCHAR, \n",
    );
    let app = shape_of_sql(&app_sql).await;
    assert!(differences(&app, &shape_of_sql(&app_sql).await).is_empty());
    let mut diffs = differences(&app, &shape_of_sql(&drifted).await);
    diffs.sort();
    assert_eq!(
        diffs,
        [
            "index ix_kind_nachname: missing in the seed",
            "users.hashed_password: NOT NULL in the app, nullable in the seed",
        ]
    );
}

#[tokio::test]
async fn the_comparison_names_every_kind_of_drift() {
    let (app_sql, _) = app_schema_sql();
    let mut sql = app_sql.clone();
    for (from, to) in [
        // affinity NUMERIC -> TEXT
        ("\tcreated_at DATETIME, \n", "\tcreated_at TEXT, \n"),
        // a column gone, one added
        ("\tmanager VARCHAR, \n", "\tleitung VARCHAR, \n"),
        // a foreign key gone
        (
            "\tFOREIGN KEY(versicherung_id) REFERENCES versicherung (id)\n",
            "\tCHECK (1)\n",
        ),
        // uniqueness, columns, partial-ness
        (
            "CREATE UNIQUE INDEX ix_kind_email ON kind (email);",
            "CREATE INDEX ix_kind_email ON kind (email);",
        ),
        (
            "CREATE INDEX ix_figur_name ON figur (name);",
            "CREATE INDEX ix_figur_name ON figur (name, kategorie);",
        ),
        (
            "CREATE INDEX ix_saison_name ON saison (name);",
            "CREATE INDEX ix_saison_name ON saison (name) WHERE name IS NOT NULL;",
        ),
        // the primary key
        (
            "\tPRIMARY KEY (wettkampf_id, figur_id), ",
            "\tPRIMARY KEY (figur_id, wettkampf_id), ",
        ),
    ] {
        sql = drift(&sql, from, to);
    }
    sql.push_str("CREATE TABLE extra (x);\nCREATE VIEW v AS SELECT 1;\n");
    let diffs = differences(&shape_of_sql(&app_sql).await, &shape_of_sql(&sql).await);
    for expected in [
        "users.created_at: affinity NUMERIC vs TEXT (declared \"DATETIME\" in the app, \"TEXT\" in the seed)",
        "schwimmbad.manager: missing in the seed",
        "schwimmbad.leitung: in the seed, not in the app",
        "kind: foreign key versicherung_id -> versicherung(id) missing in the seed",
        "index ix_kind_email: unique in the app, not unique in the seed",
        "index ix_figur_name: columns (name) in the app, (name, kategorie) in the seed",
        "index ix_saison_name: not partial in the app, partial in the seed",
        "wettkampf_figuren.wettkampf_id: primary key column 1 in the app, primary key column 2 in the seed",
        "wettkampf_figuren's primary key (wettkampf_id, figur_id): missing in the seed",
        "table extra: in the seed, not in the app",
        "view v: in the seed, not in the app",
    ] {
        assert!(
            diffs.iter().any(|d| d == expected),
            "{expected:?} not among:\n  {}",
            diffs.join("\n  ")
        );
    }
}
