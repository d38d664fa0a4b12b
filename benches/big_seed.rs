//! The 1,000,000-row bench seed: what it costs to build, how fast it seeds
//! locally beside the engine's floor and the sqlite3 shell, and what every
//! remote operation costs beside the server's own floor (one cursor
//! streaming the table), against the Hrana test server and against the real
//! libSQL server (sqld) when there is one (see `common::sqld_binary`), all
//! in one run.
//!
//! Run: `cargo bench --bench big_seed` (takes a few minutes: it builds a
//! second release binary with the generated seed in `<target>/bench-big`).
//! Needs the sqlite3 shell and GNU time (`/usr/bin/time`) for the references
//! and peak-memory figures; sqld's tokens are minted with
//! `../shared/tools/sqld/mint-token` (openssl, python3). Figures go into
//! docs/benchmarks.md.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, median, mint_token, sqld, sqld_binary, test_server};

const ROWS: u64 = 1_000_000;

/// A small deterministic generator, so every run benches the same seed.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SCHEMA: &str = "CREATE TABLE person (
    id INTEGER NOT NULL,
    first_name VARCHAR NOT NULL,
    last_name VARCHAR NOT NULL,
    birth_date DATE NOT NULL,
    code VARCHAR(1) NOT NULL,
    parent_id INTEGER,
    PRIMARY KEY (id),
    FOREIGN KEY(parent_id) REFERENCES person (id)
);
";

fn generate(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let csv = dir.join("person.csv");
    std::fs::write(dir.join("schema.sql"), SCHEMA).unwrap();
    std::fs::write(
        dir.join("seed.toml"),
        "schema = \"schema.sql\"\ndefault_profile = \"full\"\n\n[profiles]\nfull = [\"person\"]\n\n\
         [[table]]\nname = \"person\"\nfile = \"person.csv\"\n",
    )
    .unwrap();
    let first = [
        "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hans", "Ida", "Jonas", "Lea",
        "Mia", "Noah", "Olga", "Paul", "Rosa", "Sami", "Tina", "Umut", "Vera",
    ];
    let last = [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Yilmaz",
        "Rossi",
        "García",
        "Papadopoulos",
        "Haddad",
        "Keller",
        "Huber",
    ];
    let mut rng = XorShift(0x5eed_ba4e);
    let mut out = String::with_capacity(40 * ROWS as usize);
    out.push_str("id,first_name,last_name,birth_date,code,parent_id\n");
    for id in 1..=ROWS {
        let parent = if id < 100 || rng.below(10) < 3 {
            String::new()
        } else {
            (1 + rng.below(id - 1)).to_string()
        };
        out.push_str(&format!(
            "{id},{},{},{}-{:02}-{:02},{},{parent}\n",
            first[rng.below(first.len() as u64) as usize],
            last[rng.below(last.len() as u64) as usize],
            1950 + rng.below(71),
            1 + rng.below(12),
            1 + rng.below(28),
            (b'A' + rng.below(8) as u8) as char,
        ));
    }
    std::fs::write(&csv, out).unwrap();
    csv
}

/// Runs a command under GNU time; returns wall time and peak RSS in MiB.
fn timed(cmd: &mut Command) -> (Duration, Option<f64>) {
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let have_time = Path::new("/usr/bin/time").exists();
    let mut full = if have_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(rss_file.path())
            .arg(cmd.get_program())
            .args(cmd.get_args());
        if let Some(dir) = cmd.get_current_dir() {
            c.current_dir(dir);
        }
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    } else {
        std::mem::replace(cmd, Command::new("true"))
    };
    let started = Instant::now();
    let out = full
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        full,
        String::from_utf8_lossy(&out.stderr)
    );
    let rss = std::fs::read_to_string(rss_file.path())
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<f64>().ok()))
        .map(|kib| kib / 1024.0);
    (elapsed, rss)
}

fn cargo_build(target_dir: &Path, seed_dir: Option<&Path>) -> (Duration, Option<f64>, u64) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "build",
        "--release",
        "--bin",
        "seedbake",
        "--example",
        "hrana-test-server",
        "--target-dir",
    ])
    .arg(target_dir)
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    match seed_dir {
        Some(d) => cmd.env("SEEDBAKE_SEED_DIR", d),
        None => cmd.env_remove("SEEDBAKE_SEED_DIR"),
    };
    let (t, rss) = timed(&mut cmd);
    let size = std::fs::metadata(target_dir.join("release/seedbake"))
        .unwrap()
        .len();
    (t, rss, size)
}

