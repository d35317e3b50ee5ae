//! Scenario TOML -> validated `Plan`. Takes a `&str` and a file name for messages; does no I/O.
//!
//! The doc comments on the types below are the reference for the scenario format.
//! Every problem in a file is reported at once (see `ScenarioError`).

mod chaos;
pub mod duration;
mod error;
mod idempotency;
mod load;
pub mod phases;
mod probes;
mod request;
pub mod template;
mod tree;

#[cfg(test)]
mod header_tests;
#[cfg(test)]
mod http2_tests;
#[cfg(test)]
mod idempotency_tests;
#[cfg(test)]
mod probes_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

pub use error::{Diagnostic, ScenarioError};
pub use phases::{phase_windows, PhaseWindow};
pub use template::{EnvLookup, Template};

/// A validated scenario: everything the engine and the chaos run need, nothing unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// `name`: used in the output folder and result.json.
    pub name: String,
    /// `seed` (default 1): fixes request mix, templated values and arrival jitter.
    pub seed: u64,
    /// `spec = "path"`: the spec this scenario is checked against, relative to the scenario file.
    pub spec: Option<String>,
    pub target: Target,
    pub load: Load,
    /// `[[request]]` entries, in file order (at least one).
    pub requests: Vec<RequestSpec>,
    /// `[[dependency]]` entries (chaos runs).
    pub dependencies: Vec<Dependency>,
    /// `[[fault]]` entries, in file order.
    pub faults: Vec<Fault>,
    /// `[[phase]]` entries; when present they replace the default phases (warmup is kept).
    pub phases: Vec<PhaseSpec>,
    /// `[[slo]]` entries: objectives stated in the scenario itself.
    pub slos: Vec<Slo>,
    /// Limits the `probe_limits` requests are probed beyond: never written in the TOML, set by
    /// `chaos::judge::adopt_limits` from the spec's stated limits (empty: nothing to probe).
    pub stated_limits: Vec<ProbeLimit>,
}

/// One stated limit as the probe needs it: a query parameter's max, or a body's byte cap.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeLimit {
    /// The query parameter, or "body".
    pub name: String,
    /// True for a body cap (then `name` is "body").
    pub body: bool,
    pub max: u64,
}

/// `[target]`: where requests go and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `base_url`: `http://host:port[/prefix]` or `https://...`.
    pub base_url: BaseUrl,
    /// `allowed_hosts` (required): the base URL's host must be listed; nothing else is contacted.
    pub allowed_hosts: Vec<String>,
    /// `timeout` (default "5s"): per request, counted from the intended send time.
    pub timeout: Duration,
    /// `max_connections` (default 256): persistent connections across all workers.
    pub max_connections: NonZeroU32,
    /// `headers`: sent with every request (a request's own headers win). Values as written in
    /// the file (templates unrendered, `{{env NAME}}` unresolved): safe to show, not to send.
    pub headers: Vec<(String, String)>,
    /// The same headers as templates (what is sent), names lowercased, in the same order.
    pub header_templates: Vec<(String, Template)>,
    /// `request_id_header`: when set, each request carries a unique id in this header.
    pub request_id_header: Option<String>,
    /// `insecure_tls` (default false): accept any certificate (self-signed staging).
    pub insecure_tls: bool,
    /// `ca_file`: a PEM bundle of CA certificates trusted besides the public roots (a private
    /// CA, a self-signed certificate). Relative to the scenario file once `redline run` read it.
    pub ca_file: Option<CaFile>,
    /// `health_path`: the target's health endpoint, sampled during chaos runs.
    pub health_path: Option<String>,
    /// `ready_path`: the target's readiness endpoint, sampled beside `health_path` during chaos
    /// runs; when unset, `redline run` and `redline demo` take the spec's ready path, if it states one.
    pub ready_path: Option<String>,
    /// `sample_bodies` (default true; `redline run --no-bodies` sets false): keep a bounded
    /// sample of response bodies in result.json.
    pub sample_bodies: bool,
    /// `secret_fields`: JSON field names whose values are redacted in sampled bodies (besides
    /// the built-in ones: password, token, secret, ...).
    pub secret_fields: Vec<String>,
    /// `traceparent`: send a W3C `traceparent` with every request. None (unset): `redline run
    /// --spec` turns it on when the spec promises trace propagation.
    pub traceparent: Option<bool>,
    /// `http` (default "1.1"): "1.1", "2" (h2c with prior knowledge on http://, ALPN h2 on
    /// https://) or "auto" (ALPN offers h2 and http/1.1 on https://; HTTP/1.1 on http://).
    pub http: HttpVersion,
    /// `streams_per_connection` (default 100): concurrent HTTP/2 streams on one connection
    /// (`max_connections` connections carry at most this many requests each at once).
    pub streams_per_connection: NonZeroU32,
}

/// `[target] http`: which HTTP version the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// "1.1" (the default).
    Http1,
    /// "2": HTTP/2 only.
    Http2,
    /// "auto": HTTP/2 when TLS ALPN selects it, else HTTP/1.1.
    Auto,
}

