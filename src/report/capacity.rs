//! The capacity search in every report: the one-line answer and a table of the steps (terminal,
//! Markdown, HTML), and in the HTML the chart of each claimed percentile against the offered rate.

use std::fmt::Write as _;

use crate::capacity::answer::summary;
use crate::capacity::search::fmt_rate;
use crate::result::{Capacity, CapacityStep};

use super::html::esc;
use super::text::{self, col, rcol, Col};

pub const HEADER: [&str; 9] = [
    "step",
    "phase",
    "offered",
    "answered",
    "judged",
    "holds",
    "worst p50/p95/p99",
    "errors",
    "failed claims",
];

const COLS: [Col; 9] = [
    rcol("STEP", 4),
    col("PHASE", 7),
    rcol("OFFERED", 9),
    rcol("ANSWERED", 9),
    rcol("JUDGED", 6),
    col("HOLDS", 5),
    rcol("P50/P95/P99", 12),
    rcol("ERR", 5),
    col("FAILED", 20),
];

fn holds(s: &CapacityStep) -> &'static str {
    match s.holds {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// Worst request's percentiles in the step: "12/31/48 ms".
fn worst(s: &CapacityStep) -> String {
    let max = |f: fn(&crate::result::StepOperation) -> f64| {
        s.operations.values().map(f).fold(0.0, f64::max)
    };
    format!(
        "{:.0}/{:.0}/{:.0} ms",
        max(|o| o.p50_ms),
        max(|o| o.p95_ms),
        max(|o| o.p99_ms)
    )
}

/// One row per step, the same cells in every format.
pub fn rows(c: &Capacity) -> Vec<Vec<String>> {
    c.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut failed = s.failed_claims.join(", ");
            if failed.is_empty() && !s.inconclusive_claims.is_empty() {
                failed = format!("inconclusive: {}", s.inconclusive_claims.join(", "));
            }
            vec![
                (i + 1).to_string(),
                s.phase.clone(),
                fmt_rate(s.rate),
                fmt_rate(s.achieved_rate),
                text::secs(s.duration_s),
                holds(s).to_string(),
                worst(s),
                text::pct(s.error_rate * 100.0),
                failed,
            ]
        })
        .collect()
}

/// What the search judged and how it ended, under the answer.
fn facts(c: &Capacity) -> String {
    format!(
        "{} steps in {} of a {} budget · precision {} · {}",
        c.steps.len(),
        text::secs(c.elapsed_s),
        text::secs(c.budget_s),
        text::pct(c.precision * 100.0),
        c.reason
    )
}

pub fn terminal(c: &Capacity, width: usize, lines: &mut Vec<String>) {
    lines.extend(text::wrap(&summary(c), width));
    lines.extend(text::wrap(&facts(c), width));
    for k in &c.criteria {
        lines.extend(text::wrap(&format!("  judged: {k}"), width));
    }
    // The failed claims go under the table, wrapped: as a last column, six ids ran to 200 columns.
    let mut rows = rows(c);
    let failed: Vec<String> = rows
        .iter_mut()
        .map(|r| r.pop().unwrap_or_default())
        .collect();
    let cols = text::fit(&COLS[..COLS.len() - 1], &mut rows, width);
    lines.extend(text::table(&cols, &rows, &|_, _, s| s));
    for (i, f) in failed.iter().enumerate().filter(|(_, f)| !f.is_empty()) {
        let what = if f.starts_with("inconclusive") {
            ""
        } else {
            "failed: "
        };
        lines.extend(text::wrap(&format!("  step {} {what}{f}", i + 1), width));
    }
}

/// The Markdown renderer's own table writer (header, column alignment, rows).
pub type MdTable = dyn Fn(&mut String, &[&str], &str, &[Vec<String>]);

pub fn markdown(c: &Capacity, md: &mut String, table: &MdTable) {
    let _ = writeln!(md, "**{}**\n\n{}\n", summary(c), facts(c));
    for k in &c.criteria {
        let _ = writeln!(md, "- judged: {k}");
    }
    md.push('\n');
    table(md, &HEADER, "rlrrrlrrl", &rows(c));
}

pub fn html(c: &Capacity, h: &mut String) {
    let _ = writeln!(
        h,
        "<section id=\"capacity\">\n<h2>Capacity</h2>\n<p class=\"answer\"><strong>{}</strong></p>\n<p>{}</p>",
        esc(&summary(c)),
        esc(&facts(c))
    );
    if !c.criteria.is_empty() {
        h.push_str("<ul>");
        for k in &c.criteria {
            let _ = write!(h, "<li>judged: {}</li>", esc(k));
        }
        h.push_str("</ul>\n");
    }
    let mut caption = "Each judged percentile at each step's offered rate (dots: the search's steps, squares: its verification runs; filled when the step held), \
                   the claim as a dashed line, the capacity found (the knee) as a green vertical line and the \
                   first rate that failed above it in red."
        .to_string();
    let hidden = super::charts::capacity::left_out(c);
    if hidden > 0 {
        caption.push_str(&format!(
            " Drawn: the limiting claim and those that failed in the most steps; {hidden} other percentile claim(s) are in the table only."
        ));
    }
    let _ = writeln!(
        h,
        "<figure>\n<figcaption><h3>Latency against offered rate</h3><p>{}</p></figcaption>",
        esc(&caption)
    );
    match super::charts::capacity::chart(c) {
        Ok(svg) => h.push_str(&svg.replacen(
            "<svg ",
            "<svg role=\"img\" aria-label=\"Latency against offered rate\" ",
            1,
        )),
        Err(e) => {
            let _ = write!(
                h,
                "<p class=\"note\">chart not drawn: {}</p>",
                esc(&e.to_string())
            );
        }
    }
    h.push_str("\n</figure>\n<table>\n<thead><tr>");
    for head in HEADER {
        let _ = write!(h, "<th>{}</th>", esc(head));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows(c) {
        h.push_str("<tr>");
        for cell in row {
            let _ = write!(h, "<td>{}</td>", esc(&cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_table_fits_the_terminal_width() {
        let failed: Vec<String> = [
            "get-item",
            "list-items",
            "create-item",
            "update-item",
            "delete-item",
        ]
        .iter()
        .map(|op| format!("latency.{op}.p99"))
        .collect();
        let step = CapacityStep {
            phase: "bisect".into(),
            rate: 708.0,
            achieved_rate: 711.2,
            duration_s: 20.0,
            holds: Some(false),
            failed_claims: failed.clone(),
            ..Default::default()
        };
        let c = Capacity {
            steps: vec![step],
            ..Default::default()
        };
        let mut lines = Vec::new();
        terminal(&c, 80, &mut lines);
        let table: Vec<&String> = lines.iter().skip_while(|l| !l.contains("STEP")).collect();
        assert!(table.len() > 2, "{lines:#?}");
        for l in &table {
            assert!(
                l.chars().count() <= 80,
                "{} columns: {l}",
                l.chars().count()
            );
        }
        let all = lines.join(" ");
        for id in &failed {
            assert!(all.contains(id.as_str()), "{id} missing: {lines:#?}");
        }
    }
}
