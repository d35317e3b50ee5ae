//! Phases for a consecutive-failure breaker: an outage at a rate low enough that one request's
//! attempts end before the next request arrives (so the threshold is counted exactly), then, while
//! it is open, a hang at a rate high enough that the half-open probes overlap (so their count
//! shows) lasting past the first probes (they fail and it reopens), ending inside the second
//! opening, and demand until it has closed again.

use super::deps::{DepClaims, REACTION_MS};
use super::timeline::{rate, tenth_up, Block, Fault, Segment, BREAKER};
use crate::spec::claims::{Breaker, RecoveryGrowth};
use crate::verdict::rules::FALLBACK_MIN_REQUESTS;
use crate::verdict::tolerance::fmt_ms;

/// Open time when the spec claims none: long enough to see traffic stop.
const UNCLAIMED_OPEN_MS: f64 = 5000.0;
/// Seconds of demand after the breaker is expected to close (the verdict of calls resuming).
const AFTER_CLOSE_S: f64 = 1.0;

/// The block for `d`'s breaker that opens after `n` consecutive failures; `cap` is the highest
/// rate allowed (the baseline's).
pub fn consecutive(d: &DepClaims, b: &Breaker, n: u32, cap: f64) -> Block {
    let m = d.attempts();
    let open_ms = b.recovery_timeout_ms.unwrap_or(UNCLAIMED_OPEN_MS);
    let jitter = 1.0 + b.recovery_jitter.unwrap_or(0.0);
    let probes = b.half_open_requests.unwrap_or(1);
    // No probe count claimed: nothing needs probes to overlap, and a library that lets every call
    // through while half-open would reopen on each overlapping failure (a longer open time than
    // it is configured with). Then the whole outage is a hang at spaced requests, each request's
    // timed-out calls over before the next one arrives.
    let single = b.half_open_requests.is_none() && d.timeout_ms.is_some();
    let call_ms = if single {
        d.timeout_ms.unwrap_or(0.0) + REACTION_MS
    } else {
        REACTION_MS
    };
    let chain = d.chain_ms(call_ms);
    // Twice one request's chain between requests, but at least 2 requests per open time (6 when
    // calls fail fast) so the opening is seen from both sides.
    let per_open = if single { 2000.0 } else { 6000.0 };
    let gap_s = (2.0 * chain / 1000.0).min(open_ms / per_open);
    let slow = rate((1.0 / gap_s).min(cap));
    let gap_s = 1.0 / slow;
    let to_open = n.div_ceil(m);
    let fault_at = tenth_up(1.5 * gap_s);
    let abort_s = f64::from(to_open + 1) * gap_s + if single { call_ms / 1000.0 } else { 0.0 };
    let opened_by = tenth_up(fault_at + abort_s);
    let open_s = open_ms * jitter / 1000.0;
    let second_s = second_opening_ms(b, open_ms) * jitter / 1000.0;
    let (hang, probe_s, fast) = match d.timeout_ms {
        Some(t) if single => (false, t / 1000.0, slow),
        Some(t) => {
            let t_s = t / 1000.0;
            // k + 1 requests within one probe's call: every probe slot is taken, three times over.
            let r = rate((3.0 * f64::from(probes + 1) / t_s).max(slow).min(cap));
            (true, t_s, r)
        }
        None => (false, REACTION_MS / 1000.0, slow),
    };
    // Openings the outage lasts through: enough requests answered while open for the fallback
    // verdict twice over (a reopening by a failed probe starts the next).
    let per_opening = (open_s * fast).max(1e-9);
    let cycles = ((2.0 * FALLBACK_MIN_REQUESTS as f64 / per_opening).ceil()).max(1.0);
    let fault_end = opened_by + cycles * (open_s + probe_s) + open_ms / 2000.0;
    let closed_by =
        opened_by + cycles * (open_s + probe_s) + second_s + f64::from(probes) * probe_s;
    let end = tenth_up(closed_by + AFTER_CLOSE_S);
    let dep = &d.name;
    let mut faults = vec![Fault {
        dependency: dep.clone(),
        at_s: fault_at,
        duration_s: opened_by - fault_at,
        kind: if single { "hang" } else { "abort" },
        probability: 1.0,
        status: (!single).then_some(503),
        every: None,
        why: format!(
            "every call fails{}: {n} consecutive failures take {to_open} request(s) of {m} attempt(s); one \
             spare request",
            if single { " at its timeout" } else { " at once" }
        ),
    }];
    let hang_why = format!(
        "calls hang past the {} timeout from the opening until halfway through the second opening: the first \
         probes after {} fail and it reopens, the next ones succeed",
        fmt_ms(d.timeout_ms.unwrap_or(0.0)),
        fmt_ms(open_ms)
    );
    if hang {
        faults.push(Fault {
            dependency: dep.clone(),
            at_s: opened_by,
            duration_s: tenth_up(fault_end - opened_by),
            kind: "hang",
            probability: 1.0,
            status: None,
            every: None,
            why: hang_why,
        });
    } else if single {
        faults[0].duration_s = tenth_up(fault_end - fault_at);
        faults[0].why.push_str(
            "; it lasts halfway into the second opening so the first probe fails (no probe count is claimed: \
             requests stay spaced so probes never overlap)",
        );
    } else {
        faults[0].duration_s = tenth_up(fault_end - fault_at);
        faults[0].why.push_str(
            "; it lasts halfway into the second opening so the first probes fail (no timeout is claimed, so \
             no hang: the probe count may show only 1)",
        );
    }
    let segments = vec![
        Segment {
            name: format!("breaker-threshold:{dep}"),
            length_s: opened_by,
            rate: slow,
            why: format!(
                "{slow}/s: a request every {} s, twice one request's {m} attempt(s) and waits ({}), so each failure \
                 is counted before the next call",
                fmt2(gap_s),
                fmt_ms(chain)
            ),
        },
        Segment {
            name: format!("breaker-probes:{dep}"),
            length_s: tenth_up(end - opened_by),
            rate: fast,
            why: if hang {
                format!(
                    "{fast}/s: {} requests arrive during one probe's {} call, so all {probes} probe(s) go out; \
                     open {} s, reopen, close, then {AFTER_CLOSE_S} s of demand",
                    fmt2(fast * probe_s),
                    fmt_ms(probe_s * 1000.0),
                    fmt2(open_s)
                )
            } else {
                format!("{fast}/s: open {} s, reopen, close, then {AFTER_CLOSE_S} s of demand", fmt2(open_s))
            },
        },
    ];
    let mut claims = vec![
        format!("opens after {n} consecutive failures"),
        format!("stays open {}", fmt_ms(open_ms)),
        format!("{probes} probe(s) when half-open"),
        "fallback while it is down".to_string(),
    ];
    if let Some(t) = d.timeout_ms {
        claims.push(format!("timeout {}", fmt_ms(t)));
    }
    Block {
        label: format!("breaker on {dep}"),
        claims,
        segments,
        faults,
        priority: BREAKER,
    }
}

