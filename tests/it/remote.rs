//! Remote targets: the real `seedbake` binary and its real libsql client
//! against a real server process on 127.0.0.1 backed by a real libSQL file:
//! the repository's Hrana test server, and, for every test that needs no
//! injected fault, the real libSQL server (sqld) as well.

use crate::common;

use common::output_text as text;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::server::{Kind, Server, TestServer, on_both};
use common::{dump, query_i64};

/// A token with characters that would show if it leaked anywhere.
mod round_trips;

const TOKEN: &str = "tok_Zq9xVv3KpL7mW2nR8sT4";

/// The binary pointed at the server, in development (these tests are about
/// the transport; production guards have their own), then `extra_env`.
fn command(server: &Server, extra_env: &[(&str, &str)]) -> Command {
    let url = server.url();
    let mut env = vec![
        ("DATABASE_URL", url.as_str()),
        ("TURSO_AUTH_TOKEN", server.token.as_str()),
        ("SEEDBAKE_ENV", "development"),
    ];
    env.extend_from_slice(extra_env);
    common::seedbake_command(&env)
}

fn seedbake(args: &[&str], server: &Server, extra_env: &[(&str, &str)]) -> Output {
    command(server, extra_env)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[track_caller]
fn assert_no_token(o: &Output, token: &str) {
    let all = text(o);
    assert!(!all.contains(token), "the token leaked: {all}");
    // Nor any long piece of it.
    for w in token.as_bytes().windows(8) {
        assert!(
            !all.contains(std::str::from_utf8(w).unwrap()),
            "part of the token leaked: {all}"
        );
    }
}

fn json(o: &Output) -> serde_json::Value {
    let out = String::from_utf8_lossy(&o.stdout);
    let first = out.lines().next().unwrap_or("");
    serde_json::from_str(first).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

/// A test server over a database already holding the seed plus a table of
/// the user's, so that "unchanged" is visible.
fn seeded_server(dir: &Path, extra: &[&str]) -> TestServer {
    let server = TestServer::start(&dir.join("server.db"), TOKEN, extra);
    seed(&server);
    server
}

/// Fills the server with the seed plus a table of the user's.
fn seed(server: &Server) {
    let o = seedbake(&["reset", "--no-verify"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    server.exec(&[
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO notes (body) VALUES ('keep me')",
    ]);
}

fn dump_of(db: &Path) -> Vec<String> {
    let rt = common::rt();
    rt.block_on(dump(db))
}

on_both!(
    a_remote_reset_is_complete_verified_and_takes_few_requests,
    TOKEN
);
fn a_remote_reset_is_complete_verified_and_takes_few_requests(server: &Server) {
    seed(server);
    let before = (server.kind == Kind::Test).then(|| server.requests());
    let o = seedbake(&["reset", "--json", "--no-verify"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&o);
    let requests = report["traffic"]["requests"].as_u64().unwrap();
    assert!(requests <= 5, "{requests} requests");
    // What seedbake counts is what the server saw.
    if let Some(before) = before {
        assert_eq!(server.requests() - before, requests);
    }
    assert!(report["traffic"]["bytes_sent"].as_u64().unwrap() > 50_000);
    assert_eq!(report["rows"], 1309);
    assert_no_token(&o, &server.token);

    let rt = common::rt();
    assert_eq!(
        rt.block_on(query_i64(&server.db, "SELECT count(*) FROM kind")),
        50
    );
    assert_eq!(
        rt.block_on(query_i64(
            &server.db,
            "SELECT count(*) FROM sqlite_schema WHERE name = 'notes'"
        )),
        0
    );
    assert_eq!(
        rt.block_on(query_i64(
            &server.db,
            "SELECT count(*) FROM pragma_foreign_key_check"
        )),
        0
    );

    let o = seedbake(&["verify", "--json"], server, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["matches"], true);

    // Without --no-verify, reset proves the fingerprint from the server's
    // rows before it commits.
    let o = seedbake(&["reset", "--json"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["verified"], true, "{}", text(&o));
    // The proof reads the first pages of the seed's 15 tables a few tables
    // a request (measured: 21 requests in all; 41 when every table took a
    // describe and a cursor of its own). On a server that sends a batch's
    // rows, far fewer: see `each_command_takes_few_round_trips`.
    let proven = json(&o)["traffic"]["requests"].as_u64().unwrap();
    assert!(proven <= 24, "{proven} requests");
    // So does a dump, with every table's columns read in one query
    // (measured: 15 requests; 67 before).
    let out = tempfile::NamedTempFile::new().unwrap();
    let path = out.path().to_str().unwrap().to_owned();
    drop(out);
    let o = seedbake(&["dump", "--json", "--output", &path], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let dumped = json(&o)["traffic"]["requests"].as_u64().unwrap();
    assert!(dumped <= 18, "{dumped} requests");
    let _ = std::fs::remove_file(&path);
    let o = seedbake(&["reset"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("verified before commit"), "{}", text(&o));
}

on_both!(the_remote_database_equals_a_local_reset, TOKEN);
fn the_remote_database_equals_a_local_reset(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        seedbake(&["reset", "--no-verify"], server, &[])
            .status
            .success()
    );
    let local = dir.path().join("local.db");
    let rt = common::rt();
    rt.block_on(common::reset(&local));
    let rows = |d: Vec<String>| -> Vec<String> {
        // Rows must be identical; schema SQL text is re-rendered by the client.
        d.into_iter()
            .filter(|l| !l.starts_with("_seedbake") && !l.contains(": CREATE"))
            .collect()
    };
    assert_eq!(rows(dump_of(&server.db)), rows(dump_of(&local)));
}

#[test]
fn a_cut_connection_mid_seed_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path(), &["--stream-expiry-ms", "500"]);
    let before = dump_of(&server.db);
    // With 20 kB requests the seed takes several; cut after the third, after data was sent.
    server.faults(r#"{"cut_after_requests": 4}"#);
    let o = seedbake(&["reset", "--request-bytes", "20000"], &server, &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("rolled back") || text(&o).contains("Nothing was changed"),
        "{}",
        text(&o)
    );
    assert_no_token(&o, TOKEN);
    server.faults("{}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(dump_of(&server.db), before);
    // And the server's lock is free again.
    assert!(seedbake(&["reset"], &server, &[]).status.success());
}

#[test]
fn a_server_error_mid_seed_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path(), &["--stream-expiry-ms", "500"]);
    let before = dump_of(&server.db);
    server.faults(r#"{"fail_after_requests": 5}"#);
    let o = seedbake(&["reset", "--request-bytes", "20000"], &server, &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("the server failed (HTTP 500)"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("rolled back"), "{}", text(&o));
    server.faults("{}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn a_killed_seedbake_mid_seed_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path(), &["--stream-expiry-ms", "500"]);
    let before = dump_of(&server.db);
    // The fourth request stalls (after the first data batches were applied;
    // the sixth and last carries the COMMIT); seedbake is killed while it
    // waits.
    server.faults(r#"{"stall_after_requests": 3, "stall_ms": 3000}"#);
    let mut child = command(&server, &[])
        .args(["reset", "--no-verify", "--request-bytes", "20000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    child.kill().unwrap();
    child.wait().unwrap();
    server.faults("{}");
    std::thread::sleep(Duration::from_millis(4000));
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn an_abandoned_transaction_is_waited_for_then_reported() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path(), &["--txn-timeout-ms", "60000"]);
    let before = dump_of(&server.db);
    // Another client takes the write lock and walks away.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let holder = rt.block_on(async {
        let db = libsql::Builder::new_remote(server.url(), TOKEN.to_owned())
            .connector(hyper014::client::HttpConnector::new())
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        conn.execute("BEGIN IMMEDIATE", ()).await.unwrap();
        conn.execute("DELETE FROM notes", ()).await.unwrap();
        (db, conn)
    });
    let started = Instant::now();
    let o = seedbake(
        &["reset", "--lock-timeout", "1", "--timeout", "3"],
        &server,
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(started.elapsed() >= Duration::from_millis(900));
    let t = text(&o);
    assert!(t.contains("locked") || t.contains("did not answer"), "{t}");
    drop(holder);
    drop(rt);
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn the_servers_transaction_timeout_rolls_a_slow_reset_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(
        dir.path(),
        &["--txn-timeout-ms", "300", "--stream-expiry-ms", "10000"],
    );
    let before = dump_of(&server.db);
    // The reset's fourth request (of six) stalls for a second,
    // mid-transaction ...
    server.faults(r#"{"stall_after_requests": 3, "stall_ms": 1000}"#);
    let child = command(&server, &[])
        .args(["reset", "--no-verify", "--request-bytes", "20000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    // ... while another client asks for the write lock: the server takes it away.
    server.faults("{}");
    let rt = common::rt();
    rt.block_on(async {
        let db = libsql::Builder::new_remote(server.url(), TOKEN.to_owned())
            .connector(hyper014::client::HttpConnector::new())
            .build()
            .await
            .unwrap();
        let conn = db.connect().unwrap();
        conn.execute("INSERT INTO notes (body) VALUES ('other writer')", ())
            .await
            .unwrap();
    });
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("rolled back"), "{}", text(&o));
    // Told as what it is (the server's TRANSACTION_TIMEOUT), in seedbake's
    // words, not the client's.
    let said = text(&o);
    assert!(
        said.contains(
            "the server rolled the transaction back: seedbake held the write lock longer"
        ),
        "{said}"
    );
    for raw in ["Hrana", "api error", "`"] {
        assert!(!said.contains(raw), "{raw:?} in {said}");
    }
    assert_no_token(&o, TOKEN);
    let after = dump_of(&server.db);
    let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    let lost: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    assert_eq!(added, ["notes: Integer(2) | Text(\"other writer\")"]);
    assert!(lost.is_empty(), "{lost:?}");
}

on_both!(
    errors_a_user_meets_are_one_clear_line_and_change_nothing,
    TOKEN
);
fn errors_a_user_meets_are_one_clear_line_and_change_nothing(server: &Server) {
    seed(server);
    let before = dump_of(&server.db);
    let tls_url = format!("https://127.0.0.1:{}", server.port);
    // (arguments, environment, exit code, what the message says)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, i32, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["reset"],
            vec![("TURSO_AUTH_TOKEN", "tok_wrong_Zq9xVv3KpL7m")],
            3,
            "rejected the auth token (401)",
        ),
        (
            vec!["reset"],
            vec![("TURSO_AUTH_TOKEN", "")],
            2,
            "needs an auth token",
        ),
        (
            vec!["reset", "--database-url", "http://127.0.0.1:1"],
            vec![],
            3,
            "refused the connection",
        ),
        (
            vec!["reset", "--database-url", &tls_url],
            vec![],
            3,
            "TLS handshake",
        ),
        (
            vec!["reset", "--database-url", "libsql://no-such-db.invalid"],
            vec![],
            3,
            "cannot resolve the host name",
        ),
    ];
    for (args, env, code, needle) in cases {
        let o = seedbake(&args, server, &env);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
        assert_no_token(&o, &server.token);
    }
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn a_server_limit_and_a_timeout_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    {
        let server = seeded_server(dir.path(), &[]);
        drop(server);
    }
    let before = dump_of(&db);
    // A server that takes at most 16 kB per request refuses our 2 MiB batches.
    let small = TestServer::start(&db, TOKEN, &["--max-request-bytes", "16000"]);
    let o = seedbake(&["reset"], &small, &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("server limit was exceeded"),
        "{}",
        text(&o)
    );
    // Lowering --request-bytes fits it.
    let o = seedbake(&["reset", "--request-bytes", "8000"], &small, &[]);
    assert!(o.status.success(), "{}", text(&o));
    drop(small);

    let server = TestServer::start(&db, TOKEN, &["--stream-expiry-ms", "500"]);
    let before_timeout = dump_of(&db);
    assert_ne!(before, before_timeout);
    server.faults(r#"{"stall_after_requests": 3, "stall_ms": 4000}"#);
    let o = seedbake(
        &["reset", "--timeout", "1", "--request-bytes", "20000"],
        &server,
        &[],
    );
    common::assert_fails(&o, 4, "did not answer within 1 s");
    server.faults("{}");
    std::thread::sleep(Duration::from_millis(4500));
    assert_eq!(dump_of(&db), before_timeout);
}

on_both!(a_token_in_the_url_is_used_and_never_shown, TOKEN);
fn a_token_in_the_url_is_used_and_never_shown(server: &Server) {
    seed(server);
    let url = format!("{}?authToken={}", server.url(), server.token);
    let o = seedbake(
        &["reset", "-v", "--database-url", &url],
        server,
        &[("TURSO_AUTH_TOKEN", "")],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_no_token(&o, &server.token);
    let o = seedbake(
        &["verify", "--json", "--database-url", &format!("{url}&x=1")],
        server,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_no_token(&o, &server.token);
}

on_both!(a_server_is_production_backed_up_and_restorable, TOKEN);
fn a_server_is_production_backed_up_and_restorable(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    seed(server);
    let before = dump_of(&server.db);
    let url = server.url();
    let prod = |args: &[&str]| {
        common::seedbake_command(&[("DATABASE_URL", &url), ("TURSO_AUTH_TOKEN", &server.token)])
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = prod(&["reset"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("PRODUCTION (the database is on a server)"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("Type the database name") || text(&o).contains("--yes"),
        "{}",
        text(&o)
    );
    assert_no_token(&o, &server.token);
    assert_eq!(dump_of(&server.db), before);

    let o = prod(&["reset", "--yes", "--backup", "before.sql"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("backup written to before.sql"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("no usable password"), "{}", text(&o));
    assert_no_token(&o, &server.token);
    assert_ne!(dump_of(&server.db), before);

    let o = prod(&["restore", "before.sql", "--yes", "--no-backup"]);
    assert!(o.status.success(), "{}", text(&o));
    let restored: Vec<String> = dump_of(&server.db)
        .into_iter()
        .filter(|l| !l.contains(": CREATE"))
        .collect();
    let wanted: Vec<String> = before
        .into_iter()
        .filter(|l| !l.contains(": CREATE"))
        .collect();
    assert_eq!(restored, wanted);
}

/// A Hrana answer may name a `base_url` for the stream's next requests,
/// and the libsql client follows it with the auth token. The URL's own
/// origin is followed; another is never contacted: the command stops with
/// one clear line, and nothing changes.
#[test]
fn a_server_that_sends_the_client_elsewhere_gets_nothing_sent_there() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path(), &["--stream-expiry-ms", "500"]);
    let before = dump_of(&server.db);
    // Whatever reaches this listener is kept.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let elsewhere = format!("http://{}", listener.local_addr().unwrap());
    let reached = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = reached.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut got = Vec::new();
            let _ = conn.read_to_end(&mut got);
            kept.lock().unwrap().push(got);
        }
    });
    server.faults(&serde_json::json!({ "base_url": server.url() }).to_string());
    let out = dir.path().join("followed.sql");
    let o = seedbake(&["dump", "--output", out.to_str().unwrap()], &server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&out).unwrap().contains("keep me"));
    server.faults(&serde_json::json!({ "base_url": elsewhere }).to_string());
    for (args, code) in [(&["verify"][..], 3), (&["reset"][..], 4)] {
        let o = seedbake(args, &server, &[]);
        let said = text(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {said}");
        assert!(
            said.contains(&format!(
                "the server told the client to go on at {elsewhere}"
            )),
            "{args:?}: {said}"
        );
        assert!(said.contains("sent nothing to it"), "{args:?}: {said}");
        assert_no_token(&o, TOKEN);
    }
    server.faults("{}");
    server.settle();
    assert_eq!(dump_of(&server.db), before);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        reached.lock().unwrap().is_empty(),
        "a connection reached the other origin"
    );
}
