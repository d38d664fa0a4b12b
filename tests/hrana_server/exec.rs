//! Executes Hrana stream requests on a stream's connection, producing the JSON
//! that sqld would produce.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value as Json, json};

use crate::db::{Conn, SqlError, code_name};
use crate::proto::{Batch, Cond, Stmt, StreamRequest, col_size, to_val, val_json, val_size};
use crate::streams::{ConnSlot, LockMgr, Stream};

mod cursor;
pub use cursor::{Body, open_cursor, stream_cursor};

/// sqld: at most 50 stored SQL texts per stream, each at most 5 kB
/// (libsql-server `src/hrana/http/request.rs`: `MAX_SQL_COUNT`,
/// `MAX_STORED_SQL_SIZE`).
const MAX_SQL_COUNT: usize = 50;
const MAX_STORED_SQL_SIZE: usize = 5_000;

/// A protocol error: the whole HTTP request fails with 400 and the stream is dropped.
pub type ProtoErr = String;

/// An error reported inside a Hrana result (`{"message", "code"}`).
#[derive(Debug, Clone)]
pub struct StmtErr {
    pub message: String,
    pub code: String,
}

impl StmtErr {
    fn new(message: impl Into<String>, code: &str) -> Self {
        StmtErr {
            message: message.into(),
            code: code.to_string(),
        }
    }

    pub fn json(&self) -> Json {
        json!({"message": self.message, "code": self.code})
    }

    fn from_prepare(e: SqlError) -> Self {
        if e.offset >= 0 {
            StmtErr::new(
                format!("SQL input error: {} (at offset {})", e.message, e.offset),
                "SQL_INPUT_ERROR",
            )
        } else {
            Self::from_run(e)
        }
    }

    fn from_run(e: SqlError) -> Self {
        StmtErr::new(
            format!("SQLite error: {}", e.message),
            code_name(e.primary()),
        )
    }

    fn too_large() -> Self {
        StmtErr::new("Response is too large", "RESPONSE_TOO_LARGE")
    }
}

#[derive(Clone, Copy)]
pub struct Ctx {
    pub v3: bool,
    pub max_response: u64,
}

fn resolve_sql<'a>(
    sql: Option<&'a str>,
    sql_id: Option<i32>,
    sqls: &'a HashMap<i32, String>,
) -> Result<&'a str, ProtoErr> {
    match (sql, sql_id) {
        (Some(s), None) => Ok(s),
        (None, Some(id)) => sqls
            .get(&id)
            .map(|s| s.as_str())
            .ok_or_else(|| format!("SQL text {id} not found")),
        (Some(_), Some(_)) => Err("Either `sql` or `sql_id` are required, but not both".into()),
        (None, None) => Err("Either `sql` or `sql_id` are required".into()),
    }
}

/// One executed statement's outcome; the inner error is reported in the result.
type StepOutcome = Result<Json, StmtErr>;

/// Receives the rows of a statement as they are produced.
trait RowSink {
    fn cols(&mut self, cols: &[(String, Option<String>)]);
    /// Returns whether to go on.
    fn row(&mut self, row: Vec<Json>) -> bool;
}

struct Collect {
    cols: Vec<Json>,
    rows: Vec<Json>,
}

impl RowSink for Collect {
    fn cols(&mut self, cols: &[(String, Option<String>)]) {
        self.cols = cols
            .iter()
            .map(|(n, d)| json!({"name": n, "decltype": d}))
            .collect();
    }
    fn row(&mut self, row: Vec<Json>) -> bool {
        self.rows.push(Json::Array(row));
        true
    }
}

