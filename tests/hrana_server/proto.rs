//! Hrana JSON request types: seedbake's own (`seedbake::database::hrana::
//! proto`), so the client and this server read one protocol; values are
//! mapped to the server's here. Responses are built as `serde_json::Value`
//! in `exec.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::{Value as Json, json};

use crate::db::Val;
pub use seedbake::database::hrana::proto::{
    Batch, Cond, CursorReq, IntRepr, PipelineReq, Stmt, StreamRequest, Value,
};

/// A value as received, as the test server's own: integers as decimal
/// strings (or numbers), blobs as base64 with or without padding.
pub fn to_val(v: &Value) -> Result<Val, String> {
    Ok(match v {
        Value::Null {} => Val::Null,
        Value::Integer { value } => match value {
            IntRepr::Num(n) => Val::Int(*n),
            IntRepr::Str(s) => Val::Int(
                s.parse()
                    .map_err(|_| format!("invalid integer value {s:?}"))?,
            ),
        },
        Value::Float { value } => Val::Float(*value),
        Value::Text { value } => Val::Text(value.clone()),
        Value::Blob { base64 } => {
            let t = base64.trim_end_matches('=');
            Val::Blob(
                STANDARD_NO_PAD
                    .decode(t)
                    .or_else(|_| STANDARD.decode(base64))
                    .map_err(|_| "invalid base64 in blob value".to_string())?,
            )
        }
    })
}

/// Encodes a value the way sqld does (blobs as unpadded base64).
pub fn val_json(v: &Val) -> Json {
    match v {
        Val::Null => json!({"type": "null"}),
        Val::Int(i) => json!({"type": "integer", "value": i.to_string()}),
        Val::Float(f) => json!({"type": "float", "value": f}),
        Val::Text(s) => json!({"type": "text", "value": s}),
        Val::Blob(b) => json!({"type": "blob", "base64": STANDARD_NO_PAD.encode(b)}),
    }
}

/// sqld's estimate of a value's JSON size, used for the response-size limit.
pub fn val_size(v: &Val) -> u64 {
    match v {
        Val::Null => 15,
        Val::Int(i) => 28 + i.to_string().len() as u64,
        Val::Float(f) => 26 + f.to_string().len() as u64,
        Val::Text(s) => 27 + s.len() as u64,
        Val::Blob(b) => b.len() as u64,
    }
}

pub fn col_size(name: &str, decltype: Option<&str>) -> u64 {
    22 + name.len() as u64 + decltype.unwrap_or("null").len() as u64
}
