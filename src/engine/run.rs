//! `run_scenario`: the library entry the CLI calls (plan -> engine -> result), kept small so a
//! chaos run can wrap it with proxies, faults and verdicts.

use tokio::sync::mpsc;

use crate::result::{RunResult, TimelineBucket};
use crate::scenario::Plan;

use super::{collect::collect, EngineError, EngineOptions, StopSignal};

/// How a scenario run is driven from outside.
#[derive(Default)]
pub struct RunOptions {
    /// Recorded as `scenario_file` in the result.
    pub scenario_file: Option<String>,
    /// Stop early (Ctrl-C); the result then says `interrupted: true`.
    pub stop: StopSignal,
    /// Receives each finished second (live progress).
    pub live: Option<mpsc::UnboundedSender<TimelineBucket>>,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// t = 0 shared with other parts of a chaos run (fault proxies); default: now.
    pub origin: Option<(std::time::Instant, std::time::SystemTime)>,
    /// Phase windows to measure (default: `scenario::phase_windows(plan)`).
    pub phases: Option<Vec<crate::scenario::PhaseWindow>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Runs `plan` against its target now and returns the result (faults, dependencies and
/// verdicts left empty).
pub async fn run_scenario(plan: &Plan, options: RunOptions) -> Result<RunResult, RunError> {
    let mut engine = EngineOptions::now(plan);
    engine.stop = options.stop;
    engine.live = options.live;
    engine.workers = options.workers;
    if let Some((origin, started_at)) = options.origin {
        engine.origin = origin;
        engine.started_at = started_at;
    }
    if let Some(phases) = options.phases {
        engine.phases = phases;
    }
    let measurements = super::run(plan, engine).await?;
    let mut result = collect(plan, &measurements, options.scenario_file);
    if plan.requests.iter().any(|r| r.idempotency.is_some()) && !result.interrupted {
        result.idempotency = super::idempotency::probe_all(plan, &mut result.notes).await;
    }
    if !result.interrupted {
        (result.conflicts, result.limits) =
            super::interface_probes::probe_all(plan, &mut result.notes).await;
    }
    Ok(result)
}
