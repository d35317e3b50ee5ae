//! Interface promises the after-load probes check: the version conflict ("if the item has moved
//! on, the answer is 409", its code from the error classes) and stated limits in prose (a
//! pagination parameter's max, "rejected with 400" or "capped"; a request body's size cap). Read
//! from paragraphs and list items only: a table cell such as `per_page 1..100` says no outcome.

use super::claims::{Claims, ConflictClaim, LimitKind, StatedLimit};
use super::markdown::{Block, Kind};

/// Pagination parameters whose max is a limit worth probing.
const PAGE_PARAMS: &[&str] = &[
    "limit",
    "per_page",
    "perpage",
    "page_size",
    "pagesize",
    "max_results",
    "maxresults",
];

/// Runs after `errors::read`: a code comes from the error class with the stated status.
pub(crate) fn read(blocks: &[Block], claims: &mut Claims) {
    for b in blocks {
        if !matches!(b.kind, Kind::Paragraph | Kind::Item) {
            continue;
        }
        let mut start = 0;
        for sentence in sentences(&b.text.s) {
            let line = b.text.line_at(start);
            start += sentence.len();
            read_sentence(sentence, line, claims);
        }
    }
    if claims.conflict.is_none() {
        let row = claims.error_classes.iter().find(|c| {
            c.status == Some(409) || c.error_type.to_ascii_lowercase().contains("conflict")
        });
        if let Some(c) = row {
            claims.conflict = Some(ConflictClaim {
                status: c.status.unwrap_or(409),
                code: c.code.clone(),
                line: c.line,
            });
        }
    }
}

/// Splits after ". " / ": " / "; " so one sentence carries one promise (kept whole otherwise).
fn sentences(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    let bytes = s.as_bytes();
    for i in 0..bytes.len().saturating_sub(1) {
        if bytes[i] == b'.' && bytes[i + 1] == b' ' {
            out.push(&s[from..=i]);
            from = i + 1;
        }
    }
    out.push(&s[from..]);
    out
}

fn read_sentence(s: &str, line: usize, claims: &mut Claims) {
    let lower = s.to_ascii_lowercase();
    let status = error_status(&lower);
    let code = upper_code(s);
    let code_for = |st: Option<u16>, claims: &Claims| {
        code.clone().or_else(|| {
            let st = st?;
            claims
                .error_classes
                .iter()
                .find(|c| c.status == Some(st))
                .and_then(|c| c.code.clone())
        })
    };
    if claims.conflict.is_none()
        && matches!(status, Some(409 | 412))
        && ["version", "conflict", "moved on", "stale", "etag"]
            .iter()
            .any(|w| lower.contains(w))
    {
        claims.conflict = Some(ConflictClaim {
            status: status.unwrap_or(409),
            code: code_for(status, claims),
            line,
        });
    }
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let capped = ["capped", "clamped", "truncated"]
        .iter()
        .any(|w| lower.contains(w));
    let rejected = status.is_some() || lower.contains("reject") || lower.contains("refuse");
    let found = (capped, rejected, status, code_for(status, claims));
    // "a rate limit of 100 requests per second" is no pagination limit.
    let rate = words
        .iter()
        .any(|w| ["rate", "second", "minute", "requests"].contains(w));
    let param = words
        .iter()
        .position(|w| PAGE_PARAMS.contains(w) && !(*w == "limit" && rate));
    if let Some(at) = param {
        if let Some(max) = max_after(&words[at + 1..]) {
            let name = words[at].to_string();
            push_limit(claims, LimitKind::Query, name, max, line, found.clone());
        }
    }
    if words.iter().any(|w| ["body", "payload"].contains(w)) {
        if let Some(max) = size_bytes(&words) {
            push_limit(claims, LimitKind::Body, "body".into(), max, line, found);
        }
    }
}

/// What the sentence says happens beyond the limit: capped, rejected, status, code.
type Outcome = (bool, bool, Option<u16>, Option<String>);

fn push_limit(
    claims: &mut Claims,
    kind: LimitKind,
    name: String,
    max: u64,
    line: usize,
    (capped, rejected, status, code): Outcome,
) {
    if claims.limits.iter().any(|l| l.name == name) {
        return;
    }
    if !capped && !rejected {
        super::diag(
            claims,
            line,
            format!("{name} is limited to {max}, but the spec does not say what happens beyond it (\"rejected with 400\" or \"capped\"); not probed"),
        );
        return;
    }
    let capped = capped && kind == LimitKind::Query;
    claims.limits.push(StatedLimit {
        name,
        kind,
        max,
        capped,
        status: status.filter(|_| !capped),
        code: code.filter(|_| !capped),
        line,
    });
}

