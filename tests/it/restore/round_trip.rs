//! Exact round trips: every kind of value through every backup seedbake
//! writes, the sqlite3 shell's dump, a server, and the order of
//! `sqlite_sequence`.

use super::*;

/// A database with every kind of object and value a dump must carry.
fn every_kind(path: &Path) {
    let floats = common::finite_doubles(200);
    rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let conn = db.connect().unwrap();
        conn.execute_batch(
            "CREATE TABLE \"odd \"\"name\"\"; -- (x)\" (id INTEGER PRIMARY KEY AUTOINCREMENT, \"the value\" ANY, note TEXT);
             CREATE TABLE gen (a INTEGER, b TEXT, twice INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
                               c REAL, label TEXT AS ('#' || b || ';') STORED);
             CREATE TABLE wr (k TEXT PRIMARY KEY, v BLOB, n INT) WITHOUT ROWID;
             CREATE TABLE counter (id INTEGER PRIMARY KEY AUTOINCREMENT, n INT);
             CREATE TABLE log (msg TEXT);
             CREATE INDEX gen_twice ON gen (twice);
             CREATE INDEX gen_lower ON gen (lower(b)) WHERE b IS NOT NULL;
             CREATE UNIQUE INDEX \"odd; index\" ON \"odd \"\"name\"\"; -- (x)\" (note);
             CREATE VIEW gen_view AS SELECT a, twice, label FROM gen WHERE b <> ';';
             CREATE TRIGGER gen_log AFTER INSERT ON gen BEGIN
               INSERT INTO log VALUES ('inserted; ' || new.b);
               INSERT INTO log VALUES ('END; of it');
             END;
             INSERT INTO counter (n) VALUES (1), (2), (3), (4);
             DELETE FROM counter WHERE id > 2;
             INSERT INTO wr VALUES ('b', X'00ff', 2), ('a', NULL, 1), ('c;', X'', -3);",
        )
        .await
        .unwrap();
        let values: Vec<libsql::Value> = vec![
            libsql::Value::Null,
            libsql::Value::Blob(vec![0, 1, 2, 255, 39, 59]),
            libsql::Value::Blob(vec![]),
            libsql::Value::Text(String::new()),
            libsql::Value::Text(
                "Grüße 🏊 ‘quotes’ 'single' \"double\"; semi; -- not a comment\nnew line\r\n".into(),
            ),
            libsql::Value::Text("a\0b\0".into()),
            libsql::Value::Text("CRLF line\r\n".repeat(2000)),
            libsql::Value::Text("\r".into()),
            libsql::Value::Integer(i64::MIN),
            libsql::Value::Integer(i64::MAX),
            libsql::Value::Integer(0),
            libsql::Value::Real(-0.0),
            libsql::Value::Real(0.1),
        ];
        for (i, v) in values
            .into_iter()
            .chain(floats.iter().map(|f| libsql::Value::Real(*f)))
            .enumerate()
        {
            conn.execute(
                "INSERT INTO \"odd \"\"name\"\"; -- (x)\" (\"the value\", note) VALUES (?1, ?2)",
                libsql::params![v, format!("row {i}")],
            )
            .await
            .unwrap();
        }
        for (i, f) in floats.iter().take(50).enumerate() {
            conn.execute(
                "INSERT INTO gen (a, b, c) VALUES (?1, ?2, ?3)",
                libsql::params![i as i64, format!("b{i};"), *f],
            )
            .await
            .unwrap();
        }
        conn.execute("INSERT INTO gen (a, b, c) VALUES (NULL, NULL, NULL)", ())
            .await
            .unwrap();
    });
}

