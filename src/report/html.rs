//! HTML renderer: one self-contained page (inline CSS and SVG, no script, no network) with the
//! verdict summary on top, the charts, then the tables.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::result::VerdictStatus;

use super::baseline::{self, Change};
use super::charts;
use super::groups::{self, VerdictGroup};
use super::model::{Outcome, Report};
use super::text;

const CSS: &str = include_str!("html.css");

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let r = &report.result;
    let mut h = String::with_capacity(256 * 1024);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · {} · redline</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>",
        report.outcome.label(),
        esc(&r.scenario)
    );
    header(report, &mut h);
    if let Some(c) = &r.capacity {
        super::capacity::html(c, &mut h);
    }
    verdicts(report, &mut h);
    // On a nightly run the comparison is the news, so it comes right after the verdicts.
    comparison(report, &mut h);
    charts_section(report, &mut h);
    super::html_tables::tables(report, &mut h);
    let _ = writeln!(
        h,
        "<footer>redline · result.json schema v{} · run started {}</footer>\n</main>\n</body>\n</html>",
        r.schema_version,
        esc(&r.started_at)
    );
    out.write_all(h.as_bytes())
}

/// "2026-11-21T21:47:07.796Z" as "2026-11-21 21:47:07 UTC"; anything else unchanged.
fn human_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z').and_then(|t| t.split_once('T')) {
        Some((date, time)) => format!("{date} {} UTC", time.split('.').next().unwrap_or(time)),
        None => rfc3339.to_string(),
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn status_class(s: VerdictStatus) -> &'static str {
    match s {
        VerdictStatus::Pass => "pass",
        VerdictStatus::Fail => "fail",
        VerdictStatus::Inconclusive => "inconclusive",
    }
}

/// Verdict counts and the baseline outcome as coloured chips (empty when there is neither).
fn chips(report: &Report) -> String {
    let mut chips = String::new();
    if report.outcome != Outcome::Measured {
        let c = report.counts;
        let _ = write!(
            chips,
            "<span class=\"chip pass\">{} pass</span><span class=\"chip fail\">{} fail</span>\
             <span class=\"chip inconclusive\">{} inconclusive</span>",
            c.pass, c.fail, c.inconclusive
        );
    }
    if let Some(cmp) = &report.comparison {
        let (class, what) = match cmp.regressions() {
            0 => ("pass", "no regression".to_string()),
            n => (
                "fail",
                format!("{n} regression{}", if n == 1 { "" } else { "s" }),
            ),
        };
        let _ = write!(
            chips,
            "<span class=\"chip {class}\">{what} vs baseline</span>"
        );
    }
    chips
}

fn header(report: &Report, h: &mut String) {
    let r = &report.result;
    let (class, line) = match (report.outcome, &report.unanswered, &report.mostly_failed) {
        (_, Some(line), _) => ("fail", line.clone()),
        (Outcome::Measured, None, Some(line)) => ("fail", format!("{line} (no spec judged)")),
        (Outcome::Measured, None, None) => {
            ("measured", "No spec judged: measurements only".to_string())
        }
        (o, None, _) => (
            match o {
                Outcome::Pass => "pass",
                Outcome::Fail => "fail",
                _ => "inconclusive",
            },
            format!(
                "{} of {} claims kept",
                report.counts.pass,
                report.counts.pass + report.counts.fail + report.counts.inconclusive
            ),
        ),
    };
    let _ = writeln!(
        h,
        "<header class=\"top {class}\">\n<div class=\"badge\">{}</div>\n<div class=\"title\">\
         <h1>{}</h1>\n<p class=\"lede\">{}</p>",
        report.outcome.label(),
        esc(&r.scenario),
        esc(&line)
    );
    let chips = chips(report);
    if !chips.is_empty() {
        let _ = writeln!(h, "<p class=\"chips\">{chips}</p>");
    }
    if let Some(spec) = &r.spec {
        let _ = writeln!(
            h,
            "<p class=\"spec\">judged against <code>{}</code></p>",
            esc(spec)
        );
    }
    failed_list(report, h);
    h.push_str("</div>\n</header>\n");
    facts(report, h);
}

