//! How many round trips each remote command takes (issue 19), and the
//! proxy that counts them on the wire for the round-trip bench.

use super::*;

/// Every request is a round trip the operator waits for (issue 19): each
/// command's requests, as seedbake counts them (and, on the test server,
/// as the server counted them), are bounded by what it must do. The test
/// server follows the specification and sends no rows for a statement
/// that asked for none (`want_rows: false`): seedbake's own client asks
/// for the rows it reads, so its reads ride in batches there as on sqld.
/// Measured on sqld with the Aquarius seed (at 852dfd0 → at 522940f →
/// now): a production reset with its backup and proof 39 → 7 → 4 (the
/// lock; the plan's counts with the backup's reads; the writes with the
/// proof's reads; the COMMIT), verify 20 → 2 → 2, dump 16 → 2 → 2, status
/// 16 → 3 → 2, migrate with nothing to do 16 → 3 → 2, extract 132 → 4 → 2:
/// the first request begins the transaction with every read that depends
/// on nothing, the second carries the reads that depend on those and ends
/// it.
#[test]
fn each_command_takes_few_round_trips_on_the_test_server() {
    let server = Server::start_fresh(TOKEN, &[]);
    rows_come_only_when_asked_for(&server);
    each_command_takes_few_round_trips(&server, &FEW);
}

#[test]
fn each_command_takes_few_round_trips_on_sqld() {
    if let Some(server) = Server::sqld("each_command_takes_few_round_trips_on_sqld") {
        each_command_takes_few_round_trips(&server, &FEW);
    }
}

/// The test server answers a batch's rows only for the statements that
/// asked for them, as the specification says, so the bounds above hold
/// for a client that asks, not for one that rests on a server sending
/// rows anyway.
fn rows_come_only_when_asked_for(server: &Server) {
    let step =
        |want_rows: bool| serde_json::json!({"stmt": {"sql": "SELECT 1", "want_rows": want_rows}});
    let body = serde_json::json!({"baton": null, "requests": [
        {"type": "batch", "batch": {"steps": [step(false), step(true)]}},
        {"type": "close"},
    ]});
    let (status, answer) = server.http("POST", "/v3/pipeline", &body.to_string());
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let results = &answer["results"][0]["response"]["result"]["step_results"];
    assert_eq!(results[0]["rows"], serde_json::json!([]), "{answer}");
    assert_eq!(
        results[1]["rows"],
        serde_json::json!([[{"type": "integer", "value": "1"}]]),
        "{answer}"
    );
}

/// The most requests of: a production reset with backup and proof,
/// verify, dump, status, migrate with nothing to do, extract.
struct Bounds([u64; 6]);
const FEW: Bounds = Bounds([4, 2, 2, 2, 2, 2]);

fn each_command_takes_few_round_trips(server: &Server, bounds: &Bounds) {
    let [reset, verify, dump, status, migrate, extract] = bounds.0;
    seed(server);
    let dir = tempfile::tempdir().unwrap();
    let counted = |args: &[&str], env: &[(&str, &str)]| {
        let before = (server.kind == Kind::Test).then(|| server.requests());
        let o = seedbake(args, server, env);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        let requests = json(&o)["traffic"]["requests"].as_u64().unwrap();
        if let Some(before) = before {
            assert_eq!(server.requests() - before, requests, "{args:?}");
        }
        (o, requests)
    };
    let backup = dir.path().join("backup.sql");
    let backup = backup.to_str().unwrap();
    let production = [("SEEDBAKE_ENV", "production")];
    let (o, requests) = counted(
        &["reset", "--yes", "--json", "--backup", backup],
        &production,
    );
    assert_eq!(json(&o)["verified"], true, "{}", text(&o));
    assert!(requests <= reset, "production reset: {requests} requests");
    // The backup holds what the reset replaced (the user's table).
    assert!(std::fs::read_to_string(backup).unwrap().contains("keep me"));

    let (o, requests) = counted(&["verify", "--json"], &[]);
    assert_eq!(json(&o)["matches"], true, "{}", text(&o));
    assert!(requests <= verify, "verify: {requests} requests");

    let dumped = dir.path().join("dump.sql");
    let (_, requests) = counted(
        &["dump", "--json", "--output", dumped.to_str().unwrap()],
        &[],
    );
    assert!(requests <= dump, "dump: {requests} requests");
    assert!(
        std::fs::read_to_string(&dumped)
            .unwrap()
            .contains("CREATE TABLE")
    );

    let (o, requests) = counted(&["status", "--json"], &[]);
    assert_eq!(json(&o)["in_step"], true, "{}", text(&o));
    assert!(requests <= status, "status: {requests} requests");

    let (o, requests) = counted(&["migrate", "--json"], &[]);
    assert_eq!(json(&o)["changes"], false, "{}", text(&o));
    assert!(
        requests <= migrate,
        "migrate with nothing to do: {requests} requests"
    );

    let extracted = dir.path().join("extracted");
    let (o, requests) = counted(
        &["extract", "--json", "--out", extracted.to_str().unwrap()],
        &[],
    );
    assert_eq!(json(&o)["complete"], true, "{}", text(&o));
    assert!(requests <= extract, "extract: {requests} requests");
}

