//! The figure images where the app serves them: the real binary writes the
//! embedded pictures into a real static folder after its commit, `bild`
//! names them as the app does, `verify` finds the ones that are missing or
//! changed, and every refusal and failure says what happened to the
//! database.

use crate::common;

use common::output_text as text;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary in `dir`, with the given environment on top of the tests'
/// defaults; `SEEDBAKE_STATIC_DIR` is unset unless `env` sets it.
fn seedbake_cmd(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = common::seedbake_command(&[]);
    cmd.env_remove("SEEDBAKE_STATIC_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    cmd
}

fn seedbake(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    seedbake_cmd(dir, args, env).output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    let out = String::from_utf8_lossy(&o.stdout);
    let first = out.lines().next().unwrap_or("");
    serde_json::from_str(first).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", text(o));
}

use common::rt;

/// The catalogue's pictures: file name and bytes, from `seed-data/`.
fn catalogue_images() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/figuren/images");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), 5, "the catalogue names five pictures");
    out
}

/// Every file below `dir`, as sorted relative paths.
fn files_below(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

#[track_caller]
fn assert_catalogue_in(static_dir: &Path) {
    let expected: Vec<String> = catalogue_images()
        .iter()
        .map(|(name, _)| format!("figuren/images/{name}"))
        .collect();
    assert_eq!(files_below(static_dir), expected, "and nothing else");
    for (name, bytes) in catalogue_images() {
        let delivered = std::fs::read(static_dir.join("figuren/images").join(&name)).unwrap();
        assert!(delivered == bytes, "{name}: not the catalogue's bytes");
    }
}

/// `figur.bild` of every figure that has a picture, by catalogue order.
fn bild_values(db: &Path) -> Vec<String> {
    rt().block_on(async {
        let conn = common::connect(db).await;
        let mut rows = conn
            .query(
                "SELECT bild FROM figur WHERE bild IS NOT NULL ORDER BY id",
                (),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.push(r.get::<String>(0).unwrap());
        }
        out
    })
}

fn absolute(p: &Path) -> String {
    std::path::absolute(p).unwrap().display().to_string()
}

#[test]
fn reset_writes_the_catalogue_images_where_bild_says_and_a_second_run_writes_none() {
    let tmp = tempfile::tempdir().unwrap();
    let static_dir = tmp.path().join("web/backend/static");
    let flag = static_dir.to_str().unwrap();

    let o = seedbake(tmp.path(), &["reset", "--static-dir", flag, "--json"], &[]);
    assert_exit(&o, 0);
    let report = json(&o);
    assert_eq!(report["ok"], true);
    let images = &report["images"];
    assert_eq!(images["status"], "delivered", "{report}");
    assert_eq!(images["source"], "flag");
    assert_eq!(images["static_dir"], absolute(&static_dir));
    assert_eq!(
        (&images["files"], &images["written"], &images["unchanged"]),
        (&5.into(), &5.into(), &0.into())
    );
    let total: usize = catalogue_images().iter().map(|(_, b)| b.len()).sum();
    assert_eq!(images["bytes"], total);
    assert_catalogue_in(&static_dir);

    // bild is the app's spelling: figuren/ + the catalogue's path, which is
    // exactly where the file now is below the static folder.
    let catalogue: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("seed-data/figuren/figuren-v1.0-saison-2024.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let expected: Vec<String> = catalogue["figuren"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["bild"].as_str())
        .map(|b| format!("figuren/{b}"))
        .collect();
    let bild = bild_values(&tmp.path().join("aquarius.db"));
    assert_eq!(bild, expected);
    for b in &bild {
        assert!(
            static_dir.join(b).is_file(),
            "{b} is not in the static folder"
        );
    }

    // Again: every file is already there, byte for byte.
    let o = seedbake(tmp.path(), &["reset", "--static-dir", flag, "--json"], &[]);
    assert_exit(&o, 0);
    let images = &json(&o)["images"];
    assert_eq!(
        (&images["written"], &images["unchanged"]),
        (&0.into(), &5.into())
    );
    let o = seedbake(tmp.path(), &["reset", "--static-dir", flag], &[]);
    assert_exit(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "  images: 0 written, 5 unchanged in {}",
            absolute(&static_dir)
        )),
        "{}",
        text(&o)
    );
    assert_catalogue_in(&static_dir);

    // A picture someone changed is put back.
    let f01 = static_dir.join("figuren/images/f01-balletbein.png");
    std::fs::write(&f01, b"not a picture").unwrap();
    let o = seedbake(tmp.path(), &["reset", "--static-dir", flag, "--json"], &[]);
    let images = &json(&o)["images"];
    assert_eq!(
        (&images["written"], &images["unchanged"]),
        (&1.into(), &4.into())
    );
    assert_catalogue_in(&static_dir);
}

