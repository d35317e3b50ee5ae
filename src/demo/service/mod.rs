//! The reference service: a small resource API with a real circuit breaker on its UserService dependency.
//!
//! `ReferenceService::start` binds, serves on a background task and returns a handle with the
//! bound address; `shutdown` marks the service unhealthy, stops accepting, lets in-flight requests
//! finish (up to 5 s) and returns. Each module owns one mechanism: see their headers.

pub mod breaker;
pub mod config;
pub mod dependency_client;
mod handlers;
pub mod health;
mod idempotency;
pub mod rate_limit;
pub mod retry;
pub mod store;
pub mod work_time;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::time::Instant;

use super::serve::Server;

pub use breaker::{BreakerState, SharedBreaker};
pub use config::{
    BreakerConfig, RateLimitConfig, ReferenceConfig, RetryConfig, ServiceTime, ServiceTimes,
};

use dependency_client::UserServiceClient;
use rate_limit::RateLimiter;
use retry::RetryPolicy;
use store::Store;
use work_time::WorkTime;

/// Everything a request handler reads.
#[derive(Debug)]
pub(crate) struct AppState {
    pub cfg: ReferenceConfig,
    pub store: Store,
    pub users: UserServiceClient,
    pub limiter: Option<RateLimiter>,
    pub work: WorkTime,
    pub started: Instant,
    pub shutting_down: AtomicBool,
    pub next_request_id: AtomicU64,
    pub keys: idempotency::Keys,
}

/// Entry point of the reference service.
#[derive(Debug)]
pub struct ReferenceService;

impl ReferenceService {
    /// Validates `cfg`, binds `cfg.bind` and starts serving. Errors: bad configuration
    /// (`InvalidInput`) or the bind failing.
    pub async fn start(cfg: ReferenceConfig) -> io::Result<ReferenceHandle> {
        validate(&cfg)?;
        let breaker = SharedBreaker::new(cfg.breaker);
        let retry = RetryPolicy::new(cfg.retry, cfg.seed);
        let users = UserServiceClient::new(&cfg.dependency_url, cfg.call_timeout, breaker, retry)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(AppState {
            store: Store::seeded(cfg.seed_items),
            users,
            limiter: cfg.rate_limit.map(RateLimiter::new),
            work: WorkTime::new(cfg.seed),
            started: Instant::now(),
            shutting_down: AtomicBool::new(false),
            next_request_id: AtomicU64::new(1),
            keys: idempotency::Keys::default(),
            cfg,
        });
        let shared = Arc::clone(&state);
        let server = Server::spawn(listener, move |peer, req| {
            handlers::handle(Arc::clone(&shared), peer, req)
        });
        Ok(ReferenceHandle {
            addr,
            state,
            server,
        })
    }
}

/// A running reference service.
#[derive(Debug)]
pub struct ReferenceHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    server: Server,
}

impl ReferenceHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for scenarios and tests.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &ReferenceConfig {
        &self.state.cfg
    }

    /// The breaker's state right now (the same view `/health` reports).
    pub fn breaker_state(&self) -> BreakerState {
        self.state.users.breaker().snapshot().state
    }

    /// Graceful stop: unhealthy, no new connections, in-flight requests finish (bounded), done.
    pub async fn shutdown(self) {
        self.state.shutting_down.store(true, Ordering::Relaxed);
        self.server.stop().await;
    }
}

fn validate(cfg: &ReferenceConfig) -> io::Result<()> {
    let bad = |msg: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, msg.to_string()));
    if cfg.breaker.failure_threshold == 0 {
        return bad("failure threshold must be at least 1");
    }
    if cfg.breaker.half_open_requests == 0 {
        return bad("half-open requests must be at least 1");
    }
    if cfg.call_timeout.is_zero() {
        return bad("call timeout must be above zero");
    }
    if !(0.0..=1.0).contains(&cfg.retry.jitter) {
        return bad("retry jitter must be between 0 and 1");
    }
    if let Some(rl) = cfg.rate_limit {
        if !(rl.per_second.is_finite() && rl.per_second > 0.0) || rl.burst == 0 {
            return bad("rate limit must be above zero with a burst of at least 1");
        }
    }
    Ok(())
}
