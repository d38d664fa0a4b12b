//! The transport for libSQL servers (Turso, sqld): libsql's remote client
//! over our own connector, so that the TLS roots travel inside the binary
//! (no system certificate store needed), host names are resolved without
//! glibc (see `dns.rs`: a static binary has no NSS modules to call on),
//! every byte is counted, and what fails is seen where it fails (the name
//! lookup, the TCP connect, the TLS handshake, the socket), because the
//! client reports transport failures only as text.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper014::client::HttpConnector;
use hyper014::client::connect::{Connected, Connection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::dns::DnsError;
use super::failure::Unreachable;

/// Bytes and requests exchanged with the server, and the transport's last
/// failure.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    seen: Arc<Mutex<Seen>>,
}

/// What the transport saw go wrong since [`Traffic::forget`].
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// A connection could not be made.
    pub unreachable: Option<Unreachable>,
    /// A plain-HTTP request was answered with a TLS record.
    pub tls_answer: bool,
}

impl Traffic {
    /// Starts a new call: what earlier calls saw no longer matters.
    pub fn forget(&self) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Seen::default();
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn see(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn bytes_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// A socket that counts what passes through it. HTTP/1.1 without
/// pipelining alternates a request's writes with its response's reads, so
/// every write that follows a read (or opens the socket) starts a request.
pub struct Counted<S> {
    inner: S,
    traffic: Traffic,
    awaiting_write: bool,
    /// Nothing has been read on this connection yet.
    first_read: bool,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let n = (buf.filled().len() - before) as u64;
            self.traffic.received.fetch_add(n, Ordering::Relaxed);
            if n > 0 {
                self.awaiting_write = true;
                // TLS records start with a content type: 0x15 alert, 0x16
                // handshake. No HTTP answer starts with either.
                if self.first_read && matches!(buf.filled()[before], 0x15 | 0x16) {
                    self.traffic.see(|s| s.tls_answer = true);
                }
                self.first_read = false;
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = result {
            self.traffic.sent.fetch_add(n as u64, Ordering::Relaxed);
            if n > 0 && self.awaiting_write {
                self.awaiting_write = false;
                self.traffic.requests.fetch_add(1, Ordering::Relaxed);
            }
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: Connection> Connection for Counted<S> {
    fn connected(&self) -> Connected {
        self.inner.connected()
    }
}

/// Why a TCP connection could not be made, from the connector's error chain.
fn tcp_failure(e: &(dyn std::error::Error + 'static)) -> Unreachable {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(dns) = e.downcast_ref::<DnsError>() {
            return Unreachable::Dns((!dns.lookup).then(|| dns.to_string()));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Unreachable::Refused,
                std::io::ErrorKind::TimedOut => return Unreachable::ConnectTimeout,
                _ => {}
            }
        }
        next = e.source();
    }
    Unreachable::Other
}

/// Opens the remote database handle. Nothing is sent until the first
/// statement.
pub async fn open(
    url: &str,
    token: &str,
    connect_timeout: Duration,
    traffic: &Traffic,
) -> libsql::Result<libsql::Database> {
    let mut http = HttpConnector::new_with_resolver(super::dns::Resolver::default());
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    // The TCP connect's own failure is recorded here; any failure of the
    // whole connect after a TCP connection was made is the TLS handshake's.
    let tcp_seen = traffic.clone();
    let tcp = tower::ServiceExt::map_err(http, move |e| {
        tcp_seen.see(|s| s.unreachable = Some(tcp_failure(&e)));
        e
    });
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    let tls_seen = traffic.clone();
    let https = tower::ServiceExt::map_err(https, move |e| {
        tls_seen.see(|s| {
            s.unreachable.get_or_insert(Unreachable::Tls);
        });
        e
    });
    let traffic = traffic.clone();
    let connector = tower::ServiceExt::map_response(https, move |inner| Counted {
        inner,
        traffic: traffic.clone(),
        awaiting_write: true,
        first_read: true,
    });
    libsql::Builder::new_remote(url.to_owned(), token.to_owned())
        .connector(connector)
        .build()
        .await
}
