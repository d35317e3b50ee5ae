//! Markdown renderer: the terminal report's content as GitHub-flavoured tables, for a pull-request
//! comment or a nightly log.

use std::io::{self, Write};

use crate::result::VerdictStatus;

use super::baseline::{self, Change};
use super::groups::{self, VerdictGroup};
use super::model::{Outcome, Report};
use super::text;

/// A pull-request comment should be short: the outcome and a summary line, the verdict table
/// (problems first), the per-request figures and the baseline comparison stay visible; the
/// reasons behind each fail and inconclusive and the run's other tables fold into `<details>`.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut md = String::new();
    header(report, &mut md);
    if let Some(c) = &report.result.capacity {
        super::capacity::markdown(c, &mut md, &table);
    }
    verdicts(report, &mut md);
    comparison(report, &mut md);
    operations(report, &mut md);
    let mut more = String::new();
    phases(report, &mut more);
    faults_and_episodes(report, &mut more);
    dependencies(report, &mut more);
    health(report, &mut more);
    super::ready::markdown(report, &mut more);
    notes(report, &mut more);
    if !more.is_empty() {
        details(
            &mut md,
            "Phases, faults, breaker, dependencies and notes",
            &more,
        );
    }
    out.write_all(md.as_bytes())
}

/// A collapsed block; GitHub renders Markdown inside it when blank lines surround the body.
fn details(md: &mut String, summary: &str, body: &str) {
    md.push_str(&format!(
        "<details>\n<summary>{}</summary>\n\n{}</details>\n\n",
        summary.replace('<', "&lt;"),
        body
    ));
}

/// Escapes what would break a table cell or start markup.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
}

fn table(md: &mut String, header: &[&str], align: &str, rows: &[Vec<String>]) {
    md.push_str(&format!("| {} |\n", header.join(" | ")));
    let seps: Vec<&str> = align
        .chars()
        .map(|a| if a == 'r' { "---:" } else { "---" })
        .collect();
    md.push_str(&format!("|{}|\n", seps.join("|")));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        md.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    md.push('\n');
}

fn icon(s: VerdictStatus) -> &'static str {
    match s {
        VerdictStatus::Pass => "✅",
        VerdictStatus::Fail => "❌",
        VerdictStatus::Inconclusive => "⚠️",
    }
}

fn header(report: &Report, md: &mut String) {
    let r = &report.result;
    let badge = match report.outcome {
        Outcome::Pass => "✅ PASS",
        Outcome::Fail => "❌ FAIL",
        Outcome::Inconclusive => "⚠️ INCONCLUSIVE",
        Outcome::Measured => "📏 MEASURED",
    };
    md.push_str(&format!(
        "### {badge} · redline · {}\n\n",
        cell(&r.scenario)
    ));
    let c = report.counts;
    let mut summary = if let Some(line) = &report.unanswered {
        let mut s = format!("**{}**", cell(line));
        if !report.verdicts().is_empty() {
            s.push_str(&format!(
                "<br>\n{} passed · {} failed · {} inconclusive",
                c.pass, c.fail, c.inconclusive
            ));
        }
        s
    } else if let Some(line) = &report.mostly_failed {
        format!("**{}** (no spec judged)", cell(line))
    } else if report.outcome == Outcome::Measured {
        "No spec judged: measurements only.".to_string()
    } else {
        let mut s = format!(
            "**{} passed · {} failed · {} inconclusive**",
            c.pass, c.fail, c.inconclusive
        );
        if let Some(spec) = &r.spec {
            s.push_str(&format!(" against `{spec}`"));
        }
        s
    };
    summary.push_str(&format!(
        "<br>\n{} · {} · {} requests · {:.0} req/s · {} errors{} · {} dropped · seed {}{}\n\n",
        r.started_at,
        text::secs(r.duration_s),
        text::count(r.totals.sent),
        r.totals.rps,
        text::count(report.answers.errors),
        if report.shows_fallback() {
            format!(
                " · {} fallback answers",
                text::count(report.answers.fallback)
            )
        } else {
            String::new()
        },
        text::count(r.totals.dropped),
        r.seed,
        if r.interrupted {
            " · **interrupted**"
        } else {
            ""
        }
    ));
    md.push_str(&summary);
}

/// Table rows of verdict groups: a claim judged once is one row; a claim judged per phase is a
/// heading row then a row per phase ("↳ recovery"), worst first.
fn verdict_rows(groups: &[&VerdictGroup]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for g in groups {
        if !g.is_grouped() {
            let v = g.rows[0].verdict;
            rows.push(vec![
                icon(v.status).to_string(),
                v.claim.clone(),
                v.expected.clone(),
                v.measured.clone(),
            ]);
            continue;
        }
        rows.push(vec![
            icon(g.status).to_string(),
            g.claim.clone(),
            g.expected.clone(),
            groups::tally(g),
        ]);
        for r in &g.rows {
            rows.push(vec![
                icon(r.verdict.status).to_string(),
                format!("↳ {}", r.phase.as_deref().unwrap_or("")),
                String::new(),
                r.measured(),
            ]);
        }
    }
    rows
}

