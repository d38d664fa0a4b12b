//! What went wrong talking to a database, classified by kind: the engine's
//! result codes, the Hrana protocol's error codes and HTTP statuses, and
//! what seedbake's own transport saw on the socket. Never by the wording of
//! a message, so a dependency that rewords one cannot change an exit code;
//! the wording is kept only to show people.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Why a server could not be reached. In every case nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The host name did not resolve; carries seedbake's own resolver
    /// message when it says what to do (no name server configured…).
    Dns(Option<String>),
    Refused,
    ConnectTimeout,
    /// The TLS handshake failed, or a plain-HTTP request met a TLS server.
    Tls,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Another connection holds a lock (SQLITE_BUSY, SQLITE_LOCKED).
    Busy,
    /// A constraint refused a write (the SQLITE_CONSTRAINT family).
    Constraint,
    /// The database file could not be opened or is not a database
    /// (SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_READONLY, SQLITE_PERM).
    CannotOpen,
    Unreachable(Unreachable),
    /// HTTP 401.
    Unauthorized,
    /// HTTP 403.
    Forbidden,
    /// The server expired the stream, or rolled its transaction back
    /// (`STREAM_EXPIRED`, `TRANSACTION_TIMEOUT`): it holds nothing of ours.
    Expired,
    /// A server limit: HTTP 413, `RESPONSE_TOO_LARGE`, `SQL_STORE_TOO_*`.
    TooLarge,
    /// HTTP 5xx.
    ServerFailed,
    /// The request left, and no answer came within `--timeout`.
    NoAnswer,
    /// The connection broke after the request left.
    Broken,
    /// The server's answer could not be taken: larger than seedbake accepts
    /// (see `transport.rs`), not text where text belongs, or not a Hrana
    /// answer at all.
    BadAnswer,
    /// A signal asked seedbake to stop (see `crate::interrupt`).
    Interrupted,
    /// Anything else the engine or the server refused (syntax, a full
    /// disk, I/O): the message says what.
    Engine,
}

/// A failed database call: its kind, and whether any of the request had
/// left for the server (after which only the server knows what it did).
#[derive(Debug, Clone)]
pub struct DbError {
    pub kind: Kind,
    /// For people: the engine's or the server's words, explained.
    pub message: String,
    /// Some bytes of the failing request reached the network. Always false
    /// for local files.
    pub sent: bool,
    /// The caller's own error that stopped a read from its row function
    /// (see [`DbError::stopped`]); shared, so the error stays `Clone`.
    pub(super) cause: Option<Arc<dyn Any + Send + Sync>>,
}

impl DbError {
    pub fn new(kind: Kind, message: impl Into<String>) -> DbError {
        DbError {
            kind,
            message: message.into(),
            sent: false,
            cause: None,
        }
    }

    /// A row function's way to stop a read with an error of its caller's
    /// (a failed write, say): the read fails with it, worded as `cause`
    /// says, and [`DbError::stopped_by`] gives it back.
    pub fn stopped<E: fmt::Display + Send + Sync + 'static>(cause: E) -> DbError {
        DbError {
            message: cause.to_string(),
            cause: Some(Arc::new(cause)),
            ..DbError::new(Kind::Engine, String::new())
        }
    }

    /// The caller's error this read was stopped with, when it was one of
    /// type `E`; otherwise the database's error, unchanged.
    pub fn stopped_by<E: Send + Sync + 'static>(mut self) -> Result<E, DbError> {
        let Some(cause) = self.cause.take() else {
            return Err(self);
        };
        match cause.downcast::<E>() {
            // A clone of this error may share it; then it stays shared.
            Ok(typed) => Arc::try_unwrap(typed).map_err(|shared| DbError {
                cause: Some(shared),
                ..self
            }),
            Err(other) => Err(DbError {
                cause: Some(other),
                ..self
            }),
        }
    }

    /// The request may have been applied by the server although no answer
    /// says so.
    pub fn outcome_unknown(&self) -> bool {
        self.sent && matches!(self.kind, Kind::NoAnswer | Kind::Broken | Kind::BadAnswer)
    }

    /// The error of an operation stopped by a signal.
    pub fn interrupted(signal: crate::interrupt::Signal) -> DbError {
        DbError::new(
            Kind::Interrupted,
            format!("interrupted by {}", signal.name()),
        )
    }

    /// The request could not get through to the database, or its answer
    /// could not come back: for a command that only reads, the database is
    /// unavailable rather than the operation failed.
    pub fn is_transport(&self) -> bool {
        matches!(
            self.kind,
            Kind::NoAnswer | Kind::Broken | Kind::BadAnswer | Kind::ServerFailed
        )
    }

    pub fn is_busy(&self) -> bool {
        self.kind == Kind::Busy
    }

    /// The database could not be reached or opened at all.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.kind,
            Kind::Unreachable(_) | Kind::Unauthorized | Kind::Forbidden | Kind::CannotOpen
        )
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {}

/// The kind of an SQLite result code (primary or extended).
pub fn sqlite_kind(code: i32) -> Kind {
    // Extended codes keep the primary code in the low byte.
    match code & 0xff {
        5 | 6 => Kind::Busy,
        19 => Kind::Constraint,
        3 | 8 | 14 | 26 => Kind::CannotOpen,
        18 => Kind::TooLarge,
        _ => Kind::Engine,
    }
}