fn fresh_db(dir: &Path, name: &str, schema: bool) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    if schema {
        let status = Command::new("sqlite3")
            .arg(&path)
            .arg(SCHEMA)
            .status()
            .expect("sqlite3 shell");
        assert!(status.success());
    }
    path
}

/// The engine's floor: the same rows' shape generated inside the engine by
/// `INSERT … SELECT`, through the same libSQL build seedbake links, with the
/// same cache setting, in one transaction.
fn libsql_floor(path: &Path) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let conn = db.connect().unwrap();
        conn.query("PRAGMA cache_size = -262144", ()).await.unwrap();
        conn.execute_batch(SCHEMA).await.unwrap();
        let started = Instant::now();
        conn.execute("BEGIN IMMEDIATE", ()).await.unwrap();
        conn.execute(
            &format!(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS}) \
                 INSERT INTO person SELECT x, 'Firstname', 'Lastname', '2000-01-01', 'A', NULL FROM c"
            ),
            (),
        )
        .await
        .unwrap();
        conn.execute("COMMIT", ()).await.unwrap();
        started.elapsed().as_secs_f64() * 1000.0
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Test,
    Sqld,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Test => "Hrana test server",
            Kind::Sqld => "sqld (the real libSQL server)",
        }
    }
}

/// The server's own floor: one `/v3/cursor` request streaming every row of
/// the table, read to its end and thrown away (what `curl` measures).
fn cursor_floor(server: &Server) -> (f64, u64) {
    let body = r#"{"baton":null,"batch":{"steps":[{"stmt":{"sql":"SELECT * FROM person"}}]}}"#;
    let started = Instant::now();
    let mut s = TcpStream::connect(server.addr.as_str()).unwrap();
    write!(
        s,
        "POST /v3/cursor HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        server.token,
        body.len()
    )
    .unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        bytes += n as u64;
    }
    (started.elapsed().as_secs_f64() * 1000.0, bytes)
}

/// The release binary against `server`, timed whole under GNU time.
fn remote(
    bin: &Path,
    server: &Server,
    args: &[&str],
    dir: &Path,
) -> (f64, Option<f64>, serde_json::Value) {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .args(["--json", "--database-url", &server.url])
        .env("TURSO_AUTH_TOKEN", &server.token)
        .env("SEEDBAKE_ENV", "development")
        .current_dir(dir);
    let out_file = dir.join("out.json");
    let mut full = Command::new("sh");
    full.arg("-c")
        .arg("exec \"$@\" > \"$OUT\"")
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env("OUT", &out_file)
        .current_dir(dir);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            full.env(k, v);
        }
    }
    let (t, rss) = timed(&mut full);
    let text = std::fs::read_to_string(&out_file).unwrap();
    let json = serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap_or_default();
    (t.as_secs_f64() * 1000.0, rss, json)
}

#[derive(Default)]
struct RemoteRuns {
    load_unproven: Vec<f64>,
    load_proven: Vec<f64>,
    proof: Vec<f64>,
    verify: Vec<f64>,
    dump: Vec<f64>,
    dump_rss: Vec<f64>,
    floor: Vec<f64>,
    floor_bytes: u64,
    traffic: (u64, u64),
    proof_traffic: (u64, u64),
}

fn phase(report: &serde_json::Value, name: &str) -> f64 {
    report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == name)
        .map_or(0.0, |p| p[1].as_f64().unwrap())
}

