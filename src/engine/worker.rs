//! The worker loop: ONE loop for every schedule. Each worker runs on its own current-thread
//! runtime, owns its connections, and measures into its own histograms and counters.
//!
//! Per loop turn: close finished seconds, admit due arrivals (start, queue or drop), then sleep
//! on one reused `Sleep` until the next arrival or second boundary, an exchange finishing, or
//! the stop signal.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::bodies::{BodySampler, Key, Offer, NO_PHASE};
use super::conn::{exchange, Answer, Conn, Connector};
use super::failure::samples::ErrorSamples;
use super::failure::{Context, Failure, Said};
use super::http2::{self, H2Pool};
use super::schedule::{Arrival, Schedule};
use super::stats::{FailKind, LogRow, SecondAcc, SlotStats};
use super::Shared;

/// What a worker tells the aggregator.
pub enum Report {
    /// One finished second of one worker.
    Second(usize, SecondAcc),
    /// The worker is done; its totals.
    Finished(usize, Box<WorkerResult>),
}

/// A worker's measurements at the end of the run.
pub struct WorkerResult {
    /// Indexed `op * slots + slot`; slot 0 is the measured run (after warmup), slot k the
    /// phase window k - 1.
    pub slots: Vec<SlotStats>,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Of `dropped`: due before the process started (a late segment).
    pub missed: u64,
    pub log: Vec<LogRow>,
    pub log_truncated: bool,
    /// The first failure texts per operation × kind.
    pub samples: ErrorSamples,
    /// Sampled response bodies (empty with `--no-bodies`).
    pub bodies: BodySampler,
    /// When the worker's last request settled, since t = 0.
    pub end: Duration,
}

impl WorkerResult {
    fn empty(ops: usize, slots: usize, seed: u64) -> WorkerResult {
        WorkerResult {
            slots: (0..slots).map(|_| SlotStats::new()).collect(),
            sent: 0,
            completed: 0,
            errors: 0,
            dropped: 0,
            missed: 0,
            log: Vec::new(),
            log_truncated: false,
            samples: ErrorSamples::new(ops),
            bodies: BodySampler::new(seed),
            end: Duration::ZERO,
        }
    }
}

struct Done {
    conn: Option<Conn>,
    result: Result<Answer, Failure>,
    arrival: Arrival,
    op: usize,
    sent_at: Instant,
    end: Instant,
}

/// Arrivals this close to their time are sent now. tokio's timer has millisecond resolution
/// and rounds deadlines up, so waking half a millisecond early centres the error on zero
/// instead of always sending late (latency then counts from the later of intended and actual).
const EARLY: Duration = Duration::from_micros(500);

type InFlight = Pin<Box<dyn Future<Output = Done>>>;

// `Done` is moved once per request out of the in-flight set; boxing it would allocate per request.
#[allow(clippy::large_enum_variant)]
enum Event {
    Stop,
    StopGone,
    Done(Done),
    Tick,
}

pub struct Worker {
    id: usize,
    shared: Arc<Shared>,
    origin: Instant,
    schedule: Schedule,
    connector: Rc<Connector>,
    /// HTTP/2 runs: the worker's multiplexed connections (then `idle` stays empty).
    h2: Option<Rc<H2Pool>>,
    idle: Vec<Conn>,
    open_conns: usize,
    pending: VecDeque<Arrival>,
    inflight: FuturesUnordered<InFlight>,
    inflight_ops: Vec<u64>,
    stop: watch::Receiver<bool>,
    tx: mpsc::UnboundedSender<Report>,
    second: SecondAcc,
    result: WorkerResult,
    buf: String,
    /// HTTP/2: the reused buffer each request is first encoded into.
    h2_wire: Vec<u8>,
}

