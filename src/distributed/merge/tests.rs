//! The merge on hand-built parts: exact sums, gaps in a timeline, segment 0's side, partial
//! and foreign parts.

use std::collections::BTreeMap;

use super::*;
use crate::engine::collect::encode;
use crate::engine::stats::histogram;
use crate::result::{AppliedFault, OpSecond, OperationStats, SegmentInfo, TimelineBucket};

fn hist(values: &[u64], sigfig: u8) -> String {
    let mut h = histogram(sigfig);
    for v in values {
        h.record(*v).unwrap();
    }
    encode(&h)
}

fn part(index: u32, count: u32, latencies_us: &[u64], seconds: &[(u32, &[u64])]) -> Part {
    let op = OperationStats {
        count: latencies_us.len() as u64,
        status: BTreeMap::from([("200".to_string(), latencies_us.len() as u64)]),
        histogram: hist(latencies_us, 3),
        service_histogram: Some(hist(latencies_us, 3)),
        ..OperationStats::default()
    };
    let timeline = seconds
        .iter()
        .map(|(t, v)| TimelineBucket {
            t_s: *t,
            sent: v.len() as u64,
            completed: v.len() as u64,
            ops: BTreeMap::from([(
                "get".to_string(),
                OpSecond {
                    count: v.len() as u64,
                    histogram: Some(hist(v, 2)),
                    ..OpSecond::default()
                },
            )]),
            ..TimelineBucket::default()
        })
        .collect();
    let mut result = RunResult {
        scenario: "s".into(),
        seed: 4,
        duration_s: 2.0 + f64::from(index) / 10.0,
        totals: Totals {
            sent: latencies_us.len() as u64,
            completed: latencies_us.len() as u64,
            ..Totals::default()
        },
        operations: BTreeMap::from([("get".to_string(), op)]),
        timeline,
        segment: Some(SegmentInfo {
            index,
            count,
            start_at: Some("2026-12-02T07:00:00.000Z".into()),
            scenario_hash: "abc".into(),
            ..SegmentInfo::default()
        }),
        notes: vec![format!("note {index}")],
        ..RunResult::default()
    };
    if index == 0 {
        result.faults = vec![AppliedFault {
            dependency: "D".into(),
            kind: "abort".into(),
            params: serde_json::Value::Null,
            applied_at_s: 1.0,
            removed_at_s: Some(2.0),
            source: "schedule".into(),
        }];
    }
    Part {
        file: format!("seg-{index}.json"),
        result,
    }
}

#[test]
fn sums_are_exact_and_segment_zero_brings_the_dependency_side() {
    let a = part(
        1,
        2,
        &[1000, 2000, 3000],
        &[(0, &[1000, 2000]), (2, &[3000])],
    );
    let b = part(0, 2, &[500_000, 4000], &[(0, &[500_000]), (1, &[4000])]);
    let m = merge(vec![a, b]).unwrap();
    let op = &m.operations["get"];
    assert_eq!(op.count, 5);
    assert_eq!(op.status["200"], 5);
    assert_eq!(op.histogram, hist(&[1000, 2000, 3000, 500_000, 4000], 3));
    assert_eq!(op.latency_ms.max, 500.223, "{:?}", op.latency_ms);
    assert!(op.service_histogram.is_some());
    assert_eq!(m.timeline.len(), 3, "seconds 0, 1, 2");
    assert_eq!(m.timeline[0].ops["get"].count, 3);
    assert_eq!(m.timeline[1].sent, 1);
    let mut second = histogram(2);
    for v in [1000, 2000, 500_000] {
        second.record(v).unwrap();
    }
    let p99 = second.value_at_quantile(0.99) as f64 / 1000.0;
    assert_eq!(
        m.timeline[0].ops["get"].p99_ms, p99,
        "from the added 2-digit histograms"
    );
    assert!(
        m.timeline[0].ops["get"].histogram.is_none(),
        "not kept in the merge"
    );
    assert_eq!(m.totals.sent, 5);
    assert_eq!(m.duration_s, 2.1);
    assert_eq!(m.faults.len(), 1, "segment 0's faults");
    assert_eq!(m.started_at, "2026-12-02T07:00:00.000Z");
    let info = m.merged.unwrap();
    assert_eq!((info.segments, info.partial), (vec![0, 1], false));
    assert_eq!(info.files, vec!["seg-0.json", "seg-1.json"]);
    assert!(
        m.notes.iter().any(|n| n == "segment 1: note 1"),
        "{:?}",
        m.notes
    );
    assert!(m.segment.is_none());
}

#[test]
fn missing_parts_make_it_partial_and_foreign_ones_are_refused() {
    let m = merge(vec![part(2, 3, &[1000], &[])]).unwrap();
    let info = m.merged.as_ref().unwrap();
    assert_eq!((info.missing.clone(), info.partial), (vec![0, 1], true));
    assert!(m.faults.is_empty());
    assert!(
        m.notes.iter().any(|n| n.contains("segment 0 missing")),
        "{:?}",
        m.notes
    );

    let mut other = part(1, 3, &[1000], &[]);
    other.result.seed = 5;
    let e = merge(vec![part(0, 3, &[1000], &[]), other]).unwrap_err();
    assert!(
        e.contains("seg-1.json: `seed` is 5, but seg-0.json has 4"),
        "{e}"
    );
    let e = merge(vec![part(0, 3, &[1], &[]), part(1, 2, &[1], &[])]).unwrap_err();
    assert!(e.contains("`segment.count` is 2"), "{e}");
    let mut plain = part(0, 1, &[1], &[]);
    plain.result.segment = None;
    assert!(merge(vec![plain])
        .unwrap_err()
        .contains("not a segment result"));
    let mut bad = part(0, 1, &[1], &[]);
    bad.result.operations.get_mut("get").unwrap().histogram = "!!".into();
    let e = merge(vec![bad]).unwrap_err();
    assert!(
        e.contains("seg-0.json: operation \"get\" histogram: not base64"),
        "{e}"
    );
}
