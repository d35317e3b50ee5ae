//! Phases for a rate or windowed-count breaker: a partial failure below the claimed share (it
//! must stay closed), a clean stretch, then an outage (every call fails: above any share and any
//! count) at a rate that fills the window past its minimum volume, lasting through the first
//! probe (it reopens) and ending halfway into the second opening, then demand until it closed.

use super::breaker_phases::fmt2;
use super::deps::DepClaims;
use super::timeline::{rate, tenth_up, Block, Fault, Segment, BREAKER};
use crate::spec::claims::{Breaker, BreakerKind, RateTrip};
use crate::verdict::rules::FALLBACK_MIN_REQUESTS;
use crate::verdict::tolerance::{fmt_ms, fmt_pct};

/// Calls per window, at least: the window's minimum volume twice over, and never fewer than this.
const MIN_WINDOW_CALLS: f64 = 20.0;
/// Windows each phase lasts.
const WINDOWS: f64 = 2.0;

pub fn rate_breaker(d: &DepClaims, b: &Breaker, cap: f64) -> Option<Block> {
    let kind = b.kind?;
    let open_ms = b.recovery_timeout_ms?;
    let min_calls = f64::from(b.minimum_calls.or(b.failure_threshold).unwrap_or(1));
    let calls = (2.0 * min_calls).max(MIN_WINDOW_CALLS);
    // A time window needs `calls` within it; a count window fills at any rate.
    let window_s = b.window_ms.map(|w| w / 1000.0);
    let r = rate(window_s.map_or(MIN_WINDOW_CALLS, |w| calls / w).min(cap));
    let window_s = window_s.unwrap_or(f64::from(b.window_calls.unwrap_or(calls as u32)) / r);
    // The largest 1-in-k share below the claimed rate (strictly, whichever way it trips); a count
    // breaker: fewer failures per window than its threshold.
    let every = match (kind, b.failure_rate) {
        (BreakerKind::FailureRate, Some(f)) => {
            let k = (1.0 / f).floor() as u32 + 1;
            let k = if b.rate_trips == Some(RateTrip::AtLeast) && 1.0 / f64::from(k) >= f {
                k + 1
            } else {
                k
            };
            k.max(2)
        }
        (BreakerKind::FailuresInWindow, _) => {
            let n = f64::from(b.failure_threshold.unwrap_or(1));
            ((r * window_s / (n / 2.0).max(1.0)).ceil() as u32).max(2)
        }
        _ => return None,
    };
    let below_s = tenth_up(WINDOWS * window_s);
    let quiet = rate(0.5 / window_s);
    let clean_s = tenth_up(window_s + 0.5);
    let open_s = open_ms / 1000.0;
    let probe_s = d.timeout_ms.unwrap_or(50.0) / 1000.0;
    let opened_by = window_s;
    let per_opening = (open_s * r).max(1e-9);
    let cycles = (2.0 * FALLBACK_MIN_REQUESTS as f64 / per_opening)
        .ceil()
        .max(1.0);
    let outage_s = tenth_up(opened_by + cycles * (open_s + probe_s) + open_s / 2.0);
    let after_s = tenth_up(open_s + 2.0 * probe_s + 1.0);
    let dep = &d.name;
    let threshold = match (kind, b.failure_rate) {
        (BreakerKind::FailureRate, Some(f)) => format!("{} of calls", fmt_pct(f)),
        _ => format!("{} failures", b.failure_threshold.unwrap_or(0)),
    };
    let below_at = 0.0;
    let outage_at = below_s + clean_s;
    let mut faults = vec![
        Fault {
            dependency: dep.clone(),
            at_s: below_at,
            duration_s: below_s,
            kind: "abort",
            probability: 1.0,
            status: Some(503),
            every: Some(every),
            why: format!("every {every}th call fails: below the claimed {threshold}, so the breaker stays closed"),
        },
        Fault {
            dependency: dep.clone(),
            at_s: outage_at,
            duration_s: outage_s,
            kind: "abort",
            probability: 1.0,
            status: Some(503),
            every: None,
            why: format!(
                "every call fails: above the claimed {threshold}; through the first probe after {} and halfway \
                 into the next opening",
                fmt_ms(open_ms)
            ),
        },
    ];
    let why = format!(
        "{r}/s: {} calls per {} window, the minimum volume twice over",
        fmt2(r * window_s),
        fmt_ms(window_s * 1000.0)
    );
    let segments = vec![
        Segment {
            name: format!("breaker-below:{dep}"),
            length_s: below_s,
            rate: r,
            why: why.clone(),
        },
        Segment {
            name: format!("breaker-quiet:{dep}"),
            length_s: clean_s,
            rate: quiet,
            why: format!(
                "{quiet}/s: at most one call per window before the outage, so the window holds only its failures \
                 and the rule is crossed at once, not at its edge"
            ),
        },
        Segment {
            name: format!("breaker-outage:{dep}"),
            length_s: outage_s + after_s,
            rate: r,
            why,
        },
    ];
    // A claimed probe count shows only when probes overlap: once it is open, calls hang past the
    // timeout at a rate where k + 1 requests arrive during one probe's call.
    let mut segments = segments;
    if let (Some(t), Some(k)) = (d.timeout_ms, b.half_open_requests) {
        let t_s = t / 1000.0;
        let fast = rate((3.0 * f64::from(k + 1) / t_s).max(r).min(cap));
        let abort_len = tenth_up(window_s + 0.5);
        let hang_len = tenth_up(outage_s - abort_len + t_s);
        faults[1].duration_s = abort_len;
        faults.push(Fault {
            dependency: dep.clone(),
            at_s: outage_at + abort_len,
            duration_s: hang_len,
            kind: "hang",
            probability: 1.0,
            status: None,
            every: None,
            why: format!(
                "once it is open, calls hang past the {} timeout: the {k} probe(s) overlap, fail, and it reopens",
                fmt_ms(t)
            ),
        });
        segments[2].length_s = abort_len;
        segments.push(Segment {
            name: format!("breaker-probes:{dep}"),
            length_s: tenth_up(hang_len + after_s),
            rate: fast,
            why: format!(
                "{fast}/s: {} requests arrive during one probe's {} call",
                fmt2(fast * t_s),
                fmt_ms(t)
            ),
        });
    }
    let mut block = Block {
        label: format!("breaker on {dep}"),
        claims: vec![
            format!("opens above {threshold}, stays closed below"),
            format!("stays open {}", fmt_ms(open_ms)),
            "fallback while it is down".to_string(),
        ],
        segments,
        faults,
        priority: BREAKER,
    };
    block.faults[0].why = block.faults[0]
        .why
        .replace("every 2th", "every 2nd")
        .replace("every 3th", "every 3rd");
    Some(block)
}
