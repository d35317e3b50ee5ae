//! The readiness endpoint (`/ready`): it answers 2xx while the service accepts traffic. Judged from
//! the run's readiness samples (`RunResult::ready`, see `ready_samples`); a result without them
//! (written before runs sampled readiness) is judged from the health samples when the run sampled
//! that very path as its `health_path`, otherwise inconclusive, naming the run that would judge it.

use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::ready_samples;
use super::tolerance::fmt_t;
use crate::result::{HealthSample, RunResult, Verdict};
use crate::spec::claims::Claims;

/// Fewest samples taken while the service served traffic for a pass.
const MIN_SAMPLES: usize = 5;

/// "/ready/?x=1" and "/ready" are the same endpoint.
fn same_path(a: &str, b: &str) -> bool {
    let clean = |p: &str| {
        p.split('?')
            .next()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_ascii_lowercase()
    };
    clean(a) == clean(b)
}

pub fn judge(result: &RunResult, claims: &Claims, ctx: &JudgeContext, out: &mut Judgement) {
    let Some(hc) = &claims.health else { return };
    let Some(ready) = &hc.ready_path else { return };
    let c = Claim::new(
        "ready",
        format!("{ready} answers 2xx while the service accepts traffic"),
        spec_source(ctx, hc.line),
        "2xx while serving",
    );
    let v = match (&result.ready, ctx.health_path.as_deref()) {
        (Some(rs), _) if !rs.samples.is_empty() => ready_samples::judge(result, &c, ready, rs),
        (Some(rs), _) => c.inconclusive(
            "no samples",
            format!(
                "The run probed {} but ended before its first sample (one every 0.5 s): run longer.",
                rs.path
            ),
        ),
        (None, _) if result.health.is_empty() => c.inconclusive(
            "no samples",
            format!(
                "The run sampled no readiness endpoint: `redline run` with this spec samples {ready} by itself, \
                 or set `ready_path = \"{ready}\"` in the scenario's [target]."
            ),
        ),
        (None, p) => legacy(result, &c, ready, p),
    };
    out.verdicts.push(v);
}

/// A result without readiness samples: judged from the health samples when they probed `ready`.
fn legacy(result: &RunResult, c: &Claim, ready: &str, health_path: Option<&str>) -> Verdict {
    match health_path {
        Some(p) if same_path(p, ready) => judge_samples(result, c, ready),
        Some(p) => c.inconclusive(
            format!("sampled {p} instead"),
            format!(
                "The run sampled {p}, not {ready}, and no readiness samples: a run with \
                 `ready_path = \"{ready}\"` in the scenario's [target] would judge it."
            ),
        ),
        None => c.inconclusive(
            "path not known",
            format!(
                "The result holds health samples but not which path they probed: judge it from the scenario \
                 (its `health_path`), or run with `ready_path = \"{ready}\"`."
            ),
        ),
    }
}

/// True when clients got answers in the second of the sample (the service was accepting traffic);
/// without a timeline every sample counts.
fn serving(result: &RunResult, s: &HealthSample) -> bool {
    if result.timeline.is_empty() {
        return true;
    }
    let t = s.t_s.floor().max(0.0) as u32;
    result
        .timeline
        .iter()
        .any(|b| b.t_s == t && b.completed > 0)
}

