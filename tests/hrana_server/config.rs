//! Command-line flags and fault-injection settings.

use serde::{Deserialize, Serialize};

/// Fault injection; every count is relative to the moment the settings were
/// applied (server start for flags, the `POST /_faults` call otherwise).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default)]
    pub fail_after_requests: Option<u64>,
    #[serde(default)]
    pub cut_after_requests: Option<u64>,
    #[serde(default)]
    pub cut_after_bytes: Option<u64>,
    #[serde(default)]
    pub stall_after_requests: Option<u64>,
    #[serde(default)]
    pub stall_ms: Option<u64>,
    /// Requests after this many are executed in full, then the connection
    /// is cut instead of answering: the client cannot know what happened.
    #[serde(default)]
    pub drop_answer_after_requests: Option<u64>,
    /// Requests after this many are answered with an endless body (not
    /// executed): a client that buffers answers grows without bound.
    #[serde(default)]
    pub endless_answer_after_requests: Option<u64>,
    /// Pipeline requests after this many first run `tamper_sql` on their
    /// stream's connection if it has a transaction open, inside it
    /// (errors ignored: a statement on a table not yet there does
    /// nothing): a server that does not hold what it was sent, which no
    /// real server can be made to be on demand.
    #[serde(default)]
    pub tamper_after_requests: Option<u64>,
    #[serde(default)]
    pub tamper_sql: Option<String>,
    /// Every answer names this `base_url`: the Hrana field that sends the
    /// client's next requests on the stream elsewhere (sqld sends null).
    #[serde(default)]
    pub base_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub db: String,
    pub listen: String,
    pub token: Option<String>,
    pub max_request_bytes: u64,
    pub max_response_bytes: u64,
    pub txn_timeout_ms: u64,
    pub stream_expiry_ms: u64,
    pub faults: Faults,
}

pub const USAGE: &str = "usage: hrana-test-server --db PATH [--listen ADDR] [--token TOKEN]
  [--max-request-bytes N] [--max-response-bytes N] [--txn-timeout-ms N] [--stream-expiry-ms N]
  [--fail-after-requests N] [--cut-after-requests N] [--cut-after-bytes N]
  [--stall-after-requests N --stall-ms MS] [--drop-answer-after-requests N]
  [--endless-answer-after-requests N]";

impl Args {
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            db: String::new(),
            listen: "127.0.0.1:0".into(),
            token: None,
            // sqld reads Hrana bodies without a limit of its own; 10 MiB is this
            // server's choice (see README in the report).
            max_request_bytes: 10 * 1024 * 1024,
            // sqld: `--max-response-size`, default "10MB" (bytesize: 10_000_000).
            max_response_bytes: 10_000_000,
            // sqld: TXN_TIMEOUT = 5 s.
            txn_timeout_ms: 5_000,
            // sqld: hrana/http/stream.rs EXPIRATION = 10 s.
            stream_expiry_ms: 10_000,
            faults: Faults::default(),
        };
        let mut db = None;
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                return Err(USAGE.into());
            }
            let mut val = || {
                it.next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            let num = |v: String| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag}: not a number: {v}"))
            };
            match flag.as_str() {
                "--db" => db = Some(val()?),
                "--listen" => a.listen = val()?,
                "--token" => a.token = Some(val()?),
                "--max-request-bytes" => a.max_request_bytes = num(val()?)?,
                "--max-response-bytes" => a.max_response_bytes = num(val()?)?,
                "--txn-timeout-ms" => a.txn_timeout_ms = num(val()?)?,
                "--stream-expiry-ms" => a.stream_expiry_ms = num(val()?)?,
                "--fail-after-requests" => a.faults.fail_after_requests = Some(num(val()?)?),
                "--cut-after-requests" => a.faults.cut_after_requests = Some(num(val()?)?),
                "--cut-after-bytes" => a.faults.cut_after_bytes = Some(num(val()?)?),
                "--stall-after-requests" => a.faults.stall_after_requests = Some(num(val()?)?),
                "--stall-ms" => a.faults.stall_ms = Some(num(val()?)?),
                "--drop-answer-after-requests" => {
                    a.faults.drop_answer_after_requests = Some(num(val()?)?)
                }
                "--endless-answer-after-requests" => {
                    a.faults.endless_answer_after_requests = Some(num(val()?)?)
                }
                other => return Err(format!("unknown flag {other}\n{USAGE}")),
            }
        }
        a.db = db.ok_or_else(|| format!("--db is required\n{USAGE}"))?;
        Ok(a)
    }
}
