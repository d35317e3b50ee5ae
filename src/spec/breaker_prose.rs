//! Circuit breakers stated in prose: "After 5 failures, fail fast for 30s", "opens after 5 consecutive
//! failures and stays open for 30 seconds, then lets 2 trial requests through". A sentence that names
//! a dependency ("For LedgerDB: after 4 failures, stop calling it for 15s.") describes that
//! dependency's breaker: its `subject`.

use super::breaker_forms::rule_prose;
use super::breaker_params::params;
use super::breakers::Draft;
use super::claims::Claims;
use super::markdown::{has_words, Block};
use super::names::{best_match, words};
use super::tokens::{duration_at, tokenize, Token};
use super::{is_prose, sentences};

const QUALIFIERS: &[&str] = &[
    "consecutive",
    "successive",
    "sequential",
    "straight",
    "failed",
    "back",
    "to",
    "in",
    "a",
    "row",
];
const FAILURES: &[&str] = &[
    "failures", "failure", "errors", "error", "timeouts", "fails", "faults",
];
const CALLS: &[&str] = &["requests", "request", "calls", "call", "attempts", "checks"];
const PROBES: &[&str] = &["trial", "probe", "probes", "test", "half", "canary"];
const WINDOW: &[&str] = &["within", "in", "over", "during", "per", "of"];
const RECOVERY_WORDS: &[&str] = &[
    "open", "opens", "fast", "cooldown", "recovery", "reset", "probe", "probing", "half", "wait",
    "waits", "retries", "again",
];

/// Words of a `Label:` that say what is described, not which dependency ("Circuit breaker: ...").
const NOT_A_SUBJECT: &[&str] = &[
    "circuit",
    "breaker",
    "breakers",
    "note",
    "notes",
    "policy",
    "behaviour",
    "behavior",
    "rule",
    "rules",
    "default",
    "defaults",
    "config",
    "configuration",
    "settings",
    "example",
    "e",
    "g",
    "i",
    "summary",
    "resilience",
    "fallback",
    "recovery",
    "open",
    "half",
    "state",
    "threshold",
    "then",
    "otherwise",
    "after",
    "when",
    "if",
    "error",
    "errors",
    "handling",
    "purpose",
    "strategy",
    "failure",
    "failures",
    "retry",
    "retries",
    "timeout",
    "timeouts",
    "dependency",
    "dependencies",
    "protection",
    "mode",
    "we",
    "it",
    "they",
];

/// A breaker read from prose, and the dependency its sentence names, if any.
pub(crate) struct ProseBreaker {
    pub draft: Draft,
    /// The dependency as the spec's dependency table names it, else as the sentence writes it.
    pub subject: Option<String>,
}

/// Reads breakers from prose that talks about a circuit breaker (or sits under a breaker heading).
/// Prose beside a code block that configures a breaker is folded into it later (`breaker_merge`),
/// unless it names another dependency.
pub(crate) fn read_prose(blocks: &[Block], claims: &mut Claims) -> Vec<ProseBreaker> {
    let deps: Vec<String> = claims.dependencies.iter().map(|d| d.name.clone()).collect();
    let mut state = Prose {
        out: Vec::new(),
        open: false,
        deps,
    };
    let mut current_heading: Option<usize> = None;
    for b in blocks.iter().filter(|b| is_prose(b)) {
        let heading_line = b.heading().map(|h| h.line);
        if heading_line != current_heading {
            current_heading = heading_line;
            state.open = false;
        }
        let under = b.under(&["breaker"]) || b.under(&["circuit"]);
        let talks =
            under || has_words(&b.text.s, &["breaker"]) || has_words(&b.text.s, &["fail", "fast"]);
        if !talks {
            continue;
        }
        for (start, sentence) in sentences(&b.text.s) {
            let line_of = |pos: usize| b.text.line_at(start + pos);
            state.sentence(sentence, &line_of, b, claims);
        }
    }
    state.out
}

