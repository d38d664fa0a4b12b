//! `seedbake schema`: the build's diagram, or a live database's.

use super::*;

/// `schema` draws the embedded seed's schema without touching a database,
/// in each format; with `--database-url` on the command line it draws that
/// database instead, so a table the build does not have shows.
#[test]
fn schema_draws_the_build_or_a_live_database() {
    let dir = tempfile::tempdir().unwrap();
    // DATABASE_URL alone (as an app's environment sets it) is not a request
    // for a live diagram, and nothing is created.
    let env = [("DATABASE_URL", "sqlite:///./should-not-exist.db")];
    let dbml = seedbake(dir.path(), &["schema", "--format", "dbml"], &env);
    let (out, err) = text(&dbml);
    assert!(dbml.status.success(), "{out}\n{err}");
    assert!(
        out.contains("Table kind {\n  id INTEGER [pk, not null]\n"),
        "{out}"
    );
    assert!(out.contains("  Note: '50 rows'\n"), "{out}");
    assert!(out.contains("Ref: anmeldung.kind_id > kind.id\n"), "{out}");
    assert_eq!(out.matches("\nTable ").count(), 13, "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let minimal = text(&seedbake(
        dir.path(),
        &["schema", "--format", "dbml", "--profile", "minimal"],
        &[],
    ))
    .0;
    assert!(
        minimal.contains("Table kind {") && minimal.contains("  Note: '0 rows'\n"),
        "every table, the profile's rows: {minimal}"
    );
    assert!(minimal.contains("  Note: '13 rows'\n"), "{minimal}");

    let mermaid = text(&seedbake(dir.path(), &["schema"], &[])).0;
    assert!(mermaid.contains("\nerDiagram\n"), "{mermaid}");
    assert!(
        mermaid.contains("    kind[\"kind: 50 rows\"] {\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("    kind ||..o{ anmeldung : \"kind_id\"\n"),
        "a required key: exactly one parent; {mermaid}"
    );

    let svg = seedbake(dir.path(), &["schema", "--format", "svg"], &[]);
    let drawn = text(&svg).0;
    assert!(drawn.starts_with("<svg ") && drawn.ends_with("</svg>\n"));
    assert_eq!(drawn.matches("<polyline").count(), 11);
    assert_eq!(
        svg.stdout,
        seedbake(dir.path(), &["schema", "--format", "svg"], &[]).stdout,
        "the same build draws the same bytes"
    );
    // The README shows this picture: it must be the build's.
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/aquarius-schema.svg");
    assert!(
        std::fs::read_to_string(&committed).unwrap() == drawn,
        "docs/aquarius-schema.svg is not the build's schema any more: \
         regenerate it with `seedbake schema --format svg -o docs/aquarius-schema.svg`"
    );
    assert_eq!(
        seedbake(dir.path(), &["schema", "--json"], &[])
            .status
            .code(),
        Some(2),
        "--json without --output is refused"
    );

    let url = "sqlite:///./live.db";
    assert!(
        seedbake(dir.path(), &["reset", "--database-url", url], &[])
            .status
            .success()
    );
    common::rt().block_on(async {
        let d = libsql::Builder::new_local(dir.path().join("live.db"))
            .build()
            .await
            .unwrap();
        d.connect()
            .unwrap()
            .execute_batch(
                "CREATE TABLE notiz (id INTEGER PRIMARY KEY, kind_id INTEGER NOT NULL REFERENCES kind (id), text TEXT);
                 INSERT INTO notiz VALUES (1, 1, 'hallo');
                 ALTER TABLE kind ADD COLUMN spitzname TEXT;",
            )
            .await
            .unwrap();
    });
    let live = seedbake(
        dir.path(),
        &[
            "schema",
            "--format",
            "dbml",
            "--database-url",
            url,
            "-o",
            "live.dbml",
            "--json",
        ],
        &[],
    );
    let report = json(&live);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["tables"], 14, "{report}");
    let drawn = std::fs::read_to_string(dir.path().join("live.dbml")).unwrap();
    assert!(drawn.contains("Table notiz {\n"), "{drawn}");
    assert!(
        drawn.contains("  Note: '1 row; not in the build'\n"),
        "{drawn}"
    );
    assert!(
        drawn.contains("  spitzname TEXT [note: 'not in the build']\n"),
        "{drawn}"
    );
    assert!(
        drawn.contains("// differs from the build: table notiz is not in the build\n"),
        "{drawn}"
    );
    assert!(drawn.contains("Ref: notiz.kind_id > kind.id\n"), "{drawn}");
    assert!(
        !drawn.contains("_seedbake"),
        "seedbake's own tables are not the app's: {drawn}"
    );
    // The build's diagram does not have it: the difference is the drift.
    assert!(!out.contains("notiz"));
}

/// `schema -o` replaces a diagram file in place, so it never writes onto
/// the database it draws (or its journal files): a usage error, the
/// database untouched.
#[test]
fn schema_never_writes_its_diagram_over_the_database() {
    let dir = tempfile::tempdir().unwrap();
    assert!(seedbake(dir.path(), &["reset"], &[]).status.success());
    let db = dir.path().join("aquarius.db");
    let before = std::fs::read(&db).unwrap();
    let url = db.display().to_string();
    for target in ["aquarius.db", "./aquarius.db", "aquarius.db-wal"] {
        let o = seedbake(
            dir.path(),
            &["schema", "--database-url", &url, "-o", target],
            &[],
        );
        assert_eq!(o.status.code(), Some(2), "{target}: {:?}", text(&o));
        assert!(
            text(&o).1.contains("the database"),
            "{target}: {:?}",
            text(&o)
        );
        assert_eq!(std::fs::read(&db).unwrap(), before, "{target}");
    }
    assert!(!dir.path().join("aquarius.db-wal").exists());
}
