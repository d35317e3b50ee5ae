//! Terminal renderer: verdicts first, then latency and errors per operation, phases, faults,
//! breaker episodes, dependencies and the baseline comparison; fits 80 columns.

use std::io::{self, Write};

use crate::result::VerdictStatus;

use super::baseline::{self, Change};
use super::model::{Outcome, Report};
use super::text::{self, col, rcol, Col};

/// ANSI styling, off unless the caller decided the terminal supports it.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn sgr(self, code: &str, s: String) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s
        }
    }
    fn bold(self, s: String) -> String {
        self.sgr("1", s)
    }
    fn dim(self, s: String) -> String {
        self.sgr("2", s)
    }
    fn status(self, status: VerdictStatus, s: String) -> String {
        match status {
            VerdictStatus::Pass => self.sgr("32", s),
            VerdictStatus::Fail => self.sgr("1;31", s),
            VerdictStatus::Inconclusive => self.sgr("33", s),
        }
    }
    fn outcome(self, o: Outcome, s: String) -> String {
        match o {
            Outcome::Pass => self.sgr("1;32", s),
            Outcome::Fail => self.sgr("1;31", s),
            Outcome::Inconclusive => self.sgr("1;33", s),
            Outcome::Measured => self.sgr("1;36", s),
        }
    }
}

/// Whether colour should be used on standard output: `NO_COLOR` set (https://no-color.org) means
/// never; `CLICOLOR_FORCE` set (not "0") means always, e.g. for CI logs that render ANSI;
/// otherwise only on a terminal whose `TERM` is not "dumb".
pub fn stdout_supports_color() -> bool {
    use std::io::IsTerminal;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    if set("NO_COLOR") {
        return false;
    }
    if set("CLICOLOR_FORCE") {
        return true;
    }
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    !dumb && io::stdout().is_terminal()
}

/// Writes the report without colour.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_styled(report, out, false)
}

