//! The claims model: every testable promise read from a spec, each with its source line.
//!
//! `redline spec --json` prints this model, so it derives Serialize; field names follow the
//! contract in the spec-reader issue. Absent values are `None` (JSON `null`), never a guess.
//! It also derives Deserialize so tools and tests can read that JSON back into the same types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything read from one spec. Lines are 1-based lines of the Markdown source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// From the `Backend Spec: <Service>` title (or the first heading), if any.
    pub service: Option<String>,
    pub latency: Vec<LatencyTarget>,
    pub latency_budget: Option<LatencyBudget>,
    pub dependencies: Vec<Dependency>,
    pub breakers: Vec<Breaker>,
    pub retries: Vec<RetryPolicy>,
    pub rate_limits: Vec<RateLimit>,
    pub error_classes: Vec<ErrorClass>,
    pub alerts: Vec<Alert>,
    pub health: Option<HealthCheck>,
    /// Maximum error rate as a fraction (0.02 = 2%), from an objective or an error-rate alert.
    pub error_rate_max: Option<f64>,
    pub error_rate_line: Option<usize>,
    /// Availability objective as a fraction (0.999).
    pub availability: Option<f64>,
    pub availability_line: Option<usize>,
    pub throughput: Vec<Throughput>,
    /// Availability and error-budget objectives as written in prose, lists or tables, each with the
    /// window it was stated for and the operation it covers (None: the whole service). A global one
    /// also sets `availability` / `error_rate_max` (the first stated wins there).
    #[serde(default)]
    pub objectives: Vec<Objective>,
    /// What every error answer's body carries (an `ErrorResponse` dataclass or interface, a JSON
    /// example under an error heading, or RFC 7807 named in prose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_body: Option<ErrorBody>,
    /// "Propagate trace context to downstream services": where the spec promises it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_propagation_line: Option<usize>,
    /// "Accept an `Idempotency-Key` and replay the stored response": where the spec promises it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_line: Option<usize>,
    /// "If the item has moved on, the answer is 409": the status (and code) a stale update gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictClaim>,
    /// Limits stated in the interface: a pagination parameter's max, a request body's size cap.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<StatedLimit>,
    /// What could not be read, and why.
    pub diagnostics: Vec<Diagnostic>,
}

/// Latency targets of one operation. `pNN_ms` fields hold the usual percentiles; `percentiles` holds
/// every percentile the spec states for it (those too), keyed by its number as written without the
/// `P` ("50", "90", "99.9", "99.99"), so P75 or P99.99 have a place without a field of their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyTarget {
    /// The operation as written (Markdown emphasis removed).
    pub operation: String,
    pub p50_ms: Option<f64>,
    #[serde(default)]
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    #[serde(default)]
    pub p999_ms: Option<f64>,
    #[serde(default)]
    pub percentiles: BTreeMap<String, f64>,
    pub timeout_ms: Option<f64>,
    pub line: usize,
}

/// The whole service's latency budget; percentile fields as in `LatencyTarget`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyBudget {
    pub p50_ms: Option<f64>,
    #[serde(default)]
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    #[serde(default)]
    pub p999_ms: Option<f64>,
    #[serde(default)]
    pub percentiles: BTreeMap<String, f64>,
    pub line: usize,
}

/// What an objective promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    /// A share that must succeed ("99.95% of checkouts succeed", "three nines").
    Availability,
    /// A share that may fail ("at most 1 in 500 searches may fail", "error rate < 0.1%").
    ErrorBudget,
}

/// One availability or error-budget objective with its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub kind: ObjectiveKind,
    /// The operation it covers as written ("checkouts", "searches"); None: every request.
    pub operation: Option<String>,
    /// The share of requests allowed to fail (0.002 for "1 in 500"; 0.0005 for 99.95%).
    pub max_error_rate: f64,
    /// The window it was written for, as written ("monthly", "per quarter", "any 30-minute window").
    pub window: Option<String>,
    /// That window in seconds (a month is 30 days, a quarter 90, a year 365).
    pub window_s: Option<f64>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    pub kind: Option<String>,
    pub timeout_ms: Option<f64>,
    /// The fallback as written ("Return 503", "Serve cached rate"); None for "N/A"/"-".
    pub fallback: Option<String>,
    /// The HTTP status the fallback answers with, when it names one ("Return 503" -> 503).
    pub fallback_status: Option<u16>,
    /// The gRPC status the fallback answers with, when it names one ("Return UNAVAILABLE",
    /// "Status.UNAVAILABLE", "gRPC status 14" -> 14). Never OK: a successful degraded answer has none.
    #[serde(default)]
    pub fallback_grpc_status: Option<u8>,
    /// True when the fallback says the dependency is critical (no fallback: "N/A (critical)").
    pub critical: bool,
    pub health_check: Option<String>,
    pub line: usize,
}

impl Dependency {
    /// The statuses the fallback names, as a person reads them: "503", "UNAVAILABLE" (gRPC),
    /// "503 or UNAVAILABLE"; None when it names none.
    pub fn fallback_statuses(&self) -> Option<String> {
        fallback_statuses(self.fallback_status, self.fallback_grpc_status)
    }
}

