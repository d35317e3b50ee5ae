//! Test fixtures for the report tests: realistic `RunResult`s built the way a chaos run builds
//! them (per-request latencies recorded into HdrHistograms, per-second buckets, dependency traffic
//! that stops while the breaker is open), deterministic from a seed.
#![allow(dead_code)]

pub mod chaos;
pub mod chaos_parts;

use std::path::PathBuf;

use redline::result::RunResult;

#[allow(unused_imports)]
pub use chaos::{chaos_run, Options};

/// tests/fixtures/results/NAME.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/results")
        .join(name)
}

/// Reads a committed fixture result.
pub fn load_fixture(name: &str) -> RunResult {
    let text = std::fs::read_to_string(fixture_path(name)).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is a RunResult")
}

/// The fixtures committed under tests/fixtures/results, with the options that generate them.
pub fn fixtures() -> Vec<(&'static str, Options)> {
    vec![
        ("chaos.json", Options::default()),
        (
            "nospec.json",
            Options {
                with_spec: false,
                ..Options::default()
            },
        ),
        (
            "chaos-slower.json",
            Options {
                seed: 7,
                slowdown: 1.35,
                ..Options::default()
            },
        ),
        (
            "chaos-rerun.json",
            Options {
                seed: 11,
                ..Options::default()
            },
        ),
    ]
}

/// Compares `actual` with the golden file tests/fixtures/report/NAME; rewrites the file instead
/// when REDLINE_UPDATE_SNAPSHOTS=1 (review the diff, then commit it).
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report")
        .join(name);
    if std::env::var_os("REDLINE_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run with REDLINE_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n  expected: {:?}\n  actual:   {:?}\n(REDLINE_UPDATE_SNAPSHOTS=1 rewrites it)",
            path.display(),
            first + 1,
            expected.lines().nth(first).unwrap_or(""),
            actual.lines().nth(first).unwrap_or("")
        );
    }
}
