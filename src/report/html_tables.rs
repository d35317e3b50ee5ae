//! The HTML report's measurement tables: requests, phases, faults, breaker episodes, dependencies.

use std::fmt::Write as _;

use super::html::esc;
use super::model::{Answers, Report};
use super::text;

pub fn tables(report: &Report, h: &mut String) {
    h.push_str("<section>\n<h2>Measurements</h2>\n");
    operations(report, h);
    phases(report, h);
    faults(report, h);
    episodes(report, h);
    dependencies(report, h);
    health(report, h);
    super::ready::html(report, h);
    notes(report, h);
    h.push_str("</section>\n");
}

fn head(h: &mut String, title: &str, cols: &[&str]) {
    let _ = write!(h, "<h3>{}</h3>\n<table>\n<thead><tr>", esc(title));
    for c in cols {
        // A leading '#' marks a numeric (right-aligned) column.
        match c.strip_prefix('#') {
            Some(name) => {
                let _ = write!(h, "<th class=\"num\">{name}</th>");
            }
            None => {
                let _ = write!(h, "<th>{c}</th>");
            }
        }
    }
    h.push_str("</tr></thead>\n<tbody>\n");
}

fn row(h: &mut String, cols: &[&str], cells: &[String]) {
    h.push_str("<tr>");
    for (c, cell) in cols.iter().zip(cells) {
        let class = if c.starts_with('#') {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(h, "<td{class}>{}</td>", esc(cell));
    }
    h.push_str("</tr>\n");
}

fn end(h: &mut String) {
    h.push_str("</tbody>\n</table>\n");
}

/// "2,971 (44%)": errors and their share of the requests that were not fallback answers.
fn errors_cell(a: Answers) -> String {
    format!("{} ({})", text::count(a.errors), text::pct(a.error_pct()))
}

/// The columns, without "#fallback" when the report has no fallback windows.
fn columns<'a>(report: &Report, cols: &[&'a str]) -> Vec<&'a str> {
    cols.iter()
        .filter(|c| report.shows_fallback() || **c != "#fallback")
        .copied()
        .collect()
}

/// The fallback cell (when shown) and the errors cell.
fn answer_cells(report: &Report, a: Answers) -> Vec<String> {
    let mut cells = Vec::new();
    if report.shows_fallback() {
        cells.push(text::count(a.fallback));
    }
    cells.push(errors_cell(a));
    cells
}

fn operations(report: &Report, h: &mut String) {
    if report.operations.is_empty() {
        return;
    }
    let cols = columns(
        report,
        &[
            "request",
            "spec operation",
            "#requests",
            "#fallback",
            "#errors",
            "#P50",
            "#P95",
            "#P99",
            "#P99.9",
            "#max",
            "status",
        ],
    );
    head(
        h,
        "Latency and errors per request (from intended send time, warmup excluded)",
        &cols,
    );
    for op in &report.operations {
        let l = op.latency;
        let mut status = text::tally(&op.statuses, 4);
        let failed = text::failure_kinds(report, &op.error_kinds);
        if !failed.is_empty() {
            status.push_str(&format!(" · failed {}", text::tally(&failed, 3)));
        }
        let mut cells = vec![
            op.name.clone(),
            op.operation.clone().unwrap_or_default(),
            text::count(op.count),
        ];
        cells.extend(answer_cells(report, op.answers));
        cells.extend([
            text::ms(l.p50),
            text::ms(l.p95),
            text::ms(l.p99),
            text::ms(l.p999),
            text::ms(l.max),
            status,
        ]);
        row(h, &cols, &cells);
        first_errors(report, op, cols.len(), h);
    }
    end(h);
    let _ = writeln!(
        h,
        "<p class=\"legend\">{}</p>",
        esc(&text::answers_legend(report))
    );
}

/// A row under the request's row: its first failure messages, verbatim, each with its hint.
fn first_errors(report: &Report, op: &super::model::OperationRow, span: usize, h: &mut String) {
    let shown = super::first_errors::shown(report, op);
    if shown.is_empty() {
        return;
    }
    let _ = write!(h, "<tr class=\"errors\"><td colspan=\"{span}\"><ul>");
    for e in shown {
        let _ = write!(h, "<li><code>{}</code>", esc(&e.line));
        if let Some(hint) = &e.hint {
            let _ = write!(h, "<br><span class=\"hint\">→ {}</span>", esc(hint));
        }
        h.push_str("</li>");
    }
    h.push_str("</ul></td></tr>\n");
}

