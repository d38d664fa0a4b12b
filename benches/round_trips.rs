//! How many round trips each remote command takes, and what they cost: the
//! release binary with the Aquarius seed against the real libSQL server
//! (sqld) through a proxy of our own on 127.0.0.1
//! (`tests/support/latency_proxy.rs`) that counts the HTTP requests on the
//! wire and holds each back a fixed latency. Each command runs at no added
//! latency and at `SEEDBAKE_BENCH_LATENCY_MS` (50), in turn, so a drift of
//! the machine's speed touches both alike; the difference of the medians
//! divided by the latency is the round trips the operator waits for.
//!
//! Run: `SEEDBAKE_TEST_SQLD=$(../shared/tools/sqld/unpack) cargo bench
//! --bench round_trips` (`SEEDBAKE_BENCH_RUNS`, default 5, runs of each
//! command at each latency; `SEEDBAKE_BENCH_ONLY=verify` runs only the
//! commands whose label holds that text; `SEEDBAKE_BENCH_BIN` measures
//! another binary of the same seed instead of this build's). Without sqld it says so and measures nothing.
//! Figures go into docs/benchmarks.md.

mod common;
#[path = "../tests/support/latency_proxy.rs"]
mod latency_proxy;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, median, mint_token, sqld};
use latency_proxy::LatencyProxy;

/// The state a command starts from.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// The seed, freshly reset: in step with the build.
    Seeded,
    /// A database with nothing in it: every migration is pending.
    Empty,
}

struct Case {
    label: &'static str,
    args: &'static [&'static str],
    /// Production (no `SEEDBAKE_ENV`: a server is production) rather than
    /// development.
    production: bool,
    start: Start,
    /// Appended: a path in the work folder, new for each run.
    output: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        label: "production `reset` (backup, load, proof, commit)",
        args: &["reset", "--yes", "--backup"],
        production: true,
        start: Start::Seeded,
        output: Some("backup.sql"),
    },
    Case {
        label: "`reset` (development: load, proof, commit)",
        args: &["reset"],
        production: false,
        start: Start::Seeded,
        output: None,
    },
    Case {
        label: "`verify`",
        args: &["verify"],
        production: false,
        start: Start::Seeded,
        output: None,
    },
    Case {
        label: "`dump --output`",
        args: &["dump", "--output"],
        production: false,
        start: Start::Seeded,
        output: Some("dump.sql"),
    },
    Case {
        label: "`status`",
        args: &["status"],
        production: false,
        start: Start::Seeded,
        output: None,
    },
    Case {
        label: "`extract --out`",
        args: &["extract", "--out"],
        production: false,
        start: Start::Seeded,
        output: Some("extracted"),
    },
    Case {
        label: "`migrate`, nothing to do",
        args: &["migrate"],
        production: false,
        start: Start::Seeded,
        output: None,
    },
    Case {
        label: "`migrate`, a pending migration (0001 on an empty database)",
        args: &["migrate"],
        production: false,
        start: Start::Empty,
        output: None,
    },
];

/// What one run of a command cost.
struct Run {
    wall_ms: f64,
    requests: u64,
    connections: u64,
}

/// A database on sqld behind its own proxy.
struct Place {
    _server: Server,
    proxy: LatencyProxy,
    token: String,
}

impl Place {
    fn new(sqld_bin: &Path, auth: &(PathBuf, String), start: Start, work: &Path) -> Place {
        let server = sqld(sqld_bin, auth);
        let place = Place {
            proxy: LatencyProxy::start(&server.addr, Duration::ZERO),
            token: server.token.clone(),
            _server: server,
        };
        if start == Start::Seeded {
            place.run(&["reset"], false, work);
        }
        place
    }

