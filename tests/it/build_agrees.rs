//! The build-time path and the run-time path agree: the seed the binary
//! embedded (`build.rs` → `seedbake_compiler::build`) is, field by field,
//! what the compiler makes of the same folder now.

use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use crate::common::{assert_seed_error, edit_file, fixture};
use seedbake::SEED;
use seedbake::seed::Seed;
use seedbake::value::{Decoder, Value};
use seedbake_compiler::{Compiled, ErrorKind, build_script, codegen, compile};

/// The folder the build compiled: `SEEDBAKE_SEED_DIR` as cargo set it for
/// this build, else `seed-data/`.
fn seed_dir() -> PathBuf {
    build_script::seed_dir(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        option_env!("SEEDBAKE_SEED_DIR").map(OsStr::new),
    )
}

/// Every field where the embedded seed and the compiled one differ.
#[derive(Default)]
struct Differences(Vec<String>);

impl Differences {
    fn check<E: PartialEq<C> + Debug, C: Debug>(&mut self, what: &str, embedded: E, compiled: C) {
        if embedded != compiled {
            self.0.push(format!(
                "{what}: embedded {embedded:?}, compiled {compiled:?}"
            ));
        }
    }

    /// Rows or bytes, said by their lengths and the first item that
    /// differs rather than in full.
    fn check_items<T: PartialEq + Debug>(&mut self, what: &str, embedded: &[T], compiled: &[T]) {
        if embedded != compiled {
            let at = embedded
                .iter()
                .zip(compiled)
                .take_while(|(a, b)| a == b)
                .count();
            self.0.push(format!(
                "{what}: embedded {} items, compiled {}; first difference at item {at}: embedded {:?}, compiled {:?}",
                embedded.len(),
                compiled.len(),
                embedded.get(at),
                compiled.get(at)
            ));
        }
    }
}

/// Reads `data` as values, `width` to a row.
fn decode(data: &[u8], width: usize) -> Vec<Vec<Value>> {
    let mut decoder = Decoder::new(data);
    let mut rows = Vec::new();
    while width > 0 && !decoder.is_empty() {
        rows.push((0..width).map(|_| decoder.next_value().into()).collect());
    }
    rows
}

fn differences(seed: &Seed, c: &Compiled) -> Vec<String> {
    let mut d = Differences::default();
    d.check("schema_sql", seed.schema_sql, c.schema_sql.as_str());
    d.check("default_profile", seed.default_profile, &c.default_profile);

    let embedded: Vec<&str> = seed.tables.iter().map(|t| t.name).collect();
    let compiled: Vec<&str> = c.tables.iter().map(|t| t.name()).collect();
    d.check("tables", embedded, compiled);
    for (t, ct) in seed.tables.iter().zip(&c.tables) {
        let at = |field: &str| format!("table {}: {field}", ct.name());
        let columns: Vec<_> = t
            .columns
            .iter()
            .map(|c| (c.name, c.declared_type, c.not_null, c.primary_key))
            .collect();
        // Only the columns the seed gives are embedded (the rest are the
        // engine's at run time).
        let compiled_columns: Vec<_> = ct
            .embedded_columns()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.declared_type.as_str(),
                    c.not_null,
                    c.pk > 0,
                )
            })
            .collect();
        d.check(&at("columns"), columns, compiled_columns);
        d.check(&at("row_count"), t.row_count, ct.rows.len());
        d.check_items(&at("rows"), t.rows, &codegen::encode_rows(ct));
        let given: Vec<Vec<Value>> = ct
            .rows
            .iter()
            .map(|r| ct.inserted_columns().map(|i| r[i].clone()).collect())
            .collect();
        d.check_items(
            &at("decoded rows"),
            &decode(t.rows, t.columns.len()),
            &given,
        );
        d.check(&at("key_fields"), t.key_fields, ct.key_fields.as_slice());
        d.check_items(&at("keys"), t.keys, &codegen::encode_keys(ct));
        let keys: Vec<Vec<Value>> = ct
            .keys
            .iter()
            .map(|k| k.iter().map(|p| Value::Text(p.clone())).collect())
            .collect();
        d.check_items(
            &at("decoded keys"),
            &decode(t.keys, t.key_fields.len()),
            &keys,
        );
        d.check(
            &at("unfingerprinted"),
            t.unfingerprinted,
            ct.unfingerprinted.as_slice(),
        );
    }

    let embedded: Vec<&str> = seed.profiles.iter().map(|p| p.name).collect();
    let compiled: Vec<&str> = c.profiles.iter().map(|p| p.name.as_str()).collect();
    d.check("profiles", embedded, compiled);
    for (p, cp) in seed.profiles.iter().zip(&c.profiles) {
        let at = |field: &str| format!("profile {}: {field}", cp.name);
        d.check(&at("tables"), p.tables, cp.tables.as_slice());
        d.check(&at("fingerprint"), p.fingerprint, &cp.fingerprint.total);
        let digests: Vec<(String, String)> = p
            .digests
            .iter()
            .map(|(n, h)| ((*n).to_owned(), (*h).to_owned()))
            .collect();
        d.check(&at("digests"), digests, cp.fingerprint.entries.clone());
    }

    let admin = seed.admin.map(|a| {
        let grant: Vec<(String, Value)> = a
            .grant
            .iter()
            .map(|(col, v)| ((*col).to_owned(), Value::from(*v)))
            .collect();
        let names = [a.table, a.password_column, a.username_column, a.id_column];
        (names, a.id, a.key, grant)
    });
    let compiled_admin = c.admin.as_ref().map(|a| {
        let names = [
            &a.table,
            &a.password_column,
            &a.username_column,
            &a.id_column,
        ];
        (
            names.map(String::as_str),
            a.id,
            a.key.as_str(),
            a.grant.clone(),
        )
    });
    d.check("admin", admin, compiled_admin);

    let images: Vec<_> = seed
        .images
        .iter()
        .map(|i| (i.path, i.table, i.column, i.media_type))
        .collect();
    let compiled_images: Vec<_> = c
        .images
        .iter()
        .map(|i| {
            (
                i.path.as_str(),
                i.table.as_str(),
                i.column.as_str(),
                i.media_type,
            )
        })
        .collect();
    d.check("images", images, compiled_images);
    d.check("static_dir", seed.static_dir, c.static_dir.as_deref());
    let defaults: Vec<(&str, &str, String)> = seed
        .defaults
        .iter()
        .map(|d| {
            let value = match d.value {
                seedbake::seed::DefaultValue::Value(v) => format!("{:?}", Value::from(v)),
                other => format!("{other:?}"),
            };
            (d.table, d.column, value)
        })
        .collect();
    let compiled_defaults: Vec<(&str, &str, String)> = c
        .defaults
        .iter()
        .map(|d| {
            let value = match &d.value {
                seedbake_compiler::DefaultValue::Value(v) => format!("{v:?}"),
                other => format!("{other:?}"),
            };
            (d.table.as_str(), d.column.as_str(), value)
        })
        .collect();
    d.check("defaults", defaults, compiled_defaults);
    let app = (
        seed.app.name,
        seed.app.database,
        seed.app.production_env.to_vec(),
    );
    let compiled_app = (
        c.app.name.as_deref(),
        c.app.database.as_deref(),
        c.app
            .production_env
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    d.check("app", app, compiled_app);
    let versions: Vec<(i64, &str)> = seed
        .migrations
        .versions
        .iter()
        .map(|m| (m.version, m.checksum))
        .collect();
    let compiled_versions: Vec<(i64, &str)> = c
        .migrations
        .iter()
        .map(|m| (m.version, m.checksum.as_str()))
        .collect();
    d.check("migrations", versions, compiled_versions);
    for (i, ci) in seed.images.iter().zip(&c.images) {
        let bytes = std::fs::read(&ci.file).expect("the compiler just read this image");
        d.check_items(&format!("image {}: bytes", ci.path), i.bytes, &bytes);
    }
    d.0
}

