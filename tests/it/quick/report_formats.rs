//! Every renderer's output read back as data: JSON into RunResult, JUnit into quick-junit's
//! types, CSV into rows, the HTML checked self-contained with well-formed SVGs.

use crate::report_common;

use redline::report::{self, Format, Report};
use redline::result::VerdictStatus;
use report_common::load_fixture;

fn render(format: Format, report: &Report) -> String {
    let mut out = Vec::new();
    format.write(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn json_is_the_result_itself() {
    for name in ["chaos.json", "nospec.json"] {
        let result = load_fixture(name);
        let json = render(Format::Json, &Report::new(&result));
        let back: redline::result::RunResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, result, "{name}");
    }
}

#[test]
fn junit_has_one_case_per_verdict_with_the_detail_as_failure_message() {
    let result = load_fixture("chaos.json");
    let xml = render(Format::Junit, &Report::new(&result));
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    assert_eq!(junit.test_suites.len(), 1);
    let suite = &junit.test_suites[0];
    assert_eq!(suite.test_cases.len(), result.verdicts.len());
    let fails = result
        .verdicts
        .iter()
        .filter(|v| v.status == VerdictStatus::Fail)
        .count();
    assert_eq!(suite.failures, fails);
    for (case, v) in suite.test_cases.iter().zip(&result.verdicts) {
        assert!(
            case.name.as_str().starts_with(&v.id),
            "{:?} vs {}",
            case.name,
            v.id
        );
        match (&case.status, v.status) {
            (quick_junit::TestCaseStatus::Success { .. }, VerdictStatus::Pass) => {}
            (
                quick_junit::TestCaseStatus::NonSuccess { kind, message, .. },
                VerdictStatus::Fail,
            ) => {
                assert_eq!(*kind, quick_junit::NonSuccessKind::Failure);
                assert_eq!(
                    message.as_ref().map(|m| m.as_str()),
                    Some(v.detail.as_str())
                );
            }
            (quick_junit::TestCaseStatus::Skipped { message, .. }, VerdictStatus::Inconclusive) => {
                assert!(message.as_ref().unwrap().as_str().contains(&v.detail));
            }
            (status, expected) => panic!("{}: {status:?} for a {expected:?} verdict", v.id),
        }
    }
}

#[test]
fn junit_without_a_spec_is_one_passing_case() {
    let xml = render(Format::Junit, &Report::new(&load_fixture("nospec.json")));
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suite = &junit.test_suites[0];
    assert_eq!(suite.test_cases.len(), 1);
    assert_eq!(suite.failures, 0);
}

#[test]
fn csv_has_one_row_per_second_and_consistent_columns() {
    let result = load_fixture("chaos.json");
    let csv = render(Format::Csv, &Report::new(&result));
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), result.timeline.len() + 1);
    let header = &rows[0];
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let (t, fivexx, dep) = (
        col("t_s"),
        col("status_5xx"),
        col("dep.UserService.requests"),
    );
    for (row, bucket) in rows[1..].iter().zip(&result.timeline) {
        assert_eq!(row[t], bucket.t_s.to_string());
        assert_eq!(
            row[fivexx].parse::<u64>().unwrap(),
            bucket.status_classes.get("5xx").copied().unwrap_or(0)
        );
    }
    let faults = col("faults");
    assert_eq!(rows[15][faults], "", "t = 14 s, before the fault");
    assert_eq!(rows[16][faults], "latency@UserService", "t = 15 s");
    assert_eq!(rows[28][faults], "", "t = 27 s, after it");
    // The breaker's signature survives the round trip: seconds with client 5xx and no dependency calls.
    assert!(rows[1..]
        .iter()
        .any(|r| r[dep] == "0" && r[fivexx].parse::<u64>().unwrap() > 100));
}

fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for needle in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "@import",
        "@font-face",
        "<script",
        "<link",
    ] {
        assert!(
            !lower.contains(needle),
            "the HTML references the outside: {needle}"
        );
    }
    // xmlns is a name, not a fetch; anything else naming a URL is suspect.
    for scheme in ["http://", "https://", "//fonts.", "data:font"] {
        for (i, _) in lower.match_indices(scheme) {
            let url: String = lower[i..].chars().take(40).collect();
            assert!(lower[..i].ends_with("xmlns=\""), "URL in the HTML: {url}");
        }
    }
}

fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end =
            rest[start..].find("</svg>").expect("every <svg> is closed") + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

