//! Verdicts: measurements (`RunResult`) + claims (`Claims`) -> pass / fail / inconclusive, with evidence.
//!
//! Pure: no I/O, no clock, no randomness. `model` holds the shared types (context, judgement, the
//! uniform `Claim`), `judge` the dispatcher over the families; one file (or folder, `breaker/`) per
//! claim family; `evidence` holds the readings of the result shared by several families (fault
//! windows, failure classification, client demand). Families depend on the model and on `evidence`,
//! never on the dispatcher.

mod alert_breaker;
mod alert_seconds;
mod alerts;
mod breaker;
mod error_bodies;
mod error_classes;
mod error_split;
pub(crate) mod errors;
mod evidence;
mod fallback;
mod grpc_deadline;
mod health;
pub mod histogram;
mod idempotency;
mod interface;
mod judge;
mod latency;
pub mod matching;
mod model;
mod objective_rows;
mod rate_limit;
mod ready;
mod ready_samples;
mod retries;
pub mod rules;
mod series;
mod throughput;
mod timeout;
pub mod tolerance;
mod trace;

pub use judge::judge;
pub(crate) use model::Claim;
pub use model::{JudgeContext, Judgement, RequestInfo, SloEntry};
pub use tolerance::DurationTolerance;
