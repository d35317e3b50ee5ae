//! Merges workers' per-second reports into the timeline (in order, as soon as every worker
//! has closed a second) and their final measurements into per-operation statistics.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::result::{OpSecond, TimelineBucket};
use crate::scenario::RequestSpec;

use super::failure::samples::ErrorSamples;
use super::stats::{FailKind, LogRow, SecondAcc, SlotStats, KINDS};
use super::worker::Report;
use super::CLIENT_LOG_CAP;

pub(super) struct Aggregate {
    pub end: Duration,
    pub ops: Vec<Vec<SlotStats>>,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    pub missed: u64,
    /// Compact while the run lasts; `expand` turns each into a result bucket.
    pub timeline: Vec<Second>,
    pub log: Vec<LogRow>,
    pub log_truncated: bool,
    pub samples: ErrorSamples,
    /// Each worker's body samples, merged by `bodies::merge`.
    pub bodies: Vec<Vec<super::bodies::Slot>>,
}

pub(super) async fn aggregate(
    mut rx: mpsc::UnboundedReceiver<Report>,
    workers: usize,
    n_ops: usize,
    slots: usize,
    requests: &[RequestSpec],
    live: Option<mpsc::UnboundedSender<TimelineBucket>>,
    keep_histograms: bool,
) -> Aggregate {
    let mut agg = Aggregate {
        end: Duration::ZERO,
        ops: (0..n_ops)
            .map(|_| (0..slots).map(|_| SlotStats::new()).collect())
            .collect(),
        sent: 0,
        completed: 0,
        errors: 0,
        dropped: 0,
        missed: 0,
        timeline: Vec::new(),
        log: Vec::new(),
        log_truncated: false,
        samples: ErrorSamples::new(n_ops),
        bodies: Vec::new(),
    };
    let mut open: BTreeMap<u32, SecondAcc> = BTreeMap::new();
    let mut reported: Vec<Option<u32>> = vec![None; workers];
    let mut finished = vec![false; workers];
    while let Some(report) = rx.recv().await {
        match report {
            Report::Second(w, acc) => {
                reported[w] = Some(reported[w].map_or(acc.t_s, |r| r.max(acc.t_s)));
                match open.get_mut(&acc.t_s) {
                    Some(sum) => sum.merge(&acc),
                    None => {
                        open.insert(acc.t_s, acc);
                    }
                }
            }
            Report::Finished(w, mut result) => {
                finished[w] = true;
                agg.end = agg.end.max(result.end);
                agg.sent += result.sent;
                agg.completed += result.completed;
                agg.errors += result.errors;
                agg.dropped += result.dropped;
                agg.missed += result.missed;
                for (i, s) in result.slots.iter().enumerate() {
                    agg.ops[i / slots][i % slots].merge(s);
                }
                agg.log.extend_from_slice(&result.log);
                agg.log_truncated |= result.log_truncated;
                agg.samples.merge(&result.samples);
                let bodies =
                    std::mem::replace(&mut result.bodies, super::bodies::BodySampler::new(0));
                agg.bodies.push(bodies.into_slots());
            }
        }
        // Close every second that all still-running workers have reported.
        loop {
            let t = agg.timeline.len() as u32;
            let complete = (0..workers).all(|w| finished[w] || reported[w].is_some_and(|r| r >= t));
            let later = open.keys().next_back().is_some_and(|k| *k >= t);
            if !complete || (finished.iter().all(|f| *f) && !later) {
                break;
            }
            let acc = open.remove(&t).unwrap_or_else(|| SecondAcc::new(t, n_ops));
            let second = compact(&acc, t, keep_histograms);
            if let Some(live) = &live {
                let _ = live.send(expand(&second, requests));
            }
            agg.timeline.push(second);
        }
        if finished.iter().all(|f| *f) {
            break;
        }
    }
    agg.log.sort_by_key(|r| (r.t_us, r.index));
    if agg.log.len() > CLIENT_LOG_CAP {
        agg.log.truncate(CLIENT_LOG_CAP);
        agg.log_truncated = true;
    }
    agg
}

/// One closed second of the timeline as kept during the run: about 150 bytes plus 24 per
/// operation, so an 8-hour run holds a few megabytes of timeline.
pub(super) struct Second {
    t_s: u32,
    sent: u64,
    completed: u64,
    errors: u64,
    dropped: u64,
    in_flight: u64,
    kinds: [u64; KINDS],
    classes: [u64; 5],
    ops: Box<[OpSec]>,
}

struct OpSec {
    count: u64,
    errors: u32,
    /// p50, p95, p99 in microseconds (histograms stop at one hour, which fits in a u32).
    p_us: [u32; 3],
    /// The second's latency histogram, encoded, when a merge will need it (segment runs).
    histogram: Option<String>,
}

fn compact(acc: &SecondAcc, t_s: u32, keep_histograms: bool) -> Second {
    let ops = acc
        .ops
        .iter()
        .map(|o| {
            let q = |p: f64| o.latency.value_at_quantile(p).min(u32::MAX as u64) as u32;
            let p_us = if o.count > 0 {
                [q(0.5), q(0.95), q(0.99)]
            } else {
                [0; 3]
            };
            OpSec {
                count: o.count,
                errors: o.errors.min(u32::MAX as u64) as u32,
                p_us,
                histogram: (keep_histograms && o.count > 0)
                    .then(|| super::collect::encode(&o.latency)),
            }
        })
        .collect();
    Second {
        t_s,
        sent: acc.sent,
        completed: acc.completed,
        errors: acc.errors,
        dropped: acc.dropped,
        in_flight: acc.in_flight,
        kinds: acc.kinds,
        classes: acc.classes,
        ops,
    }
}

/// The result bucket for one second.
pub(super) fn expand(s: &Second, requests: &[RequestSpec]) -> TimelineBucket {
    let ms = |us: u32| us as f64 / 1000.0;
    let ops = s
        .ops
        .iter()
        .zip(requests)
        .filter(|(o, _)| o.count > 0)
        .map(|(o, r)| {
            let [p50, p95, p99] = o.p_us;
            let second = OpSecond {
                count: o.count,
                errors: o.errors as u64,
                p50_ms: ms(p50),
                p95_ms: ms(p95),
                p99_ms: ms(p99),
                histogram: o.histogram.clone(),
            };
            (r.name.clone(), second)
        })
        .collect();
    let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    TimelineBucket {
        t_s: s.t_s,
        sent: s.sent,
        completed: s.completed,
        errors: s.errors,
        dropped: s.dropped,
        error_kinds: FailKind::ALL
            .iter()
            .filter(|k| s.kinds[**k as usize] > 0)
            .map(|k| (k.name().to_string(), s.kinds[*k as usize]))
            .collect(),
        status_classes: classes
            .iter()
            .zip(s.classes)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| (c.to_string(), n))
            .collect(),
        ops,
        in_flight: s.in_flight,
    }
}
