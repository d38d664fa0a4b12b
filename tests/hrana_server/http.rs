//! HTTP layer: routing, auth, body limits, fault injection and statistics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::config::{Args, Faults};
use crate::exec::{self, Ctx};
use crate::proto::{CursorReq, PipelineReq};
use crate::streams::{AcquireError, Streams};

pub type Resp = Response<exec::Body>;
pub type BoxErr = Box<dyn std::error::Error + Send + Sync>;

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

struct FaultState {
    faults: Faults,
    req_base: u64,
    bytes_base: u64,
}

pub struct App {
    pub args: Args,
    pub streams: Arc<Streams>,
    pub stats: Stats,
    faults: Mutex<FaultState>,
}

#[derive(Debug)]
struct Cut;
impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection cut by fault injection")
    }
}
impl std::error::Error for Cut {}

fn resp(status: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Resp {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, ctype)
        .body(exec::Body::Full(Full::new(body.into())))
        .unwrap()
}

fn json_resp(status: StatusCode, v: serde_json::Value) -> Resp {
    resp(status, "application/json", serde_json::to_vec(&v).unwrap())
}

fn text_resp(status: StatusCode, s: impl Into<String>) -> Resp {
    resp(status, "text/plain", s.into())
}

#[derive(Clone, Copy, PartialEq)]
enum Endpoint {
    Pipeline { v3: bool },
    Cursor,
}

impl App {
    pub fn new(args: Args, streams: Arc<Streams>) -> Self {
        let faults = FaultState {
            faults: args.faults.clone(),
            req_base: 0,
            bytes_base: 0,
        };
        App {
            args,
            streams,
            stats: Stats::default(),
            faults: Mutex::new(faults),
        }
    }

    fn unauthorized(&self, req: &Request<Incoming>) -> Option<Resp> {
        let token = self.args.token.as_ref()?;
        let unauthorized = |m: &str| {
            json_resp(
                StatusCode::UNAUTHORIZED,
                json!({"error": format!("Unauthorized: `{m}`")}),
            )
        };
        let Some(h) = req.headers().get(AUTHORIZATION) else {
            return Some(unauthorized("Authorization header is missing"));
        };
        let h = h.to_str().unwrap_or("");
        let given = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .unwrap_or("");
        if given.trim() == token {
            None
        } else {
            Some(unauthorized("The token is invalid"))
        }
    }

    /// Reads the body, counting bytes and applying the size limit and the
    /// cut-after-bytes fault. `Ok(Err(resp))` is an HTTP error to send.
    async fn read_body(
        &self,
        req: Request<Incoming>,
        count: bool,
    ) -> Result<Result<Bytes, Resp>, BoxErr> {
        let max = self.args.max_request_bytes;
        let too_large = || {
            text_resp(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body exceeds the maximum size of {max} bytes"),
            )
        };
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max) {
            return Ok(Err(too_large()));
        }
        let mut body = req.into_body();
        let mut buf = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if count {
                let total = self
                    .stats
                    .bytes_in
                    .fetch_add(data.len() as u64, Ordering::SeqCst)
                    + data.len() as u64;
                let (limit, base) = {
                    let f = self.faults.lock().unwrap();
                    (f.faults.cut_after_bytes, f.bytes_base)
                };
                if limit.is_some_and(|l| total.saturating_sub(base) >= l) {
                    return Err(Box::new(Cut));
                }
            }
            buf.extend_from_slice(&data);
            if buf.len() as u64 > max {
                return Ok(Err(too_large()));
            }
        }
        Ok(Ok(Bytes::from(buf)))
    }

    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Resp, BoxErr> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let endpoint = match (&method, path.as_str()) {
            (&Method::POST, "/v3/pipeline") => Some(Endpoint::Pipeline { v3: true }),
            (&Method::POST, "/v2/pipeline") => Some(Endpoint::Pipeline { v3: false }),
            (&Method::POST, "/v3/cursor") => Some(Endpoint::Cursor),
            _ => None,
        };
        if let Some(ep) = endpoint {
            let n = self.stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
            let r = self.hrana(req, ep, n).await?;
            self.stats
                .bytes_out
                .fetch_add(r.body().size_hint_len(), Ordering::SeqCst);
            return Ok(r);
        }
        if let Some(r) = self.unauthorized(&req) {
            return Ok(r);
        }
        Ok(match (&method, path.as_str()) {
            (&Method::GET, "/v2" | "/v3") => text_resp(
                StatusCode::OK,
                "Hello, this is HTTP API v2 (Hrana over HTTP)",
            ),
            (&Method::GET, "/health") => text_resp(StatusCode::OK, ""),
            (&Method::GET, "/version") => text_resp(
                StatusCode::OK,
                concat!("hrana-test-server ", env!("CARGO_PKG_VERSION")),
            ),
            (&Method::GET, "/_stats") => json_resp(
                StatusCode::OK,
                json!({
                    "requests": self.stats.requests.load(Ordering::SeqCst),
                    "bytes_in": self.stats.bytes_in.load(Ordering::SeqCst),
                    "bytes_out": self.stats.bytes_out.load(Ordering::SeqCst),
                    "open_streams": self.streams.open_count(),
                    "open_connections": self.streams.mgr.open_connections(),
                }),
            ),
            (&Method::POST, "/_faults") => {
                let body = match self.read_body(req, false).await? {
                    Ok(b) => b,
                    Err(r) => return Ok(r),
                };
                let faults: Faults = if body.iter().all(|b| b.is_ascii_whitespace()) {
                    Faults::default()
                } else {
                    match serde_json::from_slice(&body) {
                        Ok(f) => f,
                        Err(e) => {
                            return Ok(json_resp(
                                StatusCode::BAD_REQUEST,
                                json!({"error": format!("invalid faults: {e}")}),
                            ));
                        }
                    }
                };
                let mut st = self.faults.lock().unwrap();
                st.faults = faults.clone();
                st.req_base = self.stats.requests.load(Ordering::SeqCst);
                st.bytes_base = self.stats.bytes_in.load(Ordering::SeqCst);
                json_resp(StatusCode::OK, serde_json::to_value(faults).unwrap())
            }
            _ => text_resp(StatusCode::NOT_FOUND, ""),
        })
    }

    async fn hrana(&self, req: Request<Incoming>, ep: Endpoint, n: u64) -> Result<Resp, BoxErr> {
        if let Some(r) = self.unauthorized(&req) {
            return Ok(r);
        }
        let body = match self.read_body(req, true).await? {
            Ok(b) => b,
            Err(r) => return Ok(r),
        };
        let (faults, k) = {
            let f = self.faults.lock().unwrap();
            (f.faults.clone(), n.saturating_sub(f.req_base))
        };
        if faults.cut_after_requests.is_some_and(|c| k > c) {
            return Err(Box::new(Cut));
        }
        if faults.fail_after_requests.is_some_and(|c| k > c) {
            return Ok(json_resp(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "Internal Error: `injected failure (fail_after_requests)`"}),
            ));
        }
        if faults.endless_answer_after_requests.is_some_and(|c| k > c) {
            return Ok(Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, "application/json")
                .body(exec::Body::Endless)
                .unwrap());
        }
        let streams = self.streams.clone();
        let ctx_v3 = !matches!(ep, Endpoint::Pipeline { v3: false });
        let ctx = Ctx {
            v3: ctx_v3,
            max_response: self.args.max_response_bytes,
        };
        let tamper = faults
            .tamper_sql
            .clone()
            .filter(|_| faults.tamper_after_requests.is_some_and(|c| k > c));
        let base_url = faults.base_url.clone();
        let r = tokio::task::spawn_blocking(move || match ep {
            Endpoint::Pipeline { .. } => {
                pipeline(&streams, &body, ctx, tamper.as_deref(), base_url.as_deref())
            }
            Endpoint::Cursor => cursor(&streams, &body, base_url.as_deref()),
        })
        .await?;
        if faults.stall_after_requests.is_some_and(|c| k > c) {
            tokio::time::sleep(Duration::from_millis(faults.stall_ms.unwrap_or(0))).await;
        }
        if faults.drop_answer_after_requests.is_some_and(|c| k > c) {
            return Err(Box::new(Cut));
        }
        Ok(r)
    }
}