/// The reasons behind each fail and inconclusive, one bullet each (a reason shared by several
/// phases of one claim once).
fn reasons(groups: &[&VerdictGroup]) -> String {
    let mut why = String::new();
    for g in groups {
        for (r, detail) in g.rows.iter().zip(groups::details(g)) {
            let Some(detail) = detail else { continue };
            let phase = r
                .phase
                .as_deref()
                .map_or(String::new(), |p| format!(", {p}"));
            why.push_str(&format!(
                "- {} **{}**{} (`{}`): {}\n",
                icon(r.verdict.status),
                cell(&g.claim),
                cell(&phase),
                g.source,
                cell(&detail.full())
            ));
        }
    }
    why.push('\n');
    why
}

/// The fails and inconclusives in a visible table with their reasons folded below it; the
/// passes folded in a table of their own.
fn verdicts(report: &Report, md: &mut String) {
    if report.verdicts().is_empty() {
        return;
    }
    let all = groups::group(report.verdicts());
    let (open, passed): (Vec<&VerdictGroup>, Vec<&VerdictGroup>) =
        all.iter().partition(|g| g.status != VerdictStatus::Pass);
    let header = ["", "claim", "expected", "measured"];
    if !open.is_empty() {
        table(md, &header, "llll", &verdict_rows(&open));
        let c = report.counts;
        let summary = match (c.fail, c.inconclusive) {
            (0, n) => format!("Why {n} claim(s) are inconclusive"),
            (n, 0) => format!("Why {n} claim(s) failed"),
            (f, i) => format!("Why {f} claim(s) failed and {i} are inconclusive"),
        };
        details(md, &summary, &reasons(&open));
    }
    if !passed.is_empty() {
        let mut body = String::new();
        table(&mut body, &header, "llll", &verdict_rows(&passed));
        let n: usize = passed.iter().map(|g| g.rows.len()).sum();
        details(md, &format!("{n} claim(s) passed"), &body);
    }
}

/// "2,971 (44%)": errors and their share of the requests that were not fallback answers.
fn errors_cell(a: super::model::Answers) -> String {
    format!("{} ({})", text::count(a.errors), text::pct(a.error_pct()))
}

fn operations(report: &Report, md: &mut String) {
    if report.operations.is_empty() {
        return;
    }
    md.push_str(
        "**Latency and errors per request** (from the intended send time, warmup excluded)\n\n",
    );
    let fallback = report.shows_fallback();
    let rows: Vec<Vec<String>> = report
        .operations
        .iter()
        .map(|op| {
            let l = op.latency;
            let mut row = vec![
                op.name.clone(),
                op.operation.clone().unwrap_or_default(),
                text::count(op.count),
            ];
            if fallback {
                row.push(text::count(op.answers.fallback));
            }
            row.extend([
                errors_cell(op.answers),
                text::ms(l.p50),
                text::ms(l.p95),
                text::ms(l.p99),
                text::ms(l.p999),
                text::ms(l.max),
                text::tally(&op.statuses, 4),
            ]);
            row
        })
        .collect();
    let mut header = vec!["request", "spec operation", "requests"];
    if fallback {
        header.push("fallback");
    }
    header.extend(["errors", "P50", "P95", "P99", "P99.9", "max", "status"]);
    let align = if fallback {
        "llrrrrrrrrl"
    } else {
        "llrrrrrrrl"
    };
    table(md, &header, align, &rows);
    first_errors(report, md);
    md.push_str(&format!("{}\n\n", cell(&text::answers_legend(report))));
}

/// Under the table: each request's first failure messages, verbatim in code spans, with hints.
fn first_errors(report: &Report, md: &mut String) {
    for op in &report.operations {
        let shown = super::first_errors::shown(report, op);
        if shown.is_empty() {
            continue;
        }
        md.push_str(&format!(
            "First errors of `{}`:\n\n",
            op.name.replace('`', "'")
        ));
        for e in shown {
            md.push_str(&format!("- `{}`", e.line.replace('`', "'")));
            if let Some(hint) = &e.hint {
                md.push_str(&format!("<br>→ {}", cell(hint)));
            }
            md.push('\n');
        }
        md.push('\n');
    }
}

