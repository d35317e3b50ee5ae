//! Phases for a retry policy: a share of calls fails so that requests retry while the breaker
//! stays closed. The share is the largest for which the breaker is not expected to open (a
//! consecutive breaker needs a run of failures longer than one request's attempts; a rate breaker
//! a share above its threshold), and the phase is long enough for three times the failed-on-every-
//! attempt requests the retry verdict needs.

use super::breaker_phases::fmt2;
use super::deps::DepClaims;
use super::timeline::{rate, tenth_up, Block, Fault, Segment, RETRY};
use crate::spec::claims::BreakerKind;
use crate::verdict::rules::MIN_COMPLETE;

/// Failure shares tried, largest first.
const SHARES: [f64; 6] = [0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
/// Openings of the breaker the phase may expect (each cuts retries short for an open time).
const OPENINGS_ALLOWED: f64 = 0.5;

/// The retry block for `d` at `cap` requests per second.
pub fn retries(d: &DepClaims, cap: f64) -> Option<Block> {
    let m = d.attempts();
    if m < 2 {
        return None;
    }
    let complete = (3 * MIN_COMPLETE) as f64;
    let (share, why_share) = share(d, m, complete);
    let r = rate(cap);
    let length = tenth_up((complete / (r * share.powi(m as i32))).max(2.0));
    let dep = &d.name;
    let segments = vec![
        Segment {
            name: format!("retries:{dep}"),
            length_s: length,
            rate: r,
            why: format!(
                "{r}/s for {length} s: {} requests fail all {m} attempts on average at a share of {}, three \
                 times the {MIN_COMPLETE} the attempt count needs",
                fmt2(r * length * share.powi(m as i32)),
                fmt2(share)
            ),
        },
    ];
    let faults = vec![Fault {
        dependency: dep.clone(),
        at_s: 0.0,
        duration_s: length,
        kind: "abort",
        probability: share,
        status: Some(503),
        every: None,
        why: why_share,
    }];
    let p = d.retry?;
    Some(Block {
        label: format!("retries to {dep}"),
        claims: vec![
            format!("{m} attempts ('{}', line {})", p.scenario, p.line),
            "backoff between attempts".to_string(),
        ],
        segments,
        faults,
        priority: RETRY,
    })
}

/// The failure share and why.
fn share(d: &DepClaims, m: u32, complete: f64) -> (f64, String) {
    let Some(b) = d.breaker else {
        return (
            SHARES[0],
            format!(
                "{} of calls fail: no breaker can cut the retries short",
                fmt2(SHARES[0])
            ),
        );
    };
    match (b.kind, b.failure_threshold, b.failure_rate) {
        (Some(BreakerKind::FailureRate), _, Some(f)) => {
            let s = SHARES.iter().copied().find(|s| *s < f / 2.0).unwrap_or(0.05);
            (s, format!("{} of calls fail: half the breaker's {} failure rate at most", fmt2(s), fmt2(f)))
        }
        (_, Some(n), _) if n > m => {
            // Expected openings: calls per request × chance a call starts a run of n failures,
            // over the requests that give `complete` fully failed ones.
            let openings = |s: f64| {
                let calls = (1.0 - s.powi(m as i32)) / (1.0 - s);
                complete * calls * s.powi((n - m) as i32)
            };
            let s = SHARES
                .iter()
                .copied()
                .find(|s| openings(*s) <= OPENINGS_ALLOWED)
                .unwrap_or(0.05);
            (
                s,
                format!(
                    "{} of calls fail: the largest share at which {n} consecutive failures (the breaker) are expected \
                     under {OPENINGS_ALLOWED} times while {complete} requests fail all {m} attempts ({} expected)",
                    fmt2(s),
                    fmt2(openings(s))
                ),
            )
        }
        _ => (
            SHARES[0],
            format!(
                "{} of calls fail: the breaker opens within one request's attempts, so retries are cut short \
                 whatever the share",
                fmt2(SHARES[0])
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::claims::{Breaker, RetryPolicy};

    #[test]
    fn the_share_keeps_a_consecutive_breaker_closed() {
        let b = Breaker {
            failure_threshold: Some(5),
            ..Breaker::default()
        };
        let p = RetryPolicy {
            scenario: "5xx".into(),
            strategy: Some("exponential".into()),
            max_attempts: Some(3),
            backoff_ms: vec![50.0, 100.0],
            jitter: Some(0.2),
            line: 1,
        };
        let d = DepClaims {
            name: "U".into(),
            breaker: Some(&b),
            timeout_ms: None,
            retry: Some(&p),
            fallback_status: None,
        };
        let block = retries(&d, 200.0).unwrap();
        assert_eq!(block.faults[0].probability, 0.2);
        // 9 fully failed requests at 0.2³ of 200/s: 5.6 s.
        assert!(
            (block.segments[0].length_s - 5.7).abs() < 0.11,
            "{}",
            block.segments[0].length_s
        );
        let none = DepClaims { breaker: None, ..d };
        assert_eq!(retries(&none, 200.0).unwrap().faults[0].probability, 0.5);
    }
}
