//! Availability and error-budget objectives in one sentence, list item or table row: "99.9%
//! availability", "three nines monthly", "99.95% of checkouts succeed per quarter", "at most 1 in 500
//! searches may fail in any 30-minute window", "error rate < 0.1%", each with its window and the
//! operation it covers; and tables with an availability or error-budget column per operation.

use super::claims::ObjectiveKind;
use super::markdown::{has_words, Row};
use super::names::words;
use super::tables::{cell, Header};
use super::tokens::{duration_at, is_at_most, percent_at, tokenize, Token};
use super::windows;

/// One objective read from a piece of text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub kind: ObjectiveKind,
    pub operation: Option<String>,
    pub max_error_rate: f64,
    /// (as written, seconds).
    pub window: Option<(String, f64)>,
    /// The token the value starts at, for its line.
    pub at: usize,
    /// Read from "error rate < x%" or "< x% errors": a throughput claim's bound when the sentence
    /// also states a load.
    pub error_rate_form: bool,
}

/// Nouns that mean "every request", not one operation.
const EVERY_REQUEST: &[&str] = &[
    "requests",
    "request",
    "calls",
    "call",
    "responses",
    "response",
    "queries",
    "traffic",
    "operations",
    "attempts",
    "api",
    "apis",
    "all",
    "the",
    "our",
    "its",
    "incoming",
    "user",
    "client",
    "http",
];
const SUCCEED: &[&str] = &[
    "succeed",
    "succeeds",
    "successful",
    "successfully",
    "success",
    "served",
];
const FAIL: &[&str] = &[
    "fail", "fails", "failed", "failing", "error", "errors", "erroring",
];

/// Every objective in `text` (at most one availability and one error budget).
pub(crate) fn read(text: &str, toks: &[Token]) -> Vec<Found> {
    let window = windows::find(text, toks).map(|(w, s, _)| (w, s));
    let label_op = label_operation(text);
    let mut out = Vec::new();
    let found = |kind, operation: Option<String>, max_error_rate, at, error_rate_form| Found {
        kind,
        operation: operation.or_else(|| label_op.clone()),
        max_error_rate,
        window: window.clone(),
        at,
        error_rate_form,
    };
    if let Some((success, at)) = nines(toks) {
        out.push(found(
            ObjectiveKind::Availability,
            None,
            1.0 - success,
            at,
            false,
        ));
    } else if let Some((success, op, at)) = share(toks, SUCCEED).filter(|s| s.0 >= 0.5) {
        out.push(found(
            ObjectiveKind::Availability,
            op,
            1.0 - success,
            at,
            false,
        ));
    } else if let Some((success, at)) = availability(text, toks) {
        out.push(found(
            ObjectiveKind::Availability,
            None,
            1.0 - success,
            at,
            false,
        ));
    }
    if let Some((rate, op, at)) = one_in(toks) {
        out.push(found(ObjectiveKind::ErrorBudget, op, rate, at, false));
    } else if let Some((rate, op, at)) = share(toks, FAIL).filter(|s| s.0 < 0.5) {
        out.push(found(ObjectiveKind::ErrorBudget, op, rate, at, false));
    } else if let Some((rate, at)) = error_budget(toks) {
        out.push(found(ObjectiveKind::ErrorBudget, None, rate, at, false));
    } else if let Some((rate, at)) = error_rate(toks) {
        out.push(found(ObjectiveKind::ErrorBudget, None, rate, at, true));
    }
    out
}

