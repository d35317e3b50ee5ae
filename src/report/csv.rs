//! CSV renderer: the per-second timeline, one row per second, for spreadsheets and plotting tools.
//!
//! Columns: t_s, phase, faults active (`latency@UserService`), then totals, status classes, error
//! kinds (one column per kind seen), per request latency (`<request>.p50_ms` ...), per dependency
//! traffic (`dep.<name>.requests` ...).

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::result::{DependencySecond, TimelineBucket};

use super::model::Report;

const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];
const OP_FIELDS: [&str; 5] = ["count", "errors", "p50_ms", "p95_ms", "p99_ms"];
const DEP_FIELDS: [&str; 5] = ["requests", "ok", "failed", "faulted", "gave_up"];

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let r = &report.result;
    let kinds: BTreeSet<&str> = r
        .timeline
        .iter()
        .flat_map(|b| b.error_kinds.keys().map(String::as_str))
        .collect();
    let ops: BTreeSet<&str> = r
        .operations
        .keys()
        .map(String::as_str)
        .chain(
            r.timeline
                .iter()
                .flat_map(|b| b.ops.keys().map(String::as_str)),
        )
        .collect();
    let mut header: Vec<String> = [
        "t_s",
        "phase",
        "faults",
        "sent",
        "completed",
        "errors",
        "dropped",
        "in_flight",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(CLASSES.iter().map(|c| format!("status_{c}")));
    header.extend(kinds.iter().map(|k| format!("error.{k}")));
    for op in &ops {
        header.extend(OP_FIELDS.iter().map(|f| format!("{op}.{f}")));
    }
    for dep in r.dependencies.keys() {
        header.extend(DEP_FIELDS.iter().map(|f| format!("dep.{dep}.{f}")));
    }
    write_row(out, &header)?;
    for b in &r.timeline {
        write_row(out, &bucket_row(report, b, &kinds, &ops))?;
    }
    Ok(())
}

fn bucket_row(
    report: &Report,
    b: &TimelineBucket,
    kinds: &BTreeSet<&str>,
    ops: &BTreeSet<&str>,
) -> Vec<String> {
    let r = &report.result;
    let t = f64::from(b.t_s);
    let phase = r
        .phases
        .iter()
        .find(|p| t >= p.from_s && t < p.to_s)
        .map_or(String::new(), |p| p.name.clone());
    // Faults active at any moment of this second, as "kind@dependency" separated by spaces.
    let faults: Vec<String> = r
        .faults
        .iter()
        .filter(|f| f.applied_at_s < t + 1.0 && f.removed_at_s.is_none_or(|end| end > t))
        .map(|f| format!("{}@{}", f.kind, f.dependency))
        .collect();
    let mut row = vec![
        b.t_s.to_string(),
        phase,
        faults.join(" "),
        b.sent.to_string(),
        b.completed.to_string(),
        b.errors.to_string(),
        b.dropped.to_string(),
        b.in_flight.to_string(),
    ];
    let get = |m: &std::collections::BTreeMap<String, u64>, k: &str| {
        m.get(k).copied().unwrap_or(0).to_string()
    };
    row.extend(CLASSES.iter().map(|c| get(&b.status_classes, c)));
    row.extend(kinds.iter().map(|k| get(&b.error_kinds, k)));
    for op in ops {
        match b.ops.get(*op) {
            Some(s) => row.extend([
                s.count.to_string(),
                s.errors.to_string(),
                num(s.p50_ms),
                num(s.p95_ms),
                num(s.p99_ms),
            ]),
            None => row.extend(["0", "0", "", "", ""].map(String::from)),
        }
    }
    for dep in r.dependencies.values() {
        let s = dep.per_second.iter().find(|s| s.t_s == b.t_s);
        let v = |f: fn(&DependencySecond) -> u64| s.map_or(0, f).to_string();
        row.extend([
            v(|s| s.requests),
            v(|s| s.ok),
            v(|s| s.failed),
            v(|s| s.faulted),
            v(|s| s.gave_up),
        ]);
    }
    row
}

fn num(v: f64) -> String {
    format!("{v:.3}")
}

fn write_row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    let line: Vec<String> = cells.iter().map(|c| escape(c)).collect();
    writeln!(out, "{}", line.join(","))
}

/// RFC 4180 quoting: only cells holding a comma, quote or line break are quoted.
fn escape(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
