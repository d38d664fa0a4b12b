//! Cursors: a batch checked against its stream, then run from a thread of
//! its own, its entries streamed line by line as the client reads them; and
//! the response bodies (whole, streamed, or never ending).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Frame, SizeHint};

use super::*;

/// A cursor request checked against its stream, ready to run once the
/// stream is released: sqld refuses a bad batch (400) before it streams
/// anything, then hands the batch and the stream's connection to a task of
/// its own and releases the stream at once (libsql-server
/// `src/hrana/http/mod.rs`, `handle_cursor`: `get_db_owned()`, then
/// `stream_guard.release()`), so the stream's idle clock runs while the
/// cursor streams.
pub struct Cursor {
    slot: Arc<ConnSlot>,
    steps: Vec<(Option<Cond>, Stmt)>,
}

pub fn open_cursor(stream: &Stream, batch: &Batch) -> Result<Cursor, ProtoErr> {
    check_conds(batch)?;
    let slot = stream
        .slot
        .clone()
        .ok_or_else(|| "Stream for this baton was closed".to_string())?;
    let mut steps = Vec::with_capacity(batch.steps.len());
    for step in &batch.steps {
        let sql = resolve_sql(step.stmt.sql.as_deref(), step.stmt.sql_id, &stream.sqls)?;
        let mut stmt = step.stmt.clone();
        stmt.sql = Some(sql.to_owned());
        stmt.sql_id = None;
        steps.push((step.condition.clone(), stmt));
    }
    Ok(Cursor { slot, steps })
}

/// Runs a cursor, handing each entry to `emit` as soon as it exists, one
/// row at a time, as sqld does (libsql-server `src/hrana/cursor.rs`: one
/// entry per row through a channel of one). Unlike an execute, a cursor's
/// answer has no size cap there. Stops early when `emit` says the client
/// went away.
pub fn run_cursor(cursor: Cursor, emit: &mut dyn FnMut(&Json) -> bool) {
    // The connection stays held for the whole cursor: another request on the
    // same stream waits, as it waits for sqld's connection lock.
    let guard = cursor.slot.conn.lock().unwrap();
    let Some(conn) = guard.as_ref() else {
        emit(
            &json!({"type": "error", "error": {"message": "Stream for this baton was closed", "code": "STREAM_CLOSED"}}),
        );
        return;
    };
    struct Entries<'a> {
        emit: &'a mut dyn FnMut(&Json) -> bool,
        step: usize,
        gone: bool,
    }
    impl RowSink for Entries<'_> {
        fn cols(&mut self, cols: &[(String, Option<String>)]) {
            let cols: Vec<Json> = cols
                .iter()
                .map(|(n, d)| json!({"name": n, "decltype": d}))
                .collect();
            self.gone |=
                !(self.emit)(&json!({"type": "step_begin", "step": self.step, "cols": cols}));
        }
        fn row(&mut self, row: Vec<Json>) -> bool {
            self.gone |= !(self.emit)(&json!({"type": "row", "row": row}));
            !self.gone
        }
    }
    let mut outcomes = Vec::new();
    let no_sqls = HashMap::new();
    for (i, (condition, stmt)) in cursor.steps.iter().enumerate() {
        let run = condition.as_ref().is_none_or(|c| eval(c, &outcomes, conn));
        if !run {
            outcomes.push(None);
            continue;
        }
        let mut sink = Entries {
            emit: &mut *emit,
            step: i,
            gone: false,
        };
        let mut unlimited = u64::MAX;
        let outcome = match run_stmt(
            conn,
            &cursor.slot,
            stmt,
            &no_sqls,
            &mut unlimited,
            &mut sink,
        ) {
            Ok(outcome) => outcome,
            Err(never) => unreachable!("SQL was resolved before: {never}"),
        };
        if sink.gone {
            return;
        }
        let entry = match outcome {
            Ok((affected, rowid)) => {
                outcomes.push(Some(true));
                json!({
                    "type": "step_end",
                    "affected_row_count": affected,
                    "last_insert_rowid": rowid.to_string(),
                })
            }
            Err(e) => {
                outcomes.push(Some(false));
                json!({"type": "step_error", "step": i, "error": e.json()})
            }
        };
        if !emit(&entry) {
            return;
        }
    }
}

/// A response body: whole, streamed line by line (a cursor), or (fault
/// injection) never ending.
pub enum Body {
    Full(Full<Bytes>),
    Lines(tokio::sync::mpsc::Receiver<Bytes>),
    Endless,
}

static SPACES: [u8; 1 << 16] = [b' '; 1 << 16];

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Full(full) => Pin::new(full).poll_frame(cx),
            Body::Lines(rx) => rx
                .poll_recv(cx)
                .map(|line| line.map(|l| Ok(Frame::data(l)))),
            Body::Endless => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&SPACES))))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(full) => full.is_end_stream(),
            Body::Lines(_) | Body::Endless => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(full) => full.size_hint(),
            Body::Lines(_) | Body::Endless => SizeHint::default(),
        }
    }
}

/// Streams `first` (the baton line), then the cursor's entries, one line
/// each, from a thread of its own; the client's reading paces it.
pub fn stream_cursor(first: Vec<u8>, cursor: Cursor) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    std::thread::spawn(move || {
        if tx.blocking_send(Bytes::from(first)).is_err() {
            return;
        }
        run_cursor(cursor, &mut |entry| {
            let mut line = serde_json::to_vec(entry).unwrap();
            line.push(b'\n');
            tx.blocking_send(Bytes::from(line)).is_ok()
        });
    });
    Body::Lines(rx)
}
