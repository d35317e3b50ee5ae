//! Chaos runs: a scenario's load with its dependencies behind fault proxies and a fault timeline,
//! measured from both sides into one `RunResult`.
//!
//! `run` starts the proxies (or attaches to running ones) on a clock shared with the engine,
//! runs the load, applies the timeline, reads the dependency logs and the change journal as the
//! run goes, samples the target's health, and always leaves every proxy in clean passthrough:
//! at the end, on Ctrl-C and on error (`installed` lets the caller remove what is on attached
//! proxies without waiting for the run, on a second Ctrl-C). Invariant: nothing starts before
//! every fault was checked (`fault_spec::plan_faults`), and no fault outlives the run.

pub mod book;
pub mod cap_report;
pub mod collector;
pub mod conn_report;
pub mod dependency_report;
pub mod fault_spec;
pub mod health;
pub mod hold;
pub mod installed;
pub mod journal;
pub mod judge;
pub mod lease;
pub mod live;
pub mod proxies;
pub mod remote;
pub mod schedule;
mod sides;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redline_proxy::control::ControlServer;

use crate::distributed::start_at::{self, Clock};
use crate::engine::collect::{collect, rfc3339};
use crate::engine::{EngineError, EngineOptions, Segment, StopSignal};
use crate::result::{RunResult, SegmentInfo};
use crate::scenario::Plan;

use fault_spec::PlannedFault;
use proxies::{Proxies, ProxyError};
use sides::Sides;

/// t = 0 is set this far in the future, so starting proxies and workers is not client latency.
const START_DELAY: Duration = Duration::from_millis(300);

/// How a chaos run is driven from the command line.
pub struct ChaosOptions {
    /// Recorded as `scenario_file`.
    pub scenario_file: Option<String>,
    /// Ctrl-C: stop the load (the run ends early, `interrupted` unless holding past the timeline).
    pub stop: StopSignal,
    /// Draw the live view on stderr.
    pub live: bool,
    /// Keep load and proxies up after the timeline, for at most this long (game days).
    pub hold: Option<Duration>,
    /// Serve the control API for the run's proxies on this address.
    pub control: Option<String>,
    /// Engine worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Say what is happening on stderr (control address, hold started); off with --quiet.
    pub announce: bool,
    /// Records the faults put on attached proxies; the caller keeps a clone to remove them
    /// when it cannot wait for the run (a second Ctrl-C) and to name any left behind.
    pub installed: installed::Installed,
    /// Receives each finished second of the timeline when there is no live view (a caller's own
    /// progress line, e.g. `redline capacity`).
    pub feed: Option<tokio::sync::mpsc::UnboundedSender<crate::result::TimelineBucket>>,
    /// This process's segment of a distributed run and the scenario's hash (None: the whole run).
    pub segment: Option<(Segment, String)>,
    /// The shared t = 0 (`--start-at`); None: 300 ms from now.
    pub start_at: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("cannot serve the control API on {listen}: {why}")]
    Control { listen: String, why: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0}")]
    StartAt(String),
}

/// Runs `plan` with its proxies and fault timeline (`faults` from `fault_spec::plan_faults`).
pub async fn run(
    plan: &Plan,
    faults: Vec<PlannedFault>,
    opts: ChaosOptions,
) -> Result<RunResult, ChaosError> {
    let clock = start_at::clock(opts.start_at, START_DELAY).map_err(ChaosError::StartAt)?;
    let (origin, started_at) = (clock.origin, clock.started_at);
    let proxies = Arc::new(Proxies::start(plan, origin, started_at, opts.installed.clone()).await?);
    let control = match &opts.control {
        None => None,
        Some(listen) => match ControlServer::start(listen, proxies.registry.clone()).await {
            Ok(c) => Some(c),
            Err(e) => {
                proxies.clear_all().await;
                proxies.stop().await;
                return Err(ChaosError::Control {
                    listen: listen.clone(),
                    why: e.to_string(),
                });
            }
        },
    };
    if let (Some(c), true) = (&control, opts.announce) {
        eprintln!(
            "control API on http://{} (proxies: {})",
            c.local_addr(),
            proxy_names(&proxies)
        );
    }
    let outcome = drive(plan, &faults, &opts, &proxies, clock).await;
    if let Some(c) = control {
        c.stop().await;
    }
    proxies.stop().await;
    outcome
}

