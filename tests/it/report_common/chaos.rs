//! A simulated 40 s chaos run against a service with a circuit breaker on UserService: baseline,
//! a 2 s latency fault on UserService from 15 s to 27 s (the service's 250 ms timeout fires, it
//! answers 503 as its fallback, the breaker opens after 5 failures, probes every 5 s), recovery.

use std::collections::BTreeMap;

use base64::Engine;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use redline::result::*;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    /// Judge against a spec (verdicts present) or not (measurements alone).
    pub with_spec: bool,
    /// Multiplies every normal (non-fallback) latency: 1.0 is the reference build.
    pub slowdown: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 42,
            with_spec: true,
            slowdown: 1.0,
        }
    }
}

pub const DURATION_S: f64 = 40.0;
pub const WARMUP_S: f64 = 5.0;
pub const FAULT: (f64, f64) = (15.0, 27.0);
const DEP_TIMEOUT_MS: f64 = 250.0;
const OPEN_MS: f64 = 5000.0;
const THRESHOLD: u32 = 5;

/// SplitMix64: deterministic on every platform, so committed fixtures regenerate byte for byte.
pub struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        (-2.0 * self.unit().ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
    /// Log-normal with the given median and shape, plus a rare slow tail.
    fn latency(&mut self, median: f64, sigma: f64, tail: (f64, f64, f64)) -> f64 {
        let mut v = median * (sigma * self.normal()).exp();
        if self.unit() < tail.0 {
            v += tail.1 + (tail.2 - tail.1) * self.unit();
        }
        v
    }
}

/// One client request as simulated.
#[derive(Debug, Clone)]
pub struct Req {
    pub name: &'static str,
    pub t_ms: f64,
    pub latency_ms: f64,
    pub status: u16,
    /// Whether the service called UserService for it, and how that call ended.
    pub dep_call: Option<DepCall>,
}

#[derive(Debug, Clone, Copy)]
pub struct DepCall {
    pub t_ms: f64,
    pub failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Breaker {
    Closed,
    Open { until: f64 },
    HalfOpen { done: f64 },
}

fn fault(t: f64) -> bool {
    t >= FAULT.0 * 1000.0 && t < FAULT.1 * 1000.0
}

/// The service's breaker on UserService, driven request by request.
struct Breakers {
    state: Breaker,
    consecutive: u32,
    /// Completion times of failed calls still in flight: failures count when their timeout fires.
    pending: Vec<f64>,
    episodes: Vec<BreakerEpisode>,
}

impl Breakers {
    /// Applies everything that completed before `t`: failed calls, a half-open probe's answer.
    fn settle(&mut self, t: f64) {
        self.pending.sort_by(f64::total_cmp);
        while self.pending.first().is_some_and(|&done| done <= t) {
            let done = self.pending.remove(0);
            if self.state == Breaker::Closed {
                self.consecutive += 1;
                if self.consecutive >= THRESHOLD {
                    self.state = Breaker::Open {
                        until: done + OPEN_MS,
                    };
                    self.episodes.push(episode(done, self.consecutive));
                }
            }
        }
        if let Breaker::HalfOpen { done } = self.state {
            if t >= done {
                let failed = fault(done - DEP_TIMEOUT_MS);
                let last = self
                    .episodes
                    .last_mut()
                    .expect("half-open follows an episode");
                last.probes = 1;
                last.outcome = if failed { "reopened" } else { "closed" }.into();
                self.state = if failed {
                    self.episodes.push(episode(done, 1));
                    Breaker::Open {
                        until: done + OPEN_MS,
                    }
                } else {
                    self.consecutive = 0;
                    Breaker::Closed
                };
            }
        }
    }

