//! The bookshop's own binary, built the way any app builds one (its
//! build.rs compiles its seed folder, its main.rs hands the seed to
//! seedbake's command line), run against real local databases. It speaks
//! for the bookshop, never for Aquarius, offers nothing its seed lacks
//! (no admin, no images), and, having no migrations, is in step right
//! after a reset.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The binary run in `dir`, where its default database (./bookshop.db)
/// lands; no variable of the test's environment decides anything.
fn bookshop(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bookshop"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SEEDBAKE_ENV")
        .env_remove("BOOKSHOP_PRODUCTION")
        .env_remove("INITIAL_ADMIN_PASSWORD")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs and requires exit `code`, returning stdout and stderr.
fn run(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let out = bookshop(dir, args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

fn json(dir: &Path, args: &[&str], code: i32) -> Value {
    let mut with = args.to_vec();
    with.push("--json");
    serde_json::from_str(&run(dir, &with, code).0).unwrap()
}

#[test]
fn the_help_speaks_for_the_app_and_offers_only_what_its_seed_has() {
    let dir = tempfile::tempdir().unwrap();
    let (help, _) = run(dir.path(), &["--help"], 0);
    assert!(
        help.contains("Reset and seed the Bookshop database"),
        "{help}"
    );
    // (clap may wrap the line after "[default:")
    assert!(help.contains("sqlite:///./bookshop.db]"), "{help}");
    assert!(!help.to_lowercase().contains("aquarius"), "{help}");
    // No admin account, no images: neither command nor the image options.
    for absent in ["init-admin", "--static-dir", "--no-images", "figur"] {
        assert!(!help.contains(absent), "{absent} in:\n{help}");
    }
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("images ")),
        "{help}"
    );
    let (info, _) = run(dir.path(), &["info"], 0);
    assert!(info.contains("embedded seed of Bookshop"), "{info}");
    assert!(
        info.contains("production when set: BOOKSHOP_PRODUCTION"),
        "{info}"
    );
    assert!(
        !dir.path().join("bookshop.db").exists(),
        "info touches no database"
    );
}

#[test]
fn a_reset_is_verified_and_in_step_without_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let reset = json(dir.path(), &["reset"], 0);
    assert_eq!(reset["rows"], 7);
    // No [admin]: nothing to say about an admin password.
    assert!(reset.get("admin_password").is_none(), "{reset}");
    assert!(dir.path().join("bookshop.db").is_file());
    assert!(!dir.path().join("aquarius.db").exists());
    assert_eq!(json(dir.path(), &["verify"], 0)["matches"], true);
    // The commands it suggests are its own.
    let (_, refused) = run(dir.path(), &["seed"], 5);
    assert!(refused.contains("Use `bookshop reset`"), "{refused}");

    // Right after the reset: in step, and told how to start migrations.
    let (status, _) = run(dir.path(), &["status"], 0);
    assert!(status.contains("is in step with the build"), "{status}");
    assert!(status.contains("migration new initial"), "{status}");
    let status = json(dir.path(), &["status"], 0);
    assert_eq!(status["in_step"], true);
    assert!(status["start_migrations"].as_str().is_some(), "{status}");
    let (migrated, _) = run(dir.path(), &["migrate"], 0);
    assert!(migrated.contains("nothing to do"), "{migrated}");
    assert!(migrated.contains("migration new initial"), "{migrated}");
}

/// Changes the database through the binary's own dump and restore: the
/// dump's text, edited.
fn edit_database(dir: &Path, edit: impl FnOnce(String) -> String) {
    let dump = dir.join("changed.sql");
    let _ = std::fs::remove_file(&dump);
    run(dir, &["dump", "--output", "changed.sql"], 0);
    let sql = std::fs::read_to_string(&dump).unwrap();
    std::fs::write(&dump, edit(sql)).unwrap();
    run(dir, &["restore", "changed.sql", "--yes"], 0);
}

