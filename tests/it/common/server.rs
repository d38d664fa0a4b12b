//! Hrana servers as real processes on 127.0.0.1, for the tests: the
//! repository's test server (`tests/hrana_server`, built by `cargo test` as
//! the example `hrana-test-server`), which can be made to fail on demand
//! (HTTP 500s, stalls, cut connections, short clocks), and the real libSQL
//! server, sqld, with JWT auth, when `SEEDBAKE_TEST_SQLD` names its binary
//! (`../shared/tools/sqld/unpack` prints one; `.ci/run` sets it).

#[path = "../../support/mint_token.rs"]
mod mint_token;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Which server a test talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The repository's Hrana test server.
    Test,
    /// The real libSQL server.
    Sqld,
}

pub struct Server {
    pub kind: Kind,
    child: std::sync::Mutex<Child>,
    pub port: u16,
    /// The address it listens on, as a URL writes it (`127.0.0.1:port`,
    /// `[::1]:port`).
    pub addr: String,
    /// The database file the server serves (sqld: `<data>/dbs/default/data`);
    /// readable by a local libSQL connection while the server runs.
    pub db: PathBuf,
    /// What a client must send as its bearer token.
    pub token: String,
    /// sqld's data folder, removed with the server.
    _data: Option<tempfile::TempDir>,
}

/// The name the existing tests know the test server by.
pub type TestServer = Server;

fn test_server_binary() -> PathBuf {
    // Examples sit next to the binaries: target/<profile>/examples/.
    let bin = Path::new(env!("CARGO_BIN_EXE_seedbake"));
    let path = bin
        .parent()
        .unwrap()
        .join("examples")
        .join("hrana-test-server");
    assert!(
        path.is_file(),
        "{} is missing: `cargo test` builds it (or run `cargo build --examples`)",
        path.display()
    );
    path
}

/// The sqld binary the real-server tests use, or `None` (said on stderr)
/// when `SEEDBAKE_TEST_SQLD` is unset; under CI (`CI` set) that is a
/// failure instead, so a CI run cannot pass without the real server.
pub fn sqld_binary(test: &str) -> Option<PathBuf> {
    match std::env::var_os("SEEDBAKE_TEST_SQLD") {
        Some(bin) if !bin.is_empty() => {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "SEEDBAKE_TEST_SQLD={} is not a file (unpack sqld with ../shared/tools/sqld/unpack)",
                bin.display()
            );
            Some(bin)
        }
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "{test}: SEEDBAKE_TEST_SQLD is not set, and under CI the real-server tests must run \
             (.ci/run unpacks sqld and sets it)"
        ),
        _ => {
            // Straight to the process's stderr: the test harness captures
            // eprintln!, and a skip must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test} against the real libSQL server: SEEDBAKE_TEST_SQLD is not set \
                 (set it to the path `../shared/tools/sqld/unpack` prints to run it)"
            );
            None
        }
    }
}