#[test]
fn the_embedded_seed_is_what_the_compiler_makes_of_the_folder() {
    let compiled = compile(&seed_dir()).unwrap();
    let found = differences(&SEED, &compiled);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // Not vacuous: there is something on both sides to compare.
    assert!(!SEED.tables.is_empty() && SEED.tables.iter().any(|t| t.row_count > 0));
}

#[test]
fn any_divergence_is_caught() {
    let mut c = compile(&seed_dir()).unwrap();
    let table = c
        .tables
        .iter()
        .position(|t| !t.rows.is_empty())
        .expect("a seeded table with rows");
    let name = c.tables[table].name().to_owned();
    c.tables[table].rows[0][0] = Value::Text("not what the build saw".into());
    c.profiles[0].fingerprint.total.push('0');
    c.schema_sql.push(' ');
    if let Some(image) = c.images.first_mut() {
        image.media_type = "image/x-other";
    }
    if let Some(admin) = &mut c.admin {
        admin.id += 1;
    }
    c.static_dir = Some("elsewhere".into());
    c.app.production_env.push("ELSEWHERE".into());
    if let Some(default) = c.defaults.first_mut() {
        default.column.push('_');
    }
    let found = differences(&SEED, &c).join("\n");
    let expected = [
        format!("table {name}: rows"),
        format!("table {name}: decoded rows"),
        format!("profile {}: fingerprint", c.profiles[0].name),
        "schema_sql".to_owned(),
    ];
    for what in expected {
        assert!(
            found.contains(&format!("{what}: ")),
            "{what} missed in:\n{found}"
        );
    }
    if !c.images.is_empty() {
        assert!(found.contains("images: "), "{found}");
    }
    if c.admin.is_some() {
        assert!(found.contains("admin: "), "{found}");
    }
    assert!(found.contains("static_dir: "), "{found}");
    assert!(found.contains("app: "), "{found}");
    if !c.defaults.is_empty() {
        assert!(found.contains("defaults: "), "{found}");
    }
    // A different seed altogether differs everywhere.
    let base = fixture("base");
    let other = compile(&base).unwrap();
    assert!(differences(&SEED, &other).len() > 1);
}

// ---------------------------------------------------------------------------
// The exactness rule, on a second app's seed (tests/fixtures/shop): what the
// build proves and the binary loads is what the engine makes of the seed's
// source rows inserted once, in order, into the declared schema.

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
        assert_seed_error(&e, ErrorKind::Manifest, "outside the source file's folder");
    }
    let (_t, dir) = with_mapping("picture = { blob = \"gzip\" }", "x");
    let e = compile(&dir).unwrap_err();
    assert_seed_error(&e, ErrorKind::Manifest, "give \"hex\", \"base64\" or \"file\"");
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