/// The second opening's length: grown by the claimed multiplier (or linearly), capped.
fn second_opening_ms(b: &Breaker, first: f64) -> f64 {
    let grown = match b.recovery_growth {
        Some(RecoveryGrowth::Multiply) => first * b.recovery_multiplier.unwrap_or(1.0),
        Some(RecoveryGrowth::Linear) => first * 2.0,
        None => first,
    };
    b.recovery_max_ms.map_or(grown, |m| grown.min(m))
}

/// Two decimals without trailing zeros.
pub fn fmt2(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::claims::RetryPolicy;

    fn reference() -> (Breaker, RetryPolicy) {
        let b = Breaker {
            failure_threshold: Some(5),
            recovery_timeout_ms: Some(5000.0),
            half_open_requests: Some(2),
            ..Breaker::default()
        };
        let p = RetryPolicy {
            scenario: "timeout, 5xx".into(),
            strategy: Some("exponential".into()),
            max_attempts: Some(3),
            backoff_ms: vec![50.0, 100.0],
            jitter: Some(0.2),
            line: 1,
        };
        (b, p)
    }

    #[test]
    fn spaced_outage_then_overlapping_probes() {
        let (b, p) = reference();
        let d = DepClaims {
            name: "UserService".into(),
            breaker: Some(&b),
            timeout_ms: Some(300.0),
            retry: Some(&p),
            fallback_status: Some(503),
        };
        let block = consecutive(&d, &b, 5, 200.0);
        let slow = &block.segments[0];
        // One request's chain: 60 + 120 ms of waits and 3 × 50 ms: 330 ms; requests 660 ms apart.
        assert!((1.0 / slow.rate - 0.66).abs() < 0.01, "{}", slow.rate);
        // Nine requests per 300 ms probe call at the fast rate (3 × (2 + 1)).
        assert!((block.segments[1].rate - 30.0).abs() < 0.01);
        let (abort, hang) = (&block.faults[0], &block.faults[1]);
        assert_eq!((abort.kind, hang.kind), ("abort", "hang"));
        assert!((abort.at_s + abort.duration_s - hang.at_s).abs() < 1e-9);
        // The hang outlasts the first opening and its probe, and ends before the second opening does.
        let opened = hang.at_s;
        assert!(hang.duration_s > 5.3 && opened + hang.duration_s < opened + 10.3);
        assert!(block.length_s() > opened + 10.6);
    }

    #[test]
    fn without_a_timeout_the_outage_is_an_abort_into_the_second_opening() {
        let (b, _) = reference();
        let d = DepClaims {
            name: "X".into(),
            breaker: Some(&b),
            timeout_ms: None,
            retry: None,
            fallback_status: None,
        };
        let block = consecutive(&d, &b, 5, 100.0);
        assert_eq!(block.faults.len(), 1);
        assert!(block.faults[0].duration_s > 5.0);
        assert!(block.faults[0].why.contains("no hang"));
    }
}