#[test]
fn the_folder_comes_from_the_flag_then_the_environment_then_the_seed() {
    // The seed's default: `static` in the working directory (the app's
    // backend folder), as `seed` finds it.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("static")).unwrap();
    let o = seedbake(tmp.path(), &["seed", "--json"], &[]);
    assert_exit(&o, 0);
    let images = &json(&o)["images"];
    assert_eq!(images["source"], "seed_default");
    assert_eq!(images["static_dir"], absolute(&tmp.path().join("static")));
    assert_catalogue_in(&tmp.path().join("static"));

    // SEEDBAKE_STATIC_DIR beats the default (and may be created).
    let from_env = tmp.path().join("from-env");
    let env = [("SEEDBAKE_STATIC_DIR", from_env.to_str().unwrap())];
    let o = seedbake(tmp.path(), &["reset", "--json"], &env);
    assert_exit(&o, 0);
    assert_eq!(json(&o)["images"]["source"], "environment");
    assert_catalogue_in(&from_env);

    // --static-dir beats both.
    let from_flag = tmp.path().join("from-flag");
    std::fs::remove_dir_all(&from_env).unwrap();
    let o = seedbake(
        tmp.path(),
        &["reset", "--static-dir", "from-flag", "--json"],
        &env,
    );
    assert_exit(&o, 0);
    assert_eq!(json(&o)["images"]["source"], "flag");
    assert_eq!(json(&o)["images"]["static_dir"], absolute(&from_flag));
    assert_catalogue_in(&from_flag);
    assert!(!from_env.exists());
}

#[test]
fn no_images_writes_nothing_and_needs_no_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    let env = [("SEEDBAKE_STATIC_DIR", elsewhere.to_str().unwrap())];
    let o = seedbake(tmp.path(), &["reset", "--no-images", "--json"], &env);
    assert_exit(&o, 0);
    let report = json(&o);
    assert_eq!(report["ok"], true);
    assert_eq!(
        report["images"],
        serde_json::json!({ "status": "skipped", "reason": "--no-images" })
    );
    assert!(!elsewhere.exists());
    assert_eq!(files_below(tmp.path()), ["aquarius.db"]);
    let o = seedbake(tmp.path(), &["reset", "--no-images"], &[]);
    assert_exit(&o, 0);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("  images: not written (--no-images)"),
        "{}",
        text(&o)
    );
    assert_eq!(files_below(tmp.path()), ["aquarius.db"]);

    // Both at once is a contradiction, and so is `images --no-images`.
    let o = seedbake(
        tmp.path(),
        &["reset", "--no-images", "--static-dir", "static"],
        &[],
    );
    assert_exit(&o, 2);
    let o = seedbake(tmp.path(), &["images", "--no-images"], &env);
    assert_exit(&o, 2);
    assert!(!elsewhere.exists());
}

