//! A request to stop, from a signal (SIGINT, SIGTERM). The command line
//! installs the handler (`src/cli/signals.rs`); the database layer checks
//! the request between rows and statements and before every request to a
//! server, and a stopped operation ends through its ordinary failure path:
//! the write transaction rolls back, a half-written file is removed.
//!
//! Why not simply drop the running future when the signal comes: a local
//! operation is one synchronous call into the engine from the runtime's
//! point of view (it never yields), so only the operation itself can notice
//! in time; and a server's COMMIT must not be abandoned mid-request, or
//! nobody would know whether it was applied.

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

/// Which signal asked seedbake to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The conventional exit code: 128 + the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

static REQUESTED: AtomicU8 = AtomicU8::new(0);
static NOTIFY: Notify = Notify::const_new();

/// Asks the running operation to stop. The first signal counts.
pub fn request(signal: Signal) {
    let code = match signal {
        Signal::Interrupt => 1,
        Signal::Terminate => 2,
    };
    let _ = REQUESTED.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
    NOTIFY.notify_waiters();
}

/// Whether a stop was requested, and by which signal.
pub fn requested() -> Option<Signal> {
    match REQUESTED.load(Ordering::SeqCst) {
        1 => Some(Signal::Interrupt),
        2 => Some(Signal::Terminate),
        _ => None,
    }
}

/// Completes when a stop is requested (at once if it already was).
pub async fn requested_wait() -> Signal {
    loop {
        let notified = NOTIFY.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(signal) = requested() {
            return signal;
        }
        notified.await;
    }
}
