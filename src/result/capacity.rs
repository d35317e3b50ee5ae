//! result.json `capacity`: what a `redline capacity` search found, step by step (boundary type).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The answer of a capacity search and every step it ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The highest offered rate (req/s) at which every claim held; None when no step held.
    pub max_rate: Option<f64>,
    /// True when a verification run at `max_rate` (twice the step length) held too.
    pub verified: bool,
    /// The claim that failed first above `max_rate` (what limits the capacity), if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limiting_claim: Option<LimitingClaim>,
    /// The lowest rate above `max_rate` at which a step did not hold (the bracket's top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_rate: Option<f64>,
    /// Relative width the bracket was narrowed to (0.05 = 5%).
    pub precision: f64,
    /// Every step in the order it ran.
    pub steps: Vec<CapacityStep>,
    /// The search's time budget, seconds.
    pub budget_s: f64,
    /// Wall time the search took, seconds.
    pub elapsed_s: f64,
    /// Why the search ended, in words ("verified", "budget exhausted while bisecting", ...).
    pub reason: String,
    /// `pass` (verified), `inconclusive` (no verified answer), `interrupted`.
    pub status: String,
    /// What each step judged: the claims, the samples they need, the arrival process.
    #[serde(default)]
    pub criteria: Vec<String>,
}

/// The claim that limits the capacity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitingClaim {
    /// Verdict id ("latency.get-item.p99"), or "capacity.kept_up" / "capacity.trend".
    pub id: String,
    /// The claim in words.
    pub claim: String,
    /// Where it came from: "spec.md:146", "--p99", or "redline" for the step rules.
    pub source: String,
}

/// One step of the search: a fixed open-model rate for a while, judged on its own measurements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    /// `bracket`, `bisect` or `verify`.
    pub phase: String,
    /// Offered rate, req/s.
    pub rate: f64,
    /// Answers per second over the judged window (after the warm-up slice).
    pub achieved_rate: f64,
    /// Judged window, seconds (warm-up slice excluded; stretched for samples when needed).
    pub duration_s: f64,
    /// Warm-up slice dropped before the judged window, seconds.
    pub warmup_s: f64,
    /// true: every claim held; false: one failed (or the target fell behind); null: inconclusive.
    pub holds: Option<bool>,
    /// Ids of the claims that failed in this step.
    pub failed_claims: Vec<String>,
    /// Ids of the claims that could not be judged (too few samples).
    #[serde(default)]
    pub inconclusive_claims: Vec<String>,
    /// Latency per request name over the judged window.
    pub operations: BTreeMap<String, StepOperation>,
    /// Errors (transport failures and 5xx) over requests, judged window.
    pub error_rate: f64,
    /// Each judged latency claim's figures in this step, for the chart.
    #[serde(default)]
    pub claims: Vec<StepClaim>,
    /// Why the step does not hold, besides failed claims (fell behind, rising latency), in words.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Seconds spent after this step waiting for the target to recover (0 when not needed).
    #[serde(default)]
    pub cool_down_s: f64,
}

/// One request's latency in one step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepOperation {
    pub count: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
}

/// A latency claim as judged in one step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepClaim {
    pub id: String,
    /// `pass`, `fail` or `inconclusive`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_ms: Option<f64>,
}
