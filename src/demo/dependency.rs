//! The stub UserService: answers `GET /users/{key}` with a small JSON profile, after an optional delay.
//!
//! It is the reference service's dependency in the demo and for `redline serve-dependency`; faults
//! come from a fault proxy placed in front of it, never from the stub itself.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::serve::Server;

/// How the stub answers.
#[derive(Debug, Clone, PartialEq)]
pub struct StubConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Delay before every answer.
    pub latency: Duration,
    /// Extra delay drawn uniformly from [0, jitter] per answer.
    pub jitter: Duration,
    pub seed: u64,
}

impl Default for StubConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8081)),
            latency: Duration::from_millis(1),
            jitter: Duration::from_millis(1),
            seed: 1,
        }
    }
}

impl StubConfig {
    /// Defaults on an ephemeral loopback port.
    pub fn ephemeral() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Self::default()
        }
    }
}

/// Entry point of the stub UserService.
#[derive(Debug)]
pub struct StubDependency;

struct Stub {
    cfg: StubConfig,
    rng: Mutex<SmallRng>,
    calls: AtomicU64,
}

impl StubDependency {
    pub async fn start(cfg: StubConfig) -> io::Result<StubHandle> {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let stub = Arc::new(Stub {
            rng: Mutex::new(SmallRng::seed_from_u64(cfg.seed)),
            cfg,
            calls: AtomicU64::new(0),
        });
        let shared = Arc::clone(&stub);
        let server = Server::spawn(listener, move |_peer, req| {
            let stub = Arc::clone(&shared);
            async move { stub.answer(req).await }
        });
        Ok(StubHandle { addr, stub, server })
    }
}

impl Stub {
    async fn answer<B>(&self, req: Request<B>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        let (status, body) = match (req.method(), path.strip_prefix("/users/")) {
            (&Method::GET, Some(key)) if !key.is_empty() && !key.contains('/') => {
                self.calls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(self.delay()).await;
                let body = json!({ "id": key, "name": format!("user {key}"), "plan": "standard" });
                (StatusCode::OK, body)
            }
            (&Method::GET, None) if path == "/health" => {
                (StatusCode::OK, json!({ "status": "healthy" }))
            }
            _ => (
                StatusCode::NOT_FOUND,
                json!({ "error_code": "RESOURCE_NOT_FOUND" }),
            ),
        };
        let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
        *reply.status_mut() = status;
        reply
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(rid) = req.headers().get("x-request-id") {
            reply.headers_mut().insert("x-request-id", rid.clone());
        }
        reply
    }

    fn delay(&self) -> Duration {
        if self.cfg.jitter.is_zero() {
            return self.cfg.latency;
        }
        let f: f64 = self.rng.lock().unwrap_or_else(|e| e.into_inner()).gen();
        self.cfg.latency + self.cfg.jitter.mul_f64(f)
    }
}

/// A running stub.
pub struct StubHandle {
    addr: SocketAddr,
    stub: Arc<Stub>,
    server: Server,
}

impl std::fmt::Debug for StubHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl StubHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Profile lookups answered so far.
    pub fn calls(&self) -> u64 {
        self.stub.calls.load(Ordering::Relaxed)
    }

    pub async fn shutdown(self) {
        self.server.stop().await;
    }
}