/// Writes the report, with ANSI colour when `color`.
pub fn write_styled(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint(color);
    let mut lines = Vec::new();
    header(report, p, &mut lines);
    verdicts(report, p, &mut lines);
    comparison(report, p, &mut lines);
    operations(report, p, &mut lines);
    phases(report, p, &mut lines);
    faults_and_episodes(report, p, &mut lines);
    dependencies(report, p, &mut lines);
    health(report, p, &mut lines);
    notes(report, p, &mut lines);
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn section(title: &str, p: Paint, lines: &mut Vec<String>) {
    lines.push(String::new());
    lines.push(p.bold(title.to_string()));
}

fn header(report: &Report, p: Paint, lines: &mut Vec<String>) {
    let r = &report.result;
    lines.push(p.bold(format!("redline · {}", r.scenario)));
    let mut facts = format!(
        "{} · {} · seed {} · {} req · {:.0} req/s",
        r.started_at,
        text::secs(r.duration_s),
        r.seed,
        text::count(r.totals.sent),
        r.totals.rps
    );
    if r.interrupted {
        facts.push_str(" · INTERRUPTED");
    }
    lines.extend(text::wrap(&facts, 80));
    if let Some(spec) = &r.spec {
        lines.push(format!("spec {spec}"));
    }
    lines.push(String::new());
    let c = report.counts;
    let summary = match report.outcome {
        Outcome::Measured => "no spec judged: measurements only".to_string(),
        _ => format!(
            "{} passed · {} failed · {} inconclusive",
            c.pass, c.fail, c.inconclusive
        ),
    };
    let badge = p.outcome(report.outcome, format!(" {} ", report.outcome.label()));
    lines.push(format!("{badge}  {summary}"));
}

const VERDICT_COLS: [Col; 4] = [
    col("STATUS", 12),
    col("CLAIM", 36),
    col("EXPECTED", 12),
    col("MEASURED", 12),
];

fn verdicts(report: &Report, p: Paint, lines: &mut Vec<String>) {
    if report.verdicts().is_empty() {
        return;
    }
    section("Verdicts", p, lines);
    lines.push(text::table(&VERDICT_COLS, &[], &|_, _, s| s).remove(0));
    for v in report.verdicts() {
        let row = vec![
            text::status_label(v.status).to_string(),
            v.claim.clone(),
            v.expected.clone(),
            v.measured.clone(),
        ];
        let status = v.status;
        let styled = |_: usize, c: usize, s: String| if c == 0 { p.status(status, s) } else { s };
        lines.extend(
            text::table(&VERDICT_COLS, &[row], &styled)
                .into_iter()
                .skip(1),
        );
        // A pass speaks for itself (its detail and source are in the other formats); anything
        // else says why and where the claim came from, so a person can act on it.
        if v.status != VerdictStatus::Pass {
            for d in text::wrap(&format!("{} ({})", v.detail, v.source), 64) {
                lines.push(p.dim(format!("                {d}")));
            }
        }
    }
}

const OP_COLS: [Col; 7] = [
    col("REQUEST", 18),
    rcol("REQS", 8),
    rcol("ERR", 6),
    rcol("P50", 8),
    rcol("P95", 8),
    rcol("P99", 8),
    rcol("MAX", 8),
];

fn operations(report: &Report, p: Paint, lines: &mut Vec<String>) {
    if report.operations.is_empty() {
        return;
    }
    section(
        "Latency and errors per request (from intended send time, excl. warmup)",
        p,
        lines,
    );
    lines.push(text::table(&OP_COLS, &[], &|_, _, s| s).remove(0));
    for op in &report.operations {
        let l = op.latency;
        let row = vec![
            op.name.clone(),
            text::count(op.count),
            text::pct(op.error_pct),
            text::ms(l.p50),
            text::ms(l.p95),
            text::ms(l.p99),
            text::ms(l.max),
        ];
        lines.extend(
            text::table(&OP_COLS, &[row], &|_, _, s| s)
                .into_iter()
                .skip(1),
        );
        let mut facts = Vec::new();
        if let Some(spec_op) = &op.operation {
            facts.push(spec_op.clone());
        }
        facts.push(format!("status {}", text::tally(&op.statuses, 4)));
        if !op.error_kinds.is_empty() {
            facts.push(format!("failed: {}", text::tally(&op.error_kinds, 3)));
        }
        for d in text::wrap(&facts.join(" · "), 74) {
            lines.push(p.dim(format!("    {d}")));
        }
    }
}

const PHASE_COLS: [Col; 7] = [
    col("PHASE", 20),
    col("WINDOW", 9),
    rcol("REQS", 8),
    rcol("ERR", 6),
    rcol("5XX", 7),
    rcol("P50", 8),
    rcol("P99", 8),
];

fn phases(report: &Report, p: Paint, lines: &mut Vec<String>) {
    if report.phases.is_empty() {
        return;
    }
    section("Phases", p, lines);
    let rows: Vec<Vec<String>> = report
        .phases
        .iter()
        .map(|ph| {
            vec![
                ph.name.clone(),
                format!("{:.0}–{:.0} s", ph.from_s, ph.to_s),
                text::count(ph.count),
                text::pct(ph.error_pct),
                text::count(ph.fallbacks_5xx),
                text::ms(ph.p50_ms),
                text::ms(ph.p99_ms),
            ]
        })
        .collect();
    lines.extend(text::table(&PHASE_COLS, &rows, &|_, _, s| s));
}

const EPISODE_COLS: [Col; 6] = [
    col("DEPENDENCY", 16),
    rcol("OPENED", 8),
    rcol("FAILS", 6),
    rcol("OPEN FOR", 9),
    rcol("PROBES", 6),
    col("OUTCOME", 10),
];

fn faults_and_episodes(report: &Report, p: Paint, lines: &mut Vec<String>) {
    let r = &report.result;
    if !r.faults.is_empty() {
        section("Faults applied", p, lines);
        for f in &r.faults {
            let until = f
                .removed_at_s
                .map_or("end".to_string(), |t| format!("{t:.1} s"));
            let params = super::json::compact_params(&f.params);
            let line = format!(
                "{} on {} from {:.1} s to {until} {params} [{}]",
                f.kind, f.dependency, f.applied_at_s, f.source
            );
            for (i, l) in text::wrap(&line, 76).into_iter().enumerate() {
                lines.push(format!("{}{l}", if i == 0 { "  " } else { "    " }));
            }
        }
    }
    if r.dependencies.is_empty() && report.episodes().is_empty() {
        return;
    }
    section("Circuit-breaker episodes (seen from outside)", p, lines);
    if report.episodes().is_empty() {
        lines.push("  none: traffic to every dependency continued whenever clients called".into());
        return;
    }
    let rows: Vec<Vec<String>> = report
        .episodes()
        .iter()
        .map(|e| {
            vec![
                e.dependency.clone(),
                text::secs(e.opened_at_s),
                e.failures_before_open.to_string(),
                e.open_for_s.map_or("until end".to_string(), text::secs),
                e.probes.to_string(),
                e.outcome.clone(),
            ]
        })
        .collect();
    lines.extend(text::table(&EPISODE_COLS, &rows, &|_, _, s| s));
}

const DEP_COLS: [Col; 6] = [
    col("DEPENDENCY", 16),
    rcol("CALLS", 8),
    rcol("OK", 8),
    rcol("FAILED", 8),
    rcol("GAVE UP", 8),
    rcol("GAVE UP AT", 14),
];

fn dependencies(report: &Report, p: Paint, lines: &mut Vec<String>) {
    let deps = &report.result.dependencies;
    if deps.is_empty() {
        return;
    }
    section("Dependencies (seen by the proxy)", p, lines);
    let rows: Vec<Vec<String>> = deps
        .iter()
        .map(|(name, d)| {
            let sum = |f: fn(&crate::result::DependencySecond) -> u64| {
                d.per_second.iter().map(f).sum::<u64>()
            };
            vec![
                name.clone(),
                text::count(d.requests),
                text::count(sum(|s| s.ok)),
                text::count(sum(|s| s.failed)),
                text::count(sum(|s| s.gave_up)),
                d.gave_up_ms
                    .map_or("–".to_string(), |g| format!("p50 {}", text::ms(g.p50))),
            ]
        })
        .collect();
    lines.extend(text::table(&DEP_COLS, &rows, &|_, _, s| s));
}

const CMP_COLS: [Col; 6] = [
    col("REQUEST", 16),
    col("PCTL", 5),
    rcol("BASELINE", 9),
    rcol("NOW", 9),
    rcol("CHANGE", 8),
    col("JUDGED", 15),
];

fn comparison(report: &Report, p: Paint, lines: &mut Vec<String>) {
    let Some(cmp) = &report.comparison else {
        return;
    };
    section(
        &format!(
            "Against baseline {} ({})",
            cmp.baseline_scenario, cmp.baseline_started_at
        ),
        p,
        lines,
    );
    let rows: Vec<Vec<String>> = cmp
        .rows
        .iter()
        .map(|r| {
            vec![
                r.operation.clone(),
                r.percentile.to_string(),
                text::opt_ms(r.baseline_ms),
                text::opt_ms(r.current_ms),
                text::change(r.change_pct),
                r.change.label().to_string(),
            ]
        })
        .collect();
    let changes: Vec<Change> = cmp.rows.iter().map(|r| r.change).collect();
    let styled = |r: usize, c: usize, s: String| match (c, changes[r]) {
        (5, Change::Regression) => p.status(VerdictStatus::Fail, s),
        (5, Change::Improvement) => p.status(VerdictStatus::Pass, s),
        _ => s,
    };
    lines.extend(text::table(&CMP_COLS, &rows, &styled));
    for u in &cmp.unmatched {
        lines.push(format!("  not compared: {u}"));
    }
    lines.push(format!("  {} regression(s) flagged.", cmp.regressions()));
    for l in text::wrap(baseline::RULE, 76) {
        lines.push(p.dim(format!("  {l}")));
    }
}

fn health(report: &Report, p: Paint, lines: &mut Vec<String>) {
    if report.health_changes.is_empty() {
        return;
    }
    section("Health endpoint (changes only)", p, lines);
    let changes: Vec<String> = report
        .health_changes
        .iter()
        .map(|(t, answer)| format!("{t:.1} s {answer}"))
        .collect();
    for l in text::wrap(&changes.join(" → "), 76) {
        lines.push(format!("  {l}"));
    }
}

fn notes(report: &Report, p: Paint, lines: &mut Vec<String>) {
    let r = &report.result;
    let mut notes: Vec<String> = r.notes.clone();
    if r.client_log_truncated {
        notes.push("client log truncated (a bounded sample is kept)".into());
    }
    if notes.is_empty() {
        return;
    }
    section("Notes", p, lines);
    for n in notes {
        for (i, l) in text::wrap(&n, 76).into_iter().enumerate() {
            lines.push(format!("{}{l}", if i == 0 { "  - " } else { "    " }));
        }
    }
}
