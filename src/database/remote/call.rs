//! One request of the Hrana client: bounded by `--timeout`, stopped by a
//! signal (but for the COMMIT), and its failure classified into a [`Kind`]
//! with words an operator can act on: by the HTTP status, the protocol's
//! error code and what the transport saw, never by a message's words.

use super::Remote;
use crate::database::failure::{DbError, Kind, Unreachable, hrana_kind, http_kind, server_words};
use crate::database::hrana::{Failure, proto};
use crate::database::transport::Refused;

/// Why a request failed, as the client tells it.
#[derive(Debug)]
pub(crate) enum Fault {
    /// The pipeline failed as a whole (HTTP, transport, the answer's shape).
    Client(Failure),
    /// The server refused a request or a batch's step: its code and words.
    Server(proto::Error),
    /// An answer whose contents are not the protocol's.
    Malformed(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Client(failure) => failure.fmt(f),
            Fault::Server(error) => f.write_str(&error.message),
            Fault::Malformed(why) => f.write_str(why),
        }
    }
}

impl From<Failure> for Fault {
    fn from(f: Failure) -> Fault {
        Fault::Client(f)
    }
}

impl Remote {
    /// Runs one client call, bounded by the request timeout, its failure
    /// classified. A signal stops it (see [`Remote::call_to_the_end`]).
    pub(super) async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, Fault>>,
    ) -> Result<T, DbError> {
        crate::database::not_interrupted()?;
        tokio::select! {
            result = self.call_to_the_end(call) => result,
            // Abandoning a request that carries no COMMIT abandons the
            // transaction: the server rolls it back.
            signal = crate::interrupt::requested_wait() => Err(DbError::interrupted(signal)),
        }
    }

    /// Runs one client call, bounded by the request timeout, without giving
    /// up for a signal: for the COMMIT, whose answer is the only way to
    /// know whether the server applied it.
    pub(super) async fn call_to_the_end<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, Fault>>,
    ) -> Result<T, DbError> {
        self.traffic.forget();
        let sent_before = self.traffic.bytes_sent();
        let outcome = tokio::time::timeout(self.settings.request_timeout, call).await;
        let sent = self.traffic.bytes_sent() > sent_before;
        match outcome {
            Ok(Ok(value)) => {
                self.answered.set(true);
                Ok(value)
            }
            Ok(Err(e)) => Err(self.classify(&e, sent)),
            Err(_) => {
                let seconds = self.settings.request_timeout.as_secs_f64();
                let (kind, message) = if sent {
                    (
                        Kind::NoAnswer,
                        format!("the server did not answer within {seconds} s (--timeout)"),
                    )
                } else {
                    (
                        Kind::Unreachable(Unreachable::ConnectTimeout),
                        format!(
                            "could not reach {} within {seconds} s (--timeout)",
                            self.host
                        ),
                    )
                };
                Err(DbError {
                    sent,
                    ..DbError::new(kind, message)
                })
            }
        }
    }

    pub(super) fn classify(&self, fault: &Fault, sent: bool) -> DbError {
        let seen = self.traffic.seen();
        // The protocol's error, and the HTTP status it came with.
        let (status, error) = match fault {
            Fault::Client(Failure::Status { status, error }) => (Some(*status), Some(error)),
            Fault::Server(error) => (None, Some(error)),
            _ => (None, None),
        };
        let code = error.and_then(|e| e.code.as_deref());
        let kind = if let Fault::Client(Failure::Elsewhere(_)) = fault {
            Kind::BadAnswer
        } else if let Some(why) = seen.unreachable.clone() {
            Kind::Unreachable(why)
        } else if seen.tls_answer {
            Kind::Unreachable(Unreachable::Tls)
        } else if seen.refused.is_some() {
            Kind::BadAnswer
        } else if let Some(code) = code {
            match (hrana_kind(code), status) {
                (Kind::Engine, Some(status)) => http_kind(status),
                (kind, _) => kind,
            }
        } else if let Some(status) = status {
            match http_kind(status) {
                // A status without the protocol's error: not a Hrana server.
                Kind::Engine => Kind::BadAnswer,
                kind => kind,
            }
        } else {
            match fault {
                Fault::Client(Failure::Transport(_)) => Kind::Broken,
                Fault::Client(Failure::Malformed(_)) | Fault::Malformed(_) => Kind::BadAnswer,
                _ => Kind::Engine,
            }
        };
        let server_said = server_words(&match error {
            Some(error) => error.message.clone(),
            None => fault.to_string(),
        });
        let host = &self.host;
        let message = match &kind {
            Kind::Unreachable(Unreachable::Dns(Some(own))) => own.clone(),
            Kind::Unreachable(Unreachable::Dns(None)) => {
                format!("cannot resolve the host name {host}: check the URL and the machine's DNS")
            }
            Kind::Unreachable(Unreachable::Refused) => {
                format!("{host} refused the connection: is the server running, and is the port right?")
            }
            Kind::Unreachable(Unreachable::ConnectTimeout) => format!(
                "could not connect to {host} within {} s (--timeout)",
                self.settings.request_timeout.as_secs_f64()
            ),
            Kind::Unreachable(Unreachable::Tls) => format!(
                "the TLS handshake with {host} failed: use https:// (or libsql://) for TLS servers and http:// for plain ones"
            ),
            Kind::Unreachable(Unreachable::Other) => format!("cannot connect to {host}"),
            Kind::Unauthorized => "the server rejected the auth token (401): check TURSO_AUTH_TOKEN or --auth-token; it may have expired".into(),
            Kind::Forbidden => "the token is not allowed to do this (403): use a token with write access to this database".into(),
            Kind::TooLarge => format!(
                "a server limit was exceeded (request or response too large; lower --request-bytes): {server_said}"
            ),
            Kind::Expired if self.snapshot.get() => format!(
                "the server ended the read transaction: no request reached it for longer than its stream clock \
                 (10 s on sqld; a page of rows took too long or the link stalled), so what was read is not one \
                 consistent state and is not used; nothing was changed: run the command again on a steadier link: \
                 {server_said}"
            ),
            // The caller says what became of the work (a write transaction
            // is gone with the session: rolled back).
            // sqld takes the write lock from a transaction older than 5 s
            // when another client asks for it (libsql-server
            // `connection/mod.rs`, `TXN_TIMEOUT`), and says so by this code.
            Kind::Expired if code == Some("TRANSACTION_TIMEOUT") => format!(
                "the server rolled the transaction back: seedbake held the write lock longer than the server \
                 allows while another client wanted to write (5 s on sqld). Stop the app's writers while this \
                 runs (a big database takes longer than 5 s), then run it again: {server_said}"
            ),
            Kind::Expired => format!(
                "the server ended the session: no request reached it within its stream clock (10 s on sqld), or \
                 it took the write lock away while another client wanted to write (after 5 s on sqld). Run it \
                 again on a steadier link, with the app's writers stopped: {server_said}"
            ),
            // sqld cannot write TEXT that is not UTF-8 as JSON and fails the
            // whole request so, with no code (measured on 0.24.33): its
            // words are the only sign, read here for the explanation only.
            Kind::ServerFailed if server_said.contains("invalid utf-8 sequence") => format!(
                "the server failed (HTTP {}: {server_said}): sqld answers so when a value it must send is \
                 TEXT that is not valid UTF-8, which it cannot write as JSON. Such values can be read only \
                 where the database file is (the sqlite3 shell, or seedbake on the file); they must be \
                 mended before a server can send them",
                status.unwrap_or(500)
            ),
            Kind::ServerFailed => format!("the server failed (HTTP {})", status.unwrap_or(500)),
            Kind::Broken => format!("the connection to {host} broke mid-request"),
            Kind::NoAnswer => "the server did not answer".into(),
            Kind::BadAnswer if matches!(fault, Fault::Client(Failure::Elsewhere(_))) => format!(
                "the server told the client to go on at {fault_to}, not at {host} where the database URL points; \
                 seedbake sends the auth token nowhere else, so it stopped there and sent nothing to it. \
                 Is {host} the database's own server, and is nothing in between rewriting its answers?",
                fault_to = match fault {
                    Fault::Client(Failure::Elsewhere(to)) => to.as_str(),
                    _ => "",
                }
            ),
            Kind::BadAnswer => match seen.refused {
                Some(refused @ Refused::TooLarge { .. }) => format!(
                    "{refused}, far more than a libSQL server sends (sqld: at most 10 MB); seedbake refused it. \
                     Is {host} a libSQL server, and is nothing in between rewriting its answers?"
                ),
                Some(refused) => format!(
                    "{refused}; is {host} a libSQL server (sqld, Turso), and is nothing in between rewriting its answers?"
                ),
                None => match status {
                    Some(status) => format!(
                        "the server answered HTTP {status}; is {host} a libSQL server (sqld, Turso), and the URL's path right?"
                    ),
                    None => format!(
                        "the server's answer is not a libSQL (Hrana) answer; is {host} a libSQL server (sqld, Turso)?"
                    ),
                },
            },
            Kind::Interrupted => "interrupted".into(),
            Kind::Busy => format!("the database is locked by another client: {server_said}"),
            Kind::Constraint | Kind::CannotOpen | Kind::Engine => server_said,
        };
        DbError {
            sent,
            ..DbError::new(kind, message)
        }
    }
}
