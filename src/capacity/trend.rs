//! Latency trend through a step: a queue that builds up shows as latency rising quarter after
//! quarter. A stable queue near saturation fluctuates, but it does not double its median while
//! rising through all four quarters, so that is the rule.

use std::collections::BTreeMap;

use crate::result::RunResult;

/// Quarters with fewer requests than this are not read (a trend needs a median per quarter).
const MIN_PER_QUARTER: usize = 20;
/// The last quarter's median must be at least this multiple of the first's.
const RISE_FACTOR: f64 = 2.0;
/// ...and above it by at least this share of the tightest latency claim (or 1 ms).
const RISE_OF_CLAIM: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trend {
    Flat,
    Rising {
        first_ms: f64,
        last_ms: f64,
    },
    /// Too few requests (or no client log) to tell.
    Unknown,
}

/// Reads the trend from the client log over [from_s, to_s) (intended send times), per request
/// name: a mix of a fast and a slow request has a median that jumps between the two with the
/// mix's share in each quarter, so each request is read on its own. Rising when any request
/// rises; Unknown when none had enough requests per quarter.
/// `tightest_ms`: the smallest latency bound judged (infinite when none).
pub fn of_log(result: &RunResult, from_s: f64, to_s: f64, tightest_ms: f64) -> Trend {
    if result.client_log_truncated {
        return Trend::Unknown;
    }
    let (from, to) = (from_s * 1000.0, to_s * 1000.0);
    let span = (to - from) / 4.0;
    let mut per_request: BTreeMap<&str, [Vec<f64>; 4]> = BTreeMap::new();
    for e in &result.client_log {
        if e.t_ms < from || e.t_ms >= to {
            continue;
        }
        let q = (((e.t_ms - from) / span) as usize).min(3);
        per_request.entry(e.request.as_str()).or_default()[q].push(e.latency_ms);
    }
    let mut out = Trend::Unknown;
    for quarters in per_request.values_mut() {
        let Some(medians) = medians(quarters) else {
            continue;
        };
        match rising(medians, tightest_ms) {
            r @ Trend::Rising { .. } => return r,
            _ => out = Trend::Flat,
        }
    }
    out
}

fn medians(quarters: &mut [Vec<f64>; 4]) -> Option<[f64; 4]> {
    let mut m = [0.0; 4];
    for (m, q) in m.iter_mut().zip(quarters.iter_mut()) {
        if q.len() < MIN_PER_QUARTER {
            return None;
        }
        q.sort_by(f64::total_cmp);
        *m = q[q.len() / 2];
    }
    Some(m)
}

/// The rule on four quarter medians.
pub fn rising(m: [f64; 4], tightest_ms: f64) -> Trend {
    let monotone = m.windows(2).all(|w| w[1] >= w[0]);
    let min_rise = if tightest_ms.is_finite() {
        (tightest_ms * RISE_OF_CLAIM).max(1.0)
    } else {
        1.0
    };
    if monotone && m[3] >= RISE_FACTOR * m[0] && m[3] - m[0] >= min_rise {
        Trend::Rising {
            first_ms: m[0],
            last_ms: m[3],
        }
    } else {
        Trend::Flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_growing_queue_rises_and_noise_does_not() {
        assert!(matches!(
            rising([5.0, 9.0, 14.0, 20.0], 100.0),
            Trend::Rising { .. }
        ));
        // Fluctuating around a level, even with a high last quarter.
        assert_eq!(rising([5.0, 8.0, 6.0, 12.0], 100.0), Trend::Flat);
        // Doubling by a fraction of a millisecond is not a queue.
        assert_eq!(rising([0.3, 0.4, 0.5, 0.7], f64::INFINITY), Trend::Flat);
        // Rising a little (less than twice) is within the noise.
        assert_eq!(rising([10.0, 11.0, 12.0, 13.0], 50.0), Trend::Flat);
    }

    fn entry(request: &str, t_ms: f64, latency_ms: f64) -> crate::result::ClientLogEntry {
        crate::result::ClientLogEntry {
            t_ms,
            request: request.into(),
            request_id: None,
            trace_id: None,
            status: Some(200),
            error: None,
            latency_ms,
            retry_after: false,
            grpc_status: None,
        }
    }

    #[test]
    fn a_mix_of_fast_and_slow_requests_is_read_per_request() {
        // Fast (5 ms) and slow (40 ms) requests, the slow share growing from a fifth to four
        // fifths: the mixed median rises through the quarters, neither request does.
        let mut log = Vec::new();
        for i in 0..400 {
            let t = i as f64 * 10.0;
            let slow_share = 0.2 + 0.6 * (i as f64 / 400.0);
            let slow = (i * 7919 % 100) as f64 / 100.0 < slow_share;
            log.push(if slow {
                entry("slow", t, 40.0)
            } else {
                entry("fast", t, 5.0)
            });
        }
        let r = RunResult {
            client_log: log,
            ..RunResult::default()
        };
        assert_eq!(of_log(&r, 0.0, 4.0, 100.0), Trend::Flat);
        let queue: Vec<_> = (0..400)
            .map(|i| entry("slow", i as f64 * 10.0, 5.0 + i as f64))
            .collect();
        let r = RunResult {
            client_log: queue,
            ..RunResult::default()
        };
        assert!(matches!(of_log(&r, 0.0, 4.0, 100.0), Trend::Rising { .. }));
    }
}
