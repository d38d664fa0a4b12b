//! The `seedbake` binary end to end: real processes, real files, exit codes.

use crate::common;

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

/// A seeded `aquarius.db` in `dir` whose write lock another connection
/// holds (an open `BEGIN IMMEDIATE`) until the caller rolls it back.
fn hold_write_lock(
    dir: &Path,
) -> (
    tokio::runtime::Runtime,
    libsql::Database,
    libsql::Connection,
) {
    assert!(seedbake(dir, &["reset"], &[]).status.success());
    let rt = common::rt();
    let database = rt
        .block_on(libsql::Builder::new_local(dir.join("aquarius.db")).build())
        .unwrap();
    let holder = database.connect().unwrap();
    rt.block_on(holder.execute("BEGIN IMMEDIATE", ())).unwrap();
    (rt, database, holder)
}

/// Whether process `pid` has `path` open.
fn has_open(pid: u32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
}

#[test]
fn a_locked_database_exits_3_after_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _database, holder) = hold_write_lock(dir.path());
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

/// A signal cuts a lock wait short: the operator's Ctrl-C is answered at
/// once, not when `--lock-timeout` runs out (the wait here is a minute).
#[test]
fn a_signal_while_waiting_for_a_lock_ends_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _database, holder) = hold_write_lock(dir.path());
    let child = common::seedbake_command(&[])
        .current_dir(dir.path())
        .args(["reset", "--lock-timeout", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Waiting for the lock: it has the database open (which comes just
    // before the lock is asked for), and a while has passed since.
    let db = dir.path().join("aquarius.db").canonicalize().unwrap();
    let pid = child.id();
    let opened = std::cell::Cell::new(None);
    let o = interrupt_when(child, "-INT", || {
        if opened.get().is_none() && has_open(pid, &db) {
            opened.set(Some(std::time::Instant::now()));
        }
        opened
            .get()
            .is_some_and(|at| at.elapsed() > std::time::Duration::from_millis(1000))
    });
    let signalled = opened.get().unwrap() + std::time::Duration::from_millis(1000);
    // Not a speed figure: the wait it cuts short is a minute long, and a
    // wait left to run out ends in the same error.
    assert!(
        signalled.elapsed() < std::time::Duration::from_secs(30),
        "the signal was answered only after {:?}",
        signalled.elapsed()
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    assert!(!err.contains("locked"), "{err}");
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

/// Sends `signal` to the child once `ready` says so, and waits for it.
fn interrupt_when(
    mut child: std::process::Child,
    signal: &str,
    ready: impl Fn() -> bool,
) -> Output {
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ended before the signal: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    child.wait_with_output().unwrap()
}

fn partial_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            found.extend(partial_files(&entry.path()));
        } else if entry.file_name().to_string_lossy().ends_with(".partial") {
            found.push(entry.path().display().to_string());
        }
    }
    found
}

/// A database big enough that reading it takes a moment.
fn big_database(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("aquarius.db");
    let rt = common::rt();
    rt.block_on(common::execute(
        &db,
        "CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT);
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
         INSERT INTO big SELECT x, hex(randomblob(40)) FROM n;",
    ));
    db
}

#[test]
fn a_signal_during_the_backup_of_a_production_reset_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = big_database(dir.path());
    let bytes = std::fs::read(&db).unwrap();
    let child = common::seedbake_command(&[("SEEDBAKE_ENV", "production")])
        .current_dir(dir.path())
        .args(["reset", "--yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let exports = dir.path().join("exports");
    let o = interrupt_when(child, "-INT", || {
        exports.is_dir() && !partial_files(&exports).is_empty()
    });
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    assert!(
        partial_files(dir.path()).is_empty(),
        "{:?}",
        partial_files(dir.path())
    );
    // A backup that was finished before the signal is whole; none other exists.
    for entry in std::fs::read_dir(&exports).unwrap() {
        let backup = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(backup.ends_with("COMMIT;\n"));
    }
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "the database changed");
}

#[test]
fn a_signal_during_a_dump_to_a_file_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    big_database(dir.path());
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let child = common::seedbake_command(&[])
            .current_dir(dir.path())
            .args(["dump", "--output", "dump.sql"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = interrupt_when(child, signal, || !partial_files(dir.path()).is_empty());
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(code), "{out}{err}");
        assert!(err.contains(&format!("interrupted by {name}")), "{err}");
        assert!(partial_files(dir.path()).is_empty());
        assert!(!dir.path().join("dump.sql").exists());
    }
}

/// The folder `extract` assembles beside its destination, if it is there.
fn extract_staging(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".extract-"))
        .collect()
}

