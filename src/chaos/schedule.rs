//! The fault timeline: applies each planned fault at its `at` on the run's clock and removes it
//! at its end, recording both moments as they happened (after the proxy confirmed) in the book.
//! Stops early when the run halts; the caller then removes whatever is still applied.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use super::book::{flat_params, FaultBook};
use super::fault_spec::PlannedFault;
use super::proxies::Proxies;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    // Removals sort first: a fault ending when another starts never overlaps it.
    Remove,
    Apply,
}

/// Runs the timeline; returns problems met (a fault the proxy refused), for the result's notes.
pub async fn run(
    proxies: &Proxies,
    faults: &[PlannedFault],
    origin: Instant,
    book: &FaultBook,
    mut halt: watch::Receiver<bool>,
) -> Vec<String> {
    let mut steps: Vec<(Duration, Step, usize)> = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        steps.push((f.at, Step::Apply, i));
        steps.push((f.until, Step::Remove, i));
    }
    steps.sort();
    let mut opened: Vec<Option<usize>> = vec![None; faults.len()];
    let mut problems = Vec::new();
    for (at, step, i) in steps {
        let when = tokio::time::Instant::from_std(origin + at);
        tokio::select! {
            _ = tokio::time::sleep_until(when) => {}
            _ = halt.wait_for(|h| *h) => break,
        }
        let f = &faults[i];
        let Some(dep) = proxies.dep(&f.dependency) else {
            continue;
        };
        match step {
            // The proxy ends it at its scheduled end by itself, even if this run is frozen then.
            Step::Apply => match proxies
                .apply(
                    dep,
                    &f.action,
                    Some((origin + f.until).saturating_duration_since(Instant::now())),
                )
                .await
            {
                Ok(()) => {
                    let t = origin.elapsed().as_secs_f64();
                    opened[i] =
                        Some(book.open(&f.dependency, f.kind, flat(&f.params), t, "schedule"));
                }
                Err(e) => problems.push(format!(
                    "fault[{}] ({} on {} at {:.1} s) was not applied: {e}",
                    f.index,
                    f.kind,
                    f.dependency,
                    at.as_secs_f64()
                )),
            },
            Step::Remove => {
                let Some(entry) = opened[i] else { continue };
                match proxies.remove(dep, &f.action).await {
                    Ok(()) => book.close(entry, origin.elapsed().as_secs_f64()),
                    Err(e) => problems.push(format!(
                        "fault[{}] ({} on {}) could not be removed on time: {e}",
                        f.index, f.kind, f.dependency
                    )),
                }
            }
        }
    }
    problems
}

fn flat(params: &Value) -> Value {
    flat_params(params)
}
