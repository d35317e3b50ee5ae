//! The terminal report's verdicts: one block per claim (a claim judged per phase is one block
//! with a line per phase), fails first, laid out for the terminal's width.

use crate::result::{Verdict, VerdictStatus};

use super::groups;
use super::model::Report;
use super::terminal::{section, Term};
use super::text;

/// Where a verdict's text starts: after "  " and the widest status word ("INCONCLUSIVE").
const VERDICT_INDENT: usize = 2 + 12 + 2;

/// How one line of a verdict block is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Look {
    Plain,
    Dim,
    Status(VerdictStatus),
}

/// One block per claim, so long texts wrap at word boundaries over the whole line instead of
/// inside narrow columns. The claim's spec line sits under the status word:
///
/// ```text
///   PASS          P50 latency of GET item is at most 15 ms
///   line 145      expected ≤ 15 ms · measured 8.5 ms over 345 requests (baseline)
/// ```
///
/// A fail or an inconclusive adds its detail (dimmed), so a person can act on it. A claim judged
/// in several phases is one block with a line per phase, worst first.
pub(super) fn verdicts(report: &Report, t: Term, lines: &mut Vec<String>) {
    if report.verdicts().is_empty() {
        return;
    }
    section("Verdicts", t, lines);
    let text_width = t.width - VERDICT_INDENT;
    // Fails first, then inconclusives, then passes (each in the spec's order), as in the
    // Markdown and HTML reports: what needs a person sits right under the outcome.
    for g in groups::group(report.verdicts()) {
        let block = if g.is_grouped() {
            grouped_block(&g, text_width)
        } else {
            single_block(g.rows[0].verdict, text_width)
        };
        let source = short_source(&g.source, report.result.spec.as_deref());
        draw_block(block, g.status, &source, t, lines);
    }
}

fn single_block(v: &Verdict, text_width: usize) -> Vec<(String, Look)> {
    let plain = |s: String| (s, Look::Plain);
    let mut block: Vec<(String, Look)> = text::wrap(&v.claim, text_width)
        .into_iter()
        .map(plain)
        .collect();
    // Expected and measured share a line when they fit; otherwise each starts its own.
    let facts = format!("expected {} · measured {}", v.expected, v.measured);
    if facts.chars().count() <= text_width {
        block.push(plain(facts));
    } else {
        block.extend(
            text::wrap(&format!("expected {}", v.expected), text_width)
                .into_iter()
                .map(plain),
        );
        block.extend(
            text::wrap(&format!("measured {}", v.measured), text_width)
                .into_iter()
                .map(plain),
        );
    }
    if v.status != VerdictStatus::Pass && !v.detail.is_empty() {
        block.extend(
            text::wrap(&v.detail, text_width)
                .into_iter()
                .map(|l| (l, Look::Dim)),
        );
    }
    block
}

/// The claim, what it expects and how the phases went, then a line per phase ("fail ·
/// recovery: 97% (12 errors in 400)"), with the reason under each that did not pass.
fn grouped_block(g: &groups::VerdictGroup, text_width: usize) -> Vec<(String, Look)> {
    let plain = |s: String| (s, Look::Plain);
    let mut block: Vec<(String, Look)> = text::wrap(&g.claim, text_width)
        .into_iter()
        .map(plain)
        .collect();
    let facts = format!("expected {} · {}", g.expected, groups::tally(g));
    block.extend(text::wrap(&facts, text_width).into_iter().map(plain));
    for (r, detail) in g.rows.iter().zip(groups::details(g)) {
        let v = r.verdict;
        let line = format!(
            "{} · {}: {}",
            text::status_label(v.status).to_lowercase(),
            r.phase.as_deref().unwrap_or(""),
            r.measured()
        );
        for (i, l) in text::wrap(&line, text_width - 2).into_iter().enumerate() {
            let l = if i == 0 { l } else { format!("  {l}") };
            block.push((l, Look::Status(v.status)));
        }
        for l in detail.map_or(Vec::new(), |d| text::wrap(&d.full(), text_width - 2)) {
            block.push((format!("  {l}"), Look::Dim));
        }
    }
    block
}

/// Draws a block: the status word on its first line, the source under it when short (a line of
/// the header's spec), otherwise as the block's last line.
fn draw_block(
    mut block: Vec<(String, Look)>,
    status: VerdictStatus,
    source: &str,
    t: Term,
    lines: &mut Vec<String>,
) {
    let source_left = source.chars().count() <= 12;
    if !source_left {
        block.push((format!("({source})"), Look::Plain));
    }
    for (i, (l, look)) in block.into_iter().enumerate() {
        let left = match i {
            0 => {
                t.p.status(status, text::pad(text::status_label(status), 12, false))
            }
            1 if source_left => t.p.dim(text::pad(source, 12, false)),
            _ => " ".repeat(12),
        };
        let l = match look {
            Look::Plain => l,
            Look::Dim => t.p.dim(l),
            Look::Status(s) => t.p.status(s, l),
        };
        lines.push(format!("  {left}  {l}").trim_end().to_string());
    }
}

/// "line 145" for a claim of the spec named in the header; any other source as written.
fn short_source(source: &str, spec: Option<&str>) -> String {
    match (spec, source.rsplit_once(':')) {
        (Some(spec), Some((file, line))) if file == spec => format!("line {line}"),
        _ => source.to_string(),
    }
}
