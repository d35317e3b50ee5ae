//! The live terminal view of a chaos run (stderr, only on a terminal, not with --quiet): each
//! second, the time elapsed of the schedule's total and the phase it is in, the rate, errors
//! and p50/p99 per operation, the faults active now and the traffic each dependency saw.
//! Redrawn in place, so a long game day does not scroll the screen away.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::book::FaultBook;
use crate::result::{DependencySecond, TimelineBucket};
use crate::scenario::PhaseWindow;

/// The schedule a frame places its second in: its total length and its phases.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    pub total: Duration,
    pub phases: Vec<PhaseWindow>,
}

impl Clock {
    /// "5 s of 48 s · baseline": the end of second `t_s`, the total, and the phase it is in.
    fn at(&self, t_s: u32) -> String {
        let start = Duration::from_secs(u64::from(t_s));
        let mut text = format!("{:>5}s of {}s", t_s + 1, self.total.as_secs_f64().ceil());
        // The latest-starting window that holds this second (a fault window within the baseline
        // or a custom phase reads as the fault).
        let phase = self
            .phases
            .iter()
            .filter(|p| p.contains(start))
            .max_by_key(|p| p.from);
        match phase {
            Some(p) => text.push_str(&format!(" · {}", p.name)),
            None if start >= self.total => text.push_str(" · after the schedule"),
            None => {}
        }
        text
    }
}

/// Per dependency, its most recent seconds (the collector publishes them as it reads logs).
pub type DepSeconds = BTreeMap<String, Vec<DependencySecond>>;

/// Draws one frame per finished second until the engine's feed ends. `hold_from`: the second
/// the timeline ends when the run holds after it (the frame then says so).
pub async fn view(
    mut rx: mpsc::UnboundedReceiver<TimelineBucket>,
    book: FaultBook,
    deps: watch::Receiver<DepSeconds>,
    hold_from: Option<u32>,
    clock: Clock,
) {
    let mut drawn = 0usize;
    let mut err = std::io::stderr();
    while let Some(b) = rx.recv().await {
        let mut lines = frame(&b, &clock, &book.active(), &deps.borrow());
        if hold_from.is_some_and(|h| b.t_s + 1 >= h) {
            lines.push("  holding after the timeline: change faults over the control API; Ctrl-C ends the run".into());
        }
        let mut out = String::new();
        if drawn > 0 {
            out.push_str(&format!("\x1b[{drawn}F\x1b[J"));
        }
        for l in &lines {
            out.push_str(l);
            out.push('\n');
        }
        drawn = lines.len();
        let _ = err.write_all(out.as_bytes());
        let _ = err.flush();
    }
    if drawn > 0 {
        let _ = write!(err, "\x1b[{drawn}F\x1b[J");
    }
}

/// The lines of one frame (plain text; no colour, so it reads the same everywhere).
pub fn frame(
    b: &TimelineBucket,
    clock: &Clock,
    active: &[(String, String)],
    deps: &DepSeconds,
) -> Vec<String> {
    let mut lines = vec![format!(
        "[{}] {:>7} req/s  errors {:>5}  dropped {:>4}  in flight {:>5}",
        clock.at(b.t_s),
        b.completed,
        b.errors,
        b.dropped,
        b.in_flight
    )];
    for (name, o) in &b.ops {
        lines.push(format!(
            "  {:<20} {:>6}/s  err {:>5}  p50 {:>8.1} ms  p99 {:>8.1} ms",
            clip(name, 20),
            o.count,
            o.errors,
            o.p50_ms,
            o.p99_ms
        ));
    }
    if active.is_empty() {
        lines.push("  faults: none".to_string());
    } else {
        let list: Vec<String> = active.iter().map(|(d, k)| format!("{k} on {d}")).collect();
        lines.push(format!("  faults: {}", list.join(", ")));
    }
    for (name, seconds) in deps {
        let s = seconds
            .iter()
            .find(|s| s.t_s == b.t_s)
            .cloned()
            .unwrap_or_default();
        lines.push(format!(
            "  {:<20} {:>6} calls/s  failed {:>5}  faulted {:>5}  gave up {:>5}",
            clip(name, 20),
            s.requests,
            s.failed,
            s.faulted,
            s.gave_up
        ));
    }
    lines
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::OpSecond;

    #[test]
    fn a_frame_names_ops_faults_and_dependencies() {
        let mut b = TimelineBucket {
            t_s: 4,
            completed: 100,
            ..TimelineBucket::default()
        };
        b.ops.insert(
            "get".into(),
            OpSecond {
                count: 100,
                errors: 2,
                p50_ms: 3.0,
                p95_ms: 5.0,
                p99_ms: 9.5,
                histogram: None,
            },
        );
        let mut deps = DepSeconds::new();
        deps.insert(
            "Users".into(),
            vec![DependencySecond {
                t_s: 4,
                requests: 120,
                failed: 7,
                faulted: 7,
                gave_up: 1,
                ok: 113,
            }],
        );
        let phase = |name: &str, from: u64, to: u64| PhaseWindow {
            name: name.into(),
            kind: crate::result::PhaseKind::Baseline,
            from: Duration::from_secs(from),
            to: Duration::from_secs(to),
        };
        let clock = Clock {
            total: Duration::from_secs(48),
            phases: vec![phase("baseline", 0, 15), phase("fault:Users:abort", 4, 9)],
        };
        let lines = frame(&b, &clock, &[("Users".into(), "abort".into())], &deps);
        let text = lines.join("\n");
        assert!(
            text.contains("[    5s of 48s · fault:Users:abort]") && text.contains("100 req/s"),
            "{text}"
        );
        assert_eq!(clock.at(0), "    1s of 48s · baseline");
        assert_eq!(clock.at(50), "   51s of 48s · after the schedule");
        assert!(text.contains("p99      9.5 ms"), "{text}");
        assert!(text.contains("faults: abort on Users"), "{text}");
        assert!(
            text.contains("120 calls/s") && text.contains("failed     7"),
            "{text}"
        );
    }
}