impl Worker {
    pub fn new(
        id: usize,
        workers: usize,
        shared: Arc<Shared>,
        origin: std::time::Instant,
        stop: watch::Receiver<bool>,
        tx: mpsc::UnboundedSender<Report>,
    ) -> Worker {
        let ops = shared.expects.len();
        let slots = ops * shared.slots();
        Worker {
            id,
            schedule: {
                let (residue, modulus) = shared.segment.stripe(id, workers);
                Schedule::striped(&shared.load, shared.seed, residue, modulus)
            },
            connector: Rc::new({
                let mut c = Connector::new(shared.addr, shared.tls.clone());
                c.bodies = shared.bodies;
                c
            }),
            h2: shared.http2.then(|| {
                H2Pool::new(
                    Connector::new(shared.addr, shared.tls.clone()),
                    shared.tls.is_some(),
                    shared.authority_header.clone(),
                    shared.conn_cap,
                    shared.streams,
                )
            }),
            origin: Instant::from_std(origin),
            idle: Vec::new(),
            open_conns: 0,
            pending: VecDeque::new(),
            inflight: FuturesUnordered::new(),
            inflight_ops: vec![0; ops],
            stop,
            tx,
            second: SecondAcc::new(0, ops),
            result: WorkerResult::empty(ops, slots, shared.seed ^ id as u64),
            buf: String::with_capacity(256),
            h2_wire: Vec::with_capacity(512),
            shared,
        }
    }

    /// Runs the schedule to the end (or the stop signal) and reports to the aggregator.
    pub async fn run(mut self) {
        let sleep = tokio::time::sleep_until(self.origin);
        tokio::pin!(sleep);
        let mut next_second = self.origin + Duration::from_secs(1);
        let mut stop_deadline: Option<Instant> = None;
        let mut watching = !*self.stop.borrow();
        if !watching {
            self.interrupt(Instant::now());
            stop_deadline = Some(Instant::now());
        }
        // One `changed` future for the whole run (re-creating it per turn registers and
        // deregisters a waiter every time).
        let mut stop_rx = self.stop.clone();
        let stopped = stop_rx.wait_for(|s| *s);
        tokio::pin!(stopped);
        loop {
            let now = Instant::now();
            while now >= next_second {
                self.flush();
                next_second += Duration::from_secs(1);
            }
            if stop_deadline.is_some_and(|d| now >= d) {
                break;
            }
            self.admit_due(now);
            if self.schedule.is_done() && self.inflight.is_empty() && self.pending.is_empty() {
                break;
            }
            let wake = self.next_wake(next_second, stop_deadline);
            if sleep.deadline() != wake {
                sleep.as_mut().reset(wake);
            }
            let event = tokio::select! {
                biased;
                r = &mut stopped, if watching => if r.is_ok() { Event::Stop } else { Event::StopGone },
                Some(done) = self.inflight.next(), if !self.inflight.is_empty() => Event::Done(done),
                () = &mut sleep => Event::Tick,
            };
            match event {
                Event::Stop => {
                    watching = false;
                    let now = Instant::now();
                    self.interrupt(now);
                    stop_deadline = Some(now + self.shared.timeout.min(Duration::from_secs(2)));
                }
                Event::StopGone => watching = false,
                Event::Done(done) => self.on_done(done),
                Event::Tick => {}
            }
        }
        self.finish();
    }

    /// Admits every arrival that is due (within `EARLY`).
    fn admit_due(&mut self, now: Instant) {
        while let Some(due) = self.schedule.peek() {
            if self.origin + due > now + EARLY {
                break;
            }
            if let Some(a) = self.schedule.pop() {
                self.admit(a, now);
            }
        }
    }

    /// When the loop must wake even if no exchange finishes.
    fn next_wake(&self, next_second: Instant, stop_deadline: Option<Instant>) -> Instant {
        let mut wake = next_second;
        if let Some(due) = self.schedule.peek() {
            wake = wake.min(self.origin + due.saturating_sub(EARLY));
        }
        if let Some(d) = stop_deadline {
            wake = wake.min(d);
        }
        wake
    }

    /// Stop signal: no new arrivals; queued ones are settled as cancelled.
    fn interrupt(&mut self, now: Instant) {
        self.schedule.stop();
        while let Some(a) = self.pending.pop_front() {
            let op = self.shared.gen.op_of(a.index);
            let cancelled = Failure::said(FailKind::Cancelled, Said::Cancelled);
            self.settle_failure(op, &a, now, None, cancelled);
        }
    }