/// Prepares exactly one statement from `sql` and binds the arguments.
fn prepare_one<'c>(
    conn: &'c Conn,
    sql: &str,
    stmt: Option<&Stmt>,
) -> Result<crate::db::Stmt<'c>, StmtErr> {
    let (prepared, tail) = match conn.prepare(sql) {
        Ok(Some(x)) => x,
        Ok(None) => {
            return Err(StmtErr::new(
                "SQL string does not contain any statement",
                "SQL_NO_STATEMENT",
            ));
        }
        Err(e) => return Err(StmtErr::from_prepare(e)),
    };
    if !matches!(conn.prepare(&sql[tail..]), Ok(None)) {
        return Err(StmtErr::new(
            "SQL string contains more than one statement",
            "SQL_MANY_STATEMENTS",
        ));
    }
    let Some(stmt) = stmt else {
        return Ok(prepared);
    };
    let bad_args = |m: String| {
        StmtErr::new(
            format!("Arguments do not match SQL parameters: {m}"),
            "ARGS_INVALID",
        )
    };
    if !stmt.args.is_empty() && !stmt.named_args.is_empty() {
        return Err(StmtErr::new(
            "Specifying both positional and named arguments is not supported",
            "ARGS_BOTH_POSITIONAL_AND_NAMED",
        ));
    }
    let count = prepared.param_count();
    if stmt.args.len() > count {
        return Err(bad_args(format!(
            "{} arguments given, the statement has {count} parameters",
            stmt.args.len()
        )));
    }
    for (i, a) in stmt.args.iter().enumerate() {
        let v = to_val(a).map_err(bad_args)?;
        prepared.bind(i + 1, &v).map_err(StmtErr::from_run)?;
    }
    for na in &stmt.named_args {
        let mut idx = prepared.param_index(&na.name);
        if idx == 0 && !na.name.starts_with([':', '@', '$', '?']) {
            for p in [":", "@", "$"] {
                idx = prepared.param_index(&format!("{p}{}", na.name));
                if idx != 0 {
                    break;
                }
            }
        }
        if idx == 0 {
            return Err(bad_args(format!("unknown parameter name {:?}", na.name)));
        }
        let v = to_val(&na.value).map_err(bad_args)?;
        prepared.bind(idx, &v).map_err(StmtErr::from_run)?;
    }
    Ok(prepared)
}

/// Runs one statement. `budget` is the remaining response-size allowance.
fn run_stmt(
    conn: &Conn,
    slot: &ConnSlot,
    stmt: &Stmt,
    sqls: &HashMap<i32, String>,
    budget: &mut u64,
    sink: &mut dyn RowSink,
) -> Result<Result<(u64, i64), StmtErr>, ProtoErr> {
    let sql = resolve_sql(stmt.sql.as_deref(), stmt.sql_id, sqls)?;
    if slot.timed_out.swap(false, Ordering::SeqCst) {
        return Ok(Err(StmtErr::new(
            "Transaction timed out",
            "TRANSACTION_TIMEOUT",
        )));
    }
    let res = (|| {
        let prepared = prepare_one(conn, sql, Some(stmt))?;
        let want_rows = stmt.want_rows.unwrap_or(true);
        let n = prepared.column_count();
        let cols: Vec<(String, Option<String>)> = (0..n)
            .map(|i| {
                (
                    prepared.column_name(i).unwrap_or_default(),
                    prepared.column_decltype(i),
                )
            })
            .collect();
        let cols_size: u64 = cols.iter().map(|(n, d)| col_size(n, d.as_deref())).sum();
        if cols_size > *budget {
            return Err(StmtErr::too_large());
        }
        *budget -= cols_size;
        sink.cols(&cols);
        let before = conn.total_changes();
        while prepared.step().map_err(StmtErr::from_run)? {
            if !want_rows {
                continue;
            }
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                let v = prepared.column_value(i);
                let size = val_size(&v);
                if size > *budget {
                    return Err(StmtErr::too_large());
                }
                *budget -= size;
                row.push(val_json(&v));
            }
            if !sink.row(row) {
                return Err(StmtErr::new("the client went away", "CLIENT_GONE"));
            }
        }
        drop(prepared);
        let affected = if conn.total_changes() != before {
            conn.changes()
        } else {
            0
        };
        Ok((affected, conn.last_insert_rowid()))
    })();
    slot.note_txn_state(conn);
    Ok(res)
}

fn execute_json(
    conn: &Conn,
    slot: &ConnSlot,
    stmt: &Stmt,
    sqls: &HashMap<i32, String>,
    budget: &mut u64,
) -> Result<StepOutcome, ProtoErr> {
    let mut sink = Collect {
        cols: Vec::new(),
        rows: Vec::new(),
    };
    Ok(
        run_stmt(conn, slot, stmt, sqls, budget, &mut sink)?.map(|(affected, rowid)| {
            json!({
                "cols": sink.cols,
                "rows": sink.rows,
                "affected_row_count": affected,
                "last_insert_rowid": rowid.to_string(),
            })
        }),
    )
}

