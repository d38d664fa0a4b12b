//! What seedbake's build-time compiler and its runtime share, so both sides
//! read and write exactly the same bytes: seed values and their row
//! encoding, schema introspection, the fingerprint, password hashing and the
//! rule for paths below the app's static folder.
//!
//! The compiler (`seedbake-compiler`, run by the binary's build script) and
//! the runtime (`seedbake`) both depend on this crate; neither includes the
//! other's source.

pub mod credentials;
pub mod fingerprint;
pub mod hex;
pub mod json_span;
pub mod migration_file;
pub mod schema;
pub mod static_path;
pub mod value;
