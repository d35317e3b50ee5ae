//! The shared verdict model: what the scenario adds to the spec (`JudgeContext`), what a judging
//! produces (`Judgement`) and the uniform shape of one verdict (`Claim`). Families depend on it;
//! it depends on no family.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::result::{BreakerEpisode, RunResult, Verdict, VerdictStatus};

use super::tolerance::DurationTolerance;

/// What the scenario adds to the spec when judging one run.
#[derive(Debug, Clone)]
pub struct JudgeContext {
    /// The spec's file name as it should appear in `source` ("spec.md" -> "spec.md:112").
    pub spec_file: String,
    /// The scenario's file name, for claims added by `[[slo]]` ("scenario.toml:40").
    pub scenario_file: String,
    /// Per `[[request]] name`: what the scenario says about it.
    pub requests: BTreeMap<String, RequestInfo>,
    /// Scenario `[[slo]]` entries: they override the spec's claim for the same operation and field, or add one.
    pub slos: Vec<SloEntry>,
    /// Tolerance for measured durations (recovery timeout, give-up time ...).
    pub duration_tolerance: DurationTolerance,
    /// Scenario dependency name -> the spec's dependency name, where they differ.
    pub dependency_names: BTreeMap<String, String>,
    /// The load generator's own request timeout, to tell "the service gave up" from "the client gave up".
    pub client_timeout: Option<Duration>,
    /// The path the run's health samples probed (the scenario's `health_path`), to tell `/health`
    /// samples from `/ready` ones.
    pub health_path: Option<String>,
}

impl Default for JudgeContext {
    fn default() -> Self {
        JudgeContext {
            spec_file: "spec.md".to_string(),
            scenario_file: "scenario.toml".to_string(),
            requests: BTreeMap::new(),
            slos: Vec::new(),
            duration_tolerance: DurationTolerance::default(),
            dependency_names: BTreeMap::new(),
            client_timeout: None,
            health_path: None,
        }
    }
}

/// What the scenario says about one `[[request]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfo {
    /// The spec operation this request exercises (overrides `OperationStats::operation`).
    pub operation: Option<String>,
    /// The client key this request sends (API key, user), for per-key rate limits; None: one shared key.
    pub rate_key: Option<String>,
    /// The spec rate limit (by name: "default", "anon", "POST /orders") that applies to this request.
    pub rate_limit: Option<String>,
    /// A gRPC request's method ("catalog.v1.Items/Get"): a latency row may name it as
    /// "catalog.v1.Items/Get", "Items/Get" or "Get" without an `operation`.
    pub grpc_method: Option<String>,
}

/// A scenario `[[slo]]` entry: adds a claim, or overrides the spec's for the same operation and field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SloEntry {
    /// Spec operation (or request name); None: the whole service.
    pub operation: Option<String>,
    /// Judge in this phase only; None: the baseline phase(s) for latency, every phase for error rates.
    pub phase: Option<String>,
    pub p50: Option<Duration>,
    pub p95: Option<Duration>,
    pub p99: Option<Duration>,
    pub timeout: Option<Duration>,
    /// Maximum error rate as a fraction.
    pub error_rate: Option<f64>,
    /// Availability objective as a fraction.
    pub availability: Option<f64>,
    /// Line of the entry in the scenario file.
    pub line: usize,
}

/// Everything judged about one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    pub verdicts: Vec<Verdict>,
    /// Circuit-breaker episodes seen from outside, whether or not the spec claims a breaker.
    pub episodes: Vec<BreakerEpisode>,
    /// Things a reader should know that are not verdicts (unmatched names, skipped evidence).
    pub notes: Vec<String>,
    /// When a dependency's fallback status was the promised answer (see `errors`).
    pub fallback_windows: Vec<crate::result::FallbackWindow>,
}

impl Judgement {
    /// True when at least one verdict failed (`redline run` exits 1).
    pub fn failed(&self) -> bool {
        self.verdicts
            .iter()
            .any(|v| v.status == VerdictStatus::Fail)
    }

    /// Writes the verdicts, episodes and notes into the result (replacing earlier ones).
    pub fn apply_to(&self, result: &mut RunResult) {
        result.verdicts = self.verdicts.clone();
        result.breaker_episodes = self.episodes.clone();
        result.fallback_windows = Some(self.fallback_windows.clone());
        result.notes.extend(self.notes.iter().cloned());
    }
}

/// A claim being judged: what every verdict about it shares. Families build one per claim and
/// finish it with `pass`, `fail` or `inconclusive`, so the fields stay uniform.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub id: String,
    pub claim: String,
    pub source: String,
    pub expected: String,
}

impl Claim {
    pub fn new(
        id: impl Into<String>,
        claim: impl Into<String>,
        source: impl Into<String>,
        expected: impl Into<String>,
    ) -> Claim {
        Claim {
            id: id.into(),
            claim: claim.into(),
            source: source.into(),
            expected: expected.into(),
        }
    }

    pub fn judged(
        &self,
        status: VerdictStatus,
        measured: impl Into<String>,
        detail: impl Into<String>,
    ) -> Verdict {
        let c = self.clone();
        verdict(
            c.id, c.claim, c.source, c.expected, measured, status, detail,
        )
    }

    pub fn pass(&self, measured: impl Into<String>, detail: impl Into<String>) -> Verdict {
        self.judged(VerdictStatus::Pass, measured, detail)
    }

    pub fn fail(&self, measured: impl Into<String>, detail: impl Into<String>) -> Verdict {
        self.judged(VerdictStatus::Fail, measured, detail)
    }

    pub fn inconclusive(&self, measured: impl Into<String>, detail: impl Into<String>) -> Verdict {
        self.judged(VerdictStatus::Inconclusive, measured, detail)
    }
}

/// Builds one verdict; every family goes through here so the fields stay uniform.
pub(crate) fn verdict(
    id: impl Into<String>,
    claim: impl Into<String>,
    source: impl Into<String>,
    expected: impl Into<String>,
    measured: impl Into<String>,
    status: VerdictStatus,
    detail: impl Into<String>,
) -> Verdict {
    Verdict {
        id: id.into(),
        claim: claim.into(),
        source: source.into(),
        expected: expected.into(),
        measured: measured.into(),
        status,
        detail: detail.into(),
        numbers: None,
    }
}

/// "spec.md:112".
pub(crate) fn spec_source(ctx: &JudgeContext, line: usize) -> String {
    format!("{}:{}", ctx.spec_file, line)
}

/// "scenario.toml:40".
pub(crate) fn scenario_source(ctx: &JudgeContext, line: usize) -> String {
    format!("{}:{}", ctx.scenario_file, line)
}
