//! The search's answer: which claim limits the capacity, the one-line summary every report shows,
//! and the spec's throughput claims judged against the found rate.

use super::search::fmt_rate;
use super::step::{Judged, KEPT_UP_ID, TREND_ID};
use crate::result::{Capacity, LimitingClaim, Verdict};
use crate::spec::claims::Throughput;
use crate::verdict::tolerance::fmt_pct;
use crate::verdict::Claim;

/// The claim that failed at the bracket's top: of the step(s) at `upper`, the last one that did
/// not hold; among its failed claims the latency claim furthest over its bound, else an error
/// objective, else the step rules (fell behind, rising latency).
pub fn limiting_claim(judged: &[Judged], upper: Option<f64>) -> Option<LimitingClaim> {
    let upper = upper?;
    let step = judged
        .iter()
        .rev()
        .find(|j| j.step.rate == upper && j.step.holds == Some(false))?;
    let failed: Vec<&Verdict> = step
        .verdicts
        .iter()
        .filter(|v| step.step.failed_claims.contains(&v.id))
        .collect();
    let over = |v: &Verdict| {
        v.numbers
            .and_then(|n| Some(n.measured_ms? / n.target_ms?))
            .unwrap_or(0.0)
    };
    let worst = failed
        .iter()
        .filter(|v| v.id.starts_with("latency."))
        .max_by(|a, b| over(a).total_cmp(&over(b)))
        .or_else(|| failed.first());
    if let Some(v) = worst {
        return Some(LimitingClaim {
            id: v.id.clone(),
            claim: v.claim.clone(),
            source: v.source.clone(),
        });
    }
    let rule = |id: &str, claim: &str| LimitingClaim {
        id: id.to_string(),
        claim: claim.to_string(),
        source: "redline".to_string(),
    };
    let ids = &step.step.failed_claims;
    if ids.iter().any(|i| i == KEPT_UP_ID) {
        Some(rule(
            KEPT_UP_ID,
            "the target answers the rate it is offered",
        ))
    } else if ids.iter().any(|i| i == TREND_ID) {
        Some(rule(TREND_ID, "latency does not rise through a step"))
    } else {
        None
    }
}

/// "capacity: 412 req/s (verified) · limited by P99 latency of GET item is at most 200 ms (spec.md:146)".
pub fn summary(c: &Capacity) -> String {
    let rate = match c.max_rate {
        Some(r) if c.verified => format!("{} (verified)", fmt_rate(r)),
        Some(r) => format!("{} (not verified)", fmt_rate(r)),
        None => "no rate held".to_string(),
    };
    let limit = match &c.limiting_claim {
        Some(l) => format!(" · limited by {} ({})", l.claim, l.source),
        None => String::new(),
    };
    let upper = match c.upper_rate {
        Some(u) if c.max_rate.is_some() => format!(" · fails at {}", fmt_rate(u)),
        Some(u) => format!(" · fails at {}", fmt_rate(u)),
        None => String::new(),
    };
    format!("capacity: {rate}{limit}{upper}")
}

/// The search itself as a verdict, so every report's outcome says whether a rate was found: pass
/// when one was verified, fail when nothing held (not even the first rate), otherwise inconclusive.
pub fn search_verdict(c: &Capacity) -> Verdict {
    let claim = Claim::new(
        "capacity.verified",
        "A rate at which every judged claim holds is found and verified",
        "redline capacity",
        "a verified rate",
    );
    let line = summary(c);
    match c.max_rate {
        Some(_) if c.verified => claim.pass(line, c.reason.clone()),
        None if c.status != "interrupted" && c.steps.iter().all(|s| s.holds != Some(true)) => {
            claim.fail(line, format!("No step held: {}.", c.reason))
        }
        _ => claim.inconclusive(
            line,
            format!("The search ended without a verified rate: {}.", c.reason),
        ),
    }
}

/// The rate a throughput claim asks for: its own, or a multiple of `--peak`.
fn claimed_rate(t: &Throughput, peak: Option<f64>) -> Option<f64> {
    match (t.rps, t.peak_multiple) {
        (Some(r), Some(m)) => Some(r * m),
        (Some(r), None) => Some(r),
        (None, Some(m)) => peak.map(|p| p * m),
        (None, None) => None,
    }
}