#[test]
fn without_migrations_a_schema_not_the_builds_is_out_of_step() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    // A table the schema does not declare, inside the dump's transaction.
    edit_database(dir.path(), |mut sql| {
        let commit = sql.rfind("COMMIT;").expect("a dump ends with its COMMIT");
        sql.insert_str(commit, "CREATE TABLE wishlist (title TEXT);\n");
        sql
    });
    // migrate would refuse it, and status says so with migrate's code.
    let (status, _) = run(dir.path(), &["status"], 9);
    assert!(
        status.contains("not the one this build's schema.sql makes"),
        "{status}"
    );
    assert!(status.contains("migration new initial"), "{status}");
    let (_, refused) = run(dir.path(), &["migrate"], 9);
    assert!(refused.contains("but a reset"), "{refused}");
    assert!(refused.contains("migration new initial"), "{refused}");
    assert!(refused.contains("Nothing was changed"), "{refused}");
}

#[test]
fn verify_names_the_table_key_and_column_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    // Change one price and drop one book.
    edit_database(dir.path(), |sql| {
        let solaris = sql
            .lines()
            .find(|l| l.contains("'Solaris'"))
            .expect("the dump inserts Solaris")
            .to_owned();
        assert!(sql.contains("'Dune',1,1965,12.5"), "{sql}");
        sql.replace("'Dune',1,1965,12.5", "'Dune',1,1965,13.5")
            .replace(&format!("{solaris}\n"), "")
    });

    let (out, _) = run(dir.path(), &["verify"], 1);
    assert!(
        out.contains(
            "book row title = \"Dune\", column price: 13.5 in the database, 12.5 in the seed"
        ),
        "{out}"
    );
    assert!(
        out.contains("book row title = \"Solaris\": the database does not have this row"),
        "{out}"
    );
    let report = json(dir.path(), &["verify"], 1);
    assert_eq!(report["differences"][0]["table"], "book");
    assert_eq!(report["differences"][0]["column"], "price");
}

#[test]
fn commands_the_seed_has_no_use_for_say_why() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    let (_, err) = run(
        dir.path(),
        &["init-admin", "--username", "x", "--password-stdin"],
        2,
    );
    assert!(err.contains("this seed has no admin account"), "{err}");
    let (out, _) = run(dir.path(), &["images"], 0);
    assert!(out.contains("this seed embeds no images"), "{out}");
    let out = Command::new(env!("CARGO_BIN_EXE_bookshop"))
        .arg("reset")
        .current_dir(dir.path())
        .env("INITIAL_ADMIN_PASSWORD", "Lesesaal-Regal-2026")
        .env_remove("BOOKSHOP_PRODUCTION")
        .env_remove("SEEDBAKE_ENV")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("this seed has no admin account"), "{err}");
    assert!(
        err.contains("it is ignored") && !err.contains("Lesesaal"),
        "{err}"
    );
}

#[test]
fn production_is_what_the_app_says_it_is() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    // A dry run's plan (on standard error) under the given variables.
    let plan = |set: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_bookshop"))
            .args(["reset", "--dry-run"])
            .current_dir(dir.path())
            .env_remove("FLY_APP_NAME")
            .env_remove("BOOKSHOP_PRODUCTION")
            .env_remove("SEEDBAKE_ENV")
            .env(set, "1")
            .output()
            .unwrap();
        let plan = text(&out.stderr);
        assert!(out.status.success(), "{plan}");
        plan
    };
    // Another app's production variable means nothing here...
    let other = plan("FLY_APP_NAME");
    assert!(
        other.contains("development (the database is a local file)"),
        "{other}"
    );
    // ...its own does.
    let plan = plan("BOOKSHOP_PRODUCTION");
    assert!(
        plan.contains("PRODUCTION (BOOKSHOP_PRODUCTION is set"),
        "{plan}"
    );
}

// ---------------------------------------------------------------------------
// The exactness rule through the app's own binary: a reset stores what the
// engine makes of the seed's source rows inserted once, in order. The
// reference is the sqlite3 shell given those rows as written out by hand
// below (each cell as its text, an unquoted empty cell as NULL, `""` as the
// empty string, t/f/yes as 1/0, the hex cover as bytes); the trigger that
// counts books runs once.

