//! `status` predicts `migrate`, on a file and on a server: the binary, on a
//! database made by reset and then changed as the app's operators (or a
//! tester) might.

use super::on_a_server::open_remote;
use super::*;

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

/// A build whose version 2 is one migration, `sql`, declared in schema.sql
/// by `declared`.
fn with_migration(name: &str, sql: &'static str, declared: &'static str) -> Build {
    let file = format!("migrations/0002_{name}.sql");
    compile(move |d| {
        std::fs::write(d.join(file), sql).unwrap();
        let path = d.join("schema.sql");
        let schema = std::fs::read_to_string(&path).unwrap();
        std::fs::write(path, schema + declared).unwrap();
    })
}

/// On a server a migration's statements travel with the next request (a
/// read of the schema); a UNIQUE clash they meet there is the migration's,
/// named so, in the engine's words, on the test server and on sqld.
#[test]
fn a_migration_that_fails_on_a_servers_data_is_named_as_that_migration() {
    let index = "CREATE UNIQUE INDEX ix_kind_nachname_unique ON kind (nachname);\n";
    let broken = with_migration("nachname_unique", index, index);
    for place in [Place::server(false), Place::server(true)]
        .into_iter()
        .flatten()
    {
        place.exec(&["UPDATE kind SET nachname = 'Gleich'"]);
        let before = place.dump();
        let server = place.server.as_ref().unwrap();
        let e = rt()
            .block_on(async {
                let target = open_remote(server).await;
                ops::migrate(&*target, &broken, &MigrateOptions::default()).await
            })
            .unwrap_err();
        let said = e.to_string();
        assert!(
            matches!(e, seedbake::Error::RolledBack { .. }),
            "{}: {said}",
            place.name()
        );
        assert!(
            said.contains("applying migration 0002_nachname_unique failed")
                && said.contains("UNIQUE constraint failed: kind.nachname"),
            "{}: {said}",
            place.name()
        );
        for raw in ["Hrana", "api error", "SQLite error", "`"] {
            assert!(!said.contains(raw), "{}: {raw:?} in {said}", place.name());
        }
        assert_eq!(place.dump(), before, "{}", place.name());
    }
}

/// sqld takes the write lock from a transaction older than 5 s when another
/// client asks for it (libsql-server `connection/mod.rs`, `TXN_TIMEOUT`):
/// a migration that runs longer is rolled back, and seedbake names the
/// migration and the cause in its own words; the other client's write
/// goes through, the migration's does not.
#[test]
fn sqlds_transaction_timeout_is_told_under_the_migration_it_cut() {
    let Some(place) = Place::server(true) else {
        return;
    };
    // Some seconds of the engine's time, then nothing left behind.
    let slow = with_migration(
        "slow",
        "CREATE TABLE slow_probe (n INTEGER);\n\
         INSERT INTO slow_probe SELECT count(*) FROM (WITH RECURSIVE c(x) AS \
         (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000000) SELECT x FROM c);\n\
         DROP TABLE slow_probe;\n",
        "",
    );
    let server = place.server.as_ref().unwrap();
    let (url, token) = (server.url(), server.token.clone());
    let other = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        rt().block_on(async {
            let db = libsql::Builder::new_remote(url, token)
                .connector(hyper014::client::HttpConnector::new())
                .build()
                .await
                .unwrap();
            let conn = db.connect().unwrap();
            conn.execute(
                "INSERT INTO verein (name, ort, register_id, contact) VALUES ('Anderer Schreiber', 'Bonn', 'VR 9', '')",
                (),
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
        })
    });
    let e = rt()
        .block_on(async {
            let target = open_remote(server).await;
            ops::migrate(&*target, &slow, &MigrateOptions::default()).await
        })
        .unwrap_err();
    let said = e.to_string();
    assert!(matches!(e, seedbake::Error::RolledBack { .. }), "{said}");
    assert!(
        said.contains("applying migration 0002_slow failed")
            && said.contains("the server rolled the transaction back")
            && said.contains("5 s on sqld"),
        "{said}"
    );
    for raw in ["Hrana", "api error", "`"] {
        assert!(!said.contains(raw), "{raw:?} in {said}");
    }
    other.join().unwrap().unwrap();
    let rt = rt();
    assert_eq!(
        rt.block_on(one(
            &place.db,
            "SELECT max(version) FROM _seedbake_migrations"
        )),
        1
    );
    assert_eq!(
        rt.block_on(one(
            &place.db,
            "SELECT count(*) FROM verein WHERE name = 'Anderer Schreiber'"
        )),
        1
    );
}
