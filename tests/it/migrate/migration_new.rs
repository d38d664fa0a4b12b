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

#[test]
fn migration_new_drafts_what_schema_sql_adds_and_the_build_proves_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("seed-data");
    copy_dir(&repo().join("seed-data"), &dir);
    let o = draft(&dir, "nothing");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nothing to draft"), "{}", text(&o));
    // A name no file system takes is a usage error, before anything else.
    let o = draft(&dir, &"a".repeat(300));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("a migration's name has at most 100"),
        "{}",
        text(&o)
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
    let o = draft(&dir, "kind_notiz");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("with it, the migrations make the schema schema.sql declares"),
        "{}",
        text(&o)
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
    let o = draft(&dir, "drop_notiz");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("warning: rebuilding kind leaves out the column notiz"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("not there yet: after the draft, kind has a column notiz"),
        "{}",
        text(&o)
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
