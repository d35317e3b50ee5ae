//! Fallback: while the dependency is unavailable (breaker open, or the fault window when no breaker
//! opened) clients get the claimed fallback (a status such as 503, a gRPC status such as UNAVAILABLE to
//! a gRPC caller, or a successful degraded answer),
//! and while the breaker is open they get it fast (far below the dependency timeout).

use std::collections::{BTreeMap, BTreeSet};

use super::breaker::down_throughout;
use super::breaker::Observation;
use super::evidence;
use super::matching::slug;
use super::model::{spec_source, Claim, JudgeContext, Judgement};
use super::tolerance::{explain, fmt_ms, fmt_pct, fmt_t};
use crate::result::{ClientLogEntry, RunResult, Verdict};
use crate::spec::claims::{Claims, Dependency};

/// Fewest client requests during unavailability for a fallback verdict.
pub const MIN_REQUESTS: usize = 5;
/// Share of those requests that must match the fallback.
const MIN_MATCH: f64 = 0.95;

enum Expect {
    /// The status(es) the fallback names: an HTTP one, a gRPC one, or both (each caller is
    /// answered in its own protocol).
    Status {
        http: Option<u16>,
        grpc: Option<u8>,
    },
    AnyServerError,
    Success,
}

impl Expect {
    fn of(d: &Dependency) -> Option<Expect> {
        match (
            d.fallback_status,
            d.fallback_grpc_status,
            &d.fallback,
            d.critical,
        ) {
            (http, grpc, _, _) if http.is_some() || grpc.is_some() => {
                Some(Expect::Status { http, grpc })
            }
            (_, _, _, true) => Some(Expect::AnyServerError),
            (_, _, Some(_), false) => Some(Expect::Success),
            (_, _, None, false) => None,
        }
    }
    /// Whether a client's answer is the fallback. A gRPC answer (HTTP 200 with a `grpc-status`)
    /// is judged by its gRPC status: a degraded success is OK, an HTTP status names the HTTP
    /// answer only.
    fn accepts(&self, c: &ClientLogEntry) -> bool {
        let Some(x) = c.status else {
            return false;
        };
        let grpc_ok = c.grpc_status.is_none_or(|g| g == 0);
        match self {
            Expect::Status { http, grpc } => {
                evidence::is_fallback_answer(*http, *grpc, c.status, c.grpc_status)
            }
            Expect::AnyServerError => {
                x >= 500 || c.grpc_status.is_some_and(evidence::grpc_code_failed)
            }
            Expect::Success => (200..300).contains(&x) && grpc_ok,
        }
    }
    fn describe(&self) -> String {
        match self {
            Expect::Status { http, grpc } => {
                let grpc = grpc.map(|g| format!("gRPC status {}", evidence::grpc_name(g)));
                match (http, grpc) {
                    (Some(h), Some(g)) => format!("status {h} or {g}"),
                    (Some(h), None) => format!("status {h}"),
                    (None, Some(g)) => g,
                    (None, None) => "a status".into(),
                }
            }
            Expect::AnyServerError => {
                "a 5xx error or a server-side gRPC status (no fallback: critical)".into()
            }
            Expect::Success => "a successful degraded answer (2xx)".into(),
        }
    }
}

pub fn judge(
    result: &RunResult,
    claims: &Claims,
    ctx: &JudgeContext,
    observed: &[Observation],
    out: &mut Judgement,
) {
    for obs in observed.iter().filter(|o| !o.windows.is_empty()) {
        let Some(d) = evidence::spec_dependency(claims, ctx, &obs.dependency) else {
            continue;
        };
        let Some(expect) = Expect::of(d) else {
            continue;
        };
        out.verdicts
            .extend(judge_dependency(result, ctx, obs, d, &expect));
    }
}

/// When each correlated request first reached the dependency.
fn first_calls(obs: &Observation) -> BTreeMap<&str, f64> {
    let mut out: BTreeMap<&str, f64> = BTreeMap::new();
    for e in &obs.log {
        if let Some(id) = e.correlation_id.as_deref() {
            let t = out.entry(id).or_insert(e.t_ms);
            *t = t.min(e.t_ms);
        }
    }
    out
}

/// Request names whose requests reached the dependency (by correlation id); None: cannot tell.
fn dependent_requests(result: &RunResult, obs: &Observation) -> Option<BTreeSet<String>> {
    let ids: BTreeSet<&str> = obs
        .log
        .iter()
        .filter_map(|e| e.correlation_id.as_deref())
        .collect();
    let names: BTreeSet<String> = result
        .client_log
        .iter()
        .filter(|c| c.request_id.as_deref().is_some_and(|id| ids.contains(id)))
        .map(|c| c.request.clone())
        .collect();
    (!names.is_empty()).then_some(names)
}