const SOURCE_ROWS: &str = "
INSERT INTO author (id, name, country) VALUES (1, 'Frank Herbert', 'US');
INSERT INTO author (id, name, country) VALUES (2, 'Ursula K. Le Guin', 'US');
INSERT INTO author (id, name, country) VALUES (3, 'Stanisław Lem', 'PL');
INSERT INTO book (id, title, author_id, year, price, isbn, weight_kg, in_print, added_at, cover, note)
  VALUES (1, 'Dune', 1, '1965', '12.5', '0441013597', '0.350', 1, '2024-01-05T09:00:00Z', X'89504e470d0a1a0a', '');
INSERT INTO book (id, title, author_id, year, price, isbn, weight_kg, in_print, added_at, cover, note)
  VALUES (2, 'The Left Hand of Darkness', 2, '1969', '10', '0441478123', NULL, 0, '2024-01-05 09:00:00+01:00', NULL, NULL);
INSERT INTO book (id, title, author_id, year, price, isbn, weight_kg, in_print, added_at, cover, note)
  VALUES (3, 'The Dispossessed', 2, '1974', '11', NULL, '0.420', 1, '2024-02-01', NULL, 'Hugo and Nebula');
INSERT INTO book (id, title, author_id, year, price, isbn, weight_kg, in_print, added_at, cover, note)
  VALUES (4, 'Solaris', 3, '1961', '9.9', '0156027607', '0.3', 1, NULL, X'ffd8ffe0', NULL);
";

fn sqlite3(db: &Path, input: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("sqlite3")
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the sqlite3 shell (CI installs it: apt-get install sqlite3)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!(".bail on\n{input}").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "sqlite3: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Every stored value with its storage class, table by table.
fn stored(db: &Path) -> String {
    sqlite3(
        db,
        "SELECT 'author', id, quote(name), quote(country), book_count, typeof(book_count) FROM author ORDER BY id;
         SELECT 'book', id, quote(title), author_id, quote(year), quote(price), typeof(price), quote(isbn), typeof(isbn),
                quote(weight_kg), typeof(weight_kg), quote(in_print), quote(added_at), quote(cover), quote(note)
           FROM book ORDER BY id;",
    )
}

#[test]
fn a_reset_stores_what_the_engine_makes_of_the_source_rows_and_verify_agrees() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    let reference = dir.path().join("reference.db");
    let schema =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/schema.sql"))
            .unwrap();
    sqlite3(&reference, &format!("{schema}\n{SOURCE_ROWS}"));

    let ours = stored(&dir.path().join("bookshop.db"));
    assert_eq!(ours, stored(&reference));
    // What the rule means, spelled out (so agreeing means something): the
    // trigger counted each book once, text with leading zeros stayed text,
    // "10" in a REAL column is the real 10.0, "" is not NULL, bytes are bytes.
    for expected in [
        "author|2|'Ursula K. Le Guin'|'US'|2|integer",
        "book|1|'Dune'|1|1965|12.5|real|'0441013597'|text|0.35|real|1|'2024-01-05T09:00:00Z'|X'89504E470D0A1A0A'|''",
        "book|2|'The Left Hand of Darkness'|2|1969|10.0|real|'0441478123'|text|NULL|null|0|'2024-01-05 09:00:00+01:00'|NULL|NULL",
    ] {
        assert!(
            ours.lines().any(|l| l == expected),
            "{expected:?} not in:\n{ours}"
        );
    }

    // The binary's own proof agrees: the sqlite3 shell's database of the
    // same source rows matches the build.
    let url = format!("sqlite:///{}", reference.display());
    let verified = json(dir.path(), &["verify", "--database-url", &url], 0);
    assert_eq!(verified["matches"], true, "{verified}");
}

#[test]
fn verify_catches_a_counter_a_trigger_ran_up_twice() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    // What loading rows read back after their triggers (and inserting them
    // again) used to give: every count doubled.
    sqlite3(
        &dir.path().join("bookshop.db"),
        "UPDATE author SET book_count = book_count * 2;",
    );
    let (out, _) = run(dir.path(), &["verify"], 1);
    assert!(out.contains("author"), "{out}");
    assert!(out.contains("book_count"), "{out}");
}

