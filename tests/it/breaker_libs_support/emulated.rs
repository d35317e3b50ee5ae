//! Rust test services that implement the documented rules of breaker libraries that cannot be
//! installed here, read from their sources: resilience4j (`CircuitBreakerStateMachine` over a
//! COUNT_BASED `FixedSizeSlidingWindowMetrics`, exponential wait in open state, N permitted calls in
//! half-open judged by their failure rate), Hystrix (`HealthCounts` over a bucketed rolling window,
//! re-read every `healthSnapshot.intervalInMilliseconds`; a single test request after the sleep
//! window), Polly v8 (`FailureRatio` over `SamplingDuration` with `MinimumThroughput`, checked on each
//! failure), gobreaker (`ReadyToTrip: ConsecutiveFailures > n`, `MaxRequests` in half-open, each
//! a success to close) and Envoy outlier detection (ejected on `consecutive_5xx` consecutive 5xx for
//! `base_ejection_time` × the number of times ejected, up to `max_ejection_time`, returned to
//! service, with no half-open, at the first `interval` sweep after that; every sweep that finds the
//! host in service takes one off the count; one host and `healthy_panic_threshold: 0`, so calls
//! are refused while it is ejected).
//!
//! GET /items/N calls GET /users/N on the dependency (300 ms timeout) through the breaker: 200, 502
//! when the call failed, 503 when the breaker refused it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A library's rule, with its settings (times in ms).
#[derive(Debug, Clone)]
pub enum Design {
    Resilience4j {
        window_calls: usize,
        failure_rate: f64,
        minimum_calls: usize,
        wait_ms: f64,
        multiplier: f64,
        max_wait_ms: f64,
        half_open_calls: u32,
        /// `slowCallDurationThreshold` (ms) and `slowCallRateThreshold` (share).
        slow: Option<(f64, f64)>,
    },
    Hystrix {
        window_ms: f64,
        buckets: u32,
        volume: usize,
        error_percentage: u32,
        sleep_ms: f64,
        snapshot_ms: f64,
    },
    Polly {
        failure_ratio: f64,
        sampling_ms: f64,
        minimum_throughput: usize,
        break_ms: f64,
    },
    Gobreaker {
        consecutive_over: u32,
        timeout_ms: f64,
        max_requests: u32,
    },
    Envoy {
        consecutive_5xx: u32,
        base_ejection_ms: f64,
        max_ejection_ms: f64,
        interval_ms: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Closed,
    Open {
        until: Instant,
        attempt: i32,
    },
    HalfOpen {
        admitted: u32,
        done: u32,
        failed: u32,
        attempt: i32,
    },
}

struct Breaker {
    design: Design,
    state: State,
    /// Outcomes recorded while closed (reset on every transition), with their time.
    outcomes: VecDeque<(Instant, bool)>,
    /// Whether each recorded call (same order) was slow.
    slow: VecDeque<bool>,
    consecutive_failures: u32,
    /// resilience4j: slow calls among the permitted calls of this half-open period.
    half_open_slow: u32,
    /// Hystrix: the last health snapshot (calls, errors) and when it was taken.
    snapshot: (usize, usize, Instant),
    /// Envoy: when the sweeps started (every `interval` from here), the ejection count and when
    /// the host last returned to service.
    started: Instant,
    ejections: i32,
    returned_at: Option<Instant>,
}

fn ms(d: f64) -> Duration {
    Duration::from_secs_f64(d / 1000.0)
}

impl Breaker {
    fn half_open_limit(&self) -> u32 {
        match self.design {
            Design::Resilience4j {
                half_open_calls, ..
            } => half_open_calls,
            Design::Gobreaker { max_requests, .. } => max_requests,
            _ => 1,
        }
    }

    fn open_ms(&self, attempt: i32) -> f64 {
        match self.design {
            Design::Resilience4j {
                wait_ms,
                multiplier,
                max_wait_ms,
                ..
            } => (wait_ms * multiplier.powi(attempt)).min(max_wait_ms),
            Design::Hystrix { sleep_ms, .. } => sleep_ms,
            Design::Polly { break_ms, .. } => break_ms,
            Design::Gobreaker { timeout_ms, .. } => timeout_ms,
            Design::Envoy {
                base_ejection_ms,
                max_ejection_ms,
                ..
            } => (base_ejection_ms * f64::from(attempt)).min(max_ejection_ms.max(base_ejection_ms)),
        }
    }

    /// Envoy: the first sweep at or after `t`.
    fn next_sweep(&self, t: Instant) -> Instant {
        let Design::Envoy { interval_ms, .. } = self.design else {
            return t;
        };
        let since = t.duration_since(self.started).as_secs_f64() * 1000.0;
        self.started + ms((since / interval_ms).ceil() * interval_ms)
    }

