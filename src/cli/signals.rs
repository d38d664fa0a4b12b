//! SIGINT and SIGTERM. The first signal asks the running operation to stop
//! (`seedbake::interrupt`): it stops between rows or requests, rolls its
//! transaction back and removes what it half wrote, and seedbake exits 130
//! (SIGINT) or 143 (SIGTERM) with one line saying what stopped. A second
//! signal ends seedbake at once (a local transaction is still undone, by
//! the engine's journal; a server drops an abandoned one).
//!
//! The handler is installed only once nothing more is asked of the
//! operator: at a prompt, Ctrl-C ends seedbake the ordinary way (nothing
//! has started, and the terminal's echo is restored by the shell).

use std::io::Write;
use std::sync::Once;

use seedbake::interrupt::{self, Signal};

/// SIGXFSZ: a write past the file size limit (`ulimit -f`) would end
/// seedbake at once (the signal's default), leaving a half-written file
/// behind. Handled (and never acted on), the write fails instead (EFBIG),
/// and the file is removed and the error told as any full disk's. Must
/// run inside the runtime; the handler stays for the process's life.
pub fn file_size_limit_fails_writes() {
    // SIGXFSZ on Linux (x86, ARM): tokio names no constant for it.
    const SIGXFSZ: i32 = 25;
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(SIGXFSZ));
}

/// Installs the handler, once; returns when it is in place.
pub fn arm() {
    static ARMED: Once = Once::new();
    ARMED.call_once(|| {
        let (ready, installed) = std::sync::mpsc::channel::<()>();
        // Its own thread and runtime: the command's runtime may be busy in
        // a long synchronous call into the engine when the signal comes.
        let spawned = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                else {
                    return;
                };
                runtime.block_on(watch(ready));
            });
        if spawned.is_ok() {
            // An error means the thread could not install it: seedbake
            // then keeps the default (end at once), which is still safe.
            let _ = installed.recv();
        }
    });
}

async fn watch(ready: std::sync::mpsc::Sender<()>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let _ = ready.send(());
    drop(ready);
    loop {
        let got = tokio::select! {
            _ = int.recv() => Signal::Interrupt,
            _ = term.recv() => Signal::Terminate,
        };
        if let Some(first) = interrupt::requested() {
            let _ = writeln!(
                std::io::stderr(),
                "error: {} again: stopping at once",
                got.name()
            );
            std::process::exit(i32::from(first.exit_code()));
        }
        interrupt::request(got);
    }
}
