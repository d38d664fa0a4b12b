//! The Hrana test server stands in for sqld: the same checks, driven by the
//! real `libsql` remote client (or raw HTTP), run against the test server
//! and against the real libSQL server (sqld, when `SEEDBAKE_TEST_SQLD` names
//! it), so what the test server models (values, batches, transactions,
//! batons, the clocks and the answer cap) is proven to be what sqld does.
//! What sqld cannot be made to do on demand (HTTP 500s, stalls, cut
//! connections, short clocks) is checked on the test server alone.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::server::{Kind, Server};
use libsql::{Builder, Connection, TransactionBehavior, Value, named_params, params};

mod test_server_alone;

/// Runs `check` against the test server (with its default clocks, which
/// are sqld's) and, as a second test, against sqld.
macro_rules! on_both {
    ($check:ident) => {
        mod $check {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn test_server() {
                let srv = super::Server::start_fresh(super::TOKEN, &[]);
                super::$check(&srv).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqld() {
                if let Some(srv) = super::Server::sqld(concat!(stringify!($check), "::sqld")) {
                    super::$check(&srv).await;
                }
            }
        }
    };
}

const TOKEN: &str = "s3cret";

async fn connect(srv: &Server) -> Connection {
    connect_with(srv, &srv.token).await
}

async fn connect_with(srv: &Server, token: &str) -> Connection {
    // libsql 0.10 with `remote` but without `tls` panics in build() unless a
    // connector is given; a plain hyper 0.14 HttpConnector is enough for http://.
    Builder::new_remote(srv.url(), token.to_string())
        .connector(hyper014::client::HttpConnector::new())
        .build()
        .await
        .unwrap()
        .connect()
        .unwrap()
}

async fn count(conn: &Connection, sql: &str) -> i64 {
    let mut rows = conn.query(sql, ()).await.unwrap();
    let row = rows.next().await.unwrap().unwrap();
    row.get::<i64>(0).unwrap()
}

async fn local_count(db: &Path, sql: &str) -> i64 {
    let db = Builder::new_local(db).build().await.unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn.query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
}

/// One raw pipeline request; the HTTP status and the parsed answer.
fn pipeline(srv: &Server, body: serde_json::Value) -> (u16, serde_json::Value) {
    let (status, text) = srv.http("POST", "/v3/pipeline", &body.to_string());
    let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, v)
}

on_both!(values_round_trip);
async fn values_round_trip(srv: &Server) {
    let conn = connect(srv).await;
    conn.execute(
        "CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, f REAL, t TEXT, b BLOB, n)",
        (),
    )
    .await
    .unwrap();
    let blob: Vec<u8> = (0..=255u8).collect();
    let cases: Vec<(i64, f64, &str)> = vec![
        (i64::MAX, 1.5, "héllo ✓ \"quoted\" \n newline"),
        (i64::MIN, -0.000123, ""),
        (0, f64::MAX, "x"),
    ];
    for (i, f, t) in &cases {
        let n = conn
            .execute(
                "INSERT INTO v (i, f, t, b, n) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![*i, *f, *t, blob.clone(), Value::Null],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    assert_eq!(conn.last_insert_rowid(), 3);
    // named parameters, with and without prefix
    conn.execute(
        "INSERT INTO v (i, t) VALUES (:i, @t)",
        named_params! {":i": 42, "@t": "named"},
    )
    .await
    .unwrap();
    let mut rows = conn
        .query("SELECT i, f, t, b, n FROM v ORDER BY id", ())
        .await
        .unwrap();
    for (i, f, t) in &cases {
        let row = rows.next().await.unwrap().unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), *i);
        assert_eq!(row.get::<f64>(1).unwrap(), *f);
        assert_eq!(row.get::<String>(2).unwrap(), *t);
        assert_eq!(row.get::<Vec<u8>>(3).unwrap(), blob);
        assert_eq!(row.get_value(4).unwrap(), Value::Null);
    }
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), 42);
    assert_eq!(row.get::<String>(2).unwrap(), "named");
    assert!(rows.next().await.unwrap().is_none());
    // column names come through the cursor
    let rows = conn.query("SELECT i AS alias FROM v", ()).await.unwrap();
    assert_eq!(rows.column_name(0), Some("alias"));
    // an SQL error with its code
    let err = conn
        .execute("INSERT INTO v (id) VALUES (1)", ())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("SQLITE_CONSTRAINT"), "{err}");
    let err = conn.execute("SELEC 1", ()).await.unwrap_err().to_string();
    assert!(err.contains("syntax error"), "{err}");
}

on_both!(a_failing_statement_stops_the_batch);
async fn a_failing_statement_stops_the_batch(srv: &Server) {
    let conn = connect(srv).await;
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", ())
        .await
        .unwrap();
    let mut sql = String::new();
    for i in 0..300 {
        sql.push_str(&format!("INSERT INTO t (id, v) VALUES ({i}, 'v{i}');\n"));
    }
    conn.execute_batch(&sql).await.unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 300);
    // a failing statement stops the later ones; earlier ones stay (autocommit)
    let err = conn
        .execute_batch(
            "INSERT INTO t (id) VALUES (1000); INSERT INTO t (id) VALUES (0); INSERT INTO t (id) VALUES (1001);",
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("UNIQUE"), "{err}");
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id = 1000").await,
        1
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id = 1001").await,
        0
    );
}

