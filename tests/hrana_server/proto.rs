//! Hrana JSON request types (what clients send). Responses are built as
//! `serde_json::Value` in `exec.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::db::Val;

#[derive(Deserialize, Debug)]
pub struct PipelineReq {
    #[serde(default)]
    pub baton: Option<String>,
    pub requests: Vec<StreamRequest>,
}

#[derive(Deserialize, Debug)]
pub struct CursorReq {
    #[serde(default)]
    pub baton: Option<String>,
    pub batch: Batch,
}

#[derive(Deserialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamRequest {
    Close {},
    Execute {
        stmt: Stmt,
    },
    Batch {
        batch: Batch,
    },
    Sequence {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    Describe {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    StoreSql {
        sql_id: i32,
        sql: String,
    },
    CloseSql {
        sql_id: i32,
    },
    GetAutocommit {},
}

#[derive(Deserialize, Debug, Clone)]
pub struct Stmt {
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub sql_id: Option<i32>,
    #[serde(default)]
    pub args: Vec<Value>,
    #[serde(default)]
    pub named_args: Vec<NamedArg>,
    #[serde(default)]
    pub want_rows: Option<bool>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct NamedArg {
    pub name: String,
    pub value: Value,
}

#[derive(Deserialize, Debug, Clone)]
pub struct Batch {
    pub steps: Vec<BatchStep>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct BatchStep {
    #[serde(default)]
    pub condition: Option<Cond>,
    pub stmt: Stmt,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cond {
    Ok { step: u32 },
    Error { step: u32 },
    Not { cond: Box<Cond> },
    And { conds: Vec<Cond> },
    Or { conds: Vec<Cond> },
    IsAutocommit {},
}

/// A Hrana value as received: integers are decimal strings, blobs base64.
#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    Null {},
    Integer { value: IntRepr },
    Float { value: f64 },
    Text { value: String },
    Blob { base64: String },
}

/// The spec says integers are strings; accept JSON numbers too.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
pub enum IntRepr {
    Str(String),
    Num(i64),
}

impl Value {
    pub fn to_val(&self) -> Result<Val, String> {
        Ok(match self {
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
