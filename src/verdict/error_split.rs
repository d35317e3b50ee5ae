//! How the error-rate rule counts a phase's answers: transport failures and 5xx are errors, the
//! promised fallback in a down window is neither error nor success. Shared by the error-rate and
//! availability verdicts (`errors.rs`) and the report's answer tables, so both count alike.

use std::collections::BTreeMap;

use super::evidence;
use crate::result::{ClientLogEntry, FallbackWindow, OperationStats, PhaseKind, RunResult};

/// Errors as this module counts them: failures other than an unexpected status (and requests the
/// generator cancelled at the end of the run), plus 5xx answers and gRPC answers whose status is
/// a server-side failure (UNAVAILABLE, INTERNAL ...: the 5xx of gRPC; DEADLINE_EXCEEDED is
/// already counted as a timeout).
fn errors_of(s: &OperationStats, excused: Option<&FallbackWindow>) -> (u64, u64) {
    let http = excused.and_then(|w| w.status);
    let grpc = excused.and_then(|w| w.grpc_status);
    let mut transport: u64 = s
        .error_kinds
        .iter()
        .filter(|(k, _)| !k.contains("status") && k.as_str() != "cancelled")
        .map(|(_, v)| v)
        .sum();
    let (mut server, mut fallback) = (0, 0);
    for (code, n) in &s.status {
        let Ok(code) = code.parse::<u16>() else {
            continue;
        };
        if Some(code) == http {
            fallback += n;
        } else if code >= 500 {
            server += n;
        }
    }
    // A gRPC fallback (UNAVAILABLE) is told by name; DEADLINE_EXCEEDED was counted as a timeout.
    for (name, n) in &s.grpc_status {
        let code = redline_proxy::http::h2::grpc::parse_status(name);
        if grpc.is_some_and(|g| code == Some(u32::from(g))) {
            fallback += n;
            if code == Some(4) {
                transport = transport.saturating_sub(*n);
            }
        } else if evidence::grpc_answer_failed(name) {
            server += n;
        }
    }
    (transport + server, fallback)
}

/// One request name's answers in one phase, by the error-rate rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Split {
    /// Requests settled (those the generator cancelled at the end of the run left out).
    pub requests: u64,
    /// Transport failures and 5xx answers that were not the promised fallback.
    pub errors: u64,
    /// Answers with the spec's fallback status while its dependency was down.
    pub fallback: u64,
}

impl Split {
    pub fn add(&mut self, other: Split) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.fallback += other.fallback;
    }
}

/// The statuses a fallback window promises (HTTP and/or gRPC), said as "503", "UNAVAILABLE".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Promised {
    pub http: Option<u16>,
    pub grpc: Option<u8>,
}

impl std::fmt::Display for Promised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = crate::spec::claims::fallback_statuses(self.http, self.grpc);
        f.write_str(text.as_deref().unwrap_or("?"))
    }
}

/// A phase's answers split per request name, and how the fallback answers were told apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhaseSplit {
    pub per_request: BTreeMap<String, Split>,
    /// The fallback status excused in this phase ("503", "UNAVAILABLE") and how (None: no window
    /// overlaps the phase).
    pub excused: Option<(Promised, &'static str)>,
}

/// Splits one phase's answers (`ops`, the phase's statistics per request name, over
/// [from_s, to_s)) into errors and fallback answers, given the windows in which a fallback status
/// was the promised answer. The error-rate verdicts and the report's tables both count this way,
/// so a table never shows as errors what a verdict left out. With the client log covering the
/// phase each request is placed in time; without it, every answer with the fallback status in a
/// phase that overlaps a window is taken as the fallback.
pub(crate) fn split_phase(
    result: &RunResult,
    from_s: f64,
    to_s: f64,
    ops: &BTreeMap<String, OperationStats>,
    windows: &[FallbackWindow],
) -> PhaseSplit {
    let (from, to) = (from_s * 1000.0, to_s * 1000.0);
    let overlapping: Vec<&FallbackWindow> = windows
        .iter()
        .filter(|w| w.from_ms < to && w.to_ms > from)
        .collect();
    if overlapping.is_empty() {
        return PhaseSplit {
            per_request: split_stats(ops, None),
            excused: None,
        };
    }
    let first = overlapping[0];
    let status = Promised {
        http: first.status,
        grpc: first.grpc_status,
    };
    if evidence::client_log_covers(result, from, to) {
        PhaseSplit {
            per_request: split_log(result, from, to, &overlapping),
            excused: Some((
                status,
                "sent while the dependency was down or its breaker open",
            )),
        }
    } else {
        PhaseSplit {
            per_request: split_stats(ops, Some(first)),
            excused: Some((
                status,
                "no client log to tell them apart, so every one in this phase was taken as the fallback",
            )),
        }
    }
}

fn split_stats(
    ops: &BTreeMap<String, OperationStats>,
    excused: Option<&FallbackWindow>,
) -> BTreeMap<String, Split> {
    ops.iter()
        .map(|(name, s)| {
            let (errors, fallback) = errors_of(s, excused);
            let requests = s
                .count
                .saturating_sub(s.error_kinds.get("cancelled").copied().unwrap_or(0));
            (
                name.clone(),
                Split {
                    requests,
                    errors,
                    fallback,
                },
            )
        })
        .collect()
}

