//! The automatic backup is taken under the reset's (or restore's) own write
//! lock: a writer that commits while a production reset runs is either in
//! the backup or waited out, on a local file (rollback journal and WAL) and
//! on a server; a server that ends the transaction changes nothing; and a
//! backup restores exactly. Real binary, real libSQL files, the Hrana test
//! server as a real process.

use crate::common;

use common::output_text as text;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use common::server::TestServer;
use common::{dump, execute};

const FLY: &[(&str, &str)] = &[("FLY_APP_NAME", "aquarius")];
const TOKEN: &str = "tok_backup_Qm3vX8rT";

fn seedbake_cmd(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = common::seedbake_command(env);
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    cmd
}

fn seedbake(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    seedbake_cmd(dir, args, env).output().unwrap()
}

use common::rt;

/// Where the writer sends its rows.
#[derive(Clone)]
enum Via {
    File(PathBuf),
    Server(String),
}

/// Another client of the database inserting rows into `writes`, one
/// transaction per row, until the table is gone (the reset dropped it) or
/// it is told to stop. It keeps the numbers of the rows whose commit it saw
/// succeed; a row whose insert failed (locked, busy) is not counted.
struct Writer {
    stop: Arc<AtomicBool>,
    committed: Arc<AtomicUsize>,
    thread: JoinHandle<Vec<i64>>,
}

