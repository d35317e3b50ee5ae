//! The readiness claim judged from the run's own `/ready` samples (`RunResult::ready`): 2xx
//! whenever clients were being served, with what the endpoint said during the fault phases.
//!
//! "Accepting traffic" is read from the client side: a second in which clients got at least one
//! answer other than 5xx. Seconds with only 5xx answers (or none) are left out, since a service that
//! answers everything 503 may fairly say it is not ready. A probe unanswered within its 1 s is not
//! an answer; a few are tolerated (a busy host delays a probe), more than `MAX_UNANSWERED` fail.

use std::collections::BTreeMap;

use super::tolerance::{fmt_pct, fmt_t};
use super::Claim;
use crate::result::{HealthSample, PhaseKind, ReadySamples, RunResult, Verdict};

/// Fewest answered samples taken while the service served traffic for a pass.
const MIN_SAMPLES: usize = 5;
/// Largest share of unanswered probes (while serving) still put down to the probe, not the service.
const MAX_UNANSWERED: f64 = 0.1;

/// True when clients got an answer other than 5xx in the second of the sample; without a
/// timeline every sample counts.
fn serving(result: &RunResult, s: &HealthSample) -> bool {
    if result.timeline.is_empty() {
        return true;
    }
    let t = s.t_s.floor().max(0.0) as u32;
    result.timeline.iter().any(|b| {
        b.t_s == t
            && if b.status_classes.is_empty() {
                b.completed > b.errors
            } else {
                b.status_classes
                    .iter()
                    .any(|(class, n)| class != "5xx" && *n > 0)
            }
    })
}

/// The endpoint said it was not ready: a non-2xx status, or a 2xx whose body said not ready.
fn not_ready(s: &HealthSample) -> bool {
    match s.status {
        Some(200..=299) => s.state.as_deref() == Some("not_ready"),
        Some(_) => true,
        None => false,
    }
}

fn answer(s: &HealthSample) -> String {
    match (s.status, s.state.as_deref()) {
        (Some(code), Some("not_ready")) => format!("{code} saying not ready"),
        (Some(code), _) => code.to_string(),
        (None, _) => "no answer".to_string(),
    }
}

pub fn judge(result: &RunResult, c: &Claim, spec_path: &str, rs: &ReadySamples) -> Verdict {
    let path = rs.path.as_str();
    let (counted, skipped): (Vec<&HealthSample>, Vec<&HealthSample>) =
        rs.samples.iter().partition(|s| serving(result, s));
    let bad: Vec<&&HealthSample> = counted.iter().filter(|s| not_ready(s)).collect();
    let unanswered = counted.iter().filter(|s| s.status.is_none()).count();
    let answered = counted.len() - unanswered;
    let measured = format!("{} of {} not 2xx", bad.len(), counted.len());
    let mut context = String::new();
    if path != spec_path {
        context.push_str(&format!(
            " Probed {path} (the scenario's ready_path); the spec names {spec_path}."
        ));
    }
    if !skipped.is_empty() {
        context.push_str(&format!(
            " {} sample(s) fell in seconds when clients got only 5xx or no answer, and were not counted.",
            skipped.len()
        ));
    }
    context.push_str(&during_faults(result, &rs.samples));
    if let Some(first) = bad.first() {
        let detail = format!(
            "{path} answered {} at {} while the service was answering clients ({} of {} samples not ready): \
             it reports not ready while it serves traffic.{context}",
            answer(first),
            fmt_t(first.t_s * 1000.0),
            bad.len(),
            counted.len()
        );
        return c.fail(measured, detail);
    }
    let share = unanswered as f64 / counted.len().max(1) as f64;
    if share > MAX_UNANSWERED {
        let detail = format!(
            "{path} did not answer {unanswered} of {} probes within 1 s while clients were being answered \
             (more than {} allowed for a busy host).{context}",
            counted.len(),
            fmt_pct(MAX_UNANSWERED)
        );
        return c.fail(
            format!("{unanswered} of {} unanswered", counted.len()),
            detail,
        );
    }
    if answered < MIN_SAMPLES {
        let detail = format!(
            "Only {answered} answered sample(s) of {path} fell while the service served traffic; at least \
             {MIN_SAMPLES} are needed: run longer.{context}"
        );
        return c.inconclusive(measured, detail);
    }
    let tolerated = if unanswered > 0 {
        format!(" ({unanswered} probe(s) unanswered within 1 s, put down to the busy host)")
    } else {
        String::new()
    };
    let detail = format!(
        "Every one of {answered} answered samples of {path} taken while clients were being served was 2xx\
         {tolerated}.{context} The 503-once-shutdown-begins half is not exercised: a run does not stop the service."
    );
    c.pass(measured, detail)
}

/// " During the fault phases (fault:UserService:abort 17.0–20.0 s, ...): 24 samples, 24 × 200."
fn during_faults(result: &RunResult, samples: &[HealthSample]) -> String {
    let faults: Vec<_> = result
        .phases
        .iter()
        .filter(|p| p.kind == PhaseKind::Fault)
        .collect();
    if faults.is_empty() {
        return String::new();
    }
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for s in samples {
        if faults.iter().any(|p| s.t_s >= p.from_s && s.t_s < p.to_s) {
            n += 1;
            *answers.entry(answer(s)).or_default() += 1;
        }
    }
    let names: Vec<String> = faults
        .iter()
        .map(|p| format!("{} {:.1}–{:.1} s", p.name, p.from_s, p.to_s))
        .collect();
    let seen: Vec<String> = answers.iter().map(|(a, k)| format!("{k} × {a}")).collect();
    let seen = if seen.is_empty() {
        "none".to_string()
    } else {
        seen.join(", ")
    };
    format!(
        " During the fault phases ({}): {n} samples, {seen}.",
        names.join(", ")
    )
}
