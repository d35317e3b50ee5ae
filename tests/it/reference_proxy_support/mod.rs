//! The rig for testing the reference service through a real fault proxy: stub UserService <- HttpProxy
//! <- reference service, all on 127.0.0.1:0, plus a paced client that records what it saw.
//!
//! The proxy's dependency log is the evidence: it is what a chaos run records and what the verdicts
//! read, so these tests pin down the reference behaviours in exactly the terms verdicts will see.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redline::demo::service::ServiceTimes;
use redline::demo::{
    ReferenceConfig, ReferenceHandle, ReferenceService, StubConfig, StubDependency, StubHandle,
};
use redline_proxy::fault::FaultSpec;
use redline_proxy::http::{HttpProxy, HttpProxyConfig};
use redline_proxy::log::{LogEntry, Outcome};

use crate::refsvc::send;

/// Stub UserService, the proxy in front of it, and the reference service calling the proxy.
pub struct Rig {
    pub stub: StubHandle,
    pub proxy: HttpProxy,
    pub svc: ReferenceHandle,
    /// t = 0 of the proxy log (`t_ms`) and of the client samples.
    pub origin: Instant,
}

impl Rig {
    /// The reference service with its shipped defaults (the spec's figures), except for zero work
    /// time so only the resilience machinery shapes the timings; `tune` may change more.
    pub async fn start(tune: impl FnOnce(&mut ReferenceConfig)) -> Rig {
        let origin = Instant::now();
        let stub = StubDependency::start(StubConfig::ephemeral())
            .await
            .expect("stub");
        let mut pcfg = HttpProxyConfig::new(
            "UserService",
            SocketAddr::from(([127, 0, 0, 1], 0)),
            stub.addr().to_string(),
        );
        pcfg.clock_origin = origin;
        let proxy = HttpProxy::start(pcfg).await.expect("proxy");
        let mut cfg = ReferenceConfig::ephemeral(format!("http://{}", proxy.listen_addr()));
        cfg.service_times = ServiceTimes::zero();
        tune(&mut cfg);
        let svc = ReferenceService::start(cfg).await.expect("service");
        Rig {
            stub,
            proxy,
            svc,
            origin,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.svc.addr()
    }

    /// Installs a fault given in the `--fault` form, e.g. `abort:status=503`.
    pub fn fault(&self, text: &str) {
        let spec = FaultSpec::parse_cli(text).expect("fault spec");
        self.proxy.add_fault(spec).expect("add fault");
    }

    pub fn clear(&self) {
        self.proxy.clear_faults();
    }

    /// Milliseconds since the rig's origin (the proxy log's clock).
    pub fn now_ms(&self) -> f64 {
        ms(self.origin.elapsed())
    }

    /// The dependency log, in arrival order (the ring is in completion order).
    pub fn log(&self) -> Vec<LogEntry> {
        let mut log = self.proxy.log_since(0);
        log.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        log
    }

    /// Polls the log until `done` holds (the proxy writes an entry when its exchange ends, which
    /// may be a moment after the service answered its own client). Panics after `cap`.
    pub async fn wait_log(
        &self,
        what: &str,
        cap: Duration,
        done: impl Fn(&[LogEntry]) -> bool,
    ) -> Vec<LogEntry> {
        let deadline = Instant::now() + cap;
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "waited {cap:?} for {what}; log: {}",
                describe(&log)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends `GET /items/1` with the given request id and client key.
    pub async fn get_item(&self, request_id: &str, key: &str) -> Sample {
        let sent = self.now_ms();
        let a = send(
            self.addr(),
            "GET",
            "/items/1",
            &[("x-request-id", request_id), ("x-client-key", key)],
            None,
        )
        .await;
        Sample {
            t_ms: sent,
            request_id: request_id.to_string(),
            status: a.status,
            retry_after: a.retry_after(),
            error_code: a.body["error_code"].as_str().map(str::to_string),
            elapsed_ms: ms(a.elapsed),
        }
    }

    /// Starts a client that sends `GET /items/1` one after the other, pausing `gap` between them,
    /// until `stop` is set (or `cap` has passed, or 5,000 requests were sent).
    pub fn paced_client(
        self: &Arc<Self>,
        key: &'static str,
        gap: Duration,
        cap: Duration,
    ) -> PacedClient {
        let stop = Arc::new(AtomicBool::new(false));
        let (rig, flag) = (Arc::clone(self), Arc::clone(&stop));
        let task = tokio::spawn(async move {
            let deadline = Instant::now() + cap;
            let mut samples = Vec::new();
            for i in 0..5_000 {
                if flag.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    break;
                }
                samples.push(rig.get_item(&format!("{key}-{i}"), key).await);
                tokio::time::sleep(gap).await;
            }
            samples
        });
        PacedClient { stop, task }
    }
}

/// A background client started by `Rig::paced_client`.
pub struct PacedClient {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Sample>>,
}

impl PacedClient {
    /// Stops it and returns what it saw, in send order.
    pub async fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("client task")
    }
}

/// One answer as the client saw it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Send time, ms since the rig's origin.
    pub t_ms: f64,
    pub request_id: String,
    pub status: u16,
    pub retry_after: Option<u64>,
    pub error_code: Option<String>,
    pub elapsed_ms: f64,
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Entries whose exchange the proxy ended with `outcome`.
pub fn with_outcome(log: &[LogEntry], outcome: Outcome) -> Vec<LogEntry> {
    log.iter()
        .filter(|e| e.outcome == outcome)
        .cloned()
        .collect()
}

/// Entries carrying `id` as their correlation id, in arrival order.
pub fn for_request<'a>(log: &'a [LogEntry], id: &str) -> Vec<&'a LogEntry> {
    log.iter()
        .filter(|e| e.correlation_id.as_deref() == Some(id))
        .collect()
}

/// Arrival gaps between consecutive entries, in ms.
pub fn gaps(entries: &[&LogEntry]) -> Vec<f64> {
    entries.windows(2).map(|w| w[1].t_ms - w[0].t_ms).collect()
}

/// The median of `xs` (NaN when empty).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One line per entry, for assertion messages.
pub fn describe(log: &[LogEntry]) -> String {
    let lines: Vec<String> = log
        .iter()
        .map(|e| {
            format!(
                "\n  {:>9.1} ms {:?} fault={:?} status={:?} gave_up={:?} id={:?}",
                e.t_ms, e.outcome, e.fault, e.status, e.gave_up_ms, e.correlation_id
            )
        })
        .collect();
    format!("{} entries{}", log.len(), lines.concat())
}
