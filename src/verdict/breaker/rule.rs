//! A rate or windowed-count breaker's opening rule, read at one moment: the calls and failures in
//! the claimed window, and whether the rule says the breaker must, may or must not open there.
//!
//! From outside the exact window is fuzzy (bucketed rolling windows, second-resolution clocks,
//! metrics reset or kept on closing, calls still in flight counted or not), so a reading is taken
//! under every plausible variant: the rule *must* open only when all of them trip, *may* when any does.

use redline_proxy::log::LogEntry;

use crate::spec::claims::{Breaker, BreakerKind, RateTrip};
use crate::verdict::evidence;
use crate::verdict::tolerance::{fmt_ms, fmt_pct};

/// A rate claim without a minimum volume is only held to opening once this many calls are in its
/// window: one failed call out of one is no evidence that a real breaker should have opened.
pub const MUST_MIN_CALLS: u32 = 10;
/// Share by which a bucketed time window may fall short of its nominal length (opossum's 10
/// buckets, cockatiel's 5 or more, resilience4j's 1 s buckets).
pub const WINDOW_SHORT: f64 = 0.2;
/// Share by which it may run over (a bucket not yet rotated out).
pub const WINDOW_LONG: f64 = 0.1;

/// Hystrix's default `metrics.healthSnapshot.intervalInMilliseconds`.
pub const HYSTRIX_SNAPSHOT_MS: f64 = 500.0;

/// The claimed window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Window {
    /// The last N calls (resilience4j COUNT_BASED, cockatiel CountBreaker).
    Calls(u32),
    /// Calls answered in the last T ms (opossum, Hystrix, Polly, cockatiel SamplingBreaker, nginx).
    Time(f64),
}

impl Window {
    pub fn describe(&self) -> String {
        match self {
            Window::Calls(n) => format!("the last {n} calls"),
            Window::Time(ms) => format!("the last {}", fmt_ms(*ms)),
        }
    }
}

/// The rule of a `failure_rate` or `failures_in_window` claim.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Rate {
        rate: f64,
        trips: Option<RateTrip>,
        window: Window,
        minimum_calls: Option<u32>,
        /// Calls at least this long (ms) are slow, and this share of slow calls opens it too.
        slow: Option<(f64, f64)>,
        /// Whether the library may count calls still in flight (opossum counts a call as fired when
        /// it starts; resilience4j, Hystrix, Polly and cockatiel record it when it ends). True when the
        /// library is not known.
        counts_in_flight: bool,
        /// How long after the rule is met the library may still admit calls: Hystrix re-reads its
        /// health counts only every `metrics.healthSnapshot.intervalInMilliseconds` (500 ms).
        lag_ms: f64,
        /// Whether the library's time window may hold more than its nominal length when it decides:
        /// cockatiel's SamplingBreaker opens a bucket at the first call a bucket's length after the
        /// last one opened, so its five buckets span up to five call gaps more than `duration`. Then
        /// the long reading must trip too before the breaker must have opened.
        window_runs_over: bool,
    },
    Count {
        failures: u32,
        window_ms: f64,
        /// Extra slack on the window's far edge: nginx reads its clock in whole seconds.
        granularity_ms: f64,
    },
}

impl Rule {
    /// The rule a claim states, when its kind is a rate or a windowed count and the figures it
    /// needs are there.
    pub fn of(b: &Breaker) -> Option<Rule> {
        match b.kind? {
            BreakerKind::FailureRate => {
                let rate = b.failure_rate.filter(|r| *r > 0.0 && *r <= 1.0)?;
                let window = match (b.window_calls, b.window_ms) {
                    (Some(n), _) if n > 0 => Window::Calls(n),
                    (_, Some(ms)) if ms > 0.0 => Window::Time(ms),
                    _ => return None,
                };
                let library = b.library.as_deref().map(str::to_ascii_lowercase);
                let hystrix = library.as_deref().is_some_and(|l| l.contains("hystrix"));
                let counts_in_flight = library.as_deref().is_none_or(|l| l.contains("opossum"));
                Some(Rule::Rate {
                    rate,
                    trips: b.rate_trips,
                    window,
                    minimum_calls: b.minimum_calls,
                    slow: b
                        .slow_call_ms
                        .zip(b.slow_call_rate)
                        .filter(|(ms, r)| *ms > 0.0 && *r > 0.0 && *r <= 1.0),
                    counts_in_flight,
                    lag_ms: if hystrix { HYSTRIX_SNAPSHOT_MS } else { 0.0 },
                    window_runs_over: library.as_deref().is_some_and(|l| l.contains("cockatiel")),
                })
            }
            BreakerKind::FailuresInWindow => {
                let failures = b.failure_threshold.filter(|n| *n > 0)?;
                let window_ms = b.window_ms.filter(|w| *w > 0.0)?;
                let nginx = b.library.as_deref().is_some_and(|l| l.contains("nginx"));
                Some(Rule::Count {
                    failures,
                    window_ms,
                    granularity_ms: if nginx { 1000.0 } else { 0.0 },
                })
            }
            BreakerKind::Consecutive => None,
        }
    }

