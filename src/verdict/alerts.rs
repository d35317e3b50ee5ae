//! Alert rules as monitoring promises: an alert must stay quiet while the service is healthy.
//! Error-rate and latency conditions are evaluated second by second over the timeline (a condition
//! "for 1m" fires once it has held in every second of a minute); a breaker-open rule reads the
//! breaker episodes seen from outside. The detail says when each alert would have fired in faults.

use super::alert_breaker::{breaker_alert, breaker_rule};
use super::alert_seconds::{latency_seconds, per_second, Held, Stretch};
use super::breaker::Observation;
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::series::{self, fmt_secs, span};
use super::tolerance::{explain, fmt_ms, fmt_pct};
use crate::result::{RunResult, Verdict};
use crate::spec::claims::{Alert, AlertCondition, Claims};

pub fn judge(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
    out: &mut Judgement,
) {
    for a in &claims.alerts {
        out.verdicts.push(one(result, a, ctx, observed));
    }
}

fn one(result: &RunResult, a: &Alert, ctx: &JudgeContext, observed: &[Observation]) -> Verdict {
    let severity = a
        .severity
        .as_deref()
        .map_or(String::new(), |s| format!(" ({s})"));
    let (watches, for_s) = match &a.condition {
        AlertCondition::ErrorRate { threshold, for_s } => {
            (format!("error rate > {}", fmt_pct(*threshold)), *for_s)
        }
        AlertCondition::Latency {
            percentile,
            threshold_ms,
            for_s,
        } => (
            format!("P{percentile} latency > {}", fmt_ms(*threshold_ms)),
            *for_s,
        ),
        AlertCondition::Other { text } => (format!("\"{text}\""), breaker_rule(text).flatten()),
    };
    let for_text = match (&a.condition, for_s) {
        (AlertCondition::Other { .. }, _) | (_, None) => String::new(),
        (_, Some(s)) => format!(" for {}", fmt_secs(s)),
    };
    let claim = format!(
        "Alert {}{severity} watches {watches}{for_text} and stays quiet while the service is healthy",
        a.name
    );
    let c = Claim::new(
        format!("alert.{}", slug(&a.name)),
        claim,
        spec_source(ctx, a.line),
        "quiet while healthy",
    );
    // A condition "for D" needs D seconds in a row; without one it fires on the first second.
    let need = for_s.unwrap_or(1.0).max(1.0).ceil();
    let words = Words {
        subject: "the condition",
        verb: "held",
        never: "never held",
        short: "held",
    };
    let stretches = match &a.condition {
        AlertCondition::ErrorRate { threshold, .. } => per_second(result, |b| {
            let n = series::settled(b);
            if n > 0 && series::server_errors(b) as f64 / n as f64 > *threshold {
                Held::Yes
            } else {
                Held::No
            }
        }),
        AlertCondition::Latency {
            percentile,
            threshold_ms,
            ..
        } => latency_seconds(result, *percentile, *threshold_ms),
        AlertCondition::Other { text } => {
            if breaker_rule(text).is_none() {
                let detail = "redline evaluates error-rate, latency-percentile and breaker-open conditions; this one \
                              is none of those, so no run can judge it.";
                return c.inconclusive("not evaluable", detail);
            }
            return breaker_alert(result, a, &c, observed, for_s.unwrap_or(0.0));
        }
    };
    if result.timeline.is_empty() {
        return c.inconclusive(
            "no timeline",
            "The result has no per-second timeline to evaluate the condition on.",
        );
    }
    let (yes, maybe) = stretches;
    let rule = " Rule: the condition is evaluated on each one-second bucket of the timeline (finer than most \
                monitors, which average over a window), and \"for D\" needs D buckets in a row.";
    explain(decide(result, &c, need, &yes, &maybe, &words), rule)
}

/// How the details speak of the condition: "the condition held" / "the breaker on X was open".
pub(super) struct Words<'a> {
    pub subject: &'a str,
    pub verb: &'a str,
    pub never: &'a str,
    pub short: &'a str,
}

