//! The integration tests, one binary with a module per subject: each test
//! binary links the C engine, so twenty of them cost minutes of linking
//! alone. The helpers (`common`) are compiled once and shared. The
//! repository's Hrana test server is a separate program (the example
//! `hrana-test-server`), started as a process by `common::server`.
//!
//! Nothing here may change the test process itself (environment variables,
//! the working directory, signal handlers): some 400 tests share it, on as
//! many threads as the harness runs. Such a test runs the real binary as a
//! child with its own settings instead.

mod common;

mod app_rows;
mod app_schema;
mod backup;
mod build_agrees;
mod cli;
mod compile_errors;
mod empty_root;
mod exit_codes;
mod extract;
mod hrana_server_conformance;
mod images;
mod manifest_entries;
mod migrate;
mod migration_compile_errors;
mod passlib_hashes;
mod production;
mod remote;
mod remote_outcomes;
mod reset;
mod restore;
mod sqld;
