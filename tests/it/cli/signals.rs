//! Locks and signals: a locked database waited for, then refused; a signal
//! that ends the wait, a backup, a dump or an extract, leaving nothing behind.
//! The signals go to the child process, never to the test harness.

use super::*;

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
