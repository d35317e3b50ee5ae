//! The first failure messages of a request as every renderer shows them under its row: one
//! line per message ("tls at 0.31 s: invalid peer certificate: UnknownIssuer for
//! localhost:18443"), each kind's hint once, after its last message.

use super::model::{OperationRow, Report};
use super::text;

/// One message to show, and the hint that follows it (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub line: String,
    pub hint: Option<String>,
}

/// The messages of `op` a report shows. Judged against a spec, statuses are left to the status
/// tally and the verdicts (as `text::failure_kinds` leaves them out of the failure tally).
pub fn shown(report: &Report, op: &OperationRow) -> Vec<Shown> {
    let all = report.result.verdicts.is_empty();
    let errors: Vec<_> = op
        .first_errors
        .iter()
        .filter(|e| all || !e.kind.contains("status"))
        .collect();
    errors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let next_same = errors
                .get(i + 1)
                .is_some_and(|n| n.kind == e.kind && n.hint == e.hint);
            Shown {
                line: format!(
                    "{} at {}: {}",
                    e.kind,
                    text::secs(e.t_ms / 1000.0),
                    e.message
                ),
                hint: if next_same { None } else { e.hint.clone() },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{FirstError, OperationStats, RunResult};

    #[test]
    fn each_kinds_hint_comes_once_after_its_messages() {
        let e = |kind: &str, message: &str, hint: &str| FirstError {
            kind: kind.into(),
            message: message.into(),
            t_ms: 1500.0,
            hint: Some(hint.into()),
        };
        let mut r = RunResult::default();
        r.operations.insert(
            "get".into(),
            OperationStats {
                count: 3,
                errors: 3,
                first_errors: vec![
                    e(
                        "reset",
                        "Connection reset by peer (os error 104)",
                        "check its logs",
                    ),
                    e(
                        "reset",
                        "connection closed by the server before the response head",
                        "check its logs",
                    ),
                    e(
                        "timeout",
                        "no complete answer within the timeout",
                        "raise it",
                    ),
                ],
                ..OperationStats::default()
            },
        );
        let report = Report::new(&r);
        let shown = shown(&report, &report.operations[0]);
        assert_eq!(shown.len(), 3);
        assert_eq!(
            shown[0].line,
            "reset at 1.5 s: Connection reset by peer (os error 104)"
        );
        assert_eq!(shown[0].hint, None);
        assert_eq!(shown[1].hint.as_deref(), Some("check its logs"));
        assert_eq!(shown[2].hint.as_deref(), Some("raise it"));
    }
}
