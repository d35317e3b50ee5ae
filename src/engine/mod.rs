//! Load engine: a validated `Plan` -> `Measurements`. Knows nothing of output formats.
//!
//! `run` starts one worker thread per core, each with its own current-thread runtime and its
//! own connections, and aggregates their per-second reports into a bounded timeline (and an
//! optional live feed). `collect` turns measurements into a `result::RunResult`, and
//! `run_scenario` does both for the CLI.

mod aggregate;
pub mod bodies;
pub mod collect;
mod conn;
pub mod failure;
mod http1;
pub mod http2;
pub mod idempotency;
pub mod interface_probes;
mod io;
mod one_shot;
pub mod request;
pub mod run;
pub mod schedule;
pub mod segment;
pub mod stats;
pub(crate) mod tls;
pub mod trace;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::ServerName;
use tokio::sync::{mpsc, watch};

use crate::result::TimelineBucket;
use crate::scenario::{phase_windows, HttpVersion, Model, PhaseWindow, Plan, Scheme};

pub use request::RequestGen;
pub use run::{run_scenario, RunError, RunOptions};
pub use segment::Segment;
pub use stats::{FailKind, LogRow, SlotStats};

/// Longest client log kept in a result (entries).
pub const CLIENT_LOG_CAP: usize = 100_000;

/// Tells a running engine to stop (Ctrl-C, external cancel). Cheap to clone.
#[derive(Clone)]
pub struct StopSignal {
    tx: Arc<watch::Sender<bool>>,
}

