//! Runs that measured nothing worth a verdict: one where no request got an answer at all
//! (every failure at the transport level: exit 1, whatever the spec says), and, without a spec,
//! one where most requests failed (said in the headline; the exit code stays `--max-error-rate`'s).

use crate::result::{FirstError, RunResult};

use super::text;

/// Failure kinds that mean no HTTP answer arrived.
const TRANSPORT: [&str; 5] = ["connect", "tls", "timeout", "reset", "protocol"];

/// "no request got an answer: tls: invalid peer certificate: UnknownIssuer for
/// localhost:18443; set insecure_tls = true ..." when requests were sent, none was answered, and
/// they failed at the transport level (not only cancelled by a stop); None otherwise.
pub fn nothing_answered(r: &RunResult) -> Option<String> {
    let sent_any = r.totals.sent > 0 || r.operations.values().any(|o| o.count > 0);
    if !sent_any || r.totals.completed > 0 {
        return None;
    }
    let transport = |kind: &str| TRANSPORT.contains(&kind);
    let failed_in_transport = r
        .operations
        .values()
        .any(|o| o.error_kinds.iter().any(|(k, n)| transport(k) && *n > 0))
        || r.timeline
            .iter()
            .any(|b| b.error_kinds.iter().any(|(k, n)| transport(k) && *n > 0));
    if !failed_in_transport {
        return None;
    }
    let first = r
        .operations
        .values()
        .flat_map(|o| o.first_errors.iter())
        .filter(|e| transport(&e.kind))
        .min_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    Some(match first {
        Some(e) => format!("no request got an answer: {}", with_hint(e)),
        // A result recorded before redline kept the messages: the kinds alone.
        None => format!("no request got an answer: {}", kinds(r)),
    })
}

/// "most requests failed: 96% of 1,500 (timeout×1,440)" for a run without a spec whose failed
/// share is above one half (and that got some answers: see `nothing_answered`).
pub fn mostly_failed(r: &RunResult) -> Option<String> {
    if !r.verdicts.is_empty() || nothing_answered(r).is_some() {
        return None;
    }
    let (count, errors) = r.operations.values().fold((0u64, 0u64), |(c, e), o| {
        let cancelled = o.error_kinds.get("cancelled").copied().unwrap_or(0);
        (
            c + o.count.saturating_sub(cancelled),
            e + o.errors.saturating_sub(cancelled),
        )
    });
    if count == 0 || errors * 2 <= count {
        return None;
    }
    Some(format!(
        "most requests failed: {} of {} ({})",
        text::pct(100.0 * errors as f64 / count as f64),
        text::count(count),
        kinds(r)
    ))
}

/// "tls: invalid peer certificate: UnknownIssuer for localhost:18443; set insecure_tls = true".
pub fn with_hint(e: &FirstError) -> String {
    match &e.hint {
        Some(h) => format!("{}: {}; {h}", e.kind, e.message),
        None => format!("{}: {}", e.kind, e.message),
    }
}

/// Failure kinds over every operation, most frequent first: "tls×1,500 · timeout×3".
fn kinds(r: &RunResult) -> String {
    let mut all: std::collections::BTreeMap<String, u64> = Default::default();
    for o in r.operations.values() {
        for (k, n) in &o.error_kinds {
            *all.entry(k.clone()).or_default() += n;
        }
    }
    let mut v: Vec<(String, u64)> = all.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    text::tally(&v, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{OperationStats, Totals};

    fn run(completed: u64, kinds: &[(&str, u64)], first: Vec<FirstError>) -> RunResult {
        let errors = kinds.iter().map(|(_, n)| n).sum();
        let mut r = RunResult {
            totals: Totals {
                sent: 10,
                completed,
                errors,
                ..Totals::default()
            },
            ..RunResult::default()
        };
        r.operations.insert(
            "get".into(),
            OperationStats {
                count: 10,
                errors,
                error_kinds: kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
                first_errors: first,
                ..OperationStats::default()
            },
        );
        r
    }

    fn first(kind: &str, message: &str, t_ms: f64, hint: Option<&str>) -> FirstError {
        FirstError {
            kind: kind.into(),
            message: message.into(),
            t_ms,
            hint: hint.map(String::from),
        }
    }

    #[test]
    fn nothing_answered_names_the_earliest_transport_error() {
        let r = run(
            0,
            &[("tls", 9), ("timeout", 1)],
            vec![
                first(
                    "tls",
                    "invalid peer certificate: UnknownIssuer for localhost:18443",
                    5.0,
                    Some("set insecure_tls = true for a self-signed certificate"),
                ),
                first(
                    "timeout",
                    "no complete answer within the timeout",
                    900.0,
                    None,
                ),
            ],
        );
        assert_eq!(
            nothing_answered(&r).as_deref(),
            Some("no request got an answer: tls: invalid peer certificate: UnknownIssuer for localhost:18443; set insecure_tls = true for a self-signed certificate")
        );
        assert_eq!(mostly_failed(&r), None, "said once, by nothing_answered");
    }

    #[test]
    fn answers_or_only_cancellations_are_not_nothing_answered() {
        assert_eq!(nothing_answered(&run(1, &[("tls", 9)], vec![])), None);
        assert_eq!(
            nothing_answered(&run(0, &[("cancelled", 10)], vec![])),
            None
        );
        let old = run(0, &[("connect", 10)], vec![]);
        assert_eq!(
            nothing_answered(&old).as_deref(),
            Some("no request got an answer: connect×10")
        );
    }

    #[test]
    fn mostly_failed_only_without_a_spec_and_above_half() {
        let r = run(10, &[("status_unexpected", 6)], vec![]);
        assert_eq!(
            mostly_failed(&r).as_deref(),
            Some("most requests failed: 60% of 10 (status_unexpected×6)")
        );
        assert_eq!(
            mostly_failed(&run(10, &[("status_unexpected", 5)], vec![])),
            None
        );
        let mut judged = r.clone();
        judged.verdicts.push(crate::result::Verdict {
            id: "x".into(),
            claim: String::new(),
            source: String::new(),
            expected: String::new(),
            measured: String::new(),
            status: crate::result::VerdictStatus::Pass,
            detail: String::new(),
            numbers: None,
        });
        assert_eq!(mostly_failed(&judged), None);
    }
}