fn proxy_names(p: &Proxies) -> String {
    p.deps
        .iter()
        .map(|d| format!("{} on {}", d.name, d.listen))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything between the proxies starting and stopping; always clears every fault.
async fn drive(
    plan: &Plan,
    faults: &[PlannedFault],
    opts: &ChaosOptions,
    proxies: &Arc<Proxies>,
    clock: Clock,
) -> Result<RunResult, ChaosError> {
    let (origin, started_at) = (clock.origin, clock.started_at);
    if clock.late > Duration::ZERO && opts.start_at.is_some() && opts.announce {
        eprintln!(
            "late: started {:.3} s after --start-at; arrivals due before then are dropped and counted (missed)",
            clock.late.as_secs_f64()
        );
    }
    let mut sides = Sides::start(plan, faults, opts, proxies, origin);
    let run_plan = hold::extend(plan, opts.hold);
    let engine = EngineOptions {
        origin,
        started_at,
        stop: opts.stop.clone(),
        phases: hold::phases(plan, opts.hold),
        live: sides.live.take(),
        workers: opts.workers,
        segment: opts.segment.as_ref().map(|(s, _)| *s),
        missed_before: if opts.start_at.is_some() {
            clock.late
        } else {
            Duration::ZERO
        },
    };
    let measured = crate::engine::run(&run_plan, engine).await;
    // The after-load probes (idempotency, conflict, limits) run before the proxies stop, so their logs see its calls.
    let mut probe_notes = Vec::new();
    let first_segment = opts.segment.as_ref().is_none_or(|(s, _)| s.index == 0);
    let (probes, (conflicts, limits)) = if measured.is_ok() && first_segment {
        (
            crate::engine::idempotency::probe_all(&run_plan, &mut probe_notes).await,
            crate::engine::interface_probes::probe_all(&run_plan, &mut probe_notes).await,
        )
    } else {
        Default::default()
    };
    // The load is over (or never started): stop the timeline, then leave clean passthrough.
    let done = sides.finish(proxies, origin).await;
    let m = measured?;
    let mut result = collect(&run_plan, &m, opts.scenario_file.clone());
    result.idempotency = probes;
    result.conflicts = conflicts;
    result.limits = limits;
    result.notes.extend(probe_notes);
    if let Some((segment, hash)) = &opts.segment {
        result.segment = Some(segment_info(*segment, hash, opts.start_at, clock, m.missed));
    }
    if m.missed > 0 {
        result.notes.push(format!(
            "started {:.3} s after --start-at: {} arrivals due before then were not sent (counted as dropped)",
            clock.late.as_secs_f64(),
            m.missed
        ));
    }
    result.faults = done.faults;
    let mut notes = done.notes;
    if let Some(c) = done.collected {
        notes.extend(c.notes.iter().cloned());
        result.dependencies = c.reports(proxies, &result.faults).await;
    }
    for (name, d) in &result.dependencies {
        notes.extend(d.connection_cap.as_ref().map(|c| cap_report::note(name, c)));
    }
    result.health = done.health;
    result.ready = done.ready;
    result.run_id = Some(proxies.installed.run_id().to_string());
    if done.control_lost.is_some() {
        result.interrupted_by = Some(lease::CONTROL_LOST.to_string());
    }
    result.notes.extend(notes);
    if let Some(cap) = opts.hold {
        settle_hold(&mut result, plan.load.duration(), cap, done.stopped_at);
    }
    Ok(result)
}

/// The segment's mark in its result.
fn segment_info(
    segment: Segment,
    hash: &str,
    start_at: Option<SystemTime>,
    clock: Clock,
    missed: u64,
) -> SegmentInfo {
    SegmentInfo {
        index: segment.index,
        count: segment.count,
        start_at: start_at.map(rfc3339),
        scenario_hash: hash.to_string(),
        late_ms: (start_at.is_some() && clock.late > Duration::ZERO)
            .then_some(clock.late.as_secs_f64() * 1000.0),
        missed,
    }
}

/// A hold ends with Ctrl-C by design: that is not an interrupted run once the timeline is done.
fn settle_hold(result: &mut RunResult, timeline: Duration, cap: Duration, stopped_at: Option<f64>) {
    let timeline_s = timeline.as_secs_f64();
    match stopped_at {
        Some(t) if t >= timeline_s => {
            result.interrupted = false;
            result.notes.retain(|n| !n.starts_with("interrupted at"));
            result.notes.push(format!(
                "held {:.1} s after the {timeline_s:.1} s timeline; ended by a stop signal (Ctrl-C, SIGTERM or SIGHUP)",
                t - timeline_s
            ));
        }
        Some(_) => {}
        None => result.notes.push(format!(
            "held until the --hold-max cap of {:.0} s",
            cap.as_secs_f64()
        )),
    }
}