impl Writer {
    /// `wait_for`: a file that must exist before the first insert.
    fn start(via: Via, wait_for: Option<PathBuf>, pause: Duration) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(AtomicUsize::new(0));
        let (s, c) = (stop.clone(), committed.clone());
        let thread = std::thread::spawn(move || {
            if let Some(file) = wait_for {
                while !file.exists() && !s.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            rt().block_on(async {
                let db = match &via {
                    Via::File(path) => libsql::Builder::new_local(path).build().await.unwrap(),
                    Via::Server(url) => libsql::Builder::new_remote(url.clone(), TOKEN.into())
                        .connector(hyper014::client::HttpConnector::new())
                        .build()
                        .await
                        .unwrap(),
                };
                let conn = db.connect().unwrap();
                if let Via::File(_) = via {
                    conn.busy_timeout(Duration::from_secs(60)).unwrap();
                }
                let mut done = Vec::new();
                let mut n = 0i64;
                while !s.load(Ordering::SeqCst) {
                    n += 1;
                    match conn
                        .execute("INSERT INTO writes (n) VALUES (?1)", [n])
                        .await
                    {
                        Ok(_) => {
                            done.push(n);
                            c.store(done.len(), Ordering::SeqCst);
                        }
                        Err(e) if e.to_string().contains("no such table") => break,
                        Err(e) => {
                            let e = e.to_string();
                            assert!(
                                e.contains("locked") || e.contains("busy") || e.contains("BUSY"),
                                "the writer failed: {e}"
                            );
                        }
                    }
                    let resume = std::time::Instant::now() + pause;
                    while std::time::Instant::now() < resume && !s.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                done
            })
        });
        Writer {
            stop,
            committed,
            thread,
        }
    }

    fn wait_for_rows(&self, n: usize) {
        while self.committed.load(Ordering::SeqCst) < n {
            assert!(!self.thread.is_finished(), "the writer stopped early");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn finish(self) -> Vec<i64> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap()
    }
}

/// The `writes` rows a dump holds, loaded into a fresh local file by
/// `seedbake restore` (development: no prompt, no backup).
fn writes_in_dump(dir: &Path, dump_file: &Path) -> BTreeSet<i64> {
    let fresh = dir.join(format!(
        "from-{}.db",
        dump_file.file_name().unwrap().to_string_lossy()
    ));
    let url = fresh.to_string_lossy().into_owned();
    let file = dump_file.to_string_lossy().into_owned();
    let o = seedbake(dir, &["restore", &file, "--database-url", &url], &[]);
    assert!(o.status.success(), "{}", text(&o));
    rows_of_writes(&fresh)
}

fn rows_of_writes(db: &Path) -> BTreeSet<i64> {
    rt().block_on(async {
        let d = libsql::Builder::new_local(db).build().await.unwrap();
        let conn = d.connect().unwrap();
        let mut rows = conn.query("SELECT n FROM writes", ()).await.unwrap();
        let mut out = BTreeSet::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.insert(r.get::<i64>(0).unwrap());
        }
        out
    })
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

#[test]
fn a_writer_during_a_local_production_reset_is_in_the_backup_or_waited_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    // Readers block writers in the rollback journal and not in WAL: a
    // backup read outside the reset's lock loses writes in both, in
    // different windows.
    for journal in ["delete", "wal"] {
        rt().block_on(execute(&db, &format!("PRAGMA journal_mode = {journal}")));
        for round in 0..3 {
            rt().block_on(execute(
                &db,
                "CREATE TABLE writes (n INTEGER PRIMARY KEY, at TEXT DEFAULT CURRENT_TIMESTAMP)",
            ));
            // A short pause between the writer's commits leaves readers a
            // way in (a writer without one starves them in the rollback
            // journal); the wide lock timeout covers what is left.
            let writer = Writer::start(Via::File(db.clone()), None, Duration::from_millis(1));
            writer.wait_for_rows(20);
            let backup = dir.path().join(format!("backup-{journal}-{round}.sql"));
            let name = backup.to_string_lossy().into_owned();
            let o = seedbake(
                dir.path(),
                &["reset", "--yes", "--lock-timeout", "60", "--backup", &name],
                FLY,
            );
            assert!(o.status.success(), "{journal}, round {round}: {}", text(&o));
            assert!(
                text(&o).contains(&format!("backup written to {name} under the write lock")),
                "{}",
                text(&o)
            );
            let committed: BTreeSet<i64> = writer.finish().into_iter().collect();
            // Every row whose commit the writer saw is in the backup, and
            // nothing else: no write landed between the backup and the reset.
            let backed_up = writes_in_dump(dir.path(), &backup);
            assert_eq!(
                backed_up.len(),
                committed.len(),
                "{journal}, round {round}: committed rows missing from the backup: {:?}",
                committed.difference(&backed_up).collect::<Vec<_>>()
            );
            assert_eq!(backed_up, committed, "{journal}, round {round}");
            // The reset dropped the writer's table: nothing committed after it.
            assert_eq!(
                rt().block_on(common::query_i64(
                    &db,
                    "SELECT count(*) FROM sqlite_schema WHERE name = 'writes'"
                )),
                0
            );
        }
    }
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_backup_restores_exactly_and_restore_backs_up_under_its_lock_too() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    rt().block_on(execute(
        &db,
        "CREATE TABLE ergebnisse (id INTEGER PRIMARY KEY, kind_id INTEGER, punkte REAL, notiz TEXT, roh BLOB);
         INSERT INTO ergebnisse (kind_id, punkte, notiz, roh) VALUES
           (1, 71.35, 'Gold; ''super''', x'00ff27'), (2, 0.1, NULL, NULL), (3, -0.0, 'Zeile
zwei', x'');
         CREATE INDEX ix_ergebnisse_kind ON ergebnisse (kind_id);
         CREATE VIEW beste AS SELECT kind_id FROM ergebnisse WHERE punkte > 50;
         UPDATE users SET full_name = 'Fritz F.' WHERE username = 'fritz';",
    ));
    let before = rt().block_on(dump(&db));

    let o = seedbake(
        dir.path(),
        &["reset", "--yes", "--backup", "before-reset.sql"],
        FLY,
    );
    assert!(o.status.success(), "{}", text(&o));
    let seeded = rt().block_on(dump(&db));
    assert_ne!(seeded, before);

    // Restoring the reset's backup gives back the database as it was.
    let o = seedbake(
        dir.path(),
        &[
            "restore",
            "before-reset.sql",
            "--yes",
            "--backup",
            "before-restore.sql",
        ],
        FLY,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("backup written to before-restore.sql under the write lock"),
        "{}",
        text(&o)
    );
    assert_eq!(rt().block_on(dump(&db)), before);

    // The restore's own backup, taken inside its transaction, is the
    // seeded database it replaced.
    let again = dir.path().join("again.db");
    let url = again.to_string_lossy().into_owned();
    let o = seedbake(
        dir.path(),
        &["restore", "before-restore.sql", "--database-url", &url],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(rt().block_on(dump(&again)), seeded);
    let o = seedbake(
        dir.path(),
        &["--json", "verify", "--database-url", &url],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn a_backup_that_cannot_be_started_takes_no_lock_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let before = rt().block_on(dump(&db));
    std::fs::write(dir.path().join("taken.sql"), "keep").unwrap();
    // Another process holds the write lock the whole time: a refused file
    // name is reported as such, at once, rather than as a lock wait.
    let holder = rt();
    let lock = holder.block_on(async {
        let d = libsql::Builder::new_local(&db).build().await.unwrap();
        let conn = d.connect().unwrap();
        conn.execute("BEGIN IMMEDIATE", ()).await.unwrap();
        (d, conn)
    });
    let args = ["reset", "--yes", "--backup", "taken.sql"];
    let o = seedbake(dir.path(), &args, FLY);
    assert_eq!(o.status.code(), Some(4), "{args:?}: {}", text(&o));
    assert!(
        text(&o).contains(
            "the backup to taken.sql failed: refusing to write the dump to taken.sql: it already exists"
        ),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("Nothing was changed"), "{}", text(&o));
    // A backup onto the database's own files is a usage error, found before
    // the database is even opened.
    let args = ["reset", "--yes", "--backup", "aquarius.db-journal"];
    let o = seedbake(dir.path(), &args, FLY);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    assert!(
        text(&o).contains("the database's journal file and the backup are the same file"),
        "{}",
        text(&o)
    );
    // With the file name accepted, the lock is what stops it: exit 3.
    let o = seedbake(
        dir.path(),
        &[
            "reset",
            "--yes",
            "--lock-timeout",
            "0.2",
            "--backup",
            "new.sql",
        ],
        FLY,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(!dir.path().join("new.sql").exists());
    holder.block_on(async { lock.1.execute("ROLLBACK", ()).await.unwrap() });
    drop(lock);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken.sql")).unwrap(),
        "keep"
    );
    assert_eq!(rt().block_on(dump(&db)), before);
    assert!(leftovers(dir.path()).is_empty());
}

/// A server over a seeded database with a `writes` table and a note of the
/// operator's, so that losses show.
fn server_with_writes(dir: &Path, extra: &[&str]) -> TestServer {
    let db = dir.join("server.db");
    let server = TestServer::start(&db, TOKEN, extra);
    let env = server_env(&server, "development");
    let o = seedbake(dir, &["reset", "--no-verify"], &env_refs(&env));
    assert!(o.status.success(), "{}", text(&o));
    rt().block_on(execute(
        &db,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes (body) VALUES ('keep me');
         CREATE TABLE writes (n INTEGER PRIMARY KEY);",
    ));
    server
}

fn server_env(server: &TestServer, env: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", server.url()),
        ("TURSO_AUTH_TOKEN", TOKEN.to_owned()),
        ("SEEDBAKE_ENV", env.to_owned()),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn on_server(dir: &Path, server: &TestServer, args: &[&str]) -> Output {
    let env = server_env(server, "production");
    seedbake(dir, args, &env_refs(&env))
}

#[test]
fn a_writer_during_a_server_reset_is_in_the_backup_or_waited_out() {
    let dir = tempfile::tempdir().unwrap();
    // A transaction clock far beyond the reset: the writer waits it out.
    let server = server_with_writes(dir.path(), &["--txn-timeout-ms", "60000"]);
    let writer = Writer::start(Via::Server(server.url()), None, Duration::ZERO);
    writer.wait_for_rows(20);
    let o = on_server(
        dir.path(),
        &server,
        &["reset", "--yes", "--backup", "server.sql"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let committed: BTreeSet<i64> = writer.finish().into_iter().collect();
    let backed_up = writes_in_dump(dir.path(), &dir.path().join("server.sql"));
    assert_eq!(backed_up, committed);
    assert!(!committed.is_empty());
}

#[test]
fn a_server_that_ends_the_transaction_during_a_backed_up_reset_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Every answer comes 300 ms late, and the server takes the write lock
    // from a transaction older than 200 ms as soon as another client asks.
    // The backup's reads ride in the request right after the lock's, so
    // the writer's next try may land before them (the backup fails) or
    // after them (the load fails, the backup is kept): which one depends
    // on the writer's timing, and either must change nothing.
    let server = server_with_writes(dir.path(), &["--txn-timeout-ms", "200"]);
    let before = dump_lines(&server.db);
    server.faults(r#"{"stall_after_requests": 0, "stall_ms": 300}"#);
    let writer = Writer::start(Via::Server(server.url()), None, Duration::from_millis(50));
    let o = on_server(
        dir.path(),
        &server,
        &["reset", "--yes", "--backup", "never.sql"],
    );
    let committed: BTreeSet<i64> = writer.finish().into_iter().collect();
    server.faults("{}");
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let t = text(&o);
    // ("Transaction timed out" is the server's own word for it.)
    assert!(t.contains("Transaction timed out"), "{t}");
    let backup = dir.path().join("never.sql");
    if t.contains("the backup to never.sql failed") {
        assert!(t.contains("Nothing was changed"), "{t}");
        assert!(!backup.exists(), "{t}");
    } else {
        // Taken whole under the lock before the server took it away.
        assert!(t.contains("loading the seed failed"), "{t}");
        assert!(t.contains("the database is as it was before"), "{t}");
        assert!(t.contains("was written before the failure"), "{t}");
        let dump = std::fs::read_to_string(&backup).unwrap();
        assert!(dump.trim_end().ends_with("COMMIT;"), "{dump}");
    }
    assert!(leftovers(dir.path()).is_empty());
    // The database is as it was, plus what the other client committed.
    let after = dump_lines(&server.db);
    assert_eq!(without_writes(&after), without_writes(&before));
    assert_eq!(rows_of_writes(&server.db), committed);
    assert!(!committed.is_empty());
}

#[test]
fn a_server_that_ends_the_transaction_after_the_backup_changes_nothing_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_writes(dir.path(), &["--txn-timeout-ms", "200"]);
    let before = dump_lines(&server.db);
    // Every answer comes 150 ms late; the writer's one insert comes the
    // moment the backup file is complete, while the reset still reads the
    // schema (two late answers before its last request), and takes the lock
    // from it.
    server.faults(r#"{"stall_after_requests": 0, "stall_ms": 150}"#);
    let backup = dir.path().join("kept.sql");
    let writer = Writer::start(
        Via::Server(server.url()),
        Some(backup.clone()),
        Duration::from_secs(3600),
    );
    let o = on_server(
        dir.path(),
        &server,
        &["reset", "--yes", "--backup", "kept.sql"],
    );
    let committed: BTreeSet<i64> = writer.finish().into_iter().collect();
    server.faults("{}");
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("Transaction timed out") && t.contains("the database is as it was before"),
        "{t}"
    );
    // What to do next, for an operator whose app kept writing.
    assert!(t.contains("Stop the app's writers while this runs"), "{t}");
    assert!(
        t.contains("the backup kept.sql was written before the failure"),
        "{t}"
    );
    assert_eq!(committed, BTreeSet::from([1]));
    let after = dump_lines(&server.db);
    assert_eq!(without_writes(&after), without_writes(&before));
    assert_eq!(rows_of_writes(&server.db), committed);
    // The backup is whole: it restores to the database as it was before.
    let restored = dir.path().join("restored.db");
    let url = restored.to_string_lossy().into_owned();
    let o = seedbake(
        dir.path(),
        &["restore", "kept.sql", "--database-url", &url],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(dump_lines(&restored), before);
}

fn dump_lines(db: &Path) -> Vec<String> {
    rt().block_on(dump(db))
}

fn without_writes(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| !l.starts_with("writes: "))
        .collect()
}
