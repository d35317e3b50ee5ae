//! Alert conditions second by second: whether an error-rate or latency condition held in each
//! second of the timeline, and the stretches of seconds in a row where it did.

use super::evidence;
use crate::result::{RunResult, TimelineBucket};

/// Whether the condition held in one second. `Unknown`: the per-operation figures the timeline
/// keeps straddle the threshold (a percentile of all requests lies between those of the operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held {
    Yes,
    No,
    Unknown,
}

/// A run of consecutive seconds [from_s, to_s) in which the condition held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Stretch {
    pub from_s: f64,
    pub to_s: f64,
}

impl Stretch {
    pub fn len(&self) -> f64 {
        self.to_s - self.from_s
    }
}

/// Evaluates `f` on every second after warmup; returns the stretches where it surely held and
/// where it held or may have.
pub(super) fn per_second(
    result: &RunResult,
    f: impl Fn(&TimelineBucket) -> Held,
) -> (Vec<Stretch>, Vec<Stretch>) {
    let held: Vec<(u32, Held)> = result
        .timeline
        .iter()
        .filter(|b| f64::from(b.t_s) >= result.warmup_s - 1e-6)
        .map(|b| (b.t_s, f(b)))
        .collect();
    (
        runs(&held, |h| h == Held::Yes),
        runs(&held, |h| h != Held::No),
    )
}

fn runs(held: &[(u32, Held)], want: impl Fn(Held) -> bool) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    for (t, h) in held {
        if !want(*h) {
            continue;
        }
        let (from, to) = (f64::from(*t), f64::from(*t) + 1.0);
        match out.last_mut() {
            Some(s) if s.to_s == from => s.to_s = to,
            _ => out.push(Stretch {
                from_s: from,
                to_s: to,
            }),
        }
    }
    out
}

/// Latency per second: exact from the client log when it holds every request (grouped by the
/// second each settled, as the timeline is), else bounded by the operations' own percentiles.
pub(super) fn latency_seconds(
    result: &RunResult,
    pct: f64,
    threshold: f64,
) -> (Vec<Stretch>, Vec<Stretch>) {
    let q = pct / 100.0;
    let (from, to) = (result.warmup_s * 1000.0, result.duration_s * 1000.0);
    if evidence::client_log_covers(result, from, to) {
        let mut by_second: std::collections::BTreeMap<u32, Vec<f64>> = Default::default();
        for c in &result.client_log {
            let t = ((c.t_ms + c.latency_ms) / 1000.0).floor().max(0.0) as u32;
            by_second.entry(t).or_default().push(c.latency_ms);
        }
        let value: std::collections::BTreeMap<u32, f64> = by_second
            .into_iter()
            .filter_map(|(t, mut v)| Some((t, evidence::quantile(&mut v, q)?)))
            .collect();
        return per_second(result, |b| match value.get(&b.t_s) {
            Some(x) if *x > threshold => Held::Yes,
            _ => Held::No,
        });
    }
    per_second(result, |b| {
        let values: Vec<Option<f64>> = b
            .ops
            .values()
            .filter(|o| o.count > 0)
            .map(|o| {
                [(50.0, o.p50_ms), (95.0, o.p95_ms), (99.0, o.p99_ms)]
                    .into_iter()
                    .find(|(p, _)| *p == pct)
                    .map(|(_, v)| v)
            })
            .collect();
        if values.is_empty() {
            return Held::No;
        }
        if values.iter().any(Option::is_none) {
            return Held::Unknown;
        }
        let v: Vec<f64> = values.into_iter().flatten().collect();
        if v.iter().all(|x| *x > threshold) {
            Held::Yes
        } else if v.iter().all(|x| *x <= threshold) {
            Held::No
        } else {
            Held::Unknown
        }
    })
}
