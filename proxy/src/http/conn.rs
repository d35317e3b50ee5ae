//! One caller connection: a byte-counting socket wrapper that can end in a TCP reset, served by
//! hyper's HTTP/1.1 server until it ends, a fault resets it, or the proxy goes down.

use super::{handler, Shared, State};
use crate::http::stats::Counters;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};

/// Shared between a connection's task and the requests on it.
pub(crate) struct ConnCtl {
    reset: AtomicBool,
    killed: AtomicBool,
    notify: Notify,
    /// Requests on this connection whose exchange has not ended.
    busy: AtomicU32,
    /// When `busy` last dropped to zero, in ms since `start`.
    idle_since_ms: AtomicU64,
    start: Instant,
}

/// Marks a request in progress; the connection counts as idle again once every guard is gone.
pub(crate) struct BusyGuard(Arc<ConnCtl>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            let now = self.0.start.elapsed().as_millis() as u64;
            self.0.idle_since_ms.store(now, Ordering::Release);
        }
    }
}

impl ConnCtl {
    fn new() -> ConnCtl {
        ConnCtl {
            reset: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            notify: Notify::new(),
            busy: AtomicU32::new(0),
            idle_since_ms: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    pub fn enter(self: &Arc<Self>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::AcqRel);
        BusyGuard(self.clone())
    }

    /// No request in progress for `limit`: the caller has not sent a complete head in time.
    fn idle_for(&self, limit: Duration) -> bool {
        if self.busy.load(Ordering::Acquire) > 0 {
            return false;
        }
        let since = self.idle_since_ms.load(Ordering::Acquire);
        let now = self.start.elapsed().as_millis() as u64;
        now.saturating_sub(since) >= limit.as_millis() as u64
    }

    /// Ends the connection now with a TCP RST (SO_LINGER 0), without a response.
    pub fn reset_now(&self) {
        self.reset.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// True once the proxy itself dropped this connection (down or stop).
    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.reset.store(true, Ordering::Release);
    }
}

/// Serves one accepted connection; `permit` holds its slot under `max_connections`.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    permit: OwnedSemaphorePermit,
    mut state: watch::Receiver<State>,
) {
    let _permit = permit;
    let ctl = Arc::new(ConnCtl::new());
    let epoch = state.borrow_and_update().epoch;
    let _open = OpenGuard::new(&shared);
    let io = TokioIo::new(CountingIo {
        stream,
        ctl: ctl.clone(),
        shared: shared.clone(),
    });
    let svc_shared = shared.clone();
    let svc_ctl = ctl.clone();
    let service = service_fn(move |req| {
        let busy = svc_ctl.enter();
        let handled = handler::handle(svc_shared.clone(), svc_ctl.clone(), req);
        async move {
            let mut resp = handled.await?;
            resp.body_mut().hold(busy);
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    // The header read timeout is ours, not hyper's: hyper re-arms a timer on every request,
    // which costs a runtime wake-up (an eventfd write) per request. One coarse ticker per
    // connection cuts off callers that stay idle or send a head too slowly.
    let limit = shared.header_read_timeout;
    let period = (limit / 4).max(Duration::from_millis(5));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = ctl.notify.notified() => return,
            _ = ticker.tick() => if ctl.idle_for(limit) { return },
            changed = state.changed() => {
                let gone = changed.is_err() || {
                    let s = *state.borrow_and_update();
                    s.stopped || s.epoch != epoch
                };
                if gone {
                    ctl.kill();
                    return;
                }
            }
        }
    }
}

struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: &Arc<Shared>) -> OpenGuard {
        Counters::inc(&shared.counters.open_connections);
        OpenGuard(shared.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0
            .counters
            .open_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The caller's socket, counting bytes; on drop after `reset_now`/`kill` it sends a RST.
struct CountingIo {
    stream: TcpStream,
    ctl: Arc<ConnCtl>,
    shared: Arc<Shared>,
}

impl Drop for CountingIo {
    fn drop(&mut self) {
        if self.ctl.reset.load(Ordering::Acquire) {
            // Zero linger makes close() send RST instead of FIN: an abrupt reset, never a block.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for CountingIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.stream).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        if n > 0 {
            self.shared
                .counters
                .bytes_in
                .fetch_add(n, Ordering::Relaxed);
        }
        res
    }
}

impl AsyncWrite for CountingIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = res {
            self.shared
                .counters
                .bytes_out
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = res {
            self.shared
                .counters
                .bytes_out
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
