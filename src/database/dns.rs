//! Host names to addresses without glibc. A statically linked glibc's
//! `getaddrinfo` loads NSS modules at run time, which an empty container
//! does not have, so the remote client resolves names itself:
//!
//! - IP literals (`10.0.0.1`, `::1`, `[::1]`) and `localhost` need no lookup;
//! - any other name is asked of the name servers in `SEEDBAKE_DNS` when it
//!   is set (comma-separated IP addresses, each with an optional `:port`:
//!   an operator who sets it means it), else of those in `/etc/resolv.conf`;
//! - with neither, the lookup fails with a message that says so and how to
//!   fix it.
//!
//! The DNS client is built on the first lookup that needs one: a URL with an
//! IP address reads no file at all.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hyper014::client::connect::dns::Name;

/// Where the name servers are read from, when it exists.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";
/// The name servers to use when there is no `/etc/resolv.conf`.
pub const DNS_ENV: &str = "SEEDBAKE_DNS";
/// The start of the error for a lookup with no name server to ask.
pub const NO_DNS: &str = "no DNS server configured";

/// A failed lookup, or no way to look up at all (no name server, a bad
/// `SEEDBAKE_DNS`): the latter's message says what to do and is shown as
/// it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsError {
    message: String,
    /// The name servers answered (or failed to): the name is the problem,
    /// not the machine's set-up.
    pub lookup: bool,
}

fn setup_failed(message: String) -> DnsError {
    DnsError {
        message,
        lookup: false,
    }
}

fn lookup_failed(message: String) -> DnsError {
    DnsError {
        message,
        lookup: true,
    }
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DnsError {}

/// The addresses a name stands for without asking anyone: IP literals and
/// `localhost`. Ports are 0; the connector sets the URL's.
pub fn without_lookup(host: &str) -> Option<Vec<SocketAddr>> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(vec![SocketAddr::new(ip, 0)]);
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.eq_ignore_ascii_case("localhost") {
        return Some(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
        ]);
    }
    None
}

