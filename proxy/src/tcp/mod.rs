//! TCP mode: a byte relay with one fixed buffer per direction and correct half-close, plus
//! Toxiproxy's toxics, changed live; `TcpProxy` is its public face.

mod chain;
mod conn;
mod conn_log;
mod delay_line;
mod pipe;
mod stats;
mod toxic_set;
mod track;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use conn_log::{ClosedBy, ConnBook, ConnEntry, ConnSummary};
pub use stats::TcpStats;

use crate::toxic::{Toxic, ToxicError, ToxicPatch};
use stats::Counters;
use toxic_set::ToxicSet;

/// How to start a TCP proxy.
#[derive(Debug, Clone)]
pub struct TcpProxyConfig {
    pub name: String,
    /// Address to listen on, `host:port`; port 0 picks a free port (see `TcpProxy::listen`).
    pub listen: String,
    /// Upstream `host:port`, resolved on every new connection.
    pub upstream: String,
    /// Start listening at once (`false`: created down, as Toxiproxy allows).
    pub enabled: bool,
    /// Seeds toxicity, jitter and slicer choices; `None` draws a seed from the OS.
    pub seed: Option<u64>,
    /// Toxics present from the start.
    pub toxics: Vec<Toxic>,
    /// Give up dialing the upstream after this long (the client is then closed).
    pub connect_timeout: Duration,
    /// Size of the one buffer each direction of each connection uses.
    pub buffer_size: usize,
    /// Connections beyond this many at once are closed on accept.
    pub max_connections: u64,
    /// t = 0 of the connection log (a chaos run passes its start).
    pub clock_origin: Instant,
    /// Connections kept in the log's ring (aggregates cover every one).
    pub log_capacity: usize,
}

