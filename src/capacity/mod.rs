//! `redline capacity`: the highest open-model rate at which every latency and error claim still
//! holds, each step judged on its own measurements (never cumulative ones).
//!
//! Pure parts: `search` (the bracket / bisect / verify state machine), `criteria` (what a step is
//! judged on and the samples it needs), `step_plan` (a step's plan), `step` and `trend` (judging
//! one step with the verdicts' own rules), `answer` (limiting claim, summary line, throughput
//! verdicts). `driver` runs the steps (the only I/O); `progress` prints while it runs.

pub mod answer;
pub mod criteria;
pub mod driver;
pub mod progress;
pub mod search;
pub mod step;
pub mod step_plan;
pub mod trend;

pub use criteria::{criteria, Criteria, Flags};
pub use driver::{run, Outcome, Setup};
