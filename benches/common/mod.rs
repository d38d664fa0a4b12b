//! What the benches share: the servers they run against (the repository's
//! Hrana test server and the real libSQL server, sqld, with JWT auth) and
//! the statistic they quote.
#![allow(dead_code)]

#[path = "../../tests/support/mint_token.rs"]
mod token;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process on 127.0.0.1 over a fresh database, stopped on drop.
pub struct Server {
    child: Child,
    /// `127.0.0.1:port`.
    pub addr: String,
    pub url: String,
    pub token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The sqld binary: `SEEDBAKE_TEST_SQLD`, or what
/// `../shared/tools/sqld/unpack` unpacks when that script is there;
/// `None` (said on stderr, naming what to set) otherwise.
pub fn sqld_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("SEEDBAKE_TEST_SQLD").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let unpack = repo_path("../shared/tools/sqld/unpack");
    let unpacked = Command::new(&unpack)
        .stderr(Stdio::inherit())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_file());
    if unpacked.is_none() {
        eprintln!(
            "SKIPPED sqld: SEEDBAKE_TEST_SQLD is not set and {} did not unpack it \
             (set SEEDBAKE_TEST_SQLD to the path `../shared/tools/sqld/unpack` prints)",
            unpack.display()
        );
    }
    unpacked
}

/// The key pair and a token for sqld (the tests' own code).
pub fn mint_token() -> (PathBuf, String) {
    token::mint_token("bench")
}

/// The repository's test server (`hrana-test-server`) over a fresh file.
pub fn test_server(bin: &Path) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .arg("--db")
        .arg(dir.path().join("server.db"))
        .args(["--token", "bench", "--max-request-bytes", "67108864"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().trim_start_matches("listening on ").to_owned();
    Server {
        child,
        url: format!("http://{addr}"),
        addr,
        token: "bench".into(),
        _dir: dir,
    }
}

/// sqld over a fresh database, JWT auth on, as
/// `../shared/tools/sqld/README.md` starts it; ready when `/health` answers.
pub fn sqld(bin: &Path, auth: &(PathBuf, String)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    // Another process may take the free port between our look and sqld's
    // bind; then sqld exits and we try another.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(bin)
            .arg("-d")
            .arg(dir.path().join("data"))
            .args(["--http-listen-addr", &format!("127.0.0.1:{port}")])
            .arg("--auth-jwt-key-file")
            .arg(&auth.0)
            .arg("--no-welcome")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) && child.try_wait().unwrap().is_none() {
            if healthy(port) {
                let addr = format!("127.0.0.1:{port}");
                return Server {
                    child,
                    url: format!("http://{addr}"),
                    addr,
                    token: auth.1.clone(),
                    _dir: dir,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("sqld did not start");
}

fn healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        s,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

/// The middle value (the upper middle of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
