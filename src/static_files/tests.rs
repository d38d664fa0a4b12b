use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

use sha2::{Digest, Sha256};

use super::write::write_all_with;
use super::*;
use crate::hex::encode as hex;

const F01: StaticFile = StaticFile {
    path: "figuren/images/f01.png",
    bytes: b"\x89PNG first picture",
};
const F02: StaticFile = StaticFile {
    path: "figuren/images/f02.png",
    bytes: b"\xff\xd8\xff a jpeg in disguise",
};
const TOP: StaticFile = StaticFile {
    path: "top.txt",
    bytes: b"",
};

fn files() -> Vec<StaticFile<'static>> {
    vec![F01, F02, TOP]
}

/// Every entry below `dir`, recursively, as relative paths.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

#[test]
fn files_round_trip_and_check_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("static");
    let report = write_all(&root, &files()).unwrap();
    assert_eq!(
        report,
        WriteReport {
            root: root.clone(),
            written: 3,
            unchanged: 0,
            total_bytes: (F01.bytes.len() + F02.bytes.len()) as u64,
        }
    );
    for f in files() {
        assert_eq!(fs::read(root.join(f.path)).unwrap(), f.bytes, "{}", f.path);
    }
    // Nothing else: no temporary file left over.
    assert_eq!(
        listing(&root),
        [
            "figuren",
            "figuren/images",
            "figuren/images/f01.png",
            "figuren/images/f02.png",
            "top.txt"
        ]
    );
    assert_eq!(check_all(&root, &files()).unwrap(), []);
}

#[test]
fn identical_files_are_left_alone_and_different_ones_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_all(root, &files()).unwrap();
    let inode = |p: &str| fs::metadata(root.join(p)).unwrap().ino();
    let before = (inode(F01.path), inode(F02.path));

    let again = write_all(root, &files()).unwrap();
    assert_eq!((again.written, again.unchanged), (0, 3));
    assert_eq!((inode(F01.path), inode(F02.path)), before);

    // Same size, other bytes; and a shorter file.
    let mut changed = F01.bytes.to_vec();
    changed[0] ^= 1;
    fs::write(root.join(F01.path), &changed).unwrap();
    fs::write(root.join(F02.path), b"x").unwrap();
    let repair = write_all(root, &files()).unwrap();
    assert_eq!((repair.written, repair.unchanged), (2, 1));
    assert_eq!(fs::read(root.join(F01.path)).unwrap(), F01.bytes);
    assert_eq!(fs::read(root.join(F02.path)).unwrap(), F02.bytes);
    assert_ne!(
        inode(F01.path),
        before.0,
        "replaced by rename, not rewritten"
    );
}

