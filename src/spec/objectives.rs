//! Service objectives in prose, bullets or table rows: availability ("99.9% availability"), the error-rate
//! objective ("error rate < 0.1%") and throughput ("2x peak with <5% errors", "100 orders/sec").

use super::claims::{AlertCondition, Claims, Throughput};
use super::markdown::{has_words, Block, Kind, Row};
use super::tokens::{duration_at, is_at_most, percent_at, tokenize, Token};
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
            rows: table_rows, ..
        } = &b.kind
        {
            rows.extend(table_rows.iter().map(|r: &Row| (r.cells.join(" "), r.line)));
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
        if !read_throughput(p, claims) {
            if let Some((rate, at)) = error_rate_objective(&toks) {
                set(claims, Field::ErrorRate, rate, (p.line_of)(toks[at].pos));
            }
        }
        if let Some((a, at)) = availability(p.text, &toks) {
            set(claims, Field::Availability, a, (p.line_of)(toks[at].pos));
        }
    }
    error_rate_from_alerts(claims);
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

/// "99.9% availability", "Availability: 99.95%", "99.9% uptime": a percentage of at least 50% in a
/// sentence about availability or uptime.
fn availability(text: &str, toks: &[Token]) -> Option<(f64, usize)> {
    let named = has_words(text, &["availab"]) || has_words(text, &["uptime"]);
    // "SLA: 99.9%" is availability, unless a duration says it is a latency share ("99% under 200ms").
    let sla = super::names::words(text).iter().any(|w| w == "sla")
        && !(0..toks.len()).any(|i| duration_at(toks, i).is_some());
    if !(named || sla) {
        return None;
    }
    (0..toks.len()).find_map(|i| {
        percent_at(toks, i)
            .filter(|(f, _)| *f >= 0.5 && *f <= 1.0)
            .map(|(f, _)| (f, i))
    })
}

/// "error rate < 0.1%", "error rate below 1%", "< 1% errors".
fn error_rate_objective(toks: &[Token]) -> Option<(f64, usize)> {
    for i in 0..toks.len() {
        let error_rate = toks[i]
            .word()
            .is_some_and(|w| w == "error" || w == "errors")
            && toks.get(i + 1).is_some_and(|t| t.is_word("rate"));
        if error_rate {
            let mut j = i + 2;
            while toks.get(j).is_some_and(|t| {
                is_at_most(t)
                    || t.is_sym(':')
                    || matches!(
                        t.word(),
                        Some(
                            "must"
                                | "should"
                                | "stay"
                                | "stays"
                                | "remain"
                                | "be"
                                | "is"
                                | "at"
                                | "most"
                                | "less"
                                | "than"
                                | "of"
                        )
                    )
            }) {
                j += 1;
            }
            if let Some((f, _)) = percent_at(toks, j) {
                return Some((f, i));
            }
        }
        if is_at_most(&toks[i]) {
            if let Some((f, next)) = percent_at(toks, i + 1) {
                if toks
                    .get(next)
                    .is_some_and(|t| t.is_word("errors") || t.is_word("error"))
                {
                    return Some((f, i));
                }
            }
        }
    }
    None
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
        } else if let (true, Some((f, _))) = (found, error_rate_objective(&toks)) {
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
    let max_error_rate = error_rate_objective(toks).map(|(f, _)| f);
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
