//! Percentiles by number ("P90", "p99.9", "P999", "tp99", "99th percentile", "median" -> 90, 99.9 ...)
//! and where a stated percentile goes on a latency target or budget (its field and the map).

use std::collections::BTreeMap;

use super::claims::{LatencyBudget, LatencyTarget};
use super::tokens::{tokenize, Token};

/// The percentile a single word names: `p95`, `p99.9`, `p999` (99.9), `p9999` (99.99), `tp99`, `median`.
pub(crate) fn from_word(w: &str) -> Option<f64> {
    if w == "median" {
        return Some(50.0);
    }
    let digits = w.strip_prefix("tp").or_else(|| w.strip_prefix('p'))?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    // "p999" is how metrics systems write P99.9: nines past the second are decimals.
    let text = if !digits.contains('.') && digits.len() > 2 && digits.starts_with("99") {
        format!("{}.{}", &digits[..2], &digits[2..])
    } else {
        digits.to_string()
    };
    text.parse::<f64>().ok().filter(|p| *p > 0.0 && *p < 100.0)
}

/// A percentile starting at token `i`: a word (`P90`) or an ordinal (`99th percentile`,
/// `99.9th-percentile`, `90 percentile`): (percentile, next token).
pub(crate) fn at(toks: &[Token], i: usize) -> Option<(f64, usize)> {
    let t = toks.get(i)?;
    if let Some(p) = t.word().and_then(from_word) {
        return Some((p, i + 1));
    }
    let n = t.num().filter(|n| *n > 0.0 && *n < 100.0)?;
    let mut j = i + 1;
    if toks
        .get(j)
        .is_some_and(|t| matches!(t.word(), Some("th" | "st" | "nd" | "rd")))
    {
        j += 1;
    }
    if toks.get(j).is_some_and(|t| t.is_sym('-')) {
        j += 1;
    }
    toks.get(j)
        .and_then(Token::word)
        .filter(|w| matches!(*w, "percentile" | "percentiles" | "pctl" | "pct"))
        .map(|_| (n, j + 1))
}

/// Every percentile a table header names, in order: "P95 (ms)" -> [95], "P50 / P95 / P99" -> three.
pub(crate) fn in_header(header: &str) -> Vec<f64> {
    let toks = tokenize(header);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match at(&toks, i) {
            Some((p, next)) => {
                out.push(p);
                i = next;
            }
            None => i += 1,
        }
    }
    out
}

/// The map key of a percentile: 99.9 -> "99.9", 50 -> "50".
pub(crate) fn key(p: f64) -> String {
    let s = format!("{:.4}", p);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// "P99.9" for messages.
pub(crate) fn label(p: f64) -> String {
    format!("P{}", key(p))
}

/// A latency target or budget: its named percentile fields and its map.
pub(crate) trait Stated {
    fn named(&mut self, p: f64) -> Option<&mut Option<f64>>;
    fn map(&mut self) -> &mut BTreeMap<String, f64>;

    /// The value already stated for `p`, if any.
    fn get(&mut self, p: f64) -> Option<f64> {
        self.map().get(&key(p)).copied()
    }

    /// States `p` at `ms` unless it already has a value (the first wins); returns the value kept.
    fn set(&mut self, p: f64, ms: f64) -> f64 {
        if let Some(old) = self.get(p) {
            return old;
        }
        self.map().insert(key(p), ms);
        if let Some(slot) = self.named(p) {
            *slot = Some(ms);
        }
        ms
    }
}

fn named_slot(p: f64, slots: [&mut Option<f64>; 5]) -> Option<&mut Option<f64>> {
    let [p50, p90, p95, p99, p999] = slots;
    match key(p).as_str() {
        "50" => Some(p50),
        "90" => Some(p90),
        "95" => Some(p95),
        "99" => Some(p99),
        "99.9" => Some(p999),
        _ => None,
    }
}

impl Stated for LatencyTarget {
    fn named(&mut self, p: f64) -> Option<&mut Option<f64>> {
        let slots = [
            &mut self.p50_ms,
            &mut self.p90_ms,
            &mut self.p95_ms,
            &mut self.p99_ms,
            &mut self.p999_ms,
        ];
        named_slot(p, slots)
    }
    fn map(&mut self) -> &mut BTreeMap<String, f64> {
        &mut self.percentiles
    }
}

impl Stated for LatencyBudget {
    fn named(&mut self, p: f64) -> Option<&mut Option<f64>> {
        let slots = [
            &mut self.p50_ms,
            &mut self.p90_ms,
            &mut self.p95_ms,
            &mut self.p99_ms,
            &mut self.p999_ms,
        ];
        named_slot(p, slots)
    }
    fn map(&mut self) -> &mut BTreeMap<String, f64> {
        &mut self.percentiles
    }
}

/// Every (percentile, ms) stated: the map, plus named fields set without it (JSON from before the map).
fn stated(named: [(f64, Option<f64>); 5], map: &BTreeMap<String, f64>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = map
        .iter()
        .filter_map(|(k, v)| Some((k.parse::<f64>().ok()?, *v)))
        .collect();
    for (p, v) in named {
        if let Some(v) = v.filter(|_| !out.iter().any(|(q, _)| *q == p)) {
            out.push((p, v));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

impl LatencyTarget {
    /// Every percentile this target states, as (percent, ms), lowest first.
    pub fn stated_percentiles(&self) -> Vec<(f64, f64)> {
        let named = [
            (50.0, self.p50_ms),
            (90.0, self.p90_ms),
            (95.0, self.p95_ms),
            (99.0, self.p99_ms),
            (99.9, self.p999_ms),
        ];
        stated(named, &self.percentiles)
    }
}

impl LatencyBudget {
    /// Every percentile this budget states, as (percent, ms), lowest first.
    pub fn stated_percentiles(&self) -> Vec<(f64, f64)> {
        let named = [
            (50.0, self.p50_ms),
            (90.0, self.p90_ms),
            (95.0, self.p95_ms),
            (99.0, self.p99_ms),
            (99.9, self.p999_ms),
        ];
        stated(named, &self.percentiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_words_and_ordinals() {
        assert_eq!(from_word("p90"), Some(90.0));
        assert_eq!(from_word("p99.9"), Some(99.9));
        assert_eq!(from_word("p999"), Some(99.9));
        assert_eq!(from_word("p9999"), Some(99.99));
        assert_eq!(from_word("tp99"), Some(99.0));
        assert_eq!(from_word("p100"), None);
        assert_eq!(from_word("pod"), None);
        assert_eq!(at(&tokenize("99th percentile"), 0), Some((99.0, 3)));
        assert_eq!(at(&tokenize("99.9th-percentile"), 0), Some((99.9, 4)));
        assert_eq!(at(&tokenize("99 percent"), 0), None);
        assert_eq!(in_header("P50 / P95 / P99 (ms)"), [50.0, 95.0, 99.0]);
        assert_eq!(key(99.99), "99.99");
        assert_eq!(key(75.0), "75");
    }

    #[test]
    fn the_first_value_stated_wins_and_named_fields_follow_the_map() {
        let mut t = LatencyTarget::default();
        assert_eq!(t.set(99.9, 800.0), 800.0);
        assert_eq!(t.set(99.9, 900.0), 800.0);
        t.set(75.0, 40.0);
        assert_eq!(t.p999_ms, Some(800.0));
        assert_eq!(t.stated_percentiles(), [(75.0, 40.0), (99.9, 800.0)]);
        let old = LatencyTarget {
            p95_ms: Some(100.0),
            ..LatencyTarget::default()
        };
        assert_eq!(old.stated_percentiles(), [(95.0, 100.0)]);
    }
}
