//! Measurement types kept by each worker and merged at the end: failure kinds counted in
//! arrays, one latency and one service-time HdrHistogram per operation x slot, per-second sums.

use hdrhistogram::Histogram;

/// Why a request failed. Counted in arrays indexed by `as usize`, never formatted per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    /// TCP connect failed (refused, unreachable).
    Connect,
    /// TLS handshake failed.
    Tls,
    /// No complete answer before the deadline (intended send time + `timeout`).
    Timeout,
    /// The connection was closed or reset mid-exchange.
    Reset,
    /// Any other HTTP protocol error.
    Protocol,
    /// A response arrived with a status not in `expect_status`.
    StatusUnexpected,
    /// Still pending or in flight when the run was interrupted.
    Cancelled,
    /// A gRPC answer whose `grpc-status` is not OK (DEADLINE_EXCEEDED counts as `Timeout`).
    GrpcStatus,
}

pub const KINDS: usize = 8;

impl FailKind {
    pub const ALL: [FailKind; KINDS] = [
        FailKind::Connect,
        FailKind::Tls,
        FailKind::Timeout,
        FailKind::Reset,
        FailKind::Protocol,
        FailKind::StatusUnexpected,
        FailKind::Cancelled,
        FailKind::GrpcStatus,
    ];

    /// The name used in result.json (`error_kinds`, `client_log[].error`).
    pub fn name(self) -> &'static str {
        match self {
            FailKind::Connect => "connect",
            FailKind::Tls => "tls",
            FailKind::Timeout => "timeout",
            FailKind::Reset => "reset",
            FailKind::Protocol => "protocol",
            FailKind::StatusUnexpected => "status_unexpected",
            FailKind::Cancelled => "cancelled",
            FailKind::GrpcStatus => "grpc_status",
        }
    }
}

/// Highest latency a histogram tracks (1 hour in microseconds); larger values are clamped.
pub const MAX_US: u64 = 3_600_000_000;
/// Status codes are counted in an array indexed by `code - 100`.
const STATUS_SLOTS: usize = 900;

pub fn histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, sigfig).expect("static histogram bounds are valid")
}

/// Everything measured for one operation within one slot (the whole measured run or a phase).
#[derive(Debug, Clone)]
pub struct SlotStats {
    pub count: u64,
    pub errors: u64,
    pub status: Vec<u64>,
    pub kinds: [u64; KINDS],
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    /// gRPC answers by `grpc-status` (0..=16; other codes as 2, UNKNOWN).
    pub grpc: [u64; GRPC_CODES],
}

/// gRPC status codes 0 (OK) ..= 16 (UNAUTHENTICATED).
pub const GRPC_CODES: usize = 17;

impl SlotStats {
    pub fn new() -> Self {
        SlotStats {
            count: 0,
            errors: 0,
            status: vec![0; STATUS_SLOTS],
            kinds: [0; KINDS],
            latency: histogram(3),
            service: histogram(3),
            grpc: [0; GRPC_CODES],
        }
    }

    /// Counts one gRPC answer's status.
    #[inline]
    pub fn record_grpc(&mut self, code: u8) {
        let i = if (code as usize) < GRPC_CODES {
            code as usize
        } else {
            2
        };
        self.grpc[i] += 1;
    }

    #[inline]
    pub fn record(
        &mut self,
        status: Option<u16>,
        fail: Option<FailKind>,
        latency_us: u64,
        service_us: Option<u64>,
    ) {
        self.count += 1;
        if let Some(code) = status {
            if let Some(slot) = (code as usize)
                .checked_sub(100)
                .and_then(|i| self.status.get_mut(i))
            {
                *slot += 1;
            }
        }
        if let Some(kind) = fail {
            self.errors += 1;
            self.kinds[kind as usize] += 1;
        }
        self.latency.saturating_record(latency_us.clamp(1, MAX_US));
        if let Some(s) = service_us {
            self.service.saturating_record(s.clamp(1, MAX_US));
        }
    }

    pub fn merge(&mut self, other: &SlotStats) {
        self.count += other.count;
        self.errors += other.errors;
        for (a, b) in self.status.iter_mut().zip(&other.status) {
            *a += b;
        }
        for (a, b) in self.kinds.iter_mut().zip(&other.kinds) {
            *a += b;
        }
        for (a, b) in self.grpc.iter_mut().zip(&other.grpc) {
            *a += b;
        }
        // Same fixed bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.service.add(&other.service);
    }

    /// (status code, count) for every code seen.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (i as u16 + 100, *n))
    }
}

impl Default for SlotStats {
    fn default() -> Self {
        Self::new()
    }
}

/// One operation's share of one second.
#[derive(Debug, Clone)]
pub struct OpSecondAcc {
    pub count: u64,
    pub errors: u64,
    pub latency: Histogram<u64>,
}

/// One worker's sums for one second of the run; sent to the aggregator when the second ends.
#[derive(Debug, Clone)]
pub struct SecondAcc {
    pub t_s: u32,
    pub sent: u64,
    pub completed: u64,
    pub errors: u64,
    pub dropped: u64,
    pub kinds: [u64; KINDS],
    /// 1xx..5xx (index 0..4; anything else in 5xx's neighbour is ignored).
    pub classes: [u64; 5],
    pub ops: Vec<OpSecondAcc>,
    pub in_flight: u64,
}

impl SecondAcc {
    pub fn new(t_s: u32, ops: usize) -> Self {
        SecondAcc {
            t_s,
            sent: 0,
            completed: 0,
            errors: 0,
            dropped: 0,
            kinds: [0; KINDS],
            classes: [0; 5],
            ops: (0..ops)
                .map(|_| OpSecondAcc {
                    count: 0,
                    errors: 0,
                    latency: histogram(2),
                })
                .collect(),
            in_flight: 0,
        }
    }

    /// Clears the sums for the next second, keeping the allocations.
    pub fn reset(&mut self, t_s: u32) {
        self.t_s = t_s;
        self.sent = 0;
        self.completed = 0;
        self.errors = 0;
        self.dropped = 0;
        self.kinds = [0; KINDS];
        self.classes = [0; 5];
        self.in_flight = 0;
        for op in &mut self.ops {
            op.count = 0;
            op.errors = 0;
            op.latency.reset();
        }
    }

    pub fn merge(&mut self, other: &SecondAcc) {
        self.sent += other.sent;
        self.completed += other.completed;
        self.errors += other.errors;
        self.dropped += other.dropped;
        self.in_flight += other.in_flight;
        for (a, b) in self.kinds.iter_mut().zip(&other.kinds) {
            *a += b;
        }
        for (a, b) in self.classes.iter_mut().zip(&other.classes) {
            *a += b;
        }
        for (a, b) in self.ops.iter_mut().zip(&other.ops) {
            a.count += b.count;
            a.errors += b.errors;
            let _ = a.latency.add(&b.latency);
        }
    }
}

/// One request in the client log, before names are attached.
#[derive(Debug, Clone, Copy)]
pub struct LogRow {
    pub t_us: u64,
    pub op: u32,
    pub index: u64,
    pub status: Option<u16>,
    pub fail: Option<FailKind>,
    pub latency_us: u64,
    pub retry_after: bool,
    pub grpc_status: Option<u8>,
}
