//! The manifest's entries for the app's own conventions, compiled from
//! `tests/fixtures/base`: `[images]` and an image `prefix` (the value stored
//! is where the file goes below the static folder), `[defaults]` filling
//! what the seed files leave empty, `seed_time` keeping that reproducible,
//! `ignore`d source fields, and a table referring to its own rows (from
//! `tests/fixtures/self_ref`).

use crate::common;
use std::path::Path;

use seedbake_compiler::{self as compiler, Compiled, DefaultValue};
use seedbake_core::value::Value;

/// The base fixture, changed by `edit`, compiled.
fn compile_with(edit: impl FnOnce(&Path)) -> Compiled {
    compile_fixture("base", edit)
}

/// `tests/fixtures/<fixture>`, changed by `edit`, compiled.
fn compile_fixture(fixture: &str, edit: impl FnOnce(&Path)) -> Compiled {
    let (_tmp, dir) = common::fixture_copy(fixture, edit);
    compiler::compile(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn column(c: &Compiled, table: &str, column: &str) -> Vec<Value> {
    let t = c.tables.iter().find(|t| t.name() == table).unwrap();
    let ci = t
        .schema
        .columns
        .iter()
        .position(|c| c.name == column)
        .unwrap();
    t.rows.iter().map(|r| r[ci].clone()).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

#[test]
fn the_image_is_stored_and_embedded_under_its_place_in_the_static_folder() {
    let c = compile_with(|_| {});
    assert_eq!(c.static_dir.as_deref(), Some("static"));
    assert_eq!(
        column(&c, "figur", "bild"),
        [text("figuren/images/f01.png"), Value::Null]
    );
    assert_eq!(c.images.len(), 1);
    assert_eq!(c.images[0].path, "figuren/images/f01.png");
    // Read from beside the catalogue, whatever the prefix.
    assert!(c.images[0].file.ends_with("seed-data/images/f01.png"));

    // Without a prefix the catalogue's own path is kept.
    let plain = compile_with(|d| {
        let toml = std::fs::read_to_string(d.join("seed.toml")).unwrap();
        let toml = toml.replace(", prefix = \"figuren/\"", "");
        std::fs::write(d.join("seed.toml"), toml).unwrap();
    });
    assert_eq!(column(&plain, "figur", "bild")[0], text("images/f01.png"));
    assert_eq!(plain.images[0].path, "images/f01.png");
}

#[test]
fn seeded_cells_left_empty_take_the_declared_defaults() {
    let c = compile_with(|_| {});
    // kind.csv has neither column: both rows take the defaults, `now` being
    // the declared seed_time.
    assert_eq!(
        column(&c, "kind", "erfasst_am"),
        [
            text("2025-09-01 08:00:00.000000"),
            text("2025-09-01 08:00:00.000000")
        ]
    );
    assert_eq!(column(&c, "kind", "status"), [text("aktiv"), text("aktiv")]);
    assert_eq!(
        c.defaults
            .iter()
            .map(|d| (d.table.as_str(), d.column.as_str(), d.value.clone()))
            .collect::<Vec<_>>(),
        [
            ("kind", "erfasst_am", DefaultValue::Now),
            ("kind", "status", DefaultValue::Value(text("aktiv")))
        ]
    );

    // A value in the file wins; an empty cell takes the default.
    let given = compile_with(|d| {
        std::fs::write(
            d.join("kind.csv"),
            "vorname,geburtsdatum,geschlecht,groesse,verband,status,erfasst_am\n\
             Mia,2012-03-04,W,140,BKFD,pausiert,2024-01-02 03:04:05\n\
             Ali,2013-05-06,M,,LKNW,,\n",
        )
        .unwrap();
    });
    assert_eq!(
        column(&given, "kind", "status"),
        [text("pausiert"), text("aktiv")]
    );
    assert_eq!(
        column(&given, "kind", "erfasst_am"),
        [
            text("2024-01-02 03:04:05"),
            text("2025-09-01 08:00:00.000000")
        ]
    );
    // A column without a default stays empty.
    assert_eq!(column(&given, "kind", "groesse")[1], Value::Null);
}

#[test]
fn the_seed_time_makes_defaulted_rows_reproducible() {
    let fingerprints = |c: &Compiled| -> Vec<String> {
        c.profiles
            .iter()
            .map(|p| p.fingerprint.total.clone())
            .collect()
    };
    let a = compile_with(|_| {});
    let b = compile_with(|_| {});
    assert_eq!(fingerprints(&a), fingerprints(&b));
    // Another declared time is another seed.
    let later = compile_with(|d| {
        let toml = std::fs::read_to_string(d.join("seed.toml")).unwrap();
        let toml = toml.replace("2025-09-01 08:00:00.000000", "2025-09-02 08:00:00.000000");
        std::fs::write(d.join("seed.toml"), toml).unwrap();
    });
    assert_eq!(
        column(&later, "kind", "erfasst_am")[0],
        text("2025-09-02 08:00:00.000000")
    );
    assert_ne!(fingerprints(&a)[0], fingerprints(&later)[0]);
}

#[test]
fn a_table_refers_to_its_own_rows_listed_in_any_order() {
    // Kür and Pflicht name Wettkampf, listed after them; Figur names
    // Pflicht, listed before it. The rows are those the engine holds.
    let c = compile_fixture("self_ref", |_| {});
    let int = Value::Integer;
    assert_eq!(
        column(&c, "kategorie", "name"),
        [
            text("Kür"),
            text("Pflicht"),
            text("Wettkampf"),
            text("Figur")
        ]
    );
    assert_eq!(
        column(&c, "kategorie", "id"),
        [int(1), int(2), int(3), int(4)]
    );
    assert_eq!(
        column(&c, "kategorie", "oberkategorie_id"),
        [int(3), int(3), Value::Null, int(2)]
    );

    // Ids given in the source are the values referred to.
    let given = compile_fixture("self_ref", |d| {
        std::fs::write(
            d.join("kategorie.csv"),
            "id,name,punkte,ober\n10,Kür,10,Wettkampf\n20,Pflicht,5,Wettkampf\n30,Wettkampf,,\n40,Figur,1,Figur\n",
        )
        .unwrap();
    });
    assert_eq!(
        column(&given, "kategorie", "oberkategorie_id"),
        [int(30), int(30), Value::Null, int(40)]
    );

    // A foreign key to another column gets that column's value.
    let coded = compile_fixture("self_ref", |d| {
        let schema = std::fs::read_to_string(d.join("schema.sql"))
            .unwrap()
            .replace(
                "punkte INTEGER,",
                "punkte INTEGER,\n    code VARCHAR UNIQUE,",
            )
            .replace("oberkategorie_id INTEGER", "oberkategorie_id VARCHAR")
            .replace("REFERENCES kategorie (id)", "REFERENCES kategorie (code)");
        std::fs::write(d.join("schema.sql"), schema).unwrap();
        std::fs::write(
            d.join("kategorie.csv"),
            "code,name,punkte,ober\nK,Kür,10,Wettkampf\nP,Pflicht,5,Wettkampf\nW,Wettkampf,,\nF,Figur,1,Pflicht\n",
        )
        .unwrap();
    });
    assert_eq!(
        column(&coded, "kategorie", "oberkategorie_id"),
        [text("W"), text("W"), Value::Null, text("P")]
    );
}

#[test]
fn ignored_fields_are_read_but_not_stored() {
    let c = compile_with(|d| {
        let toml = std::fs::read_to_string(d.join("seed.toml")).unwrap();
        let toml = toml.replace(
            "file = \"kind.csv\"",
            "file = \"kind.csv\"\nignore = [\"groesse\", \"notiz\"]",
        );
        std::fs::write(d.join("seed.toml"), toml).unwrap();
        std::fs::write(
            d.join("kind.csv"),
            "vorname,geburtsdatum,geschlecht,groesse,verband,notiz\n\
             Mia,2012-03-04,W,140,BKFD,schwimmt seit 2019\n\
             Ali,2013-05-06,M,151,LKNW,\n",
        )
        .unwrap();
    });
    // groesse is a column, but ignored: the field does not fill it.
    assert_eq!(column(&c, "kind", "groesse"), [Value::Null, Value::Null]);
    assert_eq!(column(&c, "kind", "vorname"), [text("Mia"), text("Ali")]);

    // A natural key field may be ignored too: it still names the rows.
    let keyed = compile_with(|d| {
        let toml = std::fs::read_to_string(d.join("seed.toml")).unwrap();
        let toml = toml.replace(
            "key = [\"abkuerzung\"]",
            "key = [\"kurz\"]\nignore = [\"kurz\"]\n[table.columns]\nabkuerzung = \"name\"",
        );
        std::fs::write(d.join("seed.toml"), toml).unwrap();
        std::fs::write(d.join("verband.csv"), "name,kurz\nBKFD,BKFD\nLKNW,LKNW\n").unwrap();
    });
    assert_eq!(
        column(&keyed, "kind", "verband_id"),
        [Value::Integer(1), Value::Integer(2)]
    );
}
