//! The readiness claim judged from the run's own `/ready` samples (`RunResult::ready`): 2xx
//! whenever clients were being served, with what the endpoint said during the fault phases.
//!
//! "Accepting traffic" is read from the client side: a second in which clients got answers. A
//! not-ready answer in a second when every client answer was 5xx is excused (a service refusing all
//! traffic may fairly say it is not ready) and named in the detail; seconds when clients got no
//! answer at all are left out. A probe unanswered within its 1 s is not an answer; a few are
//! tolerated (a busy host delays a probe), more than `MAX_UNANSWERED` fail.

use std::collections::BTreeMap;

use super::model::Claim;
use super::tolerance::{fmt_pct, fmt_t};
use crate::result::{HealthSample, PhaseKind, ReadySamples, RunResult, TimelineBucket, Verdict};

/// Fewest 2xx samples taken while the service served traffic for a pass.
const MIN_SAMPLES: usize = 5;
/// Largest share of unanswered probes (while serving) still put down to the probe, not the service.
const MAX_UNANSWERED: f64 = 0.1;

/// What clients got in the second of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clients {
    /// No answer at all (or no such second).
    Unanswered,
    /// Answers, every one of them 5xx.
    Only5xx,
    /// At least one answer other than 5xx.
    Served,
}

fn clients(result: &RunResult, s: &HealthSample) -> Clients {
    if result.timeline.is_empty() {
        return Clients::Served;
    }
    let t = s.t_s.floor().max(0.0) as u32;
    let Some(b) = result.timeline.iter().find(|b| b.t_s == t) else {
        return Clients::Unanswered;
    };
    classify(b)
}

fn classify(b: &TimelineBucket) -> Clients {
    if b.status_classes.is_empty() {
        return if b.completed > b.errors {
            Clients::Served
        } else {
            Clients::Unanswered
        };
    }
    let count = |five: bool| {
        b.status_classes
            .iter()
            .filter(|(class, _)| (class.as_str() == "5xx") == five)
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    match (count(false), count(true)) {
        (0, 0) => Clients::Unanswered,
        (0, _) => Clients::Only5xx,
        _ => Clients::Served,
    }
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
        (Some(code @ 200..=299), Some("not_ready")) => format!("{code} saying not ready"),
        (Some(code), _) => code.to_string(),
        (None, _) => "no answer".to_string(),
    }
}

pub fn judge(result: &RunResult, c: &Claim, spec_path: &str, rs: &ReadySamples) -> Verdict {
    let path = rs.path.as_str();
    let seen: Vec<(&HealthSample, Clients)> =
        rs.samples.iter().map(|s| (s, clients(result, s))).collect();
    let left_out = seen
        .iter()
        .filter(|(_, k)| *k == Clients::Unanswered)
        .count();
    let excused = seen
        .iter()
        .filter(|(s, k)| *k == Clients::Only5xx && not_ready(s))
        .count();
    let counted: Vec<&HealthSample> = seen
        .iter()
        .filter(|(s, k)| *k == Clients::Served || (*k == Clients::Only5xx && !not_ready(s)))
        .map(|(s, _)| *s)
        .collect();
    let bad: Vec<&&HealthSample> = counted.iter().filter(|s| not_ready(s)).collect();
    let unanswered = counted.iter().filter(|s| s.status.is_none()).count();
    let good = counted.len() - unanswered - bad.len();
    let measured = format!("{} of {} not 2xx", bad.len(), counted.len());
    let mut context = String::new();
    if path != spec_path {
        context.push_str(&format!(
            " Probed {path} (the scenario's ready_path); the spec names {spec_path}."
        ));
    }
    if excused > 0 {
        context.push_str(&format!(
            " {excused} not-ready answer(s) fell in seconds when every client answer was 5xx: consistent \
             with not accepting traffic, not counted."
        ));
    }
    if left_out > 0 {
        context.push_str(&format!(
            " {left_out} sample(s) fell in seconds when clients got no answer, and were not counted."
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
    if good < MIN_SAMPLES {
        let detail = format!(
            "Only {good} 2xx sample(s) of {path} fell while the service answered clients; at least \
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
        "Every one of {good} answered samples of {path} taken while clients were being answered was 2xx\
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