impl TcpProxyConfig {
    pub fn new(
        name: impl Into<String>,
        listen: impl Into<String>,
        upstream: impl Into<String>,
    ) -> Self {
        TcpProxyConfig {
            name: name.into(),
            listen: listen.into(),
            upstream: upstream.into(),
            enabled: true,
            seed: None,
            toxics: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            buffer_size: 32 * 1024,
            max_connections: 10_000,
            clock_origin: Instant::now(),
            log_capacity: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    connect_timeout: Duration,
    buffer_size: usize,
    max_connections: u64,
}

/// State shared by the proxy handle, its accept loop and its connections.
pub(crate) struct Shared {
    name: String,
    upstream: RwLock<String>,
    toxics: watch::Sender<Arc<ToxicSet>>,
    /// Bumped to drop every connection accepted before (disable, upstream change, stop).
    epoch: watch::Sender<u64>,
    seed: u64,
    next_conn: AtomicU64,
    next_toxic: AtomicU64,
    limits: Limits,
    counters: Arc<Counters>,
    clock_origin: Instant,
    conns: ConnBook,
}

impl Shared {
    fn upstream(&self) -> String {
        self.upstream
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn drop_connections(&self) {
        self.epoch.send_modify(|e| *e += 1);
    }
}

struct Listening {
    /// What `listen` resolves to: the configured address until the first bind, the bound
    /// address after (so a proxy re-enabled on port 0 comes back on the same port).
    listen: String,
    bound: Option<SocketAddr>,
    accept: Option<JoinHandle<()>>,
}

/// A running TCP proxy. Dropping it stops listening and drops its connections.
pub struct TcpProxy {
    shared: Arc<Shared>,
    listening: Mutex<Listening>,
    /// Serialises enable/disable/re-listen, which await while binding.
    ops: tokio::sync::Mutex<()>,
}

impl TcpProxy {
    /// Starts the proxy (listening at once if `config.enabled`). Needs a Tokio runtime.
    pub async fn start(config: TcpProxyConfig) -> io::Result<TcpProxy> {
        let mut set = ToxicSet::default();
        let next_toxic = AtomicU64::new(0);
        for t in config.toxics {
            set.add(t, next_toxic.fetch_add(1, Ordering::Relaxed))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let shared = Arc::new(Shared {
            name: config.name,
            upstream: RwLock::new(config.upstream),
            toxics: watch::Sender::new(Arc::new(set)),
            epoch: watch::Sender::new(0),
            seed: config.seed.unwrap_or_else(rand::random),
            next_conn: AtomicU64::new(0),
            next_toxic,
            limits: Limits {
                connect_timeout: config.connect_timeout,
                buffer_size: config.buffer_size.max(1),
                max_connections: config.max_connections,
            },
            counters: Arc::new(Counters::default()),
            clock_origin: config.clock_origin,
            conns: ConnBook::new(config.log_capacity),
        });
        let proxy = TcpProxy {
            shared,
            listening: Mutex::new(Listening {
                listen: config.listen,
                bound: None,
                accept: None,
            }),
            ops: tokio::sync::Mutex::new(()),
        };
        if config.enabled {
            proxy.set_enabled(true).await?;
        }
        Ok(proxy)
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The bound address, once the proxy has listened.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.lock().bound
    }

    /// The listen address as Toxiproxy reports it (the real port once bound).
    pub fn listen(&self) -> String {
        self.lock().listen.clone()
    }

    pub fn upstream(&self) -> String {
        self.shared.upstream()
    }

    pub fn enabled(&self) -> bool {
        self.lock().accept.is_some()
    }

    pub fn stats(&self) -> TcpStats {
        self.shared.counters.snapshot()
    }

    /// Ended connections with `seq >= seq` still in the log's ring, oldest first.
    pub fn connections_since(&self, seq: u64) -> Vec<ConnEntry> {
        self.shared.conns.since(seq)
    }

    /// Running aggregates over every ended connection.
    pub fn connections_summary(&self) -> ConnSummary {
        self.shared.conns.summary()
    }

    /// Enabled: listen (again) and relay. Disabled: stop listening and drop every connection
    /// (the dependency is down). Idempotent.
    pub async fn set_enabled(&self, enabled: bool) -> io::Result<()> {
        let _op = self.ops.lock().await;
        if enabled == self.enabled() {
            return Ok(());
        }
        if enabled {
            let listen = self.listen();
            let listener = TcpListener::bind(listen.as_str()).await?;
            let addr = listener.local_addr()?;
            let accept = tokio::spawn(accept_loop(self.shared.clone(), listener));
            let mut l = self.lock();
            l.listen = addr.to_string();
            l.bound = Some(addr);
            l.accept = Some(accept);
        } else {
            let accept = self.lock().accept.take();
            if let Some(task) = accept {
                task.abort();
                let _ = task.await; // the listener is closed once the task is gone
            }
            self.shared.drop_connections();
        }
        Ok(())
    }

    /// Points new connections at another upstream; existing ones are dropped, as Toxiproxy
    /// restarts a proxy whose upstream changes.
    pub fn set_upstream(&self, upstream: impl Into<String>) {
        *self
            .shared
            .upstream
            .write()
            .unwrap_or_else(|e| e.into_inner()) = upstream.into();
        self.shared.drop_connections();
    }

    /// Moves the proxy to another listen address (rebinding now if it is enabled).
    pub async fn set_listen(&self, listen: impl Into<String>) -> io::Result<()> {
        let was = self.enabled();
        self.set_enabled(false).await?;
        self.lock().listen = listen.into();
        if was {
            self.set_enabled(true).await?;
        }
        Ok(())
    }

    /// The toxics, upstream ones first, as Toxiproxy lists them.
    pub fn toxics(&self) -> Vec<Toxic> {
        self.shared.toxics.borrow().listed()
    }

    pub fn toxic(&self, name: &str) -> Option<Toxic> {
        self.shared
            .toxics
            .borrow()
            .find(name)
            .map(|e| e.toxic.clone())
    }

    /// Adds a toxic; it starts at once on live connections of its stream and on new ones.
    pub fn add_toxic(&self, toxic: Toxic) -> Result<Toxic, ToxicError> {
        let id = self.shared.next_toxic.fetch_add(1, Ordering::Relaxed);
        self.modify(|set| set.add(toxic, id))
    }

    /// Merges `patch` into a toxic; connections restart it (toxicity is rolled again).
    pub fn update_toxic(&self, name: &str, patch: &ToxicPatch) -> Result<Toxic, ToxicError> {
        self.modify(|set| set.update(name, patch))
    }

    pub fn remove_toxic(&self, name: &str) -> Result<Toxic, ToxicError> {
        self.modify(|set| set.remove(name))
    }

    /// Removes every toxic (clean passthrough at once).
    pub fn clear_toxics(&self) {
        self.shared.toxics.send_if_modified(|set| {
            let mut next = ToxicSet {
                generation: set.generation,
                entries: set.entries.clone(),
            };
            let changed = next.clear();
            *set = Arc::new(next);
            changed
        });
    }

    /// Stops listening and drops every connection.
    pub async fn stop(&self) {
        let _ = self.set_enabled(false).await;
    }

    fn modify<T>(
        &self,
        f: impl FnOnce(&mut ToxicSet) -> Result<T, ToxicError>,
    ) -> Result<T, ToxicError> {
        let mut out = None;
        self.shared.toxics.send_if_modified(|set| {
            let mut next = ToxicSet {
                generation: set.generation,
                entries: set.entries.clone(),
            };
            let result = f(&mut next);
            let ok = result.is_ok();
            out = Some(result);
            if ok {
                *set = Arc::new(next);
            }
            ok
        });
        out.expect("send_if_modified runs the closure")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Listening> {
        self.listening.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(task) = self.lock().accept.take() {
            task.abort();
        }
        self.shared.drop_connections();
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (socket, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                // Out of descriptors or a transient error: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        // Counted here, not in the connection task, so a burst cannot overshoot the cap.
        if shared.counters.open.fetch_add(1, Ordering::Relaxed) >= shared.limits.max_connections {
            shared.counters.open.fetch_sub(1, Ordering::Relaxed);
            shared.counters.refused.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let index = shared.next_conn.fetch_add(1, Ordering::Relaxed);
        let epoch = *shared.epoch.borrow();
        tokio::spawn(conn::serve(shared.clone(), socket, index, epoch));
    }
}