/// Breakers read so far, and whether the last one is still being described.
struct Prose {
    out: Vec<ProseBreaker>,
    open: bool,
    deps: Vec<String>,
}

impl Prose {
    fn sentence(
        &mut self,
        s: &str,
        line_of: &dyn Fn(usize) -> usize,
        b: &Block,
        claims: &mut Claims,
    ) {
        let toks = tokenize(s);
        let threshold = threshold(&toks);
        let from = threshold.map_or(0, |(_, i)| i + 1);
        let recovery_context = threshold.is_some()
            || toks
                .iter()
                .any(|t| t.word().is_some_and(|w| RECOVERY_WORDS.contains(&w)));
        let recovery = if recovery_context {
            recovery(&toks, from)
        } else {
            None
        };
        let half_open = half_open(&toks, threshold.map(|(_, i)| i));
        let kv = params(s);
        let rule = rule_prose::read(&toks, threshold.map(|(_, i)| i));
        let nothing = threshold.is_none() && recovery.is_none() && half_open.is_none();
        if nothing && kv.is_empty() && rule.is_empty() {
            return;
        }
        let states_rule = rule.failure_rate.is_some();
        let subject = subject(s, &self.deps);
        let other_subject = subject.is_some()
            && self
                .out
                .last()
                .is_some_and(|p| p.subject.is_some() && p.subject != subject);
        if threshold.is_some() || states_rule || !self.open || other_subject {
            let first_pos = threshold
                .map(|(_, i)| toks[i].pos)
                .or_else(|| toks.first().map(|t| t.pos))
                .unwrap_or(0);
            let mut d = Draft::new(None, line_of(first_pos));
            d.heading = b.heading().map(|h| h.line);
            d.hints.push(s.to_string());
            d.hints.extend(b.heading().map(|h| h.title.clone()));
            if let Some(s) = &subject {
                d.hints.insert(0, s.clone());
            }
            self.out.push(ProseBreaker {
                draft: d,
                subject: subject.clone(),
            });
            self.open = true;
        }
        let Some(p) = self.out.last_mut().filter(|_| self.open) else {
            return;
        };
        if p.subject.is_none() {
            if let Some(s) = subject {
                p.draft.hints.insert(0, s.clone());
                p.subject = Some(s);
            }
        }
        let d = &mut p.draft;
        if let Some((n, _)) = threshold {
            d.breaker.failure_threshold = Some(n);
        }
        rule.apply(&mut d.breaker);
        if let Some(ms) = recovery {
            d.breaker.recovery_timeout_ms.get_or_insert(ms);
        }
        if let Some(n) = half_open {
            d.breaker.half_open_requests.get_or_insert(n);
        }
        for p in &kv {
            d.apply(p, line_of(0), claims);
        }
    }
}

/// The dependency a sentence is about: a leading label ("For LedgerDB: ...", "LedgerDB: ...",
/// "For the search index, ...") or a dependency of the spec's table named in it. A label that names a
/// dependency of the table gives the table's name.
fn subject(s: &str, deps: &[String]) -> Option<String> {
    let t = s.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = t.to_lowercase();
    let prefix = ["for ", "on ", "around ", "with "]
        .iter()
        .find(|p| lower.starts_with(*p));
    let rest = prefix.map_or(t, |p| &t[p.len()..]);
    let label = match prefix {
        Some(_) => rest.split_once([':', ',']).map(|(l, _)| l),
        None => rest.split_once(':').map(|(l, _)| l),
    };
    let named = label.and_then(|l| {
        let l = l.trim().trim_matches(['*', '_', '`']).trim();
        let l = l.strip_prefix("the ").unwrap_or(l);
        let ws = words(l);
        let plain = !ws.is_empty()
            && ws.len() <= 4
            && !l.chars().any(|c| c.is_ascii_digit())
            && !ws.iter().any(|w| NOT_A_SUBJECT.contains(&w.as_str()));
        if !plain {
            return None;
        }
        // "For X:" names X; a bare "X:" label only when it is a dependency or looks like a name.
        let table = best_match(l, deps).cloned();
        table.or_else(|| (prefix.is_some() || looks_like_name(l)).then(|| l.to_string()))
    });
    let guess = named_breaker(t).or_else(|| camel_case_first_word(t));
    named
        .or_else(|| guess.as_deref().and_then(|n| best_match(n, deps)).cloned())
        .or_else(|| best_match(s, deps).cloned())
        .or(guess)
}

