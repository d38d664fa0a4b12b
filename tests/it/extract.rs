//! `seedbake extract`: the database written back as a seed folder. The
//! round trip is proven independently of extract's own check: the folder
//! is compiled here, and its build's fingerprint must be the one extract
//! printed and the one `verify` computes from the database.

use crate::common;

use std::path::Path;
use std::process::{Output, Stdio};

use common::output_text as text;
use common::server::Server;

fn seedbake(url: &str, token: &str, dir: &Path, args: &[&str]) -> Output {
    common::seedbake_command(&[("DATABASE_URL", url), ("TURSO_AUTH_TOKEN", token)])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// The changes a running app makes: a reference row renamed, a club and a
/// figure added (the figure's picture one the binary embeds), a child of
/// the app's own in the new club, with a password hash the seed never has.
const APP_CHANGES: &[&str] = &[
    "UPDATE verband SET name = 'Bundesverband (umbenannt)' WHERE abkuerzung = 'BKFD'",
    "INSERT INTO verein (name, ort, register_id, contact) VALUES ('SV Neu 2026', 'Köln', 'VR 1', '')",
    "INSERT INTO figur (name, kategorie, beschreibung, schwierigkeitsgrad, altersklasse, bild) \
     VALUES ('Neue Figur', 'Neu', NULL, 7, 'U8', 'figuren/images/f01-balletbein.png')",
    "INSERT INTO kind (vorname, nachname, geburtsdatum, verein_id, hashed_password) \
     VALUES ('Nele', 'Neu', '2015-01-01', (SELECT id FROM verein WHERE name = 'SV Neu 2026'), '$2b$12$abc')",
];

/// Extracts into `<dir>/seed-out`, then requires the printed fingerprint,
/// the database's (as `verify` computes it) and the fingerprint of the
/// folder compiled here to be one; gives the compiled seed.
fn round_trip(url: &str, token: &str, dir: &Path) -> seedbake_compiler::Compiled {
    let out = seedbake(url, token, dir, &["--json", "extract", "--out", "seed-out"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = json(&out);
    let printed = report["fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(report["complete"], true);

    let verify = json(&seedbake(url, token, dir, &["--json", "verify"]));
    assert_eq!(
        verify["actual"].as_str(),
        Some(printed.as_str()),
        "{verify}"
    );

    let compiled = seedbake_compiler::compile(&dir.join("seed-out")).unwrap();
    let default = compiled.default_profile();
    assert_eq!(default.fingerprint.total, printed);
    // Nothing of the staging folder is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("extract-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    compiled
}

fn table<'c>(
    c: &'c seedbake_compiler::Compiled,
    name: &str,
) -> &'c seedbake_compiler::CompiledTable {
    c.tables.iter().find(|t| t.name() == name).unwrap()
}

fn has_text(t: &seedbake_compiler::CompiledTable, text: &str) -> bool {
    t.rows
        .iter()
        .flatten()
        .any(|v| *v == seedbake::value::Value::Text(text.into()))
}

/// The checks on what the app changed, in the compiled folder.
fn shows_the_apps_changes(compiled: &seedbake_compiler::Compiled, dir: &Path) {
    assert!(has_text(
        table(compiled, "verband"),
        "Bundesverband (umbenannt)"
    ));
    assert!(has_text(table(compiled, "verein"), "SV Neu 2026"));
    let figur = table(compiled, "figur");
    assert!(has_text(figur, "Neue Figur"));
    // The new figure's key, which no column stores, is made from its id;
    // the catalogue's own keep theirs.
    assert_eq!(figur.keys[0], vec!["F01".to_owned()]);
    assert_eq!(
        figur.keys.last().unwrap(),
        &vec![format!("figur-{}", figur.rows.len())]
    );
    assert!(has_text(table(compiled, "kind"), "$2b$12$abc"));
    // The catalogue is written in its own format, its other keys kept.
    let catalogue =
        std::fs::read_to_string(dir.join("seed-out/figuren/figuren-v1.0-saison-2024.json"))
            .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&catalogue).unwrap();
    assert_eq!(doc["saison"], "2024/2025");
    assert_eq!(doc["figuren"].as_array().unwrap().len(), figur.rows.len());
    // Children name their club by its natural key, not its id.
    let kind = std::fs::read_to_string(dir.join("seed-out/kind.csv")).unwrap();
    assert!(
        kind.lines().last().unwrap().contains(",SV Neu 2026,"),
        "{kind}"
    );
    // Passwords are not carried out of the database.
    let users = std::fs::read_to_string(dir.join("seed-out/users.csv")).unwrap();
    assert!(!users.contains("$2b$"), "{users}");
    assert!(users.contains(seedbake::ops::extract::PASSWORD_PLACEHOLDER));
}

fn local_changes(db: &Path, sqls: &[&str]) {
    common::rt().block_on(common::execute(db, &sqls.join(";\n")));
}

fn reset(url: &str, token: &str, dir: &Path) {
    let out = seedbake(url, token, dir, &["reset", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn the_aquarius_seed_comes_back_with_what_the_app_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    let url = db.to_str().unwrap();
    reset(url, "", dir.path());
    local_changes(&db, APP_CHANGES);
    let compiled = round_trip(url, "", dir.path());
    shows_the_apps_changes(&compiled, dir.path());
}

#[test]
fn the_aquarius_seed_comes_back_from_sqld() {
    let Some(server) = Server::sqld("the_aquarius_seed_comes_back_from_sqld") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    reset(&url, &server.token, dir.path());
    server.exec(APP_CHANGES);
    let compiled = round_trip(&url, &server.token, dir.path());
    shows_the_apps_changes(&compiled, dir.path());
}

#[test]
fn a_folder_in_the_way_a_bad_place_or_a_value_no_seed_can_give_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    let url = db.to_str().unwrap();
    reset(url, "", dir.path());

    // A folder that holds something stays as it is.
    std::fs::create_dir(dir.path().join("seed-out")).unwrap();
    std::fs::write(dir.path().join("seed-out/mine.txt"), "keep").unwrap();
    let out = seedbake(url, "", dir.path(), &["extract", "--out", "seed-out"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    let names: Vec<_> = std::fs::read_dir(dir.path().join("seed-out"))
        .unwrap()
        .collect();
    assert_eq!(names.len(), 1);

    // --replace replaces it, once the new folder is complete.
    let out = seedbake(
        url,
        "",
        dir.path(),
        &["extract", "--out", "seed-out", "--replace"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!dir.path().join("seed-out/mine.txt").exists());
    assert!(dir.path().join("seed-out/seed.toml").exists());

    // --tables: a table without the tables it refers to is a usage error;
    // reference tables alone make a folder of their own.
    let out = seedbake(
        url,
        "",
        dir.path(),
        &["extract", "--out", "part", "--tables", "kind"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("must be extracted too"),
        "{}",
        text(&out)
    );
    assert!(!dir.path().join("part").exists());
    let out = seedbake(
        url,
        "",
        dir.path(),
        &[
            "--json",
            "extract",
            "--out",
            "part",
            "--tables",
            "verband,versicherung",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["complete"], false);
    let part = seedbake_compiler::compile(&dir.path().join("part")).unwrap();
    let names: Vec<&str> = part.tables.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["verband", "versicherung"]);
    let default = part.default_profile();
    assert_eq!(
        Some(default.fingerprint.total.as_str()),
        report["folder_fingerprint"].as_str()
    );

    // A parent that cannot hold a folder.
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let out = seedbake(url, "", dir.path(), &["extract", "--out", "a-file/seed"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));

    // Text an INTEGER column holds (its affinity keeps what is no number)
    // but a seed cell cannot give: refused by
    // table, row and column, and no folder appears.
    local_changes(
        &db,
        &["UPDATE figur SET schwierigkeitsgrad = '12 Punkte' WHERE id = 3"],
    );
    let out = seedbake(url, "", dir.path(), &["extract", "--out", "refused"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("table figur, row 3 (id = 3), column schwierigkeitsgrad"),
        "{said}"
    );
    assert!(said.contains("Nothing was written"), "{said}");
    assert!(!dir.path().join("refused").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("extract-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A folder `--replace` would remove is never one holding the database (or
/// its journal files): refused as a usage error before anything is read or
/// written, the database and the folder as they were.
#[test]
fn extract_never_replaces_the_folder_the_database_is_in() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed");
    std::fs::create_dir(&seed).unwrap();
    let db = seed.join("aquarius.db");
    let url = db.to_str().unwrap();
    reset(url, "", dir.path());
    let before = std::fs::read(&db).unwrap();
    for out_dir in ["seed", ".", "seed/.."] {
        let out = seedbake(
            url,
            "",
            dir.path(),
            &["extract", "--out", out_dir, "--replace"],
        );
        assert_eq!(out.status.code(), Some(2), "{out_dir}: {}", text(&out));
        assert!(
            text(&out).contains("the database"),
            "{out_dir}: {}",
            text(&out)
        );
        assert_eq!(std::fs::read(&db).unwrap(), before, "{out_dir}");
    }
    // Onto the database file itself: not a folder, refused.
    let out = seedbake(
        url,
        "",
        dir.path(),
        &["extract", "--out", "seed/aquarius.db", "--replace"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // Through a symbolic link to a folder: not followed, refused.
    std::os::unix::fs::symlink(&seed, dir.path().join("link")).unwrap();
    let out = seedbake(
        url,
        "",
        dir.path(),
        &["extract", "--out", "link", "--replace"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(&seed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("aquarius.db")),
        "{names:?}"
    );
    // Where no folder can be made (/proc, under /dev/full): the write
    // fails (exit 4), nothing is left anywhere.
    for out_dir in ["/proc/seedbake-extract", "/dev/full/seed"] {
        let out = seedbake(url, "", dir.path(), &["extract", "--out", out_dir]);
        assert_eq!(out.status.code(), Some(4), "{out_dir}: {}", text(&out));
        assert!(
            text(&out).contains("cannot write"),
            "{out_dir}: {}",
            text(&out)
        );
    }
}
