//! Big databases on a server, inside its clocks: remote dump, backup and
//! verify of a generated database large enough that one request per table
//! would outlast the server's 10 s stream clock, on the real libSQL server
//! (sqld, real clocks) and on the test server (shorter clocks by flags, so
//! `cargo test` stays quick); every kind of value through a remote dump;
//! and what sqld does that the test server is not asked to model.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::output_text as text;
use common::server::{Kind, Server};

mod other_apps_and_tokens;

const TOKEN: &str = "tok_big_Qw8Zr5Tn2Lx";

fn seedbake(server: &Server, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let url = server.url();
    let mut all = vec![
        ("DATABASE_URL", url.as_str()),
        ("TURSO_AUTH_TOKEN", server.token.as_str()),
    ];
    all.extend_from_slice(env);
    common::seedbake_command(&all)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

use common::rt;

/// Every table's rows in a local database file, as text, sorted: two
/// databases with equal maps hold the same rows (in any order, with or
/// without rowids).
fn rows_of(db: &Path) -> BTreeMap<String, Vec<String>> {
    rt().block_on(async {
        let conn = common::connect(db).await;
        let mut names = Vec::new();
        let mut rows = conn
            .query(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE 'libsql_%' ORDER BY name",
                (),
            )
            .await
            .unwrap();
        while let Some(r) = rows.next().await.unwrap() {
            names.push(r.get::<String>(0).unwrap());
        }
        let mut out = BTreeMap::new();
        for name in names {
            let mut lines = Vec::new();
            let mut rows = conn
                .query(&format!("SELECT * FROM \"{name}\""), ())
                .await
                .unwrap();
            while let Some(r) = rows.next().await.unwrap() {
                let values: Vec<String> = (0..r.column_count())
                    .map(|i| match r.get_value(i).unwrap() {
                        // Debug of an f64 is its shortest exact spelling;
                        // the sign of zero shows too.
                        libsql::Value::Real(f) => format!("Real({f:?}, {:#x})", f.to_bits()),
                        v => format!("{v:?}"),
                    })
                    .collect();
                lines.push(values.join(" | "));
            }
            lines.sort();
            out.insert(name, lines);
        }
        out
    })
}

/// Loads a dump into a fresh file with the sqlite3 shell.
fn load_with_shell(dump: &Path, db: &Path) {
    let status = Command::new("sqlite3")
        .arg(db)
        .stdin(std::fs::File::open(dump).unwrap())
        .status()
        .expect("the sqlite3 shell");
    assert!(status.success());
}

common::server::on_both!(a_remote_dump_carries_every_kind_of_value_exactly, TOKEN);
fn a_remote_dump_carries_every_kind_of_value_exactly(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    // Enough rows per table for several pages; values of every kind,
    // tables of every shape a page must be read by.
    // Seventeen significant digits name a double exactly.
    let floats: Vec<String> = common::finite_doubles(300)
        .iter()
        .map(|f| format!("{f:.16e}"))
        .collect();
    let floats = floats
        .iter()
        .map(|f| format!("({f})"))
        .collect::<Vec<_>>()
        .join(", ");
    let series = |n: u32| {
        format!("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n})")
    };
    server.exec(&[
        "CREATE TABLE kinds (id INTEGER PRIMARY KEY AUTOINCREMENT, v ANY, note TEXT)",
        "CREATE INDEX kinds_note ON kinds (note)",
        "CREATE VIEW kinds_ids AS SELECT id FROM kinds",
        "INSERT INTO kinds (v, note) VALUES (NULL, 'null'), (X'000102FF273B', 'blob'), (X'', 'empty blob'), \
         ('', 'empty text'), ('Grüße 🏊 ‘quotes’ ''single'' \"double\"; semi; -- not a comment' || char(10) || 'new line' || char(13, 10), 'text'), \
         (-9223372036854775808, 'min'), (9223372036854775807, 'max'), (0, 'zero'), (-0.0, 'minus zero'), \
         (0.1, 'a tenth'), (1e999, 'infinity'), (-1e999, 'minus infinity')",
        &format!("INSERT INTO kinds (v, note) SELECT column1, 'float' FROM (VALUES {floats})"),
        &format!("{} INSERT INTO kinds (v, note) SELECT x * 7, 'n' || x FROM c", series(1500)),
        "CREATE TABLE w (a TEXT NOT NULL, b INTEGER NOT NULL, c BLOB, PRIMARY KEY (b, a)) WITHOUT ROWID",
        &format!("{} INSERT INTO w SELECT 'k' || (x % 7), x, randomblob(x % 5) FROM c", series(1300)),
        // A nullable text key with NULLs in it, and a column named rowid.
        "CREATE TABLE nk (code TEXT PRIMARY KEY, rowid TEXT)",
        &format!("{} INSERT INTO nk SELECT CASE WHEN x % 3 = 0 THEN NULL ELSE 'c' || x END, 'r' || x FROM c", series(1200)),
        // No key at all, and identical rows.
        "CREATE TABLE nokey (a, b)",
        &format!("{} INSERT INTO nokey SELECT x % 10, 'same' FROM c", series(1100)),
    ]);
    let before = rows_of(&server.db);
    assert_eq!(before["kinds"].len(), 12 + 300 + 1500);
    let o = seedbake(server, dir.path(), &["dump", "--output", "d.sql"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let copy = dir.path().join("copy.db");
    load_with_shell(&dir.path().join("d.sql"), &copy);
    let after = rows_of(&copy);
    for (table, rows) in &before {
        let got = &after[table];
        let missing: Vec<&String> = rows.iter().filter(|r| !got.contains(r)).take(5).collect();
        let extra: Vec<&String> = got.iter().filter(|r| !rows.contains(r)).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{table}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(got.len(), rows.len(), "{table}");
    }
}

/// The size of the generated database and the flags that make the clocks
/// matter: on sqld a million rows, which one cursor streams for longer
/// than its 10 s stream clock (a 1M-row dump failed so); on the test server
/// fewer rows and a 3 s clock.
fn big(server_kind: Kind) -> (u64, Vec<&'static str>) {
    match server_kind {
        Kind::Sqld => (1_000_000, vec![]),
        Kind::Test => (150_000, vec!["--stream-expiry-ms", "3000"]),
    }
}

fn generate(server: &Server, rows: u64) {
    server.exec(&[
        "CREATE TABLE person (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, \
         birth_date TEXT NOT NULL, code TEXT NOT NULL, parent_id INTEGER REFERENCES person (id))",
        &format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) \
             INSERT INTO person SELECT x, 'First' || (x % 97), 'Last' || (x % 89), \
             date('1950-01-01', '+' || (x % 25000) || ' days'), char(65 + x % 8), \
             CASE WHEN x % 10 < 3 OR x < 100 THEN NULL ELSE (x * 7919) % (x - 1) + 1 END FROM c"
        ),
        // Read after the big table (the fingerprint reads tables by name,
        // a dump in the schema's order): the stream must still be alive
        // then.
        "CREATE TABLE transferred (id INTEGER PRIMARY KEY)",
    ]);
}

/// A big remote database: `verify` reads it all and says how it differs,
/// `dump` writes one consistent snapshot of it while another client keeps
/// writing, and a production reset backs it up first; all inside the
/// server's clocks.
fn big_database_is_verified_dumped_and_backed_up(server: &Server, rows: u64) {
    let dir = tempfile::tempdir().unwrap();
    generate(server, rows);

    let started = Instant::now();
    let o = seedbake(
        server,
        dir.path(),
        &["verify", "--json"],
        &[("SEEDBAKE_ENV", "development")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let differing: Vec<&str> = report["differing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(differing.contains(&"person"), "{differing:?}");
    eprintln!("verify of {rows} rows: {:?}", started.elapsed());

    // Another client moves rows from person to transferred, one transaction at a
    // time, all through the dump: in any one state of the database the
    // two tables hold `rows` rows together.
    let stop = Arc::new(AtomicBool::new(false));
    let moves = Arc::new(AtomicU64::new(0));
    let writer = {
        let (url, token) = (server.url(), server.token.clone());
        let (stop, moves) = (stop.clone(), moves.clone());
        std::thread::spawn(move || {
            rt().block_on(async {
                let conn = libsql::Builder::new_remote(url, token)
                    .connector(hyper014::client::HttpConnector::new())
                    .build()
                    .await
                    .unwrap()
                    .connect()
                    .unwrap();
                // From the top: only later rows refer to a row.
                let mut id = rows;
                while !stop.load(Ordering::SeqCst) {
                    conn.execute_batch(&format!(
                        "BEGIN IMMEDIATE; DELETE FROM person WHERE id = {id}; \
                         INSERT INTO transferred VALUES ({id}); COMMIT;"
                    ))
                    .await
                    .unwrap();
                    moves.fetch_add(1, Ordering::SeqCst);
                    id -= 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
    };
    let started = Instant::now();
    let o = seedbake(
        server,
        dir.path(),
        &["dump", "--output", "big.sql"],
        &[("SEEDBAKE_ENV", "development")],
    );
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(moves.load(Ordering::SeqCst) > 0, "the writer never wrote");
    eprintln!(
        "dump of {rows} rows: {took:?}, {} moves meanwhile",
        moves.load(Ordering::SeqCst)
    );
    let copy = dir.path().join("copy.db");
    load_with_shell(&dir.path().join("big.sql"), &copy);
    let count = |db: &Path, sql: &str| rt().block_on(common::query_i64(db, sql));
    assert_eq!(
        count(
            &copy,
            "SELECT (SELECT count(*) FROM person) + (SELECT count(*) FROM transferred)"
        ),
        rows as i64,
        "the dump is not one state of the database"
    );

    // A production reset backs the big database up before it changes it.
    let o = seedbake(
        server,
        dir.path(),
        &["reset", "--yes", "--backup", "backup.sql"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("backup written to backup.sql"),
        "{}",
        text(&o)
    );
    let backup = dir.path().join("backup.db");
    load_with_shell(&dir.path().join("backup.sql"), &backup);
    assert_eq!(
        count(
            &backup,
            "SELECT (SELECT count(*) FROM person) + (SELECT count(*) FROM transferred)"
        ),
        rows as i64
    );
    let o = seedbake(
        server,
        dir.path(),
        &["verify"],
        &[("SEEDBAKE_ENV", "development")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_big_database_on_the_test_server_is_read_inside_short_clocks() {
    let (rows, flags) = big(Kind::Test);
    let server = Server::start_fresh(TOKEN, &flags);
    big_database_is_verified_dumped_and_backed_up(&server, rows);
}

#[test]
fn a_big_database_on_sqld_is_read_inside_its_clocks() {
    let Some(server) = Server::sqld("a_big_database_on_sqld_is_read_inside_its_clocks") else {
        return;
    };
    let (rows, _) = big(Kind::Sqld);
    big_database_is_verified_dumped_and_backed_up(&server, rows);
}

/// On sqld, a write lock abandoned by another client is taken from it once
/// its transaction is 5 s old (libsql-server `connection_manager.rs`): a
/// reset that waits for it goes through rather than failing as locked.
#[test]
fn sqld_takes_an_abandoned_write_lock_after_five_seconds() {
    let Some(server) = Server::sqld("sqld_takes_an_abandoned_write_lock_after_five_seconds") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let holder = runtime.block_on(async {
        let db = libsql::Builder::new_remote(server.url(), server.token.clone())
            .connector(hyper014::client::HttpConnector::new())
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        conn.execute("BEGIN IMMEDIATE", ()).await.unwrap();
        conn.execute("CREATE TABLE abandoned (x)", ())
            .await
            .unwrap();
        (db, conn)
    });
    let started = Instant::now();
    let o = seedbake(
        &server,
        dir.path(),
        &["reset", "--lock-timeout", "1"],
        &[("SEEDBAKE_ENV", "development")],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    drop(holder);
    assert_eq!(
        rt().block_on(common::query_i64(
            &server.db,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'abandoned'"
        )),
        0
    );
}

/// If the snapshot's stream dies anyway (here: every answer held back for
/// longer than a short stream clock, as a stalled link would), the dump
/// fails before anything is written, and says why and what to do.
#[test]
fn a_read_that_outlives_the_servers_clock_fails_and_says_so() {
    let server = Server::start_fresh(TOKEN, &["--stream-expiry-ms", "400"]);
    let dir = tempfile::tempdir().unwrap();
    generate(&server, 2000);
    // A small database is dumped in two requests: the answer to the
    // first (the snapshot's BEGIN) comes after the stream has expired.
    server.faults(r#"{"stall_after_requests": 0, "stall_ms": 1200}"#);
    let o = seedbake(
        &server,
        dir.path(),
        &["dump", "--output", "d.sql"],
        &[("SEEDBAKE_ENV", "development")],
    );
    server.faults("{}");
    common::assert_fails(&o, 4, "ended the read transaction");
    let t = text(&o);
    assert!(t.contains("run the command again"), "{t}");
    assert!(!dir.path().join("d.sql").exists());
}

common::server::on_both!(
    rows_larger_than_a_page_expects_are_read_in_smaller_pages,
    TOKEN
);
/// Rows far bigger than the first page expects: the server refuses to make
/// the page (sqld's engine makes no string over 5,000,000 bytes, and
/// answers no more than 10 MB; the test server models both), seedbake reads
/// smaller pages and gets every row; a row whose page alone would be too
/// long (a 4 MB blob is 8 MB of hex) is read as it is, exactly.
fn rows_larger_than_a_page_expects_are_read_in_smaller_pages(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    // 600 rows of 30 kB blobs: 36 MB of hex in what would be the first
    // two pages of 512 rows; then one row of 4 MB and a few small ones.
    server.exec(&[
        "CREATE TABLE photos (id INTEGER PRIMARY KEY, body BLOB NOT NULL)",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 600) \
         INSERT INTO photos SELECT x, randomblob(30000) FROM c",
        "INSERT INTO photos VALUES (601, randomblob(4000000))",
        "WITH RECURSIVE c(x) AS (SELECT 602 UNION ALL SELECT x + 1 FROM c WHERE x < 700) \
         INSERT INTO photos SELECT x, randomblob(10) FROM c",
    ]);
    let before = rows_of(&server.db);
    assert_eq!(before["photos"].len(), 700);
    let o = seedbake(
        server,
        dir.path(),
        &["dump", "--output", "d.sql"],
        &[("SEEDBAKE_ENV", "development")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let copy = dir.path().join("copy.db");
    load_with_shell(&dir.path().join("d.sql"), &copy);
    assert_eq!(rows_of(&copy), before);
    // verify reads the same way: it finds the table is not the seed's.
    let o = seedbake(
        server,
        dir.path(),
        &["verify", "--json"],
        &[("SEEDBAKE_ENV", "development")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["differing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "photos"),
        "{report}"
    );
}

/// TEXT that is not UTF-8 cannot leave sqld (measured on 0.24.33: HTTP 500
/// "invalid utf-8 sequence" for a pipeline, a cursor's answer cut short).
/// A remote dump and verify of it say what the likely cause is and where
/// such values can be read, instead of doubting that the server is one,
/// and write nothing.
#[test]
fn text_that_is_not_utf8_on_sqld_is_named_as_the_likely_cause() {
    let Some(server) = Server::sqld("text_that_is_not_utf8_on_sqld_is_named_as_the_likely_cause")
    else {
        return;
    };
    server.exec(&[
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO notes VALUES (1, CAST(X'41FF42' AS TEXT)), (2, 'fine')",
    ]);
    let dir = tempfile::tempdir().unwrap();
    for args in [&["dump", "--output", "out.sql"][..], &["verify"][..]] {
        let o = seedbake(&server, dir.path(), args, &[]);
        let said = text(&o);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {said}");
        assert!(said.contains("cannot read http://"), "{args:?}: {said}");
        assert!(
            said.contains("TEXT that is not valid UTF-8"),
            "{args:?}: {said}"
        );
        assert!(!said.contains("not a libSQL"), "{args:?}: {said}");
        assert!(!dir.path().join("out.sql").exists());
    }
}
