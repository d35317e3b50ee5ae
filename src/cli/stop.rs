//! How every long-running command is stopped from outside, in one place: SIGINT (Ctrl-C),
//! SIGTERM (CI cancels, Kubernetes) and SIGHUP (a closed terminal) all mean "stop the load,
//! remove the faults, write the partial result"; a second signal of any kind removes the run's
//! faults from attached proxies (at most 2 s), says what is still installed, and exits without
//! a result. `redline run`, `redline demo` (and `--hold`) use `watch`; any new command that
//! drives a run takes the same `Stopper`.
//!
//! Exit codes follow the shell's 128 + signal number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::chaos::installed::Installed;
use crate::engine::StopSignal;
use crate::result::RunResult;

/// How long a second signal waits for the faults on attached proxies to be removed.
pub const SECOND_SIGNAL_CLEANUP: Duration = Duration::from_secs(2);

/// A stop signal from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
    Hup,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }

    /// 128 + the signal's number, as a shell reports a process ended by it.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
            Signal::Hup => 129,
        }
    }

    /// The exit code for an interrupted result's `interrupted_by` (130 when it names no signal).
    pub fn exit_code_for(interrupted_by: Option<&str>) -> u8 {
        match interrupted_by {
            Some("SIGTERM") => Signal::Term.exit_code(),
            Some("SIGHUP") => Signal::Hup.exit_code(),
            _ => Signal::Int.exit_code(),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Signal::Int => "interrupted (Ctrl-C)",
            Signal::Term => "terminated (SIGTERM)",
            Signal::Hup => "hung up (SIGHUP)",
        }
    }
}

/// The first stop signal seen, shared with the task that watches for them.
#[derive(Clone, Default)]
pub struct Stopper {
    first: Arc<OnceLock<Signal>>,
}

impl Stopper {
    /// The first signal received, if any.
    pub fn signal(&self) -> Option<Signal> {
        self.first.get().copied()
    }

    /// Names the signal in an interrupted result (`interrupted_by` and a note).
    pub fn stamp(&self, result: &mut RunResult) {
        let Some(sig) = self.signal() else { return };
        if result.interrupted && result.interrupted_by.is_none() {
            result.interrupted_by = Some(sig.name().to_string());
            result.notes.push(format!("stopped by {}", sig.name()));
        }
    }
}

/// Watches SIGINT, SIGTERM and SIGHUP on the current runtime: the first stops `stop`, a second
/// removes what `installed` holds on attached proxies and exits the process.
pub fn watch(stop: StopSignal, installed: Installed) -> Stopper {
    let stopper = Stopper::default();
    let mut signals = Signals::new();
    let first = stopper.first.clone();
    tokio::spawn(async move {
        let Some(sig) = signals.next().await else {
            return;
        };
        let _ = first.set(sig);
        eprintln!(
            "\n{}: stopping the load, removing faults, writing the partial result (a second signal or Ctrl-C quits sooner: no result)",
            sig.what()
        );
        stop.stop();
        let Some(again) = signals.next().await else {
            return;
        };
        eprintln!(
            "interrupted again ({}): removing this run's faults (at most {} s), then exiting without a result",
            again.name(),
            SECOND_SIGNAL_CLEANUP.as_secs()
        );
        let removal = installed.remove_now(SECOND_SIGNAL_CLEANUP).await;
        let mut err = std::io::stderr().lock();
        for line in removal.lines() {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        std::process::exit(again.exit_code() as i32);
    });
    stopper
}

/// The three signal streams, registered at once (before that, a signal would kill the process
/// with nothing cleaned up).
struct Signals {
    #[cfg(unix)]
    unix: Option<[tokio::signal::unix::Signal; 2]>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let unix = signal(SignalKind::terminate())
                .and_then(|t| Ok([t, signal(SignalKind::hangup())?]))
                .ok();
            Signals { unix }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) -> Option<Signal> {
        #[cfg(unix)]
        if let Some([term, hup]) = &mut self.unix {
            return tokio::select! {
                r = tokio::signal::ctrl_c() => r.ok().map(|_| Signal::Int),
                _ = term.recv() => Some(Signal::Term),
                _ = hup.recv() => Some(Signal::Hup),
            };
        }
        tokio::signal::ctrl_c().await.ok().map(|_| Signal::Int)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(Signal::exit_code_for(Some("SIGTERM")), 143);
        assert_eq!(Signal::exit_code_for(Some("SIGHUP")), 129);
        assert_eq!(Signal::exit_code_for(Some("SIGINT")), 130);
        assert_eq!(Signal::exit_code_for(None), 130);
    }

    #[test]
    fn only_an_interrupted_result_names_the_signal() {
        let s = Stopper::default();
        let _ = s.first.set(Signal::Term);
        let mut held = RunResult::default();
        s.stamp(&mut held);
        assert_eq!(
            held.interrupted_by, None,
            "a hold ended by a signal is a normal end"
        );
        let mut r = RunResult {
            interrupted: true,
            ..Default::default()
        };
        s.stamp(&mut r);
        assert_eq!(r.interrupted_by.as_deref(), Some("SIGTERM"));
        assert!(r.notes.iter().any(|n| n == "stopped by SIGTERM"));
    }
}
