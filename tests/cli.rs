//! The `seedbake` binary end to end: real processes, real files, exit codes.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn seedbake(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    common::seedbake_command(env)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn json(o: &Output) -> serde_json::Value {
    let (out, err) = text(o);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"))
}

#[test]
fn reset_without_arguments_seeds_aquarius_db_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = seedbake(dir.path(), &["reset"], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(dir.path().join("aquarius.db").is_file());
    assert!(out.contains("loaded 1309 rows into 13 tables"), "{out}");
    assert!(err.contains("development password"), "{err}");

    let o = seedbake(dir.path(), &["verify"], &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("matches the build"));
}

#[test]
fn json_output_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let url = "sqlite:///./sub.db";
    let reset = json(&seedbake(
        dir.path(),
        &["reset", "--json", "--database-url", url],
        &[],
    ));
    assert_eq!(reset["ok"], true);
    assert_eq!(reset["mode"], "reset");
    assert_eq!(reset["rows"], 1309);
    assert_eq!(reset["admin_password"], "seed_default");
    let info = json(&seedbake(dir.path(), &["info", "--json"], &[]));
    assert_eq!(info["default_profile"], "full");
    assert_eq!(reset["fingerprint"], info["profiles"][0]["fingerprint"]);
    let verify = json(&seedbake(
        dir.path(),
        &["verify", "--json", "--database-url", url],
        &[],
    ));
    assert_eq!(verify["matches"], true);
    assert_eq!(verify["recorded"]["profile"], "full");
}

#[test]
fn database_url_from_the_environment_and_absolute_urls() {
    let dir = tempfile::tempdir().unwrap();
    let abs = dir.path().join("abs.db");
    let url = format!("sqlite:///{}", abs.display());
    let o = seedbake(
        dir.path(),
        &["reset", "--profile", "minimal"],
        &[("DATABASE_URL", &url)],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(abs.is_file());
    let o = seedbake(
        dir.path(),
        &[
            "verify",
            "--json",
            "--database-url",
            &format!("file:{}", abs.display()),
        ],
        &[],
    );
    let v = json(&o);
    assert_eq!(v["profile"], "minimal");
    assert_eq!(v["matches"], true);
}

#[test]
fn verify_reports_drift_with_exit_1_naming_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    let status = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE figur SET name = 'Anders' WHERE id = 2; DELETE FROM performance_probe WHERE id = 7;")
        .status();
    if status.is_err() {
        // Without the sqlite3 shell, change the rows through the library's engine.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let d = libsql::Builder::new_local(&db).build().await.unwrap();
            d.connect()
                .unwrap()
                .execute_batch("UPDATE figur SET name = 'Anders' WHERE id = 2; DELETE FROM performance_probe WHERE id = 7;")
                .await
                .unwrap();
        });
    }
    let o = seedbake(dir.path(), &["verify"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let (out, _) = text(&o);
    assert!(
        out.contains("differs in: figur, performance_probe"),
        "{out}"
    );
}

#[test]
fn seed_refuses_a_database_that_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["seed"], &[]).status.success());
    let o = seedbake(dir.path(), &["seed"], &[]);
    assert_eq!(o.status.code(), Some(5));
    assert!(
        text(&o).1.contains("Use `seedbake reset`"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn usage_errors_exit_2_and_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["reset", "--database-url", "sqlite://x.db"],
            "three slashes",
        ),
        (
            vec!["reset", "--database-url", "ftp://host/x.db"],
            "not supported",
        ),
        (
            vec!["reset", "--profile", "gross"],
            "unknown profile \"gross\": the seed has full, minimal",
        ),
        (
            vec!["reset", "--lock-timeout=-1"],
            "--lock-timeout takes a number of seconds",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ] {
        let o = seedbake(dir.path(), &args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {:?}", text(&o));
        assert!(text(&o).1.contains(needle), "{args:?}: {:?}", text(&o));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_missing_folder_or_a_non_database_file_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let o = seedbake(
        dir.path(),
        &["reset", "--database-url", "sqlite:///./nope/app.db"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o).1.contains("the folder ./nope does not exist"),
        "{:?}",
        text(&o)
    );

    std::fs::write(
        dir.path().join("junk.db"),
        b"this is not a database file at all, just text",
    )
    .unwrap();
    let o = seedbake(dir.path(), &["reset", "--database-url", "junk.db"], &[]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("cannot open the database junk.db"),
        "{:?}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(dir.path().join("junk.db")).unwrap(),
        b"this is not a database file at all, just text"
    );
}

#[test]
fn a_locked_database_exits_3_after_waiting() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let database = rt
        .block_on(libsql::Builder::new_local(&db).build())
        .unwrap();
    let holder = database.connect().unwrap();
    rt.block_on(holder.execute("BEGIN IMMEDIATE", ())).unwrap();
    let o = seedbake(dir.path(), &["reset", "--lock-timeout", "0.3"], &[]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    assert!(
        text(&o)
            .1
            .contains("is locked by another process (waited 0.3 s"),
        "{:?}",
        text(&o)
    );
    rt.block_on(holder.execute("ROLLBACK", ())).unwrap();
    assert_eq!(
        seedbake(dir.path(), &["verify"], &[]).status.code(),
        Some(0)
    );
}

#[test]
fn the_admin_password_never_appears_in_output() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Pq7!unique-admin-secret";
    for args in [vec!["reset"], vec!["reset", "--json", "-v"]] {
        let o = seedbake(dir.path(), &args, &[("INITIAL_ADMIN_PASSWORD", secret)]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out}{err}");
        assert!(!out.contains(secret) && !err.contains(secret));
        assert!(!err.contains("development password"), "{err}");
    }
    let o = seedbake(dir.path(), &["reset"], &[("INITIAL_ADMIN_PASSWORD", "")]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn info_touches_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let o = seedbake(
        dir.path(),
        &["info"],
        &[("DATABASE_URL", "sqlite:///./should-not-exist.db")],
    );
    assert!(o.status.success());
    let (out, _) = text(&o);
    assert!(out.contains("figur") && out.contains("26 rows"), "{out}");
    assert!(out.contains("minimal: 3 tables, 36 rows"), "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
