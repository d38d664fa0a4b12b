//! The `seedbake` binary end to end: real processes, real files, exit codes.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod files;
mod schema;
mod signals;

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
    // Who the binary speaks for comes from seed-data/seed.toml's [app].
    assert_eq!(info["app"]["name"], "Aquarius");
    assert_eq!(info["app"]["database"], "sqlite:///./aquarius.db");
    assert_eq!(info["app"]["production_env"][0], "FLY_APP_NAME");
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
        let rt = common::rt();
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

/// Runs the binary in `dir` and returns stdout and stderr together.
fn all_output(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = seedbake(dir, args, &[]);
    let (out, err) = text(&o);
    (o.status.code(), format!("{out}{err}"))
}

#[test]
fn no_message_shows_a_secret_from_the_url_whatever_its_spelling() {
    // Each URL carries a secret where one goes: a password, or a token in
    // the query. A message that depends on the secret shows some of it; so
    // each URL is tried with short secrets (which any text replacement
    // would find everywhere) and a long one, and the output must be the
    // same for all of them, and whole.
    let table: [(&str, i32, &str); 12] = [
        ("https://user:{S}@host", 2, "\"https://host\""),
        (
            "https://user:{S}@host/db?authToken={S}",
            2,
            "\"https://host/db\"",
        ),
        (
            "postgres://u:{S}@db.example:5432/app",
            2,
            "\"postgres://db.example:5432/app\"",
        ),
        ("ftp://x?authToken={S}", 2, "\"ftp://x\""),
        ("LIBSQL://host?authToken={S}&x=1", 2, "\"LIBSQL://host\""),
        ("libsql:host?authToken={S}", 2, "\"libsql:host\""),
        ("libsql:u:{S}@host", 2, "\"libsql:host\""),
        (
            "HTTP://127.0.0.1:1/?authToken={S}",
            3,
            "cannot reach http://127.0.0.1:1:",
        ),
        ("file:a.db?authToken={S}", 2, "\"file:a.db\""),
        ("sqlite:///./a.db?key={S}", 2, "\"sqlite:///./a.db\""),
        ("http://h:{S}@127.0.0.1:1", 2, "\"http://127.0.0.1:1\""),
        ("wss://u:{S}@host?authToken={S}", 2, "\"wss://host\""),
    ];
    let long = "Sx9_unique-Secret-Value";
    for (template, code, shown) in table {
        for command in ["reset", "verify"] {
            let mut first: Option<String> = None;
            for secret in ["t", "ht", "p", long] {
                let dir = tempfile::tempdir().unwrap();
                let url = template.replace("{S}", secret);
                let (got, said) = all_output(
                    dir.path(),
                    &[command, "--database-url", &url, "--timeout", "2"],
                );
                assert_eq!(got, Some(code), "{url}: {said}");
                assert!(!said.contains(long), "{url}: {said}");
                // The URL is shown whole, without its secret parts.
                assert!(said.contains(shown), "{url}: {said}");
                assert_eq!(said.lines().count(), 1, "{url}: {said}");
                match &first {
                    None => first = Some(said),
                    Some(f) => assert_eq!(&said, f, "the message depends on the secret"),
                }
                // Nothing was created from a URL taken for a path.
                assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{url}");
            }
        }
    }
}