/// "max 100", "maximum of 100", "at most 100", "up to 100", "1..100", "<= 100" after the name.
fn max_after(words: &[&str]) -> Option<u64> {
    let markers = ["max", "maximum", "most", "to", "exceed", "above", "over"];
    for (i, w) in words.iter().enumerate().take(8) {
        if markers.contains(w) {
            let n = words[i + 1..].iter().take(2).find_map(|w| w.parse().ok());
            if n.is_some() {
                return n;
            }
        }
    }
    // "1..100": the words split at the dots, so two numbers in a row.
    match words {
        [a, b, ..] if a.parse::<u64>().is_ok() => b.parse().ok(),
        _ => None,
    }
}

/// "64 KiB", "1 MB", "65536 bytes": binary for KiB/MiB, decimal for KB/MB.
fn size_bytes(words: &[&str]) -> Option<u64> {
    words.windows(2).find_map(|w| {
        let n: u64 = w[0].parse().ok()?;
        let unit = match w[1] {
            "b" | "byte" | "bytes" => 1,
            "kib" => 1024,
            "kb" => 1000,
            "mib" => 1024 * 1024,
            "mb" => 1_000_000,
            _ => return None,
        };
        Some(n * unit)
    })
}

/// The first 4xx status written in the sentence.
fn error_status(lower: &str) -> Option<u16> {
    lower
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 3)
        .filter_map(|w| w.parse::<u16>().ok())
        .find(|s| (400..500).contains(s))
}

/// An UPPER_SNAKE error code written in the sentence (`VALIDATION_FAILED`).
fn upper_code(s: &str) -> Option<String> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| {
            w.len() >= 4
                && w.contains('_')
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        })
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use crate::spec::claims::LimitKind;

    const SPEC: &str = "# S\n\n## Errors\n\n| Error Type | HTTP Status | Error Code |\n|---|---|---|\n| ValidationError | 400 | VALIDATION_FAILED |\n| VersionConflict | 409 | CONFLICT |\n| PayloadTooLarge | 413 | PAYLOAD_TOO_LARGE |\n\nAn update must carry the version it read; if the item has moved on, the answer is 409.\n\n`per_page` is at most 100: a larger one is rejected with 400. A request body over 64 KiB is rejected with 413.\n\n- `limit` max 50, capped: a larger one gets 50 items.\n";

    #[test]
    fn conflict_and_limits_from_prose_with_codes_from_the_table() {
        let c = crate::spec::parse(SPEC);
        let conflict = c.conflict.expect("conflict");
        assert_eq!(
            (conflict.status, conflict.code.as_deref(), conflict.line),
            (409, Some("CONFLICT"), 11)
        );
        let by = |n: &str| c.limits.iter().find(|l| l.name == n).cloned().unwrap();
        let p = by("per_page");
        assert_eq!(
            (p.kind, p.max, p.capped, p.status, p.code.as_deref(), p.line),
            (
                LimitKind::Query,
                100,
                false,
                Some(400),
                Some("VALIDATION_FAILED"),
                13
            )
        );
        let b = by("body");
        assert_eq!(
            (b.kind, b.max, b.status, b.code.as_deref()),
            (LimitKind::Body, 65536, Some(413), Some("PAYLOAD_TOO_LARGE"))
        );
        let l = by("limit");
        assert_eq!((l.max, l.capped, l.status, l.line), (50, true, None, 15));
    }

    #[test]
    fn a_limit_without_an_outcome_is_a_diagnostic_and_a_table_row_is_the_conflict() {
        let c = crate::spec::parse(
            "# S\n\n| Error Type | HTTP Status | Error Code |\n|---|---|---|\n| StaleVersion | 409 | VERSION_CONFLICT |\n\nThe `limit` parameter is at most 100.\n",
        );
        assert!(c.limits.is_empty());
        let d = c
            .diagnostics
            .iter()
            .find(|d| d.line == 7)
            .expect("diagnostic");
        assert!(
            d.message.contains("limit is limited to 100"),
            "{}",
            d.message
        );
        let conflict = c.conflict.expect("conflict");
        assert_eq!(
            (conflict.code.as_deref(), conflict.line),
            (Some("VERSION_CONFLICT"), 5)
        );
    }
}