#[test]
fn a_static_folder_that_cannot_work_is_refused_before_anything_changes() {
    // No `static` here: this is not the app's backend folder. `images`,
    // whose whole job is the pictures, refuses; a reset or a seed does what
    // was asked of the database and leaves the pictures out, saying so.
    let tmp = tempfile::tempdir().unwrap();
    let folder = format!(
        "the app's static folder {}",
        absolute(&tmp.path().join("static"))
    );
    let o = seedbake(tmp.path(), &["images"], &[]);
    assert_exit(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        folder.as_str(),
        "does not exist",
        "run seedbake in the app's backend folder",
        "--static-dir",
        "Nothing was changed",
    ] {
        assert!(err.contains(needle), "{needle:?}: {}", text(&o));
    }
    assert!(!tmp.path().join("aquarius.db").exists(), "no database made");
    for args in [&["seed", "--json"][..], &["reset", "--json"][..]] {
        let o = seedbake(tmp.path(), args, &[]);
        assert_exit(&o, 0);
        let err = String::from_utf8_lossy(&o.stderr);
        for needle in [
            "the images were not written",
            folder.as_str(),
            "is not here",
            "seedbake images --static-dir DIR",
        ] {
            assert!(err.contains(needle), "{needle:?}: {}", text(&o));
        }
        let report = json(&o);
        assert_eq!(report["images"]["status"], "skipped", "{report}");
        assert!(!tmp.path().join("static").exists(), "no folder made");
    }
    std::fs::remove_file(tmp.path().join("aquarius.db")).unwrap();

    // A seeded database, and a static folder with a file where the images'
    // folder goes: refused before the reset, the database untouched.
    let db = tmp.path().join("aquarius.db");
    rt().block_on(common::reset(&db));
    rt().block_on(common::execute(
        &db,
        "CREATE TABLE notizen (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notizen (text) VALUES ('bleibt');",
    ));
    let before = rt().block_on(common::dump(&db));
    let static_dir = tmp.path().join("static");
    std::fs::create_dir(&static_dir).unwrap();
    std::fs::write(static_dir.join("figuren"), b"a file, not a folder").unwrap();
    let o = seedbake(tmp.path(), &["reset", "--json"], &[]);
    assert_exit(&o, 2);
    let report = json(&o);
    assert_eq!(report["ok"], false);
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains(&format!(
            "{}: a file is in the way",
            static_dir.join("figuren").display()
        )),
        "{error}"
    );
    assert!(error.ends_with("Nothing was changed"), "{error}");
    assert_eq!(rt().block_on(common::dump(&db)), before);
    assert_eq!(files_below(&static_dir), ["figuren"]);

    // A static folder that is a file.
    let o = seedbake(
        tmp.path(),
        &["reset", "--static-dir", "static/figuren"],
        &[],
    );
    assert_exit(&o, 2);
    assert!(text(&o).contains("it is not a directory"), "{}", text(&o));
    assert_eq!(rt().block_on(common::dump(&db)), before);
}

/// Runs `cmd` as a user who cannot write a folder only root may write
/// (nobody, when the tests run as root; else the caller, as is).
fn unprivileged(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let me = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    if me.trim() == "0" {
        cmd.uid(65534).gid(65534);
    }
}

#[test]
fn an_unwritable_static_folder_after_the_commit_exits_8_and_keeps_the_database() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // The database's folder is writable by the unprivileged user; the
    // static folder is not.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let static_dir = tmp.path().join("static");
    std::fs::create_dir(&static_dir).unwrap();
    std::fs::set_permissions(&static_dir, std::fs::Permissions::from_mode(0o555)).unwrap();

    let mut cmd = seedbake_cmd(tmp.path(), &["reset", "--json"], &[]);
    unprivileged(&mut cmd);
    let o = cmd.output().unwrap();
    assert_exit(&o, 8);
    let report = json(&o);
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["images"]["status"], "failed");
    let error = report["images"]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!(
            "cannot create the folder {}: permission denied",
            static_dir.join("figuren").display()
        )),
        "{error}"
    );
    // The reset itself is reported as done, with its fingerprint.
    let fingerprint = report["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint, seedbake::SEED.default_profile().fingerprint);
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "was reset and committed",
        "but the images were not written",
        "nothing was rolled back",
        &format!("seedbake images --static-dir {}", absolute(&static_dir)),
    ] {
        assert!(err.contains(needle), "{needle:?}: {}", text(&o));
    }
    assert!(!err.contains("The transaction was rolled back"), "{err}");
    // It is: the database holds the seed and its record.
    let db = tmp.path().join("aquarius.db");
    assert_eq!(
        rt().block_on(common::query_i64(&db, "SELECT count(*) FROM kind")),
        50
    );
    let o = seedbake(tmp.path(), &["verify"], &[]);
    assert_exit(&o, 0);
    assert!(files_below(&static_dir).is_empty());

    // Once the folder is writable, `seedbake images` finishes the job
    // without touching the database.
    std::fs::set_permissions(&static_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut cmd = seedbake_cmd(tmp.path(), &["images", "--json"], &[]);
    unprivileged(&mut cmd);
    let o = cmd.output().unwrap();
    assert_exit(&o, 0);
    let report = json(&o);
    assert_eq!(
        (&report["ok"], &report["status"], &report["written"]),
        (&true.into(), &"delivered".into(), &5.into()),
        "{report}"
    );
    assert_catalogue_in(&static_dir);
}

