//! JUnit XML renderer: one test case per verdict, so CI systems show passes and failures natively.
//!
//! A fail is a `<failure>` whose message is the verdict's detail; an inconclusive verdict is
//! `<skipped>` with its detail (it was not decided, which is neither a pass nor a failure). A run
//! without a spec gets one passing case saying so, so CI sees a well-formed, non-empty report.
//! A run in which no request got an answer gets a failing case whose message is that line; the
//! first failure messages also follow the detail of failed error-rate claims.

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report as JunitReport, TestCase, TestCaseStatus, TestSuite,
};

use crate::result::{Verdict, VerdictStatus};

use super::model::Report;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let r = &report.result;
    let mut suite = TestSuite::new(format!("redline: {}", r.scenario));
    suite.set_time(Duration::from_secs_f64(r.duration_s.max(0.0)));
    suite.add_property(Property::new("seed", r.seed.to_string()));
    suite.add_property(Property::new("started_at", r.started_at.clone()));
    if let Some(spec) = &r.spec {
        suite.add_property(Property::new("spec", spec.clone()));
    }
    let first_errors = first_errors(report);
    if let Some(line) = &report.unanswered {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(line.clone());
        status.set_type("nothing answered");
        status.set_description(first_errors.clone());
        let mut case = TestCase::new("requests: at least one got an answer", status);
        case.set_classname(format!("redline.{}", r.scenario));
        suite.add_test_case(case);
    }
    if r.verdicts.is_empty() {
        let mut case = TestCase::new("measurements (no spec judged)", TestCaseStatus::success());
        case.set_classname(format!("redline.{}", r.scenario));
        let mut out = format!(
            "{} requests, {} errors, {:.1} req/s",
            r.totals.sent, r.totals.errors, r.totals.rps
        );
        if let Some(line) = &report.mostly_failed {
            out.push_str(&format!("\n{line}"));
        }
        if !first_errors.is_empty() {
            out.push_str(&format!("\nfirst errors:\n{first_errors}"));
        }
        case.set_system_out(out);
        suite.add_test_case(case);
    }
    suite.add_test_cases(
        r.verdicts
            .iter()
            .map(|v| case(&r.scenario, v, &first_errors)),
    );
    let mut junit = JunitReport::new("redline");
    junit.add_test_suite(suite);
    let xml = junit.to_string().map_err(io::Error::other)?;
    out.write_all(xml.as_bytes())
}

/// Every request's first failure messages, one line each: "get: tls at 0.3 s: ... (hint)".
fn first_errors(report: &Report) -> String {
    let mut lines = Vec::new();
    for op in &report.operations {
        for e in super::first_errors::shown(report, op) {
            match &e.hint {
                Some(h) => lines.push(format!("{}: {} ({h})", op.name, e.line)),
                None => lines.push(format!("{}: {}", op.name, e.line)),
            }
        }
    }
    lines.join("\n")
}

fn case(scenario: &str, v: &Verdict, first_errors: &str) -> TestCase {
    let status = match v.status {
        VerdictStatus::Pass => TestCaseStatus::success(),
        VerdictStatus::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            if v.id.starts_with("errors.") && !first_errors.is_empty() {
                s.set_message(format!("{}\nfirst errors:\n{first_errors}", v.detail));
            } else {
                s.set_message(v.detail.clone());
            }
            s.set_type("claim not kept");
            s.set_description(format!("expected {}, measured {}", v.expected, v.measured));
            s
        }
        VerdictStatus::Inconclusive => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("inconclusive: {}", v.detail));
            s
        }
    };
    let mut case = TestCase::new(format!("{}: {}", v.id, v.claim), status);
    // The classname groups cases in CI UIs: scenario, then the verdict family (latency, breaker ...).
    let family = v.id.split('.').next().unwrap_or("claim");
    case.set_classname(format!("redline.{scenario}.{family}"));
    case.add_property(Property::new("source", v.source.clone()));
    case.add_property(Property::new("expected", v.expected.clone()));
    case.add_property(Property::new("measured", v.measured.clone()));
    case
}
