//! When each request is due: open-model arrivals (uniform or seeded Poisson over stages with
//! ramps) or closed-model users. A worker owns one `Schedule` for its share of the load.
//!
//! Open arrivals are a function of the global arrival index: arrival `i` happens when the
//! cumulative expected count N(t) reaches `u_i` (`u_i = i` for uniform, a sum of Exp(1) gaps for
//! Poisson), so the whole sequence depends only on the seed, not on the number of workers.

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::scenario::{Arrival as ArrivalKind, Load, Model, Stage};

/// One request to send: its global index (seeds its content) and its intended send time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    pub index: u64,
    /// Intended send time, since t = 0.
    pub at: Duration,
    /// Closed model: the local user slot that sends it (`u32::MAX` in the open model).
    pub user: u32,
}

/// One worker's share of the schedule.
pub enum Schedule {
    Open(OpenSchedule),
    Closed(ClosedSchedule),
}

impl Schedule {
    /// Worker `w` of `n` gets open arrivals with `index % n == w`, or users with `u % n == w`.
    pub fn new(load: &Load, seed: u64, w: usize, n: usize) -> Schedule {
        Schedule::striped(load, seed, w as u64, n as u64)
    }

    /// The arrivals (or users) `k` with `k % modulus == residue`: a worker's share of a
    /// segment's share (`Segment::stripe`).
    pub fn striped(load: &Load, seed: u64, residue: u64, modulus: u64) -> Schedule {
        let (w, n) = (residue, modulus.max(1));
        match &load.model {
            Model::Open { arrival, stages } => {
                Schedule::Open(OpenSchedule::new(stages, *arrival, seed, w, n))
            }
            Model::Closed {
                users,
                duration,
                think_time,
            } => Schedule::Closed(ClosedSchedule::new(
                users.get(),
                *duration,
                *think_time,
                w as u32,
                n as u32,
            )),
        }
    }

    /// Intended time of the next arrival, if any.
    pub fn peek(&self) -> Option<Duration> {
        match self {
            Schedule::Open(o) => o.next.map(|a| a.at),
            Schedule::Closed(c) => c.due.front().map(|(at, _)| *at),
        }
    }

    pub fn pop(&mut self) -> Option<Arrival> {
        match self {
            Schedule::Open(o) => o.pop(),
            Schedule::Closed(c) => c.pop(),
        }
    }

    /// A request of `user` settled at `now`: a closed-model user thinks, then is due again.
    pub fn settled(&mut self, user: u32, now: Duration) {
        if let Schedule::Closed(c) = self {
            c.settled(user, now);
        }
    }

    /// No further arrivals (interrupt).
    pub fn stop(&mut self) {
        match self {
            Schedule::Open(o) => o.next = None,
            Schedule::Closed(c) => {
                c.due.clear();
                c.stopped = true;
            }
        }
    }

    /// True once no arrival can come any more (closed users may still be busy: they re-arm
    /// only through `settled`).
    pub fn is_done(&self) -> bool {
        match self {
            Schedule::Open(o) => o.next.is_none(),
            Schedule::Closed(c) => c.due.is_empty(),
        }
    }
}

/// A stage as a piece of the cumulative count function N(t).
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: f64,
    len: f64,
    r0: f64,
    r1: f64,
    count_before: f64,
}

pub struct OpenSchedule {
    segments: Vec<Piece>,
    total: f64,
    cursor: usize,
    poisson: Option<SmallRng>,
    unit: f64,
    global: u64,
    worker: u64,
    workers: u64,
    next: Option<Arrival>,
}

impl OpenSchedule {
    fn new(stages: &[Stage], arrival: ArrivalKind, seed: u64, worker: u64, workers: u64) -> Self {
        let (mut t, mut count, mut prev) = (0.0, 0.0, 0.0);
        let mut segments = Vec::with_capacity(stages.len());
        for s in stages {
            let len = s.duration.as_secs_f64();
            let r0 = if s.ramp { prev } else { s.rate };
            segments.push(Piece {
                start: t,
                len,
                r0,
                r1: s.rate,
                count_before: count,
            });
            t += len;
            count += (r0 + s.rate) / 2.0 * len;
            prev = s.rate;
        }
        let poisson = (arrival == ArrivalKind::Poisson)
            .then(|| SmallRng::seed_from_u64(seed ^ 0xA11C_E5EE_D000_0001));
        let mut s = OpenSchedule {
            segments,
            total: count,
            cursor: 0,
            poisson,
            unit: 0.0,
            global: 0,
            worker,
            workers,
            next: None,
        };
        s.next = s.advance();
        s
    }