/// "three nines", "four 9s", "3.5 nines", "three and a half nines": (success share, token).
fn nines(toks: &[Token]) -> Option<(f64, usize)> {
    (0..toks.len()).find_map(|i| {
        let n = match toks[i].word() {
            Some("two") => 2.0,
            Some("three") => 3.0,
            Some("four") => 4.0,
            Some("five") => 5.0,
            Some("six") => 6.0,
            _ => toks[i].num().filter(|n| (2.0..=9.0).contains(n))?,
        };
        let mut j = i + 1;
        let mut half = 0.0;
        let ws: Vec<&str> = toks[j..]
            .iter()
            .take(5)
            .filter(|t| !t.is_sym('-'))
            .filter_map(Token::word)
            .collect();
        if ws.starts_with(&["and", "a", "half"]) {
            half = 0.5;
            while toks.get(j).is_some_and(|t| !t.is_word("half")) {
                j += 1;
            }
            j += 1;
        }
        if toks.get(j).is_some_and(|t| t.is_sym('-')) {
            j += 1;
        }
        let nines_word = toks.get(j).is_some_and(|t| t.is_word("nines"))
            || (toks.get(j).is_some_and(|t| t.num() == Some(9.0))
                && toks.get(j + 1).is_some_and(|t| t.is_word("s")));
        let n = n + half;
        // "3.5 nines" is 99.95%: the half nine is half the last step.
        let success = if n.fract() == 0.5 {
            1.0 - 0.5 * 10f64.powf(-(n - 0.5))
        } else {
            1.0 - 10f64.powf(-n)
        };
        nines_word.then_some((success, i))
    })
}

/// "99.95% of checkouts succeed", "no more than 0.1% of payments may fail": a percentage of a noun
/// followed within a few words by one of `verbs`: (share, operation, token). Never a latency share:
/// a duration under a minute after "under"/"within" means "99% of requests complete within 200ms".
fn share(toks: &[Token], verbs: &[&str]) -> Option<(f64, Option<String>, usize)> {
    let latency_share = (0..toks.len()).any(|i| {
        i > 0 && is_at_most(&toks[i - 1]) && duration_at(toks, i).is_some_and(|(ms, _)| ms < 60e3)
    });
    if latency_share {
        return None;
    }
    (0..toks.len()).find_map(|i| {
        // A share over 100% ("1,000% of checkouts succeed") is no objective: 1 - 10 is no error rate.
        let (f, next) = percent_at(toks, i).filter(|(f, _)| (0.0..=1.0).contains(f))?;
        if !toks.get(next).is_some_and(|t| t.is_word("of")) {
            return None;
        }
        let near: Vec<&str> = toks[next + 1..]
            .iter()
            .take(7)
            .filter_map(Token::word)
            .collect();
        near.iter()
            .any(|w| verbs.contains(w))
            .then(|| (f, noun_operation(&toks[next + 1..]), i))
    })
}

/// "1 in 500 searches may fail", "1 out of 1,000 payments can fail", "1 failure per 1,000 requests":
/// (share allowed to fail, operation, token).
fn one_in(toks: &[Token]) -> Option<(f64, Option<String>, usize)> {
    (0..toks.len()).find_map(|i| {
        let n = toks[i].num()?;
        let mut j = i + 1;
        let failure_word = toks
            .get(j)
            .and_then(Token::word)
            .is_some_and(|w| matches!(w, "failure" | "failures" | "error" | "errors" | "failed"));
        if failure_word {
            j += 1;
        }
        match toks.get(j).and_then(Token::word) {
            Some("in" | "per" | "every") => j += 1,
            Some("out") if toks.get(j + 1).is_some_and(|t| t.is_word("of")) => j += 2,
            _ => return None,
        }
        let m = toks.get(j)?.num().filter(|m| *m > n && n > 0.0)?;
        let rest = &toks[j + 1..];
        let fails = failure_word
            || rest
                .iter()
                .take(6)
                .filter_map(Token::word)
                .any(|w| FAIL.contains(&w));
        fails.then(|| (n / m, noun_operation(rest), i))
    })
}

/// "error budget of 0.1%", "error budget: 0.05% per month".
fn error_budget(toks: &[Token]) -> Option<(f64, usize)> {
    (0..toks.len()).find_map(|i| {
        let lead = toks[i].is_word("error") && toks.get(i + 1)?.is_word("budget");
        if !lead {
            return None;
        }
        (i + 2..toks.len().min(i + 6)).find_map(|j| percent_at(toks, j).map(|(f, _)| (f, j)))
    })
}