/// The run's key figures as tiles under the header.
fn facts(report: &Report, h: &mut String) {
    let r = &report.result;
    h.push_str("<dl class=\"facts\">\n");
    let mut facts = vec![
        ("started", esc(&human_time(&r.started_at))),
        ("duration", text::secs(r.duration_s)),
        ("requests", text::count(r.totals.sent)),
        ("throughput", format!("{:.0} req/s", r.totals.rps)),
        // Counted as the verdicts count them (outside warmup), fallback answers apart.
        ("errors", text::count(report.answers.errors)),
        ("seed", r.seed.to_string()),
    ];
    if report.shows_fallback() {
        facts.insert(
            5,
            ("fallback answers", text::count(report.answers.fallback)),
        );
    }
    if r.totals.dropped > 0 {
        facts.push(("dropped", text::count(r.totals.dropped)));
    }
    if r.interrupted {
        facts.push(("run", "interrupted".into()));
    }
    for (k, v) in facts {
        let _ = writeln!(h, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    }
    h.push_str("</dl>\n");
}

/// The failed claims by name in the header, so the page answers "what broke?" at a glance.
fn failed_list(report: &Report, h: &mut String) {
    let failed: Vec<&crate::result::Verdict> = report
        .verdicts()
        .iter()
        .filter(|v| v.status == VerdictStatus::Fail)
        .collect();
    if failed.is_empty() {
        return;
    }
    h.push_str("<ul class=\"failed\">");
    for v in failed {
        let _ = write!(
            h,
            "<li><strong>{}</strong>: expected {}, measured {}</li>",
            esc(&v.claim),
            esc(&v.expected),
            esc(&v.measured)
        );
    }
    h.push_str("</ul>\n");
}

/// The fails and inconclusives in full (they need a person); the passes folded under them, so
/// the charts stay near the top of the page. A claim judged per phase is one heading row with a
/// row per phase under it, worst first.
fn verdicts(report: &Report, h: &mut String) {
    if report.verdicts().is_empty() {
        return;
    }
    let all = groups::group(report.verdicts());
    let (open, passed): (Vec<&VerdictGroup>, Vec<&VerdictGroup>) =
        all.iter().partition(|g| g.status != VerdictStatus::Pass);
    h.push_str("<section>\n<h2>Verdicts</h2>\n");
    if !open.is_empty() {
        verdict_table(h, &open);
    }
    if !passed.is_empty() {
        let n: usize = passed.iter().map(|g| g.rows.len()).sum();
        let _ = writeln!(
            h,
            "<details class=\"passed\"{}>\n<summary>{n} claim(s) passed</summary>",
            if open.is_empty() { " open" } else { "" },
        );
        verdict_table(h, &passed);
        h.push_str("</details>\n");
    }
    h.push_str("</section>\n");
}

fn verdict_table(h: &mut String, groups: &[&VerdictGroup]) {
    h.push_str(
        "<table class=\"verdicts\">\n<thead><tr><th>status</th><th>claim</th>\
                <th>expected</th><th>measured</th><th>why</th></tr></thead>\n<tbody>\n",
    );
    for g in groups {
        if !g.is_grouped() {
            let v = g.rows[0].verdict;
            let c = status_class(v.status);
            let _ = writeln!(
                h,
                "<tr class=\"{c}\"><td><span class=\"pill {c}\">{c}</span></td><td><strong>{}</strong>\
                 <div class=\"src\">{} · {}</div></td><td>{}</td><td class=\"measured\">{}</td><td class=\"why\">{}</td></tr>",
                esc(&v.claim),
                esc(&v.id),
                esc(&v.source),
                esc(&v.expected),
                esc(&v.measured),
                esc(&v.detail)
            );
            continue;
        }
        let c = status_class(g.status);
        let _ = writeln!(
            h,
            "<tr class=\"{c} group\"><td><span class=\"pill {c}\">{c}</span></td><td><strong>{}</strong>\
             <div class=\"src\">{}</div></td><td>{}</td><td class=\"measured\">{}</td><td class=\"why\"></td></tr>",
            esc(&g.claim),
            esc(&g.source),
            esc(&g.expected),
            esc(&groups::tally(g)),
        );
        for (r, reason) in g.rows.iter().zip(groups::details(g)) {
            let v = r.verdict;
            let c = status_class(v.status);
            let _ = writeln!(
                h,
                "<tr class=\"{c} phase\"><td><span class=\"pill {c}\">{c}</span></td><td>↳ {}\
                 <div class=\"src\">{}</div></td><td></td><td class=\"measured\">{}</td><td class=\"why\">{}</td></tr>",
                esc(r.phase.as_deref().unwrap_or("")),
                esc(&v.id),
                esc(&r.measured()),
                esc(&reason.map_or(String::new(), |r| r.full()))
            );
        }
    }
    h.push_str("</tbody>\n</table>\n");
}

/// A figure holding one chart, or a visible note when it could not be drawn.
fn figure(h: &mut String, title: &str, caption: &str, chart: charts::ChartResult) {
    let _ = writeln!(
        h,
        "<figure>\n<figcaption><h3>{}</h3><p>{}</p></figcaption>",
        esc(title),
        esc(caption)
    );
    match chart {
        // Screen readers announce the chart by its title instead of reading every tick label.
        Ok(svg) => h.push_str(&svg.replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(title)),
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
    h.push_str("\n</figure>\n");
}

fn charts_section(report: &Report, h: &mut String) {
    let r = &report.result;
    h.push_str("<section>\n<h2>Charts</h2>\n");
    if !report.targets.is_empty() {
        figure(
            h,
            "Latency against the spec",
            "Measured percentile per request (bar, coloured by verdict) and the spec's target (black tick). \
             Without a bar, the text says what was measured instead (e.g. too few samples to judge).",
            charts::targets::chart(&report.targets),
        );
    }
    // Captions explain only what the chart shows: no fault legend on a run without faults.
    let bands = if r.faults.is_empty() {
        ""
    } else {
        " Red bands: fault windows."
    };
    let strip = if r.dependencies.is_empty() {
        ""
    } else {
        " Strip: circuit-breaker state per dependency, as seen from outside."
    };
    // Fast fallback answers count like any other: say so, or a drop to 0.2 ms during a fault
    // reads as the service getting faster.
    let fallbacks = if r.faults.is_empty() {
        ""
    } else {
        " Every answer counts, fallbacks too: while a dependency is down, fast 503s pull the lines down."
    };
    for op in &report.operations {
        figure(
            h,
            &format!("Latency over time · {}", op.name),
            &format!(
                "P50 / P95 / P99 of requests settled in each second (log scale).{bands}{fallbacks}{strip}"
            ),
            charts::latency::chart(r, &op.name),
        );
    }
    if !r.timeline.is_empty() {
        figure(
            h,
            "Throughput and errors",
            &format!(
                "Requests per second by outcome.{bands}{}",
                if report.shows_fallback() {
                    " Fallback answers (the spec's promised answer while a dependency was down) \
                     are not errors; both by send time, as the verdicts count them."
                } else {
                    ""
                }
            ),
            charts::throughput::chart(r),
        );
    }
    for name in r.dependencies.keys() {
        figure(
            h,
            &format!("Dependency traffic · {name}"),
            "Calls per second as the fault proxy saw them. Red bands: faults on this dependency; \
             purple: breaker open (no calls while clients kept calling).",
            charts::dependency::chart(r, name),
        );
    }
    let hists: Vec<(&str, &super::histogram::Latency)> = report
        .operations
        .iter()
        .filter_map(|o| o.histogram.as_ref().map(|hist| (o.name.as_str(), hist)))
        .collect();
    if !hists.is_empty() {
        figure(
            h,
            "Latency percentile spectrum",
            "Whole run excluding warmup, from each request's HdrHistogram; the right end is the maximum.",
            charts::spectrum::chart(&hists),
        );
    }
    h.push_str("</section>\n");
}

fn comparison(report: &Report, h: &mut String) {
    let Some(cmp) = &report.comparison else {
        return;
    };
    let _ = writeln!(
        h,
        "<section>\n<h2>Against baseline</h2>\n<p>{} ({}): <strong>{} regression(s) flagged</strong>.</p>\n\
         <table>\n<thead><tr><th>request</th><th>percentile</th><th class=\"num\">baseline</th>\
         <th class=\"num\">now</th><th class=\"num\">change</th><th>99% intervals</th><th>judged</th></tr></thead>\n<tbody>",
        esc(&cmp.baseline_scenario),
        esc(&cmp.baseline_started_at),
        cmp.regressions()
    );
    for row in &cmp.rows {
        let class = match row.change {
            Change::Regression => "fail",
            Change::Improvement => "pass",
            _ => "",
        };
        let ci = |c: Option<(f64, f64)>| {
            c.map_or("–".to_string(), |(a, b)| {
                format!("{}–{}", text::ms(a), text::ms(b))
            })
        };
        let _ = writeln!(
            h,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"src\">then {} · now {}</td><td>{}</td></tr>",
            esc(&row.operation),
            row.percentile,
            text::opt_ms(row.baseline_ms),
            text::opt_ms(row.current_ms),
            text::change(row.change_pct),
            ci(row.baseline_ci_ms),
            ci(row.current_ci_ms),
            row.change.label()
        );
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"rule\"><strong>Rule.</strong> {}</p>",
        esc(baseline::RULE)
    );
    for u in &cmp.unmatched {
        let _ = writeln!(h, "<p class=\"note\">not compared: {}</p>", esc(u));
    }
    h.push_str("</section>\n");
}
