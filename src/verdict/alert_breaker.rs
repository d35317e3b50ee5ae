//! Breaker-open alert rules ("Breaker open for more than 30s"): read from the rule's text, judged on
//! the breaker episodes seen from outside (stretches without calls reaching the dependency).

use super::alert_seconds::Stretch;
use super::alerts::{decide, Words};
use super::breaker::Observation;
use super::matching::mentions;
use super::model::Claim;
use super::tolerance::explain;
use crate::result::{RunResult, Verdict};
use crate::spec::claims::{Alert, AlertCondition};

/// A breaker-open rule ("Breaker open for more than 30s"): Some(duration in s, if any).
pub(crate) fn breaker_rule(text: &str) -> Option<Option<f64>> {
    let lower = text.to_ascii_lowercase();
    let about = (lower.contains("breaker") || lower.contains("circuit")) && lower.contains("open");
    if !about {
        return None;
    }
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '>' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let unit = |u: &str| match u.trim_end_matches(['.', ',']) {
        "ms" => Some(0.001),
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1.0),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60.0),
        "h" | "hr" | "hour" | "hours" => Some(3600.0),
        _ => None,
    };
    for (i, w) in words.iter().enumerate() {
        let split = w.find(|c: char| !(c.is_ascii_digit() || c == '.'));
        let (num, rest) = w.split_at(split.unwrap_or(w.len()));
        let Ok(n) = num.parse::<f64>() else { continue };
        let factor = if rest.is_empty() {
            words.get(i + 1).and_then(|u| unit(u))
        } else {
            unit(rest)
        };
        if let Some(f) = factor {
            return Some(Some(n * f));
        }
    }
    Some(None)
}

/// A breaker-open rule over the episodes of the breakers it names (or of every breaker seen).
pub(super) fn breaker_alert(
    result: &RunResult,
    a: &Alert,
    c: &Claim,
    observed: &[Observation],
    need: f64,
) -> Verdict {
    let text = match &a.condition {
        AlertCondition::Other { text } => text.as_str(),
        _ => "",
    };
    let named: Vec<&Observation> = observed
        .iter()
        .filter(|o| mentions(&a.name, &o.dependency) || mentions(text, &o.dependency))
        .collect();
    let deps = if named.is_empty() {
        observed.iter().collect()
    } else {
        named
    };
    if deps.iter().all(|o| o.log.is_empty()) {
        let detail = "A breaker is seen from outside in the dependency log, and this run recorded none: run with \
                      the dependency behind the fault proxy.";
        return c.inconclusive("no dependency log", detail);
    }
    let end_ms = result.duration_s * 1000.0;
    let mut open: Vec<Stretch> = deps
        .iter()
        .flat_map(|o| o.episodes.iter())
        .map(|e| Stretch {
            from_s: e.opened_at_ms / 1000.0,
            to_s: e.resumed_at_ms.unwrap_or(end_ms) / 1000.0,
        })
        .collect();
    open.sort_by(|x, y| x.from_s.total_cmp(&y.from_s));
    let names: Vec<&str> = deps.iter().map(|o| o.dependency.as_str()).collect();
    let subject = format!("the breaker on {}", names.join(", "));
    let words = Words {
        subject: &subject,
        verb: "was open",
        never: "was never open",
        short: "open",
    };
    let rule = " Rule: the breaker is open from the first refused call until the first half-open probe, as \
                seen from outside (no calls reaching the dependency).";
    explain(decide(result, c, need, &open, &open, &words), rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_rules_are_read_from_their_text() {
        assert_eq!(
            breaker_rule("Breaker open for more than 30s"),
            Some(Some(30.0))
        );
        assert_eq!(breaker_rule("Circuit OPEN > 2 min"), Some(Some(120.0)));
        assert_eq!(breaker_rule("circuit breaker opens"), Some(None));
        assert_eq!(breaker_rule("Queue depth > 1000 for 5m"), None);
    }
}
