//! The report model: everything every renderer shows, computed once from a `RunResult`.

use crate::result::{
    BreakerEpisode, FirstError, OperationStats, Percentiles, PhaseKind, RunResult, Verdict,
    VerdictStatus,
};

pub use super::answers::Answers;
use super::answers::{answers_outside_warmup, split_answers};
use super::baseline::{self, Comparison};
use super::histogram::{self, Latency};

/// The run's overall answer, shown first in every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every verdict passed.
    Pass,
    /// At least one verdict failed.
    Fail,
    /// None failed, but at least one could not be decided.
    Inconclusive,
    /// No spec was judged: the report shows measurements alone.
    Measured,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Inconclusive => "INCONCLUSIVE",
            Outcome::Measured => "MEASURED",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    pub pass: usize,
    pub fail: usize,
    pub inconclusive: usize,
}

/// One `[[request]]` of the run, outside warmup.
#[derive(Debug, Clone)]
pub struct OperationRow {
    pub name: String,
    /// The spec row it exercises, if named.
    pub operation: Option<String>,
    pub count: u64,
    /// Errors and fallback answers, as the verdicts count them.
    pub answers: Answers,
    pub latency: Percentiles,
    /// Responses by status, most frequent first: [("200", 1234), ("503", 87)].
    pub statuses: Vec<(String, u64)>,
    /// Failures by kind, most frequent first.
    pub error_kinds: Vec<(String, u64)>,
    /// The decoded latency histogram (None when absent or unreadable).
    pub histogram: Option<Latency>,
    /// The first failure messages of each kind, verbatim (see `first_errors::shown`).
    pub first_errors: Vec<FirstError>,
}

/// One phase of the run, all operations together.
#[derive(Debug, Clone)]
pub struct PhaseRow {
    pub name: String,
    pub kind: PhaseKind,
    pub from_s: f64,
    pub to_s: f64,
    pub count: u64,
    /// Errors and fallback answers, as the verdicts count them.
    pub answers: Answers,
    /// Per request name in this phase.
    pub per_request: Vec<(String, Answers)>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// A latency target from a verdict (`latency.<op>.p99`), for the target-vs-measured chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyTarget {
    pub operation: String,
    /// "P50", "P95", "P99" ...
    pub percentile: String,
    pub target_ms: Option<f64>,
    pub measured_ms: Option<f64>,
    /// The verdict's measured text ("345 samples" when too few to judge).
    pub measured: String,
    pub status: VerdictStatus,
}

/// Everything the renderers show.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run as recorded (the JSON renderer writes it back unchanged).
    pub result: RunResult,
    pub outcome: Outcome,
    pub counts: VerdictCounts,
    pub operations: Vec<OperationRow>,
    pub phases: Vec<PhaseRow>,
    pub targets: Vec<LatencyTarget>,
    /// All requests outside warmup, as the verdicts count them.
    pub answers: Answers,
    /// Whether fallback answers could be told from errors: false for a result judged before
    /// redline recorded the fallback windows (its tables count fallback answers as errors).
    pub fallback_known: bool,
    /// The health endpoint's answers where they changed: (seconds since t = 0, "healthy (200)").
    pub health_changes: Vec<(f64, String)>,
    /// Present when a baseline result was given.
    pub comparison: Option<Comparison>,
    /// "no request got an answer: ..." when nothing answered (the run then fails, spec or not).
    pub unanswered: Option<String>,
    /// "most requests failed: ..." for a run without a spec whose failures are the majority.
    pub mostly_failed: Option<String>,
}

impl Report {
    /// Builds the model of one run.
    pub fn new(result: &RunResult) -> Report {
        let counts = count_verdicts(&result.verdicts);
        let unanswered = super::unanswered::nothing_answered(result);
        // A run that measured nothing is never green, nor merely "measured".
        let outcome = if unanswered.is_some() {
            Outcome::Fail
        } else if result.verdicts.is_empty() {
            Outcome::Measured
        } else if counts.fail > 0 {
            Outcome::Fail
        } else if counts.inconclusive > 0 {
            Outcome::Inconclusive
        } else {
            Outcome::Pass
        };
        let split = split_answers(result);
        let outside_warmup = answers_outside_warmup(result, &split);
        let operations: Vec<OperationRow> = result
            .operations
            .iter()
            .map(|(name, s)| {
                let answers = outside_warmup.get(name).copied().unwrap_or_default();
                operation_row(name, s, answers)
            })
            .collect();
        let mut answers = Answers::default();
        for op in &operations {
            answers.add(op.answers);
        }
        Report {
            result: result.clone(),
            outcome,
            counts,
            operations,
            phases: result
                .phases
                .iter()
                .zip(split)
                .map(|(p, per_request)| phase_row(p, per_request))
                .collect(),
            targets: result.verdicts.iter().filter_map(latency_target).collect(),
            answers,
            fallback_known: result.fallback_windows.is_some() || result.verdicts.is_empty(),
            health_changes: health_changes(&result.health),
            comparison: None,
            mostly_failed: super::unanswered::mostly_failed(result),
            unanswered,
        }
    }

