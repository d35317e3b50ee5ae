//! `result.idempotency`: what the idempotency probe of each marked request got back (status and
//! a digest of the body per send of the same key). `ProbeAnswer` is every after-load probe's send.

use serde::{Deserialize, Serialize};

/// One `[[request]] idempotency` probe: a fresh key sent once, then replayed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyProbe {
    /// The `[[request]] name`.
    pub request: String,
    /// The header the key went in.
    pub header: String,
    /// The key sent (fresh per run).
    pub key: String,
    /// Every send of the key: "first", "concurrent" (sent with the first), then "after" ones.
    pub answers: Vec<ProbeAnswer>,
}

/// One send of the key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeAnswer {
    /// "first", "concurrent" or "after".
    pub kind: String,
    /// The status; absent when the send failed (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// FNV-1a 64 of the body, as 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_digest: Option<String>,
    #[serde(default)]
    pub body_bytes: usize,
    /// The W3C trace id this send carried (its own per send, so a dependency call is tied to it).
    #[serde(default)]
    pub trace_id: String,
    /// The request id this send carried, when the target names `request_id_header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The body's first 2 KiB as text, kept by the conflict and limit probes (their verdicts read
    /// the error code in it); absent for idempotency sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}
