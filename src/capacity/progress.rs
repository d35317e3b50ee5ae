//! What the search says while it runs (stderr): a live line on a terminal (step, rate, time, the
//! worst per-second p99 so far, the bracket), and one line per finished step.

use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::search::{fmt_rate, Phase};
use crate::result::{CapacityStep, TimelineBucket};

/// The step being run, for its live line.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo {
    pub number: usize,
    pub phase: Phase,
    pub rate: f64,
    /// Warm-up included.
    pub length: Duration,
    pub warmup: Duration,
    /// (highest rate that held, lowest that did not) before this step.
    pub bracket: (Option<f64>, Option<f64>),
}

fn bracket(b: (Option<f64>, Option<f64>)) -> String {
    let side = |r: Option<f64>| r.map_or("?".to_string(), |r| format!("{r:.0}"));
    format!("[{}, {}] req/s", side(b.0), side(b.1))
}

/// The engine's feed for the live line and the task drawing it; (None, None) when not live.
pub fn start(
    live: bool,
    info: StepInfo,
) -> (
    Option<mpsc::UnboundedSender<TimelineBucket>>,
    Option<JoinHandle<()>>,
) {
    if !live {
        return (None, None);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<TimelineBucket>();
    let task = tokio::spawn(async move {
        let mut worst_p99: f64 = 0.0;
        let mut err = std::io::stderr();
        while let Some(b) = rx.recv().await {
            if f64::from(b.t_s) >= info.warmup.as_secs_f64() {
                for op in b.ops.values() {
                    worst_p99 = worst_p99.max(op.p99_ms);
                }
            }
            let length = info.length.as_secs_f64().ceil();
            // The last second(s) drain the in-flight requests: the clock stops at the length.
            let now = f64::from(b.t_s + 1).min(length);
            let p99 = if worst_p99 > 0.0 {
                format!("{worst_p99:.1} ms")
            } else {
                "–".to_string()
            };
            let line = format!(
                "\r\x1b[2Kstep {} {} · {} · {now:.0}/{length:.0} s · p99 {p99} so far · bracket {}",
                info.number,
                info.phase.name(),
                fmt_rate(info.rate),
                bracket(info.bracket)
            );
            let _ = err.write_all(line.as_bytes());
            let _ = err.flush();
        }
        let _ = err.write_all(b"\r\x1b[2K");
    });
    (Some(tx), Some(task))
}

/// One line per finished step: "step 3 bisect 300 req/s: holds (answered 299.8 req/s, p99 41 ms)".
pub fn finished(step: &CapacityStep, number: usize) {
    let verdict = match step.holds {
        Some(true) => "holds".to_string(),
        Some(false) => format!("does not hold ({})", step.failed_claims.join(", ")),
        None => format!("inconclusive ({})", step.inconclusive_claims.join(", ")),
    };
    let p99 = step
        .operations
        .values()
        .map(|o| o.p99_ms)
        .fold(0.0, f64::max);
    eprintln!(
        "step {number} {} {}: {verdict} · answered {:.1} req/s · worst p99 {p99:.1} ms · {:.1} s{}",
        step.phase,
        fmt_rate(step.rate),
        step.achieved_rate,
        step.duration_s,
        if step.cool_down_s > 0.0 {
            format!(" · cooled down {:.1} s", step.cool_down_s)
        } else {
            String::new()
        }
    );
}
