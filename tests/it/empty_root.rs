//! The static binary in an empty root: a chroot that holds nothing but
//! `/seedbake` and a writable `/data` — no /etc (no resolv.conf, hosts,
//! certificates, NSS, locale or time zones), no /dev, no /proc, no /tmp.
//! There it resets and verifies a local file, resets and verifies a
//! database on the repository's Hrana test server (started on the host; the
//! chroot shares the host's network), resolves a host name through
//! `SEEDBAKE_DNS` against a tiny DNS responder on 127.0.0.1, and explains
//! the missing DNS configuration in one line.
//!
//! It builds nothing: `SEEDBAKE_STATIC_BIN` names the binary
//! (`SEEDBAKE_STATIC_BIN=$(scripts/build-static) cargo test --test it empty_root::`).
//! Without it the test says why it did not run and passes, except under CI
//! (`CI` set), where it fails. It needs root for chroot(2).

use crate::common;

use std::io::Write;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::server::TestServer;

const TOKEN: &str = "tok_EmptyRoot_5nQ2";

/// The binary to test, or `None` (with the reason printed) when this run
/// may skip it.
fn static_binary() -> Option<PathBuf> {
    let under_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let skip = |why: &str| {
        assert!(
            !under_ci,
            "empty_root: {why}; under CI this test must run (.ci/run builds the binary with scripts/build-static)"
        );
        // Straight to the file descriptor: the harness captures eprintln!.
        let _ = writeln!(std::io::stderr(), "empty_root: NOT RUN: {why}");
        None
    };
    let Some(bin) = std::env::var_os("SEEDBAKE_STATIC_BIN").filter(|v| !v.is_empty()) else {
        return skip(
            "SEEDBAKE_STATIC_BIN is not set; run SEEDBAKE_STATIC_BIN=$(scripts/build-static) cargo test --test it empty_root::",
        );
    };
    let bin = PathBuf::from(bin);
    assert!(
        bin.is_file(),
        "SEEDBAKE_STATIC_BIN={} is not a file",
        bin.display()
    );
    let uid = Command::new("id").arg("-u").output().expect("run id -u");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return skip("chroot needs root, and this test does not run as root");
    }
    Some(bin)
}

/// Whether an ELF executable asks for a program interpreter (the dynamic
/// loader): a static binary has no PT_INTERP program header.
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF file");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let o = phoff + i * size;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == 3 // PT_INTERP
    })
}

/// coreutils' chroot: on PATH, or in /usr/sbin, which a root shell's PATH
/// may lack.
fn chroot_command() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("chroot"))
        .find(|p| p.is_file())
        .expect("chroot (coreutils) is not installed")
}

/// An empty root: the binary as /seedbake and an empty /data, nothing else.
struct EmptyRoot {
    dir: tempfile::TempDir,
}

impl EmptyRoot {
    fn new(bin: &Path) -> EmptyRoot {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(bin, dir.path().join("seedbake")).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let mut entries: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        entries.sort();
        assert_eq!(entries, ["data", "seedbake"]);
        EmptyRoot { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `/seedbake args…` chrooted here, with only `env` in its
    /// environment (no PATH, HOME, LANG or TZ either).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(chroot_command());
        cmd.arg(self.path())
            .arg("/seedbake")
            .args(args)
            .env_clear()
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run chroot")
    }
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
}

/// A DNS responder on 127.0.0.1 for the test: every A question gets
/// 127.0.0.1, every other question an empty answer. Serves until dropped.
struct TinyDns {
    port: u16,
    questions: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TinyDns {
    fn start() -> TinyDns {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let questions = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (questions, stop) = (questions.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if let Some(answer) = Self::answer(&buf[..n]) {
                        questions.fetch_add(1, Ordering::Relaxed);
                        let _ = socket.send_to(&answer, from);
                    }
                }
            })
        };
        TinyDns {
            port,
            questions,
            stop,
            thread: Some(thread),
        }
    }

    /// The response to one query: header, the question echoed, and for
    /// type A one answer pointing back at the question's name.
    fn answer(query: &[u8]) -> Option<Vec<u8>> {
        if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
            return None;
        }
        // The question: labels up to the root, then type and class.
        let mut end = 12;
        while *query.get(end)? != 0 {
            end += 1 + query[end] as usize;
        }
        let qtype = u16::from_be_bytes([*query.get(end + 1)?, *query.get(end + 2)?]);
        let question = query.get(12..end + 5)?;
        let is_a = qtype == 1;
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&query[..2]); // id
        out.extend_from_slice(&[0x81, 0x80]); // response, recursion desired + available, NOERROR
        out.extend_from_slice(&[0, 1, 0, u8::from(is_a), 0, 0, 0, 0]);
        out.extend_from_slice(question);
        if is_a {
            out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
        }
        Some(out)
    }
}

impl Drop for TinyDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn the_static_binary_seeds_from_an_empty_root() {
    let Some(bin) = static_binary() else {
        return;
    };
    let elf = std::fs::read(&bin).unwrap();
    assert!(
        !has_interpreter(&elf),
        "{} asks for a dynamic loader: build it with scripts/build-static",
        bin.display()
    );
    let root = EmptyRoot::new(&bin);

