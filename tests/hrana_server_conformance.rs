//! The Hrana test server itself, driven by the real `libsql` remote client:
//! what it must do to stand in faithfully for sqld (values, batches,
//! transactions, batons, clocks, limits, faults).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use libsql::{Builder, Connection, TransactionBehavior, Value, named_params, params};

static NEXT: AtomicU32 = AtomicU32::new(0);

fn server_binary() -> PathBuf {
    // Built by `cargo test` as an example, next to the binaries.
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_seedbake"));
    bin.parent()
        .unwrap()
        .join("examples")
        .join("hrana-test-server")
}

struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
    db: PathBuf,
    token: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "hrana-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("test.db");
        Self::start_on(dir, db, extra)
    }

    fn start_on(dir: PathBuf, db: PathBuf, extra: &[&str]) -> Server {
        let mut child = Command::new(server_binary())
            .arg("--db")
            .arg(&db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        let token = extra
            .iter()
            .position(|a| *a == "--token")
            .map(|i| extra[i + 1].to_string())
            .unwrap_or_default();
        Server {
            child,
            port,
            dir,
            db,
            token,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn connect(&self) -> Connection {
        self.connect_with(&self.token).await
    }

    async fn connect_with(&self, token: &str) -> Connection {
        // libsql 0.10 with `remote` but without `tls` panics in build() unless a
        // connector is given; a plain hyper 0.14 HttpConnector is enough for http://.
        Builder::new_remote(self.url(), token.to_string())
            .connector(hyper014::client::HttpConnector::new())
            .build()
            .await
            .unwrap()
            .connect()
            .unwrap()
    }

    /// Minimal HTTP/1.1 client for the control endpoints.
    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let auth = if self.token.is_empty() {
            String::new()
        } else {
            format!("Authorization: Bearer {}\r\n", self.token)
        };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out[9..12].parse().unwrap();
        let body = out
            .split_once("\r\n\r\n")
            .map(|x| x.1)
            .unwrap_or("")
            .to_string();
        (status, body)
    }

    fn requests(&self) -> u64 {
        let (_, body) = self.http("GET", "/_stats", "");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["requests"].as_u64().unwrap()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn count(conn: &Connection, sql: &str) -> i64 {
    let mut rows = conn.query(sql, ()).await.unwrap();
    let row = rows.next().await.unwrap().unwrap();
    row.get::<i64>(0).unwrap()
}

async fn local_count(db: &PathBuf, sql: &str) -> i64 {
    let db = Builder::new_local(db).build().await.unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn.query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
}

#[tokio::test]
async fn values_round_trip() {
    let srv = Server::start(&[]);
    let conn = srv.connect().await;
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
    // an empty blob and an SQL error with its sqld code
    let err = conn
        .execute("INSERT INTO v (id) VALUES (1)", ())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("SQLITE_CONSTRAINT"), "{err}");
    let err = conn.execute("SELEC 1", ()).await.unwrap_err().to_string();
    assert!(err.contains("syntax error"), "{err}");
}

#[tokio::test]
async fn execute_batch_and_request_costs() {
    let srv = Server::start(&[]);
    let conn = srv.connect().await;
    let r0 = srv.requests();
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", ())
        .await
        .unwrap();
    let r1 = srv.requests();
    assert_eq!(r1 - r0, 1, "execute costs one request");

    let mut sql = String::new();
    for i in 0..300 {
        sql.push_str(&format!("INSERT INTO t (id, v) VALUES ({i}, 'v{i}');\n"));
    }
    conn.execute_batch(&sql).await.unwrap();
    let r2 = srv.requests();
    assert_eq!(r2 - r1, 1, "execute_batch costs one request");
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 300);
    let r3 = srv.requests();
    assert_eq!(r3 - r2, 2, "query costs describe + cursor");

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

    // transaction(): BEGIN, each statement and COMMIT are one request each
    let r4 = srv.requests();
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t (id) VALUES (2000)", ())
        .await
        .unwrap();
    tx.execute("INSERT INTO t (id) VALUES (2001)", ())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r5 = srv.requests();
    assert_eq!(r5 - r4, 4, "begin + 2 statements + commit");
    eprintln!(
        "request costs: execute=1 execute_batch=1 query=2 transaction(2 stmts)+commit={}",
        r5 - r4
    );
}

#[tokio::test]
async fn transactions_commit_rollback_and_failures() {
    let srv = Server::start(&[]);
    let conn = srv.connect().await;
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

#[tokio::test]
async fn auth_and_request_size() {
    let srv = Server::start(&["--token", "s3cret", "--max-request-bytes", "2000"]);
    let good = srv.connect().await;
    good.execute("CREATE TABLE t (v TEXT)", ()).await.unwrap();

    let bad = srv.connect_with("wrong").await;
    let err = bad.execute("SELECT 1", ()).await.unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");
    let none = srv.connect_with("").await;
    assert!(none.execute("SELECT 1", ()).await.is_err());

    let big = "x".repeat(5000);
    let err = good
        .execute("INSERT INTO t VALUES (?)", params![big])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("413"), "{err}");
    assert_eq!(count(&good, "SELECT count(*) FROM t").await, 0);
}

#[tokio::test]
async fn response_too_large() {
    let srv = Server::start(&["--max-response-bytes", "5000"]);
    let conn = srv.connect().await;
    conn.execute("CREATE TABLE t (v TEXT)", ()).await.unwrap();
    conn.execute("INSERT INTO t VALUES (?)", params!["y".repeat(8000)])
        .await
        .unwrap();
    // execute_batch sends want_rows=false, so no rows and no size error there
    conn.execute_batch("SELECT v FROM t").await.unwrap();
    let err = match conn.query("SELECT v FROM t", ()).await {
        Err(e) => e.to_string(),
        Ok(mut rows) => rows.next().await.unwrap_err().to_string(),
    };
    assert!(err.contains("Response is too large"), "{err}");
    // a small result still works on the same connection
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 1);
}

