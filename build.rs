//! Compiles `seed-data/` (or the folder `SEEDBAKE_SEED_DIR` names) into the
//! Rust module the binary embeds. A seed that breaks the schema stops the
//! build here, with the file, line, field and cause.
//!
//! The compiler itself is an ordinary, unit-tested library module; this file
//! only includes it and reports.

#[path = "src/compiler/mod.rs"]
mod compiler;

use seedbake_core::{credentials, fingerprint, schema, value};

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SEEDBAKE_SEED_DIR");
    println!("cargo:rerun-if-changed=src/compiler");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let seed_dir = match std::env::var_os("SEEDBAKE_SEED_DIR") {
        Some(dir) => manifest_dir.join(dir),
        None => manifest_dir.join("seed-data"),
    };
    // Watch the folder itself so added or removed files rebuild too.
    println!("cargo:rerun-if-changed={}", seed_dir.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));

    let compiled = match compiler::compile(&seed_dir) {
        Ok(c) => c,
        Err(e) => {
            // cargo shows a failing build script's stderr; make it the one line that matters.
            eprintln!("error: seed data rejected\n  {e}");
            println!("cargo:warning=seed data rejected: {e}");
            std::process::exit(1);
        }
    };
    for input in &compiled.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    for w in &compiled.warnings {
        println!("cargo:warning={w}");
    }
    compiler::codegen::write(&compiled, &out_dir).expect("cannot write the generated seed module");
}