fn remote_runs(kind: Kind, bin: &Path, start: &dyn Fn() -> Server, runs: usize) -> RemoteRuns {
    let mut r = RemoteRuns::default();
    let work = tempfile::tempdir().unwrap();
    for i in 0..runs {
        eprintln!("{}: run {}/{runs}", kind.name(), i + 1);
        {
            let server = start();
            let (t, _, report) = remote(bin, &server, &["seed", "--no-verify"], work.path());
            assert_eq!(report["ok"], true, "{report}");
            r.load_unproven.push(t);
            r.traffic = (
                report["traffic"]["requests"].as_u64().unwrap(),
                report["traffic"]["bytes_sent"].as_u64().unwrap(),
            );
        }
        let server = start();
        let (t, _, report) = remote(bin, &server, &["seed"], work.path());
        assert_eq!(report["verified"], true, "{report}");
        r.load_proven.push(t);
        r.proof.push(phase(&report, "fingerprint"));
        r.proof_traffic = (
            report["traffic"]["requests"].as_u64().unwrap(),
            report["traffic"]["bytes_received"].as_u64().unwrap(),
        );
        let (t, _, report) = remote(bin, &server, &["verify"], work.path());
        assert_eq!(report["matches"], true, "{report}");
        r.verify.push(t);
        let out = work.path().join("dump.sql");
        let _ = std::fs::remove_file(&out);
        let (t, rss, report) = remote(
            bin,
            &server,
            &["dump", "--output", out.to_str().unwrap()],
            work.path(),
        );
        assert_eq!(
            report["tables"][0],
            serde_json::json!(["person", ROWS]),
            "{report}"
        );
        r.dump.push(t);
        r.dump_rss.extend(rss);
        let (t, bytes) = cursor_floor(&server);
        r.floor.push(t);
        r.floor_bytes = bytes;
    }
    r
}