#[tokio::test]
async fn killed_server_leaves_database_unchanged() {
    let mut srv = Server::start(&[]);
    let conn = srv.connect().await;
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

#[tokio::test]
async fn expired_stream_rolls_back() {
    let srv = Server::start(&["--stream-expiry-ms", "300"]);
    let conn = srv.connect().await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    let tx = conn.transaction().await.unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let err = tx.commit().await.unwrap_err().to_string();
    assert!(
        err.contains("STREAM_EXPIRED") || err.contains("expired"),
        "{err}"
    );
    let fresh = srv.connect().await;
    assert_eq!(count(&fresh, "SELECT count(*) FROM t").await, 0);
}

#[tokio::test]
async fn txn_timeout_rolls_back_holder_when_other_writer_waits() {
    let srv = Server::start(&["--txn-timeout-ms", "400"]);
    let a = srv.connect().await;
    a.execute("CREATE TABLE t (who TEXT)", ()).await.unwrap();
    let tx = a
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .await
        .unwrap();
    tx.execute("INSERT INTO t VALUES ('a')", ()).await.unwrap();

    let b = srv.connect().await;
    let started = std::time::Instant::now();
    b.execute("INSERT INTO t VALUES ('b')", ()).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");

    let err = tx.commit().await.unwrap_err().to_string();
    assert!(
        err.contains("TRANSACTION_TIMEOUT") || err.contains("timed out"),
        "{err}"
    );
    let mut rows = b.query("SELECT who FROM t", ()).await.unwrap();
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "b");
    assert!(rows.next().await.unwrap().is_none());
}

#[tokio::test]
async fn stats_and_faults() {
    let srv = Server::start(&[]);
    let conn = srv.connect().await;
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
    srv.http("POST", "/_faults", r#"{"cut_after_requests":0}"#);
    assert!(conn.execute("INSERT INTO t VALUES (3)", ()).await.is_err());
    srv.http("POST", "/_faults", r#"{"cut_after_bytes":10}"#);
    assert!(conn.execute("INSERT INTO t VALUES (4)", ()).await.is_err());
    srv.http("POST", "/_faults", "{}");

    // stalled responses
    srv.http(
        "POST",
        "/_faults",
        r#"{"stall_after_requests":0,"stall_ms":300}"#,
    );
    let t = std::time::Instant::now();
    conn.execute("INSERT INTO t VALUES (5)", ()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    srv.http("POST", "/_faults", "{}");
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 2);
    assert_eq!(srv.http("POST", "/_faults", r#"{"bogus":1}"#).0, 400);
}

#[tokio::test]
async fn flags_for_faults_and_raw_protocol() {
    let srv = Server::start(&["--fail-after-requests", "2"]);
    let conn = srv.connect().await;
    conn.execute("SELECT 1", ()).await.unwrap();
    conn.execute("SELECT 1", ()).await.unwrap();
    assert!(conn.execute("SELECT 1", ()).await.is_err());

    // raw protocol: invalid baton, version probe
    let srv = Server::start(&[]);
    assert_eq!(srv.http("GET", "/v3", "").0, 200);
    let (code, body) = srv.http("POST", "/v3/pipeline", r#"{"baton":"nope","requests":[]}"#);
    assert_eq!((code, body.as_str()), (400, "Received an invalid baton"));
}

/// libsql 0.10 keeps the stream of `query()` open (describe + cursor do not close
/// it); once the server expires it, the client's next requests carry the dead baton.
#[tokio::test]
async fn idle_connection_after_query_hits_expired_stream() {
    let srv = Server::start(&["--stream-expiry-ms", "200"]);
    let conn = srv.connect().await;
    conn.execute("CREATE TABLE t (id INTEGER)", ())
        .await
        .unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM t").await, 0);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let first = conn.execute("INSERT INTO t VALUES (1)", ()).await;
    let second = conn.execute("INSERT INTO t VALUES (2)", ()).await;
    eprintln!("after expiry: first={first:?} second={second:?}");
    let err = first.unwrap_err().to_string();
    assert!(err.contains("STREAM_EXPIRED"), "{err}");
    assert!(second.is_err(), "the client keeps the dead baton");
}