    /// Builds the model of one run compared with an older one.
    pub fn with_baseline(result: &RunResult, baseline: &RunResult) -> Report {
        let mut report = Report::new(result);
        report.comparison = Some(baseline::compare(result, baseline));
        report
    }

    pub fn verdicts(&self) -> &[Verdict] {
        &self.result.verdicts
    }

    pub fn episodes(&self) -> &[BreakerEpisode] {
        &self.result.breaker_episodes
    }

    /// True when fallback answers are told apart from errors and the run had windows in which
    /// the spec's fallback was the promised answer: the tables then show a fallback column.
    pub fn shows_fallback(&self) -> bool {
        self.fallback_known
            && self
                .result
                .fallback_windows
                .as_ref()
                .is_some_and(|w| !w.is_empty())
    }

    /// True when a baseline comparison flagged at least one regression.
    pub fn has_regression(&self) -> bool {
        self.comparison
            .as_ref()
            .is_some_and(|c| c.regressions() > 0)
    }
}

/// Collapses the health samples to the moments the answer changed (the first sample included).
pub(crate) fn health_changes(samples: &[crate::result::HealthSample]) -> Vec<(f64, String)> {
    let mut out: Vec<(f64, String)> = Vec::new();
    for s in samples {
        let answer = match (&s.state, s.status) {
            (Some(state), Some(status)) => format!("{state} ({status})"),
            (None, Some(status)) => format!("status {status}"),
            (Some(state), None) => state.clone(),
            (None, None) => "no answer".to_string(),
        };
        if out.last().is_none_or(|(_, last)| *last != answer) {
            out.push((s.t_s, answer));
        }
    }
    out
}

fn count_verdicts(verdicts: &[Verdict]) -> VerdictCounts {
    let mut c = VerdictCounts::default();
    for v in verdicts {
        match v.status {
            VerdictStatus::Pass => c.pass += 1,
            VerdictStatus::Fail => c.fail += 1,
            VerdictStatus::Inconclusive => c.inconclusive += 1,
        }
    }
    c
}

