//! Resets, seeds and verifies against real libSQL database files.

use crate::common;

use common::*;
use seedbake::Error;
use seedbake::ops::{self, LoadOptions, Observer};
use seedbake::seed::SEED;
use seedbake::seed::tables::{Anmeldung, Figur, Users, Wettkampf};

fn without_metadata(dump: Vec<String>) -> Vec<String> {
    // `_seedbake` and `_seedbake_migrations` record when the load happened;
    // everything else must match.
    dump.into_iter()
        .filter(|l| !l.starts_with("_seedbake:") && !l.starts_with("_seedbake_migrations:"))
        .collect()
}

#[tokio::test]
async fn a_reset_database_is_intact_and_holds_what_model_md_lists() {
    let (_dir, db) = temp_db();
    let report = reset(&db).await;
    assert_eq!(report.profile, "full");
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM pragma_foreign_key_check").await,
        0
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"
        )
        .await,
        0
    );
    for (table, rows) in [
        ("users", 5),
        ("verband", 13),
        ("versicherung", 18),
        ("saison", 4),
        ("schwimmbad", 3),
        ("verein", 3),
        ("wettkampf", 4),
        ("kind", 50),
        ("figur", 26),
        ("performance_probe", 1000),
    ] {
        assert_eq!(
            query_i64(&db, &format!("SELECT count(*) FROM {table}")).await,
            rows,
            "{table}"
        );
    }
    // 5 to 10 registrations per competition, 3 figures each.
    for w in 1..=4 {
        let n = query_i64(
            &db,
            &format!("SELECT count(*) FROM anmeldung WHERE wettkampf_id = {w}"),
        )
        .await;
        assert!(
            (5..=10).contains(&n),
            "competition {w} has {n} registrations"
        );
    }
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM (SELECT anmeldung_id FROM anmeldung_figuren GROUP BY 1 HAVING count(*) != 3)").await,
        0
    );
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM anmeldung").await * 3,
        query_i64(&db, "SELECT count(*) FROM anmeldung_figuren").await
    );
}