fn judge_samples(result: &RunResult, c: &Claim, ready: &str) -> Verdict {
    let samples: Vec<&HealthSample> = result
        .health
        .iter()
        .filter(|s| serving(result, s))
        .collect();
    let bad: Vec<&&HealthSample> = samples
        .iter()
        .filter(|s| !s.status.is_some_and(|x| (200..300).contains(&x)))
        .collect();
    let measured = format!("{} of {} not 2xx", bad.len(), samples.len());
    if let Some(first) = bad.first() {
        let what = first
            .status
            .map_or("no answer".to_string(), |s| format!("{s}"));
        let detail = format!(
            "{ready} answered {what} at {} while the service was answering clients ({} of {} samples not 2xx): \
             it reports not ready while it serves traffic.",
            fmt_t(first.t_s * 1000.0),
            bad.len(),
            samples.len()
        );
        return c.fail(measured, detail);
    }
    if samples.len() < MIN_SAMPLES {
        let detail = format!(
            "Only {} sample(s) of {ready} fell while the service served traffic; at least {MIN_SAMPLES} are needed: \
             run longer.",
            samples.len()
        );
        return c.inconclusive(measured, detail);
    }
    let detail = format!(
        "Every one of {} samples of {ready} taken while the service answered clients was 2xx.",
        samples.len()
    );
    c.pass(measured, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ReadySamples, TimelineBucket, VerdictStatus::*};
    use crate::spec::claims::HealthCheck;

    fn claims() -> Claims {
        Claims {
            health: Some(HealthCheck {
                path: "/health".into(),
                ready_path: Some("/ready".into()),
                states: vec![],
                line: 9,
            }),
            ..Claims::default()
        }
    }

    /// 10 s of traffic, /ready sampled twice a second with `status(t)`.
    fn run(status: impl Fn(f64) -> Option<u16>) -> RunResult {
        RunResult {
            duration_s: 10.0,
            timeline: (0..10)
                .map(|t| TimelineBucket {
                    t_s: t,
                    completed: 50,
                    ..TimelineBucket::default()
                })
                .collect(),
            health: (0..20)
                .map(|i| {
                    let t_s = f64::from(i) * 0.5;
                    HealthSample {
                        t_s,
                        status: status(t_s),
                        state: None,
                    }
                })
                .collect(),
            ..RunResult::default()
        }
    }

    fn verdict(r: &RunResult, path: Option<&str>) -> Verdict {
        let ctx = JudgeContext {
            health_path: path.map(str::to_string),
            ..JudgeContext::default()
        };
        let mut out = Judgement::default();
        judge(r, &claims(), &ctx, &mut out);
        assert_eq!(out.verdicts.len(), 1);
        out.verdicts.remove(0)
    }

    #[test]
    fn ready_while_serving_passes() {
        let v = verdict(&run(|_| Some(200)), Some("/ready"));
        assert_eq!(v.status, Pass, "{v:?}");
        assert_eq!(v.measured, "0 of 20 not 2xx");
        assert_eq!(v.source, "spec.md:9");
    }

    #[test]
    fn not_ready_while_serving_fails() {
        let v = verdict(
            &run(|t| if t >= 4.0 { Some(503) } else { Some(200) }),
            Some("/ready/"),
        );
        assert_eq!(v.status, Fail, "{v:?}");
        assert!(v.detail.contains("503 at 4.0 s"), "{}", v.detail);
    }

    #[test]
    fn samples_of_another_path_or_none_are_inconclusive() {
        let v = verdict(&run(|_| Some(200)), Some("/health"));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        assert!(v.detail.contains("ready_path = \"/ready\""), "{}", v.detail);
        let v = verdict(&RunResult::default(), Some("/ready"));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        let v = verdict(&run(|_| Some(200)), None);
        assert_eq!(v.status, Inconclusive, "{v:?}");
    }

    /// `run` with the samples moved into `RunResult::ready` (a run that sampled readiness).
    fn sampled(status: impl Fn(f64) -> Option<u16>) -> RunResult {
        let mut r = run(status);
        let samples = std::mem::take(&mut r.health);
        r.ready = Some(ReadySamples {
            path: "/ready".into(),
            samples,
        });
        r
    }

    #[test]
    fn readiness_samples_judge_it_whatever_the_health_path() {
        let v = verdict(&sampled(|_| Some(200)), Some("/health"));
        assert_eq!(v.status, Pass, "{v:?}");
        assert!(
            v.detail
                .contains("Every one of 20 answered samples of /ready"),
            "{}",
            v.detail
        );
        assert!(v.detail.contains("shutdown"), "{}", v.detail);

        let v = verdict(&sampled(|t| Some(if t >= 6.0 { 503 } else { 200 })), None);
        assert_eq!(v.status, Fail, "{v:?}");
        assert_eq!(v.measured, "8 of 20 not 2xx");
        assert!(v.detail.contains("answered 503 at 6.0 s"), "{}", v.detail);

        let mut r = sampled(|_| Some(200));
        r.ready.as_mut().unwrap().samples[3].state = Some("not_ready".into());
        let v = verdict(&r, None);
        assert_eq!(v.status, Fail, "{v:?}");
        assert!(
            v.detail.contains("200 saying not ready at 1.5 s"),
            "{}",
            v.detail
        );

        let mut r = sampled(|_| Some(200));
        r.ready.as_mut().unwrap().samples.clear();
        assert_eq!(verdict(&r, None).status, Inconclusive);
    }

    #[test]
    fn seconds_answered_only_with_5xx_do_not_count_and_fault_phases_are_described() {
        // Clients got only 503 from 4 s to 6 s, when /ready said 503 too: consistent.
        let mut r = sampled(|t| Some(if (4.0..6.0).contains(&t) { 503 } else { 200 }));
        for b in &mut r.timeline {
            let class = if (4..6).contains(&b.t_s) {
                "5xx"
            } else {
                "2xx"
            };
            b.status_classes.insert(class.into(), 50);
        }
        r.phases.push(crate::result::PhaseStats {
            name: "fault:db:abort".into(),
            kind: crate::result::PhaseKind::Fault,
            from_s: 3.0,
            to_s: 6.0,
            operations: Default::default(),
        });
        let v = verdict(&r, None);
        assert_eq!(v.status, Pass, "{v:?}");
        assert_eq!(v.measured, "0 of 16 not 2xx");
        assert!(
            v.detail
                .contains("4 not-ready answer(s) fell in seconds when every client answer was 5xx"),
            "{}",
            v.detail
        );
        assert!(
            v.detail.contains(
                "During the fault phases (fault:db:abort 3.0–6.0 s): 6 samples, 2 × 200, 4 × 503."
            ),
            "{}",
            v.detail
        );
    }

    #[test]
    fn a_few_unanswered_probes_are_tolerated_many_fail() {
        let v = verdict(&sampled(|t| if t == 2.0 { None } else { Some(200) }), None);
        assert_eq!(v.status, Pass, "{v:?}");
        assert!(v.detail.contains("1 probe(s) unanswered"), "{}", v.detail);
        let v = verdict(&sampled(|t| if t >= 7.0 { None } else { Some(200) }), None);
        assert_eq!(v.status, Fail, "{v:?}");
        assert_eq!(v.measured, "6 of 20 unanswered");
    }
}