/// The key pair sqld checks tokens against and a token it accepts, made
/// once per test process with `mint-token` (openssl and python3).
fn sqld_auth() -> &'static (PathBuf, String) {
    static AUTH: OnceLock<(PathBuf, String)> = OnceLock::new();
    AUTH.get_or_init(|| mint_token::mint_token("sqld"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// The test server over `db`, with a token (empty: none) and extra flags
    /// (clocks, limits, faults: see `hrana-test-server --help`).
    pub fn start(db: &Path, token: &str, extra: &[&str]) -> Server {
        let mut cmd = Command::new(test_server_binary());
        cmd.arg("--db")
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if !token.is_empty() {
            cmd.args(["--token", token]);
        }
        let mut child = cmd.spawn().expect("start the test server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        Server {
            kind: Kind::Test,
            child: std::sync::Mutex::new(child),
            port,
            addr,
            db: db.to_owned(),
            token: token.to_owned(),
            _data: None,
        }
    }

    /// The test server over a fresh database of its own.
    pub fn start_fresh(token: &str, extra: &[&str]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut server = Server::start(&data.path().join("test.db"), token, extra);
        server._data = Some(data);
        server
    }

    /// sqld over a fresh, empty database, JWT auth on; `None` (said on
    /// stderr) when `SEEDBAKE_TEST_SQLD` is unset outside CI.
    pub fn sqld(test: &str) -> Option<Server> {
        let bin = sqld_binary(test)?;
        Some(Server::start_sqld(&bin))
    }

    fn start_sqld(bin: &Path) -> Server {
        let (public_key, token) = sqld_auth();
        let data = tempfile::tempdir().unwrap();
        // Another process may take the free port between our look and sqld's
        // bind; then sqld exits and we try again on another.
        for _ in 0..5 {
            let port = free_port();
            let log = std::fs::File::create(data.path().join("sqld.log")).unwrap();
            let mut child = Command::new(bin)
                .arg("-d")
                .arg(data.path().join("data"))
                .arg("--http-listen-addr")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--auth-jwt-key-file")
                .arg(public_key)
                .arg("--no-welcome")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if health(port) {
                    return Server {
                        kind: Kind::Sqld,
                        child: std::sync::Mutex::new(child),
                        port,
                        addr: format!("127.0.0.1:{port}"),
                        db: data.path().join("data/dbs/default/data"),
                        token: token.clone(),
                        _data: Some(data),
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "sqld did not come up; its log: {}",
            std::fs::read_to_string(data.path().join("sqld.log")).unwrap_or_default()
        );
    }

    /// A token this sqld accepts that may only read: the JWT claim
    /// `"a": "ro"` (libsql-server `auth/permission.rs`), signed with the
    /// key `mint-token` made, as it signs its own.
    pub fn read_only_token(&self) -> String {
        assert_eq!(
            self.kind,
            Kind::Sqld,
            "only sqld knows tokens by their claims"
        );
        let key = sqld_auth().0.with_file_name("jwt.key");
        let out = Command::new("python3")
            .arg("-c")
            .arg(
                "import base64, json, subprocess, sys, tempfile, time\n\
                 b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()\n\
                 head = b64(json.dumps({'alg': 'EdDSA', 'typ': 'JWT'}).encode())\n\
                 claims = b64(json.dumps({'a': 'ro', 'exp': int(time.time()) + 3600}).encode())\n\
                 msg = head + '.' + claims\n\
                 f = tempfile.NamedTemporaryFile()\n\
                 f.write(msg.encode()); f.flush()\n\
                 sig = subprocess.run(['openssl', 'pkeyutl', '-sign', '-inkey', sys.argv[1], '-rawin', '-in', f.name],\n\
                                      capture_output=True, check=True).stdout\n\
                 print(msg + '.' + b64(sig))\n",
            )
            .arg(&key)
            .output()
            .expect("python3 signs the token");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One raw HTTP request with the token; the status and the body.
    pub fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr.as_str()).unwrap();
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
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let out = String::from_utf8_lossy(&out).into_owned();
        let status = out.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, body)
    }

    /// Runs SQL statements through the server (autocommit), so both kinds
    /// of server see every change; panics on any error.
    pub fn exec(&self, sqls: &[&str]) {
        let requests: Vec<serde_json::Value> = sqls
            .iter()
            .map(|s| serde_json::json!({"type": "execute", "stmt": {"sql": s}}))
            .chain([serde_json::json!({"type": "close"})])
            .collect();
        let body = serde_json::json!({"baton": null, "requests": requests}).to_string();
        let (status, answer) = self.http("POST", "/v3/pipeline", &body);
        assert_eq!(status, 200, "{answer}");
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        for r in v["results"].as_array().unwrap() {
            assert_eq!(r["type"], "ok", "{answer}");
        }
    }

    /// Hrana requests served so far (the test server only).
    pub fn requests(&self) -> u64 {
        assert_eq!(
            self.kind,
            Kind::Test,
            "only the test server counts requests"
        );
        self.stats()["requests"].as_u64().unwrap()
    }

    /// The test server's counters (`GET /_stats`).
    fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&self.http("GET", "/_stats", "").1).unwrap()
    }

    /// Waits until no stream and no connection is open: what earlier
    /// clients abandoned has expired and its transaction is rolled back (a
    /// stream expires before its connection closes when a cursor still
    /// holds it; reading the file in between found it locked).
    pub fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let busy = || {
            let v = self.stats();
            v["open_streams"].as_u64().unwrap() + v["open_connections"].as_u64().unwrap()
        };
        while busy() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "streams stay open on the test server"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Replaces the fault settings, counted from now (`{}` clears them; the
    /// test server only).
    pub fn faults(&self, json: &str) {
        assert_eq!(self.kind, Kind::Test, "only the test server injects faults");
        let (status, body) = self.http("POST", "/_faults", json);
        assert_eq!(
            status, 200,
            "the test server refused the faults {json}: {body}"
        );
    }

    /// Kills the server process (SIGKILL) and waits for it.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn health(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        s,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Defines `mod $check { fn test_server(); fn sqld(); }`: two tests running
/// `$check(&Server)` against the test server (fresh database, token
/// `$token`, default clocks: sqld's) and against sqld (skipped, said on
/// stderr, when `SEEDBAKE_TEST_SQLD` is unset outside CI).
#[allow(unused_macros)]
macro_rules! on_both {
    ($check:ident, $token:expr) => {
        mod $check {
            #[test]
            fn test_server() {
                #[allow(unused_imports)]
                use super::*;
                let srv = crate::common::server::Server::start_fresh($token, &[]);
                super::$check(&srv);
            }
            #[test]
            fn sqld() {
                if let Some(srv) =
                    crate::common::server::Server::sqld(concat!(stringify!($check), "::sqld"))
                {
                    super::$check(&srv);
                }
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both;