/// An HTTP and a gRPC fallback status as a person reads them: "503", "UNAVAILABLE",
/// "503 or UNAVAILABLE"; None when both are None.
pub fn fallback_statuses(http: Option<u16>, grpc: Option<u8>) -> Option<String> {
    let grpc = grpc.map(|c| {
        redline_proxy::http::h2::grpc::STATUS_NAMES
            .get(usize::from(c))
            .map_or_else(|| format!("gRPC {c}"), |n| n.to_string())
    });
    match (http, grpc) {
        (Some(s), Some(g)) => Some(format!("{s} or {g}")),
        (Some(s), None) => Some(s.to_string()),
        (None, g) => g,
    }
}

/// One circuit breaker as the spec states it. `kind` says which rule opens it; only the fields that
/// kind has are set. Every added field is optional (`#[serde(default)]`), so older JSON still reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breaker {
    /// The breaker's name in the spec (variable name, YAML/dict key or decorated function), if any.
    pub name: Option<String>,
    /// The dependency it guards, matched by name; None when the spec does not say.
    pub dependency: Option<String>,
    /// Which rule opens it: from the library's form, the format's own block (`failure_threshold=` is
    /// consecutive by the format's definition) or the prose's words; None when the spec gives a bare
    /// "N failures" and no library or rule (consecutive or windowed is then for the verdict to tell).
    #[serde(default)]
    pub kind: Option<BreakerKind>,
    /// The library whose configuration form it was read from ("resilience4j", "opossum", "pybreaker"...).
    #[serde(default)]
    pub library: Option<String>,
    /// `consecutive`: opens on this many consecutive failures; `failures_in_window`: this many
    /// failures within `window_ms`.
    pub failure_threshold: Option<u32>,
    /// `failure_rate`: the failure share (0..1) that opens it.
    #[serde(default)]
    pub failure_rate: Option<f64>,
    /// `failure_rate`: whether the rate trips when it reaches the threshold (`at_least`: resilience4j,
    /// Hystrix, Polly) or only above it (`above`: opossum, cockatiel).
    #[serde(default)]
    pub rate_trips: Option<RateTrip>,
    /// Count-based window: the last N calls.
    #[serde(default)]
    pub window_calls: Option<u32>,
    /// Time-based window (rate breakers' rolling window, windowed counts' period).
    #[serde(default)]
    pub window_ms: Option<f64>,
    /// Calls the window must hold before the rate is evaluated (volume threshold).
    #[serde(default)]
    pub minimum_calls: Option<u32>,
    /// A call slower than this counts as slow.
    #[serde(default)]
    pub slow_call_ms: Option<f64>,
    /// The slow-call share (0..1) that opens it.
    #[serde(default)]
    pub slow_call_rate: Option<f64>,
    /// Time open before probing (the first open time when it grows).
    pub recovery_timeout_ms: Option<f64>,
    /// Growth of the open time from one opening to the next (2.0 = doubles).
    #[serde(default)]
    pub recovery_multiplier: Option<f64>,
    /// Cap on the grown open time.
    #[serde(default)]
    pub recovery_max_ms: Option<f64>,
    /// How the open time grows from one opening to the next: `multiply` (× `recovery_multiplier`
    /// each time: resilience4j exponential backoff, cockatiel) or `linear` (the Nth opening lasts
    /// N × `recovery_timeout_ms`: Envoy/Istio ejections). None: it does not grow, or the spec does not say.
    #[serde(default)]
    pub recovery_growth: Option<RecoveryGrowth>,
    /// Envoy/Istio `interval`: ejections are lifted at these sweeps, so a host returns up to this much
    /// after its open time.
    #[serde(default)]
    pub ejection_sweep_ms: Option<f64>,
    /// A call slower than this is cut and counts as a failure (opossum `timeout`, Hystrix
    /// `execution.isolation.thread.timeoutInMilliseconds`).
    #[serde(default)]
    pub call_timeout_ms: Option<f64>,
    /// Relative jitter on the open time (0.1 = ±10%).
    #[serde(default)]
    pub recovery_jitter: Option<f64>,
    /// Probes allowed in half-open.
    pub half_open_requests: Option<u32>,
    /// What happens to calls beyond the probes while half-open.
    #[serde(default)]
    pub half_open_extra: Option<HalfOpenExtra>,
    /// How half-open closes again, when stated.
    #[serde(default)]
    pub close_rule: Option<CloseRule>,
    /// Fields filled from the library's documented defaults because the spec left them out.
    #[serde(default)]
    pub defaults_applied: Vec<String>,
    pub expected_exceptions: Vec<String>,
    pub line: usize,
}

/// The rule that opens a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerKind {
    /// The Nth consecutive failure opens it (pybreaker, gobreaker's default, Polly v7 basic).
    Consecutive,
    /// A failure share over a window of calls or time, with a minimum volume (resilience4j,
    /// Hystrix, Polly v8 / v7 advanced, opossum, cockatiel SamplingBreaker/CountBreaker).
    FailureRate,
    /// N failures within a time window (nginx max_fails/fail_timeout, Envoy-style counts).
    FailuresInWindow,
}