fn phases(report: &Report, md: &mut String) {
    if report.phases.is_empty() {
        return;
    }
    md.push_str("#### Phases\n\n");
    let fallback = report.shows_fallback();
    let rows: Vec<Vec<String>> = report
        .phases
        .iter()
        .map(|p| {
            let mut row = vec![
                p.name.clone(),
                format!("{:.1}–{:.1} s", p.from_s, p.to_s),
                text::count(p.count),
            ];
            if fallback {
                row.push(text::count(p.answers.fallback));
            }
            row.extend([
                errors_cell(p.answers),
                text::ms(p.p50_ms),
                text::ms(p.p99_ms),
                text::ms(p.max_ms),
            ]);
            row
        })
        .collect();
    let mut header = vec!["phase", "window", "requests"];
    if fallback {
        header.push("fallback");
    }
    header.extend(["errors", "P50", "P99", "max"]);
    let align = if fallback { "llrrrrrr" } else { "llrrrrr" };
    table(md, &header, align, &rows);
}

fn faults_and_episodes(report: &Report, md: &mut String) {
    let r = &report.result;
    if !r.faults.is_empty() {
        md.push_str("#### Faults applied\n\n");
        let rows: Vec<Vec<String>> = r
            .faults
            .iter()
            .map(|f| {
                vec![
                    f.dependency.clone(),
                    f.kind.clone(),
                    super::json::compact_params(&f.params),
                    format!("{:.1} s", f.applied_at_s),
                    f.removed_at_s.map_or("end".into(), |t| format!("{t:.1} s")),
                    f.source.clone(),
                ]
            })
            .collect();
        table(
            md,
            &["dependency", "fault", "parameters", "from", "to", "source"],
            "llllll",
            &rows,
        );
    }
    if r.dependencies.is_empty() && report.episodes().is_empty() {
        return;
    }
    md.push_str("#### Circuit-breaker episodes\n\n");
    if report.episodes().is_empty() {
        md.push_str(
            "None seen: traffic to every dependency continued whenever clients called.\n\n",
        );
        return;
    }
    let rows: Vec<Vec<String>> = report.episodes().iter().map(text::episode_cells).collect();
    let header = [
        "dependency",
        "opened at",
        "failures before",
        "open for",
        "probes",
        "outcome",
    ];
    table(md, &header, "lrrrrl", &rows);
}

fn dependencies(report: &Report, md: &mut String) {
    let deps = &report.result.dependencies;
    if deps.is_empty() {
        return;
    }
    md.push_str("#### Dependencies (seen by the proxy)\n\n");
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
                d.gave_up_ms.map_or("–".into(), |g| {
                    format!("p50 {} · p99 {}", text::ms(g.p50), text::ms(g.p99))
                }),
            ]
        })
        .collect();
    let header = [
        "dependency",
        "calls",
        "ok",
        "failed",
        "caller gave up",
        "gave up after",
    ];
    table(md, &header, "lrrrrl", &rows);
    for (name, d) in deps {
        if let Some(line) = text::tcp_connections(name, d) {
            md.push_str(&format!("- {line}\n"));
        }
    }
    if deps.values().any(|d| d.connections.is_some()) {
        md.push('\n');
    }
}

fn comparison(report: &Report, md: &mut String) {
    let Some(cmp) = &report.comparison else {
        return;
    };
    md.push_str(&format!(
        "#### Against baseline `{}` ({})\n\n",
        cmp.baseline_scenario, cmp.baseline_started_at
    ));
    let rows: Vec<Vec<String>> = cmp
        .rows
        .iter()
        .map(|r| {
            let judged = match r.change {
                Change::Regression => "🔺 **regression**".to_string(),
                Change::Improvement => "🔻 improvement".to_string(),
                other => other.label().to_string(),
            };
            vec![
                r.operation.clone(),
                r.percentile.to_string(),
                text::opt_ms(r.baseline_ms),
                text::opt_ms(r.current_ms),
                text::change(r.change_pct),
                judged,
            ]
        })
        .collect();
    table(
        md,
        &[
            "request",
            "percentile",
            "baseline",
            "now",
            "change",
            "judged",
        ],
        "llrrrl",
        &rows,
    );
    for u in &cmp.unmatched {
        md.push_str(&format!("- not compared: {}\n", cell(u)));
    }
    md.push_str(&format!(
        "**{} regression(s) flagged.** _Rule:_ {}\n\n",
        cmp.regressions(),
        baseline::RULE
    ));
}

fn health(report: &Report, md: &mut String) {
    if report.health_changes.is_empty() {
        return;
    }
    md.push_str("#### Health endpoint (changes only)\n\n");
    let changes: Vec<String> = report
        .health_changes
        .iter()
        .map(|(t, answer)| format!("{t:.1} s **{}**", cell(answer)))
        .collect();
    md.push_str(&changes.join(" → "));
    md.push_str("\n\n");
}

fn notes(report: &Report, md: &mut String) {
    let r = &report.result;
    if r.notes.is_empty() && !r.client_log_truncated {
        return;
    }
    md.push_str("#### Notes\n\n");
    for n in &r.notes {
        md.push_str(&format!("- {}\n", cell(n)));
    }
    if r.client_log_truncated {
        md.push_str("- client log truncated (a bounded sample is kept)\n");
    }
    md.push('\n');
}
