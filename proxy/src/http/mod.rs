//! The HTTP/1.1 fault proxy: our own HTTP/1.1 framing on both sides (httparse for heads), one
//! task per caller connection that serves its requests in turn, a keep-alive pool of upstream
//! connections, one fault decision per request, and the dependency-side log.
//!
//! Invariants: a request gets at most one fault; a fault change applies from the next request;
//! no per-request state outlives its connection; nothing here panics on bad input from either
//! side; bodies are relayed in their own framing (never buffered whole).

mod answer;
mod caller;
mod conn;
mod exchange;
mod framing;
pub mod h2;
mod head;
mod listener;
mod record;
mod relay;
mod shed;
mod stats;
mod upstream;

pub use shed::{default_max_connections, raise_open_file_limit};
pub use stats::HttpStats;

use crate::fault::{Decision, FaultError, FaultSpec, FaultTable, RequestView};
use crate::log::{LogBook, LogEntry, LogSummary};
use head::RequestHead;
use stats::Counters;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use upstream::Pool;

/// Settings of one HTTP proxy; `new` gives sensible defaults.
#[derive(Debug, Clone)]
pub struct HttpProxyConfig {
    pub name: String,
    /// Port 0 binds an ephemeral port (see `HttpProxy::listen_addr`).
    pub listen: SocketAddr,
    /// "host:port" of the dependency.
    pub upstream: String,
    /// Seed of the fault coin flips and latency draws.
    pub seed: u64,
    /// Entries kept in the log ring.
    pub log_capacity: usize,
    /// Headers giving a request's correlation id, first present wins; for `traceparent` the
    /// trace-id field is used.
    pub correlation_headers: Vec<String>,
    /// t = 0 of the log's `t_ms` (a chaos run passes its start).
    pub clock_origin: Instant,
    /// Caller connections open at once; at the cap the idle ones are shed first, then new
    /// callers refused (default: from the open-file limit, `default_max_connections`).
    pub max_connections: usize,
    /// A caller must send a full request head within this (also bounds idle keep-alive).
    pub header_read_timeout: Duration,
    /// HTTP/2 with prior knowledge (h2c) on both sides instead of HTTP/1.1 (see `h2`).
    pub http2: bool,
    /// HTTP/2 only: TLS towards callers (and the upstream, if it says so) instead of h2c.
    pub tls: Option<h2::H2Tls>,
}

impl HttpProxyConfig {
    pub fn new(name: impl Into<String>, listen: SocketAddr, upstream: impl Into<String>) -> Self {
        HttpProxyConfig {
            name: name.into(),
            listen,
            upstream: upstream.into(),
            seed: 0,
            log_capacity: 10_000,
            correlation_headers: vec!["x-request-id".into(), "traceparent".into()],
            clock_origin: Instant::now(),
            max_connections: default_max_connections(),
            header_read_timeout: Duration::from_secs(60),
            http2: false,
            tls: None,
        }
    }
}

/// Idle keep-alive connections kept to the upstream.
const UPSTREAM_MAX_IDLE: usize = 64;

/// Seconds of per-second counts kept in the log summary.
const SUMMARY_SECONDS: usize = 3600;

#[derive(Debug, Clone, Copy)]
pub(crate) struct State {
    /// Listening and serving (enabled and no unconditional `down` fault).
    up: bool,
    stopped: bool,
    /// Bumped to drop every open connection.
    epoch: u64,
}

