//! The window an objective is stated over: "monthly", "per quarter", "over a rolling 30 days",
//! "in any 30-minute window", "28d". Calendar words count fixed days (month 30, quarter 90, year 365).

use super::tokens::{unit_ms, Token};

const DAY_S: f64 = 86_400.0;

/// Seconds in one calendar-ish unit or period word: "month", "quarterly", "weekly".
fn period_s(w: &str) -> Option<f64> {
    Some(match w {
        "hourly" => 3_600.0,
        "daily" => DAY_S,
        "weekly" | "week" | "weeks" | "wk" | "w" => 7.0 * DAY_S,
        "monthly" | "month" | "months" | "mo" => 30.0 * DAY_S,
        "quarterly" | "quarter" | "quarters" | "q" => 90.0 * DAY_S,
        "yearly" | "annually" | "annual" | "year" | "years" | "yr" => 365.0 * DAY_S,
        _ => return None,
    })
}

/// Seconds in a unit after a number: time units ("30 days", "30-minute") and calendar ones.
fn unit_s(w: &str) -> Option<f64> {
    unit_ms(w)
        .map(|ms| ms / 1000.0)
        .or_else(|| period_s(w))
        .filter(|s| *s >= 1.0)
}

/// Words that lead into a window ("over a rolling 30 days", "in any 30-minute window").
const LEADS: &[&str] = &[
    "over", "in", "per", "within", "rolling", "any", "each", "every", "across", "during", "a",
    "an", "trailing", "sliding", "calendar", "the", "one", "measured",
];

/// A window found in `toks` of `text`: (as written, seconds, first token).
pub(crate) fn find(text: &str, toks: &[Token]) -> Option<(String, f64, usize)> {
    for i in 0..toks.len() {
        // "monthly", "quarterly": a window on its own; "per month", "a quarter" after a lead word.
        if let Some(w) = toks[i].word() {
            let alone = matches!(
                w,
                "hourly" | "daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "annually"
            );
            let led = i > 0 && toks[i - 1].word().is_some_and(|l| LEADS.contains(&l));
            if let Some(s) = period_s(w).filter(|_| alone || (led && w.len() > 2)) {
                let from = lead_start(toks, i);
                let end = window_word_end(toks, i + 1);
                return Some((slice(text, toks, from, end), s, from));
            }
        }
        // "30 days", "30-minute window", "28d", "1 h".
        let Some(n) = toks[i].num().filter(|n| *n > 0.0) else {
            continue;
        };
        let mut j = i + 1;
        if toks.get(j).is_some_and(|t| t.is_sym('-')) {
            j += 1;
        }
        let Some(s) = toks.get(j).and_then(Token::word).and_then(unit_s) else {
            continue;
        };
        let led = i > 0
            && (toks[i - 1].word().is_some_and(|l| LEADS.contains(&l)) || toks[i - 1].is_sym('('));
        let end = window_word_end(toks, j + 1);
        if (led || end > j + 1) && (n * s).is_finite() {
            let from = lead_start(toks, i);
            return Some((slice(text, toks, from, end), n * s, from));
        }
    }
    None
}

/// The first lead word of the run of lead words ending just before token `i`.
fn lead_start(toks: &[Token], i: usize) -> usize {
    let mut from = i;
    while from > 0 && toks[from - 1].word().is_some_and(|l| LEADS.contains(&l)) {
        from -= 1;
    }
    from
}

/// Past a trailing "window"/"period" word at `j`, if there is one.
fn window_word_end(toks: &[Token], j: usize) -> usize {
    let word = toks
        .get(j)
        .and_then(Token::word)
        .is_some_and(|w| matches!(w, "window" | "windows" | "period" | "periods" | "basis"));
    if word {
        j + 1
    } else {
        j
    }
}

/// The text from token `from` up to (not including) token `end`.
fn slice(text: &str, toks: &[Token], from: usize, end: usize) -> String {
    let start = toks[from].pos;
    let stop = toks.get(end).map_or(text.len(), |t| t.pos);
    text[start..stop]
        .trim()
        .trim_end_matches([',', '.', ';', ')'])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tokens::tokenize;

    fn w(s: &str) -> Option<(String, f64)> {
        find(s, &tokenize(s)).map(|(t, s, _)| (t, s))
    }

    #[test]
    fn windows_as_written_and_in_seconds() {
        assert_eq!(
            w("three nines monthly"),
            Some(("monthly".into(), 2_592_000.0))
        );
        assert_eq!(
            w("succeed per quarter."),
            Some(("per quarter".into(), 7_776_000.0))
        );
        assert_eq!(
            w("to succeed over a rolling 30 days."),
            Some(("over a rolling 30 days".into(), 2_592_000.0))
        );
        assert_eq!(
            w("may fail in any 30-minute window"),
            Some(("in any 30-minute window".into(), 1_800.0))
        );
        assert_eq!(w("99.9% (28d)"), Some(("28d".into(), 28.0 * 86_400.0)));
        assert_eq!(
            w("99.9% over 28d"),
            Some(("over 28d".into(), 28.0 * 86_400.0))
        );
        assert_eq!(w("99.9% of 500 requests"), None);
    }
}
