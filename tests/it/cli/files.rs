//! The files commands write: their reports, and a write past the file
//! size limit.

use super::*;

/// The reports of the commands that write a file name the file, in text
/// and in JSON, and keep their figures (the shapes scripts read).
#[test]
fn reports_of_written_files_name_the_file_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = ["--database-url", "sqlite:///./w.db"];
    let o = seedbake(
        dir.path(),
        &[&["reset", "--no-images"][..], &db].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));

    let o = seedbake(
        dir.path(),
        &[&["dump", "--json", "--output", "d.sql"][..], &db].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let dumped = json(&o);
    assert_eq!(dumped["ok"], true);
    assert_eq!(dumped["file"], "d.sql");
    // The seed's 1309 rows and seedbake's own records.
    let rows = dumped["rows"].as_u64().unwrap();
    assert!(rows > 1309, "{dumped}");
    let bytes = std::fs::metadata(dir.path().join("d.sql")).unwrap().len();
    assert_eq!(dumped["bytes"], bytes);
    assert!(
        dumped["target"].as_str().unwrap().ends_with("w.db"),
        "{dumped}"
    );
    let tables = dumped["tables"].as_array().unwrap().len();
    assert!(tables >= 13, "{dumped}");

    let o = seedbake(
        dir.path(),
        &[&["dump", "--output", "e.sql"][..], &db].concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(out.starts_with("dumped "), "{out}");
    assert!(
        out.ends_with(&format!(
            " ({rows} rows, {tables} tables) to e.sql ({bytes} bytes)\n"
        )),
        "{out}"
    );

    let o = seedbake(
        dir.path(),
        &["schema", "--json", "--format", "dbml", "--output", "s.dbml"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let drawn = json(&o);
    let written = std::fs::metadata(dir.path().join("s.dbml")).unwrap().len();
    assert_eq!(drawn["ok"], true);
    assert_eq!(drawn["file"], "s.dbml");
    assert_eq!(drawn["format"], "dbml");
    assert_eq!(drawn["bytes"], written);
    let tables = drawn["tables"].as_u64().unwrap();
    assert!(tables >= 13, "{drawn}");

    let o = seedbake(dir.path(), &["schema", "--output", "s.mmd"], &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let written = std::fs::metadata(dir.path().join("s.mmd")).unwrap().len();
    assert_eq!(
        text(&o).0,
        format!("wrote the mermaid diagram of {tables} tables to s.mmd ({written} bytes)\n")
    );
}

/// Past the file size limit (`ulimit -f`) a write fails rather than the
/// signal ending seedbake: the diagram file is not left half-written (exit
/// 4, nothing beside it), a report to standard output is exit 7.
#[test]
fn a_file_size_limit_fails_the_write_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let limited = |args: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -f 1; exec \"$0\" {args}"))
            .arg(env!("CARGO_BIN_EXE_seedbake"))
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("TURSO_AUTH_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = limited("schema --format svg -o big.svg");
    assert_eq!(o.status.code(), Some(4), "{:?}", text(&o));
    assert!(text(&o).1.contains("big.svg"), "{:?}", text(&o));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("big.svg"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let o = limited("schema --format svg > out.svg");
    assert_eq!(o.status.code(), Some(7), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("cannot write to standard output"),
        "{:?}",
        text(&o)
    );
}
