//! Errors and fallback answers per request and phase, counted as the error-rate verdicts count
//! them (`verdict::errors::split_phase` over the `fallback_windows` they recorded), for the
//! report's tables.

use std::collections::BTreeMap;

use crate::result::{PhaseKind, RunResult};
use crate::verdict::errors;

/// Answers counted the way the error-rate verdicts count them (`verdict::errors::split_phase`):
/// errors are transport failures and 5xx answers; an answer with the spec's fallback status
/// while its dependency was down is a fallback, neither error nor success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    /// Requests settled (those cancelled at the end of the run left out).
    pub requests: u64,
    pub errors: u64,
    pub fallback: u64,
}

impl Answers {
    /// Errors as a percentage of the requests that were not fallback answers (the verdicts' rate).
    pub fn error_pct(&self) -> f64 {
        pct(self.errors, self.requests.saturating_sub(self.fallback))
    }

    pub(super) fn add(&mut self, other: Answers) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.fallback += other.fallback;
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// Each phase's answers per request name (the whole run as one phase when it has none), split
/// by the very function the error-rate verdicts use, with the windows they recorded.
///
/// With no spec judged there is no verdict to agree with: errors are then what the scenario
/// calls a failure (transport, timeout, a status outside `expect_status`), so a run answered
/// 403 throughout does not read as error-free.
pub(super) fn split_answers(result: &RunResult) -> Vec<Vec<(String, Answers)>> {
    let windows = result.fallback_windows.as_deref().unwrap_or(&[]);
    let measured_only = result.verdicts.is_empty();
    errors::phase_views(result)
        .into_iter()
        .map(|(_, _, from_s, to_s, ops)| {
            if measured_only {
                return ops
                    .iter()
                    .map(|(name, s)| {
                        let cancelled = s.error_kinds.get("cancelled").copied().unwrap_or(0);
                        let a = Answers {
                            requests: s.count.saturating_sub(cancelled),
                            errors: s.errors.saturating_sub(cancelled),
                            fallback: 0,
                        };
                        (name.clone(), a)
                    })
                    .collect();
            }
            errors::split_phase(result, from_s, to_s, ops, windows)
                .per_request
                .into_iter()
                .map(|(name, s)| {
                    let a = Answers {
                        requests: s.requests,
                        errors: s.errors,
                        fallback: s.fallback,
                    };
                    (name, a)
                })
                .collect()
        })
        .collect()
}

/// Per request name, summed over every phase but warmup (what `operations` covers).
pub(super) fn answers_outside_warmup(
    result: &RunResult,
    split: &[Vec<(String, Answers)>],
) -> BTreeMap<String, Answers> {
    let mut out: BTreeMap<String, Answers> = BTreeMap::new();
    for (i, per_request) in split.iter().enumerate() {
        let warmup = result
            .phases
            .get(i)
            .is_some_and(|p| p.kind == PhaseKind::Warmup);
        if warmup {
            continue;
        }
        for (name, a) in per_request {
            out.entry(name.clone()).or_default().add(*a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;
    use crate::result::{OperationStats, Verdict, VerdictStatus};

    fn op(count: u64, status: &[(&str, u64)], kinds: &[(&str, u64)]) -> OperationStats {
        OperationStats {
            count,
            status: status.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            error_kinds: kinds.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            ..OperationStats::default()
        }
    }

    /// A run of two phases: 100 requests in baseline (2 timeouts), 100 in a fault phase
    /// answered 60 times with 503 and 5 times with 500.
    fn two_phases(windows: Option<Vec<crate::result::FallbackWindow>>) -> RunResult {
        use crate::result::PhaseStats;
        let base = op(100, &[("200", 98)], &[("timeout", 2)]);
        let fault = op(
            100,
            &[("200", 35), ("503", 60), ("500", 5)],
            &[("status_unexpected", 65)],
        );
        let phase = |name: &str, kind, from_s, to_s, s: &OperationStats| PhaseStats {
            name: name.into(),
            kind,
            from_s,
            to_s,
            operations: BTreeMap::from([("get".to_string(), s.clone())]),
        };
        RunResult {
            duration_s: 20.0,
            operations: BTreeMap::from([("get".to_string(), op(200, &[], &[]))]),
            phases: vec![
                phase("baseline", PhaseKind::Baseline, 0.0, 10.0, &base),
                phase("fault", PhaseKind::Fault, 10.0, 20.0, &fault),
            ],
            fallback_windows: windows,
            ..RunResult::default()
        }
    }

    /// A verdict, so the run reads as judged against a spec.
    fn judged() -> Verdict {
        Verdict {
            id: "errors.global.fault".into(),
            claim: String::new(),
            source: String::new(),
            expected: String::new(),
            measured: String::new(),
            status: VerdictStatus::Pass,
            detail: String::new(),
            numbers: None,
        }
    }

    #[test]
    fn fallback_answers_are_counted_apart_only_inside_their_windows() {
        let window = crate::result::FallbackWindow {
            dependency: "UserService".into(),
            status: Some(503),
            grpc_status: None,
            from_ms: 10_000.0,
            to_ms: 20_000.0,
        };
        let r = Report::new(&RunResult {
            verdicts: vec![judged()],
            ..two_phases(Some(vec![window]))
        });
        assert!(r.shows_fallback());
        let a = |i: usize| r.phases[i].answers;
        assert_eq!((a(0).requests, a(0).errors, a(0).fallback), (100, 2, 0));
        // 503 inside the window is the fallback; the 500s stay errors.
        assert_eq!((a(1).requests, a(1).errors, a(1).fallback), (100, 5, 60));
        assert!(
            (a(1).error_pct() - 12.5).abs() < 1e-9,
            "5 of the 40 non-fallback"
        );
        assert_eq!(r.operations[0].answers.fallback, 60);
        assert_eq!(r.answers.errors, 7);
    }

    #[test]
    fn measured_alone_errors_are_what_the_scenario_calls_failures() {
        // A run answered 403 throughout (a wrong key): no spec, so no verdict to agree with;
        // the statuses outside expect_status are the errors, not "0 errors".
        let mut forbidden = op(50, &[("403", 50)], &[("status_unexpected", 50)]);
        forbidden.errors = 50;
        let r = Report::new(&RunResult {
            operations: BTreeMap::from([("get".to_string(), forbidden)]),
            ..RunResult::default()
        });
        assert_eq!(r.operations[0].answers.errors, 50);
        assert!(!r.shows_fallback());
        let legend = super::super::text::answers_legend(&r);
        assert!(legend.contains("expect_status"), "{legend}");
    }

    #[test]
    fn an_older_result_counts_fallbacks_as_errors_and_says_so() {
        let r = Report::new(&RunResult {
            verdicts: vec![judged()],
            ..two_phases(None)
        });
        assert!(!r.fallback_known && !r.shows_fallback());
        assert_eq!(r.phases[1].answers.errors, 65);
        assert!(super::super::text::answers_legend(&r).contains("before redline recorded"));
    }
}
