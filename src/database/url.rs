//! Database URLs as the Aquarius app writes them (SQLAlchemy style).

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The app's default: a file in the working directory.
pub const DEFAULT_URL: &str = "sqlite:///./aquarius.db";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    /// A libSQL server (Turso, sqld): the HTTP(S) URL the client talks to.
    /// Any token the URL carried has been taken out (see [`parse_url`]).
    Remote {
        url: String,
        host: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Remote { url, .. } => f.write_str(url),
        }
    }
}

impl Location {
    /// The name an operator types to confirm: the file's name.
    pub fn database_name(&self) -> String {
        match self {
            Location::Local(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            Location::Remote { host, .. } => host.split('.').next().unwrap_or(host).to_owned(),
        }
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Remote { .. })
    }
}

/// Parses a remote URL. `libsql://` means HTTPS (as Turso prints it);
/// `https://` and `http://` are used as given. A token in the query
/// (`?authToken=…`) is returned separately so it is never displayed.
fn parse_remote(url: &str, scheme: &str, rest: &str) -> Result<(Location, Option<String>)> {
    let invalid = |reason: String| Error::InvalidUrl {
        // Never echo a query string: it may hold the token.
        url: format!("{scheme}://{}", rest.split(['?', '#']).next().unwrap_or("")),
        reason,
    };
    let (authority_path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority_path.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(invalid("credentials in the URL are not supported; pass the token with --auth-token or TURSO_AUTH_TOKEN".into()));
    }
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || authority.starts_with('[') => {
            if !port.is_empty() && port.parse::<u16>().is_err() {
                return Err(invalid(format!("the port {port:?} is not a number")));
            }
            h
        }
        _ => authority,
    };
    if host.is_empty() {
        return Err(invalid("it names no host".into()));
    }
    let mut token = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("authToken", v)) if !v.is_empty() => token = Some(v.to_owned()),
            _ => {
                return Err(invalid(
                    "the only query parameter understood is authToken".into(),
                ));
            }
        }
    }
    let http_scheme = if scheme == "http" { "http" } else { "https" };
    let _ = url;
    Ok((
        Location::Remote {
            url: format!("{http_scheme}://{}", authority_path.trim_end_matches('/')),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        },
        token,
    ))
}

/// Accepts `sqlite:///relative.db`, `sqlite:////abs/path.db`,
/// `sqlite+libsql:///…`, `file:path`, `file:///abs/path` and plain paths for
/// local files; `libsql://host`, `https://host` and `http://host:port` for a
/// server. Returns the location and a token found in the URL, if any.
pub fn parse_url_with_token(url: &str) -> Result<(Location, Option<String>)> {
    let trimmed = url.trim();
    for scheme in ["libsql", "https", "http", "wss", "ws"] {
        if let Some(rest) = trimmed
            .strip_prefix(scheme)
            .and_then(|r| r.strip_prefix("://"))
        {
            if scheme.starts_with("ws") {
                return Err(Error::InvalidUrl {
                    url: format!("{scheme}://…"),
                    reason: "WebSocket URLs are not supported; use libsql:// or https:// (the same host)".into(),
                });
            }
            return parse_remote(url, scheme, rest);
        }
    }
    parse_local(url).map(|l| (l, None))
}

/// Like [`parse_url_with_token`], for callers that take the token elsewhere.
pub fn parse_url(url: &str) -> Result<Location> {
    parse_url_with_token(url).map(|(l, _)| l)
}

fn parse_local(url: &str) -> Result<Location> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let url = url.trim();
    if url.is_empty() {
        return Err(invalid(
            "it is empty; give a path or a URL such as sqlite:///./aquarius.db",
        ));
    }
    let path = if let Some(rest) = url
        .strip_prefix("sqlite:///")
        .or_else(|| url.strip_prefix("sqlite+libsql:///"))
    {
        // SQLAlchemy: three slashes then a relative path; a fourth makes it absolute.
        strip_query(rest)
    } else if url.starts_with("sqlite:") || url.starts_with("sqlite+libsql:") {
        return Err(invalid(
            "SQLite URLs have three slashes before a relative path (sqlite:///./app.db) and four before an absolute one (sqlite:////srv/app.db)",
        ));
    } else if let Some(rest) = url.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        if !rest.starts_with('/') {
            return Err(invalid(
                "file:// URLs name an absolute path (file:///srv/app.db); use file:app.db for a relative one",
            ));
        }
        strip_query(rest)
    } else if let Some(rest) = url.strip_prefix("file:") {
        strip_query(rest)
    } else if let Some((scheme, _)) = url.split_once("://") {
        return Err(invalid(&format!(
            "the scheme {scheme}:// is not supported; use a local path, sqlite:///…, or file:…"
        )));
    } else {
        url
    };
    if path.is_empty() {
        return Err(invalid("it names no file"));
    }
    if path == ":memory:" {
        return Err(invalid(
            "an in-memory database vanishes when seedbake exits; name a file",
        ));
    }
    Ok(Location::Local(PathBuf::from(path)))
}

fn strip_query(s: &str) -> &str {
    s.split_once('?').map_or(s, |(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(url: &str) -> PathBuf {
        match parse_url(url).unwrap() {
            Location::Local(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn remote_urls() {
        let (l, t) = parse_url_with_token("libsql://aquarius-prod-acme.turso.io").unwrap();
        assert_eq!(
            l,
            Location::Remote {
                url: "https://aquarius-prod-acme.turso.io".into(),
                host: "aquarius-prod-acme.turso.io".into()
            }
        );
        assert_eq!(t, None);
        assert_eq!(l.database_name(), "aquarius-prod-acme");
        let (l, t) = parse_url_with_token("http://127.0.0.1:8080?authToken=s3cret").unwrap();
        assert_eq!(l.to_string(), "http://127.0.0.1:8080");
        assert_eq!(t.as_deref(), Some("s3cret"));
        let err = parse_url("https://host?authToken=s3cret&x=1")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(parse_url("http://host:99999").is_err());
        assert!(parse_url("wss://host").is_err());
        assert!(parse_url("https://user:pw@host").is_err());
    }

    #[test]
    fn sqlalchemy_and_file_urls_and_paths() {
        assert_eq!(
            local("sqlite:///./aquarius.db"),
            PathBuf::from("./aquarius.db")
        );
        assert_eq!(local("sqlite:///aquarius.db"), PathBuf::from("aquarius.db"));
        assert_eq!(
            local("sqlite:////srv/data/app.db"),
            PathBuf::from("/srv/data/app.db")
        );
        assert_eq!(local("sqlite+libsql:///x.db"), PathBuf::from("x.db"));
        assert_eq!(local("file:app.db"), PathBuf::from("app.db"));
        assert_eq!(
            local("file:///srv/app.db?mode=rwc"),
            PathBuf::from("/srv/app.db")
        );
        assert_eq!(local("/tmp/plain.db"), PathBuf::from("/tmp/plain.db"));
        assert_eq!(local("rel/plain.db"), PathBuf::from("rel/plain.db"));
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason() {
        for bad in [
            "",
            "sqlite://app.db",
            "sqlite:",
            "ftp://x/y",
            "file://rel.db",
            ":memory:",
            "sqlite:///",
        ] {
            let err = parse_url(bad).unwrap_err().to_string();
            assert!(err.contains("invalid database URL"), "{bad}: {err}");
        }
    }
}
