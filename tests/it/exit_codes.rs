//! One mapping from what goes wrong to exit code and message, for every
//! command: a matrix of command × failure class, each cell the real binary
//! against real files, the repository's Hrana test server (a real process)
//! or a socket that never answers. Each cell checks the exit code, that a
//! failure is one `error:` line (the last on stderr) without the client's
//! raw wording, and with `--json` that stdout holds exactly one JSON object
//! whose `ok` agrees with the code. The README's exit-code table and
//! `--help` must name every code the matrix meets, and no other.

use crate::common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::server::TestServer;

const TOKEN: &str = "tok_Matrix_9f3Kq2";
const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cmd {
    Reset,
    Seed,
    Verify,
    Dump,
    Restore,
    InitAdmin,
    Info,
}

const ALL: [Cmd; 7] = [
    Cmd::Reset,
    Cmd::Seed,
    Cmd::Verify,
    Cmd::Dump,
    Cmd::Restore,
    Cmd::InitAdmin,
    Cmd::Info,
];

/// Where standard output goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sink {
    Piped,
    /// A pipe whose reading end is already closed.
    Closed,
    DevFull,
}

/// Everything one run needs besides the command.
struct Setup<'a> {
    dir: &'a Path,
    url: String,
    env: Vec<(&'a str, String)>,
    extra: Vec<&'a str>,
    dump_file: &'a Path,
    json: bool,
    sink: Sink,
}

impl Cmd {
    fn args(self, dump_file: &Path) -> Vec<String> {
        let v: Vec<&str> = match self {
            Cmd::Reset => vec!["reset"],
            Cmd::Seed => vec!["seed"],
            Cmd::Verify => vec!["verify"],
            Cmd::Dump => vec!["dump"],
            Cmd::Restore => vec!["restore", "--yes"],
            Cmd::InitAdmin => vec!["init-admin", "--username", "admin", "--password-stdin"],
            Cmd::Info => vec!["info"],
        };
        let mut v: Vec<String> = v.into_iter().map(str::to_owned).collect();
        if self == Cmd::Restore {
            v.insert(1, dump_file.display().to_string());
        }
        v
    }
}

fn run(cmd: Cmd, s: &Setup) -> Output {
    let env: Vec<(&str, &str)> = s.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut c = common::seedbake_command(&env);
    c.current_dir(s.dir)
        .args(cmd.args(s.dump_file))
        .args(["--database-url", &s.url])
        .args(&s.extra)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    if s.json && cmd != Cmd::Dump {
        c.arg("--json");
    }
    match s.sink {
        Sink::Piped => {
            c.stdout(Stdio::piped());
        }
        Sink::Closed => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            c.stdout(writer);
        }
        Sink::DevFull => {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            c.stdout(full);
        }
    }
    let mut child = c.spawn().unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        let _ = writeln!(stdin, "{PASSWORD}");
    }
    child.wait_with_output().unwrap()
}

/// What is wrong with one cell's outcome, if anything.
fn check(cmd: Cmd, expected: i32, o: &Output, s: &Setup) -> Option<String> {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code();
    let mut problems = Vec::new();
    if code != Some(expected) {
        problems.push(format!("exit {code:?}, expected {expected}"));
    }
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    match expected {
        0 => {
            if !errors.is_empty() {
                problems.push("an error line on success".into());
            }
        }
        _ => {
            if errors.len() != 1 {
                problems.push(format!("{} error lines, expected one", errors.len()));
            }
            if stderr
                .lines()
                .last()
                .is_none_or(|l| !l.starts_with("error:"))
            {
                problems.push("the error is not the last line of stderr".into());
            }
        }
    }
    for raw in [
        "panicked",
        "Hrana",
        "http error",
        "api error",
        "json error",
        "status=",
        "Error {",
        "Query {",
        "RUST_BACKTRACE",
        TOKEN,
        PASSWORD,
    ] {
        if stdout.contains(raw) || stderr.contains(raw) {
            problems.push(format!("the output holds {raw:?}"));
        }
    }
    if s.json && s.sink == Sink::Piped && cmd != Cmd::Dump {
        let objects: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
            .into_iter::<serde_json::Value>()
            .filter_map(|v| v.ok())
            .collect();
        let one = objects.len() == 1 && stdout.trim().lines().count() == 1;
        if !one {
            problems.push(format!("{} JSON objects on stdout", objects.len()));
        } else if objects[0]["ok"] != serde_json::Value::Bool(expected == 0) {
            problems.push(format!("JSON ok is {}", objects[0]["ok"]));
        } else if expected != 0 && expected != 1 && !objects[0]["error"].is_string() {
            problems.push("no error in the JSON object".into());
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{cmd:?}: {}\n  stdout: {}\n  stderr: {}",
            problems.join("; "),
            stdout.chars().take(400).collect::<String>(),
            stderr.trim()
        )
    })
}

