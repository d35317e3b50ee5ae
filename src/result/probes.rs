//! `result.conflicts` and `result.limits`: what the version-conflict and stated-limit probes sent
//! after the load and what came back (each send a `ProbeAnswer`).

use serde::{Deserialize, Serialize};

use super::ProbeAnswer;

/// One `[[request]] stale_version` probe: "read" (GET of the request's path), "current" (the
/// update with the version read), "stale" (the same update again: its version is now stale).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConflictProbe {
    pub request: String,
    /// The JSON field holding the version.
    pub field: String,
    /// The path probed (rendered once).
    pub path: String,
    /// The version the read found; absent when it found none (see the notes of the read answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<serde_json::Value>,
    /// Why the probe stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub answers: Vec<ProbeAnswer>,
}

/// One send beyond a stated limit of one `[[request]] probe_limits` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitProbe {
    pub request: String,
    /// The limit's name as the spec states it: a query parameter, or "body".
    pub name: String,
    pub max: u64,
    /// What was sent beyond it: "per_page=101", "65537-byte body".
    pub sent: String,
    pub answer: ProbeAnswer,
    /// Items in the answer (the JSON array, or the longest array in the JSON object), for
    /// "capped" limits; absent when the answer holds no array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<usize>,
}
