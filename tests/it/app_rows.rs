//! Rows the app can read: the values the app fills in itself (MODEL.md,
//! "Values the app fills in itself") are in every seeded row and in every
//! account `init-admin` creates or updates, `created_at` in the app's
//! spelling, and the admin role is the one today's app accepts, ADMIN.

use crate::common;

use common::output_text as text;

use std::path::Path;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use seedbake::SEED;
use seedbake::seed::DefaultValue;
use seedbake::value::ValueRef;

/// The users columns the app reads as required: NOT NULL in its models, or
/// filled by its Python defaults (MODEL.md), written out here so that a
/// manifest that forgets one fails this test.
const USERS_REQUIRED: &[&str] = &[
    "id",
    "username",
    "hashed_password",
    "role",
    "is_active",
    "created_at",
    "totp_enabled",
    "is_app_user",
    "can_read_all",
    "can_write_all",
];

/// MODEL.md's table, verbatim: table, column, the app's default.
const APP_DEFAULTS: &[(&str, &str, &str)] = &[
    ("users", "role", "OFFIZIELLE"),
    ("users", "is_active", "1"),
    ("users", "created_at", "now"),
    ("users", "totp_enabled", "0"),
    ("users", "is_app_user", "0"),
    ("users", "can_read_all", "1"),
    ("users", "can_write_all", "0"),
    ("anmeldung", "anmeldedatum", "today"),
    ("anmeldung", "vorlaeufig", "0"),
    ("anmeldung", "status", "aktiv"),
];

const PASSWORD: &str = "Wasserball-Finale-2026";

use common::rt;

/// A freshly reset ./aquarius.db in a new folder.
fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, db) = common::temp_db();
    rt().block_on(common::reset(&db));
    (dir, db)
}

fn init_admin(dir: &Path, username: &str) -> Output {
    init_admin_with(dir, username, &[])
}

fn init_admin_with(dir: &Path, username: &str, extra: &[&str]) -> Output {
    common::output_with_stdin(
        common::seedbake_command(&[])
            .current_dir(dir)
            .args(["init-admin", "--username", username, "--password-stdin"])
            .args(extra),
        format!("{PASSWORD}\n").as_bytes(),
    )
}

/// Every column of the user's row, by name, as the engine returns it.
fn user_row(db: &Path, username: &str) -> Vec<(String, libsql::Value)> {
    rt().block_on(async {
        let conn = common::connect(db).await;
        let mut rows = conn
            .query("SELECT * FROM users WHERE username = ?1", [username])
            .await
            .unwrap();
        let r = rows.next().await.unwrap().expect("the account exists");
        (0..r.column_count())
            .map(|i| {
                (
                    r.column_name(i).unwrap().to_owned(),
                    r.get_value(i).unwrap(),
                )
            })
            .collect()
    })
}

fn get<'r>(row: &'r [(String, libsql::Value)], column: &str) -> &'r libsql::Value {
    &row.iter().find(|(c, _)| c == column).unwrap().1
}

fn text_of(row: &[(String, libsql::Value)], column: &str) -> String {
    match get(row, column) {
        libsql::Value::Text(t) => t.clone(),
        other => panic!("{column} is {other:?}, not text"),
    }
}

#[track_caller]
fn assert_app_readable(row: &[(String, libsql::Value)]) {
    for column in USERS_REQUIRED {
        assert_ne!(
            *get(row, column),
            libsql::Value::Null,
            "users.{column} is NULL: {row:?}"
        );
    }
}

