//! The search as a pure state machine: bracket (×2 until a step does not hold), bisect until the
//! bracket is within the precision, then verify the found rate (stepping down when that fails).
//!
//! It never runs anything: the driver asks `next` for the step to run, runs it, and `record`s
//! whether it held (`Some(true)`), did not (`Some(false)`) or could not be judged (`None`). An
//! inconclusive step is never a proven rate: while bracketing (nothing failed yet) the search grows
//! past it, since a higher rate brings more samples; while bisecting it caps the bracket like a
//! failure, and the answer says the true capacity may lie above it.

/// What the search is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Bracket,
    Bisect,
    Verify,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Bracket => "bracket",
            Phase::Bisect => "bisect",
            Phase::Verify => "verify",
        }
    }
}

/// The next step to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Next {
    pub rate: f64,
    pub phase: Phase,
}

/// The search's limits, checked by the CLI before it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// First rate tried.
    pub start: f64,
    /// Never offer more than this.
    pub max: f64,
    /// Stop bisecting when (hi - lo) / lo is at most this.
    pub precision: f64,
    /// True when `start` is the user's `--min`: a failure there ends the search (below the floor);
    /// otherwise (a probe's guess) the search halves down to find a rate that holds.
    pub start_is_floor: bool,
}

/// Verifications tried before giving up (the first plus two step-downs).
const MAX_VERIFICATIONS: u32 = 3;
/// Halvings below a guessed start before the search says nothing holds.
const MAX_HALVINGS: u32 = 4;

/// Where the search stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    limits: Limits,
    phase: Phase,
    /// Highest rate that held.
    lo: Option<f64>,
    /// Lowest rate that did not hold (or was inconclusive) above `lo`.
    hi: Option<f64>,
    /// True when `hi` is an inconclusive step rather than a failed one.
    hi_inconclusive: bool,
    next_rate: f64,
    halvings: u32,
    verifications: u32,
    verified: bool,
    done: Option<String>,
}

impl Search {
    pub fn new(limits: Limits) -> Search {
        Search {
            limits,
            phase: Phase::Bracket,
            lo: None,
            hi: None,
            hi_inconclusive: false,
            next_rate: limits.start.min(limits.max),
            halvings: 0,
            verifications: 0,
            verified: false,
            done: None,
        }
    }

    /// The step to run next; None once the search is over.
    pub fn next(&self) -> Option<Next> {
        self.done.is_none().then_some(Next {
            rate: self.next_rate,
            phase: self.phase,
        })
    }

    /// Records the outcome of the step `next` returned.
    pub fn record(&mut self, holds: Option<bool>) {
        let Some(step) = self.next() else { return };
        match step.phase {
            Phase::Bracket => self.bracket(step.rate, holds),
            Phase::Bisect => self.bisect(step.rate, holds),
            Phase::Verify => self.verify(step.rate, holds),
        }
    }

    /// Ends the search early (budget, interruption); the best bracket so far stands.
    pub fn stop(&mut self, reason: impl Into<String>) {
        if self.done.is_none() {
            self.done = Some(reason.into());
        }
    }

    /// Highest rate that held a step (verified or not).
    pub fn best(&self) -> Option<f64> {
        self.lo
    }

    /// Lowest rate above `best` that did not hold.
    pub fn upper(&self) -> Option<f64> {
        self.hi
    }

    pub fn verified(&self) -> bool {
        self.verified
    }