    fn pop(&mut self) -> Option<Arrival> {
        let a = self.next.take()?;
        self.next = self.advance();
        Some(a)
    }

    /// Finds this worker's next arrival in the global sequence.
    fn advance(&mut self) -> Option<Arrival> {
        loop {
            let index = self.global;
            let u = match &mut self.poisson {
                None => index as f64,
                Some(rng) => {
                    // Exp(1) gap; 1 - gen() is in (0, 1], so ln never sees 0.
                    self.unit += -(1.0 - rng.gen::<f64>()).ln();
                    self.unit
                }
            };
            if u >= self.total {
                return None;
            }
            self.global += 1;
            if index % self.workers == self.worker {
                let at = self.time_of(u);
                return Some(Arrival {
                    index,
                    at: Duration::from_secs_f64(at),
                    user: u32::MAX,
                });
            }
        }
    }

    /// Inverse of N(t): the time at which the expected count reaches `u` (u grows monotonically).
    fn time_of(&mut self, u: f64) -> f64 {
        while self.cursor + 1 < self.segments.len()
            && u >= self.segments[self.cursor + 1].count_before
        {
            self.cursor += 1;
        }
        let s = self.segments[self.cursor];
        let x = u - s.count_before;
        let a = (s.r1 - s.r0) / (2.0 * s.len);
        // Root of a*t^2 + r0*t - x = 0 in the form that is stable as a -> 0 and for ramps down.
        let disc = (s.r0 * s.r0 + 4.0 * a * x).max(0.0);
        let denom = s.r0 + disc.sqrt();
        let tau = if denom > 0.0 { 2.0 * x / denom } else { 0.0 };
        s.start + tau.min(s.len)
    }
}

pub struct ClosedSchedule {
    /// (due time, local user), in due order: think time is constant, so settling appends in order.
    due: VecDeque<(Duration, u32)>,
    /// Global user number of each local user, and how many requests each has sent.
    users: Vec<(u32, u64)>,
    total_users: u64,
    end: Duration,
    think: Duration,
    stopped: bool,
}

impl ClosedSchedule {
    fn new(users: u32, end: Duration, think: Duration, w: u32, n: u32) -> Self {
        let mine: Vec<(u32, u64)> = (0..users).filter(|u| u % n == w).map(|u| (u, 0)).collect();
        let due = (0..mine.len() as u32)
            .map(|l| (Duration::ZERO, l))
            .collect();
        ClosedSchedule {
            due,
            users: mine,
            total_users: users as u64,
            end,
            think,
            stopped: false,
        }
    }

    fn pop(&mut self) -> Option<Arrival> {
        let (at, local) = self.due.pop_front()?;
        let (global, sent) = &mut self.users[local as usize];
        let index = *sent * self.total_users + *global as u64;
        *sent += 1;
        Some(Arrival {
            index,
            at,
            user: local,
        })
    }

