//! `dump` and `restore` end to end, with the real binary and real libSQL
//! files: what a restore accepts (only a complete dump, only what dumps
//! consist of, only text), that it cannot reach beyond the database it
//! restores, that its memory stays flat, and that every backup seedbake
//! writes restores exactly (also through the sqlite3 shell and a server).

use crate::common;

use common::output_text as text;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::server::TestServer;

fn seedbake(dir: &Path, args: &[&str]) -> Output {
    common::seedbake_command(&[])
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

use common::rt;

/// Everything a database holds, exactly: each schema object with its SQL
/// (when `with_sql`), and each table's rows, generated columns and
/// `sqlite_sequence` included, every value with its storage class, text
/// and blobs as hex (NULs and all), floats by their bits; rows sorted.
fn contents(path: &Path, with_sql: bool) -> Vec<String> {
    rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let conn = db.connect().unwrap();
        let mut out = Vec::new();
        let mut tables = Vec::new();
        let mut rows = conn
            .query(
                "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema \
                 WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name",
                (),
            )
            .await
            .unwrap();
        while let Some(r) = rows.next().await.unwrap() {
            let (kind, name, table, sql): (String, String, String, String) = (
                r.get(0).unwrap(),
                r.get(1).unwrap(),
                r.get(2).unwrap(),
                r.get(3).unwrap(),
            );
            if kind == "table" {
                tables.push(name.clone());
            }
            out.push(if with_sql {
                format!("{kind} {name} on {table}: {sql}")
            } else {
                format!("{kind} {name} on {table}")
            });
        }
        for t in tables {
            let mut columns = Vec::new();
            let mut rows = conn
                .query("SELECT name FROM pragma_table_xinfo(?1)", [t.as_str()])
                .await
                .unwrap();
            while let Some(r) = rows.next().await.unwrap() {
                let c: String = r.get(0).unwrap();
                let q = format!("\"{}\"", c.replace('"', "\"\""));
                columns.push(format!(
                    "typeof({q}), CASE typeof({q}) WHEN 'real' THEN {q} ELSE hex({q}) END"
                ));
            }
            let sql = format!(
                "SELECT {} FROM \"{}\"",
                columns.join(", "),
                t.replace('"', "\"\"")
            );
            let mut rows = conn.query(&sql, ()).await.unwrap();
            let mut lines = Vec::new();
            while let Some(r) = rows.next().await.unwrap() {
                let mut values = Vec::new();
                for i in (0..r.column_count()).step_by(2) {
                    let kind: String = r.get(i).unwrap();
                    let value = match r.get_value(i + 1).unwrap() {
                        libsql::Value::Real(f) => format!("{:#018x}", f.to_bits()),
                        libsql::Value::Null => "-".into(),
                        libsql::Value::Text(hex) => hex,
                        other => panic!("hex() gave {other:?}"),
                    };
                    values.push(format!("{kind}:{value}"));
                }
                lines.push(format!("{t}: {}", values.join(" ")));
            }
            lines.sort();
            out.extend(lines);
        }
        out
    })
}

fn execute(path: &Path, sql: &str) {
    rt().block_on(common::execute(path, sql));
}

/// `./aquarius.db` seeded, with some of the operator's own data in it.
fn seeded(dir: &Path) -> PathBuf {
    let o = seedbake(dir, &["reset"]);
    assert!(o.status.success(), "{}", text(&o));
    let db = dir.join("aquarius.db");
    execute(
        &db,
        "CREATE TABLE ergebnisse (id INTEGER PRIMARY KEY, punkte REAL, notiz TEXT);
         INSERT INTO ergebnisse (punkte, notiz) VALUES (71.35, 'Gold'), (0.1, NULL);",
    );
    db
}

