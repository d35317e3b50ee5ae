//! Values in cells and prose: durations, rates and percentages, and the "no claim" markers.

use super::tokens::{duration_at, percent_at, skip_at_most, tokenize, unit_ms, Token};

/// What a cell says: nothing (`-`, `N/A`, empty), a value, or something that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<T> {
    Blank,
    Value(T),
    Unreadable,
}

/// True for the cells that mean "no claim": empty, `-`, `—`, `N/A`, `none`.
pub(crate) fn is_blank(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    matches!(
        t.as_str(),
        "" | "-" | "--" | "–" | "—" | "n/a" | "na" | "none" | "n.a."
    )
}

/// A duration cell (`< 30ms`, `≤ 1 s`, `<0.7s`, `2 min`) in milliseconds. `default_unit_ms` applies to
/// a bare number when the column header names the unit ("P95 (ms)"); otherwise a bare number is
/// unreadable, never guessed. A trailing parenthesised note is allowed.
pub(crate) fn duration_cell(text: &str, default_unit_ms: Option<f64>) -> Cell<f64> {
    if is_blank(text) {
        return Cell::Blank;
    }
    let toks = tokenize(text);
    let mut i = skip_at_most(&toks, 0);
    // "sub-100ms", "sub 100 ms": under 100 ms.
    if toks.get(i).is_some_and(|t| t.is_word("sub")) {
        i += 1 + usize::from(toks.get(i + 1).is_some_and(|t| t.is_sym('-')));
    }
    let (ms, next) = match duration_at(&toks, i) {
        Some(v) => v,
        None => match (toks.get(i).and_then(Token::num), default_unit_ms) {
            (Some(n), Some(unit)) if toks.get(i + 1).is_none_or(|t| t.word().is_none()) => {
                (n * unit, i + 1)
            }
            _ => return Cell::Unreadable,
        },
    };
    if rest_is_note(&toks, next) && ms.is_finite() {
        Cell::Value(ms)
    } else {
        Cell::Unreadable
    }
}

/// True when nothing but a parenthesised note, or words that restate "at most" ("or less", "max"),
/// follow token `i`.
fn rest_is_note(toks: &[Token], mut i: usize) -> bool {
    while toks.get(i).is_some_and(|t| {
        matches!(
            t.word(),
            Some("or" | "less" | "max" | "maximum" | "at" | "most" | "worst" | "case")
        )
    }) {
        i += 1;
    }
    toks.get(i).is_none_or(|t| t.is_sym('('))
}

/// A whole-number cell ("3", "3 (then DLQ)").
pub(crate) fn count_cell(text: &str) -> Cell<u32> {
    if is_blank(text) {
        return Cell::Blank;
    }
    let toks = tokenize(text);
    match toks.first().and_then(Token::num) {
        Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => {
            Cell::Value(n as u32)
        }
        _ => Cell::Unreadable,
    }
}

/// The first HTTP status (100-599) written as a standalone number in `text` ("Return 503").
/// A number followed by a unit or `%` ("stale up to 300s") is not a status.
pub(crate) fn http_status(text: &str) -> Option<u16> {
    let toks = tokenize(text);
    toks.iter().enumerate().find_map(|(i, t)| {
        let next = toks.get(i + 1);
        let quantity = next.is_some_and(|n| {
            n.is_sym('%') || n.is_sym('.') || n.word().is_some_and(|w| unit_ms(w).is_some())
        });
        match t.num() {
            Some(n) if !quantity && n.fract() == 0.0 && (100.0..=599.0).contains(&n) => {
                Some(n as u16)
            }
            _ => None,
        }
    })
}

/// Seconds in one of the rate window word `w` ("minute" -> 60), if it is one.
fn window_s(w: &str) -> Option<f64> {
    match w {
        "second" | "sec" | "s" | "seconds" => Some(1.0),
        _ => unit_ms(w).filter(|ms| *ms >= 1000.0).map(|ms| ms / 1000.0),
    }
}