#[tokio::test]
async fn the_schema_is_the_apps_contract() {
    let (_dir, db) = temp_db();
    reset(&db).await;
    let columns = |table: &'static str| {
        let db = db.clone();
        async move {
            let database = libsql::Builder::new_local(&db).build().await.unwrap();
            let conn = database.connect().unwrap();
            let mut rows = conn
                .query(&format!("PRAGMA table_info({table})"), ())
                .await
                .unwrap();
            let mut out = Vec::new();
            while let Some(r) = rows.next().await.unwrap() {
                let name: String = r.get(1).unwrap();
                let ty: String = r.get(2).unwrap();
                let not_null: i64 = r.get(3).unwrap();
                let pk: i64 = r.get(5).unwrap();
                out.push(format!(
                    "{name} {ty}{}{}",
                    if not_null == 1 { " NOT NULL" } else { "" },
                    if pk > 0 { " PK" } else { "" }
                ));
            }
            out.join(", ")
        }
    };
    assert_eq!(
        columns("users").await,
        "id INTEGER NOT NULL PK, username VARCHAR NOT NULL, email VARCHAR, full_name VARCHAR, hashed_password VARCHAR NOT NULL, \
         role VARCHAR NOT NULL, is_active BOOLEAN, created_at DATETIME, totp_secret VARCHAR, totp_enabled BOOLEAN, \
         backup_codes TEXT, totp_setup_at DATETIME, last_active DATETIME, is_app_user BOOLEAN, can_read_all BOOLEAN, can_write_all BOOLEAN"
    );
    assert_eq!(
        columns("verband").await,
        "id INTEGER NOT NULL PK, name VARCHAR NOT NULL, abkuerzung VARCHAR(5) NOT NULL, land VARCHAR NOT NULL, ort VARCHAR NOT NULL"
    );
    assert_eq!(
        columns("wettkampf").await,
        "id INTEGER NOT NULL PK, name VARCHAR NOT NULL, datum DATE NOT NULL, max_teilnehmer INTEGER, saison_id INTEGER NOT NULL, schwimmbad_id INTEGER NOT NULL"
    );
    assert_eq!(
        columns("wettkampf_figuren").await,
        "wettkampf_id INTEGER NOT NULL PK, figur_id INTEGER NOT NULL PK"
    );
    assert_eq!(
        columns("performance_probe").await,
        "id INTEGER PK, created_at TEXT NOT NULL, payload TEXT"
    );
    // All 23 of the app's indexes, by its names: the unique ones and the
    // plain `index=True` ones its look-ups rely on (tests/app_schema.rs
    // compares the whole shape with the app's own DDL).
    let indexes = [
        ("ix_users_username", "users", "username", true),
        ("ix_users_id", "users", "id", false),
        ("ix_users_email", "users", "email", true),
        ("ix_saison_name", "saison", "name", false),
        ("ix_saison_id", "saison", "id", false),
        ("ix_schwimmbad_name", "schwimmbad", "name", false),
        ("ix_schwimmbad_id", "schwimmbad", "id", false),
        ("ix_verein_id", "verein", "id", false),
        ("ix_verein_name", "verein", "name", false),
        ("ix_verband_id", "verband", "id", false),
        ("ix_verband_name", "verband", "name", true),
        ("ix_verband_abkuerzung", "verband", "abkuerzung", true),
        ("ix_versicherung_kurz", "versicherung", "kurz", true),
        ("ix_versicherung_name", "versicherung", "name", true),
        ("ix_versicherung_id", "versicherung", "id", false),
        ("ix_figur_id", "figur", "id", false),
        ("ix_figur_name", "figur", "name", false),
        ("ix_wettkampf_name", "wettkampf", "name", false),
        ("ix_wettkampf_id", "wettkampf", "id", false),
        ("ix_kind_email", "kind", "email", true),
        ("ix_kind_nachname", "kind", "nachname", false),
        ("ix_kind_id", "kind", "id", false),
        ("ix_anmeldung_id", "anmeldung", "id", false),
    ];
    for (index, table, column, unique) in indexes {
        let sql = format!(
            "SELECT count(*) FROM pragma_index_list('{table}') l JOIN pragma_index_info('{index}') i \
             WHERE l.name = '{index}' AND l.\"unique\" = {} AND l.partial = 0 \
             AND i.seqno = 0 AND i.name = '{column}' \
             AND (SELECT count(*) FROM pragma_index_info('{index}')) = 1",
            i64::from(unique)
        );
        assert_eq!(query_i64(&db, &sql).await, 1, "{index}");
    }
    // And no other index of our own (the engine's autoindexes for the
    // composite primary keys aside).
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'"
        )
        .await,
        indexes.len() as i64
    );
    // Foreign keys as MODEL.md draws them.
    for (table, column, parent) in [
        ("wettkampf", "saison_id", "saison"),
        ("wettkampf", "schwimmbad_id", "schwimmbad"),
        ("kind", "verein_id", "verein"),
        ("kind", "verband_id", "verband"),
        ("kind", "versicherung_id", "versicherung"),
        ("wettkampf_figuren", "wettkampf_id", "wettkampf"),
        ("wettkampf_figuren", "figur_id", "figur"),
        ("anmeldung", "kind_id", "kind"),
        ("anmeldung", "wettkampf_id", "wettkampf"),
        ("anmeldung_figuren", "anmeldung_id", "anmeldung"),
        ("anmeldung_figuren", "figur_id", "figur"),
    ] {
        let sql = format!(
            "SELECT count(*) FROM pragma_foreign_key_list('{table}') WHERE \"from\" = '{column}' AND \"table\" = '{parent}' AND \"to\" = 'id'"
        );
        assert_eq!(query_i64(&db, &sql).await, 1, "{table}.{column}");
    }
}

