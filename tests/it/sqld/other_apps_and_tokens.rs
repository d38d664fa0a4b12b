//! A second app's seed on both servers, the engine's own words for what
//! it refuses, and a read-only token on sqld.

use super::*;

/// The bookshop example's own binary (a second app's seed: a trigger that
/// counts, text that looks like a number, booleans, bytes, the empty
/// string), built by `cargo test --workspace` beside this test's binary.
fn bookshop_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent()?.parent()?.join("bookshop");
    if bin.is_file() {
        return Some(bin);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: run `cargo test --workspace` (it builds the example app)",
        bin.display()
    );
    eprintln!(
        "skipped: {} is not built (run `cargo test --workspace`)",
        bin.display()
    );
    None
}

common::server::on_both!(
    a_second_apps_seed_loads_on_a_server_as_it_does_locally,
    TOKEN
);
fn a_second_apps_seed_loads_on_a_server_as_it_does_locally(server: &Server) {
    let Some(bookshop) = bookshop_binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = Command::new(&bookshop);
        for var in [
            "DATABASE_URL",
            "TURSO_AUTH_TOKEN",
            "SEEDBAKE_ENV",
            "BOOKSHOP_PRODUCTION",
        ] {
            cmd.env_remove(var);
        }
        let o = cmd
            .envs(env.iter().copied())
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    run(&[], &["reset"]);
    let url = server.url();
    let remote = [
        ("DATABASE_URL", url.as_str()),
        ("TURSO_AUTH_TOKEN", server.token.as_str()),
    ];
    // A server is production: confirmed with --yes, backed up to ./exports.
    run(&remote, &["reset", "--yes"]);
    run(&remote, &["verify"]);
    if server.kind == Kind::Test {
        server.settle();
    }
    let app_tables = |db: &Path| {
        let mut rows = rows_of(db);
        rows.retain(|name, _| !name.starts_with("_seedbake"));
        rows
    };
    let local = app_tables(&dir.path().join("bookshop.db"));
    assert_eq!(local["author"].len(), 3, "{local:?}");
    assert_eq!(app_tables(&server.db), local);
}

common::server::on_both!(
    a_statement_the_servers_engine_refuses_is_named_in_the_engines_words,
    TOKEN
);
fn a_statement_the_servers_engine_refuses_is_named_in_the_engines_words(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    // A dump whose second row repeats the first's key.
    std::fs::write(
        dir.path().join("dup.sql"),
        "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE);\n\
         INSERT INTO t VALUES(1,'a');\nINSERT INTO t VALUES(2,'a');\nCOMMIT;\n",
    )
    .unwrap();
    let o = seedbake(
        server,
        dir.path(),
        &["restore", "dup.sql", "--yes", "--no-backup"],
        &[],
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("UNIQUE constraint failed: t.name"), "{said}");
    for raw in ["Hrana", "api error", "SQLite error", "`"] {
        assert!(!said.contains(raw), "{raw:?} in: {said}");
    }
}

/// A token that may only read: `status` reads as with any token; a dry run
/// cannot take the write lock (sqld answers 403 to the PRAGMA and every
/// write), so it plans on a local copy read from the server and says so,
/// exit 0, the server untouched; `migrate` itself is refused as a token
/// without write access (exit 3), nothing changed.
#[test]
fn a_read_only_token_on_sqld_gets_status_and_a_dry_run_and_no_migrate() {
    let Some(server) =
        Server::sqld("a_read_only_token_on_sqld_gets_status_and_a_dry_run_and_no_migrate")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = seedbake(&server, dir.path(), &["reset", "--yes", "--no-backup"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    // Reference data changed by hand, for migrate to put back.
    server.exec(&["UPDATE verband SET ort = 'Fulda' WHERE abkuerzung = 'BKFD'"]);
    let before = rt().block_on(common::dump(&server.db));
    let ro = server.read_only_token();
    let read_only = [("TURSO_AUTH_TOKEN", ro.as_str())];

    let o = seedbake(&server, dir.path(), &["status", "--json"], &read_only);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let status: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(status["in_step"], false, "{status}");

    let o = seedbake(
        &server,
        dir.path(),
        &["migrate", "--dry-run", "-v"],
        &read_only,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("planned on a copy: the token may only read"),
        "{said}"
    );
    assert!(said.contains("Fulda") && said.contains("Kassel"), "{said}");
    assert!(said.contains("dry run: nothing was changed"), "{said}");
    let o = seedbake(
        &server,
        dir.path(),
        &["migrate", "--dry-run", "--json"],
        &read_only,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(plan["changes"], true, "{plan}");
    assert!(plan["planned_on"].as_str().is_some(), "{plan}");
    assert_eq!(rt().block_on(common::dump(&server.db)), before);

    let o = seedbake(
        &server,
        dir.path(),
        &["migrate", "--yes", "--no-backup"],
        &read_only,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("(403)"), "{}", text(&o));
    assert!(!text(&o).contains(&ro), "{}", text(&o));
    assert_eq!(rt().block_on(common::dump(&server.db)), before);

    // With the token that may write, the same plan is made on the server
    // itself, in its own transaction rolled back.
    let o = seedbake(
        &server,
        dir.path(),
        &["migrate", "--dry-run", "--json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let own: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert!(own.get("planned_on").is_none(), "{own}");
    assert_eq!(own["reference"], plan["reference"]);
    assert_eq!(rt().block_on(common::dump(&server.db)), before);
}
