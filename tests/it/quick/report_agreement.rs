//! The report says what the verdicts say: on a real `redline demo` run judged again here (the
//! shipped scenario and spec), every phase's errors and fallback answers in the report's tables
//! are the counts the error-rate verdict of that phase stated, and the latency chart reads the
//! verdicts' own figures.

use std::io::Read;

use redline::report::{Format, Report};
use redline::result::RunResult;

/// tests/verdict_fixtures/demo1.json.gz (a real demo run, verdicts stripped), judged again as
/// `redline demo` judges it, with the judgement written into the result.
fn judged_demo() -> RunResult {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("{root}/tests/verdict_fixtures/demo1.json.gz");
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("fixture present"))
        .read_to_string(&mut json)
        .expect("gzip");
    let mut run: RunResult = serde_json::from_str(&json).expect("a result.json");
    let scenario = std::fs::read_to_string(format!("{root}/scenarios/demo.toml")).unwrap();
    let plan = redline::scenario::parse(&scenario, "scenarios/demo.toml").expect("demo scenario");
    let spec_path = "scenarios/specs/reference-service.md";
    let claims =
        redline::spec::parse(&std::fs::read_to_string(format!("{root}/{spec_path}")).unwrap());
    let ctx = redline::chaos::judge::context(&plan, &claims, spec_path, "scenarios/demo.toml");
    redline::verdict::judge(&run, &claims, &ctx).apply_to(&mut run);
    run.spec = Some(spec_path.to_string());
    run
}

/// "0% (3 errors in 599)" -> (3, 599).
fn errors_in(measured: &str) -> (u64, u64) {
    let inner = measured.split_once('(').expect("(… errors in …)").1;
    let mut words = inner.split_whitespace();
    let errors = words.next().unwrap().parse().unwrap();
    let n = words.nth(2).unwrap().trim_end_matches(')').parse().unwrap();
    (errors, n)
}

#[test]
fn phase_rows_count_errors_and_fallbacks_as_the_verdicts_did() {
    let run = judged_demo();
    let windows = run.fallback_windows.as_ref().expect("windows recorded");
    assert!(
        windows.iter().any(|w| w.status == Some(503)),
        "the demo's breaker and faults make 503 the promised answer: {windows:?}"
    );
    let report = Report::new(&run);
    assert!(report.shows_fallback());
    let (mut checked, mut left_out) = (0, 0);
    for phase in &report.phases {
        if phase.kind == redline::result::PhaseKind::Warmup {
            continue;
        }
        let id = format!(
            "errors.global.{}",
            redline::verdict::matching::slug(&phase.name)
        );
        let a = phase.answers;
        let Some(v) = run.verdicts.iter().find(|v| v.id == id) else {
            // A phase answered only with the fallback holds no evidence about the rate: no row,
            // and a row of the objective names it; the tables count the same answers as fallback.
            assert_eq!((a.fallback, a.errors), (a.requests, 0), "{}", phase.name);
            let named = run
                .verdicts
                .iter()
                .filter(|v| v.id.starts_with("errors.global."))
                .any(|v| v.detail.contains(&format!("'{}'", phase.name)));
            assert!(named, "{} is named by no error-rate row", phase.name);
            left_out += 1;
            continue;
        };
        let (errors, n) = errors_in(&v.measured);
        assert_eq!(a.errors, errors, "{}: {v:?}", phase.name);
        assert_eq!(a.requests - a.fallback, n, "{}: {v:?}", phase.name);
        checked += 1;
    }
    assert!(
        checked >= 2 && left_out >= 2,
        "{checked} phases had an error-rate verdict, {left_out} were left out"
    );
    // The fault phases were answered with the fallback: the tables must not call that an error.
    let fault = report
        .phases
        .iter()
        .find(|p| p.name.contains("hang"))
        .expect("a hang phase");
    assert!(fault.answers.fallback > 100, "{:?}", fault.answers);
    assert_eq!(fault.answers.errors, 0, "{:?}", fault.answers);
    // The rows per request add up to the same totals outside warmup.
    let rows: u64 = report.operations.iter().map(|o| o.answers.fallback).sum();
    let phases: u64 = report
        .phases
        .iter()
        .filter(|p| p.kind != redline::result::PhaseKind::Warmup)
        .map(|p| p.answers.fallback)
        .sum();
    assert_eq!(rows, phases);
    assert_eq!(report.answers.fallback, rows);
}

