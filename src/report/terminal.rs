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
pub(super) struct Paint(bool);

impl Paint {
    fn sgr(self, code: &str, s: String) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s
        }
    }
    pub(super) fn bold(self, s: String) -> String {
        self.sgr("1", s)
    }
    pub(super) fn dim(self, s: String) -> String {
        self.sgr("2", s)
    }
    pub(super) fn status(self, status: VerdictStatus, s: String) -> String {
        match status {
            VerdictStatus::Pass => self.sgr("32", s),
            VerdictStatus::Fail => self.sgr("1;31", s),
            VerdictStatus::Inconclusive => self.sgr("33", s),
        }
    }
    pub(super) fn outcome(self, o: Outcome, s: String) -> String {
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
    super::terminal_verdicts::verdicts(report, t, &mut lines);
    if let Some(c) = &report.result.capacity {
        section("Capacity search", t, &mut lines);
        super::capacity::terminal(c, t.width, &mut lines);
    }
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
pub(super) struct Term {
    pub p: Paint,
    pub width: usize,
}

pub(super) fn section(title: &str, t: Term, lines: &mut Vec<String>) {
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
    let judged = format!(
        "{} passed · {} failed · {} inconclusive",
        c.pass, c.fail, c.inconclusive
    );
    // A run that measured nothing, or mostly failures, says so on the badge's line, in bold.
    let (summary, bold) = match (&report.unanswered, &report.mostly_failed, report.outcome) {
        (Some(line), _, _) => (line.clone(), true),
        (None, Some(line), _) => (format!("{line} (no spec judged)"), true),
        (None, None, Outcome::Measured) => ("no spec judged: measurements only".to_string(), false),
        (None, None, _) => (judged.clone(), false),
    };
    let label = format!(" {} ", report.outcome.label());
    let indent = " ".repeat(label.chars().count() + 2);
    let badge = p.outcome(report.outcome, label);
    for (i, l) in text::wrap(&summary, t.width - indent.len())
        .into_iter()
        .enumerate()
    {
        let l = if bold { p.bold(l) } else { l };
        lines.push(if i == 0 {
            format!("{badge}  {l}")
        } else {
            format!("{indent}{l}")
        });
    }
    if report.unanswered.is_some() && !report.verdicts().is_empty() {
        lines.push(format!("{indent}{judged}"));
    }
}

const OP_COLS: [Col; 8] = [
    col("REQUEST", 7),
    rcol("REQS", 6),
    rcol("FALLBACK", 8),
    rcol("ERR", 5),
    rcol("P50", 7),
    rcol("P95", 7),
    rcol("P99", 7),
    rcol("MAX", 7),
];

/// The FALLBACK column only where the run had fallback windows (see `Report::shows_fallback`).
fn without_fallback(cols: &[Col], report: &Report) -> Vec<Col> {
    cols.iter()
        .filter(|c| report.shows_fallback() || c.header != "FALLBACK")
        .copied()
        .collect()
}

/// Errors and fallback cells: "2,971" / "0"; the fallback cell only when its column is shown.
fn answer_cells(report: &Report, a: super::model::Answers) -> Vec<String> {
    let mut cells = Vec::new();
    if report.shows_fallback() {
        cells.push(text::count(a.fallback));
    }
    cells.push(text::count(a.errors));
    cells
}

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
            let mut row = vec![op.name.clone(), text::count(op.count)];
            row.extend(answer_cells(report, op.answers));
            row.extend([
                text::ms(l.p50),
                text::ms(l.p95),
                text::ms(l.p99),
                text::ms(l.max),
            ]);
            row
        })
        .collect();
    let cols = text::fit(&without_fallback(&OP_COLS, report), &mut rows, t.width);
    lines.push(text::table(&cols, &[], &|_, _, s| s).remove(0));
    for (op, row) in report.operations.iter().zip(rows) {
        lines.extend(text::table(&cols, &[row], &|_, _, s| s).into_iter().skip(1));
        let mut facts = Vec::new();
        if let Some(spec_op) = &op.operation {
            facts.push(spec_op.clone());
        }
        if op.statuses.is_empty() {
            facts.push("no answer".to_string());
        } else {
            facts.push(format!("status {}", text::tally(&op.statuses, 4)));
        }
        let failed = text::failure_kinds(report, &op.error_kinds);
        if !failed.is_empty() {
            facts.push(format!("failed: {}", text::tally(&failed, 3)));
        }
        for d in text::wrap(&facts.join(" · "), t.width - 6) {
            lines.push(p.dim(format!("    {d}")));
        }
        for e in super::first_errors::shown(report, op) {
            for (i, l) in text::wrap(&e.line, t.width - 8).into_iter().enumerate() {
                lines.push(format!("{}{l}", if i == 0 { "    ! " } else { "      " }));
            }
            if let Some(hint) = &e.hint {
                for l in text::wrap(&format!("→ {hint}"), t.width - 8) {
                    lines.push(p.dim(format!("      {l}")));
                }
            }
        }
    }
    for l in text::wrap(&text::answers_legend(report), t.width - 2) {
        lines.push(p.dim(format!("  {l}")));
    }
}

const PHASE_COLS: [Col; 7] = [
    col("PHASE", 5),
    col("WINDOW", 6),
    rcol("REQS", 6),
    rcol("FALLBACK", 8),
    rcol("ERR", 5),
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
            let mut row = vec![
                ph.name.clone(),
                format!("{:.0}–{:.0} s", ph.from_s, ph.to_s),
                text::count(ph.count),
            ];
            row.extend(answer_cells(report, ph.answers));
            row.extend([text::ms(ph.p50_ms), text::ms(ph.p99_ms)]);
            row
        })
        .collect();
    let cols = text::fit(&without_fallback(&PHASE_COLS, report), &mut rows, t.width);
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
    let mut rows: Vec<Vec<String>> = report.episodes().iter().map(text::episode_cells).collect();
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
    for (name, d) in deps {
        lines.extend(text::tcp_connections(name, d).map(|l| format!("  {l}")));
    }
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