pub(crate) struct Shared {
    name: String,
    listen: SocketAddr,
    faults: Mutex<FaultTable>,
    has_faults: AtomicBool,
    enabled: AtomicBool,
    state: watch::Sender<State>,
    slots: Arc<Semaphore>,
    /// The cap `slots` stands for (changed with `set_max_connections`).
    cap: std::sync::atomic::AtomicUsize,
    conns: shed::OpenConns,
    refusals: shed::RefusalTimes,
    pub(crate) log: LogBook,
    pub(crate) counters: Counters,
    pub(crate) clock_origin: Instant,
    /// Lower-case header names, first present wins.
    pub(crate) correlation_headers: Vec<String>,
    header_read_timeout: Duration,
    pool: Arc<Pool>,
    /// Set: callers and upstream speak HTTP/2 (`h2`), and `h2_upstream` is the connection.
    http2: bool,
    h2_upstream: h2::upstream::H2Upstream,
    h2_tls: Option<h2::H2Tls>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    fn decide(&self, head: &RequestHead) -> Option<Decision> {
        if !self.has_faults.load(Ordering::Acquire) {
            return None;
        }
        let headers: Vec<(&str, &[u8])> = head.fields().collect();
        let view = RequestView {
            method: head.method(),
            path: head.path(),
            headers: &headers,
        };
        self.table().decide(&view)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, FaultTable> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Recomputes up/down after a change of faults or of `enabled`; going down drops every
    /// open connection.
    fn refresh(&self, table: &FaultTable) {
        self.has_faults.store(!table.is_empty(), Ordering::Release);
        let up = self.enabled.load(Ordering::Acquire) && !table.unconditional_down();
        self.state.send_if_modified(|s| {
            if s.up == up {
                return false;
            }
            if !up {
                s.epoch += 1;
            }
            s.up = up;
            true
        });
    }
}

/// A running HTTP proxy; clones are cheap handles to the same proxy. It runs until `stop`
/// (dropping every handle does not stop it).
#[derive(Clone)]
pub struct HttpProxy {
    shared: Arc<Shared>,
}

impl HttpProxy {
    /// Binds `cfg.listen` and starts serving on the current tokio runtime.
    pub async fn start(cfg: HttpProxyConfig) -> std::io::Result<HttpProxy> {
        let listener = listener::bind(cfg.listen)?;
        let listen = listener.local_addr()?;
        let (state, _) = watch::channel(State {
            up: true,
            stopped: false,
            epoch: 0,
        });
        let shared = Arc::new(Shared {
            name: cfg.name,
            listen,
            faults: Mutex::new(FaultTable::new(cfg.seed)),
            has_faults: AtomicBool::new(false),
            enabled: AtomicBool::new(true),
            state,
            slots: Arc::new(Semaphore::new(cfg.max_connections.max(1))),
            cap: cfg.max_connections.max(1).into(),
            conns: shed::OpenConns::default(),
            refusals: shed::RefusalTimes::default(),
            log: LogBook::new(cfg.log_capacity, SUMMARY_SECONDS),
            counters: Counters::default(),
            clock_origin: cfg.clock_origin,
            correlation_headers: cfg
                .correlation_headers
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            header_read_timeout: cfg.header_read_timeout,
            pool: Arc::new(Pool::new(cfg.upstream, UPSTREAM_MAX_IDLE)),
            http2: cfg.http2,
            h2_upstream: h2::upstream::H2Upstream::default(),
            h2_tls: cfg.tls.filter(|_| cfg.http2),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(listener::run(shared.clone(), listener));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(HttpProxy { shared })
    }

    /// The bound address (the real port when started on port 0).
    pub fn listen_addr(&self) -> SocketAddr {
        self.shared.listen
    }

    pub fn upstream(&self) -> String {
        self.shared.pool.target().to_string()
    }

    pub fn name(&self) -> String {
        self.shared.name.clone()
    }

    /// True for an HTTP/2 (h2c) proxy.
    pub fn is_http2(&self) -> bool {
        self.shared.http2
    }

    /// Installs a fault (validated; the name defaults to the kind). Applies from the next request.
    pub fn add_fault(&self, f: FaultSpec) -> Result<(), FaultError> {
        f.check_protocol(self.shared.http2)?;
        let mut table = self.shared.table();
        table.add(f)?;
        self.shared.refresh(&table);
        Ok(())
    }

    /// Replaces the fault called `name` (its first/every counters restart).
    pub fn update_fault(&self, name: &str, f: FaultSpec) -> Result<(), FaultError> {
        f.check_protocol(self.shared.http2)?;
        let mut table = self.shared.table();
        table.update(name, f)?;
        self.shared.refresh(&table);
        Ok(())
    }

    pub fn remove_fault(&self, name: &str) -> bool {
        let mut table = self.shared.table();
        let removed = table.remove(name);
        self.shared.refresh(&table);
        removed
    }

    pub fn faults(&self) -> Vec<FaultSpec> {
        self.shared.table().specs()
    }

    /// Back to clean passthrough at once (and listening again if a `down` fault closed it).
    pub fn clear_faults(&self) {
        let mut table = self.shared.table();
        table.clear();
        self.shared.refresh(&table);
    }

    /// `false` is down: the listener closes (new connections refused) and open ones are dropped.
    pub fn set_enabled(&self, on: bool) {
        let table = self.shared.table();
        self.shared.enabled.store(on, Ordering::Release);
        self.shared.refresh(&table);
    }

    pub fn enabled(&self) -> bool {
        self.shared.enabled.load(Ordering::Acquire)
    }

    /// Log entries with `seq >= seq` still in the ring, oldest first (use the last seq + 1 as
    /// the next cursor).
    pub fn log_since(&self, seq: u64) -> Vec<LogEntry> {
        self.shared.log.since(seq)
    }

    pub fn log_summary(&self) -> LogSummary {
        self.shared.log.summary()
    }

    pub fn stats(&self) -> HttpStats {
        let mut s = self.shared.counters.snapshot();
        s.max_connections = self.max_connections() as u64;
        if let Some((first, last)) = self.shared.refusals.window() {
            s.refused_first_ms = Some(first);
            s.refused_last_ms = Some(last);
        }
        s
    }

    pub fn max_connections(&self) -> usize {
        self.shared.cap.load(Ordering::Acquire)
    }

    /// A new cap (at least 1). Raising it applies at once; lowering takes free slots at once and
    /// the rest as connections close.
    pub fn set_max_connections(&self, cap: usize) {
        let cap = cap.max(1);
        let old = self.shared.cap.swap(cap, Ordering::AcqRel);
        if cap > old {
            self.shared.slots.add_permits(cap - old);
        } else if old > cap {
            let slots = self.shared.slots.clone();
            let extra = (old - cap) as u32;
            tokio::spawn(async move {
                if let Ok(p) = slots.acquire_many_owned(extra).await {
                    p.forget();
                }
            });
        }
    }

    /// Later requests go to `upstream` ("host:port").
    pub fn set_upstream(&self, upstream: String) {
        self.shared.pool.set_target(upstream);
    }

    /// Closes the listener, drops every connection and waits for the accept loop to end.
    pub async fn stop(&self) {
        self.shared.state.send_modify(|s| {
            s.stopped = true;
            s.epoch += 1;
        });
        let task = self
            .shared
            .task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.shared.h2_upstream.close();
    }
}