    fn admit(&mut self, a: Arrival, now: Instant) {
        if (a.at.as_micros() as u64) < self.shared.missed_before_us {
            // Due before this process started: never sent, counted (a closed user goes on).
            self.second.dropped += 1;
            self.result.dropped += 1;
            self.result.missed += 1;
            self.schedule
                .settled(a.user, now.saturating_duration_since(self.origin));
            return;
        }
        let queued = self.inflight.len() + self.pending.len();
        if queued >= self.shared.in_flight_cap {
            self.second.dropped += 1;
            self.result.dropped += 1;
            return;
        }
        self.second.sent += 1;
        self.result.sent += 1;
        if self.has_conn() {
            self.start(a, now);
        } else {
            self.pending.push_back(a);
        }
    }

    fn has_conn(&self) -> bool {
        match &self.h2 {
            None => !self.idle.is_empty() || self.open_conns < self.shared.conn_cap,
            Some(pool) => pool.has_room(),
        }
    }

    fn start(&mut self, a: Arrival, now: Instant) {
        let deadline = self.origin + a.at + self.shared.timeout;
        if now >= deadline {
            let op = self.shared.gen.op_of(a.index);
            let late = Failure::said(FailKind::Timeout, Said::QueuedPastTimeout);
            return self.settle_failure(op, &a, now, None, late);
        }
        if self.h2.is_some() {
            return self.start_h2(a, now, deadline);
        }
        let mut conn = self.idle.pop();
        // The idle connection lends its write buffer; a new connection gets a new one.
        let mut wbuf = conn
            .as_mut()
            .map_or_else(|| Vec::with_capacity(512), |c| std::mem::take(&mut c.wbuf));
        let (op, encoded) = self.shared.gen.encode(a.index, &mut wbuf, &mut self.buf);
        if encoded.is_err() {
            if let Some(mut c) = conn {
                c.wbuf = wbuf;
                self.idle.push(c);
            }
            let bad = Failure::said(FailKind::Protocol, Said::BadPath);
            return self.settle_failure(op, &a, now, None, bad);
        }
        if conn.is_none() {
            self.open_conns += 1;
        }
        self.inflight_ops[op] += 1;
        let connector = self.connector.clone();
        let head = self.shared.gen.is_head(op);
        self.inflight.push(Box::pin(async move {
            let (conn, result) = exchange(&connector, conn, wbuf, head, deadline).await;
            Done {
                conn,
                result,
                arrival: a,
                op,
                sent_at: now,
                end: Instant::now(),
            }
        }));
    }

    /// Starts arrival `a` as one stream on the worker's HTTP/2 connections. Kept out of line
    /// so the HTTP/1.1 `start` stays as small as it was.
    #[inline(never)]
    fn start_h2(&mut self, a: Arrival, now: Instant, deadline: Instant) {
        let mut wire = std::mem::take(&mut self.h2_wire);
        let (op, encoded) = self.shared.gen.encode(a.index, &mut wire, &mut self.buf);
        let pool = self.h2.clone().expect("an HTTP/2 worker has a pool");
        let grpc = self.shared.grpc[op].as_ref();
        let prepared = match encoded {
            Err(_) => Err(Failure::said(FailKind::Protocol, Said::BadPath)),
            Ok(()) => pool.prepare(&wire, grpc, deadline.saturating_duration_since(now)),
        };
        self.h2_wire = wire;
        let (req, body) = match prepared {
            Ok(p) => p,
            Err(f) => return self.settle_failure(op, &a, now, None, f),
        };
        let slot = pool.take();
        self.inflight_ops[op] += 1;
        let is_grpc = grpc.is_some();
        self.inflight.push(Box::pin(async move {
            let result = http2::exchange(slot, req, body, deadline, is_grpc).await;
            Done {
                conn: None,
                result,
                arrival: a,
                op,
                sent_at: now,
                end: Instant::now(),
            }
        }));
    }