/// Judges stretches where the condition surely (`yes`) or possibly (`maybe`) held.
pub(super) fn decide(
    result: &RunResult,
    c: &Claim,
    need: f64,
    yes: &[Stretch],
    maybe: &[Stretch],
    w: &Words,
) -> Verdict {
    let (what, verb) = (w.subject, w.verb);
    let healthy: Vec<series::Window> = series::healthy_windows(result)
        .into_iter()
        .filter(|w| !series::buckets_within(result, w.from_s, w.to_s).is_empty())
        .collect();
    let fired = fired_detail(result, yes, need, w);
    if healthy.is_empty() {
        let detail = format!("The run has no fault-free phase to tell a healthy state by: add a baseline before the first fault.{fired}");
        return c.inconclusive("no healthy phase", detail);
    }
    let inside = |s: &Stretch, w: &series::Window| {
        let from = s.from_s.max(w.from_s.ceil());
        let to = s.to_s.min(w.to_s.floor());
        (to > from).then_some((
            Stretch {
                from_s: from,
                to_s: to,
            },
            w.name.clone(),
        ))
    };
    let clip = |list: &[Stretch]| -> Vec<(Stretch, String)> {
        list.iter()
            .flat_map(|s| healthy.iter().filter_map(|w| inside(s, w)))
            .collect()
    };
    let (hy, hm) = (clip(yes), clip(maybe));
    let healthy_s: f64 = healthy
        .iter()
        .map(|w| series::buckets_within(result, w.from_s, w.to_s).len() as f64)
        .fold(0.0, |a, b| a + b);
    let held_s = hy.iter().map(|(s, _)| s.len()).fold(0.0, |a, b| a + b);
    let longest_window = healthy
        .iter()
        .map(|w| w.to_s.floor() - w.from_s.ceil())
        .fold(0.0, f64::max);
    let measured = format!("{} {held_s:.0} of {healthy_s:.0} s healthy", w.short);
    if let Some((s, phase)) = hy.iter().find(|(s, _)| s.len() >= need) {
        let detail = format!(
            "{} {verb} {} in the fault-free phase '{phase}' ({}, the alert waits {}): it would page while the \
             service is healthy.{fired}",
            capitalize(what),
            span(s.from_s, s.to_s),
            fmt_secs(s.len()),
            fmt_secs(need)
        );
        return c.fail(
            format!("{} {} while healthy", w.short, fmt_secs(s.len())),
            detail,
        );
    }
    if let Some((s, phase)) = hm.iter().find(|(s, _)| s.len() >= need) {
        let detail = format!(
            "In the fault-free phase '{phase}', {} the per-operation figures straddle the threshold (the condition \
             may have held for {}); a full client log would tell.{fired}",
            span(s.from_s, s.to_s),
            fmt_secs(s.len())
        );
        return c.inconclusive(measured, detail);
    }
    if longest_window >= need {
        let detail = format!(
            "{} {verb} in {held_s:.0} of {healthy_s:.0} s of fault-free phases, never {} in a row: it would not \
             page while the service is healthy.{fired}",
            capitalize(what),
            fmt_secs(need)
        );
        return c.pass(measured, detail);
    }
    let detail = format!(
        "The alert waits {} but the longest fault-free phase lasted {}, so it could not have fired there ({what} \
         {verb} in {held_s:.0} of {healthy_s:.0} s of it). A run with a baseline of at least {} would judge it.{fired}",
        fmt_secs(need),
        fmt_secs(longest_window),
        fmt_secs(need)
    );
    c.inconclusive(measured, detail)
}

