//! Dependency traffic over time, as the proxy saw it: calls, successes, failures and calls the
//! service gave up on, with that dependency's fault windows and breaker-open stretches shaded.

use plotters::style::RGBColor;

use crate::result::{DependencySecond, RunResult};

use super::throughput::{counts_chart, Series};
use super::{
    breaker_states, fault_windows, BreakerState, ChartResult, Window, AMBER, BLUE, FAULT, GREEN,
    PURPLE, RED,
};

/// The chart for dependency `name`.
pub fn chart(r: &RunResult, name: &str) -> ChartResult {
    let Some(dep) = r.dependencies.get(name) else {
        return Err(format!("no dependency named {name}").into());
    };
    let end = r.duration_s.floor().max(1.0) as u32;
    // Seconds the proxy logged nothing are zero, not gaps: that silence is the breaker's signature.
    let per_second = |f: fn(&DependencySecond) -> u64| -> Vec<(f64, f64)> {
        (0..end)
            .map(|t| {
                let v = dep.per_second.iter().find(|s| s.t_s == t).map_or(0, f);
                (f64::from(t) + 0.5, v as f64)
            })
            .collect()
    };
    // "calls" last and dashed, so the lines it equals (ok, or failed) do not hide it.
    let series = [
        Series {
            name: "ok".into(),
            color: GREEN,
            dashed: false,
            points: per_second(|s| s.ok),
        },
        Series {
            name: "failed".into(),
            color: RED,
            dashed: false,
            points: per_second(|s| s.failed),
        },
        Series {
            name: "caller gave up".into(),
            color: AMBER,
            dashed: true,
            points: per_second(|s| s.gave_up),
        },
        Series {
            name: "calls".into(),
            color: BLUE,
            dashed: true,
            points: per_second(|s| s.requests),
        },
    ];
    let mut shaded: Vec<(Window, RGBColor)> = fault_windows(r, Some(name))
        .into_iter()
        .map(|w| (w, FAULT))
        .collect();
    for (from, to, state) in breaker_states(r, name) {
        if state == BreakerState::Open {
            shaded.push((
                Window {
                    from_s: from,
                    to_s: to,
                    label: "breaker open".into(),
                    row: 1,
                },
                PURPLE,
            ));
        }
    }
    counts_chart(r, &series, &shaded, "calls / s")
}
