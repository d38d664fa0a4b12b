//! Hrana streams, batons, stream expiry and the sqld-like write-lock arbiter.

use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use crate::db::{Conn, SqlError};

/// sqld keeps an expired stream's id around for this long so that late requests
/// get "stream expired" instead of "invalid baton" (`CLEANUP` in sqld).
const CLEANUP: Duration = Duration::from_secs(300);

/// One database connection plus the bookkeeping the write-lock arbiter needs.
pub struct ConnSlot {
    pub conn: Mutex<Option<Conn>>,
    /// When this connection (first seen to) hold the write lock.
    write_since: Mutex<Option<Instant>>,
    /// Set when another stream forced a rollback of this connection's transaction.
    pub timed_out: AtomicBool,
}

impl ConnSlot {
    /// Records whether the connection holds the write lock now.
    pub fn note_txn_state(&self, conn: &Conn) {
        let mut w = self.write_since.lock().unwrap();
        if conn.in_write_txn() {
            if w.is_none() {
                *w = Some(Instant::now());
            }
        } else {
            *w = None;
        }
    }
}

/// Arbiter for the single write lock, like sqld's connection manager
/// (libsql-server `src/connection/connection_manager.rs`, with `TXN_TIMEOUT`
/// = 5 s from `src/connection/mod.rs`): a connection that wants the lock
/// waits; once the holder's transaction is older than the txn timeout, the
/// holder is rolled back and the waiter proceeds. Measured on sqld 0.24.33:
/// the waiter gets the lock 5.0 s after the holder took it.
pub struct LockMgr {
    pub txn_timeout: Duration,
    slots: Mutex<HashMap<u64, Weak<ConnSlot>>>,
    next_id: AtomicU64,
}

impl LockMgr {
    pub fn new(txn_timeout: Duration) -> Arc<Self> {
        Arc::new(LockMgr {
            txn_timeout,
            slots: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        })
    }

    /// Opens a new connection to `path`, registered with the arbiter.
    pub fn open(self: &Arc<Self>, path: &str) -> Result<(u64, Arc<ConnSlot>), SqlError> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut conn = Conn::open(path)?;
        let ctx = Box::new(BusyCtx {
            me: id,
            mgr: Arc::downgrade(self),
            wait_started: Mutex::new(None),
        });
        conn.set_busy_handler(busy_cb, Box::into_raw(ctx) as *mut c_void, drop_ctx);
        let slot = Arc::new(ConnSlot {
            conn: Mutex::new(Some(conn)),
            write_since: Mutex::new(None),
            timed_out: AtomicBool::new(false),
        });
        self.slots.lock().unwrap().insert(id, Arc::downgrade(&slot));
        Ok((id, slot))
    }

    pub fn forget(&self, id: u64) {
        self.slots.lock().unwrap().remove(&id);
    }

    /// Connections not yet closed. An expired stream stops counting as a
    /// stream at once, but its connection (and so its transaction and the
    /// write lock) lives on until a cursor still holding it lets go.
    pub fn open_connections(&self) -> usize {
        self.slots
            .lock()
            .unwrap()
            .values()
            .filter_map(Weak::upgrade)
            .filter(|slot| slot.conn.try_lock().map_or(true, |c| c.is_some()))
            .count()
    }

    /// Called from the busy handler of connection `me`. Returns whether to retry.
    fn on_busy(&self, me: u64, waited: Duration) -> bool {
        let holders: Vec<Arc<ConnSlot>> = {
            let slots = self.slots.lock().unwrap();
            slots
                .iter()
                .filter(|(id, _)| **id != me)
                .filter_map(|(_, w)| w.upgrade())
                .collect()
        };
        for slot in holders {
            let since = *slot.write_since.lock().unwrap();
            let Some(since) = since else { continue };
            if since.elapsed() < self.txn_timeout {
                continue;
            }
            // The holder's transaction is too old: roll it back, unless a request is
            // running on it right now (then try again on the next busy call).
            if let Ok(guard) = slot.conn.try_lock() {
                if let Some(conn) = guard.as_ref() {
                    conn.rollback();
                    slot.note_txn_state(conn);
                }
                slot.timed_out.store(true, Ordering::SeqCst);
                eprintln!(
                    "hrana-test-server: rolled back a write transaction older than the txn timeout"
                );
            }
        }
        // sqld waits until it can steal the lock; bound the wait so that a lock held
        // by something outside this server does not hang a request forever.
        waited < self.txn_timeout + Duration::from_secs(1)
    }
}

