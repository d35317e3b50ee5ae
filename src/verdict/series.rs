//! Per-second readings of the timeline shared by the throughput and alert families: which stretches
//! of the run were the service's healthy state, and what it settled, answered and failed each second.

use crate::result::{PhaseKind, RunResult, TimelineBucket};

/// Failures without an answer (timeouts, resets ...): every error kind but an unexpected status,
/// leaving out requests the generator cancelled at the end of the run (as `errors` counts them).
pub fn transport_errors(b: &TimelineBucket) -> u64 {
    b.error_kinds
        .iter()
        .filter(|(k, _)| !k.contains("status") && k.as_str() != "cancelled")
        .map(|(_, v)| v)
        .sum()
}

/// Requests settled in the second: answered with any status, or failed without an answer.
pub fn settled(b: &TimelineBucket) -> u64 {
    b.completed + transport_errors(b)
}

/// Errors as a monitor counts them: 5xx answers and failures without an answer.
pub fn server_errors(b: &TimelineBucket) -> u64 {
    b.status_classes.get("5xx").copied().unwrap_or(0) + transport_errors(b)
}

/// A stretch of the run taken as the service's healthy (fault-free) state.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub name: String,
    pub from_s: f64,
    pub to_s: f64,
}

/// The healthy stretches: the baseline phases; without one, when no fault was injected, every
/// phase but warmup (or the whole run after warmup). Empty when faults came with no baseline.
pub fn healthy_windows(result: &RunResult) -> Vec<Window> {
    let window = |p: &crate::result::PhaseStats| Window {
        name: p.name.clone(),
        from_s: p.from_s,
        to_s: p.to_s,
    };
    let base: Vec<Window> = result
        .phases
        .iter()
        .filter(|p| p.kind == PhaseKind::Baseline)
        .map(window)
        .collect();
    if !base.is_empty() || !result.faults.is_empty() {
        return base;
    }
    let other: Vec<Window> = result
        .phases
        .iter()
        .filter(|p| p.kind != PhaseKind::Warmup)
        .map(window)
        .collect();
    if !other.is_empty() {
        return other;
    }
    if result.duration_s > result.warmup_s {
        return vec![Window {
            name: "run".into(),
            from_s: result.warmup_s,
            to_s: result.duration_s,
        }];
    }
    Vec::new()
}

/// Timeline buckets lying wholly within [from_s, to_s): a bucket cut by a boundary mixes two states.
pub fn buckets_within(result: &RunResult, from_s: f64, to_s: f64) -> Vec<&TimelineBucket> {
    result
        .timeline
        .iter()
        .filter(|b| {
            let t = f64::from(b.t_s);
            t >= from_s - 1e-6 && t + 1.0 <= to_s + 1e-6
        })
        .collect()
}

/// Every applied fault as (dependency, kind, from_s, to_s); an unremoved fault lasts to the end.
pub fn fault_spans(result: &RunResult) -> Vec<(String, String, f64, f64)> {
    result
        .faults
        .iter()
        .map(|f| {
            (
                f.dependency.clone(),
                f.kind.clone(),
                f.applied_at_s,
                f.removed_at_s.unwrap_or(result.duration_s),
            )
        })
        .collect()
}

/// The faults overlapping [from_s, to_s), described: "UserService abort, UserService hang".
pub fn faults_during(result: &RunResult, from_s: f64, to_s: f64) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (dep, kind, a, b) in fault_spans(result) {
        let name = format!("{dep} {kind}");
        if a < to_s && b > from_s && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// "12.0–15.0 s".
pub fn span(from_s: f64, to_s: f64) -> String {
    format!("{from_s:.1}–{to_s:.1} s")
}

/// "1 min", "90 s", "2 min".
pub fn fmt_secs(s: f64) -> String {
    if s >= 60.0 && (s / 60.0).fract() == 0.0 {
        format!("{:.0} min", s / 60.0)
    } else if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{AppliedFault, PhaseStats};

    fn bucket(t_s: u32, completed: u64, fives: u64, timeouts: u64) -> TimelineBucket {
        let mut b = TimelineBucket {
            t_s,
            completed,
            ..TimelineBucket::default()
        };
        b.status_classes.insert("5xx".into(), fives);
        b.error_kinds.insert("timeout".into(), timeouts);
        b.error_kinds.insert("status_unexpected".into(), fives);
        b.error_kinds.insert("cancelled".into(), 4);
        b
    }

    #[test]
    fn errors_are_5xx_and_failures_without_an_answer() {
        let b = bucket(0, 100, 3, 2);
        assert_eq!(transport_errors(&b), 2);
        assert_eq!(settled(&b), 102);
        assert_eq!(server_errors(&b), 5);
    }

    #[test]
    fn healthy_state_is_the_baseline_or_a_fault_free_run() {
        let mut r = RunResult {
            duration_s: 30.0,
            warmup_s: 2.0,
            ..RunResult::default()
        };
        assert_eq!(healthy_windows(&r)[0].from_s, 2.0);
        r.faults.push(AppliedFault {
            dependency: "Db".into(),
            kind: "abort".into(),
            params: serde_json::json!({}),
            applied_at_s: 10.0,
            removed_at_s: None,
            source: "schedule".into(),
        });
        assert!(healthy_windows(&r).is_empty(), "faults without a baseline");
        r.phases.push(PhaseStats {
            name: "baseline".into(),
            kind: PhaseKind::Baseline,
            from_s: 2.0,
            to_s: 10.0,
            operations: Default::default(),
        });
        assert_eq!(healthy_windows(&r)[0].to_s, 10.0);
        assert_eq!(faults_during(&r, 9.0, 11.0), ["Db abort"]);
        assert!(faults_during(&r, 2.0, 10.0).is_empty());
    }

    #[test]
    fn buckets_cut_by_a_boundary_are_left_out() {
        let r = RunResult {
            timeline: (0..10).map(|t| bucket(t, 1, 0, 0)).collect(),
            ..RunResult::default()
        };
        let ts: Vec<u32> = buckets_within(&r, 2.0, 5.5).iter().map(|b| b.t_s).collect();
        assert_eq!(ts, [2, 3, 4]);
        assert_eq!(fmt_secs(60.0), "1 min");
        assert_eq!(fmt_secs(90.0), "90 s");
    }
}