/// `[target] ca_file`: the path and where the scenario names it (for file:line messages).
#[derive(Debug, Clone, PartialEq)]
pub struct CaFile {
    /// As written; `redline run` resolves it against the scenario file's folder.
    pub path: std::path::PathBuf,
    pub pos: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A parsed `base_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub scheme: Scheme,
    /// Host as written (name or IP, IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash ("" or "/api").
    pub prefix: String,
}

impl BaseUrl {
    /// The `Host` header value.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = matches!(
            (self.scheme, self.port),
            (Scheme::Http, 80) | (Scheme::Https, 443)
        );
        if default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// `[load]`: how much load and in which shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    pub model: Model,
    /// `warmup` (default "0s"): the first part of the run, measured but excluded from statistics.
    pub warmup: Duration,
    /// `max_in_flight` (default 10000): open model: arrivals beyond this are dropped and counted.
    pub max_in_flight: NonZeroU32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// `model = "open"`: requests arrive on a schedule whatever the target does.
    Open {
        arrival: Arrival,
        stages: Vec<Stage>,
    },
    /// `model = "closed"`: `users` each send, wait for the answer, think, and send again.
    Closed {
        users: NonZeroU32,
        duration: Duration,
        think_time: Duration,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// `arrival = "uniform"` (default): evenly spaced.
    Uniform,
    /// `arrival = "poisson"`: exponential gaps drawn from the seed.
    Poisson,
}

/// One entry of `stages`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    /// Requests per second at the end of the stage.
    pub rate: f64,
    /// `ramp = true`: rise (or fall) linearly from the previous stage's rate (0 for the first).
    pub ramp: bool,
}

impl Load {
    /// Length of the load schedule (the run's nominal duration, warmup included).
    pub fn duration(&self) -> Duration {
        match &self.model {
            Model::Open { stages, .. } => stages.iter().map(|s| s.duration).sum(),
            Model::Closed { duration, .. } => *duration,
        }
    }

    /// Arrivals the open schedule will produce; `None` for the closed model.
    pub fn expected_arrivals(&self) -> Option<f64> {
        match &self.model {
            Model::Open { stages, .. } => {
                let mut prev = 0.0;
                let mut n = 0.0;
                for s in stages {
                    let start = if s.ramp { prev } else { s.rate };
                    n += (start + s.rate) / 2.0 * s.duration.as_secs_f64();
                    prev = s.rate;
                }
                Some(n)
            }
            Model::Closed { .. } => None,
        }
    }
}

/// One `[[request]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpec {
    /// `name` (required, unique): the key in result.json `operations`.
    pub name: String,
    /// `operation`: the spec row this request exercises.
    pub operation: Option<String>,
    /// `weight` (default 1): relative share of the request mix.
    pub weight: NonZeroU32,
    /// `method` (default "GET").
    pub method: String,
    /// `path` (required, starts with "/"): a template.
    pub path: Template,
    /// `headers`: added to the target's headers. Values as written (see `Target::headers`).
    pub headers: Vec<(String, String)>,
    /// The same headers as templates (what is sent), in the same order.
    pub header_templates: Vec<(String, Template)>,
    /// `body` (default ""): a template.
    pub body: Template,
    /// `expect_status` (default: any 2xx or 3xx): other statuses count as errors.
    pub expect_status: Vec<u16>,
    /// `grpc = { method, proto, message }`: a gRPC unary call (then `path` is `/method`, the
    /// method POST and `body` the message template; `path`, `method` and `body` are not written).
    pub grpc: Option<GrpcCall>,
    /// `idempotency = { header, replay }`: after the load, the request is sent once more with a
    /// fresh key, and the same key again `replay` times (one concurrent with the first answer).
    pub idempotency: Option<Idempotency>,
    /// `stale_version = true` or `{ field = "version" }` (on an update whose JSON body names the
    /// version it read): after the load, the request's path is read with a GET for the current
    /// `field`, the update is sent once with it, then again with the now-stale one.
    pub stale_version: Option<StaleVersion>,
    /// `probe_limits = true`: after the load, one send beyond each limit the spec states (a
    /// pagination parameter one over its max in the query, a body one byte over its cap).
    pub probe_limits: bool,
}

/// `[[request]] stale_version`: the JSON field holding the item's version (in the GET answer and
/// in the update's body).
#[derive(Debug, Clone, PartialEq)]
pub struct StaleVersion {
    /// `field` (default "version").
    pub field: String,
}

/// `[[request]] idempotency`: the key header and how many times the key is replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Idempotency {
    /// `header` (default "Idempotency-Key").
    pub header: String,
    /// `replay` (default 2, 1..=16): sends of the same key besides the first.
    pub replay: u32,
}

/// `[[request]] grpc`: one unary call of a method declared in a `.proto` file.
#[derive(Debug, Clone, PartialEq)]
pub struct GrpcCall {
    /// "catalog.v1.Items/Get": the service's full name, "/", the method.
    pub method: String,
    /// The `.proto` file as written; `redline run` resolves it against the scenario's folder.
    pub proto: std::path::PathBuf,
    /// Where `proto` is written (for file:line messages about the file's content).
    pub pos: Pos,
}

impl RequestSpec {
    /// Whether `status` is what this request expects.
    pub fn expects(&self, status: u16) -> bool {
        if self.expect_status.is_empty() {
            (200..400).contains(&status)
        } else {
            self.expect_status.contains(&status)
        }
    }
}

/// Line (1-based) and column of an entry in the scenario file, for later messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    /// HTTP/2 with prior knowledge (h2c), faults per stream: a gRPC dependency (`"grpc"`).
    Http2,
    Tcp,
}