#[test]
fn verify_names_the_images_that_differ_or_are_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let static_dir: PathBuf = tmp.path().join("static");
    let flag = static_dir.to_str().unwrap();
    assert_exit(
        &seedbake(tmp.path(), &["reset", "--static-dir", flag], &[]),
        0,
    );
    let o = seedbake(tmp.path(), &["verify", "--static-dir", flag], &[]);
    assert_exit(&o, 0);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "  images: all 5 match the build in {}",
            absolute(&static_dir)
        )),
        "{}",
        text(&o)
    );

    let f01 = static_dir.join("figuren/images/f01-balletbein.png");
    let f02 = static_dir.join("figuren/images/f02-balletbein-beidbeinig.png");
    let mut changed = std::fs::read(&f01).unwrap();
    changed[100] ^= 0xff;
    std::fs::write(&f01, changed).unwrap();
    std::fs::remove_file(&f02).unwrap();

    let o = seedbake(tmp.path(), &["verify", "--static-dir", flag], &[]);
    assert_exit(&o, 1);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("matches the build"),
        "the rows are fine: {out}"
    );
    assert!(
        out.contains(&format!(
            "  images: 2 of 5 differ from the build in {}",
            absolute(&static_dir)
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "    {}: differs from the embedded file",
            f01.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("    {}: missing", f02.display())),
        "{out}"
    );

    let o = seedbake(tmp.path(), &["verify", "--static-dir", flag, "--json"], &[]);
    assert_exit(&o, 1);
    let report = json(&o);
    assert_eq!(
        (&report["ok"], &report["matches"]),
        (&false.into(), &true.into())
    );
    let found: Vec<(String, String)> = report["images"]["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_owned(),
                m["problem"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "figuren/images/f01-balletbein.png".to_owned(),
                "differs".to_owned()
            ),
            (
                "figuren/images/f02-balletbein-beidbeinig.png".to_owned(),
                "missing".to_owned()
            ),
        ]
    );

    // The folder from the environment counts the same.
    let env = [("SEEDBAKE_STATIC_DIR", flag)];
    assert_exit(&seedbake(tmp.path(), &["verify"], &env), 1);
    // Only a folder the operator names is checked, and --no-images checks none.
    assert_exit(&seedbake(tmp.path(), &["verify"], &[]), 0);
    assert_exit(&seedbake(tmp.path(), &["verify", "--no-images"], &env), 0);

    // `seedbake images` repairs both, and verify is clean again.
    let o = seedbake(tmp.path(), &["images", "--static-dir", flag], &[]);
    assert_exit(&o, 0);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "images: 2 written, 3 unchanged in {}",
            absolute(&static_dir)
        )),
        "{}",
        text(&o)
    );
    assert_exit(
        &seedbake(tmp.path(), &["verify", "--static-dir", flag], &[]),
        0,
    );
}

/// Every file one run writes is distinct, checked before the database is
/// opened: a backup or a database that is also an image's destination
/// would be overwritten by the picture after the commit.
#[test]
fn a_run_whose_files_would_overwrite_one_another_is_refused_before_anything_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("static/figuren/images")).unwrap();
    let image = "static/figuren/images/f01-balletbein.png";

    // The database where an image goes: refused, no file created.
    let o = seedbake(
        dir,
        &["reset", "--static-dir", "static", "--database-url", image],
        &[],
    );
    assert_exit(&o, 2);
    assert!(text(&o).contains("are the same file"), "{}", text(&o));
    assert!(!dir.join(image).exists());

    // The backup where an image goes (production): refused before the
    // backup, the reset or any picture.
    assert_exit(&seedbake(dir, &["reset", "--no-images"], &[]), 0);
    let db = dir.join("aquarius.db");
    let before = std::fs::read(&db).unwrap();
    let production = [
        ("SEEDBAKE_ENV", "production"),
        ("INITIAL_ADMIN_PASSWORD", "Pool-side 2026 admin"),
    ];
    let backup_to = |path: &str| {
        let args = ["reset", "--yes", "--static-dir", "static", "--backup", path];
        seedbake(dir, &args, &production)
    };
    let o = backup_to(image);
    assert_exit(&o, 2);
    let said = text(&o);
    assert!(said.contains("the backup"), "{said}");
    assert!(!said.contains("Pool-side"), "{said}");
    assert!(!dir.join(image).exists());
    assert_eq!(std::fs::read(&db).unwrap(), before);
    // A backup that would have to be the folder holding the images.
    let o = backup_to("static/figuren");
    assert_exit(&o, 2);
    assert!(
        text(&o).contains("would have to be a folder holding"),
        "{}",
        text(&o)
    );

    // A dump over the database, or over its journal.
    for output in ["aquarius.db", "./aquarius.db-wal"] {
        let o = seedbake(dir, &["dump", "--output", output], &[]);
        assert_exit(&o, 2);
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(!dir.join("aquarius.db-wal").exists());
}
