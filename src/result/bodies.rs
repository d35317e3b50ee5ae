//! `result.body_samples`: the bounded sample of response bodies a run kept, per request ×
//! phase × status (the first answers and a uniform reservoir of the rest), redacted.

use serde::{Deserialize, Serialize};

/// One request × phase × status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodySampleSet {
    /// The scenario's `[[request]] name`.
    pub request: String,
    /// The phase window holding the requests' intended send times (None: outside every phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub status: u16,
    /// Answers of this request, phase and status seen (all of them, sampled or not).
    pub seen: u64,
    /// The first answers (`kind: first`), then the reservoir (`kind: reservoir`), each in time order.
    pub samples: Vec<BodySample>,
}

/// One kept response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodySample {
    /// `first` or `reservoir`.
    pub kind: String,
    /// Intended send time, ms since t = 0.
    pub t_ms: f64,
    /// The request id the engine sent (`[target] request_id_header`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The W3C trace id the engine sent in `traceparent`, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Whether the answer had a `Retry-After` header.
    pub retry_after: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The body's whole length in bytes.
    pub bytes: u64,
    /// Whether only the first 4 KiB were kept.
    pub truncated: bool,
    /// The body parsed as JSON (the content type says JSON and the kept bytes parse), redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// Otherwise the body as text (lossy UTF-8), redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl BodySample {
    /// Whether this body was kept from the first answers (not the reservoir).
    pub fn is_first(&self) -> bool {
        self.kind == "first"
    }
}
