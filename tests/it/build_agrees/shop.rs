//! The exactness rule, on a second app's seed (tests/fixtures/shop): what the
//! build proves and the binary loads is what the engine makes of the seed's
//! source rows inserted once, in order, into the declared schema.

use super::*;

fn shop_dir() -> PathBuf {
    fixture("shop")
}

/// The reference, written out by hand from the shop's CSV files: each cell
/// as the text it is (as the sqlite3 shell's `.import` binds it), an
/// unquoted empty cell as NULL, a quoted `""` as the empty string; the two
/// conversions the manifest asks for applied (BOOLEAN spellings as 1/0, the
/// hex picture as bytes). Inserted once, in file order; the triggers fire.
const SHOP_SOURCE_ROWS: &str = "
INSERT INTO category (id, name, parent_id) VALUES ('1', 'Kitchen', NULL);
INSERT INTO category (id, name, parent_id) VALUES ('2', 'Kettles', '1');
INSERT INTO category (id, name, parent_id) VALUES ('3', 'Odds and ends', '1');
INSERT INTO product (id, sku, category_id, name, note, price, weight_kg, active, added_at, picture, raw, legacy)
  VALUES (1, 'A-1', '2', 'Kettle', '', '19.99', '1.250', 1, '2025-01-02T10:00:00Z', X'89504e470d0a1a0a', '89504e47', '0042');
INSERT INTO product (id, sku, category_id, name, note, price, weight_kg, active, added_at, picture, raw, legacy)
  VALUES (2, 'A-2', '2', 'Big number', NULL, '9007199254740993', NULL, 0, '2025-01-02 10:00:00+02:00', NULL, 'abc', '12');
INSERT INTO product (id, sku, category_id, name, note, price, weight_kg, active, added_at, picture, raw, legacy)
  VALUES (3, 'A-3', '3', 'Semi;colon', 'n/a', '0.10', '0.5', 1, '2025-01-03', X'00ff', NULL, NULL);
INSERT INTO product (id, sku, category_id, name, note, price, weight_kg, active, added_at, picture, raw, legacy)
  VALUES (4, 'A-4', '3', 'Text that looks like a number', '007', '12', NULL, 0, '2025-01-03T08:00:00.123-05:30', NULL, '', ' 7 ');
";

/// Runs SQL in a new database file through the sqlite3 shell, the engine a
/// team's old database exports are judged by.
fn sqlite3_database(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("reference.db");
    let mut child = std::process::Command::new("sqlite3")
        .arg(&path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("the sqlite3 shell (CI installs it: apt-get install sqlite3)");
    use std::io::Write as _;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b".bail on\n").unwrap();
    stdin.write_all(sql.as_bytes()).unwrap();
    drop(stdin);
    assert!(
        child.wait().unwrap().success(),
        "sqlite3 refused the reference"
    );
    (tmp, path)
}

fn fingerprint_of(path: &Path) -> seedbake::fingerprint::Fingerprint {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let conn = db.connect().unwrap();
        seedbake::fingerprint::compute(&conn, &[]).await.unwrap()
    })
}

