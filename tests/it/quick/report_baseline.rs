//! Nightly comparison: no regression against itself or against a rerun of the same build with
//! another seed (noise), a flagged one against a clearly slower build.

use crate::report_common;

use redline::report::baseline::{compare, Change};
use report_common::load_fixture;

#[test]
fn the_same_result_has_no_regression() {
    let r = load_fixture("chaos.json");
    let cmp = compare(&r, &r);
    assert_eq!(cmp.regressions(), 0);
    assert!(cmp
        .rows
        .iter()
        .all(|row| matches!(row.change, Change::Unchanged | Change::TooFewSamples)));
    assert!(cmp.rows.iter().any(|row| row.change == Change::Unchanged));
}

#[test]
fn a_rerun_with_another_seed_is_within_noise() {
    let cmp = compare(
        &load_fixture("chaos-rerun.json"),
        &load_fixture("chaos.json"),
    );
    let flagged: Vec<_> = cmp
        .rows
        .iter()
        .filter(|r| r.change == Change::Regression)
        .collect();
    assert!(
        flagged.is_empty(),
        "noise flagged as regression: {flagged:#?}"
    );
}

#[test]
fn a_clearly_slower_build_is_flagged_where_it_is_slower() {
    let cmp = compare(
        &load_fixture("chaos-slower.json"),
        &load_fixture("chaos.json"),
    );
    let p50 = |op: &str| {
        cmp.rows
            .iter()
            .find(|r| r.operation == op && r.percentile == "P50")
            .unwrap()
    };
    // list-orders is 35% slower throughout; its median must be flagged.
    assert_eq!(p50("list-orders").change, Change::Regression);
    assert!(p50("list-orders").change_pct.unwrap() > 20.0);
    assert!(cmp.regressions() >= 2);
    // And the other way round it is an improvement, never a regression.
    let back = compare(
        &load_fixture("chaos.json"),
        &load_fixture("chaos-slower.json"),
    );
    assert_eq!(back.regressions(), 0);
    assert!(back.rows.iter().any(|r| r.change == Change::Improvement));
}

#[test]
fn operations_missing_on_either_side_are_named() {
    let now = load_fixture("chaos.json");
    let mut then = now.clone();
    let stats = then.operations.remove("list-orders").unwrap();
    then.operations.insert("old-endpoint".into(), stats);
    let cmp = compare(&now, &then);
    assert!(cmp.unmatched.iter().any(|u| u.starts_with("list-orders")));
    assert!(cmp.unmatched.iter().any(|u| u.starts_with("old-endpoint")));
}