struct BusyCtx {
    me: u64,
    mgr: Weak<LockMgr>,
    wait_started: Mutex<Option<Instant>>,
}

unsafe extern "C" fn busy_cb(ctx: *mut c_void, n: c_int) -> c_int {
    // SAFETY: ctx is the BusyCtx installed with this handler; it lives until the
    // connection is closed.
    let ctx = unsafe { &*(ctx as *const BusyCtx) };
    let waited = {
        let mut ws = ctx.wait_started.lock().unwrap();
        if n == 0 || ws.is_none() {
            *ws = Some(Instant::now());
        }
        ws.unwrap().elapsed()
    };
    let Some(mgr) = ctx.mgr.upgrade() else {
        return 0;
    };
    if mgr.on_busy(ctx.me, waited) {
        std::thread::sleep(Duration::from_millis(2));
        1
    } else {
        0
    }
}

unsafe fn drop_ctx(ctx: *mut c_void) {
    // SAFETY: created by Box::into_raw in LockMgr::open, freed once.
    drop(unsafe { Box::from_raw(ctx as *mut BusyCtx) });
}

/// State of a Hrana-over-HTTP stream.
pub struct Stream {
    pub id: u64,
    pub conn_id: u64,
    pub slot: Option<Arc<ConnSlot>>,
    pub sqls: HashMap<i32, String>,
    seq: u64,
}

impl Stream {
    pub fn is_closed(&self) -> bool {
        self.slot.is_none()
    }

    pub fn close(&mut self, mgr: &Arc<LockMgr>) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        // Dropping the connection closes it, which rolls back an open transaction.
        // A cursor still streaming holds the connection (sqld's cursor keeps its
        // own reference): close it when the cursor ends, without making the
        // caller (the expiry clock of every stream) wait for it.
        let id = self.conn_id;
        let closed = match slot.conn.try_lock() {
            Ok(mut conn) => {
                conn.take();
                true
            }
            Err(_) => false,
        };
        if closed {
            mgr.forget(id);
        } else {
            let mgr = mgr.clone();
            std::thread::spawn(move || {
                slot.conn.lock().unwrap().take();
                mgr.forget(id);
            });
        }
    }
}

enum Handle {
    Available(Box<Stream>, Instant),
    Acquired,
    Expired(Instant),
}

pub enum AcquireError {
    BatonInvalid,
    BatonReused,
    StreamExpired,
    Open(SqlError),
}

pub struct Streams {
    handles: Mutex<HashMap<u64, Handle>>,
    key: [u8; 16],
    pub expiry: Duration,
    pub mgr: Arc<LockMgr>,
    db_path: String,
}

impl Streams {
    pub fn new(db_path: String, expiry: Duration, mgr: Arc<LockMgr>) -> Self {
        let mut key = [0u8; 16];
        let seed = random_u64() ^ 0x9e37_79b9_7f4a_7c15;
        key[..8].copy_from_slice(&random_u64().to_be_bytes());
        key[8..].copy_from_slice(&seed.to_be_bytes());
        Streams {
            handles: Mutex::new(HashMap::new()),
            key,
            expiry,
            mgr,
            db_path,
        }
    }

    fn encode_baton(&self, id: u64, seq: u64) -> String {
        let mut data = [0u8; 32];
        data[..8].copy_from_slice(&id.to_be_bytes());
        data[8..16].copy_from_slice(&seq.to_be_bytes());
        data[16..].copy_from_slice(&self.key);
        STANDARD_NO_PAD.encode(data)
    }

