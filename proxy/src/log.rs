//! The dependency-side log: one entry per request that crossed an HTTP proxy, kept in a bounded ring.
//!
//! These types are a boundary (served as JSON by the native control API and embedded in the
//! root crate's result.json), so they derive serde. Keep field names stable.

use serde::{Deserialize, Serialize};

/// What happened to one request that reached the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Forwarded and the upstream's full answer was delivered to the caller.
    Forwarded,
    /// Answered by the proxy itself (abort fault) without forwarding.
    Aborted,
    /// Connection closed abruptly by a reset fault.
    Reset,
    /// Held by a hang fault (answered late or never).
    Hung,
    /// Response body cut short by a truncate fault.
    Truncated,
    /// The caller closed the connection before the answer was complete.
    CallerGaveUp,
    /// The upstream could not be reached or broke the exchange (the proxy answered 502).
    UpstreamError,
    /// Refused because the proxy was down (down fault or disabled).
    Refused,
    /// The caller's request body was malformed or stopped arriving; the proxy answered 400 or
    /// 408 itself (the upstream, if it got part of the request, saw its connection close).
    BadRequest,
}

/// One request as the dependency side saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Sequence number within this proxy, from 0; gaps show entries dropped from the ring.
    pub seq: u64,
    /// Arrival time in milliseconds since the proxy's clock origin (the run start in a chaos run).
    pub t_ms: f64,
    pub method: String,
    pub path: String,
    /// Correlation id: the first configured header present (default `x-request-id`, then the
    /// trace id of `traceparent`).
    pub correlation_id: Option<String>,
    /// Name of the fault applied to this request, if any (e.g. "abort", "latency").
    pub fault: Option<String>,
    pub outcome: Outcome,
    /// Status sent to the caller (upstream's or the fault's), if any was sent.
    pub status: Option<u16>,
    /// Upstream status, when the request was forwarded and answered.
    pub upstream_status: Option<u16>,
    /// Time the upstream took to answer the head, in ms, when forwarded.
    pub upstream_ms: Option<f64>,
    /// Milliseconds from arrival until the caller closed the connection before the answer was
    /// complete: the caller's own timeout, seen from outside. `None` if the caller waited.
    pub gave_up_ms: Option<f64>,
    /// Milliseconds from arrival until the answer was complete (or the exchange ended).
    pub total_ms: f64,
    /// The trace id of the request's W3C `traceparent`, when it carried a well-formed one
    /// (whatever `correlation_id` is): a caller's trace propagation is judged on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// HTTP/2 proxies only: what the stream carried beyond HTTP (gRPC deadline and status, and
    /// how the caller cancelled). Absent on HTTP/1.1 entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2: Option<H2Stream>,
}

impl LogEntry {
    /// A request as it arrives, before any fault or answer: forwarded until told otherwise. The
    /// HTTP/1.1 and HTTP/2 records both start from this; `arrival` is measured from `origin`.
    pub fn arrived(
        origin: std::time::Instant,
        arrival: std::time::Instant,
        method: String,
        path: String,
        correlation_id: Option<String>,
    ) -> LogEntry {
        LogEntry {
            seq: 0,
            t_ms: arrival.saturating_duration_since(origin).as_secs_f64() * 1000.0,
            method,
            path,
            correlation_id,
            fault: None,
            outcome: Outcome::Forwarded,
            status: None,
            upstream_status: None,
            upstream_ms: None,
            gave_up_ms: None,
            total_ms: 0.0,
            trace_id: None,
            h2: None,
        }
    }
}

/// One HTTP/2 stream's gRPC details as the dependency side saw them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct H2Stream {
    /// The caller's deadline from its `grpc-timeout` header, in ms (absent: none was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_timeout_ms: Option<f64>,
    /// `grpc-status` sent to the caller (the upstream's trailers or the fault's answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u32>,
    /// How the caller cancelled before the answer was complete (then `gave_up_ms` is when).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Cancel>,
}

/// How an HTTP/2 caller gave up on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cancel {
    /// RST_STREAM on this stream while the connection stayed open (gRPC's CANCEL).
    Stream,
    /// The whole connection closed (or went away) with the stream open.
    Connection,
}

mod book;
mod summary;

pub use book::LogBook;
pub use summary::{GaveUpBucket, GaveUpHistogram, LogSummary, SecondCounts};