on_both!(transactions_commit_rollback_and_failures);
async fn transactions_commit_rollback_and_failures(srv: &Server) {
    let conn = connect(srv).await;
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", ())
        .await
        .unwrap();

    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    tx.execute("INSERT INTO t VALUES (2)", ()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 2);

    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (3)", ()).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 2);

    // a failing statement inside a transaction, then rollback: nothing stays
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (10)", ()).await.unwrap();
    assert!(tx.execute("INSERT INTO t VALUES (1)", ()).await.is_err());
    tx.rollback().await.unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id = 10").await,
        0
    );

    // explicit BEGIN … COMMIT in one execute_batch
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (20); INSERT INTO t VALUES (21); COMMIT;")
        .await
        .unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id >= 20").await,
        2
    );
    // … and with a failure in the middle: the stream is closed, so it rolls back
    let err = conn
        .execute_batch("BEGIN; INSERT INTO t VALUES (30); INSERT INTO t VALUES (1); COMMIT;")
        .await;
    assert!(err.is_err());
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id = 30").await,
        0
    );

    // execute_transactional_batch with a failure leaves nothing
    let err = conn
        .execute_transactional_batch("INSERT INTO t VALUES (40); INSERT INTO t VALUES (1);")
        .await;
    assert!(err.is_err());
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id = 40").await,
        0
    );
    conn.execute_transactional_batch("INSERT INTO t VALUES (41); INSERT INTO t VALUES (42);")
        .await
        .unwrap();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM t WHERE id > 40").await,
        2
    );
}

on_both!(a_wrong_token_is_refused_with_401);
async fn a_wrong_token_is_refused_with_401(srv: &Server) {
    let good = connect(srv).await;
    good.execute("CREATE TABLE t (v TEXT)", ()).await.unwrap();
    let bad = connect_with(srv, "wrong").await;
    let err = bad.execute("SELECT 1", ()).await.unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");
    let none = connect_with(srv, "").await;
    assert!(none.execute("SELECT 1", ()).await.is_err());
}

on_both!(answers_over_ten_megabytes_are_refused_but_cursors_are_not);
/// An execute's answer is capped at 10 MB (sqld `--max-response-size`,
/// default "10MB"), refused with RESPONSE_TOO_LARGE; a cursor's is not.
async fn answers_over_ten_megabytes_are_refused_but_cursors_are_not(srv: &Server) {
    // Twelve rows of a million bytes each: 12 MB by sqld's own estimate.
    let big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 12) \
               SELECT x, zeroblob(1000000) FROM c";
    let (status, v) = pipeline(
        srv,
        serde_json::json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": big}},
            {"type": "execute", "stmt": {"sql": "SELECT 1"}},
            {"type": "close"}]}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"][0]["type"], "error", "{v}");
    assert_eq!(
        v["results"][0]["error"]["code"], "RESPONSE_TOO_LARGE",
        "{v}"
    );
    // The stream goes on: the next request of the pipeline is answered.
    assert_eq!(v["results"][1]["type"], "ok", "{v}");
    // Just under the cap is answered.
    let (_, v) = pipeline(
        srv,
        serde_json::json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": big.replace("x < 12", "x < 9")}},
            {"type": "close"}]}),
    );
    assert_eq!(v["results"][0]["type"], "ok");

    // The same rows through a cursor (what libsql's query() uses) arrive.
    let conn = connect(srv).await;
    let mut rows = conn.query(big, ()).await.unwrap();
    let mut n = 0;
    while let Some(row) = rows.next().await.unwrap() {
        assert_eq!(row.get::<Vec<u8>>(1).unwrap().len(), 1_000_000);
        n += 1;
    }
    assert_eq!(n, 12);
}

on_both!(no_string_or_blob_is_longer_than_five_million_bytes);
/// sqld's engine makes no string, blob or row longer than 5,000,000 bytes
/// (measured: SQLITE_TOOBIG from 5,000,001 on; no flag changes it), which
/// bounds a page of packed rows; the stream goes on after the refusal.
async fn no_string_or_blob_is_longer_than_five_million_bytes(srv: &Server) {
    let (status, v) = pipeline(
        srv,
        serde_json::json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": "SELECT length(randomblob(5000000))"}},
            {"type": "execute", "stmt": {"sql": "SELECT length(randomblob(5000001))"}},
            {"type": "execute", "stmt": {"sql": "SELECT length(hex(zeroblob(2500001)))"}},
            {"type": "execute", "stmt": {"sql": "SELECT 1"}},
            {"type": "close"}]}),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["results"][0]["type"], "ok", "{v}");
    for refused in [1, 2] {
        assert_eq!(v["results"][refused]["type"], "error", "{v}");
        assert_eq!(
            v["results"][refused]["error"]["code"], "SQLITE_TOOBIG",
            "{v}"
        );
    }
    assert_eq!(v["results"][3]["type"], "ok", "{v}");
}

