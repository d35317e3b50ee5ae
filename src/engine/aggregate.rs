//! Merges workers' per-second reports into the timeline (in order, as soon as every worker
//! has closed a second) and their final measurements into per-operation statistics.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::result::{OpSecond, TimelineBucket};
use crate::scenario::RequestSpec;

use super::stats::{FailKind, LogRow, SecondAcc, SlotStats};
use super::worker::Report;
use super::CLIENT_LOG_CAP;

pub(super) struct Aggregate {
    pub end: Duration,
    pub ops: Vec<Vec<SlotStats>>,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    pub timeline: Vec<TimelineBucket>,
    pub log: Vec<LogRow>,
    pub log_truncated: bool,
}

pub(super) async fn aggregate(
    mut rx: mpsc::UnboundedReceiver<Report>,
    workers: usize,
    n_ops: usize,
    slots: usize,
    requests: &[RequestSpec],
    live: Option<mpsc::UnboundedSender<TimelineBucket>>,
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
        timeline: Vec::new(),
        log: Vec::new(),
        log_truncated: false,
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
            Report::Finished(w, result) => {
                finished[w] = true;
                agg.end = agg.end.max(result.end);
                agg.sent += result.sent;
                agg.completed += result.completed;
                agg.errors += result.errors;
                agg.dropped += result.dropped;
                for (i, s) in result.slots.iter().enumerate() {
                    agg.ops[i / slots][i % slots].merge(s);
                }
                agg.log.extend_from_slice(&result.log);
                agg.log_truncated |= result.log_truncated;
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
            let bucket = bucket(&acc, t, requests);
            if let Some(live) = &live {
                let _ = live.send(bucket.clone());
            }
            agg.timeline.push(bucket);
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

fn bucket(acc: &SecondAcc, t_s: u32, requests: &[RequestSpec]) -> TimelineBucket {
    let ms = |us: u64| us as f64 / 1000.0;
    let ops = acc
        .ops
        .iter()
        .zip(requests)
        .filter(|(o, _)| o.count > 0)
        .map(|(o, r)| {
            let q = |p: f64| ms(o.latency.value_at_quantile(p));
            (
                r.name.clone(),
                OpSecond {
                    count: o.count,
                    errors: o.errors,
                    p50_ms: q(0.5),
                    p95_ms: q(0.95),
                    p99_ms: q(0.99),
                },
            )
        })
        .collect();
    let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    TimelineBucket {
        t_s,
        sent: acc.sent,
        completed: acc.completed,
        errors: acc.errors,
        dropped: acc.dropped,
        error_kinds: FailKind::ALL
            .iter()
            .filter(|k| acc.kinds[**k as usize] > 0)
            .map(|k| (k.name().to_string(), acc.kinds[*k as usize]))
            .collect(),
        status_classes: classes
            .iter()
            .zip(acc.classes)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| (c.to_string(), n))
            .collect(),
        ops,
        in_flight: acc.in_flight,
    }
}
