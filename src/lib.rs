//! seedbake: reset and seed a libSQL / Turso database from a seed compiled
//! into the binary, and prove the result matches the build.
//!
//! The `seedbake` binary is [`cli::main`] with this repository's seed; an
//! app's own binary is the same call with the app's seed (README, "Your
//! own app").

// The generated seed module names every path from `::seedbake`, so it
// works here as in an app's own crate.
extern crate self as seedbake;

pub mod atomic_file;
pub mod cli;
pub mod database;
pub mod diagram;
pub mod error;
pub mod interrupt;
pub mod ops;
pub mod program;
pub mod seed;
pub mod static_files;

// Shared with the build-time compiler; re-exported so `crate::value` and
// friends (and the generated seed module) keep their paths.
pub use seedbake_core::{credentials, fingerprint, hex, schema, value};

pub use error::{Error, Result};
#[cfg(feature = "builtin-seed")]
pub use seed::SEED;
