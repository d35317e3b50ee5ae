//! Named proxies of either kind (TCP with toxics, HTTP with faults), the seed and clock they
//! share, and the journal of changes made to them. The control API and chaos runs use this.
//!
//! Invariants: names are unique; every change made through the control API is journaled;
//! a proxy removed from the registry is stopped.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use crate::control::journal::Journal;
use crate::http::{HttpProxy, HttpProxyConfig, HttpStats};
use crate::lease::Leases;
use crate::tcp::{TcpProxy, TcpProxyConfig, TcpStats};

/// A proxy of either kind.
pub enum ProxyHandle {
    Tcp(TcpProxy),
    Http(HttpProxy),
}

/// Which kind of proxy: Toxiproxy-style byte relay, per-request HTTP/1.1 faults, or per-stream
/// HTTP/2 faults (h2c with prior knowledge; gRPC rides on it, hence the alias `grpc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Http,
    Http2,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "http" => Some(Protocol::Http),
            "http2" | "h2c" | "grpc" => Some(Protocol::Http2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Http => "http",
            Protocol::Http2 => "http2",
        }
    }
}

/// Counters of one proxy, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ProxyStats {
    Tcp(TcpStats),
    Http(HttpStats),
}

impl ProxyHandle {
    pub fn protocol(&self) -> Protocol {
        match self {
            ProxyHandle::Tcp(_) => Protocol::Tcp,
            ProxyHandle::Http(p) if p.is_http2() => Protocol::Http2,
            ProxyHandle::Http(_) => Protocol::Http,
        }
    }

    /// The listen address as reported to clients (real port once bound).
    pub fn listen(&self) -> String {
        match self {
            ProxyHandle::Tcp(p) => p.listen(),
            ProxyHandle::Http(p) => p.listen_addr().to_string(),
        }
    }

    pub fn listen_addr(&self) -> Option<SocketAddr> {
        match self {
            ProxyHandle::Tcp(p) => p.listen_addr(),
            ProxyHandle::Http(p) => Some(p.listen_addr()),
        }
    }

    pub fn upstream(&self) -> String {
        match self {
            ProxyHandle::Tcp(p) => p.upstream(),
            ProxyHandle::Http(p) => p.upstream(),
        }
    }

    pub fn enabled(&self) -> bool {
        match self {
            ProxyHandle::Tcp(p) => p.enabled(),
            ProxyHandle::Http(p) => p.enabled(),
        }
    }

    pub async fn set_enabled(&self, on: bool) -> io::Result<()> {
        match self {
            ProxyHandle::Tcp(p) => p.set_enabled(on).await,
            ProxyHandle::Http(p) => {
                p.set_enabled(on);
                Ok(())
            }
        }
    }

    pub fn set_upstream(&self, upstream: String) {
        match self {
            ProxyHandle::Tcp(p) => p.set_upstream(upstream),
            ProxyHandle::Http(p) => p.set_upstream(upstream),
        }
    }

    /// Back to clean passthrough: no toxics or faults.
    pub fn clear(&self) {
        match self {
            ProxyHandle::Tcp(p) => p.clear_toxics(),
            ProxyHandle::Http(p) => p.clear_faults(),
        }
    }

    pub fn stats(&self) -> ProxyStats {
        match self {
            ProxyHandle::Tcp(p) => ProxyStats::Tcp(p.stats()),
            ProxyHandle::Http(p) => ProxyStats::Http(p.stats()),
        }
    }

    pub async fn stop(&self) {
        match self {
            ProxyHandle::Tcp(p) => p.stop().await,
            ProxyHandle::Http(p) => p.stop().await,
        }
    }
}

/// Why a proxy could not be added.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("proxy already exists")]
    Exists(String),
    #[error("proxy not found")]
    NotFound(String),
    #[error("cannot listen on {listen}: {source}")]
    Bind { listen: String, source: io::Error },
}

/// The proxies of one process (or one chaos run).
pub struct Registry {
    proxies: Mutex<BTreeMap<String, Arc<ProxyHandle>>>,
    /// Serialises create/replace/delete, which await while binding or stopping.
    ops: tokio::sync::Mutex<()>,
    seed: u64,
    clock_origin: Instant,
    journal: Journal,
    leases: Leases,
}

