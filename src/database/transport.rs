//! The transport for libSQL servers (Turso, sqld): libsql's remote client
//! over our own connector, so that the TLS roots travel inside the binary
//! (no system certificate store needed), host names are resolved without
//! glibc (see `dns.rs`: a static binary has no NSS modules to call on),
//! every byte is counted, what fails is seen where it fails (the name
//! lookup, the TCP connect, the TLS handshake, the socket), because the
//! client reports transport failures only as text, and every answer is
//! bounded in size as it arrives ([`Answer`]), because the client buffers
//! whatever the server sends.

use std::future::Future;
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
    /// An answer was refused while it arrived.
    pub refused: Option<Refused>,
    /// The server sent the client on (a Hrana answer's `base_url`) to
    /// this origin, another than the URL's; nothing was sent there.
    pub sent_elsewhere: Option<String>,
}

/// The most one answer may hold: a pipeline's answer, or an error answer,
/// whole. sqld answers at most 10 MB per request (libsql-server/src/main.rs
/// in tursodatabase/libsql: `--max-response-size`, default "10MB", and
/// `--max-total-response-size`, default "32MB"); the libsql client buffers
/// a pipeline answer whole, however large (an endless answer grew it past
/// 2 GB), so anything far beyond what sqld sends is refused on arrival.
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;

/// The longest line of a cursor answer (one row, or one step's header): a
/// cursor answer streams line by line and may be long in total (a dump of
/// a big table), but the client buffers each line whole.
pub const MAX_LINE_BYTES: u64 = 64 << 20;

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// More than `limit` bytes: the whole answer, or one line of a cursor's.
    TooLarge { limit: u64, line: bool },
    /// An error answer that is not UTF-8 text (the client would panic on it).
    NotText,
    /// Not HTTP as the client speaks it.
    Malformed,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TooLarge { limit, line: false } => {
                write!(f, "the server's answer is larger than {} MiB", limit >> 20)
            }
            Refused::TooLarge { limit, line: true } => write!(
                f,
                "a row of the server's answer is larger than {} MiB",
                limit >> 20
            ),
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
                // A request's head is written first, whole (hyper buffers
                // it): its first line says which endpoint will answer.
                if let Some(line) = request_line(&data[..n]) {
                    self.answer = Answer::new(line.windows(7).any(|w| w == b"/cursor"));
                }
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
    let https = SameOrigin {
        inner: https,
        origin: Origin::of(&url.parse().map_err(|_| {
            libsql::Error::ConnectionFailed(format!("{url} is not a URL the client can use"))
        })?),
        traffic: traffic.clone(),
    };
    let traffic = traffic.clone();
    let connector = tower::ServiceExt::map_response(https, move |inner| Counted {
        inner,
        traffic: traffic.clone(),
        awaiting_write: true,
        first_read: true,
        answer: Answer::new(false),
    });
    libsql::Builder::new_remote(url.to_owned(), token.to_owned())
        .connector(connector)
        .build()
        .await
}

/// Where a connection goes: scheme, host and port, as the connector is
/// asked for them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(uri: &hyper014::Uri) -> Origin {
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        Origin {
            host: uri.host().unwrap_or_default().to_ascii_lowercase(),
            scheme,
            port,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Connects only to the URL's own origin. A Hrana answer may name a
/// `base_url` for the stream's next requests, and the libsql client
/// follows it with the auth token in every request; a server (or anything
/// that can rewrite its plain-HTTP answers) could so send the token to any
/// host, or from https to plain http. seedbake sends the token nowhere but
/// where the operator pointed it: such a connection is never opened.
#[derive(Clone)]
struct SameOrigin<S> {
    inner: S,
    origin: Origin,
    traffic: Traffic,
}

impl<S> tower::Service<hyper014::Uri> for SameOrigin<S>
where
    S: tower::Service<hyper014::Uri>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: From<std::io::Error> + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: hyper014::Uri) -> Self::Future {
        let to = Origin::of(&dst);
        if to != self.origin {
            self.traffic
                .see(|s| s.sent_elsewhere = Some(to.to_string()));
            let refused = std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the server sent the client to another origin",
            );
            return Box::pin(std::future::ready(Err(refused.into())));
        }
        Box::pin(self.inner.call(dst))
    }
}

