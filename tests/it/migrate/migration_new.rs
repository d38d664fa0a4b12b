//! `seedbake migration new`: a draft the build then proves.

use super::*;

fn draft(dir: &Path, name: &str) -> Output {
    common::seedbake_command(&[])
        .args(["migration", "new", name, "--seed-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Drafts `name` in `dir`: the exit code first, then the words.
#[track_caller]
fn assert_draft(dir: &Path, name: &str, code: i32, says: &[&str]) {
    let o = draft(dir, name);
    assert_eq!(o.status.code(), Some(code), "{}", text(&o));
    for words in says {
        assert!(text(&o).contains(words), "{words:?}: {}", text(&o));
    }
}

#[test]
fn migration_new_drafts_what_schema_sql_adds_and_the_build_proves_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(&repo().join("seed-data"), &dir);
    assert_draft(&dir, "nothing", 2, &["nothing to draft"]);
    // A name no file system takes is a usage error, before anything else.
    assert_draft(
        &dir,
        &"a".repeat(300),
        2,
        &["a migration's name has at most 100"],
    );

    // Version 2's schema, without its migrations: the draft writes them.
    replace(
        &dir,
        "schema.sql",
        "    vertrag VARCHAR,\n",
        "    vertrag VARCHAR,\n    notiz VARCHAR,\n",
    );
    replace(
        &dir,
        "schema.sql",
        "    vorlaeufig INTEGER,\n",
        "    vorlaeufig BOOLEAN,\n",
    );
    replace(
        &dir,
        "schema.sql",
        "CREATE INDEX ix_anmeldung_id ON anmeldung (id);\n",
        "CREATE INDEX ix_anmeldung_id ON anmeldung (id);\nCREATE INDEX ix_anmeldung_kind_id ON anmeldung (kind_id);\n",
    );
    assert_draft(
        &dir,
        "kind_notiz",
        0,
        &["with it, the migrations make the schema schema.sql declares"],
    );
    let written = std::fs::read_to_string(dir.join("migrations/0002_kind_notiz.sql")).unwrap();
    assert!(
        written.contains("ALTER TABLE \"kind\" ADD COLUMN notiz VARCHAR;"),
        "{written}"
    );
    assert!(
        written.contains("ALTER TABLE \"anmeldung_new\" RENAME TO \"anmeldung\";"),
        "{written}"
    );
    let compiled = seedbake_compiler::compile(&dir)
        .unwrap_or_else(|e| panic!("the draft does not build: {e}"));
    assert_eq!(compiled.migrations.len(), 2);

    // A column dropped from schema.sql: the data would go, so the rebuild
    // is written commented out, said loudly, and the build still refuses.
    replace(&dir, "schema.sql", "    notiz VARCHAR,\n", "");
    assert_draft(
        &dir,
        "drop_notiz",
        0,
        &[
            "warning: rebuilding kind leaves out the column notiz",
            "not there yet: after the draft, kind has a column notiz",
        ],
    );
    let written = std::fs::read_to_string(dir.join("migrations/0003_drop_notiz.sql")).unwrap();
    assert!(
        written.contains("-- CHECK: rebuilding kind leaves out the column notiz"),
        "{written}"
    );
    assert!(
        written
            .lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.starts_with("--")),
        "nothing may run uncommented: {written}"
    );
    let e = seedbake_compiler::compile(&dir).unwrap_err();
    assert_eq!(e.kind, seedbake_compiler::ErrorKind::MigrationSql, "{e}");
}

#[test]
fn migration_new_reads_the_seed_folder_as_the_build_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(&repo().join("seed-data"), &dir);
    // The schema file is the one seed.toml names.
    std::fs::rename(dir.join("schema.sql"), dir.join("tables.sql")).unwrap();
    replace(
        &dir,
        "seed.toml",
        "schema = \"schema.sql\"",
        "schema = \"tables.sql\"",
    );
    assert_draft(
        &dir,
        "nothing",
        2,
        &["the migrations already make the schema tables.sql declares"],
    );
    // A file the build refuses in migrations/ is refused here too, before
    // anything is drafted beside it.
    std::fs::write(dir.join("migrations/notes.txt"), "to do").unwrap();
    assert_draft(
        &dir,
        "next",
        2,
        &["migrations/notes.txt: is not named as a migration"],
    );
    let e = seedbake_compiler::compile(&dir).unwrap_err();
    assert_eq!(e.kind, seedbake_compiler::ErrorKind::MigrationFile, "{e}");
    assert_eq!(
        std::fs::read_dir(dir.join("migrations")).unwrap().count(),
        2,
        "nothing was written"
    );
}