impl Registry {
    /// `seed` makes every proxy's coin flips reproducible (each proxy mixes in its name);
    /// `clock_origin` is t = 0 of logs and of the change journal (a chaos run passes its start).
    pub fn new(seed: u64, clock_origin: Instant) -> Registry {
        Registry {
            proxies: Mutex::new(BTreeMap::new()),
            ops: tokio::sync::Mutex::new(()),
            seed,
            clock_origin,
            journal: Journal::new(clock_origin, 1024),
            leases: Leases::new(),
        }
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// End times and owners of faults, toxics and disabled proxies (enforced by `lease::reaper`).
    pub fn leases(&self) -> &Leases {
        &self.leases
    }

    pub fn clock_origin(&self) -> Instant {
        self.clock_origin
    }

    /// The seed a proxy called `name` gets: the registry's seed mixed with the name (FNV-1a),
    /// so proxies differ from each other but each is reproducible.
    pub fn seed_for(&self, name: &str) -> u64 {
        name.bytes()
            .fold(0xcbf2_9ce4_8422_2325 ^ self.seed, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            })
    }

    pub fn get(&self, name: &str) -> Option<Arc<ProxyHandle>> {
        self.map().get(name).cloned()
    }

    /// Every proxy, by name.
    pub fn list(&self) -> Vec<(String, Arc<ProxyHandle>)> {
        self.map()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Takes the registry's operation lock: hold it across a check-then-change sequence.
    pub async fn lock_ops(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.ops.lock().await
    }

    /// Starts a TCP proxy and registers it (the caller holds `lock_ops`).
    pub async fn add_tcp(
        &self,
        mut cfg: TcpProxyConfig,
    ) -> Result<Arc<ProxyHandle>, RegistryError> {
        self.check_free(&cfg.name)?;
        cfg.seed = cfg.seed.or(Some(self.seed_for(&cfg.name)));
        cfg.clock_origin = self.clock_origin;
        let listen = cfg.listen.clone();
        let name = cfg.name.clone();
        let proxy = TcpProxy::start(cfg)
            .await
            .map_err(|source| RegistryError::Bind { listen, source })?;
        Ok(self.insert(name, ProxyHandle::Tcp(proxy)))
    }

    /// Starts an HTTP proxy listening on `listen` (`host:port`, resolved) and registers it.
    pub async fn add_http(
        &self,
        name: &str,
        listen: &str,
        upstream: &str,
        tune: impl FnOnce(&mut HttpProxyConfig),
    ) -> Result<Arc<ProxyHandle>, RegistryError> {
        self.check_free(name)?;
        let bind_err = |source| RegistryError::Bind {
            listen: listen.to_string(),
            source,
        };
        let addr = tokio::net::lookup_host(listen)
            .await
            .map_err(bind_err)?
            .next()
            .ok_or_else(|| bind_err(io::Error::new(io::ErrorKind::InvalidInput, "no address")))?;
        let mut cfg = HttpProxyConfig::new(name, addr, upstream);
        cfg.seed = self.seed_for(name);
        cfg.clock_origin = self.clock_origin;
        tune(&mut cfg);
        let proxy = HttpProxy::start(cfg).await.map_err(bind_err)?;
        Ok(self.insert(name.to_string(), ProxyHandle::Http(proxy)))
    }

    /// Stops and forgets a proxy.
    pub async fn remove(&self, name: &str) -> Result<(), RegistryError> {
        let handle = self
            .map()
            .remove(name)
            .ok_or_else(|| RegistryError::NotFound(name.to_string()))?;
        self.leases
            .forget_proxy(name, &["fault", "toxic", "disabled"]);
        handle.stop().await;
        Ok(())
    }

    /// Stops every proxy (process shutdown).
    pub async fn stop_all(&self) {
        let all: Vec<_> = std::mem::take(&mut *self.map()).into_values().collect();
        for p in all {
            p.stop().await;
        }
    }

    fn check_free(&self, name: &str) -> Result<(), RegistryError> {
        if self.map().contains_key(name) {
            return Err(RegistryError::Exists(name.to_string()));
        }
        Ok(())
    }

    fn insert(&self, name: String, handle: ProxyHandle) -> Arc<ProxyHandle> {
        let handle = Arc::new(handle);
        self.map().insert(name, handle.clone());
        handle
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<ProxyHandle>>> {
        self.proxies.lock().unwrap_or_else(|e| e.into_inner())
    }
}
