//! Helpers shared by the integration tests: real libSQL files in temporary
//! folders, and a canonical dump of everything in a database.
#![allow(dead_code)]

mod fail;
mod fixture;
pub mod server;

pub use fail::{assert_fails, assert_seed_error};
pub use fixture::{copy_dir, edit_file, fixture, fixture_copy};

use std::path::{Path, PathBuf};
use std::time::Duration;

use seedbake::database::{self, Target};
use seedbake::ops::{self, LoadOptions, Observer, Quiet};
use seedbake::seed::SEED;

/// A runtime for a test's blocking calls into async code.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `n` finite doubles spread over every exponent (a fixed xorshift
/// sequence of bit patterns, the same in every run).
pub fn finite_doubles(n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let f = f64::from_bits(x);
        if f.is_finite() {
            out.push(f);
        }
    }
    out
}

/// A socket that accepts connections and never answers.
pub fn silent_socket() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    url
}

/// The real binary with none of the caller's settings leaking in (the
/// database, the token, the environment markers, the static folder), the
/// images going to [`shared_static_dir`], then `env` applied.
pub fn seedbake_command(env: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_seedbake"));
    for var in [
        "DATABASE_URL",
        "INITIAL_ADMIN_PASSWORD",
        "SEEDBAKE_ENV",
        "FLY_APP_NAME",
        "TURSO_AUTH_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("SEEDBAKE_STATIC_DIR", shared_static_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A static folder the tests' runs of the binary share, holding every image
/// the build embedded: `reset` and `seed` need a folder for the images (the
/// seed's default, `./static`, is not in a test's working directory), and
/// `verify` finds them all in place. Tests about the images give their own.
pub fn shared_static_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared-static");
        let files: Vec<seedbake::static_files::StaticFile> = SEED
            .images
            .iter()
            .map(|i| seedbake::static_files::StaticFile {
                path: i.path,
                bytes: i.bytes,
            })
            .collect();
        seedbake::static_files::write_all(&dir, &files).unwrap();
        dir
    })
}

/// A finished command's stdout and stderr, together, for assertions.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A connection to a local database file, for a test's own reads and edits.
pub async fn connect(path: &Path) -> libsql::Connection {
    libsql::Builder::new_local(path)
        .build()
        .await
        .unwrap()
        .connect()
        .unwrap()
}

/// Runs `cmd` with `input` on its standard input (a password, a script) and
/// its output captured.
pub fn output_with_stdin(cmd: &mut std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub async fn open(path: &Path) -> Box<dyn Target> {
    let settings = database::Settings {
        lock_timeout: Duration::from_millis(200),
        ..database::Settings::default()
    };
    database::open(database::Location::Local(path.to_owned()), settings)
        .await
        .unwrap()
}

pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aquarius.db");
    (dir, path)
}

pub fn full() -> LoadOptions<'static> {
    LoadOptions {
        profile: SEED.default_profile(),
        admin_password: None,
        production: false,
        backup: None,
    }
}

pub async fn reset(path: &Path) -> ops::LoadReport {
    reset_with(path, &full(), &mut Quiet).await.unwrap()
}

pub async fn reset_with(
    path: &Path,
    opts: &LoadOptions<'_>,
    observer: &mut dyn Observer,
) -> seedbake::Result<ops::LoadReport> {
    let target = open(path).await;
    ops::reset(&*target, opts, observer).await
}

/// Every schema object and every row of every table, as text, in a
/// canonical order: two databases with equal dumps hold the same data.
pub async fn dump(path: &Path) -> Vec<String> {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    // The file may be a server's (WAL): its last connection to close
    // checkpoints under an exclusive lock, which a reader must wait out. An
    // open write transaction never blocks a WAL reader, so waiting hides
    // nothing the dump is meant to see.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    let mut out = Vec::new();
    let mut tables = Vec::new();
    let mut rows = conn
        .query(
            "SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name",
            (),
        )
        .await
        .unwrap();
    while let Some(r) = rows.next().await.unwrap() {
        let (kind, name, sql): (String, String, String) =
            (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap());
        if kind == "table" && !name.starts_with("sqlite_") {
            tables.push(name.clone());
        }
        out.push(format!("{kind} {name}: {sql}"));
    }
    for t in tables {
        let mut rows = conn
            .query(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"), ())
            .await
            .unwrap();
        while let Some(r) = rows.next().await.unwrap() {
            let values: Vec<String> = (0..r.column_count())
                .map(|i| format!("{:?}", r.get_value(i).unwrap()))
                .collect();
            out.push(format!("{t}: {}", values.join(" | ")));
        }
    }
    out
}

pub async fn query_i64(path: &Path, sql: &str) -> i64 {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn.query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get(0).unwrap()
}

pub async fn execute(path: &Path, sql: &str) {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    conn.execute_batch(sql).await.unwrap();
}
