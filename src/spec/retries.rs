//! Retry policies: the retry strategy table (scenario, strategy, max attempts, backoff steps, jitter).

use super::claims::{Claims, RetryPolicy};
use super::diag;
use super::markdown::{Block, Kind, Row};
use super::names::words;
use super::tables::{cell, Header};
use super::tokens::tokenize;
use super::units::{count_cell, duration_list, is_blank, jitter, Cell};

const SCENARIO: &[&[&str]] = &[
    &["scenario"],
    &["case"],
    &["operation"],
    &["error"],
    &["failure"],
    &["when"],
    &["condition"],
    &["dependency"],
];
const STRATEGY: &[&[&str]] = &[&["strategy"], &["policy"]];
const ATTEMPTS: &[&[&str]] = &[&["attempts"], &["attempt"], &["tries"]];
const RETRIES: &[&[&str]] = &[&["retries"], &["retry"]];
const P_COLUMNS: &[&[&str]] = &[&["p50"], &["p95"], &["p99"]];
const BACKOFF: &[&[&str]] = &[
    &["backoff"],
    &["delay"],
    &["delays"],
    &["wait"],
    &["interval"],
];

/// Reads every table with two of: a strategy, a backoff and an attempts column.
pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        let Kind::Table { header, rows } = &b.kind else {
            continue;
        };
        let h = Header(header);
        let (strategy, backoff) = (h.col(STRATEGY), h.col(BACKOFF));
        let attempts = h
            .col(ATTEMPTS)
            .or_else(|| h.col(RETRIES).filter(|c| Some(*c) != strategy));
        let columns = [strategy, backoff, attempts]
            .iter()
            .filter(|c| c.is_some())
            .count();
        if columns < 2 || h.col(P_COLUMNS).is_some() {
            continue;
        }
        let scenario = h.col(SCENARIO).filter(|c| Some(*c) != attempts).or(Some(0));
        for row in rows {
            read_row(&h, row, [scenario, strategy, attempts, backoff], claims);
        }
    }
}

fn read_row(h: &Header, row: &Row, cols: [Option<usize>; 4], claims: &mut Claims) {
    let [scenario_col, strategy_col, attempts_col, backoff_col] = cols;
    let scenario = cell(row, scenario_col).to_string();
    if scenario.is_empty() {
        diag(
            claims,
            row.line,
            "retry row without a scenario; row skipped".into(),
        );
        return;
    }
    let strategy_text = cell(row, strategy_col);
    let backoff_text = cell(row, backoff_col);
    let max_attempts = attempts(h, row, attempts_col, &scenario, claims);
    let backoff_toks = tokenize(backoff_text);
    let backoff_ms = if is_blank(backoff_text) {
        Vec::new()
    } else {
        match duration_list(&backoff_toks) {
            Some(list) => list,
            None => {
                let msg = format!("backoff of retry \"{scenario}\": could not read \"{backoff_text}\" as durations (expected e.g. \"1s, 2s, 4s\")");
                diag(claims, row.line, msg);
                Vec::new()
            }
        }
    };
    let jitter = jitter(&backoff_toks).or_else(|| jitter(&tokenize(strategy_text)));
    claims.retries.push(RetryPolicy {
        scenario,
        strategy: strategy(strategy_text),
        max_attempts,
        backoff_ms,
        jitter,
        line: row.line,
    });
}

fn attempts(
    h: &Header,
    row: &Row,
    col: Option<usize>,
    scenario: &str,
    claims: &mut Claims,
) -> Option<u32> {
    let col = col?;
    let text = cell(row, Some(col));
    let says_attempts = h.col(ATTEMPTS) == Some(col);
    match count_cell(text) {
        Cell::Blank => None,
        Cell::Value(n) if says_attempts => Some(n),
        Cell::Value(n) => {
            let msg = format!("retry \"{scenario}\": column \"{}\" gives {n} retries, not attempts; not read as max attempts", h.text(col));
            diag(claims, row.line, msg);
            None
        }
        Cell::Unreadable => {
            diag(claims, row.line, format!("max attempts of retry \"{scenario}\": could not read \"{text}\" as a whole number"));
            None
        }
    }
}

/// "Exponential with jitter" -> "exponential"; unrecognised text is kept as written.
pub(crate) fn strategy(text: &str) -> Option<String> {
    let ws = words(text);
    // "None" in a strategy column is a claim (do not retry), unlike "-" or "N/A".
    if is_blank(text) && ws != ["none"] {
        return None;
    }
    let has = |w: &str| ws.iter().any(|x| x == w);
    let s = if has("exponential") {
        "exponential"
    } else if has("linear") {
        "linear"
    } else if has("fixed") || has("constant") {
        "fixed"
    } else if has("none") || has("never") || (has("no") && has("retry")) {
        "none"
    } else if has("immediate") || has("immediately") {
        "immediate"
    } else {
        return Some(text.to_string());
    };
    Some(s.to_string())
}
