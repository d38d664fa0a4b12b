//! seedbake's own Hrana 3 client over HTTP: a pipeline of stream requests
//! in one `POST /v3/pipeline`, its stream kept by the baton, every request
//! on one kept-alive connection of the transport (`transport.rs`), and
//! every failure typed ([`Failure`]) so that `remote/call.rs` classifies
//! it by status and code, not by words.

#[doc(hidden)]
pub mod proto;
mod values;

use std::cell::RefCell;

use hyper014::{Body, Request, StatusCode, Uri};

use proto::{PipelineReq, PipelineResp, StreamRequest, StreamResult};

/// What a pipeline could not do.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The server answered another HTTP status than 200; `error` is the
    /// protocol's error when the body is one (sqld: `{"message", "code"}`),
    /// else the body's text.
    #[error("HTTP {status}: {}", error.message)]
    Status { status: u16, error: proto::Error },
    /// The request or its answer did not cross: no connection, or it broke
    /// (`transport.rs` records which).
    #[error("{0}")]
    Transport(String),
    /// An answer that is not the protocol's.
    #[error("{0}")]
    Malformed(String),
    /// An earlier answer sent the stream on to another origin (`base_url`):
    /// nothing goes there.
    #[error("the server sent the client to {0}")]
    Elsewhere(String),
}

/// Where a request goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(uri: &Uri) -> Origin {
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

/// Sends one HTTP request on the transport.
pub type SendRequest = Box<dyn Fn(Request<Body>) -> hyper014::client::ResponseFuture>;

/// One Hrana stream over HTTP.
pub struct Stream {
    send: SendRequest,
    origin: Origin,
    /// The base URL requests go to: the database URL, or a `base_url` of
    /// the same origin the server named.
    base: RefCell<String>,
    /// `Bearer <token>`; never shown (the header is marked sensitive).
    auth: hyper014::header::HeaderValue,
    baton: RefCell<Option<String>>,
    /// A `base_url` of another origin an answer named: the stream cannot
    /// go on without sending the token there.
    elsewhere: RefCell<Option<String>>,
}

impl Stream {
    pub fn new(send: SendRequest, url: &str, token: &str) -> Result<Stream, String> {
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("{url} is not a URL the client can use"))?;
        let mut auth = hyper014::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the auth token holds characters no HTTP header may carry".to_owned())?;
        auth.set_sensitive(true);
        Ok(Stream {
            send,
            origin: Origin::of(&uri),
            base: RefCell::new(url.trim_end_matches('/').to_owned()),
            auth,
            baton: RefCell::new(None),
            elsewhere: RefCell::new(None),
        })
    }

    /// Whether a stream may be open on the server: a baton is held. After a
    /// failed request it is kept, as the server may keep the stream (and
    /// its transaction) until its clock runs out; a request with it is
    /// answered with an error if the server dropped the stream.
    pub fn is_open(&self) -> bool {
        self.baton.borrow().is_some()
    }

    /// Sends `requests` as one pipeline on the stream; answers one result
    /// per request.
    pub async fn pipeline(
        &self,
        requests: Vec<StreamRequest>,
    ) -> Result<Vec<StreamResult>, Failure> {
        if let Some(elsewhere) = self.elsewhere.borrow().clone() {
            return Err(Failure::Elsewhere(elsewhere));
        }
        let asked = requests.len();
        let body = PipelineReq {
            baton: self.baton.borrow().clone(),
            requests,
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| Failure::Malformed(format!("the request could not be written: {e}")))?;
        let request = Request::post(format!("{}/v3/pipeline", self.base.borrow()))
            .header(hyper014::header::AUTHORIZATION, self.auth.clone())
            .header(hyper014::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .map_err(|e| Failure::Malformed(format!("the request could not be made: {e}")))?;
        let answer = (self.send)(request)
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let status = answer.status();
        let bytes = hyper014::body::to_bytes(answer.into_body())
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        if status != StatusCode::OK {
            return Err(Failure::Status {
                status: status.as_u16(),
                error: error_of(&bytes),
            });
        }
        let answer: PipelineResp = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Malformed(format!("not a Hrana pipeline answer: {e}")))?;
        if answer.results.len() != asked {
            return Err(Failure::Malformed(format!(
                "{} results for {asked} requests",
                answer.results.len()
            )));
        }
        *self.baton.borrow_mut() = answer.baton;
        if let Some(base) = answer.base_url {
            self.follow(&base);
        }
        Ok(answer.results)
    }

    /// Takes a `base_url` the server named for the stream's next requests:
    /// the URL's own origin is followed; another would receive the auth
    /// token (or see it travel from https to plain http), so the stream
    /// ends there and nothing is sent to it.
    fn follow(&self, base: &str) {
        match base.parse::<Uri>() {
            Ok(uri) if Origin::of(&uri) == self.origin => {
                *self.base.borrow_mut() = base.trim_end_matches('/').to_owned();
            }
            Ok(uri) => *self.elsewhere.borrow_mut() = Some(Origin::of(&uri).to_string()),
            Err(_) => *self.elsewhere.borrow_mut() = Some(base.chars().take(200).collect()),
        }
    }
}

/// The protocol's error in an error answer's body, or the body's text.
fn error_of(body: &[u8]) -> proto::Error {
    serde_json::from_slice::<proto::Error>(body).unwrap_or_else(|_| proto::Error {
        message: String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(300)
            .collect(),
        code: None,
    })
}
