//! How many round trips each remote command takes (issue 19), and the
//! proxy that counts them on the wire for the round-trip bench.

use super::*;

/// Every request is a round trip the operator waits for (issue 19): each
/// command's requests, as seedbake counts them (and, on the test server,
/// as the server counted them), are bounded by what it must do, on a
/// server that sends a batch's rows as sqld does. Measured on sqld with
/// the Aquarius seed (first → last stop → now): a production reset with
/// its backup and proof 39 → 7 → 4 (the lock; the plan's counts with the
/// backup's reads; the writes with the proof's reads; the COMMIT), verify
/// 20 → 2, dump 16 → 2, status 16 → 3, migrate with nothing to do 16 → 3,
/// extract 132 → 4.
#[test]
fn each_command_takes_few_round_trips_on_the_test_server() {
    let server = Server::start_fresh(TOKEN, &["--rows-like-sqld"]);
    each_command_takes_few_round_trips(&server, &FEW);
}

#[test]
fn each_command_takes_few_round_trips_on_sqld() {
    if let Some(server) = Server::sqld("each_command_takes_few_round_trips_on_sqld") {
        each_command_takes_few_round_trips(&server, &FEW);
    }
}

/// A server that sends no rows for statements that asked for none, as the
/// specification says it should, is read a query a request, as before:
/// the same commands, the same outcomes, about the old counts (measured:
/// 40, 22, 16, 16, 16, 132; before: 39, 20, 16, 16, 16, 132; the batch that
/// found out reads nothing of use).
#[test]
fn a_server_that_withholds_a_batchs_rows_is_read_a_query_a_request() {
    let server = Server::start_fresh(TOKEN, &[]);
    each_command_takes_few_round_trips(&server, &AS_BEFORE);
}

/// The most requests of: a production reset with backup and proof,
/// verify, dump, status, migrate with nothing to do, extract.
struct Bounds([u64; 6]);
const FEW: Bounds = Bounds([4, 2, 2, 3, 3, 4]);
const AS_BEFORE: Bounds = Bounds([40, 22, 16, 16, 16, 132]);

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

/// `migrate` applying every migration to an empty database (this seed's
/// one, `0001_initial`), then syncing the reference data: the lock, the
/// records' read, the migration with the reads after it, the sync's writes
/// with the foreign-key check; the COMMIT travels with the last. Measured:
/// 8 at the last stop, 4 now, on the test server run like sqld and on sqld.
#[test]
fn migrate_with_pending_migrations_takes_few_round_trips_on_the_test_server() {
    let server = Server::start_fresh(TOKEN, &["--rows-like-sqld"]);
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
