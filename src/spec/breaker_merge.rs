//! One breaker described twice (a code block and the prose beside it) is one breaker.
//!
//! Prose under the same heading as exactly one code breaker describes that breaker, unless it names
//! another dependency: what it adds is kept, what it contradicts is a diagnostic (the code block
//! wins). A sentence naming a dependency the code block does not name, with values of its own, is
//! that dependency's breaker. Elsewhere, prose that only restates some code breaker of the same (or
//! an unnamed) dependency is dropped; any other prose breaker stands on its own.

use super::breaker_prose::ProseBreaker;
use super::breakers::Draft;
use super::claims::{Breaker, Claims};
use super::diag;
use super::names::{best_match, normalize_name};

/// The breakers to match to dependencies, and the dependency each prose sentence named (by the
/// breaker's line): those hold whatever `breakers::match_dependencies` finds.
pub(crate) struct Merged {
    pub drafts: Vec<Draft>,
    pub subjects: Vec<(usize, String)>,
}

pub(crate) fn merge(code: Vec<Draft>, prose: Vec<ProseBreaker>, claims: &mut Claims) -> Merged {
    let deps: Vec<String> = claims.dependencies.iter().map(|d| d.name.clone()).collect();
    let mut out = code;
    let code_len = out.len();
    let mut subjects = Vec::new();
    for p in prose {
        let beside: Vec<usize> = (0..code_len)
            .filter(|i| p.draft.heading.is_some() && out[*i].heading == p.draft.heading)
            .collect();
        let same_breaker = |c: &Draft| match (&p.subject, code_dependency(c, &deps)) {
            (None, _) => true,
            (Some(s), Some(d)) => normalize_name(s) == normalize_name(&d),
            (Some(_), None) => restates(&p.draft.breaker, &c.breaker),
        };
        let into = match beside[..] {
            [i] if same_breaker(&out[i]) => Some(i),
            _ => None,
        };
        if let Some(i) = into {
            fold(&p.draft.breaker, &mut out[i].breaker, claims);
            if let Some(s) = p.subject {
                out[i].hints.insert(0, s.clone());
                subjects.push((out[i].breaker.line, s));
            }
            continue;
        }
        let restated = out[..code_len]
            .iter()
            .any(|c| restates(&p.draft.breaker, &c.breaker) && same_breaker(c));
        if !restated {
            if let Some(s) = p.subject {
                subjects.push((p.draft.breaker.line, s));
            }
            out.push(p.draft);
        }
    }
    out.sort_by_key(|d| d.breaker.line);
    Merged {
        drafts: out,
        subjects,
    }
}

/// After matching: a breaker whose sentence named its dependency guards that one, also when the
/// spec's dependency table does not list it.
pub(crate) fn name_subjects(subjects: &[(usize, String)], claims: &mut Claims) {
    let known: Vec<String> = claims
        .dependencies
        .iter()
        .map(|d| normalize_name(&d.name))
        .collect();
    for (line, s) in subjects {
        if !known.is_empty() && !known.contains(&normalize_name(s)) {
            let msg = format!("circuit breaker for \"{s}\": the spec lists no dependency of that name; kept as written");
            diag(claims, *line, msg);
        }
        if let Some(b) = claims.breakers.iter_mut().find(|b| b.line == *line) {
            b.dependency = Some(s.clone());
            // Matching could not tell from the table; the sentence did.
            claims.diagnostics.retain(|d| {
                !(d.line == *line && d.message.contains("cannot tell which dependency it guards"))
            });
        }
    }
}

/// The dependency a code breaker's name or comments name, as `match_dependencies` will find it.
fn code_dependency(d: &Draft, deps: &[String]) -> Option<String> {
    let from_name = d.breaker.name.as_deref().and_then(|n| best_match(n, deps));
    from_name
        .or_else(|| d.hints.iter().find_map(|h| best_match(h, deps)))
        .cloned()
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
