//! Latency claims in prose and bullets: the global budget (`P50 < 100ms. P99.9 < 1s.`, "the 99th
//! percentile stays under 300ms") and one operation's line (`Checkout: P95 < 300ms`). Tables are
//! read by `latency_tables`.

use super::claims::{Claims, LatencyBudget, LatencyTarget};
use super::latency_tables::{is_transposed, percentile_columns};
use super::markdown::{Block, Kind, Text};
use super::percentiles::{self, Stated};
use super::tables::Header;
use super::tokens::{duration_at, is_above, is_at_most, tokenize, unit_ms, Token};
use super::{diag, is_prose};

/// Two targets for one operation make `Claims::latency_for` choose; say so rather than choose silently.
pub(crate) fn check_duplicates(claims: &mut Claims) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut found = Vec::new();
    for t in &claims.latency {
        let key = super::names::normalize_name(&t.operation);
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => found.push((t.line, format!("operation \"{}\" already has latency targets on line {first}; lookups use line {first}", t.operation))),
            None => seen.push((key, t.line)),
        }
    }
    for (line, msg) in found {
        diag(claims, line, msg);
    }
}

/// The diagnostic for a duration that could not be read.
pub(crate) fn unreadable_duration(what: &str, found: &str) -> String {
    format!("{what}: could not read \"{found}\" as a duration (expected a number with a unit, e.g. \"< 200ms\" or \"1.5s\")")
}

/// Words that may sit between a percentile and its value: "P95 latency should stay under 200ms".
const FILLER: &[&str] = &[
    "latency",
    "latencies",
    "response",
    "responses",
    "time",
    "times",
    "of",
    "is",
    "are",
    "should",
    "must",
    "shall",
    "will",
    "be",
    "stay",
    "stays",
    "remain",
    "remains",
    "for",
    "all",
    "api",
    "requests",
    "request",
    "target",
    "budget",
    "overall",
    "total",
    "the",
    "end",
    "e2e",
    "kept",
    "keep",
];

/// Reads the global budget from prose and bullets: `P50 < 100ms. P99 < 500ms.`,
/// `P95 latency <200ms, P99 <500ms for API requests`. Alert sections are skipped (`P95 > 500ms` there is
/// a paging condition, not a promise).
pub(crate) fn read_budget(blocks: &[Block], claims: &mut Claims) {
    for b in blocks.iter().filter(|b| !b.under(&["alert"])) {
        if is_prose(b) {
            // "Checkout: P95 < 300ms" is a target of one operation; "API: P95 < 200ms" the global budget.
            read_prose(&b.text, operation_label(b), claims);
        } else if let Kind::Table { header, rows } = &b.kind {
            // An objectives table ("| P99 latency | < 500ms |"); latency and alert tables are read elsewhere.
            let h = Header(header);
            if percentile_columns(header).is_empty()
                && !is_transposed(rows)
                && h.col(&[&["condition"]]).is_none()
            {
                for row in rows {
                    read_prose(&Text::single(row.cells.join(": "), row.line), None, claims);
                }
            }
        }
    }
}

/// Percentile statements in one piece of prose: a target of `operation`, or the global budget.
fn read_prose(text: &Text, operation: Option<String>, claims: &mut Claims) {
    let toks = tokenize(&text.s);
    let mut target: Option<LatencyTarget> = None;
    let new_target = |op: &String, line: usize| LatencyTarget {
        operation: op.clone(),
        line,
        ..LatencyTarget::default()
    };
    for (i, t) in toks.iter().enumerate() {
        let Some((p, from)) = percentiles::at(&toks, i).or_else(|| share_of_requests(&toks, i))
        else {
            continue;
        };
        let line = text.line_at(t.pos);
        // "the 99.99th percentile of payment authorisation stays under 2s": that operation's target.
        let of_operation = operation
            .clone()
            .or_else(|| percentile_of(&text.s, &toks, from));
        match (value_after(&toks, from), &of_operation) {
            (After::Value(ms), None) => set_budget(claims, p, ms, line),
            (After::Value(ms), Some(op)) => {
                target
                    .get_or_insert_with(|| new_target(op, line))
                    .set(p, ms);
            }
            (After::NoUnit(found), op) => {
                let label = percentiles::label(p);
                let what = op.as_ref().map_or(format!("{label} budget"), |op| {
                    format!("{label} of \"{op}\"")
                });
                diag(claims, line, unreadable_duration(&what, &found))
            }
            (After::Nothing, _) => {}
        }
    }
    if let (Some(op), Some((ms, line))) = (&operation, timeout_in(&toks, text)) {
        target
            .get_or_insert_with(|| new_target(op, line))
            .timeout_ms = Some(ms);
    }
    claims.latency.extend(target);
}

