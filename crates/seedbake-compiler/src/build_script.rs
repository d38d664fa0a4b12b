//! The build script's whole job, so `build.rs` stays a thin door: find the
//! seed folder, compile it, tell cargo what to watch, write the generated
//! module, or stop the build with its errors, one per line.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::{codegen, compile};

/// The environment variable that names another seed folder, relative to the
/// package (the big-seed bench builds a binary this way).
pub const SEED_DIR_VAR: &str = "SEEDBAKE_SEED_DIR";

/// The seed folder, relative to the package, when the variable is not set.
pub const DEFAULT_SEED_DIR: &str = "seed-data";

/// The seed folder a build of the package at `manifest_dir` compiles, given
/// the value of [`SEED_DIR_VAR`].
pub fn seed_dir(manifest_dir: &Path, var: Option<&OsStr>) -> PathBuf {
    manifest_dir.join(var.unwrap_or(OsStr::new(DEFAULT_SEED_DIR)))
}

/// Compiles the package's seed into `OUT_DIR`; call it from `build.rs`.
/// A rejected seed ends the build script with status 1 and its errors,
/// one per line. The compiler's own source needs no `rerun-if-changed`: cargo
/// rebuilds and reruns the build script when a build-dependency changes.
pub fn build() {
    println!("cargo:rerun-if-env-changed={SEED_DIR_VAR}");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let seed_dir = seed_dir(&manifest_dir, std::env::var_os(SEED_DIR_VAR).as_deref());
    // Watch the folder itself so added or removed files rebuild too.
    println!("cargo:rerun-if-changed={}", seed_dir.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));

    let compiled = match compile(&seed_dir) {
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
    for w in &compiled.warnings {
        println!("cargo:warning={w}");
    }
    codegen::write(&compiled, &out_dir).expect("cannot write the generated seed module");
}