fn split_log(
    result: &RunResult,
    from: f64,
    to: f64,
    windows: &[&FallbackWindow],
) -> BTreeMap<String, Split> {
    let mut out: BTreeMap<String, Split> = BTreeMap::new();
    for c in evidence::client_entries(result, from, to) {
        let answer = classify(c, windows.iter().copied());
        if answer == Answer::Cancelled {
            continue;
        }
        let split = out.entry(c.request.clone()).or_default();
        split.requests += 1;
        match answer {
            Answer::Fallback => split.fallback += 1,
            Answer::Error => split.errors += 1,
            Answer::Ok | Answer::Cancelled => {}
        }
    }
    out
}

/// What one logged request was, by the error-rate rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Ok,
    Error,
    Fallback,
    /// Cancelled by the generator at the end of the run: not counted.
    Cancelled,
}

fn classify<'a>(
    c: &ClientLogEntry,
    mut windows: impl Iterator<Item = &'a FallbackWindow>,
) -> Answer {
    if c.error.as_deref() == Some("cancelled") {
        return Answer::Cancelled;
    }
    let excused = windows.any(|w| {
        evidence::is_fallback_answer(w.status, w.grpc_status, c.status, c.grpc_status)
            && c.t_ms >= w.from_ms
            && c.t_ms < w.to_ms
    });
    let transport = c.status.is_none() && c.error.is_some();
    let grpc_failed = c.grpc_status.is_some_and(evidence::grpc_code_failed);
    if excused {
        Answer::Fallback
    } else if transport || grpc_failed || c.status.is_some_and(|s| s >= 500) {
        Answer::Error
    } else {
        Answer::Ok
    }
}

/// Every logged request with its send time (ms) and what it was by the error-rate rule, when
/// the client log holds the whole run; None otherwise (a bounded sample cannot be counted).
pub(crate) fn logged_answers(
    result: &RunResult,
    windows: &[FallbackWindow],
) -> Option<Vec<(f64, Answer)>> {
    if !evidence::client_log_covers(result, 0.0, result.duration_s * 1000.0) {
        return None;
    }
    Some(
        result
            .client_log
            .iter()
            .map(|c| (c.t_ms, classify(c, windows.iter())))
            .collect(),
    )
}

/// The phases the rule is applied to: the run's phases, or the whole run as one when it has none.
/// (name, kind, from_s, to_s, statistics per request name).
pub(crate) fn phase_views(result: &RunResult) -> Vec<PhaseView<'_>> {
    if result.phases.is_empty() {
        vec![(
            "run".into(),
            PhaseKind::Custom,
            0.0,
            result.duration_s,
            &result.operations,
        )]
    } else {
        result
            .phases
            .iter()
            .map(|p| (p.name.clone(), p.kind, p.from_s, p.to_s, &p.operations))
            .collect()
    }
}

/// (name, kind, from_s, to_s, statistics per request name) of one phase.
pub(crate) type PhaseView<'a> = (
    String,
    PhaseKind,
    f64,
    f64,
    &'a BTreeMap<String, OperationStats>,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn window(status: Option<u16>, grpc_status: Option<u8>) -> FallbackWindow {
        FallbackWindow {
            dependency: "Inventory".into(),
            status,
            grpc_status,
            from_ms: 1000.0,
            to_ms: 2000.0,
        }
    }

    fn call(t_ms: f64, grpc_status: u8) -> ClientLogEntry {
        ClientLogEntry {
            t_ms,
            request: "get".into(),
            request_id: None,
            trace_id: None,
            status: Some(200),
            error: (grpc_status != 0).then(|| "grpc_status".into()),
            latency_ms: 1.0,
            retry_after: false,
            grpc_status: Some(grpc_status),
        }
    }

    #[test]
    fn a_grpc_fallback_is_excused_by_its_grpc_status_in_its_window() {
        let grpc = [window(None, Some(14))];
        assert_eq!(classify(&call(1500.0, 14), grpc.iter()), Answer::Fallback);
        assert_eq!(classify(&call(2500.0, 14), grpc.iter()), Answer::Error);
        assert_eq!(classify(&call(1500.0, 13), grpc.iter()), Answer::Error);
        // An HTTP 503 fallback does not excuse a gRPC call's UNAVAILABLE.
        let http = [window(Some(503), None)];
        assert_eq!(classify(&call(1500.0, 14), http.iter()), Answer::Error);
        // Without a client log the counts by grpc-status name are split the same way.
        let s = OperationStats {
            count: 10,
            status: [("200".to_string(), 10)].into(),
            error_kinds: [("grpc_status".to_string(), 6), ("timeout".to_string(), 1)].into(),
            grpc_status: [
                ("OK".to_string(), 3),
                ("UNAVAILABLE".to_string(), 6),
                ("DEADLINE_EXCEEDED".to_string(), 1),
            ]
            .into(),
            ..OperationStats::default()
        };
        assert_eq!(errors_of(&s, Some(&grpc[0])), (1, 6));
        assert_eq!(errors_of(&s, Some(&window(None, Some(4)))), (6, 1));
        assert_eq!(errors_of(&s, None), (7, 0));
        assert_eq!(
            Promised {
                http: None,
                grpc: Some(14)
            }
            .to_string(),
            "UNAVAILABLE"
        );
    }
}
