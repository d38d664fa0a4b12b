//! Memory: a restore's peak stays flat in the dump's size.

use super::*;

/// The peak resident memory of a finished child, from the kernel's own
/// accounting of it (`wait4`), in KiB, with its exit code.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which std cannot do
fn peak_memory(mut cmd: Command) -> (Option<i32>, u64) {
    #[repr(C)]
    struct Rusage {
        times: [i64; 4],
        maxrss: i64,
        rest: [i64; 13],
    }
    unsafe extern "C" {
        fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage = Rusage {
        times: [0; 4],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: waits for our own child, once (the `Child` is not waited on
    // again); both out-pointers are valid for the call.
    let pid = unsafe { wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let code = (status & 0x7f == 0).then_some((status >> 8) & 0xff);
    (code, usage.maxrss as u64)
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
