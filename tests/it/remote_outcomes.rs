//! What seedbake says about a server's state when it cannot simply say
//! "done": a lost answer to the COMMIT (outcome unknown, exit 6) or to an
//! earlier request (rolled back, exit 4), a failure at any request of the
//! load or of its proof (rolled back before the commit), a server whose
//! rows are not what it was sent (the proof refuses to commit), a server
//! that never answers (bounded by --timeout), an endless answer (refused at
//! a size cap), a signal mid-reset, and IPv6 addresses. The real binary
//! against the repository's Hrana test server.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::output_text as text;
use common::server::TestServer;
use common::{dump, query_i64};

const TOKEN: &str = "tok_Outcome_7xQ2mZ";

fn command(url: &str) -> Command {
    common::seedbake_command(&[
        ("DATABASE_URL", url),
        ("TURSO_AUTH_TOKEN", TOKEN),
        ("SEEDBAKE_ENV", "development"),
    ])
}

fn seedbake(server: &TestServer, args: &[&str]) -> Output {
    command(&server.url())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

use common::rt;

fn dump_of(db: &Path) -> Vec<String> {
    rt().block_on(dump(db))
}

/// A server over the seed plus a table of the user's, so that "changed"
/// and "unchanged" are both visible.
/// Abandoned streams expire after 300 ms, so that tests wait little.
fn seeded_server(dir: &Path) -> TestServer {
    let server = reset_server(dir);
    add_notes(&server);
    server
}

/// A server over the seed alone: reads ride with the writes, so every
/// request cut or muted in turn is one of the few a reset makes on sqld.
fn reset_server(dir: &Path) -> TestServer {
    let server = TestServer::start(
        &dir.join("server.db"),
        TOKEN,
        &["--stream-expiry-ms", "300"],
    );
    let o = seedbake(&server, &["reset", "--no-verify"]);
    assert!(o.status.success(), "{}", text(&o));
    server
}

fn add_notes(server: &TestServer) {
    rt().block_on(common::execute(
        &server.db,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');",
    ));
}

fn has_notes(server: &TestServer) -> bool {
    rt().block_on(query_i64(
        &server.db,
        "SELECT count(*) FROM sqlite_schema WHERE name = 'notes'",
    )) == 1
}

/// How many requests a reset makes, up to and including its COMMIT (the
/// proof is read inside the transaction, so the COMMIT is the last).
fn reset_requests(server: &TestServer) -> u64 {
    let before = server.requests();
    let o = seedbake(server, &["reset"]);
    assert!(o.status.success(), "{}", text(&o));
    server.requests() - before
}

#[test]
fn a_lost_answer_to_the_commit_exits_6_and_the_server_holds_the_new_seed() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let n = reset_requests(&server);
    add_notes(&server);
    // The COMMIT's request is executed in full; then the connection is cut.
    server.faults(&format!(r#"{{"drop_answer_after_requests": {}}}"#, n - 1));
    let o = seedbake(&server, &["reset"]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("may or may not have applied it"), "{said}");
    assert!(said.contains("seedbake verify"), "{said}");
    for lie in ["rolled back", "Nothing was changed", "nothing changed"] {
        assert!(!said.contains(lie), "{said}");
    }
    server.faults("{}");
    server.settle();
    // The server had committed: the user's table is gone, the seed proven.
    assert!(!has_notes(&server));
    let o = seedbake(&server, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_lost_answer_before_the_commit_exits_4_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let before = dump_of(&server.db);
    for after in [1, 3] {
        server.faults(&format!(r#"{{"drop_answer_after_requests": {after}}}"#));
        let o = seedbake(&server, &["reset", "--request-bytes", "20000"]);
        assert_eq!(o.status.code(), Some(4), "{}", text(&o));
        assert!(text(&o).contains("rolled back"), "{}", text(&o));
        server.faults("{}");
        // The abandoned transaction is the server's to drop.
        server.settle();
        assert_eq!(dump_of(&server.db), before);
    }
}

#[test]
fn a_failure_at_any_request_before_the_commit_rolls_back_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let n = reset_requests(&server);
    add_notes(&server);
    let before = dump_of(&server.db);
    // Every request but the COMMIT's fails in turn; the proof's reads are
    // among them.
    let mut proof_failed = false;
    for k in 1..n - 1 {
        server.faults(&format!(r#"{{"fail_after_requests": {k}}}"#));
        let o = seedbake(&server, &["reset", "--json"]);
        let said = text(&o);
        assert_eq!(o.status.code(), Some(4), "request {k}: {said}");
        assert!(said.contains("rolled back"), "request {k}: {said}");
        proof_failed |= said.contains("fingerprinting the loaded rows failed");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(v["ok"], false);
        server.faults("{}");
        server.settle();
        assert_eq!(dump_of(&server.db), before, "request {k}");
    }
    assert!(proof_failed, "no failure hit the proof in {n} requests");
}

/// A dump whose server fails at any one of its requests says which step
/// could not be read, exits 3 and leaves no file; the steps include the
/// one query for every table's columns and the first pages fetched ahead.
#[test]
fn a_failure_at_any_request_of_a_dump_is_named_by_its_step_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let out = dir.path().join("out.sql");
    let dump = || {
        command(&server.url())
            .args(["dump", "--output", out.to_str().unwrap()])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let before = server.requests();
    assert!(dump().status.success());
    let n = server.requests() - before;
    std::fs::remove_file(&out).unwrap();
    let mut steps = std::collections::BTreeSet::new();
    // Every request fails in turn: the first opens the read snapshot and
    // reads the schema with it, the last reads every table (and, the
    // database being small, ends the snapshot).
    for k in 0..n {
        server.faults(&format!(r#"{{"fail_after_requests": {k}}}"#));
        let o = dump();
        let said = text(&o);
        assert_eq!(o.status.code(), Some(3), "request {k}: {said}");
        let (_, rest) = said
            .split_once(&format!("cannot read {} (", server.url()))
            .unwrap_or_else(|| panic!("request {k}: {said}"));
        steps.insert(rest.split_once("):").unwrap().0.to_owned());
        assert!(said.contains("the server failed (HTTP 500)"), "{said}");
        assert!(!out.exists(), "request {k} left a file");
        server.faults("{}");
        server.settle();
    }
    for step in [
        "starting a read transaction",
        "reading the tables' first rows",
    ] {
        assert!(steps.contains(step), "{steps:?}");
    }
}

#[test]
fn a_server_that_does_not_hold_what_it_was_sent_fails_the_proof_and_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let before = dump_of(&server.db);
    // Inside the load's transaction, before each request, the server
    // changes a row it was sent (a trigger, a faulty replica). The proof's
    // reads ride with the last of the writes, so the rows must take more
    // than one request for a change between requests to meet them.
    server.faults(
        r#"{"tamper_after_requests": 0, "tamper_sql": "UPDATE figur SET name = 'Anders' WHERE id = 2"}"#,
    );
    let o = seedbake(&server, &["reset", "--request-bytes", "16384"]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(4), "{said}");
    assert!(
        said.contains("does not match the build (differs in figur)"),
        "{said}"
    );
    assert!(said.contains("rolled back"), "{said}");
    server.faults("{}");
    server.settle();
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn every_remote_command_is_bounded_by_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let before = dump_of(&server.db);
    let silent = common::silent_socket();
    let commands: [&[&str]; 4] = [
        &["verify"],
        &["reset", "--dry-run"],
        &["dump", "--output", "out.sql"],
        &["init-admin", "--username", "admin", "--password-stdin"],
    ];
    for url in [server.url(), silent] {
        for args in commands {
            server.settle();
            server.faults(r#"{"stall_after_requests": 0, "stall_ms": 60000}"#);
            let mut child = command(&url)
                .current_dir(dir.path())
                .args(args)
                .args(["--timeout", "1"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            {
                use std::io::Write;
                let mut stdin = child.stdin.take().unwrap();
                let _ = writeln!(stdin, "a long enough password");
            }
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(3), "{url} {args:?}: {}", text(&o));
            assert!(
                text(&o).contains("did not answer within 1 s (--timeout)"),
                "{url} {args:?}: {}",
                text(&o)
            );
            assert!(!dir.path().join("out.sql").exists());
            server.faults("{}");
        }
    }
    server.settle();
    assert_eq!(dump_of(&server.db), before);
    let partial = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(partial, 0);
}

#[test]
fn an_endless_answer_is_refused_at_the_cap_not_buffered() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let before = dump_of(&server.db);
    // The first answer (a pipeline's or a cursor's) never ends; a generous
    // --timeout shows it is the size cap that stops it. The reset's is
    // that of its writes with the proof's reads, the request before the
    // COMMIT.
    for (args, after) in [
        (&["verify"][..], 0),
        (&["dump"][..], 1),
        (&["reset", "--dry-run"][..], 0),
        (&["reset"][..], 1),
    ] {
        server.settle();
        server.faults(&format!(r#"{{"endless_answer_after_requests": {after}}}"#));
        let o = command(&server.url())
            .args(args)
            .args(["--timeout", "120"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = text(&o);
        let expected = if args == ["reset"] { 4 } else { 3 };
        assert_eq!(o.status.code(), Some(expected), "{args:?}: {said}");
        assert!(said.contains("larger than 64 MiB"), "{args:?}: {said}");
        assert!(said.contains("seedbake refused it"), "{args:?}: {said}");
        server.faults("{}");
    }
    server.settle();
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn a_signal_mid_reset_stops_it_and_the_server_drops_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let before = dump_of(&server.db);
    let base = server.requests();
    // The sixth request (data, before the commit) waits for a minute.
    server.faults(r#"{"stall_after_requests": 5, "stall_ms": 60000}"#);
    let child = command(&server.url())
        .args(["reset", "--request-bytes", "20000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while server.requests() < base + 6 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("interrupted by SIGINT"), "{said}");
    assert!(said.contains("rolled back"), "{said}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{said}"
    );
    server.faults("{}");
    server.settle();
    assert_eq!(dump_of(&server.db), before);
}

#[test]
fn ipv6_addresses_are_servers() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("v6.db"), TOKEN, &["--listen", "[::1]:0"]);
    let url = server.url();
    assert!(url.starts_with("http://[::1]:"), "{url}");
    let o = seedbake(&server, &["reset"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("(verified before commit)"),
        "{}",
        text(&o)
    );
    assert_eq!(
        rt().block_on(query_i64(&server.db, "SELECT count(*) FROM kind")),
        50
    );
    // Without a port, the address is still an address (port 80: nothing
    // listens there).
    let o = command("http://[::1]")
        .args(["verify", "--timeout", "5"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("cannot reach http://[::1]: ::1 refused the connection"),
        "{}",
        text(&o)
    );
}

/// A socket that answers every request with `answer`, then closes.
fn answering_socket(answer: &'static [u8]) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut request = [0u8; 65536];
            let _ = conn.read(&mut request);
            let _ = conn.write_all(answer);
        }
    });
    url
}

#[test]
fn answers_that_are_not_a_libsql_servers_are_one_line_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("s.db"), TOKEN, &[]);
    let wrong_path = format!("{}/no/such/path", server.url());
    // The libsql client unwraps an error answer's text: bytes that are not
    // UTF-8 made it panic.
    let not_text =
        answering_socket(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 4\r\n\r\n\xff\xfe\xfd\xfc");
    let not_json = answering_socket(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nnot json!");
    for (url, needle) in [
        (
            wrong_path.as_str(),
            "the server answered HTTP 404; is 127.0.0.1 a libSQL server",
        ),
        (not_text.as_str(), "the server's error answer is not text"),
        (not_json.as_str(), "is not a libSQL (Hrana) answer"),
    ] {
        for args in [&["verify"][..], &["reset"][..], &["dump"][..]] {
            let o = command(url)
                .current_dir(dir.path())
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let said = text(&o);
            assert_eq!(o.status.code(), Some(3), "{url} {args:?}: {said}");
            assert!(said.contains(needle), "{url} {args:?}: {said}");
            assert_eq!(
                String::from_utf8_lossy(&o.stderr).lines().count(),
                1,
                "{url} {args:?}: {said}"
            );
        }
    }
}

#[test]
fn a_remote_reset_in_json_is_one_object_holding_its_proof() {
    let dir = tempfile::tempdir().unwrap();
    let server = seeded_server(dir.path());
    let o = seedbake(&server, &["reset", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["rows"], 1309);
    assert_eq!(v["verified"], true);
    let o = seedbake(&server, &["info", "--json"]);
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let full = info["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "full")
        .unwrap();
    assert_eq!(v["fingerprint"], full["fingerprint"], "{info}");
}

#[test]
fn a_lost_answer_to_migrates_commit_exits_6_and_points_to_status_not_verify() {
    // A reference row the app changed: migrate has one to bring back, so it
    // commits. Its requests are counted on one server, the last answer
    // dropped on another.
    let changed = |dir: &Path| {
        let server = reset_server(dir);
        server.exec(&["UPDATE verband SET name = 'Changed by the app' WHERE abkuerzung = 'BKFD'"]);
        server
    };
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let measured = changed(one.path());
    let before = measured.requests();
    let o = seedbake(&measured, &["migrate"]);
    assert!(o.status.success(), "{}", text(&o));
    let n = measured.requests() - before;

    let server = changed(two.path());
    server.faults(&format!(r#"{{"drop_answer_after_requests": {}}}"#, n - 1));
    let o = seedbake(&server, &["migrate"]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("may or may not have applied it"), "{said}");
    assert!(said.contains("seedbake status"), "{said}");
    assert!(!said.contains("seedbake verify"), "{said}");
    server.faults("{}");
    server.settle();
    // It had committed: status says the database is in step.
    let o = seedbake(&server, &["status"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