#[test]
fn a_signal_during_an_extract_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    big_database(dir.path());
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let child = common::seedbake_command(&[])
            .current_dir(dir.path())
            .args(["extract", "--out", "seed-out"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = interrupt_when(child, signal, || !extract_staging(dir.path()).is_empty());
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(code), "{out}{err}");
        assert!(err.contains(&format!("interrupted by {name}")), "{err}");
        assert!(
            extract_staging(dir.path()).is_empty(),
            "{:?}",
            extract_staging(dir.path())
        );
        assert!(!dir.path().join("seed-out").exists());
    }
}

/// `schema` draws the embedded seed's schema without touching a database,
/// in each format; with `--database-url` on the command line it draws that
/// database instead, so a table the build does not have shows.
#[test]
fn schema_draws_the_build_or_a_live_database() {
    let dir = tempfile::tempdir().unwrap();
    // DATABASE_URL alone (as an app's environment sets it) is not a request
    // for a live diagram, and nothing is created.
    let env = [("DATABASE_URL", "sqlite:///./should-not-exist.db")];
    let dbml = seedbake(dir.path(), &["schema", "--format", "dbml"], &env);
    let (out, err) = text(&dbml);
    assert!(dbml.status.success(), "{out}\n{err}");
    assert!(
        out.contains("Table kind {\n  id INTEGER [pk, not null]\n"),
        "{out}"
    );
    assert!(out.contains("  Note: '50 rows'\n"), "{out}");
    assert!(out.contains("Ref: anmeldung.kind_id > kind.id\n"), "{out}");
    assert_eq!(out.matches("\nTable ").count(), 13, "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let minimal = text(&seedbake(
        dir.path(),
        &["schema", "--format", "dbml", "--profile", "minimal"],
        &[],
    ))
    .0;
    assert!(
        minimal.contains("Table kind {") && minimal.contains("  Note: '0 rows'\n"),
        "every table, the profile's rows: {minimal}"
    );
    assert!(minimal.contains("  Note: '13 rows'\n"), "{minimal}");

    let mermaid = text(&seedbake(dir.path(), &["schema"], &[])).0;
    assert!(mermaid.contains("\nerDiagram\n"), "{mermaid}");
    assert!(
        mermaid.contains("    kind[\"kind: 50 rows\"] {\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("    kind ||..o{ anmeldung : \"kind_id\"\n"),
        "a required key: exactly one parent; {mermaid}"
    );

    let svg = seedbake(dir.path(), &["schema", "--format", "svg"], &[]);
    let drawn = text(&svg).0;
    assert!(drawn.starts_with("<svg ") && drawn.ends_with("</svg>\n"));
    assert_eq!(drawn.matches("<polyline").count(), 11);
    assert_eq!(
        svg.stdout,
        seedbake(dir.path(), &["schema", "--format", "svg"], &[]).stdout,
        "the same build draws the same bytes"
    );
    // The README shows this picture: it must be the build's.
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/aquarius-schema.svg");
    assert!(
        std::fs::read_to_string(&committed).unwrap() == drawn,
        "docs/aquarius-schema.svg is not the build's schema any more: \
         regenerate it with `seedbake schema --format svg -o docs/aquarius-schema.svg`"
    );
    assert_eq!(
        seedbake(dir.path(), &["schema", "--json"], &[])
            .status
            .code(),
        Some(2),
        "--json without --output is refused"
    );

    let url = "sqlite:///./live.db";
    assert!(
        seedbake(dir.path(), &["reset", "--database-url", url], &[])
            .status
            .success()
    );
    common::rt().block_on(async {
        let d = libsql::Builder::new_local(dir.path().join("live.db"))
            .build()
            .await
            .unwrap();
        d.connect()
            .unwrap()
            .execute_batch(
                "CREATE TABLE notiz (id INTEGER PRIMARY KEY, kind_id INTEGER NOT NULL REFERENCES kind (id), text TEXT);
                 INSERT INTO notiz VALUES (1, 1, 'hallo');
                 ALTER TABLE kind ADD COLUMN spitzname TEXT;",
            )
            .await
            .unwrap();
    });
    let live = seedbake(
        dir.path(),
        &[
            "schema",
            "--format",
            "dbml",
            "--database-url",
            url,
            "-o",
            "live.dbml",
            "--json",
        ],
        &[],
    );
    let report = json(&live);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["tables"], 14, "{report}");
    let drawn = std::fs::read_to_string(dir.path().join("live.dbml")).unwrap();
    assert!(drawn.contains("Table notiz {\n"), "{drawn}");
    assert!(
        drawn.contains("  Note: '1 row; not in the build'\n"),
        "{drawn}"
    );
    assert!(
        drawn.contains("  spitzname TEXT [note: 'not in the build']\n"),
        "{drawn}"
    );
    assert!(
        drawn.contains("// differs from the build: table notiz is not in the build\n"),
        "{drawn}"
    );
    assert!(drawn.contains("Ref: notiz.kind_id > kind.id\n"), "{drawn}");
    assert!(
        !drawn.contains("_seedbake"),
        "seedbake's own tables are not the app's: {drawn}"
    );
    // The build's diagram does not have it: the difference is the drift.
    assert!(!out.contains("notiz"));
}