/// The DNS client's configuration from `/etc/resolv.conf`'s bytes (`None`:
/// the file is missing) and `SEEDBAKE_DNS`'s value (`None`: unset).
pub fn config(
    resolv_conf: Option<&[u8]>,
    env: Option<&str>,
) -> Result<(ResolverConfig, ResolverOpts), DnsError> {
    let env = env.map(str::trim).filter(|v| !v.is_empty());
    let Some(env) = env else {
        return match resolv_conf {
            Some(bytes) => hickory_resolver::system_conf::parse_resolv_conf(bytes).map_err(|e| {
                setup_failed(format!(
                    "{NO_DNS}: {RESOLV_CONF} names no usable name server ({e}); \
                     add a nameserver line, set {DNS_ENV}=<name server IP> or use an IP address in the URL"
                ))
            }),
            None => Err(setup_failed(format!(
                "{NO_DNS}: {RESOLV_CONF} is missing and {DNS_ENV} is not set; \
                 set {DNS_ENV}=<name server IP> (on fly.io: fdaa::3) or use an IP address in the URL"
            ))),
        };
    };
    let servers = env
        .split(',')
        .map(|s| {
            let s = s.trim();
            name_server(s).ok_or_else(|| {
                setup_failed(format!(
                    "{DNS_ENV} holds {s:?}, which is not an IP address; it takes name server \
                     addresses (IP or IP:port) separated by commas, e.g. {DNS_ENV}=fdaa::3"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config = ResolverConfig::from_parts(None, vec![], servers);
    Ok((config, ResolverOpts::default()))
}

/// One entry of `SEEDBAKE_DNS`: `192.0.2.53`, `fdaa::3`, `[fdaa::3]`, or with
/// a port other than 53, `192.0.2.53:5353`, `[fdaa::3]:5353`.
fn name_server(entry: &str) -> Option<NameServerConfig> {
    let (ip, port) = match entry.parse::<SocketAddr>() {
        Ok(addr) => (addr.ip(), addr.port()),
        Err(_) => {
            let bare = entry
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(entry);
            (bare.parse::<IpAddr>().ok()?, 53)
        }
    };
    let mut server = NameServerConfig::udp_and_tcp(ip);
    for connection in &mut server.connections {
        connection.port = port;
    }
    Some(server)
}

/// The connector's resolver (a `tower::Service<Name>`): cheap to clone; the
/// clones share one DNS client, built on first use.
#[derive(Clone, Default)]
pub struct Resolver {
    client: Arc<OnceLock<Result<TokioResolver, DnsError>>>,
}

impl Resolver {
    fn client(&self) -> Result<TokioResolver, DnsError> {
        self.client
            .get_or_init(|| {
                let file = match std::fs::read(RESOLV_CONF) {
                    Ok(bytes) => Some(bytes),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => {
                        return Err(setup_failed(format!(
                            "{NO_DNS}: cannot read {RESOLV_CONF} ({e}); \
                             set {DNS_ENV}=<name server IP> or use an IP address in the URL"
                        )));
                    }
                };
                let env = std::env::var(DNS_ENV).ok();
                let (config, mut opts) = config(file.as_deref(), env.as_deref())?;
                // One process, a handful of names.
                opts.cache_size = 32;
                let mut builder =
                    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
                *builder.options_mut() = opts;
                builder
                    .build()
                    .map_err(|e| setup_failed(format!("cannot start the DNS client: {e}")))
            })
            .clone()
    }

    async fn resolve(self, host: String) -> Result<std::vec::IntoIter<SocketAddr>, DnsError> {
        if let Some(addrs) = without_lookup(&host) {
            return Ok(addrs.into_iter());
        }
        let client = self.client()?;
        let found = client
            .lookup_ip(host.as_str())
            .await
            .map_err(|e| lookup_failed(format!("{host}: {e}")))?;
        let addrs: Vec<SocketAddr> = found.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
        if addrs.is_empty() {
            return Err(lookup_failed(format!("{host}: no address found")));
        }
        Ok(addrs.into_iter())
    }
}

impl tower::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = DnsError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, DnsError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), DnsError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        Box::pin(self.clone().resolve(name.as_str().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use tower::ServiceExt;

    fn addrs(host: &str) -> Vec<SocketAddr> {
        without_lookup(host).unwrap_or_default()
    }

    #[test]
    fn literals_and_localhost_need_no_lookup() {
        assert_eq!(addrs("127.0.0.1"), ["127.0.0.1:0".parse().unwrap()]);
        assert_eq!(addrs("10.1.2.3"), ["10.1.2.3:0".parse().unwrap()]);
        assert_eq!(addrs("[::1]"), ["[::1]:0".parse().unwrap()]);
        assert_eq!(addrs("::1"), ["[::1]:0".parse().unwrap()]);
        assert_eq!(addrs("[fdaa::3]"), ["[fdaa::3]:0".parse().unwrap()]);
        let local: Vec<SocketAddr> =
            vec!["127.0.0.1:0".parse().unwrap(), "[::1]:0".parse().unwrap()];
        assert_eq!(addrs("localhost"), local);
        assert_eq!(addrs("LocalHost."), local);
        assert!(without_lookup("db.example.com").is_none());
        assert!(without_lookup("localhost.example.com").is_none());
        assert!(without_lookup("[db.example.com]").is_none());
        assert!(without_lookup("1.2.3").is_none());
    }

    #[test]
    fn no_resolv_conf_and_no_env_is_a_clear_error() {
        let e = config(None, None).unwrap_err().to_string();
        assert!(e.starts_with(NO_DNS), "{e}");
        assert!(e.contains("/etc/resolv.conf is missing"), "{e}");
        assert!(e.contains("SEEDBAKE_DNS=<name server IP>"), "{e}");
        assert!(e.contains("IP address in the URL"), "{e}");
        assert!(!e.contains('`') && !e.contains('\n'), "{e}");
        // Set but blank counts as unset.
        assert_eq!(config(None, Some(" ")).unwrap_err().to_string(), e);
    }

    #[test]
    fn name_servers_come_from_the_environment_else_the_file() {
        let ips = |c: &ResolverConfig| c.name_servers().iter().map(|s| s.ip).collect::<Vec<_>>();
        let (c, _) = config(Some(b"nameserver 192.0.2.53\n"), Some("fdaa::3")).unwrap();
        assert_eq!(ips(&c), ["fdaa::3".parse::<IpAddr>().unwrap()]);
        let (c, _) = config(Some(b"nameserver 192.0.2.53\n"), None).unwrap();
        assert_eq!(ips(&c), ["192.0.2.53".parse::<IpAddr>().unwrap()]);
        let (c, _) = config(
            None,
            Some("fdaa::3, 192.0.2.1,[2001:db8::1],127.0.0.1:5353,[::1]:5354"),
        )
        .unwrap();
        assert_eq!(
            ips(&c),
            ["fdaa::3", "192.0.2.1", "2001:db8::1", "127.0.0.1", "::1"]
                .map(|s| s.parse::<IpAddr>().unwrap())
        );
        let ports: Vec<Vec<u16>> = c
            .name_servers()
            .iter()
            .map(|s| s.connections.iter().map(|c| c.port).collect())
            .collect();
        assert_eq!(
            ports,
            [[53, 53], [53, 53], [53, 53], [5353, 5353], [5354, 5354]]
        );
        // A file without a name server defers to the environment…
        let (c, _) = config(Some(b"# empty\n"), Some("192.0.2.9")).unwrap();
        assert_eq!(ips(&c), ["192.0.2.9".parse::<IpAddr>().unwrap()]);
        // …or says what is missing.
        let e = config(Some(b"# empty\n"), None).unwrap_err().to_string();
        assert!(
            e.starts_with(NO_DNS) && e.contains("names no usable name server"),
            "{e}"
        );
        let e = config(None, Some("fdaa::3,dns.example"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"dns.example\", which is not an IP address"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_service_answers_literals_without_a_dns_client() {
        let resolver = Resolver::default();
        for (host, want) in [
            ("127.0.0.1", vec!["127.0.0.1:0"]),
            ("[::1]", vec!["[::1]:0"]),
            ("localhost", vec!["127.0.0.1:0", "[::1]:0"]),
        ] {
            let got: Vec<SocketAddr> = resolver
                .clone()
                .oneshot(Name::from_str(host).unwrap())
                .await
                .unwrap()
                .collect();
            let want: Vec<SocketAddr> = want.iter().map(|a| a.parse().unwrap()).collect();
            assert_eq!(got, want, "{host}");
        }
        // No DNS client was built (and so no file read) for any of them.
        assert!(resolver.client.get().is_none());
    }
}