    /// The release binary against this place, whole process, timed.
    fn run(&self, args: &[&str], production: bool, work: &Path) -> Run {
        let (requests, connections) = (self.proxy.requests(), self.proxy.connections());
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .args(["--database-url", &format!("http://{}", self.proxy.addr())])
            .current_dir(work)
            .env("TURSO_AUTH_TOKEN", &self.token)
            .env_remove("DATABASE_URL")
            .env_remove("INITIAL_ADMIN_PASSWORD")
            .env_remove("SEEDBAKE_STATIC_DIR")
            .stdin(Stdio::null());
        if production {
            cmd.env_remove("SEEDBAKE_ENV");
        } else {
            cmd.env("SEEDBAKE_ENV", "development");
        }
        let started = Instant::now();
        let out = cmd.output().expect("run seedbake");
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert!(
            out.status.success(),
            "seedbake {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Run {
            wall_ms,
            requests: self.proxy.requests() - requests,
            connections: self.proxy.connections() - connections,
        }
    }
}

/// The binary measured: this build's, or `SEEDBAKE_BENCH_BIN` (another
/// build of the same seed, to compare two versions of the code).
fn binary() -> PathBuf {
    std::env::var_os("SEEDBAKE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_seedbake")))
}

/// `n`, or `n–m` when runs differed.
fn span(v: impl Iterator<Item = u64> + Clone) -> String {
    let (lo, hi) = (v.clone().min().unwrap(), v.max().unwrap());
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}–{hi}")
    }
}

fn main() {
    let runs: usize = std::env::var("SEEDBAKE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let latency_ms: u64 = std::env::var("SEEDBAKE_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let Some(sqld_bin) = common::sqld_binary() else {
        println!("round_trips: SKIPPED, no sqld to measure against (see above)");
        return;
    };
    let auth = mint_token();
    let latency = Duration::from_millis(latency_ms);
    let work = tempfile::tempdir().unwrap();
    // The app's static folder, where reset delivers the figure images.
    std::fs::create_dir(work.path().join("static")).unwrap();

    // A part of a label picks the commands to run (all by default).
    let only = std::env::var("SEEDBAKE_BENCH_ONLY").unwrap_or_default();
    let seeded = Place::new(&sqld_bin, &auth, Start::Seeded, work.path());
    let mut rows = Vec::new();
    for case in CASES.iter().filter(|c| c.label.contains(&only)) {
        let mut at = [Vec::new(), Vec::new()];
        for i in 0..runs {
            eprintln!("{}: run {}/{runs}", case.label, i + 1);
            for (slot, added) in [Duration::ZERO, latency].into_iter().enumerate() {
                let fresh;
                let place = match case.start {
                    Start::Seeded => &seeded,
                    Start::Empty => {
                        fresh = Place::new(&sqld_bin, &auth, Start::Empty, work.path());
                        &fresh
                    }
                };
                let mut args = case.args.to_vec();
                let output = case.output.map(|name| work.path().join(name));
                if let Some(path) = &output {
                    let _ = std::fs::remove_file(path);
                    let _ = std::fs::remove_dir_all(path);
                    args.push(path.to_str().unwrap());
                }
                place.proxy.set_latency(added);
                let run = place.run(&args, case.production, work.path());
                eprintln!(
                    "  +{} ms: {:.0} ms, {} requests, {} connections",
                    added.as_millis(),
                    run.wall_ms,
                    run.requests,
                    run.connections
                );
                at[slot].push(run);
                place.proxy.set_latency(Duration::ZERO);
            }
        }
        rows.push((case.label, at));
    }

    println!(
        "\n| command (Aquarius seed, sqld, whole process; {runs} runs, medians) | requests | connections \
         | wall at 0 ms, ms | wall at {latency_ms} ms, ms | round trips: (wall at {latency_ms} − wall at 0) / {latency_ms} ms |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, [none, added]) in &rows {
        let all = none.iter().chain(added);
        let wall = |v: &Vec<Run>| median(v.iter().map(|r| r.wall_ms).collect());
        let (w0, w1) = (wall(none), wall(added));
        println!(
            "| {label} | {} | {} | {w0:.0} | {w1:.0} | {:.1} |",
            span(all.clone().map(|r| r.requests)),
            span(all.map(|r| r.connections)),
            (w1 - w0) / latency_ms as f64
        );
    }
}
