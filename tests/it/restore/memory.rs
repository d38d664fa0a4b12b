//! Memory: a restore's peak stays flat in the dump's size.

use super::*;

/// The peak resident memory of a finished child, in KiB, with its exit
/// code. A child spawned from this test process starts out sharing its
/// memory, and the kernel carries that memory's peak into the child's
/// `ru_maxrss` across `exec`: read from here, the figure was this process's
/// own peak, which grows with whatever the tests beside it hold (seen: 178
/// MiB for the small restore, 370 MiB once more tests ran at once). A small
/// python3 starts the child instead and reports its children's peak, which
/// carries only python's own few MiB.
fn peak_memory(cmd: Command) -> (Option<i32>, u64) {
    const REPORT: &str = "import resource, subprocess, sys\n\
        n = subprocess.DEVNULL\n\
        code = subprocess.run(sys.argv[1:], stdin=n, stdout=n, stderr=n).returncode\n\
        print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let mut wrapped = Command::new("python3");
    wrapped
        .arg("-c")
        .arg(REPORT)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    let out = wrapped
        .stdin(Stdio::null())
        .output()
        .expect("python3 measures the restore's memory");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python3: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, kib) = text.trim().split_once(' ').expect("code and peak");
    let code: i32 = code.parse().unwrap();
    // subprocess gives a signal's death as a negative code.
    ((code >= 0).then_some(code), kib.parse().unwrap())
}

/// A dump of `rows` rows of about 300 bytes each.
fn generated_dump(path: &Path, rows: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, note TEXT, x REAL);"
    )
    .unwrap();
    for i in 0..rows {
        let note: String = (0..250)
            .map(|j| (b'a' + ((i * 31 + j * 7) % 26) as u8) as char)
            .collect();
        writeln!(
            f,
            "INSERT INTO big VALUES({i},'name {i}','{note}',{}.5);",
            i % 1000
        )
        .unwrap();
    }
    writeln!(f, "CREATE INDEX big_name ON big (name);\nCOMMIT;").unwrap();
}

#[test]
fn restore_memory_stays_flat_in_the_dumps_size() {
    let dir = tempfile::tempdir().unwrap();
    generated_dump(&dir.path().join("small.sql"), 2_000);
    generated_dump(&dir.path().join("big.sql"), 150_000);
    let big_bytes = std::fs::metadata(dir.path().join("big.sql")).unwrap().len();
    assert!(big_bytes > 40 << 20, "{big_bytes}");
    let run = |file: &str, db: &str| {
        let mut cmd = common::seedbake_command(&[]);
        cmd.current_dir(dir.path())
            .args(["restore", file, "--database-url", db]);
        let (code, kib) = peak_memory(cmd);
        assert_eq!(code, Some(0), "restore {file}");
        kib
    };
    let small = run("small.sql", "small.db");
    let big = run("big.sql", "big.db");
    // Over a database holding the big one: the drop is no bigger either.
    let over = run("small.sql", "big.db");
    eprintln!(
        "peak memory: {small} KiB for {} KiB of dump, {big} KiB for {} KiB, {over} KiB over the big database",
        std::fs::metadata(dir.path().join("small.sql"))
            .unwrap()
            .len()
            >> 10,
        big_bytes >> 10
    );
    // The old restore held the file twice over (text and statements), and
    // a page cache of up to 256 MiB: well over 120 MiB more here. Flat: a
    // statement at a time, and the engine's 8 MiB cache.
    let flat = 32 << 10;
    assert!(big < small + flat, "{big} KiB against {small} KiB");
    assert!(over < small + flat, "{over} KiB against {small} KiB");
}
