//! Chaos runs: a scenario's load with its dependencies behind fault proxies and a fault timeline,
//! measured from both sides into one `RunResult`.
//!
//! `run` starts the proxies (or attaches to running ones) on a clock shared with the engine,
//! runs the load, applies the timeline, reads the dependency logs and the change journal as the
//! run goes, samples the target's health, and always leaves every proxy in clean passthrough:
//! at the end, on Ctrl-C and on error. Invariant: nothing starts before every fault was checked
//! (`fault_spec::plan_faults`), and no fault outlives the run.

pub mod book;
pub mod collector;
pub mod dependency_report;
pub mod fault_spec;
pub mod health;
pub mod hold;
pub mod journal;
pub mod judge;
pub mod live;
pub mod proxies;
pub mod remote;
pub mod schedule;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use redline_proxy::control::ControlServer;
use tokio::sync::{mpsc, watch};

use crate::engine::collect::collect;
use crate::engine::{EngineError, EngineOptions, StopSignal};
use crate::result::RunResult;
use crate::scenario::{Plan, Scheme};

use book::FaultBook;
use fault_spec::PlannedFault;
use proxies::{Proxies, ProxyError};

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
}

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("cannot serve the control API on {listen}: {why}")]
    Control { listen: String, why: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Runs `plan` with its proxies and fault timeline (`faults` from `fault_spec::plan_faults`).
pub async fn run(
    plan: &Plan,
    faults: Vec<PlannedFault>,
    opts: ChaosOptions,
) -> Result<RunResult, ChaosError> {
    let origin = Instant::now() + START_DELAY;
    let started_at = SystemTime::now() + START_DELAY;
    let proxies = Arc::new(Proxies::start(plan, origin, started_at).await?);
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
    let outcome = drive(plan, &faults, &opts, &proxies, origin, started_at).await;
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
    origin: Instant,
    started_at: SystemTime,
) -> Result<RunResult, ChaosError> {
    let book = FaultBook::default();
    let (halt_tx, halt_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(false);
    let faults = Arc::new(faults.to_vec());
    let schedule = {
        let (p, f, b, h) = (
            proxies.clone(),
            faults.clone(),
            book.clone(),
            halt_rx.clone(),
        );
        tokio::spawn(async move { schedule::run(&p, &f, origin, &b, h).await })
    };
    let (deps_tx, deps_rx) = watch::channel(live::DepSeconds::new());
    let collect_task = {
        let (p, b, d) = (proxies.clone(), book.clone(), done_rx.clone());
        tokio::spawn(collector::run(p, b, origin, d, deps_tx))
    };
    let mut notes = Vec::new();
    let health_task = match (&plan.target.health_path, plan.target.base_url.scheme) {
        (Some(path), Scheme::Http) => Some(tokio::spawn(health::poll(
            plan.target.base_url.clone(),
            path.clone(),
            origin,
            done_rx.clone(),
        ))),
        (Some(_), Scheme::Https) => {
            notes.push(
                "health_path was not sampled: health sampling speaks plain HTTP only".to_string(),
            );
            None
        }
        (None, _) => None,
    };
    let watcher = tokio::spawn(watch_stop(
        opts.stop.clone(),
        halt_tx.clone(),
        plan.load.duration(),
        origin,
        // The live view says it in its frame; a plain line would break its redraw.
        opts.hold.is_some() && opts.announce && !opts.live,
    ));
    let live = opts.live.then(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        let hold_from = opts.hold.map(|_| plan.load.duration().as_secs() as u32);
        tokio::spawn(live::view(rx, book.clone(), deps_rx, hold_from));
        tx
    });
    let run_plan = hold::extend(plan, opts.hold);
    let engine = EngineOptions {
        origin,
        started_at,
        stop: opts.stop.clone(),
        phases: hold::phases(plan, opts.hold),
        live,
        workers: opts.workers,
    };
    let measured = crate::engine::run(&run_plan, engine).await;
    // The load is over (or never started): stop the timeline, then leave clean passthrough.
    let _ = halt_tx.send(true);
    let stopped_at = watcher.await.ok().flatten();
    notes.extend(schedule.await.unwrap_or_default());
    notes.extend(proxies.clear_all().await);
    book.close_all(origin.elapsed().as_secs_f64());
    let _ = done_tx.send(true);
    let collected = collect_task.await.ok();
    let health = match health_task {
        Some(t) => t.await.unwrap_or_default(),
        None => Vec::new(),
    };
    let m = measured?;
    let mut result = collect(&run_plan, &m, opts.scenario_file.clone());
    result.faults = book.snapshot();
    if let Some(c) = collected {
        notes.extend(c.notes.iter().cloned());
        result.dependencies = c.reports(proxies, &result.faults).await;
    }
    result.health = health;
    result.notes.extend(notes);
    if let Some(cap) = opts.hold {
        settle_hold(&mut result, plan.load.duration(), cap, stopped_at);
    }
    Ok(result)
}

/// Turns the engine's stop signal into the timeline's halt, and announces the hold. Returns
/// when the stop was seen (s on the run's clock), or None when the run ended by itself.
async fn watch_stop(
    stop: StopSignal,
    halt: watch::Sender<bool>,
    timeline: Duration,
    origin: Instant,
    announce_hold: bool,
) -> Option<f64> {
    let hold_at = tokio::time::Instant::from_std(origin + timeline);
    let mut announced = !announce_hold;
    loop {
        if stop.is_stopped() {
            let _ = halt.send(true);
            return Some(origin.elapsed().as_secs_f64());
        }
        if *halt.borrow() {
            return None;
        }
        if !announced && tokio::time::Instant::now() >= hold_at {
            announced = true;
            eprintln!("timeline done: holding load and proxies (faults by hand over the control API); Ctrl-C ends the run");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
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
                "held {:.1} s after the {timeline_s:.1} s timeline; ended by Ctrl-C",
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