/// Reference data the seed does not have: a row of `verband` that only
/// `kind` may refer to, whose referring rows are counted once the other
/// reads are answered.
const EXTRA_VERBAND: &str = "INSERT INTO verband (id, name, abkuerzung, land, ort) VALUES (999, 'Extra', 'EXT', 'DE', 'Irgendwo')";

/// The seed with [`EXTRA_VERBAND`], and nothing of the user's (which
/// status would call drift).
fn seed_only(server: &Server) {
    let o = seedbake(&["reset", "--no-verify"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    server.exec(&[EXTRA_VERBAND]);
}

/// A transaction that ended with what were to be its last reads begins
/// again when more is read or written after all, and reads the state it
/// read before: on a database whose reference data differs, status names
/// the row to delete (in no more requests than it took before the early
/// end: the snapshot's end moved, the late read costs the request the end
/// cost), and migrate, whose nothing-to-do transaction ended too, deletes
/// it in its transaction begun again, after which status finds the
/// database in step.
#[test]
fn reads_after_the_last_reads_begin_the_transaction_again_on_the_test_server() {
    let server = Server::start_fresh(TOKEN, &[]);
    reads_after_the_last_reads_begin_the_transaction_again(&server);
}

#[test]
fn reads_after_the_last_reads_begin_the_transaction_again_on_sqld() {
    if let Some(server) =
        Server::sqld("reads_after_the_last_reads_begin_the_transaction_again_on_sqld")
    {
        reads_after_the_last_reads_begin_the_transaction_again(&server);
    }
}

fn reads_after_the_last_reads_begin_the_transaction_again(server: &Server) {
    seed_only(server);
    let o = seedbake(&["status", "--json"], server, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["in_step"], false, "{}", text(&o));
    let verband = report["reference"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "verband")
        .unwrap();
    assert_eq!(
        verband["deleted"],
        serde_json::json!(["\"EXT\""]),
        "{}",
        text(&o)
    );
    let requests = report["traffic"]["requests"].as_u64().unwrap();
    assert!(
        requests <= 4,
        "status with a late read: {requests} requests"
    );

    let o = seedbake(&["migrate", "--json"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["changes"], true, "{}", text(&o));

    let o = seedbake(&["status", "--json"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(json(&o)["in_step"], true, "{}", text(&o));
}

/// …and when another client wrote between the request that ended it and
/// the one that begins it again, what would be read is not the state read
/// before: the command fails (exit 4), and migrate changes nothing.
#[test]
fn a_database_changed_between_the_early_end_and_the_next_request_is_not_read_as_one_state() {
    let server = TestServer::start_fresh(TOKEN, &[]);
    seed_only(&server);
    for cmd in ["status", "migrate"] {
        let before = server.requests();
        // Each answer waits after its request ran: time to write between.
        server.faults(r#"{"stall_after_requests": 1, "stall_ms": 1500}"#);
        let child = command(&server, &[])
            .args([cmd, "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The second request (the last reads, and the end) has run.
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.requests() < before + 2 {
            assert!(Instant::now() < deadline, "{cmd} sent no second request");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        server.exec(&["UPDATE verband SET ort = 'Anderswo' WHERE id = 999"]);
        let o = child.wait_with_output().unwrap();
        server.faults("{}");
        common::assert_fails(&o, 4, "the database changed while it was read");
        server.exec(&["UPDATE verband SET ort = 'Irgendwo' WHERE id = 999"]);
    }
    // migrate deleted nothing: the row is still there to be named.
    let o = seedbake(&["status", "--json"], &server, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("EXT"), "{}", text(&o));
}

/// `migrate` applying every migration to an empty database (this seed's
/// one, `0001_initial`), then syncing the reference data: the lock, the
/// records' read, the migration with the reads after it, the sync's writes
/// with the foreign-key check; the COMMIT travels with the last. Measured:
/// 8 at the last stop, 4 now, on the test server and on sqld.
#[test]
fn migrate_with_pending_migrations_takes_few_round_trips_on_the_test_server() {
    let server = Server::start_fresh(TOKEN, &[]);
    migrate_with_pending_migrations_takes_few_round_trips(&server);
}

#[test]
fn migrate_with_pending_migrations_takes_few_round_trips_on_sqld() {
    if let Some(server) =
        Server::sqld("migrate_with_pending_migrations_takes_few_round_trips_on_sqld")
    {
        migrate_with_pending_migrations_takes_few_round_trips(&server);
    }
}

fn migrate_with_pending_migrations_takes_few_round_trips(server: &Server) {
    let o = seedbake(&["migrate", "--json"], server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["changes"], true, "{}", text(&o));
    assert_eq!(report["applied"][0]["version"], 1, "{}", text(&o));
    let requests = report["traffic"]["requests"].as_u64().unwrap();
    assert!(requests <= 4, "migrate, pending: {requests} requests");
    // What it did is what the build asks, as status finds it.
    let o = seedbake(&["status", "--json"], server, &[]);
    assert_eq!(json(&o)["in_step"], true, "{}", text(&o));
}

#[path = "../../support/latency_proxy.rs"]
mod latency_proxy;

/// The round-trip bench's proxy counts HTTP/1.1 requests as the protocol
/// frames them: pipelined on one keep-alive connection, with bodies of a
/// Content-Length and in chunks (with an extension and a trailer), each
/// arrives whole at the server and is counted once; its answer comes back.
#[test]
fn the_latency_proxy_counts_every_request_on_a_keep_alive_connection() {
    let server = TestServer::start_fresh(TOKEN, &[]);
    let proxy = latency_proxy::LatencyProxy::start(&server.addr, Duration::from_millis(5));
    let before = server.requests();
    const N: usize = 9;
    let mut wire = Vec::new();
    for i in 0..N {
        let close = ["", "Connection: close\r\n"][usize::from(i == N - 1)];
        let head = format!(
            "POST /v3/pipeline HTTP/1.1\r\nHost: x\r\n{close}Authorization: Bearer {TOKEN}\r\n"
        );
        let b = format!(
            r#"{{"baton":null,"requests":[{{"type":"execute","stmt":{{"sql":"SELECT {i}"}}}},{{"type":"close"}}]}}"#
        );
        let (one, two) = b.split_at(b.len() / 2);
        let (n1, n2) = (one.len(), two.len());
        let framed = match i % 2 {
            0 => format!("Content-Length: {}\r\n\r\n{b}", b.len()),
            _ => format!(
                "Transfer-Encoding: chunked\r\n\r\n{n1:x};ext=1\r\n{one}\r\n{n2:x}\r\n{two}\r\n0\r\nX-Trailer: t\r\n\r\n"
            ),
        };
        wire.extend_from_slice((head + &framed).as_bytes());
    }
    let mut conn = std::net::TcpStream::connect(proxy.addr()).unwrap();
    std::io::Write::write_all(&mut conn, &wire).unwrap();
    let mut answers = String::new();
    std::io::Read::read_to_string(&mut conn, &mut answers).unwrap();
    assert_eq!(proxy.requests(), N as u64);
    assert_eq!(proxy.connections(), 1);
    assert_eq!(server.requests() - before, N as u64);
    assert_eq!(
        answers.matches("HTTP/1.1 200 OK\r\n").count(),
        N,
        "{answers}"
    );
    for i in 0..N {
        assert!(
            answers.contains(&format!(r#""value":"{i}""#)),
            "{i}: {answers}"
        );
    }
}

/// What the proxy counts for the real client is what seedbake and the
/// server count.
#[test]
fn the_latency_proxy_counts_what_the_client_sends() {
    let server = TestServer::start_fresh(TOKEN, &[]);
    let proxy = latency_proxy::LatencyProxy::start(&server.addr, Duration::ZERO);
    let before = server.requests();
    let url = &format!("http://{}", proxy.addr());
    let o = seedbake(&["reset", "--json", "--database-url", url], &server, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let counted = json(&o)["traffic"]["requests"].as_u64().unwrap();
    assert_eq!(proxy.requests(), counted);
    assert_eq!(server.requests() - before, counted);
}
