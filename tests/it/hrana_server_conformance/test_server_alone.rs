//! The test server alone: request counts, faults and short clocks, which sqld
//! has no switch for.

use super::*;

fn test_server(extra: &[&str]) -> Server {
    let srv = Server::start_fresh(TOKEN, extra);
    assert_eq!(srv.kind, Kind::Test);
    srv
}

#[tokio::test]
async fn request_costs_of_the_client() {
    let srv = test_server(&[]);
    let conn = connect(&srv).await;
    let r0 = srv.requests();
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", ())
        .await
        .unwrap();
    let r1 = srv.requests();
    assert_eq!(r1 - r0, 1, "execute costs one request");
    conn.execute_batch("INSERT INTO t (id) VALUES (1); INSERT INTO t (id) VALUES (2);")
        .await
        .unwrap();
    let r2 = srv.requests();
    assert_eq!(r2 - r1, 1, "execute_batch costs one request");
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 2);
    let r3 = srv.requests();
    assert_eq!(r3 - r2, 2, "query costs describe + cursor");

    // transaction(): BEGIN, each statement and COMMIT are one request each
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t (id) VALUES (2000)", ())
        .await
        .unwrap();
    tx.execute("INSERT INTO t (id) VALUES (2001)", ())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r4 = srv.requests();
    assert_eq!(r4 - r3, 4, "begin + 2 statements + commit");
}

#[tokio::test]
async fn request_size_limit() {
    let srv = test_server(&["--max-request-bytes", "2000"]);
    let conn = connect(&srv).await;
    conn.execute("CREATE TABLE t (v TEXT)", ()).await.unwrap();
    let big = "x".repeat(5000);
    let err = conn
        .execute("INSERT INTO t VALUES (?)", params![big])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("413"), "{err}");
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 0);
}

#[tokio::test]
async fn short_clocks_for_the_tests() {
    let srv = test_server(&["--stream-expiry-ms", "300", "--txn-timeout-ms", "400"]);
    let conn = connect(&srv).await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let err = tx.commit().await.unwrap_err().to_string();
    assert!(err.contains("STREAM_EXPIRED"), "{err}");
    let fresh = connect(&srv).await;
    assert_eq!(count(&fresh, "SELECT count(*) FROM t").await, 0);

    let srv = test_server(&["--txn-timeout-ms", "400"]);
    let a = connect(&srv).await;
    a.execute("CREATE TABLE t (who TEXT)", ()).await.unwrap();
    let tx = a
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .await
        .unwrap();
    tx.execute("INSERT INTO t VALUES ('a')", ()).await.unwrap();
    let b = connect(&srv).await;
    let started = Instant::now();
    b.execute("INSERT INTO t VALUES ('b')", ()).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    let err = tx.commit().await.unwrap_err().to_string();
    assert!(err.contains("TRANSACTION_TIMEOUT"), "{err}");
}

#[tokio::test]
async fn the_answer_cap_is_a_flag() {
    let srv = test_server(&["--max-response-bytes", "5000"]);
    let conn = connect(&srv).await;
    conn.execute("CREATE TABLE t (v TEXT)", ()).await.unwrap();
    conn.execute("INSERT INTO t VALUES (?)", params!["y".repeat(8000)])
        .await
        .unwrap();
    let (_, v) = pipeline(
        &srv,
        serde_json::json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": "SELECT v FROM t"}}, {"type": "close"}]}),
    );
    assert_eq!(
        v["results"][0]["error"]["code"], "RESPONSE_TOO_LARGE",
        "{v}"
    );
    // A cursor is not capped.
    assert_eq!(count(&conn, "SELECT length(v) FROM t").await, 8000);
    let mut rows = conn.query("SELECT v FROM t", ()).await.unwrap();
    assert_eq!(
        rows.next()
            .await
            .unwrap()
            .unwrap()
            .get::<String>(0)
            .unwrap()
            .len(),
        8000
    );
}

#[tokio::test]
async fn stats_and_faults() {
    let srv = test_server(&[]);
    let conn = connect(&srv).await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    let (code, body) = srv.http("GET", "/_stats", "");
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["requests"], 1);
    assert!(v["bytes_in"].as_u64().unwrap() > 50);
    assert!(v["bytes_out"].as_u64().unwrap() > 50);

    // HTTP 500 after one more request
    assert_eq!(
        srv.http("POST", "/_faults", r#"{"fail_after_requests":1}"#)
            .0,
        200
    );
    conn.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    let err = conn
        .execute("INSERT INTO t VALUES (2)", ())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("500"), "{err}");
    assert_eq!(srv.http("POST", "/_faults", "{}").0, 200);
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 1);

    // dropped connection
    srv.faults(r#"{"cut_after_requests":0}"#);
    assert!(conn.execute("INSERT INTO t VALUES (3)", ()).await.is_err());
    srv.faults(r#"{"cut_after_bytes":10}"#);
    assert!(conn.execute("INSERT INTO t VALUES (4)", ()).await.is_err());
    srv.faults("{}");

    // stalled responses
    srv.faults(r#"{"stall_after_requests":0,"stall_ms":300}"#);
    let t = Instant::now();
    conn.execute("INSERT INTO t VALUES (5)", ()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    srv.faults("{}");
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 2);
    assert_eq!(srv.http("POST", "/_faults", r#"{"bogus":1}"#).0, 400);
}

#[tokio::test]
async fn flags_for_faults_and_raw_protocol() {
    let srv = test_server(&["--fail-after-requests", "2"]);
    let conn = connect(&srv).await;
    conn.execute("SELECT 1", ()).await.unwrap();
    conn.execute("SELECT 1", ()).await.unwrap();
    assert!(conn.execute("SELECT 1", ()).await.is_err());

    // raw protocol: invalid baton, version probe
    let srv = test_server(&[]);
    assert_eq!(srv.http("GET", "/v3", "").0, 200);
    let (code, body) = srv.http("POST", "/v3/pipeline", r#"{"baton":"nope","requests":[]}"#);
    assert_eq!((code, body.as_str()), (400, "Received an invalid baton"));
}

/// libsql 0.10 keeps the stream of `query()` open (describe + cursor do not close
/// it); once the server expires it, the client's next requests carry the dead baton.
#[tokio::test]
async fn idle_connection_after_query_hits_expired_stream() {
    let srv = test_server(&["--stream-expiry-ms", "200"]);
    let conn = connect(&srv).await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 0);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let first = conn.execute("INSERT INTO t VALUES (1)", ()).await;
    let second = conn.execute("INSERT INTO t VALUES (2)", ()).await;
    let err = first.unwrap_err().to_string();
    assert!(err.contains("STREAM_EXPIRED"), "{err}");
    assert!(second.is_err(), "the client keeps the dead baton");
}
