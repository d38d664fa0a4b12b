//! Assertions on a failure: its kind first (the exit code, the compiler's
//! error kind), its words second. A test that checks only the words passes
//! when the command fails in the wrong way with a familiar sentence, and
//! breaks on a harmless rewording; one that checks the kind first fails for
//! the reason that matters and shows everything that was said.

use std::process::Output;

use seedbake_compiler::{ErrorKind, SeedError};

/// The run ended with exit `code` and said `words` (on stdout or stderr).
#[track_caller]
pub fn assert_fails(o: &Output, code: i32, words: &str) {
    let said = super::output_text(o);
    assert_eq!(o.status.code(), Some(code), "expected exit {code}: {said}");
    assert!(said.contains(words), "expected {words:?} in: {said}");
}

/// The compiler refused with an error of `kind` whose message says `words`.
#[track_caller]
pub fn assert_seed_error(e: &SeedError, kind: ErrorKind, words: &str) {
    assert_eq!(e.kind, kind, "{e}");
    assert!(e.to_string().contains(words), "expected {words:?} in: {e}");
}