/// The operation after "percentile of": the words up to a verb or comparison, unless they mean
/// every request ("of every request", "of all API calls").
fn percentile_of(text: &str, toks: &[Token], from: usize) -> Option<String> {
    if !toks.get(from)?.is_word("of") {
        return None;
    }
    let mut start = from + 1;
    if toks.get(start).is_some_and(|t| t.is_word("the")) {
        start += 1;
    }
    let end = (start..toks.len().min(start + 4))
        .find(|&j| {
            toks[j]
                .word()
                .is_none_or(|w| (FILLER.contains(&w) && !GLOBAL.contains(&w)) || w == "under")
        })
        .unwrap_or(toks.len().min(start + 4));
    let ws: Vec<&str> = toks[start..end].iter().filter_map(Token::word).collect();
    let every = ws.iter().any(|w| {
        matches!(
            *w,
            "all"
                | "every"
                | "each"
                | "api"
                | "apis"
                | "service"
                | "endpoints"
                | "requests"
                | "request"
                | "call"
                | "calls"
                | "responses"
                | "overall"
                | "whole"
                | "global"
                | "traffic"
        )
    });
    if ws.is_empty() || every || start >= end {
        return None;
    }
    let (a, b) = (toks[start].pos, toks.get(end).map_or(text.len(), |t| t.pos));
    Some(text[a..b].trim().to_string())
}

/// "timeout 2s", "timeout: 10 s", "times out after 5s" in an operation's line.
fn timeout_in(toks: &[Token], text: &Text) -> Option<(f64, usize)> {
    toks.iter().enumerate().find_map(|(i, t)| {
        let lead = t.is_word("timeout")
            || (t.is_word("times") && toks.get(i + 1).is_some_and(|n| n.is_word("out")));
        if !lead {
            return None;
        }
        let mut j = i + 1;
        while toks.get(j).is_some_and(|t| {
            t.is_sym(':')
                || t.is_sym('=')
                || matches!(t.word(), Some("out" | "after" | "of" | "is"))
                || is_at_most(t)
        }) {
            j += 1;
        }
        duration_at(toks, j).map(|(ms, _)| (ms, text.line_at(t.pos)))
    })
}

/// Words that make a label about the whole service rather than one operation.
const GLOBAL: &[&str] = &[
    "latency",
    "latencies",
    "budget",
    "budgets",
    "target",
    "targets",
    "slo",
    "slos",
    "sla",
    "overall",
    "global",
    "whole",
    "all",
    "every",
    "each",
    "api",
    "apis",
    "service",
    "endpoints",
    "requests",
    "response",
    "responses",
    "time",
    "times",
    "for",
    "the",
    "of",
    "public",
    "performance",
    "p50",
    "p95",
    "p99",
    "default",
    "goal",
    "goals",
];