#[test]
fn every_backup_seedbake_writes_restores_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.db");
    every_kind(&src);
    // TEXT whose bytes are not UTF-8 (the engine does not check). Here
    // only: the sqlite3 shell's own dump of it is not text, and a server
    // cannot send it (README, "dump / restore").
    execute(
        &src,
        "INSERT INTO log VALUES (CAST(X'C328FF41EFBFBD' AS TEXT))",
    );
    let before = contents(&src, true);
    // The values that used to break a dump are there.
    assert!(before.iter().any(|l| l.contains("text:610062")), "a NUL");
    // TEXT whose bytes are not UTF-8 (the engine does not check).
    assert!(before.iter().any(|l| l.contains("text:C328FF41EFBFBD")));
    assert!(before.iter().any(|l| l.starts_with("sqlite_sequence: ")));
    assert!(before.iter().any(|l| l.starts_with("log: ")));
    let src_url = src.display().to_string();
    let o = seedbake(
        dir.path(),
        &["dump", "--database-url", &src_url, "--output", "d.sql"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let dumped = std::fs::read_to_string(dir.path().join("d.sql")).unwrap();
    assert!(!dumped.contains('\0') && !dumped.contains('\r'));

    // seedbake restore, over a database holding something else ...
    let target = dir.path().join("target.db");
    let t = target.display().to_string();
    let o = seedbake(dir.path(), &["reset", "--database-url", &t]);
    assert!(o.status.success(), "{}", text(&o));
    let o = seedbake(dir.path(), &["restore", "d.sql", "--database-url", &t]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(contents(&target, true), before);
    // ... whose own dump is the same text.
    let o = seedbake(
        dir.path(),
        &["dump", "--database-url", &t, "--output", "again.sql"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let again = std::fs::read_to_string(dir.path().join("again.sql")).unwrap();
    let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&again), body(&dumped));

    // The sqlite3 shell loads the dump to the same contents.
    let shell_db = dir.path().join("shell.db");
    let o = Command::new("sqlite3")
        .arg(&shell_db)
        .stdin(std::fs::File::open(dir.path().join("d.sql")).unwrap())
        .output()
        .expect("the sqlite3 shell");
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
    assert_eq!(contents(&shell_db, true), before);

    // A virtual table is still said before anything changes.
    execute(&src, "CREATE VIRTUAL TABLE f USING fts5(a)");
    let o = seedbake(
        dir.path(),
        &["dump", "--database-url", &src_url, "--output", "v.sql"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("the virtual table f cannot be dumped"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("v.sql").exists());
}

#[test]
fn the_sqlite3_shells_dump_loads_as_the_shell_loads_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.db");
    every_kind(&src);
    // The shell cannot carry a NUL in text, and writes floats in 17
    // digits, which engines of different versions may read back a bit
    // apart: those stay out; everything else goes.
    execute(
        &src,
        "DELETE FROM \"odd \"\"name\"\"; -- (x)\" WHERE typeof(\"the value\") = 'real' \
           OR (typeof(\"the value\") = 'text' AND instr(\"the value\", char(0)));
         UPDATE gen SET c = a * 0.5;
         ANALYZE;
         -- The shell here predates sqlite_stat4, which libSQL's ANALYZE fills.
         DROP TABLE IF EXISTS sqlite_stat4;",
    );
    let o = Command::new("sqlite3")
        .arg(&src)
        .arg(".dump")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(dir.path().join("shell.sql"), &o.stdout).unwrap();
    let shell_sql = String::from_utf8(o.stdout).unwrap();
    assert!(shell_sql.contains("ANALYZE sqlite_schema;"), "{shell_sql}");

    let by_shell = dir.path().join("by-shell.db");
    let o = Command::new("sqlite3")
        .arg(&by_shell)
        .stdin(std::fs::File::open(dir.path().join("shell.sql")).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "{}", text(&o));
    let by_seedbake = dir.path().join("by-seedbake.db");
    let url = by_seedbake.display().to_string();
    let o = seedbake(
        dir.path(),
        &["restore", "shell.sql", "--database-url", &url],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(contents(&by_seedbake, true), contents(&by_shell, true));
    // (The shell puts the semicolon of a CREATE whose text holds `--` on a
    // line of its own, and both engines then keep the line break.)
    assert_eq!(contents(&by_seedbake, false), contents(&src, false));

    // The shell's way to dump a virtual table (writable_schema) is refused.
    execute(&src, "CREATE VIRTUAL TABLE f USING fts5(a)");
    let o = Command::new("sqlite3")
        .arg(&src)
        .arg(".dump")
        .output()
        .unwrap();
    std::fs::write(dir.path().join("vtab.sql"), &o.stdout).unwrap();
    let before = contents(&by_seedbake, true);
    let o = seedbake(dir.path(), &["restore", "vtab.sql", "--database-url", &url]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o)
            .contains("PRAGMA writable_schema (the sqlite3 shell writes it for a virtual table"),
        "{}",
        text(&o)
    );
    assert_eq!(contents(&by_seedbake, true), before);
}

#[test]
fn a_server_restores_every_kind_and_sees_no_request_for_a_refused_dump() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.db");
    every_kind(&src);
    let src_url = src.display().to_string();
    let o = seedbake(
        dir.path(),
        &["dump", "--database-url", &src_url, "--output", "d.sql"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let server = TestServer::start(&dir.path().join("server.db"), "tok", &[]);
    let remote = |args: &[&str]| {
        common::seedbake_command(&[
            ("DATABASE_URL", server.url().as_str()),
            ("TURSO_AUTH_TOKEN", "tok"),
            ("SEEDBAKE_ENV", "development"),
        ])
        .current_dir(dir.path())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
    };
    let o = remote(&["reset", "--no-verify"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = remote(&["restore", "d.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    // The client re-renders schema SQL on its way to a server: the rows
    // and the objects must be the same, the spelling may not.
    assert_eq!(contents(&server.db, false), contents(&src, false));
    // A server's dump (generated columns left out there too) restores
    // locally to the same.
    let o = remote(&["dump", "--output", "from-server.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = seedbake(
        dir.path(),
        &["restore", "from-server.sql", "--database-url", "local.db"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        contents(&dir.path().join("local.db"), false),
        contents(&src, false)
    );

    let before = contents(&server.db, true);
    let requests = server.requests();
    std::fs::write(
        dir.path().join("attach.sql"),
        dump_around("ATTACH 'elsewhere.db' AS e;"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cut.sql"),
        &std::fs::read(dir.path().join("d.sql")).unwrap()[..4000],
    )
    .unwrap();
    for file in ["attach.sql", "cut.sql"] {
        let o = remote(&["restore", file]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }
    assert_eq!(server.requests(), requests);
    assert_eq!(contents(&server.db, true), before);
}

/// The engine makes sqlite_sequence with the first AUTOINCREMENT table, so
/// a dump that writes its rows before that table, or keeps rows of an
/// AUTOINCREMENT table that was dropped, cannot be loaded into a new file.
#[test]
fn sqlite_sequence_comes_after_the_tables_that_make_it() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in [
        // Only a dropped AUTOINCREMENT table ever used the sequence.
        (
            "dropped.db",
            "CREATE TABLE gone (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
             INSERT INTO gone (v) VALUES ('x');
             CREATE TABLE kept (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO kept (v) VALUES ('stays');
             DROP TABLE gone;",
        ),
        // The sequence's first table was dropped; a later one uses it.
        (
            "later.db",
            "CREATE TABLE gone (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
             INSERT INTO gone (v) VALUES ('x');
             DROP TABLE gone;
             CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
             INSERT INTO log (v) VALUES ('a'), ('b');
             DELETE FROM log WHERE v = 'b';",
        ),
    ] {
        let src = dir.path().join(name);
        execute(&src, sql);
        let src_url = src.display().to_string();
        let dump = format!("{name}.sql");
        let o = seedbake(
            dir.path(),
            &["dump", "--database-url", &src_url, "--output", &dump],
        );
        assert!(o.status.success(), "{name}: {}", text(&o));
        let fresh = dir.path().join(format!("fresh-{name}"));
        let f = fresh.display().to_string();
        let o = seedbake(dir.path(), &["restore", &dump, "--database-url", &f]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        // An empty sqlite_sequence left behind by the dropped table has
        // nothing to restore; its rows must match.
        let only_live = |rows: Vec<String>| -> Vec<String> {
            rows.into_iter()
                .filter(|l| !l.starts_with("table sqlite_sequence on"))
                .collect()
        };
        assert_eq!(
            only_live(contents(&fresh, false)),
            only_live(contents(&src, false)),
            "{name}"
        );
    }
    // The next AUTOINCREMENT id survives the round trip.
    let fresh = dir.path().join("fresh-later.db");
    execute(&fresh, "INSERT INTO log (v) VALUES ('c')");
    let rows = contents(&fresh, false);
    // Values are shown as typeof:hex(value); hex(3) is "33".
    assert!(
        rows.iter().any(|l| l.starts_with("log: integer:33 ")),
        "the sequence went on from 2: {rows:?}"
    );
}