/// The kind of a Hrana protocol error code (`SQLITE_*` codes are the
/// engine's, named; the others are the server's own).
pub fn hrana_kind(code: &str) -> Kind {
    let sqlite = |name: &str| code == name || code.starts_with(&format!("{name}_"));
    if sqlite("SQLITE_BUSY") || sqlite("SQLITE_LOCKED") {
        Kind::Busy
    } else if sqlite("SQLITE_CONSTRAINT") {
        Kind::Constraint
    } else if sqlite("SQLITE_TOOBIG") {
        Kind::TooLarge
    } else {
        match code {
            "STREAM_EXPIRED" | "TRANSACTION_TIMEOUT" => Kind::Expired,
            "RESPONSE_TOO_LARGE" | "SQL_STORE_TOO_LARGE" | "SQL_STORE_TOO_MANY" => Kind::TooLarge,
            _ => Kind::Engine,
        }
    }
}

/// The kind of an HTTP status other than 200.
pub fn http_kind(status: u16) -> Kind {
    match status {
        401 => Kind::Unauthorized,
        403 => Kind::Forbidden,
        413 => Kind::TooLarge,
        500..=599 => Kind::ServerFailed,
        _ => Kind::Engine,
    }
}

/// The engine's own words in what the server wrapped them in (sqld's
/// `SQLite error: `, `SQL string could not be parsed: `): `UNIQUE
/// constraint failed: verband.name`, for people; never read for a kind.
pub fn server_words(text: &str) -> String {
    let mut rest = text.trim();
    loop {
        let before = rest;
        for wrapper in [
            "Hrana: ",
            "api error: ",
            "SQLite error: ",
            "SQLite failure: ",
            "SQL string could not be parsed: ",
        ] {
            if let Some(inner) = rest.strip_prefix(wrapper) {
                rest = inner.trim();
            }
        }
        if let Some(inner) = rest.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
            rest = inner.trim();
        }
        if rest == before {
            return rest.to_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_stopped_by_its_caller_gives_the_callers_error_back() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let stopped = DbError::stopped(full);
        assert_eq!(stopped.kind, Kind::Engine);
        let same = stopped.clone().stopped_by::<std::io::Error>();
        // A clone shares the cause: it stays a database error, worded alike.
        let shared = same.expect_err("a clone still holds the cause");
        assert_eq!(shared.message, stopped.message);
        drop(shared);
        let back = stopped
            .stopped_by::<std::io::Error>()
            .expect("the write's error");
        assert_eq!(back.kind(), std::io::ErrorKind::StorageFull);

        let other = DbError::stopped(std::io::Error::other("no"));
        let kept = other.stopped_by::<String>().expect_err("not a String");
        assert_eq!(kept.message, "no");
        assert!(
            kept.stopped_by::<std::io::Error>().is_ok(),
            "the cause is still there"
        );

        let engine = DbError::new(Kind::Busy, "locked");
        assert_eq!(
            engine.stopped_by::<std::io::Error>().unwrap_err().kind,
            Kind::Busy
        );
    }

    #[test]
    fn protocol_errors_are_read_by_their_code() {
        assert_eq!(hrana_kind("SQLITE_BUSY"), Kind::Busy);
        assert_eq!(hrana_kind("SQLITE_CONSTRAINT_CHECK"), Kind::Constraint);
        assert_eq!(hrana_kind("SQLITE_CONSTRAINTS"), Kind::Engine);
        assert_eq!(hrana_kind("STREAM_EXPIRED"), Kind::Expired);
        assert_eq!(hrana_kind("TRANSACTION_TIMEOUT"), Kind::Expired);
        assert_eq!(hrana_kind("RESPONSE_TOO_LARGE"), Kind::TooLarge);
        assert_eq!(http_kind(401), Kind::Unauthorized);
        assert_eq!(http_kind(502), Kind::ServerFailed);
    }

    #[test]
    fn engine_codes_keep_their_primary_code() {
        // SQLITE_BUSY_SNAPSHOT, SQLITE_CONSTRAINT_FOREIGNKEY, SQLITE_FULL.
        assert_eq!(sqlite_kind(517), Kind::Busy);
        assert_eq!(sqlite_kind(787), Kind::Constraint);
        assert_eq!(sqlite_kind(13), Kind::Engine);
        assert_eq!(sqlite_kind(26), Kind::CannotOpen);
    }

    #[test]
    fn only_a_sent_request_without_an_answer_has_an_unknown_outcome() {
        let mut e = DbError::new(Kind::NoAnswer, "x");
        assert!(!e.outcome_unknown());
        e.sent = true;
        assert!(e.outcome_unknown());
        e.kind = Kind::Expired;
        assert!(!e.outcome_unknown());
    }

    #[test]
    fn the_engines_words_are_taken_out_of_the_clients_wrapping() {
        for (wrapped, words) in [
            (
                "Hrana: `api error: `SQLite error: UNIQUE constraint failed: verband.name``",
                "UNIQUE constraint failed: verband.name",
            ),
            ("SQLite error: no such table: t", "no such table: t"),
            (
                "UNIQUE constraint failed: t.a",
                "UNIQUE constraint failed: t.a",
            ),
        ] {
            assert_eq!(server_words(wrapped), words, "{wrapped}");
        }
    }
}