    /// "≥ 50% of the calls in the last 10 s fail (once 20 calls are in it)".
    pub fn describe(&self) -> String {
        match self {
            Rule::Rate {
                rate,
                trips,
                window,
                minimum_calls,
                slow,
                ..
            } => {
                let op = match trips {
                    Some(RateTrip::Above) => "more than",
                    _ => "at least",
                };
                let min = minimum_calls
                    .map(|m| format!(", once {m} calls are in it"))
                    .unwrap_or_default();
                let slow = slow
                    .map(|(ms, r)| {
                        format!(" (or {} of them take {} or more)", fmt_pct(r), fmt_ms(ms))
                    })
                    .unwrap_or_default();
                format!(
                    "{op} {} of the calls in {} fail{slow}{min}",
                    fmt_pct(*rate),
                    window.describe()
                )
            }
            Rule::Count {
                failures,
                window_ms,
                ..
            } => format!("{failures} calls fail within {}", fmt_ms(*window_ms)),
        }
    }

    /// The slow-call duration of a rate rule with a slow-call rate.
    pub fn slow_ms(&self) -> Option<f64> {
        match self {
            Rule::Rate { slow, .. } => slow.map(|(ms, _)| ms),
            Rule::Count { .. } => None,
        }
    }

    /// How long after the rule is met the library may still admit calls.
    pub fn lag_ms(&self) -> f64 {
        match self {
            Rule::Rate { lag_ms, .. } => *lag_ms,
            Rule::Count { .. } => 0.0,
        }
    }

    /// The window's nominal length in words ("the last 10 s", "the last 20 calls").
    pub fn window(&self) -> Window {
        match self {
            Rule::Rate { window, .. } => *window,
            Rule::Count { window_ms, .. } => Window::Time(*window_ms),
        }
    }
}

/// What the claimed window held at one moment (nominal variant).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub at_ms: f64,
    pub calls: u64,
    pub failures: u64,
    /// Slow calls among them (when the claim has a slow-call rule).
    pub slow: u64,
    /// The window it was read over (the claimed one, or the variant that tripped).
    pub window: Window,
}

impl Reading {
    pub fn rate(&self) -> f64 {
        self.failures as f64 / self.calls.max(1) as f64
    }
}

/// What the rule says at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Says {
    /// Every variant trips: a breaker following the rule opens here.
    Must,
    /// Some variants trip: it may open here.
    May,
    /// None trips.
    No,
}

/// The calls the service learned of, in that order, with the log they came from.
pub struct Calls<'a> {
    /// (end, failed, arrival index), sorted by end.
    pub ends: &'a [(f64, bool, usize)],
    pub log: &'a [LogEntry],
}

