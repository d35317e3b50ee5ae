//! One breaker described twice (a code block and the prose beside it) is one breaker.
//!
//! Prose under the same heading as exactly one code breaker describes that breaker: what it adds is
//! kept, what it contradicts is a diagnostic (the code block wins). Elsewhere, prose that only restates
//! some code breaker is dropped; any other prose breaker stands on its own.

use super::breakers::Draft;
use super::claims::{Breaker, Claims};
use super::diag;

pub(crate) fn merge(code: Vec<Draft>, prose: Vec<Draft>, claims: &mut Claims) -> Vec<Draft> {
    let mut out = code;
    let code_len = out.len();
    for p in prose {
        let beside: Vec<usize> = (0..code_len)
            .filter(|i| p.heading.is_some() && out[*i].heading == p.heading)
            .collect();
        if let [i] = beside[..] {
            fold(&p.breaker, &mut out[i].breaker, claims);
        } else if !out[..code_len]
            .iter()
            .any(|c| restates(&p.breaker, &c.breaker))
        {
            out.push(p);
        }
    }
    out.sort_by_key(|d| d.breaker.line);
    out
}

/// Every value the prose gives equals the code breaker's.
fn restates(p: &Breaker, c: &Breaker) -> bool {
    fn same<T: PartialEq>(x: Option<T>, y: Option<T>) -> bool {
        x.is_none() || x == y
    }
    same(p.failure_threshold, c.failure_threshold)
        && same(p.recovery_timeout_ms, c.recovery_timeout_ms)
        && same(p.half_open_requests, c.half_open_requests)
        && same(p.failure_rate, c.failure_rate)
        && same(p.window_ms, c.window_ms)
        && same(p.window_calls, c.window_calls)
        && same(p.kind, c.kind)
}

fn fold(p: &Breaker, c: &mut Breaker, claims: &mut Claims) {
    super::breaker_forms::rule_prose::fold_rule(p, c);
    let line = c.line;
    let mut conflict = |what: &str, prose: String, code: String| {
        let msg = format!("circuit breaker: the text says {what} {prose}, the code block (line {line}) says {code}; kept the code block's value");
        diag(claims, p.line, msg);
    };
    match (p.failure_threshold, c.failure_threshold) {
        (Some(x), None) => c.failure_threshold = Some(x),
        (Some(x), Some(y)) if x != y => conflict("failure threshold", x.to_string(), y.to_string()),
        _ => {}
    }
    match (p.recovery_timeout_ms, c.recovery_timeout_ms) {
        (Some(x), None) => c.recovery_timeout_ms = Some(x),
        (Some(x), Some(y)) if x != y => {
            conflict("recovery timeout", format!("{x}ms"), format!("{y}ms"))
        }
        _ => {}
    }
    match (p.half_open_requests, c.half_open_requests) {
        (Some(x), None) => c.half_open_requests = Some(x),
        (Some(x), Some(y)) if x != y => {
            conflict("half-open requests", x.to_string(), y.to_string())
        }
        _ => {}
    }
}
