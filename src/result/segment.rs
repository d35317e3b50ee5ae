//! result.json's distributed-run records: a segment's mark (`redline run --segment I/N`) and a
//! merged result's account of its parts (`redline merge`). Both optional, absent on plain runs.

use serde::{Deserialize, Serialize};

/// Which share of a distributed run this result measured, and what a merge checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// 0-based segment index (Kubernetes' `JOB_COMPLETION_INDEX`).
    pub index: u32,
    /// How many segments the run has; arrival k belongs to segment k mod count.
    pub count: u32,
    /// The shared t = 0 (`--start-at`), RFC 3339 UTC; None when this segment started on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// FNV-1a 64 of the scenario file's bytes, hex: every part of one run has the same.
    pub scenario_hash: String,
    /// How long after `start_at` this segment could start sending, when it was late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_ms: Option<f64>,
    /// Arrivals due before the segment started: never sent, counted in `totals.dropped`.
    #[serde(default)]
    pub missed: u64,
}

/// How a merged result was put together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeInfo {
    /// Segments the run was split into.
    pub count: u32,
    /// The segment indices merged, ascending.
    pub segments: Vec<u32>,
    /// Indices that were not given (or not found in time): the result covers only part of the load.
    pub missing: Vec<u32>,
    /// True when `missing` is not empty.
    pub partial: bool,
    /// The parts' common scenario hash.
    pub scenario_hash: String,
    /// The parts' files, in segment order.
    pub files: Vec<String>,
}
