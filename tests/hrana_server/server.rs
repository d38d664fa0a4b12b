//! hrana-test-server: a small Hrana-over-HTTP server (a stand-in for sqld) backed
//! by a real libSQL database file, for tests that drive the `libsql` remote client.
//!
//! Everything lives in this folder: `main.rs` is the root, the modules are its
//! sibling files.

mod config;
mod db;
mod exec;
mod http;
mod proto;
mod streams;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::config::Args;
use crate::streams::{LockMgr, Streams};

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("hrana-test-server: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // sqld runs its databases in WAL mode; set it once (it is persistent).
    {
        let conn =
            db::Conn::open(&args.db).map_err(|e| format!("open {}: {}", args.db, e.message))?;
        conn.exec("PRAGMA journal_mode=WAL")
            .map_err(|e| format!("enable WAL: {}", e.message))?;
    }
    let mgr = LockMgr::new(Duration::from_millis(args.txn_timeout_ms));
    let streams = Arc::new(Streams::new(
        args.db.clone(),
        Duration::from_millis(args.stream_expiry_ms),
        mgr,
    ));

    let listener = TcpListener::bind(&args.listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
    }

    // Stream expiry: check often enough for short test clocks.
    {
        let streams = streams.clone();
        let tick = Duration::from_millis((args.stream_expiry_ms / 10).clamp(5, 250));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let s = streams.clone();
                let _ = tokio::task::spawn_blocking(move || s.expire()).await;
            }
        });
    }

    let app = Arc::new(http::App::new(args, streams.clone()));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, _) = match accepted {
                    Ok(x) => x,
                    Err(_) => continue,
                };
                let _ = tcp.set_nodelay(true);
                let app = app.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| app.clone().handle(req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), svc)
                        .await;
                });
            }
        }
    }
    // Close every idle stream: closing a connection rolls back its transaction.
    let s = streams.clone();
    tokio::task::spawn_blocking(move || s.close_all()).await?;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
