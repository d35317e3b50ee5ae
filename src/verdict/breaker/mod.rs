//! The circuit-breaker family: episodes observed from outside (`episodes`, `refusals`), whether
//! the breaker opened in each fault window (`opened`), each kind's opening rule (`consecutive`),
//! the settings every kind shares (`verdicts`), and the claims tying them together (`claims`).

mod claims;
mod consecutive;
mod episodes;
mod opened;
mod refusals;
mod verdicts;

pub use claims::{breaker_target, judge};
pub use episodes::{observe_all, Episode, Observation};
pub use opened::down_throughout;
