//! Starts the repository's Hrana test server (`tests/hrana_server`, built by
//! `cargo test` as the example `hrana-test-server`) as a real process on
//! 127.0.0.1, and talks to its control endpoints.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct TestServer {
    child: Child,
    pub port: u16,
    /// The address it listens on, as a URL writes it (`127.0.0.1:port`,
    /// `[::1]:port`).
    pub addr: String,
    pub db: PathBuf,
    pub token: String,
}

fn server_binary() -> PathBuf {
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

impl TestServer {
    /// Serves `db` with a token and the given extra flags.
    pub fn start(db: &Path, token: &str, extra: &[&str]) -> TestServer {
        let mut cmd = Command::new(server_binary());
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
        TestServer {
            child,
            port,
            addr,
            db: db.to_owned(),
            token: token.to_owned(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn http(&self, method: &str, path: &str, body: &str) -> String {
        let mut s = TcpStream::connect(self.addr.as_str()).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.token,
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.split_once("\r\n\r\n")
            .map(|x| x.1.to_owned())
            .unwrap_or_default()
    }

    /// Hrana requests served so far.
    pub fn requests(&self) -> u64 {
        let v: serde_json::Value = serde_json::from_str(&self.http("GET", "/_stats", "")).unwrap();
        v["requests"].as_u64().unwrap()
    }

    /// Streams the server holds open (an abandoned one holds its
    /// transaction, and the write lock, until it expires).
    pub fn open_streams(&self) -> u64 {
        let v: serde_json::Value = serde_json::from_str(&self.http("GET", "/_stats", "")).unwrap();
        v["open_streams"].as_u64().unwrap()
    }

    /// Waits until no stream is open: what earlier clients abandoned has
    /// expired (and its transaction rolled back).
    pub fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.open_streams() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "streams stay open on the test server"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Replaces the fault settings, counted from now (`{}` clears them).
    pub fn faults(&self, json: &str) {
        self.http("POST", "/_faults", json);
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}