#[test]
fn the_rendered_tables_show_fallback_apart_from_errors() {
    let report = Report::new(&judged_demo());
    let mut out = Vec::new();
    Format::Terminal.write(&report, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let header = text
        .lines()
        .find(|l| l.trim_start().starts_with("REQUEST"))
        .expect("per-request table");
    assert!(
        header.contains("FALLBACK") && header.contains("ERR"),
        "{header}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let get_item = text
        .lines()
        .find(|l| l.trim_start().starts_with("get-item"))
        .unwrap();
    let op = report
        .operations
        .iter()
        .find(|o| o.name == "get-item")
        .unwrap();
    let cells: Vec<&str> = get_item.split_whitespace().collect();
    assert_eq!(cells[2], redline_count(op.answers.fallback), "{get_item}");
    assert_eq!(cells[3], redline_count(op.answers.errors), "{get_item}");
    assert!(
        !text.contains("status_unexpected"),
        "statuses are in the tally, not as failures"
    );
}

fn redline_count(n: u64) -> String {
    // The report's thousands separator.
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn latency_targets_come_from_the_verdicts_figures() {
    let run = judged_demo();
    let report = Report::new(&run);
    let judged: Vec<_> = report
        .targets
        .iter()
        .filter(|t| t.measured_ms.is_some())
        .collect();
    assert!(!judged.is_empty(), "{:?}", report.targets);
    for t in &report.targets {
        let v = run
            .verdicts
            .iter()
            .find(|v| {
                v.id.ends_with(&format!(
                    ".{}",
                    t.percentile.to_lowercase().replace('.', "")
                )) && v.id.contains(&t.operation)
            })
            .expect("a verdict per target");
        let n = v.numbers.expect("latency verdicts carry numbers");
        assert_eq!(t.target_ms, n.target_ms, "{v:?}");
        assert_eq!(t.measured_ms, n.measured_ms, "{v:?}");
    }
    // An inconclusive verdict on too few samples has no measured latency, only a count.
    let few = run
        .verdicts
        .iter()
        .find(|v| v.id.starts_with("latency.") && v.measured.ends_with("samples"));
    if let Some(v) = few {
        let n = v.numbers.unwrap();
        assert_eq!(n.measured_ms, None);
        assert!(n.samples.unwrap() > 0);
    }
}

#[test]
fn the_throughput_chart_draws_fallback_answers_apart_from_errors() {
    let run = judged_demo();
    let mut out = Vec::new();
    Format::Html.write(&Report::new(&run), &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert!(html.contains("fallback answers (not errors)"), "legend");
    assert!(html.contains("errors (transport or 5xx)"), "legend");
    assert!(!html.contains("fallback answers included"));
    // Without the recorded windows the chart says what its one failure line holds.
    let older = RunResult {
        fallback_windows: None,
        ..run
    };
    let mut out = Vec::new();
    Format::Html.write(&Report::new(&older), &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert!(html.contains("failed (error or unexpected status)"));
    assert!(!html.contains("fallback answers (not errors)"));
}

#[test]
fn a_judged_result_with_the_new_fields_validates_against_the_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/result.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let instance = serde_json::to_value(judged_demo()).unwrap();
    assert!(instance["fallback_windows"]
        .as_array()
        .is_some_and(|w| !w.is_empty()));
    assert!(instance["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["numbers"]["target_ms"].is_number()));
    let errs: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errs.is_empty(), "{errs:#?}");
    // A field the schema does not document is refused, inside the new objects too.
    let mut bad = instance.clone();
    bad["fallback_windows"][0]["extra"] = serde_json::json!(1);
    assert!(!validator.is_valid(&bad));
}
