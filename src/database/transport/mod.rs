//! The transport for libSQL servers (Turso, sqld): one hyper client over
//! our own connector, so that the TLS roots travel inside the binary (no
//! system certificate store needed), host names are resolved without glibc
//! (see `dns.rs`: a static binary has no NSS modules to call on), every
//! byte is counted, what fails is seen where it fails (the name lookup, the
//! TCP connect, the TLS handshake, the socket), because hyper reports
//! those only as text, and every answer is bounded in size as it arrives
//! ([`Answer`]), because the Hrana client reads an answer whole.

mod answer;

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
use answer::Answer;

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
    /// An answer was refused while it arrived.
    pub refused: Option<Refused>,
}

/// The most one answer may hold: a pipeline's answer, or an error answer,
/// whole. sqld answers at most 10 MB per request (libsql-server/src/main.rs
/// in tursodatabase/libsql: `--max-response-size`, default "10MB", and
/// `--max-total-response-size`, default "32MB"); the Hrana client reads an
/// answer whole, so anything far beyond what sqld sends is refused on
/// arrival rather than grown into memory.
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// More than `limit` bytes.
    TooLarge { limit: u64 },
    /// An error answer that is not UTF-8 text.
    NotText,
    /// Not HTTP as the client speaks it.
    Malformed,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TooLarge { limit } => {
                write!(f, "the server's answer is larger than {} MiB", limit >> 20)
            }
            Refused::NotText => f.write_str("the server's error answer is not text"),
            Refused::Malformed => f.write_str("the server's answer is not well-formed HTTP"),
        }
    }
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
    answer: Answer,
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
                let this = &mut *self;
                if let Err(refused) = this.answer.feed(&buf.filled()[before..]) {
                    this.traffic.see(|s| s.refused = Some(refused));
                    return Poll::Ready(Err(std::io::Error::other(refused.to_string())));
                }
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
                self.answer = Answer::new();
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

/// The HTTP client every request of a command goes through: one pool, so
/// one connection kept alive for the whole command. Nothing is sent until
/// the first request.
pub fn client(connect_timeout: Duration, traffic: &Traffic) -> crate::database::hrana::SendRequest {
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
        answer: Answer::new(),
    });
    let client = hyper014::Client::builder().build::<_, hyper014::Body>(connector);
    Box::new(move |request| client.request(request))
}
