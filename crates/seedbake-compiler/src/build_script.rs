//! The build script's whole job, so `build.rs` stays a thin door: find the
//! seed folder, compile it, tell cargo what to watch, write the generated
//! module, or stop the build with its errors, one per line.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::{Compiled, codegen, compile};

/// The environment variable that names another seed folder for seedbake's
/// own binary, relative to seedbake's package folder (the big-seed bench
/// builds a binary this way). An app's build script names its folder
/// itself ([`build_from`]) and is not swayed by it.
pub const SEED_DIR_VAR: &str = "SEEDBAKE_SEED_DIR";

/// The seed folder, relative to the package, when the variable is not set.
pub const DEFAULT_SEED_DIR: &str = "seed-data";

/// The seed folder a build of the package at `manifest_dir` compiles, given
/// the value of [`SEED_DIR_VAR`].
pub fn seed_dir(manifest_dir: &Path, var: Option<&OsStr>) -> PathBuf {
    manifest_dir.join(var.unwrap_or(OsStr::new(DEFAULT_SEED_DIR)))
}

/// seedbake's own build script: compiles `SEEDBAKE_SEED_DIR`, or this
/// repository's `seed-data/` when the variable is not set.
pub fn build() {
    println!("cargo:rerun-if-env-changed={SEED_DIR_VAR}");
    let var = std::env::var_os(SEED_DIR_VAR);
    let how = match &var {
        Some(_) => format!("named by {SEED_DIR_VAR}"),
        None => format!("{SEED_DIR_VAR} is not set, so this is the package's own seed"),
    };
    compile_into_out_dir(&seed_dir(&package_dir(), var.as_deref()), &how);
}

/// An app's build script: compiles the app's seed folder (relative to the
/// app's package folder, where its `Cargo.toml` is) into `OUT_DIR/seed.rs`,
/// for the app to `include!` (see the README, "Your own app").
pub fn build_from(folder: impl AsRef<Path>) {
    let dir = package_dir().join(folder);
    compile_into_out_dir(&dir, "named by the build script");
}

fn package_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"))
}

/// Compiles `seed_dir` into `OUT_DIR`, telling cargo what to watch and
/// saying in the build output which folder was compiled (a build that
/// picked up the wrong seed must not look like any other). A rejected seed
/// ends the build script with status 1 and its errors, one per line. The
/// compiler's own source needs no `rerun-if-changed`: cargo reruns the
/// build script when a build-dependency changes.
fn compile_into_out_dir(seed_dir: &Path, how: &str) {
    // Watch the folder itself so added or removed files rebuild too.
    println!("cargo:rerun-if-changed={}", seed_dir.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));

    let compiled = match compile(seed_dir) {
        Ok(c) => c,
        Err(e) => {
            // cargo shows a failing build script's stderr: make it the
            // errors, one per line, and nothing else.
            eprintln!("error: seed data rejected");
            for line in e.to_string().lines() {
                eprintln!("  {line}");
                println!("cargo:warning=seed data rejected: {line}");
            }
            std::process::exit(1);
        }
    };
    for input in &compiled.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    println!(
        "cargo:warning=compiled the seed folder {} ({how}): {}",
        seed_dir.display(),
        summary(&compiled)
    );
    for w in &compiled.warnings {
        println!("cargo:warning={w}");
    }
    codegen::write(&compiled, out_dir.as_path()).expect("cannot write the generated seed module");
}

/// What the build output says the seed is: the app, tables and rows.
fn summary(c: &Compiled) -> String {
    let rows: usize = c.tables.iter().map(|t| t.rows.len()).sum();
    let app = c
        .app
        .name
        .as_deref()
        .map_or("no [app] name".to_owned(), |n| format!("app {n}"));
    format!("{app}, {} tables, {rows} rows", c.tables.len())
}