    /// True when the bracket's top was an inconclusive step, not a failed one.
    pub fn upper_inconclusive(&self) -> bool {
        self.hi_inconclusive
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Why the search ended (None while it runs).
    pub fn reason(&self) -> Option<&str> {
        self.done.as_deref()
    }

    fn set_hi(&mut self, rate: f64, holds: Option<bool>) {
        self.hi = Some(rate);
        self.hi_inconclusive = holds.is_none();
    }

    fn bracket(&mut self, rate: f64, holds: Option<bool>) {
        if holds == Some(true) {
            self.lo = Some(rate);
            if rate >= self.limits.max {
                self.start_verify(rate);
            } else {
                self.next_rate = (rate * 2.0).min(self.limits.max);
            }
            return;
        }
        // Nothing failed, but something could not be judged (too few samples at this rate):
        // a higher rate brings more samples, so keep growing without calling this rate proven.
        if holds.is_none() && self.hi.is_none() {
            if rate >= self.limits.max {
                self.done = Some(format!("inconclusive up to --max {}", fmt_rate(rate)));
            } else {
                self.next_rate = (rate * 2.0).min(self.limits.max);
            }
            return;
        }
        self.set_hi(rate, holds);
        match self.lo {
            Some(lo) => self.narrow(lo),
            None if self.limits.start_is_floor => {
                self.done = Some(format!("did not hold at --min {}", fmt_rate(rate)));
            }
            None if self.halvings >= MAX_HALVINGS => {
                self.done = Some(format!("did not hold down to {}", fmt_rate(rate)));
            }
            None => {
                self.halvings += 1;
                self.next_rate = rate / 2.0;
            }
        }
    }

    /// Bisects between `lo` and the current `hi`, or verifies once they are close enough.
    fn narrow(&mut self, lo: f64) {
        let hi = self.hi.expect("narrow after a step that did not hold");
        if (hi - lo) / lo <= self.limits.precision {
            self.start_verify(lo);
        } else {
            self.phase = Phase::Bisect;
            self.next_rate = (lo + hi) / 2.0;
        }
    }

    fn bisect(&mut self, rate: f64, holds: Option<bool>) {
        if holds == Some(true) {
            self.lo = Some(rate);
        } else {
            self.set_hi(rate, holds);
        }
        let lo = self.lo.expect("bisect starts with a rate that held");
        self.narrow(lo);
    }

    fn start_verify(&mut self, rate: f64) {
        self.phase = Phase::Verify;
        self.next_rate = rate;
    }

    fn verify(&mut self, rate: f64, holds: Option<bool>) {
        self.verifications += 1;
        if holds.is_none() {
            // Nothing failed in the long run, but it could not be judged: the short step's rate
            // stands, unverified.
            self.done = Some(format!(
                "the verification at {} was inconclusive (too few samples within the budget)",
                fmt_rate(rate)
            ));
            return;
        }
        if holds == Some(true) {
            self.lo = Some(rate);
            self.verified = true;
            self.done = Some(format!(
                "verified at {} for twice the step length",
                fmt_rate(rate)
            ));
            return;
        }
        // The longer run did not hold: the rate is not sustainable. Step down and try again.
        self.set_hi(rate, holds);
        let down = rate * (1.0 - self.limits.precision.max(0.01));
        self.lo = None;
        if self.verifications >= MAX_VERIFICATIONS {
            self.done = Some(format!(
                "{} verification runs did not hold (last at {})",
                self.verifications,
                fmt_rate(rate)
            ));
            return;
        }
        self.next_rate = down;
    }
}

/// "412 req/s", "12.5 req/s".
pub fn fmt_rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0} req/s")
    } else {
        format!("{:.1} req/s", rps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(start: f64, max: f64) -> Limits {
        Limits {
            start,
            max,
            precision: 0.05,
            start_is_floor: true,
        }
    }

    /// Runs the search against a target that holds below `knee` (and at it).
    fn drive(s: &mut Search, knee: f64) -> Vec<Next> {
        let mut steps = Vec::new();
        while let Some(n) = s.next() {
            steps.push(n);
            s.record(Some(n.rate <= knee));
            assert!(steps.len() < 50, "the search ends");
        }
        steps
    }

    #[test]
    fn brackets_bisects_and_verifies_within_the_precision() {
        let mut s = Search::new(limits(50.0, 10_000.0));
        let steps = drive(&mut s, 333.0);
        let rates: Vec<f64> = steps.iter().map(|n| n.rate).collect();
        assert_eq!(&rates[..4], &[50.0, 100.0, 200.0, 400.0]);
        assert_eq!(steps.last().unwrap().phase, Phase::Verify);
        let best = s.best().unwrap();
        let hi = s.upper().unwrap();
        assert!(best <= 333.0 && (hi - best) / best <= 0.05, "{best} {hi}");
        assert!(s.verified());
        assert!(steps.iter().all(|n| n.rate <= 10_000.0));
    }

    #[test]
    fn a_failed_verification_steps_down_and_is_not_the_answer() {
        let mut s = Search::new(limits(100.0, 1000.0));
        // Holds at every short step up to 250, but the long verification at 250 fails.
        let mut seen = Vec::new();
        while let Some(n) = s.next() {
            seen.push(n);
            let holds = match n.phase {
                Phase::Verify => n.rate < 200.0,
                _ => n.rate <= 250.0,
            };
            s.record(Some(holds));
        }
        let verifies: Vec<f64> = seen
            .iter()
            .filter(|n| n.phase == Phase::Verify)
            .map(|n| n.rate)
            .collect();
        assert!(verifies.len() >= 2, "{verifies:?}");
        assert!(verifies.windows(2).all(|w| w[1] < w[0]));
        if s.verified() {
            assert!(s.best().unwrap() < 200.0);
        } else {
            assert_eq!(s.best(), None);
        }
    }

    #[test]
    fn failing_at_the_floor_ends_without_an_answer() {
        let mut s = Search::new(limits(100.0, 1000.0));
        s.record(Some(false));
        assert_eq!(s.next(), None);
        assert_eq!(s.best(), None);
        assert!(s.reason().unwrap().contains("--min"));
    }

    #[test]
    fn a_guessed_start_halves_down() {
        let mut s = Search::new(Limits {
            start_is_floor: false,
            ..limits(400.0, 1000.0)
        });
        let steps = drive(&mut s, 120.0);
        assert_eq!(steps[1].rate, 200.0);
        assert_eq!(steps[2].rate, 100.0);
        assert!(s.verified() && s.best().unwrap() <= 120.0);
    }

    #[test]
    fn holding_at_max_verifies_max() {
        let mut s = Search::new(limits(300.0, 500.0));
        let steps = drive(&mut s, 1e9);
        let rates: Vec<f64> = steps.iter().map(|n| n.rate).collect();
        assert_eq!(rates, vec![300.0, 500.0, 500.0]);
        assert!(s.verified() && s.best() == Some(500.0));
    }

    #[test]
    fn an_inconclusive_step_grows_the_bracket_but_caps_a_bisection() {
        let mut s = Search::new(limits(100.0, 1000.0));
        s.record(None);
        assert_eq!(s.best(), None, "an inconclusive rate is not proven");
        assert_eq!(
            s.next().unwrap(),
            Next {
                rate: 200.0,
                phase: Phase::Bracket
            }
        );
        s.record(Some(true));
        s.record(Some(false));
        assert_eq!(
            s.next().unwrap(),
            Next {
                rate: 300.0,
                phase: Phase::Bisect
            }
        );
        s.record(None);
        assert_eq!(s.upper(), Some(300.0));
        assert!(s.upper_inconclusive());
        assert_eq!(
            s.next().unwrap(),
            Next {
                rate: 250.0,
                phase: Phase::Bisect
            }
        );
    }

    #[test]
    fn an_inconclusive_verification_leaves_the_rate_unverified() {
        let mut s = Search::new(limits(100.0, 150.0));
        s.record(Some(true));
        s.record(Some(true));
        assert_eq!(s.next().unwrap().phase, Phase::Verify);
        s.record(None);
        assert_eq!(
            (s.best(), s.verified(), s.next()),
            (Some(150.0), false, None)
        );
    }

    #[test]
    fn stop_keeps_the_best_bracket() {
        let mut s = Search::new(limits(100.0, 1000.0));
        s.record(Some(true));
        s.record(Some(false));
        s.stop("budget exhausted");
        assert_eq!(s.next(), None);
        assert_eq!((s.best(), s.upper()), (Some(100.0), Some(200.0)));
        assert!(!s.verified());
    }
}
