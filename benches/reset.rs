//! Whole-process timings of the real binary with the Aquarius seed:
//! `seedbake reset` on a local file, and `seedbake info`.
//!
//! Run: `cargo bench --bench reset` (figures in the README).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run(args: &[&str], dir: &std::path::Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_seedbake"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("INITIAL_ADMIN_PASSWORD")
        .env_remove("SEEDBAKE_STATIC_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run seedbake");
    let elapsed = started.elapsed();
    assert!(status.success(), "seedbake {args:?} failed");
    elapsed
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = samples.len();
    (
        ms(samples[n / 10]),
        ms(samples[n / 2]),
        ms(samples[n * 9 / 10]),
    )
}

fn main() {
    // `cargo bench` passes filter flags; this harness takes none.
    let runs: usize = std::env::var("SEEDBAKE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    // The app's static folder, where reset delivers the figure images.
    std::fs::create_dir(dir.path().join("static")).unwrap();
    run(&["reset"], dir.path()); // warm up: creates the file
    println!("| command (whole process, Aquarius seed) | p10 ms | median ms | p90 ms | runs |");
    println!("|---|---|---|---|---|");
    for (label, args) in [
        ("reset over a seeded ./aquarius.db", &["reset"][..]),
        (
            "reset --profile minimal",
            &["reset", "--profile", "minimal"][..],
        ),
        ("verify", &["verify"][..]),
        ("info", &["info"][..]),
    ] {
        let samples: Vec<Duration> = (0..runs).map(|_| run(args, dir.path())).collect();
        let (p10, median, p90) = stats(samples);
        println!(
            "| `seedbake {}` ({label}) | {p10:.1} | {median:.1} | {p90:.1} | {runs} |",
            args.join(" ")
        );
        if args == ["reset", "--profile", "minimal"] {
            run(&["reset"], dir.path());
        }
    }
}