/// "FeatureStore calls go through a breaker": a sentence that opens with a CamelCase name.
fn camel_case_first_word(s: &str) -> Option<String> {
    let w = s.split_whitespace().next()?;
    let w = w
        .trim_matches(|c: char| !c.is_alphanumeric())
        .trim_end_matches("'s");
    let mut chars = w.chars();
    let first_upper = chars.next().is_some_and(char::is_uppercase);
    let inner_upper = chars.any(char::is_uppercase);
    let has_lower = w.chars().any(char::is_lowercase);
    (first_upper && inner_upper && has_lower).then(|| w.to_string())
}

/// One word that reads as a proper name: "LedgerDB", "Postgres", "FX-Rates" (not "Handling").
fn looks_like_name(l: &str) -> bool {
    !l.contains(' ') && l.chars().next().is_some_and(char::is_uppercase)
}

/// "the CardIssuer breaker", "CardIssuer's circuit breaker", "the breaker for CardIssuer".
fn named_breaker(s: &str) -> Option<String> {
    let ws: Vec<&str> = s.split_whitespace().collect();
    let clean = |w: &str| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .trim_end_matches("'s")
            .to_string()
    };
    let name = |w: &str| {
        let w = clean(w);
        let stop = [
            "The", "This", "Each", "Every", "Its", "A", "Our", "Circuit", "No",
        ];
        (w.len() > 1
            && w.chars().next().is_some_and(char::is_uppercase)
            && !stop.contains(&w.as_str()))
        .then_some(w)
    };
    for (i, w) in ws.iter().enumerate() {
        if !clean(w).eq_ignore_ascii_case("breaker") {
            continue;
        }
        let mut k = match i.checked_sub(1).map(|k| clean(ws[k])) {
            Some(c) if c.eq_ignore_ascii_case("circuit") => i - 1,
            _ => i,
        };
        // Up to three capitalised words before it: "the Bank Gateway circuit breaker".
        let mut parts = Vec::new();
        while k > 0 && parts.len() < 3 {
            match name(ws[k - 1]) {
                Some(n) => parts.insert(0, n),
                None => break,
            }
            k -= 1;
        }
        if !parts.is_empty() {
            return Some(parts.join(" "));
        }
        let after = ws.get(i + 1).map(|w| clean(w).to_lowercase());
        if matches!(
            after.as_deref(),
            Some("for" | "on" | "around" | "guarding" | "in" | "of")
        ) {
            let k = i + 2 + usize::from(ws.get(i + 2).is_some_and(|w| clean(w) == "the"));
            if let Some(n) = ws.get(k).and_then(|w| name(w)) {
                return Some(n);
            }
        }
    }
    None
}

fn whole(t: &Token) -> Option<u32> {
    t.num()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u32::MAX as f64)
        .map(|n| n as u32)
}

/// "5 failures", "5 consecutive failures", "5 failed calls", "5 errors in a row", "failure threshold of 5".
fn threshold(toks: &[Token]) -> Option<(u32, usize)> {
    for (i, t) in toks.iter().enumerate() {
        if let Some(n) = whole(t) {
            let mut j = i + 1;
            let mut failed = false;
            while let Some(w) = toks
                .get(j)
                .and_then(Token::word)
                .filter(|w| QUALIFIERS.contains(w))
            {
                failed |= w == "failed";
                j += 1;
            }
            let next = toks.get(j).and_then(Token::word);
            if next.is_some_and(|w| FAILURES.contains(&w) || (failed && CALLS.contains(&w))) {
                return Some((n, i));
            }
        }
        if t.is_word("threshold") {
            let mut j = i + 1;
            while toks.get(j).is_some_and(|t| {
                t.is_word("of") || t.is_word("is") || t.is_sym(':') || t.is_sym('=')
            }) {
                j += 1;
            }
            if let Some(n) = toks.get(j).and_then(whole) {
                return Some((n, j));
            }
        }
    }
    None
}

