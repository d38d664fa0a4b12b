//! Database URLs as apps write them (SQLAlchemy style), and
//! the one way a URL is shown to people ([`display_url`]).

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    /// A libSQL server (Turso, sqld): the HTTP(S) URL the client talks to.
    /// It holds no credentials and no query (see [`parse_database_url`]).
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

/// What a database URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub location: Location,
    /// A token the URL carried (`?authToken=…`); it is never displayed.
    pub token: Option<String>,
    /// `?mode=ro` on a local file: open it read-only; commands that write refuse it.
    pub read_only: bool,
    /// `?mode=rw` on a local file: it must exist already.
    pub must_exist: bool,
}

/// A URL as it may be shown to people: scheme, host, port and path. Never
/// the user name or password, the query (`?authToken=…`) or the fragment,
/// whatever the spelling (any case, with or without `//`, schemes seedbake
/// does not know). Whole parts are left out, never rewritten, so a secret
/// cannot be revealed by what replacing it would garble.
pub fn display_url(raw: &str) -> String {
    let s = raw.trim();
    let Some((scheme, rest)) = split_scheme(s) else {
        return before_query(s).to_owned();
    };
    let local = is_local_scheme(scheme);
    match rest.strip_prefix("//") {
        // RFC 3986: the authority ends at the first '/', '?' or '#'; its
        // user information ends at its last '@'.
        Some(after) if local => {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let (authority, tail) = after.split_at(end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{}", before_query(tail))
        }
        // A server URL may be mistyped with a '/' inside its password:
        // everything up to the last '@' before the query goes.
        Some(after) => format!("{scheme}://{}", after_credentials(before_query(after))),
        None if local => format!("{scheme}:{}", before_query(rest)),
        None => format!("{scheme}:{}", after_credentials(before_query(rest))),
    }
}

fn before_query(s: &str) -> &str {
    s.split(['?', '#']).next().unwrap_or("")
}

fn after_credentials(s: &str) -> &str {
    s.rsplit_once('@').map_or(s, |(_, rest)| rest)
}

/// `scheme:rest` when `s` starts with an RFC 3986 scheme.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some((scheme, rest))
}

fn is_local_scheme(scheme: &str) -> bool {
    ["sqlite", "sqlite+libsql", "file"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
}

/// Accepts `sqlite:///relative.db`, `sqlite:////abs/path.db`,
/// `sqlite+libsql:///…`, `file:path`, `file:///abs/path` and plain paths for
/// local files (with `?mode=ro|rw|rwc`); `libsql://host`, `https://host` and
/// `http://host:port` (IPv6 addresses in brackets) for a server, with an
/// optional `?authToken=`. Schemes are read in any case.
pub fn parse_database_url(url: &str) -> Result<DatabaseUrl> {
    let s = url.trim();
    let invalid = |reason: &str| Error::InvalidUrl {
        url: display_url(s),
        reason: reason.to_owned(),
    };
    if s.is_empty() {
        return Err(invalid(
            "it is empty; give a path or a URL such as sqlite:///./app.db",
        ));
    }
    let Some((scheme, rest)) = split_scheme(s) else {
        if s.contains(['?', '#']) {
            return Err(invalid(
                "a plain path cannot hold '?' or '#'; use file:PATH?mode=… for options",
            ));
        }
        return local(s, "", &invalid);
    };
    match scheme.to_ascii_lowercase().as_str() {
        name @ ("libsql" | "https" | "http") => match rest.strip_prefix("//") {
            Some(after) => parse_remote(name, after, &invalid),
            None => Err(invalid(&format!(
                "a server URL has two slashes after the scheme: {name}://host"
            ))),
        },
        "ws" | "wss" => Err(invalid(
            "WebSocket URLs are not supported; use libsql:// or https:// (the same host)",
        )),
        "sqlite" | "sqlite+libsql" => match rest.strip_prefix("///") {
            // SQLAlchemy: three slashes then a relative path; a fourth makes it absolute.
            Some(path) => local_with_query(path, &invalid),
            None => Err(invalid(
                "SQLite URLs have three slashes before a relative path (sqlite:///./app.db) and four before an absolute one (sqlite:////srv/app.db)",
            )),
        },
        "file" => match rest.strip_prefix("//") {
            Some(after) => {
                let after = after.strip_prefix("localhost").unwrap_or(after);
                if !after.starts_with('/') {
                    return Err(invalid(
                        "file:// URLs name an absolute path (file:///srv/app.db); use file:app.db for a relative one",
                    ));
                }
                local_with_query(after, &invalid)
            }
            None => local_with_query(rest, &invalid),
        },
        _ if rest.starts_with("//") => Err(invalid(
            "the scheme is not supported; use a local path, sqlite:///…, file:…, or libsql://, https:// or http:// for a server",
        )),
        _ => Err(invalid(
            "it starts like a URL whose scheme seedbake does not know; for a file whose name holds a colon, write ./ before it",
        )),
    }
}

/// Like [`parse_database_url`], for callers that take the token elsewhere.
pub fn parse_url(url: &str) -> Result<Location> {
    parse_database_url(url).map(|u| u.location)
}

fn local_with_query(rest: &str, invalid: &dyn Fn(&str) -> Error) -> Result<DatabaseUrl> {
    if rest.contains('#') {
        return Err(invalid("a fragment (#…) means nothing in a database URL"));
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    local(path, query, invalid)
}

fn local(path: &str, query: &str, invalid: &dyn Fn(&str) -> Error) -> Result<DatabaseUrl> {
    let mut read_only = false;
    let mut must_exist = false;
    // Never echoed: a query is where secrets go.
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("mode", "ro") => read_only = true,
            ("mode", "rw") => must_exist = true,
            ("mode", "rwc") => {}
            ("mode", "memory") => {
                return Err(invalid(
                    "mode=memory: an in-memory database vanishes when seedbake exits; name a file",
                ));
            }
            ("mode", _) => return Err(invalid("mode takes ro, rw or rwc")),
            ("authToken", _) => {
                return Err(invalid(
                    "an auth token is for servers (libsql://, https://), not local files",
                ));
            }
            // Python's sqlite3 module and SQLAlchemy read these; they change
            // nothing for seedbake, and the app's URL may carry them.
            ("uri" | "check_same_thread" | "timeout" | "cache", _) => {}
            _ => {
                return Err(invalid(
                    "its query holds a parameter seedbake does not understand (it reads mode=ro, mode=rw \
                     and mode=rwc, and ignores uri, timeout, cache and check_same_thread)",
                ));
            }
        }
    }
    if path.is_empty() {
        return Err(invalid("it names no file"));
    }
    if path == ":memory:" {
        return Err(invalid(
            "an in-memory database vanishes when seedbake exits; name a file",
        ));
    }
    Ok(DatabaseUrl {
        location: Location::Local(PathBuf::from(path)),
        token: None,
        read_only,
        must_exist,
    })
}