on_both!(a_killed_server_leaves_the_database_unchanged);
async fn a_killed_server_leaves_the_database_unchanged(srv: &Server) {
    let conn = connect(srv).await;
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", ())
        .await
        .unwrap();
    conn.execute("INSERT INTO t VALUES (1, 'kept')", ())
        .await
        .unwrap();
    let tx = conn.transaction().await.unwrap();
    for i in 2..50 {
        tx.execute("INSERT INTO t VALUES (?, 'lost')", params![i])
            .await
            .unwrap();
    }
    tx.execute("DELETE FROM t WHERE id = 1", ()).await.unwrap();
    srv.kill(); // SIGKILL mid-transaction
    assert!(tx.commit().await.is_err());
    assert_eq!(local_count(&srv.db, "SELECT count(*) FROM t").await, 1);
    assert_eq!(
        local_count(&srv.db, "SELECT count(*) FROM t WHERE v = 'kept'").await,
        1
    );
}

on_both!(a_stream_idle_for_ten_seconds_expires_and_rolls_back);
/// A stream idle for more than 10 s expires, and its transaction with it
/// (libsql-server `src/hrana/http/stream.rs`: `EXPIRATION`): the next
/// request gets STREAM_EXPIRED (HTTP 400) and the writes are gone.
async fn a_stream_idle_for_ten_seconds_expires_and_rolls_back(srv: &Server) {
    let conn = connect(srv).await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    let (_, v) = pipeline(
        srv,
        serde_json::json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": "BEGIN IMMEDIATE"}},
            {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (1)"}}]}),
    );
    let baton = v["baton"].as_str().unwrap().to_owned();
    // Idle for less than the clock: the stream lives on.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (status, v) = pipeline(
        srv,
        serde_json::json!({"baton": baton, "requests": [
            {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (2)"}}]}),
    );
    assert_eq!(status, 200, "{v}");
    let baton = v["baton"].as_str().unwrap().to_owned();
    // Idle for longer: gone, with its transaction.
    tokio::time::sleep(Duration::from_millis(11_500)).await;
    let (status, v) = pipeline(
        srv,
        serde_json::json!({"baton": baton, "requests": [
            {"type": "execute", "stmt": {"sql": "COMMIT"}}]}),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["code"], "STREAM_EXPIRED", "{v}");
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 0);
}

on_both!(a_stream_expires_while_its_cursor_streams);
/// A cursor releases its stream when it starts (libsql-server
/// `src/hrana/http/mod.rs`, `handle_cursor`), so the stream's idle clock
/// runs while the cursor streams: a cursor read for more than 10 s leaves
/// a dead stream behind, even though the stream was never idle from the
/// client's side. This is what broke a remote dump of a big table.
async fn a_stream_expires_while_its_cursor_streams(srv: &Server) {
    let conn = connect(srv).await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    conn.execute("BEGIN", ()).await.unwrap();
    // About 40 MB of answer: more than the socket buffers hold, so the
    // server cannot finish the cursor before the client reads it.
    let mut rows = conn
        .query(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000) \
             SELECT x, zeroblob(1000) FROM c",
            (),
        )
        .await
        .unwrap();
    assert!(rows.next().await.unwrap().is_some());
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(11_000)).await;
    let mut n = 1;
    while rows.next().await.unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 30000);
    eprintln!("cursor read in {:?}", started.elapsed());
    let err = conn
        .execute("INSERT INTO t VALUES (1)", ())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("STREAM_EXPIRED"), "{err}");
}

on_both!(a_write_transaction_older_than_five_seconds_yields_to_another_writer);
/// A write transaction older than 5 s is rolled back as soon as another
/// connection wants to write (libsql-server `src/connection/mod.rs`:
/// `TXN_TIMEOUT`; `connection_manager.rs` steals the lock): the waiter gets
/// it after the holder's 5 s, the holder's next statement gets
/// TRANSACTION_TIMEOUT.
async fn a_write_transaction_older_than_five_seconds_yields_to_another_writer(srv: &Server) {
    let a = connect(srv).await;
    a.execute("CREATE TABLE t (who TEXT)", ()).await.unwrap();
    let tx = a
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .await
        .unwrap();
    let held = Instant::now();
    tx.execute("INSERT INTO t VALUES ('a')", ()).await.unwrap();

    let b = connect(srv).await;
    b.execute("INSERT INTO t VALUES ('b')", ()).await.unwrap();
    let waited = held.elapsed();
    assert!(waited >= Duration::from_millis(4500), "{waited:?}");
    assert!(waited < Duration::from_secs(8), "{waited:?}");

    let err = tx.commit().await.unwrap_err().to_string();
    assert!(err.contains("TRANSACTION_TIMEOUT"), "{err}");
    let mut rows = b.query("SELECT who FROM t", ()).await.unwrap();
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "b");
    assert!(rows.next().await.unwrap().is_none());
}