trait SizeHint {
    fn size_hint_len(&self) -> u64;
}
impl SizeHint for exec::Body {
    fn size_hint_len(&self) -> u64 {
        hyper::body::Body::size_hint(self).exact().unwrap_or(0)
    }
}

fn acquire_error(e: AcquireError) -> Resp {
    match e {
        AcquireError::BatonInvalid => {
            text_resp(StatusCode::BAD_REQUEST, "Received an invalid baton")
        }
        AcquireError::BatonReused => text_resp(
            StatusCode::BAD_REQUEST,
            "Received a baton that has already been used",
        ),
        // sqld 0.24.33 answers 400 (measured; older sources say 500).
        AcquireError::StreamExpired => json_resp(
            StatusCode::BAD_REQUEST,
            json!({"message": "The stream has expired due to inactivity", "code": "STREAM_EXPIRED"}),
        ),
        AcquireError::Open(e) => json_resp(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": format!("Internal Error: `could not open database: {}`", e.message)}),
        ),
    }
}

fn bad_json(e: serde_json::Error) -> Resp {
    text_resp(
        StatusCode::BAD_REQUEST,
        format!("Cannot deserialize client message from JSON: {e}"),
    )
}

fn pipeline(
    streams: &Streams,
    body: &[u8],
    ctx: Ctx,
    tamper: Option<&str>,
    base_url: Option<&str>,
) -> Resp {
    let req: PipelineReq = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad_json(e),
    };
    let mut stream = match streams.acquire(req.baton.as_deref()) {
        Ok(s) => s,
        Err(e) => return acquire_error(e),
    };
    if let Some(sql) = tamper {
        exec::tamper(&stream, sql);
    }
    match exec::pipeline(&mut stream, &streams.mgr, req.requests, ctx) {
        Ok(results) => {
            let baton = streams.release(stream);
            json_resp(
                StatusCode::OK,
                json!({"baton": baton, "base_url": base_url, "results": results}),
            )
        }
        Err(msg) => {
            streams.discard(*stream);
            text_resp(StatusCode::BAD_REQUEST, msg)
        }
    }
}

fn cursor(streams: &Streams, body: &[u8], base_url: Option<&str>) -> Resp {
    let req: CursorReq = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return bad_json(e),
    };
    let stream = match streams.acquire(req.baton.as_deref()) {
        Ok(s) => s,
        Err(e) => return acquire_error(e),
    };
    match exec::open_cursor(&stream, &req.batch) {
        Ok(cursor) => {
            let baton = streams.release(stream);
            let mut first =
                serde_json::to_vec(&json!({"baton": baton, "base_url": base_url})).unwrap();
            first.push(b'\n');
            Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_TYPE, "text/plain")
                .body(exec::stream_cursor(first, cursor))
                .unwrap()
        }
        Err(msg) => {
            streams.discard(*stream);
            text_resp(StatusCode::BAD_REQUEST, msg)
        }
    }
}
