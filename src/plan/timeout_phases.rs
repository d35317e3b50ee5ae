//! Phases for a dependency timeout without a breaker: calls hang for longer than every attempt
//! and wait of one request (attempts × timeout + backoff), so both the per-call give-up and the
//! client-side bound show, with enough requests in the fault for the fallback verdict.

use super::deps::DepClaims;
use super::timeline::{rate, tenth_up, Block, Fault, Segment, TIMEOUT};
use crate::verdict::rules::FALLBACK_MIN_REQUESTS;
use crate::verdict::tolerance::fmt_ms;

pub fn timeout(d: &DepClaims, cap: f64) -> Option<Block> {
    let t = d.timeout_ms?;
    let chain_s = d.chain_ms(t) / 1000.0;
    let length = tenth_up(chain_s + 1.0);
    // Twice the fallback verdict's fewest requests, and at least one request per timeout.
    let r = rate(
        (2.0 * FALLBACK_MIN_REQUESTS as f64 / length)
            .max(1000.0 / t)
            .min(cap),
    );
    let dep = &d.name;
    Some(Block {
        label: format!("timeout of {dep}"),
        claims: vec![
            format!("timeout {}", fmt_ms(t)),
            "fallback while it is down".to_string(),
        ],
        segments: vec![
            Segment {
                name: format!("timeout:{dep}"),
                length_s: length,
                rate: r,
                why: format!(
                    "{r}/s for {length} s: one request's {} attempt(s) and waits at the {} timeout last {}, plus 1 s",
                    d.attempts(),
                    fmt_ms(t),
                    fmt_ms(chain_s * 1000.0)
                ),
            },
        ],
        faults: vec![Fault {
            dependency: dep.clone(),
            at_s: 0.0,
            duration_s: length,
            kind: "hang",
            probability: 1.0,
            status: None,
            every: None,
            why: format!("calls hang past the {} timeout", fmt_ms(t)),
        }],
        priority: TIMEOUT,
    })
}