/// Whether a rate breaker trips when the rate reaches its threshold or only once it exceeds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateTrip {
    AtLeast,
    Above,
}

/// How a breaker's open time grows from one opening to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryGrowth {
    /// Each opening lasts `recovery_multiplier` times the one before (capped by `recovery_max_ms`).
    Multiply,
    /// The Nth opening in a row lasts N × `recovery_timeout_ms` (capped by `recovery_max_ms`).
    Linear,
}

/// Calls beyond the half-open probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HalfOpenExtra {
    Rejected,
    Queued,
}

/// How a half-open breaker closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseRule {
    /// The first successful probe closes it (pybreaker, opossum, cockatiel).
    FirstSuccess,
    /// Every probe must succeed (gobreaker, Polly v7 with several probes).
    AllProbes,
    /// The probes' failure rate must be below the threshold (resilience4j).
    ProbeRateBelowThreshold,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub scenario: String,
    /// "exponential", "linear", "fixed", "none", "immediate", or the text as written when unrecognised.
    pub strategy: Option<String>,
    pub max_attempts: Option<u32>,
    pub backoff_ms: Vec<f64>,
    /// Relative jitter (0.2 for "±20%"), if stated.
    pub jitter: Option<f64>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Tier, endpoint or key the limit applies to ("default", "anon", "POST /orders"); for a decorator,
    /// the decorated function ("create_order").
    pub name: String,
    pub requests: u64,
    /// Window length in seconds (60 for "/minute").
    pub per_s: f64,
    /// Who the limit is counted per ("user", "ip", "api key"), if stated.
    pub per_key: Option<String>,
    pub line: usize,
}

/// The shape of an error answer's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// How the spec states it: `dataclass`, `interface`, `json example`, `rfc 7807`.
    pub form: String,
    /// The type's name when it has one (`ErrorResponse`).
    pub name: Option<String>,
    pub fields: Vec<BodyField>,
    /// The field that echoes the request's correlation id (`request_id`), when the spec says so.
    pub request_id_field: Option<String>,
    /// Statuses whose answers carry `retry_after` / `Retry-After` ("for 429, 503").
    pub retry_after_statuses: Vec<u16>,
    /// The retry-after field's name when the body has one.
    pub retry_after_field: Option<String>,
    /// RFC 7807 / 9457: `application/problem+json`, members optional, `status` equal to the answer's.
    pub problem_details: bool,
    pub line: usize,
}

impl ErrorBody {
    /// The line of field `name`, else the body's.
    pub fn field_line(&self, name: &str) -> usize {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map_or(self.line, |f| f.line)
    }
}

/// One field of an error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyField {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `object`, `array`, `datetime` or `any`.
    pub ty: String,
    /// Present in every error answer.
    pub required: bool,
    /// May be null (`int | None`, `Optional[...]`, `string | null`).
    pub nullable: bool,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorClass {
    pub error_type: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub retryable: Option<bool>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "metric", rename_all = "snake_case")]
pub enum AlertCondition {
    /// Error rate above `threshold` (fraction) for `for_s` seconds.
    ErrorRate { threshold: f64, for_s: Option<f64> },
    /// Latency percentile `percentile` (e.g. 95.0) above `threshold_ms` for `for_s` seconds.
    Latency {
        percentile: f64,
        threshold_ms: f64,
        for_s: Option<f64>,
    },
    /// A condition read but not of a kind redline can test; kept as written.
    Other { text: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub name: String,
    pub condition: AlertCondition,
    pub severity: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// e.g. "/health".
    pub path: String,
    pub ready_path: Option<String>,
    /// States the health endpoint promises ("healthy", "degraded", "unhealthy").
    pub states: Vec<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// As written ("2x peak with <5% errors", "100 orders/sec").
    pub text: String,
    /// Absolute rate in requests per second, when stated.
    pub rps: Option<f64>,
    /// Multiple of peak, when stated ("2x peak").
    pub peak_multiple: Option<f64>,
    /// Error rate allowed at that load, as a fraction.
    pub max_error_rate: Option<f64>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub line: usize,
    pub message: String,
}

/// What an update naming a stale version gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictClaim {
    pub status: u16,
    /// The error code, from the sentence or the error class with that status.
    pub code: Option<String>,
    pub line: usize,
}

/// Where a stated limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// A query parameter (`limit`, `per_page`): its value at most `max`.
    Query,
    /// The request body: at most `max` bytes.
    Body,
}

/// One limit stated in prose and what happens one beyond it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatedLimit {
    /// The parameter as written, or "body".
    pub name: String,
    pub kind: LimitKind,
    pub max: u64,
    /// "Capped": a larger value is served at the max (else it is rejected).
    pub capped: bool,
    /// The rejection's status when stated.
    pub status: Option<u16>,
    /// Its error code, from the sentence or the error class with that status.
    pub code: Option<String>,
    pub line: usize,
}
