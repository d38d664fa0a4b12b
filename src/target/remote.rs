//! The transport for libSQL servers (Turso, sqld): libsql's remote client
//! over our own connector, so that the TLS roots travel inside the binary
//! (no system certificate store needed), host names are resolved without
//! glibc (see `dns.rs`: a static binary has no NSS modules to call on) and
//! every byte is counted.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper014::client::HttpConnector;
use hyper014::client::connect::{Connected, Connection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes and requests exchanged with the server.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
}

impl Traffic {
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
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let traffic = traffic.clone();
    let connector = tower::ServiceExt::map_response(https, move |inner| Counted {
        inner,
        traffic: traffic.clone(),
        awaiting_write: true,
    });
    libsql::Builder::new_remote(url.to_owned(), token.to_owned())
        .connector(connector)
        .build()
        .await
}