fn judge_dependency(
    result: &RunResult,
    ctx: &JudgeContext,
    obs: &Observation,
    d: &Dependency,
    expect: &Expect,
) -> Vec<Verdict> {
    let source = spec_source(ctx, d.line);
    let id = format!("fallback.{}", slug(&d.name));
    let fallback = d
        .fallback
        .clone()
        .unwrap_or_else(|| "no fallback (critical)".into());
    let claim = format!(
        "While {} is unavailable, clients get its fallback: {fallback}",
        d.name
    );
    let run_end = result.duration_s * 1000.0;
    let open: Vec<(f64, f64)> = obs
        .episodes
        .iter()
        .map(|e| (e.opened_at_ms, e.resumed_at_ms.unwrap_or(run_end)))
        .collect();
    let (intervals, during) = if open.is_empty() {
        let failing: Vec<(f64, f64)> = obs
            .windows
            .iter()
            .filter(|w| down_throughout(obs, w))
            .map(|w| (w.from_ms, w.to_ms))
            .collect();
        (
            failing,
            "during a fault that failed every call (no breaker opened)",
        )
    } else {
        (open.clone(), "while the breaker was open")
    };
    let names = dependent_requests(result, obs);
    // A request sent just before the breaker let probes through can become a probe itself: its
    // call reaches the dependency at or after the interval's end, and its answer is the
    // dependency's, not the fallback. Those are left out (by correlation id).
    let first_call = first_calls(obs);
    let is_probe = |c: &ClientLogEntry, end: f64| {
        c.request_id
            .as_deref()
            .and_then(|id| first_call.get(id))
            .is_some_and(|t| *t >= end)
    };
    let mut probes = 0usize;
    let entries: Vec<&ClientLogEntry> = intervals
        .iter()
        .flat_map(|(a, b)| {
            evidence::client_entries(result, *a, *b)
                .into_iter()
                .map(move |c| (c, *b))
        })
        .filter(|(c, _)| names.as_ref().is_none_or(|n| n.contains(&c.request)))
        .filter(|(c, end)| {
            let probe = is_probe(c, *end);
            probes += usize::from(probe);
            !probe
        })
        .map(|(c, _)| c)
        .collect();
    let during = if probes > 0 {
        format!(
            "{during} ({probes} request(s) sent just before it let probes through became the probes and are \
             left out)"
        )
    } else {
        during.to_string()
    };
    let during = during.as_str();
    if entries.len() < MIN_REQUESTS {
        let detail = format!(
            "Only {} client request(s) in the client log were sent {during}; at least {MIN_REQUESTS} are needed \
             (the result may hold no client log, the window was too short, or the fault failed only some calls \
             so {} was never unavailable).",
            entries.len(),
            d.name
        );
        return vec![
            Claim::new(format!("{id}.status"), claim, source, expect.describe())
                .inconclusive(format!("{} requests", entries.len()), detail),
        ];
    }
    let mut out = vec![status_verdict(
        d,
        expect,
        &entries,
        during,
        format!("{id}.status"),
        claim,
        &source,
    )];
    if !open.is_empty() {
        let open_entries: Vec<&ClientLogEntry> = entries
            .iter()
            .copied()
            .filter(|c| open.iter().any(|(a, b)| c.t_ms >= *a && c.t_ms < *b))
            .collect();
        out.push(fast_verdict(
            d,
            &open_entries,
            &open,
            format!("{id}.fail_fast"),
            &source,
        ));
    }
    out
}