/// Runs the commands of one class, each with its expected code, and
/// returns what failed.
fn cells(
    class: &str,
    s: &Setup,
    expected: &[(Cmd, i32)],
    mut before: impl FnMut(Cmd),
) -> Vec<String> {
    let mut failed = Vec::new();
    for &(cmd, code) in expected {
        before(cmd);
        let o = run(cmd, s);
        if let Some(problem) = check(cmd, code, &o, s) {
            failed.push(format!("[{class}, json: {}] {problem}", s.json));
        }
    }
    failed
}

#[track_caller]
fn assert_cells(failed: Vec<String>) {
    assert!(failed.is_empty(), "\n{}", failed.join("\n"));
}

fn every(codes: [i32; 7]) -> Vec<(Cmd, i32)> {
    ALL.iter().copied().zip(codes).collect()
}

/// A folder with a seeded local database and a dump of it (for restore).
fn local_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let o = common::seedbake_command(&[])
        .current_dir(dir.path())
        .args(["reset"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::output_text(&o));
    let o = common::seedbake_command(&[])
        .current_dir(dir.path())
        .args(["dump", "--output", "seed.sql"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", common::output_text(&o));
    let dump = dir.path().join("seed.sql");
    (dir, dump)
}

fn local_setup<'a>(dir: &'a Path, dump: &'a Path, url: &str, json: bool) -> Setup<'a> {
    Setup {
        dir,
        url: url.to_owned(),
        env: vec![],
        extra: vec!["--lock-timeout", "0.2"],
        dump_file: dump,
        json,
        sink: Sink::Piped,
    }
}

fn remote_setup<'a>(dir: &'a Path, dump: &'a Path, url: String, json: bool) -> Setup<'a> {
    Setup {
        dir,
        url,
        env: vec![
            ("TURSO_AUTH_TOKEN", TOKEN.to_owned()),
            ("SEEDBAKE_ENV", "development".to_owned()),
        ],
        extra: vec!["--timeout", "1"],
        dump_file: dump,
        json,
        sink: Sink::Piped,
    }
}

/// A server over a database holding the seed.
fn seeded_server(dir: &Path, name: &str) -> TestServer {
    let server = TestServer::start(&dir.join(name), TOKEN, &["--stream-expiry-ms", "300"]);
    let o =
        common::seedbake_command(&[("TURSO_AUTH_TOKEN", TOKEN), ("SEEDBAKE_ENV", "development")])
            .args(["reset", "--no-verify", "--database-url", &server.url()])
            .output()
            .unwrap();
    assert!(o.status.success(), "{}", common::output_text(&o));
    server
}

fn local_classes(json: bool) {
    let (fixture, dump) = local_fixture();
    let mut failed = Vec::new();

    // A URL no command can use: nothing is touched (info uses none).
    let s = local_setup(fixture.path(), &dump, "ftp://x/y.db", json);
    failed.extend(cells("bad URL", &s, &every([2, 2, 2, 2, 2, 2, 0]), |_| {}));

    // A local file that does not exist: the commands that fill a database
    // create it; the others say so, and create nothing.
    for cmd in ALL {
        let dir = tempfile::tempdir().unwrap();
        let s = local_setup(dir.path(), &dump, "sqlite:///./missing.db", json);
        let code = match cmd {
            Cmd::Verify | Cmd::Dump | Cmd::InitAdmin => 3,
            _ => 0,
        };
        failed.extend(cells("missing file", &s, &[(cmd, code)], |_| {}));
        let created = dir.path().join("missing.db").exists();
        if created != (code == 0 && cmd != Cmd::Info) {
            failed.push(format!(
                "[missing file] {cmd:?}: the file exists: {created}"
            ));
        }
    }

    // A file another process holds locked (an exclusive lock stops
    // readers too).
    let locked = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture.path().join("aquarius.db"),
        locked.path().join("aquarius.db"),
    )
    .unwrap();
    let rt = common::rt();
    let db = rt
        .block_on(libsql::Builder::new_local(locked.path().join("aquarius.db")).build())
        .unwrap();
    let holder = db.connect().unwrap();
    rt.block_on(holder.execute("BEGIN EXCLUSIVE", ())).unwrap();
    let s = local_setup(locked.path(), &dump, "sqlite:///./aquarius.db", json);
    failed.extend(cells(
        "locked file",
        &s,
        &every([3, 3, 3, 3, 3, 3, 0]),
        |_| {},
    ));
    rt.block_on(holder.execute("ROLLBACK", ())).unwrap();

    // Standard output closed (a reader that went away): not an error; and
    // standard output full: exit 7, one line. Every command runs to its end.
    for (class, sink, code) in [
        ("closed stdout", Sink::Closed, 0),
        ("/dev/full", Sink::DevFull, 7),
    ] {
        for cmd in ALL {
            let dir = tempfile::tempdir().unwrap();
            std::fs::copy(
                fixture.path().join("aquarius.db"),
                dir.path().join("aquarius.db"),
            )
            .unwrap();
            let mut s = local_setup(dir.path(), &dump, "sqlite:///./aquarius.db", json);
            s.sink = sink;
            // seed needs an empty database.
            if cmd == Cmd::Seed {
                s.url = "sqlite:///./empty.db".into();
            }
            failed.extend(cells(class, &s, &[(cmd, code)], |_| {}));
        }
    }
    assert_cells(failed);
}

fn remote_classes(json: bool) {
    let (fixture, dump) = local_fixture();
    let dir = tempfile::tempdir().unwrap();
    let mut failed = Vec::new();

    // Nothing listens there.
    let s = remote_setup(dir.path(), &dump, "http://127.0.0.1:1".into(), json);
    failed.extend(cells("refused", &s, &every([3, 3, 3, 3, 3, 3, 0]), |_| {}));

    // A socket that takes the connection and never answers.
    let s = remote_setup(dir.path(), &dump, common::silent_socket(), json);
    failed.extend(cells(
        "silent socket",
        &s,
        &every([3, 3, 3, 3, 3, 3, 0]),
        |_| {},
    ));

    // One seeded server per class; before each command, whatever the
    // previous one abandoned has expired, then the class's fault is set.
    let class = |name: &str, faults: &str, expected: &[(Cmd, i32)], token: &str| {
        let server = seeded_server(dir.path(), &format!("{}.db", name.replace(' ', "-")));
        let mut s = remote_setup(dir.path(), &dump, server.url(), json);
        s.env[0].1 = token.to_owned();
        cells(name, &s, expected, |_| {
            server.settle();
            server.faults(faults);
        })
    };
    failed.extend(class(
        "401",
        "{}",
        &every([3, 3, 3, 3, 3, 3, 0]),
        "tok_wrong",
    ));
    // The first request fails: nothing was begun.
    failed.extend(class(
        "HTTP 500",
        r#"{"fail_after_requests": 0}"#,
        &every([3, 3, 3, 3, 3, 3, 0]),
        TOKEN,
    ));
    // A later request fails: writers roll back; readers changed nothing.
    // (restore is left out: how many requests it makes first is its own;
    // seed too: the first answer shows the seeded database is not empty,
    // exit 5, before a later request can fail.)
    let later = [
        (Cmd::Reset, 4),
        (Cmd::Verify, 3),
        (Cmd::Dump, 3),
        (Cmd::InitAdmin, 4),
    ];
    failed.extend(class(
        "HTTP 500 later",
        r#"{"fail_after_requests": 1}"#,
        &later,
        TOKEN,
    ));
    // The server takes longer than --timeout.
    failed.extend(class(
        "stall",
        r#"{"stall_after_requests": 0, "stall_ms": 3000}"#,
        &every([3, 3, 3, 3, 3, 3, 0]),
        TOKEN,
    ));
    // The answer to an early request is lost: writers roll back (the
    // server drops the abandoned transaction); readers changed nothing.
    failed.extend(class(
        "lost answer",
        r#"{"drop_answer_after_requests": 1}"#,
        &later,
        TOKEN,
    ));
    failed.extend(class(
        "lost first answer",
        r#"{"drop_answer_after_requests": 0}"#,
        &[(Cmd::Verify, 3), (Cmd::Dump, 3), (Cmd::Info, 0)],
        TOKEN,
    ));

    // The answer to the last request, the COMMIT, is lost: exit 6 for
    // every writer. How many requests a command makes is measured first,
    // on a server of its own (seed needs an empty database).
    let requests_of = |server: &TestServer, cmd: Cmd| {
        // Measured as it runs: the proof is read inside the transaction,
        // so the COMMIT is the last request either way.
        let measure = remote_setup(dir.path(), &dump, server.url(), false);
        let before = server.requests();
        let o = run(cmd, &measure);
        assert!(o.status.success(), "{cmd:?}: {}", common::output_text(&o));
        server.requests() - before
    };
    for cmd in [Cmd::Reset, Cmd::Seed, Cmd::Restore, Cmd::InitAdmin] {
        let name = format!("{cmd:?}");
        let (measured, server) = if cmd == Cmd::Seed {
            (
                TestServer::start(&dir.path().join(format!("{name}-1.db")), TOKEN, &[]),
                TestServer::start(&dir.path().join(format!("{name}-2.db")), TOKEN, &[]),
            )
        } else {
            (
                seeded_server(dir.path(), &format!("{name}-1.db")),
                seeded_server(dir.path(), &format!("{name}-2.db")),
            )
        };
        let n = requests_of(&measured, cmd);
        let s = remote_setup(dir.path(), &dump, server.url(), json);
        failed.extend(cells("lost commit answer", &s, &[(cmd, 6)], |_| {
            server.faults(&format!(r#"{{"drop_answer_after_requests": {}}}"#, n - 1))
        }));
    }
    drop(fixture);
    assert_cells(failed);
}

#[test]
fn local_failures_exit_with_one_code_per_class() {
    local_classes(false);
}

#[test]
fn local_failures_print_one_json_object() {
    local_classes(true);
}

#[test]
fn remote_failures_exit_with_one_code_per_class() {
    remote_classes(false);
}

#[test]
fn remote_failures_print_one_json_object() {
    remote_classes(true);
}

/// The codes in the README's exit-code table.
fn readme_codes() -> BTreeSet<i32> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = readme
        .split("### Exit codes")
        .nth(1)
        .expect("the README has an exit-code section");
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1)?.trim().parse().ok())
        .collect()
}

