//! `redline spec SPEC.md [--json]`: show the claims read from a spec, with the line each came from.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

mod breaker_rules;

use crate::cli::exit;
use crate::spec::claims::{AlertCondition, Claims, ObjectiveKind};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Markdown service spec to read.
    pub spec: PathBuf,
    /// Print the claims as JSON (the `Claims` model) instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn execute(args: Args) -> anyhow::Result<u8> {
    let source = std::fs::read(&args.spec)
        .with_context(|| format!("cannot read spec {}", args.spec.display()))?;
    // A spec with a stray invalid byte is still worth reading; the reader never guesses from it.
    let source = String::from_utf8_lossy(&source);
    let claims = crate::spec::parse(&source);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &claims)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        write_tables(&claims, &args.spec.display().to_string(), &mut out)
    };
    match written {
        // `redline spec x.md | head` closing the pipe early is not an error of the spec.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::OK),
        other => other
            .map(|()| exit::OK)
            .context("writing the claims to stdout"),
    }
}

/// Milliseconds for people: `250µs`, `30ms`, `1.5s`, `2min`.
fn ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v < 1.0 => format!("{}µs", trim(v * 1000.0)),
        Some(v) if v < 1000.0 => format!("{}ms", trim(v)),
        Some(v) if v < 60_000.0 || v % 60_000.0 != 0.0 => format!("{}s", trim(v / 1000.0)),
        Some(v) if v < 3_600_000.0 || v % 3_600_000.0 != 0.0 => {
            format!("{}min", trim(v / 60_000.0))
        }
        Some(v) => format!("{}h", trim(v / 3_600_000.0)),
    }
}

fn trim(v: f64) -> String {
    let s = format!("{:.3}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |f| format!("{}%", trim(f * 100.0)))
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or("-".into(), T::to_string)
}

/// Writes one titled table; columns padded to their widest cell. Nothing but a note when empty.
fn table(
    out: &mut dyn Write,
    title: &str,
    head: &[&str],
    rows: Vec<Vec<String>>,
) -> std::io::Result<()> {
    writeln!(out, "\n{title}")?;
    if rows.is_empty() {
        return writeln!(out, "  (none)");
    }
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}", padded.join("  ").trim_end())
    };
    writeln!(
        out,
        "{}",
        line(head.iter().map(|h| h.to_string()).collect())
    )?;
    for r in rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