fn query(path: &Path, sql: &str) -> String {
    let o = std::process::Command::new("sqlite3")
        .arg(path)
        .arg(sql)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_second_apps_seed_builds_to_what_its_engine_makes_of_the_source_rows() {
    let compiled = compile(&shop_dir()).unwrap();
    let schema = std::fs::read_to_string(shop_dir().join("schema.sql")).unwrap();
    let (_tmp, reference) = sqlite3_database(&format!("{schema}\n{SHOP_SOURCE_ROWS}"));

    // The reference holds what the rule says, storage classes included (so
    // agreeing with it means something): exact NUMERIC integers, text that
    // only looks like a number kept as text, bytes only where mapped, the
    // triggers run once.
    assert_eq!(
        query(
            &reference,
            "SELECT quote(price), typeof(price), quote(note), typeof(legacy), quote(raw) FROM product WHERE sku = 'A-2'"
        ),
        "9007199254740993|integer|NULL|text|'abc'"
    );
    assert_eq!(
        query(
            &reference,
            "SELECT quote(note), typeof(price), price_cents, length(picture) FROM product WHERE sku = 'A-1'"
        ),
        "''|real|1999|8"
    );
    assert_eq!(
        query(
            &reference,
            "SELECT group_concat(product_count) FROM category ORDER BY id"
        ),
        "0,2,2"
    );
    assert_eq!(query(&reference, "SELECT count(*) FROM product_log"), "4");

    let full = compiled.profiles.iter().find(|p| p.name == "full").unwrap();
    let reference_fp = fingerprint_of(&reference);
    assert_eq!(
        full.fingerprint.differing(&reference_fp),
        Vec::<String>::new(),
        "the build's database differs from the engine's"
    );
    assert_eq!(full.fingerprint.total, reference_fp.total);

    // The binary carries the source rows: the counter the trigger keeps is
    // the engine's, never embedded (inserting it would run the trigger on
    // top of a counted value).
    let category = compiled
        .tables
        .iter()
        .find(|t| t.name() == "category")
        .unwrap();
    let embedded: Vec<&str> = category
        .embedded_columns()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(embedded, ["id", "name", "parent_id"]);

    // An unmapped BLOB column keeps text as text, and the build says how to
    // give bytes instead; the mapped one says nothing.
    let blob_warnings: Vec<&String> = compiled
        .warnings
        .iter()
        .filter(|w| w.contains("is a BLOB column"))
        .collect();
    assert_eq!(blob_warnings.len(), 1, "{:?}", compiled.warnings);
    assert!(
        blob_warnings[0].contains("product.raw"),
        "{}",
        blob_warnings[0]
    );
    assert!(
        blob_warnings[0].contains("raw = { blob = \"hex\" }"),
        "{}",
        blob_warnings[0]
    );
}

#[test]
fn a_profile_without_the_triggering_table_is_fingerprinted_as_loaded() {
    let compiled = compile(&shop_dir()).unwrap();
    let schema = std::fs::read_to_string(shop_dir().join("schema.sql")).unwrap();
    let categories: String = SHOP_SOURCE_ROWS
        .lines()
        .filter(|l| l.starts_with("INSERT INTO category"))
        .collect::<Vec<_>>()
        .join("\n");
    let (_tmp, reference) = sqlite3_database(&format!("{schema}\n{categories}"));
    let profile = compiled
        .profiles
        .iter()
        .find(|p| p.name == "categories")
        .unwrap();
    assert_eq!(profile.fingerprint.total, fingerprint_of(&reference).total);
}

/// A copy of the shop seed with `edit` applied.
fn shop_variant(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(shop_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    edit(&dir);
    (tmp, dir)
}

#[test]
fn a_clock_or_randomness_the_load_would_evaluate_is_refused_with_the_way_out() {
    // A DEFAULT CURRENT_TIMESTAMP on a column the seed gives a value (every
    // product row has added_at) never runs: it compiles.
    let (_t, dir) = shop_variant(|d| {
        edit_file(
            d,
            "schema.sql",
            "added_at TIMESTAMP,",
            "added_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,",
        );
    });
    compile(&dir).unwrap();
    // One the seed gives no value for is refused.
    let (_t, dir) = shop_variant(|d| {
        edit_file(
            d,
            "schema.sql",
            "product_count INTEGER NOT NULL DEFAULT 0",
            "product_count INTEGER NOT NULL DEFAULT 0,\n    created TEXT DEFAULT (datetime('now'))",
        );
    });
    let e = compile(&dir).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Nondeterministic, "{e}");
    let text = e.to_string();
    for part in [
        "category.created",
        "datetime('now')",
        "[defaults.category] created = { now = true }",
        "shop/schema.sql",
    ] {
        assert!(text.contains(part), "{part:?} missing in: {text}");
    }
    // Pinned to seed_time by [defaults], the same seed builds the same
    // fingerprint every time.
    let (_t, dir) = shop_variant(|d| {
        edit_file(
            d,
            "schema.sql",
            "product_count INTEGER NOT NULL DEFAULT 0",
            "product_count INTEGER NOT NULL DEFAULT 0,\n    created DATETIME DEFAULT CURRENT_TIMESTAMP",
        );
        edit_file(
            d,
            "seed.toml",
            "[profiles]",
            "seed_time = \"2025-09-01 08:00:00\"\n\n[defaults.category]\ncreated = { now = true }\n\n[profiles]",
        );
    });
    let first = compile(&dir).unwrap();
    let second = compile(&dir).unwrap();
    assert_eq!(
        first.profiles[0].fingerprint,
        second.profiles[0].fingerprint
    );
    // A trigger the load fires, reading the clock or randomness.
    for body in ["strftime('%s')", "random()", "CURRENT_TIME"] {
        let (_t, dir) = shop_variant(|d| {
            edit_file(
                d,
                "schema.sql",
                "INSERT INTO product_log (product_id) VALUES (NEW.id);",
                &format!("INSERT INTO product_log (product_id, event) VALUES (NEW.id, {body});"),
            );
        });
        let e = compile(&dir).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Nondeterministic, "{e}");
        assert!(
            e.to_string()
                .contains("trigger product_counts (on product)"),
            "{e}"
        );
    }
    // One on a table the seed never writes does not fire: it compiles.
    let (_t, dir) = shop_variant(|d| {
        edit_file(
            d,
            "schema.sql",
            "CREATE VIEW",
            "CREATE TABLE audit (at TEXT);\nCREATE TRIGGER audit_stamp AFTER DELETE ON product BEGIN INSERT INTO audit VALUES (datetime('now')); END;\nCREATE VIEW",
        );
    });
    compile(&dir).unwrap();
}