impl StopSignal {
    pub fn new() -> Self {
        StopSignal {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    pub fn stop(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.tx.borrow()
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

/// How the engine is driven; a chaos run shares `origin` with its fault proxies.
pub struct EngineOptions {
    /// t = 0 of the run: arrivals are scheduled from here.
    pub origin: Instant,
    /// Wall-clock time of `origin`, for `started_at`.
    pub started_at: SystemTime,
    pub stop: StopSignal,
    /// Phase windows to keep statistics for (default: `scenario::phase_windows(plan)`).
    pub phases: Vec<PhaseWindow>,
    /// Receives each finished second of the timeline, for a live view.
    pub live: Option<mpsc::UnboundedSender<TimelineBucket>>,
    /// Worker threads (default: available cores, at most the connection limit).
    pub workers: Option<usize>,
    /// This process's share of a distributed run (None: the whole run, nothing extra kept).
    /// A segment keeps what a merge needs: service-time and per-second histograms.
    pub segment: Option<Segment>,
    /// Arrivals due before this offset from t = 0 are dropped and counted as missed (a segment
    /// that started after its `--start-at`).
    pub missed_before: Duration,
}

impl EngineOptions {
    /// Starts the clock now, with default phases for `plan`.
    pub fn now(plan: &Plan) -> Self {
        EngineOptions {
            origin: Instant::now(),
            started_at: SystemTime::now(),
            stop: StopSignal::new(),
            phases: phase_windows(plan),
            live: None,
            workers: None,
            segment: None,
            missed_before: Duration::ZERO,
        }
    }
}

/// Everything a run measured, before it is shaped into a result.
pub struct Measurements {
    pub started_at: SystemTime,
    /// From t = 0 until the last request settled.
    pub elapsed: Duration,
    pub interrupted: bool,
    pub phases: Vec<PhaseWindow>,
    /// Per operation, per slot: slot 0 the measured run (after warmup), slot k phase k - 1.
    pub ops: Vec<Vec<SlotStats>>,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Of `dropped`: arrivals due before the process started (`EngineOptions::missed_before`).
    pub missed: u64,
    pub timeline: Vec<TimelineBucket>,
    /// Sorted by intended send time.
    pub client_log: Vec<LogRow>,
    pub client_log_truncated: bool,
    /// The first failure texts per operation × kind (whole run, warmup included).
    pub samples: failure::samples::ErrorSamples,
    /// Sampled response bodies per request × phase × status, merged (whole run).
    pub bodies: Vec<bodies::Slot>,
    /// Builds requests; also renders request ids for the client log.
    pub gen: Arc<RequestGen>,
    /// The segment this process ran, when it ran one (`EngineOptions::segment`).
    pub segment: Option<Segment>,
    /// The run spoke HTTP/2.
    pub http2: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot resolve target host {host:?}: {why}")]
    Resolve { host: String, why: String },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("{0}")]
    Request(#[from] request::BuildError),
    #[error("cannot start a worker thread: {0}")]
    Thread(std::io::Error),
    #[error("request `{name}`: {why}")]
    Grpc { name: String, why: String },
}

/// What every worker shares (read-only).
pub(crate) struct Shared {
    pub gen: Arc<RequestGen>,
    pub addr: SocketAddr,
    /// host:port of the base URL, for failure texts.
    pub authority: String,
    pub tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    /// Speak HTTP/2 (`http = "2"`, or "auto" when the server's ALPN chose h2).
    pub http2: bool,
    /// HTTP/2: streams per connection at once.
    pub streams: usize,
    /// `host[:port]` as sent in `:authority`.
    pub authority_header: http::uri::Authority,
    /// Per operation: its gRPC method, for gRPC requests.
    pub grpc: Vec<Option<http2::grpc::GrpcMethod>>,
    pub load: crate::scenario::Load,
    pub seed: u64,
    /// This process's share of the run (`Segment::WHOLE` when alone).
    pub segment: Segment,
    /// Arrivals due before this (µs from t = 0) are dropped as missed.
    pub missed_before_us: u64,
    pub timeout: Duration,
    pub conn_cap: usize,
    pub in_flight_cap: usize,
    pub warmup_us: u64,
    pub windows_us: Vec<(u64, u64)>,
    /// Per operation: `expects[op][status]`.
    pub expects: Vec<Vec<bool>>,
    pub log: LogPolicy,
    /// Whether answers' bodies are sampled (`[target] sample_bodies`, `--no-bodies`).
    pub bodies: bool,
}

impl Shared {
    /// Slots per operation: the measured run plus one per phase.
    pub fn slots(&self) -> usize {
        1 + self.windows_us.len()
    }
}

/// Which requests go to the client log: all on short runs, else those near fault windows.
pub(crate) struct LogPolicy {
    pub all: bool,
    pub windows_us: Vec<(u64, u64)>,
    pub cap: usize,
}

impl LogPolicy {
    #[inline]
    pub fn wants(&self, t_us: u64) -> bool {
        self.all || self.windows_us.iter().any(|(a, b)| *a <= t_us && t_us < *b)
    }
}

/// Runs `plan` to the end (or until `opts.stop`), and returns what was measured.
pub async fn run(plan: &Plan, opts: EngineOptions) -> Result<Measurements, EngineError> {
    let addr = resolve(plan).await?;
    let segment = opts.segment.unwrap_or(Segment::WHOLE);
    let workers = worker_count(plan, opts.workers, segment);
    let http2 = negotiate(plan, addr).await?;
    let mut shared = shared(plan, &opts.phases, addr, workers, segment, http2)?;
    shared.missed_before_us = opts.missed_before.as_micros() as u64;
    let shared = Arc::new(shared);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut handles = Vec::with_capacity(workers);
    for id in 0..workers {
        let (shared, stop, tx, origin) = (
            shared.clone(),
            opts.stop.subscribe(),
            tx.clone(),
            opts.origin,
        );
        let handle = std::thread::Builder::new()
            .name(format!("redline-worker-{id}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime builds");
                rt.block_on(worker::Worker::new(id, workers, shared, origin, stop, tx).run());
            })
            .map_err(EngineError::Thread)?;
        handles.push(handle);
    }
    drop(tx);
    let agg = aggregate::aggregate(
        rx,
        workers,
        plan.requests.len(),
        shared.slots(),
        &plan.requests,
        opts.live,
        opts.segment.is_some(),
    )
    .await;
    for h in handles {
        let _ = h.join();
    }
    Ok(Measurements {
        started_at: opts.started_at,
        elapsed: agg.end,
        interrupted: opts.stop.is_stopped(),
        phases: opts.phases,
        ops: agg.ops,
        sent: agg.sent,
        completed: agg.completed,
        errors: agg.errors,
        dropped: agg.dropped,
        missed: agg.missed,
        timeline: agg
            .timeline
            .iter()
            .map(|s| aggregate::expand(s, &plan.requests))
            .collect(),
        client_log: agg.log,
        client_log_truncated: agg.log_truncated,
        samples: agg.samples,
        bodies: bodies::merge(agg.bodies, plan.seed),
        gen: shared.gen.clone(),
        segment: opts.segment,
        http2: shared.http2,
    })
}

fn worker_count(plan: &Plan, asked: Option<usize>, segment: Segment) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut n = asked.unwrap_or(cores).max(1);
    let conns = segment.share_of(u64::from(plan.target.max_connections.get()));
    n = n.min(conns.max(1) as usize);
    if let Model::Closed { users, .. } = &plan.load.model {
        n = n.min(segment.share_of(u64::from(users.get())).max(1) as usize);
    }
    n
}

async fn resolve(plan: &Plan) -> Result<SocketAddr, EngineError> {
    let url = &plan.target.base_url;
    let host = url.host.clone();
    let err = |why: String| EngineError::Resolve {
        host: host.clone(),
        why,
    };
    let mut addrs = tokio::net::lookup_host((url.host.as_str(), url.port))
        .await
        .map_err(|e| err(e.to_string()))?;
    addrs.next().ok_or_else(|| err("no address".into()))
}

/// The TLS setup of a run (None for http://), offering `alpn`.
fn tls_for(
    plan: &Plan,
    alpn: &[&[u8]],
) -> Result<Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>, EngineError> {
    match plan.target.base_url.scheme {
        Scheme::Http => Ok(None),
        Scheme::Https => {
            let ca = plan.target.ca_file.as_ref().map(|c| c.path.as_path());
            let config = tls::client_config_alpn(plan.target.insecure_tls, ca, alpn)
                .map_err(EngineError::Tls)?;
            let name = ServerName::try_from(plan.target.base_url.host.clone())
                .map_err(|e| EngineError::Tls(e.to_string()))?;
            Ok(Some((config, name)))
        }
    }
}

/// Whether the run speaks HTTP/2: "2" does; "1.1" does not; "auto" on https:// asks the
/// server once, before the run, with ALPN offering h2 and http/1.1, and every connection then
/// speaks what it chose (HTTP/1.1 when the probe cannot connect: the run's own connections
/// then report why). "auto" on http:// is HTTP/1.1 (no ALPN without TLS).
async fn negotiate(plan: &Plan, addr: SocketAddr) -> Result<bool, EngineError> {
    match plan.target.http {
        HttpVersion::Http1 => Ok(false),
        HttpVersion::Http2 => Ok(true),
        HttpVersion::Auto => {
            let Some(tls) = tls_for(plan, tls::ALPN_AUTO)? else {
                return Ok(false);
            };
            let probe = conn::Connector::new(addr, Some(tls));
            let within = plan.target.timeout.min(Duration::from_secs(5));
            let io = tokio::time::timeout(within, probe.connect_io()).await;
            Ok(matches!(io, Ok(Ok(io::Io::Tls(t))) if t.get_ref().1.alpn_protocol() == Some(b"h2")))
        }
    }
}

fn shared(
    plan: &Plan,
    phases: &[PhaseWindow],
    addr: SocketAddr,
    workers: usize,
    segment: Segment,
    http2: bool,
) -> Result<Shared, EngineError> {
    let us = |d: Duration| d.as_micros() as u64;
    let alpn = if http2 { tls::ALPN_H2 } else { tls::ALPN_H1 };
    let tls = tls_for(plan, alpn)?;
    let grpc = plan
        .requests
        .iter()
        .map(|r| match &r.grpc {
            None => Ok(None),
            Some(g) => http2::grpc::load(&g.proto, &g.method)
                .map(Some)
                .map_err(|why| EngineError::Grpc {
                    name: r.name.clone(),
                    why,
                }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let run_id = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ d.as_secs() as u32);
    let (open, in_flight) = match &plan.load.model {
        Model::Open { .. } => (true, plan.load.max_in_flight.get() as usize),
        Model::Closed { .. } => (false, usize::MAX),
    };
    Ok(Shared {
        gen: Arc::new(RequestGen::new(plan, run_id)?),
        addr,
        authority: authority(&plan.target.base_url),
        tls,
        http2,
        streams: plan.target.streams_per_connection.get() as usize,
        authority_header: http::uri::Authority::try_from(plan.target.base_url.authority())
            .map_err(|e| EngineError::Resolve {
                host: plan.target.base_url.authority(),
                why: e.to_string(),
            })?,
        grpc,
        load: plan.load.clone(),
        seed: plan.seed,
        segment,
        missed_before_us: 0,
        timeout: plan.target.timeout,
        // The scenario's limits are the whole run's: each segment holds its share of them.
        conn_cap: (segment.share_of(u64::from(plan.target.max_connections.get())) as usize
            / workers)
            .max(1),
        in_flight_cap: if open {
            (segment.share_of(in_flight as u64) as usize / workers).max(1)
        } else {
            in_flight
        },
        warmup_us: us(plan.load.warmup),
        windows_us: phases.iter().map(|p| (us(p.from), us(p.to))).collect(),
        expects: plan
            .requests
            .iter()
            .map(|r| (0..1000).map(|s| r.expects(s as u16)).collect())
            .collect(),
        log: log_policy(plan, workers),
        bodies: plan.target.sample_bodies,
    })
}

/// "localhost:18443", "[::1]:8080": the base URL's host and port.
fn authority(url: &crate::scenario::BaseUrl) -> String {
    if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    }
}

/// The client log is for correlating with the dependency log: every request on short runs
/// (and closed-model chaos runs without faults, whose length is unknown in advance), otherwise
/// the requests within 5 s of a fault window. Plain long runs keep none.
fn log_policy(plan: &Plan, workers: usize) -> LogPolicy {
    let us = |d: Duration| d.as_micros() as u64;
    let margin = 5_000_000;
    let chaos = !plan.dependencies.is_empty() || !plan.faults.is_empty();
    let all = match plan.load.expected_arrivals() {
        Some(n) => n <= CLIENT_LOG_CAP as f64,
        None => chaos && plan.faults.is_empty(),
    };
    let windows_us = plan
        .faults
        .iter()
        .map(|f| (us(f.at).saturating_sub(margin), us(f.end()) + margin))
        .collect();
    LogPolicy {
        all,
        windows_us,
        cap: CLIENT_LOG_CAP / workers.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(load: &str, chaos: &str) -> Plan {
        let src = format!(
            "name = \"t\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nallowed_hosts = [\"127.0.0.1\"]\n[load]\n{load}\n[[request]]\nname = \"r\"\npath = \"/\"\n{chaos}"
        );
        crate::scenario::parse(&src, "t.toml").unwrap()
    }

    const DEP: &str =
        "[[dependency]]\nname = \"D\"\nlisten = \"127.0.0.1:2\"\nupstream = \"127.0.0.1:3\"\n";

    #[test]
    fn client_log_policy() {
        let short = log_policy(
            &plan("stages = [ { duration = \"10s\", rate = 100 } ]", ""),
            2,
        );
        assert!(short.all && short.cap == CLIENT_LOG_CAP / 2);
        let long = log_policy(
            &plan("stages = [ { duration = \"100s\", rate = 5000 } ]", ""),
            1,
        );
        assert!(!long.all && !long.wants(1_000_000));
        let fault = format!("{DEP}[[fault]]\ndependency = \"D\"\nat = \"50s\"\nduration = \"10s\"\nkind = \"abort\"\n");
        let around = log_policy(
            &plan("stages = [ { duration = \"100s\", rate = 5000 } ]", &fault),
            1,
        );
        assert!(
            !around.wants(44_000_000)
                && around.wants(46_000_000)
                && around.wants(64_000_000)
                && !around.wants(66_000_000)
        );
        let closed = "model = \"closed\"\nusers = 2\nduration = \"1h\"";
        assert!(!log_policy(&plan(closed, ""), 1).all);
        assert!(log_policy(&plan(closed, DEP), 1).all);
    }
}