    /// Envoy: ejects the host, one more on the count after the sweeps that found it in service.
    fn eject(&mut self, now: Instant) {
        let Design::Envoy { interval_ms, .. } = self.design else {
            return;
        };
        if let Some(back) = self.returned_at {
            // Sweeps strictly after the one that returned it, up to now.
            let healthy =
                (now.duration_since(back).as_secs_f64() * 1000.0 / interval_ms).floor() as i32;
            self.ejections = (self.ejections - healthy).max(0);
        }
        self.ejections += 1;
        let until = self.next_sweep(now + ms(self.open_ms(self.ejections)));
        self.transition(State::Open {
            until,
            attempt: self.ejections,
        });
    }

    fn transition(&mut self, to: State) {
        self.state = to;
        self.outcomes.clear();
        self.slow.clear();
        self.consecutive_failures = 0;
        self.half_open_slow = 0;
    }

    fn open(&mut self, now: Instant, attempt: i32) {
        let until = now + ms(self.open_ms(attempt));
        self.transition(State::Open { until, attempt });
    }

    /// Whether a call may go out now; the state it was admitted in.
    fn admit(&mut self, now: Instant) -> Option<State> {
        if let State::Open { until, attempt } = self.state {
            if now < until {
                return None;
            }
            if let Design::Envoy { .. } = self.design {
                self.transition(State::Closed);
                self.returned_at = Some(until);
                return Some(State::Closed);
            }
            self.transition(State::HalfOpen {
                admitted: 0,
                done: 0,
                failed: 0,
                attempt,
            });
        }
        if let State::HalfOpen { admitted, .. } = self.state {
            if admitted >= self.half_open_limit() {
                return None;
            }
        }
        if let State::HalfOpen {
            ref mut admitted, ..
        } = self.state
        {
            *admitted += 1;
        }
        if let Design::Hystrix { .. } = self.design {
            self.hystrix_check(now);
        }
        matches!(self.state, State::Closed | State::HalfOpen { .. }).then_some(self.state)
    }

    /// Records an outcome of a call admitted in `admitted_in`; calls admitted in another state than
    /// the current one are discarded (gobreaker's generations; resilience4j records nothing while open).
    fn record(&mut self, admitted_in: State, ok: bool, took_ms: f64, now: Instant) {
        match (admitted_in, self.state) {
            (State::Closed, State::Closed) => self.record_closed(ok, took_ms, now),
            (State::HalfOpen { .. }, State::HalfOpen { .. }) => {
                self.record_half_open(ok, took_ms, now)
            }
            _ => {}
        }
    }

    fn record_closed(&mut self, ok: bool, took_ms: f64, now: Instant) {
        self.outcomes.push_back((now, ok));
        self.slow.push_back(match self.design {
            Design::Resilience4j {
                slow: Some((ms, _)),
                ..
            } => took_ms >= ms,
            _ => false,
        });
        self.consecutive_failures = if ok { 0 } else { self.consecutive_failures + 1 };
        let trip = match self.design {
            Design::Resilience4j {
                window_calls,
                failure_rate,
                minimum_calls,
                slow,
                ..
            } => {
                while self.outcomes.len() > window_calls {
                    self.outcomes.pop_front();
                    self.slow.pop_front();
                }
                let failed = self.outcomes.iter().filter(|o| !o.1).count();
                let slow_calls = self.slow.iter().filter(|s| **s).count();
                let total = self.outcomes.len();
                let slow_trip = slow.is_some_and(|(_, r)| slow_calls as f64 / total as f64 >= r);
                total >= minimum_calls.min(window_calls)
                    && (failed as f64 * 100.0 / total as f64 >= failure_rate * 100.0 || slow_trip)
            }
            Design::Polly {
                failure_ratio,
                sampling_ms,
                minimum_throughput,
                ..
            } => {
                while self
                    .outcomes
                    .front()
                    .is_some_and(|o| now.duration_since(o.0) >= ms(sampling_ms))
                {
                    self.outcomes.pop_front();
                }
                let failed = self.outcomes.iter().filter(|o| !o.1).count();
                let total = self.outcomes.len();
                !ok && total >= minimum_throughput && failed as f64 / total as f64 >= failure_ratio
            }
            Design::Gobreaker {
                consecutive_over, ..
            } => self.consecutive_failures > consecutive_over,
            Design::Envoy {
                consecutive_5xx, ..
            } => {
                if self.consecutive_failures >= consecutive_5xx {
                    self.eject(now);
                }
                false
            }
            // Hystrix trips on its health snapshot, read when a request is admitted.
            Design::Hystrix { .. } => false,
        };
        if trip {
            self.open(now, 0);
        }
    }