#[test]
fn cells_the_column_cannot_take_are_refused_naming_the_cell() {
    for (from, to, expected) in [
        (";t;", ";maybe;", "product.csv:2"),
        ("9007199254740993", "9,007", "is not a number"),
        ("89504e470d0a1a0a", "89504e470d0a1a0", "is not hexadecimal"),
        ("2025-01-03;", "2025-02-30;", "not an ISO 8601 date-time"),
    ] {
        let (_t, dir) = shop_variant(|d| edit_file(d, "product.csv", from, to));
        let e = compile(&dir).unwrap_err();
        assert_seed_error(&e, ErrorKind::Type, expected);
    }
}

#[test]
fn tables_load_in_the_manifests_order_on_both_sides_so_triggers_see_the_same() {
    // Products listed first: their trigger counts into categories that do
    // not exist yet, so every counter stays 0, in the build as in sqlite3.
    let (_t, dir) = shop_variant(|d| {
        let manifest = std::fs::read_to_string(d.join("seed.toml")).unwrap();
        let (head, tables) = manifest.split_once("[[table]]").unwrap();
        let (category, product) = tables.split_once("[[table]]").unwrap();
        std::fs::write(
            d.join("seed.toml"),
            format!("{head}[[table]]{product}\n[[table]]{category}"),
        )
        .unwrap();
    });
    let compiled = compile(&dir).unwrap();
    let order: Vec<&str> = compiled.tables.iter().map(|t| t.name()).collect();
    assert_eq!(
        order,
        ["product", "category"],
        "the order the binary loads in"
    );
    let schema = std::fs::read_to_string(shop_dir().join("schema.sql")).unwrap();
    let (products, categories): (Vec<&str>, Vec<&str>) = SHOP_SOURCE_ROWS
        .split(";\n")
        .filter(|s| s.contains("INSERT"))
        .partition(|s| s.contains("INSERT INTO product"));
    let rows = format!("{};\n{};\n", products.join(";\n"), categories.join(";\n"));
    let (_tmp, reference) = sqlite3_database(&format!("{schema}\n{rows}"));
    assert_eq!(
        query(
            &reference,
            "SELECT group_concat(product_count) FROM category"
        ),
        "0,0,0"
    );
    let full = compiled.profiles.iter().find(|p| p.name == "full").unwrap();
    assert_eq!(full.fingerprint.total, fingerprint_of(&reference).total);
}

