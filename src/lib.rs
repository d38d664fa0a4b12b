//! seedbake: reset and seed a libSQL / Turso database from a seed compiled
//! into the binary, and prove the result matches the build.

pub mod compiler;
pub mod fingerprint;
pub mod schema;
pub mod seed;
pub mod value;
