//! Where a command operates: the database URL as the app spells it, and the
//! open connection to it — a local libSQL file or a libSQL server.

pub mod dns;
pub mod raw;
pub mod remote;
mod url;

pub use remote::Traffic;
pub use url::{DEFAULT_URL, Location, parse_url, parse_url_with_token};

use std::time::Duration;

use libsql::Connection;

use crate::error::{Error, Result, engine_message, is_busy};

/// How to reach and wait for a database.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long to wait for another connection's write lock.
    pub lock_timeout: Duration,
    /// For servers: the bearer token (never displayed).
    pub auth_token: Option<String>,
    /// For servers: how long one request may take before seedbake gives up.
    pub request_timeout: Duration,
    /// For servers: the most SQL text one request carries.
    pub request_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lock_timeout: Duration::from_secs(5),
            auth_token: None,
            request_timeout: Duration::from_secs(30),
            request_bytes: crate::ops::REMOTE_REQUEST_BYTES,
        }
    }
}

/// An open database, with the name it is shown under.
pub struct Target {
    pub location: Location,
    pub conn: Connection,
    pub settings: Settings,
    /// Counted bytes and requests, for servers.
    pub traffic: Option<Traffic>,
    /// Local files: the connection that writes (see `raw.rs`).
    pub raw: Option<raw::RawConn>,
    // Keeps the database handle alive as long as the connection.
    _db: libsql::Database,
}

impl Target {
    /// Opens a local file with the default settings and this lock timeout.
    pub async fn open_local(
        path: impl Into<std::path::PathBuf>,
        lock_timeout: Duration,
    ) -> Result<Target> {
        let settings = Settings {
            lock_timeout,
            ..Settings::default()
        };
        Target::open(Location::Local(path.into()), settings).await
    }

    pub async fn open(location: Location, settings: Settings) -> Result<Target> {
        let shown = location.to_string();
        let open_err = |e: libsql::Error| Error::Open {
            target: shown.clone(),
            reason: engine_message(&e),
        };
        match &location {
            Location::Local(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
                    && !parent.is_dir()
                {
                    return Err(Error::Open {
                        target: shown,
                        reason: format!(
                            "the folder {} does not exist; create it first or choose another path",
                            parent.display()
                        ),
                    });
                }
                if path.is_dir() {
                    return Err(Error::Open {
                        target: shown,
                        reason: "that is a folder, not a database file".into(),
                    });
                }
                let db = libsql::Builder::new_local(path)
                    .build()
                    .await
                    .map_err(open_err)?;
                let conn = db.connect().map_err(open_err)?;
                conn.busy_timeout(settings.lock_timeout).map_err(open_err)?;
                // A reset writes the whole seed in one transaction, then reads it
                // back twice (foreign keys, fingerprint). With SQLite's 2 MiB default
                // cache a large seed spills and re-reads pages; allow up to 256 MiB
                // (allocated only as used).
                conn.query("PRAGMA cache_size = -262144", ())
                    .await
                    .map_err(open_err)?;
                // Reading the schema proves the file is a database at all.
                if let Err(e) = conn.query("SELECT count(*) FROM sqlite_schema", ()).await {
                    return Err(if is_busy(&e) {
                        Error::Locked {
                            target: shown,
                            waited: settings.lock_timeout,
                        }
                    } else {
                        open_err(e)
                    });
                }
                let raw = raw::RawConn::open(path, settings.lock_timeout).map_err(|reason| {
                    Error::Open {
                        target: shown.clone(),
                        reason,
                    }
                })?;
                raw.exec("PRAGMA cache_size = -262144")
                    .map_err(|reason| Error::Open {
                        target: shown.clone(),
                        reason,
                    })?;
                Ok(Target {
                    location,
                    conn,
                    settings,
                    traffic: None,
                    raw: Some(raw),
                    _db: db,
                })
            }
            Location::Remote { url, .. } => {
                let Some(token) = settings.auth_token.clone() else {
                    return Err(Error::Usage(format!(
                        "{shown} needs an auth token: set TURSO_AUTH_TOKEN or pass --auth-token \
                         (create one with `turso db tokens create <db>`)"
                    )));
                };
                let traffic = Traffic::default();
                let db = remote::open(url, &token, settings.request_timeout, &traffic)
                    .await
                    .map_err(|e| scrub_error(open_err(e), &token))?;
                let conn = db.connect().map_err(|e| scrub_error(open_err(e), &token))?;
                Ok(Target {
                    location,
                    conn,
                    settings,
                    traffic: Some(traffic),
                    raw: None,
                    _db: db,
                })
            }
        }
    }

    pub fn is_remote(&self) -> bool {
        self.location.is_remote()
    }

    /// The local write connection.
    ///
    /// # Panics
    /// On a server target: callers check `is_remote()` first.
    pub fn local(&self) -> &raw::RawConn {
        self.raw
            .as_ref()
            .expect("a local target has a raw connection")
    }

    /// Where to read rows from: the raw connection locally (it sees the
    /// open transaction's writes), the client otherwise.
    pub fn reader(&self) -> &dyn crate::schema::Rows {
        match &self.raw {
            Some(raw) => raw,
            None => &self.conn,
        }
    }

    /// A failed step of a read-only command (nothing was written).
    pub fn failed(&self, step: &str, reason: String) -> Error {
        Error::Database {
            target: self.location.to_string(),
            step: step.to_owned(),
            reason: self.scrub(&reason),
        }
    }

