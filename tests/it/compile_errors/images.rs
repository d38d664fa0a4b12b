//! Images: the prefix, paths that leave the static folder, and images without
//! a static folder.

use super::*;

#[test]
fn bad_image_prefix() {
    for (prefix, why) in [
        ("../figuren/", "it contains '..'"),
        ("/srv/static/figuren/", "it is absolute"),
        ("figuren", "it must end with '/'"),
        ("figuren//", "empty component"),
        ("fig\\\\uren/", "backslash"),
    ] {
        let e = fails(|d| {
            replace(
                d,
                "seed.toml",
                "prefix = \"figuren/\"",
                &format!("prefix = \"{prefix}\""),
            )
        });
        assert_error(
            &e,
            ErrorKind::Manifest,
            "seed-data/seed.toml:20: [table.columns] bild of table figur: prefix ",
        );
        assert!(e.message.contains(why), "{prefix}: {e}");
        assert!(
            e.message
                .contains("cannot name a folder below the static folder"),
            "{e}"
        );
    }
}

#[test]
fn prefix_without_an_image() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "id = { auto = true }",
            "id = { auto = true, prefix = \"figuren/\" }",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "[table.columns] id of table figur: `prefix` is only meaningful with `image`",
    );
}

#[test]
fn an_image_path_that_leaves_the_static_folder() {
    let e = fails(|d| {
        replace(
            d,
            "figuren.json",
            "\"images/f01.png\"",
            "\"./images/f01.png\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::ImagePath,
        "seed-data/figuren.json $.figuren[0].bild: figur.bild: the image path \"figuren/./images/f01.png\" cannot be delivered below the static folder: it contains '.'",
    );
}

#[test]
fn images_without_a_static_folder() {
    let e = fails(|d| replace(d, "seed.toml", "[images]\nstatic_dir = \"static\"\n", ""));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:20: figur.bild embeds images, but seed.toml has no [images] static_dir",
    );
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "static_dir = \"static\"",
            "static_dir = \" \"",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:30: [images] static_dir \" \" names no folder",
    );
}
