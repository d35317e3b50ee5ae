//! Verdicts on a real `redline demo` run (the shipped scenario and spec, the reference service
//! behind the real fault proxy): the fixture is that run's result.json with its verdicts stripped,
//! judged again here through the same path `redline run` takes (scenario -> context, spec reader).

use std::io::Read;

use redline::result::{RunResult, Verdict, VerdictStatus};
use redline::verdict::Judgement;

fn fixture(name: &str) -> RunResult {
    let path = format!(
        "{}/tests/verdict_fixtures/{name}.json.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("fixture present"))
        .read_to_string(&mut json)
        .expect("gzip");
    serde_json::from_str(&json).expect("a result.json")
}

/// Judges `run` against the shipped demo scenario and spec, as `redline demo` does.
fn judge_demo(run: &RunResult) -> Judgement {
    let root = env!("CARGO_MANIFEST_DIR");
    let scenario = std::fs::read_to_string(format!("{root}/scenarios/demo.toml")).unwrap();
    let plan = redline::scenario::parse(&scenario, "scenarios/demo.toml").expect("demo scenario");
    let spec_md =
        std::fs::read_to_string(format!("{root}/scenarios/specs/reference-service.md")).unwrap();
    let claims = redline::spec::parse(&spec_md);
    let ctx = redline::chaos::judge::context(
        &plan,
        &claims,
        "scenarios/specs/reference-service.md",
        "scenarios/demo.toml",
    );
    redline::verdict::judge(run, &claims, &ctx)
}

fn find<'a>(j: &'a Judgement, id: &str) -> &'a Verdict {
    j.verdicts
        .iter()
        .find(|v| v.id == id)
        .unwrap_or_else(|| panic!("no verdict {id}; have {}", dump(j)))
}

fn dump(j: &Judgement) -> String {
    let mut s = String::new();
    for v in &j.verdicts {
        s.push_str(&format!(
            "{:?} {} | {} | {} | {}\n",
            v.status, v.id, v.expected, v.measured, v.detail
        ));
    }
    s
}

#[test]
fn demo_calls_resume_after_back_to_back_faults() {
    // Abort 13-16 s then hang 16-25 s, back to back (6 µs apart); the breaker's probes succeeded
    // at 28.8 s and 865 client requests came in the recovery phase. Judging the gap between the
    // two faults as "after the fault" found no demand and called it inconclusive.
    let j = judge_demo(&fixture("demo1"));
    let v = find(&j, "breaker.userservice.resumes");
    assert_eq!(v.status, VerdictStatus::Pass, "{}", dump(&j));
    assert!(v.measured.contains("3.81 s"), "{}", v.measured);
    assert!(v.detail.contains("25.0 s"), "{}", v.detail);
}
