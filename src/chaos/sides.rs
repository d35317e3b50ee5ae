//! The tasks that run beside the load: the fault timeline, the proxy reader, the health and
//! readiness samplers, the Ctrl-C watcher and the live view. Started before the engine, finished after it, in the
//! order that leaves no fault behind: timeline stopped, every proxy cleared, then last reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::book::FaultBook;
use super::collector::{self, Collected};
use super::fault_spec::PlannedFault;
use super::health::Transport;
use super::proxies::Proxies;
use super::{health, lease, live, schedule, ChaosOptions};
use crate::engine::StopSignal;
use crate::result::{AppliedFault, HealthSample, ReadySamples, TimelineBucket};
use crate::scenario::Plan;

/// A health or readiness sampling task.
type Sampler = JoinHandle<Vec<HealthSample>>;

pub struct Sides {
    book: FaultBook,
    halt: watch::Sender<bool>,
    done: watch::Sender<bool>,
    schedule: JoinHandle<Vec<String>>,
    collector: JoinHandle<Collected>,
    health: Option<Sampler>,
    /// The readiness sampler and the path it probes.
    ready: Option<(String, Sampler)>,
    watcher: JoinHandle<Option<f64>>,
    /// Renews the run's lease on attached proxies; its note when the run lost one.
    renewer: JoinHandle<Option<String>>,
    notes: Vec<String>,
    /// The engine's feed into the live view, when there is one.
    pub live: Option<mpsc::UnboundedSender<TimelineBucket>>,
}

/// What the side tasks gathered.
pub struct Finished {
    pub faults: Vec<AppliedFault>,
    pub collected: Option<Collected>,
    pub health: Vec<HealthSample>,
    pub ready: Option<ReadySamples>,
    pub notes: Vec<String>,
    /// When Ctrl-C was seen (s on the run's clock); None when the run ended by itself.
    pub stopped_at: Option<f64>,
    /// Why the run stopped itself: it lost an attached proxy's control API (its lease).
    pub control_lost: Option<String>,
}

impl Sides {
    pub fn start(
        plan: &Plan,
        faults: &[PlannedFault],
        opts: &ChaosOptions,
        proxies: &Arc<Proxies>,
        origin: Instant,
    ) -> Sides {
        let book = FaultBook::default();
        let (halt, halt_rx) = watch::channel(false);
        let (done, done_rx) = watch::channel(false);
        let renewer = tokio::spawn(lease::renew(
            proxies.clone(),
            opts.stop.clone(),
            origin,
            done_rx.clone(),
        ));
        let schedule = {
            let (p, f, b) = (proxies.clone(), faults.to_vec(), book.clone());
            tokio::spawn(async move { schedule::run(&p, &f, origin, &b, halt_rx).await })
        };
        let (deps_tx, deps_rx) = watch::channel(live::DepSeconds::new());
        let collector = tokio::spawn(collector::run(
            proxies.clone(),
            book.clone(),
            origin,
            done_rx.clone(),
            deps_tx,
        ));
        let mut notes = Vec::new();
        let (health, ready) = samplers(plan, origin, &done_rx, &mut notes);
        let timeline = plan.load.duration();
        // The live view says it in its frame; a plain line would break its redraw.
        let announce = opts.hold.is_some() && opts.announce && !opts.live;
        let watcher = tokio::spawn(watch_stop(
            opts.stop.clone(),
            halt.clone(),
            timeline,
            origin,
            announce,
        ));
        let live = opts.live.then(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let hold_from = opts.hold.map(|_| timeline.as_secs() as u32);
            let clock = live::Clock {
                total: timeline,
                phases: crate::scenario::phase_windows(plan),
            };
            tokio::spawn(live::view(rx, book.clone(), deps_rx, hold_from, clock));
            tx
        });
        let live = live.or_else(|| opts.feed.clone());
        Sides {
            book,
            halt,
            done,
            schedule,
            collector,
            health,
            ready,
            watcher,
            renewer,
            notes,
            live,
        }
    }

    /// Stops the timeline, clears every proxy, closes the fault book, then takes the last reads.
    pub async fn finish(self, proxies: &Proxies, origin: Instant) -> Finished {
        let mut notes = self.notes;
        // send_replace: the value must change even when every receiver is gone (the timeline ended).
        self.halt.send_replace(true);
        let stopped_at = self.watcher.await.ok().flatten();
        notes.extend(self.schedule.await.unwrap_or_default());
        notes.extend(proxies.clear_all().await);
        self.book.close_all(origin.elapsed().as_secs_f64());
        self.done.send_replace(true);
        let control_lost = self.renewer.await.ok().flatten();
        notes.extend(control_lost.clone());
        let collected = self.collector.await.ok();
        let health = match self.health {
            Some(t) => t.await.unwrap_or_default(),
            None => Vec::new(),
        };
        let ready = match self.ready {
            Some((path, t)) => Some(ReadySamples {
                path,
                samples: t.await.unwrap_or_default(),
            }),
            None => None,
        };
        Finished {
            faults: self.book.snapshot(),
            collected,
            health,
            ready,
            notes,
            stopped_at,
            control_lost,
        }
    }
}

/// Health and readiness: same sampler, same cadence, same transport, one task each (when named).
fn samplers(
    plan: &Plan,
    origin: Instant,
    done_rx: &watch::Receiver<bool>,
    notes: &mut Vec<String>,
) -> (Option<Sampler>, Option<(String, Sampler)>) {
    let mut sampler = |key: &str, path: &Option<String>, read: fn(&[u8]) -> Option<String>| {
        let path = path.clone()?;
        match Transport::for_target(&plan.target) {
            Ok(transport) => Some(tokio::spawn(health::poll_with(
                plan.target.base_url.clone(),
                transport,
                path,
                origin,
                done_rx.clone(),
                read,
            ))),
            Err(why) => {
                notes.push(format!("{key} was not sampled: {why}"));
                None
            }
        }
    };
    let health = sampler("health_path", &plan.target.health_path, health::state_of);
    let ready = sampler(
        "ready_path",
        &plan.target.ready_path,
        health::ready_state_of,
    );
    let ready = ready
        .zip(plan.target.ready_path.clone())
        .map(|(t, p)| (p, t));
    (health, ready)
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
            halt.send_replace(true);
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