    /// One get-user request at `t`: a fast fallback while open, a probe or a normal call otherwise.
    fn request(&mut self, rng: &mut Rng, t: f64, slowdown: f64) -> Req {
        match self.state {
            Breaker::Open { until } if t < until => fallback(rng, t),
            Breaker::HalfOpen { .. } => fallback(rng, t),
            Breaker::Open { .. } => {
                let f = fault(t);
                let answered = if f { DEP_TIMEOUT_MS } else { 14.0 };
                self.state = Breaker::HalfOpen { done: t + answered };
                call(rng, t, f, slowdown)
            }
            Breaker::Closed => {
                let req = call(rng, t, fault(t), slowdown);
                match req.dep_call {
                    Some(c) if c.failed => self.pending.push(t + DEP_TIMEOUT_MS),
                    _ => self.consecutive = 0,
                }
                req
            }
        }
    }
}

/// Simulates both request streams and the breaker; returns requests and the breaker episodes.
pub fn simulate(opts: Options) -> (Vec<Req>, Vec<BreakerEpisode>) {
    let mut rng = Rng(opts.seed);
    let mut reqs = Vec::new();
    let mut breaker = Breakers {
        state: Breaker::Closed,
        consecutive: 0,
        pending: Vec::new(),
        episodes: Vec::new(),
    };
    for i in 0..(DURATION_S * 150.0) as u32 {
        let t = f64::from(i) * 1000.0 / 150.0;
        breaker.settle(t);
        reqs.push(breaker.request(&mut rng, t, opts.slowdown));
    }
    for i in 0..(DURATION_S * 100.0) as u32 {
        let t = f64::from(i) * 1000.0 / 100.0 + 3.0;
        let latency_ms = rng.latency(30.0 * opts.slowdown, 0.5, (0.006, 90.0, 260.0));
        reqs.push(Req {
            name: "list-orders",
            t_ms: t,
            latency_ms,
            status: 200,
            dep_call: None,
        });
    }
    reqs.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    let mut episodes = breaker.episodes;
    for e in &mut episodes {
        e.open_for_s = Some(OPEN_MS / 1000.0);
    }
    (reqs, episodes)
}

fn episode(opened_ms: f64, failures: u32) -> BreakerEpisode {
    BreakerEpisode {
        dependency: "UserService".into(),
        opened_at_s: (opened_ms / 1000.0 * 1000.0).round() / 1000.0,
        failures_before_open: u64::from(failures),
        open_for_s: None,
        probes: 0,
        outcome: "unknown".into(),
    }
}

fn fallback(rng: &mut Rng, t: f64) -> Req {
    let latency_ms = 0.9 + 0.6 * rng.unit() - 0.4 * rng.unit().ln();
    Req {
        name: "get-user",
        t_ms: t,
        latency_ms,
        status: 503,
        dep_call: None,
    }
}

fn call(rng: &mut Rng, t: f64, faulted: bool, slowdown: f64) -> Req {
    if faulted {
        let latency_ms = DEP_TIMEOUT_MS + 1.0 + 2.0 * rng.unit();
        let dep_call = Some(DepCall {
            t_ms: t + 0.4,
            failed: true,
        });
        return Req {
            name: "get-user",
            t_ms: t,
            latency_ms,
            status: 503,
            dep_call,
        };
    }
    let latency_ms = rng.latency(12.0 * slowdown, 0.35, (0.005, 20.0, 60.0));
    let dep_call = Some(DepCall {
        t_ms: t + 0.4,
        failed: false,
    });
    Req {
        name: "get-user",
        t_ms: t,
        latency_ms,
        status: 200,
        dep_call,
    }
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

pub fn record(h: &mut Histogram<u64>, ms: f64) {
    h.saturating_record((ms * 1000.0).round().max(1.0) as u64);
}

pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .expect("serialize");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |v: u64| v as f64 / 1000.0;
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Percentiles {
        min: ms(h.min()),
        mean: round(h.mean() / 1000.0),
        p50: ms(h.value_at_quantile(0.5)),
        p90: ms(h.value_at_quantile(0.9)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
    }
}

/// The run as result.json records it.
pub fn chaos_run(opts: Options) -> RunResult {
    let (reqs, episodes) = simulate(opts);
    let duration_s = reqs
        .iter()
        .map(|r| r.t_ms + r.latency_ms)
        .fold(0.0, f64::max)
        / 1000.0;
    let duration_s = (duration_s * 1000.0).round() / 1000.0;
    let completed = reqs.len() as u64;
    let errors = reqs.iter().filter(|r| r.status != 200).count() as u64;
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        scenario: "checkout-chaos".into(),
        scenario_file: Some("scenarios/checkout-chaos.toml".into()),
        seed: opts.seed,
        started_at: "2026-11-21T02:00:00Z".into(),
        duration_s,
        interrupted: false,
        interrupted_by: None,
        run_id: None,
        warmup_s: WARMUP_S,
        http_version: None,
        totals: Totals {
            sent: completed,
            completed,
            errors,
            dropped: 0,
            rps: ((completed as f64 / duration_s) * 10.0).round() / 10.0,
        },
        operations: super::chaos_parts::operations(&reqs, WARMUP_S, f64::MAX),
        timeline: super::chaos_parts::timeline(&reqs),
        phases: super::chaos_parts::phases(&reqs),
        faults: vec![AppliedFault {
            dependency: "UserService".into(),
            kind: "latency".into(),
            params: serde_json::json!({ "delay_ms": 2000, "jitter_ms": 0 }),
            applied_at_s: FAULT.0,
            removed_at_s: Some(FAULT.1),
            source: "schedule".into(),
        }],
        dependencies: BTreeMap::from([(
            "UserService".to_string(),
            super::chaos_parts::dependency(&reqs),
        )]),
        client_log: super::chaos_parts::client_log(&reqs),
        client_log_truncated: true,
        body_samples: Vec::new(),
        idempotency: Vec::new(),
        conflicts: Vec::new(),
        limits: Vec::new(),
        health: super::chaos_parts::health(&episodes),
        ready: None,
        spec: None,
        verdicts: Vec::new(),
        breaker_episodes: episodes,
        fallback_windows: None,
        notes: vec![
            "client log keeps the requests sent from 14.5 s to 16.5 s (bounded sample)".into(),
        ],
        capacity: None,
        segment: None,
        merged: None,
    };
    if opts.with_spec {
        result.spec = Some("specs/userservice.md".into());
        result.verdicts = super::chaos_parts::verdicts(&result);
        result.fallback_windows = Some(super::chaos_parts::fallback_windows(&result));
    }
    result
}