fn status_verdict(
    d: &Dependency,
    expect: &Expect,
    entries: &[&ClientLogEntry],
    during: &str,
    id: String,
    claim: String,
    source: &str,
) -> Verdict {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for c in entries {
        let key = match (c.status, c.grpc_status, &c.error) {
            (Some(_), Some(g), _) => evidence::grpc_name(g),
            (Some(s), None, _) => s.to_string(),
            (None, _, Some(e)) => e.clone(),
            (None, _, None) => "no answer".into(),
        };
        *seen.entry(key).or_default() += 1;
    }
    let matched = entries.iter().filter(|c| expect.accepts(c)).count();
    let share = matched as f64 / entries.len() as f64;
    let breakdown = seen
        .iter()
        .map(|(k, n)| format!("{k}×{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let measured = format!(
        "{matched} of {} matched ({})",
        entries.len(),
        fmt_pct(share)
    );
    let wants_retry_after = d
        .fallback
        .as_deref()
        .is_some_and(|f| f.to_ascii_lowercase().contains("retry-after"));
    let missing_ra = entries
        .iter()
        .filter(|c| expect.accepts(c) && !c.retry_after)
        .count();
    if share < MIN_MATCH {
        let detail = format!(
            "Only {} of client requests sent {during} got {} ({breakdown}); the spec promises '{}'.",
            fmt_pct(share),
            expect.describe(),
            d.fallback.as_deref().unwrap_or("no fallback")
        );
        return Claim::new(id, claim, source, expect.describe()).fail(measured, detail);
    }
    if wants_retry_after && missing_ra > 0 {
        let detail = format!(
            "{missing_ra} fallback answer(s) lacked the Retry-After header the spec promises."
        );
        return Claim::new(id, claim, source, expect.describe()).fail(measured, detail);
    }
    let detail = format!(
        "{} of client requests sent {during} got {} ({breakdown}).",
        fmt_pct(share),
        expect.describe()
    );
    Claim::new(id, claim, source, expect.describe()).pass(measured, detail)
}

fn fast_verdict(
    d: &Dependency,
    entries: &[&ClientLogEntry],
    open: &[(f64, f64)],
    id: String,
    source: &str,
) -> Verdict {
    let bound = d.timeout_ms.map_or(250.0, |t| (0.25 * t).max(50.0));
    let claim = format!(
        "While the breaker on {} is open, clients are answered fast",
        d.name
    );
    let rule = match d.timeout_ms {
        Some(t) => format!("a quarter of the {} timeout", fmt_ms(t)),
        None => "no timeout claimed, so 250 ms".to_string(),
    };
    let expected = format!("p95 ≤ {}", fmt_ms(bound));
    let c = Claim::new(id, claim, source, expected);
    let rule = format!(" Fast means a p95 of at most {} ({rule}).", fmt_ms(bound));
    explain(fast_inner(&c, d, entries, open, bound), &rule)
}

fn fast_inner(
    c: &Claim,
    d: &Dependency,
    entries: &[&ClientLogEntry],
    open: &[(f64, f64)],
    bound: f64,
) -> Verdict {
    let mut lat: Vec<f64> = entries.iter().map(|c| c.latency_ms).collect();
    if lat.len() < MIN_REQUESTS {
        let detail = format!(
            "Only {} client request(s) fell while the breaker was open.",
            lat.len()
        );
        return c.inconclusive(format!("{} requests", lat.len()), detail);
    }
    let p95 = evidence::quantile(&mut lat, 0.95).unwrap_or_default();
    let measured = format!("p95 {} over {} requests", fmt_ms(p95), lat.len());
    if p95 <= bound {
        let detail = format!(
            "Clients were answered in {} (p95) while the breaker was open.",
            fmt_ms(p95)
        );
        c.pass(measured, detail)
    } else {
        let detail = format!(
            "Clients waited {} (p95) while the breaker on {} was open (first opening at {}): the fallback is not \
             failing fast; answer from the open breaker without waiting on the dependency.",
            fmt_ms(p95),
            d.name,
            fmt_t(open[0].0)
        );
        c.fail(measured, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, grpc_status: Option<u8>) -> ClientLogEntry {
        ClientLogEntry {
            t_ms: 0.0,
            request: "get".into(),
            request_id: None,
            trace_id: None,
            status: Some(status),
            error: None,
            latency_ms: 1.0,
            retry_after: false,
            grpc_status,
        }
    }

    fn dependency(fallback: &str) -> Dependency {
        let f = crate::spec::parse(&format!(
            "## Dependencies\n\n| Dependency | Timeout | Fallback |\n|---|---|---|\n| Inv | 1s | {fallback} |\n"
        ));
        f.dependencies[0].clone()
    }

    #[test]
    fn a_grpc_fallback_is_the_grpc_status_of_a_grpc_answer() {
        let unavailable = answer(200, Some(14));
        let e = Expect::of(&dependency("Return UNAVAILABLE")).unwrap();
        assert!(e.accepts(&unavailable));
        assert!(!e.accepts(&answer(200, Some(13))) && !e.accepts(&answer(503, None)));
        assert_eq!(e.describe(), "gRPC status UNAVAILABLE");
        // An HTTP fallback is not met by a gRPC answer's HTTP 200.
        let http = Expect::of(&dependency("Return 503")).unwrap();
        assert!(http.accepts(&answer(503, None)) && !http.accepts(&unavailable));
        let both = Expect::of(&dependency("503 / Status.UNAVAILABLE")).unwrap();
        assert!(both.accepts(&answer(503, None)) && both.accepts(&unavailable));
        // A degraded success to a gRPC caller is OK, not a failed call's HTTP 200.
        let degraded = Expect::of(&dependency("Serve the cached item")).unwrap();
        assert!(degraded.accepts(&answer(200, Some(0))) && !degraded.accepts(&unavailable));
        let critical = Expect::of(&dependency("N/A (critical)")).unwrap();
        assert!(critical.accepts(&unavailable) && !critical.accepts(&answer(200, Some(5))));
    }
}