/// A server URL after `scheme://`. `libsql://` means HTTPS (as Turso
/// prints it); `https://` and `http://` are used as given.
fn parse_remote(scheme: &str, after: &str, invalid: &dyn Fn(&str) -> Error) -> Result<DatabaseUrl> {
    if after.contains('#') {
        return Err(invalid("a fragment (#…) means nothing in a database URL"));
    }
    let (authority_path, query) = after.split_once('?').unwrap_or((after, ""));
    if authority_path.contains('@') {
        return Err(invalid(
            "credentials in the URL are not supported; pass the token with TURSO_AUTH_TOKEN (or --auth-token)",
        ));
    }
    let (authority, path) = authority_path
        .find('/')
        .map_or((authority_path, ""), |i| authority_path.split_at(i));
    let (host, port) = if let Some(inside) = authority.strip_prefix('[') {
        let Some((address, tail)) = inside.split_once(']') else {
            return Err(invalid("an IPv6 address needs its closing ']'"));
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid("the address in brackets is not an IPv6 address"));
        }
        match tail {
            "" => (address, None),
            _ => match tail.strip_prefix(':') {
                Some(port) => (address, Some(port)),
                None => {
                    return Err(invalid(
                        "after an IPv6 address in brackets comes :port or nothing",
                    ));
                }
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => {
                if port.contains(':') {
                    return Err(invalid(
                        "an IPv6 address goes in brackets: http://[::1]:8080",
                    ));
                }
                (host, Some(port))
            }
            None => (authority, None),
        }
    };
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(invalid("the port must be a number from 1 to 65535"));
    }
    if host.is_empty() {
        return Err(invalid("it names no host"));
    }
    if !authority.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(invalid(
            "the host holds characters no host name has (letters, digits, '-', '.')",
        ));
    }
    let mut token = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("authToken", v)) if !v.is_empty() => token = Some(v.to_owned()),
            _ => {
                return Err(invalid("the only query parameter understood is authToken"));
            }
        }
    }
    let http_scheme = if scheme == "http" { "http" } else { "https" };
    Ok(DatabaseUrl {
        location: Location::Remote {
            url: format!(
                "{http_scheme}://{}{}",
                authority.to_ascii_lowercase(),
                path.trim_end_matches('/')
            ),
            host: host.to_ascii_lowercase(),
        },
        token,
        read_only: false,
        must_exist: false,
    })
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

    fn remote(url: &str) -> (String, String) {
        match parse_url(url).unwrap() {
            Location::Remote { url, host } => (url, host),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn remote_urls() {
        let DatabaseUrl {
            location: l,
            token: t,
            ..
        } = parse_database_url("libsql://aquarius-prod-acme.turso.io").unwrap();
        assert_eq!(
            l,
            Location::Remote {
                url: "https://aquarius-prod-acme.turso.io".into(),
                host: "aquarius-prod-acme.turso.io".into()
            }
        );
        assert_eq!(t, None);
        assert_eq!(l.database_name(), "aquarius-prod-acme");
        let DatabaseUrl {
            location: l,
            token: t,
            ..
        } = parse_database_url("http://127.0.0.1:8080?authToken=s3cret").unwrap();
        assert_eq!(l.to_string(), "http://127.0.0.1:8080");
        assert_eq!(t.as_deref(), Some("s3cret"));
        let err = parse_url("https://host?authToken=s3cret&x=1")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(parse_url("http://host:99999").is_err());
        assert!(parse_url("http://host:0").is_err());
        assert!(parse_url("wss://host").is_err());
        assert!(parse_url("https://user:pw@host").is_err());
        assert!(parse_url("http://ho st").is_err());
    }

    #[test]
    fn schemes_are_read_in_any_case() {
        let u = parse_database_url("LIBSQL://Db-Org.turso.io?authToken=abc").unwrap();
        assert_eq!(u.location.to_string(), "https://db-org.turso.io");
        assert_eq!(u.token.as_deref(), Some("abc"));
        assert_eq!(
            local("SQLITE:///./a.db"),
            PathBuf::from("./a.db"),
            "SQLite URLs too"
        );
        assert_eq!(local("File:b.db"), PathBuf::from("b.db"));
    }

    #[test]
    fn ipv6_literals_are_addresses() {
        assert_eq!(
            remote("http://[::1]:8080"),
            ("http://[::1]:8080".into(), "::1".into())
        );
        assert_eq!(
            remote("https://[fdaa::3]/db/"),
            ("https://[fdaa::3]/db".into(), "fdaa::3".into())
        );
        for bad in [
            "http://[::1",
            "http://[nope]:80",
            "http://::1:8080",
            "http://[::1]x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
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
        assert_eq!(local("./odd:name.db"), PathBuf::from("./odd:name.db"));
        assert_eq!(
            local("sqlite:///./a.db?check_same_thread=false&uri=true"),
            PathBuf::from("./a.db")
        );
    }

    #[test]
    fn the_mode_parameter_is_honoured_or_refused() {
        let ro = parse_database_url("file:a.db?mode=ro").unwrap();
        assert!(ro.read_only && !ro.must_exist);
        let rw = parse_database_url("sqlite:///a.db?mode=rw").unwrap();
        assert!(!rw.read_only && rw.must_exist);
        let rwc = parse_database_url("file:a.db?mode=rwc").unwrap();
        assert!(!rwc.read_only && !rwc.must_exist);
        for bad in [
            "file:a.db?mode=memory",
            "file:a.db?mode=xyz",
            "file:a.db?vfs=unix-none",
            "file:a.db?authToken=x",
        ] {
            assert!(parse_database_url(bad).is_err(), "{bad}");
        }
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
            "libsql:host",
            "https:host",
            "postgres:db",
            "a.db?x=1",
        ] {
            let err = parse_url(bad).unwrap_err().to_string();
            assert!(err.contains("invalid database URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_displayed_url_holds_no_credentials_query_or_fragment() {
        for (raw, shown) in [
            (
                "https://user:PW@host/db?authToken=T#frag",
                "https://host/db",
            ),
            ("https://user:P/W@host", "https://host"),
            (
                "postgres://u:PW@db.example:5432/app",
                "postgres://db.example:5432/app",
            ),
            ("LIBSQL://host?authToken=T", "LIBSQL://host"),
            ("libsql:host?authToken=T", "libsql:host"),
            ("libsql:u:PW@host", "libsql:host"),
            ("ftp://x?authToken=T", "ftp://x"),
            ("sqlite:///./a@b.db?mode=ro", "sqlite:///./a@b.db"),
            ("sqlite://u:PW@host/x", "sqlite://host/x"),
            ("file:a.db?mode=ro", "file:a.db"),
            ("plain.db?x", "plain.db"),
            ("http://[::1]:8080/p?q", "http://[::1]:8080/p"),
        ] {
            assert_eq!(display_url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn errors_show_the_url_without_its_secrets() {
        for secret in ["t", "ht", "p", "s3cret-Token"] {
            for template in [
                "https://user:{}@host",
                "postgres://u:{}@host/db",
                "ftp://x?authToken={}",
                "LIBSQL://h?authToken={}&x=1",
                "libsql:host?authToken={}",
                "file:a.db?authToken={}",
                "http://h:99999?authToken={}",
            ] {
                let url = template.replace("{}", secret);
                let err = parse_url(&url).unwrap_err().to_string();
                let other = parse_url(&template.replace("{}", "ZZ"))
                    .unwrap_err()
                    .to_string();
                // The message does not depend on the secret at all.
                assert_eq!(err, other, "{url}");
                assert!(!err.contains("{}"), "{err}");
            }
        }
    }
}