    /// The engine's or the server's refusal, explained, without secrets.
    pub fn explain(&self, e: &libsql::Error) -> String {
        let message = engine_message(e);
        let message = match &self.location {
            Location::Local(_) => message,
            Location::Remote { host, .. } => explain_remote(&message, host),
        };
        self.scrub(&message)
    }

    /// Removes the token from any text that might reach the user.
    pub fn scrub(&self, text: &str) -> String {
        match &self.settings.auth_token {
            Some(t) if !t.is_empty() => text.replace(t.as_str(), "[token]"),
            _ => text.to_owned(),
        }
    }

    /// Runs one client call, bounded by the request timeout for servers.
    pub async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = libsql::Result<T>>,
    ) -> std::result::Result<T, String> {
        if !self.is_remote() {
            return call.await.map_err(|e| self.explain(&e));
        }
        match tokio::time::timeout(self.settings.request_timeout, call).await {
            Ok(result) => result.map_err(|e| self.explain(&e)),
            Err(_) => Err(format!(
                "the server did not answer within {} s (--timeout); a transaction it holds for seedbake \
                 is rolled back when its stream expires",
                self.settings.request_timeout.as_secs_f32()
            )),
        }
    }
}

fn scrub_error(e: Error, token: &str) -> Error {
    match e {
        Error::Open { target, reason } if !token.is_empty() => Error::Open {
            target,
            reason: reason.replace(token, "[token]"),
        },
        other => other,
    }
}

/// Turns the client's transport errors into what a user can act on.
fn explain_remote(message: &str, host: &str) -> String {
    if let Some(own) = resolver_message(message) {
        return own;
    }
    let m = message.to_ascii_lowercase();
    let hint = if m.contains("dns error")
        || m.contains("failed to lookup address")
        || m.contains("name or service not known")
    {
        format!("cannot resolve the host name {host}: check the URL and the machine's DNS")
    } else if m.contains("connection refused") {
        format!("{host} refused the connection: is the server running, and is the port right?")
    } else if m.contains("certificate")
        || m.contains("corrupt message")
        || m.contains("invalidcontenttype")
        || m.contains("tls")
        || m.contains("handshake")
        || m.contains("invalid dnsname")
    {
        format!(
            "the TLS handshake with {host} failed: use https:// (or libsql://) for TLS servers and http:// for plain ones"
        )
    } else if m.contains("401") || m.contains("unauthorized") {
        "the server rejected the auth token (401): check TURSO_AUTH_TOKEN or --auth-token; it may have expired".into()
    } else if m.contains("403") || m.contains("forbidden") {
        "the token is not allowed to do this (403): use a token with write access to this database"
            .into()
    } else if m.contains("413") || m.contains("payload too large") || m.contains("too large") {
        "a server limit was exceeded (request or response too large)".into()
    } else if m.contains("stream_expired") || m.contains("stream has expired") {
        "the server expired the session (idle too long); the transaction was rolled back by the server".into()
    } else if m.contains("transaction_timeout") || m.contains("transaction timed out") {
        "the server rolled the transaction back: it ran longer than the server allows while another client wanted to write".into()
    } else if m.contains("connection reset")
        || m.contains("connection closed")
        || m.contains("broken pipe")
        || m.contains("incomplete message")
        || m.contains("channel closed")
    {
        format!("the connection to {host} broke mid-request")
    } else if m.contains("500") || m.contains("internal server error") {
        "the server failed (HTTP 500)".into()
    } else {
        return message.to_owned();
    };
    format!("{hint} ({})", message.trim())
}

/// seedbake's own resolver errors (no name server configured, a bad
/// `SEEDBAKE_DNS`) already say what to do: cut them out of the client's
/// wrapping (`Hrana: `http error: `… dns error: <ours>``).
fn resolver_message(message: &str) -> Option<String> {
    if !message.contains("dns error") {
        return None;
    }
    let start = message
        .find(dns::NO_DNS)
        .or_else(|| message.find(dns::DNS_ENV))?;
    let ours = &message[start..];
    let end = ours.find('`').unwrap_or(ours.len());
    Some(ours[..end].trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_errors_reach_the_user_as_they_are() {
        let ours = dns::config(None, None).unwrap_err().to_string();
        let wrapped = format!("Hrana: `http error: `error trying to connect: dns error: {ours}``");
        assert_eq!(explain_remote(&wrapped, "db.example"), ours);
        let bad_env = dns::config(None, Some("x")).unwrap_err().to_string();
        let wrapped =
            format!("Hrana: `http error: `error trying to connect: dns error: {bad_env}``");
        assert_eq!(explain_remote(&wrapped, "db.example"), bad_env);
    }

    #[test]
    fn other_lookup_failures_keep_their_hint() {
        let m = "Hrana: `http error: `error trying to connect: dns error: no-such.invalid: no record found``";
        let shown = explain_remote(m, "no-such.invalid");
        assert!(
            shown.starts_with("cannot resolve the host name no-such.invalid: check the URL"),
            "{shown}"
        );
        let m = "Hrana: `http error: `error trying to connect: tcp connect error: Connection refused (os error 111)``";
        assert!(explain_remote(m, "h").contains("refused the connection"));
    }
}