fn phases(report: &Report, h: &mut String) {
    if report.phases.is_empty() {
        return;
    }
    let cols = columns(
        report,
        &[
            "phase",
            "kind",
            "window",
            "#requests",
            "#fallback",
            "#errors",
            "#P50",
            "#P99",
            "#max",
        ],
    );
    head(h, "Phases", &cols);
    for p in &report.phases {
        let mut cells = vec![
            p.name.clone(),
            format!("{:?}", p.kind).to_lowercase(),
            format!("{:.1}–{:.1} s", p.from_s, p.to_s),
            text::count(p.count),
        ];
        cells.extend(answer_cells(report, p.answers));
        cells.extend([text::ms(p.p50_ms), text::ms(p.p99_ms), text::ms(p.max_ms)]);
        row(h, &cols, &cells);
    }
    end(h);
    phase_operations(report, h);
}

/// Each request's latency in each phase: how a fault moved one operation and not another.
fn phase_operations(report: &Report, h: &mut String) {
    let cols = columns(
        report,
        &[
            "phase",
            "request",
            "#requests",
            "#fallback",
            "#errors",
            "#P50",
            "#P95",
            "#P99",
            "#max",
        ],
    );
    head(h, "Per phase and request", &cols);
    for (p, row_model) in report.result.phases.iter().zip(&report.phases) {
        for (name, o) in &p.operations {
            let a = row_model
                .per_request
                .iter()
                .find(|(n, _)| n == name)
                .map_or_else(Answers::default, |(_, a)| *a);
            let l = o.latency_ms;
            let mut cells = vec![p.name.clone(), name.clone(), text::count(o.count)];
            cells.extend(answer_cells(report, a));
            cells.extend([
                text::ms(l.p50),
                text::ms(l.p95),
                text::ms(l.p99),
                text::ms(l.max),
            ]);
            row(h, &cols, &cells);
        }
    }
    end(h);
}

fn faults(report: &Report, h: &mut String) {
    let r = &report.result;
    if r.faults.is_empty() {
        return;
    }
    let cols = [
        "dependency",
        "fault",
        "parameters",
        "#from",
        "#to",
        "source",
    ];
    head(h, "Faults applied", &cols);
    for f in &r.faults {
        let cells = [
            f.dependency.clone(),
            f.kind.clone(),
            super::json::compact_params(&f.params),
            text::secs(f.applied_at_s),
            f.removed_at_s.map_or("end".into(), text::secs),
            f.source.clone(),
        ];
        row(h, &cols, &cells);
    }
    end(h);
}

fn episodes(report: &Report, h: &mut String) {
    if report.result.dependencies.is_empty() && report.episodes().is_empty() {
        return;
    }
    if report.episodes().is_empty() {
        h.push_str("<h3>Circuit-breaker episodes</h3>\n<p class=\"note\">None seen: traffic to every dependency \
                    continued whenever clients called.</p>\n");
        return;
    }
    let cols = [
        "dependency",
        "#opened at",
        "#failures before open",
        "#open for",
        "#probes",
        "outcome",
    ];
    head(h, "Circuit-breaker episodes (seen from outside)", &cols);
    for e in report.episodes() {
        row(h, &cols, &text::episode_cells(e));
    }
    end(h);
}

fn dependencies(report: &Report, h: &mut String) {
    let deps = &report.result.dependencies;
    if deps.is_empty() {
        return;
    }
    let cols = [
        "dependency",
        "upstream",
        "#calls",
        "outcomes",
        "faults injected",
        "caller gave up after",
    ];
    head(h, "Dependencies (seen by the fault proxy)", &cols);
    for (name, d) in deps {
        let tally = |m: &std::collections::BTreeMap<String, u64>| {
            let items: Vec<(String, u64)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
            text::tally(&items, 5)
        };
        let cells = [
            name.clone(),
            format!("{} ({})", d.upstream, d.protocol),
            text::count(d.requests),
            tally(&d.outcomes),
            tally(&d.faults_injected),
            d.gave_up_ms.map_or("–".into(), |g| {
                format!(
                    "P50 {} · P99 {} · max {}",
                    text::ms(g.p50),
                    text::ms(g.p99),
                    text::ms(g.max)
                )
            }),
        ];
        row(h, &cols, &cells);
    }
    end(h);
}

fn health(report: &Report, h: &mut String) {
    if report.health_changes.is_empty() {
        return;
    }
    let cols = ["#at", "health endpoint answered"];
    head(h, "Health endpoint (changes only)", &cols);
    for (t, answer) in &report.health_changes {
        row(h, &cols, &[text::secs(*t), answer.clone()]);
    }
    end(h);
}

fn notes(report: &Report, h: &mut String) {
    let r = &report.result;
    if r.notes.is_empty() {
        return;
    }
    h.push_str("<h3>Notes</h3>\n<ul class=\"notes\">\n");
    for n in &r.notes {
        let _ = writeln!(h, "<li>{}</li>", esc(n));
    }
    h.push_str("</ul>\n");
}
