//! Compiles `seed-data/` (or the folder `SEEDBAKE_SEED_DIR` names) into the
//! Rust module the binary embeds. A seed that breaks the schema stops the
//! build here, with the file, line, field and cause.
//!
//! The compiler is its own crate, `seedbake-compiler` (a build-dependency,
//! unit-tested on its own); this file only calls it.

fn main() {
    // An app that compiles its own seed turned the built-in one off: there
    // is nothing to compile here, and no folder to say was compiled.
    if std::env::var_os("CARGO_FEATURE_BUILTIN_SEED").is_some() {
        seedbake_compiler::build();
    }
}
