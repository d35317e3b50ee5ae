//! The rule a breaker sentence states, beyond "N failures": a failure share over a window ("opens
//! when more than half of the calls in 10 s fail", "50% of the last 100 requests, with at least 20
//! requests"), failures within a window ("5 failures within 10 s"), or a consecutive count ("5
//! consecutive failures", "3 errors in a row"). A bare "N failures" states no rule (kind None).

use crate::spec::claims::{Breaker, BreakerKind, RateTrip};
use crate::spec::tokens::{duration_at, percent_at, Token};

const CALLS: &[&str] = &[
    "requests",
    "request",
    "calls",
    "call",
    "attempts",
    "invocations",
];
const FAILING: &[&str] = &[
    "fail", "fails", "failed", "failing", "failure", "failures", "error", "errors", "errored",
    "timeouts",
];
const IN_A_ROW: &[&str] = &["consecutive", "successive", "sequential", "straight", "row"];
const WINDOW: &[&str] = &["in", "within", "over", "during", "of"];

/// What a sentence says about the rule, to lay over the breaker it describes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rule {
    pub kind: Option<BreakerKind>,
    pub failure_rate: Option<f64>,
    pub rate_trips: Option<RateTrip>,
    pub window_ms: Option<f64>,
    pub window_calls: Option<u32>,
    pub minimum_calls: Option<u32>,
}

impl Rule {
    pub fn is_empty(&self) -> bool {
        *self == Rule::default()
    }

    /// Sets what the breaker does not say yet.
    pub fn apply(&self, b: &mut Breaker) {
        if b.kind.is_none() {
            b.kind = self.kind;
        }
        fn fill<T: Copy>(slot: &mut Option<T>, v: Option<T>) {
            if slot.is_none() {
                *slot = v;
            }
        }
        fill(&mut b.failure_rate, self.failure_rate);
        fill(&mut b.rate_trips, self.rate_trips);
        fill(&mut b.window_ms, self.window_ms);
        fill(&mut b.window_calls, self.window_calls);
        fill(&mut b.minimum_calls, self.minimum_calls);
    }
}

/// What prose beside a code breaker adds to its rule (the code block's own values stay). A value the
/// code block only has from its library's defaults gives way to the prose, which stated it.
pub(crate) fn fold_rule(prose: &Breaker, code: &mut Breaker) {
    fn stated<T: Copy>(field: &str, p: Option<T>, c: &mut Option<T>, defaults: &mut Vec<String>) {
        if let (Some(v), Some(at)) = (p, defaults.iter().position(|d| d == field)) {
            *c = Some(v);
            defaults.remove(at);
        }
    }
    let d = &mut code.defaults_applied;
    stated(
        "failure_threshold",
        prose.failure_threshold,
        &mut code.failure_threshold,
        d,
    );
    stated(
        "failure_rate",
        prose.failure_rate,
        &mut code.failure_rate,
        d,
    );
    stated("window_ms", prose.window_ms, &mut code.window_ms, d);
    stated(
        "window_calls",
        prose.window_calls,
        &mut code.window_calls,
        d,
    );
    stated(
        "minimum_calls",
        prose.minimum_calls,
        &mut code.minimum_calls,
        d,
    );
    stated(
        "recovery_timeout_ms",
        prose.recovery_timeout_ms,
        &mut code.recovery_timeout_ms,
        d,
    );
    stated(
        "half_open_requests",
        prose.half_open_requests,
        &mut code.half_open_requests,
        d,
    );
    let rule = Rule {
        kind: prose.kind,
        failure_rate: prose.failure_rate,
        rate_trips: prose.rate_trips,
        window_ms: prose.window_ms,
        window_calls: prose.window_calls,
        minimum_calls: prose.minimum_calls,
    };
    // A library's form already says its rule, and a code block's own rule wins over the prose.
    if code.library.is_none() && (code.kind.is_none() || code.kind == rule.kind) {
        rule.apply(code);
    }
}

fn word_in(t: Option<&Token>, set: &[&str]) -> bool {
    t.and_then(Token::word).is_some_and(|w| set.contains(&w))
}

/// Reads the rule of one sentence; `threshold_at` is the token of its "N failures" count, if any.
pub(crate) fn read(toks: &[Token], threshold_at: Option<usize>) -> Rule {
    let talks_failure = toks.iter().any(|t| word_in(Some(t), FAILING));
    let mut rule = Rule::default();
    if let Some((rate, at, trips)) = share(toks).filter(|_| talks_failure) {
        rule.kind = Some(BreakerKind::FailureRate);
        rule.failure_rate = Some(rate);
        rule.rate_trips = Some(trips);
        rule.window_ms = window_ms(toks, at);
        rule.window_calls = last_calls(toks);
        rule.minimum_calls = minimum_calls(toks);
        return rule;
    }
    let Some(n_at) = threshold_at else {
        return rule;
    };
    let near = &toks[n_at + 1..toks.len().min(n_at + 8)];
    if near.iter().any(|t| word_in(Some(t), IN_A_ROW)) {
        rule.kind = Some(BreakerKind::Consecutive);
    } else if let Some(ms) = window_ms(toks, n_at) {
        rule.kind = Some(BreakerKind::FailuresInWindow);
        rule.window_ms = Some(ms);
    }
    rule
}

