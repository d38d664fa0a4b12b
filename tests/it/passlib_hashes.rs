//! Every account a reset seeds logs in to the app: each `users` row's hash
//! verifies, with Python's passlib (what the app checks passwords with) and
//! Python's bcrypt, against that user's development password from
//! `seed-data/users.csv`, and refuses a wrong one. (tests/production.rs
//! checks the hashes `init-admin` writes; this covers the seeded rows.)

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// The development passwords, by user name, as `seed-data/users.csv` gives
/// them to the build.
fn dev_passwords() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/users.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let (user, password) = (column("username"), column("password"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[user].to_owned(), r[password].to_owned())
        })
        .collect()
}

/// Every seeded account's name and hash, in id order.
fn seeded_hashes(db: &Path) -> Vec<(String, String)> {
    let rt = common::rt();
    rt.block_on(async {
        let d = libsql::Builder::new_local(db).build().await.unwrap();
        let conn = d.connect().unwrap();
        let mut rows = conn
            .query(
                "SELECT username, hashed_password FROM users ORDER BY id",
                (),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.push((r.get(0).unwrap(), r.get(1).unwrap()));
        }
        out
    })
}

/// Asks Python, for each (password, hash), whether passlib's bcrypt, the
/// app's CryptContext and Python's bcrypt all accept it. None when Python's
/// passlib or bcrypt is not installed (allowed on a developer machine, not
/// under CI).
fn python_verifies(pairs: &[(&str, &str)]) -> Option<Vec<bool>> {
    let script = r#"
import json, sys
import bcrypt
from passlib.context import CryptContext
from passlib.hash import bcrypt as passlib_bcrypt
app = CryptContext(schemes=["bcrypt"], deprecated="auto")
answers = []
for password, hashed in json.load(sys.stdin):
    answers.append(
        passlib_bcrypt.verify(password, hashed)
        and app.verify(password, hashed)
        and bcrypt.checkpw(password.encode(), hashed.encode())
    )
print(json.dumps(answers))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let input = serde_json::to_vec(pairs).unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match serde_json::from_slice::<Vec<bool>>(&out.stdout) {
        Ok(answers) if out.status.success() => Some(answers),
        _ if stderr.contains("ModuleNotFoundError") && std::env::var_os("CI").is_none() => {
            eprintln!("skipping the passlib check (pip install \"bcrypt<5\" passlib): {stderr}");
            None
        }
        _ => panic!(
            "python3 could not check the hashes (CI needs: pip install \"bcrypt<5\" passlib): {}{stderr}",
            String::from_utf8_lossy(&out.stdout)
        ),
    }
}

#[test]
fn every_seeded_account_logs_in_with_its_development_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::seedbake_command(&[])
        .current_dir(dir.path())
        .arg("reset")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::output_text(&out));

    let passwords = dev_passwords();
    let seeded = seeded_hashes(&dir.path().join("aquarius.db"));
    // Every row of users.csv, and nothing else: admin, fritz, gernot, maria, peter.
    let names: Vec<&str> = seeded.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(names, ["admin", "fritz", "gernot", "maria", "peter"]);
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(
        passwords.keys().map(String::as_str).collect::<Vec<_>>(),
        sorted
    );

    let mut pairs = Vec::new();
    for (user, hash) in &seeded {
        // The form the app's passlib expects: bcrypt, $2b$, cost 12.
        assert!(
            hash.starts_with("$2b$12$") && hash.len() == 60,
            "{user}: {hash}"
        );
        pairs.push((passwords[user].as_str(), hash.as_str()));
        pairs.push(("not-the-password", hash.as_str()));
    }
    // The seeded hashes are all different (each has its own salt).
    let mut hashes: Vec<&str> = seeded.iter().map(|(_, h)| h.as_str()).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), seeded.len());

    let Some(answers) = python_verifies(&pairs) else {
        return;
    };
    for (((password, _), ok), i) in pairs.iter().zip(&answers).zip(0..) {
        let user = &seeded[i / 2].0;
        if i % 2 == 0 {
            assert!(*ok, "{user}: passlib refuses its password {password:?}");
        } else {
            assert!(!*ok, "{user}: passlib accepts a wrong password");
        }
    }
    assert_eq!(answers.len(), pairs.len());
}

