//! Alerting rules: the alert table (`Error rate > 5% for 5m`, `P95 latency > 500ms for 10m`) and alert bullets.

use super::claims::{Alert, AlertCondition, Claims};
use super::markdown::{Block, Kind};
use super::tables::{cell, Header};
use super::tokens::{duration_at, is_above, percent_at, tokenize, Token};
use super::units::is_blank;
use super::{diag, is_prose};

const NAME: &[&[&str]] = &[&["alert"], &["name"], &["rule"]];
const CONDITION: &[&[&str]] = &[
    &["condition"],
    &["threshold"],
    &["trigger"],
    &["expression"],
];
const SEVERITY: &[&[&str]] = &[&["severity"], &["priority"], &["level"]];

/// Reads alert tables (a condition column) and alert bullets (`**Error Rate**: > 1% for 5m`).
pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        match &b.kind {
            Kind::Table { header, rows } => {
                let h = Header(header);
                let Some(cond) = h.col(CONDITION) else {
                    continue;
                };
                if h.col(NAME).is_none() && !b.under(&["alert"]) {
                    continue;
                }
                let name = h.col(NAME).filter(|c| *c != cond).or(Some(0));
                let severity = h.col(SEVERITY);
                for row in rows {
                    let text = cell(row, Some(cond));
                    if is_blank(text) {
                        continue;
                    }
                    let condition = condition(text, row.line, claims);
                    let severity = Some(cell(row, severity))
                        .filter(|s| !is_blank(s))
                        .map(str::to_string);
                    claims.alerts.push(Alert {
                        name: cell(row, name).to_string(),
                        condition,
                        severity,
                        line: row.line,
                    });
                }
            }
            _ if is_prose(b) && b.under(&["alert"]) => read_bullet(b, claims),
            _ => {}
        }
    }
}

/// `Error Rate: > 1% for 5 minutes` under an alerts heading; kept only when it is a testable condition.
fn read_bullet(b: &Block, claims: &mut Claims) {
    let text = b.text.s.as_str();
    let (label, _) = text.split_once(':').unwrap_or(("", text));
    let line = b.text.first_line();
    let condition = condition(text, line, claims);
    if !matches!(condition, AlertCondition::Other { .. }) {
        let name = if label.trim().is_empty() {
            text.to_string()
        } else {
            label.trim().to_string()
        };
        claims.alerts.push(Alert {
            name,
            condition,
            severity: None,
            line,
        });
    }
}

/// Reads one condition. An error-rate or latency condition whose number cannot be read becomes a
/// diagnostic and an `Other` condition, never a guess.
pub(crate) fn condition(text: &str, line: usize, claims: &mut Claims) -> AlertCondition {
    let toks = tokenize(text);
    let other = || AlertCondition::Other {
        text: text.to_string(),
    };
    if let Some(i) = error_rate_at(&toks) {
        let Some(cmp) = (i..toks.len()).find(|k| is_above(&toks[*k])) else {
            return other();
        };
        return match percent_at(&toks, cmp + 1) {
            Some((threshold, next)) => AlertCondition::ErrorRate {
                threshold,
                for_s: for_s(&toks, next),
            },
            None => {
                diag(
                    claims,
                    line,
                    format!("alert condition \"{text}\": error rate threshold is not a percentage"),
                );
                other()
            }
        };
    }
    if let Some((percentile, i)) = (0..toks.len()).find_map(|i| super::percentiles::at(&toks, i)) {
        let Some(cmp) = (i..toks.len().min(i + 5)).find(|k| is_above(&toks[*k])) else {
            return other();
        };
        return match duration_at(&toks, cmp + 1) {
            Some((threshold_ms, next)) => AlertCondition::Latency {
                percentile,
                threshold_ms,
                for_s: for_s(&toks, next),
            },
            None => {
                diag(
                    claims,
                    line,
                    format!("alert condition \"{text}\": latency threshold has no time unit"),
                );
                other()
            }
        };
    }
    other()
}

/// Index of "error rate" / "errors rate" / "5xx rate" / "5xx >" in the tokens.
fn error_rate_at(toks: &[Token]) -> Option<usize> {
    toks.windows(2).position(|w| {
        let first = w[0]
            .word()
            .is_some_and(|x| x == "error" || x == "errors" || x == "xx");
        // "5xx > 1%" says the rate without the word.
        let bare_5xx = w[0].is_word("xx") && is_above(&w[1]);
        (first && w[1].is_word("rate")) || bare_5xx
    })
}

/// The duration after "for", "over" or "during" from token `i`, in seconds.
fn for_s(toks: &[Token], i: usize) -> Option<f64> {
    (i..toks.len()).find_map(|k| {
        let lead = toks[k]
            .word()
            .is_some_and(|w| matches!(w, "for" | "over" | "during" | "sustained" | "lasting"));
        if lead {
            duration_at(toks, k + 1).map(|(ms, _)| ms / 1000.0)
        } else {
            None
        }
    })
}