/// The first line of `data` if it starts an HTTP request.
fn request_line(data: &[u8]) -> Option<&[u8]> {
    let methods: [&[u8]; 2] = [b"POST ", b"GET "];
    if !methods.iter().any(|m| data.starts_with(m)) {
        return None;
    }
    Some(data.split(|b| *b == b'\n').next().unwrap_or(data))
}

/// The most an answer's status line and headers may take.
const MAX_HEAD_BYTES: usize = 1 << 20;

/// One HTTP/1.1 answer, followed as its bytes arrive (before the client
/// buffers them), to refuse it as soon as it is too large: the framing
/// (Content-Length, chunked, or until the connection closes) is decoded
/// just enough to count the body's bytes and, for a cursor, the bytes of
/// each line. Error answers must be UTF-8, because the client unwraps
/// their text.
struct Answer {
    cursor: bool,
    answer_limit: u64,
    line_limit: u64,
    state: State,
    status: u16,
    body_bytes: u64,
    line_bytes: u64,
    /// The bytes of an unfinished UTF-8 sequence, for error answers.
    utf8_tail: Vec<u8>,
}

enum State {
    Head(Vec<u8>),
    Length(u64),
    ChunkSize(Vec<u8>),
    ChunkData(u64),
    /// The CR LF after a chunk's data; how many of the two bytes came.
    ChunkEnd(u8),
    /// After the last chunk: trailer lines until an empty one; the bytes of
    /// the current line so far.
    Trailers(usize),
    UntilClose,
    Done,
}

impl Answer {
    fn new(cursor: bool) -> Answer {
        Answer::with_limits(cursor, MAX_ANSWER_BYTES, MAX_LINE_BYTES)
    }

    fn with_limits(cursor: bool, answer_limit: u64, line_limit: u64) -> Answer {
        Answer {
            cursor,
            answer_limit,
            line_limit,
            state: State::Head(Vec::new()),
            status: 0,
            body_bytes: 0,
            line_bytes: 0,
            utf8_tail: Vec::new(),
        }
    }