/// A rate read from tokens: `requests` per `per_s` seconds, and the token after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    pub requests: f64,
    pub per_s: f64,
    pub next: usize,
}

/// Words allowed between a count and its window: "60 requests per minute", "100 orders/sec".
const RATE_NOUNS: &[&str] = &[
    "requests",
    "request",
    "req",
    "reqs",
    "calls",
    "call",
    "orders",
    "order",
    "messages",
    "events",
    "queries",
    "transactions",
    "tx",
    "payments",
    "ops",
    "operations",
    "hits",
    "writes",
    "reads",
    "jobs",
];

/// Reads a rate at token `i`: `100/minute`, `60 requests per minute`, `10k req/s`, `5 / 1 hour`,
/// `200 rps`, `1000 per second`.
pub(crate) fn rate_at(toks: &[Token], i: usize) -> Option<Rate> {
    let mut n = toks.get(i)?.num()?;
    let mut j = i + 1;
    if toks.get(j).is_some_and(|t| t.is_word("k")) {
        n *= 1000.0;
        j += 1;
    }
    if let Some(per_s) = toks.get(j).and_then(|t| match t.word()? {
        "rps" | "qps" | "tps" => Some(1.0),
        "rpm" => Some(60.0),
        _ => None,
    }) {
        return Some(Rate {
            requests: n,
            per_s,
            next: j + 1,
        });
    }
    while toks
        .get(j)
        .and_then(Token::word)
        .is_some_and(|w| RATE_NOUNS.contains(&w))
    {
        j += 1;
    }
    // One plural noun of the domain's own: "150 redemptions/sec", "40 checkouts per second".
    if j == i + 1
        && toks.get(j).and_then(Token::word).is_some_and(|w| {
            w.len() > 3 && w.ends_with('s') && unit_ms(w).is_none() && window_s(w).is_none()
        })
        && toks
            .get(j + 1)
            .is_some_and(|t| t.is_sym('/') || t.is_word("per"))
    {
        j += 1;
    }
    let sep = toks.get(j)?;
    if !(sep.is_sym('/') || sep.is_word("per") || sep.is_word("a") || sep.is_word("every")) {
        return None;
    }
    j += 1;
    let mut count = 1.0;
    if let Some(c) = toks.get(j).and_then(Token::num) {
        count = c;
        j += 1;
    }
    let per = window_s(toks.get(j)?.word()?)? * count;
    (per > 0.0 && n.is_finite()).then_some(Rate {
        requests: n,
        per_s: per,
        next: j + 1,
    })
}

/// The first rate anywhere in `text`.
pub(crate) fn find_rate(text: &str) -> Option<Rate> {
    let toks = tokenize(text);
    (0..toks.len()).find_map(|i| rate_at(&toks, i))
}

/// A relative jitter: `±20%`, `+/- 20%`, `20% jitter`, `jitter 0.1`.
pub(crate) fn jitter(toks: &[Token]) -> Option<f64> {
    for (i, t) in toks.iter().enumerate() {
        if t.is_sym('±') {
            if let Some((f, _)) = percent_at(toks, i + 1) {
                return Some(f);
            }
        }
        if t.is_word("jitter") {
            if let Some((f, _)) = percent_at(toks, i + 1) {
                return Some(f);
            }
            if i >= 2 {
                if let Some((f, _)) = percent_at(toks, i - 2) {
                    return Some(f);
                }
            }
            if let Some(n) = toks.get(i + 1).and_then(Token::num).filter(|n| *n < 1.0) {
                return Some(n);
            }
        }
    }
    None
}