/// Each throughput claim of the spec as a verdict from the search: pass when a verified rate is at
/// or above it, fail when a step at or below it did not hold (and none above held), otherwise
/// inconclusive with what would decide it.
pub fn throughput_verdicts(
    claims: &[Throughput],
    peak: Option<f64>,
    c: &Capacity,
    upper_failed: bool,
    spec_file: &str,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (i, t) in claims.iter().enumerate() {
        let id = format!("capacity.throughput.{}", i + 1);
        let source = format!("{spec_file}:{}", t.line);
        let errors = t
            .max_error_rate
            .map_or(String::new(), |e| format!(" with ≤ {} errors", fmt_pct(e)));
        let Some(target) = claimed_rate(t, peak) else {
            let claim = Claim::new(id, format!("Throughput: {}", t.text), source, "peak × N");
            out.push(claim.inconclusive(
                "peak not stated",
                "The claim is a multiple of a peak the spec does not state: give --peak RATE.",
            ));
            continue;
        };
        let claim = Claim::new(
            id,
            format!("Throughput: {}", t.text),
            source,
            format!("≥ {}{errors}", fmt_rate(target)),
        );
        let measured = match c.max_rate {
            Some(r) if c.verified => fmt_rate(r),
            Some(r) => format!("{} (not verified)", fmt_rate(r)),
            None => "none held".to_string(),
        };
        let v = match (c.max_rate, c.upper_rate) {
            (Some(r), _) if c.verified && r >= target => claim.pass(
                measured,
                format!(
                    "Every claim held at {} for twice the step length, at or above the claimed {}.",
                    fmt_rate(r),
                    fmt_rate(target)
                ),
            ),
            (_, Some(u)) if upper_failed && u <= target => claim.fail(
                measured,
                format!(
                    "At {} (≤ the claimed {}) the claims did not hold: the service does not sustain the rate.",
                    fmt_rate(u),
                    fmt_rate(target)
                ),
            ),
            _ => claim.inconclusive(
                measured,
                format!(
                    "The search neither verified a rate at or above {} nor saw one at or below it fail ({}): \
                     raise --max or --budget, or narrow --precision.",
                    fmt_rate(target),
                    c.reason
                ),
            ),
        };
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CapacityStep, VerdictNumbers, VerdictStatus};

    fn verdict(id: &str, target: f64, measured: f64) -> Verdict {
        Verdict {
            id: id.into(),
            claim: format!("claim {id}"),
            source: "s.md:3".into(),
            expected: String::new(),
            measured: String::new(),
            status: VerdictStatus::Fail,
            detail: String::new(),
            numbers: Some(VerdictNumbers {
                target_ms: Some(target),
                measured_ms: Some(measured),
                samples: Some(1000),
            }),
        }
    }

    fn judged(rate: f64, failed: &[&str], verdicts: Vec<Verdict>) -> Judged {
        Judged {
            step: CapacityStep {
                rate,
                holds: Some(failed.is_empty()),
                failed_claims: failed.iter().map(|s| s.to_string()).collect(),
                ..CapacityStep::default()
            },
            verdicts,
        }
    }

    #[test]
    fn the_claim_furthest_over_its_bound_at_the_top_of_the_bracket_limits() {
        let steps = vec![
            judged(100.0, &[], vec![]),
            judged(
                200.0,
                &["latency.a.p99", "latency.b.p99"],
                vec![
                    verdict("latency.a.p99", 100.0, 120.0),
                    verdict("latency.b.p99", 50.0, 90.0),
                ],
            ),
        ];
        let l = limiting_claim(&steps, Some(200.0)).unwrap();
        assert_eq!(l.id, "latency.b.p99");
        let behind = vec![judged(300.0, &[KEPT_UP_ID], vec![])];
        assert_eq!(
            limiting_claim(&behind, Some(300.0)).unwrap().source,
            "redline"
        );
    }

    fn throughput(rps: f64) -> Throughput {
        Throughput {
            text: format!("handles {rps} requests/sec"),
            rps: Some(rps),
            peak_multiple: None,
            max_error_rate: None,
            line: 9,
        }
    }

    #[test]
    fn throughput_claims_pass_fail_or_say_what_would_decide() {
        let c = Capacity {
            max_rate: Some(300.0),
            verified: true,
            upper_rate: Some(315.0),
            reason: "verified".into(),
            ..Capacity::default()
        };
        let v = throughput_verdicts(
            &[throughput(250.0), throughput(400.0), throughput(310.0)],
            None,
            &c,
            true,
            "s.md",
        );
        let statuses: Vec<_> = v.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [
                VerdictStatus::Pass,
                VerdictStatus::Fail,
                VerdictStatus::Inconclusive
            ]
        );
        assert_eq!(v[0].source, "s.md:9");
        assert!(summary(&c).starts_with("capacity: 300 req/s (verified)"));
    }
}