fn main() {
    let runs: usize = std::env::var("SEEDBAKE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let root = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let seed_dir = root.join("bench-seed");
    let target_dir = root.join("bench-big");
    let csv = generate(&seed_dir);
    let csv_size = std::fs::metadata(&csv).unwrap().len();
    eprintln!(
        "generated {ROWS} rows ({:.1} MiB CSV); building (the first build compiles all dependencies)…",
        csv_size as f64 / 1048576.0
    );

    // Warm the target dir with the ordinary seed, then switch seeds: each
    // switch reruns build.rs and recompiles only the seedbake crate.
    cargo_build(&target_dir, None);
    let (aq_time, aq_rss, aq_size) = cargo_build(
        &target_dir,
        Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data")),
    );
    let (big_time, big_rss, big_size) = cargo_build(&target_dir, Some(&seed_dir));
    let bin = target_dir.join("release/seedbake");
    let bin_copy = root.join("bench-big-seedbake");
    std::fs::copy(&bin, &bin_copy).unwrap();
    let server_bin = target_dir.join("release/examples/hrana-test-server");

    let work = tempfile::tempdir().unwrap();
    let mut seed_total = Vec::new();
    let mut seed_rss = Vec::new();
    let mut phases: Vec<Vec<(String, f64)>> = Vec::new();
    let mut import = Vec::new();
    let mut shell_floor = Vec::new();
    let mut floor = Vec::new();
    for i in 0..runs {
        eprintln!("local: run {}/{runs}", i + 1);
        let db = fresh_db(work.path(), "seed.db", false);
        let mut cmd = Command::new(&bin_copy);
        cmd.args(["seed", "--json", "--database-url"]).arg(&db);
        let (t, rss) = timed(&mut cmd);
        seed_total.push(t.as_secs_f64() * 1000.0);
        seed_rss.extend(rss);
        let report: serde_json::Value = {
            let out = Command::new(&bin_copy)
                .args(["verify", "--json", "--database-url"])
                .arg(&db)
                .output()
                .unwrap();
            serde_json::from_slice(&out.stdout).unwrap()
        };
        assert_eq!(
            report["matches"], true,
            "the seeded bench database does not verify"
        );
        // The phases, from a second run's JSON report.
        let db2 = fresh_db(work.path(), "seed2.db", false);
        let out = Command::new(&bin_copy)
            .args(["seed", "--json", "--database-url"])
            .arg(&db2)
            .output()
            .unwrap();
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        phases.push(
            r["phases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().to_owned(), p[1].as_f64().unwrap()))
                .collect(),
        );

        let db = fresh_db(work.path(), "import.db", true);
        let mut cmd = Command::new("sqlite3");
        cmd.arg(&db)
            .arg(format!(".import --csv --skip 1 {} person", csv.display()));
        import.push(timed(&mut cmd).0.as_secs_f64() * 1000.0);

        let db = fresh_db(work.path(), "shell-floor.db", true);
        let mut cmd = Command::new("sqlite3");
        cmd.arg(&db).arg(format!(
            "PRAGMA cache_size = -262144; BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS}) \
             INSERT INTO person SELECT x, 'Firstname', 'Lastname', '2000-01-01', 'A', NULL FROM c; COMMIT;"
        ));
        shell_floor.push(timed(&mut cmd).0.as_secs_f64() * 1000.0);

        let db = fresh_db(work.path(), "floor.db", false);
        floor.push(libsql_floor(&db));
    }

    let mut remotes = vec![(
        Kind::Test,
        remote_runs(Kind::Test, &bin_copy, &|| test_server(&server_bin), runs),
    )];
    if let Some(sqld_bin) = sqld_binary() {
        let auth = mint_token();
        remotes.push((
            Kind::Sqld,
            remote_runs(Kind::Sqld, &bin_copy, &|| sqld(&sqld_bin, &auth), runs),
        ));
    }

    let (st, imp, sf, fl) = (
        median(seed_total),
        median(import),
        median(shell_floor),
        median(floor),
    );
    let phase_names: Vec<String> = phases[0].iter().map(|(n, _)| n.clone()).collect();
    println!("\n### 1,000,000-row bench seed ({runs} runs each, medians, same run)\n");
    println!("| local | median ms | × engine floor |");
    println!("|---|---|---|");
    println!(
        "| engine floor: `INSERT … SELECT` of constant rows, in-process libSQL, one transaction | {fl:.0} | 1.00 |"
    );
    println!(
        "| **seedbake `seed`, whole process** | **{st:.0}** | **{:.2}** |",
        st / fl
    );
    for name in &phase_names {
        let v = median(
            phases
                .iter()
                .map(|p| p.iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| *v))
                .collect(),
        );
        println!("| — phase `{name}` | {v:.0} | {:.2} |", v / fl);
    }
    println!(
        "| sqlite3 shell `.import --csv` of the same rows (whole process) | {imp:.0} | {:.2} |",
        imp / fl
    );
    println!(
        "| sqlite3 shell `INSERT … SELECT` floor (Debian's SQLite, whole process) | {sf:.0} | {:.2} |",
        sf / fl
    );
    if !seed_rss.is_empty() {
        println!(
            "\nPeak memory of `seedbake seed` (1M rows): {:.0} MiB.",
            median(seed_rss)
        );
    }
    for (kind, r) in &remotes {
        let floor = median(r.floor.clone());
        println!(
            "\n| {} (whole process) | median ms | × local seed | × server floor |",
            kind.name()
        );
        println!("|---|---|---|---|");
        println!(
            "| server floor: one `/v3/cursor` streaming `SELECT * FROM person` ({:.0} MB) | {floor:.0} | {:.2} | 1.00 |",
            r.floor_bytes as f64 / 1e6,
            floor / st
        );
        let row = |what: &str, v: &[f64]| {
            let m = median(v.to_vec());
            println!("| {what} | {m:.0} | {:.2} | {:.2} |", m / st, m / floor);
        };
        row("`seed --no-verify` (load, no proof)", &r.load_unproven);
        row(
            "**`seed` with its proof** (every row re-read before the commit)",
            &r.load_proven,
        );
        row("— the proof alone (phase `fingerprint`)", &r.proof);
        row("**`verify`** (every row, one snapshot)", &r.verify);
        row("**`dump --output`** (one snapshot)", &r.dump);
        println!(
            "\n{}: the load took {} requests for {:.1} MiB sent; the proven seed {} requests, {:.1} MiB received; \
             dump peak memory {} MiB.",
            kind.name(),
            r.traffic.0,
            r.traffic.1 as f64 / 1048576.0,
            r.proof_traffic.0,
            r.proof_traffic.1 as f64 / 1048576.0,
            if r.dump_rss.is_empty() {
                "n/a".to_owned()
            } else {
                format!("{:.0}", median(r.dump_rss.clone()))
            }
        );
    }
    println!("\n| build cost | Aquarius seed | 1M-row seed | added |");
    println!("|---|---|---|---|");
    println!(
        "| rebuild after a seed change (build.rs + crate + link), s | {:.1} | {:.1} | {:.1} |",
        aq_time.as_secs_f64(),
        big_time.as_secs_f64(),
        big_time.as_secs_f64() - aq_time.as_secs_f64()
    );
    println!(
        "| peak memory of the build (largest process), MiB | {} | {} | |",
        aq_rss.map_or("n/a".into(), |r| format!("{r:.0}")),
        big_rss.map_or("n/a".into(), |r| format!("{r:.0}"))
    );
    println!(
        "| release binary, MiB | {:.1} | {:.1} | {:.1} ({:.2}× the {:.1} MiB CSV) |",
        mib(aq_size),
        mib(big_size),
        mib(big_size - aq_size),
        (big_size - aq_size) as f64 / csv_size as f64,
        mib(csv_size)
    );
}

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}