    // Nothing but the binary: it describes itself.
    let o = root.run(&["info"], &[]);
    assert_exit(&o, 0);

    // No app code here, so no app static folder: the reset does its work
    // on the database and says the pictures were left out.
    let local = ["--database-url", "sqlite:////data/aquarius.db"];
    let o = root.run(&[&["reset"][..], &local].concat(), &[]);
    assert_exit(&o, 0);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the images were not written"),
        "{}",
        text(&o)
    );
    assert!(root.path().join("data/aquarius.db").exists());
    assert!(!root.path().join("static").exists(), "no folder made");

    // A local file, the images into a folder named on the command line.
    let images = ["--static-dir", "/data/static"];
    let o = root.run(&[&["reset"][..], &local, &images].concat(), &[]);
    assert_exit(&o, 0);
    let o = root.run(&[&["verify"][..], &local, &images].concat(), &[]);
    assert_exit(&o, 0);
    let picture = root
        .path()
        .join("data/static/figuren/images/f01-balletbein.png");
    assert_eq!(
        std::fs::read(picture).unwrap(),
        seedbake::SEED
            .image("figuren/images/f01-balletbein.png")
            .unwrap()
            .bytes
    );
    let db = root.path().join("data/aquarius.db");
    let rt = common::rt();
    let kinder = rt.block_on(common::query_i64(&db, "SELECT count(*) FROM kind"));
    assert_eq!(kinder, 50);

    // Production as on a fly.io machine: --yes without a terminal, an
    // automatic backup to ./exports (the working directory is /), a random
    // admin password (the kernel's getrandom, no /dev/urandom), a restore.
    let fly = [("FLY_APP_NAME", "aquarius")];
    let o = root.run(
        &[&["reset", "--yes", "--no-images"][..], &local].concat(),
        &fly,
    );
    assert_exit(&o, 0);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("PRODUCTION"), "{}", text(&o));
    assert!(stderr.contains("no usable password"), "{}", text(&o));
    let backups: Vec<String> = std::fs::read_dir(root.path().join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(
        backups[0].starts_with("aquarius.db-") && backups[0].ends_with("Z.sql"),
        "{backups:?}"
    );
    let backup = format!("exports/{}", backups[0]);
    assert!(
        stderr.contains(&format!("backup written to {backup}")),
        "{}",
        text(&o)
    );
    let o = root.run(
        &[&["restore", &backup, "--yes", "--no-backup"][..], &local].concat(),
        &fly,
    );
    assert_exit(&o, 0);
    let o = root.run(&[&["verify"][..], &local].concat(), &[]);
    assert_exit(&o, 0);
    std::fs::remove_dir_all(root.path().join("exports")).unwrap();

    // A server, reached by IP address: no lookup.
    let server_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&server_dir.path().join("server.db"), TOKEN, &[]);
    let remote_env = [("TURSO_AUTH_TOKEN", TOKEN), ("SEEDBAKE_ENV", "development")];
    let url = server.url();
    let o = root.run(
        &["reset", "--no-images", "--database-url", &url],
        &remote_env,
    );
    assert_exit(&o, 0);
    let o = root.run(&["verify", "--database-url", &url], &remote_env);
    assert_exit(&o, 0);
    // The same server as `localhost`, which needs no /etc/hosts either.
    let by_name = format!("http://localhost:{}", server.port);
    let o = root.run(&["verify", "--database-url", &by_name], &remote_env);
    assert_exit(&o, 0);

    // A host name: a real DNS lookup through SEEDBAKE_DNS (there is no
    // /etc/resolv.conf), answered by the responder on 127.0.0.1.
    let dns = TinyDns::start();
    let dns_server = format!("127.0.0.1:{}", dns.port);
    let by_dns = format!("http://aquarius-db.test:{}", server.port);
    let with_dns = [&remote_env[..], &[("SEEDBAKE_DNS", dns_server.as_str())]].concat();
    let o = root.run(
        &["reset", "--no-images", "--database-url", &by_dns],
        &with_dns,
    );
    assert_exit(&o, 0);
    let o = root.run(&["verify", "--database-url", &by_dns], &with_dns);
    assert_exit(&o, 0);
    assert!(
        dns.questions.load(Ordering::Relaxed) >= 2,
        "the responder was asked nothing"
    );

    // No name server at all: one clear line, exit 3, nothing sent.
    let requests = server.requests();
    let o = root.run(
        &["reset", "--no-images", "--database-url", &by_dns],
        &remote_env,
    );
    assert_exit(&o, 3);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", text(&o));
    for needle in [
        "no DNS server configured",
        "/etc/resolv.conf is missing",
        "SEEDBAKE_DNS=<name server IP>",
        "IP address in the URL",
    ] {
        assert!(
            lines[0].contains(needle),
            "{needle:?} missing: {}",
            text(&o)
        );
    }
    assert!(!stderr.contains(TOKEN), "the token leaked: {}", text(&o));
    assert_eq!(server.requests(), requests);

    // The root is still empty but for the binary and the data folder.
    let mut entries: Vec<String> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["data", "seedbake"]);
}
