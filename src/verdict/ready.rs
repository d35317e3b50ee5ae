//! The readiness endpoint (`/ready`): it answers 2xx while the service accepts traffic. Judged from
//! the health samples when the run sampled that very path; otherwise inconclusive, naming the run
//! that would judge it (a run samples one endpoint, its `health_path`).

use super::tolerance::fmt_t;
use super::{spec_source, Claim, JudgeContext, Judgement};
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
    let v = match ctx.health_path.as_deref() {
        _ if result.health.is_empty() => c.inconclusive(
            "no samples",
            format!(
                "The run sampled no endpoint: a run with `health_path = \"{ready}\"` in the scenario's [target] \
                 would judge it."
            ),
        ),
        Some(p) if same_path(p, ready) => judge_samples(result, &c, ready),
        Some(p) => c.inconclusive(
            format!("sampled {p} instead"),
            format!(
                "The run sampled {p}, not {ready}, and a run samples one endpoint: a run with \
                 `health_path = \"{ready}\"` would judge it."
            ),
        ),
        None => c.inconclusive(
            "path not known",
            format!(
                "The result holds health samples but not which path they probed: judge it from the scenario \
                 (its `health_path`), or run with `health_path = \"{ready}\"`."
            ),
        ),
    };
    out.verdicts.push(v);
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
    use crate::result::{TimelineBucket, VerdictStatus::*};
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
        assert!(
            v.detail.contains("health_path = \"/ready\""),
            "{}",
            v.detail
        );
        let v = verdict(&RunResult::default(), Some("/ready"));
        assert_eq!(v.status, Inconclusive, "{v:?}");
        let v = verdict(&run(|_| Some(200)), None);
        assert_eq!(v.status, Inconclusive, "{v:?}");
    }
}
