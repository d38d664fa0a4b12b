//! seedbake: reset and seed a libSQL / Turso database from a seed compiled
//! into the binary, and prove the result matches the build.

pub mod atomic_file;
pub mod compiler;
pub mod database;
pub mod error;
pub mod fingerprint;
pub mod ops;
pub mod schema;
pub mod seed;
pub mod static_files;
pub mod value;

pub use error::{Error, Result};
pub use seed::SEED;