impl Calls<'_> {
    /// Completions up to and including `k`, answered after `since`, within the window: (calls,
    /// failures, calls at least `slow_ms` long).
    fn read(&self, k: usize, since: f64, window: Window, slow_ms: Option<f64>) -> Counts {
        let end_k = self.ends[k].0;
        let mut c = Counts::default();
        for &(end, _, idx) in self.ends[..=k].iter().rev() {
            if end < since {
                break;
            }
            match window {
                Window::Time(w) if end <= end_k - w => break,
                Window::Calls(n) if c.calls >= u64::from(n) => break,
                _ => {}
            }
            let e = &self.log[idx];
            c.calls += 1;
            c.failures += u64::from(evidence::is_failure(e));
            c.slow += u64::from(slow_ms.is_some_and(|s| end - e.t_ms >= s));
        }
        c
    }

    /// Calls admitted (after `since`, within a time window) but not yet answered at completion `k`.
    fn in_flight(&self, k: usize, since: f64, window: Window) -> u64 {
        let end_k = self.ends[k].0;
        let from = match window {
            Window::Time(w) => since.max(end_k - w),
            Window::Calls(_) => since,
        };
        self.log
            .iter()
            .filter(|e| e.t_ms >= from && e.t_ms <= end_k && evidence::end_ms(e) > end_k)
            .count() as u64
    }

    /// The nominal reading at completion `k`: the claimed window, counted since `since`.
    pub fn reading(&self, rule: &Rule, k: usize, since: f64) -> Reading {
        self.reading_over(rule, k, since, rule.window())
    }

    fn reading_over(&self, rule: &Rule, k: usize, since: f64, window: Window) -> Reading {
        let c = self.read(k, since, window, rule.slow_ms());
        Reading {
            at_ms: self.ends[k].0,
            calls: c.calls,
            failures: c.failures,
            slow: c.slow,
            window,
        }
    }

    /// The reading that shows the rule met at `k`: the claimed window if it trips there, else
    /// the first variant that does (None: none does).
    pub fn tripping(&self, rule: &Rule, k: usize, reset: f64) -> Option<Reading> {
        let nominal = self.reading(rule, k, reset);
        if trips(rule, counts(&nominal), 0, false) != Trip::No {
            return Some(nominal);
        }
        self.variants(rule)
            .into_iter()
            .flat_map(|(w, _)| [reset, f64::NEG_INFINITY].map(|s| self.reading_over(rule, k, s, w)))
            .find(|r| trips(rule, counts(r), 0, false) != Trip::No)
    }

    fn variants(&self, rule: &Rule) -> Vec<(Window, bool)> {
        match rule.window() {
            Window::Calls(n) => vec![(Window::Calls(n), true)],
            Window::Time(w) => {
                let (gran, long_must) = match rule {
                    Rule::Count { granularity_ms, .. } => (*granularity_ms, false),
                    Rule::Rate {
                        window_runs_over, ..
                    } => (0.0, *window_runs_over),
                };
                vec![
                    (Window::Time(w * (1.0 - WINDOW_SHORT)), true),
                    (Window::Time(w), true),
                    (Window::Time(w * (1.0 + WINDOW_LONG) + gran), long_must),
                ]
            }
        }
    }

    /// What the rule says at completion `k`, with counting restarted at `reset` (the last close)
    /// by libraries that reset their metrics and not by the others.
    pub fn says(&self, rule: &Rule, k: usize, reset: f64) -> Says {
        let windows = self.variants(rule);
        let (mut all, mut any) = (true, false);
        for since in [reset, f64::NEG_INFINITY] {
            for &(window, for_must) in &windows {
                let c = self.read(k, since, window, rule.slow_ms());
                any |= trips(rule, c, 0, false) != Trip::No;
                if for_must {
                    all &= trips(rule, c, 0, true) == Trip::Yes;
                    // A library that counts calls still in flight (opossum's `fires`) sees a lower rate.
                    if matches!(
                        rule,
                        Rule::Rate {
                            counts_in_flight: true,
                            ..
                        }
                    ) {
                        let extra = self.in_flight(k, since, window);
                        all &= trips(rule, c, extra, true) == Trip::Yes;
                    }
                }
            }
        }
        match (all, any) {
            (true, _) => Says::Must,
            (false, true) => Says::May,
            _ => Says::No,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    Yes,
    /// Exactly at a rate threshold whose side (≥ or >) the claim does not say.
    Edge,
    No,
}

/// What a window held: calls, failed calls, slow calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    calls: u64,
    failures: u64,
    slow: u64,
}

fn counts(r: &Reading) -> Counts {
    Counts {
        calls: r.calls,
        failures: r.failures,
        slow: r.slow,
    }
}

/// Whether the rule trips on what a window held (`extra` calls in flight counted as calls).
fn trips(rule: &Rule, c: Counts, extra: u64, must: bool) -> Trip {
    match rule {
        Rule::Rate {
            rate,
            trips,
            minimum_calls,
            slow,
            ..
        } => {
            // Held to opening only with a real volume; allowed to open from one call.
            let floor = if must { MUST_MIN_CALLS } else { 1 };
            let min = u64::from(minimum_calls.unwrap_or(floor));
            let calls = c.calls + extra;
            if calls == 0 || calls < min {
                return Trip::No;
            }
            // resilience4j opens when either rate reaches its threshold.
            if let Some((_, slow_rate)) = slow {
                if c.slow as f64 / calls as f64 >= *slow_rate {
                    return Trip::Yes;
                }
            }
            let r = c.failures as f64 / calls as f64;
            let at = (r - rate).abs() < 1e-9;
            match (trips, at) {
                (_, false) if r > *rate => Trip::Yes,
                (_, false) => Trip::No,
                (Some(RateTrip::AtLeast), true) => Trip::Yes,
                (Some(RateTrip::Above), true) => Trip::No,
                (None, true) => Trip::Edge,
            }
        }
        Rule::Count { failures: n, .. } => {
            if c.failures >= u64::from(*n) {
                Trip::Yes
            } else {
                Trip::No
            }
        }
    }
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