impl Protocol {
    /// Per-request (or per-stream) faults and a request log: HTTP/1.1 or HTTP/2.
    pub fn is_http(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Http2)
    }

    /// The proxy's name for it (`redline proxy`'s control API says the same).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Http2 => "http2",
            Protocol::Tcp => "tcp",
        }
    }
}

/// One `[[dependency]]`: a fault proxy in front of a dependency of the service under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// `name`: same name as the spec's dependency row.
    pub name: String,
    /// `protocol` (default "http"): "http", "http2" (alias "grpc", "h2c") or "tcp".
    pub protocol: Protocol,
    pub attach: DependencyProxy,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DependencyProxy {
    /// `listen` + `upstream`: start a proxy in-process.
    Local { listen: String, upstream: String },
    /// `control` + `proxy`: attach to a proxy of a running `redline proxy`.
    Attach { control: String, proxy: String },
}

/// Fault kinds the proxy knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Latency,
    Abort,
    Hang,
    Reset,
    Truncate,
    Throttle,
    Down,
}

impl FaultKind {
    pub const ALL: [(&'static str, FaultKind); 7] = [
        ("latency", FaultKind::Latency),
        ("abort", FaultKind::Abort),
        ("hang", FaultKind::Hang),
        ("reset", FaultKind::Reset),
        ("truncate", FaultKind::Truncate),
        ("throttle", FaultKind::Throttle),
        ("down", FaultKind::Down),
    ];

    pub fn as_str(self) -> &'static str {
        FaultKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
}

/// A kind-specific fault parameter, kept for the proxy to validate, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultParam {
    pub value: serde_json::Value,
    pub pos: Pos,
}

/// `match = { method = "GET", path_prefix = "/users" }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultMatch {
    pub method: Option<String>,
    pub path_prefix: Option<String>,
}

/// One `[[fault]]`: make `dependency` misbehave from `at` for `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Must name a `[[dependency]]`.
    pub dependency: String,
    pub at: Duration,
    pub duration: Duration,
    pub kind: FaultKind,
    /// `probability` (default 1.0): share of requests affected.
    pub probability: f64,
    pub matcher: Option<FaultMatch>,
    /// Every other key (status, delay, distribution ...), for the proxy to check against `kind`.
    pub params: BTreeMap<String, FaultParam>,
    pub pos: Pos,
}

impl Fault {
    /// End of the fault window on the run's clock.
    pub fn end(&self) -> Duration {
        self.at + self.duration
    }
}

/// One `[[phase]]`: a named window on the run's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpec {
    pub name: String,
    pub from: Duration,
    pub to: Duration,
    pub pos: Pos,
}

/// One `[[slo]]`: an objective stated in the scenario (checked by the verdict step).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slo {
    /// Applies to requests whose `operation` (or `name`) matches; all requests when absent.
    pub operation: Option<String>,
    /// Applies within this phase; the whole measured run when absent.
    pub phase: Option<String>,
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    pub timeout: Option<Duration>,
    /// Highest acceptable share of errors, 0..=1.
    pub error_rate: Option<f64>,
    /// Lowest acceptable share of successes, 0..=1.
    pub availability: Option<f64>,
    /// Line of the `[[slo]]` entry.
    pub line: usize,
}

/// Parses and validates a scenario. `file` only labels the messages. `{{env NAME}}` templates
/// read the process environment, once, here.
pub fn parse(src: &str, file: &str) -> Result<Plan, ScenarioError> {
    parse_with_env(src, file, &template::process_env)
}

/// `parse` with `{{env NAME}}` looked up by `env` instead of the process environment.
pub fn parse_with_env(src: &str, file: &str, env: EnvLookup) -> Result<Plan, ScenarioError> {
    let mut diags = error::Diagnostics::new(src, env);
    let plan = tree::parse_tree(src, &mut diags).and_then(|root| load::plan(&root, &mut diags));
    match plan {
        Some(plan) if diags.list.is_empty() => Ok(plan),
        _ => {
            let mut diagnostics = diags.list;
            diagnostics.sort_by_key(|d| (d.line, d.column));
            Err(ScenarioError {
                file: file.to_string(),
                diagnostics,
            })
        }
    }
}