    fn on_done(&mut self, d: Done) {
        if let (Some(c), Ok(answer)) = (&d.conn, &d.result) {
            if c.capture.on {
                self.offer_body(d.op, &d.arrival, answer, c);
            }
        }
        match d.conn {
            Some(c) if c.capture.reusable => self.idle.push(c),
            Some(_) => self.open_conns -= 1,
            None if self.h2.is_none() => self.open_conns -= 1,
            None => {}
        }
        self.inflight_ops[d.op] -= 1;
        match d.result {
            Ok(answer) => self.settle(d.op, &d.arrival, d.end, Some(d.sent_at), Ok(answer)),
            Err(f) => self.settle_failure(d.op, &d.arrival, d.end, Some(d.sent_at), f),
        }
        let now = d.end;
        while !self.pending.is_empty() && self.has_conn() {
            if let Some(a) = self.pending.pop_front() {
                self.start(a, now);
            }
        }
    }

    /// Offers an answer's captured body to the body samples.
    #[inline]
    fn offer_body(&mut self, op: usize, a: &Arrival, answer: &Answer, c: &Conn) {
        let t_us = a.at.as_micros() as u64;
        let phase = self
            .shared
            .windows_us
            .iter()
            .position(|(from, to)| *from <= t_us && t_us < *to)
            .map_or(NO_PHASE, |k| k as u16);
        self.result.bodies.offer(Offer {
            key: Key {
                op: op as u32,
                phase,
                status: answer.status,
            },
            index: a.index,
            t_us,
            retry_after: answer.retry_after,
            capture: &c.capture,
        });
    }

    /// Records one settled request everywhere it counts.
    fn settle(
        &mut self,
        op: usize,
        a: &Arrival,
        end: Instant,
        sent_at: Option<Instant>,
        result: Result<Answer, FailKind>,
    ) {
        let sh = &*self.shared;
        let t_us = a.at.as_micros() as u64;
        let intended = self.origin + a.at;
        let from = sent_at.map_or(intended, |s| s.max(intended));
        let latency_us = end.saturating_duration_since(from).as_micros() as u64;
        let service_us = sent_at.map(|s| end.saturating_duration_since(s).as_micros() as u64);
        let (status, retry_after, grpc) = match result {
            Ok(ans) => (Some(ans.status), ans.retry_after, ans.grpc_status),
            Err(_) => (None, false, None),
        };
        let fail = match result {
            Ok(ans)
                if !sh.expects[op]
                    .get(ans.status as usize)
                    .copied()
                    .unwrap_or(false) =>
            {
                Some(FailKind::StatusUnexpected)
            }
            Ok(Answer {
                grpc_status: Some(code),
                ..
            }) if code != 0 => Some(if code == http2::grpc::DEADLINE_EXCEEDED {
                FailKind::Timeout
            } else {
                FailKind::GrpcStatus
            }),
            Ok(_) => None,
            Err(kind) => Some(kind),
        };
        let slots = sh.slots();
        let base = op * slots;
        if t_us >= sh.warmup_us {
            self.result.slots[base].record(status, fail, latency_us, service_us);
            if let Some(code) = grpc {
                self.result.slots[base].record_grpc(code);
            }
        }
        for (k, (from, to)) in sh.windows_us.iter().enumerate() {
            if *from <= t_us && t_us < *to {
                self.result.slots[base + 1 + k].record(status, fail, latency_us, service_us);
                if let Some(code) = grpc {
                    self.result.slots[base + 1 + k].record_grpc(code);
                }
            }
        }
        let s = &mut self.second;
        let o = &mut s.ops[op];
        o.count += 1;
        o.latency
            .saturating_record(latency_us.clamp(1, super::stats::MAX_US));
        if let Some(code) = status {
            s.completed += 1;
            self.result.completed += 1;
            if let Some(c) = s.classes.get_mut((code / 100) as usize - 1) {
                *c += 1;
            }
        }
        if let Some(kind) = fail {
            o.errors += 1;
            s.errors += 1;
            s.kinds[kind as usize] += 1;
            self.result.errors += 1;
            if kind == FailKind::StatusUnexpected && self.result.samples.open(op, kind) {
                self.sample_status(op, status, end);
            } else if grpc.is_some() && self.result.samples.open(op, kind) {
                self.sample_grpc(op, kind, grpc, end);
            }
        }
        // A closed-model user thinks from the moment its request settled, whatever the outcome.
        self.schedule
            .settled(a.user, end.saturating_duration_since(self.origin));
        let sh = &*self.shared;
        if sh.log.wants(t_us) {
            if self.result.log.len() < sh.log.cap {
                let row = LogRow {
                    t_us,
                    op: op as u32,
                    index: a.index,
                    status,
                    fail,
                    latency_us,
                    retry_after,
                    grpc_status: grpc,
                };
                self.result.log.push(row);
            } else {
                self.result.log_truncated = true;
            }
        }
    }

