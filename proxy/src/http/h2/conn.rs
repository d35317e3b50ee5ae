//! One HTTP/2 caller connection (h2c prior knowledge, or TLS with ALPN h2 when the proxy has a
//! certificate; a TLS handshake must end within `TLS_HANDSHAKE`): hyper's HTTP/2 server runs each
//! stream as its own task through `stream::handle`; this task ends the connection when the
//! caller closes it, when the proxy goes down or stops (dropped abruptly, like HTTP/1.1's), or
//! when a per-stream `down` fault asks for it.

use super::stream;
use crate::http::stats::Counters;
use crate::http::{Shared, State};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};

/// A caller that does not finish its TLS handshake in this long is dropped.
const TLS_HANDSHAKE: Duration = Duration::from_secs(10);

/// Shared between a connection's task and the records of its streams.
pub(crate) struct H2Conn {
    /// The proxy dropped this connection itself (down, stop, a `down` fault).
    killed: AtomicBool,
    kill: Notify,
    closed: watch::Sender<bool>,
}

impl H2Conn {
    fn new() -> H2Conn {
        H2Conn {
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            closed: watch::channel(false).0,
        }
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Drops the connection (every open stream with it).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill.notify_one();
    }

    pub fn closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// True if the connection closes within `grace`.
    pub async fn wait_closed(&self, grace: Duration) -> bool {
        let mut rx = self.closed.subscribe();
        let closed = tokio::time::timeout(grace, rx.wait_for(|c| *c)).await;
        matches!(closed, Ok(Ok(_)))
    }
}

/// Serves one accepted connection; `permit` holds its slot under `max_connections`.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    tcp: TcpStream,
    permit: OwnedSemaphorePermit,
    mut state: watch::Receiver<State>,
) {
    let _permit = permit;
    let Some(tls) = shared.h2_tls.clone() else {
        return serve_io(shared, tcp, state).await;
    };
    let accepted = tokio::select! {
        a = tokio::time::timeout(TLS_HANDSHAKE, tls.acceptor.accept(tcp)) => a,
        _ = state.changed() => return,
    };
    if let Ok(Ok(stream)) = accepted {
        serve_io(shared, stream, state).await;
    }
}

async fn serve_io<I>(shared: Arc<Shared>, io: I, mut state: watch::Receiver<State>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let epoch = state.borrow_and_update().epoch;
    Counters::inc(&shared.counters.open_connections);
    let conn = Arc::new(H2Conn::new());
    let svc = {
        let (shared, conn) = (shared.clone(), conn.clone());
        service_fn(move |req| stream::handle(shared.clone(), conn.clone(), req))
    };
    let served = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(served);
    loop {
        tokio::select! {
            biased;
            _ = served.as_mut() => break,
            _ = conn.kill.notified() => break,
            changed = state.changed() => {
                let gone = changed.is_err() || {
                    let s = *state.borrow_and_update();
                    s.stopped || s.epoch != epoch
                };
                if gone {
                    conn.killed.store(true, Ordering::Release);
                    break;
                }
            }
        }
    }
    conn.closed.send_replace(true);
    shared
        .counters
        .open_connections
        .fetch_sub(1, Ordering::Relaxed);
}
