//! Production safety end to end: refusals, the typed confirmation on a
//! pseudo-terminal, automatic backups, dump and restore (checked by the real
//! sqlite3 shell), and init-admin (checked by Python's bcrypt and passlib).

use crate::common;

use common::output_text as text;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{dump, execute, query_i64};

fn seedbake_cmd(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = common::seedbake_command(env);
    cmd.current_dir(dir).args(args);
    cmd
}

fn seedbake(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    seedbake_cmd(dir, args, env)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

const FLY: &[(&str, &str)] = &[("FLY_APP_NAME", "aquarius")];

use common::rt;

/// A seeded ./aquarius.db with some of the operator's own data in it.
fn production_db(dir: &Path) -> Vec<String> {
    let o = seedbake(dir, &["reset"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let db = dir.join("aquarius.db");
    rt().block_on(execute(
        &db,
        "CREATE TABLE ergebnisse (id INTEGER PRIMARY KEY, kind_id INTEGER, punkte REAL, notiz TEXT);
         INSERT INTO ergebnisse (kind_id, punkte, notiz) VALUES (1, 71.35, 'Gold; ''super'''), (2, 0.1, NULL);",
    ));
    rt().block_on(dump(&db))
}

/// Runs seedbake on a pseudo-terminal, answering prompts in order.
fn on_terminal(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    answers: &[(&str, &str)],
) -> (String, String) {
    let script: Vec<[&str; 2]> = answers.iter().map(|(a, b)| [*a, *b]).collect();
    let mut cmd = Command::new("python3");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pty_drive.py"))
        .arg(serde_json::to_string(&script).unwrap())
        .arg(env!("CARGO_BIN_EXE_seedbake"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("INITIAL_ADMIN_PASSWORD")
        .env_remove("SEEDBAKE_ENV")
        .env_remove("FLY_APP_NAME")
        .env("SEEDBAKE_STATIC_DIR", common::shared_static_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3 drives the pseudo-terminal");
    let transcript = String::from_utf8_lossy(&out.stdout).into_owned();
    let exit = transcript.lines().last().unwrap_or("").trim().to_owned();
    (transcript, exit)
}

fn exports(dir: &Path) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(dir.join("exports")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn without_a_terminal_production_reset_is_refused_and_says_how_to_proceed() {
    let dir = tempfile::tempdir().unwrap();
    let before = production_db(dir.path());
    for args in [vec!["reset"], vec!["restore", "nothing.sql"]] {
        if args[0] == "restore" {
            std::fs::write(
                dir.path().join("nothing.sql"),
                "BEGIN TRANSACTION;\nCREATE TABLE x (a);\nCOMMIT;\n",
            )
            .unwrap();
        }
        let o = seedbake(dir.path(), &args, FLY);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("PRODUCTION (FLY_APP_NAME is set (aquarius)"),
            "{t}"
        );
        assert!(
            t.contains("ergebnisse") && t.contains("1000 rows"),
            "the plan lists tables and rows: {t}"
        );
        assert!(
            t.contains("no terminal to ask on") && t.contains("--yes"),
            "{t}"
        );
        assert!(t.contains("Nothing was changed"), "{t}");
    }
    assert_eq!(rt().block_on(dump(&dir.path().join("aquarius.db"))), before);
    assert!(exports(dir.path()).is_empty());
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let before = production_db(dir.path());
    let o = seedbake(dir.path(), &["reset", "--dry-run"], FLY);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("will drop")
            && t.contains("ergebnisse")
            && t.contains("backup to exports/aquarius.db-")
            && t.contains("taken under the write lock"),
        "{t}"
    );
    assert!(t.contains("dry run: nothing was changed"), "{t}");
    let o = seedbake(dir.path(), &["reset", "--dry-run", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["environment"]["environment"], "development");
    assert_eq!(rt().block_on(dump(&dir.path().join("aquarius.db"))), before);
    assert!(exports(dir.path()).is_empty());
}

#[test]
fn confirmed_on_a_terminal_with_the_database_name_and_backed_up_first() {
    let dir = tempfile::tempdir().unwrap();
    let before = production_db(dir.path());
    // A wrong name aborts.
    let (t, exit) = on_terminal(
        dir.path(),
        &["reset"],
        FLY,
        &[("to reset it: ", "aquarius")],
    );
    assert_eq!(exit, "exit=1", "{t}");
    assert!(t.contains("Type the database name (aquarius.db)"), "{t}");
    assert!(
        t.contains("you typed \"aquarius\", not \"aquarius.db\""),
        "{t}"
    );
    assert_eq!(rt().block_on(dump(&dir.path().join("aquarius.db"))), before);
    assert!(exports(dir.path()).is_empty());

    // The right name resets, after a backup.
    let (t, exit) = on_terminal(
        dir.path(),
        &["reset"],
        FLY,
        &[("to reset it: ", "aquarius.db")],
    );
    assert_eq!(exit, "exit=0", "{t}");
    assert!(t.contains("backup written to exports/aquarius.db-"), "{t}");
    assert!(t.contains("seedbake init-admin --username admin"), "{t}");
    let db = dir.path().join("aquarius.db");
    assert_eq!(
        rt().block_on(query_i64(
            &db,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'ergebnisse'"
        )),
        0
    );
    // The seeded admin has no usable password in production.
    let hash = String::from_utf8(
        Command::new("sqlite3")
            .arg(&db)
            .arg("SELECT hashed_password FROM users WHERE username = 'admin'")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(hash.starts_with("$2b$12$"), "{hash}");
    assert!(!bcrypt::verify("admin", hash.trim()).unwrap());

    // The backup is a complete dump that the sqlite3 shell loads.
    let backups = exports(dir.path());
    assert_eq!(backups.len(), 1);
    let restored = dir.path().join("from-backup.db");
    let status = Command::new("sqlite3")
        .arg(&restored)
        .stdin(std::fs::File::open(&backups[0]).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(rt().block_on(dump(&restored)), before);

    // And `restore` brings it back, guarded the same way.
    let backup = backups[0].to_string_lossy().into_owned();
    let o = seedbake(
        dir.path(),
        &["restore", &backup, "--yes", "--no-backup"],
        FLY,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("NO BACKUP"), "{}", text(&o));
    assert_eq!(rt().block_on(dump(&db)), before);
}

#[test]
fn a_failed_backup_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let before = production_db(dir.path());
    std::fs::write(dir.path().join("not-a-folder"), "x").unwrap();
    let o = seedbake(
        dir.path(),
        &["reset", "--yes", "--backup", "not-a-folder/backup.sql"],
        FLY,
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("the backup to not-a-folder/backup.sql failed"),
        "{}",
        text(&o)
    );
    assert_eq!(rt().block_on(dump(&dir.path().join("aquarius.db"))), before);
    // An existing backup is never overwritten.
    std::fs::write(dir.path().join("old.sql"), "keep").unwrap();
    let o = seedbake(dir.path(), &["reset", "--yes", "--backup", "old.sql"], FLY);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("old.sql")).unwrap(),
        "keep"
    );
    assert_eq!(rt().block_on(dump(&dir.path().join("aquarius.db"))), before);
}

#[track_caller]
fn assert_same(got: &[String], want: &[String]) {
    let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).collect();
    let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(got, want);
}

#[test]
fn dump_and_restore_round_trip_every_kind_of_value() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.db");
    let floats = common::finite_doubles(300);
    rt().block_on(async {
        let db = libsql::Builder::new_local(&src).build().await.unwrap();
        let conn = db.connect().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v ANY, note TEXT);
             CREATE INDEX t_note ON t (note);
             CREATE VIEW v_t AS SELECT id FROM t;
             CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN SELECT 1; END;",
        )
        .await
        .unwrap();
        let values: Vec<libsql::Value> = vec![
            libsql::Value::Null,
            libsql::Value::Blob(vec![0, 1, 2, 255, 39, 59]),
            libsql::Value::Blob(vec![]),
            libsql::Value::Text(String::new()),
            libsql::Value::Text(
                "Grüße 🏊 ‘quotes’ 'single' \"double\"; semi; -- not a comment\nnew line\r\n"
                    .into(),
            ),
            libsql::Value::Integer(i64::MIN),
            libsql::Value::Integer(i64::MAX),
            libsql::Value::Integer(0),
            libsql::Value::Real(-0.0),
            libsql::Value::Real(0.1),
        ];
        for v in values
            .into_iter()
            .chain(floats.iter().map(|f| libsql::Value::Real(*f)))
        {
            conn.execute("INSERT INTO t (v, note) VALUES (?1, 'x')", [v])
                .await
                .unwrap();
        }
    });
    let before = rt().block_on(dump(&src));
    let url = src.to_string_lossy().into_owned();
    let o = seedbake(
        dir.path(),
        &["dump", "--database-url", &url, "--output", "d.sql"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    // Loaded by the sqlite3 shell ...
    let shell_db = dir.path().join("shell.db");
    let status = Command::new("sqlite3")
        .arg(&shell_db)
        .stdin(std::fs::File::open(dir.path().join("d.sql")).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    assert_same(&rt().block_on(dump(&shell_db)), &before);
    // ... and by seedbake restore, replacing what was there.
    let target = dir.path().join("target.db");
    let t = target.to_string_lossy().into_owned();
    assert!(
        seedbake(dir.path(), &["reset", "--database-url", &t], &[])
            .status
            .success()
    );
    let o = seedbake(dir.path(), &["restore", "d.sql", "--database-url", &t], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_same(&rt().block_on(dump(&target)), &before);
    // Dump to stdout is the same text.
    let o = seedbake(dir.path(), &["dump", "--database-url", &url], &[]);
    assert_eq!(o.stdout, std::fs::read(dir.path().join("d.sql")).unwrap());
}

#[test]
fn restore_refuses_a_broken_dump_before_touching_anything() {
    let dir = tempfile::tempdir().unwrap();
    let before = production_db(dir.path());
    std::fs::write(
        dir.path().join("bad.sql"),
        "BEGIN TRANSACTION;\nCREATE TABLE ok (a);\nINSERT INTO ok VALUES (1;\nCOMMIT;\n",
    )
    .unwrap();
    let o = seedbake(dir.path(), &["restore", "bad.sql"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("bad.sql is not a SQL dump seedbake can load"),
        "{}",
        text(&o)
    );
    std::fs::write(
        dir.path().join("fails.sql"),
        "BEGIN TRANSACTION;\nCREATE TABLE ok (a);\nINSERT INTO missing VALUES (1);\nCOMMIT;\n",
    )
    .unwrap();
    let o = seedbake(dir.path(), &["restore", "fails.sql"], &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("no such table: missing"), "{}", text(&o));
    assert_eq!(rt().block_on(dump(&dir.path().join("aquarius.db"))), before);
}

/// Checks a hash with Python's bcrypt and passlib, implementations
/// independent of seedbake's. Without them (a developer machine), says so.
fn python_verifies(password: &str, hash: &str) -> Option<bool> {
    let script = "import sys, bcrypt\n\
                  p, h = sys.stdin.read().split('\\n')[:2]\n\
                  ok = bcrypt.checkpw(p.encode(), h.encode())\n\
                  try:\n    from passlib.hash import bcrypt as pl\n    ok = ok and pl.verify(p, h)\n\
                  except ImportError:\n    pass\n\
                  print('yes' if ok else 'no')";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n{hash}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match answer.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have Python's bcrypt (pip install bcrypt passlib): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!(
                "skipping the independent bcrypt check: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
    }
}

fn admin_hash(db: &Path, user: &str) -> (String, String, i64) {
    rt().block_on(async {
        let d = libsql::Builder::new_local(db).build().await.unwrap();
        let conn = d.connect().unwrap();
        let mut rows = conn
            .query(
                "SELECT hashed_password, role, is_active FROM users WHERE username = ?1",
                [user],
            )
            .await
            .unwrap();
        let r = rows.next().await.unwrap().expect("the account exists");
        (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap())
    })
}

#[test]
fn init_admin_from_standard_input_creates_and_updates_admin_accounts() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    let password = "Rettungsring-2026!";
    let run = |user: &str, pw: &str| {
        common::output_with_stdin(
            &mut seedbake_cmd(
                dir.path(),
                &["init-admin", "--username", user, "--password-stdin"],
                FLY,
            ),
            format!("{pw}\n").as_bytes(),
        )
    };
    let o = run("admin", password);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("updated the admin account \"admin\""),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(password));
    let (hash, role, active) = admin_hash(&db, "admin");
    assert!(hash.starts_with("$2b$12$"), "{hash}");
    assert_eq!((role.as_str(), active), ("ADMIN", 1));
    assert!(bcrypt::verify(password, &hash).unwrap());
    if let Some(ok) = python_verifies(password, &hash) {
        assert!(ok, "Python's bcrypt/passlib reject the hash");
        assert_eq!(python_verifies("wrong password!", &hash), Some(false));
    }

    let o = run("chefin", password);
    assert!(
        text(&o).contains("created the admin account \"chefin\""),
        "{}",
        text(&o)
    );
    assert_eq!(admin_hash(&db, "chefin").1, "ADMIN");

    let o = run("kurz", "short");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("at least 12 characters"), "{}", text(&o));
    assert!(!text(&o).contains("short\n"));
}

#[test]
fn init_admin_on_a_terminal_asks_twice_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let password = "Seepferdchen-Abzeichen";
    let (t, exit) = on_terminal(
        dir.path(),
        &["init-admin"],
        &[],
        &[
            ("Username [admin]: ", "trainerin"),
            ("Password (at least 12 characters): ", "zu-kurz"),
            ("Password (at least 12 characters): ", password),
            ("Repeat the password: ", "Seepferdchen-Abzeichem"),
            ("Password (at least 12 characters): ", password),
            ("Repeat the password: ", password),
        ],
    );
    assert_eq!(exit, "exit=0", "{t}");
    assert!(t.contains("too short"), "{t}");
    assert!(t.contains("The passwords differ"), "{t}");
    assert!(t.contains("created the admin account \"trainerin\""), "{t}");
    assert!(!t.contains(password), "the password was echoed: {t}");
    let (hash, role, _) = admin_hash(&dir.path().join("aquarius.db"), "trainerin");
    assert_eq!(role, "ADMIN");
    assert!(bcrypt::verify(password, &hash).unwrap());
}

#[test]
fn bad_dumps_passwords_and_missing_terminals_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let before = production_db(dir.path());
    let db = dir.path().join("aquarius.db");
    std::fs::write(
        dir.path().join("aborted.sql"),
        "BEGIN TRANSACTION;\nCREATE TABLE x (a);\nROLLBACK; -- due to errors\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("empty.sql"), "-- nothing here\n").unwrap();
    for (args, env, code, needle) in [
        (
            vec!["restore", "aborted.sql"],
            vec![],
            2,
            "ends its transaction with ROLLBACK",
        ),
        (
            vec!["restore", "empty.sql"],
            vec![],
            2,
            "holds no SQL statements",
        ),
        (
            vec!["restore", "missing.sql"],
            vec![],
            2,
            "cannot read missing.sql",
        ),
        (
            vec!["init-admin"],
            vec![],
            2,
            "no terminal to ask for the password on",
        ),
        (
            vec!["reset"],
            vec![("INITIAL_ADMIN_PASSWORD", "x".repeat(80))],
            2,
            "bcrypt uses at most 72 bytes",
        ),
    ] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = seedbake(dir.path(), &args, &env);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
        assert_eq!(
            rt().block_on(dump(&db)),
            before,
            "{args:?} changed the database"
        );
    }
}