/// The first duration from token `from` that is not a counting window ("5 failures within 10s").
fn recovery(toks: &[Token], from: usize) -> Option<f64> {
    (from..toks.len()).find_map(|i| {
        let (ms, _) = duration_at(toks, i)?;
        let prev = i.checked_sub(1).and_then(|k| toks[k].word());
        let windowed = prev.is_some_and(|w| WINDOW.contains(&w) || w == "last")
            || toks.get(i + 2).is_some_and(|t| t.is_word("window"));
        (!windowed).then_some(ms)
    })
}

/// "2 trial requests", "3 probe calls", "allows 1 request in half-open".
fn half_open(toks: &[Token], threshold_at: Option<usize>) -> Option<u32> {
    for (i, t) in toks.iter().enumerate() {
        let Some(n) = whole(t).filter(|_| Some(i) != threshold_at) else {
            continue;
        };
        let ws: Vec<&str> = toks[i + 1..]
            .iter()
            .take(6)
            .take_while(|t| t.word().is_some() || t.is_sym('-'))
            .filter_map(Token::word)
            .collect();
        let mut before = toks[i.saturating_sub(8)..i].iter().filter_map(Token::word);
        let probe =
            ws.iter().any(|w| PROBES.contains(w)) || before.any(|w| w == "half" || w == "probe");
        let calls = ws.iter().any(|w| CALLS.contains(w) || *w == "probes");
        if probe && calls {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_shapes() {
        let t = tokenize("After 5 failures, fail fast for 30s");
        assert_eq!(threshold(&t), Some((5, 1)));
        assert_eq!(recovery(&t, 2), Some(30_000.0));
        let t = tokenize("opens after 4 consecutive failures within 10 seconds and stays open for 45 seconds, then allows 2 trial requests");
        assert_eq!(threshold(&t).map(|x| x.0), Some(4));
        assert_eq!(recovery(&t, 3), Some(45_000.0));
        assert_eq!(half_open(&t, Some(2)), Some(2));
        assert_eq!(
            threshold(&tokenize("3 failed calls in a row")).map(|x| x.0),
            Some(3)
        );
        assert_eq!(threshold(&tokenize("retry 3 times")), None);
        assert_eq!(
            half_open(&tokenize("in half-open state it allows 3 requests"), None),
            Some(3)
        );
    }

    #[test]
    fn subjects() {
        let deps = vec!["PostgreSQL".to_string(), "FxRates".to_string()];
        let s = |t: &str| subject(t, &deps);
        assert_eq!(
            s("For LedgerDB: after 4 failures, stop calling it for 15s.").as_deref(),
            Some("LedgerDB")
        );
        assert_eq!(
            s("For the FX rates API, open after 3 errors.").as_deref(),
            Some("FxRates")
        );
        assert_eq!(
            s("Postgres: after 2 failures fail fast.").as_deref(),
            Some("PostgreSQL")
        );
        assert_eq!(s("After 5 failures, fail fast for 30s."), None);
        assert_eq!(s("Circuit breaker: 5 failures open it."), None);
        assert_eq!(
            s("Calls to postgres fail fast after 5 errors.").as_deref(),
            Some("PostgreSQL")
        );
        assert_eq!(
            s("Error Handling: after 3 consecutive failures the CardIssuer breaker opens for 20 seconds").as_deref(),
            Some("CardIssuer")
        );
        assert_eq!(
            s("The circuit breaker for Inventory opens after 5 errors.").as_deref(),
            Some("Inventory")
        );
        assert_eq!(s("The breaker opens after 5 errors."), None);
        assert_eq!(
            s("FeatureStore calls go through a breaker: 20 failures in a row open it").as_deref(),
            Some("FeatureStore")
        );
    }
}
