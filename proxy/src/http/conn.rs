//! One caller connection: its requests served one after another in this task until the caller
//! closes, a fault ends it, the header timeout cuts off an idle or slow caller, or the proxy
//! goes down (which drops it with a RST).

use super::answer::{closing, plain};
use super::caller::Caller;
use super::exchange::{self, Next};
use super::head::{RequestHead, MAX_HEAD};
use super::{Shared, State};
use crate::http::stats::Counters;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};

/// Shared between a connection's task and the records of its requests.
pub(crate) struct ConnCtl {
    reset: AtomicBool,
    killed: AtomicBool,
    /// A request is in progress (exempt from the header timeout).
    busy: AtomicU32,
    /// When `busy` last dropped to zero, in ms since `start`.
    idle_since_ms: AtomicU64,
    start: Instant,
    /// The cap needs this connection's slot (see `shed.rs`).
    shed: AtomicBool,
    shed_notify: tokio::sync::Notify,
}

/// Marks a request in progress; the connection counts as idle again once it is dropped.
struct BusyGuard<'a>(&'a ConnCtl);

impl Drop for BusyGuard<'_> {
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
            busy: AtomicU32::new(0),
            idle_since_ms: AtomicU64::new(0),
            start: Instant::now(),
            shed: AtomicBool::new(false),
            shed_notify: tokio::sync::Notify::new(),
        }
    }

    /// How long no request has been in progress; None while one is.
    pub(crate) fn idle_age(&self) -> Option<Duration> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let since = self.idle_since_ms.load(Ordering::Acquire);
        let now = self.start.elapsed().as_millis() as u64;
        Some(Duration::from_millis(now.saturating_sub(since)))
    }

    pub(crate) fn shed_asked(&self) -> bool {
        self.shed.load(Ordering::Acquire)
    }

    /// Asks the connection's task to close it (if it is still idle when it looks).
    pub(crate) fn ask_to_shed(&self) {
        self.shed.store(true, Ordering::Release);
        self.shed_notify.notify_one();
    }

    fn enter(&self) -> BusyGuard<'_> {
        self.busy.fetch_add(1, Ordering::AcqRel);
        BusyGuard(self)
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

    /// The socket is closed with a TCP RST (SO_LINGER 0) when dropped.
    pub fn mark_reset(&self) {
        self.reset.store(true, Ordering::Release);
    }

    pub fn reset_requested(&self) -> bool {
        self.reset.load(Ordering::Acquire)
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
    let _listed = shared.conns.register(ctl.clone());
    let caller = Caller::new(stream, shared.clone(), ctl.clone());
    // The header read timeout is a coarse ticker per connection rather than a timer armed per
    // request: it cuts off callers that stay idle or send a head too slowly.
    let limit = shared.header_read_timeout;
    let period = (limit / 4).max(Duration::from_millis(5));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let requests = serve_requests(&shared, &ctl, caller);
    tokio::pin!(requests);
    loop {
        tokio::select! {
            biased;
            _ = requests.as_mut() => return,
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
            _ = ctl.shed_notify.notified() => {
                // A request may have started since it was chosen: then it keeps its slot.
                if ctl.idle_age().is_some() {
                    Counters::inc(&shared.counters.connections_shed);
                    return;
                }
                ctl.shed.store(false, Ordering::Release);
            }
        }
    }
}

async fn serve_requests(shared: &Arc<Shared>, ctl: &Arc<ConnCtl>, mut caller: Caller) {
    let mut out = Vec::with_capacity(1024);
    loop {
        let head = match read_head(&mut caller).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err((status, why)) => {
                let msg = format!("redline-proxy {}: {why}\n", shared.name);
                plain(status, &msg, &[], closing(true), &mut out);
                if caller.write_all(&out).await.is_ok() {
                    caller.lingering_close().await;
                }
                return;
            }
        };
        let busy = ctl.enter();
        let next = exchange::run(shared, ctl, &mut caller, head, &mut out).await;
        drop(busy);
        match next {
            Next::KeepAlive => {}
            Next::Close => return,
            Next::Linger => return caller.lingering_close().await,
            Next::Reset => {
                caller.reset_on_drop();
                return;
            }
        }
    }
}

/// The next request head; `Ok(None)` when the caller closed between requests. A head that
/// arrives in pieces is parsed again only once its end has arrived (or it grew too large), so a
/// caller sending a byte at a time costs a scan of the new bytes, not of the whole head.
async fn read_head(caller: &mut Caller) -> Result<Option<RequestHead>, (u16, String)> {
    // Bytes of `buf` already known not to contain the end of the head.
    let mut scanned: Option<usize> = None;
    loop {
        let len = caller.buf.len();
        let worth_parsing = match scanned {
            None => len > 0,
            Some(done) => len > MAX_HEAD || has_head_end(&caller.buf[done.saturating_sub(3)..]),
        };
        if worth_parsing {
            match RequestHead::parse(&mut caller.buf) {
                Ok(Some(head)) => return Ok(Some(head)),
                Ok(None) => {}
                Err(e) => return Err((e.status(), e.describe())),
            }
        }
        scanned = Some(len);
        match caller.fill().await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

/// An empty line (CRLF CRLF, or bare LFs) ends a head.
fn has_head_end(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .any(|(i, _)| match bytes.get(i + 1) {
            Some(b'\n') => true,
            Some(b'\r') => bytes.get(i + 2) == Some(&b'\n'),
            _ => false,
        })
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

#[cfg(test)]
mod tests {
    use super::has_head_end;

    #[test]
    fn head_end_is_an_empty_line() {
        assert!(has_head_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(has_head_end(b"GET / HTTP/1.1\n\n"));
        assert!(!has_head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"));
        assert!(!has_head_end(b"\r\n\r"));
    }
}
