//! The circuit-breaker family: episodes observed from outside (`episodes`, `refusals`), whether
//! the breaker opened in each fault window (`opened`), each kind's opening rule (`consecutive`; the
//! rate and windowed-count rules in `rule`, replayed over the closed periods by `replay` and judged
//! by `rule_verdict`), the design the evidence supports (`kind`), the settings every kind shares
//! (`verdicts`), the half-open close rule per episode (`close_rule`), and the claims tying them
//! together (`claims`).

mod claims;
mod close_rule;
mod consecutive;
mod episodes;
mod kind;
mod opened;
mod refusals;
mod replay;
mod rule;
mod rule_verdict;
mod verdicts;

pub use claims::{breaker_target, judge};
pub use episodes::{observe_all, Episode, Observation, MIN_GAP_MS};
pub use opened::down_throughout;