fn sorted_desc(map: &std::collections::BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn operation_row(name: &str, s: &OperationStats, answers: Answers) -> OperationRow {
    OperationRow {
        name: name.to_string(),
        operation: s.operation.clone(),
        count: s.count,
        answers,
        latency: s.latency_ms,
        statuses: sorted_desc(&s.status),
        error_kinds: sorted_desc(&s.error_kinds),
        histogram: histogram::decode(&s.histogram).ok(),
        first_errors: s.first_errors.clone(),
    }
}

fn phase_row(p: &crate::result::PhaseStats, per_request: Vec<(String, Answers)>) -> PhaseRow {
    let count = p.operations.values().map(|o| o.count).sum();
    let mut answers = Answers::default();
    for (_, a) in &per_request {
        answers.add(*a);
    }
    // Merge the operations' histograms for true phase percentiles; if none decodes, fall back
    // to the worst operation's figures (an upper bound, never an average of percentiles).
    let merged = histogram::merge(p.operations.values().map(|o| o.histogram.as_str()));
    let (p50_ms, p99_ms, max_ms) = match merged {
        Some(h) if !h.is_empty() => (
            histogram::quantile_ms(&h, 0.5),
            histogram::quantile_ms(&h, 0.99),
            h.max() as f64 / 1000.0,
        ),
        _ => p.operations.values().fold((0.0, 0.0, 0.0), |acc, o| {
            (
                f64::max(acc.0, o.latency_ms.p50),
                f64::max(acc.1, o.latency_ms.p99),
                f64::max(acc.2, o.latency_ms.max),
            )
        }),
    };
    PhaseRow {
        name: p.name.clone(),
        kind: p.kind,
        from_s: p.from_s,
        to_s: p.to_s,
        count,
        answers,
        per_request,
        p50_ms,
        p99_ms,
        max_ms,
    }
}

/// Reads `latency.<operation>.<pNN>` verdicts; any other id is not a latency target.
fn latency_target(v: &Verdict) -> Option<LatencyTarget> {
    let rest = v.id.strip_prefix("latency.")?;
    let (operation, pname) = rest.rsplit_once('.')?;
    let digits = pname
        .strip_prefix('p')
        .or_else(|| pname.strip_prefix('P'))?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(LatencyTarget {
        operation: operation.to_string(),
        // "p999" is P99.9, "p9999" P99.99: "99", then decimals ("p100" stays P100).
        percentile: if digits.len() > 2 && digits.starts_with("99") {
            format!("P{}.{}", &digits[..2], &digits[2..])
        } else {
            format!("P{digits}")
        },
        // The verdict's own figures; results recorded before they existed only have the text.
        target_ms: match v.numbers {
            Some(n) => n.target_ms,
            None => parse_ms(&v.expected),
        },
        measured_ms: match v.numbers {
            Some(n) => n.measured_ms,
            None => parse_ms(&v.measured),
        },
        measured: v.measured.clone(),
        status: v.status,
    })
}

/// The first duration in a phrase such as "≤ 120 ms", "p99 0.25 s" or "850µs", in milliseconds.
/// A bare number is taken as milliseconds; a leading "p99"-style label and counts such as
/// "345 samples" are skipped (an inconclusive latency verdict measures a sample count).
pub fn parse_ms(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let after_letter = i > 0 && (bytes[i - 1] as char).is_ascii_alphabetic();
        if c.is_ascii_digit() && after_letter {
            // A label such as "p99": skip all of it.
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let value: f64 = text[start..i].parse().ok()?;
            let unit: String = text[i..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphabetic())
                .collect();
            match unit.as_str() {
                "ms" | "msec" => return Some(value),
                "s" | "sec" | "secs" | "second" | "seconds" => return Some(value * 1000.0),
                "us" | "µs" | "μs" => return Some(value / 1000.0),
                "m" | "min" => return Some(value * 60_000.0),
                // A bare number is milliseconds; "345 samples" or "3 attempts" is no duration.
                "" if text[i..].trim_start().is_empty() => return Some(value),
                _ => continue,
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_in_the_verdict_phrasing() {
        assert_eq!(parse_ms("≤ 120 ms"), Some(120.0));
        assert_eq!(parse_ms("p99 ≤ 0.25 s"), Some(250.0));
        assert_eq!(parse_ms("850µs"), Some(0.85));
        assert_eq!(parse_ms("47.3"), Some(47.3));
        assert_eq!(parse_ms("no samples"), None);
        // An inconclusive latency verdict from a real run: a count, not 345 ms.
        assert_eq!(parse_ms("345 samples"), None);
        assert_eq!(parse_ms("8.5 ms over 345 requests (baseline)"), Some(8.5));
        assert_eq!(parse_ms("0 of 3 within 1.5 s"), Some(1500.0));
    }

    #[test]
    fn health_keeps_only_the_changes() {
        use crate::result::HealthSample;
        let sample = |t_s: f64, status: Option<u16>, state: Option<&str>| HealthSample {
            t_s,
            status,
            state: state.map(String::from),
        };
        let samples = [
            sample(0.0, Some(200), Some("healthy")),
            sample(1.0, Some(200), Some("healthy")),
            sample(2.0, Some(503), Some("degraded")),
            sample(3.0, None, None),
            sample(4.0, Some(200), None),
        ];
        let changes: Vec<String> = health_changes(&samples)
            .into_iter()
            .map(|c| format!("{} {}", c.0, c.1))
            .collect();
        assert_eq!(
            changes,
            [
                "0 healthy (200)",
                "2 degraded (503)",
                "3 no answer",
                "4 status 200"
            ]
        );
    }

    #[test]
    fn reads_latency_targets_only_from_latency_ids() {
        let v = Verdict {
            numbers: None,
            id: "latency.get-user.p99".into(),
            claim: String::new(),
            source: String::new(),
            expected: "≤ 200 ms".into(),
            measured: "143.2 ms".into(),
            status: VerdictStatus::Pass,
            detail: String::new(),
        };
        let t = latency_target(&v).unwrap();
        assert_eq!(t.operation, "get-user");
        assert_eq!(t.percentile, "P99");
        assert_eq!(t.target_ms, Some(200.0));
        let other = Verdict {
            id: "breaker.userservice.failure_threshold".into(),
            ..v.clone()
        };
        assert_eq!(latency_target(&other), None);
        // The verdict's own figures win over its text; the text is read only without them.
        let numbered = Verdict {
            measured: "143.2 ms (345 requests)".into(),
            numbers: Some(crate::result::VerdictNumbers {
                target_ms: Some(200.0),
                measured_ms: Some(143.25),
                samples: Some(345),
            }),
            ..v
        };
        assert_eq!(latency_target(&numbered).unwrap().measured_ms, Some(143.25));
        let too_few = Verdict {
            measured: "12 ms".into(),
            numbers: Some(crate::result::VerdictNumbers {
                target_ms: Some(200.0),
                measured_ms: None,
                samples: Some(12),
            }),
            ..numbered
        };
        assert_eq!(latency_target(&too_few).unwrap().measured_ms, None);
    }
}
