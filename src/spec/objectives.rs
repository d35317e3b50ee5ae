//! Service objectives in prose, bullets or table rows: availability ("99.9% availability"), the error-rate
//! objective ("error rate < 0.1%") and throughput ("2x peak with <5% errors", "100 orders/sec").

use super::claims::{AlertCondition, Claims, Objective, ObjectiveKind, Throughput};
use super::markdown::{Block, Kind, Row};
use super::objective_prose::{self, error_rate, Found};
use super::tokens::{tokenize, Token};
use super::units::rate_at;
use super::{diag, is_prose, sentences};

const LOAD_WORDS: &[&str] = &[
    "throughput",
    "handle",
    "handles",
    "sustain",
    "sustains",
    "sustained",
    "support",
    "supports",
    "capacity",
    "peak",
    "load",
    "process",
    "processes",
    "serve",
    "serves",
];

/// A stretch of text and how to find the line of a byte in it.
struct Piece<'a> {
    text: &'a str,
    line_of: Box<dyn Fn(usize) -> usize + 'a>,
}

pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    let mut rows: Vec<(String, usize)> = Vec::new();
    let mut pieces: Vec<Piece> = Vec::new();
    for b in blocks {
        if b.under(&["alert"]) || b.under(&["rate", "limit"]) {
            continue;
        }
        if is_prose(b) {
            for (start, s) in sentences(&b.text.s) {
                let text = &b.text;
                pieces.push(Piece {
                    text: s,
                    line_of: Box::new(move |p| text.line_at(start + p)),
                });
            }
        } else if let Kind::Table {
            header,
            rows: table_rows,
        } = &b.kind
        {
            match objective_prose::read_table(header, table_rows) {
                Some(found) => {
                    for (f, line) in found {
                        record(claims, f, line);
                    }
                }
                None => rows.extend(table_rows.iter().map(|r: &Row| (r.cells.join(" "), r.line))),
            }
        }
    }
    for (text, line) in &rows {
        pieces.push(Piece {
            text,
            line_of: Box::new(move |_| *line),
        });
    }
    for p in &pieces {
        let toks = tokenize(p.text);
        let throughput = read_throughput(p, claims);
        for f in objective_prose::read(p.text, &toks) {
            if throughput && f.error_rate_form {
                continue; // "2x peak with <5% errors": the load claim's bound
            }
            let line = (p.line_of)(toks.get(f.at).map_or(0, |t| t.pos));
            record(claims, f, line);
        }
    }
    claims.objectives.sort_by_key(|o| o.line);
    error_rate_from_alerts(claims);
}

/// Keeps one objective: a global one also sets `availability` / `error_rate_max` (first wins);
/// an operation's second, different objective of the same kind is a diagnostic.
fn record(claims: &mut Claims, f: Found, line: usize) {
    let (window, window_s) = f.window.map_or((None, None), |(w, s)| (Some(w), Some(s)));
    // 1 - 0.9995 is 0.000499999...: shares are read to 12 decimals, as written.
    let round = |x: f64| (x * 1e12).round() / 1e12;
    let objective = Objective {
        kind: f.kind,
        operation: f.operation,
        max_error_rate: round(f.max_error_rate),
        window,
        window_s,
        line,
    };
    if objective.operation.is_none() {
        let (field, value) = match objective.kind {
            ObjectiveKind::Availability => {
                (Field::Availability, round(1.0 - objective.max_error_rate))
            }
            ObjectiveKind::ErrorBudget => (Field::ErrorRate, objective.max_error_rate),
        };
        set(claims, field, value, line);
    }
    let same_scope = |o: &Objective| {
        o.kind == objective.kind
            && o.operation.as_deref().map(super::normalize_name)
                == objective.operation.as_deref().map(super::normalize_name)
    };
    match claims.objectives.iter().find(|o| same_scope(o)) {
        Some(o) if (o.max_error_rate - objective.max_error_rate).abs() < 1e-12 => {}
        Some(o) if objective.operation.is_some() => {
            let msg = format!(
                "objective for \"{}\": {} allowed to fail conflicts with {} stated on line {}; kept the first",
                objective.operation.as_deref().unwrap_or_default(),
                pct(objective.max_error_rate),
                pct(o.max_error_rate),
                o.line
            );
            diag(claims, line, msg);
        }
        // A second global value: `set` has said so; keep the one the verdicts judge.
        Some(_) => {}
        None => claims.objectives.push(objective),
    }
}