/// `2025-09-01 08:00:00.000000`, exactly: SQLAlchemy's spelling.
#[track_caller]
fn assert_app_spelling(datetime: &str) {
    let shape = datetime
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect::<String>();
    assert_eq!(shape, "9999-99-99 99:99:99.999999", "{datetime:?}");
    assert!(seedbake::value::is_iso_datetime(datetime), "{datetime:?}");
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn the_manifest_declares_every_value_the_app_fills_in_itself() {
    let declared: Vec<(&str, &str, String)> = SEED
        .defaults
        .iter()
        .map(|d| {
            let v = match d.value {
                DefaultValue::Now => "now".to_owned(),
                DefaultValue::Today => "today".to_owned(),
                DefaultValue::Value(ValueRef::Integer(i)) => i.to_string(),
                DefaultValue::Value(ValueRef::Text(t)) => t.to_owned(),
                DefaultValue::Value(other) => format!("{other:?}"),
            };
            (d.table, d.column, v)
        })
        .collect();
    for (table, column, value) in APP_DEFAULTS {
        assert!(
            declared.contains(&(*table, *column, (*value).to_owned())),
            "{table}.{column} = {value} is not declared: {declared:?}"
        );
    }
    // The admin's role is ADMIN, declared, not ROOT.
    let admin = SEED.admin.expect("the seed names an admin account");
    assert!(
        admin.grant.contains(&("role", ValueRef::Text("ADMIN"))),
        "{:?}",
        admin.grant
    );
}

#[test]
fn the_seeded_rows_carry_every_value_the_app_requires() {
    let (_dir, db) = seeded();
    let users = SEED.table("users").unwrap();
    assert!(users.row_count >= 5);
    for key in users_keys() {
        let row = user_row(&db, &key);
        assert_app_readable(&row);
        assert_app_spelling(&text_of(&row, "created_at"));
    }
    let admin = user_row(&db, SEED.admin.unwrap().key);
    assert_eq!(text_of(&admin, "role"), "ADMIN");
    for column in ["anmeldedatum", "vorlaeufig", "status"] {
        let nulls = rt().block_on(common::query_i64(
            &db,
            &format!("SELECT count(*) FROM anmeldung WHERE {column} IS NULL"),
        ));
        assert_eq!(nulls, 0, "anmeldung.{column}");
    }
}

fn users_keys() -> Vec<String> {
    let users = SEED.table("users").unwrap();
    let ci = users.column_index("username").unwrap();
    users
        .rows()
        .map(|r| match r[ci] {
            ValueRef::Text(t) => t.to_owned(),
            other => panic!("username {other:?}"),
        })
        .collect()
}

#[test]
fn init_admin_creates_an_account_the_app_can_read() {
    let (dir, db) = seeded();
    let before = now_secs();
    let o = init_admin(dir.path(), "chefin");
    let after = now_secs();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("created the admin account \"chefin\""),
        "{}",
        text(&o)
    );
    let row = user_row(&db, "chefin");
    assert_app_readable(&row);
    assert_eq!(text_of(&row, "role"), "ADMIN");
    let int = |c: &str| match get(&row, c) {
        libsql::Value::Integer(i) => *i,
        other => panic!("{c} is {other:?}"),
    };
    assert_eq!(
        [
            int("is_active"),
            int("totp_enabled"),
            int("is_app_user"),
            int("can_read_all"),
            int("can_write_all")
        ],
        [1, 0, 0, 1, 0]
    );
    let hash = text_of(&row, "hashed_password");
    assert!(bcrypt::verify(PASSWORD, &hash).unwrap());
    // The current UTC time, in the app's spelling.
    let created = text_of(&row, "created_at");
    assert_app_spelling(&created);
    let at = rt().block_on(common::query_i64(
        &db,
        "SELECT CAST(strftime('%s', created_at) AS INTEGER) FROM users WHERE username = 'chefin'",
    ));
    assert!(
        (before - 1..=after + 1).contains(&at),
        "created_at {created} is not the current UTC time"
    );
}

#[test]
fn init_admin_updating_an_account_clears_nothing() {
    let (dir, db) = seeded();
    let before = user_row(&db, "fritz");
    let o = init_admin(dir.path(), "fritz");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("updated the admin account \"fritz\""),
        "{}",
        text(&o)
    );
    let after = user_row(&db, "fritz");
    assert_app_readable(&after);
    for ((column, old), (_, new)) in before.iter().zip(&after) {
        match column.as_str() {
            "hashed_password" => {
                assert_ne!(old, new);
                assert!(bcrypt::verify(PASSWORD, &text_of(&after, column)).unwrap());
            }
            "role" => assert_eq!(*new, libsql::Value::Text("ADMIN".into())),
            _ => assert_eq!(old, new, "users.{column} changed"),
        }
    }
}

#[test]
fn init_admin_completes_an_account_an_older_tool_left_incomplete() {
    let (dir, db) = seeded();
    // As the old init-admin (and the app's init_admin.py) left it: role
    // ROOT, the app's Python-side values NULL.
    rt().block_on(common::execute(
        &db,
        "INSERT INTO users (username, email, full_name, hashed_password, role) \
         VALUES ('altadmin', 'alt@aquarius.org', 'Alter Admin', 'x', 'ROOT')",
    ));
    let o = init_admin(dir.path(), "altadmin");
    assert!(o.status.success(), "{}", text(&o));
    let row = user_row(&db, "altadmin");
    assert_app_readable(&row);
    assert_eq!(text_of(&row, "role"), "ADMIN");
    assert_eq!(text_of(&row, "email"), "alt@aquarius.org");
    assert_eq!(text_of(&row, "full_name"), "Alter Admin");
    assert_app_spelling(&text_of(&row, "created_at"));
    assert_eq!(*get(&row, "totp_enabled"), libsql::Value::Integer(0));
    assert_eq!(*get(&row, "can_read_all"), libsql::Value::Integer(1));
}

/// A production reset locks every seeded account; `--password-only` gives
/// one a password again without making a read-only account an admin.
#[test]
fn password_only_sets_the_password_and_nothing_else() {
    let (dir, db) = seeded();
    let before = user_row(&db, "gernot");
    let o = init_admin_with(dir.path(), "gernot", &["--password-only"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("set the password of the account \"gernot\""),
        "{}",
        text(&o)
    );
    let after = user_row(&db, "gernot");
    for ((column, old), (_, new)) in before.iter().zip(&after) {
        if column == "hashed_password" {
            let libsql::Value::Text(hash) = new else {
                panic!("{new:?}")
            };
            assert!(bcrypt::verify(PASSWORD, hash).unwrap());
        } else {
            assert_eq!(old, new, "{column} changed");
        }
    }
    assert_eq!(text_of(&after, "role"), "VERWALTUNG");

    // An account that does not exist is not made.
    let o = init_admin_with(dir.path(), "niemand", &["--password-only"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("there is no account \"niemand\""),
        "{}",
        text(&o)
    );
    let made = rt().block_on(async {
        let conn = libsql::Builder::new_local(&db)
            .build()
            .await
            .unwrap()
            .connect()
            .unwrap();
        let mut rows = conn
            .query("SELECT count(*) FROM users WHERE username = 'niemand'", ())
            .await
            .unwrap();
        rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
    });
    assert_eq!(made, 0);
}