#[test]
fn the_readme_and_help_name_every_exit_code_and_no_other() {
    // Every code the matrix (and the other tests) expect.
    let used: BTreeSet<i32> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 143].into();
    assert_eq!(readme_codes(), used);
    let o = common::seedbake_command(&[])
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    let codes = help
        .split("Exit codes:")
        .nth(1)
        .expect("--help lists the exit codes");
    let named: BTreeSet<i32> = codes
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    // "With codes 2 to 5" repeats some; every code is named.
    assert!(used.is_subset(&named), "{named:?}\n{help}");
    assert!(named.is_subset(&used), "{named:?}\n{help}");
}

/// The commands outside the matrix above that print reports (migrate, its
/// dry run, status, images, schema): a closed standard output is not an error, a
/// full one is exit 7 with one line saying so; never a panic.
#[test]
fn reports_outside_the_matrix_survive_a_closed_or_full_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    common::rt().block_on(common::reset(&db));
    let url = db.display().to_string();
    let static_dir = dir.path().join("static");
    let commands: [&[&str]; 6] = [
        &["migrate"],
        &["migrate", "--dry-run"],
        &["status"],
        &["status", "-v"],
        &["images", "--static-dir", static_dir.to_str().unwrap()],
        &["schema", "--format", "svg"],
    ];
    for args in commands {
        for (sink, expected) in [("closed", 0), ("full", 7)] {
            let stdout = if sink == "closed" {
                let (reader, writer) = std::io::pipe().unwrap();
                drop(reader);
                Stdio::from(writer)
            } else {
                Stdio::from(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open("/dev/full")
                        .unwrap(),
                )
            };
            let o = common::seedbake_command(&[])
                .args(args)
                .args(["--database-url", &url])
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(Stdio::piped())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(expected), "{args:?} {sink}: {stderr}");
            assert!(!stderr.contains("panicked"), "{args:?} {sink}: {stderr}");
            if expected == 7 {
                assert!(
                    stderr.contains("cannot write to standard output"),
                    "{args:?} {sink}: {stderr}"
                );
            }
        }
    }
}
