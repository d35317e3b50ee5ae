//! Targets of known capacity for `tests/capacity/capacity.rs`: an HTTP server on 127.0.0.1:0 whose paths
//! each have a pool of C workers with a fixed service time S (an M/D/C queue: FIFO waiting for a
//! worker, then S), optionally slowing down over time (a leak); and the queue's model, simulated.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// One path's pool.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Requests whose path starts with this are served by this pool (first match).
    pub prefix: &'static str,
    pub workers: usize,
    pub service: Duration,
    /// Service time grows by this share of `service` per second since the first request.
    pub leak_per_s: f64,
}

struct PoolState {
    pool: Pool,
    permits: Semaphore,
    busy_us: AtomicU64,
    served: AtomicU64,
}

pub struct Server {
    pub addr: SocketAddr,
    pools: Arc<Vec<PoolState>>,
}

impl Server {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Mean service time actually spent per request of pool `i` (the timer rounds sleeps up).
    pub fn mean_service(&self, i: usize) -> Duration {
        let p = &self.pools[i];
        let n = p.served.load(Ordering::SeqCst).max(1);
        Duration::from_micros(p.busy_us.load(Ordering::SeqCst) / n)
    }

    pub fn served(&self, i: usize) -> u64 {
        self.pools[i].served.load(Ordering::SeqCst)
    }
}

/// Starts the server on its own thread and runtime (the load generator is another process).
pub fn start(pools: Vec<Pool>) -> Server {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let pools: Arc<Vec<PoolState>> = Arc::new(
        pools
            .into_iter()
            .map(|pool| PoolState {
                permits: Semaphore::new(pool.workers),
                pool,
                busy_us: AtomicU64::new(0),
                served: AtomicU64::new(0),
            })
            .collect(),
    );
    let shared = pools.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(
            async move { serve(TcpListener::from_std(std_listener).unwrap(), shared).await },
        );
    });
    Server { addr, pools }
}

async fn serve(listener: TcpListener, pools: Arc<Vec<PoolState>>) {
    let first: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (pools, first) = (pools.clone(), first.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (pools, first) = (pools.clone(), first.clone());
                async move {
                    let path = req.uri().path().to_string();
                    let status = match pools.iter().find(|p| path.starts_with(p.pool.prefix)) {
                        Some(p) => {
                            work(p, *first.get_or_init(Instant::now)).await;
                            200
                        }
                        None => 404,
                    };
                    let resp = Response::builder()
                        .status(status)
                        .body(Full::new(Bytes::from_static(b"ok")))
                        .unwrap();
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Waits for a worker (FIFO: tokio's semaphore is fair), then holds it for the service time.
async fn work(p: &PoolState, first: Instant) {
    let _permit = p.permits.acquire().await.unwrap();
    let start = Instant::now();
    let grown = 1.0 + p.pool.leak_per_s * first.elapsed().as_secs_f64();
    let service = p.pool.service.mul_f64(grown);
    tokio::time::sleep_until((start + service).into()).await;
    p.busy_us
        .fetch_add(start.elapsed().as_micros() as u64, Ordering::SeqCst);
    p.served.fetch_add(1, Ordering::SeqCst);
}

/// The queue's quantile `q` of response time (ms) at `rate`: c workers, fixed service `s_ms`,
/// FIFO, uniform or Poisson arrivals, `extra_ms` added to each answer (the client's own time).
pub fn simulate(c: usize, s_ms: f64, rate: f64, poisson: bool, q: f64, extra_ms: f64) -> f64 {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let n = 60_000;
    let mut free = vec![0.0f64; c];
    let mut t = 0.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        t += if poisson {
            -(1.0 - rng.gen::<f64>()).ln() / rate * 1000.0
        } else {
            1000.0 / rate
        };
        let (k, f) = free
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, f)| (k, *f))
            .unwrap();
        let done = t.max(f) + s_ms;
        free[k] = done;
        if i >= n / 10 {
            out.push(done - t + extra_ms);
        }
    }
    out.sort_by(f64::total_cmp);
    out[((out.len() as f64 * q) as usize).min(out.len() - 1)]
}

/// The highest rate at which the modelled quantile stays within `target_ms` (the knee), found by
/// bisection below the saturation rate c / s.
pub fn knee(c: usize, s_ms: f64, poisson: bool, q: f64, target_ms: f64, extra_ms: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, c as f64 * 1000.0 / s_ms);
    for _ in 0..30 {
        let mid = (lo + hi) / 2.0;
        if simulate(c, s_ms, mid, poisson, q, extra_ms) <= target_ms {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}