enum Field {
    Availability,
    ErrorRate,
}

fn set(claims: &mut Claims, field: Field, value: f64, line: usize) {
    let (slot, slot_line, what) = match field {
        Field::Availability => (
            &mut claims.availability,
            &mut claims.availability_line,
            "availability",
        ),
        Field::ErrorRate => (
            &mut claims.error_rate_max,
            &mut claims.error_rate_line,
            "error rate objective",
        ),
    };
    match (*slot, *slot_line) {
        (None, _) => {
            *slot = Some(value);
            *slot_line = Some(line);
        }
        (Some(old), _) if old == value => {}
        (Some(old), first) => {
            let msg = format!(
                "{what} {} conflicts with {} stated on line {}; kept the first",
                pct(value),
                pct(old),
                first.unwrap_or(0)
            );
            diag(claims, line, msg);
        }
    }
}

fn pct(f: f64) -> String {
    format!("{}%", (f * 100_000.0).round() / 1000.0)
}

/// Throughput claims of one sentence, one per clause ("handle 2x peak with <5% errors, and sustain
/// 100 orders/sec" is two claims); an error rate in a clause of its own belongs to the claim before it.
/// Returns whether the sentence held any.
fn read_throughput(p: &Piece, claims: &mut Claims) -> bool {
    let mut found = false;
    let mut offset = 0;
    for clause in p.text.split_inclusive(", ") {
        let toks = tokenize(clause);
        if let Some(mut t) = throughput(clause, &toks) {
            t.line = (p.line_of)(offset + toks.first().map_or(0, |t| t.pos));
            claims.throughput.push(t);
            found = true;
        } else if let (true, Some((f, _))) = (found, error_rate(&toks)) {
            if let Some(last) = claims.throughput.last_mut() {
                last.max_error_rate.get_or_insert(f);
            }
        }
        offset += clause.len();
    }
    found
}

/// A throughput claim: "Nx peak", or a per-second/per-minute rate in a sentence about load.
fn throughput(text: &str, toks: &[Token]) -> Option<Throughput> {
    let peak = (0..toks.len()).find_map(|i| {
        let n = toks[i].num()?;
        let x = toks
            .get(i + 1)
            .is_some_and(|t| t.is_word("x") || t.is_sym('×'));
        let peak_near = toks.iter().skip(i + 2).take(3).any(|t| t.is_word("peak"));
        (x && peak_near).then_some(n)
    });
    let talks_load = toks
        .iter()
        .any(|t| t.word().is_some_and(|w| LOAD_WORDS.contains(&w)));
    let rate = (0..toks.len())
        .find_map(|i| rate_at(toks, i))
        .filter(|r| r.per_s <= 60.0 && talks_load);
    if peak.is_none() && rate.is_none() {
        return None;
    }
    let max_error_rate = error_rate(toks).map(|(f, _)| f);
    Some(Throughput {
        text: text
            .trim()
            .trim_end_matches(['.', ','])
            .trim_start_matches("and ")
            .to_string(),
        rps: rate.map(|r| r.requests / r.per_s),
        peak_multiple: peak,
        max_error_rate,
        line: 0,
    })
}

/// Without an explicit objective, the lowest error-rate alert threshold is the most the spec tolerates.
fn error_rate_from_alerts(claims: &mut Claims) {
    if claims.error_rate_max.is_some() {
        return;
    }
    let lowest = claims
        .alerts
        .iter()
        .filter_map(|a| match a.condition {
            AlertCondition::ErrorRate { threshold, .. } => Some((threshold, a.line)),
            _ => None,
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((t, line)) = lowest {
        claims.error_rate_max = Some(t);
        claims.error_rate_line = Some(line);
    }
}