#[test]
fn bad_paths_are_refused_before_anything_is_written() {
    for (path, reason) in [
        ("../x.png", "'..'"),
        ("figuren/../../x.png", "'..'"),
        ("/etc/x.png", "absolute"),
        ("", "empty"),
        ("figuren//x.png", "empty component"),
        ("figuren/", "empty component"),
        ("./x.png", "'.'"),
        ("x\0.png", "NUL"),
        ("figuren\\x.png", "backslash"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("static");
        // A valid file first: it must not be written either.
        let list = [
            F01,
            StaticFile {
                path,
                bytes: b"evil",
            },
        ];
        let err = write_all(&root, &list).unwrap_err();
        assert!(
            matches!(err, StaticError::InvalidPath { .. }),
            "{path:?}: {err}"
        );
        let msg = err.to_string();
        assert!(msg.contains(reason), "{path:?}: {msg}");
        assert!(msg.contains(&format!("{path:?}")), "{msg}");
        assert!(!root.exists(), "{path:?}: something was written");
        assert!(!tmp.path().join("x.png").exists());
        assert!(matches!(
            check_all(&root, &list),
            Err(StaticError::InvalidPath { .. })
        ));
    }
    // Twice the same path, or a path that is another's folder.
    for list in [
        [F01, F01],
        [
            F01,
            StaticFile {
                path: "figuren/images",
                bytes: b"",
            },
        ],
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_all(tmp.path(), &list).unwrap_err();
        assert!(matches!(err, StaticError::InvalidPath { .. }), "{err}");
        assert!(listing(tmp.path()).is_empty());
    }
}

#[test]
fn a_symlinked_destination_is_refused_and_not_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("static");
    let outside = tmp.path().join("outside.png");
    fs::write(&outside, b"precious").unwrap();
    fs::create_dir_all(root.join("figuren/images")).unwrap();
    symlink(&outside, root.join(F01.path)).unwrap();

    let err = write_all(&root, &files()).unwrap_err();
    assert!(matches!(err, StaticError::Symlink { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("static/figuren/images/f01.png"), "{msg}");
    assert!(msg.contains("symbolic link"), "{msg}");
    assert_eq!(fs::read(&outside).unwrap(), b"precious");
    assert!(
        fs::symlink_metadata(root.join(F01.path))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Refused before anything was written, the other files included.
    assert!(!root.join(F02.path).exists());
    assert!(!root.join(TOP.path).exists());

    // check_all names it too.
    let found = check_all(&root, &[F01]).unwrap();
    assert_eq!(found[0].problem, Problem::NotAFile("a symbolic link"));
    assert!(found[0].to_string().contains("symbolic link"));
}

#[test]
fn a_symlinked_folder_below_the_root_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("static");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::create_dir_all(&root).unwrap();
    symlink(&elsewhere, root.join("figuren")).unwrap();

    let err = write_all(&root, &files()).unwrap_err();
    assert!(matches!(err, StaticError::Symlink { .. }), "{err}");
    assert!(err.to_string().contains("static/figuren:"), "{err}");
    assert!(listing(&elsewhere).is_empty());
    assert!(!root.join(TOP.path).exists());
}

#[test]
fn a_symlinked_root_is_the_callers_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    fs::create_dir(&real).unwrap();
    let root = tmp.path().join("static");
    symlink(&real, &root).unwrap();
    assert_eq!(write_all(&root, &files()).unwrap().written, 3);
    assert_eq!(fs::read(real.join(F01.path)).unwrap(), F01.bytes);
}

#[test]
fn a_root_that_is_a_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("static");
    fs::write(&root, b"not a folder").unwrap();
    for err in [
        write_all(&root, &files()).unwrap_err(),
        check_all(&root, &files()).unwrap_err(),
    ] {
        assert!(matches!(err, StaticError::RootNotDirectory { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("static as the static folder: it is not a directory"),
            "{msg}"
        );
        assert!(msg.contains("--static-dir"), "{msg}");
    }
    assert_eq!(fs::read(&root).unwrap(), b"not a folder");
}

#[test]
fn a_directory_or_file_in_the_way_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join(F01.path)).unwrap();
    let err = write_all(root, &[F01]).unwrap_err();
    assert!(
        err.to_string().contains("a directory is in the way"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("figuren"), b"a file where a folder goes").unwrap();
    let err = write_all(root, &[F01]).unwrap_err();
    assert!(matches!(err, StaticError::InTheWay { .. }), "{err}");
    assert!(
        err.to_string().contains("figuren: a file is in the way"),
        "{err}"
    );
    // check_all sees the file as missing.
    let found = check_all(root, &[F01]).unwrap();
    assert_eq!(found[0].problem, Problem::Missing);
}

#[test]
fn permission_denied_is_named_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("static");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o555)).unwrap();
    // root (as in CI) writes to a read-only folder regardless.
    let privileged = fs::write(root.join("probe"), b"").is_ok();
    let result = write_all(&root, &files());
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    if privileged {
        eprintln!("running with privileges: the folder's mode cannot refuse a write");
        // The same error, as it would come from the system.
        let err = StaticError::Write {
            action: "write",
            location: root.join(F01.path),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write {}/figuren/images/f01.png: permission denied; \
                 choose a writable --static-dir or pass --no-images",
                root.display()
            )
        );
        // And a real failure to create a folder: a path under a regular file.
        let blocker = tmp.path().join("blocker");
        fs::write(&blocker, b"").unwrap();
        let err = write_all(&blocker.join("static"), &files()).unwrap_err();
        assert!(matches!(err, StaticError::Write { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("blocker/static"), "{msg}");
        assert!(msg.contains("not a directory"), "{msg}");
        assert!(msg.contains("--no-images"), "{msg}");
    } else {
        let err = result.unwrap_err();
        assert!(matches!(err, StaticError::Write { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("static/figuren: permission denied"), "{msg}");
        assert!(msg.contains("--static-dir"), "{msg}");
        assert!(msg.contains("--no-images"), "{msg}");
        assert!(listing(&root).is_empty());
    }
}

#[test]
fn a_failed_write_leaves_no_temporary_file_and_the_old_file_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_all(root, &files()).unwrap();
    fs::write(root.join(F02.path), b"old bytes").unwrap();
    let replacement = StaticFile {
        path: F02.path,
        bytes: b"new bytes, never to arrive",
    };
    let mut seen_temp = None;
    let err = write_all_with(root, &[F01, replacement], &mut |temp| {
        // The temporary file is complete and beside its destination.
        assert_eq!(fs::read(temp).unwrap(), replacement.bytes);
        assert_eq!(temp.parent(), root.join(F02.path).parent());
        seen_temp = Some(temp.to_owned());
        Err(io::Error::from(io::ErrorKind::StorageFull))
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("f02.png: no space left on device"),
        "{err}"
    );
    let temp = seen_temp.expect("the failure came after the temporary file");
    let name = temp.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(".f02.png.") && name.ends_with(".partial"),
        "{name}"
    );
    assert!(!temp.exists());
    assert_eq!(fs::read(root.join(F02.path)).unwrap(), b"old bytes");
    assert!(
        !listing(root).iter().any(|p| p.ends_with(".partial")),
        "{:?}",
        listing(root)
    );
}

#[test]
fn check_writable_finds_what_write_all_would_refuse_without_writing() {
    let tmp = tempfile::tempdir().unwrap();
    // Absent: fine, and still absent.
    let root = tmp.path().join("static");
    check_writable(&root, &files()).unwrap();
    assert!(!root.exists());
    // Below a file: it could never be created.
    let blocker = tmp.path().join("blocker");
    fs::write(&blocker, b"").unwrap();
    let err = check_writable(&blocker.join("static"), &files()).unwrap_err();
    assert!(matches!(err, StaticError::Write { .. }), "{err}");
    assert!(err.to_string().contains("not a directory"), "{err}");
    // A file as the root.
    let err = check_writable(&blocker, &files()).unwrap_err();
    assert!(matches!(err, StaticError::RootNotDirectory { .. }), "{err}");
    // A file where a folder goes, and a link at a destination.
    fs::create_dir(&root).unwrap();
    fs::write(root.join("figuren"), b"").unwrap();
    let err = check_writable(&root, &files()).unwrap_err();
    assert!(matches!(err, StaticError::InTheWay { .. }), "{err}");
    fs::remove_file(root.join("figuren")).unwrap();
    fs::create_dir_all(root.join("figuren/images")).unwrap();
    symlink(&blocker, root.join(F02.path)).unwrap();
    let err = check_writable(&root, &files()).unwrap_err();
    assert!(matches!(err, StaticError::Symlink { .. }), "{err}");
    fs::remove_file(root.join(F02.path)).unwrap();
    // A bad path, before anything else.
    let bad = [StaticFile {
        path: "../x",
        bytes: b"",
    }];
    assert!(matches!(
        check_writable(&root, &bad),
        Err(StaticError::InvalidPath { .. })
    ));
    // Clean: and it wrote nothing.
    check_writable(&root, &files()).unwrap();
    assert_eq!(listing(&root), ["figuren", "figuren/images"]);
}

#[test]
fn check_all_names_missing_and_differing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("static");
    // No folder at all: everything is missing.
    let found = check_all(&root, &files()).unwrap();
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|m| m.problem == Problem::Missing));
    assert!(!root.exists(), "check_all creates nothing");

    write_all(&root, &files()).unwrap();
    fs::remove_file(root.join(F01.path)).unwrap();
    fs::write(root.join(F02.path), b"someone else's picture").unwrap();
    let found = check_all(&root, &files()).unwrap();
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 2, "{lines:?}");
    assert_eq!(found[0].path, F01.path);
    assert_eq!(found[0].problem, Problem::Missing);
    assert_eq!(
        lines[0],
        format!("{}: missing", root.join(F01.path).display())
    );
    assert_eq!(found[1].path, F02.path);
    let expected = hex(&Sha256::digest(F02.bytes));
    let on_disk = hex(&Sha256::digest(b"someone else's picture"));
    assert_eq!(
        found[1].problem,
        Problem::Differs {
            expected_sha256: expected.clone(),
            found_sha256: on_disk.clone(),
            expected_len: F02.bytes.len() as u64,
            found_len: 22,
        }
    );
    assert!(lines[1].starts_with(&format!(
        "{}: differs from the embedded file",
        root.join(F02.path).display()
    )));
    assert!(lines[1].contains(&on_disk[..12]) && lines[1].contains(&expected[..12]));

    // Repaired, it is clean again.
    write_all(&root, &files()).unwrap();
    assert_eq!(check_all(&root, &files()).unwrap(), []);
}