#[test]
fn html_is_self_contained_and_every_svg_is_well_formed() {
    for (name, charts) in [
        ("chaos.json", 6),
        ("nospec.json", 5),
        ("engine-smoke.json", 4),
        // targets, 3 × latency over time, throughput, UserService traffic, spectrum
        ("demo.json", 7),
    ] {
        let html = render(Format::Html, &Report::new(&load_fixture(name)));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_self_contained(&html);
        let found = svgs(&html);
        assert_eq!(found.len(), charts, "{name}: charts drawn");
        for svg in found {
            let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            assert!(
                doc.descendants().filter(|n| n.has_tag_name("text")).count() > 5,
                "axes are labelled"
            );
        }
        assert!(!html.contains("chart not drawn"), "{name}");
    }
}

#[test]
fn html_of_a_real_run_folds_passes_and_plots_no_sample_count_as_latency() {
    let demo = Report::new(&load_fixture("demo.json"));
    // "345 samples" (an inconclusive P99) once became a 345 ms bar in the targets chart.
    let inconclusive: Vec<_> = demo
        .targets
        .iter()
        .filter(|t| t.status == VerdictStatus::Inconclusive)
        .collect();
    assert_eq!(inconclusive.len(), 6);
    assert!(
        inconclusive.iter().all(|t| t.measured_ms.is_none()),
        "{inconclusive:?}"
    );
    let get_p50 = demo
        .targets
        .iter()
        .find(|t| t.operation == "get-item" && t.percentile == "P50");
    assert_eq!(get_p50.and_then(|t| t.measured_ms), Some(8.5));

    let html = render(Format::Html, &demo);
    let folded = html
        .find("<details class=\"passed\">")
        .expect("passes folded");
    let charts = html.find("<h2>Charts</h2>").unwrap();
    assert!(folded < charts);
    // Open claims above the fold, passes inside it.
    let (open, passed) = html[..charts].split_at(folded);
    // One row per verdict: 12 claims judged once, 4 phases of the availability claim under one
    // heading row; its passing twin (error rate, 4 phases) folded with the other passes.
    let rows = |html: &str, class: &str| {
        html.matches(&format!("<tr class=\"{class}\">")).count()
            + html
                .matches(&format!("<tr class=\"{class} phase\">"))
                .count()
    };
    assert_eq!(rows(open, "inconclusive"), 16);
    assert_eq!(open.matches("<tr class=\"inconclusive group\">").count(), 1);
    assert_eq!(rows(open, "pass"), 0);
    assert_eq!(rows(passed, "pass"), 22);
    assert_eq!(passed.matches("<tr class=\"pass group\">").count(), 1);
    assert!(passed.contains("4 phases: 4 passed"));
    // Back-to-back faults on one dependency are labelled by kind, apart.
    assert!(html.contains(">\nabort\n</text>") && html.contains(">\nhang\n</text>"));
    assert!(!html.contains("abort on UserService"));
}

#[test]
fn html_shows_the_verdicts_first_and_escapes_text() {
    let mut result = load_fixture("chaos.json");
    result.verdicts[0].detail = "<script>alert(1)</script> & more".into();
    let html = render(Format::Html, &Report::new(&result));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    assert_self_contained(&html);
    let verdicts = html.find("<h2>Verdicts</h2>").unwrap();
    assert!(verdicts < html.find("<h2>Charts</h2>").unwrap());
    assert!(
        html.find("FAIL").unwrap() < verdicts,
        "the outcome badge comes first"
    );
}

#[test]
fn terminal_fits_80_columns_and_colours_only_when_asked() {
    let reports = [
        Report::new(&load_fixture("chaos.json")),
        Report::new(&load_fixture("engine-smoke.json")),
        Report::new(&load_fixture("demo.json")),
        Report::with_baseline(
            &load_fixture("chaos-slower.json"),
            &load_fixture("chaos.json"),
        ),
    ];
    for r in &reports {
        let plain = render(Format::Terminal, r);
        assert!(!plain.contains('\x1b'));
        for line in plain.lines() {
            let width = line.chars().count();
            assert!(width <= 80, "{width} columns: {line}");
        }
    }
    let mut colored = Vec::new();
    report::terminal::write_styled(&reports[0], &mut colored, true).unwrap();
    let colored = String::from_utf8(colored).unwrap();
    assert!(colored.contains("\x1b[1;31m"), "fails are red");
    assert!(colored.contains("\x1b[32m"), "passes are green");
}

