//! The pieces a plan is made of: segments (a stretch of the run at one rate, one `[load]` stage
//! each), faults on a dependency, and blocks (the segments and faults that serve one set of claims,
//! kept or dropped together when the budget is short). Times inside a block are relative to it.

/// A stretch of the run at one constant arrival rate: one `[load]` stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub name: String,
    pub length_s: f64,
    /// Requests per second (all requests of the mix together).
    pub rate: f64,
    /// Why this rate and length, written beside the stage.
    pub why: String,
}

/// A fault the plan installs, `at_s` from the start of its block (the run's clock once placed).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub dependency: String,
    pub at_s: f64,
    pub duration_s: f64,
    /// A proxy fault kind: "abort", "hang".
    pub kind: &'static str,
    pub probability: f64,
    /// The answer of an `abort` fault.
    pub status: Option<u16>,
    /// Every Nth matching call only (the proxy's `every`): an exact share, never two in a row.
    pub every: Option<u32>,
    pub why: String,
}

/// Segments and faults serving one purpose (a dependency's breaker, its retries, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// "breaker on UserService": what a dropped block is called.
    pub label: String,
    /// The claims it is for, as the header lists them.
    pub claims: Vec<String>,
    pub segments: Vec<Segment>,
    pub faults: Vec<Fault>,
    /// Dropped before blocks of a lower number when the budget is short.
    pub priority: u8,
}

impl Block {
    pub fn length_s(&self) -> f64 {
        self.segments.iter().map(|s| s.length_s).sum()
    }
}

/// Priorities: breakers are kept longest, then timeouts, then retries.
pub const BREAKER: u8 = 3;
pub const TIMEOUT: u8 = 2;
pub const RETRY: u8 = 1;

/// Rounds up to the next tenth of a second (durations written to the plan).
pub fn tenth_up(s: f64) -> f64 {
    (s * 10.0 - 1e-9).ceil() / 10.0
}

/// A rate written to the plan: two decimals, never zero.
pub fn rate(r: f64) -> f64 {
    ((r * 100.0).round() / 100.0).max(0.01)
}
