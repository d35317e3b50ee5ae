//! A panic anywhere in a run (engine, collector, verdicts, report) must not leave a fault on an
//! attached proxy nor lose what was measured: `install` adds a panic hook that removes the run's
//! faults from attached proxies (the same `Installed::remove_now` a second signal uses), and
//! `judge_or_note` / `contain` keep a panic in judging or reporting from losing the result.
//! The proxies' leases are the last line: they expire even if this cannot run.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use crate::chaos::installed::Installed;
use crate::result::RunResult;

use super::stop::SECOND_SIGNAL_CLEANUP;

/// Adds the hook (after the default one, which prints the panic) for the rest of the process.
pub fn install(installed: Installed) {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        previous(info);
        if installed.is_empty() {
            return;
        }
        // The panicking thread may be a runtime's: clean up from a fresh thread and runtime.
        let installed = installed.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let lines = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| {
                    rt.block_on(installed.remove_now(SECOND_SIGNAL_CLEANUP))
                        .lines()
                })
                .unwrap_or_default();
            let _ = tx.send(lines);
        });
        let lines = rx
            .recv_timeout(SECOND_SIGNAL_CLEANUP + Duration::from_secs(1))
            .unwrap_or_else(|_| vec!["could not remove this run's faults in time: the proxies remove them when its lease lapses".into()]);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "redline panicked: removing this run's faults from attached proxies"
        );
        for l in lines {
            let _ = writeln!(err, "{l}");
        }
    }));
}

/// Judges the result with `judge`; a panic leaves the result unjudged with a note saying so
/// (and counts as a failed claim). Returns whether a claim failed.
pub fn judge_or_note(result: &mut RunResult, judge: impl FnOnce(&mut RunResult) -> bool) -> bool {
    let mut judged = result.clone();
    match panic::catch_unwind(AssertUnwindSafe(|| judge(&mut judged))) {
        Ok(failed) => {
            *result = judged;
            failed
        }
        Err(payload) => {
            result.notes.push(format!(
                "judging the spec panicked ({}): this result has no verdicts; please report it",
                message(&*payload)
            ));
            true
        }
    }
}

/// Runs `f`, turning a panic into an error naming it.
pub fn contain<T>(what: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(anyhow::anyhow!("{what} panicked: {}", message(&*payload))),
    }
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_judging_keeps_the_result_and_says_so() {
        let mut r = RunResult {
            scenario: "s".into(),
            ..Default::default()
        };
        let failed = judge_or_note(&mut r, |r| {
            r.notes.push("half-judged".into());
            panic!("boom")
        });
        assert!(failed);
        assert_eq!(r.scenario, "s");
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(r.notes[0].contains("boom"), "{:?}", r.notes);
        let e = contain("writing the reports", || -> anyhow::Result<()> {
            panic!("disk")
        });
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("writing the reports panicked: disk"));
    }
}
