//! seedbake: reset and seed a libSQL / Turso database from a seed compiled
//! into the binary, and prove the result matches the build.

pub mod compiler;
pub mod error;
pub mod fingerprint;
pub mod ops;
pub mod schema;
pub mod seed;
pub mod static_files;
pub mod target;
pub mod value;

pub use error::{Error, Result};
pub use seed::SEED;
