//! Golden files of the terminal (no colour) and Markdown reports, with and without a spec and
//! with a baseline comparison. REDLINE_UPDATE_SNAPSHOTS=1 rewrites them; review the diff.

use crate::report_common;

use redline::report::{Format, Report};
use report_common::{assert_snapshot, load_fixture};

fn render(format: Format, report: &Report) -> String {
    let mut out = Vec::new();
    format.write(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn terminal_with_verdicts() {
    let r = Report::new(&load_fixture("chaos.json"));
    assert_snapshot("chaos.txt", &render(Format::Terminal, &r));
}

#[test]
fn terminal_and_markdown_of_a_real_demo_run() {
    // A real `redline demo` result: long phase names, 38 verdicts, three breaker episodes.
    let r = Report::new(&load_fixture("demo.json"));
    assert_snapshot("demo.txt", &render(Format::Terminal, &r));
    assert_snapshot("demo.md", &render(Format::Markdown, &r));
}

#[test]
fn terminal_without_a_spec() {
    let r = Report::new(&load_fixture("nospec.json"));
    assert_snapshot("nospec.txt", &render(Format::Terminal, &r));
}

#[test]
fn markdown_with_verdicts() {
    let r = Report::new(&load_fixture("chaos.json"));
    assert_snapshot("chaos.md", &render(Format::Markdown, &r));
}

#[test]
fn markdown_without_a_spec() {
    let r = Report::new(&load_fixture("nospec.json"));
    assert_snapshot("nospec.md", &render(Format::Markdown, &r));
}

#[test]
fn terminal_and_markdown_against_a_baseline() {
    let r = Report::with_baseline(
        &load_fixture("chaos-slower.json"),
        &load_fixture("chaos.json"),
    );
    assert_snapshot("baseline.txt", &render(Format::Terminal, &r));
    assert_snapshot("baseline.md", &render(Format::Markdown, &r));
}
