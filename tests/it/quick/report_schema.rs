//! schema/result.schema.json describes result.json exactly: every serialized RunResult validates,
//! and a field the schema does not document (or a wrong type) is rejected.

use crate::report_common;

use report_common::{chaos_run, fixtures, Options};
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/result.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).expect("the schema is a valid 2020-12 schema")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn every_serialized_result_validates() {
    let v = validator();
    for (name, opts) in fixtures() {
        let instance = serde_json::to_value(chaos_run(opts)).unwrap();
        let errs = errors(&v, &instance);
        assert!(
            errs.is_empty(),
            "{name}: {errs:#?}\n(document new result.json fields in schema/result.schema.json)"
        );
    }
}

#[test]
fn a_result_written_by_the_engine_validates() {
    // tests/fixtures/results/engine-smoke.json: `redline run scenarios/smoke.toml` from the engine
    // branch against a loopback server that answered 403 to everything (so every request failed).
    let instance: Value = serde_json::from_str(
        &std::fs::read_to_string(report_common::fixture_path("engine-smoke.json")).unwrap(),
    )
    .unwrap();
    let errs = errors(&validator(), &instance);
    assert!(errs.is_empty(), "{errs:#?}");
    let result: redline::result::RunResult = serde_json::from_value(instance).unwrap();
    assert!(result.totals.sent > 0);
}

#[test]
fn the_result_of_a_real_demo_run_validates() {
    // tests/fixtures/results/demo.json: `redline demo` (40 s, release build) on main, with the
    // client and dependency call logs emptied to keep the file small (both marked truncated).
    let instance: Value = serde_json::from_str(
        &std::fs::read_to_string(report_common::fixture_path("demo.json")).unwrap(),
    )
    .unwrap();
    let errs = errors(&validator(), &instance);
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn a_minimal_result_with_defaults_and_nulls_validates() {
    let mut r = chaos_run(Options {
        with_spec: false,
        ..Options::default()
    });
    r.phases.clear();
    r.faults.clear();
    r.dependencies.clear();
    r.client_log.clear();
    r.health.clear();
    r.breaker_episodes.clear();
    r.scenario_file = None;
    r.interrupted = true;
    let errs = errors(&validator(), &serde_json::to_value(&r).unwrap());
    assert!(errs.is_empty(), "{errs:#?}");
}

#[test]
fn readiness_samples_are_documented_and_optional() {
    use redline::result::{HealthSample, ReadySamples, RunResult};
    let v = validator();
    let mut r = chaos_run(Options::default());
    let plain = serde_json::to_value(&r).unwrap();
    assert!(plain.get("ready").is_none(), "absent when not sampled");
    r.ready = Some(ReadySamples {
        path: "/ready".into(),
        samples: vec![
            HealthSample {
                t_s: 0.0,
                status: Some(200),
                state: Some("ready".into()),
            },
            HealthSample {
                t_s: 0.5,
                status: None,
                state: None,
            },
        ],
    });
    let instance = serde_json::to_value(&r).unwrap();
    let errs = errors(&v, &instance);
    assert!(errs.is_empty(), "{errs:#?}");
    let back: RunResult = serde_json::from_value(instance.clone()).unwrap();
    assert_eq!(back.ready, r.ready);
    // A result written before the field existed still loads, without it.
    let old: RunResult = serde_json::from_value(plain).unwrap();
    assert_eq!(old.ready, None);
    let mut extra = instance;
    extra["ready"]["surprise"] = serde_json::Value::from(1);
    assert!(
        !errors(&v, &extra).is_empty(),
        "an undocumented field must fail"
    );
}

#[test]
fn undocumented_fields_and_wrong_types_are_rejected() {
    let v = validator();
    let good = serde_json::to_value(chaos_run(Options::default())).unwrap();

    let mut extra = good.clone();
    extra["totals"]["surprise"] = Value::from(1);
    assert!(
        !errors(&v, &extra).is_empty(),
        "an undocumented field must fail"
    );

    let mut wrong = good.clone();
    wrong["verdicts"][0]["status"] = Value::from("maybe");
    assert!(
        !errors(&v, &wrong).is_empty(),
        "an unknown verdict status must fail"
    );

    let mut missing = good;
    missing.as_object_mut().unwrap().remove("timeline");
    assert!(
        !errors(&v, &missing).is_empty(),
        "a missing required field must fail"
    );
}
