//! The control API server: one port (default 127.0.0.1:8474), two dialects. Toxiproxy's API
//! (`toxiproxy.rs`) for existing clients and test suites, the native API under `/redline`
//! (`native.rs`) for HTTP faults, the dependency-side log, counters and the change journal,
//! and `GET /metrics` (Prometheus text).
//!
//! Invariants: every answer carries `X-Toxiproxy-Request-Id`; a `Mozilla/` user agent gets 403
//! (as Toxiproxy, so a web page cannot drive it); bodies are capped; every change is journaled.

pub mod journal;
mod leases;
mod native;
mod proxies;
mod reply;
mod toxiproxy;

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::lease::{reaper, Grant};
use crate::registry::Registry;
use journal::Actor;
pub use leases::{EXPIRES_HEADER, OWNER_HEADER};
use reply::Reply;

/// Largest request body accepted (a populate of many proxies fits easily).
const MAX_BODY: usize = 1 << 20;

/// The control API's default address, as Toxiproxy's.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8474";

/// A running control API server.
pub struct ControlServer {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    reaper: JoinHandle<()>,
}

impl ControlServer {
    /// Binds `listen` (`host:port`; port 0 picks one) and serves `registry` on the current
    /// runtime, with the lease reaper that removes expired faults.
    pub async fn start(listen: &str, registry: Arc<Registry>) -> io::Result<ControlServer> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let reaper = reaper::spawn(registry.clone(), rx.clone());
        let task = tokio::spawn(accept_loop(listener, registry, rx));
        Ok(ControlServer {
            addr,
            shutdown,
            task,
            reaper,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes every API connection.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        let _ = self.reaper.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    registry: Arc<Registry>,
    mut stop: watch::Receiver<bool>,
) {
    let ids = Arc::new(AtomicU64::new(1));
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let (registry, ids, mut stop) = (registry.clone(), ids.clone(), stop.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let (registry, ids) = (registry.clone(), ids.clone());
                async move { Ok::<_, Infallible>(handle(&registry, peer, &ids, req).await) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(15))
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// One parsed API request, as the dialects see it.
pub(crate) struct Call {
    pub method: Method,
    /// Path segments, percent-decoded, empty ones dropped.
    pub segs: Vec<String>,
    pub query: Option<String>,
    pub body: Bytes,
    pub actor: Actor,
    /// The lease an install asks for in its headers (owner, own lifetime).
    pub grant: Grant,
}

impl Call {
    pub fn seg_strs(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }

    /// The value of query parameter `key`, if present.
    pub fn query_param(&self, key: &str) -> Option<&str> {
        let q = self.query.as_deref()?;
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

async fn handle(
    registry: &Registry,
    peer: SocketAddr,
    ids: &AtomicU64,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let request_id = format!("rl{:018x}", ids.fetch_add(1, Ordering::Relaxed));
    let mut response = answer(registry, peer, req).await.into_response();
    if let Ok(v) = request_id.parse() {
        response.headers_mut().insert("x-toxiproxy-request-id", v);
    }
    response
}

async fn answer(registry: &Registry, peer: SocketAddr, req: Request<Incoming>) -> Reply {
    let agent = req
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if agent.starts_with("Mozilla/") {
        return Reply::text(403, "User agent not allowed\n");
    }
    let actor = Actor {
        name: req
            .headers()
            .get("x-redline-actor")
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
            .map_or_else(|| peer.to_string(), str::to_string),
        peer: Some(peer.to_string()),
    };
    let grant = match leases::from_headers(req.headers()) {
        Ok(g) => g,
        Err(reply) => return reply,
    };
    let method = req.method().clone();
    let segs = req
        .uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let query = req.uri().query().map(str::to_string);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Reply::error(
                413,
                format!("request body larger than {MAX_BODY} bytes or unreadable"),
            )
        }
    };
    let call = Call {
        method,
        segs,
        query,
        body,
        actor,
        grant,
    };
    let segs = call.seg_strs();
    match segs.as_slice() {
        ["metrics"] if call.method == Method::GET => {
            Reply::metrics(crate::metrics::render(registry))
        }
        ["metrics"] => Reply::error(405, "method not allowed"),
        ["redline", rest @ ..] => native::route(registry, &call, rest).await,
        _ => toxiproxy::route(registry, &call, &segs).await,
    }
}

/// Decodes `%XX` escapes in a path segment (invalid escapes are kept as written).
fn percent_decode(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_escapes_and_keeps_bad_ones() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("x%2"), "x%2");
    }
}