    /// Settles a request that failed before an answer, then puts the failure into words and
    /// offers it to the samples while that kind's sample is open. Cold: a success never comes here.
    #[cold]
    #[inline(never)]
    fn settle_failure(
        &mut self,
        op: usize,
        a: &Arrival,
        end: Instant,
        sent_at: Option<Instant>,
        failure: Failure,
    ) {
        let kind = failure.kind();
        self.settle(op, a, end, sent_at, Err(kind));
        if self.result.samples.open(op, kind) {
            let sh = &*self.shared;
            let text = failure.text(&Context {
                addr: sh.addr,
                authority: &sh.authority,
                timeout: sh.timeout,
            });
            let at_us = end.saturating_duration_since(self.origin).as_micros() as u64;
            self.result.samples.offer(op, kind, text, at_us);
        }
    }

    /// Offers an answer whose status is outside `expect_status` to the samples.
    #[cold]
    #[inline(never)]
    fn sample_status(&mut self, op: usize, status: Option<u16>, end: Instant) {
        let text = match status {
            Some(code) => format!("status {code}, not in expect_status"),
            None => "no status".to_string(),
        };
        let at_us = end.saturating_duration_since(self.origin).as_micros() as u64;
        self.result
            .samples
            .offer(op, FailKind::StatusUnexpected, text, at_us);
    }

    /// Offers a gRPC answer whose status is not OK to the samples.
    #[cold]
    #[inline(never)]
    fn sample_grpc(&mut self, op: usize, kind: FailKind, code: Option<u8>, end: Instant) {
        let code = code.unwrap_or(2);
        let text = format!("grpc-status {code} {}", http2::grpc::status_name(code));
        let at_us = end.saturating_duration_since(self.origin).as_micros() as u64;
        self.result.samples.offer(op, kind, text, at_us);
    }

    /// Sends the finished second to the aggregator and starts the next one.
    fn flush(&mut self) {
        let next = self.second.t_s + 1;
        let mut done = std::mem::replace(
            &mut self.second,
            SecondAcc::new(next, self.shared.expects.len()),
        );
        done.in_flight = (self.inflight.len() + self.pending.len()) as u64;
        let _ = self.tx.send(Report::Second(self.id, done));
    }

    /// Counts what is still in flight as cancelled, flushes the last second and reports.
    fn finish(mut self) {
        let slots = self.shared.slots();
        for (op, n) in self.inflight_ops.iter().enumerate() {
            if *n > 0 {
                let slot = &mut self.result.slots[op * slots];
                slot.count += n;
                slot.errors += n;
                slot.kinds[FailKind::Cancelled as usize] += n;
                self.second.errors += n;
                self.second.kinds[FailKind::Cancelled as usize] += n;
                self.result.errors += n;
            }
        }
        self.second.in_flight = 0;
        self.result.end = Instant::now().saturating_duration_since(self.origin);
        let last = std::mem::replace(&mut self.second, SecondAcc::new(0, 0));
        let _ = self.tx.send(Report::Second(self.id, last));
        let result = std::mem::replace(&mut self.result, WorkerResult::empty(0, 0, 0));
        let _ = self.tx.send(Report::Finished(self.id, Box::new(result)));
    }
}