/// A share of calls: `50%`, `half`, `a third`, `a quarter`, `the majority`, with its comparator
/// ("more than", "over", "above", ">" trip above it; otherwise reaching it trips). Returns the
/// share, its token and how it trips.
fn share(toks: &[Token]) -> Option<(f64, usize, RateTrip)> {
    for i in 0..toks.len() {
        let found = percent_at(toks, i)
            .map(|(f, _)| f)
            .or_else(|| match toks[i].word() {
                Some("half") => Some(0.5),
                Some("third") => Some(1.0 / 3.0),
                Some("quarter") => Some(0.25),
                Some("majority") => Some(0.5),
                _ => None,
            });
        let Some(rate) = found.filter(|r| (0.0..=1.0).contains(r)) else {
            continue;
        };
        let before: Vec<&Token> = toks[i.saturating_sub(3)..i].iter().collect();
        // "half of the calls", "50% of requests", "an error rate above 50%"; not "half-open".
        let after = if toks[i].num().is_some() {
            i + 2
        } else {
            i + 1
        };
        let of_calls = toks
            .get(after)
            .is_some_and(|t| t.is_word("of") || t.is_word("the"));
        let a_rate = before
            .iter()
            .any(|t| matches!(t.word(), Some("rate" | "ratio" | "percentage" | "share")));
        if !(of_calls || a_rate) {
            continue;
        }
        let above = before.iter().any(|t| {
            t.is_sym('>')
                || matches!(
                    t.word(),
                    Some("more" | "over" | "above" | "exceeds" | "exceed" | "exceeding")
                )
        }) || toks[i].is_word("majority");
        let trips = if above {
            RateTrip::Above
        } else {
            RateTrip::AtLeast
        };
        return Some((rate, i, trips));
    }
    None
}

/// A time window near token `from`: "in 10 s", "within 30 seconds", "over the last 1 min",
/// "a 10-second window".
fn window_ms(toks: &[Token], from: usize) -> Option<f64> {
    (0..toks.len())
        .filter(|i| i.abs_diff(from) <= 12)
        .find_map(|i| {
            if let Some((ms, next)) = duration_at(toks, i) {
                let prev = i.checked_sub(1).and_then(|k| toks.get(k));
                let prev2 = i.checked_sub(2).and_then(|k| toks.get(k));
                let windowed = word_in(prev, WINDOW)
                    || (prev.is_some_and(|t| t.is_word("last"))
                        && (word_in(prev2, WINDOW) || word_in(prev2, &["the"])))
                    || toks.get(next).is_some_and(|t| t.is_word("window"));
                return windowed.then_some(ms);
            }
            // "10-second window"
            let n = toks[i].num()?;
            let unit = crate::spec::tokens::unit_ms(toks.get(i + 2)?.word()?)?;
            (toks.get(i + 1)?.is_sym('-') && toks.get(i + 3)?.is_word("window")).then_some(n * unit)
        })
}

/// "the last 100 calls", "last 50 requests".
fn last_calls(toks: &[Token]) -> Option<u32> {
    toks.windows(3).find_map(|w| {
        (w[0].is_word("last") && word_in(Some(&w[2]), CALLS))
            .then(|| w[1].num())
            .flatten()
            .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= f64::from(u32::MAX))
            .map(|n| n as u32)
    })
}

/// "at least 20 calls", "a minimum of 20 requests", "minimum 20 calls".
fn minimum_calls(toks: &[Token]) -> Option<u32> {
    (0..toks.len()).find_map(|i| {
        let lead = (toks[i].is_word("least") && i >= 1 && toks[i - 1].is_word("at"))
            || toks[i].is_word("minimum");
        if !lead {
            return None;
        }
        let mut j = i + 1;
        while toks.get(j).is_some_and(|t| t.is_word("of")) {
            j += 1;
        }
        let n = toks.get(j)?.num()?;
        let calls = word_in(toks.get(j + 1), CALLS);
        (calls && n.fract() == 0.0 && n >= 0.0 && n <= f64::from(u32::MAX)).then_some(n as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tokens::tokenize;

    #[test]
    fn rates_windows_and_counts() {
        let r = read(
            &tokenize("opens when more than half of the calls in 10 s fail"),
            None,
        );
        assert_eq!(r.kind, Some(BreakerKind::FailureRate));
        assert_eq!(
            (r.failure_rate, r.rate_trips, r.window_ms),
            (Some(0.5), Some(RateTrip::Above), Some(10_000.0))
        );
        let r = read(
            &tokenize(
                "It trips when 25% of the last 100 requests failed, with at least 20 requests.",
            ),
            None,
        );
        assert_eq!(
            (r.failure_rate, r.rate_trips),
            (Some(0.25), Some(RateTrip::AtLeast))
        );
        assert_eq!(
            (r.window_calls, r.minimum_calls, r.window_ms),
            (Some(100), Some(20), None)
        );
        let t = tokenize("after 5 failures within 30 seconds it opens");
        let r = read(&t, Some(1));
        assert_eq!(
            (r.kind, r.window_ms),
            (Some(BreakerKind::FailuresInWindow), Some(30_000.0))
        );
        let t = tokenize("after 3 errors in a row");
        assert_eq!(read(&t, Some(1)).kind, Some(BreakerKind::Consecutive));
        let t = tokenize("After 5 failures, fail fast for 30s");
        assert_eq!(read(&t, Some(1)), Rule::default());
        assert!(read(&tokenize("99.9% availability"), None).is_empty());
    }
}
