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
    let measurements = super::run(plan, engine).await?;
    Ok(collect(plan, &measurements, options.scenario_file))
}