    fn decode_baton(&self, baton: &str) -> Option<(u64, u64)> {
        let data = STANDARD_NO_PAD.decode(baton).ok()?;
        if data.len() != 32 || data[16..] != self.key {
            return None;
        }
        let id = u64::from_be_bytes(data[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(data[8..16].try_into().ok()?);
        Some((id, seq))
    }

    /// Takes the stream named by `baton`, or opens a new one.
    pub fn acquire(&self, baton: Option<&str>) -> Result<Box<Stream>, AcquireError> {
        match baton {
            Some(b) => {
                let (id, seq) = self.decode_baton(b).ok_or(AcquireError::BatonInvalid)?;
                let mut handles = self.handles.lock().unwrap();
                let handle = handles.get_mut(&id).ok_or(AcquireError::BatonInvalid)?;
                match handle {
                    Handle::Acquired => return Err(AcquireError::BatonReused),
                    Handle::Expired(_) => return Err(AcquireError::StreamExpired),
                    Handle::Available(s, _) if s.seq != seq => {
                        return Err(AcquireError::BatonReused);
                    }
                    Handle::Available(..) => {}
                }
                let Handle::Available(mut stream, _) = std::mem::replace(handle, Handle::Acquired)
                else {
                    unreachable!()
                };
                stream.seq = stream.seq.wrapping_add(1);
                Ok(stream)
            }
            None => {
                let (conn_id, slot) = self.mgr.open(&self.db_path).map_err(AcquireError::Open)?;
                let mut handles = self.handles.lock().unwrap();
                let mut id = random_u64();
                while handles.contains_key(&id) {
                    id = random_u64();
                }
                handles.insert(id, Handle::Acquired);
                Ok(Box::new(Stream {
                    id,
                    conn_id,
                    slot: Some(slot),
                    sqls: HashMap::new(),
                    seq: random_u64(),
                }))
            }
        }
    }

    /// Puts the stream back; returns its next baton, or `None` if it was closed.
    pub fn release(&self, stream: Box<Stream>) -> Option<String> {
        let mut handles = self.handles.lock().unwrap();
        if stream.is_closed() {
            handles.remove(&stream.id);
            return None;
        }
        let baton = self.encode_baton(stream.id, stream.seq);
        let id = stream.id;
        handles.insert(id, Handle::Available(stream, Instant::now()));
        Some(baton)
    }

    /// Drops a stream after a protocol error (sqld removes it too).
    pub fn discard(&self, mut stream: Stream) {
        stream.close(&self.mgr);
        self.handles.lock().unwrap().remove(&stream.id);
    }

    /// Expires streams idle for longer than the expiry (sqld: 10 s,
    /// `EXPIRATION` in libsql-server `src/hrana/http/stream.rs`), whatever
    /// other streams are doing: their connections are closed (rolling back).
    /// A cursor releases its stream when it starts (`http.rs`), so a stream
    /// whose cursor streams for longer expires too, as on sqld.
    pub fn expire(&self) {
        let now = Instant::now();
        let mut dead = Vec::new();
        {
            let mut handles = self.handles.lock().unwrap();
            let ids: Vec<u64> = handles.keys().copied().collect();
            for id in ids {
                let h = handles.get_mut(&id).unwrap();
                match h {
                    Handle::Available(_, at) if now.duration_since(*at) >= self.expiry => {
                        if let Handle::Available(s, _) = std::mem::replace(h, Handle::Expired(now))
                        {
                            dead.push(s);
                        }
                    }
                    Handle::Expired(at) if now.duration_since(*at) >= CLEANUP => {
                        handles.remove(&id);
                    }
                    _ => {}
                }
            }
        }
        for mut s in dead {
            s.close(&self.mgr);
        }
    }

    /// Closes every stream (server shutdown).
    pub fn close_all(&self) {
        let all: Vec<Handle> = self
            .handles
            .lock()
            .unwrap()
            .drain()
            .map(|(_, h)| h)
            .collect();
        for h in all {
            if let Handle::Available(mut s, _) = h {
                s.close(&self.mgr);
            }
        }
    }

    pub fn open_count(&self) -> usize {
        self.handles
            .lock()
            .unwrap()
            .values()
            .filter(|h| !matches!(h, Handle::Expired(_)))
            .count()
    }
}

/// A non-cryptographic random number (std's SipHash keys are seeded randomly).
pub fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