/// A refusal: exit 2, one line naming the file, `needle` in it, and the
/// database exactly as it was.
#[track_caller]
fn assert_refused(dir: &Path, file: &str, needle: &str, db: &Path, before: &[String]) {
    let o = seedbake(dir, &["restore", file]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{file}: {all}");
    assert!(all.contains(needle), "{file}: wanted {needle:?} in {all}");
    assert!(all.contains("Nothing was changed"), "{file}: {all}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .trim_end()
            .lines()
            .count(),
        1,
        "{file}: {all}"
    );
    assert_eq!(contents(db, true), before, "{file} changed the database");
}

#[test]
fn a_dump_cut_off_anywhere_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let o = seedbake(dir.path(), &["dump", "--output", "full.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    let full = std::fs::read_to_string(dir.path().join("full.sql")).unwrap();
    assert!(full.ends_with("COMMIT;\n"));
    let before = contents(&db, true);

    // Cut between statements (the old restore ran what was there and
    // committed it: tables and indexes gone), in the middle of one, in the
    // middle of COMMIT, before its semicolon; and at 17 places in between.
    let mut cuts = vec![
        full.len() - "COMMIT;\n".len(),
        full.len() - 4,
        full.len() - 2,
        full.find("BEGIN TRANSACTION;\n").unwrap() + "BEGIN TRANSACTION;\n".len(),
        full.find("INSERT INTO").unwrap() + 20,
    ];
    cuts.extend((1..18).map(|i| full.len() * i / 18));
    for (n, cut) in cuts.into_iter().enumerate() {
        let cut = (0..=cut).rev().find(|c| full.is_char_boundary(*c)).unwrap();
        let name = format!("cut{n}.sql");
        std::fs::write(dir.path().join(&name), &full[..cut]).unwrap();
        assert_refused(dir.path(), &name, "cut off", &db, &before);
    }
    // A trigger's body cut after one of its own statements.
    std::fs::write(
        dir.path().join("trigger.sql"),
        "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (a);\n\
         CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN\n  INSERT INTO t VALUES (1);\n",
    )
    .unwrap();
    assert_refused(
        dir.path(),
        "trigger.sql",
        "ends in the middle of the statement that starts at line 4",
        &db,
        &before,
    );

    // The whole file restores.
    let o = seedbake(dir.path(), &["restore", "full.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(contents(&db, true), before);
}

/// A complete dump around `body`, which starts on line 4.
fn dump_around(body: &str) -> String {
    format!(
        "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE fine (a);\n{body}\nCOMMIT;\n"
    )
}

#[test]
fn a_restore_cannot_reach_other_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let other = dir.path().join("other.db");
    execute(
        &other,
        "CREATE TABLE secrets (v TEXT); INSERT INTO secrets VALUES ('one'), ('two');",
    );
    let other_before = contents(&other, true);
    let before = contents(&db, true);
    let other_url = other.display().to_string();
    let new_db = dir.path().join("new.db");
    for (n, body) in [
        format!("ATTACH '{other_url}' AS o;\nDELETE FROM o.secrets;"),
        format!(
            "ATTACH DATABASE '{}' AS n;\nCREATE TABLE n.x (a);",
            new_db.display()
        ),
        "ATTACH 'file:new.db?mode=rwc' AS n;".into(),
        "VACUUM INTO 'new.db';".into(),
        format!("INSERT INTO fine VALUES (1); ATTACH '{other_url}' AS o;"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("reach{n}.sql");
        std::fs::write(dir.path().join(&name), dump_around(&body)).unwrap();
        assert_refused(dir.path(), &name, "line 4: ", &db, &before);
        assert_eq!(contents(&other, true), other_before, "{body}");
        assert!(!new_db.exists(), "{body} created a file");
    }
}

#[test]
fn statements_a_dump_does_not_consist_of_are_refused_naming_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let before = contents(&db, true);
    for (n, (body, says)) in [
        // Corrupted the schema beyond what `reset` could repair.
        (
            "PRAGMA writable_schema=ON;\nUPDATE sqlite_schema SET sql = 'CREATE TABLE users (' WHERE name = 'users';",
            "PRAGMA writable_schema",
        ),
        (
            "INSERT INTO sqlite_schema VALUES ('table', 'x', 'x', 0, 'CREATE TABLE x (a)');",
            "INSERT INTO sqlite_schema",
        ),
        ("PRAGMA journal_mode=OFF;", "PRAGMA journal_mode"),
        ("DROP TABLE users;", "DROP TABLE"),
        ("UPDATE users SET is_active = 0;", "UPDATE"),
        ("DELETE FROM users;", "DELETE FROM users"),
        ("SELECT load_extension('/nonexistent/evil.so');", "SELECT"),
        (
            "INSERT INTO fine VALUES (load_extension('/nonexistent/evil.so'));",
            "not a literal",
        ),
        ("INSERT INTO fine SELECT username FROM users;", "SELECT"),
        ("CREATE TEMP TABLE scratch (a);", "CREATE TEMP TABLE"),
        ("ALTER TABLE users RENAME TO people;", "ALTER TABLE"),
        ("CREATE VIRTUAL TABLE f USING fts5(a);", "virtual tables"),
        ("SAVEPOINT s;", "SAVEPOINT"),
        ("COMMIT;\nBEGIN;", "line 5: a statement after the dump's COMMIT"),
        ("BEGIN;", "a second BEGIN"),
        ("ROLLBACK; -- due to errors", "ends its transaction with ROLLBACK"),
        ("INSERT INTO fine VALUES (1;", "line 4: "),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("bad{n}.sql");
        std::fs::write(dir.path().join(&name), dump_around(body)).unwrap();
        assert_refused(dir.path(), &name, says, &db, &before);
        if !says.starts_with("line 5") {
            assert_refused(dir.path(), &name, "line 4: ", &db, &before);
        }
    }
    // Not a dump at all: a script without the dump's transaction.
    std::fs::write(dir.path().join("script.sql"), "CREATE TABLE fine (a);\n").unwrap();
    assert_refused(
        dir.path(),
        "script.sql",
        "line 1: a dump opens with BEGIN TRANSACTION",
        &db,
        &before,
    );
    let o = seedbake(dir.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("ergebnisse"), "{}", text(&o));
}

#[test]
fn the_engine_confines_a_local_restore_to_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let before = contents(&db, true);
    let attached = dir.path().join("attached.db");
    // The connection's own statements commit as they go: a copy takes them.
    let scratch = dir.path().join("scratch.db");
    std::fs::copy(&db, &scratch).unwrap();
    rt().block_on(async {
        let target = common::open(&scratch).await;
        target.confine(true).unwrap();
        for (sql, says) in [
            (format!("ATTACH '{}' AS a", attached.display()), "ATTACH"),
            ("DETACH main".into(), "DETACH"),
            ("PRAGMA writable_schema=ON".into(), "PRAGMA writable_schema"),
            ("PRAGMA journal_mode=OFF".into(), "PRAGMA journal_mode"),
            ("SELECT load_extension('/nonexistent/evil.so')".into(), "load_extension()"),
            ("CREATE TEMP TABLE t (a)".into(), "temp"),
            ("BEGIN".into(), "transaction control"),
            ("SAVEPOINT s".into(), "transaction control"),
            ("ALTER TABLE users ADD COLUMN x".into(), "ALTER TABLE"),
            ("CREATE VIRTUAL TABLE f USING fts5(a)".into(), "virtual tables"),
            ("CREATE TRIGGER t AFTER INSERT ON ergebnisse BEGIN SELECT load_extension('x'); END; INSERT INTO ergebnisse (punkte) VALUES (1)".into(), "load_extension()"),
        ] {
            let e = target.execute(&sql).await.unwrap_err();
            assert!(
                e.message.contains("not authorized")
                    && e.message.contains("may not use")
                    && e.message.contains(says),
                "{sql}: {}",
                e.message
            );
        }
        // What a dump does is allowed.
        target
            .execute(
                "CREATE TABLE c (id INTEGER PRIMARY KEY AUTOINCREMENT, v); INSERT INTO c VALUES (5, 'x'); \
                 DELETE FROM sqlite_sequence; INSERT INTO sqlite_sequence VALUES ('c', 9); \
                 CREATE INDEX c_v ON c (v); CREATE VIEW c_view AS SELECT * FROM c; \
                 CREATE TRIGGER c_ins AFTER INSERT ON c BEGIN DELETE FROM c WHERE id < 0; END; \
                 ANALYZE sqlite_schema; PRAGMA foreign_keys=OFF; DROP TABLE c",
            )
            .await
            .unwrap();
        // Lifted, the same connection may attach again: it was the confinement.
        target.confine(false).unwrap();
        target
            .execute(&format!("ATTACH '{}' AS a; DETACH a", attached.display()))
            .await
            .unwrap();
    });
    assert!(attached.exists());
    // The trigger fired, with the restore's statements, the denied function.
    std::fs::write(
        dir.path().join("trigger.sql"),
        dump_around(
            "CREATE TRIGGER fine_ins AFTER INSERT ON fine BEGIN SELECT load_extension('/nonexistent/evil.so'); END;\n\
             INSERT INTO fine VALUES (1);",
        ),
    )
    .unwrap();
    let o = seedbake(dir.path(), &["restore", "trigger.sql"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("the statement at line 5")
            && text(&o).contains("may not use load_extension()"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("rolled back"), "{}", text(&o));
    assert_eq!(contents(&db, true), before);
}

/// Runs the command, killing it if it is still running after a generous
/// while (so that a test of something that used to hang fails instead).
fn run_guarded(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("still running after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn input_that_is_not_a_text_dump_is_refused_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let before = contents(&db, true);
    // /dev/zero: the old restore read it until memory ran out.
    let mut cmd = common::seedbake_command(&[]);
    cmd.current_dir(dir.path()).args(["restore", "/dev/zero"]);
    let o = run_guarded(cmd);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a regular file"), "{}", text(&o));
    // A FIFO: opening one waits for a writer; it is refused unopened.
    let fifo = dir.path().join("fifo.sql");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut cmd = common::seedbake_command(&[]);
    cmd.current_dir(dir.path()).args(["restore", "fifo.sql"]);
    let o = run_guarded(cmd);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a regular file"), "{}", text(&o));
    assert_refused(dir.path(), ".", "is not a regular file", &db, &before);

    // 1 GiB of zeros (sparse): refused at its first byte.
    let zeros = std::fs::File::create(dir.path().join("zeros.sql")).unwrap();
    zeros.set_len(1 << 30).unwrap();
    assert_refused(
        dir.path(),
        "zeros.sql",
        "NUL byte (at byte 0): it is not a text SQL dump",
        &db,
        &before,
    );
    // The database file itself.
    std::fs::copy(&db, dir.path().join("copy.db")).unwrap();
    assert_refused(dir.path(), "copy.db", "NUL byte (at byte 15)", &db, &before);
    // Compressed (gzip's magic, then bytes that are not UTF-8).
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x08];
    gz.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8 | 0x80));
    std::fs::write(dir.path().join("dump.sql.gz"), gz).unwrap();
    assert_refused(
        dir.path(),
        "dump.sql.gz",
        "not valid UTF-8 (at byte 1)",
        &db,
        &before,
    );
    // Latin-1 text.
    let latin1 = b"BEGIN;\nINSERT INTO fine VALUES ('Gr\xfc\xdfe');\nCOMMIT;\n";
    std::fs::write(dir.path().join("latin1.sql"), latin1).unwrap();
    let at = latin1.iter().position(|&b| b == 0xfc).unwrap();
    assert_refused(
        dir.path(),
        "latin1.sql",
        &format!("not valid UTF-8 (at byte {at})"),
        &db,
        &before,
    );
    std::fs::write(dir.path().join("empty.sql"), "").unwrap();
    assert_refused(
        dir.path(),
        "empty.sql",
        "holds no SQL statements",
        &db,
        &before,
    );
    assert_refused(
        dir.path(),
        "missing.sql",
        "cannot read missing.sql",
        &db,
        &before,
    );
}

#[test]
fn a_dump_with_a_byte_order_mark_restores() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let o = seedbake(dir.path(), &["dump", "--output", "plain.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    let before = contents(&db, true);
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend(std::fs::read(dir.path().join("plain.sql")).unwrap());
    std::fs::write(dir.path().join("bom.sql"), bom).unwrap();
    let o = seedbake(dir.path(), &["reset", "--profile", "minimal"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(contents(&db, true), before);
    let o = seedbake(dir.path(), &["restore", "bom.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(contents(&db, true), before);
}

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

#[test]
fn a_dump_changed_after_its_check_is_refused_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded(dir.path());
    let before = contents(&db, true);
    let file = dir.path().join("d.sql");
    let fine = dump_around("INSERT INTO fine VALUES (1);");
    let elsewhere = dir.path().join("elsewhere.db");
    for changed in [
        dump_around(&format!("ATTACH '{}' AS e;", elsewhere.display())),
        dump_around("INSERT INTO fine VALUES (2);"),
        fine.replace("COMMIT;\n", ""),
    ] {
        std::fs::write(&file, &fine).unwrap();
        let checked = seedbake::ops::check_dump(&file).unwrap();
        assert_eq!(checked.statements(), 2);
        std::fs::write(&file, &changed).unwrap();
        let e = rt()
            .block_on(async {
                let target = common::open(&db).await;
                seedbake::ops::restore(&*target, &checked, None).await
            })
            .unwrap_err();
        assert!(
            matches!(&e, seedbake::Error::BadDump(m) if m.contains("changed after it was checked")),
            "{e}"
        );
        assert_eq!(contents(&db, true), before, "{changed}");
        assert!(!elsewhere.exists());
    }
}

/// The peak resident memory of a finished child, from the kernel's own
/// accounting of it (`wait4`), in KiB, with its exit code.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which std cannot do
fn peak_memory(mut cmd: Command) -> (Option<i32>, u64) {
    #[repr(C)]
    struct Rusage {
        times: [i64; 4],
        maxrss: i64,
        rest: [i64; 13],
    }
    unsafe extern "C" {
        fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage = Rusage {
        times: [0; 4],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: waits for our own child, once (the `Child` is not waited on
    // again); both out-pointers are valid for the call.
    let pid = unsafe { wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let code = (status & 0x7f == 0).then_some((status >> 8) & 0xff);
    (code, usage.maxrss as u64)
}

/// A dump of `rows` rows of about 300 bytes each.
fn generated_dump(path: &Path, rows: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, note TEXT, x REAL);"
    )
    .unwrap();
    for i in 0..rows {
        let note: String = (0..250)
            .map(|j| (b'a' + ((i * 31 + j * 7) % 26) as u8) as char)
            .collect();
        writeln!(
            f,
            "INSERT INTO big VALUES({i},'name {i}','{note}',{}.5);",
            i % 1000
        )
        .unwrap();
    }
    writeln!(f, "CREATE INDEX big_name ON big (name);\nCOMMIT;").unwrap();
}

#[test]
fn restore_memory_stays_flat_in_the_dumps_size() {
    let dir = tempfile::tempdir().unwrap();
    generated_dump(&dir.path().join("small.sql"), 2_000);
    generated_dump(&dir.path().join("big.sql"), 150_000);
    let big_bytes = std::fs::metadata(dir.path().join("big.sql")).unwrap().len();
    assert!(big_bytes > 40 << 20, "{big_bytes}");
    let run = |file: &str, db: &str| {
        let mut cmd = common::seedbake_command(&[]);
        cmd.current_dir(dir.path())
            .args(["restore", file, "--database-url", db]);
        let (code, kib) = peak_memory(cmd);
        assert_eq!(code, Some(0), "restore {file}");
        kib
    };
    let small = run("small.sql", "small.db");
    let big = run("big.sql", "big.db");
    // Over a database holding the big one: the drop is no bigger either.
    let over = run("small.sql", "big.db");
    eprintln!(
        "peak memory: {small} KiB for {} KiB of dump, {big} KiB for {} KiB, {over} KiB over the big database",
        std::fs::metadata(dir.path().join("small.sql"))
            .unwrap()
            .len()
            >> 10,
        big_bytes >> 10
    );
    // The old restore held the file twice over (text and statements), and
    // a page cache of up to 256 MiB: well over 120 MiB more here. Flat: a
    // statement at a time, and the engine's 8 MiB cache.
    let flat = 32 << 10;
    assert!(big < small + flat, "{big} KiB against {small} KiB");
    assert!(over < small + flat, "{over} KiB against {small} KiB");
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