/// " Over the whole run it held 13.0–29.0 s (16 s, during UserService abort): it would have fired
/// at 14.0 s." or why it would not have.
fn fired_detail(result: &RunResult, yes: &[Stretch], need: f64, w: &Words) -> String {
    if yes.is_empty() {
        return format!(
            " Over the whole run (after warmup) {} {}.",
            w.subject, w.never
        );
    }
    let parts: Vec<String> = yes
        .iter()
        .take(4)
        .map(|s| {
            let faults = series::faults_during(result, s.from_s, s.to_s);
            let during = if faults.is_empty() {
                String::new()
            } else {
                format!(", during {}", faults.join(", "))
            };
            format!("{} ({}{during})", span(s.from_s, s.to_s), fmt_secs(s.len()))
        })
        .collect();
    let more = if yes.len() > 4 {
        format!(" and {} more", yes.len() - 4)
    } else {
        String::new()
    };
    let fires: Vec<String> = yes
        .iter()
        .filter(|s| s.len() >= need)
        .map(|s| format!("{:.1} s", s.from_s + need))
        .collect();
    let verdict = if fires.is_empty() {
        format!(
            "never {} in a row, so the alert would not have fired",
            fmt_secs(need)
        )
    } else {
        format!("the alert would have fired at {}", fires.join(", "))
    };
    format!(
        " Over the whole run (after warmup) {} {} {}{more}: {verdict}.",
        w.subject,
        w.verb,
        parts.join(", ")
    )
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{
        AppliedFault, OpSecond, PhaseKind, PhaseStats, TimelineBucket, VerdictStatus::*,
    };

    /// 60 s at 100 requests/s: baseline 2–40 s, a fault 40–55 s. `errors(t)` 5xx per second,
    /// `p95(t)` the P95 of both operations.
    fn run(errors: impl Fn(u32) -> u64, p95: impl Fn(u32) -> (f64, f64)) -> RunResult {
        let timeline = (0..60)
            .map(|t| {
                let mut b = TimelineBucket {
                    t_s: t,
                    sent: 100,
                    completed: 100,
                    errors: errors(t),
                    ..TimelineBucket::default()
                };
                b.status_classes.insert("5xx".into(), errors(t));
                b.status_classes.insert("2xx".into(), 100 - errors(t));
                let (a, c) = p95(t);
                for (name, p) in [("get", a), ("put", c)] {
                    let op = OpSecond {
                        count: 50,
                        p95_ms: p,
                        ..OpSecond::default()
                    };
                    b.ops.insert(name.into(), op);
                }
                b
            })
            .collect();
        let phase = |name: &str, kind, from_s, to_s| PhaseStats {
            name: name.into(),
            kind,
            from_s,
            to_s,
            operations: Default::default(),
        };
        RunResult {
            duration_s: 60.0,
            warmup_s: 2.0,
            timeline,
            phases: vec![
                phase("warmup", PhaseKind::Warmup, 0.0, 2.0),
                phase("baseline", PhaseKind::Baseline, 2.0, 40.0),
                phase("fault:Db:abort", PhaseKind::Fault, 40.0, 55.0),
                phase("recovery", PhaseKind::Recovery, 55.0, 60.0),
            ],
            faults: vec![AppliedFault {
                dependency: "Db".into(),
                kind: "abort".into(),
                params: serde_json::json!({}),
                applied_at_s: 40.0,
                removed_at_s: Some(55.0),
                source: "schedule".into(),
            }],
            ..RunResult::default()
        }
    }

    fn alert(condition: AlertCondition) -> Claims {
        Claims {
            alerts: vec![Alert {
                name: "HighErrorRate".into(),
                condition,
                severity: Some("Critical".into()),
                line: 12,
            }],
            ..Claims::default()
        }
    }

    fn error_rate(for_s: f64) -> Claims {
        alert(AlertCondition::ErrorRate {
            threshold: 0.05,
            for_s: Some(for_s),
        })
    }

    fn verdict(r: &RunResult, c: &Claims) -> Verdict {
        let mut out = Judgement::default();
        judge(r, c, &JudgeContext::default(), &[], &mut out);
        assert_eq!(out.verdicts.len(), 1);
        out.verdicts.remove(0)
    }

    fn in_fault(t: u32) -> bool {
        (40..55).contains(&t)
    }

    #[test]
    fn quiet_in_the_baseline_passes_and_says_when_it_fires_in_the_fault() {
        let r = run(|t| if in_fault(t) { 50 } else { 1 }, |_| (10.0, 20.0));
        let v = verdict(&r, &error_rate(10.0));
        assert_eq!(v.status, Pass, "{v:?}");
        assert_eq!(v.id, "alert.higherrorrate");
        assert_eq!(v.measured, "held 0 of 38 s healthy");
        assert!(v.claim.contains("error rate > 5% for 10 s"), "{}", v.claim);
        assert!(
            v.detail
                .contains("held 40.0–55.0 s (15 s, during Db abort)"),
            "{}",
            v.detail
        );
        assert!(
            v.detail.contains("would have fired at 50.0 s"),
            "{}",
            v.detail
        );
    }

    #[test]
    fn a_condition_held_long_enough_in_the_baseline_fails() {
        let r = run(
            |t| if (10..22).contains(&t) { 8 } else { 0 },
            |_| (10.0, 20.0),
        );
        let v = verdict(&r, &error_rate(10.0));
        assert_eq!(v.status, Fail, "{v:?}");
        assert!(
            v.detail
                .contains("10.0–22.0 s in the fault-free phase 'baseline'"),
            "{}",
            v.detail
        );
        // A shorter stretch than the alert waits for does not page.
        let r = run(
            |t| if (10..15).contains(&t) { 8 } else { 0 },
            |_| (10.0, 20.0),
        );
        assert_eq!(verdict(&r, &error_rate(10.0)).status, Pass);
    }

    #[test]
    fn a_window_longer_than_the_baseline_is_inconclusive_and_says_so() {
        let r = run(|t| if in_fault(t) { 50 } else { 0 }, |_| (10.0, 20.0));
        let v = verdict(&r, &error_rate(300.0));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert!(v.detail.contains("waits 5 min"), "{}", v.detail);
        assert!(v.detail.contains("at least 5 min"), "{}", v.detail);
        assert!(v.detail.contains("would not have fired"), "{}", v.detail);
    }

    #[test]
    fn latency_is_judged_only_where_the_operations_agree() {
        let slow = alert(AlertCondition::Latency {
            percentile: 95.0,
            threshold_ms: 100.0,
            for_s: Some(5.0),
        });
        // Both operations over 100 ms for 8 s of the baseline: it pages.
        let r = run(
            |_| 0,
            |t| {
                if (5..13).contains(&t) {
                    (150.0, 300.0)
                } else {
                    (10.0, 20.0)
                }
            },
        );
        assert_eq!(verdict(&r, &slow).status, Fail);
        // One over, one under: the P95 of all requests lies between, so it cannot be told.
        let r = run(
            |_| 0,
            |t| {
                if (5..13).contains(&t) {
                    (50.0, 300.0)
                } else {
                    (10.0, 20.0)
                }
            },
        );
        let v = verdict(&r, &slow);
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert!(v.detail.contains("straddle"), "{}", v.detail);
        let r = run(|_| 0, |_| (10.0, 20.0));
        assert_eq!(verdict(&r, &slow).status, Pass);
    }

    #[test]
    fn conditions_redline_cannot_evaluate_are_inconclusive() {
        let r = run(|_| 0, |_| (10.0, 20.0));
        let v = verdict(
            &r,
            &alert(AlertCondition::Other {
                text: "Disk 90% full".into(),
            }),
        );
        assert_eq!(v.status, Inconclusive, "{v:?}");
        let c = alert(AlertCondition::Other {
            text: "Breaker open for more than 30s".into(),
        });
        let v = verdict(&r, &c);
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert!(v.detail.contains("dependency log"), "{}", v.detail);
        let v = verdict(&RunResult::default(), &error_rate(60.0));
        assert_eq!(v.status, Inconclusive, "{v:?}");
    }
}