/// The label of a `Label: P95 < 300ms` line when it names one operation (not the whole service): it
/// looks like one (`GET /x`, `create_order`) or sits under a performance or latency heading.
fn operation_label(b: &Block) -> Option<String> {
    let (label, rest) = b.text.s.split_once(':')?;
    let method = ["get", "post", "put", "patch", "delete", "head"]
        .iter()
        .any(|m| label.trim().to_lowercase().starts_with(m));
    let looks_like_operation =
        method || label.contains('/') || label.contains('_') || label.contains('(');
    if !(looks_like_operation || b.under(&["performance"]) || b.under(&["latency"])) {
        return None;
    }
    let ws = super::names::words(label);
    let global = ws.iter().all(|w| GLOBAL.contains(&w.as_str()))
        || ws.iter().any(|w| {
            matches!(
                w.as_str(),
                "budget" | "overall" | "global" | "whole" | "all" | "every"
            )
        });
    let has_percentile = tokenize(rest)
        .iter()
        .any(|t| t.word().and_then(percentiles::from_word).is_some());
    (!ws.is_empty() && ws.len() <= 6 && !global && has_percentile)
        .then(|| without_latency_words(label))
}

/// "Checkout latency" -> "Checkout", "Search response times" -> "Search": the operation, not the metric.
fn without_latency_words(label: &str) -> String {
    let mut words: Vec<&str> = label.split_whitespace().collect();
    while words.len() > 1
        && words.last().is_some_and(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "latency"
                    | "latencies"
                    | "target"
                    | "targets"
                    | "slo"
                    | "slos"
                    | "time"
                    | "times"
                    | "response"
            )
        })
    {
        words.pop();
    }
    words.join(" ")
}

/// "95% of requests ...", "99.9% of calls ..." at token `i`: (the percentile it states, next token).
fn share_of_requests(toks: &[Token], i: usize) -> Option<(f64, usize)> {
    let p = toks.get(i)?.num().filter(|n| *n >= 50.0 && *n < 100.0)?;
    let of = toks.get(i + 1)?.is_sym('%') && toks.get(i + 2)?.is_word("of");
    let what = toks.get(i + 3)?.word()?;
    (of && matches!(
        what,
        "requests" | "request" | "calls" | "responses" | "queries"
    ))
    .then_some((p, i + 4))
}

enum After {
    Value(f64),
    NoUnit(String),
    Nothing,
}

/// What follows a percentile word: an at-most comparison with a duration, or nothing usable.
fn value_after(toks: &[Token], mut i: usize) -> After {
    let mut compared = false;
    // A few other words may say what the percentile is of ("P99 for bulk sync < 300ms").
    let mut other_words = 0;
    while let Some(t) = toks.get(i) {
        if is_above(t) {
            return After::Nothing;
        }
        let at_most_word = matches!(
            t.word(),
            Some("at" | "most" | "less" | "than" | "up" | "to" | "max")
        );
        if is_at_most(t) || at_most_word || t.is_sym(':') || t.is_sym('=') {
            compared = true;
            i += 1;
        } else if t.word().is_some_and(|w| FILLER.contains(&w)) {
            i += 1;
        } else if !compared
            && other_words < 4
            && t.word()
                .is_some_and(|w| percentiles::from_word(w).is_none() && unit_ms(w).is_none())
        {
            other_words += 1;
            i += 1;
        } else {
            break;
        }
    }
    if other_words > 0 && !compared {
        return After::Nothing;
    }
    if let Some((ms, _)) = duration_at(toks, i) {
        return After::Value(ms);
    }
    match toks.get(i).and_then(Token::num) {
        Some(n) if compared => After::NoUnit(format!("{n}")),
        _ => After::Nothing,
    }
}

fn set_budget(claims: &mut Claims, p: f64, ms: f64, line: usize) {
    let budget = claims.latency_budget.get_or_insert(LatencyBudget {
        line,
        ..LatencyBudget::default()
    });
    let kept = budget.set(p, ms);
    if kept != ms {
        let msg = format!(
            "{} budget {ms}ms conflicts with {kept}ms stated earlier (line {}); kept {kept}ms",
            percentiles::label(p),
            budget.line
        );
        diag(claims, line, msg);
    }
}