/// One titled table: header cells and rows of cells.
type Family = (&'static str, &'static [&'static str], Vec<Vec<String>>);

/// The claims as tables grouped by family, each row starting with its source line; diagnostics last.
pub fn write_tables(c: &Claims, path: &str, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "spec {path}: service {}",
        c.service.as_deref().unwrap_or("(unnamed)")
    )?;
    let families = [
        latency(c),
        budget(c),
        dependencies(c),
        breakers(c),
        retries(c),
        rate_limits(c),
        errors(c),
        interface(c),
        alerts(c),
        objectives(c),
    ];
    let claims: usize = families.iter().map(|(_, _, rows)| rows.len()).sum();
    writeln!(
        out,
        "{claims} claims read, {} diagnostics",
        c.diagnostics.len()
    )?;
    if c.testable_count() == 0 {
        writeln!(
            out,
            "no testable claim: `redline run --spec {path}` refuses this spec (exit 2) unless --allow-empty-spec"
        )?;
    }
    for (title, head, rows) in families {
        table(out, title, head, rows)?;
    }
    if !c.breakers.is_empty() {
        let (title, head, rows) = breaker_rules::breaker_rules(&c.breakers);
        table(out, title, head, rows)?;
    }
    writeln!(out, "\nDiagnostics")?;
    if c.diagnostics.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for d in &c.diagnostics {
        writeln!(out, "  {path}:{}: {}", d.line, d.message)?;
    }
    Ok(())
}

/// Percentiles other than P50, P95 and P99 ("p90 120ms, p99.9 1s"); empty when there are none.
fn other_percentiles(stated: Vec<(f64, f64)>) -> String {
    let parts: Vec<String> = stated
        .into_iter()
        .filter(|(p, _)| ![50.0, 95.0, 99.0].contains(p))
        .map(|(p, v)| format!("p{} {}", trim(p), ms(Some(v))))
        .collect();
    parts.join(", ")
}

fn latency(c: &Claims) -> Family {
    let rows = c.latency.iter().map(|t| {
        vec![
            t.line.to_string(),
            t.operation.clone(),
            ms(t.p50_ms),
            ms(t.p95_ms),
            ms(t.p99_ms),
            ms(t.timeout_ms),
            other_percentiles(t.stated_percentiles()),
        ]
    });
    (
        "Latency targets",
        &["line", "operation", "p50", "p95", "p99", "timeout", "other"],
        rows.collect(),
    )
}

fn budget(c: &Claims) -> Family {
    let rows = c.latency_budget.iter().map(|b| {
        vec![
            b.line.to_string(),
            ms(b.p50_ms),
            ms(b.p95_ms),
            ms(b.p99_ms),
            other_percentiles(b.stated_percentiles()),
        ]
    });
    (
        "Latency budget",
        &["line", "p50", "p95", "p99", "other"],
        rows.collect(),
    )
}

fn dependencies(c: &Claims) -> Family {
    let rows = c.dependencies.iter().map(|d| {
        let critical = if d.critical { "yes" } else { "no" };
        let (kind, fallback, status, health) = (
            opt(&d.kind),
            opt(&d.fallback),
            d.fallback_statuses().unwrap_or_else(|| "-".into()),
            opt(&d.health_check),
        );
        vec![
            d.line.to_string(),
            d.name.clone(),
            kind,
            ms(d.timeout_ms),
            fallback,
            status,
            critical.into(),
            health,
        ]
    });
    (
        "Dependencies",
        &[
            "line",
            "name",
            "type",
            "timeout",
            "fallback",
            "status",
            "critical",
            "health check",
        ],
        rows.collect(),
    )
}

fn breakers(c: &Claims) -> Family {
    let rows = c.breakers.iter().map(|b| {
        let exceptions = if b.expected_exceptions.is_empty() {
            "-".into()
        } else {
            b.expected_exceptions.join(", ")
        };
        let (name, dep, threshold, probes) = (
            opt(&b.name),
            opt(&b.dependency),
            opt(&b.failure_threshold),
            opt(&b.half_open_requests),
        );
        vec![
            b.line.to_string(),
            name,
            dep,
            threshold,
            ms(b.recovery_timeout_ms),
            probes,
            exceptions,
        ]
    });
    (
        "Circuit breakers",
        &[
            "line",
            "name",
            "dependency",
            "opens after",
            "open for",
            "half-open probes",
            "exceptions",
        ],
        rows.collect(),
    )
}

fn retries(c: &Claims) -> Family {
    let rows = c.retries.iter().map(|r| {
        let steps: Vec<String> = r.backoff_ms.iter().map(|v| ms(Some(*v))).collect();
        let backoff = if steps.is_empty() {
            "-".into()
        } else {
            steps.join(", ")
        };
        vec![
            r.line.to_string(),
            r.scenario.clone(),
            opt(&r.strategy),
            opt(&r.max_attempts),
            backoff,
            pct(r.jitter),
        ]
    });
    (
        "Retries",
        &[
            "line",
            "scenario",
            "strategy",
            "max attempts",
            "backoff",
            "jitter",
        ],
        rows.collect(),
    )
}

fn rate_limits(c: &Claims) -> Family {
    let rows = c.rate_limits.iter().map(|r| {
        vec![
            r.line.to_string(),
            r.name.clone(),
            r.requests.to_string(),
            ms(Some(r.per_s * 1000.0)),
            opt(&r.per_key),
        ]
    });
    (
        "Rate limits",
        &["line", "name", "requests", "per", "counted per"],
        rows.collect(),
    )
}

fn errors(c: &Claims) -> Family {
    let rows = c.error_classes.iter().map(|e| {
        let retry = e.retryable.map_or("-", |r| if r { "yes" } else { "no" });
        vec![
            e.line.to_string(),
            e.error_type.clone(),
            opt(&e.status),
            opt(&e.code),
            retry.into(),
        ]
    });
    (
        "Error classes",
        &["line", "error type", "status", "code", "retry"],
        rows.collect(),
    )
}

/// The version conflict and the stated limits the after-load probes check.
fn interface(c: &Claims) -> Family {
    let answer = |status: Option<u16>, code: &Option<String>| match (status, code) {
        (Some(s), Some(code)) => format!("{s} {code}"),
        (Some(s), None) => s.to_string(),
        (None, _) => "a 4xx".into(),
    };
    let conflict = c.conflict.iter().map(|k| {
        vec![
            k.line.to_string(),
            "stale version".into(),
            "-".into(),
            answer(Some(k.status), &k.code),
        ]
    });
    let limits = c.limits.iter().map(|l| {
        let beyond = if l.capped {
            "capped".to_string()
        } else {
            format!("rejected {}", answer(l.status, &l.code))
        };
        let max = match l.kind {
            crate::spec::claims::LimitKind::Body => format!("{} bytes", l.max),
            crate::spec::claims::LimitKind::Query => l.max.to_string(),
        };
        vec![l.line.to_string(), l.name.clone(), max, beyond]
    });
    (
        "Interface promises (stale_version, probe_limits)",
        &["line", "promise", "max", "beyond it"],
        conflict.chain(limits).collect(),
    )
}

fn alerts(c: &Claims) -> Family {
    let rows = c.alerts.iter().map(|a| {
        vec![
            a.line.to_string(),
            a.name.clone(),
            condition(&a.condition),
            opt(&a.severity),
        ]
    });
    (
        "Alerts",
        &["line", "alert", "condition", "severity"],
        rows.collect(),
    )
}

fn condition(c: &AlertCondition) -> String {
    let for_s =
        |f: &Option<f64>| f.map_or(String::new(), |s| format!(" for {}", ms(Some(s * 1000.0))));
    match c {
        AlertCondition::ErrorRate {
            threshold,
            for_s: f,
        } => format!("error rate > {}{}", pct(Some(*threshold)), for_s(f)),
        AlertCondition::Latency {
            percentile,
            threshold_ms,
            for_s: f,
        } => {
            format!(
                "p{} > {}{}",
                trim(*percentile),
                ms(Some(*threshold_ms)),
                for_s(f)
            )
        }
        AlertCondition::Other { text } => format!("(not testable) {text}"),
    }
}

fn objectives(c: &Claims) -> Family {
    let mut rows = Vec::new();
    // The window a global objective was stated for, from the objective read on its line.
    let window = |kind: ObjectiveKind, line: Option<usize>| {
        c.objectives
            .iter()
            .find(|o| o.kind == kind && o.operation.is_none() && Some(o.line) == line)
            .and_then(|o| o.window.as_deref())
            .map_or(String::new(), |w| format!(" ({w})"))
    };
    if let Some(a) = c.availability {
        rows.push(vec![
            opt(&c.availability_line),
            "availability".into(),
            format!(
                "{}{}",
                pct(Some(a)),
                window(ObjectiveKind::Availability, c.availability_line)
            ),
        ]);
    }
    if let Some(e) = c.error_rate_max {
        rows.push(vec![
            opt(&c.error_rate_line),
            "max error rate".into(),
            format!(
                "{}{}",
                pct(Some(e)),
                window(ObjectiveKind::ErrorBudget, c.error_rate_line)
            ),
        ]);
    }
    for o in c.objectives.iter().filter(|o| o.operation.is_some()) {
        let (claim, value) = match o.kind {
            ObjectiveKind::Availability => ("availability", pct(Some(1.0 - o.max_error_rate))),
            ObjectiveKind::ErrorBudget => ("max error rate", pct(Some(o.max_error_rate))),
        };
        let w = o
            .window
            .as_deref()
            .map_or(String::new(), |w| format!(" ({w})"));
        rows.push(vec![
            o.line.to_string(),
            format!("{claim} of {}", o.operation.as_deref().unwrap_or_default()),
            format!("{value}{w}"),
        ]);
    }
    for t in &c.throughput {
        let mut parts = Vec::new();
        if let Some(r) = t.rps {
            parts.push(format!("{} req/s", trim(r)));
        }
        if let Some(m) = t.peak_multiple {
            parts.push(format!("{}x peak", trim(m)));
        }
        if let Some(e) = t.max_error_rate {
            parts.push(format!("< {} errors", pct(Some(e))));
        }
        rows.push(vec![
            t.line.to_string(),
            "throughput".into(),
            parts.join(", "),
        ]);
    }
    if let Some(h) = &c.health {
        let ready = h
            .ready_path
            .as_deref()
            .map_or(String::new(), |r| format!(", ready {r}"));
        let states = if h.states.is_empty() {
            String::new()
        } else {
            format!(" ({})", h.states.join("/"))
        };
        rows.push(vec![
            h.line.to_string(),
            "health".into(),
            format!("{}{states}{ready}", h.path),
        ]);
    }
    rows.sort_by_key(|r| r[0].parse::<usize>().unwrap_or(0));
    ("Objectives", &["line", "claim", "value"], rows)
}