fn check_conds(batch: &Batch) -> Result<(), ProtoErr> {
    fn ok(c: &Cond, cur: u32) -> bool {
        match c {
            Cond::Ok { step } | Cond::Error { step } => *step < cur,
            Cond::Not { cond } => ok(cond, cur),
            Cond::And { conds } | Cond::Or { conds } => conds.iter().all(|c| ok(c, cur)),
            Cond::IsAutocommit {} => true,
        }
    }
    for (i, s) in batch.steps.iter().enumerate() {
        if let Some(c) = &s.condition
            && !ok(c, i as u32)
        {
            return Err("Invalid reference to step in a batch condition".into());
        }
    }
    Ok(())
}

fn eval(c: &Cond, outcomes: &[Option<bool>], conn: &Conn) -> bool {
    match c {
        Cond::Ok { step } => outcomes[*step as usize] == Some(true),
        Cond::Error { step } => outcomes[*step as usize] == Some(false),
        Cond::Not { cond } => !eval(cond, outcomes, conn),
        Cond::And { conds } => conds.iter().all(|c| eval(c, outcomes, conn)),
        Cond::Or { conds } => conds.iter().any(|c| eval(c, outcomes, conn)),
        Cond::IsAutocommit {} => conn.is_autocommit(),
    }
}

fn batch_json(
    conn: &Conn,
    slot: &ConnSlot,
    batch: &Batch,
    sqls: &HashMap<i32, String>,
    ctx: Ctx,
) -> Result<Json, ProtoErr> {
    check_conds(batch)?;
    let mut budget = ctx.max_response;
    let mut outcomes = Vec::with_capacity(batch.steps.len());
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for step in &batch.steps {
        let run = step
            .condition
            .as_ref()
            .is_none_or(|c| eval(c, &outcomes, conn));
        if !run {
            outcomes.push(None);
            results.push(Json::Null);
            errors.push(Json::Null);
            continue;
        }
        match execute_json(conn, slot, &step.stmt, sqls, &mut budget)? {
            Ok(r) => {
                outcomes.push(Some(true));
                results.push(r);
                errors.push(Json::Null);
            }
            Err(e) => {
                outcomes.push(Some(false));
                results.push(Json::Null);
                errors.push(e.json());
            }
        }
    }
    Ok(json!({"step_results": results, "step_errors": errors}))
}

fn sequence(conn: &Conn, slot: &ConnSlot, sql: &str) -> Result<(), StmtErr> {
    if slot.timed_out.swap(false, Ordering::SeqCst) {
        return Err(StmtErr::new("Transaction timed out", "TRANSACTION_TIMEOUT"));
    }
    run_all(conn, slot, sql)
}

/// Runs every statement of `sql` in turn, stopping at the first failure.
fn run_all(conn: &Conn, slot: &ConnSlot, sql: &str) -> Result<(), StmtErr> {
    let mut rest = sql;
    let res = loop {
        match conn.prepare(rest) {
            Ok(None) => break Ok(()),
            Err(e) => break Err(StmtErr::from_prepare(e)),
            Ok(Some((stmt, tail))) => {
                let r = loop {
                    match stmt.step() {
                        Ok(true) => {}
                        Ok(false) => break Ok(()),
                        Err(e) => break Err(StmtErr::from_run(e)),
                    }
                };
                drop(stmt);
                slot.note_txn_state(conn);
                if let Err(e) = r {
                    break Err(e);
                }
                rest = &rest[tail..];
            }
        }
    };
    slot.note_txn_state(conn);
    res
}

fn describe(conn: &Conn, sql: &str) -> Result<Json, StmtErr> {
    let stmt = prepare_one(conn, sql, None)?;
    let params: Vec<Json> = (1..=stmt.param_count())
        .map(|i| json!({"name": stmt.param_name(i)}))
        .collect();
    let cols: Vec<Json> = (0..stmt.column_count())
        .map(|i| json!({"name": stmt.column_name(i).unwrap_or_default(), "decltype": stmt.column_decltype(i)}))
        .collect();
    Ok(json!({
        "params": params,
        "cols": cols,
        "is_explain": stmt.is_explain(),
        "is_readonly": stmt.readonly(),
    }))
}