/// The shop's database after months in production: authors and books
/// added (an empty country and none at all, a title that looks like a
/// number, prices only a real holds), and a table of its own the seed
/// never had, with bytes in it. `extract` writes it all back as a folder
/// whose build has the database's fingerprint.
#[test]
fn extract_gives_back_the_shops_rows_and_a_table_the_seed_did_not_know() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["reset"], 0);
    edit_database(dir.path(), |mut sql| {
        let commit = sql.rfind("COMMIT;").expect("a dump ends with its COMMIT");
        sql.insert_str(
            commit,
            "INSERT INTO author (id, name, country) VALUES (100, 'Neue Autorin', ''), (101, '1984', NULL);\n\
             INSERT INTO book (title, author_id, year, price, in_print) VALUES ('Nullpunkt', 100, 2024, 0.1, 1), \
             ('Glatt', 101, 2025, 3.0, 0), ('Teuer', 101, 2025, 1.7976931348623157e308, 1), \
             ('Winzig', 101, 2025, 1.1125369292536007e-308 + 5e-324, 1);\n\
             CREATE TABLE review (id INTEGER PRIMARY KEY, book TEXT NOT NULL, stars REAL, note TEXT, raw BLOB);\n\
             INSERT INTO review VALUES (1, 'Dune', 4.5, '', x'00ff10'), (2, '1984', 5.0, NULL, NULL);\n",
        );
        sql
    });
    let report = json(dir.path(), &["extract", "--out", "seed-out"], 0);
    let printed = report["fingerprint"].as_str().unwrap();
    assert_eq!(report["new_tables"], serde_json::json!(["review"]));
    // The database is no longer the build's, but it is what was extracted.
    let verify = json(dir.path(), &["verify"], 1);
    assert_eq!(verify["actual"].as_str(), Some(printed));

    let folder = dir.path().join("seed-out");
    let compiled = seedbake_compiler::compile(&folder).unwrap();
    let default = compiled.default_profile();
    assert_eq!(default.fingerprint.total, printed);

    let authors = std::fs::read_to_string(folder.join("authors.csv")).unwrap();
    // The new authors' ids leave a gap, which numbering 1, 2, 3… could
    // not give: the ids are written.
    assert!(authors.starts_with("id,name,country\n"), "{authors}");
    assert!(authors.contains("\n100,Neue Autorin,\"\"\n"), "{authors}");
    assert!(authors.contains("\n101,1984,\n"), "{authors}");
    let books = std::fs::read_to_string(folder.join("books.csv")).unwrap();
    assert!(
        books.contains("\nNullpunkt,Neue Autorin,2024,0.1,,,1,,,\n"),
        "{books}"
    );
    assert!(books.contains("\nGlatt,1984,2025,3.0,,,0,,,\n"), "{books}");
    // The count the trigger keeps stays the engine's: the build's load
    // counts the books again, once.
    assert!(!authors.contains("book_count"), "{authors}");
    let manifest = std::fs::read_to_string(folder.join("seed.toml")).unwrap();
    assert!(manifest.contains("blob = \"hex\""), "{manifest}");
    let schema = std::fs::read_to_string(folder.join("schema.sql")).unwrap();
    assert!(schema.contains("CREATE TABLE review"), "{schema}");

    use seedbake::value::Value as V;
    // A subnormal whose shortest spelling the engine reads back one unit
    // off (so it is made by arithmetic here): written longer, it comes
    // back exactly.
    let book = compiled.tables.iter().find(|t| t.name() == "book").unwrap();
    let tiny = book
        .rows
        .iter()
        .find(|r| r.contains(&V::Text("Winzig".into())))
        .unwrap();
    assert!(
        tiny.iter()
            .any(|v| matches!(v, V::Real(r) if r.to_bits() == 0x8_0000_0000_0001)),
        "{tiny:?}"
    );
    assert!(!books.contains("1.112536929253601e-308"), "{books}");
    let review = compiled
        .tables
        .iter()
        .find(|t| t.name() == "review")
        .unwrap();
    assert_eq!(
        review.rows[0],
        vec![
            V::Integer(1),
            V::Text("Dune".into()),
            V::Real(4.5),
            V::Text(String::new()),
            V::Blob(vec![0, 0xff, 0x10])
        ]
    );
    assert_eq!(review.rows[1][2], V::Real(5.0));
    assert_eq!(review.rows[1][3], V::Null);
}
