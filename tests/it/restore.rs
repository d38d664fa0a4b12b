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

mod memory;
mod round_trip;

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