#[test]
fn blob_files_and_base64_give_their_bytes_and_files_stay_beside_the_source() {
    let with_mapping = |mapping: &str, cell: &str| {
        shop_variant(|d| {
            edit_file(d, "seed.toml", "picture = { blob = \"hex\" }", mapping);
            edit_file(d, "product.csv", "89504e470d0a1a0a", cell);
            edit_file(d, "product.csv", ";\\x00FF;", ";;");
            std::fs::write(d.join("kettle.png"), b"\x89PNG\r\n\x1a\n").unwrap();
        })
    };
    let picture = |c: &Compiled| {
        let t = c.tables.iter().find(|t| t.name() == "product").unwrap();
        let ci = t
            .schema
            .columns
            .iter()
            .position(|c| c.name == "picture")
            .unwrap();
        t.rows[0][ci].clone()
    };
    let png = Value::Blob(b"\x89PNG\r\n\x1a\n".to_vec());
    let (_t, dir) = with_mapping("picture = { blob = \"file\" }", "kettle.png");
    assert_eq!(picture(&compile(&dir).unwrap()), png);
    let (_t, dir) = with_mapping("picture = { blob = \"base64\" }", "iVBORw0KGgo=");
    assert_eq!(picture(&compile(&dir).unwrap()), png);
    for outside in ["../shop/kettle.png", "/etc/hostname"] {
        let (_t, dir) = with_mapping("picture = { blob = \"file\" }", outside);
        let e = compile(&dir).unwrap_err();
        assert_seed_error(&e, ErrorKind::Type, "outside the source file's folder");
    }
    let (_t, dir) = with_mapping("picture = { blob = \"gzip\" }", "x");
    let e = compile(&dir).unwrap_err();
    assert_seed_error(
        &e,
        ErrorKind::Manifest,
        "give \"hex\", \"base64\" or \"file\"",
    );
}

#[test]
fn a_trigger_that_drops_a_seeded_row_is_refused_naming_the_row() {
    let (_t, dir) = shop_variant(|d| {
        edit_file(
            d,
            "schema.sql",
            "CREATE VIEW",
            "CREATE TRIGGER no_odds BEFORE INSERT ON product WHEN NEW.category_id = 3 BEGIN SELECT RAISE(IGNORE); END;\nCREATE VIEW",
        );
    });
    let e = compile(&dir).unwrap_err();
    assert_seed_error(&e, ErrorKind::Check, "dropped this row");
    assert!(e.to_string().contains("shop/product.csv:4"), "{e}");
}

#[test]
fn a_tab_separated_export_reads_with_its_delimiter() {
    let (_t, dir) = shop_variant(|d| {
        let csv = std::fs::read_to_string(d.join("product.csv")).unwrap();
        std::fs::write(
            d.join("product.csv"),
            csv.replace(';', "\t").replace("Semi\tcolon", "Semi;colon"),
        )
        .unwrap();
        edit_file(d, "seed.toml", "delimiter = \";\"", "delimiter = \"\\t\"");
    });
    let tabbed = compile(&dir).unwrap();
    let original = compile(&shop_dir()).unwrap();
    assert_eq!(
        tabbed.profiles[0].fingerprint,
        original.profiles[0].fingerprint
    );
    for bad in ["\";;\"", "\"\\\"\"", "\"§\""] {
        let (_t, dir) = shop_variant(|d| {
            edit_file(
                d,
                "seed.toml",
                "delimiter = \";\"",
                &format!("delimiter = {bad}"),
            )
        });
        let e = compile(&dir).unwrap_err();
        assert_seed_error(&e, ErrorKind::Manifest, "give one ASCII character");
    }
}
