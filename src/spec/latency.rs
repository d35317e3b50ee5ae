//! Latency claims: the per-operation targets table and the global budget stated in prose or bullets.

use super::claims::{Claims, LatencyBudget, LatencyTarget};
use super::markdown::{Block, Kind, Row, Text};
use super::tables::{cell, Header};
use super::tokens::{duration_at, is_above, is_at_most, tokenize, unit_ms, Token};
use super::units::{duration_cell, Cell};
use super::{diag, is_prose};

const OPERATION: &[&[&str]] = &[
    &["operation"],
    &["endpoint"],
    &["method"],
    &["route"],
    &["api"],
    &["request"],
    &["name"],
    &["path"],
];
const P50: &[&[&str]] = &[&["p50"], &["median"], &["50th"]];
const P95: &[&[&str]] = &[&["p95"], &["95th"]];
const P99: &[&[&str]] = &[&["p99"], &["99th"]];
const TIMEOUT: &[&[&str]] = &[&["timeout"]];

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

/// Reads every table with a P50, P95 or P99 column as latency targets.
pub(crate) fn read_tables(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        if let Kind::Table { header, rows } = &b.kind {
            let h = Header(header);
            let cols = [h.col(P50), h.col(P95), h.col(P99)];
            if cols.iter().all(Option::is_none) {
                continue;
            }
            let op = h
                .col(OPERATION)
                .or(Some(0))
                .filter(|c| !cols.contains(&Some(*c)));
            // "Method | Path | P95": the operation is both ("GET /orders").
            let method = h.col(&[&["method"], &["verb"]]);
            let path = h
                .col(&[&["endpoint"], &["path"], &["route"]])
                .filter(|p| Some(*p) != method);
            let op = match (method, path) {
                (Some(m), Some(p)) => [Some(m), Some(p)],
                _ => [op, None],
            };
            for row in rows {
                read_row(&h, row, op, cols, h.col(TIMEOUT), claims);
            }
        }
    }
}

fn read_row(
    h: &Header,
    row: &Row,
    op: [Option<usize>; 2],
    cols: [Option<usize>; 3],
    timeout: Option<usize>,
    claims: &mut Claims,
) {
    let parts: Vec<&str> = op
        .iter()
        .map(|c| cell(row, *c))
        .filter(|t| !t.is_empty())
        .collect();
    let operation = parts.join(" ");
    if operation.is_empty() {
        diag(
            claims,
            row.line,
            "latency row without an operation name; row skipped".into(),
        );
        return;
    }
    let read = |col: Option<usize>, claims: &mut Claims| -> Option<f64> {
        let col = col?;
        let text = cell(row, Some(col));
        match duration_cell(text, h.unit_ms(col)) {
            Cell::Blank => None,
            Cell::Value(ms) => Some(ms),
            Cell::Unreadable => {
                let what = format!("{} of \"{operation}\"", h.text(col));
                diag(claims, row.line, unreadable_duration(&what, text));
                None
            }
        }
    };
    let p50_ms = read(cols[0], claims);
    let p95_ms = read(cols[1], claims);
    let p99_ms = read(cols[2], claims);
    let timeout_ms = read(timeout, claims);
    claims.latency.push(LatencyTarget {
        operation,
        p50_ms,
        p95_ms,
        p99_ms,
        timeout_ms,
        line: row.line,
    });
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
            if [P50, P95, P99].iter().all(|c| h.col(c).is_none())
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
    for (i, t) in toks.iter().enumerate() {
        let (p, from) = match (t.word().and_then(percentile), share_of_requests(&toks, i)) {
            (Some(p), _) => (p, i + 1),
            (None, Some(p)) => (p, i + 4),
            _ => continue,
        };
        let line = text.line_at(t.pos);
        match (value_after(&toks, from), &operation) {
            (After::Value(ms), None) => set_budget(claims, p, ms, line),
            (After::Value(ms), Some(op)) => {
                let t = target.get_or_insert_with(|| LatencyTarget {
                    operation: op.clone(),
                    p50_ms: None,
                    p95_ms: None,
                    p99_ms: None,
                    timeout_ms: None,
                    line,
                });
                let slot = match p {
                    50 => &mut t.p50_ms,
                    95 => &mut t.p95_ms,
                    _ => &mut t.p99_ms,
                };
                slot.get_or_insert(ms);
            }
            (After::NoUnit(found), op) => {
                let what = op
                    .as_ref()
                    .map_or(format!("P{p} budget"), |op| format!("P{p} of \"{op}\""));
                diag(claims, line, unreadable_duration(&what, &found))
            }
            (After::Nothing, _) => {}
        }
    }
    if let (Some(op), Some((ms, line))) = (&operation, timeout_in(&toks, text)) {
        let t = target.get_or_insert_with(|| LatencyTarget {
            operation: op.clone(),
            p50_ms: None,
            p95_ms: None,
            p99_ms: None,
            timeout_ms: None,
            line,
        });
        t.timeout_ms = Some(ms);
    }
    claims.latency.extend(target);
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
        .any(|t| t.word().and_then(percentile).is_some());
    (!ws.is_empty() && ws.len() <= 6 && !global && has_percentile).then(|| label.trim().to_string())
}

/// "95% of requests ..." at token `i`: the percentile it states, for 50, 95 and 99.
fn share_of_requests(toks: &[Token], i: usize) -> Option<u8> {
    let n = toks.get(i)?.num()?;
    let p = [50u8, 95, 99].into_iter().find(|p| f64::from(*p) == n)?;
    let of = toks.get(i + 1)?.is_sym('%') && toks.get(i + 2)?.is_word("of");
    let what = toks.get(i + 3)?.word()?;
    (of && matches!(
        what,
        "requests" | "request" | "calls" | "responses" | "queries"
    ))
    .then_some(p)
}

fn percentile(w: &str) -> Option<u8> {
    match w {
        "p50" => Some(50),
        "p95" => Some(95),
        "p99" => Some(99),
        _ => None,
    }
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
                .is_some_and(|w| percentile(w).is_none() && unit_ms(w).is_none())
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

fn set_budget(claims: &mut Claims, p: u8, ms: f64, line: usize) {
    let budget = claims.latency_budget.get_or_insert(LatencyBudget {
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        line,
    });
    let slot = match p {
        50 => &mut budget.p50_ms,
        95 => &mut budget.p95_ms,
        _ => &mut budget.p99_ms,
    };
    match *slot {
        None => *slot = Some(ms),
        Some(old) if old == ms => {}
        Some(old) => {
            let msg = format!(
                "P{p} budget {ms}ms conflicts with {old}ms stated earlier (line {}); kept {old}ms",
                budget.line
            );
            diag(claims, line, msg);
        }
    }
}
