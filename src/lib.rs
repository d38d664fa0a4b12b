//! seedbake: reset and seed a libSQL / Turso database from a seed compiled
//! into the binary, and prove the result matches the build.

pub mod atomic_file;
pub mod database;
pub mod diagram;
pub mod error;
pub mod interrupt;
pub mod ops;
pub mod seed;
pub mod static_files;

// Shared with the build-time compiler; re-exported so `crate::value` and
// friends (and the generated seed module) keep their paths.
pub use seedbake_core::{credentials, fingerprint, hex, schema, value};

pub use error::{Error, Result};
pub use seed::SEED;
