//! Terminal renderer: verdicts first (fails and inconclusives on top), then latency and errors
//! per request, phases, faults, breaker episodes, dependencies and the baseline comparison;
//! laid out for the terminal's width (80 columns in report.txt).

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

/// The width reports are laid out for when nothing better is known (and of `report.txt`).
pub const DEFAULT_WIDTH: usize = 80;
/// Lines longer than this are hard to read even on a wide terminal.
const MAX_WIDTH: usize = 132;

/// The width of standard output: `$COLUMNS` if set, else the terminal's size, else 80; clamped
/// to 60..=132 so a tiny or huge window still gets a readable layout.
pub fn stdout_width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    let detected = from_env
        .or_else(|| terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0)));
    detected.unwrap_or(DEFAULT_WIDTH).clamp(60, MAX_WIDTH)
}

/// Writes the report without colour, at 80 columns (what `report.txt` holds).
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_with(report, out, false, DEFAULT_WIDTH)
}

/// Writes the report for standard output: ANSI colour when `color`, laid out for the width of
/// standard output (see `stdout_width`).
pub fn write_styled(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    write_with(report, out, color, stdout_width())
}

/// Writes the report with colour when `color`, no line longer than `width` columns (60 at least).
pub fn write_with(
    report: &Report,
    out: &mut dyn Write,
    color: bool,
    width: usize,
) -> io::Result<()> {
    let t = Term {
        p: Paint(color),
        width: width.max(60),
    };
    let mut lines = Vec::new();
    header(report, t, &mut lines);
    verdicts(report, t, &mut lines);
    comparison(report, t, &mut lines);
    operations(report, t, &mut lines);
    phases(report, t, &mut lines);
    faults_and_episodes(report, t, &mut lines);
    dependencies(report, t, &mut lines);
    health(report, t, &mut lines);
    if let Some((title, changes)) = super::ready::changes(report) {
        section(&title, t, &mut lines);
        lines.extend(super::ready::terminal_lines(&changes, t.width));
    }
    notes(report, t, &mut lines);
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// How to draw: colour or not, and the line width.
#[derive(Debug, Clone, Copy)]
struct Term {
    p: Paint,
    width: usize,
}

fn section(title: &str, t: Term, lines: &mut Vec<String>) {
    lines.push(String::new());
    for l in text::wrap(title, t.width) {
        lines.push(t.p.bold(l));
    }
}

fn header(report: &Report, t: Term, lines: &mut Vec<String>) {
    let (p, r) = (t.p, &report.result);
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
    lines.extend(text::wrap(&facts, t.width));
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

/// Where a verdict's text starts: after "  " and the widest status word ("INCONCLUSIVE").
const VERDICT_INDENT: usize = 2 + 12 + 2;

/// One block per verdict, so long texts wrap at word boundaries over the whole line instead of
/// inside narrow columns. The claim's spec line sits under the status word:
///
/// ```text
///   PASS          P50 latency of GET item is at most 15 ms
///   line 145      expected ≤ 15 ms · measured 8.5 ms over 345 requests (baseline)
/// ```
///
/// A fail or an inconclusive adds its detail (dimmed), so a person can act on it.
fn verdicts(report: &Report, t: Term, lines: &mut Vec<String>) {
    if report.verdicts().is_empty() {
        return;
    }
    section("Verdicts", t, lines);
    let text_width = t.width - VERDICT_INDENT;
    // Fails first, then inconclusives, then passes (each in the spec's order), as in the
    // Markdown and HTML reports: what needs a person sits right under the outcome.
    let mut sorted: Vec<&crate::result::Verdict> = report.verdicts().iter().collect();
    sorted.sort_by_key(|v| match v.status {
        VerdictStatus::Fail => 0,
        VerdictStatus::Inconclusive => 1,
        VerdictStatus::Pass => 2,
    });
    for v in sorted {
        let mut block: Vec<String> = text::wrap(&v.claim, text_width);
        // Expected and measured share a line when they fit; otherwise each starts its own.
        let facts = format!("expected {} · measured {}", v.expected, v.measured);
        if facts.chars().count() <= text_width {
            block.push(facts);
        } else {
            block.extend(text::wrap(&format!("expected {}", v.expected), text_width));
            block.extend(text::wrap(&format!("measured {}", v.measured), text_width));
        }
        let detail_from = block.len();
        if v.status != VerdictStatus::Pass && !v.detail.is_empty() {
            block.extend(text::wrap(&v.detail, text_width));
        }
        // The source goes under the status word when short (a line of the header's spec),
        // otherwise as the block's last line.
        let source = short_source(&v.source, report.result.spec.as_deref());
        let source_left = source.chars().count() <= 12;
        if !source_left {
            block.push(format!("({source})"));
        }
        for (i, l) in block.iter().enumerate() {
            let left = match i {
                0 => {
                    t.p.status(v.status, text::pad(text::status_label(v.status), 12, false))
                }
                1 if source_left => t.p.dim(text::pad(&source, 12, false)),
                _ => " ".repeat(12),
            };
            let l = if i >= detail_from {
                t.p.dim(l.clone())
            } else {
                l.clone()
            };
            lines.push(format!("  {left}  {l}").trim_end().to_string());
        }
    }
}

/// "line 145" for a claim of the spec named in the header; any other source as written.
fn short_source(source: &str, spec: Option<&str>) -> String {
    match (spec, source.rsplit_once(':')) {
        (Some(spec), Some((file, line))) if file == spec => format!("line {line}"),
        _ => source.to_string(),
    }
}

const OP_COLS: [Col; 7] = [
    col("REQUEST", 7),
    rcol("REQS", 6),
    rcol("ERR", 5),
    rcol("P50", 7),
    rcol("P95", 7),
    rcol("P99", 7),
    rcol("MAX", 7),
];

fn operations(report: &Report, t: Term, lines: &mut Vec<String>) {
    let p = t.p;
    if report.operations.is_empty() {
        return;
    }
    section(
        "Latency and errors per request (from intended send time, excl. warmup)",
        t,
        lines,
    );
    let mut rows: Vec<Vec<String>> = report
        .operations
        .iter()
        .map(|op| {
            let l = op.latency;
            vec![
                op.name.clone(),
                text::count(op.count),
                text::pct(op.error_pct),
                text::ms(l.p50),
                text::ms(l.p95),
                text::ms(l.p99),
                text::ms(l.max),
            ]
        })
        .collect();
    let cols = text::fit(&OP_COLS, &mut rows, t.width);
    lines.push(text::table(&cols, &[], &|_, _, s| s).remove(0));
    for (op, row) in report.operations.iter().zip(rows) {
        lines.extend(text::table(&cols, &[row], &|_, _, s| s).into_iter().skip(1));
        let mut facts = Vec::new();
        if let Some(spec_op) = &op.operation {
            facts.push(spec_op.clone());
        }
        facts.push(format!("status {}", text::tally(&op.statuses, 4)));
        if !op.error_kinds.is_empty() {
            facts.push(format!("failed: {}", text::tally(&op.error_kinds, 3)));
        }
        for d in text::wrap(&facts.join(" · "), t.width - 6) {
            lines.push(p.dim(format!("    {d}")));
        }
    }
}

const PHASE_COLS: [Col; 7] = [
    col("PHASE", 5),
    col("WINDOW", 6),
    rcol("REQS", 6),
    rcol("ERR", 5),
    rcol("5XX", 5),
    rcol("P50", 7),
    rcol("P99", 7),
];

fn phases(report: &Report, t: Term, lines: &mut Vec<String>) {
    if report.phases.is_empty() {
        return;
    }
    section("Phases", t, lines);
    let mut rows: Vec<Vec<String>> = report
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
    let cols = text::fit(&PHASE_COLS, &mut rows, t.width);
    lines.extend(text::table(&cols, &rows, &|_, _, s| s));
}

const EPISODE_COLS: [Col; 6] = [
    col("DEPENDENCY", 10),
    rcol("OPENED", 7),
    rcol("FAILS", 6),
    rcol("OPEN FOR", 8),
    rcol("PROBES", 6),
    col("OUTCOME", 7),
];

fn faults_and_episodes(report: &Report, t: Term, lines: &mut Vec<String>) {
    let r = &report.result;
    if !r.faults.is_empty() {
        section("Faults applied", t, lines);
        for f in &r.faults {
            let until = f
                .removed_at_s
                .map_or("end".to_string(), |t| format!("{t:.1} s"));
            let params = super::json::compact_params(&f.params);
            let line = format!(
                "{} on {} from {:.1} s to {until} {params} [{}]",
                f.kind, f.dependency, f.applied_at_s, f.source
            );
            for (i, l) in text::wrap(&line, t.width - 4).into_iter().enumerate() {
                lines.push(format!("{}{l}", if i == 0 { "  " } else { "    " }));
            }
        }
    }
    if r.dependencies.is_empty() && report.episodes().is_empty() {
        return;
    }
    section("Circuit-breaker episodes (seen from outside)", t, lines);
    if report.episodes().is_empty() {
        lines.push("  none: traffic to every dependency continued whenever clients called".into());
        return;
    }
    let mut rows: Vec<Vec<String>> = report
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
    let cols = text::fit(&EPISODE_COLS, &mut rows, t.width);
    lines.extend(text::table(&cols, &rows, &|_, _, s| s));
}

const DEP_COLS: [Col; 6] = [
    col("DEPENDENCY", 10),
    rcol("CALLS", 6),
    rcol("OK", 6),
    rcol("FAILED", 6),
    rcol("GAVE UP", 7),
    rcol("GAVE UP AT", 10),
];

fn dependencies(report: &Report, t: Term, lines: &mut Vec<String>) {
    let deps = &report.result.dependencies;
    if deps.is_empty() {
        return;
    }
    section("Dependencies (seen by the proxy)", t, lines);
    let mut rows: Vec<Vec<String>> = deps
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
    let cols = text::fit(&DEP_COLS, &mut rows, t.width);
    lines.extend(text::table(&cols, &rows, &|_, _, s| s));
}

const CMP_COLS: [Col; 6] = [
    col("REQUEST", 7),
    col("PCTL", 5),
    rcol("BASELINE", 8),
    rcol("NOW", 7),
    rcol("CHANGE", 7),
    col("JUDGED", 6),
];

fn comparison(report: &Report, t: Term, lines: &mut Vec<String>) {
    let p = t.p;
    let Some(cmp) = &report.comparison else {
        return;
    };
    section(
        &format!(
            "Against baseline {} ({})",
            cmp.baseline_scenario, cmp.baseline_started_at
        ),
        t,
        lines,
    );
    let mut rows: Vec<Vec<String>> = cmp
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
    let cols = text::fit(&CMP_COLS, &mut rows, t.width);
    lines.extend(text::table(&cols, &rows, &styled));
    for u in &cmp.unmatched {
        lines.push(format!("  not compared: {u}"));
    }
    lines.push(format!("  {} regression(s) flagged.", cmp.regressions()));
    for l in text::wrap(baseline::RULE, t.width - 4) {
        lines.push(p.dim(format!("  {l}")));
    }
}

fn health(report: &Report, t: Term, lines: &mut Vec<String>) {
    if report.health_changes.is_empty() {
        return;
    }
    section("Health endpoint (changes only)", t, lines);
    let changes: Vec<String> = report
        .health_changes
        .iter()
        .map(|(t, answer)| format!("{t:.1} s {answer}"))
        .collect();
    for l in text::wrap(&changes.join(" → "), t.width - 4) {
        lines.push(format!("  {l}"));
    }
}

fn notes(report: &Report, t: Term, lines: &mut Vec<String>) {
    let r = &report.result;
    let mut notes: Vec<String> = r.notes.clone();
    if r.client_log_truncated {
        notes.push("client log truncated (a bounded sample is kept)".into());
    }
    if notes.is_empty() {
        return;
    }
    section("Notes", t, lines);
    for n in notes {
        for (i, l) in text::wrap(&n, t.width - 4).into_iter().enumerate() {
            lines.push(format!("{}{l}", if i == 0 { "  - " } else { "    " }));
        }
    }
}