#[tokio::test]
async fn competition_figures_follow_the_difficulty_rule() {
    let (_dir, db) = temp_db();
    reset(&db).await;
    for (wettkampf, rule) in [
        ("Wintercup 2025", "schwierigkeitsgrad <= 13"),
        (
            "Frühjahrsmeeting 2026",
            "schwierigkeitsgrad BETWEEN 12 AND 16",
        ),
        ("Sommerfest 2026", "schwierigkeitsgrad >= 14"),
        ("Herbstpokal 2026", "1"),
    ] {
        let allowed = query_i64(&db, &format!("SELECT count(*) FROM figur WHERE {rule}")).await;
        let assigned = query_i64(
            &db,
            &format!(
                "SELECT count(*) FROM wettkampf_figuren wf JOIN wettkampf w ON w.id = wf.wettkampf_id \
                 JOIN figur f ON f.id = wf.figur_id WHERE w.name = '{wettkampf}' AND {rule}"
            ),
        )
        .await;
        let total = query_i64(
            &db,
            &format!("SELECT count(*) FROM wettkampf_figuren wf JOIN wettkampf w ON w.id = wf.wettkampf_id WHERE w.name = '{wettkampf}'"),
        )
        .await;
        assert!(allowed > 0);
        assert_eq!((assigned, total), (allowed, allowed), "{wettkampf}");
    }
    // Registered figures are allowed in their competition; dates 30–90 days before.
    let stray = query_i64(
        &db,
        "SELECT count(*) FROM anmeldung_figuren af JOIN anmeldung a ON a.id = af.anmeldung_id \
         WHERE NOT EXISTS (SELECT 1 FROM wettkampf_figuren wf WHERE wf.wettkampf_id = a.wettkampf_id AND wf.figur_id = af.figur_id)",
    )
    .await;
    assert_eq!(stray, 0);
    let off = query_i64(
        &db,
        "SELECT count(*) FROM anmeldung a JOIN wettkampf w ON w.id = a.wettkampf_id \
         WHERE julianday(w.datum) - julianday(a.anmeldedatum) NOT BETWEEN 30 AND 90",
    )
    .await;
    assert_eq!(off, 0);
}

#[test]
fn typed_access_reads_the_embedded_seed_without_sql() {
    let ballettbein = Figur::all().find(|f| f.name == "Ballettbein").unwrap();
    assert_eq!(ballettbein.id, 1);
    assert_eq!(ballettbein.schwierigkeitsgrad, Some(12));
    assert_eq!(ballettbein.bild, Some("figuren/images/f01-balletbein.png"));
    assert_eq!(
        Figur::by_key(&["F26"]).unwrap().name,
        "Umgekehrte Pike zur Vertikalen"
    );
    let wintercup = Wettkampf::by_key(&["Wintercup 2025"]).unwrap();
    assert_eq!(
        (wintercup.datum, wintercup.max_teilnehmer),
        ("2025-12-08", Some(120))
    );
    let admin = Users::by_key(&["admin"]).unwrap();
    assert_eq!(admin.role, "ADMIN");
    assert!(bcrypt::verify("admin", admin.hashed_password).unwrap());
    assert!(admin.hashed_password.starts_with("$2b$12$"));
    assert_eq!(
        Anmeldung::all()
            .filter(|a| a.wettkampf_id == wintercup.id)
            .count(),
        6
    );
    let image = SEED.image(ballettbein.bild.unwrap()).unwrap();
    assert_eq!(image.media_type, "image/png");
    assert_eq!(
        SEED.image("figuren/images/f05-vertikale.png")
            .unwrap()
            .media_type,
        "image/jpeg"
    );
}

