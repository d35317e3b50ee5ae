//! result.json: the versioned record of one run, written by `run`, read by `verdict` and `report`.
//!
//! This is a boundary type (it is the file users script against), so it derives serde. Adding
//! optional fields is fine; renaming or removing one means bumping `SCHEMA_VERSION` and the JSON
//! Schema in `schema/result.schema.json`.

mod bodies;
mod capacity;
mod idempotency;
mod probes;

use std::collections::BTreeMap;

use redline_proxy::log::LogEntry;
use redline_proxy::tcp::ConnEntry;
use serde::{Deserialize, Serialize};

pub use bodies::{BodySample, BodySampleSet};
pub use capacity::{Capacity, CapacityStep, LimitingClaim, StepClaim, StepOperation};
pub use idempotency::{IdempotencyProbe, ProbeAnswer};
pub use probes::{ConflictProbe, LimitProbe};
mod segment;
pub use segment::{MergeInfo, SegmentInfo};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub schema_version: u32,
    /// The scenario's `name`.
    pub scenario: String,
    /// Path of the scenario file as given on the command line, if any.
    #[serde(default)]
    pub scenario_file: Option<String>,
    pub seed: u64,
    /// RFC 3339 UTC timestamp of the run's clock origin (t = 0).
    pub started_at: String,
    /// Wall time from t = 0 until the last in-flight request was settled.
    pub duration_s: f64,
    /// True when the run was stopped early (Ctrl-C or an error); the figures cover what was measured.
    pub interrupted: bool,
    /// What stopped an interrupted run: `SIGINT`, `SIGTERM`, `SIGHUP`, or `control-lost` (the run
    /// could not renew its fault lease on an attached proxy and stopped itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_by: Option<String>,
    /// The run's id: the owner of the faults it installed on attached proxies (their lease).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Seconds of warmup at the start: measured, in the timeline, but excluded from `operations`.
    #[serde(default)]
    pub warmup_s: f64,
    /// The HTTP version the load spoke: "2" for HTTP/2 (`http = "2"`, or "auto" when the
    /// server's ALPN chose h2); absent for HTTP/1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_version: Option<String>,
    pub totals: Totals,
    /// Keyed by the scenario's `[[request]] name`; statistics exclude the warmup.
    pub operations: BTreeMap<String, OperationStats>,
    /// One bucket per second of the run, t = 0 first.
    pub timeline: Vec<TimelineBucket>,
    /// Statistics per phase (warmup, baseline, each fault window, recovery, or the scenario's own).
    #[serde(default)]
    pub phases: Vec<PhaseStats>,
    /// Faults as they were applied, on the run's clock.
    #[serde(default)]
    pub faults: Vec<AppliedFault>,
    /// Per dependency (keyed by the scenario's `[[dependency]] name`): what the dependency side saw.
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencyReport>,
    /// A bounded sample of individual client requests (all of them on short runs; around fault
    /// windows otherwise), for correlation with the dependency log.
    #[serde(default)]
    pub client_log: Vec<ClientLogEntry>,
    #[serde(default)]
    pub client_log_truncated: bool,
    /// A bounded sample of response bodies per request × phase × status (`--no-bodies`: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body_samples: Vec<BodySampleSet>,
    /// Per `[[request]] idempotency`: the probe's sends of one key (absent when none is marked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idempotency: Vec<IdempotencyProbe>,
    /// Per `[[request]] stale_version`: the read, the current update and the stale resend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<ConflictProbe>,
    /// Per `[[request]] probe_limits` and stated limit: the one send beyond it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitProbe>,
    /// Samples of the target's health endpoint (when the scenario names `health_path`), in time order.
    #[serde(default)]
    pub health: Vec<HealthSample>,
    /// Samples of the target's readiness endpoint (`ready_path`, or the spec's ready path), taken
    /// beside `health`; absent when the run sampled none (and in results written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<ReadySamples>,
    /// Path of the spec judged, if any.
    #[serde(default)]
    pub spec: Option<String>,
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// Circuit-breaker episodes seen from outside, per dependency, whether or not the spec claims one.
    #[serde(default)]
    pub breaker_episodes: Vec<BreakerEpisode>,
    /// When the spec's fallback status was the promised answer (a dependency with a fallback was
    /// down or its breaker open), as the error-rate verdicts decided it; the report's tables split
    /// those answers from the errors by the same rule. None: not judged, or recorded before
    /// redline kept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_windows: Option<Vec<FallbackWindow>>,
    /// Free-form notes from the run (e.g. "interrupted by Ctrl-C at 12.3 s").
    #[serde(default)]
    pub notes: Vec<String>,
    /// `redline capacity`: the search's answer and steps; absent for other runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    /// A segment of a distributed run (`redline run --segment I/N`); absent on plain runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
    /// A merged result (`redline merge`): the segments it holds and those missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests actually sent (arrivals minus drops).
    pub sent: u64,
    /// Requests that got a response (any status).
    pub completed: u64,
    /// Requests that failed: transport error, timeout, or a status not in `expect_status`.
    pub errors: u64,
    /// Open-model arrivals dropped because `max_in_flight` was reached (counted, never sent).
    pub dropped: u64,
    /// Completed requests per second over `duration_s`.
    pub rps: f64,
}

/// Latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationStats {
    /// The spec row this request exercises (`[[request]] operation`), if given.
    pub operation: Option<String>,
    /// Requests settled (completed or failed).
    pub count: u64,
    pub errors: u64,
    /// Responses by status code ("200": n).
    pub status: BTreeMap<String, u64>,
    /// Failures by kind ("timeout": n, "connect": n, "status_unexpected": n ...).
    pub error_kinds: BTreeMap<String, u64>,
    /// gRPC requests: answers by `grpc-status` name ("OK": n, "UNAVAILABLE": n); empty otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grpc_status: BTreeMap<String, u64>,
    /// Latency from the intended send time (includes queueing in the generator).
    pub latency_ms: Percentiles,
    /// Latency from the actual send time.
    pub service_time_ms: Percentiles,
    /// The latency HdrHistogram (microseconds), V2 compressed, base64.
    pub histogram: String,
    /// The first few failure messages of each kind, verbatim (whole run, warmup included;
    /// only in the run's `operations`, not per phase). Empty when nothing failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_errors: Vec<FirstError>,
    /// The service-time HdrHistogram, same encoding; kept by segment runs for `redline merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_histogram: Option<String>,
}

/// One failure message as the client saw it, the first time it was seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FirstError {
    /// Failure kind (same names as `error_kinds`).
    pub kind: String,
    /// The error and its causes, e.g. "Connection refused (os error 111) to 127.0.0.1:8080".
    pub message: String,
    /// When a request first failed with it, ms since t = 0.
    pub t_ms: f64,
    /// What usually fixes it, naming the scenario key, when redline knows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpSecond {
    pub count: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// This second's latency HdrHistogram (µs, 2 digits), V2 compressed, base64; kept by segment
    /// runs so `redline merge` can give exact per-second percentiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineBucket {
    /// Second since t = 0 (bucket covers [t_s, t_s + 1)).
    pub t_s: u32,
    /// Arrivals scheduled in this second that were sent.
    pub sent: u64,
    /// Requests settled in this second.
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// "2xx", "3xx", "4xx", "5xx" counts of responses settled in this second.
    pub status_classes: BTreeMap<String, u64>,
    /// Per request name; latency of requests settled in this second.
    pub ops: BTreeMap<String, OpSecond>,
    /// Requests in flight at the end of the second.
    pub in_flight: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    Warmup,
    Baseline,
    Fault,
    Recovery,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseStats {
    pub name: String,
    pub kind: PhaseKind,
    pub from_s: f64,
    pub to_s: f64,
    /// Requests are assigned to the phase containing their intended send time.
    pub operations: BTreeMap<String, OperationStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedFault {
    pub dependency: String,
    /// Fault kind: latency, abort, hang, reset, truncate, throttle, down.
    pub kind: String,
    /// The fault's parameters as applied (status, delay, probability ...).
    pub params: serde_json::Value,
    /// Seconds since t = 0 when the fault took effect.
    pub applied_at_s: f64,
    /// Seconds since t = 0 when it was removed (None: still active when the run ended).
    pub removed_at_s: Option<f64>,
    /// "schedule" for the scenario timeline, otherwise who changed it (e.g. "api 127.0.0.1:53122").
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencySecond {
    pub t_s: u32,
    pub requests: u64,
    /// Upstream answered with a status < 500 and nothing was injected.
    pub ok: u64,
    /// Anything else: injected fault, upstream 5xx or error, caller gave up.
    pub failed: u64,
    pub faulted: u64,
    pub gave_up: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencyReport {
    pub listen: String,
    pub upstream: String,
    pub protocol: String,
    pub requests: u64,
    pub per_second: Vec<DependencySecond>,
    /// Count per outcome (forwarded, aborted, caller_gave_up ...).
    pub outcomes: BTreeMap<String, u64>,
    /// Count per injected fault kind.
    pub faults_injected: BTreeMap<String, u64>,
    /// Distribution of the caller's give-up times (ms from arrival), if any call was given up.
    pub gave_up_ms: Option<Percentiles>,
    /// Raw entries around fault windows (bounded; see `log_truncated`).
    pub log: Vec<LogEntry>,
    pub log_truncated: bool,
    /// TCP dependencies: the proxy's connection log (who closed each connection first, when the
    /// service gave up on an answer a toxic held). None for HTTP ones and older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<TcpConnections>,
    /// HTTP dependencies whose proxy met its connection cap during the run: callers refused and
    /// idle connections shed. None when the cap was never reached (and in older results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_cap: Option<ConnectionCap>,
}

/// What an HTTP dependency's proxy did at its connection cap during the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionCap {
    /// The proxy's cap on open caller connections.
    pub max_connections: u64,
    /// New callers refused (every open connection was serving a request).
    pub refused: u64,
    /// Idle or slow-head connections closed to make room for new callers.
    pub shed: u64,
    /// First and last refusal, seconds on the run's clock (absent when none was refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_from_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_to_s: Option<f64>,
}

/// A TCP dependency's connections that ended during the run, as its proxy logged them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TcpConnections {
    /// Connections that ended during the run.
    pub total: u64,
    /// Count by who closed first: client, upstream, toxic, proxy, upstream_unreachable.
    pub closed_by: BTreeMap<String, u64>,
    /// Count per toxic type that ended a connection (reset_peer, timeout, limit_data).
    #[serde(default)]
    pub closed_by_toxic: BTreeMap<String, u64>,
    /// Connections the client (the service) closed while a toxic held bytes; how long the held
    /// bytes had waited (each entry's `held_ms`) is in the dependency's `gave_up_ms`.
    pub gave_up: u64,
    /// Raw entries, the first ones up to a bound (see `log_truncated`).
    pub log: Vec<ConnEntry>,
    /// True when entries were left out (bound reached, or the proxy's ring dropped some).
    pub log_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientLogEntry {
    /// Intended send time, ms since t = 0.
    pub t_ms: f64,
    /// `[[request]] name`.
    pub request: String,
    /// The value sent in `request_id_header`, if one was sent.
    pub request_id: Option<String>,
    /// The trace id sent in the request's W3C `traceparent`, when the engine sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub status: Option<u16>,
    /// Error kind if the request failed (same names as `error_kinds`).
    pub error: Option<String>,
    /// Latency from intended send time, ms.
    pub latency_ms: f64,
    /// True when a `Retry-After` header was present in the response.
    #[serde(default)]
    pub retry_after: bool,
    /// gRPC requests: the answer's `grpc-status` code (0 = OK, 14 = UNAVAILABLE ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictStatus {
    Pass,
    Fail,
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Stable id, e.g. "latency.get-by-id.p99" or "breaker.userservice.failure_threshold".
    pub id: String,
    /// The claim in words.
    pub claim: String,
    /// Where the claim came from: "spec.md:112" or "scenario.toml:40".
    pub source: String,
    pub expected: String,
    pub measured: String,
    pub status: VerdictStatus,
    /// Why, in a sentence a person can act on.
    pub detail: String,
    /// The figures behind `expected` and `measured` (latency verdicts), for charts; absent in
    /// results recorded before they existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numbers: Option<VerdictNumbers>,
}

/// Machine-readable figures of a verdict, so a chart never parses the human text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictNumbers {
    /// The claimed bound in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ms: Option<f64>,
    /// The measured value in milliseconds (None when too few samples to measure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_ms: Option<f64>,
    /// Samples the measurement rests on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
}

/// An interval in which one dependency's fallback status was the promised answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackWindow {
    /// The scenario's `[[dependency]] name`.
    pub dependency: String,
    /// The spec's HTTP fallback status for it (absent when the spec names only a gRPC one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The spec's gRPC fallback status for it (14 = UNAVAILABLE), the answer to gRPC calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u8>,
    /// From and to, ms since t = 0 (the client log's clock), to-exclusive.
    pub from_ms: f64,
    pub to_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerEpisode {
    pub dependency: String,
    /// Seconds since t = 0 when traffic to the dependency stopped.
    pub opened_at_s: f64,
    /// Failed dependency calls before traffic stopped (consecutive run observed).
    pub failures_before_open: u64,
    /// How long traffic stayed stopped, in seconds (None: still stopped when the run ended).
    pub open_for_s: Option<f64>,
    /// Calls that came through when traffic resumed, before the breaker closed or reopened.
    pub probes: u64,
    /// "closed" (probe succeeded), "reopened" (probe failed), "unknown" (run ended).
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSample {
    /// Seconds since t = 0 when the probe was sent.
    pub t_s: f64,
    /// HTTP status of the health answer; None when the probe failed (connect, timeout).
    pub status: Option<u16>,
    /// The state the body reported ("healthy", "degraded", "unhealthy"), when it named one.
    pub state: Option<String>,
}

/// The readiness endpoint's samples: which path was probed, and its answers in time order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadySamples {
    /// The path probed (below the target's base URL), e.g. "/ready".
    pub path: String,
    /// `state` is "ready" or "not_ready" when the body said so (`{"ready": true}`, "UP", "ok" ...).
    pub samples: Vec<HealthSample>,
}
