//! The event-driven service model behind the verdict tests.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use redline::result::*;
use redline::verdict::histogram::encode;
use redline_proxy::log::{LogEntry, Outcome as LogOutcome};

pub const DEP: &str = "UserService";
pub const REQ: &str = "get-item";

#[derive(Debug, Clone, PartialEq)]
pub enum Design {
    None,
    /// Opens after `n` consecutive failed calls.
    Consecutive {
        n: u32,
    },
    /// Opens when at least `min_volume` calls ended in the last `window_ms` and the failed share reaches `threshold`.
    Percentage {
        threshold: f64,
        window_ms: f64,
        min_volume: u32,
    },
    /// Opens when `n` calls failed within the last `window_ms`, successes or not.
    Window {
        n: u32,
        window_ms: f64,
    },
}

#[derive(Debug, Clone)]
pub struct Service {
    pub breaker: Design,
    pub recovery_ms: f64,
    /// Calls let through when half-open; it closes after that many successes, reopens on a failure.
    pub half_open: u32,
    /// Half-open decides only once every trial call has answered (the reference service's design);
    /// otherwise the first failed trial reopens it at once.
    pub half_open_waits_for_all: bool,
    /// Per-call timeout; None: waits as long as the caller (client) does.
    pub timeout_ms: Option<f64>,
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait before retry k+1 (after the k-th failure).
    pub backoff_ms: Vec<f64>,
    /// Relative jitter on each wait.
    pub jitter: f64,
    pub fallback_status: u16,
    /// Whether /health reports the breaker state.
    pub health_tracks_breaker: bool,
    pub forward_ids: bool,
    /// Most calls in flight at once (a connection pool); further calls queue. None: unbounded.
    pub pool: Option<usize>,
    /// The breaker wraps the whole retry loop: it is asked once per request and counts requests.
    pub breaker_outside_retries: bool,
}

impl Service {
    /// The reference service's shape: breaker N=5, 5 s open, 2 probes, 1 s timeout, 3 attempts
    /// with 100 ms / 200 ms ±20% backoff, 503 fallback with Retry-After.
    pub fn reference() -> Service {
        Service {
            breaker: Design::Consecutive { n: 5 },
            recovery_ms: 5000.0,
            half_open: 2,
            half_open_waits_for_all: true,
            timeout_ms: Some(1000.0),
            attempts: 3,
            backoff_ms: vec![100.0, 200.0],
            jitter: 0.2,
            fallback_status: 503,
            health_tracks_breaker: true,
            forward_ids: true,
            pool: None,
            breaker_outside_retries: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    Abort {
        status: u16,
        probability: f64,
    },
    Latency {
        delay_ms: f64,
    },
    Hang,
    /// The proxy's listener is closed: connections are refused and nothing is logged.
    Down,
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub from_ms: f64,
    pub to_ms: f64,
    pub kind: FaultKind,
}

#[derive(Debug, Clone)]
pub struct Load {
    pub rate: f64,
    pub duration_ms: f64,
    pub client_timeout_ms: f64,
    /// Upstream answer time when no fault applies.
    pub upstream_ms: f64,
    pub seed: u64,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            rate: 20.0,
            duration_ms: 40_000.0,
            client_timeout_ms: 10_000.0,
            upstream_ms: 3.0,
            seed: 7,
        }
    }
}

#[derive(Debug)]
enum Breaker {
    Closed {
        streak: u32,
        recent: Vec<(f64, bool)>,
    },
    Open {
        until: f64,
    },
    HalfOpen {
        admitted: u32,
        successes: u32,
        reported: u32,
        failed_any: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ev {
    Arrive(usize),
    Attempt(usize, u32),
    CallEnd(usize, u32, bool),
    ClientDeadline(usize),
}

struct Timed(f64, u64, Ev);
impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
    }
}