/// Runs `seedbake reset --json` in `dir` with `env`; the report.
fn reset_json(dir: &Path, env: &[(&str, &str)]) -> (serde_json::Value, String) {
    let out = common::seedbake_command(env)
        .current_dir(dir)
        .args(["reset", "--json", "--yes", "--no-backup"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::output_text(&out));
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", common::output_text(&out)));
    (report, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn locked_accounts(report: &serde_json::Value) -> Vec<String> {
    report["locked_accounts"]
        .as_array()
        .expect("the report lists the locked accounts")
        .iter()
        .map(|a| {
            assert_eq!(a["table"], "users");
            a["account"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn in_production_no_seeded_account_keeps_its_published_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aquarius.db");
    let passwords = dev_passwords();
    let fly = [("FLY_APP_NAME", "aquarius")];

    // Development keeps the development passwords, and locks nothing.
    let (report, _) = reset_json(dir.path(), &[]);
    assert_eq!(locked_accounts(&report), Vec::<String>::new());
    let development = seeded_hashes(&db);

    // Production: every seeded account, the admin included, is locked.
    let (report, stderr) = reset_json(dir.path(), &fly);
    assert_eq!(
        locked_accounts(&report),
        ["admin", "fritz", "gernot", "maria", "peter"]
    );
    assert_eq!(report["admin_password"], "locked");
    // The admin gets its role with its password; every other account only
    // its password (a read-only account must not become an admin).
    assert!(
        stderr.contains("seedbake init-admin --username admin\n"),
        "{stderr}"
    );
    for user in ["fritz", "gernot", "maria", "peter"] {
        assert!(
            stderr.contains(&format!(
                "seedbake init-admin --username {user} --password-only\n"
            )),
            "{stderr}"
        );
    }
    // The fingerprint leaves credentials out: the same as in development.
    let (dev_report, _) = reset_json(dir.path(), &[]);
    assert_eq!(report["fingerprint"], dev_report["fingerprint"]);
    let (_, _) = reset_json(dir.path(), &fly);
    let production = seeded_hashes(&db);
    assert_eq!(production.len(), development.len());

    // With INITIAL_ADMIN_PASSWORD the admin gets it; the others stay locked.
    let admin_password = "Startblock-Kraulen-2026";
    let with_admin = [
        ("FLY_APP_NAME", "aquarius"),
        ("INITIAL_ADMIN_PASSWORD", admin_password),
    ];
    let (report, stderr) = reset_json(dir.path(), &with_admin);
    assert_eq!(
        locked_accounts(&report),
        ["fritz", "gernot", "maria", "peter"]
    );
    assert_eq!(report["admin_password"], "provided");
    assert!(!stderr.contains("--username admin"), "{stderr}");
    assert!(!stderr.contains(admin_password) && !report.to_string().contains(admin_password));
    let provided = seeded_hashes(&db);

    // What an attacker who read seed-data/users.csv would try, against
    // every seeded hash: development accepts each, production none.
    let mut pairs = Vec::new();
    for (user, hash) in development.iter().chain(&production).chain(&provided) {
        assert!(
            hash.starts_with("$2b$12$") && hash.len() == 60,
            "{user}: {hash}"
        );
        pairs.push((passwords[user].as_str(), hash.as_str()));
    }
    let admin_hash = &provided[0];
    assert_eq!(admin_hash.0, "admin");
    pairs.push((admin_password, admin_hash.1.as_str()));
    let Some(answers) = python_verifies(&pairs) else {
        return;
    };
    let n = development.len();
    for (i, (user, _)) in development.iter().enumerate() {
        assert!(
            answers[i],
            "development: {user} must log in with its password"
        );
        assert!(
            !answers[n + i],
            "production: {user} still logs in with the published password"
        );
        assert!(
            !answers[2 * n + i],
            "production with INITIAL_ADMIN_PASSWORD: {user} still logs in with the published password"
        );
    }
    assert!(
        answers[3 * n],
        "the admin must log in with INITIAL_ADMIN_PASSWORD"
    );
}
