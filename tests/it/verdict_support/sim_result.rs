//! Turns the model's raw events into the RunResult shape a chaos run writes.

use std::collections::BTreeMap;

use redline::result::*;
use redline_proxy::log::LogEntry;

use super::sim::{by_name, op_stats, Fault, FaultKind, Load, DEP};

fn phase(
    name: &str,
    kind: PhaseKind,
    from: f64,
    to: f64,
    clients: &[ClientLogEntry],
) -> PhaseStats {
    let inside: Vec<&ClientLogEntry> = clients
        .iter()
        .filter(|c| c.t_ms >= from && c.t_ms < to)
        .collect();
    PhaseStats {
        name: name.into(),
        kind,
        from_s: from / 1000.0,
        to_s: to / 1000.0,
        operations: by_name(op_stats(&inside)),
    }
}

fn phases(clients: &[ClientLogEntry], faults: &[Fault], end: f64) -> Vec<PhaseStats> {
    let mut out = Vec::new();
    let mut t = 0.0;
    for (i, f) in faults.iter().enumerate() {
        let kind = if i == 0 {
            PhaseKind::Baseline
        } else {
            PhaseKind::Recovery
        };
        let name = if i == 0 {
            "baseline".to_string()
        } else {
            format!("between-{i}")
        };
        out.push(phase(&name, kind, t, f.from_ms, clients));
        out.push(phase(
            &format!("fault-{}", i + 1),
            PhaseKind::Fault,
            f.from_ms,
            f.to_ms,
            clients,
        ));
        t = f.to_ms;
    }
    let kind = if faults.is_empty() {
        PhaseKind::Baseline
    } else {
        PhaseKind::Recovery
    };
    out.push(phase(
        if faults.is_empty() {
            "baseline"
        } else {
            "recovery"
        },
        kind,
        t,
        end,
        clients,
    ));
    out
}

fn timeline(clients: &[ClientLogEntry], end: f64) -> Vec<TimelineBucket> {
    let mut buckets: Vec<TimelineBucket> = (0..=(end / 1000.0) as u32)
        .map(|t_s| TimelineBucket {
            t_s,
            ..TimelineBucket::default()
        })
        .collect();
    for c in clients {
        buckets[(c.t_ms / 1000.0) as usize].sent += 1;
        let done = ((c.t_ms + c.latency_ms) / 1000.0) as usize;
        let last = buckets.len() - 1;
        let b = &mut buckets[done.min(last)];
        b.completed += 1;
        let class = c.status.map(|s| format!("{}xx", s / 100));
        if let Some(class) = class {
            *b.status_classes.entry(class).or_default() += 1;
        }
        if c.error.is_some() || c.status.is_some_and(|s| s >= 500) {
            b.errors += 1;
        }
    }
    buckets
}

fn dependency(log: Vec<LogEntry>, end: f64) -> DependencyReport {
    let mut per_second: Vec<DependencySecond> = (0..=(end / 1000.0) as u32)
        .map(|t_s| DependencySecond {
            t_s,
            ..DependencySecond::default()
        })
        .collect();
    let mut outcomes = BTreeMap::new();
    let mut faults_injected = BTreeMap::new();
    for e in &log {
        let last = per_second.len() - 1;
        let s = &mut per_second[((e.t_ms / 1000.0) as usize).min(last)];
        s.requests += 1;
        let ok = e.fault.is_none() && e.status.is_some_and(|x| x < 500) && e.gave_up_ms.is_none();
        if ok {
            s.ok += 1;
        } else {
            s.failed += 1;
        }
        s.faulted += u64::from(e.fault.is_some());
        s.gave_up += u64::from(e.gave_up_ms.is_some());
        *outcomes
            .entry(format!("{:?}", e.outcome).to_lowercase())
            .or_insert(0u64) += 1;
        if let Some(f) = &e.fault {
            *faults_injected.entry(f.clone()).or_insert(0u64) += 1;
        }
    }
    DependencyReport {
        listen: "127.0.0.1:9101".into(),
        upstream: "127.0.0.1:9100".into(),
        protocol: "http".into(),
        requests: log.len() as u64,
        per_second,
        outcomes,
        faults_injected,
        gave_up_ms: None,
        log,
        log_truncated: false,
        connections: None,
        connection_cap: None,
    }
}

fn applied(f: &Fault) -> AppliedFault {
    let (kind, params) = match &f.kind {
        FaultKind::Abort {
            status,
            probability,
        } => (
            "abort",
            serde_json::json!({"status": status, "probability": probability}),
        ),
        FaultKind::Latency { delay_ms } => ("latency", serde_json::json!({"delay_ms": delay_ms})),
        FaultKind::Hang => ("hang", serde_json::json!({})),
        FaultKind::Down => ("down", serde_json::json!({"probability": 1.0})),
    };
    AppliedFault {
        dependency: DEP.into(),
        kind: kind.into(),
        params,
        applied_at_s: f.from_ms / 1000.0,
        removed_at_s: Some(f.to_ms / 1000.0),
        source: "schedule".into(),
    }
}

pub fn assemble(
    clients: &[ClientLogEntry],
    log: Vec<LogEntry>,
    health: &[(f64, bool)],
    faults: &[Fault],
    load: &Load,
) -> RunResult {
    let end = clients
        .iter()
        .map(|c| c.t_ms + c.latency_ms)
        .fold(load.duration_ms, f64::max);
    let all: Vec<&ClientLogEntry> = clients.iter().collect();
    let totals = Totals {
        sent: clients.len() as u64,
        completed: clients.iter().filter(|c| c.status.is_some()).count() as u64,
        errors: clients
            .iter()
            .filter(|c| c.error.is_some() || c.status.is_some_and(|s| s >= 500))
            .count() as u64,
        dropped: 0,
        rps: clients.len() as f64 / (end / 1000.0),
    };
    RunResult {
        schema_version: SCHEMA_VERSION,
        scenario: "model".into(),
        scenario_file: Some("scenario.toml".into()),
        seed: load.seed,
        started_at: "2026-11-21T00:00:00Z".into(),
        duration_s: end / 1000.0,
        interrupted: false,
        interrupted_by: None,
        run_id: None,
        warmup_s: 0.0,
        http_version: None,
        totals,
        operations: by_name(op_stats(&all)),
        timeline: timeline(clients, end),
        phases: phases(clients, faults, end),
        faults: faults.iter().map(applied).collect(),
        dependencies: BTreeMap::from([(DEP.to_string(), dependency(log, end))]),
        client_log: clients.to_vec(),
        client_log_truncated: false,
        body_samples: Vec::new(),
        idempotency: Vec::new(),
        conflicts: Vec::new(),
        limits: Vec::new(),
        health: health
            .iter()
            .map(|(t, ok)| HealthSample {
                t_s: t / 1000.0,
                status: Some(if *ok { 200 } else { 503 }),
                state: Some(if *ok { "healthy" } else { "degraded" }.into()),
            })
            .collect(),
        ready: None,
        spec: None,
        verdicts: Vec::new(),
        breaker_episodes: Vec::new(),
        fallback_windows: None,
        notes: Vec::new(),
        capacity: None,
        segment: None,
        merged: None,
    }
}