    /// Takes the next bytes the server sent.
    fn feed(&mut self, mut data: &[u8]) -> Result<(), Refused> {
        while !data.is_empty() {
            let used = match &mut self.state {
                State::Head(head) => {
                    // Only the last three bytes before `data` can complete
                    // an end of head that `data` finishes.
                    let from = head.len().saturating_sub(3);
                    head.extend_from_slice(data);
                    match find(&head[from..], b"\r\n\r\n") {
                        Some(at) => {
                            let end = from + at + 4;
                            let used = data.len() - (head.len() - end);
                            head.truncate(end);
                            let head = std::mem::take(head);
                            self.start_body(&head)?;
                            used
                        }
                        None if head.len() > MAX_HEAD_BYTES => {
                            return Err(Refused::TooLarge {
                                limit: MAX_HEAD_BYTES as u64,
                                line: false,
                            });
                        }
                        None => data.len(),
                    }
                }
                State::Length(left) => {
                    let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::Done;
                    }
                    self.body(&data[..n])?;
                    n
                }
                State::UntilClose => {
                    self.body(data)?;
                    data.len()
                }
                State::ChunkSize(line) => match data.iter().position(|b| *b == b'\n') {
                    Some(at) => {
                        line.extend_from_slice(&data[..at]);
                        let size = chunk_size(line).ok_or(Refused::Malformed)?;
                        self.state = if size == 0 {
                            State::Trailers(0)
                        } else {
                            State::ChunkData(size)
                        };
                        at + 1
                    }
                    None if line.len() + data.len() > 4096 => return Err(Refused::Malformed),
                    None => {
                        line.extend_from_slice(data);
                        data.len()
                    }
                },
                State::ChunkData(left) => {
                    let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::ChunkEnd(0);
                    }
                    self.body(&data[..n])?;
                    n
                }
                State::ChunkEnd(seen) => {
                    let expected = if *seen == 0 { b'\r' } else { b'\n' };
                    if data[0] != expected {
                        return Err(Refused::Malformed);
                    }
                    *seen += 1;
                    if *seen == 2 {
                        self.state = State::ChunkSize(Vec::new());
                    }
                    1
                }
                State::Trailers(line) => {
                    match data[0] {
                        b'\n' if *line == 0 => self.state = State::Done,
                        b'\n' => *line = 0,
                        b'\r' => {}
                        _ if *line > MAX_HEAD_BYTES => return Err(Refused::Malformed),
                        _ => *line += 1,
                    }
                    1
                }
                // Bytes after a complete answer start the next one.
                State::Done => {
                    *self = Answer::with_limits(self.cursor, self.answer_limit, self.line_limit);
                    0
                }
            };
            data = &data[used..];
        }
        Ok(())
    }

    /// Reads the status line and headers, and chooses how the body ends.
    fn start_body(&mut self, head: &[u8]) -> Result<(), Refused> {
        let text = std::str::from_utf8(head).map_err(|_| Refused::Malformed)?;
        let mut lines = text.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.strip_prefix("HTTP/1."))
            .and_then(|l| l.get(2..5))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or(Refused::Malformed)?;
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|_| Refused::Malformed)?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            }
        }
        self.status = status;
        self.state = if (100..200).contains(&status) {
            // An interim answer; the real one follows.
            State::Head(Vec::new())
        } else if status == 204 || status == 304 {
            State::Done
        } else if chunked {
            State::ChunkSize(Vec::new())
        } else if let Some(n) = length {
            if self.whole_is_bounded() && n > self.answer_limit {
                return Err(Refused::TooLarge {
                    limit: self.answer_limit,
                    line: false,
                });
            }
            if n == 0 {
                State::Done
            } else {
                State::Length(n)
            }
        } else {
            State::UntilClose
        };
        Ok(())
    }

    /// Whether the client buffers this answer whole (rather than by line).
    fn whole_is_bounded(&self) -> bool {
        !(self.cursor && self.status == 200)
    }

    fn body(&mut self, data: &[u8]) -> Result<(), Refused> {
        self.body_bytes += data.len() as u64;
        if self.whole_is_bounded() {
            if self.body_bytes > self.answer_limit {
                return Err(Refused::TooLarge {
                    limit: self.answer_limit,
                    line: false,
                });
            }
        } else {
            let too_long = Refused::TooLarge {
                limit: self.line_limit,
                line: true,
            };
            let mut rest = data;
            while let Some(at) = rest.iter().position(|b| *b == b'\n') {
                if self.line_bytes + at as u64 > self.line_limit {
                    return Err(too_long);
                }
                self.line_bytes = 0;
                rest = &rest[at + 1..];
            }
            self.line_bytes += rest.len() as u64;
            if self.line_bytes > self.line_limit {
                return Err(too_long);
            }
        }
        if self.status != 200 {
            self.utf8_tail.extend_from_slice(data);
            match std::str::from_utf8(&self.utf8_tail) {
                Ok(_) => self.utf8_tail.clear(),
                // An unfinished sequence at the end waits for its rest.
                Err(e) if e.error_len().is_none() => {
                    let done = e.valid_up_to();
                    self.utf8_tail.drain(..done);
                }
                Err(_) => return Err(Refused::NotText),
            }
        }
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A chunk-size line: hex digits, then optional extensions after ';'.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let digits = text.split(';').next()?.trim();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(a: &mut Answer, parts: &[&[u8]]) -> Result<(), Refused> {
        for p in parts {
            a.feed(p)?;
        }
        Ok(())
    }

    /// Feeds byte by byte, so every state meets every boundary.
    fn feed_bytes(a: &mut Answer, data: &[u8]) -> Result<(), Refused> {
        for b in data {
            a.feed(std::slice::from_ref(b))?;
        }
        Ok(())
    }

    fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for c in body.chunks(chunk) {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn answers_within_the_limits_pass_in_any_split() {
        let body = b"{\"baton\":null}\n{\"row\":[1]}\n{\"row\":[2]}\n";
        for cursor in [false, true] {
            let data = chunked(body, 7);
            let mut a = Answer::with_limits(cursor, 100, 20);
            feed_bytes(&mut a, &data).unwrap();
            assert!(matches!(a.state, State::Done));
            assert_eq!(a.body_bytes, body.len() as u64);
            let mut a = Answer::with_limits(cursor, 100, 20);
            feed_all(&mut a, &[&data]).unwrap();
            assert!(matches!(a.state, State::Done));
        }
        let mut a = Answer::with_limits(false, 100, 100);
        feed_bytes(
            &mut a,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        )
        .unwrap();
        assert!(matches!(a.state, State::Done));
        assert_eq!(a.body_bytes, 5);
    }

    #[test]
    fn a_whole_answer_beyond_the_limit_is_refused_as_it_arrives() {
        let too_large = Err(Refused::TooLarge {
            limit: 100,
            line: false,
        });
        // Announced: refused before any of the body.
        let mut a = Answer::with_limits(false, 100, 100);
        assert_eq!(
            a.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"),
            too_large
        );
        // Streamed: refused at the first byte beyond the limit.
        let mut a = Answer::with_limits(false, 100, 100);
        a.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        assert_eq!(a.feed(format!("{:x}\r\n", 1000).as_bytes()), Ok(()));
        assert_eq!(a.feed(&[b' '; 100]), Ok(()));
        assert_eq!(a.feed(b" "), too_large);
        // Until the connection closes, likewise; and error answers too, on
        // the cursor endpoint as well.
        let mut a = Answer::with_limits(true, 100, 1000);
        a.feed(b"HTTP/1.1 500 Oops\r\n\r\n").unwrap();
        assert_eq!(a.feed(&[b'x'; 101]), too_large);
    }

    #[test]
    fn a_cursor_may_be_long_but_not_one_of_its_lines() {
        let mut body = Vec::new();
        for _ in 0..50 {
            body.extend_from_slice(b"{\"row\":[12345]}\n");
        }
        let mut a = Answer::with_limits(true, 100, 20);
        feed_all(&mut a, &[&chunked(&body, 33)]).unwrap();
        assert_eq!(a.body_bytes, 800);
        // A line of 21 bytes, split over chunks, is one line too long.
        let mut a = Answer::with_limits(true, 1000, 20);
        let data = chunked(&[b'a'; 21], 4);
        assert_eq!(
            feed_all(&mut a, &[&data]),
            Err(Refused::TooLarge {
                limit: 20,
                line: true
            })
        );
    }

    #[test]
    fn error_answers_must_be_text() {
        let mut a = Answer::with_limits(false, 100, 100);
        feed_bytes(
            &mut a,
            "HTTP/1.1 400 Bad\r\ncontent-length: 6\r\n\r\nGrüß".as_bytes(),
        )
        .unwrap();
        let mut a = Answer::with_limits(false, 100, 100);
        a.feed(b"HTTP/1.1 400 Bad\r\ncontent-length: 3\r\n\r\n")
            .unwrap();
        assert_eq!(a.feed(&[b'a', 0xff, b'b']), Err(Refused::NotText));
    }

    #[test]
    fn broken_framing_is_refused() {
        let mut a = Answer::with_limits(false, 100, 100);
        a.feed(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .unwrap();
        assert_eq!(a.feed(b"zz\r\n"), Err(Refused::Malformed));
        let mut a = Answer::with_limits(false, 100, 100);
        assert_eq!(a.feed(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(Refused::Malformed));
    }

    #[test]
    fn requests_are_told_apart_by_their_first_line() {
        assert_eq!(
            request_line(b"POST /v3/cursor HTTP/1.1\r\nhost: x\r\n"),
            Some(&b"POST /v3/cursor HTTP/1.1\r"[..])
        );
        assert_eq!(request_line(b"{\"baton\":null}"), None);
    }
}