/// `schema -o` replaces a diagram file in place, so it never writes onto
/// the database it draws (or its journal files): a usage error, the
/// database untouched.
#[test]
fn schema_never_writes_its_diagram_over_the_database() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    let before = std::fs::read(&db).unwrap();
    let url = db.display().to_string();
    for target in ["aquarius.db", "./aquarius.db", "aquarius.db-wal"] {
        let o = seedbake(
            dir.path(),
            &["schema", "--database-url", &url, "-o", target],
            &[],
        );
        assert_eq!(o.status.code(), Some(2), "{target}: {:?}", text(&o));
        assert!(
            text(&o).1.contains("the database"),
            "{target}: {:?}",
            text(&o)
        );
        assert_eq!(std::fs::read(&db).unwrap(), before, "{target}");
    }
    assert!(!dir.path().join("aquarius.db-wal").exists());
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

/// The reports of the commands that write a file name the file, in text
/// and in JSON, and keep their figures (the shapes scripts read).
#[test]
fn reports_of_written_files_name_the_file_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = ["--database-url", "sqlite:///./w.db"];
    let o = seedbake(
        dir.path(),
        &[&["reset", "--no-images"][..], &db].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));

    let o = seedbake(
        dir.path(),
        &[&["dump", "--json", "--output", "d.sql"][..], &db].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let dumped = json(&o);
    assert_eq!(dumped["ok"], true);
    assert_eq!(dumped["file"], "d.sql");
    // The seed's 1309 rows and seedbake's own records.
    let rows = dumped["rows"].as_u64().unwrap();
    assert!(rows > 1309, "{dumped}");
    let bytes = std::fs::metadata(dir.path().join("d.sql")).unwrap().len();
    assert_eq!(dumped["bytes"], bytes);
    assert!(
        dumped["target"].as_str().unwrap().ends_with("w.db"),
        "{dumped}"
    );
    let tables = dumped["tables"].as_array().unwrap().len();
    assert!(tables >= 13, "{dumped}");

    let o = seedbake(
        dir.path(),
        &[&["dump", "--output", "e.sql"][..], &db].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(out.starts_with("dumped "), "{out}");
    assert!(
        out.ends_with(&format!(
            " ({rows} rows, {tables} tables) to e.sql ({bytes} bytes)\n"
        )),
        "{out}"
    );

    let o = seedbake(
        dir.path(),
        &["schema", "--json", "--format", "dbml", "--output", "s.dbml"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let drawn = json(&o);
    let written = std::fs::metadata(dir.path().join("s.dbml")).unwrap().len();
    assert_eq!(drawn["ok"], true);
    assert_eq!(drawn["file"], "s.dbml");
    assert_eq!(drawn["format"], "dbml");
    assert_eq!(drawn["bytes"], written);
    let tables = drawn["tables"].as_u64().unwrap();
    assert!(tables >= 13, "{drawn}");

    let o = seedbake(dir.path(), &["schema", "--output", "s.mmd"], &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let written = std::fs::metadata(dir.path().join("s.mmd")).unwrap().len();
    assert_eq!(
        text(&o).0,
        format!("wrote the mermaid diagram of {tables} tables to s.mmd ({written} bytes)\n")
    );
}

/// Past the file size limit (`ulimit -f`) a write fails rather than the
/// signal ending seedbake: the diagram file is not left half-written (exit
/// 4, nothing beside it), a report to standard output is exit 7.
#[test]
fn a_file_size_limit_fails_the_write_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let limited = |args: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -f 1; exec \"$0\" {args}"))
            .arg(env!("CARGO_BIN_EXE_seedbake"))
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("TURSO_AUTH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = limited("schema --format svg -o big.svg");
    assert_eq!(o.status.code(), Some(4), "{:?}", text(&o));
    assert!(text(&o).1.contains("big.svg"), "{:?}", text(&o));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("big.svg"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let o = limited("schema --format svg > out.svg");
    assert_eq!(o.status.code(), Some(7), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("cannot write to standard output"),
        "{:?}",
        text(&o)
    );
}