#[test]
fn terminal_verdicts_wrap_between_words_at_any_width() {
    let demo = Report::new(&load_fixture("demo.json"));
    for width in [60, 80, 100, 132] {
        let mut out = Vec::new();
        report::terminal::write_with(&demo, &mut out, false, width).unwrap();
        let out = String::from_utf8(out).unwrap();
        for line in out.lines() {
            assert!(line.chars().count() <= width, "{width}: {line}");
        }
        // Every word of every verdict shows whole (verdict texts have no word wider than a line),
        // so "fault:UserService:abort" is never cut into "fault:UserS" / "ervice:abort".
        // A claim judged per phase shows once, with each phase's measurement under it.
        let words: Vec<&str> = out.split_whitespace().collect();
        for g in report::groups::group(demo.verdicts()) {
            for r in &g.rows {
                let measured = r.measured();
                for word in g
                    .claim
                    .split_whitespace()
                    .chain(measured.split_whitespace())
                {
                    assert!(
                        words.contains(&word),
                        "{width}: `{word}` of {}",
                        r.verdict.id
                    );
                }
            }
        }
        // The phase table sizes its columns to the names; only a narrow terminal abbreviates.
        let phase = if width >= 80 {
            "fault:UserService:abort "
        } else {
            "…:abort "
        };
        assert!(out.contains(phase), "{width}: phase names");
    }
}

#[test]
fn markdown_shows_problems_and_folds_the_long_parts() {
    let demo = Report::new(&load_fixture("demo.json"));
    let md = render(Format::Markdown, &demo);
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    // What a pull request shows unfolded: the summary, the open claims and the requests table.
    let mut visible = String::new();
    let mut depth = 0;
    for line in md.lines() {
        depth += line.matches("<details>").count();
        if depth == 0 {
            visible.push_str(line);
            visible.push('\n');
        }
        depth -= line.matches("</details>").count();
    }
    assert!(visible.contains("**22 passed · 0 failed · 16 inconclusive**"));
    // 12 claims judged once, and the availability claim: a heading row and one per phase.
    assert_eq!(visible.matches("| ⚠️ |").count(), 12 + 1 + 4, "{visible}");
    assert_eq!(visible.matches("Availability of the service").count(), 1);
    assert!(!visible.contains("| ✅ |"), "passes are folded");
    assert!(
        visible.lines().count() < 40,
        "{} lines",
        visible.lines().count()
    );
    // Every reason shows, once: a phase whose reason repeats an earlier one's is named there.
    for g in report::groups::group(demo.verdicts()) {
        assert!(md.contains(&g.claim), "{}", g.claim);
        for (r, reason) in g.rows.iter().zip(report::groups::details(&g)) {
            let v = r.verdict;
            match reason {
                Some(reason) => {
                    assert!(md.contains(&reason.full().replace('<', "&lt;")), "{}", v.id)
                }
                None if v.status != VerdictStatus::Pass => {
                    let phase = r.phase.as_deref().unwrap();
                    assert!(
                        md.contains(&format!("The same for {phase}"))
                            || md.contains(&format!(", {phase}.)")),
                        "{}",
                        v.id
                    );
                }
                None => {}
            }
        }
    }
}

#[test]
fn write_all_writes_each_format_to_its_file() {
    let dir = std::env::temp_dir().join(format!("redline-report-test-{}", std::process::id()));
    let result = load_fixture("chaos.json");
    let written = report::write_all(&result, &dir, &Format::ALL).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "report.txt",
            "report.md",
            "junit.xml",
            "result.json",
            "timeline.csv",
            "report.html"
        ]
    );
    let back: redline::result::RunResult =
        serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
    assert_eq!(back, result);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn formats_parse_from_the_command_line_spelling() {
    assert_eq!(
        report::parse_formats("terminal,md,junit,json,csv,html,md").unwrap(),
        Format::ALL.to_vec()
    );
    assert!(report::parse_formats("pdf")
        .unwrap_err()
        .to_string()
        .contains("pdf"));
}

#[test]
fn an_empty_or_odd_result_still_renders_every_format() {
    let mut odd = load_fixture("chaos.json");
    odd.interrupted = true;
    odd.notes.push("interrupted by Ctrl-C at 12.3 s".into());
    for op in odd.operations.values_mut() {
        op.histogram = "not base64 at all!".into();
    }
    for phase in &mut odd.phases {
        for op in phase.operations.values_mut() {
            op.histogram.clear();
        }
    }
    odd.breaker_episodes[2].open_for_s = None;
    for result in [redline::result::RunResult::default(), odd] {
        let r = Report::new(&result);
        for format in Format::ALL {
            let text = render(format, &r);
            assert!(!text.is_empty(), "{format}");
        }
        let html = render(Format::Html, &r);
        assert_self_contained(&html);
        for svg in svgs(&html) {
            roxmltree::Document::parse(svg).unwrap();
        }
    }
}