/// Runs the binary with a password on standard input (for init-admin).
fn with_password(dir: &Path, args: &[&str]) -> Output {
    let mut child = common::seedbake_command(&[])
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let _ = writeln!(child.stdin.take().unwrap(), "a long enough password");
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_url_in_the_wrong_place_does_not_bring_its_secret_into_the_message() {
    // Refused by the argument parser, which echoes what it refuses.
    let long = "Sx9_unique-Secret-Value";
    for args in [
        vec!["reset", "postgres://u:{S}@host/db"],
        vec!["https://u:{S}@host?authToken={S}"],
        vec!["verify", "--timeout", "x?authToken={S}"],
        vec!["verify", "--json", "libsql://host?authToken={S}"],
    ] {
        let mut first: Option<String> = None;
        for secret in ["t", "ht", "p", long] {
            let dir = tempfile::tempdir().unwrap();
            let args: Vec<String> = args.iter().map(|a| a.replace("{S}", secret)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, said) = all_output(dir.path(), &args);
            assert_eq!(code, Some(2), "{args:?}: {said}");
            assert!(!said.contains(long), "{args:?}: {said}");
            match &first {
                None => first = Some(said),
                Some(f) => assert_eq!(&said, f, "the message depends on the secret"),
            }
        }
    }
}

#[test]
fn mode_ro_is_honoured_for_reading_and_refused_for_writing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    let bytes = std::fs::read(&db).unwrap();
    let ro = "file:aquarius.db?mode=ro";
    for (args, code) in [
        (vec!["verify"], 0),
        (vec!["dump", "--output", "d.sql"], 0),
        (vec!["reset", "--dry-run"], 0),
        (vec!["reset"], 2),
        (vec!["seed"], 2),
        (vec!["init-admin", "--password-stdin"], 2),
    ] {
        let mut full = args.clone();
        full.extend(["--database-url", ro]);
        let o = with_password(dir.path(), &full);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {:?}", text(&o));
        if code == 2 {
            assert!(
                text(&o)
                    .1
                    .contains("mode=ro (read-only), and this command writes"),
                "{:?}",
                text(&o)
            );
        }
    }
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    // mode=rw: the file must exist, even for reset.
    let o = seedbake(
        dir.path(),
        &["reset", "--database-url", "file:other.db?mode=rw"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    assert!(!dir.path().join("other.db").exists());
}

#[test]
fn commands_that_do_not_fill_a_database_never_create_one() {
    let dir = tempfile::tempdir().unwrap();
    for (args, code, needle) in [
        (vec!["verify"], 3, "there is no such database file"),
        (vec!["dump"], 3, "there is no such database file"),
        (
            vec!["dump", "--output", "x.sql"],
            3,
            "there is no such database file",
        ),
        (
            vec!["init-admin", "--password-stdin"],
            3,
            "there is no such database file",
        ),
        (
            vec!["reset", "--dry-run"],
            0,
            "create the file (it does not exist yet)",
        ),
    ] {
        let mut full = args.clone();
        full.extend(["--database-url", "sqlite:///./typo.db"]);
        let o = with_password(dir.path(), &full);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {:?}", text(&o));
        let (out, err) = text(&o);
        assert!(
            out.contains(needle) || err.contains(needle),
            "{args:?}: {out}{err}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{args:?}"
        );
    }
}

#[test]
fn out_of_range_durations_are_usage_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    for args in [
        ["verify", "--timeout", "1e300"],
        ["verify", "--timeout", "0"],
        ["verify", "--timeout", "NaN"],
        ["verify", "--timeout", "inf"],
        ["verify", "--lock-timeout", "1e20"],
        ["reset", "--lock-timeout", "18446744073709551616"],
        ["reset", "--lock-timeout=-0.5", "-v"],
    ] {
        let o = seedbake(dir.path(), &args, &[]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("takes a number of seconds"), "{args:?}: {err}");
    }
    // The largest accepted values work.
    let o = seedbake(
        dir.path(),
        &[
            "verify",
            "--timeout",
            "31536000",
            "--lock-timeout",
            "31536000",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn help_says_to_keep_the_token_off_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = seedbake(dir.path(), &["--help"], &[]);
    let (out, _) = text(&o);
    assert!(out.contains("/proc/*/cmdline"), "{out}");
    assert!(out.contains("Prefer the TURSO_AUTH_TOKEN"), "{out}");
    // The app's name and default database, from the seed's [app].
    assert!(
        out.contains("Reset and seed the Aquarius database"),
        "{out}"
    );
    assert!(out.contains("sqlite:///./aquarius.db]"), "{out}");
}

/// A dry run never writes: migrate's plan (the whole migration, run and
/// rolled back) is made on a scratch copy of a local file, so a read-only
/// URL works and the file is not touched, not even its journal.
#[test]
fn a_migrate_dry_run_on_a_read_only_database_plans_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    common::rt().block_on(common::execute(
        &db,
        "UPDATE verband SET name = 'Changed by the app' WHERE abkuerzung = 'BKFD'",
    ));
    let before = std::fs::read(&db).unwrap();
    let url = format!("sqlite:///{}?mode=ro", db.display());
    let o = seedbake(
        dir.path(),
        &["migrate", "--dry-run", "--database-url", &url],
        &[],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("\"BKFD\""), "{out}");
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with("aquarius.db-")),
        "{names:?}"
    );
    // The real migration then applies what the plan showed.
    let o = seedbake(dir.path(), &["migrate"], &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(
        seedbake(dir.path(), &["status"], &[]).status.code(),
        Some(0)
    );
}
