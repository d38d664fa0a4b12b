//! The Hrana 3 protocol's JSON shapes over HTTP (the specification's
//! `docs/HRANA_3_SPEC.md` in tursodatabase/libsql): what a pipeline request
//! carries and what its answer holds. Shared by seedbake's client and the
//! repository's test server (`tests/hrana_server`), which reads requests
//! with the same types, so both speak one protocol.

use serde::{Deserialize, Serialize};

/// `POST /v3/pipeline`: requests run in order on the stream the baton
/// names (a new stream without one).
#[derive(Serialize, Deserialize, Debug)]
pub struct PipelineReq {
    #[serde(default)]
    pub baton: Option<String>,
    pub requests: Vec<StreamRequest>,
}

/// `POST /v3/cursor`: one batch whose rows stream back line by line.
#[derive(Serialize, Deserialize, Debug)]
pub struct CursorReq {
    #[serde(default)]
    pub baton: Option<String>,
    pub batch: Batch,
}

#[derive(Serialize, Deserialize, Debug)]
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sql: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sql_id: Option<i32>,
    },
    Describe {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sql: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Stmt {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_id: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_args: Vec<NamedArg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub want_rows: Option<bool>,
}

impl Stmt {
    /// One statement's SQL with positional arguments.
    pub fn new(sql: impl Into<String>, args: Vec<Value>, want_rows: bool) -> Stmt {
        Stmt {
            sql: Some(sql.into()),
            sql_id: None,
            args,
            named_args: Vec::new(),
            want_rows: Some(want_rows),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct NamedArg {
    pub name: String,
    pub value: Value,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Batch {
    pub steps: Vec<BatchStep>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BatchStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Cond>,
    pub stmt: Stmt,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cond {
    Ok { step: u32 },
    Error { step: u32 },
    Not { cond: Box<Cond> },
    And { conds: Vec<Cond> },
    Or { conds: Vec<Cond> },
    IsAutocommit {},
}

/// A value as it travels: integers as decimal strings (exact past 2^53),
/// blobs as base64.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    Null {},
    Integer { value: IntRepr },
    Float { value: f64 },
    Text { value: String },
    Blob { base64: String },
}

/// The specification writes integers as strings; a JSON number is taken
/// too.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum IntRepr {
    Str(String),
    Num(i64),
}

/// The answer to a pipeline: one result per request, in order.
#[derive(Serialize, Deserialize, Debug)]
pub struct PipelineResp {
    #[serde(default)]
    pub baton: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    pub results: Vec<StreamResult>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResult {
    Ok { response: StreamResponse },
    Error { error: Error },
}

/// The answers seedbake asks for; any other kind is read as one it does
/// not use.
#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResponse {
    Close {},
    Execute {
        result: StmtResult,
    },
    Batch {
        result: BatchResult,
    },
    #[serde(other)]
    Other,
}

/// A statement's or a request's failure: `code` is machine-readable
/// (`SQLITE_CONSTRAINT`, `STREAM_EXPIRED`…), `message` for people.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct StmtResult {
    #[serde(default)]
    pub cols: Vec<Col>,
    #[serde(default)]
    pub rows: Vec<Vec<Value>>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Col {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub decltype: Option<String>,
}

/// A batch's outcome, step by step: a step that did not run (its
/// condition was false) has neither a result nor an error.
#[derive(Serialize, Deserialize, Debug)]
pub struct BatchResult {
    pub step_results: Vec<Option<StmtResult>>,
    pub step_errors: Vec<Option<Error>>,
}