#[tokio::test]
async fn two_resets_give_identical_databases() {
    let (_a, first) = temp_db();
    let (_b, second) = temp_db();
    let r1 = reset(&first).await;
    let r2 = reset(&second).await;
    assert_eq!(r1.fingerprint, r2.fingerprint);
    assert_eq!(r1.fingerprint, SEED.default_profile().fingerprint);
    assert_eq!(
        without_metadata(dump(&first).await),
        without_metadata(dump(&second).await)
    );
}

#[tokio::test]
async fn a_reset_over_a_modified_database_restores_exactly_the_seed() {
    let (_a, pristine) = temp_db();
    reset(&pristine).await;
    let (_b, db) = temp_db();
    reset(&db).await;
    execute(
        &db,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes (body) VALUES ('mine');
         CREATE VIEW v_kinder AS SELECT vorname FROM kind;
         CREATE TRIGGER t_kind AFTER INSERT ON kind BEGIN INSERT INTO notes (body) VALUES ('x'); END;
         CREATE INDEX ix_extra ON kind (nachname);
         UPDATE kind SET vorname = 'Geändert' WHERE id = 3;
         DELETE FROM anmeldung_figuren WHERE rowid % 2 = 0;
         INSERT INTO verband (name, abkuerzung, land, ort) VALUES ('Neu', 'NEU', 'DE', 'Bonn');
         ALTER TABLE users ADD COLUMN nickname TEXT;",
    )
    .await;
    let target = open(&db).await;
    let drift = ops::verify(&*target, None).await.unwrap();
    assert!(!drift.matches);
    for t in [
        "(schema)",
        "kind",
        "anmeldung_figuren",
        "verband",
        "users",
        "notes",
    ] {
        assert!(
            drift.differing.iter().any(|d| d == t),
            "{t} not in {:?}",
            drift.differing
        );
    }
    assert!(!drift.differing.iter().any(|d| d == "figur"));

    let report = ops::reset(&*target, &full(), &mut ops::Quiet)
        .await
        .unwrap();
    let dropped: Vec<&str> = report.dropped.iter().map(|o| o.name.as_str()).collect();
    for name in ["notes", "v_kinder", "t_kind", "kind"] {
        assert!(dropped.contains(&name), "{name} not dropped: {dropped:?}");
    }
    assert!(ops::verify(&*target, None).await.unwrap().matches);
    assert_eq!(
        without_metadata(dump(&pristine).await),
        without_metadata(dump(&db).await)
    );
}

/// Fails the load after a given number of rows, as a crash or a server
/// refusal would in the middle of a seed.
struct FailAfter {
    rows: usize,
    seen: usize,
}

impl Observer for FailAfter {
    fn rows_loaded(&mut self, _table: &str, rows: usize) -> Result<(), String> {
        self.seen += rows;
        if self.seen >= self.rows {
            Err("injected failure".into())
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_failure_mid_seed_leaves_the_previous_database_intact() {
    let (_dir, db) = temp_db();
    reset(&db).await;
    execute(
        &db,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes (body) VALUES ('keep me');
         UPDATE kind SET vorname = 'Lokal' WHERE id = 1;",
    )
    .await;
    let before = dump(&db).await;
    for rows in [1, 200, 1300] {
        let err = reset_with(&db, &full(), &mut FailAfter { rows, seen: 0 })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::RolledBack { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("injected failure"), "{message}");
        assert!(message.contains("rolled back"), "{message}");
        assert_eq!(dump(&db).await, before, "after failing at {rows} rows");
    }
}

#[tokio::test]
async fn a_locked_database_is_waited_for_then_left_alone() {
    let (_dir, db) = temp_db();
    reset(&db).await;
    let before = dump(&db).await;
    // Another process' connection holds the write lock.
    let holder_db = libsql::Builder::new_local(&db).build().await.unwrap();
    let holder = holder_db.connect().unwrap();
    holder.execute("BEGIN IMMEDIATE", ()).await.unwrap();
    holder
        .execute("DELETE FROM performance_probe", ())
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let err = reset_with(&db, &full(), &mut ops::Quiet).await.unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("is locked by another process"),
        "{err}"
    );
    // It waited for the lock (200 ms in these tests) instead of failing at once.
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));