#[derive(Debug, Clone, Default)]
struct Req {
    sent: f64,
    answered: Option<(f64, Option<u16>, Option<String>, bool)>,
}

struct Sim<'a> {
    svc: &'a Service,
    load: &'a Load,
    faults: &'a [Fault],
    rng: SmallRng,
    queue: BinaryHeap<Timed>,
    seq: u64,
    breaker: Breaker,
    reqs: Vec<Req>,
    log: Vec<LogEntry>,
    health: Vec<(f64, bool)>,
    in_flight: usize,
    waiting: std::collections::VecDeque<(usize, u32)>,
}

impl Sim<'_> {
    fn at(&mut self, t: f64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Timed(t, self.seq, ev));
    }

    fn allow(&mut self, t: f64) -> bool {
        if let Breaker::Open { until } = self.breaker {
            if t >= until {
                self.breaker = Breaker::HalfOpen {
                    admitted: 0,
                    successes: 0,
                    reported: 0,
                    failed_any: false,
                };
            }
        }
        match &mut self.breaker {
            Breaker::Closed { .. } => true,
            Breaker::Open { .. } => false,
            Breaker::HalfOpen { admitted, .. } => {
                if *admitted < self.svc.half_open {
                    *admitted += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    fn record(&mut self, t: f64, failed: bool) {
        let open = Breaker::Open {
            until: t + self.svc.recovery_ms,
        };
        match (&mut self.breaker, &self.svc.breaker) {
            (_, Design::None) | (Breaker::Open { .. }, _) => {}
            (
                Breaker::HalfOpen {
                    successes,
                    reported,
                    failed_any,
                    ..
                },
                _,
            ) => {
                *reported += 1;
                *failed_any |= failed;
                *successes += u32::from(!failed);
                let decided = if self.svc.half_open_waits_for_all {
                    *reported >= self.svc.half_open
                } else {
                    failed || *successes >= self.svc.half_open
                };
                if decided && *failed_any {
                    self.breaker = open;
                } else if decided {
                    self.breaker = Breaker::Closed {
                        streak: 0,
                        recent: Vec::new(),
                    };
                }
            }
            (Breaker::Closed { streak, recent }, design) => {
                *streak = if failed { *streak + 1 } else { 0 };
                recent.push((t, failed));
                let trip = match design {
                    Design::Consecutive { n } => *streak >= *n,
                    Design::Percentage {
                        threshold,
                        window_ms,
                        min_volume,
                    } => {
                        recent.retain(|(x, _)| *x > t - window_ms);
                        let fails = recent.iter().filter(|(_, f)| *f).count() as f64;
                        recent.len() as u32 >= *min_volume
                            && fails / recent.len() as f64 >= *threshold
                    }
                    Design::Window { n, window_ms } => {
                        recent.retain(|(x, _)| *x > t - window_ms);
                        failed && recent.iter().filter(|(_, f)| *f).count() as u32 >= *n
                    }
                    Design::None => false,
                };
                if trip {
                    self.breaker = open;
                }
            }
        }
    }

    fn fault_at(&self, t: f64) -> Option<&Fault> {
        self.faults.iter().find(|f| t >= f.from_ms && t < f.to_ms)
    }

    fn answer(
        &mut self,
        r: usize,
        t: f64,
        status: Option<u16>,
        error: Option<&str>,
        retry_after: bool,
    ) {
        let req = &mut self.reqs[r];
        if req.answered.is_none() {
            req.answered = Some((t, status, error.map(str::to_string), retry_after));
        }
    }

    /// One call through the proxy: what the proxy logs, and when and how the service learns the outcome.
    fn call(&mut self, r: usize, k: u32, t: f64) {
        let deadline = self.reqs[r].sent + self.load.client_timeout_ms;
        let give_up = |hold: f64| -> Option<f64> {
            let own = self.svc.timeout_ms.filter(|tm| *tm < hold);
            let client = (deadline - t < hold).then_some(deadline - t);
            match (own, client) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let fault = self.fault_at(t).map(|f| f.kind.clone());
        if fault == Some(FaultKind::Down) {
            self.in_flight += 1;
            self.at(t + 0.2, Ev::CallEnd(r, k, true));
            return;
        }
        let up = self.load.upstream_ms;
        let (fault_name, outcome, status, upstream_status, total, gave_up, failed) = match fault {
            Some(FaultKind::Abort {
                status,
                probability,
            }) if self.rng.gen::<f64>() < probability => (
                Some("abort"),
                LogOutcome::Aborted,
                Some(status),
                None,
                0.3,
                None,
                status >= 500,
            ),
            Some(FaultKind::Latency { delay_ms }) => match give_up(delay_ms + up) {
                Some(g) => (
                    Some("latency"),
                    LogOutcome::CallerGaveUp,
                    None,
                    None,
                    g,
                    Some(g),
                    true,
                ),
                None => (
                    Some("latency"),
                    LogOutcome::Forwarded,
                    Some(200),
                    Some(200),
                    delay_ms + up,
                    None,
                    false,
                ),
            },
            Some(FaultKind::Hang) => {
                let g = give_up(f64::INFINITY).expect("the client always gives up");
                (
                    Some("hang"),
                    LogOutcome::CallerGaveUp,
                    None,
                    None,
                    g,
                    Some(g),
                    true,
                )
            }
            _ => (
                None,
                LogOutcome::Forwarded,
                Some(200),
                Some(200),
                up,
                None,
                false,
            ),
        };
        self.in_flight += 1;
        self.log.push(LogEntry {
            seq: self.log.len() as u64,
            t_ms: t,
            method: "GET".into(),
            path: "/users/1".into(),
            correlation_id: self.svc.forward_ids.then(|| format!("r{r}")),
            trace_id: None,
            fault: fault_name.map(str::to_string),
            outcome,
            status,
            upstream_status,
            upstream_ms: upstream_status.map(|_| total),
            gave_up_ms: gave_up,
            total_ms: total,
            h2: None,
        });
        self.at(t + total, Ev::CallEnd(r, k, failed));
    }

    fn step(&mut self, t: f64, ev: Ev) {
        match ev {
            Ev::Arrive(r) => {
                self.at(t + 0.5, Ev::Attempt(r, 0));
                self.at(t + self.load.client_timeout_ms, Ev::ClientDeadline(r));
            }
            Ev::Attempt(r, k) => {
                let asks = k == 0 || !self.svc.breaker_outside_retries;
                if self.reqs[r].answered.is_some() {
                } else if !asks || self.allow(t) {
                    if self.svc.pool.is_some_and(|p| self.in_flight >= p) {
                        self.waiting.push_back((r, k));
                    } else {
                        self.call(r, k, t);
                    }
                } else {
                    self.answer(r, t + 1.0, Some(self.svc.fallback_status), None, true);
                }
            }
            Ev::CallEnd(r, k, failed) => {
                self.in_flight -= 1;
                while let Some((w, wk)) = self.waiting.pop_front() {
                    if self.reqs[w].answered.is_none() {
                        self.call(w, wk, t);
                        break;
                    }
                }
                let last = !failed || k + 1 >= self.svc.attempts;
                if last || !self.svc.breaker_outside_retries {
                    self.record(t, failed);
                }
                if !failed {
                    self.answer(r, t + 1.0, Some(200), None, false);
                } else if k + 1 < self.svc.attempts {
                    let base = self
                        .svc
                        .backoff_ms
                        .get(k as usize)
                        .or(self.svc.backoff_ms.last())
                        .copied()
                        .unwrap_or(0.0);
                    let wait = base * (1.0 + self.svc.jitter * (2.0 * self.rng.gen::<f64>() - 1.0));
                    self.at(t + wait, Ev::Attempt(r, k + 1));
                } else {
                    self.answer(r, t + 1.0, Some(self.svc.fallback_status), None, true);
                }
            }
            Ev::ClientDeadline(r) => self.answer(r, t, None, Some("timeout"), false),
        }
    }
}

/// Runs the model and returns what a chaos run would have written.
pub fn simulate(svc: &Service, load: &Load, faults: &[Fault]) -> RunResult {
    let mut sim = Sim {
        svc,
        load,
        faults,
        rng: SmallRng::seed_from_u64(load.seed),
        queue: BinaryHeap::new(),
        seq: 0,
        breaker: Breaker::Closed {
            streak: 0,
            recent: Vec::new(),
        },
        reqs: Vec::new(),
        log: Vec::new(),
        health: Vec::new(),
        in_flight: 0,
        waiting: std::collections::VecDeque::new(),
    };
    let gap = 1000.0 / load.rate;
    let mut t = 0.0;
    while t < load.duration_ms {
        let r = sim.reqs.len();
        sim.reqs.push(Req {
            sent: t,
            answered: None,
        });
        sim.at(t, Ev::Arrive(r));
        // Evenly spaced with ±20% jitter, so calls and give-ups interleave as they would for real.
        t += gap * (0.8 + 0.4 * sim.rng.gen::<f64>());
    }
    let mut next_health = 0.0;
    while let Some(Timed(t, _, ev)) = sim.queue.pop() {
        while next_health <= t && next_health < load.duration_ms {
            let ok = !svc.health_tracks_breaker || matches!(sim.breaker, Breaker::Closed { .. });
            sim.health.push((next_health, ok));
            next_health += 500.0;
        }
        sim.step(t, ev);
    }
    super::sim_result::assemble(&sim.reqs_view(), sim.log, &sim.health, faults, load)
}

impl Sim<'_> {
    fn reqs_view(&self) -> Vec<ClientLogEntry> {
        self.reqs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (end, status, error, retry_after) =
                    r.answered.clone().expect("every request is answered");
                ClientLogEntry {
                    t_ms: r.sent,
                    request: REQ.into(),
                    request_id: Some(format!("r{i}")),
                    trace_id: None,
                    status,
                    // As the engine reports an answer outside `expect_status`.
                    error: error.or_else(|| {
                        status
                            .filter(|s| *s >= 500)
                            .map(|_| "status_unexpected".to_string())
                    }),
                    latency_ms: end - r.sent,
                    retry_after,
                    grpc_status: None,
                }
            })
            .collect()
    }
}

/// Per-operation statistics of the client entries, the way the engine reports them.
pub fn op_stats(entries: &[&ClientLogEntry]) -> OperationStats {
    let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
    let mut s = OperationStats {
        operation: Some("GET item".into()),
        ..OperationStats::default()
    };
    for c in entries {
        h.record((c.latency_ms * 1000.0).max(1.0) as u64).unwrap();
        s.count += 1;
        match (c.status, &c.error) {
            (Some(code), _) => {
                *s.status.entry(code.to_string()).or_default() += 1;
                if code >= 500 {
                    s.errors += 1;
                    *s.error_kinds.entry("status_unexpected".into()).or_default() += 1;
                }
            }
            (None, Some(e)) => {
                s.errors += 1;
                *s.error_kinds.entry(e.clone()).or_default() += 1;
            }
            _ => {}
        }
    }
    let q = |x: f64| h.value_at_quantile(x) as f64 / 1000.0;
    s.latency_ms = Percentiles {
        min: h.min() as f64 / 1000.0,
        mean: h.mean() / 1000.0,
        p50: q(0.5),
        p90: q(0.9),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: h.max() as f64 / 1000.0,
    };
    s.service_time_ms = s.latency_ms;
    s.histogram = encode(&h);
    s
}

pub fn by_name(stats: OperationStats) -> BTreeMap<String, OperationStats> {
    BTreeMap::from([(REQ.to_string(), stats)])
}