/// "99.9% availability", "Availability: 99.95%", "99.9% uptime", "SLA: 99.9%": a percentage of at
/// least 50% in a sentence about availability or uptime.
fn availability(text: &str, toks: &[Token]) -> Option<(f64, usize)> {
    let named = has_words(text, &["availab"]) || has_words(text, &["uptime"]);
    // "SLA: 99.9%" is availability, unless a duration says it is a latency share ("99% under 200ms").
    let sla = words(text).iter().any(|w| w == "sla")
        && !(0..toks.len()).any(|i| duration_at(toks, i).is_some_and(|(ms, _)| ms < 60e3));
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
pub(crate) fn error_rate(toks: &[Token]) -> Option<(f64, usize)> {
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

/// The operation a noun after a share names: "checkouts succeed" -> "checkouts", "payment requests"
/// -> "payment", "requests" -> None (every request).
fn noun_operation(toks: &[Token]) -> Option<String> {
    let ws: Vec<&str> = toks.iter().take(2).map_while(Token::word).collect();
    match ws[..] {
        [first, second, ..]
            if !EVERY_REQUEST.contains(&first) && EVERY_REQUEST.contains(&second) =>
        {
            Some(first.to_string())
        }
        [first, ..] if !EVERY_REQUEST.contains(&first) && !is_verbish(first) => {
            Some(first.to_string())
        }
        _ => None,
    }
}

fn is_verbish(w: &str) -> bool {
    SUCCEED.contains(&w)
        || FAIL.contains(&w)
        || matches!(
            w,
            "may" | "can" | "should" | "must" | "will" | "to" | "are" | "is" | "be" | "in" | "per"
        )
}

/// Words of a `Label:` that say what the objective is, not which operation it covers.
const NOT_AN_OPERATION: &[&str] = &[
    "availability",
    "uptime",
    "slo",
    "slos",
    "sla",
    "target",
    "targets",
    "objective",
    "objectives",
    "error",
    "errors",
    "rate",
    "budget",
    "the",
    "of",
    "for",
    "overall",
    "service",
    "api",
    "system",
    "platform",
    "global",
    "monthly",
    "quarterly",
    "weekly",
    "daily",
    "yearly",
    "annual",
    "success",
    "reliability",
    "max",
    "maximum",
    "allowed",
    "and",
    "we",
    "aim",
];

/// "Checkout availability: 99.95%", "Search error budget: ...": the operation a leading label names.
fn label_operation(text: &str) -> Option<String> {
    let (label, _) = text.split_once(':')?;
    let label = label.trim().trim_start_matches(['-', '*', ' ']);
    let ws = words(label);
    if ws.is_empty() || ws.len() > 5 || ws.iter().any(|w| w.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let names_objective = ws.iter().any(|w| {
        matches!(
            w.as_str(),
            "availability" | "uptime" | "error" | "slo" | "sla"
        )
    });
    let rest: Vec<&String> = ws
        .iter()
        .filter(|w| !NOT_AN_OPERATION.contains(&w.as_str()))
        .collect();
    (names_objective && !rest.is_empty() && rest.len() <= 3).then(|| {
        rest.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// A table with an availability, success-rate or error-budget column and an operation column:
/// one objective per row, with the window from a window column, the header or the cell.
pub(crate) fn read_table(header: &Row, rows: &[Row]) -> Option<Vec<(Found, usize)>> {
    let h = Header(header);
    let avail = h.col(&[&["availability"], &["success"], &["uptime"], &["slo"]]);
    let budget = h.col(&[
        &["error", "budget"],
        &["error", "rate"],
        &["failure", "rate"],
    ]);
    let value_cols: Vec<(usize, ObjectiveKind)> = [
        avail.map(|c| (c, ObjectiveKind::Availability)),
        budget.map(|c| (c, ObjectiveKind::ErrorBudget)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if value_cols.is_empty() {
        return None;
    }
    let taken = |c: usize| value_cols.iter().any(|(v, _)| *v == c);
    let op = h
        .col(&[
            &["operation"],
            &["endpoint"],
            &["journey"],
            &["api"],
            &["flow"],
            &["name"],
        ])
        .or(Some(0))
        .filter(|c| !taken(*c))?;
    let window_col = h
        .col(&[&["window"], &["period"], &["measured"], &["over"]])
        .filter(|c| !taken(*c) && *c != op);
    let mut out = Vec::new();
    for row in rows {
        let name = cell(row, Some(op)).trim();
        let operation = (!name.is_empty()
            && !words(name)
                .iter()
                .all(|w| matches!(w.as_str(), "all" | "overall" | "service" | "global" | "any")))
        .then(|| name.to_string());
        let window = match window_col.map(|c| cell(row, Some(c))) {
            Some(w) if !super::units::is_blank(w) => {
                let led = format!("over {w}");
                windows::find(&led, &tokenize(&led)).map(|(_, s, _)| (w.trim().to_string(), s))
            }
            _ => None,
        };
        for (col, kind) in &value_cols {
            let text = cell(row, Some(*col));
            let with_unit_header = format!("{text} {}", h.text(*col));
            let toks = tokenize(text);
            let value = match kind {
                ObjectiveKind::Availability => nines(&toks)
                    .or_else(|| first_percent(&toks))
                    .map(|(s, _)| 1.0 - s),
                ObjectiveKind::ErrorBudget => one_in(&toks)
                    .map(|(r, _, _)| r)
                    .or_else(|| first_percent(&toks).map(|(f, _)| f)),
            };
            let Some(max_error_rate) = value else {
                continue;
            };
            let window = window.clone().or_else(|| {
                let t = tokenize(&with_unit_header);
                windows::find(&with_unit_header, &t).map(|(w, s, _)| (w, s))
            });
            let found = Found {
                kind: *kind,
                operation: operation.clone(),
                max_error_rate,
                window,
                at: 0,
                error_rate_form: false,
            };
            out.push((found, row.line));
        }
    }
    Some(out)
}

fn first_percent(toks: &[Token]) -> Option<(f64, usize)> {
    (0..toks.len()).find_map(|i| percent_at(toks, i).map(|(f, _)| (f, i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<(ObjectiveKind, Option<String>, f64, Option<String>)> {
        read(text, &tokenize(text))
            .into_iter()
            .map(|f| {
                let rate = (f.max_error_rate * 1e6).round() / 1e6;
                (f.kind, f.operation, rate, f.window.map(|w| w.0))
            })
            .collect()
    }

    #[test]
    fn objectives_in_prose() {
        use ObjectiveKind::*;
        assert_eq!(
            one("We aim for 99.99% of requests to succeed over a rolling 30 days."),
            [(
                Availability,
                None,
                0.0001,
                Some("over a rolling 30 days".into())
            )]
        );
        assert_eq!(
            one("Availability: three nines monthly."),
            [(Availability, None, 0.001, Some("monthly".into()))]
        );
        assert_eq!(
            one("99.95% of checkouts succeed per quarter."),
            [(
                Availability,
                Some("checkouts".into()),
                0.0005,
                Some("per quarter".into())
            )]
        );
        assert_eq!(
            one("At most 1 in 500 searches may fail in any 30-minute window."),
            [(
                ErrorBudget,
                Some("searches".into()),
                0.002,
                Some("in any 30-minute window".into())
            )]
        );
        assert_eq!(
            one("Checkout availability: 99.9%"),
            [(Availability, Some("checkout".into()), 0.001, None)]
        );
        assert_eq!(one("three and a half nines")[0].2, 0.0005);
        assert_eq!(one("99% of requests complete within 200ms."), []);
        assert_eq!(one("Error rate < 0.1%")[0].2, 0.001);
    }
}