    holder.execute("ROLLBACK", ()).await.unwrap();
    assert_eq!(dump(&db).await, before);
}

#[tokio::test]
async fn seed_fills_an_empty_database_and_refuses_a_full_one() {
    let (_dir, db) = temp_db();
    let target = open(&db).await;
    let report = ops::seed(&*target, &full(), &mut ops::Quiet).await.unwrap();
    assert!(report.dropped.is_empty());
    let before = dump(&db).await;
    let err = ops::seed(&*target, &full(), &mut ops::Quiet)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotEmpty { .. }), "{err}");
    assert!(err.to_string().contains("table users"), "{err}");
    assert_eq!(dump(&db).await, before);
}

#[tokio::test]
async fn the_minimal_profile_seeds_only_reference_data() {
    let (_dir, db) = temp_db();
    let opts = LoadOptions {
        profile: SEED.profile("minimal").unwrap(),
        admin_password: None,
        production: false,
        backup: None,
    };
    let report = reset_with(&db, &opts, &mut ops::Quiet).await.unwrap();
    assert_eq!(report.rows, 5 + 13 + 18);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM kind").await, 0);
    assert_eq!(query_i64(&db, "SELECT count(*) FROM verband").await, 13);
    let target = open(&db).await;
    let verified = ops::verify(&*target, None).await.unwrap();
    assert!(verified.matches, "{verified:?}");
    assert_eq!(verified.profile, "minimal");
    // Against the full profile the same database is drift.
    let full = ops::verify(&*target, Some(SEED.default_profile()))
        .await
        .unwrap();
    assert!(!full.matches);
    assert!(full.differing.contains(&"kind".to_owned()));
}

#[tokio::test]
async fn initial_admin_password_is_hashed_for_passlib_and_keeps_the_fingerprint() {
    let (_dir, db) = temp_db();
    let secret = "Zz9-very-secret-pass";
    let opts = LoadOptions {
        profile: SEED.default_profile(),
        admin_password: Some(secret),
        production: false,
        backup: None,
    };
    let report = reset_with(&db, &opts, &mut ops::Quiet).await.unwrap();
    assert_eq!(report.admin_password, ops::AdminPassword::Provided);
    let database = libsql::Builder::new_local(&db).build().await.unwrap();
    let conn = database.connect().unwrap();
    let mut rows = conn
        .query(
            "SELECT hashed_password FROM users WHERE username = 'admin'",
            (),
        )
        .await
        .unwrap();
    let hash: String = rows.next().await.unwrap().unwrap().get(0).unwrap();
    assert!(hash.starts_with("$2b$12$"), "{hash}");
    assert!(bcrypt::verify(secret, &hash).unwrap());
    assert!(!bcrypt::verify("admin", &hash).unwrap());
    assert!(!format!("{report:?}").contains(secret));
    let target = open(&db).await;
    assert!(ops::verify(&*target, None).await.unwrap().matches);
}

/// The hashes run beside the load, but what can be refused about them is
/// refused before the load starts: a password longer than bcrypt reads is a
/// password error, and the database stays as it was.
#[tokio::test]
async fn a_password_bcrypt_would_cut_is_refused_before_anything_changes() {
    let (_dir, db) = temp_db();
    reset(&db).await;
    execute(&db, "UPDATE verband SET ort = 'Kassel'").await;
    let before = dump(&db).await;
    let long = "x".repeat(73);
    let opts = LoadOptions {
        profile: SEED.default_profile(),
        admin_password: Some(&long),
        production: true,
        backup: None,
    };
    let err = reset_with(&db, &opts, &mut ops::Quiet).await.unwrap_err();
    assert!(matches!(err, Error::Password(_)), "{err:?}");
    assert!(err.to_string().contains("72 bytes"), "{err}");
    assert_eq!(dump(&db).await, before);
}