    fn record_half_open(&mut self, ok: bool, took_ms: f64, now: Instant) {
        let State::HalfOpen {
            admitted,
            done,
            failed,
            attempt,
        } = self.state
        else {
            return;
        };
        let (done, failed) = (done + 1, failed + u32::from(!ok));
        match self.design {
            // The permitted calls' own failure and slow-call rates decide, once all have answered
            // (`checkIfThresholdsExceeded` in the half-open state, as when closed).
            Design::Resilience4j {
                failure_rate,
                half_open_calls,
                slow,
                ..
            } => {
                if slow.is_some_and(|(slow_ms, _)| took_ms >= slow_ms) {
                    self.half_open_slow += 1;
                }
                let slow_trip = slow.is_some_and(|(_, rate)| {
                    f64::from(self.half_open_slow) / f64::from(done) >= rate
                });
                if done < half_open_calls {
                    self.state = State::HalfOpen {
                        admitted,
                        done,
                        failed,
                        attempt,
                    };
                } else if f64::from(failed) / f64::from(done) >= failure_rate || slow_trip {
                    self.open(now, attempt + 1);
                } else {
                    self.transition(State::Closed);
                }
            }
            // Any failure reopens; MaxRequests consecutive successes close.
            Design::Gobreaker { max_requests, .. } => {
                if !ok {
                    self.open(now, attempt + 1);
                } else if done >= max_requests {
                    self.transition(State::Closed);
                } else {
                    self.state = State::HalfOpen {
                        admitted,
                        done,
                        failed,
                        attempt,
                    };
                }
            }
            _ if ok => {
                self.transition(State::Closed);
                self.snapshot = (0, 0, now);
            }
            _ => self.open(now, attempt + 1),
        }
    }

    /// Hystrix: every `snapshot_ms` the health counts over the rolling window (whole buckets) are
    /// re-read; the circuit opens when the volume and the (integer) error percentage reach theirs.
    fn hystrix_check(&mut self, now: Instant) {
        let Design::Hystrix {
            window_ms,
            buckets,
            volume,
            error_percentage,
            snapshot_ms,
            ..
        } = self.design
        else {
            return;
        };
        if self.state != State::Closed {
            return;
        }
        if now.duration_since(self.snapshot.2) >= ms(snapshot_ms) {
            let bucket = window_ms / f64::from(buckets);
            let horizon = window_ms - bucket;
            while self
                .outcomes
                .front()
                .is_some_and(|o| now.duration_since(o.0) >= ms(horizon))
            {
                self.outcomes.pop_front();
            }
            let errors = self.outcomes.iter().filter(|o| !o.1).count();
            self.snapshot = (self.outcomes.len(), errors, now);
        }
        let (total, errors, _) = self.snapshot;
        let pct = (errors * 100).checked_div(total).unwrap_or(0);
        if total >= volume && pct >= error_percentage as usize {
            self.open(now, 0);
            self.snapshot = (0, 0, now);
        }
    }
}

/// A running emulated service; aborted when dropped.
pub struct Emulated {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Emulated {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the service on 127.0.0.1 (a free port) with the dependency at `dep` ("127.0.0.1:P").
pub fn start(design: Design, dep: String) -> Emulated {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    let breaker = Arc::new(Mutex::new(Breaker {
        design,
        state: State::Closed,
        outcomes: VecDeque::new(),
        slow: VecDeque::new(),
        consecutive_failures: 0,
        half_open_slow: 0,
        snapshot: (0, 0, Instant::now()),
        started: Instant::now(),
        ejections: 0,
        returned_at: None,
    }));
    let task = tokio::spawn(async move {
        let listener = TcpListener::from_std(std_listener).unwrap();
        while let Ok((stream, _)) = listener.accept().await {
            let (breaker, dep) = (Arc::clone(&breaker), dep.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (breaker, dep) = (Arc::clone(&breaker), dep.clone());
                    async move { Ok::<_, Infallible>(answer(&breaker, &dep, req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Emulated { port, task }
}

async fn answer(
    breaker: &Mutex<Breaker>,
    dep: &str,
    req: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let status = match path.strip_prefix("/items/") {
        Some(item) => {
            let rid = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let admitted = breaker.lock().unwrap().admit(Instant::now());
            match admitted {
                None => 503,
                Some(state) => {
                    let sent = Instant::now();
                    let ok = call(dep, item, &rid).await;
                    let took_ms = sent.elapsed().as_secs_f64() * 1000.0;
                    breaker
                        .lock()
                        .unwrap()
                        .record(state, ok, took_ms, Instant::now());
                    if ok {
                        200
                    } else {
                        502
                    }
                }
            }
        }
        None if path == "/health" => 200,
        None => 404,
    };
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(status.to_string())))
        .unwrap()
}

/// One dependency call: true when it answered below 500 within 300 ms.
async fn call(dep: &str, item: &str, rid: &str) -> bool {
    let exchange = async {
        let mut s = TcpStream::connect(dep).await.ok()?;
        let req = format!(
            "GET /users/{item} HTTP/1.1\r\nhost: {dep}\r\nx-request-id: {rid}\r\nconnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf);
        text.split_whitespace().nth(1)?.parse::<u16>().ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(300), exchange).await,
        Ok(Some(status)) if status < 500
    )
}
