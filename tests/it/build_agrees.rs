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

mod shop;

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
fn the_generated_module_says_it_is_generated() {
    let compiled = compile(&seed_dir()).unwrap();
    let out = tempfile::tempdir().unwrap();
    codegen::write(&compiled, out.path()).unwrap();
    let code = std::fs::read_to_string(out.path().join(codegen::GENERATED_FILE)).unwrap();
    let first = code.lines().next().unwrap_or_default();
    assert!(first.starts_with("// @generated "), "{first}");
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
