//! A proxy on 127.0.0.1 between a client and an HTTP/1.1 server that
//! counts the requests on the wire and holds each one back a fixed time
//! before forwarding it: what the client's round trips would cost on a
//! network, and how many there are.
//!
//! Requests are counted by reading them as HTTP/1.1 frames them (the head,
//! then a body of `Content-Length` bytes or in chunks), so a keep-alive
//! connection carrying many requests, pipelined or not, counts each once.
//! The delay is the whole round trip's, added on the way in, measured from
//! the moment a request has fully arrived: pipelined requests each wait the
//! latency from their own arrival, not one after another. Answers pass
//! back unchanged and undelayed. New connections are counted too: on a real
//! network each costs a TCP handshake (and TLS's) that this proxy does not
//! delay.
//!
//! Included by the tests and the benches with `#[path]`; std only.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A head longer than this is not HTTP a client of ours sends.
const MAX_HEAD_BYTES: usize = 64 * 1024;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    connections: AtomicU64,
    latency_us: AtomicU64,
}

pub struct LatencyProxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
}

impl LatencyProxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection
    /// to `upstream` (`host:port`), each request `latency` late.
    pub fn start(upstream: &str, latency: Duration) -> LatencyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let proxy = LatencyProxy {
            addr,
            counters: counters.clone(),
            stop: stop.clone(),
        };
        proxy.set_latency(latency);
        let upstream = upstream.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                counters.connections.fetch_add(1, Ordering::SeqCst);
                let (upstream, counters) = (upstream.clone(), counters.clone());
                std::thread::spawn(move || relay(client, &upstream, &counters));
            }
        });
        proxy
    }

    /// What a client puts in its URL: `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Applies to every request that arrives from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.counters
            .latency_us
            .store(latency.as_micros() as u64, Ordering::SeqCst);
    }

    /// Whole requests read from clients so far.
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// Client connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::SeqCst)
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // The accept loop sees the flag when it wakes; this wakes it.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One client connection: requests in, each counted and forwarded when its
/// delay is over, on a thread of their own; answers out as they come.
fn relay(client: TcpStream, upstream: &str, counters: &Arc<Counters>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client_out), Ok(server_in)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let (due, arrivals) = mpsc::channel::<(Instant, Vec<u8>)>();
    let forwarder = std::thread::spawn(move || forward(arrivals, server_in));
    let answers = std::thread::spawn(move || {
        let mut server = server;
        let mut client_out = client_out;
        let _ = io::copy(&mut server, &mut client_out);
        let _ = client_out.shutdown(Shutdown::Both);
    });
    let mut reader = BufReader::new(client);
    // Ends at the client's end of input, or at what is not HTTP/1.1 (then
    // the connection is cut: a count of a stream we cannot frame would lie).
    loop {
        match read_request(&mut reader) {
            Ok(Some(request)) => {
                counters.requests.fetch_add(1, Ordering::SeqCst);
                let latency = Duration::from_micros(counters.latency_us.load(Ordering::SeqCst));
                if due.send((Instant::now() + latency, request)).is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => {
                let _ = reader.get_ref().shutdown(Shutdown::Both);
                break;
            }
        }
    }
    drop(due);
    let _ = forwarder.join();
    let _ = answers.join();
}

/// Writes each request to the server once its time has come; then ends
/// the server's input, as the client ended ours.
fn forward(arrivals: mpsc::Receiver<(Instant, Vec<u8>)>, mut server: TcpStream) {
    for (due, request) in arrivals {
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if server.write_all(&request).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

/// The next whole request's bytes, as they came; `None` at the end of the
/// input between requests.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut raw = Vec::new();
    let mut body = Body::None;
    loop {
        let start = raw.len();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err(invalid("the input ended inside a request head"))
            };
        }
        if raw.len() > MAX_HEAD_BYTES {
            return Err(invalid("a request head over 64 KiB"));
        }
        let line = trim_line_end(&raw[start..]);
        if line.is_empty() {
            if start == 0 {
                // RFC 9112 §2.2: empty lines before a request line are
                // ignored.
                raw.clear();
                continue;
            }
            break;
        }
        if start == 0 {
            continue; // the request line
        }
        body = body.with_header(line)?;
    }
    match body {
        Body::None => {}
        Body::Length(n) => {
            let from = raw.len();
            raw.resize(from + n, 0);
            reader.read_exact(&mut raw[from..])?;
        }
        Body::Chunked => read_chunks(reader, &mut raw)?,
    }
    Ok(Some(raw))
}

/// How a request's body is framed (RFC 9112 §6.3).
enum Body {
    None,
    Length(usize),
    Chunked,
}

impl Body {
    fn with_header(self, line: &[u8]) -> io::Result<Body> {
        let text = std::str::from_utf8(line).map_err(|_| invalid("a header is not UTF-8"))?;
        let Some((name, value)) = text.split_once(':') else {
            return Err(invalid("a header line without a colon"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or("").trim();
            return if last.eq_ignore_ascii_case("chunked") {
                Ok(Body::Chunked)
            } else {
                Err(invalid("a request body framed other than by chunks"))
            };
        }
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse()
                .map_err(|_| invalid("a Content-Length that is not a number"))?;
            return Ok(match self {
                // Transfer-Encoding wins over Content-Length.
                Body::Chunked => Body::Chunked,
                Body::Length(m) if m != n => {
                    return Err(invalid("two different Content-Length headers"));
                }
                _ => Body::Length(n),
            });
        }
        Ok(self)
    }
}

/// A chunked body and its trailers, appended to `raw` as they came.
fn read_chunks(reader: &mut impl BufRead, raw: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let start = raw.len();
        if reader.read_until(b'\n', raw)? == 0 {
            return Err(invalid("the input ended inside a chunked body"));
        }
        let line = std::str::from_utf8(trim_line_end(&raw[start..]))
            .map_err(|_| invalid("a chunk size is not UTF-8"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("a bad chunk size"))?;
        if size == 0 {
            break;
        }
        // The chunk's data and the line end after it.
        let from = raw.len();
        raw.resize(from + size + 2, 0);
        reader.read_exact(&mut raw[from..])?;
    }
    // Trailer lines, up to the empty line that ends the request.
    loop {
        let start = raw.len();
        if reader.read_until(b'\n', raw)? == 0 {
            return Err(invalid("the input ended inside a chunked body's trailers"));
        }
        if trim_line_end(&raw[start..]).is_empty() {
            return Ok(());
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}
