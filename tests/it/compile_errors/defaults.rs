//! The manifest's `[defaults]`: what they may name, what fits, and the
//! current time that needs a declared `seed_time`.

use super::*;

#[test]
fn default_for_a_column_that_does_not_exist() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "erfasst_am = { now = true }",
            "erfast_am = { now = true }",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:33: [defaults.kind] erfast_am: table kind has no such column (columns: id, vorname,",
    );
    assert!(e.message.ends_with("did you mean \"erfasst_am\"?"), "{e}");
    assert_eq!(e.field.as_deref(), Some("kind.erfast_am"));
}

#[test]
fn default_for_a_table_that_does_not_exist() {
    let e = fails(|d| replace(d, "seed.toml", "[defaults.kind]", "[defaults.kinder]"));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:32: [defaults.kinder]: the schema creates no such table (tables: verband, kind, figur); did you mean \"kind\"?",
    );
}

#[test]
fn default_that_does_not_fit_its_column() {
    let e = fails(|d| append(d, "seed.toml", "groesse = \"zwölf\"\n"));
    assert_error(
        &e,
        ErrorKind::Type,
        "seed-data/seed.toml:35: [defaults.kind] groesse: \"zwölf\" is not an integer",
    );
}

#[test]
fn the_current_time_only_fits_a_datetime_column() {
    let e = fails(|d| append(d, "seed.toml", "geburtsdatum = { now = true }\n"));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:35: [defaults.kind] geburtsdatum: { now = true } (the current time) fits a DATETIME column, and kind.geburtsdatum is DATE",
    );
    let e = fails(|d| append(d, "seed.toml", "vorname = { today = true }\n"));
    assert_error(
        &e,
        ErrorKind::Manifest,
        "[defaults.kind] vorname: { today = true } (the current date) fits a DATE column, and kind.vorname is VARCHAR",
    );
}

#[test]
fn a_default_is_a_value_now_or_today() {
    for bad in [
        "{ jetzt = true }",
        "{ now = false }",
        "{ now = true, today = true }",
        "[1, 2]",
    ] {
        let e = fails(|d| {
            replace(
                d,
                "seed.toml",
                "erfasst_am = { now = true }",
                &format!("erfasst_am = {bad}"),
            )
        });
        assert!(
            e.kind == ErrorKind::Manifest || e.kind == ErrorKind::Type,
            "{bad}: {e}"
        );
        assert!(
            e.to_string()
                .starts_with("seed-data/seed.toml:33: [defaults.kind] erfasst_am: "),
            "{bad}: {e}"
        );
    }
}

#[test]
fn the_current_time_needs_a_declared_seed_time() {
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "seed_time = \"2025-09-01 08:00:00.000000\"\n",
            "",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:32: [defaults.kind] erfasst_am: the current time needs seed_time at the top of seed.toml",
    );
    let e = fails(|d| {
        replace(
            d,
            "seed.toml",
            "seed_time = \"2025-09-01 08:00:00.000000\"",
            "seed_time = \"gestern\"",
        )
    });
    assert_error(
        &e,
        ErrorKind::Manifest,
        "seed-data/seed.toml:3: seed_time \"gestern\" is not an ISO date-time",
    );
}
