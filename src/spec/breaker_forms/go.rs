//! gobreaker `Settings` (Go): `MaxRequests`, `Interval`, `Timeout` (Go durations such as
//! `30 * time.Second`) and a `ReadyToTrip` function read from its comparisons
//! (`counts.ConsecutiveFailures > 4` trips on the 5th failure).

use super::{Build, Entry, Field, Form, Found};
use crate::spec::claims::{BreakerKind, CloseRule, HalfOpenExtra, RateTrip};
use crate::spec::tokens::tokenize;

pub(crate) const GOBREAKER: Form = Form {
    library: "gobreaker",
    field,
    scan,
    build,
    space_values: false,
    name_inside: true,
};

fn field(e: &Entry) -> Option<Field> {
    Some(match e.last().as_str() {
        "maxrequests" => Field::HalfOpen,
        "interval" => Field::WindowMs,
        "timeout" => Field::RecoveryMs,
        _ => return None,
    })
}

/// Comparisons in `ReadyToTrip`: `counts.ConsecutiveFailures > 4`, `counts.TotalFailures >= 10`,
/// `counts.Requests >= 3`, and a ratio `failureRatio >= 0.6` (a number below 1 on a line about a
/// ratio). The value keeps the comparator: `> 4`, `>= 0.6`.
fn scan(lines: &[(usize, String)]) -> Vec<Found> {
    let mut out = Vec::new();
    let custom = lines.iter().any(|(_, l)| l.contains("ReadyToTrip"));
    for (line, text) in lines {
        let toks = tokenize(text);
        let lower = text.to_lowercase();
        for (i, t) in toks.iter().enumerate() {
            let cmp = match toks.get(i + 1) {
                Some(c) if c.is_sym('>') => ">",
                Some(c) if c.is_sym('≥') => ">=",
                _ => continue,
            };
            let Some(n) = toks.get(i + 2).and_then(|t| t.num()) else {
                continue;
            };
            let field = match t.word() {
                Some("consecutivefailures") => Field::Threshold,
                Some("totalfailures") => Field::TripRule,
                Some("requests") => Field::MinimumCalls,
                _ if n < 1.0 && (lower.contains("ratio") || lower.contains("rate")) => {
                    Field::RateRatio
                }
                _ => continue,
            };
            out.push(Found {
                field,
                key: "ReadyToTrip".into(),
                value: format!("{cmp} {n}"),
                line: *line,
            });
        }
    }
    if custom && out.is_empty() {
        let line = lines
            .iter()
            .find(|(_, l)| l.contains("ReadyToTrip"))
            .map_or(1, |x| x.0);
        out.push(Found {
            field: Field::BreakGenerator,
            key: "ReadyToTrip".into(),
            value: String::new(),
            line,
        });
    }
    out
}

/// `> 4` -> (4, strict).
fn comparison(v: &str) -> Option<(f64, bool)> {
    let strict = !v.starts_with(">=");
    let n = v
        .trim_start_matches(['>', '='])
        .trim()
        .parse::<f64>()
        .ok()?;
    Some((n, strict))
}

/// A count compared with `>` n opens at n + 1, with `>=` n at n.
fn opening_count(v: &str) -> Option<u32> {
    let (n, strict) = comparison(v)?;
    let at = if strict { n.floor() + 1.0 } else { n.ceil() };
    (0.0..=f64::from(u32::MAX))
        .contains(&at)
        .then_some(at as u32)
}

/// Defaults from gobreaker's `gobreaker.go`: MaxRequests 0 means 1, Interval 0 never clears the counts
/// while closed, Timeout 0 means 60 s, and the default ReadyToTrip is `ConsecutiveFailures > 5` (the
/// 6th). Half-open admits MaxRequests calls (more get ErrTooManyRequests) and closes once that many
/// succeed in a row; one failure there opens it again.
fn build(x: &mut Build) {
    let get = |x: &Build, f: Field| x.get(f).map(|f| f.value.clone());
    let consecutive = get(x, Field::Threshold);
    let total = get(x, Field::TripRule);
    let ratio = get(x, Field::RateRatio);
    let requests = get(x, Field::MinimumCalls);
    if let Some(r) = ratio {
        x.b.kind = Some(BreakerKind::FailureRate);
        let (n, strict) = comparison(&r).unwrap_or((f64::NAN, false));
        x.b.failure_rate = n.is_finite().then_some(n);
        x.b.rate_trips = Some(if strict {
            RateTrip::Above
        } else {
            RateTrip::AtLeast
        });
        x.b.minimum_calls = requests.as_deref().and_then(opening_count);
    } else if let Some(t) = total {
        x.b.kind = Some(BreakerKind::FailuresInWindow);
        x.b.failure_threshold = opening_count(&t);
    } else if let Some(c) = consecutive {
        x.b.kind = Some(BreakerKind::Consecutive);
        x.b.failure_threshold = opening_count(&c);
    } else if let Some(g) = x.get(Field::BreakGenerator).cloned() {
        x.note(g.line, "circuit breaker (gobreaker): ReadyToTrip is custom code redline cannot read (it reads ConsecutiveFailures, TotalFailures, Requests and a failure ratio compared with > or >=); the rule is not claimed".into());
    } else {
        x.b.kind = Some(BreakerKind::Consecutive);
        x.b.failure_threshold = x.or_default(
            None,
            "failure_threshold",
            6,
            "ReadyToTrip = ConsecutiveFailures > 5",
        );
    }
    let windowed = matches!(
        x.b.kind,
        Some(BreakerKind::FailureRate | BreakerKind::FailuresInWindow)
    );
    let interval = x.duration(Field::WindowMs, None).filter(|ms| *ms > 0.0);
    if windowed {
        x.b.window_ms = interval;
        if interval.is_none() {
            x.note(x.line(), "circuit breaker (gobreaker): no Interval, so the counts ReadyToTrip sees are never cleared while closed (no window)".into());
        }
    }
    let timeout = x.duration(Field::RecoveryMs, None).filter(|ms| *ms > 0.0);
    x.b.recovery_timeout_ms =
        x.or_default(timeout, "recovery_timeout_ms", 60_000.0, "Timeout = 60s");
    let probes = x.count(Field::HalfOpen).filter(|n| *n > 0);
    x.b.half_open_requests = x.or_default(probes, "half_open_requests", 1, "MaxRequests = 1");
    x.b.half_open_extra = Some(HalfOpenExtra::Rejected);
    x.b.close_rule = Some(CloseRule::AllProbes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_open_at_the_right_count() {
        assert_eq!(opening_count("> 4"), Some(5));
        assert_eq!(opening_count(">= 4"), Some(4));
        assert_eq!(comparison(">= 0.6"), Some((0.6, false)));
    }
}