    fn settled(&mut self, user: u32, now: Duration) {
        let at = now + self.think;
        if !self.stopped && at < self.end && (user as usize) < self.users.len() {
            self.due.push_back((at, user));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn open(stages: Vec<Stage>, arrival: ArrivalKind) -> Load {
        Load {
            model: Model::Open { arrival, stages },
            warmup: Duration::ZERO,
            max_in_flight: NonZeroU32::new(10).unwrap(),
        }
    }

    fn all(load: &Load, n: usize) -> Vec<Arrival> {
        let mut out = Vec::new();
        for w in 0..n {
            let mut s = Schedule::new(load, 3, w, n);
            while let Some(a) = s.pop() {
                out.push(a);
            }
        }
        out.sort_by_key(|a| a.index);
        out
    }

    #[test]
    fn uniform_constant_rate_counts_and_spacing() {
        let load = open(
            vec![Stage {
                duration: Duration::from_secs(10),
                rate: 100.0,
                ramp: false,
            }],
            ArrivalKind::Uniform,
        );
        let a = all(&load, 1);
        assert_eq!(a.len(), 1000);
        assert_eq!(a[1].at - a[0].at, Duration::from_millis(10));
        assert!(a.last().unwrap().at < Duration::from_secs(10));
    }

    #[test]
    fn ramp_follows_the_integral() {
        let load = open(
            vec![
                Stage {
                    duration: Duration::from_secs(10),
                    rate: 100.0,
                    ramp: false,
                },
                Stage {
                    duration: Duration::from_secs(10),
                    rate: 300.0,
                    ramp: true,
                },
            ],
            ArrivalKind::Uniform,
        );
        let a = all(&load, 1);
        assert_eq!(a.len(), 1000 + 2000);
        // Halfway through the ramp the rate is 200/s, so 1000 + 750 arrivals have happened.
        let halfway = a.iter().filter(|x| x.at < Duration::from_secs(15)).count();
        assert!((1749..=1751).contains(&halfway), "{halfway}");
    }

    #[test]
    fn workers_split_the_same_sequence() {
        let load = open(
            vec![Stage {
                duration: Duration::from_secs(5),
                rate: 200.0,
                ramp: false,
            }],
            ArrivalKind::Poisson,
        );
        assert_eq!(all(&load, 1), all(&load, 3));
        let n = all(&load, 1).len() as f64;
        assert!((900.0..1100.0).contains(&n), "{n}");
    }

    #[test]
    fn closed_users_rearm_after_think_time() {
        let load = Load {
            model: Model::Closed {
                users: NonZeroU32::new(2).unwrap(),
                duration: Duration::from_secs(1),
                think_time: Duration::from_millis(100),
            },
            warmup: Duration::ZERO,
            max_in_flight: NonZeroU32::new(10).unwrap(),
        };
        let mut s = Schedule::new(&load, 1, 0, 1);
        let a = s.pop().unwrap();
        let b = s.pop().unwrap();
        assert_eq!((a.index, b.index), (0, 1));
        assert!(s.is_done());
        s.settled(a.user, Duration::from_millis(50));
        assert_eq!(s.peek(), Some(Duration::from_millis(150)));
        assert_eq!(s.pop().unwrap().index, 2);
        s.settled(b.user, Duration::from_millis(950));
        assert!(s.is_done(), "due after the end: not re-armed");
    }
    #[test]
    fn segments_split_open_arrivals_and_closed_users_like_workers() {
        use crate::engine::Segment;
        let open_load = open(
            vec![Stage {
                duration: Duration::from_secs(3),
                rate: 300.0,
                ramp: false,
            }],
            ArrivalKind::Poisson,
        );
        let whole = all(&open_load, 1);
        let mut split = Vec::new();
        for index in 0..4 {
            let seg = Segment { index, count: 4 };
            for w in 0..3 {
                let (r, m) = seg.stripe(w, 3);
                let mut s = Schedule::striped(&open_load, 3, r, m);
                while let Some(a) = s.pop() {
                    assert_eq!(
                        a.index % 4,
                        u64::from(index),
                        "arrival k belongs to segment k mod N"
                    );
                    split.push(a);
                }
            }
        }
        split.sort_by_key(|a| a.index);
        assert_eq!(split, whole);

        let closed = Load {
            model: Model::Closed {
                users: NonZeroU32::new(10).unwrap(),
                duration: Duration::from_secs(1),
                think_time: Duration::ZERO,
            },
            warmup: Duration::ZERO,
            max_in_flight: NonZeroU32::new(10).unwrap(),
        };
        let mut users = Vec::new();
        for index in 0..4 {
            let seg = Segment { index, count: 4 };
            for w in 0..2 {
                let (r, m) = seg.stripe(w, 2);
                let mut s = Schedule::striped(&closed, 1, r, m);
                while let Some(a) = s.pop() {
                    assert_eq!(
                        a.index % 4,
                        u64::from(index),
                        "user u belongs to segment u mod N"
                    );
                    users.push(a.index);
                }
            }
            assert_eq!(
                users.iter().filter(|u| **u % 4 == u64::from(index)).count() as u64,
                seg.share_of(10)
            );
        }
        users.sort_unstable();
        assert_eq!(users, (0..10).collect::<Vec<u64>>(), "every user once");
    }
}