fn ok(resp: Json) -> Json {
    json!({"type": "ok", "response": resp})
}

fn err(e: StmtErr) -> Json {
    json!({"type": "error", "error": e.json()})
}

/// Runs `sql` on the stream's connection inside its open transaction,
/// outside the protocol (the `tamper` fault); a stream without a
/// transaction is left alone.
pub fn tamper(stream: &Stream, sql: &str) {
    let Some(slot) = stream.slot.clone() else {
        return;
    };
    let guard = slot.conn.lock().unwrap();
    let Some(conn) = guard.as_ref() else { return };
    if conn.is_autocommit() {
        return;
    }
    // A statement on a table not there yet does nothing.
    let _ = run_all(conn, &slot, sql);
}

/// Handles the requests of one pipeline on `stream`, in order.
pub fn pipeline(
    stream: &mut Stream,
    mgr: &Arc<LockMgr>,
    requests: Vec<StreamRequest>,
    ctx: Ctx,
) -> Result<Vec<Json>, ProtoErr> {
    let mut results = Vec::with_capacity(requests.len());
    for req in requests {
        if let StreamRequest::Close {} = req {
            stream.close(mgr);
            results.push(ok(json!({"type": "close"})));
            continue;
        }
        match req {
            StreamRequest::StoreSql { sql_id, sql } => {
                if stream.sqls.contains_key(&sql_id) {
                    return Err(format!("SQL text {sql_id} already exists"));
                } else if stream.sqls.len() >= MAX_SQL_COUNT {
                    results.push(err(StmtErr::new(
                        format!(
                            "The server already stores {} SQL texts, it cannot store more",
                            stream.sqls.len()
                        ),
                        "SQL_STORE_TOO_MANY",
                    )));
                } else if sql.len() > MAX_STORED_SQL_SIZE {
                    results.push(err(StmtErr::new(
                        format!(
                            "The statement is too large to be stored: {} B/5.0 KB",
                            sql.len()
                        ),
                        "SQL_STORE_TOO_LARGE",
                    )));
                } else {
                    stream.sqls.insert(sql_id, sql);
                    results.push(ok(json!({"type": "store_sql"})));
                }
                continue;
            }
            StreamRequest::CloseSql { sql_id } => {
                stream.sqls.remove(&sql_id);
                results.push(ok(json!({"type": "close_sql"})));
                continue;
            }
            _ => {}
        }
        let slot = stream
            .slot
            .clone()
            .ok_or_else(|| "Stream for this baton was closed".to_string())?;
        let guard = slot.conn.lock().unwrap();
        let conn = guard
            .as_ref()
            .ok_or_else(|| "Stream for this baton was closed".to_string())?;
        let sqls = &stream.sqls;
        let result = match req {
            StreamRequest::Execute { stmt } => {
                let mut budget = ctx.max_response;
                match execute_json(conn, &slot, &stmt, sqls, &mut budget)? {
                    Ok(r) => ok(json!({"type": "execute", "result": r})),
                    Err(e) => err(e),
                }
            }
            StreamRequest::Batch { batch } => {
                let r = batch_json(conn, &slot, &batch, sqls, ctx)?;
                ok(json!({"type": "batch", "result": r}))
            }
            StreamRequest::Sequence { sql, sql_id } => {
                let sql = resolve_sql(sql.as_deref(), sql_id, sqls)?;
                match sequence(conn, &slot, sql) {
                    Ok(()) => ok(json!({"type": "sequence"})),
                    Err(e) => err(e),
                }
            }
            StreamRequest::Describe { sql, sql_id } => {
                let sql = resolve_sql(sql.as_deref(), sql_id, sqls)?;
                match describe(conn, sql) {
                    Ok(r) => ok(json!({"type": "describe", "result": r})),
                    Err(e) => err(e),
                }
            }
            StreamRequest::GetAutocommit {} => {
                if !ctx.v3 {
                    return Err("The `get_autocommit` request is only supported in protocol version hrana3 and higher".into());
                }
                ok(json!({"type": "get_autocommit", "is_autocommit": conn.is_autocommit()}))
            }
            StreamRequest::Close {}
            | StreamRequest::StoreSql { .. }
            | StreamRequest::CloseSql { .. } => {
                unreachable!()
            }
        };
        results.push(result);
    }
    Ok(results)
}
