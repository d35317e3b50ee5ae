//! Retry policies stated in a labelled line: `**Retry**: 3 attempts with exponential backoff`,
//! `**Retry Policy**: up to 4 tries, 100ms, 200ms, 400ms (±10%)`.

use super::claims::{Claims, RetryPolicy};
use super::markdown::{has_words, Block};
use super::names::words;
use super::tokens::{duration_at, tokenize, Token};
use super::units::jitter;
use super::{diag, is_prose};

/// Label words that name the mechanism, not the scenario.
const GENERIC: &[&str] = &["retry", "retries", "policy", "strategy", "retrying"];

pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks.iter().filter(|b| is_prose(b)) {
        let Some((label, rest)) = b.text.s.split_once(':') else {
            continue;
        };
        let label_words = words(label);
        if !has_words(label, &["retr"]) || label_words.len() > 4 {
            continue;
        }
        let toks = tokenize(rest);
        let (attempts, retries) = counts(&toks);
        let strategy = known_strategy(rest);
        let timed = [
            "backoff", "delay", "delays", "wait", "waits", "after", "interval",
        ]
        .iter()
        .any(|w| has_words(rest, &[w]));
        let backoff_ms: Vec<f64> = if timed {
            (0..toks.len())
                .filter_map(|i| duration_at(&toks, i).map(|d| d.0))
                .collect()
        } else {
            Vec::new()
        };
        if attempts.is_none() && retries.is_none() && strategy.is_none() && backoff_ms.is_empty() {
            continue;
        }
        let line = b.text.first_line();
        let scenario = if label_words.iter().all(|w| GENERIC.contains(&w.as_str())) {
            b.heading()
                .map_or_else(|| "default".to_string(), |h| h.title.clone())
        } else {
            label.trim().to_string()
        };
        if let (None, Some(n)) = (attempts, retries) {
            diag(
                claims,
                line,
                format!(
                    "retry \"{scenario}\": {n} retries, not attempts; not read as max attempts"
                ),
            );
        }
        claims.retries.push(RetryPolicy {
            scenario,
            strategy,
            max_attempts: attempts,
            backoff_ms,
            jitter: jitter(&toks),
            line,
        });
    }
}

/// "3 attempts" / "4 tries" / "3 times" (attempts) and "2 retries" (retries), as written.
fn counts(toks: &[Token]) -> (Option<u32>, Option<u32>) {
    let (mut attempts, mut retries) = (None, None);
    for (i, t) in toks.iter().enumerate() {
        let Some(n) = t
            .num()
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 1e6)
            .map(|n| n as u32)
        else {
            continue;
        };
        match toks.get(i + 1).and_then(Token::word) {
            Some("attempts" | "attempt" | "tries" | "times") => attempts = attempts.or(Some(n)),
            Some("retries" | "retry") => retries = retries.or(Some(n)),
            _ => {}
        }
    }
    (attempts, retries)
}

/// The strategy when the line names one; prose around it is not a strategy.
fn known_strategy(text: &str) -> Option<String> {
    super::retries::strategy(text).filter(|s| {
        matches!(
            s.as_str(),
            "exponential" | "linear" | "fixed" | "none" | "immediate"
        )
    })
}