/// A list of durations: `1s, 2s, 4s`, `100ms → 200ms`, `1, 2, 4 s` (a final unit applies to the bare
/// numbers before it). Stops at a parenthesis (where the jitter note lives). Returns None when a number
/// in the list has no unit at all.
pub(crate) fn duration_list(toks: &[Token]) -> Option<Vec<f64>> {
    let mut out = Vec::new();
    let mut bare = Vec::new();
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        if t.is_sym('(') || t.is_sym('±') {
            break;
        }
        if let Some((ms, next)) = duration_at(toks, i) {
            let unit = toks
                .get(i + 1)
                .and_then(Token::word)
                .and_then(unit_ms)
                .unwrap_or(1.0);
            out.extend(bare.drain(..).map(|n: f64| n * unit));
            out.push(ms);
            i = next;
        } else {
            if let Some(n) = t.num() {
                bare.push(n);
            }
            i += 1;
        }
    }
    bare.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_cells() {
        assert_eq!(duration_cell("< 30ms", None), Cell::Value(30.0));
        assert_eq!(duration_cell("<200 ms", None), Cell::Value(200.0));
        assert_eq!(duration_cell("≤ 1 s", None), Cell::Value(1000.0));
        assert_eq!(duration_cell("<=40ms", None), Cell::Value(40.0));
        assert_eq!(duration_cell("<0.7s", None), Cell::Value(700.0));
        assert_eq!(duration_cell("250 µs", None), Cell::Value(0.25));
        assert_eq!(duration_cell("2min", None), Cell::Value(120_000.0));
        assert_eq!(duration_cell("N/A", None), Cell::Blank);
        assert_eq!(duration_cell("-", None), Cell::Blank);
        assert_eq!(duration_cell("30", None), Cell::Unreadable);
        assert_eq!(duration_cell("30", Some(1.0)), Cell::Value(30.0));
        assert_eq!(duration_cell("fast", None), Cell::Unreadable);
        assert_eq!(duration_cell("3s (cold start)", None), Cell::Value(3000.0));
        assert_eq!(duration_cell("3s or less", None), Cell::Value(3000.0));
        assert_eq!(duration_cell("3s or 5s", None), Cell::Unreadable);
        assert_eq!(duration_cell("sub-100ms", None), Cell::Value(100.0));
        assert_eq!(duration_cell("Sub 2 s", None), Cell::Value(2000.0));
        assert_eq!(duration_cell("250ms max", None), Cell::Value(250.0));
    }

    #[test]
    fn statuses() {
        assert_eq!(http_status("Return 503"), Some(503));
        assert_eq!(http_status("503 + Retry-After"), Some(503));
        assert_eq!(http_status("Serve stale cache (up to 300s)"), None);
        assert_eq!(http_status("Degrade 200 %"), None);
    }

    #[test]
    fn rates() {
        let r = find_rate("100/minute").unwrap();
        assert_eq!((r.requests, r.per_s), (100.0, 60.0));
        let r = find_rate("60 requests per minute per user").unwrap();
        assert_eq!((r.requests, r.per_s), (60.0, 60.0));
        let r = find_rate("5/hour").unwrap();
        assert_eq!((r.requests, r.per_s), (5.0, 3600.0));
        let r = find_rate("10k req/s").unwrap();
        assert_eq!((r.requests, r.per_s), (10_000.0, 1.0));
        assert!(find_rate("N/A").is_none());
    }

    #[test]
    fn backoff_lists_and_jitter() {
        let t = tokenize("1s, 2s, 4s (±20%)");
        assert_eq!(duration_list(&t), Some(vec![1000.0, 2000.0, 4000.0]));
        assert_eq!(jitter(&t), Some(0.2));
        assert_eq!(
            duration_list(&tokenize("1, 2, 4 s")),
            Some(vec![1000.0, 2000.0, 4000.0])
        );
        assert_eq!(duration_list(&tokenize("1, 2, 4")), None);
        assert_eq!(duration_list(&tokenize("1, 0s")), Some(vec![1000.0, 0.0]));
        assert_eq!(jitter(&tokenize("with 10% jitter")), Some(0.1));
    }
}
